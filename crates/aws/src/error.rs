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

    /// The request may have been applied although no answer says so: it timed out, its
    /// connection broke, or AWS failed internally; or the answer says that what it creates
    /// exists already (a caller reference, a name or a resource's one protection taken, as by an
    /// earlier attempt whose answer was lost). A create that ends so must be searched for, and
    /// what is found adopted, before it is made again.
    pub fn outcome_unknown(&self) -> bool {
        const UNKNOWN: &[&str] = &[
            "Timeout",
            "DispatchFailure",
            "ResponseError",
            "SdkError",
            "InternalError",
            "InternalFailure",
            "InternalServerError",
            "ServiceUnavailable",
            "Unavailable",
            "WAFInternalErrorException",
            "InternalErrorException",
            "ServiceUnavailableException",
            "DirectConnectServerException",
            "InternalServiceErrorException",
        ];
        const EXISTS: &[&str] = &[
            "HealthCheckAlreadyExists",
            "WAFDuplicateItemException",
            "ResourceAlreadyExistsException",
            "DBSubnetGroupAlreadyExists",
            "CacheSubnetGroupAlreadyExists",
            // API Gateway: a resource, method or stage of that name exists (an earlier attempt).
            "ConflictException",
            // CloudFront: the caller reference (the intent's token) was used by an earlier
            // attempt whose configuration differed, or the owner-derived control name is taken.
            "DistributionAlreadyExists",
            "OriginAccessControlAlreadyExists",
        ];
        UNKNOWN.contains(&self.code.as_str()) || EXISTS.contains(&self.code.as_str())
    }

    /// What a retried request that adds a route or a rule is answered when an earlier attempt,
    /// whose answer was lost, already added it: the state it asks for is there.
    pub fn done_by_an_earlier_attempt(&self) -> bool {
        const DONE: &[&str] = &["RouteAlreadyExists", "InvalidPermission.Duplicate"];
        DONE.contains(&self.code.as_str())
    }

    /// The error as the controller must treat it once the SDK sent the request more than once.
    /// A conflict with an existing resource is then most likely the resource an earlier attempt
    /// made: not a spec error, but a create whose outcome is unknown, searched for and adopted.
    pub fn after_retry(mut self) -> Self {
        const CONFLICTS: &[&str] = &[
            "InvalidSubnet.Conflict",
            "FlowLogAlreadyExists",
            "DuplicateLoadBalancerName",
            "DuplicateTargetGroupName",
            "DuplicateListener",
            "PriorityInUse",
            "EndpointGroupAlreadyExistsException",
        ];
        if CONFLICTS.contains(&self.code.as_str()) {
            self.kind = ErrorKind::Retryable;
        }
        self
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
        // ELBv2
        "ValidationError",
        "DuplicateLoadBalancerName",
        "DuplicateTargetGroupName",
        "DuplicateListener",
        "PriorityInUse",
        "CertificateNotFound",
        "InvalidConfigurationRequest",
        "InvalidSecurityGroup",
        "InvalidScheme",
        "InvalidSubnet",
        "SubnetNotFound",
        "UnsupportedProtocol",
        "IncompatibleProtocols",
        "TooManyLoadBalancers",
        "TooManyTargetGroups",
        "TooManyListeners",
        "TooManyRules",
        "OperationNotPermitted",
        // WAFv2
        "WAFInvalidParameterException",
        "WAFLimitsExceededException",
        "WAFInvalidResourceException",
        "WAFSubscriptionNotFoundException",
        "WAFExpiredManagedRuleGroupVersionException",
        // Route 53
        "InvalidChangeBatch",
        "InvalidInput",
        "InvalidDomainName",
        "TooManyHealthChecks",
        // CloudWatch: an alarm the API refuses, or the account's alarm quota.
        "InvalidFormat",
        "LimitExceeded",
        // Shield: no Shield Advanced subscription, or a resource that cannot be protected
        "InvalidResourceException",
        "LimitsExceededException",
        // A token reused with other parameters: the spec changed under a pending create.
        "IdempotentParameterMismatch",
        // Transit gateways, VPN and peering
        "TransitGatewayLimitExceeded",
        "TransitGatewayRouteTableLimitExceeded",
        "TransitGatewayAttachmentLimitExceeded",
        "CustomerGatewayLimitExceeded",
        "VpnConnectionLimitExceeded",
        "VpcPeeringConnectionLimitExceeded",
        "InvalidVpcPeeringConnectionID.Malformed",
        // Direct Connect answers a request it will never accept (a gateway of another account,
        // prefixes out of range) so.
        "DirectConnectClientException",
        // Subnet groups: too few zones, quotas
        "DBSubnetGroupDoesNotCoverEnoughAZs",
        "DBSubnetGroupQuotaExceeded",
        "DBSubnetQuotaExceededFault",
        "CacheSubnetGroupQuotaExceeded",
        "CacheSubnetQuotaExceededFault",
        // Global Accelerator: ports or arguments it refuses (an endpoint that is no active load
        // balancer), a second group in a region, the account's quotas.
        "InvalidPortRangeException",
        "InvalidArgumentException",
        "EndpointGroupAlreadyExistsException",
        "LimitExceededException",
        // CloudFront: an alias another distribution holds, a certificate that does not cover the
        // aliases, a configuration it refuses, quotas.
        "CNAMEAlreadyExists",
        "InvalidViewerCertificate",
        "InvalidArgument",
        "InvalidWebACLId",
        "InvalidOrigin",
        "InvalidOriginAccessControl",
        "IllegalUpdate",
        "InconsistentQuantities",
        "NoSuchCachePolicy",
        "NoSuchOriginRequestPolicy",
        "TooManyDistributions",
        "TooManyDistributionCNAMEs",
        "TooManyOrigins",
        "TooManyCacheBehaviors",
        "TooManyOriginAccessControls",
    ];
    // The resource is not there (deleting it is success; observing finds nothing).
    const NOT_FOUND: &[&str] = &[
        "LoadBalancerNotFound",
        "TargetGroupNotFound",
        "ListenerNotFound",
        "RuleNotFound",
        "WAFNonexistentItemException",
        "NoSuchHostedZone",
        "NoSuchHealthCheck",
        "ResourceNotFoundException",
        "InvalidGroup.NotFound",
        "InvalidPermission.NotFound",
        "DBSubnetGroupNotFoundFault",
        "CacheSubnetGroupNotFoundFault",
        // API Gateway
        "NotFoundException",
        // CloudWatch (DeleteAlarms of a name that is gone, tags of a deleted alarm)
        "ResourceNotFound",
        // Global Accelerator
        "AcceleratorNotFoundException",
        "ListenerNotFoundException",
        "EndpointGroupNotFoundException",
        // CloudFront
        "NoSuchDistribution",
        "NoSuchOriginAccessControl",
        "NoSuchResource",
    ];
    // Busy rather than wrong: WAF has not seen a new load balancer yet, a resource is still in
    // use by one being deleted, a lock token went stale, two writers raced (Shield's
    // OptimisticLockException, WAF's duplicate name from a create that did apply).
    const RETRYABLE: &[&str] = &[
        "WAFUnavailableEntityException",
        "WAFOptimisticLockException",
        "WAFDuplicateItemException",
        "OptimisticLockException",
        "WAFAssociatedItemException",
        // A caller reference in use: the create applied earlier, or the reference belongs to a
        // health check deleted since; the search that follows tells which.
        "HealthCheckAlreadyExists",
        "ResourceInUse",
        "HealthCheckInUse",
        "DependencyViolation",
        // A subnet group still used by a database (its users are read before a delete, but one
        // may start meanwhile), or a subnet of it still in use.
        "InvalidDBSubnetGroupStateFault",
        "CacheSubnetGroupInUse",
        "SubnetInUse",
        // A repeated create whose first attempt applied: searched for by name, then adopted.
        "DBSubnetGroupAlreadyExists",
        "CacheSubnetGroupAlreadyExists",
        "ConflictException",
        // Global Accelerator teardown runs ahead of propagation: an accelerator still enabled or
        // deploying, a listener or endpoint group AWS still counts; or a change still applying.
        "AcceleratorNotDisabledException",
        "AssociatedListenerFoundException",
        "AssociatedEndpointGroupFoundException",
        "TransactionInProgressException",
        // CloudFront: an ETag gone stale (a change since the read: read again, plan again), a
        // distribution still deploying its disable, an access control a distribution still
        // signs with. DistributionAlreadyExists: the caller reference is the owner's intent
        // token, so what exists is the owner's; the search finds it (by tags, or by caller
        // reference) and adopts it, and the planner then brings its configuration in line.
        // Terminal would strand the object on its own earlier attempt.
        "PreconditionFailed",
        "InvalidIfMatchVersion",
        "DistributionNotDisabled",
        "OriginAccessControlInUse",
        "DistributionAlreadyExists",
        "OriginAccessControlAlreadyExists",
    ];
    if THROTTLED.contains(&code) {
        ErrorKind::Throttled
    } else if RETRYABLE.contains(&code) {
        ErrorKind::Retryable
    } else if TERMINAL.contains(&code) {
        // Before the NotFound suffix: a missing certificate or subnet named in the spec is terminal.
        ErrorKind::Terminal
    } else if NOT_FOUND.contains(&code) || code.ends_with("NotFound") || code == "Gateway.NotAttached" {
        ErrorKind::NotFound
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
        assert_eq!(classify("LoadBalancerNotFound"), ErrorKind::NotFound);
        assert_eq!(classify("WAFNonexistentItemException"), ErrorKind::NotFound);
        assert_eq!(classify("NoSuchHostedZone"), ErrorKind::NotFound);
        assert_eq!(classify("ResourceNotFoundException"), ErrorKind::NotFound);
        assert_eq!(classify("WAFUnavailableEntityException"), ErrorKind::Retryable);
        assert_eq!(classify("ResourceInUse"), ErrorKind::Retryable);
        assert_eq!(classify("DuplicateLoadBalancerName"), ErrorKind::Terminal);
        assert_eq!(classify("CertificateNotFound"), ErrorKind::Terminal);
        assert_eq!(classify("InvalidChangeBatch"), ErrorKind::Terminal);
        assert_eq!(classify("OptimisticLockException"), ErrorKind::Retryable, "a race, not a spec error");
        assert_eq!(classify("WAFDuplicateItemException"), ErrorKind::Retryable, "a race, not a spec error");
        assert_eq!(classify("IdempotentParameterMismatch"), ErrorKind::Terminal);
        assert_eq!(classify("InvalidTransitGatewayAttachmentID.NotFound"), ErrorKind::NotFound);
        assert_eq!(classify("IncorrectState"), ErrorKind::Retryable, "an attachment still settling");
        assert_eq!(classify("TransitGatewayLimitExceeded"), ErrorKind::Terminal);
        assert_eq!(classify("DirectConnectClientException"), ErrorKind::Terminal);
    }

    #[test]
    fn global_accelerator_codes_are_classified() {
        for code in ["AcceleratorNotFoundException", "ListenerNotFoundException", "EndpointGroupNotFoundException"] {
            assert_eq!(classify(code), ErrorKind::NotFound, "{code}");
        }
        for code in [
            "AcceleratorNotDisabledException",
            "AssociatedListenerFoundException",
            "AssociatedEndpointGroupFoundException",
            "ConflictException",
            "TransactionInProgressException",
            "InternalServiceErrorException",
        ] {
            assert_eq!(classify(code), ErrorKind::Retryable, "{code}: teardown ordering or propagation");
        }
        for code in [
            "InvalidPortRangeException",
            "InvalidArgumentException",
            "EndpointGroupAlreadyExistsException",
            "LimitExceededException",
        ] {
            assert_eq!(classify(code), ErrorKind::Terminal, "{code}");
        }
    }

    #[test]
    fn cloudfront_codes_are_classified() {
        for code in
            ["PreconditionFailed", "InvalidIfMatchVersion", "DistributionNotDisabled", "OriginAccessControlInUse"]
        {
            assert_eq!(classify(code), ErrorKind::Retryable, "{code}: read again and retry");
        }
        for code in ["NoSuchDistribution", "NoSuchOriginAccessControl", "NoSuchResource"] {
            assert_eq!(classify(code), ErrorKind::NotFound, "{code}");
        }
        for code in [
            "CNAMEAlreadyExists",
            "InvalidViewerCertificate",
            "InvalidArgument",
            "TooManyDistributions",
            "NoSuchCachePolicy",
        ] {
            assert_eq!(classify(code), ErrorKind::Terminal, "{code}: the spec must change");
        }
        let e = |code: &str| AwsError {
            kind: classify(code),
            operation: "CreateDistributionWithTags",
            code: code.into(),
            message: String::new(),
        };
        assert!(e("DistributionAlreadyExists").outcome_unknown(), "searched for by caller reference, then adopted");
        assert_eq!(classify("DistributionAlreadyExists"), ErrorKind::Retryable);
        assert!(e("OriginAccessControlAlreadyExists").outcome_unknown(), "found by its owner-derived name");
        assert!(!e("CNAMEAlreadyExists").outcome_unknown());
    }

    #[test]
    fn unknown_outcomes_are_the_ones_that_may_have_applied() {
        let e = |code: &str| AwsError {
            kind: classify(code),
            operation: "CreateVpc",
            code: code.into(),
            message: String::new(),
        };
        assert!(e("Timeout").outcome_unknown());
        assert!(e("InternalError").outcome_unknown());
        assert!(!e("RequestLimitExceeded").outcome_unknown(), "a throttled request was refused");
        assert!(!e("InvalidParameterValue").outcome_unknown());
        assert!(e("HealthCheckAlreadyExists").outcome_unknown(), "it exists: search, then adopt");
        assert_eq!(classify("HealthCheckAlreadyExists"), ErrorKind::Retryable);
        assert!(e("WAFDuplicateItemException").outcome_unknown());
        assert!(e("ResourceAlreadyExistsException").outcome_unknown());
        assert!(e("DBSubnetGroupAlreadyExists").outcome_unknown(), "a name derived from the owner is taken");
        assert_eq!(classify("DBSubnetGroupAlreadyExists"), ErrorKind::Retryable);
        assert_eq!(classify("DBSubnetGroupNotFoundFault"), ErrorKind::NotFound);
        assert_eq!(classify("CacheSubnetGroupNotFoundFault"), ErrorKind::NotFound);
        assert_eq!(classify("DBSubnetGroupDoesNotCoverEnoughAZs"), ErrorKind::Terminal);
    }
}
