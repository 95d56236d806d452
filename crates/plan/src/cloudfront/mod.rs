//! CloudFront (a global service, through us-east-1): one distribution per owner with its
//! origins and cache behaviours, and an origin access control per S3 origin.
//!
//! The distribution carries the ownership tags and a `CallerReference` that is the create
//! intent's token, so a create whose response was lost is found again (by tags, or untagged by
//! its caller reference, then adopted). Origin access controls take no tags: they are the
//! owner's by their name, derived from the owner's UID and the origin (the origin is in their
//! description, so the name can be checked without the spec). Every update and delete sends the
//! ETag just read (`IfMatch`); a distribution is disabled, and deployed so, before it is deleted.

mod desired;
mod planner;
pub mod policies;
mod step;

use serde::Serialize;

use crate::owner::{Owner, Tags};

pub use desired::{desired_of, validate};
pub use planner::{Planned, access_control_names, find, inventory, kept, owns_any, plan};
pub use step::{ConfigRefs, ORDERING, Step, resources};

pub mod components {
    pub const DISTRIBUTION: &str = "distribution";
    /// The origin access control of the S3 origin `origin`.
    pub fn origin_access_control(origin: &str) -> String {
        format!("{}{origin}", ORIGIN_ACCESS_CONTROL_PREFIX)
    }
    pub const ORIGIN_ACCESS_CONTROL_PREFIX: &str = "oac/";
}

/// The hosted zone of every CloudFront domain name, for Route 53 alias records.
pub const HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";

/// How the controller's distribution comments start (`GlobalEntrypoint <ns>/<name>`): a cheap
/// filter before reading the caller reference of an untagged distribution.
pub const COMMENT_PREFIX: &str = "GlobalEntrypoint ";

/// CloudFront's status of a distribution whose last change reached every edge location.
pub const DEPLOYED: &str = "Deployed";

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    /// The distributions with the IDs the status records, or found by tags or caller reference.
    pub distributions: Vec<Distribution>,
    /// The origin access controls with the names or IDs asked for.
    pub origin_access_controls: Vec<OriginAccessControl>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    pub id: String,
    pub arn: String,
    /// `d111111abcdef8.cloudfront.net`
    pub domain_name: String,
    /// InProgress | Deployed
    pub status: String,
    /// Of the configuration just read; sent as IfMatch.
    pub etag: String,
    pub caller_reference: String,
    pub config: DistributionConfig,
    pub tags: Tags,
}

impl Distribution {
    pub fn deployed(&self) -> bool {
        self.status == DEPLOYED
    }

    /// Whether one of its S3 origins is signed with the access control `id`.
    pub fn uses_access_control(&self, id: &str) -> bool {
        self.config
            .origins
            .iter()
            .any(|o| matches!(&o.kind, OriginKind::S3 { origin_access_control_id: Some(c) } if c == id))
    }
}

