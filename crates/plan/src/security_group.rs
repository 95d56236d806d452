//! EC2 security groups, shared by every kind that puts something of its own in a group (an
//! interface endpoint, a load balancer): the group, its ingress rules (protocol, port, IPv4 or
//! IPv6 CIDR), and when a group that is no longer wanted may go (once nothing of the owner's
//! holds it).

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::owner::{Rank, Tags, component, match_ranked, missing_tags};
use crate::plan::{Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const SECURITY_GROUP: &str = "ec2/security-group";
    pub const SECURITY_GROUP_RULE: &str = "ec2/security-group-rule";
    pub const TAGS: &str = "ec2/tags";
}
use resources::*;

/// A rule needs its group.
pub const ORDERING: Ordering = Ordering { needs: &[(SECURITY_GROUP_RULE, &[SECURITY_GROUP])], delete_first: &[] };

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub ingress: BTreeSet<Ingress>,
    pub tags: Tags,
}

/// One ingress permission: protocol (`tcp`/`udp`), one port and one source CIDR (IPv4 or IPv6),
/// the only kind of rule the controller writes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Ingress {
    pub protocol: String,
    pub port: u16,
    pub cidr: String,
}

impl Ingress {
    pub fn tcp(port: u16, cidr: &str) -> Self {
        Self { protocol: "tcp".into(), port, cidr: cidr.into() }
    }
}

impl fmt::Display for Ingress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} from {}", self.protocol, self.port, self.cidr)
    }
}

/// The group an owner wants, in one VPC.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredGroup {
    pub component: String,
    /// Unique per VPC (EC2 refuses a second group of the same name).
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub ingress: BTreeSet<Ingress>,
    /// The user's tags, next to the ownership tags.
    pub user_tags: Tags,
}

/// Something of the owner's that may be in a group: an endpoint, a load balancer. A group it
/// holds is not deleted from under it.
#[derive(Clone, Debug)]
pub struct Holder<'a> {
    /// What it is, for the wait message: `endpoint`, `load balancer`.
    pub what: &'static str,
    pub id: &'a str,
    pub groups: &'a [String],
    /// The one the owner keeps: a group it holds is left alone. Any other holder is on its way out,
    /// and the group waits for it to go.
    pub kept: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    SetTags { resource_id: String, component: String, tags: Tags },
    CreateSecurityGroup { component: String, name: String, description: String, vpc_id: String, tags: Tags },
    AuthorizeIngress { group: Ref, rules: Vec<Ingress> },
    RevokeIngress { group_id: String, rules: Vec<Ingress> },
    DeleteSecurityGroup { id: String },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::SetTags { .. } => TAGS,
            Step::CreateSecurityGroup { .. } | Step::DeleteSecurityGroup { .. } => SECURITY_GROUP,
            Step::AuthorizeIngress { .. } | Step::RevokeIngress { .. } => SECURITY_GROUP_RULE,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateSecurityGroup { .. } => Verb::Create,
            Step::SetTags { .. } | Step::AuthorizeIngress { .. } | Step::RevokeIngress { .. } => Verb::Update,
            Step::DeleteSecurityGroup { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateSecurityGroup { component, .. } => Some(component),
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::AuthorizeIngress { group, .. } => vec![group],
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::SetTags { .. } => "SetTags",
            Step::CreateSecurityGroup { .. } => "CreateSecurityGroup",
            Step::AuthorizeIngress { .. } => "AuthorizeSecurityGroupIngress",
            Step::RevokeIngress { .. } => "RevokeSecurityGroupIngress",
            Step::DeleteSecurityGroup { .. } => "DeleteSecurityGroup",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

fn list(rules: &[Ingress]) -> String {
    rules.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::SetTags { resource_id, component, tags } => {
                write!(f, "tag {component} {resource_id} with {}", crate::owner::keys(tags))
            }
            Step::CreateSecurityGroup { name, vpc_id, .. } => write!(f, "create security group {name} in {vpc_id}"),
            Step::AuthorizeIngress { group, rules } => write!(f, "allow {} into security group {group}", list(rules)),
            Step::RevokeIngress { group_id, rules } => {
                write!(f, "revoke {} from security group {group_id}", list(rules))
            }
            Step::DeleteSecurityGroup { id } => write!(f, "delete security group {id}"),
        }
    }
}

