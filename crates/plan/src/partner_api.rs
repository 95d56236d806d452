//! PartnerApi: validate the spec, build the desired REST API (routes proxied over a VPC link to
//! the backend policy's Network Load Balancer, a stage, usage plans, its web ACL) or HTTP API
//! (routes to a load balancer listener over a VPC link with its security group, a stage),
//! compose the API Gateway, EC2 and WAF plans, and report the status.

use std::collections::BTreeMap;

use securecart_api::{ApiType, BackendProtocol, PartnerApiSpec, PartnerApiStatus, UsagePlanStatus};
use serde::Serialize;

use crate::apigateway::{self, AccessLog, DesiredMethod, DesiredResource, DesiredStage, DesiredUsagePlan};
use crate::context::Context;
use crate::http_api;
use crate::owner::{Owner, kept_or_first};
use crate::plan::Plan;
use crate::security_group::{self, DesiredGroup, Holder, SecurityGroup};
use crate::step::Step;
use crate::wafv2::{self, Attachment, DesiredAcl, Scope};
use crate::{InvalidSpec, Known};

/// What a partner API needs of its backend LoadBalancerPolicy, from that policy's status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BackendView {
    pub region: String,
    pub load_balancer_arn: String,
    pub dns_name: String,
    /// The listener on `spec.backend.port` (an HTTP API's integration sends to it).
    pub listener_arn: Option<String>,
    /// The load balancer's subnets and VPC (an HTTP API's VPC link goes there).
    pub subnet_ids: Vec<String>,
    pub vpc_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub apigateway: apigateway::Observed,
    pub http: http_api::Observed,
    pub security_groups: Vec<SecurityGroup>,
    pub wafv2: wafv2::Observed,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub region: String,
    pub api: DesiredApi,
    pub waf: Option<wafv2::Desired>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum DesiredApi {
    Rest(apigateway::Desired),
    Http { api: http_api::Desired, group: DesiredGroup },
}

impl Desired {
    pub fn rest(&self) -> Option<&apigateway::Desired> {
        match &self.api {
            DesiredApi::Rest(d) => Some(d),
            DesiredApi::Http { .. } => None,
        }
    }

    pub fn http(&self) -> Option<(&http_api::Desired, &DesiredGroup)> {
        match &self.api {
            DesiredApi::Http { api, group } => Some((api, group)),
            DesiredApi::Rest(_) => None,
        }
    }

    fn stage_name(&self) -> &str {
        match &self.api {
            DesiredApi::Rest(d) => &d.stage.name,
            DesiredApi::Http { api, .. } => &api.stage_name,
        }
    }
}

const DEFAULT_ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","apiKeyId":"$context.identity.apiKeyId","method":"$context.httpMethod","path":"$context.path","status":"$context.status","latencyMs":"$context.responseLatency"}"#;

/// Checks the spec on its own; the schema and CEL rules reject most of this at admission.
pub fn validate(spec: &PartnerApiSpec) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    for (i, route) in spec.routes.iter().enumerate() {
        let field = format!("spec.routes[{i}]");
        if route.path == "/" {
            return bad(format!("{field}.path: the root path is not routed; use /{{proxy+}} to send everything"));
        }
        let segments: Vec<&str> = route.path.split('/').skip(1).collect();
        if segments.iter().any(|s| s.is_empty()) {
            return bad(format!("{field}.path: {} has an empty segment", route.path));
        }
        if let Some(j) = segments.iter().position(|s| s.ends_with("+}"))
            && j + 1 != segments.len()
        {
            return bad(format!("{field}.path: a greedy {} must be the last segment", segments[j]));
        }
        if route.methods.is_empty() {
            return bad(format!("{field}.methods: at least one method"));
        }
        if spec.routes[..i].iter().any(|r| r.path == route.path) {
            return bad(format!("{field}.path: {} is listed twice", route.path));
        }
    }
    if spec.api_type == ApiType::Http {
        if !spec.usage_plans.is_empty() {
            return bad("spec.usagePlans: usage plans are for REST APIs".into());
        }
        if spec.waf.is_some() {
            return bad("spec.waf: a WAF web ACL attaches to REST API stages only".into());
        }
        if spec.stage.tracing {
            return bad("spec.stage.tracing: X-Ray active tracing is for REST APIs".into());
        }
    }
    for (i, p) in spec.usage_plans.iter().enumerate() {
        if spec.usage_plans[..i].iter().any(|q| q.name == p.name) {
            return bad(format!("spec.usagePlans[{i}].name: {} is listed twice", p.name));
        }
    }
    if let Some(waf) = &spec.waf {
        wafv2::validate_block(waf)?;
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return bad(format!("spec.tags: key {key:?} is reserved"));
    }
    Ok(())
}

