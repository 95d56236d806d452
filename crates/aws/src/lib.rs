//! The only code that calls AWS, split by service and shared across kinds: it observes what an
//! owner holds (by ID, by VPC, or by ownership tags where nothing is recorded) and executes plan
//! steps. Every call is counted, timed, rate-limited and classified; every client has bounded
//! timeouts, standard retries and a counter of attempts and of throttled ones.

pub mod apigateway;
pub mod apigatewayv2;
mod clients;
pub mod cloudfront;
pub mod cloudwatch;
pub mod direct_connect;
pub mod ec2;
pub mod elasticache;
pub mod elbv2;
pub mod error;
pub mod execute;
pub mod globalaccelerator;
mod in_flight;
pub mod metrics;
pub mod rds;
pub mod route53;
pub mod sdk;
pub mod shield;
mod sts;
pub mod throttle;
pub mod wafv2;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use securecart_api::SubnetGroupService;
use securecart_plan::plan::PlanStep;
use securecart_plan::{Location, Output, Plan, Step};
use tokio::sync::Mutex;
use tracing::Instrument as _;

pub use error::{AwsError, ErrorKind};
pub use execute::{Executed, Execution, Failed};
pub use metrics::AwsMetrics;
pub use sdk::Limits;

/// Route 53 and Shield are global services, addressed through this region.
pub const GLOBAL_REGION: &str = "us-east-1";

/// Clients per region, built once from the standard AWS environment (AWS_ENDPOINT_URL,
/// AWS_REGION, the default credentials chain), so one binary talks to the emulator or to AWS.
#[derive(Clone)]
pub struct Aws {
    inner: Arc<Inner>,
}

