//! The books catch what no other check would: an order dropped silently on its way to the
//! lake. Orders go through the real door (the order log), the real `enrich_orders` and
//! the real lake; one run delivers every event, the other breaks the landing rule on
//! purpose by leaving one event out of the batch while still moving the checkpoint past
//! it, as a buggy consumer would. Nothing fails, nothing is logged: only the ledger says
//! that one order of that day is unaccounted for.

use crate::common::in_process::{customer, InProcess};
use axum::body::Body;
use axum::http::Request;
use chrono::{NaiveDate, TimeZone, Utc};
use pizza_pipeline::functions::invocation::encode_eventhub_batch;
use pizza_pipeline::lake::LakeGate;
use pizza_pipeline::ledger::Ledger;
use pizza_pipeline::order::{Order, OrderEvent, PizzaType};
use pizza_pipeline::serving::EmbeddedBooks;
use pizza_pipeline::stream::OrderStream;
use std::sync::Arc;
use tower::ServiceExt;

const CONSUMER: &str = "dispatcher";

/// Twenty orders over two days, by customers 1 (TX) and 2 (unknown).
fn orders() -> Vec<OrderEvent> {
    (1..=20)
        .map(|id| {
            let order = Order {
                order_id: id,
                customer_id: 1 + id % 2,
                pizza_type: PizzaType::Cheese,
                qty: 1,
                retail_price_cents: 999,
                order_ts: Utc
                    .with_ymd_and_hms(2026, 3, 1 + (id % 2) as u32, 12, 0, 0)
                    .unwrap(),
            };
            OrderEvent::new(&order, Utc::now())
        })
        .collect()
}

/// Accepts the orders at the door, hands them to `enrich_orders` in one batch (without
/// the event of `dropped`, if any), checkpoints past the whole batch, and reads the books.
async fn books_after_landing(dropped: Option<i64>) -> Ledger {
    let handler = InProcess::start(chrono_tz::UTC, &[customer(1, "TX")]);
    let (app, log, lake, warehouse) = (
        handler.app.clone(),
        handler.log.clone(),
        handler.lake.clone(),
        handler.warehouse.clone(),
    );
    let log_path = handler.dir.path().join("order-log.sqlite");
    log.publish(orders()).await.unwrap();
    let batch = log.read_after(0, 100).unwrap();
    let last = batch.events.last().unwrap().seq;
    let delivered: Vec<_> = batch
        .events
        .iter()
        .filter(|e| {
            let order = OrderEvent::from_json(&e.body).unwrap();
            Some(order.order_id) != dropped
        })
        .map(|e| (e.seq, e.body.as_str(), e.enqueued_at))
        .collect();
    let request = Request::post("/enrich_orders")
        .header("content-type", "application/json")
        .body(Body::from(encode_eventhub_batch(
            "0", &delivered, "orders", "$Default",
        )))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200, "the broken landing fails nothing");
    tokio::task::block_in_place(|| log.set_checkpoint(CONSUMER, last)).unwrap();
    log.close();

    let population = Arc::new(pizza_pipeline::population::shipped());
    let books = EmbeddedBooks {
        log_path,
        consumer: CONSUMER,
        warehouse,
        lake: lake.clone(),
        population: population.clone(),
    };
    let days =
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()..=NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let ledger = books.ledger(days.clone()).await.unwrap();
    // The lake's half from the roll-ups (here: days not compacted yet, rolled up from their
    // orders; then compacted, from their roll-ups) equals its SQL definition's.
    let by_sql = books.lake_days_by_sql(days.clone()).await.unwrap();
    let from_rollups =
        || pizza_pipeline::ledger::lake_days(lake.as_ref(), &days, None, &population);
    assert_eq!(from_rollups().await.unwrap(), by_sql);
    pizza_pipeline::lake::compact_lake(lake.as_ref(), &LakeGate::default(), None)
        .await
        .unwrap();
    assert_eq!(from_rollups().await.unwrap(), by_sql);
    ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_is_accounted_for_when_landing_is_honest() {
    let ledger = books_after_landing(None).await;
    assert!(ledger.balanced, "{ledger:#?}");
    assert_eq!(ledger.totals.accepted, Some(20));
    assert_eq!(ledger.totals.landed, 20);
    assert_eq!(ledger.totals.not_yet_landed, Some(0));
    assert_eq!(
        ledger.totals.excluded.unknown_customer, 10,
        "customer 2 is unknown"
    );
    assert_eq!(ledger.days.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_dropped_silently_on_landing_unbalances_its_day() {
    let ledger = books_after_landing(Some(7)).await;
    assert!(!ledger.balanced, "the books notice: {ledger:#?}");
    // Order 7 is of 2 March (odd ids); 1 March is untouched and still balances.
    let [march_1, march_2] = ledger.days.as_slice() else {
        panic!("{ledger:#?}")
    };
    assert!(march_1.balanced, "{march_1:?}");
    assert!(!march_2.balanced);
    assert_eq!((march_2.line.accepted, march_2.line.landed), (Some(10), 9));
    assert!(
        march_2.problems[0].ends_with("1 orders unaccounted for"),
        "{:?}",
        march_2.problems
    );
}
