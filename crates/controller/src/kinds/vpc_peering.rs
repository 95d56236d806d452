//! VpcPeering on the engine: it uses the requester VpcTier and, unless the accepter is external,
//! the accepter VpcTier; it holds the route tables its routes are in, so a VpcTier keeps them
//! until the routes have moved off. The accepter's side is reached in its region, through the
//! role it names in another account.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, VpcPeering, VpcPeeringStatus, VpcTier};
use securecart_aws::AwsError;
use securecart_aws::ec2::PeeringScope;
use securecart_plan::peering::{self, COMPONENT, Observed};
use securecart_plan::vpc_peering::{self as plan, Facts, Side};
use securecart_plan::{Context as PlanContext, InvalidSpec, Location, Owner, Step};

use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved};

impl Managed for VpcPeering {
    type StatusFields = VpcPeeringStatus;
    const KIND: &'static str = "VpcPeering";
}

/// What the engine knows when planning: both sides, and the controller's own account.
pub struct Resolved {
    facts: Facts,
    own_account: String,
}

/// One side from its VpcTier: what its status publishes, whatever its Ready says.
fn side_of(name: &str, tiers: &[String], field: &str, cx: &Cx<'_>, account: &str) -> Result<Side, Unresolved> {
    let vt = cx.get::<VpcTier>(name).ok_or_else(|| Unresolved::Waiting(format!("VpcTier {name} to exist")))?;
    let status = vt.status.as_ref();
    let vpc_id = status
        .and_then(|s| s.vpc_id.clone())
        .ok_or_else(|| Unresolved::Waiting(format!("VpcTier {name} to report its VPC")))?;
    let subnets = status.map(|s| s.subnets.as_slice()).unwrap_or_default();
    let route_table_ids = plan::route_tables_for(tiers, field, name, &vt.spec, subnets)?
        .ok_or_else(|| Unresolved::Waiting(format!("VpcTier {name} to report its route tables")))?;
    Ok(Side {
        vpc_id,
        cidr_block: vt.spec.cidr_block.clone(),
        region: vt.spec.region.clone(),
        account_id: account.to_string(),
        route_table_ids,
    })
}

/// Where the accepter's side is: its region, and the role for another account.
fn accepter_location(obj: &VpcPeering, cx: &Cx<'_>) -> Option<Location> {
    match (&obj.spec.accepter.external, &obj.spec.accepter.vpc_tier_ref) {
        (Some(x), _) => Some(Location { region: x.region.clone(), role_arn: x.role_arn.clone() }),
        (None, Some(r)) => cx.get::<VpcTier>(&r.name).map(|vt| Location::region(&vt.spec.region)),
        (None, None) => None,
    }
}

