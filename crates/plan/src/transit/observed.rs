//! What the EC2 adapter reads of transit gateways: the hub, its route tables (with their
//! associations, propagations and static routes), peering attachments, customer gateways, VPN
//! connections and the attachments AWS makes for VPNs and Direct Connect gateways; and, for a
//! VpcTier, its VPC's attachments.

use serde::Serialize;

use crate::owner::Tags;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub transit_gateways: Vec<TransitGateway>,
    pub route_tables: Vec<RouteTable>,
    pub peerings: Vec<PeeringAttachment>,
    /// Route tables on the peers' side that the spec names (or named), with where they were read.
    pub peer_route_tables: Vec<(crate::plan::Location, RouteTable)>,
    pub customer_gateways: Vec<CustomerGateway>,
    pub vpn_connections: Vec<VpnConnection>,
    /// Attachments AWS makes itself: `vpn` (per VPN connection) and `direct-connect-gateway`.
    pub attachments: Vec<Attachment>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TransitGateway {
    pub id: String,
    /// pending | available | modifying | deleting | deleted
    pub state: String,
    pub amazon_side_asn: Option<u32>,
    /// RFC 3339, as AWS reports it.
    pub created: Option<String>,
    pub tags: Tags,
}

impl TransitGateway {
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "deleting" | "deleted")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RouteTable {
    pub id: String,
    pub transit_gateway_id: String,
    /// pending | available | deleting | deleted
    pub state: String,
    pub created: Option<String>,
    pub tags: Tags,
    pub associations: Vec<Link>,
    pub propagations: Vec<Link>,
    /// Static routes (propagated ones are AWS's).
    pub routes: Vec<Route>,
}

impl RouteTable {
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "deleting" | "deleted")
    }

    /// The association or propagation of `attachment_id`, if any.
    pub fn association_of(&self, attachment_id: &str) -> Option<&Link> {
        self.associations.iter().find(|l| l.attachment_id == attachment_id)
    }

    pub fn propagation_of(&self, attachment_id: &str) -> Option<&Link> {
        self.propagations.iter().find(|l| l.attachment_id == attachment_id)
    }

    pub fn route(&self, destination: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.destination == destination)
    }
}

/// An association or a propagation of one attachment with a route table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Link {
    pub attachment_id: String,
    /// associating | associated | disassociating | disassociated; enabling | enabled | disabling | disabled
    pub state: String,
}

/// A static route: its target attachment as AWS reports it (None for a blackhole, or where the
/// answer leaves it out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Route {
    pub destination: String,
    pub attachment_id: Option<String>,
    /// active | blackhole | pending | deleting | deleted
    pub state: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PeeringAttachment {
    pub id: String,
    pub transit_gateway_id: String,
    pub peer_transit_gateway_id: String,
    pub peer_region: String,
    pub peer_account_id: String,
    /// initiating | initiatingRequest | pendingAcceptance | pending | available | modifying |
    /// deleting | deleted | failed | failing | rejecting | rejected
    pub state: String,
    pub created: Option<String>,
    pub tags: Tags,
}

impl PeeringAttachment {
    /// It exists and is, or may become, usable.
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "deleting" | "deleted" | "failed" | "failing" | "rejected" | "rejecting")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CustomerGateway {
    pub id: String,
    pub ip_address: String,
    pub bgp_asn: Option<u32>,
    /// pending | available | deleting | deleted
    pub state: String,
    pub tags: Tags,
}

impl CustomerGateway {
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "deleting" | "deleted")
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VpnConnection {
    pub id: String,
    pub customer_gateway_id: String,
    pub transit_gateway_id: Option<String>,
    /// pending | available | deleting | deleted
    pub state: String,
    /// None when the answer does not say.
    pub static_routes_only: Option<bool>,
    pub tunnels: Vec<Tunnel>,
    pub tags: Tags,
}

impl VpnConnection {
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "deleting" | "deleted")
    }

    /// Still holds its customer gateway.
    pub fn holds_customer_gateway(&self) -> bool {
        self.state != "deleted"
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tunnel {
    pub outside_ip_address: String,
    /// UP | DOWN
    pub status: String,
}

/// A transit gateway attachment as DescribeTransitGatewayAttachments reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Attachment {
    pub id: String,
    pub transit_gateway_id: String,
    /// vpc | vpn | direct-connect-gateway | peering | connect
    pub resource_type: String,
    pub resource_id: String,
    pub state: String,
    /// AWS makes these untagged; the hub tags them (so IAM can scope changes to them).
    pub tags: Tags,
}

impl Attachment {
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "deleting" | "deleted" | "failed" | "rejected")
    }
}

/// A VPC's attachment to a transit gateway, with its association and propagations among the
/// route tables that were looked at.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VpcAttachment {
    pub id: String,
    pub transit_gateway_id: String,
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    /// initiating | pendingAcceptance | pending | available | modifying | deleting | deleted |
    /// failed | rejected
    pub state: String,
    pub created: Option<String>,
    pub tags: Tags,
    /// (route table ID, state)
    pub association: Option<(String, String)>,
    pub propagations: Vec<(String, String)>,
}

impl VpcAttachment {
    pub fn is_live(&self) -> bool {
        !matches!(self.state.as_str(), "deleting" | "deleted" | "failed" | "rejected")
    }

    /// Still has network interfaces in its subnets.
    pub fn holds_subnets(&self) -> bool {
        !matches!(self.state.as_str(), "deleted" | "failed" | "rejected")
    }
}
