//! The books of the pipeline (CONTRACT §10): per UTC order day, where every order went.
//!
//! Two identities hold on every day, and a day where either fails does not balance:
//!
//! - at the door: **accepted = landed + quarantined + not yet landed**. Accepted orders
//!   are counted once each; identical re-posts (`duplicates`) and conflicting ones
//!   (`conflicts`, refused and kept aside) are shown beside them. Orders the generator
//!   wrote straight into the lake (`generated`: the demo history, `generate-lake`) never
//!   passed the door and are left out of this identity.
//! - in the lake: **landed = in the report + excluded**, by reason: unknown customer, a
//!   state with no row in the population table, outside the report's window.
//!
//! The door's half comes from the embedded order log (`stream::door_ledger`); Event Hubs
//! keeps no door-side index, so in Azure the door figures are unknown and say so (`null`),
//! never 0. The lake's half comes from the daily roll-ups ([`lake_days`]) embedded, with
//! the same figures' SQL definition as its check (`sql/duckdb/ledger.sql`,
//! `ledger --verify`), and from Synapse's `dbo.ledger` in Azure
//! (`sql/synapse/06_ledger.sql`).

mod file;
mod lake;

pub use file::{books_file, books_schema, BooksContext, StreamBooksDay};
pub use lake::{books_of_days, lake_days};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// What the door of the order stream saw for one UTC order day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorDay {
    pub day: NaiveDate,
    pub accepted: i64,
    pub duplicates: i64,
    pub conflicts: i64,
    pub not_yet_landed: i64,
    /// When the oldest order of the day not yet landed was accepted.
    pub oldest_not_landed: Option<DateTime<Utc>>,
}

/// What landed in the lake for one UTC order day, each `order_id` once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LakeDay {
    pub day: NaiveDate,
    pub landed: i64,
    /// Written straight into the lake by the generator, not through the door.
    pub generated: i64,
    pub unknown_customer: i64,
    pub no_population_row: i64,
    pub outside_report_window: i64,
    pub in_report: i64,
}

/// Landed orders the report does not count, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Exclusions {
    pub unknown_customer: i64,
    pub no_population_row: i64,
    pub outside_report_window: i64,
}

impl Exclusions {
    pub fn total(&self) -> i64 {
        self.unknown_customer + self.no_population_row + self.outside_report_window
    }
}

/// One line of the books: one UTC order day, or the totals of a range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerLine {
    /// `None` (JSON `null`) where the door keeps no books (Event Hubs).
    pub accepted: Option<i64>,
    pub duplicates: Option<i64>,
    pub conflicts: Option<i64>,
    pub not_yet_landed: Option<i64>,
    pub landed: i64,
    /// Of the landed orders, those the generator wrote straight into the lake (the demo
    /// history, `generate-lake`): they never passed the door, so they are not accepted.
    pub generated: i64,
    /// Accepted, then set aside at enrichment as unreadable (`lake/quarantine/enrich/`).
    pub quarantined: i64,
    pub excluded: Exclusions,
    pub in_report: i64,
}