impl Kind for VpcPeering {
    type Facts = Resolved;
    type Desired = peering::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        let accepter = self.spec.accepter.vpc_tier_ref.iter().map(|r| Reference::new(VpcTier::KIND, &r.name));
        std::iter::once(Reference::new(VpcTier::KIND, &self.spec.requester.vpc_tier_ref.name)).chain(accepter).collect()
    }

    fn holds(&self) -> Vec<String> {
        let Some(s) = &self.status else { return Vec::new() };
        s.requester_route_table_ids.iter().chain(&s.accepter_route_table_ids).cloned().collect()
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        plan::validate(&self.spec)
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    async fn resolve(&self, cx: &Cx<'_>) -> Result<Resolved, Unresolved> {
        let own = cx.aws().account_id().await?;
        let r = &self.spec.requester;
        let requester = side_of(&r.vpc_tier_ref.name, &r.route_tiers, "spec.requester.routeTiers", cx, &own)?;
        let a = &self.spec.accepter;
        let (accepter, role) = match (&a.vpc_tier_ref, &a.external) {
            (Some(r), _) => (side_of(&r.name, &a.route_tiers, "spec.accepter.routeTiers", cx, &own)?, None),
            (None, Some(x)) => {
                if x.account_id != own && x.role_arn.is_none() {
                    return Err(Unresolved::Invalid(InvalidSpec(format!(
                        "spec.accepter.external.roleArn: the accepter is in account {}, not the controller's ({own}): a role there is needed to accept",
                        x.account_id
                    ))));
                }
                let at = Location { region: x.region.clone(), role_arn: x.role_arn.clone() };
                let cidr = cx.aws().ec2_at(&at).await.vpc_cidr(&x.vpc_id).await?.ok_or_else(|| {
                    Unresolved::Invalid(InvalidSpec(format!(
                        "spec.accepter.external.vpcId: no VPC {} in account {}, region {}",
                        x.vpc_id, x.account_id, x.region
                    )))
                })?;
                let side = Side {
                    vpc_id: x.vpc_id.clone(),
                    cidr_block: cidr,
                    region: x.region.clone(),
                    account_id: x.account_id.clone(),
                    route_table_ids: x.route_table_ids.clone(),
                };
                (side, x.role_arn.clone())
            }
            (None, None) => {
                return Err(InvalidSpec("spec.accepter: set exactly one of vpcTierRef and external".into()).into());
            }
        };
        Ok(Resolved { facts: Facts { requester, accepter, accepter_role_arn: role }, own_account: own })
    }

    fn region(&self, facts: Option<&Resolved>) -> Option<String> {
        facts.map(|f| f.facts.requester.region.clone()).or_else(|| self.status.as_ref()?.region.clone())
    }

    async fn observe(&self, cx: &Cx<'_>, region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let ec2 = cx.aws().ec2(region).await;
        let connections = ec2
            .observe_peering_connections(PeeringScope {
                owner_uid: &cx.owner.uid,
                known: how.known,
                search: how.search,
            })
            .await?;
        // Route tables that hold or should hold routes to it: the recorded and the wanted ones.
        let status = self.status.clone().unwrap_or_default();
        let own = cx.aws().account_id().await.unwrap_or_default();
        let wanted = |name: &str, tiers: &[String], field: &str| {
            side_of(name, tiers, field, cx, &own).map(|s| s.route_table_ids).unwrap_or_default()
        };
        let mut requester = status.requester_route_table_ids.clone();
        requester.extend(wanted(&self.spec.requester.vpc_tier_ref.name, &self.spec.requester.route_tiers, ""));
        let mut accepter = status.accepter_route_table_ids.clone();
        match (&self.spec.accepter.vpc_tier_ref, &self.spec.accepter.external) {
            (Some(r), _) => accepter.extend(wanted(&r.name, &self.spec.accepter.route_tiers, "")),
            (None, Some(x)) => accepter.extend(x.route_table_ids.iter().cloned()),
            (None, None) => {}
        }
        requester.sort();
        requester.dedup();
        accepter.sort();
        accepter.dedup();
        let at = accepter_location(self, cx);
        let accepter_ec2 = match &at {
            Some(at) => cx.aws().ec2_at(at).await,
            None => ec2,
        };
        let accepter_route_tables = accepter_ec2.route_tables(&accepter).await?;
        let route_tables = cx.aws().ec2(region).await.route_tables(&requester).await?;
        Ok(Observed {
            connections,
            route_tables,
            accepter_route_tables,
            accepter_at: at.and_then(|l| l.unless_home(region)),
        })
    }

    fn desired(&self, owner: &Owner, facts: &Resolved, _observed: &Observed) -> Result<peering::Desired, InvalidSpec> {
        plan::desired(&self.spec, owner, &facts.facts, &facts.own_account)
    }

    fn plan(&self, desired: Option<&peering::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        peering::plan(desired, cx, observed).map(Step::Peering).into()
    }

    fn status_fields(
        &self,
        facts: &Resolved,
        desired: &peering::Desired,
        observed: &Observed,
        known: &securecart_plan::Known,
        _previous: &[Condition],
        _now: &Time,
    ) -> VpcPeeringStatus {
        plan::status(&facts.facts, &desired.owner, observed, known)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        observed
            .connections
            .iter()
            .filter(|c| owner.owns(&c.tags) && c.is_live())
            .map(|c| (COMPONENT.to_string(), c.id.clone()))
            .collect()
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        peering::owns_anything(owner, observed)
    }
}
