//! Transit gateways, shared by the kinds that build or use a hub: the TransitGateway (the hub,
//! its route tables, peerings, customer gateways, VPN connections and its attachments' links)
//! and the VpcTier (its VPC's attachment, association and propagations).

pub mod attachment;
mod desired;
mod observed;
mod planner;
mod step;

pub use desired::*;
pub use observed::*;
pub use planner::{owns_anything, plan};
pub use step::{ORDERING, Step, resources};
