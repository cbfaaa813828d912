// The Function App: pizza-pipeline as an Azure Functions custom handler on Linux.
//
// Hosting plan (parameter hostingPlan):
// - 'FlexConsumption' (default, FC1). Why the default:
//   * no secret anywhere: the package is pulled from a blob container with the app's
//     managed identity (functionAppConfig.deployment), host storage is identity-based,
//     and there is no Azure Files content share (which only takes a key connection string);
//   * scale to zero and pay per execution: the pipeline is idle most of the day, yet
//     Event Hubs-driven scale-out follows the order rate, per function (ingest_order,
//     enrich_orders and build_state_summary scale independently);
//   * custom handlers are a Flex runtime ('custom', version '1.0'), Linux only, which is
//     what this binary is.
//   Costs of the choice: cold starts on the HTTP path unless alwaysReadyHttp > 0, a
//   30-second limit on app start-up (serve starts in well under a second), Flex is not in
//   every region, and FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION are not app
//   settings there (the runtime is functionAppConfig.runtime).
// - 'ElasticPremium' (EP1-EP3): always-warm instances and no cold start, billed per
//   instance-hour whether busy or not. To stay secret-free it runs without the Azure Files
//   content share, from a package blob read with the managed identity
//   (WEBSITE_RUN_FROM_PACKAGE = packageUrl; "Create an app without Azure Files" in the
//   Functions storage guidance); scale-out can then be slower.
//
// Identity: system-assigned. Every connection is identity-based: AzureWebJobsStorage__*,
// EventHubConnection__fullyQualifiedNamespace (the trigger and the producer), Azure SQL
// and Synapse (Entra tokens), the lake (LAKE_URL without SAS) and Application Insights.
// The role assignments are in roles.bicep; the SQL-level grants are post-deploy SQL.
//
// App settings: every entry of SETTINGS in src/azure/settings.rs except
// FUNCTIONS_CUSTOMHANDLER_PORT, which the Functions host sets itself
// (tests/it/estate.rs holds this file to that list).

@description('Region of the resources.')
param location string

@description('Name of the Function App (globally unique; also the display name of its identity, which sql/azure_sql/grant_function_identity.sql uses).')
@minLength(2)
@maxLength(60)
param functionAppName string

@description('Name of the hosting plan.')
param planName string

@description('FlexConsumption (default) or ElasticPremium.')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Elastic Premium size, used only when hostingPlan is ElasticPremium.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param elasticPremiumSku string = 'EP1'

