//! The Azure estate (`bicep/`) and the deployment package (`.ci/package`), checked here
//! without a subscription.
//!
//! - Every resource type the pipeline needs is declared, with a GA API version.
//! - The Function App's app settings name every entry of `SETTINGS`
//!   (src/azure/settings.rs, the one list `serve` checks at start-up) except the port the
//!   host sets, and every `%SETTING%` a function.json binding reads.
//! - Every data-plane role the identities need is assigned, by built-in role id.
//! - No secret: no key, password or key-bearing connection string anywhere, local auth
//!   off, Entra-only SQL and Synapse.
//! - The zip `.ci/package` writes has the layout the Functions host runs.
//!
//! The Bicep *syntax* is checked by the separate crate tests/bicep_check (tree-sitter
//! grammar); these tests read the templates as text.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pizza_pipeline::azure::settings::ReadBy;
use pizza_pipeline::azure::SETTINGS;

/// The one setting the Functions host sets itself: the templates must not.
const HOST_SETS_IT: &str = "FUNCTIONS_CUSTOMHANDLER_PORT";

/// Built-in role definition ids ("Azure built-in roles",
/// learn.microsoft.com/azure/role-based-access-control/built-in-roles).
const EVENT_HUBS_DATA_SENDER: &str = "2b629674-e913-4c01-ae53-ef4638d8f975";
const EVENT_HUBS_DATA_RECEIVER: &str = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde";
const STORAGE_BLOB_DATA_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const STORAGE_BLOB_DATA_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
const STORAGE_BLOB_DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.bicep` file under bicep/: path relative to the repository (with `/`) → text.
fn bicep_files() -> BTreeMap<String, String> {
    let root = repo();
    let mut files = BTreeMap::new();
    let mut pending = vec![root.join("bicep")];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "bicep") {
                let text =
                    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let relative = path
                    .strip_prefix(&root)
                    .expect("under the repository")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(relative, text);
            }
        }
    }
    assert!(
        files.contains_key("bicep/main.bicep"),
        "bicep/main.bicep is missing: {:?}",
        files.keys().collect::<Vec<_>>()
    );
    files
}

fn bicep_file(files: &BTreeMap<String, String>, relative: &str) -> String {
    files
        .get(relative)
        .unwrap_or_else(|| panic!("{relative} is missing"))
        .clone()
}

/// The code of a Bicep text without `//` comments (a `//` inside a '…' string is kept).
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut cut = line.len();
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if in_string => i += 1, // an escaped character such as \'
                b'\'' => in_string = !in_string,
                b'/' if !in_string && i + 1 < bytes.len() && bytes[i + 1] == b'/' => {
                    cut = i;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// The top-level `resource` declarations of a Bicep text: each from its `resource` line
/// to the closing `}` (or `}]` of a loop) at the start of a line.
fn resource_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("resource ") {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
            if line == "}" || line == "}]" {
                blocks.push(current.take().expect("open block"));
            }
        }
    }
    blocks
}

