//! The VPC peering planner against a small simulated EC2 of two accounts and regions, strict where
//! AWS is: a connection is accepted only by the accepter's account in the accepter's region, a DNS
//! option is set only by its own side, routes only once it is active and only where the route
//! table is.

use securecart_api::tags::COMPONENT;
use securecart_plan::network::{Route, RouteTable};
use securecart_plan::peering::{self, Connection, Desired, Observed, Side, Step};
use securecart_plan::plan::PlanStep;
use securecart_plan::{Context, InUse, Known, Location, Owner, Plan, Tags};

const HOME_REGION: &str = "us-east-1";
const HOME_ACCOUNT: &str = "111111111111";

fn owner() -> Owner {
    Owner {
        kind: "VpcPeering".into(),
        namespace: "platform".into(),
        name: "shop-to-partner".into(),
        uid: "uid-p".into(),
    }
}

/// (region, account) a step acts in.
fn place(at: Option<&Location>) -> (String, String) {
    match at {
        None => (HOME_REGION.into(), HOME_ACCOUNT.into()),
        Some(l) => {
            let account = l.role_arn.as_deref().and_then(|r| r.split(':').nth(4)).unwrap_or(HOME_ACCOUNT);
            (l.region.clone(), account.into())
        }
    }
}

#[derive(Default)]
struct Sim {
    connections: Vec<(Connection, (String, String))>,
    /// Route tables with the (region, account) they are in.
    tables: Vec<((String, String), RouteTable)>,
    slow: bool,
    log: Vec<String>,
    n: u32,
}

impl Sim {
    fn table(&mut self, id: &str, at: &(String, String)) -> Result<&mut RouteTable, String> {
        let (p, t) =
            self.tables.iter_mut().find(|(_, t)| t.id == id).ok_or(format!("InvalidRouteTableID.NotFound: {id}"))?;
        if p != at {
            return Err(format!("InvalidRouteTableID.NotFound: {id} is in {p:?}, not {at:?}"));
        }
        Ok(t)
    }

    fn tick(&mut self) {
        for (c, _) in &mut self.connections {
            if c.state == "initiating-request" {
                c.state = "pending-acceptance".into();
            }
            if c.state == "provisioning" {
                c.state = "active".into();
            }
        }
    }

    fn apply(&mut self, plan: &Plan<Step>, limit: usize) -> Result<(), String> {
        let mut created = std::collections::BTreeMap::new();
        let mut done = 0;
        for phase in plan.phases() {
            for step in phase {
                if done == limit {
                    return Ok(());
                }
                done += 1;
                let at = place(step.location());
                self.log.push(format!("{} {at:?}", step.action()));
                self.step(step, &at, &mut created).map_err(|e| format!("{} failed: {e}", step.action()))?;
            }
        }
        Ok(())
    }

    fn connection(&mut self, id: &str) -> Result<&mut (Connection, (String, String)), String> {
        self.connections
            .iter_mut()
            .find(|(c, _)| c.id == id)
            .ok_or(format!("InvalidVpcPeeringConnectionID.NotFound: {id}"))
    }

