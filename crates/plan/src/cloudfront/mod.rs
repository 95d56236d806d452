//! CloudFront (a global service, through us-east-1): one distribution per owner with its
//! origins and cache behaviours, and an origin access control per S3 origin.
//!
//! The distribution carries the ownership tags and a `CallerReference` that is the create
//! intent's token, so a create whose response was lost is found again (by tags, or untagged by
//! its caller reference, then adopted). Origin access controls take no tags: they are the
//! owner's by their name, derived from the owner's UID. Every update and delete sends the ETag
//! just read (`IfMatch`); a distribution is disabled, and deployed so, before it is deleted.

mod planner;
mod step;

use serde::Serialize;

use crate::owner::Tags;

pub use planner::{Planned, desired_of, find, inventory, origin_access_control_name, owns_any, plan, validate};
pub use step::{ORDERING, Step, resources};

pub mod components {
    pub const DISTRIBUTION: &str = "distribution";
    /// The origin access control of the S3 origin `origin`.
    pub fn origin_access_control(origin: &str) -> String {
        format!("oac/{origin}")
    }
}

/// The hosted zone of every CloudFront domain name, for Route 53 alias records.
pub const HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    /// The distributions with the IDs the status records, or found by tags or caller reference.
    pub distributions: Vec<Distribution>,
    /// The origin access controls whose names are the owner's.
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

/// The part of a distribution's configuration the controller decides.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DistributionConfig {
    pub enabled: bool,
    pub comment: String,
    pub aliases: Vec<String>,
    /// None: CloudFront's default certificate (`*.cloudfront.net`).
    pub certificate_arn: Option<String>,
    pub price_class: String,
    pub ipv6: bool,
    pub default_root_object: Option<String>,
    pub origins: Vec<OriginConfig>,
    pub default_behavior: BehaviorConfig,
    /// In order; each has a path pattern.
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
    /// `GET`, `HEAD`, ... (the cached methods are GET and HEAD, plus OPTIONS when allowed).
    pub allowed_methods: Vec<String>,
    pub compress: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OriginAccessControl {
    pub id: String,
    pub name: String,
    /// Of the control just read; sent as IfMatch.
    pub etag: String,
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
    /// Derived from the owner's UID and the origin (at most 64 characters).
    pub name: String,
}
