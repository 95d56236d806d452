//! CloudWatch metric alarms, named after their owner and component and tagged with the ownership
//! tags. `PutMetricAlarm` is create-or-replace by name, so one step creates or rewrites an alarm;
//! the planner rewrites one only when its normalised configuration differs from the desired one
//! (CloudWatch fills in defaults of its own, and a converged alarm must never be rewritten).
//! An alarm without the owner's UID tag is never changed or deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::owner::{Owner, Tags, component, missing_tags};
use crate::plan::{Location, Ordered, Ordering, Plan, PlanStep, Resource, Verb};
use crate::{elbv2, route53};

pub mod resources {
    pub const ALARM: &str = "cloudwatch/alarm";
    pub const TAGS: &str = "cloudwatch/tags";
}
use resources::*;

/// An alarm watches a load balancer, a target group or a health check: it is written after them
/// (their IDs are its dimensions) and deleted before them.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (ALARM, &[elbv2::resources::LOAD_BALANCER, elbv2::resources::TARGET_GROUP, route53::resources::HEALTH_CHECK]),
        (TAGS, &[ALARM]),
    ],
    delete_first: &[],
};

/// Where Route 53 publishes its metrics, so where a health-check alarm has to live.
pub const ROUTE53_METRICS_REGION: &str = "us-east-1";

/// The most names one `DescribeAlarms` takes.
pub const DESCRIBE_BATCH: usize = 100;

/// A metric, with its dimensions in order (a map: CloudWatch does not care about their order).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metric {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
}

/// One query of a metric-math alarm: a metric (id, metric, period, stat) or an expression.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Query {
    pub id: String,
    pub metric: Option<(Metric, i32, String)>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: Option<bool>,
}

/// What is measured: a single metric with a statistic, or metric math.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Measure {
    Metric {
        metric: Metric,
        period: i32,
        /// Sum | Average | Minimum | Maximum | SampleCount
        statistic: Option<String>,
        /// p99, p99.9, ...
        extended_statistic: Option<String>,
        unit: Option<String>,
    },
    Math(Vec<Query>),
}

/// An alarm's configuration, as written and as read back.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmConfig {
    pub description: Option<String>,
    pub measure: Measure,
    /// GreaterThanThreshold | LessThanThreshold | ...
    pub comparison_operator: String,
    pub threshold: f64,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: Option<i32>,
    pub treat_missing_data: Option<String>,
    pub actions_enabled: Option<bool>,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
}

