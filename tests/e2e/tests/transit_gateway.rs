//! TransitGateway (and VpcTiers attached to it) against a real kube-apiserver and the AWS
//! emulator. Hub state, attachments, links and routes are read through the EC2 API.

use std::time::Duration;

use securecart_api::tags::COMPONENT;
use securecart_api::{TransitGateway, VpcTier};
use securecart_e2e::transit::{
    self, associations, hub_owned, propagations, static_routes, vpc_attachments, vpc_routes,
};
use securecart_e2e::{Result, TestEnv, condition, tag, wait_for};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(120);

fn hub(region: &str) -> Value {
    json!({"region": region, "amazonSideAsn": 64600, "routeTables": [{"name": "prod"}, {"name": "shared"}]})
}

/// A VpcTier with an app and a database tier, attached to TransitGateway `hub` in its app tier.
fn attached(region: &str, cidr: &str, route_table: &str, propagate_to: &[&str]) -> Value {
    json!({
        "region": region, "cidrBlock": cidr, "availabilityZones": 2, "natGateways": "None",
        "tiers": [
            {"name": "app", "type": "Private", "prefixLength": 24},
            {"name": "database", "type": "Isolated", "prefixLength": 24},
        ],
        "transitGateway": {
            "ref": {"name": "hub"}, "tier": "app", "routeTable": route_table, "propagateTo": propagate_to,
            "routes": [{"destination": "10.0.0.0/8", "tiers": ["app", "database"]}],
        },
    })
}

fn uid<K: kube::Resource>(o: &K) -> String {
    o.meta().uid.clone().unwrap_or_default()
}

