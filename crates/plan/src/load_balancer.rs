//! LoadBalancerPolicy: validate the spec, build the desired model from the spec and the VpcTier's
//! placement, match it against what AWS has (by ownership tags, in three sets) and plan the
//! difference in dependency order. Teardown is the same planner with nothing desired.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::{DNS_PUBLISHED, LOAD_BALANCER_READY, WAF_ASSOCIATED, reason};
use securecart_api::{
    HealthCheckProtocol, IpAddressType, ListenerStatus, LoadBalancerPolicySpec, LoadBalancerPolicyStatus,
    LoadBalancerType, NamedArn, Protocol, RecordStatus, RoutingPolicy, Scheme, VpcTierSpec, VpcTierStatus, WafAction,
};
use serde::Serialize;

use crate::InvalidSpec;
use crate::conditions::condition;
use crate::owner::{Owner, Tags, component, match_owned, missing_tags};
use crate::plan::{Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};

/// Route 53's hosted zone of the alias target is the load balancer's canonical zone.
pub const HTTPS_REDIRECT_PORT: &str = "443";
pub const GENEVE_PORT: u16 = 6081;

// ---------------------------------------------------------------------------------------------
// Observed: plain data the AWS adapter fills, by ownership tag (or, for records and Shield
// protections, through the owned health check and load balancer).

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub security_groups: Vec<SecurityGroup>,
    pub target_groups: Vec<TargetGroup>,
    pub load_balancers: Vec<LoadBalancer>,
    pub listeners: Vec<Listener>,
    pub rules: Vec<Rule>,
    pub web_acls: Vec<WebAcl>,
    pub protections: Vec<Protection>,
    pub health_checks: Vec<HealthCheck>,
    /// The zone the records live in, when `dns` is asked for and the zone exists.
    pub hosted_zone_id: Option<String>,
    /// The records at `dns.name` of type A and AAAA, whoever owns them.
    pub records: Vec<Record>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub ingress: BTreeSet<Ingress>,
    pub tags: Tags,
}

/// One ingress permission: protocol (`tcp`/`udp`), port and source CIDR (IPv4 or IPv6).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Ingress {
    pub protocol: String,
    pub port: u16,
    pub cidr: String,
}

