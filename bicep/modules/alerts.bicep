// Alerts: operators hear about a breach before the business does. One action group
// (e-mail) and eight rules; docs/OPERATIONS.md ("Alerts") says what each one means and
// the first step to take.
//
// | rule                          | signal                                                   |
// |-------------------------------|----------------------------------------------------------|
// | enrich-failures               | enrich_orders invocations that failed (each retry counts)  |
// |                               | or were kept raw in quarantine                           |
// | enrich-lag                    | a landed order waited more than 5 minutes (the 15-minute |
// |                               | goal at risk: the Event Hubs backlog is growing)         |
// | events-quarantined            | stream events that are not orders were set aside         |
// | eventhub-not-consumed         | orders enter the hub but nothing reads it for 15 minutes |
// |                               | (the app is down or stopped; failing invocations, which  |
// |                               | still read ahead, are enrich-failures')                  |
// | report-not-built              | no report built by 03:00 in the report time zone         |
// | report-verification-failed    | the weekly verification found the report core and        |
// |                               | Synapse's SQL disagree, or could not run                  |
// | stream-backlog                | more events wait in Event Hubs than the threshold, or the |
// |                               | backlog could not be read (the hourly line says which)    |
// | order-api-5xx                 | POST /api/orders answered 5xx (orders refused)           |
//
// The log rules read Application Insights: `requests` (one row per function invocation,
// never sampled: host.json excludes Request from sampling) and `traces` (the lines a
// function returns in the Logs of a successful invocation, and the handler's own stderr
// lines, which the host keeps as traces of category Host.Function.Console: Warning for a
// line with "warn" in it, Error otherwise; also excluded from sampling, so a line the
// rule looks for is never dropped). A failed invocation's answer is never read by the
// host, so its cause is such a stderr line. The handler writes those lines only for these
// events, so keeping every one costs little.

@description('Region of the log alert rules (the workspace region).')
param location string

@description('E-mail address that receives every alert.')
param alertEmail string

@description('Name of the Application Insights component the Function App writes to.')
param appInsightsName string

@description('Name of the Event Hubs namespace of the order stream.')
param eventHubsNamespaceName string

@description('REPORT_TIME_ZONE: IANA time zone of the report day (the nightly build runs at 02:00 there).')
param reportTimeZone string

@description('POST /api/orders 5xx answers in 5 minutes above which the alert fires (0: any).')
@minValue(0)
param orderApi5xxThreshold int = 0

@description('Events waiting in Event Hubs (not yet checkpointed by enrich_orders) above which the stream-backlog alert fires.')
@minValue(0)
param streamBacklogThreshold int = 20000

@description('Name prefix of the alert resources.')
param namePrefix string

@description('Tags for every resource.')
param tags object = {}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource eventHubsNamespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource operators 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'pizzaops'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// The lines the rules look for, as the handler writes them (src/functions/*.rs).
var reportBuiltLine = 'state_top_pizzas built for'
var lagLine = 'enrich lag:'
var quarantinedLine = 'unreadable invocation kept in quarantine'
var verificationFailedLine = 'state_top_pizzas verification failed'
var quarantinedEventsLine = 'QUARANTINED'
var backlogLine = 'stream backlog:'
var backlogUnknownLine = 'stream backlog unknown'

var enrichFailuresQuery = '''
union
  (requests | where operation_Name == 'enrich_orders' and success == false),
  (traces | where operation_Name == 'enrich_orders' and message startswith '{{quarantined}}')
'''

var enrichLagQuery = '''
traces
| where operation_Name == 'enrich_orders' and message startswith '{{lag}}'
'''

// Fires from 03:00 local until a report of today is built. datetime_utc_to_local follows
// the zone's daylight saving rules, so "03:00" is local all year.
var reportNotBuiltQuery = '''
let tz = '{{tz}}';
let localNow = datetime_utc_to_local(now(), tz);
let builtToday = toscalar(
  traces
  | where operation_Name == 'build_state_summary' and message startswith '{{built}}'
  | where startofday(datetime_utc_to_local(timestamp, tz)) == startofday(localNow)
  | count);
print late = hourofday(localNow) >= 3 and builtToday == 0
| where late
'''

// One word: `has` matches whole terms. Warning and above: the handler's stderr line.
var quarantinedEventsQuery = '''
traces
| where message has '{{quarantined}}' and severityLevel >= 2
'''

// A failed invocation's answer is not read by the host (its Logs never reach Application
// Insights); the handler's own error line on stderr does, as a trace of the host's console
// category, without the invocation's operation name.
var verificationFailedQuery = '''
union
  (requests | where operation_Name == 'verify_state_summary' and success == false),
  (traces | where message has 'state_top_pizzas' and message contains '{{failed}}')
'''

