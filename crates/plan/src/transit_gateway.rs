//! TransitGateway: validate the spec, build the hub it asks for from what its peers publish,
//! plan it (the transit gateway service and the Direct Connect associations) and report the
//! status.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use securecart_api::{
    DirectConnectGatewayStatus, PeeringStatus, RouteTableStatus, TransitGatewaySpec, TransitGatewayStatus,
    VpnConnectionStatus, VpnTunnelStatus,
};
use serde::Serialize;

use crate::context::Context;
use crate::direct_connect;
use crate::owner::{Owner, component, kept_or_first};
use crate::plan::{Location, Plan, Ref};
use crate::step::Step;
use crate::transit::{self, DesiredDirectConnect, DesiredPeering, DesiredVpn, components};
use crate::{InvalidSpec, Known};

/// What a TransitGateway's resources are observed as: the hub and its Direct Connect associations.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub hub: transit::Observed,
    pub direct_connect: Vec<direct_connect::Association>,
}

/// A peer transit gateway as the hub needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub transit_gateway_id: String,
    pub region: String,
    pub account_id: String,
    pub role_arn: Option<String>,
    /// The peer's route table the spec's `peerRouteTable` names, resolved to its ID.
    pub route_table_id: Option<String>,
}

/// What the desired hub is built from besides the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The account the controller's own credentials are in.
    pub account_id: String,
    /// By peering name.
    pub peers: BTreeMap<String, Peer>,
}

fn cidr(value: &str, field: &str) -> Result<Ipv4Net, InvalidSpec> {
    let net: Ipv4Net =
        value.parse().map_err(|_| InvalidSpec(format!("{field}: {value:?} is not an IPv4 CIDR block")))?;
    if net.trunc() != net {
        return Err(InvalidSpec(format!("{field}: {value} has host bits set; did you mean {}?", net.trunc())));
    }
    Ok(net)
}

