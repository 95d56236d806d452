//! The PrivateEndpoint reconciler: resolve the VpcTier -> validate -> observe -> plan -> execute
//! -> status. Cleanup is the same loop with nothing desired.

use std::sync::Arc;

use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use securecart_api::conditions::READY;
use securecart_api::{DeletionPolicy, PrivateEndpoint, VpcTier};
use securecart_plan::InvalidSpec;
use securecart_plan::conditions::Outcome;
use securecart_plan::endpoint::{self, TierSubnet, VpcTierView};

use crate::context::{Context, Error};
use crate::reconciler::{self, ObjectContext};
use crate::vpc_tier::MAX_PASSES;

pub async fn reconcile(obj: Arc<PrivateEndpoint>, ctx: Arc<Context>) -> Result<Action, Error> {
    reconciler::run(obj, ctx, apply, cleanup).await
}

/// The VpcTier's network as the endpoint needs it, once that VpcTier is Ready.
fn view_of(vpc_tier: &VpcTier) -> Result<VpcTierView, String> {
    let name = vpc_tier.name_any();
    let status = vpc_tier.status.as_ref();
    let ready = status.is_some_and(|s| {
        s.observed_generation == vpc_tier.metadata.generation
            && s.conditions.iter().any(|c| c.type_ == READY && c.status == "True")
    });
    let (Some(status), true) = (status, ready) else { return Err(format!("VpcTier {name} to be Ready")) };
    let vpc_id = status.vpc_id.clone().ok_or_else(|| format!("VpcTier {name} to report its VPC"))?;
    let subnets = status
        .subnets
        .iter()
        .filter_map(|s| {
            Some(TierSubnet {
                tier: s.tier.clone(),
                zone: s.zone.clone(),
                cidr_block: s.cidr_block.clone(),
                subnet_id: s.subnet_id.clone()?,
                route_table_id: s.route_table_id.clone()?,
            })
        })
        .collect();
    Ok(VpcTierView {
        name,
        region: vpc_tier.spec.region.clone(),
        vpc_id,
        cidr_block: vpc_tier.spec.cidr_block.clone(),
        subnets,
    })
}

async fn apply(obj: Arc<PrivateEndpoint>, api: Api<PrivateEndpoint>, ctx: Arc<Context>) -> Result<Action, Error> {
    let r = ObjectContext::new(&*obj, &api, &ctx);
    if let Err(invalid) = endpoint::validate(&obj.spec) {
        return r.invalid(invalid).await;
    }
    let vpc_tiers: Api<VpcTier> = Api::namespaced(ctx.client.clone(), &r.owner.namespace);
    let vpc_tier_name = &obj.spec.vpc_tier_ref.name;
    let view = match vpc_tiers.get_opt(vpc_tier_name).await? {
        None => return Err(r.waiting(format!("waiting for VpcTier {vpc_tier_name} to exist")).await),
        Some(vt) => match view_of(&vt) {
            Ok(view) => view,
            Err(what) => return Err(r.waiting(format!("waiting for {what}")).await),
        },
    };
    let desired = match endpoint::desired(&obj.spec, &r.owner, &view) {
        Ok(d) => d,
        Err(InvalidSpec(message)) => return r.invalid(InvalidSpec(message)).await,
    };
    let ec2 = ctx.aws.ec2(&view.region).await;
    let drift = r.was_ready();
    let previous = obj.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let mut pass = 0;
    let (observed, plan) = loop {
        let observed = match ec2.observe_endpoints(&r.owner.uid).await {
            Ok(o) => o,
            Err(e) => return Err(r.aws_failed(e, None).await),
        };
        let plan = endpoint::plan(Some(&desired), &r.owner, &observed);
        if plan.is_empty() || pass == MAX_PASSES {
            break (observed, plan);
        }
        pass += 1;
        tracing::info!(namespace = %r.owner.namespace, name = %r.owner.name, pass, steps = plan.steps.len(), "executing plan");
        let execution = ec2.execute_endpoint(&plan).await;
        r.report(&execution.executed, drift).await;
        if let Some(error) = execution.error {
            return Err(r.aws_failed(error, Some(endpoint::status(&desired, &observed, &previous, &now))).await);
        }
    };
    let outcome = endpoint::outcome(&desired, &observed, &plan);
    r.write_status(&outcome, Some(endpoint::status(&desired, &observed, &previous, &now))).await?;
    Ok(Action::requeue(if outcome == Outcome::Ready { ctx.settings.resync } else { ctx.settings.progress }))
}

async fn cleanup(obj: Arc<PrivateEndpoint>, api: Api<PrivateEndpoint>, ctx: Arc<Context>) -> Result<Action, Error> {
    let r = ObjectContext::new(&*obj, &api, &ctx);
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        r.event(
            EventType::Normal,
            "Retained",
            "Delete",
            "deletionPolicy is Retain: the endpoint is left in place".into(),
        )
        .await;
        return Ok(Action::await_change());
    }
    // The region is recorded in status once anything could have been created.
    let Some(region) = obj.status.as_ref().and_then(|s| s.region.clone()) else {
        return Ok(Action::await_change());
    };
    let ec2 = ctx.aws.ec2(&region).await;
    for _ in 0..MAX_PASSES {
        let observed = ec2.observe_endpoints(&r.owner.uid).await?;
        if !endpoint::owns_anything(&r.owner, &observed) {
            r.event(EventType::Normal, "Deleted", "Delete", "the endpoint and its security group are deleted".into())
                .await;
            return Ok(Action::await_change());
        }
        let plan = endpoint::plan(None, &r.owner, &observed);
        if plan.is_empty() {
            let message = format!("deleting: waiting for {}", plan.waiting.join("; "));
            r.write_status(&Outcome::Progressing(message.clone()), None).await?;
            return Err(Error::DeletionPending(message));
        }
        let execution = ec2.execute_endpoint(&plan).await;
        r.report(&execution.executed, false).await;
        if let Some(error) = execution.error {
            return Err(r.aws_failed(error, None).await);
        }
    }
    Err(Error::DeletionPending("still deleting".into()))
}
