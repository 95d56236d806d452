//! Global Accelerator (its control plane is in us-west-2): one accelerator per owner, its
//! listeners, and per listener one endpoint group per region whose endpoints are load balancers
//! of that region.
//!
//! The accelerator carries the ownership tags; listeners and endpoint groups belong to it.
//! Creates send the create intent's token as `IdempotencyToken`. An accelerator is disabled, and
//! deployed so, before it is deleted; its listeners and endpoint groups go first.

mod desired;
mod planner;
mod step;

use serde::Serialize;

use crate::owner::Tags;

pub use desired::{EndpointInput, accelerator_name, desired_of, validate};
pub use planner::{Planned, find, inventory, owns_any, plan};
pub use step::{ORDERING, Step, resources};

/// Where every accelerator is created and read, whatever the endpoints' regions.
pub const CONTROL_REGION: &str = "us-west-2";
/// The hosted zone of every accelerator's DNS name, for Route 53 alias records.
pub const HOSTED_ZONE_ID: &str = "Z2BJ6XQ5FK7U4H";

pub mod components {
    pub const ACCELERATOR: &str = "accelerator";

    /// A listener, by its protocol and ports: `listener/TCP/443`.
    pub fn listener(protocol: &str, port_ranges: &[(u16, u16)]) -> String {
        format!("listener/{}", super::listener_key(protocol, port_ranges))
    }

    /// A listener's endpoint group in one region: `endpointgroup/TCP/443/eu-west-1`.
    pub fn endpoint_group(protocol: &str, port_ranges: &[(u16, u16)], region: &str) -> String {
        format!("endpointgroup/{}/{region}", super::listener_key(protocol, port_ranges))
    }
}

/// `TCP/443` or `UDP/8000-8100,9000`: what identifies a listener of an accelerator.
pub fn listener_key(protocol: &str, port_ranges: &[(u16, u16)]) -> String {
    format!("{protocol}/{}", ports_label(port_ranges))
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

impl Endpoint {
    /// The part of it a step writes.
    pub fn config(&self) -> EndpointConfig {
        EndpointConfig { id: self.id.clone(), weight: self.weight, client_ip_preservation: self.client_ip_preservation }
    }
}

/// One entry of an endpoint group's `EndpointConfigurations`, as a create or update sends it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndpointConfig {
    /// A load balancer's ARN.
    pub id: String,
    pub weight: i32,
    pub client_ip_preservation: bool,
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
    /// The LoadBalancerPolicy whose load balancer this is, for what the plan waits for.
    pub policy: String,
    /// The load balancer's ARN; empty while the policy has none yet.
    pub id: String,
    pub weight: i32,
    pub client_ip_preservation: bool,
    /// Whether the load balancer is active: Global Accelerator takes only active ones.
    pub active: bool,
}

impl DesiredEndpoint {
    pub fn config(&self) -> EndpointConfig {
        EndpointConfig { id: self.id.clone(), weight: self.weight, client_ip_preservation: self.client_ip_preservation }
    }
}

/// `443` or `8000-8100,9000`.
pub fn ports_label(port_ranges: &[(u16, u16)]) -> String {
    port_ranges
        .iter()
        .map(|(f, t)| if f == t { f.to_string() } else { format!("{f}-{t}") })
        .collect::<Vec<_>>()
        .join(",")
}