/// The spec on its own. CEL rejects most of this at admission; this repeats it for objects
/// admitted before a rule existed and adds what CEL cannot say.
pub fn validate(spec: &TransitGatewaySpec) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    if spec.region.is_empty() || !spec.region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad(format!("spec.region: {:?} is not an AWS region name", spec.region));
    }
    let asn = spec.amazon_side_asn;
    if !((64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn)) {
        return bad(format!("spec.amazonSideAsn: {asn} is not within 64512-65534 or 4200000000-4294967294"));
    }
    let mut tables = BTreeSet::new();
    for (i, t) in spec.route_tables.iter().enumerate() {
        if !tables.insert(t.name.as_str()) {
            return bad(format!("spec.routeTables[{i}].name: {:?} is listed twice", t.name));
        }
    }
    let table = |field: String, name: &str| -> Result<(), InvalidSpec> {
        match tables.contains(name) {
            true => Ok(()),
            false => Err(InvalidSpec(format!("{field}: {name:?} is not one of spec.routeTables"))),
        }
    };
    // (route table, destination) -> who routes it, so two attachments never claim one route.
    let mut routed: BTreeMap<(String, Ipv4Net), String> = BTreeMap::new();
    let mut route = |table: &str, net: Ipv4Net, who: String| -> Result<(), InvalidSpec> {
        match routed.insert((table.to_string(), net), who.clone()) {
            Some(other) => {
                Err(InvalidSpec(format!("{who}: {net} in route table {table} is already routed by {other}")))
            }
            None => Ok(()),
        }
    };
    let mut names = BTreeSet::new();
    for (i, p) in spec.peerings.iter().enumerate() {
        let f = format!("spec.peerings[{i}]");
        if !names.insert(("peering", p.name.as_str())) {
            return bad(format!("{f}.name: {:?} is listed twice", p.name));
        }
        table(format!("{f}.routeTable"), &p.route_table)?;
        for (j, r) in p.routes.iter().enumerate() {
            route(&p.route_table, cidr(r, &format!("{f}.routes[{j}]"))?, format!("{f}.routes[{j}]"))?;
        }
        for (j, r) in p.peer_routes.iter().enumerate() {
            cidr(r, &format!("{f}.peerRoutes[{j}]"))?;
        }
        if !p.peer_routes.is_empty() && p.peer_route_table.is_none() {
            return bad(format!("{f}.peerRoutes need {f}.peerRouteTable"));
        }
        let peer = &p.peer;
        match (&peer.transit_gateway_ref, &peer.transit_gateway_id) {
            (Some(_), None) => {
                if peer.region.is_some() || peer.account_id.is_some() || peer.role_arn.is_some() {
                    return bad(format!(
                        "{f}.peer: region, accountId and roleArn come from the referenced TransitGateway"
                    ));
                }
            }
            (None, Some(_)) => {
                if peer.region.is_none() || peer.account_id.is_none() {
                    return bad(format!("{f}.peer: transitGatewayId needs region and accountId"));
                }
                if let (Some(role), Some(account)) = (&peer.role_arn, &peer.account_id)
                    && role.split(':').nth(4) != Some(account.as_str())
                {
                    return bad(format!("{f}.peer.roleArn: {role} is not a role of account {account}"));
                }
                if let Some(t) = &p.peer_route_table
                    && !t.starts_with("tgw-rtb-")
                {
                    return bad(format!(
                        "{f}.peerRouteTable: an external peer's route table is given by ID (tgw-rtb-...)"
                    ));
                }
            }
            _ => return bad(format!("{f}.peer: set exactly one of transitGatewayRef and transitGatewayId")),
        }
    }
    for (i, v) in spec.vpn_connections.iter().enumerate() {
        let f = format!("spec.vpnConnections[{i}]");
        if !names.insert(("vpn", v.name.as_str())) {
            return bad(format!("{f}.name: {:?} is listed twice", v.name));
        }
        if v.customer_gateway.ip_address.parse::<Ipv4Addr>().is_err() {
            return bad(format!(
                "{f}.customerGateway.ipAddress: {:?} is not an IPv4 address",
                v.customer_gateway.ip_address
            ));
        }
        table(format!("{f}.routeTable"), &v.route_table)?;
        for (j, t) in v.propagate_to.iter().enumerate() {
            table(format!("{f}.propagateTo[{j}]"), t)?;
        }
        for (j, r) in v.static_routes.iter().flatten().enumerate() {
            route(&v.route_table, cidr(r, &format!("{f}.staticRoutes[{j}]"))?, format!("{f}.staticRoutes[{j}]"))?;
        }
    }
    for (i, d) in spec.direct_connect_gateways.iter().enumerate() {
        let f = format!("spec.directConnectGateways[{i}]");
        if !names.insert(("dx", d.name.as_str())) {
            return bad(format!("{f}.name: {:?} is listed twice", d.name));
        }
        table(format!("{f}.routeTable"), &d.route_table)?;
        for (j, t) in d.propagate_to.iter().enumerate() {
            table(format!("{f}.propagateTo[{j}]"), t)?;
        }
        if d.allowed_prefixes.is_empty() {
            return bad(format!("{f}.allowedPrefixes: at least one prefix is required"));
        }
        for (j, r) in d.allowed_prefixes.iter().enumerate() {
            cidr(r, &format!("{f}.allowedPrefixes[{j}]"))?;
        }
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return bad(format!("spec.tags: key {key:?} is reserved"));
    }
    Ok(())
}

/// The hub the spec asks for, with its peers resolved.
pub fn desired(spec: &TransitGatewaySpec, owner: &Owner, facts: &Facts) -> Result<transit::Desired, InvalidSpec> {
    validate(spec)?;
    let mut peerings = Vec::new();
    for (i, p) in spec.peerings.iter().enumerate() {
        let f = format!("spec.peerings[{i}]");
        let peer = facts
            .peers
            .get(&p.name)
            .ok_or_else(|| InvalidSpec(format!("{f}.peer: the peer transit gateway is not known")))?;
        if peer.account_id != facts.account_id && peer.role_arn.is_none() {
            return Err(InvalidSpec(format!(
                "{f}.peer.roleArn: the peer is in account {}, not the controller's ({}): a role there is needed to accept",
                peer.account_id, facts.account_id
            )));
        }
        peerings.push(DesiredPeering {
            component: components::peering(&p.name),
            name: p.name.clone(),
            peer_transit_gateway_id: peer.transit_gateway_id.clone(),
            peer_region: peer.region.clone(),
            peer_account_id: peer.account_id.clone(),
            peer_at: Location { region: peer.region.clone(), role_arn: peer.role_arn.clone() },
            route_table: components::route_table(&p.route_table),
            routes: p.routes.clone(),
            peer_route_table_id: peer.route_table_id.clone(),
            peer_routes: p.peer_routes.clone(),
        });
    }
    let vpn_connections = spec
        .vpn_connections
        .iter()
        .map(|v| DesiredVpn {
            component: components::vpn_connection(&v.name),
            name: v.name.clone(),
            customer_gateway: components::customer_gateway(&v.name),
            ip_address: v.customer_gateway.ip_address.clone(),
            bgp_asn: v.customer_gateway.bgp_asn,
            static_routes_only: v.static_routes.is_some(),
            static_routes: v.static_routes.clone().unwrap_or_default(),
            route_table: components::route_table(&v.route_table),
            propagate_to: v.propagate_to.iter().map(|t| components::route_table(t)).collect(),
        })
        .collect();
    let direct_connect = spec
        .direct_connect_gateways
        .iter()
        .map(|d| DesiredDirectConnect {
            component: components::direct_connect(&d.name),
            name: d.name.clone(),
            gateway_id: d.direct_connect_gateway_id.clone(),
            allowed_prefixes: d.allowed_prefixes.clone(),
            route_table: components::route_table(&d.route_table),
            propagate_to: d.propagate_to.iter().map(|t| components::route_table(t)).collect(),
        })
        .collect();
    Ok(transit::Desired {
        owner: owner.clone(),
        user_tags: spec.tags.clone(),
        amazon_side_asn: spec.amazon_side_asn,
        route_tables: spec.route_tables.iter().map(|t| components::route_table(&t.name)).collect(),
        peerings,
        vpn_connections,
        direct_connect,
    })
}

