//! The VpcTier reconciler: validate -> observe -> plan -> execute, repeated while each pass makes
//! progress, then status. Cleanup is the same loop with nothing desired.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{self, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use securecart_api::conditions::{READY, reason};
use securecart_api::{DeletionPolicy, FINALIZER, VpcTier, VpcTierStatus};
use securecart_aws::AwsError;
use securecart_aws::ec2::{Ec2, Execution};
use securecart_plan::conditions::{Outcome, conditions};
use securecart_plan::vpc::{self, Desired, Observed};
use securecart_plan::{InvalidSpec, Owner};

use crate::context::{Context, Error};
use crate::status;

const KIND: &str = "VpcTier";
/// Observe-plan-execute passes in one reconcile; each pass only runs when the last one made
/// changes, so a converged object costs exactly one observation.
const MAX_PASSES: usize = 6;

pub async fn reconcile(obj: Arc<VpcTier>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let api: Api<VpcTier> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let result = finalizer(&api, FINALIZER, obj.clone(), |event| async {
        match event {
            finalizer::Event::Apply(o) => Box::pin(apply(o, &api, &ctx)).await,
            finalizer::Event::Cleanup(o) => Box::pin(cleanup(o, &api, &ctx)).await,
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
    ctx.metrics.reconciles.with_label_values(&[KIND, label]).inc();
    ctx.metrics.reconcile_duration.with_label_values(&[KIND]).observe(started.elapsed().as_secs_f64());
    if result.is_ok() {
        ctx.reset_backoff(&ObjectRef::from_obj(&*obj));
    }
    result
}

pub fn error_policy(obj: Arc<VpcTier>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(namespace = obj.namespace().unwrap_or_default(), name = %obj.name_any(), error = %error, "reconcile failed");
    match error {
        Error::DeletionPending(_) => Action::requeue(ctx.settings.progress),
        e if e.is_terminal() => Action::requeue(ctx.settings.resync),
        _ => Action::requeue(ctx.backoff(&ObjectRef::from_obj(&*obj))),
    }
}

fn owner_of(obj: &VpcTier) -> Owner {
    Owner {
        kind: KIND.into(),
        namespace: obj.namespace().unwrap_or_default(),
        name: obj.name_any(),
        uid: obj.uid().unwrap_or_default(),
    }
}

fn now() -> Time {
    Time(Timestamp::now())
}

/// Ready=True at the current generation: anything changed now is a drift repair.
fn was_ready(obj: &VpcTier) -> bool {
    obj.status.as_ref().is_some_and(|s| {
        s.observed_generation == obj.metadata.generation
            && s.conditions.iter().any(|c| c.type_ == READY && c.status == "True")
    })
}

struct Reconciler<'a> {
    obj: &'a VpcTier,
    api: &'a Api<VpcTier>,
    ctx: &'a Context,
    owner: Owner,
    oref: ObjectReference,
}

impl Reconciler<'_> {
    /// Writes the status for `outcome`; ID fields come from `observed` when known, else stay.
    async fn write_status(&self, outcome: &Outcome, model: Option<(&Desired, &Observed)>) -> Result<(), Error> {
        let current = self.obj.status.as_ref();
        let mut next = match model {
            Some((desired, observed)) => vpc::status(desired, observed),
            None => current.cloned().unwrap_or_default(),
        };
        let generation = self.obj.metadata.generation;
        next.observed_generation = generation;
        next.conditions =
            conditions(outcome, generation, current.map(|s| s.conditions.as_slice()).unwrap_or_default(), &now());
        if status::apply(self.api, &self.obj.name_any(), current, &next).await? {
            tracing::debug!(name = %self.obj.name_any(), "status written");
        }
        Ok(())
    }

    async fn invalid(&self, invalid: InvalidSpec) -> Result<Action, Error> {
        let already = self.obj.status.as_ref().is_some_and(|s| {
            s.conditions.iter().any(|c| c.type_ == READY && c.reason == reason::INVALID_SPEC && c.message == invalid.0)
        });
        if !already {
            self.ctx.event(&self.oref, EventType::Warning, reason::INVALID_SPEC, "Validate", invalid.0.clone()).await;
        }
        self.write_status(&Outcome::Stalled { reason: reason::INVALID_SPEC, message: invalid.0.clone() }, None).await?;
        // The spec must change; a new generation triggers the next reconcile.
        Ok(Action::await_change())
    }

    async fn aws_failed(&self, error: AwsError, model: Option<(&Desired, &Observed)>) -> Error {
        let message = error.to_string();
        let outcome = if error.is_terminal() {
            Outcome::Stalled { reason: reason::AWS_REJECTED, message: message.clone() }
        } else {
            Outcome::Failed { reason: reason::AWS_ERROR, message: message.clone() }
        };
        self.ctx.event(&self.oref, EventType::Warning, outcome_reason(&outcome), error.operation, message).await;
        if let Err(e) = self.write_status(&outcome, model).await {
            return e;
        }
        Error::Aws(error)
    }

    async fn report(&self, execution: &Execution, drift: bool) {
        for step in &execution.executed {
            let reason = if drift {
                self.ctx.metrics.drift_repairs.with_label_values(&[KIND, step.action]).inc();
                "DriftRepaired"
            } else if step.action.starts_with("Create")
                || step.action.starts_with("Allocate")
                || step.action.starts_with("Associate")
                || step.action.starts_with("Attach")
            {
                "Created"
            } else if step.action.starts_with("Delete")
                || step.action.starts_with("Release")
                || step.action.starts_with("Detach")
                || step.action.starts_with("Disassociate")
            {
                "Deleted"
            } else {
                "Updated"
            };
            let note = match &step.created_id {
                Some(id) => format!("{} ({id})", step.summary),
                None => step.summary.clone(),
            };
            self.ctx.event(&self.oref, EventType::Normal, reason, step.action, note).await;
        }
    }
}

fn outcome_reason(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Ready => reason::RECONCILED,
        Outcome::Progressing(_) => reason::PROGRESSING,
        Outcome::Stalled { reason, .. } | Outcome::Failed { reason, .. } => reason,
    }
}

