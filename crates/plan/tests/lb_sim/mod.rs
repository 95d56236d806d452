//! A small model of ELBv2, WAFv2, EC2 security groups, Shield and Route 53: just enough to run
//! the LoadBalancerPolicy planner's plans against, and strict where AWS is strict (a target group
//! in use cannot be deleted, a web ACL associates only with an active load balancer, a record
//! DELETE must match the record exactly), so a plan whose order AWS would reject fails here too.
//!
//! Phases run in order; a `Ref::Created` resolves only to something an earlier phase created.
//! New load balancers are `provisioning` and turn `active` on the next observation, like AWS
//! (only much faster).

#![allow(dead_code)]

use std::collections::BTreeMap;

use securecart_plan::load_balancer::{
    Action, ChangeAction, HealthCheck, Listener, LoadBalancer, Observed, ObservedAction, Protection, Rule,
    SecurityGroup, Step, TagApi, TargetGroup, WebAcl,
};
use securecart_plan::plan::PlanStep;
use securecart_plan::{Plan, Ref, Tags};

#[derive(Default)]
pub struct Sim {
    pub observed: Observed,
    /// Every action applied, in order, e.g. `DeleteLoadBalancer arn:lb-1`.
    pub log: Vec<String>,
    counters: BTreeMap<&'static str, u32>,
}

fn resolve(r: &Ref, created: &BTreeMap<String, String>) -> Result<String, String> {
    match r {
        Ref::Id(id) => Ok(id.clone()),
        Ref::Created(c) => {
            created.get(c).cloned().ok_or_else(|| format!("Ref::Created({c}) was not created by an earlier phase"))
        }
    }
}

fn merge(tags: &mut Tags, more: &Tags) {
    tags.extend(more.iter().map(|(k, v)| (k.clone(), v.clone())));
}

impl Sim {
    pub fn new() -> Self {
        Self::default()
    }

    /// A zone exists for the records.
    pub fn with_zone(mut self, id: &str) -> Self {
        self.observed.hosted_zone_id = Some(id.into());
        self
    }

    fn next(&mut self, kind: &'static str) -> String {
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        format!("{kind}-{n}")
    }

    /// What the controller sees: provisioning load balancers are active from the second look.
    pub fn observe(&mut self) -> Observed {
        let seen = self.observed.clone();
        for lb in &mut self.observed.load_balancers {
            if lb.state == "provisioning" {
                lb.state = "active".into();
            }
        }
        seen
    }

