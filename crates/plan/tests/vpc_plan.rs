//! The VPC planner run against a simulated EC2 (`sim`): plan, apply, observe again, until in sync.

mod sim;

use std::collections::BTreeSet;

use pretty_assertions::assert_eq;
use securecart_api::{VpcTierSpec, tags::COMPONENT};
use securecart_plan::network::{self, Desired, Observed, RouteTable, Step, Subnet};
use securecart_plan::plan::PlanStep;
use securecart_plan::vpc_tier::{self, Zone};
use securecart_plan::{Choices, Context, InUse, Known, Owner, Plan, Ref, Tags};
use serde_json::{Value, json};
use sim::Sim;

// ---------------------------------------------------------------------------------------------
// Helpers

fn owner() -> Owner {
    Owner { kind: "VpcTier".into(), namespace: "platform".into(), name: "shop".into(), uid: "uid-1".into() }
}

/// Same namespace and name (so the same component tags and Names), another object.
fn stranger() -> Owner {
    Owner { uid: "uid-other".into(), ..owner() }
}

/// The three-tier, three-zone example.
fn example() -> Value {
    json!({
        "region": "us-east-1",
        "cidrBlock": "10.20.0.0/16",
        "availabilityZones": 3,
        "tiers": [
            { "name": "public", "type": "Public", "prefixLength": 24 },
            { "name": "app", "type": "Private", "prefixLength": 20 },
            { "name": "database", "type": "Isolated", "prefixLength": 24 }
        ],
        "tags": { "team": "platform" }
    })
}

fn spec(v: Value) -> VpcTierSpec {
    serde_json::from_value(v).expect("spec deserialises")
}

fn example_with(f: impl FnOnce(&mut Value)) -> VpcTierSpec {
    let mut v = example();
    f(&mut v);
    spec(v)
}

/// The region's zones, deliberately unsorted, all available.
fn available() -> Vec<Zone> {
    ["us-east-1d", "us-east-1b", "us-east-1a", "us-east-1f", "us-east-1c", "us-east-1e"]
        .map(|z| Zone::new(z, "available"))
        .to_vec()
}

fn desired_for(spec: &VpcTierSpec, who: &Owner, observed: &Observed) -> Desired {
    let zones = vpc_tier::resolve_zones(spec, &available(), &[]).expect("zones resolve");
    vpc_tier::desired(spec, who, zones, observed).expect("spec is valid")
}

/// Plans with what the status would name and what users hold.
fn plan_with(spec: Option<&VpcTierSpec>, who: &Owner, sim: &Sim, known: &Known, in_use: &InUse) -> Plan<Step> {
    let desired = spec.map(|s| desired_for(s, who, &sim.observed));
    network::plan(desired.as_ref(), &Context { owner: who, known, in_use, chosen: None }, &sim.observed)
}

fn plan_as(spec: Option<&VpcTierSpec>, who: &Owner, sim: &Sim) -> Plan<Step> {
    plan_with(spec, who, sim, &Known::new(), &InUse::new())
}

fn plan_for(spec: Option<&VpcTierSpec>, sim: &Sim) -> Plan<Step> {
    plan_as(spec, &owner(), sim)
}

/// Plans and applies until a plan is in sync; returns the plans applied. Panics after `max` passes.
fn converge_as(spec: Option<&VpcTierSpec>, who: &Owner, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
    let mut applied = Vec::new();
    for _ in 0..max {
        let plan = plan_as(spec, who, sim);
        if plan.in_sync() {
            assert_eq!(sim.blackholes(), Vec::<String>::new(), "converged with routes that lead nowhere");
            return applied;
        }
        if let Err(e) = sim.apply(&plan) {
            panic!("{e}\nplan:\n{}", plan.render());
        }
        applied.push(plan);
    }
    panic!("not in sync after {max} passes; last plan:\n{}", plan_as(spec, who, sim).render());
}

fn converge(spec: Option<&VpcTierSpec>, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
    converge_as(spec, &owner(), sim, max)
}

fn converged_example() -> (VpcTierSpec, Sim) {
    let s = spec(example());
    let mut sim = Sim::new();
    converge(Some(&s), &mut sim, 3);
    (s, sim)
}

fn comp(tags: &Tags) -> &str {
    tags.get(COMPONENT).map_or("", String::as_str)
}

fn subnet<'a>(o: &'a Observed, component: &str) -> &'a Subnet {
    o.subnets.iter().find(|s| comp(&s.tags) == component).unwrap_or_else(|| panic!("no subnet {component}"))
}

fn table<'a>(o: &'a Observed, component: &str) -> &'a RouteTable {
    o.route_tables.iter().find(|t| comp(&t.tags) == component).unwrap_or_else(|| panic!("no route table {component}"))
}

fn table_of<'a>(o: &'a Observed, subnet_id: &str) -> &'a RouteTable {
    o.route_tables
        .iter()
        .find(|t| t.associations.iter().any(|a| a.subnet_id.as_deref() == Some(subnet_id)))
        .unwrap_or_else(|| panic!("{subnet_id} has no route table"))
}

fn default_route(t: &RouteTable) -> Option<&network::Route> {
    t.routes.iter().find(|r| r.destination == network::DEFAULT_ROUTE)
}

fn id_of(o: &Observed, component: &str) -> String {
    let o = o.clone();
    let ids = o
        .vpcs
        .iter()
        .map(|r| (&r.tags, &r.id))
        .chain(o.subnets.iter().map(|r| (&r.tags, &r.id)))
        .chain(o.internet_gateways.iter().map(|r| (&r.tags, &r.id)))
        .chain(o.route_tables.iter().map(|r| (&r.tags, &r.id)))
        .chain(o.nat_gateways.iter().filter(|n| n.state != "deleted").map(|r| (&r.tags, &r.id)))
        .chain(o.addresses.iter().map(|r| (&r.tags, &r.allocation_id)))
        .chain(o.flow_logs.iter().map(|r| (&r.tags, &r.id)))
        .filter(|(t, _)| owner().owns(t) && comp(t) == component)
        .map(|(_, id)| id.clone())
        .collect::<Vec<_>>();
    assert_eq!(ids.len(), 1, "{component}: {ids:?}");
    ids[0].clone()
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(PlanStep::action).collect()
}

fn count(plan: &Plan<Step>, action: &str) -> usize {
    actions(plan).iter().filter(|a| **a == action).count()
}

/// The dependency levels at which `action` runs in `plan`.
fn phase_of(plan: &Plan<Step>, action: &str) -> BTreeSet<usize> {
    let levels = plan.levels();
    plan.steps.iter().zip(levels).filter(|(s, _)| s.action() == action).map(|(_, l)| l).collect()
}

/// Every resource ID a plan mentions.
fn ids_in(plan: &Plan<Step>) -> BTreeSet<String> {
    plan.render().split_whitespace().map(|w| w.trim_matches(|c| c == '<' || c == '>' || c == ',').to_string()).collect()
}

const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

// ---------------------------------------------------------------------------------------------
// 1. The example converges to the documented layout.

