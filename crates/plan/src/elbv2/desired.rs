//! The load balancing an owner asks for, and the names it has in AWS.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::owner::Tags;

/// A GENEVE target group's (and a Gateway load balancer's) only port.
pub const GENEVE_PORT: u16 = 6081;
/// Where an HTTP listener redirects.
pub const HTTPS_REDIRECT_PORT: &str = "443";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub load_balancer: DesiredLoadBalancer,
    pub target_groups: Vec<DesiredTargetGroup>,
    pub listeners: Vec<DesiredListener>,
    pub user_tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredLoadBalancer {
    pub name: String,
    /// application | network | gateway, as ELBv2 spells them.
    pub lb_type: String,
    /// Empty for a Gateway load balancer, which has none.
    pub scheme: String,
    pub ip_address_type: String,
    pub attributes: BTreeMap<String, String>,
}

impl DesiredLoadBalancer {
    /// Type and scheme are immutable: a load balancer with others is replaced.
    pub fn same_kind(&self, lb_type: &str, scheme: &str) -> bool {
        self.lb_type == lb_type && (self.scheme.is_empty() || self.scheme == scheme)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredTargetGroup {
    pub component: String,
    /// The name in the spec.
    pub name: String,
    /// The name in AWS (unique per region and account).
    pub aws_name: String,
    pub protocol: String,
    pub port: u16,
    pub target_type: String,
    pub health: super::HealthSettings,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DesiredAction {
    /// Forward to the target group with this component.
    Forward(String),
    RedirectToHttps,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredListener {
    pub component: String,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub certificate_arn: Option<String>,
    pub action: DesiredAction,
    pub rules: Vec<DesiredRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredRule {
    pub component: String,
    pub priority: u32,
    pub path_patterns: Vec<String>,
    pub host_headers: Vec<String>,
    /// Target group component.
    pub target_group: String,
}

pub mod components {
    pub const LOAD_BALANCER: &str = "lb";
    pub fn target_group(name: &str) -> String {
        format!("tg/{name}")
    }
    /// A Gateway load balancer's one listener has no port.
    pub fn listener(port: Option<u16>) -> String {
        port.map_or_else(|| "listener/gateway".to_string(), |p| format!("listener/{p}"))
    }
    pub fn rule(port: Option<u16>, priority: u32) -> String {
        format!("rule/{}/{priority}", port.map_or_else(|| "gateway".to_string(), |p| p.to_string()))
    }
}

/// An ELBv2 name (32 characters, letters, digits and hyphens, no hyphen at either end) that is
/// readable and unique to the owner and the immutable properties in `identity`, so that the
/// adapter finds what it made by name and a replacement never collides with its predecessor.
pub fn elb_name(readable: &str, identity: &[&str]) -> String {
    let clean: String =
        readable.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let prefix: String = clean.chars().take(23).collect();
    format!("{}-{}", prefix.trim_matches('-'), crate::intent::short_hash(identity))
}
