//! LoadBalancerPolicy: validate the spec, build the desired model from the spec and the VpcTier's
//! placement, and compose the plans of the services it uses: a security group, ELBv2, a REGIONAL
//! WAFv2 web ACL and its association, Shield and Route 53. Teardown is the same with nothing
//! desired.

mod absorb;
pub mod alarms;
mod status;
mod validate;

use std::collections::{BTreeMap, BTreeSet};

use securecart_api::{IpAddressType, LoadBalancerPolicySpec, LoadBalancerType, Protocol, Scheme};
use serde::Serialize;

pub use absorb::{absorb, foldable};
pub use status::status;
pub use validate::{placement, validate};

use crate::InvalidSpec;
use crate::cloudwatch;
use crate::context::Context;
use crate::elbv2::{self, DesiredAction, DesiredListener, DesiredRule, DesiredTargetGroup, GENEVE_PORT, components};
use crate::intent::short_hash;
use crate::owner::{Owner, Tags};
use crate::plan::Plan;
use crate::route53::{self, AliasTarget, DesiredDns, ZoneRef};
use crate::security_group::{self, DesiredGroup, Holder, Ingress, SecurityGroup};
use crate::shield::{self, Protection};
use crate::step::Step;
use crate::wafv2::{self, Attachment, Scope};

/// The component of the load balancer's security group.
pub const SECURITY_GROUP: &str = "sg";

/// Where the load balancer goes, read from its VpcTier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub region: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub security_groups: Vec<SecurityGroup>,
    pub elbv2: elbv2::Observed,
    pub wafv2: wafv2::Observed,
    pub protections: Vec<Protection>,
    pub route53: route53::Observed,
    pub cloudwatch: cloudwatch::Observed,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub user_tags: Tags,
    pub placement: Placement,
    pub security_group: Option<DesiredGroup>,
    pub elbv2: elbv2::Desired,
    pub waf: Option<wafv2::Desired>,
    pub shield: bool,
    pub dns: Option<DesiredDns>,
    pub alarms: Option<alarms::DesiredAlarms>,
}

fn readable(owner: &Owner) -> String {
    format!("{}-{}", owner.namespace, owner.name)
}

fn lb_type(spec: &LoadBalancerPolicySpec) -> &'static str {
    match spec.lb_type {
        LoadBalancerType::Application => "application",
        LoadBalancerType::Network => "network",
        LoadBalancerType::Gateway => "gateway",
    }
}

/// Gateway load balancers have no scheme: they are reached through endpoints, not addresses.
fn scheme(spec: &LoadBalancerPolicySpec) -> &'static str {
    match (spec.lb_type, spec.scheme) {
        (LoadBalancerType::Gateway, _) => "",
        (_, Scheme::InternetFacing) => "internet-facing",
        (_, Scheme::Internal) => "internal",
    }
}

/// The load balancer's name in AWS: type and scheme are in it, so a replacement never collides
/// with its predecessor, and the adapter finds it by name.
pub fn load_balancer_name(spec: &LoadBalancerPolicySpec, owner: &Owner) -> String {
    elbv2::elb_name(&readable(owner), &[&owner.uid, lb_type(spec), scheme(spec)])
}

fn target_group_name(spec: &securecart_api::TargetGroup, owner: &Owner, vpc_id: &str) -> String {
    let port = spec.port.unwrap_or(GENEVE_PORT).to_string();
    elbv2::elb_name(
        &format!("{}-{}", readable(owner), spec.name),
        &[&owner.uid, &spec.name, spec.protocol.as_str(), &port, spec.target_type.as_str(), vpc_id],
    )
}

/// The target groups' names in AWS, in `vpc_id`.
pub fn target_group_names(spec: &LoadBalancerPolicySpec, owner: &Owner, vpc_id: &str) -> Vec<String> {
    spec.target_groups.iter().map(|t| target_group_name(t, owner, vpc_id)).collect()
}

/// The zone and record name the spec publishes in, for observation (also at teardown).
pub fn dns_target(spec: &LoadBalancerPolicySpec) -> Option<(ZoneRef, String)> {
    crate::dns::target(spec.dns.as_ref()?)
}

