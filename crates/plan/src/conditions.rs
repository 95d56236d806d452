//! Conditions as Kubernetes API conventions want them, each saying one thing:
//! - `Ready`: the AWS resources exist and match the spec, at this generation;
//! - `Synced`: the last reconcile ran without error (or says why it did not);
//! - `Reconciling` and `Stalled`: the abnormal-true pair kstatus (Flux, kpt) understands.
//!
//! A transient failure on a converged object leaves `Ready=True` and makes `Synced=False`: a
//! throttled drift read says nothing about the AWS resources, so their users keep working.
//! `lastTransitionTime` changes only when a condition's status flips; every condition carries
//! the generation it describes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::{READY, RECONCILING, STALLED, SYNCED, reason};

/// Whether the object's AWS resources are usable, as far as this reconcile could tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Not (yet) usable. `stalled`: it will not become so without a change (a rejected
    /// connection, an invalid spec).
    NotReady {
        reason: &'static str,
        message: String,
        stalled: bool,
    },
}

impl Readiness {
    pub fn progressing(message: impl Into<String>) -> Self {
        Readiness::NotReady { reason: reason::PROGRESSING, message: message.into(), stalled: false }
    }

    pub fn not_ready(reason: &'static str, message: impl Into<String>) -> Self {
        Readiness::NotReady { reason, message: message.into(), stalled: false }
    }
}

/// How the last reconcile went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sync {
    Synced,
    /// It failed; `terminal` when only a change to the spec (or to what it names) can cure it.
    Failed {
        reason: &'static str,
        message: String,
        terminal: bool,
    },
    /// The pause annotation stopped every AWS write.
    Paused {
        message: String,
    },
}

/// What a reconcile concluded. `ready: None` keeps the Ready condition as it was at this
/// generation (nothing new is known about the resources).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub ready: Option<Readiness>,
    pub sync: Sync,
}

impl Report {
    pub fn ready() -> Self {
        Self { ready: Some(Readiness::Ready), sync: Sync::Synced }
    }

    pub fn progressing(message: impl Into<String>) -> Self {
        Self { ready: Some(Readiness::progressing(message)), sync: Sync::Synced }
    }

    /// Not ready for a reason other than work in progress (waiting for a dependency, deleting).
    pub fn not_ready(reason: &'static str, message: impl Into<String>) -> Self {
        Self { ready: Some(Readiness::not_ready(reason, message)), sync: Sync::Synced }
    }

    /// A spec the controller cannot realise: nothing happens until it changes.
    pub fn invalid(message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            ready: Some(Readiness::NotReady { reason: reason::INVALID_SPEC, message: message.clone(), stalled: true }),
            sync: Sync::Failed { reason: reason::INVALID_SPEC, message, terminal: true },
        }
    }

    /// A failure that changed nothing in AWS (a read): Ready stays what it was.
    pub fn failed_read(reason: &'static str, message: impl Into<String>, terminal: bool) -> Self {
        Self { ready: None, sync: Sync::Failed { reason, message: message.into(), terminal } }
    }

    /// A failure while changing AWS: the resources do not match the spec yet.
    pub fn failed_change(reason: &'static str, message: impl Into<String>, terminal: bool) -> Self {
        let message = message.into();
        Self {
            ready: Some(Readiness::NotReady { reason, message: message.clone(), stalled: terminal }),
            sync: Sync::Failed { reason, message, terminal },
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready == Some(Readiness::Ready)
    }
}

