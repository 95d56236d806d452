//! Route 53 (a global service, through us-east-1): observe health checks by the IDs the status
//! records (`GetHealthCheck` and their tags), listing the account's health checks only when
//! searching, and then reading tags only of those whose caller reference is the owner's; records
//! from their name (`ListResourceRecordSets`); run the Route 53 steps. A health check's caller
//! reference is the create intent's token, so a retry returns the first check and a lost answer
//! is found again.

use std::collections::HashMap;

use aws_sdk_route53 as r53;
use securecart_plan::Tags;
use securecart_plan::route53::{
    ChangeAction, HealthCheck, HealthCheckConfig, Observed, Record, RecordRouting, Step, ZoneRef, made_by,
};
use securecart_plan::step::fields;

use crate::{Aws, AwsError, ErrorKind, GLOBAL_REGION, Output, ok_if_gone};

const SERVICE: &str = "route53";

/// ListTagsForResources takes at most 10 IDs.
const TAG_BATCH: usize = 10;
/// How long a hosted zone's ID found by its name is reused. A zone deleted meanwhile is noticed
/// at once (a read by its ID fails and the name is looked up again).
const ZONE_ID_TTL: std::time::Duration = std::time::Duration::from_secs(600);

pub struct Route53 {
    aws: Aws,
    client: r53::Client,
    /// The global service's endpoint region.
    region: String,
}

impl Aws {
    /// The Route 53 adapter (global).
    pub async fn route53(&self) -> Route53 {
        let client = self.client(SERVICE, GLOBAL_REGION, |c| crate::sdk::client!(aws_sdk_route53, c)).await;
        Route53 { aws: self.clone(), client, region: GLOBAL_REGION.into() }
    }
}

/// What an observation of one owner's DNS may rely on.
#[derive(Clone, Copy, Debug, Default)]
pub struct DnsScope<'a> {
    pub owner_uid: &'a str,
    /// Health checks the status records.
    pub health_check_ids: &'a [String],
    /// Something may exist unrecorded: list the health checks, for those with the owner's caller
    /// references.
    pub search: bool,
    /// Where the records are: the zone and the record name.
    pub records: Option<(&'a ZoneRef, &'a str)>,
}

fn built<T, E: std::fmt::Display>(operation: &'static str, r: Result<T, E>) -> Result<T, AwsError> {
    r.map_err(|e| AwsError::malformed(operation, &e.to_string()))
}

fn health_check_config(c: &HealthCheckConfig) -> Result<r53::types::HealthCheckConfig, AwsError> {
    built(
        "BuildHealthCheckConfig",
        r53::types::HealthCheckConfig::builder()
            .r#type(r53::types::HealthCheckType::from(c.protocol.as_str()))
            .fully_qualified_domain_name(&c.fqdn)
            .port(i32::from(c.port))
            .set_resource_path(c.path.clone())
            .failure_threshold(c.failure_threshold)
            .request_interval(c.request_interval)
            .build(),
    )
}

fn health_check(h: &r53::types::HealthCheck) -> Option<HealthCheck> {
    let config = h.health_check_config()?;
    Some(HealthCheck {
        id: h.id().into(),
        caller_reference: h.caller_reference().into(),
        config: HealthCheckConfig {
            protocol: config.r#type().as_str().to_string(),
            fqdn: config.fully_qualified_domain_name().unwrap_or_default().into(),
            port: config.port().and_then(|p| u16::try_from(p).ok()).unwrap_or_default(),
            path: config.resource_path().map(str::to_string),
            failure_threshold: config.failure_threshold().unwrap_or(3),
            request_interval: config.request_interval().unwrap_or(30),
        },
        tags: Tags::new(),
    })
}

