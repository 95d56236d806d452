//! LoadBalancerPolicy planner: plans run against a simulator until they converge, drift and
//! crashes are simulated by editing or truncating what the simulator holds. No server, no async.

mod lb_sim;

use std::collections::BTreeSet;

use lb_sim::Sim;
use lb_sim::fixtures::*;
use pretty_assertions::assert_eq;
use securecart_plan::Step;
use securecart_plan::load_balancer_policy::{self as lbp, Observed};
use securecart_plan::plan::{Plan, PlanStep};
use securecart_plan::route53::{self, ChangeAction, RecordRouting};
use serde_json::json;

#[test]
fn example_converges_to_the_issue_layout() {
    let (s, mut sim) = converged_example();
    let o: Observed = sim.observe();
    assert_eq!(o.elbv2.load_balancers.len(), 1);
    let lb = &o.elbv2.load_balancers[0];
    assert_eq!(
        (lb.lb_type.as_str(), lb.scheme.as_str(), lb.state.as_str()),
        ("application", "internet-facing", "active")
    );
    assert_eq!(lb.subnet_ids, placement().subnet_ids);
    assert_eq!(lb.attributes.get("idle_timeout.timeout_seconds").map(String::as_str), Some("60"));
    assert_eq!(
        components_of(&o.elbv2.target_groups, |t| &t.tags),
        BTreeSet::from(["tg/checkout".into(), "tg/web".into()])
    );
    assert_eq!(
        components_of(&o.elbv2.listeners, |l| &l.tags),
        BTreeSet::from(["listener/443".into(), "listener/80".into()])
    );
    assert_eq!(components_of(&o.elbv2.rules, |r| &r.tags), BTreeSet::from(["rule/443/10".into()]));
    let sg = &o.security_groups[0];
    let ports: BTreeSet<u16> = sg.ingress.iter().map(|i| i.port).collect();
    assert_eq!(ports, BTreeSet::from([80, 443]));
    let acl = &o.wafv2.web_acls[0];
    assert_eq!(o.wafv2.associated(&lb.arn), Some(acl.arn.as_str()));
    assert_eq!(acl.rules.managed_rule_groups.len(), 3);
    assert_eq!(acl.rules.rate_limit, Some(2000));
    assert_eq!(o.protections.len(), 1);
    let hc = &o.route53.health_checks[0];
    assert_eq!((hc.config.fqdn.as_str(), hc.config.path.as_deref()), (lb.dns_name.as_str(), Some("/healthz")));
    assert_eq!(o.route53.records.len(), 1);
    let record = &o.route53.records[0];
    assert_eq!(record.name, "shop.example.com.");
    assert_eq!(record.routing, RecordRouting::Latency { region: "us-east-1".into() });
    assert_eq!(record.health_check_id.as_ref(), Some(&hc.id));
    assert!(record.evaluate_target_health);
    // Everything carries the ownership and user tags.
    assert!(o.elbv2.load_balancers.iter().all(|l| l.tags.get("team").map(String::as_str) == Some("storefront")));
    // In sync: nothing to do.
    let again = plan_as(Some(&s), &owner(), &mut sim);
    assert!(again.plan.in_sync(), "{}", again.plan.render());
    let status = status_of(&s, &mut sim);
    let parts: Vec<(&str, &str)> = status.conditions.iter().map(|c| (c.type_.as_str(), c.status.as_str())).collect();
    assert_eq!(
        parts,
        [
            ("LoadBalancerReady", "True"),
            ("WafAssociated", "True"),
            ("DnsPublished", "True"),
            ("AlarmsConfigured", "False")
        ]
    );
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
    let plan = lbp::plan(Some(&desired_for(&s, &owner())), &cx(&owner()), &observed).plan;
    assert!(!actions(&plan).contains(&"AssociateWebACL"), "{}", plan.render());
    assert!(plan.waiting.iter().any(|w| w.contains("to become active")), "{:?}", plan.waiting);
}

