//! PLACEHOLDER: the planner is being written (branch work, never merged like this).

use super::step::Step;
use super::{Accelerator, Desired, Observed};
use crate::context::Context;
use crate::owner::Owner;
use crate::plan::{Plan, Ref};

pub struct Planned {
    pub plan: Plan<Step>,
    /// The kept accelerator's ID or ARN, or the create's reference.
    pub accelerator: Option<Ref>,
}

pub fn plan(_desired: Option<&Desired>, _cx: &Context, _observed: &Observed) -> Planned {
    Planned { plan: Plan::default(), accelerator: None }
}

/// The owner's accelerator, if observed.
pub fn find<'a>(owner: &Owner, observed: &'a Observed) -> Option<&'a Accelerator> {
    let _ = (owner, observed);
    None
}

pub fn inventory(_owner: &Owner, _observed: &Observed) -> Vec<(String, String)> {
    Vec::new()
}

pub fn owns_any(_owner: &Owner, _observed: &Observed) -> bool {
    false
}

/// PLACEHOLDER
pub fn validate(_spec: &securecart_api::GlobalAcceleratorSpec) -> Result<(), crate::InvalidSpec> {
    Ok(())
}

/// PLACEHOLDER
pub fn desired_of(
    _spec: &securecart_api::GlobalAcceleratorSpec,
    _owner: &Owner,
    _policies: &crate::global_entrypoint::Policies,
    _user_tags: &crate::owner::Tags,
) -> Result<Desired, crate::InvalidSpec> {
    Err(crate::InvalidSpec("placeholder".into()))
}