#[test]
fn every_resource_type_of_the_estate_is_declared_with_a_ga_api_version() {
    let files = bicep_files();
    let required = [
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        "Microsoft.EventHub/namespaces",
        "Microsoft.EventHub/namespaces/eventhubs",
        "Microsoft.EventHub/namespaces/eventhubs/consumergroups",
        "Microsoft.Web/serverfarms",
        "Microsoft.Web/sites",
        "Microsoft.Insights/components",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Sql/servers",
        "Microsoft.Sql/servers/databases",
        "Microsoft.Synapse/workspaces",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Sql/servers/connectionPolicies",
        "Microsoft.Insights/actionGroups",
        "Microsoft.Insights/scheduledQueryRules",
        "Microsoft.Insights/metricAlerts",
    ];
    // `resource name 'Type@version' = …`, declarations only (not `existing` references).
    let mut declared: Vec<(String, String, String)> = Vec::new();
    for (file, text) in &files {
        for line in text.lines().filter(|l| l.starts_with("resource ")) {
            let Some(start) = line.find('\'') else {
                continue;
            };
            let Some(len) = line[start + 1..].find('\'') else {
                continue;
            };
            let type_and_version = &line[start + 1..start + 1 + len];
            let Some((kind, version)) = type_and_version.split_once('@') else {
                panic!("{file}: no API version in {line:?}");
            };
            assert!(
                !version.contains("preview"),
                "{file}: {kind} uses a preview API version ({version})"
            );
            assert!(
                version.len() == 10
                    && version.as_bytes()[4] == b'-'
                    && version.as_bytes()[7] == b'-',
                "{file}: {kind}: API version {version:?} is not YYYY-MM-DD"
            );
            if !line.contains(" existing ") {
                declared.push((kind.to_string(), version.to_string(), file.clone()));
            }
        }
    }
    for kind in required {
        assert!(
            declared.iter().any(|(k, _, _)| k == kind),
            "no bicep file declares {kind}; declared: {:?}",
            declared
                .iter()
                .map(|(k, _, f)| format!("{k} ({f})"))
                .collect::<Vec<_>>()
        );
    }
    // The lake is ADLS Gen2 with the containers the pipeline and Synapse use.
    let storage = bicep_file(&files, "bicep/modules/storage.bicep");
    assert!(
        storage.contains("isHnsEnabled: true"),
        "the lake needs a hierarchical namespace"
    );
    for container in ["'lake'", "'reference'"] {
        assert!(
            storage.contains(container),
            "storage.bicep has no {container} container"
        );
    }
    // The hub and consumer group named by the function.json bindings' settings.
    let main = bicep_file(&files, "bicep/main.bicep");
    assert!(
        main.contains("consumerGroupName: 'enrich'"),
        "consumer group enrich"
    );
    assert!(main.contains("hubName: 'orders'"), "hub orders");
}

#[test]
fn the_function_app_settings_are_every_setting_serve_reads() {
    let files = bicep_files();
    let app = without_comments(&bicep_file(&files, "bicep/modules/functionapp.bicep"));
    let everything: String = files.values().map(|t| without_comments(t)).collect();
    assert!(SETTINGS.len() >= 10, "SETTINGS looks truncated");
    for setting in SETTINGS.iter() {
        if setting.name == HOST_SETS_IT {
            assert!(
                !everything.contains(HOST_SETS_IT),
                "{HOST_SETS_IT} is set by the Functions host; the templates must not set it"
            );
            continue;
        }
        if setting.default == Some("") && setting.read_by != ReadBy::Handler {
            // The host's own storage settings: the host needs accountName (Bicep sets it);
            // blobServiceUri only off the public cloud. The handler copes without either.
            continue;
        }
        if setting.default == Some("") {
            // Optional and unset by default (AZURE_CLIENT_ID): an app setting with an empty
            // value is not "unset" to everyone — the Functions host's own identity library
            // reads AZURE_CLIENT_ID as it is — so the template leaves it out.
            assert!(
                !app.contains(&format!("name: '{}'", setting.name)),
                "functionapp.bicep sets {}, which must stay unset unless an operator names a value",
                setting.name
            );
            continue;
        }
        assert!(
            app.contains(&format!("name: '{}'", setting.name)),
            "bicep/modules/functionapp.bicep does not set {} ({})",
            setting.name,
            setting.meaning
        );
        // A default of the code is the default of the template too (e.g. SUMMARY_SCHEDULE
        // '0 0 * * * *': function.json reads %SUMMARY_SCHEDULE%, so it must always be set).
        if let Some(default) = setting.default.filter(|d| !d.is_empty()) {
            assert!(
                everything.contains(&format!("= '{default}'")),
                "no template parameter defaults {} to '{default}'",
                setting.name
            );
        }
    }
    // Every %SETTING% and connection a binding reads is an app setting.
    let functions = repo().join("functions");
    let mut bindings_read = Vec::new();
    for entry in fs::read_dir(&functions).expect("functions/") {
        let path = entry.expect("entry").path().join("function.json");
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let pieces: Vec<&str> = text.split('%').collect();
        for (i, piece) in pieces.iter().enumerate() {
            let is_name =
                !piece.is_empty() && piece.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if i % 2 == 1 && is_name {
                bindings_read.push(piece.to_string());
            }
        }
        for binding in json["bindings"].as_array().into_iter().flatten() {
            if let Some(connection) = binding["connection"].as_str() {
                // Identity-based: <connection>__fullyQualifiedNamespace, never a connection string.
                bindings_read.push(format!("{connection}__fullyQualifiedNamespace"));
                assert!(
                    !app.contains(&format!("name: '{connection}'")),
                    "{connection} must be identity-based (<name>__fullyQualifiedNamespace), not a connection string"
                );
            }
        }
    }
    assert!(
        !app.contains("value: ''"),
        "an app setting with an empty value: leave an optional setting out instead"
    );
    assert!(!bindings_read.is_empty(), "no binding reads a setting?");
    for name in bindings_read {
        assert!(
            app.contains(&format!("name: '{name}'")),
            "a function.json binding reads {name}, which functionapp.bicep does not set"
        );
    }
    // The host: identity-based storage, a custom handler, a system-assigned identity.
    assert!(
        app.contains("name: 'AzureWebJobsStorage__accountName'"),
        "identity-based host storage"
    );
    assert!(
        !app.contains("name: 'AzureWebJobsStorage'"),
        "AzureWebJobsStorage as a connection string"
    );
    assert!(
        app.contains("name: 'FUNCTIONS_WORKER_RUNTIME'") && app.contains("value: 'custom'"),
        "FUNCTIONS_WORKER_RUNTIME=custom (Elastic Premium)"
    );
    assert!(
        app.contains("name: 'custom'"),
        "functionAppConfig.runtime 'custom' (Flex Consumption)"
    );
    assert!(
        app.contains("type: 'SystemAssigned'"),
        "system-assigned identity"
    );
    assert!(
        app.contains("kind: 'functionapp,linux'"),
        "a Linux function app"
    );
    assert!(
        app.contains("'FlexConsumption'") && app.contains("'ElasticPremium'"),
        "both plans"
    );
}

