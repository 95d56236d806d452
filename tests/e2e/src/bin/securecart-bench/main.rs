//! `make bench`: convergence time, AWS call economy, memory and scale, against a local control
//! plane and the AWS emulator (started by tests/run-bench.sh). Writes bench/report.json and
//! bench/report.md. Figures are measured, never asserted: goals that are missed are reported.
//! Every storm is measured beside its floor: the same calls issued straight through the SDK, in
//! the same run, against the same emulator (floor.rs).

mod floor;
mod measure;
mod report;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, ResourceExt};
use securecart_api::{LoadBalancerPolicy, PrivateEndpoint, VpcTier};
use securecart_e2e::{Result, TestEnv, spec, wait_for};
use securecart_plan::Owner;
use securecart_plan::network::{self, DefaultRoute, Observed};
use securecart_plan::private_endpoint::{self, TierSubnet, VpcTierView};
use securecart_plan::vpc_tier::{self, Zone};
use securecart_plan::{Context, InUse, Known};
use serde_json::json;

use measure::{Calls, Scenario, latency, namespace, process, ready_times};

const RESYNC_SECONDS: u64 = 10;
/// Reconciles at once in the controller, and objects at once in the floor.
const CONCURRENCY: usize = 16;
/// Where the floors run: another region of the same emulator, so neither sees the other's
/// resources.
const FLOOR_REGION: &str = "us-west-2";

fn bench_owner() -> Owner {
    Owner { kind: "VpcTier".into(), namespace: "bench".into(), name: "bench".into(), uid: "bench".into() }
}

/// The fewest mutating calls that create a VpcTier: every step of the plan from nothing, plus
/// the NAT routes that wait for their gateways.
fn minimum_vpc_tier(spec: &securecart_api::VpcTierSpec, zones: &[String]) -> u64 {
    let owner = bench_owner();
    let region: Vec<Zone> = zones.iter().map(|z| Zone::new(z, "available")).collect();
    let Ok(zones) = vpc_tier::resolve_zones(spec, &region, &[]) else { return 0 };
    let Ok(desired) = vpc_tier::desired(spec, &owner, zones, &Observed::default()) else { return 0 };
    let cx = Context { owner: &owner, known: &Known::new(), in_use: &InUse::new(), chosen: None };
    let plan = network::plan(Some(&desired), &cx, &Observed::default());
    let nat_routes =
        desired.route_tables.iter().filter(|t| matches!(t.default_route, Some(DefaultRoute::NatGateway(_)))).count();
    (plan.steps.len() + nat_routes) as u64
}

/// The fewest mutating calls that create an endpoint in its (Ready) VpcTier.
fn minimum_endpoint(pe: &PrivateEndpoint, vt: &VpcTier) -> u64 {
    let Some(status) = vt.status.as_ref() else { return 0 };
    let view = VpcTierView {
        name: vt.name_any(),
        region: vt.spec.region.clone(),
        vpc_id: status.vpc_id.clone().unwrap_or_default(),
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
    };
    let owner = bench_owner();
    let cx = Context { owner: &owner, known: &Known::new(), in_use: &InUse::new(), chosen: None };
    private_endpoint::desired(&pe.spec, &owner, &view)
        .map(|d| private_endpoint::plan(Some(&d), &cx, &private_endpoint::Observed::default()).steps.len() as u64)
        .unwrap_or(0)
}

fn small_vpc_tier(region: &str, i: usize) -> serde_json::Value {
    json!({
        "region": region, "cidrBlock": format!("10.{}.{}.0/24", i / 256 % 256, i % 256), "availabilityZones": 2,
        "tiers": [{"name": "public", "type": "Public", "prefixLength": 26}, {"name": "database", "type": "Isolated", "prefixLength": 26}],
    })
}

