//! EC2 VPC endpoints (Gateway, Interface, Gateway Load Balancer): matching an owner's endpoints
//! against the one wanted and planning the difference. Type, service and VPC are immutable, so a
//! change of any replaces the endpoint, and the replacement waits for the old one to go.

use std::collections::BTreeSet;
use std::fmt;

use securecart_api::EndpointType;
use serde::Serialize;
use serde_json::Value;

use crate::context::Context;
use crate::owner::{Owner, Rank, Tags, component, match_ranked, missing_tags};
use crate::plan::{Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};
use crate::security_group::{self, Holder};

pub mod resources {
    pub const VPC_ENDPOINT: &str = "ec2/vpc-endpoint";
    pub const TAGS: &str = "ec2/tags";
}
use resources::*;

/// An interface endpoint is created in its security group, with the group's rules in place.
pub const ORDERING: Ordering = Ordering {
    needs: &[(
        VPC_ENDPOINT,
        &[security_group::resources::SECURITY_GROUP, security_group::resources::SECURITY_GROUP_RULE],
    )],
    delete_first: &[],
};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Endpoint {
    pub id: String,
    /// Gateway | Interface | GatewayLoadBalancer (compared case-insensitively)
    pub endpoint_type: String,
    pub service_name: String,
    pub vpc_id: String,
    /// pendingAcceptance | pending | available | deleting | deleted | rejected | failed | expired
    pub state: String,
    pub route_table_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub network_interface_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub private_dns_enabled: Option<bool>,
    pub policy: Option<String>,
    pub dns_entries: Vec<(String, Option<String>)>,
    pub tags: Tags,
}

impl Endpoint {
    pub fn state_is(&self, s: &str) -> bool {
        self.state.eq_ignore_ascii_case(s)
    }
    /// Exists and counts (not on its way out).
    pub fn is_live(&self) -> bool {
        !["deleting", "deleted", "expired"].iter().any(|s| self.state_is(s))
    }
    /// Still holds its network interfaces and security group.
    pub fn holds_resources(&self) -> bool {
        !self.state_is("deleted")
    }
}

/// The endpoint an owner wants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredEndpoint {
    pub component: String,
    pub service_name: String,
    pub endpoint_type: EndpointType,
    pub vpc_id: String,
    pub route_table_ids: BTreeSet<String>,
    pub subnet_ids: BTreeSet<String>,
    pub private_dns: Option<bool>,
    /// None: AWS's full-access default.
    pub policy: Option<Value>,
    pub user_tags: Tags,
}

impl DesiredEndpoint {
    fn matches(&self, e: &Endpoint) -> bool {
        e.endpoint_type.eq_ignore_ascii_case(self.endpoint_type.as_aws())
            && e.service_name == self.service_name
            && e.vpc_id == self.vpc_id
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    SetTags {
        resource_id: String,
        component: String,
        tags: Tags,
    },
    CreateEndpoint {
        component: String,
        endpoint_type: EndpointType,
        service_name: String,
        vpc_id: String,
        route_table_ids: Vec<String>,
        subnet_ids: Vec<String>,
        security_group: Option<Ref>,
        private_dns: Option<bool>,
        policy: Option<String>,
        tags: Tags,
    },
    ModifyEndpoint {
        id: String,
        add_route_tables: Vec<String>,
        remove_route_tables: Vec<String>,
        add_subnets: Vec<String>,
        remove_subnets: Vec<String>,
        policy: Option<String>,
        reset_policy: bool,
        private_dns: Option<bool>,
    },
    DeleteEndpoint {
        id: String,
    },
}

impl Step {
    /// A ModifyEndpoint that would change nothing.
    fn is_noop(&self) -> bool {
        matches!(self, Step::ModifyEndpoint { add_route_tables, remove_route_tables, add_subnets, remove_subnets, policy: None, reset_policy: false, private_dns: None, .. }
            if add_route_tables.is_empty() && remove_route_tables.is_empty() && add_subnets.is_empty() && remove_subnets.is_empty())
    }
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::SetTags { .. } => TAGS,
            Step::CreateEndpoint { .. } | Step::ModifyEndpoint { .. } | Step::DeleteEndpoint { .. } => VPC_ENDPOINT,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateEndpoint { .. } => Verb::Create,
            Step::SetTags { .. } | Step::ModifyEndpoint { .. } => Verb::Update,
            Step::DeleteEndpoint { .. } => Verb::Delete,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::CreateEndpoint { security_group: Some(g), .. } => vec![g],
            _ => Vec::new(),
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateEndpoint { component, .. } => Some(component),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::SetTags { .. } => "SetTags",
            Step::CreateEndpoint { .. } => "CreateVpcEndpoint",
            Step::ModifyEndpoint { .. } => "ModifyVpcEndpoint",
            Step::DeleteEndpoint { .. } => "DeleteVpcEndpoints",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING, security_group::ORDERING]
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::SetTags { resource_id, component, tags } => {
                write!(f, "tag {component} {resource_id} with {}", crate::owner::keys(tags))
            }
            Step::CreateEndpoint { endpoint_type, service_name, route_table_ids, subnet_ids, .. } => write!(
                f,
                "create {} endpoint for {service_name} (route tables [{}], subnets [{}])",
                endpoint_type.as_aws(),
                route_table_ids.join(", "),
                subnet_ids.join(", ")
            ),
            Step::ModifyEndpoint {
                id,
                add_route_tables,
                remove_route_tables,
                add_subnets,
                remove_subnets,
                policy,
                reset_policy,
                private_dns,
            } => {
                let mut parts = Vec::new();
                for (what, items) in [
                    ("add route tables", add_route_tables),
                    ("remove route tables", remove_route_tables),
                    ("add subnets", add_subnets),
                    ("remove subnets", remove_subnets),
                ] {
                    if !items.is_empty() {
                        parts.push(format!("{what} [{}]", items.join(", ")));
                    }
                }
                if policy.is_some() {
                    parts.push("set policy".into());
                }
                if *reset_policy {
                    parts.push("reset policy to AWS's default".into());
                }
                if let Some(dns) = private_dns {
                    parts.push(format!("private DNS {dns}"));
                }
                write!(f, "modify endpoint {id}: {}", parts.join("; "))
            }
            Step::DeleteEndpoint { id } => write!(f, "delete endpoint {id}"),
        }
    }
}

