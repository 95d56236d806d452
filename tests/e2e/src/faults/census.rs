//! Everything the operator's kinds can leave in the emulator, counted straight from it: each
//! resource with the owner UID its tags name (or, for listeners, rules and Shield protections,
//! the owner of the load balancer or distribution they belong to; for untagged Route 53 health checks, the owner
//! whose UID starts their caller reference; for origin access controls, which take no tags, the
//! entry point their description names, as [`named_owner`] keys it), transit gateways and
//! peering connections included.
//! `make chaos` compares it with what each object should hold (duplicates) and, after deletion,
//! with what was there before (leaks).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_wafv2::types as waf_types;
use securecart_api::tags::OWNER_UID;

use crate::transit::live;
use crate::{Result, aws_config};

/// One resource in the emulator.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    pub kind: &'static str,
    pub id: String,
    /// The owner UID, when the resource can be attributed to one.
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Census {
    pub items: Vec<Item>,
}

/// A second load balancer with a name already taken: something AWS never holds (see `elb`), so
/// `make chaos` reports it apart from duplicates.
pub const SAME_NAME_LOAD_BALANCER: &str = "load_balancer_same_name";

pub const KINDS: &[&str] = &[
    "vpc",
    "subnet",
    "internet_gateway",
    "route_table",
    "nat_gateway",
    "elastic_ip",
    "flow_log",
    "vpc_endpoint",
    "security_group",
    "load_balancer",
    "target_group",
    "listener",
    "listener_rule",
    "web_acl",
    "shield_protection",
    "health_check",
    "dns_record",
    "transit_gateway",
    "transit_gateway_route_table",
    "transit_gateway_peering",
    "transit_gateway_vpc_attachment",
    "customer_gateway",
    "vpn_connection",
    "vpc_peering_connection",
    "transit_gateway_vpn_attachment",
    "db_subnet_group",
    "rest_api",
    "vpc_link",
    "usage_plan",
    "distribution",
    "origin_access_control",
    "alarm",
    SAME_NAME_LOAD_BALANCER,
];

/// The owner key of what is attributed by an object's name rather than its UID.
pub fn named_owner(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

fn ec2_owner(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    tags.iter().find(|t| t.key() == Some(OWNER_UID)).and_then(|t| t.value()).map(str::to_string)
}

impl Census {
    /// Reads every counted kind in `region` (and the global Route 53 and Shield) of the
    /// emulator's default account, unfiltered.
    pub async fn take(region: &str) -> Result<Self> {
        Self::take_with(&aws_config(region).await, &aws_config("us-east-1").await).await
    }

    /// The same in a test's own account.
    pub async fn take_in(env: &crate::TestEnv, region: &str) -> Result<Self> {
        Self::take_with(&env.aws_config(region).await, &env.aws_config("us-east-1").await).await
    }

    async fn take_with(regional: &aws_config::SdkConfig, global: &aws_config::SdkConfig) -> Result<Self> {
        let mut items = Vec::new();
        ec2(&aws_sdk_ec2::Client::new(regional), &mut items).await?;
        let mut owners = elb(&aws_sdk_elasticloadbalancingv2::Client::new(regional), &mut items).await?;
        owners.extend(cloudfront(&aws_sdk_cloudfront::Client::new(global), &mut items).await?);
        waf(&aws_sdk_wafv2::Client::new(regional), waf_types::Scope::Regional, &mut items).await?;
        waf(&aws_sdk_wafv2::Client::new(global), waf_types::Scope::Cloudfront, &mut items).await?;
        shield(&aws_sdk_shield::Client::new(global), &owners, &mut items).await?;
        route53(&aws_sdk_route53::Client::new(global), &mut items).await?;
        rds(&aws_sdk_rds::Client::new(regional), &mut items).await?;
        apigateway(&aws_sdk_apigateway::Client::new(regional), &mut items).await?;
        cloudwatch(&aws_sdk_cloudwatch::Client::new(regional), &mut items).await?;
        items.sort();
        Ok(Self { items })
    }

    /// What is here and was not in `baseline`.
    pub fn since(&self, baseline: &Census) -> Census {
        let before: BTreeSet<(&str, &str)> = baseline.items.iter().map(|i| (i.kind, i.id.as_str())).collect();
        Census { items: self.items.iter().filter(|i| !before.contains(&(i.kind, i.id.as_str()))).cloned().collect() }
    }

    pub fn by_kind(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for i in &self.items {
            *out.entry(i.kind).or_default() += 1;
        }
        out
    }

    /// Counts by kind of one owner's resources.
    pub fn of_owner(&self, uid: &str) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for i in self.items.iter().filter(|i| i.owner.as_deref() == Some(uid)) {
            *out.entry(i.kind).or_default() += 1;
        }
        out
    }

    /// Resources attributed to none of `owners`.
    pub fn unattributed(&self, owners: &BTreeSet<String>) -> Vec<&Item> {
        self.items.iter().filter(|i| !i.owner.as_ref().is_some_and(|o| owners.contains(o))).collect()
    }
}

