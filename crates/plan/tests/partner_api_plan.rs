//! The PartnerApi planner against a small simulated API Gateway (and WAF), strict where AWS is:
//! an integration needs its VPC link AVAILABLE (PENDING for a pass after its create), a
//! deployment needs every method integrated, a stage needs its deployment, a usage plan needs
//! its stage and cannot be deleted while it has stages, an API cannot be deleted while a usage
//! plan names it, a VPC link cannot be deleted while an integration uses it.

use std::collections::BTreeMap;

use securecart_api::PartnerApiSpec;
use securecart_plan::apigateway::{self, ApiResource, Integration, Method, RestApi, Stage, UsagePlan, VpcLink};
use securecart_plan::http_api;
use securecart_plan::partner_api::{self, BackendView, Observed};
use securecart_plan::plan::PlanStep;
use securecart_plan::security_group::{self as sg, SecurityGroup};
use securecart_plan::wafv2::{self, Association, WebAcl};
use securecart_plan::{Context, InUse, Known, Owner, Plan, Ref, Step};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";

fn owner() -> Owner {
    Owner { kind: "PartnerApi".into(), namespace: "platform".into(), name: "payments".into(), uid: "uid-1".into() }
}

fn base() -> Value {
    json!({
        "vpcTierRef": {"name": "shop"},
        "type": "REST",
        "backend": {"loadBalancerPolicyRef": {"name": "partner-nlb"}, "port": 443},
        "routes": [
            {"path": "/payments/{proxy+}", "methods": ["ANY"]},
            {"path": "/health", "methods": ["GET"]},
        ],
        "stage": {"name": "prod", "tracing": true, "throttling": {"rateLimit": 100.0, "burstLimit": 200}},
        "usagePlans": [{"name": "acme", "throttling": {"rateLimit": 20.0, "burstLimit": 40}, "quota": {"limit": 100000, "period": "DAY"}}],
        "waf": {"managedRuleGroups": ["AWSManagedRulesCommonRuleSet"]},
        "tags": {"team": "partners"},
    })
}

fn spec(v: Value) -> PartnerApiSpec {
    serde_json::from_value(v).expect("a PartnerApiSpec")
}

fn backend(n: u32) -> BackendView {
    BackendView {
        region: REGION.into(),
        load_balancer_arn: format!("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/partner/{n}"),
        dns_name: format!("partner-{n}.elb.us-east-1.amazonaws.com"),
        listener_arn: Some(format!("arn:aws:elasticloadbalancing:us-east-1:1:listener/net/partner/{n}/443")),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        vpc_id: "vpc-1".into(),
    }
}

#[derive(Default)]
struct Sim {
    o: Observed,
    known: Known,
    log: Vec<String>,
    n: u32,
    /// Integrations come back without their connection ID (as the emulator answers).
    drops_connection_id: bool,
}

fn resolve(r: &Ref, created: &BTreeMap<String, String>) -> Result<String, String> {
    match r {
        Ref::Id(id) => Ok(id.clone()),
        Ref::Created(c) => created.get(c).cloned().ok_or(format!("{c} not created by an earlier phase")),
    }
}

impl Sim {
    fn id(&mut self, prefix: &str) -> String {
        self.n += 1;
        format!("{prefix}{}", self.n)
    }

    fn observed(&self) -> Observed {
        let mut o = self.o.clone();
        if self.drops_connection_id {
            for m in o.apigateway.resources.iter_mut().flat_map(|r| r.methods.values_mut()) {
                if let Some(i) = &mut m.integration {
                    i.connection_id = None;
                }
            }
        }
        o
    }

    fn plan_as(&mut self, who: &Owner, spec: Option<&PartnerApiSpec>, lb: u32) -> Plan<Step> {
        let observed = self.observed();
        for (c, id) in partner_api::inventory(who, &observed) {
            self.known.entry(c).or_insert(id);
        }
        let desired = spec.map(|s| partner_api::desired(s, who, &backend(lb)).expect("valid"));
        let in_use = InUse::new();
        let cx = Context { owner: who, known: &self.known, in_use: &in_use, chosen: None };
        partner_api::plan(desired.as_ref(), &cx, &observed, REGION)
    }

    fn plan(&mut self, spec: Option<&PartnerApiSpec>, lb: u32) -> Plan<Step> {
        self.plan_as(&owner(), spec, lb)
    }

