//! LoadBalancerPolicy planner: plans run against a simulator until they converge, drift and
//! crashes are simulated by editing or truncating what the simulator holds, and every rejected
//! spec names its field. No server, no async.

mod lb_sim;

use std::collections::BTreeSet;

use lb_sim::Sim;
use pretty_assertions::assert_eq;
use securecart_api::LoadBalancerPolicySpec;
use securecart_plan::Owner;
use securecart_plan::load_balancer::{
    self, ChangeAction, Desired, Observed, Placement, Planned, RecordRouting, Step, components,
};
use securecart_plan::owner::component;
use securecart_plan::plan::{Plan, PlanStep};
use serde_json::{Value, json};

fn owner() -> Owner {
    Owner {
        kind: "LoadBalancerPolicy".into(),
        namespace: "platform".into(),
        name: "storefront".into(),
        uid: "u-lb".into(),
    }
}

fn stranger() -> Owner {
    Owner {
        kind: "LoadBalancerPolicy".into(),
        namespace: "other".into(),
        name: "storefront".into(),
        uid: "u-other".into(),
    }
}

fn placement() -> Placement {
    Placement {
        region: "us-east-1".into(),
        vpc_id: "vpc-1".into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
    }
}

/// The issue's example.
fn example() -> Value {
    json!({
        "vpcTierRef": {"name": "shop"}, "type": "Application", "scheme": "internet-facing", "tier": "public",
        "allowedCidrs": ["0.0.0.0/0"],
        "targetGroups": [
            {"name": "web", "protocol": "HTTP", "port": 8080, "targetType": "ip",
             "healthCheck": {"path": "/healthz", "intervalSeconds": 10, "healthyThreshold": 3, "unhealthyThreshold": 2, "matcher": "200-399"}},
            {"name": "checkout", "protocol": "HTTP", "port": 9090, "targetType": "ip", "healthCheck": {"path": "/ready"}},
        ],
        "listeners": [
            {"port": 443, "protocol": "HTTPS", "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
             "defaultTargetGroup": "web", "rules": [{"priority": 10, "pathPatterns": ["/checkout/*"], "targetGroup": "checkout"}]},
            {"port": 80, "protocol": "HTTP", "redirectToHttps": true},
        ],
        "attributes": {"idleTimeoutSeconds": 60, "deletionProtection": false},
        "waf": {"defaultAction": "Allow",
                "managedRuleGroups": ["AWSManagedRulesSQLiRuleSet", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"],
                "rateLimitPerFiveMinutes": 2000},
        "shield": {"enabled": true},
        "dns": {"hostedZoneId": "Z0123456789", "name": "shop.example.com",
                "routing": {"policy": "Latency", "setIdentifier": "us-east-1"},
                "healthCheck": {"protocol": "HTTPS", "path": "/healthz", "port": 443, "failureThreshold": 3, "requestIntervalSeconds": 30}},
        "tags": {"team": "storefront"},
    })
}

fn spec(v: Value) -> LoadBalancerPolicySpec {
    serde_json::from_value(v).expect("test spec deserializes")
}

fn example_with(f: impl FnOnce(&mut Value)) -> LoadBalancerPolicySpec {
    let mut v = example();
    f(&mut v);
    spec(v)
}

fn desired_for(s: &LoadBalancerPolicySpec, who: &Owner) -> Desired {
    load_balancer::desired(s, who, placement()).expect("valid spec")
}

fn plan_as(s: Option<&LoadBalancerPolicySpec>, who: &Owner, sim: &mut Sim) -> Planned {
    let observed = sim.observe();
    let d = s.map(|s| desired_for(s, who));
    load_balancer::plan(d.as_ref(), who, &observed)
}

/// Plans and applies until a plan has no steps; returns the plans that ran.
fn converge_as(s: Option<&LoadBalancerPolicySpec>, who: &Owner, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
    let mut plans = Vec::new();
    for _ in 0..max {
        let planned = plan_as(s, who, sim);
        if planned.plan.is_empty() {
            return plans;
        }
        sim.apply(&planned.plan).unwrap_or_else(|e| panic!("plan rejected: {e}\n{}", planned.plan.render()));
        plans.push(planned.plan);
    }
    panic!("no convergence in {max} passes:\n{}", plans.last().map(|p| p.render()).unwrap_or_default());
}

fn converge(s: Option<&LoadBalancerPolicySpec>, sim: &mut Sim) -> Vec<Plan<Step>> {
    converge_as(s, &owner(), sim, 8)
}

fn converged_example() -> (LoadBalancerPolicySpec, Sim) {
    let s = spec(example());
    let mut sim = Sim::new().with_zone("Z0123456789");
    converge(Some(&s), &mut sim);
    (s, sim)
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

/// The dependency level of the first `action` step in `plan`.
fn phase_of(plan: &Plan<Step>, action: &str) -> usize {
    let i = plan.steps.iter().position(|s| s.action() == action).unwrap_or_else(|| panic!("{action} in plan"));
    plan.levels()[i]
}

fn components_of<T>(items: &[T], tags: impl Fn(&T) -> &securecart_plan::Tags) -> BTreeSet<String> {
    items.iter().filter_map(|i| component(tags(i)).map(str::to_string)).collect()
}

#[test]
fn example_converges_to_the_issue_layout() {
    let (s, mut sim) = converged_example();
    let o: Observed = sim.observe();
    assert_eq!(o.load_balancers.len(), 1);
    let lb = &o.load_balancers[0];
    assert_eq!(
        (lb.lb_type.as_str(), lb.scheme.as_str(), lb.state.as_str()),
        ("application", "internet-facing", "active")
    );
    assert_eq!(lb.subnet_ids, placement().subnet_ids);
    assert_eq!(lb.attributes.get("idle_timeout.timeout_seconds").map(String::as_str), Some("60"));
    assert_eq!(components_of(&o.target_groups, |t| &t.tags), BTreeSet::from(["tg/checkout".into(), "tg/web".into()]));
    assert_eq!(components_of(&o.listeners, |l| &l.tags), BTreeSet::from(["listener/443".into(), "listener/80".into()]));
    assert_eq!(components_of(&o.rules, |r| &r.tags), BTreeSet::from(["rule/443/10".into()]));
    let sg = &o.security_groups[0];
    let ports: BTreeSet<u16> = sg.ingress.iter().map(|i| i.port).collect();
    assert_eq!(ports, BTreeSet::from([80, 443]));
    let acl = &o.web_acls[0];
    assert_eq!(lb.web_acl_arn.as_ref(), Some(&acl.arn));
    assert_eq!(acl.rules.managed_rule_groups.len(), 3);
    assert_eq!(acl.rules.rate_limit, Some(2000));
    assert_eq!(o.protections.len(), 1);
    let hc = &o.health_checks[0];
    assert_eq!((hc.config.fqdn.as_str(), hc.config.path.as_deref()), (lb.dns_name.as_str(), Some("/healthz")));
    assert_eq!(o.records.len(), 1);
    let record = &o.records[0];
    assert_eq!(record.name, "shop.example.com.");
    assert_eq!(record.routing, RecordRouting::Latency { region: "us-east-1".into() });
    assert_eq!(record.health_check_id.as_ref(), Some(&hc.id));
    assert!(record.evaluate_target_health);
    // Everything carries the ownership and user tags.
    assert!(o.load_balancers.iter().all(|l| l.tags.get("team").map(String::as_str) == Some("storefront")));
    // In sync: nothing to do.
    let again = plan_as(Some(&s), &owner(), &mut sim);
    assert!(again.plan.in_sync(), "{}", again.plan.render());
    let status = load_balancer::status(
        &desired_for(&s, &owner()),
        &sim.observe(),
        Some(1),
        &[],
        &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    );
    let parts: Vec<(&str, &str)> = status.conditions.iter().map(|c| (c.type_.as_str(), c.status.as_str())).collect();
    assert_eq!(parts, [("LoadBalancerReady", "True"), ("WafAssociated", "True"), ("DnsPublished", "True")]);
    assert_eq!(status.records.len(), 1);
    assert_eq!(status.target_groups.len(), 2);
}

#[test]
fn first_plan_matches_golden_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/storefront_first_plan.txt");
    let mut sim = Sim::new().with_zone("Z0123456789");
    let got = plan_as(Some(&spec(example())), &owner(), &mut sim).plan.render();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &got).expect("write golden file");
    }
    let want = std::fs::read_to_string(path).expect("golden file exists; run with UPDATE_GOLDEN=1 to write it");
    assert_eq!(got, want);
}

