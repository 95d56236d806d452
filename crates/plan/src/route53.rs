//! Route 53 alias records (simple, latency, geolocation, failover, weighted) and health checks,
//! for every kind that publishes a name. Records cannot be tagged: a record is the owner's when
//! it names the owner's health check or aliases one of the owner's targets, and all of one
//! owner's record changes go in one ChangeBatch. A health check is the owner's when its tags say
//! so, or, untagged, when its caller reference is one of the owner's idempotency tokens (a create
//! whose tagging never happened): then it is adopted and tagged.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::elbv2;
use crate::owner::{Owner, Rank, Tags, component, match_ranked, missing_tags};
use crate::plan::{Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const HEALTH_CHECK: &str = "route53/health-check";
    pub const RECORDS: &str = "route53/records";
    pub const TAGS: &str = "route53/tags";
}
use resources::*;

/// A health check probes its target, and a record names its health check and aliases its target.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (HEALTH_CHECK, &[elbv2::resources::LOAD_BALANCER]),
        (RECORDS, &[HEALTH_CHECK, elbv2::resources::LOAD_BALANCER]),
    ],
    delete_first: &[],
};

pub mod components {
    pub const HEALTH_CHECK: &str = "healthcheck";
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub health_checks: Vec<HealthCheck>,
    /// The zone the records live in, when one is asked for and exists.
    pub hosted_zone_id: Option<String>,
    /// The records at the name asked for, of type A and AAAA, whoever owns them.
    pub records: Vec<Record>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthCheck {
    pub id: String,
    pub caller_reference: String,
    pub config: HealthCheckConfig,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HealthCheckConfig {
    /// HTTP | HTTPS | TCP
    pub protocol: String,
    pub fqdn: String,
    pub port: u16,
    pub path: Option<String>,
    pub failure_threshold: i32,
    pub request_interval: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum RecordRouting {
    Simple,
    Latency { region: String },
    Geolocation { continent: Option<String>, country: Option<String> },
    Failover { role: String },
    Weighted { weight: i64 },
}

/// An alias record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Lowercase, with the trailing dot.
    pub name: String,
    pub record_type: String,
    pub set_identifier: Option<String>,
    pub routing: RecordRouting,
    /// None for a record that is not an alias (never ours).
    pub alias_dns_name: Option<String>,
    pub alias_hosted_zone_id: Option<String>,
    pub evaluate_target_health: bool,
    pub health_check_id: Option<String>,
}

impl Record {
    fn key(&self) -> (String, String, Option<String>) {
        (self.name.clone(), self.record_type.clone(), self.set_identifier.clone())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredDns {
    /// Lowercase, with the trailing dot.
    pub name: String,
    pub zone: ZoneRef,
    pub record_types: Vec<String>,
    pub set_identifier: Option<String>,
    pub routing: RecordRouting,
    pub health_check: Option<DesiredHealthCheck>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ZoneRef {
    Id(String),
    Name(String),
}

/// The health check's settings; its target (the alias target's DNS name) is filled at plan time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DesiredHealthCheck {
    pub protocol: String,
    pub port: u16,
    pub path: Option<String>,
    pub failure_threshold: i32,
    pub request_interval: i32,
}

/// What the records alias.
#[derive(Clone, Copy, Debug)]
pub struct AliasTarget<'a> {
    pub dns_name: &'a str,
    pub hosted_zone_id: &'a str,
    /// Load balancers: true. CloudFront refuses it, and an accelerator checks its own endpoints.
    pub evaluate_target_health: bool,
}

/// Lowercase, with the trailing dot, as Route 53 answers names.
pub fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// The same host, whatever the case, trailing dot or `dualstack.` prefix.
pub fn same_host(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim_end_matches('.').trim_start_matches("dualstack.").to_ascii_lowercase();
    norm(a) == norm(b)
}

/// Whether the owner made a health check with this caller reference: one of its idempotency
/// tokens, or the `<uid>-<hash>` references of earlier releases.
pub fn made_by(owner_uid: &str, caller_reference: &str) -> bool {
    caller_reference.starts_with(&crate::intent::token_prefix(owner_uid))
        || (!owner_uid.is_empty() && caller_reference.starts_with(&format!("{owner_uid}-")))
}

/// The health checks that are the owner's, each with the tags that make it so: its own, or for
/// an untagged one the owner made, its own plus the ownership tags it is about to get.
fn owned(owner: &Owner, checks: &[HealthCheck]) -> Vec<HealthCheck> {
    checks
        .iter()
        .filter_map(|h| {
            if owner.owns(&h.tags) {
                return Some(h.clone());
            }
            let untagged = !h.tags.contains_key(securecart_api::tags::OWNER_UID);
            (untagged && made_by(&owner.uid, &h.caller_reference)).then(|| {
                let mut adopted = h.clone();
                adopted.tags.extend(crate::owner::ownership_tags(owner, components::HEALTH_CHECK));
                adopted
            })
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeAction {
    Upsert,
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordChange {
    pub action: ChangeAction,
    pub record: Record,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    /// Its caller reference is the create intent's token, given at run time.
    CreateHealthCheck {
        component: String,
        config: HealthCheckConfig,
        tags: Tags,
    },
    SetTags {
        id: String,
        component: String,
        tags: Tags,
    },
    UpdateHealthCheck {
        id: String,
        config: HealthCheckConfig,
    },
    /// All of one object's record changes, in one Route 53 ChangeBatch.
    ChangeRecords {
        hosted_zone_id: String,
        changes: Vec<RecordChange>,
    },
    DeleteHealthCheck {
        id: String,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::SetTags { .. } => TAGS,
            Step::CreateHealthCheck { .. } | Step::UpdateHealthCheck { .. } | Step::DeleteHealthCheck { .. } => {
                HEALTH_CHECK
            }
            Step::ChangeRecords { .. } => RECORDS,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateHealthCheck { .. } => Verb::Create,
            // A batch of deletes only is part of a teardown; upserts follow what they name.
            Step::ChangeRecords { changes, .. } if changes.iter().all(|c| c.action == ChangeAction::Delete) => {
                Verb::Delete
            }
            Step::ChangeRecords { .. } | Step::SetTags { .. } | Step::UpdateHealthCheck { .. } => Verb::Update,
            Step::DeleteHealthCheck { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateHealthCheck { component, .. } => Some(component),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::CreateHealthCheck { .. } => "CreateHealthCheck",
            Step::SetTags { .. } => "SetTags",
            Step::UpdateHealthCheck { .. } => "UpdateHealthCheck",
            Step::ChangeRecords { .. } => "ChangeResourceRecordSets",
            Step::DeleteHealthCheck { .. } => "DeleteHealthCheck",
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
            Step::CreateHealthCheck { config: c, .. } => {
                write!(f, "create health check {} {}:{}{}", c.protocol, c.fqdn, c.port, c.path.as_deref().unwrap_or(""))
            }
            Step::SetTags { id, component, tags } => {
                write!(f, "tag {component} {id} with {}", crate::owner::keys(tags))
            }
            Step::UpdateHealthCheck { id, config: c } => {
                write!(f, "update health check {id} to {}:{}{}", c.fqdn, c.port, c.path.as_deref().unwrap_or(""))
            }
            Step::ChangeRecords { hosted_zone_id, changes } => write!(
                f,
                "change records in {hosted_zone_id}: {}",
                changes
                    .iter()
                    .map(|c| format!(
                        "{:?} {} {} {}",
                        c.action,
                        c.record.name,
                        c.record.record_type,
                        c.record.set_identifier.as_deref().unwrap_or("-")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Step::DeleteHealthCheck { id } => write!(f, "delete health check {id}"),
        }
    }
}

/// A DNS plan, and the records it leaves as they are (what still names or aliases something).
pub struct Planned {
    pub plan: Plan<Step>,
    pub untouched: Vec<Record>,
}

impl Planned {
    /// Why `dns_name` must stay for now: an untouched record still aliases it.
    pub fn aliasing(&self, dns_name: &str) -> Option<&Record> {
        self.untouched.iter().find(|r| r.alias_dns_name.as_deref().is_some_and(|a| same_host(a, dns_name)))
    }
}

fn record_matches(want: &Record, have: &Record) -> bool {
    let host_eq = match (&want.alias_dns_name, &have.alias_dns_name) {
        (Some(a), Some(b)) => same_host(a, b),
        _ => false,
    };
    host_eq
        && want.alias_hosted_zone_id == have.alias_hosted_zone_id
        && want.evaluate_target_health == have.evaluate_target_health
        && want.health_check_id == have.health_check_id
        && want.routing == have.routing
}

/// The health check and records `desired` asks for, aliasing `target` once it exists; records
/// are the owner's when they name its health check or alias one of `owned_targets` (DNS names).
/// With None, the owner's records and health checks go, the records first.
pub fn plan(
    desired: Option<&DesiredDns>,
    cx: &Context,
    observed: &Observed,
    target: Option<AliasTarget>,
    owned_targets: &[&str],
    user_tags: &Tags,
) -> Planned {
    let owner = cx.owner;
    let mut p: Plan<Step> = Plan::default();

    // Health check: protocol and interval are immutable in Route 53, so a change replaces it.
    let want_hc = match (desired.and_then(|d| d.health_check.as_ref()), target) {
        (Some(hc), Some(t)) => Some(HealthCheckConfig {
            protocol: hc.protocol.clone(),
            fqdn: t.dns_name.to_string(),
            port: hc.port,
            path: hc.path.clone(),
            failure_threshold: hc.failure_threshold,
            request_interval: hc.request_interval,
        }),
        _ => None,
    };
    let mine = owned(owner, &observed.health_checks);
    let c = components::HEALTH_CHECK;
    let hcs = match_ranked(
        &mine,
        cx,
        |h| &h.tags,
        |h| &h.id,
        |comp, h| {
            comp == c
                && want_hc
                    .as_ref()
                    .is_some_and(|w| w.protocol == h.config.protocol && w.request_interval == h.config.request_interval)
        },
        |h| Rank { named: cx.named(c, &h.id), ..Rank::default() },
    );
    let hc_ref: Option<Ref> = want_hc.as_ref().map(|want| match hcs.kept.get(c) {
        Some(h) => {
            // Its tags as AWS has them: an adopted check gets the ownership tags written.
            let actual = observed.health_checks.iter().find(|o| o.id == h.id).map(|o| &o.tags).unwrap_or(&h.tags);
            let missing = missing_tags(&owner.tags(c, user_tags), actual);
            if !missing.is_empty() {
                p.steps.push(Step::SetTags { id: h.id.clone(), component: c.into(), tags: missing });
            }
            if &h.config != want {
                p.steps.push(Step::UpdateHealthCheck { id: h.id.clone(), config: want.clone() });
            }
            Ref::Id(h.id.clone())
        }
        None => {
            p.steps.push(Step::CreateHealthCheck {
                component: c.into(),
                config: want.clone(),
                tags: owner.tags(c, user_tags),
            });
            Ref::Created(c.into())
        }
    });

    // Records: owned through the owned health check or the owned target they point to.
    let owned_hc_ids: BTreeSet<&str> = mine.iter().map(|h| h.id.as_str()).collect();
    let is_owned = |r: &Record| {
        r.health_check_id.as_deref().is_some_and(|h| owned_hc_ids.contains(h))
            || r.alias_dns_name.as_deref().is_some_and(|a| owned_targets.iter().any(|h| same_host(a, h)))
    };
    let mut changes = Vec::new();
    // Records the spec names are never deleted, only rewritten, even while their target is pending.
    let wanted_keys: BTreeSet<(String, String, Option<String>)> = desired
        .map(|d| d.record_types.iter().map(|t| (d.name.clone(), t.clone(), d.set_identifier.clone())).collect())
        .unwrap_or_default();
    match (desired, target, &observed.hosted_zone_id) {
        (Some(d), Some(t), Some(_)) => {
            let health_check_id = match &hc_ref {
                Some(Ref::Id(id)) => Some(id.clone()),
                Some(Ref::Created(_)) => {
                    p.waiting.push("the health check to exist before the records that name it".into());
                    None
                }
                None => None,
            };
            if hc_ref.is_none() || health_check_id.is_some() {
                for record_type in &d.record_types {
                    let want = Record {
                        name: d.name.clone(),
                        record_type: record_type.clone(),
                        set_identifier: d.set_identifier.clone(),
                        routing: d.routing.clone(),
                        alias_dns_name: Some(fqdn(t.dns_name)),
                        alias_hosted_zone_id: Some(t.hosted_zone_id.to_string()),
                        evaluate_target_health: t.evaluate_target_health,
                        health_check_id: health_check_id.clone(),
                    };
                    match observed.records.iter().find(|r| r.key() == want.key()) {
                        Some(have) if !is_owned(have) => p.waiting.push(format!(
                            "record {} {} {} belongs to someone else; remove it or pick another setIdentifier",
                            want.name,
                            want.record_type,
                            want.set_identifier.as_deref().unwrap_or("(simple)")
                        )),
                        Some(have) if record_matches(&want, have) => {}
                        _ => changes.push(RecordChange { action: ChangeAction::Upsert, record: want }),
                    }
                }
            }
        }
        (Some(d), _, None) => p.waiting.push(format!("hosted zone {:?} to exist", d.zone)),
        _ => {}
    }
    for r in observed.records.iter().filter(|r| is_owned(r) && !wanted_keys.contains(&r.key())) {
        changes.push(RecordChange { action: ChangeAction::Delete, record: r.clone() });
    }
    let untouched: Vec<Record> =
        observed.records.iter().filter(|r| !changes.iter().any(|c| c.record.key() == r.key())).cloned().collect();
    if let (false, Some(zone)) = (changes.is_empty(), &observed.hosted_zone_id) {
        p.steps.push(Step::ChangeRecords { hosted_zone_id: zone.clone(), changes });
    }
    for h in &hcs.unwanted {
        match untouched.iter().find(|r| r.health_check_id.as_deref() == Some(h.id.as_str())) {
            Some(r) => {
                p.waiting.push(format!("record {} {} to stop naming health check {}", r.name, r.record_type, h.id))
            }
            None => p.steps.push(Step::DeleteHealthCheck { id: h.id.clone() }),
        }
    }
    Planned { plan: p, untouched }
}

/// The owner's health check, if observed (adopted ones included).
pub fn find_health_check(owner: &Owner, observed: &Observed) -> Option<String> {
    owned(owner, &observed.health_checks)
        .into_iter()
        .find(|h| component(&h.tags) == Some(components::HEALTH_CHECK))
        .map(|h| h.id)
}

/// (component, ID) of the owner's health checks, adopted ones included.
pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    owned(owner, &observed.health_checks)
        .into_iter()
        .filter_map(|h| Some((component(&h.tags)?.to_string(), h.id)))
        .collect()
}

pub fn owns_any(owner: &Owner, observed: &Observed) -> bool {
    !owned(owner, &observed.health_checks).is_empty()
}
