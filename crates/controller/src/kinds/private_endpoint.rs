//! PrivateEndpoint on the engine: it uses a VpcTier, and holds the subnets and route tables
//! its endpoint is in, so the VpcTier keeps them until the endpoint has moved off.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, PrivateEndpoint, PrivateEndpointStatus, VpcTier};
use securecart_aws::AwsError;
use securecart_plan::conditions::Readiness;
use securecart_plan::endpoint::{self, Observed, TierSubnet, VpcTierView};
use securecart_plan::owner::component;
use securecart_plan::{Context as PlanContext, InvalidSpec, Owner, Plan, Step};

use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved};

impl Managed for PrivateEndpoint {
    type StatusFields = PrivateEndpointStatus;
    const KIND: &'static str = "PrivateEndpoint";
}

/// The VpcTier's network as the endpoint needs it: what its status publishes, whatever its
/// Ready says (a VpcTier moving off a zone is not Ready, and its users must move with it).
pub fn view_of(vpc_tier: &VpcTier) -> Result<VpcTierView, String> {
    let name = kube::ResourceExt::name_any(vpc_tier);
    let status = vpc_tier.status.as_ref().ok_or_else(|| format!("VpcTier {name} to report its network"))?;
    let vpc_id = status.vpc_id.clone().ok_or_else(|| format!("VpcTier {name} to report its VPC"))?;
    let subnets: Vec<TierSubnet> = status
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
    if subnets.is_empty() {
        return Err(format!("VpcTier {name} to report its subnets"));
    }
    Ok(VpcTierView {
        name,
        region: vpc_tier.spec.region.clone(),
        vpc_id,
        cidr_block: vpc_tier.spec.cidr_block.clone(),
        subnets,
    })
}

impl Kind for PrivateEndpoint {
    type Facts = VpcTierView;
    type Desired = endpoint::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        vec![Reference::new(VpcTier::KIND, &self.spec.vpc_tier_ref.name)]
    }

    fn holds(&self) -> Vec<String> {
        let Some(s) = &self.status else { return Vec::new() };
        s.subnet_ids.iter().chain(&s.route_table_ids).cloned().collect()
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        endpoint::validate(&self.spec)
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    async fn resolve(&self, cx: &Cx<'_>) -> Result<VpcTierView, Unresolved> {
        let name = &self.spec.vpc_tier_ref.name;
        let vpc_tier =
            cx.get::<VpcTier>(name).ok_or_else(|| Unresolved::Waiting(format!("VpcTier {name} to exist")))?;
        view_of(&vpc_tier).map_err(Unresolved::Waiting)
    }

    fn region(&self, facts: Option<&VpcTierView>) -> Option<String> {
        facts.map(|f| f.region.clone()).or_else(|| self.status.as_ref()?.region.clone())
    }

    async fn observe(&self, cx: &Cx<'_>, region: &str, _how: Observe<'_>) -> Result<Observed, AwsError> {
        cx.aws().ec2(region).await.observe_endpoints(&cx.owner.uid).await
    }

    fn desired(
        &self,
        owner: &Owner,
        facts: &VpcTierView,
        _observed: &Observed,
    ) -> Result<endpoint::Desired, InvalidSpec> {
        endpoint::desired(&self.spec, owner, facts)
    }

    fn plan(&self, desired: Option<&endpoint::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        endpoint::plan(desired, cx.owner, observed).map(Step::Endpoint).into()
    }

    fn status_fields(
        &self,
        _facts: &VpcTierView,
        desired: &endpoint::Desired,
        observed: &Observed,
        previous: &[Condition],
        now: &Time,
    ) -> PrivateEndpointStatus {
        endpoint::status(desired, observed, previous, now)
    }

    fn readiness(&self, desired: &endpoint::Desired, observed: &Observed, plan: &Plan<Step>) -> Readiness {
        let steps: Plan<endpoint::Step> = Plan {
            steps: plan
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::Endpoint(e) => Some(e.clone()),
                    _ => None,
                })
                .collect(),
            waiting: plan.waiting.clone(),
        };
        endpoint::readiness(desired, observed, &steps)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        let endpoints =
            observed.endpoints.iter().filter(|e| owner.owns(&e.tags) && e.state != "deleted").map(|e| (&e.tags, &e.id));
        let groups = observed.security_groups.iter().filter(|g| owner.owns(&g.tags)).map(|g| (&g.tags, &g.id));
        endpoints.chain(groups).filter_map(|(tags, id)| Some((component(tags)?.to_string(), id.clone()))).collect()
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        endpoint::owns_anything(owner, observed)
    }
}
