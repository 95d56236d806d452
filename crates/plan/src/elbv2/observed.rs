//! What the ELBv2 adapter reads of an owner's load balancing: plain data, filled from Describe
//! calls by ARN and by derived name.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::owner::{Owner, Tags, component};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub load_balancers: Vec<LoadBalancer>,
    pub target_groups: Vec<TargetGroup>,
    pub listeners: Vec<Listener>,
    pub rules: Vec<Rule>,
}

impl Observed {
    /// (component, ARN) of everything owned, for the status inventory.
    pub fn inventory(&self, owner: &Owner) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |tags: &Tags, arn: &str| {
            if owner.owns(tags)
                && let Some(c) = component(tags)
            {
                out.push((c.to_string(), arn.to_string()));
            }
        };
        self.target_groups.iter().for_each(|r| add(&r.tags, &r.arn));
        self.load_balancers.iter().for_each(|r| add(&r.tags, &r.arn));
        self.listeners.iter().for_each(|r| add(&r.tags, &r.arn));
        self.rules.iter().for_each(|r| add(&r.tags, &r.arn));
        out
    }

    /// Load balancers and target groups are what must be deleted; listeners and rules go with
    /// their load balancer.
    pub fn owns_any(&self, owner: &Owner) -> bool {
        self.target_groups.iter().any(|r| owner.owns(&r.tags))
            || self.load_balancers.iter().any(|r| owner.owns(&r.tags))
    }

    pub fn owned_load_balancers<'a>(&'a self, owner: &'a Owner) -> impl Iterator<Item = &'a LoadBalancer> + 'a {
        self.load_balancers.iter().filter(|l| owner.owns(&l.tags))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub protocol: String,
    pub port: Option<u16>,
    pub target_type: String,
    pub vpc_id: String,
    pub health: HealthSettings,
    pub tags: Tags,
}

/// Target group health check settings; None means "AWS default" in the desired model and is
/// never diffed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HealthSettings {
    pub path: Option<String>,
    pub interval_seconds: Option<i32>,
    pub healthy_threshold: Option<i32>,
    pub unhealthy_threshold: Option<i32>,
    pub matcher: Option<String>,
}

impl HealthSettings {
    /// True when every setting the desired model names has that value in `actual`.
    pub fn satisfied_by(&self, actual: &HealthSettings) -> bool {
        fn same<T: PartialEq>(want: &Option<T>, have: &Option<T>) -> bool {
            want.is_none() || want == have
        }
        same(&self.path, &actual.path)
            && same(&self.interval_seconds, &actual.interval_seconds)
            && same(&self.healthy_threshold, &actual.healthy_threshold)
            && same(&self.unhealthy_threshold, &actual.unhealthy_threshold)
            && same(&self.matcher, &actual.matcher)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// application | network | gateway
    pub lb_type: String,
    /// internet-facing | internal
    pub scheme: String,
    /// provisioning | active | active_impaired | failed
    pub state: String,
    pub dns_name: String,
    pub canonical_hosted_zone_id: String,
    pub ip_address_type: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ObservedAction {
    Forward(String),
    Redirect { protocol: String, port: String, status_code: String },
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Listener {
    pub arn: String,
    pub load_balancer_arn: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub certificate_arn: Option<String>,
    pub default_action: ObservedAction,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub arn: String,
    pub listener_arn: String,
    pub priority: u32,
    pub path_patterns: Vec<String>,
    pub host_headers: Vec<String>,
    pub action: ObservedAction,
    pub tags: Tags,
}
