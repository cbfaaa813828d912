// pizza-pipeline: the whole Azure estate in one resource group.
//
//   orders → Function App (custom handler, pizza-pipeline serve)
//          → Event Hubs (hub 'orders', consumer group 'enrich')
//          → Function App enrich_orders (+ Azure SQL dbo.customers)
//          → ADLS Gen2 lake (Parquet) → Synapse serverless (orders_enriched, nightly
//            state_top_pizzas) → Power BI
//
// One module per concern: monitoring, storage, eventhubs, sql, synapse, functionapp,
// roles. Deploy with `az deployment group create` (docs/DEPLOY.md walks through it, from
// az login to the report in Power BI).
//
// No secrets: no key, password or key-bearing connection string is created, passed or
// output. Storage and Event Hubs have local (key) authentication disabled, Azure SQL and
// Synapse are Entra-only, and every connection of the Function App uses its managed
// identity (tests/it/estate.rs checks this, and that the app settings cover
// src/azure/settings.rs SETTINGS).

targetScope = 'resourceGroup'

@description('Environment name, part of every resource name, e.g. dev, test, prod (lowercase letters and digits).')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Region of every resource. Flex Consumption is not offered in every region: check az functionapp list-flexconsumption-locations.')
param location string = resourceGroup().location

@description('Short application name, part of every resource name (lowercase letters and digits).')
@minLength(2)
@maxLength(8)
param appName string = 'pizza'

@description('Entra administrator of Azure SQL and Synapse, and the deployer who runs the post-deploy SQL: object id (az ad signed-in-user show --query id -o tsv).')
param adminObjectId string

@description('Entra administrator login name: the UPN of that user (az ad signed-in-user show --query userPrincipalName -o tsv), or a group or app display name.')
param adminLogin string

@description('Kind of principal of adminObjectId.')
@allowed([
  'User'
  'Group'
  'Application'
])
param adminPrincipalType string = 'User'

@description('Optional public IPv4 address of the deployer, let through the Azure SQL and Synapse firewalls (sqlcmd, bcp, Power BI Desktop). Empty: no client rule.')
param clientIpAddress string = ''

// Flex Consumption is the default: it is the only serverless (scale-to-zero) plan that
// runs a Linux custom handler with managed identity for everything, including the
// deployment package, so the estate needs no secret; see modules/functionapp.bicep and
// docs/DEPLOY.md for the trade-offs against Elastic Premium.
@description('Function App hosting plan.')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Elastic Premium size (hostingPlan ElasticPremium only).')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param elasticPremiumSku string = 'EP1'

@description('Flex Consumption instance memory (MB).')
@allowed([
  512
  2048
  4096
])
param flexInstanceMemoryMB int = 2048

@description('Flex Consumption maximum instances.')
@minValue(40)
@maxValue(1000)
param flexMaximumInstanceCount int = 40

@description('Flex Consumption always-ready instances for POST /api/orders (0: scale to zero).')
@minValue(0)
@maxValue(10)
param alwaysReadyHttp int = 0

@description('Partitions of the orders hub: the parallelism of enrich_orders (fixed after creation).')
@minValue(1)
@maxValue(32)
param eventHubPartitionCount int = 8

@description('Event Hubs throughput units at creation (1 TU: 1,000 events/s in).')
@minValue(1)
@maxValue(20)
param eventHubThroughputUnits int = 1

@description('Event Hubs auto-inflate ceiling (0: off).')
@minValue(0)
@maxValue(40)
param eventHubMaximumThroughputUnits int = 4

@description('Azure SQL serverless maximum vCores.')
@allowed([
  1
  2
  4
])
param sqlMaxVCores int = 1

@description('Azure SQL minutes idle before auto-pause (-1: never).')
param sqlAutoPauseDelayMinutes int = 60

@description('SUMMARY_SCHEDULE: when the build_state_summary timer ticks, six-field cron, always UTC on Linux plans. Hourly: each tick builds the nightly report once it is due at 02:00 in reportTimeZone, and catches up a missed one.')
param summarySchedule string = '0 0 * * * *'

