//! WAFv2 web ACLs (AWS managed rule groups and a per-IP rate rule) and their associations, for
//! every kind that puts a web ACL in front of something. The scope is a parameter: REGIONAL ACLs
//! live in the resource's region and attach with AssociateWebACL; CLOUDFRONT ACLs live in
//! us-east-1 and attach through the distribution's own configuration (its `WebACLId`), which the
//! distribution's planner writes.

use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::elbv2;
use crate::owner::{Owner, Rank, Tags, component, match_ranked, missing_tags};
use crate::plan::{Ordered, Ordering, Plan, PlanStep, Ref, Resource, Verb};

pub mod resources {
    pub const WEB_ACL: &str = "wafv2/web-acl";
    pub const WEB_ACL_ASSOCIATION: &str = "wafv2/web-acl-association";
    pub const TAGS: &str = "wafv2/tags";
}
use resources::*;

/// A web ACL associates with a load balancer that exists and is listening.
pub const ORDERING: Ordering = Ordering {
    needs: &[(WEB_ACL_ASSOCIATION, &[WEB_ACL, elbv2::resources::LOAD_BALANCER, elbv2::resources::LISTENER])],
    delete_first: &[],
};

pub mod components {
    pub const WEB_ACL: &str = "webacl";
}

/// Where a web ACL lives and what it can attach to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// ALBs, API Gateway stages, ...: the ACL is in the resource's region.
    #[default]
    Regional,
    /// CloudFront distributions: the ACL is in us-east-1.
    CloudFront,
}

