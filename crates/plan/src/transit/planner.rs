//! Planning a hub: the transit gateway, its route tables, peerings, customer gateways and VPN
//! connections (matched by ownership tags), and the associations, propagations and static
//! routes of the attachments the hub owns. Ownership of an association, a propagation or a route
//! is by its attachment: the hub manages those of its peerings, VPNs and Direct Connect
//! gateways, never those of a VpcTier's attachment, and never a route to anything else.
//! Everything AWS brings up over minutes (a transit gateway, a route table, an attachment) is
//! waited for before anything is asked of it. Teardown is the same planner with nothing desired.

use std::collections::{BTreeMap, BTreeSet};

use super::desired::{Desired, components};
use super::observed::{Observed, RouteTable};
use super::step::Step;
use crate::context::Context;
use crate::owner::{Rank, Tags, match_ranked, missing_tags};
use crate::plan::{Location, Plan, Ref};

pub(crate) struct Planner<'a> {
    pub cx: &'a Context<'a>,
    pub user_tags: Tags,
    pub plan: Plan<Step>,
}

impl Planner<'_> {
    pub fn push(&mut self, step: Step) {
        self.plan.steps.push(step);
    }
    pub fn wait(&mut self, why: String) {
        self.plan.waiting.push(why);
    }
    pub fn tags(&self, component: &str) -> Tags {
        self.cx.owner.tags(component, &self.user_tags)
    }
    pub fn check_tags(&mut self, component: &str, id: &str, actual: &Tags) {
        let missing = missing_tags(&self.tags(component), actual);
        if !missing.is_empty() {
            self.push(Step::SetTags { resource_id: id.into(), component: component.into(), tags: missing });
        }
    }
    fn named(&self, tags: &Tags, id: &str) -> bool {
        crate::owner::component(tags).is_some_and(|c| self.cx.named(c, id))
    }
}

/// What one attachment the hub owns should have: its association, propagations and routes.
struct Links {
    attachment_id: String,
    what: String,
    route_table: String,
    propagate_to: Vec<String>,
    routes: Vec<String>,
}

