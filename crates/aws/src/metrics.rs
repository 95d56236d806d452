//! AWS call metrics: every call counted by service, operation and outcome, and timed.

use prometheus::{GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct AwsMetrics {
    /// securecart_aws_api_calls_total{service, operation, mutating, outcome}
    pub calls: IntCounterVec,
    /// securecart_aws_api_call_duration_seconds{service, operation}
    pub duration: HistogramVec,
    /// securecart_aws_rate_limited_total{service, operation}
    pub rate_limited: IntCounterVec,
    /// securecart_aws_in_flight_window{service, region}
    pub in_flight_window: GaugeVec,
}

impl AwsMetrics {
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let calls = IntCounterVec::new(
            Opts::new(
                "securecart_aws_api_calls_total",
                "AWS API calls by service, operation, whether they mutate, and outcome (ok, throttled, not_found, terminal, retryable).",
            ),
            &["service", "operation", "mutating", "outcome"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new("securecart_aws_api_call_duration_seconds", "AWS API call latency.")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["service", "operation"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new("securecart_aws_rate_limited_total", "AWS calls that waited for the client-side rate limit."),
            &["service", "operation"],
        )?;
        let in_flight_window = GaugeVec::new(
            Opts::new(
                "securecart_aws_in_flight_window",
                "How many calls may be in flight at an AWS endpoint now: halved when calls time out, widened as they are answered.",
            ),
            &["service", "region"],
        )?;
        registry.register(Box::new(calls.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(in_flight_window.clone()))?;
        Ok(Self { calls, duration, rate_limited, in_flight_window })
    }

    /// Metrics that go nowhere (tests, tools).
    pub fn unregistered() -> Self {
        Self::new(&Registry::new()).expect("fresh registry")
    }

    pub fn record(&self, service: &str, operation: &str, mutating: bool, outcome: &str, seconds: f64) {
        self.calls.with_label_values(&[service, operation, if mutating { "true" } else { "false" }, outcome]).inc();
        self.duration.with_label_values(&[service, operation]).observe(seconds);
    }
}