#[test]
fn plans_follow_the_dependency_order() {
    let s = spec(example());
    let mut sim = Sim::new().with_zone("Z0123456789");
    let plans = converge(Some(&s), &mut sim);
    let first = &plans[0];
    assert!(phase_of(first, "CreateSecurityGroup") < phase_of(first, "CreateLoadBalancer"));
    assert!(phase_of(first, "CreateTargetGroup") < phase_of(first, "CreateLoadBalancer"));
    assert!(phase_of(first, "CreateLoadBalancer") < phase_of(first, "CreateListener"));
    assert!(phase_of(first, "CreateListener") < phase_of(first, "CreateRule"));
    // WAF, Shield and DNS wait for the load balancer to exist (and be active, for WAF).
    assert!(first.waiting.iter().any(|w| w.contains("load balancer")), "{:?}", first.waiting);
    for later in ["AssociateWebACL", "CreateProtection", "CreateHealthCheck", "ChangeResourceRecordSets"] {
        assert!(!actions(first).contains(&later), "{later} waits");
    }
    // The load balancer is still provisioning at the next look: Shield and the health check go
    // ahead, the WAF association waits for it to be active.
    let second = &plans[1];
    assert!(phase_of(second, "CreateProtection") <= phase_of(second, "CreateHealthCheck"));
    assert!(!actions(second).contains(&"AssociateWebACL"));
    let third = &plans[2];
    // Records name the health check, so they come once it exists (the plan before); all in one batch.
    assert!(actions(second).contains(&"CreateHealthCheck") && !actions(second).contains(&"ChangeResourceRecordSets"));
    assert_eq!(third.steps.iter().filter(|s| s.action() == "ChangeResourceRecordSets").count(), 1);
    assert_eq!(plans.len(), 3);
}

