//! Matching an owner's accelerator, its listeners and their endpoint groups against the desired
//! ones. Teardown (nothing desired, or an accelerator beyond the one kept) is: endpoint groups,
//! listeners, disable, wait until deployed disabled, delete, as AWS refuses any other order.

use super::step::Step;
use super::{
    Accelerator, Desired, DesiredEndpointGroup, DesiredListener, EndpointConfig, EndpointGroup, HealthCheck, Listener,
    Observed, components, listener_key,
};
use crate::context::Context;
use crate::owner::{Owner, missing_tags};
use crate::plan::{Plan, Ref};

pub struct Planned {
    pub plan: Plan<Step>,
    /// The kept accelerator's ARN, or the create's reference.
    pub accelerator: Option<Ref>,
}

pub const DEPLOYED: &str = "DEPLOYED";

/// The owner's accelerators, the one to keep first: the one the status names, then an enabled
/// one (a duplicate being torn down is disabled), then the one with more listeners (not an
/// empty twin of a lost create), then the lowest ARN (fresh twins: random, but deterministic).
fn ranked<'a>(cx: Option<&Context>, owner: &Owner, observed: &'a Observed) -> Vec<&'a Accelerator> {
    let mut owned: Vec<&Accelerator> = observed.accelerators.iter().filter(|a| owner.owns(&a.tags)).collect();
    let named = |a: &Accelerator| cx.is_some_and(|cx| cx.named(components::ACCELERATOR, &a.arn));
    let listeners = |a: &Accelerator| observed.listeners.iter().filter(|l| l.accelerator_arn == a.arn).count();
    owned.sort_by_key(|a| (!named(a), !a.enabled, std::cmp::Reverse(listeners(a)), a.arn.clone()));
    owned
}

/// The owner's accelerator, if observed: the one the planner keeps when the status names none.
pub fn find<'a>(owner: &Owner, observed: &'a Observed) -> Option<&'a Accelerator> {
    ranked(None, owner, observed).into_iter().next()
}

/// Component -> ARN of the owner's accelerators, and of the listeners and endpoint groups of the
/// one it keeps (those carry no tags: they are the accelerator's).
pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        ranked(None, owner, observed).iter().map(|a| (components::ACCELERATOR.to_string(), a.arn.clone())).collect();
    if let Some(a) = find(owner, observed) {
        for l in observed.listeners.iter().filter(|l| l.accelerator_arn == a.arn) {
            out.push((components::listener(&l.protocol, &l.port_ranges), l.arn.clone()));
            for g in observed.endpoint_groups.iter().filter(|g| g.listener_arn == l.arn) {
                out.push((components::endpoint_group(&l.protocol, &l.port_ranges, &g.region), g.arn.clone()));
            }
        }
    }
    out
}

pub fn owns_any(owner: &Owner, observed: &Observed) -> bool {
    observed.accelerators.iter().any(|a| owner.owns(&a.tags))
}

/// Everything the owner's accelerator needs; with nothing desired, the teardown.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Planned {
    let mut plan = Plan::default();
    let owned = ranked(Some(cx), cx.owner, observed);
    let kept = desired.and(owned.first().copied());
    let accelerator = desired.map(|d| match kept {
        Some(a) => {
            update_accelerator(d, cx, a, &mut plan);
            let listeners: Vec<&Listener> = observed.listeners.iter().filter(|l| l.accelerator_arn == a.arn).collect();
            plan_listeners(d, &Ref::Id(a.arn.clone()), &listeners, observed, &mut plan);
            Ref::Id(a.arn.clone())
        }
        None => {
            plan.steps.push(Step::CreateAccelerator {
                component: components::ACCELERATOR.into(),
                name: d.name.clone(),
                ip_address_type: d.ip_address_type.clone(),
                tags: cx.owner.tags(components::ACCELERATOR, &d.user_tags),
            });
            let created = Ref::Created(components::ACCELERATOR.into());
            plan_listeners(d, &created, &[], observed, &mut plan);
            created
        }
    });
    for a in owned.iter().filter(|a| kept.is_none_or(|k| k.arn != a.arn)) {
        tear_down(a, observed, &mut plan);
    }
    Planned { plan, accelerator }
}

