//! `GlobalEntrypoint`: the edge in front of the regional load balancers. A CloudFront
//! distribution (origins on LoadBalancerPolicies, S3 buckets or other hosts, cache behaviours, a
//! CLOUDFRONT-scope web ACL) or a Global Accelerator (static anycast IPs, listeners, one endpoint
//! group per referenced policy's region); Shield Advanced and Route 53 alias records for either.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{DeletionPolicy, Dns, LocalObjectRef, RecordStatus, Shield, WafAction};

/// Customers' way in: CloudFront or Global Accelerator in front of LoadBalancerPolicies.
// Several printer columns share `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "net.securecart.io",
    version = "v1alpha1",
    kind = "GlobalEntrypoint",
    namespaced,
    status = "GlobalEntrypointStatus",
    shortname = "gep",
    category = "securecart",
    doc = "The edge in front of LoadBalancerPolicies: a CloudFront distribution (origins, behaviours, a CLOUDFRONT-scope web ACL) or a Global Accelerator (listeners, endpoint groups per region), with Shield Advanced and Route 53 alias records.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "Domain", type_ = "string", json_path = ".status.domainName"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.type != 'CloudFront' || (has(self.cloudFront) && !has(self.globalAccelerator))").message("spec.cloudFront: type CloudFront takes spec.cloudFront and not spec.globalAccelerator"))]
#[x_kube(validation = Rule::new("self.type != 'GlobalAccelerator' || (has(self.globalAccelerator) && !has(self.cloudFront))").message("spec.globalAccelerator: type GlobalAccelerator takes spec.globalAccelerator and not spec.cloudFront"))]
pub struct GlobalEntrypointSpec {
    /// CloudFront or GlobalAccelerator. Immutable.
    #[serde(rename = "type")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.type is immutable"))]
    pub entry_type: EntrypointType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_front: Option<CloudFrontSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_accelerator: Option<GlobalAcceleratorSpec>,
    /// Alias records (A, and AAAA where the entry point has IPv6) to the distribution or the
    /// accelerator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Dns>,
    /// Shield Advanced protection of the distribution or the accelerator (needs a subscription).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shield: Option<Shield>,
    /// Tags added to every AWS resource, besides the ownership tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('aws:') && !k.startsWith('net.securecart.io/') && k.size() <= 128)").message("spec.tags: keys must not start with aws: or net.securecart.io/ and are at most 128 characters"))]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntrypointType {
    CloudFront,
    GlobalAccelerator,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.origins.all(o, self.origins.exists_one(p, p.name == o.name))").message("spec.cloudFront.origins: origin names must be unique"))]
#[x_kube(validation = Rule::new("self.origins.exists(o, o.name == self.defaultBehavior.origin)").message("spec.cloudFront.defaultBehavior.origin: names no origin in spec.cloudFront.origins"))]
#[x_kube(validation = Rule::new("!has(self.behaviors) || self.behaviors.all(b, self.origins.exists(o, o.name == b.origin))").message("spec.cloudFront.behaviors: a behaviour names an origin that is not in spec.cloudFront.origins"))]
#[x_kube(validation = Rule::new("!has(self.behaviors) || self.behaviors.all(b, self.behaviors.exists_one(c, c.pathPattern == b.pathPattern))").message("spec.cloudFront.behaviors: a path pattern is listed once"))]
#[x_kube(validation = Rule::new("!has(self.aliases) || size(self.aliases) == 0 || has(self.certificateArn)").message("spec.cloudFront.certificateArn: aliases need a certificate that covers them"))]
pub struct CloudFrontSpec {
    /// Alternate domain names (CNAMEs) the distribution answers for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 100),
        inner(length(min = 1, max = 253), regex(pattern = r"^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$"))
    )]
    pub aliases: Vec<String>,
    /// An ACM certificate for the aliases. CloudFront takes certificates from us-east-1 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = Rule::new("self.matches('^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/.+$')").message("spec.cloudFront.certificateArn: CloudFront takes ACM certificates from us-east-1 only"))]
    pub certificate_arn: Option<String>,
    /// Default PriceClass_All.
    #[serde(default)]
    pub price_class: PriceClass,
    /// Default true: the distribution answers over IPv6 too (and DNS publishes AAAA).
    #[serde(default = "yes")]
    pub ipv6: bool,
    /// The object served for `/`, e.g. index.html.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub default_root_object: Option<String>,
    #[schemars(length(min = 1, max = 25))]
    pub origins: Vec<Origin>,
    pub default_behavior: Behavior,
    /// Path-pattern behaviours, matched in order before the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 25))]
    #[x_kube(validation = Rule::new("self.all(b, has(b.pathPattern))").message("spec.cloudFront.behaviors[].pathPattern is required"))]
    pub behaviors: Vec<Behavior>,
    /// A CLOUDFRONT-scope web ACL (made in us-east-1): an existing one by ARN, or one made from
    /// managed rule groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waf: Option<EdgeWaf>,
}

