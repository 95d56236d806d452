//! The ELBv2 steps.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2 as elb;
use securecart_plan::Output;
use securecart_plan::elbv2::{Action, HTTPS_REDIRECT_PORT, HealthSettings, Step};
use securecart_plan::owner::Tags;
use securecart_plan::step::fields;

use super::Elbv2;
use crate::{AwsError, ok_if_gone, resolve};

/// Every call of this adapter is an ELBv2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "elasticloadbalancing";

fn tags_of(tags: &Tags) -> Vec<elb::types::Tag> {
    tags.iter().map(|(k, v)| elb::types::Tag::builder().key(k).value(v).build()).collect()
}

fn action_of(action: &Action, created: &HashMap<String, String>) -> Result<elb::types::Action, AwsError> {
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
                    .port(HTTPS_REDIRECT_PORT)
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

fn matcher(h: &HealthSettings) -> Option<elb::types::Matcher> {
    h.matcher.as_ref().map(|m| elb::types::Matcher::builder().http_code(m).build())
}

/// The ARN a create answered with.
fn created_arn(operation: &'static str, arn: Option<&str>) -> Result<Output, AwsError> {
    Ok(Output::id(arn.ok_or_else(|| AwsError::malformed(operation, "no ARN"))?))
}

impl Elbv2 {
    crate::sdk::adapter_call!(SERVICE);

    /// Runs one ELBv2 step; returns what it created.
    pub(crate) async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let c = &self.client;
        let resolve = |r: &securecart_plan::Ref| resolve(r, created);
        match step {
            Step::SetTags { arn, tags, .. } => {
                self.call("AddTags", true, c.add_tags().resource_arns(arn).set_tags(Some(tags_of(tags))).send())
                    .await?;
                Ok(Output::none())
            }
            Step::CreateTargetGroup { target_group: t, vpc_id, tags } => {
                let h = &t.health;
                let request = c
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
                    .set_matcher(matcher(h))
                    .set_tags(Some(tags_of(tags)));
                let out = self.call("CreateTargetGroup", true, request.send()).await?;
                created_arn("CreateTargetGroup", out.target_groups().first().and_then(|t| t.target_group_arn()))
            }
            Step::ModifyTargetGroupHealthCheck { arn, health: h } => {
                let request = c
                    .modify_target_group()
                    .target_group_arn(arn)
                    .set_health_check_path(h.path.clone())
                    .set_health_check_interval_seconds(h.interval_seconds)
                    .set_healthy_threshold_count(h.healthy_threshold)
                    .set_unhealthy_threshold_count(h.unhealthy_threshold)
                    .set_matcher(matcher(h));
                self.call("ModifyTargetGroup", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteTargetGroup { arn } => ok_if_gone(
                self.call("DeleteTargetGroup", true, c.delete_target_group().target_group_arn(arn).send()).await,
            ),
            Step::CreateLoadBalancer { load_balancer: l, subnet_ids, security_group, tags, .. } => {
                let security_groups = security_group.as_ref().map(resolve).transpose()?.map(|g| vec![g]);
                let scheme =
                    Some(l.scheme.as_str()).filter(|s| !s.is_empty()).map(elb::types::LoadBalancerSchemeEnum::from);
                let request = c
                    .create_load_balancer()
                    .name(&l.name)
                    .r#type(elb::types::LoadBalancerTypeEnum::from(l.lb_type.as_str()))
                    .set_scheme(scheme)
                    .ip_address_type(elb::types::IpAddressType::from(l.ip_address_type.as_str()))
                    .set_subnets(Some(subnet_ids.clone()))
                    .set_security_groups(security_groups)
                    .set_tags(Some(tags_of(tags)));
                let out = self.call("CreateLoadBalancer", true, request.send()).await?;
                let made = out.load_balancers().first().and_then(super::load_balancer);
                let made = made.ok_or_else(|| AwsError::malformed("CreateLoadBalancer", "no ARN"))?;
                // What the policy's model needs of it without reading it back (its records alias it).
                Ok(Output::id(made.arn)
                    .with(fields::STATE, Some(made.state).filter(|s| !s.is_empty()))
                    .with(fields::DNS_NAME, Some(made.dns_name).filter(|s| !s.is_empty()))
                    .with(
                        fields::CANONICAL_HOSTED_ZONE_ID,
                        Some(made.canonical_hosted_zone_id).filter(|s| !s.is_empty()),
                    )
                    .with(fields::SCHEME, Some(made.scheme).filter(|s| !s.is_empty())))
            }
            Step::SetLoadBalancerAttributes { load_balancer, attributes } => {
                let attributes = attributes
                    .iter()
                    .map(|(k, v)| elb::types::LoadBalancerAttribute::builder().key(k).value(v).build())
                    .collect();
                let request = c
                    .modify_load_balancer_attributes()
                    .load_balancer_arn(resolve(load_balancer)?)
                    .set_attributes(Some(attributes));
                self.call("ModifyLoadBalancerAttributes", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::SetSubnets { arn, subnet_ids } => {
                let request = c.set_subnets().load_balancer_arn(arn).set_subnets(Some(subnet_ids.clone()));
                self.call("SetSubnets", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::SetIpAddressType { arn, ip_address_type } => {
                let request = c
                    .set_ip_address_type()
                    .load_balancer_arn(arn)
                    .ip_address_type(elb::types::IpAddressType::from(ip_address_type.as_str()));
                self.call("SetIpAddressType", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteLoadBalancer { arn } => ok_if_gone(
                self.call("DeleteLoadBalancer", true, c.delete_load_balancer().load_balancer_arn(arn).send()).await,
            ),
            Step::CreateListener { load_balancer, port, protocol, certificate_arn, action, tags, .. } => {
                let request = c
                    .create_listener()
                    .load_balancer_arn(resolve(load_balancer)?)
                    .set_port(port.map(i32::from))
                    .set_protocol(protocol.as_deref().map(elb::types::ProtocolEnum::from))
                    .set_certificates(certificates(certificate_arn))
                    .default_actions(action_of(action, created)?)
                    .set_tags(Some(tags_of(tags)));
                let out = self.call("CreateListener", true, request.send()).await?;
                created_arn("CreateListener", out.listeners().first().and_then(|l| l.listener_arn()))
            }
            Step::ModifyListener { arn, protocol, certificate_arn, action } => {
                let request = c
                    .modify_listener()
                    .listener_arn(arn)
                    .set_protocol(protocol.as_deref().map(elb::types::ProtocolEnum::from))
                    .set_certificates(certificates(certificate_arn))
                    .default_actions(action_of(action, created)?);
                self.call("ModifyListener", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteListener { arn } => {
                ok_if_gone(self.call("DeleteListener", true, c.delete_listener().listener_arn(arn).send()).await)
            }
            Step::CreateRule { listener, priority, path_patterns, host_headers, target_group, tags, .. } => {
                let request = c
                    .create_rule()
                    .listener_arn(resolve(listener)?)
                    .priority(*priority as i32)
                    .set_conditions(Some(rule_conditions(path_patterns, host_headers)))
                    .actions(action_of(&Action::Forward(target_group.clone()), created)?)
                    .set_tags(Some(tags_of(tags)));
                let out = self.call("CreateRule", true, request.send()).await?;
                created_arn("CreateRule", out.rules().first().and_then(|r| r.rule_arn()))
            }
            Step::ModifyRule { arn, path_patterns, host_headers, target_group } => {
                let request = c
                    .modify_rule()
                    .rule_arn(arn)
                    .set_conditions(Some(rule_conditions(path_patterns, host_headers)))
                    .actions(action_of(&Action::Forward(target_group.clone()), created)?);
                self.call("ModifyRule", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteRule { arn } => {
                ok_if_gone(self.call("DeleteRule", true, c.delete_rule().rule_arn(arn).send()).await)
            }
        }
    }
}
