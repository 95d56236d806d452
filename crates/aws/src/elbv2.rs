//! Elastic Load Balancing v2: observe an owner's load balancers and target groups by the ARNs the
//! status records and by the names derived from the owner (a name that does not exist is none,
//! not an error), their listeners by load balancer, rules by listener, attributes and tags by ARN;
//! and run the ELBv2 steps. Nothing lists the region unless the names cannot be derived and
//! something may exist unrecorded.

mod run;

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_elasticloadbalancingv2 as elb;
use securecart_api::tags::OWNER_UID;
use securecart_plan::Tags;
use securecart_plan::elbv2::{HealthSettings, Listener, LoadBalancer, Observed, ObservedAction, Rule, TargetGroup};

use crate::{Aws, AwsError, ErrorKind};

const SERVICE: &str = "elasticloadbalancing";

/// DescribeTags takes at most 20 ARNs, DescribeLoadBalancers and DescribeTargetGroups 20 names.
const BATCH: usize = 20;

pub struct Elbv2 {
    aws: Aws,
    client: elb::Client,
    region: String,
}

impl Aws {
    /// The ELBv2 adapter for one region.
    pub async fn elbv2(&self, region: &str) -> Elbv2 {
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_elasticloadbalancingv2, c)).await;
        Elbv2 { aws: self.clone(), client, region: region.to_string() }
    }
}

/// What an observation of one owner's load balancing may rely on.
#[derive(Clone, Copy, Debug, Default)]
pub struct ElbScope<'a> {
    pub owner_uid: &'a str,
    /// ARNs the status records.
    pub load_balancer_arns: &'a [String],
    pub target_group_arns: &'a [String],
    /// The names the owner's wanted resources have (read when no recorded one has them).
    pub load_balancer_names: &'a [String],
    pub target_group_names: &'a [String],
    /// The names cannot all be derived and something may exist unrecorded: list the region.
    pub list_all: bool,
}

fn observed_action(a: Option<&elb::types::Action>) -> ObservedAction {
    let Some(a) = a else { return ObservedAction::Other("none".into()) };
    match a.r#type().map(|t| t.as_str()) {
        Some("forward") => {
            let arn = a.target_group_arn().map(str::to_string).or_else(|| {
                a.forward_config()
                    .and_then(|f| f.target_groups().first())
                    .and_then(|t| t.target_group_arn())
                    .map(str::to_string)
            });
            arn.map_or_else(|| ObservedAction::Other("forward".into()), ObservedAction::Forward)
        }
        Some("redirect") => {
            let r = a.redirect_config();
            ObservedAction::Redirect {
                protocol: r.and_then(|r| r.protocol()).unwrap_or_default().into(),
                port: r.and_then(|r| r.port()).unwrap_or_default().into(),
                status_code: r.and_then(|r| r.status_code()).map(|s| s.as_str().to_string()).unwrap_or_default(),
            }
        }
        other => ObservedAction::Other(other.unwrap_or("unknown").into()),
    }
}

fn load_balancer(l: &elb::types::LoadBalancer) -> Option<LoadBalancer> {
    Some(LoadBalancer {
        arn: l.load_balancer_arn()?.into(),
        name: l.load_balancer_name().unwrap_or_default().into(),
        lb_type: l.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        scheme: l.scheme().map(|s| s.as_str().to_string()).unwrap_or_default(),
        state: l.state().and_then(|s| s.code()).map(|c| c.as_str().to_string()).unwrap_or_default(),
        dns_name: l.dns_name().unwrap_or_default().into(),
        canonical_hosted_zone_id: l.canonical_hosted_zone_id().unwrap_or_default().into(),
        ip_address_type: l.ip_address_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        subnet_ids: l.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)).collect(),
        security_group_ids: l.security_groups().to_vec(),
        attributes: Default::default(),
        tags: Tags::new(),
    })
}

fn target_group(t: &elb::types::TargetGroup) -> Option<TargetGroup> {
    Some(TargetGroup {
        arn: t.target_group_arn()?.into(),
        name: t.target_group_name().unwrap_or_default().into(),
        protocol: t.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
        port: t.port().and_then(|p| u16::try_from(p).ok()),
        target_type: t.target_type().map(|p| p.as_str().to_string()).unwrap_or_default(),
        vpc_id: t.vpc_id().unwrap_or_default().into(),
        health: HealthSettings {
            path: t.health_check_path().map(str::to_string),
            interval_seconds: t.health_check_interval_seconds(),
            healthy_threshold: t.healthy_threshold_count(),
            unhealthy_threshold: t.unhealthy_threshold_count(),
            matcher: t.matcher().and_then(|m| m.http_code()).map(str::to_string),
        },
        tags: Tags::new(),
    })
}

/// What one ELBv2 Describe asks for.
enum Select {
    Arns(Vec<String>),
    Names(Vec<String>),
    /// A page of everything, after this marker.
    Page(Option<String>),
}

