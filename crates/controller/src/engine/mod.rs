//! One reconcile engine for every kind. A kind says what it depends on and how its AWS state is
//! observed, planned and reported; the engine does everything else alike: the finalizer, the
//! converge and teardown loops, Retain, pause, create intents, status and conditions, events,
//! the watches derived from the declared references, and the users registry that orders
//! deletions and removals across objects.

mod admission;
mod converge;
mod hub;
mod report;
mod teardown;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use securecart_api::conditions::PAUSED_ANNOTATION;
use securecart_api::{CommonStatus, FINALIZER};
use securecart_aws::{Aws, AwsError, Execution};
use securecart_plan::conditions::{Readiness, settled};
use securecart_plan::{Context as PlanContext, InvalidSpec, Known, Owner, Plan, Step};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

pub use hub::{Hub, Registry, run};

use crate::context::{Context, Error};

/// Observe-plan-execute passes in one reconcile; a pass only runs when the last one made
/// changes, so a converged object costs one observation.
pub const MAX_PASSES: usize = 6;

/// An object this one uses, in the same namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    pub kind: &'static str,
    pub name: String,
}

impl Reference {
    pub fn new(kind: &'static str, name: &str) -> Self {
        Self { kind, name: name.to_string() }
    }
}

/// Why the desired state cannot be built yet.
#[derive(Debug)]
pub enum Unresolved {
    /// A referenced object is missing or has not published what is needed; looked at again
    /// when it changes.
    Waiting(String),
    Invalid(InvalidSpec),
    Aws(AwsError),
}

impl From<InvalidSpec> for Unresolved {
    fn from(e: InvalidSpec) -> Self {
        Unresolved::Invalid(e)
    }
}

impl From<AwsError> for Unresolved {
    fn from(e: AwsError) -> Self {
        Unresolved::Aws(e)
    }
}

/// How an observation may go about it.
#[derive(Clone, Copy, Debug)]
pub struct Observe<'a> {
    /// What the status records the object owns, by component.
    pub known: &'a Known,
    /// Something may exist that the status does not record (a create whose outcome is unknown,
    /// a teardown, a status written before the inventory existed): search by tags and names too.
    pub search: bool,
    /// A periodic check of a converged object: a shared region-wide snapshot will do.
    pub drift: bool,
}

/// A plan and what to announce about it.
pub struct Planned {
    pub plan: Plan<Step>,
    /// (reason, message) Events, e.g. a load balancer being replaced.
    pub events: Vec<(&'static str, String)>,
}

impl From<Plan<Step>> for Planned {
    fn from(plan: Plan<Step>) -> Self {
        Self { plan, events: Vec::new() }
    }
}

/// What the engine hands a kind: the shared context and the registry of every kind's objects.
pub struct Cx<'a> {
    pub ctx: &'a Context,
    pub registry: &'a Registry,
    pub owner: &'a Owner,
}

impl Cx<'_> {
    pub fn aws(&self) -> &Aws {
        &self.ctx.aws
    }

    /// A referenced object of kind `R` in the owner's namespace, from the controller's cache.
    pub fn get<R: Kind>(&self, name: &str) -> Option<Arc<R>> {
        self.registry.get::<R>(&self.owner.namespace, name)
    }
}

/// A kind this controller manages.
pub trait Managed:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + HasStatus<Status = <Self as Managed>::StatusFields>
    + Clone
    + std::fmt::Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    type StatusFields: CommonStatus + Send + Sync + 'static;
    const KIND: &'static str;
}

/// A kind, as the engine drives it. Everything here is what differs between kinds.
pub trait Kind: Managed {
    /// A converged object's periodic check reads a region-wide snapshot shared by every object
    /// of the kind: the checks are then timed together (see `converge::next_check`), so one
    /// snapshot serves them all.
    const SHARED_CHECKS: bool = false;

    /// What the desired state is built from besides the spec: referenced objects' facts, zones.
    type Facts: Send + Sync;
    type Desired: Send + Sync;
    type Observed: Default + Send + Sync;

    /// The objects this one uses. Declared once: the engine derives the watches (a change to
    /// one requeues its users), the users registry (deleting one waits for its users) and the
    /// in-use set (a resource a user holds is not removed from under it).
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// AWS IDs this object holds in the objects it references (subnets, route tables), from
    /// its status.
    fn holds(&self) -> Vec<String> {
        Vec::new()
    }