struct Inner {
    metrics: AwsMetrics,
    limits: throttle::RateLimits,
    /// Calls in flight per service and region.
    in_flight: in_flight::InFlight,
    sdk_limits: Limits,
    configs: Mutex<HashMap<String, aws_config::SdkConfig>>,
    /// Configurations with an assumed role's credentials, per region and role.
    role_configs: Mutex<HashMap<Location, aws_config::SdkConfig>>,
    ec2: Mutex<HashMap<String, aws_sdk_ec2::Client>>,
    /// EC2 clients of other accounts, per region and role.
    role_ec2: Mutex<HashMap<Location, aws_sdk_ec2::Client>>,
    /// The account of the controller's own credentials, once asked.
    account_id: Mutex<Option<String>>,
    /// Other services' clients, by (service, region).
    clients: Mutex<HashMap<(&'static str, String), clients::Cached>>,
    /// Region-wide reads shared by the drift checks of one kind's objects, by (what, region).
    shared: Mutex<HashMap<(&'static str, String), clients::Shared>>,
    zones: Mutex<HashMap<String, (Instant, Vec<securecart_plan::vpc_tier::Zone>)>>,
    /// When each owner's resources were last changed by this process.
    last_change: Mutex<HashMap<String, Instant>>,
    /// Route 53 hosted zone IDs by zone name, as looked up (see `Route53::zone_id`).
    hosted_zones: Mutex<HashMap<String, (Instant, String)>>,
}

impl Aws {
    /// `rate_scale` scales the client-side rate limits (1 = half of AWS's published rates,
    /// 0 = none); `limits` bounds every call.
    pub fn new(metrics: AwsMetrics, rate_scale: f64, limits: Limits) -> Self {
        Self {
            inner: Arc::new(Inner {
                metrics,
                limits: throttle::RateLimits::new(rate_scale),
                in_flight: in_flight::InFlight::new(limits.in_flight, limits.attempt),
                sdk_limits: limits,
                configs: Mutex::default(),
                role_configs: Mutex::default(),
                ec2: Mutex::default(),
                role_ec2: Mutex::default(),
                account_id: Mutex::default(),
                clients: Mutex::default(),
                shared: Mutex::default(),
                zones: Mutex::default(),
                last_change: Mutex::default(),
                hosted_zones: Mutex::default(),
            }),
        }
    }

    pub fn metrics(&self) -> &AwsMetrics {
        &self.inner.metrics
    }

    /// The SDK configuration of a region, loaded once.
    pub(crate) async fn config(&self, region: &str) -> aws_config::SdkConfig {
        let mut configs = self.inner.configs.lock().await;
        if let Some(c) = configs.get(region) {
            return c.clone();
        }
        let c = sdk::load(region, &self.inner.sdk_limits).await;
        configs.insert(region.to_string(), c.clone());
        c
    }

    /// The SDK configuration of a location: its region, with the credentials of the role it
    /// names (assumed through STS; the client's identity cache keeps them until they expire).
    pub(crate) async fn config_at(&self, location: &Location) -> aws_config::SdkConfig {
        let base = self.config(&location.region).await;
        let Some(role) = &location.role_arn else { return base };
        let mut configs = self.inner.role_configs.lock().await;
        if let Some(c) = configs.get(location) {
            return c.clone();
        }
        let c = sdk::assume_role(&base, &location.region, role).await;
        configs.insert(location.clone(), c.clone());
        c
    }

    /// The EC2 adapter for a location: another region, or another account through a role.
    pub async fn ec2_at(&self, location: &Location) -> ec2::Ec2 {
        if location.role_arn.is_none() {
            return self.ec2(&location.region).await;
        }
        let config = self.config_at(location).await;
        let mut clients = self.inner.role_ec2.lock().await;
        let client = clients.entry(location.clone()).or_insert_with(|| sdk::client!(aws_sdk_ec2, &config)).clone();
        ec2::Ec2::new(client, self.clone(), location.region.clone())
    }

    /// The account the controller's own credentials are in (STS GetCallerIdentity, asked once).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        let mut cached = self.inner.account_id.lock().await;
        if let Some(id) = cached.as_ref() {
            return Ok(id.clone());
        }
        let id = sts::caller_account(self).await?;
        *cached = Some(id.clone());
        Ok(id)
    }

    /// The EC2 adapter for one region.
    pub async fn ec2(&self, region: &str) -> ec2::Ec2 {
        let config = self.config(region).await;
        let mut clients = self.inner.ec2.lock().await;
        let client = clients.entry(region.to_string()).or_insert_with(|| sdk::client!(aws_sdk_ec2, &config)).clone();
        ec2::Ec2::new(client, self.clone(), region.to_string())
    }

    /// Runs a plan in `region`, each step with its service's client; `tokens` are the
    /// idempotency tokens of its creates, by component.
    pub async fn execute(&self, region: &str, plan: &Plan<Step>, tokens: &BTreeMap<String, String>) -> Execution {
        let ec2 = self.ec2(region).await;
        // Steps that run elsewhere (the accepter side of a peering) get that location's client.
        let mut elsewhere: HashMap<Location, ec2::Ec2> = HashMap::new();
        for location in plan.steps.iter().filter_map(|s| s.location()) {
            if !elsewhere.contains_key(location) {
                elsewhere.insert(location.clone(), self.ec2_at(location).await);
            }
        }
        let (ec2, elsewhere) = (&ec2, &elsewhere);
        execute::execute(region, plan, |step, created| async move {
            let token = securecart_plan::plan::PlanStep::creates(step).and_then(|c| tokens.get(c)).map(String::as_str);
            let ec2_there = step.location().and_then(|l| elsewhere.get(l)).unwrap_or(ec2);
            match step {
                Step::Network(s) => boxed(ec2.run_network(s, &created, token)).await,
                Step::SecurityGroup(s) => boxed(ec2.run_security_group(s, &created)).await,
                Step::VpcEndpoint(s) => boxed(ec2.run_vpc_endpoint(s, &created, token)).await,
                Step::Elbv2(s) => boxed(self.elbv2(region).await.run(s, &created)).await,
                // CLOUDFRONT-scope web ACLs live in us-east-1.
                Step::Wafv2(s) => boxed(self.wafv2(s.scope(), region).await.run(s, &created)).await,
                // Shield and Route 53 are global.
                Step::Shield(s) => boxed(self.shield().await.run(s)).await,
                Step::Route53(s) => boxed(self.route53().await.run(s, token)).await,
                Step::Transit(s) => boxed(ec2_there.run_transit(s, &created)).await,
                Step::Peering(s) => boxed(ec2_there.run_peering(s, &created)).await,
                Step::DirectConnect(s) => boxed(self.direct_connect(region).await.run(s, &created)).await,
                Step::ApiGateway(s) => boxed(self.apigateway(region).await.run(s, &created)).await,
                Step::HttpApi(s) => boxed(self.apigatewayv2(region).await.run(s, &created)).await,
                Step::SubnetGroup(s) => match s.service() {
                    SubnetGroupService::Rds => boxed(self.rds(region).await.run(s, &created)).await,
                    SubnetGroupService::ElastiCache => boxed(self.elasticache(region).await.run(s, &created)).await,
                },
                // A health-check alarm lives in us-east-1, where Route 53 publishes its metrics.
                Step::CloudWatch(s) => {
                    let there = s.location().map_or(region, |l| l.region.as_str());
                    boxed(self.cloudwatch(there).await.run(s)).await
                }
                // CloudFront is global; Global Accelerator's control plane is in us-west-2.
                Step::CloudFront(s) => boxed(self.cloudfront().await.run(s, &created, token)).await,
                Step::GlobalAccelerator(s) => boxed(self.global_accelerator().await.run(s, &created, token)).await,
            }
        })
        .await
    }

    /// Remembers that the owner's resources changed now: older snapshots no longer show them.
    pub async fn record_change(&self, owner_uid: &str) {
        self.inner.last_change.lock().await.insert(owner_uid.to_string(), Instant::now());
    }

    /// Drops what this process remembers of an owner that is gone.
    pub async fn forget(&self, owner_uid: &str) {
        self.inner.last_change.lock().await.remove(owner_uid);
    }

    /// Runs one AWS call, counting and timing it by service and operation, and classifying its
    /// failure. Every adapter goes through here, so every call has its span (`aws call`, a child
    /// of the reconcile's), with OpenTelemetry's RPC attributes and AWS's request ID; the
    /// controller exports those spans when it has an OTLP endpoint. Nothing secret goes on it.
    pub(crate) async fn call<T, E>(
        &self,
        service: &'static str,
        region: &str,
        operation: &'static str,
        mutating: bool,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, AwsError>
    where
        T: RequestId,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let span = call_span(service, region, operation);
        self.call_in_span(service, region, operation, mutating, request, &span).instrument(span.clone()).await
    }

    async fn call_in_span<T, E>(
        &self,
        service: &'static str,
        region: &str,
        operation: &'static str,
        mutating: bool,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        span: &tracing::Span,
    ) -> Result<T, AwsError>
    where
        T: RequestId,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let waited = self.inner.limits.acquire(service, mutating).await;
        if !waited.is_zero() {
            self.metrics().rate_limited.with_label_values(&[service, operation]).inc();
            span.record("aws.rate_limited_ms", waited.as_millis() as u64);
            tracing::debug!(
                service,
                region,
                operation,
                waited_ms = waited.as_millis() as u64,
                "client-side rate limit"
            );
        }
        let queued = Instant::now();
        let slot = self.inner.in_flight.enter(service, region).await;
        let queued = queued.elapsed();
        if queued >= Duration::from_millis(1) {
            span.record("aws.queued_ms", queued.as_millis() as u64);
        }
        let _ = sdk::STEP.try_with(|s| s.call());
        let started = Instant::now();
        let throttled = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let raw = sdk::THROTTLED.scope(throttled.clone(), request).await;
        if let Some(slot) = slot {
            let timed_out = matches!(raw, Err(SdkError::TimeoutError(_)));
            let overloaded = self.inner.in_flight.overloaded(started.elapsed(), timed_out);
            let window = slot.done(overloaded);
            self.metrics().in_flight_window.with_label_values(&[service, region]).set(window);
            if overloaded {
                tracing::debug!(service, region, operation, window, "AWS endpoint overloaded: fewer calls in flight");
            }
        }
        for _ in 0..throttled.load(std::sync::atomic::Ordering::Relaxed) {
            self.inner.limits.throttled(service, mutating).await;
        }
        // AWS's request ID, for support cases: on every event, inside the reconcile's span.
        let request_id = match &raw {
            Ok(out) => out.request_id(),
            Err(e) => e.request_id(),
        }
        .unwrap_or_default()
        .to_string();
        let result = raw.map_err(|e| AwsError::from_sdk(operation, e));
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind.label(),
        };
        record_outcome(span, &request_id, &result);
        self.metrics().record(service, operation, mutating, outcome, started.elapsed().as_secs_f64());
        if mutating {
            tracing::info!(service, region, operation, request_id, outcome, "AWS call");
        } else {
            tracing::debug!(service, region, operation, request_id, outcome, "AWS call");
        }
        if let Err(e) = &result {
            tracing::debug!(service, region, operation, code = %e.code, "AWS call failed");
        }
        result
    }
}

