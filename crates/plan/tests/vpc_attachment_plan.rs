//! A VpcTier's attachment to a hub and its routes to it, planned by `vpc_tier::plan` against the
//! simulated EC2 networking (`sim`) and transit gateway (`transit_sim`) APIs: attached once its
//! subnets exist, associated and propagated once available, routes only then; an untagged
//! attachment of its own VPC claimed, not duplicated; an association moved by leaving first;
//! routes never fought over; and removal in the order AWS needs.

mod sim;
mod transit_sim;

use std::collections::BTreeMap;

use securecart_api::VpcTierSpec;
use securecart_plan::network::{self, Route};
use securecart_plan::plan::PlanStep;
use securecart_plan::transit::VpcAttachment;
use securecart_plan::vpc_tier::{self, HubView, Zone};
use securecart_plan::{Context, InUse, Known, Owner, Plan, Step, Tags};
use serde_json::{Value, json};
use sim::Sim;
use transit_sim::{HOME, TransitSim};

fn owner() -> Owner {
    Owner { kind: "VpcTier".into(), namespace: "platform".into(), name: "shop".into(), uid: "uid-1".into() }
}

fn zones() -> Vec<Zone> {
    ["us-east-1a", "us-east-1b", "us-east-1c"].map(|z| Zone::new(z, "available")).to_vec()
}

fn base() -> Value {
    json!({
        "region": HOME, "cidrBlock": "10.20.0.0/16", "availabilityZones": 2, "natGateways": "None",
        "tiers": [
            {"name": "app", "type": "Private", "prefixLength": 20},
            {"name": "database", "type": "Isolated", "prefixLength": 24},
        ],
    })
}

fn block(route_table: &str, propagate_to: &[&str], routes: Value) -> Value {
    json!({"ref": {"name": "hub"}, "tier": "app", "routeTable": route_table, "propagateTo": propagate_to, "routes": routes})
}

fn spec(v: Value) -> VpcTierSpec {
    serde_json::from_value(v).expect("a VpcTierSpec")
}

struct World {
    net: Sim,
    hub: TransitSim,
    view: HubView,
    known: Known,
}

impl World {
    /// A converged VpcTier without a block, and a hub with route tables prod and shared.
    fn new(slow: bool) -> Self {
        let mut hub = if slow { TransitSim::slow() } else { TransitSim::new() };
        let (tgw, tables) = hub.add_peer(HOME, 2);
        let view = HubView {
            name: "hub".into(),
            region: HOME.into(),
            transit_gateway_id: tgw,
            route_tables: BTreeMap::from([("prod".into(), tables[0].clone()), ("shared".into(), tables[1].clone())]),
        };
        let mut w = World { net: Sim::new(), hub, view, known: Known::new() };
        w.converge(&spec(base()), 5);
        w
    }

    fn vpc_id(&self) -> String {
        self.net.observed.vpcs[0].id.clone()
    }

    fn observed(&self) -> network::Observed {
        let mut o = self.net.observed.clone();
        if let Some(v) = o.vpcs.first() {
            o.transit_attachments = self.hub.vpc_view(&v.id.clone());
        }
        o
    }

    fn plan(&mut self, spec: Option<&VpcTierSpec>) -> Plan<Step> {
        let observed = self.observed();
        for (c, id) in observed.inventory(&owner().uid) {
            self.known.entry(c).or_insert(id);
        }
        let zones: Vec<String> = zones().iter().take(2).map(|z| z.name.clone()).collect();
        let hub = spec.and_then(|s| s.transit_gateway.as_ref()).map(|_| &self.view);
        let desired = spec.map(|s| vpc_tier::desired_with_hub(s, &owner(), zones, hub, &observed).expect("valid"));
        let in_use = InUse::new();
        let cx = Context { owner: &owner(), known: &self.known, in_use: &in_use, chosen: None };
        vpc_tier::plan(desired.as_ref(), &cx, &observed, Some(&self.view.transit_gateway_id))
    }