#[test]
fn three_tier_example_converges_to_the_documented_layout() {
    let s = spec(example());
    let mut sim = Sim::new();
    let applied = converge(Some(&s), &mut sim, 3);
    assert_eq!(applied.len(), 2, "pass 1 builds, pass 2 adds NAT routes, pass 3 is in sync");
    let o = &sim.observed;

    assert_eq!(o.vpcs.len(), 1);
    let vpc = &o.vpcs[0];
    assert_eq!((vpc.cidr_block.as_str(), vpc.dns_support, vpc.dns_hostnames), ("10.20.0.0/16", Some(true), Some(true)));
    assert_eq!(vpc.tags["team"], "platform");

    let cidrs = |tier: &str| ZONES.map(|z| subnet(o, &format!("subnet/{tier}/{z}")).cidr_block.clone());
    assert_eq!(o.subnets.len(), 9);
    assert_eq!(cidrs("public"), ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"]);
    assert_eq!(cidrs("app"), ["10.20.16.0/20", "10.20.32.0/20", "10.20.48.0/20"]);
    assert_eq!(cidrs("database"), ["10.20.3.0/24", "10.20.4.0/24", "10.20.5.0/24"]);
    for s in &o.subnets {
        assert_eq!(s.vpc_id, vpc.id);
        assert_eq!(s.zone, comp(&s.tags).rsplit('/').next().unwrap());
        assert_eq!(s.map_public_ip_on_launch, comp(&s.tags).starts_with("subnet/public/"), "{}", comp(&s.tags));
        assert_eq!(s.tags["team"], "platform");
    }

    assert_eq!(o.internet_gateways.len(), 1);
    let igw = &o.internet_gateways[0];
    assert_eq!(igw.attached_vpc_ids, std::slice::from_ref(&vpc.id));

    assert_eq!(o.nat_gateways.len(), 3);
    assert_eq!(o.addresses.len(), 3);
    let mut eips = BTreeSet::new();
    for z in ZONES {
        let nat = o.nat_gateways.iter().find(|n| comp(&n.tags) == format!("nat/{z}")).unwrap();
        assert_eq!(nat.state, "available");
        assert_eq!(nat.subnet_id, subnet(o, &format!("subnet/public/{z}")).id, "NAT in its zone's public subnet");
        let eip = id_of(o, &format!("eip/{z}"));
        assert_eq!(nat.allocation_id.as_ref(), Some(&eip));
        assert!(eips.insert(eip), "each NAT has its own EIP");
    }

    // Route tables: 1 public, 3 private, 1 isolated, plus the VPC's untagged main table.
    assert_eq!(o.route_tables.len(), 6);
    let public = table(o, "rtb/public");
    assert_eq!(default_route(public).unwrap().gateway_id.as_ref(), Some(&igw.id));
    let isolated = table(o, "rtb/isolated");
    assert_eq!(default_route(isolated), None);
    for z in ZONES {
        let private = table(o, &format!("rtb/private/{z}"));
        let nat = id_of(o, &format!("nat/{z}"));
        assert_eq!(default_route(private).unwrap().nat_gateway_id.as_ref(), Some(&nat));
        assert_eq!(table_of(o, &subnet(o, &format!("subnet/public/{z}")).id).id, public.id);
        assert_eq!(table_of(o, &subnet(o, &format!("subnet/app/{z}")).id).id, private.id);
        assert_eq!(table_of(o, &subnet(o, &format!("subnet/database/{z}")).id).id, isolated.id);
    }

    let again = plan_for(Some(&s), &sim);
    assert!(again.in_sync(), "{}", again.render());
}

// ---------------------------------------------------------------------------------------------
// 2. Golden first plan.

#[test]
fn first_plan_matches_golden_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/three_tier_first_plan.txt");
    let got = plan_for(Some(&spec(example())), &Sim::new()).render();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("golden file exists; run with UPDATE_GOLDEN=1 to write it");
    assert_eq!(got, want);
}

#[test]
fn first_plan_orders_by_dependency_and_defers_nat_routes() {
    let plan = plan_for(Some(&spec(example())), &Sim::new());
    let p = |a: &str| phase_of(&plan, a).into_iter().next().unwrap_or_else(|| panic!("no {a}"));
    assert!(p("CreateVpc") < p("CreateSubnet"));
    assert!(p("CreateInternetGateway") < p("AttachInternetGateway"));
    assert!(p("AttachInternetGateway") < p("CreateNatGateway"), "a NAT gateway needs the IGW attached");
    assert!(p("AllocateAddress") < p("CreateNatGateway"));
    assert!(p("CreateSubnet") < p("AssociateRouteTable"));
    assert!(p("CreateRouteTable") < p("CreateRoute"));
    // Only the public default route: NAT routes come once the NATs are available.
    assert_eq!(count(&plan, "CreateRoute"), 1);
    assert_eq!(plan.waiting.len(), 3);
    assert!(plan.waiting.iter().all(|w| w.contains("nat/") && w.contains("available")), "{:?}", plan.waiting);
}

// ---------------------------------------------------------------------------------------------
// 3. Drift is repaired, exactly.

#[test]
fn drift_deleted_public_default_route_is_recreated() {
    let (s, mut sim) = converged_example();
    let rtb = id_of(&sim.observed, "rtb/public");
    let igw = id_of(&sim.observed, "igw");
    sim.apply(&Plan {
        steps: vec![Step::DeleteRoute { route_table_id: rtb.clone(), destination: "0.0.0.0/0".into() }],
        ..Plan::default()
    })
    .unwrap();
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(plan.render(), format!("L1 create route 0.0.0.0/0 -> internet gateway {igw} in {rtb}\n"));
    assert_eq!(converge(Some(&s), &mut sim, 3).len(), 1);
}

#[test]
fn drift_deleted_subnet_is_recreated_in_its_old_block_and_reassociated() {
    let (s, mut sim) = converged_example();
    let gone = id_of(&sim.observed, "subnet/database/us-east-1b");
    let rtb = id_of(&sim.observed, "rtb/isolated");
    sim.apply(&Plan { steps: vec![Step::DeleteSubnet { id: gone.clone() }], ..Plan::default() }).unwrap();
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(
        plan.render(),
        format!(
            "L1 create subnet subnet/database/us-east-1b 10.20.4.0/24 in us-east-1b of VPC vpc-1\n\
             L2 associate subnet <subnet/database/us-east-1b> with route table {rtb}\n"
        )
    );
    converge(Some(&s), &mut sim, 3);
    let fresh = subnet(&sim.observed, "subnet/database/us-east-1b");
    assert_ne!(fresh.id, gone);
    assert_eq!(fresh.cidr_block, "10.20.4.0/24");
    assert_eq!(table_of(&sim.observed, &fresh.id).id, rtb);
}

