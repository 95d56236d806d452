//! Folding executed steps into a LoadBalancerPolicy's observed model: what AWS answered to a
//! create or change is what now exists, so the next pass plans against it without reading every
//! part of the policy back. The security group, ELBv2, WAF and Route 53 are folded; a plan with a
//! Shield step (whose answer lacks the protection's ARN), an alarm, or a load balancer's deletion
//! (which takes its WAF association with it) is read back instead.

use std::collections::BTreeMap;

use super::Observed;
use crate::elbv2::{self, Action, HTTPS_REDIRECT_PORT, Listener, LoadBalancer, ObservedAction, Rule, TargetGroup};
use crate::owner::Tags;
use crate::plan::{PlanStep, Ref};
use crate::route53::{self, ChangeAction, HealthCheck};
use crate::security_group::{self as sg, SecurityGroup};
use crate::step::{Output, Step, fields};
use crate::wafv2::{self, Association, WebAcl};

/// Whether [`absorb`] can fold every step of a plan.
pub fn foldable<'a>(mut steps: impl Iterator<Item = &'a Step>) -> bool {
    steps.all(|s| match s {
        Step::SecurityGroup(_) | Step::Route53(_) | Step::Wafv2(_) => true,
        Step::Elbv2(s) => !matches!(s, elbv2::Step::DeleteLoadBalancer { .. }),
        _ => false,
    })
}

/// Applies `executed` (in the order they ran) to `observed`. False, with `observed` left as it
/// may be, when a step cannot be folded (see [`foldable`]) or an answer lacks what the model
/// needs: the caller then reads the policy back.
pub fn absorb(observed: &mut Observed, executed: &[(&Step, &Output)]) -> bool {
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    for (step, output) in executed {
        let id = |r: &Ref| match r {
            Ref::Id(id) => Some(id.clone()),
            Ref::Created(c) => created.get(c).cloned(),
        };
        let folded = match step {
            Step::SecurityGroup(s) => security_group(&mut observed.security_groups, s, output, &id),
            Step::Elbv2(s) => load_balancing(&mut observed.elbv2, s, output, &id),
            Step::Route53(s) => dns(&mut observed.route53, s, output),
            Step::Wafv2(s) => firewall(&mut observed.wafv2, s, output, &id),
            _ => false,
        };
        if !folded {
            return false;
        }
        if let (Some(c), Some(new)) = (step.creates(), &output.id) {
            created.insert(c.to_string(), new.clone());
        }
    }
    true
}

fn merge(tags: &mut Tags, more: &Tags) {
    tags.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
}

fn security_group(
    groups: &mut Vec<SecurityGroup>,
    step: &sg::Step,
    out: &Output,
    id: &dyn Fn(&Ref) -> Option<String>,
) -> bool {
    match step {
        sg::Step::CreateSecurityGroup { vpc_id, tags, .. } => {
            let Some(new) = out.id.clone() else { return false };
            groups.push(SecurityGroup {
                id: new,
                vpc_id: vpc_id.clone(),
                ingress: Default::default(),
                tags: tags.clone(),
            });
        }
        sg::Step::AuthorizeIngress { group, rules } => {
            let Some(g) = id(group).and_then(|gid| groups.iter_mut().find(|g| g.id == gid)) else { return false };
            g.ingress.extend(rules.iter().cloned());
        }
        sg::Step::RevokeIngress { group_id, rules } => {
            if let Some(g) = groups.iter_mut().find(|g| &g.id == group_id) {
                rules.iter().for_each(|r| {
                    g.ingress.remove(r);
                });
            }
        }
        sg::Step::SetTags { resource_id, tags, .. } => {
            let Some(g) = groups.iter_mut().find(|g| &g.id == resource_id) else { return false };
            merge(&mut g.tags, tags);
        }
        sg::Step::DeleteSecurityGroup { id: gid } => groups.retain(|g| &g.id != gid),
    }
    true
}

fn action_of(action: &Action, id: &dyn Fn(&Ref) -> Option<String>) -> Option<ObservedAction> {
    Some(match action {
        Action::Forward(tg) => ObservedAction::Forward(id(tg)?),
        Action::RedirectToHttps => ObservedAction::Redirect {
            protocol: "HTTPS".into(),
            port: HTTPS_REDIRECT_PORT.into(),
            status_code: "HTTP_301".into(),
        },
    })
}

