//! Reading transit gateways, VPN, peering and their links back through the EC2 API, in any
//! region and, through STS AssumeRole, in any account of the emulator. Ownership is checked on
//! the tags here: the emulator ignores tag filters on several of these Describes.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, Tag};
use securecart_api::tags::OWNER_UID;

use crate::{Result, aws_config};

/// An EC2 client in `region` with the test credentials.
pub async fn ec2(region: &str) -> Client {
    Client::new(&aws_config(region).await)
}

/// An EC2 client in `region` with the credentials of `role_arn`, assumed through STS (the
/// emulator answers for the role's account).
pub async fn ec2_as(role_arn: &str, region: &str) -> Client {
    let base = aws_config(region).await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("securecart-e2e")
        .configure(&base)
        .build()
        .await;
    let config =
        base.to_builder().credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(provider)).build();
    Client::new(&config)
}

pub fn has_uid(tags: &[Tag], uid: &str) -> bool {
    tags.iter().any(|t| t.key() == Some(OWNER_UID) && t.value() == Some(uid))
}

/// Whether a state of a hub's part, a VPN or a peering connection is one of a resource still there.
pub fn live(state: &str) -> bool {
    !matches!(state, "deleted" | "deleting" | "rejected" | "failed")
}

/// What one TransitGateway owns in a region.
#[derive(Debug, Default)]
pub struct Hub {
    pub transit_gateways: Vec<aws_sdk_ec2::types::TransitGateway>,
    pub route_tables: Vec<aws_sdk_ec2::types::TransitGatewayRouteTable>,
    pub peerings: Vec<aws_sdk_ec2::types::TransitGatewayPeeringAttachment>,
    pub customer_gateways: Vec<aws_sdk_ec2::types::CustomerGateway>,
    pub vpn_connections: Vec<aws_sdk_ec2::types::VpnConnection>,
    /// Every live attachment of its transit gateways (the VpcTiers' included).
    pub attachments: Vec<aws_sdk_ec2::types::TransitGatewayAttachment>,
}

impl Hub {
    pub fn total(&self) -> usize {
        self.transit_gateways.len()
            + self.route_tables.len()
            + self.peerings.len()
            + self.customer_gateways.len()
            + self.vpn_connections.len()
    }

    /// The route table ID tagged with `component`, e.g. `tgw-rtb/prod`.
    pub fn route_table(&self, component: &str) -> Option<String> {
        self.route_tables
            .iter()
            .find(|t| crate::tag(t.tags(), securecart_api::tags::COMPONENT).as_deref() == Some(component))
            .and_then(|t| t.transit_gateway_route_table_id().map(str::to_string))
    }
}

/// Everything live tagged with `uid` on transit gateways in the region of `ec2`.
pub async fn hub_owned(ec2: &Client, uid: &str) -> Result<Hub> {
    let tgws = ec2.describe_transit_gateways().send().await?;
    let transit_gateways: Vec<_> = tgws
        .transit_gateways()
        .iter()
        .filter(|g| has_uid(g.tags(), uid) && g.state().is_some_and(|s| live(s.as_str())))
        .cloned()
        .collect();
    let ids: Vec<String> = transit_gateways.iter().filter_map(|g| g.transit_gateway_id().map(str::to_string)).collect();
    let tables = ec2.describe_transit_gateway_route_tables().send().await?;
    let peerings = ec2.describe_transit_gateway_peering_attachments().send().await?;
    let cgws = ec2.describe_customer_gateways().send().await?;
    let vpns = ec2.describe_vpn_connections().send().await?;
    let attachments = ec2.describe_transit_gateway_attachments().send().await?;
    Ok(Hub {
        route_tables: tables
            .transit_gateway_route_tables()
            .iter()
            .filter(|t| has_uid(t.tags(), uid) && t.state().is_some_and(|s| live(s.as_str())))
            .cloned()
            .collect(),
        peerings: peerings
            .transit_gateway_peering_attachments()
            .iter()
            .filter(|a| has_uid(a.tags(), uid) && a.state().is_some_and(|s| live(s.as_str())))
            .cloned()
            .collect(),
        customer_gateways: cgws
            .customer_gateways()
            .iter()
            .filter(|g| has_uid(g.tags(), uid) && g.state().is_some_and(live))
            .cloned()
            .collect(),
        vpn_connections: vpns
            .vpn_connections()
            .iter()
            .filter(|v| has_uid(v.tags(), uid) && v.state().is_some_and(|s| live(s.as_str())))
            .cloned()
            .collect(),
        attachments: attachments
            .transit_gateway_attachments()
            .iter()
            .filter(|a| a.transit_gateway_id().is_some_and(|t| ids.iter().any(|i| i == t)))
            .filter(|a| a.state().is_some_and(|s| live(s.as_str())))
            .cloned()
            .collect(),
        transit_gateways,
    })
}

/// (attachment ID, state) of every association of a hub route table.
pub async fn associations(ec2: &Client, table: &str) -> Result<Vec<(String, String)>> {
    let out = ec2.get_transit_gateway_route_table_associations().transit_gateway_route_table_id(table).send().await?;
    Ok(out
        .associations()
        .iter()
        .map(|a| {
            (
                a.transit_gateway_attachment_id().unwrap_or_default().to_string(),
                a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            )
        })
        .collect())
}

