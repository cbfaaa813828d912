//! When the nightly build's timer ticks: the six-field cron expression (seconds first, as
//! the Functions host's NCRONTAB) of `SUMMARY_SCHEDULE` / `--summary-schedule`, parsed
//! once, where the setting is read, or `off` for no timer.

use cron::Schedule;
use std::str::FromStr;

/// The timer's schedule, or no timer.
#[derive(Debug, Clone)]
pub enum SummarySchedule {
    Off,
    Every(Box<Schedule>),
}

#[derive(Debug, thiserror::Error)]
#[error("summary schedule {expression:?} is not \"off\" or a six-field cron expression (sec min hour day month weekday)")]
pub struct ScheduleError {
    pub expression: String,
    #[source]
    pub source: cron::error::Error,
}

impl FromStr for SummarySchedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, ScheduleError> {
        let expression = text.trim();
        if expression.eq_ignore_ascii_case("off") {
            return Ok(SummarySchedule::Off);
        }
        Schedule::from_str(expression)
            .map(|schedule| SummarySchedule::Every(Box::new(schedule)))
            .map_err(|source| ScheduleError {
                expression: expression.to_string(),
                source,
            })
    }
}

impl SummarySchedule {
    /// The cron schedule, if the timer runs.
    pub fn schedule(&self) -> Option<&Schedule> {
        match self {
            SummarySchedule::Off => None,
            SummarySchedule::Every(schedule) => Some(schedule),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_is_off_or_six_fields_and_a_typo_is_refused() {
        assert!(matches!(
            "off".parse::<SummarySchedule>(),
            Ok(SummarySchedule::Off)
        ));
        assert!(" OFF "
            .parse::<SummarySchedule>()
            .unwrap()
            .schedule()
            .is_none());
        let hourly: SummarySchedule = "0 0 * * * *".parse().unwrap();
        assert!(hourly.schedule().is_some());
        let refused = "0 2 * * *".parse::<SummarySchedule>().unwrap_err();
        assert!(refused.to_string().contains("six-field"), "{refused}");
    }
}