fn security_group(spec: &LoadBalancerPolicySpec, owner: &Owner, vpc_id: &str) -> Option<DesiredGroup> {
    (spec.lb_type != LoadBalancerType::Gateway).then(|| {
        let mut ingress = BTreeSet::new();
        for l in &spec.listeners {
            let (Some(port), Some(protocol)) = (l.port, l.protocol) else { continue };
            let protocols: &[&str] = match protocol {
                Protocol::Udp => &["udp"],
                Protocol::TcpUdp => &["tcp", "udp"],
                _ => &["tcp"],
            };
            for p in protocols {
                for cidr in &spec.allowed_cidrs {
                    ingress.insert(Ingress { protocol: (*p).into(), port, cidr: cidr.clone() });
                }
            }
        }
        DesiredGroup {
            component: SECURITY_GROUP.into(),
            name: format!("{}-lb-{}", readable(owner), short_hash(&[&owner.uid])),
            description: "Load balancer security group managed by securecart".into(),
            vpc_id: vpc_id.into(),
            ingress,
            user_tags: spec.tags.clone(),
        }
    })
}

fn load_balancing(spec: &LoadBalancerPolicySpec, owner: &Owner, placement: &Placement) -> elbv2::Desired {
    let mut attributes = BTreeMap::new();
    if let Some(a) = &spec.attributes {
        if let Some(v) = a.deletion_protection {
            attributes.insert("deletion_protection.enabled".into(), v.to_string());
        }
        if let Some(v) = a.idle_timeout_seconds {
            attributes.insert("idle_timeout.timeout_seconds".into(), v.to_string());
        }
        if let Some(v) = a.cross_zone_load_balancing {
            attributes.insert("load_balancing.cross_zone.enabled".into(), v.to_string());
        }
    }
    let load_balancer = elbv2::DesiredLoadBalancer {
        name: load_balancer_name(spec, owner),
        lb_type: lb_type(spec).into(),
        scheme: scheme(spec).into(),
        ip_address_type: match spec.ip_address_type {
            IpAddressType::Ipv4 => "ipv4",
            IpAddressType::Dualstack => "dualstack",
        }
        .into(),
        attributes,
    };
    let target_groups = spec
        .target_groups
        .iter()
        .map(|tg| {
            let hc = tg.health_check.clone().unwrap_or_default();
            DesiredTargetGroup {
                component: components::target_group(&tg.name),
                name: tg.name.clone(),
                aws_name: target_group_name(tg, owner, &placement.vpc_id),
                protocol: tg.protocol.as_str().into(),
                port: tg.port.unwrap_or(GENEVE_PORT),
                target_type: tg.target_type.as_str().into(),
                health: elbv2::HealthSettings {
                    path: hc.path,
                    interval_seconds: hc.interval_seconds,
                    healthy_threshold: hc.healthy_threshold,
                    unhealthy_threshold: hc.unhealthy_threshold,
                    matcher: hc.matcher,
                },
            }
        })
        .collect();
    let listeners = spec
        .listeners
        .iter()
        .map(|l| DesiredListener {
            component: components::listener(l.port),
            port: l.port,
            protocol: l.protocol.map(|p| p.as_str().to_string()),
            certificate_arn: l.certificate_arn.clone(),
            action: match &l.default_target_group {
                Some(tg) if !l.redirect_to_https => DesiredAction::Forward(components::target_group(tg)),
                _ => DesiredAction::RedirectToHttps,
            },
            rules: l
                .rules
                .iter()
                .map(|r| DesiredRule {
                    component: components::rule(l.port, r.priority),
                    priority: r.priority,
                    path_patterns: r.path_patterns.clone(),
                    host_headers: r.host_headers.clone(),
                    target_group: components::target_group(&r.target_group),
                })
                .collect(),
        })
        .collect();
    elbv2::Desired {
        vpc_id: placement.vpc_id.clone(),
        subnet_ids: placement.subnet_ids.clone(),
        load_balancer,
        target_groups,
        listeners,
        user_tags: spec.tags.clone(),
    }
}