async fn ec2(c: &aws_sdk_ec2::Client, items: &mut Vec<Item>) -> Result<()> {
    let mut push = |kind, id: Option<&str>, owner| {
        if let Some(id) = id {
            items.push(Item { kind, id: id.to_string(), owner });
        }
    };
    for v in c.describe_vpcs().send().await?.vpcs() {
        push("vpc", v.vpc_id(), ec2_owner(v.tags()));
    }
    for s in c.describe_subnets().send().await?.subnets() {
        push("subnet", s.subnet_id(), ec2_owner(s.tags()));
    }
    for g in c.describe_internet_gateways().send().await?.internet_gateways() {
        push("internet_gateway", g.internet_gateway_id(), ec2_owner(g.tags()));
    }
    for t in c.describe_route_tables().send().await?.route_tables() {
        // A VPC's main route table comes and goes with the VPC.
        if t.associations().iter().any(|a| a.main() == Some(true)) {
            continue;
        }
        push("route_table", t.route_table_id(), ec2_owner(t.tags()));
    }
    for n in c.describe_nat_gateways().send().await?.nat_gateways() {
        if n.state().is_some_and(|s| s.as_str() != "deleted") {
            push("nat_gateway", n.nat_gateway_id(), ec2_owner(n.tags()));
        }
    }
    for a in c.describe_addresses().send().await?.addresses() {
        push("elastic_ip", a.allocation_id(), ec2_owner(a.tags()));
    }
    for f in c.describe_flow_logs().send().await?.flow_logs() {
        push("flow_log", f.flow_log_id(), ec2_owner(f.tags()));
    }
    for e in c.describe_vpc_endpoints().send().await?.vpc_endpoints() {
        if e.state().is_none_or(|s| !s.as_str().eq_ignore_ascii_case("deleted")) {
            push("vpc_endpoint", e.vpc_endpoint_id(), ec2_owner(e.tags()));
        }
    }
    for g in c.describe_security_groups().send().await?.security_groups() {
        // Every VPC's own default group comes and goes with it.
        if g.group_name() == Some("default") {
            continue;
        }
        push("security_group", g.group_id(), ec2_owner(g.tags()));
    }
    transit(c, items).await
}

