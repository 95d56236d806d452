//! Condition types and reasons. `Ready` (the AWS resources exist and match the spec, at this
//! generation) is the summary `kubectl wait` and dashboards read; `Synced` says whether the last
//! reconcile ran without error; `Reconciling` and `Stalled` are the abnormal-true pair kstatus
//! (Flux, kpt) understands.

pub const READY: &str = "Ready";
pub const SYNCED: &str = "Synced";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";
/// PrivateLink: the partner's endpoint service accepted the connection.
pub const ACCEPTED: &str = "Accepted";
/// LoadBalancerPolicy parts, each with its own condition so `kubectl get` shows which part lags.
pub const LOAD_BALANCER_READY: &str = "LoadBalancerReady";
pub const WAF_ASSOCIATED: &str = "WafAssociated";
pub const DNS_PUBLISHED: &str = "DnsPublished";
pub const ALARMS_CONFIGURED: &str = "AlarmsConfigured";
/// GlobalEntrypoint: the distribution or accelerator has deployed its configuration to the edge.
pub const DEPLOYED: &str = "Deployed";

/// Reasons: CamelCase, low cardinality, shared with the metrics' `reason` label.
pub mod reason {
    /// Everything exists and matches the spec.
    pub const RECONCILED: &str = "Reconciled";
    /// Work is under way; the message says what it waits for.
    pub const PROGRESSING: &str = "Progressing";
    /// The spec cannot be realised; the message names the field. No AWS call was made.
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// AWS refused a request for a reason only a spec change can cure.
    pub const AWS_REJECTED: &str = "AwsRejected";
    /// AWS failed or throttled; retried with backoff.
    pub const AWS_ERROR: &str = "AwsError";
    /// A referenced object does not exist or is not Ready yet.
    pub const WAITING_FOR_DEPENDENCY: &str = "WaitingForDependency";
    /// Deletion is under way.
    pub const DELETING: &str = "Deleting";
    /// Deletion cannot go on until something outside the controller's ownership is removed.
    pub const DELETION_BLOCKED: &str = "DeletionBlocked";
    /// An AWS name the object derives is held by a resource it does not own (the message names it).
    pub const NAME_TAKEN: &str = "NameTaken";
    /// A partner endpoint service has not accepted the connection yet.
    pub const PENDING_ACCEPTANCE: &str = "PendingAcceptance";
    /// A partner endpoint service rejected the connection.
    pub const REJECTED: &str = "Rejected";
    /// A part the spec does not ask for (no WAF, no DNS).
    pub const NOT_REQUESTED: &str = "NotRequested";
    /// The pause annotation stops every AWS write; reads and status go on.
    pub const PAUSED: &str = "Paused";
    /// Deletion waits for the objects that use this one (named in the message).
    pub const IN_USE: &str = "InUse";
    /// The Kubernetes API refused or failed a request (status write, list).
    pub const KUBE_ERROR: &str = "KubeError";
    /// Used for Reconciling/Stalled when they do not apply.
    pub const IDLE: &str = "Idle";
}

/// `net.securecart.io/paused: "true"` stops every AWS write for the object; removing it resumes.
pub const PAUSED_ANNOTATION: &str = "net.securecart.io/paused";
