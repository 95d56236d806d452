//! EC2: observe an owner's VPC resources by tag, and execute VpcTier plan steps.

use std::collections::HashMap;
use std::future::Future;
use std::time::Instant;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, FlowLogsResourceType, LogDestinationType, ResourceType, Tag,
    TagSpecification, TrafficType, VpcAttributeName,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use securecart_api::tags::{OWNER_KIND, OWNER_UID};
use securecart_plan::vpc::{self, FlowLogTarget, Observed, RouteTarget, Step, VpcAttribute};
use securecart_plan::{Plan, Ref, Tags};

use crate::{Aws, AwsError, Execution};

const SERVICE: &str = "ec2";

pub struct Ec2 {
    pub(crate) client: Client,
    aws: Aws,
    region: String,
}

pub(crate) fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

pub(crate) fn tag_spec(resource: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
        .build()
}

/// The first failed item of a batch call as an error; with `gone_ok`, "not found" counts as done.
pub(crate) fn first_failure(
    operation: &'static str,
    items: &[aws_sdk_ec2::types::UnsuccessfulItem],
    gone_ok: bool,
) -> Result<(), AwsError> {
    let Some(item) = items.first() else { return Ok(()) };
    let code = item.error().and_then(|e| e.code()).unwrap_or("Unknown");
    if gone_ok && code.contains("NotFound") {
        return Ok(());
    }
    let message = item.error().and_then(|e| e.message()).unwrap_or_default();
    Err(AwsError { kind: crate::error::classify(code), operation, code: code.into(), message: message.into() })
}

pub(crate) fn owner_filter(uid: &str) -> Filter {
    Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid).build()
}

impl Ec2 {
    pub(crate) fn new(client: Client, aws: Aws, region: String) -> Self {
        Self { client, aws, region }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Runs one EC2 call through the shared counting, rate-limiting wrapper.
    pub(crate) async fn call<T, E>(
        &self,
        operation: &'static str,
        mutating: bool,
        request: impl Future<Output = Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>>,
    ) -> Result<T, AwsError>
    where
        T: aws_types::request_id::RequestId,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.aws.call(SERVICE, &self.region, operation, mutating, request).await
    }

    /// Available zones of the region, sorted; cached for the life of the process.
    pub async fn availability_zones(&self) -> Result<Vec<String>, AwsError> {
        if let Some(z) = self.aws.inner.zones.lock().await.get(&self.region) {
            return Ok(z.clone());
        }
        let out = self
            .call(
                "DescribeAvailabilityZones",
                false,
                self.client
                    .describe_availability_zones()
                    .filters(Filter::builder().name("state").values("available").build())
                    .send(),
            )
            .await?;
        let mut zones: Vec<String> = out
            .availability_zones()
            .iter()
            .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
            .filter_map(|z| z.zone_name().map(str::to_string))
            .collect();
        zones.sort();
        self.aws.inner.zones.lock().await.insert(self.region.clone(), zones.clone());
        Ok(zones)
    }

    /// Everything the owner holds in this region, found by its UID tag. Filters are applied
    /// again client-side by the planner, so an API that ignores a filter changes nothing.
    pub async fn observe_vpc(&self, owner_uid: &str) -> Result<Observed, AwsError> {
        self.observe_vpc_matching(&owner_filter(owner_uid), true).await
    }

    /// The owner's resources for a periodic drift check: taken from a region-wide snapshot of
    /// every VpcTier's resources (one Describe per resource type, however many objects), when
    /// one exists that is younger than `max_age` and was taken after this owner's last change,
    /// so it holds everything the controller made for it. VPC DNS attributes have no batched
    /// read: a snapshot leaves them unknown, and fresh observations check them.
    pub async fn observe_vpc_shared(
        &self,
        owner_uid: &str,
        max_age: std::time::Duration,
    ) -> Result<Observed, AwsError> {
        let last_change = self.aws.inner.last_change.lock().await.get(owner_uid).copied();
        let mut snapshots = self.aws.inner.vpc_snapshots.lock().await;
        let usable = snapshots
            .get(&self.region)
            .filter(|s| s.taken.elapsed() < max_age && last_change.is_none_or(|changed| s.taken > changed))
            .cloned();
        let snapshot = match usable {
            Some(s) => s,
            None => {
                let taken = Instant::now();
                let kind = Filter::builder().name(format!("tag:{OWNER_KIND}")).values("VpcTier").build();
                let observed = self.observe_vpc_matching(&kind, false).await?;
                let s = std::sync::Arc::new(crate::Snapshot { taken, observed });
                snapshots.insert(self.region.clone(), s.clone());
                s
            }
        };
        drop(snapshots);
        Ok(snapshot.observed.owned_by(owner_uid))
    }

