//! How every AWS client is configured: bounded waits, adaptive retries, and a count of the
//! attempts each call took, so a create whose first response was lost is known to be ambiguous.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(20),
            operation: Duration::from_secs(60),
            max_attempts: 4,
        }
    }
}

pub(crate) async fn load(region: &str, limits: &Limits) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        // Adaptive: standard retries with jittered exponential backoff, plus a client-side rate
        // limiter that slows down once AWS starts throttling.
        .retry_config(RetryConfig::adaptive().with_max_attempts(limits.max_attempts))
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
}

tokio::task_local! {
    /// The step being run on this task, if any: the interceptor counts its attempts here.
    pub(crate) static STEP: Arc<StepCalls>;
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
}

/// Builds a service client from the shared configuration with the attempt counter attached.
macro_rules! client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf($sdk::config::Builder::from($config).interceptor($crate::sdk::CountAttempts).build())
    };
}
pub(crate) use client;

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
