//! Transit gateway steps, and the order their resource types need.

use std::fmt;

use serde::Serialize;

use crate::owner::Tags;
use crate::plan::{Location, Ordered, Ordering, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const TRANSIT_GATEWAY: &str = "ec2/transit-gateway";
    pub const ROUTE_TABLE: &str = "ec2/transit-gateway-route-table";
    pub const PEERING: &str = "ec2/transit-gateway-peering-attachment";
    pub const PEERING_ACCEPTANCE: &str = "ec2/transit-gateway-peering-acceptance";
    pub const CUSTOMER_GATEWAY: &str = "ec2/customer-gateway";
    pub const VPN_CONNECTION: &str = "ec2/vpn-connection";
    pub const VPC_ATTACHMENT: &str = "ec2/transit-gateway-vpc-attachment";
    pub const ASSOCIATION: &str = "ec2/transit-gateway-association";
    pub const PROPAGATION: &str = "ec2/transit-gateway-propagation";
    pub const ROUTE: &str = "ec2/transit-gateway-route";
    pub const TAGS: &str = "ec2/tags";
}
use resources::*;

use crate::direct_connect::ASSOCIATION as DX_ASSOCIATION;
use crate::network::resources::SUBNET;

/// Whatever carries traffic into the hub: associations, propagations and routes need it first.
const ATTACHMENTS: &[Resource] =
    &[ROUTE_TABLE, PEERING, PEERING_ACCEPTANCE, VPN_CONNECTION, VPC_ATTACHMENT, DX_ASSOCIATION];

