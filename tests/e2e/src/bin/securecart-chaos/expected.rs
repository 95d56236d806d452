//! What each applied object should hold in AWS at Ready, by census kind, from the planner's own
//! desired state (the same functions the controller plans with), so duplicates are "more than
//! the spec asks for" whatever the spec is.

use std::collections::BTreeMap;

use kube::ResourceExt;
use securecart_api::{
    GlobalEntrypoint, LoadBalancerPolicy, PartnerApi, PrivateEndpoint, TransitGateway, VpcPeering, VpcTier,
};
use securecart_plan::Owner;
use securecart_plan::load_balancer_policy;
use securecart_plan::network::Observed;
use securecart_plan::private_endpoint::{self, TierSubnet, VpcTierView};
use securecart_plan::vpc_tier::{self, Zone};
use securecart_plan::wafv2::DesiredAcl;

pub type Counts = BTreeMap<&'static str, usize>;

fn owner<K: kube::Resource<DynamicType = ()>>(o: &K) -> Owner {
    Owner {
        kind: K::kind(&()).into(),
        namespace: o.namespace().unwrap_or_default(),
        name: o.name_any(),
        uid: o.uid().unwrap_or_default(),
    }
}

pub fn vpc_tier(vt: &VpcTier, zones: &[String]) -> Result<Counts, String> {
    let region: Vec<Zone> = zones.iter().map(|z| Zone::new(z, "available")).collect();
    let zones = vpc_tier::resolve_zones(&vt.spec, &region, &[]).map_err(|e| e.0)?;
    // The hub's facts are not needed to count: an attachment to it is one resource.
    let spec = securecart_api::VpcTierSpec { transit_gateway: None, ..vt.spec.clone() };
    let d = vpc_tier::desired(&spec, &owner(vt), zones, &Observed::default()).map_err(|e| e.0)?;
    Ok(Counts::from([
        ("vpc", 1),
        ("subnet", d.subnets.len()),
        ("internet_gateway", usize::from(d.internet_gateway)),
        ("route_table", d.route_tables.len()),
        ("nat_gateway", d.nat_gateways.len()),
        ("elastic_ip", d.nat_gateways.len()),
        ("flow_log", usize::from(d.flow_log.is_some())),
        ("transit_gateway_vpc_attachment", usize::from(vt.spec.transit_gateway.is_some())),
        (
            "db_subnet_group",
            d.subnet_groups.iter().filter(|g| g.service == securecart_api::SubnetGroupService::Rds).count(),
        ),
    ]))
}

/// A hub: itself, its route tables, the peering attachments it requests, and a customer
/// gateway and an attachment with each VPN connection.
pub fn transit_gateway(tgw: &TransitGateway) -> Counts {
    let s = &tgw.spec;
    Counts::from([
        ("transit_gateway", 1),
        ("transit_gateway_route_table", s.route_tables.len()),
        ("transit_gateway_peering", s.peerings.len()),
        ("customer_gateway", s.vpn_connections.len()),
        ("vpn_connection", s.vpn_connections.len()),
        ("transit_gateway_vpn_attachment", s.vpn_connections.len()),
    ])
}

/// A partner API: the REST API, its VPC link, a usage plan each, and a web ACL unless it names one.
pub fn partner_api(api: &PartnerApi) -> Counts {
    let s = &api.spec;
    let own_acl = s.waf.as_ref().is_some_and(|w| w.web_acl_arn.is_none());
    Counts::from([
        ("rest_api", 1),
        ("vpc_link", 1),
        ("usage_plan", s.usage_plans.len()),
        ("web_acl", usize::from(own_acl)),
    ])
}

/// An entry point: its distribution, an origin access control per S3 origin, its web ACL unless
/// it names one, and its Shield protection.
pub fn global_entrypoint(gep: &GlobalEntrypoint) -> Counts {
    let s = &gep.spec;
    let own_acl = s.cloud_front.as_ref().and_then(|c| c.waf.as_ref()).is_some_and(|w| w.web_acl_arn.is_none());
    let shield = s.shield.as_ref().is_some_and(|sh| sh.enabled);
    let health_check = s.dns.as_ref().is_some_and(|d| d.health_check.is_some());
    Counts::from([
        ("distribution", usize::from(s.cloud_front.is_some())),
        (
            "origin_access_control",
            s.cloud_front.as_ref().map_or(0, |c| c.origins.iter().filter(|o| o.s3.is_some()).count()),
        ),
        ("web_acl", usize::from(own_acl)),
        ("shield_protection", usize::from(shield)),
        ("health_check", usize::from(health_check)),
    ])
}

pub fn vpc_peering(_: &VpcPeering) -> Counts {
    Counts::from([("vpc_peering_connection", 1)])
}

fn view(vt: &VpcTier) -> Option<VpcTierView> {
    let status = vt.status.as_ref()?;
    Some(VpcTierView {
        name: vt.name_any(),
        region: vt.spec.region.clone(),
        vpc_id: status.vpc_id.clone()?,
        cidr_block: vt.spec.cidr_block.clone(),
        subnets: status
            .subnets
            .iter()
            .map(|s| TierSubnet {
                tier: s.tier.clone(),
                zone: s.zone.clone(),
                cidr_block: s.cidr_block.clone(),
                subnet_id: s.subnet_id.clone().unwrap_or_default(),
                route_table_id: s.route_table_id.clone().unwrap_or_default(),
            })
            .collect(),
    })
}

fn tier_of<'a>(tiers: &'a [VpcTier], name: &str) -> Result<&'a VpcTier, String> {
    tiers.iter().find(|t| t.name_any() == name).ok_or_else(|| format!("no VpcTier {name}"))
}

pub fn private_endpoint(pe: &PrivateEndpoint, tiers: &[VpcTier]) -> Result<Counts, String> {
    let vt = tier_of(tiers, &pe.spec.vpc_tier_ref.name)?;
    let view = view(vt).ok_or("its VpcTier has no status")?;
    let d = private_endpoint::desired(&pe.spec, &owner(pe), &view).map_err(|e| e.0)?;
    Ok(Counts::from([("vpc_endpoint", 1), ("security_group", usize::from(d.security_group.is_some()))]))
}

pub fn load_balancer_policy(lbp: &LoadBalancerPolicy, tiers: &[VpcTier]) -> Result<Counts, String> {
    let vt = tier_of(tiers, &lbp.spec.vpc_tier_ref.name)?;
    let status = vt.status.as_ref().ok_or("its VpcTier has no status")?;
    let placement = load_balancer_policy::placement(&lbp.spec, &vt.spec, status)
        .map_err(|e| e.0)?
        .ok_or("its VpcTier has no subnets yet")?;
    let d = load_balancer_policy::desired(&lbp.spec, &owner(lbp), placement).map_err(|e| e.0)?;
    Ok(Counts::from([
        ("load_balancer", 1),
        ("security_group", usize::from(d.security_group.is_some())),
        ("target_group", d.elbv2.target_groups.len()),
        ("listener", d.elbv2.listeners.len()),
        ("listener_rule", d.elbv2.listeners.iter().map(|l| l.rules.len()).sum()),
        ("web_acl", usize::from(d.waf.as_ref().is_some_and(|w| matches!(w.acl, DesiredAcl::Owned { .. })))),
        ("shield_protection", usize::from(d.shield)),
        ("health_check", usize::from(d.dns.as_ref().is_some_and(|d| d.health_check.is_some()))),
        ("alarm", d.alarms.as_ref().map_or(0, |a| a.alarms.len())),
    ]))
}