#[test]
fn drift_changed_tag_value_is_rewritten_alone() {
    let (s, mut sim) = converged_example();
    let id = id_of(&sim.observed, "subnet/app/us-east-1a");
    let tags = Tags::from([("team".into(), "someone-else".into()), ("extra".into(), "kept".into())]);
    sim.apply(&Plan {
        steps: vec![Step::SetTags { resource_id: id.clone(), component: "x".into(), tags }],
        ..Plan::default()
    })
    .unwrap();
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(
        plan.steps,
        [Step::SetTags {
            resource_id: id.clone(),
            component: "subnet/app/us-east-1a".into(),
            tags: Tags::from([("team".into(), "platform".into())])
        }]
    );
    converge(Some(&s), &mut sim, 3);
    let tags = &subnet(&sim.observed, "subnet/app/us-east-1a").tags;
    assert_eq!(
        (tags["team"].as_str(), tags["extra"].as_str()),
        ("platform", "kept"),
        "foreign extra keys are left alone"
    );
}

#[test]
fn drift_detached_internet_gateway_is_reattached() {
    // EC2 refuses to detach an IGW while NAT gateways map public addresses, so no NATs here.
    let s = example_with(|v| v["natGateways"] = json!("None"));
    let mut sim = Sim::new();
    converge(Some(&s), &mut sim, 3);
    let (igw, vpc) = (id_of(&sim.observed, "igw"), id_of(&sim.observed, "vpc"));
    sim.apply(&Plan {
        steps: vec![Step::DetachInternetGateway { id: igw.clone(), vpc_id: vpc.clone() }],
        ..Plan::default()
    })
    .unwrap();
    assert_eq!(sim.blackholes().len(), 1, "the public route is a blackhole now");
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(plan.render(), format!("L1 attach internet gateway {igw} to VPC {vpc}\n"));
    converge(Some(&s), &mut sim, 3);
    assert!(sim.blackholes().is_empty());
}

