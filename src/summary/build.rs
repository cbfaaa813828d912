//! The report core: `state_top_pizzas` for a window, computed in Rust from the daily
//! roll-ups, the same in both hosts (CONTRACT §6, docs/REPORT.md).
//!
//! It reads the roll-ups of the days wholly inside the window, and order rows only for a
//! day the window cuts (its first and last day in a report time zone other than UTC) or,
//! when it reads the lake as it is, a day whose roll-up is missing or stale. Per (state,
//! pizza type) it sums units, gross sales and orders over the days and unions the days'
//! customer sets, one group at a time, which counts unique customers exactly. Then it
//! joins the adult population and ranks with the tie rules of REPORT.md rule 7. The
//! warehouses' own SQL recomputes the same report from the orders as an independent
//! check (`--verify`).
//!
//! A UTC month wholly inside the window is read from its month roll-up when that is fresh
//! (`crate::lake::month_rollup`): one file, and one customer set per group, instead of
//! a file and a set per day.
//!
//! The nightly build ([`build_report`]) first brings the window's days up to date: it
//! compacts and rolls up the days that need it (the day landed since the last build, or
//! every day of a lake without roll-ups) while it reads the others' roll-ups, then reads
//! the new ones. While it counts, it writes the roll-up of each month wholly inside the
//! window that it had to read day by day.

use super::report::ReportRow;
use super::{ReportWindow, SummaryError};
use crate::lake::day_summary::{rollup_files_of, summarise_days, DaySource, DaySummary};
use crate::lake::month_rollup::{
    month_inside, month_of, month_rollup_files, plan_months, read_month, roll_up_month, MonthToRead,
};
use crate::lake::rollup::{CustomerSet, GroupKey, GroupTotals, UnionCounter};
use crate::lake::{
    compact_days, day_files, day_partitions, is_one_compacted_file, needs_compaction,
    CompactionReport, CompactionTurn, DayFiles, LakeError, LakeGate, LakeStore,
};
use crate::ledger::{books_of_days, StreamBooksDay};
use crate::population::StatePopulation;
use chrono::{DateTime, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// What the core built, and what it read to build it.
#[derive(Debug, Clone)]
pub struct CoreReport {
    /// The report's rows, ordered by state and rank; `refreshed_at` is the build's.
    pub rows: Vec<ReportRow>,
    pub days: DaysRead,
    pub files_read: usize,
    /// The order files the report reflects, day by day: what an independent recount must
    /// read to see the same orders.
    pub order_files: Vec<String>,
    /// What bringing the window's days up to date did (nothing when read as they are).
    pub compaction: CompactionReport,
    /// Month roll-ups the build wrote: months rolled up on the way.
    pub month_rollups_written: usize,
    /// The books of the days read, counted against the window.
    pub books: Vec<StreamBooksDay>,
}

/// How the window's days were read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DaysRead {
    /// Days read from their month's roll-up.
    pub from_month_rollups: usize,
    /// Month roll-ups read.
    pub months: usize,
    /// Days read from their own roll-up.
    pub from_rollups: usize,
    /// Days read as orders: cut by the window, or without a fresh roll-up.
    pub as_orders: usize,
}

impl DaysRead {
    /// Every day read, however.
    pub fn total(&self) -> usize {
        self.from_month_rollups + self.from_rollups + self.as_orders
    }
}

/// The window's days, summarised: each day's sums, and the customers of each day read
/// on its own and of each month read from its roll-up.
struct WindowRead {
    days: Vec<DaySummary>,
    /// The groups of each month read from its roll-up (its days in `days` carry only
    /// what the books count).
    months: Vec<Vec<(GroupKey, GroupTotals)>>,
}

/// The sums of one (state, pizza type) over the window, with each day's (or month's)
/// customers.
#[derive(Default)]
struct GroupParts {
    pizzas: i64,
    gross_cents: i128,
    customers: Vec<CustomerSet>,
}

/// One group's figures for the whole window.
struct GroupFigures {
    state: String,
    pizza_type: String,
    pizzas: i64,
    gross_cents: i128,
    customers: u64,
}

