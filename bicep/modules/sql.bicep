// Azure SQL: the server and the database that holds dbo.customers (CONTRACT §4).
//
// Microsoft Entra-only authentication: the server is created with an Entra administrator
// (the deployer, a group or an app, given as parameters) and azureADOnlyAuthentication,
// so it has no SQL login and no password at all. The Function App signs in with its
// managed identity as a contained database user that may only SELECT dbo.customers
// (sql/azure_sql/grant_function_identity.sql, run after deployment by that admin).
//
// The database is serverless General Purpose: the table is small and is read through a
// cache, so one vCore is plenty, and it pauses when idle. A paused database resumes on
// the first login (about a minute); enrich_orders treats that like any transient error
// (src/azure/tds.rs retries, then the trigger's retry policy retries the batch), and the
// orders wait in Event Hubs meanwhile. Set autoPauseDelayMinutes to -1 to never pause.

@description('Region of the resources.')
param location string

@description('Name of the logical SQL server (globally unique, lowercase, 1-63 characters).')
@minLength(1)
@maxLength(63)
param serverName string

@description('Name of the database that holds dbo.customers (AZURE_SQL_DATABASE).')
param databaseName string = 'pizza'

@description('Entra administrator: login name shown by the server (a UPN, group or app name).')
param adminLogin string

@description('Entra administrator: object id of that user, group or service principal.')
param adminObjectId string

@description('Entra administrator: kind of principal.')
@allowed([
  'User'
  'Group'
  'Application'
])
param adminPrincipalType string = 'User'

@description('Serverless vCores (maximum).')
@allowed([
  1
  2
  4
])
param maxVCores int = 1

@description('Minutes of inactivity before the database pauses (-1: never; else 15 or more).')
param autoPauseDelayMinutes int = 60

@description('Optional public IP address of the deployer, allowed through the firewall for sqlcmd/bcp. Empty: no such rule.')
param clientIpAddress string = ''

@description('Resource id of the Log Analytics workspace that receives the audit records.')
param logAnalyticsWorkspaceId string

@description('E-mail address that receives Microsoft Defender for SQL\'s threat alerts (the operators\' address).')
param alertEmail string

@description('Tags for every resource.')
param tags object = {}

resource server 'Microsoft.Sql/servers@2021-11-01' = {
  // checkov:skip=CKV_AZURE_113: public endpoint by choice, Entra ID only: the Function App has no virtual network (docs/ARCHITECTURE.md section 6)
  name: serverName
  location: location
  tags: tags
  properties: {
    version: '12.0'
    minimalTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    administrators: {
      administratorType: 'ActiveDirectory'
      azureADOnlyAuthentication: true
      login: adminLogin
      sid: adminObjectId
      principalType: adminPrincipalType
      tenantId: subscription().tenantId
    }
  }
}

