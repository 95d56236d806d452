//! Conditions as Kubernetes API conventions want them: Ready first, `lastTransitionTime` kept
//! unless the status really flips, `observedGeneration` on each.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::{READY, RECONCILING, STALLED, reason};

/// What a reconcile concluded, before it is turned into conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything exists and matches.
    Ready,
    /// Work is under way; the message says what it waits for.
    Progressing(String),
    /// Cannot go on without a change to the spec (or to something the spec names).
    Stalled { reason: &'static str, message: String },
    /// A transient failure; retried with backoff.
    Failed { reason: &'static str, message: String },
}

/// The three conditions for an outcome, keeping the transition times of `previous` where the
/// status did not change.
pub fn conditions(outcome: &Outcome, generation: Option<i64>, previous: &[Condition], now: &Time) -> Vec<Condition> {
    let (ready, ready_reason, message, reconciling, stalled) = match outcome {
        Outcome::Ready => {
            (true, reason::RECONCILED, "all AWS resources exist and match the spec".to_string(), false, false)
        }
        Outcome::Progressing(m) => (false, reason::PROGRESSING, m.clone(), true, false),
        Outcome::Stalled { reason, message } => (false, *reason, message.clone(), false, true),
        Outcome::Failed { reason, message } => (false, *reason, message.clone(), true, false),
    };
    let make = |type_: &str, status: bool, reason: &str, message: &str| {
        condition(type_, status, reason, message, generation, previous, now)
    };
    let idle = reason::IDLE;
    vec![
        make(READY, ready, ready_reason, &message),
        make(
            RECONCILING,
            reconciling,
            if reconciling { ready_reason } else { idle },
            if reconciling { &message } else { "" },
        ),
        make(STALLED, stalled, if stalled { ready_reason } else { idle }, if stalled { &message } else { "" }),
    ]
}

/// One condition, keeping the transition time of the same type in `previous` unless its status flips.
pub fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> Condition {
    let status = if status { "True" } else { "False" }.to_string();
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.clone());
    Condition {
        type_: type_.into(),
        status,
        reason: reason.into(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn at(secs: i64) -> Time {
        Time(Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn ready_comes_first_and_kstatus_pair_follows() {
        let c = conditions(&Outcome::Ready, Some(3), &[], &at(10));
        let types: Vec<_> = c.iter().map(|c| (c.type_.as_str(), c.status.as_str())).collect();
        assert_eq!(types, [("Ready", "True"), ("Reconciling", "False"), ("Stalled", "False")]);
        assert!(c.iter().all(|c| c.observed_generation == Some(3)));
    }

    #[test]
    fn transition_time_kept_unless_status_flips() {
        let first = conditions(&Outcome::Progressing("waiting for NAT".into()), Some(1), &[], &at(10));
        let again = conditions(&Outcome::Progressing("waiting for routes".into()), Some(1), &first, &at(20));
        assert_eq!(again[0].last_transition_time, at(10));
        assert_eq!(again[0].message, "waiting for routes");
        let ready = conditions(&Outcome::Ready, Some(1), &again, &at(30));
        assert_eq!(ready[0].last_transition_time, at(30));
        assert_eq!(ready[2].last_transition_time, at(10), "Stalled stayed False");
    }

    #[test]
    fn stalled_carries_reason_and_message() {
        let c = conditions(
            &Outcome::Stalled { reason: reason::INVALID_SPEC, message: "spec.cidrBlock: bad".into() },
            Some(2),
            &[],
            &at(1),
        );
        assert_eq!((c[0].status.as_str(), c[0].reason.as_str()), ("False", "InvalidSpec"));
        assert_eq!((c[2].status.as_str(), c[2].message.as_str()), ("True", "spec.cidrBlock: bad"));
        assert_eq!(c[1].status, "False");
    }
}
