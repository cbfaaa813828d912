//! The report window: `[as_of − 12 calendar months, as_of)` on `order_ts` (CONTRACT §6).

use chrono::{DateTime, Days, LocalResult, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::ops::RangeInclusive;

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
        let day = run_time.with_timezone(&tz).date_naive();
        Self::ending_at(resolve(tz, day.and_hms_opt(0, 0, 0).unwrap()), tz)
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
