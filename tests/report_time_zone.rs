//! The report time zone, through the real binary: without `--as-of`, `refresh` builds the
//! nightly window, which ends at midnight at the start of today in the report time zone,
//! and that zone is `UTC` unless `--report-time-zone` (or `PIZZA_REPORT_TIME_ZONE`) says
//! otherwise.

mod common;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use common::{Dev, BIN};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `pizza-pipeline refresh --data-dir DIR EXTRA…`, with no time zone in the environment.
fn refresh(data_dir: &Path, extra: &[&str]) -> Value {
    let output = Command::new(BIN)
        .args(["refresh", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env_remove("PIZZA_REPORT_TIME_ZONE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "refresh {extra:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
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