    fn step(
        &mut self,
        step: &Step,
        at: &(String, String),
        created: &mut std::collections::BTreeMap<String, String>,
    ) -> Result<(), String> {
        match step {
            Step::CreateConnection { vpc_id, peer_vpc_id, peer_owner_id, peer_region, tags, .. } => {
                self.n += 1;
                let id = format!("pcx-{}", self.n);
                let accepter = (
                    peer_region.clone().unwrap_or(HOME_REGION.into()),
                    peer_owner_id.clone().unwrap_or(HOME_ACCOUNT.into()),
                );
                let state = if self.slow { "initiating-request" } else { "pending-acceptance" };
                self.connections.push((
                    Connection {
                        id: id.clone(),
                        requester_vpc_id: vpc_id.clone(),
                        accepter_vpc_id: peer_vpc_id.clone(),
                        accepter_owner_id: Some(accepter.1.clone()),
                        accepter_region: Some(accepter.0.clone()),
                        state: state.into(),
                        requester_dns: Some(false),
                        accepter_dns: Some(false),
                        tags: tags.clone(),
                        ..Default::default()
                    },
                    accepter,
                ));
                created.insert("pcx".into(), id);
            }
            Step::AcceptConnection { connection_id, .. } => {
                let slow = self.slow;
                let (c, accepter) = self.connection(connection_id)?;
                if accepter != at {
                    return Err(format!(
                        "OperationNotPermitted: {connection_id} is accepted by {accepter:?}, not {at:?}"
                    ));
                }
                if c.state != "pending-acceptance" {
                    return Err(format!("InvalidStateTransition: {}", c.state));
                }
                c.state = if slow { "provisioning".into() } else { "active".into() };
            }
            Step::SetDnsResolution { connection_id, side, value, .. } => {
                let (c, accepter) = self.connection(connection_id)?;
                let home = (HOME_REGION.to_string(), HOME_ACCOUNT.to_string());
                let own = if *side == Side::Requester { &home } else { &*accepter };
                if own != at || c.state != "active" {
                    return Err(format!(
                        "OperationNotPermitted: {side:?} options of {connection_id} from {at:?} ({})",
                        c.state
                    ));
                }
                match side {
                    Side::Requester => c.requester_dns = Some(*value),
                    Side::Accepter => c.accepter_dns = Some(*value),
                }
            }
            Step::CreateRoute { route_table_id, destination, connection, .. }
            | Step::ReplaceRoute { route_table_id, destination, connection, .. } => {
                let id = match connection {
                    securecart_plan::Ref::Id(id) => id.clone(),
                    securecart_plan::Ref::Created(c) => created.get(c).cloned().ok_or("not created")?,
                };
                if self.connection(&id)?.0.state != "active" {
                    return Err(format!("InvalidVpcPeeringConnectionID.NotFound: {id} is not active"));
                }
                let replace = matches!(step, Step::ReplaceRoute { .. });
                let t = self.table(route_table_id, at)?;
                let exists = t.routes.iter().any(|r| &r.destination == destination);
                if exists != replace {
                    return Err(format!("RouteAlreadyExists or InvalidRoute.NotFound: {destination}"));
                }
                t.routes.retain(|r| &r.destination != destination);
                t.routes.push(Route {
                    destination: destination.clone(),
                    vpc_peering_connection_id: Some(id),
                    ..Route::default()
                });
            }
            Step::DeleteRoute { route_table_id, destination, .. } => {
                let t = self.table(route_table_id, at)?;
                t.routes.retain(|r| &r.destination != destination);
            }
            Step::SetTags { resource_id, tags, .. } => self.connection(resource_id)?.0.tags.extend(tags.clone()),
            Step::DeleteConnection { id } => self.connection(id)?.0.state = "deleted".into(),
        }
        Ok(())
    }

    fn observed(&self, accepter_at: Option<&Location>) -> Observed {
        // Each side's tables, read where they are (as the controller reads them by ID).
        let (accepter, home) = (place(accepter_at), place(None));
        let side = |vpc: &str, at: &(String, String)| -> Vec<RouteTable> {
            self.tables.iter().filter(|(p, t)| p == at && t.vpc_id == vpc).map(|(_, t)| t.clone()).collect()
        };
        Observed {
            connections: self.connections.iter().map(|(c, _)| c.clone()).collect(),
            route_tables: side("vpc-req", &home),
            accepter_route_tables: side("vpc-acc", &accepter),
            accepter_at: accepter_at.cloned(),
        }
    }
}

fn table(id: &str, vpc: &str) -> RouteTable {
    RouteTable {
        id: id.into(),
        vpc_id: vpc.into(),
        routes: vec![Route { destination: "0.0.0.0/0".into(), gateway_id: Some("igw-1".into()), ..Route::default() }],
        ..RouteTable::default()
    }
}

struct World {
    sim: Sim,
    desired: Desired,
    known: Known,
}

impl World {
    /// Requester in the home account and region; the accepter elsewhere when `at` is set.
    fn new(at: Option<Location>) -> Self {
        let mut sim = Sim::default();
        let accepter = place(at.as_ref());
        let home = (HOME_REGION.to_string(), HOME_ACCOUNT.to_string());
        sim.tables.push((home.clone(), table("rtb-req-1", "vpc-req")));
        sim.tables.push((home.clone(), table("rtb-req-2", "vpc-req")));
        sim.tables.push((accepter.clone(), table("rtb-acc-1", "vpc-acc")));
        let desired = Desired {
            owner: owner(),
            user_tags: Tags::new(),
            requester_vpc_id: "vpc-req".into(),
            requester_cidr: "10.81.0.0/16".into(),
            accepter_vpc_id: "vpc-acc".into(),
            accepter_cidr: "10.91.0.0/16".into(),
            accepter_account_id: (accepter.1 != home.1).then(|| accepter.1.clone()),
            accepter_region: (accepter.0 != home.0).then(|| accepter.0.clone()),
            accepter_at: at,
            requester_route_tables: vec!["rtb-req-1".into(), "rtb-req-2".into()],
            accepter_route_tables: vec!["rtb-acc-1".into()],
            allow_dns_resolution: true,
        };
        World { sim, desired, known: Known::new() }
    }

