//! The monthly report roll-up: one UTC month of daily roll-ups in one file, so that a
//! nightly build over a year reads 11 month files and the days of the two months the
//! window cuts (about 30) instead of 365 day files, and unions as many customer sets per
//! (state, pizza type), about 40 instead of 365.
//!
//! A month file has the daily roll-up's schema and one row per (customer found, state,
//! pizza type) with the month's sums and the month's customers as one Roaring treemap.
//! The books count per day, so its metadata also lists each day: its compacted file, its
//! repeated copies, and its orders by state (of found customers), of unknown customers
//! and generated. A day read through its month therefore carries only those counts
//! (groups per customer found and state, without a pizza type); the month's rows carry
//! the report's sums.
//!
//! A month's roll-up is named by the compacted files of its days
//! ([`LakePath::month_rollup`]) and lists them in its metadata: when any day of the month
//! is compacted again (late orders, a re-landed batch), the file of the new name is
//! missing, the build reads that month day by day and writes the new file. Reading only
//! ever trusts a month file whose listed days are exactly the month's compacted files
//! now. The nightly build writes the month files it lacks (`crate::summary::build`).

use super::day_summary::{DaySource, DaySummary};
use super::parquet::write_parquet_with_metadata;
use super::paths::{LakePath, MONTH_ROLLUP_TABLE};
use super::repeats::Repeats;
use super::rollup::{CustomerSet, DayRollup, GroupKey, GroupTotals, RollupFile, UnionCounter};
use super::{DayFiles, LakeError, LakeStore};
use bytes::Bytes;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

/// The month roll-up format, in each file's key-value metadata: a file of another format
/// is not read, and its month is read day by day and written again.
pub const MONTH_FORMAT_KEY: &str = "pizza_pipeline.month_rollup_format";
pub const MONTH_FORMAT: &str = "1";
/// The month's days, as JSON: each day, its compacted file, its repeated copies and its
/// order counts ([`MonthDay`]).
const MONTH_DAYS_KEY: &str = "pizza_pipeline.month_days";

/// One day of a month roll-up, as its metadata lists it: what the books count.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct MonthDay {
    day: NaiveDate,
    compacted: String,
    duplicates: i64,
    conflicts: i64,
    generated_orders: i64,
    unknown_customer_orders: i64,
    /// Orders of found customers without a state.
    stateless_orders: i64,
    /// Orders of found customers, by state.
    orders_by_state: BTreeMap<String, i64>,
}

impl MonthDay {
    fn of(day: &DaySummary) -> MonthDay {
        let mut listed = MonthDay {
            day: day.day,
            compacted: day.order_files[0].clone(),
            duplicates: day.whole.repeats.duplicates,
            conflicts: day.whole.repeats.conflicts,
            generated_orders: 0,
            unknown_customer_orders: 0,
            stateless_orders: 0,
            orders_by_state: BTreeMap::new(),
        };
        for (key, totals) in &day.whole.groups {
            listed.generated_orders += totals.generated_orders;
            match (&key.state, key.customer_found) {
                (_, false) => listed.unknown_customer_orders += totals.orders,
                (None, true) => listed.stateless_orders += totals.orders,
                (Some(state), true) => {
                    *listed.orders_by_state.entry(state.clone()).or_default() += totals.orders
                }
            }
        }
        listed
    }

    /// The day as the books read it: its orders per customer found and state, under an
    /// empty pizza type, and the generated ones on the first group.
    fn summary(self) -> DaySummary {
        let group = |customer_found, state, orders| {
            let key = GroupKey {
                customer_found,
                state,
                pizza_type: String::new(),
            };
            (key, orders_only(orders))
        };
        let mut groups = vec![group(false, None, self.unknown_customer_orders)];
        groups[0].1.generated_orders = self.generated_orders;
        groups.push(group(true, None, self.stateless_orders));
        for (state, orders) in self.orders_by_state {
            groups.push(group(true, Some(state), orders));
        }
        DaySummary {
            day: self.day,
            source: DaySource::MonthRollup,
            whole: DayRollup {
                groups,
                repeats: Repeats {
                    duplicates: self.duplicates,
                    conflicts: self.conflicts,
                },
            },
            inside: None,
            order_files: vec![self.compacted],
            files_read: 0,
        }
    }
}

