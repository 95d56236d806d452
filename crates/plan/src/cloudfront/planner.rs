//! Matching an owner's distribution and origin access controls against the desired ones.
//! Teardown is the same planner with nothing desired.

use std::collections::{BTreeMap, BTreeSet};

use super::step::{ConfigRefs, Step};
use super::{
    Desired, Distribution, DistributionConfig, Observed, OriginAccessControl, OriginKind, access_control_name,
    components, origin_of_description,
};
use crate::context::Context;
use crate::owner::{Known, Owner, missing_tags, ownership_tags};
use crate::plan::{Plan, Ref};
use crate::route53::made_by;

pub struct Planned {
    pub plan: Plan<Step>,
    /// The kept distribution's ID, or the create's reference.
    pub distribution: Option<Ref>,
}

/// Whether the owner made `d`: its tags say so, or, untagged, its caller reference is one of the
/// owner's tokens (then it is adopted).
fn is_owned(owner: &Owner, d: &Distribution) -> bool {
    owner.owns(&d.tags)
        || (!d.tags.contains_key(securecart_api::tags::OWNER_UID) && made_by(&owner.uid, &d.caller_reference))
}

fn owned<'a>(owner: &Owner, observed: &'a Observed) -> Vec<&'a Distribution> {
    observed.distributions.iter().filter(|d| is_owned(owner, d)).collect()
}

/// The distribution the plan keeps: the one the status names, else the lowest ID.
pub fn kept<'a>(cx: &Context, observed: &'a Observed) -> Option<&'a Distribution> {
    cx.keep(components::DISTRIBUTION, owned(cx.owner, observed), |d| &d.id)
}

/// The owner's distribution, for its status, without the status at hand: an enabled one before
/// a disabled one (a duplicate being removed is disabled first), then the lowest ID. The plan's
/// [`Planned::distribution`] is the one kept.
pub fn find<'a>(owner: &Owner, observed: &'a Observed) -> Option<&'a Distribution> {
    owned(owner, observed).into_iter().min_by_key(|d| (!d.config.enabled, d.id.clone()))
}

/// The origins whose access controls may be the owner's: those desired, those the status
/// records (`oac/<origin>`), and the one each control's description names.
fn candidate_origins(desired: Option<&Desired>, known: &Known, observed: &Observed) -> BTreeSet<String> {
    let mut out: BTreeSet<String> =
        desired.map(|d| d.origin_access_controls.iter().map(|o| o.origin.clone()).collect()).unwrap_or_default();
    out.extend(
        known.keys().filter_map(|k| k.strip_prefix(components::ORIGIN_ACCESS_CONTROL_PREFIX)).map(str::to_string),
    );
    out.extend(
        observed
            .origin_access_controls
            .iter()
            .filter_map(|o| origin_of_description(&o.config.description))
            .map(str::to_string),
    );
    out
}

/// The owner's access controls, each with its origin: those whose name is exactly the one the
/// owner derives for that origin.
fn owned_controls<'a>(
    owner: &Owner,
    origins: &BTreeSet<String>,
    observed: &'a Observed,
) -> Vec<(&'a OriginAccessControl, String)> {
    let names: BTreeMap<String, &String> = origins.iter().map(|o| (access_control_name(owner, o), o)).collect();
    observed
        .origin_access_controls
        .iter()
        .filter_map(|c| names.get(&c.config.name).map(|o| (c, (*o).clone())))
        .collect()
}

/// The names the adapter looks the owner's access controls up by: those of the desired S3
/// origins and of the origins the status records.
pub fn access_control_names(owner: &Owner, desired: Option<&Desired>, known: &Known) -> Vec<String> {
    candidate_origins(desired, known, &Observed::default()).iter().map(|o| access_control_name(owner, o)).collect()
}