fn record_set(r: &Record) -> Result<r53::types::ResourceRecordSet, AwsError> {
    let mut b = r53::types::ResourceRecordSet::builder()
        .name(&r.name)
        .r#type(r53::types::RrType::from(r.record_type.as_str()))
        .set_set_identifier(r.set_identifier.clone())
        .set_health_check_id(r.health_check_id.clone());
    if let (Some(dns), Some(zone)) = (&r.alias_dns_name, &r.alias_hosted_zone_id) {
        b = b.alias_target(built(
            "BuildAliasTarget",
            r53::types::AliasTarget::builder()
                .hosted_zone_id(zone)
                .dns_name(dns)
                .evaluate_target_health(r.evaluate_target_health)
                .build(),
        )?);
    }
    b = match &r.routing {
        RecordRouting::Simple => b,
        RecordRouting::Latency { region } => b.region(r53::types::ResourceRecordSetRegion::from(region.as_str())),
        RecordRouting::Geolocation { continent, country } => b.geo_location(
            r53::types::GeoLocation::builder()
                .set_continent_code(continent.clone())
                .set_country_code(country.clone())
                .build(),
        ),
        RecordRouting::Failover { role } => b.failover(r53::types::ResourceRecordSetFailover::from(role.as_str())),
        RecordRouting::Weighted { weight } => b.weight(*weight),
    };
    built("BuildResourceRecordSet", b.build())
}

fn record(r: &r53::types::ResourceRecordSet) -> Record {
    let routing = if let Some(region) = r.region() {
        RecordRouting::Latency { region: region.as_str().to_string() }
    } else if let Some(g) = r.geo_location() {
        RecordRouting::Geolocation {
            continent: g.continent_code().map(str::to_string),
            country: g.country_code().map(str::to_string),
        }
    } else if let Some(f) = r.failover() {
        RecordRouting::Failover { role: f.as_str().to_string() }
    } else if let Some(w) = r.weight() {
        RecordRouting::Weighted { weight: w }
    } else {
        RecordRouting::Simple
    };
    let alias = r.alias_target();
    Record {
        name: r.name().to_ascii_lowercase(),
        record_type: r.r#type().as_str().to_string(),
        set_identifier: r.set_identifier().map(str::to_string),
        routing,
        alias_dns_name: alias.map(|a| a.dns_name().to_ascii_lowercase()),
        alias_hosted_zone_id: alias.map(|a| a.hosted_zone_id().to_string()),
        evaluate_target_health: alias.is_some_and(|a| a.evaluate_target_health()),
        health_check_id: r.health_check_id().map(str::to_string),
    }
}

impl Route53 {
    crate::sdk::adapter_call!(SERVICE);

    /// The health checks with recorded IDs (and, when searching, those with the owner's caller
    /// references), with their tags; the zone and the A and AAAA records at the name.
    pub async fn observe(&self, scope: DnsScope<'_>) -> Result<Observed, AwsError> {
        let mut checks = Vec::new();
        for id in scope.health_check_ids {
            match self.call("GetHealthCheck", false, self.client.get_health_check().health_check_id(id).send()).await {
                Ok(out) => checks.extend(out.health_check().and_then(health_check)),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if scope.search {
            for h in self.list_health_checks().await? {
                if made_by(scope.owner_uid, &h.caller_reference) && !checks.iter().any(|c: &HealthCheck| c.id == h.id) {
                    checks.push(h);
                }
            }
        }
        let ids: Vec<String> = checks.iter().map(|c| c.id.clone()).collect();
        let mut tags = self.tags_of(&ids).await?;
        for c in &mut checks {
            c.tags = tags.remove(&c.id).unwrap_or_default();
        }
        let (hosted_zone_id, records) = match scope.records {
            Some((zone, name)) => self.records(zone, name).await?,
            None => (None, Vec::new()),
        };
        Ok(Observed { health_checks: checks, hosted_zone_id, records })
    }

    async fn list_health_checks(&self) -> Result<Vec<HealthCheck>, AwsError> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let request = self.client.list_health_checks().set_marker(marker);
            let page = self.call("ListHealthChecks", false, request.send()).await?;
            out.extend(page.health_checks().iter().filter_map(health_check));
            marker = page.next_marker().map(str::to_string).filter(|_| page.is_truncated());
            if marker.is_none() {
                return Ok(out);
            }
        }
    }

