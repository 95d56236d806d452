//! EC2 networking, shared by every kind that builds or changes a VPC: VPCs, subnets, internet
//! gateways, route tables, routes and associations, NAT gateways, Elastic IPs and flow logs.

mod absorb;
mod desired;
mod observed;
mod planner;
mod step;

pub use absorb::absorb;
pub use desired::*;
pub use observed::*;
pub use planner::{DEFAULT_ROUTE, owns_anything, plan};
pub use step::{ORDERING, RouteTarget, Step, VpcAttribute, resources};
