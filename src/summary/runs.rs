//! Report runs in the lake: each build writes its report as one Parquet file into a
//! folder of its own, `reports/state_top_pizzas/run=<run_id>/state_top_pizzas.parquet`,
//! which the warehouse then publishes; in Azure the books of the same build go beside it
//! in `reports/ledger/run=<run_id>/ledger.parquet`. The newest runs are kept (a query
//! that began before the switch still reads the previous one); older ones are removed.

use crate::lake::LakePath;
use chrono::{DateTime, Utc};

pub use crate::lake::paths::{LEDGER_FILE_NAME, LEDGER_RUNS, REPORT_FILE_NAME, REPORT_RUNS};
/// Every table of runs, for the clean-up.
pub const RUN_TABLES: [&str; 2] = [REPORT_RUNS, LEDGER_RUNS];
/// Runs whose files are kept: the newest, and the one before it for queries that
/// started before the switch.
pub const RUNS_KEPT: usize = 2;

/// The id of one build: its folder name and, in Synapse, its table's suffix
/// (`20261125T020000123456Z`): only `[0-9A-Z]`, one fixed width, so ids sort by time.
pub fn run_id(refreshed_at: DateTime<Utc>) -> String {
    refreshed_at.format("%Y%m%dT%H%M%S%6fZ").to_string()
}

/// The lake path of a run's report file.
pub fn run_file(run_id: &str) -> String {
    LakePath::report_run(run_id).into()
}

/// The lake path of a run's books file.
pub fn ledger_file(run_id: &str) -> String {
    LakePath::ledger_run(run_id).into()
}

/// The files of `table`'s runs older than its newest `keep` runs.
pub fn stale_run_files(table: &str, files: &[String], keep: usize) -> Vec<String> {
    // A run's files sit below its folder; the folder's own entry (which ADLS Gen2 lists,
    // and keeps once emptied) is not a file and is never deleted here.
    let run_of = |file: &str| -> Option<String> {
        let rest = file.strip_prefix(table)?.strip_prefix("/run=")?;
        let (run, name) = rest.split_once('/')?;
        (!run.is_empty() && !name.is_empty() && !name.ends_with('/')).then(|| run.to_string())
    };
    let runs: std::collections::BTreeSet<String> = files.iter().filter_map(|f| run_of(f)).collect();
    let stale: Vec<&String> = runs.iter().rev().skip(keep).collect();
    files
        .iter()
        .filter(|f| run_of(f).is_some_and(|run| stale.contains(&&run)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_run_is_named_by_its_build_time() {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap();
        assert_eq!(run_id(at), "20261125T020000000000Z");
        assert_eq!(
            run_file(&run_id(at)),
            "reports/state_top_pizzas/run=20261125T020000000000Z/state_top_pizzas.parquet"
        );
    }

    #[test]
    fn only_runs_older_than_the_last_two_are_stale() {
        let files: Vec<String> = [
            "reports/state_top_pizzas/run=20261123T020000000000Z/part-1.parquet",
            "reports/state_top_pizzas/run=20261123T020000000000Z/part-2.parquet",
            "reports/state_top_pizzas/run=20261124T020000000000Z/part-1.parquet",
            "reports/state_top_pizzas/run=20261125T020000000000Z/part-1.parquet",
            "reports/other/run=20200101T000000000000Z/x.parquet",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(stale_run_files(REPORT_RUNS, &files, 2), files[..2].to_vec());
        assert!(stale_run_files(REPORT_RUNS, &files[2..4], 2).is_empty());
    }

    #[test]
    fn directory_entries_of_an_adls_listing_are_never_stale_files() {
        // ADLS Gen2 lists each folder as an entry of its own, and keeps an emptied one.
        let runs = REPORT_RUNS;
        let listing: Vec<String> = [
            runs.to_string(),
            format!("{runs}/run=20261122T020000000000Z"),
            format!("{runs}/run=20261123T020000000000Z"),
            format!("{runs}/run=20261123T020000000000Z/part-1.parquet"),
            format!("{runs}/run=20261124T020000000000Z"),
            format!("{runs}/run=20261124T020000000000Z/part-1.parquet"),
            format!("{runs}/run=20261125T020000000000Z"),
            format!("{runs}/run=20261125T020000000000Z/part-1.parquet"),
            format!("{runs}/run=20261126T020000000000Z/"),
        ]
        .to_vec();
        assert_eq!(
            stale_run_files(REPORT_RUNS, &listing, 2),
            [format!("{runs}/run=20261123T020000000000Z/part-1.parquet")]
        );
    }
}
