//! Load balancing: observe an owner's load balancer, target groups, listeners, rules, security
//! group, web ACL, Shield protection, health check and records, and execute LoadBalancerPolicy
//! plan steps. ELBv2 and WAFv2 are regional; Route 53 and Shield are global.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType};
use aws_sdk_elasticloadbalancingv2 as elb;
use aws_sdk_route53 as r53;
use aws_sdk_shield as shield;
use aws_sdk_wafv2 as waf;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use securecart_api::tags::OWNER_UID;
use securecart_plan::Tags;
use securecart_plan::load_balancer::{
    Action, ChangeAction, HealthCheck, HealthCheckConfig, HealthSettings, Ingress, LoadBalancer, Observed,
    ObservedAction, Protection, Record, RecordRouting, Rule, SecurityGroup, Step, TagApi, TargetGroup, WafRules,
    WebAcl, ZoneRef,
};

use crate::ec2::{Ec2, owner_filter, tag_spec, tags_of};
use crate::{Aws, AwsError, ErrorKind, Output, resolve};

/// Deleting what is already gone is success.
fn ok_if_gone<T>(result: Result<T, AwsError>) -> Result<Option<String>, AwsError> {
    crate::ok_if_gone(result).map(|o| o.id)
}

/// DescribeTags takes at most 20 ARNs; Route 53 ListTagsForResources at most 10 IDs.
const ELB_TAG_BATCH: usize = 20;
const ROUTE53_TAG_BATCH: usize = 10;
const RATE_RULE: &str = "rate-limit-per-ip";

pub struct LoadBalancing {
    aws: Aws,
    ec2: Ec2,
    elb: elb::Client,
    waf: waf::Client,
    route53: r53::Client,
    shield: shield::Client,
    region: String,
}

fn elb_tags(tags: &Tags) -> Vec<elb::types::Tag> {
    tags.iter().map(|(k, v)| elb::types::Tag::builder().key(k).value(v).build()).collect()
}

fn waf_tags(tags: &Tags) -> Result<Vec<waf::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            waf::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| AwsError::malformed("BuildTag", &e.to_string()))
        })
        .collect()
}

fn shield_tags(tags: &Tags) -> Vec<shield::types::Tag> {
    tags.iter().map(|(k, v)| shield::types::Tag::builder().key(k).value(v).build()).collect()
}

fn built<T, E: std::fmt::Display>(operation: &'static str, r: Result<T, E>) -> Result<T, AwsError> {
    r.map_err(|e| AwsError::malformed(operation, &e.to_string()))
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

fn elb_action(action: &Action, created: &HashMap<String, String>) -> Result<elb::types::Action, AwsError> {
    Ok(match action {
        Action::Forward(tg) => elb::types::Action::builder()
            .r#type(elb::types::ActionTypeEnum::Forward)
            .target_group_arn(resolve(tg, created)?)
            .build(),
        Action::RedirectToHttps => elb::types::Action::builder()
            .r#type(elb::types::ActionTypeEnum::Redirect)
            .redirect_config(
                elb::types::RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port(securecart_plan::load_balancer::HTTPS_REDIRECT_PORT)
                    .status_code(elb::types::RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build(),
    })
}

fn certificates(certificate_arn: &Option<String>) -> Option<Vec<elb::types::Certificate>> {
    certificate_arn.as_ref().map(|c| vec![elb::types::Certificate::builder().certificate_arn(c).build()])
}

fn rule_conditions(paths: &[String], hosts: &[String]) -> Vec<elb::types::RuleCondition> {
    let mut out = Vec::new();
    if !paths.is_empty() {
        out.push(
            elb::types::RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    elb::types::PathPatternConditionConfig::builder().set_values(Some(paths.to_vec())).build(),
                )
                .build(),
        );
    }
    if !hosts.is_empty() {
        out.push(
            elb::types::RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    elb::types::HostHeaderConditionConfig::builder().set_values(Some(hosts.to_vec())).build(),
                )
                .build(),
        );
    }
    out
}

fn ip_permissions(rules: &[Ingress]) -> Vec<IpPermission> {
    rules
        .iter()
        .map(|r| {
            let b = IpPermission::builder()
                .ip_protocol(&r.protocol)
                .from_port(i32::from(r.port))
                .to_port(i32::from(r.port));
            if r.cidr.contains(':') {
                b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(&r.cidr).build()).build()
            } else {
                b.ip_ranges(IpRange::builder().cidr_ip(&r.cidr).build()).build()
            }
        })
        .collect()
}

fn visibility(name: &str) -> Result<waf::types::VisibilityConfig, AwsError> {
    let metric: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(128).collect();
    built(
        "BuildVisibilityConfig",
        waf::types::VisibilityConfig::builder()
            .sampled_requests_enabled(true)
            .cloud_watch_metrics_enabled(true)
            .metric_name(metric)
            .build(),
    )
}

fn waf_default_action(rules: &WafRules) -> waf::types::DefaultAction {
    if rules.default_action == "Block" {
        waf::types::DefaultAction::builder().block(waf::types::BlockAction::builder().build()).build()
    } else {
        waf::types::DefaultAction::builder().allow(waf::types::AllowAction::builder().build()).build()
    }
}

