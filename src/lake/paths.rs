//! Every path of the lake, made here and nowhere else: one [`LakePath`] constructor per
//! kind of file or folder, so the layout is read in one place and a path is never
//! spelled twice. Both lakes (the local folder, the ADLS Gen2 container) and every
//! engine (DuckDB, Synapse) read this layout.
//!
//! ```text
//! orders_enriched/order_date=D/p<partition>-<first>-<last>.parquet   landed batch
//! orders_enriched/order_date=D/compacted-<stamp>.parquet             compacted day
//! orders_daily/order_date=D/rollup-<stamp>.parquet                   its roll-up
//! orders_monthly/order_month=M/rollup-<fingerprint>.parquet          a month's roll-up
//! orders_superseded/order_date=D/superseded-<stamp>.parquet          repeated copies
//! quarantine/enrich/p<partition>-<first>-<last>.jsonl                set-aside events
//! quarantine/invocations/<function>/received_date=D/<hash>.body      unreadable invocations
//! reports/state_top_pizzas/run=<run_id>/state_top_pizzas.parquet     a build's report
//! reports/ledger/run=<run_id>/ledger.parquet                         a build's books (Azure)
//! ```

use chrono::NaiveDate;
use std::fmt;

/// The folder of the enriched orders, one `order_date=` folder per UTC order day.
pub const ORDERS_TABLE: &str = "orders_enriched";
/// The folder of the daily roll-ups.
pub const ROLLUP_TABLE: &str = "orders_daily";
/// The folder of the monthly roll-ups.
pub const MONTH_ROLLUP_TABLE: &str = "orders_monthly";
/// The folder of an earlier roll-up format, removed day by day.
pub const LEGACY_ROLLUP_TABLE: &str = "orders_daily_customers";
/// The folder of the repeated copies of orders (`super::repeats`).
pub const SUPERSEDED_TABLE: &str = "orders_superseded";
/// The folder of what was set aside: events that are not orders, unreadable invocations.
pub const QUARANTINE: &str = "quarantine";
/// Prefix of the file compaction writes for a day.
pub const COMPACTED_PREFIX: &str = "compacted-";
/// Prefix of a roll-up file; the rest of its name is its compacted file's.
pub const ROLLUP_PREFIX: &str = "rollup-";
/// Folder of the report runs (one `run=<run_id>/` folder per build).
pub const REPORT_RUNS: &str = "reports/state_top_pizzas";
/// The report file's name inside its run folder.
pub const REPORT_FILE_NAME: &str = "state_top_pizzas.parquet";
/// Folder of the books' runs (Azure), one `run=<run_id>/` folder per build.
pub const LEDGER_RUNS: &str = "reports/ledger";
/// The books file's name inside its run folder.
pub const LEDGER_FILE_NAME: &str = "ledger.parquet";

/// A path in the lake (a file, or a folder without its trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LakePath(String);

impl std::ops::Deref for LakePath {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for LakePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LakePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<LakePath> for String {
    fn from(path: LakePath) -> String {
        path.0
    }
}

impl PartialEq<str> for LakePath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for LakePath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

fn day_folder(table: &str, day: NaiveDate) -> String {
    format!("{table}/order_date={}", day.format("%Y-%m-%d"))
}

impl LakePath {
    /// The folder to list for the files under this path (`…/`).
    pub fn folder(&self) -> String {
        format!("{}/", self.0)
    }

    /// Folder of one day's enriched orders.
    pub fn day(day: NaiveDate) -> LakePath {
        LakePath(day_folder(ORDERS_TABLE, day))
    }

    /// The file a stream batch lands in for one day. Derived from the batch's stream
    /// range only, so a retried batch rewrites the same file instead of adding a copy.
    pub fn batch(day: NaiveDate, partition: &str, first_seq: i64, last_seq: i64) -> LakePath {
        LakePath(format!(
            "{}/p{partition}-{first_seq:020}-{last_seq:020}.parquet",
            day_folder(ORDERS_TABLE, day)
        ))
    }

    /// The file compaction writes for a day, named by when it was written (`stamp`).
    pub fn compacted(day: NaiveDate, stamp: &str) -> LakePath {
        LakePath(format!(
            "{}/{COMPACTED_PREFIX}{stamp}.parquet",
            day_folder(ORDERS_TABLE, day)
        ))
    }

    /// Folder of one day's roll-up.
    pub fn rollup_dir(day: NaiveDate) -> LakePath {
        LakePath(day_folder(ROLLUP_TABLE, day))
    }

    /// Folder of one UTC month's roll-ups (`month`: any day of it).
    pub fn month_rollup_dir(month: NaiveDate) -> LakePath {
        LakePath(format!(
            "{MONTH_ROLLUP_TABLE}/order_month={}",
            month.format("%Y-%m")
        ))
    }

    /// The roll-up of a UTC month made from `compacted`, the compacted files of its days
    /// (sorted): named by their fingerprint, so a month whose days are compacted again
    /// (late orders, a re-landed batch) has a roll-up of another name, and the old one is
    /// stale by its name alone.
    pub fn month_rollup(month: NaiveDate, compacted: &[&str]) -> LakePath {
        LakePath(format!(
            "{}/{ROLLUP_PREFIX}{:016x}.parquet",
            Self::month_rollup_dir(month),
            fingerprint(compacted)
        ))
    }