/// Each out-of-band change, and the one step that repairs it.
#[test]
fn drift_is_repaired_with_exactly_the_missing_step() {
    type Edit = fn(&mut Observed);
    let cases: [(&str, Edit, &[&str]); 6] = [
        ("WAF association removed", |o| o.wafv2.associations.clear(), &["AssociateWebACL"]),
        ("listener rule deleted", |o| o.elbv2.rules.clear(), &["CreateRule"]),
        (
            "health check path changed",
            |o| o.route53.health_checks[0].config.path = Some("/changed".into()),
            &["UpdateHealthCheck"],
        ),
        ("record deleted from the zone", |o| o.route53.records.clear(), &["ChangeResourceRecordSets"]),
        (
            "target group health path changed",
            |o| o.elbv2.target_groups.iter_mut().for_each(|t| t.health.path = Some("/x".into())),
            &["ModifyTargetGroup", "ModifyTargetGroup"],
        ),
        ("Shield protection deleted", |o| o.protections.clear(), &["CreateProtection"]),
    ];
    for (what, edit, want) in cases {
        let (s, mut sim) = converged_example();
        edit(&mut sim.observed);
        let plan = plan_as(Some(&s), &owner(), &mut sim).plan;
        assert_eq!(actions(&plan), want, "{what}:\n{}", plan.render());
        apply_as(&owner(), &mut sim, &plan).unwrap();
        assert!(plan_as(Some(&s), &owner(), &mut sim).plan.in_sync(), "{what}: repaired in one pass");
    }
}

#[test]
fn a_rewritten_record_is_upserted_in_one_batch_and_a_matching_one_never() {
    let (s, mut sim) = converged_example();
    // Route 53 answers names in its own case and with the trailing dot: still a match.
    let record = &mut sim.observed.route53.records[0];
    record.alias_dns_name = record.alias_dns_name.as_ref().map(|d| d.to_uppercase());
    assert!(plan_as(Some(&s), &owner(), &mut sim).plan.in_sync());
    let dualstack = example_with(|v| v["ipAddressType"] = json!("dualstack"));
    let plan = plan_as(Some(&dualstack), &owner(), &mut sim).plan;
    let batches: Vec<&Step> = plan.steps.iter().filter(|s| s.action() == "ChangeResourceRecordSets").collect();
    assert_eq!(batches.len(), 1, "one ChangeBatch per object");
    let Step::Route53(route53::Step::ChangeRecords { changes, .. }) = batches[0] else { unreachable!() };
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
        let partial = Plan { steps, ..Plan::default() };
        apply_as(&owner(), &mut sim, &partial).unwrap();
        converge(Some(&s), &mut sim);
        let o = sim.observe();
        let e = &o.elbv2;
        assert_eq!(
            (o.security_groups.len(), e.target_groups.len(), e.load_balancers.len(), e.listeners.len(), e.rules.len()),
            (1, 2, 1, 2, 1),
            "cut after phase {cut}"
        );
        assert_eq!(
            (o.wafv2.web_acls.len(), o.route53.health_checks.len(), o.route53.records.len(), o.protections.len()),
            (1, 1, 1, 1)
        );
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
            apply_as(&stranger(), &mut sim, &planned.plan).unwrap();
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
    assert!(!lbp::owns_anything(&owner(), &o));
    assert!(lbp::owns_anything(&stranger(), &o));
    assert_eq!(o.elbv2.load_balancers.len(), 1);
    assert!(o.route53.records.is_empty(), "the only record was the first owner's");
}

