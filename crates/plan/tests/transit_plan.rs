//! The hub planner against a simulated transit gateway, VPN and Direct Connect API: convergence
//! while AWS brings things up over minutes, a peering accepted and routed on the peer's side,
//! crashes after every step, duplicates, drift, in-place changes and replacements, Direct Connect
//! associations that take minutes and change their prefixes in place, other attachments' links
//! and routes left alone, and teardown in an order AWS accepts.

mod transit_sim;

use std::collections::BTreeMap;

use securecart_api::TransitGatewaySpec;
use securecart_plan::direct_connect::Association;
use securecart_plan::plan::PlanStep;
use securecart_plan::transit::{Link, Route, VpcAttachment};
use securecart_plan::transit_gateway::{self, Facts, Observed, Peer};
use securecart_plan::{Choices, Context, InUse, Known, Location, Owner, Plan, Step, Tags};
use serde_json::{Value, json};
use transit_sim::{HOME, TransitSim};

const DX: &str = "5f2c0e1a-1111-2222-3333-444455556666";

fn owner() -> Owner {
    Owner { kind: "TransitGateway".into(), namespace: "platform".into(), name: "hub".into(), uid: "u-hub".into() }
}

fn spec(v: Value) -> TransitGatewaySpec {
    serde_json::from_value(v).expect("a TransitGatewaySpec")
}

/// A hub with everything: two route tables, a peering with routes on both sides, a static VPN
/// and a Direct Connect gateway.
fn full(peer_table: &str) -> TransitGatewaySpec {
    spec(json!({
        "region": HOME, "amazonSideAsn": 64512,
        "routeTables": [{"name": "prod"}, {"name": "shared"}],
        "peerings": [{
            "name": "euw1", "peer": {"transitGatewayId": "tgw-0123456789abcdef0", "region": "eu-west-1", "accountId": "111111111111"},
            "routeTable": "prod", "routes": ["10.40.0.0/16"], "peerRouteTable": peer_table, "peerRoutes": ["10.0.0.0/12"],
        }],
        "vpnConnections": [{
            "name": "office", "customerGateway": {"ipAddress": "203.0.113.10", "bgpAsn": 65010},
            "staticRoutes": ["192.168.0.0/16"], "routeTable": "shared",
        }],
        "directConnectGateways": [{"name": "analytics", "directConnectGatewayId": DX, "allowedPrefixes": ["10.20.0.0/16"], "routeTable": "shared"}],
    }))
}

struct World {
    sim: TransitSim,
    spec: TransitGatewaySpec,
    facts: Facts,
    known: Known,
    in_use: InUse,
}

impl World {
    /// A world with the external peer already there, in eu-west-1.
    fn new(sim: TransitSim) -> Self {
        let mut sim = sim;
        let (peer, tables) = sim.add_peer("eu-west-1", 1);
        let mut w = World {
            sim,
            spec: full(&tables[0]),
            facts: Facts { account_id: "111111111111".into(), peers: BTreeMap::new() },
            known: Known::new(),
            in_use: InUse::new(),
        };
        w.spec.peerings[0].peer.transit_gateway_id = Some(peer.clone());
        w.facts.peers.insert(
            "euw1".into(),
            Peer {
                transit_gateway_id: peer,
                region: "eu-west-1".into(),
                account_id: "111111111111".into(),
                role_arn: None,
                route_table_id: Some(tables[0].clone()),
            },
        );
        w
    }

    fn peer_table(&self) -> String {
        self.facts.peers["euw1"].route_table_id.clone().unwrap()
    }

    fn observed(&self) -> Observed {
        let peers: Vec<(Location, String)> = self
            .facts
            .peers
            .values()
            .filter_map(|p| Some((Location::region(&p.region), p.route_table_id.clone()?)))
            .collect();
        Observed { hub: self.sim.observed(&peers), direct_connect: self.sim.dx.clone() }
    }

    fn plan(&mut self, wanted: bool) -> Plan<Step> {
        let observed = self.observed();
        // The status records what exists, as the engine's inventory does (what it already
        // names stays named).
        for (c, id) in transit_gateway::inventory(&self.spec, &owner(), &observed) {
            self.known.entry(c).or_insert(id);
        }
        let owner = owner();
        let desired = transit_gateway::desired(&self.spec, &owner, &self.facts).expect("valid");
        let cx = Context { owner: &owner, known: &self.known, in_use: &self.in_use, chosen: None };
        transit_gateway::plan(wanted.then_some(&desired), &cx, &observed)
    }

