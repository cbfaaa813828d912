//! `dev --demo-history`: a first start on an empty data dir generates a year of orders
//! for the demo customers, builds the report before it announces its address, and labels
//! the history as demo data in `GET /api/states`; a second start generates nothing; a
//! start without the flag has no history.

use crate::common::*;
use chrono::{Duration, NaiveDate, Timelike, Utc};
use std::path::Path;

/// Every file under the lake's orders table, with its size (what a second start must
/// leave as it is).
fn lake_files(data: &Path) -> Vec<(String, u64)> {
    fn walk(dir: &Path, out: &mut Vec<(String, u64)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push((path.display().to_string(), entry.metadata().unwrap().len()));
            }
        }
    }
    let mut files = Vec::new();
    walk(&data.join("lake/orders_enriched"), &mut files);
    files.sort();
    files
}

fn num(value: &serde_json::Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_demo_start_shows_a_believable_year_for_every_state_and_only_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let http = client();

    let started = std::time::Instant::now();
    let dev = Dev::start(&data, &["--demo-history"]);
    let first_start = started.elapsed();
    let states = get_json(&http, &dev, "/api/states").await;

    // The label: what was generated, for whom, over which days.
    let demo = &states["demo"];
    assert_eq!(demo["orders"], 120_000, "{demo}");
    assert_eq!(demo["customers"], 5_000);
    assert_eq!(demo["first_order_id"], 1_000_000_000_001i64);
    assert_eq!(demo["last_order_id"], 1_000_000_120_000i64);
    let generated_at: chrono::DateTime<Utc> =
        demo["generated_at"].as_str().unwrap().parse().unwrap();
    let today = generated_at.date_naive();
    let day = |key: &str| demo[key].as_str().unwrap().parse::<NaiveDate>().unwrap();
    assert_eq!(day("last_day"), today - Duration::days(1), "ends yesterday");
    assert_eq!(
        day("first_day"),
        today.checked_sub_months(chrono::Months::new(12)).unwrap()
    );
    let gross = num(&demo["gross_sales_usd"]);
    assert!(
        (2_000_000.0..3_500_000.0).contains(&gross),
        "a year's gross of ${gross}"
    );

    // The report was built before the address was announced: the due nightly window.
    assert_eq!(states["report_time_zone"], "UTC");
    assert_eq!(states["accepted_since_build"], 0);
    let due_day = if Utc::now().hour() >= 2 {
        Utc::now().date_naive()
    } else {
        Utc::now().date_naive() - Duration::days(1)
    };
    let window_end: chrono::DateTime<Utc> = states["window_end"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        window_end,
        due_day.and_hms_opt(0, 0, 0).unwrap().and_utc(),
        "{states}"
    );
    let refreshed_at = states["refreshed_at"].clone();
    assert!(refreshed_at.is_string());

    // Every area of the population table has its top 3, of plausible size.
    let areas = states["states"].as_array().unwrap();
    assert_eq!(areas.len(), 52);
    let (mut total_gross, mut total_units) = (0.0, 0.0);
    let mut per_thousand_adults = Vec::new();
    for area in areas {
        let code = area["state"].as_str().unwrap();
        let adults = num(&area["adult_population"]);
        let rows = get_json(&http, &dev, &format!("/api/report?state={code}")).await;
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3, "{code}: {rows:?}");
        let mut state_gross = 0.0;
        for (rank, row) in rows.iter().enumerate() {
            assert_eq!(row["rank"], rank as i64 + 1);
            let units = num(&row["pizzas_sold"]);
            let sales = num(&row["gross_sales_usd"]);
            let customers = num(&row["unique_customers"]);
            let per_adult = num(&row["gross_sales_per_capita_usd"]);
            assert!(units >= 20.0, "{code} rank {}: {units} units", rank + 1);
            assert!(
                (12.0..30.0).contains(&(sales / units)),
                "{code}: ${sales} for {units} units"
            );
            assert!((1.0..=units).contains(&customers), "{code}: {row}");
            assert!((per_adult - sales / adults).abs() < 1e-6, "{code}: {row}");
            if rank > 0 {
                assert!(
                    units <= num(&rows[rank - 1]["pizzas_sold"]),
                    "{code}: ranked"
                );
            }
            state_gross += sales;
            total_units += units;
        }
        total_gross += state_gross;
        per_thousand_adults.push((state_gross / adults * 1000.0, code.to_string()));
    }
    per_thousand_adults.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (low, high) = (&per_thousand_adults[0], &per_thousand_adults[51]);
    eprintln!(
        "demo year: {total_units} units and ${total_gross:.2} in the 52 top-3s (of ${gross:.2}); \
         top 3 per 1,000 adults from ${:.2} ({}) to ${:.2} ({}); first start {first_start:?}",
        low.0, low.1, high.0, high.1
    );
    // The top 3 of five types hold most of the sales; every state sells in proportion to
    // its adults (customers are spread like them), within the noise of small states.
    assert!(
        (0.65..0.95).contains(&(total_gross / gross)),
        "top 3s hold {total_gross} of {gross}"
    );
    assert!(low.0 >= 4.0 && high.0 <= 16.0, "{per_thousand_adults:?}");
    let log_path = dev.log.clone();
    dev.stop();

    let marker = std::fs::read_to_string(data.join("demo-history.json")).unwrap();
    let files = lake_files(&data);
    assert_eq!(
        files.len() as u64,
        demo["days"].as_u64().unwrap(),
        "a file a day"
    );
    let first_log = std::fs::read_to_string(&log_path).unwrap().len();

    // A second start: nothing generated again, nothing rebuilt, still labelled.
    let dev = Dev::start(&data, &["--demo-history"]);
    let again = get_json(&http, &dev, "/api/states").await;
    let mut same = again["demo"].clone();
    assert!(
        (num(&same["gross_sales_usd"]) - gross).abs() < 0.005,
        "{same}"
    );
    same["gross_sales_usd"] = demo["gross_sales_usd"].clone();
    assert_eq!(&same, demo, "still labelled, with the same figures");
    assert_eq!(again["refreshed_at"], refreshed_at);
    let log = dev.log_text()[first_log..].to_string();
    dev.stop();
    assert!(
        !log.contains("generating the 12 months"),
        "a second start generated again:\n{log}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("demo-history.json")).unwrap(),
        marker
    );
    assert_eq!(lake_files(&data), files);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_a_first_start_has_no_history_and_no_label() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let http = client();
    let dev = Dev::start(&data, &[]);
    let states = get_json(&http, &dev, "/api/states").await;
    let first_log = dev.log_text().len();
    dev.stop();
    assert!(states["demo"].is_null(), "{states}");
    assert!(states["refreshed_at"].is_null());
    assert!(states["accepted_since_build"].is_null());
    assert_eq!(states["nightly_builds"], false);
    assert!(!data.join("demo-history.json").exists());
    assert!(lake_files(&data).is_empty());

    // The flag on a data dir that has customers already generates nothing either.
    let dev = Dev::start(&data, &["--demo-history"]);
    let states = get_json(&http, &dev, "/api/states").await;
    let log = dev.log_text()[first_log..].to_string();
    dev.stop();
    assert!(states["demo"].is_null(), "{states}");
    assert!(log.contains("only the first start"), "{log}");
    assert!(lake_files(&data).is_empty());
}
