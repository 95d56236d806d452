//! securecart-controller: converges the net.securecart.io kinds into AWS, all on one engine.

mod context;
mod engine;
mod http;
mod kinds;
mod leader;
mod status;
mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use kube::{Api, Client};
use securecart_api::{
    GlobalEntrypoint, LoadBalancerPolicy, PartnerApi, PrivateEndpoint, TransitGateway, VpcPeering, VpcTier,
};

use crate::context::{Context, Metrics, Settings};

#[derive(Parser, Debug)]
#[command(version, about = "Converges net.securecart.io objects into AWS networks.")]
struct Args {
    /// Address of the /metrics, /healthz and /readyz endpoints.
    #[arg(long, env = "SECURECART_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE")]
    namespace: Option<String>,
    /// How often every object is re-observed in AWS to find and repair drift.
    #[arg(long, env = "SECURECART_RESYNC_SECONDS", default_value_t = 300)]
    resync_seconds: u64,
    /// How soon an object whose AWS resources are still settling is looked at again.
    #[arg(long, env = "SECURECART_PROGRESS_SECONDS", default_value_t = 10)]
    progress_seconds: u64,
    /// How long a create whose outcome was lost (a crash, a lost response) may stay invisible
    /// to AWS's reads before the controller concludes it did not happen and creates again.
    #[arg(long, env = "SECURECART_CONSISTENCY_WINDOW_SECONDS", default_value_t = 10)]
    consistency_window_seconds: u64,
    /// Longest single attempt of an AWS call before it is cut and retried.
    #[arg(long, default_value_t = 20)]
    aws_attempt_timeout_seconds: u64,
    /// Longest AWS call, retries included.
    #[arg(long, default_value_t = 60)]
    aws_operation_timeout_seconds: u64,
    /// AWS calls in flight at once per service and region while they are answered in time;
    /// calls that time out close the window (down to 2), answers open it again. 0: no limit.
    #[arg(long, env = "SECURECART_AWS_MAX_IN_FLIGHT", default_value_t = 32)]
    aws_max_in_flight: usize,
    /// Objects reconciled at once, per kind.
    #[arg(long, env = "SECURECART_CONCURRENCY", default_value_t = 8)]
    concurrency: u16,
    /// Scales the client-side AWS rate limits: 1 is half of AWS's published rates, higher
    /// allows more (an emulator), 0 turns limiting off.
    #[arg(long, env = "SECURECART_AWS_RATE_SCALE", default_value_t = 1.0)]
    aws_rate_scale: f64,
    /// Export OpenTelemetry traces (every reconcile and every AWS call) over OTLP/HTTP to this
    /// collector, e.g. http://localhost:4318 (spans go to /v1/traces under it). Unset: no traces.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "SECURECART_LOG_FORMAT", default_value = "text")]
    log_format: String,
    /// Run the controllers only while holding a Lease, so replicas can stand by.
    #[arg(long, env = "SECURECART_LEADER_ELECT", default_value_t = false, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// Namespace of the leader Lease (default: the pod's namespace, else the kubeconfig's).
    #[arg(long, env = "POD_NAMESPACE")]
    leader_election_namespace: Option<String>,
    /// Name of the leader Lease; replicas sharing it elect one leader.
    #[arg(long, env = "SECURECART_LEADER_ELECTION_ID", default_value = "securecart-operator-leader")]
    leader_election_id: String,
    /// A lease not renewed for this long may be taken over by a standby.
    #[arg(long, default_value_t = 15)]
    lease_duration_seconds: u64,
    /// The leader stops reconciling when it could not renew for this long (< lease duration).
    #[arg(long, default_value_t = 10)]
    renew_deadline_seconds: u64,
    /// Time between attempts to acquire or renew the lease.
    #[arg(long, default_value_t = 2)]
    retry_period_seconds: u64,
}

impl Args {
    fn lease_settings(&self, client: &Client) -> anyhow::Result<leader::LeaseSettings> {
        anyhow::ensure!(
            self.retry_period_seconds < self.renew_deadline_seconds
                && self.renew_deadline_seconds < self.lease_duration_seconds,
            "leader election needs retry period < renew deadline < lease duration"
        );
        Ok(leader::LeaseSettings {
            namespace: self.leader_election_namespace.clone().unwrap_or_else(|| client.default_namespace().to_string()),
            name: self.leader_election_id.clone(),
            identity: leader::default_identity(),
            lease_duration: Duration::from_secs(self.lease_duration_seconds),
            renew_deadline: Duration::from_secs(self.renew_deadline_seconds),
            retry_period: Duration::from_secs(self.retry_period_seconds),
        })
    }
}