/// What must exist before what on a transit gateway. An attachment's association,
/// propagations and routes need the attachment and the route table; deleting the attachment
/// waits for its routes to go.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (ROUTE_TABLE, &[TRANSIT_GATEWAY]),
        (PEERING, &[TRANSIT_GATEWAY]),
        (PEERING_ACCEPTANCE, &[PEERING]),
        (VPN_CONNECTION, &[TRANSIT_GATEWAY, CUSTOMER_GATEWAY]),
        (VPC_ATTACHMENT, &[SUBNET]),
        (ASSOCIATION, ATTACHMENTS),
        (PROPAGATION, ATTACHMENTS),
        (ROUTE, ATTACHMENTS),
    ],
    delete_first: &[],
};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateTransitGateway {
        component: String,
        amazon_side_asn: u32,
        tags: Tags,
    },
    CreateRouteTable {
        component: String,
        transit_gateway: Ref,
        tags: Tags,
    },
    CreatePeering {
        component: String,
        transit_gateway: Ref,
        peer_transit_gateway_id: String,
        peer_region: String,
        peer_account_id: String,
        tags: Tags,
    },
    /// Accepted on the peer's side.
    AcceptPeering {
        attachment_id: String,
        at: Location,
    },
    CreateCustomerGateway {
        component: String,
        ip_address: String,
        bgp_asn: u32,
        tags: Tags,
    },
    CreateVpnConnection {
        component: String,
        transit_gateway: Ref,
        customer_gateway: Ref,
        static_routes_only: bool,
        tags: Tags,
    },
    /// Moves a VPN connection to another customer gateway (a new address or ASN) in place.
    ReplaceVpnCustomerGateway {
        vpn_connection_id: String,
        customer_gateway: Ref,
    },
    CreateVpcAttachment {
        component: String,
        transit_gateway_id: String,
        vpc: Ref,
        subnets: Vec<Ref>,
        tags: Tags,
    },
    ModifyVpcAttachment {
        attachment_id: String,
        add: Vec<Ref>,
        remove: Vec<String>,
    },
    Associate {
        route_table: Ref,
        attachment_id: String,
        at: Option<Location>,
    },
    Disassociate {
        route_table_id: String,
        attachment_id: String,
        at: Option<Location>,
    },
    EnablePropagation {
        route_table: Ref,
        attachment_id: String,
    },
    DisablePropagation {
        route_table_id: String,
        attachment_id: String,
    },
    CreateRoute {
        route_table: Ref,
        destination: String,
        attachment_id: String,
        at: Option<Location>,
    },
    ReplaceRoute {
        route_table_id: String,
        destination: String,
        attachment_id: String,
        at: Option<Location>,
    },
    DeleteRoute {
        route_table_id: String,
        destination: String,
        at: Option<Location>,
    },
    SetTags {
        resource_id: String,
        component: String,
        tags: Tags,
    },
    DeleteVpcAttachment {
        id: String,
    },
    DeleteVpnConnection {
        id: String,
    },
    DeleteCustomerGateway {
        id: String,
    },
    DeletePeering {
        id: String,
    },
    DeleteRouteTable {
        id: String,
    },
    DeleteTransitGateway {
        id: String,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        use Step::*;
        match self {
            CreateTransitGateway { .. } | DeleteTransitGateway { .. } => TRANSIT_GATEWAY,
            CreateRouteTable { .. } | DeleteRouteTable { .. } => ROUTE_TABLE,
            CreatePeering { .. } | DeletePeering { .. } => PEERING,
            AcceptPeering { .. } => PEERING_ACCEPTANCE,
            CreateCustomerGateway { .. } | DeleteCustomerGateway { .. } => CUSTOMER_GATEWAY,
            CreateVpnConnection { .. } | ReplaceVpnCustomerGateway { .. } | DeleteVpnConnection { .. } => {
                VPN_CONNECTION
            }
            CreateVpcAttachment { .. } | ModifyVpcAttachment { .. } | DeleteVpcAttachment { .. } => VPC_ATTACHMENT,
            Associate { .. } | Disassociate { .. } => ASSOCIATION,
            EnablePropagation { .. } | DisablePropagation { .. } => PROPAGATION,
            CreateRoute { .. } | ReplaceRoute { .. } | DeleteRoute { .. } => ROUTE,
            SetTags { .. } => TAGS,
        }
    }

    fn verb(&self) -> Verb {
        use Step::*;
        match self {
            CreateTransitGateway { .. }
            | CreateRouteTable { .. }
            | CreatePeering { .. }
            | CreateCustomerGateway { .. }
            | CreateVpnConnection { .. }
            | CreateVpcAttachment { .. }
            | Associate { .. }
            | EnablePropagation { .. }
            | CreateRoute { .. } => Verb::Create,
            AcceptPeering { .. }
            | ReplaceVpnCustomerGateway { .. }
            | ModifyVpcAttachment { .. }
            | ReplaceRoute { .. }
            | SetTags { .. } => Verb::Update,
            Disassociate { .. }
            | DisablePropagation { .. }
            | DeleteRoute { .. }
            | DeleteVpcAttachment { .. }
            | DeleteVpnConnection { .. }
            | DeleteCustomerGateway { .. }
            | DeletePeering { .. }
            | DeleteRouteTable { .. }
            | DeleteTransitGateway { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        use Step::*;
        match self {
            CreateTransitGateway { component, .. }
            | CreateRouteTable { component, .. }
            | CreatePeering { component, .. }
            | CreateCustomerGateway { component, .. }
            | CreateVpnConnection { component, .. }
            | CreateVpcAttachment { component, .. } => Some(component),
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        use Step::*;
        match self {
            CreateRouteTable { transit_gateway, .. } | CreatePeering { transit_gateway, .. } => vec![transit_gateway],
            CreateVpnConnection { transit_gateway, customer_gateway, .. } => vec![transit_gateway, customer_gateway],
            ReplaceVpnCustomerGateway { customer_gateway, .. } => vec![customer_gateway],
            CreateVpcAttachment { vpc, subnets, .. } => std::iter::once(vpc).chain(subnets).collect(),
            ModifyVpcAttachment { add, .. } => add.iter().collect(),
            Associate { route_table, .. } | EnablePropagation { route_table, .. } | CreateRoute { route_table, .. } => {
                vec![route_table]
            }
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        use Step::*;
        match self {
            CreateTransitGateway { .. } => "CreateTransitGateway",
            CreateRouteTable { .. } => "CreateTransitGatewayRouteTable",
            CreatePeering { .. } => "CreateTransitGatewayPeeringAttachment",
            AcceptPeering { .. } => "AcceptTransitGatewayPeeringAttachment",
            CreateCustomerGateway { .. } => "CreateCustomerGateway",
            CreateVpnConnection { .. } => "CreateVpnConnection",
            ReplaceVpnCustomerGateway { .. } => "ModifyVpnConnection",
            CreateVpcAttachment { .. } => "CreateTransitGatewayVpcAttachment",
            ModifyVpcAttachment { .. } => "ModifyTransitGatewayVpcAttachment",
            Associate { .. } => "AssociateTransitGatewayRouteTable",
            Disassociate { .. } => "DisassociateTransitGatewayRouteTable",
            EnablePropagation { .. } => "EnableTransitGatewayRouteTablePropagation",
            DisablePropagation { .. } => "DisableTransitGatewayRouteTablePropagation",
            CreateRoute { .. } => "CreateTransitGatewayRoute",
            ReplaceRoute { .. } => "ReplaceTransitGatewayRoute",
            DeleteRoute { .. } => "DeleteTransitGatewayRoute",
            SetTags { .. } => "SetTags",
            DeleteVpcAttachment { .. } => "DeleteTransitGatewayVpcAttachment",
            DeleteVpnConnection { .. } => "DeleteVpnConnection",
            DeleteCustomerGateway { .. } => "DeleteCustomerGateway",
            DeletePeering { .. } => "DeleteTransitGatewayPeeringAttachment",
            DeleteRouteTable { .. } => "DeleteTransitGatewayRouteTable",
            DeleteTransitGateway { .. } => "DeleteTransitGateway",
        }
    }

    fn location(&self) -> Option<&Location> {
        use Step::*;
        match self {
            AcceptPeering { at, .. } => Some(at),
            Associate { at, .. }
            | Disassociate { at, .. }
            | CreateRoute { at, .. }
            | ReplaceRoute { at, .. }
            | DeleteRoute { at, .. } => at.as_ref(),
            _ => None,
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING, crate::network::ORDERING, crate::direct_connect::ORDERING]
    }
}

/// ` in <region> [as <role>]` for a step that runs elsewhere.
fn at(location: &Option<Location>) -> String {
    location.as_ref().map(|l| format!(" in {l}")).unwrap_or_default()
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Step::*;
        match self {
            CreateTransitGateway { amazon_side_asn, .. } => write!(f, "create transit gateway (ASN {amazon_side_asn})"),
            CreateRouteTable { component, transit_gateway, .. } => {
                write!(f, "create route table {component} on {transit_gateway}")
            }
            CreatePeering {
                component, transit_gateway, peer_transit_gateway_id, peer_region, peer_account_id, ..
            } => {
                write!(
                    f,
                    "create peering {component} from {transit_gateway} to {peer_transit_gateway_id} ({peer_account_id}, {peer_region})"
                )
            }
            AcceptPeering { attachment_id, at } => write!(f, "accept peering {attachment_id} in {at}"),
            CreateCustomerGateway { component, ip_address, bgp_asn, .. } => {
                write!(f, "create customer gateway {component} {ip_address} (ASN {bgp_asn})")
            }
            CreateVpnConnection { component, transit_gateway, customer_gateway, static_routes_only, .. } => {
                let routing = if *static_routes_only { "static" } else { "BGP" };
                write!(f, "create VPN connection {component} ({routing}) from {customer_gateway} to {transit_gateway}")
            }
            ReplaceVpnCustomerGateway { vpn_connection_id, customer_gateway } => {
                write!(f, "move VPN connection {vpn_connection_id} to customer gateway {customer_gateway}")
            }
            CreateVpcAttachment { transit_gateway_id, vpc, subnets, .. } => {
                let subnets: Vec<String> = subnets.iter().map(ToString::to_string).collect();
                write!(f, "attach VPC {vpc} to {transit_gateway_id} in {}", subnets.join(","))
            }
            ModifyVpcAttachment { attachment_id, add, remove } => {
                let add: Vec<String> = add.iter().map(ToString::to_string).collect();
                write!(f, "change subnets of {attachment_id}: +[{}] -[{}]", add.join(","), remove.join(","))
            }
            Associate { route_table, attachment_id, at: l } => {
                write!(f, "associate {attachment_id} with {route_table}{}", at(l))
            }
            Disassociate { route_table_id, attachment_id, at: l } => {
                write!(f, "disassociate {attachment_id} from {route_table_id}{}", at(l))
            }
            EnablePropagation { route_table, attachment_id } => {
                write!(f, "propagate {attachment_id} to {route_table}")
            }
            DisablePropagation { route_table_id, attachment_id } => {
                write!(f, "stop propagating {attachment_id} to {route_table_id}")
            }
            CreateRoute { route_table, destination, attachment_id, at: l } => {
                write!(f, "create hub route {destination} -> {attachment_id} in {route_table}{}", at(l))
            }
            ReplaceRoute { route_table_id, destination, attachment_id, at: l } => {
                write!(f, "replace hub route {destination} -> {attachment_id} in {route_table_id}{}", at(l))
            }
            DeleteRoute { route_table_id, destination, at: l } => {
                write!(f, "delete hub route {destination} from {route_table_id}{}", at(l))
            }
            SetTags { resource_id, component, tags } => {
                write!(f, "tag {component} {resource_id} with {}", tags.keys().cloned().collect::<Vec<_>>().join(","))
            }
            DeleteVpcAttachment { id } => write!(f, "delete VPC attachment {id}"),
            DeleteVpnConnection { id } => write!(f, "delete VPN connection {id}"),
            DeleteCustomerGateway { id } => write!(f, "delete customer gateway {id}"),
            DeletePeering { id } => write!(f, "delete peering attachment {id}"),
            DeleteRouteTable { id } => write!(f, "delete hub route table {id}"),
            DeleteTransitGateway { id } => write!(f, "delete transit gateway {id}"),
        }
    }
}