#[test]
fn a_provisioning_load_balancer_is_waited_for_not_failed() {
    let s = spec(example());
    let mut sim = Sim::new().with_zone("Z0123456789");
    let first = plan_as(Some(&s), &owner(), &mut sim).plan;
    sim.apply(&first).unwrap();
    // Planned against the state right after creation, where the load balancer still provisions.
    let observed = sim.observed.clone();
    let plan = load_balancer::plan(Some(&desired_for(&s, &owner())), &owner(), &observed).plan;
    assert!(!actions(&plan).contains(&"AssociateWebACL"), "{}", plan.render());
    assert!(plan.waiting.iter().any(|w| w.contains("to become active")), "{:?}", plan.waiting);
}

/// Each out-of-band change, and the one step that repairs it.
#[test]
fn drift_is_repaired_with_exactly_the_missing_step() {
    type Edit = fn(&mut Observed);
    let cases: [(&str, Edit, &[&str]); 6] = [
        ("WAF association removed", |o| o.load_balancers[0].web_acl_arn = None, &["AssociateWebACL"]),
        ("listener rule deleted", |o| o.rules.clear(), &["CreateRule"]),
        (
            "health check path changed",
            |o| o.health_checks[0].config.path = Some("/changed".into()),
            &["UpdateHealthCheck"],
        ),
        ("record deleted from the zone", |o| o.records.clear(), &["ChangeResourceRecordSets"]),
        (
            "target group health path changed",
            |o| o.target_groups.iter_mut().for_each(|t| t.health.path = Some("/x".into())),
            &["ModifyTargetGroup", "ModifyTargetGroup"],
        ),
        ("Shield protection deleted", |o| o.protections.clear(), &["CreateProtection"]),
    ];
    for (what, edit, want) in cases {
        let (s, mut sim) = converged_example();
        edit(&mut sim.observed);
        let plan = plan_as(Some(&s), &owner(), &mut sim).plan;
        assert_eq!(actions(&plan), want, "{what}:\n{}", plan.render());
        sim.apply(&plan).unwrap();
        assert!(plan_as(Some(&s), &owner(), &mut sim).plan.in_sync(), "{what}: repaired in one pass");
    }
}

