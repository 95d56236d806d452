//! Logs, and OpenTelemetry traces when an OTLP endpoint is configured: the spans of every
//! reconcile and of every AWS call (securecart_aws::Aws::call), exported over OTLP/HTTP
//! (protobuf) by a batch processor on the tokio runtime, flushed on shutdown. Without an endpoint
//! nothing of OpenTelemetry is built and the logs are what they always were.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::filter::{FilterExt as _, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

pub const SERVICE_NAME: &str = "securecart-operator";

/// How long shutdown waits for the last spans to be sent.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// What has to be flushed before the process exits.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// Installs the global subscriber: logs in `format` (text or json) filtered by RUST_LOG, and
/// with `otlp_endpoint` (the collector's base URL, e.g. `http://localhost:4318`) the trace
/// exporter. Must run inside the tokio runtime.
pub fn init(format: &str, otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,kube=warn"));
    // The controller's own spans are for the traces; the logs stay as they were without them
    // (their events already carry kind, namespace, name, service and operation).
    let logs_filter = filter.and(filter_fn(|m| !(m.is_span() && is_ours(m.target()))));
    let logs = match format {
        "json" => tracing_subscriber::fmt::layer().json().flatten_event(true).with_filter(logs_filter).boxed(),
        _ => tracing_subscriber::fmt::layer().with_filter(logs_filter).boxed(),
    };
    let (provider, traces) = match otlp_endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        None => (None, None),
        Some(endpoint) => {
            let provider = tracer_provider(endpoint)?;
            let tracer = provider.tracer("securecart-operator");
            // The reconcile, plan step and AWS call spans, whatever RUST_LOG says, and the
            // warnings and errors logged inside them as span events.
            let traces = tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(filter_fn(|m| is_ours(m.target()) && (m.is_span() || *m.level() <= Level::WARN)));
            (Some(provider), Some(traces))
        }
    };
    let exporting = provider.is_some();
    tracing_subscriber::registry().with(logs).with(traces).try_init().context("installing the tracing subscriber")?;
    if let (true, Some(endpoint)) = (exporting, otlp_endpoint) {
        tracing::info!(endpoint = %traces_url(endpoint), "exporting traces over OTLP/HTTP");
    }
    Ok(Telemetry { provider })
}

fn is_ours(target: &str) -> bool {
    target.starts_with("securecart_")
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL: traces go to `/v1/traces` under it (kept when
/// already there).
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim().trim_end_matches('/');
    if base.ends_with("/v1/traces") { base.to_string() } else { format!("{base}/v1/traces") }
}

fn tracer_provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let url = traces_url(endpoint);
    // The exporter's client speaks plain HTTP only: the collector runs beside the controller
    // (in the cluster, or as a sidecar), where the traces need no TLS.
    anyhow::ensure!(url.starts_with("http://"), "--otlp-endpoint must be an http:// URL (got {url})");
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .build()
        .with_context(|| format!("building the OTLP exporter for {url}"))?;
    let processor = BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio).build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_id_generator(XrayIds::default())
        .with_resource(resource())
        .build())
}

/// Trace IDs whose first 4 bytes are the start time in Unix seconds, the rest random: valid
/// W3C IDs that X-Ray also accepts as its own (`1-<8 hex time>-<24 hex random>`), so a
/// collector forwarding them to X-Ray need not rewrite or drop them.
#[derive(Debug, Default)]
struct XrayIds(RandomIdGenerator);

impl IdGenerator for XrayIds {
    fn new_trace_id(&self) -> TraceId {
        let seconds =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as u32);
        xray_trace_id(seconds, self.0.new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        self.0.new_span_id()
    }
}

fn xray_trace_id(seconds: u32, random: TraceId) -> TraceId {
    let mut bytes = random.to_bytes();
    bytes[..4].copy_from_slice(&seconds.to_be_bytes());
    TraceId::from_bytes(bytes)
}

/// `service.name` and `service.version`; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (read by
/// the SDK's detectors) win over the name, and add attributes of their own.
fn resource() -> Resource {
    let builder = Resource::builder().with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if service_name_from_env(
        std::env::var("OTEL_SERVICE_NAME").ok().as_deref(),
        std::env::var("OTEL_RESOURCE_ATTRIBUTES").ok().as_deref(),
    ) {
        builder.build()
    } else {
        builder.with_service_name(SERVICE_NAME).build()
    }
}

fn service_name_from_env(service_name: Option<&str>, resource_attributes: Option<&str>) -> bool {
    service_name.is_some_and(|n| !n.trim().is_empty())
        || resource_attributes
            .is_some_and(|a| a.split(',').any(|kv| kv.split_once('=').is_some_and(|(k, _)| k.trim() == "service.name")))
}

impl Telemetry {
    /// Sends the spans still queued and stops the exporter (bounded by FLUSH_TIMEOUT).
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else { return };
        // The SDK blocks the calling thread until its exporter task (on this runtime) is done.
        let done = tokio::task::spawn_blocking(move || provider.shutdown());
        match tokio::time::timeout(FLUSH_TIMEOUT, done).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "flushing traces failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "flushing traces failed"),
            Err(_) => tracing::warn!(timeout = ?FLUSH_TIMEOUT, "flushing traces timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_go_under_v1_traces() {
        assert_eq!(traces_url("http://collector:4318"), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("http://collector:4318/"), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("http://collector:4318/v1/traces"), "http://collector:4318/v1/traces");
    }

    #[test]
    fn trace_ids_start_with_their_time_for_xray() {
        let id = xray_trace_id(0x6930_1a2b, TraceId::from(u128::MAX));
        assert_eq!(id.to_string(), "69301a2bffffffffffffffffffffffff");
        let now = XrayIds::default().new_trace_id().to_bytes();
        let seconds = u32::from_be_bytes([now[0], now[1], now[2], now[3]]);
        let expected = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(u64::from(seconds).abs_diff(expected) <= 2, "{seconds} vs {expected}");
        assert_ne!(XrayIds::default().new_trace_id(), XrayIds::default().new_trace_id());
    }

    #[test]
    fn the_environment_may_name_the_service() {
        assert!(!service_name_from_env(None, None));
        assert!(!service_name_from_env(Some(" "), Some("deployment.environment=prod")));
        assert!(service_name_from_env(Some("shop-operator"), None));
        assert!(service_name_from_env(None, Some("team=net, service.name=shop-operator")));
    }
}
