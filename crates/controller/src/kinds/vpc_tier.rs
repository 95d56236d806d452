//! VpcTier on the engine: its zones are resolved once and pinned in its status; its network is
//! planned by the shared EC2 networking planner and folded back from the results, so a new
//! VpcTier converges without reading back what it made. With a `transitGateway` block it uses
//! that TransitGateway (waiting until it publishes its ID and route tables) and holds the hub
//! route tables its attachment is associated with and propagates to.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, SubnetGroupService, TransitGateway, VpcTier, VpcTierStatus};
use securecart_aws::ec2::NetworkScope;
use securecart_aws::{AwsError, Execution};
use securecart_plan::network::{self, Observed};
use securecart_plan::subnet_group::{self, SubnetGroup};
use securecart_plan::vpc_tier::{self as plan, HubView};
use securecart_plan::{Context as PlanContext, InvalidSpec, Owner, Plan, Step};

use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved};

impl Managed for VpcTier {
    type StatusFields = VpcTierStatus;
    const KIND: &'static str = "VpcTier";
}

/// The zones the VpcTier uses, pinned; the hub it attaches to.
pub struct Facts {
    zones: Vec<String>,
    hub: Option<HubView>,
}

/// The TransitGateway `name` as a VpcTier attaching to it needs it, from its spec and status.
/// Invalid when its spec lacks a route table the block names; Waiting until it publishes them.
fn hub_of(vpc_tier: &VpcTier, cx: &Cx<'_>) -> Result<Option<HubView>, Unresolved> {
    let Some(block) = &vpc_tier.spec.transit_gateway else { return Ok(None) };
    let name = &block.transit_gateway_ref.name;
    let hub =
        cx.get::<TransitGateway>(name).ok_or_else(|| Unresolved::Waiting(format!("TransitGateway {name} to exist")))?;
    let names = std::iter::once(("spec.transitGateway.routeTable".to_string(), &block.route_table)).chain(
        block.propagate_to.iter().enumerate().map(|(i, t)| (format!("spec.transitGateway.propagateTo[{i}]"), t)),
    );
    for (field, table) in names.clone() {
        if !hub.spec.route_tables.iter().any(|t| &t.name == table) {
            return Err(Unresolved::Invalid(InvalidSpec(format!(
                "{field}: TransitGateway {name} has no route table {table:?}"
            ))));
        }
    }
    let status = hub.status.as_ref();
    let id = status
        .and_then(|s| s.transit_gateway_id.clone())
        .ok_or_else(|| Unresolved::Waiting(format!("TransitGateway {name} to report its transit gateway")))?;
    let route_tables: std::collections::BTreeMap<String, String> =
        status.map(|s| s.route_tables.iter().map(|t| (t.name.clone(), t.id.clone())).collect()).unwrap_or_default();
    if let Some((_, table)) = names.into_iter().find(|(_, t)| !route_tables.contains_key(*t)) {
        return Err(Unresolved::Waiting(format!("TransitGateway {name} to report route table {table}")));
    }
    Ok(Some(HubView { name: name.clone(), region: hub.spec.region.clone(), transit_gateway_id: id, route_tables }))
}

/// The transit gateway its status records an attachment to.
fn recorded_hub(vpc_tier: &VpcTier) -> Option<String> {
    vpc_tier.status.as_ref()?.transit_gateway_attachment.as_ref().map(|a| a.transit_gateway_id.clone())
}

/// Route table IDs of the hub it attaches to, to read its attachment's links in.
fn hub_tables(vpc_tier: &VpcTier, cx: &Cx<'_>) -> Vec<String> {
    let Some(block) = &vpc_tier.spec.transit_gateway else { return Vec::new() };
    cx.get::<TransitGateway>(&block.transit_gateway_ref.name)
        .and_then(|h| h.status.clone())
        .map(|s| s.route_tables.into_iter().map(|t| t.id).collect())
        .unwrap_or_default()
}