impl LedgerLine {
    /// Why the line does not balance; empty when it does.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let (Some(accepted), Some(waiting)) = (self.accepted, self.not_yet_landed) {
            let accounted = self.landed - self.generated + self.quarantined + waiting;
            if accepted != accounted {
                problems.push(format!(
                    "accepted {accepted} but landed {} + quarantined {} + not yet landed {waiting} = {accounted}: {} {}",
                    self.landed - self.generated,
                    self.quarantined,
                    (accepted - accounted).abs(),
                    if accepted > accounted { "orders unaccounted for" } else { "orders more than accepted" }
                ));
            }
        }
        let counted = self.in_report + self.excluded.total();
        if self.landed != counted {
            problems.push(format!(
                "landed {} but in the report {} + excluded {} = {counted}",
                self.landed,
                self.in_report,
                self.excluded.total()
            ));
        }
        problems
    }

    fn add(&mut self, other: &LedgerLine) {
        let sum = |a: Option<i64>, b: Option<i64>| a.zip(b).map(|(a, b)| a + b);
        self.accepted = sum(self.accepted, other.accepted);
        self.duplicates = sum(self.duplicates, other.duplicates);
        self.conflicts = sum(self.conflicts, other.conflicts);
        self.not_yet_landed = sum(self.not_yet_landed, other.not_yet_landed);
        self.landed += other.landed;
        self.generated += other.generated;
        self.quarantined += other.quarantined;
        self.excluded.unknown_customer += other.excluded.unknown_customer;
        self.excluded.no_population_row += other.excluded.no_population_row;
        self.excluded.outside_report_window += other.excluded.outside_report_window;
        self.in_report += other.in_report;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerDay {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub line: LedgerLine,
    pub balanced: bool,
    /// Why the day does not balance; empty when it does.
    pub problems: Vec<String>,
}

/// Counts `reasons`, most frequent first.
pub fn count_reasons<'a>(reasons: impl IntoIterator<Item = &'a str>) -> Vec<ReasonCount> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for reason in reasons {
        *counts.entry(reason).or_default() += 1;
    }
    let mut counted: Vec<ReasonCount> = counts
        .into_iter()
        .map(|(reason, events)| ReasonCount {
            reason: reason.to_string(),
            events,
        })
        .collect();
    counted.sort_by(|a, b| b.events.cmp(&a.events).then(a.reason.cmp(&b.reason)));
    counted
}

/// How many events were set aside for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub events: i64,
}

/// The report the `in_report` figures are counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReportWindowBounds {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
}

/// The books of a range of UTC order days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ledger {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Who keeps the door's figures, or why they are unknown.
    pub door: &'static str,
    /// `None` when no report has been built: every landed order is then outside it.
    pub report: Option<ReportWindowBounds>,
    pub balanced: bool,
    pub totals: LedgerLine,
    /// When the oldest order not yet landed was accepted (`None`: everything landed).
    pub oldest_not_landed: Option<DateTime<Utc>>,
    /// Events set aside at enrichment, by reason, whatever their day (all time).
    pub quarantine_reasons: Vec<ReasonCount>,
    /// Invocations that could not be read at all, kept raw (all time): the events in them
    /// were never seen one by one, so they count on no day.
    pub unreadable_invocations: i64,
    /// Days with anything to show, in order.
    pub days: Vec<LedgerDay>,
}

/// Who keeps the door's figures in the embedded pipeline.
pub const DOOR_EMBEDDED: &str = "the embedded order log";
/// Why the door's figures are unknown in Azure.
pub const DOOR_UNKNOWN: &str =
    "unknown in this mode: Event Hubs keeps no door-side index of order_ids";

/// Everything the books of `days` are made of.
#[derive(Debug, Default)]
pub struct LedgerParts {
    /// `None` where the door keeps no books.
    pub door: Option<Vec<DoorDay>>,
    pub lake: Vec<LakeDay>,
    /// Accepted orders set aside at enrichment, per order day.
    pub quarantined: BTreeMap<NaiveDate, i64>,
    pub quarantine_reasons: Vec<ReasonCount>,
    pub unreadable_invocations: i64,
    pub report: Option<ReportWindowBounds>,
}

