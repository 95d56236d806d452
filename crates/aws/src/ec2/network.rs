//! EC2 networking: observe an owner's VPC resources (by ID and VPC where the status records
//! them, by ownership tag where it may not, or from a region-wide snapshot for drift checks), and
//! execute networking steps.

use std::collections::HashMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType,
    VpcAttributeName,
};
use securecart_api::tags::OWNER_KIND;
use securecart_plan::network::{self, FlowLogTarget, Observed, RouteTarget, Step, VpcAttribute, components};
use securecart_plan::{Known, Output, Ref};

use super::{Ec2, filter, first_failure, owner_filter, tag_spec, tags_of};
use crate::{AwsError, ErrorKind};

/// Every call here is an EC2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "ec2";

/// What observation of an owner's network may rely on.
#[derive(Clone, Copy, Debug)]
pub struct NetworkScope<'a> {
    pub owner_uid: &'a str,
    /// IDs the owner's status records, by component.
    pub known: &'a Known,
    /// Search by ownership tag too: something may exist that the status does not record (a
    /// create whose outcome is unknown, a teardown, a status from before the inventory).
    pub search: bool,
}

/// Which resources a Describe asks for: by filter or by ID.
enum Select {
    Filter(Filter),
    Ids(Vec<String>),
}

impl Select {
    fn vpcs(
        &self,
        r: aws_sdk_ec2::operation::describe_vpcs::builders::DescribeVpcsFluentBuilder,
    ) -> aws_sdk_ec2::operation::describe_vpcs::builders::DescribeVpcsFluentBuilder {
        match self {
            Select::Filter(f) => r.filters(f.clone()),
            Select::Ids(ids) => r.set_vpc_ids(Some(ids.clone())),
        }
    }
    fn internet_gateways(
        &self,
        r: aws_sdk_ec2::operation::describe_internet_gateways::builders::DescribeInternetGatewaysFluentBuilder,
    ) -> aws_sdk_ec2::operation::describe_internet_gateways::builders::DescribeInternetGatewaysFluentBuilder {
        match self {
            Select::Filter(f) => r.filters(f.clone()),
            Select::Ids(ids) => r.set_internet_gateway_ids(Some(ids.clone())),
        }
    }
    fn addresses(
        &self,
        r: aws_sdk_ec2::operation::describe_addresses::builders::DescribeAddressesFluentBuilder,
    ) -> aws_sdk_ec2::operation::describe_addresses::builders::DescribeAddressesFluentBuilder {
        match self {
            Select::Filter(f) => r.filters(f.clone()),
            Select::Ids(ids) => r.set_allocation_ids(Some(ids.clone())),
        }
    }
}

/// IDs of `known` whose component passes `is`.
fn ids(known: &Known, is: impl Fn(&str) -> bool) -> Vec<String> {
    known.iter().filter(|(c, _)| is(c)).map(|(_, id)| id.clone()).collect()
}

/// A read by ID that names a resource deleted behind the controller's back fails whole; the
/// tag search then finds what is left.
async fn by_id_or_tag<T, F, Fut>(ids: Vec<String>, uid: &str, read: F) -> Result<Vec<T>, AwsError>
where
    F: Fn(Select) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, AwsError>>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    match read(Select::Ids(ids)).await {
        Err(e) if e.kind == ErrorKind::NotFound => read(Select::Filter(owner_filter(uid))).await,
        other => other,
    }
}

impl Ec2 {
    /// The owner's network as far as `scope` lets it be known, at the least cost: nothing at
    /// all for an owner that has recorded nothing, reads scoped to its VPC and IDs when the status
    /// records them, a tag search when something may exist unrecorded. Ownership is checked by
    /// the planner on the tags of everything returned.
    pub async fn observe_network(&self, scope: NetworkScope<'_>) -> Result<Observed, AwsError> {
        let uid = scope.owner_uid;
        let mut observed = match scope.known.get(components::VPC) {
            Some(vpc_id) => self.observe_in_vpc(vpc_id, scope).await?,
            None => Observed::default(),
        };
        if scope.search {
            let tagged = self.observe_vpc_matching(&Select::Filter(owner_filter(uid)), true).await?;
            observed.merge(tagged);
        }
        tracing::debug!(
            service = SERVICE,
            region = self.region(),
            owner_uid = uid,
            by_vpc = scope.known.contains_key(components::VPC),
            search = scope.search,
            "observed network"
        );
        Ok(observed)
    }

