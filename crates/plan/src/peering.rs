//! VPC peering connections: the connection (tagged, on the requester's side), its acceptance and
//! DNS option on the accepter's side (in its region, through a role in another account), and
//! the routes to it on both sides. A route is the peering's because its target is the peering
//! connection; routes to anything else are never touched.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::network::RouteTable;
use crate::owner::{Owner, Rank, Tags, match_ranked, missing_tags};
use crate::plan::{Location, Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};

pub const COMPONENT: &str = "pcx";

pub mod resources {
    pub const CONNECTION: &str = "ec2/vpc-peering-connection";
    pub const ACCEPTANCE: &str = "ec2/vpc-peering-acceptance";
    pub const OPTIONS: &str = "ec2/vpc-peering-options";
    pub const ROUTE: &str = "ec2/vpc-peering-route";
    pub const TAGS: &str = "ec2/tags";
}
use resources::*;

/// Acceptance needs the connection; options and routes need it accepted. Deleting the
/// connection waits for its routes to go.
pub const ORDERING: Ordering = Ordering {
    needs: &[(ACCEPTANCE, &[CONNECTION]), (OPTIONS, &[CONNECTION, ACCEPTANCE]), (ROUTE, &[CONNECTION, ACCEPTANCE])],
    delete_first: &[],
};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub connections: Vec<Connection>,
    /// The requester side's route tables the spec or the status names.
    pub route_tables: Vec<RouteTable>,
    /// The accepter side's, read where they are.
    pub accepter_route_tables: Vec<RouteTable>,
    /// Where the accepter side's were read (and where their routes are changed).
    pub accepter_at: Option<Location>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Connection {
    pub id: String,
    pub requester_vpc_id: String,
    pub accepter_vpc_id: String,
    pub accepter_owner_id: Option<String>,
    pub accepter_region: Option<String>,
    pub accepter_cidr: Option<String>,
    /// initiating-request | pending-acceptance | provisioning | active | deleting | deleted |
    /// rejected | failed | expired
    pub state: String,
    pub message: Option<String>,
    pub requester_dns: Option<bool>,
    pub accepter_dns: Option<bool>,
    pub tags: Tags,
}