/// Builds `state_top_pizzas` for `window`, first compacting and rolling up the window's
/// days that need it, and afterwards writing the roll-up of each month wholly inside the
/// window that lacks a fresh one. The caller holds the lake's compaction turn, so no day
/// it reads is compacted away under it, until it lets the turn go.
pub async fn build_report(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    turn: &CompactionTurn<'_>,
    window: &ReportWindow,
    population: &[StatePopulation],
    refreshed_at: DateTime<Utc>,
) -> Result<CoreReport, SummaryError> {
    let started = Instant::now();
    let range = window.start..window.end;
    let days = window.utc_days();
    let partitions = day_partitions(lake, Some(&days)).await?;
    let (rollups, monthly) =
        futures::try_join!(rollup_files_of(lake, &days), month_rollup_files(lake))?;
    let (stale, ready): (Vec<DayFiles>, Vec<DayFiles>) = partitions
        .into_iter()
        .partition(|day| needs_compaction(day, &rollups));
    let (months, ready) = plan_months(&range, ready, &stale, &monthly);
    // The days that need it are compacted (one core each) while the others are read.
    let (compaction, mut read) = futures::try_join!(
        async { Ok::<_, SummaryError>(compact_days(lake, gate, turn, &stale).await?) },
        read_window(lake, &months, &ready, &rollups, &range),
    )?;
    if !stale.is_empty() {
        let mut compacted = Vec::with_capacity(stale.len());
        for day in &stale {
            compacted.extend(day_files(lake, day.day).await?);
        }
        // Only the compacted days' roll-ups are new: list their span, not the window.
        let span = stale[0].day..=stale[stale.len() - 1].day;
        let rollups = rollup_files_of(lake, &span).await?;
        read.days
            .extend(summarise_days(lake, &compacted, &rollups, Some(range.clone())).await?);
    }
    read.days.sort_by_key(|s| s.day);
    let read_time = started.elapsed();
    let (mut core, month_rollups_written) = futures::try_join!(
        count_and_rank(&read, window, population, refreshed_at),
        async { Ok(write_months(lake, &range, &read.days).await?) },
    )?;
    core.compaction = compaction;
    core.month_rollups_written = month_rollups_written;
    tracing::debug!(
        read_ms = read_time.as_millis() as u64,
        counted_ms = (started.elapsed() - read_time).as_millis() as u64,
        days = read.days.len(),
        months = read.months.len(),
        compacted = stale.len(),
        "report core"
    );
    Ok(core)
}

/// Builds `state_top_pizzas` for `window` from the lake as it is, changing nothing: days
/// without a fresh roll-up are read as orders (the weekly verification, the tests).
pub async fn build_report_as_is(
    lake: &dyn LakeStore,
    window: &ReportWindow,
    population: &[StatePopulation],
    refreshed_at: DateTime<Utc>,
) -> Result<CoreReport, SummaryError> {
    let range = window.start..window.end;
    let days = window.utc_days();
    let partitions = day_partitions(lake, Some(&days)).await?;
    let (rollups, monthly) =
        futures::try_join!(rollup_files_of(lake, &days), month_rollup_files(lake))?;
    let (compacted, landing): (Vec<DayFiles>, Vec<DayFiles>) =
        partitions.into_iter().partition(DayFiles::is_compacted);
    let (months, mut days) = plan_months(&range, compacted, &landing, &monthly);
    days.extend(landing);
    let mut read = read_window(lake, &months, &days, &rollups, &range).await?;
    read.days.sort_by_key(|s| s.day);
    count_and_rank(&read, window, population, refreshed_at).await
}

/// Reads `months` from their roll-ups and `days` one by one, concurrently. A month whose
/// roll-up turns out not to match its days is read day by day instead.
async fn read_window(
    lake: &dyn LakeStore,
    months: &[MonthToRead],
    days: &[DayFiles],
    rollups: &BTreeSet<String>,
    range: &Range<DateTime<Utc>>,
) -> Result<WindowRead, SummaryError> {
    // The futures are made first, then driven (see `crate::lake::compact_lake`).
    let month_reads: Vec<_> = months.iter().map(|month| read_month(lake, month)).collect();
    let month_reads = futures::stream::iter(month_reads)
        .buffered(4)
        .try_collect::<Vec<_>>();
    let (month_reads, mut summaries) = futures::try_join!(
        month_reads,
        summarise_days(lake, days, rollups, Some(range.clone()))
    )?;
    let mut read = WindowRead {
        days: Vec::new(),
        months: Vec::with_capacity(months.len()),
    };
    let mut unmatched = Vec::new();
    for (month, rollup) in months.iter().zip(month_reads) {
        match rollup {
            Some(rollup) => {
                summaries.extend(rollup.days);
                read.months.push(rollup.groups);
            }
            None => unmatched.extend(month.days.iter().cloned()),
        }
    }
    summaries.extend(summarise_days(lake, &unmatched, rollups, Some(range.clone())).await?);
    read.days = summaries;
    Ok(read)
}

