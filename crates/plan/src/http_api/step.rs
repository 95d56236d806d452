//! HTTP API steps and the order their resource types need.

use std::fmt;

use serde::Serialize;

use crate::apigateway::AccessLog;
use crate::owner::Tags;
use crate::plan::{Ordered, Ordering, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const VPC_LINK: &str = "apigatewayv2/vpc-link";
    pub const API: &str = "apigatewayv2/api";
    pub const INTEGRATION: &str = "apigatewayv2/integration";
    pub const ROUTE: &str = "apigatewayv2/route";
    pub const STAGE: &str = "apigatewayv2/stage";
}
use resources::*;

/// A VPC link needs its security group; the integration the API and the link; a route its
/// integration. The link goes after the API (its integration uses it), the group after the link.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (VPC_LINK, &[crate::security_group::resources::SECURITY_GROUP]),
        (API, &[VPC_LINK]),
        (INTEGRATION, &[API, VPC_LINK]),
        (ROUTE, &[INTEGRATION]),
        (STAGE, &[API]),
    ],
    delete_first: &[],
};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateVpcLink {
        component: String,
        name: String,
        subnet_ids: Vec<String>,
        security_group: Ref,
        tags: Tags,
    },
    DeleteVpcLink {
        id: String,
    },
    CreateApi {
        component: String,
        name: String,
        tags: Tags,
    },
    DeleteApi {
        id: String,
    },
    CreateIntegration {
        component: String,
        api: Ref,
        uri: String,
        vpc_link: Ref,
    },
    UpdateIntegration {
        api_id: String,
        id: String,
        uri: String,
        vpc_link: Ref,
    },
    CreateRoute {
        api: Ref,
        key: String,
        integration: Ref,
    },
    UpdateRoute {
        api_id: String,
        id: String,
        key: String,
        integration: Ref,
    },
    DeleteRoute {
        api_id: String,
        id: String,
        key: String,
    },
    CreateStage {
        component: String,
        api: Ref,
        name: String,
        throttling: Option<(f64, i32)>,
        access_log: Option<AccessLog>,
        tags: Tags,
    },
    UpdateStage {
        api_id: String,
        name: String,
        throttling: Option<(f64, i32)>,
        access_log: Option<AccessLog>,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::CreateVpcLink { .. } | Step::DeleteVpcLink { .. } => VPC_LINK,
            Step::CreateApi { .. } | Step::DeleteApi { .. } => API,
            Step::CreateIntegration { .. } | Step::UpdateIntegration { .. } => INTEGRATION,
            Step::CreateRoute { .. } | Step::UpdateRoute { .. } | Step::DeleteRoute { .. } => ROUTE,
            Step::CreateStage { .. } | Step::UpdateStage { .. } => STAGE,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateVpcLink { .. }
            | Step::CreateApi { .. }
            | Step::CreateIntegration { .. }
            | Step::CreateRoute { .. }
            | Step::CreateStage { .. } => Verb::Create,
            Step::UpdateIntegration { .. } | Step::UpdateRoute { .. } | Step::UpdateStage { .. } => Verb::Update,
            Step::DeleteVpcLink { .. } | Step::DeleteApi { .. } | Step::DeleteRoute { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateVpcLink { component, .. }
            | Step::CreateApi { component, .. }
            | Step::CreateIntegration { component, .. }
            | Step::CreateStage { component, .. } => Some(component),
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::CreateVpcLink { security_group, .. } => vec![security_group],
            Step::CreateIntegration { api, vpc_link, .. } => vec![api, vpc_link],
            Step::UpdateIntegration { vpc_link, .. } => vec![vpc_link],
            Step::CreateRoute { api, integration, .. } => vec![api, integration],
            Step::UpdateRoute { integration, .. } => vec![integration],
            Step::CreateStage { api, .. } => vec![api],
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::CreateVpcLink { .. } => "CreateVpcLink",
            Step::DeleteVpcLink { .. } => "DeleteVpcLink",
            Step::CreateApi { .. } => "CreateApi",
            Step::DeleteApi { .. } => "DeleteApi",
            Step::CreateIntegration { .. } => "CreateIntegration",
            Step::UpdateIntegration { .. } => "UpdateIntegration",
            Step::CreateRoute { .. } => "CreateRoute",
            Step::UpdateRoute { .. } => "UpdateRoute",
            Step::DeleteRoute { .. } => "DeleteRoute",
            Step::CreateStage { .. } => "CreateStage",
            Step::UpdateStage { .. } => "UpdateStage",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[crate::security_group::ORDERING, ORDERING]
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateVpcLink { name, subnet_ids, .. } => {
                write!(f, "create VPC link {name} in {}", subnet_ids.join(", "))
            }
            Step::DeleteVpcLink { id } => write!(f, "delete VPC link {id}"),
            Step::CreateApi { name, .. } => write!(f, "create HTTP API {name}"),
            Step::DeleteApi { id } => write!(f, "delete HTTP API {id}"),
            Step::CreateIntegration { uri, vpc_link, .. } => write!(f, "integrate with {uri} over VPC link {vpc_link}"),
            Step::UpdateIntegration { id, uri, vpc_link, .. } => {
                write!(f, "point integration {id} at {uri} over VPC link {vpc_link}")
            }
            Step::CreateRoute { key, .. } => write!(f, "create route {key}"),
            Step::UpdateRoute { key, integration, .. } => write!(f, "route {key} to {integration}"),
            Step::DeleteRoute { key, .. } => write!(f, "delete route {key}"),
            Step::CreateStage { name, .. } => write!(f, "create stage {name} (deploys itself)"),
            Step::UpdateStage { name, .. } => write!(f, "set stage {name}'s throttling and access logs"),
        }
    }
}
