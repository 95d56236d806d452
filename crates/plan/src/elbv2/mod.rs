//! Elastic Load Balancing v2: load balancers (Application, Network, Gateway), target groups,
//! listeners, rules and attributes, shared by every kind that fronts something with a load
//! balancer. Matched against the desired model by ownership tags and planned in the order the
//! resources need each other; type and scheme changes replace the load balancer, protocol, port,
//! target type or VPC changes replace a target group.

mod desired;
mod observed;
mod planner;
mod step;

pub use desired::*;
pub use observed::*;
pub use planner::{Planned, kept, plan};
pub use step::{Action, ORDERING, Step, resources};
