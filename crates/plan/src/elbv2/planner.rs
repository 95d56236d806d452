//! Matching an owner's load balancing against the desired one (by ownership tags) and planning
//! the difference. Teardown is the same planner with nothing desired.

use std::collections::{BTreeMap, BTreeSet};

use super::desired::{Desired, DesiredAction, GENEVE_PORT, HTTPS_REDIRECT_PORT, components};
use super::observed::{Listener, LoadBalancer, Observed, ObservedAction, Rule};
use super::step::{Action, Step};
use crate::context::Context;
use crate::owner::{Matched, Rank, Tags, component, match_ranked, missing_tags};
use crate::plan::{Plan, Ref};

struct Planner<'a> {
    cx: &'a Context<'a>,
    user_tags: Tags,
    plan: Plan<Step>,
}

impl Planner<'_> {
    fn push(&mut self, step: Step) {
        self.plan.steps.push(step);
    }
    fn tags(&self, component: &str) -> Tags {
        self.cx.owner.tags(component, &self.user_tags)
    }
    fn check_tags(&mut self, component: &str, arn: &str, actual: &Tags) {
        let missing = missing_tags(&self.tags(component), actual);
        if !missing.is_empty() {
            self.push(Step::SetTags { arn: arn.into(), component: component.into(), tags: missing });
        }
    }
}

/// A plan and the replacements it makes (type or scheme changed), which the kind announces.
pub struct Planned {
    pub plan: Plan<Step>,
    pub replacements: Vec<String>,
}

fn ranked<'a, T>(
    cx: &Context,
    items: &'a [T],
    tags: impl Fn(&T) -> &Tags,
    id: impl Fn(&T) -> &str,
    wanted: impl Fn(&str, &T) -> bool,
) -> Matched<'a, T> {
    let named = |t: &T| component(tags(t)).is_some_and(|c| cx.named(c, id(t)));
    match_ranked(items, cx, &tags, &id, wanted, |t| Rank { named: named(t), ..Rank::default() })
}

fn load_balancers<'a>(desired: Option<&Desired>, cx: &Context, observed: &'a Observed) -> Matched<'a, LoadBalancer> {
    ranked(
        cx,
        &observed.load_balancers,
        |l| &l.tags,
        |l| &l.arn,
        |c, l| {
            c == components::LOAD_BALANCER
                && desired.is_some_and(|d| d.load_balancer.same_kind(&l.lb_type, &l.scheme) && l.state != "failed")
        },
    )
}

/// The load balancer kept for `desired`, if one is observed: what the services that attach to a
/// load balancer (WAF, Shield, DNS) attach to.
pub fn kept<'a>(desired: Option<&Desired>, cx: &Context, observed: &'a Observed) -> Option<&'a LoadBalancer> {
    load_balancers(desired, cx, observed).kept.get(components::LOAD_BALANCER).copied().filter(|_| desired.is_some())
}

fn action_matches(want: &Action, have: &ObservedAction) -> bool {
    match (want, have) {
        (Action::Forward(r), ObservedAction::Forward(arn)) => r.id() == Some(arn.as_str()),
        (Action::RedirectToHttps, ObservedAction::Redirect { protocol, port, status_code }) => {
            protocol == "HTTPS" && port == HTTPS_REDIRECT_PORT && status_code == "HTTP_301"
        }
        _ => false,
    }
}

