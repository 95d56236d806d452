//! Database subnet groups: RDS DB subnet groups and ElastiCache cache subnet groups, each over one
//! tier's subnets. Both services have the same shape (a name unique in the account and region, a
//! description, a set of subnets, tags), so one planner serves both.
//!
//! A group's name is derived from its owner, so a repeated create (a lost response, a crash) meets
//! "already exists" and the next observation finds it by name. A group of that name that lacks
//! the owner's tags belongs to someone else and is never changed or deleted. A group that is to
//! go while a DB instance or cache cluster still uses it stays, with the subnets it holds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use securecart_api::SubnetGroupService;
use serde::Serialize;

use crate::context::Context;
use crate::network;
use crate::owner::{Owner, Tags, component, missing_tags};
use crate::plan::{Blocked, Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const DB_SUBNET_GROUP: &str = "rds/db-subnet-group";
    pub const CACHE_SUBNET_GROUP: &str = "elasticache/cache-subnet-group";
}
use resources::*;

/// A group needs its subnets; a subnet goes only after the groups holding it let go of it.
pub const ORDERING: Ordering = Ordering {
    needs: &[(DB_SUBNET_GROUP, &[network::resources::SUBNET]), (CACHE_SUBNET_GROUP, &[network::resources::SUBNET])],
    delete_first: &[],
};

pub fn component_of(service: SubnetGroupService, name: &str) -> String {
    match service {
        SubnetGroupService::Rds => format!("subnet-group/rds/{name}"),
        SubnetGroupService::ElastiCache => format!("subnet-group/elasticache/{name}"),
    }
}

/// The AWS name of `owner`'s group `name`: `<namespace>-<owner>-<name>`, at most 255 characters
/// (both services' limit; they store names in lower case, which Kubernetes names already are).
pub fn aws_name(owner: &Owner, name: &str) -> String {
    let full = format!("{}-{}-{name}", owner.namespace, owner.name);
    if full.len() <= 255 {
        return full;
    }
    let hash = crate::intent::short_hash(&[&full]);
    format!("{}-{hash}", &full[..255 - hash.len() - 1])
}

/// A group as AWS reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SubnetGroup {
    pub service: Option<SubnetGroupService>,
    pub name: String,
    pub arn: String,
    pub description: String,
    pub subnet_ids: BTreeSet<String>,
    pub tags: Tags,
    /// What uses it (`DB instance orders-db`), read only for groups that are to go.
    pub users: Vec<String>,
}

impl SubnetGroup {
    fn service(&self) -> SubnetGroupService {
        self.service.unwrap_or(SubnetGroupService::Rds)
    }
}

/// A group the owner wants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    pub component: String,
    pub service: SubnetGroupService,
    /// The name in the spec.
    pub spec_name: String,
    /// The name in AWS.
    pub name: String,
    pub description: String,
    /// The subnets' components, one per zone.
    pub subnets: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    Create {
        service: SubnetGroupService,
        component: String,
        name: String,
        description: String,
        subnets: Vec<Ref>,
        tags: Tags,
    },
    /// Sets the full subnet list (and the description): both APIs replace, not add.
    Modify {
        service: SubnetGroupService,
        name: String,
        description: String,
        subnets: Vec<Ref>,
    },
    SetTags {
        service: SubnetGroupService,
        arn: String,
        component: String,
        tags: Tags,
    },
    Delete {
        service: SubnetGroupService,
        name: String,
    },
}

