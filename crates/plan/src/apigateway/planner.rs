//! Matching an owner's REST API, VPC link, stage and usage plans against the desired ones and
//! planning the difference. Teardown is the same planner with nothing desired.

use std::collections::BTreeMap;

use super::step::{Patch, Step};
use super::{ApiResource, Desired, Observed, RestApi, Stage, VpcLink, components, parent};
use crate::context::Context;
use crate::owner::{Owner, Tags, component};
use crate::plan::{Plan, Ref};

/// The plan, and what WAF needs of it: the kept API's ID and whether its stage exists.
pub struct Planned {
    pub plan: Plan<Step>,
    pub api_id: Option<String>,
    pub stage_exists: bool,
}

fn throttling_patches(prefix: &str, want: Option<(f64, i32)>, have: Option<(f64, i32)>, out: &mut Vec<Patch>) {
    match (want, have) {
        (Some((rate, burst)), have) => {
            if have.map(|h| h.0) != Some(rate) {
                out.push(Patch::replace(format!("{prefix}/rateLimit"), rate));
            }
            if have.map(|h| h.1) != Some(burst) {
                out.push(Patch::replace(format!("{prefix}/burstLimit"), burst));
            }
        }
        (None, Some(_)) => out.push(Patch::remove(prefix.to_string())),
        (None, None) => {}
    }
}

/// The stage's settings as patches: tracing, throttling of every method, access logs.
fn stage_patches(d: &Desired, have: Option<&Stage>) -> Vec<Patch> {
    let mut out = Vec::new();
    if have.map_or(d.stage.tracing, |s| s.tracing != d.stage.tracing) {
        out.push(Patch::replace("/tracingEnabled", d.stage.tracing));
    }
    throttling_patches("/*/*/throttling", d.stage.throttling, have.and_then(|s| s.throttling), &mut out);
    match (&d.stage.access_log, have.and_then(|s| s.access_log.as_ref())) {
        (Some(want), have) if have != Some(want) => {
            out.push(Patch::replace("/accessLogSettings/destinationArn", &want.destination_arn));
            out.push(Patch::replace("/accessLogSettings/format", &want.format));
        }
        (None, Some(_)) => out.push(Patch::remove("/accessLogSettings")),
        _ => {}
    }
    out
}

/// An integration differs when what it says differs; a connection ID the read-back leaves out
/// is unknown, not different.
fn integration_differs(
    have: Option<&super::Integration>,
    uri: &str,
    link: Option<&str>,
    params: &BTreeMap<String, String>,
) -> bool {
    let Some(i) = have else { return true };
    i.integration_type != "HTTP_PROXY"
        || i.connection_type != "VPC_LINK"
        || i.uri != uri
        || i.http_method != "ANY"
        || &i.request_parameters != params
        || matches!((&i.connection_id, link), (Some(have), Some(want)) if have != want)
}

