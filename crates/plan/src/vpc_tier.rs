//! VpcTier: validate the spec, pin its zones, build the desired network (carving subnet blocks
//! stickily around what exists) and report the status. The network itself is planned by the
//! shared EC2 networking module.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use securecart_api::{
    FlowLogs, NatGatewayMode, NatGatewayStatus, SubnetGroupService, SubnetGroupStatus, SubnetStatus, TierType,
    TrafficType, TransitGatewayAttachmentStatus, VpcTierSpec, VpcTierStatus, VpcTransitGateway,
};

use crate::cidr::{self, Request};
use crate::context::Context;
use crate::network::{
    DefaultRoute, Desired, DesiredFlowLog, DesiredNat, DesiredRouteTable, DesiredSubnet, FlowLogTarget, Observed,
    Subnet, components,
};
use crate::owner::{Known, Owner, Tags, component, kept_or_first};
use crate::plan::Plan;
use crate::step::Step;
use crate::transit::{DesiredVpcAttachment, attachment};
use crate::{InvalidSpec, network, subnet_group};

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
    if let Some(t) = &spec.transit_gateway {
        validate_transit(spec, vpc, t)?;
    }
    validate_subnet_groups(spec, zone_count)?;
    let placeholder: Vec<String> = (0..zone_count).map(|i| format!("zone {}", i + 1)).collect();
    cidr::carve(vpc, &subnet_requests(spec, &placeholder, &BTreeMap::new()), &[]).map_err(InvalidSpec)?;
    Ok(())
}

fn validate_subnet_groups(spec: &VpcTierSpec, zone_count: usize) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    for (i, g) in spec.subnet_groups.iter().enumerate() {
        let field = format!("spec.subnetGroups[{i}]");
        if !spec.tiers.iter().any(|t| t.name == g.tier) {
            return bad(format!("{field}.tier: there is no tier {:?} in spec.tiers", g.tier));
        }
        if spec.subnet_groups[..i].iter().any(|h| h.name == g.name && h.service == g.service) {
            return bad(format!("{field}.name: {} subnet group {:?} is defined twice", g.service.as_str(), g.name));
        }
        if g.service == SubnetGroupService::Rds && zone_count < 2 {
            return bad(format!(
                "{field}: an RDS DB subnet group needs subnets in at least two zones; the VpcTier has {zone_count}"
            ));
        }
    }
    Ok(())
}

fn desired_subnet_groups(spec: &VpcTierSpec, owner: &Owner, zones: &[String]) -> Vec<subnet_group::Desired> {
    spec.subnet_groups
        .iter()
        .map(|g| subnet_group::Desired {
            component: subnet_group::component_of(g.service, &g.name),
            service: g.service,
            spec_name: g.name.clone(),
            name: subnet_group::aws_name(owner, &g.name),
            description: g.description.clone().unwrap_or_else(|| {
                format!(
                    "{} subnet group of VpcTier {}/{}, tier {}",
                    g.service.as_str(),
                    owner.namespace,
                    owner.name,
                    g.tier
                )
            }),
            subnets: zones.iter().map(|z| components::subnet(&g.tier, z)).collect(),
        })
        .collect()
}

/// The transitGateway block against the VpcTier's own tiers and block; its route table names
/// are checked against the TransitGateway when it is resolved.
fn validate_transit(spec: &VpcTierSpec, vpc: Ipv4Net, t: &VpcTransitGateway) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    let tier = |name: &str| spec.tiers.iter().any(|x| x.name == name);
    if !tier(&t.tier) {
        return bad(format!("spec.transitGateway.tier: the VpcTier has no tier {:?}", t.tier));
    }
    let mut seen = BTreeSet::new();
    for (i, r) in t.routes.iter().enumerate() {
        let f = format!("spec.transitGateway.routes[{i}]");
        let net: Ipv4Net = r
            .destination
            .parse()
            .map_err(|_| InvalidSpec(format!("{f}.destination: {:?} is not an IPv4 CIDR block", r.destination)))?;
        if net.trunc() != net {
            return bad(format!("{f}.destination: {} has host bits set; did you mean {}?", r.destination, net.trunc()));
        }
        // The VPC's own block is the local route's; a wider destination (10.0.0.0/8) is fine.
        if vpc.contains(&net) {
            return bad(format!("{f}.destination: {net} overlaps the VPC's own block {vpc}"));
        }
        if r.tiers.is_empty() {
            return bad(format!("{f}.tiers: name at least one tier"));
        }
        for (j, name) in r.tiers.iter().enumerate() {
            let Some(t) = spec.tiers.iter().find(|t| &t.name == name) else {
                return bad(format!("{f}.tiers[{j}]: the VpcTier has no tier {name:?}"));
            };
            let has_default = match t.tier_type {
                TierType::Public => true,
                TierType::Private => nat_mode(spec) != NatGatewayMode::None,
                TierType::Isolated => false,
            };
            if net.prefix_len() == 0 && has_default {
                return bad(format!(
                    "{f}.tiers[{j}]: tier {name} already has a default route (internet or NAT gateway)"
                ));
            }
            if !seen.insert((name.clone(), net)) {
                return bad(format!("{f}: {net} is routed twice for tier {name}"));
            }
        }
    }
    Ok(())
}