/// Applies `count` small VpcTiers into `ns` and measures them to Ready.
async fn storm(
    env: &TestEnv,
    name: &str,
    ns: &str,
    count: usize,
    limit: Duration,
    zones: &[String],
) -> Result<Scenario> {
    namespace(env, ns).await?;
    let api: Api<VpcTier> = Api::namespaced(env.client.clone(), ns);
    let before = Calls::parse(&env.metrics().await?);
    let started = Instant::now();
    let mut applied = HashMap::new();
    let mut minimum = 0;
    for chunk in (0..count).collect::<Vec<_>>().chunks(25) {
        let posts = chunk.iter().map(|i| {
            let obj = VpcTier::new(&format!("vt-{i:04}"), spec(small_vpc_tier(&env.region, *i)));
            let api = api.clone();
            async move { api.create(&PostParams::default(), &obj).await }
        });
        for (i, result) in chunk.iter().zip(futures::future::join_all(posts).await) {
            result.with_context(|| format!("creating vt-{i:04}"))?;
            applied.insert(format!("VpcTier/vt-{i:04}"), Instant::now());
            minimum += minimum_vpc_tier(&spec(small_vpc_tier(&env.region, *i)), zones);
        }
    }
    let times = ready_times(env, ns, &applied, limit).await?;
    let batch = started.elapsed().as_secs_f64();
    let mut s = Scenario {
        name: name.into(),
        objects: count,
        ready: times.len(),
        seconds: batch,
        minimum_mutating_calls: Some(minimum),
        ..Default::default()
    };
    s.time_to_ready = latency(times, batch);
    s.record_calls(&Calls::parse(&env.metrics().await?).since(&before));
    eprintln!("bench: {name}: {} of {count} Ready in {batch:.1}s", s.ready);
    s.process = process(env.controller_pid());
    if s.ready < count {
        s.notes.push(format!("only {} of {count} objects were Ready within {}s", s.ready, limit.as_secs()));
    }
    Ok(s)
}

/// The network the policy storm's load balancers go in: a VpcTier with one Public tier.
fn lb_network(region: &str) -> serde_json::Value {
    json!({
        "region": region, "cidrBlock": "10.250.0.0/16", "availabilityZones": 2, "natGateways": "None",
        "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}],
    })
}

/// One policy of the storm: an internet-facing ALB with one target group and listener, a
/// Route 53 health check and an alias record, as the floor makes them.
fn small_policy(zone: &str, i: usize) -> serde_json::Value {
    json!({
        "vpcTierRef": {"name": "lb-net"}, "type": "Application", "scheme": "internet-facing", "tier": "public",
        "allowedCidrs": ["0.0.0.0/0"],
        "targetGroups": [{"name": "web", "protocol": "HTTP", "port": 8080, "targetType": "ip"}],
        "listeners": [{"port": 80, "protocol": "HTTP", "defaultTargetGroup": "web"}],
        "dns": {"hostedZoneName": zone, "name": format!("p-{i:03}.{zone}"),
                "healthCheck": {"protocol": "HTTP", "path": "/healthz", "port": 80}},
    })
}

/// A VPC with two public subnets made straight through the SDK (untimed): where the policy
/// floor's load balancers go.
async fn floor_network(zones: &[String]) -> Result<(String, Vec<String>)> {
    let ec2 = aws_sdk_ec2::Client::new(&securecart_e2e::aws_config(FLOOR_REGION).await);
    let vpc = ec2.create_vpc().cidr_block("10.251.0.0/16").send().await?;
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
    let igw = ec2.create_internet_gateway().send().await?;
    let igw = igw.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string();
    ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await?;
    let mut subnets = Vec::new();
    for (n, zone) in zones.iter().take(2).enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.251.{n}.0/24"))
            .availability_zone(zone)
            .send()
            .await?;
        subnets.push(s.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string());
    }
    Ok((vpc, subnets))
}

