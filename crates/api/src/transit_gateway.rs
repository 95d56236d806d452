//! `TransitGateway`: a Transit Gateway hub with its route tables, peerings to other hubs,
//! Site-to-Site VPN connections and Direct Connect gateway associations. VPCs attach from their
//! VpcTier (`spec.transitGateway`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{DeletionPolicy, LocalObjectRef};

/// AWS's default Amazon side ASN.
pub const DEFAULT_AMAZON_SIDE_ASN: u32 = 64512;
/// AWS's default customer gateway ASN.
pub const DEFAULT_CUSTOMER_GATEWAY_ASN: u32 = 65000;

fn default_amazon_side_asn() -> u32 {
    DEFAULT_AMAZON_SIDE_ASN
}

fn default_customer_gateway_asn() -> u32 {
    DEFAULT_CUSTOMER_GATEWAY_ASN
}

/// A Transit Gateway hub: its own route tables (the default association and propagation tables
/// are off), peerings with other hubs, VPN connections and Direct Connect gateway associations.
// Several printer columns share `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "net.securecart.io",
    version = "v1alpha1",
    kind = "TransitGateway",
    namespaced,
    status = "TransitGatewayStatus",
    shortname = "tgw",
    category = "securecart",
    doc = "A Transit Gateway hub with its route tables, peering attachments to other hubs (static routes), Site-to-Site VPN connections with their customer gateways, and Direct Connect gateway associations. VpcTiers attach to it with spec.transitGateway.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Transit Gateway ID", type_ = "string", json_path = ".status.transitGatewayId"),
    printcolumn(name = "Region", type_ = "string", json_path = ".spec.region"),
    printcolumn(name = "ASN", type_ = "integer", json_path = ".spec.amazonSideAsn"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(!has(self.peerings) || self.peerings.all(p, has(self.routeTables) && self.routeTables.exists(t, t.name == p.routeTable))) && (!has(self.vpnConnections) || self.vpnConnections.all(v, has(self.routeTables) && self.routeTables.exists(t, t.name == v.routeTable))) && (!has(self.directConnectGateways) || self.directConnectGateways.all(d, has(self.routeTables) && self.routeTables.exists(t, t.name == d.routeTable)))").message("spec: the routeTable of every peering, VPN connection and Direct Connect gateway must be one of spec.routeTables"))]
pub struct TransitGatewaySpec {
    /// The AWS region, e.g. `us-east-1`. Immutable.
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.region is immutable"))]
    pub region: String,

    /// The Amazon side BGP ASN: 64512-65534 or 4200000000-4294967294 (default 64512). Immutable.
    #[serde(default = "default_amazon_side_asn")]
    #[x_kube(
        validation = Rule::new("(self >= 64512 && self <= 65534) || (self >= 4200000000 && self <= 4294967294)").message("spec.amazonSideAsn must be within 64512-65534 or 4200000000-4294967294"),
        validation = Rule::new("self == oldSelf").message("spec.amazonSideAsn is immutable")
    )]
    pub amazon_side_asn: u32,

    /// The hub's route tables. Attachments are associated with and propagate to these by name;
    /// AWS's default association and propagation route tables are turned off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(validation = Rule::new("self.all(t, self.exists_one(u, u.name == t.name))").message("spec.routeTables: names must be unique"))]
    pub route_tables: Vec<RouteTableSpec>,

    /// Peering attachments to other transit gateways (static routes only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    #[x_kube(validation = Rule::new("self.all(p, self.exists_one(q, q.name == p.name))").message("spec.peerings: names must be unique"))]
    pub peerings: Vec<PeeringSpec>,

    /// Site-to-Site VPN connections attached to the hub.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    #[x_kube(validation = Rule::new("self.all(v, self.exists_one(w, w.name == v.name))").message("spec.vpnConnections: names must be unique"))]
    pub vpn_connections: Vec<VpnConnectionSpec>,

    /// Associations of existing Direct Connect gateways with the hub.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    #[x_kube(validation = Rule::new("self.all(d, self.exists_one(e, e.name == d.name))").message("spec.directConnectGateways: names must be unique"))]
    pub direct_connect_gateways: Vec<DirectConnectGatewaySpec>,

    /// Tags added to every AWS resource, besides the ownership tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('aws:') && !k.startsWith('net.securecart.io/') && k.size() <= 128)").message("spec.tags: keys must not start with aws: or net.securecart.io/ and are at most 128 characters"))]
    pub tags: BTreeMap<String, String>,

    /// Delete (default) or Retain the AWS resources when the object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// A name for an AWS resource in component keys and Name tags.
pub type PartName = String;

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RouteTableSpec {
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: PartName,
}