/// Puts the parts together, day by day, and checks both identities on each.
pub fn assemble(range: RangeInclusive<NaiveDate>, parts: LedgerParts) -> Ledger {
    let has_door = parts.door.is_some();
    let mut lines: BTreeMap<NaiveDate, LedgerLine> = BTreeMap::new();
    let blank = || LedgerLine {
        accepted: has_door.then_some(0),
        duplicates: has_door.then_some(0),
        conflicts: has_door.then_some(0),
        not_yet_landed: has_door.then_some(0),
        ..Default::default()
    };
    let mut oldest_not_landed: Option<DateTime<Utc>> = None;
    for door in parts.door.iter().flatten() {
        let line = lines.entry(door.day).or_insert_with(blank);
        line.accepted = Some(door.accepted);
        line.duplicates = Some(door.duplicates);
        line.conflicts = Some(door.conflicts);
        line.not_yet_landed = Some(door.not_yet_landed);
        oldest_not_landed = match (oldest_not_landed, door.oldest_not_landed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    for lake in &parts.lake {
        let line = lines.entry(lake.day).or_insert_with(blank);
        line.landed = lake.landed;
        line.generated = lake.generated;
        line.in_report = lake.in_report;
        line.excluded = Exclusions {
            unknown_customer: lake.unknown_customer,
            no_population_row: lake.no_population_row,
            outside_report_window: lake.outside_report_window,
        };
    }
    for (day, quarantined) in &parts.quarantined {
        lines.entry(*day).or_insert_with(blank).quarantined = *quarantined;
    }
    let mut totals = blank();
    let days: Vec<LedgerDay> = lines
        .into_iter()
        .filter(|(day, _)| range.contains(day))
        .map(|(day, line)| {
            totals.add(&line);
            let problems = line.problems();
            LedgerDay {
                day,
                balanced: problems.is_empty(),
                line,
                problems,
            }
        })
        .collect();
    Ledger {
        from: *range.start(),
        to: *range.end(),
        door: if has_door {
            DOOR_EMBEDDED
        } else {
            DOOR_UNKNOWN
        },
        report: parts.report,
        balanced: days.iter().all(|d| d.balanced),
        totals,
        oldest_not_landed,
        quarantine_reasons: parts.quarantine_reasons,
        unreadable_invocations: parts.unreadable_invocations,
        days,
    }
}

/// The ledger as a plain-text table, for operators (`pizza-pipeline ledger`).
pub fn render_table(ledger: &Ledger) -> String {
    use std::fmt::Write;
    let number = |n: Option<i64>| n.map_or("?".to_string(), |n| n.to_string());
    let mut out = String::new();
    let verdict = if ledger.balanced {
        "balanced"
    } else {
        "DOES NOT BALANCE"
    };
    let _ = writeln!(
        out,
        "ledger of UTC order days {} to {}: {verdict} (door: {})",
        ledger.from, ledger.to, ledger.door
    );
    match &ledger.report {
        Some(r) => {
            let _ = writeln!(out, "report window: [{}, {})", r.window_start, r.window_end);
        }
        None => {
            let _ = writeln!(out, "report window: none built yet");
        }
    }
    let header = [
        "day",
        "accepted",
        "duplicates",
        "conflicts",
        "not landed",
        "landed",
        "generated",
        "quarantined",
        "unknown cust",
        "no pop row",
        "outside win",
        "in report",
        "ok",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    let line_cells = |label: String, line: &LedgerLine, ok: bool| {
        vec![
            label,
            number(line.accepted),
            number(line.duplicates),
            number(line.conflicts),
            number(line.not_yet_landed),
            line.landed.to_string(),
            line.generated.to_string(),
            line.quarantined.to_string(),
            line.excluded.unknown_customer.to_string(),
            line.excluded.no_population_row.to_string(),
            line.excluded.outside_report_window.to_string(),
            line.in_report.to_string(),
            if ok { "yes" } else { "NO" }.to_string(),
        ]
    };
    for day in &ledger.days {
        rows.push(line_cells(day.day.to_string(), &day.line, day.balanced));
    }
    rows.push(line_cells("total".into(), &ledger.totals, ledger.balanced));
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| {
                if i == 0 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  "));
    }
    let oldest = ledger
        .oldest_not_landed
        .map_or("none: every accepted order has landed".to_string(), |t| {
            format!("accepted {}", t.to_rfc3339())
        });
    let _ = writeln!(out, "oldest order not yet landed: {oldest}");
    let _ = writeln!(out, "set aside at enrichment, by reason:");
    if ledger.quarantine_reasons.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for reason in &ledger.quarantine_reasons {
        let _ = writeln!(out, "  {:>8}  {}", reason.events, reason.reason);
    }
    let _ = writeln!(
        out,
        "unreadable invocations kept raw: {}",
        ledger.unreadable_invocations
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn door(d: &str, accepted: i64, not_yet_landed: i64) -> DoorDay {
        DoorDay {
            day: day(d),
            accepted,
            duplicates: 1,
            conflicts: 0,
            not_yet_landed,
            oldest_not_landed: None,
        }
    }

    fn lake(d: &str, landed: i64, unknown: i64) -> LakeDay {
        LakeDay {
            day: day(d),
            landed,
            unknown_customer: unknown,
            in_report: landed - unknown,
            ..Default::default()
        }
    }

    #[test]
    fn a_day_balances_when_every_accepted_order_is_accounted_for() {
        let parts = LedgerParts {
            door: Some(vec![door("2026-03-01", 10, 2), door("2026-03-02", 5, 0)]),
            lake: vec![lake("2026-03-01", 7, 1), lake("2026-03-02", 5, 0)],
            quarantined: [(day("2026-03-01"), 1)].into(),
            ..Default::default()
        };
        let ledger = assemble(day("2026-03-01")..=day("2026-03-02"), parts);
        assert!(ledger.balanced, "{ledger:#?}");
        assert_eq!(ledger.totals.accepted, Some(15));
        assert_eq!(ledger.totals.landed, 12);
        assert_eq!(ledger.totals.excluded.unknown_customer, 1);
        assert_eq!(ledger.totals.duplicates, Some(2));
    }

    #[test]
    fn an_order_dropped_silently_unbalances_its_day_and_says_how_many() {
        let parts = LedgerParts {
            door: Some(vec![door("2026-03-01", 10, 0), door("2026-03-02", 5, 0)]),
            lake: vec![lake("2026-03-01", 9, 0), lake("2026-03-02", 5, 0)],
            ..Default::default()
        };
        let ledger = assemble(day("2026-03-01")..=day("2026-03-02"), parts);
        assert!(!ledger.balanced);
        let [first, second] = ledger.days.as_slice() else {
            panic!("{ledger:#?}")
        };
        assert!(!first.balanced && second.balanced);
        assert!(
            first.problems[0].contains("1 orders unaccounted for"),
            "{:?}",
            first.problems
        );
    }

    #[test]
    fn the_table_shows_every_day_the_totals_and_the_verdict() {
        let parts = LedgerParts {
            door: Some(vec![door("2026-03-01", 10, 0)]),
            lake: vec![lake("2026-03-01", 9, 0)],
            ..Default::default()
        };
        let table = render_table(&assemble(day("2026-03-01")..=day("2026-03-01"), parts));
        assert!(table.contains("DOES NOT BALANCE"), "{table}");
        let day_line = table.lines().find(|l| l.starts_with("2026-03-01")).unwrap();
        assert!(day_line.ends_with("NO"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("total")), "{table}");
    }

    #[test]
    fn without_a_door_the_door_figures_are_unknown_not_zero() {
        let parts = LedgerParts {
            lake: vec![lake("2026-03-01", 4, 1)],
            ..Default::default()
        };
        let ledger = assemble(day("2026-03-01")..=day("2026-03-01"), parts);
        assert_eq!(ledger.door, DOOR_UNKNOWN);
        assert_eq!(ledger.totals.accepted, None);
        assert!(ledger.balanced, "the lake's identity still holds");
        let json = serde_json::to_value(&ledger).unwrap();
        assert_eq!(json["days"][0]["accepted"], serde_json::Value::Null);
        assert_eq!(json["days"][0]["landed"], 4);
    }

    #[test]
    fn a_landed_order_in_no_bucket_unbalances_the_lake_side() {
        let mut odd = lake("2026-03-01", 4, 1);
        odd.in_report = 2;
        let parts = LedgerParts {
            lake: vec![odd],
            ..Default::default()
        };
        let ledger = assemble(day("2026-03-01")..=day("2026-03-01"), parts);
        assert!(!ledger.balanced);
        assert!(ledger.days[0].problems[0].starts_with("landed 4"));
    }
}
