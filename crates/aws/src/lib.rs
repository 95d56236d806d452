//! The only code that calls AWS. It observes the resources an owner holds, by ownership tags,
//! and executes plan steps; every call is counted and timed, and every failure classified.

pub mod ec2;
pub mod error;
pub mod metrics;

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use tokio::sync::Mutex;

pub use error::{AwsError, ErrorKind};
pub use metrics::AwsMetrics;

/// A plan step that ran, for events and logs.
#[derive(Clone, Debug)]
pub struct Executed {
    pub action: &'static str,
    pub summary: String,
    pub created_id: Option<String>,
}

/// What executing a plan did: the steps that ran, and the first failure, if any.
#[derive(Debug, Default)]
pub struct Execution {
    pub executed: Vec<Executed>,
    pub error: Option<AwsError>,
}

/// Clients per region, built once from the standard AWS environment (AWS_ENDPOINT_URL,
/// AWS_REGION, the default credentials chain), so one binary talks to the emulator or to AWS.
#[derive(Clone)]
pub struct Aws {
    inner: Arc<Inner>,
}

struct Inner {
    metrics: AwsMetrics,
    ec2: Mutex<HashMap<String, aws_sdk_ec2::Client>>,
    zones: Mutex<HashMap<String, Vec<String>>>,
}

impl Aws {
    pub fn new(metrics: AwsMetrics) -> Self {
        Self { inner: Arc::new(Inner { metrics, ec2: Mutex::default(), zones: Mutex::default() }) }
    }

    pub fn metrics(&self) -> &AwsMetrics {
        &self.inner.metrics
    }

    async fn sdk_config(region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string())).load().await
    }

    /// The EC2 adapter for one region.
    pub async fn ec2(&self, region: &str) -> ec2::Ec2 {
        let mut clients = self.inner.ec2.lock().await;
        let client = match clients.get(region) {
            Some(c) => c.clone(),
            None => {
                let c = aws_sdk_ec2::Client::new(&Self::sdk_config(region).await);
                clients.insert(region.to_string(), c.clone());
                c
            }
        };
        ec2::Ec2::new(client, self.clone(), region.to_string())
    }
}
