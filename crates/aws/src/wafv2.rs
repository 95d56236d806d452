//! WAFv2: observe an owner's web ACLs by the ARNs the status records (`GetWebACL` by name and
//! ID, both in the ARN), listing the scope's ACLs only when searching (and reading tags only of
//! those named as the owner names them), and the associations of the resources asked about
//! (`GetWebACLForResource`); run the WAFv2 steps. A CLOUDFRONT-scope adapter talks to us-east-1.

use std::collections::HashMap;

use aws_sdk_wafv2 as waf;
use securecart_api::tags::OWNER_UID;
use securecart_plan::Tags;
use securecart_plan::step::fields;
use securecart_plan::wafv2::{Association, Observed, Scope, Step, WafRules, WebAcl, web_acl_name_suffix};

use crate::{Aws, AwsError, ErrorKind, GLOBAL_REGION, Output, ok_if_gone, resolve};

const SERVICE: &str = "wafv2";
const RATE_RULE: &str = "rate-limit-per-ip";

pub struct Wafv2 {
    aws: Aws,
    client: waf::Client,
    region: String,
    scope: Scope,
}

impl Aws {
    /// The WAFv2 adapter for `scope`: REGIONAL in `region`, CLOUDFRONT in us-east-1.
    pub async fn wafv2(&self, scope: Scope, region: &str) -> Wafv2 {
        let region = match scope {
            Scope::Regional => region,
            Scope::CloudFront => GLOBAL_REGION,
        };
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_wafv2, c)).await;
        Wafv2 { aws: self.clone(), client, region: region.to_string(), scope }
    }
}

/// What an observation of one owner's web ACLs may rely on.
#[derive(Clone, Copy, Debug, Default)]
pub struct WafScope<'a> {
    pub owner_uid: &'a str,
    /// ACL ARNs the status records.
    pub acl_arns: &'a [String],
    /// Something may exist unrecorded: list the scope's ACLs.
    pub search: bool,
    /// Regional resources whose association to read.
    pub resources: &'a [String],
}

fn built<T, E: std::fmt::Display>(operation: &'static str, r: Result<T, E>) -> Result<T, AwsError> {
    r.map_err(|e| AwsError::malformed(operation, &e.to_string()))
}

fn waf_tags(tags: &Tags) -> Result<Vec<waf::types::Tag>, AwsError> {
    tags.iter().map(|(k, v)| built("BuildTag", waf::types::Tag::builder().key(k).value(v).build())).collect()
}

fn scope_of(scope: Scope) -> waf::types::Scope {
    match scope {
        Scope::Regional => waf::types::Scope::Regional,
        Scope::CloudFront => waf::types::Scope::Cloudfront,
    }
}

