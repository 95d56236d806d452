//! A plan: the steps that take AWS from what is to what is wanted, and what it has to wait for.
//!
//! Steps do not carry phase numbers. Each says which AWS resource type it acts on and whether it
//! creates, updates or deletes it; an [`Ordering`] declares which resource types must exist
//! before which. From that the plan derives a dependency graph: creates and updates after the
//! creates and updates of their prerequisites, deletes after the deletes of their dependents and
//! after every create and update (make before break), except for resource types declared
//! delete-first (a flow log replaced, a stray gateway detached before the kept one attaches).

use std::collections::BTreeMap;
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

    /// The component a step earlier in the plan creates, if this refers to one.
    pub fn created(&self) -> Option<&str> {
        match self {
            Ref::Id(_) => None,
            Ref::Created(c) => Some(c),
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

/// Where a step runs when not in the plan's own region with the controller's own credentials:
/// another region (the accepter side of a cross-region peering), or another account, reached by
/// assuming `role_arn` through STS.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub region: String,
    pub role_arn: Option<String>,
}

impl Location {
    /// `region` with the controller's own credentials.
    pub fn region(region: &str) -> Self {
        Self { region: region.to_string(), role_arn: None }
    }

    /// None when this is just `region` with the controller's own credentials.
    pub fn unless_home(self, region: &str) -> Option<Self> {
        (self.region != region || self.role_arn.is_some()).then_some(self)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.role_arn {
            Some(role) => write!(f, "{} as {role}", self.region),
            None => f.write_str(&self.region),
        }
    }
}

/// An AWS resource type, as the ordering graph names it: `service/type`, e.g. `ec2/subnet`.
pub type Resource = &'static str;

/// What a step does to its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Verb {
    Create,
    Update,
    Delete,
}

/// What a step type must say about itself for the ordering, the executor and the reports.
pub trait PlanStep: fmt::Display {
    /// The resource type it acts on (a key of the [`Ordering`]).
    fn resource(&self) -> Resource;
    fn verb(&self) -> Verb;
    /// The component this step creates, whose new ID later steps resolve through `Ref::Created`.
    fn creates(&self) -> Option<&str> {
        None
    }
    /// The references it resolves at run time; a `Ref::Created` makes it wait for its creator.
    fn refs(&self) -> Vec<&Ref> {
        Vec::new()
    }
    /// Short, low-cardinality action label for events, metrics and the IAM check, e.g. `CreateSubnet`.
    fn action(&self) -> &'static str;
    /// Where it runs; None: in the plan's region with the controller's own credentials.
    fn location(&self) -> Option<&Location> {
        None
    }
}

/// Which resource types need which others, declared once per AWS service.
#[derive(Clone, Copy, Debug)]
pub struct Ordering {
    /// `(resource, the resources it needs)`: creates of `resource` wait for creates of those;
    /// deletes of them wait for deletes of `resource`.
    pub needs: &'static [(Resource, &'static [Resource])],
    /// Resource types whose deletes go before the creates and updates of the same type.
    pub delete_first: &'static [Resource],
}

impl Ordering {
    fn prerequisites(&self, resource: Resource) -> impl Iterator<Item = Resource> + '_ {
        self.needs.iter().filter(move |(r, _)| *r == resource).flat_map(|(_, needs)| needs.iter().copied())
    }

    fn needs(&self, resource: Resource, prerequisite: Resource) -> bool {
        self.prerequisites(resource).any(|p| p == prerequisite)
    }
}

/// The ordered steps that bring AWS to the desired state, and what the plan had to wait for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan<S> {
    pub steps: Vec<S>,
    /// Work that cannot start yet (a NAT gateway still pending, a subnet still in use); the
    /// controller re-observes and plans again.
    pub waiting: Vec<String>,
    /// What only a change outside the controller can release (a DB instance in a subnet group
    /// that is to go, a name another owner holds): reported with its reason, retried slowly.
    pub blocked: Vec<Blocked>,
}

