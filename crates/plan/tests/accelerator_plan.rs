//! Global Accelerator planner: tables of single plans, and plans run against a simulator that
//! refuses what AWS refuses (ga_sim) until they converge. Global Accelerator is not in the
//! emulator, so this and the adapter's replay tests are its whole proof.

mod ga_sim;

use std::collections::BTreeMap;

use ga_sim::Sim;
use pretty_assertions::assert_eq;
use securecart_api::CreateIntent;
use securecart_api::global_entrypoint::GlobalAcceleratorSpec;
use securecart_plan::global_accelerator::{
    self as ga, Desired, EndpointInput, HealthCheck, Observed, Planned, Step, accelerator_name, components, desired_of,
};
use securecart_plan::intent;
use securecart_plan::plan::{Plan, PlanStep};
use securecart_plan::{Context, InUse, Known, Owner, Ref, Tags};
use serde_json::{Value, json};

const USE1_LB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/checkout-use1/1f2e3d4c";
const EUW1_LB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/checkout-euw1/5a6b7c8d";
const EUW1_LB_NEW: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/checkout-euw1/9e0f1a2b";

fn owner() -> Owner {
    Owner { kind: "GlobalEntrypoint".into(), namespace: "shop".into(), name: "checkout".into(), uid: "u-ga-1".into() }
}

fn stranger() -> Owner {
    Owner { kind: "GlobalEntrypoint".into(), namespace: "other".into(), name: "checkout".into(), uid: "u-ga-2".into() }
}

static NOTHING_KNOWN: Known = Known::new();
static NOT_IN_USE: InUse = InUse::new();

fn cx(owner: &Owner) -> Context<'_> {
    Context { owner, known: &NOTHING_KNOWN, in_use: &NOT_IN_USE, chosen: None }
}

/// The example.
fn example() -> Value {
    json!({
        "ipAddressType": "IPV4",
        "listeners": [{
            "protocol": "TCP",
            "portRanges": [{"from": 443, "to": 443}],
            "clientAffinity": "SOURCE_IP",
            "endpointGroups": [
                {"loadBalancerPolicyRef": {"name": "checkout-use1"}, "trafficDialPercentage": 100,
                 "healthCheck": {"protocol": "HTTPS", "path": "/healthz", "port": 443}},
                {"loadBalancerPolicyRef": {"name": "checkout-euw1"}, "trafficDialPercentage": 100, "weight": 128},
            ],
        }],
    })
}

fn spec(v: Value) -> GlobalAcceleratorSpec {
    serde_json::from_value(v).expect("a valid spec")
}

/// What the controller resolves for each group: its policy's region and load balancer, active
/// as the simulator's load balancer is. `policies`: policy -> (region, LB ARN).
fn inputs(s: &GlobalAcceleratorSpec, sim: &Sim, policies: &BTreeMap<&str, (&str, &str)>) -> Vec<EndpointInput> {
    let mut out = Vec::new();
    for (i, l) in s.listeners.iter().enumerate() {
        for (k, g) in l.endpoint_groups.iter().enumerate() {
            let (region, lb) = policies[g.load_balancer_policy_ref.name.as_str()];
            let active = sim.load_balancers.iter().any(|b| b.arn == lb && b.active);
            out.push(EndpointInput {
                listener: i,
                group: k,
                region: region.into(),
                load_balancer_arn: Some(lb.into()),
                active,
                application: lb.contains(":loadbalancer/app/"),
            });
        }
    }
    out
}

fn policies() -> BTreeMap<&'static str, (&'static str, &'static str)> {
    BTreeMap::from([("checkout-use1", ("us-east-1", USE1_LB)), ("checkout-euw1", ("eu-west-1", EUW1_LB))])
}

fn team() -> Tags {
    Tags::from([("team".to_string(), "checkout".to_string())])
}

fn desired(v: Value, sim: &Sim, policies: &BTreeMap<&str, (&str, &str)>) -> Desired {
    let s = spec(v);
    desired_of(&s, &owner(), &inputs(&s, sim, policies), &team()).expect("valid")
}

fn world() -> Sim {
    Sim::new().with_load_balancer(USE1_LB, "us-east-1", true).with_load_balancer(EUW1_LB, "eu-west-1", true)
}

/// The engine's part: an intent (and its token) per create, kept while the outcome is unknown.
#[derive(Default)]
struct Engine {
    intents: Vec<CreateIntent>,
}

impl Engine {
    fn run(&mut self, sim: &mut Sim, plan: &Plan<Step>) -> Result<(), String> {
        let creates: Vec<(String, String)> = plan
            .steps
            .iter()
            .filter_map(|s| Some((s.creates()?.to_string(), serde_json::to_string(s).unwrap())))
            .collect();
        let (intents, tokens) = intent::prepare(&self.intents, &owner().uid, &creates, &intent::now());
        let result = sim.apply(plan, &tokens);
        // A lost answer leaves the intents (and so the tokens) for the next pass.
        self.intents = if result.is_ok() { Vec::new() } else { intents };
        result
    }
}