    /// One Describe per resource type, scoped to the VPC (or to the recorded IDs, for what is
    /// not in a VPC).
    async fn observe_in_vpc(&self, vpc_id: &str, scope: NetworkScope<'_>) -> Result<Observed, AwsError> {
        let uid = scope.owner_uid;
        let in_vpc = filter("vpc-id", vpc_id);
        let of_vpc = filter("resource-id", vpc_id);
        let igw_ids = ids(scope.known, |c| c == components::INTERNET_GATEWAY);
        let eip_ids = ids(scope.known, |c| c.starts_with("eip/"));
        let (vpcs, subnets, internet_gateways, route_tables, nat_gateways, addresses, flow_logs) = futures::try_join!(
            by_id_or_tag(vec![vpc_id.to_string()], uid, |s| async move { self.observe_vpcs(&s, true).await }),
            self.observe_subnets(&in_vpc),
            async {
                // Attached ones (a stray twin included) by VPC; a recorded one that is detached by ID.
                let mut attached =
                    self.observe_internet_gateways(&Select::Filter(filter("attachment.vpc-id", vpc_id))).await?;
                let missing: Vec<String> =
                    igw_ids.into_iter().filter(|id| !attached.iter().any(|g| &g.id == id)).collect();
                attached.extend(
                    by_id_or_tag(missing, uid, |s| async move { self.observe_internet_gateways(&s).await }).await?,
                );
                Ok::<_, AwsError>(attached)
            },
            self.observe_route_tables(&in_vpc),
            self.observe_nat_gateways(&in_vpc),
            by_id_or_tag(eip_ids, uid, |s| async move { self.observe_addresses(&s).await }),
            self.observe_flow_logs(&of_vpc),
        )?;
        // Filters an API ignores change nothing: keep only what is in this VPC.
        let subnets = subnets.into_iter().filter(|s| s.vpc_id == vpc_id).collect();
        let route_tables = route_tables.into_iter().filter(|t| t.vpc_id == vpc_id).collect::<Vec<_>>();
        Ok(Observed {
            vpcs,
            subnets,
            internet_gateways: dedup_by_id(internet_gateways, |g| &g.id),
            route_tables,
            nat_gateways,
            addresses,
            flow_logs: flow_logs.into_iter().filter(|f| f.resource_id == vpc_id).collect(),
            transit_attachments: Vec::new(),
            subnet_groups: Vec::new(),
        })
    }

    /// The owner's resources for a periodic drift check: taken from a region-wide snapshot of
    /// every VpcTier's resources (one Describe per resource type, however many objects), when
    /// one exists that is younger than `max_age` and was taken after this owner's last change,
    /// so it holds everything the controller made for it. VPC DNS attributes have no batched
    /// read: a snapshot leaves them unknown, and other observations check them.
    pub async fn observe_network_shared(
        &self,
        owner_uid: &str,
        max_age: std::time::Duration,
    ) -> Result<Observed, AwsError> {
        let kind = Filter::builder().name(format!("tag:{OWNER_KIND}")).values("VpcTier").build();
        let snapshot = self
            .aws
            .shared("vpc-tiers", &self.region, owner_uid, max_age, || async move {
                self.observe_vpc_matching(&Select::Filter(kind), false).await
            })
            .await?;
        Ok(snapshot.owned_by(owner_uid))
    }

    async fn observe_vpc_matching(&self, select: &Select, attributes: bool) -> Result<Observed, AwsError> {
        let Select::Filter(filter) = select else {
            return Err(AwsError::malformed("Observe", "a network search needs a filter"));
        };
        let (vpcs, subnets, internet_gateways, route_tables, nat_gateways, addresses, flow_logs) = futures::try_join!(
            self.observe_vpcs(select, attributes),
            self.observe_subnets(filter),
            self.observe_internet_gateways(select),
            self.observe_route_tables(filter),
            self.observe_nat_gateways(filter),
            self.observe_addresses(select),
            self.observe_flow_logs(filter),
        )?;
        let transit_attachments = Vec::new();
        Ok(Observed {
            vpcs,
            subnets,
            internet_gateways,
            route_tables,
            nat_gateways,
            addresses,
            flow_logs,
            transit_attachments,
            subnet_groups: Vec::new(),
        })
    }

