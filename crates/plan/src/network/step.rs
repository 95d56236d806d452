//! EC2 networking steps, and the order their resource types need.

use std::fmt;

use serde::Serialize;

use super::desired::FlowLogTarget;
use crate::owner::Tags;
use crate::plan::{Ordered, Ordering, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const VPC: &str = "ec2/vpc";
    pub const VPC_ATTRIBUTE: &str = "ec2/vpc-attribute";
    pub const SUBNET: &str = "ec2/subnet";
    pub const SUBNET_ATTRIBUTE: &str = "ec2/subnet-attribute";
    pub const INTERNET_GATEWAY: &str = "ec2/internet-gateway";
    pub const GATEWAY_ATTACHMENT: &str = "ec2/internet-gateway-attachment";
    pub const ELASTIC_IP: &str = "ec2/elastic-ip";
    pub const NAT_GATEWAY: &str = "ec2/nat-gateway";
    pub const ROUTE_TABLE: &str = "ec2/route-table";
    pub const ROUTE: &str = "ec2/route";
    pub const ASSOCIATION: &str = "ec2/route-table-association";
    pub const FLOW_LOG: &str = "ec2/flow-log";
    pub const TAGS: &str = "ec2/tags";
}
use resources::*;

/// What must exist before what, in EC2 networking. A NAT gateway maps a public address, which
/// needs the VPC's internet gateway attached; a route needs its table and its target.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (VPC_ATTRIBUTE, &[VPC]),
        (SUBNET, &[VPC]),
        (SUBNET_ATTRIBUTE, &[SUBNET]),
        (GATEWAY_ATTACHMENT, &[VPC, INTERNET_GATEWAY]),
        (NAT_GATEWAY, &[SUBNET, ELASTIC_IP, GATEWAY_ATTACHMENT]),
        (ROUTE_TABLE, &[VPC]),
        (ROUTE, &[ROUTE_TABLE, GATEWAY_ATTACHMENT, NAT_GATEWAY]),
        (ASSOCIATION, &[ROUTE_TABLE, SUBNET]),
        (FLOW_LOG, &[VPC]),
    ],
    // A flow log with other settings is replaced (AWS refuses a second one alike); a stray
    // internet gateway is detached before the kept one attaches (AWS allows one per VPC).
    delete_first: &[FLOW_LOG, GATEWAY_ATTACHMENT],
};

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

impl RouteTarget {
    fn target(&self) -> &Ref {
        match self {
            RouteTarget::InternetGateway(r) | RouteTarget::NatGateway(r) => r,
        }
    }
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        use Step::*;
        match self {
            CreateVpc { .. } | DeleteVpc { .. } => VPC,
            SetVpcAttribute { .. } => VPC_ATTRIBUTE,
            CreateSubnet { .. } | DeleteSubnet { .. } => SUBNET,
            SetSubnetPublicIpOnLaunch { .. } => SUBNET_ATTRIBUTE,
            CreateInternetGateway { .. } | DeleteInternetGateway { .. } => INTERNET_GATEWAY,
            AttachInternetGateway { .. } | DetachInternetGateway { .. } => GATEWAY_ATTACHMENT,
            AllocateAddress { .. } | ReleaseAddress { .. } => ELASTIC_IP,
            CreateNatGateway { .. } | DeleteNatGateway { .. } => NAT_GATEWAY,
            CreateRouteTable { .. } | DeleteRouteTable { .. } => ROUTE_TABLE,
            CreateRoute { .. } | ReplaceRoute { .. } | DeleteRoute { .. } => ROUTE,
            AssociateRouteTable { .. } | ReplaceRouteTableAssociation { .. } | DisassociateRouteTable { .. } => {
                ASSOCIATION
            }
            CreateFlowLog { .. } | DeleteFlowLog { .. } => FLOW_LOG,
            SetTags { .. } => TAGS,
        }
    }

    fn verb(&self) -> Verb {
        use Step::*;
        match self {
            CreateVpc { .. }
            | CreateSubnet { .. }
            | CreateInternetGateway { .. }
            | AttachInternetGateway { .. }
            | AllocateAddress { .. }
            | CreateNatGateway { .. }
            | CreateRouteTable { .. }
            | CreateRoute { .. }
            | AssociateRouteTable { .. }
            | CreateFlowLog { .. } => Verb::Create,
            SetVpcAttribute { .. }
            | SetSubnetPublicIpOnLaunch { .. }
            | ReplaceRoute { .. }
            | ReplaceRouteTableAssociation { .. }
            | SetTags { .. } => Verb::Update,
            DeleteVpc { .. }
            | DeleteSubnet { .. }
            | DeleteInternetGateway { .. }
            | DetachInternetGateway { .. }
            | ReleaseAddress { .. }
            | DeleteNatGateway { .. }
            | DeleteRouteTable { .. }
            | DeleteRoute { .. }
            | DisassociateRouteTable { .. }
            | DeleteFlowLog { .. } => Verb::Delete,
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

    fn refs(&self) -> Vec<&Ref> {
        use Step::*;
        match self {
            SetVpcAttribute { vpc, .. }
            | CreateSubnet { vpc, .. }
            | CreateRouteTable { vpc, .. }
            | CreateFlowLog { vpc, .. } => vec![vpc],
            AttachInternetGateway { internet_gateway, vpc } => vec![internet_gateway, vpc],
            SetSubnetPublicIpOnLaunch { subnet, .. } => vec![subnet],
            AssociateRouteTable { route_table, subnet } => vec![route_table, subnet],
            ReplaceRouteTableAssociation { route_table, .. } => vec![route_table],
            CreateNatGateway { subnet, address, .. } => vec![subnet, address],
            CreateRoute { route_table, target, .. } | ReplaceRoute { route_table, target, .. } => {
                vec![route_table, target.target()]
            }
            _ => Vec::new(),
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

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
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
