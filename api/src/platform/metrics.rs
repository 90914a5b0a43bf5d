//! The service's own SLIs (SPEC §7), in the Prometheus text format: one registry per
//! process, counted where things happen, read by `GET /metrics`.
//!
//! Counters and histograms live in this process and start at zero when it starts
//! (Prometheus' `rate()` and `increase()` handle the reset). Gauges about the job queue are
//! not kept here: they are read from the database at each scrape (see [`JobBacklog`]), so
//! every instance reports the same, whole queue.
//!
//! Labels are bounded by construction: a route is the matched pattern, never the raw path;
//! a method outside the usual ones is `OTHER`; a status is its class.
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::sync::LazyLock;
use std::time::Duration;

/// The label of requests no route matched (404s, 405s): one series, whatever the path.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets in seconds, with edges at the SLO thresholds (100 ms reads, 300 ms writes).
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric this process counts.
pub struct Metrics {
    registry: Registry,
    request_duration: HistogramVec,
    requests: IntCounterVec,
    server_errors: IntCounter,
    mail_failures: IntCounterVec,
    sla_breaches: IntCounterVec,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process' metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// Due jobs of one kind, as read from the queue at a scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct JobBacklog {
    pub kind: String,
    /// Pending jobs whose `run_at` has passed: waiting for a worker.
    pub due: i64,
    /// How long the oldest of them has waited, in seconds (0 when none is due).
    pub oldest_due_age_seconds: f64,
}

impl Metrics {
    fn new() -> Self {
        let labels = &["method", "route", "status_class"];
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "gmud_http_request_duration_seconds",
                "Time from a request's arrival to its response, by route pattern",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            labels,
        )
        .expect("valid histogram");
        let requests = IntCounterVec::new(
            Opts::new(
                "gmud_http_requests_total",
                "HTTP requests answered, by route pattern",
            ),
            labels,
        )
        .expect("valid counter");
        // The error budget's numerator, always present (by route: `gmud_http_requests_total`
        // with `status_class="5xx"`).
        let server_errors = IntCounter::new(
            "gmud_http_server_errors_total",
            "HTTP requests answered with a 5xx status",
        )
        .expect("valid counter");
        let mail_failures = IntCounterVec::new(
            Opts::new(
                "gmud_mail_send_failures_total",
                "Failed attempts to send an e-mail (permanent: the server refused it for good)",
            ),
            &["permanent"],
        )
        .expect("valid counter");
        let sla_breaches = IntCounterVec::new(
            Opts::new(
                "gmud_sla_breaches_total",
                "Ticket SLA clocks recorded as breached, by clock",
            ),
            &["clock"],
        )
        .expect("valid counter");
        let registry = Registry::new();
        for c in [
            Box::new(request_duration.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(server_errors.clone()),
            Box::new(mail_failures.clone()),
            Box::new(sla_breaches.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        // Families a scrape should show before the first event, so that a query or an alert
        // on them reads 0 rather than nothing.
        for permanent in ["true", "false"] {
            mail_failures.with_label_values(&[permanent]);
        }
        for clock in ["response", "resolution"] {
            sla_breaches.with_label_values(&[clock]);
        }
        Metrics {
            registry,
            request_duration,
            requests,
            server_errors,
            mail_failures,
            sla_breaches,
        }
    }

    /// Counts one answered request. `route` is the matched pattern ([`UNMATCHED`] if none).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = bounded_method(method);
        let class = status_class(status);
        let labels = [method, route, class];
        self.request_duration
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
        self.requests.with_label_values(&labels).inc();
        if status >= 500 {
            self.server_errors.inc();
        }
    }

    /// Counts a failed attempt to send an e-mail.
    pub fn mail_send_failed(&self, permanent: bool) {
        self.mail_failures
            .with_label_values(&[if permanent { "true" } else { "false" }])
            .inc();
    }

    /// Counts an SLA clock recorded as breached (`clock`: `response` or `resolution`).
    pub fn sla_breached(&self, clock: &'static str) {
        self.sla_breaches.with_label_values(&[clock]).inc();
    }

    /// The text exposition of this process' metrics and of the queue's backlog.
    pub fn render(&self, backlog: &[JobBacklog]) -> String {
        let mut families = self.registry.gather();
        // Built per scrape: the backlog is the database's, not this process'.
        let due = IntGaugeVec::new(
            Opts::new(
                "gmud_jobs_due",
                "Pending jobs whose time has come, waiting for a worker, by kind",
            ),
            &["kind"],
        )
        .expect("valid gauge");
        let age = GaugeVec::new(
            Opts::new(
                "gmud_jobs_oldest_due_age_seconds",
                "How long the oldest due job of each kind has waited for a worker",
            ),
            &["kind"],
        )
        .expect("valid gauge");
        for b in backlog {
            due.with_label_values(&[&b.kind]).set(b.due);
            age.with_label_values(&[&b.kind])
                .set(b.oldest_due_age_seconds);
        }
        use prometheus::core::Collector;
        // A family without a series cannot be encoded (no backlog read: no database).
        families.extend(
            due.collect()
                .into_iter()
                .chain(age.collect())
                .filter(|f| !f.get_metric().is_empty()),
        );
        families.sort_by(|a, b| a.name().cmp(b.name()));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&families, &mut out) {
            tracing::error!(error = %e, "metrics: cannot encode");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = prometheus::TEXT_FORMAT;

/// The usual methods as themselves; anything else (a client may send any token) as `OTHER`.
fn bounded_method(method: &str) -> &str {
    match method {
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
        _ => "OTHER",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_bounded() {
        assert_eq!(bounded_method("GET"), "GET");
        assert_eq!(bounded_method("PROPFIND"), "OTHER");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(503), "5xx");
    }

    #[test]
    fn the_backlog_is_rendered_by_kind() {
        let text = metrics().render(&[JobBacklog {
            kind: "mail".into(),
            due: 3,
            oldest_due_age_seconds: 42.5,
        }]);
        assert!(text.contains("# TYPE gmud_jobs_due gauge"), "{text}");
        assert!(text.contains("gmud_jobs_due{kind=\"mail\"} 3"), "{text}");
        assert!(
            text.contains("gmud_jobs_oldest_due_age_seconds{kind=\"mail\"} 42.5"),
            "{text}"
        );
        assert!(text.contains("# TYPE gmud_sla_breaches_total counter"));
    }
}