    /// Time passes (PENDING links become AVAILABLE), then the plan runs phase by phase.
    fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        for l in &mut self.o.apigateway.vpc_links {
            if l.status == "PENDING" {
                l.status = "AVAILABLE".into();
            }
        }
        for l in &mut self.o.http.vpc_links {
            if l.status == "PENDING" {
                l.status = "AVAILABLE".into();
            }
        }
        let mut created = BTreeMap::new();
        for phase in plan.phases() {
            let mut new = Vec::new();
            for step in phase {
                self.log.push(step.action().to_string());
                let id = match step {
                    Step::ApiGateway(s) => self.apigateway(s, &created)?,
                    Step::Wafv2(s) => self.wafv2(s, &created)?,
                    Step::HttpApi(s) => self.http(s, &created)?,
                    Step::SecurityGroup(s) => self.security_group(s)?,
                    other => return Err(format!("unexpected step {other}")),
                };
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    new.push((c.to_string(), id));
                }
            }
            created.extend(new);
        }
        Ok(())
    }

    fn method<'a>(&'a mut self, resource: &str, method: &str) -> Result<&'a mut Method, String> {
        let r =
            self.o.apigateway.resources.iter_mut().find(|r| r.id == resource).ok_or("NotFoundException: resource")?;
        r.methods.get_mut(method).ok_or(format!("NotFoundException: method {method}"))
    }

    fn stage<'a>(&'a mut self, api: &str, name: &str) -> Result<&'a mut Stage, String> {
        let s = self.o.apigateway.stages.iter_mut().find(|s| s.api_id == api && s.name == name);
        s.ok_or(format!("NotFoundException: stage {name}"))
    }

    fn apigateway(
        &mut self,
        step: &apigateway::Step,
        created: &BTreeMap<String, String>,
    ) -> Result<Option<String>, String> {
        use apigateway::Step as S;
        let g = &mut self.o.apigateway;
        Ok(match step {
            S::CreateVpcLink { name, target_arn, tags, .. } => {
                let id = self.id("vl-");
                let link = VpcLink {
                    id: id.clone(),
                    name: name.clone(),
                    target_arns: vec![target_arn.clone()],
                    status: "PENDING".into(),
                    tags: tags.clone(),
                };
                self.o.apigateway.vpc_links.push(link);
                Some(id)
            }
            S::DeleteVpcLink { id } => {
                let used = g
                    .resources
                    .iter()
                    .flat_map(|r| r.methods.values())
                    .any(|m| m.integration.as_ref().and_then(|i| i.connection_id.as_ref()) == Some(id));
                if used {
                    return Err(format!("BadRequestException: VPC link {id} is in use"));
                }
                g.vpc_links.retain(|l| &l.id != id);
                None
            }
            S::CreateRestApi { name, tags, .. } => {
                let id = self.id("api-");
                let root = self.id("res-");
                let g = &mut self.o.apigateway;
                g.apis.push(RestApi { id: id.clone(), name: name.clone(), tags: tags.clone() });
                g.resources.push(ApiResource {
                    api_id: id.clone(),
                    id: root,
                    path: "/".into(),
                    methods: BTreeMap::new(),
                });
                Some(id)
            }
            S::DeleteRestApi { id } => {
                if g.usage_plans.iter().any(|p| p.api_stages.iter().any(|(a, _)| a == id)) {
                    return Err(format!("BadRequestException: API {id} is in a usage plan"));
                }
                g.apis.retain(|a| &a.id != id);
                g.resources.retain(|r| &r.api_id != id);
                g.stages.retain(|s| &s.api_id != id);
                None
            }
            S::CreateResource { api, parent, path, .. } => {
                let api = resolve(api, created)?;
                let parent_id = match parent {
                    Some(p) => resolve(p, created)?,
                    None => g.resources.iter().find(|r| r.api_id == api && r.path == "/").ok_or("no root")?.id.clone(),
                };
                let parent_path =
                    g.resources.iter().find(|r| r.id == parent_id).ok_or("NotFoundException: parent")?.path.clone();
                if apigateway::parent(path) != parent_path {
                    return Err(format!("{path} is not under {parent_path}"));
                }
                if g.resources.iter().any(|r| r.api_id == api && &r.path == path) {
                    return Err(format!("ConflictException: {path}"));
                }
                let id = self.id("res-");
                self.o.apigateway.resources.push(ApiResource {
                    api_id: api,
                    id: id.clone(),
                    path: path.clone(),
                    methods: BTreeMap::new(),
                });
                Some(id)
            }
            S::DeleteResource { id, path, .. } => {
                g.resources.retain(|r| &r.id != id && !r.path.starts_with(&format!("{path}/")));
                None
            }
            S::PutMethod { resource, method, api_key_required, request_parameters, .. } => {
                let resource = resolve(resource, created)?;
                let r = g.resources.iter_mut().find(|r| r.id == resource).ok_or("NotFoundException: resource")?;
                if r.methods.contains_key(method) {
                    return Err(format!("ConflictException: method {method} exists"));
                }
                let m = Method {
                    api_key_required: *api_key_required,
                    request_parameters: request_parameters.clone(),
                    integration: None,
                };
                r.methods.insert(method.clone(), m);
                None
            }
            S::UpdateMethod { resource_id, method, patches, .. } => {
                let m = self.method(resource_id, method)?;
                for p in patches {
                    match (p.op, p.path.as_str()) {
                        ("replace", "/apiKeyRequired") => m.api_key_required = p.value.as_deref() == Some("true"),
                        ("add", k) => {
                            m.request_parameters.insert(k.trim_start_matches("/requestParameters/").into(), true);
                        }
                        ("remove", k) => {
                            m.request_parameters.remove(k.trim_start_matches("/requestParameters/"));
                        }
                        other => return Err(format!("unexpected method patch {other:?}")),
                    }
                }
                None
            }
            S::DeleteMethod { resource_id, method, .. } => {
                if let Some(r) = g.resources.iter_mut().find(|r| &r.id == resource_id) {
                    r.methods.remove(method);
                }
                None
            }
            S::PutIntegration { resource, method, uri, vpc_link, request_parameters, .. } => {
                let link = resolve(vpc_link, created)?;
                let available = g.vpc_links.iter().any(|l| l.id == link && l.status == "AVAILABLE");
                if !available {
                    return Err(format!("BadRequestException: VPC link {link} is not available"));
                }
                let resource = resolve(resource, created)?;
                let m = self.method(&resource, method)?;
                m.integration = Some(Integration {
                    integration_type: "HTTP_PROXY".into(),
                    http_method: "ANY".into(),
                    uri: uri.clone(),
                    connection_type: "VPC_LINK".into(),
                    connection_id: Some(link),
                    request_parameters: request_parameters.clone(),
                });
                None
            }
            S::CreateDeployment { api, description, .. } => {
                let api = resolve(api, created)?;
                let methods: Vec<&Method> =
                    g.resources.iter().filter(|r| r.api_id == api).flat_map(|r| r.methods.values()).collect();
                if methods.is_empty() || methods.iter().any(|m| m.integration.is_none()) {
                    return Err("BadRequestException: No integration defined for method".into());
                }
                let id = self.id("dep-");
                self.o.apigateway.deployments.insert(id.clone(), description.clone());
                Some(id)
            }
            S::CreateStage { api, deployment, name, tracing, tags, .. } => {
                let (api, deployment) = (resolve(api, created)?, resolve(deployment, created)?);
                if !g.deployments.contains_key(&deployment) {
                    return Err("NotFoundException: deployment".into());
                }
                if g.stages.iter().any(|s| s.api_id == api && &s.name == name) {
                    return Err("ConflictException: stage exists".into());
                }
                g.stages.push(Stage {
                    api_id: api,
                    name: name.clone(),
                    deployment_id: Some(deployment),
                    tracing: *tracing,
                    tags: tags.clone(),
                    ..Default::default()
                });
                Some(name.clone())
            }
            S::UpdateStage { api, name, deployment, patches } => {
                let api = resolve(api, created)?;
                let deployment = deployment.as_ref().map(|d| resolve(d, created)).transpose()?;
                let s = self.stage(&api, name)?;
                if let Some(d) = deployment {
                    s.deployment_id = Some(d);
                }
                for p in patches {
                    let v = p.value.clone().unwrap_or_default();
                    match (p.op, p.path.as_str()) {
                        ("replace", "/tracingEnabled") => s.tracing = v == "true",
                        ("replace", "/*/*/throttling/rateLimit") => {
                            s.throttling = Some((v.parse().unwrap(), s.throttling.map_or(0, |t| t.1)))
                        }
                        ("replace", "/*/*/throttling/burstLimit") => {
                            s.throttling = Some((s.throttling.map_or(0.0, |t| t.0), v.parse().unwrap()))
                        }
                        ("remove", "/*/*/throttling") => s.throttling = None,
                        ("replace", "/accessLogSettings/destinationArn") => {
                            s.access_log.get_or_insert_with(Default::default).destination_arn = v
                        }
                        ("replace", "/accessLogSettings/format") => {
                            s.access_log.get_or_insert_with(Default::default).format = v
                        }
                        ("remove", "/accessLogSettings") => s.access_log = None,
                        other => return Err(format!("unexpected stage patch {other:?}")),
                    }
                }
                None
            }
            S::CreateUsagePlan { name, api, stage, throttling, quota, tags, .. } => {
                let api = resolve(api, created)?;
                if !g.stages.iter().any(|s| s.api_id == api && &s.name == stage) {
                    return Err(format!("BadRequestException: stage {stage} does not exist"));
                }
                let id = self.id("up-");
                let plan = UsagePlan {
                    id: id.clone(),
                    name: name.clone(),
                    api_stages: vec![(api, stage.clone())],
                    throttling: *throttling,
                    quota: quota.clone(),
                    tags: tags.clone(),
                };
                self.o.apigateway.usage_plans.push(plan);
                Some(id)
            }
            S::UpdateUsagePlan { id, patches, .. } => {
                let stages: Vec<(String, String)> =
                    g.stages.iter().map(|s| (s.api_id.clone(), s.name.clone())).collect();
                let p = g.usage_plans.iter_mut().find(|p| &p.id == id).ok_or("NotFoundException: usage plan")?;
                for patch in patches {
                    let v = patch.value.clone().unwrap_or_default();
                    match (patch.op, patch.path.as_str()) {
                        ("add", "/apiStages") => {
                            let (a, s) = v.split_once(':').ok_or("malformed apiStages value")?;
                            if !stages.contains(&(a.to_string(), s.to_string())) {
                                return Err(format!("BadRequestException: no stage {v}"));
                            }
                            p.api_stages.push((a.into(), s.into()));
                        }
                        ("remove", "/apiStages") => p.api_stages.retain(|(a, s)| format!("{a}:{s}") != v),
                        ("replace", "/throttle/rateLimit") => {
                            p.throttling = Some((v.parse().unwrap(), p.throttling.map_or(0, |t| t.1)))
                        }
                        ("replace", "/throttle/burstLimit") => {
                            p.throttling = Some((p.throttling.map_or(0.0, |t| t.0), v.parse().unwrap()))
                        }
                        ("remove", "/throttle") => p.throttling = None,
                        ("replace", "/quota/limit") => {
                            p.quota = Some((v.parse().unwrap(), p.quota.clone().map_or_else(String::new, |q| q.1)))
                        }
                        ("replace", "/quota/period") => p.quota = Some((p.quota.as_ref().map_or(0, |q| q.0), v)),
                        ("remove", "/quota") => p.quota = None,
                        other => return Err(format!("unexpected usage plan patch {other:?}")),
                    }
                }
                None
            }
            S::DeleteUsagePlan { id, .. } => {
                if g.usage_plans.iter().any(|p| &p.id == id && !p.api_stages.is_empty()) {
                    return Err("BadRequestException: the usage plan still has stages".into());
                }
                g.usage_plans.retain(|p| &p.id != id);
                None
            }
        })
    }

    fn wafv2(&mut self, step: &wafv2::Step, created: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        use wafv2::Step as S;
        let w = &mut self.o.wafv2;
        Ok(match step {
            S::CreateWebAcl { scope, name, rules, tags, .. } => {
                let arn = format!("arn:aws:wafv2:us-east-1:1:regional/webacl/{name}/acl");
                w.web_acls.push(WebAcl {
                    arn: arn.clone(),
                    id: "acl".into(),
                    name: name.clone(),
                    scope: *scope,
                    rules: rules.clone(),
                    tags: tags.clone(),
                });
                Some(arn)
            }
            S::AssociateWebAcl { web_acl, resource_arn } => {
                let acl = resolve(web_acl, created)?;
                let stage_exists = self
                    .o
                    .apigateway
                    .stages
                    .iter()
                    .any(|s| apigateway::stage_arn(REGION, &s.api_id, &s.name) == *resource_arn);
                if !stage_exists {
                    return Err(format!("WAFNonexistentItemException: {resource_arn}"));
                }
                let w = &mut self.o.wafv2;
                w.associations.retain(|a| &a.resource_arn != resource_arn);
                w.associations.push(Association { resource_arn: resource_arn.clone(), web_acl_arn: Some(acl) });
                None
            }
            S::DisassociateWebAcl { resource_arn } => {
                w.associations.retain(|a| &a.resource_arn != resource_arn);
                None
            }
            S::DeleteWebAcl { arn, .. } => {
                if w.associations.iter().any(|a| a.web_acl_arn.as_ref() == Some(arn)) {
                    return Err("WAFAssociatedItemException".into());
                }
                w.web_acls.retain(|a| &a.arn != arn);
                None
            }
            other => return Err(format!("unexpected WAF step {other}")),
        })
    }

    fn security_group(&mut self, step: &sg::Step) -> Result<Option<String>, String> {
        Ok(match step {
            sg::Step::CreateSecurityGroup { vpc_id, tags, .. } => {
                let id = self.id("sg-");
                let group = SecurityGroup {
                    id: id.clone(),
                    vpc_id: vpc_id.clone(),
                    ingress: Default::default(),
                    tags: tags.clone(),
                };
                self.o.security_groups.push(group);
                Some(id)
            }
            sg::Step::DeleteSecurityGroup { id } => {
                if self.o.http.vpc_links.iter().any(|l| l.security_group_ids.contains(id)) {
                    return Err(format!("DependencyViolation: a VPC link is in {id}"));
                }
                self.o.security_groups.retain(|g| &g.id != id);
                None
            }
            other => return Err(format!("unexpected security group step {other}")),
        })
    }

    fn http(&mut self, step: &http_api::Step, created: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        use http_api::Step as S;
        Ok(match step {
            S::CreateVpcLink { name, subnet_ids, security_group, tags, .. } => {
                let group = resolve(security_group, created)?;
                if !self.o.security_groups.iter().any(|g| g.id == group) {
                    return Err(format!("InvalidGroup.NotFound: {group}"));
                }
                let id = self.id("vl2-");
                let link = http_api::VpcLink {
                    id: id.clone(),
                    name: name.clone(),
                    subnet_ids: subnet_ids.clone(),
                    security_group_ids: vec![group],
                    status: "PENDING".into(),
                    tags: tags.clone(),
                };
                self.o.http.vpc_links.push(link);
                Some(id)
            }
            S::DeleteVpcLink { id } => {
                if self.o.http.integrations.iter().any(|i| i.connection_id.as_ref() == Some(id)) {
                    return Err(format!("BadRequestException: VPC link {id} is in use"));
                }
                self.o.http.vpc_links.retain(|l| &l.id != id);
                None
            }
            S::CreateApi { name, tags, .. } => {
                let id = self.id("http-");
                self.o.http.apis.push(http_api::HttpApi { id: id.clone(), name: name.clone(), tags: tags.clone() });
                Some(id)
            }
            S::DeleteApi { id } => {
                let h = &mut self.o.http;
                h.apis.retain(|a| &a.id != id);
                h.integrations.retain(|i| &i.api_id != id);
                h.routes.retain(|r| &r.api_id != id);
                h.stages.retain(|s| &s.api_id != id);
                None
            }
            S::CreateIntegration { api, uri, vpc_link, .. } => {
                let (api, link) = (resolve(api, created)?, resolve(vpc_link, created)?);
                self.link_available(&link)?;
                let id = self.id("int-");
                let i = http_api::Integration {
                    api_id: api,
                    id: id.clone(),
                    integration_type: "HTTP_PROXY".into(),
                    connection_type: "VPC_LINK".into(),
                    connection_id: Some(link),
                    uri: uri.clone(),
                    method: "ANY".into(),
                };
                self.o.http.integrations.push(i);
                Some(id)
            }
            S::UpdateIntegration { id, uri, vpc_link, .. } => {
                let link = resolve(vpc_link, created)?;
                self.link_available(&link)?;
                let i = self
                    .o
                    .http
                    .integrations
                    .iter_mut()
                    .find(|i| &i.id == id)
                    .ok_or("NotFoundException: integration")?;
                i.uri = uri.clone();
                i.connection_id = Some(link);
                None
            }
            S::CreateRoute { api, key, integration } => {
                let (api, integration) = (resolve(api, created)?, resolve(integration, created)?);
                if self.o.http.routes.iter().any(|r| r.api_id == api && &r.key == key) {
                    return Err(format!("ConflictException: route {key}"));
                }
                let id = self.id("route-");
                self.o.http.routes.push(http_api::Route {
                    api_id: api,
                    id,
                    key: key.clone(),
                    target: Some(http_api::target(&integration)),
                });
                None
            }
            S::UpdateRoute { id, integration, .. } => {
                let integration = resolve(integration, created)?;
                let r = self.o.http.routes.iter_mut().find(|r| &r.id == id).ok_or("NotFoundException: route")?;
                r.target = Some(http_api::target(&integration));
                None
            }
            S::DeleteRoute { id, .. } => {
                self.o.http.routes.retain(|r| &r.id != id);
                None
            }
            S::CreateStage { api, name, throttling, access_log, tags, .. } => {
                let api = resolve(api, created)?;
                let stage = http_api::Stage {
                    api_id: api,
                    name: name.clone(),
                    auto_deploy: true,
                    throttling: *throttling,
                    access_log: access_log.clone(),
                    tags: tags.clone(),
                };
                self.o.http.stages.push(stage);
                Some(name.clone())
            }
            S::UpdateStage { api_id, name, throttling, access_log } => {
                let s = self
                    .o
                    .http
                    .stages
                    .iter_mut()
                    .find(|s| &s.api_id == api_id && &s.name == name)
                    .ok_or("NotFoundException: stage")?;
                s.throttling = *throttling;
                s.access_log = access_log.clone();
                None
            }
        })
    }

    fn link_available(&self, link: &str) -> Result<(), String> {
        match self.o.http.vpc_links.iter().any(|l| l.id == link && l.status == "AVAILABLE") {
            true => Ok(()),
            false => Err(format!("BadRequestException: VPC link {link} is not available")),
        }
    }

    fn converge(&mut self, spec: Option<&PartnerApiSpec>, lb: u32, max: usize) -> Vec<Plan<Step>> {
        let mut applied = Vec::new();
        for _ in 0..max {
            let plan = self.plan(spec, lb);
            if plan.in_sync() || (spec.is_none() && plan.steps.is_empty()) {
                return applied;
            }
            if let Err(e) = self.apply(&plan) {
                panic!("{e}\nplan:\n{}", plan.render());
            }
            applied.push(plan);
        }
        panic!("not converged after {max} passes:\n{}", self.plan(spec, lb).render());
    }
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

