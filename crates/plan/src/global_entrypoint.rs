//! GlobalEntrypoint: validate the spec, build the desired CloudFront distribution (with its
//! CLOUDFRONT-scope web ACL) or Global Accelerator from the referenced LoadBalancerPolicies,
//! compose those plans with Shield's and Route 53's, and report the status, one condition per
//! part. Teardown is the same with nothing desired.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::{DEPLOYED, DNS_PUBLISHED, WAF_ASSOCIATED, reason};
use securecart_api::{
    AcceleratorListenerStatus, EndpointGroupStatus, EntrypointType, GlobalEntrypointSpec, GlobalEntrypointStatus,
    NamedId, RoutingPolicy,
};
use serde::Serialize;

use crate::InvalidSpec;
use crate::conditions::condition;
use crate::context::Context;
use crate::global_accelerator::EndpointInput;
use crate::owner::{Owner, Tags};
use crate::plan::Plan;
use crate::route53::{self, AliasTarget, DesiredDns};
use crate::shield::{self, Protection};
use crate::step::Step;
use crate::wafv2::{self, DesiredAcl, Scope};
use crate::{cloudfront, global_accelerator};

/// A referenced LoadBalancerPolicy as an entry point needs it, from its spec and status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyView {
    pub region: String,
    pub load_balancer_arn: String,
    pub dns_name: String,
    /// Its load balancer is active (the policy's LoadBalancerReady condition).
    pub active: bool,
    /// The policy is Ready at its generation.
    pub ready: bool,
    /// An Application load balancer (else Network).
    pub application: bool,
}

/// The referenced policies, by name.
pub type Policies = BTreeMap<String, PolicyView>;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub cloudfront: cloudfront::Observed,
    pub accelerator: global_accelerator::Observed,
    pub wafv2: wafv2::Observed,
    pub protections: Vec<Protection>,
    pub route53: route53::Observed,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub edge: Edge,
    pub shield: bool,
    pub dns: Option<DesiredDns>,
    pub user_tags: Tags,
    /// Referenced policies that are not Ready yet: the entry point is not Ready either.
    pub policies_not_ready: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Edge {
    CloudFront { distribution: Box<cloudfront::Desired>, waf: Option<wafv2::Desired> },
    Accelerator(global_accelerator::Desired),
}

/// The LoadBalancerPolicies a spec references, each with the field that names it.
pub fn policy_refs(spec: &GlobalEntrypointSpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(cf) = &spec.cloud_front {
        for (i, o) in cf.origins.iter().enumerate() {
            if let Some(r) = &o.load_balancer_policy_ref {
                out.push((format!("spec.cloudFront.origins[{i}].loadBalancerPolicyRef"), r.name.clone()));
            }
        }
    }
    if let Some(ga) = &spec.global_accelerator {
        for (i, l) in ga.listeners.iter().enumerate() {
            for (j, g) in l.endpoint_groups.iter().enumerate() {
                out.push((
                    format!("spec.globalAccelerator.listeners[{i}].endpointGroups[{j}].loadBalancerPolicyRef"),
                    g.load_balancer_policy_ref.name.clone(),
                ));
            }
        }
    }
    out
}

/// A referenced policy must be an internet-facing Application or Network load balancer: the
/// edge reaches it over the internet.
pub fn check_policy(field: &str, name: &str, lb_type: &str, internet_facing: bool) -> Result<(), InvalidSpec> {
    if lb_type != "Application" && lb_type != "Network" {
        return Err(InvalidSpec(format!(
            "{field}: LoadBalancerPolicy {name} is a {lb_type} load balancer; an entry point sends to Application or Network load balancers"
        )));
    }
    if !internet_facing {
        return Err(InvalidSpec(format!(
            "{field}: LoadBalancerPolicy {name} is internal; an entry point sends to internet-facing load balancers"
        )));
    }
    Ok(())
}

