//! A plan: steps grouped into ordered phases. Steps of one phase are independent and run in
//! parallel; a phase starts when the one before it has finished.

use std::fmt;

use serde::Serialize;

/// A reference to a resource: one that exists, or one a step earlier in the plan creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Ref {
    Id(String),
    Created(String),
}

impl Ref {
    pub fn id(&self) -> Option<&str> {
        match self {
            Ref::Id(id) => Some(id),
            Ref::Created(_) => None,
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Id(id) => f.write_str(id),
            Ref::Created(component) => write!(f, "<{component}>"),
        }
    }
}

/// What a step type must say about itself for the executor and the reports.
pub trait PlanStep: fmt::Display {
    /// Position in the dependency order: creates low, deletes high.
    fn phase(&self) -> u8;
    /// Whether the step changes AWS (every step does today; tag-only steps count too).
    fn is_mutating(&self) -> bool {
        true
    }
    /// The component this step creates, whose new ID later steps resolve through `Ref::Created`.
    fn creates(&self) -> Option<&str> {
        None
    }
    /// Short, low-cardinality action label for events and metrics, e.g. `CreateSubnet`.
    fn action(&self) -> &'static str;
}

/// The ordered steps that bring AWS to the desired state, and what the plan had to wait for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan<S> {
    pub steps: Vec<S>,
    /// Work that cannot start yet (a NAT gateway still pending, a subnet still in use); the
    /// controller re-observes and plans again.
    pub waiting: Vec<String>,
}

impl<S> Default for Plan<S> {
    fn default() -> Self {
        Self { steps: Vec::new(), waiting: Vec::new() }
    }
}

impl<S: PlanStep> Plan<S> {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn in_sync(&self) -> bool {
        self.steps.is_empty() && self.waiting.is_empty()
    }

    /// Steps grouped by phase, in phase order; the order of steps within a phase is kept.
    pub fn phases(&self) -> Vec<Vec<&S>> {
        let mut sorted: Vec<&S> = self.steps.iter().collect();
        sorted.sort_by_key(|s| s.phase());
        let mut out: Vec<Vec<&S>> = Vec::new();
        for step in sorted {
            match out.last_mut() {
                Some(last) if last[0].phase() == step.phase() => last.push(step),
                _ => out.push(vec![step]),
            }
        }
        out
    }

    /// One line per step, `P<phase> <step>`: the golden-file form.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for phase in self.phases() {
            for step in phase {
                out.push_str(&format!("P{} {step}\n", step.phase()));
            }
        }
        for wait in &self.waiting {
            out.push_str(&format!("waiting: {wait}\n"));
        }
        out
    }
}