/// Managed rule groups first, in the spec's order, then the rate rule.
fn waf_rules(rules: &WafRules) -> Result<Vec<waf::types::Rule>, AwsError> {
    let mut out = Vec::new();
    for (i, group) in rules.managed_rule_groups.iter().enumerate() {
        let statement = waf::types::Statement::builder()
            .managed_rule_group_statement(built(
                "BuildManagedRuleGroupStatement",
                waf::types::ManagedRuleGroupStatement::builder().vendor_name("AWS").name(group).build(),
            )?)
            .build();
        out.push(built(
            "BuildRule",
            waf::types::Rule::builder()
                .name(group)
                .priority(i as i32)
                .statement(statement)
                .override_action(
                    waf::types::OverrideAction::builder().none(waf::types::NoneAction::builder().build()).build(),
                )
                .visibility_config(visibility(group)?)
                .build(),
        )?);
    }
    if let Some(limit) = rules.rate_limit {
        let statement = waf::types::Statement::builder()
            .rate_based_statement(built(
                "BuildRateBasedStatement",
                waf::types::RateBasedStatement::builder()
                    .limit(limit)
                    .aggregate_key_type(waf::types::RateBasedStatementAggregateKeyType::Ip)
                    .build(),
            )?)
            .build();
        out.push(built(
            "BuildRule",
            waf::types::Rule::builder()
                .name(RATE_RULE)
                .priority(rules.managed_rule_groups.len() as i32)
                .statement(statement)
                .action(waf::types::RuleAction::builder().block(waf::types::BlockAction::builder().build()).build())
                .visibility_config(visibility(RATE_RULE)?)
                .build(),
        )?);
    }
    Ok(out)
}

/// Reads back what `waf_rules` wrote; rules of other shapes make the ACL differ, so it is rewritten.
fn observed_waf_rules(acl: &waf::types::WebAcl) -> WafRules {
    let mut rules: Vec<&waf::types::Rule> = acl.rules().iter().collect();
    rules.sort_by_key(|r| r.priority());
    let mut out = WafRules {
        default_action: if acl.default_action().and_then(|d| d.block()).is_some() { "Block" } else { "Allow" }.into(),
        ..Default::default()
    };
    for r in rules {
        let statement = r.statement();
        if let Some(m) = statement.and_then(|s| s.managed_rule_group_statement()) {
            out.managed_rule_groups.push(m.name().to_string());
        } else if let Some(rate) = statement.and_then(|s| s.rate_based_statement()) {
            out.rate_limit = Some(rate.limit());
        } else {
            out.managed_rule_groups.push(format!("(other rule {})", r.name()));
        }
    }
    out
}

fn r53_health_check_config(c: &HealthCheckConfig) -> Result<r53::types::HealthCheckConfig, AwsError> {
    built(
        "BuildHealthCheckConfig",
        r53::types::HealthCheckConfig::builder()
            .r#type(r53::types::HealthCheckType::from(c.protocol.as_str()))
            .fully_qualified_domain_name(&c.fqdn)
            .port(i32::from(c.port))
            .set_resource_path(c.path.clone())
            .failure_threshold(c.failure_threshold)
            .request_interval(c.request_interval)
            .build(),
    )
}

fn r53_record(r: &Record) -> Result<r53::types::ResourceRecordSet, AwsError> {
    let mut b = r53::types::ResourceRecordSet::builder()
        .name(&r.name)
        .r#type(r53::types::RrType::from(r.record_type.as_str()))
        .set_set_identifier(r.set_identifier.clone())
        .set_health_check_id(r.health_check_id.clone());
    if let (Some(dns), Some(zone)) = (&r.alias_dns_name, &r.alias_hosted_zone_id) {
        b = b.alias_target(built(
            "BuildAliasTarget",
            r53::types::AliasTarget::builder()
                .hosted_zone_id(zone)
                .dns_name(dns)
                .evaluate_target_health(r.evaluate_target_health)
                .build(),
        )?);
    }
    b = match &r.routing {
        RecordRouting::Simple => b,
        RecordRouting::Latency { region } => b.region(r53::types::ResourceRecordSetRegion::from(region.as_str())),
        RecordRouting::Geolocation { continent, country } => b.geo_location(
            r53::types::GeoLocation::builder()
                .set_continent_code(continent.clone())
                .set_country_code(country.clone())
                .build(),
        ),
        RecordRouting::Failover { role } => b.failover(r53::types::ResourceRecordSetFailover::from(role.as_str())),
        RecordRouting::Weighted { weight } => b.weight(*weight),
    };
    built("BuildResourceRecordSet", b.build())
}

fn observed_record(r: &r53::types::ResourceRecordSet) -> Record {
    let routing = if let Some(region) = r.region() {
        RecordRouting::Latency { region: region.as_str().to_string() }
    } else if let Some(g) = r.geo_location() {
        RecordRouting::Geolocation {
            continent: g.continent_code().map(str::to_string),
            country: g.country_code().map(str::to_string),
        }
    } else if let Some(f) = r.failover() {
        RecordRouting::Failover { role: f.as_str().to_string() }
    } else if let Some(w) = r.weight() {
        RecordRouting::Weighted { weight: w }
    } else {
        RecordRouting::Simple
    };
    let alias = r.alias_target();
    Record {
        name: r.name().to_ascii_lowercase(),
        record_type: r.r#type().as_str().to_string(),
        set_identifier: r.set_identifier().map(str::to_string),
        routing,
        alias_dns_name: alias.map(|a| a.dns_name().to_ascii_lowercase()),
        alias_hosted_zone_id: alias.map(|a| a.hosted_zone_id().to_string()),
        evaluate_target_health: alias.is_some_and(|a| a.evaluate_target_health()),
        health_check_id: r.health_check_id().map(str::to_string),
    }
}

/// Every item of a marker-paged listing: `fetch` asks for the page after a marker, `next` reads
/// the marker of the page after this one (None on the last page).
async fn all_pages<P, T, Fut>(
    fetch: impl Fn(Option<String>) -> Fut,
    items: impl Fn(&P) -> &[T],
    next: impl Fn(&P) -> Option<String>,
) -> Result<Vec<T>, AwsError>
where
    T: Clone,
    Fut: Future<Output = Result<P, AwsError>>,
{
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = fetch(marker).await?;
        out.extend(items(&page).iter().cloned());
        marker = next(&page);
        if marker.is_none() {
            return Ok(out);
        }
    }
}

