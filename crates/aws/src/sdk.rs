//! How every AWS client is configured: bounded waits, standard retries, and a count of the
//! attempts each call took (so a create whose first response was lost is known to be ambiguous)
//! and of those AWS throttled (so the controller's own rate limits slow down).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

/// Bounds on one AWS call. An attempt that hangs is cut and retried; a call never outlives the
/// operation timeout, so no reconcile waits forever on AWS.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    pub max_attempts: u32,
    /// Calls in flight per service and region at most, while they are answered in time (fewer
    /// when they time out; 0: no limit).
    pub in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(20),
            operation: Duration::from_secs(60),
            max_attempts: 4,
            in_flight: 32,
        }
    }
}

pub(crate) async fn load(region: &str, limits: &Limits) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        // Standard: jittered exponential backoff and a retry quota. Not adaptive: its limiter is
        // shared by every call of a service and, measured under throttling, sat at its floor of
        // 0.5 requests per second; AWS's SDK guides advise it only for a client of one resource.
        // The controller's own buckets (throttle.rs) slow down on throttling instead.
        .retry_config(RetryConfig::standard().with_max_attempts(limits.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(limits.connect)
                .operation_attempt_timeout(limits.attempt)
                .operation_timeout(limits.operation)
                .build(),
        )
        .load()
        .await
}

/// `base` with the credentials of `role_arn`, assumed through STS from the base credentials.
/// The provider asks STS again before they expire; the credentials are never logged.
pub(crate) async fn assume_role(base: &aws_config::SdkConfig, region: &str, role_arn: &str) -> aws_config::SdkConfig {
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("securecart-operator")
        .region(Region::new(region.to_string()))
        .configure(base)
        .build()
        .await;
    base.to_builder().credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(provider)).build()
}

/// Calls and attempts made while running one plan step.
#[derive(Debug, Default)]
pub struct StepCalls {
    calls: AtomicU32,
    attempts: AtomicU32,
}

impl StepCalls {
    /// True when the SDK sent some request more than once (a retry after a lost response or a
    /// transient error may have applied the first one).
    pub fn retried(&self) -> bool {
        self.attempts.load(Ordering::Relaxed) > self.calls.load(Ordering::Relaxed)
    }

    pub fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Relaxed)
    }

    pub(crate) fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// One call that took `attempts` attempts, as the SDK and the interceptor count them.
    #[cfg(test)]
    pub(crate) fn record(&self, attempts: u32) {
        self.call();
        self.attempts.fetch_add(attempts, Ordering::Relaxed);
    }
}

tokio::task_local! {
    /// The step being run on this task, if any: the interceptor counts its attempts here.
    pub(crate) static STEP: Arc<StepCalls>;
    /// Attempts of the call being made on this task that AWS throttled.
    pub(crate) static THROTTLED: Arc<AtomicU32>;
}

/// AWS's throttling codes, as every protocol spells them in an error body or header.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "SlowDown",
    "RequestThrottled",
];

/// Whether an HTTP answer is AWS throttling the request.
fn is_throttling(status: u16, error_type: Option<&str>, body: Option<&[u8]>) -> bool {
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let mentions = |text: &[u8]| THROTTLING_CODES.iter().any(|c| text.windows(c.len()).any(|w| w == c.as_bytes()));
    error_type.is_some_and(|t| mentions(t.as_bytes())) || body.is_some_and(|b| b.len() <= 64 * 1024 && mentions(b))
}

/// Counts every attempt of every call (the SDK's retries included) into the running step.
#[derive(Debug)]
pub(crate) struct CountAttempts;

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "CountAttempts"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let _ = STEP.try_with(|s| s.attempts.fetch_add(1, Ordering::Relaxed));
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let error_type = response.headers().get("x-amzn-errortype");
        if is_throttling(response.status().as_u16(), error_type, response.body().bytes()) {
            let _ = THROTTLED.try_with(|t| t.fetch_add(1, Ordering::Relaxed));
        }
        Ok(())
    }
}

/// Builds a service client from the shared configuration with the attempt counter attached.
macro_rules! client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf($sdk::config::Builder::from($config).interceptor($crate::sdk::CountAttempts).build())
    };
}
pub(crate) use client;

/// A client of `$sdk` in `$region` that answers from `$replay` (a `StaticReplayClient`), with test
/// credentials and no retries: what the adapters' replay tests run against.
#[cfg(test)]
macro_rules! replay_client {
    ($sdk:ident, $replay:expr, $region:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new($region))
                .credentials_provider($sdk::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"))
                .retry_config($sdk::config::retry::RetryConfig::disabled())
                .http_client($replay.clone())
                .build(),
        )
    };
}
#[cfg(test)]
pub(crate) use replay_client;

/// The shared AWS handle of a replay test: its own metrics, no client-side rate limits.
#[cfg(test)]
pub(crate) fn test_aws() -> crate::Aws {
    crate::Aws::new(crate::AwsMetrics::new(&prometheus::Registry::new()).unwrap(), 0.0, crate::Limits::default())
}

/// The `call` method of an adapter that has `aws` and `region` fields: one call of `$service`
/// through the shared wrapper. Adapters call it as `.call("Operation", mutating, request)`, which is
/// how the IAM policy test reads them, with the module's `const SERVICE`.
macro_rules! adapter_call {
    ($service:expr) => {
        /// Runs one call through the shared counting, rate-limiting wrapper.
        pub(crate) async fn call<T, E>(
            &self,
            operation: &'static str,
            mutating: bool,
            request: impl std::future::Future<
                Output = Result<
                    T,
                    aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
                >,
            >,
        ) -> Result<T, $crate::AwsError>
        where
            T: aws_types::request_id::RequestId,
            E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
        {
            self.aws.call($service, &self.region, operation, mutating, request).await
        }
    };
}
pub(crate) use adapter_call;

#[cfg(test)]
mod tests {
    use super::is_throttling;

    #[test]
    fn throttling_is_recognised_in_every_protocol() {
        let ec2 = b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>";
        assert!(is_throttling(503, None, Some(ec2)));
        let query =
            b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
        assert!(is_throttling(400, None, Some(query)));
        assert!(is_throttling(400, Some("ThrottlingException:http://internal"), Some(b"{}")));
        assert!(is_throttling(400, None, Some(br#"{"__type":"com.amazon#ThrottlingException"}"#)));
        assert!(is_throttling(429, None, None), "REST APIs answer 429");
        assert!(!is_throttling(200, None, Some(b"<Throttling/>")), "a success is never throttling");
        assert!(!is_throttling(400, None, Some(b"<Code>InvalidSubnet.Conflict</Code>")));
        assert!(!is_throttling(500, None, Some(b"<Code>InternalError</Code>")));
    }
}