impl Scope {
    pub fn as_aws(self) -> &'static str {
        match self {
            Scope::Regional => "REGIONAL",
            Scope::CloudFront => "CLOUDFRONT",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Observed {
    pub web_acls: Vec<WebAcl>,
    /// The web ACL of each regional resource that was asked about (None: none associated).
    pub associations: Vec<Association>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebAcl {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub rules: WafRules,
    pub tags: Tags,
}

/// What the controller puts in a web ACL it creates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WafRules {
    /// Allow | Block
    pub default_action: String,
    /// AWS managed rule groups, in priority order.
    pub managed_rule_groups: Vec<String>,
    pub rate_limit: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Association {
    pub resource_arn: String,
    pub web_acl_arn: Option<String>,
}

impl Observed {
    pub fn associated(&self, resource_arn: &str) -> Option<&str> {
        self.associations.iter().find(|a| a.resource_arn == resource_arn).and_then(|a| a.web_acl_arn.as_deref())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum DesiredAcl {
    /// Attach a web ACL the controller does not own.
    Existing(String),
    /// A web ACL the controller creates and owns.
    Owned { name: String, rules: WafRules },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Desired {
    pub scope: Scope,
    pub acl: DesiredAcl,
    pub user_tags: Tags,
}

/// What a web ACL attaches to.
#[derive(Clone, Copy, Debug)]
pub enum Attachment<'a> {
    /// A regional resource: AssociateWebACL, once the resource can take it (`active`).
    Regional { resource_arn: &'a str, name: &'a str, state: &'a str, active: bool },
    /// A CloudFront distribution names its web ACL in its own configuration: nothing here.
    Distribution,
}

/// The web ACL a spec's `waf` block asks for: the one it names, or one of the owner's own, named
/// `<readable>-<hash of the owner>` (WAF names take letters, digits, hyphens and underscores).
pub fn desired_of(waf: &securecart_api::Waf, scope: Scope, readable: &str, owner: &Owner, user_tags: &Tags) -> Desired {
    let acl = match &waf.web_acl_arn {
        Some(arn) => DesiredAcl::Existing(arn.clone()),
        None => DesiredAcl::Owned {
            name: format!("{}{}", readable.replace('.', "-"), web_acl_name_suffix(&owner.uid)),
            rules: WafRules {
                default_action: match waf.default_action {
                    securecart_api::WafAction::Allow => "Allow",
                    securecart_api::WafAction::Block => "Block",
                }
                .into(),
                managed_rule_groups: waf.managed_rule_groups.clone(),
                rate_limit: waf.rate_limit_per_five_minutes,
            },
        },
    };
    Desired { scope, acl, user_tags: user_tags.clone() }
}

/// A `spec.waf` block on its own: an existing ACL or rules, not both; no rule group twice.
pub fn validate_block(waf: &securecart_api::Waf) -> Result<(), crate::InvalidSpec> {
    let bad = |m: String| Err(crate::InvalidSpec(m));
    if waf.web_acl_arn.is_some() && (!waf.managed_rule_groups.is_empty() || waf.rate_limit_per_five_minutes.is_some()) {
        return bad("spec.waf: webAclArn attaches an existing web ACL; do not also describe rules".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(g) = waf.managed_rule_groups.iter().find(|g| !seen.insert(g.as_str())) {
        return bad(format!("spec.waf.managedRuleGroups: {g} is listed twice"));
    }
    Ok(())
}

/// How the name of every web ACL an owner creates ends. WAFv2 has no tag filter, so a search
/// reads tags only of ACLs whose names end so; the tags still decide ownership. Changing this
/// naming would hide existing ACLs from their owners.
pub fn web_acl_name_suffix(owner_uid: &str) -> String {
    format!("-{}", crate::intent::short_hash(&[owner_uid]))
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    CreateWebAcl { scope: Scope, component: String, name: String, rules: WafRules, tags: Tags },
    SetTags { scope: Scope, arn: String, component: String, tags: Tags },
    UpdateWebAcl { scope: Scope, arn: String, id: String, name: String, rules: WafRules },
    AssociateWebAcl { web_acl: Ref, resource_arn: String },
    DisassociateWebAcl { resource_arn: String },
    DeleteWebAcl { scope: Scope, arn: String, id: String, name: String },
}

impl Step {
    /// The scope whose endpoint runs the step (CLOUDFRONT: us-east-1).
    pub fn scope(&self) -> Scope {
        match self {
            Step::CreateWebAcl { scope, .. }
            | Step::SetTags { scope, .. }
            | Step::UpdateWebAcl { scope, .. }
            | Step::DeleteWebAcl { scope, .. } => *scope,
            Step::AssociateWebAcl { .. } | Step::DisassociateWebAcl { .. } => Scope::Regional,
        }
    }
}

impl PlanStep for Step {
    fn resource(&self) -> Resource {
        match self {
            Step::SetTags { .. } => TAGS,
            Step::CreateWebAcl { .. } | Step::UpdateWebAcl { .. } | Step::DeleteWebAcl { .. } => WEB_ACL,
            Step::AssociateWebAcl { .. } | Step::DisassociateWebAcl { .. } => WEB_ACL_ASSOCIATION,
        }
    }

    fn verb(&self) -> Verb {
        match self {
            Step::CreateWebAcl { .. } | Step::AssociateWebAcl { .. } => Verb::Create,
            Step::SetTags { .. } | Step::UpdateWebAcl { .. } => Verb::Update,
            Step::DisassociateWebAcl { .. } | Step::DeleteWebAcl { .. } => Verb::Delete,
        }
    }

    fn creates(&self) -> Option<&str> {
        match self {
            Step::CreateWebAcl { component, .. } => Some(component),
            _ => None,
        }
    }

    fn refs(&self) -> Vec<&Ref> {
        match self {
            Step::AssociateWebAcl { web_acl, .. } => vec![web_acl],
            _ => Vec::new(),
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Step::CreateWebAcl { .. } => "CreateWebACL",
            Step::SetTags { .. } => "SetTags",
            Step::UpdateWebAcl { .. } => "UpdateWebACL",
            Step::AssociateWebAcl { .. } => "AssociateWebACL",
            Step::DisassociateWebAcl { .. } => "DisassociateWebACL",
            Step::DeleteWebAcl { .. } => "DeleteWebACL",
        }
    }
}

impl Ordered for Step {
    fn ordering() -> &'static [Ordering] {
        &[ORDERING]
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateWebAcl { name, rules, .. } => write!(
                f,
                "create web ACL {name} (default {}, managed [{}], rate limit {:?})",
                rules.default_action,
                rules.managed_rule_groups.join(", "),
                rules.rate_limit
            ),
            Step::SetTags { arn, component, tags, .. } => {
                write!(f, "tag {component} {arn} with {}", crate::owner::keys(tags))
            }
            Step::UpdateWebAcl { name, rules, .. } => write!(
                f,
                "update web ACL {name} to default {}, managed [{}], rate limit {:?}",
                rules.default_action,
                rules.managed_rule_groups.join(", "),
                rules.rate_limit
            ),
            Step::AssociateWebAcl { web_acl, resource_arn } => {
                write!(f, "associate web ACL {web_acl} with {resource_arn}")
            }
            Step::DisassociateWebAcl { resource_arn } => write!(f, "disassociate web ACL from {resource_arn}"),
            Step::DeleteWebAcl { name, .. } => write!(f, "delete web ACL {name}"),
        }
    }
}

/// The owner's web ACL for `desired` (created or repaired), and deletes of its other ACLs;
/// returns the ACL to attach.
pub fn plan_acl(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> (Plan<Step>, Option<Ref>) {
    let owner = cx.owner;
    let mut plan = Plan::default();
    let owned = |d: &Desired| matches!(d.acl, DesiredAcl::Owned { .. });
    let acls = match_ranked(
        &observed.web_acls,
        cx,
        |a| &a.tags,
        |a| &a.arn,
        |c, a| c == components::WEB_ACL && desired.is_some_and(|d| owned(d) && a.scope == d.scope),
        |a| Rank { named: cx.named(components::WEB_ACL, &a.arn), ..Rank::default() },
    );
    let acl = desired.map(|d| match &d.acl {
        DesiredAcl::Existing(arn) => Ref::Id(arn.clone()),
        DesiredAcl::Owned { name, rules } => {
            let c = components::WEB_ACL;
            let tags = owner.tags(c, &d.user_tags);
            match acls.kept.get(c) {
                Some(a) => {
                    let missing = missing_tags(&tags, &a.tags);
                    if !missing.is_empty() {
                        plan.steps.push(Step::SetTags {
                            scope: a.scope,
                            arn: a.arn.clone(),
                            component: c.into(),
                            tags: missing,
                        });
                    }
                    if &a.rules != rules {
                        plan.steps.push(Step::UpdateWebAcl {
                            scope: a.scope,
                            arn: a.arn.clone(),
                            id: a.id.clone(),
                            name: a.name.clone(),
                            rules: rules.clone(),
                        });
                    }
                    Ref::Id(a.arn.clone())
                }
                None => {
                    plan.steps.push(Step::CreateWebAcl {
                        scope: d.scope,
                        component: c.into(),
                        name: name.clone(),
                        rules: rules.clone(),
                        tags,
                    });
                    Ref::Created(c.into())
                }
            }
        }
    });
    for a in &acls.unwanted {
        plan.steps.push(Step::DeleteWebAcl {
            scope: a.scope,
            arn: a.arn.clone(),
            id: a.id.clone(),
            name: a.name.clone(),
        });
    }
    (plan, acl)
}

/// `acl` on `kept` (associated once it can take it), and no association left on the owner's
/// other `resources`; without an ACL wanted, only an association to an ACL the owner made is
/// removed from the kept resource.
pub fn plan_associations(
    cx: &Context,
    acl: Option<&Ref>,
    kept: Option<Attachment>,
    resources: &[&str],
    observed: &Observed,
) -> Plan<Step> {
    let mut plan = Plan::default();
    let kept_arn = match kept {
        Some(Attachment::Regional { resource_arn, .. }) => Some(resource_arn),
        _ => None,
    };
    if let (Some(Attachment::Regional { resource_arn, name, state, active }), Some(acl)) = (kept, acl) {
        let associated = observed.associated(resource_arn);
        if associated.is_none() || associated != acl.id() {
            if active {
                plan.steps.push(Step::AssociateWebAcl { web_acl: acl.clone(), resource_arn: resource_arn.into() });
            } else {
                plan.waiting
                    .push(format!("load balancer {name} to become active (is {state}) before the WAF association"));
            }
        }
    }
    let owned_acl = |arn: &str| observed.web_acls.iter().any(|a| a.arn == arn && cx.owner.owns(&a.tags));
    for resource in resources {
        let Some(associated) = observed.associated(resource) else { continue };
        let stale = match kept_arn {
            Some(k) if k == *resource => acl.is_none() && owned_acl(associated),
            _ => true,
        };
        if stale {
            plan.steps.push(Step::DisassociateWebAcl { resource_arn: resource.to_string() });
        }
    }
    plan
}

/// The owner's web ACL, if observed.
pub fn find<'a>(owner: &Owner, observed: &'a Observed) -> Option<&'a WebAcl> {
    observed.web_acls.iter().find(|a| owner.owns(&a.tags) && component(&a.tags) == Some(components::WEB_ACL))
}

pub fn inventory(owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
    observed
        .web_acls
        .iter()
        .filter(|a| owner.owns(&a.tags))
        .filter_map(|a| Some((component(&a.tags)?.to_string(), a.arn.clone())))
        .collect()
}

pub fn owns_any(owner: &Owner, observed: &Observed) -> bool {
    observed.web_acls.iter().any(|a| owner.owns(&a.tags))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InUse, Known};

    fn owner() -> Owner {
        Owner { kind: "Distribution".into(), namespace: "edge".into(), name: "shop".into(), uid: "u-cf".into() }
    }

    fn owned(scope: Scope) -> Desired {
        let rules = WafRules {
            default_action: "Allow".into(),
            managed_rule_groups: vec!["AWSManagedRulesCommonRuleSet".into()],
            rate_limit: None,
        };
        Desired {
            scope,
            acl: DesiredAcl::Owned { name: format!("edge-shop{}", web_acl_name_suffix("u-cf")), rules },
            user_tags: Tags::new(),
        }
    }

    #[test]
    fn a_cloudfront_acl_is_made_in_its_scope_and_attached_by_the_distribution_not_here() {
        let (known, in_use, owner) = (Known::new(), InUse::new(), owner());
        let cx = Context { owner: &owner, known: &known, in_use: &in_use, chosen: None };
        let (plan, acl) = plan_acl(Some(&owned(Scope::CloudFront)), &cx, &Observed::default());
        assert!(matches!(plan.steps.as_slice(), [Step::CreateWebAcl { scope: Scope::CloudFront, .. }]));
        assert_eq!(plan.steps[0].scope(), Scope::CloudFront, "run through us-east-1");
        let attached = plan_associations(&cx, acl.as_ref(), Some(Attachment::Distribution), &[], &Observed::default());
        assert!(attached.in_sync(), "no AssociateWebACL for a distribution");
        // A REGIONAL ACL of the same owner is not the CLOUDFRONT one: it is replaced.
        let regional = WebAcl {
            arn: "arn:aws:wafv2:us-east-1:1:regional/webacl/edge-shop/1".into(),
            id: "1".into(),
            name: "edge-shop".into(),
            scope: Scope::Regional,
            rules: WafRules::default(),
            tags: owner.tags(components::WEB_ACL, &Tags::new()),
        };
        let observed = Observed { web_acls: vec![regional], associations: Vec::new() };
        let (plan, _) = plan_acl(Some(&owned(Scope::CloudFront)), &cx, &observed);
        let actions: Vec<&str> = plan.steps.iter().map(|s| s.action()).collect();
        assert_eq!(actions, ["CreateWebACL", "DeleteWebACL"]);
    }

    #[test]
    fn a_regional_association_waits_for_an_active_resource() {
        let (known, in_use, owner) = (Known::new(), InUse::new(), owner());
        let cx = Context { owner: &owner, known: &known, in_use: &in_use, chosen: None };
        let acl = Ref::Id("arn:acl".into());
        let lb = |active| Attachment::Regional { resource_arn: "arn:lb", name: "lb", state: "provisioning", active };
        let waiting = plan_associations(&cx, Some(&acl), Some(lb(false)), &["arn:lb"], &Observed::default());
        assert!(waiting.steps.is_empty() && waiting.waiting.len() == 1, "{waiting:?}");
        let ready = plan_associations(&cx, Some(&acl), Some(lb(true)), &["arn:lb"], &Observed::default());
        assert!(matches!(ready.steps.as_slice(), [Step::AssociateWebAcl { .. }]));
    }
}