@description('VERIFY_SCHEDULE: when the verify_state_summary timer ticks, six-field cron in UTC. Weekly: the nightly report recomputed by Synapse\'s SQL from the orders and compared with the report core\'s, figure by figure.')
param verifySchedule string = '0 30 4 * * 0'

@description('ORDER_HORIZON_DAYS: orders dated more than this many days before they arrive are refused with a 422 (default: the 12-month window and a grace period).')
param orderHorizonDays string = '400'

@description('REPORT_TIME_ZONE: IANA time zone of the report day: the nightly build runs at 02:00 there and its 12-month window ends at midnight there.')
param reportTimeZone string = 'UTC'

@description('E-mail address that receives the operations alerts (bicep/modules/alerts.bicep, docs/OPERATIONS.md).')
param alertEmail string

@description('POST /api/orders 5xx answers in 5 minutes above which the order-API alert fires (0: any).')
@minValue(0)
param orderApi5xxAlertThreshold int = 0

@description('Events waiting in Event Hubs for enrich_orders above which the stream-backlog alert fires (about 30 minutes of orders at 1 million a day).')
@minValue(0)
param streamBacklogAlertThreshold int = 20000

@description('SYNAPSE_DATABASE: the serverless database created by sql/synapse/01_database.sql.')
param synapseDatabaseName string = 'pizza_warehouse'

@description('Tags for every resource.')
param tags object = {}

var prefix = '${toLower(appName)}-${toLower(environmentName)}'
// Storage account names: 3-24 lowercase letters and digits, so no hyphen and at most 14
// characters before 'lake'/'func' and the 6-character suffix.
var compact = take(replace('${toLower(appName)}${toLower(environmentName)}', '-', ''), 14)
var suffix = take(uniqueString(subscription().id, resourceGroup().id, environmentName), 6)
var allTags = union({
  application: 'pizza-pipeline'
  environment: environmentName
}, tags)

var names = {
  logAnalytics: '${prefix}-log'
  appInsights: '${prefix}-appi'
  lakeAccount: '${compact}lake${suffix}'
  hostAccount: '${compact}func${suffix}'
  eventHubsNamespace: '${prefix}-ehns-${suffix}'
  sqlServer: '${prefix}-sql-${suffix}'
  synapse: '${prefix}-syn-${suffix}'
  plan: '${prefix}-plan'
  functionApp: '${prefix}-func-${suffix}'
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    lakeAccountName: names.lakeAccount
    hostAccountName: names.hostAccount
    tags: allTags
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    location: location
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    namespaceName: names.eventHubsNamespace
    hubName: 'orders'
    consumerGroupName: 'enrich'
    partitionCount: eventHubPartitionCount
    throughputUnits: eventHubThroughputUnits
    maximumThroughputUnits: eventHubMaximumThroughputUnits
    tags: allTags
  }
}

module sql 'modules/sql.bicep' = {
  name: 'sql'
  params: {
    location: location
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    serverName: names.sqlServer
    databaseName: 'pizza'
    adminLogin: adminLogin
    adminObjectId: adminObjectId
    adminPrincipalType: adminPrincipalType
    maxVCores: sqlMaxVCores
    autoPauseDelayMinutes: sqlAutoPauseDelayMinutes
    clientIpAddress: clientIpAddress
    alertEmail: alertEmail
    tags: allTags
  }
}