fn plan_as(desired: Option<&Desired>, cx: &Context, sim: &mut Sim) -> Planned {
    let observed = sim.observe();
    ga::plan(desired, cx, &observed)
}

/// Plans and applies until in sync; every plan that had steps or waited.
fn converge_with(desired: Option<&Desired>, cx: &Context, sim: &mut Sim) -> Vec<Plan<Step>> {
    let mut engine = Engine::default();
    let mut plans = Vec::new();
    for _ in 0..30 {
        let planned = plan_as(desired, cx, sim);
        if planned.plan.in_sync() {
            return plans;
        }
        if let Err(e) = engine.run(sim, &planned.plan) {
            panic!("AWS refused the plan: {e}\n{}", planned.plan.render());
        }
        plans.push(planned.plan);
    }
    panic!("no convergence after 30 plans: {:#?}", sim.log);
}

fn converge(desired: Option<&Desired>, sim: &mut Sim) -> Vec<Plan<Step>> {
    converge_with(desired, &cx(&owner()), sim)
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

fn count(plans: &[Plan<Step>], action: &str) -> usize {
    plans.iter().flat_map(|p| &p.steps).filter(|s| s.action() == action).count()
}

fn converged() -> (Desired, Sim) {
    let mut sim = world();
    let d = desired(example(), &sim, &policies());
    converge(Some(&d), &mut sim);
    (d, sim)
}

/// Observations until AWS has deployed every change.
fn settled(sim: &mut Sim) -> Observed {
    for _ in 0..10 {
        let o = sim.observe();
        if o.accelerators.iter().all(|a| a.status == "DEPLOYED") {
            return o;
        }
    }
    panic!("never deployed");
}

fn groups_by_region(o: &Observed) -> BTreeMap<String, Vec<String>> {
    o.endpoint_groups.iter().map(|g| (g.region.clone(), g.endpoints.iter().map(|e| e.id.clone()).collect())).collect()
}

#[test]
fn the_first_plan_creates_accelerator_listener_and_one_group_per_region_in_order() {
    let sim = world();
    let d = desired(example(), &sim, &policies());
    let planned = ga::plan(Some(&d), &cx(&owner()), &Observed::default());
    assert_eq!(planned.accelerator, Some(Ref::Created(components::ACCELERATOR.into())));
    assert_eq!(
        planned.plan.render(),
        "L1 create accelerator shop-checkout (IPV4, enabled)\n\
         L2 create listener TCP/443 on <accelerator> (affinity SOURCE_IP)\n\
         L3 create endpoint group us-east-1 on <listener/TCP/443> (dial 100%) to \
         arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/checkout-use1/1f2e3d4c (weight 128)\n\
         L3 create endpoint group eu-west-1 on <listener/TCP/443> (dial 100%) to \
         arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/checkout-euw1/5a6b7c8d (weight 128)\n"
    );
    let Step::CreateAccelerator { tags, ip_address_type, .. } = &planned.plan.steps[0] else { panic!() };
    assert_eq!(ip_address_type, "IPV4");
    assert!(owner().owns(tags) && tags["team"] == "checkout", "{tags:?}");
    assert_eq!(tags[securecart_api::tags::COMPONENT], components::ACCELERATOR);
}

#[test]
fn create_with_two_regions_converges_to_the_spec() {
    let (d, mut sim) = converged();
    let o = settled(&mut sim);
    assert_eq!(o.accelerators.len(), 1);
    let a = &o.accelerators[0];
    assert_eq!((a.name.as_str(), a.enabled, a.status.as_str()), ("shop-checkout", true, "DEPLOYED"));
    assert_eq!(a.ip_address_type, "IPV4");
    assert_eq!(o.listeners.len(), 1);
    let l = &o.listeners[0];
    assert_eq!(
        (l.protocol.as_str(), l.port_ranges.as_slice(), l.client_affinity.as_str()),
        ("TCP", &[(443, 443)][..], "SOURCE_IP")
    );
    assert_eq!(
        groups_by_region(&o),
        BTreeMap::from([("eu-west-1".into(), vec![EUW1_LB.into()]), ("us-east-1".into(), vec![USE1_LB.into()])])
    );
    let use1 = o.endpoint_groups.iter().find(|g| g.region == "us-east-1").unwrap();
    assert_eq!(
        use1.health_check,
        HealthCheck {
            protocol: "HTTPS".into(),
            path: Some("/healthz".into()),
            port: Some(443),
            interval_seconds: 30,
            threshold_count: 3
        }
    );
    assert_eq!(
        (use1.traffic_dial_percentage, use1.endpoints[0].weight, use1.endpoints[0].client_ip_preservation),
        (100.0, 128, true)
    );
    let euw1 = o.endpoint_groups.iter().find(|g| g.region == "eu-west-1").unwrap();
    assert_eq!(
        euw1.health_check,
        HealthCheck { protocol: "TCP".into(), path: None, port: Some(443), interval_seconds: 30, threshold_count: 3 },
        "defaults: TCP on the listener's first port"
    );
    assert!(ga::plan(Some(&d), &cx(&owner()), &o).plan.in_sync());
    let planned = ga::plan(Some(&d), &cx(&owner()), &o);
    assert_eq!(planned.accelerator, Some(Ref::Id(a.arn.clone())));
    // Inventory: the accelerator, its listener and groups, by component.
    let inventory: BTreeMap<String, String> = ga::inventory(&owner(), &o).into_iter().collect();
    assert_eq!(inventory[components::ACCELERATOR], a.arn);
    assert_eq!(inventory[&components::listener("TCP", &[(443, 443)])], l.arn);
    assert_eq!(inventory[&components::endpoint_group("TCP", &[(443, 443)], "eu-west-1")], euw1.arn);
    assert!(ga::owns_any(&owner(), &o) && !ga::owns_any(&stranger(), &o));
    assert_eq!(ga::find(&owner(), &o).map(|a| a.arn.as_str()), Some(a.arn.as_str()));
}

#[test]
fn creates_wait_for_deployment_nowhere_but_every_change_makes_it_in_progress() {
    let mut sim = world();
    let d = desired(example(), &sim, &policies());
    let plans = converge(Some(&d), &mut sim);
    assert_eq!(plans.len(), 1, "listener and groups go in the same plan as the accelerator: {plans:#?}");
    assert_eq!(
        actions(&plans[0]),
        ["CreateAccelerator", "CreateListener", "CreateEndpointGroup", "CreateEndpointGroup"]
    );
    // Right after, AWS still deploys it; once deployed, nothing is changed again.
    let mut fresh = world();
    Engine::default().run(&mut fresh, &plans[0]).unwrap();
    assert_eq!(fresh.observe().accelerators[0].status, "IN_PROGRESS");
    assert_eq!(fresh.observe().accelerators[0].status, "IN_PROGRESS");
    assert_eq!(fresh.observe().accelerators[0].status, "DEPLOYED");
}

#[test]
fn an_inactive_load_balancer_is_waited_for_not_added() {
    let mut sim =
        Sim::new().with_load_balancer(USE1_LB, "us-east-1", true).with_load_balancer(EUW1_LB, "eu-west-1", false);
    let d = desired(example(), &sim, &policies());
    let first = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert_eq!(count(std::slice::from_ref(&first), "CreateEndpointGroup"), 1, "{}", first.render());
    assert!(
        first.waiting.iter().any(|w| w.contains("checkout-euw1") && w.contains(EUW1_LB) && w.contains("eu-west-1")),
        "{:?}",
        first.waiting
    );
    Engine::default().run(&mut sim, &first).unwrap();
    // Still provisioning: still waiting, the group not created.
    let again = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert!(again.steps.is_empty() && !again.waiting.is_empty(), "{}", again.render());
    // Active now: the group is made, and the simulator (AWS) takes it.
    sim.load_balancers.iter_mut().for_each(|b| b.active = true);
    let d = desired(example(), &sim, &policies());
    let plans = converge(Some(&d), &mut sim);
    assert_eq!(count(&plans, "CreateEndpointGroup"), 1);
    assert_eq!(groups_by_region(&sim.observe()).len(), 2);
}

#[test]
fn a_policy_without_a_load_balancer_yet_leaves_the_existing_group_alone() {
    let (_, mut sim) = converged();
    let s = spec(example());
    let mut inputs = inputs(&s, &sim, &policies());
    inputs[1].load_balancer_arn = None;
    inputs[1].active = false;
    let d = desired_of(&s, &owner(), &inputs, &team()).unwrap();
    let plan = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert!(plan.steps.is_empty(), "the eu-west-1 group is neither emptied nor deleted: {}", plan.render());
    assert!(
        plan.waiting.iter().any(|w| w.contains("checkout-euw1") && w.contains("no load balancer yet")),
        "{:?}",
        plan.waiting
    );
}

#[test]
fn a_policy_that_replaced_its_load_balancer_is_followed() {
    let (_, mut sim) = converged();
    let group_arn = sim.observe().endpoint_groups.iter().find(|g| g.region == "eu-west-1").unwrap().arn.clone();
    // The policy made a new load balancer; it provisions first.
    sim.load_balancers.push(ga_sim::LoadBalancer {
        arn: EUW1_LB_NEW.into(),
        region: "eu-west-1".into(),
        active: false,
    });
    let moved =
        BTreeMap::from([("checkout-use1", ("us-east-1", USE1_LB)), ("checkout-euw1", ("eu-west-1", EUW1_LB_NEW))]);
    let d = desired(example(), &sim, &moved);
    let waiting = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert!(waiting.steps.is_empty(), "the old endpoint stays until the new one is active: {}", waiting.render());
    assert!(waiting.waiting.iter().any(|w| w.contains(EUW1_LB_NEW)), "{:?}", waiting.waiting);
    sim.load_balancers.iter_mut().for_each(|b| b.active = true);
    let d = desired(example(), &sim, &moved);
    let plans = converge(Some(&d), &mut sim);
    assert_eq!(plans.iter().map(actions).collect::<Vec<_>>(), [vec!["UpdateEndpointGroup"]]);
    let Step::UpdateEndpointGroup { arn, endpoints, .. } = &plans[0].steps[0] else { panic!() };
    assert_eq!(arn, &group_arn, "the group is kept, its endpoint list replaced");
    assert_eq!(endpoints.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), [EUW1_LB_NEW]);
    assert_eq!(groups_by_region(&sim.observe())["eu-west-1"], vec![EUW1_LB_NEW.to_string()]);
    // The old load balancer can go now: nothing points at it.
    sim.load_balancers.retain(|b| b.arn != EUW1_LB);
    assert!(plan_as(Some(&d), &cx(&owner()), &mut sim).plan.in_sync());
}

