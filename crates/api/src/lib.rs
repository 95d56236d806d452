//! The `net.securecart.io/v1alpha1` API: custom resource types, condition vocabulary and the
//! ownership tag keys. Types only: no client, no runtime, no AWS SDK.

pub mod conditions;
pub mod load_balancer_policy;
pub mod private_endpoint;
pub mod tags;
pub mod vpc_tier;

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
pub use load_balancer_policy::*;
pub use private_endpoint::*;
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

/// The status fields every kind shares, so the controller writes conditions generically.
pub trait CommonStatus: Default + Clone + PartialEq + serde::Serialize {
    fn conditions(&self) -> &[Condition];
    fn set_common(&mut self, observed_generation: Option<i64>, conditions: Vec<Condition>);
}

impl CommonStatus for PrivateEndpointStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
    fn set_common(&mut self, observed_generation: Option<i64>, conditions: Vec<Condition>) {
        self.observed_generation = observed_generation;
        // Conditions the fields already carry (Accepted) follow the standard three.
        let extra: Vec<Condition> = std::mem::take(&mut self.conditions)
            .into_iter()
            .filter(|c| !conditions.iter().any(|s| s.type_ == c.type_))
            .collect();
        self.conditions = conditions.into_iter().chain(extra).collect();
    }
}

impl CommonStatus for VpcTierStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
    fn set_common(&mut self, observed_generation: Option<i64>, conditions: Vec<Condition>) {
        self.observed_generation = observed_generation;
        self.conditions = conditions;
    }
}

impl CommonStatus for LoadBalancerPolicyStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
    /// Keeps the per-part conditions (LoadBalancerReady, WafAssociated, DnsPublished) that the
    /// planner's status put after the three common ones.
    fn set_common(&mut self, observed_generation: Option<i64>, conditions: Vec<Condition>) {
        self.observed_generation = observed_generation;
        let parts: Vec<Condition> = self
            .conditions
            .drain(..)
            .filter(|c| !conditions.iter().any(|n| n.type_ == c.type_))
            .map(|mut c| {
                c.observed_generation = observed_generation;
                c
            })
            .collect();
        self.conditions = conditions;
        self.conditions.extend(parts);
    }
}
