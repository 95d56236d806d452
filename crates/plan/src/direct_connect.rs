//! Direct Connect gateway associations with a transit gateway: created with their allowed
//! prefixes, which later change in place (never by re-association), and deleted when the spec
//! drops them. An association is the hub's because its target is the hub (associations carry
//! no tags). Planned from what the TransitGateway kind resolves; the route table association of
//! the attachment AWS makes for it is planned with the hub's other attachments.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::plan::{Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};
use crate::transit::DesiredDirectConnect;

pub const ASSOCIATION: &str = "directconnect/gateway-association";

pub const ORDERING: Ordering =
    Ordering { needs: &[(ASSOCIATION, &[crate::transit::resources::TRANSIT_GATEWAY])], delete_first: &[] };

/// An association as DescribeDirectConnectGatewayAssociations reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Association {
    pub id: String,
    pub gateway_id: String,
    /// The transit gateway (or virtual private gateway) it connects.
    pub associated_gateway_id: String,
    /// associating | associated | updating | disassociating | disassociated
    pub state: String,
    pub allowed_prefixes: Vec<String>,
}

impl Association {
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "disassociating" | "disassociated")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateAssociation { component: String, gateway_id: String, transit_gateway: Ref, allowed_prefixes: Vec<String> },
    UpdateAllowedPrefixes { association_id: String, add: Vec<String>, remove: Vec<String> },
    DeleteAssociation { association_id: String },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        ASSOCIATION
    }
    fn verb(&self) -> Verb {
        match self {
            Step::CreateAssociation { .. } => Verb::Create,
            Step::UpdateAllowedPrefixes { .. } => Verb::Update,
            Step::DeleteAssociation { .. } => Verb::Delete,
        }
    }
    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateAssociation { component, .. } => Some(component),
            _ => None,
        }
    }
    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::CreateAssociation { transit_gateway, .. } => vec![transit_gateway],
            _ => Vec::new(),
        }
    }
    fn action(&self) -> &'static str {
        match self {
            Step::CreateAssociation { .. } => "CreateDirectConnectGatewayAssociation",
            Step::UpdateAllowedPrefixes { .. } => "UpdateDirectConnectGatewayAssociation",
            Step::DeleteAssociation { .. } => "DeleteDirectConnectGatewayAssociation",
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
        match self {
            Step::CreateAssociation { component, gateway_id, transit_gateway, allowed_prefixes } => write!(
                f,
                "associate Direct Connect gateway {gateway_id} ({component}) with {transit_gateway}, allowing {}",
                allowed_prefixes.join(",")
            ),
            Step::UpdateAllowedPrefixes { association_id, add, remove } => {
                write!(f, "change allowed prefixes of {association_id}: +[{}] -[{}]", add.join(","), remove.join(","))
            }
            Step::DeleteAssociation { association_id } => {
                write!(f, "delete Direct Connect association {association_id}")
            }
        }
    }
}

/// The steps that take the hub's associations to `desired`. `hub` is the kept transit gateway
/// (None while it is not there yet, or in teardown); `owned` every transit gateway of the owner:
/// associations to any of them are the owner's.
pub fn plan(
    desired: &[DesiredDirectConnect],
    hub: Option<&Ref>,
    owned: &[String],
    observed: &[Association],
) -> Plan<Step> {
    let mut plan = Plan::default();
    let hub_id = hub.and_then(Ref::id);
    let mine = |a: &&Association| owned.contains(&a.associated_gateway_id);
    let mut kept = BTreeSet::new();
    for d in desired {
        let Some(hub) = hub else { continue };
        let current = observed
            .iter()
            .filter(mine)
            .find(|a| a.gateway_id == d.gateway_id && Some(a.associated_gateway_id.as_str()) == hub_id && a.is_live());
        match current {
            None => plan.steps.push(Step::CreateAssociation {
                component: d.component.clone(),
                gateway_id: d.gateway_id.clone(),
                transit_gateway: hub.clone(),
                allowed_prefixes: d.allowed_prefixes.clone(),
            }),
            Some(a) => {
                kept.insert(a.id.clone());
                if a.state != "associated" {
                    plan.waiting
                        .push(format!("Direct Connect gateway association {} ({}) is {}", a.id, d.name, a.state));
                    continue;
                }
                let want: BTreeSet<&String> = d.allowed_prefixes.iter().collect();
                let have: BTreeSet<&String> = a.allowed_prefixes.iter().collect();
                let add: Vec<String> = want.difference(&have).map(|s| s.to_string()).collect();
                let remove: Vec<String> = have.difference(&want).map(|s| s.to_string()).collect();
                if !add.is_empty() || !remove.is_empty() {
                    plan.steps.push(Step::UpdateAllowedPrefixes { association_id: a.id.clone(), add, remove });
                }
            }
        }
    }
    for a in observed.iter().filter(mine).filter(|a| a.is_live() && !kept.contains(&a.id)) {
        match a.state.as_str() {
            "associated" => plan.steps.push(Step::DeleteAssociation { association_id: a.id.clone() }),
            state => plan.waiting.push(format!("Direct Connect gateway association {} to finish {state}", a.id)),
        }
    }
    plan
}
