//! EC2, shared by every kind: the client wrapper and what all EC2 adapters use (tags, filters,
//! batch-call failures, zones), then one module per area (networking, VPC endpoints, security
//! groups).

mod endpoints;
mod network;
mod security_groups;

use std::future::Future;
use std::time::Instant;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use securecart_api::tags::OWNER_UID;
use securecart_plan::Tags;
use securecart_plan::vpc_tier::Zone;

use crate::{Aws, AwsError, Output};

pub use network::NetworkScope;

const SERVICE: &str = "ec2";

pub struct Ec2 {
    pub(crate) client: Client,
    aws: Aws,
    region: String,
}

pub(crate) fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

pub(crate) fn tag_spec(resource: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
        .build()
}

/// The first failed item of a batch call as an error; with `gone_ok`, "not found" counts as done.
pub(crate) fn first_failure(
    operation: &'static str,
    items: &[aws_sdk_ec2::types::UnsuccessfulItem],
    gone_ok: bool,
) -> Result<(), AwsError> {
    let Some(item) = items.first() else { return Ok(()) };
    let code = item.error().and_then(|e| e.code()).unwrap_or("Unknown");
    if gone_ok && code.contains("NotFound") {
        return Ok(());
    }
    let message = item.error().and_then(|e| e.message()).unwrap_or_default();
    Err(AwsError { kind: crate::error::classify(code), operation, code: code.into(), message: message.into() })
}

pub(crate) fn owner_filter(uid: &str) -> Filter {
    Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid).build()
}

pub(crate) fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Where one owner's resources of one type may be (its security groups, its VPC endpoints).
#[derive(Clone, Copy, Debug)]
pub struct InVpc<'a> {
    pub owner_uid: &'a str,
    /// The VPC the wanted resource is in, when one is wanted and the VPC is known.
    pub vpc_id: Option<&'a str>,
    /// What the status records.
    pub ids: &'a [String],
    /// Something may exist unrecorded: search the region by ownership tag too.
    pub search: bool,
}

/// Which resources a Describe asks for.
pub(crate) enum Which<'a> {
    Ids(&'a [String]),
    Filter(Filter),
}

impl<'a> InVpc<'a> {
    /// At the least cost: by ID when recorded (by VPC when a recorded one is gone: the read
    /// fails whole), by VPC when nothing is, by ownership tag too when searching. Only what the
    /// owner's tags mark is kept, whatever filters an API ignores.
    pub(crate) async fn read<T, Fut>(
        self,
        describe: impl Fn(Which<'a>) -> Fut,
        id: impl Fn(&T) -> &str,
        tags: impl Fn(&T) -> &Tags,
    ) -> Result<Vec<T>, AwsError>
    where
        Fut: Future<Output = Result<Vec<T>, AwsError>>,
    {
        let by_id = match self.ids {
            [] => None,
            ids => match describe(Which::Ids(ids)).await {
                Err(e) if e.kind == crate::ErrorKind::NotFound => None,
                other => Some(other?),
            },
        };
        let mut found = match (by_id, self.vpc_id) {
            (Some(found), _) => found,
            (None, Some(vpc)) => describe(Which::Filter(filter("vpc-id", vpc))).await?,
            (None, None) => Vec::new(),
        };
        if self.search {
            for item in describe(Which::Filter(owner_filter(self.owner_uid))).await? {
                if !found.iter().any(|have| id(have) == id(&item)) {
                    found.push(item);
                }
            }
        }
        found.retain(|item| tags(item).get(OWNER_UID).is_some_and(|u| u == self.owner_uid));
        Ok(found)
    }
}

impl Ec2 {
    pub(crate) fn new(client: Client, aws: Aws, region: String) -> Self {
        Self { client, aws, region }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    crate::sdk::adapter_call!(SERVICE);

    /// The region's Availability Zones with their states (available, impaired, ...), sorted by
    /// name; cached for a few minutes.
    pub async fn availability_zones(&self) -> Result<Vec<Zone>, AwsError> {
        if let Some((at, z)) = self.aws.inner.zones.lock().await.get(&self.region)
            && at.elapsed() < crate::ZONES_TTL
        {
            return Ok(z.clone());
        }
        let out = self
            .call(
                "DescribeAvailabilityZones",
                false,
                self.client.describe_availability_zones().all_availability_zones(false).send(),
            )
            .await?;
        let mut zones: Vec<Zone> = out
            .availability_zones()
            .iter()
            .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
            .filter_map(|z| Some(Zone::new(z.zone_name()?, z.state().map(|s| s.as_str()).unwrap_or("available"))))
            .collect();
        zones.sort_by(|a, b| a.name.cmp(&b.name));
        self.aws.inner.zones.lock().await.insert(self.region.clone(), (Instant::now(), zones.clone()));
        Ok(zones)
    }

    /// Adds or overwrites tags on one resource (drift repair of ownership and user tags).
    pub(crate) async fn set_tags(&self, resource_id: &str, tags: &Tags) -> Result<Output, AwsError> {
        let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        self.call("CreateTags", true, self.client.create_tags().resources(resource_id).set_tags(Some(tags)).send())
            .await?;
        Ok(Output::none())
    }

    /// Network interfaces in a VPC (or one subnet) that the controller does not own: what blocks
    /// a deletion.
    pub async fn foreign_network_interfaces(
        &self,
        vpc_id: &str,
        subnet_id: Option<&str>,
    ) -> Result<Vec<String>, AwsError> {
        let request = self.client.describe_network_interfaces().filters(filter("vpc-id", vpc_id));
        let request = match subnet_id {
            Some(s) => request.filters(filter("subnet-id", s)),
            None => request,
        };
        let out = self.call("DescribeNetworkInterfaces", false, request.send()).await?;
        Ok(out
            .network_interfaces()
            .iter()
            .filter(|n| n.interface_type().is_none_or(|t| t.as_str() != "nat_gateway"))
            .filter(|n| subnet_id.is_none_or(|s| n.subnet_id() == Some(s)))
            .filter_map(|n| {
                let id = n.network_interface_id()?;
                Some(match n.description() {
                    Some(d) if !d.is_empty() => format!("{id} ({d})"),
                    _ => id.to_string(),
                })
            })
            .collect())
    }
}