#[test]
fn a_rewritten_record_is_upserted_in_one_batch_and_a_matching_one_never() {
    let (s, mut sim) = converged_example();
    // Route 53 answers names in its own case and with the trailing dot: still a match.
    sim.observed.records[0].alias_dns_name = sim.observed.records[0].alias_dns_name.as_ref().map(|d| d.to_uppercase());
    assert!(plan_as(Some(&s), &owner(), &mut sim).plan.in_sync());
    let dualstack = example_with(|v| v["ipAddressType"] = json!("dualstack"));
    let plan = plan_as(Some(&dualstack), &owner(), &mut sim).plan;
    let batches: Vec<&Step> = plan.steps.iter().filter(|s| s.action() == "ChangeResourceRecordSets").collect();
    assert_eq!(batches.len(), 1, "one ChangeBatch per object");
    let Step::ChangeRecords { changes, .. } = batches[0] else { unreachable!() };
    let types: Vec<(&str, ChangeAction)> = changes.iter().map(|c| (c.record.record_type.as_str(), c.action)).collect();
    assert_eq!(types, [("AAAA", ChangeAction::Upsert)], "the A record already matches");
}

#[test]
fn a_crash_mid_plan_never_duplicates() {
    let s = spec(example());
    for cut in 1..=4 {
        let mut sim = Sim::new().with_zone("Z0123456789");
        let first = plan_as(Some(&s), &owner(), &mut sim).plan;
        // Apply only the first `cut` levels, as if the controller died there.
        let levels = first.levels();
        let steps = first.steps.iter().zip(levels).filter(|(_, l)| *l < cut).map(|(s, _)| s.clone()).collect();
        let partial = Plan { steps, waiting: vec![] };
        sim.apply(&partial).unwrap();
        converge(Some(&s), &mut sim);
        let o = sim.observe();
        assert_eq!(
            (o.security_groups.len(), o.target_groups.len(), o.load_balancers.len(), o.listeners.len(), o.rules.len()),
            (1, 2, 1, 2, 1),
            "cut after phase {cut}"
        );
        assert_eq!((o.web_acls.len(), o.health_checks.len(), o.records.len(), o.protections.len()), (1, 1, 1, 1));
    }
}

#[test]
fn another_owners_resources_and_records_are_never_touched() {
    let (s, mut sim) = converged_example();
    // The same spec under another owner, in the same account: its own everything, and a
    // record with the same name and set identifier is not taken over.
    let plans = {
        let mut plans = Vec::new();
        for _ in 0..4 {
            let planned = plan_as(Some(&s), &stranger(), &mut sim);
            if planned.plan.is_empty() {
                break;
            }
            sim.apply(&planned.plan).unwrap();
            plans.push(planned.plan);
        }
        plans
    };
    let last = plan_as(Some(&s), &stranger(), &mut sim).plan;
    assert!(last.waiting.iter().any(|w| w.contains("belongs to someone else")), "{:?}", last.waiting);
    assert!(plans.iter().all(|p| !actions(p).contains(&"ChangeResourceRecordSets")));
    // The first owner stays in sync, and its teardown leaves the stranger's things alone.
    assert!(plan_as(Some(&s), &owner(), &mut sim).plan.in_sync());
    converge(None, &mut sim);
    let o = sim.observe();
    assert!(!load_balancer::owns_anything(&owner(), &o));
    assert!(load_balancer::owns_anything(&stranger(), &o));
    assert_eq!(o.load_balancers.len(), 1);
    assert!(o.records.is_empty(), "the only record was the first owner's");
}