async fn apply(obj: Arc<VpcTier>, api: &Api<VpcTier>, ctx: &Context) -> Result<Action, Error> {
    let r = Reconciler { obj: &obj, api, ctx, owner: owner_of(&obj), oref: obj.object_ref(&()) };
    let _span =
        tracing::info_span!("reconcile", kind = KIND, namespace = %r.owner.namespace, name = %r.owner.name).entered();
    drop(_span);
    if let Err(invalid) = vpc::validate(&obj.spec) {
        return r.invalid(invalid).await;
    }
    let ec2 = ctx.aws.ec2(&obj.spec.region).await;
    let zones = match ec2.availability_zones().await {
        Ok(z) => z,
        Err(e) => return Err(r.aws_failed(e, None).await),
    };
    let zones = match vpc::resolve_zones(&obj.spec, &zones) {
        Ok(z) => z,
        Err(invalid) => return r.invalid(invalid).await,
    };
    let drift = was_ready(&obj);
    let mut pass = 0;
    let (desired, observed, plan) = loop {
        let observed = match ec2.observe_vpc(&r.owner.uid).await {
            Ok(o) => o,
            Err(e) => return Err(r.aws_failed(e, None).await),
        };
        let desired = match vpc::desired(&obj.spec, &r.owner, zones.clone(), &observed) {
            Ok(d) => d,
            Err(invalid) => return r.invalid(invalid).await,
        };
        let plan = vpc::plan(Some(&desired), &r.owner, &observed);
        if plan.is_empty() || pass == MAX_PASSES {
            break (desired, observed, plan);
        }
        pass += 1;
        tracing::info!(namespace = %r.owner.namespace, name = %r.owner.name, pass, steps = plan.steps.len(), "executing plan");
        let execution = ec2.execute_vpc(&plan).await;
        r.report(&execution, drift).await;
        if let Some(error) = execution.error {
            return Err(r.aws_failed(error, Some((&desired, &observed))).await);
        }
    };
    let outcome = if plan.in_sync() {
        Outcome::Ready
    } else if plan.waiting.is_empty() {
        Outcome::Progressing(format!("{} changes still to make", plan.steps.len()))
    } else {
        Outcome::Progressing(format!("waiting for {}", plan.waiting.join("; ")))
    };
    r.write_status(&outcome, Some((&desired, &observed))).await?;
    Ok(Action::requeue(if plan.in_sync() { ctx.settings.resync } else { ctx.settings.progress }))
}

async fn cleanup(obj: Arc<VpcTier>, api: &Api<VpcTier>, ctx: &Context) -> Result<Action, Error> {
    let r = Reconciler { obj: &obj, api, ctx, owner: owner_of(&obj), oref: obj.object_ref(&()) };
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        ctx.event(
            &r.oref,
            EventType::Normal,
            "Retained",
            "Delete",
            "deletionPolicy is Retain: AWS resources left in place".into(),
        )
        .await;
        return Ok(Action::await_change());
    }
    let ec2 = ctx.aws.ec2(&obj.spec.region).await;
    for _ in 0..MAX_PASSES {
        let observed = ec2.observe_vpc(&r.owner.uid).await?;
        if !vpc::owns_anything(&r.owner, &observed) {
            ctx.event(
                &r.oref,
                EventType::Normal,
                "Deleted",
                "Delete",
                "every AWS resource of this VpcTier is deleted".into(),
            )
            .await;
            return Ok(Action::await_change());
        }
        let plan = vpc::plan(None, &r.owner, &observed);
        if plan.is_empty() {
            let message = format!("deleting: waiting for {}", plan.waiting.join("; "));
            r.write_status(&Outcome::Progressing(message.clone()), None).await?;
            return Err(Error::DeletionPending(message));
        }
        let execution = ec2.execute_vpc(&plan).await;
        r.report(&execution, false).await;
        if let Some(error) = execution.error {
            return Err(blocked(&r, &ec2, &observed, error).await);
        }
    }
    Err(Error::DeletionPending("still deleting".into()))
}

/// A failed teardown step: say what blocks it (for a dependency, the foreign network
/// interfaces in the VPC) instead of spinning silently.
async fn blocked(r: &Reconciler<'_>, ec2: &Ec2, observed: &Observed, error: AwsError) -> Error {
    if error.code != "DependencyViolation" {
        return r.aws_failed(error, None).await;
    }
    let mut foreign = Vec::new();
    for v in observed.vpcs.iter().filter(|v| r.owner.owns(&v.tags)) {
        if let Ok(enis) = ec2.foreign_network_interfaces(&v.id).await {
            foreign.extend(enis);
        }
    }
    let message = if foreign.is_empty() {
        format!("deletion blocked: {error}")
    } else {
        format!("deletion blocked by network interfaces this controller does not own: {}", foreign.join(", "))
    };
    let outcome = Outcome::Stalled { reason: reason::DELETION_BLOCKED, message: message.clone() };
    r.ctx.event(&r.oref, EventType::Warning, reason::DELETION_BLOCKED, error.operation, message.clone()).await;
    if let Err(e) = r.write_status(&outcome, None).await {
        return e;
    }
    Error::DeletionPending(message)
}

#[allow(dead_code)]
fn _status_type_check(s: VpcTierStatus) -> VpcTierStatus {
    s
}
