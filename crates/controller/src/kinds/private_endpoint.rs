//! PrivateEndpoint on the engine: it uses a VpcTier, and holds the subnets and route tables
//! its endpoint is in, so the VpcTier keeps them until the endpoint has moved off.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, EndpointType, PrivateEndpoint, PrivateEndpointStatus, VpcTier};
use securecart_aws::AwsError;
use securecart_aws::ec2::InVpc;
use securecart_plan::conditions::Readiness;
use securecart_plan::private_endpoint::{self as plan, Observed, TierSubnet, VpcTierView, components};
use securecart_plan::{Context as PlanContext, InvalidSpec, Owner, Plan, Step};

use super::{ids, recorded};
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
    const SHARED_CHECKS: bool = true;

    type Facts = VpcTierView;
    type Desired = plan::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        vec![Reference::new(VpcTier::KIND, &self.spec.vpc_tier_ref.name)]
    }

    fn holds(&self) -> Vec<String> {
        let Some(s) = &self.status else { return Vec::new() };
        s.subnet_ids.iter().chain(&s.route_table_ids).cloned().collect()
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        plan::validate(&self.spec)
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

    /// By the IDs the status records, else in the VpcTier's VPC; by tag only when searching; a
    /// periodic drift check from a region-wide read shared by every PrivateEndpoint.
    async fn observe(&self, cx: &Cx<'_>, region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let ec2 = cx.aws().ec2(region).await;
        if how.drift {
            let max_age = cx.ctx.settings.resync / 2;
            let (endpoints, security_groups) = ec2.observe_endpoints_shared(Self::KIND, &cx.owner.uid, max_age).await?;
            return Ok(Observed { endpoints, security_groups });
        }
        let recorded = recorded(cx, self.status.as_ref(), how);
        let (endpoint_ids, group_ids) =
            (ids(&recorded, |c| c == components::ENDPOINT), ids(&recorded, |c| c == components::SECURITY_GROUP));
        let vpc = self.resolve(cx).await.ok().map(|v| v.vpc_id);
        let (owner_uid, vpc_id, search) = (cx.owner.uid.as_str(), vpc.as_deref(), how.search);
        // Only an Interface endpoint has a group: for the others, only a recorded one is read.
        let group_vpc = vpc_id.filter(|_| plan::endpoint_type(&self.spec) == EndpointType::Interface);
        let (endpoints, security_groups) = futures::try_join!(
            ec2.observe_vpc_endpoints(InVpc { owner_uid, vpc_id, ids: &endpoint_ids, search }),
            ec2.observe_security_groups(InVpc { owner_uid, vpc_id: group_vpc, ids: &group_ids, search }),
        )?;
        Ok(Observed { endpoints, security_groups })
    }

    fn desired(&self, owner: &Owner, facts: &VpcTierView, _observed: &Observed) -> Result<plan::Desired, InvalidSpec> {
        plan::desired(&self.spec, owner, facts)
    }

    fn plan(&self, desired: Option<&plan::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        plan::plan(desired, cx, observed).into()
    }

    fn status_fields(
        &self,
        _facts: &VpcTierView,
        desired: &plan::Desired,
        observed: &Observed,
        _known: &securecart_plan::Known,
        previous: &[Condition],
        now: &Time,
    ) -> PrivateEndpointStatus {
        plan::status(desired, observed, previous, now)
    }

    fn readiness(&self, desired: &plan::Desired, observed: &Observed, steps: &Plan<Step>) -> Readiness {
        plan::readiness(desired, observed, steps)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        plan::inventory(owner, observed)
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        plan::owns_anything(owner, observed)
    }

    /// A status written before the inventory existed names the endpoint and group directly.
    fn legacy_status(status: &PrivateEndpointStatus) -> bool {
        status.vpc_endpoint_id.is_some() || status.security_group_id.is_some()
    }
}
