//! The network a VpcTier asks for, with zones resolved and subnet blocks carved.

use ipnet::Ipv4Net;
use securecart_api::TierType;
use serde::Serialize;

use crate::owner::{Owner, Tags};

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
    /// The VPC's attachment to a hub, and the routes to it in the VPC's route tables.
    pub transit: Option<crate::transit::DesiredVpcAttachment>,
    /// RDS and ElastiCache subnet groups over the VPC's subnets.
    pub subnet_groups: Vec<crate::subnet_group::Desired>,
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