    /// Applies a plan: its networking steps to EC2, then its transit steps to the hub (they
    /// only ever use networking that exists already here).
    fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        let network: Plan<network::Step> = Plan {
            steps: plan
                .steps
                .iter()
                .filter_map(|s| if let Step::Network(n) = s { Some(n.clone()) } else { None })
                .collect(),
            ..Plan::default()
        };
        let transit: Plan<Step> = Plan {
            steps: plan.steps.iter().filter(|s| matches!(s, Step::Transit(_))).cloned().collect(),
            ..Plan::default()
        };
        self.net.apply(&network)?;
        self.hub.apply(&transit)?;
        self.net.transit_attachments = self
            .hub
            .vpc_attachments
            .iter()
            .filter(|a| a.state == "available")
            .map(|a| (a.vpc_id.clone(), a.transit_gateway_id.clone()))
            .collect();
        Ok(())
    }

    fn converge(&mut self, spec: &VpcTierSpec, max: usize) -> Vec<Plan<Step>> {
        self.converge_to(Some(spec), max)
    }

    fn converge_to(&mut self, spec: Option<&VpcTierSpec>, max: usize) -> Vec<Plan<Step>> {
        let mut plans = Vec::new();
        for _ in 0..max {
            let plan = self.plan(spec);
            if plan.in_sync() {
                return plans;
            }
            self.apply(&plan).unwrap_or_else(|e| panic!("{e}\nplan:\n{}", plan.render()));
            plans.push(plan);
        }
        panic!("no convergence after {max} passes:\n{}", self.plan(spec).render());
    }

    fn attachment(&self) -> VpcAttachment {
        let live: Vec<VpcAttachment> = self.hub.vpc_view(&self.vpc_id());
        assert_eq!(live.len(), 1, "{live:?}");
        live[0].clone()
    }

    /// (table component, destination, target) of every route not the VpcTier's own defaults.
    fn routes(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for t in &self.net.observed.route_tables {
            let c = t.tags.get(securecart_api::tags::COMPONENT).cloned().unwrap_or_default();
            for r in t.routes.iter().filter(|r| r.gateway_id.as_deref() != Some("local")) {
                let target = r
                    .transit_gateway_id
                    .clone()
                    .or(r.vpc_peering_connection_id.clone())
                    .or(r.nat_gateway_id.clone())
                    .or(r.gateway_id.clone())
                    .unwrap_or_default();
                out.push((c.clone(), r.destination.clone(), target));
            }
        }
        out.sort();
        out
    }

    fn table_id(&self, component: &str) -> String {
        self.net
            .observed
            .route_tables
            .iter()
            .find(|t| t.tags.get(securecart_api::tags::COMPONENT).map(String::as_str) == Some(component))
            .unwrap()
            .id
            .clone()
    }
}

