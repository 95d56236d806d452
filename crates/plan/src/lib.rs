//! Pure planning. `desired(spec) + observed(AWS) -> Plan` and `-> Status`, with no I/O, no async
//! and no clients, so the whole decision logic is tested as tables of inputs and expected plans.

pub mod cidr;
pub mod conditions;
pub mod endpoint;
pub mod load_balancer;
pub mod owner;
pub mod plan;
pub mod vpc;

pub use owner::{Owner, Tags};
pub use plan::{Plan, Ref};

/// A spec the controller cannot realise. The message names the field; no AWS call is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSpec(pub String);
