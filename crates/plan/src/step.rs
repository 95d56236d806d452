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

/// What a create's output carries besides its ID, where a kind's model needs more than the
/// request to fold it in without reading it back.
pub mod fields {
    /// Of a new load balancer, from AWS's answer: the records alias its DNS name and zone.
    pub const STATE: &str = "state";
    pub const DNS_NAME: &str = "dns_name";
    pub const CANONICAL_HOSTED_ZONE_ID: &str = "canonical_hosted_zone_id";
    pub const SCHEME: &str = "scheme";
    /// Of a new health check: the caller reference it was made with.
    pub const CALLER_REFERENCE: &str = "caller_reference";
    /// Of a new web ACL: its ID, which its updates and deletion name.
    pub const WEB_ACL_ID: &str = "web_acl_id";
    /// Present when tagging the new health check failed: it is untagged.
    pub const UNTAGGED: &str = "untagged";
}

/// A step of any AWS service. Every kind's plan is a `Plan<Step>`; the AWS adapter runs each
/// variant with that service's client. A new service adds a variant here and its ordering below.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    Network(crate::network::Step),
    SecurityGroup(crate::security_group::Step),
    VpcEndpoint(crate::vpc_endpoint::Step),
    Elbv2(crate::elbv2::Step),
    Wafv2(crate::wafv2::Step),
    Shield(crate::shield::Step),
    Route53(crate::route53::Step),
    Transit(crate::transit::Step),
    DirectConnect(crate::direct_connect::Step),
    Peering(crate::peering::Step),
    SubnetGroup(crate::subnet_group::Step),
    ApiGateway(crate::apigateway::Step),
    HttpApi(crate::http_api::Step),
    CloudWatch(crate::cloudwatch::Step),
    CloudFront(crate::cloudfront::Step),
    GlobalAccelerator(crate::global_accelerator::Step),
}

macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            Step::Network($s) => $e,
            Step::SecurityGroup($s) => $e,
            Step::VpcEndpoint($s) => $e,
            Step::Elbv2($s) => $e,
            Step::Wafv2($s) => $e,
            Step::Shield($s) => $e,
            Step::Route53($s) => $e,
            Step::Transit($s) => $e,
            Step::DirectConnect($s) => $e,
            Step::Peering($s) => $e,
            Step::SubnetGroup($s) => $e,
            Step::ApiGateway($s) => $e,
            Step::HttpApi($s) => $e,
            Step::CloudWatch($s) => $e,
            Step::CloudFront($s) => $e,
            Step::GlobalAccelerator($s) => $e,
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
    fn location(&self) -> Option<&crate::plan::Location> {
        each!(self, s => s.location())
    }
}

impl crate::plan::Ordered for Step {
    fn ordering() -> &'static [crate::plan::Ordering] {
        &[
            crate::network::ORDERING,
            crate::security_group::ORDERING,
            crate::vpc_endpoint::ORDERING,
            crate::elbv2::ORDERING,
            crate::wafv2::ORDERING,
            crate::shield::ORDERING,
            crate::route53::ORDERING,
            crate::transit::ORDERING,
            crate::direct_connect::ORDERING,
            crate::peering::ORDERING,
            crate::subnet_group::ORDERING,
            crate::apigateway::ORDERING,
            crate::http_api::ORDERING,
            crate::cloudwatch::ORDERING,
            crate::cloudfront::ORDERING,
            crate::global_accelerator::ORDERING,
        ]
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

macro_rules! from {
    ($($service:ident => $variant:ident),+ $(,)?) => {$(
        impl From<crate::$service::Step> for Step {
            fn from(s: crate::$service::Step) -> Self {
                Step::$variant(s)
            }
        }
    )+};
}

from!(
    security_group => SecurityGroup,
    vpc_endpoint => VpcEndpoint,
    elbv2 => Elbv2,
    wafv2 => Wafv2,
    shield => Shield,
    route53 => Route53,
    subnet_group => SubnetGroup,
    apigateway => ApiGateway,
    http_api => HttpApi,
    cloudwatch => CloudWatch,
    cloudfront => CloudFront,
    global_accelerator => GlobalAccelerator,
);
