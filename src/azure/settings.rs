//! The settings `serve` reads from its environment (Function App application settings).
//!
//! [`SETTINGS`] is the one list: `serve` checks it, `docs/AZURE.md` documents it and the
//! Bicep templates must set every required entry (a test holds them to it).

use crate::summary::parse_report_time_zone;
use std::collections::BTreeMap;

/// Who reads a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBy {
    /// `pizza-pipeline serve` reads it.
    Handler,
    /// The Functions host reads it (binding expressions in `functions/*/function.json`).
    Host,
    /// Both.
    Both,
}

#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    /// `None`: required, `serve` refuses to start without it.
    pub default: Option<&'static str>,
    pub read_by: ReadBy,
    pub meaning: &'static str,
}

pub const FUNCTIONS_PORT: &str = "FUNCTIONS_CUSTOMHANDLER_PORT";
pub const EVENTHUB_NAMESPACE: &str = "EventHubConnection__fullyQualifiedNamespace";
pub const EVENTHUB_NAME: &str = "EVENTHUB_NAME";
pub const EVENTHUB_CONSUMER_GROUP: &str = "EVENTHUB_CONSUMER_GROUP";
pub const SQL_SERVER: &str = "AZURE_SQL_SERVER";
pub const SQL_DATABASE: &str = "AZURE_SQL_DATABASE";
pub const LAKE_URL: &str = "LAKE_URL";
pub const SYNAPSE_SQL_ENDPOINT: &str = "SYNAPSE_SQL_ENDPOINT";
pub const SYNAPSE_DATABASE: &str = "SYNAPSE_DATABASE";
pub const SUMMARY_SCHEDULE: &str = "SUMMARY_SCHEDULE";
pub const VERIFY_SCHEDULE: &str = "VERIFY_SCHEDULE";
pub const REPORT_TIME_ZONE: &str = "REPORT_TIME_ZONE";
pub const ORDER_HORIZON_DAYS: &str = "ORDER_HORIZON_DAYS";
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const HOST_STORAGE_ACCOUNT: &str = "AzureWebJobsStorage__accountName";
pub const HOST_BLOB_SERVICE_URI: &str = "AzureWebJobsStorage__blobServiceUri";

pub const SETTINGS: [Setting; 16] = [
    Setting {
        name: FUNCTIONS_PORT,
        default: None,
        read_by: ReadBy::Both,
        meaning: "Port the handler listens on (127.0.0.1); set by the Functions host itself",
    },
    Setting {
        name: EVENTHUB_NAMESPACE,
        default: None,
        read_by: ReadBy::Both,
        meaning: "Event Hubs namespace host, e.g. pizza-prod-ehns.servicebus.windows.net: the trigger's identity-based connection (`connection: EventHubConnection`) and the producer's namespace",
    },
    Setting {
        name: EVENTHUB_NAME,
        default: None,
        read_by: ReadBy::Both,
        meaning: "Event hub the orders go through, e.g. orders",
    },
    Setting {
        name: EVENTHUB_CONSUMER_GROUP,
        default: None,
        read_by: ReadBy::Host,
        meaning: "Consumer group of the enrich_orders trigger, e.g. enrich",
    },
    Setting {
        name: SQL_SERVER,
        default: None,
        read_by: ReadBy::Handler,
        meaning: "Azure SQL server host, e.g. pizza-prod-sql.database.windows.net",
    },
    Setting {
        name: SQL_DATABASE,
        default: None,
        read_by: ReadBy::Handler,
        meaning: "Azure SQL database holding dbo.customers",
    },
    Setting {
        name: LAKE_URL,
        default: None,
        read_by: ReadBy::Handler,
        meaning: "Lake container URL, e.g. https://pizzaprodlake.blob.core.windows.net/lake (managed identity), or a container SAS URL",
    },
    Setting {
        name: SYNAPSE_SQL_ENDPOINT,
        default: None,
        read_by: ReadBy::Handler,
        meaning: "Synapse serverless SQL endpoint, e.g. pizza-prod-syn-ondemand.sql.azuresynapse.net",
    },
    Setting {
        name: SYNAPSE_DATABASE,
        default: Some("pizza_warehouse"),
        read_by: ReadBy::Handler,
        meaning: "Synapse serverless database holding orders_enriched and state_top_pizzas",
    },
    Setting {
        name: SUMMARY_SCHEDULE,
        default: Some(crate::functions::SUMMARY_TIMER_SCHEDULE),
        read_by: ReadBy::Host,
        meaning: "When the build_state_summary timer ticks: six-field cron (sec min hour day month weekday), always in UTC on Linux plans. Hourly by default: each tick builds the nightly report once it is due, from 02:00 in REPORT_TIME_ZONE, and catches up a missed one",
    },
    Setting {
        name: VERIFY_SCHEDULE,
        default: Some(crate::functions::VERIFY_TIMER_SCHEDULE),
        read_by: ReadBy::Host,
        meaning: "When the verify_state_summary timer ticks (UTC): weekly by default, Sundays at 04:30. Each tick recomputes the nightly report with Synapse's SQL from the orders and compares every figure with the report core's; it publishes nothing",
    },
    Setting {
        name: REPORT_TIME_ZONE,
        default: Some("UTC"),
        read_by: ReadBy::Handler,
        meaning: "IANA time zone of the report day: the nightly build runs at 02:00 here and its 12-month window ends at midnight here",
    },
    Setting {
        name: ORDER_HORIZON_DAYS,
        default: Some("400"),
        read_by: ReadBy::Handler,
        meaning: "Orders dated more than this many days before they arrive are refused with a 422 (1 to 36500): the report's 12 months and a grace period by default",
    },
    Setting {
        name: AZURE_CLIENT_ID,
        default: Some(""),
        read_by: ReadBy::Handler,
        meaning: "Client id of a user-assigned managed identity; empty: the system-assigned identity",
    },
    Setting {
        name: HOST_STORAGE_ACCOUNT,
        default: Some(""),
        read_by: ReadBy::Both,
        meaning: "The Functions host's storage account (identity-based AzureWebJobsStorage). The handler reads the enrich_orders trigger's Event Hubs checkpoints there, for the stream backlog; empty (with no blobServiceUri): the backlog is not read",
    },
    Setting {
        name: HOST_BLOB_SERVICE_URI,
        default: Some(""),
        read_by: ReadBy::Both,
        meaning: "The host storage's Blob endpoint, when it is not https://<accountName>.blob.core.windows.net (another cloud, or a storage emulator); empty: derived from the account name",
    },
];

