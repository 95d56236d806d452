//! VpcTier against a real kube-apiserver and the AWS emulator. AWS state is read through the
//! AWS API; the controller's own status is only used where the test is about status.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, VpcAttributeName};
use kube::api::{Patch, PatchParams};
use securecart_api::tags::COMPONENT;
use securecart_e2e::{Owned, Result, TestEnv, ready_condition, spec, tag, wait_for};
use serde_json::json;

const CONVERGE: Duration = Duration::from_secs(90);

fn three_tier(region: &str, zones: u32, flow_log_bucket: Option<&str>) -> serde_json::Value {
    let mut s = json!({
        "region": region,
        "cidrBlock": "10.20.0.0/16",
        "availabilityZones": zones,
        "tiers": [
            {"name": "public", "type": "Public", "prefixLength": 24},
            {"name": "app", "type": "Private", "prefixLength": 20},
            {"name": "database", "type": "Isolated", "prefixLength": 24},
        ],
        "natGateways": "PerZone",
        "tags": {"team": "platform"},
    });
    if let Some(bucket) = flow_log_bucket {
        s["flowLogs"] = json!({"trafficType": "ALL", "destination": {"s3BucketArn": format!("arn:aws:s3:::{bucket}")}});
    }
    s
}

async fn zones_of(env: &TestEnv) -> Result<Vec<String>> {
    let out = env.ec2.describe_availability_zones().send().await?;
    let mut z: Vec<String> =
        out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect();
    z.sort();
    Ok(z)
}

fn by_component(owned: &Owned) -> BTreeMap<String, &aws_sdk_ec2::types::Subnet> {
    owned.subnets.iter().filter_map(|s| Some((tag(s.tags(), COMPONENT)?, s))).collect()
}

fn default_route(table: &aws_sdk_ec2::types::RouteTable) -> Option<&aws_sdk_ec2::types::Route> {
    table.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
}

