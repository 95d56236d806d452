//! PLACEHOLDER: the CloudFront adapter is being written (branch work, never merged like this).

use std::collections::HashMap;

use securecart_plan::cloudfront::{Observed, Step};

use crate::{Aws, AwsError, GLOBAL_REGION, Output};

const SERVICE: &str = "cloudfront";

pub struct CloudFront {
    aws: Aws,
    client: aws_sdk_cloudfront::Client,
    region: String,
}

/// What to read: the distributions the status records, the origin access controls the desired
/// state or the status names; with `search`, by tags, caller reference and names too.
pub struct CloudFrontScope<'a> {
    pub owner_uid: &'a str,
    pub distribution_ids: &'a [String],
    pub origin_access_control_ids: &'a [String],
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

impl CloudFront {
    crate::sdk::adapter_call!(SERVICE);

    pub async fn observe(&self, _scope: CloudFrontScope<'_>) -> Result<Observed, AwsError> {
        let _ = (&self.client, &self.region, &self.aws);
        Ok(Observed::default())
    }

    pub(crate) async fn run(
        &self,
        step: &Step,
        _created: &HashMap<String, String>,
        _token: Option<&str>,
    ) -> Result<Output, AwsError> {
        match *step {}
    }
}