#[test]
fn a_region_removed_deletes_its_group_only() {
    let (_, mut sim) = converged();
    let before = sim.observe();
    let mut v = example();
    v["listeners"][0]["endpointGroups"].as_array_mut().unwrap().truncate(1);
    let d = desired(v, &sim, &policies());
    let plans = converge(Some(&d), &mut sim);
    assert_eq!(plans.iter().map(actions).collect::<Vec<_>>(), [vec!["DeleteEndpointGroup"]]);
    let after = sim.observe();
    assert_eq!(groups_by_region(&after).keys().collect::<Vec<_>>(), ["us-east-1"]);
    assert_eq!(after.listeners, before.listeners, "the listener is untouched");
}

#[test]
fn a_listeners_ports_changed_are_updated_in_place_keeping_its_groups() {
    let (_, mut sim) = converged();
    let before = sim.observe();
    let mut v = example();
    v["listeners"][0]["portRanges"] = json!([{"from": 9000, "to": 9010}, {"from": 8443, "to": 8443}]);
    let d = desired(v, &sim, &policies());
    let plans = converge(Some(&d), &mut sim);
    // The ports change, and so does the default health check port of the group that has none.
    assert_eq!(plans.iter().map(actions).collect::<Vec<_>>(), [vec!["UpdateListener", "UpdateEndpointGroup"]]);
    let after = sim.observe();
    assert_eq!(after.listeners.len(), 1);
    assert_eq!(after.listeners[0].arn, before.listeners[0].arn);
    assert_eq!(after.listeners[0].port_ranges, [(8443, 8443), (9000, 9010)]);
    let arns = |o: &Observed| o.endpoint_groups.iter().map(|g| g.arn.clone()).collect::<Vec<_>>();
    assert_eq!(arns(&after), arns(&before));
    let euw1 = after.endpoint_groups.iter().find(|g| g.region == "eu-west-1").unwrap();
    assert_eq!(euw1.health_check.port, Some(8443), "the default check follows the listener's first port");
    let use1 = after.endpoint_groups.iter().find(|g| g.region == "us-east-1").unwrap();
    assert_eq!(use1.health_check.port, Some(443), "an explicit port stays");
}

