//! PrivateEndpoint: validate, build the desired endpoint from the spec and the referenced
//! VpcTier, match it against what AWS has by ownership tags, and plan the difference.

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::{ACCEPTED, reason};
use securecart_api::{DnsEntry, EndpointType, PrivateEndpointSpec, PrivateEndpointStatus};
use serde::Serialize;
use serde_json::Value;

use crate::InvalidSpec;
use crate::conditions::Readiness;
use crate::owner::{Owner, Tags, component, missing_tags};
use crate::plan::{Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};

pub mod components {
    pub const ENDPOINT: &str = "endpoint";
    pub const SECURITY_GROUP: &str = "sg";
}

const DEFAULT_PORT: u16 = 443;

/// What the endpoint needs to know of its VpcTier: read from the VpcTier's status once Ready.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VpcTierView {
    pub name: String,
    pub region: String,
    pub vpc_id: String,
    pub cidr_block: String,
    pub subnets: Vec<TierSubnet>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierSubnet {
    pub tier: String,
    pub zone: String,
    pub cidr_block: String,
    pub subnet_id: String,
    pub route_table_id: String,
}

// ---------------------------------------------------------------------------------------------
// Observed

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub endpoints: Vec<Endpoint>,
    pub security_groups: Vec<SecurityGroup>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Endpoint {
    pub id: String,
    /// Gateway | Interface | GatewayLoadBalancer (compared case-insensitively)
    pub endpoint_type: String,
    pub service_name: String,
    pub vpc_id: String,
    /// pendingAcceptance | pending | available | deleting | deleted | rejected | failed | expired
    pub state: String,
    pub route_table_ids: Vec<String>,
    pub subnet_ids: Vec<String>,
    pub network_interface_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub private_dns_enabled: Option<bool>,
    pub policy: Option<String>,
    pub dns_entries: Vec<(String, Option<String>)>,
    pub tags: Tags,
}

impl Endpoint {
    fn state_is(&self, s: &str) -> bool {
        self.state.eq_ignore_ascii_case(s)
    }
    /// Exists and counts (not on its way out).
    fn is_live(&self) -> bool {
        !["deleting", "deleted", "expired"].iter().any(|s| self.state_is(s))
    }
    /// Still holds its network interfaces and security group.
    fn holds_resources(&self) -> bool {
        !self.state_is("deleted")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub ingress: Vec<IngressRule>,
    pub tags: Tags,
}

/// One TCP port from one IPv4 CIDR: the only kind of rule the controller writes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct IngressRule {
    pub port: u16,
    pub cidr: String,
}

impl fmt::Display for IngressRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp/{} from {}", self.port, self.cidr)
    }
}

// ---------------------------------------------------------------------------------------------
// Validation and the desired endpoint

/// The endpoint type, with the defaults: Gateway for s3 and dynamodb, Interface otherwise.
pub fn endpoint_type(spec: &PrivateEndpointSpec) -> EndpointType {
    spec.endpoint_type.unwrap_or(match spec.service.as_deref() {
        Some("s3" | "dynamodb") => EndpointType::Gateway,
        _ => EndpointType::Interface,
    })
}

