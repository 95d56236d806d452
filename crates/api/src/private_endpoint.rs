//! `PrivateEndpoint`: private access from a VpcTier to AWS services and partner PrivateLink
//! endpoint services, through gateway, interface or Gateway Load Balancer VPC endpoints.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{DeletionPolicy, LocalObjectRef};

/// A VPC endpoint in a VpcTier, with its policy and (for interface endpoints) security group.
// Several printer columns share `type_ = "string"`, which clippy mistakes for a repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "net.securecart.io",
    version = "v1alpha1",
    kind = "PrivateEndpoint",
    namespaced,
    status = "PrivateEndpointStatus",
    shortname = "pe",
    category = "securecart",
    doc = "A VPC endpoint (gateway, interface or Gateway Load Balancer) giving a VpcTier private access to an AWS service or a partner's PrivateLink endpoint service.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Service", type_ = "string", json_path = ".status.serviceName"),
    printcolumn(name = "Type", type_ = "string", json_path = ".status.endpointType"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state"),
    printcolumn(name = "Endpoint ID", type_ = "string", json_path = ".status.vpcEndpointId"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.service) != has(self.serviceName)").message("set exactly one of spec.service and spec.serviceName"))]
#[x_kube(validation = Rule::new("(has(self.type) ? self.type : ((has(self.service) && (self.service == 's3' || self.service == 'dynamodb')) ? 'Gateway' : 'Interface')) == 'Interface' || (!has(self.privateDns) && !has(self.allowedTiers) && !has(self.allowedCidrs) && !has(self.ports))").message("spec.privateDns, allowedTiers, allowedCidrs and ports apply to Interface endpoints only"))]
#[x_kube(validation = Rule::new("self.vpcTierRef == oldSelf.vpcTierRef").message("spec.vpcTierRef is immutable"))]
pub struct PrivateEndpointSpec {
    /// The VpcTier, in the same namespace, whose VPC gets the endpoint; its deletion waits for this endpoint.
    pub vpc_tier_ref: LocalObjectRef,

    /// An AWS service short name (`s3`, `dynamodb`, `sts`, `ecr.api`, `execute-api`, ...),
    /// resolved to `com.amazonaws.<region>.<service>` in the VpcTier's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[a-z0-9][a-z0-9.-]*$"))]
    pub service: Option<String>,

    /// A full service name instead, e.g. a partner's `com.amazonaws.vpce.us-east-1.vpce-svc-0abc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200), regex(pattern = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"))]
    pub service_name: Option<String>,

    /// Gateway (default for s3 and dynamodb), Interface (default otherwise) or GatewayLoadBalancer.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<EndpointType>,

    /// Gateway: the route tables of these tiers. Interface: one network interface per zone, in
    /// the first of these tiers that has a subnet in that zone.
    #[schemars(length(min = 1, max = 8), inner(length(max = 32)))]
    pub tiers: Vec<String>,

    /// Interface only: private DNS names for the service (default true for AWS services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns: Option<bool>,

    /// Interface only: security group ingress from these tiers' subnet CIDRs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 8), inner(length(max = 32)))]
    pub allowed_tiers: Option<Vec<String>>,

    /// Interface only: security group ingress from these CIDR blocks. Without allowedTiers and
    /// allowedCidrs, the whole VPC may connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20), inner(length(max = 18)))]
    #[x_kube(validation = Rule::new("self.all(c, isCIDR(c))").message("spec.allowedCidrs must be CIDR blocks"))]
    pub allowed_cidrs: Option<Vec<String>>,

    /// Interface only: TCP ports opened in the security group (default 443).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 10), inner(range(min = 1, max = 65535)))]
    pub ports: Option<Vec<u16>>,

    /// An IAM policy document (a JSON object) for the endpoint; AWS's full-access default when
    /// omitted. Not supported on Gateway Load Balancer endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "policy_schema")]
    pub policy: Option<serde_json::Value>,

    /// Tags added to every AWS resource, besides the ownership tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(validation = Rule::new("self.all(k, !k.startsWith('aws:') && !k.startsWith('net.securecart.io/') && k.size() <= 128)").message("spec.tags: keys must not start with aws: or net.securecart.io/ and are at most 128 characters"))]
    pub tags: BTreeMap<String, String>,

    /// Delete (default) or Retain the endpoint and its security group when the object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

fn policy_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "An IAM policy document.",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointType {
    Gateway,
    Interface,
    GatewayLoadBalancer,
}

impl EndpointType {
    /// The name the EC2 API uses.
    pub fn as_aws(self) -> &'static str {
        match self {
            EndpointType::Gateway => "Gateway",
            EndpointType::Interface => "Interface",
            EndpointType::GatewayLoadBalancer => "GatewayLoadBalancer",
        }
    }
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready first, then Synced, Reconciling and Stalled; Accepted for partner (PrivateLink) services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Every AWS resource the object owns, by component: what the controller reads by ID.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<crate::OwnedResource>,
    /// Creates started but not yet seen to finish (see CreateIntent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<crate::CreateIntent>,
    /// The region the endpoint lives in (the VpcTier's), kept so teardown works without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<EndpointType>,
    /// pendingAcceptance | pending | available | rejected | failed | deleting
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route_table_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_interface_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_entries: Vec<DnsEntry>,
}

#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DnsEntry {
    pub dns_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_zone_id: Option<String>,
}