#[test]
fn every_identity_has_its_roles_by_built_in_role_id() {
    let files = bicep_files();
    let roles = without_comments(&bicep_file(&files, "bicep/modules/roles.bicep"));
    let main = bicep_file(&files, "bicep/main.bicep");
    // The principals handed to roles.bicep are the two system-assigned identities.
    assert!(main.contains("functionPrincipalId: functionApp.outputs.principalId"));
    assert!(main.contains("synapsePrincipalId: synapse.outputs.principalId"));

    // The variable that holds a role id: `var name = '<guid>'`.
    let variable_of = |guid: &str| -> String {
        let line = roles
            .lines()
            .find(|l| l.starts_with("var ") && l.contains(&format!("'{guid}'")))
            .unwrap_or_else(|| panic!("roles.bicep has no variable for role {guid}"));
        line["var ".len()..]
            .split_whitespace()
            .next()
            .expect("variable name")
            .to_string()
    };
    let blocks: Vec<String> = resource_blocks(&roles)
        .into_iter()
        .filter(|b| b.contains("'Microsoft.Authorization/roleAssignments@"))
        .collect();
    let required = [
        (
            "Azure Event Hubs Data Sender",
            EVENT_HUBS_DATA_SENDER,
            "functionPrincipalId",
            "hub",
        ),
        (
            "Azure Event Hubs Data Receiver",
            EVENT_HUBS_DATA_RECEIVER,
            "functionPrincipalId",
            "hub",
        ),
        (
            "Storage Blob Data Contributor",
            STORAGE_BLOB_DATA_CONTRIBUTOR,
            "functionPrincipalId",
            "lakeContainer",
        ),
        (
            "Storage Blob Data Reader",
            STORAGE_BLOB_DATA_READER,
            "synapsePrincipalId",
            "lakeContainer",
        ),
        (
            "Storage Blob Data Reader",
            STORAGE_BLOB_DATA_READER,
            "synapsePrincipalId",
            "referenceContainer",
        ),
        (
            "Storage Blob Data Owner",
            STORAGE_BLOB_DATA_OWNER,
            "functionPrincipalId",
            "hostAccount",
        ),
    ];
    for (role, guid, principal, scope) in required {
        let variable = variable_of(guid);
        let found = blocks.iter().any(|block| {
            block.contains(&format!(
                "'Microsoft.Authorization/roleDefinitions', {variable})"
            )) && block.contains(&format!("principalId: {principal}\n"))
                && block.contains(&format!("scope: {scope}\n"))
        });
        assert!(
            found,
            "no assignment of {role} ({guid}) to {principal} on {scope}"
        );
    }
    // Nothing holds a data role on the whole lake account: each role names a container.
    assert!(
        !blocks.iter().any(|b| b.contains("scope: lakeAccount\n")),
        "a role on the whole lake account"
    );
    for container in ["'lake'", "'reference'", "'synapse'"] {
        assert!(
            roles.contains(&format!("name: {container}\n")),
            "{container}"
        );
    }
    // The scopes are the resources of the estate.
    assert!(roles.contains("'Microsoft.EventHub/namespaces/eventhubs@"));
    assert!(roles.contains("name: eventHubName"));
    assert!(roles.contains("name: lakeAccountName"));
    assert!(roles.contains("name: hostAccountName"));
}

