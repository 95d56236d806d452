//! A small model of ELBv2, WAFv2, EC2 security groups, Shield and Route 53: just enough to run
//! the LoadBalancerPolicy planner's plans against, and strict where AWS is strict (a target group
//! in use cannot be deleted, nor a security group a load balancer is in, a web ACL associates only
//! with an active load balancer, a record DELETE must match the record exactly, a resource takes
//! one Shield protection), so a plan whose order AWS would reject fails here too.
//!
//! Phases run in order; a `Ref::Created` resolves only to something an earlier phase created.
//! New load balancers are `provisioning` and turn `active` on the next observation, like AWS
//! (only much faster).

#![allow(dead_code)]

mod cloudwatch;
pub mod fixtures;
mod route53;

#[allow(unused_imports)]
pub use cloudwatch::described;

use std::collections::BTreeMap;

use securecart_plan::elbv2::{self, Action, Listener, LoadBalancer, ObservedAction, Rule, TargetGroup};
use securecart_plan::load_balancer_policy::Observed;
use securecart_plan::plan::PlanStep;
use securecart_plan::security_group::{self as sg, SecurityGroup};
use securecart_plan::shield::{self, Protection};
use securecart_plan::step::fields;
use securecart_plan::wafv2::{self, Association, WebAcl};
use securecart_plan::{Output, Plan, Ref, Step, Tags};

pub struct Sim {
    pub observed: Observed,
    /// Every action applied, in order, e.g. `DeleteLoadBalancer arn:...:loadbalancer/app/<name>/lb-1`.
    pub log: Vec<String>,
    counters: BTreeMap<&'static str, u32>,
    /// The owner's idempotency token each create sends, as the engine does.
    pub token_prefix: String,
    /// The plan's region (where steps without a location run); us-east-1 unless set.
    pub home_region: String,
    /// PutMetricAlarm calls applied: a converged alarm must not be rewritten.
    pub alarm_writes: u32,
    /// What the last `apply` answered, step by step in the order they ran, as the AWS adapter
    /// does (an ID, and what a new load balancer or health check is).
    pub outputs: Vec<(Step, Output)>,
}

pub(crate) fn resolve(r: &Ref, created: &BTreeMap<String, String>) -> Result<String, String> {
    match r {
        Ref::Id(id) => Ok(id.clone()),
        Ref::Created(c) => {
            created.get(c).cloned().ok_or_else(|| format!("Ref::Created({c}) was not created by an earlier phase"))
        }
    }
}

pub(crate) fn merge(tags: &mut Tags, more: &Tags) {
    tags.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
}

impl Default for Sim {
    fn default() -> Self {
        Self {
            observed: Observed::default(),
            log: Vec::new(),
            counters: BTreeMap::new(),
            token_prefix: String::new(),
            home_region: "us-east-1".into(),
            alarm_writes: 0,
            outputs: Vec::new(),
        }
    }
}

impl Sim {
    pub fn new() -> Self {
        Self::default()
    }

    /// A zone exists for the records.
    pub fn with_zone(mut self, id: &str) -> Self {
        self.observed.route53.hosted_zone_id = Some(id.into());
        self
    }

    pub(crate) fn next(&mut self, kind: &'static str) -> String {
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        format!("{kind}-{n}")
    }

    /// What the controller sees: provisioning load balancers are active from the second look,
    /// and only the associations of load balancers that exist are read.
    pub fn observe(&mut self) -> Observed {
        let seen = self.observed.clone();
        for lb in &mut self.observed.elbv2.load_balancers {
            if lb.state == "provisioning" {
                lb.state = "active".into();
            }
        }
        seen
    }

