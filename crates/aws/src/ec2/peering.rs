//! VPC peering: observe a peering connection (by the ID its status records, by ownership tag
//! when something may exist unrecorded) and the route tables that hold or will hold routes to
//! it; execute peering steps. The accepter side is observed and changed through an adapter for
//! its location (region, role).

use std::collections::HashMap;

use aws_sdk_ec2::types::{PeeringConnectionOptionsRequest, ResourceType, VpcPeeringConnection};
use securecart_plan::network::RouteTable;
use securecart_plan::peering::{COMPONENT, Connection, Side, Step};
use securecart_plan::{Known, Output, Ref};

use super::{Ec2, filter, tag_spec, tags_of};
use crate::{AwsError, ErrorKind};

/// Every call here is an EC2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "ec2";

/// What observation of a peering may rely on.
#[derive(Clone, Copy, Debug)]
pub struct PeeringScope<'a> {
    pub owner_uid: &'a str,
    pub known: &'a Known,
    pub search: bool,
}

fn connection(c: &VpcPeeringConnection) -> Option<Connection> {
    let requester = c.requester_vpc_info();
    let accepter = c.accepter_vpc_info();
    let dns = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
        info.and_then(|i| i.peering_options()).and_then(|o| o.allow_dns_resolution_from_remote_vpc())
    };
    Some(Connection {
        id: c.vpc_peering_connection_id()?.into(),
        requester_vpc_id: requester.and_then(|i| i.vpc_id()).unwrap_or_default().into(),
        accepter_vpc_id: accepter.and_then(|i| i.vpc_id()).unwrap_or_default().into(),
        accepter_owner_id: accepter.and_then(|i| i.owner_id()).map(str::to_string),
        accepter_region: accepter.and_then(|i| i.region()).map(str::to_string),
        accepter_cidr: accepter.and_then(|i| i.cidr_block()).map(str::to_string),
        state: c.status().and_then(|s| s.code()).map(|s| s.as_str().to_string()).unwrap_or_default(),
        message: c.status().and_then(|s| s.message()).map(str::to_string),
        requester_dns: dns(requester),
        accepter_dns: dns(accepter),
        tags: tags_of(c.tags()),
    })
}

impl Ec2 {
    /// The owner's peering connections: by the recorded ID, and by ownership tag when
    /// searching (the tags are checked again here: some Describes ignore filters).
    pub async fn observe_peering_connections(&self, scope: PeeringScope<'_>) -> Result<Vec<Connection>, AwsError> {
        let uid = scope.owner_uid;
        let recorded: Vec<String> = scope.known.get(COMPONENT).cloned().into_iter().collect();
        let mut found = Vec::new();
        if !recorded.is_empty() {
            match self.describe_peering_connections(Some(recorded)).await {
                Err(e) if e.kind == ErrorKind::NotFound => {}
                other => found.extend(other?),
            }
        }
        if scope.search {
            found.extend(self.describe_peering_connections(None).await?);
        }
        let mine = |c: &Connection| c.tags.get(securecart_api::tags::OWNER_UID).is_some_and(|u| u == uid);
        let mut seen = std::collections::BTreeSet::new();
        found.retain(|c| mine(c) && seen.insert(c.id.clone()));
        tracing::debug!(
            service = SERVICE,
            region = self.region(),
            owner_uid = uid,
            found = found.len(),
            "observed peering"
        );
        Ok(found)
    }

    /// A connection as this side sees it (its state and options, from the accepter's side).
    pub async fn peering_connection(&self, id: &str) -> Result<Option<Connection>, AwsError> {
        match self.describe_peering_connections(Some(vec![id.to_string()])).await {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            other => Ok(other?.into_iter().find(|c| c.id == id)),
        }
    }