impl fmt::Display for Ingress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} from {}", self.protocol, self.port, self.cidr)
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
    fn satisfied_by(&self, actual: &HealthSettings) -> bool {
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
    pub attributes: BTreeMap<String, String>,
    /// The web ACL associated with it, if any.
    pub web_acl_arn: Option<String>,
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

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebAcl {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub rules: WafRules,
    pub tags: Tags,
}

/// What the controller puts in a web ACL it creates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WafRules {
    /// Allow | Block
    pub default_action: String,
    /// AWS managed rule groups, in priority order.
    pub managed_rule_groups: Vec<String>,
    pub rate_limit: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Protection {
    pub id: String,
    pub arn: String,
    pub resource_arn: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthCheck {
    pub id: String,
    pub config: HealthCheckConfig,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HealthCheckConfig {
    /// HTTP | HTTPS | TCP
    pub protocol: String,
    pub fqdn: String,
    pub port: u16,
    pub path: Option<String>,
    pub failure_threshold: i32,
    pub request_interval: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum RecordRouting {
    Simple,
    Latency { region: String },
    Geolocation { continent: Option<String>, country: Option<String> },
    Failover { role: String },
    Weighted { weight: i64 },
}

/// An alias record to a load balancer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Lowercase, with the trailing dot.
    pub name: String,
    pub record_type: String,
    pub set_identifier: Option<String>,
    pub routing: RecordRouting,
    /// None for a record that is not an alias (never ours).
    pub alias_dns_name: Option<String>,
    pub alias_hosted_zone_id: Option<String>,
    pub evaluate_target_health: bool,
    pub health_check_id: Option<String>,
}

impl Record {
    fn key(&self) -> (String, String, Option<String>) {
        (self.name.clone(), self.record_type.clone(), self.set_identifier.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Desired.

/// Where the load balancer goes, read from its VpcTier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub region: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub user_tags: Tags,
    pub placement: Placement,
    pub load_balancer: DesiredLoadBalancer,
    pub security_group: Option<DesiredSecurityGroup>,
    pub target_groups: Vec<DesiredTargetGroup>,
    pub listeners: Vec<DesiredListener>,
    pub waf: Option<DesiredWaf>,
    pub shield: bool,
    pub dns: Option<DesiredDns>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredLoadBalancer {
    pub name: String,
    /// application | network | gateway, as ELBv2 spells them.
    pub lb_type: String,
    pub scheme: String,
    pub ip_address_type: String,
    pub attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredSecurityGroup {
    pub name: String,
    pub ingress: BTreeSet<Ingress>,
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
    pub health: HealthSettings,
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

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum DesiredWaf {
    /// Attach a web ACL the controller does not own.
    Existing(String),
    /// A web ACL the controller creates and owns.
    Owned { name: String, rules: WafRules },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredDns {
    /// Lowercase, with the trailing dot.
    pub name: String,
    pub zone: ZoneRef,
    pub record_types: Vec<String>,
    pub set_identifier: Option<String>,
    pub routing: RecordRouting,
    pub health_check: Option<DesiredHealthCheck>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ZoneRef {
    Id(String),
    Name(String),
}

/// The health check's settings; its target (the load balancer's DNS name) is filled at plan time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DesiredHealthCheck {
    pub protocol: String,
    pub port: u16,
    pub path: Option<String>,
    pub failure_threshold: i32,
    pub request_interval: i32,
}

pub mod components {
    pub const SECURITY_GROUP: &str = "sg";
    pub const LOAD_BALANCER: &str = "lb";
    pub const WEB_ACL: &str = "webacl";
    pub const SHIELD: &str = "shield";
    pub const HEALTH_CHECK: &str = "healthcheck";
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

// ---------------------------------------------------------------------------------------------
// Validation: what the schema's CEL rules check, again (for objects admitted before a rule
// existed), plus what CEL cannot see: references between lists.

fn protocols_of(lb_type: LoadBalancerType) -> &'static [Protocol] {
    match lb_type {
        LoadBalancerType::Application => &[Protocol::Http, Protocol::Https],
        LoadBalancerType::Network => &[Protocol::Tcp, Protocol::Tls, Protocol::Udp, Protocol::TcpUdp],
        LoadBalancerType::Gateway => &[Protocol::Geneve],
    }
}

fn names(protocols: &[Protocol]) -> String {
    protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}

pub fn validate(spec: &LoadBalancerPolicySpec) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    let fits = protocols_of(spec.lb_type);
    if spec.tier.is_empty() {
        return bad("spec.tier: name the VpcTier tier to place the load balancer in".into());
    }
    for (i, cidr) in spec.allowed_cidrs.iter().enumerate() {
        if cidr.parse::<IpNet>().is_err() {
            return bad(format!("spec.allowedCidrs[{i}]: {cidr:?} is not a CIDR block"));
        }
    }
    if spec.target_groups.is_empty() {
        return bad("spec.targetGroups: at least one target group is required".into());
    }
    let mut tg_names = BTreeSet::new();
    for (i, tg) in spec.target_groups.iter().enumerate() {
        if !tg_names.insert(tg.name.as_str()) {
            return bad(format!("spec.targetGroups[{i}].name: {:?} is defined twice", tg.name));
        }
        if !fits.contains(&tg.protocol) {
            return bad(format!(
                "spec.targetGroups[{i}].protocol: {} does not fit a {:?} load balancer (use {})",
                tg.protocol.as_str(),
                spec.lb_type,
                names(fits)
            ));
        }
        match (tg.protocol, tg.port) {
            (Protocol::Geneve, Some(p)) if p != GENEVE_PORT => {
                return bad(format!("spec.targetGroups[{i}].port: GENEVE target groups use port {GENEVE_PORT}"));
            }
            (Protocol::Geneve, _) | (_, Some(_)) => {}
            (_, None) => return bad(format!("spec.targetGroups[{i}].port is required")),
        }
        let http = matches!(tg.protocol, Protocol::Http | Protocol::Https);
        if let Some(hc) = &tg.health_check
            && !http
            && (hc.path.is_some() || hc.matcher.is_some())
        {
            return bad(format!("spec.targetGroups[{i}].healthCheck: path and matcher are for HTTP and HTTPS only"));
        }
    }
    if spec.listeners.is_empty() {
        return bad("spec.listeners: at least one listener is required".into());
    }
    if spec.lb_type == LoadBalancerType::Gateway && spec.listeners.len() != 1 {
        return bad("spec.listeners: a Gateway load balancer has exactly one listener".into());
    }
    let mut ports = BTreeSet::new();
    for (i, l) in spec.listeners.iter().enumerate() {
        let at = format!("spec.listeners[{i}]");
        match (spec.lb_type, l.port, l.protocol) {
            (LoadBalancerType::Gateway, None, None) => {}
            (LoadBalancerType::Gateway, _, _) => {
                return bad(format!("{at}: a Gateway load balancer's listener has neither port nor protocol"));
            }
            (_, None, _) => return bad(format!("{at}.port is required")),
            (_, _, None) => return bad(format!("{at}.protocol is required")),
            (_, Some(port), Some(protocol)) => {
                if !fits.contains(&protocol) || protocol == Protocol::Geneve {
                    return bad(format!(
                        "{at}.protocol: {} does not fit a {:?} load balancer (use {})",
                        protocol.as_str(),
                        spec.lb_type,
                        names(fits)
                    ));
                }
                if !ports.insert(port) {
                    return bad(format!("{at}.port: another listener already uses port {port}"));
                }
                if matches!(protocol, Protocol::Https | Protocol::Tls) && l.certificate_arn.is_none() {
                    return bad(format!("{at}.certificateArn is required for {}", protocol.as_str()));
                }
                if l.redirect_to_https && protocol != Protocol::Http {
                    return bad(format!("{at}.redirectToHttps: only an HTTP listener redirects to HTTPS"));
                }
            }
        }
        match (&l.default_target_group, l.redirect_to_https) {
            (Some(tg), false) if !tg_names.contains(tg.as_str()) => {
                return bad(format!("{at}.defaultTargetGroup: no target group named {tg:?}"));
            }
            (Some(_), false) | (None, true) => {}
            _ => return bad(format!("{at}: set exactly one of defaultTargetGroup and redirectToHttps")),
        }
        if !l.rules.is_empty() && spec.lb_type != LoadBalancerType::Application {
            return bad(format!("{at}.rules: only Application load balancers have rules"));
        }
        let mut priorities = BTreeSet::new();
        for (j, r) in l.rules.iter().enumerate() {
            if !priorities.insert(r.priority) {
                return bad(format!("{at}.rules[{j}].priority: {} is used twice", r.priority));
            }
            if !tg_names.contains(r.target_group.as_str()) {
                return bad(format!("{at}.rules[{j}].targetGroup: no target group named {:?}", r.target_group));
            }
            if r.path_patterns.is_empty() && r.host_headers.is_empty() {
                return bad(format!("{at}.rules[{j}]: give pathPatterns or hostHeaders"));
            }
        }
    }
    if let Some(a) = &spec.attributes {
        if a.idle_timeout_seconds.is_some() && spec.lb_type != LoadBalancerType::Application {
            return bad("spec.attributes.idleTimeoutSeconds: only Application load balancers have one".into());
        }
        if a.cross_zone_load_balancing.is_some() && spec.lb_type == LoadBalancerType::Application {
            return bad("spec.attributes.crossZoneLoadBalancing: Application load balancers always balance across zones; leave it unset".into());
        }
    }
    if let Some(waf) = &spec.waf {
        if spec.lb_type != LoadBalancerType::Application {
            return bad("spec.waf: a WAF web ACL attaches to Application load balancers only".into());
        }
        if waf.web_acl_arn.is_some()
            && (!waf.managed_rule_groups.is_empty() || waf.rate_limit_per_five_minutes.is_some())
        {
            return bad("spec.waf: webAclArn attaches an existing web ACL; do not also describe rules".into());
        }
        let mut seen = BTreeSet::new();
        if let Some(g) = waf.managed_rule_groups.iter().find(|g| !seen.insert(g.as_str())) {
            return bad(format!("spec.waf.managedRuleGroups: {g} is listed twice"));
        }
    }
    if let Some(dns) = &spec.dns {
        if dns.hosted_zone_id.is_some() == dns.hosted_zone_name.is_some() {
            return bad("spec.dns: set exactly one of hostedZoneId and hostedZoneName".into());
        }
        if dns.name.trim_end_matches('.').is_empty() {
            return bad("spec.dns.name is required".into());
        }
        routing(spec, "")?;
        if let Some(hc) = &dns.health_check {
            if hc.protocol == HealthCheckProtocol::Tcp && (hc.port.is_none() || hc.path.is_some()) {
                return bad("spec.dns.healthCheck: TCP checks need port and take no path".into());
            }
            if let Some(i) = hc.request_interval_seconds
                && i != 10
                && i != 30
            {
                return bad(format!("spec.dns.healthCheck.requestIntervalSeconds: {i} is not 10 or 30"));
            }
        }
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return bad(format!("spec.tags: key {key:?} is reserved"));
    }
    Ok(())
}

/// The record routing; `region` is the load balancer's (for Latency).
fn routing(spec: &LoadBalancerPolicySpec, region: &str) -> Result<(Option<String>, RecordRouting), InvalidSpec> {
    let Some(dns) = &spec.dns else { return Ok((None, RecordRouting::Simple)) };
    let r = &dns.routing;
    let need = |field: &str| InvalidSpec(format!("spec.dns.routing.{field} is required for {:?} routing", r.policy));
    let set_identifier = match r.policy {
        RoutingPolicy::Simple => {
            if r.set_identifier.is_some() {
                return Err(InvalidSpec("spec.dns.routing.setIdentifier: Simple routing takes none".into()));
            }
            None
        }
        _ => Some(r.set_identifier.clone().ok_or_else(|| need("setIdentifier"))?),
    };
    let routing = match r.policy {
        RoutingPolicy::Simple => RecordRouting::Simple,
        RoutingPolicy::Latency => RecordRouting::Latency { region: region.into() },
        RoutingPolicy::Geolocation => {
            if r.continent.is_some() == r.country.is_some() {
                return Err(InvalidSpec(
                    "spec.dns.routing: Geolocation needs exactly one of continent and country".into(),
                ));
            }
            RecordRouting::Geolocation { continent: r.continent.clone(), country: r.country.clone() }
        }
        RoutingPolicy::Failover => {
            let role = r.role.ok_or_else(|| need("role"))?;
            let role = match role {
                securecart_api::FailoverRole::Primary => "PRIMARY",
                securecart_api::FailoverRole::Secondary => "SECONDARY",
            };
            RecordRouting::Failover { role: role.into() }
        }
        RoutingPolicy::Weighted => RecordRouting::Weighted { weight: r.weight.ok_or_else(|| need("weight"))? },
    };
    Ok((set_identifier, routing))
}

/// The VpcTier's region, VPC and the subnets of `spec.tier`; Err(InvalidSpec) when the tier does
/// not exist there, Ok(None) while the VpcTier has not reported its subnets yet.
pub fn placement(
    spec: &LoadBalancerPolicySpec,
    tier_spec: &VpcTierSpec,
    tier_status: &VpcTierStatus,
) -> Result<Option<Placement>, InvalidSpec> {
    let Some(tier) = tier_spec.tiers.iter().find(|t| t.name == spec.tier) else {
        let known: Vec<&str> = tier_spec.tiers.iter().map(|t| t.name.as_str()).collect();
        return Err(InvalidSpec(format!(
            "spec.tier: VpcTier {} has no tier {:?} (it has {})",
            spec.vpc_tier_ref.name,
            spec.tier,
            known.join(", ")
        )));
    };
    if spec.lb_type != LoadBalancerType::Gateway
        && spec.scheme == Scheme::InternetFacing
        && tier.tier_type != securecart_api::TierType::Public
    {
        return Err(InvalidSpec(format!(
            "spec.tier: an internet-facing load balancer needs a Public tier; {:?} is {:?}",
            tier.name, tier.tier_type
        )));
    }
    let subnet_ids: Vec<String> =
        tier_status.subnets.iter().filter(|s| s.tier == spec.tier).filter_map(|s| s.subnet_id.clone()).collect();
    match (&tier_status.vpc_id, subnet_ids.is_empty()) {
        (Some(vpc_id), false) => {
            Ok(Some(Placement { region: tier_spec.region.clone(), vpc_id: vpc_id.clone(), subnet_ids }))
        }
        _ => Ok(None),
    }
}

/// FNV-1a: a stable hash for AWS names (std's hasher may change between releases).
fn stable_hash(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:08x}", h >> 32)
}

/// How the name of every web ACL an owner creates ends. WAFv2 has no tag filter, so the adapter
/// reads tags only of ACLs whose names end so; the tags still decide ownership. Changing this
/// naming would hide existing ACLs from their owners.
pub fn web_acl_name_suffix(owner_uid: &str) -> String {
    format!("-{}", stable_hash(&[owner_uid]))
}

/// An ELBv2 name (32 characters, letters, digits and hyphens, no hyphen at either end) that is
/// readable and unique to the owner and the immutable properties in `identity`.
fn elb_name(readable: &str, identity: &[&str]) -> String {
    let clean: String =
        readable.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let prefix: String = clean.chars().take(23).collect();
    format!("{}-{}", prefix.trim_matches('-'), stable_hash(identity))
}

fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// The zone and record name the spec publishes in, for observation (also at teardown).
pub fn dns_target(spec: &LoadBalancerPolicySpec) -> Option<(ZoneRef, String)> {
    let d = spec.dns.as_ref()?;
    let zone = match (&d.hosted_zone_id, &d.hosted_zone_name) {
        (Some(id), _) => ZoneRef::Id(id.trim_start_matches("/hostedzone/").to_string()),
        (None, Some(name)) => ZoneRef::Name(fqdn(name)),
        (None, None) => return None,
    };
    Some((zone, fqdn(&d.name)))
}

pub fn desired(spec: &LoadBalancerPolicySpec, owner: &Owner, placement: Placement) -> Result<Desired, InvalidSpec> {
    validate(spec)?;
    let lb_type = match spec.lb_type {
        LoadBalancerType::Application => "application",
        LoadBalancerType::Network => "network",
        LoadBalancerType::Gateway => "gateway",
    };
    // Gateway load balancers have no scheme: they are reached through endpoints, not addresses.
    let scheme = match (spec.lb_type, spec.scheme) {
        (LoadBalancerType::Gateway, _) => "",
        (_, Scheme::InternetFacing) => "internet-facing",
        (_, Scheme::Internal) => "internal",
    };
    let ip_address_type = match spec.ip_address_type {
        IpAddressType::Ipv4 => "ipv4",
        IpAddressType::Dualstack => "dualstack",
    };
    let readable = format!("{}-{}", owner.namespace, owner.name);
    let mut attributes = BTreeMap::new();
    if let Some(a) = &spec.attributes {
        if let Some(v) = a.deletion_protection {
            attributes.insert("deletion_protection.enabled".into(), v.to_string());
        }
        if let Some(v) = a.idle_timeout_seconds {
            attributes.insert("idle_timeout.timeout_seconds".into(), v.to_string());
        }
        if let Some(v) = a.cross_zone_load_balancing {
            attributes.insert("load_balancing.cross_zone.enabled".into(), v.to_string());
        }
    }
    let load_balancer = DesiredLoadBalancer {
        // Type and scheme are in the name: a replacement never collides with its predecessor.
        name: elb_name(&readable, &[&owner.uid, lb_type, scheme]),
        lb_type: lb_type.into(),
        scheme: scheme.into(),
        ip_address_type: ip_address_type.into(),
        attributes,
    };
    let security_group = (spec.lb_type != LoadBalancerType::Gateway).then(|| {
        let mut ingress = BTreeSet::new();
        for l in &spec.listeners {
            let (Some(port), Some(protocol)) = (l.port, l.protocol) else { continue };
            let protocols: &[&str] = match protocol {
                Protocol::Udp => &["udp"],
                Protocol::TcpUdp => &["tcp", "udp"],
                _ => &["tcp"],
            };
            for p in protocols {
                for cidr in &spec.allowed_cidrs {
                    ingress.insert(Ingress { protocol: (*p).into(), port, cidr: cidr.clone() });
                }
            }
        }
        DesiredSecurityGroup { name: format!("{readable}-lb-{}", stable_hash(&[&owner.uid])), ingress }
    });
    let target_groups = spec
        .target_groups
        .iter()
        .map(|tg| {
            let port = tg.port.unwrap_or(GENEVE_PORT);
            let protocol = tg.protocol.as_str();
            let port_text = port.to_string();
            let hc = tg.health_check.clone().unwrap_or_default();
            DesiredTargetGroup {
                component: components::target_group(&tg.name),
                name: tg.name.clone(),
                aws_name: elb_name(
                    &format!("{readable}-{}", tg.name),
                    &[&owner.uid, &tg.name, protocol, &port_text, tg.target_type.as_str(), &placement.vpc_id],
                ),
                protocol: protocol.into(),
                port,
                target_type: tg.target_type.as_str().into(),
                health: HealthSettings {
                    path: hc.path,
                    interval_seconds: hc.interval_seconds,
                    healthy_threshold: hc.healthy_threshold,
                    unhealthy_threshold: hc.unhealthy_threshold,
                    matcher: hc.matcher,
                },
            }
        })
        .collect();
    let listeners = spec
        .listeners
        .iter()
        .map(|l| DesiredListener {
            component: components::listener(l.port),
            port: l.port,
            protocol: l.protocol.map(|p| p.as_str().to_string()),
            certificate_arn: l.certificate_arn.clone(),
            action: match &l.default_target_group {
                Some(tg) if !l.redirect_to_https => DesiredAction::Forward(components::target_group(tg)),
                _ => DesiredAction::RedirectToHttps,
            },
            rules: l
                .rules
                .iter()
                .map(|r| DesiredRule {
                    component: components::rule(l.port, r.priority),
                    priority: r.priority,
                    path_patterns: r.path_patterns.clone(),
                    host_headers: r.host_headers.clone(),
                    target_group: components::target_group(&r.target_group),
                })
                .collect(),
        })
        .collect();
    let waf = spec.waf.as_ref().map(|w| match &w.web_acl_arn {
        Some(arn) => DesiredWaf::Existing(arn.clone()),
        None => DesiredWaf::Owned {
            // WAF names take letters, digits, hyphens and underscores; Kubernetes names also dots.
            name: format!("{}{}", readable.replace('.', "-"), web_acl_name_suffix(&owner.uid)),
            rules: WafRules {
                default_action: match w.default_action {
                    WafAction::Allow => "Allow",
                    WafAction::Block => "Block",
                }
                .into(),
                managed_rule_groups: w.managed_rule_groups.clone(),
                rate_limit: w.rate_limit_per_five_minutes,
            },
        },
    });
    let dns = match &spec.dns {
        None => None,
        Some(d) => {
            let (set_identifier, routing) = routing(spec, &placement.region)?;
            let (zone, _) =
                dns_target(spec).ok_or_else(|| InvalidSpec("spec.dns: set hostedZoneId or hostedZoneName".into()))?;
            let health_check = d.health_check.as_ref().map(|hc| {
                let (protocol, default_port) = match hc.protocol {
                    HealthCheckProtocol::Http => ("HTTP", 80),
                    HealthCheckProtocol::Https => ("HTTPS", 443),
                    HealthCheckProtocol::Tcp => ("TCP", 0),
                };
                DesiredHealthCheck {
                    protocol: protocol.into(),
                    port: hc.port.unwrap_or(default_port),
                    path: if protocol == "TCP" { None } else { Some(hc.path.clone().unwrap_or_else(|| "/".into())) },
                    failure_threshold: hc.failure_threshold.unwrap_or(3),
                    request_interval: hc.request_interval_seconds.unwrap_or(30),
                }
            });
            let mut record_types = vec!["A".to_string()];
            if spec.ip_address_type == IpAddressType::Dualstack {
                record_types.push("AAAA".into());
            }
            Some(DesiredDns { name: fqdn(&d.name), zone, record_types, set_identifier, routing, health_check })
        }
    };
    Ok(Desired {
        owner: owner.clone(),
        user_tags: spec.tags.clone(),
        placement,
        load_balancer,
        security_group,
        target_groups,
        listeners,
        waf,
        shield: spec.shield.as_ref().is_some_and(|s| s.enabled),
        dns,
    })
}

// ---------------------------------------------------------------------------------------------
// Steps, in dependency order: security group -> target groups -> load balancer -> listeners and
// rules -> WAF association -> Shield -> health check -> records; deletes in reverse.

/// Which API tags a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TagApi {
    Ec2,
    Elb,
    Wafv2,
    Shield,
    Route53HealthCheck,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Action {
    Forward(Ref),
    RedirectToHttps,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeAction {
    Upsert,
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordChange {
    pub action: ChangeAction,
    pub record: Record,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateSecurityGroup {
        component: String,
        name: String,
        vpc_id: String,
        tags: Tags,
    },
    CreateTargetGroup {
        target_group: DesiredTargetGroup,
        vpc_id: String,
        tags: Tags,
    },
    CreateWebAcl {
        component: String,
        name: String,
        rules: WafRules,
        tags: Tags,
    },
    SetTags {
        api: TagApi,
        resource: String,
        component: String,
        tags: Tags,
    },
    ModifyTargetGroupHealthCheck {
        arn: String,
        health: HealthSettings,
    },
    UpdateWebAcl {
        arn: String,
        id: String,
        name: String,
        rules: WafRules,
    },
    AuthorizeIngress {
        security_group: Ref,
        rules: Vec<Ingress>,
    },
    RevokeIngress {
        security_group_id: String,
        rules: Vec<Ingress>,
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
    AssociateWebAcl {
        web_acl: Ref,
        load_balancer_arn: String,
    },
    CreateProtection {
        component: String,
        name: String,
        load_balancer_arn: String,
        tags: Tags,
    },
    CreateHealthCheck {
        component: String,
        caller_reference: String,
        config: HealthCheckConfig,
        tags: Tags,
    },
    UpdateHealthCheck {
        id: String,
        config: HealthCheckConfig,
    },
    /// All of one object's record changes, in one Route 53 ChangeBatch.
    ChangeRecords {
        hosted_zone_id: String,
        changes: Vec<RecordChange>,
    },
    DeleteHealthCheck {
        id: String,
    },
    DeleteProtection {
        id: String,
    },
    DisassociateWebAcl {
        load_balancer_arn: String,
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
    DeleteWebAcl {
        arn: String,
        id: String,
        name: String,
    },
    DeleteSecurityGroup {
        id: String,
    },
}

pub mod resources {
    pub const SECURITY_GROUP: &str = "ec2/security-group";
    pub const SECURITY_GROUP_RULE: &str = "ec2/security-group-rule";
    pub const TAGS: &str = "lbp/tags";
    pub const TARGET_GROUP: &str = "elbv2/target-group";
    pub const LOAD_BALANCER: &str = "elbv2/load-balancer";
    pub const LOAD_BALANCER_SETTINGS: &str = "elbv2/load-balancer-settings";
    pub const LISTENER: &str = "elbv2/listener";
    pub const RULE: &str = "elbv2/rule";
    pub const WEB_ACL: &str = "wafv2/web-acl";
    pub const WEB_ACL_ASSOCIATION: &str = "wafv2/web-acl-association";
    pub const PROTECTION: &str = "shield/protection";
    pub const HEALTH_CHECK: &str = "route53/health-check";
    pub const RECORDS: &str = "route53/records";
}
use resources as r;

/// Security group -> target groups (and the web ACL) -> load balancer -> listeners and rules ->
/// WAF association -> Shield -> health check -> records; deletes in reverse.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (r::SECURITY_GROUP_RULE, &[r::SECURITY_GROUP]),
        (r::LOAD_BALANCER, &[r::SECURITY_GROUP, r::SECURITY_GROUP_RULE, r::TARGET_GROUP]),
        (r::LOAD_BALANCER_SETTINGS, &[r::LOAD_BALANCER]),
        (r::LISTENER, &[r::LOAD_BALANCER, r::TARGET_GROUP]),
        (r::RULE, &[r::LISTENER, r::TARGET_GROUP]),
        (r::WEB_ACL_ASSOCIATION, &[r::LOAD_BALANCER, r::WEB_ACL, r::LISTENER]),
        (r::PROTECTION, &[r::LOAD_BALANCER]),
        (r::HEALTH_CHECK, &[r::LOAD_BALANCER]),
        (r::RECORDS, &[r::HEALTH_CHECK, r::LOAD_BALANCER]),
    ],
    delete_first: &[],
};

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        use Step::*;
        match self {
            CreateSecurityGroup { .. } | DeleteSecurityGroup { .. } => r::SECURITY_GROUP,
            AuthorizeIngress { .. } | RevokeIngress { .. } => r::SECURITY_GROUP_RULE,
            SetTags { .. } => r::TAGS,
            CreateTargetGroup { .. } | ModifyTargetGroupHealthCheck { .. } | DeleteTargetGroup { .. } => {
                r::TARGET_GROUP
            }
            CreateWebAcl { .. } | UpdateWebAcl { .. } | DeleteWebAcl { .. } => r::WEB_ACL,
            CreateLoadBalancer { .. } | DeleteLoadBalancer { .. } => r::LOAD_BALANCER,
            SetLoadBalancerAttributes { .. } | SetSubnets { .. } | SetIpAddressType { .. } => r::LOAD_BALANCER_SETTINGS,
            CreateListener { .. } | ModifyListener { .. } | DeleteListener { .. } => r::LISTENER,
            CreateRule { .. } | ModifyRule { .. } | DeleteRule { .. } => r::RULE,
            AssociateWebAcl { .. } | DisassociateWebAcl { .. } => r::WEB_ACL_ASSOCIATION,
            CreateProtection { .. } | DeleteProtection { .. } => r::PROTECTION,
            CreateHealthCheck { .. } | UpdateHealthCheck { .. } | DeleteHealthCheck { .. } => r::HEALTH_CHECK,
            ChangeRecords { .. } => r::RECORDS,
        }
    }

    fn verb(&self) -> Verb {
        use Step::*;
        match self {
            CreateSecurityGroup { .. }
            | CreateTargetGroup { .. }
            | CreateWebAcl { .. }
            | CreateLoadBalancer { .. }
            | CreateListener { .. }
            | CreateRule { .. }
            | AssociateWebAcl { .. }
            | CreateProtection { .. }
            | CreateHealthCheck { .. } => Verb::Create,
            // A batch of deletes only is part of a teardown; upserts follow what they name.
            ChangeRecords { changes, .. } if changes.iter().all(|c| c.action == ChangeAction::Delete) => Verb::Delete,
            ChangeRecords { .. }
            | SetTags { .. }
            | ModifyTargetGroupHealthCheck { .. }
            | UpdateWebAcl { .. }
            | AuthorizeIngress { .. }
            | RevokeIngress { .. }
            | SetLoadBalancerAttributes { .. }
            | SetSubnets { .. }
            | SetIpAddressType { .. }
            | ModifyListener { .. }
            | ModifyRule { .. }
            | UpdateHealthCheck { .. } => Verb::Update,
            DeleteHealthCheck { .. }
            | DeleteProtection { .. }
            | DisassociateWebAcl { .. }
            | DeleteRule { .. }
            | DeleteListener { .. }
            | DeleteLoadBalancer { .. }
            | DeleteTargetGroup { .. }
            | DeleteWebAcl { .. }
            | DeleteSecurityGroup { .. } => Verb::Delete,
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
            AuthorizeIngress { security_group, .. } => vec![security_group],
            CreateLoadBalancer { security_group, .. } => security_group.iter().collect(),
            SetLoadBalancerAttributes { load_balancer, .. } => vec![load_balancer],
            CreateListener { load_balancer, action: a, .. } => {
                std::iter::once(load_balancer).chain(action(a)).collect()
            }
            ModifyListener { action: a, .. } => action(a).into_iter().collect(),
            CreateRule { listener, target_group, .. } => vec![listener, target_group],
            ModifyRule { target_group, .. } => vec![target_group],
            AssociateWebAcl { web_acl, .. } => vec![web_acl],
            _ => Vec::new(),
        }
    }

    fn creates(&self) -> Option<&str> {
        use Step::*;
        match self {
            CreateSecurityGroup { component, .. }
            | CreateWebAcl { component, .. }
            | CreateLoadBalancer { component, .. }
            | CreateListener { component, .. }
            | CreateRule { component, .. }
            | CreateProtection { component, .. }
            | CreateHealthCheck { component, .. } => Some(component),
            CreateTargetGroup { target_group, .. } => Some(&target_group.component),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        use Step::*;
        match self {
            CreateSecurityGroup { .. } => "CreateSecurityGroup",
            CreateTargetGroup { .. } => "CreateTargetGroup",
            CreateWebAcl { .. } => "CreateWebACL",
            SetTags { .. } => "SetTags",
            ModifyTargetGroupHealthCheck { .. } => "ModifyTargetGroup",
            UpdateWebAcl { .. } => "UpdateWebACL",
            AuthorizeIngress { .. } => "AuthorizeSecurityGroupIngress",
            RevokeIngress { .. } => "RevokeSecurityGroupIngress",
            CreateLoadBalancer { .. } => "CreateLoadBalancer",
            SetLoadBalancerAttributes { .. } => "ModifyLoadBalancerAttributes",
            SetSubnets { .. } => "SetSubnets",
            SetIpAddressType { .. } => "SetIpAddressType",
            CreateListener { .. } => "CreateListener",
            ModifyListener { .. } => "ModifyListener",
            CreateRule { .. } => "CreateRule",
            ModifyRule { .. } => "ModifyRule",
            AssociateWebAcl { .. } => "AssociateWebACL",
            CreateProtection { .. } => "CreateProtection",
            CreateHealthCheck { .. } => "CreateHealthCheck",
            UpdateHealthCheck { .. } => "UpdateHealthCheck",
            ChangeRecords { .. } => "ChangeResourceRecordSets",
            DeleteHealthCheck { .. } => "DeleteHealthCheck",
            DeleteProtection { .. } => "DeleteProtection",
            DisassociateWebAcl { .. } => "DisassociateWebACL",
            DeleteRule { .. } => "DeleteRule",
            DeleteListener { .. } => "DeleteListener",
            DeleteLoadBalancer { .. } => "DeleteLoadBalancer",
            DeleteTargetGroup { .. } => "DeleteTargetGroup",
            DeleteWebAcl { .. } => "DeleteWebACL",
            DeleteSecurityGroup { .. } => "DeleteSecurityGroup",
        }
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
            CreateSecurityGroup { name, vpc_id, .. } => write!(f, "create security group {name} in {vpc_id}"),
            CreateTargetGroup { target_group: t, .. } => {
                write!(
                    f,
                    "create target group {} ({} {}:{} {})",
                    t.component, t.aws_name, t.protocol, t.port, t.target_type
                )
            }
            CreateWebAcl { name, rules, .. } => write!(
                f,
                "create web ACL {name} (default {}, managed [{}], rate limit {:?})",
                rules.default_action,
                rules.managed_rule_groups.join(", "),
                rules.rate_limit
            ),
            SetTags { resource, component, tags, .. } => {
                write!(f, "tag {component} {resource} with {}", tags.keys().cloned().collect::<Vec<_>>().join(","))
            }
            ModifyTargetGroupHealthCheck { arn, health } => write!(f, "set health check of {arn} to {health:?}"),
            UpdateWebAcl { name, rules, .. } => write!(
                f,
                "update web ACL {name} to default {}, managed [{}], rate limit {:?}",
                rules.default_action,
                rules.managed_rule_groups.join(", "),
                rules.rate_limit
            ),
            AuthorizeIngress { security_group, rules } => write!(
                f,
                "allow {} into security group {security_group}",
                rules.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
            RevokeIngress { security_group_id, rules } => write!(
                f,
                "revoke {} from security group {security_group_id}",
                rules.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
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
            AssociateWebAcl { web_acl, load_balancer_arn } => {
                write!(f, "associate web ACL {web_acl} with {load_balancer_arn}")
            }
            CreateProtection { load_balancer_arn, .. } => write!(f, "protect {load_balancer_arn} with Shield Advanced"),
            CreateHealthCheck { config: c, .. } => {
                write!(f, "create health check {} {}:{}{}", c.protocol, c.fqdn, c.port, c.path.as_deref().unwrap_or(""))
            }
            UpdateHealthCheck { id, config: c } => {
                write!(f, "update health check {id} to {}:{}{}", c.fqdn, c.port, c.path.as_deref().unwrap_or(""))
            }
            ChangeRecords { hosted_zone_id, changes } => write!(
                f,
                "change records in {hosted_zone_id}: {}",
                changes
                    .iter()
                    .map(|c| format!(
                        "{:?} {} {} {}",
                        c.action,
                        c.record.name,
                        c.record.record_type,
                        c.record.set_identifier.as_deref().unwrap_or("-")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            DeleteHealthCheck { id } => write!(f, "delete health check {id}"),
            DeleteProtection { id } => write!(f, "delete Shield protection {id}"),
            DisassociateWebAcl { load_balancer_arn } => write!(f, "disassociate web ACL from {load_balancer_arn}"),
            DeleteRule { arn } => write!(f, "delete rule {arn}"),
            DeleteListener { arn } => write!(f, "delete listener {arn}"),
            DeleteLoadBalancer { arn } => write!(f, "delete load balancer {arn}"),
            DeleteTargetGroup { arn } => write!(f, "delete target group {arn}"),
            DeleteWebAcl { name, .. } => write!(f, "delete web ACL {name}"),
            DeleteSecurityGroup { id } => write!(f, "delete security group {id}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Planning.

struct Planner<'a> {
    owner: &'a Owner,
    user_tags: Tags,
    plan: Plan<Step>,
    /// Load balancer replacements, for the Event that announces them.
    replacements: Vec<String>,
}

impl Planner<'_> {
    fn push(&mut self, step: Step) {
        self.plan.steps.push(step);
    }
    fn wait(&mut self, why: String) {
        self.plan.waiting.push(why);
    }
    fn tags(&self, component: &str) -> Tags {
        self.owner.tags(component, &self.user_tags)
    }
    fn check_tags(&mut self, api: TagApi, component: &str, resource: &str, actual: &Tags) {
        let missing = missing_tags(&self.tags(component), actual);
        if !missing.is_empty() {
            self.push(Step::SetTags { api, resource: resource.into(), component: component.into(), tags: missing });
        }
    }
}

/// A plan and the replacements it makes (type or scheme changed), which the controller announces.
pub struct Planned {
    pub plan: Plan<Step>,
    pub replacements: Vec<String>,
}

fn same_host(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim_end_matches('.').trim_start_matches("dualstack.").to_ascii_lowercase();
    norm(a) == norm(b)
}

fn action_matches(want: &Action, have: &ObservedAction) -> bool {
    match (want, have) {
        (Action::Forward(r), ObservedAction::Forward(arn)) => r.id() == Some(arn.as_str()),
        (Action::RedirectToHttps, ObservedAction::Redirect { protocol, port, status_code }) => {
            protocol == "HTTPS" && port == HTTPS_REDIRECT_PORT && status_code == "HTTP_301"
        }
        _ => false,
    }
}

/// The steps that take `observed` to `desired`; with `desired = None`, the teardown.
pub fn plan(desired: Option<&Desired>, owner: &Owner, observed: &Observed) -> Planned {
    let mut p = Planner {
        owner,
        user_tags: desired.map(|d| d.user_tags.clone()).unwrap_or_default(),
        plan: Plan::default(),
        replacements: Vec::new(),
    };

    // Security group
    let sgs = match_owned(
        &observed.security_groups,
        owner,
        |s| &s.tags,
        |s| &s.id,
        |c, s| {
            c == components::SECURITY_GROUP
                && desired.is_some_and(|d| d.security_group.is_some() && s.vpc_id == d.placement.vpc_id)
        },
    );
    let sg_ref = match desired.and_then(|d| d.security_group.as_ref().map(|sg| (d, sg))) {
        None => None,
        Some((d, want)) => Some(match sgs.kept.get(components::SECURITY_GROUP) {
            Some(sg) => {
                p.check_tags(TagApi::Ec2, components::SECURITY_GROUP, &sg.id, &sg.tags);
                let missing: Vec<Ingress> = want.ingress.difference(&sg.ingress).cloned().collect();
                let extra: Vec<Ingress> = sg.ingress.difference(&want.ingress).cloned().collect();
                if !missing.is_empty() {
                    p.push(Step::AuthorizeIngress { security_group: Ref::Id(sg.id.clone()), rules: missing });
                }
                if !extra.is_empty() {
                    p.push(Step::RevokeIngress { security_group_id: sg.id.clone(), rules: extra });
                }
                Ref::Id(sg.id.clone())
            }
            None => {
                let c = components::SECURITY_GROUP;
                p.push(Step::CreateSecurityGroup {
                    component: c.into(),
                    name: want.name.clone(),
                    vpc_id: d.placement.vpc_id.clone(),
                    tags: p.tags(c),
                });
                let r = Ref::Created(c.into());
                if !want.ingress.is_empty() {
                    p.push(Step::AuthorizeIngress {
                        security_group: r.clone(),
                        rules: want.ingress.iter().cloned().collect(),
                    });
                }
                r
            }
        }),
    };

    // Target groups: protocol, port, target type and VPC are immutable, so a change replaces.
    let want_tgs: BTreeMap<&str, &DesiredTargetGroup> =
        desired.map(|d| d.target_groups.iter().map(|t| (t.component.as_str(), t)).collect()).unwrap_or_default();
    let tgs = match_owned(
        &observed.target_groups,
        owner,
        |t| &t.tags,
        |t| &t.arn,
        |c, t| {
            want_tgs.get(c).is_some_and(|w| {
                w.protocol == t.protocol
                    && (w.port == GENEVE_PORT && w.protocol == "GENEVE" || Some(w.port) == t.port)
                    && w.target_type == t.target_type
                    && desired.is_some_and(|d| d.placement.vpc_id == t.vpc_id)
            })
        },
    );
    let mut tg_refs: BTreeMap<String, Ref> = BTreeMap::new();
    if let Some(d) = desired {
        for want in &d.target_groups {
            let r = match tgs.kept.get(&want.component) {
                Some(t) => {
                    p.check_tags(TagApi::Elb, &want.component, &t.arn, &t.tags);
                    if !want.health.satisfied_by(&t.health) {
                        p.push(Step::ModifyTargetGroupHealthCheck { arn: t.arn.clone(), health: want.health.clone() });
                    }
                    Ref::Id(t.arn.clone())
                }
                None => {
                    p.push(Step::CreateTargetGroup {
                        target_group: want.clone(),
                        vpc_id: d.placement.vpc_id.clone(),
                        tags: p.tags(&want.component),
                    });
                    Ref::Created(want.component.clone())
                }
            };
            tg_refs.insert(want.component.clone(), r);
        }
    }

    // Web ACL (owned)
    let want_owned_acl = desired.and_then(|d| match &d.waf {
        Some(DesiredWaf::Owned { name, rules }) => Some((name, rules)),
        _ => None,
    });
    let acls = match_owned(
        &observed.web_acls,
        owner,
        |a| &a.tags,
        |a| &a.arn,
        |c, _| c == components::WEB_ACL && want_owned_acl.is_some(),
    );
    let acl_ref: Option<Ref> = match desired.and_then(|d| d.waf.as_ref()) {
        None => None,
        Some(DesiredWaf::Existing(arn)) => Some(Ref::Id(arn.clone())),
        Some(DesiredWaf::Owned { name, rules }) => Some(match acls.kept.get(components::WEB_ACL) {
            Some(a) => {
                p.check_tags(TagApi::Wafv2, components::WEB_ACL, &a.arn, &a.tags);
                if &a.rules != rules {
                    p.push(Step::UpdateWebAcl {
                        arn: a.arn.clone(),
                        id: a.id.clone(),
                        name: a.name.clone(),
                        rules: rules.clone(),
                    });
                }
                Ref::Id(a.arn.clone())
            }
            None => {
                let c = components::WEB_ACL;
                p.push(Step::CreateWebAcl {
                    component: c.into(),
                    name: name.clone(),
                    rules: rules.clone(),
                    tags: p.tags(c),
                });
                Ref::Created(c.into())
            }
        }),
    };

    // Load balancer: type and scheme are immutable, so a change replaces it.
    let lbs = match_owned(
        &observed.load_balancers,
        owner,
        |l| &l.tags,
        |l| &l.arn,
        |c, l| {
            c == components::LOAD_BALANCER
                && desired.is_some_and(|d| {
                    d.load_balancer.lb_type == l.lb_type
                        && (d.load_balancer.scheme.is_empty() || d.load_balancer.scheme == l.scheme)
                        && l.state != "failed"
                })
        },
    );
    let lb = lbs.kept.get(components::LOAD_BALANCER).copied();
    if let Some(d) = desired {
        for old in lbs.unwanted.iter().filter(|l| component(&l.tags) == Some(components::LOAD_BALANCER)) {
            if old.lb_type != d.load_balancer.lb_type
                || (!d.load_balancer.scheme.is_empty() && old.scheme != d.load_balancer.scheme)
            {
                p.replacements.push(format!(
                    "load balancer {} is {} {} but the spec asks for {} {}: replacing it",
                    old.name, old.scheme, old.lb_type, d.load_balancer.scheme, d.load_balancer.lb_type
                ));
            }
        }
    }
    let lb_ref = match (desired, lb) {
        (None, _) => None,
        (Some(d), Some(l)) => {
            p.check_tags(TagApi::Elb, components::LOAD_BALANCER, &l.arn, &l.tags);
            let mut have = l.subnet_ids.clone();
            have.sort();
            let mut want = d.placement.subnet_ids.clone();
            want.sort();
            // Gateway load balancers cannot change subnets in place.
            if have != want && d.load_balancer.lb_type != "gateway" {
                p.push(Step::SetSubnets { arn: l.arn.clone(), subnet_ids: want });
            }
            if !l.ip_address_type.is_empty() && l.ip_address_type != d.load_balancer.ip_address_type {
                p.push(Step::SetIpAddressType {
                    arn: l.arn.clone(),
                    ip_address_type: d.load_balancer.ip_address_type.clone(),
                });
            }
            let changed: BTreeMap<String, String> = d
                .load_balancer
                .attributes
                .iter()
                .filter(|(k, v)| l.attributes.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !changed.is_empty() {
                p.push(Step::SetLoadBalancerAttributes { load_balancer: Ref::Id(l.arn.clone()), attributes: changed });
            }
            Some(Ref::Id(l.arn.clone()))
        }
        (Some(d), None) => {
            let c = components::LOAD_BALANCER;
            p.push(Step::CreateLoadBalancer {
                component: c.into(),
                load_balancer: d.load_balancer.clone(),
                subnet_ids: d.placement.subnet_ids.clone(),
                security_group: sg_ref.clone(),
                tags: p.tags(c),
            });
            let r = Ref::Created(c.into());
            if !d.load_balancer.attributes.is_empty() {
                p.push(Step::SetLoadBalancerAttributes {
                    load_balancer: r.clone(),
                    attributes: d.load_balancer.attributes.clone(),
                });
            }
            Some(r)
        }
    };

    // Listeners and rules, on the kept load balancer only (a deleted one takes its own along).
    let lb_arn = lb.map(|l| l.arn.as_str());
    let on_kept_lb: Vec<Listener> =
        observed.listeners.iter().filter(|l| Some(l.load_balancer_arn.as_str()) == lb_arn).cloned().collect();
    let want_listeners: BTreeSet<&str> =
        desired.map(|d| d.listeners.iter().map(|l| l.component.as_str()).collect()).unwrap_or_default();
    let listeners = match_owned(&on_kept_lb, owner, |l| &l.tags, |l| &l.arn, |c, _| want_listeners.contains(c));
    let kept_listener_arns: BTreeSet<&str> = listeners.kept.values().map(|l| l.arn.as_str()).collect();
    let on_kept_listeners: Vec<Rule> =
        observed.rules.iter().filter(|r| kept_listener_arns.contains(r.listener_arn.as_str())).cloned().collect();
    let want_rules: BTreeMap<&str, &str> = desired
        .map(|d| {
            d.listeners
                .iter()
                .flat_map(|l| l.rules.iter().map(move |r| (r.component.as_str(), l.component.as_str())))
                .collect()
        })
        .unwrap_or_default();
    let rules = match_owned(
        &on_kept_listeners,
        owner,
        |r| &r.tags,
        |r| &r.arn,
        |c, r| want_rules.get(c).is_some_and(|l| listeners.kept.get(*l).is_some_and(|kept| kept.arn == r.listener_arn)),
    );
    if let (Some(d), Some(lb_ref)) = (desired, &lb_ref) {
        let resolve_action = |a: &DesiredAction| match a {
            DesiredAction::Forward(tg) => Action::Forward(tg_refs[tg].clone()),
            DesiredAction::RedirectToHttps => Action::RedirectToHttps,
        };
        for want in &d.listeners {
            let action = resolve_action(&want.action);
            let listener_ref = match listeners.kept.get(&want.component) {
                Some(l) => {
                    p.check_tags(TagApi::Elb, &want.component, &l.arn, &l.tags);
                    if l.protocol != want.protocol
                        || l.certificate_arn != want.certificate_arn
                        || !action_matches(&action, &l.default_action)
                    {
                        p.push(Step::ModifyListener {
                            arn: l.arn.clone(),
                            protocol: want.protocol.clone(),
                            certificate_arn: want.certificate_arn.clone(),
                            action,
                        });
                    }
                    Ref::Id(l.arn.clone())
                }
                None => {
                    p.push(Step::CreateListener {
                        component: want.component.clone(),
                        load_balancer: lb_ref.clone(),
                        port: want.port,
                        protocol: want.protocol.clone(),
                        certificate_arn: want.certificate_arn.clone(),
                        action,
                        tags: p.tags(&want.component),
                    });
                    Ref::Created(want.component.clone())
                }
            };
            for rule in &want.rules {
                let target_group = tg_refs[&rule.target_group].clone();
                match rules.kept.get(&rule.component) {
                    Some(r) => {
                        p.check_tags(TagApi::Elb, &rule.component, &r.arn, &r.tags);
                        let same = r.path_patterns == rule.path_patterns
                            && r.host_headers == rule.host_headers
                            && action_matches(&Action::Forward(target_group.clone()), &r.action);
                        if !same {
                            p.push(Step::ModifyRule {
                                arn: r.arn.clone(),
                                path_patterns: rule.path_patterns.clone(),
                                host_headers: rule.host_headers.clone(),
                                target_group,
                            });
                        }
                    }
                    None => p.push(Step::CreateRule {
                        component: rule.component.clone(),
                        listener: listener_ref.clone(),
                        priority: rule.priority,
                        path_patterns: rule.path_patterns.clone(),
                        host_headers: rule.host_headers.clone(),
                        target_group,
                        tags: p.tags(&rule.component),
                    }),
                }
            }
        }
    }

    // What needs the load balancer to exist (its ARN and DNS name): WAF, Shield, health check, records.
    let live_lb = lb.filter(|_| desired.is_some());
    if desired.is_some() && live_lb.is_none() {
        p.wait("the load balancer to be created before WAF, Shield and DNS".into());
    }
    if let (Some(l), Some(acl)) = (live_lb, &acl_ref) {
        let associated = l.web_acl_arn.as_deref();
        if associated.is_none() || associated != acl.id() {
            if l.state == "active" {
                p.push(Step::AssociateWebAcl { web_acl: acl.clone(), load_balancer_arn: l.arn.clone() });
            } else {
                p.wait(format!(
                    "load balancer {} to become active (is {}) before the WAF association",
                    l.name, l.state
                ));
            }
        }
    }
    let owned_lb_arns: BTreeSet<&str> =
        observed.load_balancers.iter().filter(|l| owner.owns(&l.tags)).map(|l| l.arn.as_str()).collect();
    let owned_acl_arns: BTreeSet<&str> =
        observed.web_acls.iter().filter(|a| owner.owns(&a.tags)).map(|a| a.arn.as_str()).collect();
    // Without a WAF in the spec, remove only an association to a web ACL this owner made.
    for l in observed.load_balancers.iter().filter(|l| owner.owns(&l.tags)) {
        let Some(associated) = &l.web_acl_arn else { continue };
        let kept = live_lb.is_some_and(|k| k.arn == l.arn);
        let stale = if kept { acl_ref.is_none() && owned_acl_arns.contains(associated.as_str()) } else { true };
        if stale {
            p.push(Step::DisassociateWebAcl { load_balancer_arn: l.arn.clone() });
        }
    }

    // Shield protections: owned through the load balancer they protect.
    let protections: Vec<&Protection> =
        observed.protections.iter().filter(|pr| owned_lb_arns.contains(pr.resource_arn.as_str())).collect();
    let want_shield = desired.is_some_and(|d| d.shield);
    let mut kept_protection = false;
    for pr in &protections {
        let on_kept = live_lb.is_some_and(|l| l.arn == pr.resource_arn);
        if want_shield && on_kept && !kept_protection {
            kept_protection = true;
            p.check_tags(TagApi::Shield, components::SHIELD, &pr.arn, &pr.tags);
        } else {
            p.push(Step::DeleteProtection { id: pr.id.clone() });
        }
    }
    if let (true, false, Some(l)) = (want_shield, kept_protection, live_lb) {
        p.push(Step::CreateProtection {
            component: components::SHIELD.into(),
            name: l.name.clone(),
            load_balancer_arn: l.arn.clone(),
            tags: p.tags(components::SHIELD),
        });
    }

    // Health check: protocol and interval are immutable in Route 53, so a change replaces it.
    let dns = desired.and_then(|d| d.dns.as_ref());
    let want_hc = match (dns.and_then(|d| d.health_check.as_ref()), live_lb) {
        (Some(hc), Some(l)) => Some(HealthCheckConfig {
            protocol: hc.protocol.clone(),
            fqdn: l.dns_name.clone(),
            port: hc.port,
            path: hc.path.clone(),
            failure_threshold: hc.failure_threshold,
            request_interval: hc.request_interval,
        }),
        _ => None,
    };
    let hcs = match_owned(
        &observed.health_checks,
        owner,
        |h| &h.tags,
        |h| &h.id,
        |c, h| {
            c == components::HEALTH_CHECK
                && want_hc
                    .as_ref()
                    .is_some_and(|w| w.protocol == h.config.protocol && w.request_interval == h.config.request_interval)
        },
    );
    let hc_id: Option<Ref> = want_hc.as_ref().map(|want| match hcs.kept.get(components::HEALTH_CHECK) {
        Some(h) => {
            p.check_tags(TagApi::Route53HealthCheck, components::HEALTH_CHECK, &h.id, &h.tags);
            if &h.config != want {
                p.push(Step::UpdateHealthCheck { id: h.id.clone(), config: want.clone() });
            }
            Ref::Id(h.id.clone())
        }
        None => {
            let c = components::HEALTH_CHECK;
            let interval = want.request_interval.to_string();
            let port = want.port.to_string();
            p.push(Step::CreateHealthCheck {
                component: c.into(),
                // Route 53 answers a repeated reference with the same settings with the first
                // health check, which closes the window before its tags are written.
                caller_reference: format!(
                    "{}-{}",
                    owner.uid,
                    stable_hash(&[&want.protocol, &want.fqdn, &port, want.path.as_deref().unwrap_or(""), &interval])
                ),
                config: want.clone(),
                tags: p.tags(c),
            });
            Ref::Created(c.into())
        }
    });

    // Records: owned through the owned health check or the owned load balancer they point to.
    let owned_hc_ids: BTreeSet<&str> =
        observed.health_checks.iter().filter(|h| owner.owns(&h.tags)).map(|h| h.id.as_str()).collect();
    let owned_lb_hosts: Vec<&str> =
        observed.load_balancers.iter().filter(|l| owner.owns(&l.tags)).map(|l| l.dns_name.as_str()).collect();
    let is_owned = |r: &Record| {
        r.health_check_id.as_deref().is_some_and(|h| owned_hc_ids.contains(h))
            || r.alias_dns_name.as_deref().is_some_and(|a| owned_lb_hosts.iter().any(|h| same_host(a, h)))
    };
    let mut changes = Vec::new();
    // Records the spec names are never deleted, only rewritten, even while their target is pending.
    let wanted_keys: BTreeSet<(String, String, Option<String>)> = dns
        .map(|d| d.record_types.iter().map(|t| (d.name.clone(), t.clone(), d.set_identifier.clone())).collect())
        .unwrap_or_default();
    match (dns, live_lb, &observed.hosted_zone_id) {
        (Some(d), Some(l), Some(_)) => {
            let health_check_id = match &hc_id {
                Some(Ref::Id(id)) => Some(id.clone()),
                Some(Ref::Created(_)) => {
                    p.wait("the health check to exist before the records that name it".into());
                    None
                }
                None => None,
            };
            if hc_id.is_none() || health_check_id.is_some() {
                for record_type in &d.record_types {
                    let want = Record {
                        name: d.name.clone(),
                        record_type: record_type.clone(),
                        set_identifier: d.set_identifier.clone(),
                        routing: d.routing.clone(),
                        alias_dns_name: Some(fqdn(&l.dns_name)),
                        alias_hosted_zone_id: Some(l.canonical_hosted_zone_id.clone()),
                        evaluate_target_health: true,
                        health_check_id: health_check_id.clone(),
                    };
                    match observed.records.iter().find(|r| r.key() == want.key()) {
                        Some(have) if !is_owned(have) => p.wait(format!(
                            "record {} {} {} belongs to someone else; remove it or pick another setIdentifier",
                            want.name,
                            want.record_type,
                            want.set_identifier.as_deref().unwrap_or("(simple)")
                        )),
                        Some(have) if record_matches(&want, have) => {}
                        _ => changes.push(RecordChange { action: ChangeAction::Upsert, record: want }),
                    }
                }
            }
        }
        (Some(d), _, None) => p.wait(format!("hosted zone {:?} to exist", d.zone)),
        _ => {}
    }
    for r in observed.records.iter().filter(|r| is_owned(r) && !wanted_keys.contains(&r.key())) {
        changes.push(RecordChange { action: ChangeAction::Delete, record: r.clone() });
    }
    let untouched_records: Vec<&Record> =
        observed.records.iter().filter(|r| !changes.iter().any(|c| c.record.key() == r.key())).collect();
    if let (false, Some(zone)) = (changes.is_empty(), &observed.hosted_zone_id) {
        p.push(Step::ChangeRecords { hosted_zone_id: zone.clone(), changes });
    }
    for h in &hcs.unwanted {
        match untouched_records.iter().find(|r| r.health_check_id.as_deref() == Some(h.id.as_str())) {
            Some(r) => p.wait(format!("record {} {} to stop naming health check {}", r.name, r.record_type, h.id)),
            None => p.push(Step::DeleteHealthCheck { id: h.id.clone() }),
        }
    }

    // AWS-only: deleted in reverse dependency order (the phases order them).
    for r in &rules.unwanted {
        p.push(Step::DeleteRule { arn: r.arn.clone() });
    }
    for l in &listeners.unwanted {
        p.push(Step::DeleteListener { arn: l.arn.clone() });
    }
    for l in &lbs.unwanted {
        // A replaced load balancer stays until the records move to its successor: DNS never
        // points at nothing, and the records stay recognisably this owner's.
        let aliased =
            untouched_records.iter().find(|r| r.alias_dns_name.as_deref().is_some_and(|a| same_host(a, &l.dns_name)));
        if let Some(r) = aliased {
            p.wait(format!(
                "record {} {} to move off load balancer {} before it is deleted",
                r.name, r.record_type, l.name
            ));
            continue;
        }
        if l.attributes.get("deletion_protection.enabled").map(String::as_str) == Some("true") {
            p.push(Step::SetLoadBalancerAttributes {
                load_balancer: Ref::Id(l.arn.clone()),
                attributes: BTreeMap::from([("deletion_protection.enabled".into(), "false".into())]),
            });
        }
        p.push(Step::DeleteLoadBalancer { arn: l.arn.clone() });
    }
    for t in &tgs.unwanted {
        p.push(Step::DeleteTargetGroup { arn: t.arn.clone() });
    }
    for a in &acls.unwanted {
        p.push(Step::DeleteWebAcl { arn: a.arn.clone(), id: a.id.clone(), name: a.name.clone() });
    }
    for s in &sgs.unwanted {
        p.push(Step::DeleteSecurityGroup { id: s.id.clone() });
    }
    Planned { plan: p.plan, replacements: p.replacements }
}

fn record_matches(want: &Record, have: &Record) -> bool {
    let host_eq = match (&want.alias_dns_name, &have.alias_dns_name) {
        (Some(a), Some(b)) => same_host(a, b),
        _ => false,
    };
    host_eq
        && want.alias_hosted_zone_id == have.alias_hosted_zone_id
        && want.evaluate_target_health == have.evaluate_target_health
        && want.health_check_id == have.health_check_id
        && want.routing == have.routing
}

/// True when `observed` still holds anything this owner owns (teardown is done when false).
pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    observed.security_groups.iter().any(|r| owner.owns(&r.tags))
        || observed.target_groups.iter().any(|r| owner.owns(&r.tags))
        || observed.load_balancers.iter().any(|r| owner.owns(&r.tags))
        || observed.web_acls.iter().any(|r| owner.owns(&r.tags))
        || observed.health_checks.iter().any(|r| owner.owns(&r.tags))
}

// ---------------------------------------------------------------------------------------------
// Status: IDs as observed, and one condition per part.

pub fn status(
    desired: &Desired,
    observed: &Observed,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> LoadBalancerPolicyStatus {
    let owner = &desired.owner;
    let find = |c: &str| {
        observed.load_balancers.iter().find(|l| {
            owner.owns(&l.tags) && component(&l.tags) == Some(c) && l.lb_type == desired.load_balancer.lb_type
        })
    };
    let lb = find(components::LOAD_BALANCER);
    let owned_tg =
        |c: &str| observed.target_groups.iter().find(|t| owner.owns(&t.tags) && component(&t.tags) == Some(c));
    let listeners = desired
        .listeners
        .iter()
        .filter_map(|want| {
            let l = observed.listeners.iter().find(|l| {
                owner.owns(&l.tags)
                    && component(&l.tags) == Some(want.component.as_str())
                    && Some(l.load_balancer_arn.as_str()) == lb.map(|lb| lb.arn.as_str())
            })?;
            Some(ListenerStatus { port: want.port, arn: l.arn.clone() })
        })
        .collect();
    let web_acl_arn = match &desired.waf {
        Some(DesiredWaf::Existing(arn)) => Some(arn.clone()),
        Some(DesiredWaf::Owned { .. }) => observed
            .web_acls
            .iter()
            .find(|a| owner.owns(&a.tags) && component(&a.tags) == Some(components::WEB_ACL))
            .map(|a| a.arn.clone()),
        None => None,
    };
    let health_check_id = desired.dns.as_ref().and_then(|d| d.health_check.as_ref()).and_then(|_| {
        observed
            .health_checks
            .iter()
            .find(|h| owner.owns(&h.tags) && component(&h.tags) == Some(components::HEALTH_CHECK))
            .map(|h| h.id.clone())
    });
    let records: Vec<RecordStatus> = match (&desired.dns, lb) {
        (Some(d), Some(lb)) => observed
            .records
            .iter()
            .filter(|r| {
                r.name == d.name
                    && r.set_identifier == d.set_identifier
                    && r.alias_dns_name.as_deref().is_some_and(|a| same_host(a, &lb.dns_name))
            })
            .map(|r| RecordStatus {
                name: r.name.clone(),
                record_type: r.record_type.clone(),
                set_identifier: r.set_identifier.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };

    let part = |type_: &str, ok: bool, why: &str, message: String| {
        condition(type_, ok, why, &message, generation, previous, now)
    };
    let lb_condition = match lb {
        Some(l) if l.state == "active" => {
            part(LOAD_BALANCER_READY, true, "Active", format!("load balancer {} is active", l.name))
        }
        Some(l) => {
            part(LOAD_BALANCER_READY, false, reason::PROGRESSING, format!("load balancer {} is {}", l.name, l.state))
        }
        None => part(LOAD_BALANCER_READY, false, reason::PROGRESSING, "the load balancer does not exist yet".into()),
    };
    let waf_condition = match (&web_acl_arn, lb) {
        (None, _) => part(WAF_ASSOCIATED, false, reason::NOT_REQUESTED, "spec.waf is not set".into()),
        (Some(arn), Some(l)) if l.web_acl_arn.as_deref() == Some(arn.as_str()) => {
            part(WAF_ASSOCIATED, true, "Associated", format!("web ACL {arn} is associated"))
        }
        (Some(_), _) => part(WAF_ASSOCIATED, false, reason::PROGRESSING, "the web ACL is not associated yet".into()),
    };
    let dns_condition = match &desired.dns {
        None => part(DNS_PUBLISHED, false, reason::NOT_REQUESTED, "spec.dns is not set".into()),
        Some(d) if records.len() == d.record_types.len() => {
            part(DNS_PUBLISHED, true, "Published", format!("{} {} published", d.name, d.record_types.join(" and ")))
        }
        Some(d) => part(DNS_PUBLISHED, false, reason::PROGRESSING, format!("{} is not published yet", d.name)),
    };
    LoadBalancerPolicyStatus {
        conditions: vec![lb_condition, waf_condition, dns_condition],
        region: Some(desired.placement.region.clone()),
        load_balancer_arn: lb.map(|l| l.arn.clone()),
        dns_name: lb.map(|l| l.dns_name.clone()),
        canonical_hosted_zone_id: lb.map(|l| l.canonical_hosted_zone_id.clone()),
        // Every owned load balancer's subnets, a predecessor's during a replacement too.
        subnet_ids: observed
            .load_balancers
            .iter()
            .filter(|l| owner.owns(&l.tags))
            .flat_map(|l| l.subnet_ids.iter().cloned())
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
        security_group_id: observed
            .security_groups
            .iter()
            .find(|s| owner.owns(&s.tags) && component(&s.tags) == Some(components::SECURITY_GROUP))
            .map(|s| s.id.clone()),
        target_groups: desired
            .target_groups
            .iter()
            .filter_map(|t| Some(NamedArn { name: t.name.clone(), arn: owned_tg(&t.component)?.arn.clone() }))
            .collect(),
        listeners,
        web_acl_arn,
        shield_protection_id: lb.and_then(|l| {
            observed.protections.iter().find(|p| p.resource_arn == l.arn && desired.shield).map(|p| p.id.clone())
        }),
        health_check_id,
        records,
        ..Default::default()
    }
}
