//! What the LoadBalancerPolicy tests share: owners, the example spec, and plan -> apply
//! loops against the simulator.

use std::collections::BTreeSet;

use securecart_api::LoadBalancerPolicySpec;
use securecart_plan::intent::token_prefix;
use securecart_plan::load_balancer_policy::{self as lbp, Desired, Placement, Planned};
use securecart_plan::owner::component;
use securecart_plan::plan::{Plan, PlanStep};
use securecart_plan::{Context, InUse, Known, Owner, Step};
use serde_json::{Value, json};

use super::Sim;

pub fn owner() -> Owner {
    Owner {
        kind: "LoadBalancerPolicy".into(),
        namespace: "platform".into(),
        name: "storefront".into(),
        uid: "u-lb".into(),
    }
}

pub fn stranger() -> Owner {
    Owner {
        kind: "LoadBalancerPolicy".into(),
        namespace: "other".into(),
        name: "storefront".into(),
        uid: "u-other".into(),
    }
}

static NOTHING_KNOWN: Known = Known::new();
static NOT_IN_USE: InUse = InUse::new();

/// What the engine hands the planner, with nothing recorded and nothing held.
pub fn cx(owner: &Owner) -> Context<'_> {
    Context { owner, known: &NOTHING_KNOWN, in_use: &NOT_IN_USE, chosen: None }
}

pub fn placement() -> Placement {
    Placement {
        region: "us-east-1".into(),
        vpc_id: "vpc-1".into(),
        subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
    }
}

/// The example.
pub fn example() -> Value {
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

pub fn spec(v: Value) -> LoadBalancerPolicySpec {
    serde_json::from_value(v).expect("test spec deserializes")
}

pub fn example_with(f: impl FnOnce(&mut Value)) -> LoadBalancerPolicySpec {
    let mut v = example();
    f(&mut v);
    spec(v)
}

pub fn desired_for(s: &LoadBalancerPolicySpec, who: &Owner) -> Desired {
    lbp::desired(s, who, placement()).expect("valid spec")
}

pub fn plan_as(s: Option<&LoadBalancerPolicySpec>, who: &Owner, sim: &mut Sim) -> Planned {
    let observed = sim.observe();
    let d = s.map(|s| desired_for(s, who));
    lbp::plan(d.as_ref(), &cx(who), &observed)
}

/// Applies `plan` as `who`'s engine would (its creates carry its tokens).
pub fn apply_as(who: &Owner, sim: &mut Sim, plan: &Plan<Step>) -> Result<(), String> {
    sim.token_prefix = token_prefix(&who.uid);
    sim.apply(plan)
}

/// Plans and applies until a plan has no steps; returns the plans that ran.
pub fn converge_as(s: Option<&LoadBalancerPolicySpec>, who: &Owner, sim: &mut Sim, max: usize) -> Vec<Plan<Step>> {
    let mut plans = Vec::new();
    for _ in 0..max {
        let planned = plan_as(s, who, sim);
        if planned.plan.is_empty() {
            return plans;
        }
        apply_as(who, sim, &planned.plan).unwrap_or_else(|e| panic!("plan rejected: {e}\n{}", planned.plan.render()));
        plans.push(planned.plan);
    }
    panic!("no convergence in {max} passes:\n{}", plans.last().map(|p| p.render()).unwrap_or_default());
}

pub fn converge(s: Option<&LoadBalancerPolicySpec>, sim: &mut Sim) -> Vec<Plan<Step>> {
    converge_as(s, &owner(), sim, 8)
}

pub fn converged_example() -> (LoadBalancerPolicySpec, Sim) {
    let s = spec(example());
    let mut sim = Sim::new().with_zone("Z0123456789");
    converge(Some(&s), &mut sim);
    (s, sim)
}

/// The owner's status at generation 1, from what the simulator holds.
pub fn status_of(s: &LoadBalancerPolicySpec, sim: &mut Sim) -> securecart_api::LoadBalancerPolicyStatus {
    let epoch = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    lbp::status(&desired_for(s, &owner()), &sim.observe(), Some(1), &[], &epoch)
}

pub fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

/// The dependency level of the first `action` step in `plan`.
pub fn phase_of(plan: &Plan<Step>, action: &str) -> usize {
    let i = plan.steps.iter().position(|s| s.action() == action).unwrap_or_else(|| panic!("{action} in plan"));
    plan.levels()[i]
}

pub fn components_of<T>(items: &[T], tags: impl Fn(&T) -> &securecart_plan::Tags) -> BTreeSet<String> {
    items.iter().filter_map(|i| component(tags(i)).map(str::to_string)).collect()
}