    /// Applies a plan phase by phase; the first error stops it, like the executor.
    pub fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        self.outputs.clear();
        let mut created = BTreeMap::new();
        for phase in plan.phases() {
            let mut made = Vec::new();
            for step in phase {
                self.log.push(format!("{} {step}", step.action()));
                let id = match step {
                    Step::SecurityGroup(s) => self.security_group(s, &created),
                    Step::Elbv2(s) => self.elbv2(s, &created),
                    Step::Wafv2(s) => self.wafv2(s, &created),
                    Step::Shield(s) => self.shield(s),
                    Step::Route53(s) => self.route53(s),
                    Step::CloudWatch(s) => self.cloudwatch(s),
                    other => Err(format!("not a load balancing step: {other}")),
                }
                .map_err(|e| format!("{step}: {e}"))?;
                self.outputs.push(((*step).clone(), self.answer(step, id.clone())));
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    made.push((c.to_string(), id));
                }
            }
            created.extend(made);
        }
        Ok(())
    }

    /// What AWS answers to `step`, which made `id`.
    fn answer(&self, step: &Step, id: Option<String>) -> Output {
        let out = Output { id: id.clone(), ..Output::none() };
        match step {
            Step::Elbv2(elbv2::Step::CreateLoadBalancer { .. }) => {
                let l = self.observed.elbv2.load_balancers.iter().find(|l| Some(&l.arn) == id.as_ref());
                let l = l.expect("the load balancer just made");
                out.with(fields::STATE, Some(&l.state))
                    .with(fields::DNS_NAME, Some(&l.dns_name))
                    .with(fields::CANONICAL_HOSTED_ZONE_ID, Some(&l.canonical_hosted_zone_id))
                    .with(fields::SCHEME, Some(&l.scheme))
            }
            Step::Wafv2(wafv2::Step::CreateWebAcl { .. }) => {
                let a = self.observed.wafv2.web_acls.iter().find(|a| Some(&a.arn) == id.as_ref());
                out.with(fields::WEB_ACL_ID, a.map(|a| &a.id))
            }
            Step::Route53(securecart_plan::route53::Step::CreateHealthCheck { .. }) => {
                let h = self.observed.route53.health_checks.iter().find(|h| Some(&h.id) == id.as_ref());
                out.with(fields::CALLER_REFERENCE, h.map(|h| &h.caller_reference))
            }
            _ => out,
        }
    }

    fn security_group(
        &mut self,
        step: &sg::Step,
        created: &BTreeMap<String, String>,
    ) -> Result<Option<String>, String> {
        let groups = &mut self.observed.security_groups;
        Ok(match step {
            sg::Step::CreateSecurityGroup { vpc_id, tags, .. } => {
                let id = self.next("sg");
                self.observed.security_groups.push(SecurityGroup {
                    id: id.clone(),
                    vpc_id: vpc_id.clone(),
                    ingress: Default::default(),
                    tags: tags.clone(),
                });
                Some(id)
            }
            sg::Step::AuthorizeIngress { group, rules } => {
                let id = resolve(group, created)?;
                let g = groups.iter_mut().find(|s| s.id == id).ok_or("InvalidGroup.NotFound")?;
                g.ingress.extend(rules.iter().cloned());
                None
            }
            sg::Step::RevokeIngress { group_id, rules } => {
                let g = groups.iter_mut().find(|s| &s.id == group_id).ok_or("InvalidGroup.NotFound")?;
                for r in rules {
                    g.ingress.remove(r);
                }
                None
            }
            sg::Step::DeleteSecurityGroup { id } => {
                if self.observed.elbv2.load_balancers.iter().any(|l| l.security_group_ids.contains(id)) {
                    return Err("DependencyViolation: a load balancer uses it".into());
                }
                groups.retain(|s| &s.id != id);
                None
            }
            sg::Step::SetTags { resource_id, tags, .. } => {
                let g = groups.iter_mut().find(|s| &s.id == resource_id).ok_or("InvalidGroup.NotFound")?;
                merge(&mut g.tags, tags);
                None
            }
        })
    }

    fn in_use(&self, tg_arn: &str) -> bool {
        let forwards = |a: &ObservedAction| matches!(a, ObservedAction::Forward(t) if t == tg_arn);
        self.observed.elbv2.listeners.iter().any(|l| forwards(&l.default_action))
            || self.observed.elbv2.rules.iter().any(|r| forwards(&r.action))
    }

    fn action(a: &Action, created: &BTreeMap<String, String>) -> Result<ObservedAction, String> {
        Ok(match a {
            Action::Forward(tg) => ObservedAction::Forward(resolve(tg, created)?),
            Action::RedirectToHttps => ObservedAction::Redirect {
                protocol: "HTTPS".into(),
                port: "443".into(),
                status_code: "HTTP_301".into(),
            },
        })
    }

    fn elbv2(&mut self, step: &elbv2::Step, created: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        use elbv2::Step as S;
        let o = &mut self.observed.elbv2;
        Ok(match step {
            S::CreateTargetGroup { target_group: t, vpc_id, tags } => {
                if o.target_groups.iter().any(|x| x.name == t.aws_name) {
                    return Err("DuplicateTargetGroupName".into());
                }
                // ARNs in AWS's form: alarms take their dimensions from them.
                let arn = format!(
                    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{}/{}",
                    t.aws_name,
                    self.next("tg")
                );
                self.observed.elbv2.target_groups.push(TargetGroup {
                    arn: arn.clone(),
                    name: t.aws_name.clone(),
                    protocol: t.protocol.clone(),
                    port: Some(t.port),
                    target_type: t.target_type.clone(),
                    vpc_id: vpc_id.clone(),
                    health: t.health.clone(),
                    tags: tags.clone(),
                });
                Some(arn)
            }
            S::ModifyTargetGroupHealthCheck { arn, health } => {
                let t = o.target_groups.iter_mut().find(|t| &t.arn == arn).ok_or("TargetGroupNotFound")?;
                t.health = health.clone();
                None
            }
            S::DeleteTargetGroup { arn } => {
                if self.in_use(arn) {
                    return Err("ResourceInUse".into());
                }
                self.observed.elbv2.target_groups.retain(|t| &t.arn != arn);
                None
            }
            S::CreateLoadBalancer { load_balancer: l, subnet_ids, security_group, tags, .. } => {
                if o.load_balancers.iter().any(|x| x.name == l.name) {
                    return Err("DuplicateLoadBalancerName".into());
                }
                let sg = security_group.as_ref().map(|r| resolve(r, created)).transpose()?;
                let id = self.next("lb");
                let n = self.counters["lb"];
                let prefix = match l.lb_type.as_str() {
                    "network" => "net",
                    "gateway" => "gwy",
                    _ => "app",
                };
                let arn = format!(
                    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/{prefix}/{}/{id}",
                    l.name
                );
                self.observed.elbv2.load_balancers.push(LoadBalancer {
                    arn: arn.clone(),
                    name: l.name.clone(),
                    lb_type: l.lb_type.clone(),
                    scheme: if l.scheme.is_empty() { "internal".into() } else { l.scheme.clone() },
                    state: "provisioning".into(),
                    dns_name: format!("{}-{n}.elb.example", l.name),
                    canonical_hosted_zone_id: "ZLB".into(),
                    ip_address_type: l.ip_address_type.clone(),
                    subnet_ids: subnet_ids.clone(),
                    security_group_ids: sg.into_iter().collect(),
                    attributes: BTreeMap::new(),
                    tags: tags.clone(),
                });
                Some(arn)
            }
            S::SetLoadBalancerAttributes { load_balancer, attributes } => {
                let arn = resolve(load_balancer, created)?;
                let l = o.load_balancers.iter_mut().find(|l| l.arn == arn).ok_or("LoadBalancerNotFound")?;
                merge(&mut l.attributes, attributes);
                None
            }
            S::SetSubnets { arn, subnet_ids } => {
                let l = o.load_balancers.iter_mut().find(|l| &l.arn == arn).ok_or("LoadBalancerNotFound")?;
                l.subnet_ids = subnet_ids.clone();
                None
            }
            S::SetIpAddressType { arn, ip_address_type } => {
                let l = o.load_balancers.iter_mut().find(|l| &l.arn == arn).ok_or("LoadBalancerNotFound")?;
                l.ip_address_type = ip_address_type.clone();
                None
            }
            S::DeleteLoadBalancer { arn } => {
                if o.load_balancers.iter().any(|l| {
                    &l.arn == arn && l.attributes.get("deletion_protection.enabled").is_some_and(|v| v == "true")
                }) {
                    return Err("OperationNotPermitted: deletion protection".into());
                }
                // Its listeners, rules and WAF association go with it.
                let listeners: Vec<String> =
                    o.listeners.iter().filter(|l| &l.load_balancer_arn == arn).map(|l| l.arn.clone()).collect();
                o.rules.retain(|r| !listeners.contains(&r.listener_arn));
                o.listeners.retain(|l| &l.load_balancer_arn != arn);
                o.load_balancers.retain(|l| &l.arn != arn);
                self.observed.wafv2.associations.retain(|a| &a.resource_arn != arn);
                None
            }
            S::CreateListener { load_balancer, port, protocol, certificate_arn, action, tags, .. } => {
                let lb = resolve(load_balancer, created)?;
                let action = Self::action(action, created)?;
                let arn = self.next("arn:listener");
                self.observed.elbv2.listeners.push(Listener {
                    arn: arn.clone(),
                    load_balancer_arn: lb,
                    port: *port,
                    protocol: protocol.clone(),
                    certificate_arn: certificate_arn.clone(),
                    default_action: action,
                    tags: tags.clone(),
                });
                Some(arn)
            }
            S::ModifyListener { arn, protocol, certificate_arn, action } => {
                let action = Self::action(action, created)?;
                let l = o.listeners.iter_mut().find(|l| &l.arn == arn).ok_or("ListenerNotFound")?;
                l.protocol = protocol.clone();
                l.certificate_arn = certificate_arn.clone();
                l.default_action = action;
                None
            }
            S::DeleteListener { arn } => {
                o.rules.retain(|r| &r.listener_arn != arn);
                o.listeners.retain(|l| &l.arn != arn);
                None
            }
            S::CreateRule { listener, priority, path_patterns, host_headers, target_group, tags, .. } => {
                let listener = resolve(listener, created)?;
                if o.rules.iter().any(|r| r.listener_arn == listener && r.priority == *priority) {
                    return Err("PriorityInUse".into());
                }
                let action = ObservedAction::Forward(resolve(target_group, created)?);
                let arn = self.next("arn:rule");
                self.observed.elbv2.rules.push(Rule {
                    arn: arn.clone(),
                    listener_arn: listener,
                    priority: *priority,
                    path_patterns: path_patterns.clone(),
                    host_headers: host_headers.clone(),
                    action,
                    tags: tags.clone(),
                });
                Some(arn)
            }
            S::ModifyRule { arn, path_patterns, host_headers, target_group } => {
                let action = ObservedAction::Forward(resolve(target_group, created)?);
                let r = o.rules.iter_mut().find(|r| &r.arn == arn).ok_or("RuleNotFound")?;
                r.path_patterns = path_patterns.clone();
                r.host_headers = host_headers.clone();
                r.action = action;
                None
            }
            S::DeleteRule { arn } => {
                o.rules.retain(|r| &r.arn != arn);
                None
            }
            S::SetTags { arn, tags, .. } => {
                let target = o
                    .load_balancers
                    .iter_mut()
                    .find(|l| &l.arn == arn)
                    .map(|l| &mut l.tags)
                    .or_else(|| o.target_groups.iter_mut().find(|t| &t.arn == arn).map(|t| &mut t.tags))
                    .or_else(|| o.listeners.iter_mut().find(|l| &l.arn == arn).map(|l| &mut l.tags))
                    .or_else(|| o.rules.iter_mut().find(|r| &r.arn == arn).map(|r| &mut r.tags));
                merge(target.ok_or("LoadBalancerNotFound")?, tags);
                None
            }
        })
    }

    fn wafv2(&mut self, step: &wafv2::Step, created: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        use wafv2::Step as S;
        Ok(match step {
            S::CreateWebAcl { scope, name, rules, tags, .. } => {
                let id = self.next("acl");
                let arn = format!("arn:webacl/{name}/{id}");
                self.observed.wafv2.web_acls.push(WebAcl {
                    arn: arn.clone(),
                    id,
                    name: name.clone(),
                    scope: *scope,
                    rules: rules.clone(),
                    tags: tags.clone(),
                });
                Some(arn)
            }
            S::UpdateWebAcl { arn, rules, .. } => {
                let acls = &mut self.observed.wafv2.web_acls;
                let a = acls.iter_mut().find(|a| &a.arn == arn).ok_or("WAFNonexistentItemException")?;
                a.rules = rules.clone();
                None
            }
            S::DeleteWebAcl { arn, .. } => {
                if self.observed.wafv2.associations.iter().any(|a| a.web_acl_arn.as_ref() == Some(arn)) {
                    return Err("WAFAssociatedItemException".into());
                }
                self.observed.wafv2.web_acls.retain(|a| &a.arn != arn);
                None
            }
            S::AssociateWebAcl { web_acl, resource_arn } => {
                let acl = resolve(web_acl, created)?;
                let lb = self.observed.elbv2.load_balancers.iter().find(|l| &l.arn == resource_arn);
                if lb.ok_or("WAFNonexistentItemException")?.state != "active" {
                    return Err("WAFUnavailableEntityException".into());
                }
                let associations = &mut self.observed.wafv2.associations;
                associations.retain(|a| &a.resource_arn != resource_arn);
                associations.push(Association { resource_arn: resource_arn.clone(), web_acl_arn: Some(acl) });
                None
            }
            S::DisassociateWebAcl { resource_arn } => {
                self.observed.wafv2.associations.retain(|a| &a.resource_arn != resource_arn);
                None
            }
            S::SetTags { arn, tags, .. } => {
                let acls = &mut self.observed.wafv2.web_acls;
                merge(&mut acls.iter_mut().find(|a| &a.arn == arn).ok_or("WAFNonexistentItemException")?.tags, tags);
                None
            }
        })
    }

    fn shield(&mut self, step: &shield::Step) -> Result<Option<String>, String> {
        Ok(match step {
            shield::Step::CreateProtection { resource_arn, tags, .. } => {
                if self.observed.protections.iter().any(|p| &p.resource_arn == resource_arn) {
                    return Err("ResourceAlreadyExistsException".into());
                }
                let id = self.next("protection");
                self.observed.protections.push(Protection {
                    id: id.clone(),
                    arn: format!("arn:protection/{id}"),
                    resource_arn: resource_arn.clone(),
                    tags: tags.clone(),
                });
                Some(id)
            }
            shield::Step::DeleteProtection { id } => {
                self.observed.protections.retain(|p| &p.id != id);
                None
            }
            shield::Step::SetTags { arn, tags, .. } => {
                let p =
                    self.observed.protections.iter_mut().find(|p| &p.arn == arn).ok_or("ResourceNotFoundException")?;
                merge(&mut p.tags, tags);
                None
            }
        })
    }
}