/// A peering attachment to another transit gateway. This hub requests it and accepts it on the
/// peer's side (in the peer's region, through `roleArn` in another account).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.peerRoutes) || size(self.peerRoutes) == 0 || has(self.peerRouteTable)").message("peerRoutes need peerRouteTable"))]
pub struct PeeringSpec {
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: PartName,
    pub peer: PeerSpec,
    /// This hub's route table the attachment is associated with and holds `routes`.
    #[schemars(length(min = 1, max = 32))]
    pub route_table: PartName,
    /// Static routes in `routeTable` to the peer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), inner(length(max = 18)))]
    #[x_kube(validation = Rule::new("self.all(c, isCIDR(c))").message("routes must be CIDR blocks"))]
    pub routes: Vec<String>,
    /// The peer's route table the attachment is associated with on the peer's side and that
    /// holds `peerRoutes`: a route table name of the referenced TransitGateway, or a route
    /// table ID (`tgw-rtb-...`) of an external peer. Omitted: nothing is done on the peer's side
    /// but the acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub peer_route_table: Option<String>,
    /// Static routes in the peer's route table back to this hub.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), inner(length(max = 18)))]
    #[x_kube(validation = Rule::new("self.all(c, isCIDR(c))").message("peerRoutes must be CIDR blocks"))]
    pub peer_routes: Vec<String>,
}

/// The peer: a TransitGateway in the same namespace, or a transit gateway by ID.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.transitGatewayRef) != has(self.transitGatewayId)").message("peer: set exactly one of transitGatewayRef and transitGatewayId"))]
#[x_kube(validation = Rule::new("!has(self.transitGatewayId) || (has(self.region) && has(self.accountId))").message("peer: transitGatewayId needs region and accountId"))]
#[x_kube(validation = Rule::new("!has(self.transitGatewayRef) || (!has(self.region) && !has(self.accountId) && !has(self.roleArn))").message("peer: region, accountId and roleArn come from the referenced TransitGateway"))]
#[x_kube(validation = Rule::new("!has(self.roleArn) || !has(self.accountId) || self.roleArn.split(':')[4] == self.accountId").message("peer.roleArn must be a role of peer.accountId"))]
pub struct PeerSpec {
    /// A TransitGateway in the same namespace; it cannot be deleted while this peering exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_gateway_ref: Option<LocalObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^tgw-[0-9a-f]{8,17}$"))]
    pub transit_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account_id: Option<String>,
    /// A role in the peer's account the controller assumes to accept the attachment and manage
    /// the peer's side; required when the account is not the controller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub role_arn: Option<String>,
}

/// A Site-to-Site VPN connection on the hub, with its customer gateway.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VpnConnectionSpec {
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: PartName,
    pub customer_gateway: CustomerGatewaySpec,
    /// Static routing: these networks behind the customer gateway, as static routes in
    /// `routeTable`. Omitted: BGP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 50), inner(length(max = 18)))]
    #[x_kube(validation = Rule::new("self.all(c, isCIDR(c))").message("staticRoutes must be CIDR blocks"))]
    pub static_routes: Option<Vec<String>>,
    /// The hub route table the VPN attachment is associated with.
    #[schemars(length(min = 1, max = 32))]
    pub route_table: PartName,
    /// Route tables the VPN attachment propagates (BGP-learned) routes to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(length(max = 32)))]
    pub propagate_to: Vec<PartName>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGatewaySpec {
    /// The public IPv4 address of the office's VPN device.
    #[x_kube(validation = Rule::new("isIP(self) && ip(self).family() == 4").message("customerGateway.ipAddress must be an IPv4 address"))]
    #[schemars(length(max = 15))]
    pub ip_address: String,
    /// The device's BGP ASN (default 65000).
    #[serde(default = "default_customer_gateway_asn")]
    #[schemars(range(min = 1, max = 2147483647))]
    pub bgp_asn: u32,
}

/// An existing Direct Connect gateway, associated with the hub.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DirectConnectGatewaySpec {
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: PartName,
    /// The Direct Connect gateway's ID (a UUID).
    #[schemars(regex(pattern = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"))]
    pub direct_connect_gateway_id: String,
    /// Prefixes advertised to the Direct Connect gateway; changed in place.
    #[schemars(length(min = 1, max = 20), inner(length(max = 18)))]
    #[x_kube(validation = Rule::new("self.all(c, isCIDR(c))").message("allowedPrefixes must be CIDR blocks"))]
    pub allowed_prefixes: Vec<String>,
    /// The hub route table the Direct Connect attachment is associated with.
    #[schemars(length(min = 1, max = 32))]
    pub route_table: PartName,
    /// Route tables the Direct Connect attachment propagates to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(length(max = 32)))]
    pub propagate_to: Vec<PartName>,
}

/// What the controller last saw, written only when it changes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TransitGatewayStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::OwnedResource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<crate::CreateIntent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_tables: Vec<RouteTableStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peerings: Vec<PeeringStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpn_connections: Vec<VpnConnectionStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_connect_gateways: Vec<DirectConnectGatewayStatus>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct RouteTableStatus {
    pub name: PartName,
    pub id: String,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PeeringStatus {
    pub name: PartName,
    pub attachment_id: String,
    pub state: String,
    /// The peer's route table it is associated with on the peer's side, if the spec names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_route_table_id: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VpnConnectionStatus {
    pub name: PartName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpn_connection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Each tunnel's outside address and status (UP, DOWN), as AWS reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnels: Vec<VpnTunnelStatus>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VpnTunnelStatus {
    pub outside_ip_address: String,
    pub status: String,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DirectConnectGatewayStatus {
    pub name: PartName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}