/// Writes the roll-up of each month wholly inside `range` that was read day by day, all
/// of whose days are compacted: the next build reads it in one file. Returns how many.
async fn write_months(
    lake: &dyn LakeStore,
    range: &Range<DateTime<Utc>>,
    days: &[DaySummary],
) -> Result<usize, LakeError> {
    let mut by_month: BTreeMap<NaiveDate, Vec<&DaySummary>> = BTreeMap::new();
    for day in days {
        by_month.entry(month_of(day.day)).or_default().push(day);
    }
    let to_write: Vec<_> = by_month
        .into_iter()
        .filter(|(month, days)| month_inside(range, *month) && rolls_up(days))
        .map(|(month, days)| roll_up_month(lake, month, days.into_iter().cloned().collect()))
        .collect();
    let written = to_write.len();
    futures::stream::iter(to_write)
        .buffer_unordered(2)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(written)
}

/// Whether a month's days make its roll-up: each a whole compacted day, none read from
/// the month's roll-up already.
fn rolls_up(days: &[&DaySummary]) -> bool {
    days.iter().all(|day| {
        day.source != DaySource::MonthRollup
            && day.inside.is_none()
            && is_one_compacted_file(&day.order_files)
    })
}

/// The report of the window's day summaries.
async fn count_and_rank(
    read: &WindowRead,
    window: &ReportWindow,
    population: &[StatePopulation],
    refreshed_at: DateTime<Utc>,
) -> Result<CoreReport, SummaryError> {
    let summaries = &read.days;
    let days = days_read(read);
    let files_read = summaries.iter().map(|s| s.files_read).sum::<usize>() + read.months.len();
    let order_files = summaries
        .iter()
        .flat_map(|s| s.order_files.iter().cloned())
        .collect();
    let parts = group_parts(read, population)?;
    let figures = tokio::task::spawn_blocking(move || count_customers(parts))
        .await
        .map_err(SummaryError::Worker)??;
    // The lake and the warehouses keep microseconds.
    let refreshed_at = crate::order::truncate_to_micros(refreshed_at);
    let rows = rank(figures, population, window, refreshed_at)?;
    let books = books_of_days(summaries, Some(&(window.start..window.end)), population);
    Ok(CoreReport {
        rows,
        days,
        files_read,
        order_files,
        compaction: CompactionReport::default(),
        month_rollups_written: 0,
        books,
    })
}

fn days_read(read: &WindowRead) -> DaysRead {
    let count = |source| read.days.iter().filter(|s| s.source == source).count();
    DaysRead {
        from_month_rollups: count(DaySource::MonthRollup),
        months: read.months.len(),
        from_rollups: count(DaySource::Rollup),
        as_orders: count(DaySource::Orders),
    }
}

/// The window's groups of found customers in states of the population table, with each
/// day's sums and the customers of each day or month.
fn group_parts(
    read: &WindowRead,
    population: &[StatePopulation],
) -> Result<BTreeMap<(String, String), GroupParts>, SummaryError> {
    let reported: HashMap<&str, ()> = population
        .iter()
        .map(|p| (p.state_code.as_str(), ()))
        .collect();
    // Unknown customers have no state, and a code outside the population table is not
    // in the report.
    fn reported_state<'a>(key: &'a GroupKey, reported: &HashMap<&str, ()>) -> Option<&'a str> {
        key.state
            .as_deref()
            .filter(|state| key.customer_found && reported.contains_key(state))
    }
    // Days read through their month's roll-up count in the month's rows.
    let day_groups = read
        .days
        .iter()
        .filter(|summary| summary.source != DaySource::MonthRollup)
        .flat_map(|summary| &summary.in_range().groups);
    let month_groups = read.months.iter().flatten();
    let mut groups: HashMap<(&str, &str), GroupParts> = HashMap::new();
    for (key, totals) in day_groups.chain(month_groups) {
        let Some(state) = reported_state(key, &reported) else {
            continue;
        };
        let parts = groups.entry((state, &key.pizza_type)).or_default();
        parts.pizzas = parts
            .pizzas
            .checked_add(totals.pizzas)
            .ok_or_else(|| overflow(state, &key.pizza_type, "pizzas"))?;
        parts.gross_cents += totals.gross_cents;
        parts.customers.push(totals.customers.clone());
    }
    let groups = groups
        .into_iter()
        .map(|((state, pizza_type), parts)| ((state.to_string(), pizza_type.to_string()), parts))
        .collect();
    Ok(groups)
}

fn overflow(state: &str, pizza_type: &str, what: &'static str) -> SummaryError {
    SummaryError::Overflow {
        state: state.to_string(),
        pizza_type: pizza_type.to_string(),
        what,
    }
}