/// Hubs and their parts, VPN, and VPC peering connections; gone ones (deleted, rejected,
/// failed) are not counted.
async fn transit(c: &aws_sdk_ec2::Client, items: &mut Vec<Item>) -> Result<()> {
    let vpc_owners: HashMap<String, String> =
        items.iter().filter(|i| i.kind == "vpc").filter_map(|i| Some((i.id.clone(), i.owner.clone()?))).collect();
    let mut push = |kind, id: Option<&str>, tags: &[aws_sdk_ec2::types::Tag], state: Option<&str>| {
        if let (Some(id), Some(state)) = (id, state)
            && live(state)
        {
            items.push(Item { kind, id: id.to_string(), owner: ec2_owner(tags) });
        }
    };
    for g in c.describe_transit_gateways().send().await?.transit_gateways() {
        push("transit_gateway", g.transit_gateway_id(), g.tags(), g.state().map(|s| s.as_str()));
    }
    for t in c.describe_transit_gateway_route_tables().send().await?.transit_gateway_route_tables() {
        // A default route table, were one made, comes and goes with its hub.
        if t.default_association_route_table() == Some(true) {
            continue;
        }
        let state = t.state().map(|s| s.as_str());
        push("transit_gateway_route_table", t.transit_gateway_route_table_id(), t.tags(), state);
    }
    // One Describe for every attachment type (the emulator answers the per-type Describes with
    // attachments of all types). A VPC's or a VPN's attachment belongs to the owner of that VPC
    // or VPN connection when its tags do not say (AWS makes the VPN's; the emulator drops the
    // tags a VPC attachment is created with).
    let vpns = c.describe_vpn_connections().send().await?;
    let vpn_owners: HashMap<&str, String> =
        vpns.vpn_connections().iter().filter_map(|v| Some((v.vpn_connection_id()?, ec2_owner(v.tags())?))).collect();
    let mut attachments = Vec::new();
    for a in c.describe_transit_gateway_attachments().send().await?.transit_gateway_attachments() {
        let (Some(id), Some(state)) = (a.transit_gateway_attachment_id(), a.state()) else { continue };
        let resource = a.resource_id().unwrap_or_default();
        let (kind, by_resource) = match a.resource_type().map(|t| t.as_str()) {
            Some("vpc") => ("transit_gateway_vpc_attachment", vpc_owners.get(resource).cloned()),
            Some("vpn") => ("transit_gateway_vpn_attachment", vpn_owners.get(resource).cloned()),
            Some("peering") => ("transit_gateway_peering", None),
            _ => continue,
        };
        if live(state.as_str()) {
            let owner = ec2_owner(a.tags()).or(by_resource);
            attachments.push(Item { kind, id: id.into(), owner });
        }
    }
    for g in c.describe_customer_gateways().send().await?.customer_gateways() {
        push("customer_gateway", g.customer_gateway_id(), g.tags(), g.state());
    }
    for v in vpns.vpn_connections() {
        push("vpn_connection", v.vpn_connection_id(), v.tags(), v.state().map(|s| s.as_str()));
    }
    for p in c.describe_vpc_peering_connections().send().await?.vpc_peering_connections() {
        let state = p.status().and_then(|s| s.code()).map(|s| s.as_str());
        push("vpc_peering_connection", p.vpc_peering_connection_id(), p.tags(), state);
    }
    items.extend(attachments);
    Ok(())
}

