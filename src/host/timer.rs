//! The embedded timer trigger: fires `build_state_summary` on its cron schedule (six
//! fields with seconds, like Azure's NCRONTAB; evaluated in the report time zone;
//! hourly by default, as in Azure), and once at start-up (`IsPastDue`), as the Functions
//! host's schedule monitor does after a missed run. The function itself decides whether
//! a report is due: it builds the nightly report from 02:00 local on, once.

use super::dispatcher::invoke;
use crate::functions::invocation::encode_timer;
use axum::Router;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cron::Schedule;
use tokio_util::sync::CancellationToken;

pub async fn run(app: Router, schedule: Schedule, tz: Tz, shutdown: CancellationToken) {
    // A build missed while `dev` was stopped is caught up now, not at the next tick.
    fire(&app, &schedule, tz, None, true).await;
    let mut last_run = Some(Utc::now());
    loop {
        let Some(next) = schedule.after(&Utc::now().with_timezone(&tz)).next() else {
            tracing::warn!("the summary schedule has no future run; timer stopped");
            return;
        };
        let wait = (next.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or_default();
        tracing::debug!(next = %next, "next summary timer tick");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => return,
        }
        fire(&app, &schedule, tz, last_run, false).await;
        last_run = Some(Utc::now());
    }
}

async fn fire(
    app: &Router,
    schedule: &Schedule,
    tz: Tz,
    last: Option<DateTime<Utc>>,
    past_due: bool,
) {
    let now = Utc::now();
    let next = schedule
        .after(&now.with_timezone(&tz))
        .next()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    if let Err(e) = invoke(
        app,
        "/build_state_summary",
        encode_timer(now, last, next, past_due).into(),
    )
    .await
    {
        tracing::error!(error = %crate::errors::Chain(&e), "scheduled summary failed; the report keeps its previous contents");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_default_schedule_ticks_hourly() {
        let schedule = Schedule::from_str(crate::functions::SUMMARY_TIMER_SCHEDULE).unwrap();
        let from: DateTime<Utc> = "2026-11-25T03:00:00Z".parse().unwrap();
        let ticks: Vec<DateTime<Utc>> = schedule
            .after(&from.with_timezone(&Tz::UTC))
            .take(3)
            .map(|t| t.with_timezone(&Utc))
            .collect();
        let hour = |h: u32| from + chrono::Duration::hours(h as i64);
        assert_eq!(ticks, [hour(1), hour(2), hour(3)]);
    }

    #[test]
    fn nightly_schedule_parses_and_fires_at_two() {
        let schedule = Schedule::from_str("0 0 2 * * *").unwrap();
        let from: DateTime<Utc> = "2026-11-25T03:00:00Z".parse().unwrap();
        let next = schedule
            .after(&from.with_timezone(&Tz::UTC))
            .next()
            .unwrap();
        assert_eq!(
            next.with_timezone(&Utc),
            "2026-11-26T02:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let previous = schedule
            .after(&from.with_timezone(&Tz::UTC))
            .next_back()
            .unwrap();
        assert_eq!(
            previous.with_timezone(&Utc),
            "2026-11-25T02:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!("every night"
            .parse::<crate::summary::SummarySchedule>()
            .is_err());
    }
}
