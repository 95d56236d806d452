//! STS: which account the controller's own credentials are in (to tell whether a peer is in
//! another account). Assuming roles is the credentials provider's (see `sdk::assume_role`).

use crate::{Aws, AwsError, GLOBAL_REGION};

/// Every call here is an STS call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "sts";

struct Sts {
    aws: Aws,
    client: aws_sdk_sts::Client,
    region: String,
}

impl Sts {
    crate::sdk::adapter_call!(SERVICE);
}

/// GetCallerIdentity's account.
pub(crate) async fn caller_account(aws: &Aws) -> Result<String, AwsError> {
    let client = aws.client(SERVICE, GLOBAL_REGION, |c| crate::sdk::client!(aws_sdk_sts, c)).await;
    let sts = Sts { aws: aws.clone(), client, region: GLOBAL_REGION.into() };
    let out = sts.call("GetCallerIdentity", false, sts.client.get_caller_identity().send()).await?;
    out.account().map(str::to_string).ok_or_else(|| AwsError::malformed("GetCallerIdentity", "no account"))
}
