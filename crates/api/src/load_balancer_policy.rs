//! `LoadBalancerPolicy`: a load balancer in a VpcTier's tier, its target groups, listeners and
//! rules, a WAF web ACL, Shield Advanced protection and Route 53 alias records with a health check.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{DeletionPolicy, LocalObjectRef};

/// The customer-facing entry point: load balancer, WAF, Shield and Route 53 from one object.
// Several printer columns share `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "net.securecart.io",
    version = "v1alpha1",
    kind = "LoadBalancerPolicy",
    namespaced,
    status = "LoadBalancerPolicyStatus",
    shortname = "lbp",
    category = "securecart",
    doc = "An Application, Network or Gateway Load Balancer in a VpcTier's tier, with target groups, listeners, a WAF web ACL, Shield Advanced protection and Route 53 alias records with a health check.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "DNS Name", type_ = "string", json_path = ".status.dnsName"),
    printcolumn(
        name = "WAF",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="WafAssociated")].reason"#
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.waf) || self.type == 'Application'").message("spec.waf: a WAF web ACL attaches to Application load balancers only"))]
#[x_kube(validation = Rule::new("self.type != 'Application' || self.listeners.all(l, has(l.protocol) && (l.protocol == 'HTTP' || l.protocol == 'HTTPS'))").message("spec.listeners: an Application load balancer listens on HTTP or HTTPS"))]
#[x_kube(validation = Rule::new("self.type != 'Network' || self.listeners.all(l, has(l.protocol) && l.protocol in ['TCP', 'TLS', 'UDP', 'TCP_UDP'])").message("spec.listeners: a Network load balancer listens on TCP, TLS, UDP or TCP_UDP"))]
#[x_kube(validation = Rule::new("self.type != 'Gateway' || (self.listeners.size() == 1 && !has(self.listeners[0].protocol) && !has(self.listeners[0].port))").message("spec.listeners: a Gateway load balancer has exactly one listener, without port or protocol"))]
#[x_kube(validation = Rule::new("self.listeners.all(l, !has(l.port) || self.listeners.exists_one(m, has(m.port) && m.port == l.port))").message("spec.listeners: two listeners on the same port"))]
#[x_kube(validation = Rule::new("self.targetGroups.all(t, self.targetGroups.exists_one(u, u.name == t.name))").message("spec.targetGroups: target group names must be unique"))]
#[x_kube(validation = Rule::new("!has(self.alarms) || !has(self.alarms.targetResponseTime) || self.type == 'Application'").message("spec.alarms.targetResponseTime: TargetResponseTime is an Application load balancer metric"))]
#[x_kube(validation = Rule::new("!has(self.alarms) || !has(self.alarms.http5xxPercent) || self.type == 'Application'").message("spec.alarms.http5xxPercent: HTTP 5xx counts are Application load balancer metrics"))]
#[x_kube(validation = Rule::new("!has(self.alarms) || !has(self.alarms.healthCheck) || (has(self.dns) && has(self.dns.healthCheck))").message("spec.alarms.healthCheck: needs spec.dns.healthCheck (the Route 53 health check it watches)"))]
pub struct LoadBalancerPolicySpec {
    /// The VpcTier (same namespace) whose subnets the load balancer uses; its deletion waits for this policy.
    pub vpc_tier_ref: LocalObjectRef,
    /// Application, Network or Gateway. Changing it replaces the load balancer.
    #[serde(rename = "type")]
    pub lb_type: LoadBalancerType,
    /// internet-facing (default) or internal. Changing it replaces the load balancer.
    #[serde(default)]
    pub scheme: Scheme,
    /// The VpcTier tier whose subnets (one per zone) the load balancer is placed in.
    #[schemars(length(min = 1, max = 32))]
    pub tier: String,
    /// ipv4 (default) or dualstack; dualstack also publishes AAAA records.
    #[serde(default)]
    pub ip_address_type: IpAddressType,
    /// Security group ingress on the listener ports (Application and Network).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(length(max = 43)))]
    #[x_kube(validation = Rule::new("self.all(c, isCIDR(c))").message("spec.allowedCidrs must be CIDR blocks"))]
    pub allowed_cidrs: Vec<String>,
    #[schemars(length(min = 1, max = 10))]
    pub target_groups: Vec<TargetGroup>,
    #[schemars(length(min = 1, max = 10))]
    pub listeners: Vec<Listener>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<LoadBalancerAttributes>,
    /// A web ACL created for this load balancer, or an existing one by ARN. Application only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waf: Option<Waf>,
    /// Shield Advanced protection of the load balancer (needs a Shield Advanced subscription).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shield: Option<Shield>,
    /// Route 53 alias records (A, and AAAA for dualstack) with an optional health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Dns>,
    /// CloudWatch metric alarms on the load balancer, its target groups and the Route 53 health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<Alarms>,
    /// Tags added to every AWS resource, besides the ownership tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('aws:') && !k.startsWith('net.securecart.io/') && k.size() <= 128)").message("spec.tags: keys must not start with aws: or net.securecart.io/ and are at most 128 characters"))]
    pub tags: BTreeMap<String, String>,
    /// Delete (default) or Retain the AWS resources when the object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoadBalancerType {
    Application,
    Network,
    Gateway,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheme {
    #[default]
    #[serde(rename = "internet-facing")]
    InternetFacing,
    #[serde(rename = "internal")]
    Internal,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IpAddressType {
    #[default]
    #[serde(rename = "ipv4")]
    Ipv4,
    #[serde(rename = "dualstack")]
    Dualstack,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "TLS")]
    Tls,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "TCP_UDP")]
    TcpUdp,
    #[serde(rename = "GENEVE")]
    Geneve,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Https => "HTTPS",
            Protocol::Tcp => "TCP",
            Protocol::Tls => "TLS",
            Protocol::Udp => "UDP",
            Protocol::TcpUdp => "TCP_UDP",
            Protocol::Geneve => "GENEVE",
        }
    }
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetType {
    #[default]
    #[serde(rename = "ip")]
    Ip,
    #[serde(rename = "instance")]
    Instance,
    #[serde(rename = "alb")]
    Alb,
}