// The Function App reaches the server over its public endpoint from Azure's outbound
// addresses; this rule (0.0.0.0 - 0.0.0.0) admits connections that come from inside Azure
// (any tenant's), so Entra ID is the gate: the server takes no SQL login, and only the
// app's identity has a user in the database. Flex Consumption has no fixed outbound
// address to name instead; the alternative, a virtual network with a private endpoint
// for the server, is priced in docs/ARCHITECTURE.md section 6.
resource allowAzureServices 'Microsoft.Sql/servers/firewallRules@2021-11-01' = {
  parent: server
  name: 'AllowAllWindowsAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

// Connection policy Proxy, pinned. Connections from inside Azure default to Redirect:
// after the login the gateway sends the client on to the database's own node
// (<node>.<region>.worker.database.windows.net, ports 11000-11999), and the client must
// reconnect there and sign in again. The handler's TDS client (tiberius) does follow a
// redirect (src/azure/tds.rs), but then sends the worker's host name at login and checks
// TLS against it, and an Entra token login after a redirect has not been proven against
// a real server. Proxy keeps every packet on the gateway (<server>.database.windows.net,
// port 1433), the path the handler is tested on. The cost is a little latency per round
// trip, which the customer cache (one lookup per batch) makes immaterial. Microsoft Learn:
// "Azure SQL Database and Azure Synapse Analytics connectivity architecture", section
// "Connection policy".
resource connectionPolicy 'Microsoft.Sql/servers/connectionPolicies@2021-11-01' = {
  parent: server
  name: 'default'
  properties: {
    connectionType: 'Proxy'
  }
}

resource allowClient 'Microsoft.Sql/servers/firewallRules@2021-11-01' = if (!empty(clientIpAddress)) {
  parent: server
  name: 'deployer-client'
  properties: {
    startIpAddress: clientIpAddress
    endIpAddress: clientIpAddress
  }
}

resource database 'Microsoft.Sql/servers/databases@2021-11-01' = {
  // checkov:skip=CKV_AZURE_229: one zone: a serverless database that pauses, read through a cache; a zone outage delays enrichment, the orders wait in Event Hubs
  // checkov:skip=CKV_AZURE_26: Defender for SQL's alerts go to alertEmail through the server's and the database's securityAlertPolicies below; the check looks for a policy nested in this resource
  // checkov:skip=CKV_AZURE_27: alerts go to the operators' address (alertEmail), not to the subscription's administrators
  parent: server
  name: databaseName
  location: location
  tags: tags
  sku: {
    name: 'GP_S_Gen5'
    tier: 'GeneralPurpose'
    family: 'Gen5'
    capacity: maxVCores
  }
  properties: {
    collation: 'SQL_Latin1_General_CP1_CI_AS'
    autoPauseDelay: autoPauseDelayMinutes
    minCapacity: json('0.5')
    zoneRedundant: false
  }
}

// Auditing, to Log Analytics, in two parts that never record the same event:
// - the server's: every sign-in to any database, and every failed one (to master's
//   diagnostic setting, as Azure Monitor auditing at server level requires);
// - the database's: every change of a permission, a principal, a role membership or the
//   schema of the customers' database.
// Statements are not audited: the handler's customer lookups would be nearly all of them;
// who can read the customers at all is what these record. Records arrive in
// AzureDiagnostics, kept 90 days (monitoring.bicep); retentionDays says the same for a
// storage target, which the estate does not use.
resource serverAuditing 'Microsoft.Sql/servers/auditingSettings@2021-11-01' = {
  parent: server
  name: 'default'
  properties: {
    state: 'Enabled'
    isAzureMonitorTargetEnabled: true
    retentionDays: 90
    auditActionsAndGroups: [
      'SUCCESSFUL_DATABASE_AUTHENTICATION_GROUP'
      'FAILED_DATABASE_AUTHENTICATION_GROUP'
    ]
  }
  dependsOn: [
    serverAuditToLogAnalytics
  ]
}

// Server-level audit records reach Azure Monitor through master's diagnostic setting,
// written in the nested form, which names master without declaring it as a database.
resource serverAuditToLogAnalytics 'Microsoft.Sql/servers/databases/providers/diagnosticSettings@2016-09-01' = {
  name: '${server.name}/master/microsoft.insights/sql-audit-to-log-analytics'
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'SQLSecurityAuditEvents'
        enabled: true
      }
    ]
  }
}

resource databaseAuditing 'Microsoft.Sql/servers/databases/auditingSettings@2021-11-01' = {
  parent: database
  name: 'default'
  properties: {
    state: 'Enabled'
    isAzureMonitorTargetEnabled: true
    retentionDays: 90
    auditActionsAndGroups: [
      'DATABASE_PERMISSION_CHANGE_GROUP'
      'DATABASE_PRINCIPAL_CHANGE_GROUP'
      'DATABASE_ROLE_MEMBER_CHANGE_GROUP'
      'SCHEMA_OBJECT_CHANGE_GROUP'
      'SCHEMA_OBJECT_PERMISSION_CHANGE_GROUP'
    ]
  }
  dependsOn: [
    databaseAuditToLogAnalytics
  ]
}

resource databaseAuditToLogAnalytics 'Microsoft.Insights/diagnosticSettings@2016-09-01' = {
  name: 'sql-audit-to-log-analytics'
  scope: database
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'SQLSecurityAuditEvents'
        enabled: true
      }
    ]
  }
}

// Microsoft Defender for SQL: alerts on SQL injection, access from unusual places and
// brute-force sign-ins, e-mailed to the operators. Billed per server per month
// (docs/ARCHITECTURE.md section 9).
resource serverThreatDetection 'Microsoft.Sql/servers/securityAlertPolicies@2021-11-01' = {
  parent: server
  name: 'Default'
  properties: {
    state: 'Enabled'
    emailAddresses: [
      alertEmail
    ]
    emailAccountAdmins: false
  }
}

resource databaseThreatDetection 'Microsoft.Sql/servers/databases/securityAlertPolicies@2021-11-01' = {
  parent: database
  name: 'Default'
  properties: {
    state: 'Enabled'
    emailAddresses: [
      alertEmail
    ]
    emailAccountAdmins: false
  }
}

output serverName string = server.name

@description('AZURE_SQL_SERVER: the server host name, e.g. pizza-prod-sql-abc123.database.windows.net.')
output serverFqdn string = server.properties.fullyQualifiedDomainName

output databaseName string = database.name