    /// Plans and applies until in sync; returns every plan.
    fn converge(&mut self, wanted: bool, max: usize) -> Vec<Plan<Step>> {
        let mut plans = Vec::new();
        for _ in 0..max {
            let plan = self.plan(wanted);
            if plan.in_sync() {
                return plans;
            }
            if let Err(e) = self.sim.apply(&plan) {
                panic!("{e}\nplan:\n{}", plan.render());
            }
            plans.push(plan);
        }
        panic!(
            "no convergence after {max} passes; last plan:\n{}",
            plans.last().map(|p| p.render()).unwrap_or_default()
        );
    }

    fn owned_table(&self, component: &str) -> String {
        self.sim
            .tables
            .iter()
            .find(|(_, t)| {
                t.tags.get(securecart_api::tags::COMPONENT).map(String::as_str) == Some(component)
                    && t.state != "deleted"
            })
            .map(|(_, t)| t.id.clone())
            .unwrap_or_else(|| panic!("no {component}"))
    }

    fn table(&self, id: &str) -> &securecart_plan::transit::RouteTable {
        &self.sim.tables.iter().find(|(_, t)| t.id == id).unwrap().1
    }

    fn vpn_attachment(&self) -> String {
        let vpn = self.sim.vpns.iter().find(|v| v.state != "deleted").unwrap();
        self.sim.attachments.iter().find(|a| a.resource_id == vpn.id && a.state != "deleted").unwrap().id.clone()
    }
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

fn count(log: &[String], action: &str) -> usize {
    log.iter().filter(|l| l.split(' ').next() == Some(action)).count()
}

fn live<T>(items: &[T], state: impl Fn(&T) -> &str) -> Vec<&T> {
    items.iter().filter(|i| !matches!(state(i), "deleted" | "deleting" | "disassociated")).collect()
}

#[test]
fn a_hub_converges_waiting_for_what_aws_brings_up_over_minutes() {
    let mut w = World::new(TransitSim::slow());
    let plans = w.converge(true, 30);
    // Nothing is asked of the transit gateway before it is available.
    assert_eq!(actions(&plans[0]), ["CreateTransitGateway", "CreateCustomerGateway"]);
    assert!(plans[0].waiting.iter().any(|m| m.contains("transit gateway to become available")));

    let gateways = live(&w.sim.gateways, |(_, g)| &g.state);
    assert_eq!(gateways.iter().filter(|(r, _)| r == HOME).count(), 1);
    let prod = w.owned_table("tgw-rtb/prod");
    let shared = w.owned_table("tgw-rtb/shared");
    // The peering: accepted in the peer's region, associated and routed on both sides.
    let peering = live(&w.sim.peerings, |p| &p.state)[0].clone();
    assert_eq!(peering.state, "available");
    assert!(
        w.table(&prod).associations.contains(&Link { attachment_id: peering.id.clone(), state: "associated".into() })
    );
    assert_eq!(
        w.table(&prod).routes,
        vec![Route {
            destination: "10.40.0.0/16".into(),
            attachment_id: Some(peering.id.clone()),
            state: "active".into()
        }]
    );
    let peer = w.table(&w.peer_table()).clone();
    assert!(peer.associations.iter().any(|l| l.attachment_id == peering.id && l.state == "associated"));
    assert!(
        peer.routes
            .iter()
            .any(|r| r.destination == "10.0.0.0/12" && r.attachment_id.as_deref() == Some(peering.id.as_str()))
    );
    let accepted_at = w.sim.log.iter().filter(|l| l.starts_with("AcceptTransitGatewayPeeringAttachment")).count();
    assert_eq!(accepted_at, 1);
    // The VPN's attachment: tagged, associated with shared, its static routes there.
    let vpn = w.vpn_attachment();
    let tags = &w.sim.attachments.iter().find(|a| a.id == vpn).unwrap().tags;
    assert_eq!(tags.get(securecart_api::tags::COMPONENT).map(String::as_str), Some("vpn-attachment/office"));
    assert!(w.table(&shared).associations.iter().any(|l| l.attachment_id == vpn && l.state == "associated"));
    assert!(
        w.table(&shared)
            .routes
            .iter()
            .any(|r| r.destination == "192.168.0.0/16" && r.attachment_id.as_deref() == Some(vpn.as_str()))
    );
    // Direct Connect: associated with its prefixes, its attachment associated with shared.
    assert_eq!(w.sim.dx.len(), 1);
    assert_eq!(
        (w.sim.dx[0].state.as_str(), w.sim.dx[0].allowed_prefixes.clone()),
        ("associated", vec!["10.20.0.0/16".to_string()])
    );
    let dx = w.sim.attachments.iter().find(|a| a.resource_type == "direct-connect-gateway").unwrap().id.clone();
    assert!(w.table(&shared).associations.iter().any(|l| l.attachment_id == dx));

    // Converged: one observation, no step.
    assert!(w.plan(true).in_sync());
    let status = transit_gateway::status(
        &w.spec,
        &transit_gateway::desired(&w.spec, &owner(), &w.facts).unwrap(),
        &owner(),
        &w.observed(),
        &Known::new(),
    );
    assert_eq!(status.route_tables.len(), 2);
    assert_eq!(status.peerings[0].state, "available");
    assert_eq!(status.vpn_connections[0].attachment_id.as_deref(), Some(vpn.as_str()));
    assert_eq!(status.direct_connect_gateways[0].state.as_deref(), Some("associated"));
}

#[test]
fn the_peers_side_is_acted_on_in_its_region_through_its_role() {
    let mut w = World::new(TransitSim::new());
    w.facts.peers.get_mut("euw1").unwrap().role_arn = Some("arn:aws:iam::222222222222:role/peer".into());
    w.facts.peers.get_mut("euw1").unwrap().account_id = "222222222222".into();
    w.spec.peerings[0].peer.account_id = Some("222222222222".into());
    let plans = w.converge(true, 10);
    let elsewhere: Vec<(&str, Location)> =
        plans.iter().flat_map(|p| &p.steps).filter_map(|s| Some((s.action(), s.location()?.clone()))).collect();
    let want = Location { region: "eu-west-1".into(), role_arn: Some("arn:aws:iam::222222222222:role/peer".into()) };
    let names: Vec<&str> = elsewhere.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        names,
        ["AcceptTransitGatewayPeeringAttachment", "AssociateTransitGatewayRouteTable", "CreateTransitGatewayRoute"]
    );
    assert!(elsewhere.iter().all(|(_, l)| l == &want), "{elsewhere:?}");
}

