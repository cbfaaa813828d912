//! `pizza-pipeline serve`, the custom handler as the Functions host starts it: refused
//! clearly without its settings; with them, it listens on FUNCTIONS_CUSTOMHANDLER_PORT,
//! validates orders before any Azure service is involved, and answers 503 (nothing
//! accepted) when Event Hubs cannot be reached.

use crate::common::BIN;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn serve() -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir());
    command
}

#[test]
fn an_incomplete_settings_table_is_refused_naming_each_setting() {
    let output = serve()
        .env("EVENTHUB_NAME", "orders")
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", "7071")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for missing in [
        "EventHubConnection__fullyQualifiedNamespace",
        "AZURE_SQL_SERVER",
        "AZURE_SQL_DATABASE",
        "LAKE_URL",
        "SYNAPSE_SQL_ENDPOINT",
    ] {
        assert!(stderr.contains(missing), "{missing} named in:\n{stderr}");
    }
    assert!(
        !stderr.contains("  - EVENTHUB_NAME:"),
        "a present setting is not named:\n{stderr}"
    );
    assert!(stderr.contains("docs/AZURE.md"), "{stderr}");

    let output = serve()
        .envs(crate::common::SERVE_SETTINGS)
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", "not-a-port")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"not-a-port\" is not a port number"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_table_serves_the_functions() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = serve()
        .envs(crate::common::SERVE_SETTINGS)
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("serve exited with {status}:\n{stderr}");
        }
        assert!(Instant::now() < deadline, "serve did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let http = crate::common::client();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");

    crate::common::assert_ingest_without_event_hubs(&http, &url("")).await;

    // An invocation that cannot be read is kept raw in the lake's quarantine and then
    // acknowledged; with the lake unreachable it cannot be kept, so it fails (and the
    // host sends it again): it is never acknowledged unseen.
    let garbage = http
        .post(url("/enrich_orders"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 500);
    let answer: serde_json::Value = garbage.json().await.unwrap();
    assert!(
        answer["Logs"]
            .to_string()
            .contains("could not be kept in quarantine"),
        "{answer}"
    );

    crate::common::sigterm(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "serve stops cleanly on SIGTERM: {status}");

    // The host reads stdout and stderr line by line and takes stderr for errors: plain
    // text, information on stdout, warnings and errors on stderr.
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains('\u{1b}'), "escape bytes on {name}: {text:?}");
    }
    assert!(stdout.contains("custom handler ready"), "stdout:\n{stdout}");
    assert!(!stdout.contains(" ERROR "), "stdout:\n{stdout}");
    assert!(
        stderr.contains(" ERROR ") && stderr.contains("unreadable invocation"),
        "stderr:\n{stderr}"
    );
    assert!(!stderr.contains(" INFO "), "stderr:\n{stderr}");
}