#[test]
fn client_affinity_is_updated() {
    let (_, mut sim) = converged();
    let mut v = example();
    v["listeners"][0]["clientAffinity"] = json!("NONE");
    let d = desired(v, &sim, &policies());
    let plans = converge(Some(&d), &mut sim);
    assert_eq!(plans.iter().map(actions).collect::<Vec<_>>(), [vec!["UpdateListener"]]);
    assert_eq!(sim.observe().listeners[0].client_affinity, "NONE");
}

#[test]
fn a_protocol_change_makes_a_new_listener_before_the_old_goes() {
    let (_, mut sim) = converged();
    let old = sim.observe().listeners[0].arn.clone();
    let mut v = example();
    v["listeners"][0]["protocol"] = json!("UDP");
    let d = desired(v, &sim, &policies());
    let plans = converge(Some(&d), &mut sim);
    let first = &plans[0];
    let phase = |action: &str| {
        first.phases().iter().position(|p| p.iter().any(|s| s.action() == action)).unwrap_or_else(|| panic!("{action}"))
    };
    assert!(phase("CreateListener") < phase("CreateEndpointGroup"));
    assert!(phase("CreateEndpointGroup") < phase("DeleteEndpointGroup"), "make before break");
    assert!(phase("DeleteEndpointGroup") < phase("DeleteListener"));
    let o = sim.observe();
    assert_eq!(o.listeners.len(), 1);
    assert_ne!(o.listeners[0].arn, old);
    assert_eq!(o.listeners[0].protocol, "UDP");
    assert_eq!(groups_by_region(&o).len(), 2);
}