/// A part of the plan that cannot go ahead until something outside the controller changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Blocked {
    pub reason: &'static str,
    pub message: String,
}

impl Blocked {
    /// Something AWS-side, not made by this controller, still uses what is to be removed.
    pub fn deletion(message: String) -> Self {
        Self { reason: securecart_api::conditions::reason::DELETION_BLOCKED, message }
    }

    /// The name the object derives is held by a resource it does not own.
    pub fn name_taken(message: String) -> Self {
        Self { reason: securecart_api::conditions::reason::NAME_TAKEN, message }
    }
}

impl<S> Plan<S> {
    /// The same plan over another step type (a service's steps into the kind's).
    pub fn map<T>(self, f: impl Fn(S) -> T) -> Plan<T> {
        Plan { steps: self.steps.into_iter().map(f).collect(), waiting: self.waiting, blocked: self.blocked }
    }
}

impl<S> Default for Plan<S> {
    fn default() -> Self {
        Self { steps: Vec::new(), waiting: Vec::new(), blocked: Vec::new() }
    }
}

/// Implemented by the step type of every plan: the ordering its resource types follow.
pub trait Ordered: PlanStep {
    fn ordering() -> &'static [Ordering];
}

impl<S: Ordered> Plan<S> {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn in_sync(&self) -> bool {
        self.steps.is_empty() && self.waiting.is_empty() && self.blocked.is_empty()
    }

    pub fn extend(&mut self, other: Plan<S>) {
        self.steps.extend(other.steps);
        self.waiting.extend(other.waiting);
        self.blocked.extend(other.blocked);
    }

