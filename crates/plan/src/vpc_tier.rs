//! VpcTier: validate the spec, pin its zones, build the desired network (carving subnet blocks
//! stickily around what exists) and report the status. The network itself is planned by the
//! shared EC2 networking module.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use securecart_api::{
    FlowLogs, NatGatewayMode, NatGatewayStatus, SubnetStatus, TierType, TrafficType, VpcTierSpec, VpcTierStatus,
};

use crate::InvalidSpec;
use crate::cidr::{self, Request};
use crate::network::{
    DefaultRoute, Desired, DesiredFlowLog, DesiredNat, DesiredRouteTable, DesiredSubnet, FlowLogTarget, Observed,
    Subnet, components,
};
use crate::owner::{Owner, component};

const MAX_ZONES: usize = 6;

// ---------------------------------------------------------------------------------------------
// Validation: everything that can be checked without AWS, so a bad spec makes no AWS call.

/// The effective NAT gateway mode.
pub fn nat_mode(spec: &VpcTierSpec) -> NatGatewayMode {
    let has_private = spec.tiers.iter().any(|t| t.tier_type == TierType::Private);
    let has_public = spec.tiers.iter().any(|t| t.tier_type == TierType::Public);
    match spec.nat_gateways {
        _ if !has_private => NatGatewayMode::None,
        Some(mode) => mode,
        // NAT gateways live in a Public tier; without one there are none to route to.
        None if !has_public => NatGatewayMode::None,
        None => NatGatewayMode::PerZone,
    }
}

/// Checks the spec on its own. The schema and CEL rules reject most of this at admission; this
/// repeats it for objects admitted before a rule existed and adds what CEL cannot express
/// (overlaps, capacity).
pub fn validate(spec: &VpcTierSpec) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    let vpc = parse_vpc_cidr(&spec.cidr_block)?;
    if spec.region.is_empty() || !spec.region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad(format!("spec.region: {:?} is not an AWS region name", spec.region));
    }
    let zone_count = match (&spec.availability_zones, &spec.availability_zone_names) {
        (Some(n), None) => {
            if *n == 0 || *n as usize > MAX_ZONES {
                return bad(format!("spec.availabilityZones: {n} is not between 1 and {MAX_ZONES}"));
            }
            *n as usize
        }
        (None, Some(names)) => {
            if names.is_empty() || names.len() > MAX_ZONES {
                return bad(format!("spec.availabilityZoneNames: give 1 to {MAX_ZONES} zones"));
            }
            for (i, z) in names.iter().enumerate() {
                if !z.starts_with(&spec.region) || z.len() == spec.region.len() {
                    return bad(format!(
                        "spec.availabilityZoneNames[{i}]: {z} is not a zone of region {}",
                        spec.region
                    ));
                }
                if names[..i].contains(z) {
                    return bad(format!("spec.availabilityZoneNames[{i}]: {z} is listed twice"));
                }
            }
            names.len()
        }
        _ => return bad("spec: set exactly one of availabilityZones and availabilityZoneNames".into()),
    };
    if spec.tiers.is_empty() {
        return bad("spec.tiers: at least one tier is required".into());
    }
    let mut names = BTreeSet::new();
    for (i, tier) in spec.tiers.iter().enumerate() {
        if !names.insert(tier.name.as_str()) {
            return bad(format!("spec.tiers[{i}].name: tier {:?} is defined twice", tier.name));
        }
        if !(16..=28).contains(&tier.prefix_length) {
            return bad(format!("spec.tiers[{i}].prefixLength: /{} is not between /16 and /28", tier.prefix_length));
        }
        if let Some(blocks) = &tier.cidr_blocks {
            if blocks.len() < zone_count {
                return bad(format!(
                    "spec.tiers[{i}].cidrBlocks: {} blocks for {zone_count} zones; give one per zone",
                    blocks.len()
                ));
            }
            for (j, block) in blocks.iter().enumerate() {
                let net: Ipv4Net = block.parse().map_err(|_| {
                    InvalidSpec(format!("spec.tiers[{i}].cidrBlocks[{j}]: {block:?} is not an IPv4 CIDR block"))
                })?;
                if net.trunc() != net {
                    return bad(format!(
                        "spec.tiers[{i}].cidrBlocks[{j}]: {block} has host bits set; did you mean {}?",
                        net.trunc()
                    ));
                }
                if net.prefix_len() != tier.prefix_length {
                    return bad(format!(
                        "spec.tiers[{i}].cidrBlocks[{j}]: {block} is not a /{} as prefixLength says",
                        tier.prefix_length
                    ));
                }
            }
        }
    }
    let mode = spec.nat_gateways.unwrap_or(NatGatewayMode::None);
    let has = |t: TierType| spec.tiers.iter().any(|x| x.tier_type == t);
    if mode != NatGatewayMode::None && has(TierType::Private) && !has(TierType::Public) {
        return bad("spec.natGateways: NAT gateways live in a Public tier; add one or set natGateways: None".into());
    }
    if let Some(flow) = &spec.flow_logs {
        flow_log_target(flow)?;
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return bad(format!("spec.tags: key {key:?} is reserved"));
    }
    let placeholder: Vec<String> = (0..zone_count).map(|i| format!("zone {}", i + 1)).collect();
    cidr::carve(vpc, &subnet_requests(spec, &placeholder, &BTreeMap::new()), &[]).map_err(InvalidSpec)?;
    Ok(())
}

