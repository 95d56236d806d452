//! The shared service planners as LoadBalancerPolicy uses them: health checks found by their
//! caller reference, Shield protections someone else made, a web ACL given by ARN, the names the
//! adapter reads by, and the inventory it reads by next time.

mod lb_sim;

use std::collections::BTreeSet;

use lb_sim::Sim;
use lb_sim::fixtures::*;
use pretty_assertions::assert_eq;
use securecart_api::tags::{COMPONENT, OWNER_UID};
use securecart_plan::intent::{token, token_prefix};
use securecart_plan::load_balancer_policy as lbp;
use securecart_plan::owner::ownership_tags;
use securecart_plan::route53::{self, HealthCheck};
use securecart_plan::{Context, InUse, Known, Step, Tags};
use serde_json::json;

#[test]
fn an_untagged_health_check_found_by_the_owners_token_is_adopted_not_duplicated() {
    let (s, mut sim) = converged_example();
    // A crash between CreateHealthCheck and its tagging: the check exists, untagged, with the
    // create intent's token as its caller reference.
    let hc = &mut sim.observed.route53.health_checks[0];
    hc.tags.clear();
    hc.caller_reference = token(&owner().uid, "healthcheck", "{}", "2026-12-01T00:00:00Z");
    let id = hc.id.clone();
    assert_eq!(
        lbp::inventory(&owner(), &sim.observed).iter().filter(|(c, _)| c == "healthcheck").count(),
        1,
        "found, so the open intent is settled and nothing is created again"
    );
    let plan = plan_as(Some(&s), &owner(), &mut sim).plan;
    let [Step::Route53(route53::Step::SetTags { id: tagged, tags, .. })] = plan.steps.as_slice() else {
        panic!("one tag write:\n{}", plan.render())
    };
    assert_eq!(tagged, &id);
    for (k, v) in ownership_tags(&owner(), "healthcheck") {
        assert_eq!(tags.get(&k), Some(&v), "{k}");
    }
    apply_as(&owner(), &mut sim, &plan).unwrap();
    assert!(plan_as(Some(&s), &owner(), &mut sim).plan.in_sync());
    assert_eq!(sim.observed.route53.health_checks.len(), 1);
}

#[test]
fn an_untagged_health_check_goes_at_teardown_and_another_owners_is_never_adopted() {
    let (_, mut sim) = converged_example();
    let stray = |id: &str, reference: String| HealthCheck {
        id: id.into(),
        caller_reference: reference,
        config: sim.observed.route53.health_checks[0].config.clone(),
        tags: Tags::new(),
    };
    let mine = stray("hc-mine", format!("{}leftover", token_prefix(&owner().uid)));
    let theirs = stray("hc-theirs", format!("{}leftover", token_prefix(&stranger().uid)));
    // Made by an earlier release: `<uid>-<hash>`.
    let legacy = stray("hc-legacy", format!("{}-0a1b2c3d", owner().uid));
    sim.observed.route53.health_checks.extend([mine, theirs, legacy]);
    converge(None, &mut sim);
    let left: Vec<&str> = sim.observed.route53.health_checks.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(left, ["hc-theirs"]);
}

#[test]
fn a_shield_protection_someone_else_made_counts_and_is_never_deleted() {
    let (s, mut sim) = converged_example();
    sim.observed.protections[0].tags = Tags::from([("team".into(), "security".into())]);
    let plan = plan_as(Some(&s), &owner(), &mut sim).plan;
    assert!(plan.in_sync(), "the load balancer is protected:\n{}", plan.render());
    let plans = converge(None, &mut sim);
    assert!(plans.iter().all(|p| !actions(p).contains(&"DeleteProtection")), "not the owner's to delete");
    assert_eq!(sim.observed.protections.len(), 1);
    assert!(!lbp::owns_anything(&owner(), &sim.observed));
}

