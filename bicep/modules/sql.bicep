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

@description('Tags for every resource.')
param tags object = {}

resource server 'Microsoft.Sql/servers@2021-11-01' = {
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
// addresses; this rule (0.0.0.0 - 0.0.0.0) admits connections that come from inside Azure.
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

output serverName string = server.name

@description('AZURE_SQL_SERVER: the server host name, e.g. pizza-prod-sql-abc123.database.windows.net.')
output serverFqdn string = server.properties.fullyQualifiedDomainName

output databaseName string = database.name
