//! ELBv2 steps, and the order their resource types need.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::desired::{DesiredLoadBalancer, DesiredTargetGroup};
use super::observed::HealthSettings;
use crate::owner::Tags;
use crate::plan::{Ordered, Ordering, PlanStep, Ref, Resource, Verb};
use crate::security_group;

pub mod resources {
    pub const TARGET_GROUP: &str = "elbv2/target-group";
    pub const LOAD_BALANCER: &str = "elbv2/load-balancer";
    pub const LOAD_BALANCER_SETTINGS: &str = "elbv2/load-balancer-settings";
    pub const LISTENER: &str = "elbv2/listener";
    pub const RULE: &str = "elbv2/rule";
    pub const TAGS: &str = "elbv2/tags";
}
use resources::*;

/// A load balancer is created in its security group (with the group's rules in place) and with
/// its target groups there to forward to; listeners and rules need both.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (
            LOAD_BALANCER,
            &[security_group::resources::SECURITY_GROUP, security_group::resources::SECURITY_GROUP_RULE, TARGET_GROUP],
        ),
        (LOAD_BALANCER_SETTINGS, &[LOAD_BALANCER]),
        (LISTENER, &[LOAD_BALANCER, TARGET_GROUP]),
        (RULE, &[LISTENER, TARGET_GROUP]),
    ],
    delete_first: &[],
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Action {
    Forward(Ref),
    RedirectToHttps,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateTargetGroup {
        target_group: DesiredTargetGroup,
        vpc_id: String,
        tags: Tags,
    },
    SetTags {
        arn: String,
        component: String,
        tags: Tags,
    },
    ModifyTargetGroupHealthCheck {
        arn: String,
        health: HealthSettings,
    },
    CreateLoadBalancer {
        component: String,
        load_balancer: DesiredLoadBalancer,
        subnet_ids: Vec<String>,
        security_group: Option<Ref>,
        tags: Tags,
    },
    SetLoadBalancerAttributes {
        load_balancer: Ref,
        attributes: BTreeMap<String, String>,
    },
    /// The VpcTier's tier gained or lost a zone (Application and Network only).
    SetSubnets {
        arn: String,
        subnet_ids: Vec<String>,
    },
    SetIpAddressType {
        arn: String,
        ip_address_type: String,
    },
    CreateListener {
        component: String,
        load_balancer: Ref,
        port: Option<u16>,
        protocol: Option<String>,
        certificate_arn: Option<String>,
        action: Action,
        tags: Tags,
    },
    ModifyListener {
        arn: String,
        protocol: Option<String>,
        certificate_arn: Option<String>,
        action: Action,
    },
    CreateRule {
        component: String,
        listener: Ref,
        priority: u32,
        path_patterns: Vec<String>,
        host_headers: Vec<String>,
        target_group: Ref,
        tags: Tags,
    },
    ModifyRule {
        arn: String,
        path_patterns: Vec<String>,
        host_headers: Vec<String>,
        target_group: Ref,
    },
    DeleteRule {
        arn: String,
    },
    DeleteListener {
        arn: String,
    },
    DeleteLoadBalancer {
        arn: String,
    },
    DeleteTargetGroup {
        arn: String,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        use Step::*;
        match self {
            SetTags { .. } => TAGS,
            CreateTargetGroup { .. } | ModifyTargetGroupHealthCheck { .. } | DeleteTargetGroup { .. } => TARGET_GROUP,
            CreateLoadBalancer { .. } | DeleteLoadBalancer { .. } => LOAD_BALANCER,
            SetLoadBalancerAttributes { .. } | SetSubnets { .. } | SetIpAddressType { .. } => LOAD_BALANCER_SETTINGS,
            CreateListener { .. } | ModifyListener { .. } | DeleteListener { .. } => LISTENER,
            CreateRule { .. } | ModifyRule { .. } | DeleteRule { .. } => RULE,
        }
    }

    fn verb(&self) -> Verb {
        use Step::*;
        match self {
            CreateTargetGroup { .. } | CreateLoadBalancer { .. } | CreateListener { .. } | CreateRule { .. } => {
                Verb::Create
            }
            SetTags { .. }
            | ModifyTargetGroupHealthCheck { .. }
            | SetLoadBalancerAttributes { .. }
            | SetSubnets { .. }
            | SetIpAddressType { .. }
            | ModifyListener { .. }
            | ModifyRule { .. } => Verb::Update,
            DeleteRule { .. } | DeleteListener { .. } | DeleteLoadBalancer { .. } | DeleteTargetGroup { .. } => {
                Verb::Delete
            }
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        use Step::*;
        fn action(a: &Action) -> Option<&Ref> {
            match a {
                Action::Forward(r) => Some(r),
                Action::RedirectToHttps => None,
            }
        }
        match self {
            CreateLoadBalancer { security_group, .. } => security_group.iter().collect(),
            SetLoadBalancerAttributes { load_balancer, .. } => vec![load_balancer],
            CreateListener { load_balancer, action: a, .. } => {
                std::iter::once(load_balancer).chain(action(a)).collect()
            }
            ModifyListener { action: a, .. } => action(a).into_iter().collect(),
            CreateRule { listener, target_group, .. } => vec![listener, target_group],
            ModifyRule { target_group, .. } => vec![target_group],
            _ => Vec::new(),
        }
    }

    fn creates(&self) -> Option<&str> {
        use Step::*;
        match self {
            CreateLoadBalancer { component, .. } | CreateListener { component, .. } | CreateRule { component, .. } => {
                Some(component)
            }
            CreateTargetGroup { target_group, .. } => Some(&target_group.component),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        use Step::*;
        match self {
            CreateTargetGroup { .. } => "CreateTargetGroup",
            SetTags { .. } => "SetTags",
            ModifyTargetGroupHealthCheck { .. } => "ModifyTargetGroup",
            CreateLoadBalancer { .. } => "CreateLoadBalancer",
            SetLoadBalancerAttributes { .. } => "ModifyLoadBalancerAttributes",
            SetSubnets { .. } => "SetSubnets",
            SetIpAddressType { .. } => "SetIpAddressType",
            CreateListener { .. } => "CreateListener",
            ModifyListener { .. } => "ModifyListener",
            CreateRule { .. } => "CreateRule",
            ModifyRule { .. } => "ModifyRule",
            DeleteRule { .. } => "DeleteRule",
            DeleteListener { .. } => "DeleteListener",
            DeleteLoadBalancer { .. } => "DeleteLoadBalancer",
            DeleteTargetGroup { .. } => "DeleteTargetGroup",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING, security_group::ORDERING]
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Forward(tg) => write!(f, "forward to {tg}"),
            Action::RedirectToHttps => f.write_str("redirect to HTTPS:443"),
        }
    }
}

fn listener_name(port: &Option<u16>, protocol: &Option<String>) -> String {
    match (port, protocol) {
        (Some(port), Some(protocol)) => format!("{protocol}:{port}"),
        _ => "GENEVE".into(),
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Step::*;
        match self {
            CreateTargetGroup { target_group: t, .. } => write!(
                f,
                "create target group {} ({} {}:{} {})",
                t.component, t.aws_name, t.protocol, t.port, t.target_type
            ),
            SetTags { arn, component, tags } => {
                write!(f, "tag {component} {arn} with {}", crate::owner::keys(tags))
            }
            ModifyTargetGroupHealthCheck { arn, health } => write!(f, "set health check of {arn} to {health:?}"),
            CreateLoadBalancer { load_balancer: l, subnet_ids, .. } => {
                write!(f, "create {} {} load balancer {} in {}", l.scheme, l.lb_type, l.name, subnet_ids.join(","))
            }
            SetLoadBalancerAttributes { load_balancer, attributes } => {
                write!(f, "set attributes {attributes:?} on load balancer {load_balancer}")
            }
            SetSubnets { arn, subnet_ids } => write!(f, "move load balancer {arn} to subnets {}", subnet_ids.join(",")),
            SetIpAddressType { arn, ip_address_type } => {
                write!(f, "set IP address type of load balancer {arn} to {ip_address_type}")
            }
            CreateListener { port, protocol, load_balancer, action, .. } => {
                write!(f, "create listener {} on {load_balancer}: {action}", listener_name(port, protocol))
            }
            ModifyListener { arn, protocol, action, .. } => {
                write!(f, "modify listener {arn} ({}): {action}", protocol.as_deref().unwrap_or("GENEVE"))
            }
            CreateRule { priority, listener, path_patterns, host_headers, target_group, .. } => write!(
                f,
                "create rule {priority} on listener {listener}: paths {path_patterns:?} hosts {host_headers:?} -> {target_group}"
            ),
            ModifyRule { arn, path_patterns, host_headers, target_group } => {
                write!(f, "modify rule {arn}: paths {path_patterns:?} hosts {host_headers:?} -> {target_group}")
            }
            DeleteRule { arn } => write!(f, "delete rule {arn}"),
            DeleteListener { arn } => write!(f, "delete listener {arn}"),
            DeleteLoadBalancer { arn } => write!(f, "delete load balancer {arn}"),
            DeleteTargetGroup { arn } => write!(f, "delete target group {arn}"),
        }
    }
}
