//! The LoadBalancerPolicy reconciler: validate -> resolve the VpcTier -> desired -> observe ->
//! plan -> execute, repeated while each pass makes changes, then status. Cleanup is the same
//! loop with nothing desired.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use securecart_api::conditions::READY;
use securecart_api::{DeletionPolicy, LoadBalancerPolicy, LoadBalancerPolicyStatus, VpcTier};
use securecart_aws::load_balancer::LoadBalancing;
use securecart_plan::conditions::Outcome;
use securecart_plan::load_balancer::{self, Desired, Observed};

use crate::context::{Context, Error};
use crate::reconciler::{self, ObjectContext, settled_outcome};
use crate::vpc_tier::MAX_PASSES;

pub async fn reconcile(obj: Arc<LoadBalancerPolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    reconciler::run(obj, ctx, apply, cleanup).await
}

/// The policy's status fields for what is observed now, with the per-part conditions.
fn status_of(
    r: &ObjectContext<'_, LoadBalancerPolicy>,
    desired: &Desired,
    observed: &Observed,
) -> LoadBalancerPolicyStatus {
    let previous = r.obj.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
    load_balancer::status(desired, observed, r.obj.metadata.generation, previous, &Time(Timestamp::now()))
}

async fn observe(
    lb: &LoadBalancing,
    obj: &LoadBalancerPolicy,
    uid: &str,
) -> Result<Observed, securecart_aws::AwsError> {
    let target = load_balancer::dns_target(&obj.spec);
    lb.observe(uid, target.as_ref().map(|(z, _)| z), target.as_ref().map(|(_, n)| n.as_str())).await
}

async fn apply(obj: Arc<LoadBalancerPolicy>, api: Api<LoadBalancerPolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    let r = ObjectContext::new(&*obj, &api, &ctx);
    if let Err(invalid) = load_balancer::validate(&obj.spec) {
        return r.invalid(invalid).await;
    }
    let tier_name = &obj.spec.vpc_tier_ref.name;
    let tiers: Api<VpcTier> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let Some(tier) = tiers.get_opt(tier_name).await? else {
        return Err(r.waiting(format!("VpcTier {tier_name} does not exist")).await);
    };
    let tier_ready = tier.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == READY && c.status == "True" && c.observed_generation == tier.metadata.generation)
    });
    let (Some(tier_status), true) = (tier.status.as_ref(), tier_ready) else {
        return Err(r.waiting(format!("VpcTier {tier_name} to become Ready")).await);
    };
    let placement = match load_balancer::placement(&obj.spec, &tier.spec, tier_status) {
        Ok(Some(p)) => p,
        Ok(None) => return Err(r.waiting(format!("VpcTier {tier_name} to report its subnets")).await),
        Err(invalid) => return r.invalid(invalid).await,
    };
    let desired = match load_balancer::desired(&obj.spec, &r.owner, placement) {
        Ok(d) => d,
        Err(invalid) => return r.invalid(invalid).await,
    };
    let region = desired.placement.region.clone();
    let lb = ctx.aws.load_balancing(&region).await;
    let drift = r.was_ready();
    let mut pass = 0;
    let (observed, plan) = loop {
        let observed = match observe(&lb, &obj, &r.owner.uid).await {
            Ok(o) => o,
            Err(e) => return Err(r.aws_failed(e, None).await),
        };
        let planned = load_balancer::plan(Some(&desired), &r.owner, &observed);
        if planned.plan.is_empty() || pass == MAX_PASSES {
            break (observed, planned.plan);
        }
        if pass == 0 && obj.status.as_ref().and_then(|s| s.region.as_deref()) != Some(region.as_str()) {
            // Deletion reads the region from status: record it before anything exists in AWS.
            let status = status_of(&r, &desired, &observed);
            r.write_status(&Outcome::Progressing("creating AWS resources".into()), Some(status)).await?;
        }
        pass += 1;
        for replacement in &planned.replacements {
            r.event(EventType::Normal, "Replacing", "CreateLoadBalancer", replacement.clone()).await;
        }
        tracing::info!(namespace = %r.owner.namespace, name = %r.owner.name, %region, pass, steps = planned.plan.steps.len(), "executing plan");
        let execution = lb.execute(&planned.plan).await;
        r.report(&execution.executed, drift).await;
        if let Some(error) = execution.error {
            return Err(r.aws_failed(error, Some(status_of(&r, &desired, &observed))).await);
        }
    };
    let outcome = settled_outcome(plan.steps.len(), &plan.waiting);
    r.write_status(&outcome, Some(status_of(&r, &desired, &observed))).await?;
    Ok(Action::requeue(if outcome == Outcome::Ready { ctx.settings.resync } else { ctx.settings.progress }))
}

async fn cleanup(
    obj: Arc<LoadBalancerPolicy>,
    api: Api<LoadBalancerPolicy>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let r = ObjectContext::new(&*obj, &api, &ctx);
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return r.retained().await;
    }
    let region = match obj.status.as_ref().and_then(|s| s.region.clone()) {
        Some(region) => region,
        None => {
            let tiers: Api<VpcTier> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
            match tiers.get_opt(&obj.spec.vpc_tier_ref.name).await? {
                Some(tier) => tier.spec.region,
                None => {
                    // Nothing is created before the region is in status, so nothing can be left.
                    r.event(EventType::Normal, "Deleted", "Delete", "no AWS resources were ever created".into()).await;
                    return Ok(Action::await_change());
                }
            }
        }
    };
    let lb = ctx.aws.load_balancing(&region).await;
    for _ in 0..MAX_PASSES {
        let observed = match observe(&lb, &obj, &r.owner.uid).await {
            Ok(o) => o,
            Err(e) => return Err(r.aws_failed(e, None).await),
        };
        let plan = load_balancer::plan(None, &r.owner, &observed).plan;
        if !load_balancer::owns_anything(&r.owner, &observed) && plan.is_empty() {
            r.event(
                EventType::Normal,
                "Deleted",
                "Delete",
                "every AWS resource of this LoadBalancerPolicy is deleted".into(),
            )
            .await;
            return Ok(Action::await_change());
        }
        if plan.is_empty() {
            let message = format!("deleting: waiting for {}", plan.waiting.join("; "));
            r.write_status(&Outcome::Progressing(message.clone()), None).await?;
            return Err(Error::DeletionPending(message));
        }
        let execution = lb.execute(&plan).await;
        r.report(&execution.executed, false).await;
        if let Some(error) = execution.error {
            return Err(r.aws_failed(error, None).await);
        }
    }
    Err(Error::DeletionPending("still deleting".into()))
}
