//! The VpcTier reconciler: validate -> observe -> plan -> execute, repeated while each pass makes
//! changes, then status. Cleanup is the same loop with nothing desired.

use std::sync::Arc;

use kube::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use securecart_api::conditions::reason;
use securecart_api::{DeletionPolicy, PrivateEndpoint, VpcTier};
use securecart_aws::AwsError;
use securecart_aws::ec2::Ec2;
use securecart_plan::conditions::Outcome;
use securecart_plan::endpoint;
use securecart_plan::vpc::{self, Observed};

use crate::context::{Context, Error};
use crate::reconciler::{self, ObjectContext, settled_outcome};

/// Observe-plan-execute passes in one reconcile; a pass only runs when the last one made
/// changes, so a converged object costs exactly one observation.
pub const MAX_PASSES: usize = 6;

pub async fn reconcile(obj: Arc<VpcTier>, ctx: Arc<Context>) -> Result<Action, Error> {
    reconciler::run(obj, ctx, apply, cleanup).await
}

async fn apply(obj: Arc<VpcTier>, api: Api<VpcTier>, ctx: Arc<Context>) -> Result<Action, Error> {
    let r = ObjectContext::new(&*obj, &api, &ctx);
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
    let drift = r.was_ready();
    let mut pass = 0;
    let (desired, observed, plan) = loop {
        // A converged object's periodic check reads the region-wide snapshot; anything else
        // (a new spec, the pass after a change) observes its own resources afresh.
        let observation = if drift && pass == 0 {
            ec2.observe_vpc_shared(&r.owner.uid, ctx.settings.resync / 2).await
        } else {
            ec2.observe_vpc(&r.owner.uid).await
        };
        let observed = match observation {
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
        let execution = ec2.execute_vpc(&r.owner.uid, &plan).await;
        r.report(&execution.executed, drift).await;
        if let Some(error) = execution.error {
            return Err(r.aws_failed(error, Some(vpc::status(&desired, &observed))).await);
        }
    };
    let outcome = settled_outcome(plan.steps.len(), &plan.waiting);
    r.write_status(&outcome, Some(vpc::status(&desired, &observed))).await?;
    Ok(Action::requeue(if outcome == Outcome::Ready { ctx.settings.resync } else { ctx.settings.progress }))
}

async fn cleanup(obj: Arc<VpcTier>, api: Api<VpcTier>, ctx: Arc<Context>) -> Result<Action, Error> {
    let r = ObjectContext::new(&*obj, &api, &ctx);
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return r.retained().await;
    }
    // Endpoints in the VPC would block its deletion: they go first.
    let endpoints: Api<PrivateEndpoint> = Api::namespaced(ctx.client.clone(), &r.owner.namespace);
    let list = endpoints.list(&Default::default()).await?;
    let users = endpoint::users_of(
        &r.owner.name,
        list.items.iter().map(|e| (e.metadata.name.as_deref().unwrap_or_default(), &e.spec)),
    );
    if !users.is_empty() {
        let message = format!("deletion waits for PrivateEndpoints that use this VpcTier: {}", users.join(", "));
        r.write_status(&Outcome::Progressing(message.clone()), None).await?;
        return Err(Error::DeletionPending(message));
    }
    let ec2 = ctx.aws.ec2(&obj.spec.region).await;
    for _ in 0..MAX_PASSES {
        let observed = ec2.observe_vpc(&r.owner.uid).await?;
        if !vpc::owns_anything(&r.owner, &observed) {
            r.event(EventType::Normal, "Deleted", "Delete", "every AWS resource of this VpcTier is deleted".into())
                .await;
            return Ok(Action::await_change());
        }
        let plan = vpc::plan(None, &r.owner, &observed);
        if plan.is_empty() {
            let message = format!("deleting: waiting for {}", plan.waiting.join("; "));
            r.write_status(&Outcome::Progressing(message.clone()), None).await?;
            return Err(Error::DeletionPending(message));
        }
        let execution = ec2.execute_vpc(&r.owner.uid, &plan).await;
        r.report(&execution.executed, false).await;
        if let Some(error) = execution.error {
            return Err(blocked(&r, &ec2, &observed, error).await);
        }
    }
    Err(Error::DeletionPending("still deleting".into()))
}

/// A failed teardown step: say what blocks it (for a dependency, the foreign network
/// interfaces in the VPC) instead of spinning silently.
async fn blocked(r: &ObjectContext<'_, VpcTier>, ec2: &Ec2, observed: &Observed, error: AwsError) -> Error {
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
    r.event(EventType::Warning, reason::DELETION_BLOCKED, error.operation, message.clone()).await;
    let outcome = Outcome::Stalled { reason: reason::DELETION_BLOCKED, message: message.clone() };
    if let Err(e) = r.write_status(&outcome, None).await {
        return e;
    }
    Error::DeletionPending(message)
}