#[test]
fn no_secret_is_in_the_templates_or_their_outputs() {
    let files = bicep_files();
    for (file, raw) in &files {
        let code = without_comments(raw);
        let lower = code.to_lowercase();
        for forbidden in [
            "accountkey=",
            "sharedaccesskey",
            "sharedaccesssignature",
            "listkeys(",
            "listconnectionstrings(",
            "listaccountsas(",
            "listservicesas(",
            "@secure()",
            "administratorloginpassword",
            "primarykey",
            "primaryconnectionstring",
        ] {
            assert!(!lower.contains(forbidden), "{file} contains {forbidden:?}");
        }
        for line in code.lines() {
            let l = line.to_lowercase();
            assert!(
                !(l.contains("password") && l.contains(':') && l.contains('\'')),
                "{file}: a password literal: {line:?}"
            );
            let t = l.trim_start();
            if t.starts_with("output ") {
                for word in [
                    "key",
                    "secret",
                    "password",
                    "connectionstring",
                    "sas",
                    "token",
                ] {
                    assert!(
                        !t.contains(word),
                        "{file}: an output that may carry a secret: {line:?}"
                    );
                }
            }
        }
    }
    // Local (key) authentication is off wherever a service has it.
    let storage = without_comments(&bicep_file(&files, "bicep/modules/storage.bicep"));
    assert_eq!(
        storage.matches("allowSharedKeyAccess: false").count(),
        2,
        "both storage accounts"
    );
    assert!(!storage.contains("allowSharedKeyAccess: true"));
    let eventhubs = without_comments(&bicep_file(&files, "bicep/modules/eventhubs.bicep"));
    assert!(
        eventhubs.contains("disableLocalAuth: true"),
        "Event Hubs SAS keys off"
    );
    let monitoring = without_comments(&bicep_file(&files, "bicep/modules/monitoring.bicep"));
    assert!(
        monitoring.contains("DisableLocalAuth: true"),
        "Application Insights local auth off"
    );
    let sql = without_comments(&bicep_file(&files, "bicep/modules/sql.bicep"));
    assert!(
        sql.contains("azureADOnlyAuthentication: true"),
        "Azure SQL Entra-only"
    );
    assert!(
        !sql.contains("administratorLogin:"),
        "Azure SQL must have no SQL login"
    );
    let synapse = without_comments(&bicep_file(&files, "bicep/modules/synapse.bicep"));
    assert!(
        synapse.contains("azureADOnlyAuthentication: true"),
        "Synapse Entra-only"
    );
    let app = without_comments(&bicep_file(&files, "bicep/modules/functionapp.bicep"));
    assert!(
        !app.contains("WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"),
        "Azure Files needs a key"
    );
    assert!(
        app.contains("type: 'SystemAssignedIdentity'"),
        "deployment storage with the identity"
    );
}

