//! The only code that calls AWS. It observes the resources an owner holds, by ownership tags,
//! and executes plan steps; every call is counted and timed, and every failure classified.

pub mod ec2;
pub mod endpoints;
pub mod error;
pub mod load_balancer;
pub mod metrics;
pub mod throttle;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use futures::StreamExt;
use securecart_plan::Plan;
use securecart_plan::plan::PlanStep;
use tokio::sync::Mutex;

pub use error::{AwsError, ErrorKind};
pub use metrics::AwsMetrics;

/// Route 53 and Shield are global services, addressed through this region.
pub const GLOBAL_REGION: &str = "us-east-1";

/// A plan step that ran, for events and logs.
#[derive(Clone, Debug)]
pub struct Executed {
    pub action: &'static str,
    pub summary: String,
    pub created_id: Option<String>,
}

/// What executing a plan did: the steps that ran, and the first failure, if any.
#[derive(Debug, Default)]
pub struct Execution {
    pub executed: Vec<Executed>,
    pub error: Option<AwsError>,
}

/// Clients per region, built once from the standard AWS environment (AWS_ENDPOINT_URL,
/// AWS_REGION, the default credentials chain), so one binary talks to the emulator or to AWS.
#[derive(Clone)]
pub struct Aws {
    inner: Arc<Inner>,
}

struct Inner {
    metrics: AwsMetrics,
    limits: throttle::RateLimits,
    ec2: Mutex<HashMap<String, aws_sdk_ec2::Client>>,
    configs: Mutex<HashMap<String, aws_config::SdkConfig>>,
    zones: Mutex<HashMap<String, Vec<String>>>,
    /// Region-wide snapshots of every VpcTier's resources, for periodic drift checks.
    vpc_snapshots: Mutex<HashMap<String, Arc<Snapshot>>>,
    /// When each owner's resources were last changed by this process.
    last_change: Mutex<HashMap<String, Instant>>,
}

/// What a region held at one moment.
pub(crate) struct Snapshot {
    pub(crate) taken: Instant,
    pub(crate) observed: securecart_plan::vpc::Observed,
}

impl Aws {
    /// `rate_scale` scales the client-side rate limits (1 = half of AWS's published rates,
    /// 0 = none).
    pub fn new(metrics: AwsMetrics, rate_scale: f64) -> Self {
        Self {
            inner: Arc::new(Inner {
                metrics,
                limits: throttle::RateLimits::new(rate_scale),
                ec2: Mutex::default(),
                configs: Mutex::default(),
                zones: Mutex::default(),
                vpc_snapshots: Mutex::default(),
                last_change: Mutex::default(),
            }),
        }
    }

    pub fn metrics(&self) -> &AwsMetrics {
        &self.inner.metrics
    }

    async fn sdk_config(region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string())).load().await
    }

    /// The SDK configuration of a region, loaded once.
    async fn config(&self, region: &str) -> aws_config::SdkConfig {
        let mut configs = self.inner.configs.lock().await;
        if let Some(c) = configs.get(region) {
            return c.clone();
        }
        let c = Self::sdk_config(region).await;
        configs.insert(region.to_string(), c.clone());
        c
    }

    /// The load balancing adapter for one region: ELBv2 and WAFv2 there, security groups through
    /// EC2, and the global Route 53 and Shield (served from us-east-1).
    pub async fn load_balancing(&self, region: &str) -> load_balancer::LoadBalancing {
        let regional = self.config(region).await;
        let global = self.config(GLOBAL_REGION).await;
        load_balancer::LoadBalancing::new(
            self.clone(),
            self.ec2(region).await,
            aws_sdk_elasticloadbalancingv2::Client::new(&regional),
            aws_sdk_wafv2::Client::new(&regional),
            aws_sdk_route53::Client::new(&global),
            aws_sdk_shield::Client::new(&global),
            region.to_string(),
        )
    }

    /// Runs one AWS call, counting and timing it by service and operation, and classifying its
    /// failure. Every adapter goes through here.
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
        let waited = self.inner.limits.acquire(service, mutating).await;
        if !waited.is_zero() {
            self.metrics().rate_limited.with_label_values(&[service, operation]).inc();
            tracing::debug!(
                service,
                region,
                operation,
                waited_ms = waited.as_millis() as u64,
                "client-side rate limit"
            );
        }
        let started = Instant::now();
        let raw = request.await;
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

    /// The EC2 adapter for one region.
    pub async fn ec2(&self, region: &str) -> ec2::Ec2 {
        let mut clients = self.inner.ec2.lock().await;
        let client = match clients.get(region) {
            Some(c) => c.clone(),
            None => {
                let c = aws_sdk_ec2::Client::new(&Self::sdk_config(region).await);
                clients.insert(region.to_string(), c.clone());
                c
            }
        };
        ec2::Ec2::new(client, self.clone(), region.to_string())
    }
}

/// Steps of one phase run at most this many at a time.
const PHASE_CONCURRENCY: usize = 8;

/// Runs a plan phase by phase, the steps of a phase in parallel, handing each step the IDs of
/// what earlier phases created. Stops after the first phase with a failure (its other steps
/// still finish), since later phases depend on it.
pub(crate) async fn execute_phases<'p, S, F, Fut>(region: &str, plan: &'p Plan<S>, run: F) -> Execution
where
    S: PlanStep,
    F: Fn(&'p S, Arc<HashMap<String, String>>) -> Fut,
    Fut: Future<Output = Result<Option<String>, AwsError>>,
{
    let mut created: HashMap<String, String> = HashMap::new();
    let mut execution = Execution::default();
    for phase in plan.phases() {
        let known = Arc::new(created.clone());
        // Futures are built eagerly: a lazily mapped stream trips the compiler's higher-ranked
        // lifetime inference once the controller spawns it.
        let running: Vec<_> = phase
            .into_iter()
            .map(|step| {
                let result = run(step, known.clone());
                Box::pin(async move { (step, result.await) })
            })
            .collect();
        let results: Vec<(&S, Result<Option<String>, AwsError>)> =
            futures::stream::iter(running).buffer_unordered(PHASE_CONCURRENCY).collect().await;
        for (step, result) in results {
            match result {
                Ok(id) => {
                    if let (Some(component), Some(id)) = (step.creates(), &id) {
                        created.insert(component.to_string(), id.clone());
                    }
                    tracing::info!(region, action = step.action(), step = %step, id = id.as_deref().unwrap_or(""), "AWS step done");
                    execution.executed.push(Executed {
                        action: step.action(),
                        summary: step.to_string(),
                        created_id: id,
                    });
                }
                Err(e) if execution.error.is_none() => execution.error = Some(e),
                Err(e) => tracing::warn!(region, error = %e, "further step failure in the same phase"),
            }
        }
        if execution.error.is_some() {
            break;
        }
    }
    execution
}

/// The ID behind a reference: as observed, or as created by an earlier phase.
pub(crate) fn resolve(r: &securecart_plan::Ref, created: &HashMap<String, String>) -> Result<String, AwsError> {
    match r {
        securecart_plan::Ref::Id(id) => Ok(id.clone()),
        securecart_plan::Ref::Created(c) => created.get(c).cloned().ok_or_else(|| {
            AwsError::malformed("ResolveReference", &format!("{c} was not created by an earlier phase"))
        }),
    }
}

/// Deleting what is already gone is success.
pub(crate) fn ok_if_gone<T>(result: Result<T, AwsError>) -> Result<Option<String>, AwsError> {
    match result {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        other => other.map(|_| None),
    }
}
