//! CloudFront steps and the order their resource types need.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{AccessControlConfig, DistributionConfig};
use crate::owner::Tags;
use crate::plan::{Ordered, Ordering, PlanStep, Ref, Resource, Verb};
use crate::{route53, shield, wafv2};

pub mod resources {
    pub const DISTRIBUTION: &str = "cloudfront/distribution";
    pub const ORIGIN_ACCESS_CONTROL: &str = "cloudfront/origin-access-control";
    pub const TAGS: &str = "cloudfront/tags";
}
use resources::*;

/// A distribution names its S3 origins' access controls and its web ACL, so it is created or
/// updated after them (and deleted before them). Its Shield protection and the alias records
/// need it to exist, and go before it.
pub const ORDERING: Ordering = Ordering {
    needs: &[
        (DISTRIBUTION, &[ORIGIN_ACCESS_CONTROL, wafv2::resources::WEB_ACL]),
        (shield::resources::PROTECTION, &[DISTRIBUTION]),
        (route53::resources::RECORDS, &[DISTRIBUTION]),
    ],
    delete_first: &[],
};

/// The IDs a distribution's configuration takes from resources that may not exist yet: each S3
/// origin's access control (by origin ID) and the web ACL (an ARN). The adapter resolves them
/// and writes them over the configuration's fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConfigRefs {
    pub origin_access_controls: BTreeMap<String, Ref>,
    pub web_acl: Option<Ref>,
}

impl ConfigRefs {
    pub fn all(&self) -> Vec<&Ref> {
        self.origin_access_controls.values().chain(self.web_acl.as_ref()).collect()
    }

    /// Whether one of them is made by this plan (so the configuration surely changes).
    pub fn pending(&self) -> bool {
        self.all().iter().any(|r| r.created().is_some())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateOriginAccessControl {
        component: String,
        config: AccessControlConfig,
    },
    /// Rewrites its settings; `etag` is the one just read.
    UpdateOriginAccessControl {
        id: String,
        etag: String,
        config: AccessControlConfig,
    },
    DeleteOriginAccessControl {
        id: String,
        etag: String,
        name: String,
    },
    /// With its tags in the same call; its CallerReference is the create intent's token, given
    /// at run time.
    CreateDistribution {
        component: String,
        /// Boxed: by far the largest step of any service.
        config: Box<DistributionConfig>,
        refs: ConfigRefs,
        tags: Tags,
    },
    /// The whole configuration (CloudFront's update replaces it): the adapter applies these
    /// managed fields onto the configuration it reads, so unmanaged ones stay as they are, and
    /// sends `etag`, the one the plan was made from.
    UpdateDistribution {
        id: String,
        etag: String,
        config: Box<DistributionConfig>,
        refs: ConfigRefs,
    },
    SetTags {
        arn: String,
        component: String,
        tags: Tags,
    },
    /// Enabled=false and no web ACL (a disabled distribution serves nothing, and its web ACL can
    /// then be deleted in the same pass), the rest as it is: the first half of a delete.
    DisableDistribution {
        id: String,
        etag: String,
    },
    /// Only a disabled, deployed distribution can be deleted.
    DeleteDistribution {
        id: String,
        etag: String,
    },
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::CreateOriginAccessControl { .. }
            | Step::UpdateOriginAccessControl { .. }
            | Step::DeleteOriginAccessControl { .. } => ORIGIN_ACCESS_CONTROL,
            Step::CreateDistribution { .. }
            | Step::UpdateDistribution { .. }
            | Step::DisableDistribution { .. }
            | Step::DeleteDistribution { .. } => DISTRIBUTION,
            Step::SetTags { .. } => TAGS,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateOriginAccessControl { .. } | Step::CreateDistribution { .. } => Verb::Create,
            Step::UpdateOriginAccessControl { .. } | Step::UpdateDistribution { .. } | Step::SetTags { .. } => {
                Verb::Update
            }
            // Disabling is the start of a removal: after every create and update (the kept
            // distribution is ready first), and after the records and protection that name it.
            Step::DisableDistribution { .. }
            | Step::DeleteDistribution { .. }
            | Step::DeleteOriginAccessControl { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateOriginAccessControl { component, .. } | Step::CreateDistribution { component, .. } => {
                Some(component)
            }
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::CreateDistribution { refs, .. } | Step::UpdateDistribution { refs, .. } => refs.all(),
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::CreateOriginAccessControl { .. } => "CreateOriginAccessControl",
            Step::UpdateOriginAccessControl { .. } => "UpdateOriginAccessControl",
            Step::DeleteOriginAccessControl { .. } => "DeleteOriginAccessControl",
            Step::CreateDistribution { .. } => "CreateDistributionWithTags",
            Step::UpdateDistribution { .. } | Step::DisableDistribution { .. } => "UpdateDistribution",
            Step::SetTags { .. } => "TagResource",
            Step::DeleteDistribution { .. } => "DeleteDistribution",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

fn refs_summary(refs: &ConfigRefs) -> String {
    let mut parts: Vec<String> =
        refs.origin_access_controls.iter().map(|(origin, r)| format!("{origin} signed by {r}")).collect();
    if let Some(acl) = &refs.web_acl {
        parts.push(format!("web ACL {acl}"));
    }
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateOriginAccessControl { config, .. } => {
                write!(
                    f,
                    "create origin access control {} ({}, signing {})",
                    config.name, config.origin_type, config.signing_behavior
                )
            }
            Step::UpdateOriginAccessControl { id, config, .. } => write!(
                f,
                "set origin access control {id} ({}) to {} {} {}",
                config.name, config.origin_type, config.signing_behavior, config.signing_protocol
            ),
            Step::DeleteOriginAccessControl { id, name, .. } => write!(f, "delete origin access control {id} ({name})"),
            Step::CreateDistribution { config, refs, .. } => write!(
                f,
                "create distribution \"{}\" with origins {}{}",
                config.comment,
                config.origins.iter().map(|o| o.domain_name.as_str()).collect::<Vec<_>>().join(", "),
                refs_summary(refs)
            ),
            Step::UpdateDistribution { id, etag, refs, .. } => {
                write!(f, "update distribution {id} (if still {etag}){}", refs_summary(refs))
            }
            Step::SetTags { arn, component, tags } => {
                write!(f, "tag {component} {arn} with {}", crate::owner::keys(tags))
            }
            Step::DisableDistribution { id, .. } => write!(f, "disable distribution {id} before deleting it"),
            Step::DeleteDistribution { id, .. } => write!(f, "delete disabled distribution {id}"),
        }
    }
}
