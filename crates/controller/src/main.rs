//! securecart-controller: converges VpcTier and LoadBalancerPolicy objects into AWS.

mod context;
mod http;
mod load_balancer_policy;
mod reconciler;
mod status;
mod vpc_tier;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use futures::StreamExt;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use securecart_api::{LoadBalancerPolicy, VpcTier};

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
    /// Objects reconciled at once, per kind.
    #[arg(long, env = "SECURECART_CONCURRENCY", default_value_t = 8)]
    concurrency: u16,
    /// Log format: text or json.
    #[arg(long, env = "SECURECART_LOG_FORMAT", default_value = "text")]
    log_format: String,
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

async fn log_result<K: std::fmt::Debug, E: std::fmt::Display, A>(result: Result<(K, A), E>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "reconcile loop");
    }
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,kube=warn")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
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
    init_tracing(&args.log_format);

    let client =
        Client::try_default().await.context("no Kubernetes client configuration (KUBECONFIG or in-cluster)")?;
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry)?;
    let aws = securecart_aws::Aws::new(securecart_aws::AwsMetrics::new(&registry)?);
    let settings = Settings {
        resync: Duration::from_secs(args.resync_seconds),
        progress: Duration::from_secs(args.progress_seconds),
    };
    let ctx = Arc::new(Context::new(client.clone(), aws, metrics, settings));

    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .with_context(|| format!("binding {}", args.metrics_addr))?;
    tracing::info!(addr = %listener.local_addr()?, namespace = args.namespace.as_deref().unwrap_or("<all>"), "starting");
    let server = tokio::spawn(http::serve(listener, registry, ctx.ready.clone()));

    let scope = Scope { client: client.clone(), namespace: args.namespace.clone() };
    let config = controller::Config::default().concurrency(args.concurrency);
    ctx.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    // One controller per kind, all on the same context; each stops on SIGTERM/SIGINT after
    // finishing the reconciles in flight.
    let vpc_tiers = Controller::new(scope.api::<VpcTier>(), watcher::Config::default())
        .with_config(config.clone())
        .shutdown_on_signal()
        .run(vpc_tier::reconcile, reconciler::error_policy, ctx.clone())
        .for_each(log_result);
    // A policy waits for its VpcTier: re-reconcile the policies that name a VpcTier when it changes.
    let policies = Controller::new(scope.api::<LoadBalancerPolicy>(), watcher::Config::default());
    let store = policies.store();
    let policies = policies
        .watches(scope.api::<VpcTier>(), watcher::Config::default(), move |tier| {
            store
                .state()
                .into_iter()
                .filter(|p| p.namespace() == tier.namespace() && p.spec.vpc_tier_ref.name == tier.name_any())
                .map(|p| ObjectRef::from_obj(&*p))
                .collect::<Vec<_>>()
        })
        .with_config(config.clone())
        .shutdown_on_signal()
        .run(load_balancer_policy::reconcile, reconciler::error_policy, ctx.clone())
        .for_each(log_result);
    futures::join!(vpc_tiers, policies);
    tracing::info!("controller stopped; shutting down");
    server.abort();
    Ok(())
}
