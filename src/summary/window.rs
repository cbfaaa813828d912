//! The report window: `[as_of − 12 calendar months, as_of)` on `order_ts` (CONTRACT §6).

use chrono::{
    DateTime, Days, LocalResult, Months, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use std::ops::RangeInclusive;

/// The local hour of the nightly build: 02:00 in the report time zone (CONTRACT §6).
pub const NIGHTLY_BUILD_HOUR: u32 = 2;

/// A report time zone setting (`--report-time-zone`, `REPORT_TIME_ZONE`) that names no
/// IANA zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IANA time zone (e.g. UTC, America/Chicago)")]
pub struct UnknownTimeZone(pub String);

/// Reads the report time zone setting; both hosts read it here.
pub fn parse_report_time_zone(text: &str) -> Result<Tz, UnknownTimeZone> {
    text.trim()
        .parse::<Tz>()
        .map_err(|_| UnknownTimeZone(text.to_string()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportWindow {
    pub as_of: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl ReportWindow {
    /// The window ending at `as_of`. The 12 months are counted on the wall clock of the
    /// report time zone, and a day that does not exist in the earlier month is clamped
    /// to that month's last day (29 Feb 2028 → 28 Feb 2027).
    pub fn ending_at(as_of: DateTime<Utc>, tz: Tz) -> Self {
        let local = as_of.with_timezone(&tz).naive_local();
        let start_local = local
            .checked_sub_months(Months::new(12))
            .expect("dates far from chrono's limits");
        ReportWindow {
            as_of,
            start: resolve(tz, start_local),
            end: as_of,
        }
    }

    /// The nightly run's window: `as_of` is midnight at the start of the run's day in
    /// the report time zone, so a 02:00 run covers the 12 full months through yesterday.
    pub fn nightly(run_time: DateTime<Utc>, tz: Tz) -> Self {
        Self::ending_at_start_of(run_time.with_timezone(&tz).date_naive(), tz)
    }

    /// The window that ends at local midnight at the start of `day` in `tz`.
    fn ending_at_start_of(day: NaiveDate, tz: Tz) -> Self {
        Self::ending_at(resolve(tz, day.and_hms_opt(0, 0, 0).unwrap()), tz)
    }

    /// The nightly report due at `now`: the one of the latest local day whose 02:00 has
    /// come (today's from 02:00 on, yesterday's before), ending at that day's local
    /// midnight. The timer ticks hourly in UTC, because Linux plans run timers in UTC
    /// only; each tick builds this report unless it is built already, so the build lands
    /// at 02:00 local all year, once a day, and a missed or failed build is caught up at
    /// the next tick. On the day clocks skip 02:00 (spring forward) it is due from 03:00;
    /// on the day 01:00–01:59 comes twice (fall back), from the one 02:00.
    pub fn due_nightly(now: DateTime<Utc>, tz: Tz) -> Self {
        let local = now.with_timezone(&tz);
        let today = local.date_naive();
        let day = if local.hour() >= NIGHTLY_BUILD_HOUR {
            today
        } else {
            today.pred_opt().expect("dates far from chrono's limits")
        };
        Self::ending_at_start_of(day, tz)
    }

    /// A zero-length window, for the table an empty warehouse starts with.
    pub fn empty() -> Self {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        ReportWindow {
            as_of: epoch,
            start: epoch,
            end: epoch,
        }
    }

    /// The UTC days (lake partitions) that overlap the window.
    /// Whether all of UTC day `day` lies inside the window.
    pub fn covers_utc_day(&self, day: NaiveDate) -> bool {
        let Some(midnight) = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()) else {
            return false;
        };
        midnight >= self.start && midnight + chrono::Duration::days(1) <= self.end
    }

    pub fn utc_days(&self) -> RangeInclusive<NaiveDate> {
        let first = self.start.date_naive();
        if self.end <= self.start {
            return first..=first.checked_sub_days(Days::new(1)).unwrap_or(first);
            // empty
        }
        let last = (self.end - chrono::Duration::microseconds(1)).date_naive();
        first..=last
    }
}

/// Local wall time → UTC. An ambiguous time (DST fall-back) takes the earlier instant; a
/// time in a DST gap (spring-forward; a few zones skip midnight) moves to the first
/// instant after the gap.
fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..=180 {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, _) => return earlier.with_timezone(&Utc),
            LocalResult::None => probe += chrono::Duration::minutes(1),
        }
    }
    tz.from_utc_datetime(&local).with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn twelve_calendar_months_with_clamping() {
        let w = ReportWindow::ending_at(utc("2026-03-01T00:00:00Z"), Tz::UTC);
        assert_eq!(w.start, utc("2025-03-01T00:00:00Z"));
        let leap = ReportWindow::ending_at(utc("2028-02-29T00:00:00Z"), Tz::UTC);
        assert_eq!(leap.start, utc("2027-02-28T00:00:00Z"));
        let odd = ReportWindow::ending_at(utc("2026-07-31T13:45:00Z"), Tz::UTC);
        assert_eq!(odd.start, utc("2025-07-31T13:45:00Z"));
    }

    #[test]
    fn nightly_is_local_midnight_of_the_run_day() {
        let w = ReportWindow::nightly(utc("2026-11-25T02:00:00Z"), Tz::UTC);
        assert_eq!(
            (w.start, w.end),
            (utc("2025-11-25T00:00:00Z"), utc("2026-11-25T00:00:00Z"))
        );
        // 02:00 in Chicago (CST, UTC−6) is 08:00 UTC; midnight there is 06:00 UTC.
        let chicago = ReportWindow::nightly(utc("2026-11-25T08:00:00Z"), Tz::America__Chicago);
        assert_eq!(chicago.end, utc("2026-11-25T06:00:00Z"));
        // a year earlier Chicago was on CST too
        assert_eq!(chicago.start, utc("2025-11-25T06:00:00Z"));
        // across DST: as_of in summer (CDT, UTC−5), start in... also summer
        let summer = ReportWindow::nightly(utc("2026-07-01T07:00:00Z"), Tz::America__Chicago);
        assert_eq!(summer.end, utc("2026-07-01T05:00:00Z"));
        // A run just after UTC midnight still belongs to its local day.
        let late = ReportWindow::nightly(utc("2026-11-25T03:00:00Z"), Tz::America__Chicago);
        assert_eq!(late.end, utc("2026-11-24T06:00:00Z"));
    }

    /// `hours` hourly ticks from `from` (in UTC, as the Functions timer runs on Linux),
    /// with the report that is due at each in `tz`.
    fn hourly_ticks(tz: Tz, from: &str, hours: i64) -> Vec<(DateTime<Utc>, ReportWindow)> {
        let start = utc(from);
        (0..hours)
            .map(|h| {
                let tick = start + chrono::Duration::hours(h);
                (tick, ReportWindow::due_nightly(tick, tz))
            })
            .collect()
    }

    /// The ticks at which a timer that builds whenever the due report is newer than the
    /// last one built would build, starting with yesterday's report built.
    fn builds(ticks: &[(DateTime<Utc>, ReportWindow)]) -> Vec<(String, String)> {
        let mut last = ticks[0].1.as_of;
        let mut built = Vec::new();
        for (tick, due) in ticks {
            if due.as_of > last {
                last = due.as_of;
                built.push((tick.to_rfc3339(), due.end.to_rfc3339()));
            }
        }
        built
    }

    fn local(tz: Tz, text: &str) -> String {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                t.with_timezone(&Utc).to_rfc3339()
            }
            LocalResult::None => panic!("{text} does not exist in {tz}"),
        }
    }

    #[test]
    fn the_nightly_build_is_at_two_local_all_year_once_a_day() {
        for tz in [Tz::America__New_York, Tz::America__Los_Angeles] {
            // An ordinary winter night and summer night: 02:00 local, one build.
            for day in ["2026-01-15", "2026-07-15"] {
                let ticks = hourly_ticks(tz, &format!("{day}T12:00:00Z"), 24);
                let built = builds(&ticks);
                let next = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                    .unwrap()
                    .succ_opt()
                    .unwrap();
                assert_eq!(
                    built,
                    [(
                        local(tz, &format!("{next} 02:00")),
                        local(tz, &format!("{next} 00:00"))
                    )],
                    "{tz} {day}"
                );
            }
            // Spring forward, Sunday 8 March 2026: 02:00 does not exist; the first
            // tick after it is 03:00 local.
            let built = builds(&hourly_ticks(tz, "2026-03-07T12:00:00Z", 30));
            assert_eq!(
                built,
                [(local(tz, "2026-03-08 03:00"), local(tz, "2026-03-08 00:00"))],
                "{tz} spring"
            );
            // Fall back, Sunday 1 November 2026: 01:00-01:59 comes twice, 02:00 once.
            let built = builds(&hourly_ticks(tz, "2026-10-31T12:00:00Z", 30));
            let two_am_standard = match tz.from_local_datetime(
                &NaiveDateTime::parse_from_str("2026-11-01 02:00", "%Y-%m-%d %H:%M").unwrap(),
            ) {
                LocalResult::Single(t) => t.with_timezone(&Utc).to_rfc3339(),
                other => panic!("02:00 on the fall-back day is one instant: {other:?}"),
            };
            assert_eq!(
                built,
                [(two_am_standard, local(tz, "2026-11-01 00:00"))],
                "{tz} autumn"
            );
        }
    }

    #[test]
    fn a_missed_build_is_due_until_it_is_made() {
        let ny = Tz::America__New_York;
        // 01:59 local on 25 Nov: still yesterday's report; 02:00 and every later hour of
        // the day: today's, so a timer that missed 02:00 builds at its next tick.
        let before = ReportWindow::due_nightly(utc("2026-11-25T06:59:00Z"), ny);
        assert_eq!(before.end, utc("2026-11-24T05:00:00Z"));
        for hour in ["07", "08", "15", "23"] {
            let due = ReportWindow::due_nightly(utc(&format!("2026-11-25T{hour}:00:00Z")), ny);
            assert_eq!(due.end, utc("2026-11-25T05:00:00Z"), "{hour}:00 UTC");
            assert_eq!(due.start, utc("2025-11-25T05:00:00Z"));
        }
        // The next local day starts at 05:00 UTC; its report is due from 07:00 UTC.
        let after_midnight = ReportWindow::due_nightly(utc("2026-11-26T05:30:00Z"), ny);
        assert_eq!(after_midnight.end, utc("2026-11-25T05:00:00Z"));
        // In UTC the rule is the plain one.
        let plain = ReportWindow::due_nightly(utc("2026-11-25T02:00:00Z"), Tz::UTC);
        assert_eq!(
            plain,
            ReportWindow::nightly(utc("2026-11-25T02:00:00Z"), Tz::UTC)
        );
    }

    #[test]
    fn midnight_in_a_dst_gap_moves_forward() {
        // Santiago skipped 2026-09-06 00:00 → 01:00 local (clocks forward at midnight).
        let w = ReportWindow::nightly(utc("2026-09-06T12:00:00Z"), Tz::America__Santiago);
        assert_eq!(
            w.end.with_timezone(&Tz::America__Santiago).date_naive(),
            NaiveDate::from_ymd_opt(2026, 9, 6).unwrap()
        );
    }

    #[test]
    fn utc_days_cover_the_half_open_window() {
        let w = ReportWindow::ending_at(utc("2026-03-01T00:00:00Z"), Tz::UTC);
        let days = w.utc_days();
        assert_eq!(*days.start(), NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        assert_eq!(*days.end(), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        let mid = ReportWindow::ending_at(utc("2026-03-01T06:00:00Z"), Tz::UTC);
        assert_eq!(
            *mid.utc_days().end(),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert!(ReportWindow::empty().utc_days().is_empty());
    }

    #[test]
    fn only_days_wholly_inside_the_window_are_covered() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        let utc_window = ReportWindow::ending_at(utc("2026-03-01T00:00:00Z"), Tz::UTC);
        assert!(utc_window.covers_utc_day(day("2025-03-01")));
        assert!(utc_window.covers_utc_day(day("2026-02-28")));
        assert!(!utc_window.covers_utc_day(day("2026-03-01")));
        assert!(!utc_window.covers_utc_day(day("2025-02-28")));
        // Chicago's midnight is 06:00 UTC: both end days are cut, the ones between are not.
        let chicago: Tz = "America/Chicago".parse().unwrap();
        let local = ReportWindow::ending_at(utc("2026-03-01T06:00:00Z"), chicago);
        assert!(!local.covers_utc_day(day("2025-03-01")));
        assert!(local.covers_utc_day(day("2025-03-02")));
        assert!(local.covers_utc_day(day("2026-02-28")));
        assert!(!local.covers_utc_day(day("2026-03-01")));
        assert!(!ReportWindow::empty().covers_utc_day(day("1970-01-01")));
    }
}
