//! Global Accelerator (its control plane is in us-west-2, whatever the endpoints' regions):
//! observe accelerators by the ARNs the status records (with a search, every accelerator's tags),
//! their listeners and endpoint groups; run the Global Accelerator steps.
//!
//! Creates send an `IdempotencyToken`: the create intent's token for the accelerator; for a
//! listener or an endpoint group, one derived from its own token, its parent's ARN and its key,
//! so a retried request is the same request and AWS answers with what the first one made.

use std::collections::HashMap;

use aws_sdk_globalaccelerator as ga;
use ga::types::{ClientAffinity, EndpointConfiguration, HealthCheckProtocol, IpAddressType, PortRange, Protocol};
use securecart_api::tags::OWNER_UID;
use securecart_plan::Tags;
use securecart_plan::global_accelerator::{
    Accelerator, CONTROL_REGION, Endpoint, EndpointConfig, EndpointGroup, HealthCheck, Listener, Observed, Step,
    listener_key,
};
use securecart_plan::intent::stable_hash;

use crate::{Aws, AwsError, ErrorKind, Output, ok_if_gone, resolve};

const SERVICE: &str = "globalaccelerator";

pub struct GlobalAccelerator {
    aws: Aws,
    client: ga::Client,
    region: String,
}

/// What to read: the accelerators the status records; with `search`, every accelerator's tags.
pub struct AcceleratorScope<'a> {
    pub owner_uid: &'a str,
    pub accelerator_arns: &'a [String],
    pub search: bool,
}

impl Aws {
    /// The Global Accelerator adapter (its control plane is in us-west-2).
    pub async fn global_accelerator(&self) -> GlobalAccelerator {
        let client = self.client(SERVICE, CONTROL_REGION, |c| crate::sdk::client!(aws_sdk_globalaccelerator, c)).await;
        GlobalAccelerator { aws: self.clone(), client, region: CONTROL_REGION.into() }
    }
}

/// The token of a listener or endpoint group create: the same for the same parent and key, so
/// a retry repeats the request; the step's own intent token, when there is one, starts it.
pub fn child_token(token: Option<&str>, parent_arn: &str, key: &str) -> String {
    let base = token.unwrap_or("sc-derived");
    let a = stable_hash(&[base, parent_arn, key]);
    let b = stable_hash(&[key, parent_arn, base]);
    format!("{}-{a:016x}{b:016x}", base.chars().take(40).collect::<String>())
}

fn tags_of(tags: &Tags) -> Vec<ga::types::Tag> {
    tags.iter().filter_map(|(k, v)| ga::types::Tag::builder().key(k).value(v).build().ok()).collect()
}

fn port_ranges_of(ranges: &[(u16, u16)]) -> Vec<PortRange> {
    ranges.iter().map(|(f, t)| PortRange::builder().from_port(i32::from(*f)).to_port(i32::from(*t)).build()).collect()
}

fn endpoints_of(endpoints: &[EndpointConfig]) -> Vec<EndpointConfiguration> {
    endpoints
        .iter()
        .map(|e| {
            EndpointConfiguration::builder()
                .endpoint_id(&e.id)
                .weight(e.weight)
                .client_ip_preservation_enabled(e.client_ip_preservation)
                .build()
        })
        .collect()
}

fn accelerator_of(a: &ga::types::Accelerator, tags: Tags) -> Option<Accelerator> {
    Some(Accelerator {
        arn: a.accelerator_arn()?.to_string(),
        name: a.name().unwrap_or_default().to_string(),
        status: a.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        enabled: a.enabled().unwrap_or(false),
        ip_address_type: a.ip_address_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        dns_name: a.dns_name().map(str::to_string),
        dual_stack_dns_name: a.dual_stack_dns_name().map(str::to_string),
        ip_addresses: a.ip_sets().iter().flat_map(|s| s.ip_addresses().iter().cloned()).collect(),
        tags,
    })
}

fn listener_of(accelerator_arn: &str, l: &ga::types::Listener) -> Option<Listener> {
    let mut port_ranges: Vec<(u16, u16)> = l
        .port_ranges()
        .iter()
        .filter_map(|r| Some((u16::try_from(r.from_port()?).ok()?, u16::try_from(r.to_port()?).ok()?)))
        .collect();
    port_ranges.sort_unstable();
    Some(Listener {
        accelerator_arn: accelerator_arn.to_string(),
        arn: l.listener_arn()?.to_string(),
        protocol: l.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
        port_ranges,
        client_affinity: l.client_affinity().map_or("NONE", |a| a.as_str()).to_string(),
    })
}

