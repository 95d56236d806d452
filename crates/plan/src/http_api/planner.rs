//! Matching an owner's HTTP API, VPC link, integration, routes and stage against the desired
//! ones. Teardown is the same planner with nothing desired.

use super::step::Step;
use super::{Desired, HttpApi, Observed, VpcLink, components, target};
use crate::context::Context;
use crate::owner::{Owner, Tags, component};
use crate::plan::{Plan, Ref};

pub struct Planned {
    pub plan: Plan<Step>,
    pub api_id: Option<String>,
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// A link that holds network interfaces (and so its security group) until it is gone.
pub fn live(l: &VpcLink) -> bool {
    l.status != "FAILED" && l.status != "INACTIVE"
}

/// Everything the owner's HTTP API needs; `security_group` is the VPC link's group (existing or
/// about to be created). With nothing desired, the teardown.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed, security_group: Option<&Ref>) -> Planned {
    let owner = cx.owner;
    let mut plan = Plan::default();
    let user_tags = desired.map(|d| d.user_tags.clone()).unwrap_or_default();
    let tags = |c: &str| owner.tags(c, &user_tags);

    let owned_links: Vec<&VpcLink> =
        observed.vpc_links.iter().filter(|l| owner.owns(&l.tags) && l.status != "DELETING").collect();
    let fits = |l: &VpcLink, d: &Desired| {
        live(l)
            && sorted(&l.subnet_ids) == sorted(&d.subnet_ids)
            && security_group.and_then(Ref::id).is_some_and(|g| l.security_group_ids == [g.to_string()])
    };
    let kept_link = desired.and_then(|d| {
        cx.keep(components::VPC_LINK, owned_links.iter().copied().filter(|l| fits(l, d)).collect(), |l| &l.id)
    });
    let link: Option<Ref> = match (desired, kept_link, security_group) {
        (Some(_), Some(l), _) => Some(Ref::Id(l.id.clone())),
        (Some(d), None, Some(group)) => {
            plan.steps.push(Step::CreateVpcLink {
                component: components::VPC_LINK.into(),
                name: d.vpc_link_name.clone(),
                subnet_ids: d.subnet_ids.clone(),
                security_group: group.clone(),
                tags: tags(components::VPC_LINK),
            });
            Some(Ref::Created(components::VPC_LINK.into()))
        }
        _ => None,
    };
    let link_available = kept_link.is_some_and(|l| l.status == "AVAILABLE");

    let owned_apis: Vec<&HttpApi> = observed.apis.iter().filter(|a| owner.owns(&a.tags)).collect();
    let kept_api = desired.and_then(|_| cx.keep(components::HTTP_API, owned_apis.clone(), |a| &a.id));
    let api: Option<Ref> = match (desired, kept_api) {
        (Some(_), Some(a)) => Some(Ref::Id(a.id.clone())),
        (Some(d), None) => {
            plan.steps.push(Step::CreateApi {
                component: components::HTTP_API.into(),
                name: d.api_name.clone(),
                tags: tags(components::HTTP_API),
            });
            Some(Ref::Created(components::HTTP_API.into()))
        }
        (None, _) => None,
    };
    let api_id = kept_api.map(|a| a.id.clone());

    if let (Some(d), Some(api), Some(link)) = (desired, &api, &link) {
        let of_api = |a: &String| Some(a) == api_id.as_ref();
        let integration = observed.integrations.iter().filter(|i| of_api(&i.api_id)).min_by_key(|i| i.id.clone());
        let integration_ref: Option<Ref> = match integration {
            Some(i) => {
                let differs = i.integration_type != "HTTP_PROXY"
                    || i.connection_type != "VPC_LINK"
                    || i.uri != d.listener_arn
                    || i.connection_id.as_deref() != link.id();
                if differs && link_available {
                    plan.steps.push(Step::UpdateIntegration {
                        api_id: i.api_id.clone(),
                        id: i.id.clone(),
                        uri: d.listener_arn.clone(),
                        vpc_link: link.clone(),
                    });
                } else if differs {
                    plan.waiting.push(format!("VPC link {} to become available", d.vpc_link_name));
                }
                Some(Ref::Id(i.id.clone()))
            }
            None if link_available => {
                plan.steps.push(Step::CreateIntegration {
                    component: components::INTEGRATION.into(),
                    api: api.clone(),
                    uri: d.listener_arn.clone(),
                    vpc_link: link.clone(),
                });
                Some(Ref::Created(components::INTEGRATION.into()))
            }
            None => {
                plan.waiting.push(format!("VPC link {} to become available", d.vpc_link_name));
                None
            }
        };
        let routes: Vec<&super::Route> = observed.routes.iter().filter(|r| of_api(&r.api_id)).collect();
        if let Some(integration) = &integration_ref {
            for key in &d.route_keys {
                match routes.iter().find(|r| &r.key == key) {
                    None => plan.steps.push(Step::CreateRoute {
                        api: api.clone(),
                        key: key.clone(),
                        integration: integration.clone(),
                    }),
                    Some(r) if integration.id().is_some_and(|i| r.target.as_deref() != Some(target(i).as_str())) => {
                        plan.steps.push(Step::UpdateRoute {
                            api_id: r.api_id.clone(),
                            id: r.id.clone(),
                            key: key.clone(),
                            integration: integration.clone(),
                        })
                    }
                    Some(_) => {}
                }
            }
        }
        for r in routes.iter().filter(|r| !d.route_keys.contains(&r.key)) {
            plan.steps.push(Step::DeleteRoute { api_id: r.api_id.clone(), id: r.id.clone(), key: r.key.clone() });
        }
        let stage = observed.stages.iter().find(|s| of_api(&s.api_id) && s.name == d.stage_name);
        match stage {
            None => plan.steps.push(Step::CreateStage {
                component: components::STAGE.into(),
                api: api.clone(),
                name: d.stage_name.clone(),
                throttling: d.throttling,
                access_log: d.access_log.clone(),
                tags: tags(components::STAGE),
            }),
            Some(s) if s.throttling != d.throttling || s.access_log != d.access_log => {
                plan.steps.push(Step::UpdateStage {
                    api_id: s.api_id.clone(),
                    name: s.name.clone(),
                    throttling: d.throttling,
                    access_log: d.access_log.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for a in owned_apis.iter().filter(|a| kept_api.is_none_or(|k| k.id != a.id)) {
        plan.steps.push(Step::DeleteApi { id: a.id.clone() });
    }
    for l in owned_links.iter().filter(|l| kept_link.is_none_or(|k| k.id != l.id)) {
        let in_use = observed.integrations.iter().any(|i| i.connection_id.as_deref() == Some(l.id.as_str()));
        if in_use && desired.is_some() && !link_available {
            plan.waiting.push(format!("the integration to move off VPC link {} before it is deleted", l.id));
        } else {
            plan.steps.push(Step::DeleteVpcLink { id: l.id.clone() });
        }
    }
    Planned { plan, api_id }
}

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
    out
}

pub fn owns_any(owner: &Owner, observed: &Observed) -> bool {
    observed.apis.iter().any(|a| owner.owns(&a.tags)) || observed.vpc_links.iter().any(|l| owner.owns(&l.tags))
}