fn yes() -> bool {
    true
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PriceClass {
    #[serde(rename = "PriceClass_100")]
    PriceClass100,
    #[serde(rename = "PriceClass_200")]
    PriceClass200,
    #[default]
    #[serde(rename = "PriceClass_All")]
    PriceClassAll,
}

impl PriceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceClass::PriceClass100 => "PriceClass_100",
            PriceClass::PriceClass200 => "PriceClass_200",
            PriceClass::PriceClassAll => "PriceClass_All",
        }
    }
}

/// Where CloudFront fetches from: a LoadBalancerPolicy's load balancer, an S3 bucket (through
/// an origin access control the controller makes), or any other host.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("[has(self.loadBalancerPolicyRef), has(self.s3), has(self.domainName)].filter(x, x).size() == 1").message("spec.cloudFront.origins[]: set exactly one of loadBalancerPolicyRef, s3 and domainName"))]
#[x_kube(validation = Rule::new("!has(self.s3) || !has(self.protocolPolicy)").message("spec.cloudFront.origins[].protocolPolicy: an S3 origin is reached over HTTPS with origin access control"))]
pub struct Origin {
    /// The origin's ID in the distribution; behaviours name it.
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    /// An internet-facing Application or Network LoadBalancerPolicy in the same namespace; it
    /// cannot be deleted while the entry point uses it, and a replaced load balancer is followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_policy_ref: Option<LocalObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Origin>,
    /// Any other origin host (a custom origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$"))]
    pub domain_name: Option<String>,
    /// Load balancer and custom origins: how CloudFront connects. Default https-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_policy: Option<OriginProtocolPolicy>,
    /// Default 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub http_port: Option<u16>,
    /// Default 443.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub https_port: Option<u16>,
    /// A path prefix added to every request to the origin, e.g. /static.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 255), regex(pattern = r"^/.*[^/]$"))]
    pub origin_path: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct S3Origin {
    #[schemars(length(min = 3, max = 63), regex(pattern = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"))]
    pub bucket_name: String,
    /// The bucket's region.
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    pub region: String,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginProtocolPolicy {
    #[serde(rename = "http-only")]
    HttpOnly,
    #[serde(rename = "https-only")]
    HttpsOnly,
    #[serde(rename = "match-viewer")]
    MatchViewer,
}

impl OriginProtocolPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            OriginProtocolPolicy::HttpOnly => "http-only",
            OriginProtocolPolicy::HttpsOnly => "https-only",
            OriginProtocolPolicy::MatchViewer => "match-viewer",
        }
    }
}

/// A cache behaviour: which origin serves requests matching `pathPattern` (the default
/// behaviour has none), how they are cached and what reaches the origin.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Behavior {
    /// `/images/*`, `*.js`. Not for the default behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub path_pattern: Option<String>,
    /// The name of an origin in spec.cloudFront.origins.
    #[schemars(length(min = 1, max = 63))]
    pub origin: String,
    /// An AWS managed cache policy by name.
    pub cache_policy: CachePolicy,
    /// An AWS managed origin request policy by name: what of the viewer's request (headers,
    /// cookies, query strings) reaches the origin beyond the cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_request_policy: Option<OriginRequestPolicy>,
    /// Default redirect-to-https.
    #[serde(default)]
    pub viewer_protocol_policy: ViewerProtocolPolicy,
    /// Default GET and HEAD; `All` for APIs and forms (POST, PUT, PATCH, DELETE, OPTIONS).
    #[serde(default)]
    pub allowed_methods: AllowedMethods,
    /// Compress objects CloudFront can compress (gzip, Brotli).
    #[serde(default)]
    pub compress: bool,
}

/// AWS managed cache policies (the same IDs in every account).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    CachingOptimized,
    CachingDisabled,
    CachingOptimizedForUncompressedObjects,
    UseOriginCacheControlHeaders,
    #[serde(rename = "UseOriginCacheControlHeaders-QueryStrings")]
    UseOriginCacheControlHeadersQueryStrings,
}

/// AWS managed origin request policies.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginRequestPolicy {
    AllViewer,
    AllViewerExceptHostHeader,
    #[serde(rename = "AllViewerAndCloudFrontHeaders-2022-06")]
    AllViewerAndCloudFrontHeaders,
    #[serde(rename = "CORS-S3Origin")]
    CorsS3Origin,
    #[serde(rename = "CORS-CustomOrigin")]
    CorsCustomOrigin,
    UserAgentRefererHeaders,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ViewerProtocolPolicy {
    #[serde(rename = "allow-all")]
    AllowAll,
    #[serde(rename = "https-only")]
    HttpsOnly,
    #[default]
    #[serde(rename = "redirect-to-https")]
    RedirectToHttps,
}

impl ViewerProtocolPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ViewerProtocolPolicy::AllowAll => "allow-all",
            ViewerProtocolPolicy::HttpsOnly => "https-only",
            ViewerProtocolPolicy::RedirectToHttps => "redirect-to-https",
        }
    }
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AllowedMethods {
    /// GET, HEAD
    #[default]
    GetHead,
    /// GET, HEAD, OPTIONS
    GetHeadOptions,
    /// GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE
    All,
}

