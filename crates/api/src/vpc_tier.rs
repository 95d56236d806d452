//! `VpcTier`: one multi-AZ VPC with tiers of subnets, gateways, route tables and flow logs.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::DeletionPolicy;

/// A VPC spread over several Availability Zones, with one subnet per tier per zone.
// Several printer columns share `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "net.securecart.io",
    version = "v1alpha1",
    kind = "VpcTier",
    namespaced,
    status = "VpcTierStatus",
    shortname = "vpct",
    category = "securecart",
    doc = "A multi-AZ VPC with tiers of subnets (Public, Private, Isolated), an internet gateway, NAT gateways, route tables and flow logs, converged from this one object.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "VPC ID", type_ = "string", json_path = ".status.vpcId"),
    printcolumn(name = "CIDR", type_ = "string", json_path = ".spec.cidrBlock"),
    printcolumn(name = "Zones", type_ = "string", json_path = ".status.zones"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.availabilityZones) != has(self.availabilityZoneNames)").message("set exactly one of spec.availabilityZones and spec.availabilityZoneNames"))]
#[x_kube(validation = Rule::new("!has(self.subnetGroups) || self.subnetGroups.all(g, self.tiers.exists(t, t.name == g.tier))").message("spec.subnetGroups[].tier must name a tier in spec.tiers"))]
#[x_kube(validation = Rule::new("!has(self.natGateways) || self.natGateways == 'None' || !self.tiers.exists(t, t.type == 'Private') || self.tiers.exists(t, t.type == 'Public')").message("spec.natGateways: NAT gateways live in a Public tier; add one or set natGateways: None"))]
pub struct VpcTierSpec {
    /// The AWS region, e.g. `us-east-1`. Immutable.
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.region is immutable"))]
    pub region: String,

    /// The VPC's IPv4 CIDR block, /16 to /28. Immutable.
    #[x_kube(
        validation = Rule::new("isCIDR(self)").message("spec.cidrBlock must be an IPv4 CIDR block such as 10.20.0.0/16"),
        validation = Rule::new("!isCIDR(self) || (cidr(self).ip().family() == 4 && cidr(self).prefixLength() >= 16 && cidr(self).prefixLength() <= 28)").message("spec.cidrBlock must be an IPv4 block from /16 to /28"),
        validation = Rule::new("!isCIDR(self) || cidr(self) == cidr(self).masked()").message("spec.cidrBlock must be a network address (host bits zero)"),
        validation = Rule::new("self == oldSelf").message("spec.cidrBlock is immutable")
    )]
    #[schemars(length(max = 18))]
    pub cidr_block: String,

    /// Use the first N zones of the region, sorted by name.
    #[schemars(range(min = 1, max = 6))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zones: Option<u32>,

    /// Use exactly these zones, in this order.
    #[schemars(length(min = 1, max = 6), inner(length(max = 32)))]
    #[x_kube(validation = Rule::new("self.all(z, self.exists_one(y, y == z))").message("spec.availabilityZoneNames must not repeat a zone"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone_names: Option<Vec<ZoneName>>,

    /// Tiers of subnets: one subnet per tier per zone. Subnets are carved from cidrBlock tier by
    /// tier, zone by zone; adding a tier or a zone never moves existing subnets.
    #[schemars(length(min = 1, max = 8))]
    #[x_kube(validation = Rule::new("self.all(t, self.exists_one(u, u.name == t.name))").message("spec.tiers: tier names must be unique"))]
    pub tiers: Vec<Tier>,

    /// NAT gateways for Private tiers. Default: PerZone when both a Private and a Public tier exist, else None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_gateways: Option<NatGatewayMode>,

    /// VPC flow logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_logs: Option<FlowLogs>,

    /// Attach the VPC to a TransitGateway in the same namespace and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_gateway: Option<VpcTransitGateway>,

    /// Database subnet groups (RDS, ElastiCache) over one tier's subnet in every zone, kept to
    /// the tier's subnets when zones change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(validation = Rule::new("self.all(g, self.exists_one(h, h.name == g.name && h.service == g.service))").message("spec.subnetGroups: a name is used once per service"))]
    pub subnet_groups: Vec<SubnetGroup>,

    /// Tags added to every AWS resource, besides the ownership tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('aws:') && !k.startsWith('net.securecart.io/') && k.size() <= 128)").message("spec.tags: keys must not start with aws: or net.securecart.io/ and are at most 128 characters"))]
    pub tags: BTreeMap<String, String>,

    /// Delete (default) or Retain the AWS resources when the object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// The VPC's attachment to a TransitGateway: in which tier's subnets, with which association and