/// Checks the spec on its own; the schema and CEL rules reject most of this at admission.
pub fn validate(spec: &GlobalEntrypointSpec) -> Result<(), InvalidSpec> {
    let bad = |m: &str| Err(InvalidSpec(m.into()));
    match spec.entry_type {
        EntrypointType::CloudFront => {
            if spec.global_accelerator.is_some() {
                return bad("spec.globalAccelerator: type CloudFront takes spec.cloudFront only");
            }
            let Some(cf) = &spec.cloud_front else { return bad("spec.cloudFront is required for type CloudFront") };
            cloudfront::validate(cf)?;
        }
        EntrypointType::GlobalAccelerator => {
            if spec.cloud_front.is_some() {
                return bad("spec.cloudFront: type GlobalAccelerator takes spec.globalAccelerator only");
            }
            let Some(ga) = &spec.global_accelerator else {
                return bad("spec.globalAccelerator is required for type GlobalAccelerator");
            };
            global_accelerator::validate(ga)?;
        }
    }
    if let Some(dns) = &spec.dns {
        crate::dns::validate(dns)?;
        if dns.routing.policy == RoutingPolicy::Latency {
            return bad("spec.dns.routing.policy: Latency routing needs a regional target; an entry point is global");
        }
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return Err(InvalidSpec(format!("spec.tags: key {key:?} is reserved")));
    }
    Ok(())
}

fn readable(owner: &Owner) -> String {
    format!("{}-{}", owner.namespace, owner.name)
}

/// Whether the edge answers over IPv6 (and DNS publishes AAAA).
fn ipv6(spec: &GlobalEntrypointSpec) -> bool {
    match spec.entry_type {
        EntrypointType::CloudFront => spec.cloud_front.as_ref().is_some_and(|c| c.ipv6),
        EntrypointType::GlobalAccelerator => spec
            .global_accelerator
            .as_ref()
            .is_some_and(|g| g.ip_address_type == securecart_api::AcceleratorIpAddressType::DualStack),
    }
}

pub fn desired(spec: &GlobalEntrypointSpec, owner: &Owner, policies: &Policies) -> Result<Desired, InvalidSpec> {
    validate(spec)?;
    let edge = match (&spec.cloud_front, &spec.global_accelerator) {
        (Some(cf), _) => {
            let origins: BTreeMap<String, String> = cf
                .origins
                .iter()
                .filter_map(|o| {
                    let policy = policies.get(&o.load_balancer_policy_ref.as_ref()?.name)?;
                    Some((o.name.clone(), policy.dns_name.clone()))
                })
                .collect();
            let distribution = cloudfront::desired_of(cf, owner, &origins, &spec.tags)?;
            let waf = cf
                .waf
                .as_ref()
                .map(|w| wafv2::desired_of(&w.as_waf(), Scope::CloudFront, &readable(owner), owner, &spec.tags));
            Edge::CloudFront { distribution: Box::new(distribution), waf }
        }
        (None, Some(ga)) => {
            let endpoints = endpoint_inputs(ga, policies);
            Edge::Accelerator(global_accelerator::desired_of(ga, owner, &endpoints, &spec.tags)?)
        }
        (None, None) => return Err(InvalidSpec("spec: set spec.cloudFront or spec.globalAccelerator".into())),
    };
    // Route 53 publishes the edge's name; its routing region matters only for Latency (refused).
    let dns = spec.dns.as_ref().map(|d| crate::dns::desired(d, "", ipv6(spec))).transpose()?;
    let mut policies_not_ready: Vec<String> =
        policy_refs(spec).into_iter().map(|(_, n)| n).filter(|n| policies.get(n).is_none_or(|p| !p.ready)).collect();
    policies_not_ready.dedup();
    Ok(Desired {
        owner: owner.clone(),
        edge,
        shield: spec.shield.as_ref().is_some_and(|s| s.enabled),
        dns,
        user_tags: spec.tags.clone(),
        policies_not_ready,
    })
}

/// One input per endpoint group the spec lists, from the policy it names (a policy not resolved
/// is left out: `desired_of` names it).
fn endpoint_inputs(ga: &securecart_api::GlobalAcceleratorSpec, policies: &Policies) -> Vec<EndpointInput> {
    let mut out = Vec::new();
    for (i, l) in ga.listeners.iter().enumerate() {
        for (k, g) in l.endpoint_groups.iter().enumerate() {
            let Some(p) = policies.get(&g.load_balancer_policy_ref.name) else { continue };
            out.push(EndpointInput {
                listener: i,
                group: k,
                region: p.region.clone(),
                load_balancer_arn: Some(p.load_balancer_arn.clone()),
                active: p.active,
                application: p.application,
            });
        }
    }
    out
}

