//! API Gateway steps and the order their resource types need.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::owner::Tags;
use crate::plan::{Ordered, Ordering, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const VPC_LINK: &str = "apigateway/vpc-link";
    pub const REST_API: &str = "apigateway/rest-api";
    pub const RESOURCE: &str = "apigateway/resource";
    pub const METHOD: &str = "apigateway/method";
    pub const INTEGRATION: &str = "apigateway/integration";
    pub const DEPLOYMENT: &str = "apigateway/deployment";
    pub const STAGE: &str = "apigateway/stage";
    pub const STAGE_SETTINGS: &str = "apigateway/stage-settings";
    pub const USAGE_PLAN: &str = "apigateway/usage-plan";
}
use resources::*;

/// A deployment snapshots the methods and integrations; a stage serves a deployment; usage plans
/// and the web ACL attach to a stage. The API goes only after its VPC link's users (its
/// integrations) and its usage plans; the VPC link only after the API.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (REST_API, &[VPC_LINK]),
        (RESOURCE, &[REST_API]),
        (METHOD, &[RESOURCE]),
        (INTEGRATION, &[METHOD, VPC_LINK]),
        (DEPLOYMENT, &[INTEGRATION, METHOD, RESOURCE]),
        (STAGE, &[DEPLOYMENT]),
        (STAGE_SETTINGS, &[STAGE, DEPLOYMENT]),
        (USAGE_PLAN, &[STAGE]),
        (crate::wafv2::resources::WEB_ACL_ASSOCIATION, &[STAGE]),
    ],
    delete_first: &[],
};

/// One JSON-patch operation of an Update* call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Patch {
    pub op: &'static str,
    pub path: String,
    pub value: Option<String>,
}

