//! What the schema's CEL rules check, again (for objects admitted before a rule existed), plus
//! what CEL cannot see: references between lists, and the VpcTier's tiers.

use std::collections::BTreeSet;

use ipnet::IpNet;
use securecart_api::{LoadBalancerPolicySpec, LoadBalancerType, Protocol, Scheme, VpcTierSpec, VpcTierStatus};

use super::Placement;
use crate::InvalidSpec;
use crate::elbv2::GENEVE_PORT;

fn protocols_of(lb_type: LoadBalancerType) -> &'static [Protocol] {
    match lb_type {
        LoadBalancerType::Application => &[Protocol::Http, Protocol::Https],
        LoadBalancerType::Network => &[Protocol::Tcp, Protocol::Tls, Protocol::Udp, Protocol::TcpUdp],
        LoadBalancerType::Gateway => &[Protocol::Geneve],
    }
}

fn names(protocols: &[Protocol]) -> String {
    protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}

pub fn validate(spec: &LoadBalancerPolicySpec) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    let fits = protocols_of(spec.lb_type);
    if spec.tier.is_empty() {
        return bad("spec.tier: name the VpcTier tier to place the load balancer in".into());
    }
    super::alarms::validate(spec)?;
    for (i, cidr) in spec.allowed_cidrs.iter().enumerate() {
        if cidr.parse::<IpNet>().is_err() {
            return bad(format!("spec.allowedCidrs[{i}]: {cidr:?} is not a CIDR block"));
        }
    }
    if spec.target_groups.is_empty() {
        return bad("spec.targetGroups: at least one target group is required".into());
    }
    let mut tg_names = BTreeSet::new();
    for (i, tg) in spec.target_groups.iter().enumerate() {
        if !tg_names.insert(tg.name.as_str()) {
            return bad(format!("spec.targetGroups[{i}].name: {:?} is defined twice", tg.name));
        }
        if !fits.contains(&tg.protocol) {
            return bad(format!(
                "spec.targetGroups[{i}].protocol: {} does not fit a {:?} load balancer (use {})",
                tg.protocol.as_str(),
                spec.lb_type,
                names(fits)
            ));
        }
        match (tg.protocol, tg.port) {
            (Protocol::Geneve, Some(p)) if p != GENEVE_PORT => {
                return bad(format!("spec.targetGroups[{i}].port: GENEVE target groups use port {GENEVE_PORT}"));
            }
            (Protocol::Geneve, _) | (_, Some(_)) => {}
            (_, None) => return bad(format!("spec.targetGroups[{i}].port is required")),
        }
        let http = matches!(tg.protocol, Protocol::Http | Protocol::Https);
        if let Some(hc) = &tg.health_check
            && !http
            && (hc.path.is_some() || hc.matcher.is_some())
        {
            return bad(format!("spec.targetGroups[{i}].healthCheck: path and matcher are for HTTP and HTTPS only"));
        }
    }
    if spec.listeners.is_empty() {
        return bad("spec.listeners: at least one listener is required".into());
    }
    if spec.lb_type == LoadBalancerType::Gateway && spec.listeners.len() != 1 {
        return bad("spec.listeners: a Gateway load balancer has exactly one listener".into());
    }
    let mut ports = BTreeSet::new();
    for (i, l) in spec.listeners.iter().enumerate() {
        let at = format!("spec.listeners[{i}]");
        match (spec.lb_type, l.port, l.protocol) {
            (LoadBalancerType::Gateway, None, None) => {}
            (LoadBalancerType::Gateway, _, _) => {
                return bad(format!("{at}: a Gateway load balancer's listener has neither port nor protocol"));
            }
            (_, None, _) => return bad(format!("{at}.port is required")),
            (_, _, None) => return bad(format!("{at}.protocol is required")),
            (_, Some(port), Some(protocol)) => {
                if !fits.contains(&protocol) || protocol == Protocol::Geneve {
                    return bad(format!(
                        "{at}.protocol: {} does not fit a {:?} load balancer (use {})",
                        protocol.as_str(),
                        spec.lb_type,
                        names(fits)
                    ));
                }
                if !ports.insert(port) {
                    return bad(format!("{at}.port: another listener already uses port {port}"));
                }
                if matches!(protocol, Protocol::Https | Protocol::Tls) && l.certificate_arn.is_none() {
                    return bad(format!("{at}.certificateArn is required for {}", protocol.as_str()));
                }
                if l.redirect_to_https && protocol != Protocol::Http {
                    return bad(format!("{at}.redirectToHttps: only an HTTP listener redirects to HTTPS"));
                }
            }
        }
        match (&l.default_target_group, l.redirect_to_https) {
            (Some(tg), false) if !tg_names.contains(tg.as_str()) => {
                return bad(format!("{at}.defaultTargetGroup: no target group named {tg:?}"));
            }
            (Some(_), false) | (None, true) => {}
            _ => return bad(format!("{at}: set exactly one of defaultTargetGroup and redirectToHttps")),
        }
        if !l.rules.is_empty() && spec.lb_type != LoadBalancerType::Application {
            return bad(format!("{at}.rules: only Application load balancers have rules"));
        }
        let mut priorities = BTreeSet::new();
        for (j, r) in l.rules.iter().enumerate() {
            if !priorities.insert(r.priority) {
                return bad(format!("{at}.rules[{j}].priority: {} is used twice", r.priority));
            }
            if !tg_names.contains(r.target_group.as_str()) {
                return bad(format!("{at}.rules[{j}].targetGroup: no target group named {:?}", r.target_group));
            }
            if r.path_patterns.is_empty() && r.host_headers.is_empty() {
                return bad(format!("{at}.rules[{j}]: give pathPatterns or hostHeaders"));
            }
        }
    }
    if let Some(a) = &spec.attributes {
        if a.idle_timeout_seconds.is_some() && spec.lb_type != LoadBalancerType::Application {
            return bad("spec.attributes.idleTimeoutSeconds: only Application load balancers have one".into());
        }
        if a.cross_zone_load_balancing.is_some() && spec.lb_type == LoadBalancerType::Application {
            return bad("spec.attributes.crossZoneLoadBalancing: Application load balancers always balance across zones; leave it unset".into());
        }
    }
    if let Some(waf) = &spec.waf {
        if spec.lb_type != LoadBalancerType::Application {
            return bad("spec.waf: a WAF web ACL attaches to Application load balancers only".into());
        }
        crate::wafv2::validate_block(waf)?;
    }
    if let Some(dns) = &spec.dns {
        crate::dns::validate(dns)?;
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return bad(format!("spec.tags: key {key:?} is reserved"));
    }
    Ok(())
}