#[test]
fn drift_public_ip_on_launch_and_dns_hostnames_are_reset() {
    let (s, mut sim) = converged_example();
    let sub = id_of(&sim.observed, "subnet/public/us-east-1c");
    let vpc = id_of(&sim.observed, "vpc");
    sim.apply(&Plan {
        steps: vec![
            Step::SetSubnetPublicIpOnLaunch { subnet: Ref::Id(sub.clone()), value: false },
            Step::SetVpcAttribute {
                vpc: Ref::Id(vpc.clone()),
                attribute: network::VpcAttribute::EnableDnsHostnames,
                value: false,
            },
        ],
        ..Plan::default()
    })
    .unwrap();
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(
        plan.render(),
        format!("L1 set EnableDnsHostnames=true on VPC {vpc}\nL1 set MapPublicIpOnLaunch=true on subnet {sub}\n")
    );
    assert_eq!(converge(Some(&s), &mut sim, 3).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 4. Crash safety.

#[test]
fn after_a_crash_only_what_is_missing_is_created() {
    let s = spec(example());
    let mut sim = Sim::new();
    let first = plan_for(Some(&s), &sim);
    // Crash after the VPC and four subnets.
    let partial = Plan {
        steps: first
            .steps
            .iter()
            .filter(|st| matches!(st, Step::CreateVpc { .. } | Step::CreateSubnet { .. }))
            .take(5)
            .cloned()
            .collect(),
        ..Plan::default()
    };
    sim.apply(&partial).unwrap();
    assert_eq!((sim.observed.vpcs.len(), sim.observed.subnets.len()), (1, 4));
    let before: BTreeSet<String> = sim.observed.subnets.iter().map(|s| comp(&s.tags).to_string()).collect();

    let plan = plan_for(Some(&s), &sim);
    assert_eq!(count(&plan, "CreateVpc"), 0);
    let creating: BTreeSet<String> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::CreateSubnet { component, vpc, .. } => {
                assert_eq!(vpc, &Ref::Id("vpc-1".into()));
                Some(component.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(creating.len(), 5);
    assert!(creating.is_disjoint(&before));

    converge(Some(&s), &mut sim, 4);
    assert_eq!(sim.observed.vpcs.len(), 1);
    assert_eq!(sim.observed.subnets.len(), 9);
    assert_eq!(spec_layout(&sim.observed), spec_layout(&converged_example().1.observed));
}

/// Components and CIDRs of the subnets, for comparing two worlds.
fn spec_layout(o: &Observed) -> BTreeSet<(String, String)> {
    o.subnets.iter().map(|s| (comp(&s.tags).to_string(), s.cidr_block.clone())).collect()
}

#[test]
fn a_crash_mid_way_through_any_step_of_the_first_plan_still_converges_to_one_of_each() {
    let s = spec(example());
    let first = plan_for(Some(&s), &Sim::new());
    for n in 0..first.steps.len() {
        let mut sim = Sim::new();
        sim.apply_until_crash(&first, n).unwrap();
        converge(Some(&s), &mut sim, 4);
        let o = &sim.observed;
        assert_eq!(
            (o.vpcs.len(), o.subnets.len(), o.internet_gateways.len(), o.addresses.len()),
            (1, 9, 1, 3),
            "crash after {n}"
        );
        assert_eq!(o.nat_gateways.iter().filter(|n| n.state == "available").count(), 3, "crash after {n}");
    }
}

#[test]
fn duplicate_vpcs_keep_the_lower_id_and_delete_the_other() {
    let s = spec(example());
    let mut sim = Sim::new();
    let create = plan_for(Some(&s), &sim).steps.into_iter().find(|st| matches!(st, Step::CreateVpc { .. })).unwrap();
    sim.apply(&Plan { steps: vec![create.clone(), create], ..Plan::default() }).unwrap();
    assert_eq!(sim.observed.vpcs.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), ["vpc-1", "vpc-2"]);

    let plan = plan_for(Some(&s), &sim);
    assert_eq!(count(&plan, "CreateVpc"), 0);
    assert!(ids_in(&plan).contains("vpc-1"));
    let applied = converge(Some(&s), &mut sim, 4);
    let deletes: Vec<&Step> =
        applied.iter().flat_map(|p| &p.steps).filter(|st| matches!(st, Step::DeleteVpc { .. })).collect();
    assert_eq!(deletes, [&Step::DeleteVpc { id: "vpc-2".into() }]);
    assert_eq!(sim.observed.vpcs.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), ["vpc-1"]);
    assert!(sim.observed.subnets.iter().all(|s| s.vpc_id == "vpc-1"));
}

/// What a lost CreateVpc response retried by the SDK leaves: an empty twin with the same tags.
fn add_empty_twin_vpc(s: &VpcTierSpec, sim: &mut Sim) -> String {
    let create =
        plan_for(Some(s), &Sim::new()).steps.into_iter().find(|st| matches!(st, Step::CreateVpc { .. })).unwrap();
    let before: Vec<String> = sim.observed.vpcs.iter().map(|v| v.id.clone()).collect();
    sim.apply(&Plan { steps: vec![create], ..Plan::default() }).unwrap();
    sim.observed.vpcs.iter().map(|v| v.id.clone()).find(|id| !before.contains(id)).unwrap()
}

#[test]
fn duplicates_keep_the_one_the_status_names_then_the_one_in_use_with_random_ids() {
    let s = spec(example());
    let mut sim = Sim::with_random_ids();
    converge(Some(&s), &mut sim, 3);
    let kept_vpc = id_of(&sim.observed, "vpc");
    let twin = add_empty_twin_vpc(&s, &mut sim);
    // Whatever the random IDs' order, the VPC holding the subnets is kept and the twin goes.
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(
        plan.steps.iter().filter(|st| matches!(st, Step::DeleteVpc { id } if *id == twin)).count(),
        1,
        "{}",
        plan.render()
    );
    assert!(!plan.steps.iter().any(|st| matches!(st, Step::DeleteVpc { id } if *id == kept_vpc)));
    // Two empty twins: the one the status names is kept, even when its ID sorts last.
    let mut fresh = Sim::with_random_ids();
    let create = plan_for(Some(&s), &fresh).steps.into_iter().find(|st| matches!(st, Step::CreateVpc { .. })).unwrap();
    fresh.apply(&Plan { steps: vec![create.clone(), create], ..Plan::default() }).unwrap();
    let mut ids: Vec<String> = fresh.observed.vpcs.iter().map(|v| v.id.clone()).collect();
    ids.sort();
    let named = ids[1].clone();
    let known = Known::from([("vpc".to_string(), named.clone())]);
    let plan = plan_with(Some(&s), &owner(), &fresh, &known, &InUse::new());
    assert!(plan.steps.contains(&Step::DeleteVpc { id: ids[0].clone() }), "{}", plan.render());
    assert!(ids_in(&plan).contains(&named), "everything is built in the named VPC");
}

#[test]
fn the_vpc_the_planner_keeps_is_the_one_the_engine_learns_and_the_status_publishes() {
    let s = spec(example());
    let mut sim = Sim::with_random_ids();
    converge(Some(&s), &mut sim, 3);
    let kept_vpc = id_of(&sim.observed, "vpc");
    add_empty_twin_vpc(&s, &mut sim);
    // The empty twin found first, as a Describe listing the older one first returns it; the
    // status names neither (a crash before it recorded the VPC).
    sim.observed.vpcs.sort_by_key(|v| v.id == kept_vpc);
    let (who, d, chosen) = (owner(), desired_for(&s, &owner(), &sim.observed), Choices::default());
    let cx = Context { owner: &who, known: &Known::new(), in_use: &InUse::new(), chosen: Some(&chosen) };
    network::plan(Some(&d), &cx, &sim.observed);
    let known = chosen.take();
    assert_eq!(known.get("vpc"), Some(&kept_vpc), "the planner says which VPC it kept: the one with subnets");
    let status = vpc_tier::status(&d, &sim.observed, &known);
    assert_eq!(status.vpc_id.as_ref(), Some(&kept_vpc), "others build in the VPC the subnets are in");
    assert!(status.subnets.iter().all(|s| s.subnet_id.is_some()), "{:?}", status.subnets);
}

#[test]
fn an_internet_gateway_left_on_a_stray_twin_vpc_moves_to_the_kept_one() {
    let (s, mut sim) = converged_example();
    let (igw, kept_vpc) = (id_of(&sim.observed, "igw"), id_of(&sim.observed, "vpc"));
    let twin = add_empty_twin_vpc(&s, &mut sim);
    // As after a reconcile that built in the twin: the gateway is attached there, not here.
    sim.observed.internet_gateways[0].attached_vpc_ids = vec![twin.clone()];
    let known = Known::from([("vpc".to_string(), kept_vpc.clone())]);
    let plan = plan_with(Some(&s), &owner(), &sim, &known, &InUse::new());
    let rendered = plan.render();
    let detach = format!("L1 detach internet gateway {igw} from {twin}");
    assert!(rendered.contains(&detach), "{rendered}");
    assert!(rendered.contains(&format!("L2 attach internet gateway {igw} to VPC {kept_vpc}")), "{rendered}");
    converge(Some(&s), &mut sim, 4);
    assert_eq!(sim.observed.internet_gateways[0].attached_vpc_ids, [kept_vpc.as_str()]);
    assert_eq!(sim.observed.vpcs.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), [kept_vpc.as_str()]);
}

#[test]
fn a_stray_second_internet_gateway_goes_without_waiting_for_nat_gateways() {
    let (s, mut sim) = converged_example();
    let (igw, vpc) = (id_of(&sim.observed, "igw"), id_of(&sim.observed, "vpc"));
    // A twin made by a retried CreateInternetGateway, attached as the emulator allows.
    let tags = sim.observed.internet_gateways[0].tags.clone();
    sim.observed.internet_gateways.push(network::InternetGateway {
        id: "igw-stray".into(),
        attached_vpc_ids: vec![vpc.clone()],
        tags,
    });
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(
        plan.render(),
        format!("L1 detach internet gateway igw-stray from {vpc}\nL2 delete internet gateway igw-stray\n"),
        "the kept gateway {igw} stays attached, so the NAT gateways keep their way out"
    );
    assert!(plan.waiting.is_empty(), "{:?}", plan.waiting);
    converge(Some(&s), &mut sim, 2);
    assert_eq!(sim.observed.internet_gateways.len(), 1);
}

#[test]
fn a_stray_gateway_attached_in_place_of_the_recorded_one_is_kept() {
    // AWS refuses a second gateway on a VPC: if the recorded one is detached and a twin is
    // attached, detaching the twin would cut the NAT gateways off, so the attached one wins.
    let (s, mut sim) = converged_example();
    let (igw, vpc) = (id_of(&sim.observed, "igw"), id_of(&sim.observed, "vpc"));
    let tags = sim.observed.internet_gateways[0].tags.clone();
    sim.observed.internet_gateways[0].attached_vpc_ids.clear();
    sim.observed.internet_gateways.push(network::InternetGateway {
        id: "igw-twin".into(),
        attached_vpc_ids: vec![vpc.clone()],
        tags,
    });
    let known = Known::from([("igw".to_string(), igw.clone())]);
    let plan = plan_with(Some(&s), &owner(), &sim, &known, &InUse::new());
    assert!(plan.steps.contains(&Step::DeleteInternetGateway { id: igw.clone() }), "{}", plan.render());
    assert!(!plan.steps.iter().any(|st| matches!(st, Step::DetachInternetGateway { id, .. } if id == "igw-twin")));
    let via_twin = Step::ReplaceRoute {
        route_table: Ref::Id(id_of(&sim.observed, "rtb/public")),
        destination: "0.0.0.0/0".into(),
        target: network::RouteTarget::InternetGateway(Ref::Id("igw-twin".into())),
    };
    assert!(plan.steps.contains(&via_twin), "the public route follows the kept gateway: {}", plan.render());
}

#[test]
fn a_zone_leaving_keeps_subnets_its_users_hold_until_they_move() {
    let (_, mut sim) = converged_example();
    let two = example_with(|v| v["availabilityZones"] = json!(2));
    let public_c = id_of(&sim.observed, "subnet/public/us-east-1c");
    let private_c = id_of(&sim.observed, "rtb/private/us-east-1c");
    let in_use = InUse::from([
        (public_c.clone(), vec!["LoadBalancerPolicy storefront".to_string()]),
        (private_c.clone(), vec!["PrivateEndpoint s3".to_string()]),
    ]);
    let plan = plan_with(Some(&two), &owner(), &sim, &Known::new(), &in_use);
    assert!(!plan.steps.contains(&Step::DeleteSubnet { id: public_c.clone() }), "{}", plan.render());
    assert!(!plan.steps.contains(&Step::DeleteRouteTable { id: private_c.clone() }));
    assert!(
        plan.waiting.iter().any(|w| w == &format!("subnet {public_c} to be released by LoadBalancerPolicy storefront")),
        "{:?}",
        plan.waiting
    );
    assert!(plan.waiting.iter().any(|w| w.contains(&private_c) && w.contains("PrivateEndpoint s3")));
    assert!(plan.steps.iter().any(|st| matches!(st, Step::DeleteSubnet { .. })), "the unheld subnets of the zone go");
    sim.apply(&plan).unwrap();
    // Once the users have moved off, the rest goes.
    let applied = converge(Some(&two), &mut sim, 4);
    assert!(applied.iter().flat_map(|p| &p.steps).any(|st| *st == Step::DeleteSubnet { id: public_c.clone() }));
    assert!(!sim.observed.subnets.iter().any(|s| s.zone == "us-east-1c"));
}

// ---------------------------------------------------------------------------------------------
// 5. Ownership.

#[test]
fn resources_of_another_owner_are_never_touched_by_plan_or_teardown() {
    let s = spec(example());
    let mut sim = Sim::new();
    converge_as(Some(&s), &stranger(), &mut sim, 3);
    let theirs = sim.observed.clone();
    let their_ids = all_ids(&theirs);

    let mut plans = converge(Some(&s), &mut sim, 3);
    assert_eq!(count(&plans[0], "CreateVpc"), 1, "the stranger's VPC with the same component tag is not adopted");
    sim.nat_deletes_slowly = true;
    plans.extend(converge(None, &mut sim, 6));
    assert!(!network::owns_anything(&owner(), &sim.observed));
    for p in &plans {
        let touched: Vec<_> = ids_in(p).intersection(&their_ids).cloned().collect();
        assert!(touched.is_empty(), "plan touches {touched:?}:\n{}", p.render());
    }
    // Everything of theirs is exactly as it was.
    let now = sim.observed;
    assert_eq!(now.vpcs.iter().filter(|v| stranger().owns(&v.tags)).cloned().collect::<Vec<_>>(), theirs.vpcs);
    assert_eq!(now.subnets.iter().filter(|v| stranger().owns(&v.tags)).cloned().collect::<Vec<_>>(), theirs.subnets);
    assert_eq!(
        now.internet_gateways.iter().filter(|v| stranger().owns(&v.tags)).cloned().collect::<Vec<_>>(),
        theirs.internet_gateways
    );
    assert_eq!(
        now.nat_gateways.iter().filter(|v| stranger().owns(&v.tags)).cloned().collect::<Vec<_>>(),
        theirs.nat_gateways
    );
    assert_eq!(
        now.addresses.iter().filter(|v| stranger().owns(&v.tags)).cloned().collect::<Vec<_>>(),
        theirs.addresses
    );
    assert_eq!(
        now.route_tables
            .iter()
            .filter(|t| theirs.route_tables.iter().any(|x| x.id == t.id))
            .cloned()
            .collect::<Vec<_>>(),
        theirs.route_tables
    );
    assert!(network::owns_anything(&stranger(), &now));
}

fn all_ids(o: &Observed) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    ids.extend(o.vpcs.iter().map(|r| r.id.clone()));
    ids.extend(o.subnets.iter().map(|r| r.id.clone()));
    ids.extend(o.internet_gateways.iter().map(|r| r.id.clone()));
    ids.extend(o.nat_gateways.iter().map(|r| r.id.clone()));
    ids.extend(o.addresses.iter().map(|r| r.allocation_id.clone()));
    ids.extend(o.route_tables.iter().map(|r| r.id.clone()));
    ids.extend(o.route_tables.iter().flat_map(|t| t.associations.iter().map(|a| a.id.clone())));
    ids
}

