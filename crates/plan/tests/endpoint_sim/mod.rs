//! A small simulated EC2 endpoint API (VPC endpoints and their security groups) for the
//! PrivateEndpoint planner, strict where EC2 is strict (a group in use cannot be deleted, a
//! duplicate rule or group name is refused, a second endpoint for one service in one VPC
//! conflicts), and the helpers its tests share.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use securecart_api::tags::COMPONENT;
use securecart_api::{EndpointType, PrivateEndpointSpec};
use securecart_plan::plan::PlanStep;
use securecart_plan::private_endpoint::{self, Desired, Observed, TierSubnet, VpcTierView};
use securecart_plan::security_group::{self as sg, Ingress, SecurityGroup};
use securecart_plan::vpc_endpoint::{self as ep, Endpoint};
use securecart_plan::{Context, InUse, Known, Owner, Plan, Ref, Step, Tags};
use serde_json::{Value, json};

pub const DEFAULT_POLICY: &str =
    r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

pub struct Sim {
    pub observed: Observed,
    /// State a new endpoint starts in: `available`, `pending` (available one pass later) or
    /// `pendingAcceptance` (until `accept`).
    pub starts: &'static str,
    /// A deleted endpoint stays `deleting` (holding its security group) for one pass.
    pub deletes_slowly: bool,
    group_names: BTreeMap<String, (String, String)>,
    counters: BTreeMap<&'static str, u32>,
    log: Vec<String>,
}

impl Sim {
    pub fn new() -> Self {
        Sim {
            observed: Observed::default(),
            starts: "available",
            deletes_slowly: false,
            group_names: BTreeMap::new(),
            counters: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    fn fresh(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_default();
        *n += 1;
        format!("{prefix}-{n}")
    }

    /// Time passes: pending endpoints become available, deleting ones disappear.
    pub fn tick(&mut self) {
        self.observed.endpoints.retain(|e| e.state != "deleting");
        for e in &mut self.observed.endpoints {
            if e.state == "pending" {
                e.state = "available".into();
            }
        }
    }

    pub fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        self.tick();
        self.apply_steps(plan, usize::MAX)
    }

    pub fn apply_until_crash(&mut self, plan: &Plan<Step>, n: usize) -> Result<(), String> {
        self.apply_steps(plan, n)
    }

    fn apply_steps(&mut self, plan: &Plan<Step>, limit: usize) -> Result<(), String> {
        let mut created: BTreeMap<String, String> = BTreeMap::new();
        let mut done = 0;
        for phase in plan.phases() {
            let mut new = Vec::new();
            for step in phase {
                if done == limit {
                    return Ok(());
                }
                let id = self.step(step, &created).map_err(|e| format!("{} failed: {e}", step.action()))?;
                self.log.push(format!("{} {}", step.action(), id.as_deref().unwrap_or("")).trim_end().to_string());
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    new.push((c.to_string(), id));
                }
                done += 1;
            }
            created.extend(new);
        }
        Ok(())
    }

    fn group_mut(&mut self, id: &str) -> Result<&mut SecurityGroup, String> {
        self.observed.security_groups.iter_mut().find(|g| g.id == id).ok_or(format!("InvalidGroup.NotFound: {id}"))
    }

    fn endpoint_mut(&mut self, id: &str) -> Result<&mut Endpoint, String> {
        self.observed
            .endpoints
            .iter_mut()
            .find(|e| e.id == id && e.state != "deleting")
            .ok_or(format!("InvalidVpcEndpointId.NotFound: {id}"))
    }