impl Connection {
    /// It exists and is, or may become, usable.
    pub fn is_live(&self) -> bool {
        matches!(self.state.as_str(), "initiating-request" | "pending-acceptance" | "provisioning" | "active")
    }
    /// It failed for good: AWS keeps it for a while, and another create would fail alike.
    pub fn is_dead(&self) -> bool {
        matches!(self.state.as_str(), "rejected" | "failed" | "expired")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub user_tags: Tags,
    pub requester_vpc_id: String,
    pub requester_cidr: String,
    pub accepter_vpc_id: String,
    pub accepter_cidr: String,
    /// Set when the accepter is in another account or region.
    pub accepter_account_id: Option<String>,
    pub accepter_region: Option<String>,
    /// Where the accepter's side is acted on; None: the requester's region and credentials.
    pub accepter_at: Option<Location>,
    pub requester_route_tables: Vec<String>,
    pub accepter_route_tables: Vec<String>,
    pub allow_dns_resolution: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Side {
    Requester,
    Accepter,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateConnection {
        component: String,
        vpc_id: String,
        peer_vpc_id: String,
        peer_owner_id: Option<String>,
        peer_region: Option<String>,
        tags: Tags,
    },
    AcceptConnection {
        connection_id: String,
        at: Option<Location>,
    },
    SetDnsResolution {
        connection_id: String,
        side: Side,
        value: bool,
        at: Option<Location>,
    },
    CreateRoute {
        route_table_id: String,
        destination: String,
        connection: Ref,
        at: Option<Location>,
    },
    ReplaceRoute {
        route_table_id: String,
        destination: String,
        connection: Ref,
        at: Option<Location>,
    },
    DeleteRoute {
        route_table_id: String,
        destination: String,
        at: Option<Location>,
    },
    SetTags {
        resource_id: String,
        component: String,
        tags: Tags,
    },
    DeleteConnection {
        id: String,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::CreateConnection { .. } | Step::DeleteConnection { .. } => CONNECTION,
            Step::AcceptConnection { .. } => ACCEPTANCE,
            Step::SetDnsResolution { .. } => OPTIONS,
            Step::CreateRoute { .. } | Step::ReplaceRoute { .. } | Step::DeleteRoute { .. } => ROUTE,
            Step::SetTags { .. } => TAGS,
        }
    }
    fn verb(&self) -> Verb {
        match self {
            Step::CreateConnection { .. } | Step::CreateRoute { .. } => Verb::Create,
            Step::AcceptConnection { .. }
            | Step::SetDnsResolution { .. }
            | Step::ReplaceRoute { .. }
            | Step::SetTags { .. } => Verb::Update,
            Step::DeleteRoute { .. } | Step::DeleteConnection { .. } => Verb::Delete,
        }
    }
    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateConnection { component, .. } => Some(component),
            _ => None,
        }
    }
    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::CreateRoute { connection, .. } | Step::ReplaceRoute { connection, .. } => vec![connection],
            _ => Vec::new(),
        }
    }
    fn action(&self) -> &'static str {
        match self {
            Step::CreateConnection { .. } => "CreateVpcPeeringConnection",
            Step::AcceptConnection { .. } => "AcceptVpcPeeringConnection",
            Step::SetDnsResolution { .. } => "ModifyVpcPeeringConnectionOptions",
            Step::CreateRoute { .. } => "CreateRoute",
            Step::ReplaceRoute { .. } => "ReplaceRoute",
            Step::DeleteRoute { .. } => "DeleteRoute",
            Step::SetTags { .. } => "SetTags",
            Step::DeleteConnection { .. } => "DeleteVpcPeeringConnection",
        }
    }
    fn location(&self) -> Option<&Location> {
        match self {
            Step::AcceptConnection { at, .. }
            | Step::SetDnsResolution { at, .. }
            | Step::CreateRoute { at, .. }
            | Step::ReplaceRoute { at, .. }
            | Step::DeleteRoute { at, .. } => at.as_ref(),
            _ => None,
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |l: &Option<Location>| l.as_ref().map(|l| format!(" in {l}")).unwrap_or_default();
        match self {
            Step::CreateConnection { vpc_id, peer_vpc_id, peer_owner_id, peer_region, .. } => write!(
                f,
                "create peering connection {vpc_id} -> {peer_vpc_id} ({}, {})",
                peer_owner_id.as_deref().unwrap_or("same account"),
                peer_region.as_deref().unwrap_or("same region")
            ),
            Step::AcceptConnection { connection_id, at: l } => write!(f, "accept {connection_id}{}", at(l)),
            Step::SetDnsResolution { connection_id, side, value, at: l } => {
                write!(f, "set {side:?} DNS resolution={value} on {connection_id}{}", at(l))
            }
            Step::CreateRoute { route_table_id, destination, connection, at: l } => {
                write!(f, "create route {destination} -> {connection} in {route_table_id}{}", at(l))
            }
            Step::ReplaceRoute { route_table_id, destination, connection, at: l } => {
                write!(f, "replace route {destination} -> {connection} in {route_table_id}{}", at(l))
            }
            Step::DeleteRoute { route_table_id, destination, at: l } => {
                write!(f, "delete route {destination} from {route_table_id}{}", at(l))
            }
            Step::SetTags { resource_id, component, tags } => {
                write!(f, "tag {component} {resource_id} with {}", tags.keys().cloned().collect::<Vec<_>>().join(","))
            }
            Step::DeleteConnection { id } => write!(f, "delete peering connection {id}"),
        }
    }
}