/// The settings, read and parsed once, at start, before anything connects or listens.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureSettings {
    pub port: u16,
    /// The Event Hubs namespace host.
    pub eventhub_namespace: String,
    pub eventhub_name: String,
    /// The trigger's consumer group (`$Default` when the host did not pass it on).
    pub eventhub_consumer_group: String,
    pub sql_server: String,
    pub sql_database: String,
    pub lake_url: String,
    pub synapse_endpoint: String,
    pub synapse_database: String,
    pub report_tz: chrono_tz::Tz,
    pub order_horizon_days: u32,
    /// A user-assigned identity's client id (`None`: the system-assigned identity).
    pub client_id: Option<String>,
    /// The container of the host's Event Hubs checkpoints (`None`: no host storage named).
    pub checkpoint_container_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("`serve` cannot start, these application settings are missing or invalid:\n{}\nSee docs/AZURE.md (settings) for the whole table.", .problems.join("\n"))]
pub struct SettingsError {
    pub problems: Vec<String>,
}

impl AzureSettings {
    /// Reads every setting through `lookup` (the process environment in `serve`) and
    /// names every problem at once, so one failed start tells the operator everything.
    pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut values = BTreeMap::new();
        let mut problems = Vec::new();
        for setting in SETTINGS {
            let value = lookup(setting.name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            match (value, setting.default) {
                (Some(value), _) => {
                    values.insert(setting.name, value);
                }
                (None, Some(default)) => {
                    values.insert(setting.name, default.to_string());
                }
                (None, None) if setting.read_by == ReadBy::Host => {
                    // The host needs it, the handler does not: the host reports it.
                }
                (None, None) => problems.push(format!("  - {}: {}", setting.name, setting.meaning)),
            }
        }
        let get = |name: &str| values.get(name).cloned().unwrap_or_default();
        let mut parsed = |name: &'static str, problem: Option<String>| {
            if let Some(problem) = problem {
                problems.push(format!("  - {name}: {problem}"));
            }
        };
        let port = get(FUNCTIONS_PORT).parse::<u16>().ok();
        if values.contains_key(FUNCTIONS_PORT) {
            parsed(
                FUNCTIONS_PORT,
                port.is_none()
                    .then(|| NotAPort(get(FUNCTIONS_PORT)).to_string()),
            );
        }
        let report_tz = parse_report_time_zone(&get(REPORT_TIME_ZONE));
        parsed(
            REPORT_TIME_ZONE,
            report_tz.as_ref().err().map(|e| e.to_string()),
        );
        let horizon = parse_day_count(&get(ORDER_HORIZON_DAYS));
        parsed(
            ORDER_HORIZON_DAYS,
            horizon.as_ref().err().map(|e| e.to_string()),
        );
        if !problems.is_empty() {
            return Err(SettingsError { problems });
        }
        let client_id = get(AZURE_CLIENT_ID);
        Ok(AzureSettings {
            port: port.expect("checked above"),
            eventhub_namespace: get(EVENTHUB_NAMESPACE),
            eventhub_name: get(EVENTHUB_NAME),
            eventhub_consumer_group: Some(get(EVENTHUB_CONSUMER_GROUP))
                .filter(|g| !g.is_empty())
                .unwrap_or_else(|| "$Default".into()),
            sql_server: get(SQL_SERVER),
            sql_database: get(SQL_DATABASE),
            lake_url: get(LAKE_URL),
            synapse_endpoint: get(SYNAPSE_SQL_ENDPOINT),
            synapse_database: get(SYNAPSE_DATABASE),
            report_tz: report_tz.expect("checked above"),
            order_horizon_days: horizon.expect("checked above"),
            client_id: Some(client_id).filter(|id| !id.is_empty()),
            checkpoint_container_url: checkpoint_container_url(
                &get(HOST_BLOB_SERVICE_URI),
                &get(HOST_STORAGE_ACCOUNT),
            ),
        })
    }

    pub fn from_env() -> Result<Self, SettingsError> {
        Self::read(|name| std::env::var(name).ok())
    }
}