    async fn observe_vpcs(&self, select: &Select, attributes: bool) -> Result<Vec<network::Vpc>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call("DescribeVpcs", false, select.vpcs(self.client.describe_vpcs()).set_next_token(token).send())
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
                out.push(network::Vpc {
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

    async fn observe_subnets(&self, filter: &Filter) -> Result<Vec<network::Subnet>, AwsError> {
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
                Some(network::Subnet {
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

    async fn observe_internet_gateways(&self, select: &Select) -> Result<Vec<network::InternetGateway>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "DescribeInternetGateways",
                    false,
                    select.internet_gateways(self.client.describe_internet_gateways()).set_next_token(token).send(),
                )
                .await?;
            out.extend(page.internet_gateways().iter().filter_map(|g| {
                Some(network::InternetGateway {
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

    pub(crate) async fn observe_route_tables(&self, filter: &Filter) -> Result<Vec<network::RouteTable>, AwsError> {
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
                Some(network::RouteTable {
                    id: t.route_table_id()?.into(),
                    vpc_id: t.vpc_id().unwrap_or_default().into(),
                    routes: t
                        .routes()
                        .iter()
                        .filter_map(|r| {
                            Some(network::Route {
                                destination: r.destination_cidr_block()?.into(),
                                gateway_id: r.gateway_id().map(str::to_string),
                                nat_gateway_id: r.nat_gateway_id().map(str::to_string),
                                transit_gateway_id: r.transit_gateway_id().map(str::to_string),
                                vpc_peering_connection_id: r.vpc_peering_connection_id().map(str::to_string),
                            })
                        })
                        .collect(),
                    associations: t
                        .associations()
                        .iter()
                        .filter_map(|a| {
                            Some(network::Association {
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

    async fn observe_nat_gateways(&self, filter: &Filter) -> Result<Vec<network::NatGateway>, AwsError> {
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
                Some(network::NatGateway {
                    id: n.nat_gateway_id()?.into(),
                    subnet_id: n.subnet_id().unwrap_or_default().into(),
                    state: n.state().map(|s| s.as_str().to_ascii_lowercase()).unwrap_or_default(),
                    allocation_id: address.and_then(|a| a.allocation_id()).map(str::to_string),
                    public_ip: address.and_then(|a| a.public_ip()).map(str::to_string),
                    created: n.create_time().map(|t| t.to_string()),
                    tags: tags_of(n.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn observe_addresses(&self, select: &Select) -> Result<Vec<network::Address>, AwsError> {
        let out =
            self.call("DescribeAddresses", false, select.addresses(self.client.describe_addresses()).send()).await?;
        Ok(out
            .addresses()
            .iter()
            .filter_map(|a| {
                Some(network::Address {
                    allocation_id: a.allocation_id()?.into(),
                    public_ip: a.public_ip().map(str::to_string),
                    tags: tags_of(a.tags()),
                })
            })
            .collect())
    }

    async fn observe_flow_logs(&self, filter: &Filter) -> Result<Vec<network::FlowLog>, AwsError> {
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
                Some(network::FlowLog {
                    id: f.flow_log_id()?.into(),
                    resource_id: f.resource_id().unwrap_or_default().into(),
                    traffic_type: f.traffic_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    destination_type: f.log_destination_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    destination: f.log_destination().map(str::to_string),
                    log_group: f.log_group_name().map(str::to_string),
                    role_arn: f.deliver_logs_permission_arn().map(str::to_string),
                    created: f.creation_time().map(|t| t.to_string()),
                    tags: tags_of(f.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Runs one networking step; returns what it created. `token` is the create's idempotency
    /// token, sent where EC2 takes one.
    pub(crate) async fn run_network(
        &self,
        step: &Step,
        created: &HashMap<String, String>,
        token: Option<&str>,
    ) -> Result<Output, AwsError> {
        let resolve = |r: &Ref| crate::resolve(r, created);
        let c = &self.client;
        let ok_if_gone = crate::ok_if_gone::<()>;
        let token = token.map(str::to_string);
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
                Ok(Output::id(id))
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
                Ok(Output::id(id))
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
                let id =
                    out.allocation_id().ok_or_else(|| AwsError::malformed("AllocateAddress", "no allocation ID"))?;
                Ok(Output::id(id).with("public_ip", out.public_ip()))
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
                Ok(Output::none())
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
                let id = out.subnet().and_then(|s| s.subnet_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateSubnet", "no ID"))?))
            }
            Step::CreateRouteTable { vpc, tags, .. } => {
                let out = self
                    .call(
                        "CreateRouteTable",
                        true,
                        c.create_route_table()
                            .vpc_id(resolve(vpc)?)
                            .set_client_token(token)
                            .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
                            .send(),
                    )
                    .await?;
                let id = out
                    .route_table()
                    .and_then(|t| t.route_table_id())
                    .ok_or_else(|| AwsError::malformed("CreateRouteTable", "no ID"))?;
                Ok(Output::id(id))
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
                Ok(Output::none())
            }
            Step::CreateFlowLog { vpc, traffic_type, destination, tags, .. } => {
                let request = c
                    .create_flow_logs()
                    .resource_type(FlowLogsResourceType::Vpc)
                    .resource_ids(resolve(vpc)?)
                    .traffic_type(TrafficType::from(traffic_type.as_str()))
                    .set_client_token(token)
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
                Ok(Output::id(
                    out.flow_log_ids().first().ok_or_else(|| AwsError::malformed("CreateFlowLogs", "no ID"))?,
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
                Ok(Output::none())
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
                Ok(Output { id: out.association_id().map(str::to_string), ..Output::none() })
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
                Ok(Output { id: out.new_association_id().map(str::to_string), ..Output::none() })
            }
            Step::CreateNatGateway { subnet, address, tags, .. } => {
                let out = self
                    .call(
                        "CreateNatGateway",
                        true,
                        c.create_nat_gateway()
                            .subnet_id(resolve(subnet)?)
                            .allocation_id(resolve(address)?)
                            .set_client_token(token)
                            .tag_specifications(tag_spec(ResourceType::Natgateway, tags))
                            .send(),
                    )
                    .await?;
                let nat = out.nat_gateway();
                let id = nat
                    .and_then(|n| n.nat_gateway_id())
                    .ok_or_else(|| AwsError::malformed("CreateNatGateway", "no ID"))?;
                Ok(Output::id(id)
                    .with("state", nat.and_then(|n| n.state()).map(|s| s.as_str().to_ascii_lowercase()))
                    .with("created", nat.and_then(|n| n.create_time()).map(|t| t.to_string()))
                    .with("public_ip", nat.and_then(|n| n.nat_gateway_addresses().first()).and_then(|a| a.public_ip())))
            }
            Step::CreateRoute { route_table, destination, target }
            | Step::ReplaceRoute { route_table, destination, target } => {
                let replace = matches!(step, Step::ReplaceRoute { .. });
                let table = resolve(route_table)?;
                let (gateway, nat, transit_gateway) = match target {
                    RouteTarget::InternetGateway(r) => (Some(resolve(r)?), None, None),
                    RouteTarget::NatGateway(r) => (None, Some(resolve(r)?), None),
                    RouteTarget::TransitGateway(r) => (None, None, Some(resolve(r)?)),
                };
                if replace {
                    let request = c
                        .replace_route()
                        .route_table_id(table)
                        .destination_cidr_block(destination)
                        .set_gateway_id(gateway)
                        .set_nat_gateway_id(nat)
                        .set_transit_gateway_id(transit_gateway);
                    self.call("ReplaceRoute", true, request.send()).await?;
                } else {
                    let request = c
                        .create_route()
                        .route_table_id(table)
                        .destination_cidr_block(destination)
                        .set_gateway_id(gateway)
                        .set_nat_gateway_id(nat)
                        .set_transit_gateway_id(transit_gateway);
                    self.call("CreateRoute", true, request.send()).await?;
                }
                Ok(Output::none())
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
                first_failure("DeleteFlowLogs", out.unsuccessful(), true).map(|()| Output::none())
            }
        }
    }
}

fn dedup_by_id<T>(mut items: Vec<T>, id: impl Fn(&T) -> &String) -> Vec<T> {
    let mut seen = std::collections::BTreeSet::new();
    items.retain(|i| seen.insert(id(i).clone()));
    items
}