/// Everything the owner's distribution needs; `web_acl` is the CLOUDFRONT-scope web ACL's ARN
/// (existing, or about to be created), None for none.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed, web_acl: Option<&Ref>) -> Planned {
    let owner = cx.owner;
    let mut plan = Plan::default();

    // Origin access controls, by name.
    let origins = candidate_origins(desired, cx.known, observed);
    let controls = owned_controls(owner, &origins, observed);
    let mut control_refs: BTreeMap<String, Ref> = BTreeMap::new();
    for want in desired.map(|d| d.origin_access_controls.as_slice()).unwrap_or_default() {
        match controls.iter().find(|(c, _)| c.config.name == want.config.name) {
            Some((c, _)) => {
                if c.config != want.config {
                    plan.steps.push(Step::UpdateOriginAccessControl {
                        id: c.id.clone(),
                        etag: c.etag.clone(),
                        config: want.config.clone(),
                    });
                }
                control_refs.insert(want.origin.clone(), Ref::Id(c.id.clone()));
            }
            None => {
                let component = components::origin_access_control(&want.origin);
                plan.steps.push(Step::CreateOriginAccessControl {
                    component: component.clone(),
                    config: want.config.clone(),
                });
                control_refs.insert(want.origin.clone(), Ref::Created(component));
            }
        }
    }

    // The distribution.
    let c = components::DISTRIBUTION;
    let keep = desired.and_then(|_| kept(cx, observed));
    let distribution = desired.map(|d| {
        let refs = ConfigRefs { origin_access_controls: control_refs.clone(), web_acl: web_acl.cloned() };
        let mut config = d.config.clone();
        for origin in &mut config.origins {
            if let OriginKind::S3 { origin_access_control_id } = &mut origin.kind {
                *origin_access_control_id = control_refs.get(&origin.id).and_then(Ref::id).map(str::to_string);
            }
        }
        config.web_acl_id = web_acl.and_then(Ref::id).map(str::to_string);
        let tags = owner.tags(c, &d.user_tags);
        match keep {
            Some(k) => {
                let missing = missing_tags(&tags, &k.tags);
                if !missing.is_empty() {
                    plan.steps.push(Step::SetTags { arn: k.arn.clone(), component: c.into(), tags: missing });
                }
                if as_reported(&config, &k.config) != k.config || refs.pending() {
                    plan.steps.push(Step::UpdateDistribution {
                        id: k.id.clone(),
                        etag: k.etag.clone(),
                        config: Box::new(config),
                        refs,
                    });
                }
                Ref::Id(k.id.clone())
            }
            None => {
                plan.steps.push(Step::CreateDistribution { component: c.into(), config: Box::new(config), refs, tags });
                Ref::Created(c.into())
            }
        }
    });

    // Every other distribution of the owner: disabled, deployed so, then deleted.
    for d in owned(owner, observed).into_iter().filter(|d| keep.is_none_or(|k| k.id != d.id)) {
        if !owner.owns(&d.tags) {
            // Adopted only to be removed: tagged first, so it is found by tags while it goes.
            plan.steps.push(Step::SetTags { arn: d.arn.clone(), component: c.into(), tags: ownership_tags(owner, c) });
        }
        retire(&mut plan, d);
    }

    // Access controls no longer desired: deleted once no distribution signs with them.
    let wanted: BTreeSet<&str> = control_refs.values().filter_map(Ref::id).collect();
    for (control, _) in controls.iter().filter(|(c, _)| !wanted.contains(c.id.as_str())) {
        let users: Vec<&str> = observed
            .distributions
            .iter()
            .filter(|d| d.uses_access_control(&control.id))
            .map(|d| d.id.as_str())
            .collect();
        if users.is_empty() {
            plan.steps.push(Step::DeleteOriginAccessControl {
                id: control.id.clone(),
                etag: control.etag.clone(),
                name: control.config.name.clone(),
            });
        } else {
            plan.waiting.push(format!(
                "origin access control {} to be unused by distribution {} before it is deleted",
                control.config.name,
                users.join(", ")
            ));
        }
    }
    Planned { plan, distribution }
}

/// `want` as the read would show it: an origin whose type the read did not report is compared
/// on everything else.
fn as_reported(want: &DistributionConfig, read: &DistributionConfig) -> DistributionConfig {
    let mut out = want.clone();
    for origin in &mut out.origins {
        let unreported = read.origins.iter().any(|r| r.id == origin.id && r.kind == OriginKind::Unreported);
        if unreported {
            origin.kind = OriginKind::Unreported;
        }
    }
    out
}

/// The next step of removing `d`: disable it, wait for that to deploy, delete it.
fn retire(plan: &mut Plan<Step>, d: &Distribution) {
    if d.config.enabled {
        plan.steps.push(Step::DisableDistribution { id: d.id.clone(), etag: d.etag.clone() });
    } else if !d.deployed() {
        plan.waiting.push(format!("distribution {} to finish deploying (disabled) before it is deleted", d.id));
    } else {
        plan.steps.push(Step::DeleteDistribution { id: d.id.clone(), etag: d.etag.clone() });
    }
}

/// (component, ID) of every distribution and access control the owner has.
pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        owned(owner, observed).into_iter().map(|d| (components::DISTRIBUTION.to_string(), d.id.clone())).collect();
    let origins = candidate_origins(None, &Known::new(), observed);
    out.extend(
        owned_controls(owner, &origins, observed)
            .into_iter()
            .map(|(c, origin)| (components::origin_access_control(&origin), c.id.clone())),
    );
    out
}

pub fn owns_any(owner: &Owner, observed: &Observed) -> bool {
    !inventory(owner, observed).is_empty()
}