/// The steps that take the hub in `observed` to `desired`; with None, the teardown.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Plan<Step> {
    let owner = cx.owner;
    let mut p =
        Planner { cx, user_tags: desired.map(|d| d.user_tags.clone()).unwrap_or_default(), plan: Plan::default() };

    // The transit gateway. Of duplicates (no client token: a lost create may have made two),
    // the one the status names, then the one with route tables, then the oldest.
    let live_gateways: Vec<_> = observed.transit_gateways.iter().filter(|g| g.is_live()).cloned().collect();
    let tables_on = |id: &str| {
        observed
            .route_tables
            .iter()
            .filter(|t| t.transit_gateway_id == id && owner.owns(&t.tags) && t.is_live())
            .count()
    };
    let gateways = match_ranked(
        &live_gateways,
        cx,
        |g| &g.tags,
        |g| &g.id,
        |c, g| {
            c == components::TRANSIT_GATEWAY
                && desired.is_some_and(|d| g.amazon_side_asn.is_none_or(|asn| asn == d.amazon_side_asn))
        },
        |g| Rank {
            named: cx.named(components::TRANSIT_GATEWAY, &g.id),
            dependents: tables_on(&g.id),
            created: g.created.as_deref(),
        },
    );
    let hub = gateways.kept.get(components::TRANSIT_GATEWAY).copied();
    let hub_id = hub.filter(|g| g.state == "available").map(|g| g.id.clone());
    match (desired, hub) {
        (Some(d), None) => {
            let c = components::TRANSIT_GATEWAY;
            p.push(Step::CreateTransitGateway {
                component: c.into(),
                amazon_side_asn: d.amazon_side_asn,
                tags: p.tags(c),
            });
            p.wait("the transit gateway to become available".into());
        }
        (Some(_), Some(g)) => {
            p.check_tags(components::TRANSIT_GATEWAY, &g.id, &g.tags);
            if g.state != "available" {
                p.wait(format!("transit gateway {} to become available (now {})", g.id, g.state));
            }
        }
        (None, _) => {}
    }
    let on_hub = |tgw: &str| hub_id.as_deref() == Some(tgw);

    // Route tables: only once the hub is available.
    let live_tables: Vec<RouteTable> = observed.route_tables.iter().filter(|t| t.is_live()).cloned().collect();
    let want_tables: BTreeSet<&String> = desired.map(|d| d.route_tables.iter().collect()).unwrap_or_default();
    let tables = match_ranked(
        &live_tables,
        cx,
        |t| &t.tags,
        |t| &t.id,
        |c, t| want_tables.contains(&c.to_string()) && on_hub(&t.transit_gateway_id),
        |t| Rank { named: p.named(&t.tags, &t.id), dependents: t.associations.len(), created: t.created.as_deref() },
    );
    // Route tables that can take associations and routes now, by component.
    let mut ready_tables: BTreeMap<String, Ref> = BTreeMap::new();
    if let (Some(d), Some(hub_id)) = (desired, &hub_id) {
        for c in &d.route_tables {
            match tables.kept.get(c) {
                Some(t) => {
                    p.check_tags(c, &t.id, &t.tags);
                    if t.state == "available" {
                        ready_tables.insert(c.clone(), Ref::Id(t.id.clone()));
                    } else {
                        p.wait(format!("hub route table {} to become available", t.id));
                    }
                }
                None => {
                    p.push(Step::CreateRouteTable {
                        component: c.clone(),
                        transit_gateway: Ref::Id(hub_id.clone()),
                        tags: p.tags(c),
                    });
                    p.wait(format!("hub route table {c} to become available"));
                }
            }
        }
    }

    let mut links: Vec<Links> = Vec::new();

    // Peerings: created here, accepted on the peer's side, then associated and routed.
    let live_peerings: Vec<_> = observed.peerings.iter().filter(|a| a.is_live()).cloned().collect();
    let peerings = match_ranked(
        &live_peerings,
        cx,
        |a| &a.tags,
        |a| &a.id,
        |c, a| {
            on_hub(&a.transit_gateway_id)
                && desired.is_some_and(|d| {
                    d.peerings.iter().any(|w| {
                        w.component == c
                            && w.peer_transit_gateway_id == a.peer_transit_gateway_id
                            && w.peer_region == a.peer_region
                            && w.peer_account_id == a.peer_account_id
                    })
                })
        },
        |a| Rank { named: p.named(&a.tags, &a.id), dependents: 0, created: a.created.as_deref() },
    );
    let mut peer_sides: Vec<(String, Location, Option<String>, Vec<String>)> = Vec::new();
    if let (Some(d), Some(hub_id)) = (desired, &hub_id) {
        for w in &d.peerings {
            match peerings.kept.get(&w.component) {
                None => p.push(Step::CreatePeering {
                    component: w.component.clone(),
                    transit_gateway: Ref::Id(hub_id.clone()),
                    peer_transit_gateway_id: w.peer_transit_gateway_id.clone(),
                    peer_region: w.peer_region.clone(),
                    peer_account_id: w.peer_account_id.clone(),
                    tags: p.tags(&w.component),
                }),
                Some(a) => {
                    p.check_tags(&w.component, &a.id, &a.tags);
                    match a.state.as_str() {
                        "pendingAcceptance" => {
                            p.push(Step::AcceptPeering { attachment_id: a.id.clone(), at: w.peer_at.clone() })
                        }
                        "available" => {
                            links.push(Links {
                                attachment_id: a.id.clone(),
                                what: format!("peering {}", w.name),
                                route_table: w.route_table.clone(),
                                propagate_to: Vec::new(),
                                routes: w.routes.clone(),
                            });
                            peer_sides.push((
                                a.id.clone(),
                                w.peer_at.clone(),
                                w.peer_route_table_id.clone(),
                                w.peer_routes.clone(),
                            ));
                        }
                        state => p.wait(format!("peering {} ({}) to become available (now {state})", a.id, w.name)),
                    }
                }
            }
        }
    }

    // Customer gateways: a new address or ASN is a new gateway; the VPN moves to it in place.
    let live_customer_gateways: Vec<_> = observed.customer_gateways.iter().filter(|g| g.is_live()).cloned().collect();
    let customer_gateways = match_ranked(
        &live_customer_gateways,
        cx,
        |g| &g.tags,
        |g| &g.id,
        |c, g| {
            desired.is_some_and(|d| {
                d.vpn_connections.iter().any(|v| {
                    v.customer_gateway == c && v.ip_address == g.ip_address && g.bgp_asn.is_none_or(|a| a == v.bgp_asn)
                })
            })
        },
        |g| Rank { named: p.named(&g.tags, &g.id), dependents: 0, created: None },
    );
    let mut gateway_refs: BTreeMap<String, Ref> = BTreeMap::new();
    for v in desired.map(|d| d.vpn_connections.as_slice()).unwrap_or_default() {
        let r = match customer_gateways.kept.get(&v.customer_gateway) {
            Some(g) => {
                p.check_tags(&v.customer_gateway, &g.id, &g.tags);
                Ref::Id(g.id.clone())
            }
            None => {
                p.push(Step::CreateCustomerGateway {
                    component: v.customer_gateway.clone(),
                    ip_address: v.ip_address.clone(),
                    bgp_asn: v.bgp_asn,
                    tags: p.tags(&v.customer_gateway),
                });
                Ref::Created(v.customer_gateway.clone())
            }
        };
        gateway_refs.insert(v.component.clone(), r);
    }

    // VPN connections: static or BGP routing cannot change in place (a new connection replaces
    // the old); the attachment AWS makes for each is associated and routed once it is available.
    let live_vpns: Vec<_> = observed.vpn_connections.iter().filter(|v| v.is_live()).cloned().collect();
    let vpns = match_ranked(
        &live_vpns,
        cx,
        |v| &v.tags,
        |v| &v.id,
        |c, v| {
            v.transit_gateway_id.as_deref().is_some_and(on_hub)
                && desired.is_some_and(|d| {
                    d.vpn_connections
                        .iter()
                        .any(|w| w.component == c && v.static_routes_only.is_none_or(|s| s == w.static_routes_only))
                })
        },
        |v| Rank { named: p.named(&v.tags, &v.id), dependents: 0, created: None },
    );
    if let (Some(d), Some(hub_id)) = (desired, &hub_id) {
        for w in &d.vpn_connections {
            let gateway = gateway_refs[&w.component].clone();
            match vpns.kept.get(&w.component) {
                None => p.push(Step::CreateVpnConnection {
                    component: w.component.clone(),
                    transit_gateway: Ref::Id(hub_id.clone()),
                    customer_gateway: gateway,
                    static_routes_only: w.static_routes_only,
                    tags: p.tags(&w.component),
                }),
                Some(v) => {
                    p.check_tags(&w.component, &v.id, &v.tags);
                    if gateway.id() != Some(v.customer_gateway_id.as_str()) {
                        p.push(Step::ReplaceVpnCustomerGateway {
                            vpn_connection_id: v.id.clone(),
                            customer_gateway: gateway,
                        });
                        p.wait(format!("VPN connection {} to move to its new customer gateway", v.id));
                        continue;
                    }
                    if v.state != "available" {
                        p.wait(format!("VPN connection {} ({}) to become available (now {})", v.id, w.name, v.state));
                        continue;
                    }
                    let attachment = observed
                        .attachments
                        .iter()
                        .find(|a| a.resource_type == "vpn" && a.resource_id == v.id && a.is_live());
                    if let Some(a) = attachment {
                        p.check_tags(&components::vpn_attachment(&w.name), &a.id, &a.tags);
                    }
                    match attachment {
                        Some(a) if a.state == "available" => links.push(Links {
                            attachment_id: a.id.clone(),
                            what: format!("VPN connection {}", w.name),
                            route_table: w.route_table.clone(),
                            propagate_to: w.propagate_to.clone(),
                            routes: w.static_routes.clone(),
                        }),
                        Some(a) => p.wait(format!("VPN attachment {} to become available (now {})", a.id, a.state)),
                        None => p.wait(format!("the attachment of VPN connection {} to appear", v.id)),
                    }
                }
            }
        }
    }

    // Direct Connect gateways' attachments (the associations are the Direct Connect module's).
    if let (Some(d), Some(hub_id)) = (desired, &hub_id) {
        for w in &d.direct_connect {
            let attachment = observed.attachments.iter().find(|a| {
                a.resource_type == "direct-connect-gateway"
                    && a.resource_id == w.gateway_id
                    && &a.transit_gateway_id == hub_id
                    && a.is_live()
            });
            if let Some(a) = attachment {
                p.check_tags(&components::direct_connect_attachment(&w.name), &a.id, &a.tags);
            }
            match attachment {
                Some(a) if a.state == "available" => links.push(Links {
                    attachment_id: a.id.clone(),
                    what: format!("Direct Connect gateway {}", w.name),
                    route_table: w.route_table.clone(),
                    propagate_to: w.propagate_to.clone(),
                    routes: Vec::new(),
                }),
                Some(a) => p.wait(format!("Direct Connect attachment {} to become available (now {})", a.id, a.state)),
                None => p.wait(format!("the attachment of Direct Connect gateway {} to appear", w.name)),
            }
        }
    }

    // Every attachment the owner's hubs have that the owner made: its peerings (tagged), the
    // attachments of its VPN connections and of Direct Connect gateways associated with its hubs.
    let owned_hubs: BTreeSet<&str> =
        observed.transit_gateways.iter().filter(|g| owner.owns(&g.tags)).map(|g| g.id.as_str()).collect();
    let owned_vpns: BTreeSet<&str> =
        observed.vpn_connections.iter().filter(|v| owner.owns(&v.tags)).map(|v| v.id.as_str()).collect();
    let mut owned_attachments: BTreeSet<String> =
        observed.peerings.iter().filter(|a| owner.owns(&a.tags)).map(|a| a.id.clone()).collect();
    owned_attachments.extend(
        observed
            .attachments
            .iter()
            .filter(|a| {
                (a.resource_type == "vpn" && owned_vpns.contains(a.resource_id.as_str()))
                    || (a.resource_type == "direct-connect-gateway"
                        && owned_hubs.contains(a.transit_gateway_id.as_str()))
            })
            .map(|a| a.id.clone()),
    );

    plan_links(
        &mut p,
        &links,
        &ready_tables,
        tables.kept.values().copied().chain(tables.unwanted.iter().copied()),
        &owned_attachments,
    );
    plan_peer_sides(&mut p, &peer_sides, observed, &owned_attachments);

    // AWS-only, in reverse: VPNs, then their customer gateways, peerings, route tables, the hub.
    for v in &vpns.unwanted {
        p.push(Step::DeleteVpnConnection { id: v.id.clone() });
    }
    let kept_gateways: BTreeSet<&str> = gateway_refs.values().filter_map(Ref::id).collect();
    for g in customer_gateways.unwanted.iter().filter(|g| !kept_gateways.contains(g.id.as_str())) {
        // AWS refuses while a VPN connection, even one being deleted, still uses it.
        let users: Vec<&str> = observed
            .vpn_connections
            .iter()
            .filter(|v| v.customer_gateway_id == g.id && v.holds_customer_gateway())
            .map(|v| v.id.as_str())
            .collect();
        if users.is_empty() {
            p.push(Step::DeleteCustomerGateway { id: g.id.clone() });
        } else {
            p.wait(format!("customer gateway {} to be released by {}", g.id, users.join(", ")));
        }
    }
    for a in &peerings.unwanted {
        p.push(Step::DeletePeering { id: a.id.clone() });
    }
    for t in &tables.unwanted {
        if let Some(users) = cx.users_of(&t.id) {
            p.wait(format!("hub route table {} to be released by {}", t.id, users.join(", ")));
            continue;
        }
        // Links of attachments that are gone are gone with them.
        let exists = |id: &str| observed.attachments.iter().any(|a| a.id == id && a.state != "deleted");
        let linked = t
            .associations
            .iter()
            .chain(&t.propagations)
            .any(|l| l.state != "disassociated" && l.state != "disabled" && exists(&l.attachment_id));
        if linked {
            p.wait(format!("hub route table {} to lose its associations and propagations", t.id));
        } else {
            p.push(Step::DeleteRouteTable { id: t.id.clone() });
        }
    }
    // What AWS takes minutes to remove is waited for, not forgotten.
    let deleting = observed
        .transit_gateways
        .iter()
        .filter(|g| owner.owns(&g.tags) && g.state == "deleting")
        .map(|g| format!("transit gateway {}", g.id))
        .chain(
            observed
                .peerings
                .iter()
                .filter(|a| owner.owns(&a.tags) && a.state == "deleting")
                .map(|a| format!("peering {}", a.id)),
        )
        .chain(
            observed
                .vpn_connections
                .iter()
                .filter(|v| owner.owns(&v.tags) && v.state == "deleting")
                .map(|v| format!("VPN connection {}", v.id)),
        );
    for what in deleting.collect::<Vec<_>>() {
        p.wait(format!("{what} to finish deleting"));
    }
    for g in &gateways.unwanted {
        // AWS refuses while attachments remain; its route tables go first.
        let attached: Vec<&str> = observed
            .attachments
            .iter()
            .filter(|a| a.transit_gateway_id == g.id && a.state != "deleted")
            .map(|a| a.id.as_str())
            .collect();
        let tables_left =
            observed.route_tables.iter().any(|t| t.transit_gateway_id == g.id && owner.owns(&t.tags) && t.is_live());
        if !attached.is_empty() {
            p.wait(format!("transit gateway {} to lose its attachments ({})", g.id, attached.join(", ")));
        } else if tables_left {
            p.wait(format!("transit gateway {} to lose its route tables", g.id));
        } else {
            p.push(Step::DeleteTransitGateway { id: g.id.clone() });
        }
    }
    p.plan
}

