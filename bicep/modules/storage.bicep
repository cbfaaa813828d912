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

@description('Tags for every resource.')
param tags object = {}

var lakeContainers = [
  'lake'
  'reference'
  'synapse'
]

resource lakeAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
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

resource lakeBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: lakeAccount
  name: 'default'
}

resource lakeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in lakeContainers: {
  parent: lakeBlobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource hostAccount 'Microsoft.Storage/storageAccounts@2023-05-01' = {
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
