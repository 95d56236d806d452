//! VpcPeering against a real kube-apiserver and the AWS emulator: two VpcTiers in one account,
//! and a VpcTier peered with a VPC of another account in another region, accepted through a role
//! there (STS AssumeRole). Connections and routes are read through the EC2 API, on both sides.

use std::time::Duration;

use securecart_api::{VpcPeering, VpcTier};
use securecart_e2e::transit::{self, peering_connections, vpc_routes};
use securecart_e2e::{Result, TestEnv, condition, tag, wait_for};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(120);

fn vpc(region: &str, cidr: &str) -> Value {
    json!({
        "region": region, "cidrBlock": cidr, "availabilityZones": 2, "natGateways": "None",
        "tiers": [
            {"name": "app", "type": "Private", "prefixLength": 24},
            {"name": "database", "type": "Isolated", "prefixLength": 24},
        ],
    })
}

fn uid<K: kube::Resource>(o: &K) -> String {
    o.meta().uid.clone().unwrap_or_default()
}

/// The route table IDs of a VpcTier, by component.
async fn tables_of(env: &TestEnv, uid: &str) -> Result<Vec<(String, String)>> {
    Ok(env
        .owned(uid)
        .await?
        .route_tables
        .iter()
        .filter_map(|t| Some((tag(t.tags(), securecart_api::tags::COMPONENT)?, t.route_table_id()?.to_string())))
        .collect())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_vpc_tiers_in_one_account_peer_with_routes_and_dns_on_both_sides() -> Result<()> {
    let region = "ap-southeast-7";
    let env = TestEnv::start("vpcp-local", region).await?;
    let ec2 = env.ec2_in(region).await;
    let shop: VpcTier = env.apply("shop", vpc(region, "10.81.0.0/16")).await?;
    let staging: VpcTier = env.apply("staging", vpc(region, "10.82.0.0/16")).await?;
    let p: VpcPeering = env
        .apply(
            "shop-to-staging",
            json!({
                "requester": {"vpcTierRef": {"name": "shop"}, "routeTiers": ["app"]},
                "accepter": {"vpcTierRef": {"name": "staging"}, "routeTiers": ["app", "database"]},
                "allowDnsResolution": true,
            }),
        )
        .await?;
    env.wait_ready_as::<VpcPeering>("shop-to-staging", CONVERGE).await?;

    let connections = peering_connections(&ec2, &uid(&p)).await?;
    assert_eq!(connections.len(), 1);
    let c = &connections[0];
    let id = c.vpc_peering_connection_id().unwrap().to_string();
    assert_eq!(c.status().and_then(|s| s.code()).map(|s| s.as_str()), Some("active"));
    let shop_vpc = env.owned(&uid(&shop)).await?.vpcs[0].vpc_id().unwrap().to_string();
    let staging_vpc = env.owned(&uid(&staging)).await?.vpcs[0].vpc_id().unwrap().to_string();
    assert_eq!(c.requester_vpc_info().and_then(|i| i.vpc_id()), Some(shop_vpc.as_str()));
    assert_eq!(c.accepter_vpc_info().and_then(|i| i.vpc_id()), Some(staging_vpc.as_str()));
    let dns = |i: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
        i.and_then(|i| i.peering_options()).and_then(|o| o.allow_dns_resolution_from_remote_vpc())
    };
    assert_eq!(dns(c.requester_vpc_info()), Some(true));
    assert_eq!(dns(c.accepter_vpc_info()), Some(true));
    // Routes to each other in the tiers named, and nowhere else.
    for (vt, other, tiers) in
        [(&shop, "10.82.0.0/16", vec!["rtb/private"]), (&staging, "10.81.0.0/16", vec!["rtb/private", "rtb/isolated"])]
    {
        for (component, rtb) in tables_of(&env, &uid(vt)).await? {
            let routes = vpc_routes(&ec2, &rtb).await?;
            let peered = routes.iter().any(|(d, t)| d == other && t == &id);
            assert_eq!(peered, tiers.contains(&component.as_str()), "{component}: {routes:?}");
        }
    }
    let status = env.api::<VpcPeering>().get("shop-to-staging").await?.status.unwrap();
    assert_eq!(status.vpc_peering_connection_id.as_deref(), Some(id.as_str()));
    assert_eq!(status.accepter_route_table_ids.len(), 2);

    // A VpcTier in use cannot go; the peering's removal takes its routes with it.
    env.delete_vpc_tier("staging").await?;
    env.wait_condition::<VpcTier>("staging", "Ready", CONVERGE, |c| c.reason == "InUse").await?;
    let message = condition(&env.vpc_tiers().get("staging").await?, "Ready").unwrap().message;
    assert!(message.contains("VpcPeering shop-to-staging"), "{message}");
    env.api::<VpcPeering>().delete("shop-to-staging", &Default::default()).await?;
    env.wait_gone_as::<VpcPeering>("shop-to-staging", CONVERGE).await?;
    assert!(peering_connections(&ec2, &uid(&p)).await?.is_empty(), "the connection is deleted");
    for (component, rtb) in tables_of(&env, &uid(&shop)).await? {
        let routes = vpc_routes(&ec2, &rtb).await?;
        assert!(!routes.iter().any(|(_, t)| t == &id), "{component}: {routes:?}");
    }
    env.wait_gone("staging", CONVERGE).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peering_to_another_account_and_region_is_accepted_through_the_role() -> Result<()> {
    let (region, accepter_region, account) = ("ap-east-2", "eu-central-2", "210987654321");
    let role = format!("arn:aws:iam::{account}:role/accept-peering");
    let env = TestEnv::start("vpcp-cross", region).await?;
    let ec2 = env.ec2_in(region).await;
    // The accepter's VPC and route table, made in the other account (as its owner would).
    let theirs = transit::ec2_as(&role, accepter_region).await;
    let their_vpc = theirs.create_vpc().cidr_block("10.91.0.0/16").send().await?;
    let their_vpc = their_vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    let their_table = theirs.create_route_table().vpc_id(&their_vpc).send().await?;
    let their_table = their_table.route_table().and_then(|t| t.route_table_id()).unwrap().to_string();

    let shop: VpcTier = env.apply("shop", vpc(region, "10.83.0.0/16")).await?;
    let p: VpcPeering = env
        .apply(
            "shop-to-partner",
            json!({
                "requester": {"vpcTierRef": {"name": "shop"}, "routeTiers": ["app"]},
                "accepter": {"external": {
                    "vpcId": their_vpc, "accountId": account, "region": accepter_region,
                    "roleArn": role, "routeTableIds": [their_table],
                }},
                "allowDnsResolution": true,
            }),
        )
        .await?;
    env.wait_ready_as::<VpcPeering>("shop-to-partner", CONVERGE).await?;

    let connections = peering_connections(&ec2, &uid(&p)).await?;
    assert_eq!(connections.len(), 1);
    let id = connections[0].vpc_peering_connection_id().unwrap().to_string();
    let accepter = connections[0].accepter_vpc_info().unwrap();
    assert_eq!((accepter.owner_id(), accepter.region()), (Some(account), Some(accepter_region)));
    // As the accepter's account sees it: accepted (by the controller, through the role), with
    // the DNS option set on its side and a route back to the requester.
    let seen = theirs.describe_vpc_peering_connections().vpc_peering_connection_ids(&id).send().await?;
    let seen = &seen.vpc_peering_connections()[0];
    assert_eq!(seen.status().and_then(|s| s.code()).map(|s| s.as_str()), Some("active"));
    let accepter_dns = seen
        .accepter_vpc_info()
        .and_then(|i| i.peering_options())
        .and_then(|o| o.allow_dns_resolution_from_remote_vpc());
    assert_eq!(accepter_dns, Some(true));
    let routes = vpc_routes(&theirs, &their_table).await?;
    assert!(routes.iter().any(|(d, t)| d == "10.83.0.0/16" && t == &id), "{routes:?}");
    // The requester's side.
    let (_, private) = tables_of(&env, &uid(&shop)).await?.into_iter().find(|(c, _)| c == "rtb/private").unwrap();
    assert!(vpc_routes(&ec2, &private).await?.iter().any(|(d, t)| d == "10.91.0.0/16" && t == &id));

    // Out of band, on the accepter's side: its route deleted; the controller puts it back there.
    theirs.delete_route().route_table_id(&their_table).destination_cidr_block("10.83.0.0/16").send().await?;
    wait_for("the accepter's route repaired", CONVERGE, || async {
        Ok(vpc_routes(&theirs, &their_table).await?.iter().any(|(d, t)| d == "10.83.0.0/16" && t == &id))
    })
    .await?;

    env.api::<VpcPeering>().delete("shop-to-partner", &Default::default()).await?;
    env.wait_gone_as::<VpcPeering>("shop-to-partner", CONVERGE).await?;
    assert!(!vpc_routes(&theirs, &their_table).await?.iter().any(|(_, t)| t == &id), "its route there is gone");
    assert!(peering_connections(&ec2, &uid(&p)).await?.is_empty());
    Ok(())
}