impl TargetType {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Ip => "ip",
            TargetType::Instance => "instance",
            TargetType::Alb => "alb",
        }
    }
}

/// A target group. Protocol, port and target type are immutable in AWS: changing one replaces it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroup {
    #[schemars(length(min = 1, max = 20), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    pub protocol: Protocol,
    /// Required except for GENEVE (always 6081).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    #[serde(default)]
    pub target_type: TargetType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<TargetHealthCheck>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TargetHealthCheck {
    /// HTTP(S) path; for HTTP and HTTPS target groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 5, max = 300))]
    pub interval_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 10))]
    pub healthy_threshold: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 10))]
    pub unhealthy_threshold: Option<i32>,
    /// HTTP codes, e.g. `200` or `200-399`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub matcher: Option<String>,
}

/// A listener. A Gateway load balancer's single listener has neither port nor protocol.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.protocol) || !(self.protocol in ['HTTPS', 'TLS']) || has(self.certificateArn)").message("spec.listeners: HTTPS and TLS listeners need certificateArn"))]
#[x_kube(validation = Rule::new("has(self.defaultTargetGroup) != (has(self.redirectToHttps) && self.redirectToHttps)").message("spec.listeners: set exactly one of defaultTargetGroup and redirectToHttps"))]
#[x_kube(validation = Rule::new("!has(self.rules) || self.rules.all(r, self.rules.exists_one(s, s.priority == r.priority))").message("spec.listeners.rules: priorities must be unique"))]
pub struct Listener {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 20, max = 2048))]
    pub certificate_arn: Option<String>,
    /// The target group that gets what no rule matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 20))]
    pub default_target_group: Option<String>,
    /// Answer every request with a 301 to HTTPS on port 443 (Application HTTP listeners).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redirect_to_https: bool,
    /// Path and host rules (Application only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub rules: Vec<ListenerRule>,
}

#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.pathPatterns) || has(self.hostHeaders)").message("spec.listeners.rules: give pathPatterns or hostHeaders"))]
pub struct ListenerRule {
    #[schemars(range(min = 1, max = 50000))]
    pub priority: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(length(min = 1, max = 128)))]
    pub path_patterns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(length(min = 1, max = 128)))]
    pub host_headers: Vec<String>,
    #[schemars(length(min = 1, max = 20))]
    pub target_group: String,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerAttributes {
    /// Application only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 4000))]
    pub idle_timeout_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    /// Network and Gateway only (Application load balancers always balance across zones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_zone_load_balancing: Option<bool>,
}