/// The policy storm: `count` LoadBalancerPolicies in one VpcTier, then their steady state; then
/// half of them deleted and the steady state of the rest, so the calls per policy are compared
/// at two sizes.
async fn policy_storm(env: &TestEnv, count: usize, zones: &[String]) -> Result<Vec<Scenario>> {
    let ns = "bench-lbp";
    namespace(env, ns).await?;
    // The floor runs in the emulator's default account (as `floor_network`), its zone too.
    let floor_zone = "floor-lb.example.com";
    let route53 = aws_sdk_route53::Client::new(&securecart_e2e::aws_config("us-east-1").await);
    let created = route53.create_hosted_zone().name(floor_zone).caller_reference(floor_zone).send().await?;
    let floor_zone_id = created.hosted_zone().map(|z| z.id().trim_start_matches("/hostedzone/").to_string());
    let floor_zone_id = floor_zone_id.context("CreateHostedZone returned no zone")?;
    let (vpc, subnets) = floor_network(zones).await?;
    eprintln!("bench: {count} LoadBalancerPolicies, floor");
    let floor =
        floor::load_balancers(FLOOR_REGION, count, CONCURRENCY, &vpc, &subnets, (&floor_zone_id, floor_zone)).await?;

    let zone = "bench-lb.example.com";
    env.load_balancing_clients(&env.region).await.create_hosted_zone(zone).await?;
    let vts: Api<VpcTier> = Api::namespaced(env.client.clone(), ns);
    vts.create(&PostParams::default(), &VpcTier::new("lb-net", spec(lb_network(&env.region)))).await?;
    let net = HashMap::from([("VpcTier/lb-net".to_string(), Instant::now())]);
    ready_times(env, ns, &net, Duration::from_secs(120)).await?;

    eprintln!("bench: {count} LoadBalancerPolicies");
    let api: Api<LoadBalancerPolicy> = Api::namespaced(env.client.clone(), ns);
    let before = Calls::parse(&env.metrics().await?);
    let started = Instant::now();
    let mut applied = HashMap::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(25) {
        let posts = chunk.iter().map(|i| {
            let obj: LoadBalancerPolicy = serde_json::from_value(json!({
                "apiVersion": "net.securecart.io/v1alpha1", "kind": "LoadBalancerPolicy",
                "metadata": {"name": format!("p-{i:03}")}, "spec": small_policy(zone, *i),
            }))
            .expect("a valid policy");
            let api = api.clone();
            async move { api.create(&PostParams::default(), &obj).await }
        });
        for (i, result) in chunk.iter().zip(futures::future::join_all(posts).await) {
            result.with_context(|| format!("creating p-{i:03}"))?;
            applied.insert(format!("LoadBalancerPolicy/p-{i:03}"), Instant::now());
        }
    }
    let times = ready_times(env, ns, &applied, Duration::from_secs(600)).await?;
    let batch = started.elapsed().as_secs_f64();
    let mut s = Scenario {
        name: format!("{count} LoadBalancerPolicies"),
        objects: count,
        ready: times.len(),
        seconds: batch,
        minimum_mutating_calls: Some(floor.calls),
        ..Default::default()
    };
    s.time_to_ready = latency(times, batch);
    s.record_calls(&Calls::parse(&env.metrics().await?).since(&before));
    s.process = process(env.controller_pid());
    s.compare(floor);
    eprintln!("bench: policies: {} of {count} Ready in {batch:.1}s", s.ready);

    // Steady state at two sizes: the Route 53 and ELBv2 calls of one policy's reconcile must not
    // grow with the number of policies. Per reconcile, not per resync: when the reconciles queue
    // (a busy machine), fewer happen in the window, which says nothing about their cost.
    let steady = policy_steady(env, count).await?;
    let half = count / 2;
    let deleted: Vec<String> = (half..count).map(|i| format!("p-{i:03}")).collect();
    for name in &deleted {
        api.delete(name, &DeleteParams::default()).await?;
    }
    wait_for("half the policies deleted", Duration::from_secs(600), || async {
        Ok(api.list(&ListParams::default()).await?.items.len() == half)
    })
    .await?;
    let smaller = policy_steady(env, half).await?;

    // The rest go too: left in place, their checks (every 10 s here) would share the emulator
    // with the large storm, whose floor runs without them.
    let before = Calls::parse(&env.metrics().await?);
    let started = Instant::now();
    api.delete_collection(&DeleteParams::default(), &ListParams::default()).await?;
    let gone = wait_for("every policy deleted", Duration::from_secs(600), || async {
        Ok(api.list_metadata(&ListParams::default()).await?.items.is_empty())
    })
    .await;
    let deletion = deletion(env, format!("{half} LoadBalancerPolicies deleted"), half, &before, started, gone).await?;
    Ok(vec![s, steady, smaller, deletion])
}

