//! The only code that calls AWS, split by service and shared across kinds: it observes what an
//! owner holds (by ID, by VPC, or by ownership tags where nothing is recorded) and executes plan
//! steps. Every call is counted, timed, rate-limited and classified; every client has bounded
//! timeouts, adaptive retries and an attempt counter.

mod clients;
pub mod cloudwatch;
pub mod direct_connect;
pub mod ec2;
pub mod elbv2;
pub mod error;
pub mod execute;
pub mod metrics;
pub mod route53;
pub mod sdk;
pub mod shield;
mod sts;
pub mod throttle;
pub mod wafv2;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use securecart_plan::plan::PlanStep;
use securecart_plan::{Location, Output, Plan, Step};
use tokio::sync::Mutex;

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
    /// Region-wide snapshots of every VpcTier's resources, for periodic drift checks.
    vpc_snapshots: Mutex<HashMap<String, Arc<Snapshot>>>,
    /// When each owner's resources were last changed by this process.
    last_change: Mutex<HashMap<String, Instant>>,
}

/// What a region held at one moment.
pub(crate) struct Snapshot {
    pub(crate) taken: Instant,
    pub(crate) observed: securecart_plan::network::Observed,
}

impl Aws {
    /// `rate_scale` scales the client-side rate limits (1 = half of AWS's published rates,
    /// 0 = none); `limits` bounds every call.
    pub fn new(metrics: AwsMetrics, rate_scale: f64, limits: Limits) -> Self {
        Self {
            inner: Arc::new(Inner {
                metrics,
                limits: throttle::RateLimits::new(rate_scale),
                sdk_limits: limits,
                configs: Mutex::default(),
                role_configs: Mutex::default(),
                ec2: Mutex::default(),
                role_ec2: Mutex::default(),
                account_id: Mutex::default(),
                clients: Mutex::default(),
                shared: Mutex::default(),
                zones: Mutex::default(),
                vpc_snapshots: Mutex::default(),
                last_change: Mutex::default(),
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
                Step::Network(s) => ec2.run_network(s, &created, token).await,
                Step::SecurityGroup(s) => ec2.run_security_group(s, &created).await,
                Step::VpcEndpoint(s) => ec2.run_vpc_endpoint(s, &created, token).await,
                Step::Elbv2(s) => self.elbv2(region).await.run(s, &created).await,
                // CLOUDFRONT-scope web ACLs live in us-east-1.
                Step::Wafv2(s) => self.wafv2(s.scope(), region).await.run(s, &created).await,
                // Shield and Route 53 are global.
                Step::Shield(s) => self.shield().await.run(s).await,
                Step::Route53(s) => self.route53().await.run(s, token).await,
                Step::Transit(s) => ec2_there.run_transit(s, &created).await,
                Step::Peering(s) => ec2_there.run_peering(s, &created).await,
                Step::DirectConnect(s) => self.direct_connect(region).await.run(s, &created).await,
                // A health-check alarm lives in us-east-1, where Route 53 publishes its metrics.
                Step::CloudWatch(s) => {
                    let there = s.location().map_or(region, |l| l.region.as_str());
                    self.cloudwatch(there).await.run(s).await
                }
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
        let _ = sdk::STEP.try_with(|s| s.call());
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
