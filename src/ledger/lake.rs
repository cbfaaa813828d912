//! The lake's half of the books, from the daily roll-ups: per UTC order day, what landed
//! and what of it the report counts. A day is read from its roll-up when that is fresh,
//! and as orders when it has none or when the report window cuts it (only then does an
//! order's time decide whether the report counts it). The SQL definition of the same
//! figures, the check of this one, is `sql/duckdb/ledger.sql` (`ledger --verify`) and, in
//! Azure, `sql/synapse/06_ledger.sql`.

use super::file::StreamBooksDay;
use super::{LakeDay, ReportWindowBounds};
use crate::lake::day_summary::{rollup_files, summarise_days, DaySummary};
use crate::lake::rollup::DayRollup;
use crate::lake::{day_partitions, LakeError, LakeStore};
use crate::population::StatePopulation;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashSet;
use std::ops::{Range, RangeInclusive};

/// The lake's figures of each day of `days` that has orders, counting `in_report`
/// against `report` (`None`: no report, every landed order is outside it).
pub async fn lake_days(
    lake: &dyn LakeStore,
    days: &RangeInclusive<NaiveDate>,
    report: Option<ReportWindowBounds>,
    population: &[StatePopulation],
) -> Result<Vec<LakeDay>, LakeError> {
    let partitions = day_partitions(lake, Some(days)).await?;
    let rollups = rollup_files(lake).await?;
    let window = report.map(|r| r.window_start..r.window_end);
    let summaries = summarise_days(lake, &partitions, &rollups, window.clone()).await?;
    Ok(books_of_days(&summaries, window.as_ref(), population)
        .into_iter()
        .map(|day| day.lake)
        .collect())
}

/// The books of summarised days, counting `in_report` against `window` (`None`: no
/// report), with each day's repeated orders.
pub fn books_of_days(
    summaries: &[DaySummary],
    window: Option<&Range<DateTime<Utc>>>,
    population: &[StatePopulation],
) -> Vec<StreamBooksDay> {
    let reported: HashSet<&str> = population.iter().map(|p| p.state_code.as_str()).collect();
    summaries
        .iter()
        .map(|summary| {
            let covered = window.is_some_and(|w| {
                let midnight = summary
                    .day
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight")
                    .and_utc();
                w.start <= midnight && midnight + chrono::Duration::days(1) <= w.end
            });
            StreamBooksDay {
                lake: lake_day(summary, covered, &reported),
                repeats: summary.whole.repeats,
            }
        })
        .collect()
}

/// Orders of `rollup` whose customer was found in a state of the population table.
fn reportable(rollup: &DayRollup, reported: &HashSet<&str>) -> i64 {
    rollup
        .groups
        .iter()
        .filter(|(key, _)| {
            key.customer_found && key.state.as_deref().is_some_and(|s| reported.contains(s))
        })
        .map(|(_, totals)| totals.orders)
        .sum()
}

fn lake_day(summary: &DaySummary, covered: bool, reported: &HashSet<&str>) -> LakeDay {
    let whole = &summary.whole;
    let sum = |pick: fn(&crate::lake::rollup::GroupKey) -> bool| -> i64 {
        whole
            .groups
            .iter()
            .filter(|(key, _)| pick(key))
            .map(|(_, totals)| totals.orders)
            .sum()
    };
    let reportable_orders = reportable(whole, reported);
    let in_report = match (&summary.inside, covered) {
        (Some(inside), _) => reportable(inside, reported),
        (None, true) => reportable_orders,
        (None, false) => 0,
    };
    let unknown_customer = sum(|key| !key.customer_found);
    LakeDay {
        day: summary.day,
        landed: whole.orders(),
        generated: whole.groups.iter().map(|(_, t)| t.generated_orders).sum(),
        unknown_customer,
        no_population_row: whole.orders() - unknown_customer - reportable_orders,
        outside_report_window: reportable_orders - in_report,
        in_report,
    }
}
