//! The embedded timer trigger: fires `build_state_summary` on its cron schedule (six
//! fields with seconds, like Azure's NCRONTAB; evaluated in the report time zone), and
//! once at start-up when the last scheduled run was missed (`IsPastDue`), as the
//! Functions host's schedule monitor does.

use super::dispatcher::invoke;
use crate::functions::invocation::encode_timer;
use crate::summary::{ReportWindow, SummaryService};
use axum::Router;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cron::Schedule;
use std::str::FromStr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub fn parse_schedule(expression: &str) -> anyhow::Result<Schedule> {
    Schedule::from_str(expression)
        .map_err(|e| anyhow::anyhow!("summary schedule {expression:?} is not a six-field cron expression (sec min hour day month weekday): {e}"))
}

pub async fn run(
    app: Router,
    schedule: Schedule,
    tz: Tz,
    summary: Arc<SummaryService>,
    shutdown: CancellationToken,
) {
    let mut last_run: Option<DateTime<Utc>> = None;
    if let Some(missed) = missed_run(&schedule, tz, summary.last_as_of()) {
        tracing::info!(scheduled = %missed, "the last scheduled summary was missed; running it now (past due)");
        fire(&app, &schedule, tz, None, true).await;
        last_run = Some(Utc::now());
    }
    loop {
        let Some(next) = schedule.after(&Utc::now().with_timezone(&tz)).next() else {
            tracing::warn!("the summary schedule has no future run; timer stopped");
            return;
        };
        let wait = (next.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or_default();
        tracing::info!(next = %next, "next scheduled summary");
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
        tracing::error!(error = %e, "scheduled summary failed; the report keeps its previous contents");
    }
}

/// The most recent scheduled time, if the report was last built for an older window.
/// A warehouse that was never refreshed has nothing to catch up on.
fn missed_run(
    schedule: &Schedule,
    tz: Tz,
    last_as_of: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let last_as_of = last_as_of?;
    let previous = schedule
        .after(&Utc::now().with_timezone(&tz))
        .next_back()?
        .with_timezone(&Utc);
    let due = ReportWindow::nightly(previous, tz).as_of;
    (last_as_of < due).then_some(previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nightly_schedule_parses_and_fires_at_two() {
        let schedule = parse_schedule("0 0 2 * * *").unwrap();
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
        assert!(parse_schedule("every night").is_err());
    }
}