#[test]
fn teardown_runs_in_reverse_dependency_order_and_leaves_nothing() {
    let (_, mut sim) = converged_example();
    let plan = plan_as(None, &owner(), &mut sim).plan;
    // What AWS makes each wait for: records name the health check and alias the load balancer;
    // target groups and the security group are in use until their load balancer is gone.
    let order = [
        ["ChangeResourceRecordSets", "DeleteHealthCheck"],
        ["DeleteHealthCheck", "DeleteLoadBalancer"],
        ["DeleteLoadBalancer", "DeleteTargetGroup"],
        ["DeleteLoadBalancer", "DeleteSecurityGroup"],
    ];
    for pair in order {
        assert!(
            phase_of(&plan, pair[0]) < phase_of(&plan, pair[1]),
            "{} before {}\n{}",
            pair[0],
            pair[1],
            plan.render()
        );
    }
    assert!(phase_of(&plan, "DisassociateWebACL") < phase_of(&plan, "DeleteWebACL"));
    assert!(phase_of(&plan, "DeleteProtection") < phase_of(&plan, "DeleteLoadBalancer"));
    // Listeners and rules go with their load balancer.
    assert!(!actions(&plan).contains(&"DeleteListener") && !actions(&plan).contains(&"DeleteRule"));
    converge(None, &mut sim);
    let o = sim.observe();
    assert!(!load_balancer::owns_anything(&owner(), &o));
    assert!(o.records.is_empty() && o.protections.is_empty() && o.listeners.is_empty());
}

#[test]
fn teardown_turns_deletion_protection_off_first() {
    let s = example_with(|v| v["attributes"]["deletionProtection"] = json!(true));
    let mut sim = Sim::new().with_zone("Z0123456789");
    converge(Some(&s), &mut sim);
    let plan = plan_as(None, &owner(), &mut sim).plan;
    assert!(phase_of(&plan, "ModifyLoadBalancerAttributes") < phase_of(&plan, "DeleteLoadBalancer"));
    converge(None, &mut sim);
    assert!(!load_balancer::owns_anything(&owner(), &sim.observe()));
}

#[test]
fn changing_the_scheme_replaces_the_load_balancer_and_says_so() {
    let (_, mut sim) = converged_example();
    let old = sim.observed.load_balancers[0].arn.clone();
    let internal = example_with(|v| {
        v["scheme"] = json!("internal");
    });
    let planned = plan_as(Some(&internal), &owner(), &mut sim);
    assert_eq!(planned.replacements.len(), 1, "{:?}", planned.replacements);
    assert!(planned.replacements[0].contains("internet-facing") && planned.replacements[0].contains("internal"));
    assert!(actions(&planned.plan).contains(&"CreateLoadBalancer"));
    // The old one stays until the record points at the new one.
    assert!(!actions(&planned.plan).contains(&"DeleteLoadBalancer"), "{}", planned.plan.render());
    assert!(planned.plan.waiting.iter().any(|w| w.contains("to move off load balancer")), "{:?}", planned.plan.waiting);
    converge(Some(&internal), &mut sim);
    let o = sim.observe();
    assert_eq!(o.load_balancers.len(), 1);
    assert_ne!(o.load_balancers[0].arn, old);
    assert_eq!(o.load_balancers[0].scheme, "internal");
    assert_eq!(o.listeners.len(), 2, "listeners recreated on the new load balancer");
    assert_eq!(o.records[0].alias_dns_name.as_deref(), Some(format!("{}.", o.load_balancers[0].dns_name).as_str()));
}

#[test]
fn changing_a_target_group_port_replaces_it_after_the_listener_moves() {
    let (_, mut sim) = converged_example();
    let moved = example_with(|v| v["targetGroups"][0]["port"] = json!(8081));
    converge(Some(&moved), &mut sim);
    let o = sim.observe();
    let ports: BTreeSet<Option<u16>> = o.target_groups.iter().map(|t| t.port).collect();
    assert_eq!(ports, BTreeSet::from([Some(8081), Some(9090)]));
}

#[test]
fn removing_waf_and_dns_removes_only_those() {
    let (_, mut sim) = converged_example();
    let bare = example_with(|v| {
        v.as_object_mut().unwrap().remove("waf");
        v.as_object_mut().unwrap().remove("dns");
    });
    converge(Some(&bare), &mut sim);
    let o = sim.observe();
    assert!(o.web_acls.is_empty() && o.health_checks.is_empty() && o.records.is_empty());
    assert_eq!(o.load_balancers[0].web_acl_arn, None);
    assert_eq!(o.load_balancers.len(), 1);
}