    /// Applies a plan phase by phase; the first error stops it, like the executor.
    pub fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        let mut created = BTreeMap::new();
        for phase in plan.phases() {
            let mut made = Vec::new();
            for step in phase {
                let id = self.step(step, &created).map_err(|e| format!("{step}: {e}"))?;
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    made.push((c.to_string(), id));
                }
            }
            created.extend(made);
        }
        Ok(())
    }

    fn in_use(&self, tg_arn: &str) -> bool {
        let forwards = |a: &ObservedAction| matches!(a, ObservedAction::Forward(t) if t == tg_arn);
        self.observed.listeners.iter().any(|l| forwards(&l.default_action))
            || self.observed.rules.iter().any(|r| forwards(&r.action))
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

    fn step(&mut self, step: &Step, created: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        self.log.push(format!("{} {step}", step.action()));
        let o = &mut self.observed;
        Ok(match step {
            Step::CreateSecurityGroup { vpc_id, tags, .. } => {
                let id = self.next("sg");
                let o = &mut self.observed;
                o.security_groups.push(SecurityGroup {
                    id: id.clone(),
                    vpc_id: vpc_id.clone(),
                    ingress: Default::default(),
                    tags: tags.clone(),
                });
                Some(id)
            }
            Step::AuthorizeIngress { security_group, rules } => {
                let id = resolve(security_group, created)?;
                let sg = o.security_groups.iter_mut().find(|s| s.id == id).ok_or("InvalidGroup.NotFound")?;
                sg.ingress.extend(rules.iter().cloned());
                None
            }
            Step::RevokeIngress { security_group_id, rules } => {
                let sg =
                    o.security_groups.iter_mut().find(|s| &s.id == security_group_id).ok_or("InvalidGroup.NotFound")?;
                for r in rules {
                    sg.ingress.remove(r);
                }
                None
            }
            Step::DeleteSecurityGroup { id } => {
                if o.load_balancers.iter().any(|l| l.tags.get("sg").is_some_and(|s| s == id)) {
                    return Err("DependencyViolation: a load balancer uses it".into());
                }
                o.security_groups.retain(|s| &s.id != id);
                None
            }
            Step::CreateTargetGroup { target_group: t, vpc_id, tags } => {
                if o.target_groups.iter().any(|x| x.name == t.aws_name) {
                    return Err("DuplicateTargetGroupName".into());
                }
                let arn = self.next("arn:tg");
                self.observed.target_groups.push(TargetGroup {
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
            Step::ModifyTargetGroupHealthCheck { arn, health } => {
                let t = o.target_groups.iter_mut().find(|t| &t.arn == arn).ok_or("TargetGroupNotFound")?;
                t.health = health.clone();
                None
            }
            Step::DeleteTargetGroup { arn } => {
                if self.in_use(arn) {
                    return Err("ResourceInUse".into());
                }
                self.observed.target_groups.retain(|t| &t.arn != arn);
                None
            }
            Step::CreateLoadBalancer { load_balancer: l, subnet_ids, security_group, tags, .. } => {
                if o.load_balancers.iter().any(|x| x.name == l.name) {
                    return Err("DuplicateLoadBalancerName".into());
                }
                let sg = security_group.as_ref().map(|r| resolve(r, created)).transpose()?;
                let arn = self.next("arn:lb");
                let n = self.counters["arn:lb"];
                let mut tags = tags.clone();
                // Remember the security group in a pseudo tag the simulator alone reads.
                if let Some(sg) = sg {
                    tags.insert("sg".into(), sg);
                }
                self.observed.load_balancers.push(LoadBalancer {
                    arn: arn.clone(),
                    name: l.name.clone(),
                    lb_type: l.lb_type.clone(),
                    scheme: if l.scheme.is_empty() { "internal".into() } else { l.scheme.clone() },
                    state: "provisioning".into(),
                    dns_name: format!("{}-{n}.elb.example", l.name),
                    canonical_hosted_zone_id: "ZLB".into(),
                    ip_address_type: l.ip_address_type.clone(),
                    subnet_ids: subnet_ids.clone(),
                    attributes: BTreeMap::new(),
                    web_acl_arn: None,
                    tags,
                });
                Some(arn)
            }
            Step::SetLoadBalancerAttributes { load_balancer, attributes } => {
                let arn = resolve(load_balancer, created)?;
                let l = o.load_balancers.iter_mut().find(|l| l.arn == arn).ok_or("LoadBalancerNotFound")?;
                merge(&mut l.attributes, attributes);
                None
            }
            Step::SetSubnets { arn, subnet_ids } => {
                let l = o.load_balancers.iter_mut().find(|l| &l.arn == arn).ok_or("LoadBalancerNotFound")?;
                l.subnet_ids = subnet_ids.clone();
                None
            }
            Step::SetIpAddressType { arn, ip_address_type } => {
                let l = o.load_balancers.iter_mut().find(|l| &l.arn == arn).ok_or("LoadBalancerNotFound")?;
                l.ip_address_type = ip_address_type.clone();
                None
            }
            Step::DeleteLoadBalancer { arn } => {
                if o.load_balancers.iter().any(|l| {
                    &l.arn == arn && l.attributes.get("deletion_protection.enabled").is_some_and(|v| v == "true")
                }) {
                    return Err("OperationNotPermitted: deletion protection".into());
                }
                // Its listeners and rules go with it.
                let listeners: Vec<String> =
                    o.listeners.iter().filter(|l| &l.load_balancer_arn == arn).map(|l| l.arn.clone()).collect();
                o.rules.retain(|r| !listeners.contains(&r.listener_arn));
                o.listeners.retain(|l| &l.load_balancer_arn != arn);
                o.load_balancers.retain(|l| &l.arn != arn);
                None
            }
            Step::CreateListener { load_balancer, port, protocol, certificate_arn, action, tags, .. } => {
                let lb = resolve(load_balancer, created)?;
                let action = Self::action(action, created)?;
                let arn = self.next("arn:listener");
                self.observed.listeners.push(Listener {
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
            Step::ModifyListener { arn, protocol, certificate_arn, action } => {
                let action = Self::action(action, created)?;
                let l = o.listeners.iter_mut().find(|l| &l.arn == arn).ok_or("ListenerNotFound")?;
                l.protocol = protocol.clone();
                l.certificate_arn = certificate_arn.clone();
                l.default_action = action;
                None
            }
            Step::DeleteListener { arn } => {
                o.rules.retain(|r| &r.listener_arn != arn);
                o.listeners.retain(|l| &l.arn != arn);
                None
            }
            Step::CreateRule { listener, priority, path_patterns, host_headers, target_group, tags, .. } => {
                let listener = resolve(listener, created)?;
                if o.rules.iter().any(|r| r.listener_arn == listener && r.priority == *priority) {
                    return Err("PriorityInUse".into());
                }
                let action = ObservedAction::Forward(resolve(target_group, created)?);
                let arn = self.next("arn:rule");
                self.observed.rules.push(Rule {
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
            Step::ModifyRule { arn, path_patterns, host_headers, target_group } => {
                let action = ObservedAction::Forward(resolve(target_group, created)?);
                let r = o.rules.iter_mut().find(|r| &r.arn == arn).ok_or("RuleNotFound")?;
                r.path_patterns = path_patterns.clone();
                r.host_headers = host_headers.clone();
                r.action = action;
                None
            }
            Step::DeleteRule { arn } => {
                o.rules.retain(|r| &r.arn != arn);
                None
            }
            Step::CreateWebAcl { name, rules, tags, .. } => {
                let id = self.next("acl");
                let arn = format!("arn:webacl/{name}/{id}");
                self.observed.web_acls.push(WebAcl {
                    arn: arn.clone(),
                    id,
                    name: name.clone(),
                    rules: rules.clone(),
                    tags: tags.clone(),
                });
                Some(arn)
            }
            Step::UpdateWebAcl { arn, rules, .. } => {
                let a = o.web_acls.iter_mut().find(|a| &a.arn == arn).ok_or("WAFNonexistentItemException")?;
                a.rules = rules.clone();
                None
            }
            Step::DeleteWebAcl { arn, .. } => {
                if o.load_balancers.iter().any(|l| l.web_acl_arn.as_ref() == Some(arn)) {
                    return Err("WAFAssociatedItemException".into());
                }
                o.web_acls.retain(|a| &a.arn != arn);
                None
            }
            Step::AssociateWebAcl { web_acl, load_balancer_arn } => {
                let acl = resolve(web_acl, created)?;
                let l = o
                    .load_balancers
                    .iter_mut()
                    .find(|l| &l.arn == load_balancer_arn)
                    .ok_or("WAFNonexistentItemException")?;
                if l.state != "active" {
                    return Err("WAFUnavailableEntityException".into());
                }
                l.web_acl_arn = Some(acl);
                None
            }
            Step::DisassociateWebAcl { load_balancer_arn } => {
                if let Some(l) = o.load_balancers.iter_mut().find(|l| &l.arn == load_balancer_arn) {
                    l.web_acl_arn = None;
                }
                None
            }
            Step::CreateProtection { load_balancer_arn, tags, .. } => {
                if o.protections.iter().any(|p| &p.resource_arn == load_balancer_arn) {
                    return Err("ResourceAlreadyExistsException".into());
                }
                let id = self.next("protection");
                self.observed.protections.push(Protection {
                    id: id.clone(),
                    arn: format!("arn:protection/{id}"),
                    resource_arn: load_balancer_arn.clone(),
                    tags: tags.clone(),
                });
                Some(id)
            }
            Step::DeleteProtection { id } => {
                o.protections.retain(|p| &p.id != id);
                None
            }
            Step::CreateHealthCheck { config, tags, .. } => {
                let id = self.next("hc");
                self.observed.health_checks.push(HealthCheck {
                    id: id.clone(),
                    config: config.clone(),
                    tags: tags.clone(),
                });
                Some(id)
            }
            Step::UpdateHealthCheck { id, config } => {
                let h = o.health_checks.iter_mut().find(|h| &h.id == id).ok_or("NoSuchHealthCheck")?;
                h.config.fqdn = config.fqdn.clone();
                h.config.port = config.port;
                h.config.path = config.path.clone();
                h.config.failure_threshold = config.failure_threshold;
                None
            }
            Step::DeleteHealthCheck { id } => {
                o.health_checks.retain(|h| &h.id != id);
                None
            }
            Step::ChangeRecords { hosted_zone_id, changes } => {
                if o.hosted_zone_id.as_ref() != Some(hosted_zone_id) {
                    return Err("NoSuchHostedZone".into());
                }
                // One batch: all or nothing.
                let mut records = o.records.clone();
                for c in changes {
                    let same_key = |r: &securecart_plan::load_balancer::Record| {
                        r.name == c.record.name
                            && r.record_type == c.record.record_type
                            && r.set_identifier == c.record.set_identifier
                    };
                    match c.action {
                        ChangeAction::Upsert => {
                            records.retain(|r| !same_key(r));
                            records.push(c.record.clone());
                        }
                        ChangeAction::Delete => {
                            if !records.contains(&c.record) {
                                return Err("InvalidChangeBatch: the record to delete does not match".into());
                            }
                            records.retain(|r| r != &c.record);
                        }
                    }
                }
                o.records = records;
                None
            }
            Step::SetTags { api, resource, tags, .. } => {
                let target: Option<&mut Tags> = match api {
                    TagApi::Ec2 => o.security_groups.iter_mut().find(|s| &s.id == resource).map(|s| &mut s.tags),
                    TagApi::Elb => o
                        .load_balancers
                        .iter_mut()
                        .find(|l| &l.arn == resource)
                        .map(|l| &mut l.tags)
                        .or_else(|| o.target_groups.iter_mut().find(|t| &t.arn == resource).map(|t| &mut t.tags))
                        .or_else(|| o.listeners.iter_mut().find(|l| &l.arn == resource).map(|l| &mut l.tags))
                        .or_else(|| o.rules.iter_mut().find(|r| &r.arn == resource).map(|r| &mut r.tags)),
                    TagApi::Wafv2 => o.web_acls.iter_mut().find(|a| &a.arn == resource).map(|a| &mut a.tags),
                    TagApi::Shield => o.protections.iter_mut().find(|p| &p.arn == resource).map(|p| &mut p.tags),
                    TagApi::Route53HealthCheck => {
                        o.health_checks.iter_mut().find(|h| &h.id == resource).map(|h| &mut h.tags)
                    }
                };
                merge(target.ok_or("ResourceNotFound")?, tags);
                None
            }
        })
    }
}