fn load_balancing(
    o: &mut elbv2::Observed,
    step: &elbv2::Step,
    out: &Output,
    id: &dyn Fn(&Ref) -> Option<String>,
) -> bool {
    use elbv2::Step as S;
    let new_arn = || out.id.clone();
    match step {
        S::CreateTargetGroup { target_group: t, vpc_id, tags } => {
            let Some(arn) = new_arn() else { return false };
            o.target_groups.push(TargetGroup {
                arn,
                name: t.aws_name.clone(),
                protocol: t.protocol.clone(),
                port: Some(t.port),
                target_type: t.target_type.clone(),
                vpc_id: vpc_id.clone(),
                health: t.health.clone(),
                tags: tags.clone(),
            });
        }
        S::ModifyTargetGroupHealthCheck { arn, health } => {
            let Some(t) = o.target_groups.iter_mut().find(|t| &t.arn == arn) else { return false };
            t.health = health.clone();
        }
        S::SetTags { arn, tags, .. } => {
            let found = o.target_groups.iter_mut().find(|r| &r.arn == arn).map(|r| &mut r.tags).or_else(|| {
                o.load_balancers.iter_mut().find(|r| &r.arn == arn).map(|r| &mut r.tags).or_else(|| {
                    o.listeners
                        .iter_mut()
                        .find(|r| &r.arn == arn)
                        .map(|r| &mut r.tags)
                        .or_else(|| o.rules.iter_mut().find(|r| &r.arn == arn).map(|r| &mut r.tags))
                })
            });
            let Some(existing) = found else { return false };
            merge(existing, tags);
        }
        S::CreateLoadBalancer { load_balancer: l, subnet_ids, security_group, tags, .. } => {
            use fields::*;
            let (Some(arn), Some(state), Some(dns_name), Some(zone)) =
                (new_arn(), out.field(STATE), out.field(DNS_NAME), out.field(CANONICAL_HOSTED_ZONE_ID))
            else {
                return false;
            };
            let security_group_ids = match security_group {
                Some(g) => match id(g) {
                    Some(g) => vec![g],
                    None => return false,
                },
                None => Vec::new(),
            };
            o.load_balancers.push(LoadBalancer {
                arn,
                name: l.name.clone(),
                lb_type: l.lb_type.clone(),
                scheme: out.field(SCHEME).map_or_else(|| l.scheme.clone(), str::to_string),
                state: state.into(),
                dns_name: dns_name.into(),
                canonical_hosted_zone_id: zone.into(),
                ip_address_type: l.ip_address_type.clone(),
                subnet_ids: subnet_ids.clone(),
                security_group_ids,
                attributes: BTreeMap::new(),
                tags: tags.clone(),
            });
        }
        S::SetLoadBalancerAttributes { load_balancer, attributes } => {
            let Some(l) = id(load_balancer).and_then(|arn| o.load_balancers.iter_mut().find(|l| l.arn == arn)) else {
                return false;
            };
            merge(&mut l.attributes, attributes);
        }
        S::SetSubnets { arn, subnet_ids } => {
            let Some(l) = o.load_balancers.iter_mut().find(|l| &l.arn == arn) else { return false };
            l.subnet_ids = subnet_ids.clone();
        }
        S::SetIpAddressType { arn, ip_address_type } => {
            let Some(l) = o.load_balancers.iter_mut().find(|l| &l.arn == arn) else { return false };
            l.ip_address_type = ip_address_type.clone();
        }
        S::CreateListener { load_balancer, port, protocol, certificate_arn, action, tags, .. } => {
            let (Some(arn), Some(lb), Some(action)) = (new_arn(), id(load_balancer), action_of(action, id)) else {
                return false;
            };
            o.listeners.push(Listener {
                arn,
                load_balancer_arn: lb,
                port: *port,
                protocol: protocol.clone(),
                certificate_arn: certificate_arn.clone(),
                default_action: action,
                tags: tags.clone(),
            });
        }
        S::ModifyListener { arn, protocol, certificate_arn, action } => {
            let (Some(l), Some(action)) = (o.listeners.iter_mut().find(|l| &l.arn == arn), action_of(action, id))
            else {
                return false;
            };
            l.protocol = protocol.clone();
            l.certificate_arn = certificate_arn.clone();
            l.default_action = action;
        }
        S::CreateRule { listener, priority, path_patterns, host_headers, target_group, tags, .. } => {
            let (Some(arn), Some(listener), Some(tg)) = (new_arn(), id(listener), id(target_group)) else {
                return false;
            };
            o.rules.push(Rule {
                arn,
                listener_arn: listener,
                priority: *priority,
                path_patterns: path_patterns.clone(),
                host_headers: host_headers.clone(),
                action: ObservedAction::Forward(tg),
                tags: tags.clone(),
            });
        }
        S::ModifyRule { arn, path_patterns, host_headers, target_group } => {
            let (Some(r), Some(tg)) = (o.rules.iter_mut().find(|r| &r.arn == arn), id(target_group)) else {
                return false;
            };
            r.path_patterns = path_patterns.clone();
            r.host_headers = host_headers.clone();
            r.action = ObservedAction::Forward(tg);
        }
        S::DeleteRule { arn } => o.rules.retain(|r| &r.arn != arn),
        S::DeleteListener { arn } => {
            o.rules.retain(|r| &r.listener_arn != arn);
            o.listeners.retain(|l| &l.arn != arn);
        }
        S::DeleteTargetGroup { arn } => o.target_groups.retain(|t| &t.arn != arn),
        S::DeleteLoadBalancer { .. } => return false,
    }
    true
}