fn with_block(b: Value) -> VpcTierSpec {
    let mut v = base();
    v["transitGateway"] = b;
    spec(v)
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

#[test]
fn attached_once_its_subnets_exist_then_associated_propagated_and_routed_once_available() {
    let mut w = World::new(true);
    let s = with_block(block(
        "prod",
        &["prod", "shared"],
        json!([{"destination": "10.0.0.0/8", "tiers": ["app", "database"]}]),
    ));
    let plans = w.converge(&s, 10);
    assert_eq!(actions(&plans[0]), ["CreateTransitGatewayVpcAttachment"], "{}", plans[0].render());
    assert!(plans[0].waiting.iter().any(|m| m.contains("attachment")), "routes wait for the attachment");
    let a = w.attachment();
    assert_eq!(a.tags.get(securecart_api::tags::COMPONENT).map(String::as_str), Some("tgw-attachment"));
    let app: Vec<String> = w
        .net
        .observed
        .subnets
        .iter()
        .filter(|s| s.tags.get(securecart_api::tags::COMPONENT).is_some_and(|c| c.starts_with("subnet/app/")))
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(a.subnet_ids, app, "one subnet per zone, in the attachment's tier");
    assert_eq!(a.association, Some((w.view.route_tables["prod"].clone(), "associated".into())));
    let mut propagated: Vec<String> = a.propagations.iter().map(|(t, _)| t.clone()).collect();
    propagated.sort();
    assert_eq!(propagated, vec![w.view.route_tables["prod"].clone(), w.view.route_tables["shared"].clone()]);
    let tgw = w.view.transit_gateway_id.clone();
    assert_eq!(
        w.routes(),
        vec![
            ("rtb/isolated".into(), "10.0.0.0/8".into(), tgw.clone()),
            ("rtb/private".into(), "10.0.0.0/8".into(), tgw.clone()),
        ]
    );
    let status = vpc_tier::status(
        &vpc_tier::desired_with_hub(
            &s,
            &owner(),
            vec!["us-east-1a".into(), "us-east-1b".into()],
            Some(&w.view),
            &w.observed(),
        )
        .unwrap(),
        &w.observed(),
        &Known::new(),
    );
    let att = status.transit_gateway_attachment.unwrap();
    assert_eq!(
        (att.attachment_id, att.state, att.route_table_id),
        (a.id, "available".into(), Some(w.view.route_tables["prod"].clone()))
    );
}

#[test]
fn a_new_vpc_tier_attaches_in_its_first_plan_after_its_subnets() {
    let w = World::new(false);
    let s = with_block(block("prod", &[], json!([])));
    let observed = network::Observed::default();
    let desired = vpc_tier::desired_with_hub(
        &s,
        &owner(),
        vec!["us-east-1a".into(), "us-east-1b".into()],
        Some(&w.view),
        &observed,
    )
    .unwrap();
    let (known, in_use) = (Known::new(), InUse::new());
    let plan = vpc_tier::plan(
        Some(&desired),
        &Context { owner: &owner(), known: &known, in_use: &in_use, chosen: None },
        &observed,
        None,
    );
    let deps = plan.dependencies();
    let attach = plan
        .steps
        .iter()
        .position(|s| s.action() == "CreateTransitGatewayVpcAttachment")
        .expect("attached in the first plan");
    let subnets: Vec<usize> =
        plan.steps.iter().enumerate().filter(|(_, s)| s.action() == "CreateSubnet").map(|(i, _)| i).collect();
    assert!(subnets.iter().all(|i| deps[attach].contains(i)), "after every subnet:\n{}", plan.render());
}

#[test]
fn an_untagged_attachment_of_its_own_vpc_is_claimed_not_duplicated() {
    let mut w = World::new(false);
    let subnets: Vec<String> = w
        .net
        .observed
        .subnets
        .iter()
        .filter(|s| s.tags.get(securecart_api::tags::COMPONENT).is_some_and(|c| c.starts_with("subnet/app/")))
        .map(|s| s.id.clone())
        .collect();
    // A create whose tags were lost (the emulator drops them; a crash before they were set).
    w.hub.vpc_attachments.push(VpcAttachment {
        id: "tgw-attach-lost".into(),
        transit_gateway_id: w.view.transit_gateway_id.clone(),
        vpc_id: w.vpc_id(),
        subnet_ids: subnets,
        state: "available".into(),
        tags: Tags::new(),
        ..Default::default()
    });
    let s = with_block(block("prod", &[], json!([])));
    let plan = w.plan(Some(&s));
    assert!(!actions(&plan).contains(&"CreateTransitGatewayVpcAttachment"), "{}", plan.render());
    assert!(
        plan.steps.iter().any(|s| s.to_string().starts_with("tag tgw-attachment tgw-attach-lost")),
        "{}",
        plan.render()
    );
    w.converge(&s, 5);
    assert_eq!(w.attachment().id, "tgw-attach-lost");
    assert_eq!(w.attachment().tags.get(securecart_api::tags::OWNER_UID).map(String::as_str), Some("uid-1"));
}

#[test]
fn moving_the_association_leaves_the_old_route_table_first() {
    let mut w = World::new(true);
    w.converge(&with_block(block("prod", &["prod"], json!([]))), 10);
    let moved = with_block(block("shared", &["shared"], json!([])));
    let plans = w.converge(&moved, 10);
    assert!(actions(&plans[0]).contains(&"DisassociateTransitGatewayRouteTable"));
    assert!(!actions(&plans[0]).contains(&"AssociateTransitGatewayRouteTable"), "not while the old one is there");
    assert!(plans.iter().skip(1).any(|p| actions(p).contains(&"AssociateTransitGatewayRouteTable")));
    let a = w.attachment();
    assert_eq!(a.association, Some((w.view.route_tables["shared"].clone(), "associated".into())));
    assert_eq!(a.propagations, vec![(w.view.route_tables["shared"].clone(), "enabled".into())]);
}

#[test]
fn routes_to_the_hub_follow_the_spec_and_routes_to_anything_else_are_never_touched() {
    let mut w = World::new(false);
    let two = json!([
        {"destination": "10.0.0.0/8", "tiers": ["app"]},
        {"destination": "172.16.0.0/12", "tiers": ["app", "database"]},
    ]);
    w.converge(&with_block(block("prod", &[], two)), 10);
    // A peering's route, and a route someone points elsewhere on a destination the spec lists.
    let private = w.table_id("rtb/private");
    let isolated = w.table_id("rtb/isolated");
    for t in w.net.observed.route_tables.iter_mut() {
        if t.id == private {
            t.routes.push(Route {
                destination: "10.99.0.0/16".into(),
                vpc_peering_connection_id: Some("pcx-1".into()),
                ..Route::default()
            });
        }
        if t.id == isolated {
            t.routes.retain(|r| r.destination != "172.16.0.0/12");
            t.routes.push(Route {
                destination: "172.16.0.0/12".into(),
                vpc_peering_connection_id: Some("pcx-2".into()),
                ..Route::default()
            });
        }
    }
    // Dropping 10.0.0.0/8 removes exactly that route to the hub.
    let one = with_block(block("prod", &[], json!([{"destination": "172.16.0.0/12", "tiers": ["app", "database"]}])));
    let plan = w.plan(Some(&one));
    assert_eq!(
        plan.steps.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec![format!("delete route 10.0.0.0/8 from {private}")]
    );
    assert!(
        plan.waiting.iter().any(|m| m.contains("172.16.0.0/12") && m.contains("not this VpcTier's to replace")),
        "{:?}",
        plan.waiting
    );
    w.apply(&plan).unwrap();
    let routes = w.routes();
    assert!(routes.contains(&("rtb/private".into(), "10.99.0.0/16".into(), "pcx-1".into())), "{routes:?}");
    assert!(routes.contains(&("rtb/isolated".into(), "172.16.0.0/12".into(), "pcx-2".into())), "{routes:?}");
}

#[test]
fn removing_the_block_removes_its_routes_before_the_attachment_and_the_tier_waits_for_it() {
    let mut w = World::new(true);
    w.converge(&with_block(block("prod", &["prod"], json!([{"destination": "10.0.0.0/8", "tiers": ["app"]}]))), 10);
    let plans = w.converge(&spec(base()), 10);
    let first = &plans[0];
    let level = |action: &str| {
        first.steps.iter().zip(first.levels()).find(|(s, _)| s.action() == action).map(|(_, l)| l).unwrap()
    };
    assert!(level("DeleteRoute") < level("DeleteTransitGatewayVpcAttachment"), "{}", first.render());
    assert!(w.hub.vpc_view(&w.vpc_id()).is_empty());
    assert!(w.routes().is_empty(), "{:?}", w.routes());

    // A tier whose subnets an attachment is in waits for it to go, as AWS would refuse.
    w.converge(&with_block(block("prod", &[], json!([]))), 10);
    let mut no_app = base();
    no_app["tiers"] = json!([{"name": "database", "type": "Isolated", "prefixLength": 24}]);
    let plan = w.plan(Some(&spec(no_app.clone())));
    assert!(actions(&plan).contains(&"DeleteTransitGatewayVpcAttachment"));
    assert!(!actions(&plan).contains(&"DeleteSubnet"), "{}", plan.render());
    assert!(plan.waiting.iter().any(|m| m.contains("to leave subnet")), "{:?}", plan.waiting);
    w.converge(&spec(no_app), 10);
}

#[test]
fn teardown_deletes_the_attachment_and_waits_for_it_before_the_subnets_and_the_vpc() {
    let mut w = World::new(true);
    w.converge(&with_block(block("prod", &["prod"], json!([{"destination": "10.0.0.0/8", "tiers": ["app"]}]))), 10);
    let plans = w.converge_to(None, 10);
    assert!(actions(&plans[0]).contains(&"DeleteTransitGatewayVpcAttachment"));
    assert!(!actions(&plans[0]).contains(&"DeleteVpc"), "{}", plans[0].render());
    assert!(w.net.observed.vpcs.is_empty(), "everything gone");
    assert!(!network::owns_anything(&owner(), &w.observed()));
}

#[test]
fn validation_names_the_field() {
    let cases = [
        (block("prod", &[], json!([])), "web", "spec.transitGateway.tier"),
        (
            block("prod", &[], json!([{"destination": "10.20.4.0/24", "tiers": ["app"]}])),
            "app",
            "spec.transitGateway.routes[0].destination",
        ),
        (
            block("prod", &[], json!([{"destination": "10.0.0.0/8", "tiers": ["nope"]}])),
            "app",
            "spec.transitGateway.routes[0].tiers[0]",
        ),
    ];
    for (mut b, tier, field) in cases {
        b["tier"] = json!(tier);
        let err = vpc_tier::validate(&with_block(b)).unwrap_err();
        assert!(err.0.contains(field), "{field}: {err}");
    }
    let w = World::new(false);
    let s = with_block(block("staging", &[], json!([])));
    let err = vpc_tier::desired_with_hub(
        &s,
        &owner(),
        vec!["us-east-1a".into()],
        Some(&w.view),
        &network::Observed::default(),
    )
    .unwrap_err();
    assert!(err.0.contains("spec.transitGateway.routeTable") && err.0.contains("staging"), "{err}");
    // A default route through the hub only where the tier has none of its own.
    let mut public = base();
    public["tiers"] = json!([{"name": "web", "type": "Public", "prefixLength": 24}, {"name": "app", "type": "Isolated", "prefixLength": 24}]);
    public["transitGateway"] = block("prod", &[], json!([{"destination": "0.0.0.0/0", "tiers": ["web"]}]));
    assert!(vpc_tier::validate(&spec(public.clone())).unwrap_err().0.contains("default route"));
    public["transitGateway"] = block("prod", &[], json!([{"destination": "0.0.0.0/0", "tiers": ["app"]}]));
    assert!(vpc_tier::validate(&spec(public)).is_ok(), "an isolated tier may send everything to the hub");
}
