//! What the one reconcile engine guarantees across kinds, against the real apiserver and the
//! emulator, with AWS state read through the AWS API: deletion waits for every user, a zone leaves
//! only after its users have moved off it, pause stops every write, and an endpoint deleted before
//! it was ever Ready leaves nothing behind.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2::types::Filter;
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use securecart_api::tags::{COMPONENT, OWNER_UID};
use securecart_api::{LoadBalancerPolicy, PrivateEndpoint, VpcTier};
use securecart_e2e::{Result, TestEnv, spec, tag, wait_for};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(120);

fn vpc_tier(region: &str, zones: u32) -> Value {
    json!({
        "region": region, "cidrBlock": "10.40.0.0/16", "availabilityZones": zones,
        "tiers": [{"name": "public", "type": "Public", "prefixLength": 24},
                  {"name": "app", "type": "Private", "prefixLength": 20}],
        "natGateways": "PerZone",
    })
}

fn alb() -> Value {
    json!({
        "vpcTierRef": {"name": "shop"}, "type": "Application", "scheme": "internet-facing", "tier": "public",
        "allowedCidrs": ["0.0.0.0/0"],
        "targetGroups": [{"name": "web", "protocol": "HTTP", "port": 8080, "targetType": "ip"}],
        "listeners": [{"port": 80, "protocol": "HTTP", "defaultTargetGroup": "web"}],
    })
}

fn internal_nlb() -> Value {
    json!({
        "vpcTierRef": {"name": "shop"}, "type": "Network", "scheme": "internal", "tier": "app",
        "allowedCidrs": ["10.0.0.0/8"],
        "targetGroups": [{"name": "tcp", "protocol": "TCP", "port": 8443, "targetType": "ip"}],
        "listeners": [{"port": 443, "protocol": "TCP", "defaultTargetGroup": "tcp"}],
    })
}

fn uid<K: kube::Resource>(obj: &K) -> String {
    obj.meta().uid.clone().unwrap_or_default()
}

/// The VpcTier's subnets by component (`subnet/public/<zone>` -> ID), read through EC2.
async fn subnets(env: &TestEnv, vt_uid: &str) -> Result<Vec<(String, String)>> {
    let owned = env.owned(vt_uid).await?;
    let mut out: Vec<(String, String)> =
        owned.subnets.iter().filter_map(|s| Some((tag(s.tags(), COMPONENT)?, s.subnet_id()?.to_string()))).collect();
    out.sort();
    Ok(out)
}

fn ids_of(subnets: &[(String, String)], prefix: &str) -> BTreeSet<String> {
    subnets.iter().filter(|(c, _)| c.starts_with(prefix)).map(|(_, id)| id.clone()).collect()
}

/// The subnets of the one load balancer a policy owns, through ELBv2.
async fn lb_subnets(env: &TestEnv, policy_uid: &str) -> Result<BTreeSet<String>> {
    let c = env.load_balancing_clients(&env.region).await;
    let owned = c.owned(policy_uid).await?;
    Ok(owned
        .load_balancers
        .iter()
        .flat_map(|l| l.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)))
        .collect())
}

async fn endpoint_subnets(env: &TestEnv, endpoint_uid: &str) -> Result<(usize, BTreeSet<String>)> {
    let out = env
        .ec2
        .describe_vpc_endpoints()
        .filters(Filter::builder().name(format!("tag:{OWNER_UID}")).values(endpoint_uid).build())
        .send()
        .await?;
    let live: Vec<_> = out
        .vpc_endpoints()
        .iter()
        .filter(|e| e.state().is_none_or(|s| !s.as_str().eq_ignore_ascii_case("deleted")))
        .collect();
    Ok((live.len(), live.iter().flat_map(|e| e.subnet_ids().iter().cloned()).collect()))
}

/// Events of the namespace as (object, reason, note, time), oldest first.
async fn timeline(env: &TestEnv) -> Result<Vec<(String, String, String, String)>> {
    let api: kube::Api<Event> = env.api();
    let mut out: Vec<(String, String, String, String)> = api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|e| {
            let time = e.event_time.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
            let object = e.regarding.and_then(|r| r.name).unwrap_or_default();
            (object, e.reason.unwrap_or_default(), e.note.unwrap_or_default(), time)
        })
        .collect();
    out.sort_by(|a, b| a.3.cmp(&b.3));
    Ok(out)
}

