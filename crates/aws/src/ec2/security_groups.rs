//! EC2 security groups, for every kind that has one: observed by the IDs the status records,
//! else by VPC (ownership checked here on the tags), with a region-wide tag search only when
//! something may exist unrecorded; and the security group steps.

use std::collections::HashMap;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType};
use securecart_api::tags::OWNER_UID;
use securecart_plan::Output;
use securecart_plan::security_group::{Ingress, SecurityGroup, Step};

use super::{Ec2, filter, owner_filter, tag_spec, tags_of};
use crate::{AwsError, ErrorKind, ok_if_gone, resolve};

/// Every call here is an EC2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "ec2";

/// Where an owner's groups may be.
#[derive(Clone, Copy, Debug)]
pub struct GroupScope<'a> {
    pub owner_uid: &'a str,
    /// The VPC the wanted group is in, when known.
    pub vpc_id: Option<&'a str>,
    /// The groups the status records.
    pub ids: &'a [String],
    /// Something may exist unrecorded: search the region by ownership tag too.
    pub search: bool,
}

fn permissions(rules: &[Ingress]) -> Vec<IpPermission> {
    rules
        .iter()
        .map(|r| {
            let b = IpPermission::builder()
                .ip_protocol(&r.protocol)
                .from_port(i32::from(r.port))
                .to_port(i32::from(r.port));
            if r.cidr.contains(':') {
                b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(&r.cidr).build()).build()
            } else {
                b.ip_ranges(IpRange::builder().cidr_ip(&r.cidr).build()).build()
            }
        })
        .collect()
}

/// One-port rules from IPv4 and IPv6 ranges: what the controller writes, and all it compares.
fn ingress(g: &aws_sdk_ec2::types::SecurityGroup) -> std::collections::BTreeSet<Ingress> {
    let mut out = std::collections::BTreeSet::new();
    for p in g.ip_permissions() {
        let (Some(protocol), Some(from), Some(to)) = (p.ip_protocol(), p.from_port(), p.to_port()) else { continue };
        let Ok(port) = u16::try_from(from) else { continue };
        if from != to {
            continue;
        }
        let cidrs = p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip())
            .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()));
        for cidr in cidrs {
            out.insert(Ingress { protocol: protocol.into(), port, cidr: cidr.into() });
        }
    }
    out
}

impl Ec2 {
    /// The owner's security groups as far as `scope` lets them be known: by ID when recorded
    /// (by VPC when a recorded one is gone), by VPC when nothing is, and by tag when searching.
    pub async fn observe_security_groups(&self, scope: GroupScope<'_>) -> Result<Vec<SecurityGroup>, AwsError> {
        let by_id = match scope.ids {
            [] => None,
            ids => match self.describe_security_groups(|r| r.set_group_ids(Some(ids.to_vec()))).await {
                Err(e) if e.kind == ErrorKind::NotFound => None,
                other => Some(other?),
            },
        };
        let mut groups = match (by_id, scope.vpc_id) {
            (Some(found), _) => found,
            (None, Some(vpc)) => self.describe_security_groups(|r| r.filters(filter("vpc-id", vpc))).await?,
            (None, None) => Vec::new(),
        };
        if scope.search {
            let tagged = self.describe_security_groups(|r| r.filters(owner_filter(scope.owner_uid))).await?;
            for g in tagged {
                if !groups.iter().any(|have| have.id == g.id) {
                    groups.push(g);
                }
            }
        }
        groups.retain(|g| g.tags.get(OWNER_UID).is_some_and(|u| u == scope.owner_uid));
        tracing::debug!(
            service = SERVICE,
            region = self.region(),
            groups = groups.len(),
            search = scope.search,
            "observed security groups"
        );
        Ok(groups)
    }

    pub(crate) async fn describe_security_groups(
        &self,
        select: impl Fn(
            aws_sdk_ec2::operation::describe_security_groups::builders::DescribeSecurityGroupsFluentBuilder,
        )
            -> aws_sdk_ec2::operation::describe_security_groups::builders::DescribeSecurityGroupsFluentBuilder,
    ) -> Result<Vec<SecurityGroup>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let request = select(self.client.describe_security_groups()).set_next_token(token);
            let page = self.call("DescribeSecurityGroups", false, request.send()).await?;
            out.extend(page.security_groups().iter().filter_map(|g| {
                Some(SecurityGroup {
                    id: g.group_id()?.into(),
                    vpc_id: g.vpc_id().unwrap_or_default().into(),
                    ingress: ingress(g),
                    tags: tags_of(g.tags()),
                })
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Runs one security group step.
    pub(crate) async fn run_security_group(
        &self,
        step: &Step,
        created: &HashMap<String, String>,
    ) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::SetTags { resource_id, tags, .. } => self.set_tags(resource_id, tags).await,
            Step::CreateSecurityGroup { name, description, vpc_id, tags, .. } => {
                let request = c
                    .create_security_group()
                    .group_name(name)
                    .description(description)
                    .vpc_id(vpc_id)
                    .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags));
                let out = self.call("CreateSecurityGroup", true, request.send()).await?;
                Ok(Output::id(out.group_id().ok_or_else(|| AwsError::malformed("CreateSecurityGroup", "no group ID"))?))
            }
            Step::AuthorizeIngress { group, rules } => {
                let request = c
                    .authorize_security_group_ingress()
                    .group_id(resolve(group, created)?)
                    .set_ip_permissions(Some(permissions(rules)));
                self.call("AuthorizeSecurityGroupIngress", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::RevokeIngress { group_id, rules } => {
                let request =
                    c.revoke_security_group_ingress().group_id(group_id).set_ip_permissions(Some(permissions(rules)));
                ok_if_gone(self.call("RevokeSecurityGroupIngress", true, request.send()).await)
            }
            Step::DeleteSecurityGroup { id } => {
                ok_if_gone(self.call("DeleteSecurityGroup", true, c.delete_security_group().group_id(id).send()).await)
            }
        }
    }
}