#[test]
fn the_deploy_guide_reads_only_outputs_the_template_has() {
    let files = bicep_files();
    let main = bicep_file(&files, "bicep/main.bicep");
    let outputs: Vec<&str> = main
        .lines()
        .filter_map(|l| l.strip_prefix("output "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for needed in [
        "functionAppName",
        "functionAppHostName",
        "sqlServerFqdn",
        "sqlDatabaseName",
        "synapseServerlessEndpoint",
        "lakeUrl",
        "eventHubsFullyQualifiedNamespace",
    ] {
        assert!(
            outputs.contains(&needed),
            "main.bicep has no output {needed}"
        );
    }
    let guide = fs::read_to_string(repo().join("docs/DEPLOY.md")).expect("docs/DEPLOY.md");
    let mut used = 0;
    for piece in guide.split("$(out ").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            outputs.contains(&name.as_str()),
            "docs/DEPLOY.md reads output {name:?}, which main.bicep lacks"
        );
        used += 1;
    }
    assert!(
        used > 0,
        "docs/DEPLOY.md reads no deployment output with $(out NAME)"
    );
}

/// One entry of a zip's central directory.
#[derive(Debug)]
struct ZipEntry {
    /// High byte of "version made by": 3 is Unix (mode bits in the external attributes).
    made_by_os: u8,
    mode: u32,
    size: u64,
}

/// The central directory of a zip file, read by hand (no zip crate in the project).
fn zip_entries(bytes: &[u8]) -> BTreeMap<String, ZipEntry> {
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    // End of central directory: signature PK\5\6, within the last 64 KiB + 22 bytes.
    let floor = bytes.len().saturating_sub(22 + 65_535);
    let eocd = (floor..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&i| bytes[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("end of central directory record");
    let count = u16_at(eocd + 10);
    let mut at = u32_at(eocd + 16) as usize;
    let mut entries = BTreeMap::new();
    for _ in 0..count {
        assert_eq!(
            bytes[at..at + 4],
            [0x50, 0x4b, 0x01, 0x02],
            "central directory header at {at}"
        );
        let made_by_os = bytes[at + 5];
        let size = u32_at(at + 24) as u64;
        let name_len = u16_at(at + 28);
        let extra_len = u16_at(at + 30);
        let comment_len = u16_at(at + 32);
        let external = u32_at(at + 38);
        let name =
            String::from_utf8(bytes[at + 46..at + 46 + name_len].to_vec()).expect("UTF-8 name");
        entries.insert(
            name,
            ZipEntry {
                made_by_os,
                mode: external >> 16,
                size,
            },
        );
        at += 46 + name_len + extra_len + comment_len;
    }
    entries
}

#[test]
fn the_package_has_the_layout_the_functions_host_runs() {
    let binary = Path::new(env!("CARGO_BIN_EXE_pizza-pipeline"));
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = dir.path().join("app.zip");
    let output = Command::new("bash")
        .arg(".ci/package")
        .arg("--binary")
        .arg(binary)
        .arg("--out")
        .arg(&zip)
        .current_dir(repo())
        .output()
        .expect("bash .ci/package runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        ".ci/package failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&zip.display().to_string()),
        "the zip's path is printed: {stdout}"
    );
    assert!(
        stdout.contains("bytes"),
        "the zip's size is printed: {stdout}"
    );

    let entries = zip_entries(&fs::read(&zip).expect("the zip"));
    let names: Vec<&String> = entries.keys().collect();
    for name in &names {
        assert!(
            !name.starts_with('/') && !name.contains("..") && !name.contains('\\'),
            "unsafe entry name {name:?}"
        );
        assert!(
            !name.starts_with("target/") && !name.contains(".git/"),
            "stray entry {name:?}"
        );
    }

    // host.json at the root, and the handler it names, executable.
    assert!(
        entries.contains_key("host.json"),
        "host.json at the root: {names:?}"
    );
    let host: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(repo().join("host.json")).expect("host.json"))
            .expect("JSON");
    let handler = host["customHandler"]["description"]["defaultExecutablePath"]
        .as_str()
        .expect("customHandler.description.defaultExecutablePath");
    assert_eq!(handler, "pizza-pipeline");
    let exe = entries
        .get(handler)
        .unwrap_or_else(|| panic!("{handler} at the root: {names:?}"));
    assert_eq!(exe.made_by_os, 3, "Unix attributes, so the mode bits count");
    assert_eq!(exe.mode & 0o170000, 0o100000, "a regular file");
    assert_eq!(exe.mode & 0o111, 0o111, "executable: mode {:o}", exe.mode);
    assert_eq!(
        exe.size,
        fs::metadata(binary).expect("binary").len(),
        "the binary, whole"
    );

    // One folder per function at the root (the host discovers functions there), each with
    // this repository's functions/<name>/function.json.
    let mut functions = 0;
    for entry in fs::read_dir(repo().join("functions")).expect("functions/") {
        let path = entry.expect("entry").path();
        let json = path.join("function.json");
        if !json.is_file() {
            continue;
        }
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let packaged = entries
            .get(&format!("{name}/function.json"))
            .unwrap_or_else(|| panic!("{name}/function.json at the zip root: {names:?}"));
        assert_eq!(
            packaged.size,
            fs::metadata(&json).expect("function.json").len(),
            "{name}"
        );
        functions += 1;
    }
    assert!(
        functions >= 3,
        "ingest_order, enrich_orders, build_state_summary"
    );

    // The SQL scripts and the census reference.
    for folder in ["sql/synapse", "sql/azure_sql"] {
        let mut scripts = 0;
        for entry in fs::read_dir(repo().join(folder)).expect(folder) {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "sql") {
                let name = format!(
                    "{folder}/{}",
                    path.file_name().expect("name").to_string_lossy()
                );
                assert!(entries.contains_key(&name), "{name} in the zip: {names:?}");
                scripts += 1;
            }
        }
        assert!(scripts > 0, "{folder} has scripts");
    }
    let csv = entries
        .get("data/census/adult_population_by_state.csv")
        .unwrap_or_else(|| panic!("data/census/adult_population_by_state.csv: {names:?}"));
    assert_eq!(
        csv.size,
        fs::metadata(repo().join("data/census/adult_population_by_state.csv"))
            .expect("csv")
            .len()
    );
}