// ---------------------------------------------------------------------------------------------
// 6. Tier and zone changes.

#[test]
fn adding_a_zone_keeps_existing_subnets_and_only_creates_the_new_zone() {
    let (_, mut sim) = converged_example();
    let before = sim.observed.subnets.clone();
    let s = example_with(|v| v["availabilityZones"] = json!(4));
    let plan = plan_for(Some(&s), &sim);
    let created: Vec<(String, String)> = plan
        .steps
        .iter()
        .filter_map(|st| match st {
            Step::CreateSubnet { component, cidr_block, .. } => Some((component.clone(), cidr_block.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        created,
        [
            ("subnet/app/us-east-1d".to_string(), "10.20.64.0/20".to_string()),
            ("subnet/database/us-east-1d".into(), "10.20.7.0/24".into()),
            ("subnet/public/us-east-1d".into(), "10.20.6.0/24".into()),
        ]
    );
    assert!(
        plan.steps.iter().all(|st| !st.action().starts_with("Delete") && !st.action().starts_with("Replace")),
        "{}",
        plan.render()
    );
    assert_eq!((count(&plan, "CreateNatGateway"), count(&plan, "CreateRouteTable")), (1, 1));

    converge(Some(&s), &mut sim, 3);
    for old in &before {
        assert_eq!(sim.observed.subnets.iter().find(|s| s.id == old.id), Some(old), "existing subnet unchanged");
    }
    assert_eq!(sim.observed.subnets.len(), 12);
    assert_eq!(sim.observed.nat_gateways.len(), 4);
}

#[test]
fn adding_a_tier_keeps_existing_subnets_and_reuses_the_isolated_table() {
    let (_, mut sim) = converged_example();
    let before = sim.observed.subnets.clone();
    let s = example_with(|v| {
        v["tiers"].as_array_mut().unwrap().push(json!({ "name": "cache", "type": "Isolated", "prefixLength": 24 }))
    });
    let plan = plan_for(Some(&s), &sim);
    assert_eq!(count(&plan, "CreateSubnet"), 3);
    assert_eq!(count(&plan, "AssociateRouteTable"), 3);
    assert_eq!(plan.steps.len(), 6, "{}", plan.render());
    converge(Some(&s), &mut sim, 3);
    for old in &before {
        assert_eq!(sim.observed.subnets.iter().find(|s| s.id == old.id), Some(old));
    }
    let isolated = id_of(&sim.observed, "rtb/isolated");
    for (z, cidr) in ZONES.iter().zip(["10.20.6.0/24", "10.20.7.0/24", "10.20.8.0/24"]) {
        let s = subnet(&sim.observed, &format!("subnet/cache/{z}"));
        assert_eq!(s.cidr_block, cidr);
        assert_eq!(table_of(&sim.observed, &s.id).id, isolated);
    }
}

#[test]
fn removing_a_tier_deletes_only_its_subnets_and_its_table() {
    let (_, mut sim) = converged_example();
    let isolated = id_of(&sim.observed, "rtb/isolated");
    let database: BTreeSet<String> =
        ZONES.iter().map(|z| id_of(&sim.observed, &format!("subnet/database/{z}"))).collect();
    let s = example_with(|v| {
        v["tiers"].as_array_mut().unwrap().pop();
    });
    let plan = plan_for(Some(&s), &sim);
    let deleted: BTreeSet<String> = plan
        .steps
        .iter()
        .filter_map(|st| match st {
            Step::DeleteSubnet { id } => Some(id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, database);
    assert_eq!(count(&plan, "DisassociateRouteTable"), 3);
    assert!(plan.steps.contains(&Step::DeleteRouteTable { id: isolated }));
    assert_eq!(plan.steps.len(), 7, "{}", plan.render());
    converge(Some(&s), &mut sim, 3);
    assert_eq!(sim.observed.subnets.len(), 6);
    assert_eq!(sim.observed.route_tables.len(), 5);
}

#[test]
fn nat_per_zone_to_none_moves_private_subnets_and_releases_eips_after_the_nats_are_gone() {
    let (_, mut sim) = converged_example();
    sim.nat_deletes_slowly = true;
    let s = example_with(|v| v["natGateways"] = json!("None"));
    let app: Vec<String> = ZONES.iter().map(|z| id_of(&sim.observed, &format!("subnet/app/{z}"))).collect();

    let first = plan_for(Some(&s), &sim);
    assert_eq!(count(&first, "CreateRouteTable"), 1);
    assert_eq!(count(&first, "ReplaceRouteTableAssociation"), 3);
    assert!(first.steps.iter().all(|st| match st {
        Step::ReplaceRouteTableAssociation { route_table, .. } => route_table == &Ref::Created("rtb/private".into()),
        _ => true,
    }));
    assert_eq!(count(&first, "DisassociateRouteTable"), 0, "moved, not dropped");
    assert_eq!((count(&first, "DeleteNatGateway"), count(&first, "DeleteRouteTable")), (3, 3));
    assert_eq!(count(&first, "ReleaseAddress"), 0, "the NATs still hold their EIPs");
    assert!(
        phase_of(&first, "ReplaceRouteTableAssociation")
            .iter()
            .all(|p| phase_of(&first, "DeleteRouteTable").iter().all(|q| p < q))
    );
    sim.apply(&first).unwrap();

    // The NATs are now "deleting": still no release.
    assert!(sim.observed.nat_gateways.iter().all(|n| n.state == "deleting"));
    let second = plan_for(Some(&s), &sim);
    assert_eq!(count(&second, "ReleaseAddress"), 0, "{}", second.render());
    assert_eq!(second.waiting.len(), 3, "{:?}", second.waiting);
    assert!(second.waiting.iter().all(|w| w.contains("to release Elastic IP")));
    sim.apply(&second).unwrap();

    let third = plan_for(Some(&s), &sim);
    assert_eq!(actions(&third), ["ReleaseAddress"; 3]);
    converge(Some(&s), &mut sim, 2);

    let o = &sim.observed;
    assert!(o.addresses.is_empty());
    assert!(o.nat_gateways.iter().all(|n| n.state == "deleted"));
    let private = table(o, "rtb/private");
    assert_eq!(default_route(private), None);
    for id in &app {
        assert_eq!(table_of(o, id).id, private.id);
    }
    assert_eq!(o.route_tables.len(), 4, "main, public, private, isolated");
}

#[test]
fn nat_single_routes_every_private_subnet_through_the_first_zone() {
    let (_, mut sim) = converged_example();
    let s = example_with(|v| v["natGateways"] = json!("Single"));
    converge(Some(&s), &mut sim, 5);
    let o = &sim.observed;
    let nat = id_of(o, "nat/us-east-1a");
    let private = table(o, "rtb/private");
    assert_eq!(default_route(private).unwrap().nat_gateway_id.as_ref(), Some(&nat));
    for z in ZONES {
        assert_eq!(table_of(o, &subnet(o, &format!("subnet/app/{z}")).id).id, private.id);
    }
    assert_eq!(o.nat_gateways.iter().filter(|n| n.state == "available").count(), 1);
    assert_eq!(o.addresses.len(), 1);
}

#[test]
fn removing_the_public_tier_with_default_nat_leaves_no_route_to_a_deleted_nat() {
    let (_, mut sim) = converged_example();
    let s = example_with(|v| {
        v["tiers"].as_array_mut().unwrap().remove(0);
    });
    // `converge` fails on a blackhole route.
    converge(Some(&s), &mut sim, 5);
    let o = &sim.observed;
    assert!(o.internet_gateways.is_empty());
    assert!(o.route_tables.iter().all(|t| default_route(t).is_none()));
}

#[test]
fn a_pending_nat_gateway_gets_its_route_once_available() {
    let s = spec(example());
    let mut sim = Sim::new();
    sim.nat_starts = "pending";
    let applied = converge(Some(&s), &mut sim, 4);
    assert_eq!(applied.len(), 3);
    assert_eq!(applied[1].steps, [], "pass 2 only waits");
    assert_eq!(applied[1].waiting.len(), 3);
    assert!(applied[1].waiting.iter().all(|w| w.contains("to become available")));
    assert_eq!(count(&applied[2], "CreateRoute"), 3);
}

// ---------------------------------------------------------------------------------------------
// 7. Teardown.

/// What EC2 makes a teardown wait for: each first action before each second one.
const TEARDOWN_ORDER: &[(&str, &str)] = &[
    ("DeleteRoute", "DeleteNatGateway"),
    ("DeleteRoute", "DeleteRouteTable"),
    ("DeleteNatGateway", "DeleteSubnet"),
    ("DeleteNatGateway", "ReleaseAddress"),
    ("DisassociateRouteTable", "DeleteSubnet"),
    ("DisassociateRouteTable", "DeleteRouteTable"),
    ("DetachInternetGateway", "DeleteInternetGateway"),
    ("DeleteSubnet", "DeleteVpc"),
    ("DeleteRouteTable", "DeleteVpc"),
    ("DetachInternetGateway", "DeleteVpc"),
];

fn assert_ordered(plan: &Plan<Step>, order: &[(&str, &str)]) {
    for (first, then) in order {
        let (a, b) = (phase_of(plan, first), phase_of(plan, then));
        if let (Some(a), Some(b)) = (a.last(), b.first()) {
            assert!(a < b, "{first} must run before {then}:\n{}", plan.render());
        }
    }
}

#[test]
fn teardown_deletes_in_reverse_dependency_order_and_leaves_nothing() {
    let (_, mut sim) = converged_example();
    let applied = converge(None, &mut sim, 4);
    assert!(!network::owns_anything(&owner(), &sim.observed));
    assert!(sim.observed.vpcs.is_empty() && sim.observed.route_tables.is_empty() && sim.observed.addresses.is_empty());
    for p in &applied {
        assert_ordered(p, TEARDOWN_ORDER);
    }
    // Pass 1 deletes the NATs, and so waits for them before touching their EIPs and subnets.
    let first = &applied[0];
    assert_eq!(count(first, "DeleteNatGateway"), 3);
    assert_eq!(count(first, "DisassociateRouteTable"), 9);
    assert_eq!(count(first, "DeleteSubnet"), 6, "app and database; public subnets hold NATs");
    assert_eq!((count(first, "ReleaseAddress"), count(first, "DeleteVpc")), (0, 0));
    assert!(first.waiting.iter().any(|w| w.contains("deletion waits for its subnets")), "{:?}", first.waiting);
    assert_eq!(count(first, "DetachInternetGateway"), 0, "not while NATs map public addresses");
    assert!(
        first.waiting.iter().any(|w| w.contains("before internet gateway igw-1 is detached")),
        "{:?}",
        first.waiting
    );
    // The VPC goes last of all.
    assert_eq!(sim.log.last().unwrap(), "DeleteVpc vpc-1");
    let pos = |prefix: &str| sim.log.iter().position(|l| l.starts_with(prefix)).unwrap();
    assert!(pos("DeleteNatGateway") < pos("ReleaseAddress"));
    assert!(pos("DetachInternetGateway") < pos("DeleteInternetGateway"));
    assert!(pos("DisassociateRouteTable") < pos("DeleteRouteTable"));
}

#[test]
fn teardown_waits_while_a_nat_gateway_is_deleting() {
    let (_, mut sim) = converged_example();
    sim.nat_deletes_slowly = true;
    let first = plan_for(None, &sim);
    sim.apply(&first).unwrap();
    assert!(sim.observed.nat_gateways.iter().all(|n| n.state == "deleting"));
    let second = plan_for(None, &sim);
    assert_eq!(count(&second, "DeleteVpc"), 0, "{}", second.render());
    assert_eq!(count(&second, "ReleaseAddress"), 0);
    assert_eq!(count(&second, "DetachInternetGateway"), 0, "EC2 refuses while NATs map public addresses");
    assert!(second.waiting.iter().any(|w| w.contains("deletion waits for its subnets")), "{:?}", second.waiting);
    assert!(network::owns_anything(&owner(), &sim.observed));
    converge(None, &mut sim, 4);
    assert!(!network::owns_anything(&owner(), &sim.observed));
}

#[test]
fn teardown_of_nothing_is_in_sync() {
    assert!(plan_for(None, &Sim::new()).in_sync());
}

// ---------------------------------------------------------------------------------------------
// 8. Validation.

#[test]
fn invalid_specs_are_rejected_naming_the_field() {
    type Edit = fn(&mut Value);
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("not a cidr", |v| v["cidrBlock"] = json!("10.20.0.0"), "spec.cidrBlock"),
        ("garbage cidr", |v| v["cidrBlock"] = json!("banana/16"), "spec.cidrBlock"),
        ("host bits", |v| v["cidrBlock"] = json!("10.20.1.0/16"), "spec.cidrBlock: 10.20.1.0/16 has host bits set"),
        ("/15", |v| v["cidrBlock"] = json!("10.20.0.0/15"), "spec.cidrBlock: 10.20.0.0/15 must be from /16 to /28"),
        ("/29", |v| v["cidrBlock"] = json!("10.20.0.0/29"), "spec.cidrBlock: 10.20.0.0/29 must be from /16 to /28"),
        ("both zone fields", |v| v["availabilityZoneNames"] = json!(["us-east-1a"]), "availabilityZoneNames"),
        (
            "neither zone field",
            |v| {
                v.as_object_mut().unwrap().remove("availabilityZones");
            },
            "availabilityZones",
        ),
        (
            "zone of another region",
            |v| {
                v.as_object_mut().unwrap().remove("availabilityZones");
                v["availabilityZoneNames"] = json!(["us-east-1a", "us-west-2a"]);
            },
            "spec.availabilityZoneNames[1]: us-west-2a is not a zone of region us-east-1",
        ),
        ("duplicate tier", |v| v["tiers"][2]["name"] = json!("public"), "spec.tiers[2].name"),
        ("no tiers", |v| v["tiers"] = json!([]), "spec.tiers"),
        (
            "tier larger than the VPC",
            |v| v["cidrBlock"] = json!("10.20.0.0/22"),
            "spec.tiers[1] (app) in zone 1: prefix length /20 is larger than the VPC block",
        ),
        (
            "too many subnets",
            |v| {
                v["cidrBlock"] = json!("10.20.0.0/24");
                for t in v["tiers"].as_array_mut().unwrap() {
                    t["prefixLength"] = json!(26);
                }
            },
            "no free /26 block",
        ),
        (
            "explicit blocks overlap",
            |v| {
                v["tiers"][0]["cidrBlocks"] = json!(["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"]);
                v["tiers"][2]["cidrBlocks"] = json!(["10.20.2.0/24", "10.20.3.0/24", "10.20.4.0/24"]);
            },
            "spec.tiers[2] (database)",
        ),
        (
            "too few explicit blocks",
            |v| v["tiers"][0]["cidrBlocks"] = json!(["10.20.0.0/24"]),
            "spec.tiers[0].cidrBlocks",
        ),
        (
            "explicit block outside the VPC",
            |v| v["tiers"][0]["cidrBlocks"] = json!(["10.30.0.0/24", "10.20.1.0/24", "10.20.2.0/24"]),
            "spec.tiers[0] (public)",
        ),
        (
            "explicit block with host bits",
            |v| v["tiers"][0]["cidrBlocks"] = json!(["10.20.0.1/24", "10.20.1.0/24", "10.20.2.0/24"]),
            "spec.tiers[0].cidrBlocks[0]",
        ),
        (
            "explicit block of the wrong size",
            |v| v["tiers"][0]["cidrBlocks"] = json!(["10.20.0.0/25", "10.20.1.0/24", "10.20.2.0/24"]),
            "spec.tiers[0].cidrBlocks[0]",
        ),
        (
            "single NAT without a public tier",
            |v| {
                v["tiers"].as_array_mut().unwrap().remove(0);
                v["natGateways"] = json!("Single");
            },
            "spec.natGateways",
        ),
        ("aws: tag", |v| v["tags"]["aws:cloudformation:stack-name"] = json!("x"), "spec.tags"),
        ("ownership tag", |v| v["tags"]["net.securecart.io/owner-uid"] = json!("evil"), "spec.tags"),
        (
            "cloudwatch without role",
            |v| v["flowLogs"] = json!({ "destination": { "cloudWatchLogGroup": "vpc-flow" } }),
            "spec.flowLogs.destination.iamRoleArn",
        ),
        (
            "two flow log destinations",
            |v| {
                v["flowLogs"] = json!({ "destination": { "cloudWatchLogGroup": "g", "s3BucketArn": "arn:aws:s3:::b" } })
            },
            "spec.flowLogs.destination",
        ),
    ];
    assert!(vpc_tier::validate(&spec(example())).is_ok());
    for (name, edit, field) in cases {
        let mut v = example();
        edit(&mut v);
        let s = spec(v);
        match vpc_tier::validate(&s) {
            Err(securecart_plan::InvalidSpec(message)) => {
                assert!(message.contains(field), "{name}: {message:?} does not name {field:?}")
            }
            Ok(()) => panic!("{name}: accepted"),
        }
        // desired() validates too, so an invalid spec never reaches the planner.
        assert!(
            vpc_tier::desired(&s, &owner(), ZONES.map(String::from).to_vec(), &Observed::default()).is_err(),
            "{name}"
        );
    }
}

#[test]
fn resolve_zones_checks_the_region() {
    let three: Vec<Zone> = ZONES.map(|z| Zone::new(z, "available")).to_vec();
    let err = vpc_tier::resolve_zones(&example_with(|v| v["availabilityZones"] = json!(4)), &three, &[]).unwrap_err();
    assert!(err.0.starts_with("spec.availabilityZones: 4 zones requested but us-east-1 has 3"), "{}", err.0);
    let named = example_with(|v| {
        v.as_object_mut().unwrap().remove("availabilityZones");
        v["availabilityZoneNames"] = json!(["us-east-1c", "us-east-1f"]);
    });
    let err = vpc_tier::resolve_zones(&named, &three, &[]).unwrap_err();
    assert!(err.0.starts_with("spec.availabilityZoneNames[1]: us-east-1f"), "{}", err.0);
    assert_eq!(
        vpc_tier::resolve_zones(&named, &available(), &[]).unwrap(),
        ["us-east-1c", "us-east-1f"],
        "named zones keep their order"
    );
    assert_eq!(
        vpc_tier::resolve_zones(&spec(example()), &available(), &[]).unwrap(),
        ZONES,
        "first N of the sorted zones"
    );
}

#[test]
fn zones_once_resolved_are_pinned_and_an_impaired_zone_removes_nothing() {
    let mut region = available();
    let pinned: Vec<String> = ZONES.map(String::from).to_vec();
    // us-east-1b goes impaired after the VpcTier was created in a, b, c.
    region.iter_mut().find(|z| z.name == "us-east-1b").unwrap().state = "impaired".into();
    let s = spec(example());
    assert_eq!(vpc_tier::resolve_zones(&s, &region, &pinned).unwrap(), ZONES, "a restart plans the same zones");
    // Fresh, the impaired zone is not picked.
    assert_eq!(vpc_tier::resolve_zones(&s, &region, &[]).unwrap(), ["us-east-1a", "us-east-1c", "us-east-1d"]);
    // Growing adds an available zone; shrinking drops the last pinned one.
    let four = example_with(|v| v["availabilityZones"] = json!(4));
    assert_eq!(
        vpc_tier::resolve_zones(&four, &region, &pinned).unwrap(),
        ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    );
    let two = example_with(|v| v["availabilityZones"] = json!(2));
    assert_eq!(vpc_tier::resolve_zones(&two, &region, &pinned).unwrap(), ["us-east-1a", "us-east-1b"]);

    // And so the plan of a converged VpcTier with an impaired zone deletes nothing.
    let (s, sim) = converged_example();
    let zones = vpc_tier::resolve_zones(&s, &region, &pinned).unwrap();
    let desired = vpc_tier::desired(&s, &owner(), zones, &sim.observed).unwrap();
    let plan = network::plan(
        Some(&desired),
        &Context { owner: &owner(), known: &Known::new(), in_use: &InUse::new(), chosen: None },
        &sim.observed,
    );
    assert!(plan.in_sync(), "{}", plan.render());
}

// ---------------------------------------------------------------------------------------------
// 9. Flow logs.

#[test]
fn flow_log_follows_the_vpc_and_is_replaced_when_traffic_type_changes() {
    let flow = |traffic: &str| {
        example_with(|v| {
            v["flowLogs"] =
                json!({ "trafficType": traffic, "destination": { "s3BucketArn": "arn:aws:s3:::flow-logs/shop" } })
        })
    };
    let mut sim = Sim::new();
    let first = plan_for(Some(&flow("ALL")), &sim);
    let create = first.steps.iter().find(|s| s.action() == "CreateFlowLog").unwrap();
    let create_level = phase_of(&first, "CreateFlowLog").into_iter().next().unwrap();
    assert!(phase_of(&first, "CreateVpc").iter().all(|p| *p < create_level));
    assert!(
        matches!(create, Step::CreateFlowLog { vpc: Ref::Created(c), traffic_type, .. } if c == "vpc" && traffic_type == "ALL")
    );
    converge(Some(&flow("ALL")), &mut sim, 3);
    let old = id_of(&sim.observed, "flowlog");

    let change = plan_for(Some(&flow("REJECT")), &sim);
    let in_order: Vec<&str> = change.phases().into_iter().flatten().map(|s| s.action()).collect();
    assert_eq!(in_order, ["DeleteFlowLog", "CreateFlowLog"]);
    assert!(change.steps.contains(&Step::DeleteFlowLog { id: old.clone() }));
    let (del, cre) = (phase_of(&change, "DeleteFlowLog"), phase_of(&change, "CreateFlowLog"));
    assert!(del.iter().all(|d| cre.iter().all(|c| d < c)), "delete before create");
    converge(Some(&flow("REJECT")), &mut sim, 3);
    assert_eq!(sim.observed.flow_logs.len(), 1);
    let fl = &sim.observed.flow_logs[0];
    assert_ne!(fl.id, old);
    assert_eq!(
        (fl.traffic_type.as_str(), fl.destination.as_deref(), fl.resource_id.as_str()),
        ("REJECT", Some("arn:aws:s3:::flow-logs/shop"), "vpc-1")
    );

    // Dropping flowLogs deletes it.
    converge(Some(&spec(example())), &mut sim, 2);
    assert!(sim.observed.flow_logs.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 10. Status.

#[test]
fn status_reports_the_observed_ids() {
    let (s, sim) = converged_example();
    let o = &sim.observed;
    let d = desired_for(&s, &owner(), o);
    let st = vpc_tier::status(&d, o, &Known::new());
    assert_eq!(st.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(st.internet_gateway_id, Some(id_of(o, "igw")));
    assert_eq!(st.zones, ZONES);
    assert_eq!(st.subnets.len(), 9);
    for sub in &st.subnets {
        let c = format!("subnet/{}/{}", sub.tier, sub.zone);
        let observed = subnet(o, &c);
        assert_eq!(sub.subnet_id.as_ref(), Some(&observed.id));
        assert_eq!(sub.cidr_block, observed.cidr_block);
        assert_eq!(sub.route_table_id.as_ref(), Some(&table_of(o, &observed.id).id));
    }
    assert_eq!(st.subnets[0].tier, "public");
    assert_eq!(st.subnets[0].tier_type, securecart_api::TierType::Public);
    assert_eq!(st.nat_gateways.len(), 3);
    for (n, z) in st.nat_gateways.iter().zip(ZONES) {
        assert_eq!(n.zone, z);
        assert_eq!(n.nat_gateway_id, id_of(o, &format!("nat/{z}")));
        assert_eq!(n.allocation_id, Some(id_of(o, &format!("eip/{z}"))));
        assert!(n.public_ip.as_deref().is_some_and(|ip| ip.starts_with("203.0.113.")));
        assert_eq!(n.state, "available");
    }
    assert_eq!(st.flow_log_id, None);

    // Before anything exists: desired CIDRs, no IDs.
    let empty = vpc_tier::status(&desired_for(&s, &owner(), &Observed::default()), &Observed::default(), &Known::new());
    assert_eq!((empty.vpc_id, empty.nat_gateways.len()), (None, 0));
    assert!(empty.subnets.iter().all(|s| s.subnet_id.is_none() && !s.cidr_block.is_empty()));
}
