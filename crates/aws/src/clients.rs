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

/// A region-wide read that many owners share, and when it was taken.
pub(crate) struct Shared {
    taken: std::time::Instant,
    value: Cached,
}

impl Aws {
    /// What `take` reads of a whole region (every owner of one kind at once), shared by the
    /// periodic drift checks of all those owners: reused while younger than `max_age` and taken
    /// after `owner_uid`'s last change, so it holds everything the controller made for it.
    pub(crate) async fn shared<T, Fut>(
        &self,
        what: &'static str,
        region: &str,
        owner_uid: &str,
        max_age: std::time::Duration,
        take: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, crate::AwsError>
    where
        T: Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, crate::AwsError>>,
    {
        let last_change = self.inner.last_change.lock().await.get(owner_uid).copied();
        let key = (what, region.to_string());
        // Held while taking: owners that come meanwhile wait for this read instead of repeating it.
        let mut shared = self.inner.shared.lock().await;
        let usable = shared
            .get(&key)
            .filter(|s| s.taken.elapsed() < max_age && last_change.is_none_or(|changed| s.taken > changed))
            .and_then(|s| s.value.clone().downcast::<T>().ok());
        if let Some(value) = usable {
            return Ok(value);
        }
        // The stale read goes first: at a thousand owners it is megabytes, and nobody reads it
        // while the lock is held.
        shared.remove(&key);
        let taken = std::time::Instant::now();
        let value = Arc::new(take().await?);
        shared.insert(key, Shared { taken, value: value.clone() });
        Ok(value)
    }
}