/// Associations, propagations and static routes of the hub's own attachments, in its route
/// tables: what `links` asks for is made; what an owned attachment has that is not asked for
/// goes. Links and routes of other attachments are left alone.
fn plan_links<'a>(
    p: &mut Planner,
    links: &[Links],
    ready: &BTreeMap<String, Ref>,
    tables: impl Iterator<Item = &'a RouteTable> + Clone,
    owned: &BTreeSet<String>,
) {
    let table_id = |c: &str| ready.get(c).and_then(Ref::id).map(str::to_string);
    let wanted_association = |attachment: &str, table: &str| {
        links.iter().any(|l| l.attachment_id == attachment && table_id(&l.route_table).as_deref() == Some(table))
    };
    let wanted_propagation = |attachment: &str, table: &str| {
        links.iter().any(|l| {
            l.attachment_id == attachment && l.propagate_to.iter().any(|c| table_id(c).as_deref() == Some(table))
        })
    };
    let wanted_route = |attachment: &str, table: &str, destination: &str| {
        links.iter().any(|l| {
            l.attachment_id == attachment
                && table_id(&l.route_table).as_deref() == Some(table)
                && l.routes.iter().any(|r| r == destination)
        })
    };
    // What goes: links and routes of owned attachments that are not asked for.
    for t in tables.clone() {
        for a in t.associations.iter().filter(|a| owned.contains(&a.attachment_id) && a.state == "associated") {
            if !wanted_association(&a.attachment_id, &t.id) {
                p.push(Step::Disassociate {
                    route_table_id: t.id.clone(),
                    attachment_id: a.attachment_id.clone(),
                    at: None,
                });
            }
        }
        for a in t.propagations.iter().filter(|a| owned.contains(&a.attachment_id) && a.state == "enabled") {
            if !wanted_propagation(&a.attachment_id, &t.id) {
                p.push(Step::DisablePropagation {
                    route_table_id: t.id.clone(),
                    attachment_id: a.attachment_id.clone(),
                });
            }
        }
        for r in &t.routes {
            let Some(target) = r.attachment_id.as_deref().filter(|a| owned.contains(*a)) else { continue };
            if r.state != "deleting" && r.state != "deleted" && !wanted_route(target, &t.id, &r.destination) {
                p.push(Step::DeleteRoute {
                    route_table_id: t.id.clone(),
                    destination: r.destination.clone(),
                    at: None,
                });
            }
        }
    }
    // What is asked for.
    for l in links {
        let Some(table) = ready.get(&l.route_table) else { continue };
        let observed_table = |r: &Ref| tables.clone().find(|t| Some(t.id.as_str()) == r.id());
        let current = tables
            .clone()
            .find_map(|t| t.association_of(&l.attachment_id).filter(|a| a.state != "disassociated").map(|a| (t, a)));
        match current {
            Some((t, a)) if Some(t.id.as_str()) == table.id() => {
                if a.state != "associated" {
                    p.wait(format!("{} association to finish {}", l.what, a.state));
                }
            }
            // Moving: the old association goes first (above, or already going); AWS allows one.
            Some((t, a)) => p.wait(format!("{} to leave route table {} (now {})", l.what, t.id, a.state)),
            None => {
                p.push(Step::Associate { route_table: table.clone(), attachment_id: l.attachment_id.clone(), at: None })
            }
        }
        for c in &l.propagate_to {
            let Some(to) = ready.get(c) else { continue };
            match observed_table(to).and_then(|t| t.propagation_of(&l.attachment_id)).map(|x| x.state.as_str()) {
                Some("enabled") => {}
                Some("enabling") => p.wait(format!("{} propagation to {to} to be enabled", l.what)),
                _ => {
                    p.push(Step::EnablePropagation { route_table: to.clone(), attachment_id: l.attachment_id.clone() })
                }
            }
        }
        let existing = observed_table(table);
        for destination in &l.routes {
            match existing.and_then(|t| t.route(destination)) {
                None => p.push(Step::CreateRoute {
                    route_table: table.clone(),
                    destination: destination.clone(),
                    attachment_id: l.attachment_id.clone(),
                    at: None,
                }),
                Some(r) => match r.attachment_id.as_deref() {
                    Some(a) if a == l.attachment_id => {}
                    Some(a) if owned.contains(a) => p.push(Step::ReplaceRoute {
                        route_table_id: existing.map(|t| t.id.clone()).unwrap_or_default(),
                        destination: destination.clone(),
                        attachment_id: l.attachment_id.clone(),
                        at: None,
                    }),
                    // AWS always reports a static route's attachment; one that does not say is
                    // left as it is.
                    None if r.state == "active" => {}
                    other => p.wait(format!(
                        "hub route {destination} in {} targets {}, not {}'s attachment: not this hub's to replace",
                        existing.map(|t| t.id.as_str()).unwrap_or_default(),
                        other.unwrap_or("a blackhole"),
                        l.what
                    )),
                },
            }
        }
    }
}