fn web_acl(spec: &LoadBalancerPolicySpec, owner: &Owner) -> Option<wafv2::Desired> {
    spec.waf.as_ref().map(|w| wafv2::desired_of(w, Scope::Regional, &readable(owner), owner, &spec.tags))
}

fn dns(spec: &LoadBalancerPolicySpec, region: &str) -> Result<Option<DesiredDns>, InvalidSpec> {
    let Some(d) = &spec.dns else { return Ok(None) };
    crate::dns::desired(d, region, spec.ip_address_type == IpAddressType::Dualstack).map(Some)
}

pub fn desired(spec: &LoadBalancerPolicySpec, owner: &Owner, placement: Placement) -> Result<Desired, InvalidSpec> {
    validate(spec)?;
    Ok(Desired {
        owner: owner.clone(),
        user_tags: spec.tags.clone(),
        security_group: security_group(spec, owner, &placement.vpc_id),
        elbv2: load_balancing(spec, owner, &placement),
        waf: web_acl(spec, owner),
        shield: spec.shield.as_ref().is_some_and(|s| s.enabled),
        dns: dns(spec, &placement.region)?,
        alarms: alarms::desired(spec, owner),
        placement,
    })
}

/// A plan and the replacements it makes (type or scheme changed), which the controller announces.
pub struct Planned {
    pub plan: Plan<Step>,
    pub replacements: Vec<String>,
}

/// The steps that take `observed` to `desired`; with `desired = None`, the teardown. Security
/// group -> target groups (and the web ACL) -> load balancer -> listeners and rules; once the load
/// balancer exists, the WAF association, Shield, the health check and the records; deletes in
/// reverse, a replaced load balancer once no record aliases it, a security group once no load
/// balancer holds it.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Planned {
    let owner = cx.owner;
    let user_tags = desired.map(|d| d.user_tags.clone()).unwrap_or_default();
    let lb_desired = desired.map(|d| &d.elbv2);
    let live = elbv2::kept(lb_desired, cx, &observed.elbv2);
    let owned_lbs: Vec<&elbv2::LoadBalancer> = observed.elbv2.owned_load_balancers(owner).collect();
    let holders: Vec<Holder> = owned_lbs
        .iter()
        .map(|l| Holder {
            what: "load balancer",
            id: &l.name,
            groups: &l.security_group_ids,
            kept: live.is_some_and(|k| k.arn == l.arn),
        })
        .collect();
    let sg =
        security_group::plan(desired.and_then(|d| d.security_group.as_ref()), cx, &observed.security_groups, &holders);
    let (acl_plan, acl) = wafv2::plan_acl(desired.and_then(|d| d.waf.as_ref()), cx, &observed.wafv2);

    // What needs the load balancer to exist (its ARN and DNS name): WAF, Shield, health check, records.
    let mut waiting = Plan::<Step>::default();
    if desired.is_some() && live.is_none() {
        waiting.waiting.push("the load balancer to be created before WAF, Shield and DNS".into());
    }
    let resources: Vec<&str> = owned_lbs.iter().map(|l| l.arn.as_str()).collect();
    let attachment = live.map(|l| Attachment::Regional {
        resource_arn: &l.arn,
        name: &l.name,
        state: &l.state,
        active: l.state == "active",
    });
    let associations = wafv2::plan_associations(cx, acl.as_ref(), attachment, &resources, &observed.wafv2);
    let protection = live.filter(|_| desired.is_some_and(|d| d.shield)).map(|l| shield::Desired {
        name: &l.name,
        resource_arn: &l.arn,
        user_tags: &user_tags,
    });
    let protections = shield::plan(protection.as_ref(), cx, &observed.protections);
    let target = live.map(|l| AliasTarget {
        dns_name: &l.dns_name,
        hosted_zone_id: &l.canonical_hosted_zone_id,
        evaluate_target_health: true,
    });
    let hosts: Vec<&str> = owned_lbs.iter().map(|l| l.dns_name.as_str()).collect();
    let records =
        route53::plan(desired.and_then(|d| d.dns.as_ref()), cx, &observed.route53, target, &hosts, &user_tags);
    // A replaced load balancer stays until the records move to its successor: DNS never points
    // at nothing, and the records stay recognisably this owner's.
    let keep_for_now = |l: &elbv2::LoadBalancer| {
        records.aliasing(&l.dns_name).map(|r| {
            format!("record {} {} to move off load balancer {} before it is deleted", r.name, r.record_type, l.name)
        })
    };
    let lb = elbv2::plan(lb_desired, cx, &observed.elbv2, sg.group.clone(), &keep_for_now);
    let alarm_plan = plan_alarms(desired, cx, observed, live, &user_tags);

    let mut plan = sg.keep.map(Step::SecurityGroup);
    plan.extend(lb.plan.map(Step::Elbv2));
    plan.extend(acl_plan.map(Step::Wafv2));
    plan.extend(waiting);
    plan.extend(associations.map(Step::Wafv2));
    plan.extend(protections.map(Step::Shield));
    plan.extend(records.plan.map(Step::Route53));
    plan.extend(alarm_plan.map(Step::CloudWatch));
    plan.extend(sg.remove.map(Step::SecurityGroup));
    Planned { plan, replacements: lb.replacements }
}

