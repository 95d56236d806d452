//! The only code that calls AWS. It observes the resources an owner holds, by ownership tags,
//! and executes plan steps; every call is counted and timed, and every failure classified.

pub mod ec2;
pub mod endpoints;
pub mod error;
pub mod metrics;
pub mod throttle;

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use securecart_plan::Plan;
use securecart_plan::plan::PlanStep;
use std::future::Future;

use aws_config::{BehaviorVersion, Region};
use tokio::sync::Mutex;

pub use error::{AwsError, ErrorKind};
pub use metrics::AwsMetrics;

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
    zones: Mutex<HashMap<String, Vec<String>>>,
    /// Region-wide snapshots of every VpcTier's resources, for periodic drift checks.
    vpc_snapshots: Mutex<HashMap<String, Arc<Snapshot>>>,
    /// When each owner's resources were last changed by this process.
    last_change: Mutex<HashMap<String, std::time::Instant>>,
}

/// What a region held at one moment.
pub(crate) struct Snapshot {
    pub(crate) taken: std::time::Instant,
    pub(crate) observed: securecart_plan::vpc::Observed,
}

impl Aws {
    /// `rate_scale` scales the client-side rate limits (1 = half of AWS's published rates,
    /// 0 = none).
    pub fn new(metrics: AwsMetrics, rate_scale: f64) -> Self {
        let limits = throttle::RateLimits::new(rate_scale);
        Self {
            inner: Arc::new(Inner {
                metrics,
                limits,
                ec2: Mutex::default(),
                zones: Mutex::default(),
                vpc_snapshots: Mutex::default(),
                last_change: Mutex::default(),
            }),
        }
    }

    /// Waits for the call's rate-limit token, recording any wait.
    pub(crate) async fn throttle(&self, service: &'static str, operation: &'static str, mutating: bool) {
        let waited = self.inner.limits.acquire(service, mutating).await;
        if !waited.is_zero() {
            self.inner.metrics.rate_limited.with_label_values(&[service, operation]).inc();
            tracing::debug!(service, operation, waited_ms = waited.as_millis() as u64, "client-side rate limit");
        }
    }

    pub fn metrics(&self) -> &AwsMetrics {
        &self.inner.metrics
    }

    async fn sdk_config(region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string())).load().await
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

/// Runs a plan phase by phase, the steps of a phase in parallel, resolving `Ref::Created` to the
/// IDs earlier phases returned. Stops after the first phase with a failure (its other steps
/// still finish), since later phases depend on it.
pub(crate) async fn execute_phases<'p, S, F, Fut>(region: &str, plan: &'p Plan<S>, run: F) -> Execution
where
    S: PlanStep + Sync,
    F: Fn(&'p S, Arc<HashMap<String, String>>) -> Fut,
    Fut: Future<Output = Result<Option<String>, AwsError>>,
{
    let mut created: HashMap<String, String> = HashMap::new();
    let mut execution = Execution::default();
    let run = &run;
    for phase in plan.phases() {
        // Each phase sees a snapshot of the IDs created before it.
        let created_so_far = Arc::new(created.clone());
        let running: Vec<_> = phase
            .into_iter()
            .map(|step| {
                let created_so_far = created_so_far.clone();
                async move { (step, run(step, created_so_far).await) }
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

/// Resolves a reference to an ID: an existing one, or one an earlier phase created.
pub(crate) fn resolve(r: &securecart_plan::Ref, created: &HashMap<String, String>) -> Result<String, AwsError> {
    match r {
        securecart_plan::Ref::Id(id) => Ok(id.clone()),
        securecart_plan::Ref::Created(c) => created.get(c).cloned().ok_or_else(|| {
            AwsError::malformed("ResolveReference", &format!("{c} was not created by an earlier phase"))
        }),
    }
}

/// Deletes treat "not found" as done.
pub(crate) fn ok_if_gone<T>(result: Result<T, AwsError>) -> Result<Option<String>, AwsError> {
    match result {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        other => other.map(|_| None),
    }
}
