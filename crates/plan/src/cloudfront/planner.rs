//! PLACEHOLDER: the planner is being written (branch work, never merged like this).

use super::step::Step;
use super::{Desired, Distribution, Observed};
use crate::context::Context;
use crate::owner::Owner;
use crate::plan::{Plan, Ref};

pub struct Planned {
    pub plan: Plan<Step>,
    /// The kept distribution's ID or ARN, or the create's reference.
    pub distribution: Option<Ref>,
}

pub fn plan(_desired: Option<&Desired>, _cx: &Context, _observed: &Observed, _web_acl: Option<&Ref>) -> Planned {
    Planned { plan: Plan::default(), distribution: None }
}

/// The owner's distribution, if observed.
pub fn find<'a>(owner: &Owner, observed: &'a Observed) -> Option<&'a Distribution> {
    let _ = (owner, observed);
    None
}

pub fn inventory(_owner: &Owner, _observed: &Observed) -> Vec<(String, String)> {
    Vec::new()
}

pub fn owns_any(_owner: &Owner, _observed: &Observed) -> bool {
    false
}
