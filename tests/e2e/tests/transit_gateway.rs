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
    let ec2 = transit::ec2(region).await;
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