    /// Adds or overwrites tags on one resource (drift repair of ownership and user tags).
    pub(crate) async fn set_tags(&self, resource_id: &str, tags: &Tags) -> Result<Option<String>, AwsError> {
        let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        self.call("CreateTags", true, self.client.create_tags().resources(resource_id).set_tags(Some(tags)).send())
            .await?;
        Ok(None)
    }

    /// Remembers that the owner's resources changed now: older snapshots no longer show them.
    pub async fn record_change(&self, owner_uid: &str) {
        self.aws.inner.last_change.lock().await.insert(owner_uid.to_string(), Instant::now());
    }

    async fn observe_vpc_matching(&self, filter: &Filter, attributes: bool) -> Result<Observed, AwsError> {
        let (vpcs, subnets, internet_gateways, route_tables, nat_gateways, addresses, flow_logs) = futures::try_join!(
            self.observe_vpcs(filter, attributes),
            self.observe_subnets(filter),
            self.observe_internet_gateways(filter),
            self.observe_route_tables(filter),
            self.observe_nat_gateways(filter),
            self.observe_addresses(filter),
            self.observe_flow_logs(filter),
        )?;
        Ok(Observed { vpcs, subnets, internet_gateways, route_tables, nat_gateways, addresses, flow_logs })
    }

