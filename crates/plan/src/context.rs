//! What a planner knows besides desired and observed state: whose resources these are, which of
//! them the object's status names, and which are held by the objects that use this one; and
//! where it tells the engine which of several duplicates it kept.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::owner::{Known, Owner};

/// AWS ID -> the objects that still use it (`LoadBalancerPolicy storefront`), so that a resource
/// leaving the spec is not deleted from under them.
pub type InUse = BTreeMap<String, Vec<String>>;

#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub owner: &'a Owner,
    pub known: &'a Known,
    pub in_use: &'a InUse,
    /// Where the planner notes, per component, the resource it kept among those it matched.
    pub chosen: Option<&'a Choices>,
}

/// The resource each component keeps, as the planner decided. Among duplicates the status does
/// not name, the planner picks by what hangs off them (then age, then ID); the engine names the
/// pick in the status, so the next reconcile keeps the same one and what it publishes (a VPC ID
/// that others build in) does not change under them.
#[derive(Debug, Default)]
pub struct Choices(Mutex<Known>);

impl Choices {
    pub fn note(&self, component: &str, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(component.to_string(), id.to_string());
    }

    pub fn take(&self) -> Known {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
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
        let kept = c.into_iter().next();
        if let Some(k) = kept {
            self.chose(component, id(k));
        }
        kept
    }

    /// Notes that `id` is the one kept for `component`.
    pub fn chose(&self, component: &str, id: &str) {
        if let Some(c) = self.chosen {
            c.note(component, id);
        }
    }

    /// The users still holding `id`, if any.
    pub fn users_of(&self, id: &str) -> Option<&'a [String]> {
        self.in_use.get(id).map(Vec::as_slice).filter(|u| !u.is_empty())
    }
}