impl LoadBalancing {
    pub(crate) fn new(
        aws: Aws,
        ec2: Ec2,
        elb: elb::Client,
        waf: waf::Client,
        route53: r53::Client,
        shield: shield::Client,
        region: String,
    ) -> Self {
        Self { aws, ec2, elb, waf, route53, shield, region }
    }

    async fn call<T, E>(
        &self,
        service: &'static str,
        operation: &'static str,
        mutating: bool,
        request: impl Future<Output = Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>>,
    ) -> Result<T, AwsError>
    where
        T: aws_types::request_id::RequestId,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.aws.call(service, &self.region, operation, mutating, request).await
    }

    /// Everything the owner holds, found by its UID tag; records through the owned health check
    /// and load balancer, Shield protections through the owned load balancer.
    pub async fn observe(
        &self,
        owner_uid: &str,
        zone: Option<&ZoneRef>,
        record_name: Option<&str>,
    ) -> Result<Observed, AwsError> {
        let (security_groups, (load_balancers, target_groups), web_acls, health_checks) = futures::try_join!(
            self.observe_security_groups(owner_uid),
            self.observe_elb(owner_uid),
            self.observe_web_acls(owner_uid),
            self.observe_health_checks(owner_uid),
        )?;
        let (listeners, rules) = self.observe_listeners(owner_uid, &load_balancers).await?;
        let lb_arns: BTreeSet<&str> = load_balancers.iter().map(|l| l.arn.as_str()).collect();
        let protections = if lb_arns.is_empty() { Vec::new() } else { self.observe_protections(&lb_arns).await? };
        let hosted_zone_id = match zone {
            Some(z) => self.hosted_zone(z).await?,
            None => None,
        };
        let records = match (&hosted_zone_id, record_name) {
            (Some(zone), Some(name)) => self.observe_records(zone, name).await?,
            _ => Vec::new(),
        };
        Ok(Observed {
            security_groups,
            target_groups,
            load_balancers,
            listeners,
            rules,
            web_acls,
            protections,
            health_checks,
            hosted_zone_id,
            records,
        })
    }

    async fn observe_security_groups(&self, uid: &str) -> Result<Vec<SecurityGroup>, AwsError> {
        let out = self
            .ec2
            .call(
                "DescribeSecurityGroups",
                false,
                self.ec2.client.describe_security_groups().filters(owner_filter(uid)).send(),
            )
            .await?;
        Ok(out
            .security_groups()
            .iter()
            .filter_map(|g| {
                let mut ingress = BTreeSet::new();
                for p in g.ip_permissions() {
                    let (Some(protocol), Some(from), Some(to)) = (p.ip_protocol(), p.from_port(), p.to_port()) else {
                        continue;
                    };
                    if from != to {
                        continue;
                    }
                    let cidrs = p
                        .ip_ranges()
                        .iter()
                        .filter_map(|r| r.cidr_ip())
                        .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()));
                    for cidr in cidrs {
                        ingress.insert(Ingress { protocol: protocol.into(), port: from as u16, cidr: cidr.into() });
                    }
                }
                Some(SecurityGroup {
                    id: g.group_id()?.into(),
                    vpc_id: g.vpc_id().unwrap_or_default().into(),
                    ingress,
                    tags: tags_of(g.tags()),
                })
            })
            .collect())
    }

    /// Tags of ELBv2 resources, in batches of 20 ARNs.
    async fn elb_tags_of(&self, arns: Vec<String>) -> Result<HashMap<String, Tags>, AwsError> {
        let mut out = HashMap::new();
        for batch in arns.chunks(ELB_TAG_BATCH) {
            let tags = self
                .call(
                    "elasticloadbalancing",
                    "DescribeTags",
                    false,
                    self.elb.describe_tags().set_resource_arns(Some(batch.to_vec())).send(),
                )
                .await?;
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

    fn owned(tags: &HashMap<String, Tags>, arn: &str, uid: &str) -> Option<Tags> {
        tags.get(arn).filter(|t| t.get(OWNER_UID).map(String::as_str) == Some(uid)).cloned()
    }

    /// ELBv2 has no tag filter: list everything, then read tags in batches.
    async fn observe_elb(&self, uid: &str) -> Result<(Vec<LoadBalancer>, Vec<TargetGroup>), AwsError> {
        const ELB: &str = "elasticloadbalancing";
        let lbs = all_pages(
            |marker| {
                self.call(
                    ELB,
                    "DescribeLoadBalancers",
                    false,
                    self.elb.describe_load_balancers().set_marker(marker).send(),
                )
            },
            |page| page.load_balancers(),
            |page| page.next_marker().map(str::to_string),
        )
        .await?;
        let tgs = all_pages(
            |marker| {
                self.call(
                    ELB,
                    "DescribeTargetGroups",
                    false,
                    self.elb.describe_target_groups().set_marker(marker).send(),
                )
            },
            |page| page.target_groups(),
            |page| page.next_marker().map(str::to_string),
        )
        .await?;
        let arns: Vec<String> = lbs
            .iter()
            .filter_map(|l| l.load_balancer_arn())
            .chain(tgs.iter().filter_map(|t| t.target_group_arn()))
            .map(str::to_string)
            .collect();
        let tags = self.elb_tags_of(arns).await?;
        let mut load_balancers = Vec::new();
        for l in &lbs {
            let Some(arn) = l.load_balancer_arn() else { continue };
            let Some(tags) = Self::owned(&tags, arn, uid) else { continue };
            let attributes = self
                .call(
                    "elasticloadbalancing",
                    "DescribeLoadBalancerAttributes",
                    false,
                    self.elb.describe_load_balancer_attributes().load_balancer_arn(arn).send(),
                )
                .await?
                .attributes()
                .iter()
                .filter_map(|a| Some((a.key()?.to_string(), a.value().unwrap_or_default().to_string())))
                .collect();
            let lb_type = l.r#type().map(|t| t.as_str().to_string()).unwrap_or_default();
            // Only Application load balancers take a web ACL.
            let web_acl_arn = if lb_type == "application" { self.web_acl_of(arn).await? } else { None };
            load_balancers.push(LoadBalancer {
                arn: arn.into(),
                name: l.load_balancer_name().unwrap_or_default().into(),
                lb_type,
                scheme: l.scheme().map(|s| s.as_str().to_string()).unwrap_or_default(),
                state: l.state().and_then(|s| s.code()).map(|c| c.as_str().to_string()).unwrap_or_default(),
                dns_name: l.dns_name().unwrap_or_default().into(),
                canonical_hosted_zone_id: l.canonical_hosted_zone_id().unwrap_or_default().into(),
                ip_address_type: l.ip_address_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                subnet_ids: l.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)).collect(),
                attributes,
                web_acl_arn,
                tags,
            });
        }
        let target_groups = tgs
            .iter()
            .filter_map(|t| {
                let arn = t.target_group_arn()?;
                let tags = Self::owned(&tags, arn, uid)?;
                Some(TargetGroup {
                    arn: arn.into(),
                    name: t.target_group_name().unwrap_or_default().into(),
                    protocol: t.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
                    port: t.port().map(|p| p as u16),
                    target_type: t.target_type().map(|p| p.as_str().to_string()).unwrap_or_default(),
                    vpc_id: t.vpc_id().unwrap_or_default().into(),
                    health: HealthSettings {
                        path: t.health_check_path().map(str::to_string),
                        interval_seconds: t.health_check_interval_seconds(),
                        healthy_threshold: t.healthy_threshold_count(),
                        unhealthy_threshold: t.unhealthy_threshold_count(),
                        matcher: t.matcher().and_then(|m| m.http_code()).map(str::to_string),
                    },
                    tags,
                })
            })
            .collect();
        Ok((load_balancers, target_groups))
    }

    async fn web_acl_of(&self, lb_arn: &str) -> Result<Option<String>, AwsError> {
        let out = self
            .call(
                "wafv2",
                "GetWebACLForResource",
                false,
                self.waf.get_web_acl_for_resource().resource_arn(lb_arn).send(),
            )
            .await;
        match out {
            Ok(o) => Ok(o.web_acl().map(|a| a.arn().to_string())),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Listeners and non-default rules of the owned load balancers.
    async fn observe_listeners(
        &self,
        uid: &str,
        load_balancers: &[LoadBalancer],
    ) -> Result<(Vec<securecart_plan::load_balancer::Listener>, Vec<Rule>), AwsError> {
        let mut listeners = Vec::new();
        for lb in load_balancers {
            let out = self
                .call(
                    "elasticloadbalancing",
                    "DescribeListeners",
                    false,
                    self.elb.describe_listeners().load_balancer_arn(&lb.arn).send(),
                )
                .await?;
            listeners.extend(out.listeners().iter().map(|l| (lb.arn.clone(), l.clone())));
        }
        let mut rules = Vec::new();
        for (_, l) in &listeners {
            let Some(arn) = l.listener_arn() else { continue };
            let out = self
                .call(
                    "elasticloadbalancing",
                    "DescribeRules",
                    false,
                    self.elb.describe_rules().listener_arn(arn).send(),
                )
                .await?;
            rules.extend(
                out.rules().iter().filter(|r| r.is_default() != Some(true)).map(|r| (arn.to_string(), r.clone())),
            );
        }
        let arns: Vec<String> = listeners
            .iter()
            .filter_map(|(_, l)| l.listener_arn())
            .chain(rules.iter().filter_map(|(_, r)| r.rule_arn()))
            .map(str::to_string)
            .collect();
        let tags = self.elb_tags_of(arns).await?;
        let listeners = listeners
            .iter()
            .filter_map(|(lb_arn, l)| {
                let arn = l.listener_arn()?;
                Some(securecart_plan::load_balancer::Listener {
                    arn: arn.into(),
                    load_balancer_arn: lb_arn.clone(),
                    port: l.port().map(|p| p as u16),
                    protocol: l.protocol().map(|p| p.as_str().to_string()).filter(|p| p != "GENEVE" && !p.is_empty()),
                    certificate_arn: l.certificates().first().and_then(|c| c.certificate_arn()).map(str::to_string),
                    default_action: observed_action(l.default_actions().first()),
                    tags: Self::owned(&tags, arn, uid)?,
                })
            })
            .collect();
        let rules = rules
            .iter()
            .filter_map(|(listener_arn, r)| {
                let arn = r.rule_arn()?;
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
                    arn: arn.into(),
                    listener_arn: listener_arn.clone(),
                    priority: r.priority()?.parse().ok()?,
                    path_patterns: values("path-pattern"),
                    host_headers: values("host-header"),
                    action: observed_action(r.actions().first()),
                    tags: Self::owned(&tags, arn, uid)?,
                })
            })
            .collect();
        Ok((listeners, rules))
    }

    async fn observe_web_acls(&self, uid: &str) -> Result<Vec<WebAcl>, AwsError> {
        let summaries = all_pages(
            |marker| {
                let request = self.waf.list_web_acls().scope(waf::types::Scope::Regional).set_next_marker(marker);
                self.call("wafv2", "ListWebACLs", false, request.send())
            },
            |page| page.web_acls(),
            // WAF returns a marker even on the last page; an empty page ends the listing.
            |page| page.next_marker().map(str::to_string).filter(|m| !m.is_empty() && !page.web_acls().is_empty()),
        )
        .await?;
        // Every ACL of the region is listed, but only those named as this owner names them cost a
        // tag read: one call per reconcile, not one per ACL in the region.
        let suffix = securecart_plan::load_balancer::web_acl_name_suffix(uid);
        let mut out = Vec::new();
        for s in summaries {
            let (Some(arn), Some(id), Some(name)) = (s.arn(), s.id(), s.name()) else { continue };
            if !name.ends_with(&suffix) {
                continue;
            }
            let tags = self
                .call("wafv2", "ListTagsForResource", false, self.waf.list_tags_for_resource().resource_arn(arn).send())
                .await?;
            let tags: Tags = tags
                .tag_info_for_resource()
                .map(|t| t.tag_list().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
                .unwrap_or_default();
            if tags.get(OWNER_UID).map(String::as_str) != Some(uid) {
                continue;
            }
            let acl = self
                .call(
                    "wafv2",
                    "GetWebACL",
                    false,
                    self.waf.get_web_acl().scope(waf::types::Scope::Regional).name(name).id(id).send(),
                )
                .await?;
            let Some(acl) = acl.web_acl() else { continue };
            out.push(WebAcl {
                arn: arn.into(),
                id: id.into(),
                name: name.into(),
                rules: observed_waf_rules(acl),
                tags,
            });
        }
        Ok(out)
    }

    async fn observe_protections(&self, lb_arns: &BTreeSet<&str>) -> Result<Vec<Protection>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = match self
                .call("shield", "ListProtections", false, self.shield.list_protections().set_next_token(token).send())
                .await
            {
                Ok(p) => p,
                // No protections at all (or no subscription) reads as ResourceNotFound.
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(out),
                Err(e) => return Err(e),
            };
            for p in page.protections() {
                let (Some(id), Some(resource)) = (p.id(), p.resource_arn()) else { continue };
                if !lb_arns.contains(resource) {
                    continue;
                }
                let arn = p.protection_arn().unwrap_or_default().to_string();
                let tags = self
                    .call(
                        "shield",
                        "ListTagsForResource",
                        false,
                        self.shield.list_tags_for_resource().resource_arn(&arn).send(),
                    )
                    .await?
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
                    .collect();
                out.push(Protection { id: id.into(), arn, resource_arn: resource.into(), tags });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn observe_health_checks(&self, uid: &str) -> Result<Vec<HealthCheck>, AwsError> {
        let checks = all_pages(
            |marker| {
                self.call(
                    "route53",
                    "ListHealthChecks",
                    false,
                    self.route53.list_health_checks().set_marker(marker).send(),
                )
            },
            |page| page.health_checks(),
            |page| page.next_marker().map(str::to_string).filter(|_| page.is_truncated()),
        )
        .await?;
        let ids: Vec<String> = checks.iter().map(|c| c.id().to_string()).collect();
        let mut tags: HashMap<String, Tags> = HashMap::new();
        for batch in ids.chunks(ROUTE53_TAG_BATCH) {
            let out = self
                .call(
                    "route53",
                    "ListTagsForResources",
                    false,
                    self.route53
                        .list_tags_for_resources()
                        .resource_type(r53::types::TagResourceType::Healthcheck)
                        .set_resource_ids(Some(batch.to_vec()))
                        .send(),
                )
                .await?;
            for set in out.resource_tag_sets() {
                let Some(id) = set.resource_id() else { continue };
                tags.insert(
                    id.to_string(),
                    set.tags()
                        .iter()
                        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
                        .collect(),
                );
            }
        }
        Ok(checks
            .iter()
            .filter_map(|c| {
                let tags = tags.get(c.id()).filter(|t| t.get(OWNER_UID).map(String::as_str) == Some(uid))?.clone();
                let config = c.health_check_config()?;
                Some(HealthCheck {
                    id: c.id().into(),
                    config: HealthCheckConfig {
                        protocol: config.r#type().as_str().to_string(),
                        fqdn: config.fully_qualified_domain_name().unwrap_or_default().into(),
                        port: config.port().unwrap_or_default() as u16,
                        path: config.resource_path().map(str::to_string),
                        failure_threshold: config.failure_threshold().unwrap_or(3),
                        request_interval: config.request_interval().unwrap_or(30),
                    },
                    tags,
                })
            })
            .collect())
    }

    /// The zone's ID; None when it does not exist.
    async fn hosted_zone(&self, zone: &ZoneRef) -> Result<Option<String>, AwsError> {
        match zone {
            ZoneRef::Id(id) => {
                match self.call("route53", "GetHostedZone", false, self.route53.get_hosted_zone().id(id).send()).await {
                    Ok(_) => Ok(Some(id.clone())),
                    Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
            ZoneRef::Name(name) => {
                let out = self
                    .call(
                        "route53",
                        "ListHostedZonesByName",
                        false,
                        self.route53.list_hosted_zones_by_name().dns_name(name).max_items(1).send(),
                    )
                    .await?;
                Ok(out
                    .hosted_zones()
                    .iter()
                    .find(|z| z.name().eq_ignore_ascii_case(name))
                    .map(|z| z.id().trim_start_matches("/hostedzone/").to_string()))
            }
        }
    }

    /// The A and AAAA records named `name` (Route 53 lists in name order from the start name).
    async fn observe_records(&self, zone: &str, name: &str) -> Result<Vec<Record>, AwsError> {
        let mut out = Vec::new();
        let mut start = Some((name.to_string(), None::<String>));
        while let Some((start_name, start_id)) = start.take() {
            let page = self
                .call(
                    "route53",
                    "ListResourceRecordSets",
                    false,
                    self.route53
                        .list_resource_record_sets()
                        .hosted_zone_id(zone)
                        .start_record_name(&start_name)
                        .set_start_record_identifier(start_id)
                        .send(),
                )
                .await?;
            let mut past = false;
            for r in page.resource_record_sets() {
                let record = observed_record(r);
                // A name's records come first and together from the start name: anything else
                // means the listing has passed them.
                if record.name != name {
                    past = true;
                    continue;
                }
                if matches!(record.record_type.as_str(), "A" | "AAAA") {
                    out.push(record);
                }
            }
            if page.is_truncated() && !past {
                start =
                    page.next_record_name().map(|n| (n.to_string(), page.next_record_identifier().map(str::to_string)));
            }
        }
        Ok(out)
    }

    /// Runs the plan phase by phase; steps of a phase in parallel.
    /// Runs one load balancing step; returns what it created.
    pub(crate) async fn run(
        &self,
        step: &Step,
        created: &HashMap<String, String>,
        _token: Option<&str>,
    ) -> Result<Output, AwsError> {
        Ok(Output { id: self.run_step(step, created).await?, ..Output::none() })
    }

    async fn run_step(&self, step: &Step, created: &HashMap<String, String>) -> Result<Option<String>, AwsError> {
        let resolve = |r: &securecart_plan::Ref| resolve(r, created);
        const ELB: &str = "elasticloadbalancing";
        match step {
            Step::CreateSecurityGroup { name, vpc_id, tags, .. } => {
                let out = self
                    .ec2
                    .call(
                        "CreateSecurityGroup",
                        true,
                        self.ec2
                            .client
                            .create_security_group()
                            .group_name(name)
                            .description("Load balancer security group managed by securecart")
                            .vpc_id(vpc_id)
                            .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags))
                            .send(),
                    )
                    .await?;
                Ok(Some(out.group_id().ok_or_else(|| AwsError::malformed("CreateSecurityGroup", "no ID"))?.into()))
            }
            Step::AuthorizeIngress { security_group, rules } => {
                self.ec2
                    .call(
                        "AuthorizeSecurityGroupIngress",
                        true,
                        self.ec2
                            .client
                            .authorize_security_group_ingress()
                            .group_id(resolve(security_group)?)
                            .set_ip_permissions(Some(ip_permissions(rules)))
                            .send(),
                    )
                    .await?;
                Ok(None)
            }
            Step::RevokeIngress { security_group_id, rules } => ok_if_gone(
                self.ec2
                    .call(
                        "RevokeSecurityGroupIngress",
                        true,
                        self.ec2
                            .client
                            .revoke_security_group_ingress()
                            .group_id(security_group_id)
                            .set_ip_permissions(Some(ip_permissions(rules)))
                            .send(),
                    )
                    .await,
            ),
            Step::DeleteSecurityGroup { id } => ok_if_gone(
                self.ec2
                    .call("DeleteSecurityGroup", true, self.ec2.client.delete_security_group().group_id(id).send())
                    .await,
            ),
            Step::SetTags { api, resource, tags, .. } => {
                match api {
                    TagApi::Ec2 => {
                        let t = tags
                            .iter()
                            .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
                            .collect();
                        self.ec2
                            .call(
                                "CreateTags",
                                true,
                                self.ec2.client.create_tags().resources(resource).set_tags(Some(t)).send(),
                            )
                            .await?;
                    }
                    TagApi::Elb => {
                        self.call(
                            ELB,
                            "AddTags",
                            true,
                            self.elb.add_tags().resource_arns(resource).set_tags(Some(elb_tags(tags))).send(),
                        )
                        .await?;
                    }
                    TagApi::Wafv2 => {
                        self.call(
                            "wafv2",
                            "TagResource",
                            true,
                            self.waf.tag_resource().resource_arn(resource).set_tags(Some(waf_tags(tags)?)).send(),
                        )
                        .await?;
                    }
                    TagApi::Shield => {
                        self.call(
                            "shield",
                            "TagResource",
                            true,
                            self.shield.tag_resource().resource_arn(resource).set_tags(Some(shield_tags(tags))).send(),
                        )
                        .await?;
                    }
                    TagApi::Route53HealthCheck => self.tag_health_check(resource, tags).await?,
                }
                Ok(None)
            }
            Step::CreateTargetGroup { target_group: t, vpc_id, tags } => {
                let h = &t.health;
                let out = self
                    .call(
                        ELB,
                        "CreateTargetGroup",
                        true,
                        self.elb
                            .create_target_group()
                            .name(&t.aws_name)
                            .protocol(elb::types::ProtocolEnum::from(t.protocol.as_str()))
                            .port(i32::from(t.port))
                            .vpc_id(vpc_id)
                            .target_type(elb::types::TargetTypeEnum::from(t.target_type.as_str()))
                            .set_health_check_path(h.path.clone())
                            .set_health_check_interval_seconds(h.interval_seconds)
                            .set_healthy_threshold_count(h.healthy_threshold)
                            .set_unhealthy_threshold_count(h.unhealthy_threshold)
                            .set_matcher(
                                h.matcher.as_ref().map(|m| elb::types::Matcher::builder().http_code(m).build()),
                            )
                            .set_tags(Some(elb_tags(tags)))
                            .send(),
                    )
                    .await?;
                let arn = out.target_groups().first().and_then(|t| t.target_group_arn());
                Ok(Some(arn.ok_or_else(|| AwsError::malformed("CreateTargetGroup", "no ARN"))?.into()))
            }
            Step::ModifyTargetGroupHealthCheck { arn, health: h } => {
                self.call(
                    ELB,
                    "ModifyTargetGroup",
                    true,
                    self.elb
                        .modify_target_group()
                        .target_group_arn(arn)
                        .set_health_check_path(h.path.clone())
                        .set_health_check_interval_seconds(h.interval_seconds)
                        .set_healthy_threshold_count(h.healthy_threshold)
                        .set_unhealthy_threshold_count(h.unhealthy_threshold)
                        .set_matcher(h.matcher.as_ref().map(|m| elb::types::Matcher::builder().http_code(m).build()))
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::DeleteTargetGroup { arn } => ok_if_gone(
                self.call(ELB, "DeleteTargetGroup", true, self.elb.delete_target_group().target_group_arn(arn).send())
                    .await,
            ),
            Step::CreateLoadBalancer { load_balancer: l, subnet_ids, security_group, tags, .. } => {
                let security_groups = security_group.as_ref().map(resolve).transpose()?.map(|g| vec![g]);
                let out = self
                    .call(
                        ELB,
                        "CreateLoadBalancer",
                        true,
                        self.elb
                            .create_load_balancer()
                            .name(&l.name)
                            .r#type(elb::types::LoadBalancerTypeEnum::from(l.lb_type.as_str()))
                            .set_scheme(
                                Some(l.scheme.as_str())
                                    .filter(|s| !s.is_empty())
                                    .map(elb::types::LoadBalancerSchemeEnum::from),
                            )
                            .ip_address_type(elb::types::IpAddressType::from(l.ip_address_type.as_str()))
                            .set_subnets(Some(subnet_ids.clone()))
                            .set_security_groups(security_groups)
                            .set_tags(Some(elb_tags(tags)))
                            .send(),
                    )
                    .await?;
                let arn = out.load_balancers().first().and_then(|l| l.load_balancer_arn());
                Ok(Some(arn.ok_or_else(|| AwsError::malformed("CreateLoadBalancer", "no ARN"))?.into()))
            }
            Step::SetLoadBalancerAttributes { load_balancer, attributes } => {
                let attributes = attributes
                    .iter()
                    .map(|(k, v)| elb::types::LoadBalancerAttribute::builder().key(k).value(v).build())
                    .collect();
                self.call(
                    ELB,
                    "ModifyLoadBalancerAttributes",
                    true,
                    self.elb
                        .modify_load_balancer_attributes()
                        .load_balancer_arn(resolve(load_balancer)?)
                        .set_attributes(Some(attributes))
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::SetSubnets { arn, subnet_ids } => {
                self.call(
                    ELB,
                    "SetSubnets",
                    true,
                    self.elb.set_subnets().load_balancer_arn(arn).set_subnets(Some(subnet_ids.clone())).send(),
                )
                .await?;
                Ok(None)
            }
            Step::SetIpAddressType { arn, ip_address_type } => {
                self.call(
                    ELB,
                    "SetIpAddressType",
                    true,
                    self.elb
                        .set_ip_address_type()
                        .load_balancer_arn(arn)
                        .ip_address_type(elb::types::IpAddressType::from(ip_address_type.as_str()))
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::DeleteLoadBalancer { arn } => ok_if_gone(
                self.call(
                    ELB,
                    "DeleteLoadBalancer",
                    true,
                    self.elb.delete_load_balancer().load_balancer_arn(arn).send(),
                )
                .await,
            ),
            Step::CreateListener { load_balancer, port, protocol, certificate_arn, action, tags, .. } => {
                let out = self
                    .call(
                        ELB,
                        "CreateListener",
                        true,
                        self.elb
                            .create_listener()
                            .load_balancer_arn(resolve(load_balancer)?)
                            .set_port(port.map(i32::from))
                            .set_protocol(protocol.as_deref().map(elb::types::ProtocolEnum::from))
                            .set_certificates(certificates(certificate_arn))
                            .default_actions(elb_action(action, created)?)
                            .set_tags(Some(elb_tags(tags)))
                            .send(),
                    )
                    .await?;
                let arn = out.listeners().first().and_then(|l| l.listener_arn());
                Ok(Some(arn.ok_or_else(|| AwsError::malformed("CreateListener", "no ARN"))?.into()))
            }
            Step::ModifyListener { arn, protocol, certificate_arn, action } => {
                self.call(
                    ELB,
                    "ModifyListener",
                    true,
                    self.elb
                        .modify_listener()
                        .listener_arn(arn)
                        .set_protocol(protocol.as_deref().map(elb::types::ProtocolEnum::from))
                        .set_certificates(certificates(certificate_arn))
                        .default_actions(elb_action(action, created)?)
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::DeleteListener { arn } => ok_if_gone(
                self.call(ELB, "DeleteListener", true, self.elb.delete_listener().listener_arn(arn).send()).await,
            ),
            Step::CreateRule { listener, priority, path_patterns, host_headers, target_group, tags, .. } => {
                let out = self
                    .call(
                        ELB,
                        "CreateRule",
                        true,
                        self.elb
                            .create_rule()
                            .listener_arn(resolve(listener)?)
                            .priority(*priority as i32)
                            .set_conditions(Some(rule_conditions(path_patterns, host_headers)))
                            .actions(elb_action(&Action::Forward(target_group.clone()), created)?)
                            .set_tags(Some(elb_tags(tags)))
                            .send(),
                    )
                    .await?;
                let arn = out.rules().first().and_then(|r| r.rule_arn());
                Ok(Some(arn.ok_or_else(|| AwsError::malformed("CreateRule", "no ARN"))?.into()))
            }
            Step::ModifyRule { arn, path_patterns, host_headers, target_group } => {
                self.call(
                    ELB,
                    "ModifyRule",
                    true,
                    self.elb
                        .modify_rule()
                        .rule_arn(arn)
                        .set_conditions(Some(rule_conditions(path_patterns, host_headers)))
                        .actions(elb_action(&Action::Forward(target_group.clone()), created)?)
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::DeleteRule { arn } => {
                ok_if_gone(self.call(ELB, "DeleteRule", true, self.elb.delete_rule().rule_arn(arn).send()).await)
            }
            Step::CreateWebAcl { name, rules, tags, .. } => {
                let out = self
                    .call(
                        "wafv2",
                        "CreateWebACL",
                        true,
                        self.waf
                            .create_web_acl()
                            .name(name)
                            .scope(waf::types::Scope::Regional)
                            .default_action(waf_default_action(rules))
                            .visibility_config(visibility(name)?)
                            .set_rules(Some(waf_rules(rules)?))
                            .set_tags(Some(waf_tags(tags)?))
                            .send(),
                    )
                    .await?;
                let arn = out.summary().and_then(|s| s.arn());
                Ok(Some(arn.ok_or_else(|| AwsError::malformed("CreateWebACL", "no ARN"))?.into()))
            }
            Step::UpdateWebAcl { id, name, rules, .. } => {
                let lock_token = self.web_acl_lock_token(name, id).await?;
                self.call(
                    "wafv2",
                    "UpdateWebACL",
                    true,
                    self.waf
                        .update_web_acl()
                        .name(name)
                        .scope(waf::types::Scope::Regional)
                        .id(id)
                        .lock_token(lock_token)
                        .default_action(waf_default_action(rules))
                        .visibility_config(visibility(name)?)
                        .set_rules(Some(waf_rules(rules)?))
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::DeleteWebAcl { id, name, .. } => {
                let lock_token = match self.web_acl_lock_token(name, id).await {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                };
                ok_if_gone(
                    self.call(
                        "wafv2",
                        "DeleteWebACL",
                        true,
                        self.waf
                            .delete_web_acl()
                            .name(name)
                            .scope(waf::types::Scope::Regional)
                            .id(id)
                            .lock_token(lock_token)
                            .send(),
                    )
                    .await,
                )
            }
            Step::AssociateWebAcl { web_acl, load_balancer_arn } => {
                self.call(
                    "wafv2",
                    "AssociateWebACL",
                    true,
                    self.waf.associate_web_acl().web_acl_arn(resolve(web_acl)?).resource_arn(load_balancer_arn).send(),
                )
                .await?;
                Ok(None)
            }
            Step::DisassociateWebAcl { load_balancer_arn } => ok_if_gone(
                self.call(
                    "wafv2",
                    "DisassociateWebACL",
                    true,
                    self.waf.disassociate_web_acl().resource_arn(load_balancer_arn).send(),
                )
                .await,
            ),
            Step::CreateProtection { name, load_balancer_arn, tags, .. } => {
                let out = self
                    .call(
                        "shield",
                        "CreateProtection",
                        true,
                        self.shield
                            .create_protection()
                            .name(name)
                            .resource_arn(load_balancer_arn)
                            .set_tags(Some(shield_tags(tags)))
                            .send(),
                    )
                    .await?;
                Ok(out.protection_id().map(str::to_string))
            }
            Step::DeleteProtection { id } => ok_if_gone(
                self.call("shield", "DeleteProtection", true, self.shield.delete_protection().protection_id(id).send())
                    .await,
            ),
            Step::CreateHealthCheck { caller_reference, config, tags, .. } => {
                let settings = r53_health_check_config(config)?;
                let create = |reference: String| {
                    self.call(
                        "route53",
                        "CreateHealthCheck",
                        true,
                        self.route53
                            .create_health_check()
                            .caller_reference(reference)
                            .health_check_config(settings.clone())
                            .send(),
                    )
                };
                let out = match create(caller_reference.clone()).await {
                    // The reference belonged to a health check deleted since: take a fresh one.
                    Err(e) if e.code == "HealthCheckAlreadyExists" => {
                        let nanos = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_nanos())
                            .unwrap_or_default();
                        create(format!("{caller_reference}-{nanos}")).await?
                    }
                    other => other?,
                };
                let id = out.health_check().map(|h| h.id().to_string());
                let id = id.ok_or_else(|| AwsError::malformed("CreateHealthCheck", "no ID"))?;
                self.tag_health_check(&id, tags).await?;
                Ok(Some(id))
            }
            Step::UpdateHealthCheck { id, config } => {
                self.call(
                    "route53",
                    "UpdateHealthCheck",
                    true,
                    self.route53
                        .update_health_check()
                        .health_check_id(id)
                        .fully_qualified_domain_name(&config.fqdn)
                        .port(i32::from(config.port))
                        .set_resource_path(config.path.clone())
                        .failure_threshold(config.failure_threshold)
                        .send(),
                )
                .await?;
                Ok(None)
            }
            Step::DeleteHealthCheck { id } => ok_if_gone(
                self.call(
                    "route53",
                    "DeleteHealthCheck",
                    true,
                    self.route53.delete_health_check().health_check_id(id).send(),
                )
                .await,
            ),
            Step::ChangeRecords { hosted_zone_id, changes } => {
                let changes = changes
                    .iter()
                    .map(|c| {
                        let action = match c.action {
                            ChangeAction::Upsert => r53::types::ChangeAction::Upsert,
                            ChangeAction::Delete => r53::types::ChangeAction::Delete,
                        };
                        built(
                            "BuildChange",
                            r53::types::Change::builder()
                                .action(action)
                                .resource_record_set(r53_record(&c.record)?)
                                .build(),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let batch =
                    built("BuildChangeBatch", r53::types::ChangeBatch::builder().set_changes(Some(changes)).build())?;
                self.call(
                    "route53",
                    "ChangeResourceRecordSets",
                    true,
                    self.route53
                        .change_resource_record_sets()
                        .hosted_zone_id(hosted_zone_id)
                        .change_batch(batch)
                        .send(),
                )
                .await?;
                Ok(None)
            }
        }
    }

    async fn tag_health_check(&self, id: &str, tags: &Tags) -> Result<(), AwsError> {
        let t = tags.iter().map(|(k, v)| r53::types::Tag::builder().key(k).value(v).build()).collect();
        self.call(
            "route53",
            "ChangeTagsForResource",
            true,
            self.route53
                .change_tags_for_resource()
                .resource_type(r53::types::TagResourceType::Healthcheck)
                .resource_id(id)
                .set_add_tags(Some(t))
                .send(),
        )
        .await?;
        Ok(())
    }

    async fn web_acl_lock_token(&self, name: &str, id: &str) -> Result<String, AwsError> {
        let out = self
            .call(
                "wafv2",
                "GetWebACL",
                false,
                self.waf.get_web_acl().scope(waf::types::Scope::Regional).name(name).id(id).send(),
            )
            .await?;
        out.lock_token().map(str::to_string).ok_or_else(|| AwsError::malformed("GetWebACL", "no lock token"))
    }
}