/// Where the controllers watch: one namespace or all.
#[derive(Clone)]
struct Scope {
    client: Client,
    namespace: Option<String>,
}

impl Scope {
    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }
}

fn main() -> anyhow::Result<()> {
    // AWS SDK request futures are large, and unoptimised builds keep whole state machines on the
    // stack while polling them: give workers room instead of tuning every call site.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let telemetry = telemetry::init(&args.log_format, args.otlp_endpoint.as_deref())?;
    let result = serve(args).await;
    // The last reconciles' spans, sent before the process exits (SIGTERM ends `serve`).
    telemetry.shutdown().await;
    result
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let client =
        Client::try_default().await.context("no Kubernetes client configuration (KUBECONFIG or in-cluster)")?;
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry)?;
    let limits = securecart_aws::Limits {
        attempt: Duration::from_secs(args.aws_attempt_timeout_seconds),
        operation: Duration::from_secs(args.aws_operation_timeout_seconds),
        in_flight: args.aws_max_in_flight,
        ..Default::default()
    };
    let aws = securecart_aws::Aws::new(securecart_aws::AwsMetrics::new(&registry)?, args.aws_rate_scale, limits);
    let settings = Settings {
        resync: Duration::from_secs(args.resync_seconds),
        progress: Duration::from_secs(args.progress_seconds),
        consistency_window: Duration::from_secs(args.consistency_window_seconds),
    };
    let ctx = Arc::new(Context::new(client.clone(), aws, metrics, settings));

    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .with_context(|| format!("binding {}", args.metrics_addr))?;
    tracing::info!(addr = %listener.local_addr()?, namespace = args.namespace.as_deref().unwrap_or("<all>"), leader_elect = args.leader_elect, "starting");
    let server = tokio::spawn(http::serve(listener, registry, ctx.ready.clone()));

    // Ready means the process serves and has its configuration, leader or standby: a standby
    // that reported unready would hold up every rolling update and count against the PDB.
    ctx.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut elector = match args.leader_elect {
        true => Some(leader::LeaderElector::new(client.clone(), args.lease_settings(&client)?)),
        false => None,
    };
    if let Some(elector) = elector.as_mut() {
        let lease = elector.settings().clone();
        tracing::info!(identity = %lease.identity, lease = %format!("{}/{}", lease.namespace, lease.name), "waiting for leadership");
        tokio::select! {
            () = elector.acquire() => {}
            () = shutdown_signal() => {
                tracing::info!("stopped while standing by");
                server.abort();
                return Ok(());
            }
        }
    }
    ctx.metrics.leader.set(1);

    let scope = Scope { client: client.clone(), namespace: args.namespace.clone() };
    let controllers = run_controllers(&scope, args.concurrency, ctx);
    let lost = match elector.as_mut() {
        None => {
            controllers.await;
            None
        }
        Some(elector) => tokio::select! {
            () = controllers => None,
            reason = elector.hold() => Some(reason),
        },
    };
    server.abort();
    match (lost, elector.as_mut()) {
        // Exit non-zero so the pod restarts and stands by again with a clean state.
        (Some(reason), _) => anyhow::bail!("lost leadership: {reason}"),
        (None, Some(elector)) => elector.release().await,
        (None, None) => {}
    }
    tracing::info!("controller stopped; shutting down");
    Ok(())
}

/// Every kind on the one engine; each stops on SIGTERM/SIGINT after finishing the reconciles
/// in flight. Adding a kind adds one line here (see docs/development.md).
async fn run_controllers(scope: &Scope, concurrency: u16, ctx: Arc<Context>) {
    engine::run(ctx)
        .kind(scope.api::<VpcTier>())
        .kind(scope.api::<PrivateEndpoint>())
        .kind(scope.api::<LoadBalancerPolicy>())
        .kind(scope.api::<TransitGateway>())
        .kind(scope.api::<VpcPeering>())
        .kind(scope.api::<PartnerApi>())
        .kind(scope.api::<GlobalEntrypoint>())
        .start(concurrency)
        .await;
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