fn plan_definition(
    d: &Desired,
    api: &Ref,
    link: &Ref,
    link_replaced: bool,
    resources: &[&ApiResource],
    plan: &mut Plan<Step>,
) {
    let api_id = api.id().unwrap_or_default().to_string();
    let paths = d.paths();
    let existing: BTreeMap<&str, &ApiResource> = resources.iter().map(|r| (r.path.as_str(), *r)).collect();
    let resource_ref = |path: &str| -> Ref {
        match existing.get(path) {
            Some(r) => Ref::Id(r.id.clone()),
            None => Ref::Created(components::resource(path)),
        }
    };
    for path in &paths {
        if existing.contains_key(path.as_str()) {
            continue;
        }
        let up = parent(path);
        plan.steps.push(Step::CreateResource {
            component: components::resource(path),
            api: api.clone(),
            parent: (up != "/").then(|| resource_ref(up)),
            path_part: path.rsplit('/').next().unwrap_or_default().to_string(),
            path: path.clone(),
        });
    }
    for want in &d.resources {
        let have = existing.get(want.path.as_str());
        for m in &want.methods {
            let observed = have.and_then(|r| r.methods.get(&m.method));
            match observed {
                None => plan.steps.push(Step::PutMethod {
                    api: api.clone(),
                    resource: resource_ref(&want.path),
                    path: want.path.clone(),
                    method: m.method.clone(),
                    api_key_required: m.api_key_required,
                    request_parameters: m.request_parameters.clone(),
                }),
                Some(o) => {
                    let mut patches = Vec::new();
                    if o.api_key_required != m.api_key_required {
                        patches.push(Patch::replace("/apiKeyRequired", m.api_key_required));
                    }
                    for (k, v) in &m.request_parameters {
                        if o.request_parameters.get(k) != Some(v) {
                            patches.push(Patch::add(format!("/requestParameters/{k}"), v));
                        }
                    }
                    for k in o.request_parameters.keys().filter(|k| !m.request_parameters.contains_key(*k)) {
                        patches.push(Patch::remove(format!("/requestParameters/{k}")));
                    }
                    if !patches.is_empty()
                        && let Some(r) = have
                    {
                        plan.steps.push(Step::UpdateMethod {
                            api_id: api_id.clone(),
                            resource_id: r.id.clone(),
                            path: want.path.clone(),
                            method: m.method.clone(),
                            patches,
                        });
                    }
                }
            }
            let integration = observed.and_then(|o| o.integration.as_ref());
            if link_replaced || integration_differs(integration, &m.uri, link.id(), &m.integration_parameters) {
                plan.steps.push(Step::PutIntegration {
                    api: api.clone(),
                    resource: resource_ref(&want.path),
                    path: want.path.clone(),
                    method: m.method.clone(),
                    uri: m.uri.clone(),
                    vpc_link: link.clone(),
                    request_parameters: m.integration_parameters.clone(),
                });
            }
        }
        if let Some(r) = have {
            let wanted = |method: &String| want.methods.iter().any(|m| &m.method == method);
            for method in r.methods.keys().filter(|m| !wanted(m)) {
                plan.steps.push(Step::DeleteMethod {
                    api_id: api_id.clone(),
                    resource_id: r.id.clone(),
                    path: r.path.clone(),
                    method: method.clone(),
                });
            }
        }
    }
    // Resources no route needs: the topmost of each such subtree goes, with what is under it.
    let needed = |path: &str| path == "/" || paths.iter().any(|p| p == path);
    for r in resources.iter().filter(|r| !needed(&r.path) && needed(parent(&r.path))) {
        plan.steps.push(Step::DeleteResource { api_id: api_id.clone(), id: r.id.clone(), path: r.path.clone() });
    }
    // A route whose path is also a parent of another has methods only where listed.
    for r in resources.iter().filter(|r| needed(&r.path) && !d.resources.iter().any(|w| w.path == r.path)) {
        for method in r.methods.keys() {
            plan.steps.push(Step::DeleteMethod {
                api_id: api_id.clone(),
                resource_id: r.id.clone(),
                path: r.path.clone(),
                method: method.clone(),
            });
        }
    }
}

