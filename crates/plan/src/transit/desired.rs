//! The hub a TransitGateway asks for, and the attachment a VpcTier asks for, with every name
//! already resolved to what AWS knows (route table components, peer IDs and regions).

use serde::Serialize;

use crate::owner::{Owner, Tags};
use crate::plan::Location;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    #[serde(skip)]
    pub owner: Owner,
    pub user_tags: Tags,
    pub amazon_side_asn: u32,
    /// Route table components, in spec order.
    pub route_tables: Vec<String>,
    pub peerings: Vec<DesiredPeering>,
    pub vpn_connections: Vec<DesiredVpn>,
    /// Direct Connect gateways associated with the hub: their attachments' route tables here;
    /// the associations themselves are planned by the Direct Connect module.
    pub direct_connect: Vec<DesiredDirectConnect>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredPeering {
    pub component: String,
    pub name: String,
    pub peer_transit_gateway_id: String,
    pub peer_region: String,
    pub peer_account_id: String,
    /// Where the peer's side is acted on: its region, through a role in another account.
    pub peer_at: Location,
    /// This hub's route table component.
    pub route_table: String,
    pub routes: Vec<String>,
    pub peer_route_table_id: Option<String>,
    pub peer_routes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredVpn {
    pub component: String,
    pub name: String,
    pub customer_gateway: String,
    pub ip_address: String,
    pub bgp_asn: u32,
    pub static_routes_only: bool,
    pub static_routes: Vec<String>,
    pub route_table: String,
    pub propagate_to: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredDirectConnect {
    pub component: String,
    pub name: String,
    pub gateway_id: String,
    pub allowed_prefixes: Vec<String>,
    pub route_table: String,
    pub propagate_to: Vec<String>,
}

/// A VpcTier's attachment to a hub, as its network planner and the attachment planner need it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredVpcAttachment {
    pub transit_gateway_id: String,
    /// Subnet components, one per zone.
    pub subnets: Vec<String>,
    /// The hub route table it is associated with.
    pub route_table_id: String,
    pub propagate_to: Vec<String>,
    /// Every hub route table the hub publishes: association and propagation are judged among these.
    pub hub_route_table_ids: Vec<String>,
    /// (VPC route table component, destination) routes to the hub.
    pub routes: Vec<(String, String)>,
}

pub mod components {
    pub const TRANSIT_GATEWAY: &str = "tgw";
    /// A VpcTier's attachment to its hub.
    pub const VPC_ATTACHMENT: &str = "tgw-attachment";
    pub fn route_table(name: &str) -> String {
        format!("tgw-rtb/{name}")
    }
    pub fn peering(name: &str) -> String {
        format!("tgw-peering/{name}")
    }
    pub fn customer_gateway(name: &str) -> String {
        format!("cgw/{name}")
    }
    pub fn vpn_connection(name: &str) -> String {
        format!("vpn/{name}")
    }
    pub fn direct_connect(name: &str) -> String {
        format!("dx/{name}")
    }
    /// The attachment AWS makes for a VPN connection, tagged by the hub.
    pub fn vpn_attachment(name: &str) -> String {
        format!("vpn-attachment/{name}")
    }
    pub fn direct_connect_attachment(name: &str) -> String {
        format!("dx-attachment/{name}")
    }
}