/// The backend policy as the API needs it: a Network Load Balancer with a listener on the port.
pub fn check_backend(spec: &PartnerApiSpec, lb_type: &str, listener_ports: &[u16]) -> Result<(), InvalidSpec> {
    let name = &spec.backend.load_balancer_policy_ref.name;
    if spec.api_type == ApiType::Http && lb_type == "Gateway" {
        return Err(InvalidSpec(format!(
            "spec.backend.loadBalancerPolicyRef: LoadBalancerPolicy {name} is a Gateway load balancer; an HTTP API's VPC link reaches an Application or Network load balancer"
        )));
    }
    if spec.api_type == ApiType::Rest && lb_type != "Network" {
        return Err(InvalidSpec(format!(
            "spec.backend.loadBalancerPolicyRef: LoadBalancerPolicy {name} is a {lb_type} load balancer; a REST API's VPC link reaches a Network load balancer"
        )));
    }
    if !listener_ports.contains(&spec.backend.port) {
        return Err(InvalidSpec(format!(
            "spec.backend.port: LoadBalancerPolicy {name} has no listener on port {}",
            spec.backend.port
        )));
    }
    Ok(())
}

fn readable(owner: &Owner) -> String {
    format!("{}-{}", owner.namespace, owner.name)
}

/// `/payments/{proxy+}` on the backend is `/payments/{proxy}`, its path parameters mapped.
fn method_of(path: &str, method: &str, base: &str, api_key_required: bool) -> DesiredMethod {
    let mut request_parameters = BTreeMap::new();
    let mut integration_parameters = BTreeMap::new();
    let mut backend_path = String::new();
    for segment in path.split('/').skip(1) {
        let name = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')).map(|s| s.trim_end_matches('+'));
        match name {
            Some(p) => {
                request_parameters.insert(format!("method.request.path.{p}"), true);
                integration_parameters
                    .insert(format!("integration.request.path.{p}"), format!("method.request.path.{p}"));
                backend_path.push_str(&format!("/{{{p}}}"));
            }
            None => backend_path.push_str(&format!("/{segment}")),
        }
    }
    DesiredMethod {
        method: method.into(),
        api_key_required,
        request_parameters,
        uri: format!("{base}{backend_path}"),
        integration_parameters,
    }
}

fn access_log(spec: &PartnerApiSpec) -> Option<AccessLog> {
    spec.stage.access_logs.as_ref().map(|a| AccessLog {
        destination_arn: a.cloud_watch_log_group_arn.clone(),
        format: a.format.clone().unwrap_or_else(|| DEFAULT_ACCESS_LOG_FORMAT.into()),
    })
}

fn throttling(t: &securecart_api::Throttling) -> (f64, i32) {
    (t.rate_limit, t.burst_limit)
}

/// An HTTP API: a route per path and method to the listener, a VPC link in the load balancer's
/// subnets with a security group of its own (no ingress; AWS's default egress).
fn desired_http(spec: &PartnerApiSpec, owner: &Owner, backend: &BackendView) -> Result<DesiredApi, InvalidSpec> {
    let name = readable(owner);
    let listener_arn = backend.listener_arn.clone().ok_or_else(|| {
        InvalidSpec(format!(
            "spec.backend.port: LoadBalancerPolicy {} has no listener on port {} yet",
            spec.backend.load_balancer_policy_ref.name, spec.backend.port
        ))
    })?;
    let route_keys =
        spec.routes.iter().flat_map(|r| r.methods.iter().map(move |m| format!("{} {}", m.as_str(), r.path))).collect();
    let api = http_api::Desired {
        api_name: name.clone(),
        vpc_link_name: name.clone(),
        subnet_ids: backend.subnet_ids.clone(),
        listener_arn,
        route_keys,
        stage_name: spec.stage.name.clone(),
        throttling: spec.stage.throttling.as_ref().map(throttling),
        access_log: access_log(spec),
        user_tags: spec.tags.clone(),
    };
    let group = DesiredGroup {
        component: http_api::components::SECURITY_GROUP.into(),
        name: format!("{name}-vpclink-{}", crate::intent::short_hash(&[&owner.uid])),
        description: format!("VPC link of PartnerApi {}/{}", owner.namespace, owner.name),
        vpc_id: backend.vpc_id.clone(),
        ingress: Default::default(),
        user_tags: spec.tags.clone(),
    };
    Ok(DesiredApi::Http { api, group })
}

