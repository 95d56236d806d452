//! Global Accelerator (its control plane is in us-west-2): one accelerator per owner, its
//! listeners, and per listener one endpoint group per region whose endpoints are load balancers
//! of that region.
//!
//! The accelerator carries the ownership tags; listeners and endpoint groups belong to it.
//! Creates send the create intent's token as `IdempotencyToken`. An accelerator is disabled, and
//! deployed so, before it is deleted; its listeners and endpoint groups go first.

mod planner;
mod step;

use serde::Serialize;

use crate::owner::Tags;

pub use planner::{Planned, desired_of, find, inventory, owns_any, plan, validate};
pub use step::{ORDERING, Step, resources};

/// Where every accelerator is created and read, whatever the endpoints' regions.
pub const CONTROL_REGION: &str = "us-west-2";
/// The hosted zone of every accelerator's DNS name, for Route 53 alias records.
pub const HOSTED_ZONE_ID: &str = "Z2BJ6XQ5FK7U4H";

pub mod components {
    pub const ACCELERATOR: &str = "accelerator";
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    /// The accelerators with the ARNs the status records, or found by tags.
    pub accelerators: Vec<Accelerator>,
    /// Of the observed accelerators.
    pub listeners: Vec<Listener>,
    /// Of the observed listeners.
    pub endpoint_groups: Vec<EndpointGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Accelerator {
    pub arn: String,
    pub name: String,
    /// IN_PROGRESS | DEPLOYED
    pub status: String,
    pub enabled: bool,
    /// IPV4 | DUAL_STACK
    pub ip_address_type: String,
    pub dns_name: Option<String>,
    pub dual_stack_dns_name: Option<String>,
    pub ip_addresses: Vec<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Listener {
    pub accelerator_arn: String,
    pub arn: String,
    /// TCP | UDP
    pub protocol: String,
    /// (from, to), sorted.
    pub port_ranges: Vec<(u16, u16)>,
    /// NONE | SOURCE_IP
    pub client_affinity: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndpointGroup {
    pub listener_arn: String,
    pub arn: String,
    pub region: String,
    pub traffic_dial_percentage: f32,
    pub health_check: HealthCheck,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HealthCheck {
    /// TCP | HTTP | HTTPS
    pub protocol: String,
    pub path: Option<String>,
    pub port: Option<u16>,
    pub interval_seconds: i32,
    pub threshold_count: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Endpoint {
    /// A load balancer's ARN.
    pub id: String,
    pub weight: i32,
    pub client_ip_preservation: bool,
    /// INITIAL | HEALTHY | UNHEALTHY (read-only).
    pub health_state: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    pub name: String,
    /// IPV4 | DUAL_STACK
    pub ip_address_type: String,
    pub listeners: Vec<DesiredListener>,
    pub user_tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredListener {
    pub protocol: String,
    /// (from, to), sorted; a listener is matched by its protocol and ports.
    pub port_ranges: Vec<(u16, u16)>,
    pub client_affinity: String,
    /// At most one per region.
    pub endpoint_groups: Vec<DesiredEndpointGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredEndpointGroup {
    pub region: String,
    pub traffic_dial_percentage: f32,
    pub health_check: HealthCheck,
    pub endpoint: DesiredEndpoint,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredEndpoint {
    /// The load balancer's ARN.
    pub id: String,
    pub weight: i32,
    pub client_ip_preservation: bool,
    /// Whether the load balancer is active: Global Accelerator takes only active ones.
    pub active: bool,
}

/// `443` or `8000-8100,9000`.
pub fn ports_label(port_ranges: &[(u16, u16)]) -> String {
    port_ranges
        .iter()
        .map(|(f, t)| if f == t { f.to_string() } else { format!("{f}-{t}") })
        .collect::<Vec<_>>()
        .join(",")
}