fn parse_vpc_cidr(cidr: &str) -> Result<Ipv4Net, InvalidSpec> {
    let net: Ipv4Net =
        cidr.parse().map_err(|_| InvalidSpec(format!("spec.cidrBlock: {cidr:?} is not an IPv4 CIDR block")))?;
    if !(16..=28).contains(&net.prefix_len()) {
        return Err(InvalidSpec(format!("spec.cidrBlock: {cidr} must be from /16 to /28")));
    }
    if net.trunc() != net {
        return Err(InvalidSpec(format!("spec.cidrBlock: {cidr} has host bits set; did you mean {}?", net.trunc())));
    }
    Ok(net)
}

fn flow_log_target(flow: &FlowLogs) -> Result<FlowLogTarget, InvalidSpec> {
    let d = &flow.destination;
    match (&d.s3_bucket_arn, &d.cloud_watch_log_group, &d.iam_role_arn) {
        (Some(arn), None, _) => Ok(FlowLogTarget::S3 { bucket_arn: arn.clone() }),
        (None, Some(group), Some(role)) => {
            Ok(FlowLogTarget::CloudWatchLogs { log_group: group.clone(), role_arn: role.clone() })
        }
        (None, Some(_), None) => {
            Err(InvalidSpec("spec.flowLogs.destination.iamRoleArn is required with cloudWatchLogGroup".into()))
        }
        _ => {
            Err(InvalidSpec("spec.flowLogs.destination: set exactly one of s3BucketArn and cloudWatchLogGroup".into()))
        }
    }
}

/// A zone of the region as DescribeAvailabilityZones reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    /// available | impaired | unavailable | information | constrained
    pub state: String,
}

impl Zone {
    pub fn new(name: &str, state: &str) -> Self {
        Self { name: name.into(), state: state.into() }
    }
}

/// The zones to use. Named zones must be zones of the region (in any state: a zone named in the
/// spec stays even while impaired). A count keeps the zones already in use (`pinned`, from the
/// status) in their order and adds only *available* zones, by name, when it grows: a zone going
/// impaired never removes anything, and a restart while one is impaired picks the same zones.
pub fn resolve_zones(spec: &VpcTierSpec, region: &[Zone], pinned: &[String]) -> Result<Vec<String>, InvalidSpec> {
    let mut names: Vec<&str> = region.iter().map(|z| z.name.as_str()).collect();
    names.sort();
    if let Some(wanted) = &spec.availability_zone_names {
        for (i, z) in wanted.iter().enumerate() {
            if !names.contains(&z.as_str()) {
                return Err(InvalidSpec(format!(
                    "spec.availabilityZoneNames[{i}]: {z} is not a zone of {} ({})",
                    spec.region,
                    names.join(", ")
                )));
            }
        }
        return Ok(wanted.clone());
    }
    let n = spec.availability_zones.unwrap_or(0) as usize;
    let mut zones: Vec<String> = pinned.iter().take(n).cloned().collect();
    let mut available: Vec<&str> = region.iter().filter(|z| z.state == "available").map(|z| z.name.as_str()).collect();
    available.sort();
    for z in &available {
        if zones.len() == n {
            break;
        }
        if !zones.iter().any(|p| p == z) {
            zones.push(z.to_string());
        }
    }
    if zones.len() < n {
        return Err(InvalidSpec(format!(
            "spec.availabilityZones: {n} zones requested but {} has {} available ({})",
            spec.region,
            available.len(),
            available.join(", ")
        )));
    }
    Ok(zones)
}