/// Load balancers or target groups: by the recorded ARNs, then by the names that none of those
/// has; or, with `list_all`, every page of the region. `describe` answers one Describe with its
/// items and the next page's marker; `key` gives an item's ARN and name.
async fn by_arn_and_name<T, Fut>(
    arns: &[String],
    names: &[String],
    list_all: bool,
    describe: impl Fn(Select) -> Fut,
    key: impl Fn(&T) -> (&str, &str),
) -> Result<Vec<T>, AwsError>
where
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let describe = &describe;
    if list_all {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let (items, next) = describe(Select::Page(marker)).await?;
            out.extend(items);
            marker = next;
            if marker.is_none() {
                return Ok(out);
            }
        }
    }
    let mut found = each_existing(arns, |k| async move { Ok(describe(Select::Arns(k)).await?.0) }).await?;
    let missing: Vec<String> =
        names.iter().filter(|n| !found.iter().any(|f| key(f).1 == n.as_str())).cloned().collect();
    for item in each_existing(&missing, |k| async move { Ok(describe(Select::Names(k)).await?.0) }).await? {
        if !found.iter().any(|f| key(f).0 == key(&item).0) {
            found.push(item);
        }
    }
    Ok(found)
}

/// Reads `keys` in one call; when one of them does not exist (the call fails whole), one by
/// one, keeping what exists.
async fn each_existing<T, Fut>(keys: &[String], read: impl Fn(Vec<String>) -> Fut) -> Result<Vec<T>, AwsError>
where
    Fut: Future<Output = Result<Vec<T>, AwsError>>,
{
    let mut out = Vec::new();
    for batch in keys.chunks(BATCH) {
        match read(batch.to_vec()).await {
            Err(e) if e.kind == ErrorKind::NotFound && batch.len() > 1 => {
                for key in batch {
                    match read(vec![key.clone()]).await {
                        Err(e) if e.kind == ErrorKind::NotFound => {}
                        other => out.extend(other?),
                    }
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => {}
            other => out.extend(other?),
        }
    }
    Ok(out)
}

impl Elbv2 {
    /// The owner's load balancers (with attributes), target groups, listeners and rules.
    pub async fn observe(&self, scope: ElbScope<'_>) -> Result<Observed, AwsError> {
        let (lbs, tgs) = futures::try_join!(self.load_balancers(&scope), self.target_groups(&scope))?;
        let arns: Vec<String> = lbs.iter().map(|l| l.arn.clone()).chain(tgs.iter().map(|t| t.arn.clone())).collect();
        let tags = self.tags_of(&arns).await?;
        let owned = |arn: &str| tags.get(arn).filter(|t| t.get(OWNER_UID).map(String::as_str) == Some(scope.owner_uid));
        let mut load_balancers: Vec<LoadBalancer> = lbs
            .into_iter()
            .filter_map(|mut l| {
                l.tags = owned(&l.arn)?.clone();
                Some(l)
            })
            .collect();
        let target_groups: Vec<TargetGroup> = tgs
            .into_iter()
            .filter_map(|mut t| {
                t.tags = owned(&t.arn)?.clone();
                Some(t)
            })
            .collect();
        let details = futures::future::try_join_all(
            load_balancers
                .iter()
                .map(|l| async { futures::try_join!(self.attributes(&l.arn), self.listeners(&l.arn)) }),
        )
        .await?;
        let mut listeners = Vec::new();
        for (l, (attributes, on_lb)) in load_balancers.iter_mut().zip(details) {
            l.attributes = attributes;
            listeners.extend(on_lb);
        }
        let rules: Vec<Rule> = futures::future::try_join_all(listeners.iter().map(|l| self.rules(&l.arn)))
            .await?
            .into_iter()
            .flatten()
            .collect();
        let arns: Vec<String> =
            listeners.iter().map(|l| l.arn.clone()).chain(rules.iter().map(|r| r.arn.clone())).collect();
        let tags = self.tags_of(&arns).await?;
        let owned = |arn: &str| tags.get(arn).filter(|t| t.get(OWNER_UID).map(String::as_str) == Some(scope.owner_uid));
        let listeners = listeners
            .into_iter()
            .filter_map(|mut l| {
                l.tags = owned(&l.arn)?.clone();
                Some(l)
            })
            .collect();
        let rules = rules
            .into_iter()
            .filter_map(|mut r| {
                r.tags = owned(&r.arn)?.clone();
                Some(r)
            })
            .collect();
        tracing::debug!(service = SERVICE, region = %self.region, load_balancers = load_balancers.len(), list_all = scope.list_all, "observed load balancing");
        Ok(Observed { load_balancers, target_groups, listeners, rules })
    }

    async fn load_balancers(&self, scope: &ElbScope<'_>) -> Result<Vec<LoadBalancer>, AwsError> {
        let describe = |select: Select| async move {
            let request = self.client.describe_load_balancers();
            let request = match select {
                Select::Arns(arns) => request.set_load_balancer_arns(Some(arns)),
                Select::Names(names) => request.set_names(Some(names)),
                Select::Page(marker) => request.set_marker(marker),
            };
            let out = self.call("DescribeLoadBalancers", false, request.send()).await?;
            Ok((out.load_balancers().iter().filter_map(load_balancer).collect(), out.next_marker().map(str::to_string)))
        };
        let (arns, names) = (scope.load_balancer_arns, scope.load_balancer_names);
        by_arn_and_name(arns, names, scope.list_all, describe, |l: &LoadBalancer| (&l.arn, &l.name)).await
    }

    async fn target_groups(&self, scope: &ElbScope<'_>) -> Result<Vec<TargetGroup>, AwsError> {
        let describe = |select: Select| async move {
            let request = self.client.describe_target_groups();
            let request = match select {
                Select::Arns(arns) => request.set_target_group_arns(Some(arns)),
                Select::Names(names) => request.set_names(Some(names)),
                Select::Page(marker) => request.set_marker(marker),
            };
            let out = self.call("DescribeTargetGroups", false, request.send()).await?;
            Ok((out.target_groups().iter().filter_map(target_group).collect(), out.next_marker().map(str::to_string)))
        };
        let (arns, names) = (scope.target_group_arns, scope.target_group_names);
        by_arn_and_name(arns, names, scope.list_all, describe, |t: &TargetGroup| (&t.arn, &t.name)).await
    }

    /// Tags of ELBv2 resources, in batches of 20 ARNs.
    async fn tags_of(&self, arns: &[String]) -> Result<HashMap<String, Tags>, AwsError> {
        let mut out = HashMap::new();
        for batch in arns.chunks(BATCH) {
            let request = self.client.describe_tags().set_resource_arns(Some(batch.to_vec()));
            let tags = self.call("DescribeTags", false, request.send()).await?;
            for d in tags.tag_descriptions() {
                let Some(arn) = d.resource_arn() else { continue };
                let t: Tags = d
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
                    .collect();
                out.insert(arn.to_string(), t);
            }
        }
        Ok(out)
    }

    async fn attributes(&self, arn: &str) -> Result<std::collections::BTreeMap<String, String>, AwsError> {
        let request = self.client.describe_load_balancer_attributes().load_balancer_arn(arn);
        let out = self.call("DescribeLoadBalancerAttributes", false, request.send()).await?;
        Ok(out
            .attributes()
            .iter()
            .filter_map(|a| Some((a.key()?.to_string(), a.value().unwrap_or_default().to_string())))
            .collect())
    }

    async fn listeners(&self, lb_arn: &str) -> Result<Vec<Listener>, AwsError> {
        let request = self.client.describe_listeners().load_balancer_arn(lb_arn);
        let out = self.call("DescribeListeners", false, request.send()).await?;
        Ok(out
            .listeners()
            .iter()
            .filter_map(|l| {
                Some(Listener {
                    arn: l.listener_arn()?.into(),
                    load_balancer_arn: lb_arn.into(),
                    port: l.port().and_then(|p| u16::try_from(p).ok()),
                    protocol: l.protocol().map(|p| p.as_str().to_string()).filter(|p| p != "GENEVE" && !p.is_empty()),
                    certificate_arn: l.certificates().first().and_then(|c| c.certificate_arn()).map(str::to_string),
                    default_action: observed_action(l.default_actions().first()),
                    tags: Tags::new(),
                })
            })
            .collect())
    }

    /// The non-default rules of one listener.
    async fn rules(&self, listener_arn: &str) -> Result<Vec<Rule>, AwsError> {
        let out =
            self.call("DescribeRules", false, self.client.describe_rules().listener_arn(listener_arn).send()).await?;
        Ok(out
            .rules()
            .iter()
            .filter(|r| r.is_default() != Some(true))
            .filter_map(|r| {
                let values = |field: &str| -> Vec<String> {
                    r.conditions()
                        .iter()
                        .filter(|c| c.field() == Some(field))
                        .flat_map(|c| {
                            let configured = match field {
                                "path-pattern" => c.path_pattern_config().map(|p| p.values().to_vec()),
                                _ => c.host_header_config().map(|h| h.values().to_vec()),
                            };
                            configured.filter(|v| !v.is_empty()).unwrap_or_else(|| c.values().to_vec())
                        })
                        .collect()
                };
                Some(Rule {
                    arn: r.rule_arn()?.into(),
                    listener_arn: listener_arn.into(),
                    priority: r.priority()?.parse().ok()?,
                    path_patterns: values("path-pattern"),
                    host_headers: values("host-header"),
                    action: observed_action(r.actions().first()),
                    tags: Tags::new(),
                })
            })
            .collect())
    }
}
