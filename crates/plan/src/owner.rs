//! Ownership tags: who owns an AWS resource and which part of the owner it is.

use std::collections::BTreeMap;

use securecart_api::tags;

use crate::context::Context;

pub type Tags = BTreeMap<String, String>;

/// The Kubernetes object that owns a set of AWS resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

impl Owner {
    /// The full tag set for one component: the user's tags, then ownership tags and a Name that
    /// the user's tags cannot override.
    pub fn tags(&self, component: &str, user_tags: &Tags) -> Tags {
        let mut out = user_tags.clone();
        out.insert(tags::OWNER_KIND.into(), self.kind.clone());
        out.insert(tags::OWNER_NAMESPACE.into(), self.namespace.clone());
        out.insert(tags::OWNER_NAME.into(), self.name.clone());
        out.insert(tags::OWNER_UID.into(), self.uid.clone());
        out.insert(tags::COMPONENT.into(), component.into());
        out.entry("Name".into())
            .or_insert_with(|| format!("{}-{}-{}", self.namespace, self.name, component.replace('/', "-")));
        out
    }

    /// True when `tags` say the resource is this owner's (and so may be changed or deleted).
    pub fn owns(&self, resource_tags: &Tags) -> bool {
        resource_tags.get(tags::OWNER_UID) == Some(&self.uid)
    }
}

/// The component key of a resource, if it carries one.
pub fn component(resource_tags: &Tags) -> Option<&str> {
    resource_tags.get(tags::COMPONENT).map(String::as_str)
}

/// Tags to (re)write so that `actual` carries every desired key with the desired value. Keys AWS
/// reserves are never touched; extra keys added by others are left alone.
pub fn missing_tags(desired: &Tags, actual: &Tags) -> Tags {
    desired
        .iter()
        .filter(|(k, _)| !k.starts_with(tags::AWS_RESERVED_PREFIX))
        .filter(|(k, v)| actual.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What the controller knows it made: component -> AWS ID, from the object's status. A resource
/// named here wins a tie between duplicates, so the one everything else points at is kept.
pub type Known = BTreeMap<String, String>;

/// Owned resources split into the one kept per desired component and the rest (AWS-only,
/// duplicates), which are deleted.
pub(crate) struct Matched<'a, T> {
    pub kept: BTreeMap<String, &'a T>,
    pub unwanted: Vec<&'a T>,
}

/// How duplicates of one component rank: the one the status names first, then the one more
/// resources hang off (a VPC with subnets before an empty twin), then the oldest where AWS
/// reports a creation time, then the lowest ID (only a tie-break between fresh twins: AWS IDs
/// are random).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rank<'a> {
    pub named: bool,
    pub dependents: usize,
    /// RFC 3339, so that string order is time order.
    pub created: Option<&'a str>,
}

/// Notes each kept one with `cx`, for the engine to name in the status.
pub(crate) fn match_ranked<'a, T>(
    items: &'a [T],
    cx: &Context,
    tags: impl Fn(&T) -> &Tags,
    id: impl Fn(&T) -> &str,
    wanted: impl Fn(&str, &T) -> bool,
    rank: impl Fn(&'a T) -> Rank<'a>,
) -> Matched<'a, T> {
    let mut owned: Vec<(&T, Rank<'a>)> =
        items.iter().filter(|i| cx.owner.owns(tags(i))).map(|i| (i, rank(i))).collect();
    owned.sort_by(|(a, ra), (b, rb)| {
        rb.named
            .cmp(&ra.named)
            .then(rb.dependents.cmp(&ra.dependents))
            .then_with(|| match (ra.created, rb.created) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| id(a).cmp(id(b)))
    });
    let mut kept = BTreeMap::new();
    let mut unwanted = Vec::new();
    for (item, _) in owned {
        match component(tags(item)) {
            Some(c) if wanted(c, item) && !kept.contains_key(c) => {
                cx.chose(c, id(item));
                kept.insert(c.to_string(), item);
            }
            _ => unwanted.push(item),
        }
    }
    Matched { kept, unwanted }
}

/// Of the resources found for `component`, the one `known` names when it is among them (the
/// status-named one, or the planner's pick among duplicates), else the first: what a status
/// publishes is the one kept.
pub fn kept_or_first<'a, T>(
    candidates: impl IntoIterator<Item = &'a T>,
    known: &Known,
    component: &str,
    id: impl Fn(&T) -> &str,
) -> Option<&'a T> {
    let all: Vec<&T> = candidates.into_iter().collect();
    let named = known.get(component);
    all.iter().find(|c| named.is_some_and(|k| k == id(c))).or(all.first()).copied()
}

