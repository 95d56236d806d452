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

/// A region-wide read that many owners share: when it began (what changed before that is in it)
/// and when it ended (its age).
pub(crate) struct Shared {
    began: std::time::Instant,
    ended: std::time::Instant,
    value: Cached,
}

impl Aws {
    /// What `take` reads of a whole region (every owner of one kind at once), shared by the
    /// periodic drift checks of all those owners: reused while younger than `max_age` and begun
    /// after `owner_uid`'s last change, so it holds everything the controller made for it. Its age
    /// counts from when the read ended: the owners that queued behind a slow read (seconds at a
    /// thousand VPCs) use it instead of finding it already too old and taking another.
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
            .filter(|s| s.ended.elapsed() < max_age && last_change.is_none_or(|changed| s.began > changed))
            .and_then(|s| s.value.clone().downcast::<T>().ok());
        if let Some(value) = usable {
            return Ok(value);
        }
        // The stale read goes first: at a thousand owners it is megabytes, and nobody reads it
        // while the lock is held.
        shared.remove(&key);
        let began = std::time::Instant::now();
        let value = Arc::new(take().await?);
        shared.insert(key, Shared { began, ended: std::time::Instant::now(), value: value.clone() });
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use crate::sdk::test_aws;

    /// One shared read: how many times it was taken, and a take that lasts `lasting`.
    async fn read(aws: &crate::Aws, takes: &AtomicUsize, owner: &str, max_age: Duration, lasting: Duration) {
        aws.shared("test", "us-east-1", owner, max_age, || async {
            takes.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(lasting).await;
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_read_slower_than_its_max_age_serves_the_owners_that_waited_for_it() {
        let aws = test_aws();
        let takes = AtomicUsize::new(0);
        let (max_age, slow) = (Duration::from_millis(300), Duration::from_millis(500));
        let first = read(&aws, &takes, "a", max_age, slow);
        let waiting = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            read(&aws, &takes, "b", max_age, slow).await
        };
        futures::join!(first, waiting);
        assert_eq!(takes.load(Ordering::SeqCst), 1, "the owner that queued behind the read used it");

        tokio::time::sleep(max_age).await;
        read(&aws, &takes, "b", max_age, Duration::ZERO).await;
        assert_eq!(takes.load(Ordering::SeqCst), 2, "older than max_age since it ended: read again");
    }

    #[tokio::test]
    async fn a_change_made_while_the_read_ran_needs_another_read() {
        let aws = test_aws();
        let takes = AtomicUsize::new(0);
        let max_age = Duration::from_secs(60);
        let first = read(&aws, &takes, "a", max_age, Duration::from_millis(200));
        let change = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            aws.record_change("b").await;
        };
        futures::join!(first, change);
        read(&aws, &takes, "a", max_age, Duration::ZERO).await;
        assert_eq!(takes.load(Ordering::SeqCst), 1, "nothing of a's changed");
        read(&aws, &takes, "b", max_age, Duration::ZERO).await;
        assert_eq!(takes.load(Ordering::SeqCst), 2, "b changed after the read began: it may not show that");
    }
}
