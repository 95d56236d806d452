//! LoadBalancerPolicy `spec.alarms`: the CloudWatch alarms planned per spec and load balancer
//! type, run against the simulator (which describes alarms back the way CloudWatch fills them in),
//! the normalised comparison that keeps a converged alarm from being rewritten, replacement,
//! removal, teardown, other owners' alarms, and the fields refused.

mod lb_sim;

use lb_sim::fixtures::*;
use lb_sim::{Sim, described};
use pretty_assertions::assert_eq;
use securecart_api::LoadBalancerPolicySpec;
use securecart_plan::cloudwatch::{self as cw, Alarm, AlarmConfig, Measure, Step as CwStep};
use securecart_plan::load_balancer_policy::{self as lbp, Placement};
use securecart_plan::plan::{Location, Plan};
use securecart_plan::{Owner, Step};
use serde_json::{Value, json};

const HOME: &str = "af-south-1";
const TOPIC: &str = "arn:aws:sns:af-south-1:123456789012:oncall";

fn placement_af() -> Placement {
    Placement { region: HOME.into(), ..placement() }
}

fn with_alarms(mut v: Value) -> Value {
    v["alarms"] = json!({
        "actions": [TOPIC, "arn:aws:sns:af-south-1:123456789012:pager"],
        "targetResponseTime": {"statistic": "p99", "thresholdSeconds": 1.5, "evaluationPeriods": 5, "datapointsToAlarm": 3},
        "http5xxPercent": {"threshold": 5},
        "unhealthyHosts": {"threshold": 0},
        "healthCheck": {},
    });
    v
}

fn alarmed() -> LoadBalancerPolicySpec {
    spec(with_alarms(example()))
}

fn plan_af(s: Option<&LoadBalancerPolicySpec>, who: &Owner, sim: &mut Sim) -> Plan<Step> {
    let observed = sim.observe();
    let d = s.map(|s| lbp::desired(s, who, placement_af()).expect("valid spec"));
    lbp::plan(d.as_ref(), &cx(who), &observed).plan
}

fn converge_af(s: Option<&LoadBalancerPolicySpec>, who: &Owner, sim: &mut Sim) -> Vec<Plan<Step>> {
    sim.home_region = HOME.into();
    let mut plans = Vec::new();
    for _ in 0..10 {
        let plan = plan_af(s, who, sim);
        if plan.is_empty() {
            return plans;
        }
        apply_as(who, sim, &plan).unwrap_or_else(|e| panic!("plan rejected: {e}\n{}", plan.render()));
        plans.push(plan);
    }
    panic!("no convergence:\n{}", plans.last().map(|p| p.render()).unwrap_or_default());
}

fn converged() -> (LoadBalancerPolicySpec, Sim) {
    let s = alarmed();
    let mut sim = Sim::new().with_zone("Z0123456789");
    converge_af(Some(&s), &owner(), &mut sim);
    (s, sim)
}

fn alarm<'a>(sim: &'a Sim, component: &str) -> &'a Alarm {
    let name = lbp::alarms::alarm_name(&owner(), component);
    sim.observed.cloudwatch.alarms.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("alarm {name}"))
}