#[test]
fn azure_sql_is_pinned_to_the_proxy_connection_policy() {
    let files = bicep_files();
    let sql = without_comments(&bicep_file(&files, "bicep/modules/sql.bicep"));
    let policy = resource_blocks(&sql)
        .into_iter()
        .find(|block| block.contains("Microsoft.Sql/servers/connectionPolicies@"))
        .expect("sql.bicep declares the server's connection policy");
    assert!(policy.contains("name: 'default'"), "{policy}");
    assert!(
        policy.contains("connectionType: 'Proxy'"),
        "Proxy, not Redirect: the handler's TDS login is proven through the gateway only\n{policy}"
    );
}

/// The lines the log alerts look for, as `var <name> = '<line>'` in alerts.bicep.
fn alert_lines(alerts: &str) -> Vec<(String, String)> {
    alerts
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("var ")?;
            let (name, value) = rest.split_once(" = '")?;
            name.ends_with("Line")
                .then(|| (name.to_string(), value.trim_end_matches('\'').to_string()))
        })
        .collect()
}

#[test]
fn every_alert_is_wired_tied_to_what_the_handler_writes_and_explained_to_operators() {
    let files = bicep_files();
    let alerts = bicep_file(&files, "bicep/modules/alerts.bicep");
    let main = without_comments(&bicep_file(&files, "bicep/main.bicep"));
    assert!(
        main.contains("module alerts 'modules/alerts.bicep'"),
        "main.bicep deploys the alerts"
    );
    assert!(
        main.contains("param alertEmail string"),
        "an e-mail parameter"
    );
    assert!(main.contains("alertEmail: alertEmail"));
    let code = without_comments(&alerts);
    assert!(
        code.contains("Microsoft.Insights/actionGroups@")
            && code.contains("emailAddress: alertEmail"),
        "an action group that e-mails alertEmail"
    );

    // Each line a log rule looks for is written, word for word, by the handler.
    let handler: String = [
        "src/functions/enrich_orders.rs",
        "src/functions/build_state_summary.rs",
        "src/functions/verify_state_summary.rs",
        "src/stream/backlog.rs",
    ]
    .iter()
    .map(|f| fs::read_to_string(repo().join(f)).expect(f))
    .collect();
    let lines = alert_lines(&alerts);
    assert_eq!(lines.len(), 7, "{lines:?}");
    for (name, line) in &lines {
        assert!(
            handler.contains(&format!("\"{line}")),
            "alerts.bicep {name} looks for {line:?}, which no handler log line starts with"
        );
    }

    // The breaches operators must hear about, each a rule, each in the operations guide.
    let operations = fs::read_to_string(repo().join("docs/OPERATIONS.md")).expect("OPERATIONS.md");
    for rule in [
        "enrich-failures",
        "enrich-lag",
        "eventhub-not-consumed",
        "report-not-built",
        "report-verification-failed",
        "events-quarantined",
        "stream-backlog",
        "order-api-5xx",
    ] {
        assert!(
            code.contains(&format!("'{rule}'")) || code.contains(&format!("-{rule}'")),
            "alerts.bicep has no rule {rule}"
        );
        assert!(
            operations.contains(&format!("`{rule}`")),
            "docs/OPERATIONS.md does not explain the alert {rule}"
        );
    }
    assert!(code.contains("Microsoft.Insights/scheduledQueryRules@"));
    assert!(code.contains("Microsoft.Insights/metricAlerts@"));
    // The report alert reads the local clock of the report time zone, not UTC.
    assert!(code.contains("datetime_utc_to_local") && code.contains("reportTimeZone"));
    // host.json keeps every Request and Trace: a sampled-out line would be a false alarm.
    let host: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(repo().join("host.json")).unwrap()).unwrap();
    let excluded = host["logging"]["applicationInsights"]["samplingSettings"]["excludedTypes"]
        .as_str()
        .unwrap_or_default();
    for kind in ["Request", "Trace"] {
        assert!(
            excluded.split(';').any(|k| k == kind),
            "host.json samples {kind}s: {excluded}"
        );
    }
}

