//! The PrivateEndpoint planner run against a small simulated EC2 endpoint API: plan, apply,
//! observe again, until in sync.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use pretty_assertions::assert_eq;
use securecart_api::conditions::{ACCEPTED, reason};
use securecart_api::tags::COMPONENT;
use securecart_api::{EndpointType, PrivateEndpointSpec};
use securecart_plan::conditions::Readiness;
use securecart_plan::endpoint::{
    self, Desired, Endpoint, IngressRule, Observed, SecurityGroup, Step, TierSubnet, VpcTierView,
};
use securecart_plan::plan::PlanStep;
use securecart_plan::{Owner, Plan, Ref, Tags};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Simulator

const DEFAULT_POLICY: &str =
    r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

struct Sim {
    observed: Observed,
    /// State a new endpoint starts in: `available`, `pending` (available one pass later) or
    /// `pendingAcceptance` (until `accept`).
    starts: &'static str,
    /// A deleted endpoint stays `deleting` (holding its security group) for one pass.
    deletes_slowly: bool,
    group_names: BTreeMap<String, (String, String)>,
    counters: BTreeMap<&'static str, u32>,
    log: Vec<String>,
}

impl Sim {
    fn new() -> Self {
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
    fn tick(&mut self) {
        self.observed.endpoints.retain(|e| e.state != "deleting");
        for e in &mut self.observed.endpoints {
            if e.state == "pending" {
                e.state = "available".into();
            }
        }
    }

    fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        self.tick();
        self.apply_steps(plan, usize::MAX)
    }