/// The peer's side of each available peering: its association with the peer route table the
/// spec names, and routes there back to this hub; routes and associations of the hub's
/// peerings in other observed peer tables go.
fn plan_peer_sides(
    p: &mut Planner,
    sides: &[(String, Location, Option<String>, Vec<String>)],
    observed: &Observed,
    owned: &BTreeSet<String>,
) {
    for (at, t) in &observed.peer_route_tables {
        let location = Some(at.clone());
        for r in &t.routes {
            let Some(target) = r.attachment_id.as_deref().filter(|a| owned.contains(*a)) else { continue };
            let wanted = sides.iter().any(|(id, _, table, routes)| {
                id == target && table.as_deref() == Some(t.id.as_str()) && routes.contains(&r.destination)
            });
            if !wanted && r.state == "active" {
                p.push(Step::DeleteRoute {
                    route_table_id: t.id.clone(),
                    destination: r.destination.clone(),
                    at: location.clone(),
                });
            }
        }
        for a in t.associations.iter().filter(|a| owned.contains(&a.attachment_id) && a.state == "associated") {
            let wanted =
                sides.iter().any(|(id, _, table, _)| id == &a.attachment_id && table.as_deref() == Some(t.id.as_str()));
            if !wanted {
                p.push(Step::Disassociate {
                    route_table_id: t.id.clone(),
                    attachment_id: a.attachment_id.clone(),
                    at: location.clone(),
                });
            }
        }
    }
    for (attachment, at, table, routes) in sides {
        let Some(table) = table else { continue };
        let Some((_, t)) = observed.peer_route_tables.iter().find(|(_, t)| &t.id == table) else {
            p.wait(format!("peer route table {table} to be readable in {at}"));
            continue;
        };
        let at = Some(at.clone());
        match t.association_of(attachment).filter(|a| a.state != "disassociated") {
            None => p.push(Step::Associate {
                route_table: Ref::Id(table.clone()),
                attachment_id: attachment.clone(),
                at: at.clone(),
            }),
            Some(a) if a.state != "associated" => {
                p.wait(format!("peering {attachment} association in {table} to finish {}", a.state))
            }
            Some(_) => {}
        }
        for destination in routes {
            match t.route(destination) {
                None => p.push(Step::CreateRoute {
                    route_table: Ref::Id(table.clone()),
                    destination: destination.clone(),
                    attachment_id: attachment.clone(),
                    at: at.clone(),
                }),
                Some(r) if r.attachment_id.as_deref() == Some(attachment.as_str()) => {}
                Some(r) if r.attachment_id.is_none() && r.state == "active" => {}
                Some(r) => p.wait(format!(
                    "peer route {destination} in {table} targets {}: not this hub's to replace",
                    r.attachment_id.as_deref().unwrap_or("a blackhole")
                )),
            }
        }
    }
}

/// True when `observed` still holds anything of this owner's hub.
pub fn owns_anything(owner: &crate::Owner, observed: &Observed) -> bool {
    observed.transit_gateways.iter().any(|g| owner.owns(&g.tags) && g.state != "deleted")
        || observed.route_tables.iter().any(|t| owner.owns(&t.tags) && t.state != "deleted")
        || observed.peerings.iter().any(|a| owner.owns(&a.tags) && a.is_live())
        || observed.customer_gateways.iter().any(|g| owner.owns(&g.tags) && g.state != "deleted")
        || observed.vpn_connections.iter().any(|v| owner.owns(&v.tags) && v.state != "deleted")
}
