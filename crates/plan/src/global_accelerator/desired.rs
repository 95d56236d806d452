//! From the GlobalEntrypoint's `spec.globalAccelerator` and what its LoadBalancerPolicies hold to
//! the desired accelerator, with AWS's defaults made explicit so that what is read back compares.

use securecart_api::global_entrypoint::{
    AcceleratorIpAddressType, AcceleratorListener, AcceleratorProtocol, ClientAffinity, EndpointHealthProtocol,
    GlobalAcceleratorSpec,
};

use super::planner::overlaps;
use super::{Desired, DesiredEndpoint, DesiredEndpointGroup, DesiredListener, HealthCheck};
use crate::InvalidSpec;
use crate::owner::{Owner, Tags};

/// What the controller resolved for one endpoint group of the spec: its policy's region and load
/// balancer. One per `(listener, group)` of the spec.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointInput {
    /// Index into `spec.globalAccelerator.listeners`.
    pub listener: usize,
    /// Index into that listener's `endpointGroups`.
    pub group: usize,
    /// The policy's region (its VpcTier's).
    pub region: String,
    /// The policy's load balancer ARN; None while it has none.
    pub load_balancer_arn: Option<String>,
    /// Whether that load balancer is active (Global Accelerator takes only active ones).
    pub active: bool,
    /// Whether the policy is an Application Load Balancer (from the policy or
    /// `DescribeLoadBalancers`' `Type`, not the ARN: moto gives every ARN the `app/` form).
    pub application: bool,
}

pub const DEFAULT_DIAL: f32 = 100.0;
pub const DEFAULT_WEIGHT: i32 = 128;
pub const DEFAULT_INTERVAL: i32 = 30;
pub const DEFAULT_THRESHOLD: i32 = 3;

/// `<namespace>-<name>` as Global Accelerator takes it: letters, digits and hyphens, at most 64,
/// no hyphen at either end. Only a label: tags decide ownership, never the name.
pub fn accelerator_name(owner: &Owner) -> String {
    let raw = format!("{}-{}", owner.namespace, owner.name);
    let cleaned: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let trimmed: String = cleaned.trim_matches('-').chars().take(64).collect();
    trimmed.trim_end_matches('-').to_string()
}

fn protocol(p: AcceleratorProtocol) -> &'static str {
    match p {
        AcceleratorProtocol::Tcp => "TCP",
        AcceleratorProtocol::Udp => "UDP",
    }
}

fn validate_ports(
    i: usize,
    l: &AcceleratorListener,
    earlier: &[AcceleratorListener],
) -> Result<Vec<(u16, u16)>, InvalidSpec> {
    let field = format!("spec.globalAccelerator.listeners[{i}].portRanges");
    let mut ranges = Vec::new();
    for (k, r) in l.port_ranges.iter().enumerate() {
        if r.from == 0 || r.from > r.to {
            return Err(InvalidSpec(format!(
                "{field}[{k}]: from {} must be at least 1 and not above to {}",
                r.from, r.to
            )));
        }
        if let Some(j) = ranges.iter().position(|x| overlaps(&[*x], &[(r.from, r.to)])) {
            return Err(InvalidSpec(format!("{field}[{k}]: overlaps {field}[{j}]")));
        }
        ranges.push((r.from, r.to));
    }
    for (j, other) in earlier.iter().enumerate() {
        let theirs: Vec<(u16, u16)> = other.port_ranges.iter().map(|r| (r.from, r.to)).collect();
        if other.protocol == l.protocol && overlaps(&ranges, &theirs) {
            return Err(InvalidSpec(format!(
                "{field}: overlaps the ports of spec.globalAccelerator.listeners[{j}] ({} listeners must not share ports)",
                protocol(l.protocol)
            )));
        }
    }
    ranges.sort_unstable();
    Ok(ranges)
}

/// The spec on its own, before any policy is resolved: ports, dials, weights and health checks.
/// Each group is given a region of its own here, so only `desired_of` judges regions.
pub fn validate(spec: &GlobalAcceleratorSpec) -> Result<(), InvalidSpec> {
    let endpoints: Vec<EndpointInput> = spec
        .listeners
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            (0..l.endpoint_groups.len()).map(move |k| EndpointInput {
                listener: i,
                group: k,
                region: format!("unresolved-{k}"),
                load_balancer_arn: None,
                active: false,
                application: false,
            })
        })
        .collect();
    let owner = Owner { kind: String::new(), namespace: String::new(), name: String::new(), uid: String::new() };
    desired_of(spec, &owner, &endpoints, &Tags::new()).map(|_| ())
}

