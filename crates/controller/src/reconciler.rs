//! What every kind's reconciler does alike: finalizer dispatch, metrics, status writes,
//! InvalidSpec and AWS-failure reporting, and one Event per AWS change.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource, ResourceExt};
use securecart_api::conditions::{READY, reason};
use securecart_api::{CommonStatus, FINALIZER};
use securecart_aws::{AwsError, Executed};
use securecart_plan::conditions::{Outcome, conditions};
use securecart_plan::{InvalidSpec, Owner};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::{Context, Error, Metrics};
use crate::status;

/// A kind this controller manages.
pub trait Managed:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + HasStatus<Status = <Self as Managed>::StatusFields>
    + Clone
    + Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    type StatusFields: CommonStatus + Send + Sync;
    const KIND: &'static str;
}

impl Managed for securecart_api::VpcTier {
    type StatusFields = securecart_api::VpcTierStatus;
    const KIND: &'static str = "VpcTier";
}

impl Managed for securecart_api::PrivateEndpoint {
    type StatusFields = securecart_api::PrivateEndpointStatus;
    const KIND: &'static str = "PrivateEndpoint";
}

impl Managed for securecart_api::LoadBalancerPolicy {
    type StatusFields = securecart_api::LoadBalancerPolicyStatus;
    const KIND: &'static str = "LoadBalancerPolicy";
}

/// Runs one reconcile through the finalizer, recording metrics and backoff.
pub async fn run<K, A, AF, C, CF>(obj: Arc<K>, ctx: Arc<Context>, apply: A, cleanup: C) -> Result<Action, Error>
where
    K: Managed,
    A: FnOnce(Arc<K>, Api<K>, Arc<Context>) -> AF,
    AF: Future<Output = Result<Action, Error>>,
    C: FnOnce(Arc<K>, Api<K>, Arc<Context>) -> CF,
    CF: Future<Output = Result<Action, Error>>,
{
    let started = Instant::now();
    let in_flight = ctx.metrics.in_flight.with_label_values(&[K::KIND]);
    in_flight.inc();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let result = finalizer(&api, FINALIZER, obj.clone(), |event| async {
        match event {
            finalizer::Event::Apply(o) => Box::pin(apply(o, api.clone(), ctx.clone())).await,
            finalizer::Event::Cleanup(o) => Box::pin(cleanup(o, api.clone(), ctx.clone())).await,
        }
    })
    .await
    .map_err(|e| match e {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    });
    let label = match &result {
        Ok(_) => "ok",
        Err(e) => e.metric_label(),
    };
    in_flight.dec();
    ctx.metrics.reconciles.with_label_values(&[K::KIND, label]).inc();
    ctx.metrics.reconcile_duration.with_label_values(&[K::KIND]).observe(started.elapsed().as_secs_f64());
    if result.is_ok() {
        ctx.reset_backoff(&ObjectRef::from_obj(&*obj));
    }
    result
}

/// How often the objects gauge is refreshed from the controller's cache.
const OBJECT_COUNT_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// The Ready condition status of an object: True, False or Unknown (also when absent or written
/// for an older generation).
pub fn ready_state<K: Managed>(obj: &K) -> &'static str {
    let ready = obj.status().and_then(|s| s.conditions().iter().find(|c| c.type_ == READY).cloned());
    match ready {
        Some(c) if c.observed_generation == obj.meta().generation && c.status == "True" => "True",
        Some(c) if c.observed_generation == obj.meta().generation && c.status == "False" => "False",
        _ => "Unknown",
    }
}

/// Keeps `securecart_objects{kind,ready}` in step with the controller's cache of `K`.
pub async fn count_objects<K: Managed>(store: Store<K>, metrics: Metrics) {
    loop {
        let mut counts = [("True", 0i64), ("False", 0), ("Unknown", 0)];
        for obj in store.state() {
            let state = ready_state(&*obj);
            if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == state) {
                entry.1 += 1;
            }
        }
        for (state, n) in counts {
            metrics.objects.with_label_values(&[K::KIND, state]).set(n);
        }
        tokio::time::sleep(OBJECT_COUNT_PERIOD).await;
    }
}

/// Requeue policy shared by every kind.
pub fn error_policy<K: Managed>(obj: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
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

/// One object being reconciled, with the helpers that report on it.
pub struct ObjectContext<'a, K: Managed> {
    pub obj: &'a K,
    pub api: &'a Api<K>,
    pub ctx: &'a Context,
    pub owner: Owner,
    pub oref: ObjectReference,
}

impl<'a, K: Managed> ObjectContext<'a, K> {
    pub fn new(obj: &'a K, api: &'a Api<K>, ctx: &'a Context) -> Self {
        Self { obj, api, ctx, owner: owner_of(obj), oref: obj.object_ref(&()) }
    }

    /// Ready=True at the current generation: anything changed now is a drift repair.
    pub fn was_ready(&self) -> bool {
        self.obj.status().is_some_and(|s| {
            s.conditions()
                .iter()
                .any(|c| c.type_ == READY && c.status == "True" && c.observed_generation == self.obj.meta().generation)
        })
    }