fn count(plans: &[Plan<Step>], action: &str) -> usize {
    plans.iter().map(|p| actions(p).iter().filter(|a| **a == action).count()).sum()
}

fn converged() -> (PartnerApiSpec, Sim) {
    let s = spec(base());
    let mut sim = Sim::default();
    sim.converge(Some(&s), 1, 5);
    (s, sim)
}

#[test]
fn a_new_api_waits_for_its_vpc_link_then_deploys_once_with_stage_usage_plan_and_waf() {
    let s = spec(base());
    let mut sim = Sim::default();
    let first = sim.plan(Some(&s), 1);
    assert!(first.waiting.iter().any(|w| w.contains("VPC link") && w.contains("available")), "{}", first.render());
    assert!(!actions(&first).contains(&"PutIntegration") && !actions(&first).contains(&"CreateDeployment"));
    let plans = sim.converge(Some(&s), 1, 5);
    assert_eq!(count(&plans, "CreateRestApi"), 1);
    assert_eq!(count(&plans, "CreateVpcLink"), 1);
    assert_eq!(count(&plans, "CreateDeployment"), 1, "one deployment of the whole definition");
    assert_eq!(count(&plans, "PutIntegration"), 2);

    let g = &sim.o.apigateway;
    let paths: Vec<&str> = g.resources.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/", "/payments", "/health", "/payments/{proxy+}"]);
    let proxy = g.resources.iter().find(|r| r.path == "/payments/{proxy+}").unwrap();
    let any = &proxy.methods["ANY"];
    assert!(any.api_key_required, "usage plans mean partners call with an API key");
    assert_eq!(any.request_parameters.get("method.request.path.proxy"), Some(&true));
    let integration = any.integration.as_ref().unwrap();
    assert_eq!(integration.uri, "https://partner-1.elb.us-east-1.amazonaws.com:443/payments/{proxy}");
    assert_eq!(integration.request_parameters["integration.request.path.proxy"], "method.request.path.proxy");
    assert_eq!(integration.connection_id.as_deref(), Some(g.vpc_links[0].id.as_str()));
    let stage = &g.stages[0];
    assert!(stage.tracing);
    assert_eq!(stage.throttling, Some((100.0, 200)));
    assert_eq!(g.usage_plans[0].name, "platform-payments-acme");
    assert_eq!(g.usage_plans[0].api_stages, [(stage.api_id.clone(), "prod".to_string())]);
    assert_eq!(g.usage_plans[0].quota, Some((100000, "DAY".to_string())));
    let stage_arn = apigateway::stage_arn(REGION, &stage.api_id, "prod");
    assert_eq!(sim.o.wafv2.associations[0].resource_arn, stage_arn);
    let api_id = stage.api_id.clone();

    let again = sim.plan(Some(&s), 1);
    assert!(again.in_sync(), "converged: nothing to do, no redeploy:\n{}", again.render());
    let o = sim.observed();
    let d = partner_api::desired(&s, &owner(), &backend(1)).unwrap();
    let status = partner_api::status(&d, &o, &Known::new());
    assert_eq!(status.invoke_url, Some(format!("https://{api_id}.execute-api.us-east-1.amazonaws.com/prod")));
    assert_eq!(status.usage_plans[0].name, "acme");
    assert!(status.web_acl_arn.is_some() && status.vpc_link_id.is_some() && status.deployment_id.is_some());
    // A twin REST API listed first (a retried CreateRestApi): the status reports the one kept.
    let mut with_twin = o.clone();
    let mut twin = with_twin.apigateway.apis[0].clone();
    twin.id = "a0twin".into();
    with_twin.apigateway.apis.insert(0, twin);
    let known = Known::from([("restapi".to_string(), api_id.clone())]);
    assert_eq!(partner_api::status(&d, &with_twin, &known).api_id.as_ref(), Some(&api_id));
}

