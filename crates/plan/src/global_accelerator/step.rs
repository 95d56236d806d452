//! Global Accelerator steps and the order their resource types need.

use std::fmt;

use serde::Serialize;

use super::{EndpointConfig, HealthCheck, listener_key};
use crate::owner::{Tags, keys};
use crate::plan::{Ordered, Ordering, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const ACCELERATOR: &str = "globalaccelerator/accelerator";
    pub const TAGS: &str = "globalaccelerator/tags";
    pub const LISTENER: &str = "globalaccelerator/listener";
    pub const ENDPOINT_GROUP: &str = "globalaccelerator/endpoint-group";
}
use resources::*;

/// A listener needs its accelerator, an endpoint group its listener and its load balancers.
/// Shield protections and Route 53 alias records need the accelerator; deletes run in reverse
/// (groups, then listeners, then the accelerator).
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (TAGS, &[ACCELERATOR]),
        (LISTENER, &[ACCELERATOR]),
        (ENDPOINT_GROUP, &[LISTENER, crate::elbv2::resources::LOAD_BALANCER]),
        (crate::shield::resources::PROTECTION, &[ACCELERATOR]),
        (crate::route53::resources::RECORDS, &[ACCELERATOR]),
    ],
    delete_first: &[],
};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    /// Enabled, with its tags; the create intent's token is its `IdempotencyToken`.
    CreateAccelerator {
        component: String,
        name: String,
        ip_address_type: String,
        tags: Tags,
    },
    /// Also how an accelerator is disabled before it is deleted.
    UpdateAccelerator {
        arn: String,
        name: String,
        ip_address_type: String,
        enabled: bool,
    },
    /// Writes the tags the accelerator lacks (`TagResource`).
    TagAccelerator {
        arn: String,
        tags: Tags,
    },
    /// Only once it is disabled, deployed so, and without listeners.
    DeleteAccelerator {
        arn: String,
    },
    CreateListener {
        component: String,
        accelerator: Ref,
        protocol: String,
        port_ranges: Vec<(u16, u16)>,
        client_affinity: String,
    },
    UpdateListener {
        arn: String,
        protocol: String,
        port_ranges: Vec<(u16, u16)>,
        client_affinity: String,
    },
    /// Only once its endpoint groups are gone.
    DeleteListener {
        arn: String,
        protocol: String,
        port_ranges: Vec<(u16, u16)>,
    },
    CreateEndpointGroup {
        component: String,
        listener: Ref,
        region: String,
        traffic_dial_percentage: f32,
        health_check: HealthCheck,
        endpoints: Vec<EndpointConfig>,
    },
    /// Replaces the group's settings and its whole endpoint list.
    UpdateEndpointGroup {
        arn: String,
        region: String,
        traffic_dial_percentage: f32,
        health_check: HealthCheck,
        endpoints: Vec<EndpointConfig>,
    },
    DeleteEndpointGroup {
        arn: String,
        region: String,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::CreateAccelerator { .. } | Step::UpdateAccelerator { .. } | Step::DeleteAccelerator { .. } => {
                ACCELERATOR
            }
            Step::TagAccelerator { .. } => TAGS,
            Step::CreateListener { .. } | Step::UpdateListener { .. } | Step::DeleteListener { .. } => LISTENER,
            Step::CreateEndpointGroup { .. } | Step::UpdateEndpointGroup { .. } | Step::DeleteEndpointGroup { .. } => {
                ENDPOINT_GROUP
            }
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateAccelerator { .. } | Step::CreateListener { .. } | Step::CreateEndpointGroup { .. } => {
                Verb::Create
            }
            Step::UpdateAccelerator { .. }
            | Step::TagAccelerator { .. }
            | Step::UpdateListener { .. }
            | Step::UpdateEndpointGroup { .. } => Verb::Update,
            Step::DeleteAccelerator { .. } | Step::DeleteListener { .. } | Step::DeleteEndpointGroup { .. } => {
                Verb::Delete
            }
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateAccelerator { component, .. }
            | Step::CreateListener { component, .. }
            | Step::CreateEndpointGroup { component, .. } => Some(component),
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::CreateListener { accelerator, .. } => vec![accelerator],
            Step::CreateEndpointGroup { listener, .. } => vec![listener],
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::CreateAccelerator { .. } => "CreateAccelerator",
            Step::UpdateAccelerator { .. } => "UpdateAccelerator",
            Step::TagAccelerator { .. } => "TagResource",
            Step::DeleteAccelerator { .. } => "DeleteAccelerator",
            Step::CreateListener { .. } => "CreateListener",
            Step::UpdateListener { .. } => "UpdateListener",
            Step::DeleteListener { .. } => "DeleteListener",
            Step::CreateEndpointGroup { .. } => "CreateEndpointGroup",
            Step::UpdateEndpointGroup { .. } => "UpdateEndpointGroup",
            Step::DeleteEndpointGroup { .. } => "DeleteEndpointGroup",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[crate::elbv2::ORDERING, crate::shield::ORDERING, crate::route53::ORDERING, ORDERING]
    }
}

fn endpoint_ids(endpoints: &[EndpointConfig]) -> String {
    if endpoints.is_empty() {
        return "no endpoints".into();
    }
    endpoints.iter().map(|e| format!("{} (weight {})", e.id, e.weight)).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateAccelerator { name, ip_address_type, .. } => {
                write!(f, "create accelerator {name} ({ip_address_type}, enabled)")
            }
            Step::UpdateAccelerator { arn, name, ip_address_type, enabled } => {
                let state = if *enabled { "enabled" } else { "disabled" };
                write!(f, "set accelerator {arn} to {name}, {ip_address_type}, {state}")
            }
            Step::TagAccelerator { arn, tags } => write!(f, "tag accelerator {arn} with {}", keys(tags)),
            Step::DeleteAccelerator { arn } => write!(f, "delete accelerator {arn}"),
            Step::CreateListener { accelerator, protocol, port_ranges, client_affinity, .. } => write!(
                f,
                "create listener {} on {accelerator} (affinity {client_affinity})",
                listener_key(protocol, port_ranges)
            ),
            Step::UpdateListener { arn, protocol, port_ranges, client_affinity } => {
                write!(f, "set listener {arn} to {} (affinity {client_affinity})", listener_key(protocol, port_ranges))
            }
            Step::DeleteListener { arn, protocol, port_ranges } => {
                write!(f, "delete listener {} {arn}", listener_key(protocol, port_ranges))
            }
            Step::CreateEndpointGroup { listener, region, traffic_dial_percentage, endpoints, .. } => write!(
                f,
                "create endpoint group {region} on {listener} (dial {traffic_dial_percentage}%) to {}",
                endpoint_ids(endpoints)
            ),
            Step::UpdateEndpointGroup { arn, region, traffic_dial_percentage, endpoints, .. } => write!(
                f,
                "set endpoint group {region} {arn} (dial {traffic_dial_percentage}%) to {}",
                endpoint_ids(endpoints)
            ),
            Step::DeleteEndpointGroup { arn, region } => write!(f, "delete endpoint group {region} {arn}"),
        }
    }
}