pub fn desired(spec: &PartnerApiSpec, owner: &Owner, backend: &BackendView) -> Result<Desired, InvalidSpec> {
    validate(spec)?;
    if spec.api_type == ApiType::Http {
        let api = desired_http(spec, owner, backend)?;
        return Ok(Desired { owner: owner.clone(), region: backend.region.clone(), api, waf: None });
    }
    let scheme = match spec.backend.protocol {
        Some(BackendProtocol::Https) => "https",
        Some(BackendProtocol::Http) => "http",
        None if spec.backend.port == 443 => "https",
        None => "http",
    };
    let base = format!("{scheme}://{}:{}", backend.dns_name, spec.backend.port);
    let keyed = !spec.usage_plans.is_empty();
    let resources = spec
        .routes
        .iter()
        .map(|r| DesiredResource {
            path: r.path.clone(),
            methods: r.methods.iter().map(|m| method_of(&r.path, m.as_str(), &base, keyed)).collect(),
        })
        .collect();
    let name = readable(owner);
    let api = apigateway::Desired {
        api_name: name.clone(),
        vpc_link_name: name.clone(),
        target_arn: backend.load_balancer_arn.clone(),
        resources,
        stage: DesiredStage {
            name: spec.stage.name.clone(),
            tracing: spec.stage.tracing,
            throttling: spec.stage.throttling.as_ref().map(throttling),
            access_log: access_log(spec),
        },
        usage_plans: spec
            .usage_plans
            .iter()
            .map(|p| DesiredUsagePlan {
                spec_name: p.name.clone(),
                name: format!("{name}-{}", p.name),
                throttling: p.throttling.as_ref().map(throttling),
                quota: p.quota.as_ref().map(|q| (q.limit, q.period.as_str().to_string())),
            })
            .collect(),
        user_tags: spec.tags.clone(),
    };
    let waf = spec.waf.as_ref().map(|w| wafv2::desired_of(w, Scope::Regional, &name, owner, &spec.tags));
    Ok(Desired { owner: owner.clone(), region: backend.region.clone(), api: DesiredApi::Rest(api), waf })
}

/// The API Gateway plan, then the web ACL and its association with the stage once it exists.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed, region: &str) -> Plan<Step> {
    let mut plan = plan_http(desired.and_then(Desired::http), cx, observed);
    let rest = desired.and_then(Desired::rest);
    // An HTTP API's plan says nothing of REST: only a REST one (or a teardown) plans that side.
    if desired.is_some() && rest.is_none() {
        return plan;
    }
    plan.extend(plan_rest(desired, rest, cx, observed, region));
    plan
}

/// The VPC link's group first, then the HTTP API, then what removes other groups.
fn plan_http(desired: Option<(&http_api::Desired, &DesiredGroup)>, cx: &Context, observed: &Observed) -> Plan<Step> {
    let links = &observed.http.vpc_links;
    let holders: Vec<Holder> = links
        .iter()
        .filter(|l| cx.owner.owns(&l.tags) && http_api::live(l))
        .map(|l| Holder { what: "VPC link", id: &l.id, groups: &l.security_group_ids, kept: false })
        .collect();
    let group = security_group::plan(desired.map(|(_, g)| g), cx, &observed.security_groups, &holders);
    let api = http_api::plan(desired.map(|(d, _)| d), cx, &observed.http, group.group.as_ref());
    let mut plan = group.keep.map(Step::SecurityGroup);
    plan.extend(api.plan.map(Step::HttpApi));
    plan.extend(group.remove.map(Step::SecurityGroup));
    plan
}

fn plan_rest(
    desired: Option<&Desired>,
    rest: Option<&apigateway::Desired>,
    cx: &Context,
    observed: &Observed,
    region: &str,
) -> Plan<Step> {
    let api = apigateway::plan(rest, cx, &observed.apigateway);
    let (acl_plan, acl) = wafv2::plan_acl(desired.and_then(|d| d.waf.as_ref()), cx, &observed.wafv2);
    let stage_name = rest.map(|d| d.stage.name.as_str());
    let kept_stage = match (&api.api_id, stage_name, api.stage_exists) {
        (Some(id), Some(stage), true) => Some(apigateway::stage_arn(region, id, stage)),
        _ => None,
    };
    let mut plan = api.plan.map(Step::ApiGateway);
    plan.extend(acl_plan.map(Step::Wafv2));
    if desired.is_some_and(|d| d.waf.is_some()) && kept_stage.is_none() {
        plan.waiting.push("the stage to be created before the WAF association".into());
    }
    let attachment = kept_stage.as_deref().zip(stage_name).map(|(arn, name)| Attachment::Regional {
        resource_arn: arn,
        name,
        state: "available",
        active: true,
    });
    let resources: Vec<&str> = observed.wafv2.associations.iter().map(|a| a.resource_arn.as_str()).collect();
    plan.extend(wafv2::plan_associations(cx, acl.as_ref(), attachment, &resources, &observed.wafv2).map(Step::Wafv2));
    plan
}

