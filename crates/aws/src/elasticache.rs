//! ElastiCache cache subnet groups: observe them by name (their names derive from the owner) with
//! their tags, find what uses them (cache clusters), and run the subnet-group steps.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_elasticache as elasticache;
use securecart_api::SubnetGroupService;
use securecart_plan::Tags;
use securecart_plan::subnet_group::{Step, SubnetGroup};

use crate::{Aws, AwsError, ErrorKind, Output, ok_if_gone, resolve};

const SERVICE: &str = "elasticache";

pub struct ElastiCache {
    aws: Aws,
    client: elasticache::Client,
    region: String,
}

impl Aws {
    pub async fn elasticache(&self, region: &str) -> ElastiCache {
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_elasticache, c)).await;
        ElastiCache { aws: self.clone(), client, region: region.into() }
    }
}

fn tags_of(tags: &Tags) -> Vec<elasticache::types::Tag> {
    tags.iter().map(|(k, v)| elasticache::types::Tag::builder().key(k).value(v).build()).collect()
}

fn group_of(g: &elasticache::types::CacheSubnetGroup) -> Option<SubnetGroup> {
    Some(SubnetGroup {
        service: Some(SubnetGroupService::ElastiCache),
        name: g.cache_subnet_group_name()?.to_string(),
        arn: g.arn().unwrap_or_default().to_string(),
        description: g.cache_subnet_group_description().unwrap_or_default().to_string(),
        subnet_ids: g.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect(),
        ..Default::default()
    })
}

impl ElastiCache {
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
                let request = self.client.describe_cache_subnet_groups().set_marker(marker);
                let out = self.call("DescribeCacheSubnetGroups", false, request.send()).await?;
                found.extend(
                    out.cache_subnet_groups().iter().filter_map(group_of).filter(|g| g.name.starts_with(prefix)),
                );
                marker = out.marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
        }
        let unseen: Vec<&String> = names.iter().filter(|n| !found.iter().any(|g| &g.name == *n)).collect();
        for name in unseen {
            let request = self.client.describe_cache_subnet_groups().cache_subnet_group_name(name);
            match self.call("DescribeCacheSubnetGroups", false, request.send()).await {
                Ok(out) => found.extend(out.cache_subnet_groups().iter().filter_map(group_of)),
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

    /// The cache clusters in the region that use the groups called `names`, by group. The API
    /// does not filter by subnet group, so this lists them all: asked only for groups that are
    /// to go.
    pub async fn users(&self, names: &BTreeSet<String>) -> Result<BTreeMap<String, Vec<String>>, AwsError> {
        let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut marker = None;
        loop {
            let request = self.client.describe_cache_clusters().set_marker(marker);
            let out = self.call("DescribeCacheClusters", false, request.send()).await?;
            for c in out.cache_clusters() {
                if let (Some(group), Some(id)) = (c.cache_subnet_group_name(), c.cache_cluster_id())
                    && names.contains(group)
                {
                    users.entry(group.to_string()).or_default().push(format!("cache cluster {id}"));
                }
            }
            marker = out.marker().map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        Ok(users)
    }

    /// Runs one cache subnet group step; a create answers with the group's name and ARN.
    pub(crate) async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let c = &self.client;
        let ids =
            |refs: &[securecart_plan::Ref]| refs.iter().map(|r| resolve(r, created)).collect::<Result<Vec<_>, _>>();
        match step {
            Step::Create { name, description, subnets, tags, .. } => {
                let request = c
                    .create_cache_subnet_group()
                    .cache_subnet_group_name(name)
                    .cache_subnet_group_description(description)
                    .set_subnet_ids(Some(ids(subnets)?))
                    .set_tags(Some(tags_of(tags)));
                let out = self.call("CreateCacheSubnetGroup", true, request.send()).await?;
                let arn = out.cache_subnet_group().and_then(|g| g.arn()).map(str::to_string);
                Ok(Output::id(name.clone()).with("arn", arn))
            }
            Step::Modify { name, description, subnets, .. } => {
                let request = c
                    .modify_cache_subnet_group()
                    .cache_subnet_group_name(name)
                    .cache_subnet_group_description(description)
                    .set_subnet_ids(Some(ids(subnets)?));
                self.call("ModifyCacheSubnetGroup", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::SetTags { arn, tags, .. } => {
                let request = c.add_tags_to_resource().resource_name(arn).set_tags(Some(tags_of(tags)));
                self.call("AddTagsToResource", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::Delete { name, .. } => ok_if_gone(
                self.call(
                    "DeleteCacheSubnetGroup",
                    true,
                    c.delete_cache_subnet_group().cache_subnet_group_name(name).send(),
                )
                .await,
            ),
        }
    }
}