#[test]
fn the_power_bi_connection_file_names_the_database_that_holds_the_report_view() {
    let pbids: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(repo().join("docs/powerbi/state_top_pizzas.pbids")).expect("pbids"),
    )
    .expect("JSON");
    let address = &pbids["connections"][0]["details"]["address"];
    let database = address["database"].as_str().expect("a database");
    // The Synapse scripts create it, and the view lives there.
    let create = fs::read_to_string(repo().join("sql/synapse/01_database.sql")).expect("script");
    assert!(
        create.contains(&format!("CREATE DATABASE {database} ")),
        "sql/synapse/01_database.sql does not create {database}"
    );
    let views: String = fs::read_dir(repo().join("sql/synapse"))
        .expect("sql/synapse")
        .map(|e| fs::read_to_string(e.expect("entry").path()).expect("script"))
        .collect();
    assert!(views.contains("dbo.state_top_pizzas"), "the report view");
    // It is the handler's SYNAPSE_DATABASE default, not the customer database.
    let default = SETTINGS
        .iter()
        .find(|s| s.name == "SYNAPSE_DATABASE")
        .and_then(|s| s.default)
        .expect("SYNAPSE_DATABASE has a default");
    assert_eq!(database, default);
    let customers_db = SETTINGS
        .iter()
        .find(|s| s.name == "AZURE_SQL_DATABASE")
        .unwrap();
    assert!(customers_db.default.is_none_or(|d| d != database));
    assert!(
        address["server"]
            .as_str()
            .is_some_and(|s| s.ends_with("-ondemand.sql.azuresynapse.net")),
        "the serverless SQL endpoint"
    );
}
