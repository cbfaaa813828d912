// Monitoring: one Log Analytics workspace and a workspace-based Application Insights
// component for the Function App (host logs, invocations, the handler's stdout logs).
//
// Local (instrumentation-key) authentication is disabled: telemetry is accepted only
// with an Entra ID token, which the Functions host gets with the app's managed identity
// (APPLICATIONINSIGHTS_AUTHENTICATION_STRING = 'Authorization=AAD', and the Monitoring
// Metrics Publisher role in roles.bicep). The connection string then identifies the
// component but grants nothing, and it is never a template output.

@description('Region of the resources.')
param location string

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Days Log Analytics keeps data (30 is included in the per-GB price).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Tags for every resource.')
param tags object = {}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

// The lake's request logs (diagnostic settings, storage.bicep) are many small records,
// one per read, write and delete: the Basic plan ingests them at a fraction of the
// Analytics price and keeps them searchable for audits (docs/ARCHITECTURE.md §6).
resource blobLogsTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: logAnalytics
  name: 'StorageBlobLogs'
  properties: {
    plan: 'Basic'
  }
}

// SQL's audit records (sql.bicep) arrive in AzureDiagnostics: kept 90 days, the audit
// retention the SQL checks ask for, at the retention price beyond the included 30 days.
resource diagnosticsTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: logAnalytics
  name: 'AzureDiagnostics'
  properties: {
    retentionInDays: 90
  }
}

output logAnalyticsName string = logAnalytics.name
@description('Resource id of the Log Analytics workspace: the destination of every diagnostic setting.')
output logAnalyticsId string = logAnalytics.id
output appInsightsName string = appInsights.name