#[test]
fn an_integration_read_back_without_its_connection_id_is_not_rewritten() {
    let (s, mut sim) = converged();
    sim.drops_connection_id = true;
    let plan = sim.plan(Some(&s), 1);
    assert!(plan.in_sync(), "{}", plan.render());
}

#[test]
fn changed_routes_are_redeployed_once_and_stage_drift_is_patched_without_one() {
    let (_, mut sim) = converged();
    let mut v = base();
    v["routes"] = json!([{"path": "/payments/{proxy+}", "methods": ["ANY"]}, {"path": "/refunds/{id}", "methods": ["POST", "GET"]}]);
    let changed = spec(v);
    let plans = sim.converge(Some(&changed), 1, 4);
    assert_eq!(count(&plans, "CreateDeployment"), 1);
    assert_eq!(count(&plans, "DeleteResource"), 1, "/health goes");
    let paths: Vec<&str> = sim.o.apigateway.resources.iter().map(|r| r.path.as_str()).collect();
    assert!(paths.contains(&"/refunds/{id}") && !paths.contains(&"/health"), "{paths:?}");
    let deployment = sim.o.apigateway.stages[0].deployment_id.clone();

    // Out of band: tracing off and throttling changed on the stage.
    let stage = &mut sim.o.apigateway.stages[0];
    stage.tracing = false;
    stage.throttling = Some((5.0, 5));
    let plan = sim.plan(Some(&changed), 1);
    assert_eq!(actions(&plan), ["UpdateStage"], "{}", plan.render());
    sim.converge(Some(&changed), 1, 2);
    assert!(sim.o.apigateway.stages[0].tracing);
    assert_eq!(sim.o.apigateway.stages[0].deployment_id, deployment, "no new deployment for stage drift");
}

