//! CloudFront (a global service, through us-east-1): observe the owner's distributions (by the
//! IDs the status records; with `search`, every distribution's tags, and the caller reference of
//! untagged ones the controller's comment marks) and origin access controls (by name and ID,
//! with the ETag each update or delete sends); run the CloudFront steps.
//!
//! Updates read the distribution's configuration at run time and refuse to go on when its ETag
//! is no longer the one the plan was made from; otherwise they write only the managed fields
//! onto it and send that ETag as IfMatch, so a change made in between is refused by AWS, and
//! nothing the controller does not manage is reset.

mod config;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use aws_sdk_cloudfront as sdk;
use aws_sdk_cloudfront::types as cf;
use securecart_plan::Tags;
use securecart_plan::cloudfront::{
    AccessControlConfig, COMMENT_PREFIX, ConfigRefs, Distribution, DistributionConfig, Observed, OriginAccessControl,
    OriginKind, Step,
};
use securecart_plan::route53::made_by;

use crate::{Aws, AwsError, ErrorKind, GLOBAL_REGION, Output, ok_if_gone};
use config::built;

const SERVICE: &str = "cloudfront";

pub struct CloudFront {
    aws: Aws,
    client: sdk::Client,
    region: String,
}

/// What to read: the distributions the status records, the origin access controls the desired
/// state or the status names; with `search`, by tags and caller reference too.
pub struct CloudFrontScope<'a> {
    pub owner_uid: &'a str,
    pub distribution_ids: &'a [String],
    pub origin_access_control_ids: &'a [String],
    /// `cloudfront::access_control_names(owner, desired, known)`.
    pub origin_access_control_names: &'a [String],
    pub search: bool,
}

impl Aws {
    /// The CloudFront adapter (global, through us-east-1).
    pub async fn cloudfront(&self) -> CloudFront {
        let client = self.client(SERVICE, GLOBAL_REGION, |c| crate::sdk::client!(aws_sdk_cloudfront, c)).await;
        CloudFront { aws: self.clone(), client, region: GLOBAL_REGION.into() }
    }
}

