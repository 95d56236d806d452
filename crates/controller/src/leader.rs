//! Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
//! the lease every retry period; a candidate takes it over once it has seen the same record,
//! unrenewed, for a whole lease duration (measured on its own clock, so clock skew between
//! nodes does not matter). Only the holder runs the controllers. A holder that cannot renew
//! within the renew deadline (shorter than the lease duration) stops before anyone else can
//! take over, so two replicas never reconcile at once.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::time::Instant;

#[derive(Clone, Debug)]
pub struct LeaseSettings {
    pub namespace: String,
    pub name: String,
    /// Who we are: the pod name in a cluster, hostname and pid elsewhere.
    pub identity: String,
    /// How long a lease is valid after its last renewal.
    pub lease_duration: Duration,
    /// A holder that has not renewed for this long gives up; shorter than `lease_duration`.
    pub renew_deadline: Duration,
    /// Time between attempts to acquire or renew.
    pub retry_period: Duration,
}

/// Whether a holder seen on the lease still counts, or we may take it.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Nobody holds it, it is ours already, or its holder let it expire: write ourselves in.
    Take { transition: bool },
    /// Someone else holds a live lease.
    HeldBy(String),
}

/// The record that identifies one renewal of a lease: a change means the holder is alive.
type Record = (Option<String>, Option<Timestamp>);

fn record(spec: &LeaseSpec) -> Record {
    (spec.holder_identity.clone(), spec.renew_time.as_ref().map(|t| t.0))
}

/// Decides on a lease we read. `unchanged_for` is how long we have seen exactly this record.
fn verdict(spec: &LeaseSpec, me: &str, unchanged_for: Duration, default_duration: Duration) -> Verdict {
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    if holder == me {
        return Verdict::Take { transition: false };
    }
    if holder.is_empty() {
        return Verdict::Take { transition: true };
    }
    let duration =
        spec.lease_duration_seconds.and_then(|s| u64::try_from(s).ok()).map_or(default_duration, Duration::from_secs);
    if unchanged_for >= duration { Verdict::Take { transition: true } } else { Verdict::HeldBy(holder.to_string()) }
}

pub struct LeaderElector {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The last record we read and when we first saw it (our clock).
    observed: Option<(Record, Instant)>,
}

impl LeaderElector {
    pub fn new(client: Client, settings: LeaseSettings) -> Self {
        Self { api: Api::namespaced(client, &settings.namespace), settings, observed: None }
    }

    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    fn spec_for_us(&self, previous: Option<&LeaseSpec>, transition: bool) -> LeaseSpec {
        let now = MicroTime(Timestamp::now());
        let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.settings.identity.clone()),
            lease_duration_seconds: Some(i32::try_from(self.settings.lease_duration.as_secs()).unwrap_or(i32::MAX)),
            acquire_time: if transition { Some(now.clone()) } else { previous.and_then(|p| p.acquire_time.clone()) },
            renew_time: Some(now),
            lease_transitions: Some(if transition && previous.is_some() { transitions + 1 } else { transitions }),
            ..LeaseSpec::default()
        }
    }

    /// One attempt to acquire or renew. Ok(true) when we hold the lease afterwards; a write
    /// that lost a race (409) is Ok(false).
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(self.settings.name.clone()), ..ObjectMeta::default() },
                spec: Some(self.spec_for_us(None, true)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let seen = record(&spec);
        let first_seen = match &self.observed {
            Some((r, at)) if *r == seen => *at,
            _ => {
                let now = Instant::now();
                self.observed = Some((seen, now));
                now
            }
        };
        match verdict(&spec, &self.settings.identity, first_seen.elapsed(), self.settings.lease_duration) {
            Verdict::HeldBy(holder) => {
                tracing::debug!(%holder, lease = %self.settings.name, "lease held by another replica");
                Ok(false)
            }
            Verdict::Take { transition } => {
                lease.spec = Some(self.spec_for_us(Some(&spec), transition));
                // The resourceVersion we read makes this a compare-and-swap.
                match self.api.replace(&self.settings.name, &PostParams::default(), &lease).await {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Returns once this process holds the lease.
    pub async fn acquire(&mut self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    tracing::info!(identity = %self.settings.identity, lease = %self.settings.name, "acquired leadership");
                    return;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not read or write the leader lease"),
            }
            tokio::time::sleep(self.settings.retry_period).await;
        }
    }

    /// Renews the lease until a renewal fails for longer than the renew deadline or another
    /// replica holds it; returns why leadership was lost.
    pub async fn hold(&mut self) -> String {
        let mut last_renewed = Instant::now();
        loop {
            tokio::time::sleep(self.settings.retry_period).await;
            // A renewal that hangs must not outlive the deadline: past it, another replica may
            // already lead.
            let left = self.settings.renew_deadline.saturating_sub(last_renewed.elapsed());
            match tokio::time::timeout(left, self.try_acquire_or_renew()).await {
                Ok(Ok(true)) => last_renewed = Instant::now(),
                Ok(Ok(false)) => return "another replica holds the lease".into(),
                Ok(Err(e)) => tracing::warn!(error = %e, "could not renew the leader lease"),
                Err(_) => {
                    tracing::warn!(deadline = ?self.settings.renew_deadline, "renewing the leader lease timed out")
                }
            }
            if last_renewed.elapsed() >= self.settings.renew_deadline {
                return format!("lease not renewed within {:?}", self.settings.renew_deadline);
            }
        }
    }

    /// Gives the lease up on a clean shutdown, so a standby takes over at its next retry
    /// instead of waiting out the lease duration.
    pub async fn release(&mut self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.settings.name).await else { return };
        let Some(spec) = lease.spec.as_mut() else { return };
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        match self.api.replace(&self.settings.name, &PostParams::default(), &lease).await {
            Ok(_) => tracing::info!(lease = %self.settings.name, "released leadership"),
            Err(e) => tracing::warn!(error = %e, "could not release the leader lease"),
        }
    }
}

