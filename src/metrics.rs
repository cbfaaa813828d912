//! Prometheus metrics (`GET /metrics`): what an operator needs to see that nothing is
//! lost and nothing is late.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub orders_accepted: IntCounter,
    pub orders_duplicate: IntCounter,
    pub orders_conflicts: IntCounter,
    pub orders_rejected: IntCounterVec,
    pub orders_landed: IntCounter,
    pub unknown_customers: IntCounter,
    pub poison_events: IntCounter,
    pub invocations_quarantined: IntCounter,
    pub enrich_failures: IntCounter,
    pub log_backlog: IntGauge,
    pub accepted_to_landed: Histogram,
    pub refreshes: IntCounter,
    pub refresh_seconds: Histogram,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let orders_accepted = counter(
            "pizza_orders_accepted_total",
            "Orders newly appended to the order stream (202).",
        );
        let orders_duplicate = counter(
            "pizza_orders_duplicate_total",
            "Re-posted orders identical to one already accepted (counted once).",
        );
        let orders_conflicts = counter("pizza_order_conflicts_total", "Re-posted order_ids with a different payload; the first stands, the conflict is quarantined.");
        let orders_landed = counter(
            "pizza_orders_landed_total",
            "Enriched rows written to the lake (a retried batch counts again).",
        );
        let unknown_customers = counter(
            "pizza_unknown_customers_total",
            "Landed rows whose customer_id was not found (kept, customer_found = false).",
        );
        let poison_events = counter(
            "pizza_poison_events_total",
            "Stream events that were not order events, set aside in the lake's quarantine.",
        );
        let invocations_quarantined = counter(
            "pizza_invocations_quarantined_total",
            "enrich_orders invocations the handler could not read at all, kept raw in the lake's quarantine and acknowledged.",
        );
        let enrich_failures = counter(
            "pizza_enrich_failures_total",
            "Failed enrich_orders invocations (the batch is retried, not skipped).",
        );
        let refreshes = counter(
            "pizza_summary_refreshes_total",
            "Builds of state_top_pizzas.",
        );
        let orders_rejected = IntCounterVec::new(
            Opts::new(
                "pizza_orders_rejected_total",
                "Requests refused by POST /api/orders, by HTTP status.",
            ),
            &["status"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(orders_rejected.clone()))
            .expect("unique metric");
        let log_backlog = IntGauge::new(
            "pizza_order_log_backlog",
            "Accepted orders not yet landed in the lake.",
        )
        .expect("valid metric");
        registry
            .register(Box::new(log_backlog.clone()))
            .expect("unique metric");
        let accepted_to_landed = Histogram::with_opts(
            HistogramOpts::new(
                "pizza_accepted_to_landed_seconds",
                "Time from the 202 to the order's Parquet file being in the lake.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0,
                15.0, 60.0, 300.0, 900.0,
            ]),
        )
        .expect("valid metric");
        registry
            .register(Box::new(accepted_to_landed.clone()))
            .expect("unique metric");
        let refresh_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "pizza_summary_refresh_seconds",
                "Duration of state_top_pizzas builds.",
            )
            .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]),
        )
        .expect("valid metric");
        registry
            .register(Box::new(refresh_seconds.clone()))
            .expect("unique metric");
        Metrics {
            registry,
            orders_accepted,
            orders_duplicate,
            orders_conflicts,
            orders_rejected,
            orders_landed,
            unknown_customers,
            poison_events,
            invocations_quarantined,
            enrich_failures,
            log_backlog,
            accepted_to_landed,
            refreshes,
            refresh_seconds,
        }
    }

    /// Counts one report build, and how long it took (every path that builds one: the
    /// timer's function, `POST /admin/refresh`, the demo history's first build).
    pub fn record_refresh(&self, took: std::time::Duration) {
        self.refreshes.inc();
        self.refresh_seconds.observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
