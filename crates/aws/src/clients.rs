//! Service clients built once per service and region and shared by every reconcile, so that
//! adapters are cheap to make for each observation and each plan.

use std::any::Any;
use std::sync::Arc;

use crate::Aws;

pub(crate) type Cached = Arc<dyn Any + Send + Sync>;

impl Aws {
    /// The client of `service` in `region`, built with `build` on first use.
    pub(crate) async fn client<C: Clone + Send + Sync + 'static>(
        &self,
        service: &'static str,
        region: &str,
        build: impl FnOnce(&aws_config::SdkConfig) -> C,
    ) -> C {
        let key = (service, region.to_string());
        if let Some(c) = self.inner.clients.lock().await.get(&key).and_then(|c| c.downcast_ref::<C>()) {
            return c.clone();
        }
        let config = self.config(region).await;
        let client = build(&config);
        self.inner.clients.lock().await.insert(key, Arc::new(client.clone()));
        client
    }
}