fn group_of(listener_arn: &str, g: &ga::types::EndpointGroup) -> Option<EndpointGroup> {
    let protocol = g.health_check_protocol().map_or("TCP", |p| p.as_str()).to_string();
    Some(EndpointGroup {
        listener_arn: listener_arn.to_string(),
        arn: g.endpoint_group_arn()?.to_string(),
        region: g.endpoint_group_region()?.to_string(),
        traffic_dial_percentage: g.traffic_dial_percentage().unwrap_or(100.0),
        health_check: HealthCheck {
            // AWS reports a path for TCP checks too; it means nothing there.
            path: if protocol == "TCP" { None } else { g.health_check_path().map(str::to_string) },
            protocol,
            port: g.health_check_port().and_then(|p| u16::try_from(p).ok()),
            interval_seconds: g.health_check_interval_seconds().unwrap_or(30),
            threshold_count: g.threshold_count().unwrap_or(3),
        },
        endpoints: g
            .endpoint_descriptions()
            .iter()
            .filter_map(|e| {
                Some(Endpoint {
                    id: e.endpoint_id()?.to_string(),
                    weight: e.weight().unwrap_or(128),
                    client_ip_preservation: e.client_ip_preservation_enabled().unwrap_or(false),
                    health_state: e.health_state().map(|h| h.as_str().to_string()),
                })
            })
            .collect(),
    })
}

impl GlobalAccelerator {
    crate::sdk::adapter_call!(SERVICE);

    /// The adapter over a given client (tests: a client replaying recorded responses).
    #[cfg(test)]
    pub(crate) fn with_client(aws: Aws, client: ga::Client) -> Self {
        Self { aws, client, region: CONTROL_REGION.into() }
    }

