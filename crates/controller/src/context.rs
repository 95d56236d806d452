//! Shared state of the reconcilers, the controller's error type and its metrics.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use kube::Client;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use securecart_aws::{Aws, AwsError, ErrorKind};
use securecart_plan::InvalidSpec;

#[derive(Clone, Debug)]
pub struct Settings {
    pub resync: Duration,
    pub progress: Duration,
    /// How long a create whose outcome is unknown may stay invisible to AWS's reads before the
    /// controller concludes it did not happen.
    pub consistency_window: Duration,
}

/// The status this process last wrote for each object (by UID), so a reconcile never starts
/// from an older status than it left, whatever the watch has delivered so far. An entry written
/// with the version the write returned goes once the watch delivers that version: from then on
/// the cached object holds the same status, so a converged object's status is kept once, not
/// twice.
#[derive(Default)]
pub struct Journal {
    written: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    version: Option<String>,
    value: Arc<dyn std::any::Any + Send + Sync>,
}

impl Journal {
    pub fn get<S: Clone + Send + Sync + 'static>(&self, uid: &str) -> Option<S> {
        self.written.lock().expect("journal lock").get(uid)?.value.downcast_ref::<S>().cloned()
    }

    /// As `get`, for an object seen at `seen_version`: nothing (and the entry goes) when that is
    /// the version written, since the object seen then holds what was written.
    pub fn get_unless_seen<S: Clone + Send + Sync + 'static>(
        &self,
        uid: &str,
        seen_version: Option<&str>,
    ) -> Option<S> {
        let mut written = self.written.lock().expect("journal lock");
        let entry = written.get(uid)?;
        if entry.version.is_some() && entry.version.as_deref() == seen_version {
            written.remove(uid);
            return None;
        }
        entry.value.downcast_ref::<S>().cloned()
    }

    pub fn put<S: Send + Sync + 'static>(&self, uid: &str, value: S) {
        self.put_at(uid, None, value);
    }

    /// Records `value` as written at `version` (the resource version the write returned).
    pub fn put_at<S: Send + Sync + 'static>(&self, uid: &str, version: Option<String>, value: S) {
        let entry = Entry { version, value: Arc::new(value) };
        self.written.lock().expect("journal lock").insert(uid.to_string(), entry);
    }

    pub fn remove(&self, uid: &str) {
        self.written.lock().expect("journal lock").remove(uid);
    }
}

pub struct Context {
    pub client: Client,
    pub aws: Aws,
    pub metrics: Metrics,
    pub settings: Settings,
    pub recorder: Recorder,
    pub ready: Arc<AtomicBool>,
    pub journal: Journal,
    /// What each object's references published at its last reconcile (by UID).
    pub followed: Journal,
    /// Consecutive failures per object, for exponential backoff; an entry goes with the next
    /// success.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub fn new(client: Client, aws: Aws, metrics: Metrics, settings: Settings) -> Self {
        let reporter =
            Reporter { controller: "securecart-controller".into(), instance: std::env::var("POD_NAME").ok() };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            aws,
            metrics,
            settings,
            ready: Arc::new(AtomicBool::new(false)),
            journal: Journal::default(),
            followed: Journal::default(),
            failures: Mutex::default(),
        }
    }

    /// Publishes an event on the object; a failure to publish is logged, never fatal.
    pub async fn event(
        &self,
        object: &k8s_openapi::api::core::v1::ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note.chars().take(1000).collect()),
            action: action.into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, object).await {
            tracing::warn!(error = %e, reason, "could not publish event");
        }
    }

    /// Exponential backoff with jitter (2 s doubling to about a minute), so objects that
    /// failed together do not all retry at the same moment.
    pub fn backoff<K: kube::Resource<DynamicType = ()>>(&self, obj: &ObjectRef<K>) -> Duration {
        let key = obj.to_string();
        let mut failures = self.failures.lock().expect("failures lock");
        let n = failures.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        let ceiling = 2u64.pow((*n).min(6)).min(300) * 1000;
        let jitter = securecart_plan::intent::stable_hash(&[&key, &n.to_string(), &std::process::id().to_string()]);
        Duration::from_millis(ceiling / 2 + jitter % (ceiling / 2 + 1))
    }

    pub fn reset_backoff<K: kube::Resource<DynamicType = ()>>(&self, obj: &ObjectRef<K>) {
        self.failures.lock().expect("failures lock").remove(&obj.to_string());
    }
}

/// Why a reconcile failed. Each variant has a low-cardinality label shared by metrics and logs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("invalid spec: {0}")]
    InvalidSpec(#[from] InvalidSpec),
    /// Deletion cannot finish yet; the finalizer stays and the object is looked at again.
    #[error("deletion in progress: {0}")]
    DeletionPending(String),
    /// A referenced object is missing or not Ready yet.
    #[error("waiting for a dependency: {0}")]
    WaitingForDependency(String),
    #[error("finalizer: {0}")]
    Finalizer(String),
}

impl Error {
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Kube(_) => "kube",
            Error::Aws(e) => match e.kind {
                ErrorKind::Throttled => "aws_throttled",
                ErrorKind::Terminal => "aws_terminal",
                _ => "aws_retryable",
            },
            Error::InvalidSpec(_) => "invalid_spec",
            Error::DeletionPending(_) => "deletion_pending",
            Error::WaitingForDependency(_) => "waiting_for_dependency",
            Error::Finalizer(_) => "finalizer",
        }
    }

    /// Needs a spec change: retrying sooner than the resync period is pointless.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Error::InvalidSpec(_)) || matches!(self, Error::Aws(e) if e.is_terminal())
    }
}