#[test]
fn a_replaced_load_balancers_protection_goes_and_its_successor_is_protected() {
    let (_, mut sim) = converged_example();
    let internal = example_with(|v| v["scheme"] = json!("internal"));
    converge(Some(&internal), &mut sim);
    let lb = &sim.observed.elbv2.load_balancers[0];
    assert_eq!(lb.scheme, "internal");
    let protected: Vec<&str> = sim.observed.protections.iter().map(|p| p.resource_arn.as_str()).collect();
    assert_eq!(protected, [lb.arn.as_str()]);
}

#[test]
fn a_web_acl_given_by_arn_is_associated_never_created_nor_deleted() {
    let shared = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shared/0a1b";
    let s = example_with(|v| v["waf"] = json!({"webAclArn": shared}));
    let mut sim = Sim::new().with_zone("Z0123456789");
    let plans = converge(Some(&s), &mut sim);
    assert!(plans.iter().all(|p| !actions(p).contains(&"CreateWebACL")));
    let lb = sim.observed.elbv2.load_balancers[0].arn.clone();
    assert_eq!(sim.observed.wafv2.associated(&lb), Some(shared));
    let status = status_of(&s, &mut sim);
    assert_eq!(status.web_acl_arn.as_deref(), Some(shared));
    assert!(status.conditions.iter().any(|c| c.type_ == "WafAssociated" && c.status == "True"));
    let teardown = converge(None, &mut sim);
    assert!(teardown.iter().any(|p| actions(p).contains(&"DisassociateWebACL")));
    assert!(teardown.iter().all(|p| !actions(p).contains(&"DeleteWebACL")));
}

#[test]
fn the_names_observation_reads_by_are_the_names_the_plan_creates() {
    let s = spec(example());
    let d = desired_for(&s, &owner());
    assert_eq!(lbp::load_balancer_name(&s, &owner()), d.elbv2.load_balancer.name);
    let created: Vec<String> = d.elbv2.target_groups.iter().map(|t| t.aws_name.clone()).collect();
    assert_eq!(lbp::target_group_names(&s, &owner(), &placement().vpc_id), created);
    assert!(lbp::load_balancer_name(&s, &owner()).len() <= 32);
    assert_ne!(lbp::load_balancer_name(&s, &owner()), lbp::load_balancer_name(&s, &stranger()));
}

#[test]
fn the_inventory_names_every_part_so_the_next_reconcile_reads_by_id() {
    let (_, sim) = converged_example();
    let components: BTreeSet<String> = lbp::inventory(&owner(), &sim.observed).into_iter().map(|(c, _)| c).collect();
    let want = [
        "healthcheck",
        "lb",
        "listener/443",
        "listener/80",
        "rule/443/10",
        "sg",
        "shield",
        "tg/checkout",
        "tg/web",
        "webacl",
    ];
    assert_eq!(components, want.iter().map(|c| c.to_string()).collect());
}

#[test]
fn of_two_load_balancers_alike_the_one_the_status_names_is_kept() {
    let (s, mut sim) = converged_example();
    let mut twin = sim.observed.elbv2.load_balancers[0].clone();
    let first = twin.arn.clone();
    twin.arn = "arn:lb-0".into();
    twin.dns_name = "twin.elb.example".into();
    sim.observed.elbv2.load_balancers.push(twin);
    assert!(sim.observed.elbv2.load_balancers[1].tags.get(COMPONENT).is_some_and(|c| c == "lb"));
    assert!(sim.observed.elbv2.load_balancers[1].tags.contains_key(OWNER_UID));
    let known = Known::from([("lb".to_string(), first)]);
    let in_use = InUse::new();
    let owner = owner();
    let cx = Context { owner: &owner, known: &known, in_use: &in_use, chosen: None };
    let plan = lbp::plan(Some(&desired_for(&s, &owner)), &cx, &sim.observe()).plan;
    let deletes: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Elbv2(securecart_plan::elbv2::Step::DeleteLoadBalancer { arn }) => Some(arn.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(deletes, ["arn:lb-0"], "{}", plan.render());
}
