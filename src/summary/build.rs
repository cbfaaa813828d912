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
//! The nightly build ([`build_report`]) first brings the window's days up to date: it
//! compacts and rolls up the days that need it (the day landed since the last build, or
//! every day of a lake without roll-ups) while it reads the others' roll-ups, then reads
//! the new ones.

use super::report::ReportRow;
use super::{ReportWindow, SummaryError};
use crate::lake::day_summary::{rollup_files, summarise_days, DaySource, DaySummary};
use crate::lake::rollup::{CustomerSet, UnionCounter};
use crate::lake::{
    compact_days, day_files, day_partitions, needs_compaction, CompactionReport, CompactionTurn,
    DayFiles, LakeGate, LakeStore,
};
use crate::ledger::{books_of_days, StreamBooksDay};
use crate::population::StatePopulation;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
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
    /// The books of the days read, counted against the window.
    pub books: Vec<StreamBooksDay>,
}

/// How the window's days were read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DaysRead {
    /// Days read from their roll-up.
    pub from_rollups: usize,
    /// Days read as orders: cut by the window, or without a fresh roll-up.
    pub as_orders: usize,
}

/// The sums of one (state, pizza type) over the window, with each day's customers.
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
/// days that need it. The caller holds the lake's compaction turn, so no day it reads is
/// compacted away under it, until it lets the turn go.
pub async fn build_report(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    turn: &CompactionTurn<'_>,
    window: &ReportWindow,
    population: &[StatePopulation],
    refreshed_at: DateTime<Utc>,
) -> Result<CoreReport, SummaryError> {
    let started = Instant::now();
    let partitions = day_partitions(lake, Some(&window.utc_days())).await?;
    let rollups = rollup_files(lake).await?;
    let (stale, ready): (Vec<DayFiles>, Vec<DayFiles>) = partitions
        .into_iter()
        .partition(|day| needs_compaction(day, &rollups));
    let range = window.start..window.end;
    // The days that need it are compacted (one core each) while the others are read.
    let (compaction, mut summaries) = futures::try_join!(
        async { Ok::<_, SummaryError>(compact_days(lake, gate, turn, &stale).await?) },
        async { Ok(summarise_days(lake, &ready, &rollups, Some(range.clone())).await?) },
    )?;
    let mut compacted = Vec::with_capacity(stale.len());
    for day in &stale {
        compacted.extend(day_files(lake, day.day).await?);
    }
    let rollups = rollup_files(lake).await?;
    summaries.extend(summarise_days(lake, &compacted, &rollups, Some(range)).await?);
    summaries.sort_by_key(|s| s.day);
    let read = started.elapsed();
    let mut core = count_and_rank(&summaries, window, population, refreshed_at).await?;
    core.compaction = compaction;
    tracing::debug!(
        read_ms = read.as_millis() as u64,
        counted_ms = (started.elapsed() - read).as_millis() as u64,
        days = summaries.len(),
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
    let partitions = day_partitions(lake, Some(&window.utc_days())).await?;
    let rollups = rollup_files(lake).await?;
    let range = window.start..window.end;
    let summaries = summarise_days(lake, &partitions, &rollups, Some(range)).await?;
    count_and_rank(&summaries, window, population, refreshed_at).await
}

/// The report of the window's day summaries.
async fn count_and_rank(
    summaries: &[DaySummary],
    window: &ReportWindow,
    population: &[StatePopulation],
    refreshed_at: DateTime<Utc>,
) -> Result<CoreReport, SummaryError> {
    let days = days_read(summaries);
    let files_read = summaries.iter().map(|s| s.files_read).sum();
    let order_files = summaries
        .iter()
        .flat_map(|s| s.order_files.iter().cloned())
        .collect();
    let parts = group_parts(summaries, population)?;
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
        books,
    })
}

fn days_read(summaries: &[DaySummary]) -> DaysRead {
    let from_rollups = summaries
        .iter()
        .filter(|s| s.source == DaySource::Rollup)
        .count();
    DaysRead {
        from_rollups,
        as_orders: summaries.len() - from_rollups,
    }
}

/// The window's groups of found customers in states of the population table, with each
/// day's part of them.
fn group_parts(
    summaries: &[DaySummary],
    population: &[StatePopulation],
) -> Result<BTreeMap<(String, String), GroupParts>, SummaryError> {
    let reported: HashMap<&str, ()> = population
        .iter()
        .map(|p| (p.state_code.as_str(), ()))
        .collect();
    let mut groups: BTreeMap<(String, String), GroupParts> = BTreeMap::new();
    for summary in summaries {
        for (key, totals) in &summary.in_range().groups {
            let Some(state) = key.state.as_deref().filter(|_| key.customer_found) else {
                continue; // unknown customers have no state: not in the report
            };
            if !reported.contains_key(state) {
                continue; // a code outside the population table: not in the report
            }
            let parts = groups
                .entry((state.to_string(), key.pizza_type.clone()))
                .or_default();
            parts.pizzas = parts
                .pizzas
                .checked_add(totals.pizzas)
                .ok_or_else(|| overflow(state, &key.pizza_type, "pizzas"))?;
            parts.gross_cents += totals.gross_cents;
            parts.customers.push(totals.customers.clone());
        }
    }
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
