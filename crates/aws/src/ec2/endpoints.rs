//! EC2 VPC endpoints and their security groups: observe by owner tag, execute PrivateEndpoint plans.

use std::collections::HashMap;

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, VpcEndpointType};
use securecart_plan::Output;
use securecart_plan::endpoint::{Endpoint, IngressRule, Observed, SecurityGroup, Step};

use crate::ec2::{Ec2, first_failure, owner_filter, tag_spec, tags_of};
use crate::{AwsError, ok_if_gone, resolve};

/// Every call here is an EC2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "ec2";

fn permissions(rules: &[IngressRule]) -> Vec<IpPermission> {
    rules
        .iter()
        .map(|r| {
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(i32::from(r.port))
                .to_port(i32::from(r.port))
                .ip_ranges(IpRange::builder().cidr_ip(&r.cidr).build())
                .build()
        })
        .collect()
}

impl Ec2 {
    /// The owner's VPC endpoints and security groups in this region.
    pub async fn observe_endpoints(&self, owner_uid: &str) -> Result<Observed, AwsError> {
        let (endpoints, security_groups) =
            futures::try_join!(self.observe_vpc_endpoints(owner_uid), self.observe_security_groups(owner_uid))?;
        tracing::debug!(
            service = SERVICE,
            region = self.region(),
            endpoints = endpoints.len(),
            "observed VPC endpoints"
        );
        Ok(Observed { endpoints, security_groups })
    }

