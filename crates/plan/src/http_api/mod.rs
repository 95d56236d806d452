//! API Gateway HTTP APIs (v2): the API, a VPC link (v2: network interfaces in the load
//! balancer's subnets, with a security group of its own), one HTTP-proxy integration to a load
//! balancer listener, a route per path and method, and a stage that deploys itself.
//!
//! The API, the VPC link and the stage carry the ownership tags (API Gateway lists them with
//! their tags); the integration and the routes belong to the owner's API.

mod planner;
mod step;

use serde::Serialize;

use crate::owner::Tags;

pub use planner::{Planned, inventory, live, owns_any, plan};
pub use step::{ORDERING, Step, resources};

pub mod components {
    pub const HTTP_API: &str = "httpapi";
    pub const VPC_LINK: &str = "vpclink";
    pub const INTEGRATION: &str = "integration";
    pub const STAGE: &str = "stage";
    pub const SECURITY_GROUP: &str = "sg/vpclink";
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub apis: Vec<HttpApi>,
    pub vpc_links: Vec<VpcLink>,
    /// Of the observed APIs.
    pub integrations: Vec<Integration>,
    pub routes: Vec<Route>,
    pub stages: Vec<Stage>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HttpApi {
    pub id: String,
    pub name: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VpcLink {
    pub id: String,
    pub name: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    /// PENDING, AVAILABLE, DELETING, FAILED, INACTIVE
    pub status: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Integration {
    pub api_id: String,
    pub id: String,
    pub integration_type: String,
    pub connection_type: String,
    pub connection_id: Option<String>,
    pub uri: String,
    pub method: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Route {
    pub api_id: String,
    pub id: String,
    /// `ANY /payments/{proxy+}`
    pub key: String,
    /// `integrations/<id>`
    pub target: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stage {
    pub api_id: String,
    pub name: String,
    pub auto_deploy: bool,
    pub throttling: Option<(f64, i32)>,
    pub access_log: Option<crate::apigateway::AccessLog>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    pub api_name: String,
    pub vpc_link_name: String,
    /// The load balancer's subnets: the VPC link's network interfaces go there.
    pub subnet_ids: Vec<String>,
    /// The listener the integration sends to.
    pub listener_arn: String,
    /// `METHOD /path`, one per route and method.
    pub route_keys: Vec<String>,
    pub stage_name: String,
    pub throttling: Option<(f64, i32)>,
    pub access_log: Option<crate::apigateway::AccessLog>,
    pub user_tags: Tags,
}

pub fn target(integration_id: &str) -> String {
    format!("integrations/{integration_id}")
}