/// Load balancers, target groups, listeners and rules; returns each load balancer's owner by ARN.
async fn elb(
    c: &aws_sdk_elasticloadbalancingv2::Client,
    items: &mut Vec<Item>,
) -> Result<HashMap<String, Option<String>>> {
    let lbs = c.describe_load_balancers().send().await?.load_balancers().to_vec();
    let tgs = c.describe_target_groups().send().await?.target_groups().to_vec();
    let arns: Vec<String> = lbs
        .iter()
        .filter_map(|l| l.load_balancer_arn())
        .chain(tgs.iter().filter_map(|t| t.target_group_arn()))
        .map(str::to_string)
        .collect();
    let mut owner_of: HashMap<String, Option<String>> = HashMap::new();
    for batch in arns.chunks(20) {
        for d in c.describe_tags().set_resource_arns(Some(batch.to_vec())).send().await?.tag_descriptions() {
            let owner =
                d.tags().iter().find(|t| t.key() == Some(OWNER_UID)).and_then(|t| t.value()).map(str::to_string);
            owner_of.insert(d.resource_arn().unwrap_or_default().to_string(), owner);
        }
    }
    let owner = |arn: &str| owner_of.get(arn).cloned().flatten();
    let mut lb_owners = HashMap::new();
    let mut names = BTreeSet::new();
    for lb in &lbs {
        let arn = lb.load_balancer_arn().unwrap_or_default();
        lb_owners.insert(arn.to_string(), owner(arn));
        // AWS answers a CreateLoadBalancer repeated with the same name and settings with the
        // load balancer it made; the emulator makes another one of that name.
        let first = names.insert(lb.load_balancer_name().unwrap_or_default().to_string());
        let kind = if first { "load_balancer" } else { SAME_NAME_LOAD_BALANCER };
        items.push(Item { kind, id: arn.into(), owner: owner(arn) });
        for l in c.describe_listeners().load_balancer_arn(arn).send().await?.listeners() {
            let listener = l.listener_arn().unwrap_or_default();
            items.push(Item { kind: "listener", id: listener.into(), owner: owner(arn) });
            for r in c.describe_rules().listener_arn(listener).send().await?.rules() {
                if r.is_default() != Some(true) {
                    let id = r.rule_arn().unwrap_or_default().into();
                    items.push(Item { kind: "listener_rule", id, owner: owner(arn) });
                }
            }
        }
    }
    for tg in &tgs {
        let arn = tg.target_group_arn().unwrap_or_default();
        items.push(Item { kind: "target_group", id: arn.into(), owner: owner(arn) });
    }
    Ok(lb_owners)
}

/// Web ACLs of one scope (REGIONAL in the region, CLOUDFRONT through us-east-1).
async fn waf(c: &aws_sdk_wafv2::Client, scope: waf_types::Scope, items: &mut Vec<Item>) -> Result<()> {
    for a in c.list_web_acls().scope(scope).send().await?.web_acls() {
        let arn = a.arn().unwrap_or_default();
        let tags = c.list_tags_for_resource().resource_arn(arn).send().await?;
        let owner = tags
            .tag_info_for_resource()
            .and_then(|t| t.tag_list().iter().find(|t| t.key() == OWNER_UID))
            .map(|t| t.value().to_string());
        items.push(Item { kind: "web_acl", id: arn.into(), owner });
    }
    Ok(())
}

/// CloudFront distributions, by their tags; returns each one's owner by ARN (what Shield
/// protections are attributed by). Origin access controls take no tags and are not counted.
async fn cloudfront(c: &aws_sdk_cloudfront::Client, items: &mut Vec<Item>) -> Result<HashMap<String, Option<String>>> {
    let mut owners = HashMap::new();
    let list = c.list_distributions().send().await?;
    for d in list.distribution_list().map(|l| l.items()).unwrap_or_default() {
        let tags = c.list_tags_for_resource().resource(d.arn()).send().await?;
        let owner = tags.tags().map(|t| t.items()).unwrap_or_default().iter().find(|t| t.key() == OWNER_UID);
        let owner = owner.and_then(|t| t.value()).map(str::to_string);
        owners.insert(d.arn().to_string(), owner.clone());
        items.push(Item { kind: "distribution", id: d.id().into(), owner });
    }
    let controls = c.list_origin_access_controls().send().await?;
    for o in controls.origin_access_control_list().map(|l| l.items()).unwrap_or_default() {
        let owner = securecart_plan::cloudfront::owner_of_description(o.description())
            .map(|(namespace, name)| named_owner("GlobalEntrypoint", namespace, name));
        items.push(Item { kind: "origin_access_control", id: o.id().into(), owner });
    }
    Ok(owners)
}