/// The four conditions for a report: Ready, Synced, Reconciling, Stalled. Transition times are
/// kept from `previous` where a status did not flip; a Ready kept from `previous` keeps its
/// reason and message too.
pub fn conditions(report: &Report, generation: Option<i64>, previous: &[Condition], now: &Time) -> Vec<Condition> {
    let make = |type_: &str, status: Status, reason: &str, message: &str| {
        condition_with(type_, status, reason, message, generation, previous, now)
    };
    let failure = match &report.sync {
        Sync::Failed { reason, message, terminal } => Some((*reason, message.as_str(), *terminal)),
        _ => None,
    };
    let kept_ready = previous.iter().find(|c| c.type_ == READY && c.observed_generation == generation);
    let ready = match (&report.ready, kept_ready) {
        (Some(Readiness::Ready), _) => {
            make(READY, Status::True, reason::RECONCILED, "all AWS resources exist and match the spec")
        }
        (Some(Readiness::NotReady { reason, message, .. }), _) => make(READY, Status::False, reason, message),
        (None, Some(kept)) => Condition { observed_generation: generation, ..kept.clone() },
        (None, None) => {
            let (reason, message, _) = failure.unwrap_or((reason::PROGRESSING, "not observed yet", false));
            make(READY, Status::Unknown, reason, &format!("not observed yet at this generation: {message}"))
        }
    };
    let is_ready = ready.status == "True";
    let synced = match &report.sync {
        Sync::Synced => make(SYNCED, Status::True, reason::RECONCILED, "the last reconcile succeeded"),
        Sync::Failed { reason, message, .. } => make(SYNCED, Status::False, reason, message),
        Sync::Paused { message } => make(SYNCED, Status::False, reason::PAUSED, message),
    };
    let stalled_why = match (&report.ready, failure) {
        (_, Some((reason, message, true))) => Some((reason, message.to_string())),
        (Some(Readiness::NotReady { reason, message, stalled: true }), _) => Some((*reason, message.clone())),
        _ => None,
    };
    let paused = matches!(report.sync, Sync::Paused { .. });
    let reconciling = !is_ready && stalled_why.is_none() && !paused;
    let idle = reason::IDLE;
    vec![
        ready.clone(),
        synced,
        if reconciling {
            make(RECONCILING, Status::True, &ready.reason, &ready.message)
        } else {
            make(RECONCILING, Status::False, idle, "")
        },
        match stalled_why {
            Some((reason, message)) => make(STALLED, Status::True, reason, &message),
            None => make(STALLED, Status::False, idle, ""),
        },
    ]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    True,
    False,
    Unknown,
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
    let status = if status { Status::True } else { Status::False };
    condition_with(type_, status, reason, message, generation, previous, now)
}