/// (attachment ID, state) of every propagation to a hub route table.
pub async fn propagations(ec2: &Client, table: &str) -> Result<Vec<(String, String)>> {
    let out = ec2.get_transit_gateway_route_table_propagations().transit_gateway_route_table_id(table).send().await?;
    Ok(out
        .transit_gateway_route_table_propagations()
        .iter()
        .map(|a| {
            (
                a.transit_gateway_attachment_id().unwrap_or_default().to_string(),
                a.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            )
        })
        .collect())
}

/// Destinations of the static routes of a hub route table that are active.
pub async fn static_routes(ec2: &Client, table: &str) -> Result<Vec<String>> {
    let out = ec2
        .search_transit_gateway_routes()
        .transit_gateway_route_table_id(table)
        .filters(Filter::builder().name("type").values("static").build())
        .send()
        .await?;
    Ok(out
        .routes()
        .iter()
        .filter(|r| r.state().is_some_and(|s| s.as_str() == "active"))
        .filter_map(|r| r.destination_cidr_block().map(str::to_string))
        .collect())
}

/// The live attachments of a VPC.
pub async fn vpc_attachments(
    ec2: &Client,
    vpc_id: &str,
) -> Result<Vec<aws_sdk_ec2::types::TransitGatewayVpcAttachment>> {
    let out = ec2
        .describe_transit_gateway_vpc_attachments()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .send()
        .await?;
    Ok(out
        .transit_gateway_vpc_attachments()
        .iter()
        .filter(|a| a.vpc_id() == Some(vpc_id) && a.state().is_some_and(|s| live(s.as_str())))
        .cloned()
        .collect())
}

/// (destination, target) of every route of a VPC route table, the target being whichever ID it
/// names.
pub async fn vpc_routes(ec2: &Client, table: &str) -> Result<Vec<(String, String)>> {
    let out = ec2.describe_route_tables().route_table_ids(table).send().await?;
    Ok(out
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .filter_map(|r| {
            let target = r
                .transit_gateway_id()
                .or(r.vpc_peering_connection_id())
                .or(r.nat_gateway_id())
                .or(r.gateway_id())
                .unwrap_or_default();
            Some((r.destination_cidr_block()?.to_string(), target.to_string()))
        })
        .collect())
}

/// Live peering connections tagged with `uid`, as the region of `ec2` sees them.
pub async fn peering_connections(ec2: &Client, uid: &str) -> Result<Vec<aws_sdk_ec2::types::VpcPeeringConnection>> {
    let out = ec2.describe_vpc_peering_connections().send().await?;
    Ok(out
        .vpc_peering_connections()
        .iter()
        .filter(|c| has_uid(c.tags(), uid))
        .filter(|c| c.status().and_then(|s| s.code()).is_some_and(|s| live(s.as_str())))
        .cloned()
        .collect())
}

/// Every live resource of any type the operator makes that carries `uid`, as `type id`.
pub async fn anything_tagged(ec2: &Client, uid: &str) -> Result<Vec<String>> {
    let hub = hub_owned(ec2, uid).await?;
    let mut out: Vec<String> = Vec::new();
    out.extend(hub.transit_gateways.iter().map(|g| format!("tgw {}", g.transit_gateway_id().unwrap_or_default())));
    out.extend(
        hub.route_tables.iter().map(|t| format!("tgw-rtb {}", t.transit_gateway_route_table_id().unwrap_or_default())),
    );
    out.extend(
        hub.peerings.iter().map(|a| format!("peering {}", a.transit_gateway_attachment_id().unwrap_or_default())),
    );
    out.extend(hub.customer_gateways.iter().map(|g| format!("cgw {}", g.customer_gateway_id().unwrap_or_default())));
    out.extend(hub.vpn_connections.iter().map(|v| format!("vpn {}", v.vpn_connection_id().unwrap_or_default())));
    let attachments = ec2.describe_transit_gateway_attachments().send().await?;
    out.extend(
        attachments
            .transit_gateway_attachments()
            .iter()
            .filter(|a| has_uid(a.tags(), uid) && a.state().is_some_and(|s| live(s.as_str())))
            .map(|a| format!("attachment {}", a.transit_gateway_attachment_id().unwrap_or_default())),
    );
    out.extend(
        peering_connections(ec2, uid)
            .await?
            .iter()
            .map(|c| format!("pcx {}", c.vpc_peering_connection_id().unwrap_or_default())),
    );
    let f = || Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid).build();
    out.extend(
        ec2.describe_vpcs()
            .filters(f())
            .send()
            .await?
            .vpcs()
            .iter()
            .map(|v| format!("vpc {}", v.vpc_id().unwrap_or_default())),
    );
    out.extend(
        ec2.describe_subnets()
            .filters(f())
            .send()
            .await?
            .subnets()
            .iter()
            .map(|s| format!("subnet {}", s.subnet_id().unwrap_or_default())),
    );
    out.extend(
        ec2.describe_route_tables()
            .filters(f())
            .send()
            .await?
            .route_tables()
            .iter()
            .map(|t| format!("rtb {}", t.route_table_id().unwrap_or_default())),
    );
    Ok(out)
}