/// The VpcTier's region, VPC and the subnets of `spec.tier`; Err(InvalidSpec) when the tier does
/// not exist there, Ok(None) while the VpcTier has not reported its subnets yet.
pub fn placement(
    spec: &LoadBalancerPolicySpec,
    tier_spec: &VpcTierSpec,
    tier_status: &VpcTierStatus,
) -> Result<Option<Placement>, InvalidSpec> {
    let Some(tier) = tier_spec.tiers.iter().find(|t| t.name == spec.tier) else {
        let known: Vec<&str> = tier_spec.tiers.iter().map(|t| t.name.as_str()).collect();
        return Err(InvalidSpec(format!(
            "spec.tier: VpcTier {} has no tier {:?} (it has {})",
            spec.vpc_tier_ref.name,
            spec.tier,
            known.join(", ")
        )));
    };
    if spec.lb_type != LoadBalancerType::Gateway
        && spec.scheme == Scheme::InternetFacing
        && tier.tier_type != securecart_api::TierType::Public
    {
        return Err(InvalidSpec(format!(
            "spec.tier: an internet-facing load balancer needs a Public tier; {:?} is {:?}",
            tier.name, tier.tier_type
        )));
    }
    let subnet_ids: Vec<String> =
        tier_status.subnets.iter().filter(|s| s.tier == spec.tier).filter_map(|s| s.subnet_id.clone()).collect();
    match (&tier_status.vpc_id, subnet_ids.is_empty()) {
        (Some(vpc_id), false) => {
            Ok(Some(Placement { region: tier_spec.region.clone(), vpc_id: vpc_id.clone(), subnet_ids }))
        }
        _ => Ok(None),
    }
}
