//! CloudWatch metric alarms (the only code calling aws-sdk-cloudwatch): observe alarms by the
//! names derived from their owner, and run the CloudWatch steps. Alarms are regional; the
//! health-check alarm lives in us-east-1, where Route 53 publishes its metrics.
//!
//! Cost of an observation, per region read: one `DescribeAlarms` per 100 names (one, in practice),
//! plus one `ListTagsForResource` per alarm found that the status does not record yet (none once
//! converged: the status records only alarms whose tags said they were the owner's). A search
//! (`search`, after an unknown outcome or at teardown) also reads by the owner's name prefix and
//! reads the tags of every alarm found.

use aws_sdk_cloudwatch as cloudwatch;
use cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, MetricAlarm, MetricDataQuery, MetricStat, StandardUnit, Statistic,
};
use securecart_plan::Tags;
use securecart_plan::cloudwatch::{Alarm, AlarmConfig, DESCRIBE_BATCH, Measure, Metric, Query, Step, parse_arn};

use crate::{Aws, AwsError, ErrorKind, Output, ok_if_gone};

const SERVICE: &str = "cloudwatch";

pub struct CloudWatch {
    aws: Aws,
    client: cloudwatch::Client,
    region: String,
}

impl Aws {
    /// The CloudWatch adapter of one region.
    pub async fn cloudwatch(&self, region: &str) -> CloudWatch {
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_cloudwatch, c)).await;
        CloudWatch { aws: self.clone(), client, region: region.into() }
    }
}

/// What to read in one region.
pub struct AlarmScope<'a> {
    /// Alarm names that may exist (derived from the owner, and those the status records).
    pub names: &'a [String],
    /// ARN -> component of the alarms the status records (their tags are not read again).
    pub recorded: &'a [(String, String)],
    /// Also read every alarm whose name starts with this (a search), and read all tags.
    pub search_prefix: Option<&'a str>,
}

fn tags_of(tags: &Tags) -> Vec<cloudwatch::types::Tag> {
    tags.iter().map(|(k, v)| cloudwatch::types::Tag::builder().key(k).value(v).build()).collect()
}

fn dimensions_of(m: &Metric) -> Vec<Dimension> {
    m.dimensions.iter().map(|(k, v)| Dimension::builder().name(k).value(v).build()).collect()
}

fn metric_of(namespace: Option<&str>, name: Option<&str>, dimensions: &[Dimension]) -> Metric {
    Metric {
        namespace: namespace.unwrap_or_default().into(),
        metric_name: name.unwrap_or_default().into(),
        dimensions: dimensions
            .iter()
            .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
            .collect(),
    }
}

