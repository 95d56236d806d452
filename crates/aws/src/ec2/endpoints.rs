//! EC2 VPC endpoints: observed by the IDs the status records, else by VPC (ownership checked
//! here on the tags), with a region-wide tag search only when something may exist unrecorded;
//! and the VPC endpoint steps.

use std::collections::HashMap;

use aws_sdk_ec2::types::{Filter, ResourceType, VpcEndpointType};
use securecart_api::tags::{OWNER_KIND, OWNER_UID};
use securecart_plan::Output;
use securecart_plan::security_group::SecurityGroup;
use securecart_plan::vpc_endpoint::{Endpoint, Step};

use super::{Ec2, InVpc, Which, first_failure, tag_spec, tags_of};
use crate::{AwsError, resolve};

/// Every call here is an EC2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "ec2";

/// Every endpoint and security group of one kind's owners in a region.
struct Snapshot {
    endpoints: Vec<Endpoint>,
    groups: Vec<SecurityGroup>,
}

impl Ec2 {
    /// The owner's VPC endpoints as far as `scope` lets them be known.
    pub async fn observe_vpc_endpoints(&self, scope: InVpc<'_>) -> Result<Vec<Endpoint>, AwsError> {
        let endpoints = scope.read(|which| self.describe_vpc_endpoints(which), |e| &e.id, |e| &e.tags).await?;
        tracing::debug!(
            service = SERVICE,
            region = self.region(),
            endpoints = endpoints.len(),
            search = scope.search,
            "observed VPC endpoints"
        );
        Ok(endpoints)
    }

    /// The owner's endpoints and security groups for a periodic drift check: from a region-wide
    /// read of every `owner_kind` owner's (two Describes, however many objects), shared while
    /// younger than `max_age` and taken after this owner's last change.
    pub async fn observe_endpoints_shared(
        &self,
        owner_kind: &str,
        owner_uid: &str,
        max_age: std::time::Duration,
    ) -> Result<(Vec<Endpoint>, Vec<SecurityGroup>), AwsError> {
        let kind = Filter::builder().name(format!("tag:{OWNER_KIND}")).values(owner_kind).build();
        let region = format!("{}/{owner_kind}", self.region());
        let snapshot = self
            .aws
            .shared("vpc-endpoints", &region, owner_uid, max_age, || async {
                let (endpoints, groups) = futures::try_join!(
                    self.describe_vpc_endpoints(Which::Filter(kind.clone())),
                    self.describe_security_groups(Which::Filter(kind.clone())),
                )?;
                Ok(Snapshot { endpoints, groups })
            })
            .await?;
        let mine = |tags: &securecart_plan::Tags| tags.get(OWNER_UID).is_some_and(|u| u == owner_uid);
        Ok((
            snapshot.endpoints.iter().filter(|e| mine(&e.tags)).cloned().collect(),
            snapshot.groups.iter().filter(|g| mine(&g.tags)).cloned().collect(),
        ))
    }

    async fn describe_vpc_endpoints(&self, which: Which<'_>) -> Result<Vec<Endpoint>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let request = match &which {
                Which::Ids(ids) => self.client.describe_vpc_endpoints().set_vpc_endpoint_ids(Some(ids.to_vec())),
                Which::Filter(f) => self.client.describe_vpc_endpoints().filters(f.clone()),
            };
            let page = self.call("DescribeVpcEndpoints", false, request.set_next_token(token).send()).await?;
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

    /// Runs one VPC endpoint step; `token` is the create's idempotency token.
    pub(crate) async fn run_vpc_endpoint(
        &self,
        step: &Step,
        created: &HashMap<String, String>,
        token: Option<&str>,
    ) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::SetTags { resource_id, tags, .. } => self.set_tags(resource_id, tags).await,
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
        }
    }
}