/// Name and ID from `arn:aws:wafv2:<region>:<account>:<scope>/webacl/<name>/<id>`.
fn name_and_id(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.rsplitn(3, '/');
    let id = parts.next()?;
    let name = parts.next()?;
    parts.next().filter(|rest| rest.ends_with("webacl")).map(|_| (name, id))
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

fn default_action(rules: &WafRules) -> waf::types::DefaultAction {
    if rules.default_action == "Block" {
        waf::types::DefaultAction::builder().block(waf::types::BlockAction::builder().build()).build()
    } else {
        waf::types::DefaultAction::builder().allow(waf::types::AllowAction::builder().build()).build()
    }
}

/// Managed rule groups first, in the spec's order, then the rate rule.
fn rules_of(rules: &WafRules) -> Result<Vec<waf::types::Rule>, AwsError> {
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

/// Reads back what `rules_of` wrote; rules of other shapes make the ACL differ, so it is rewritten.
fn observed_rules(acl: &waf::types::WebAcl) -> WafRules {
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

impl Wafv2 {
    crate::sdk::adapter_call!(SERVICE);

    /// The owner's web ACLs and the associations of `scope.resources`.
    pub async fn observe(&self, scope: WafScope<'_>) -> Result<Observed, AwsError> {
        let mut candidates: Vec<(String, String, String)> = scope
            .acl_arns
            .iter()
            .filter_map(|arn| name_and_id(arn).map(|(n, i)| (arn.clone(), n.to_string(), i.to_string())))
            .collect();
        if scope.search {
            // Every ACL of the scope is listed, but only those named as this owner names them
            // cost a tag read.
            let suffix = web_acl_name_suffix(scope.owner_uid);
            for s in self.list_web_acls().await? {
                let (Some(arn), Some(id), Some(name)) = (s.arn(), s.id(), s.name()) else { continue };
                if name.ends_with(&suffix) && !candidates.iter().any(|(a, _, _)| a == arn) {
                    candidates.push((arn.into(), name.into(), id.into()));
                }
            }
        }
        let mut web_acls = Vec::new();
        for (arn, name, id) in candidates {
            let tags = match self.tags_of(&arn).await {
                Err(e) if e.kind == ErrorKind::NotFound => continue,
                other => other?,
            };
            if tags.get(OWNER_UID).map(String::as_str) != Some(scope.owner_uid) {
                continue;
            }
            let request = self.client.get_web_acl().scope(scope_of(self.scope)).name(&name).id(&id);
            let acl = match self.call("GetWebACL", false, request.send()).await {
                Err(e) if e.kind == ErrorKind::NotFound => continue,
                other => other?,
            };
            let Some(acl) = acl.web_acl() else { continue };
            web_acls.push(WebAcl { arn, id, name, scope: self.scope, rules: observed_rules(acl), tags });
        }
        let associations = futures::future::try_join_all(scope.resources.iter().map(|r| self.association(r))).await?;
        Ok(Observed { web_acls, associations })
    }

    async fn list_web_acls(&self) -> Result<Vec<waf::types::WebAclSummary>, AwsError> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let request = self.client.list_web_acls().scope(scope_of(self.scope)).set_next_marker(marker);
            let page = self.call("ListWebACLs", false, request.send()).await?;
            out.extend(page.web_acls().iter().cloned());
            // WAF returns a marker even on the last page; an empty page ends the listing.
            marker = page.next_marker().map(str::to_string).filter(|m| !m.is_empty() && !page.web_acls().is_empty());
            if marker.is_none() {
                return Ok(out);
            }
        }
    }

    async fn tags_of(&self, arn: &str) -> Result<Tags, AwsError> {
        let out = self
            .call("ListTagsForResource", false, self.client.list_tags_for_resource().resource_arn(arn).send())
            .await?;
        Ok(out
            .tag_info_for_resource()
            .map(|t| t.tag_list().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
            .unwrap_or_default())
    }

    async fn association(&self, resource_arn: &str) -> Result<Association, AwsError> {
        let request = self.client.get_web_acl_for_resource().resource_arn(resource_arn);
        let web_acl_arn = match self.call("GetWebACLForResource", false, request.send()).await {
            Ok(o) => o.web_acl().map(|a| a.arn().to_string()),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Association { resource_arn: resource_arn.into(), web_acl_arn })
    }

    async fn lock_token(&self, name: &str, id: &str) -> Result<String, AwsError> {
        let request = self.client.get_web_acl().scope(scope_of(self.scope)).name(name).id(id);
        let out = self.call("GetWebACL", false, request.send()).await?;
        out.lock_token().map(str::to_string).ok_or_else(|| AwsError::malformed("GetWebACL", "no lock token"))
    }

    /// Runs one WAFv2 step; returns what it created.
    pub(crate) async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let c = &self.client;
        let scope = scope_of(self.scope);
        match step {
            Step::CreateWebAcl { name, rules, tags, .. } => {
                let request = c
                    .create_web_acl()
                    .name(name)
                    .scope(scope)
                    .default_action(default_action(rules))
                    .visibility_config(visibility(name)?)
                    .set_rules(Some(rules_of(rules)?))
                    .set_tags(Some(waf_tags(tags)?));
                let out = self.call("CreateWebACL", true, request.send()).await?;
                let arn = out.summary().and_then(|s| s.arn());
                let output = Output::id(arn.ok_or_else(|| AwsError::malformed("CreateWebACL", "no ARN"))?);
                Ok(output.with(fields::WEB_ACL_ID, out.summary().and_then(|s| s.id())))
            }
            Step::SetTags { arn, tags, .. } => {
                let request = c.tag_resource().resource_arn(arn).set_tags(Some(waf_tags(tags)?));
                self.call("TagResource", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::UpdateWebAcl { id, name, rules, .. } => {
                let lock_token = self.lock_token(name, id).await?;
                let request = c
                    .update_web_acl()
                    .name(name)
                    .scope(scope)
                    .id(id)
                    .lock_token(lock_token)
                    .default_action(default_action(rules))
                    .visibility_config(visibility(name)?)
                    .set_rules(Some(rules_of(rules)?));
                self.call("UpdateWebACL", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteWebAcl { id, name, .. } => {
                let lock_token = match self.lock_token(name, id).await {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::NotFound => return Ok(Output::none()),
                    Err(e) => return Err(e),
                };
                let request = c.delete_web_acl().name(name).scope(scope).id(id).lock_token(lock_token);
                ok_if_gone(self.call("DeleteWebACL", true, request.send()).await)
            }
            Step::AssociateWebAcl { web_acl, resource_arn } => {
                let request = c.associate_web_acl().web_acl_arn(resolve(web_acl, created)?).resource_arn(resource_arn);
                self.call("AssociateWebACL", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DisassociateWebAcl { resource_arn } => ok_if_gone(
                self.call("DisassociateWebACL", true, c.disassociate_web_acl().resource_arn(resource_arn).send()).await,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::name_and_id;

    #[test]
    fn names_and_ids_come_from_the_arn() {
        let arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/platform-storefront-884fcb5f/a1b2-c3";
        assert_eq!(name_and_id(arn), Some(("platform-storefront-884fcb5f", "a1b2-c3")));
        let global = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/0f";
        assert_eq!(name_and_id(global), Some(("edge", "0f")));
        assert_eq!(name_and_id("arn:aws:wafv2:us-east-1:123456789012:regional/ipset/x/1"), None);
    }
}