    async fn observe_vpc_endpoints(&self, uid: &str) -> Result<Vec<Endpoint>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeVpcEndpoints",
                    false,
                    self.client.describe_vpc_endpoints().filters(owner_filter(uid)).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.vpc_endpoints().iter().filter_map(|e| {
                Some(Endpoint {
                    id: e.vpc_endpoint_id()?.into(),
                    endpoint_type: e.vpc_endpoint_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    service_name: e.service_name().unwrap_or_default().into(),
                    vpc_id: e.vpc_id().unwrap_or_default().into(),
                    // States come back lowercase from AWS too, which the SDK enum maps to
                    // Unknown: compare on the raw string.
                    state: e.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    route_table_ids: e.route_table_ids().to_vec(),
                    subnet_ids: e.subnet_ids().to_vec(),
                    network_interface_ids: e.network_interface_ids().to_vec(),
                    security_group_ids: e.groups().iter().filter_map(|g| g.group_id().map(str::to_string)).collect(),
                    private_dns_enabled: e.private_dns_enabled(),
                    policy: e.policy_document().map(str::to_string),
                    dns_entries: e
                        .dns_entries()
                        .iter()
                        .filter_map(|d| Some((d.dns_name()?.to_string(), d.hosted_zone_id().map(str::to_string))))
                        .collect(),
                    tags: tags_of(e.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn observe_security_groups(&self, uid: &str) -> Result<Vec<SecurityGroup>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeSecurityGroups",
                    false,
                    self.client.describe_security_groups().filters(owner_filter(uid)).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.security_groups().iter().filter_map(|g| {
                let ingress = g
                    .ip_permissions()
                    .iter()
                    .filter(|p| p.ip_protocol() == Some("tcp") && p.from_port() == p.to_port())
                    .flat_map(|p| {
                        let port = p.from_port().and_then(|v| u16::try_from(v).ok());
                        p.ip_ranges()
                            .iter()
                            .filter_map(move |r| Some(IngressRule { port: port?, cidr: r.cidr_ip()?.to_string() }))
                    })
                    .collect();
                Some(SecurityGroup {
                    id: g.group_id()?.into(),
                    vpc_id: g.vpc_id().unwrap_or_default().into(),
                    ingress,
                    tags: tags_of(g.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Runs one VPC endpoint or security group step; `token` is the create's idempotency token.
    pub(crate) async fn run_endpoint(
        &self,
        step: &Step,
        created: &HashMap<String, String>,
        token: Option<&str>,
    ) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::SetTags { resource_id, tags, .. } => self.set_tags(resource_id, tags).await,
            Step::CreateSecurityGroup { vpc_id, group_name, tags, .. } => {
                let out = self
                    .call(
                        "CreateSecurityGroup",
                        true,
                        c.create_security_group()
                            .group_name(group_name)
                            .description("VPC endpoint access, managed by securecart-controller")
                            .vpc_id(vpc_id)
                            .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags))
                            .send(),
                    )
                    .await?;
                Ok(Output::id(out.group_id().ok_or_else(|| AwsError::malformed("CreateSecurityGroup", "no group ID"))?))
            }
            Step::AuthorizeIngress { group, rules } => {
                let request = c
                    .authorize_security_group_ingress()
                    .group_id(resolve(group, created)?)
                    .set_ip_permissions(Some(permissions(rules)));
                self.call("AuthorizeSecurityGroupIngress", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::RevokeIngress { group_id, rules } => {
                let request =
                    c.revoke_security_group_ingress().group_id(group_id).set_ip_permissions(Some(permissions(rules)));
                ok_if_gone(self.call("RevokeSecurityGroupIngress", true, request.send()).await)
            }
            Step::CreateEndpoint {
                endpoint_type,
                service_name,
                vpc_id,
                route_table_ids,
                subnet_ids,
                security_group,
                private_dns,
                policy,
                tags,
                ..
            } => {
                let groups = security_group.as_ref().map(|g| resolve(g, created)).transpose()?.map(|g| vec![g]);
                let request = c
                    .create_vpc_endpoint()
                    .vpc_endpoint_type(VpcEndpointType::from(endpoint_type.as_aws()))
                    .vpc_id(vpc_id)
                    .service_name(service_name)
                    .set_route_table_ids((!route_table_ids.is_empty()).then(|| route_table_ids.clone()))
                    .set_subnet_ids((!subnet_ids.is_empty()).then(|| subnet_ids.clone()))
                    .set_security_group_ids(groups)
                    .set_private_dns_enabled(*private_dns)
                    .set_policy_document(policy.clone())
                    .set_client_token(token.map(str::to_string))
                    .tag_specifications(tag_spec(ResourceType::VpcEndpoint, tags));
                let out = self.call("CreateVpcEndpoint", true, request.send()).await?;
                let id = out
                    .vpc_endpoint()
                    .and_then(|e| e.vpc_endpoint_id())
                    .ok_or_else(|| AwsError::malformed("CreateVpcEndpoint", "no ID"))?;
                Ok(Output::id(id))
            }
            Step::ModifyEndpoint {
                id,
                add_route_tables,
                remove_route_tables,
                add_subnets,
                remove_subnets,
                policy,
                reset_policy,
                private_dns,
            } => {
                let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
                let request = c
                    .modify_vpc_endpoint()
                    .vpc_endpoint_id(id)
                    .set_add_route_table_ids(some(add_route_tables))
                    .set_remove_route_table_ids(some(remove_route_tables))
                    .set_add_subnet_ids(some(add_subnets))
                    .set_remove_subnet_ids(some(remove_subnets))
                    .set_policy_document(policy.clone())
                    .set_reset_policy(reset_policy.then_some(true))
                    .set_private_dns_enabled(*private_dns);
                self.call("ModifyVpcEndpoint", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteEndpoint { id } => {
                let out =
                    self.call("DeleteVpcEndpoints", true, c.delete_vpc_endpoints().vpc_endpoint_ids(id).send()).await?;
                first_failure("DeleteVpcEndpoints", out.unsuccessful(), true).map(|()| Output::none())
            }
            Step::DeleteSecurityGroup { id } => {
                ok_if_gone(self.call("DeleteSecurityGroup", true, c.delete_security_group().group_id(id).send()).await)
            }
        }
    }
}