/// A web ACL in the CLOUDFRONT scope.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.webAclArn) || (!has(self.managedRuleGroups) && !has(self.rateLimitPerFiveMinutes))").message("spec.cloudFront.waf: webAclArn attaches an existing web ACL; do not also describe rules"))]
pub struct EdgeWaf {
    /// Attach this existing CLOUDFRONT-scope (`global/webacl`) web ACL instead of creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+$"), length(max = 2048))]
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

impl EdgeWaf {
    /// The same block in the shape the WAF planner takes (its ARN is a CLOUDFRONT one).
    pub fn as_waf(&self) -> crate::Waf {
        crate::Waf {
            web_acl_arn: self.web_acl_arn.clone(),
            default_action: self.default_action,
            managed_rule_groups: self.managed_rule_groups.clone(),
            rate_limit_per_five_minutes: self.rate_limit_per_five_minutes,
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalAcceleratorSpec {
    /// IPV4 (two static IPv4 addresses) or DUAL_STACK (and two IPv6; DNS publishes AAAA).
    /// Default IPV4.
    #[serde(default)]
    pub ip_address_type: AcceleratorIpAddressType,
    #[schemars(length(min = 1, max = 10))]
    pub listeners: Vec<AcceleratorListener>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AcceleratorIpAddressType {
    #[default]
    #[serde(rename = "IPV4")]
    Ipv4,
    #[serde(rename = "DUAL_STACK")]
    DualStack,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.portRanges.all(r, r.from <= r.to)").message("spec.globalAccelerator.listeners[].portRanges: from must not be above to"))]
#[x_kube(validation = Rule::new("self.endpointGroups.all(g, self.endpointGroups.exists_one(h, h.loadBalancerPolicyRef.name == g.loadBalancerPolicyRef.name))").message("spec.globalAccelerator.listeners[].endpointGroups: a LoadBalancerPolicy is listed once per listener"))]
pub struct AcceleratorListener {
    pub protocol: AcceleratorProtocol,
    #[schemars(length(min = 1, max = 10))]
    pub port_ranges: Vec<PortRange>,
    /// SOURCE_IP sends a client to the same endpoint every time. Default NONE.
    #[serde(default)]
    pub client_affinity: ClientAffinity,
    /// One per region: each group's region is its policy's (the policy's VpcTier's).
    #[schemars(length(min = 1, max = 10))]
    pub endpoint_groups: Vec<EndpointGroup>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceleratorProtocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    #[schemars(range(min = 1, max = 65535))]
    pub from: u16,
    #[schemars(range(min = 1, max = 65535))]
    pub to: u16,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAffinity {
    #[default]
    #[serde(rename = "NONE")]
    None,
    #[serde(rename = "SOURCE_IP")]
    SourceIp,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointGroup {
    /// An internet-facing Application or Network LoadBalancerPolicy in the same namespace: its
    /// load balancer is the group's endpoint (followed when the policy replaces it).
    pub load_balancer_policy_ref: LocalObjectRef,
    /// The share of the listener's traffic for this region sent to the group. Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 100.0))]
    pub traffic_dial_percentage: Option<f32>,
    /// The endpoint's weight in its group (0-255). Default 128.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 255))]
    pub weight: Option<i32>,
    /// Preserve the client's IP address (Application Load Balancers). Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip_preservation: Option<bool>,
    /// For Network Load Balancers' TCP listeners; Application Load Balancers use their target
    /// groups' health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<EndpointHealthCheck>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.protocol == 'TCP' || !has(self.path) || self.path.startsWith('/')").message("healthCheck.path must start with /"))]
pub struct EndpointHealthCheck {
    pub protocol: EndpointHealthProtocol,
    /// HTTP(S) only. Default /.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub path: Option<String>,
    /// Default: the listener's first port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// 10 or 30 (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == 10 || self == 30").message("healthCheck.intervalSeconds is 10 or 30"))]
    pub interval_seconds: Option<i32>,
    /// Failed checks before an endpoint is unhealthy (1-10, default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub threshold_count: Option<i32>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointHealthProtocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "HTTPS")]
    Https,
}

/// What the controller last saw, written only when it changes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalEntrypointStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::OwnedResource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<crate::CreateIntent>,
    /// The name customers reach: the distribution's `*.cloudfront.net` or the accelerator's
    /// `*.awsglobalaccelerator.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_arn: Option<String>,
    /// InProgress while a change propagates to the edge, then Deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_status: Option<String>,
    /// The origin access controls of S3 origins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin_access_controls: Vec<NamedId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator_arn: Option<String>,
    /// IN_PROGRESS or DEPLOYED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dual_stack_dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<AcceleratorListenerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_acl_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shield_protection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordStatus>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct NamedId {
    pub name: String,
    pub id: String,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AcceleratorListenerStatus {
    /// The listener's ports, e.g. `443` or `8000-8100,9000`.
    pub ports: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_groups: Vec<EndpointGroupStatus>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EndpointGroupStatus {
    pub region: String,
    pub arn: String,
    /// The load balancer it sends to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
}
