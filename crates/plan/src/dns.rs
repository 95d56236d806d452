//! A spec's `dns` block as the Route 53 planner takes it, for every kind that publishes a name:
//! the zone, the record name, the routing policy and its set identifier, the health check.

use securecart_api::{Dns, FailoverRole, HealthCheckProtocol, RecordStatus, RoutingPolicy};

use crate::InvalidSpec;
use crate::route53::{self, DesiredDns, DesiredHealthCheck, RecordRouting, ZoneRef, fqdn, same_host};

/// The zone and record name a `dns` block publishes in (also what observation reads at teardown).
pub fn target(dns: &Dns) -> Option<(ZoneRef, String)> {
    let zone = match (&dns.hosted_zone_id, &dns.hosted_zone_name) {
        (Some(id), _) => ZoneRef::Id(id.trim_start_matches("/hostedzone/").to_string()),
        (None, Some(name)) => ZoneRef::Name(fqdn(name)),
        (None, None) => return None,
    };
    Some((zone, fqdn(&dns.name)))
}

/// A `dns` block on its own.
pub fn validate(dns: &Dns) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    if dns.hosted_zone_id.is_some() == dns.hosted_zone_name.is_some() {
        return bad("spec.dns: set exactly one of hostedZoneId and hostedZoneName".into());
    }
    if dns.name.trim_end_matches('.').is_empty() {
        return bad("spec.dns.name is required".into());
    }
    routing(dns, "")?;
    if let Some(hc) = &dns.health_check {
        if hc.protocol == HealthCheckProtocol::Tcp && (hc.port.is_none() || hc.path.is_some()) {
            return bad("spec.dns.healthCheck: TCP checks need port and take no path".into());
        }
        if let Some(i) = hc.request_interval_seconds
            && i != 10
            && i != 30
        {
            return bad(format!("spec.dns.healthCheck.requestIntervalSeconds: {i} is not 10 or 30"));
        }
    }
    Ok(())
}

/// The set identifier and routing of a `dns` block; `region` is where a Latency record points.
pub fn routing(dns: &Dns, region: &str) -> Result<(Option<String>, RecordRouting), InvalidSpec> {
    let r = &dns.routing;
    let need = |field: &str| InvalidSpec(format!("spec.dns.routing.{field} is required for {:?} routing", r.policy));
    let set_identifier = match r.policy {
        RoutingPolicy::Simple => {
            if r.set_identifier.is_some() {
                return Err(InvalidSpec("spec.dns.routing.setIdentifier: Simple routing takes none".into()));
            }
            None
        }
        _ => Some(r.set_identifier.clone().ok_or_else(|| need("setIdentifier"))?),
    };
    let routing = match r.policy {
        RoutingPolicy::Simple => RecordRouting::Simple,
        RoutingPolicy::Latency => RecordRouting::Latency { region: region.into() },
        RoutingPolicy::Geolocation => {
            if r.continent.is_some() == r.country.is_some() {
                return Err(InvalidSpec(
                    "spec.dns.routing: Geolocation needs exactly one of continent and country".into(),
                ));
            }
            RecordRouting::Geolocation { continent: r.continent.clone(), country: r.country.clone() }
        }
        RoutingPolicy::Failover => {
            let role = match r.role.ok_or_else(|| need("role"))? {
                FailoverRole::Primary => "PRIMARY",
                FailoverRole::Secondary => "SECONDARY",
            };
            RecordRouting::Failover { role: role.into() }
        }
        RoutingPolicy::Weighted => RecordRouting::Weighted { weight: r.weight.ok_or_else(|| need("weight"))? },
    };
    Ok((set_identifier, routing))
}

/// The records a `dns` block asks for: A, and AAAA when the target answers over IPv6.
pub fn desired(dns: &Dns, region: &str, ipv6: bool) -> Result<DesiredDns, InvalidSpec> {
    let (set_identifier, routing) = routing(dns, region)?;
    let (zone, name) = target(dns).ok_or_else(|| InvalidSpec("spec.dns: set hostedZoneId or hostedZoneName".into()))?;
    let health_check = dns.health_check.as_ref().map(|hc| {
        let (protocol, default_port) = match hc.protocol {
            HealthCheckProtocol::Http => ("HTTP", 80),
            HealthCheckProtocol::Https => ("HTTPS", 443),
            HealthCheckProtocol::Tcp => ("TCP", 0),
        };
        DesiredHealthCheck {
            protocol: protocol.into(),
            port: hc.port.unwrap_or(default_port),
            path: if protocol == "TCP" { None } else { Some(hc.path.clone().unwrap_or_else(|| "/".into())) },
            failure_threshold: hc.failure_threshold.unwrap_or(3),
            request_interval: hc.request_interval_seconds.unwrap_or(30),
        }
    });
    let mut record_types = vec!["A".to_string()];
    if ipv6 {
        record_types.push("AAAA".into());
    }
    Ok(DesiredDns { name, zone, record_types, set_identifier, routing, health_check })
}

/// The records of `dns` that alias `target` (a DNS name), as a status lists them.
pub fn record_statuses(dns: &DesiredDns, observed: &route53::Observed, target: &str) -> Vec<RecordStatus> {
    observed
        .records
        .iter()
        .filter(|r| {
            r.name == dns.name
                && r.set_identifier == dns.set_identifier
                && r.alias_dns_name.as_deref().is_some_and(|a| same_host(a, target))
        })
        .map(|r| RecordStatus {
            name: r.name.clone(),
            record_type: r.record_type.clone(),
            set_identifier: r.set_identifier.clone(),
        })
        .collect()
}