/// The container of the host's Event Hubs checkpoints: under the Blob endpoint when one is
/// named, else the account's public-cloud endpoint; `None` without either.
fn checkpoint_container_url(blob_service_uri: &str, account: &str) -> Option<String> {
    let container = crate::stream::backlog::CHECKPOINT_CONTAINER;
    let uri = blob_service_uri.trim().trim_end_matches('/');
    let account = account.trim();
    if !uri.is_empty() {
        Some(format!("{uri}/{container}"))
    } else if !account.is_empty() {
        Some(format!(
            "https://{account}.blob.core.windows.net/{container}"
        ))
    } else {
        None
    }
}

fn parse_day_count(text: &str) -> Result<u32, NotADayCount> {
    text.parse::<u32>()
        .ok()
        .filter(|days| (1..=36_500).contains(days))
        .ok_or_else(|| NotADayCount(text.to_string()))
}

/// A day-count setting that is not a whole number of days from 1 to 36500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a number of days from 1 to 36500")]
pub struct NotADayCount(pub String);

/// A port setting that is not a port number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a port number")]
pub struct NotAPort(pub String);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn complete() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            (FUNCTIONS_PORT, "7071"),
            (EVENTHUB_NAMESPACE, "ns.servicebus.windows.net"),
            (EVENTHUB_NAME, "orders"),
            (EVENTHUB_CONSUMER_GROUP, "enrich"),
            (SQL_SERVER, "sql.database.windows.net"),
            (SQL_DATABASE, "pizza"),
            (LAKE_URL, "https://acct.blob.core.windows.net/lake"),
            (SYNAPSE_SQL_ENDPOINT, "syn-ondemand.sql.azuresynapse.net"),
        ])
    }

    fn read(map: &HashMap<&'static str, &'static str>) -> Result<AzureSettings, SettingsError> {
        AzureSettings::read(|name| map.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn a_complete_table_starts_with_defaults_applied() {
        let settings = read(&complete()).expect("complete");
        assert_eq!(settings.port, 7071);
        assert_eq!(settings.synapse_database, "pizza_warehouse");
        assert_eq!(settings.report_tz, chrono_tz::UTC);
        assert_eq!(settings.order_horizon_days, 400);
        assert_eq!(settings.client_id, None);
        assert_eq!(settings.eventhub_consumer_group, "enrich");
    }

    #[test]
    fn every_missing_setting_is_named_at_once() {
        let mut map = complete();
        map.remove(SQL_SERVER);
        map.remove(LAKE_URL);
        map.insert(EVENTHUB_NAME, "   ");
        let error = read(&map).unwrap_err();
        let text = error.to_string();
        assert_eq!(error.problems.len(), 3, "{text}");
        for name in [SQL_SERVER, LAKE_URL, EVENTHUB_NAME] {
            assert!(text.contains(name), "{name} named in {text}");
        }
        assert!(text.contains("docs/AZURE.md"));
    }

    #[test]
    fn bad_values_are_refused_clearly() {
        let mut map = complete();
        map.insert(FUNCTIONS_PORT, "seventy");
        map.insert(REPORT_TIME_ZONE, "Mars/Olympus");
        let text = read(&map).unwrap_err().to_string();
        assert!(text.contains("\"seventy\" is not a port number"), "{text}");
        assert!(text.contains("Mars/Olympus"), "{text}");
    }

    #[test]
    fn the_operator_docs_table_has_every_setting_and_default() {
        let doc = include_str!("../../docs/AZURE.md");
        for setting in SETTINGS {
            let row = doc
                .lines()
                .find(|line| line.starts_with(&format!("| `{}` |", setting.name)))
                .unwrap_or_else(|| panic!("docs/AZURE.md has no row for {}", setting.name));
            match setting.default {
                Some("") | None => {}
                Some(default) => assert!(row.contains(&format!("`{default}`")), "{row}"),
            }
        }
    }

    #[test]
    fn the_checkpoints_are_found_from_the_host_storage_settings() {
        let mut map = complete();
        assert_eq!(read(&map).unwrap().checkpoint_container_url, None);
        map.insert(HOST_STORAGE_ACCOUNT, "pizzafunc");
        assert_eq!(
            read(&map).unwrap().checkpoint_container_url.as_deref(),
            Some("https://pizzafunc.blob.core.windows.net/azure-webjobs-eventhub")
        );
        map.insert(
            HOST_BLOB_SERVICE_URI,
            "http://127.0.0.1:10000/devstoreaccount1/",
        );
        assert_eq!(
            read(&map).unwrap().checkpoint_container_url.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1/azure-webjobs-eventhub")
        );
    }

    #[test]
    fn the_consumer_group_is_the_hosts_business() {
        let mut map = complete();
        map.remove(EVENTHUB_CONSUMER_GROUP);
        assert!(read(&map).is_ok());
    }
}