/// Issue 2's loop: apiserver healthy, schema explained, an object seen by the controller, a VPC
/// in the emulator, status written back and `kubectl wait` satisfied.
#[tokio::test(flavor = "multi_thread")]
async fn control_loop_creates_a_vpc_and_kubectl_wait_succeeds() -> Result<()> {
    let env = TestEnv::start("loop", "eu-west-2").await?;
    let readyz = env.kubectl(&["get", "--raw", "/readyz"]).await?;
    assert_eq!(String::from_utf8_lossy(&readyz.stdout).trim(), "ok");
    let explain = env.kubectl(&["explain", "vpctier.spec"]).await?;
    let explain = String::from_utf8_lossy(&explain.stdout);
    assert!(explain.contains("cidrBlock") && explain.contains("tiers"), "kubectl explain: {explain}");

    let obj = env
        .apply_vpc_tier(
            "minimal",
            spec(json!({"region": "eu-west-2", "cidrBlock": "10.1.0.0/16", "availabilityZones": 1,
                        "tiers": [{"name": "db", "type": "Isolated", "prefixLength": 24}]})),
        )
        .await?;
    let uid = obj.metadata.uid.clone().unwrap();
    wait_for("a VPC in the emulator", CONVERGE, || async { Ok(env.owned(&uid).await?.vpcs.len() == 1) }).await?;
    let wait = env
        .kubectl(&["wait", "--for=condition=Ready", "-n", &env.namespace, "vpctier/minimal", "--timeout=90s"])
        .await?;
    assert!(wait.status.success(), "kubectl wait: {}", String::from_utf8_lossy(&wait.stderr));
    let owned = env.owned(&uid).await?;
    let vpc = &owned.vpcs[0];
    assert_eq!(vpc.cidr_block(), Some("10.1.0.0/16"));
    let status = env.vpc_tiers().get("minimal").await?.status.unwrap();
    assert_eq!(status.vpc_id.as_deref(), vpc.vpc_id(), "status names the VPC the emulator has");
    assert_eq!(status.conditions[0].type_, "Ready", "Ready comes first");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn three_tier_three_zone_example_converges_and_stays_quiet() -> Result<()> {
    let region = "us-east-2";
    let env = TestEnv::start("three-tier", region).await?;
    env.create_bucket("three-tier-flow-logs").await?;
    let obj = env.apply_vpc_tier("shop", spec(three_tier(region, 3, Some("three-tier-flow-logs")))).await?;
    let uid = obj.metadata.uid.clone().unwrap();
    env.wait_ready("shop", CONVERGE).await?;

    let zones: Vec<String> = zones_of(&env).await?.into_iter().take(3).collect();
    let owned = env.owned(&uid).await?;
    assert_eq!(owned.vpcs.len(), 1);
    let vpc_id = owned.vpcs[0].vpc_id().unwrap().to_string();
    for attribute in [VpcAttributeName::EnableDnsSupport, VpcAttributeName::EnableDnsHostnames] {
        let out = env.ec2.describe_vpc_attribute().vpc_id(&vpc_id).attribute(attribute.clone()).send().await?;
        let value = out.enable_dns_support().or(out.enable_dns_hostnames()).and_then(|v| v.value());
        assert_eq!(value, Some(true), "{attribute:?}");
    }

    // Nine subnets, carved tier by tier, zone by zone.
    let subnets = by_component(&owned);
    assert_eq!(subnets.len(), 9, "{:?}", subnets.keys());
    let expected = [
        ("public", ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"]),
        ("app", ["10.20.16.0/20", "10.20.32.0/20", "10.20.48.0/20"]),
        ("database", ["10.20.3.0/24", "10.20.4.0/24", "10.20.5.0/24"]),
    ];
    for (tier, cidrs) in expected {
        for (zone, cidr) in zones.iter().zip(cidrs) {
            let s = subnets[&format!("subnet/{tier}/{zone}")];
            assert_eq!((s.cidr_block(), s.availability_zone()), (Some(cidr), Some(zone.as_str())), "{tier} in {zone}");
            assert_eq!(s.vpc_id(), Some(vpc_id.as_str()));
            assert_eq!(s.map_public_ip_on_launch(), Some(tier == "public"));
            assert_eq!(tag(s.tags(), "team").as_deref(), Some("platform"), "user tags on every resource");
        }
    }

    // Internet gateway attached; one NAT gateway per zone, in that zone's public subnet.
    assert_eq!(owned.internet_gateways.len(), 1);
    let igw = &owned.internet_gateways[0];
    assert_eq!(igw.attachments().first().and_then(|a| a.vpc_id()), Some(vpc_id.as_str()));
    assert_eq!(owned.nat_gateways.len(), 3);
    assert_eq!(owned.addresses.len(), 3);
    let mut nat_of_zone = BTreeMap::new();
    for zone in &zones {
        let public = subnets[&format!("subnet/public/{zone}")].subnet_id().unwrap();
        let nat = owned
            .nat_gateways
            .iter()
            .find(|n| n.subnet_id() == Some(public))
            .expect("a NAT gateway in each public subnet");
        nat_of_zone.insert(zone.clone(), nat.nat_gateway_id().unwrap().to_string());
    }

    // Route tables: public -> IGW, private per zone -> that zone's NAT, isolated -> nothing.
    let tables: BTreeMap<String, &aws_sdk_ec2::types::RouteTable> =
        owned.route_tables.iter().filter_map(|t| Some((tag(t.tags(), COMPONENT)?, t))).collect();
    assert_eq!(tables.len(), 5, "{:?}", tables.keys());
    assert_eq!(default_route(tables["rtb/public"]).and_then(|r| r.gateway_id()), igw.internet_gateway_id());
    assert!(default_route(tables["rtb/isolated"]).is_none());
    for zone in &zones {
        let private = tables[&format!("rtb/private/{zone}")];
        assert_eq!(default_route(private).and_then(|r| r.nat_gateway_id()), Some(nat_of_zone[zone].as_str()), "{zone}");
    }
    let table_of = |subnet_id: &str| {
        tables
            .iter()
            .find(|(_, t)| t.associations().iter().any(|a| a.subnet_id() == Some(subnet_id)))
            .map(|(c, _)| c.clone())
    };
    for zone in &zones {
        let id = |tier: &str| subnets[&format!("subnet/{tier}/{zone}")].subnet_id().unwrap().to_string();
        assert_eq!(table_of(&id("public")).as_deref(), Some("rtb/public"));
        assert_eq!(table_of(&id("app")), Some(format!("rtb/private/{zone}")));
        assert_eq!(table_of(&id("database")).as_deref(), Some("rtb/isolated"));
    }

    // Flow log on the VPC to the bucket.
    assert_eq!(owned.flow_logs.len(), 1);
    assert_eq!(owned.flow_logs[0].resource_id(), Some(vpc_id.as_str()));
    assert_eq!(owned.flow_logs[0].log_destination(), Some("arn:aws:s3:::three-tier-flow-logs"));

    // A converged object costs no mutating call, however often it is reconciled.
    let mutating = env.mutating_calls().await?;
    let reconciles = env.reconciles().await?;
    env.vpc_tiers()
        .patch("shop", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"annotations": {"poke": "1"}}})))
        .await?;
    wait_for("two more reconciles", CONVERGE, || async { Ok(env.reconciles().await? >= reconciles + 2) }).await?;
    assert_eq!(env.mutating_calls().await?, mutating, "no mutating AWS call once converged");
    assert_eq!(env.owned(&uid).await?.total(), owned.total());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_repaired_on_resync() -> Result<()> {
    let region = "eu-west-1";
    let env = TestEnv::start("drift", region).await?;
    let obj = env.apply_vpc_tier("drift", spec(three_tier(region, 2, None))).await?;
    let uid = obj.metadata.uid.clone().unwrap();
    env.wait_ready("drift", CONVERGE).await?;
    let before = env.owned(&uid).await?;
    let zones: Vec<String> = zones_of(&env).await?.into_iter().take(2).collect();
    let public_table =
        before.route_tables.iter().find(|t| tag(t.tags(), COMPONENT).as_deref() == Some("rtb/public")).unwrap();
    let victim_component = format!("subnet/database/{}", zones[1]);
    let victim = before.subnet_ids()[&victim_component].clone();
    let victim_cidr = by_component(&before)[&victim_component].cidr_block().unwrap().to_string();
    let vpc_id = before.vpcs[0].vpc_id().unwrap().to_string();

    // Behind the controller's back: a route deleted, a subnet deleted, a tag changed.
    env.ec2
        .delete_route()
        .route_table_id(public_table.route_table_id().unwrap())
        .destination_cidr_block("0.0.0.0/0")
        .send()
        .await?;
    env.ec2.delete_subnet().subnet_id(&victim).send().await?;
    env.ec2
        .create_tags()
        .resources(&vpc_id)
        .tags(aws_sdk_ec2::types::Tag::builder().key("team").value("somebody-else").build())
        .send()
        .await?;

    wait_for("drift repaired in the emulator", CONVERGE, || async {
        let now = env.owned(&uid).await?;
        let table =
            now.route_tables.iter().find(|t| tag(t.tags(), COMPONENT).as_deref() == Some("rtb/public")).unwrap();
        let route_back =
            default_route(table).and_then(|r| r.gateway_id()) == before.internet_gateways[0].internet_gateway_id();
        let subnet_back =
            by_component(&now).get(&victim_component).is_some_and(|s| s.cidr_block() == Some(&victim_cidr));
        let tag_back = tag(now.vpcs[0].tags(), "team").as_deref() == Some("platform");
        Ok(route_back && subnet_back && tag_back)
    })
    .await?;
    let after = env.owned(&uid).await?;
    assert_ne!(after.subnet_ids()[&victim_component], victim, "a new subnet replaced the deleted one");
    assert_eq!(after.subnets.len(), before.subnets.len());
    // The recreated isolated subnet is associated with its route table again.
    let new_id = after.subnet_ids()[&victim_component].clone();
    let isolated =
        after.route_tables.iter().find(|t| tag(t.tags(), COMPONENT).as_deref() == Some("rtb/isolated")).unwrap();
    assert!(isolated.associations().iter().any(|a| a.subnet_id() == Some(new_id.as_str())));

    let events = env.events("drift").await?;
    assert!(events.iter().any(|(reason, _)| reason == "DriftRepaired"), "events: {events:?}");
    let metrics = env.metrics().await?;
    assert!(securecart_e2e::sum_metric(&metrics, "securecart_drift_repairs_total", &[("kind", "VpcTier")]) >= 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_mid_creation_leaves_exactly_one_of_each() -> Result<()> {
    let region = "ap-southeast-1";
    let mut env = TestEnv::start("crash", region).await?;
    let obj = env.apply_vpc_tier("crash", spec(three_tier(region, 3, None))).await?;
    let uid = obj.metadata.uid.clone().unwrap();
    // Kill the controller (SIGKILL) the moment its first resource appears.
    wait_for("the first resource", CONVERGE, || async { Ok(env.owned(&uid).await?.total() > 0) }).await?;
    env.kill_controller().await?;
    let partial = env.owned(&uid).await?.total();
    eprintln!("killed with {partial} of 22 resources created");

    env.start_controller().await?;
    env.wait_ready("crash", CONVERGE).await?;
    let owned = env.owned(&uid).await?;
    assert_eq!(owned.vpcs.len(), 1);
    assert_eq!(owned.subnets.len(), 9);
    assert_eq!(owned.internet_gateways.len(), 1);
    assert_eq!(owned.route_tables.len(), 5);
    assert_eq!(owned.nat_gateways.len(), 3);
    assert_eq!(owned.addresses.len(), 3);
    // And nothing untagged was left behind: every VPC in the region is accounted for.
    let all_vpcs =
        env.ec2.describe_vpcs().filters(Filter::builder().name("cidr").values("10.20.0.0/16").build()).send().await?;
    assert_eq!(all_vpcs.vpcs().len(), 1, "no orphaned VPC with the same CIDR");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_tiers_adds_and_removes_only_those_subnets() -> Result<()> {
    let region = "eu-central-1";
    let env = TestEnv::start("tiers", region).await?;
    let base = json!({
        "region": region, "cidrBlock": "10.30.0.0/16", "availabilityZones": 2, "natGateways": "Single",
        "tiers": [
            {"name": "public", "type": "Public", "prefixLength": 24},
            {"name": "app", "type": "Private", "prefixLength": 22},
        ],
    });
    let obj = env.apply_vpc_tier("tiers", spec(base.clone())).await?;
    let uid = obj.metadata.uid.clone().unwrap();
    env.wait_ready("tiers", CONVERGE).await?;
    let first = env.owned(&uid).await?.subnet_ids();
    assert_eq!(first.len(), 4);
    assert_eq!(env.owned(&uid).await?.nat_gateways.len(), 1, "Single: one NAT gateway");

    // Add a tier: existing subnets keep their IDs (and so their CIDRs); two new ones appear.
    let mut grown = base.clone();
    grown["tiers"].as_array_mut().unwrap().push(json!({"name": "database", "type": "Isolated", "prefixLength": 24}));
    env.apply_vpc_tier("tiers", spec(grown.clone())).await?;
    env.wait_ready("tiers", CONVERGE).await?;
    let second = env.owned(&uid).await?.subnet_ids();
    assert_eq!(second.len(), 6);
    for (component, id) in &first {
        assert_eq!(second.get(component), Some(id), "{component} untouched");
    }

    // Remove the private tier: its subnets, NAT gateway, Elastic IP and route table go; the rest stay.
    let mut shrunk = grown.clone();
    shrunk["tiers"].as_array_mut().unwrap().retain(|t| t["name"] != "app");
    env.apply_vpc_tier("tiers", spec(shrunk)).await?;
    env.wait_ready("tiers", CONVERGE).await?;
    let third = env.owned(&uid).await?;
    let third_ids = third.subnet_ids();
    assert_eq!(third_ids.len(), 4);
    for (component, id) in &second {
        if component.starts_with("subnet/app/") {
            assert!(!third_ids.contains_key(component), "{component} removed");
        } else {
            assert_eq!(third_ids.get(component), Some(id), "{component} untouched");
        }
    }
    assert!(third.nat_gateways.is_empty(), "no Private tier, no NAT gateway");
    assert!(third.addresses.is_empty(), "its Elastic IP released");
    assert!(third.route_tables.iter().all(|t| !tag(t.tags(), COMPONENT).unwrap().starts_with("rtb/private")));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_specs_are_rejected_at_admission_or_reported_without_aws_calls() -> Result<()> {
    let region = "ap-northeast-1";
    let env = TestEnv::start("invalid", region).await?;

    // Rejected at admission by the schema's CEL rules, with the field named.
    let manifest = |name: &str, spec: serde_json::Value| json!({"apiVersion": "net.securecart.io/v1alpha1", "kind": "VpcTier", "metadata": {"name": name, "namespace": env.namespace}, "spec": spec});
    let cases = [
        (
            json!({"region": region, "cidrBlock": "10.0.0.0/33", "availabilityZones": 1, "tiers": [{"name": "a", "type": "Public", "prefixLength": 24}]}),
            "spec.cidrBlock",
        ),
        (
            json!({"region": region, "cidrBlock": "10.0.0.1/16", "availabilityZones": 1, "tiers": [{"name": "a", "type": "Public", "prefixLength": 24}]}),
            "network address",
        ),
        (json!({"region": region, "cidrBlock": "10.0.0.0/16", "availabilityZones": 1, "tiers": []}), "tiers"),
        (
            json!({"region": region, "cidrBlock": "10.0.0.0/16", "availabilityZones": 1, "availabilityZoneNames": ["ap-northeast-1a"], "tiers": [{"name": "a", "type": "Public", "prefixLength": 24}]}),
            "exactly one of",
        ),
        (
            json!({"region": region, "cidrBlock": "10.0.0.0/16", "availabilityZones": 1, "tiers": [{"name": "a", "type": "Public", "prefixLength": 24}, {"name": "a", "type": "Isolated", "prefixLength": 24}]}),
            "unique",
        ),
        (
            json!({"region": region, "cidrBlock": "10.0.0.0/16", "availabilityZones": 1, "tiers": [{"name": "a", "type": "Public", "prefixLength": 30}]}),
            "prefixLength",
        ),
    ];
    for (i, (bad, expected)) in cases.iter().enumerate() {
        let file = securecart_e2e::log_dir().join(format!("invalid-{i}.json"));
        std::fs::write(&file, manifest(&format!("bad-{i}"), bad.clone()).to_string())?;
        let out = env.kubectl(&["apply", "-f", file.to_str().unwrap()]).await?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "case {i} was admitted");
        assert!(stderr.contains(expected), "case {i}: expected {expected:?} in {stderr}");
    }

    // Admitted, but impossible: reported as InvalidSpec naming the field, with no AWS change.
    let no_room = env
        .apply_vpc_tier(
            "no-room",
            spec(json!({"region": region, "cidrBlock": "10.0.0.0/24", "availabilityZones": 3,
                        "tiers": [{"name": "web", "type": "Public", "prefixLength": 25}]})),
        )
        .await?;
    let too_many_zones = env
        .apply_vpc_tier(
            "too-many-zones",
            spec(json!({"region": region, "cidrBlock": "10.0.0.0/16", "availabilityZones": 6,
                        "tiers": [{"name": "db", "type": "Isolated", "prefixLength": 24}]})),
        )
        .await?;
    for (name, field) in [("no-room", "spec.tiers[0] (web)"), ("too-many-zones", "spec.availabilityZones")] {
        wait_for(&format!("{name} InvalidSpec"), CONVERGE, || async {
            let o = env.vpc_tiers().get(name).await?;
            Ok(ready_condition(&o)
                .is_some_and(|c| c.status == "False" && c.reason == "InvalidSpec" && c.message.contains(field)))
        })
        .await?;
        let o = env.vpc_tiers().get(name).await?;
        let stalled = o.status.unwrap().conditions.into_iter().find(|c| c.type_ == "Stalled").unwrap();
        assert_eq!(stalled.status, "True", "kstatus sees {name} as stalled");
    }
    assert_eq!(env.mutating_calls().await?, 0, "no AWS change for invalid specs");
    for o in [&no_room, &too_many_zones] {
        assert_eq!(env.owned(o.metadata.uid.as_deref().unwrap()).await?.total(), 0);
    }
    let events = env.events("no-room").await?;
    assert!(events.iter().any(|(reason, _)| reason == "InvalidSpec"), "{events:?}");

    // cidrBlock is immutable once created.
    env.apply_vpc_tier(
        "fixed",
        spec(json!({"region": region, "cidrBlock": "10.9.0.0/16", "availabilityZones": 1,
                    "tiers": [{"name": "db", "type": "Isolated", "prefixLength": 24}]})),
    )
    .await?;
    let change = env
        .vpc_tiers()
        .patch("fixed", &PatchParams::default(), &Patch::Merge(json!({"spec": {"cidrBlock": "10.8.0.0/16"}})))
        .await;
    let err = change.expect_err("changing cidrBlock must be refused");
    assert!(err.to_string().contains("spec.cidrBlock is immutable"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_removes_everything_and_retain_keeps_everything() -> Result<()> {
    let region = "sa-east-1";
    let env = TestEnv::start("delete", region).await?;
    env.create_bucket("delete-flow-logs").await?;
    let gone = env.apply_vpc_tier("gone", spec(three_tier(region, 2, Some("delete-flow-logs")))).await?;
    let mut kept_spec = three_tier(region, 1, None);
    kept_spec["cidrBlock"] = json!("10.40.0.0/16");
    kept_spec["deletionPolicy"] = json!("Retain");
    let kept = env.apply_vpc_tier("kept", spec(kept_spec)).await?;
    env.wait_ready("gone", CONVERGE).await?;
    env.wait_ready("kept", CONVERGE).await?;
    let gone_uid = gone.metadata.uid.clone().unwrap();
    let kept_uid = kept.metadata.uid.clone().unwrap();
    let kept_before = env.owned(&kept_uid).await?.total();
    assert!(env.owned(&gone_uid).await?.total() >= 15);

    env.delete_vpc_tier("gone").await?;
    env.delete_vpc_tier("kept").await?;
    env.wait_gone("gone", CONVERGE).await?;
    env.wait_gone("kept", CONVERGE).await?;

    let left = env.owned(&gone_uid).await?;
    assert_eq!(left.total(), 0, "nothing tagged left behind: {left:?}");
    assert_eq!(env.owned(&kept_uid).await?.total(), kept_before, "Retain leaves AWS untouched");
    Ok(())
}
