//! AWS failures, classified the way the controller must react to them.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// How the controller reacts: Terminal needs a spec change (stop retrying, say why); Retryable
/// and Throttled back off and retry; NotFound is success for deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Terminal,
    Retryable,
    Throttled,
    NotFound,
}

impl ErrorKind {
    /// Low-cardinality label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Terminal => "terminal",
            ErrorKind::Retryable => "retryable",
            ErrorKind::Throttled => "throttled",
            ErrorKind::NotFound => "not_found",
        }
    }
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct AwsError {
    pub kind: ErrorKind,
    pub operation: &'static str,
    /// The AWS error code, e.g. `InvalidSubnet.Conflict`, or a transport class.
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub fn is_terminal(&self) -> bool {
        self.kind == ErrorKind::Terminal
    }

    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("Unknown").to_string();
                let message = e.message().unwrap_or_default().to_string();
                Self { kind: classify(&code), operation, code, message }
            }
            SdkError::TimeoutError(_) => Self::transport(operation, "Timeout", "request timed out"),
            SdkError::DispatchFailure(f) => Self::transport(operation, "DispatchFailure", &format!("{f:?}")),
            SdkError::ResponseError(_) => Self::transport(operation, "ResponseError", "could not read the response"),
            other => Self::transport(operation, "SdkError", &other.to_string()),
        }
    }

    fn transport(operation: &'static str, code: &str, message: &str) -> Self {
        Self { kind: ErrorKind::Retryable, operation, code: code.into(), message: message.chars().take(300).collect() }
    }

    /// A request AWS answered but the answer lacks what the call promises.
    pub fn malformed(operation: &'static str, what: &str) -> Self {
        Self { kind: ErrorKind::Retryable, operation, code: "MalformedResponse".into(), message: what.into() }
    }
}

/// Maps an AWS error code to how the controller must react.
pub fn classify(code: &str) -> ErrorKind {
    const THROTTLED: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "PriorRequestNotComplete",
        "SlowDown",
    ];
    const TERMINAL: &[&str] = &[
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidParameter",
        "MissingParameter",
        "InvalidSubnet.Conflict",
        "InvalidSubnet.Range",
        "InvalidVpc.Range",
        "VpcLimitExceeded",
        "SubnetLimitExceeded",
        "AddressLimitExceeded",
        "NatGatewayLimitExceeded",
        "InternetGatewayLimitExceeded",
        "RouteTableLimitExceeded",
        "FlowLogsLimitExceeded",
        "FlowLogAlreadyExists",
        "UnauthorizedOperation",
        "AuthFailure",
        "OptInRequired",
        "InvalidClientTokenId",
        "AccessDenied",
        "AccessDeniedException",
    ];
    if THROTTLED.contains(&code) {
        ErrorKind::Throttled
    } else if code.ends_with(".NotFound") || code.ends_with("NotFound") || code == "Gateway.NotAttached" {
        ErrorKind::NotFound
    } else if TERMINAL.contains(&code) {
        ErrorKind::Terminal
    } else {
        ErrorKind::Retryable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(classify("RequestLimitExceeded"), ErrorKind::Throttled);
        assert_eq!(classify("InvalidSubnetID.NotFound"), ErrorKind::NotFound);
        assert_eq!(classify("NatGatewayNotFound"), ErrorKind::NotFound);
        assert_eq!(classify("Gateway.NotAttached"), ErrorKind::NotFound);
        assert_eq!(classify("InvalidSubnet.Conflict"), ErrorKind::Terminal);
        assert_eq!(classify("UnauthorizedOperation"), ErrorKind::Terminal);
        assert_eq!(classify("DependencyViolation"), ErrorKind::Retryable);
        assert_eq!(classify("InternalError"), ErrorKind::Retryable);
    }
}
