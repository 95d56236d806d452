//! A small model of Global Accelerator, strict where AWS is strict, so that a plan AWS would
//! refuse fails here too:
//! - every change of an accelerator, its listeners or endpoint groups makes it IN_PROGRESS;
//!   it turns DEPLOYED after `deploy_after` observations;
//! - an accelerator is deleted only disabled and DEPLOYED (AcceleratorNotDisabledException) and
//!   without listeners (AssociatedListenerFoundException); a listener only without endpoint
//!   groups (AssociatedEndpointGroupFoundException);
//! - one endpoint group per region per listener (EndpointGroupAlreadyExistsException);
//! - listeners of one protocol never share a port (InvalidPortRangeException);
//! - endpoints are active load balancers of the group's region (InvalidArgumentException);
//! - an IdempotencyToken seen before answers with the resource it made;
//! - ARNs are random, as AWS's are.
//!
//! Phases run in order, steps of a phase in order; the first error stops the plan, like the
//! executor. Tokens are passed the way the adapter derives them: the create's intent token, with
//! the parent's ARN and the key for listeners and endpoint groups.

#![allow(dead_code)]

use std::collections::BTreeMap;

use securecart_plan::global_accelerator::{
    Accelerator, Endpoint, EndpointConfig, EndpointGroup, Listener, Observed, Step, listener_key,
};
use securecart_plan::plan::{Plan, PlanStep};
use securecart_plan::{Ref, Tags};

/// A load balancer somewhere: what an endpoint may be.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    pub arn: String,
    pub region: String,
    pub active: bool,
}

pub struct Sim {
    /// What AWS holds.
    pub observed: Observed,
    pub load_balancers: Vec<LoadBalancer>,
    /// Every call that reached AWS, in order: `CreateListener <step>`.
    pub log: Vec<String>,
    /// Observations an accelerator stays IN_PROGRESS after a change.
    pub deploy_after: u32,
    pending: BTreeMap<String, u32>,
    /// (operation, token) -> the ARN that request made.
    tokens: BTreeMap<(&'static str, String), String>,
    seed: u64,
    /// The next call of this operation applies, but its answer is lost.
    pub lose_response_of: Option<&'static str>,
    /// Accelerators AWS's reads do not show yet (eventual consistency after a create).
    pub unseen: Vec<String>,
}

impl Default for Sim {
    fn default() -> Self {
        Self {
            observed: Observed::default(),
            load_balancers: Vec::new(),
            log: Vec::new(),
            deploy_after: 2,
            pending: BTreeMap::new(),
            tokens: BTreeMap::new(),
            seed: 0x9e37_79b9_7f4a_7c15,
            lose_response_of: None,
            unseen: Vec::new(),
        }
    }
}

fn err(code: &str, message: impl Into<String>) -> String {
    format!("{code}: {}", message.into())
}

fn resolve(r: &Ref, created: &BTreeMap<String, String>) -> Result<String, String> {
    match r {
        Ref::Id(id) => Ok(id.clone()),
        Ref::Created(c) => created.get(c).cloned().ok_or_else(|| format!("Ref::Created({c}) was not created earlier")),
    }
}

fn overlap(a: &[(u16, u16)], b: &[(u16, u16)]) -> bool {
    a.iter().any(|(af, at)| b.iter().any(|(bf, bt)| af <= bt && bf <= at))
}

/// Codes the adapter turns into success on a delete (`ok_if_gone`).
fn gone(e: &str) -> bool {
    e.starts_with("AcceleratorNotFoundException")
        || e.starts_with("ListenerNotFoundException")
        || e.starts_with("EndpointGroupNotFoundException")
}

impl Sim {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_load_balancer(mut self, arn: &str, region: &str, active: bool) -> Self {
        self.load_balancers.push(LoadBalancer { arn: arn.into(), region: region.into(), active });
        self
    }

    fn hex(&mut self, n: usize) -> String {
        let mut out = String::new();
        while out.len() < n {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            out.push_str(&format!("{:016x}", self.seed));
        }
        out.truncate(n);
        out
    }

    fn changed(&mut self, accelerator_arn: &str) {
        if let Some(a) = self.observed.accelerators.iter_mut().find(|a| a.arn == accelerator_arn) {
            a.status = "IN_PROGRESS".into();
            self.pending.insert(accelerator_arn.to_string(), self.deploy_after);
        }
    }