/// The keys of `tags`, comma-separated, for a step's one-line summary.
pub fn keys(tags: &Tags) -> String {
    tags.keys().cloned().collect::<Vec<_>>().join(",")
}

/// Tags that make `owner` own a resource as `component`, for one that was found by what only the
/// owner could have made (a caller reference, a derived name) but lacks them.
pub fn ownership_tags(owner: &Owner, component: &str) -> Tags {
    owner.tags(component, &Tags::new()).into_iter().filter(|(k, _)| k.starts_with(tags::PREFIX)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner { kind: "VpcTier".into(), namespace: "platform".into(), name: "shop".into(), uid: "u-1".into() }
    }

    #[test]
    fn tags_carry_ownership_component_and_user_tags_but_users_cannot_spoof_ownership() {
        let user = Tags::from([("team".into(), "platform".into()), (tags::OWNER_UID.into(), "evil".into())]);
        let t = owner().tags("subnet/app/us-east-1b", &user);
        assert_eq!(t["team"], "platform");
        assert_eq!(t[tags::OWNER_UID], "u-1");
        assert_eq!(t[tags::COMPONENT], "subnet/app/us-east-1b");
        assert_eq!(t["Name"], "platform-shop-subnet-app-us-east-1b");
        assert!(owner().owns(&t));
        assert!(!owner().owns(&Tags::new()));
    }

    #[derive(Debug)]
    struct Thing {
        id: String,
        tags: Tags,
        created: Option<String>,
    }

    fn thing(id: &str, created: Option<&str>) -> Thing {
        Thing { id: id.into(), tags: owner().tags("vpc", &Tags::new()), created: created.map(str::to_string) }
    }

    fn kept_id(things: &[Thing], known: &Known) -> String {
        let (owner, in_use, chosen) = (owner(), crate::InUse::new(), crate::Choices::default());
        let cx = Context { owner: &owner, known, in_use: &in_use, chosen: Some(&chosen) };
        let m = match_ranked(
            things,
            &cx,
            |t| &t.tags,
            |t| &t.id,
            |c, _| c == "vpc",
            |t| Rank { named: known.get("vpc") == Some(&t.id), dependents: 0, created: t.created.as_deref() },
        );
        assert_eq!(chosen.take().get("vpc"), Some(&m.kept["vpc"].id), "the engine learns the pick");
        m.kept["vpc"].id.clone()
    }

    #[test]
    fn duplicates_keep_the_status_named_one_then_the_oldest_with_random_ids() {
        // IDs as AWS makes them: random, so their order says nothing about age.
        let things = [
            thing("vpc-0f3a9c", Some("2026-12-01T10:00:05Z")),
            thing("vpc-07b21e", Some("2026-12-01T10:00:09Z")),
            thing("vpc-0c44d0", Some("2026-12-01T10:00:01Z")),
        ];
        assert_eq!(kept_id(&things, &Known::new()), "vpc-0c44d0", "the oldest");
        let named = Known::from([("vpc".to_string(), "vpc-07b21e".to_string())]);
        assert_eq!(kept_id(&things, &named), "vpc-07b21e", "the one the status names, though the youngest");
        let undated = [thing("vpc-0f3a9c", None), thing("vpc-0c44d0", Some("2026-12-01T10:00:01Z"))];
        assert_eq!(kept_id(&undated, &Known::new()), "vpc-0c44d0", "a dated one before an undated one");
        let twins = [thing("vpc-0f3a9c", None), thing("vpc-0c44d0", None)];
        assert_eq!(kept_id(&twins, &Known::new()), "vpc-0c44d0", "fresh twins: the lowest ID, deterministically");
    }

    #[test]
    fn ownership_tags_are_only_the_controllers_keys() {
        let t = ownership_tags(&owner(), "healthcheck");
        assert_eq!(t.len(), 5);
        assert!(t.keys().all(|k| k.starts_with(tags::PREFIX)));
        assert_eq!(t[tags::COMPONENT], "healthcheck");
    }

    #[test]
    fn missing_tags_ignores_aws_reserved_and_foreign_extra_keys() {
        let desired = Tags::from([("a".into(), "1".into()), ("b".into(), "2".into()), ("aws:x".into(), "y".into())]);
        let actual =
            Tags::from([("a".into(), "1".into()), ("b".into(), "changed".into()), ("other".into(), "z".into())]);
        assert_eq!(missing_tags(&desired, &actual), Tags::from([("b".into(), "2".into())]));
        assert!(
            missing_tags(&desired, &desired.clone().into_iter().chain([("aws:x".into(), "q".into())]).collect())
                .is_empty()
        );
    }
}