    fn step(&mut self, step: &Step, created: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        let resolve = |r: &Ref| match r {
            Ref::Id(id) => Ok(id.clone()),
            Ref::Created(c) => created.get(c).cloned().ok_or(format!("Ref::Created({c}) not created earlier")),
        };
        match step {
            Step::SecurityGroup(sg::Step::SetTags { resource_id, tags, .. })
            | Step::VpcEndpoint(ep::Step::SetTags { resource_id, tags, .. }) => {
                let target = if let Some(e) = self.observed.endpoints.iter_mut().find(|e| &e.id == resource_id) {
                    &mut e.tags
                } else {
                    &mut self.group_mut(resource_id)?.tags
                };
                target.extend(tags.clone());
                Ok(Some(resource_id.clone()))
            }
            Step::SecurityGroup(sg::Step::CreateSecurityGroup { vpc_id, name: group_name, tags, .. }) => {
                if self.group_names.values().any(|(v, n)| v == vpc_id && n == group_name) {
                    return Err(format!("InvalidGroup.Duplicate: {group_name}"));
                }
                let id = self.fresh("sg");
                self.group_names.insert(id.clone(), (vpc_id.clone(), group_name.clone()));
                self.observed.security_groups.push(SecurityGroup {
                    id: id.clone(),
                    vpc_id: vpc_id.clone(),
                    ingress: BTreeSet::new(),
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::SecurityGroup(sg::Step::AuthorizeIngress { group, rules }) => {
                let id = resolve(group)?;
                if rules.is_empty() {
                    return Err("MissingParameter: IpPermissions".into());
                }
                let g = self.group_mut(&id)?;
                for r in rules {
                    if g.ingress.contains(r) {
                        return Err(format!("InvalidPermission.Duplicate: {r}"));
                    }
                    g.ingress.insert(r.clone());
                }
                Ok(Some(id))
            }
            Step::SecurityGroup(sg::Step::RevokeIngress { group_id, rules }) => {
                let g = self.group_mut(group_id)?;
                for r in rules {
                    let before = g.ingress.len();
                    g.ingress.retain(|x| x != r);
                    if g.ingress.len() == before {
                        return Err(format!("InvalidPermission.NotFound: {r}"));
                    }
                }
                Ok(Some(group_id.clone()))
            }
            Step::VpcEndpoint(ep::Step::CreateEndpoint {
                endpoint_type,
                service_name,
                vpc_id,
                route_table_ids,
                subnet_ids,
                security_group,
                private_dns,
                policy,
                tags,
                ..
            }) => {
                let sg = security_group.as_ref().map(resolve).transpose()?;
                match endpoint_type {
                    EndpointType::Gateway if sg.is_some() || !subnet_ids.is_empty() || private_dns.is_some() => {
                        return Err("InvalidParameter: Gateway endpoints take route tables only".into());
                    }
                    EndpointType::Interface if sg.is_none() || subnet_ids.is_empty() || !route_table_ids.is_empty() => {
                        return Err("InvalidParameter: Interface endpoints take subnets and a security group".into());
                    }
                    _ => {}
                }
                if let Some(sg) = &sg {
                    self.group_mut(sg)?;
                }
                // Present endpoints (deleting ones included) for the same service in the same VPC
                // conflict on routes (Gateway) or on private DNS (Interface).
                let conflict = self.observed.endpoints.iter().find(|e| {
                    &e.service_name == service_name
                        && &e.vpc_id == vpc_id
                        && (e.route_table_ids.iter().any(|t| route_table_ids.contains(t))
                            || (e.private_dns_enabled == Some(true) && *private_dns == Some(true)))
                });
                if let Some(e) = conflict {
                    return Err(format!("RouteAlreadyExists / conflicting DNS domain: {} ({})", e.id, e.state));
                }
                let id = self.fresh("vpce");
                let interface = *endpoint_type == EndpointType::Interface;
                let enis = subnet_ids.iter().map(|_| self.fresh("eni")).collect();
                self.observed.endpoints.push(Endpoint {
                    id: id.clone(),
                    endpoint_type: endpoint_type.as_aws().into(),
                    service_name: service_name.clone(),
                    vpc_id: vpc_id.clone(),
                    state: self.starts.into(),
                    route_table_ids: route_table_ids.clone(),
                    subnet_ids: subnet_ids.clone(),
                    network_interface_ids: enis,
                    security_group_ids: sg.into_iter().collect(),
                    private_dns_enabled: *private_dns,
                    policy: match endpoint_type {
                        EndpointType::GatewayLoadBalancer => None,
                        _ => Some(policy.clone().unwrap_or_else(|| DEFAULT_POLICY.into())),
                    },
                    dns_entries: if interface {
                        vec![(format!("{id}-x1.{service_name}.vpce.amazonaws.com"), Some("Z7HUB22UULQXV".into()))]
                    } else {
                        Vec::new()
                    },
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::VpcEndpoint(ep::Step::ModifyEndpoint {
                id,
                add_route_tables,
                remove_route_tables,
                add_subnets,
                remove_subnets,
                policy,
                reset_policy,
                private_dns,
            }) => {
                let e = self.endpoint_mut(id)?;
                for (add, remove, have) in [
                    (add_route_tables, remove_route_tables, &mut e.route_table_ids),
                    (add_subnets, remove_subnets, &mut e.subnet_ids),
                ] {
                    for x in remove {
                        if !have.contains(x) {
                            return Err(format!("InvalidParameter: {x} is not associated"));
                        }
                        have.retain(|h| h != x);
                    }
                    for x in add {
                        if have.contains(x) {
                            return Err(format!("InvalidParameter: {x} is already associated"));
                        }
                        have.push(x.clone());
                    }
                }
                if policy.is_some() && *reset_policy {
                    return Err("InvalidParameterCombination: PolicyDocument and ResetPolicy".into());
                }
                if let Some(p) = policy {
                    e.policy = Some(p.clone());
                }
                if *reset_policy {
                    e.policy = Some(DEFAULT_POLICY.into());
                }
                if let Some(dns) = private_dns {
                    e.private_dns_enabled = Some(*dns);
                }
                Ok(Some(id.clone()))
            }
            Step::VpcEndpoint(ep::Step::DeleteEndpoint { id }) => {
                let slow = self.deletes_slowly;
                let e = self.endpoint_mut(id)?;
                e.state = "deleting".into();
                if !slow {
                    self.observed.endpoints.retain(|e| &e.id != id);
                }
                Ok(Some(id.clone()))
            }
            Step::SecurityGroup(sg::Step::DeleteSecurityGroup { id }) => {
                if let Some(e) = self.observed.endpoints.iter().find(|e| e.security_group_ids.contains(id)) {
                    return Err(format!("DependencyViolation: {id} is used by {} ({})", e.id, e.state));
                }
                self.group_mut(id)?;
                self.observed.security_groups.retain(|g| &g.id != id);
                self.group_names.remove(id);
                Ok(Some(id.clone()))
            }
            other => Err(format!("not an EC2 endpoint step: {other}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

pub fn owner() -> Owner {
    Owner { kind: "PrivateEndpoint".into(), namespace: "platform".into(), name: "pe".into(), uid: "uid-1".into() }
}

/// Same namespace and name (so the same tags and group name), another object.
pub fn stranger() -> Owner {
    Owner { uid: "uid-other".into(), ..owner() }
}

pub fn spec(mut v: Value) -> PrivateEndpointSpec {
    if v.get("vpcTierRef").is_none() {
        v["vpcTierRef"] = json!({ "name": "shop" });
    }
    serde_json::from_value(v).expect("spec deserialises")
}

pub fn s3() -> Value {
    json!({ "service": "s3", "tiers": ["app", "database"], "policy": policy() })
}

pub fn sts() -> Value {
    json!({ "service": "sts", "tiers": ["app"] })
}

pub fn with(mut v: Value, f: impl FnOnce(&mut Value)) -> Value {
    f(&mut v);
    v
}

pub fn policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::shop-assets/*"
        }]
    })
}

pub const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// The three-tier VpcTier: public (one shared table), app (one table per zone), database (one
/// shared table), in `zones`.
pub fn view(zones: &[&str]) -> VpcTierView {
    let mut subnets = Vec::new();
    for (tier, base, per_zone_table) in [("public", 0, false), ("app", 16, true), ("database", 3, false)] {
        for (i, z) in zones.iter().enumerate() {
            let zl = z.chars().last().unwrap();
            let cidr = if tier == "app" {
                format!("10.20.{}.0/20", base + 16 * i)
            } else {
                format!("10.20.{}.0/24", base + i)
            };
            subnets.push(TierSubnet {
                tier: tier.into(),
                zone: z.to_string(),
                cidr_block: cidr,
                subnet_id: format!("subnet-{tier}-{zl}"),
                route_table_id: if per_zone_table { format!("rtb-{tier}-{zl}") } else { format!("rtb-{tier}") },
            });
        }
    }
    VpcTierView {
        name: "shop".into(),
        region: "us-east-1".into(),
        vpc_id: "vpc-1".into(),
        cidr_block: "10.20.0.0/16".into(),
        subnets,
    }
}

pub fn vpc3() -> VpcTierView {
    view(&ZONES)
}

pub fn desired_as(v: &Value, who: &Owner, vpc: &VpcTierView) -> Desired {
    private_endpoint::desired(&spec(v.clone()), who, vpc).expect("spec is valid")
}

pub fn desired(v: &Value) -> Desired {
    desired_as(v, &owner(), &vpc3())
}

pub fn plan_as(v: Option<&Value>, who: &Owner, vpc: &VpcTierView, sim: &Sim) -> Plan<Step> {
    let d = v.map(|v| desired_as(v, who, vpc));
    private_endpoint::plan(d.as_ref(), &cx(who), &sim.observed)
}

pub fn plan_for(v: Option<&Value>, sim: &Sim) -> Plan<Step> {
    plan_as(v, &owner(), &vpc3(), sim)
}

/// Plans and applies until a plan is in sync; returns the plans applied.
pub fn converge_in(v: Option<&Value>, who: &Owner, vpc: &VpcTierView, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
    let mut applied = Vec::new();
    for _ in 0..max {
        let plan = plan_as(v, who, vpc, sim);
        if plan.in_sync() {
            return applied;
        }
        if let Err(e) = sim.apply(&plan) {
            panic!("{e}\nplan:\n{}", plan.render());
        }
        applied.push(plan);
    }
    panic!("not in sync after {max} passes; last plan:\n{}", plan_as(v, who, vpc, sim).render());
}

pub fn converge(v: Option<&Value>, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
    converge_in(v, &owner(), &vpc3(), sim, max)
}

pub fn converged(v: &Value) -> Sim {
    let mut sim = Sim::new();
    converge(Some(v), &mut sim, 3);
    sim
}

pub fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(PlanStep::action).collect()
}

pub fn create_endpoint(plan: &Plan<Step>) -> &ep::Step {
    let found: Vec<&ep::Step> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::VpcEndpoint(e @ ep::Step::CreateEndpoint { .. }) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "one CreateEndpoint in\n{}", plan.render());
    found[0]
}

pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn rules(port: u16, cidrs: &[&str]) -> Vec<Ingress> {
    cidrs.iter().map(|c| Ingress::tcp(port, c)).collect()
}

pub fn set(rules: Vec<Ingress>) -> BTreeSet<Ingress> {
    rules.into_iter().collect()
}

static NOTHING_KNOWN: Known = Known::new();
static NOT_IN_USE: InUse = InUse::new();

/// What the engine hands the planner, with nothing recorded and nothing held.
pub fn cx(owner: &Owner) -> Context<'_> {
    Context { owner, known: &NOTHING_KNOWN, in_use: &NOT_IN_USE, chosen: None }
}

pub fn authorize(group: Ref, rules: Vec<Ingress>) -> Step {
    Step::SecurityGroup(sg::Step::AuthorizeIngress { group, rules })
}

pub fn revoke(group_id: &str, rules: Vec<Ingress>) -> Step {
    Step::SecurityGroup(sg::Step::RevokeIngress { group_id: group_id.into(), rules })
}

pub fn delete_endpoint(id: &str) -> Step {
    Step::VpcEndpoint(ep::Step::DeleteEndpoint { id: id.into() })
}

pub fn delete_group(id: &str) -> Step {
    Step::SecurityGroup(sg::Step::DeleteSecurityGroup { id: id.into() })
}

/// A ModifyEndpoint with only the given fields set: `Modify { .., ..Default::default() }.on(id)`.
#[derive(Default)]
pub struct Modify {
    pub add_route_tables: Vec<String>,
    pub remove_route_tables: Vec<String>,
    pub add_subnets: Vec<String>,
    pub remove_subnets: Vec<String>,
    pub policy: Option<String>,
    pub reset_policy: bool,
    pub private_dns: Option<bool>,
}

impl Modify {
    pub fn on(self, id: &str) -> Step {
        let Modify {
            add_route_tables,
            remove_route_tables,
            add_subnets,
            remove_subnets,
            policy,
            reset_policy,
            private_dns,
        } = self;
        Step::VpcEndpoint(ep::Step::ModifyEndpoint {
            id: id.into(),
            add_route_tables,
            remove_route_tables,
            add_subnets,
            remove_subnets,
            policy,
            reset_policy,
            private_dns,
        })
    }
}

pub fn comp(tags: &Tags) -> &str {
    tags.get(COMPONENT).map_or("", String::as_str)
}

pub fn at(secs: i64) -> Time {
    Time(Timestamp::from_second(secs).unwrap())
}

pub const APP_CIDRS: [&str; 3] = ["10.20.16.0/20", "10.20.32.0/20", "10.20.48.0/20"];
