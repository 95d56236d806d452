//! Transit gateways: observe a hub (by the IDs its status records, by ownership tag when
//! something may exist unrecorded) with its route tables' associations, propagations and static
//! routes, and a VPC's attachments; execute transit steps. Ownership is always re-checked on the
//! tags of what comes back: some Describes here ignore their tag filters.

use std::collections::HashMap;

use aws_sdk_ec2::types::{
    AutoAcceptSharedAttachmentsValue, DefaultRouteTableAssociationValue, DefaultRouteTablePropagationValue,
    GatewayType, ResourceType, TransitGatewayRequestOptions, VpnConnectionOptionsSpecification,
};
use securecart_plan::transit::{
    self, Attachment, CustomerGateway, Link, Observed, PeeringAttachment, Route, RouteTable, Step, Tunnel,
    VpcAttachment, VpnConnection, components,
};
use securecart_plan::{Known, Output, Ref};

use super::{Ec2, filter, owner_filter, tag_spec, tags_of};
use crate::{AwsError, ErrorKind};

/// Every call here is an EC2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "ec2";

/// What observation of a hub may rely on.
#[derive(Clone, Copy, Debug)]
pub struct HubScope<'a> {
    pub owner_uid: &'a str,
    pub known: &'a Known,
    pub search: bool,
}

/// Which hub route tables a Describe asks for.
#[derive(Clone, Copy)]
enum HubTables<'a> {
    Ids(&'a [String]),
    OfGateway(&'a str),
}

pub(crate) fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

fn known_ids(known: &Known, is: impl Fn(&str) -> bool) -> Vec<String> {
    known.iter().filter(|(c, _)| is(c)).map(|(_, id)| id.clone()).collect()
}

/// Every page of a paginated Describe: `page(token)` answers one page's items and the next token.
pub(crate) async fn paged<T, F, Fut>(mut page: F) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        match next {
            Some(next) => token = Some(next),
            None => return Ok(out),
        }
    }
}