/// Metric alarms, by their tags.
async fn cloudwatch(c: &aws_sdk_cloudwatch::Client, items: &mut Vec<Item>) -> Result<()> {
    let mut next = None;
    loop {
        let page = c.describe_alarms().set_next_token(next).send().await?;
        for a in page.metric_alarms() {
            let arn = a.alarm_arn().unwrap_or_default();
            let tags = c.list_tags_for_resource().resource_arn(arn).send().await?;
            let owner = tags.tags().iter().find(|t| t.key() == Some(OWNER_UID)).and_then(|t| t.value());
            items.push(Item { kind: "alarm", id: arn.into(), owner: owner.map(str::to_string) });
        }
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            return Ok(());
        }
    }
}

async fn rds(c: &aws_sdk_rds::Client, items: &mut Vec<Item>) -> Result<()> {
    for g in c.describe_db_subnet_groups().send().await?.db_subnet_groups() {
        let arn = g.db_subnet_group_arn().unwrap_or_default();
        let tags = c.list_tags_for_resource().resource_name(arn).send().await?;
        let owner = tags.tag_list().iter().find(|t| t.key() == Some(OWNER_UID)).and_then(|t| t.value());
        items.push(Item { kind: "db_subnet_group", id: arn.into(), owner: owner.map(str::to_string) });
    }
    Ok(())
}

/// REST APIs, VPC links and usage plans (API Gateway lists each with its tags).
async fn apigateway(c: &aws_sdk_apigateway::Client, items: &mut Vec<Item>) -> Result<()> {
    let owner = |tags: Option<&HashMap<String, String>>| tags.and_then(|t| t.get(OWNER_UID)).cloned();
    for a in c.get_rest_apis().limit(500).send().await?.items() {
        items.push(Item { kind: "rest_api", id: a.id().unwrap_or_default().into(), owner: owner(a.tags()) });
    }
    for l in c.get_vpc_links().limit(500).send().await?.items() {
        items.push(Item { kind: "vpc_link", id: l.id().unwrap_or_default().into(), owner: owner(l.tags()) });
    }
    for p in c.get_usage_plans().limit(500).send().await?.items() {
        items.push(Item { kind: "usage_plan", id: p.id().unwrap_or_default().into(), owner: owner(p.tags()) });
    }
    Ok(())
}

async fn shield(
    c: &aws_sdk_shield::Client,
    lb_owners: &HashMap<String, Option<String>>,
    items: &mut Vec<Item>,
) -> Result<()> {
    for p in c.list_protections().send().await?.protections() {
        let owner = p.resource_arn().and_then(|a| lb_owners.get(a).cloned().flatten());
        items.push(Item { kind: "shield_protection", id: p.id().unwrap_or_default().into(), owner });
    }
    Ok(())
}

async fn route53(c: &aws_sdk_route53::Client, items: &mut Vec<Item>) -> Result<()> {
    let checks = c.list_health_checks().max_items(1000).send().await?.health_checks().to_vec();
    for h in &checks {
        let tags = c
            .list_tags_for_resource()
            .resource_type(aws_sdk_route53::types::TagResourceType::Healthcheck)
            .resource_id(h.id())
            .send()
            .await?;
        let tagged = tags
            .resource_tag_set()
            .and_then(|t| t.tags().iter().find(|t| t.key() == Some(OWNER_UID)))
            .and_then(|t| t.value())
            .map(str::to_string);
        // The controller's caller references are "<owner UID>-<hash>[-<nanos>]"; a UID is 36 characters.
        let by_reference = h.caller_reference().get(..36).filter(|u| u.matches('-').count() == 4).map(str::to_string);
        items.push(Item { kind: "health_check", id: h.id().into(), owner: tagged.or(by_reference) });
    }
    for z in c.list_hosted_zones().send().await?.hosted_zones() {
        let records = c.list_resource_record_sets().hosted_zone_id(z.id()).send().await?;
        for r in records.resource_record_sets() {
            if matches!(r.r#type().as_str(), "NS" | "SOA") {
                continue;
            }
            let id = format!("{} {} {} {}", z.name(), r.name(), r.r#type().as_str(), r.set_identifier().unwrap_or(""));
            items.push(Item { kind: "dns_record", id, owner: None });
        }
    }
    Ok(())
}