#[test]
fn ports_a_leaving_listener_holds_wait_for_its_removal() {
    let mut sim = world();
    let mut two = example();
    two["listeners"] = json!([
        {"protocol": "TCP", "portRanges": [{"from": 80, "to": 80}],
         "endpointGroups": [{"loadBalancerPolicyRef": {"name": "checkout-use1"}}]},
        {"protocol": "TCP", "portRanges": [{"from": 443, "to": 443}],
         "endpointGroups": [{"loadBalancerPolicyRef": {"name": "checkout-use1"}}]},
    ]);
    converge(Some(&desired(two, &sim, &policies())), &mut sim);
    // One listener for 80-443 now: it takes ports the other still holds.
    let mut one = example();
    one["listeners"] = json!([{"protocol": "TCP", "portRanges": [{"from": 80, "to": 443}],
         "endpointGroups": [{"loadBalancerPolicyRef": {"name": "checkout-use1"}}]}]);
    let d = desired(one, &sim, &policies());
    let first = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert_eq!(actions(&first), ["DeleteEndpointGroup", "DeleteListener"], "{}", first.render());
    assert!(
        first.waiting.iter().any(|w| w.contains("to be deleted before listener TCP/80-443")),
        "{:?}",
        first.waiting
    );
    sim.apply(&first, &BTreeMap::new()).unwrap();
    let plans = converge(Some(&d), &mut sim);
    assert_eq!(count(&plans, "UpdateListener"), 1);
    let o = sim.observe();
    assert_eq!(o.listeners.iter().map(|l| l.port_ranges.clone()).collect::<Vec<_>>(), [vec![(80, 443)]]);
}

#[test]
fn drift_is_repaired_in_place() {
    let (d, mut sim) = converged();
    {
        let a = &mut sim.observed.accelerators[0];
        a.enabled = false;
        a.name = "renamed".into();
        a.tags.remove("team");
        a.tags.remove(securecart_api::tags::OWNER_NAME);
        sim.observed.endpoint_groups[0].traffic_dial_percentage = 20.0;
    }
    let first = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert_eq!(actions(&first), ["UpdateAccelerator", "TagResource", "UpdateEndpointGroup"], "{}", first.render());
    let Step::TagAccelerator { tags, .. } = &first.steps[1] else { panic!() };
    assert_eq!(tags.keys().cloned().collect::<Vec<_>>(), [securecart_api::tags::OWNER_NAME.to_string(), "team".into()]);
    converge(Some(&d), &mut sim);
    let a = &sim.observe().accelerators[0];
    assert!(a.enabled && a.name == "shop-checkout" && a.tags["team"] == "checkout");
}

#[test]
fn dual_stack_is_an_update_of_the_accelerator() {
    let (_, mut sim) = converged();
    let arn = sim.observe().accelerators[0].arn.clone();
    let mut v = example();
    v["ipAddressType"] = json!("DUAL_STACK");
    let plans = converge(Some(&desired(v, &sim, &policies())), &mut sim);
    assert_eq!(plans.iter().map(actions).collect::<Vec<_>>(), [vec!["UpdateAccelerator"]]);
    let a = &sim.observe().accelerators[0];
    assert_eq!((a.arn.as_str(), a.ip_address_type.as_str()), (arn.as_str(), "DUAL_STACK"));
}

#[test]
fn teardown_deletes_groups_then_listeners_then_disables_and_deletes_once_deployed() {
    let (_, mut sim) = converged();
    let foreign = sim.add_foreign(stranger().tags(components::ACCELERATOR, &Tags::new()));
    let plans = converge(None, &mut sim);
    let first = &plans[0];
    assert_eq!(
        actions(first),
        ["DeleteEndpointGroup", "DeleteEndpointGroup", "DeleteListener", "UpdateAccelerator"],
        "{}",
        first.render()
    );
    let Step::UpdateAccelerator { enabled, .. } = &first.steps[3] else { panic!() };
    assert!(!enabled);
    let levels = first.levels();
    assert!(levels[3] < levels[0] && levels[0] < levels[2], "disable, groups, listener: {levels:?}");
    assert!(first.waiting.iter().any(|w| w.contains("deployed disabled")), "{:?}", first.waiting);
    // While it deploys, the plan only waits; then it deletes.
    let last = plans.last().unwrap();
    assert_eq!(actions(last), ["DeleteAccelerator"]);
    assert!(plans[1..plans.len() - 1].iter().all(|p| p.steps.is_empty() && !p.waiting.is_empty()), "{plans:#?}");
    assert!(sim.owned_by(&owner().uid).is_empty());
    assert!(
        sim.observed.listeners.iter().all(|l| l.accelerator_arn == foreign),
        "only the stranger's listener is left"
    );
    assert_eq!(sim.observed.accelerators.len(), 1, "the stranger's accelerator is untouched");
    assert!(sim.log.iter().all(|l| !l.contains(&foreign)), "no call touched it: {:#?}", sim.log);
}