    /// Tags of health checks, in batches of 10 IDs.
    async fn tags_of(&self, ids: &[String]) -> Result<HashMap<String, Tags>, AwsError> {
        let mut out = HashMap::new();
        for batch in ids.chunks(TAG_BATCH) {
            let request = self
                .client
                .list_tags_for_resources()
                .resource_type(r53::types::TagResourceType::Healthcheck)
                .set_resource_ids(Some(batch.to_vec()));
            for set in self.call("ListTagsForResources", false, request.send()).await?.resource_tag_sets() {
                let Some(id) = set.resource_id() else { continue };
                let tags = set
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
                    .collect();
                out.insert(id.to_string(), tags);
            }
        }
        Ok(out)
    }

    /// The zone's ID (None when it does not exist) and the A and AAAA records named `name`.
    async fn records(&self, zone: &ZoneRef, name: &str) -> Result<(Option<String>, Vec<Record>), AwsError> {
        let (zone_id, by_name) = match zone {
            ZoneRef::Id(id) => (id.clone(), None),
            ZoneRef::Name(zone_name) => match self.zone_id(zone_name, false).await? {
                Some(id) => (id, Some(zone_name)),
                None => return Ok((None, Vec::new())),
            },
        };
        match self.records_in(&zone_id, name).await {
            Ok(records) => Ok((Some(zone_id), records)),
            Err(e) if e.kind == ErrorKind::NotFound => match by_name {
                // Found by name earlier and deleted since (perhaps made again, with a new ID).
                Some(zone_name) => match self.zone_id(zone_name, true).await? {
                    Some(id) => Ok((Some(id.clone()), self.records_in(&id, name).await?)),
                    None => Ok((None, Vec::new())),
                },
                // The zone named by ID does not exist (yet).
                None => Ok((None, Vec::new())),
            },
            Err(e) => Err(e),
        }
    }

    /// The ID of the hosted zone named `zone_name`, looked up once and then remembered for
    /// `ZONE_ID_TTL` (Route 53 allows 5 requests per second per account, shared by every
    /// policy and entry point publishing in the zone); `fresh` looks it up again.
    async fn zone_id(&self, zone_name: &str, fresh: bool) -> Result<Option<String>, AwsError> {
        let key = zone_name.to_ascii_lowercase();
        if !fresh
            && let Some((at, id)) = self.aws.inner.hosted_zones.lock().await.get(&key)
            && at.elapsed() < ZONE_ID_TTL
        {
            return Ok(Some(id.clone()));
        }
        let request = self.client.list_hosted_zones_by_name().dns_name(zone_name).max_items(1);
        let out = self.call("ListHostedZonesByName", false, request.send()).await?;
        let found = out.hosted_zones().iter().find(|z| z.name().eq_ignore_ascii_case(zone_name));
        let mut zones = self.aws.inner.hosted_zones.lock().await;
        match found {
            Some(z) => {
                let id = z.id().trim_start_matches("/hostedzone/").to_string();
                zones.insert(key, (std::time::Instant::now(), id.clone()));
                Ok(Some(id))
            }
            None => {
                zones.remove(&key);
                Ok(None)
            }
        }
    }

    /// Route 53 lists in name order from the start name: a name's records come first and together.
    async fn records_in(&self, zone: &str, name: &str) -> Result<Vec<Record>, AwsError> {
        let mut out = Vec::new();
        let mut start = Some((name.to_string(), None::<String>));
        while let Some((start_name, start_id)) = start.take() {
            let request = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(zone)
                .start_record_name(&start_name)
                .set_start_record_identifier(start_id);
            let page = self.call("ListResourceRecordSets", false, request.send()).await?;
            let mut past = false;
            for r in page.resource_record_sets() {
                let record = record(r);
                if record.name != name {
                    past = true;
                    continue;
                }
                if matches!(record.record_type.as_str(), "A" | "AAAA") {
                    out.push(record);
                }
            }
            if page.is_truncated() && !past {
                start =
                    page.next_record_name().map(|n| (n.to_string(), page.next_record_identifier().map(str::to_string)));
            }
        }
        Ok(out)
    }