    /// A digest of what this object publishes to its users; they are requeued when it changes.
    fn published(&self) -> u64 {
        0
    }

    /// The spec on its own: no references, no AWS.
    fn validate(&self) -> Result<(), InvalidSpec>;

    /// Delete or Retain the AWS resources when the object goes.
    fn deletion_policy(&self) -> securecart_api::DeletionPolicy;

    /// Resolves references and other inputs of the desired state.
    fn resolve(&self, cx: &Cx<'_>) -> impl Future<Output = Result<Self::Facts, Unresolved>> + Send;

    /// The region the object's resources live in: from the facts, else from the spec or the
    /// status (teardown, when references may be gone). None: nothing can have been created.
    fn region(&self, facts: Option<&Self::Facts>) -> Option<String>;

    fn observe(
        &self,
        cx: &Cx<'_>,
        region: &str,
        how: Observe<'_>,
    ) -> impl Future<Output = Result<Self::Observed, AwsError>> + Send;

    fn desired(
        &self,
        owner: &Owner,
        facts: &Self::Facts,
        observed: &Self::Observed,
    ) -> Result<Self::Desired, InvalidSpec>;

    /// The steps from `observed` to `desired`; with None, the teardown.
    fn plan(&self, desired: Option<&Self::Desired>, cx: &PlanContext<'_>, observed: &Self::Observed) -> Planned;

    /// Folds what an execution returned into the model. False when the kind cannot: the
    /// engine then observes again.
    fn absorb(_observed: &mut Self::Observed, _plan: &Plan<Step>, _execution: &Execution) -> bool {
        false
    }

    /// The kind's own status fields (the engine adds conditions, inventory and intents).
    /// `known` is the ID each component keeps: the status-named one, else the planner's pick
    /// among duplicates; what the status publishes for others to use is that one.
    fn status_fields(
        &self,
        facts: &Self::Facts,
        desired: &Self::Desired,
        observed: &Self::Observed,
        known: &Known,
        previous: &[Condition],
        now: &Time,
    ) -> Self::StatusFields;

    /// Whether the resources are usable once the plan has nothing left to do now.
    fn readiness(&self, _desired: &Self::Desired, _observed: &Self::Observed, plan: &Plan<Step>) -> Readiness {
        securecart_plan::conditions::blocked(&plan.blocked).unwrap_or_else(|| settled(plan.steps.len(), &plan.waiting))
    }

    /// (component, ID) of everything the owner owns in `observed`.
    fn inventory(&self, owner: &Owner, observed: &Self::Observed) -> Vec<(String, String)>;

    fn owns_anything(&self, owner: &Owner, observed: &Self::Observed) -> bool;

    /// The status names AWS resources but has no inventory (written by an older controller):
    /// observation must search.
    fn legacy_status(_status: &Self::StatusFields) -> bool {
        false
    }

    /// What blocks a failed deletion step, in words (foreign network interfaces in a subnet).
    fn explain_blocked(
        &self,
        _cx: &Cx<'_>,
        _region: &str,
        _observed: &Self::Observed,
        _error: &AwsError,
    ) -> impl Future<Output = Option<String>> + Send {
        async { None }
    }
}

/// The engine's entry point for every kind: its turn among the due reconciles, finalizer
/// dispatch, metrics and backoff.
pub async fn reconcile<K: Kind>(obj: Arc<K>, hub: Arc<Hub>) -> Result<Action, Error> {
    let ctx = hub.ctx.clone();
    let queued_since = Instant::now();
    let queued = ctx.metrics.queued.with_label_values(&[K::KIND]);
    queued.inc();
    let turn = hub.admission(K::KIND).acquire(priority(&*obj)).await;
    queued.dec();
    let Ok(_permit) = turn else {
        // Shutting down: the next leader or process picks the object up.
        return Ok(Action::await_change());
    };
    // The object may have changed, or gone, while it waited.
    let namespace = obj.namespace().unwrap_or_default();
    let Some(obj) = hub.registry.get::<K>(&namespace, &obj.name_any()) else {
        return Ok(Action::await_change());
    };
    let started = Instant::now();
    let in_flight = ctx.metrics.in_flight.with_label_values(&[K::KIND]);
    in_flight.inc();
    // The root of the reconcile's trace: every AWS call it makes is a child (see
    // securecart_aws::Aws::call), also those of plan steps running concurrently.
    let span = reconcile_span::<K>(&obj, started.duration_since(queued_since));
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = finalizer(&api, FINALIZER, obj.clone(), |event| async {
        match event {
            finalizer::Event::Apply(o) => Box::pin(converge::apply(o, &api, &hub)).await,
            finalizer::Event::Cleanup(o) => Box::pin(teardown::cleanup(o, &api, &hub)).await,
        }
    })
    .instrument(span.clone())
    .await
    .map_err(|e| match e {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    });
    let label = match &result {
        Ok(_) => "ok",
        Err(e) => e.metric_label(),
    };
    span.record("outcome", label);
    if result.is_err() {
        span.record("otel.status_code", "error");
        span.record("otel.status_description", label);
    }
    in_flight.dec();
    ctx.metrics.reconciles.with_label_values(&[K::KIND, label]).inc();
    ctx.metrics.reconcile_duration.with_label_values(&[K::KIND]).observe(started.elapsed().as_secs_f64());
    if result.is_ok() {
        ctx.reset_backoff(&ObjectRef::from_obj(&*obj));
    }
    result
}

/// The span of one reconcile: the object (kind, namespace, name, generation), how long it
/// waited for its turn, and the outcome (`ok` or the error's metric label), recorded at the end.
fn reconcile_span<K: Kind>(obj: &K, queued: std::time::Duration) -> tracing::Span {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    tracing::info_span!(
        "reconcile",
        otel.name = %format_args!("reconcile {}", K::KIND),
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
        kind = K::KIND,
        namespace = %namespace,
        name = %name,
        generation = obj.meta().generation.unwrap_or_default(),
        deleting = obj.meta().deletion_timestamp.is_some(),
        queued_ms = queued.as_millis() as u64,
        outcome = tracing::field::Empty,
    )
}

/// Work an object needs goes before the periodic checks of objects that are Ready and current.
fn priority<K: Kind>(obj: &K) -> admission::Priority {
    let settled = obj.meta().deletion_timestamp.is_none()
        && obj.finalizers().iter().any(|f| f == FINALIZER)
        && ready_state(obj) == "True";
    if settled { admission::Priority::Check } else { admission::Priority::Work }
}

/// Requeue policy shared by every kind.
pub fn error_policy<K: Kind>(obj: Arc<K>, error: &Error, hub: Arc<Hub>) -> Action {
    let ctx = &hub.ctx;
    tracing::warn!(kind = K::KIND, namespace = obj.namespace().unwrap_or_default(), name = %obj.name_any(), error = %error, "reconcile failed");
    match error {
        Error::DeletionPending(_) | Error::WaitingForDependency(_) => Action::requeue(ctx.settings.progress),
        e if e.is_terminal() => Action::requeue(ctx.settings.resync),
        _ => Action::requeue(ctx.backoff(&ObjectRef::from_obj(&*obj))),
    }
}

pub fn owner_of<K: Managed>(obj: &K) -> Owner {
    Owner {
        kind: K::KIND.into(),
        namespace: obj.namespace().unwrap_or_default(),
        name: obj.name_any(),
        uid: obj.uid().unwrap_or_default(),
    }
}

/// `net.securecart.io/paused: "true"` on the object.
pub fn is_paused<K: Resource>(obj: &K) -> bool {
    obj.annotations().get(PAUSED_ANNOTATION).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The Ready condition status of an object: True, False or Unknown (also when absent or written
/// for an older generation).
pub fn ready_state<K: Managed>(obj: &K) -> &'static str {
    let ready = obj
        .status()
        .and_then(|s| s.conditions().iter().find(|c| c.type_ == securecart_api::conditions::READY).cloned());
    match ready {
        Some(c) if c.observed_generation == obj.meta().generation && c.status == "True" => "True",
        Some(c) if c.observed_generation == obj.meta().generation && c.status == "False" => "False",
        _ => "Unknown",
    }
}