/// What customers reach: the owner's distribution or accelerator, as observed.
struct Target<'a> {
    arn: &'a str,
    dns_name: &'a str,
    hosted_zone_id: &'static str,
}

fn target<'a>(owner: &Owner, observed: &'a Observed) -> Option<Target<'a>> {
    if let Some(d) = cloudfront::find(owner, &observed.cloudfront) {
        return Some(Target { arn: &d.arn, dns_name: &d.domain_name, hosted_zone_id: cloudfront::HOSTED_ZONE_ID });
    }
    let a = global_accelerator::find(owner, &observed.accelerator)?;
    // A dual-stack accelerator is reached by its dual-stack name, for A and AAAA alike.
    let dns_name =
        a.dual_stack_dns_name.as_deref().filter(|_| a.ip_address_type == "DUAL_STACK").or(a.dns_name.as_deref())?;
    Some(Target { arn: &a.arn, dns_name, hosted_zone_id: global_accelerator::HOSTED_ZONE_ID })
}

/// The DNS names of every distribution and accelerator the owner has: records aliasing one are
/// the owner's.
fn owned_targets<'a>(owner: &Owner, observed: &'a Observed) -> Vec<&'a str> {
    let mut out: Vec<&str> = observed
        .cloudfront
        .distributions
        .iter()
        .filter(|d| owner.owns(&d.tags))
        .map(|d| d.domain_name.as_str())
        .collect();
    for a in observed.accelerator.accelerators.iter().filter(|a| owner.owns(&a.tags)) {
        out.extend(a.dns_name.as_deref());
        out.extend(a.dual_stack_dns_name.as_deref());
    }
    out
}

/// The edge's plan (web ACL, distribution or accelerator), then Shield and Route 53 on what it
/// keeps; their deletes go before the edge's by the services' orderings.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Plan<Step> {
    let owner = cx.owner;
    let (distribution, waf, accelerator) = match desired.map(|d| &d.edge) {
        Some(Edge::CloudFront { distribution, waf }) => (Some(distribution.as_ref()), waf.as_ref(), None),
        Some(Edge::Accelerator(a)) => (None, None, Some(a)),
        None => (None, None, None),
    };
    let mut plan: Plan<Step> = Plan::default();
    let (acl_plan, acl) = wafv2::plan_acl(waf, cx, &observed.wafv2);
    plan.extend(hold_acl_deletes(acl_plan, owner, observed).map(Step::Wafv2));
    // Only a CloudFront entry point (or a teardown) plans distributions, likewise accelerators.
    if desired.is_none() || distribution.is_some() {
        plan.extend(cloudfront::plan(distribution, cx, &observed.cloudfront, acl.as_ref()).plan.map(Step::CloudFront));
    }
    if desired.is_none() || accelerator.is_some() {
        plan.extend(global_accelerator::plan(accelerator, cx, &observed.accelerator).plan.map(Step::GlobalAccelerator));
    }
    let kept = target(owner, observed);
    let protection_name = readable(owner);
    let protection = match (desired, &kept) {
        (Some(d), Some(t)) if d.shield => {
            Some(shield::Desired { name: &protection_name, resource_arn: t.arn, user_tags: &d.user_tags })
        }
        _ => None,
    };
    plan.extend(shield::plan(protection.as_ref(), cx, &observed.protections).map(Step::Shield));
    let alias = kept.as_ref().map(|t| AliasTarget {
        dns_name: t.dns_name,
        hosted_zone_id: t.hosted_zone_id,
        evaluate_target_health: false,
    });
    let user_tags = desired.map(|d| d.user_tags.clone()).unwrap_or_default();
    let dns = desired.and_then(|d| d.dns.as_ref());
    let records = route53::plan(dns, cx, &observed.route53, alias, &owned_targets(owner, observed), &user_tags);
    plan.extend(records.plan.map(Step::Route53));
    plan
}