/// The hub's transit gateway, once it exists.
/// The hub's transit gateway: the one `known` names, else the one the planner keeps of
/// duplicates none names (the one with route tables, then the oldest, then the lowest ID).
fn hub<'a>(owner: &Owner, observed: &'a Observed, known: &Known) -> Option<&'a transit::TransitGateway> {
    let o = &observed.hub;
    let tables_on = |id: &str| {
        o.route_tables.iter().filter(|t| t.transit_gateway_id == id && owner.owns(&t.tags) && t.is_live()).count()
    };
    let mut gateways: Vec<&transit::TransitGateway> = o
        .transit_gateways
        .iter()
        .filter(|g| owner.owns(&g.tags) && g.is_live() && component(&g.tags) == Some(components::TRANSIT_GATEWAY))
        .collect();
    gateways.sort_by(|a, b| {
        let age = match (&a.created, &b.created) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        tables_on(&b.id).cmp(&tables_on(&a.id)).then(age).then(a.id.cmp(&b.id))
    });
    kept_or_first(gateways, known, components::TRANSIT_GATEWAY, |g| &g.id)
}

/// Every step from `observed` to `desired`; with None, the teardown.
pub fn plan(desired: Option<&transit::Desired>, cx: &Context, observed: &Observed) -> Plan<Step> {
    let mut plan = transit::plan(desired, cx, &observed.hub).map(Step::Transit);
    let owned: Vec<String> =
        observed.hub.transit_gateways.iter().filter(|g| cx.owner.owns(&g.tags)).map(|g| g.id.clone()).collect();
    // Associations wait for the hub to be available, as everything on it does.
    let hub = hub(cx.owner, observed, cx.known).filter(|g| g.state == "available").map(|g| Ref::Id(g.id.clone()));
    let wanted = desired.map(|d| d.direct_connect.as_slice()).unwrap_or_default();
    plan.extend(direct_connect::plan(wanted, hub.as_ref(), &owned, &observed.direct_connect).map(Step::DirectConnect));
    plan
}

/// (component, ID) of everything the owner owns: tagged resources, and the Direct Connect
/// associations of its hub by the name the spec gives their gateway.
pub fn inventory(spec: &TransitGatewaySpec, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    let o = &observed.hub;
    let tagged = o
        .transit_gateways
        .iter()
        .filter(|g| g.is_live())
        .map(|g| (&g.tags, &g.id))
        .chain(o.route_tables.iter().filter(|t| t.is_live()).map(|t| (&t.tags, &t.id)))
        .chain(o.peerings.iter().filter(|a| a.is_live()).map(|a| (&a.tags, &a.id)))
        .chain(o.customer_gateways.iter().filter(|g| g.is_live()).map(|g| (&g.tags, &g.id)))
        .chain(o.vpn_connections.iter().filter(|v| v.is_live()).map(|v| (&v.tags, &v.id)));
    let mut out: Vec<(String, String)> = tagged
        .filter(|(tags, _)| owner.owns(tags))
        .filter_map(|(tags, id)| Some((component(tags)?.to_string(), id.clone())))
        .collect();
    if let Some(g) = hub(owner, observed, &Known::new()) {
        for d in &spec.direct_connect_gateways {
            let a = observed.direct_connect.iter().find(|a| {
                a.gateway_id == d.direct_connect_gateway_id && a.associated_gateway_id == g.id && a.is_live()
            });
            if let Some(a) = a {
                out.push((components::direct_connect(&d.name), a.id.clone()));
            }
        }
    }
    out
}