/// propagations, and which routes in the VpcTier's own route tables lead to the hub.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VpcTransitGateway {
    /// The TransitGateway, in the same namespace and region; it cannot be deleted while attached.
    #[serde(rename = "ref")]
    pub transit_gateway_ref: crate::LocalObjectRef,
    /// The attachment uses this tier's subnet in every zone.
    #[schemars(length(min = 1, max = 32))]
    pub tier: String,
    /// The hub route table the attachment is associated with.
    #[schemars(length(min = 1, max = 32))]
    pub route_table: String,
    /// Hub route tables this VPC's CIDR is propagated to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(length(max = 32)))]
    pub propagate_to: Vec<String>,
    /// Routes in the VpcTier's own route tables to the hub.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub routes: Vec<TransitGatewayRoute>,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransitGatewayRoute {
    /// The destination CIDR block, e.g. 10.0.0.0/8.
    #[x_kube(validation = Rule::new("isCIDR(self) && cidr(self).ip().family() == 4").message("routes[].destination must be an IPv4 CIDR block"))]
    #[schemars(length(max = 18))]
    pub destination: String,
    /// The tiers whose route tables get the route.
    #[schemars(length(min = 1, max = 8), inner(length(max = 32)))]
    pub tiers: Vec<String>,
}

/// A DB subnet group (RDS) or cache subnet group (ElastiCache) over a tier's subnets. Its AWS
/// name is `<namespace>-<vpctier>-<name>`, reported in the status.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubnetGroup {
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    /// The tier whose subnets (one per zone) the group holds.
    #[schemars(length(min = 1, max = 32))]
    pub tier: String,
    /// RDS (a DB subnet group; needs two zones or more) or ElastiCache (a cache subnet group).
    pub service: SubnetGroupService,
    /// Default: "<service> subnet group of VpcTier <namespace>/<name>, tier <tier>".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub description: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubnetGroupService {
    #[serde(rename = "RDS")]
    Rds,
    ElastiCache,
}

impl SubnetGroupService {
    pub fn as_str(self) -> &'static str {
        match self {
            SubnetGroupService::Rds => "RDS",
            SubnetGroupService::ElastiCache => "ElastiCache",
        }
    }
}

/// An Availability Zone name such as `us-east-1a`.
pub type ZoneName = String;

/// One tier: a subnet per zone, all routed alike.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// Tier name, used in component keys and Name tags.
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
    /// Public routes to the internet gateway, Private to a NAT gateway, Isolated nowhere.
    #[serde(rename = "type")]
    pub tier_type: TierType,
    /// Prefix length of each of the tier's subnets, /16 to /28.
    #[schemars(range(min = 16, max = 28))]
    pub prefix_length: u8,
    /// Explicit subnet CIDR blocks, one per zone in zone order, instead of carving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 6), inner(length(max = 18)))]
    #[x_kube(validation = Rule::new("self.all(c, isCIDR(c))").message("cidrBlocks must be CIDR blocks"))]
    pub cidr_blocks: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TierType {
    /// Default route to the internet gateway; public IPs on launch.
    Public,
    /// Default route to a NAT gateway.
    Private,
    /// No route out of the VPC (databases).
    Isolated,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatGatewayMode {
    /// One NAT gateway per zone; each zone's private subnets route through their own zone's.
    PerZone,
    /// One NAT gateway in the first zone for all private subnets.
    Single,
    /// No NAT gateway: private subnets have no route out.
    None,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FlowLogs {
    /// ALL (default), ACCEPT or REJECT.
    #[serde(default)]
    pub traffic_type: TrafficType,
    pub destination: FlowLogDestination,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrafficType {
    #[default]
    #[serde(rename = "ALL")]
    All,
    #[serde(rename = "ACCEPT")]
    Accept,
    #[serde(rename = "REJECT")]
    Reject,
}

/// Where flow logs go: an S3 bucket, or a CloudWatch Logs group with the role that writes to it.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.s3BucketArn) != has(self.cloudWatchLogGroup)").message("spec.flowLogs.destination: set exactly one of s3BucketArn and cloudWatchLogGroup"))]
#[x_kube(validation = Rule::new("!has(self.cloudWatchLogGroup) || has(self.iamRoleArn)").message("spec.flowLogs.destination.iamRoleArn is required with cloudWatchLogGroup"))]
pub struct FlowLogDestination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"))]
    pub s3_bucket_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub cloud_watch_log_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub iam_role_arn: Option<String>,
}

/// What the controller last saw, written only when it changes.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VpcTierStatus {
    /// The generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready first, then Synced, Reconciling and Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Every AWS resource the object owns, by component: what the controller reads by ID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::OwnedResource>,
    /// Creates started but not yet seen to finish (see CreateIntent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<crate::CreateIntent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_gateway_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<ZoneName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<SubnetStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nat_gateways: Vec<NatGatewayStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_log_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_gateway_attachment: Option<TransitGatewayAttachmentStatus>,
    /// The subnet groups that exist, with the subnets they hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_groups: Vec<SubnetGroupStatus>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubnetGroupStatus {
    /// The name in the spec.
    pub name: String,
    pub service: SubnetGroupService,
    /// The group's name in AWS, what a DB instance or cache cluster names.
    pub group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransitGatewayAttachmentStatus {
    pub attachment_id: String,
    pub transit_gateway_id: String,
    pub state: String,
    /// The hub route table it is associated with, once it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
    /// The hub route tables it propagates to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub propagated_to: Vec<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubnetStatus {
    pub tier: String,
    #[serde(rename = "type")]
    pub tier_type: TierType,
    pub zone: ZoneName,
    pub cidr_block: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_id: Option<String>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NatGatewayStatus {
    pub zone: ZoneName,
    pub nat_gateway_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    pub state: String,
}
