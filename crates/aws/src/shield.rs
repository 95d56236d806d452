//! Shield Advanced (a global service, through us-east-1): observe protections by the IDs the
//! status records and by the ARNs of the resources that may be protected (`DescribeProtection`),
//! with their tags; run the Shield steps.

use aws_sdk_shield as shield;
use securecart_plan::Tags;
use securecart_plan::shield::{Protection, Step};

use crate::{Aws, AwsError, ErrorKind, GLOBAL_REGION, Output, ok_if_gone};

const SERVICE: &str = "shield";

pub struct Shield {
    aws: Aws,
    client: shield::Client,
    /// The global service's endpoint region.
    region: String,
}

impl Aws {
    /// The Shield adapter (global).
    pub async fn shield(&self) -> Shield {
        let client = self.client(SERVICE, GLOBAL_REGION, |c| crate::sdk::client!(aws_sdk_shield, c)).await;
        Shield { aws: self.clone(), client, region: GLOBAL_REGION.into() }
    }
}

fn tags_of(tags: &Tags) -> Vec<shield::types::Tag> {
    tags.iter().map(|(k, v)| shield::types::Tag::builder().key(k).value(v).build()).collect()
}

impl Shield {
    crate::sdk::adapter_call!(SERVICE);

    /// The protections with `ids`, and those of `resource_arns` not among them, whoever made
    /// them (the planner reads the tags). One that does not exist is none.
    pub async fn observe(&self, ids: &[String], resource_arns: &[String]) -> Result<Vec<Protection>, AwsError> {
        let mut out: Vec<Protection> = Vec::new();
        for id in ids {
            if let Some(p) = self.describe(Some(id), None).await?
                && !out.iter().any(|o| o.id == p.id)
            {
                out.push(p);
            }
        }
        for arn in resource_arns {
            if out.iter().any(|p| &p.resource_arn == arn) {
                continue;
            }
            if let Some(p) = self.describe(None, Some(arn)).await? {
                out.push(p);
            }
        }
        Ok(out)
    }

    async fn describe(&self, id: Option<&str>, resource_arn: Option<&str>) -> Result<Option<Protection>, AwsError> {
        let request = self
            .client
            .describe_protection()
            .set_protection_id(id.map(str::to_string))
            .set_resource_arn(resource_arn.map(str::to_string));
        let out = match self.call("DescribeProtection", false, request.send()).await {
            Ok(o) => o,
            // No such protection (or no subscription) reads as ResourceNotFound.
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(p) = out.protection() else { return Ok(None) };
        let (Some(id), Some(resource)) = (p.id(), p.resource_arn()) else { return Ok(None) };
        let arn = p.protection_arn().unwrap_or_default().to_string();
        let tags = self
            .call("ListTagsForResource", false, self.client.list_tags_for_resource().resource_arn(&arn).send())
            .await?
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
            .collect();
        Ok(Some(Protection { id: id.into(), arn, resource_arn: resource.into(), tags }))
    }

    /// Runs one Shield step; returns what it created.
    pub(crate) async fn run(&self, step: &Step) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::CreateProtection { name, resource_arn, tags, .. } => {
                let request = c.create_protection().name(name).resource_arn(resource_arn).set_tags(Some(tags_of(tags)));
                let out = self.call("CreateProtection", true, request.send()).await?;
                let id = out.protection_id().ok_or_else(|| AwsError::malformed("CreateProtection", "no ID"))?;
                Ok(Output::id(id))
            }
            Step::SetTags { arn, tags, .. } => {
                let request = c.tag_resource().resource_arn(arn).set_tags(Some(tags_of(tags)));
                self.call("TagResource", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteProtection { id } => {
                ok_if_gone(self.call("DeleteProtection", true, c.delete_protection().protection_id(id).send()).await)
            }
        }
    }
}
