//! `spec.alarms`: which CloudWatch alarms the policy wants, their names, and their dimensions once
//! the load balancer, target groups and health check they watch exist. A replaced load balancer
//! keeps the alarms' names and changes their dimensions, so the alarms follow it.

use std::collections::BTreeMap;

use securecart_api::{Evaluation, LoadBalancerPolicySpec, LoadBalancerType};
use serde::Serialize;

use super::readable;
use crate::cloudwatch::{
    AlarmConfig, DesiredAlarm, Measure, Metric, Query, ROUTE53_METRICS_REGION, load_balancer_dimension,
    target_group_dimension,
};
use crate::intent::short_hash;
use crate::owner::Owner;

pub const DEFAULT_PERIOD: i32 = 60;
pub const DEFAULT_EVALUATION_PERIODS: i32 = 5;
pub const DEFAULT_PERCENTILE: &str = "p99";

pub mod components {
    pub const PREFIX: &str = "alarm/";
    pub const LATENCY: &str = "alarm/latency";
    pub const HTTP_5XX: &str = "alarm/5xx";
    pub const HEALTH_CHECK: &str = "alarm/healthcheck";
    pub fn unhealthy(target_group: &str) -> String {
        format!("alarm/unhealthy/{target_group}")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Watch {
    ResponseTime {
        statistic: String,
    },
    Http5xxPercent,
    /// The target group's spec name.
    UnhealthyHosts {
        target_group: String,
    },
    HealthCheck,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmSpec {
    pub component: String,
    pub name: String,
    pub watch: Watch,
    pub threshold: f64,
    pub period: i32,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredAlarms {
    pub actions: Vec<String>,
    pub alarms: Vec<AlarmSpec>,
}

/// An alarm's name: the owner's readable name, what it watches, and a hash of the owner's UID and
/// the component, so it is stable, unique per owner and alarm, and the same across a load
/// balancer's replacement.
pub fn alarm_name(owner: &Owner, component: &str) -> String {
    let what = component.trim_start_matches(components::PREFIX).replace('/', "-");
    format!("{}-{}-{}", readable(owner), what, short_hash(&[&owner.uid, component]))
}

/// The prefix every alarm name of `owner` starts with (for a search).
pub fn alarm_name_prefix(owner: &Owner) -> String {
    format!("{}-", readable(owner))
}

/// Every alarm name the spec can give rise to, with the region it lives in (`home` or us-east-1),
/// whether or not the spec asks for it now: what observation reads, so that an alarm removed from
/// the spec is found and deleted.
pub fn alarm_names(spec: &LoadBalancerPolicySpec, owner: &Owner, home: &str) -> Vec<(String, String)> {
    let mut out = vec![
        (alarm_name(owner, components::LATENCY), home.to_string()),
        (alarm_name(owner, components::HTTP_5XX), home.to_string()),
    ];
    out.extend(spec.target_groups.iter().map(|t| (alarm_name(owner, &components::unhealthy(&t.name)), home.into())));
    out.push((alarm_name(owner, components::HEALTH_CHECK), ROUTE53_METRICS_REGION.into()));
    out
}

/// True when the spec asks for an alarm in us-east-1 (the health-check alarm).
pub fn wants_health_check_alarm(spec: &LoadBalancerPolicySpec) -> bool {
    spec.alarms.as_ref().is_some_and(|a| a.health_check.is_some())
}

fn spec_of(owner: &Owner, component: String, watch: Watch, threshold: f64, e: &Evaluation) -> AlarmSpec {
    let evaluation_periods = e.evaluation_periods.unwrap_or(DEFAULT_EVALUATION_PERIODS);
    AlarmSpec {
        name: alarm_name(owner, &component),
        component,
        watch,
        threshold,
        period: e.period_seconds.unwrap_or(DEFAULT_PERIOD),
        evaluation_periods,
        datapoints_to_alarm: e.datapoints_to_alarm.unwrap_or(evaluation_periods),
    }
}

pub fn desired(spec: &LoadBalancerPolicySpec, owner: &Owner) -> Option<DesiredAlarms> {
    let a = spec.alarms.as_ref()?;
    let mut alarms = Vec::new();
    if let Some(t) = &a.target_response_time {
        let statistic = t.statistic.clone().unwrap_or_else(|| DEFAULT_PERCENTILE.into());
        alarms.push(spec_of(
            owner,
            components::LATENCY.into(),
            Watch::ResponseTime { statistic },
            t.threshold_seconds,
            &t.evaluation(),
        ));
    }
    if let Some(t) = &a.http5xx_percent {
        alarms.push(spec_of(owner, components::HTTP_5XX.into(), Watch::Http5xxPercent, t.threshold, &t.evaluation()));
    }
    if let Some(u) = &a.unhealthy_hosts {
        for tg in &spec.target_groups {
            alarms.push(spec_of(
                owner,
                components::unhealthy(&tg.name),
                Watch::UnhealthyHosts { target_group: tg.name.clone() },
                f64::from(u.threshold),
                &u.evaluation(),
            ));
        }
    }
    if let Some(e) = &a.health_check {
        alarms.push(spec_of(owner, components::HEALTH_CHECK.into(), Watch::HealthCheck, 1.0, e));
    }
    Some(DesiredAlarms { actions: a.actions.clone(), alarms })
}

/// The namespace of a load balancer type's metrics.
pub fn namespace(lb_type: &str) -> &'static str {
    match lb_type {
        "network" => "AWS/NetworkELB",
        "gateway" => "AWS/GatewayELB",
        _ => "AWS/ApplicationELB",
    }
}

/// What the alarms watch, once it exists.
pub struct Targets<'a> {
    pub lb_type: &'a str,
    pub load_balancer_arn: Option<&'a str>,
    /// Target group spec name -> ARN.
    pub target_groups: BTreeMap<&'a str, &'a str>,
    pub health_check_id: Option<&'a str>,
}

fn metric(namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> Metric {
    Metric {
        namespace: namespace.into(),
        metric_name: name.into(),
        dimensions: dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

/// The alarms that can be written now (their dimensions known), and why the others wait.
pub fn concrete(d: &DesiredAlarms, home: &str, t: &Targets) -> (Vec<DesiredAlarm>, Vec<String>) {
    let (mut out, mut waiting) = (Vec::new(), Vec::new());
    let lb = t.load_balancer_arn.and_then(load_balancer_dimension);
    for a in &d.alarms {
        let stat = |m: Metric, statistic: &str| Measure::Metric {
            metric: m,
            period: a.period,
            statistic: Some(statistic.into()),
            extended_statistic: None,
            unit: None,
        };
        let (measure, operator, missing, region) = match (&a.watch, lb) {
            (Watch::HealthCheck, _) => match t.health_check_id {
                Some(id) => (
                    stat(metric("AWS/Route53", "HealthCheckStatus", &[("HealthCheckId", id)]), "Minimum"),
                    "LessThanThreshold",
                    // A health check that reports nothing is not known to be healthy.
                    "breaching",
                    ROUTE53_METRICS_REGION,
                ),
                None => {
                    waiting.push(format!("the health check to exist before alarm {}", a.name));
                    continue;
                }
            },
            (_, None) => {
                waiting.push(format!("the load balancer to exist before alarm {}", a.name));
                continue;
            }
            (Watch::ResponseTime { statistic }, Some(lb)) => (
                Measure::Metric {
                    metric: metric("AWS/ApplicationELB", "TargetResponseTime", &[("LoadBalancer", lb)]),
                    period: a.period,
                    statistic: None,
                    extended_statistic: Some(statistic.clone()),
                    unit: None,
                },
                "GreaterThanThreshold",
                // No requests, no response time: not a breach.
                "notBreaching",
                home,
            ),
            (Watch::Http5xxPercent, Some(lb)) => {
                let q = |id: &str, name: &str| Query {
                    id: id.into(),
                    metric: Some((metric("AWS/ApplicationELB", name, &[("LoadBalancer", lb)]), a.period, "Sum".into())),
                    expression: None,
                    label: None,
                    return_data: Some(false),
                };
                (
                    Measure::Math(vec![
                        q("elb5xx", "HTTPCode_ELB_5XX_Count"),
                        q("target5xx", "HTTPCode_Target_5XX_Count"),
                        q("requests", "RequestCount"),
                        Query {
                            id: "percent".into(),
                            metric: None,
                            expression: Some("100 * (elb5xx + target5xx) / requests".into()),
                            label: Some("HTTP 5xx percent".into()),
                            return_data: Some(true),
                        },
                    ]),
                    "GreaterThanThreshold",
                    "notBreaching",
                    home,
                )
            }
            (Watch::UnhealthyHosts { target_group }, Some(lb)) => {
                match t.target_groups.get(target_group.as_str()).and_then(|arn| target_group_dimension(arn)) {
                    Some(tg) => (
                        stat(
                            metric(
                                namespace(t.lb_type),
                                "UnHealthyHostCount",
                                &[("LoadBalancer", lb), ("TargetGroup", tg)],
                            ),
                            "Maximum",
                        ),
                        "GreaterThanThreshold",
                        "missing",
                        home,
                    ),
                    None => {
                        waiting.push(format!("target group {target_group} to exist before alarm {}", a.name));
                        continue;
                    }
                }
            }
        };
        out.push(DesiredAlarm {
            component: a.component.clone(),
            name: a.name.clone(),
            region: region.into(),
            config: AlarmConfig {
                description: Some(format!("Managed by securecart ({})", a.component)),
                measure,
                comparison_operator: operator.into(),
                threshold: a.threshold,
                evaluation_periods: a.evaluation_periods,
                datapoints_to_alarm: Some(a.datapoints_to_alarm),
                treat_missing_data: Some(missing.into()),
                actions_enabled: Some(true),
                alarm_actions: d.actions.clone(),
                ok_actions: d.actions.clone(),
                insufficient_data_actions: Vec::new(),
            },
        });
    }
    (out, waiting)
}

/// Spec checks CEL cannot make on their own (the same rules, for objects admitted before them).
pub fn validate(spec: &LoadBalancerPolicySpec) -> Result<(), crate::InvalidSpec> {
    let Some(a) = &spec.alarms else { return Ok(()) };
    let bad = |m: &str| Err(crate::InvalidSpec(m.into()));
    if spec.lb_type != LoadBalancerType::Application {
        if a.target_response_time.is_some() {
            return bad("spec.alarms.targetResponseTime: TargetResponseTime is an Application load balancer metric");
        }
        if a.http5xx_percent.is_some() {
            return bad("spec.alarms.http5xxPercent: HTTP 5xx counts are Application load balancer metrics");
        }
    }
    if a.health_check.is_some() && spec.dns.as_ref().is_none_or(|d| d.health_check.is_none()) {
        return bad("spec.alarms.healthCheck: needs spec.dns.healthCheck (the Route 53 health check it watches)");
    }
    if let Some(action) = a.actions.iter().find(|x| !x.starts_with("arn:")) {
        return Err(crate::InvalidSpec(format!("spec.alarms.actions: {action:?} is not an ARN")));
    }
    let evaluations = [
        ("targetResponseTime", a.target_response_time.as_ref().map(|t| t.evaluation())),
        ("http5xxPercent", a.http5xx_percent.as_ref().map(|t| t.evaluation())),
        ("unhealthyHosts", a.unhealthy_hosts.as_ref().map(|t| t.evaluation())),
        ("healthCheck", a.health_check.clone()),
    ];
    for (field, e) in evaluations {
        let Some(e) = e else { continue };
        let periods = e.evaluation_periods.unwrap_or(DEFAULT_EVALUATION_PERIODS);
        if e.datapoints_to_alarm.is_some_and(|d| d > periods || d < 1) {
            return Err(crate::InvalidSpec(format!(
                "spec.alarms.{field}.datapointsToAlarm: must be between 1 and evaluationPeriods ({periods})"
            )));
        }
        if e.period_seconds.is_some_and(|p| !(p == 10 || p == 30 || (p > 0 && p % 60 == 0))) {
            return Err(crate::InvalidSpec(format!("spec.alarms.{field}.periodSeconds: 10, 30 or a multiple of 60")));
        }
    }
    if let Some(t) = &a.target_response_time {
        if !t.threshold_seconds.is_finite() || t.threshold_seconds < 0.0 {
            return bad("spec.alarms.targetResponseTime.thresholdSeconds: a number of seconds, at least 0");
        }
        if let Some(s) = &t.statistic {
            let ok =
                s.strip_prefix('p').and_then(|n| n.parse::<f64>().ok()).is_some_and(|n| (0.0..=100.0).contains(&n));
            if !ok {
                return Err(crate::InvalidSpec(format!(
                    "spec.alarms.targetResponseTime.statistic: {s:?} is not a percentile such as p99"
                )));
            }
        }
    }
    if let Some(t) = &a.http5xx_percent
        && !(t.threshold.is_finite() && (0.0..=100.0).contains(&t.threshold))
    {
        return bad("spec.alarms.http5xxPercent.threshold: a percentage between 0 and 100");
    }
    Ok(())
}