/// A web ACL a distribution still names cannot be deleted (WAFAssociatedItemException): its
/// delete waits until no observed distribution of the owner names it.
fn hold_acl_deletes(mut acl_plan: Plan<wafv2::Step>, owner: &Owner, observed: &Observed) -> Plan<wafv2::Step> {
    let named_by = |arn: &str| {
        observed
            .cloudfront
            .distributions
            .iter()
            .filter(|d| owner.owns(&d.tags))
            .find(|d| d.config.web_acl_id.as_deref() == Some(arn) || d.status != "Deployed")
            .map(|d| d.id.clone())
    };
    let mut held = Vec::new();
    acl_plan.steps.retain(|s| match s {
        wafv2::Step::DeleteWebAcl { arn, name, .. } => match named_by(arn) {
            Some(d) => {
                held.push(format!("distribution {d} to let go of web ACL {name} before it is deleted"));
                false
            }
            None => true,
        },
        _ => true,
    });
    acl_plan.waiting.extend(held);
    acl_plan
}

/// What still keeps the entry point from being Ready once the plan has nothing to do: its
/// edge deploying, or a referenced policy not Ready.
pub fn not_ready(desired: &Desired, observed: &Observed) -> Option<String> {
    let owner = &desired.owner;
    let deploying = match &desired.edge {
        Edge::CloudFront { .. } => cloudfront::find(owner, &observed.cloudfront)
            .filter(|d| d.status != "Deployed")
            .map(|d| format!("distribution {} is deploying to the edge ({})", d.id, d.status)),
        Edge::Accelerator(_) => global_accelerator::find(owner, &observed.accelerator)
            .filter(|a| a.status != "DEPLOYED")
            .map(|a| format!("accelerator {} is deploying ({})", a.arn, a.status)),
    };
    let policies = (!desired.policies_not_ready.is_empty())
        .then(|| format!("LoadBalancerPolicy {} to be Ready", desired.policies_not_ready.join(", ")));
    match (deploying, policies) {
        (Some(a), Some(b)) => Some(format!("{a}; waiting for {b}")),
        (Some(a), None) => Some(a),
        (None, Some(b)) => Some(format!("waiting for {b}")),
        (None, None) => None,
    }
}