/// Unions each group's daily customer sets, one group at a time on every core.
fn count_customers(
    parts: BTreeMap<(String, String), GroupParts>,
) -> Result<Vec<GroupFigures>, SummaryError> {
    let groups: Vec<((String, String), GroupParts)> = parts.into_iter().collect();
    let counts: Vec<std::sync::Mutex<Option<Result<u64, std::io::Error>>>> =
        groups.iter().map(|_| Default::default()).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers.min(groups.len()) {
            scope.spawn(|| {
                let mut union = UnionCounter::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((_, parts)) = groups.get(i) else {
                        return;
                    };
                    union.clear();
                    let counted = parts
                        .customers
                        .iter()
                        .try_for_each(|set| union.add(set))
                        .map(|()| union.len());
                    *counts[i].lock().expect("a count slot") = Some(counted);
                }
            });
        }
    });
    groups
        .into_iter()
        .zip(counts)
        .map(|(((state, pizza_type), parts), count)| {
            let customers = count
                .into_inner()
                .expect("a count slot")
                .expect("every group counted")
                .map_err(|source| SummaryError::UnreadableCustomers {
                    state: state.clone(),
                    pizza_type: pizza_type.clone(),
                    source,
                })?;
            Ok(GroupFigures {
                state,
                pizza_type,
                pizzas: parts.pizzas,
                gross_cents: parts.gross_cents,
                customers,
            })
        })
        .collect()
}

/// Ranks each state's types (units, then gross sales, descending; then the type's name)
/// and keeps three, with the state's adults and the per-adult sales.
fn rank(
    mut figures: Vec<GroupFigures>,
    population: &[StatePopulation],
    window: &ReportWindow,
    refreshed_at: DateTime<Utc>,
) -> Result<Vec<ReportRow>, SummaryError> {
    let by_code: HashMap<&str, &StatePopulation> = population
        .iter()
        .map(|p| (p.state_code.as_str(), p))
        .collect();
    figures.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then(b.pizzas.cmp(&a.pizzas))
            .then(b.gross_cents.cmp(&a.gross_cents))
            .then(a.pizza_type.cmp(&b.pizza_type))
    });
    let mut rows: Vec<ReportRow> = Vec::new();
    for group in figures {
        let rank = match rows.last() {
            Some(last) if last.state == group.state => last.rank + 1,
            _ => 1,
        };
        if rank > 3 {
            continue;
        }
        let people = by_code[group.state.as_str()];
        let gross_sales_cents = i64::try_from(group.gross_cents)
            .map_err(|_| overflow(&group.state, &group.pizza_type, "gross sales"))?;
        rows.push(ReportRow {
            state_name: people.state_name.clone(),
            rank,
            pizza_type: group.pizza_type,
            pizzas_sold: group.pizzas,
            gross_sales_cents,
            per_capita_micro_usd: per_adult_micro_usd(group.gross_cents, people.adult_population),
            unique_customers: i64::try_from(group.customers).expect("fewer than 2^63 customers"),
            adult_population: people.adult_population,
            window_start: window.start,
            window_end: window.end,
            refreshed_at,
            state: group.state,
        });
    }
    Ok(rows)
}

/// Gross sales per adult in micro-dollars, rounded half up, in integers (REPORT.md rule
/// 6): `round(cents × 10⁴ / adults) = floor((2 × cents × 10⁴ + adults) / (2 × adults))`.
pub fn per_adult_micro_usd(gross_cents: i128, adults: i64) -> i64 {
    let adults = i128::from(adults.max(1));
    let micros = (2 * gross_cents * 10_000 + adults) / (2 * adults);
    i64::try_from(micros).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_adult_sales_round_half_up_in_integers() {
        // $1.00 over 3 adults: 333,333.33… micro-dollars.
        assert_eq!(per_adult_micro_usd(100, 3), 333_333);
        // $0.01 over 8 adults: 1,250 micro-dollars exactly.
        assert_eq!(per_adult_micro_usd(1, 8), 1_250);
        // $0.01 over 3 adults = 3,333.33… → 3,333; over 6 = 1,666.67 → 1,667.
        assert_eq!(per_adult_micro_usd(1, 3), 3_333);
        assert_eq!(per_adult_micro_usd(1, 6), 1_667);
        // Exactly half: $0.01 over 16,000 adults = 0.625 micro-dollars → 1.
        assert_eq!(per_adult_micro_usd(1, 16_000), 1);
        assert_eq!(per_adult_micro_usd(0, 5), 0);
    }
}