#[test]
fn a_replaced_load_balancer_gets_a_new_vpc_link_and_the_old_one_goes_after_the_integrations_move() {
    let (s, mut sim) = converged();
    let old = sim.o.apigateway.vpc_links[0].id.clone();
    let plans = sim.converge(Some(&s), 2, 5);
    assert_eq!(count(&plans, "CreateVpcLink"), 1);
    assert_eq!(count(&plans, "CreateDeployment"), 1);
    let links: Vec<&str> = sim.o.apigateway.vpc_links.iter().map(|l| l.id.as_str()).collect();
    assert!(!links.contains(&old.as_str()) && links.len() == 1, "{links:?}");
    let integration =
        sim.o.apigateway.resources.iter().flat_map(|r| r.methods.values()).next().unwrap().integration.clone().unwrap();
    assert!(integration.uri.starts_with("https://partner-2."), "{}", integration.uri);
    assert_eq!(integration.connection_id.as_deref(), Some(links[0]));
}

#[test]
fn usage_plan_changes_are_patched_and_a_removed_plan_leaves_its_stage_before_it_goes() {
    let (_, mut sim) = converged();
    let mut v = base();
    v["usagePlans"] = json!([{"name": "acme", "quota": {"limit": 5000, "period": "WEEK"}}]);
    let plans = sim.converge(Some(&spec(v.clone())), 1, 3);
    assert_eq!(count(&plans, "UpdateUsagePlan"), 1);
    let p = &sim.o.apigateway.usage_plans[0];
    assert_eq!((p.quota.clone(), p.throttling), (Some((5000, "WEEK".to_string())), None));

    v["usagePlans"] = json!([]);
    let plans = sim.converge(Some(&spec(v)), 1, 3);
    assert_eq!(actions(&plans[0]).iter().filter(|a| a.contains("UsagePlan")).count(), 2, "{}", plans[0].render());
    assert!(sim.o.apigateway.usage_plans.is_empty());
    let methods: Vec<bool> =
        sim.o.apigateway.resources.iter().flat_map(|r| r.methods.values()).map(|m| m.api_key_required).collect();
    assert!(methods.iter().all(|k| !k), "without usage plans no API key is required: {methods:?}");
}