impl Patch {
    pub fn replace(path: impl Into<String>, value: impl ToString) -> Self {
        Self { op: "replace", path: path.into(), value: Some(value.to_string()) }
    }
    pub fn add(path: impl Into<String>, value: impl ToString) -> Self {
        Self { op: "add", path: path.into(), value: Some(value.to_string()) }
    }
    pub fn remove(path: impl Into<String>) -> Self {
        Self { op: "remove", path: path.into(), value: None }
    }
    /// Removes one value from a list, e.g. an API stage from a usage plan.
    pub fn remove_value(path: impl Into<String>, value: impl ToString) -> Self {
        Self { op: "remove", path: path.into(), value: Some(value.to_string()) }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateVpcLink {
        component: String,
        name: String,
        target_arn: String,
        tags: Tags,
    },
    DeleteVpcLink {
        id: String,
    },
    CreateRestApi {
        component: String,
        name: String,
        tags: Tags,
    },
    DeleteRestApi {
        id: String,
    },
    /// `parent` None: the API's root resource.
    CreateResource {
        component: String,
        api: Ref,
        parent: Option<Ref>,
        path_part: String,
        path: String,
    },
    DeleteResource {
        api_id: String,
        id: String,
        path: String,
    },
    PutMethod {
        api: Ref,
        resource: Ref,
        path: String,
        method: String,
        api_key_required: bool,
        request_parameters: BTreeMap<String, bool>,
    },
    UpdateMethod {
        api_id: String,
        resource_id: String,
        path: String,
        method: String,
        patches: Vec<Patch>,
    },
    DeleteMethod {
        api_id: String,
        resource_id: String,
        path: String,
        method: String,
    },
    /// Creates or replaces the method's integration: an HTTP proxy over the VPC link.
    PutIntegration {
        api: Ref,
        resource: Ref,
        path: String,
        method: String,
        uri: String,
        vpc_link: Ref,
        request_parameters: BTreeMap<String, String>,
    },
    CreateDeployment {
        component: String,
        api: Ref,
        description: String,
    },
    CreateStage {
        component: String,
        api: Ref,
        deployment: Ref,
        name: String,
        tracing: bool,
        tags: Tags,
    },
    /// Patches a stage; with `deployment`, it serves that deployment from then on.
    UpdateStage {
        api: Ref,
        name: String,
        deployment: Option<Ref>,
        patches: Vec<Patch>,
    },
    CreateUsagePlan {
        component: String,
        name: String,
        api: Ref,
        stage: String,
        throttling: Option<(f64, i32)>,
        quota: Option<(i32, String)>,
        tags: Tags,
    },
    UpdateUsagePlan {
        id: String,
        name: String,
        patches: Vec<Patch>,
    },
    DeleteUsagePlan {
        id: String,
        name: String,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::CreateVpcLink { .. } | Step::DeleteVpcLink { .. } => VPC_LINK,
            Step::CreateRestApi { .. } | Step::DeleteRestApi { .. } => REST_API,
            Step::CreateResource { .. } | Step::DeleteResource { .. } => RESOURCE,
            Step::PutMethod { .. } | Step::UpdateMethod { .. } | Step::DeleteMethod { .. } => METHOD,
            Step::PutIntegration { .. } => INTEGRATION,
            Step::CreateDeployment { .. } => DEPLOYMENT,
            Step::CreateStage { .. } => STAGE,
            Step::UpdateStage { .. } => STAGE_SETTINGS,
            Step::CreateUsagePlan { .. } | Step::UpdateUsagePlan { .. } | Step::DeleteUsagePlan { .. } => USAGE_PLAN,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateVpcLink { .. }
            | Step::CreateRestApi { .. }
            | Step::CreateResource { .. }
            | Step::PutMethod { .. }
            | Step::CreateDeployment { .. }
            | Step::CreateStage { .. }
            | Step::CreateUsagePlan { .. } => Verb::Create,
            Step::UpdateMethod { .. }
            | Step::PutIntegration { .. }
            | Step::UpdateStage { .. }
            | Step::UpdateUsagePlan { .. } => Verb::Update,
            Step::DeleteVpcLink { .. }
            | Step::DeleteRestApi { .. }
            | Step::DeleteResource { .. }
            | Step::DeleteMethod { .. }
            | Step::DeleteUsagePlan { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateVpcLink { component, .. }
            | Step::CreateRestApi { component, .. }
            | Step::CreateResource { component, .. }
            | Step::CreateDeployment { component, .. }
            | Step::CreateStage { component, .. }
            | Step::CreateUsagePlan { component, .. } => Some(component),
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::CreateResource { api, parent, .. } => std::iter::once(api).chain(parent).collect(),
            Step::PutMethod { api, resource, .. } => vec![api, resource],
            Step::PutIntegration { api, resource, vpc_link, .. } => vec![api, resource, vpc_link],
            Step::CreateDeployment { api, .. } | Step::CreateUsagePlan { api, .. } => vec![api],
            Step::CreateStage { api, deployment, .. } => vec![api, deployment],
            Step::UpdateStage { api, deployment, .. } => std::iter::once(api).chain(deployment).collect(),
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::CreateVpcLink { .. } => "CreateVpcLink",
            Step::DeleteVpcLink { .. } => "DeleteVpcLink",
            Step::CreateRestApi { .. } => "CreateRestApi",
            Step::DeleteRestApi { .. } => "DeleteRestApi",
            Step::CreateResource { .. } => "CreateResource",
            Step::DeleteResource { .. } => "DeleteResource",
            Step::PutMethod { .. } => "PutMethod",
            Step::UpdateMethod { .. } => "UpdateMethod",
            Step::DeleteMethod { .. } => "DeleteMethod",
            Step::PutIntegration { .. } => "PutIntegration",
            Step::CreateDeployment { .. } => "CreateDeployment",
            Step::CreateStage { .. } => "CreateStage",
            Step::UpdateStage { .. } => "UpdateStage",
            Step::CreateUsagePlan { .. } => "CreateUsagePlan",
            Step::UpdateUsagePlan { .. } => "UpdateUsagePlan",
            Step::DeleteUsagePlan { .. } => "DeleteUsagePlan",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

fn patches(p: &[Patch]) -> String {
    p.iter().map(|p| format!("{} {}", p.op, p.path)).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateVpcLink { name, target_arn, .. } => write!(f, "create VPC link {name} to {target_arn}"),
            Step::DeleteVpcLink { id } => write!(f, "delete VPC link {id}"),
            Step::CreateRestApi { name, .. } => write!(f, "create REST API {name}"),
            Step::DeleteRestApi { id } => write!(f, "delete REST API {id}"),
            Step::CreateResource { path, .. } => write!(f, "create resource {path}"),
            Step::DeleteResource { path, .. } => write!(f, "delete resource {path}"),
            Step::PutMethod { path, method, .. } => write!(f, "put method {method} {path}"),
            Step::UpdateMethod { path, method, patches: p, .. } => {
                write!(f, "update method {method} {path}: {}", patches(p))
            }
            Step::DeleteMethod { path, method, .. } => write!(f, "delete method {method} {path}"),
            Step::PutIntegration { path, method, uri, vpc_link, .. } => {
                write!(f, "integrate {method} {path} with {uri} over VPC link {vpc_link}")
            }
            Step::CreateDeployment { description, .. } => write!(f, "deploy the API ({description})"),
            Step::CreateStage { name, .. } => write!(f, "create stage {name}"),
            Step::UpdateStage { name, deployment, patches: p, .. } => {
                let deploy = deployment.as_ref().map(|d| format!("serve deployment {d}; ")).unwrap_or_default();
                write!(f, "update stage {name}: {deploy}{}", patches(p))
            }
            Step::CreateUsagePlan { name, stage, .. } => write!(f, "create usage plan {name} on stage {stage}"),
            Step::UpdateUsagePlan { name, patches: p, .. } => write!(f, "update usage plan {name}: {}", patches(p)),
            Step::DeleteUsagePlan { name, .. } => write!(f, "delete usage plan {name}"),
        }
    }
}
