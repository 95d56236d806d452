//! Folding a LoadBalancerPolicy's executed steps into its model: the engine plans the next pass
//! against the folded model instead of reading everything back, so the model must be what AWS
//! (here the simulator) holds after each pass, and a policy must converge on it.

mod lb_sim;

use lb_sim::Sim;
use lb_sim::fixtures::*;
use securecart_api::LoadBalancerPolicySpec;
use securecart_plan::elbv2;
use securecart_plan::load_balancer_policy::{self as lbp, Observed};
use securecart_plan::plan::PlanStep;
use securecart_plan::route53::{self, HealthCheckConfig};
use securecart_plan::step::fields;
use securecart_plan::{Output, Step, Tags};

/// The example without WAF and Shield: everything it makes can be folded.
fn foldable_example() -> LoadBalancerPolicySpec {
    example_with(|v| {
        let o = v.as_object_mut().expect("an object");
        o.remove("waf");
        o.remove("shield");
    })
}

/// The model with every load balancer's state set aside: the simulator turns them active when
/// it is observed, which a folded model (that did not look) cannot know.
fn stateless(o: &Observed) -> Observed {
    let mut o = o.clone();
    o.elbv2.load_balancers.iter_mut().for_each(|l| l.state.clear());
    o
}

struct Run {
    /// Reconciles, each starting with an observation, the last one planning nothing.
    reconciles: usize,
    /// How many times everything was read: once per reconcile, and after each unfoldable pass.
    observations: usize,
    passes: usize,
    /// Passes with a step that cannot be folded (Shield, alarms).
    unfoldable: usize,
    model: Observed,
}

/// Reconciles as the engine does until one plans nothing: each observes, then plans and applies
/// pass after pass, folding what was executed when the kind can, else observing again. After
/// every folded pass the model must equal what the simulator holds.
fn converge_folding(s: &LoadBalancerPolicySpec, sim: &mut Sim) -> Run {
    let who = owner();
    let desired = desired_for(s, &who);
    let mut run = Run { reconciles: 0, observations: 0, passes: 0, unfoldable: 0, model: Observed::default() };
    for _ in 0..4 {
        run.reconciles += 1;
        run.observations += 1;
        run.model = sim.observe();
        let mut passes = 0;
        loop {
            let planned = lbp::plan(Some(&desired), &cx(&who), &run.model);
            if planned.plan.is_empty() {
                break;
            }
            assert!(passes < 8, "no end to the passes: {}", planned.plan.render());
            apply_as(&who, sim, &planned.plan).unwrap_or_else(|e| panic!("plan rejected: {e}"));
            passes += 1;
            let executed: Vec<(&Step, &Output)> = sim.outputs.iter().map(|(s, o)| (s, o)).collect();
            if lbp::foldable(planned.plan.steps.iter()) && lbp::absorb(&mut run.model, &executed) {
                assert_eq!(stateless(&run.model), stateless(&sim.observed), "folded model after pass {passes}");
            } else {
                run.unfoldable += usize::from(!lbp::foldable(planned.plan.steps.iter()));
                run.model = sim.observe();
                run.observations += 1;
            }
        }
        run.passes += passes;
        if passes == 0 {
            return run;
        }
    }
    panic!("no convergence in 4 reconciles");
}

#[test]
fn a_policy_without_shield_converges_reading_once_per_reconcile() {
    let s = foldable_example();
    let mut sim = Sim::new().with_zone("Z0123456789");
    let run = converge_folding(&s, &mut sim);
    assert_eq!((run.reconciles, run.observations), (2, 2), "every pass was folded; the second reconcile confirms");
    assert!(run.passes >= 2, "the load balancer, then what needs it: {} passes", run.passes);
    // And it made what the layout has: the records alias the load balancer just made.
    let lb = &sim.observed.elbv2.load_balancers[0];
    let record = sim.observed.route53.records.first().expect("a record");
    assert_eq!(record.alias_dns_name.as_deref().map(|d| route53::same_host(d, &lb.dns_name)), Some(true));
    assert_eq!(sim.observed.route53.health_checks.len(), 1);
}

#[test]
fn the_example_with_waf_and_shield_reads_back_only_the_passes_with_shield() {
    let s = spec(example());
    let mut sim = Sim::new().with_zone("Z0123456789");
    let run = converge_folding(&s, &mut sim);
    assert!(run.unfoldable > 0, "Shield is in a plan");
    assert!(run.unfoldable < run.passes, "the passes without Shield are folded, WAF included");
    assert_eq!(run.observations, run.reconciles + run.unfoldable, "only the passes with Shield are read back");
    assert!(!sim.observed.wafv2.associations.is_empty(), "the web ACL is associated once the load balancer is active");
    assert!(!run.model.protections.is_empty(), "the model holds the protection it read back");
}