#[test]
fn network_and_gateway_load_balancers_plan_their_own_shapes() {
    let nlb = spec(json!({
        "vpcTierRef": {"name": "shop"}, "type": "Network", "tier": "public", "allowedCidrs": ["10.0.0.0/8", "2001:db8::/32"],
        "targetGroups": [{"name": "dns", "protocol": "TCP_UDP", "port": 53}],
        "listeners": [{"port": 53, "protocol": "TCP_UDP", "defaultTargetGroup": "dns"}],
        "attributes": {"crossZoneLoadBalancing": true},
    }));
    let d = desired_for(&nlb, &owner());
    let ingress: BTreeSet<(String, String)> =
        d.security_group.unwrap().ingress.into_iter().map(|i| (i.protocol, i.cidr)).collect();
    assert_eq!(ingress.len(), 4, "tcp and udp from both CIDRs: {ingress:?}");
    assert_eq!(d.load_balancer.attributes.get("load_balancing.cross_zone.enabled").map(String::as_str), Some("true"));

    let gwlb = spec(json!({
        "vpcTierRef": {"name": "shop"}, "type": "Gateway", "tier": "app",
        "targetGroups": [{"name": "appliances", "protocol": "GENEVE"}],
        "listeners": [{"defaultTargetGroup": "appliances"}],
    }));
    let d = desired_for(&gwlb, &owner());
    assert!(d.security_group.is_none());
    assert_eq!(d.target_groups[0].port, load_balancer::GENEVE_PORT);
    let mut sim = Sim::new();
    converge(Some(&gwlb), &mut sim);
    let o = sim.observe();
    assert_eq!(components_of(&o.listeners, |l| &l.tags), BTreeSet::from([components::listener(None)]));
    assert!(o.security_groups.is_empty());
}

#[test]
fn two_policies_share_a_name_with_their_own_set_identifiers() {
    let east = spec(example());
    let west = example_with(|v| v["dns"]["routing"]["setIdentifier"] = json!("us-west-2"));
    let mut sim = Sim::new().with_zone("Z0123456789");
    converge_as(Some(&east), &owner(), &mut sim, 8);
    converge_as(Some(&west), &stranger(), &mut sim, 8);
    let o = sim.observe();
    let ids: BTreeSet<Option<String>> = o.records.iter().map(|r| r.set_identifier.clone()).collect();
    assert_eq!(ids, BTreeSet::from([Some("us-east-1".into()), Some("us-west-2".into())]));
    converge_as(None, &stranger(), &mut sim, 8);
    let o = sim.observe();
    assert_eq!(o.records.len(), 1);
    assert_eq!(o.records[0].set_identifier.as_deref(), Some("us-east-1"));
}

#[test]
fn invalid_specs_name_their_field() {
    let cases: Vec<(&str, Value)> = vec![
        ("spec.waf", {
            let mut v = example();
            v["type"] = json!("Network");
            v["targetGroups"] = json!([{"name": "web", "protocol": "TCP", "port": 80}]);
            v["listeners"] = json!([{"port": 80, "protocol": "TCP", "defaultTargetGroup": "web"}]);
            v.as_object_mut().unwrap().remove("attributes");
            v
        }),
        ("spec.listeners[1].protocol", {
            let mut v = example();
            v["listeners"][1]["protocol"] = json!("UDP");
            v
        }),
        ("spec.listeners[0].rules[0].targetGroup", {
            let mut v = example();
            v["listeners"][0]["rules"][0]["targetGroup"] = json!("missing");
            v
        }),
        ("spec.listeners[0].defaultTargetGroup", {
            let mut v = example();
            v["listeners"][0]["defaultTargetGroup"] = json!("missing");
            v
        }),
        ("spec.listeners[0].rules[1].priority", {
            let mut v = example();
            v["listeners"][0]["rules"] = json!([
                {"priority": 10, "pathPatterns": ["/a"], "targetGroup": "web"},
                {"priority": 10, "pathPatterns": ["/b"], "targetGroup": "web"}]);
            v
        }),
        ("spec.dns.routing.setIdentifier", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Latency"});
            v
        }),
        ("spec.dns.routing.weight", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Weighted", "setIdentifier": "a"});
            v
        }),
        ("spec.dns.routing.role", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Failover", "setIdentifier": "a"});
            v
        }),
        ("spec.dns.routing: Geolocation", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Geolocation", "setIdentifier": "a"});
            v
        }),
        ("spec.listeners[0].certificateArn", {
            let mut v = example();
            v["listeners"][0].as_object_mut().unwrap().remove("certificateArn");
            v
        }),
        ("spec.targetGroups[1].name", {
            let mut v = example();
            v["targetGroups"][1]["name"] = json!("web");
            v
        }),
        ("spec.allowedCidrs[0]", {
            let mut v = example();
            v["allowedCidrs"] = json!(["not-a-cidr"]);
            v
        }),
        ("spec.attributes.crossZoneLoadBalancing", {
            let mut v = example();
            v["attributes"]["crossZoneLoadBalancing"] = json!(true);
            v
        }),
        ("spec.tags", {
            let mut v = example();
            v["tags"] = json!({"net.securecart.io/owner-uid": "x"});
            v
        }),
    ];
    for (field, v) in cases {
        let err = load_balancer::validate(&spec(v)).expect_err(field);
        assert!(err.0.starts_with(field), "expected an error naming {field}, got {:?}", err.0);
    }
    assert_eq!(load_balancer::validate(&spec(example())), Ok(()));
}

