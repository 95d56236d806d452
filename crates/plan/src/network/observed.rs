//! What the EC2 adapter reads of an owner's network: plain data, filled from Describe calls (or
//! from a region-wide snapshot, or from the results of the steps just executed).

use serde::Serialize;

use crate::owner::Tags;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub internet_gateways: Vec<InternetGateway>,
    pub route_tables: Vec<RouteTable>,
    pub nat_gateways: Vec<NatGateway>,
    pub addresses: Vec<Address>,
    pub flow_logs: Vec<FlowLog>,
    /// The VPC's transit gateway attachments (read only for a VpcTier that has or had one).
    pub transit_attachments: Vec<crate::transit::VpcAttachment>,
    /// The RDS and ElastiCache subnet groups it has or may have made (read by name).
    pub subnet_groups: Vec<crate::subnet_group::SubnetGroup>,
}

impl Observed {
    /// Only what carries `owner_uid`: one owner's share of a region-wide snapshot.
    pub fn owned_by(&self, owner_uid: &str) -> Observed {
        let mine = |tags: &Tags| tags.get(securecart_api::tags::OWNER_UID).is_some_and(|u| u == owner_uid);
        Observed {
            vpcs: self.vpcs.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            subnets: self.subnets.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            internet_gateways: self.internet_gateways.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            route_tables: self.route_tables.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            nat_gateways: self.nat_gateways.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            addresses: self.addresses.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            flow_logs: self.flow_logs.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            transit_attachments: self.transit_attachments.iter().filter(|r| mine(&r.tags)).cloned().collect(),
            subnet_groups: self.subnet_groups.iter().filter(|r| mine(&r.tags)).cloned().collect(),
        }
    }

    /// Every resource of `other` whose ID this one lacks is added (a targeted search's finds).
    pub fn merge(&mut self, other: Observed) {
        fn add<T, F: Fn(&T) -> &str>(into: &mut Vec<T>, from: Vec<T>, id: F) {
            for item in from {
                if !into.iter().any(|i| id(i) == id(&item)) {
                    into.push(item);
                }
            }
        }
        add(&mut self.vpcs, other.vpcs, |r| &r.id);
        add(&mut self.subnets, other.subnets, |r| &r.id);
        add(&mut self.internet_gateways, other.internet_gateways, |r| &r.id);
        add(&mut self.route_tables, other.route_tables, |r| &r.id);
        add(&mut self.nat_gateways, other.nat_gateways, |r| &r.id);
        add(&mut self.addresses, other.addresses, |r| &r.allocation_id);
        add(&mut self.flow_logs, other.flow_logs, |r| &r.id);
        add(&mut self.transit_attachments, other.transit_attachments, |r| &r.id);
        add(&mut self.subnet_groups, other.subnet_groups, |r| &r.arn);
    }

    /// (component, ID) of every resource carrying `owner_uid`, for the status inventory.
    pub fn inventory(&self, owner_uid: &str) -> Vec<(String, String)> {
        let mine = self.owned_by(owner_uid);
        let mut out = Vec::new();
        let mut push = |tags: &Tags, id: &str| {
            if let Some(c) = crate::owner::component(tags) {
                out.push((c.to_string(), id.to_string()));
            }
        };
        mine.vpcs.iter().for_each(|r| push(&r.tags, &r.id));
        mine.subnets.iter().for_each(|r| push(&r.tags, &r.id));
        mine.internet_gateways.iter().for_each(|r| push(&r.tags, &r.id));
        mine.route_tables.iter().for_each(|r| push(&r.tags, &r.id));
        mine.nat_gateways.iter().filter(|n| n.holds_resources()).for_each(|r| push(&r.tags, &r.id));
        mine.addresses.iter().for_each(|r| push(&r.tags, &r.allocation_id));
        mine.flow_logs.iter().for_each(|r| push(&r.tags, &r.id));
        mine.transit_attachments.iter().filter(|a| a.is_live()).for_each(|r| push(&r.tags, &r.id));
        mine.subnet_groups.iter().for_each(|r| push(&r.tags, &r.name));
        out
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Vpc {
    pub id: String,
    pub cidr_block: String,
    /// None when not observed (a snapshot has no batched read for VPC attributes).
    pub dns_support: Option<bool>,
    pub dns_hostnames: Option<bool>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub cidr_block: String,
    pub zone: String,
    pub map_public_ip_on_launch: bool,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct InternetGateway {
    pub id: String,
    pub attached_vpc_ids: Vec<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub routes: Vec<Route>,
    pub associations: Vec<Association>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Route {
    pub destination: String,
    pub gateway_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
}

impl Route {
    /// Its target is a transit gateway or a peering connection: the route belongs to whoever
    /// owns that target (a VpcTier's attachment, a VpcPeering), not to the default-route logic.
    pub fn targets_a_link(&self) -> bool {
        self.transit_gateway_id.is_some() || self.vpc_peering_connection_id.is_some()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Association {
    pub id: String,
    pub subnet_id: Option<String>,
    pub main: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NatGateway {
    pub id: String,
    pub subnet_id: String,
    /// pending | available | deleting | deleted | failed
    pub state: String,
    pub allocation_id: Option<String>,
    pub public_ip: Option<String>,
    /// RFC 3339, as AWS reports it.
    pub created: Option<String>,
    pub tags: Tags,
}

impl NatGateway {
    /// Pending or available: it exists and counts.
    pub fn is_live(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "available")
    }
    /// Still holds its subnet and Elastic IP.
    pub fn holds_resources(&self) -> bool {
        self.is_live() || self.state == "deleting"
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Address {
    pub allocation_id: String,
    pub public_ip: Option<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FlowLog {
    pub id: String,
    pub resource_id: String,
    pub traffic_type: String,
    /// s3 | cloud-watch-logs
    pub destination_type: String,
    pub destination: Option<String>,
    pub log_group: Option<String>,
    pub role_arn: Option<String>,
    /// RFC 3339, as AWS reports it.
    pub created: Option<String>,
    pub tags: Tags,
}