fn condition_with(
    type_: &str,
    status: Status,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> Condition {
    let status = match status {
        Status::True => "True",
        Status::False => "False",
        Status::Unknown => "Unknown",
    }
    .to_string();
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

/// The readiness of a plan that made no further changes: Ready, or what it still waits for.
/// Not ready for as long as something outside the controller blocks the plan (stalled: it will
/// not resolve on its own), with the first block's reason and every block's message.
pub fn blocked(blocked: &[crate::plan::Blocked]) -> Option<Readiness> {
    let first = blocked.first()?;
    let message = blocked.iter().map(|b| b.message.as_str()).collect::<Vec<_>>().join("; ");
    Some(Readiness::NotReady { reason: first.reason, message, stalled: true })
}

pub fn settled(steps_left: usize, waiting: &[String]) -> Readiness {
    match (steps_left, waiting.is_empty()) {
        (0, true) => Readiness::Ready,
        (_, false) => Readiness::progressing(format!("waiting for {}", waiting.join("; "))),
        (n, true) => Readiness::progressing(format!("{n} changes still to make")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn at(secs: i64) -> Time {
        Time(Timestamp::from_second(secs).unwrap())
    }

    fn by_type<'a>(c: &'a [Condition], t: &str) -> &'a Condition {
        c.iter().find(|c| c.type_ == t).unwrap()
    }

    fn statuses(c: &[Condition]) -> Vec<(&str, &str)> {
        c.iter().map(|c| (c.type_.as_str(), c.status.as_str())).collect()
    }

    #[test]
    fn ready_comes_first_then_synced_and_the_kstatus_pair() {
        let c = conditions(&Report::ready(), Some(3), &[], &at(10));
        assert_eq!(
            statuses(&c),
            [("Ready", "True"), ("Synced", "True"), ("Reconciling", "False"), ("Stalled", "False")]
        );
        assert!(c.iter().all(|c| c.observed_generation == Some(3)));
    }

    #[test]
    fn transition_time_kept_unless_status_flips() {
        let first = conditions(&Report::progressing("waiting for NAT"), Some(1), &[], &at(10));
        let again = conditions(&Report::progressing("waiting for routes"), Some(1), &first, &at(20));
        assert_eq!(again[0].last_transition_time, at(10));
        assert_eq!(again[0].message, "waiting for routes");
        let ready = conditions(&Report::ready(), Some(1), &again, &at(30));
        assert_eq!(ready[0].last_transition_time, at(30));
        assert_eq!(by_type(&ready, "Stalled").last_transition_time, at(10), "Stalled stayed False");
    }

    #[test]
    fn a_failed_read_on_a_converged_object_keeps_ready_and_says_synced_false() {
        let ready = conditions(&Report::ready(), Some(4), &[], &at(10));
        let throttled = Report::failed_read(reason::AWS_ERROR, "DescribeSubnets: RequestLimitExceeded", false);
        let c = conditions(&throttled, Some(4), &ready, &at(20));
        assert_eq!(
            statuses(&c),
            [("Ready", "True"), ("Synced", "False"), ("Reconciling", "False"), ("Stalled", "False")]
        );
        assert_eq!(c[0].last_transition_time, at(10), "Ready did not flip");
        assert_eq!(by_type(&c, "Synced").reason, "AwsError");
    }

    #[test]
    fn a_failed_read_at_a_new_generation_knows_nothing_of_readiness() {
        let ready = conditions(&Report::ready(), Some(4), &[], &at(10));
        let c = conditions(&Report::failed_read(reason::AWS_ERROR, "throttled", false), Some(5), &ready, &at(20));
        assert_eq!(c[0].status, "Unknown");
        assert_eq!(by_type(&c, "Reconciling").status, "True");
    }

    #[test]
    fn invalid_spec_stalls_with_reason_and_message_on_ready_synced_and_stalled() {
        let c = conditions(&Report::invalid("spec.cidrBlock: bad"), Some(2), &[], &at(1));
        assert_eq!(
            statuses(&c),
            [("Ready", "False"), ("Synced", "False"), ("Reconciling", "False"), ("Stalled", "True")]
        );
        for t in ["Ready", "Synced", "Stalled"] {
            assert_eq!(
                (by_type(&c, t).reason.as_str(), by_type(&c, t).message.as_str()),
                ("InvalidSpec", "spec.cidrBlock: bad")
            );
        }
    }

    #[test]
    fn a_failed_change_is_not_ready_and_reconciling() {
        let c = conditions(
            &Report::failed_change(reason::AWS_ERROR, "CreateSubnet: InternalError", false),
            Some(1),
            &[],
            &at(1),
        );
        assert_eq!(
            statuses(&c),
            [("Ready", "False"), ("Synced", "False"), ("Reconciling", "True"), ("Stalled", "False")]
        );
    }

    #[test]
    fn paused_is_neither_reconciling_nor_stalled() {
        let report = Report {
            ready: Some(Readiness::not_ready(reason::PAUSED, "2 changes not applied while paused")),
            sync: Sync::Paused { message: "paused by annotation".into() },
        };
        let c = conditions(&report, Some(1), &[], &at(1));
        assert_eq!(
            statuses(&c),
            [("Ready", "False"), ("Synced", "False"), ("Reconciling", "False"), ("Stalled", "False")]
        );
        assert_eq!(by_type(&c, "Synced").reason, "Paused");
    }

    #[test]
    fn settled_readiness() {
        assert_eq!(settled(0, &[]), Readiness::Ready);
        assert_eq!(settled(0, &["NAT gateway nat-1".into()]), Readiness::progressing("waiting for NAT gateway nat-1"));
        assert_eq!(settled(3, &[]), Readiness::progressing("3 changes still to make"));
        assert_eq!(blocked(&[]), None);
        let used = crate::plan::Blocked::deletion("DB subnet group a is used by DB instance d".into());
        let taken = crate::plan::Blocked::name_taken("cache subnet group b exists".into());
        assert_eq!(
            blocked(&[used, taken]),
            Some(Readiness::NotReady {
                reason: reason::DELETION_BLOCKED,
                message: "DB subnet group a is used by DB instance d; cache subnet group b exists".into(),
                stalled: true
            })
        );
    }
}