#[test]
fn a_network_load_balancer_converges_on_its_folded_model() {
    let s = example_with(|v| {
        let o = v.as_object_mut().expect("an object");
        for key in ["waf", "shield", "dns", "allowedCidrs"] {
            o.remove(key);
        }
        o.insert("type".into(), "Network".into());
        o.insert(
            "targetGroups".into(),
            serde_json::json!([{"name": "tcp", "protocol": "TCP", "port": 7000, "targetType": "ip"}]),
        );
        o.insert(
            "listeners".into(),
            serde_json::json!([{"port": 7000, "protocol": "TCP", "defaultTargetGroup": "tcp"}]),
        );
        o.remove("attributes");
    });
    let mut sim = Sim::new();
    let run = converge_folding(&s, &mut sim);
    assert_eq!((run.reconciles, run.observations), (2, 2));
    assert_eq!(sim.observed.elbv2.listeners.len(), 1);
}

fn create_health_check() -> Step {
    let config = HealthCheckConfig {
        protocol: "HTTPS".into(),
        fqdn: "lb.example".into(),
        port: 443,
        path: Some("/healthz".into()),
        failure_threshold: 3,
        request_interval: 30,
    };
    let tags = securecart_plan::owner::ownership_tags(&owner(), "healthcheck");
    Step::Route53(route53::Step::CreateHealthCheck { component: "healthcheck".into(), config, tags })
}

#[test]
fn a_health_check_whose_tagging_failed_is_folded_untagged_and_tagged_by_the_next_pass() {
    let step = create_health_check();
    let token = format!("{}hc", securecart_plan::intent::token_prefix(&owner().uid));
    let answer = Output::id("hc-1").with(fields::CALLER_REFERENCE, Some(token)).with(fields::UNTAGGED, Some("true"));
    let mut model = Observed::default();
    assert!(lbp::absorb(&mut model, &[(&step, &answer)]));
    assert_eq!(model.route53.health_checks[0].tags, Tags::new(), "untagged, as it is");
    // The owner's caller reference makes it the owner's: tagged, not made again.
    let s = foldable_example();
    let mut sim = Sim::new().with_zone("Z0123456789");
    let mut run = converge_folding(&s, &mut sim);
    run.model.route53.health_checks[0].tags = Tags::new();
    let planned = lbp::plan(Some(&desired_for(&s, &owner())), &cx(&owner()), &run.model);
    let steps: Vec<&str> = planned.plan.steps.iter().map(|s| s.action()).collect();
    assert!(steps.contains(&"SetTags"), "the check is tagged: {steps:?}");
    assert!(!steps.contains(&"CreateHealthCheck"), "and not made again: {steps:?}");
}

#[test]
fn what_cannot_be_folded_is_read_back() {
    let delete = Step::Elbv2(elbv2::Step::DeleteLoadBalancer { arn: "arn:lb".into() });
    assert!(!lbp::foldable([delete].iter()), "a deleted load balancer takes its WAF association along");
    let shield = Step::Shield(securecart_plan::shield::Step::DeleteProtection { id: "p-1".into() });
    assert!(!lbp::foldable([shield].iter()), "a protection's ARN is not in Shield's answer");
    assert!(lbp::foldable(waf_step().iter()));
    // A load balancer whose answer lacks its DNS name cannot be aliased from the model.
    let s = foldable_example();
    let mut sim = Sim::new().with_zone("Z0123456789");
    apply_as(&owner(), &mut sim, &spec_plan(&s)).expect("the first plan applies");
    let mut outputs = sim.outputs.clone();
    let executed = |outputs: &[(Step, Output)]| {
        let mut model = Observed::default();
        let pairs: Vec<(&Step, &Output)> = outputs.iter().map(|(s, o)| (s, o)).collect();
        lbp::absorb(&mut model, &pairs)
    };
    assert!(executed(&outputs), "the full answers fold");
    let lb = outputs.iter_mut().find(|(s, _)| s.action() == "CreateLoadBalancer").expect("a load balancer made");
    lb.1.fields.remove(fields::DNS_NAME);
    assert!(!executed(&outputs));
}

fn spec_plan(s: &LoadBalancerPolicySpec) -> securecart_plan::Plan<Step> {
    lbp::plan(Some(&desired_for(s, &owner())), &cx(&owner()), &Observed::default()).plan
}

/// A WAF step of the full example's first plan.
fn waf_step() -> Option<Step> {
    spec_plan(&spec(example())).steps.into_iter().find(|s| matches!(s, Step::Wafv2(_)))
}