#[test]
fn the_simulator_refuses_what_aws_refuses() {
    let (_, mut sim) = converged();
    let o = sim.observe();
    let (a, l) = (o.accelerators[0].arn.clone(), o.listeners[0].arn.clone());
    let one = |s: Step| Plan { steps: vec![s], ..Plan::default() };
    let e = sim.apply(&one(Step::DeleteAccelerator { arn: a.clone() }), &BTreeMap::new()).unwrap_err();
    assert!(e.contains("AcceleratorNotDisabledException"), "{e}");
    let e = sim
        .apply(
            &one(Step::DeleteListener { arn: l.clone(), protocol: "TCP".into(), port_ranges: vec![(443, 443)] }),
            &BTreeMap::new(),
        )
        .unwrap_err();
    assert!(e.contains("AssociatedEndpointGroupFoundException"), "{e}");
    let group = |region: &str, lb: &str| Step::CreateEndpointGroup {
        component: "g".into(),
        listener: Ref::Id(l.clone()),
        region: region.into(),
        traffic_dial_percentage: 100.0,
        health_check: HealthCheck::default(),
        endpoints: vec![ga::EndpointConfig { id: lb.into(), weight: 128, client_ip_preservation: true }],
    };
    let e = sim.apply(&one(group("eu-west-1", EUW1_LB)), &BTreeMap::new()).unwrap_err();
    assert!(e.contains("EndpointGroupAlreadyExistsException"), "{e}");
    let e = sim.apply(&one(group("ap-south-1", EUW1_LB)), &BTreeMap::new()).unwrap_err();
    assert!(e.contains("InvalidArgumentException") && e.contains("not ap-south-1"), "{e}");
    let disable =
        Step::UpdateAccelerator { arn: a.clone(), name: "x".into(), ip_address_type: "IPV4".into(), enabled: false };
    sim.apply(&one(disable), &BTreeMap::new()).unwrap();
    let e = sim.apply(&one(Step::DeleteAccelerator { arn: a.clone() }), &BTreeMap::new()).unwrap_err();
    assert!(e.contains("AcceleratorNotDisabledException"), "disabled but still IN_PROGRESS: {e}");
    sim.observe();
    sim.observe();
    let e = sim.apply(&one(Step::DeleteAccelerator { arn: a }), &BTreeMap::new()).unwrap_err();
    assert!(e.contains("AssociatedListenerFoundException"), "{e}");
}

#[test]
fn a_lost_create_response_repeats_the_token_and_makes_one_accelerator() {
    let mut sim = world();
    let d = desired(example(), &sim, &policies());
    let mut engine = Engine::default();
    sim.lose_response_of = Some("CreateAccelerator");
    let first = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    let e = engine.run(&mut sim, &first).unwrap_err();
    assert!(e.contains("Timeout"), "{e}");
    assert_eq!(sim.observed.accelerators.len(), 1, "AWS made it, though the answer was lost");
    // AWS's reads lag its writes: the next look does not show it, so the create is planned again,
    // with the intent's token kept: AWS answers with the first accelerator.
    sim.unseen = vec![sim.observed.accelerators[0].arn.clone()];
    let again = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert_eq!(actions(&again)[0], "CreateAccelerator");
    engine.run(&mut sim, &again).unwrap();
    assert_eq!(sim.observed.accelerators.len(), 1, "the repeated token made nothing new");
    sim.unseen.clear();
    converge(Some(&d), &mut sim);
    let o = sim.observe();
    assert_eq!((o.accelerators.len(), o.listeners.len(), o.endpoint_groups.len()), (1, 1, 2));
    assert_eq!(count(&[again], "CreateListener"), 1);
    assert_eq!(sim.log.iter().filter(|l| l.starts_with("CreateListener")).count(), 1);
}

#[test]
fn a_lost_answer_found_by_its_tags_is_adopted_not_created_again() {
    let mut sim = world();
    let d = desired(example(), &sim, &policies());
    sim.lose_response_of = Some("CreateAccelerator");
    let first = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert!(Engine::default().run(&mut sim, &first).is_err());
    // The search by tags finds it (it was created with them): the rest is planned on it.
    let plans = converge(Some(&d), &mut sim);
    assert_eq!(count(&plans, "CreateAccelerator"), 0);
    assert_eq!(count(&plans, "CreateListener"), 1);
    assert_eq!(sim.observe().accelerators.len(), 1);
}

/// Two accelerators of the owner, as two creates with different tokens make them.
fn duplicates() -> (Desired, Sim, Vec<String>) {
    let (d, mut sim) = converged();
    let extra = Plan {
        steps: vec![Step::CreateAccelerator {
            component: components::ACCELERATOR.into(),
            name: d.name.clone(),
            ip_address_type: "IPV4".into(),
            tags: owner().tags(components::ACCELERATOR, &team()),
        }],
        ..Plan::default()
    };
    let tokens = BTreeMap::from([(components::ACCELERATOR.to_string(), "another-token".to_string())]);
    sim.apply(&extra, &tokens).unwrap();
    let mut arns: Vec<String> = sim.observed.accelerators.iter().map(|a| a.arn.clone()).collect();
    arns.sort();
    (d, sim, arns)
}

