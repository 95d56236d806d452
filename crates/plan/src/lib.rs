//! Pure planning. `desired(spec) + observed(AWS) -> Plan` and `-> Status`, with no I/O, no async
//! and no clients, so the whole decision logic is tested as tables of inputs and expected plans.

pub mod apigateway;
pub mod cidr;
pub mod cloudfront;
pub mod cloudwatch;
pub mod conditions;
pub mod context;
pub mod direct_connect;
pub mod dns;
pub mod elbv2;
pub mod global_accelerator;
pub mod global_entrypoint;
pub mod http_api;
pub mod intent;
pub mod load_balancer_policy;
pub mod network;
pub mod owner;
pub mod partner_api;
pub mod peering;
pub mod plan;
pub mod private_endpoint;
pub mod route53;
pub mod security_group;
pub mod shield;
pub mod step;
pub mod subnet_group;
pub mod transit;
pub mod transit_gateway;
pub mod vpc_endpoint;
pub mod vpc_peering;
pub mod vpc_tier;
pub mod wafv2;

pub use context::{Choices, Context, InUse};
pub use owner::{Known, Owner, Tags};
pub use plan::{Location, Plan, Ref};
pub use step::{Output, Step};

/// A spec the controller cannot realise. The message names the field; no AWS call is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSpec(pub String);