    async fn observe_vpcs(&self, filter: &Filter, attributes: bool) -> Result<Vec<vpc::Vpc>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeVpcs",
                    false,
                    self.client.describe_vpcs().filters(filter.clone()).set_next_token(token).send(),
                )
                .await?;
            for v in page.vpcs() {
                let Some(id) = v.vpc_id() else { continue };
                let (support, hostnames) = if attributes {
                    futures::try_join!(
                        self.vpc_attribute(id, VpcAttributeName::EnableDnsSupport),
                        self.vpc_attribute(id, VpcAttributeName::EnableDnsHostnames),
                    )?
                } else {
                    (None, None)
                };
                out.push(vpc::Vpc {
                    id: id.into(),
                    cidr_block: v.cidr_block().unwrap_or_default().into(),
                    dns_support: support,
                    dns_hostnames: hostnames,
                    tags: tags_of(v.tags()),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn vpc_attribute(&self, vpc_id: &str, attribute: VpcAttributeName) -> Result<Option<bool>, AwsError> {
        let out = self
            .call(
                "DescribeVpcAttribute",
                false,
                self.client.describe_vpc_attribute().vpc_id(vpc_id).attribute(attribute.clone()).send(),
            )
            .await?;
        let value = match attribute {
            VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
            _ => out.enable_dns_hostnames(),
        };
        Ok(value.and_then(|v| v.value()))
    }

    async fn observe_subnets(&self, filter: &Filter) -> Result<Vec<vpc::Subnet>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeSubnets",
                    false,
                    self.client.describe_subnets().filters(filter.clone()).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.subnets().iter().filter_map(|s| {
                Some(vpc::Subnet {
                    id: s.subnet_id()?.into(),
                    vpc_id: s.vpc_id().unwrap_or_default().into(),
                    cidr_block: s.cidr_block().unwrap_or_default().into(),
                    zone: s.availability_zone().unwrap_or_default().into(),
                    map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
                    tags: tags_of(s.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn observe_internet_gateways(&self, filter: &Filter) -> Result<Vec<vpc::InternetGateway>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeInternetGateways",
                    false,
                    self.client.describe_internet_gateways().filters(filter.clone()).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.internet_gateways().iter().filter_map(|g| {
                Some(vpc::InternetGateway {
                    id: g.internet_gateway_id()?.into(),
                    attached_vpc_ids: g.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect(),
                    tags: tags_of(g.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn observe_route_tables(&self, filter: &Filter) -> Result<Vec<vpc::RouteTable>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeRouteTables",
                    false,
                    self.client.describe_route_tables().filters(filter.clone()).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.route_tables().iter().filter_map(|t| {
                Some(vpc::RouteTable {
                    id: t.route_table_id()?.into(),
                    vpc_id: t.vpc_id().unwrap_or_default().into(),
                    routes: t
                        .routes()
                        .iter()
                        .filter_map(|r| {
                            Some(vpc::Route {
                                destination: r.destination_cidr_block()?.into(),
                                gateway_id: r.gateway_id().map(str::to_string),
                                nat_gateway_id: r.nat_gateway_id().map(str::to_string),
                            })
                        })
                        .collect(),
                    associations: t
                        .associations()
                        .iter()
                        .filter_map(|a| {
                            Some(vpc::Association {
                                id: a.route_table_association_id()?.into(),
                                subnet_id: a.subnet_id().map(str::to_string),
                                main: a.main().unwrap_or(false),
                            })
                        })
                        .collect(),
                    tags: tags_of(t.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn observe_nat_gateways(&self, filter: &Filter) -> Result<Vec<vpc::NatGateway>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeNatGateways",
                    false,
                    self.client.describe_nat_gateways().filter(filter.clone()).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.nat_gateways().iter().filter_map(|n| {
                let address = n.nat_gateway_addresses().first();
                Some(vpc::NatGateway {
                    id: n.nat_gateway_id()?.into(),
                    subnet_id: n.subnet_id().unwrap_or_default().into(),
                    state: n.state().map(|s| s.as_str().to_ascii_lowercase()).unwrap_or_default(),
                    allocation_id: address.and_then(|a| a.allocation_id()).map(str::to_string),
                    public_ip: address.and_then(|a| a.public_ip()).map(str::to_string),
                    tags: tags_of(n.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn observe_addresses(&self, filter: &Filter) -> Result<Vec<vpc::Address>, AwsError> {
        let out = self
            .call("DescribeAddresses", false, self.client.describe_addresses().filters(filter.clone()).send())
            .await?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| {
                Some(vpc::Address {
                    allocation_id: a.allocation_id()?.into(),
                    public_ip: a.public_ip().map(str::to_string),
                    tags: tags_of(a.tags()),
                })
            })
            .collect())
    }

    async fn observe_flow_logs(&self, filter: &Filter) -> Result<Vec<vpc::FlowLog>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeFlowLogs",
                    false,
                    self.client.describe_flow_logs().filter(filter.clone()).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.flow_logs().iter().filter_map(|f| {
                Some(vpc::FlowLog {
                    id: f.flow_log_id()?.into(),
                    resource_id: f.resource_id().unwrap_or_default().into(),
                    traffic_type: f.traffic_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    destination_type: f.log_destination_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    destination: f.log_destination().map(str::to_string),
                    log_group: f.log_group_name().map(str::to_string),
                    role_arn: f.deliver_logs_permission_arn().map(str::to_string),
                    tags: tags_of(f.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Runs a VpcTier plan (see `execute_phases`), remembering that the owner changed.
    pub async fn execute_vpc(&self, owner_uid: &str, plan: &Plan<Step>) -> Execution {
        if !plan.is_empty() {
            self.record_change(owner_uid).await;
        }
        crate::execute_phases(&self.region, plan, |step, created| async move { self.run(step, &created).await }).await
    }

    /// Runs one step; returns the ID of what it created, if anything.
    async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Option<String>, AwsError> {
        let resolve = |r: &Ref| crate::resolve(r, created);
        let c = &self.client;
        let ok_if_gone = crate::ok_if_gone::<()>;
        match step {
            Step::CreateVpc { cidr_block, tags, .. } => {
                let out = self
                    .call(
                        "CreateVpc",
                        true,
                        c.create_vpc()
                            .cidr_block(cidr_block)
                            .tag_specifications(tag_spec(ResourceType::Vpc, tags))
                            .send(),
                    )
                    .await?;
                let id =
                    out.vpc().and_then(|v| v.vpc_id()).ok_or_else(|| AwsError::malformed("CreateVpc", "no VPC ID"))?;
                Ok(Some(id.into()))
            }
            Step::CreateInternetGateway { tags, .. } => {
                let out = self
                    .call(
                        "CreateInternetGateway",
                        true,
                        c.create_internet_gateway()
                            .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
                            .send(),
                    )
                    .await?;
                let id = out
                    .internet_gateway()
                    .and_then(|g| g.internet_gateway_id())
                    .ok_or_else(|| AwsError::malformed("CreateInternetGateway", "no ID"))?;
                Ok(Some(id.into()))
            }
            Step::AllocateAddress { tags, .. } => {
                let out = self
                    .call(
                        "AllocateAddress",
                        true,
                        c.allocate_address()
                            .domain(DomainType::Vpc)
                            .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
                            .send(),
                    )
                    .await?;
                Ok(Some(
                    out.allocation_id()
                        .ok_or_else(|| AwsError::malformed("AllocateAddress", "no allocation ID"))?
                        .into(),
                ))
            }
            Step::SetTags { resource_id, tags, .. } => self.set_tags(resource_id, tags).await,
            Step::SetVpcAttribute { vpc, attribute, value } => {
                let value = AttributeBooleanValue::builder().value(*value).build();
                let request = c.modify_vpc_attribute().vpc_id(resolve(vpc)?);
                let request = match attribute {
                    VpcAttribute::EnableDnsSupport => request.enable_dns_support(value),
                    VpcAttribute::EnableDnsHostnames => request.enable_dns_hostnames(value),
                };
                self.call("ModifyVpcAttribute", true, request.send()).await?;
                Ok(None)
            }
            Step::CreateSubnet { vpc, cidr_block, zone, tags, .. } => {
                let out = self
                    .call(
                        "CreateSubnet",
                        true,
                        c.create_subnet()
                            .vpc_id(resolve(vpc)?)
                            .cidr_block(cidr_block)
                            .availability_zone(zone)
                            .tag_specifications(tag_spec(ResourceType::Subnet, tags))
                            .send(),
                    )
                    .await?;
                Ok(Some(
                    out.subnet()
                        .and_then(|s| s.subnet_id())
                        .ok_or_else(|| AwsError::malformed("CreateSubnet", "no ID"))?
                        .into(),
                ))
            }
            Step::CreateRouteTable { vpc, tags, .. } => {
                let out = self
                    .call(
                        "CreateRouteTable",
                        true,
                        c.create_route_table()
                            .vpc_id(resolve(vpc)?)
                            .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
                            .send(),
                    )
                    .await?;
                let id = out
                    .route_table()
                    .and_then(|t| t.route_table_id())
                    .ok_or_else(|| AwsError::malformed("CreateRouteTable", "no ID"))?;
                Ok(Some(id.into()))
            }
            Step::AttachInternetGateway { internet_gateway, vpc } => {
                self.call(
                    "AttachInternetGateway",
                    true,
                    c.attach_internet_gateway()
                        .internet_gateway_id(resolve(internet_gateway)?)
                        .vpc_id(resolve(vpc)?)
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::CreateFlowLog { vpc, traffic_type, destination, tags, .. } => {
                let request = c
                    .create_flow_logs()
                    .resource_type(FlowLogsResourceType::Vpc)
                    .resource_ids(resolve(vpc)?)
                    .traffic_type(TrafficType::from(traffic_type.as_str()))
                    .tag_specifications(tag_spec(ResourceType::VpcFlowLog, tags));
                let request = match destination {
                    FlowLogTarget::S3 { bucket_arn } => {
                        request.log_destination_type(LogDestinationType::S3).log_destination(bucket_arn)
                    }
                    FlowLogTarget::CloudWatchLogs { log_group, role_arn } => request
                        .log_destination_type(LogDestinationType::CloudWatchLogs)
                        .log_group_name(log_group)
                        .deliver_logs_permission_arn(role_arn),
                };
                let out = self.call("CreateFlowLogs", true, request.send()).await?;
                first_failure("CreateFlowLogs", out.unsuccessful(), false)?;
                Ok(Some(
                    out.flow_log_ids().first().ok_or_else(|| AwsError::malformed("CreateFlowLogs", "no ID"))?.clone(),
                ))
            }
            Step::SetSubnetPublicIpOnLaunch { subnet, value } => {
                self.call(
                    "ModifySubnetAttribute",
                    true,
                    c.modify_subnet_attribute()
                        .subnet_id(resolve(subnet)?)
                        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(*value).build())
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::AssociateRouteTable { route_table, subnet } => {
                let out = self
                    .call(
                        "AssociateRouteTable",
                        true,
                        c.associate_route_table()
                            .route_table_id(resolve(route_table)?)
                            .subnet_id(resolve(subnet)?)
                            .send(),
                    )
                    .await?;
                Ok(out.association_id().map(str::to_string))
            }
            Step::ReplaceRouteTableAssociation { association_id, route_table } => {
                let out = self
                    .call(
                        "ReplaceRouteTableAssociation",
                        true,
                        c.replace_route_table_association()
                            .association_id(association_id)
                            .route_table_id(resolve(route_table)?)
                            .send(),
                    )
                    .await?;
                Ok(out.new_association_id().map(str::to_string))
            }
            Step::CreateNatGateway { subnet, address, tags, .. } => {
                let out = self
                    .call(
                        "CreateNatGateway",
                        true,
                        c.create_nat_gateway()
                            .subnet_id(resolve(subnet)?)
                            .allocation_id(resolve(address)?)
                            .tag_specifications(tag_spec(ResourceType::Natgateway, tags))
                            .send(),
                    )
                    .await?;
                let id = out
                    .nat_gateway()
                    .and_then(|n| n.nat_gateway_id())
                    .ok_or_else(|| AwsError::malformed("CreateNatGateway", "no ID"))?;
                Ok(Some(id.into()))
            }
            Step::CreateRoute { route_table, destination, target }
            | Step::ReplaceRoute { route_table, destination, target } => {
                let replace = matches!(step, Step::ReplaceRoute { .. });
                let table = resolve(route_table)?;
                let (gateway, nat) = match target {
                    RouteTarget::InternetGateway(r) => (Some(resolve(r)?), None),
                    RouteTarget::NatGateway(r) => (None, Some(resolve(r)?)),
                };
                if replace {
                    let request = c
                        .replace_route()
                        .route_table_id(table)
                        .destination_cidr_block(destination)
                        .set_gateway_id(gateway)
                        .set_nat_gateway_id(nat);
                    self.call("ReplaceRoute", true, request.send()).await?;
                } else {
                    let request = c
                        .create_route()
                        .route_table_id(table)
                        .destination_cidr_block(destination)
                        .set_gateway_id(gateway)
                        .set_nat_gateway_id(nat);
                    self.call("CreateRoute", true, request.send()).await?;
                }
                Ok(None)
            }
            Step::DeleteRoute { route_table_id, destination } => ok_if_gone(
                self.call(
                    "DeleteRoute",
                    true,
                    c.delete_route().route_table_id(route_table_id).destination_cidr_block(destination).send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::DisassociateRouteTable { association_id } => ok_if_gone(
                self.call(
                    "DisassociateRouteTable",
                    true,
                    c.disassociate_route_table().association_id(association_id).send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::DeleteNatGateway { id } => ok_if_gone(
                self.call("DeleteNatGateway", true, c.delete_nat_gateway().nat_gateway_id(id).send()).await.map(|_| ()),
            ),
            Step::ReleaseAddress { allocation_id } => ok_if_gone(
                self.call("ReleaseAddress", true, c.release_address().allocation_id(allocation_id).send())
                    .await
                    .map(|_| ()),
            ),
            Step::DeleteSubnet { id } => {
                ok_if_gone(self.call("DeleteSubnet", true, c.delete_subnet().subnet_id(id).send()).await.map(|_| ()))
            }
            Step::DetachInternetGateway { id, vpc_id } => ok_if_gone(
                self.call(
                    "DetachInternetGateway",
                    true,
                    c.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc_id).send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::DeleteRouteTable { id } => ok_if_gone(
                self.call("DeleteRouteTable", true, c.delete_route_table().route_table_id(id).send()).await.map(|_| ()),
            ),
            Step::DeleteInternetGateway { id } => ok_if_gone(
                self.call("DeleteInternetGateway", true, c.delete_internet_gateway().internet_gateway_id(id).send())
                    .await
                    .map(|_| ()),
            ),
            Step::DeleteVpc { id } => {
                ok_if_gone(self.call("DeleteVpc", true, c.delete_vpc().vpc_id(id).send()).await.map(|_| ()))
            }
            Step::DeleteFlowLog { id } => {
                let out = self.call("DeleteFlowLogs", true, c.delete_flow_logs().flow_log_ids(id).send()).await?;
                first_failure("DeleteFlowLogs", out.unsuccessful(), true).map(|()| None)
            }
        }
    }

    /// Network interfaces in a VPC that the controller does not own: what blocks its deletion.
    pub async fn foreign_network_interfaces(&self, vpc_id: &str) -> Result<Vec<String>, AwsError> {
        let out = self
            .call(
                "DescribeNetworkInterfaces",
                false,
                self.client
                    .describe_network_interfaces()
                    .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
                    .send(),
            )
            .await?;
        Ok(out
            .network_interfaces()
            .iter()
            .filter(|n| n.interface_type().is_none_or(|t| t.as_str() != "nat_gateway"))
            .filter_map(|n| {
                let id = n.network_interface_id()?;
                Some(match n.description() {
                    Some(d) if !d.is_empty() => format!("{id} ({d})"),
                    _ => id.to_string(),
                })
            })
            .collect())
    }
}
