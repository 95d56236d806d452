//! The outcome of one executed step, as the AWS adapter reports it and the planners fold it into
//! their observed model (so a reconcile need not read back what it has just been told).

use std::collections::BTreeMap;

use serde::Serialize;

/// What a step's AWS call returned: the ID of what it created (or the new association ID), and
/// the few other fields a planner needs from the response (`state`, `public_ip`, `arn`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Output {
    pub id: Option<String>,
    pub fields: BTreeMap<String, String>,
}

impl Output {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn id(id: impl Into<String>) -> Self {
        Self { id: Some(id.into()), fields: BTreeMap::new() }
    }

    pub fn with(mut self, key: &str, value: Option<impl Into<String>>) -> Self {
        if let Some(v) = value {
            self.fields.insert(key.to_string(), v.into());
        }
        self
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }
}

/// A step of any AWS service. Every kind's plan is a `Plan<Step>`; the AWS adapter runs each
/// variant with that service's client. A new service adds a variant here and its ordering below.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    Network(crate::network::Step),
    Endpoint(crate::endpoint::Step),
    LoadBalancing(crate::load_balancer::Step),
}

macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            Step::Network($s) => $e,
            Step::Endpoint($s) => $e,
            Step::LoadBalancing($s) => $e,
        }
    };
}

impl crate::plan::PlanStep for Step {
    fn resource(&self) -> crate::plan::Resource {
        each!(self, s => s.resource())
    }
    fn verb(&self) -> crate::plan::Verb {
        each!(self, s => s.verb())
    }
    fn creates(&self) -> Option<&str> {
        each!(self, s => s.creates())
    }
    fn refs(&self) -> Vec<&crate::plan::Ref> {
        each!(self, s => s.refs())
    }
    fn action(&self) -> &'static str {
        each!(self, s => s.action())
    }
}

impl crate::plan::Ordered for Step {
    fn ordering() -> &'static [crate::plan::Ordering] {
        &[crate::network::ORDERING, crate::endpoint::ORDERING, crate::load_balancer::ORDERING]
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        each!(self, s => s.fmt(f))
    }
}

impl From<crate::network::Step> for Step {
    fn from(s: crate::network::Step) -> Self {
        Step::Network(s)
    }
}

impl From<crate::endpoint::Step> for Step {
    fn from(s: crate::endpoint::Step) -> Self {
        Step::Endpoint(s)
    }
}

impl From<crate::load_balancer::Step> for Step {
    fn from(s: crate::load_balancer::Step) -> Self {
        Step::LoadBalancing(s)
    }
}