    fn plan(&mut self, wanted: bool) -> Plan<Step> {
        let observed = self.sim.observed(self.desired.accepter_at.as_ref());
        for c in observed.connections.iter().filter(|c| owner().owns(&c.tags) && c.is_live()) {
            self.known.entry("pcx".into()).or_insert(c.id.clone());
        }
        let in_use = InUse::new();
        let cx = Context { owner: &owner(), known: &self.known, in_use: &in_use, chosen: None };
        peering::plan(wanted.then_some(&self.desired), &cx, &observed)
    }

    fn converge(&mut self, wanted: bool, max: usize) -> Vec<Plan<Step>> {
        let mut plans = Vec::new();
        for _ in 0..max {
            let plan = self.plan(wanted);
            if plan.in_sync() {
                return plans;
            }
            self.sim.tick();
            self.sim.apply(&plan, usize::MAX).unwrap_or_else(|e| panic!("{e}\n{}", plan.render()));
            plans.push(plan);
        }
        panic!("no convergence:\n{}", self.plan(wanted).render());
    }

    /// Applies plans until one has no step left (some waiting may stay: a conflict).
    fn settle(&mut self) {
        for _ in 0..10 {
            let plan = self.plan(true);
            if plan.steps.is_empty() {
                return;
            }
            self.sim.apply(&plan, usize::MAX).unwrap_or_else(|e| panic!("{e}\n{}", plan.render()));
        }
        panic!("steps left:\n{}", self.plan(true).render());
    }

    fn routes(&self, table: &str) -> Vec<(String, String)> {
        let t = &self.sim.tables.iter().find(|(_, t)| t.id == table).unwrap().1;
        t.routes
            .iter()
            .map(|r| {
                (
                    r.destination.clone(),
                    r.vpc_peering_connection_id.clone().or(r.gateway_id.clone()).unwrap_or_default(),
                )
            })
            .collect()
    }

    fn live(&self) -> Vec<Connection> {
        self.sim.connections.iter().map(|(c, _)| c.clone()).filter(|c| c.is_live()).collect()
    }
}

fn elsewhere() -> Location {
    Location { region: "eu-central-2".into(), role_arn: Some("arn:aws:iam::210987654321:role/accept-peering".into()) }
}

#[test]
fn one_account_one_region_peers_routes_both_sides_and_sets_dns() {
    let mut w = World::new(None);
    w.sim.slow = true;
    let plans = w.converge(true, 10);
    assert_eq!(plans[0].steps.iter().map(|s| s.action()).collect::<Vec<_>>(), ["CreateVpcPeeringConnection"]);
    let c = &w.live()[0];
    assert_eq!((c.state.as_str(), c.requester_dns, c.accepter_dns), ("active", Some(true), Some(true)));
    assert_eq!(c.tags.get(COMPONENT).map(String::as_str), Some("pcx"));
    for t in ["rtb-req-1", "rtb-req-2"] {
        assert!(w.routes(t).contains(&("10.91.0.0/16".into(), c.id.clone())), "{t}");
    }
    assert!(w.routes("rtb-acc-1").contains(&("10.81.0.0/16".into(), c.id.clone())));
}

#[test]
fn across_accounts_and_regions_the_accepter_side_is_changed_there_through_the_role() {
    let mut w = World::new(Some(elsewhere()));
    let plans = w.converge(true, 10);
    let there: Vec<&str> = plans
        .iter()
        .flat_map(|p| &p.steps)
        .filter(|s| s.location() == Some(&elsewhere()))
        .map(|s| s.action())
        .collect();
    assert_eq!(there, ["AcceptVpcPeeringConnection", "CreateRoute", "ModifyVpcPeeringConnectionOptions"]);
    let create = plans[0].steps.iter().find_map(|s| match s {
        Step::CreateConnection { peer_owner_id, peer_region, .. } => Some((peer_owner_id.clone(), peer_region.clone())),
        _ => None,
    });
    assert_eq!(create, Some((Some("210987654321".into()), Some("eu-central-2".into()))));
    let c = &w.live()[0];
    assert!(w.routes("rtb-acc-1").contains(&("10.81.0.0/16".into(), c.id.clone())));
    assert_eq!(c.accepter_dns, Some(true));
}

#[test]
fn a_crash_after_every_step_leaves_one_connection() {
    let mut w = World::new(Some(elsewhere()));
    for _ in 0..30 {
        let plan = w.plan(true);
        if plan.in_sync() {
            break;
        }
        w.sim.apply(&plan, 1).unwrap_or_else(|e| panic!("{e}\n{}", plan.render()));
    }
    assert!(w.plan(true).in_sync());
    assert_eq!(w.live().len(), 1);
}