    /// What the controller reads; afterwards, changes propagate one step further.
    pub fn observe(&mut self) -> Observed {
        let mut seen = self.observed.clone();
        seen.accelerators.retain(|a| !self.unseen.contains(&a.arn));
        let hidden: Vec<String> = self
            .observed
            .listeners
            .iter()
            .filter(|l| self.unseen.contains(&l.accelerator_arn))
            .map(|l| l.arn.clone())
            .collect();
        seen.listeners.retain(|l| !hidden.contains(&l.arn));
        seen.endpoint_groups.retain(|g| !hidden.contains(&g.listener_arn));
        for (arn, left) in self.pending.iter_mut() {
            *left = left.saturating_sub(1);
            if *left == 0
                && let Some(a) = self.observed.accelerators.iter_mut().find(|a| &a.arn == arn)
            {
                a.status = "DEPLOYED".into();
            }
        }
        self.pending.retain(|_, left| *left > 0);
        seen
    }

    /// Applies a plan, each create with its component's token from `tokens` (as the engine
    /// records them).
    pub fn apply(&mut self, plan: &Plan<Step>, tokens: &BTreeMap<String, String>) -> Result<(), String> {
        let mut created = BTreeMap::new();
        for phase in plan.phases() {
            let mut made = Vec::new();
            for step in phase {
                self.log.push(format!("{} {step}", step.action()));
                let token = step.creates().and_then(|c| tokens.get(c)).cloned();
                let result = self.step(step, &created, token);
                let id = match result {
                    Ok(id) => id,
                    Err(e) if step.action().starts_with("Delete") && gone(&e) => None,
                    Err(e) => return Err(format!("{} {step}: {e}", step.action())),
                };
                if self.lose_response_of == Some(step.action()) {
                    self.lose_response_of = None;
                    return Err(format!("{} {step}: Timeout: the response was lost", step.action()));
                }
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    made.push((c.to_string(), id));
                }
            }
            created.extend(made);
        }
        Ok(())
    }

    fn accelerator_mut(&mut self, arn: &str) -> Result<&mut Accelerator, String> {
        self.observed
            .accelerators
            .iter_mut()
            .find(|a| a.arn == arn)
            .ok_or_else(|| err("AcceleratorNotFoundException", arn))
    }

    fn listener_of(&self, arn: &str) -> Result<&Listener, String> {
        self.observed.listeners.iter().find(|l| l.arn == arn).ok_or_else(|| err("ListenerNotFoundException", arn))
    }

    fn check_ports(
        &self,
        accelerator: &str,
        protocol: &str,
        ranges: &[(u16, u16)],
        except: Option<&str>,
    ) -> Result<(), String> {
        if ranges.is_empty() || ranges.iter().any(|(f, t)| *f == 0 || f > t) {
            return Err(err("InvalidPortRangeException", format!("{ranges:?}")));
        }
        let taken = self.observed.listeners.iter().any(|l| {
            l.accelerator_arn == accelerator
                && Some(l.arn.as_str()) != except
                && l.protocol == protocol
                && overlap(&l.port_ranges, ranges)
        });
        if taken {
            return Err(err("InvalidPortRangeException", format!("{protocol} {ranges:?} overlaps another listener")));
        }
        Ok(())
    }

    fn check_endpoints(&self, region: &str, endpoints: &[EndpointConfig]) -> Result<Vec<Endpoint>, String> {
        endpoints
            .iter()
            .map(|e| {
                let lb = self.load_balancers.iter().find(|lb| lb.arn == e.id);
                match lb {
                    Some(lb) if lb.active && lb.region == region => Ok(Endpoint {
                        id: e.id.clone(),
                        weight: e.weight,
                        client_ip_preservation: e.client_ip_preservation,
                        health_state: Some("INITIAL".into()),
                    }),
                    Some(lb) if lb.region != region => {
                        Err(err("InvalidArgumentException", format!("{} is in {}, not {region}", e.id, lb.region)))
                    }
                    Some(_) => Err(err("InvalidArgumentException", format!("{} is not active", e.id))),
                    None => Err(err("InvalidArgumentException", format!("no load balancer {}", e.id))),
                }
            })
            .collect()
    }