#[test]
fn teardown_removes_usage_plans_waf_api_and_vpc_link_in_an_order_aws_accepts() {
    let (_, mut sim) = converged();
    let plans = sim.converge(None, 1, 4);
    assert!(!plans.is_empty());
    let o = &sim.o;
    assert!(o.apigateway.apis.is_empty() && o.apigateway.vpc_links.is_empty() && o.apigateway.usage_plans.is_empty());
    assert!(o.wafv2.web_acls.is_empty() && o.wafv2.associations.is_empty());
}

#[test]
fn a_create_whose_status_was_lost_is_found_by_its_tags_not_repeated() {
    let s = spec(base());
    let mut sim = Sim::default();
    let first = sim.plan(Some(&s), 1);
    sim.apply(&first).unwrap();
    sim.known.clear();
    sim.converge(Some(&s), 1, 5);
    assert_eq!(sim.o.apigateway.apis.len(), 1);
    assert_eq!(sim.o.apigateway.vpc_links.len(), 1);
}

#[test]
fn another_owners_api_and_link_are_left_alone() {
    let (s, mut sim) = converged();
    let stranger = Owner { uid: "uid-2".into(), ..owner() };
    sim.known.clear();
    let theirs = sim.plan_as(&stranger, Some(&s), 1);
    assert!(actions(&theirs).iter().all(|a| !a.starts_with("Delete")), "{}", theirs.render());
    assert_eq!(actions(&theirs).iter().filter(|a| **a == "CreateRestApi").count(), 1, "it makes its own");
}

