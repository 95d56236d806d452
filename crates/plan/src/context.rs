//! What a planner knows besides desired and observed state: whose resources these are, which of
//! them the object's status names, and which are held by the objects that use this one.

use std::collections::BTreeMap;

use crate::owner::{Known, Owner};

/// AWS ID -> the objects that still use it (`LoadBalancerPolicy storefront`), so that a resource
/// leaving the spec is not deleted from under them.
pub type InUse = BTreeMap<String, Vec<String>>;

#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub owner: &'a Owner,
    pub known: &'a Known,
    pub in_use: &'a InUse,
}

impl<'a> Context<'a> {
    /// Is `id` the one the status names for `component`?
    pub fn named(&self, component: &str, id: &str) -> bool {
        self.known.get(component).is_some_and(|k| k == id)
    }

    /// Of several candidates for one component, the one to keep: the one the status names, else
    /// the lowest ID.
    pub fn keep<'c, T>(&self, component: &str, candidates: Vec<&'c T>, id: impl Fn(&T) -> &str) -> Option<&'c T> {
        let mut c = candidates;
        c.sort_by_key(|x| (!self.named(component, id(x)), id(x).to_string()));
        c.into_iter().next()
    }

    /// The users still holding `id`, if any.
    pub fn users_of(&self, id: &str) -> Option<&'a [String]> {
        self.in_use.get(id).map(Vec::as_slice).filter(|u| !u.is_empty())
    }
}