// The hourly tick says the backlog in its Logs: "stream backlog: N events not yet landed".
var streamBacklogQuery = '''
traces
| where operation_Name == 'build_state_summary'
| where message startswith '{{unknown}}'
    or (message startswith '{{backlog}}'
        and tolong(extract(@'^{{backlog}} (\d+)', 1, message)) > {{threshold}})
'''

var orderApi5xxQuery = '''
requests
| where operation_Name == 'ingest_order' and toint(resultCode) >= 500
'''

var logRules = [
  {
    name: 'enrich-failures'
    description: 'enrich_orders failed (the batch is retried and its partition waits) or an invocation was unreadable and kept raw in quarantine. docs/OPERATIONS.md, Alerts.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: replace(enrichFailuresQuery, '{{quarantined}}', quarantinedLine)
    threshold: 0
  }
  {
    name: 'enrich-lag'
    description: 'An order waited more than 5 minutes between acceptance and the lake: the Event Hubs backlog is growing and the 15-minute goal is at risk. docs/OPERATIONS.md, Alerts.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: replace(enrichLagQuery, '{{lag}}', lagLine)
    threshold: 0
  }
  {
    name: 'events-quarantined'
    description: 'Stream events that are not orders were set aside in quarantine/enrich/ (the rest of their batches landed). The line names how many, why and where. docs/OPERATIONS.md, Alerts.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT15M'
    query: replace(quarantinedEventsQuery, '{{quarantined}}', quarantinedEventsLine)
    threshold: 0
  }
  {
    name: 'report-not-built'
    description: 'No state_top_pizzas report built by 03:00 in ${reportTimeZone}: Power BI still shows the previous day. docs/OPERATIONS.md, Alerts.'
    severity: 1
    frequency: 'PT1H'
    window: 'P1D'
    query: replace(replace(reportNotBuiltQuery, '{{tz}}', reportTimeZone), '{{built}}', reportBuiltLine)
    threshold: 0
  }
  {
    name: 'report-verification-failed'
    description: 'The weekly verification found that the report core and Synapse\'s SQL definition disagree (the log line names the first difference), or it could not run. docs/OPERATIONS.md, Alerts.'
    severity: 1
    frequency: 'PT1H'
    window: 'PT2H'
    query: replace(verificationFailedQuery, '{{failed}}', verificationFailedLine)
    threshold: 0
  }
  {
    name: 'stream-backlog'
    description: 'More than ${streamBacklogThreshold} events wait in Event Hubs for enrich_orders (from its checkpoints), or the backlog could not be read. docs/OPERATIONS.md, Alerts.'
    severity: 2
    frequency: 'PT1H'
    window: 'PT2H'
    query: replace(replace(replace(streamBacklogQuery, '{{unknown}}', backlogUnknownLine), '{{backlog}}', backlogLine), '{{threshold}}', string(streamBacklogThreshold))
    threshold: 0
  }
  {
    name: 'order-api-5xx'
    description: 'POST /api/orders answered 5xx: orders were refused (clients retry on 503). docs/OPERATIONS.md, Alerts.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT5M'
    query: orderApi5xxQuery
    threshold: orderApi5xxThreshold
  }
]

resource logAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in logRules: {
  name: '${namePrefix}-${rule.name}'
  location: location
  tags: tags
  properties: {
    displayName: '${namePrefix}: ${rule.name}'
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: rule.frequency
    windowSize: rule.window
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        operators.id
      ]
    }
  }
}]

// Orders arrive but nothing reads them: the consumer is down or every invocation fails
// (with unlimited retries a failing batch holds its partition). Both conditions must hold.
resource notConsumed 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-eventhub-not-consumed'
  location: 'global'
  tags: tags
  properties: {
    description: 'Orders entered Event Hubs in the last 15 minutes but nothing read the hub: the Function App is down or stopped. Invocations that fail still read ahead, so they are enrich-failures\' to catch. docs/OPERATIONS.md, Alerts.'
    severity: 1
    enabled: true
    scopes: [
      eventHubsNamespace.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'orders-in'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.EventHub/namespaces'
          metricName: 'IncomingMessages'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
        {
          name: 'none-out'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.EventHub/namespaces'
          metricName: 'OutgoingMessages'
          operator: 'LessThan'
          threshold: 1
          timeAggregation: 'Total'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: operators.id
      }
    ]
  }
}

// A for-expression in a variable, not a lambda: the Bicep parser checkov uses reads it.
var logRuleNames = [for rule in logRules: '${namePrefix}-${rule.name}']

output actionGroupName string = operators.name
output alertRuleNames array = concat(logRuleNames, [notConsumed.name])
