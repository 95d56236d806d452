//! The `net.securecart.io/v1alpha1` API: custom resource types, condition vocabulary and the
//! ownership tag keys. Types only: no client, no runtime, no AWS SDK.

pub mod common;
pub mod conditions;
pub mod global_entrypoint;
pub mod kinds;
pub mod load_balancer_policy;
pub mod partner_api;
pub mod private_endpoint;
pub mod tags;
pub mod transit_gateway;
pub mod vpc_peering;
pub mod vpc_tier;

pub use common::{CommonStatus, CreateIntent, OwnedResource};
pub use global_entrypoint::*;
pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
pub use load_balancer_policy::*;
pub use partner_api::*;
pub use private_endpoint::*;
pub use transit_gateway::*;
pub use vpc_peering::*;
pub use vpc_tier::*;

/// The API group of every kind here.
pub const GROUP: &str = "net.securecart.io";
/// The one version served so far.
pub const VERSION: &str = "v1alpha1";
/// The finalizer that holds an object until its AWS resources are gone (or retained).
pub const FINALIZER: &str = "net.securecart.io/cleanup";
/// The field manager for server-side apply of status.
pub const FIELD_MANAGER: &str = "securecart-controller";

/// A reference to an object in the same namespace.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct LocalObjectRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// What happens to AWS resources when the object is deleted.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Delete every AWS resource the object owns, in reverse dependency order.
    #[default]
    Delete,
    /// Remove the finalizer and leave AWS untouched.
    Retain,
}

common_status!(
    VpcTierStatus,
    PrivateEndpointStatus,
    LoadBalancerPolicyStatus,
    TransitGatewayStatus,
    VpcPeeringStatus,
    PartnerApiStatus,
    GlobalEntrypointStatus
);