/// A deletion of `count` objects begun at `started`: how long until `gone` said they were, and
/// the calls since `before`.
async fn deletion(
    env: &TestEnv,
    name: String,
    count: usize,
    before: &Calls,
    started: Instant,
    gone: Result<()>,
) -> Result<Scenario> {
    let mut s =
        Scenario { name, objects: count, ready: count, seconds: started.elapsed().as_secs_f64(), ..Default::default() };
    s.record_calls(&Calls::parse(&env.metrics().await?).since(before));
    s.process = process(env.controller_pid());
    if let Err(e) = gone {
        s.notes.push(format!("not everything was gone in time: {e}"));
    }
    Ok(s)
}

/// Sleeps until halfway between two rounds of drift checks (the controller times converged
/// objects' checks at multiples of the resync period since the epoch), so a window of whole
/// periods that starts now holds exactly one round per period, whatever moment the scenario
/// before it ended.
async fn until_mid_period() {
    let period = Duration::from_secs(RESYNC_SECONDS).as_millis();
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    let wait = (period + period / 2 - since_epoch % period) % period;
    tokio::time::sleep(Duration::from_millis(wait as u64)).await;
}

/// `count` converged policies over three resync periods: calls per policy reconcile and per
/// policy per resync, by service.
async fn policy_steady(env: &TestEnv, count: usize) -> Result<Scenario> {
    let policy_reconciles =
        |text: &str| securecart_e2e::sum_metric(text, "securecart_reconciles_total", &[("kind", "LoadBalancerPolicy")]);
    // One period first: what the storm or the deletions left queued is done before the window.
    tokio::time::sleep(Duration::from_secs(RESYNC_SECONDS)).await;
    until_mid_period().await;
    let text = env.metrics().await?;
    let (before, reconciles_before) = (Calls::parse(&text), policy_reconciles(&text));
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(3 * RESYNC_SECONDS)).await;
    let text = env.metrics().await?;
    let calls = Calls::parse(&text).since(&before);
    let reconciles = policy_reconciles(&text) - reconciles_before;
    let of =
        |service: &str| calls.0.iter().filter(|((svc, _, _), _)| svc == service).map(|(_, v)| v).sum::<u64>() as f64;
    let mut steady = Scenario {
        name: format!("{count} LoadBalancerPolicies, steady state, 3 resync periods"),
        objects: count,
        ready: count,
        seconds: window.elapsed().as_secs_f64(),
        ..Default::default()
    };
    steady.record_calls(&calls);
    steady.process = process(env.controller_pid());
    steady.notes.push(format!("policy reconciles in the window: {reconciles}"));
    for (service, label) in [("route53", "Route 53"), ("elasticloadbalancing", "ELBv2")] {
        steady.notes.push(format!("{label} calls per policy reconcile: {:.2}", of(service) / reconciles.max(1) as f64));
        steady
            .notes
            .push(format!("{label} calls per policy per resync: {:.2}", of(service) / count.max(1) as f64 / 3.0));
    }
    Ok(steady)
}

