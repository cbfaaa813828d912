// Synapse: a workspace used only for its built-in serverless SQL pool, which shows the
// report and the books the Function App writes into the lake (external tables and views,
// sql/synapse/05) and recomputes the report from the orders as the weekly check
// (sql/synapse/07). No dedicated pool and no Spark pool are created, so the workspace
// costs nothing while no query runs (serverless bills per TB processed).
//
// Identity and authentication:
// - The workspace's system-assigned identity reads the lake through the database scoped
//   credential 'Managed Identity' (02_lake_access.sql); roles.bicep gives it Storage Blob
//   Data Reader on the lake and reference containers, and Contributor on its own file
//   system only.
// - azureADOnlyAuthentication: only Entra ID principals can sign in to the SQL endpoints.
//   The resource schema still requires sqlAdministratorLogin (a name, not a secret); no
//   password is set (the service generates one), and with Entra-only authentication that
//   SQL login cannot sign in at all.
// - The deployer (adminObjectId) becomes the initial Synapse Administrator and the SQL
//   Entra administrator, who runs sql/synapse/01..04 and the grants in docs/DEPLOY.md.

@description('Region of the resources.')
param location string

@description('Name of the Synapse workspace (globally unique, 1-50 lowercase letters, digits and hyphens).')
@minLength(1)
@maxLength(50)
param workspaceName string

@description('dfs endpoint of the ADLS Gen2 account used as the default storage, e.g. https://<account>.dfs.core.windows.net/.')
param defaultDataLakeAccountUrl string

@description('Resource id of that account.')
param defaultDataLakeAccountId string

@description('Container (file system) of that account used as the workspace default file system.')
param defaultFileSystem string = 'synapse'

@description('Entra administrator: login name (a UPN, group or app name).')
param adminLogin string

@description('Entra administrator: object id.')
param adminObjectId string

@description('Optional public IP address of the deployer (sqlcmd, Power BI Desktop). Empty: no such rule.')
param clientIpAddress string = ''

@description('Resource id of the Log Analytics workspace that receives the audit records.')
param logAnalyticsWorkspaceId string

@description('Tags for every resource.')
param tags object = {}

resource workspace 'Microsoft.Synapse/workspaces@2021-06-01' = {
  // checkov:skip=CKV_AZURE_240: Microsoft-managed keys: a customer-managed key needs a Key Vault the estate does not otherwise have
  // checkov:skip=CKV_AZURE_157: data exfiltration protection needs a managed virtual network, which the serverless-only workspace does not use (docs/ARCHITECTURE.md section 6)
  name: workspaceName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    defaultDataLakeStorage: {
      accountUrl: defaultDataLakeAccountUrl
      resourceId: defaultDataLakeAccountId
      filesystem: defaultFileSystem
    }
    azureADOnlyAuthentication: true
    sqlAdministratorLogin: 'sqladminuser'
    cspWorkspaceAdminProperties: {
      initialWorkspaceAdminObjectId: adminObjectId
    }
    publicNetworkAccess: 'Enabled'
  }
}

resource entraAdmin 'Microsoft.Synapse/workspaces/administrators@2021-06-01' = {
  parent: workspace
  name: 'activeDirectory'
  properties: {
    administratorType: 'ActiveDirectory'
    login: adminLogin
    sid: adminObjectId
    tenantId: subscription().tenantId
  }
}

// Entra-only authentication as its own setting too, so it stays on if the workspace
// resource is ever redeployed without the property.
resource entraOnly 'Microsoft.Synapse/workspaces/azureADOnlyAuthentications@2021-06-01' = {
  parent: workspace
  name: 'default'
  properties: {
    azureADOnlyAuthentication: true
  }
  dependsOn: [
    entraAdmin
  ]
}

// The Function App (and the Power BI service) reach the serverless endpoint from Azure's
// outbound addresses; 0.0.0.0 - 0.0.0.0 admits connections from inside Azure.
resource allowAzureServices 'Microsoft.Synapse/workspaces/firewallRules@2021-06-01' = {
  parent: workspace
  name: 'AllowAllWindowsAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource allowClient 'Microsoft.Synapse/workspaces/firewallRules@2021-06-01' = if (!empty(clientIpAddress)) {
  parent: workspace
  name: 'deployer-client'
  properties: {
    startIpAddress: clientIpAddress
    endIpAddress: clientIpAddress
  }
}

// Every serverless query, with who ran it, and every RBAC change: the audit trail of the
// reads of orders and reports (Synapse's SQL auditing does not cover the serverless pool).
resource auditToLogAnalytics 'Microsoft.Insights/diagnosticSettings@2016-09-01' = {
  name: 'synapse-audit-to-log-analytics'
  scope: workspace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'BuiltinSqlReqsEnded'
        enabled: true
      }
      {
        category: 'GatewayApiRequests'
        enabled: true
      }
      {
        category: 'SynapseRbacOperations'
        enabled: true
      }
    ]
  }
}

output workspaceName string = workspace.name
output principalId string = workspace.identity.principalId

@description('SYNAPSE_SQL_ENDPOINT: the serverless SQL endpoint, e.g. pizza-prod-syn-abc123-ondemand.sql.azuresynapse.net.')
output serverlessSqlEndpoint string = workspace.properties.connectivityEndpoints.sqlOnDemand