pub fn owns_anything(owner: &Owner, observed: &Observed) -> bool {
    let owned: Vec<&str> =
        observed.hub.transit_gateways.iter().filter(|g| owner.owns(&g.tags)).map(|g| g.id.as_str()).collect();
    transit::owns_anything(owner, &observed.hub)
        || observed.direct_connect.iter().any(|a| a.is_live() && owned.contains(&a.associated_gateway_id.as_str()))
}

/// The status: IDs and states of what exists, by the spec's names.
pub fn status(
    spec: &TransitGatewaySpec,
    desired: &transit::Desired,
    owner: &Owner,
    observed: &Observed,
    kept: &Known,
) -> TransitGatewayStatus {
    let o = &observed.hub;
    let g = hub(owner, observed, kept);
    // Of duplicates found, the one kept (`kept` may also hold IDs no longer found).
    let found = inventory(spec, owner, observed);
    let mut known: Known = found.iter().cloned().collect();
    known.extend(found.into_iter().filter(|(c, id)| kept.get(c) == Some(id)));
    let route_tables = spec
        .route_tables
        .iter()
        .filter_map(|t| {
            Some(RouteTableStatus { name: t.name.clone(), id: known.get(&components::route_table(&t.name))?.clone() })
        })
        .collect();
    let peerings = spec
        .peerings
        .iter()
        .filter_map(|p| {
            let id = known.get(&components::peering(&p.name))?;
            let a = o.peerings.iter().find(|a| &a.id == id)?;
            let peer_route_table_id =
                desired.peerings.iter().find(|d| d.name == p.name).and_then(|d| d.peer_route_table_id.clone());
            Some(PeeringStatus {
                name: p.name.clone(),
                attachment_id: a.id.clone(),
                state: a.state.clone(),
                peer_route_table_id,
            })
        })
        .collect();
    let vpn_connections = spec
        .vpn_connections
        .iter()
        .map(|v| {
            let vpn = known
                .get(&components::vpn_connection(&v.name))
                .and_then(|id| o.vpn_connections.iter().find(|x| &x.id == id));
            let attachment = vpn.and_then(|vpn| {
                o.attachments.iter().find(|a| a.resource_type == "vpn" && a.resource_id == vpn.id && a.is_live())
            });
            VpnConnectionStatus {
                name: v.name.clone(),
                vpn_connection_id: vpn.map(|x| x.id.clone()),
                customer_gateway_id: vpn
                    .map(|x| x.customer_gateway_id.clone())
                    .or_else(|| known.get(&components::customer_gateway(&v.name)).cloned()),
                attachment_id: attachment.map(|a| a.id.clone()),
                state: vpn.map(|x| x.state.clone()),
                tunnels: vpn
                    .map(|x| {
                        x.tunnels
                            .iter()
                            .map(|t| VpnTunnelStatus {
                                outside_ip_address: t.outside_ip_address.clone(),
                                status: t.status.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    let direct_connect_gateways = spec
        .direct_connect_gateways
        .iter()
        .map(|d| {
            let a = known
                .get(&components::direct_connect(&d.name))
                .and_then(|id| observed.direct_connect.iter().find(|a| &a.id == id));
            let attachment = g.and_then(|g| {
                o.attachments.iter().find(|x| {
                    x.resource_type == "direct-connect-gateway"
                        && x.resource_id == d.direct_connect_gateway_id
                        && x.transit_gateway_id == g.id
                        && x.is_live()
                })
            });
            DirectConnectGatewayStatus {
                name: d.name.clone(),
                association_id: a.map(|a| a.id.clone()),
                attachment_id: attachment.map(|x| x.id.clone()),
                state: a.map(|a| a.state.clone()),
            }
        })
        .collect();
    TransitGatewayStatus {
        transit_gateway_id: g.map(|g| g.id.clone()),
        state: g.map(|g| g.state.clone()),
        route_tables,
        peerings,
        vpn_connections,
        direct_connect_gateways,
        ..Default::default()
    }
}
