//! STS: which account the controller's own credentials are in (to tell whether a peer is in
//! another account). Assuming roles is the credentials provider's (see `sdk::assume_role`).

use crate::{Aws, AwsError, GLOBAL_REGION};

/// Every call here is an STS call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "sts";

struct Sts<'a> {
    aws: &'a Aws,
    client: aws_sdk_sts::Client,
}

impl Sts<'_> {
    async fn call<T, E>(
        &self,
        operation: &'static str,
        mutating: bool,
        request: impl std::future::Future<
            Output = Result<
                T,
                aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
            >,
        >,
    ) -> Result<T, AwsError>
    where
        T: aws_types::request_id::RequestId,
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.aws.call(SERVICE, GLOBAL_REGION, operation, mutating, request).await
    }
}

/// GetCallerIdentity's account.
pub(crate) async fn caller_account(aws: &Aws) -> Result<String, AwsError> {
    let config = aws.config(GLOBAL_REGION).await;
    let sts = Sts { aws, client: crate::sdk::client!(aws_sdk_sts, &config) };
    let out = sts.call("GetCallerIdentity", false, sts.client.get_caller_identity().send()).await?;
    out.account().map(str::to_string).ok_or_else(|| AwsError::malformed("GetCallerIdentity", "no account"))
}
