//! RDS DB subnet groups: observe them by name (their names derive from the owner) with their
//! tags, find what uses them (DB instances and clusters), and run the subnet-group steps.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_rds as rds;
use securecart_api::SubnetGroupService;
use securecart_plan::Tags;
use securecart_plan::subnet_group::{Step, SubnetGroup};

use crate::{Aws, AwsError, ErrorKind, Output, ok_if_gone, resolve};

const SERVICE: &str = "rds";

pub struct Rds {
    aws: Aws,
    client: rds::Client,
    region: String,
}

impl Aws {
    pub async fn rds(&self, region: &str) -> Rds {
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_rds, c)).await;
        Rds { aws: self.clone(), client, region: region.into() }
    }
}

fn tags_of(tags: &Tags) -> Vec<rds::types::Tag> {
    tags.iter().map(|(k, v)| rds::types::Tag::builder().key(k).value(v).build()).collect()
}

fn group_of(g: &rds::types::DbSubnetGroup) -> Option<SubnetGroup> {
    Some(SubnetGroup {
        service: Some(SubnetGroupService::Rds),
        name: g.db_subnet_group_name()?.to_string(),
        arn: g.db_subnet_group_arn().unwrap_or_default().to_string(),
        description: g.db_subnet_group_description().unwrap_or_default().to_string(),
        subnet_ids: g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect(),
        ..Default::default()
    })
}

impl Rds {
    crate::sdk::adapter_call!(SERVICE);

    /// The groups called `names` (one that does not exist is none), and with `prefix` every
    /// group whose name starts with it (a search: one paginated listing), each with its tags.
    pub async fn subnet_groups(
        &self,
        names: &BTreeSet<String>,
        prefix: Option<&str>,
    ) -> Result<Vec<SubnetGroup>, AwsError> {
        let mut found: Vec<SubnetGroup> = Vec::new();
        if let Some(prefix) = prefix {
            let mut marker = None;
            loop {
                let request = self.client.describe_db_subnet_groups().set_marker(marker);
                let out = self.call("DescribeDBSubnetGroups", false, request.send()).await?;
                found.extend(out.db_subnet_groups().iter().filter_map(group_of).filter(|g| g.name.starts_with(prefix)));
                marker = out.marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
        }
        let unseen: Vec<&String> = names.iter().filter(|n| !found.iter().any(|g| &g.name == *n)).collect();
        for name in unseen {
            let request = self.client.describe_db_subnet_groups().db_subnet_group_name(name);
            match self.call("DescribeDBSubnetGroups", false, request.send()).await {
                Ok(out) => found.extend(out.db_subnet_groups().iter().filter_map(group_of)),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        for g in &mut found {
            let request = self.client.list_tags_for_resource().resource_name(&g.arn);
            let out = self.call("ListTagsForResource", false, request.send()).await?;
            g.tags = out
                .tag_list()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
                .collect();
        }
        Ok(found)
    }

    /// The DB instances and clusters in the region that use the groups called `names`, by group.
    /// Neither API filters by subnet group, so this lists them all: asked only for groups that
    /// are to go.
    pub async fn users(&self, names: &BTreeSet<String>) -> Result<BTreeMap<String, Vec<String>>, AwsError> {
        let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut marker = None;
        loop {
            let request = self.client.describe_db_instances().set_marker(marker);
            let out = self.call("DescribeDBInstances", false, request.send()).await?;
            for i in out.db_instances() {
                let group = i.db_subnet_group().and_then(|g| g.db_subnet_group_name());
                if let (Some(group), Some(id)) = (group, i.db_instance_identifier())
                    && names.contains(group)
                {
                    users.entry(group.to_string()).or_default().push(format!("DB instance {id}"));
                }
            }
            marker = out.marker().map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        let mut marker = None;
        loop {
            let request = self.client.describe_db_clusters().set_marker(marker);
            let out = self.call("DescribeDBClusters", false, request.send()).await?;
            for c in out.db_clusters() {
                if let (Some(group), Some(id)) = (c.db_subnet_group(), c.db_cluster_identifier())
                    && names.contains(group)
                {
                    users.entry(group.to_string()).or_default().push(format!("DB cluster {id}"));
                }
            }
            marker = out.marker().map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        Ok(users)
    }

    /// Runs one DB subnet group step; a create answers with the group's name and ARN.
    pub(crate) async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let c = &self.client;
        let ids =
            |refs: &[securecart_plan::Ref]| refs.iter().map(|r| resolve(r, created)).collect::<Result<Vec<_>, _>>();
        match step {
            Step::Create { name, description, subnets, tags, .. } => {
                let request = c
                    .create_db_subnet_group()
                    .db_subnet_group_name(name)
                    .db_subnet_group_description(description)
                    .set_subnet_ids(Some(ids(subnets)?))
                    .set_tags(Some(tags_of(tags)));
                let out = self.call("CreateDBSubnetGroup", true, request.send()).await?;
                let arn = out.db_subnet_group().and_then(|g| g.db_subnet_group_arn()).map(str::to_string);
                Ok(Output::id(name.clone()).with("arn", arn))
            }
            Step::Modify { name, description, subnets, .. } => {
                let request = c
                    .modify_db_subnet_group()
                    .db_subnet_group_name(name)
                    .db_subnet_group_description(description)
                    .set_subnet_ids(Some(ids(subnets)?));
                self.call("ModifyDBSubnetGroup", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::SetTags { arn, tags, .. } => {
                let request = c.add_tags_to_resource().resource_name(arn).set_tags(Some(tags_of(tags)));
                self.call("AddTagsToResource", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::Delete { name, .. } => ok_if_gone(
                self.call("DeleteDBSubnetGroup", true, c.delete_db_subnet_group().db_subnet_group_name(name).send())
                    .await,
            ),
        }
    }
}