/// Everything the owner's API needs, in one plan; with nothing desired, its teardown.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Planned {
    let owner = cx.owner;
    let mut plan = Plan::default();
    let user_tags = desired.map(|d| d.user_tags.clone()).unwrap_or_default();
    let tags = |c: &str| owner.tags(c, &user_tags);

    // The VPC link: one to the desired load balancer; others go once nothing uses them.
    let owned_links: Vec<&VpcLink> =
        observed.vpc_links.iter().filter(|l| owner.owns(&l.tags) && l.status != "DELETING").collect();
    let kept_link = desired.and_then(|d| {
        let fitting =
            owned_links.iter().copied().filter(|l| l.target_arns == [d.target_arn.clone()] && l.status != "FAILED");
        cx.keep(components::VPC_LINK, fitting.collect(), |l| &l.id)
    });
    let link: Option<Ref> = match (desired, kept_link) {
        (Some(_), Some(l)) => Some(Ref::Id(l.id.clone())),
        (Some(d), None) => {
            plan.steps.push(Step::CreateVpcLink {
                component: components::VPC_LINK.into(),
                name: d.vpc_link_name.clone(),
                target_arn: d.target_arn.clone(),
                tags: tags(components::VPC_LINK),
            });
            Some(Ref::Created(components::VPC_LINK.into()))
        }
        (None, _) => None,
    };
    let link_available = kept_link.is_some_and(|l| l.status == "AVAILABLE");

    // The API: the one the status names, else the oldest; other APIs of the owner go.
    let owned_apis: Vec<&RestApi> = observed.apis.iter().filter(|a| owner.owns(&a.tags)).collect();
    let kept_api = desired.and_then(|_| cx.keep(components::REST_API, owned_apis.clone(), |a| &a.id));
    let api: Option<Ref> = match (desired, kept_api) {
        (Some(_), Some(a)) => Some(Ref::Id(a.id.clone())),
        (Some(d), None) => {
            plan.steps.push(Step::CreateRestApi {
                component: components::REST_API.into(),
                name: d.api_name.clone(),
                tags: tags(components::REST_API),
            });
            Some(Ref::Created(components::REST_API.into()))
        }
        (None, _) => None,
    };
    let api_id = kept_api.map(|a| a.id.clone());
    let stage = match (desired, &api_id) {
        (Some(d), Some(id)) => observed.stages.iter().find(|s| &s.api_id == id && s.name == d.stage.name),
        _ => None,
    };

    if let (Some(d), Some(api), Some(link)) = (desired, &api, &link) {
        let resources: Vec<&ApiResource> =
            observed.resources.iter().filter(|r| Some(&r.api_id) == api_id.as_ref()).collect();
        let link_replaced = matches!(link, Ref::Created(_));
        plan_definition(d, api, link, link_replaced, &resources, &mut plan);
        let integrations_wait = !link_available;
        if integrations_wait {
            // Integrations over a VPC link need it AVAILABLE (minutes on AWS): they, and the
            // deployment of the definition, wait for it.
            plan.steps.retain(|s| !matches!(s, Step::PutIntegration { .. }));
            plan.waiting.push(format!("VPC link {} to become available", d.vpc_link_name));
        }
        let description = d.deployment_description();
        let deployed = stage.and_then(|s| s.deployment_id.as_ref()).and_then(|id| observed.deployments.get(id));
        let deploy = deployed != Some(&description) && !integrations_wait;
        if deploy {
            plan.steps.push(Step::CreateDeployment {
                component: components::DEPLOYMENT.into(),
                api: api.clone(),
                description,
            });
        }
        let deployment = deploy.then(|| Ref::Created(components::DEPLOYMENT.into()));
        match (stage, deployment) {
            (None, Some(deployment)) => {
                plan.steps.push(Step::CreateStage {
                    component: components::STAGE.into(),
                    api: api.clone(),
                    deployment,
                    name: d.stage.name.clone(),
                    tracing: d.stage.tracing,
                    tags: tags(components::STAGE),
                });
                let created = Stage { tracing: d.stage.tracing, ..Default::default() };
                let patches = stage_patches(d, Some(&created));
                if !patches.is_empty() {
                    plan.steps.push(Step::UpdateStage {
                        api: api.clone(),
                        name: d.stage.name.clone(),
                        deployment: None,
                        patches,
                    });
                }
            }
            (None, None) => plan.waiting.push(format!("the API's first deployment before stage {}", d.stage.name)),
            (Some(s), deployment) => {
                let patches = stage_patches(d, Some(s));
                if deployment.is_some() || !patches.is_empty() {
                    plan.steps.push(Step::UpdateStage { api: api.clone(), name: s.name.clone(), deployment, patches });
                }
            }
        }
        let stage_coming = plan.steps.iter().any(|s| matches!(s, Step::CreateStage { .. }));
        if stage.is_some() || stage_coming {
            plan_usage_plans(d, cx, observed, api, stage.is_some(), &user_tags, &mut plan);
        } else if !d.usage_plans.is_empty() {
            plan.waiting.push(format!("stage {} before its usage plans", d.stage.name));
        }
    } else {
        // Teardown: usage plans leave their stages and go, then the APIs, then the VPC links.
        plan_usage_plans_teardown(owner, observed, &mut plan);
    }
    for a in owned_apis.iter().filter(|a| kept_api.is_none_or(|k| k.id != a.id)) {
        plan.steps.push(Step::DeleteRestApi { id: a.id.clone() });
    }
    let api_gone = desired.is_none();
    for l in owned_links.iter().filter(|l| kept_link.is_none_or(|k| k.id != l.id)) {
        let in_use = observed
            .resources
            .iter()
            .flat_map(|r| r.methods.values())
            .any(|m| m.integration.as_ref().and_then(|i| i.connection_id.as_deref()) == Some(l.id.as_str()));
        if in_use && !api_gone && !link_available {
            plan.waiting.push(format!("the integrations to move off VPC link {} before it is deleted", l.id));
        } else {
            plan.steps.push(Step::DeleteVpcLink { id: l.id.clone() });
        }
    }
    Planned { plan, api_id, stage_exists: stage.is_some() }
}