    fn apply_until_crash(&mut self, plan: &Plan<Step>, n: usize) -> Result<(), String> {
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
            Step::SetTags { resource_id, tags, .. } => {
                let target = if let Some(e) = self.observed.endpoints.iter_mut().find(|e| &e.id == resource_id) {
                    &mut e.tags
                } else {
                    &mut self.group_mut(resource_id)?.tags
                };
                target.extend(tags.clone());
                Ok(Some(resource_id.clone()))
            }
            Step::CreateSecurityGroup { vpc_id, group_name, tags, .. } => {
                if self.group_names.values().any(|(v, n)| v == vpc_id && n == group_name) {
                    return Err(format!("InvalidGroup.Duplicate: {group_name}"));
                }
                let id = self.fresh("sg");
                self.group_names.insert(id.clone(), (vpc_id.clone(), group_name.clone()));
                self.observed.security_groups.push(SecurityGroup {
                    id: id.clone(),
                    vpc_id: vpc_id.clone(),
                    ingress: Vec::new(),
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::AuthorizeIngress { group, rules } => {
                let id = resolve(group)?;
                if rules.is_empty() {
                    return Err("MissingParameter: IpPermissions".into());
                }
                let g = self.group_mut(&id)?;
                for r in rules {
                    if g.ingress.contains(r) {
                        return Err(format!("InvalidPermission.Duplicate: {r}"));
                    }
                    g.ingress.push(r.clone());
                }
                Ok(Some(id))
            }
            Step::RevokeIngress { group_id, rules } => {
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
            Step::CreateEndpoint {
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
            } => {
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
            Step::ModifyEndpoint {
                id,
                add_route_tables,
                remove_route_tables,
                add_subnets,
                remove_subnets,
                policy,
                reset_policy,
                private_dns,
            } => {
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
            Step::DeleteEndpoint { id } => {
                let slow = self.deletes_slowly;
                let e = self.endpoint_mut(id)?;
                e.state = "deleting".into();
                if !slow {
                    self.observed.endpoints.retain(|e| &e.id != id);
                }
                Ok(Some(id.clone()))
            }
            Step::DeleteSecurityGroup { id } => {
                if let Some(e) = self.observed.endpoints.iter().find(|e| e.security_group_ids.contains(id)) {
                    return Err(format!("DependencyViolation: {id} is used by {} ({})", e.id, e.state));
                }
                self.group_mut(id)?;
                self.observed.security_groups.retain(|g| &g.id != id);
                self.group_names.remove(id);
                Ok(Some(id.clone()))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn owner() -> Owner {
    Owner { kind: "PrivateEndpoint".into(), namespace: "platform".into(), name: "pe".into(), uid: "uid-1".into() }
}

/// Same namespace and name (so the same tags and group name), another object.
fn stranger() -> Owner {
    Owner { uid: "uid-other".into(), ..owner() }
}

fn spec(mut v: Value) -> PrivateEndpointSpec {
    if v.get("vpcTierRef").is_none() {
        v["vpcTierRef"] = json!({ "name": "shop" });
    }
    serde_json::from_value(v).expect("spec deserialises")
}

fn s3() -> Value {
    json!({ "service": "s3", "tiers": ["app", "database"], "policy": policy() })
}

fn sts() -> Value {
    json!({ "service": "sts", "tiers": ["app"] })
}

fn with(mut v: Value, f: impl FnOnce(&mut Value)) -> Value {
    f(&mut v);
    v
}

fn policy() -> Value {
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

const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// The three-tier VpcTier: public (one shared table), app (one table per zone), database (one
/// shared table), in `zones`.
fn view(zones: &[&str]) -> VpcTierView {
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

fn vpc3() -> VpcTierView {
    view(&ZONES)
}

fn desired_as(v: &Value, who: &Owner, vpc: &VpcTierView) -> Desired {
    endpoint::desired(&spec(v.clone()), who, vpc).expect("spec is valid")
}

fn desired(v: &Value) -> Desired {
    desired_as(v, &owner(), &vpc3())
}

fn plan_as(v: Option<&Value>, who: &Owner, vpc: &VpcTierView, sim: &Sim) -> Plan<Step> {
    let d = v.map(|v| desired_as(v, who, vpc));
    endpoint::plan(d.as_ref(), who, &sim.observed)
}

fn plan_for(v: Option<&Value>, sim: &Sim) -> Plan<Step> {
    plan_as(v, &owner(), &vpc3(), sim)
}

/// Plans and applies until a plan is in sync; returns the plans applied.
fn converge_in(v: Option<&Value>, who: &Owner, vpc: &VpcTierView, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
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

fn converge(v: Option<&Value>, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
    converge_in(v, &owner(), &vpc3(), sim, max)
}

fn converged(v: &Value) -> Sim {
    let mut sim = Sim::new();
    converge(Some(v), &mut sim, 3);
    sim
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(PlanStep::action).collect()
}

fn create_endpoint(plan: &Plan<Step>) -> &Step {
    let found: Vec<&Step> = plan.steps.iter().filter(|s| matches!(s, Step::CreateEndpoint { .. })).collect();
    assert_eq!(found.len(), 1, "one CreateEndpoint in\n{}", plan.render());
    found[0]
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn rules(port: u16, cidrs: &[&str]) -> Vec<IngressRule> {
    cidrs.iter().map(|c| IngressRule { port, cidr: c.to_string() }).collect()
}

/// A ModifyEndpoint with only the given fields set: `Modify { .., ..Default::default() }.on(id)`.
#[derive(Default)]
struct Modify {
    add_route_tables: Vec<String>,
    remove_route_tables: Vec<String>,
    add_subnets: Vec<String>,
    remove_subnets: Vec<String>,
    policy: Option<String>,
    reset_policy: bool,
    private_dns: Option<bool>,
}

impl Modify {
    fn on(self, id: &str) -> Step {
        let Modify {
            add_route_tables,
            remove_route_tables,
            add_subnets,
            remove_subnets,
            policy,
            reset_policy,
            private_dns,
        } = self;
        Step::ModifyEndpoint {
            id: id.into(),
            add_route_tables,
            remove_route_tables,
            add_subnets,
            remove_subnets,
            policy,
            reset_policy,
            private_dns,
        }
    }
}

fn comp(tags: &Tags) -> &str {
    tags.get(COMPONENT).map_or("", String::as_str)
}

fn at(secs: i64) -> Time {
    Time(Timestamp::from_second(secs).unwrap())
}

const APP_CIDRS: [&str; 3] = ["10.20.16.0/20", "10.20.32.0/20", "10.20.48.0/20"];

// ---------------------------------------------------------------------------------------------
// 1. Gateway endpoint

#[test]
fn s3_gateway_endpoint_gets_the_tiers_route_tables_and_the_policy_and_converges() {
    let v = s3();
    let mut sim = Sim::new();
    let first = plan_for(Some(&v), &sim);
    assert_eq!(actions(&first), ["CreateVpcEndpoint"]);
    let Step::CreateEndpoint {
        component,
        endpoint_type,
        service_name,
        vpc_id,
        route_table_ids,
        subnet_ids,
        security_group,
        private_dns,
        policy: p,
        tags,
    } = create_endpoint(&first).clone()
    else {
        unreachable!()
    };
    assert_eq!(component, "endpoint");
    assert_eq!(endpoint_type, EndpointType::Gateway);
    assert_eq!(service_name, "com.amazonaws.us-east-1.s3");
    assert_eq!(vpc_id, "vpc-1");
    assert_eq!(route_table_ids, strs(&["rtb-app-a", "rtb-app-b", "rtb-app-c", "rtb-database"]));
    assert!(subnet_ids.is_empty());
    assert_eq!((security_group, private_dns), (None, None));
    assert_eq!(serde_json::from_str::<Value>(&p.unwrap()).unwrap(), policy());
    assert!(owner().owns(&tags));
    assert_eq!(comp(&tags), "endpoint");

    let applied = converge(Some(&v), &mut sim, 3);
    assert_eq!(applied.len(), 1);
    assert!(plan_for(Some(&v), &sim).in_sync());
    let e = &sim.observed.endpoints[0];
    assert_eq!((e.id.as_str(), e.state.as_str()), ("vpce-1", "available"));
    assert!(sim.observed.security_groups.is_empty(), "no security group for a Gateway endpoint");
}

#[test]
fn dynamodb_defaults_to_gateway_and_other_services_to_interface() {
    let t = |v: Value| endpoint::endpoint_type(&spec(v));
    assert_eq!(t(json!({ "service": "dynamodb", "tiers": ["app"] })), EndpointType::Gateway);
    assert_eq!(t(json!({ "service": "s3", "tiers": ["app"] })), EndpointType::Gateway);
    assert_eq!(t(json!({ "service": "s3", "type": "Interface", "tiers": ["app"] })), EndpointType::Interface);
    assert_eq!(t(json!({ "service": "ecr.api", "tiers": ["app"] })), EndpointType::Interface);
    assert_eq!(t(json!({ "serviceName": "com.amazonaws.us-east-1.s3", "tiers": ["app"] })), EndpointType::Interface);
}

// ---------------------------------------------------------------------------------------------
// 2. Interface endpoint

#[test]
fn sts_interface_endpoint_takes_one_app_subnet_per_zone_and_a_security_group() {
    let v = sts();
    let first = plan_for(Some(&v), &Sim::new());
    assert_eq!(actions(&first), ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "CreateVpcEndpoint"]);
    let Step::CreateSecurityGroup { component, vpc_id, group_name, tags } = &first.steps[0] else { unreachable!() };
    assert_eq!(
        (component.as_str(), vpc_id.as_str(), group_name.as_str()),
        ("sg", "vpc-1", "securecart-platform-pe-uid-1")
    );
    assert!(owner().owns(tags));
    assert_eq!(
        first.steps[1],
        Step::AuthorizeIngress { group: Ref::Created("sg".into()), rules: rules(443, &["10.20.0.0/16"]) }
    );
    let Step::CreateEndpoint {
        endpoint_type,
        service_name,
        subnet_ids,
        route_table_ids,
        security_group,
        private_dns,
        policy,
        ..
    } = create_endpoint(&first)
    else {
        unreachable!()
    };
    assert_eq!(*endpoint_type, EndpointType::Interface);
    assert_eq!(service_name, "com.amazonaws.us-east-1.sts");
    assert_eq!(*subnet_ids, strs(&["subnet-app-a", "subnet-app-b", "subnet-app-c"]));
    assert!(route_table_ids.is_empty());
    assert_eq!(*security_group, Some(Ref::Created("sg".into())));
    assert_eq!(*private_dns, Some(true));
    assert_eq!(*policy, None);

    let mut sim = Sim::new();
    assert_eq!(converge(Some(&v), &mut sim, 3).len(), 1);
    let e = &sim.observed.endpoints[0];
    assert_eq!(e.security_group_ids, ["sg-1"]);
    assert_eq!(sim.observed.security_groups[0].ingress, rules(443, &["10.20.0.0/16"]));
}

#[test]
fn interface_security_group_rules_follow_allowed_tiers_cidrs_and_ports() {
    let sg = |v: Value| desired(&with(sts(), |s| s.as_object_mut().unwrap().extend(v.as_object().unwrap().clone())));
    let ingress = |d: Desired| d.security_group.unwrap().ingress.into_iter().collect::<Vec<_>>();
    let table: Vec<(Value, Vec<IngressRule>)> = vec![
        (json!({}), rules(443, &["10.20.0.0/16"])),
        (json!({ "allowedTiers": ["app"] }), rules(443, &APP_CIDRS)),
        (json!({ "allowedCidrs": ["192.168.0.0/24"] }), rules(443, &["192.168.0.0/24"])),
        (
            json!({ "allowedTiers": ["database"], "allowedCidrs": ["192.168.0.0/24"] }),
            rules(443, &["10.20.3.0/24", "10.20.4.0/24", "10.20.5.0/24", "192.168.0.0/24"]),
        ),
        (json!({ "ports": [8443, 443] }), [rules(443, &["10.20.0.0/16"]), rules(8443, &["10.20.0.0/16"])].concat()),
        (json!({ "allowedCidrs": [] }), vec![]),
    ];
    for (extra, want) in table {
        assert_eq!(ingress(sg(extra.clone())), want, "{extra}");
    }
}

#[test]
fn an_endpoint_nobody_may_reach_gets_a_group_without_rules() {
    let v = with(sts(), |v| v["allowedCidrs"] = json!([]));
    let first = plan_for(Some(&v), &Sim::new());
    assert_eq!(actions(&first), ["CreateSecurityGroup", "CreateVpcEndpoint"], "no empty AuthorizeSecurityGroupIngress");
    let mut sim = Sim::new();
    converge(Some(&v), &mut sim, 3);
    assert!(sim.observed.security_groups[0].ingress.is_empty());
}

#[test]
fn security_group_names_are_unique_per_object_and_fit_ec2s_limit() {
    let long = Owner { namespace: "n".repeat(63), name: "x".repeat(253), uid: "0123456789abcdef".into(), ..owner() };
    let d = desired_as(&sts(), &long, &vpc3());
    let name = d.security_group.unwrap().group_name;
    assert_eq!(name.len(), 255);
    assert!(name.ends_with("x-01234567"), "{name}");
    assert_ne!(desired_as(&sts(), &stranger(), &vpc3()).security_group, desired(&sts()).security_group);
}

#[test]
fn private_dns_defaults_true_for_aws_services_and_false_for_partner_services() {
    let d = desired(&sts());
    assert_eq!((d.private_dns, d.partner), (Some(true), false));
    let partner = json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc123", "tiers": ["app"] });
    let d = desired(&partner);
    assert_eq!((d.private_dns, d.partner), (Some(false), true));
    assert_eq!(d.service_name, "com.amazonaws.vpce.us-east-1.vpce-svc-0abc123");
    let d = desired(&with(partner, |v| v["privateDns"] = json!(true)));
    assert_eq!(d.private_dns, Some(true));
    assert_eq!(desired(&with(sts(), |v| v["privateDns"] = json!(false))).private_dns, Some(false));
    assert_eq!(desired(&s3()).private_dns, None, "not set for a Gateway endpoint");
}

#[test]
fn multiple_tiers_pick_the_first_listed_tier_with_a_subnet_in_each_zone() {
    let mut vpc = vpc3();
    vpc.subnets.retain(|s| !(s.tier == "app" && s.zone == "us-east-1c"));
    let v = with(sts(), |v| v["tiers"] = json!(["app", "database"]));
    let d = desired_as(&v, &owner(), &vpc);
    assert_eq!(d.subnet_ids.into_iter().collect::<Vec<_>>(), ["subnet-app-a", "subnet-app-b", "subnet-database-c"]);
    let v = with(sts(), |v| v["tiers"] = json!(["database", "app"]));
    let d = desired_as(&v, &owner(), &vpc);
    assert_eq!(
        d.subnet_ids.into_iter().collect::<Vec<_>>(),
        ["subnet-database-a", "subnet-database-b", "subnet-database-c"]
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Golden

#[test]
fn interface_first_plan_matches_golden_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/endpoint_interface_first_plan.txt");
    let v = with(sts(), |v| v["allowedTiers"] = json!(["app"]));
    let got = plan_for(Some(&v), &Sim::new()).render();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("golden file exists; run with UPDATE_GOLDEN=1 to write it");
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// 4. Drift

/// Converges `v`, lets `drift` change AWS, and checks the next plan is exactly `want`, after which
/// it converges again in one pass.
fn drift_case(v: &Value, drift: impl FnOnce(&mut Observed), want: Vec<Step>) {
    let mut sim = converged(v);
    drift(&mut sim.observed);
    let plan = plan_for(Some(v), &sim);
    assert_eq!(plan.steps, want);
    assert!(plan.waiting.is_empty(), "{:?}", plan.waiting);
    assert_eq!(converge(Some(v), &mut sim, 3).len(), usize::from(!want.is_empty()));
}

#[test]
fn removed_route_table_is_added_back() {
    drift_case(
        &s3(),
        |o| o.endpoints[0].route_table_ids.retain(|t| t != "rtb-app-b"),
        vec![Modify { add_route_tables: strs(&["rtb-app-b"]), ..Default::default() }.on("vpce-1")],
    );
}

#[test]
fn extra_route_table_is_removed() {
    drift_case(
        &s3(),
        |o| o.endpoints[0].route_table_ids.push("rtb-public".into()),
        vec![Modify { remove_route_tables: strs(&["rtb-public"]), ..Default::default() }.on("vpce-1")],
    );
}

#[test]
fn policy_edited_out_of_band_is_set_back_to_the_spec_policy() {
    let mut sim = converged(&s3());
    sim.observed.endpoints[0].policy = Some(DEFAULT_POLICY.into());
    let plan = plan_for(Some(&s3()), &sim);
    let [Step::ModifyEndpoint { id, policy: Some(p), reset_policy: false, add_route_tables, .. }] =
        plan.steps.as_slice()
    else {
        panic!("{}", plan.render())
    };
    assert_eq!((id.as_str(), add_route_tables.len()), ("vpce-1", 0));
    assert_eq!(serde_json::from_str::<Value>(p).unwrap(), policy());
    converge(Some(&s3()), &mut sim, 2);
}

#[test]
fn policy_is_compared_semantically() {
    let reordered = r#"{
        "Statement": [ { "Resource": "arn:aws:s3:::shop-assets/*", "Action": ["s3:GetObject"],
                         "Principal": "*", "Effect": "Allow" } ],
        "Version": "2012-10-17"
    }"#;
    drift_case(&s3(), |o| o.endpoints[0].policy = Some(reordered.into()), vec![]);
}

#[test]
fn spec_without_policy_accepts_the_aws_default_and_resets_a_custom_one() {
    let v = with(s3(), |v| v.as_object_mut().unwrap().retain(|k, _| k != "policy"));
    // What AWS may return for the default: a single statement object, Principal {"AWS": "*"}.
    let aws_default = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}}"#;
    drift_case(&v, |o| o.endpoints[0].policy = Some(aws_default.into()), vec![]);
    drift_case(&v, |o| o.endpoints[0].policy = None, vec![]);
    drift_case(
        &v,
        |o| o.endpoints[0].policy = Some(policy().to_string()),
        vec![Modify { reset_policy: true, ..Default::default() }.on("vpce-1")],
    );
}

#[test]
fn security_group_rules_are_repaired() {
    let v = with(sts(), |v| v["allowedTiers"] = json!(["app"]));
    drift_case(
        &v,
        |o| o.security_groups[0].ingress.retain(|r| r.cidr != APP_CIDRS[1]),
        vec![Step::AuthorizeIngress { group: Ref::Id("sg-1".into()), rules: rules(443, &[APP_CIDRS[1]]) }],
    );
    drift_case(
        &v,
        |o| o.security_groups[0].ingress.push(IngressRule { port: 22, cidr: "0.0.0.0/0".into() }),
        vec![Step::RevokeIngress { group_id: "sg-1".into(), rules: rules(22, &["0.0.0.0/0"]) }],
    );
}

#[test]
fn private_dns_and_removed_tags_are_repaired() {
    drift_case(
        &sts(),
        |o| o.endpoints[0].private_dns_enabled = Some(false),
        vec![Modify { private_dns: Some(true), ..Default::default() }.on("vpce-1")],
    );
    let mut sim = converged(&sts());
    sim.observed.endpoints[0].tags.remove("Name");
    let plan = plan_for(Some(&sts()), &sim);
    assert_eq!(
        plan.steps,
        [Step::SetTags {
            resource_id: "vpce-1".into(),
            component: "endpoint".into(),
            tags: Tags::from([("Name".into(), "platform-pe-endpoint".into())])
        }]
    );
}

// ---------------------------------------------------------------------------------------------
// 5. The VpcTier grows

#[test]
fn a_new_zone_adds_only_its_route_table_or_subnet() {
    let two = view(&ZONES[..2]);
    let mut sim = Sim::new();
    converge_in(Some(&s3()), &owner(), &two, &mut sim, 2);
    assert_eq!(sim.observed.endpoints[0].route_table_ids, strs(&["rtb-app-a", "rtb-app-b", "rtb-database"]));
    let plan = plan_as(Some(&s3()), &owner(), &vpc3(), &sim);
    assert_eq!(plan.steps, [Modify { add_route_tables: strs(&["rtb-app-c"]), ..Default::default() }.on("vpce-1")]);
    converge_in(Some(&s3()), &owner(), &vpc3(), &mut sim, 2);

    let v = with(sts(), |v| v["allowedTiers"] = json!(["app"]));
    let mut sim = Sim::new();
    converge_in(Some(&v), &owner(), &two, &mut sim, 2);
    let plan = plan_as(Some(&v), &owner(), &vpc3(), &sim);
    assert_eq!(
        plan.steps,
        [
            Step::AuthorizeIngress { group: Ref::Id("sg-1".into()), rules: rules(443, &[APP_CIDRS[2]]) },
            Modify { add_subnets: strs(&["subnet-app-c"]), ..Default::default() }.on("vpce-1"),
        ]
    );
    converge_in(Some(&v), &owner(), &vpc3(), &mut sim, 2);
    assert_eq!(sim.observed.endpoints.len(), 1);
    assert_eq!(sim.observed.security_groups.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 6. Crashes and duplicates

#[test]
fn after_a_crash_at_any_step_of_the_first_plan_it_converges_to_one_of_each() {
    let v = sts();
    let first = plan_for(Some(&v), &Sim::new());
    for n in 0..first.steps.len() {
        let mut sim = Sim::new();
        sim.apply_until_crash(&first, n).unwrap();
        let next = plan_for(Some(&v), &sim);
        if n >= 1 {
            assert!(!actions(&next).contains(&"CreateSecurityGroup"), "crash after {n}: SG found, not recreated");
        }
        converge(Some(&v), &mut sim, 3);
        assert_eq!(sim.observed.endpoints.len(), 1, "crash after {n}");
        assert_eq!(sim.observed.security_groups.len(), 1, "crash after {n}");
        assert_eq!(sim.observed.security_groups[0].ingress, rules(443, &["10.20.0.0/16"]), "crash after {n}");
    }
}

#[test]
fn a_duplicate_endpoint_is_deleted_and_the_lowest_id_kept() {
    for v in [s3(), sts()] {
        let mut sim = converged(&v);
        let mut dup = sim.observed.endpoints[0].clone();
        dup.id = "vpce-2".into();
        sim.observed.endpoints.push(dup);
        let plan = plan_for(Some(&v), &sim);
        assert_eq!(plan.steps, [Step::DeleteEndpoint { id: "vpce-2".into() }]);
        converge(Some(&v), &mut sim, 2);
        assert_eq!(sim.observed.endpoints.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["vpce-1"]);
        assert_eq!(sim.observed.security_groups.len(), usize::from(v == sts()));
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Immutable changes

#[test]
fn a_service_or_type_change_deletes_the_old_endpoint_before_creating_the_new_one() {
    let cases = [
        (sts(), with(sts(), |v| v["service"] = json!("ssm"))),
        (s3(), with(s3(), |v| v["type"] = json!("Interface"))),
        (
            with(sts(), |v| {
                v["service"] = json!("s3");
                v["type"] = json!("Interface");
            }),
            with(s3(), |v| {
                v["policy"].take();
            }),
        ),
    ];
    for (before, after) in cases {
        for slow in [false, true] {
            let mut sim = converged(&before);
            sim.deletes_slowly = slow;
            let old = sim.observed.endpoints[0].id.clone();
            let plan = plan_for(Some(&after), &sim);
            assert!(plan.steps.contains(&Step::DeleteEndpoint { id: old.clone() }), "{}", plan.render());
            assert!(!actions(&plan).contains(&"CreateVpcEndpoint"), "{}", plan.render());
            assert!(plan.waiting.iter().any(|w| w.contains(&old)), "{:?}", plan.waiting);
            sim.apply(&plan).unwrap();
            if slow {
                // Still `deleting`: it holds its routes and private DNS names until gone.
                assert_eq!(sim.observed.endpoints.iter().find(|e| e.id == old).unwrap().state, "deleting");
                let next = plan_for(Some(&after), &sim);
                assert!(!actions(&next).contains(&"CreateVpcEndpoint"), "{}", next.render());
                let wait = format!("endpoint {old} to be deleted before its replacement");
                assert!(next.waiting.contains(&wait), "{:?}", next.waiting);
            }
            converge(Some(&after), &mut sim, 5);
            assert_eq!(sim.observed.endpoints.len(), 1);
            let e = &sim.observed.endpoints[0];
            let d = desired(&after);
            assert_eq!(
                (e.service_name.as_str(), e.endpoint_type.as_str()),
                (d.service_name.as_str(), d.endpoint_type.as_aws())
            );
            assert_eq!(sim.observed.security_groups.len(), usize::from(d.security_group.is_some()), "{after}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Ownership

#[test]
fn another_owners_endpoint_and_security_group_are_never_touched() {
    let v = with(sts(), |v| v["privateDns"] = json!(false));
    let mut sim = Sim::new();
    converge_in(Some(&v), &stranger(), &vpc3(), &mut sim, 2);
    let theirs = sim.observed.clone();
    // Ours converges alongside, then is torn down, without a step on theirs.
    let applied = converge(Some(&v), &mut sim, 3);
    let applied = [applied, converge(None, &mut sim, 4)].concat();
    for plan in &applied {
        let text = plan.render();
        assert!(!text.contains("vpce-1") && !text.contains("sg-1 "), "{text}");
        assert!(!text.ends_with("sg-1\n"), "{text}");
    }
    assert_eq!(sim.observed, theirs);
    assert!(!endpoint::owns_anything(&owner(), &sim.observed));
    assert!(endpoint::owns_anything(&stranger(), &sim.observed));
    assert!(plan_for(None, &sim).in_sync());
}

// ---------------------------------------------------------------------------------------------
// 9. Teardown

#[test]
fn teardown_deletes_the_endpoint_then_the_security_group() {
    let both = Plan {
        steps: vec![Step::DeleteSecurityGroup { id: "x".into() }, Step::DeleteEndpoint { id: "x".into() }],
        waiting: vec![],
    };
    assert_eq!(both.levels(), [1, 0], "the endpoint goes first, then its group");
    for slow in [false, true] {
        let mut sim = converged(&sts());
        sim.deletes_slowly = slow;
        let first = plan_for(None, &sim);
        assert_eq!(first.steps, [Step::DeleteEndpoint { id: "vpce-1".into() }]);
        assert_eq!(first.waiting, ["endpoint vpce-1 to release security group sg-1"]);
        sim.apply(&first).unwrap();
        if slow {
            assert_eq!(sim.observed.endpoints[0].state, "deleting");
            let waiting = plan_for(None, &sim);
            assert!(waiting.steps.is_empty(), "{}", waiting.render());
            assert_eq!(waiting.waiting, ["endpoint vpce-1 to release security group sg-1"]);
            assert!(endpoint::owns_anything(&owner(), &sim.observed));
            sim.apply(&waiting).unwrap();
        }
        let last = plan_for(None, &sim);
        assert_eq!(last.steps, [Step::DeleteSecurityGroup { id: "sg-1".into() }]);
        sim.apply(&last).unwrap();
        assert!(plan_for(None, &sim).in_sync());
        assert!(!endpoint::owns_anything(&owner(), &sim.observed));
    }
}

#[test]
fn teardown_of_a_security_group_no_endpoint_holds_runs_in_one_plan() {
    let mut sim = Sim::new();
    sim.apply_until_crash(&plan_for(Some(&sts()), &sim), 2).unwrap();
    let plan = plan_for(None, &sim);
    assert_eq!(plan.steps, [Step::DeleteSecurityGroup { id: "sg-1".into() }]);
    assert_eq!(converge(None, &mut sim, 2).len(), 1);
    assert!(!endpoint::owns_anything(&owner(), &sim.observed));
}

// ---------------------------------------------------------------------------------------------
// 10. Validation

#[test]
fn invalid_specs_are_refused_naming_the_field() {
    let statement = |st: Value| json!({ "Version": "2012-10-17", "Statement": [st] });
    let table: Vec<(Value, &str)> = vec![
        (json!({ "service": "sts", "serviceName": "com.amazonaws.us-east-1.sts", "tiers": ["app"] }), "serviceName"),
        (json!({ "tiers": ["app"] }), "serviceName"),
        (json!({ "service": "", "tiers": ["app"] }), "service"),
        (with(s3(), |v| v["privateDns"] = json!(true)), "spec.privateDns"),
        (with(s3(), |v| v["allowedTiers"] = json!(["app"])), "spec.allowedTiers"),
        (with(s3(), |v| v["allowedCidrs"] = json!(["10.0.0.0/8"])), "spec.allowedCidrs"),
        (with(s3(), |v| v["ports"] = json!([443])), "spec.ports"),
        (json!({ "service": "sts", "type": "Gateway", "tiers": ["app"] }), "spec.type"),
        (json!({ "service": "sts", "tiers": [] }), "spec.tiers"),
        (json!({ "service": "sts", "tiers": ["app", "database", "app"] }), "spec.tiers[2]"),
        (with(sts(), |v| v["allowedCidrs"] = json!(["10.0.0.0/8", "10.0.0.300/24"])), "spec.allowedCidrs[1]"),
        (with(sts(), |v| v["allowedCidrs"] = json!(["fd00::/8"])), "spec.allowedCidrs[0]"),
        (with(sts(), |v| v["ports"] = json!([0])), "spec.ports"),
        (with(s3(), |v| v["policy"] = json!("allow all")), "spec.policy"),
        (with(s3(), |v| v["policy"] = json!([policy()])), "spec.policy"),
        (with(s3(), |v| v["policy"] = json!({ "Version": "2012-10-17" })), "spec.policy"),
        (with(s3(), |v| v["policy"] = json!({ "Statement": [] })), "spec.policy"),
        (with(s3(), |v| v["policy"]["Version"] = json!("2020-01-01")), "spec.policy"),
        (with(s3(), |v| v["policy"]["Version"] = json!(2012)), "spec.policy"),
        (with(s3(), |v| v["policy"] = statement(json!({ "Effect": "Permit", "Action": "*" }))), "Statement[0].Effect"),
        (with(s3(), |v| v["policy"] = statement(json!({ "Action": "*" }))), "Statement[0].Effect"),
        (with(s3(), |v| v["policy"] = statement(json!({ "Effect": "Allow", "Resource": "*" }))), "Statement[0]"),
        (with(s3(), |v| v["policy"] = statement(json!("Allow"))), "Statement[0]"),
        (
            json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "type": "GatewayLoadBalancer",
                    "tiers": ["app"], "policy": policy() }),
            "spec.policy",
        ),
        (with(sts(), |v| v["tags"] = json!({ "net.securecart.io/owner-uid": "x" })), "spec.tags"),
        (with(sts(), |v| v["tags"] = json!({ "aws:cloudformation:stack-name": "x" })), "spec.tags"),
    ];
    for (v, field) in table {
        let s = spec(v.clone());
        let err = endpoint::validate(&s).expect_err(&v.to_string()).0;
        assert!(err.contains(field), "{v}: {err:?} should name {field}");
        let again = endpoint::desired(&s, &owner(), &vpc3()).expect_err(&v.to_string()).0;
        assert_eq!(again, err, "desired() validates too");
    }
}

#[test]
fn valid_specs_pass_validation() {
    let ok = [
        s3(),
        sts(),
        with(s3(), |v| v["policy"] = json!({ "Statement": { "Effect": "Deny", "NotAction": "s3:Delete*" } })),
        with(s3(), |v| v["policy"]["Version"] = json!("2008-10-17")),
        with(sts(), |v| v["tags"] = json!({ "team": "platform" })),
        json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "type": "GatewayLoadBalancer", "tiers": ["app"] }),
        json!({ "service": "dynamodb", "tiers": ["database"] }),
    ];
    for v in ok {
        endpoint::validate(&spec(v.clone())).unwrap_or_else(|e| panic!("{v}: {e}"));
    }
}

#[test]
fn desired_refuses_what_the_vpc_tier_cannot_give() {
    let table: Vec<(Value, &str)> = vec![
        (
            json!({ "service": "sts", "tiers": ["app", "web"] }),
            "spec.tiers[1]: VpcTier shop has no tier \"web\" (it has app, database, public)",
        ),
        (
            with(sts(), |v| v["allowedTiers"] = json!(["batch"])),
            "spec.allowedTiers[0]: VpcTier shop has no tier \"batch\" (it has app, database, public)",
        ),
        (
            json!({ "serviceName": "com.amazonaws.eu-west-1.sts", "tiers": ["app"] }),
            "spec.serviceName: com.amazonaws.eu-west-1.sts is in region eu-west-1, but the VpcTier shop is in us-east-1",
        ),
        (
            json!({ "serviceName": "com.amazonaws.vpce.eu-west-1.vpce-svc-0abc", "tiers": ["app"] }),
            "spec.serviceName: com.amazonaws.vpce.eu-west-1.vpce-svc-0abc is in region eu-west-1, but the VpcTier shop is in us-east-1",
        ),
    ];
    for (v, want) in table {
        endpoint::validate(&spec(v.clone())).unwrap_or_else(|e| panic!("{v} is valid on its own: {e}"));
        let err = endpoint::desired(&spec(v.clone()), &owner(), &vpc3()).expect_err(&v.to_string());
        assert_eq!(err.0, want);
    }
}

// ---------------------------------------------------------------------------------------------
// 11. Outcome and status

fn partner() -> Value {
    json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "tiers": ["app"] })
}

fn outcome_of(v: &Value, sim: &Sim) -> Readiness {
    let d = desired(v);
    let plan = endpoint::plan(Some(&d), &owner(), &sim.observed);
    endpoint::readiness(&d, &sim.observed, &plan)
}

#[test]
fn outcome_follows_the_endpoint_state() {
    let sim = converged(&sts());
    assert_eq!(outcome_of(&sts(), &sim), Readiness::Ready);

    let mut sim = Sim::new();
    sim.starts = "pendingAcceptance";
    sim.apply(&plan_for(Some(&partner()), &sim)).unwrap();
    let plan = plan_for(Some(&partner()), &sim);
    assert!(plan.steps.is_empty(), "{}", plan.render());
    assert_eq!(plan.waiting.len(), 1);
    assert!(
        matches!(outcome_of(&partner(), &sim), Readiness::NotReady { reason: r, stalled: false, .. } if r == reason::PENDING_ACCEPTANCE)
    );

    sim.observed.endpoints[0].state = "rejected".into();
    let Readiness::NotReady { reason: r, message, stalled: true } = outcome_of(&partner(), &sim) else { panic!() };
    assert_eq!(r, reason::REJECTED);
    assert!(message.contains("vpce-1"), "{message}");

    sim.observed.endpoints[0].state = "available".into();
    assert_eq!(outcome_of(&partner(), &sim), Readiness::Ready);

    let mut sim = Sim::new();
    sim.starts = "pending";
    sim.apply(&plan_for(Some(&sts()), &sim)).unwrap();
    assert!(
        matches!(outcome_of(&sts(), &sim), Readiness::NotReady { message: m, .. } if m.contains("vpce-1 to become available"))
    );
    let mut sim = converged(&s3());
    sim.observed.endpoints[0].route_table_ids.pop();
    assert!(matches!(outcome_of(&s3(), &sim), Readiness::NotReady { message: m, .. } if m.contains("1 changes")));
}

#[test]
fn status_reports_the_endpoint_sorted() {
    let v = with(sts(), |v| v["tiers"] = json!(["app"]));
    let mut sim = converged(&v);
    let e = &mut sim.observed.endpoints[0];
    e.subnet_ids.reverse();
    e.network_interface_ids.reverse();
    let d = desired(&v);
    let s = endpoint::status(&d, &sim.observed, &[], &at(10));
    assert_eq!(s.region.as_deref(), Some("us-east-1"));
    assert_eq!(s.vpc_endpoint_id.as_deref(), Some("vpce-1"));
    assert_eq!(s.service_name.as_deref(), Some("com.amazonaws.us-east-1.sts"));
    assert_eq!(s.endpoint_type, Some(EndpointType::Interface));
    assert_eq!(s.state.as_deref(), Some("available"));
    assert_eq!(s.subnet_ids, strs(&["subnet-app-a", "subnet-app-b", "subnet-app-c"]));
    assert_eq!(s.network_interface_ids, strs(&["eni-1", "eni-2", "eni-3"]));
    assert!(s.route_table_ids.is_empty());
    assert_eq!(s.security_group_id.as_deref(), Some("sg-1"));
    assert_eq!(s.dns_entries.len(), 1);
    assert_eq!(s.dns_entries[0].dns_name, "vpce-1-x1.com.amazonaws.us-east-1.sts.vpce.amazonaws.com");
    assert_eq!(s.dns_entries[0].hosted_zone_id.as_deref(), Some("Z7HUB22UULQXV"));
    assert!(s.conditions.is_empty(), "Accepted only for partner services");

    let mut sim = converged(&s3());
    sim.observed.endpoints[0].route_table_ids.reverse();
    let s = endpoint::status(&desired(&s3()), &sim.observed, &[], &at(10));
    assert_eq!(s.route_table_ids, strs(&["rtb-app-a", "rtb-app-b", "rtb-app-c", "rtb-database"]));
    assert_eq!((s.security_group_id, s.dns_entries.len()), (None, 0));

    let s = endpoint::status(&desired(&s3()), &Observed::default(), &[], &at(10));
    assert_eq!((s.vpc_endpoint_id, s.state), (None, None));
}

#[test]
fn partner_services_get_an_accepted_condition_with_a_stable_transition_time() {
    let d = desired(&partner());
    let mut sim = Sim::new();
    sim.starts = "pendingAcceptance";
    sim.apply(&plan_for(Some(&partner()), &sim)).unwrap();
    let accepted = |c: &[Condition]| {
        let c = c.iter().find(|c| c.type_ == ACCEPTED).expect("Accepted condition").clone();
        (c.status, c.reason, c.last_transition_time)
    };
    let first = endpoint::status(&d, &sim.observed, &[], &at(10)).conditions;
    assert_eq!(accepted(&first), ("False".into(), reason::PENDING_ACCEPTANCE.into(), at(10)));
    let again = endpoint::status(&d, &sim.observed, &first, &at(20)).conditions;
    assert_eq!(accepted(&again), ("False".into(), reason::PENDING_ACCEPTANCE.into(), at(10)), "time kept");

    sim.observed.endpoints[0].state = "available".into();
    let ok = endpoint::status(&d, &sim.observed, &again, &at(30)).conditions;
    assert_eq!(accepted(&ok), ("True".into(), "Accepted".into(), at(30)), "flipped");
    let ok = endpoint::status(&d, &sim.observed, &ok, &at(40)).conditions;
    assert_eq!(accepted(&ok).2, at(30));

    sim.observed.endpoints[0].state = "rejected".into();
    let no = endpoint::status(&d, &sim.observed, &ok, &at(50)).conditions;
    assert_eq!(accepted(&no), ("False".into(), reason::REJECTED.into(), at(50)));
}

// ---------------------------------------------------------------------------------------------
// 12. users_of

#[test]
fn users_of_lists_only_the_endpoints_of_that_vpc_tier_sorted() {
    let on = |tier: &str| spec(json!({ "vpcTierRef": { "name": tier }, "service": "sts", "tiers": ["app"] }));
    let (a, b, c, d) = (on("shop"), on("other"), on("shop"), on("shop-2"));
    let all = [("zeta", &a), ("beta", &b), ("alpha", &c), ("gamma", &d)];
    assert_eq!(endpoint::users_of("shop", all), ["alpha", "zeta"]);
    assert_eq!(endpoint::users_of("other", all), ["beta"]);
    assert!(endpoint::users_of("none", all).is_empty());
}