/// A group's plan in two parts, so that a kind can put what keeps the group first and what
/// removes groups last, around the plans of what goes in the group.
#[derive(Debug, Default)]
pub struct GroupPlan {
    /// Creates and repairs of the wanted group.
    pub keep: Plan<Step>,
    /// The wanted group, for what goes in it.
    pub group: Option<Ref>,
    /// Deletes of the owner's other groups, or waits for their holders.
    pub remove: Plan<Step>,
}

/// The steps that take the owner's `groups` to `desired`; with None, every owned group goes
/// once no holder keeps it.
pub fn plan(desired: Option<&DesiredGroup>, cx: &Context, groups: &[SecurityGroup], holders: &[Holder]) -> GroupPlan {
    let owner = cx.owner;
    let matched = match_ranked(
        groups,
        cx,
        |g| &g.tags,
        |g| &g.id,
        |c, g| desired.is_some_and(|d| c == d.component && g.vpc_id == d.vpc_id),
        |g| Rank { named: component(&g.tags).is_some_and(|c| cx.named(c, &g.id)), ..Rank::default() },
    );
    let mut out = GroupPlan::default();
    if let Some(d) = desired {
        let tags = owner.tags(&d.component, &d.user_tags);
        out.group = Some(match matched.kept.get(&d.component) {
            Some(g) => {
                let missing_tags = missing_tags(&tags, &g.tags);
                if !missing_tags.is_empty() {
                    out.keep.steps.push(Step::SetTags {
                        resource_id: g.id.clone(),
                        component: d.component.clone(),
                        tags: missing_tags,
                    });
                }
                let missing: Vec<Ingress> = d.ingress.difference(&g.ingress).cloned().collect();
                let extra: Vec<Ingress> = g.ingress.difference(&d.ingress).cloned().collect();
                if !missing.is_empty() {
                    out.keep.steps.push(Step::AuthorizeIngress { group: Ref::Id(g.id.clone()), rules: missing });
                }
                if !extra.is_empty() {
                    out.keep.steps.push(Step::RevokeIngress { group_id: g.id.clone(), rules: extra });
                }
                Ref::Id(g.id.clone())
            }
            None => {
                out.keep.steps.push(Step::CreateSecurityGroup {
                    component: d.component.clone(),
                    name: d.name.clone(),
                    description: d.description.clone(),
                    vpc_id: d.vpc_id.clone(),
                    tags,
                });
                let r = Ref::Created(d.component.clone());
                if !d.ingress.is_empty() {
                    out.keep
                        .steps
                        .push(Step::AuthorizeIngress { group: r.clone(), rules: d.ingress.iter().cloned().collect() });
                }
                r
            }
        });
    }
    for g in &matched.unwanted {
        match holders.iter().find(|h| h.groups.contains(&g.id)) {
            Some(h) if h.kept => {}
            Some(h) => out.remove.waiting.push(format!("{} {} to release security group {}", h.what, h.id, g.id)),
            None => out.remove.steps.push(Step::DeleteSecurityGroup { id: g.id.clone() }),
        }
    }
    out
}

/// The owner's group with `component`, if observed.
pub fn find<'a>(owner: &crate::Owner, groups: &'a [SecurityGroup], wanted: &str) -> Option<&'a SecurityGroup> {
    groups.iter().find(|g| owner.owns(&g.tags) && component(&g.tags) == Some(wanted))
}

/// (component, ID) of every owned group, for the status inventory.
pub fn inventory(owner: &crate::Owner, groups: &[SecurityGroup]) -> Vec<(String, String)> {
    groups
        .iter()
        .filter(|g| owner.owns(&g.tags))
        .filter_map(|g| Some((component(&g.tags)?.to_string(), g.id.clone())))
        .collect()
}

pub fn owns_any(owner: &crate::Owner, groups: &[SecurityGroup]) -> bool {
    groups.iter().any(|g| owner.owns(&g.tags))
}