/// A month of the lake from its roll-up.
#[derive(Debug, Clone)]
pub struct MonthRollup {
    /// The month's first day.
    pub month: NaiveDate,
    /// Its days with orders, as the books read them ([`DaySource::MonthRollup`]: orders
    /// per customer found and state only).
    pub days: Vec<DaySummary>,
    /// The month's groups: sums and customers over the whole month.
    pub groups: Vec<(GroupKey, GroupTotals)>,
}

/// A month the build reads from its roll-up: the file, and the month's days now.
#[derive(Debug, Clone)]
pub struct MonthToRead {
    pub path: LakePath,
    pub days: Vec<DayFiles>,
}

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

/// The first day of the month after `day`'s.
fn next_month(day: NaiveDate) -> NaiveDate {
    month_of(month_of(day) + chrono::Duration::days(32))
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// Whether the UTC month of `month` lies wholly inside `range`.
pub fn month_inside(range: &Range<DateTime<Utc>>, month: NaiveDate) -> bool {
    let month = month_of(month);
    range.start <= midnight(month) && midnight(next_month(month)) <= range.end
}

/// The month roll-up files of the lake.
pub async fn month_rollup_files(lake: &dyn LakeStore) -> Result<BTreeSet<String>, LakeError> {
    Ok(lake.list(MONTH_ROLLUP_TABLE).await?.into_iter().collect())
}

/// The roll-up a month of `days` (its partitions, each compacted) has when fresh.
pub fn fresh_month_path(days: &[&DayFiles]) -> Option<LakePath> {
    let first = days.first()?;
    let compacted: Option<Vec<&str>> = days
        .iter()
        .map(|d| d.is_compacted().then(|| d.files[0].as_str()))
        .collect();
    Some(LakePath::month_rollup(first.day, &compacted?))
}

/// Splits `ready` days (compacted, with fresh daily roll-ups) into the months read from
/// their roll-up and the days read one by one. A month is read from its roll-up when it
/// lies wholly inside `range`, none of its days is in `stale`, and its fresh roll-up is
/// among `monthly`.
pub fn plan_months(
    range: &Range<DateTime<Utc>>,
    ready: Vec<DayFiles>,
    stale: &[DayFiles],
    monthly: &BTreeSet<String>,
) -> (Vec<MonthToRead>, Vec<DayFiles>) {
    let stale_months: BTreeSet<NaiveDate> = stale.iter().map(|d| month_of(d.day)).collect();
    let mut by_month: BTreeMap<NaiveDate, Vec<DayFiles>> = BTreeMap::new();
    for day in ready {
        by_month.entry(month_of(day.day)).or_default().push(day);
    }
    let (mut months, mut days) = (Vec::new(), Vec::new());
    for (month, month_days) in by_month {
        let path = (month_inside(range, month) && !stale_months.contains(&month))
            .then(|| fresh_month_path(&month_days.iter().collect::<Vec<_>>()))
            .flatten()
            .filter(|path| monthly.contains(&path[..]));
        match path {
            Some(path) => months.push(MonthToRead {
                path,
                days: month_days,
            }),
            None => days.extend(month_days),
        }
    }
    (months, days)
}

/// Reads a month's roll-up; `Ok(None)` when it is of another format or lists other days
/// than the month's compacted files now (the caller then reads the days one by one).
pub async fn read_month(
    lake: &dyn LakeStore,
    month: &MonthToRead,
) -> Result<Option<MonthRollup>, LakeError> {
    let bytes = lake.get(&month.path).await?;
    let path = month.path.clone();
    let rollup = tokio::task::spawn_blocking(move || MonthRollup::from_parquet(&path, bytes))
        .await
        .map_err(LakeError::task(
            "reading the month roll-up",
            month.path.to_string(),
        ))??;
    let now: Vec<(NaiveDate, &str)> = month
        .days
        .iter()
        .map(|d| (d.day, d.files[0].as_str()))
        .collect();
    Ok(rollup.filter(|r| {
        let listed: Vec<(NaiveDate, &str)> = r
            .days
            .iter()
            .map(|d| (d.day, d.order_files[0].as_str()))
            .collect();
        listed == now
    }))
}

/// Rolls `month` up from its days' summaries (each a whole compacted day, in day order)
/// and writes it ([`write_month`]).
pub async fn roll_up_month(
    lake: &dyn LakeStore,
    month: NaiveDate,
    days: Vec<DaySummary>,
) -> Result<(), LakeError> {
    let folder = LakePath::month_rollup_dir(month).to_string();
    let rollup = tokio::task::spawn_blocking(move || MonthRollup::from_days(month, &days))
        .await
        .map_err(LakeError::task("rolling the month up", folder))??;
    write_month(lake, rollup).await
}

/// Writes `rollup` as its month's roll-up, named by its days' compacted files, and
/// removes the month's older roll-ups. The caller holds the lake's compaction turn.
pub async fn write_month(lake: &dyn LakeStore, rollup: MonthRollup) -> Result<(), LakeError> {
    let compacted: Vec<&str> = rollup
        .days
        .iter()
        .map(|d| d.order_files[0].as_str())
        .collect();
    let path = LakePath::month_rollup(rollup.month, &compacted);
    let folder = LakePath::month_rollup_dir(rollup.month).folder();
    let bytes = tokio::task::spawn_blocking(move || rollup.to_parquet())
        .await
        .map_err(LakeError::task(
            "writing the month roll-up",
            path.to_string(),
        ))??;
    lake.put(&path, bytes).await?;
    for old in lake.list(&folder).await? {
        if old != path[..] {
            lake.delete(&old).await?;
        }
    }
    Ok(())
}

impl MonthRollup {
    /// The roll-up of a month from its days' summaries: each a whole compacted day
    /// (`order_files[0]` its compacted file), in day order.
    pub fn from_days(month: NaiveDate, days: &[DaySummary]) -> Result<MonthRollup, LakeError> {
        let mut parts: BTreeMap<&GroupKey, (GroupTotals, Vec<&CustomerSet>)> = BTreeMap::new();
        for day in days {
            for (key, totals) in &day.whole.groups {
                let (sums, sets) = parts
                    .entry(key)
                    .or_insert_with(|| (orders_only(0), Vec::new()));
                sums.orders += totals.orders;
                sums.generated_orders += totals.generated_orders;
                sums.pizzas += totals.pizzas;
                sums.gross_cents += totals.gross_cents;
                sets.push(&totals.customers);
            }
        }
        let mut union = UnionCounter::default();
        let mut groups = Vec::with_capacity(parts.len());
        for (key, (mut sums, sets)) in parts {
            union.clear();
            for set in sets {
                union
                    .add(set)
                    .map_err(|e| LakeError::format(first_file(days), e))?;
            }
            sums.customers = CustomerSet::Built(union.to_treemap());
            groups.push((key.clone(), sums));
        }
        Ok(MonthRollup {
            month: month_of(month),
            days: days.iter().map(|day| MonthDay::of(day).summary()).collect(),
            groups,
        })
    }

    /// The month roll-up as a Parquet file of the daily roll-up's schema, its days in its
    /// metadata.
    pub fn to_parquet(&self) -> Result<Bytes, LakeError> {
        let rows = DayRollup {
            groups: self.groups.clone(),
            repeats: Repeats::default(),
        };
        let listed: Vec<MonthDay> = self.days.iter().map(MonthDay::of).collect();
        let listed =
            serde_json::to_string(&listed).map_err(|e| LakeError::format("<month roll-up>", e))?;
        write_parquet_with_metadata(
            &rows.to_record_batch()?,
            &[(MONTH_FORMAT_KEY, MONTH_FORMAT), (MONTH_DAYS_KEY, &listed)],
            &["customers"],
        )
    }

    /// Reads a month roll-up file. `Ok(None)`: a file of another format. The customer
    /// sets stay serialized until a count needs them.
    pub fn from_parquet(path: &str, bytes: Bytes) -> Result<Option<MonthRollup>, LakeError> {
        let file = RollupFile::open(path, bytes)?;
        if file.value_of(MONTH_FORMAT_KEY) != Some(MONTH_FORMAT) {
            return Ok(None);
        }
        let listed: Vec<MonthDay> =
            serde_json::from_str(file.value_of(MONTH_DAYS_KEY).unwrap_or(""))
                .map_err(|e| LakeError::format(path, e))?;
        let Some(first) = listed.first() else {
            return Err(LakeError::format(path, "a month roll-up without days"));
        };
        let month = month_of(first.day);
        Ok(Some(MonthRollup {
            month,
            days: listed.into_iter().map(MonthDay::summary).collect(),
            groups: file.groups()?,
        }))
    }
}

/// A group's totals of `orders`, with no pizzas, sales or customers.
fn orders_only(orders: i64) -> GroupTotals {
    GroupTotals {
        orders,
        generated_orders: 0,
        pizzas: 0,
        gross_cents: 0,
        customers: CustomerSet::Built(Default::default()),
    }
}

fn first_file(days: &[DaySummary]) -> String {
    days.first()
        .and_then(|d| d.order_files.first().cloned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn only_months_wholly_inside_a_range_are_months_of_it() {
        let utc_year = at("2025-11-25T00:00:00Z")..at("2026-11-25T00:00:00Z");
        assert!(
            !month_inside(&utc_year, date("2025-11-30")),
            "cut at its start"
        );
        assert!(month_inside(&utc_year, date("2025-12-31")));
        assert!(month_inside(&utc_year, date("2026-10-01")));
        assert!(
            !month_inside(&utc_year, date("2026-11-01")),
            "cut at its end"
        );
        let to_the_first = at("2026-01-01T00:00:00Z")..at("2026-03-01T00:00:00Z");
        assert!(
            month_inside(&to_the_first, date("2026-02-28")),
            "ends as the range"
        );
        // A Chicago window starts at 06:00 UTC: its first UTC month is cut.
        let chicago = at("2026-01-01T06:00:00Z")..at("2026-03-01T06:00:00Z");
        assert!(!month_inside(&chicago, date("2026-01-15")));
        assert!(month_inside(&chicago, date("2026-02-15")));
        assert_eq!(next_month(date("2026-01-31")), date("2026-02-01"));
        assert_eq!(next_month(date("2026-12-01")), date("2027-01-01"));
    }

    fn compacted(day: &str, stamp: &str) -> DayFiles {
        DayFiles {
            day: date(day),
            files: vec![LakePath::compacted(date(day), stamp).into()],
        }
    }

    #[test]
    fn a_month_is_read_from_its_roll_up_only_when_it_is_fresh_and_inside() {
        let range = at("2026-01-15T00:00:00Z")..at("2026-04-01T00:00:00Z");
        let ready = vec![
            compacted("2026-01-20", "1"),
            compacted("2026-02-01", "1"),
            compacted("2026-02-02", "1"),
            compacted("2026-03-05", "1"),
        ];
        let february: Vec<&DayFiles> = ready[1..3].iter().collect();
        let march: Vec<&DayFiles> = ready[3..].iter().collect();
        let january: Vec<&DayFiles> = ready[..1].iter().collect();
        let monthly: BTreeSet<String> = [&february, &march, &january]
            .iter()
            .map(|days| fresh_month_path(days).unwrap().into())
            .collect();
        let stale = vec![DayFiles {
            day: date("2026-03-09"),
            files: vec![LakePath::batch(date("2026-03-09"), "0", 1, 2).into()],
        }];
        let (months, days) = plan_months(&range, ready.clone(), &stale, &monthly);
        assert_eq!(months.len(), 1, "{months:?}");
        assert_eq!(months[0].days, ready[1..3], "February only");
        let days: Vec<NaiveDate> = days.iter().map(|d| d.day).collect();
        assert_eq!(
            days,
            [date("2026-01-20"), date("2026-03-05")],
            "January is cut by the range; March has a day to compact"
        );
        // February's roll-up names other compacted files: it is stale.
        let recompacted = vec![compacted("2026-02-01", "1"), compacted("2026-02-02", "2")];
        let (months, days) = plan_months(&range, recompacted, &[], &monthly);
        assert!(months.is_empty());
        assert_eq!(days.len(), 2);
    }
}