#[test]
fn a_peer_in_another_account_without_a_role_is_an_invalid_spec() {
    let mut w = World::new(TransitSim::new());
    w.facts.peers.get_mut("euw1").unwrap().account_id = "222222222222".into();
    let err = transit_gateway::desired(&w.spec, &owner(), &w.facts).unwrap_err();
    assert!(err.0.contains("spec.peerings[0].peer.roleArn"), "{err}");
}

#[test]
fn a_crash_after_every_single_step_still_converges_to_one_of_each() {
    let mut w = World::new(TransitSim::new());
    for _ in 0..80 {
        let plan = w.plan(true);
        if plan.in_sync() {
            break;
        }
        // The process dies after its first step, every time.
        w.sim.apply_until_crash(&plan, 1).unwrap_or_else(|e| panic!("{e}\n{}", plan.render()));
        w.sim.tick();
    }
    assert!(w.plan(true).in_sync(), "converged");
    assert_eq!(live(&w.sim.gateways, |(_, g)| &g.state).iter().filter(|(r, _)| r == HOME).count(), 1);
    assert_eq!(w.sim.tables.iter().filter(|(r, t)| r == HOME && t.state != "deleted" && !t.tags.is_empty()).count(), 2);
    assert_eq!(live(&w.sim.peerings, |p| &p.state).len(), 1);
    assert_eq!(w.sim.customer_gateways.len(), 1);
    assert_eq!(live(&w.sim.vpns, |v| &v.state).len(), 1);
    assert_eq!(live(&w.sim.dx, |a| &a.state).len(), 1);
}