#[test]
fn teardown_runs_in_reverse_dependency_order_and_leaves_nothing() {
    let (_, mut sim) = converged_example();
    let plan = plan_as(None, &owner(), &mut sim).plan;
    // What AWS makes each wait for: records name the health check and alias the load balancer;
    // target groups are in use until their load balancer is gone.
    let order = [
        ["ChangeResourceRecordSets", "DeleteHealthCheck"],
        ["DeleteHealthCheck", "DeleteLoadBalancer"],
        ["DeleteLoadBalancer", "DeleteTargetGroup"],
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
    // The security group is in use until its load balancer is gone: it waits for that.
    assert!(!actions(&plan).contains(&"DeleteSecurityGroup"), "{}", plan.render());
    let name = &sim.observed.elbv2.load_balancers[0].name;
    let wait = format!("load balancer {name} to release security group sg-1");
    assert!(plan.waiting.contains(&wait), "{:?}", plan.waiting);
    apply_as(&owner(), &mut sim, &plan).unwrap();
    assert_eq!(actions(&plan_as(None, &owner(), &mut sim).plan), ["DeleteSecurityGroup"]);
    converge(None, &mut sim);
    let o = sim.observe();
    assert!(!lbp::owns_anything(&owner(), &o));
    assert!(o.route53.records.is_empty() && o.protections.is_empty() && o.elbv2.listeners.is_empty());
}

#[test]
fn teardown_turns_deletion_protection_off_first() {
    let s = example_with(|v| v["attributes"]["deletionProtection"] = json!(true));
    let mut sim = Sim::new().with_zone("Z0123456789");
    converge(Some(&s), &mut sim);
    let plan = plan_as(None, &owner(), &mut sim).plan;
    assert!(phase_of(&plan, "ModifyLoadBalancerAttributes") < phase_of(&plan, "DeleteLoadBalancer"));
    converge(None, &mut sim);
    assert!(!lbp::owns_anything(&owner(), &sim.observe()));
}

#[test]
fn changing_the_scheme_replaces_the_load_balancer_and_says_so() {
    let (_, mut sim) = converged_example();
    let old = sim.observed.elbv2.load_balancers[0].arn.clone();
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
    let lbs = &o.elbv2.load_balancers;
    assert_eq!(lbs.len(), 1);
    assert_ne!(lbs[0].arn, old);
    assert_eq!(lbs[0].scheme, "internal");
    assert_eq!(o.elbv2.listeners.len(), 2, "listeners recreated on the new load balancer");
    assert_eq!(o.route53.records[0].alias_dns_name.as_deref(), Some(format!("{}.", lbs[0].dns_name).as_str()));
}

#[test]
fn changing_a_target_group_port_replaces_it_after_the_listener_moves() {
    let (_, mut sim) = converged_example();
    let moved = example_with(|v| v["targetGroups"][0]["port"] = json!(8081));
    converge(Some(&moved), &mut sim);
    let o = sim.observe();
    let ports: BTreeSet<Option<u16>> = o.elbv2.target_groups.iter().map(|t| t.port).collect();
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
    assert!(o.wafv2.web_acls.is_empty() && o.route53.health_checks.is_empty() && o.route53.records.is_empty());
    assert_eq!(o.wafv2.associated(&o.elbv2.load_balancers[0].arn), None);
    assert_eq!(o.elbv2.load_balancers.len(), 1);
}

#[test]
fn two_policies_share_a_name_with_their_own_set_identifiers() {
    let east = spec(example());
    let west = example_with(|v| v["dns"]["routing"]["setIdentifier"] = json!("us-west-2"));
    let mut sim = Sim::new().with_zone("Z0123456789");
    converge_as(Some(&east), &owner(), &mut sim, 8);
    converge_as(Some(&west), &stranger(), &mut sim, 8);
    let o = sim.observe();
    let ids: BTreeSet<Option<String>> = o.route53.records.iter().map(|r| r.set_identifier.clone()).collect();
    assert_eq!(ids, BTreeSet::from([Some("us-east-1".into()), Some("us-west-2".into())]));
    converge_as(None, &stranger(), &mut sim, 8);
    let o = sim.observe();
    assert_eq!(o.route53.records.len(), 1);
    assert_eq!(o.route53.records[0].set_identifier.as_deref(), Some("us-east-1"));
}

#[test]
fn a_zone_added_to_the_tier_moves_the_load_balancer_in_place() {
    let (s, mut sim) = converged_example();
    let arn = sim.observed.elbv2.load_balancers[0].arn.clone();
    let mut wider = placement();
    wider.subnet_ids.push("subnet-c".into());
    let d = lbp::desired(&s, &owner(), wider.clone()).unwrap();
    let plan = lbp::plan(Some(&d), &cx(&owner()), &sim.observe()).plan;
    assert_eq!(actions(&plan), ["SetSubnets"], "{}", plan.render());
    sim.apply(&plan).unwrap();
    let o = sim.observe();
    assert_eq!(o.elbv2.load_balancers[0].arn, arn, "not replaced");
    assert_eq!(o.elbv2.load_balancers[0].subnet_ids.len(), 3);
    assert!(lbp::plan(Some(&d), &cx(&owner()), &o).plan.in_sync());
}
