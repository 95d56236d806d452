//! PrivateEndpoint: validate the spec, build the desired endpoint and security group from the
//! spec and the referenced VpcTier, compose the VPC endpoint and security group plans, and report
//! the status.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::{ACCEPTED, reason};
use securecart_api::{DnsEntry, EndpointType, PrivateEndpointSpec, PrivateEndpointStatus};
use serde::Serialize;
use serde_json::Value;

use crate::InvalidSpec;
use crate::conditions::Readiness;
use crate::context::Context;
use crate::owner::{Owner, Tags};
use crate::plan::Plan;
use crate::security_group::{self, DesiredGroup, Ingress, SecurityGroup};
use crate::step::Step;
use crate::vpc_endpoint::{self, DesiredEndpoint, Endpoint, sorted};

pub mod components {
    pub const ENDPOINT: &str = "endpoint";
    pub const SECURITY_GROUP: &str = "sg";
}

const DEFAULT_PORT: u16 = 443;

/// What the endpoint needs to know of its VpcTier: read from the VpcTier's status.
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

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub endpoints: Vec<Endpoint>,
    pub security_groups: Vec<SecurityGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub region: String,
    /// A partner's PrivateLink service: its owner must accept the connection.
    pub partner: bool,
    pub endpoint: DesiredEndpoint,
    /// Interface endpoints only.
    pub security_group: Option<DesiredGroup>,
}

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
    let user_tags: Tags = spec.tags.clone();
    let security_group = (kind == EndpointType::Interface).then(|| {
        let mut sources: BTreeSet<String> = spec.allowed_cidrs.iter().flatten().cloned().collect();
        for t in spec.allowed_tiers.iter().flatten() {
            sources.extend(vpc.subnets.iter().filter(|s| &s.tier == t).map(|s| s.cidr_block.clone()));
        }
        if spec.allowed_tiers.is_none() && spec.allowed_cidrs.is_none() {
            sources.insert(vpc.cidr_block.clone());
        }
        let ports = spec.ports.clone().unwrap_or_else(|| vec![DEFAULT_PORT]);
        DesiredGroup {
            component: components::SECURITY_GROUP.into(),
            name: group_name(owner),
            description: "VPC endpoint access, managed by securecart-controller".into(),
            vpc_id: vpc.vpc_id.clone(),
            ingress: ports.iter().flat_map(|p| sources.iter().map(|c| Ingress::tcp(*p, c))).collect(),
            user_tags: user_tags.clone(),
        }
    });
    Ok(Desired {
        owner: owner.clone(),
        region: vpc.region.clone(),
        partner,
        endpoint: DesiredEndpoint {
            component: components::ENDPOINT.into(),
            service_name,
            endpoint_type: kind,
            vpc_id: vpc.vpc_id.clone(),
            route_table_ids,
            subnet_ids,
            private_dns: (kind == EndpointType::Interface).then(|| spec.private_dns.unwrap_or(!partner)),
            policy: spec.policy.clone(),
            user_tags,
        },
        security_group,
    })
}

/// The steps that take `observed` to `desired`; with `desired = None`, the teardown: the
/// endpoint first, its security group once no endpoint of the owner's holds it.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Plan<Step> {
    let endpoint = desired.map(|d| &d.endpoint);
    let holders = vpc_endpoint::holders(endpoint, cx, &observed.endpoints);
    let group = desired.and_then(|d| d.security_group.as_ref());
    let groups = security_group::plan(group, cx, &observed.security_groups, &holders);
    let mut plan = groups.keep.map(Step::SecurityGroup);
    plan.extend(vpc_endpoint::plan(endpoint, cx, &observed.endpoints, groups.group).map(Step::VpcEndpoint));
    plan.extend(groups.remove.map(Step::SecurityGroup));
    plan
}

/// (component, ID) of everything the owner owns in `observed`.
pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let mut out = vpc_endpoint::inventory(owner, &observed.endpoints);
    out.extend(security_group::inventory(owner, &observed.security_groups));
    out
}

pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    vpc_endpoint::owns_any(owner, &observed.endpoints) || security_group::owns_any(owner, &observed.security_groups)
}

/// The readiness once nothing is left to change: Ready, pending acceptance, rejected, or waiting.
pub fn readiness<S>(desired: &Desired, observed: &Observed, plan: &Plan<S>) -> Readiness {
    let endpoint = vpc_endpoint::find(&desired.owner, &desired.endpoint, &observed.endpoints);
    let service_name = &desired.endpoint.service_name;
    match endpoint.map(|e| e.state.to_ascii_lowercase()) {
        Some(s) if s == "pendingacceptance" => Readiness::not_ready(
            reason::PENDING_ACCEPTANCE,
            format!("waiting for the owner of {service_name} to accept the connection"),
        ),
        Some(s) if s == "rejected" || s == "failed" => Readiness::NotReady {
            reason: reason::REJECTED,
            message: format!(
                "endpoint {} is {s}: the owner of {service_name} refused it",
                endpoint.map(|e| e.id.as_str()).unwrap_or("")
            ),
            stalled: true,
        },
        _ => crate::conditions::settled(plan.steps.len(), &plan.waiting),
    }
}

/// The status fields from what AWS has; for partner services, an Accepted condition whose
/// transition time is kept from `previous` while it does not flip.
pub fn status(desired: &Desired, observed: &Observed, previous: &[Condition], now: &Time) -> PrivateEndpointStatus {
    let owner = &desired.owner;
    let e = vpc_endpoint::find(owner, &desired.endpoint, &observed.endpoints);
    let group = security_group::find(owner, &observed.security_groups, components::SECURITY_GROUP);
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
        service_name: Some(desired.endpoint.service_name.clone()),
        endpoint_type: Some(desired.endpoint.endpoint_type),
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