/// The public route table's default route and the subnets associated with it, through EC2.
async fn public_route(env: &TestEnv, vt_uid: &str) -> Result<(Option<String>, BTreeSet<String>)> {
    let owned = env.owned(vt_uid).await?;
    let Some(table) = owned.route_tables.iter().find(|t| tag(t.tags(), COMPONENT).as_deref() == Some("rtb/public"))
    else {
        return Ok((None, BTreeSet::new()));
    };
    let gateway = table
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .and_then(|r| r.gateway_id().map(str::to_string));
    let associated = table.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect();
    Ok((gateway, associated))
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_vpc_tier_waits_for_every_user_and_keeps_their_internet_route() -> Result<()> {
    let region = "ap-southeast-5";
    let env = TestEnv::start("engine-users", region).await?;
    let vt = env.apply_vpc_tier("shop", spec(vpc_tier(region, 2))).await?;
    env.wait_ready("shop", CONVERGE).await?;
    let lbp: LoadBalancerPolicy = env.apply("storefront", alb()).await?;
    let pe: PrivateEndpoint =
        env.apply("s3", json!({"vpcTierRef": {"name": "shop"}, "service": "s3", "tiers": ["app"]})).await?;
    env.wait_ready_as::<LoadBalancerPolicy>("storefront", CONVERGE).await?;
    env.wait_ready_as::<PrivateEndpoint>("s3", CONVERGE).await?;
    let alb_subnets = lb_subnets(&env, &uid(&lbp)).await?;
    assert_eq!(alb_subnets.len(), 2);

    env.api::<VpcTier>().delete("shop", &DeleteParams::default()).await?;
    let waiting = env
        .wait_condition::<VpcTier>("shop", "Ready", CONVERGE, |c| {
            c.reason == "InUse"
                && c.message.contains("LoadBalancerPolicy storefront")
                && c.message.contains("PrivateEndpoint s3")
        })
        .await?;
    assert!(waiting.metadata.deletion_timestamp.is_some());

    // The policy goes first: while it exists, and after, nothing of the VpcTier is torn down,
    // so the load balancer's subnets keep their route to the internet the whole time.
    env.api::<LoadBalancerPolicy>().delete("storefront", &DeleteParams::default()).await?;
    wait_for("the policy's deletion", CONVERGE, || async {
        let (gateway, associated) = public_route(&env, &uid(&vt)).await?;
        assert!(gateway.is_some(), "the public default route stayed while the VpcTier had users");
        assert!(alb_subnets.is_subset(&associated), "the ALB's subnets stayed on the public route table");
        Ok(env.api::<LoadBalancerPolicy>().get_opt("storefront").await?.is_none())
    })
    .await?;
    env.wait_condition::<VpcTier>("shop", "Ready", CONVERGE, |c| {
        c.reason == "InUse" && c.message.contains("PrivateEndpoint s3") && !c.message.contains("storefront")
    })
    .await?;
    assert_eq!(env.owned(&uid(&vt)).await?.nat_gateways.len(), 2, "NAT gateways stay while a user remains");

    env.api::<PrivateEndpoint>().delete("s3", &DeleteParams::default()).await?;
    env.wait_gone_as::<PrivateEndpoint>("s3", CONVERGE).await?;
    env.wait_gone("shop", CONVERGE).await?;
    assert_eq!(env.owned(&uid(&vt)).await?.total(), 0, "nothing of the VpcTier is left");
    let c = env.load_balancing_clients(region).await;
    assert_eq!(c.owned(&uid(&lbp)).await?.total(), 0, "nothing of the policy is left");
    assert_eq!(endpoint_subnets(&env, &uid(&pe)).await?.0, 0, "no endpoint is left");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zone_leaves_a_tier_only_after_its_users_moved_off_it() -> Result<()> {
    let region = "ap-southeast-6";
    let env = TestEnv::start("engine-zone", region).await?;
    let vt = env.apply_vpc_tier("shop", spec(vpc_tier(region, 3))).await?;
    env.wait_ready("shop", CONVERGE).await?;
    let alb: LoadBalancerPolicy = env.apply("storefront", alb()).await?;
    let nlb: LoadBalancerPolicy = env.apply("partners", internal_nlb()).await?;
    let pe: PrivateEndpoint =
        env.apply("sts", json!({"vpcTierRef": {"name": "shop"}, "service": "sts", "tiers": ["app"]})).await?;
    for name in ["storefront", "partners"] {
        env.wait_ready_as::<LoadBalancerPolicy>(name, CONVERGE).await?;
    }
    env.wait_ready_as::<PrivateEndpoint>("sts", CONVERGE).await?;
    let before = subnets(&env, &uid(&vt)).await?;
    let zones: BTreeSet<String> = before.iter().filter_map(|(c, _)| c.rsplit('/').next().map(str::to_string)).collect();
    let leaving = zones.iter().next_back().cloned().unwrap_or_default();
    assert_eq!(lb_subnets(&env, &uid(&alb)).await?, ids_of(&before, "subnet/public/"));
    assert_eq!(lb_subnets(&env, &uid(&nlb)).await?, ids_of(&before, "subnet/app/"));
    let leaving_ids = ids_of(&before, &format!("subnet/public/{leaving}"))
        .into_iter()
        .chain(ids_of(&before, &format!("subnet/app/{leaving}")))
        .collect::<BTreeSet<_>>();

    // The tier loses its last zone. At every look, no user is in a subnet that no longer exists:
    // the VpcTier deletes a subnet only after every user has moved off it.
    env.apply_vpc_tier("shop", spec(vpc_tier(region, 2))).await?;
    wait_for("the users in the remaining zones and the zone's subnets gone", CONVERGE, || async {
        let now = subnets(&env, &uid(&vt)).await?;
        let existing: BTreeSet<String> = now.iter().map(|(_, id)| id.clone()).collect();
        let alb_now = lb_subnets(&env, &uid(&alb)).await?;
        let nlb_now = lb_subnets(&env, &uid(&nlb)).await?;
        let (_, pe_now) = endpoint_subnets(&env, &uid(&pe)).await?;
        for (who, used) in [("storefront", &alb_now), ("partners", &nlb_now), ("sts", &pe_now)] {
            let gone: Vec<&String> = used.difference(&existing).collect();
            assert!(gone.is_empty(), "{who} is still in deleted subnets {gone:?}");
        }
        Ok(alb_now == ids_of(&now, "subnet/public/")
            && nlb_now == ids_of(&now, "subnet/app/")
            && pe_now == ids_of(&now, "subnet/app/")
            && !now.iter().any(|(c, _)| c.ends_with(&leaving)))
    })
    .await?;
    assert!(subnets(&env, &uid(&vt)).await?.iter().all(|(_, id)| !leaving_ids.contains(id)));
    env.wait_ready("shop", CONVERGE).await?;
    for name in ["storefront", "partners"] {
        env.wait_ready_as::<LoadBalancerPolicy>(name, CONVERGE).await?;
    }
    env.wait_ready_as::<PrivateEndpoint>("sts", CONVERGE).await?;
    assert_eq!(endpoint_subnets(&env, &uid(&pe)).await?.0, 1, "the endpoint moved in place");

    // Following the VpcTier is an update, not a drift repair: nothing changed behind anyone's back.
    let events = timeline(&env).await?;
    let moves: Vec<&(String, String, String, String)> = events
        .iter()
        .filter(|(o, _, note, _)| {
            ["storefront", "partners", "sts"].contains(&o.as_str())
                && (note.contains("move load balancer") || note.contains("modify endpoint"))
        })
        .collect();
    assert_eq!(moves.len(), 3, "each user moved once: {events:#?}");
    assert!(moves.iter().all(|(_, reason, _, _)| reason == "Updated"), "{moves:#?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_object_makes_no_aws_write_until_resumed() -> Result<()> {
    let region = "ap-southeast-7";
    let env = TestEnv::start("engine-pause", region).await?;
    let vt = env.apply_vpc_tier("shop", spec(vpc_tier(region, 2))).await?;
    env.wait_ready("shop", CONVERGE).await?;
    let pause = |on: bool| {
        let value = if on { json!("true") } else { Value::Null };
        json!({"metadata": {"annotations": {"net.securecart.io/paused": value}}})
    };
    env.api::<VpcTier>().patch("shop", &PatchParams::default(), &Patch::Merge(&pause(true))).await?;
    env.wait_condition::<VpcTier>("shop", "Synced", CONVERGE, |c| c.status == "False" && c.reason == "Paused").await?;

    // Drift behind its back: the public default route goes.
    let owned = env.owned(&uid(&vt)).await?;
    let table = owned
        .route_tables
        .iter()
        .find(|t| tag(t.tags(), COMPONENT).as_deref() == Some("rtb/public"))
        .and_then(|t| t.route_table_id().map(str::to_string))
        .expect("a public route table");
    env.ec2.delete_route().route_table_id(&table).destination_cidr_block("0.0.0.0/0").send().await?;
    let mutating = env.mutating_calls().await?;
    let reconciles = env.reconciles().await?;
    // Several resync periods (3 s in the tests) see the drift and change nothing.
    let seen = env
        .wait_condition::<VpcTier>("shop", "Ready", CONVERGE, |c| c.status == "False" && c.reason == "Paused")
        .await?;
    assert!(securecart_e2e::condition(&seen, "Ready").is_some_and(|c| c.message.contains("not applied while paused")));
    wait_for("three more reconciles", CONVERGE, || async { Ok(env.reconciles().await? >= reconciles + 3) }).await?;
    assert_eq!(env.mutating_calls().await?, mutating, "no AWS write while paused");
    assert!(public_route(&env, &uid(&vt)).await?.0.is_none(), "the drift stays while paused");

    // Resumed: the drift is repaired.
    env.api::<VpcTier>().patch("shop", &PatchParams::default(), &Patch::Merge(&pause(false))).await?;
    wait_for("the public route repaired", CONVERGE, || async { Ok(public_route(&env, &uid(&vt)).await?.0.is_some()) })
        .await?;
    env.wait_condition::<VpcTier>("shop", "Synced", CONVERGE, |c| c.status == "True").await?;
    env.wait_ready("shop", CONVERGE).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_deleted_before_they_were_ever_ready_leave_nothing() -> Result<()> {
    let region = "mx-central-1";
    let env = TestEnv::start("engine-early-delete", region).await?;
    env.apply_vpc_tier("shop", spec(vpc_tier(region, 2))).await?;
    env.wait_ready("shop", CONVERGE).await?;
    // Deleted right after they were applied: wherever their first reconcile is at that moment
    // (not started, recording its intents, creating), nothing may stay behind in AWS.
    let mut uids = Vec::new();
    for i in 0..5 {
        let name = format!("sts-{i}");
        let pe: PrivateEndpoint =
            env.apply(&name, json!({"vpcTierRef": {"name": "shop"}, "service": "sts", "tiers": ["app"]})).await?;
        uids.push(uid(&pe));
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(150 * i)).await;
        }
        env.api::<PrivateEndpoint>().delete(&name, &DeleteParams::default()).await?;
    }
    for i in 0..5 {
        env.wait_gone_as::<PrivateEndpoint>(&format!("sts-{i}"), CONVERGE).await?;
    }
    for u in &uids {
        assert_eq!(endpoint_subnets(&env, u).await?.0, 0, "no endpoint of {u} is left");
        let groups = env
            .ec2
            .describe_security_groups()
            .filters(Filter::builder().name(format!("tag:{OWNER_UID}")).values(u).build())
            .send()
            .await?;
        assert!(groups.security_groups().is_empty(), "no security group of {u} is left");
    }
    Ok(())
}

/// More objects than the controller can reconcile in one resync period, applied at once, with
/// few slots: every object still gets its turn and is made exactly once (the periodic checks of
/// the ones already Ready never crowd out the ones still to be made).
#[tokio::test(flavor = "multi_thread")]
async fn under_sustained_load_every_object_gets_its_turn() -> Result<()> {
    let region = "us-east-2";
    let args = ["--resync-seconds", "5", "--progress-seconds", "1", "--concurrency", "4", "--aws-rate-scale", "0"];
    let env = TestEnv::start_with("engine-turns", region, Some(args.map(String::from).to_vec()), false).await?;
    const OBJECTS: usize = 60;
    let names: Vec<String> = (0..OBJECTS).map(|i| format!("vt-{i:02}")).collect();
    let applied = futures::future::try_join_all(names.iter().enumerate().map(|(i, name)| {
        let spec = spec(json!({
            "region": region, "cidrBlock": format!("10.{i}.0.0/24"), "availabilityZones": 2,
            "tiers": [{"name": "public", "type": "Public", "prefixLength": 26},
                      {"name": "database", "type": "Isolated", "prefixLength": 26}],
        }));
        env.apply_vpc_tier(name, spec)
    }))
    .await?;
    let api = env.vpc_tiers();
    let waiting = std::sync::Mutex::new(Vec::new());
    let waited = wait_for("every VpcTier Ready", Duration::from_secs(300), || async {
        let items = api.list(&ListParams::default()).await?.items;
        let not: Vec<String> = items
            .iter()
            .filter(|o| securecart_e2e::ready_status(o).as_deref() != Some("True"))
            .map(kube::ResourceExt::name_any)
            .collect();
        let done = items.len() == OBJECTS && not.is_empty();
        *waiting.lock().expect("not poisoned") = not;
        Ok(done)
    })
    .await;
    if let Err(e) = waited {
        panic!("{e}; never Ready: {:?}", waiting.lock().expect("not poisoned"));
    }
    for vt in &applied {
        let owned = env.owned(&uid(vt)).await?;
        assert_eq!(
            (owned.vpcs.len(), owned.subnets.len(), owned.internet_gateways.len()),
            (1, 4, 1),
            "{}: one VPC, its four subnets and one internet gateway",
            kube::ResourceExt::name_any(vt)
        );
    }
    Ok(())
}