/// A threshold rounded to what CloudWatch keeps (a double written as text and read back), so
/// `1.5`, `1.50` and `1.5000000000000002` compare equal.
fn threshold_key(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// `p99.0` and `p99` are the same percentile; CloudWatch may answer either.
fn percentile(s: &str) -> String {
    match s.strip_prefix('p').and_then(|n| n.parse::<f64>().ok()) {
        Some(n) => format!("p{n}"),
        None => s.to_string(),
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    v.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

/// The form two configurations are compared in: CloudWatch's defaults filled in (actions
/// enabled, missing data `missing`, datapoints = evaluation periods, the return data of math),
/// actions as sets, percentiles and thresholds canonical, a unit only where one was asked for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Normalised {
    description: String,
    measure: Measure,
    comparison_operator: String,
    threshold: i64,
    evaluation_periods: i32,
    datapoints_to_alarm: i32,
    treat_missing_data: String,
    actions_enabled: bool,
    alarm_actions: Vec<String>,
    ok_actions: Vec<String>,
    insufficient_data_actions: Vec<String>,
}

impl AlarmConfig {
    pub fn normalised(&self) -> Normalised {
        let measure = match &self.measure {
            Measure::Metric { metric, period, statistic, extended_statistic, unit } => Measure::Metric {
                metric: metric.clone(),
                period: *period,
                statistic: statistic.clone(),
                extended_statistic: extended_statistic.as_deref().map(percentile),
                unit: unit.clone(),
            },
            Measure::Math(queries) => {
                let mut q: Vec<Query> = queries
                    .iter()
                    .map(|q| Query {
                        id: q.id.clone(),
                        metric: q.metric.clone(),
                        expression: q.expression.clone(),
                        label: q.label.clone().filter(|l| !l.is_empty()),
                        // CloudWatch's default: data is returned unless said otherwise.
                        return_data: Some(q.return_data.unwrap_or(true)),
                    })
                    .collect();
                q.sort_by(|a, b| a.id.cmp(&b.id));
                Measure::Math(q)
            }
        };
        Normalised {
            description: self.description.clone().unwrap_or_default(),
            measure,
            comparison_operator: self.comparison_operator.clone(),
            threshold: threshold_key(self.threshold),
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm.unwrap_or(self.evaluation_periods),
            treat_missing_data: self.treat_missing_data.clone().unwrap_or_else(|| "missing".into()),
            actions_enabled: self.actions_enabled.unwrap_or(true),
            alarm_actions: sorted(&self.alarm_actions),
            ok_actions: sorted(&self.ok_actions),
            insufficient_data_actions: sorted(&self.insufficient_data_actions),
        }
    }

    /// True when `actual` (as CloudWatch describes it) is this configuration. A unit CloudWatch
    /// reports where none was asked for is not a difference.
    pub fn satisfied_by(&self, actual: &AlarmConfig) -> bool {
        let want = self.normalised();
        let mut have = actual.normalised();
        if let (Measure::Metric { unit: want_unit, .. }, Measure::Metric { unit: have_unit, .. }) =
            (&want.measure, &mut have.measure)
            && want_unit.is_none()
        {
            *have_unit = None;
        }
        want == have
    }
}

/// An alarm as `DescribeAlarms` (and, when read, `ListTagsForResource`) report it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
    pub region: String,
    pub config: AlarmConfig,
    /// OK | ALARM | INSUFFICIENT_DATA
    pub state: Option<String>,
    /// None when not read this time: the adapter reads tags only of alarms the status does not
    /// record (one call per alarm), and then `recorded_as` says which component the status
    /// records it as. The status only ever records alarms whose tags said they were the owner's.
    pub tags: Option<Tags>,
    pub recorded_as: Option<String>,
}

impl Alarm {
    /// The component the alarm is the owner's as, if it is the owner's.
    pub fn owned_as<'a>(&'a self, owner: &Owner) -> Option<&'a str> {
        match &self.tags {
            Some(t) if owner.owns(t) => component(t),
            Some(_) => None,
            None => self.recorded_as.as_deref(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub alarms: Vec<Alarm>,
}

/// An alarm the owner wants. `location` is None in the plan's region.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredAlarm {
    pub component: String,
    pub name: String,
    pub region: String,
    pub config: AlarmConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    /// PutMetricAlarm: creates the alarm, or replaces the one of that name.
    PutAlarm {
        component: String,
        name: String,
        config: Box<AlarmConfig>,
        tags: Tags,
        exists: bool,
        location: Option<Location>,
    },
    SetTags {
        arn: String,
        component: String,
        tags: Tags,
        location: Option<Location>,
    },
    DeleteAlarms {
        names: Vec<String>,
        location: Option<Location>,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::SetTags { .. } => TAGS,
            Step::PutAlarm { .. } | Step::DeleteAlarms { .. } => ALARM,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::PutAlarm { exists: false, .. } => Verb::Create,
            Step::PutAlarm { exists: true, .. } | Step::SetTags { .. } => Verb::Update,
            Step::DeleteAlarms { .. } => Verb::Delete,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::PutAlarm { .. } => "PutMetricAlarm",
            Step::SetTags { .. } => "TagResource",
            Step::DeleteAlarms { .. } => "DeleteAlarms",
        }
    }

    fn location(&self) -> Option<&Location> {
        match self {
            Step::PutAlarm { location, .. } | Step::SetTags { location, .. } | Step::DeleteAlarms { location, .. } => {
                location.as_ref()
            }
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

fn at(location: &Option<Location>) -> String {
    location.as_ref().map(|l| format!(" in {l}")).unwrap_or_default()
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::PutAlarm { name, exists: false, location, .. } => write!(f, "create alarm {name}{}", at(location)),
            Step::PutAlarm { name, exists: true, location, .. } => write!(f, "update alarm {name}{}", at(location)),
            Step::SetTags { arn, component, tags, .. } => {
                write!(f, "tag {component} {arn} with {}", crate::owner::keys(tags))
            }
            Step::DeleteAlarms { names, location } => write!(f, "delete alarms {}{}", names.join(", "), at(location)),
        }
    }
}

/// The steps that make the owner's alarms `desired` (in the plan's region `home`), and delete
/// every other alarm the owner owns but those named in `held` (wanted, but waiting for what they
/// watch). Alarms of the desired names that are someone else's are reported, never touched.
pub fn plan(
    desired: &[DesiredAlarm],
    cx: &Context,
    home: &str,
    observed: &Observed,
    user_tags: &Tags,
    held: &[String],
) -> Plan<Step> {
    let owner = cx.owner;
    let mut plan = Plan::default();
    let location = |region: &str| Location::region(region).unless_home(home);
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    for want in desired {
        let tags = owner.tags(&want.component, user_tags);
        let same = observed.alarms.iter().find(|a| a.name == want.name && a.region == want.region);
        match same {
            Some(a) if a.owned_as(owner) != Some(want.component.as_str()) => {
                plan.waiting.push(format!(
                    "alarm {} in {} belongs to someone else; remove it or its tags",
                    want.name, want.region
                ));
                kept.insert(&a.arn);
            }
            Some(a) => {
                kept.insert(&a.arn);
                if !want.config.satisfied_by(&a.config) {
                    plan.steps.push(Step::PutAlarm {
                        component: want.component.clone(),
                        name: want.name.clone(),
                        config: Box::new(want.config.clone()),
                        tags: tags.clone(),
                        exists: true,
                        location: location(&want.region),
                    });
                }
                // PutMetricAlarm ignores Tags on an existing alarm: missing ones go separately.
                if let Some(have) = &a.tags {
                    let missing = missing_tags(&tags, have);
                    if !missing.is_empty() {
                        plan.steps.push(Step::SetTags {
                            arn: a.arn.clone(),
                            component: want.component.clone(),
                            tags: missing,
                            location: location(&want.region),
                        });
                    }
                }
            }
            None => plan.steps.push(Step::PutAlarm {
                component: want.component.clone(),
                name: want.name.clone(),
                config: Box::new(want.config.clone()),
                tags,
                exists: false,
                location: location(&want.region),
            }),
        }
    }
    let mut unwanted: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for a in &observed.alarms {
        if a.owned_as(owner).is_some() && !kept.contains(a.arn.as_str()) && !held.contains(&a.name) {
            unwanted.entry(&a.region).or_default().push(a.name.clone());
        }
    }
    for (region, mut names) in unwanted {
        names.sort();
        names.dedup();
        // DeleteAlarms takes up to 100 names.
        for chunk in names.chunks(DESCRIBE_BATCH) {
            plan.steps.push(Step::DeleteAlarms { names: chunk.to_vec(), location: location(region) });
        }
    }
    plan
}

/// The dimension value of a load balancer: `app/<name>/<id>` (or `net/...`, `gwy/...`) from its ARN.
pub fn load_balancer_dimension(arn: &str) -> Option<&str> {
    arn.split_once(":loadbalancer/").map(|(_, d)| d)
}

/// The dimension value of a target group: `targetgroup/<name>/<id>` from its ARN.
pub fn target_group_dimension(arn: &str) -> Option<&str> {
    arn.rsplit_once(':').map(|(_, d)| d).filter(|d| d.starts_with("targetgroup/"))
}

/// The region and name of an alarm ARN (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`).
pub fn parse_arn(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(7, ':');
    let (_, _, service, region, _, kind, name) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (service == "cloudwatch" && kind == "alarm").then_some((region, name))
}

/// (component, ARN) of the owner's alarms.
pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    observed.alarms.iter().filter_map(|a| Some((a.owned_as(owner)?.to_string(), a.arn.clone()))).collect()
}

pub fn owns_any(owner: &Owner, observed: &Observed) -> bool {
    observed.alarms.iter().any(|a| a.owned_as(owner).is_some())
}
