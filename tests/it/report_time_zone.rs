//! The report time zone, through the real binary: without `--as-of`, `refresh` builds the
//! nightly window, which ends at midnight at the start of today in the report time zone,
//! and that zone is `UTC` unless `--report-time-zone` (or `PIZZA_REPORT_TIME_ZONE`) says
//! otherwise.

use crate::common::{Dev, BIN};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `pizza-pipeline refresh --verify --data-dir DIR EXTRA…`, with no report time zone in
/// the environment, on a machine whose clock is UTC.
fn refresh(data_dir: &Path, extra: &[&str]) -> Value {
    let extra = [&["--verify"], extra].concat();
    serde_json::from_str(&run_on_a_machine_in("UTC", "refresh", data_dir, &extra)).unwrap()
}

/// Midnight at the start of `now`'s day in `tz`, in UTC, written as the report writes it.
fn local_midnight(now: DateTime<Utc>, tz: Tz) -> String {
    now.with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(tz)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[test]
fn the_nightly_window_ends_at_local_midnight_and_the_zone_is_utc_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    Dev::start(&data_dir, &[]).stop(); // a data dir as a first `dev` leaves it

    let cases: [(&[&str], Tz); 2] = [
        (&[], Tz::UTC),
        (
            &["--report-time-zone", "America/Chicago"],
            Tz::America__Chicago,
        ),
    ];
    for (extra, tz) in cases {
        let before = Utc::now();
        let built = refresh(&data_dir, extra);
        let after = Utc::now();
        let end = built["window_end"].as_str().unwrap();
        assert!(
            end == local_midnight(before, tz) || end == local_midnight(after, tz),
            "{tz:?}: {built}"
        );
    }
}

/// `pizza-pipeline CMD --data-dir DIR EXTRA…` on a machine whose clock is set to `tz` (the
/// `TZ` variable, which DuckDB's ICU extension reads for its session time zone).
fn run_on_a_machine_in(tz: &str, command: &str, data_dir: &Path, extra: &[&str]) -> String {
    let output = Command::new(BIN)
        .args([command, "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("TZ", tz)
        .env_remove("PIZZA_REPORT_TIME_ZONE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{command} {extra:?} in {tz} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_machine_clock_zone_changes_nothing_in_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lake = ["--orders", "3000", "--days", "20", "--end", "2026-11-25"];
    run_on_a_machine_in("UTC", "generate-lake", dir, &lake);

    // Built in Chicago: the window is the one asked for, to the microsecond, in UTC.
    let as_of = ["--as-of", "2026-11-25T00:00:00Z", "--verify"];
    let built: Value = serde_json::from_str(&run_on_a_machine_in(
        "America/Chicago",
        "refresh",
        dir,
        &as_of,
    ))
    .unwrap();
    assert_eq!(built["window_start"], "2025-11-25T00:00:00.000000Z");
    assert_eq!(built["window_end"], "2026-11-25T00:00:00.000000Z");
    assert_eq!(built["verified"], true);

    // Read in Chicago, in Tokyo and in UTC: the same rows, the same instants.
    let state = ["--state", "TX"];
    let in_utc = run_on_a_machine_in("UTC", "report", dir, &state);
    let rows: Value = serde_json::from_str(&in_utc).unwrap();
    assert!(
        !rows.as_array().unwrap().is_empty(),
        "TX has sales: {in_utc}"
    );
    assert_eq!(rows[0]["window_start"], "2025-11-25T00:00:00.000000Z");
    for tz in ["America/Chicago", "Asia/Tokyo"] {
        assert_eq!(
            run_on_a_machine_in(tz, "report", dir, &state),
            in_utc,
            "{tz}"
        );
    }
}