/// The steps that take `observed` to `desired` (in `security_group`); with `desired = None`, the
/// teardown. `keep_for_now` says why a load balancer that is no longer wanted must stay a while
/// (DNS still points at it).
pub fn plan(
    desired: Option<&Desired>,
    cx: &Context,
    observed: &Observed,
    security_group: Option<Ref>,
    keep_for_now: &dyn Fn(&LoadBalancer) -> Option<String>,
) -> Planned {
    let mut p =
        Planner { cx, user_tags: desired.map(|d| d.user_tags.clone()).unwrap_or_default(), plan: Plan::default() };
    let mut replacements = Vec::new();

    // Target groups: protocol, port, target type and VPC are immutable, so a change replaces.
    let want_tgs: BTreeMap<&str, &super::DesiredTargetGroup> =
        desired.map(|d| d.target_groups.iter().map(|t| (t.component.as_str(), t)).collect()).unwrap_or_default();
    let tgs = ranked(
        cx,
        &observed.target_groups,
        |t| &t.tags,
        |t| &t.arn,
        |c, t| {
            want_tgs.get(c).is_some_and(|w| {
                w.protocol == t.protocol
                    && (w.port == GENEVE_PORT && w.protocol == "GENEVE" || Some(w.port) == t.port)
                    && w.target_type == t.target_type
                    && desired.is_some_and(|d| d.vpc_id == t.vpc_id)
            })
        },
    );
    let mut tg_refs: BTreeMap<String, Ref> = BTreeMap::new();
    if let Some(d) = desired {
        for want in &d.target_groups {
            let r = match tgs.kept.get(&want.component) {
                Some(t) => {
                    p.check_tags(&want.component, &t.arn, &t.tags);
                    if !want.health.satisfied_by(&t.health) {
                        p.push(Step::ModifyTargetGroupHealthCheck { arn: t.arn.clone(), health: want.health.clone() });
                    }
                    Ref::Id(t.arn.clone())
                }
                None => {
                    p.push(Step::CreateTargetGroup {
                        target_group: want.clone(),
                        vpc_id: d.vpc_id.clone(),
                        tags: p.tags(&want.component),
                    });
                    Ref::Created(want.component.clone())
                }
            };
            tg_refs.insert(want.component.clone(), r);
        }
    }

    // Load balancer: type and scheme are immutable, so a change replaces it.
    let lbs = load_balancers(desired, cx, observed);
    let lb = lbs.kept.get(components::LOAD_BALANCER).copied();
    if let Some(d) = desired {
        for old in lbs.unwanted.iter().filter(|l| component(&l.tags) == Some(components::LOAD_BALANCER)) {
            if !d.load_balancer.same_kind(&old.lb_type, &old.scheme) {
                replacements.push(format!(
                    "load balancer {} is {} {} but the spec asks for {} {}: replacing it",
                    old.name, old.scheme, old.lb_type, d.load_balancer.scheme, d.load_balancer.lb_type
                ));
            }
        }
    }
    let lb_ref = match (desired, lb) {
        (None, _) => None,
        (Some(d), Some(l)) => {
            p.check_tags(components::LOAD_BALANCER, &l.arn, &l.tags);
            let mut have = l.subnet_ids.clone();
            have.sort();
            let mut want = d.subnet_ids.clone();
            want.sort();
            // Gateway load balancers cannot change subnets in place.
            if have != want && d.load_balancer.lb_type != "gateway" {
                p.push(Step::SetSubnets { arn: l.arn.clone(), subnet_ids: want });
            }
            if !l.ip_address_type.is_empty() && l.ip_address_type != d.load_balancer.ip_address_type {
                p.push(Step::SetIpAddressType {
                    arn: l.arn.clone(),
                    ip_address_type: d.load_balancer.ip_address_type.clone(),
                });
            }
            let changed: BTreeMap<String, String> = d
                .load_balancer
                .attributes
                .iter()
                .filter(|(k, v)| l.attributes.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !changed.is_empty() {
                p.push(Step::SetLoadBalancerAttributes { load_balancer: Ref::Id(l.arn.clone()), attributes: changed });
            }
            Some(Ref::Id(l.arn.clone()))
        }
        (Some(d), None) => {
            let c = components::LOAD_BALANCER;
            p.push(Step::CreateLoadBalancer {
                component: c.into(),
                load_balancer: d.load_balancer.clone(),
                subnet_ids: d.subnet_ids.clone(),
                security_group,
                tags: p.tags(c),
            });
            let r = Ref::Created(c.into());
            if !d.load_balancer.attributes.is_empty() {
                p.push(Step::SetLoadBalancerAttributes {
                    load_balancer: r.clone(),
                    attributes: d.load_balancer.attributes.clone(),
                });
            }
            Some(r)
        }
    };

    // Listeners and rules, on the kept load balancer only (a deleted one takes its own along).
    let lb_arn = lb.map(|l| l.arn.as_str());
    let on_kept_lb: Vec<Listener> =
        observed.listeners.iter().filter(|l| Some(l.load_balancer_arn.as_str()) == lb_arn).cloned().collect();
    let want_listeners: BTreeSet<&str> =
        desired.map(|d| d.listeners.iter().map(|l| l.component.as_str()).collect()).unwrap_or_default();
    let listeners = ranked(cx, &on_kept_lb, |l| &l.tags, |l| &l.arn, |c, _| want_listeners.contains(c));
    let kept_listener_arns: BTreeSet<&str> = listeners.kept.values().map(|l| l.arn.as_str()).collect();
    let on_kept_listeners: Vec<Rule> =
        observed.rules.iter().filter(|r| kept_listener_arns.contains(r.listener_arn.as_str())).cloned().collect();
    let want_rules: BTreeMap<&str, &str> = desired
        .map(|d| {
            d.listeners
                .iter()
                .flat_map(|l| l.rules.iter().map(move |r| (r.component.as_str(), l.component.as_str())))
                .collect()
        })
        .unwrap_or_default();
    let rules = ranked(
        cx,
        &on_kept_listeners,
        |r| &r.tags,
        |r| &r.arn,
        |c, r| want_rules.get(c).is_some_and(|l| listeners.kept.get(*l).is_some_and(|kept| kept.arn == r.listener_arn)),
    );
    if let (Some(d), Some(lb_ref)) = (desired, &lb_ref) {
        let resolve_action = |a: &DesiredAction| match a {
            DesiredAction::Forward(tg) => Action::Forward(tg_refs[tg].clone()),
            DesiredAction::RedirectToHttps => Action::RedirectToHttps,
        };
        for want in &d.listeners {
            let action = resolve_action(&want.action);
            let listener_ref = match listeners.kept.get(&want.component) {
                Some(l) => {
                    p.check_tags(&want.component, &l.arn, &l.tags);
                    if l.protocol != want.protocol
                        || l.certificate_arn != want.certificate_arn
                        || !action_matches(&action, &l.default_action)
                    {
                        p.push(Step::ModifyListener {
                            arn: l.arn.clone(),
                            protocol: want.protocol.clone(),
                            certificate_arn: want.certificate_arn.clone(),
                            action,
                        });
                    }
                    Ref::Id(l.arn.clone())
                }
                None => {
                    p.push(Step::CreateListener {
                        component: want.component.clone(),
                        load_balancer: lb_ref.clone(),
                        port: want.port,
                        protocol: want.protocol.clone(),
                        certificate_arn: want.certificate_arn.clone(),
                        action,
                        tags: p.tags(&want.component),
                    });
                    Ref::Created(want.component.clone())
                }
            };
            for rule in &want.rules {
                let target_group = tg_refs[&rule.target_group].clone();
                match rules.kept.get(&rule.component) {
                    Some(r) => {
                        p.check_tags(&rule.component, &r.arn, &r.tags);
                        let same = r.path_patterns == rule.path_patterns
                            && r.host_headers == rule.host_headers
                            && action_matches(&Action::Forward(target_group.clone()), &r.action);
                        if !same {
                            p.push(Step::ModifyRule {
                                arn: r.arn.clone(),
                                path_patterns: rule.path_patterns.clone(),
                                host_headers: rule.host_headers.clone(),
                                target_group,
                            });
                        }
                    }
                    None => p.push(Step::CreateRule {
                        component: rule.component.clone(),
                        listener: listener_ref.clone(),
                        priority: rule.priority,
                        path_patterns: rule.path_patterns.clone(),
                        host_headers: rule.host_headers.clone(),
                        target_group,
                        tags: p.tags(&rule.component),
                    }),
                }
            }
        }
    }

    // AWS-only: deleted in reverse dependency order (the ordering sees to it).
    for r in &rules.unwanted {
        p.push(Step::DeleteRule { arn: r.arn.clone() });
    }
    for l in &listeners.unwanted {
        p.push(Step::DeleteListener { arn: l.arn.clone() });
    }
    for l in &lbs.unwanted {
        if let Some(why) = keep_for_now(l) {
            p.plan.waiting.push(why);
            continue;
        }
        if l.attributes.get("deletion_protection.enabled").map(String::as_str) == Some("true") {
            p.push(Step::SetLoadBalancerAttributes {
                load_balancer: Ref::Id(l.arn.clone()),
                attributes: BTreeMap::from([("deletion_protection.enabled".into(), "false".into())]),
            });
        }
        p.push(Step::DeleteLoadBalancer { arn: l.arn.clone() });
    }
    for t in &tgs.unwanted {
        p.push(Step::DeleteTargetGroup { arn: t.arn.clone() });
    }
    Planned { plan: p.plan, replacements }
}