/// The part of a distribution's configuration the controller decides. Everything else (logging,
/// geo restrictions, error responses, function associations, ...) is kept as AWS has it: the
/// adapter applies these fields onto the configuration it reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DistributionConfig {
    pub enabled: bool,
    pub comment: String,
    /// Sorted.
    pub aliases: Vec<String>,
    /// None: CloudFront's default certificate (`*.cloudfront.net`).
    pub certificate_arn: Option<String>,
    /// With an ACM certificate: `sni-only`.
    pub ssl_support_method: Option<String>,
    /// With an ACM certificate: `TLSv1.2_2021`.
    pub minimum_protocol_version: Option<String>,
    pub price_class: String,
    pub ipv6: bool,
    pub default_root_object: Option<String>,
    /// Sorted by ID (CloudFront keeps origins as a set).
    pub origins: Vec<OriginConfig>,
    pub default_behavior: BehaviorConfig,
    /// In order (the first that matches serves); each has a path pattern.
    pub behaviors: Vec<BehaviorConfig>,
    /// A CLOUDFRONT-scope web ACL's ARN.
    pub web_acl_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OriginConfig {
    pub id: String,
    pub domain_name: String,
    pub origin_path: Option<String>,
    pub kind: OriginKind,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum OriginKind {
    /// A load balancer or any other host.
    Custom { protocol_policy: String, http_port: u16, https_port: u16 },
    /// An S3 bucket's REST endpoint, signed with an origin access control.
    S3 { origin_access_control_id: Option<String> },
    /// Read back with no origin type at all (AWS always reports one: S3, custom or VPC).
    /// Nothing can be told of its type from such a read, so it is taken as the desired one;
    /// never desired itself.
    Unreported,
}

impl Default for OriginKind {
    fn default() -> Self {
        OriginKind::Custom { protocol_policy: "https-only".into(), http_port: 80, https_port: 443 }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BehaviorConfig {
    /// None for the default behaviour.
    pub path_pattern: Option<String>,
    pub target_origin_id: String,
    pub cache_policy_id: String,
    pub origin_request_policy_id: Option<String>,
    pub viewer_protocol_policy: String,
    /// `GET`, `HEAD`, ..., sorted (the cached methods are GET and HEAD, plus OPTIONS when
    /// allowed).
    pub allowed_methods: Vec<String>,
    pub compress: bool,
}

impl BehaviorConfig {
    /// What CloudFront caches of the allowed methods.
    pub fn cached_methods(&self) -> Vec<String> {
        let mut out = vec!["GET".to_string(), "HEAD".to_string()];
        if self.allowed_methods.iter().any(|m| m == "OPTIONS") {
            out.push("OPTIONS".into());
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OriginAccessControl {
    pub id: String,
    /// Of the control just read; sent as IfMatch.
    pub etag: String,
    pub config: AccessControlConfig,
}

/// An origin access control's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessControlConfig {
    pub name: String,
    pub description: String,
    /// s3
    pub origin_type: String,
    /// always
    pub signing_behavior: String,
    /// sigv4
    pub signing_protocol: String,
}

/// What an owner wants. The configuration's S3 origins' access control IDs and its web ACL are
/// filled at plan time, from the controls and the ACL the plan keeps or creates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    pub config: DistributionConfig,
    /// One per S3 origin.
    pub origin_access_controls: Vec<DesiredOriginAccessControl>,
    pub user_tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DesiredOriginAccessControl {
    /// The S3 origin's ID in the distribution.
    pub origin: String,
    pub config: AccessControlConfig,
}

/// The name of the owner's access control for `origin`: readable, at most 64 characters, and
/// distinct per owner UID and origin.
pub fn access_control_name(owner: &Owner, origin: &str) -> String {
    let hash = crate::intent::short_hash(&[&owner.uid, origin]);
    let base: String = format!("{}-{}-{origin}", owner.namespace, owner.name).chars().take(64 - 1 - 8).collect();
    format!("{base}-{hash}")
}

/// The description that names the origin (so ownership by name can be checked from the
/// control alone).
pub fn access_control_description(owner: &Owner, origin: &str) -> String {
    format!("origin {origin} of GlobalEntrypoint {}/{}", owner.namespace, owner.name)
}

/// The origin a description written by [`access_control_description`] names.
pub fn origin_of_description(description: &str) -> Option<&str> {
    description.strip_prefix("origin ")?.split(' ').next().filter(|o| !o.is_empty())
}

/// The entry point (namespace, name) a description written by [`access_control_description`]
/// names.
pub fn owner_of_description(description: &str) -> Option<(&str, &str)> {
    description.split_once(" of GlobalEntrypoint ")?.1.split_once('/')
}

/// The settings of the owner's access control for `origin`: S3, always signed, SigV4.
pub fn access_control_config(owner: &Owner, origin: &str) -> AccessControlConfig {
    AccessControlConfig {
        name: access_control_name(owner, origin),
        description: access_control_description(owner, origin),
        origin_type: "s3".into(),
        signing_behavior: "always".into(),
        signing_protocol: "sigv4".into(),
    }
}