fn update_accelerator(d: &Desired, cx: &Context, a: &Accelerator, plan: &mut Plan<Step>) {
    if a.name != d.name || a.ip_address_type != d.ip_address_type || !a.enabled {
        plan.steps.push(Step::UpdateAccelerator {
            arn: a.arn.clone(),
            name: d.name.clone(),
            ip_address_type: d.ip_address_type.clone(),
            enabled: true,
        });
    }
    let missing = missing_tags(&cx.owner.tags(components::ACCELERATOR, &d.user_tags), &a.tags);
    if !missing.is_empty() {
        plan.steps.push(Step::TagAccelerator { arn: a.arn.clone(), tags: missing });
    }
}

/// Endpoint groups, then listeners, then disable; the delete itself once AWS takes it: disabled,
/// deployed so, and without listeners (it refuses it otherwise).
fn tear_down(a: &Accelerator, observed: &Observed, plan: &mut Plan<Step>) {
    let listeners: Vec<&Listener> = observed.listeners.iter().filter(|l| l.accelerator_arn == a.arn).collect();
    for l in &listeners {
        delete_listener(l, observed, plan);
    }
    if a.enabled {
        plan.steps.push(Step::UpdateAccelerator {
            arn: a.arn.clone(),
            name: a.name.clone(),
            ip_address_type: a.ip_address_type.clone(),
            enabled: false,
        });
    }
    if a.enabled || a.status != DEPLOYED || !listeners.is_empty() {
        plan.waiting
            .push(format!("accelerator {} to be deployed disabled and without listeners before it is deleted", a.arn));
    } else {
        plan.steps.push(Step::DeleteAccelerator { arn: a.arn.clone() });
    }
}

fn delete_listener(l: &Listener, observed: &Observed, plan: &mut Plan<Step>) {
    for g in observed.endpoint_groups.iter().filter(|g| g.listener_arn == l.arn) {
        plan.steps.push(Step::DeleteEndpointGroup { arn: g.arn.clone(), region: g.region.clone() });
    }
    plan.steps.push(Step::DeleteListener {
        arn: l.arn.clone(),
        protocol: l.protocol.clone(),
        port_ranges: l.port_ranges.clone(),
    });
}

/// Whether two sets of port ranges share a port.
pub fn overlaps(a: &[(u16, u16)], b: &[(u16, u16)]) -> bool {
    a.iter().any(|(af, at)| b.iter().any(|(bf, bt)| af <= bt && bf <= at))
}

/// Whether a desired listener may take an observed one's place.
type PairRule<'r> = &'r dyn Fn(&DesiredListener, &Listener) -> bool;

/// Desired listeners paired with observed ones: the same protocol and ports first, then the same
/// protocol with overlapping ports, then the same protocol (ports changed: updated in place, its
/// endpoint groups kept). A protocol never changes in place: that is a new listener.
fn pair<'a>(desired: &[DesiredListener], observed: &[&'a Listener]) -> Vec<Option<&'a Listener>> {
    let mut paired: Vec<Option<&'a Listener>> = vec![None; desired.len()];
    let mut taken = vec![false; observed.len()];
    let rules: [PairRule; 3] = [
        &|d, o| d.protocol == o.protocol && d.port_ranges == o.port_ranges,
        &|d, o| d.protocol == o.protocol && overlaps(&d.port_ranges, &o.port_ranges),
        &|d, o| d.protocol == o.protocol,
    ];
    for rule in rules {
        for (i, d) in desired.iter().enumerate() {
            if paired[i].is_some() {
                continue;
            }
            if let Some(j) = (0..observed.len()).find(|&j| !taken[j] && rule(d, observed[j])) {
                taken[j] = true;
                paired[i] = Some(observed[j]);
            }
        }
    }
    paired
}