#[test]
fn duplicates_keep_the_one_with_listeners_and_tear_the_other_down() {
    let (d, mut sim, _) = duplicates();
    let original = sim.observed.listeners[0].accelerator_arn.clone();
    let plans = converge(Some(&d), &mut sim);
    assert!(count(&plans, "DeleteAccelerator") == 1 && count(&plans, "CreateAccelerator") == 0, "{plans:#?}");
    assert_eq!(count(&plans, "CreateListener"), 0, "nothing is rebuilt on the empty twin");
    let o = sim.observe();
    assert_eq!(o.accelerators.iter().map(|a| a.arn.clone()).collect::<Vec<_>>(), [original]);
    assert_eq!((o.listeners.len(), groups_by_region(&o).len()), (1, 2), "the kept one is complete");
}

#[test]
fn fresh_twins_keep_the_lowest_arn() {
    let sim = world();
    let d = desired(example(), &sim, &policies());
    let twin = |arn: &str| ga::Accelerator {
        arn: arn.into(),
        name: d.name.clone(),
        status: "DEPLOYED".into(),
        enabled: true,
        ip_address_type: "IPV4".into(),
        dns_name: None,
        dual_stack_dns_name: None,
        ip_addresses: Vec::new(),
        tags: owner().tags(components::ACCELERATOR, &team()),
    };
    let high = "arn:aws:globalaccelerator::123456789012:accelerator/f0a1";
    let low = "arn:aws:globalaccelerator::123456789012:accelerator/0b2c";
    let observed = Observed { accelerators: vec![twin(high), twin(low)], ..Observed::default() };
    let planned = ga::plan(Some(&d), &cx(&owner()), &observed);
    assert_eq!(planned.accelerator, Some(Ref::Id(low.into())));
    assert!(
        planned
            .plan
            .steps
            .iter()
            .any(|s| matches!(s, Step::UpdateAccelerator { arn, enabled: false, .. } if arn == high)),
        "{}",
        planned.plan.render()
    );
    assert_eq!(ga::find(&owner(), &observed).map(|a| a.arn.as_str()), Some(low));
}

#[test]
fn duplicates_keep_the_one_the_status_names() {
    let (d, mut sim, arns) = duplicates();
    let known = Known::from([(components::ACCELERATOR.to_string(), arns[1].clone())]);
    let owner = owner();
    let cx = Context { owner: &owner, known: &known, in_use: &NOT_IN_USE, chosen: None };
    let planned = plan_as(Some(&d), &cx, &mut sim);
    assert_eq!(planned.accelerator, Some(Ref::Id(arns[1].clone())));
    converge_with(Some(&d), &cx, &mut sim);
    let o = sim.observe();
    assert_eq!(o.accelerators.iter().map(|a| a.arn.clone()).collect::<Vec<_>>(), [arns[1].clone()]);
    assert_eq!(o.listeners.len(), 1);
    assert_eq!(o.listeners[0].accelerator_arn, arns[1]);
    assert_eq!(ga::find(&owner, &o).map(|a| a.arn.clone()), Some(arns[1].clone()));
}

#[test]
fn another_owners_accelerator_is_never_kept_or_touched() {
    let mut sim = world();
    let foreign = sim.add_foreign(stranger().tags(components::ACCELERATOR, &Tags::new()));
    let d = desired(example(), &sim, &policies());
    let first = plan_as(Some(&d), &cx(&owner()), &mut sim).plan;
    assert_eq!(actions(&first)[0], "CreateAccelerator");
    assert!(first.steps.iter().all(|s| !s.to_string().contains(&foreign)));
}

#[test]
fn shield_protections_and_alias_records_need_the_accelerator() {
    use securecart_plan::Step as Any;
    let created = Any::from(Step::CreateAccelerator {
        component: components::ACCELERATOR.into(),
        name: "shop-checkout".into(),
        ip_address_type: "IPV4".into(),
        tags: Tags::new(),
    });
    let protection = Any::from(securecart_plan::shield::Step::CreateProtection {
        component: "protection".into(),
        name: "shop-checkout".into(),
        resource_arn: "arn:aws:globalaccelerator::123456789012:accelerator/x".into(),
        tags: Tags::new(),
    });
    let delete_accelerator = Any::from(Step::DeleteAccelerator { arn: "arn:a".into() });
    let delete_protection = Any::from(securecart_plan::shield::Step::DeleteProtection { id: "p-1".into() });
    let plan = Plan { steps: vec![protection, created], ..Plan::default() };
    assert_eq!(plan.levels(), [1, 0], "the protection after the accelerator");
    let plan = Plan { steps: vec![delete_accelerator, delete_protection], ..Plan::default() };
    assert_eq!(plan.levels(), [1, 0], "the accelerator's delete after its protection's");
    let needs = |r: &str| ga::ORDERING.needs.iter().any(|(x, n)| *x == r && n.contains(&ga::resources::ACCELERATOR));
    assert!(needs(securecart_plan::route53::resources::RECORDS));
}

// desired_of: defaults, names and validation.

