//! LoadBalancerPolicy on the engine: it uses a VpcTier, and holds the subnets its load
//! balancer is in, so the VpcTier keeps them until the load balancer has moved off.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, LoadBalancerPolicy, LoadBalancerPolicyStatus, VpcTier};
use securecart_aws::AwsError;
use securecart_plan::load_balancer::{self, Observed, Placement};
use securecart_plan::owner::component;
use securecart_plan::{Context as PlanContext, InvalidSpec, Owner, Step};

use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved};

impl Managed for LoadBalancerPolicy {
    type StatusFields = LoadBalancerPolicyStatus;
    const KIND: &'static str = "LoadBalancerPolicy";
}

impl Kind for LoadBalancerPolicy {
    type Facts = Placement;
    type Desired = load_balancer::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        vec![Reference::new(VpcTier::KIND, &self.spec.vpc_tier_ref.name)]
    }

    fn holds(&self) -> Vec<String> {
        self.status.as_ref().map(|s| s.subnet_ids.clone()).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        load_balancer::validate(&self.spec)
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    async fn resolve(&self, cx: &Cx<'_>) -> Result<Placement, Unresolved> {
        let name = &self.spec.vpc_tier_ref.name;
        let tier = cx.get::<VpcTier>(name).ok_or_else(|| Unresolved::Waiting(format!("VpcTier {name} to exist")))?;
        let Some(status) = tier.status.as_ref() else {
            return Err(Unresolved::Waiting(format!("VpcTier {name} to report its subnets")));
        };
        match load_balancer::placement(&self.spec, &tier.spec, status)? {
            Some(p) => Ok(p),
            None => Err(Unresolved::Waiting(format!("VpcTier {name} to report its subnets"))),
        }
    }

    fn region(&self, facts: Option<&Placement>) -> Option<String> {
        facts.map(|f| f.region.clone()).or_else(|| self.status.as_ref()?.region.clone())
    }

    async fn observe(&self, cx: &Cx<'_>, region: &str, _how: Observe<'_>) -> Result<Observed, AwsError> {
        let target = load_balancer::dns_target(&self.spec);
        let lb = cx.aws().load_balancing(region).await;
        lb.observe(&cx.owner.uid, target.as_ref().map(|(z, _)| z), target.as_ref().map(|(_, n)| n.as_str())).await
    }

    fn desired(
        &self,
        owner: &Owner,
        facts: &Placement,
        _observed: &Observed,
    ) -> Result<load_balancer::Desired, InvalidSpec> {
        load_balancer::desired(&self.spec, owner, facts.clone())
    }

    fn plan(&self, desired: Option<&load_balancer::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        let planned = load_balancer::plan(desired, cx.owner, observed);
        Planned {
            plan: planned.plan.map(Step::LoadBalancing),
            events: planned.replacements.into_iter().map(|m| ("Replacing", m)).collect(),
        }
    }

    fn status_fields(
        &self,
        _facts: &Placement,
        desired: &load_balancer::Desired,
        observed: &Observed,
        previous: &[Condition],
        now: &Time,
    ) -> LoadBalancerPolicyStatus {
        load_balancer::status(desired, observed, self.metadata.generation, previous, now)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |tags: &securecart_plan::Tags, id: &str| {
            if owner.owns(tags)
                && let Some(c) = component(tags)
            {
                out.push((c.to_string(), id.to_string()));
            }
        };
        observed.security_groups.iter().for_each(|r| add(&r.tags, &r.id));
        observed.target_groups.iter().for_each(|r| add(&r.tags, &r.arn));
        observed.load_balancers.iter().for_each(|r| add(&r.tags, &r.arn));
        observed.listeners.iter().for_each(|r| add(&r.tags, &r.arn));
        observed.rules.iter().for_each(|r| add(&r.tags, &r.arn));
        observed.web_acls.iter().for_each(|r| add(&r.tags, &r.arn));
        observed.protections.iter().for_each(|r| add(&r.tags, &r.id));
        observed.health_checks.iter().for_each(|r| add(&r.tags, &r.id));
        out
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        load_balancer::owns_anything(owner, observed)
    }
}
