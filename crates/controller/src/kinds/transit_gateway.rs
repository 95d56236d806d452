//! TransitGateway on the engine: a hub in its region. It uses the peer TransitGateways its
//! peerings reference (waiting until they publish their IDs and route tables), and publishes its
//! own ID and route tables to the VpcTiers that attach to it; it cannot be deleted while they do.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, PeeringSpec, TransitGateway, TransitGatewayStatus};
use securecart_aws::AwsError;
use securecart_aws::ec2::HubScope;
use securecart_plan::transit_gateway::{self as plan, Facts, Observed, Peer};
use securecart_plan::{Context as PlanContext, InvalidSpec, Location, Owner, transit};

use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved};

impl Managed for TransitGateway {
    type StatusFields = TransitGatewayStatus;
    const KIND: &'static str = "TransitGateway";
}

/// The peer of a peering, from the referenced TransitGateway's spec and status, or the spec.
fn peer_of(p: &PeeringSpec, cx: &Cx<'_>, own_account: &str) -> Result<Peer, Unresolved> {
    let Some(r) = &p.peer.transit_gateway_ref else {
        return Ok(Peer {
            transit_gateway_id: p.peer.transit_gateway_id.clone().unwrap_or_default(),
            region: p.peer.region.clone().unwrap_or_default(),
            account_id: p.peer.account_id.clone().unwrap_or_default(),
            role_arn: p.peer.role_arn.clone(),
            route_table_id: p.peer_route_table.clone(),
        });
    };
    let name = &r.name;
    if name == &cx.owner.name {
        return Err(Unresolved::Invalid(InvalidSpec(format!(
            "spec.peerings[{}].peer: a hub does not peer with itself",
            p.name
        ))));
    }
    let peer =
        cx.get::<TransitGateway>(name).ok_or_else(|| Unresolved::Waiting(format!("TransitGateway {name} to exist")))?;
    if let Some(table) = &p.peer_route_table
        && !peer.spec.route_tables.iter().any(|t| &t.name == table)
    {
        return Err(Unresolved::Invalid(InvalidSpec(format!(
            "spec.peerings[{}].peerRouteTable: TransitGateway {name} has no route table {table:?}",
            p.name
        ))));
    }
    let status = peer.status.as_ref();
    let id = status
        .and_then(|s| s.transit_gateway_id.clone())
        .ok_or_else(|| Unresolved::Waiting(format!("TransitGateway {name} to report its transit gateway")))?;
    let route_table_id = match &p.peer_route_table {
        None => None,
        Some(table) => Some(
            status
                .and_then(|s| s.route_tables.iter().find(|t| &t.name == table))
                .map(|t| t.id.clone())
                .ok_or_else(|| Unresolved::Waiting(format!("TransitGateway {name} to report route table {table}")))?,
        ),
    };
    Ok(Peer {
        transit_gateway_id: id,
        region: peer.spec.region.clone(),
        account_id: own_account.to_string(),
        role_arn: None,
        route_table_id,
    })
}

/// Peer route tables to read: what the spec names (as far as it resolves now) and what the
/// status recorded, by where they are.
fn peer_tables(obj: &TransitGateway, cx: &Cx<'_>) -> BTreeMap<Location, BTreeSet<String>> {
    let mut out: BTreeMap<Location, BTreeSet<String>> = BTreeMap::new();
    let recorded = obj.status.as_ref().map(|s| s.peerings.clone()).unwrap_or_default();
    for p in &obj.spec.peerings {
        let Ok(peer) = peer_of(p, cx, "") else { continue };
        let at = Location { region: peer.region.clone(), role_arn: peer.role_arn.clone() };
        let ids = peer
            .route_table_id
            .into_iter()
            .chain(recorded.iter().filter(|r| r.name == p.name).filter_map(|r| r.peer_route_table_id.clone()));
        out.entry(at).or_default().extend(ids);
    }
    out
}

impl Kind for TransitGateway {
    type Facts = Facts;
    type Desired = transit::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        self.spec
            .peerings
            .iter()
            .filter_map(|p| p.peer.transit_gateway_ref.as_ref())
            .map(|r| Reference::new(TransitGateway::KIND, &r.name))
            .collect()
    }

    /// The peers' route tables its peerings are associated with and route in.
    fn holds(&self) -> Vec<String> {
        let Some(s) = &self.status else { return Vec::new() };
        s.peerings.iter().filter_map(|p| p.peer_route_table_id.clone()).collect()
    }

    /// What VpcTiers and peers read: the hub's ID and its route tables.
    fn published(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        if let Some(s) = &self.status {
            (&s.transit_gateway_id, &s.route_tables).hash(&mut h);
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
        let account_id = match self.spec.peerings.is_empty() {
            true => String::new(),
            false => cx.aws().account_id().await?,
        };
        let mut peers = BTreeMap::new();
        for p in &self.spec.peerings {
            peers.insert(p.name.clone(), peer_of(p, cx, &account_id)?);
        }
        Ok(Facts { account_id, peers })
    }

    fn region(&self, _facts: Option<&Facts>) -> Option<String> {
        Some(self.spec.region.clone())
    }

    async fn observe(&self, cx: &Cx<'_>, region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let ec2 = cx.aws().ec2(region).await;
        let mut hub =
            ec2.observe_hub(HubScope { owner_uid: &cx.owner.uid, known: how.known, search: how.search }).await?;
        let owned: Vec<String> =
            hub.transit_gateways.iter().filter(|g| cx.owner.owns(&g.tags)).map(|g| g.id.clone()).collect();
        if !owned.is_empty() {
            for (at, ids) in peer_tables(self, cx) {
                let ids: Vec<String> = ids.into_iter().collect();
                let tables = cx.aws().ec2_at(&at).await.observe_hub_route_tables(&ids).await?;
                hub.peer_route_tables.extend(tables.into_iter().map(|t| (at.clone(), t)));
            }
        }
        // Direct Connect only when the spec or the status has any (it is not everywhere).
        let mut direct_connect = Vec::new();
        let recorded = how.known.keys().any(|c| c.starts_with("dx/"));
        if !self.spec.direct_connect_gateways.is_empty() || recorded {
            let dx = cx.aws().direct_connect(region).await;
            for id in &owned {
                direct_connect.extend(dx.associations(id).await?);
            }
        }
        Ok(Observed { hub, direct_connect })
    }

    fn desired(&self, owner: &Owner, facts: &Facts, _observed: &Observed) -> Result<transit::Desired, InvalidSpec> {
        plan::desired(&self.spec, owner, facts)
    }

    fn plan(&self, desired: Option<&transit::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        plan::plan(desired, cx, observed).into()
    }

    fn status_fields(
        &self,
        _facts: &Facts,
        desired: &transit::Desired,
        observed: &Observed,
        known: &securecart_plan::Known,
        _previous: &[Condition],
        _now: &Time,
    ) -> TransitGatewayStatus {
        plan::status(&self.spec, desired, &desired.owner, observed, known)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        plan::inventory(&self.spec, owner, observed)
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        plan::owns_anything(owner, observed)
    }
}
