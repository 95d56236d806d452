//! Shield Advanced protection of one resource ARN (a load balancer, a distribution, an Elastic
//! IP). A protection is the owner's only when its tags say so: one that someone else made for the
//! same resource is left alone, and counts as protecting it.

use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::elbv2;
use crate::owner::{Owner, Tags, component, missing_tags};
use crate::plan::{Ordered, Ordering, Plan, PlanStep, Resource, Verb};

pub mod resources {
    pub const PROTECTION: &str = "shield/protection";
    pub const TAGS: &str = "shield/tags";
}
use resources::*;

/// A protection needs the resource it protects.
pub const ORDERING: Ordering =
    Ordering { needs: &[(PROTECTION, &[elbv2::resources::LOAD_BALANCER])], delete_first: &[] };

pub mod components {
    pub const SHIELD: &str = "shield";
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Protection {
    pub id: String,
    pub arn: String,
    pub resource_arn: String,
    pub tags: Tags,
}

/// The protection an owner wants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired<'a> {
    pub name: &'a str,
    pub resource_arn: &'a str,
    pub user_tags: &'a Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateProtection { component: String, name: String, resource_arn: String, tags: Tags },
    SetTags { arn: String, component: String, tags: Tags },
    DeleteProtection { id: String },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::SetTags { .. } => TAGS,
            Step::CreateProtection { .. } | Step::DeleteProtection { .. } => PROTECTION,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateProtection { .. } => Verb::Create,
            Step::SetTags { .. } => Verb::Update,
            Step::DeleteProtection { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateProtection { component, .. } => Some(component),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::CreateProtection { .. } => "CreateProtection",
            Step::SetTags { .. } => "SetTags",
            Step::DeleteProtection { .. } => "DeleteProtection",
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
            Step::CreateProtection { resource_arn, .. } => write!(f, "protect {resource_arn} with Shield Advanced"),
            Step::SetTags { arn, component, tags } => {
                write!(f, "tag {component} {arn} with {}", crate::owner::keys(tags))
            }
            Step::DeleteProtection { id } => write!(f, "delete Shield protection {id}"),
        }
    }
}

/// `desired`'s resource protected (by the owner's protection, or by one someone else made), and
/// every other protection the owner's tags mark deleted.
pub fn plan(desired: Option<&Desired>, cx: &Context, protections: &[Protection]) -> Plan<Step> {
    let owner = cx.owner;
    let mut plan = Plan::default();
    let c = components::SHIELD;
    // Of the owner's protections of the resource, the one the status names, else the lowest ID.
    let mut mine: Vec<&Protection> = protections.iter().filter(|p| owner.owns(&p.tags)).collect();
    mine.sort_by_key(|p| (!cx.named(c, &p.id), p.id.clone()));
    let kept = desired.and_then(|d| mine.iter().copied().find(|p| p.resource_arn == d.resource_arn));
    if let Some(d) = desired {
        let tags = owner.tags(c, d.user_tags);
        match kept {
            Some(p) => {
                let missing = missing_tags(&tags, &p.tags);
                if !missing.is_empty() {
                    plan.steps.push(Step::SetTags { arn: p.arn.clone(), component: c.into(), tags: missing });
                }
            }
            // AWS allows one protection per resource: someone else's already protects it.
            None if protections.iter().any(|p| p.resource_arn == d.resource_arn) => {}
            None => plan.steps.push(Step::CreateProtection {
                component: c.into(),
                name: d.name.into(),
                resource_arn: d.resource_arn.into(),
                tags,
            }),
        }
    }
    for p in mine.iter().filter(|p| kept.is_none_or(|k| k.id != p.id)) {
        plan.steps.push(Step::DeleteProtection { id: p.id.clone() });
    }
    plan
}

/// The protection of `resource_arn`, whoever made it.
pub fn of<'a>(protections: &'a [Protection], resource_arn: &str) -> Option<&'a Protection> {
    protections.iter().find(|p| p.resource_arn == resource_arn)
}

pub fn inventory(owner: &Owner, protections: &[Protection]) -> Vec<(String, String)> {
    protections
        .iter()
        .filter(|p| owner.owns(&p.tags))
        .filter_map(|p| Some((component(&p.tags)?.to_string(), p.id.clone())))
        .collect()
}

pub fn owns_any(owner: &Owner, protections: &[Protection]) -> bool {
    protections.iter().any(|p| owner.owns(&p.tags))
}