/// The stage ARNs of the owner's APIs (what WAF associations are read for).
pub fn stage_arns(owner: &Owner, observed: &apigateway::Observed, region: &str) -> Vec<String> {
    let owned: Vec<&str> = observed.apis.iter().filter(|a| owner.owns(&a.tags)).map(|a| a.id.as_str()).collect();
    observed
        .stages
        .iter()
        .filter(|s| owned.contains(&s.api_id.as_str()))
        .map(|s| apigateway::stage_arn(region, &s.api_id, &s.name))
        .collect()
}

/// `known` names what the planner kept among duplicates (an API or VPC link made twice by a
/// retried create); the status reports that one.
pub fn status(desired: &Desired, observed: &Observed, known: &Known) -> PartnerApiStatus {
    let Some(rest) = desired.rest() else { return http_status(desired, observed, known) };
    let cx_owner = &desired.owner;
    let o = &observed.apigateway;
    let api =
        kept_or_first(o.apis.iter().filter(|a| cx_owner.owns(&a.tags)), known, apigateway::components::REST_API, |a| {
            &a.id
        });
    let stage = api.and_then(|a| o.stages.iter().find(|s| s.api_id == a.id && s.name == desired.stage_name()));
    let links =
        o.vpc_links.iter().filter(|l| cx_owner.owns(&l.tags) && l.target_arns.first() == Some(&rest.target_arn));
    let link = kept_or_first(links, known, apigateway::components::VPC_LINK, |l| &l.id);
    let usage_plans = rest
        .usage_plans
        .iter()
        .filter_map(|p| {
            let c = apigateway::components::usage_plan(&p.spec_name);
            let plans = o
                .usage_plans
                .iter()
                .filter(|u| cx_owner.owns(&u.tags) && crate::owner::component(&u.tags) == Some(c.as_str()));
            let found = kept_or_first(plans, known, &c, |u| &u.id)?;
            Some(UsagePlanStatus { name: p.spec_name.clone(), id: found.id.clone() })
        })
        .collect();
    let web_acl_arn = match desired.waf.as_ref().map(|w| &w.acl) {
        Some(DesiredAcl::Existing(arn)) => Some(arn.clone()),
        Some(DesiredAcl::Owned { .. }) => wafv2::find(cx_owner, &observed.wafv2).map(|a| a.arn.clone()),
        None => None,
    };
    PartnerApiStatus {
        region: Some(desired.region.clone()),
        api_id: api.map(|a| a.id.clone()),
        invoke_url: stage.map(|s| apigateway::invoke_url(&desired.region, &s.api_id, &s.name)),
        vpc_link_id: link.map(|l| l.id.clone()),
        deployment_id: stage.and_then(|s| s.deployment_id.clone()),
        usage_plans,
        web_acl_arn,
        ..Default::default()
    }
}

fn http_status(desired: &Desired, observed: &Observed, known: &Known) -> PartnerApiStatus {
    let owner = &desired.owner;
    let o = &observed.http;
    let api =
        kept_or_first(o.apis.iter().filter(|a| owner.owns(&a.tags)), known, http_api::components::HTTP_API, |a| &a.id);
    let stage = api.and_then(|a| o.stages.iter().find(|s| s.api_id == a.id && s.name == desired.stage_name()));
    let links = o.vpc_links.iter().filter(|l| owner.owns(&l.tags) && http_api::live(l) && l.status != "DELETING");
    let link = kept_or_first(links, known, http_api::components::VPC_LINK, |l| &l.id);
    let group = security_group::find(owner, &observed.security_groups, http_api::components::SECURITY_GROUP);
    PartnerApiStatus {
        region: Some(desired.region.clone()),
        api_id: api.map(|a| a.id.clone()),
        invoke_url: stage.map(|s| apigateway::invoke_url(&desired.region, &s.api_id, &s.name)),
        vpc_link_id: link.map(|l| l.id.clone()),
        security_group_id: group.map(|g| g.id.clone()),
        ..Default::default()
    }
}

pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let mut out = apigateway::inventory(owner, &observed.apigateway);
    out.extend(http_api::inventory(owner, &observed.http));
    out.extend(security_group::inventory(owner, &observed.security_groups));
    out.extend(wafv2::inventory(owner, &observed.wafv2));
    out
}

pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    apigateway::owns_any(owner, &observed.apigateway)
        || http_api::owns_any(owner, &observed.http)
        || security_group::owns_any(owner, &observed.security_groups)
        || wafv2::owns_any(owner, &observed.wafv2)
}
