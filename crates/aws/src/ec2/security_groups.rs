//! EC2 security groups, for every kind that has one: observed by the IDs the status records,
//! else by VPC (ownership checked here on the tags), with a region-wide tag search only when
//! something may exist unrecorded; and the security group steps.

use std::collections::HashMap;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType};
use securecart_plan::Output;
use securecart_plan::security_group::{Ingress, SecurityGroup, Step};

use super::{Ec2, InVpc, Which, tag_spec, tags_of};
use crate::{AwsError, ok_if_gone, resolve};

/// Every call here is an EC2 call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "ec2";

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
    /// The owner's security groups as far as `scope` lets them be known.
    pub async fn observe_security_groups(&self, scope: InVpc<'_>) -> Result<Vec<SecurityGroup>, AwsError> {
        let groups = scope.read(|which| self.describe_security_groups(which), |g| &g.id, |g| &g.tags).await?;
        tracing::debug!(
            service = SERVICE,
            region = self.region(),
            groups = groups.len(),
            search = scope.search,
            "observed security groups"
        );
        Ok(groups)
    }

    pub(crate) async fn describe_security_groups(&self, which: Which<'_>) -> Result<Vec<SecurityGroup>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let request = match &which {
                Which::Ids(ids) => self.client.describe_security_groups().set_group_ids(Some(ids.to_vec())),
                Which::Filter(f) => self.client.describe_security_groups().filters(f.clone()),
            };
            let page = self.call("DescribeSecurityGroups", false, request.set_next_token(token).send()).await?;
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