/// The configuration as CloudWatch describes it, with nothing filled in: the planner normalises.
fn config_of(a: &MetricAlarm) -> AlarmConfig {
    let measure = if a.metrics().is_empty() {
        Measure::Metric {
            metric: metric_of(a.namespace(), a.metric_name(), a.dimensions()),
            period: a.period().unwrap_or_default(),
            statistic: a.statistic().map(|s| s.as_str().to_string()),
            extended_statistic: a.extended_statistic().map(str::to_string),
            unit: a.unit().map(|u| u.as_str().to_string()),
        }
    } else {
        Measure::Math(
            a.metrics()
                .iter()
                .map(|q| Query {
                    id: q.id().unwrap_or_default().into(),
                    metric: q.metric_stat().map(|s| {
                        let m = s.metric();
                        (
                            metric_of(
                                m.and_then(|m| m.namespace()),
                                m.and_then(|m| m.metric_name()),
                                m.map(|m| m.dimensions()).unwrap_or_default(),
                            ),
                            s.period().unwrap_or_default(),
                            s.stat().unwrap_or_default().to_string(),
                        )
                    }),
                    expression: q.expression().map(str::to_string),
                    label: q.label().map(str::to_string),
                    return_data: q.return_data(),
                })
                .collect(),
        )
    };
    AlarmConfig {
        description: a.alarm_description().map(str::to_string),
        measure,
        comparison_operator: a.comparison_operator().map(|c| c.as_str().to_string()).unwrap_or_default(),
        threshold: a.threshold().unwrap_or_default(),
        evaluation_periods: a.evaluation_periods().unwrap_or_default(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        treat_missing_data: a.treat_missing_data().map(str::to_string),
        actions_enabled: a.actions_enabled(),
        alarm_actions: a.alarm_actions().to_vec(),
        ok_actions: a.ok_actions().to_vec(),
        insufficient_data_actions: a.insufficient_data_actions().to_vec(),
    }
}

impl CloudWatch {
    crate::sdk::adapter_call!(SERVICE);

    /// The metric alarms of `scope.names` (and, in a search, of the owner's prefix) in this region.
    pub async fn observe(&self, scope: AlarmScope<'_>) -> Result<Vec<Alarm>, AwsError> {
        let mut found: Vec<MetricAlarm> = Vec::new();
        let mut names: Vec<String> = scope.names.to_vec();
        names.sort();
        names.dedup();
        for chunk in names.chunks(DESCRIBE_BATCH) {
            let request = self
                .client
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .alarm_types(AlarmType::MetricAlarm)
                .max_records(DESCRIBE_BATCH as i32);
            found.extend(self.call("DescribeAlarms", false, request.send()).await?.metric_alarms().iter().cloned());
        }
        if let Some(prefix) = scope.search_prefix {
            let mut token: Option<String> = None;
            loop {
                let request = self
                    .client
                    .describe_alarms()
                    .alarm_name_prefix(prefix)
                    .alarm_types(AlarmType::MetricAlarm)
                    .set_next_token(token.clone());
                let out = self.call("DescribeAlarms", false, request.send()).await?;
                for a in out.metric_alarms() {
                    if !found.iter().any(|f| f.alarm_arn() == a.alarm_arn()) {
                        found.push(a.clone());
                    }
                }
                match out.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
        }
        let mut out = Vec::new();
        for a in &found {
            let (Some(name), Some(arn)) = (a.alarm_name(), a.alarm_arn()) else { continue };
            // Only alarms of the names asked for, or of the prefix searched, in this region.
            let asked = names.iter().any(|n| n == name) || scope.search_prefix.is_some_and(|p| name.starts_with(p));
            if !asked || parse_arn(arn).is_some_and(|(region, _)| region != self.region) {
                continue;
            }
            let recorded_as = scope.recorded.iter().find(|(a, _)| a == arn).map(|(_, c)| c.clone());
            let tags =
                if recorded_as.is_some() && scope.search_prefix.is_none() { None } else { Some(self.tags(arn).await?) };
            out.push(Alarm {
                name: name.into(),
                arn: arn.into(),
                region: self.region.clone(),
                config: config_of(a),
                state: a.state_value().map(|s| s.as_str().to_string()),
                tags,
                recorded_as,
            });
        }
        Ok(out)
    }

    async fn tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let request = self.client.list_tags_for_resource().resource_arn(arn).send();
        match self.call("ListTagsForResource", false, request).await {
            Ok(out) => Ok(out
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
                .collect()),
            // Deleted between the two reads: no tags, so not the owner's.
            Err(e) if e.kind == ErrorKind::NotFound => Ok(Tags::new()),
            Err(e) => Err(e),
        }
    }

    /// Runs one CloudWatch step.
    pub(crate) async fn run(&self, step: &Step) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::PutAlarm { name, config, tags, .. } => {
                let mut request = c
                    .put_metric_alarm()
                    .alarm_name(name)
                    .set_alarm_description(config.description.clone())
                    .set_actions_enabled(config.actions_enabled)
                    .set_alarm_actions(Some(config.alarm_actions.clone()))
                    .set_ok_actions(Some(config.ok_actions.clone()))
                    .set_insufficient_data_actions(Some(config.insufficient_data_actions.clone()))
                    .comparison_operator(ComparisonOperator::from(config.comparison_operator.as_str()))
                    .threshold(config.threshold)
                    .evaluation_periods(config.evaluation_periods)
                    .set_datapoints_to_alarm(config.datapoints_to_alarm)
                    .set_treat_missing_data(config.treat_missing_data.clone())
                    // Ignored by CloudWatch when the alarm exists: missing tags are a SetTags step.
                    .set_tags(Some(tags_of(tags)));
                request = match &config.measure {
                    Measure::Metric { metric, period, statistic, extended_statistic, unit } => request
                        .namespace(&metric.namespace)
                        .metric_name(&metric.metric_name)
                        .set_dimensions(Some(dimensions_of(metric)))
                        .period(*period)
                        .set_statistic(statistic.as_deref().map(Statistic::from))
                        .set_extended_statistic(extended_statistic.clone())
                        .set_unit(unit.as_deref().map(StandardUnit::from)),
                    Measure::Math(queries) => request.set_metrics(Some(
                        queries
                            .iter()
                            .map(|q| {
                                MetricDataQuery::builder()
                                    .id(&q.id)
                                    .set_expression(q.expression.clone())
                                    .set_label(q.label.clone())
                                    .set_return_data(q.return_data)
                                    .set_metric_stat(q.metric.as_ref().map(|(m, period, stat)| {
                                        MetricStat::builder()
                                            .metric(
                                                cloudwatch::types::Metric::builder()
                                                    .namespace(&m.namespace)
                                                    .metric_name(&m.metric_name)
                                                    .set_dimensions(Some(dimensions_of(m)))
                                                    .build(),
                                            )
                                            .period(*period)
                                            .stat(stat)
                                            .build()
                                    }))
                                    .build()
                            })
                            .collect(),
                    )),
                };
                self.call("PutMetricAlarm", true, request.send()).await?;
                Ok(Output::id(name.clone()))
            }
            Step::SetTags { arn, tags, .. } => {
                let request = c.tag_resource().resource_arn(arn).set_tags(Some(tags_of(tags)));
                self.call("TagResource", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteAlarms { names, .. } => {
                let request = c.delete_alarms().set_alarm_names(Some(names.clone()));
                ok_if_gone(self.call("DeleteAlarms", true, request.send()).await)
            }
        }
    }
}
