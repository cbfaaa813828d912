// Storage: two accounts, both without shared keys (Entra ID / managed identity only).
//
// 1. The lake (ADLS Gen2: hierarchical namespace on). Containers:
//    - lake       orders_enriched/order_date=…/*.parquet, quarantine/, reports/ (LAKE_URL)
//    - reference  reference/adult_population_by_state.csv (Synapse data source
//                 pizza_reference, sql/synapse/04_adult_population.sql)
//    - synapse    the Synapse workspace's default file system (a workspace needs one on
//                 an ADLS Gen2 account; a container of its own keeps workspace files out
//                 of the data)
// 2. The Functions host's own account (AzureWebJobsStorage: keys, timer locks, Event Hubs
//    checkpoints; and the deployment package container). It is a separate, flat account
//    because the Functions storage guidance says not to use an account with Data Lake
//    Storage (hierarchical namespace) enabled for Event Hubs triggered functions, and it
//    keeps host bookkeeping out of the lake.

@description('Region of the resources.')
param location string

@description('Name of the ADLS Gen2 lake account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param lakeAccountName string

@description('Name of the Functions host storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param hostAccountName string

@description('Container the Function App package is deployed to (Flex Consumption deployment storage, or the run-from-package blob on Elastic Premium).')
param packageContainerName string = 'app-package'

@description('Resource id of the Log Analytics workspace that receives the lake\'s request logs.')
param logAnalyticsWorkspaceId string

@description('Days a deleted lake file or container can be restored (blob and container soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 14

@description('Tags for every resource.')
param tags object = {}

var lakeContainers = [
  'lake'
  'reference'
  'synapse'
]

// Public network access stays on, behind Entra ID (no shared keys): the Function App on
// Flex Consumption without a virtual network, Synapse serverless and the deployer reach
// the lake over its public endpoint. Closing it is option A of docs/ROADMAP.md (private
// endpoints, a virtual network, and a VNet data gateway for Power BI), with its cost in
// docs/ARCHITECTURE.md §6 and §9.
resource lakeAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_59: public endpoint by choice, Entra ID only (docs/ARCHITECTURE.md section 6)
  // checkov:skip=CKV_AZURE_35: default action Allow: the Function App has no fixed address and no virtual network (docs/ARCHITECTURE.md section 6)
  // checkov:skip=CKV_AZURE_206: locally redundant by choice: a cost decision with soft delete and the lock as the guard (docs/ARCHITECTURE.md section 9)
  // checkov:skip=CKV_AZURE_43: the name is a parameter, built in main.bicep to 3-24 lowercase letters and digits; the check reads the parameter's name
  name: lakeAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    isHnsEnabled: true
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Soft delete: a file or container deleted by mistake (or by a compromised identity,
// which holds delete on the lake container to compact it) can be restored for
// softDeleteDays. Blob versioning is not offered on accounts with a hierarchical
// namespace; soft delete is what ADLS Gen2 has.
resource lakeBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: lakeAccount
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

// Every read, write and delete of the lake, with the identity that made it: the
// data-plane audit trail of the customers' names and addresses (StorageBlobLogs, Basic
// plan: monitoring.bicep).
resource lakeRequestLogs 'Microsoft.Insights/diagnosticSettings@2016-09-01' = {
  name: 'lake-requests-to-log-analytics'
  scope: lakeBlobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

// The account itself cannot be deleted (or its data with it) without removing this lock
// first: a deliberate, logged step.
resource lakeLock 'Microsoft.Authorization/locks@2020-05-01' = {
  name: 'lake-cannot-be-deleted'
  scope: lakeAccount
  properties: {
    level: 'CanNotDelete'
    notes: 'The lake holds all order history. Remove this lock deliberately before deleting the account.'
  }
}

resource lakeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in lakeContainers: {
  parent: lakeBlobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource hostAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_59: the Functions host reaches its own storage over the public endpoint (no virtual network), Entra ID only
  // checkov:skip=CKV_AZURE_35: default action Allow: the Functions host has no fixed address and no virtual network
  // checkov:skip=CKV_AZURE_206: host bookkeeping and the deployment package are recreated by a deployment: locally redundant is enough
  // checkov:skip=CKV_AZURE_43: the name is a parameter, built in main.bicep to 3-24 lowercase letters and digits; the check reads the parameter's name
  name: hostAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    isHnsEnabled: false
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource hostBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostAccount
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: hostBlobService
  name: packageContainerName
  properties: {
    publicAccess: 'None'
  }
}

output lakeAccountName string = lakeAccount.name
output hostAccountName string = hostAccount.name
output packageContainerName string = packageContainer.name

@description('LAKE_URL: the lake container on the Blob endpoint, e.g. https://<account>.blob.core.windows.net/lake.')
output lakeUrl string = '${lakeAccount.properties.primaryEndpoints.blob}lake'

@description('{{lake_url}} of sql/synapse/02_lake_access.sql: the lake container on the dfs endpoint.')
output lakeDfsUrl string = '${lakeAccount.properties.primaryEndpoints.dfs}lake'

@description('{{reference_url}} of sql/synapse/02_lake_access.sql: the reference container on the dfs endpoint.')
output referenceDfsUrl string = '${lakeAccount.properties.primaryEndpoints.dfs}reference'

@description('dfs endpoint of the lake account (the Synapse default storage).')
output lakeDfsEndpoint string = lakeAccount.properties.primaryEndpoints.dfs

@description('Blob URL of the package container on the host account.')
output packageContainerUrl string = '${hostAccount.properties.primaryEndpoints.blob}${packageContainer.name}'