/// A hub with one route table wanted and two owned transit gateways (ID, creation time), as a
/// retried CreateTransitGateway leaves them.
fn world_with_twin_hubs(gateways: [(&str, &str); 2]) -> World {
    let mut w = World::new(TransitSim::new());
    w.spec = spec(json!({"region": HOME, "routeTables": [{"name": "prod"}]}));
    w.facts.peers.clear();
    let tags = owner().tags("tgw", &Tags::new());
    for (id, created) in gateways {
        let gateway = securecart_plan::transit::TransitGateway {
            id: id.into(),
            state: "available".into(),
            amazon_side_asn: Some(64512),
            created: Some(created.into()),
            tags: tags.clone(),
        };
        w.sim.gateways.push((HOME.into(), gateway));
    }
    w
}

#[test]
fn of_duplicate_transit_gateways_the_named_one_then_the_oldest_is_kept() {
    let w = world_with_twin_hubs([("tgw-0young", "2026-12-01T00:00:09Z"), ("tgw-0old", "2026-12-01T00:00:01Z")]);
    // Nothing recorded: the oldest wins.
    let desired = transit_gateway::desired(&w.spec, &owner(), &w.facts).unwrap();
    let nothing = Known::new();
    let cx = Context { owner: &owner(), known: &nothing, in_use: &w.in_use, chosen: None };
    let plan = transit_gateway::plan(Some(&desired), &cx, &w.observed());
    assert!(plan.steps.iter().any(|s| s.to_string() == "delete transit gateway tgw-0young"), "{}", plan.render());
    let mut named = World::new(TransitSim::new());
    named.spec = w.spec.clone();
    named.facts.peers.clear();
    named.sim.gateways = w.sim.gateways.clone();
    named.known.insert("tgw".into(), "tgw-0young".into());
    let plan = named.plan(true);
    assert!(plan.steps.iter().any(|s| s.to_string() == "delete transit gateway tgw-0old"), "{}", plan.render());
}

#[test]
fn the_transit_gateway_the_planner_keeps_is_the_one_the_status_publishes() {
    // A lost CreateTransitGateway made the older twin; the younger one got the route table.
    let mut w = world_with_twin_hubs([("tgw-0old", "2026-12-01T00:00:01Z"), ("tgw-0young", "2026-12-01T00:00:09Z")]);
    let table = securecart_plan::transit::RouteTable {
        id: "tgw-rtb-0prod".into(),
        transit_gateway_id: "tgw-0young".into(),
        state: "available".into(),
        created: Some("2026-12-01T00:00:10Z".into()),
        tags: owner().tags("tgw-rtb/prod", &Tags::new()),
        associations: Vec::new(),
        propagations: Vec::new(),
        routes: Vec::new(),
    };
    w.sim.tables.push((HOME.into(), table));
    let desired = transit_gateway::desired(&w.spec, &owner(), &w.facts).unwrap();
    let (nothing, chosen) = (Known::new(), Choices::default());
    let cx = Context { owner: &owner(), known: &nothing, in_use: &w.in_use, chosen: Some(&chosen) };
    let plan = transit_gateway::plan(Some(&desired), &cx, &w.observed());
    assert!(plan.steps.iter().any(|s| s.to_string() == "delete transit gateway tgw-0old"), "{}", plan.render());
    let kept = chosen.take();
    assert_eq!(kept.get("tgw").map(String::as_str), Some("tgw-0young"), "the engine learns the pick");
    // What VpcTiers attach to: the kept hub, with or without the planner's word.
    for known in [kept, Known::new()] {
        let status = transit_gateway::status(&w.spec, &desired, &owner(), &w.observed(), &known);
        assert_eq!(status.transit_gateway_id.as_deref(), Some("tgw-0young"));
    }
}

#[test]
fn drift_a_deleted_route_and_a_removed_association_come_back_alone() {
    let mut w = World::new(TransitSim::new());
    w.converge(true, 10);
    let shared = w.owned_table("tgw-rtb/shared");
    let vpn = w.vpn_attachment();
    let t = &mut w.sim.tables.iter_mut().find(|(_, t)| t.id == shared).unwrap().1;
    t.routes.clear();
    t.associations.retain(|l| l.attachment_id != vpn);
    let plan = w.plan(true);
    let mut got = actions(&plan);
    got.sort();
    assert_eq!(got, ["AssociateTransitGatewayRouteTable", "CreateTransitGatewayRoute"], "{}", plan.render());
    w.converge(true, 5);
}