/// Checks the spec on its own (no VpcTier, no AWS).
pub fn validate(spec: &PrivateEndpointSpec) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    match (&spec.service, &spec.service_name) {
        (Some(s), None) if !s.is_empty() => {}
        (None, Some(s)) if !s.is_empty() => {}
        _ => return bad("spec: set exactly one of service and serviceName".into()),
    }
    let kind = endpoint_type(spec);
    if kind != EndpointType::Interface {
        for (field, set) in [
            ("privateDns", spec.private_dns.is_some()),
            ("allowedTiers", spec.allowed_tiers.is_some()),
            ("allowedCidrs", spec.allowed_cidrs.is_some()),
            ("ports", spec.ports.is_some()),
        ] {
            if set {
                return bad(format!("spec.{field} applies to Interface endpoints only, not {}", kind.as_aws()));
            }
        }
    }
    if kind == EndpointType::Gateway && spec.service.as_deref().is_some_and(|s| s != "s3" && s != "dynamodb") {
        return bad(format!(
            "spec.type: Gateway endpoints exist only for s3 and dynamodb, not {}",
            spec.service.as_deref().unwrap_or("")
        ));
    }
    if spec.tiers.is_empty() {
        return bad("spec.tiers: at least one tier is required".into());
    }
    for (i, tier) in spec.tiers.iter().enumerate() {
        if spec.tiers[..i].contains(tier) {
            return bad(format!("spec.tiers[{i}]: tier {tier:?} is listed twice"));
        }
    }
    for (i, cidr) in spec.allowed_cidrs.iter().flatten().enumerate() {
        if cidr.parse::<ipnet::Ipv4Net>().is_err() {
            return bad(format!("spec.allowedCidrs[{i}]: {cidr:?} is not an IPv4 CIDR block"));
        }
    }
    if let Some(port) = spec.ports.iter().flatten().find(|p| **p == 0) {
        return bad(format!("spec.ports: {port} is not a TCP port"));
    }
    if let Some(policy) = &spec.policy {
        if kind == EndpointType::GatewayLoadBalancer {
            return bad("spec.policy: Gateway Load Balancer endpoints take no policy".into());
        }
        validate_policy(policy)?;
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return bad(format!("spec.tags: key {key:?} is reserved"));
    }
    Ok(())
}

