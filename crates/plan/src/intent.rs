//! Create intents and idempotency tokens: what makes "a crash, a lost response or a throttled call
//! at any moment never leads to duplicates or leaks" true.
//!
//! Before a pass that creates anything, the controller records one intent per create in the
//! object's status (component, token, time). The token goes with the call as ClientToken or
//! CallerReference, so the SDK's own retries of a create whose response was lost repeat the same
//! request and AWS answers with the first resource. An intent is settled when the call's outcome
//! is known: cleared when the resource is seen, kept as *unconfirmed* when the outcome is unknown
//! (the call was retried, timed out, or failed after it was sent). At the start of a reconcile
//! every intent left over is unconfirmed: the resource may exist. The controller then searches for
//! it (tags, caller reference, a name derived from the owner) and does not create it again until
//! it is found or a consistency window has passed since the call, as AWS's reads may lag its
//! writes. A create that was retried but answered names the resource that exists: the rest of
//! the plan goes on with it, and only the searches for a duplicate an earlier attempt may have
//! made continue through the window (see [`CreateIntent::answered`]).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use securecart_api::CreateIntent;

/// FNV-1a: a stable hash for AWS names and tokens (std's hasher may change between releases).
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Eight hex digits of [`stable_hash`], for AWS names that must stay short.
pub fn short_hash(parts: &[&str]) -> String {
    format!("{:08x}", stable_hash(parts) >> 32)
}

/// How every token of one owner starts: a resource found by a caller reference with this prefix
/// was made by that owner, even when its tags were never written.
pub fn token_prefix(owner_uid: &str) -> String {
    let uid: String = owner_uid.chars().filter(char::is_ascii_alphanumeric).take(12).collect();
    format!("sc-{uid}-")
}

/// The idempotency token of one create: the same inputs always give the same token, at most 64
/// ASCII characters (EC2's ClientToken limit; Route 53 and CloudFront take 128).
pub fn token(owner_uid: &str, component: &str, settings: &str, nonce: &str) -> String {
    let a = stable_hash(&[owner_uid, component, settings, nonce]);
    let b = stable_hash(&[nonce, settings, component, owner_uid]);
    format!("{}{a:016x}{b:016x}", token_prefix(owner_uid))
}

/// What the engine knows of one create after running it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered at the first attempt: exactly one resource exists, and the model has it.
    Confirmed,
    /// Answered with this ID, but only after a retry: that resource exists, and an earlier
    /// attempt may have made a duplicate.
    AnsweredAfterRetry(String),
    /// It may have been applied more than once, or not at all (timed out, or failed after it
    /// was sent).
    Unknown,
    /// Refused, or never sent: nothing was created.
    NotCreated,
}

/// The intents to record before running a pass's creates, and the token each create sends.
/// Intents already recorded for other components stay as they are.
pub fn prepare(
    existing: &[CreateIntent],
    owner_uid: &str,
    creates: &[(String, String)],
    now: &Time,
) -> (Vec<CreateIntent>, BTreeMap<String, String>) {
    let mut intents = existing.to_vec();
    let mut tokens = BTreeMap::new();
    let nonce = now.0.to_string();
    for (component, settings) in creates {
        let token = match intents.iter().find(|i| &i.component == component) {
            Some(i) => i.token.clone(),
            None => {
                let token = token(owner_uid, component, settings, &nonce);
                intents.push(CreateIntent {
                    component: component.clone(),
                    token: token.clone(),
                    since: now.clone(),
                    unconfirmed: false,
                    answered: None,
                });
                token
            }
        };
        tokens.insert(component.clone(), token);
    }
    (intents, tokens)
}

/// The intents after a pass: confirmed creates and creates that made nothing are cleared; those
/// whose outcome is unknown become unconfirmed, their window starting now, and so do those
/// answered after a retry, with the answer.
pub fn settle(intents: Vec<CreateIntent>, outcomes: &BTreeMap<String, Outcome>, now: &Time) -> Vec<CreateIntent> {
    intents
        .into_iter()
        .filter_map(|mut i| match outcomes.get(&i.component) {
            Some(Outcome::Confirmed | Outcome::NotCreated) => None,
            Some(Outcome::Unknown) => {
                i.unconfirmed = true;
                i.since = now.clone();
                Some(i)
            }
            Some(Outcome::AnsweredAfterRetry(id)) => {
                i.unconfirmed = true;
                i.since = now.clone();
                i.answered = Some(id.clone());
                Some(i)
            }
            None => Some(i),
        })
        .collect()
}

/// Intents left from an earlier reconcile, against what observation found: those whose resource
/// was found are done; the rest are still open while younger than `window`, and dropped once
/// older (nothing was made, or it would have shown by now), so the component may be created again.
/// An intent with an answer stays open for its window even though its resource is found: what
/// it waits for is a duplicate, which AWS's reads may not show yet.
pub fn reconcile_leftovers(
    intents: &[CreateIntent],
    found: impl Fn(&str) -> bool,
    now: &Time,
    window: std::time::Duration,
) -> Leftovers {
    let mut out = Leftovers::default();
    for i in intents {
        if i.answered.is_none() && found(&i.component) {
            continue;
        }
        let age = now.0.duration_since(i.since.0);
        if age < SignedDuration::try_from(window).unwrap_or(SignedDuration::MAX) {
            out.open.push(i.clone());
        }
    }
    out
}

/// Leftover intents still open, and when the oldest window closes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Leftovers {
    pub open: Vec<CreateIntent>,
}