#[tokio::main]
async fn main() -> Result<()> {
    let root = PathBuf::from(std::env::var("SECURECART_ROOT").unwrap_or_else(|_| ".".into()));
    let large: usize = std::env::var("BENCH_LARGE").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let policies: usize = std::env::var("BENCH_POLICIES").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let large_limit =
        Duration::from_secs(std::env::var("BENCH_LARGE_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(480));
    let rate_scale = std::env::var("BENCH_RATE_SCALE").unwrap_or_else(|_| "0".into());
    let build = std::env::var("BENCH_BUILD").unwrap_or_else(|_| "release".into());
    let args = vec![
        "--resync-seconds".to_string(),
        RESYNC_SECONDS.to_string(),
        "--progress-seconds".into(),
        "2".into(),
        "--concurrency".into(),
        CONCURRENCY.to_string(),
        "--aws-rate-scale".into(),
        rate_scale.clone(),
    ];
    let mut env = TestEnv::start_with("bench", "us-east-1", Some(args), true).await?;
    let zones = {
        let out = env.ec2.describe_availability_zones().send().await?;
        let mut z: Vec<String> =
            out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect();
        z.sort();
        z
    };
    let floor_zones = {
        let ec2 = aws_sdk_ec2::Client::new(&securecart_e2e::aws_config(FLOOR_REGION).await);
        let out = ec2.describe_availability_zones().send().await?;
        let mut z: Vec<String> =
            out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect();
        z.sort();
        z
    };
    let mut scenarios = Vec::new();
    let mut notes = vec![
        format!(
            "controller: the {} of this checkout, --concurrency {CONCURRENCY}, --resync-seconds {RESYNC_SECONDS}, --aws-rate-scale {rate_scale}",
            if build == "release" { "static (musl) release build, as in the image" } else { "debug build" }
        ),
        "AWS: moto in server mode on loopback; Kubernetes: kube-apiserver 1.35.4 with etcd 3.6.5 on loopback".into(),
        format!("floor: the same mutating calls issued straight through the AWS SDK, {CONCURRENCY} objects at a time, each object's calls in dependency order, in region {FLOOR_REGION} of the same emulator"),
        "example set: the VpcTier and PrivateEndpoint examples (the LoadBalancerPolicy ones need a hosted zone and a certificate that only `make demo` creates)".into(),
    ];

    // 1. The example set, as `make demo` applies it.
    eprintln!("bench: example set");
    env.create_bucket("shop-flow-logs").await?;
    let before = Calls::parse(&env.metrics().await?);
    let started = Instant::now();
    let mut files: Vec<String> = std::fs::read_dir(root.join("examples"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("00-") || name.starts_with("vpctier-") || name.starts_with("privateendpoint-")
        })
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    for file in &files {
        let out = env.kubectl(&["apply", "--server-side", "-f", file]).await?;
        anyhow::ensure!(out.status.success(), "kubectl apply {file}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut applied = HashMap::new();
    let vts: Api<VpcTier> = Api::namespaced(env.client.clone(), "platform");
    let pes: Api<PrivateEndpoint> = Api::namespaced(env.client.clone(), "platform");
    for o in vts.list(&ListParams::default()).await?.items {
        applied.insert(format!("VpcTier/{}", o.name_any()), started);
    }
    for o in pes.list(&ListParams::default()).await?.items {
        applied.insert(format!("PrivateEndpoint/{}", o.name_any()), started);
    }
    let times = ready_times(&env, "platform", &applied, Duration::from_secs(180)).await?;
    let batch = started.elapsed().as_secs_f64();
    let vt_list = vts.list(&ListParams::default()).await?.items;
    let mut minimum: u64 = vt_list.iter().map(|v| minimum_vpc_tier(&v.spec, &zones)).sum();
    for pe in pes.list(&ListParams::default()).await?.items {
        if let Some(vt) = vt_list.iter().find(|v| v.name_any() == pe.spec.vpc_tier_ref.name) {
            minimum += minimum_endpoint(&pe, vt);
        }
    }
    let mut s = Scenario {
        name: "example set".into(),
        objects: applied.len(),
        ready: times.len(),
        seconds: batch,
        minimum_mutating_calls: Some(minimum),
        ..Default::default()
    };
    s.time_to_ready = latency(times, batch);
    s.record_calls(&Calls::parse(&env.metrics().await?).since(&before));
    s.process = process(env.controller_pid());
    scenarios.push(s);

    // 2. 100 VpcTiers (2 zones x 2 tiers), beside their floor.
    eprintln!("bench: 100 VpcTiers, floor");
    let floor = floor::vpc_tiers(FLOOR_REGION, 100, CONCURRENCY, &floor_zones).await?;
    eprintln!("bench: floor: {} calls in {:.1}s", floor.calls, floor.seconds);
    let mut s = storm(&env, "100 VpcTiers", "bench-100", 100, Duration::from_secs(300), &zones).await?;
    s.compare(floor);
    scenarios.push(s);

    // 3. Steady state over three resync periods: zero mutating calls expected.
    eprintln!("bench: steady state");
    let objects = scenarios.iter().map(|s| s.ready).sum::<usize>();
    until_mid_period().await;
    let before = Calls::parse(&env.metrics().await?);
    let cpu_before = process(env.controller_pid()).cpu_seconds;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3 * RESYNC_SECONDS)).await;
    let calls = Calls::parse(&env.metrics().await?).since(&before);
    let mut s = Scenario {
        name: format!("steady state, {} resync periods", 3),
        objects,
        ready: objects,
        seconds: started.elapsed().as_secs_f64(),
        ..Default::default()
    };
    s.record_calls(&calls);
    s.process = process(env.controller_pid());
    s.notes
        .push(format!("read calls per object per resync: {:.2}", calls.reads() as f64 / objects.max(1) as f64 / 3.0));
    s.notes.push(format!("CPU seconds in the window: {:.2}", s.process.cpu_seconds - cpu_before));
    scenarios.push(s);

    // 4. Restart with everything converged: back in steady state, with no mutating call.
    eprintln!("bench: restart");
    env.kill_controller().await?;
    let started = Instant::now();
    env.start_controller().await?;
    let before = Calls::default();
    let reconciles_needed = objects as u64;
    wait_for("every object reconciled after restart", Duration::from_secs(300), || async {
        Ok(env.reconciles().await? >= reconciles_needed)
    })
    .await?;
    let mut s = Scenario {
        name: "restart, everything converged".into(),
        objects,
        ready: objects,
        seconds: started.elapsed().as_secs_f64(),
        ..Default::default()
    };
    s.record_calls(&Calls::parse(&env.metrics().await?).since(&before));
    s.process = process(env.controller_pid());
    s.notes.push(format!("{:.1}s from process start until every object was reconciled once", s.seconds));
    scenarios.push(s);

    // 5. The policy storm, beside its floor, and its steady state.
    scenarios.extend(policy_storm(&env, policies, &floor_zones).await?);

    // 6. The large storm, beside its floor.
    eprintln!("bench: {large} VpcTiers, floor");
    let floor = floor::vpc_tiers(FLOOR_REGION, large, CONCURRENCY, &floor_zones).await;
    eprintln!("bench: {large} VpcTiers");
    let mut s = storm(&env, &format!("{large} VpcTiers"), "bench-large", large, large_limit, &zones).await?;
    match floor {
        Ok(floor) => s.compare(floor),
        Err(e) => s.notes.push(format!("the floor run failed: {e}")),
    }
    scenarios.push(s);

    // 7. Deletion storm of every bench VpcTier.
    eprintln!("bench: deletion storm");
    let before = Calls::parse(&env.metrics().await?);
    let started = Instant::now();
    let mut count = 0;
    for ns in ["bench-100", "bench-large"] {
        let api: Api<VpcTier> = Api::namespaced(env.client.clone(), ns);
        count += api.list(&ListParams::default()).await?.items.len();
        api.delete_collection(&DeleteParams::default(), &ListParams::default()).await?;
    }
    let gone = wait_for("every bench VpcTier deleted", large_limit, || async {
        let mut left = 0;
        for ns in ["bench-100", "bench-large"] {
            // Metadata only: the objects' status is not what is counted.
            left += Api::<VpcTier>::namespaced(env.client.clone(), ns)
                .list_metadata(&ListParams::default())
                .await?
                .items
                .len();
        }
        Ok(left == 0)
    })
    .await;
    scenarios.push(deletion(&env, "deletion storm".into(), count, &before, started, gone).await?);
    notes.push(format!("finished at {}", k8s_openapi::jiff::Timestamp::now()));

    report::write_report(&root, &scenarios, &notes)?;
    Ok(())
}
