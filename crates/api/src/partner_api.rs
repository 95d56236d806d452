//! `PartnerApi`: an API Gateway API through which partners (payments, fraud detection, shipping)
//! reach a service behind a load balancer, over a VPC link: a REST API (to a Network Load
//! Balancer, with X-Ray tracing, per-partner usage plans and a WAF web ACL) or an HTTP API (to an
//! Application or Network Load Balancer's listener), with a throttled, logged stage.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{DeletionPolicy, LocalObjectRef, Waf};

/// Partners' way in: an API Gateway API over a VPC link to a LoadBalancerPolicy's load balancer.
// Several printer columns share `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "net.securecart.io",
    version = "v1alpha1",
    kind = "PartnerApi",
    namespaced,
    status = "PartnerApiStatus",
    shortname = "papi",
    category = "securecart",
    doc = "An API Gateway API for partners over a VPC link to a LoadBalancerPolicy's load balancer: a REST API (X-Ray tracing, usage plans, WAF) or an HTTP API, with a throttled, logged stage.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "Invoke URL", type_ = "string", json_path = ".status.invokeUrl"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.routes.all(r, self.routes.exists_one(s, s.path == r.path))").message("spec.routes: a path is listed once (give it several methods instead)"))]
#[x_kube(validation = Rule::new("!has(self.usagePlans) || self.usagePlans.all(p, self.usagePlans.exists_one(q, q.name == p.name))").message("spec.usagePlans: usage plan names must be unique"))]
#[x_kube(validation = Rule::new("self.type == 'REST' || !has(self.usagePlans) || size(self.usagePlans) == 0").message("spec.usagePlans: usage plans are for REST APIs"))]
#[x_kube(validation = Rule::new("self.type == 'REST' || !has(self.waf)").message("spec.waf: a WAF web ACL attaches to REST API stages only"))]
#[x_kube(validation = Rule::new("self.type == 'REST' || !has(self.stage.tracing) || !self.stage.tracing").message("spec.stage.tracing: X-Ray active tracing is for REST APIs"))]
pub struct PartnerApiSpec {
    /// The VpcTier whose region the API is in.
    pub vpc_tier_ref: LocalObjectRef,
    /// REST: an API Gateway REST API (VPC link to a Network Load Balancer, X-Ray, usage plans,
    /// WAF); HTTP: an HTTP API (VPC link to an Application or Network Load Balancer's listener).
    /// Immutable.
    #[serde(rename = "type")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.type is immutable"))]
    pub api_type: ApiType,
    /// Where requests go: a LoadBalancerPolicy and its listener's port.
    pub backend: Backend,
    /// Paths (`/payments/{proxy+}`, `/health`) and their methods; each is proxied to the same path
    /// on the backend.
    #[schemars(length(min = 1, max = 50))]
    pub routes: Vec<ApiRoute>,
    pub stage: ApiStage,
    /// Per-partner quotas and throttling (partners call with an API key of their plan). REST only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub usage_plans: Vec<UsagePlan>,
    /// A web ACL on the stage: an existing one by ARN, or one made from managed rule groups. REST only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waf: Option<Waf>,
    /// Tags added to every AWS resource, besides the ownership tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('aws:') && !k.startsWith('net.securecart.io/') && k.size() <= 128)").message("spec.tags: keys must not start with aws: or net.securecart.io/ and are at most 128 characters"))]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiType {
    #[serde(rename = "REST")]
    Rest,
    #[serde(rename = "HTTP")]
    Http,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// A LoadBalancerPolicy in the same namespace; it cannot be deleted while the API uses it.
    pub load_balancer_policy_ref: LocalObjectRef,
    /// The port of the load balancer's listener requests go to.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Default: HTTPS on port 443, else HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<BackendProtocol>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendProtocol {
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ApiRoute {
    /// `/`, `/health`, `/orders/{id}`, or a greedy last segment `/payments/{proxy+}`.
    #[schemars(
        length(min = 1, max = 512),
        regex(pattern = r"^/(([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\})(/([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\}))*)?$")
    )]
    pub path: String,
    #[schemars(length(min = 1, max = 8))]
    #[x_kube(validation = Rule::new("self.all(m, self.exists_one(n, n == m))").message("routes[].methods: a method is listed once"))]
    pub methods: Vec<HttpMethod>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Any,
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Any => "ANY",
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApiStage {
    /// The stage's name, the last part of the invoke URL. Immutable.
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.stage.name is immutable"))]
    pub name: String,
    /// X-Ray active tracing (REST only).
    #[serde(default)]
    pub tracing: bool,
    /// For every method of the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling: Option<Throttling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_logs: Option<AccessLogs>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    /// Requests per second, steady state.
    #[schemars(range(min = 0.0, max = 1000000.0))]
    pub rate_limit: f64,
    /// Requests at once above the rate.
    #[schemars(range(min = 0, max = 1000000))]
    pub burst_limit: i32,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogs {
    /// The CloudWatch Logs group (API Gateway needs its account-level CloudWatch role to write).
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:.+$"), length(max = 2048))]
    pub cloud_watch_log_group_arn: String,
    /// Default: a JSON line with the request ID, caller, method, path, status and latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub format: Option<String>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UsagePlan {
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling: Option<Throttling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    #[schemars(range(min = 1))]
    pub limit: i32,
    pub period: QuotaPeriod,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaPeriod {
    #[serde(rename = "DAY")]
    Day,
    #[serde(rename = "WEEK")]
    Week,
    #[serde(rename = "MONTH")]
    Month,
}

impl QuotaPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaPeriod::Day => "DAY",
            QuotaPeriod::Week => "WEEK",
            QuotaPeriod::Month => "MONTH",
        }
    }
}

/// What the controller last saw, written only when it changes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PartnerApiStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::OwnedResource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<crate::CreateIntent>,
    /// The region its resources are in (the VpcTier's), recorded before the first create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    /// `https://<api>.execute-api.<region>.amazonaws.com/<stage>`, once the stage exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_link_id: Option<String>,
    /// The deployment the stage serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage_plans: Vec<UsagePlanStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
    /// An HTTP API's VPC link security group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_id: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct UsagePlanStatus {
    pub name: String,
    pub id: String,
}