    /// Writes the status for `outcome`; `fields` replaces the kind-specific fields when known,
    /// otherwise they stay as they were.
    pub async fn write_status(&self, outcome: &Outcome, fields: Option<K::StatusFields>) -> Result<(), Error> {
        let current = self.obj.status();
        let mut next = fields.unwrap_or_else(|| current.cloned().unwrap_or_default());
        let generation = self.obj.meta().generation;
        let now = Time(Timestamp::now());
        next.set_common(
            generation,
            conditions(outcome, generation, current.map(|s| s.conditions()).unwrap_or_default(), &now),
        );
        status::apply(self.api, &self.obj.name_any(), current, &next).await?;
        Ok(())
    }

    pub async fn event(&self, type_: EventType, reason: &str, action: &str, note: String) {
        self.ctx.event(&self.oref, type_, reason, action, note).await;
    }

    /// `deletionPolicy: Retain`: says so and lets the finalizer go, leaving AWS untouched.
    pub async fn retained(&self) -> Result<Action, Error> {
        let note = "deletionPolicy is Retain: AWS resources left in place".to_string();
        self.event(EventType::Normal, "Retained", "Delete", note).await;
        Ok(Action::await_change())
    }

    /// Reports a spec the controller cannot realise; waits for the spec to change.
    pub async fn invalid(&self, invalid: InvalidSpec) -> Result<Action, Error> {
        let already = self.obj.status().is_some_and(|s| {
            s.conditions()
                .iter()
                .any(|c| c.type_ == READY && c.reason == reason::INVALID_SPEC && c.message == invalid.0)
        });
        if !already {
            self.event(EventType::Warning, reason::INVALID_SPEC, "Validate", invalid.0.clone()).await;
        }
        self.write_status(&Outcome::Stalled { reason: reason::INVALID_SPEC, message: invalid.0.clone() }, None).await?;
        Ok(Action::await_change())
    }

    /// Reports that a referenced object is missing or not Ready; looked at again soon.
    pub async fn waiting(&self, message: String) -> Error {
        let outcome = Outcome::Progressing(message.clone());
        if let Err(e) = self.write_status(&outcome, None).await {
            return e;
        }
        Error::WaitingForDependency(message)
    }

    /// Reports an AWS failure in the conditions and an Event, and returns the error to retry.
    pub async fn aws_failed(&self, error: AwsError, fields: Option<K::StatusFields>) -> Error {
        let message = error.to_string();
        let outcome = if error.is_terminal() {
            Outcome::Stalled { reason: reason::AWS_REJECTED, message: message.clone() }
        } else {
            Outcome::Failed { reason: reason::AWS_ERROR, message: message.clone() }
        };
        let event_reason = if error.is_terminal() { reason::AWS_REJECTED } else { reason::AWS_ERROR };
        self.event(EventType::Warning, event_reason, error.operation, message).await;
        if let Err(e) = self.write_status(&outcome, fields).await {
            return e;
        }
        Error::Aws(error)
    }

    /// One Event per AWS change; drift repairs are also counted.
    pub async fn report(&self, executed: &[Executed], drift: bool) {
        for step in executed {
            let reason = if drift {
                self.ctx.metrics.drift_repairs.with_label_values(&[K::KIND, step.action]).inc();
                "DriftRepaired"
            } else {
                change_reason(step.action)
            };
            let note = match &step.created_id {
                Some(id) => format!("{} ({id})", step.summary),
                None => step.summary.clone(),
            };
            self.event(EventType::Normal, reason, step.action, note).await;
        }
    }
}

/// Created, Deleted or Updated, from an AWS action name.
fn change_reason(action: &str) -> &'static str {
    const CREATE: &[&str] = &["Create", "Allocate", "Associate", "Attach", "Put", "Request", "Register", "Add"];
    const DELETE: &[&str] = &["Delete", "Release", "Detach", "Disassociate", "Deregister", "Remove"];
    if CREATE.iter().any(|p| action.starts_with(p)) {
        "Created"
    } else if DELETE.iter().any(|p| action.starts_with(p)) {
        "Deleted"
    } else {
        "Updated"
    }
}

/// The Outcome of a plan that made no further changes: Ready, or what it still waits for.
pub fn settled_outcome(steps_left: usize, waiting: &[String]) -> Outcome {
    match (steps_left, waiting.is_empty()) {
        (0, true) => Outcome::Ready,
        (_, false) => Outcome::Progressing(format!("waiting for {}", waiting.join("; "))),
        (n, true) => Outcome::Progressing(format!("{n} changes still to make")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_reasons() {
        assert_eq!(change_reason("CreateSubnet"), "Created");
        assert_eq!(change_reason("AssociateWebACL"), "Created");
        assert_eq!(change_reason("ReleaseAddress"), "Deleted");
        assert_eq!(change_reason("ModifyVpcAttribute"), "Updated");
        assert_eq!(change_reason("SetTags"), "Updated");
    }

    #[test]
    fn settled_outcomes() {
        assert_eq!(settled_outcome(0, &[]), Outcome::Ready);
        assert_eq!(
            settled_outcome(0, &["NAT gateway nat-1".into()]),
            Outcome::Progressing("waiting for NAT gateway nat-1".into())
        );
        assert_eq!(settled_outcome(3, &[]), Outcome::Progressing("3 changes still to make".into()));
    }
}