#[test]
fn defaults_are_explicit_in_the_desired_state() {
    let sim = world();
    let mut v = example();
    v["listeners"][0]["endpointGroups"][0] = json!({"loadBalancerPolicyRef": {"name": "checkout-use1"}});
    v["listeners"][0]["endpointGroups"][1] = json!({"loadBalancerPolicyRef": {"name": "checkout-euw1"},
        "healthCheck": {"protocol": "HTTP"}});
    let d = desired(v, &sim, &policies());
    assert_eq!(d.name, "shop-checkout");
    assert_eq!(d.user_tags, team());
    let g = &d.listeners[0].endpoint_groups;
    assert_eq!(
        (g[0].traffic_dial_percentage, g[0].endpoint.weight, g[0].endpoint.client_ip_preservation),
        (100.0, 128, true)
    );
    assert_eq!(
        g[0].health_check,
        HealthCheck { protocol: "TCP".into(), path: None, port: Some(443), interval_seconds: 30, threshold_count: 3 }
    );
    assert_eq!(g[1].health_check.path.as_deref(), Some("/"), "HTTP checks default to /");
    assert_eq!(g[1].health_check.port, Some(443));
    assert_eq!(
        (g[0].region.as_str(), g[0].endpoint.id.as_str(), g[0].endpoint.policy.as_str()),
        ("us-east-1", USE1_LB, "checkout-use1")
    );
    assert_eq!(d.listeners[0].client_affinity, "SOURCE_IP");
}

#[test]
fn network_load_balancers_preserve_client_ips_only_when_asked() {
    let nlb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/checkout-nlb/77";
    let sim = Sim::new().with_load_balancer(nlb, "us-east-1", true);
    let mut v = example();
    v["listeners"][0]["endpointGroups"] = json!([{"loadBalancerPolicyRef": {"name": "nlb"}}]);
    let p = BTreeMap::from([("nlb", ("us-east-1", nlb))]);
    assert!(!desired(v.clone(), &sim, &p).listeners[0].endpoint_groups[0].endpoint.client_ip_preservation);
    v["listeners"][0]["endpointGroups"][0]["clientIpPreservation"] = json!(true);
    assert!(desired(v, &sim, &p).listeners[0].endpoint_groups[0].endpoint.client_ip_preservation);
}

#[test]
fn accelerator_names_are_made_valid() {
    let named = |ns: &str, name: &str| {
        accelerator_name(&Owner {
            kind: "GlobalEntrypoint".into(),
            namespace: ns.into(),
            name: name.into(),
            uid: "u".into(),
        })
    };
    assert_eq!(named("shop", "checkout"), "shop-checkout");
    assert_eq!(named("shop", "checkout.v2"), "shop-checkout-v2");
    let long = named(&"n".repeat(63), "edge-entrypoint");
    assert_eq!(long.len(), 63, "{long}: cut at 64, then the trailing hyphen");
    assert!(long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !long.ends_with('-'));
}

fn invalid(v: Value, policies: &BTreeMap<&str, (&str, &str)>) -> String {
    let sim = world();
    let s = spec(v);
    desired_of(&s, &owner(), &inputs(&s, &sim, policies), &Tags::new()).unwrap_err().0
}

#[test]
fn two_groups_in_one_region_for_one_listener_are_invalid() {
    let same = BTreeMap::from([("checkout-use1", ("us-east-1", USE1_LB)), ("checkout-euw1", ("us-east-1", EUW1_LB))]);
    let e = invalid(example(), &same);
    assert!(
        e.starts_with("spec.globalAccelerator.listeners[0].endpointGroups[1]: a second endpoint group in us-east-1"),
        "{e}"
    );
}

#[test]
fn overlapping_ports_of_one_protocol_are_invalid_across_protocols_fine() {
    let mut v = example();
    let second = json!({"protocol": "TCP", "portRanges": [{"from": 400, "to": 450}],
        "endpointGroups": [{"loadBalancerPolicyRef": {"name": "checkout-use1"}}]});
    v["listeners"] = json!([v["listeners"][0].clone(), second]);
    let e = invalid(v.clone(), &policies());
    assert!(
        e.starts_with(
            "spec.globalAccelerator.listeners[1].portRanges: overlaps the ports of spec.globalAccelerator.listeners[0]"
        ),
        "{e}"
    );
    v["listeners"][1]["protocol"] = json!("UDP");
    let sim = world();
    let s = spec(v);
    assert!(
        desired_of(&s, &owner(), &inputs(&s, &sim, &policies()), &Tags::new()).is_ok(),
        "TCP and UDP may share ports"
    );
}

#[test]
fn a_range_from_above_to_is_invalid() {
    let mut v = example();
    v["listeners"][0]["portRanges"] = json!([{"from": 443, "to": 443}, {"from": 9000, "to": 8000}]);
    let e = invalid(v, &policies());
    assert!(e.starts_with("spec.globalAccelerator.listeners[0].portRanges[1]: from 9000"), "{e}");
}

#[test]
fn a_bad_health_check_interval_is_invalid() {
    let mut v = example();
    v["listeners"][0]["endpointGroups"][0]["healthCheck"]["intervalSeconds"] = json!(15);
    let e = invalid(v, &policies());
    assert!(e.starts_with("spec.globalAccelerator.listeners[0].endpointGroups[0].healthCheck.intervalSeconds"), "{e}");
}