/// POD_NAME in a cluster (the Downward API sets it), otherwise hostname and process id.
pub fn default_identity() -> String {
    if let Ok(pod) = std::env::var("POD_NAME")
        && !pod.is_empty()
    {
        return pod;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}_{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_by(holder: Option<&str>, seconds: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_string),
            lease_duration_seconds: Some(seconds),
            ..LeaseSpec::default()
        }
    }

    const DEFAULT: Duration = Duration::from_secs(15);

    #[test]
    fn our_own_lease_is_renewed_without_a_transition() {
        assert_eq!(
            verdict(&held_by(Some("me"), 15), "me", Duration::ZERO, DEFAULT),
            Verdict::Take { transition: false }
        );
    }

    #[test]
    fn a_free_or_released_lease_is_taken_at_once() {
        assert_eq!(verdict(&held_by(None, 1), "me", Duration::ZERO, DEFAULT), Verdict::Take { transition: true });
        assert_eq!(verdict(&held_by(Some(""), 1), "me", Duration::ZERO, DEFAULT), Verdict::Take { transition: true });
    }

    #[test]
    fn a_live_holder_is_respected_until_its_record_is_stale_for_a_lease_duration() {
        let spec = held_by(Some("other"), 15);
        assert_eq!(verdict(&spec, "me", Duration::from_secs(14), DEFAULT), Verdict::HeldBy("other".into()));
        assert_eq!(verdict(&spec, "me", Duration::from_secs(15), DEFAULT), Verdict::Take { transition: true });
    }

    #[test]
    fn a_lease_without_a_duration_uses_ours() {
        let spec = LeaseSpec { holder_identity: Some("other".into()), ..LeaseSpec::default() };
        assert_eq!(verdict(&spec, "me", Duration::from_secs(10), DEFAULT), Verdict::HeldBy("other".into()));
        assert_eq!(verdict(&spec, "me", DEFAULT, DEFAULT), Verdict::Take { transition: true });
    }

    #[test]
    fn a_renewal_changes_the_record() {
        let mut spec = held_by(Some("other"), 15);
        let before = record(&spec);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        assert_ne!(record(&spec), before);
    }

    #[test]
    fn identity_is_never_empty() {
        assert!(!default_identity().is_empty());
    }
}