/// A policy document must be an object with a Statement (one or a list), each with an Effect
/// of Allow or Deny and an Action or NotAction; AWS refuses anything else at call time.
fn validate_policy(policy: &Value) -> Result<(), InvalidSpec> {
    let bad = |m: &str| Err(InvalidSpec(format!("spec.policy: {m}")));
    let Some(doc) = policy.as_object() else { return bad("must be a JSON object") };
    if let Some(version) = doc.get("Version")
        && version != "2012-10-17"
        && version != "2008-10-17"
    {
        return bad("Version must be \"2012-10-17\" or \"2008-10-17\"");
    }
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return bad("Statement must be a statement object or a non-empty list of them"),
    };
    for (i, st) in statements.iter().enumerate() {
        let Some(st) = st.as_object() else {
            return Err(InvalidSpec(format!("spec.policy.Statement[{i}]: must be an object")));
        };
        if !matches!(st.get("Effect").and_then(Value::as_str), Some("Allow" | "Deny")) {
            return Err(InvalidSpec(format!("spec.policy.Statement[{i}].Effect must be Allow or Deny")));
        }
        if !st.contains_key("Action") && !st.contains_key("NotAction") {
            return Err(InvalidSpec(format!("spec.policy.Statement[{i}]: needs Action or NotAction")));
        }
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub user_tags: Tags,
    pub service_name: String,
    pub endpoint_type: EndpointType,
    /// A partner's PrivateLink service: its owner must accept the connection.
    pub partner: bool,
    pub vpc_id: String,
    pub route_table_ids: BTreeSet<String>,
    pub subnet_ids: BTreeSet<String>,
    pub private_dns: Option<bool>,
    /// Interface endpoints only.
    pub security_group: Option<DesiredSecurityGroup>,
    pub region: String,
    /// None: AWS's full-access default.
    pub policy: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredSecurityGroup {
    pub group_name: String,
    pub ingress: BTreeSet<IngressRule>,
}

/// EC2 group names are unique per VPC and at most 255 characters: the owner's namespace and name,
/// cut to fit, then the start of its UID, so that a group retained from an earlier object of the
/// same name does not block this one's (InvalidGroup.Duplicate).
fn group_name(owner: &Owner) -> String {
    let uid: String = owner.uid.chars().take(8).collect();
    let base: String = format!("securecart-{}-{}", owner.namespace, owner.name).chars().take(254 - uid.len()).collect();
    format!("{base}-{uid}")
}

/// The service name in the VpcTier's region, checked against that region.
fn service_name(spec: &PrivateEndpointSpec, region: &str) -> Result<String, InvalidSpec> {
    if let Some(service) = &spec.service {
        return Ok(format!("com.amazonaws.{region}.{service}"));
    }
    let name = spec.service_name.clone().unwrap_or_default();
    // com.amazonaws.<region>.<service> or com.amazonaws.vpce.<region>.vpce-svc-...
    let parts: Vec<&str> = name.split('.').collect();
    let named_region = match parts.as_slice() {
        ["com", "amazonaws", "vpce", r, ..] => Some(*r),
        ["com", "amazonaws", r, ..] => Some(*r),
        _ => None,
    };
    if let Some(r) = named_region
        && r != region
    {
        return Err(InvalidSpec(format!(
            "spec.serviceName: {name} is in region {r}, but the VpcTier {} is in {region}",
            spec.vpc_tier_ref.name
        )));
    }
    Ok(name)
}

/// The desired endpoint for `spec` in `vpc`. Fails with InvalidSpec for a tier the VpcTier
/// lacks or a service name of another region.
pub fn desired(spec: &PrivateEndpointSpec, owner: &Owner, vpc: &VpcTierView) -> Result<Desired, InvalidSpec> {
    validate(spec)?;
    let tiers: BTreeSet<&str> = vpc.subnets.iter().map(|s| s.tier.as_str()).collect();
    let check_tiers = |field: &str, names: &[String]| {
        for (i, t) in names.iter().enumerate() {
            if !tiers.contains(t.as_str()) {
                return Err(InvalidSpec(format!(
                    "spec.{field}[{i}]: VpcTier {} has no tier {t:?} (it has {})",
                    vpc.name,
                    tiers.iter().copied().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        Ok(())
    };
    check_tiers("tiers", &spec.tiers)?;
    check_tiers("allowedTiers", spec.allowed_tiers.as_deref().unwrap_or_default())?;

    let kind = endpoint_type(spec);
    let service_name = service_name(spec, &vpc.region)?;
    let partner = service_name.contains(".vpce-svc-");
    if kind == EndpointType::Gateway && !(service_name.ends_with(".s3") || service_name.ends_with(".dynamodb")) {
        return Err(InvalidSpec(format!(
            "spec.type: Gateway endpoints exist only for s3 and dynamodb, not {service_name}"
        )));
    }
    let in_tiers = |s: &&TierSubnet| spec.tiers.contains(&s.tier);
    let mut route_table_ids = BTreeSet::new();
    let mut subnet_ids = BTreeSet::new();
    match kind {
        EndpointType::Gateway => {
            route_table_ids = vpc.subnets.iter().filter(in_tiers).map(|s| s.route_table_id.clone()).collect()
        }
        EndpointType::Interface | EndpointType::GatewayLoadBalancer => {
            // One subnet per zone: the first listed tier that has a subnet there. A Gateway Load
            // Balancer endpoint takes exactly one subnet: the first zone's.
            let mut zones: Vec<&str> = Vec::new();
            for s in &vpc.subnets {
                if !zones.contains(&s.zone.as_str()) {
                    zones.push(&s.zone);
                }
            }
            for zone in zones {
                let pick = spec.tiers.iter().find_map(|t| vpc.subnets.iter().find(|s| &s.tier == t && s.zone == zone));
                if let Some(s) = pick {
                    subnet_ids.insert(s.subnet_id.clone());
                    if kind == EndpointType::GatewayLoadBalancer {
                        break;
                    }
                }
            }
        }
    }
    let security_group = (kind == EndpointType::Interface).then(|| {
        let mut sources: BTreeSet<String> = spec.allowed_cidrs.iter().flatten().cloned().collect();
        for t in spec.allowed_tiers.iter().flatten() {
            sources.extend(vpc.subnets.iter().filter(|s| &s.tier == t).map(|s| s.cidr_block.clone()));
        }
        if spec.allowed_tiers.is_none() && spec.allowed_cidrs.is_none() {
            sources.insert(vpc.cidr_block.clone());
        }
        let ports = spec.ports.clone().unwrap_or_else(|| vec![DEFAULT_PORT]);
        DesiredSecurityGroup {
            group_name: group_name(owner),
            ingress: ports
                .iter()
                .flat_map(|p| sources.iter().map(|c| IngressRule { port: *p, cidr: c.clone() }))
                .collect(),
        }
    });
    Ok(Desired {
        owner: owner.clone(),
        user_tags: spec.tags.clone(),
        service_name,
        endpoint_type: kind,
        partner,
        vpc_id: vpc.vpc_id.clone(),
        route_table_ids,
        subnet_ids,
        private_dns: (kind == EndpointType::Interface).then(|| spec.private_dns.unwrap_or(!partner)),
        security_group,
        region: vpc.region.clone(),
        policy: spec.policy.clone(),
    })
}

// ---------------------------------------------------------------------------------------------
// Steps

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    SetTags {
        resource_id: String,
        component: String,
        tags: Tags,
    },
    CreateSecurityGroup {
        component: String,
        vpc_id: String,
        group_name: String,
        tags: Tags,
    },
    AuthorizeIngress {
        group: Ref,
        rules: Vec<IngressRule>,
    },
    RevokeIngress {
        group_id: String,
        rules: Vec<IngressRule>,
    },
    CreateEndpoint {
        component: String,
        endpoint_type: EndpointType,
        service_name: String,
        vpc_id: String,
        route_table_ids: Vec<String>,
        subnet_ids: Vec<String>,
        security_group: Option<Ref>,
        private_dns: Option<bool>,
        policy: Option<String>,
        tags: Tags,
    },
    ModifyEndpoint {
        id: String,
        add_route_tables: Vec<String>,
        remove_route_tables: Vec<String>,
        add_subnets: Vec<String>,
        remove_subnets: Vec<String>,
        policy: Option<String>,
        reset_policy: bool,
        private_dns: Option<bool>,
    },
    DeleteEndpoint {
        id: String,
    },
    DeleteSecurityGroup {
        id: String,
    },
}

impl Step {
    /// A ModifyEndpoint that would change nothing.
    fn is_noop(&self) -> bool {
        matches!(self, Step::ModifyEndpoint { add_route_tables, remove_route_tables, add_subnets, remove_subnets, policy: None, reset_policy: false, private_dns: None, .. }
            if add_route_tables.is_empty() && remove_route_tables.is_empty() && add_subnets.is_empty() && remove_subnets.is_empty())
    }
}

pub mod resources {
    pub const SECURITY_GROUP: &str = "ec2/security-group";
    pub const SECURITY_GROUP_RULE: &str = "ec2/security-group-rule";
    pub const VPC_ENDPOINT: &str = "ec2/vpc-endpoint";
    pub const TAGS: &str = "ec2/tags";
}

/// An interface endpoint is created in its security group, with the group's rules in place.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (resources::SECURITY_GROUP_RULE, &[resources::SECURITY_GROUP]),
        (resources::VPC_ENDPOINT, &[resources::SECURITY_GROUP, resources::SECURITY_GROUP_RULE]),
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
        match self {
            Step::SetTags { .. } => resources::TAGS,
            Step::CreateSecurityGroup { .. } | Step::DeleteSecurityGroup { .. } => resources::SECURITY_GROUP,
            Step::AuthorizeIngress { .. } | Step::RevokeIngress { .. } => resources::SECURITY_GROUP_RULE,
            Step::CreateEndpoint { .. } | Step::ModifyEndpoint { .. } | Step::DeleteEndpoint { .. } => {
                resources::VPC_ENDPOINT
            }
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateSecurityGroup { .. } | Step::CreateEndpoint { .. } => Verb::Create,
            Step::SetTags { .. }
            | Step::AuthorizeIngress { .. }
            | Step::RevokeIngress { .. }
            | Step::ModifyEndpoint { .. } => Verb::Update,
            Step::DeleteEndpoint { .. } | Step::DeleteSecurityGroup { .. } => Verb::Delete,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::AuthorizeIngress { group, .. } => vec![group],
            Step::CreateEndpoint { security_group: Some(g), .. } => vec![g],
            _ => Vec::new(),
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateSecurityGroup { component, .. } | Step::CreateEndpoint { component, .. } => Some(component),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::SetTags { .. } => "SetTags",
            Step::CreateSecurityGroup { .. } => "CreateSecurityGroup",
            Step::AuthorizeIngress { .. } => "AuthorizeSecurityGroupIngress",
            Step::RevokeIngress { .. } => "RevokeSecurityGroupIngress",
            Step::CreateEndpoint { .. } => "CreateVpcEndpoint",
            Step::ModifyEndpoint { .. } => "ModifyVpcEndpoint",
            Step::DeleteEndpoint { .. } => "DeleteVpcEndpoints",
            Step::DeleteSecurityGroup { .. } => "DeleteSecurityGroup",
        }
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::SetTags { resource_id, component, tags } => {
                write!(f, "tag {component} {resource_id} with {}", tags.keys().cloned().collect::<Vec<_>>().join(","))
            }
            Step::CreateSecurityGroup { group_name, vpc_id, .. } => {
                write!(f, "create security group {group_name} in {vpc_id}")
            }
            Step::AuthorizeIngress { group, rules } => write!(f, "allow {} into {group}", list(rules)),
            Step::RevokeIngress { group_id, rules } => write!(f, "revoke {} from {group_id}", list(rules)),
            Step::CreateEndpoint { endpoint_type, service_name, route_table_ids, subnet_ids, .. } => write!(
                f,
                "create {} endpoint for {service_name} (route tables [{}], subnets [{}])",
                endpoint_type.as_aws(),
                route_table_ids.join(", "),
                subnet_ids.join(", ")
            ),
            Step::ModifyEndpoint {
                id,
                add_route_tables,
                remove_route_tables,
                add_subnets,
                remove_subnets,
                policy,
                reset_policy,
                private_dns,
            } => {
                let mut parts = Vec::new();
                for (what, items) in [
                    ("add route tables", add_route_tables),
                    ("remove route tables", remove_route_tables),
                    ("add subnets", add_subnets),
                    ("remove subnets", remove_subnets),
                ] {
                    if !items.is_empty() {
                        parts.push(format!("{what} [{}]", items.join(", ")));
                    }
                }
                if policy.is_some() {
                    parts.push("set policy".into());
                }
                if *reset_policy {
                    parts.push("reset policy to AWS's default".into());
                }
                if let Some(dns) = private_dns {
                    parts.push(format!("private DNS {dns}"));
                }
                write!(f, "modify endpoint {id}: {}", parts.join("; "))
            }
            Step::DeleteEndpoint { id } => write!(f, "delete endpoint {id}"),
            Step::DeleteSecurityGroup { id } => write!(f, "delete security group {id}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Planning

/// AWS's default endpoint policy allows everything to everyone.
fn is_default_policy(policy: &Value) -> bool {
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => return false,
    };
    let star = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s == "*",
        Some(Value::Array(a)) => a.len() == 1 && a[0] == "*",
        Some(Value::Object(o)) => o.len() == 1 && o.get("AWS").is_some_and(|a| a == "*"),
        _ => false,
    };
    statements.len() == 1
        && statements[0].get("Effect").is_some_and(|e| e == "Allow")
        && star(statements[0].get("Principal"))
        && star(statements[0].get("Action"))
        && star(statements[0].get("Resource"))
}

fn sorted(set: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = set.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

/// The steps that take `observed` to `desired`; with `desired = None`, the teardown.
pub fn plan(desired: Option<&Desired>, owner: &Owner, observed: &Observed) -> Plan<Step> {
    let mut plan = Plan::default();
    let user_tags = desired.map(|d| d.user_tags.clone()).unwrap_or_default();
    let tags = |c: &str| owner.tags(c, &user_tags);
    let check_tags = |plan: &mut Plan<Step>, c: &str, id: &str, actual: &Tags| {
        let missing = missing_tags(&tags(c), actual);
        if !missing.is_empty() {
            plan.steps.push(Step::SetTags { resource_id: id.into(), component: c.into(), tags: missing });
        }
    };

    // Security group (Interface endpoints)
    let mut groups: Vec<&SecurityGroup> = observed.security_groups.iter().filter(|g| owner.owns(&g.tags)).collect();
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    let want_group = desired.and_then(|d| d.security_group.as_ref().map(|g| (d, g)));
    let kept_group = want_group.and_then(|(d, _)| {
        groups.iter().copied().find(|g| component(&g.tags) == Some(components::SECURITY_GROUP) && g.vpc_id == d.vpc_id)
    });
    let group_ref = match (want_group, kept_group) {
        (Some((_, want)), Some(g)) => {
            check_tags(&mut plan, components::SECURITY_GROUP, &g.id, &g.tags);
            let actual: BTreeSet<IngressRule> = g.ingress.iter().cloned().collect();
            let missing: Vec<IngressRule> = want.ingress.difference(&actual).cloned().collect();
            let extra: Vec<IngressRule> = actual.difference(&want.ingress).cloned().collect();
            if !missing.is_empty() {
                plan.steps.push(Step::AuthorizeIngress { group: Ref::Id(g.id.clone()), rules: missing });
            }
            if !extra.is_empty() {
                plan.steps.push(Step::RevokeIngress { group_id: g.id.clone(), rules: extra });
            }
            Some(Ref::Id(g.id.clone()))
        }
        (Some((d, want)), None) => {
            let c = components::SECURITY_GROUP;
            plan.steps.push(Step::CreateSecurityGroup {
                component: c.into(),
                vpc_id: d.vpc_id.clone(),
                group_name: want.group_name.clone(),
                tags: tags(c),
            });
            let r = Ref::Created(c.into());
            if !want.ingress.is_empty() {
                plan.steps
                    .push(Step::AuthorizeIngress { group: r.clone(), rules: want.ingress.iter().cloned().collect() });
            }
            Some(r)
        }
        (None, _) => None,
    };

    // The endpoint: type, service and VPC are immutable, so a mismatch means replace.
    let mut endpoints: Vec<&Endpoint> =
        observed.endpoints.iter().filter(|e| owner.owns(&e.tags) && e.is_live()).collect();
    endpoints.sort_by(|a, b| a.id.cmp(&b.id));
    let kept = desired.and_then(|d| {
        endpoints.iter().copied().find(|e| {
            component(&e.tags) == Some(components::ENDPOINT)
                && e.endpoint_type.eq_ignore_ascii_case(d.endpoint_type.as_aws())
                && e.service_name == d.service_name
                && e.vpc_id == d.vpc_id
        })
    });
    let unwanted: Vec<&Endpoint> =
        endpoints.iter().copied().filter(|e| Some(e.id.as_str()) != kept.map(|k| k.id.as_str())).collect();
    let leaving = unwanted.first().copied().or_else(|| {
        let deleting = observed.endpoints.iter().filter(|e| owner.owns(&e.tags) && e.state_is("deleting"));
        deleting.min_by(|a, b| a.id.cmp(&b.id))
    });
    if let Some(d) = desired {
        let policy_json = d.policy.as_ref().map(Value::to_string);
        match kept {
            Some(e) => {
                check_tags(&mut plan, components::ENDPOINT, &e.id, &e.tags);
                let actual_tables: BTreeSet<String> = e.route_table_ids.iter().cloned().collect();
                let actual_subnets: BTreeSet<String> = e.subnet_ids.iter().cloned().collect();
                let observed_policy: Option<Value> = e.policy.as_deref().and_then(|p| serde_json::from_str(p).ok());
                let (policy, reset_policy) = match (&d.policy, &observed_policy) {
                    (Some(want), Some(have)) if want == have => (None, false),
                    (Some(_), _) => (policy_json.clone(), false),
                    (None, Some(have))
                        if !is_default_policy(have) && d.endpoint_type != EndpointType::GatewayLoadBalancer =>
                    {
                        (None, true)
                    }
                    (None, _) => (None, false),
                };
                let private_dns = match (d.private_dns, e.private_dns_enabled) {
                    (Some(want), Some(have)) if want != have => Some(want),
                    _ => None,
                };
                let modify = Step::ModifyEndpoint {
                    id: e.id.clone(),
                    add_route_tables: sorted(d.route_table_ids.difference(&actual_tables).cloned()),
                    remove_route_tables: sorted(actual_tables.difference(&d.route_table_ids).cloned()),
                    add_subnets: sorted(d.subnet_ids.difference(&actual_subnets).cloned()),
                    remove_subnets: sorted(actual_subnets.difference(&d.subnet_ids).cloned()),
                    policy,
                    reset_policy,
                    private_dns,
                };
                if !modify.is_noop() {
                    plan.steps.push(modify);
                }
                if e.state_is("pendingAcceptance") {
                    plan.waiting.push(format!("the owner of {} to accept endpoint {}", d.service_name, e.id));
                } else if e.state_is("pending") {
                    plan.waiting.push(format!("endpoint {} to become available", e.id));
                }
            }
            // A replacement waits for the old endpoint to go: two endpoints for one service in
            // one VPC conflict (routes, private DNS), and a `deleting` one still holds them.
            None if leaving.is_some() => plan.waiting.push(format!(
                "endpoint {} to be deleted before its replacement",
                leaving.map_or("", |e| e.id.as_str())
            )),
            None => {
                let c = components::ENDPOINT;
                plan.steps.push(Step::CreateEndpoint {
                    component: c.into(),
                    endpoint_type: d.endpoint_type,
                    service_name: d.service_name.clone(),
                    vpc_id: d.vpc_id.clone(),
                    route_table_ids: sorted(d.route_table_ids.iter().cloned()),
                    subnet_ids: sorted(d.subnet_ids.iter().cloned()),
                    security_group: group_ref.clone(),
                    private_dns: d.private_dns,
                    policy: policy_json,
                    tags: tags(c),
                });
                plan.waiting.push(format!("endpoint for {} to become available", d.service_name));
            }
        }
    }
    for e in &unwanted {
        plan.steps.push(Step::DeleteEndpoint { id: e.id.clone() });
    }
    // A security group goes once no endpoint of ours still holds it.
    for g in groups
        .iter()
        .filter(|g| Some(g.id.as_str()) != kept_group.filter(|_| want_group.is_some()).map(|k| k.id.as_str()))
    {
        let holder = observed
            .endpoints
            .iter()
            .find(|e| owner.owns(&e.tags) && e.holds_resources() && e.security_group_ids.contains(&g.id));
        match holder {
            Some(e) if Some(e.id.as_str()) == kept.map(|k| k.id.as_str()) => {}
            Some(e) if !e.is_live() || unwanted.iter().any(|u| u.id == e.id) => {
                plan.waiting.push(format!("endpoint {} to release security group {}", e.id, g.id))
            }
            _ => plan.steps.push(Step::DeleteSecurityGroup { id: g.id.clone() }),
        }
    }
    plan
}

pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    observed.endpoints.iter().any(|e| owner.owns(&e.tags) && e.holds_resources())
        || observed.security_groups.iter().any(|g| owner.owns(&g.tags))
}

// ---------------------------------------------------------------------------------------------
// Status

/// The readiness once nothing is left to change: Ready, pending acceptance, rejected, or waiting.
pub fn readiness(desired: &Desired, observed: &Observed, plan: &Plan<Step>) -> Readiness {
    let endpoint = find_endpoint(desired, observed);
    match endpoint.map(|e| e.state.to_ascii_lowercase()) {
        Some(s) if s == "pendingacceptance" => Readiness::not_ready(
            reason::PENDING_ACCEPTANCE,
            format!("waiting for the owner of {} to accept the connection", desired.service_name),
        ),
        Some(s) if s == "rejected" || s == "failed" => Readiness::NotReady {
            reason: reason::REJECTED,
            message: format!(
                "endpoint {} is {s}: the owner of {} refused it",
                endpoint.map(|e| e.id.as_str()).unwrap_or(""),
                desired.service_name
            ),
            stalled: true,
        },
        _ => crate::conditions::settled(plan.steps.len(), &plan.waiting),
    }
}

/// The owned, live endpoint that matches the desired service, type and VPC (during a
/// replacement, the new one, never the one on its way out).
fn find_endpoint<'a>(desired: &Desired, observed: &'a Observed) -> Option<&'a Endpoint> {
    let mut candidates: Vec<&Endpoint> = observed
        .endpoints
        .iter()
        .filter(|e| desired.owner.owns(&e.tags) && e.is_live() && component(&e.tags) == Some(components::ENDPOINT))
        .filter(|e| {
            e.endpoint_type.eq_ignore_ascii_case(desired.endpoint_type.as_aws())
                && e.service_name == desired.service_name
                && e.vpc_id == desired.vpc_id
        })
        .collect();
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    candidates.first().copied()
}

/// The status fields from what AWS has; for partner services, an Accepted condition whose
/// transition time is kept from `previous` while it does not flip.
pub fn status(desired: &Desired, observed: &Observed, previous: &[Condition], now: &Time) -> PrivateEndpointStatus {
    let owner = &desired.owner;
    let e = find_endpoint(desired, observed);
    let group = observed
        .security_groups
        .iter()
        .find(|g| owner.owns(&g.tags) && component(&g.tags) == Some(components::SECURITY_GROUP));
    let mut conditions = Vec::new();
    if desired.partner {
        let state = e.map(|e| e.state.to_ascii_lowercase()).unwrap_or_default();
        let (status, why, message) = match state.as_str() {
            "available" | "pending" => ("True", "Accepted", "the endpoint service accepted the connection".to_string()),
            "rejected" => ("False", reason::REJECTED, "the endpoint service rejected the connection".to_string()),
            _ => (
                "False",
                reason::PENDING_ACCEPTANCE,
                "the endpoint service has not accepted the connection yet".to_string(),
            ),
        };
        let last_transition_time = previous
            .iter()
            .find(|c| c.type_ == ACCEPTED && c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| now.clone());
        conditions.push(Condition {
            type_: ACCEPTED.into(),
            status: status.into(),
            reason: why.into(),
            message,
            observed_generation: None,
            last_transition_time,
        });
    }
    let ids = |v: &[String]| -> Vec<String> { sorted(v.iter().cloned()) };
    PrivateEndpointStatus {
        region: Some(desired.region.clone()),
        vpc_endpoint_id: e.map(|e| e.id.clone()),
        service_name: Some(desired.service_name.clone()),
        endpoint_type: Some(desired.endpoint_type),
        state: e.map(|e| e.state.clone()),
        route_table_ids: e.map(|e| ids(&e.route_table_ids)).unwrap_or_default(),
        subnet_ids: e.map(|e| ids(&e.subnet_ids)).unwrap_or_default(),
        network_interface_ids: e.map(|e| ids(&e.network_interface_ids)).unwrap_or_default(),
        security_group_id: group.map(|g| g.id.clone()),
        dns_entries: e
            .map(|e| {
                e.dns_entries.iter().map(|(n, z)| DnsEntry { dns_name: n.clone(), hosted_zone_id: z.clone() }).collect()
            })
            .unwrap_or_default(),
        conditions,
        ..Default::default()
    }
}

/// Which PrivateEndpoints of a namespace still use a VpcTier (its teardown waits for them).
pub fn users_of<'a>(
    vpc_tier: &str,
    endpoints: impl IntoIterator<Item = (&'a str, &'a PrivateEndpointSpec)>,
) -> Vec<String> {
    let mut users: Vec<String> =
        endpoints.into_iter().filter(|(_, s)| s.vpc_tier_ref.name == vpc_tier).map(|(n, _)| n.to_string()).collect();
    users.sort();
    users
}
