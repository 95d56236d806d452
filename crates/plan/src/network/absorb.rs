//! Folding executed steps into the observed model: what AWS answered to a create or change is
//! what now exists, so the next pass plans against it without reading it back.

use std::collections::BTreeMap;

use super::desired::FlowLogTarget;
use super::observed::{
    Address, Association, FlowLog, InternetGateway, NatGateway, Observed, Route, RouteTable, Subnet, Vpc,
};
use super::step::{RouteTarget, Step, VpcAttribute};
use crate::plan::{PlanStep, Ref};
use crate::step::Output;

/// Applies `executed` (in the order they ran) to `observed`. `created` maps the components of
/// earlier passes' creates to their IDs, for references that name them.
pub fn absorb(observed: &mut Observed, executed: &[(&Step, &Output)]) {
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    for (step, output) in executed {
        let id = |r: &Ref| match r {
            Ref::Id(id) => Some(id.clone()),
            Ref::Created(c) => created.get(c).cloned(),
        };
        apply(observed, step, output, &id);
        if let (Some(c), Some(new)) = (step.creates(), &output.id) {
            created.insert(c.to_string(), new.clone());
        }
    }
}

fn apply(o: &mut Observed, step: &Step, out: &Output, id: &dyn Fn(&Ref) -> Option<String>) {
    let new_id = || out.id.clone().unwrap_or_default();
    match step {
        Step::CreateVpc { cidr_block, tags, .. } => o.vpcs.push(Vpc {
            id: new_id(),
            cidr_block: cidr_block.clone(),
            // What EC2 gives a new VPC.
            dns_support: Some(true),
            dns_hostnames: Some(false),
            tags: tags.clone(),
        }),
        Step::SetVpcAttribute { vpc, attribute, value } => {
            if let Some(v) = id(vpc).and_then(|vid| o.vpcs.iter_mut().find(|v| v.id == vid)) {
                match attribute {
                    VpcAttribute::EnableDnsSupport => v.dns_support = Some(*value),
                    VpcAttribute::EnableDnsHostnames => v.dns_hostnames = Some(*value),
                }
            }
        }
        Step::CreateSubnet { vpc, cidr_block, zone, tags, .. } => o.subnets.push(Subnet {
            id: new_id(),
            vpc_id: id(vpc).unwrap_or_default(),
            cidr_block: cidr_block.clone(),
            zone: zone.clone(),
            map_public_ip_on_launch: false,
            tags: tags.clone(),
        }),
        Step::SetSubnetPublicIpOnLaunch { subnet, value } => {
            if let Some(s) = id(subnet).and_then(|sid| o.subnets.iter_mut().find(|s| s.id == sid)) {
                s.map_public_ip_on_launch = *value;
            }
        }
        Step::CreateInternetGateway { tags, .. } => {
            o.internet_gateways.push(InternetGateway { id: new_id(), attached_vpc_ids: Vec::new(), tags: tags.clone() })
        }
        Step::AttachInternetGateway { internet_gateway, vpc } => {
            if let (Some(gid), Some(vid)) = (id(internet_gateway), id(vpc))
                && let Some(g) = o.internet_gateways.iter_mut().find(|g| g.id == gid)
                && !g.attached_vpc_ids.contains(&vid)
            {
                g.attached_vpc_ids.push(vid);
            }
        }
        Step::DetachInternetGateway { id: gid, vpc_id } => {
            if let Some(g) = o.internet_gateways.iter_mut().find(|g| &g.id == gid) {
                g.attached_vpc_ids.retain(|v| v != vpc_id);
            }
        }
        Step::DeleteInternetGateway { id: gid } => o.internet_gateways.retain(|g| &g.id != gid),
        Step::AllocateAddress { tags, .. } => o.addresses.push(Address {
            allocation_id: new_id(),
            public_ip: out.field("public_ip").map(str::to_string),
            tags: tags.clone(),
        }),
        Step::ReleaseAddress { allocation_id } => o.addresses.retain(|a| &a.allocation_id != allocation_id),
        Step::CreateNatGateway { subnet, address, tags, .. } => {
            let allocation_id = id(address);
            let public_ip = out.field("public_ip").map(str::to_string).or_else(|| {
                o.addresses.iter().find(|a| Some(&a.allocation_id) == allocation_id.as_ref())?.public_ip.clone()
            });
            o.nat_gateways.push(NatGateway {
                id: new_id(),
                subnet_id: id(subnet).unwrap_or_default(),
                // AWS answers `pending`; the gateway becomes available minutes later.
                state: out.field("state").unwrap_or("pending").to_string(),
                allocation_id,
                public_ip,
                created: out.field("created").map(str::to_string),
                tags: tags.clone(),
            });
        }
        // A deleted NAT gateway lingers in `deleting`, holding its subnet and address.
        Step::DeleteNatGateway { id: nid } => {
            if let Some(n) = o.nat_gateways.iter_mut().find(|n| &n.id == nid) {
                n.state = "deleting".into();
            }
        }
        Step::CreateRouteTable { vpc, tags, .. } => {
            let vpc_id = id(vpc).unwrap_or_default();
            let local = o.vpcs.iter().find(|v| v.id == vpc_id).map(|v| Route {
                destination: v.cidr_block.clone(),
                gateway_id: Some("local".into()),
                nat_gateway_id: None,
            });
            o.route_tables.push(RouteTable {
                id: new_id(),
                vpc_id,
                routes: local.into_iter().collect(),
                associations: Vec::new(),
                tags: tags.clone(),
            });
        }
        Step::DeleteRouteTable { id: tid } => o.route_tables.retain(|t| &t.id != tid),
        Step::CreateRoute { route_table, destination, target }
        | Step::ReplaceRoute { route_table, destination, target } => {
            let (gateway_id, nat_gateway_id) = match target {
                RouteTarget::InternetGateway(r) => (id(r), None),
                RouteTarget::NatGateway(r) => (None, id(r)),
            };
            if let Some(t) = id(route_table).and_then(|tid| o.route_tables.iter_mut().find(|t| t.id == tid)) {
                t.routes.retain(|r| &r.destination != destination);
                t.routes.push(Route { destination: destination.clone(), gateway_id, nat_gateway_id });
            }
        }
        Step::DeleteRoute { route_table_id, destination } => {
            if let Some(t) = o.route_tables.iter_mut().find(|t| &t.id == route_table_id) {
                t.routes.retain(|r| &r.destination != destination);
            }
        }
        Step::AssociateRouteTable { route_table, subnet } => {
            if let Some(t) = id(route_table).and_then(|tid| o.route_tables.iter_mut().find(|t| t.id == tid)) {
                t.associations.push(Association { id: new_id(), subnet_id: id(subnet), main: false });
            }
        }
        Step::ReplaceRouteTableAssociation { association_id, route_table } => {
            let mut subnet_id = None;
            for t in &mut o.route_tables {
                if let Some(a) = t.associations.iter().find(|a| &a.id == association_id) {
                    subnet_id = a.subnet_id.clone();
                }
                t.associations.retain(|a| &a.id != association_id);
            }
            if let Some(t) = id(route_table).and_then(|tid| o.route_tables.iter_mut().find(|t| t.id == tid)) {
                t.associations.push(Association { id: new_id(), subnet_id, main: false });
            }
        }
        Step::DisassociateRouteTable { association_id } => {
            for t in &mut o.route_tables {
                t.associations.retain(|a| &a.id != association_id);
            }
        }
        Step::DeleteSubnet { id: sid } => o.subnets.retain(|s| &s.id != sid),
        Step::DeleteVpc { id: vid } => o.vpcs.retain(|v| &v.id != vid),
        Step::CreateFlowLog { vpc, traffic_type, destination, tags, .. } => {
            let (destination_type, destination, log_group, role_arn) = match destination {
                FlowLogTarget::S3 { bucket_arn } => ("s3", Some(bucket_arn.clone()), None, None),
                FlowLogTarget::CloudWatchLogs { log_group, role_arn } => {
                    ("cloud-watch-logs", None, Some(log_group.clone()), Some(role_arn.clone()))
                }
            };
            o.flow_logs.push(FlowLog {
                id: new_id(),
                resource_id: id(vpc).unwrap_or_default(),
                traffic_type: traffic_type.clone(),
                destination_type: destination_type.into(),
                destination,
                log_group,
                role_arn,
                created: None,
                tags: tags.clone(),
            });
        }
        Step::DeleteFlowLog { id: fid } => o.flow_logs.retain(|f| &f.id != fid),
        Step::SetTags { resource_id, tags, .. } => {
            let target = o
                .vpcs
                .iter_mut()
                .map(|r| (&r.id, &mut r.tags))
                .chain(o.subnets.iter_mut().map(|r| (&r.id, &mut r.tags)))
                .chain(o.internet_gateways.iter_mut().map(|r| (&r.id, &mut r.tags)))
                .chain(o.route_tables.iter_mut().map(|r| (&r.id, &mut r.tags)))
                .chain(o.nat_gateways.iter_mut().map(|r| (&r.id, &mut r.tags)))
                .chain(o.addresses.iter_mut().map(|r| (&r.allocation_id, &mut r.tags)))
                .chain(o.flow_logs.iter_mut().map(|r| (&r.id, &mut r.tags)))
                .find(|(rid, _)| *rid == resource_id);
            if let Some((_, existing)) = target {
                existing.extend(tags.clone());
            }
        }
    }
}