/// AWS's default endpoint policy allows everything to everyone.
pub fn is_default_policy(policy: &Value) -> bool {
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => return false,
    };
    let star = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s == "*",
        Some(Value::Array(a)) => a.len() == 1 && a[0] == "*",
        Some(Value::Object(o)) => o.len() == 1 && o.get("AWS").is_some_and(|a| a == "*"),
        _ => false,
    };
    statements.len() == 1
        && statements[0].get("Effect").is_some_and(|e| e == "Allow")
        && star(statements[0].get("Principal"))
        && star(statements[0].get("Action"))
        && star(statements[0].get("Resource"))
}

pub(crate) fn sorted(set: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = set.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

/// The owner's live endpoints: the one kept for `desired` and the rest, which go.
struct Matched<'a> {
    kept: Option<&'a Endpoint>,
    unwanted: Vec<&'a Endpoint>,
}

fn matched<'a>(desired: Option<&DesiredEndpoint>, cx: &Context, endpoints: &'a [Endpoint]) -> Matched<'a> {
    let live: Vec<&Endpoint> = endpoints.iter().filter(|e| e.is_live()).collect();
    let m = match_ranked(
        &live,
        cx,
        |e| &e.tags,
        |e| &e.id,
        |c, e| desired.is_some_and(|d| c == d.component && d.matches(e)),
        |e| Rank { named: component(&e.tags).is_some_and(|c| cx.named(c, &e.id)), ..Rank::default() },
    );
    Matched {
        kept: desired.and_then(|d| m.kept.get(&d.component).map(|e| **e)),
        unwanted: m.unwanted.into_iter().copied().collect(),
    }
}

/// The owner's endpoints that still hold resources, as holders of security groups.
pub fn holders<'a>(desired: Option<&DesiredEndpoint>, cx: &Context, endpoints: &'a [Endpoint]) -> Vec<Holder<'a>> {
    let kept = matched(desired, cx, endpoints).kept.map(|k| k.id.clone());
    endpoints
        .iter()
        .filter(|e| cx.owner.owns(&e.tags) && e.holds_resources())
        .map(|e| Holder {
            what: "endpoint",
            id: &e.id,
            groups: &e.security_group_ids,
            kept: kept.as_deref() == Some(e.id.as_str()),
        })
        .collect()
}