#[test]
fn a_new_customer_gateway_address_moves_the_vpn_connection_in_place() {
    let mut w = World::new(TransitSim::slow());
    w.converge(true, 30);
    let vpn = w.sim.vpns[0].id.clone();
    let old = w.sim.customer_gateways[0].id.clone();
    w.spec.vpn_connections[0].customer_gateway.ip_address = "198.51.100.7".into();
    let plans = w.converge(true, 10);
    let all: Vec<&str> = plans.iter().flat_map(|p| actions(p)).collect();
    assert_eq!(all.iter().filter(|a| **a == "ModifyVpnConnection").count(), 1, "{all:?}");
    assert!(!all.contains(&"DeleteVpnConnection") && !all.contains(&"CreateVpnConnection"), "{all:?}");
    assert_eq!(w.sim.vpns.iter().filter(|v| v.state == "available").count(), 1);
    assert_eq!(w.sim.vpns[0].id, vpn, "the same connection");
    assert_eq!(w.sim.customer_gateways.len(), 1, "the old customer gateway is gone");
    assert_ne!(w.sim.customer_gateways[0].id, old);
    assert_eq!(w.sim.customer_gateways[0].ip_address, "198.51.100.7");
}

#[test]
fn static_to_bgp_routing_replaces_the_vpn_connection_and_its_routes_go_first() {
    let mut w = World::new(TransitSim::new());
    w.converge(true, 10);
    let old = w.sim.vpns[0].id.clone();
    w.spec.vpn_connections[0].static_routes = None;
    w.spec.vpn_connections[0].propagate_to = vec!["prod".into()];
    let plans = w.converge(true, 10);
    let first = &plans[0];
    let levels: BTreeMap<&str, usize> = first.steps.iter().map(|s| s.action()).zip(first.levels()).collect();
    assert!(levels["DeleteTransitGatewayRoute"] < levels["DeleteVpnConnection"], "{}", first.render());
    let live_vpns = live(&w.sim.vpns, |v| &v.state);
    assert_eq!(live_vpns.len(), 1);
    assert_ne!(live_vpns[0].id, old);
    assert_eq!(live_vpns[0].static_routes_only, Some(false));
    let prod = w.owned_table("tgw-rtb/prod");
    assert!(w.table(&prod).propagations.iter().any(|l| l.attachment_id == w.vpn_attachment()));
}

#[test]
fn a_direct_connect_association_takes_minutes_and_its_prefixes_change_in_place() {
    let mut w = World::new(TransitSim::slow());
    w.sim.associating_ticks = 5;
    let mut associating_passes = 0;
    for _ in 0..40 {
        let plan = w.plan(true);
        if plan.in_sync() {
            break;
        }
        if w.sim.dx.iter().any(|a| a.state == "associating") {
            associating_passes += 1;
            assert!(
                !plan.steps.iter().any(|s| matches!(s, Step::DirectConnect(_))),
                "nothing asked of it while associating:\n{}",
                plan.render()
            );
            assert!(plan.waiting.iter().any(|m| m.contains("associating")), "{:?}", plan.waiting);
        }
        w.sim.apply(&plan).unwrap_or_else(|e| panic!("{e}\n{}", plan.render()));
    }
    assert!(associating_passes >= 3, "it stayed associating for several passes ({associating_passes})");
    let id = w.sim.dx[0].id.clone();
    w.spec.direct_connect_gateways[0].allowed_prefixes = vec!["10.20.0.0/16".into(), "10.21.0.0/16".into()];
    let plan = w.plan(true);
    assert_eq!(
        plan.steps,
        vec![Step::DirectConnect(securecart_plan::direct_connect::Step::UpdateAllowedPrefixes {
            association_id: id.clone(),
            add: vec!["10.21.0.0/16".into()],
            remove: vec![]
        })]
    );
    w.converge(true, 10);
    w.spec.direct_connect_gateways[0].allowed_prefixes = vec!["10.21.0.0/16".into()];
    w.converge(true, 10);
    assert_eq!(w.sim.dx.len(), 1, "never re-associated");
    assert_eq!(w.sim.dx[0].id, id);
    assert_eq!(w.sim.dx[0].allowed_prefixes, vec!["10.21.0.0/16".to_string()]);
    assert_eq!(count(&w.sim.log, "CreateDirectConnectGatewayAssociation"), 1);
    assert_eq!(count(&w.sim.log, "UpdateDirectConnectGatewayAssociation"), 2);
}