    /// A repeated token answers with what the first request made, if it still exists.
    fn repeated(&self, op: &'static str, token: &Option<String>) -> Option<String> {
        let arn = self.tokens.get(&(op, token.clone()?))?.clone();
        let exists = self.observed.accelerators.iter().any(|a| a.arn == arn)
            || self.observed.listeners.iter().any(|l| l.arn == arn)
            || self.observed.endpoint_groups.iter().any(|g| g.arn == arn);
        exists.then_some(arn)
    }

    fn step(
        &mut self,
        step: &Step,
        created: &BTreeMap<String, String>,
        token: Option<String>,
    ) -> Result<Option<String>, String> {
        Ok(match step {
            Step::CreateAccelerator { name, ip_address_type, tags, .. } => {
                let token = token.ok_or("CreateAccelerator without an IdempotencyToken")?;
                if let Some(arn) = self.repeated("CreateAccelerator", &Some(token.clone())) {
                    return Ok(Some(arn));
                }
                let id = self.hex(32);
                let arn = format!("arn:aws:globalaccelerator::123456789012:accelerator/{id}");
                let dns = format!("a{}.awsglobalaccelerator.com", self.hex(16));
                self.observed.accelerators.push(Accelerator {
                    arn: arn.clone(),
                    name: name.clone(),
                    status: "IN_PROGRESS".into(),
                    enabled: true,
                    ip_address_type: ip_address_type.clone(),
                    dns_name: Some(dns),
                    dual_stack_dns_name: None,
                    ip_addresses: vec!["75.2.0.1".into(), "99.83.0.1".into()],
                    tags: tags.clone(),
                });
                self.pending.insert(arn.clone(), self.deploy_after);
                self.tokens.insert(("CreateAccelerator", token), arn.clone());
                Some(arn)
            }
            Step::UpdateAccelerator { arn, name, ip_address_type, enabled } => {
                let a = self.accelerator_mut(arn)?;
                a.name = name.clone();
                a.ip_address_type = ip_address_type.clone();
                a.enabled = *enabled;
                self.changed(arn);
                None
            }
            Step::TagAccelerator { arn, tags } => {
                let a = self.accelerator_mut(arn)?;
                a.tags.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
                None
            }
            Step::DeleteAccelerator { arn } => {
                let a = self.accelerator_mut(arn)?;
                if a.enabled || a.status != "DEPLOYED" {
                    return Err(err("AcceleratorNotDisabledException", format!("{arn} is enabled or in progress")));
                }
                if self.observed.listeners.iter().any(|l| &l.accelerator_arn == arn) {
                    return Err(err("AssociatedListenerFoundException", arn));
                }
                self.observed.accelerators.retain(|a| &a.arn != arn);
                None
            }
            Step::CreateListener { accelerator, protocol, port_ranges, client_affinity, .. } => {
                let accelerator = resolve(accelerator, created)?;
                self.accelerator_mut(&accelerator)?;
                let token = token.map(|t| format!("{t}/{accelerator}/{}", listener_key(protocol, port_ranges)));
                if let Some(arn) = self.repeated("CreateListener", &token) {
                    return Ok(Some(arn));
                }
                self.check_ports(&accelerator, protocol, port_ranges, None)?;
                let arn = format!("{accelerator}/listener/{}", self.hex(8));
                self.observed.listeners.push(Listener {
                    accelerator_arn: accelerator.clone(),
                    arn: arn.clone(),
                    protocol: protocol.clone(),
                    port_ranges: port_ranges.clone(),
                    client_affinity: client_affinity.clone(),
                });
                if let Some(t) = token {
                    self.tokens.insert(("CreateListener", t), arn.clone());
                }
                self.changed(&accelerator);
                Some(arn)
            }
            Step::UpdateListener { arn, protocol, port_ranges, client_affinity } => {
                let accelerator = self.listener_of(arn)?.accelerator_arn.clone();
                self.check_ports(&accelerator, protocol, port_ranges, Some(arn))?;
                let l = self.observed.listeners.iter_mut().find(|l| &l.arn == arn).ok_or("gone")?;
                l.protocol = protocol.clone();
                l.port_ranges = port_ranges.clone();
                l.client_affinity = client_affinity.clone();
                self.changed(&accelerator);
                None
            }
            Step::DeleteListener { arn, .. } => {
                let accelerator = self.listener_of(arn)?.accelerator_arn.clone();
                if self.observed.endpoint_groups.iter().any(|g| &g.listener_arn == arn) {
                    return Err(err("AssociatedEndpointGroupFoundException", arn));
                }
                self.observed.listeners.retain(|l| &l.arn != arn);
                self.changed(&accelerator);
                None
            }
            Step::CreateEndpointGroup {
                listener, region, traffic_dial_percentage, health_check, endpoints, ..
            } => {
                let listener = resolve(listener, created)?;
                let accelerator = self.listener_of(&listener)?.accelerator_arn.clone();
                let token = token.map(|t| format!("{t}/{listener}/{region}"));
                if let Some(arn) = self.repeated("CreateEndpointGroup", &token) {
                    return Ok(Some(arn));
                }
                if self.observed.endpoint_groups.iter().any(|g| g.listener_arn == listener && &g.region == region) {
                    return Err(err("EndpointGroupAlreadyExistsException", format!("{listener} has one in {region}")));
                }
                let endpoints = self.check_endpoints(region, endpoints)?;
                let arn = format!("{listener}/endpoint-group/{}", self.hex(12));
                self.observed.endpoint_groups.push(EndpointGroup {
                    listener_arn: listener.clone(),
                    arn: arn.clone(),
                    region: region.clone(),
                    traffic_dial_percentage: *traffic_dial_percentage,
                    health_check: health_check.clone(),
                    endpoints,
                });
                if let Some(t) = token {
                    self.tokens.insert(("CreateEndpointGroup", t), arn.clone());
                }
                self.changed(&accelerator);
                Some(arn)
            }
            Step::UpdateEndpointGroup { arn, traffic_dial_percentage, health_check, endpoints, .. } => {
                let g = self
                    .observed
                    .endpoint_groups
                    .iter()
                    .find(|g| &g.arn == arn)
                    .ok_or_else(|| err("EndpointGroupNotFoundException", arn))?;
                let (listener, region) = (g.listener_arn.clone(), g.region.clone());
                let endpoints = self.check_endpoints(&region, endpoints)?;
                let accelerator = self.listener_of(&listener)?.accelerator_arn.clone();
                let g = self.observed.endpoint_groups.iter_mut().find(|g| &g.arn == arn).ok_or("gone")?;
                g.traffic_dial_percentage = *traffic_dial_percentage;
                g.health_check = health_check.clone();
                g.endpoints = endpoints;
                self.changed(&accelerator);
                None
            }
            Step::DeleteEndpointGroup { arn, .. } => {
                let g = self
                    .observed
                    .endpoint_groups
                    .iter()
                    .find(|g| &g.arn == arn)
                    .ok_or_else(|| err("EndpointGroupNotFoundException", arn))?;
                let accelerator = self.listener_of(&g.listener_arn.clone())?.accelerator_arn.clone();
                self.observed.endpoint_groups.retain(|g| &g.arn != arn);
                self.changed(&accelerator);
                None
            }
        })
    }

    /// Accelerators tagged as `owner_uid`'s.
    pub fn owned_by(&self, owner_uid: &str) -> Vec<&Accelerator> {
        self.observed
            .accelerators
            .iter()
            .filter(|a| a.tags.get(securecart_api::tags::OWNER_UID).map(String::as_str) == Some(owner_uid))
            .collect()
    }

    /// An accelerator of someone else (another owner's or a user's), listener and all.
    pub fn add_foreign(&mut self, tags: Tags) -> String {
        let arn = format!("arn:aws:globalaccelerator::123456789012:accelerator/{}", self.hex(32));
        self.observed.accelerators.push(Accelerator {
            arn: arn.clone(),
            name: "someone-else".into(),
            status: "DEPLOYED".into(),
            enabled: true,
            ip_address_type: "IPV4".into(),
            dns_name: Some("a0.awsglobalaccelerator.com".into()),
            dual_stack_dns_name: None,
            ip_addresses: Vec::new(),
            tags,
        });
        self.observed.listeners.push(Listener {
            accelerator_arn: arn.clone(),
            arn: format!("{arn}/listener/ffff0000"),
            protocol: "TCP".into(),
            port_ranges: vec![(443, 443)],
            client_affinity: "NONE".into(),
        });
        arn
    }
}