@description('Flex Consumption instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param flexInstanceMemoryMB int = 2048

@description('Flex Consumption scale-out ceiling (instances).')
@minValue(40)
@maxValue(1000)
param flexMaximumInstanceCount int = 40

@description('Flex Consumption always-ready instances for the HTTP group (ingest_order): 0 scales to zero, 1 or more avoids cold starts on POST /api/orders.')
@minValue(0)
param alwaysReadyHttp int = 0

@description('Name of the Functions host storage account (AzureWebJobsStorage, identity-based).')
param hostStorageAccountName string

@description('Blob URL of the package container on the host storage account.')
param packageContainerUrl string

@description('Blob name of the package in that container (Elastic Premium runs from it).')
param packageBlobName string = 'pizza-pipeline-functionapp.zip'

@description('Name of the Application Insights component.')
param appInsightsName string

@description('EventHubConnection__fullyQualifiedNamespace.')
param eventHubsFullyQualifiedNamespace string

@description('EVENTHUB_NAME.')
param eventHubName string

@description('EVENTHUB_CONSUMER_GROUP.')
param eventHubConsumerGroup string

@description('AZURE_SQL_SERVER.')
param sqlServerFqdn string

@description('AZURE_SQL_DATABASE.')
param sqlDatabaseName string

@description('LAKE_URL: the lake container URL (no SAS: the managed identity signs in).')
param lakeUrl string

@description('SYNAPSE_SQL_ENDPOINT.')
param synapseSqlEndpoint string

@description('SYNAPSE_DATABASE.')
param synapseDatabaseName string

@description('SUMMARY_SCHEDULE: six-field cron of the build_state_summary timer, always UTC on Linux plans. Hourly: each tick builds the nightly report once it is due at 02:00 in reportTimeZone.')
param summarySchedule string

@description('VERIFY_SCHEDULE: six-field cron of the verify_state_summary timer (UTC): weekly, the report core checked against Synapse\'s SQL.')
param verifySchedule string

@description('REPORT_TIME_ZONE: IANA time zone of the report day.')
param reportTimeZone string

@description('ORDER_HORIZON_DAYS: orders dated more than this many days before they arrive are refused.')
param orderHorizonDays string

@description('Tags for every resource.')
param tags object = {}

var isFlex = hostingPlan == 'FlexConsumption'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// The settings pizza-pipeline serve and the Functions host read (src/azure/settings.rs).
var pipelineSettings = [
  {
    name: 'EventHubConnection__fullyQualifiedNamespace'
    value: eventHubsFullyQualifiedNamespace
  }
  {
    name: 'EVENTHUB_NAME'
    value: eventHubName
  }
  {
    name: 'EVENTHUB_CONSUMER_GROUP'
    value: eventHubConsumerGroup
  }
  {
    name: 'AZURE_SQL_SERVER'
    value: sqlServerFqdn
  }
  {
    name: 'AZURE_SQL_DATABASE'
    value: sqlDatabaseName
  }
  {
    name: 'LAKE_URL'
    value: lakeUrl
  }
  {
    name: 'SYNAPSE_SQL_ENDPOINT'
    value: synapseSqlEndpoint
  }
  {
    name: 'SYNAPSE_DATABASE'
    value: synapseDatabaseName
  }
  {
    name: 'SUMMARY_SCHEDULE'
    value: summarySchedule
  }
  {
    name: 'VERIFY_SCHEDULE'
    value: verifySchedule
  }
  {
    name: 'ORDER_HORIZON_DAYS'
    value: orderHorizonDays
  }
  {
    name: 'REPORT_TIME_ZONE'
    value: reportTimeZone
  }
  // AZURE_CLIENT_ID is left out on purpose: unset means the system-assigned identity. An
  // empty value is not the same as unset for the Functions host's own identity library,
  // which reads the variable as it is; a user-assigned identity would set its client id.
]

// The Functions host's own settings, identity-based.
var hostSettings = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: hostStorageAccountName
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
  {
    // Send telemetry with an Entra token of the managed identity (local auth is off).
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'Authorization=AAD'
  }
]

// Elastic Premium only: on Flex Consumption these are replaced by functionAppConfig
// (runtime 'custom' there is FUNCTIONS_WORKER_RUNTIME=custom here) and are deprecated as
// app settings ("Flex Consumption plan deprecations", Functions app settings reference).
var elasticPremiumSettings = [
  {
    name: 'FUNCTIONS_EXTENSION_VERSION'
    value: '~4'
  }
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'custom'
  }
  {
    // Run from the package blob, fetched with the managed identity (no SAS, no Azure Files).
    name: 'WEBSITE_RUN_FROM_PACKAGE'
    value: '${packageContainerUrl}/${packageBlobName}'
  }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption needs always-ready instances in each zone, paid while idle; a zone outage is absorbed by clients retrying a 503 and Event Hubs keeping the orders
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: elasticPremiumSku
    tier: 'ElasticPremium'
  }
  properties: {
    reserved: true
    maximumElasticWorkerCount: isFlex ? null : 20
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: POST /api/orders is the public order API: its endpoint is public by purpose (function key, and a front door as a priced option in docs/ROADMAP.md)
  // checkov:skip=CKV_AZURE_17: the order API's clients authenticate with a function key, not a client certificate
  // checkov:skip=CKV_AZURE_212: a worker count is an App Service setting; Flex Consumption scales instances itself
  // checkov:skip=CKV_AZURE_213: Flex Consumption has no health check setting; the alerts watch the functions (alerts.bicep)
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      linuxFxVersion: isFlex ? null : ''
      appSettings: isFlex ? concat(hostSettings, pipelineSettings) : concat(hostSettings, pipelineSettings, elasticPremiumSettings)
    }
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: packageContainerUrl
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: flexMaximumInstanceCount
        instanceMemoryMB: flexInstanceMemoryMB
        alwaysReady: alwaysReadyHttp > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttp
          }
        ] : []
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    } : null
  }
}

// Basic-auth publishing (FTP and the SCM site's user/password) is off: deployments use
// Entra ID (az functionapp deploy / config-zip with az login).
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output functionAppName string = functionApp.name
output principalId string = functionApp.identity.principalId
output defaultHostName string = functionApp.properties.defaultHostName
output packageUrl string = '${packageContainerUrl}/${packageBlobName}'