fn subnet_requests(spec: &VpcTierSpec, zones: &[String], existing: &BTreeMap<String, Ipv4Net>) -> Vec<Request> {
    let mut out = Vec::new();
    for (i, tier) in spec.tiers.iter().enumerate() {
        for (z, zone) in zones.iter().enumerate() {
            let explicit = tier.cidr_blocks.as_ref().and_then(|b| b.get(z)).and_then(|b| b.parse().ok());
            out.push(Request {
                label: format!("spec.tiers[{i}] ({}) in {zone}", tier.name),
                prefix_len: tier.prefix_length,
                explicit,
                existing: existing.get(&components::subnet(&tier.name, zone)).copied(),
            });
        }
    }
    out
}

/// The desired model. `observed` makes carving sticky: existing subnets keep their blocks.
pub fn desired(
    spec: &VpcTierSpec,
    owner: &Owner,
    zones: Vec<String>,
    observed: &Observed,
) -> Result<Desired, InvalidSpec> {
    validate(spec)?;
    let vpc = parse_vpc_cidr(&spec.cidr_block)?;
    let owned_subnets: Vec<&Subnet> = observed.subnets.iter().filter(|s| owner.owns(&s.tags)).collect();
    let existing: BTreeMap<String, Ipv4Net> = owned_subnets
        .iter()
        .filter_map(|s| Some((component(&s.tags)?.to_string(), s.cidr_block.parse().ok()?)))
        .collect();
    let occupied: Vec<Ipv4Net> = owned_subnets.iter().filter_map(|s| s.cidr_block.parse().ok()).collect();
    let blocks = cidr::carve(vpc, &subnet_requests(spec, &zones, &existing), &occupied).map_err(InvalidSpec)?;

    let mode = nat_mode(spec);
    let has = |t: TierType| spec.tiers.iter().any(|x| x.tier_type == t);
    let nat_zones: Vec<&String> = match mode {
        NatGatewayMode::PerZone => zones.iter().collect(),
        NatGatewayMode::Single => zones.iter().take(1).collect(),
        NatGatewayMode::None => Vec::new(),
    };
    let first_public = spec.tiers.iter().find(|t| t.tier_type == TierType::Public);
    let nat_gateways: Vec<DesiredNat> = match first_public {
        Some(public) => nat_zones
            .iter()
            .map(|z| DesiredNat {
                component: components::nat_gateway(z),
                zone: (*z).clone(),
                subnet: components::subnet(&public.name, z),
                address: components::address(z),
            })
            .collect(),
        None => Vec::new(),
    };

    let private_table = |zone: &str| match mode {
        NatGatewayMode::PerZone => components::private_route_table(Some(zone)),
        _ => components::private_route_table(None),
    };
    let mut route_tables = Vec::new();
    if has(TierType::Public) {
        route_tables.push(DesiredRouteTable {
            component: components::PUBLIC_ROUTE_TABLE.into(),
            default_route: Some(DefaultRoute::InternetGateway),
        });
    }
    if has(TierType::Private) {
        let mut seen = BTreeSet::new();
        for zone in &zones {
            let table = private_table(zone);
            if !seen.insert(table.clone()) {
                continue;
            }
            let nat = match mode {
                NatGatewayMode::PerZone => Some(components::nat_gateway(zone)),
                NatGatewayMode::Single => nat_gateways.first().map(|n| n.component.clone()),
                NatGatewayMode::None => None,
            };
            route_tables.push(DesiredRouteTable { component: table, default_route: nat.map(DefaultRoute::NatGateway) });
        }
    }
    if has(TierType::Isolated) {
        route_tables
            .push(DesiredRouteTable { component: components::ISOLATED_ROUTE_TABLE.into(), default_route: None });
    }

    let mut subnets = Vec::new();
    let mut block = blocks.into_iter();
    for tier in &spec.tiers {
        for zone in &zones {
            subnets.push(DesiredSubnet {
                component: components::subnet(&tier.name, zone),
                tier: tier.name.clone(),
                tier_type: tier.tier_type,
                zone: zone.clone(),
                cidr_block: block.next().expect("one block per tier and zone"),
                route_table: match tier.tier_type {
                    TierType::Public => components::PUBLIC_ROUTE_TABLE.into(),
                    TierType::Private => private_table(zone),
                    TierType::Isolated => components::ISOLATED_ROUTE_TABLE.into(),
                },
            });
        }
    }

    let flow_log = spec
        .flow_logs
        .as_ref()
        .map(|f| -> Result<_, InvalidSpec> {
            let traffic_type = match f.traffic_type {
                TrafficType::All => "ALL",
                TrafficType::Accept => "ACCEPT",
                TrafficType::Reject => "REJECT",
            };
            Ok(DesiredFlowLog { traffic_type: traffic_type.into(), destination: flow_log_target(f)? })
        })
        .transpose()?;

    Ok(Desired {
        owner: owner.clone(),
        user_tags: spec.tags.clone(),
        cidr_block: vpc,
        zones,
        subnets,
        route_tables,
        internet_gateway: has(TierType::Public),
        nat_gateways,
        flow_log,
    })
}