/// The desired accelerator for `spec`, with `endpoints` resolved by the caller (one per group).
pub fn desired_of(
    spec: &GlobalAcceleratorSpec,
    owner: &Owner,
    endpoints: &[EndpointInput],
    user_tags: &Tags,
) -> Result<Desired, InvalidSpec> {
    let mut listeners = Vec::new();
    for (i, l) in spec.listeners.iter().enumerate() {
        let port_ranges = validate_ports(i, l, &spec.listeners[..i])?;
        let mut groups: Vec<DesiredEndpointGroup> = Vec::new();
        for (k, g) in l.endpoint_groups.iter().enumerate() {
            let field = format!("spec.globalAccelerator.listeners[{i}].endpointGroups[{k}]");
            let input = endpoints.iter().find(|e| e.listener == i && e.group == k).ok_or_else(|| {
                InvalidSpec(format!(
                    "{field}: the region and load balancer of {} are not known",
                    g.load_balancer_policy_ref.name
                ))
            })?;
            if let Some(j) = groups.iter().position(|o| o.region == input.region) {
                return Err(InvalidSpec(format!(
                    "{field}: a second endpoint group in {} for this listener (endpointGroups[{j}] is there); one per region",
                    input.region
                )));
            }
            let dial = g.traffic_dial_percentage.unwrap_or(DEFAULT_DIAL);
            if !(0.0..=100.0).contains(&dial) {
                return Err(InvalidSpec(format!("{field}.trafficDialPercentage: {dial} is not within 0-100")));
            }
            let weight = g.weight.unwrap_or(DEFAULT_WEIGHT);
            if !(0..=255).contains(&weight) {
                return Err(InvalidSpec(format!("{field}.weight: {weight} is not within 0-255")));
            }
            let lb = input.load_balancer_arn.clone().unwrap_or_default();
            let health_check = match &g.health_check {
                None => HealthCheck {
                    protocol: "TCP".into(),
                    path: None,
                    port: Some(port_ranges[0].0),
                    interval_seconds: DEFAULT_INTERVAL,
                    threshold_count: DEFAULT_THRESHOLD,
                },
                Some(h) => {
                    let interval = h.interval_seconds.unwrap_or(DEFAULT_INTERVAL);
                    if interval != 10 && interval != 30 {
                        return Err(InvalidSpec(format!(
                            "{field}.healthCheck.intervalSeconds: {interval} is not 10 or 30"
                        )));
                    }
                    let threshold = h.threshold_count.unwrap_or(DEFAULT_THRESHOLD);
                    if !(1..=10).contains(&threshold) {
                        return Err(InvalidSpec(format!(
                            "{field}.healthCheck.thresholdCount: {threshold} is not within 1-10"
                        )));
                    }
                    let (protocol, path) = match h.protocol {
                        EndpointHealthProtocol::Tcp => ("TCP", None),
                        EndpointHealthProtocol::Http => ("HTTP", Some(h.path.clone().unwrap_or_else(|| "/".into()))),
                        EndpointHealthProtocol::Https => ("HTTPS", Some(h.path.clone().unwrap_or_else(|| "/".into()))),
                    };
                    HealthCheck {
                        protocol: protocol.into(),
                        path,
                        port: Some(h.port.unwrap_or(port_ranges[0].0)),
                        interval_seconds: interval,
                        threshold_count: threshold,
                    }
                }
            };
            groups.push(DesiredEndpointGroup {
                region: input.region.clone(),
                traffic_dial_percentage: dial,
                health_check,
                endpoint: DesiredEndpoint {
                    policy: g.load_balancer_policy_ref.name.clone(),
                    // Application Load Balancers preserve the client's address by default;
                    // Network Load Balancers only where asked (AWS takes it for those with
                    // security groups).
                    client_ip_preservation: g.client_ip_preservation.unwrap_or(input.application),
                    id: lb,
                    weight,
                    active: input.active && input.load_balancer_arn.is_some(),
                },
            });
        }
        listeners.push(DesiredListener {
            protocol: protocol(l.protocol).into(),
            port_ranges,
            client_affinity: match l.client_affinity {
                ClientAffinity::None => "NONE",
                ClientAffinity::SourceIp => "SOURCE_IP",
            }
            .into(),
            endpoint_groups: groups,
        });
    }
    Ok(Desired {
        name: accelerator_name(owner),
        ip_address_type: match spec.ip_address_type {
            AcceleratorIpAddressType::Ipv4 => "IPV4",
            AcceleratorIpAddressType::DualStack => "DUAL_STACK",
        }
        .into(),
        listeners,
        user_tags: user_tags.clone(),
    })
}