/// The VpcTier's VPC ID and its route table IDs by component, from the emulator.
async fn vpc_of(env: &TestEnv, uid: &str) -> Result<(String, Vec<(String, String)>)> {
    let owned = env.owned(uid).await?;
    let vpc = owned.vpcs.first().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
    let tables = owned
        .route_tables
        .iter()
        .filter_map(|t| Some((tag(t.tags(), COMPONENT)?, t.route_table_id()?.to_string())))
        .collect();
    Ok((vpc, tables))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_vpc_tiers_attach_to_one_hub_with_their_own_route_tables_propagations_and_routes() -> Result<()> {
    let region = "ap-southeast-3";
    let env = TestEnv::start("tgw-hub", region).await?;
    let ec2 = env.ec2_in(region).await;
    // The VpcTiers first: they wait for the hub.
    let shop: VpcTier = env.apply("shop", attached(region, "10.61.0.0/16", "prod", &["prod", "shared"])).await?;
    let tools: VpcTier = env.apply("tools", attached(region, "10.62.0.0/16", "shared", &["prod"])).await?;
    env.wait_condition::<VpcTier>("shop", "Ready", CONVERGE, |c| c.reason == "WaitingForDependency").await?;
    let tgw: TransitGateway = env.apply("hub", hub(region)).await?;
    env.wait_ready_as::<TransitGateway>("hub", CONVERGE).await?;
    env.wait_ready("shop", CONVERGE).await?;
    env.wait_ready("tools", CONVERGE).await?;

    let owned = hub_owned(&ec2, &uid(&tgw)).await?;
    assert_eq!(owned.transit_gateways.len(), 1);
    let g = &owned.transit_gateways[0];
    let options = g.options().expect("options");
    assert_eq!(options.amazon_side_asn(), Some(64600));
    assert_eq!(options.default_route_table_association().map(|v| v.as_str()), Some("disable"));
    assert_eq!(options.default_route_table_propagation().map(|v| v.as_str()), Some("disable"));
    assert_eq!(owned.route_tables.len(), 2);
    let prod = owned.route_table("tgw-rtb/prod").expect("prod");
    let shared = owned.route_table("tgw-rtb/shared").expect("shared");

    for (vt, table, propagated) in [(&shop, &prod, vec![&prod, &shared]), (&tools, &shared, vec![&prod])] {
        let (vpc, tables) = vpc_of(&env, &uid(vt)).await?;
        let attachments = vpc_attachments(&ec2, &vpc).await?;
        assert_eq!(attachments.len(), 1, "one attachment per VPC");
        let a = &attachments[0];
        let id = a.transit_gateway_attachment_id().unwrap().to_string();
        assert_eq!(a.transit_gateway_id(), g.transit_gateway_id());
        assert!(transit::has_uid(a.tags(), &uid(vt)), "the attachment is tagged as the VpcTier's");
        assert_eq!(tag(a.tags(), COMPONENT).as_deref(), Some("tgw-attachment"));
        // In the app tier's subnet of each zone.
        let app: Vec<String> = env
            .owned(&uid(vt))
            .await?
            .subnets
            .iter()
            .filter(|s| tag(s.tags(), COMPONENT).is_some_and(|c| c.starts_with("subnet/app/")))
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect();
        let mut in_subnets = a.subnet_ids().to_vec();
        in_subnets.sort();
        let mut want = app.clone();
        want.sort();
        assert_eq!(in_subnets, want);
        assert!(associations(&ec2, table).await?.iter().any(|(att, s)| att == &id && s == "associated"));
        for t in &propagated {
            assert!(
                propagations(&ec2, t).await?.iter().any(|(att, s)| att == &id && s == "enabled"),
                "propagates to {t}"
            );
        }
        let other = if *table == prod { &shared } else { &prod };
        assert!(!associations(&ec2, other).await?.iter().any(|(att, _)| att == &id), "one association");
        // Routes to the hub in the app and the database tiers' route tables, beside the VpcTier's own.
        for (component, rtb) in &tables {
            let routes = vpc_routes(&ec2, rtb).await?;
            assert!(
                routes.iter().any(|(d, t)| d == "10.0.0.0/8" && Some(t.as_str()) == g.transit_gateway_id()),
                "{component} routes 10.0.0.0/8 to the hub: {routes:?}"
            );
        }
    }
    let status = env.api::<TransitGateway>().get("hub").await?.status.unwrap();
    assert_eq!(status.transit_gateway_id.as_deref(), g.transit_gateway_id());
    assert_eq!(status.route_tables.len(), 2);

    // Dropping the routes' database tier removes exactly that route; the VpcTier's own stay.
    let mut fewer = attached(region, "10.61.0.0/16", "prod", &["prod", "shared"]);
    fewer["transitGateway"]["routes"][0]["tiers"] = json!(["app"]);
    env.apply::<VpcTier>("shop", fewer).await?;
    env.wait_ready("shop", CONVERGE).await?;
    let (_, tables) = vpc_of(&env, &uid(&shop)).await?;
    for (component, rtb) in &tables {
        let routes = vpc_routes(&ec2, rtb).await?;
        let to_hub = routes.iter().any(|(d, _)| d == "10.0.0.0/8");
        assert_eq!(to_hub, component.starts_with("rtb/private"), "{component}: {routes:?}");
        assert!(routes.iter().any(|(_, t)| t == "local"), "the local route stays");
    }

    // The hub cannot go while VpcTiers are attached.
    env.api::<TransitGateway>().delete("hub", &Default::default()).await?;
    env.wait_condition::<TransitGateway>("hub", "Ready", CONVERGE, |c| c.reason == "InUse").await?;
    let blocked = env.api::<TransitGateway>().get("hub").await?;
    let message = condition(&blocked, "Ready").unwrap().message;
    assert!(message.contains("VpcTier shop") && message.contains("VpcTier tools"), "{message}");
    assert_eq!(hub_owned(&ec2, &uid(&tgw)).await?.transit_gateways.len(), 1, "nothing torn down meanwhile");
    env.delete_vpc_tier("shop").await?;
    env.delete_vpc_tier("tools").await?;
    env.wait_gone("shop", CONVERGE).await?;
    env.wait_gone("tools", CONVERGE).await?;
    env.wait_gone_as::<TransitGateway>("hub", CONVERGE).await?;
    wait_for("nothing tagged left", CONVERGE, || async {
        let mut left = transit::anything_tagged(&ec2, &uid(&tgw)).await?;
        left.extend(transit::anything_tagged(&ec2, &uid(&shop)).await?);
        left.extend(transit::anything_tagged(&ec2, &uid(&tools)).await?);
        Ok(left.is_empty())
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hubs_in_two_regions_peer_with_static_routes_on_both_sides() -> Result<()> {
    let (east, west) = ("ap-southeast-4", "ap-southeast-5");
    let env = TestEnv::start("tgw-peering", east).await?;
    let (ec2_a, ec2_b) = (env.ec2_in(east).await, env.ec2_in(west).await);
    let b: TransitGateway =
        env.apply("hub-b", json!({"region": west, "amazonSideAsn": 64701, "routeTables": [{"name": "core"}]})).await?;
    let a: TransitGateway = env
        .apply(
            "hub-a",
            json!({
                "region": east, "amazonSideAsn": 64700, "routeTables": [{"name": "prod"}],
                "peerings": [{
                    "name": "west", "peer": {"transitGatewayRef": {"name": "hub-b"}},
                    "routeTable": "prod", "routes": ["10.72.0.0/16"],
                    "peerRouteTable": "core", "peerRoutes": ["10.71.0.0/16"],
                }],
            }),
        )
        .await?;
    env.wait_ready_as::<TransitGateway>("hub-b", CONVERGE).await?;
    env.wait_ready_as::<TransitGateway>("hub-a", CONVERGE).await?;

    let hub_a = hub_owned(&ec2_a, &uid(&a)).await?;
    let hub_b = hub_owned(&ec2_b, &uid(&b)).await?;
    assert_eq!(hub_a.peerings.len(), 1, "one peering attachment");
    let peering = &hub_a.peerings[0];
    let id = peering.transit_gateway_attachment_id().unwrap().to_string();
    assert_eq!(peering.state().map(|s| s.as_str()), Some("available"), "accepted on the peer's side");
    assert_eq!(tag(peering.tags(), COMPONENT).as_deref(), Some("tgw-peering/west"));
    let accepter = peering.accepter_tgw_info().unwrap();
    assert_eq!(accepter.transit_gateway_id(), hub_b.transit_gateways[0].transit_gateway_id());
    assert_eq!(accepter.region(), Some(west));
    // This side: associated with prod, a static route to the peer's networks.
    let prod = hub_a.route_table("tgw-rtb/prod").unwrap();
    assert!(associations(&ec2_a, &prod).await?.contains(&(id.clone(), "associated".into())));
    assert_eq!(static_routes(&ec2_a, &prod).await?, vec!["10.72.0.0/16".to_string()]);
    // The peer's side, in the peer's region: associated with core, a route back.
    let core = hub_b.route_table("tgw-rtb/core").unwrap();
    assert!(associations(&ec2_b, &core).await?.contains(&(id.clone(), "associated".into())));
    assert_eq!(static_routes(&ec2_b, &core).await?, vec!["10.71.0.0/16".to_string()]);
    let status = env.api::<TransitGateway>().get("hub-a").await?.status.unwrap();
    assert_eq!(status.peerings[0].attachment_id, id);
    assert_eq!(status.peerings[0].state, "available");
    assert_eq!(status.peerings[0].peer_route_table_id.as_deref(), Some(core.as_str()));

    // A route added to the spec appears on its side.
    let mut more = env.api::<TransitGateway>().get("hub-a").await?.spec;
    more.peerings[0].routes.push("10.74.0.0/16".into());
    env.apply::<TransitGateway>("hub-a", serde_json::to_value(&more)?).await?;
    env.wait_ready_as::<TransitGateway>("hub-a", CONVERGE).await?;
    let mut routes = static_routes(&ec2_a, &prod).await?;
    routes.sort();
    assert_eq!(routes, vec!["10.72.0.0/16".to_string(), "10.74.0.0/16".to_string()]);

    // The peer cannot go first; deleting both leaves nothing tagged in either region.
    env.api::<TransitGateway>().delete("hub-b", &Default::default()).await?;
    env.wait_condition::<TransitGateway>("hub-b", "Ready", CONVERGE, |c| c.reason == "InUse").await?;
    env.api::<TransitGateway>().delete("hub-a", &Default::default()).await?;
    env.wait_gone_as::<TransitGateway>("hub-a", CONVERGE).await?;
    env.wait_gone_as::<TransitGateway>("hub-b", CONVERGE).await?;
    assert!(transit::anything_tagged(&ec2_a, &uid(&a)).await?.is_empty());
    assert!(transit::anything_tagged(&ec2_b, &uid(&b)).await?.is_empty());
    assert!(transit::anything_tagged(&ec2_b, &uid(&a)).await?.is_empty(), "nothing of hub-a left on the peer's side");
    Ok(())
}

fn office_hub(region: &str) -> Value {
    json!({
        "region": region, "routeTables": [{"name": "prod"}, {"name": "shared"}],
        "vpnConnections": [{
            "name": "office", "customerGateway": {"ipAddress": "203.0.113.10", "bgpAsn": 65010},
            "staticRoutes": ["192.168.0.0/16"], "routeTable": "shared",
        }],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vpn_connection_with_its_customer_gateway_and_static_routes_on_the_hub() -> Result<()> {
    let region = "ap-southeast-6";
    let env = TestEnv::start("tgw-vpn", region).await?;
    let ec2 = env.ec2_in(region).await;
    let tgw: TransitGateway = env.apply("hub", office_hub(region)).await?;
    env.wait_ready_as::<TransitGateway>("hub", CONVERGE).await?;

    let hub = hub_owned(&ec2, &uid(&tgw)).await?;
    assert_eq!(hub.customer_gateways.len(), 1);
    let cgw = &hub.customer_gateways[0];
    assert_eq!(cgw.ip_address(), Some("203.0.113.10"));
    assert_eq!(cgw.bgp_asn(), Some("65010"));
    assert_eq!(tag(cgw.tags(), COMPONENT).as_deref(), Some("cgw/office"));
    assert_eq!(hub.vpn_connections.len(), 1);
    let vpn = &hub.vpn_connections[0];
    assert_eq!(vpn.customer_gateway_id(), cgw.customer_gateway_id());
    assert_eq!(vpn.transit_gateway_id(), hub.transit_gateways[0].transit_gateway_id());
    assert_eq!(tag(vpn.tags(), COMPONENT).as_deref(), Some("vpn/office"));
    // The attachment AWS made for it: tagged by the hub, associated with shared, routed.
    let attachment = hub
        .attachments
        .iter()
        .find(|a| a.resource_type().map(|t| t.as_str()) == Some("vpn") && a.resource_id() == vpn.vpn_connection_id())
        .expect("the VPN's attachment");
    let id = attachment.transit_gateway_attachment_id().unwrap().to_string();
    assert!(transit::has_uid(attachment.tags(), &uid(&tgw)));
    assert_eq!(tag(attachment.tags(), COMPONENT).as_deref(), Some("vpn-attachment/office"));
    let shared = hub.route_table("tgw-rtb/shared").unwrap();
    let prod = hub.route_table("tgw-rtb/prod").unwrap();
    assert!(associations(&ec2, &shared).await?.contains(&(id.clone(), "associated".into())));
    assert!(!associations(&ec2, &prod).await?.iter().any(|(a, _)| a == &id));
    assert_eq!(static_routes(&ec2, &shared).await?, vec!["192.168.0.0/16".to_string()]);
    assert!(static_routes(&ec2, &prod).await?.is_empty());
    let status = env.api::<TransitGateway>().get("hub").await?.status.unwrap();
    let office = &status.vpn_connections[0];
    assert_eq!(office.vpn_connection_id.as_deref(), vpn.vpn_connection_id());
    assert_eq!(office.customer_gateway_id.as_deref(), cgw.customer_gateway_id());
    assert_eq!(office.attachment_id.as_deref(), Some(id.as_str()));

    // A converged hub changes nothing on the next checks.
    let before = env.mutating_calls().await?;
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(env.mutating_calls().await?, before, "periodic checks of a converged hub change nothing");

    env.api::<TransitGateway>().delete("hub", &Default::default()).await?;
    env.wait_gone_as::<TransitGateway>("hub", CONVERGE).await?;
    assert!(transit::anything_tagged(&ec2, &uid(&tgw)).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_a_deleted_route_and_a_removed_association_are_repaired() -> Result<()> {
    let region = "il-central-1";
    let env = TestEnv::start("tgw-drift", region).await?;
    let ec2 = env.ec2_in(region).await;
    let tgw: TransitGateway = env.apply("hub", office_hub(region)).await?;
    let shop: VpcTier = env.apply("shop", attached(region, "10.63.0.0/16", "prod", &["shared"])).await?;
    env.wait_ready_as::<TransitGateway>("hub", CONVERGE).await?;
    env.wait_ready("shop", CONVERGE).await?;
    let hub = hub_owned(&ec2, &uid(&tgw)).await?;
    let tgw_id = hub.transit_gateways[0].transit_gateway_id().unwrap().to_string();
    let (prod, shared) = (hub.route_table("tgw-rtb/prod").unwrap(), hub.route_table("tgw-rtb/shared").unwrap());
    let (vpc, tables) = vpc_of(&env, &uid(&shop)).await?;
    let attachment = vpc_attachments(&ec2, &vpc).await?[0].transit_gateway_attachment_id().unwrap().to_string();
    let (_, private) = tables.iter().find(|(c, _)| c.starts_with("rtb/private")).unwrap().clone();

    // Out of band: a VPC route to the hub deleted, the attachment's association removed, a
    // static route of the VPN deleted from the hub.
    ec2.delete_route().route_table_id(&private).destination_cidr_block("10.0.0.0/8").send().await?;
    ec2.disassociate_transit_gateway_route_table()
        .transit_gateway_route_table_id(&prod)
        .transit_gateway_attachment_id(&attachment)
        .send()
        .await?;
    ec2.delete_transit_gateway_route()
        .transit_gateway_route_table_id(&shared)
        .destination_cidr_block("192.168.0.0/16")
        .send()
        .await?;

    wait_for("the drift repaired", CONVERGE, || async {
        let route = vpc_routes(&ec2, &private).await?.iter().any(|(d, t)| d == "10.0.0.0/8" && t == &tgw_id);
        let associated = associations(&ec2, &prod).await?.contains(&(attachment.clone(), "associated".into()));
        let vpn_route = static_routes(&ec2, &shared).await?.contains(&"192.168.0.0/16".to_string());
        Ok(route && associated && vpn_route)
    })
    .await?;
    assert_eq!(vpc_attachments(&ec2, &vpc).await?.len(), 1, "the same attachment, not a new one");
    let events: Vec<String> = env.events("shop").await?.into_iter().map(|(reason, _)| reason).collect();
    assert!(events.iter().any(|r| r == "DriftRepaired"), "{events:?}");
    let events: Vec<String> = env.events("hub").await?.into_iter().map(|(reason, _)| reason).collect();
    assert!(events.iter().any(|r| r == "DriftRepaired"), "{events:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_creation_leaves_exactly_one_of_each() -> Result<()> {
    let region = "me-central-1";
    let mut env = TestEnv::start("tgw-crash", region).await?;
    let ec2 = env.ec2_in(region).await;
    let tgw: TransitGateway = env.apply("hub", office_hub(region)).await?;
    let shop: VpcTier = env.apply("shop", attached(region, "10.64.0.0/16", "prod", &["prod"])).await?;
    // Kill the controller (SIGKILL) the moment the hub's first resource appears.
    wait_for("the first hub resource", CONVERGE, || async { Ok(hub_owned(&ec2, &uid(&tgw)).await?.total() > 0) })
        .await?;
    env.kill_controller().await?;
    let partial = hub_owned(&ec2, &uid(&tgw)).await?.total();
    eprintln!("killed with {partial} hub resources created");
    env.start_controller().await?;
    env.wait_ready_as::<TransitGateway>("hub", CONVERGE).await?;
    env.wait_ready("shop", CONVERGE).await?;

    let hub = hub_owned(&ec2, &uid(&tgw)).await?;
    assert_eq!(hub.transit_gateways.len(), 1);
    assert_eq!(hub.route_tables.len(), 2);
    assert_eq!(hub.customer_gateways.len(), 1);
    assert_eq!(hub.vpn_connections.len(), 1);
    let all = ec2.describe_transit_gateways().send().await?;
    let live = all.transit_gateways().iter().filter(|g| g.state().is_some_and(|s| s.as_str() == "available")).count();
    assert_eq!(live, 1, "no orphaned transit gateway in the region");
    let (vpc, _) = vpc_of(&env, &uid(&shop)).await?;
    assert_eq!(vpc_attachments(&ec2, &vpc).await?.len(), 1, "one attachment");
    let vpc_hub_attachments = hub.attachments.iter().filter(|a| a.resource_type().map(|t| t.as_str()) == Some("vpc"));
    assert_eq!(vpc_hub_attachments.count(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_everything_at_once_in_any_order_leaves_nothing_tagged() -> Result<()> {
    let (east, west) = ("mx-central-1", "ca-west-1");
    let env = TestEnv::start("tgw-teardown", east).await?;
    let (ec2_a, ec2_b) = (env.ec2_in(east).await, env.ec2_in(west).await);
    let b: TransitGateway = env.apply("hub-b", json!({"region": west, "routeTables": [{"name": "core"}]})).await?;
    let mut hub_a = office_hub(east);
    hub_a["peerings"] = json!([{
        "name": "west", "peer": {"transitGatewayRef": {"name": "hub-b"}}, "routeTable": "prod",
        "routes": ["10.76.0.0/16"], "peerRouteTable": "core", "peerRoutes": ["10.65.0.0/16"],
    }]);
    let a: TransitGateway = env.apply("hub", hub_a).await?;
    let shop: VpcTier = env.apply("shop", attached(east, "10.65.0.0/16", "prod", &["prod", "shared"])).await?;
    let tools: VpcTier = env
        .apply(
            "tools",
            json!({
                "region": east, "cidrBlock": "10.66.0.0/16", "availabilityZones": 1, "natGateways": "None",
                "tiers": [{"name": "app", "type": "Private", "prefixLength": 24}],
            }),
        )
        .await?;
    let peering: securecart_api::VpcPeering = env
        .apply(
            "shop-tools",
            json!({
                "requester": {"vpcTierRef": {"name": "shop"}, "routeTiers": ["app"]},
                "accepter": {"vpcTierRef": {"name": "tools"}, "routeTiers": ["app"]},
            }),
        )
        .await?;
    for name in ["hub", "hub-b"] {
        env.wait_ready_as::<TransitGateway>(name, CONVERGE).await?;
    }
    for name in ["shop", "tools"] {
        env.wait_ready(name, CONVERGE).await?;
    }
    env.wait_ready_as::<securecart_api::VpcPeering>("shop-tools", CONVERGE).await?;

    // Everything at once, the used objects first.
    env.api::<TransitGateway>().delete("hub-b", &Default::default()).await?;
    env.api::<TransitGateway>().delete("hub", &Default::default()).await?;
    env.delete_vpc_tier("tools").await?;
    env.delete_vpc_tier("shop").await?;
    env.api::<securecart_api::VpcPeering>().delete("shop-tools", &Default::default()).await?;
    env.wait_gone_as::<securecart_api::VpcPeering>("shop-tools", CONVERGE).await?;
    env.wait_gone("shop", CONVERGE).await?;
    env.wait_gone("tools", CONVERGE).await?;
    env.wait_gone_as::<TransitGateway>("hub", CONVERGE).await?;
    env.wait_gone_as::<TransitGateway>("hub-b", CONVERGE).await?;
    for owner in [uid(&a), uid(&b), uid(&shop), uid(&tools), uid(&peering)] {
        for ec2 in [&ec2_a, &ec2_b] {
            let left = transit::anything_tagged(ec2, &owner).await?;
            assert!(left.is_empty(), "left behind: {left:?}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_specs_are_refused_at_admission_or_reported_without_aws_calls() -> Result<()> {
    let region = "ap-south-2";
    let env = TestEnv::start("tgw-invalid", region).await?;
    // Refused at admission: a peering's route table the hub lacks, an out-of-range ASN.
    let refused = [
        (
            json!({"region": region, "routeTables": [{"name": "prod"}], "peerings": [{"name": "x", "peer": {"transitGatewayId": "tgw-0123456789abcdef0", "region": "eu-west-1", "accountId": "123456789012"}, "routeTable": "nope"}]}),
            "routeTable",
        ),
        (json!({"region": region, "amazonSideAsn": 100}), "amazonSideAsn"),
        (
            json!({"region": region, "peerings": [{"name": "x", "peer": {"transitGatewayRef": {"name": "a"}, "transitGatewayId": "tgw-0123456789abcdef0"}, "routeTable": "p"}]}),
            "exactly one",
        ),
    ];
    for (spec, field) in refused {
        let err = env.apply::<TransitGateway>("refused", spec).await.expect_err("refused at admission");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    env.apply::<TransitGateway>("hub", hub(region)).await?;
    env.wait_ready_as::<TransitGateway>("hub", CONVERGE).await?;
    let calls = env.mutating_calls().await?;

    // Reported as InvalidSpec naming the field, with no AWS call.
    let mut missing_tier = attached(region, "10.67.0.0/16", "prod", &[]);
    missing_tier["transitGateway"]["tier"] = json!("web");
    let mut inside = attached(region, "10.68.0.0/16", "prod", &[]);
    inside["transitGateway"]["routes"] = json!([{"destination": "10.68.4.0/24", "tiers": ["app"]}]);
    let missing_table = attached(region, "10.69.0.0/16", "staging", &[]);
    let cases = [
        ("missing-tier", missing_tier, "spec.transitGateway.tier"),
        ("inside", inside, "spec.transitGateway.routes[0].destination"),
        ("missing-table", missing_table, "spec.transitGateway.routeTable"),
    ];
    for (name, spec, _) in &cases {
        env.apply::<VpcTier>(name, spec.clone()).await?;
    }
    for (name, _, field) in &cases {
        let o = env.wait_condition::<VpcTier>(name, "Ready", CONVERGE, |c| c.reason == "InvalidSpec").await?;
        let message = condition(&o, "Ready").unwrap().message;
        assert!(message.contains(field), "{name}: {message}");
    }
    // Peerings: overlapping blocks; an external accepter in another account without a role.
    env.apply::<VpcTier>("left", json!({"region": region, "cidrBlock": "10.90.0.0/16", "availabilityZones": 1, "tiers": [{"name": "app", "type": "Isolated", "prefixLength": 24}]})).await?;
    env.apply::<VpcTier>("right", json!({"region": region, "cidrBlock": "10.90.0.0/20", "availabilityZones": 1, "tiers": [{"name": "app", "type": "Isolated", "prefixLength": 24}]})).await?;
    env.wait_ready("left", CONVERGE).await?;
    env.wait_ready("right", CONVERGE).await?;
    let calls = calls.max(env.mutating_calls().await?);
    let peerings = [
        (
            "overlap",
            json!({"requester": {"vpcTierRef": {"name": "left"}}, "accepter": {"vpcTierRef": {"name": "right"}}}),
            "overlaps",
        ),
        (
            "no-role",
            json!({"requester": {"vpcTierRef": {"name": "left"}}, "accepter": {"external": {"vpcId": "vpc-0123456789abcdef0", "accountId": "210987654321", "region": "eu-west-1"}}}),
            "spec.accepter.external.roleArn",
        ),
        (
            "no-tier",
            json!({"requester": {"vpcTierRef": {"name": "left"}, "routeTiers": ["web"]}, "accepter": {"vpcTierRef": {"name": "right"}}}),
            "spec.requester.routeTiers[0]",
        ),
    ];
    for (name, spec, _) in &peerings {
        env.apply::<securecart_api::VpcPeering>(name, spec.clone()).await?;
    }
    for (name, _, field) in &peerings {
        let o = env
            .wait_condition::<securecart_api::VpcPeering>(name, "Ready", CONVERGE, |c| c.reason == "InvalidSpec")
            .await?;
        let message = condition(&o, "Ready").unwrap().message;
        assert!(message.contains(field), "{name}: {message}");
    }
    assert_eq!(env.mutating_calls().await?, calls, "no AWS change for an invalid spec");
    Ok(())
}