#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.webAclArn) || (!has(self.managedRuleGroups) && !has(self.rateLimitPerFiveMinutes))").message("spec.waf: webAclArn attaches an existing web ACL; do not also describe rules"))]
pub struct Waf {
    /// Attach this existing web ACL instead of creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/.+$"), length(max = 2048))]
    pub web_acl_arn: Option<String>,
    #[serde(default)]
    pub default_action: WafAction,
    /// AWS managed rule groups by name, e.g. AWSManagedRulesCommonRuleSet, in priority order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10), inner(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9_-]+$")))]
    pub managed_rule_groups: Vec<String>,
    /// Block a client IP above this many requests per five minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 2000000000))]
    pub rate_limit_per_five_minutes: Option<i64>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WafAction {
    #[default]
    Allow,
    Block,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Shield {
    pub enabled: bool,
}

#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.hostedZoneId) != has(self.hostedZoneName)").message("spec.dns: set exactly one of hostedZoneId and hostedZoneName"))]
pub struct Dns {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 32))]
    pub hosted_zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub hosted_zone_name: Option<String>,
    /// The record name, e.g. shop.example.com.
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
    #[serde(default)]
    pub routing: Routing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<DnsHealthCheck>,
}

/// How the record shares its name with others: Simple (alone), or one of a set told apart by
/// setIdentifier.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.policy) || self.policy == 'Simple' || has(self.setIdentifier)").message("spec.dns.routing.setIdentifier is required for every policy but Simple"))]
#[x_kube(validation = Rule::new("!has(self.policy) || self.policy != 'Geolocation' || has(self.continent) || has(self.country)").message("spec.dns.routing: Geolocation needs continent or country"))]
#[x_kube(validation = Rule::new("!has(self.policy) || self.policy != 'Failover' || has(self.role)").message("spec.dns.routing: Failover needs role"))]
#[x_kube(validation = Rule::new("!has(self.policy) || self.policy != 'Weighted' || has(self.weight)").message("spec.dns.routing: Weighted needs weight"))]
pub struct Routing {
    #[serde(default)]
    pub policy: RoutingPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub set_identifier: Option<String>,
    /// Geolocation: a continent code (AF, AN, AS, EU, OC, NA, SA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 2))]
    pub continent: Option<String>,
    /// Geolocation: an ISO 3166 country code, or `*` for the default location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2))]
    pub country: Option<String>,
    /// Failover: PRIMARY or SECONDARY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<FailoverRole>,
    /// Weighted: 0 to 255.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 255))]
    pub weight: Option<i64>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RoutingPolicy {
    #[default]
    Simple,
    Latency,
    Geolocation,
    Failover,
    Weighted,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverRole {
    #[serde(rename = "PRIMARY")]
    Primary,
    #[serde(rename = "SECONDARY")]
    Secondary,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthCheckProtocol {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
    #[serde(rename = "TCP")]
    Tcp,
}

/// A Route 53 health check of the load balancer's DNS name, attached to the records.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DnsHealthCheck {
    pub protocol: HealthCheckProtocol,
    /// HTTP(S) only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub path: Option<String>,
    /// Default 80 for HTTP, 443 for HTTPS; required for TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub failure_threshold: Option<i32>,
    /// 10 or 30 (default). Immutable in Route 53: changing it replaces the health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 30))]
    pub request_interval_seconds: Option<i32>,
}

/// CloudWatch metric alarms, each named after the owner and tagged with the ownership tags. Each
/// alarm present in this block is created; removing one (or the block) deletes it.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Alarms {
    /// SNS topic (or other action) ARNs notified when an alarm goes to ALARM and back to OK.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(length(min = 1, max = 1024)))]
    #[x_kube(validation = Rule::new("self.all(a, a.startsWith('arn:'))").message("spec.alarms.actions must be ARNs"))]
    pub actions: Vec<String>,
    /// AWS/ApplicationELB TargetResponseTime with an extended statistic. Application only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_response_time: Option<ResponseTimeAlarm>,
    /// 100 * (HTTPCode_ELB_5XX_Count + HTTPCode_Target_5XX_Count) / RequestCount. Application only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http5xx_percent: Option<PercentAlarm>,
    /// UnHealthyHostCount above `threshold`, one alarm per target group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_hosts: Option<CountAlarm>,
    /// The Route 53 health check's HealthCheckStatus below 1 (in us-east-1, where Route 53
    /// publishes it). Needs spec.dns.healthCheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<Evaluation>,
}

/// How many periods are evaluated and how many must breach (every alarm has these three fields).
/// Defaults: 60 s periods, 5 evaluated, as many breaching as evaluated.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.datapointsToAlarm) || self.datapointsToAlarm <= (has(self.evaluationPeriods) ? self.evaluationPeriods : 5)").message("spec.alarms: datapointsToAlarm must not exceed evaluationPeriods"))]
pub struct Evaluation {
    /// 10, 30 or a multiple of 60; default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 86400))]
    #[x_kube(validation = Rule::new("self == 10 || self == 30 || self % 60 == 0").message("spec.alarms: periodSeconds is 10, 30 or a multiple of 60"))]
    pub period_seconds: Option<i32>,
    /// Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub evaluation_periods: Option<i32>,
    /// Default: evaluationPeriods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub datapoints_to_alarm: Option<i32>,
}

#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.datapointsToAlarm) || self.datapointsToAlarm <= (has(self.evaluationPeriods) ? self.evaluationPeriods : 5)").message("spec.alarms: datapointsToAlarm must not exceed evaluationPeriods"))]
pub struct ResponseTimeAlarm {
    /// A percentile such as p99 (default), p95 or p99.9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^p(100|[1-9]?[0-9])(\.[0-9]{1,2})?$"))]
    pub statistic: Option<String>,
    /// Alarm when the percentile is above this many seconds.
    #[schemars(range(min = 0.0, max = 3600.0))]
    pub threshold_seconds: f64,
    /// 10, 30 or a multiple of 60; default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 86400))]
    #[x_kube(validation = Rule::new("self == 10 || self == 30 || self % 60 == 0").message("spec.alarms: periodSeconds is 10, 30 or a multiple of 60"))]
    pub period_seconds: Option<i32>,
    /// Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub evaluation_periods: Option<i32>,
    /// Default: evaluationPeriods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub datapoints_to_alarm: Option<i32>,
}

#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.datapointsToAlarm) || self.datapointsToAlarm <= (has(self.evaluationPeriods) ? self.evaluationPeriods : 5)").message("spec.alarms: datapointsToAlarm must not exceed evaluationPeriods"))]
pub struct PercentAlarm {
    /// Alarm when the percentage is above this.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub threshold: f64,
    /// 10, 30 or a multiple of 60; default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 86400))]
    #[x_kube(validation = Rule::new("self == 10 || self == 30 || self % 60 == 0").message("spec.alarms: periodSeconds is 10, 30 or a multiple of 60"))]
    pub period_seconds: Option<i32>,
    /// Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub evaluation_periods: Option<i32>,
    /// Default: evaluationPeriods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub datapoints_to_alarm: Option<i32>,
}

#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.datapointsToAlarm) || self.datapointsToAlarm <= (has(self.evaluationPeriods) ? self.evaluationPeriods : 5)").message("spec.alarms: datapointsToAlarm must not exceed evaluationPeriods"))]
pub struct CountAlarm {
    /// Alarm when the count is above this (0: any unhealthy host).
    #[schemars(range(min = 0, max = 10000))]
    pub threshold: i32,
    /// 10, 30 or a multiple of 60; default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 86400))]
    #[x_kube(validation = Rule::new("self == 10 || self == 30 || self % 60 == 0").message("spec.alarms: periodSeconds is 10, 30 or a multiple of 60"))]
    pub period_seconds: Option<i32>,
    /// Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub evaluation_periods: Option<i32>,
    /// Default: evaluationPeriods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub datapoints_to_alarm: Option<i32>,
}

macro_rules! evaluation {
    ($($t:ty),+) => {$(
        impl $t {
            pub fn evaluation(&self) -> Evaluation {
                Evaluation {
                    period_seconds: self.period_seconds,
                    evaluation_periods: self.evaluation_periods,
                    datapoints_to_alarm: self.datapoints_to_alarm,
                }
            }
        }
    )+};
}
evaluation!(ResponseTimeAlarm, PercentAlarm, CountAlarm);

/// What the controller last saw, written only when it changes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerPolicyStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Synced, Reconciling and Stalled, then one per part: LoadBalancerReady, WafAssociated, DnsPublished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Every AWS resource the object owns, by component: what the controller reads by ID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::OwnedResource>,
    /// Creates started but not yet seen to finish (see CreateIntent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<crate::CreateIntent>,
    /// The region the resources live in (from the VpcTier), so deletion finds them even after
    /// the VpcTier is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_hosted_zone_id: Option<String>,
    /// The VpcTier subnets the load balancer is in: its VpcTier keeps them while they are listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_groups: Vec<NamedArn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shield_protection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordStatus>,
    /// The CloudWatch alarms the policy owns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<AlarmStatus>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AlarmStatus {
    pub name: String,
    pub arn: String,
    pub region: String,
    /// OK | ALARM | INSUFFICIENT_DATA, as last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct NamedArn {
    pub name: String,
    pub arn: String,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct ListenerStatus {
    /// None for a Gateway load balancer's listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub arn: String,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RecordStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
}