    pub async fn observe(&self, scope: AcceleratorScope<'_>) -> Result<Observed, AwsError> {
        let mut out = Observed::default();
        for arn in scope.accelerator_arns {
            let described =
                self.call("DescribeAccelerator", false, self.client.describe_accelerator().accelerator_arn(arn).send());
            let a = match described.await {
                Ok(o) => o.accelerator().cloned(),
                Err(e) if e.kind == ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            let Some(a) = a else { continue };
            if let Some(tags) = self.tags(arn).await?
                && let Some(a) = accelerator_of(&a, tags)
                && !out.accelerators.iter().any(|o| o.arn == a.arn)
            {
                out.accelerators.push(a);
            }
        }
        if scope.search {
            self.search(scope.owner_uid, &mut out).await?;
        }
        let arns: Vec<String> = out.accelerators.iter().map(|a| a.arn.clone()).collect();
        for arn in &arns {
            let listeners = self.listeners(arn).await?;
            for l in &listeners {
                out.endpoint_groups.extend(self.endpoint_groups(&l.arn).await?);
            }
            out.listeners.extend(listeners);
        }
        Ok(out)
    }

    /// The accelerator's tags; None when it is gone meanwhile.
    async fn tags(&self, arn: &str) -> Result<Option<Tags>, AwsError> {
        let request = self.client.list_tags_for_resource().resource_arn(arn).send();
        match self.call("ListTagsForResource", false, request).await {
            Ok(o) => Ok(Some(o.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every accelerator of the account tagged with the owner (Global Accelerator has no
    /// filter by tag: its accelerators are few, each account holds at most a handful).
    async fn search(&self, owner_uid: &str, out: &mut Observed) -> Result<(), AwsError> {
        let mut token: Option<String> = None;
        loop {
            let request = self.client.list_accelerators().max_results(100).set_next_token(token.clone()).send();
            let page = self.call("ListAccelerators", false, request).await?;
            for a in page.accelerators() {
                let Some(arn) = a.accelerator_arn() else { continue };
                if out.accelerators.iter().any(|o| o.arn == arn) {
                    continue;
                }
                if let Some(tags) = self.tags(arn).await?
                    && tags.get(OWNER_UID).is_some_and(|u| u == owner_uid)
                {
                    out.accelerators.extend(accelerator_of(a, tags));
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(());
            }
        }
    }

    async fn listeners(&self, accelerator_arn: &str) -> Result<Vec<Listener>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client
                .list_listeners()
                .accelerator_arn(accelerator_arn)
                .max_results(100)
                .set_next_token(token.clone())
                .send();
            let page = match self.call("ListListeners", false, request).await {
                Ok(p) => p,
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(out),
                Err(e) => return Err(e),
            };
            out.extend(page.listeners().iter().filter_map(|l| listener_of(accelerator_arn, l)));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn endpoint_groups(&self, listener_arn: &str) -> Result<Vec<EndpointGroup>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client
                .list_endpoint_groups()
                .listener_arn(listener_arn)
                .max_results(100)
                .set_next_token(token.clone())
                .send();
            let page = match self.call("ListEndpointGroups", false, request).await {
                Ok(p) => p,
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(out),
                Err(e) => return Err(e),
            };
            out.extend(page.endpoint_groups().iter().filter_map(|g| group_of(listener_arn, g)));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Runs one step; a create answers with the new ARN (an accelerator also with its DNS name
    /// and status).
    pub(crate) async fn run(
        &self,
        step: &Step,
        created: &HashMap<String, String>,
        token: Option<&str>,
    ) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::CreateAccelerator { name, ip_address_type, tags, .. } => {
                // The engine always sends the intent's token; without one, one derived from the
                // owner, so that even then a retry is the same request.
                let owner = tags.get(OWNER_UID).map_or("", String::as_str);
                let token = token.map_or_else(|| child_token(None, owner, name), str::to_string);
                let request = c
                    .create_accelerator()
                    .name(name)
                    .ip_address_type(IpAddressType::from(ip_address_type.as_str()))
                    .enabled(true)
                    .idempotency_token(token)
                    .set_tags(Some(tags_of(tags)));
                let out = self.call("CreateAccelerator", true, request.send()).await?;
                let a = out.accelerator().ok_or_else(|| AwsError::malformed("CreateAccelerator", "no accelerator"))?;
                let arn = a.accelerator_arn().ok_or_else(|| AwsError::malformed("CreateAccelerator", "no ARN"))?;
                Ok(Output::id(arn).with("dns_name", a.dns_name()).with("status", a.status().map(|s| s.as_str())))
            }
            Step::UpdateAccelerator { arn, name, ip_address_type, enabled } => {
                let request = c
                    .update_accelerator()
                    .accelerator_arn(arn)
                    .name(name)
                    .ip_address_type(IpAddressType::from(ip_address_type.as_str()))
                    .enabled(*enabled);
                let out = self.call("UpdateAccelerator", true, request.send()).await?;
                let status = out.accelerator().and_then(|a| a.status()).map(|s| s.as_str());
                Ok(Output::none().with("status", status))
            }
            Step::TagAccelerator { arn, tags } => {
                let request = c.tag_resource().resource_arn(arn).set_tags(Some(tags_of(tags)));
                self.call("TagResource", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteAccelerator { arn } => ok_if_gone(
                self.call("DeleteAccelerator", true, c.delete_accelerator().accelerator_arn(arn).send()).await,
            ),
            Step::CreateListener { accelerator, protocol, port_ranges, client_affinity, .. } => {
                let accelerator = resolve(accelerator, created)?;
                let request = c
                    .create_listener()
                    .accelerator_arn(&accelerator)
                    .protocol(Protocol::from(protocol.as_str()))
                    .set_port_ranges(Some(port_ranges_of(port_ranges)))
                    .client_affinity(ClientAffinity::from(client_affinity.as_str()))
                    .idempotency_token(child_token(token, &accelerator, &listener_key(protocol, port_ranges)));
                let out = self.call("CreateListener", true, request.send()).await?;
                let arn = out
                    .listener()
                    .and_then(|l| l.listener_arn())
                    .ok_or_else(|| AwsError::malformed("CreateListener", "no listener ARN"))?;
                Ok(Output::id(arn))
            }
            Step::UpdateListener { arn, protocol, port_ranges, client_affinity } => {
                let request = c
                    .update_listener()
                    .listener_arn(arn)
                    .protocol(Protocol::from(protocol.as_str()))
                    .set_port_ranges(Some(port_ranges_of(port_ranges)))
                    .client_affinity(ClientAffinity::from(client_affinity.as_str()));
                self.call("UpdateListener", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteListener { arn, .. } => {
                ok_if_gone(self.call("DeleteListener", true, c.delete_listener().listener_arn(arn).send()).await)
            }
            Step::CreateEndpointGroup {
                listener, region, traffic_dial_percentage, health_check, endpoints, ..
            } => {
                let listener = resolve(listener, created)?;
                let h = health_check;
                let request = c
                    .create_endpoint_group()
                    .listener_arn(&listener)
                    .endpoint_group_region(region)
                    .traffic_dial_percentage(*traffic_dial_percentage)
                    .health_check_protocol(HealthCheckProtocol::from(h.protocol.as_str()))
                    .set_health_check_port(h.port.map(i32::from))
                    .set_health_check_path(if h.protocol == "TCP" { None } else { h.path.clone() })
                    .health_check_interval_seconds(h.interval_seconds)
                    .threshold_count(h.threshold_count)
                    .set_endpoint_configurations(Some(endpoints_of(endpoints)))
                    .idempotency_token(child_token(token, &listener, region));
                let out = self.call("CreateEndpointGroup", true, request.send()).await?;
                let arn = out
                    .endpoint_group()
                    .and_then(|g| g.endpoint_group_arn())
                    .ok_or_else(|| AwsError::malformed("CreateEndpointGroup", "no endpoint group ARN"))?;
                Ok(Output::id(arn))
            }
            Step::UpdateEndpointGroup { arn, traffic_dial_percentage, health_check, endpoints, .. } => {
                let h = health_check;
                let request = c
                    .update_endpoint_group()
                    .endpoint_group_arn(arn)
                    .traffic_dial_percentage(*traffic_dial_percentage)
                    .health_check_protocol(HealthCheckProtocol::from(h.protocol.as_str()))
                    .set_health_check_port(h.port.map(i32::from))
                    .set_health_check_path(if h.protocol == "TCP" { None } else { h.path.clone() })
                    .health_check_interval_seconds(h.interval_seconds)
                    .threshold_count(h.threshold_count)
                    // The whole list: what is not in it leaves the group.
                    .set_endpoint_configurations(Some(endpoints_of(endpoints)));
                self.call("UpdateEndpointGroup", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteEndpointGroup { arn, .. } => ok_if_gone(
                self.call("DeleteEndpointGroup", true, c.delete_endpoint_group().endpoint_group_arn(arn).send()).await,
            ),
        }
    }
}

#[cfg(test)]
mod tests;
