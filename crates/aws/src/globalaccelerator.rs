//! PLACEHOLDER: the Global Accelerator adapter is being written (branch work, never merged like this).

use std::collections::HashMap;

use securecart_plan::global_accelerator::{CONTROL_REGION, Observed, Step};

use crate::{Aws, AwsError, Output};

const SERVICE: &str = "globalaccelerator";

pub struct GlobalAccelerator {
    aws: Aws,
    client: aws_sdk_globalaccelerator::Client,
    region: String,
}

/// What to read: the accelerators the status records; with `search`, every accelerator's tags.
pub struct AcceleratorScope<'a> {
    pub owner_uid: &'a str,
    pub accelerator_arns: &'a [String],
    pub search: bool,
}

impl Aws {
    /// The Global Accelerator adapter (its control plane is in us-west-2).
    pub async fn global_accelerator(&self) -> GlobalAccelerator {
        let client = self.client(SERVICE, CONTROL_REGION, |c| crate::sdk::client!(aws_sdk_globalaccelerator, c)).await;
        GlobalAccelerator { aws: self.clone(), client, region: CONTROL_REGION.into() }
    }
}

impl GlobalAccelerator {
    crate::sdk::adapter_call!(SERVICE);

    pub async fn observe(&self, _scope: AcceleratorScope<'_>) -> Result<Observed, AwsError> {
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
