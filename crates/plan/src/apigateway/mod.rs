//! API Gateway REST APIs: the API, its resources and methods with their VPC-link integrations, a
//! deployment of the definition, a stage (X-Ray tracing, throttling, access logs), usage plans,
//! and the VPC link to a Network Load Balancer.
//!
//! The API, the VPC link and the usage plans carry the ownership tags (AWS lists them with their
//! tags); resources, methods, integrations, deployments and stages belong to the owner's API. A
//! deployment is a snapshot: one is created only when the definition the stage serves is not the
//! desired one (its description carries the definition's digest), never on a resync.

mod planner;
mod step;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::owner::Tags;

pub use planner::{Planned, inventory, owns_any, plan};
pub use step::{ORDERING, Patch, Step, resources};

pub mod components {
    pub const REST_API: &str = "restapi";
    pub const VPC_LINK: &str = "vpclink";
    pub const DEPLOYMENT: &str = "deployment";
    pub const STAGE: &str = "stage";
    pub fn resource(path: &str) -> String {
        format!("resource:{path}")
    }
    pub fn usage_plan(name: &str) -> String {
        format!("usageplan/{name}")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    /// The owner's APIs (by the ID the status records, or found by tags).
    pub apis: Vec<RestApi>,
    /// The resources of every observed API, with their methods.
    pub resources: Vec<ApiResource>,
    pub stages: Vec<Stage>,
    /// Deployment ID -> description, for the deployments the observed stages serve.
    pub deployments: BTreeMap<String, String>,
    pub vpc_links: Vec<VpcLink>,
    pub usage_plans: Vec<UsagePlan>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RestApi {
    pub id: String,
    pub name: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ApiResource {
    pub api_id: String,
    pub id: String,
    pub path: String,
    /// HTTP method (`GET`, `ANY`) -> the method.
    pub methods: BTreeMap<String, Method>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Method {
    pub api_key_required: bool,
    /// `method.request.path.proxy` -> required.
    pub request_parameters: BTreeMap<String, bool>,
    pub integration: Option<Integration>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Integration {
    /// `HTTP_PROXY`
    pub integration_type: String,
    /// The method API Gateway uses towards the backend.
    pub http_method: String,
    pub uri: String,
    /// `VPC_LINK` or `INTERNET`
    pub connection_type: String,
    /// None when the read-back does not say (then it is not taken as different).
    pub connection_id: Option<String>,
    /// `integration.request.path.proxy` -> `method.request.path.proxy`.
    pub request_parameters: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stage {
    pub api_id: String,
    pub name: String,
    pub deployment_id: Option<String>,
    pub tracing: bool,
    pub throttling: Option<(f64, i32)>,
    pub access_log: Option<AccessLog>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccessLog {
    pub destination_arn: String,
    pub format: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VpcLink {
    pub id: String,
    pub name: String,
    pub target_arns: Vec<String>,
    /// PENDING, AVAILABLE, DELETING, FAILED
    pub status: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UsagePlan {
    pub id: String,
    pub name: String,
    /// (API ID, stage name)
    pub api_stages: Vec<(String, String)>,
    pub throttling: Option<(f64, i32)>,
    /// (limit, period)
    pub quota: Option<(i32, String)>,
    pub tags: Tags,
}

/// The API an owner wants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    pub api_name: String,
    pub vpc_link_name: String,
    /// The Network Load Balancer the VPC link reaches.
    pub target_arn: String,
    pub resources: Vec<DesiredResource>,
    pub stage: DesiredStage,
    pub usage_plans: Vec<DesiredUsagePlan>,
    pub user_tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredResource {
    pub path: String,
    pub methods: Vec<DesiredMethod>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredMethod {
    pub method: String,
    pub api_key_required: bool,
    pub request_parameters: BTreeMap<String, bool>,
    pub uri: String,
    pub integration_parameters: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredStage {
    pub name: String,
    pub tracing: bool,
    pub throttling: Option<(f64, i32)>,
    pub access_log: Option<AccessLog>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredUsagePlan {
    /// The name in the spec.
    pub spec_name: String,
    /// The name in AWS.
    pub name: String,
    pub throttling: Option<(f64, i32)>,
    pub quota: Option<(i32, String)>,
}

impl Desired {
    /// What a deployment of this definition is described as: the digest of the resources,
    /// methods and integrations, and of the load balancer the VPC link reaches.
    pub fn deployment_description(&self) -> String {
        let definition = serde_json::to_string(&(&self.resources, &self.target_arn)).unwrap_or_default();
        format!("securecart definition {}", crate::intent::short_hash(&[&definition]))
    }

    /// Every path the API needs a resource for: each route's and its parents', parents first.
    pub fn paths(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.resources {
            let mut path = String::new();
            for part in r.path.split('/').filter(|p| !p.is_empty()) {
                path = format!("{path}/{part}");
                if !out.contains(&path) {
                    out.push(path.clone());
                }
            }
        }
        out.sort_by_key(|p| p.matches('/').count());
        out
    }
}

/// The ARN WAF associates a web ACL with.
pub fn stage_arn(region: &str, api_id: &str, stage: &str) -> String {
    format!("arn:aws:apigateway:{region}::/restapis/{api_id}/stages/{stage}")
}

pub fn invoke_url(region: &str, api_id: &str, stage: &str) -> String {
    format!("https://{api_id}.execute-api.{region}.amazonaws.com/{stage}")
}

/// The parent path of `path` (`/` for a top-level one).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}