#[test]
fn invalid_specs_are_rejected_naming_the_field() {
    let err = |f: &dyn Fn(&mut Value)| {
        let mut v = base();
        f(&mut v);
        partner_api::validate(&spec(v)).expect_err("invalid").0
    };
    assert!(err(&|v| v["routes"][0]["path"] = json!("/{proxy+}/x")).starts_with("spec.routes[0].path: a greedy"));
    assert!(err(&|v| v["routes"][0]["path"] = json!("/")).starts_with("spec.routes[0].path:"));
    assert!(err(&|v| v["routes"][1]["path"] = json!("/payments/{proxy+}")).starts_with("spec.routes[1].path:"));
    assert!(
        err(&|v| v["waf"]["webAclArn"] = json!("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y"))
            .starts_with("spec.waf:")
    );
    let s = spec(base());
    let alb = partner_api::check_backend(&s, "Application", &[443]).expect_err("an ALB").0;
    assert!(alb.starts_with("spec.backend.loadBalancerPolicyRef:") && alb.contains("Network"), "{alb}");
    let port = partner_api::check_backend(&s, "Network", &[80]).expect_err("no listener").0;
    assert!(port.starts_with("spec.backend.port:"), "{port}");
    partner_api::check_backend(&s, "Network", &[443]).expect("fine");
}