/// The owner's RDS and ElastiCache subnet groups: those the spec names and the status records, by
/// name (one Describe and one ListTagsForResource each); with a search, also every group whose
/// name has the owner's prefix. Groups that are to go get their users (a listing of the region's
/// databases), so none is deleted from under a database.
async fn observe_subnet_groups(
    vpc_tier: &VpcTier,
    cx: &Cx<'_>,
    region: &str,
    how: &Observe<'_>,
) -> Result<Vec<SubnetGroup>, AwsError> {
    let deleting = vpc_tier.metadata.deletion_timestamp.is_some();
    let mut out = Vec::new();
    for service in [SubnetGroupService::Rds, SubnetGroupService::ElastiCache] {
        let wanted: BTreeSet<String> = match deleting {
            true => BTreeSet::new(),
            false => vpc_tier
                .spec
                .subnet_groups
                .iter()
                .filter(|g| g.service == service)
                .map(|g| subnet_group::aws_name(cx.owner, &g.name))
                .collect(),
        };
        let recorded = subnet_group::component_of(service, "");
        let mut names = wanted.clone();
        names.extend(how.known.iter().filter(|(c, _)| c.starts_with(&recorded)).map(|(_, name)| name.clone()));
        let prefix = how.search.then(|| subnet_group::aws_name(cx.owner, ""));
        if names.is_empty() && prefix.is_none() {
            continue;
        }
        let mut groups = match service {
            SubnetGroupService::Rds => cx.aws().rds(region).await.subnet_groups(&names, prefix.as_deref()).await?,
            SubnetGroupService::ElastiCache => {
                cx.aws().elasticache(region).await.subnet_groups(&names, prefix.as_deref()).await?
            }
        };
        let leaving: BTreeSet<String> = groups
            .iter()
            .filter(|g| cx.owner.owns(&g.tags) && !wanted.contains(&g.name))
            .map(|g| g.name.clone())
            .collect();
        if !leaving.is_empty() {
            let users = match service {
                SubnetGroupService::Rds => cx.aws().rds(region).await.users(&leaving).await?,
                SubnetGroupService::ElastiCache => cx.aws().elasticache(region).await.users(&leaving).await?,
            };
            for g in &mut groups {
                g.users = users.get(&g.name).cloned().unwrap_or_default();
            }
        }
        out.extend(groups);
    }
    Ok(out)
}

impl Kind for VpcTier {
    const SHARED_CHECKS: bool = true;