fn sdk_tags(tags: &Tags) -> Result<cf::Tags, AwsError> {
    let items = tags
        .iter()
        .map(|(k, v)| built("TagResource", cf::Tag::builder().key(k).value(v).build()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(cf::Tags::builder().set_items(Some(items)).build())
}

fn access_control_config(c: &AccessControlConfig) -> Result<cf::OriginAccessControlConfig, AwsError> {
    built(
        "CreateOriginAccessControl",
        cf::OriginAccessControlConfig::builder()
            .name(&c.name)
            .description(&c.description)
            .signing_protocol(cf::OriginAccessControlSigningProtocols::from(c.signing_protocol.as_str()))
            .signing_behavior(cf::OriginAccessControlSigningBehaviors::from(c.signing_behavior.as_str()))
            .origin_access_control_origin_type(cf::OriginAccessControlOriginTypes::from(c.origin_type.as_str()))
            .build(),
    )
}

fn read_access_control(id: &str, etag: &str, c: &cf::OriginAccessControlConfig) -> OriginAccessControl {
    OriginAccessControl {
        id: id.to_string(),
        etag: etag.to_string(),
        config: AccessControlConfig {
            name: c.name().to_string(),
            description: c.description().unwrap_or_default().to_string(),
            origin_type: c.origin_access_control_origin_type().as_str().to_string(),
            signing_behavior: c.signing_behavior().as_str().to_string(),
            signing_protocol: c.signing_protocol().as_str().to_string(),
        },
    }
}

/// `want` with the IDs its references resolve to written into it.
fn resolved(
    want: &DistributionConfig,
    refs: &ConfigRefs,
    created: &HashMap<String, String>,
) -> Result<DistributionConfig, AwsError> {
    let mut config = want.clone();
    for origin in &mut config.origins {
        if let (OriginKind::S3 { origin_access_control_id }, Some(r)) =
            (&mut origin.kind, refs.origin_access_controls.get(&origin.id))
        {
            *origin_access_control_id = Some(crate::resolve(r, created)?);
        }
    }
    if let Some(acl) = &refs.web_acl {
        config.web_acl_id = Some(crate::resolve(acl, created)?);
    }
    Ok(config)
}

impl CloudFront {
    crate::sdk::adapter_call!(SERVICE);

    pub async fn observe(&self, scope: CloudFrontScope<'_>) -> Result<Observed, AwsError> {
        let mut out = Observed::default();
        for id in scope.distribution_ids {
            if let Some(d) = self.distribution(id, None).await? {
                out.distributions.push(d);
            }
        }
        if scope.search {
            self.search(scope.owner_uid, &mut out).await?;
        }
        if !scope.origin_access_control_names.is_empty() || !scope.origin_access_control_ids.is_empty() {
            out.origin_access_controls = self.access_controls(&scope).await?;
        }
        Ok(out)
    }

    /// Every distribution of the account, by its tags: the owner's, and untagged ones with the
    /// controller's comment whose caller reference is one of the owner's tokens.
    async fn search(&self, owner_uid: &str, out: &mut Observed) -> Result<(), AwsError> {
        let mut marker: Option<String> = None;
        loop {
            let request = self.client.list_distributions().set_marker(marker.clone());
            let page = self.call("ListDistributions", false, request.send()).await?;
            let Some(list) = page.distribution_list() else { break };
            for s in list.items() {
                if out.distributions.iter().any(|d| d.id == s.id()) {
                    continue;
                }
                let tags = self.tags(s.arn()).await?;
                let ours = tags.get(securecart_api::tags::OWNER_UID).map(String::as_str) == Some(owner_uid);
                let untagged = !tags.contains_key(securecart_api::tags::OWNER_UID);
                // An untagged one is read only when the controller's comment marks it.
                if (ours || (untagged && s.comment().starts_with(COMMENT_PREFIX)))
                    && let Some(d) = self.distribution(s.id(), Some(tags)).await?
                    && (ours || made_by(owner_uid, &d.caller_reference))
                {
                    out.distributions.push(d);
                }
            }
            marker = list.next_marker().filter(|_| list.is_truncated()).map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        Ok(())
    }

    async fn tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let request = self.client.list_tags_for_resource().resource(arn);
        let out = self.call("ListTagsForResource", false, request.send()).await?;
        Ok(out
            .tags()
            .map(|t| t.items())
            .unwrap_or_default()
            .iter()
            .map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string()))
            .collect())
    }

    /// The distribution `id` with its configuration, ETag and tags; None when it does not exist.
    async fn distribution(&self, id: &str, tags: Option<Tags>) -> Result<Option<Distribution>, AwsError> {
        let out = match self.call("GetDistribution", false, self.client.get_distribution().id(id).send()).await {
            Ok(o) => o,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let etag = out.e_tag().ok_or_else(|| AwsError::malformed("GetDistribution", "no ETag"))?.to_string();
        let Some(d) = out.distribution() else { return Ok(None) };
        let c = d.distribution_config().ok_or_else(|| AwsError::malformed("GetDistribution", "no configuration"))?;
        let tags = match tags {
            Some(t) => t,
            None => self.tags(d.arn()).await?,
        };
        Ok(Some(Distribution {
            id: d.id().to_string(),
            arn: d.arn().to_string(),
            domain_name: d.domain_name().to_string(),
            status: d.status().to_string(),
            etag,
            caller_reference: c.caller_reference().to_string(),
            config: config::read(c),
            tags,
        }))
    }

    /// The access controls with the names or IDs asked for, each with its ETag.
    async fn access_controls(&self, scope: &CloudFrontScope<'_>) -> Result<Vec<OriginAccessControl>, AwsError> {
        let mut ids: Vec<String> = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self.client.list_origin_access_controls().set_marker(marker.clone());
            let page = self.call("ListOriginAccessControls", false, request.send()).await?;
            let Some(list) = page.origin_access_control_list() else { break };
            for s in list.items() {
                let wanted = scope.origin_access_control_names.iter().any(|n| n == s.name())
                    || scope.origin_access_control_ids.iter().any(|i| i == s.id());
                if wanted && !ids.iter().any(|i| i == s.id()) {
                    ids.push(s.id().to_string());
                }
            }
            marker = list.next_marker().filter(|_| list.is_truncated()).map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        let mut out = Vec::new();
        for id in ids {
            let request = self.client.get_origin_access_control().id(&id);
            let got = match self.call("GetOriginAccessControl", false, request.send()).await {
                Ok(o) => o,
                Err(e) if e.kind == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let etag = got.e_tag().unwrap_or_default();
            if let Some(c) = got.origin_access_control().and_then(|o| o.origin_access_control_config()) {
                out.push(read_access_control(&id, etag, c));
            }
        }
        Ok(out)
    }

    /// The configuration as it is now, if its ETag is still `etag`: a plan made from an older
    /// read must be made again (retryable), never written over a change it did not see.
    async fn config_at(
        &self,
        operation: &'static str,
        id: &str,
        etag: &str,
    ) -> Result<cf::DistributionConfig, AwsError> {
        let out =
            self.call("GetDistributionConfig", false, self.client.get_distribution_config().id(id).send()).await?;
        let now = out.e_tag().unwrap_or_default();
        if now != etag {
            return Err(AwsError {
                kind: ErrorKind::Retryable,
                operation,
                code: "PreconditionFailed".into(),
                message: format!("distribution {id} changed since it was read (ETag {etag}, now {now})"),
            });
        }
        out.distribution_config()
            .cloned()
            .ok_or_else(|| AwsError::malformed("GetDistributionConfig", "no configuration"))
    }

    async fn update(&self, id: &str, etag: &str, config: cf::DistributionConfig) -> Result<Output, AwsError> {
        let request = self.client.update_distribution().id(id).if_match(etag).distribution_config(config);
        let out = self.call("UpdateDistribution", true, request.send()).await?;
        Ok(Output::none().with("status", out.distribution().map(|d| d.status().to_string())).with("etag", out.e_tag()))
    }

    /// Runs one CloudFront step; `token` is the create intent's (the CallerReference).
    pub(crate) async fn run(
        &self,
        step: &Step,
        created: &HashMap<String, String>,
        token: Option<&str>,
    ) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::CreateOriginAccessControl { config, .. } => {
                let request =
                    c.create_origin_access_control().origin_access_control_config(access_control_config(config)?);
                let out = self.call("CreateOriginAccessControl", true, request.send()).await?;
                let id = out
                    .origin_access_control()
                    .map(|o| o.id())
                    .ok_or_else(|| AwsError::malformed("CreateOriginAccessControl", "no ID"))?;
                Ok(Output::id(id))
            }
            Step::UpdateOriginAccessControl { id, etag, config } => {
                let request = c
                    .update_origin_access_control()
                    .id(id)
                    .if_match(etag)
                    .origin_access_control_config(access_control_config(config)?);
                self.call("UpdateOriginAccessControl", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteOriginAccessControl { id, etag, .. } => {
                let request = c.delete_origin_access_control().id(id).if_match(etag);
                ok_if_gone(self.call("DeleteOriginAccessControl", true, request.send()).await)
            }
            Step::CreateDistribution { config: want, refs, tags, .. } => {
                let token = token.ok_or_else(|| AwsError {
                    kind: ErrorKind::Terminal,
                    operation: "CreateDistributionWithTags",
                    code: "MissingCallerReference".into(),
                    message: "a distribution is created only with its intent's token".into(),
                })?;
                let config = config::fresh(token, &resolved(want, refs, created)?)?;
                let with_tags =
                    cf::DistributionConfigWithTags::builder().distribution_config(config).tags(sdk_tags(tags)?).build();
                let request = c.create_distribution_with_tags().distribution_config_with_tags(with_tags);
                let out = self.call("CreateDistributionWithTags", true, request.send()).await?;
                let d = out
                    .distribution()
                    .ok_or_else(|| AwsError::malformed("CreateDistributionWithTags", "no distribution"))?;
                Ok(Output::id(d.id())
                    .with("arn", Some(d.arn()))
                    .with("domain_name", Some(d.domain_name()))
                    .with("status", Some(d.status())))
            }
            Step::UpdateDistribution { id, etag, config: want, refs } => {
                let mut config = self.config_at("UpdateDistribution", id, etag).await?;
                config::apply(&mut config, &resolved(want, refs, created)?, "UpdateDistribution")?;
                self.update(id, etag, config).await
            }
            Step::DisableDistribution { id, etag } => {
                let mut config = self.config_at("UpdateDistribution", id, etag).await?;
                config.enabled = false;
                config.web_acl_id = Some(String::new());
                self.update(id, etag, config).await
            }
            Step::DeleteDistribution { id, etag } => ok_if_gone(
                self.call("DeleteDistribution", true, c.delete_distribution().id(id).if_match(etag).send()).await,
            ),
            Step::SetTags { arn, tags, .. } => {
                let request = c.tag_resource().resource(arn).tags(sdk_tags(tags)?);
                self.call("TagResource", true, request.send()).await?;
                Ok(Output::none())
            }
        }
    }
}