/// A TransitGateway as a VpcTier attaching to it needs it: what its status publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubView {
    pub name: String,
    pub region: String,
    pub transit_gateway_id: String,
    /// Route table IDs by name.
    pub route_tables: BTreeMap<String, String>,
}

/// The attachment a spec asks for on `hub`, given the VpcTier's desired subnets.
fn desired_attachment(
    t: &VpcTransitGateway,
    hub: &HubView,
    region: &str,
    subnets: &[DesiredSubnet],
) -> Result<DesiredVpcAttachment, InvalidSpec> {
    if hub.region != region {
        return Err(InvalidSpec(format!(
            "spec.transitGateway.ref: TransitGateway {} is in {}, the VpcTier in {region}",
            hub.name, hub.region
        )));
    }
    let table = |field: String, name: &str| {
        hub.route_tables
            .get(name)
            .cloned()
            .ok_or_else(|| InvalidSpec(format!("{field}: TransitGateway {} has no route table {name:?}", hub.name)))
    };
    let route_table_id = table("spec.transitGateway.routeTable".into(), &t.route_table)?;
    let propagate_to = t
        .propagate_to
        .iter()
        .enumerate()
        .map(|(i, n)| table(format!("spec.transitGateway.propagateTo[{i}]"), n))
        .collect::<Result<Vec<_>, _>>()?;
    let mut routes = Vec::new();
    for r in &t.routes {
        for tier in &r.tiers {
            for s in subnets.iter().filter(|s| &s.tier == tier) {
                let route = (s.route_table.clone(), r.destination.clone());
                if !routes.contains(&route) {
                    routes.push(route);
                }
            }
        }
    }
    Ok(DesiredVpcAttachment {
        transit_gateway_id: hub.transit_gateway_id.clone(),
        subnets: subnets.iter().filter(|s| s.tier == t.tier).map(|s| s.component.clone()).collect(),
        route_table_id,
        propagate_to,
        hub_route_table_ids: hub.route_tables.values().cloned().collect(),
        routes,
    })
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
    desired_with_hub(spec, owner, zones, None, observed)
}

/// [`desired`] with the TransitGateway the spec's `transitGateway` block names, resolved.
pub fn desired_with_hub(
    spec: &VpcTierSpec,
    owner: &Owner,
    zones: Vec<String>,
    hub: Option<&HubView>,
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

    let transit = match (&spec.transit_gateway, hub) {
        (Some(t), Some(hub)) => Some(desired_attachment(t, hub, &spec.region, &subnets)?),
        (Some(t), None) => {
            return Err(InvalidSpec(format!(
                "spec.transitGateway.ref: TransitGateway {} is not resolved",
                t.transit_gateway_ref.name
            )));
        }
        (None, _) => None,
    };

    let subnet_groups = desired_subnet_groups(spec, owner, &zones);
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
        transit,
        subnet_groups,
    })
}

// ---------------------------------------------------------------------------------------------
// Status: the IDs of what exists, as observed. Conditions are added by the caller.