fn plan_listeners(
    d: &Desired,
    accelerator: &Ref,
    observed_listeners: &[&Listener],
    observed: &Observed,
    plan: &mut Plan<Step>,
) {
    let paired = pair(&d.listeners, observed_listeners);
    let leaving: Vec<&Listener> =
        observed_listeners.iter().copied().filter(|o| !paired.iter().flatten().any(|p| p.arn == o.arn)).collect();
    for (dl, existing) in d.listeners.iter().zip(&paired) {
        let key = listener_key(&dl.protocol, &dl.port_ranges);
        // AWS refuses ports another listener of the protocol still holds: that one goes first.
        let blocker = leaving.iter().find(|o| o.protocol == dl.protocol && overlaps(&o.port_ranges, &dl.port_ranges));
        let changes = existing.is_none_or(|o| o.port_ranges != dl.port_ranges);
        if let (Some(b), true) = (blocker, changes) {
            plan.waiting.push(format!(
                "listener {} {} to be deleted before listener {key} takes its ports",
                listener_key(&b.protocol, &b.port_ranges),
                b.arn
            ));
            if let Some(o) = existing {
                plan_groups(dl, &Ref::Id(o.arn.clone()), groups_of(o, observed), plan);
            }
            continue;
        }
        let listener = match existing {
            Some(o) => {
                if o.port_ranges != dl.port_ranges || o.client_affinity != dl.client_affinity {
                    plan.steps.push(Step::UpdateListener {
                        arn: o.arn.clone(),
                        protocol: dl.protocol.clone(),
                        port_ranges: dl.port_ranges.clone(),
                        client_affinity: dl.client_affinity.clone(),
                    });
                }
                Ref::Id(o.arn.clone())
            }
            None => {
                let component = components::listener(&dl.protocol, &dl.port_ranges);
                plan.steps.push(Step::CreateListener {
                    component: component.clone(),
                    accelerator: accelerator.clone(),
                    protocol: dl.protocol.clone(),
                    port_ranges: dl.port_ranges.clone(),
                    client_affinity: dl.client_affinity.clone(),
                });
                Ref::Created(component)
            }
        };
        let groups = existing.map(|o| groups_of(o, observed)).unwrap_or_default();
        plan_groups(dl, &listener, groups, plan);
    }
    for o in leaving {
        delete_listener(o, observed, plan);
    }
}

fn groups_of<'a>(l: &Listener, observed: &'a Observed) -> Vec<&'a EndpointGroup> {
    observed.endpoint_groups.iter().filter(|g| g.listener_arn == l.arn).collect()
}

/// Health checks as AWS reports them: a path only for HTTP and HTTPS.
fn same_health_check(a: &HealthCheck, b: &HealthCheck) -> bool {
    let path = |h: &HealthCheck| (h.protocol != "TCP").then(|| h.path.clone().unwrap_or_else(|| "/".into()));
    a.protocol == b.protocol
        && a.port == b.port
        && a.interval_seconds == b.interval_seconds
        && a.threshold_count == b.threshold_count
        && path(a) == path(b)
}

fn sorted(mut v: Vec<EndpointConfig>) -> Vec<EndpointConfig> {
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

fn plan_groups(dl: &DesiredListener, listener: &Ref, observed: Vec<&EndpointGroup>, plan: &mut Plan<Step>) {
    let key = listener_key(&dl.protocol, &dl.port_ranges);
    let not_active = |g: &DesiredEndpointGroup| {
        let lb = if g.endpoint.id.is_empty() { "no load balancer yet".to_string() } else { g.endpoint.id.clone() };
        format!(
            "LoadBalancerPolicy {}'s load balancer ({lb}) to become active for endpoint group {} of listener {key}",
            g.endpoint.policy, g.region
        )
    };
    for g in &dl.endpoint_groups {
        match observed.iter().find(|o| o.region == g.region) {
            Some(o) => {
                let current = sorted(o.endpoints.iter().map(|e| e.config()).collect());
                let wanted = vec![g.endpoint.config()];
                // A load balancer that is not active yet is not added: the group keeps what it has.
                let endpoints = if g.endpoint.active { wanted.clone() } else { current.clone() };
                if !g.endpoint.active && current != wanted {
                    plan.waiting.push(not_active(g));
                }
                let differs = (o.traffic_dial_percentage - g.traffic_dial_percentage).abs() > 0.01
                    || !same_health_check(&o.health_check, &g.health_check)
                    || endpoints != current;
                if differs {
                    plan.steps.push(Step::UpdateEndpointGroup {
                        arn: o.arn.clone(),
                        region: g.region.clone(),
                        traffic_dial_percentage: g.traffic_dial_percentage,
                        health_check: g.health_check.clone(),
                        endpoints,
                    });
                }
            }
            None if g.endpoint.active => plan.steps.push(Step::CreateEndpointGroup {
                component: components::endpoint_group(&dl.protocol, &dl.port_ranges, &g.region),
                listener: listener.clone(),
                region: g.region.clone(),
                traffic_dial_percentage: g.traffic_dial_percentage,
                health_check: g.health_check.clone(),
                endpoints: vec![g.endpoint.config()],
            }),
            None => plan.waiting.push(not_active(g)),
        }
    }
    for o in observed.iter().filter(|o| !dl.endpoint_groups.iter().any(|g| g.region == o.region)) {
        plan.steps.push(Step::DeleteEndpointGroup { arn: o.arn.clone(), region: o.region.clone() });
    }
}
