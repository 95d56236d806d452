//! PLACEHOLDER: the steps are being written (branch work, never merged like this).

use std::fmt;

use serde::Serialize;

use crate::plan::{Ordered, Ordering, PlanStep, Resource, Verb};

pub mod resources {
    pub const ACCELERATOR: &str = "globalaccelerator/accelerator";
}

pub const ORDERING: Ordering = Ordering { needs: &[], delete_first: &[] };

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match *self {}
    }
    fn verb(&self) -> Verb {
        match *self {}
    }
    fn action(&self) -> &'static str {
        match *self {}
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

impl fmt::Display for Step {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}