fn dns(o: &mut route53::Observed, step: &route53::Step, out: &Output) -> bool {
    use route53::Step as S;
    match step {
        S::CreateHealthCheck { config, tags, .. } => {
            let Some(id) = out.id.clone() else { return false };
            o.health_checks.push(HealthCheck {
                id,
                caller_reference: out.field(fields::CALLER_REFERENCE).unwrap_or_default().into(),
                config: config.clone(),
                tags: if out.field(fields::UNTAGGED).is_some() { Tags::new() } else { tags.clone() },
            });
        }
        S::SetTags { id, tags, .. } => {
            let Some(h) = o.health_checks.iter_mut().find(|h| &h.id == id) else { return false };
            merge(&mut h.tags, tags);
        }
        S::UpdateHealthCheck { id, config } => {
            // What UpdateHealthCheck can change; the protocol and interval are fixed at creation.
            let Some(h) = o.health_checks.iter_mut().find(|h| &h.id == id) else { return false };
            h.config.fqdn = config.fqdn.clone();
            h.config.port = config.port;
            h.config.path = config.path.clone();
            h.config.failure_threshold = config.failure_threshold;
        }
        S::DeleteHealthCheck { id } => o.health_checks.retain(|h| &h.id != id),
        S::ChangeRecords { hosted_zone_id, changes } => {
            if o.hosted_zone_id.as_ref() != Some(hosted_zone_id) {
                return false;
            }
            for c in changes {
                let key = (&c.record.name, &c.record.record_type, &c.record.set_identifier);
                o.records.retain(|r| (&r.name, &r.record_type, &r.set_identifier) != key);
                if c.action == ChangeAction::Upsert {
                    o.records.push(c.record.clone());
                }
            }
        }
    }
    true
}

fn firewall(o: &mut wafv2::Observed, step: &wafv2::Step, out: &Output, id: &dyn Fn(&Ref) -> Option<String>) -> bool {
    use wafv2::Step as S;
    match step {
        S::CreateWebAcl { scope, name, rules, tags, .. } => {
            let (Some(arn), Some(acl_id)) = (out.id.clone(), out.field(fields::WEB_ACL_ID)) else { return false };
            o.web_acls.push(WebAcl {
                arn,
                id: acl_id.into(),
                name: name.clone(),
                scope: *scope,
                rules: rules.clone(),
                tags: tags.clone(),
            });
        }
        S::SetTags { arn, tags, .. } => {
            let Some(a) = o.web_acls.iter_mut().find(|a| &a.arn == arn) else { return false };
            merge(&mut a.tags, tags);
        }
        S::UpdateWebAcl { arn, rules, .. } => {
            let Some(a) = o.web_acls.iter_mut().find(|a| &a.arn == arn) else { return false };
            a.rules = rules.clone();
        }
        S::DeleteWebAcl { arn, .. } => o.web_acls.retain(|a| &a.arn != arn),
        S::AssociateWebAcl { web_acl, resource_arn } => {
            let Some(acl) = id(web_acl) else { return false };
            o.associations.retain(|a| &a.resource_arn != resource_arn);
            o.associations.push(Association { resource_arn: resource_arn.clone(), web_acl_arn: Some(acl) });
        }
        S::DisassociateWebAcl { resource_arn } => {
            o.associations.retain(|a| &a.resource_arn != resource_arn);
        }
    }
    true
}
