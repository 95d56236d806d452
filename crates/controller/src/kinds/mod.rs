//! Every kind the operator serves, each on the one engine.

pub mod load_balancer_policy;
pub mod private_endpoint;
pub mod vpc_tier;