    type Facts = Facts;
    type Desired = network::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        self.spec
            .transit_gateway
            .iter()
            .map(|t| Reference::new(TransitGateway::KIND, &t.transit_gateway_ref.name))
            .collect()
    }

    /// The hub route tables its attachment is associated with and propagates to.
    fn holds(&self) -> Vec<String> {
        let Some(a) = self.status.as_ref().and_then(|s| s.transit_gateway_attachment.as_ref()) else {
            return Vec::new();
        };
        a.route_table_id.iter().chain(&a.propagated_to).cloned().collect()
    }

    /// What its users read: the VPC, its zones and its subnets with their route tables.
    fn published(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        if let Some(s) = &self.status {
            (&s.vpc_id, &s.zones, &s.internet_gateway_id).hash(&mut h);
            for sub in &s.subnets {
                (&sub.tier, &sub.zone, &sub.cidr_block, &sub.subnet_id, &sub.route_table_id).hash(&mut h);
            }
        }
        h.finish()
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        plan::validate(&self.spec)
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    async fn resolve(&self, cx: &Cx<'_>) -> Result<Facts, Unresolved> {
        let zones = cx.aws().ec2(&self.spec.region).await.availability_zones().await?;
        let pinned = self.status.as_ref().map(|s| s.zones.clone()).unwrap_or_default();
        let pinned = match cx.ctx.journal.get::<VpcTierStatus>(&cx.owner.uid) {
            Some(written) => written.zones,
            None => pinned,
        };
        let hub = hub_of(self, cx)?;
        Ok(Facts { zones: plan::resolve_zones(&self.spec, &zones, &pinned)?, hub })
    }

    fn region(&self, _facts: Option<&Facts>) -> Option<String> {
        Some(self.spec.region.clone())
    }

    async fn observe(&self, cx: &Cx<'_>, region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let ec2 = cx.aws().ec2(region).await;
        let mut observed = match how.drift {
            true => ec2.observe_network_shared(&cx.owner.uid, cx.ctx.settings.resync / 2).await?,
            false => {
                ec2.observe_network(NetworkScope { owner_uid: &cx.owner.uid, known: how.known, search: how.search })
                    .await?
            }
        };
        // Its attachment, when it has or had one (or may have: a search).
        let attached = self.spec.transit_gateway.is_some()
            || how.known.contains_key(securecart_plan::transit::components::VPC_ATTACHMENT)
            || how.search;
        let vpc = observed.vpcs.iter().find(|v| cx.owner.owns(&v.tags)).map(|v| v.id.clone());
        if let (true, Some(vpc)) = (attached, vpc) {
            observed.transit_attachments = ec2.observe_vpc_attachments(&vpc, &hub_tables(self, cx)).await?;
        }
        observed.subnet_groups = observe_subnet_groups(self, cx, region, &how).await?;
        Ok(observed)
    }

    fn desired(&self, owner: &Owner, facts: &Facts, observed: &Observed) -> Result<network::Desired, InvalidSpec> {
        plan::desired_with_hub(&self.spec, owner, facts.zones.clone(), facts.hub.as_ref(), observed)
    }

    fn plan(&self, desired: Option<&network::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        let hub = desired
            .and_then(|d| d.transit.as_ref())
            .map(|t| t.transit_gateway_id.clone())
            .or_else(|| recorded_hub(self));
        plan::plan(desired, cx, observed, hub.as_deref()).into()
    }

    fn absorb(observed: &mut Observed, plan: &Plan<Step>, execution: &Execution) -> bool {
        // What an attachment is after its create or change is read back, not guessed.
        if plan.steps.iter().any(|s| !matches!(s, Step::Network(_))) {
            return false;
        }
        let executed: Vec<(&network::Step, &securecart_plan::Output)> = execution
            .outputs(plan)
            .into_iter()
            .filter_map(|(step, output)| match step {
                Step::Network(s) => Some((s, output)),
                _ => None,
            })
            .collect();
        network::absorb(observed, &executed);
        true
    }

    fn status_fields(
        &self,
        _facts: &Facts,
        desired: &network::Desired,
        observed: &Observed,
        known: &securecart_plan::Known,
        _previous: &[Condition],
        _now: &Time,
    ) -> VpcTierStatus {
        plan::status(desired, observed, known)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        observed.inventory(&owner.uid)
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        network::owns_anything(owner, observed)
    }

    fn legacy_status(status: &VpcTierStatus) -> bool {
        status.vpc_id.is_some()
    }

    /// A subnet or VPC that will not go: the network interfaces in it that the controller does
    /// not own (a load balancer's, an endpoint's, an instance's).
    async fn explain_blocked(
        &self,
        cx: &Cx<'_>,
        region: &str,
        observed: &Observed,
        error: &AwsError,
    ) -> Option<String> {
        let ec2 = cx.aws().ec2(region).await;
        let subnet = error
            .message
            .split_whitespace()
            .find(|w| w.starts_with("subnet-"))
            .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-'));
        let mut foreign = Vec::new();
        for v in observed.vpcs.iter().filter(|v| cx.owner.owns(&v.tags)) {
            if let Ok(enis) = ec2.foreign_network_interfaces(&v.id, subnet).await {
                foreign.extend(enis);
            }
        }
        (!foreign.is_empty())
            .then(|| format!("network interfaces this controller does not own: {}", foreign.join(", ")))
    }
}
