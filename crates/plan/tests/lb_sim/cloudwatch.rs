//! CloudWatch alarms in the simulator: `PutMetricAlarm` is create-or-replace by name within a
//! region (tags are only taken on create, as AWS does), every alarm's dimensions must name a load
//! balancer, target group or health check that exists, `DeleteAlarms` refuses names that are not
//! there, and alarms are described back the way CloudWatch fills them in (defaults spelled out or
//! left out, actions reordered, a unit added, percentiles and thresholds in its own notation).

use securecart_plan::cloudwatch::{Alarm, AlarmConfig, Measure, Step};
use securecart_plan::plan::Location;

use super::{Sim, merge};

/// How CloudWatch describes what it was given.
pub fn described(config: &AlarmConfig) -> AlarmConfig {
    let mut c = config.clone();
    if c.treat_missing_data.as_deref() == Some("missing") {
        c.treat_missing_data = None;
    }
    if c.datapoints_to_alarm == Some(c.evaluation_periods) {
        c.datapoints_to_alarm = None;
    }
    c.actions_enabled = Some(c.actions_enabled.unwrap_or(true));
    c.alarm_actions.reverse();
    c.threshold = format!("{:.10}", c.threshold).parse().expect("a number");
    if let Measure::Metric { unit, extended_statistic, metric, .. } = &mut c.measure {
        if metric.metric_name == "TargetResponseTime" {
            *unit = Some("Seconds".into());
        }
        if let Some(p) = extended_statistic
            && !p.contains('.')
        {
            *p = format!("{p}.0");
        }
    }
    if let Measure::Math(queries) = &mut c.measure {
        queries.reverse();
        for q in queries.iter_mut().filter(|q| q.return_data == Some(true)) {
            q.return_data = None;
        }
    }
    c
}

impl Sim {
    fn region_of(&self, location: &Option<Location>) -> String {
        location.as_ref().map(|l| l.region.clone()).unwrap_or_else(|| self.home_region.clone())
    }

    fn dimensions_exist(&self, config: &AlarmConfig) -> Result<(), String> {
        let metrics: Vec<_> = match &config.measure {
            Measure::Metric { metric, .. } => vec![metric],
            Measure::Math(q) => q.iter().filter_map(|q| q.metric.as_ref().map(|(m, _, _)| m)).collect(),
        };
        let o = &self.observed;
        for m in metrics {
            for (k, v) in &m.dimensions {
                let ok = match k.as_str() {
                    "LoadBalancer" => {
                        o.elbv2.load_balancers.iter().any(|l| l.arn.ends_with(&format!("loadbalancer/{v}")))
                    }
                    "TargetGroup" => o.elbv2.target_groups.iter().any(|t| t.arn.ends_with(&format!(":{v}"))),
                    "HealthCheckId" => o.route53.health_checks.iter().any(|h| &h.id == v),
                    _ => false,
                };
                if !ok {
                    return Err(format!("dimension {k}={v} names nothing that exists"));
                }
            }
        }
        Ok(())
    }

    pub(super) fn cloudwatch(&mut self, step: &Step) -> Result<Option<String>, String> {
        match step {
            Step::PutAlarm { name, config, tags, location, .. } => {
                let region = self.region_of(location);
                self.dimensions_exist(config)?;
                self.alarm_writes += 1;
                let alarms = &mut self.observed.cloudwatch.alarms;
                match alarms.iter_mut().find(|a| &a.name == name && a.region == region) {
                    // Replaced by name; the tags of the request are ignored.
                    Some(a) => a.config = described(config),
                    None => alarms.push(Alarm {
                        name: name.clone(),
                        arn: format!("arn:aws:cloudwatch:{region}:123456789012:alarm:{name}"),
                        region,
                        config: described(config),
                        state: Some("INSUFFICIENT_DATA".into()),
                        tags: Some(tags.clone()),
                        recorded_as: None,
                    }),
                }
                Ok(None)
            }
            Step::SetTags { arn, tags, .. } => {
                let a = self
                    .observed
                    .cloudwatch
                    .alarms
                    .iter_mut()
                    .find(|a| &a.arn == arn)
                    .ok_or("ResourceNotFoundException")?;
                merge(a.tags.get_or_insert_with(Default::default), tags);
                Ok(None)
            }
            Step::DeleteAlarms { names, location } => {
                let region = self.region_of(location);
                let alarms = &mut self.observed.cloudwatch.alarms;
                if let Some(n) = names.iter().find(|n| !alarms.iter().any(|a| &a.name == *n && a.region == region)) {
                    return Err(format!("ResourceNotFound: alarm {n} in {region}"));
                }
                alarms.retain(|a| !(a.region == region && names.contains(&a.name)));
                Ok(None)
            }
        }
    }
}
