//! Ownership tags: who owns an AWS resource and which part of the owner it is.

use std::collections::BTreeMap;

use securecart_api::tags;

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

/// Owned resources split into the one kept per desired component and the rest (AWS-only,
/// duplicates), which are deleted.
pub(crate) struct Matched<'a, T> {
    pub kept: BTreeMap<String, &'a T>,
    pub unwanted: Vec<&'a T>,
}

pub(crate) fn match_owned<'a, T>(
    items: &'a [T],
    owner: &Owner,
    tags: impl Fn(&T) -> &Tags,
    id: impl Fn(&T) -> &str,
    wanted: impl Fn(&str, &T) -> bool,
) -> Matched<'a, T> {
    let mut owned: Vec<&T> = items.iter().filter(|i| owner.owns(tags(i))).collect();
    owned.sort_by(|a, b| id(a).cmp(id(b)));
    let mut kept = BTreeMap::new();
    let mut unwanted = Vec::new();
    for item in owned {
        match component(tags(item)) {
            Some(c) if wanted(c, item) && !kept.contains_key(c) => {
                kept.insert(c.to_string(), item);
            }
            _ => unwanted.push(item),
        }
    }
    Matched { kept, unwanted }
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