pub fn status(desired: &Desired, observed: &Observed, known: &Known) -> VpcTierStatus {
    let owner = &desired.owner;
    let is = |tags: &Tags, c: &str| owner.owns(tags) && component(tags) == Some(c);
    let vpc_id =
        kept_or_first(observed.vpcs.iter().filter(|v| is(&v.tags, components::VPC)), known, components::VPC, |v| &v.id)
            .map(|v| v.id.clone());
    let owned_subnet = |c: &str| {
        let candidates = observed.subnets.iter().filter(|s| is(&s.tags, c) && Some(&s.vpc_id) == vpc_id.as_ref());
        kept_or_first(candidates, known, c, |s| &s.id)
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
            let candidates = observed.nat_gateways.iter().filter(|n| n.is_live() && is(&n.tags, &d.component));
            let n = kept_or_first(candidates, known, &d.component, |n| &n.id)?;
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
        vpc_id: vpc_id.clone(),
        internet_gateway_id: kept_or_first(
            observed.internet_gateways.iter().filter(|g| is(&g.tags, components::INTERNET_GATEWAY)),
            known,
            components::INTERNET_GATEWAY,
            |g| &g.id,
        )
        .map(|g| g.id.clone()),
        zones: desired.zones.clone(),
        subnets,
        nat_gateways,
        flow_log_id: kept_or_first(
            observed.flow_logs.iter().filter(|f| is(&f.tags, components::FLOW_LOG)),
            known,
            components::FLOW_LOG,
            |f| &f.id,
        )
        .map(|f| f.id.clone()),
        transit_gateway_attachment: desired.transit.as_ref().and_then(|t| {
            let a = attachment::kept(t, owner, vpc_id.as_deref(), &observed.transit_attachments)?;
            Some(TransitGatewayAttachmentStatus {
                attachment_id: a.id.clone(),
                transit_gateway_id: a.transit_gateway_id.clone(),
                state: a.state.clone(),
                route_table_id: a.association.as_ref().filter(|(_, s)| s == "associated").map(|(t, _)| t.clone()),
                propagated_to: a.propagations.iter().filter(|(_, s)| s == "enabled").map(|(t, _)| t.clone()).collect(),
            })
        }),
        subnet_groups: desired
            .subnet_groups
            .iter()
            .filter_map(|d| {
                let g = observed
                    .subnet_groups
                    .iter()
                    .find(|g| owner.owns(&g.tags) && g.service == Some(d.service) && g.name == d.name)?;
                Some(SubnetGroupStatus {
                    name: d.spec_name.clone(),
                    service: d.service,
                    group_name: g.name.clone(),
                    arn: Some(g.arn.clone()).filter(|a| !a.is_empty()),
                    subnet_ids: g.subnet_ids.iter().cloned().collect(),
                })
            })
            .collect(),
        ..Default::default()
    }
}

/// Every step of a VpcTier: its network, then its attachment to a hub. `hub` is the transit
/// gateway it attaches or attached to (its status), so teardown finds an untagged attachment.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed, hub: Option<&str>) -> Plan<Step> {
    let groups = desired.map(|d| d.subnet_groups.as_slice()).unwrap_or_default();
    let user_tags = desired.map(|d| d.user_tags.clone()).unwrap_or_default();
    let held = subnet_group::held_subnets(groups, cx.owner, &observed.subnet_groups);
    if desired.is_none() {
        // Nothing of a VpcTier is torn down while a database still runs in its subnets.
        let groups_plan = subnet_group::plan(&[], &user_tags, cx, &BTreeMap::new(), &observed.subnet_groups);
        if !groups_plan.blocked.is_empty() {
            return Plan { blocked: groups_plan.blocked, ..Plan::default() };
        }
    }
    // The subnets of a group that is to go but still has users stay, as a user's would.
    let mut in_use = cx.in_use.clone();
    for (subnet, groups) in held {
        in_use.entry(subnet).or_default().extend(groups);
    }
    let cx = &Context { in_use: &in_use, ..*cx };
    let (network, refs) = network::plan_with_refs(desired, cx, observed);
    let mut plan = network.map(Step::Network);
    let vpc = attachment::VpcRefs { vpc: refs.vpc.as_ref(), vpc_id: refs.vpc_id.as_deref(), subnets: &refs.subnets };
    let attachment = attachment::plan(
        desired.and_then(|d| d.transit.as_ref()),
        &user_tags,
        cx,
        &vpc,
        hub,
        &observed.transit_attachments,
    );
    plan.extend(attachment.map(Step::Transit));
    let groups_plan = subnet_group::plan(groups, &user_tags, cx, &refs.subnets, &observed.subnet_groups);
    plan.extend(groups_plan.map(Step::SubnetGroup));
    plan
}