/// The alarms `desired` asks for, on the kept load balancer, its target groups (the owned ones of
/// the desired names) and the owner's health check. An alarm whose target does not exist yet is
/// neither written nor deleted: it waits.
fn plan_alarms(
    desired: Option<&Desired>,
    cx: &Context,
    observed: &Observed,
    live: Option<&elbv2::LoadBalancer>,
    user_tags: &Tags,
) -> Plan<cloudwatch::Step> {
    let home = desired.map(|d| d.placement.region.as_str()).unwrap_or_default();
    let Some((d, want)) = desired.and_then(|d| Some((d, d.alarms.as_ref()?))) else {
        return cloudwatch::plan(&[], cx, home, &observed.cloudwatch, user_tags, &[]);
    };
    let owner = cx.owner;
    let target_groups = d
        .elbv2
        .target_groups
        .iter()
        .filter_map(|t| {
            let arn = observed.elbv2.target_groups.iter().find(|o| {
                o.name == t.aws_name
                    && owner.owns(&o.tags)
                    && crate::owner::component(&o.tags) == Some(t.component.as_str())
            })?;
            Some((t.name.as_str(), arn.arn.as_str()))
        })
        .collect();
    let health_check_id = route53::find_health_check(owner, &observed.route53);
    let targets = alarms::Targets {
        lb_type: &d.elbv2.load_balancer.lb_type,
        load_balancer_arn: live.map(|l| l.arn.as_str()),
        target_groups,
        health_check_id: health_check_id.as_deref(),
    };
    let (ready, waiting) = alarms::concrete(want, home, &targets);
    let held: Vec<String> = want.alarms.iter().map(|a| a.name.clone()).collect();
    let mut p = cloudwatch::plan(&ready, cx, home, &observed.cloudwatch, user_tags, &held);
    p.waiting.extend(waiting);
    p
}

/// (component, ID) of everything the owner owns in `observed`.
pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let mut out = security_group::inventory(owner, &observed.security_groups);
    out.extend(observed.elbv2.inventory(owner));
    out.extend(wafv2::inventory(owner, &observed.wafv2));
    out.extend(shield::inventory(owner, &observed.protections));
    out.extend(route53::inventory(owner, &observed.route53));
    out.extend(cloudwatch::inventory(owner, &observed.cloudwatch));
    out
}

/// True when `observed` still holds anything this owner owns (teardown is done when false).
pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    security_group::owns_any(owner, &observed.security_groups)
        || observed.elbv2.owns_any(owner)
        || wafv2::owns_any(owner, &observed.wafv2)
        || shield::owns_any(owner, &observed.protections)
        || route53::owns_any(owner, &observed.route53)
        || cloudwatch::owns_any(owner, &observed.cloudwatch)
}