    /// Folder of one day's roll-up in the earlier format.
    pub fn legacy_rollup_dir(day: NaiveDate) -> LakePath {
        LakePath(day_folder(LEGACY_ROLLUP_TABLE, day))
    }

    /// The roll-up that belongs to `compacted` (the path of a compacted file).
    pub fn rollup_for(compacted: &str) -> Option<LakePath> {
        let day = day_of(compacted)?;
        let name = compacted.rsplit('/').next()?;
        let stamp = name.strip_prefix(COMPACTED_PREFIX)?;
        Some(LakePath(format!(
            "{}/{ROLLUP_PREFIX}{stamp}",
            day_folder(ROLLUP_TABLE, day)
        )))
    }

    /// Folder of one day's superseded orders.
    pub fn superseded_dir(day: NaiveDate) -> LakePath {
        LakePath(day_folder(SUPERSEDED_TABLE, day))
    }

    /// The file of one day's superseded orders, written with its compacted file.
    pub fn superseded(day: NaiveDate, stamp: &str) -> LakePath {
        LakePath(format!(
            "{}/superseded-{stamp}.parquet",
            day_folder(SUPERSEDED_TABLE, day)
        ))
    }

    /// Folder of the events set aside at enrichment.
    pub fn quarantined_events_dir() -> LakePath {
        LakePath(format!("{QUARANTINE}/enrich"))
    }

    /// The events of one stream batch set aside at enrichment.
    pub fn quarantined_events(partition: &str, first_seq: i64, last_seq: i64) -> LakePath {
        LakePath(format!(
            "{QUARANTINE}/enrich/p{partition}-{first_seq:020}-{last_seq:020}.jsonl"
        ))
    }

    /// Where an invocation the handler could not read at all is kept, raw: named by the
    /// day it came and a hash of its bytes, so the same invocation sent twice is kept once.
    pub fn quarantined_invocation(function: &str, day: NaiveDate, body: &[u8]) -> LakePath {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut hasher);
        LakePath(format!(
            "{QUARANTINE}/invocations/{function}/received_date={}/{:016x}.body",
            day.format("%Y-%m-%d"),
            hasher.finish()
        ))
    }

    /// A build's report file.
    pub fn report_run(run_id: &str) -> LakePath {
        LakePath(format!("{REPORT_RUNS}/run={run_id}/{REPORT_FILE_NAME}"))
    }

    /// A build's books file.
    pub fn ledger_run(run_id: &str) -> LakePath {
        LakePath(format!("{LEDGER_RUNS}/run={run_id}/{LEDGER_FILE_NAME}"))
    }
}

/// FNV-1a (64-bit) of the names, each ended by a newline: stable across builds and
/// platforms, which a month roll-up's name must be, as both hosts read it.
fn fingerprint(names: &[&str]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = fnv::FnvHasher::default();
    for name in names {
        hasher.write(name.as_bytes());
        hasher.write(b"\n");
    }
    hasher.finish()
}

/// The UTC order day a path is under (`…/order_date=YYYY-MM-DD/…`).
pub fn day_of(path: &str) -> Option<NaiveDate> {
    let start = path.find("order_date=")? + "order_date=".len();
    NaiveDate::parse_from_str(path.get(start..start + 10)?, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_roll_up_is_named_by_its_days_compacted_files() {
        let month = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        let days = ["a/compacted-1.parquet", "b/compacted-2.parquet"];
        let name = LakePath::month_rollup(month, &days);
        assert_eq!(name, LakePath::month_rollup(month, &days), "deterministic");
        // FNV-1a's published value for the empty input: the hash is the standard one.
        assert_eq!(fingerprint(&[]), 0xcbf2_9ce4_8422_2325);
        assert_ne!(
            name,
            LakePath::month_rollup(month, &["a/compacted-1.parquet", "b/compacted-3.parquet"]),
            "a day compacted again names another roll-up"
        );
        assert_ne!(
            name,
            LakePath::month_rollup(month, &["a/compacted-1.parquet"]),
            "a day fewer names another roll-up"
        );
        assert!(name.starts_with("orders_monthly/order_month=2026-01/rollup-"));
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            LakePath::batch(day, "7", 1, 20),
            "orders_enriched/order_date=2026-03-01/p7-00000000000000000001-00000000000000000020.parquet"
        );
        let compacted = LakePath::compacted(day, "20260302T020000000000");
        assert_eq!(
            compacted,
            "orders_enriched/order_date=2026-03-01/compacted-20260302T020000000000.parquet"
        );
        assert_eq!(
            LakePath::rollup_for(&compacted).unwrap(),
            "orders_daily/order_date=2026-03-01/rollup-20260302T020000000000.parquet"
        );
        assert_eq!(
            LakePath::rollup_for("orders_enriched/order_date=2026-03-01/p1-2-3.parquet"),
            None
        );
        let month = LakePath::month_rollup(day, &[&compacted]);
        assert!(
            month.starts_with("orders_monthly/order_month=2026-03/rollup-")
                && month.ends_with(".parquet"),
            "{month}"
        );
        assert_eq!(
            LakePath::day(day).folder(),
            "orders_enriched/order_date=2026-03-01/"
        );
        assert_eq!(day_of(&LakePath::superseded(day, "x")), Some(day));
        assert_eq!(
            LakePath::report_run("20261125T020000000000Z"),
            "reports/state_top_pizzas/run=20261125T020000000000Z/state_top_pizzas.parquet"
        );
    }
}