#[test]
fn drift_on_the_accepter_side_is_repaired_there() {
    let mut w = World::new(Some(elsewhere()));
    w.converge(true, 10);
    w.sim
        .tables
        .iter_mut()
        .find(|(_, t)| t.id == "rtb-acc-1")
        .unwrap()
        .1
        .routes
        .retain(|r| r.destination != "10.81.0.0/16");
    let plan = w.plan(true);
    assert_eq!(plan.steps.len(), 1, "{}", plan.render());
    assert_eq!((plan.steps[0].action(), plan.steps[0].location()), ("CreateRoute", Some(&elsewhere())));
}

#[test]
fn a_route_to_something_else_is_not_taken_over_and_a_dropped_table_loses_only_its_route() {
    let mut w = World::new(None);
    w.sim.tables.iter_mut().find(|(_, t)| t.id == "rtb-req-2").unwrap().1.routes.push(Route {
        destination: "10.91.0.0/16".into(),
        gateway_id: Some("vgw-1".into()),
        ..Route::default()
    });
    w.settle();
    assert!(w.routes("rtb-req-2").contains(&("10.91.0.0/16".into(), "vgw-1".into())), "not replaced");
    let plan = w.plan(true);
    assert!(
        plan.waiting.iter().any(|m| m.contains("rtb-req-2") && m.contains("not this peering's")),
        "{:?}",
        plan.waiting
    );
    // rtb-req-1 leaves the spec: its route goes, the default route stays.
    w.desired.requester_route_tables = vec!["rtb-req-2".into()];
    let plan = w.plan(true);
    assert_eq!(
        plan.steps.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["delete route 10.91.0.0/16 from rtb-req-1"]
    );
}

#[test]
fn a_rejected_connection_is_reported_not_made_again() {
    let mut w = World::new(None);
    w.converge(true, 10);
    w.sim.connections[0].0.state = "rejected".into();
    w.sim.connections[0].0.message = Some("Rejected by the accepter".into());
    let plan = w.plan(true);
    assert!(!plan.steps.iter().any(|s| s.action() == "CreateVpcPeeringConnection"), "{}", plan.render());
    assert!(
        plan.waiting.iter().any(|m| m.contains("rejected") && m.contains("Rejected by the accepter")),
        "{:?}",
        plan.waiting
    );
}

#[test]
fn teardown_removes_the_routes_on_both_sides_before_the_connection() {
    let mut w = World::new(Some(elsewhere()));
    w.converge(true, 10);
    let plans = w.converge(false, 5);
    let first = &plans[0];
    let levels: Vec<(&str, usize)> = first.steps.iter().map(|s| s.action()).zip(first.levels()).collect();
    let delete = levels.iter().find(|(a, _)| *a == "DeleteVpcPeeringConnection").unwrap().1;
    assert!(levels.iter().filter(|(a, _)| *a == "DeleteRoute").all(|(_, l)| *l < delete), "{levels:?}");
    assert!(first.steps.iter().any(|s| s.action() == "DeleteRoute" && s.location() == Some(&elsewhere())));
    assert!(w.live().is_empty());
    for t in ["rtb-req-1", "rtb-req-2", "rtb-acc-1"] {
        assert_eq!(
            w.routes(t),
            vec![("0.0.0.0/0".to_string(), "igw-1".to_string())],
            "only its default route is left in {t}"
        );
    }
    assert!(!peering::owns_anything(&owner(), &w.sim.observed(Some(&elsewhere()))));
}

#[test]
fn overlapping_blocks_and_a_missing_role_are_invalid() {
    use securecart_plan::vpc_peering::{Facts, Side as PeerSide, desired, overlap};
    assert!(overlap("10.0.0.0/16", "10.0.128.0/20") && !overlap("10.0.0.0/16", "10.1.0.0/16"));
    let spec: securecart_api::VpcPeeringSpec = serde_json::from_value(serde_json::json!({
        "requester": {"vpcTierRef": {"name": "a"}}, "accepter": {"vpcTierRef": {"name": "b"}},
    }))
    .unwrap();
    let side = |cidr: &str, account: &str| PeerSide {
        vpc_id: "vpc-1".into(),
        cidr_block: cidr.into(),
        region: HOME_REGION.into(),
        account_id: account.into(),
        route_table_ids: vec![],
    };
    let facts = Facts {
        requester: side("10.0.0.0/16", HOME_ACCOUNT),
        accepter: side("10.0.64.0/18", HOME_ACCOUNT),
        accepter_role_arn: None,
    };
    assert!(desired(&spec, &owner(), &facts, HOME_ACCOUNT).unwrap_err().0.contains("overlaps"));
    let facts = Facts {
        requester: side("10.0.0.0/16", HOME_ACCOUNT),
        accepter: side("10.1.0.0/16", "210987654321"),
        accepter_role_arn: None,
    };
    assert!(desired(&spec, &owner(), &facts, HOME_ACCOUNT).unwrap_err().0.contains("roleArn"));
}
