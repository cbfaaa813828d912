// Role assignments: the data-plane rights of the managed identities (and of the deployer
// for the post-deploy steps). Control-plane roles (Owner, Contributor) grant no data
// access, so each data path needs one of these.
//
// Built-in role definition ids, from "Azure built-in roles"
// (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles, the
// Analytics, Storage and Monitor sections). They are the same GUID in every tenant.

// Azure Event Hubs Data Sender: send events (ingest_order publishes orders).
var eventHubsDataSender = '2b629674-e913-4c01-ae53-ef4638d8f975'
// Azure Event Hubs Data Receiver: receive events (the enrich_orders trigger).
var eventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
// Storage Blob Data Contributor: read, write and delete containers and blobs.
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
// Storage Blob Data Reader: read containers and blobs.
var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
// Storage Blob Data Owner: the above plus ACLs; what the Functions host needs on its own
// storage (AzureWebJobsStorage with an identity: keys, leases, Event Hubs checkpoints).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Table Data Contributor: the host records diagnostic events in Table storage.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Monitoring Metrics Publisher: send telemetry to Application Insights with an Entra token.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

@description('Principal id of the Function App system-assigned identity.')
param functionPrincipalId string

@description('Principal id of the Synapse workspace system-assigned identity.')
param synapsePrincipalId string

@description('Object id of the deployer / admin (post-deploy uploads). Empty: no deployer roles.')
param adminObjectId string = ''

@description('Kind of principal of adminObjectId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param adminPrincipalType string = 'User'

@description('Give the admin Storage Blob Data Contributor on the host account (to upload the run-from-package blob on Elastic Premium).')
param adminUploadsPackage bool = false

param eventHubsNamespaceName string
param eventHubName string
param lakeAccountName string
param hostAccountName string
param appInsightsName string

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: namespace
  name: eventHubName
}

resource lakeAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: lakeAccountName
}

resource lakeBlobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: lakeAccount
  name: 'default'
}

// The lake account's containers (storage.bicep): each identity gets roles on the
// containers it uses, never on the whole account.
resource lakeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobs
  name: 'lake'
}

resource referenceContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobs
  name: 'reference'
}

resource synapseContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: lakeBlobs
  name: 'synapse'
}

resource hostAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// --- Function App -----------------------------------------------------------------------

// ingest_order publishes to the hub (scope: the hub only, not the whole namespace).
resource functionSendsOrders 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, functionPrincipalId, eventHubsDataSender)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataSender)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pizza-pipeline ingest_order publishes orders'
  }
}

// The enrich_orders trigger (the Functions host, as the app's identity) reads the hub.
resource functionReceivesOrders 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, functionPrincipalId, eventHubsDataReceiver)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiver)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pizza-pipeline enrich_orders trigger reads orders'
  }
}

// enrich_orders lands Parquet and quarantines poison events; build_state_summary compacts
// days (and deletes the files it merged) and writes the report runs: the lake container.
resource functionWritesLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(lakeContainer.id, functionPrincipalId, storageBlobDataContributor)
  scope: lakeContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'pizza-pipeline writes and compacts the lake container'
  }
}

// AzureWebJobsStorage__accountName and the package container (Flex deployment storage).
resource functionOwnsHostBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostAccount.id, functionPrincipalId, storageBlobDataOwner)
  scope: hostAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Functions host storage (AzureWebJobsStorage) and deployment package'
  }
}

resource functionHostTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostAccount.id, functionPrincipalId, storageTableDataContributor)
  scope: hostAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Functions host diagnostic events'
  }
}

resource functionPublishesTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Entra-authenticated telemetry (local auth is disabled)'
  }
}

// --- Synapse workspace ------------------------------------------------------------------

// Reader on the lake container: the serverless pool reads orders_enriched/ (the check,
// 07) and the report and books files the Function App writes (05's external tables). It
// writes nothing there.
resource synapseReadsLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(lakeContainer.id, synapsePrincipalId, storageBlobDataReader)
  scope: lakeContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: synapsePrincipalId
    principalType: 'ServicePrincipal'
    description: 'Synapse serverless reads the lake container'
  }
}

resource synapseReadsReference 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(referenceContainer.id, synapsePrincipalId, storageBlobDataReader)
  scope: referenceContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: synapsePrincipalId
    principalType: 'ServicePrincipal'
    description: 'Synapse serverless reads the population table'
  }
}

// Contributor on its own default file system only: what a workspace needs there.
resource synapseOwnsItsFileSystem 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(synapseContainer.id, synapsePrincipalId, storageBlobDataContributor)
  scope: synapseContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: synapsePrincipalId
    principalType: 'ServicePrincipal'
    description: 'Synapse workspace default file system'
  }
}

// --- Deployer (post-deploy steps in docs/DEPLOY.md) -------------------------------------

// Upload data/census/adult_population_by_state.csv to the reference container (az
// storage --auth-mode login: shared keys are disabled), and read the lake container to
// look at what landed.
resource adminWritesReference 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminObjectId)) {
  name: guid(referenceContainer.id, adminObjectId, storageBlobDataContributor)
  scope: referenceContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: adminObjectId
    principalType: adminPrincipalType
    description: 'Deployer uploads reference data'
  }
}

resource adminReadsLake 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminObjectId)) {
  name: guid(lakeContainer.id, adminObjectId, storageBlobDataReader)
  scope: lakeContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: adminObjectId
    principalType: adminPrincipalType
    description: 'Deployer reads the lake container'
  }
}

resource adminUploadsPackageBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminObjectId) && adminUploadsPackage) {
  name: guid(hostAccount.id, adminObjectId, storageBlobDataContributor)
  scope: hostAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: adminObjectId
    principalType: adminPrincipalType
    description: 'Deployer uploads the run-from-package blob (Elastic Premium)'
  }
}