pub fn status(
    desired: &Desired,
    observed: &Observed,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> GlobalEntrypointStatus {
    let owner = &desired.owner;
    let part = |type_: &str, ok: bool, why: &str, message: String| {
        condition(type_, ok, why, &message, generation, previous, now)
    };
    let kept = target(owner, observed);
    let mut status = match &desired.edge {
        Edge::CloudFront { distribution, waf } => cloudfront_status(desired, distribution, waf.as_ref(), observed),
        Edge::Accelerator(_) => accelerator_status(owner, observed),
    };
    status.shield_protection_id = kept
        .as_ref()
        .filter(|_| desired.shield)
        .and_then(|t| shield::of(&observed.protections, t.arn))
        .map(|p| p.id.clone());
    status.records = match (&desired.dns, &kept) {
        (Some(d), Some(t)) => crate::dns::record_statuses(d, &observed.route53, t.dns_name),
        _ => Vec::new(),
    };
    let deployed = match (&desired.edge, &status) {
        (Edge::CloudFront { .. }, GlobalEntrypointStatus { distribution_status: Some(s), .. }) => part(
            DEPLOYED,
            s == "Deployed",
            if s == "Deployed" { "Deployed" } else { reason::PROGRESSING },
            format!("distribution is {s}"),
        ),
        (Edge::Accelerator(_), GlobalEntrypointStatus { accelerator_status: Some(s), .. }) => part(
            DEPLOYED,
            s == "DEPLOYED",
            if s == "DEPLOYED" { "Deployed" } else { reason::PROGRESSING },
            format!("accelerator is {s}"),
        ),
        _ => part(DEPLOYED, false, reason::PROGRESSING, "the edge does not exist yet".into()),
    };
    let waf = match &desired.edge {
        Edge::Accelerator(_) => {
            part(WAF_ASSOCIATED, false, reason::NOT_REQUESTED, "Global Accelerator takes no web ACL".into())
        }
        Edge::CloudFront { waf: None, .. } => {
            part(WAF_ASSOCIATED, false, reason::NOT_REQUESTED, "spec.cloudFront.waf is not set".into())
        }
        Edge::CloudFront { .. } => {
            let named = cloudfront::find(owner, &observed.cloudfront).and_then(|d| d.config.web_acl_id.clone());
            match &status.web_acl_arn {
                Some(arn) if named.as_ref() == Some(arn) => {
                    part(WAF_ASSOCIATED, true, "Associated", format!("web ACL {arn} is the distribution's"))
                }
                _ => {
                    part(WAF_ASSOCIATED, false, reason::PROGRESSING, "the web ACL is not the distribution's yet".into())
                }
            }
        }
    };
    let dns = match &desired.dns {
        None => part(DNS_PUBLISHED, false, reason::NOT_REQUESTED, "spec.dns is not set".into()),
        Some(d) if status.records.len() == d.record_types.len() => {
            part(DNS_PUBLISHED, true, "Published", format!("{} {} published", d.name, d.record_types.join(" and ")))
        }
        Some(d) => part(DNS_PUBLISHED, false, reason::PROGRESSING, format!("{} is not published yet", d.name)),
    };
    status.conditions = vec![deployed, waf, dns];
    status
}

fn cloudfront_status(
    desired: &Desired,
    distribution: &cloudfront::Desired,
    waf: Option<&wafv2::Desired>,
    observed: &Observed,
) -> GlobalEntrypointStatus {
    let owner = &desired.owner;
    let d = cloudfront::find(owner, &observed.cloudfront);
    let origin_access_controls = distribution
        .origin_access_controls
        .iter()
        .filter_map(|want| {
            let oac = observed.cloudfront.origin_access_controls.iter().find(|o| o.config.name == want.config.name)?;
            Some(NamedId { name: want.origin.clone(), id: oac.id.clone() })
        })
        .collect();
    let web_acl_arn = match waf.map(|w| &w.acl) {
        Some(DesiredAcl::Existing(arn)) => Some(arn.clone()),
        Some(DesiredAcl::Owned { .. }) => wafv2::find(owner, &observed.wafv2).map(|a| a.arn.clone()),
        None => None,
    };
    GlobalEntrypointStatus {
        domain_name: d.map(|d| d.domain_name.clone()),
        distribution_id: d.map(|d| d.id.clone()),
        distribution_arn: d.map(|d| d.arn.clone()),
        distribution_status: d.map(|d| d.status.clone()),
        origin_access_controls,
        web_acl_arn,
        ..Default::default()
    }
}

fn accelerator_status(owner: &Owner, observed: &Observed) -> GlobalEntrypointStatus {
    let o = &observed.accelerator;
    let Some(a) = global_accelerator::find(owner, o) else { return GlobalEntrypointStatus::default() };
    let listeners = o
        .listeners
        .iter()
        .filter(|l| l.accelerator_arn == a.arn)
        .map(|l| AcceleratorListenerStatus {
            ports: global_accelerator::ports_label(&l.port_ranges),
            arn: l.arn.clone(),
            endpoint_groups: o
                .endpoint_groups
                .iter()
                .filter(|g| g.listener_arn == l.arn)
                .map(|g| EndpointGroupStatus {
                    region: g.region.clone(),
                    arn: g.arn.clone(),
                    endpoint_id: g.endpoints.first().map(|e| e.id.clone()),
                })
                .collect(),
        })
        .collect();
    GlobalEntrypointStatus {
        domain_name: a.dns_name.clone(),
        accelerator_arn: Some(a.arn.clone()),
        accelerator_status: Some(a.status.clone()),
        dual_stack_dns_name: a.dual_stack_dns_name.clone(),
        static_ips: a.ip_addresses.clone(),
        listeners,
        ..Default::default()
    }
}

pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let mut out = cloudfront::inventory(owner, &observed.cloudfront);
    out.extend(global_accelerator::inventory(owner, &observed.accelerator));
    out.extend(wafv2::inventory(owner, &observed.wafv2));
    out.extend(shield::inventory(owner, &observed.protections));
    out.extend(route53::inventory(owner, &observed.route53));
    out
}

pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    cloudfront::owns_any(owner, &observed.cloudfront)
        || global_accelerator::owns_any(owner, &observed.accelerator)
        || wafv2::owns_any(owner, &observed.wafv2)
        || shield::owns_any(owner, &observed.protections)
        || route53::owns_any(owner, &observed.route53)
}