impl Leftovers {
    /// How long until every open window has passed.
    pub fn wait(&self, now: &Time, window: std::time::Duration) -> Option<std::time::Duration> {
        let window = SignedDuration::try_from(window).ok()?;
        self.open
            .iter()
            .map(|i| window - now.0.duration_since(i.since.0))
            .max()
            .and_then(|d| std::time::Duration::try_from(d).ok())
    }
}

/// Whether `intents` hold creates back: one whose outcome is unknown holds back every create
/// (what follows may need it, and the plan cannot tell), while one answered after a retry only
/// holds back another create of its own component (its answer may not be readable yet).
pub fn holds_back(intents: &[CreateIntent], creates: &[&str]) -> bool {
    intents.iter().any(|i| i.answered.is_none() || creates.contains(&i.component.as_str()))
}

/// `now`, for callers that have no clock of their own to pass.
pub fn now() -> Time {
    Time(Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn tokens_are_deterministic_short_and_distinct() {
        let t = token("5f0c-aa11-uid", "nat/us-east-1a", "subnet-1 eipalloc-1", "2026-12-01T00:00:00Z");
        assert_eq!(t, token("5f0c-aa11-uid", "nat/us-east-1a", "subnet-1 eipalloc-1", "2026-12-01T00:00:00Z"));
        assert!(t.len() <= 64 && t.is_ascii(), "{t}");
        assert_ne!(t, token("5f0c-aa11-uid", "nat/us-east-1b", "subnet-1 eipalloc-1", "2026-12-01T00:00:00Z"));
        assert_ne!(t, token("5f0c-aa11-uid", "nat/us-east-1a", "subnet-2 eipalloc-1", "2026-12-01T00:00:00Z"));
        assert_ne!(t, token("5f0c-aa11-uid", "nat/us-east-1a", "subnet-1 eipalloc-1", "2026-12-01T00:00:01Z"));
        assert!(t.starts_with(&token_prefix("5f0c-aa11-uid")), "{t}");
        assert!(!t.starts_with(&token_prefix("5f0c-aa12-uid")), "another owner's prefix");
    }

    #[test]
    fn prepare_records_new_intents_and_reuses_recorded_tokens() {
        let creates = vec![("vpc".to_string(), "10.0.0.0/16".to_string()), ("igw".to_string(), String::new())];
        let (first, tokens) = prepare(&[], "uid", &creates, &at(100));
        assert_eq!(first.len(), 2);
        assert!(first.iter().all(|i| i.since == at(100) && !i.unconfirmed));
        let (again, tokens_again) = prepare(&first, "uid", &creates, &at(200));
        assert_eq!(again, first, "a retry of the same creates records nothing new");
        assert_eq!(tokens, tokens_again, "and sends the same tokens");
    }

    #[test]
    fn settle_clears_the_known_and_keeps_the_unknown_unconfirmed() {
        let creates: Vec<(String, String)> =
            ["vpc", "igw", "eip/a"].iter().map(|c| (c.to_string(), String::new())).collect();
        let (intents, _) = prepare(&[], "uid", &creates, &at(100));
        let outcomes = BTreeMap::from([
            ("vpc".to_string(), Outcome::Confirmed),
            ("igw".to_string(), Outcome::Unknown),
            ("eip/a".to_string(), Outcome::NotCreated),
        ]);
        let left = settle(intents, &outcomes, &at(105));
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].component.as_str(), left[0].unconfirmed, &left[0].since), ("igw", true, &at(105)));
    }

    #[test]
    fn leftovers_stay_open_for_the_window_unless_found() {
        let (intents, _) =
            prepare(&[], "uid", &[("vpc".into(), String::new()), ("igw".into(), String::new())], &at(100));
        let window = std::time::Duration::from_secs(10);
        let open = reconcile_leftovers(&intents, |c| c == "vpc", &at(104), window);
        assert_eq!(open.open.iter().map(|i| i.component.as_str()).collect::<Vec<_>>(), ["igw"]);
        assert_eq!(open.wait(&at(104), window), Some(std::time::Duration::from_secs(6)));
        assert!(reconcile_leftovers(&intents, |_| false, &at(111), window).open.is_empty(), "expired");
    }

    #[test]
    fn an_answer_after_a_retry_keeps_the_search_for_a_duplicate_open_without_holding_back_others() {
        let creates: Vec<(String, String)> = ["vpc", "igw"].iter().map(|c| (c.to_string(), String::new())).collect();
        let (intents, _) = prepare(&[], "uid", &creates, &at(100));
        let outcomes = BTreeMap::from([
            ("vpc".to_string(), Outcome::AnsweredAfterRetry("vpc-7f3a".into())),
            ("igw".to_string(), Outcome::Confirmed),
        ]);
        let left = settle(intents, &outcomes, &at(101));
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].answered.as_deref(), left[0].unconfirmed), (Some("vpc-7f3a"), true));
        assert!(!holds_back(&left, &["subnet/a", "igw"]), "what needs the VPC goes on with the answer");
        assert!(holds_back(&left, &["vpc"]), "a second VPC is not made while the first may not be readable");

        let window = std::time::Duration::from_secs(10);
        let open = reconcile_leftovers(&left, |_| true, &at(105), window);
        assert_eq!(open.open.len(), 1, "found, yet a duplicate may still appear");
        assert!(reconcile_leftovers(&left, |_| true, &at(112), window).open.is_empty(), "the window has passed");
    }

    #[test]
    fn an_unknown_outcome_holds_back_every_create() {
        let (intents, _) = prepare(&[], "uid", &[("vpc".into(), String::new())], &at(100));
        let left = settle(intents, &BTreeMap::from([("vpc".to_string(), Outcome::Unknown)]), &at(101));
        assert!(holds_back(&left, &["subnet/a"]));
        assert!(!holds_back(&[], &["subnet/a"]));
    }
}
