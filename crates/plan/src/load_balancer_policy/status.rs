//! The LoadBalancerPolicy status: IDs as observed, and one condition per part.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::{ALARMS_CONFIGURED, DNS_PUBLISHED, LOAD_BALANCER_READY, WAF_ASSOCIATED, reason};
use securecart_api::{AlarmStatus, ListenerStatus, LoadBalancerPolicyStatus, NamedArn, RecordStatus};

use super::{Desired, Observed, SECURITY_GROUP};
use crate::conditions::condition;
use crate::elbv2::components;
use crate::owner::component;
use crate::wafv2::DesiredAcl;
use crate::{route53, security_group, shield, wafv2};

pub fn status(
    desired: &Desired,
    observed: &Observed,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> LoadBalancerPolicyStatus {
    let owner = &desired.owner;
    let elb = &observed.elbv2;
    let lb = elb.load_balancers.iter().find(|l| {
        owner.owns(&l.tags)
            && component(&l.tags) == Some(components::LOAD_BALANCER)
            && l.lb_type == desired.elbv2.load_balancer.lb_type
    });
    let owned_tg = |c: &str| elb.target_groups.iter().find(|t| owner.owns(&t.tags) && component(&t.tags) == Some(c));
    let listeners = desired
        .elbv2
        .listeners
        .iter()
        .filter_map(|want| {
            let l = elb.listeners.iter().find(|l| {
                owner.owns(&l.tags)
                    && component(&l.tags) == Some(want.component.as_str())
                    && Some(l.load_balancer_arn.as_str()) == lb.map(|lb| lb.arn.as_str())
            })?;
            Some(ListenerStatus { port: want.port, arn: l.arn.clone() })
        })
        .collect();
    let web_acl_arn = match desired.waf.as_ref().map(|w| &w.acl) {
        Some(DesiredAcl::Existing(arn)) => Some(arn.clone()),
        Some(DesiredAcl::Owned { .. }) => wafv2::find(owner, &observed.wafv2).map(|a| a.arn.clone()),
        None => None,
    };
    let health_check_id = desired
        .dns
        .as_ref()
        .and_then(|d| d.health_check.as_ref())
        .and_then(|_| route53::find_health_check(owner, &observed.route53));
    let records: Vec<RecordStatus> = match (&desired.dns, lb) {
        (Some(d), Some(lb)) => crate::dns::record_statuses(d, &observed.route53, &lb.dns_name),
        _ => Vec::new(),
    };

    let part = |type_: &str, ok: bool, why: &str, message: String| {
        condition(type_, ok, why, &message, generation, previous, now)
    };
    let lb_condition = match lb {
        Some(l) if l.state == "active" => {
            part(LOAD_BALANCER_READY, true, "Active", format!("load balancer {} is active", l.name))
        }
        Some(l) => {
            part(LOAD_BALANCER_READY, false, reason::PROGRESSING, format!("load balancer {} is {}", l.name, l.state))
        }
        None => part(LOAD_BALANCER_READY, false, reason::PROGRESSING, "the load balancer does not exist yet".into()),
    };
    let associated = lb.and_then(|l| observed.wafv2.associated(&l.arn));
    let waf_condition = match &web_acl_arn {
        None => part(WAF_ASSOCIATED, false, reason::NOT_REQUESTED, "spec.waf is not set".into()),
        Some(arn) if associated == Some(arn.as_str()) => {
            part(WAF_ASSOCIATED, true, "Associated", format!("web ACL {arn} is associated"))
        }
        Some(_) => part(WAF_ASSOCIATED, false, reason::PROGRESSING, "the web ACL is not associated yet".into()),
    };
    let dns_condition = match &desired.dns {
        None => part(DNS_PUBLISHED, false, reason::NOT_REQUESTED, "spec.dns is not set".into()),
        Some(d) if records.len() == d.record_types.len() => {
            part(DNS_PUBLISHED, true, "Published", format!("{} {} published", d.name, d.record_types.join(" and ")))
        }
        Some(d) => part(DNS_PUBLISHED, false, reason::PROGRESSING, format!("{} is not published yet", d.name)),
    };
    let mut alarms: Vec<AlarmStatus> = observed
        .cloudwatch
        .alarms
        .iter()
        .filter(|a| a.owned_as(owner).is_some())
        .map(|a| AlarmStatus {
            name: a.name.clone(),
            arn: a.arn.clone(),
            region: a.region.clone(),
            state: a.state.clone(),
        })
        .collect();
    alarms.sort_by(|a, b| a.name.cmp(&b.name));
    let alarms_condition = match &desired.alarms {
        None => part(ALARMS_CONFIGURED, false, reason::NOT_REQUESTED, "spec.alarms is not set".into()),
        Some(want) => {
            let missing: Vec<&str> = want
                .alarms
                .iter()
                .filter(|w| !alarms.iter().any(|a| a.name == w.name))
                .map(|w| w.name.as_str())
                .collect();
            if missing.is_empty() {
                part(ALARMS_CONFIGURED, true, "Configured", format!("{} alarms configured", want.alarms.len()))
            } else {
                part(
                    ALARMS_CONFIGURED,
                    false,
                    reason::PROGRESSING,
                    format!("alarms not configured yet: {}", missing.join(", ")),
                )
            }
        }
    };
    LoadBalancerPolicyStatus {
        conditions: vec![lb_condition, waf_condition, dns_condition, alarms_condition],
        alarms,
        region: Some(desired.placement.region.clone()),
        load_balancer_arn: lb.map(|l| l.arn.clone()),
        dns_name: lb.map(|l| l.dns_name.clone()),
        canonical_hosted_zone_id: lb.map(|l| l.canonical_hosted_zone_id.clone()),
        // Every owned load balancer's subnets, a predecessor's during a replacement too.
        subnet_ids: elb
            .owned_load_balancers(owner)
            .flat_map(|l| l.subnet_ids.iter().cloned())
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect(),
        security_group_id: security_group::find(owner, &observed.security_groups, SECURITY_GROUP).map(|s| s.id.clone()),
        target_groups: desired
            .elbv2
            .target_groups
            .iter()
            .filter_map(|t| Some(NamedArn { name: t.name.clone(), arn: owned_tg(&t.component)?.arn.clone() }))
            .collect(),
        listeners,
        web_acl_arn,
        shield_protection_id: lb
            .filter(|_| desired.shield)
            .and_then(|l| shield::of(&observed.protections, &l.arn))
            .map(|p| p.id.clone()),
        health_check_id,
        records,
        ..Default::default()
    }
}