    async fn tag(&self, id: &str, tags: &Tags) -> Result<(), AwsError> {
        let t = tags.iter().map(|(k, v)| r53::types::Tag::builder().key(k).value(v).build()).collect();
        let request = self
            .client
            .change_tags_for_resource()
            .resource_type(r53::types::TagResourceType::Healthcheck)
            .resource_id(id)
            .set_add_tags(Some(t));
        self.call("ChangeTagsForResource", true, request.send()).await?;
        Ok(())
    }

    /// Runs one Route 53 step; `token` is the create intent's token, sent as the caller reference.
    pub(crate) async fn run(&self, step: &Step, token: Option<&str>) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::CreateHealthCheck { config, tags, .. } => {
                let Some(token) = token else {
                    return Err(AwsError::malformed(
                        "CreateHealthCheck",
                        "no idempotency token for the caller reference",
                    ));
                };
                // A repeat of this reference with the same settings answers with the first health
                // check; HealthCheckAlreadyExists (other settings, or one deleted since) says it
                // exists: the engine then searches by this reference and adopts what it finds.
                let request =
                    c.create_health_check().caller_reference(token).health_check_config(health_check_config(config)?);
                let out = self.call("CreateHealthCheck", true, request.send()).await?;
                let id = out.health_check().map(|h| h.id().to_string());
                let id = id.ok_or_else(|| AwsError::malformed("CreateHealthCheck", "no ID"))?;
                // Untagged until this call succeeds. If it fails, the check is still reported
                // made: the next pass reads it by ID, adopts it by its caller reference and
                // writes the tags again.
                let tagged = self.tag(&id, tags).await;
                if let Err(e) = &tagged {
                    tracing::warn!(service = SERVICE, health_check = %id, error = %e, "tagging a new health check failed");
                }
                Ok(Output::id(id)
                    .with(fields::CALLER_REFERENCE, Some(token))
                    .with(fields::UNTAGGED, tagged.is_err().then_some("true")))
            }
            Step::SetTags { id, tags, .. } => {
                self.tag(id, tags).await?;
                Ok(Output::none())
            }
            Step::UpdateHealthCheck { id, config } => {
                let request = c
                    .update_health_check()
                    .health_check_id(id)
                    .fully_qualified_domain_name(&config.fqdn)
                    .port(i32::from(config.port))
                    .set_resource_path(config.path.clone())
                    .failure_threshold(config.failure_threshold);
                self.call("UpdateHealthCheck", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteHealthCheck { id } => ok_if_gone(
                self.call("DeleteHealthCheck", true, c.delete_health_check().health_check_id(id).send()).await,
            ),
            Step::ChangeRecords { hosted_zone_id, changes } => {
                let changes = changes
                    .iter()
                    .map(|c| {
                        let action = match c.action {
                            ChangeAction::Upsert => r53::types::ChangeAction::Upsert,
                            ChangeAction::Delete => r53::types::ChangeAction::Delete,
                        };
                        built(
                            "BuildChange",
                            r53::types::Change::builder()
                                .action(action)
                                .resource_record_set(record_set(&c.record)?)
                                .build(),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let batch =
                    built("BuildChangeBatch", r53::types::ChangeBatch::builder().set_changes(Some(changes)).build())?;
                let request = c.change_resource_record_sets().hosted_zone_id(hosted_zone_id).change_batch(batch);
                self.call("ChangeResourceRecordSets", true, request.send()).await?;
                Ok(Output::none())
            }
        }
    }
}

#[cfg(test)]
#[path = "route53_tests.rs"]
mod tests;