// ---------------------------------------------------------------------------------------------
// Status: the IDs of what exists, as observed. Conditions are added by the caller.

pub fn status(desired: &Desired, observed: &Observed) -> VpcTierStatus {
    let owner = &desired.owner;
    let find = |c: &str| -> Option<String> {
        observed.vpcs.iter().find(|v| owner.owns(&v.tags) && component(&v.tags) == Some(c)).map(|v| v.id.clone())
    };
    let vpc_id = find(components::VPC);
    let owned_subnet = |c: &str| {
        observed
            .subnets
            .iter()
            .find(|s| owner.owns(&s.tags) && component(&s.tags) == Some(c) && Some(&s.vpc_id) == vpc_id.as_ref())
    };
    let table_of = |subnet_id: &str| {
        observed
            .route_tables
            .iter()
            .filter(|t| owner.owns(&t.tags))
            .find(|t| t.associations.iter().any(|a| a.subnet_id.as_deref() == Some(subnet_id)))
            .map(|t| t.id.clone())
    };
    let subnets = desired
        .subnets
        .iter()
        .map(|d| {
            let s = owned_subnet(&d.component);
            SubnetStatus {
                tier: d.tier.clone(),
                tier_type: d.tier_type,
                zone: d.zone.clone(),
                cidr_block: s.map_or_else(|| d.cidr_block.to_string(), |s| s.cidr_block.clone()),
                subnet_id: s.map(|s| s.id.clone()),
                route_table_id: s.and_then(|s| table_of(&s.id)),
            }
        })
        .collect();
    let nat_gateways = desired
        .nat_gateways
        .iter()
        .filter_map(|d| {
            let n = observed
                .nat_gateways
                .iter()
                .find(|n| owner.owns(&n.tags) && n.is_live() && component(&n.tags) == Some(d.component.as_str()))?;
            Some(NatGatewayStatus {
                zone: d.zone.clone(),
                nat_gateway_id: n.id.clone(),
                allocation_id: n.allocation_id.clone(),
                public_ip: n.public_ip.clone(),
                state: n.state.clone(),
            })
        })
        .collect();
    VpcTierStatus {
        vpc_id,
        internet_gateway_id: observed
            .internet_gateways
            .iter()
            .find(|g| owner.owns(&g.tags) && component(&g.tags) == Some(components::INTERNET_GATEWAY))
            .map(|g| g.id.clone()),
        zones: desired.zones.clone(),
        subnets,
        nat_gateways,
        flow_log_id: observed
            .flow_logs
            .iter()
            .find(|f| owner.owns(&f.tags) && component(&f.tags) == Some(components::FLOW_LOG))
            .map(|f| f.id.clone()),
        ..Default::default()
    }
}