fn http_spec() -> PartnerApiSpec {
    let mut v = base();
    v["type"] = json!("HTTP");
    v["stage"] = json!({"name": "prod", "throttling": {"rateLimit": 50.0, "burstLimit": 100}});
    v.as_object_mut().unwrap().remove("usagePlans");
    v.as_object_mut().unwrap().remove("waf");
    spec(v)
}

#[test]
fn an_http_api_gets_a_vpc_link_with_its_own_group_routes_to_the_listener_and_a_stage_that_deploys_itself() {
    let s = http_spec();
    let mut sim = Sim::default();
    let first = sim.plan(Some(&s), 1);
    assert!(first.waiting.iter().any(|w| w.contains("VPC link")), "{}", first.render());
    let plans = sim.converge(Some(&s), 1, 5);
    assert_eq!(count(&plans, "CreateSecurityGroup"), 1);
    assert_eq!(count(&plans, "CreateVpcLink"), 1);
    let h = &sim.o.http;
    assert_eq!(h.vpc_links[0].subnet_ids, ["subnet-a", "subnet-b"], "in the load balancer's subnets");
    assert_eq!(h.vpc_links[0].security_group_ids, [sim.o.security_groups[0].id.clone()]);
    assert_eq!(h.integrations.len(), 1);
    assert_eq!(h.integrations[0].uri, backend(1).listener_arn.unwrap());
    let mut keys: Vec<&str> = h.routes.iter().map(|r| r.key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["ANY /payments/{proxy+}", "GET /health"]);
    assert!(h.routes.iter().all(|r| r.target == Some(http_api::target(&h.integrations[0].id))));
    assert_eq!(h.stages[0].throttling, Some((50.0, 100)));
    assert!(h.stages[0].auto_deploy);
    assert!(sim.plan(Some(&s), 1).in_sync(), "converged");

    // A replaced load balancer: the integration moves to the new listener.
    sim.converge(Some(&s), 2, 4);
    assert_eq!(sim.o.http.integrations[0].uri, backend(2).listener_arn.unwrap());

    // Teardown: the API, then the link, then its group.
    sim.converge(None, 1, 5);
    assert!(sim.o.http.apis.is_empty() && sim.o.http.vpc_links.is_empty() && sim.o.security_groups.is_empty());
}

#[test]
fn http_apis_reject_rest_only_fields_and_gateway_load_balancers() {
    let err = |f: &dyn Fn(&mut Value)| {
        let mut v = serde_json::to_value(http_spec()).unwrap();
        f(&mut v);
        partner_api::validate(&spec(v)).expect_err("invalid").0
    };
    assert!(err(&|v| v["stage"]["tracing"] = json!(true)).starts_with("spec.stage.tracing:"));
    assert!(err(&|v| v["usagePlans"] = json!([{"name": "a"}])).starts_with("spec.usagePlans:"));
    assert!(err(&|v| v["waf"] = json!({"managedRuleGroups": ["X"]})).starts_with("spec.waf:"));
    let gwlb = partner_api::check_backend(&http_spec(), "Gateway", &[443]).expect_err("a GWLB").0;
    assert!(gwlb.starts_with("spec.backend.loadBalancerPolicyRef:"), "{gwlb}");
    partner_api::check_backend(&http_spec(), "Application", &[443]).expect("an ALB is fine for HTTP");
}
