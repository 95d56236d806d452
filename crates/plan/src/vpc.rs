//! VpcTier: validate the spec, build the desired model, match it against what AWS has (by
//! ownership tags, in three sets: matched, desired-only, AWS-only) and plan the difference.
//! Teardown is the same planner with nothing desired.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ipnet::Ipv4Net;
use securecart_api::{
    FlowLogs, NatGatewayMode, NatGatewayStatus, SubnetStatus, TierType, TrafficType, VpcTierSpec, VpcTierStatus,
};
use serde::Serialize;

use crate::InvalidSpec;
use crate::cidr::{self, Request};
use crate::owner::{Owner, Tags, component, match_owned, missing_tags};
use crate::plan::{Plan, PlanStep, Ref};

pub const DEFAULT_ROUTE: &str = "0.0.0.0/0";
const MAX_ZONES: usize = 6;

// ---------------------------------------------------------------------------------------------
// Observed: plain data the AWS adapter fills from Describe calls filtered by the owner's tags.

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub internet_gateways: Vec<InternetGateway>,
    pub route_tables: Vec<RouteTable>,
    pub nat_gateways: Vec<NatGateway>,
    pub addresses: Vec<Address>,
    pub flow_logs: Vec<FlowLog>,
}

impl Observed {
    /// Only what carries `owner_uid`: one owner's share of a region-wide snapshot.
    pub fn owned_by(&self, owner_uid: &str) -> Observed {
        let mine = |tags: &Tags| tags.get(securecart_api::tags::OWNER_UID).is_some_and(|u| u == owner_uid);
        Observed {
            vpcs: self.vpcs.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            subnets: self.subnets.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            internet_gateways: self.internet_gateways.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            route_tables: self.route_tables.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            nat_gateways: self.nat_gateways.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            addresses: self.addresses.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            flow_logs: self.flow_logs.iter().filter(|r| mine(&r.tags)).cloned().collect(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Vpc {
    pub id: String,
    pub cidr_block: String,
    /// None when not observed (the adapter only asks for owned VPCs).
    pub dns_support: Option<bool>,
    pub dns_hostnames: Option<bool>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub cidr_block: String,
    pub zone: String,
    pub map_public_ip_on_launch: bool,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InternetGateway {
    pub id: String,
    pub attached_vpc_ids: Vec<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub routes: Vec<Route>,
    pub associations: Vec<Association>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Route {
    pub destination: String,
    pub gateway_id: Option<String>,
    pub nat_gateway_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Association {
    pub id: String,
    pub subnet_id: Option<String>,
    pub main: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NatGateway {
    pub id: String,
    pub subnet_id: String,
    /// pending | available | deleting | deleted | failed
    pub state: String,
    pub allocation_id: Option<String>,
    pub public_ip: Option<String>,
    pub tags: Tags,
}

impl NatGateway {
    /// Pending or available: it exists and counts.
    fn is_live(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "available")
    }
    /// Still holds its subnet and Elastic IP.
    fn holds_resources(&self) -> bool {
        self.is_live() || self.state == "deleting"
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Address {
    pub allocation_id: String,
    pub public_ip: Option<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlowLog {
    pub id: String,
    pub resource_id: String,
    pub traffic_type: String,
    /// s3 | cloud-watch-logs
    pub destination_type: String,
    pub destination: Option<String>,
    pub log_group: Option<String>,
    pub role_arn: Option<String>,
    pub tags: Tags,
}

// ---------------------------------------------------------------------------------------------
// Desired: what the spec asks for, with zones resolved and subnet CIDRs carved.

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub user_tags: Tags,
    pub cidr_block: Ipv4Net,
    pub zones: Vec<String>,
    pub subnets: Vec<DesiredSubnet>,
    pub route_tables: Vec<DesiredRouteTable>,
    pub internet_gateway: bool,
    pub nat_gateways: Vec<DesiredNat>,
    pub flow_log: Option<DesiredFlowLog>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredSubnet {
    pub component: String,
    pub tier: String,
    pub tier_type: TierType,
    pub zone: String,
    pub cidr_block: Ipv4Net,
    pub route_table: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredRouteTable {
    pub component: String,
    pub default_route: Option<DefaultRoute>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DefaultRoute {
    InternetGateway,
    /// The NAT gateway's component.
    NatGateway(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredNat {
    pub component: String,
    pub zone: String,
    pub subnet: String,
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DesiredFlowLog {
    pub traffic_type: String,
    pub destination: FlowLogTarget,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum FlowLogTarget {
    S3 { bucket_arn: String },
    CloudWatchLogs { log_group: String, role_arn: String },
}

pub mod components {
    pub const VPC: &str = "vpc";
    pub const INTERNET_GATEWAY: &str = "igw";
    pub const FLOW_LOG: &str = "flowlog";
    pub const PUBLIC_ROUTE_TABLE: &str = "rtb/public";
    pub const ISOLATED_ROUTE_TABLE: &str = "rtb/isolated";
    pub fn subnet(tier: &str, zone: &str) -> String {
        format!("subnet/{tier}/{zone}")
    }
    pub fn private_route_table(zone: Option<&str>) -> String {
        zone.map_or_else(|| "rtb/private".to_string(), |z| format!("rtb/private/{z}"))
    }
    pub fn nat_gateway(zone: &str) -> String {
        format!("nat/{zone}")
    }
    pub fn address(zone: &str) -> String {
        format!("eip/{zone}")
    }
}

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

/// The zones to use, checked against the region's available zones (sorted by name).
pub fn resolve_zones(spec: &VpcTierSpec, available: &[String]) -> Result<Vec<String>, InvalidSpec> {
    let mut sorted = available.to_vec();
    sorted.sort();
    if let Some(names) = &spec.availability_zone_names {
        for (i, z) in names.iter().enumerate() {
            if !sorted.contains(z) {
                return Err(InvalidSpec(format!(
                    "spec.availabilityZoneNames[{i}]: {z} is not an available zone of {} ({})",
                    spec.region,
                    sorted.join(", ")
                )));
            }
        }
        return Ok(names.clone());
    }
    let n = spec.availability_zones.unwrap_or(0) as usize;
    if n > sorted.len() {
        return Err(InvalidSpec(format!(
            "spec.availabilityZones: {n} zones requested but {} has {} ({})",
            spec.region,
            sorted.len(),
            sorted.join(", ")
        )));
    }
    Ok(sorted[..n].to_vec())
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
// Steps, in dependency order: creates in low phases, deletes in high phases, reverse order.

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    DeleteFlowLog { id: String },
    CreateVpc { component: String, cidr_block: String, tags: Tags },
    CreateInternetGateway { component: String, tags: Tags },
    AllocateAddress { component: String, tags: Tags },
    SetTags { resource_id: String, component: String, tags: Tags },
    SetVpcAttribute { vpc: Ref, attribute: VpcAttribute, value: bool },
    CreateSubnet { component: String, vpc: Ref, cidr_block: String, zone: String, tags: Tags },
    CreateRouteTable { component: String, vpc: Ref, tags: Tags },
    AttachInternetGateway { internet_gateway: Ref, vpc: Ref },
    CreateFlowLog { component: String, vpc: Ref, traffic_type: String, destination: FlowLogTarget, tags: Tags },
    SetSubnetPublicIpOnLaunch { subnet: Ref, value: bool },
    AssociateRouteTable { route_table: Ref, subnet: Ref },
    ReplaceRouteTableAssociation { association_id: String, route_table: Ref },
    CreateNatGateway { component: String, subnet: Ref, address: Ref, tags: Tags },
    CreateRoute { route_table: Ref, destination: String, target: RouteTarget },
    ReplaceRoute { route_table: Ref, destination: String, target: RouteTarget },
    DeleteRoute { route_table_id: String, destination: String },
    DisassociateRouteTable { association_id: String },
    DeleteNatGateway { id: String },
    ReleaseAddress { allocation_id: String },
    DeleteSubnet { id: String },
    DetachInternetGateway { id: String, vpc_id: String },
    DeleteRouteTable { id: String },
    DeleteInternetGateway { id: String },
    DeleteVpc { id: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum VpcAttribute {
    EnableDnsSupport,
    EnableDnsHostnames,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum RouteTarget {
    InternetGateway(Ref),
    NatGateway(Ref),
}

impl PlanStep for Step {
    fn phase(&self) -> u8 {
        use Step::*;
        match self {
            DeleteFlowLog { .. }
            | CreateVpc { .. }
            | CreateInternetGateway { .. }
            | AllocateAddress { .. }
            | SetTags { .. } => 1,
            SetVpcAttribute { .. }
            | CreateSubnet { .. }
            | CreateRouteTable { .. }
            | AttachInternetGateway { .. }
            | CreateFlowLog { .. } => 2,
            SetSubnetPublicIpOnLaunch { .. }
            | AssociateRouteTable { .. }
            | ReplaceRouteTableAssociation { .. }
            | CreateNatGateway { .. }
            | CreateRoute { .. }
            | ReplaceRoute { .. } => 3,
            DeleteRoute { .. } | DisassociateRouteTable { .. } => 4,
            DeleteNatGateway { .. } => 5,
            ReleaseAddress { .. } | DeleteSubnet { .. } | DetachInternetGateway { .. } => 6,
            DeleteRouteTable { .. } | DeleteInternetGateway { .. } => 7,
            DeleteVpc { .. } => 8,
        }
    }

    fn creates(&self) -> Option<&str> {
        use Step::*;
        match self {
            CreateVpc { component, .. }
            | CreateInternetGateway { component, .. }
            | AllocateAddress { component, .. }
            | CreateSubnet { component, .. }
            | CreateRouteTable { component, .. }
            | CreateFlowLog { component, .. }
            | CreateNatGateway { component, .. } => Some(component),
            _ => None,
        }
    }

    fn action(&self) -> &'static str {
        use Step::*;
        match self {
            DeleteFlowLog { .. } => "DeleteFlowLog",
            CreateVpc { .. } => "CreateVpc",
            CreateInternetGateway { .. } => "CreateInternetGateway",
            AllocateAddress { .. } => "AllocateAddress",
            SetTags { .. } => "SetTags",
            SetVpcAttribute { .. } => "SetVpcAttribute",
            CreateSubnet { .. } => "CreateSubnet",
            CreateRouteTable { .. } => "CreateRouteTable",
            AttachInternetGateway { .. } => "AttachInternetGateway",
            CreateFlowLog { .. } => "CreateFlowLog",
            SetSubnetPublicIpOnLaunch { .. } => "SetSubnetAttribute",
            AssociateRouteTable { .. } => "AssociateRouteTable",
            ReplaceRouteTableAssociation { .. } => "ReplaceRouteTableAssociation",
            CreateNatGateway { .. } => "CreateNatGateway",
            CreateRoute { .. } => "CreateRoute",
            ReplaceRoute { .. } => "ReplaceRoute",
            DeleteRoute { .. } => "DeleteRoute",
            DisassociateRouteTable { .. } => "DisassociateRouteTable",
            DeleteNatGateway { .. } => "DeleteNatGateway",
            ReleaseAddress { .. } => "ReleaseAddress",
            DeleteSubnet { .. } => "DeleteSubnet",
            DetachInternetGateway { .. } => "DetachInternetGateway",
            DeleteRouteTable { .. } => "DeleteRouteTable",
            DeleteInternetGateway { .. } => "DeleteInternetGateway",
            DeleteVpc { .. } => "DeleteVpc",
        }
    }
}

impl fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteTarget::InternetGateway(r) => write!(f, "internet gateway {r}"),
            RouteTarget::NatGateway(r) => write!(f, "NAT gateway {r}"),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Step::*;
        match self {
            DeleteFlowLog { id } => write!(f, "delete flow log {id}"),
            CreateVpc { cidr_block, .. } => write!(f, "create VPC {cidr_block}"),
            CreateInternetGateway { .. } => write!(f, "create internet gateway"),
            AllocateAddress { component, .. } => write!(f, "allocate Elastic IP {component}"),
            SetTags { resource_id, component, tags } => {
                write!(f, "tag {component} {resource_id} with {}", tags.keys().cloned().collect::<Vec<_>>().join(","))
            }
            SetVpcAttribute { vpc, attribute, value } => write!(f, "set {attribute:?}={value} on VPC {vpc}"),
            CreateSubnet { component, cidr_block, zone, vpc, .. } => {
                write!(f, "create subnet {component} {cidr_block} in {zone} of VPC {vpc}")
            }
            CreateRouteTable { component, vpc, .. } => write!(f, "create route table {component} in VPC {vpc}"),
            AttachInternetGateway { internet_gateway, vpc } => {
                write!(f, "attach internet gateway {internet_gateway} to VPC {vpc}")
            }
            CreateFlowLog { traffic_type, destination, .. } => {
                write!(f, "create flow log {traffic_type} to {destination:?}")
            }
            SetSubnetPublicIpOnLaunch { subnet, value } => {
                write!(f, "set MapPublicIpOnLaunch={value} on subnet {subnet}")
            }
            AssociateRouteTable { route_table, subnet } => {
                write!(f, "associate subnet {subnet} with route table {route_table}")
            }
            ReplaceRouteTableAssociation { association_id, route_table } => {
                write!(f, "move association {association_id} to route table {route_table}")
            }
            CreateNatGateway { component, subnet, address, .. } => {
                write!(f, "create NAT gateway {component} in subnet {subnet} with {address}")
            }
            CreateRoute { route_table, destination, target } => {
                write!(f, "create route {destination} -> {target} in {route_table}")
            }
            ReplaceRoute { route_table, destination, target } => {
                write!(f, "replace route {destination} -> {target} in {route_table}")
            }
            DeleteRoute { route_table_id, destination } => {
                write!(f, "delete route {destination} from {route_table_id}")
            }
            DisassociateRouteTable { association_id } => write!(f, "disassociate {association_id}"),
            DeleteNatGateway { id } => write!(f, "delete NAT gateway {id}"),
            ReleaseAddress { allocation_id } => write!(f, "release Elastic IP {allocation_id}"),
            DeleteSubnet { id } => write!(f, "delete subnet {id}"),
            DetachInternetGateway { id, vpc_id } => write!(f, "detach internet gateway {id} from {vpc_id}"),
            DeleteRouteTable { id } => write!(f, "delete route table {id}"),
            DeleteInternetGateway { id } => write!(f, "delete internet gateway {id}"),
            DeleteVpc { id } => write!(f, "delete VPC {id}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Matching and planning.

struct Planner<'a> {
    owner: &'a Owner,
    user_tags: Tags,
    plan: Plan<Step>,
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
    /// Rewrites tags that are missing or changed on an existing resource.
    fn check_tags(&mut self, component: &str, id: &str, actual: &Tags) {
        let missing = missing_tags(&self.tags(component), actual);
        if !missing.is_empty() {
            self.push(Step::SetTags { resource_id: id.into(), component: component.into(), tags: missing });
        }
    }
}

/// The steps that take `observed` to `desired`; with `desired = None`, the teardown.
pub fn plan(desired: Option<&Desired>, owner: &Owner, observed: &Observed) -> Plan<Step> {
    let mut p =
        Planner { owner, user_tags: desired.map(|d| d.user_tags.clone()).unwrap_or_default(), plan: Plan::default() };
    let set = |f: &dyn Fn(&Desired) -> Vec<String>| {
        desired.map(f).map(|v| v.into_iter().collect::<BTreeSet<_>>()).unwrap_or_default()
    };
    let want_subnets: BTreeMap<String, &DesiredSubnet> =
        desired.map(|d| d.subnets.iter().map(|s| (s.component.clone(), s)).collect()).unwrap_or_default();
    let want_tables = set(&|d| d.route_tables.iter().map(|t| t.component.clone()).collect());
    let want_nats = set(&|d| d.nat_gateways.iter().map(|n| n.component.clone()).collect());
    let want_addresses = set(&|d| d.nat_gateways.iter().map(|n| n.address.clone()).collect());
    let want_vpc = desired.is_some();

    // VPC
    let vpcs = match_owned(
        &observed.vpcs,
        owner,
        |v| &v.tags,
        |v| &v.id,
        |c, v| want_vpc && c == components::VPC && desired.is_some_and(|d| v.cidr_block == d.cidr_block.to_string()),
    );
    let vpc = vpcs.kept.get(components::VPC).copied();
    let vpc_ref = match (desired, vpc) {
        (Some(_), Some(v)) => {
            p.check_tags(components::VPC, &v.id, &v.tags);
            for (attribute, actual) in
                [(VpcAttribute::EnableDnsSupport, v.dns_support), (VpcAttribute::EnableDnsHostnames, v.dns_hostnames)]
            {
                if actual == Some(false) {
                    p.push(Step::SetVpcAttribute { vpc: Ref::Id(v.id.clone()), attribute, value: true });
                }
            }
            Some(Ref::Id(v.id.clone()))
        }
        (Some(d), None) => {
            p.push(Step::CreateVpc {
                component: components::VPC.into(),
                cidr_block: d.cidr_block.to_string(),
                tags: p.tags(components::VPC),
            });
            // New VPCs have DNS support on and DNS hostnames off.
            let vpc = Ref::Created(components::VPC.into());
            p.push(Step::SetVpcAttribute {
                vpc: vpc.clone(),
                attribute: VpcAttribute::EnableDnsHostnames,
                value: true,
            });
            Some(vpc)
        }
        (None, _) => None,
    };
    let in_vpc = |vpc_id: &str| vpc.is_some_and(|v| v.id == vpc_id);

    // Subnets
    let subnets = match_owned(
        &observed.subnets,
        owner,
        |s| &s.tags,
        |s| &s.id,
        |c, s| {
            in_vpc(&s.vpc_id)
                && want_subnets.get(c).is_some_and(|d| d.cidr_block.to_string() == s.cidr_block && d.zone == s.zone)
        },
    );
    let mut subnet_refs: BTreeMap<String, Ref> = BTreeMap::new();
    if let Some(vpc_ref) = &vpc_ref {
        for d in want_subnets.values() {
            let public = d.tier_type == TierType::Public;
            let subnet_ref = match subnets.kept.get(&d.component) {
                Some(s) => {
                    p.check_tags(&d.component, &s.id, &s.tags);
                    if s.map_public_ip_on_launch != public {
                        p.push(Step::SetSubnetPublicIpOnLaunch { subnet: Ref::Id(s.id.clone()), value: public });
                    }
                    Ref::Id(s.id.clone())
                }
                None => {
                    p.push(Step::CreateSubnet {
                        component: d.component.clone(),
                        vpc: vpc_ref.clone(),
                        cidr_block: d.cidr_block.to_string(),
                        zone: d.zone.clone(),
                        tags: p.tags(&d.component),
                    });
                    let r = Ref::Created(d.component.clone());
                    if public {
                        p.push(Step::SetSubnetPublicIpOnLaunch { subnet: r.clone(), value: true });
                    }
                    r
                }
            };
            subnet_refs.insert(d.component.clone(), subnet_ref);
        }
    }

    // Internet gateway
    let igws = match_owned(
        &observed.internet_gateways,
        owner,
        |g| &g.tags,
        |g| &g.id,
        |c, _| c == components::INTERNET_GATEWAY && desired.is_some_and(|d| d.internet_gateway),
    );
    let igw_ref = match (desired.filter(|d| d.internet_gateway), &vpc_ref) {
        (Some(_), Some(vpc_ref)) => Some(match igws.kept.get(components::INTERNET_GATEWAY) {
            Some(g) => {
                p.check_tags(components::INTERNET_GATEWAY, &g.id, &g.tags);
                let attached = vpc.is_some_and(|v| g.attached_vpc_ids.contains(&v.id));
                if !attached {
                    p.push(Step::AttachInternetGateway {
                        internet_gateway: Ref::Id(g.id.clone()),
                        vpc: vpc_ref.clone(),
                    });
                }
                Ref::Id(g.id.clone())
            }
            None => {
                let c = components::INTERNET_GATEWAY;
                p.push(Step::CreateInternetGateway { component: c.into(), tags: p.tags(c) });
                let r = Ref::Created(c.into());
                p.push(Step::AttachInternetGateway { internet_gateway: r.clone(), vpc: vpc_ref.clone() });
                r
            }
        }),
        _ => None,
    };

    // Elastic IPs and NAT gateways
    let addresses =
        match_owned(&observed.addresses, owner, |a| &a.tags, |a| &a.allocation_id, |c, _| want_addresses.contains(c));
    let live_nats: Vec<NatGateway> = observed.nat_gateways.iter().filter(|n| n.is_live()).cloned().collect();
    let nats = match_owned(
        &live_nats,
        owner,
        |n| &n.tags,
        |n| &n.id,
        |c, n| {
            want_nats.contains(c)
                && desired.is_some_and(|d| {
                    d.nat_gateways.iter().any(|dn| {
                        dn.component == c && subnet_refs.get(&dn.subnet).and_then(Ref::id) == Some(n.subnet_id.as_str())
                    })
                })
        },
    );
    let mut nat_ids: BTreeMap<String, String> = BTreeMap::new();
    for d in desired.map(|d| d.nat_gateways.as_slice()).unwrap_or_default() {
        let address_ref = match addresses.kept.get(&d.address) {
            Some(a) => {
                p.check_tags(&d.address, &a.allocation_id, &a.tags);
                Ref::Id(a.allocation_id.clone())
            }
            None => {
                p.push(Step::AllocateAddress { component: d.address.clone(), tags: p.tags(&d.address) });
                Ref::Created(d.address.clone())
            }
        };
        match nats.kept.get(&d.component) {
            Some(n) => {
                p.check_tags(&d.component, &n.id, &n.tags);
                if n.state == "available" {
                    nat_ids.insert(d.component.clone(), n.id.clone());
                } else {
                    p.wait(format!("NAT gateway {} ({}) to become available", n.id, d.zone));
                }
            }
            None => {
                if let Some(subnet) = subnet_refs.get(&d.subnet) {
                    p.push(Step::CreateNatGateway {
                        component: d.component.clone(),
                        subnet: subnet.clone(),
                        address: address_ref,
                        tags: p.tags(&d.component),
                    });
                    p.wait(format!("NAT gateway {} to become available", d.component));
                }
            }
        }
    }

    // Route tables, default routes and associations
    let tables = match_owned(
        &observed.route_tables,
        owner,
        |t| &t.tags,
        |t| &t.id,
        |c, t| want_tables.contains(c) && in_vpc(&t.vpc_id),
    );
    let mut table_refs: BTreeMap<String, Ref> = BTreeMap::new();
    if let (Some(d), Some(vpc_ref)) = (desired, &vpc_ref) {
        for want in &d.route_tables {
            let observed_table = tables.kept.get(&want.component).copied();
            let table_ref = match observed_table {
                Some(t) => {
                    p.check_tags(&want.component, &t.id, &t.tags);
                    Ref::Id(t.id.clone())
                }
                None => {
                    p.push(Step::CreateRouteTable {
                        component: want.component.clone(),
                        vpc: vpc_ref.clone(),
                        tags: p.tags(&want.component),
                    });
                    Ref::Created(want.component.clone())
                }
            };
            let current = observed_table.and_then(|t| t.routes.iter().find(|r| r.destination == DEFAULT_ROUTE));
            let target = match &want.default_route {
                None => None,
                Some(DefaultRoute::InternetGateway) => igw_ref.clone().map(RouteTarget::InternetGateway),
                Some(DefaultRoute::NatGateway(nat)) => {
                    nat_ids.get(nat).map(|id| RouteTarget::NatGateway(Ref::Id(id.clone())))
                }
            };
            match (target, current) {
                (Some(target), None) => p.push(Step::CreateRoute {
                    route_table: table_ref.clone(),
                    destination: DEFAULT_ROUTE.into(),
                    target,
                }),
                (Some(target), Some(route)) => {
                    let matches = match &target {
                        RouteTarget::InternetGateway(r) => r.id().is_some() && route.gateway_id.as_deref() == r.id(),
                        RouteTarget::NatGateway(r) => route.nat_gateway_id.as_deref() == r.id(),
                    };
                    if !matches {
                        p.push(Step::ReplaceRoute {
                            route_table: table_ref.clone(),
                            destination: DEFAULT_ROUTE.into(),
                            target,
                        });
                    }
                }
                // A NAT gateway still pending: its route comes on a later pass.
                (None, Some(_)) if want.default_route.is_some() => {}
                (None, Some(_)) => {
                    if let Some(t) = observed_table {
                        p.push(Step::DeleteRoute { route_table_id: t.id.clone(), destination: DEFAULT_ROUTE.into() });
                    }
                }
                (None, None) => {}
            }
            table_refs.insert(want.component.clone(), table_ref);
        }
    }
    let owned_tables: Vec<&RouteTable> = tables.kept.values().copied().chain(tables.unwanted.iter().copied()).collect();
    let mut moved_associations = BTreeSet::new();
    for d in want_subnets.values() {
        let (Some(subnet_ref), Some(table_ref)) = (subnet_refs.get(&d.component), table_refs.get(&d.route_table))
        else {
            continue;
        };
        let current = subnet_ref.id().and_then(|sid| {
            owned_tables
                .iter()
                .find_map(|t| t.associations.iter().find(|a| a.subnet_id.as_deref() == Some(sid)).map(|a| (*t, a)))
        });
        match current {
            Some((t, _)) if Some(t.id.as_str()) == table_ref.id() => {}
            Some((_, a)) => {
                moved_associations.insert(a.id.clone());
                p.push(Step::ReplaceRouteTableAssociation {
                    association_id: a.id.clone(),
                    route_table: table_ref.clone(),
                });
            }
            None => p.push(Step::AssociateRouteTable { route_table: table_ref.clone(), subnet: subnet_ref.clone() }),
        }
    }

    // Flow log
    let vpc_id = vpc.map(|v| v.id.as_str());
    let flow_logs = match_owned(
        &observed.flow_logs,
        owner,
        |f| &f.tags,
        |f| &f.id,
        |c, f| {
            c == components::FLOW_LOG
                && Some(f.resource_id.as_str()) == vpc_id
                && desired.and_then(|d| d.flow_log.as_ref()).is_some_and(|want| flow_log_matches(want, f))
        },
    );
    if let (Some(want), Some(vpc_ref)) = (desired.and_then(|d| d.flow_log.as_ref()), &vpc_ref) {
        match flow_logs.kept.get(components::FLOW_LOG) {
            Some(f) => p.check_tags(components::FLOW_LOG, &f.id, &f.tags),
            None => p.push(Step::CreateFlowLog {
                component: components::FLOW_LOG.into(),
                vpc: vpc_ref.clone(),
                traffic_type: want.traffic_type.clone(),
                destination: want.destination.clone(),
                tags: p.tags(components::FLOW_LOG),
            }),
        }
    }

    // AWS-only: deleted last, in reverse dependency order (the phases order them).
    for f in &flow_logs.unwanted {
        p.push(Step::DeleteFlowLog { id: f.id.clone() });
    }
    for t in &tables.unwanted {
        for a in t.associations.iter().filter(|a| !a.main && !moved_associations.contains(&a.id)) {
            p.push(Step::DisassociateRouteTable { association_id: a.id.clone() });
        }
        p.push(Step::DeleteRouteTable { id: t.id.clone() });
    }
    for n in &nats.unwanted {
        p.push(Step::DeleteNatGateway { id: n.id.clone() });
    }
    let owned_nats: Vec<&NatGateway> =
        observed.nat_gateways.iter().filter(|n| owner.owns(&n.tags) && n.holds_resources()).collect();
    for a in &addresses.unwanted {
        match owned_nats.iter().find(|n| n.allocation_id.as_deref() == Some(a.allocation_id.as_str())) {
            Some(n) => p.wait(format!("NAT gateway {} to release Elastic IP {}", n.id, a.allocation_id)),
            None => p.push(Step::ReleaseAddress { allocation_id: a.allocation_id.clone() }),
        }
    }
    for s in &subnets.unwanted {
        match owned_nats.iter().find(|n| n.subnet_id == s.id) {
            Some(n) => p.wait(format!("NAT gateway {} to leave subnet {}", n.id, s.id)),
            None => p.push(Step::DeleteSubnet { id: s.id.clone() }),
        }
    }
    for g in &igws.unwanted {
        // EC2 refuses to detach a gateway while NAT gateways in the VPC still map public addresses.
        let in_attached_vpc = |n: &&&NatGateway| {
            observed.subnets.iter().any(|s| s.id == n.subnet_id && g.attached_vpc_ids.contains(&s.vpc_id))
        };
        if let Some(n) = owned_nats.iter().find(in_attached_vpc) {
            p.wait(format!(
                "NAT gateway {} to release its public address before internet gateway {} is detached",
                n.id, g.id
            ));
            continue;
        }
        for v in &g.attached_vpc_ids {
            p.push(Step::DetachInternetGateway { id: g.id.clone(), vpc_id: v.clone() });
        }
        p.push(Step::DeleteInternetGateway { id: g.id.clone() });
    }
    // A VPC goes last, and only once nothing it holds is still waiting to go.
    if !vpcs.unwanted.is_empty() {
        if p.plan.waiting.is_empty() {
            for v in &vpcs.unwanted {
                p.push(Step::DeleteVpc { id: v.id.clone() });
            }
        } else {
            p.wait("VPC deletion waits for its subnets and Elastic IPs".into());
        }
    }
    p.plan
}

fn flow_log_matches(want: &DesiredFlowLog, f: &FlowLog) -> bool {
    if f.traffic_type != want.traffic_type {
        return false;
    }
    match &want.destination {
        FlowLogTarget::S3 { bucket_arn } => {
            f.destination_type == "s3"
                && f.destination.as_deref().map(|d| d.trim_end_matches('/')) == Some(bucket_arn.trim_end_matches('/'))
        }
        FlowLogTarget::CloudWatchLogs { log_group, role_arn } => {
            f.destination_type == "cloud-watch-logs"
                && f.log_group.as_deref() == Some(log_group)
                && f.role_arn.as_deref() == Some(role_arn)
        }
    }
}

/// True when `observed` still holds anything this owner owns (teardown is done when false).
pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    observed.vpcs.iter().any(|r| owner.owns(&r.tags))
        || observed.subnets.iter().any(|r| owner.owns(&r.tags))
        || observed.internet_gateways.iter().any(|r| owner.owns(&r.tags))
        || observed.route_tables.iter().any(|r| owner.owns(&r.tags))
        || observed.nat_gateways.iter().any(|r| owner.owns(&r.tags) && r.holds_resources())
        || observed.addresses.iter().any(|r| owner.owns(&r.tags))
        || observed.flow_logs.iter().any(|r| owner.owns(&r.tags))
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