impl Step {
    pub fn service(&self) -> SubnetGroupService {
        match self {
            Step::Create { service, .. }
            | Step::Modify { service, .. }
            | Step::SetTags { service, .. }
            | Step::Delete { service, .. } => *service,
        }
    }
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self.service() {
            SubnetGroupService::Rds => DB_SUBNET_GROUP,
            SubnetGroupService::ElastiCache => CACHE_SUBNET_GROUP,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::Create { .. } => Verb::Create,
            Step::Modify { .. } | Step::SetTags { .. } => Verb::Update,
            Step::Delete { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::Create { component, .. } => Some(component),
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::Create { subnets, .. } | Step::Modify { subnets, .. } => subnets.iter().collect(),
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        use SubnetGroupService::*;
        match (self, self.service()) {
            (Step::Create { .. }, Rds) => "CreateDBSubnetGroup",
            (Step::Modify { .. }, Rds) => "ModifyDBSubnetGroup",
            (Step::SetTags { .. }, Rds) => "AddTagsToResource",
            (Step::Delete { .. }, Rds) => "DeleteDBSubnetGroup",
            (Step::Create { .. }, ElastiCache) => "CreateCacheSubnetGroup",
            (Step::Modify { .. }, ElastiCache) => "ModifyCacheSubnetGroup",
            (Step::SetTags { .. }, ElastiCache) => "AddTagsToResource",
            (Step::Delete { .. }, ElastiCache) => "DeleteCacheSubnetGroup",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[network::ORDERING, ORDERING]
    }
}

fn list(refs: &[Ref]) -> String {
    refs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |s: SubnetGroupService| match s {
            SubnetGroupService::Rds => "DB subnet group",
            SubnetGroupService::ElastiCache => "cache subnet group",
        };
        match self {
            Step::Create { service, name, subnets, .. } => {
                write!(f, "create {} {name} over {}", kind(*service), list(subnets))
            }
            Step::Modify { service, name, subnets, .. } => {
                write!(f, "set {} {name} to {}", kind(*service), list(subnets))
            }
            Step::SetTags { service, component, tags, .. } => {
                write!(f, "tag {} {component} with {}", kind(*service), crate::owner::keys(tags))
            }
            Step::Delete { service, name } => write!(f, "delete {} {name}", kind(*service)),
        }
    }
}

/// What a group is called in messages: `DB subnet group shop-orders`.
pub fn describe(service: SubnetGroupService, name: &str) -> String {
    match service {
        SubnetGroupService::Rds => format!("DB subnet group {name}"),
        SubnetGroupService::ElastiCache => format!("cache subnet group {name}"),
    }
}

/// The owner's groups that are to go but still have users, with the subnets they hold: the
/// network planner keeps those subnets (and so their VPC) until the users are gone.
pub fn held_subnets(desired: &[Desired], owner: &Owner, observed: &[SubnetGroup]) -> BTreeMap<String, Vec<String>> {
    let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in leaving(desired, owner, observed).filter(|g| !g.users.is_empty()) {
        for s in &g.subnet_ids {
            held.entry(s.clone()).or_default().push(describe(g.service(), &g.name));
        }
    }
    held
}

fn wanted<'a>(desired: &'a [Desired], g: &SubnetGroup) -> Option<&'a Desired> {
    desired.iter().find(|d| d.service == g.service() && d.name == g.name)
}

/// The owner's groups that are not desired.
fn leaving<'a>(
    desired: &'a [Desired],
    owner: &'a Owner,
    observed: &'a [SubnetGroup],
) -> impl Iterator<Item = &'a SubnetGroup> {
    observed.iter().filter(move |g| owner.owns(&g.tags) && wanted(desired, g).is_none())
}

/// Every desired group created or brought to its subnets, description and tags; every other group
/// of the owner's deleted, unless something still uses it (blocked, naming the users).
/// `subnets` resolves a subnet component to its ID or to the step creating it.
pub fn plan(
    desired: &[Desired],
    user_tags: &Tags,
    cx: &Context,
    subnets: &BTreeMap<String, Ref>,
    observed: &[SubnetGroup],
) -> Plan<Step> {
    let owner = cx.owner;
    let mut plan = Plan::default();
    for d in desired {
        let tags = owner.tags(&d.component, user_tags);
        let refs: Option<Vec<Ref>> = d.subnets.iter().map(|c| subnets.get(c).cloned()).collect();
        let Some(refs) = refs else {
            plan.waiting.push(format!("the subnets of {}", describe(d.service, &d.name)));
            continue;
        };
        let existing = observed.iter().find(|g| g.service() == d.service && g.name == d.name);
        match existing {
            None => plan.steps.push(Step::Create {
                service: d.service,
                component: d.component.clone(),
                name: d.name.clone(),
                description: d.description.clone(),
                subnets: refs,
                tags,
            }),
            Some(g) if !owner.owns(&g.tags) => plan.blocked.push(Blocked::name_taken(format!(
                "{} exists and is not this object's (it lacks the ownership tags); rename the group or remove that one",
                describe(d.service, &d.name)
            ))),
            Some(g) => {
                let ids: Option<BTreeSet<String>> = refs.iter().map(|r| r.id().map(str::to_string)).collect();
                if ids.as_ref() != Some(&g.subnet_ids) || g.description != d.description {
                    plan.steps.push(Step::Modify {
                        service: d.service,
                        name: d.name.clone(),
                        description: d.description.clone(),
                        subnets: refs,
                    });
                }
                let missing = missing_tags(&tags, &g.tags);
                if !missing.is_empty() {
                    plan.steps.push(Step::SetTags {
                        service: d.service,
                        arn: g.arn.clone(),
                        component: d.component.clone(),
                        tags: missing,
                    });
                }
            }
        }
    }
    for g in leaving(desired, owner, observed) {
        match g.users.as_slice() {
            [] => plan.steps.push(Step::Delete { service: g.service(), name: g.name.clone() }),
            users => plan.blocked.push(Blocked::deletion(format!(
                "{} is used by {}",
                describe(g.service(), &g.name),
                users.join(", ")
            ))),
        }
    }
    plan
}

/// (component, AWS name) of the owner's groups.
pub fn inventory(owner: &Owner, observed: &[SubnetGroup]) -> Vec<(String, String)> {
    observed
        .iter()
        .filter(|g| owner.owns(&g.tags))
        .filter_map(|g| Some((component(&g.tags)?.to_string(), g.name.clone())))
        .collect()
}