    async fn describe_peering_connections(&self, ids: Option<Vec<String>>) -> Result<Vec<Connection>, AwsError> {
        let wanted = ids.as_ref();
        let mut out = super::transit::paged(move |token| async move {
            let page = self
                .call(
                    "DescribeVpcPeeringConnections",
                    false,
                    self.client
                        .describe_vpc_peering_connections()
                        .set_vpc_peering_connection_ids(wanted.cloned())
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let items = page.vpc_peering_connections().iter().filter_map(connection).collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await?;
        // Filters an API ignores change nothing: keep only what was asked for.
        if let Some(ids) = wanted {
            out.retain(|c| ids.contains(&c.id));
        }
        Ok(out)
    }

    /// Route tables by ID, with their routes.
    pub async fn route_tables(&self, ids: &[String]) -> Result<Vec<RouteTable>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let by_id = aws_sdk_ec2::types::Filter::builder().name("route-table-id").set_values(Some(ids.to_vec())).build();
        let tables = self.observe_route_tables(&by_id).await?;
        Ok(tables.into_iter().filter(|t| ids.contains(&t.id)).collect())
    }

    /// The primary CIDR block of a VPC, None when there is no such VPC here.
    pub async fn vpc_cidr(&self, vpc_id: &str) -> Result<Option<String>, AwsError> {
        let out =
            self.call("DescribeVpcs", false, self.client.describe_vpcs().filters(filter("vpc-id", vpc_id)).send());
        match out.await {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            other => Ok(other?
                .vpcs()
                .iter()
                .find(|v| v.vpc_id() == Some(vpc_id))
                .and_then(|v| v.cidr_block())
                .map(str::to_string)),
        }
    }

    /// Runs one peering step; returns what it created.
    pub(crate) async fn run_peering(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let resolve = |r: &Ref| crate::resolve(r, created);
        let c = &self.client;
        let gone = crate::ok_if_gone::<()>;
        match step {
            Step::CreateConnection { vpc_id, peer_vpc_id, peer_owner_id, peer_region, tags, .. } => {
                let out = self
                    .call(
                        "CreateVpcPeeringConnection",
                        true,
                        c.create_vpc_peering_connection()
                            .vpc_id(vpc_id)
                            .peer_vpc_id(peer_vpc_id)
                            .set_peer_owner_id(peer_owner_id.clone())
                            .set_peer_region(peer_region.clone())
                            .tag_specifications(tag_spec(ResourceType::VpcPeeringConnection, tags))
                            .send(),
                    )
                    .await?;
                let id = out.vpc_peering_connection().and_then(|p| p.vpc_peering_connection_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateVpcPeeringConnection", "no ID"))?))
            }
            Step::AcceptConnection { connection_id, .. } => {
                self.call(
                    "AcceptVpcPeeringConnection",
                    true,
                    c.accept_vpc_peering_connection().vpc_peering_connection_id(connection_id).send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::SetDnsResolution { connection_id, side, value, .. } => {
                let options =
                    PeeringConnectionOptionsRequest::builder().allow_dns_resolution_from_remote_vpc(*value).build();
                let request = c.modify_vpc_peering_connection_options().vpc_peering_connection_id(connection_id);
                let request = match side {
                    Side::Requester => request.requester_peering_connection_options(options),
                    Side::Accepter => request.accepter_peering_connection_options(options),
                };
                self.call("ModifyVpcPeeringConnectionOptions", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::CreateRoute { route_table_id, destination, connection, .. }
            | Step::ReplaceRoute { route_table_id, destination, connection, .. } => {
                let connection = resolve(connection)?;
                if matches!(step, Step::ReplaceRoute { .. }) {
                    let request = c.replace_route().route_table_id(route_table_id).destination_cidr_block(destination);
                    let request = request.vpc_peering_connection_id(connection);
                    self.call("ReplaceRoute", true, request.send()).await?;
                } else {
                    let request = c.create_route().route_table_id(route_table_id).destination_cidr_block(destination);
                    let request = request.vpc_peering_connection_id(connection);
                    self.call("CreateRoute", true, request.send()).await?;
                }
                Ok(Output::none())
            }
            Step::DeleteRoute { route_table_id, destination, .. } => gone(
                self.call(
                    "DeleteRoute",
                    true,
                    c.delete_route().route_table_id(route_table_id).destination_cidr_block(destination).send(),
                )
                .await
                .map(|_| ()),
            ),
            Step::SetTags { resource_id, tags, .. } => self.set_tags(resource_id, tags).await,
            Step::DeleteConnection { id } => gone(
                self.call(
                    "DeleteVpcPeeringConnection",
                    true,
                    c.delete_vpc_peering_connection().vpc_peering_connection_id(id).send(),
                )
                .await
                .map(|_| ()),
            ),
        }
    }
}