#[test]
fn other_attachments_links_and_routes_are_left_alone_and_a_route_it_wants_is_not_taken_over() {
    let mut w = World::new(TransitSim::new());
    w.converge(true, 10);
    let prod = w.owned_table("tgw-rtb/prod");
    let shared = w.owned_table("tgw-rtb/shared");
    // A VpcTier's attachment, associated and propagating here, and someone's static routes.
    let tgw = w.sim.gateways.iter().find(|(r, g)| r == HOME && !g.tags.is_empty()).unwrap().1.id.clone();
    w.sim.vpc_attachments.push(VpcAttachment {
        id: "tgw-attach-vpc".into(),
        transit_gateway_id: tgw,
        vpc_id: "vpc-1".into(),
        state: "available".into(),
        ..Default::default()
    });
    let t = &mut w.sim.tables.iter_mut().find(|(_, t)| t.id == prod).unwrap().1;
    t.associations.push(Link { attachment_id: "tgw-attach-vpc".into(), state: "associated".into() });
    t.propagations.push(Link { attachment_id: "tgw-attach-vpc".into(), state: "enabled".into() });
    t.routes.push(Route {
        destination: "10.99.0.0/16".into(),
        attachment_id: Some("tgw-attach-vpc".into()),
        state: "active".into(),
    });
    let s = &mut w.sim.tables.iter_mut().find(|(_, t)| t.id == shared).unwrap().1;
    s.routes.retain(|r| r.destination != "192.168.0.0/16");
    s.routes.push(Route {
        destination: "192.168.0.0/16".into(),
        attachment_id: Some("tgw-attach-vpc".into()),
        state: "active".into(),
    });
    let plan = w.plan(true);
    assert!(plan.steps.is_empty(), "nothing of theirs is changed:\n{}", plan.render());
    assert!(
        plan.waiting.iter().any(|m| m.contains("192.168.0.0/16") && m.contains("not this hub's to replace")),
        "{:?}",
        plan.waiting
    );

    // Teardown: the route table the VpcTier holds waits for it; the rest goes.
    w.in_use.insert(prod.clone(), vec!["VpcTier shop".into()]);
    for _ in 0..10 {
        let plan = w.plan(false);
        if plan.steps.is_empty() {
            assert!(plan.waiting.iter().any(|m| m.contains(&prod) && m.contains("VpcTier shop")), "{:?}", plan.waiting);
            break;
        }
        w.sim.apply(&plan).unwrap_or_else(|e| panic!("{e}\n{}", plan.render()));
    }
    let t = w.table(&prod);
    assert_eq!(t.state, "available");
    assert!(t.associations.iter().any(|l| l.attachment_id == "tgw-attach-vpc"), "the VpcTier's association stays");
    assert!(t.routes.iter().any(|r| r.destination == "10.99.0.0/16"), "routes to its attachment stay");
}

#[test]
fn teardown_goes_in_an_order_aws_accepts_and_leaves_nothing() {
    let mut w = World::new(TransitSim::slow());
    w.converge(true, 30);
    let plans = w.converge(false, 30);
    assert!(plans.len() > 2, "AWS takes its time: several passes");
    let o = w.observed();
    assert!(!transit_gateway::owns_anything(&owner(), &o), "nothing left");
    assert!(w.sim.dx.iter().all(|a| a.state == "disassociated"));
    let peer = w.table(&w.peer_table()).clone();
    assert!(peer.routes.is_empty() && peer.associations.is_empty(), "nothing of the hub left on the peer's side");
    assert_eq!(
        w.sim.gateways.iter().filter(|(r, g)| r == "eu-west-1" && g.state == "available").count(),
        1,
        "the peer stays"
    );
    // The last step is the transit gateway, once nothing holds it.
    let last: Vec<&str> = plans.iter().flat_map(|p| actions(p)).collect();
    assert_eq!(last.last(), Some(&"DeleteTransitGateway"), "{last:?}");
    let _ = Association::default();
}