/// A read by ID naming something deleted behind the controller's back fails whole: fall back to
/// the owner's tag.
async fn by_id_or_tag<T, F, Fut>(ids: Vec<String>, search: bool, read: F) -> Result<Vec<T>, AwsError>
where
    F: Fn(Option<Vec<String>>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, AwsError>>,
{
    if search {
        return read(None).await;
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    match read(Some(ids)).await {
        Err(e) if e.kind == ErrorKind::NotFound => read(None).await,
        other => other,
    }
}

fn dedup<T>(mut items: Vec<T>, id: impl Fn(&T) -> &String) -> Vec<T> {
    let mut seen = std::collections::BTreeSet::new();
    items.retain(|i| seen.insert(id(i).clone()));
    items
}

impl Ec2 {
    /// The owner's hub: nothing at all when nothing is recorded and nothing searched for;
    /// otherwise its gateways, each one's route tables (with links and static routes for the
    /// owned ones), peerings and attachments, and its customer gateways and VPN connections.
    pub async fn observe_hub(&self, scope: HubScope<'_>) -> Result<Observed, AwsError> {
        let (uid, known, search) = (scope.owner_uid, scope.known, scope.search);
        let gateway_ids = known_ids(known, |c| c == components::TRANSIT_GATEWAY);
        let cgw_ids = known_ids(known, |c| c.starts_with("cgw/"));
        let vpn_ids = known_ids(known, |c| c.starts_with("vpn/"));
        let (transit_gateways, customer_gateways, vpn_connections) = futures::try_join!(
            by_id_or_tag(gateway_ids, search, |ids| self.describe_transit_gateways(ids, uid)),
            by_id_or_tag(cgw_ids, search, |ids| self.describe_customer_gateways(ids, uid)),
            by_id_or_tag(vpn_ids, search, |ids| self.describe_vpn_connections(ids, uid)),
        )?;
        let mine = |tags: &securecart_plan::Tags| tags.get(securecart_api::tags::OWNER_UID).is_some_and(|u| u == uid);
        let mut observed = Observed {
            transit_gateways: transit_gateways.into_iter().filter(|g| mine(&g.tags)).collect(),
            customer_gateways: customer_gateways.into_iter().filter(|g| mine(&g.tags)).collect(),
            vpn_connections: vpn_connections.into_iter().filter(|v| mine(&v.tags)).collect(),
            ..Observed::default()
        };
        let ids: Vec<String> = observed.transit_gateways.iter().map(|g| g.id.clone()).collect();
        for id in &ids {
            let (tables, attachments) = futures::try_join!(
                self.describe_hub_route_tables(HubTables::OfGateway(id)),
                self.describe_attachments(id),
            )?;
            let owned: Vec<String> = tables
                .into_iter()
                .filter(|t| &t.transit_gateway_id == id && mine(&t.tags) && t.state != "deleted")
                .map(|t| t.id)
                .collect();
            observed.route_tables.extend(self.observe_hub_route_tables(&owned).await?);
            observed.attachments.extend(attachments.into_iter().filter(|a| &a.transit_gateway_id == id));
        }
        if !ids.is_empty() {
            let peerings = self.describe_peerings().await?;
            observed.peerings = peerings.into_iter().filter(|a| ids.contains(&a.transit_gateway_id)).collect();
        }
        tracing::debug!(
            service = SERVICE,
            region = self.region(),
            owner_uid = uid,
            search,
            gateways = ids.len(),
            "observed hub"
        );
        Ok(observed)
    }

    /// Route tables by ID, each with its associations, propagations and static routes.
    pub async fn observe_hub_route_tables(&self, ids: &[String]) -> Result<Vec<RouteTable>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let tables = self.describe_hub_route_tables(HubTables::Ids(ids)).await?;
        let tables = tables.into_iter().filter(|t| ids.contains(&t.id));
        let mut out = Vec::new();
        for mut t in tables {
            if t.state == "deleted" {
                out.push(t);
                continue;
            }
            let (associations, propagations, routes) = futures::try_join!(
                self.route_table_associations(&t.id),
                self.route_table_propagations(&t.id),
                self.static_routes(&t.id),
            )?;
            (t.associations, t.propagations, t.routes) = (associations, propagations, routes);
            out.push(t);
        }
        Ok(out)
    }

    /// A VPC's transit gateway attachments, with their association and propagations among
    /// `hub_tables` (the route tables of the hub it attaches to).
    pub async fn observe_vpc_attachments(
        &self,
        vpc_id: &str,
        hub_tables: &[String],
    ) -> Result<Vec<VpcAttachment>, AwsError> {
        let mut attachments = paged(move |token| async move {
            let page = self
                .call(
                    "DescribeTransitGatewayVpcAttachments",
                    false,
                    self.client
                        .describe_transit_gateway_vpc_attachments()
                        .filters(filter("vpc-id", vpc_id))
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let items: Vec<_> = page
                .transit_gateway_vpc_attachments()
                .iter()
                .filter_map(|a| {
                    Some(VpcAttachment {
                        id: a.transit_gateway_attachment_id()?.into(),
                        transit_gateway_id: a.transit_gateway_id().unwrap_or_default().into(),
                        vpc_id: a.vpc_id().unwrap_or_default().into(),
                        subnet_ids: a.subnet_ids().to_vec(),
                        state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        created: time(a.creation_time()),
                        tags: tags_of(a.tags()),
                        association: None,
                        propagations: Vec::new(),
                    })
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await?;
        attachments.retain(|a| a.vpc_id == vpc_id && a.state != "deleted");
        if attachments.is_empty() {
            return Ok(attachments);
        }
        for table in hub_tables {
            let (associations, propagations) =
                futures::try_join!(self.route_table_associations(table), self.route_table_propagations(table))?;
            for a in &mut attachments {
                if let Some(l) = associations.iter().find(|l| l.attachment_id == a.id && l.state != "disassociated") {
                    a.association = Some((table.clone(), l.state.clone()));
                }
                if let Some(l) = propagations.iter().find(|l| l.attachment_id == a.id) {
                    a.propagations.push((table.clone(), l.state.clone()));
                }
            }
        }
        Ok(attachments)
    }

    async fn describe_transit_gateways(
        &self,
        ids: Option<Vec<String>>,
        uid: &str,
    ) -> Result<Vec<transit::TransitGateway>, AwsError> {
        let ids = ids.as_ref();
        let out = paged(move |token| async move {
            let request = self.client.describe_transit_gateways().set_next_token(token);
            let request = match ids {
                Some(ids) => request.set_transit_gateway_ids(Some(ids.clone())),
                None => request.filters(owner_filter(uid)),
            };
            let page = self.call("DescribeTransitGateways", false, request.send()).await?;
            let items: Vec<_> = page
                .transit_gateways()
                .iter()
                .filter_map(|g| {
                    Some(transit::TransitGateway {
                        id: g.transit_gateway_id()?.into(),
                        state: g.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        amazon_side_asn: g
                            .options()
                            .and_then(|o| o.amazon_side_asn())
                            .and_then(|a| u32::try_from(a).ok()),
                        created: time(g.creation_time()),
                        tags: tags_of(g.tags()),
                    })
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await?;
        Ok(dedup(out, |g| &g.id))
    }

    async fn describe_hub_route_tables(&self, which: HubTables<'_>) -> Result<Vec<RouteTable>, AwsError> {
        paged(move |token| async move {
            let request = self.client.describe_transit_gateway_route_tables().set_next_token(token);
            let request = match which {
                HubTables::Ids(ids) => request.set_transit_gateway_route_table_ids(Some(ids.to_vec())),
                HubTables::OfGateway(id) => request.filters(filter("transit-gateway-id", id)),
            };
            let page = self.call("DescribeTransitGatewayRouteTables", false, request.send()).await?;
            let items: Vec<_> = page
                .transit_gateway_route_tables()
                .iter()
                .filter_map(|t| {
                    Some(RouteTable {
                        id: t.transit_gateway_route_table_id()?.into(),
                        transit_gateway_id: t.transit_gateway_id().unwrap_or_default().into(),
                        state: t.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        created: time(t.creation_time()),
                        tags: tags_of(t.tags()),
                        ..RouteTable::default()
                    })
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn route_table_associations(&self, table: &str) -> Result<Vec<Link>, AwsError> {
        paged(move |token| async move {
            let page = self
                .call(
                    "GetTransitGatewayRouteTableAssociations",
                    false,
                    self.client
                        .get_transit_gateway_route_table_associations()
                        .transit_gateway_route_table_id(table)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let items: Vec<_> = page
                .associations()
                .iter()
                .filter_map(|a| {
                    Some(Link {
                        attachment_id: a.transit_gateway_attachment_id()?.into(),
                        state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    })
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn route_table_propagations(&self, table: &str) -> Result<Vec<Link>, AwsError> {
        paged(move |token| async move {
            let page = self
                .call(
                    "GetTransitGatewayRouteTablePropagations",
                    false,
                    self.client
                        .get_transit_gateway_route_table_propagations()
                        .transit_gateway_route_table_id(table)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let items: Vec<_> = page
                .transit_gateway_route_table_propagations()
                .iter()
                .filter_map(|a| {
                    Some(Link {
                        attachment_id: a.transit_gateway_attachment_id()?.into(),
                        state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    })
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn static_routes(&self, table: &str) -> Result<Vec<Route>, AwsError> {
        let out = self
            .call(
                "SearchTransitGatewayRoutes",
                false,
                self.client
                    .search_transit_gateway_routes()
                    .transit_gateway_route_table_id(table)
                    .filters(filter("type", "static"))
                    .send(),
            )
            .await?;
        Ok(out
            .routes()
            .iter()
            .filter_map(|r| {
                Some(Route {
                    destination: r.destination_cidr_block()?.into(),
                    attachment_id: r
                        .transit_gateway_attachments()
                        .first()
                        .and_then(|a| a.transit_gateway_attachment_id())
                        .map(str::to_string),
                    state: r.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn describe_attachments(&self, transit_gateway_id: &str) -> Result<Vec<Attachment>, AwsError> {
        paged(move |token| async move {
            let page = self
                .call(
                    "DescribeTransitGatewayAttachments",
                    false,
                    self.client
                        .describe_transit_gateway_attachments()
                        .filters(filter("transit-gateway-id", transit_gateway_id))
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let items: Vec<_> = page
                .transit_gateway_attachments()
                .iter()
                .filter_map(|a| {
                    Some(Attachment {
                        id: a.transit_gateway_attachment_id()?.into(),
                        transit_gateway_id: a.transit_gateway_id().unwrap_or_default().into(),
                        resource_type: a.resource_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                        resource_id: a.resource_id().unwrap_or_default().into(),
                        state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        tags: tags_of(a.tags()),
                    })
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_peerings(&self) -> Result<Vec<PeeringAttachment>, AwsError> {
        paged(move |token| async move {
            let page = self
                .call(
                    "DescribeTransitGatewayPeeringAttachments",
                    false,
                    self.client.describe_transit_gateway_peering_attachments().set_next_token(token).send(),
                )
                .await?;
            let items: Vec<_> = page
                .transit_gateway_peering_attachments()
                .iter()
                .filter_map(|a| {
                    let requester = a.requester_tgw_info()?;
                    let accepter = a.accepter_tgw_info()?;
                    Some(PeeringAttachment {
                        id: a.transit_gateway_attachment_id()?.into(),
                        transit_gateway_id: requester.transit_gateway_id().unwrap_or_default().into(),
                        peer_transit_gateway_id: accepter.transit_gateway_id().unwrap_or_default().into(),
                        peer_region: accepter.region().unwrap_or_default().into(),
                        peer_account_id: accepter.owner_id().unwrap_or_default().into(),
                        state: a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        created: time(a.creation_time()),
                        tags: tags_of(a.tags()),
                    })
                })
                .collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    async fn describe_customer_gateways(
        &self,
        ids: Option<Vec<String>>,
        uid: &str,
    ) -> Result<Vec<CustomerGateway>, AwsError> {
        let request = self.client.describe_customer_gateways();
        let request = match ids {
            Some(ids) => request.set_customer_gateway_ids(Some(ids)),
            None => request.filters(owner_filter(uid)),
        };
        let out = self.call("DescribeCustomerGateways", false, request.send()).await?;
        Ok(out
            .customer_gateways()
            .iter()
            .filter_map(|g| {
                Some(CustomerGateway {
                    id: g.customer_gateway_id()?.into(),
                    ip_address: g.ip_address().unwrap_or_default().into(),
                    bgp_asn: g.bgp_asn().and_then(|a| a.parse().ok()),
                    state: g.state().unwrap_or_default().into(),
                    tags: tags_of(g.tags()),
                })
            })
            .collect())
    }

    async fn describe_vpn_connections(
        &self,
        ids: Option<Vec<String>>,
        uid: &str,
    ) -> Result<Vec<VpnConnection>, AwsError> {
        let request = self.client.describe_vpn_connections();
        let request = match ids {
            Some(ids) => request.set_vpn_connection_ids(Some(ids)),
            None => request.filters(owner_filter(uid)),
        };
        let out = self.call("DescribeVpnConnections", false, request.send()).await?;
        Ok(out
            .vpn_connections()
            .iter()
            .filter_map(|v| {
                Some(VpnConnection {
                    id: v.vpn_connection_id()?.into(),
                    customer_gateway_id: v.customer_gateway_id().unwrap_or_default().into(),
                    transit_gateway_id: v.transit_gateway_id().map(str::to_string),
                    state: v.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    static_routes_only: v.options().and_then(|o| o.static_routes_only()),
                    tunnels: v
                        .vgw_telemetry()
                        .iter()
                        .map(|t| Tunnel {
                            outside_ip_address: t.outside_ip_address().unwrap_or_default().into(),
                            status: t.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                        })
                        .collect(),
                    tags: tags_of(v.tags()),
                })
            })
            .collect())
    }

    /// Runs one transit step; returns what it created.
    pub(crate) async fn run_transit(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let resolve = |r: &Ref| crate::resolve(r, created);
        let c = &self.client;
        let gone = crate::ok_if_gone::<()>;
        match step {
            Step::CreateTransitGateway { component, amazon_side_asn, tags } => {
                let options = TransitGatewayRequestOptions::builder()
                    .amazon_side_asn(i64::from(*amazon_side_asn))
                    .default_route_table_association(DefaultRouteTableAssociationValue::Disable)
                    .default_route_table_propagation(DefaultRouteTablePropagationValue::Disable)
                    .auto_accept_shared_attachments(AutoAcceptSharedAttachmentsValue::Disable)
                    .build();
                let out = self
                    .call(
                        "CreateTransitGateway",
                        true,
                        c.create_transit_gateway()
                            .description(format!("securecart {component}"))
                            .options(options)
                            .tag_specifications(tag_spec(ResourceType::TransitGateway, tags))
                            .send(),
                    )
                    .await?;
                let g = out.transit_gateway();
                let id = g
                    .and_then(|g| g.transit_gateway_id())
                    .ok_or_else(|| AwsError::malformed("CreateTransitGateway", "no ID"))?;
                Ok(Output::id(id).with("state", g.and_then(|g| g.state()).map(|s| s.as_str().to_string())))
            }
            Step::CreateRouteTable { transit_gateway, tags, .. } => {
                let out = self
                    .call(
                        "CreateTransitGatewayRouteTable",
                        true,
                        c.create_transit_gateway_route_table()
                            .transit_gateway_id(resolve(transit_gateway)?)
                            .tag_specifications(tag_spec(ResourceType::TransitGatewayRouteTable, tags))
                            .send(),
                    )
                    .await?;
                let id = out.transit_gateway_route_table().and_then(|t| t.transit_gateway_route_table_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateTransitGatewayRouteTable", "no ID"))?))
            }
            Step::CreatePeering {
                transit_gateway,
                peer_transit_gateway_id,
                peer_region,
                peer_account_id,
                tags,
                ..
            } => {
                let out = self
                    .call(
                        "CreateTransitGatewayPeeringAttachment",
                        true,
                        c.create_transit_gateway_peering_attachment()
                            .transit_gateway_id(resolve(transit_gateway)?)
                            .peer_transit_gateway_id(peer_transit_gateway_id)
                            .peer_region(peer_region)
                            .peer_account_id(peer_account_id)
                            .tag_specifications(tag_spec(ResourceType::TransitGatewayAttachment, tags))
                            .send(),
                    )
                    .await?;
                let id = out.transit_gateway_peering_attachment().and_then(|a| a.transit_gateway_attachment_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateTransitGatewayPeeringAttachment", "no ID"))?))
            }
            Step::AcceptPeering { attachment_id, .. } => {
                self.call(
                    "AcceptTransitGatewayPeeringAttachment",
                    true,
                    c.accept_transit_gateway_peering_attachment().transit_gateway_attachment_id(attachment_id).send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::CreateCustomerGateway { ip_address, bgp_asn, tags, .. } => {
                let request = c
                    .create_customer_gateway()
                    .r#type(GatewayType::Ipsec1)
                    .ip_address(ip_address)
                    .tag_specifications(tag_spec(ResourceType::CustomerGateway, tags));
                let request = match i32::try_from(*bgp_asn) {
                    Ok(asn) => request.bgp_asn(asn),
                    Err(_) => request.bgp_asn_extended(i64::from(*bgp_asn)),
                };
                let out = self.call("CreateCustomerGateway", true, request.send()).await?;
                let id = out.customer_gateway().and_then(|g| g.customer_gateway_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateCustomerGateway", "no ID"))?))
            }
            Step::CreateVpnConnection { transit_gateway, customer_gateway, static_routes_only, tags, .. } => {
                let out = self
                    .call(
                        "CreateVpnConnection",
                        true,
                        c.create_vpn_connection()
                            .r#type("ipsec.1")
                            .customer_gateway_id(resolve(customer_gateway)?)
                            .transit_gateway_id(resolve(transit_gateway)?)
                            .options(
                                VpnConnectionOptionsSpecification::builder()
                                    .static_routes_only(*static_routes_only)
                                    .build(),
                            )
                            .tag_specifications(tag_spec(ResourceType::VpnConnection, tags))
                            .send(),
                    )
                    .await?;
                let id = out.vpn_connection().and_then(|v| v.vpn_connection_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateVpnConnection", "no ID"))?))
            }
            Step::ReplaceVpnCustomerGateway { vpn_connection_id, customer_gateway } => {
                self.call(
                    "ModifyVpnConnection",
                    true,
                    c.modify_vpn_connection()
                        .vpn_connection_id(vpn_connection_id)
                        .customer_gateway_id(resolve(customer_gateway)?)
                        .send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::CreateVpcAttachment { transit_gateway_id, vpc, subnets, tags, .. } => {
                let subnets = subnets.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
                let out = self
                    .call(
                        "CreateTransitGatewayVpcAttachment",
                        true,
                        c.create_transit_gateway_vpc_attachment()
                            .transit_gateway_id(transit_gateway_id)
                            .vpc_id(resolve(vpc)?)
                            .set_subnet_ids(Some(subnets))
                            .tag_specifications(tag_spec(ResourceType::TransitGatewayAttachment, tags))
                            .send(),
                    )
                    .await?;
                let id = out.transit_gateway_vpc_attachment().and_then(|a| a.transit_gateway_attachment_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateTransitGatewayVpcAttachment", "no ID"))?))
            }
            Step::ModifyVpcAttachment { attachment_id, add, remove } => {
                let add = add.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
                self.call(
                    "ModifyTransitGatewayVpcAttachment",
                    true,
                    c.modify_transit_gateway_vpc_attachment()
                        .transit_gateway_attachment_id(attachment_id)
                        .set_add_subnet_ids((!add.is_empty()).then_some(add))
                        .set_remove_subnet_ids((!remove.is_empty()).then(|| remove.clone()))
                        .send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::Associate { route_table, attachment_id, .. } => {
                self.call(
                    "AssociateTransitGatewayRouteTable",
                    true,
                    c.associate_transit_gateway_route_table()
                        .transit_gateway_route_table_id(resolve(route_table)?)
                        .transit_gateway_attachment_id(attachment_id)
                        .send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::Disassociate { route_table_id, attachment_id, .. } => gone(
                self.call(
                    "DisassociateTransitGatewayRouteTable",
                    true,
                    c.disassociate_transit_gateway_route_table()
                        .transit_gateway_route_table_id(route_table_id)
                        .transit_gateway_attachment_id(attachment_id)
                        .send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::EnablePropagation { route_table, attachment_id } => {
                self.call(
                    "EnableTransitGatewayRouteTablePropagation",
                    true,
                    c.enable_transit_gateway_route_table_propagation()
                        .transit_gateway_route_table_id(resolve(route_table)?)
                        .transit_gateway_attachment_id(attachment_id)
                        .send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::DisablePropagation { route_table_id, attachment_id } => gone(
                self.call(
                    "DisableTransitGatewayRouteTablePropagation",
                    true,
                    c.disable_transit_gateway_route_table_propagation()
                        .transit_gateway_route_table_id(route_table_id)
                        .transit_gateway_attachment_id(attachment_id)
                        .send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::CreateRoute { route_table, destination, attachment_id, .. } => {
                self.call(
                    "CreateTransitGatewayRoute",
                    true,
                    c.create_transit_gateway_route()
                        .transit_gateway_route_table_id(resolve(route_table)?)
                        .destination_cidr_block(destination)
                        .transit_gateway_attachment_id(attachment_id)
                        .send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::ReplaceRoute { route_table_id, destination, attachment_id, .. } => {
                self.call(
                    "ReplaceTransitGatewayRoute",
                    true,
                    c.replace_transit_gateway_route()
                        .transit_gateway_route_table_id(route_table_id)
                        .destination_cidr_block(destination)
                        .transit_gateway_attachment_id(attachment_id)
                        .send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::DeleteRoute { route_table_id, destination, .. } => gone(
                self.call(
                    "DeleteTransitGatewayRoute",
                    true,
                    c.delete_transit_gateway_route()
                        .transit_gateway_route_table_id(route_table_id)
                        .destination_cidr_block(destination)
                        .send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::SetTags { resource_id, tags, .. } => self.set_tags(resource_id, tags).await,
            Step::DeleteVpcAttachment { id } => gone(
                self.call(
                    "DeleteTransitGatewayVpcAttachment",
                    true,
                    c.delete_transit_gateway_vpc_attachment().transit_gateway_attachment_id(id).send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::DeleteVpnConnection { id } => gone(
                self.call("DeleteVpnConnection", true, c.delete_vpn_connection().vpn_connection_id(id).send())
                    .await
                    .map(|_| ()),
            ),
            Step::DeleteCustomerGateway { id } => gone(
                self.call("DeleteCustomerGateway", true, c.delete_customer_gateway().customer_gateway_id(id).send())
                    .await
                    .map(|_| ()),
            ),
            Step::DeletePeering { id } => gone(
                self.call(
                    "DeleteTransitGatewayPeeringAttachment",
                    true,
                    c.delete_transit_gateway_peering_attachment().transit_gateway_attachment_id(id).send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::DeleteRouteTable { id } => gone(
                self.call(
                    "DeleteTransitGatewayRouteTable",
                    true,
                    c.delete_transit_gateway_route_table().transit_gateway_route_table_id(id).send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::DeleteTransitGateway { id } => gone(
                self.call("DeleteTransitGateway", true, c.delete_transit_gateway().transit_gateway_id(id).send())
                    .await
                    .map(|_| ()),
            ),
        }
    }
}