/// The steps that take the owner's `endpoints` to `desired` (in `group`, for Interface
/// endpoints); with None, every owned endpoint goes.
pub fn plan(desired: Option<&DesiredEndpoint>, cx: &Context, endpoints: &[Endpoint], group: Option<Ref>) -> Plan<Step> {
    let owner = cx.owner;
    let mut plan = Plan::default();
    let Matched { kept, unwanted } = matched(desired, cx, endpoints);
    let leaving = unwanted.first().copied().or_else(|| {
        let deleting = endpoints.iter().filter(|e| owner.owns(&e.tags) && e.state_is("deleting"));
        deleting.min_by(|a, b| a.id.cmp(&b.id))
    });
    if let Some(d) = desired {
        let policy_json = d.policy.as_ref().map(Value::to_string);
        match kept {
            Some(e) => {
                let missing = missing_tags(&owner.tags(&d.component, &d.user_tags), &e.tags);
                if !missing.is_empty() {
                    plan.steps.push(Step::SetTags {
                        resource_id: e.id.clone(),
                        component: d.component.clone(),
                        tags: missing,
                    });
                }
                let actual_tables: BTreeSet<String> = e.route_table_ids.iter().cloned().collect();
                let actual_subnets: BTreeSet<String> = e.subnet_ids.iter().cloned().collect();
                let observed_policy: Option<Value> = e.policy.as_deref().and_then(|p| serde_json::from_str(p).ok());
                let (policy, reset_policy) = match (&d.policy, &observed_policy) {
                    (Some(want), Some(have)) if want == have => (None, false),
                    (Some(_), _) => (policy_json.clone(), false),
                    (None, Some(have))
                        if !is_default_policy(have) && d.endpoint_type != EndpointType::GatewayLoadBalancer =>
                    {
                        (None, true)
                    }
                    (None, _) => (None, false),
                };
                let private_dns = match (d.private_dns, e.private_dns_enabled) {
                    (Some(want), Some(have)) if want != have => Some(want),
                    _ => None,
                };
                let modify = Step::ModifyEndpoint {
                    id: e.id.clone(),
                    add_route_tables: sorted(d.route_table_ids.difference(&actual_tables).cloned()),
                    remove_route_tables: sorted(actual_tables.difference(&d.route_table_ids).cloned()),
                    add_subnets: sorted(d.subnet_ids.difference(&actual_subnets).cloned()),
                    remove_subnets: sorted(actual_subnets.difference(&d.subnet_ids).cloned()),
                    policy,
                    reset_policy,
                    private_dns,
                };
                if !modify.is_noop() {
                    plan.steps.push(modify);
                }
                if e.state_is("pendingAcceptance") {
                    plan.waiting.push(format!("the owner of {} to accept endpoint {}", d.service_name, e.id));
                } else if e.state_is("pending") {
                    plan.waiting.push(format!("endpoint {} to become available", e.id));
                }
            }
            // A replacement waits for the old endpoint to go: two endpoints for one service in
            // one VPC conflict (routes, private DNS), and a `deleting` one still holds them.
            None if leaving.is_some() => plan.waiting.push(format!(
                "endpoint {} to be deleted before its replacement",
                leaving.map_or("", |e| e.id.as_str())
            )),
            None => {
                plan.steps.push(Step::CreateEndpoint {
                    component: d.component.clone(),
                    endpoint_type: d.endpoint_type,
                    service_name: d.service_name.clone(),
                    vpc_id: d.vpc_id.clone(),
                    route_table_ids: sorted(d.route_table_ids.iter().cloned()),
                    subnet_ids: sorted(d.subnet_ids.iter().cloned()),
                    security_group: group,
                    private_dns: d.private_dns,
                    policy: policy_json,
                    tags: owner.tags(&d.component, &d.user_tags),
                });
                plan.waiting.push(format!("endpoint for {} to become available", d.service_name));
            }
        }
    }
    for e in &unwanted {
        plan.steps.push(Step::DeleteEndpoint { id: e.id.clone() });
    }
    plan
}

/// The owned, live endpoint that matches the desired service, type and VPC (during a
/// replacement, the new one, never the one on its way out).
pub fn find<'a>(owner: &Owner, desired: &DesiredEndpoint, endpoints: &'a [Endpoint]) -> Option<&'a Endpoint> {
    let mut candidates: Vec<&Endpoint> = endpoints
        .iter()
        .filter(|e| owner.owns(&e.tags) && e.is_live() && component(&e.tags) == Some(desired.component.as_str()))
        .filter(|e| desired.matches(e))
        .collect();
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    candidates.first().copied()
}

/// (component, ID) of every owned endpoint not yet gone, for the status inventory.
pub fn inventory(owner: &Owner, endpoints: &[Endpoint]) -> Vec<(String, String)> {
    endpoints
        .iter()
        .filter(|e| owner.owns(&e.tags) && e.holds_resources())
        .filter_map(|e| Some((component(&e.tags)?.to_string(), e.id.clone())))
        .collect()
}

pub fn owns_any(owner: &Owner, endpoints: &[Endpoint]) -> bool {
    endpoints.iter().any(|e| owner.owns(&e.tags) && e.holds_resources())
}
