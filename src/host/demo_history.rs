//! `dev --demo-history`: a believable year on the dashboard from the first start.
//!
//! On a data dir's first start (the demo customers were just created and the lake holds
//! no order), the 12 months before today (UTC) are generated straight into the lake with
//! [`crate::generate`]: [`DEMO_HISTORY_ORDERS`] orders by the 5,000 demo customers, each
//! state with its own taste in pizza, list prices with tax. A marker file in the data dir
//! ([`MARKER`]) records it, so the dashboard can say the history is demo data for as long
//! as it is in the lake. Later starts never generate again.

use super::{DataDir, HostError};
use crate::customers::DEMO_SEED;
use crate::lake::{LakeStore, ORDERS_TABLE};
use chrono::{DateTime, Months, NaiveDate, SubsecRound, Utc};

/// Orders in the generated year: 5,000 customers ordering twice a month on average
/// (5,000 × 2 × 12), the middle of the one-to-four a month of a regular pizza customer.
pub const DEMO_HISTORY_ORDERS: u64 = 120_000;

/// The first order id of the generated year: far above the small ids people type by hand
/// (the README's examples), and below the clock-based ids `simulate` uses by default.
pub const DEMO_FIRST_ORDER_ID: i64 = 1_000_000_000_001;

/// The marker file, in the data dir.
pub const MARKER: &str = "demo-history.json";

/// What the marker file holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DemoHistory {
    pub orders: u64,
    pub customers: usize,
    pub days: u32,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub first_order_id: i64,
    pub last_order_id: i64,
    pub gross_sales_usd: f64,
    pub seed: u64,
    pub generated_at: DateTime<Utc>,
}

/// The marker of an earlier demo start, if any (an unreadable one is reported and
/// ignored: it only labels the dashboard).
pub fn read_marker(dir: &DataDir) -> Option<DemoHistory> {
    let path = dir.root().join(MARKER);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(error = %crate::errors::Chain(&e), path = %path.display(), "demo history marker unreadable; the dashboard will not label the demo data");
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(marker) => Some(marker),
        Err(e) => {
            tracing::warn!(error = %crate::errors::Chain(&e), path = %path.display(), "demo history marker malformed; the dashboard will not label the demo data");
            None
        }
    }
}

/// Whether a start generates the demo year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoDecision {
    Generate,
    /// Not generated, and why.
    Skip(&'static str),
}

/// Whether this start may generate the demo year, and why not when it may not.
pub async fn may_generate(
    first_start: bool,
    remote_lake: bool,
    lake: &dyn LakeStore,
) -> Result<DemoDecision, HostError> {
    if remote_lake {
        return Ok(DemoDecision::Skip(
            "the demo history is written into the data dir's own lake, not a --lake-url container",
        ));
    }
    if !first_start {
        return Ok(DemoDecision::Skip(
            "only the first start of a data dir (no customers yet) generates the demo history",
        ));
    }
    let files = lake.list(ORDERS_TABLE).await?;
    if files.iter().any(|f| f.ends_with(".parquet")) {
        return Ok(DemoDecision::Skip("the lake holds orders already"));
    }
    Ok(DemoDecision::Generate)
}

/// Generates the 12 months before `today` (UTC) into the data dir's lake, then writes the
/// marker. Blocking (uses every core for a second or two).
pub fn generate(
    dir: &DataDir,
    customers: &[crate::customers::Customer],
    today: NaiveDate,
) -> Result<DemoHistory, HostError> {
    let first_day = today
        .checked_sub_months(Months::new(12))
        .expect("dates far from chrono's limits");
    let days = (today - first_day).num_days() as u32;
    let spec = crate::generate::LakeSpec {
        orders: DEMO_HISTORY_ORDERS,
        days,
        end: today,
        seed: DEMO_SEED,
    };
    let report = crate::generate::generate_lake_numbered_from(
        &dir.lake(),
        customers,
        &spec,
        DEMO_FIRST_ORDER_ID,
    )?;
    let marker = DemoHistory {
        orders: report.orders,
        customers: report.customers,
        days,
        first_day,
        last_day: today.pred_opt().expect("dates far from chrono's limits"),
        first_order_id: DEMO_FIRST_ORDER_ID,
        last_order_id: DEMO_FIRST_ORDER_ID + report.orders as i64 - 1,
        gross_sales_usd: report.gross_sales_usd,
        seed: DEMO_SEED,
        generated_at: Utc::now().trunc_subsecs(0),
    };
    write_marker(dir, &marker)?;
    tracing::info!(
        orders = marker.orders,
        customers = marker.customers,
        first_day = %marker.first_day,
        last_day = %marker.last_day,
        gross_sales_usd = marker.gross_sales_usd,
        seconds = report.seconds,
        "demo history: generated a year of orders into the lake (labelled as demo data on the dashboard)"
    );
    Ok(marker)
}

fn write_marker(dir: &DataDir, marker: &DemoHistory) -> Result<(), HostError> {
    let path = dir.root().join(MARKER);
    let json = serde_json::to_vec_pretty(marker).expect("json");
    crate::files::write_atomically(&path, &json).map_err(|source| HostError::Marker {
        path: path.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_ends_yesterday_and_spans_twelve_months() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::create(&tmp.path().join("data")).unwrap();
        let customers = crate::customers::demo_customers(50, &["TX", "VT"], DEMO_SEED);
        let today: NaiveDate = "2026-12-02".parse().unwrap();
        let marker = generate(&dir, &customers, today).unwrap();
        assert_eq!(marker.days, 365);
        assert_eq!(marker.first_day, "2025-12-02".parse::<NaiveDate>().unwrap());
        assert_eq!(marker.last_day, "2026-12-01".parse::<NaiveDate>().unwrap());
        assert_eq!(marker.orders, DEMO_HISTORY_ORDERS);
        assert_eq!(
            marker.last_order_id - marker.first_order_id + 1,
            DEMO_HISTORY_ORDERS as i64
        );
        assert!(marker.gross_sales_usd > 0.0);
        let read = read_marker(&dir).expect("the marker");
        assert!((read.gross_sales_usd - marker.gross_sales_usd).abs() < 0.005);
        assert_eq!(
            read,
            DemoHistory {
                gross_sales_usd: read.gross_sales_usd,
                ..marker
            }
        );
        assert!(dir
            .lake()
            .join("orders_enriched/order_date=2026-12-01")
            .is_dir());
        assert!(!dir
            .lake()
            .join("orders_enriched/order_date=2026-12-02")
            .exists());
    }
}
