// Event Hubs: the order stream. One namespace (Standard: a second consumer group and
// 7-day retention need it; Basic has only $Default and 1 day), one hub and the consumer
// group of the enrich_orders trigger.
//
// Local (SAS key) authentication is disabled on the namespace: senders and receivers sign
// in with Entra ID (the Function App's managed identity holds Azure Event Hubs Data
// Sender and Data Receiver on the hub, roles.bicep), so no connection string exists.

@description('Region of the resources.')
param location string

@description('Name of the Event Hubs namespace (globally unique, 6-50 characters).')
@minLength(6)
@maxLength(50)
param namespaceName string

@description('Name of the event hub the orders go through (EVENTHUB_NAME).')
param hubName string = 'orders'

@description('Consumer group of the enrich_orders trigger (EVENTHUB_CONSUMER_GROUP).')
param consumerGroupName string = 'enrich'

@description('Partitions of the hub: the most enrich_orders instances that read in parallel. Fixed once created on Standard.')
@minValue(1)
@maxValue(32)
param partitionCount int = 8

@description('Throughput units at creation (1 TU: 1 MB/s or 1,000 events/s in).')
@minValue(1)
@maxValue(20)
param throughputUnits int = 1

@description('Auto-inflate ceiling in throughput units (0: auto-inflate off).')
@minValue(0)
@maxValue(40)
param maximumThroughputUnits int = 4

@description('Days an order stays in the hub: the backlog a stalled enrich_orders can catch up on.')
@minValue(1)
@maxValue(7)
param retentionDays int = 7

@description('Resource id of the Log Analytics workspace that receives the namespace\'s operational logs.')
param logAnalyticsWorkspaceId string

@description('Tags for every resource.')
param tags object = {}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: throughputUnits
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    isAutoInflateEnabled: maximumThroughputUnits > 0
    maximumThroughputUnits: maximumThroughputUnits > 0 ? max(maximumThroughputUnits, throughputUnits) : 0
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: hubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: retentionDays
  }
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: hub
  name: consumerGroupName
  properties: {
    userMetadata: 'enrich_orders trigger (functions/enrich_orders/function.json)'
  }
}

// Management operations on the namespace (hubs, consumer groups, settings) and the
// auto-inflate decisions, with who made them.
resource operationalLogs 'Microsoft.Insights/diagnosticSettings@2016-09-01' = {
  name: 'eventhubs-to-log-analytics'
  scope: namespace
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'OperationalLogs'
        enabled: true
      }
      {
        category: 'AutoScaleLogs'
        enabled: true
      }
    ]
  }
}

output namespaceName string = namespace.name
output hubName string = hub.name
output consumerGroupName string = consumerGroup.name

@description('EventHubConnection__fullyQualifiedNamespace: the namespace host, e.g. pizza-prod-ehns-abc123.servicebus.windows.net.')
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