module synapse 'modules/synapse.bicep' = {
  name: 'synapse'
  params: {
    location: location
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    workspaceName: names.synapse
    defaultDataLakeAccountUrl: storage.outputs.lakeDfsEndpoint
    defaultDataLakeAccountId: resourceId('Microsoft.Storage/storageAccounts', names.lakeAccount)
    defaultFileSystem: 'synapse'
    adminLogin: adminLogin
    adminObjectId: adminObjectId
    clientIpAddress: clientIpAddress
    tags: allTags
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    functionAppName: names.functionApp
    planName: names.plan
    hostingPlan: hostingPlan
    elasticPremiumSku: elasticPremiumSku
    flexInstanceMemoryMB: flexInstanceMemoryMB
    flexMaximumInstanceCount: flexMaximumInstanceCount
    alwaysReadyHttp: alwaysReadyHttp
    hostStorageAccountName: storage.outputs.hostAccountName
    packageContainerUrl: storage.outputs.packageContainerUrl
    appInsightsName: monitoring.outputs.appInsightsName
    eventHubsFullyQualifiedNamespace: eventHubs.outputs.fullyQualifiedNamespace
    eventHubName: eventHubs.outputs.hubName
    eventHubConsumerGroup: eventHubs.outputs.consumerGroupName
    sqlServerFqdn: sql.outputs.serverFqdn
    sqlDatabaseName: sql.outputs.databaseName
    lakeUrl: storage.outputs.lakeUrl
    synapseSqlEndpoint: synapse.outputs.serverlessSqlEndpoint
    synapseDatabaseName: synapseDatabaseName
    summarySchedule: summarySchedule
    verifySchedule: verifySchedule
    orderHorizonDays: orderHorizonDays
    reportTimeZone: reportTimeZone
    tags: allTags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    functionPrincipalId: functionApp.outputs.principalId
    synapsePrincipalId: synapse.outputs.principalId
    adminObjectId: adminObjectId
    adminPrincipalType: adminPrincipalType == 'Application' ? 'ServicePrincipal' : adminPrincipalType
    adminUploadsPackage: hostingPlan == 'ElasticPremium'
    eventHubsNamespaceName: eventHubs.outputs.namespaceName
    eventHubName: eventHubs.outputs.hubName
    lakeAccountName: storage.outputs.lakeAccountName
    hostAccountName: storage.outputs.hostAccountName
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    location: location
    namePrefix: prefix
    alertEmail: alertEmail
    appInsightsName: monitoring.outputs.appInsightsName
    eventHubsNamespaceName: eventHubs.outputs.namespaceName
    reportTimeZone: reportTimeZone
    orderApi5xxThreshold: orderApi5xxAlertThreshold
    streamBacklogThreshold: streamBacklogAlertThreshold
    tags: allTags
  }
}

// Outputs: names and endpoints only (docs/DEPLOY.md reads them with
// az deployment group show --query properties.outputs).
output resourceGroupName string = resourceGroup().name
output hostingPlan string = hostingPlan
output functionAppName string = functionApp.outputs.functionAppName
output functionAppHostName string = functionApp.outputs.defaultHostName
output ordersUrl string = 'https://${functionApp.outputs.defaultHostName}/api/orders'
output functionAppPrincipalId string = functionApp.outputs.principalId
output packageUrl string = functionApp.outputs.packageUrl
output eventHubsNamespace string = eventHubs.outputs.namespaceName
output eventHubsFullyQualifiedNamespace string = eventHubs.outputs.fullyQualifiedNamespace
output eventHubName string = eventHubs.outputs.hubName
output eventHubConsumerGroup string = eventHubs.outputs.consumerGroupName
output lakeStorageAccountName string = storage.outputs.lakeAccountName
output lakeUrl string = storage.outputs.lakeUrl
output lakeDfsUrl string = storage.outputs.lakeDfsUrl
output referenceDfsUrl string = storage.outputs.referenceDfsUrl
output hostStorageAccountName string = storage.outputs.hostAccountName
output sqlServerName string = sql.outputs.serverName
output sqlServerFqdn string = sql.outputs.serverFqdn
output sqlDatabaseName string = sql.outputs.databaseName
output synapseWorkspaceName string = synapse.outputs.workspaceName
output synapseServerlessEndpoint string = synapse.outputs.serverlessSqlEndpoint
output synapseDatabaseName string = synapseDatabaseName
output appInsightsName string = monitoring.outputs.appInsightsName
output logAnalyticsWorkspaceName string = monitoring.outputs.logAnalyticsName
output alertActionGroupName string = alerts.outputs.actionGroupName