fn plan_usage_plans(
    d: &Desired,
    cx: &Context,
    observed: &Observed,
    api: &Ref,
    stage_exists: bool,
    user_tags: &Tags,
    plan: &mut Plan<Step>,
) {
    let owner = cx.owner;
    let owned: Vec<&super::UsagePlan> = observed.usage_plans.iter().filter(|p| owner.owns(&p.tags)).collect();
    let stage = d.stage.name.clone();
    for want in &d.usage_plans {
        let c = components::usage_plan(&want.spec_name);
        let mine: Vec<&super::UsagePlan> =
            owned.iter().copied().filter(|p| component(&p.tags) == Some(c.as_str())).collect();
        match cx.keep(&c, mine, |p| &p.id) {
            None => plan.steps.push(Step::CreateUsagePlan {
                component: c.clone(),
                name: want.name.clone(),
                api: api.clone(),
                stage: stage.clone(),
                throttling: want.throttling,
                quota: want.quota.clone(),
                tags: owner.tags(&c, user_tags),
            }),
            Some(p) => {
                let mut patches = Vec::new();
                if let (Some(api_id), true) = (api.id(), stage_exists)
                    && !p.api_stages.iter().any(|(a, s)| a == api_id && s == &stage)
                {
                    patches.push(Patch::add("/apiStages", format!("{api_id}:{stage}")));
                }
                throttling_patches("/throttle", want.throttling, p.throttling, &mut patches);
                match (&want.quota, &p.quota) {
                    (Some(q), have) if have.as_ref() != Some(q) => {
                        patches.push(Patch::replace("/quota/limit", q.0));
                        patches.push(Patch::replace("/quota/period", &q.1));
                    }
                    (None, Some(_)) => patches.push(Patch::remove("/quota")),
                    _ => {}
                }
                if !patches.is_empty() {
                    plan.steps.push(Step::UpdateUsagePlan { id: p.id.clone(), name: p.name.clone(), patches });
                }
            }
        }
    }
    let wanted = |p: &super::UsagePlan| {
        d.usage_plans.iter().any(|w| component(&p.tags) == Some(components::usage_plan(&w.spec_name).as_str()))
    };
    let kept: Vec<String> = d
        .usage_plans
        .iter()
        .filter_map(|w| {
            let c = components::usage_plan(&w.spec_name);
            let mine: Vec<&super::UsagePlan> =
                owned.iter().copied().filter(|p| component(&p.tags) == Some(c.as_str())).collect();
            cx.keep(&c, mine, |p| &p.id).map(|p| p.id.clone())
        })
        .collect();
    for p in owned.iter().filter(|p| !wanted(p) || !kept.contains(&p.id)) {
        remove_usage_plan(p, plan);
    }
}

fn plan_usage_plans_teardown(owner: &Owner, observed: &Observed, plan: &mut Plan<Step>) {
    for p in observed.usage_plans.iter().filter(|p| owner.owns(&p.tags)) {
        remove_usage_plan(p, plan);
    }
}

/// A usage plan leaves its stages first (AWS refuses to delete one that still has them).
fn remove_usage_plan(p: &super::UsagePlan, plan: &mut Plan<Step>) {
    if !p.api_stages.is_empty() {
        let patches = p.api_stages.iter().map(|(a, s)| Patch::remove_value("/apiStages", format!("{a}:{s}"))).collect();
        plan.steps.push(Step::UpdateUsagePlan { id: p.id.clone(), name: p.name.clone(), patches });
    }
    plan.steps.push(Step::DeleteUsagePlan { id: p.id.clone(), name: p.name.clone() });
}

/// (component, ID) of the owner's API, VPC links and usage plans.
pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |tags: &Tags, id: &str| {
        if owner.owns(tags)
            && let Some(c) = component(tags)
        {
            out.push((c.to_string(), id.to_string()));
        }
    };
    observed.apis.iter().for_each(|a| push(&a.tags, &a.id));
    observed.vpc_links.iter().filter(|l| l.status != "DELETING").for_each(|l| push(&l.tags, &l.id));
    observed.usage_plans.iter().for_each(|p| push(&p.tags, &p.id));
    out
}

pub fn owns_any(owner: &Owner, observed: &Observed) -> bool {
    observed.apis.iter().any(|a| owner.owns(&a.tags))
        || observed.vpc_links.iter().any(|l| owner.owns(&l.tags) && l.status != "DELETING")
        || observed.usage_plans.iter().any(|p| owner.owns(&p.tags))
}
