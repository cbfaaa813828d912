//! The handler's trigger routes fed what the Azure Functions host sends (the payloads of
//! tests/fixtures/functions_host, edited where a case needs it), on the real embedded
//! adapters: no bad event and no bad invocation can hold a partition still, nothing is
//! dropped unseen, and the hourly timer builds the nightly report once per local day.

use crate::common::in_process::{customer, InProcess};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use pizza_pipeline::functions::invocation;
use pizza_pipeline::lake::{LakeStore, LocalLake};
use pizza_pipeline::summary::{RefreshOptions, ReportWindow};
use serde_json::Value;
use tower::ServiceExt;

/// The handler's routes on a fresh lake, warehouse, log and customer table; the fixture
/// batch's customers (ids 42 and 7) exist.
fn handler(report_tz: chrono_tz::Tz) -> InProcess {
    InProcess::start(report_tz, &[customer(42, "TX"), customer(7, "NY")])
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/functions_host/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// POSTs `body` to a trigger route as the host does; the status and the JSON answer.
async fn invoke(app: &Router, route: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let request = Request::post(route)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, answer)
}

async fn files_under(lake: &LocalLake, prefix: &str) -> Vec<String> {
    lake.list(prefix).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json_is_quarantined_and_the_rest_of_its_batch_lands() {
    let handler = handler(chrono_tz::UTC);
    // "dataType": "string": the host hands each body over as text. The second event of the
    // documented batch becomes something that is not JSON at all.
    let mut request = fixture("eventhub_many_request_datatype_string.json");
    let mut bodies: Vec<String> =
        serde_json::from_str(request["Data"]["orders"].as_str().unwrap()).unwrap();
    assert_eq!(bodies.len(), 3);
    bodies[1] = "<order id=2>not JSON</order>".to_string();
    request["Data"]["orders"] = serde_json::to_string(&bodies).unwrap().into();

    let (status, _) = invoke(
        &handler.app,
        "/enrich_orders",
        serde_json::to_vec(&request).unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "acknowledged: the partition moves on"
    );

    let landed = files_under(&handler.lake, "orders_enriched").await;
    assert_eq!(landed.len(), 1, "{landed:?}");
    assert_eq!(
        handler.metrics.orders_landed.get(),
        2,
        "the two orders land"
    );
    let quarantined = files_under(&handler.lake, "quarantine/enrich").await;
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    let kept = handler.lake.get(&quarantined[0]).await.unwrap();
    let kept: Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(kept["body"], "<order id=2>not JSON</order>");
    assert_eq!(kept["seq"], 1201, "named by its sequence number");
    assert!(
        kept["reason"]
            .as_str()
            .unwrap()
            .contains("not an order event"),
        "{kept}"
    );
    assert_eq!(handler.metrics.poison_events.get(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_invocation_is_kept_raw_counted_and_acknowledged() {
    let handler = handler(chrono_tz::UTC);
    let unreadable: [&[u8]; 3] = [
        b"{\"Data\": {\"orders\": \"[{\"",
        br#"{"Data":{"something_else":"[]"},"Metadata":{}}"#,
        br#"{"Data":{"orders":"[\"a\",\"b\"]"},"Metadata":{"SequenceNumberArray":"[1]","PartitionContext":{"PartitionId":"0"}}}"#,
    ];
    for (sent, body) in unreadable.iter().enumerate() {
        let (status, answer) = invoke(&handler.app, "/enrich_orders", body.to_vec()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let logs = answer["Logs"].to_string();
        assert!(logs.contains("kept in quarantine"), "{logs}");
        assert_eq!(
            handler.metrics.invocations_quarantined.get(),
            sent as u64 + 1
        );
    }
    let kept = files_under(&handler.lake, "quarantine/invocations/enrich_orders").await;
    let raw: Vec<&String> = kept.iter().filter(|f| f.ends_with(".body")).collect();
    let reasons: Vec<&String> = kept
        .iter()
        .filter(|f| f.ends_with(".reason.json"))
        .collect();
    assert_eq!((raw.len(), reasons.len()), (3, 3), "{kept:?}");
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    for path in &raw {
        bodies.push(handler.lake.get(path).await.unwrap().to_vec());
    }
    for body in unreadable {
        assert!(bodies.contains(&body.to_vec()), "kept byte for byte");
    }
    let reason: Value =
        serde_json::from_slice(&handler.lake.get(reasons[0]).await.unwrap()).unwrap();
    assert_eq!(reason["function"], "enrich_orders");
    assert!(!reason["reason"].as_str().unwrap().is_empty());
    // Nothing landed and the stream's failure counter did not move: it was not a failure.
    assert!(files_under(&handler.lake, "orders_enriched")
        .await
        .is_empty());
    assert_eq!(handler.metrics.enrich_failures.get(), 0);

    // The same invocation sent again is kept once.
    let (status, _) = invoke(&handler.app, "/enrich_orders", unreadable[0].to_vec()).await;
    assert_eq!(status, StatusCode::OK);
    let again = files_under(&handler.lake, "quarantine/invocations/enrich_orders").await;
    assert_eq!(again.len(), kept.len(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_without_its_partition_fails_and_nothing_is_written() {
    let handler = handler(chrono_tz::UTC);
    let mut request = fixture("eventhub_many_request.json");
    request["Metadata"]
        .as_object_mut()
        .unwrap()
        .remove("PartitionContext");
    let (status, answer) = invoke(
        &handler.app,
        "/enrich_orders",
        serde_json::to_vec(&request).unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "failed, so the host retries it rather than the handler guessing partition 0"
    );
    assert!(
        answer["Logs"].to_string().contains("PartitionContext"),
        "{answer}"
    );
    for written in ["orders_enriched", "quarantine"] {
        assert!(
            files_under(&handler.lake, written).await.is_empty(),
            "{written}"
        );
    }
    assert_eq!(handler.metrics.enrich_failures.get(), 1);
    assert_eq!(handler.metrics.invocations_quarantined.get(), 0);
}

/// `pizza_orders_rejected_total` counts each refused request under the status it was
/// answered with: a body that breaks off is a 400, not a 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_orders_are_counted_under_the_status_they_were_answered() {
    let handler = handler(chrono_tz::UTC);
    let post = |content_type: &str, body: Body| {
        Request::post("/api/orders")
            .header("content-type", content_type)
            .body(body)
            .unwrap()
    };
    let broken_off = Body::from_stream(futures::stream::iter([
        Ok(bytes::Bytes::from_static(b"{\"order_id\": 1")),
        Err(std::io::Error::other("the client went away")),
    ]));
    let too_large = vec![b' '; pizza_pipeline::order::MAX_BODY_BYTES + 1];
    let cases = [
        (post("application/json", Body::from(too_large)), "413"),
        (post("text/plain", Body::from("{}")), "415"),
        (post("application/json", broken_off), "400"),
        (
            post("application/json", Body::from(r#"{"order_id": 0}"#)),
            "422",
        ),
    ];
    for (request, status) in cases {
        let answer = handler.app.clone().oneshot(request).await.unwrap();
        assert_eq!(answer.status().as_str(), status);
    }
    for status in ["413", "415", "400", "422"] {
        let counted = handler.metrics.orders_rejected.with_label_values(&[status]);
        assert_eq!(counted.get(), 1, "refused with {status}");
    }
    assert_eq!(handler.log.last_seq(), 0, "nothing refused is kept");
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// One timer tick at `now` as the host sends it: the function's answer.
async fn tick_answer(handler: &InProcess, now: DateTime<Utc>) -> Value {
    let body = invocation::encode_timer(now, None, now, false);
    let (status, answer) = invoke(&handler.app, "/build_state_summary", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// One timer tick as the host sends it; whether a report was built, and its window end.
async fn tick(handler: &InProcess, now: &str) -> Option<String> {
    tick_answer(handler, at(now)).await["ReturnValue"]["window_end"]
        .as_str()
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_timer_builds_the_nightly_report_once_at_two_local() {
    // New York: 02:00 EST is 07:00 UTC.
    let handler = handler(chrono_tz::America::New_York);
    // Never built: the first tick builds the report due then (yesterday's, before 02:00).
    assert_eq!(
        tick(&handler, "2026-11-25T06:00:00Z").await.as_deref(),
        Some("2026-11-24T05:00:00.000000Z")
    );
    // 02:00 local: today's report.
    assert_eq!(
        tick(&handler, "2026-11-25T07:00:00Z").await.as_deref(),
        Some("2026-11-25T05:00:00.000000Z")
    );
    // The rest of the day's ticks find it built.
    for hour in ["08", "12", "23"] {
        assert_eq!(
            tick(&handler, &format!("2026-11-25T{hour}:00:00Z")).await,
            None
        );
    }
    // Past local midnight (05:00 UTC) but before 02:00 local: still nothing new to build.
    assert_eq!(tick(&handler, "2026-11-26T06:00:00Z").await, None);
    // A missed 02:00 is caught up at the next tick.
    assert_eq!(
        tick(&handler, "2026-11-26T09:00:00Z").await.as_deref(),
        Some("2026-11-26T05:00:00.000000Z")
    );
    assert_eq!(handler.metrics.refreshes.get(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_demand_report_never_stands_in_for_a_nightly_build() {
    let ny = chrono_tz::America::New_York;
    let handler = handler(ny);
    assert!(tick(&handler, "2026-11-25T07:00:00Z").await.is_some());
    // At noon someone builds a preview of the window that ends tonight (POST
    // /admin/refresh with that as_of). It lacks the rest of today's orders, so it must
    // not count as tomorrow's nightly report; the next tick puts today's back.
    let tonight = ReportWindow::ending_at(at("2026-11-26T05:00:00Z"), ny);
    handler
        .summary
        .refresh(tonight, RefreshOptions::default())
        .await
        .unwrap();
    assert_eq!(
        tick(&handler, "2026-11-25T18:00:00Z").await.as_deref(),
        Some("2026-11-25T05:00:00.000000Z")
    );
    assert_eq!(
        tick(&handler, "2026-11-26T07:00:00Z").await.as_deref(),
        Some("2026-11-26T05:00:00.000000Z"),
        "tomorrow's 02:00 build happens"
    );
}

/// The weekly verification recomputes the nightly report with the warehouse's own SQL and
/// publishes nothing: it answers with the rows that agree, and when a roll-up no longer
/// tells the truth it fails, its error line naming the first difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_verification_says_whether_the_core_and_the_sql_agree() {
    use pizza_pipeline::functions::{VERIFICATION_FAILED, VERIFIED};
    use pizza_pipeline::lake::paths::MONTH_ROLLUP_TABLE;
    use pizza_pipeline::lake::rollup::ROLLUP_TABLE;
    let handler = handler(chrono_tz::UTC);
    let request = fixture("eventhub_many_request_datatype_string.json");
    let (status, _) = invoke(
        &handler.app,
        "/enrich_orders",
        serde_json::to_vec(&request).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let sunday = "2026-12-06T04:30:00Z";
    assert!(tick(&handler, sunday).await.is_some(), "the nightly build");
    let refreshes = handler.metrics.refreshes.get();

    let verify = || async {
        let body = invocation::encode_timer(at(sunday), None, at(sunday), false);
        invoke(&handler.app, "/verify_state_summary", body).await
    };
    let (status, answer) = verify().await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let line = answer["Logs"][0].as_str().unwrap();
    assert!(line.starts_with(VERIFIED), "{line}");
    assert!(line.ends_with("rows agree with DuckDB"), "{line}");
    assert!(answer["ReturnValue"]["report_rows"].as_u64().unwrap() > 0);
    assert_eq!(handler.metrics.refreshes.get(), refreshes, "nothing built");

    // A roll-up that lost a customer's orders: the verification fails.
    let rollups = files_under(&handler.lake, ROLLUP_TABLE).await;
    assert!(!rollups.is_empty());
    let empty = pizza_pipeline::lake::rollup::DayRollup::default()
        .to_parquet()
        .unwrap();
    for rollup in &rollups {
        handler.lake.put(rollup, empty.clone()).await.unwrap();
    }
    // Without their month's roll-up (the build wrote one for March), the days are
    // read from those.
    let months = files_under(&handler.lake, MONTH_ROLLUP_TABLE).await;
    assert_eq!(months.len(), 1, "{months:?}");
    handler.lake.delete(&months[0]).await.unwrap();
    let (status, answer) = verify().await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
    let said = answer.to_string();
    assert!(said.contains("disagree"), "{said}");
    assert!(
        said.contains("the report core has 0 rows and DuckDB"),
        "{said}"
    );
    assert!(VERIFICATION_FAILED.starts_with("state_top_pizzas verification"));
}

/// The fixture batch of the host (customers 42 and 7), every order dated `at`, through
/// `enrich_orders`.
async fn enrich_dated(handler: &InProcess, at: &str) {
    let mut request = fixture("eventhub_many_request_datatype_string.json");
    let bodies: Vec<String> =
        serde_json::from_str(request["Data"]["orders"].as_str().unwrap()).unwrap();
    let dated: Vec<String> = bodies
        .iter()
        .map(|body| {
            let mut event: Value = serde_json::from_str(body).unwrap();
            event["order_ts"] = at.into();
            event["received_at"] = at.into();
            event.to_string()
        })
        .collect();
    request["Data"]["orders"] = serde_json::to_string(&dated).unwrap().into();
    let (status, _) = invoke(
        &handler.app,
        "/enrich_orders",
        serde_json::to_vec(&request).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// A tick that finds the due report built compacts the days that have ended and rolls
/// them up, so the 02:00 build reads roll-ups only; the day still under way is left to
/// the build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_between_builds_compact_the_ended_days_ahead_of_the_build() {
    let handler = handler(chrono_tz::UTC);
    let today = Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let hour = |day: chrono::NaiveDate, h: u32| day.and_hms_opt(h, 0, 0).unwrap().and_utc();
    let tick_at = |at: DateTime<Utc>| tick_answer(&handler, at);
    enrich_dated(&handler, &hour(today, 0).to_rfc3339()).await;
    let day_folder = format!("orders_enriched/order_date={today}");
    let landed = files_under(&handler.lake, &day_folder).await;
    assert!(landed[0].contains("/p"), "a batch file: {landed:?}");

    // Tomorrow 01:00 UTC: today's nightly report is due at 02:00; the one due now (to
    // today 00:00) is built first, without today's orders.
    let built = tick_at(hour(tomorrow, 1)).await;
    assert_eq!(built["ReturnValue"]["report_rows"], 0, "{built}");
    assert_eq!(
        files_under(&handler.lake, &day_folder).await,
        landed,
        "today is not in that window: left as it landed"
    );
    // The next tick finds it built, and compacts today, which has ended by then.
    let between = tick_at(hour(tomorrow, 1) + chrono::Duration::minutes(30)).await;
    let said = between["Logs"].to_string();
    assert!(said.contains("built already"), "{said}");
    assert!(
        said.contains("compacted 1 days and rolled up 1 ahead of the nightly build"),
        "{said}"
    );
    let compacted = files_under(&handler.lake, &day_folder).await;
    assert!(
        compacted.len() == 1 && compacted[0].contains("compacted-"),
        "{compacted:?}"
    );
    let rollups = files_under(&handler.lake, "orders_daily").await;
    assert_eq!(rollups.len(), 1, "{rollups:?}");

    // 02:00: the build finds nothing to compact and reads today from its roll-up.
    let nightly = tick_at(hour(tomorrow, 2)).await;
    let report = &nightly["ReturnValue"];
    assert_eq!(report["partitions_compacted"], 0, "{nightly}");
    assert_eq!(report["rollups_written"], 0, "{nightly}");
    assert_eq!(report["days_from_rollups"], 1, "{nightly}");
    assert_eq!(
        report["report_rows"], 3,
        "the batch's (state, type) groups: {nightly}"
    );
    // Nothing left to do ahead of the next build: no line about it.
    let quiet = tick_at(hour(tomorrow, 3)).await;
    assert!(!quiet["Logs"].to_string().contains("ahead"), "{quiet}");
}

/// `POST /api/refresh` (the operators' HTTP function, `authLevel: admin`): without a body
/// it builds the nightly report that is due unless that one is built already, as the
/// timer does; `{"force": true}` builds it again. That is the first deployment's smoke
/// test: an early tick built today's report from an almost empty lake, the smoke orders
/// dated yesterday land afterwards, and the forced rebuild shows them the same day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_rebuild_shows_orders_that_landed_after_the_nightly_build() {
    let handler = handler(chrono_tz::UTC);
    let refresh = |body: &'static str| invoke(&handler.app, "/api/refresh", body.into());
    let (status, early) = refresh("{}").await;
    assert_eq!(status, StatusCode::OK, "{early}");
    assert_eq!(early["report_rows"], 0, "built from an empty lake: {early}");
    let (status, again) = refresh("{}").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["built_already"], true, "{again}");

    // The smoke test's orders, dated yesterday, land.
    let yesterday = (Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%dT12:00:00Z");
    enrich_dated(&handler, &yesterday.to_string()).await;

    let (status, still) = refresh("{}").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still["built_already"], true, "the timer's rule: {still}");
    let (status, forced) = refresh(r#"{"force": true}"#).await;
    assert_eq!(status, StatusCode::OK, "{forced}");
    assert!(
        forced["report_rows"].as_u64().unwrap() >= 2,
        "TX and NY: {forced}"
    );
    assert_eq!(
        forced["window_end"], early["window_end"],
        "the same nightly window"
    );

    // A body it cannot use is refused with the reason; no build.
    let (status, refused) = refresh(r#"{"force": "yes"}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["error"].is_string(), "{refused}");
}