#[derive(Clone)]
pub struct Metrics {
    pub reconciles: IntCounterVec,
    pub reconcile_duration: HistogramVec,
    pub drift_repairs: IntCounterVec,
    /// Objects this replica watches, by kind and Ready condition status (True, False, Unknown).
    pub objects: IntGaugeVec,
    /// Reconciles running now, by kind.
    pub in_flight: IntGaugeVec,
    /// Due reconciles waiting for a slot, by kind.
    pub queued: IntGaugeVec,
    /// 1 while this replica runs the controllers (always 1 without leader election).
    pub leader: IntGauge,
}

impl Metrics {
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let reconciles = IntCounterVec::new(
            Opts::new("securecart_reconciles_total", "Reconciles by kind and result (ok or an error label)."),
            &["kind", "result"],
        )?;
        let reconcile_duration = HistogramVec::new(
            HistogramOpts::new("securecart_reconcile_duration_seconds", "Time spent in one reconcile.")
                .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
            &["kind"],
        )?;
        let drift_repairs = IntCounterVec::new(
            Opts::new(
                "securecart_drift_repairs_total",
                "AWS changes made to repair out-of-band drift, by kind and action.",
            ),
            &["kind", "action"],
        )?;
        let objects = IntGaugeVec::new(
            Opts::new(
                "securecart_objects",
                "Objects watched, by kind and Ready condition status (True, False, Unknown).",
            ),
            &["kind", "ready"],
        )?;
        let in_flight = IntGaugeVec::new(
            Opts::new("securecart_reconciles_in_flight", "Reconciles running now, by kind."),
            &["kind"],
        )?;
        let queued = IntGaugeVec::new(
            Opts::new(
                "securecart_reconciles_queued",
                "Due reconciles waiting for one of the --concurrency slots, by kind.",
            ),
            &["kind"],
        )?;
        let leader = IntGauge::new("securecart_leader", "1 while this replica holds the leader lease and reconciles.")?;
        registry.register(Box::new(reconciles.clone()))?;
        registry.register(Box::new(reconcile_duration.clone()))?;
        registry.register(Box::new(drift_repairs.clone()))?;
        registry.register(Box::new(objects.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(queued.clone()))?;
        registry.register(Box::new(leader.clone()))?;
        Ok(Self { reconciles, reconcile_duration, drift_repairs, objects, in_flight, queued, leader })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric the binary registers, as Prometheus names them.
    fn registered() -> Vec<String> {
        let registry = Registry::new();
        let metrics = Metrics::new(&registry).expect("controller metrics");
        let aws = securecart_aws::AwsMetrics::new(&registry).expect("AWS metrics");
        // Vectors show up in a scrape only once they have a series.
        metrics.reconciles.with_label_values(&["K", "ok"]).inc();
        metrics.reconcile_duration.with_label_values(&["K"]).observe(1.0);
        metrics.drift_repairs.with_label_values(&["K", "CreateRoute"]).inc();
        metrics.objects.with_label_values(&["K", "True"]).set(1);
        metrics.in_flight.with_label_values(&["K"]).set(0);
        metrics.queued.with_label_values(&["K"]).set(0);
        aws.record("ec2", "DescribeVpcs", false, "ok", 0.1);
        aws.rate_limited.with_label_values(&["ec2", "CreateVpc"]).inc();
        registry.gather().iter().map(|f| f.name().to_string()).collect()
    }

    #[test]
    fn every_metric_is_documented_and_on_the_dashboard() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let operations = std::fs::read_to_string(format!("{root}/docs/operations.md")).expect("docs/operations.md");
        let dashboard =
            std::fs::read_to_string(format!("{root}/deploy/grafana/securecart-operator.json")).expect("dashboard");
        serde_json::from_str::<serde_json::Value>(&dashboard).expect("the dashboard is JSON");
        let names = registered();
        assert_eq!(names.len(), 10, "{names:?}");
        for name in names {
            assert!(
                operations.contains(&format!("| `{name}` |")),
                "{name} is not in the metrics table of docs/operations.md"
            );
            assert!(dashboard.contains(&name), "{name} is not on the Grafana dashboard");
        }
    }

    #[test]
    fn a_written_status_is_kept_until_the_watch_delivers_its_version() {
        let journal = Journal::default();
        journal.put_at("uid-1", Some("41".into()), "written".to_string());
        // The watch still has the version before the write: the journal's copy is the newer.
        assert_eq!(journal.get_unless_seen::<String>("uid-1", Some("40")), Some("written".into()));
        assert_eq!(journal.get::<String>("uid-1"), Some("written".into()));
        // The watch delivered the write: the object holds it, and the copy goes.
        assert_eq!(journal.get_unless_seen::<String>("uid-1", Some("41")), None);
        assert_eq!(journal.get::<String>("uid-1"), None);
        // A value with no version is never taken as delivered.
        journal.put("uid-2", 7u64);
        assert_eq!(journal.get_unless_seen::<u64>("uid-2", None), Some(7));
        assert_eq!(journal.get::<u64>("uid-2"), Some(7));
    }
}