/// `future` on the heap: a plan step's future is then as large as its own service's call, not
/// as the largest of every service's (in a debug build most are 26-36 KB, CloudFront's 56 KB),
/// and a plan runs up to eight steps at once in each of the reconciles running.
fn boxed<'a, T>(future: impl Future<Output = T> + Send + 'a) -> Pin<Box<dyn Future<Output = T> + Send + 'a>> {
    Box::pin(future)
}

/// The span of one AWS call, named `service/Operation` in OpenTelemetry, with the RPC semantic
/// conventions' attributes; the outcome is recorded by [`record_outcome`].
fn call_span(service: &'static str, region: &str, operation: &'static str) -> tracing::Span {
    tracing::info_span!(
        "aws call",
        otel.name = %format_args!("{service}/{operation}"),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
        rpc.system = "aws-api",
        rpc.service = service,
        rpc.method = operation,
        aws.region = region,
        aws.request_id = tracing::field::Empty,
        aws.rate_limited_ms = tracing::field::Empty,
        aws.queued_ms = tracing::field::Empty,
        outcome = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// Puts a call's request ID and outcome on its span: `ok`, or the error's low-cardinality label
/// and AWS's error code (never the message, which may quote a request's parameters).
fn record_outcome<T>(span: &tracing::Span, request_id: &str, result: &Result<T, AwsError>) {
    if !request_id.is_empty() {
        span.record("aws.request_id", request_id);
    }
    match result {
        Ok(_) => {
            span.record("outcome", "ok");
        }
        Err(e) => {
            span.record("outcome", e.kind.label());
            span.record("error.type", e.code.as_str());
            span.record("otel.status_code", "error");
            span.record("otel.status_description", e.kind.label());
        }
    }
}

/// How long a cached list of a region's zones is trusted.
pub(crate) const ZONES_TTL: Duration = Duration::from_secs(600);

/// Deleting what is already gone is success.
pub(crate) fn ok_if_gone<T>(result: Result<T, AwsError>) -> Result<Output, AwsError> {
    match result {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(Output::none()),
        other => other.map(|_| Output::none()),
    }
}

pub(crate) use execute::resolve;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing_subscriber::layer::{Context, SubscriberExt as _};

    use super::*;

    /// A span's name and fields.
    type Recorded = (String, HashMap<String, String>);

    /// The fields of every span, as the OpenTelemetry layer would see them.
    #[derive(Clone, Default)]
    struct Spans(Arc<Mutex<Vec<Recorded>>>);

    struct Fields<'a>(&'a mut HashMap<String, String>);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.insert(field.name().to_string(), format!("{value:?}").trim_matches('"').to_string());
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_string(), value.to_string());
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Spans {
        fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
            let mut fields = HashMap::new();
            attrs.record(&mut Fields(&mut fields));
            self.0.lock().unwrap().push((attrs.metadata().name().to_string(), fields));
        }
        fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
            // One call at a time in these tests: the last span is the one being recorded.
            if let Some((_, fields)) = self.0.lock().unwrap().last_mut() {
                values.record(&mut Fields(fields));
            }
        }
    }

    #[derive(Debug)]
    struct Answer;
    impl RequestId for Answer {
        fn request_id(&self) -> Option<&str> {
            Some("req-ok-1")
        }
    }

    fn aws() -> Aws {
        let registry = prometheus::Registry::new();
        Aws::new(AwsMetrics::new(&registry).unwrap(), 0.0, Limits::default())
    }

    fn refused(code: &str, request_id: &str) -> SdkError<ErrorMetadata, HttpResponse> {
        let mut raw = HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::empty());
        raw.headers_mut().insert("x-amzn-requestid", request_id.to_string());
        let err = ErrorMetadata::builder().code(code).message("vpc-0123 named in the request").build();
        SdkError::service_error(err, raw)
    }

    #[tokio::test]
    async fn every_call_has_a_span_with_its_rpc_attributes_request_id_and_outcome() {
        let spans = Spans::default();
        let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
        let aws = aws();
        // Variables, not literals: the IAM policy test reads literal `.call(` arguments.
        let (service, region) = ("ec2", "ap-east-1");
        let ok = aws.call(service, region, "DescribeVpcs", false, async {
            Ok::<_, SdkError<ErrorMetadata, HttpResponse>>(Answer)
        });
        assert!(ok.await.is_ok());
        let failed = aws.call(service, region, "DeleteSubnet", true, async {
            Err::<Answer, _>(refused("DependencyViolation", "req-err-2"))
        });
        assert_eq!(failed.await.unwrap_err().code, "DependencyViolation");

        let spans = spans.0.lock().unwrap().clone();
        assert_eq!(spans.len(), 2, "{spans:?}");
        let (name, ok) = &spans[0];
        assert_eq!(name, "aws call");
        for (k, v) in [
            ("otel.name", "ec2/DescribeVpcs"),
            ("otel.kind", "client"),
            ("rpc.system", "aws-api"),
            ("rpc.service", "ec2"),
            ("rpc.method", "DescribeVpcs"),
            ("aws.region", "ap-east-1"),
            ("aws.request_id", "req-ok-1"),
            ("outcome", "ok"),
        ] {
            assert_eq!(ok.get(k).map(String::as_str), Some(v), "{k} in {ok:?}");
        }
        assert!(!ok.contains_key("otel.status_code") && !ok.contains_key("error.type"), "{ok:?}");
        let (_, failed) = &spans[1];
        for (k, v) in [
            ("rpc.method", "DeleteSubnet"),
            ("aws.request_id", "req-err-2"),
            ("outcome", ErrorKind::Retryable.label()),
            ("error.type", "DependencyViolation"),
            ("otel.status_code", "error"),
        ] {
            assert_eq!(failed.get(k).map(String::as_str), Some(v), "{k} in {failed:?}");
        }
        // The error's message may quote the request: it stays off the span.
        assert!(failed.values().all(|v| !v.contains("vpc-0123")), "{failed:?}");
    }
}