    /// For each step, the indices of the steps it must wait for.
    pub fn dependencies(&self) -> Vec<Vec<usize>> {
        let orderings = S::ordering();
        let needs = |a: Resource, b: Resource| orderings.iter().any(|o| o.needs(a, b));
        let delete_first = |r: Resource| orderings.iter().any(|o| o.delete_first.contains(&r));
        let creators: BTreeMap<&str, usize> =
            self.steps.iter().enumerate().filter_map(|(i, s)| Some((s.creates()?, i))).collect();
        self.steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let mut deps: Vec<usize> = step
                    .refs()
                    .into_iter()
                    .filter_map(|r| creators.get(r.created()?).copied())
                    .filter(|&j| j != i)
                    .collect();
                for (j, other) in self.steps.iter().enumerate() {
                    if j == i {
                        continue;
                    }
                    let (mine, theirs) = (step.resource(), other.resource());
                    let before = match (step.verb(), other.verb()) {
                        (Verb::Delete, Verb::Delete) => needs(theirs, mine),
                        (Verb::Delete, _) => !(delete_first(mine) && theirs == mine),
                        (_, Verb::Delete) => delete_first(mine) && theirs == mine,
                        _ => needs(mine, theirs),
                    };
                    if before {
                        deps.push(j);
                    }
                }
                deps.sort_unstable();
                deps.dedup();
                deps
            })
            .collect()
    }

    /// Each step's depth in the dependency graph (0 for steps that wait for nothing). A cycle,
    /// which a correct ordering never makes, is cut by the step order.
    pub fn levels(&self) -> Vec<usize> {
        let deps = self.dependencies();
        let mut level: Vec<Option<usize>> = vec![None; self.steps.len()];
        fn depth(i: usize, deps: &[Vec<usize>], level: &mut [Option<usize>], visiting: &mut Vec<bool>) -> usize {
            if let Some(l) = level[i] {
                return l;
            }
            if visiting[i] {
                return 0;
            }
            visiting[i] = true;
            let l = deps[i].iter().map(|&j| depth(j, deps, level, visiting) + 1).max().unwrap_or(0);
            visiting[i] = false;
            level[i] = Some(l);
            l
        }
        let mut visiting = vec![false; self.steps.len()];
        (0..self.steps.len()).map(|i| depth(i, &deps, &mut level, &mut visiting)).collect()
    }

    /// Steps grouped by level, in level order; the order of steps within a level is kept. Every
    /// step of a group may run once the groups before it are done.
    pub fn phases(&self) -> Vec<Vec<&S>> {
        let levels = self.levels();
        let depth = levels.iter().copied().max().map_or(0, |m| m + 1);
        let mut out: Vec<Vec<&S>> = vec![Vec::new(); depth];
        for (step, level) in self.steps.iter().zip(levels) {
            out[level].push(step);
        }
        out
    }

    /// One line per step, `L<level> <step>`, then what it waits for: the golden-file form.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (level, steps) in self.phases().into_iter().enumerate() {
            for step in steps {
                out.push_str(&format!("L{} {step}\n", level + 1));
            }
        }
        for wait in &self.waiting {
            out.push_str(&format!("waiting: {wait}\n"));
        }
        for b in &self.blocked {
            out.push_str(&format!("blocked ({}): {}\n", b.reason, b.message));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug)]
    struct S(&'static str, Verb, Option<&'static str>, Vec<Ref>);

    impl fmt::Display for S {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{:?} {}", self.1, self.0)
        }
    }

    impl PlanStep for S {
        fn resource(&self) -> Resource {
            self.0
        }
        fn verb(&self) -> Verb {
            self.1
        }
        fn creates(&self) -> Option<&str> {
            self.2
        }
        fn refs(&self) -> Vec<&Ref> {
            self.3.iter().collect()
        }
        fn action(&self) -> &'static str {
            "Test"
        }
    }

    const ORDER: Ordering = Ordering {
        needs: &[("t/subnet", &["t/vpc"]), ("t/nat", &["t/subnet", "t/eip"]), ("t/route", &["t/nat"])],
        delete_first: &["t/log"],
    };

    impl Ordered for S {
        fn ordering() -> &'static [Ordering] {
            &[ORDER]
        }
    }

    fn plan(steps: Vec<S>) -> Plan<S> {
        Plan { steps, ..Plan::default() }
    }

    #[test]
    fn creates_follow_their_prerequisites_and_references() {
        let p = plan(vec![
            S("t/route", Verb::Create, None, vec![Ref::Created("nat".into())]),
            S("t/nat", Verb::Create, Some("nat"), vec![]),
            S("t/subnet", Verb::Create, Some("subnet"), vec![]),
            S("t/vpc", Verb::Create, Some("vpc"), vec![]),
            S("t/eip", Verb::Create, Some("eip"), vec![]),
        ]);
        assert_eq!(p.levels(), vec![3, 2, 1, 0, 0]);
        assert_eq!(p.dependencies()[1], vec![2, 4], "the NAT gateway waits for its subnet and address");
    }

    #[test]
    fn deletes_run_in_reverse_after_every_create_unless_delete_first() {
        let p = plan(vec![
            S("t/vpc", Verb::Delete, None, vec![]),
            S("t/subnet", Verb::Delete, None, vec![]),
            S("t/eip", Verb::Create, Some("eip"), vec![]),
            S("t/log", Verb::Delete, None, vec![]),
            S("t/log", Verb::Create, Some("log"), vec![]),
        ]);
        let deps = p.dependencies();
        assert_eq!(deps[0], vec![1, 2, 4], "the VPC goes after its subnet and after the creates");
        assert_eq!(deps[1], vec![2, 4]);
        assert_eq!(deps[3], vec![2], "a delete-first type waits only for other creates");
        assert_eq!(deps[4], vec![3], "its create waits for its delete");
    }

    #[test]
    fn a_step_without_ordering_runs_at_once() {
        let p = plan(vec![S("t/other", Verb::Update, None, vec![]), S("t/vpc", Verb::Create, Some("vpc"), vec![])]);
        assert_eq!(p.levels(), vec![0, 0]);
        assert_eq!(p.render(), "L1 Update t/other\nL1 Create t/vpc\n");
    }
}