fn dims(a: &Alarm) -> Vec<(String, String)> {
    match &a.config.measure {
        Measure::Metric { metric, .. } => metric.dimensions.clone().into_iter().collect(),
        Measure::Math(q) => q
            .iter()
            .filter_map(|q| q.metric.as_ref())
            .flat_map(|(m, _, _)| m.dimensions.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

fn cloudwatch_steps(plan: &Plan<Step>) -> Vec<&CwStep> {
    plan.steps
        .iter()
        .filter_map(|s| match s {
            Step::CloudWatch(c) => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn an_application_load_balancer_gets_every_alarm_on_its_own_dimensions() {
    let (_, sim) = converged();
    let lb = &sim.observed.elbv2.load_balancers[0];
    let lb_dim = lb.arn.split_once(":loadbalancer/").unwrap().1.to_string();
    assert!(lb_dim.starts_with("app/"), "{lb_dim}");
    let names: Vec<&str> = sim.observed.cloudwatch.alarms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names.len(), 5, "latency, 5xx, unhealthy per target group (2), health check: {names:?}");

    let latency = alarm(&sim, "alarm/latency");
    assert_eq!(latency.region, HOME);
    assert_eq!(dims(latency), [("LoadBalancer".to_string(), lb_dim.clone())]);
    match &latency.config.measure {
        Measure::Metric { metric, extended_statistic, statistic, period, .. } => {
            assert_eq!(
                (metric.namespace.as_str(), metric.metric_name.as_str()),
                ("AWS/ApplicationELB", "TargetResponseTime")
            );
            assert_eq!((extended_statistic.as_deref(), statistic.as_deref(), *period), (Some("p99.0"), None, 60));
        }
        m => panic!("{m:?}"),
    }
    assert_eq!((latency.config.threshold, latency.config.evaluation_periods), (1.5, 5));
    assert_eq!(latency.config.datapoints_to_alarm, Some(3));
    assert_eq!(latency.config.comparison_operator, "GreaterThanThreshold");
    let mut actions = latency.config.ok_actions.clone();
    actions.sort();
    assert_eq!(actions, ["arn:aws:sns:af-south-1:123456789012:oncall", "arn:aws:sns:af-south-1:123456789012:pager"]);

    let five = alarm(&sim, "alarm/5xx");
    let Measure::Math(q) = &five.config.measure else { panic!("metric math") };
    let expr: Vec<&str> = q.iter().filter_map(|q| q.expression.as_deref()).collect();
    assert_eq!(expr, ["100 * (elb5xx + target5xx) / requests"]);
    let metrics: Vec<&str> =
        q.iter().filter_map(|q| q.metric.as_ref().map(|(m, _, _)| m.metric_name.as_str())).collect();
    assert_eq!(metrics.len(), 3);
    for m in ["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount"] {
        assert!(metrics.contains(&m), "{m} in {metrics:?}");
    }
    assert_eq!(dims(five), [("LoadBalancer".to_string(), lb_dim.clone())]);

    for tg in ["web", "checkout"] {
        let a = alarm(&sim, &format!("alarm/unhealthy/{tg}"));
        let arn = &sim
            .observed
            .elbv2
            .target_groups
            .iter()
            .find(|t| t.tags.get("net.securecart.io/component").map(String::as_str) == Some(&format!("tg/{tg}")))
            .unwrap()
            .arn;
        let tg_dim = arn.rsplit_once(':').unwrap().1.to_string();
        assert!(tg_dim.starts_with("targetgroup/"));
        assert_eq!(dims(a), [("LoadBalancer".to_string(), lb_dim.clone()), ("TargetGroup".to_string(), tg_dim)]);
        assert_eq!(a.config.threshold, 0.0);
    }

    let hc = alarm(&sim, "alarm/healthcheck");
    assert_eq!(hc.region, "us-east-1", "Route 53 publishes its metrics in us-east-1");
    let hc_id = sim.observed.route53.health_checks[0].id.clone();
    assert_eq!(dims(hc), [("HealthCheckId".to_string(), hc_id)]);
    assert_eq!(hc.config.comparison_operator, "LessThanThreshold");
    for a in &sim.observed.cloudwatch.alarms {
        let tags = a.tags.as_ref().unwrap();
        assert_eq!(tags.get("net.securecart.io/owner-uid").map(String::as_str), Some("u-lb"), "{}", a.name);
        assert_eq!(tags.get("team").map(String::as_str), Some("storefront"));
    }
}

#[test]
fn the_health_check_alarm_runs_in_us_east_1_and_the_others_at_home() {
    let s = alarmed();
    let mut sim = Sim::new().with_zone("Z0123456789");
    let plans = converge_af(Some(&s), &owner(), &mut sim);
    let puts: Vec<(String, Option<Location>)> = plans
        .iter()
        .flat_map(|p| cloudwatch_steps(p).into_iter().cloned())
        .filter_map(|s| match s {
            CwStep::PutAlarm { component, location, .. } => Some((component, location)),
            _ => None,
        })
        .collect();
    assert_eq!(puts.len(), 5, "each alarm written once: {puts:?}");
    for (component, location) in puts {
        let want = (component == "alarm/healthcheck").then(|| Location::region("us-east-1"));
        assert_eq!(location, want, "{component}");
    }
    // Alarms are written after what they watch, in the plan that can name it.
    let first = &plans[0];
    assert!(cloudwatch_steps(first).is_empty(), "nothing to watch yet:\n{}", first.render());
    assert!(first.waiting.iter().any(|w| w.contains("before alarm")), "{:?}", first.waiting);
}

#[test]
fn a_converged_policy_rewrites_no_alarm() {
    let (s, mut sim) = converged();
    let writes = sim.alarm_writes;
    for _ in 0..3 {
        let plan = plan_af(Some(&s), &owner(), &mut sim);
        assert!(plan.is_empty(), "{}", plan.render());
    }
    assert_eq!(sim.alarm_writes, writes);
}

/// What CloudWatch may say about an alarm the controller wrote, each of which must read as
/// converged (no step); and real differences, each of which must rewrite it (one step).
#[test]
fn normalisation_table() {
    let (s, sim) = converged();
    let owner = owner();
    type Edit = fn(&mut AlarmConfig);
    let same: Vec<(&str, Edit)> = vec![
        ("as written", |_| {}),
        ("ActionsEnabled left out (default true)", |c| c.actions_enabled = None),
        ("TreatMissingData left out for missing", |c| {
            if c.treat_missing_data.as_deref() == Some("missing") {
                c.treat_missing_data = None
            }
        }),
        ("DatapointsToAlarm left out when equal to EvaluationPeriods", |c| {
            if c.datapoints_to_alarm == Some(c.evaluation_periods) {
                c.datapoints_to_alarm = None
            }
        }),
        ("actions in another order", |c| {
            c.alarm_actions.reverse();
            c.ok_actions.reverse()
        }),
        ("threshold as float text", |c| c.threshold = format!("{:.15}", c.threshold).parse().unwrap()),
        ("threshold off by float noise", |c| c.threshold += 1e-12),
        ("a unit added", |c| {
            if let Measure::Metric { unit, .. } = &mut c.measure {
                *unit = Some("Seconds".into())
            }
        }),
        ("percentile as p99 rather than p99.0", |c| {
            if let Measure::Metric { extended_statistic: Some(p), .. } = &mut c.measure {
                *p = p.trim_end_matches(".0").to_string()
            }
        }),
        ("percentile as p99.00", |c| {
            if let Measure::Metric { extended_statistic: Some(p), .. } = &mut c.measure {
                *p = format!("{}.00", p.trim_end_matches(".0"))
            }
        }),
        ("math queries reordered, ReturnData left out", |c| {
            if let Measure::Math(q) = &mut c.measure {
                q.reverse();
                q.iter_mut().filter(|q| q.return_data == Some(true)).for_each(|q| q.return_data = None);
            }
        }),
        ("empty label vs none", |c| {
            if let Measure::Math(q) = &mut c.measure {
                q.iter_mut().filter(|q| q.label.is_none()).for_each(|q| q.label = Some(String::new()));
            }
        }),
        ("empty insufficient-data actions", |c| c.insufficient_data_actions = Vec::new()),
    ];
    let differ: Vec<(&str, Edit)> = vec![
        ("threshold changed", |c| c.threshold += 0.25),
        ("evaluation periods changed", |c| c.evaluation_periods += 1),
        ("an action removed", |c| {
            c.alarm_actions.pop();
        }),
        ("actions disabled", |c| c.actions_enabled = Some(false)),
        ("treat missing data changed", |c| c.treat_missing_data = Some("ignore".into())),
        ("datapoints changed", |c| c.datapoints_to_alarm = Some(1)),
        ("operator changed", |c| c.comparison_operator = "GreaterThanOrEqualToThreshold".into()),
        ("dimension changed", |c| match &mut c.measure {
            Measure::Metric { metric, .. } => {
                metric.dimensions.insert("LoadBalancer".into(), "app/other/1".into());
            }
            Measure::Math(q) => {
                if let Some((m, _, _)) = q[0].metric.as_mut() {
                    m.dimensions.insert("LoadBalancer".into(), "app/other/1".into());
                }
            }
        }),
        ("period changed", |c| match &mut c.measure {
            Measure::Metric { period, .. } => *period = 300,
            Measure::Math(q) => {
                if let Some((_, p, _)) = q[0].metric.as_mut() {
                    *p = 300
                }
            }
        }),
        ("description changed", |c| c.description = Some("edited by hand".into())),
    ];
    let components = ["alarm/latency", "alarm/5xx", "alarm/unhealthy/web", "alarm/healthcheck"];
    for (case, edit) in
        same.iter().map(|(c, e)| (c, e, 0)).chain(differ.iter().map(|(c, e)| (c, e, 1))).map(|(c, e, n)| ((c, n), e))
    {
        for component in components {
            let mut sim2 = Sim::new();
            sim2.observed = sim.observed.clone();
            let name = lbp::alarms::alarm_name(&owner, component);
            let a = sim2.observed.cloudwatch.alarms.iter_mut().find(|a| a.name == name).unwrap();
            let before = a.config.clone();
            edit(&mut a.config);
            if case.1 == 1 && a.config == before {
                continue; // the edit does not apply to this alarm's shape
            }
            let plan = plan_af(Some(&s), &owner, &mut sim2);
            let puts: Vec<&CwStep> = cloudwatch_steps(&plan)
                .into_iter()
                .filter(|s| matches!(s, CwStep::PutAlarm { exists: true, .. }))
                .collect();
            assert_eq!(puts.len(), case.1, "{} on {component}:\n{}", case.0, plan.render());
            assert_eq!(plan.steps.len(), case.1, "{} on {component}:\n{}", case.0, plan.render());
        }
    }
}

#[test]
fn the_simulator_describes_alarms_unlike_how_they_were_written() {
    // The table above is only meaningful if convergence goes through CloudWatch's spelling.
    let (_, sim) = converged();
    let latency = alarm(&sim, "alarm/latency");
    assert!(matches!(&latency.config.measure, Measure::Metric { unit: Some(_), .. }));
    let unhealthy = alarm(&sim, "alarm/unhealthy/web");
    assert_eq!(unhealthy.config.treat_missing_data, None);
    assert_eq!(unhealthy.config.datapoints_to_alarm, None);
    assert_eq!(described(&unhealthy.config), {
        let mut c = unhealthy.config.clone();
        c.alarm_actions.reverse();
        c
    });
}

#[test]
fn a_replaced_load_balancer_takes_its_alarms_along() {
    let (s, mut sim) = converged();
    let old_lb = sim.observed.elbv2.load_balancers[0].arn.clone();
    let names_before: Vec<String> = sim.observed.cloudwatch.alarms.iter().map(|a| a.name.clone()).collect();
    let mut v = with_alarms(example());
    v["scheme"] = json!("internal");
    let internal = spec(v);
    let plans = converge_af(Some(&internal), &owner(), &mut sim);
    let updates: Vec<String> = plans
        .iter()
        .flat_map(|p| cloudwatch_steps(p).into_iter().cloned())
        .filter_map(|s| match s {
            CwStep::PutAlarm { component, exists: true, .. } => Some(component),
            CwStep::PutAlarm { component, exists: false, .. } => panic!("{component} created anew"),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 4, "every load balancer alarm updated, the health check's not: {updates:?}");
    let new_lb = sim.observed.elbv2.load_balancers.iter().find(|l| l.arn != old_lb).expect("the replacement");
    assert_eq!(sim.observed.elbv2.load_balancers.len(), 1, "the old one is gone");
    let new_dim = new_lb.arn.split_once(":loadbalancer/").unwrap().1;
    for c in ["alarm/latency", "alarm/5xx", "alarm/unhealthy/web"] {
        assert!(dims(alarm(&sim, c)).iter().any(|(k, v)| k == "LoadBalancer" && v == new_dim), "{c}");
    }
    let names_after: Vec<String> = sim.observed.cloudwatch.alarms.iter().map(|a| a.name.clone()).collect();
    assert_eq!(names_before, names_after, "same names");
    let _ = s;
}

#[test]
fn a_network_load_balancer_watches_unhealthy_hosts_in_its_namespace() {
    let nlb = spec(json!({
        "vpcTierRef": {"name": "shop"}, "type": "Network", "tier": "public", "allowedCidrs": ["10.0.0.0/8"],
        "targetGroups": [{"name": "tcp", "protocol": "TCP", "port": 5432}],
        "listeners": [{"port": 5432, "protocol": "TCP", "defaultTargetGroup": "tcp"}],
        "alarms": {"unhealthyHosts": {"threshold": 1, "evaluationPeriods": 3}},
    }));
    let mut sim = Sim::new();
    converge_af(Some(&nlb), &owner(), &mut sim);
    assert_eq!(sim.observed.cloudwatch.alarms.len(), 1);
    let a = alarm(&sim, "alarm/unhealthy/tcp");
    let Measure::Metric { metric, statistic, .. } = &a.config.measure else { panic!() };
    assert_eq!((metric.namespace.as_str(), metric.metric_name.as_str()), ("AWS/NetworkELB", "UnHealthyHostCount"));
    assert_eq!(statistic.as_deref(), Some("Maximum"));
    assert!(dims(a)[0].1.starts_with("net/"), "{:?}", dims(a));
    assert_eq!((a.config.threshold, a.config.evaluation_periods), (1.0, 3));
}

#[test]
fn removing_the_block_or_one_alarm_deletes_those_alarms() {
    let (_, mut sim) = converged();
    let mut v = with_alarms(example());
    v["alarms"].as_object_mut().unwrap().remove("http5xxPercent");
    v["alarms"].as_object_mut().unwrap().remove("healthCheck");
    converge_af(Some(&spec(v)), &owner(), &mut sim);
    let left: Vec<String> = sim.observed.cloudwatch.alarms.iter().map(|a| a.name.clone()).collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(!left.contains(&lbp::alarms::alarm_name(&owner(), "alarm/5xx")));
    assert!(
        sim.log
            .iter()
            .any(|l| l.starts_with("DeleteAlarms") && l.contains("healthcheck") && l.contains("in us-east-1")),
        "{:#?}",
        sim.log
    );

    converge_af(Some(&spec(example())), &owner(), &mut sim);
    assert!(sim.observed.cloudwatch.alarms.is_empty());
    assert!(!sim.observed.elbv2.load_balancers.is_empty(), "only the alarms went");
}

fn foreign(sim: &Sim, name: &str, region: &str, uid: Option<&str>) -> Alarm {
    let mut a = sim.observed.cloudwatch.alarms[0].clone();
    a.name = name.into();
    a.region = region.into();
    a.arn = format!("arn:aws:cloudwatch:{region}:123456789012:alarm:{name}");
    a.tags = Some(uid.map(|u| [("net.securecart.io/owner-uid".to_string(), u.to_string())].into()).unwrap_or_default());
    a
}

#[test]
fn teardown_deletes_only_the_owners_alarms() {
    let (_, mut sim) = converged();
    let theirs = foreign(&sim, "someone-elses", HOME, Some("u-other"));
    let untagged = foreign(&sim, "untagged", HOME, None);
    sim.observed.cloudwatch.alarms.extend([theirs.clone(), untagged.clone()]);
    converge_af(None, &owner(), &mut sim);
    let left: Vec<&str> = sim.observed.cloudwatch.alarms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(left, ["someone-elses", "untagged"]);
    assert!(!lbp::owns_anything(&owner(), &sim.observe()));
}

#[test]
fn an_alarm_of_the_owners_name_that_is_someone_elses_is_never_touched() {
    let (s, mut sim) = converged();
    let name = lbp::alarms::alarm_name(&owner(), "alarm/latency");
    let a = sim.observed.cloudwatch.alarms.iter_mut().find(|a| a.name == name).unwrap();
    a.tags = Some([("net.securecart.io/owner-uid".to_string(), "u-other".to_string())].into());
    a.config.threshold = 99.0;
    let plan = plan_af(Some(&s), &owner(), &mut sim);
    assert!(plan.steps.is_empty(), "{}", plan.render());
    assert!(plan.waiting.iter().any(|w| w.contains(&name) && w.contains("someone else")), "{:?}", plan.waiting);
    let plan = plan_af(None, &owner(), &mut sim);
    assert!(!plan.render().contains(&name), "teardown leaves it:\n{}", plan.render());
}

#[test]
fn an_alarm_the_status_records_is_trusted_without_reading_its_tags() {
    let (s, mut sim) = converged();
    for a in &mut sim.observed.cloudwatch.alarms {
        a.recorded_as = a.tags.as_ref().and_then(|t| t.get("net.securecart.io/component").cloned());
        a.tags = None;
    }
    let plan = plan_af(Some(&s), &owner(), &mut sim);
    assert!(plan.is_empty(), "{}", plan.render());
    let inventory = lbp::inventory(&owner(), &sim.observe());
    assert_eq!(inventory.iter().filter(|(c, _)| c.starts_with("alarm/")).count(), 5);
    // Not recorded and tags not read: not the owner's, never deleted.
    for a in &mut sim.observed.cloudwatch.alarms {
        a.recorded_as = None;
    }
    let plan = plan_af(None, &owner(), &mut sim);
    assert!(cloudwatch_steps(&plan).is_empty(), "{}", plan.render());
}

#[test]
fn status_lists_the_alarms_and_says_they_are_configured() {
    let (s, mut sim) = converged();
    let epoch = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
    let d = lbp::desired(&s, &owner(), placement_af()).unwrap();
    let status = lbp::status(&d, &sim.observe(), Some(1), &[], &epoch);
    assert_eq!(status.alarms.len(), 5);
    assert!(status.alarms.iter().any(|a| a.region == "us-east-1" && a.arn.contains(":us-east-1:")));
    let c = status.conditions.iter().find(|c| c.type_ == "AlarmsConfigured").unwrap();
    assert_eq!((c.status.as_str(), c.reason.as_str()), ("True", "Configured"));
    let none = lbp::desired(&spec(example()), &owner(), placement_af()).unwrap();
    let status = lbp::status(&none, &Default::default(), Some(1), &[], &epoch);
    let c = status.conditions.iter().find(|c| c.type_ == "AlarmsConfigured").unwrap();
    assert_eq!((c.status.as_str(), c.reason.as_str()), ("False", "NotRequested"));
}

#[test]
fn fields_that_do_not_apply_are_refused_naming_the_field() {
    let nlb = |alarms: Value| {
        json!({
            "vpcTierRef": {"name": "shop"}, "type": "Network", "tier": "public",
            "targetGroups": [{"name": "tcp", "protocol": "TCP", "port": 80}],
            "listeners": [{"port": 80, "protocol": "TCP", "defaultTargetGroup": "tcp"}],
            "alarms": alarms,
        })
    };
    let mut no_hc = example();
    no_hc["dns"].as_object_mut().unwrap().remove("healthCheck");
    no_hc["alarms"] = json!({"healthCheck": {}});
    let mut no_dns = example();
    no_dns.as_object_mut().unwrap().remove("dns");
    no_dns["alarms"] = json!({"healthCheck": {"evaluationPeriods": 2}});
    let mut too_many = example();
    too_many["alarms"] = json!({"http5xxPercent": {"threshold": 5, "evaluationPeriods": 2, "datapointsToAlarm": 3}});
    let mut bad_stat = example();
    bad_stat["alarms"] = json!({"targetResponseTime": {"statistic": "max", "thresholdSeconds": 1}});
    let mut bad_action = example();
    bad_action["alarms"] = json!({"actions": ["oncall"], "unhealthyHosts": {"threshold": 0}});
    let mut bad_period = example();
    bad_period["alarms"] = json!({"unhealthyHosts": {"threshold": 0, "periodSeconds": 45}});
    let cases: Vec<(&str, Value)> = vec![
        ("spec.alarms.targetResponseTime", nlb(json!({"targetResponseTime": {"thresholdSeconds": 1}}))),
        ("spec.alarms.http5xxPercent", nlb(json!({"http5xxPercent": {"threshold": 1}}))),
        ("spec.alarms.healthCheck", no_hc),
        ("spec.alarms.healthCheck", no_dns),
        ("spec.alarms.http5xxPercent.datapointsToAlarm", too_many),
        ("spec.alarms.targetResponseTime.statistic", bad_stat),
        ("spec.alarms.actions", bad_action),
        ("spec.alarms.unhealthyHosts.periodSeconds", bad_period),
    ];
    for (field, v) in cases {
        let err = lbp::validate(&spec(v)).expect_err(field);
        assert!(err.0.starts_with(field), "{field}: {}", err.0);
    }
    // What does apply passes.
    lbp::validate(&alarmed()).expect("the example with every alarm");
    lbp::validate(&spec(nlb(json!({"unhealthyHosts": {"threshold": 0}})))).expect("NLB unhealthy hosts");
}

#[test]
fn alarm_names_are_stable_and_unique_per_owner_and_alarm() {
    let a = lbp::alarms::alarm_name(&owner(), "alarm/latency");
    assert_eq!(a, lbp::alarms::alarm_name(&owner(), "alarm/latency"));
    assert!(a.starts_with("platform-storefront-latency-"), "{a}");
    assert_ne!(a, lbp::alarms::alarm_name(&stranger(), "alarm/latency"));
    assert_ne!(
        lbp::alarms::alarm_name(&owner(), "alarm/unhealthy/web"),
        lbp::alarms::alarm_name(&owner(), "alarm/unhealthy/checkout")
    );
    let mut twin = owner();
    twin.uid = "u-twin".into();
    assert_ne!(a, lbp::alarms::alarm_name(&twin, "alarm/latency"), "same name, other object");
    assert_eq!(cw::parse_arn(&format!("arn:aws:cloudwatch:us-east-1:1:alarm:{a}")), Some(("us-east-1", a.as_str())));
}