#[test]
fn placement_comes_from_the_vpc_tier_tier() {
    let tier_spec: securecart_api::VpcTierSpec = serde_json::from_value(json!({
        "region": "us-east-1", "cidrBlock": "10.20.0.0/16", "availabilityZones": 2,
        "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}, {"name": "app", "type": "Private", "prefixLength": 20}],
    }))
    .unwrap();
    let status: securecart_api::VpcTierStatus = serde_json::from_value(json!({
        "vpcId": "vpc-9",
        "subnets": [
            {"tier": "public", "type": "Public", "zone": "us-east-1a", "cidrBlock": "10.20.0.0/24", "subnetId": "subnet-p1"},
            {"tier": "public", "type": "Public", "zone": "us-east-1b", "cidrBlock": "10.20.1.0/24", "subnetId": "subnet-p2"},
            {"tier": "app", "type": "Private", "zone": "us-east-1a", "cidrBlock": "10.20.16.0/20", "subnetId": "subnet-a1"},
        ],
    }))
    .unwrap();
    let s = spec(example());
    let p = load_balancer::placement(&s, &tier_spec, &status).unwrap().unwrap();
    assert_eq!((p.vpc_id.as_str(), p.subnet_ids.clone()), ("vpc-9", vec!["subnet-p1".to_string(), "subnet-p2".into()]));
    let missing = example_with(|v| v["tier"] = json!("edge"));
    assert!(load_balancer::placement(&missing, &tier_spec, &status).unwrap_err().0.starts_with("spec.tier"));
    let private = example_with(|v| v["tier"] = json!("app"));
    let err = load_balancer::placement(&private, &tier_spec, &status).unwrap_err();
    assert!(err.0.contains("internet-facing"), "{}", err.0);
    let empty = securecart_api::VpcTierStatus::default();
    assert_eq!(load_balancer::placement(&s, &tier_spec, &empty), Ok(None), "waits for subnets");
}

#[test]
fn a_zone_added_to_the_tier_moves_the_load_balancer_in_place() {
    let (s, mut sim) = converged_example();
    let arn = sim.observed.load_balancers[0].arn.clone();
    let mut wider = placement();
    wider.subnet_ids.push("subnet-c".into());
    let d = load_balancer::desired(&s, &owner(), wider.clone()).unwrap();
    let plan = load_balancer::plan(Some(&d), &owner(), &sim.observe()).plan;
    assert_eq!(actions(&plan), ["SetSubnets"], "{}", plan.render());
    sim.apply(&plan).unwrap();
    let o = sim.observe();
    assert_eq!(o.load_balancers[0].arn, arn, "not replaced");
    assert_eq!(o.load_balancers[0].subnet_ids.len(), 3);
    assert!(load_balancer::plan(Some(&d), &owner(), &o).plan.in_sync());
}
