//! `VpcPeering`: a VPC peering connection between two VpcTiers, or from a VpcTier to a VPC in
//! another account or region, accepted by the controller (through a role in another account),
//! with routes on both sides and DNS resolution across it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{DeletionPolicy, LocalObjectRef};

/// A VPC peering connection from the requester VpcTier to the accepter, with routes to each
/// other in the route tables of the tiers named, on both sides.
// Several printer columns share `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "net.securecart.io",
    version = "v1alpha1",
    kind = "VpcPeering",
    namespaced,
    status = "VpcPeeringStatus",
    shortname = "vpcp",
    category = "securecart",
    doc = "A VPC peering connection from a VpcTier to another VpcTier, or to a VPC in another account or region (accepted through a role there), with routes on both sides and DNS resolution across it.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Peering ID", type_ = "string", json_path = ".status.vpcPeeringConnectionId"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct VpcPeeringSpec {
    /// The VpcTier that requests the peering; its region is where the connection is made.
    #[x_kube(validation = Rule::new("self.vpcTierRef == oldSelf.vpcTierRef").message("spec.requester.vpcTierRef is immutable"))]
    pub requester: RequesterSpec,
    /// The VpcTier (same namespace) or external VPC that accepts it.
    #[x_kube(validation = Rule::new("!has(oldSelf.vpcTierRef) || (has(self.vpcTierRef) && self.vpcTierRef == oldSelf.vpcTierRef)").message("spec.accepter.vpcTierRef is immutable"))]
    #[x_kube(validation = Rule::new("!has(oldSelf.external) || (has(self.external) && self.external.vpcId == oldSelf.external.vpcId && self.external.accountId == oldSelf.external.accountId && self.external.region == oldSelf.external.region)").message("spec.accepter.external: vpcId, accountId and region are immutable"))]
    pub accepter: AccepterSpec,
    /// Let each side resolve the other's public DNS hostnames to private addresses.
    #[serde(default)]
    pub allow_dns_resolution: bool,
    /// Tags added to the peering connection, besides the ownership tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('aws:') && !k.startsWith('net.securecart.io/') && k.size() <= 128)").message("spec.tags: keys must not start with aws: or net.securecart.io/ and are at most 128 characters"))]
    pub tags: BTreeMap<String, String>,
    /// Delete (default) or Retain the peering connection and its routes when the object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequesterSpec {
    pub vpc_tier_ref: LocalObjectRef,
    /// Tiers whose route tables get a route to the accepter's CIDR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8), inner(length(max = 32)))]
    pub route_tiers: Vec<String>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.vpcTierRef) != has(self.external)").message("spec.accepter: set exactly one of vpcTierRef and external"))]
#[x_kube(validation = Rule::new("!has(self.external) || !has(self.routeTiers) || size(self.routeTiers) == 0").message("spec.accepter.routeTiers apply to a vpcTierRef; an external accepter lists routeTableIds"))]
pub struct AccepterSpec {
    /// A VpcTier in the same namespace (same account, any region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_tier_ref: Option<LocalObjectRef>,
    /// A VPC the controller does not manage, in this or another account and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalVpc>,
    /// Tiers of the accepter VpcTier whose route tables get a route to the requester's CIDR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8), inner(length(max = 32)))]
    pub route_tiers: Vec<String>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.roleArn) || self.roleArn.split(':')[4] == self.accountId").message("spec.accepter.external.roleArn must be a role of accountId"))]
pub struct ExternalVpc {
    #[schemars(regex(pattern = r"^vpc-[0-9a-f]{8,17}$"))]
    pub vpc_id: String,
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account_id: String,
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    pub region: String,
    /// A role in the accepter's account the controller assumes to accept the connection, add
    /// the routes and set the DNS option there; required when the account is not the controller's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub role_arn: Option<String>,
    /// Route tables of the accepter VPC that get a route to the requester's CIDR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(regex(pattern = r"^rtb-[0-9a-f]{8,17}$")))]
    pub route_table_ids: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VpcPeeringStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::OwnedResource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<crate::CreateIntent>,
    /// The requester's region, where the connection lives (teardown needs it when the VpcTier is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_peering_connection_id: Option<String>,
    /// initiating-request, pending-acceptance, active, ... as AWS reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepter_vpc_id: Option<String>,
    /// Route tables holding a route to the other side, on each side.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requester_route_table_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepter_route_table_ids: Vec<String>,
}