/// The steps that take the peering in `observed` to `desired`; with None, the teardown.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Plan<Step> {
    let owner = cx.owner;
    let mut plan: Plan<Step> = Plan::default();
    let routes_to = |id: &str| {
        observed
            .route_tables
            .iter()
            .chain(&observed.accepter_route_tables)
            .flat_map(|t| &t.routes)
            .filter(|r| r.vpc_peering_connection_id.as_deref() == Some(id))
            .count()
    };
    let live: Vec<Connection> = observed.connections.iter().filter(|c| c.is_live()).cloned().collect();
    let matched = match_ranked(
        &live,
        cx,
        |c| &c.tags,
        |c| &c.id,
        |comp, c| {
            comp == COMPONENT
                && desired
                    .is_some_and(|d| c.requester_vpc_id == d.requester_vpc_id && c.accepter_vpc_id == d.accepter_vpc_id)
        },
        |c| Rank { named: cx.named(COMPONENT, &c.id), dependents: routes_to(&c.id), created: None },
    );
    let owned: BTreeSet<&str> =
        observed.connections.iter().filter(|c| owner.owns(&c.tags)).map(|c| c.id.as_str()).collect();
    let mut active: Option<&Connection> = None;
    if let Some(d) = desired {
        match matched.kept.get(COMPONENT) {
            Some(c) => {
                let want = owner.tags(COMPONENT, &d.user_tags);
                let missing = missing_tags(&want, &c.tags);
                if !missing.is_empty() {
                    plan.steps.push(Step::SetTags {
                        resource_id: c.id.clone(),
                        component: COMPONENT.into(),
                        tags: missing,
                    });
                }
                match c.state.as_str() {
                    "pending-acceptance" => plan
                        .steps
                        .push(Step::AcceptConnection { connection_id: c.id.clone(), at: d.accepter_at.clone() }),
                    "active" => active = Some(c),
                    state => plan.waiting.push(format!("peering connection {} to become active (now {state})", c.id)),
                }
            }
            None => {
                let dead = observed.connections.iter().find(|c| {
                    owner.owns(&c.tags)
                        && c.is_dead()
                        && c.requester_vpc_id == d.requester_vpc_id
                        && c.accepter_vpc_id == d.accepter_vpc_id
                });
                match dead {
                    Some(c) => plan.waiting.push(format!(
                        "peering connection {} is {}{}; another would end the same way: fix the cause, then re-create this VpcPeering",
                        c.id,
                        c.state,
                        c.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
                    )),
                    None => {
                        plan.steps.push(Step::CreateConnection {
                            component: COMPONENT.into(),
                            vpc_id: d.requester_vpc_id.clone(),
                            peer_vpc_id: d.accepter_vpc_id.clone(),
                            peer_owner_id: d.accepter_account_id.clone(),
                            peer_region: d.accepter_region.clone(),
                            tags: owner.tags(COMPONENT, &d.user_tags),
                        });
                        plan.waiting.push("the peering connection to be accepted".into());
                    }
                }
            }
        }
    }
    let at = observed.accepter_at.clone();
    // Requester side routes to the accepter, accepter side routes back.
    let sides = [
        (&observed.route_tables, desired.map(|d| (&d.requester_route_tables, &d.accepter_cidr)), None),
        (&observed.accepter_route_tables, desired.map(|d| (&d.accepter_route_tables, &d.requester_cidr)), at.clone()),
    ];
    for (tables, want, at) in sides {
        for t in tables {
            for r in &t.routes {
                let Some(target) = r.vpc_peering_connection_id.as_deref().filter(|id| owned.contains(id)) else {
                    continue;
                };
                let wanted = active.is_some_and(|c| c.id == target)
                    && want.is_some_and(|(ids, cidr)| ids.contains(&t.id) && &r.destination == cidr);
                if !wanted {
                    plan.steps.push(Step::DeleteRoute {
                        route_table_id: t.id.clone(),
                        destination: r.destination.clone(),
                        at: at.clone(),
                    });
                }
            }
        }
        let (Some(c), Some((ids, cidr))) = (active, want) else { continue };
        for id in ids {
            let Some(t) = tables.iter().find(|t| &t.id == id) else {
                plan.waiting.push(format!("route table {id} to be readable"));
                continue;
            };
            match t.routes.iter().find(|r| &r.destination == cidr) {
                None => plan.steps.push(Step::CreateRoute {
                    route_table_id: id.clone(),
                    destination: cidr.clone(),
                    connection: Ref::Id(c.id.clone()),
                    at: at.clone(),
                }),
                Some(r) if r.vpc_peering_connection_id.as_deref() == Some(c.id.as_str()) => {}
                Some(r) if r.vpc_peering_connection_id.as_deref().is_some_and(|x| owned.contains(x)) => {
                    plan.steps.push(Step::ReplaceRoute {
                        route_table_id: id.clone(),
                        destination: cidr.clone(),
                        connection: Ref::Id(c.id.clone()),
                        at: at.clone(),
                    })
                }
                Some(_) => plan
                    .waiting
                    .push(format!("route {cidr} in {id} targets something else: not this peering's to replace")),
            }
        }
    }
    if let (Some(c), Some(d)) = (active, desired) {
        for (side, now, at) in
            [(Side::Requester, c.requester_dns, None), (Side::Accepter, c.accepter_dns, d.accepter_at.clone())]
        {
            if now != Some(d.allow_dns_resolution) {
                plan.steps.push(Step::SetDnsResolution {
                    connection_id: c.id.clone(),
                    side,
                    value: d.allow_dns_resolution,
                    at,
                });
            }
        }
    }
    for c in &matched.unwanted {
        plan.steps.push(Step::DeleteConnection { id: c.id.clone() });
    }
    plan
}

/// True when `observed` still holds a connection of this owner, or a route to one.
pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    let owned: BTreeSet<&str> =
        observed.connections.iter().filter(|c| owner.owns(&c.tags) && c.is_live()).map(|c| c.id.as_str()).collect();
    !owned.is_empty()
        || observed.route_tables.iter().chain(&observed.accepter_route_tables).flat_map(|t| &t.routes).any(|r| {
            r.vpc_peering_connection_id
                .as_deref()
                .is_some_and(|id| observed.connections.iter().any(|c| c.id == id && owner.owns(&c.tags)))
        })
}
