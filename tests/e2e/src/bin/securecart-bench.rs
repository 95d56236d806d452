//! `make bench`: convergence time, AWS call economy, memory and scale, against a local control
//! plane and the AWS emulator (started by tests/run-bench.sh). Writes bench/report.json and
//! bench/report.md. Figures are measured, never asserted: goals that are missed are reported.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, ResourceExt};
use securecart_api::{PrivateEndpoint, VpcTier};
use securecart_e2e::{Result, TestEnv, condition, create_emulator_bucket, spec, wait_for};
use securecart_plan::Owner;
use securecart_plan::endpoint::{self, TierSubnet, VpcTierView};
use securecart_plan::network::{self, DefaultRoute, Observed};
use securecart_plan::vpc_tier::{self, Zone};
use securecart_plan::{Context, InUse, Known};
use serde::Serialize;
use serde_json::json;

const RESYNC_SECONDS: u64 = 10;

#[derive(Default, Clone)]
struct Calls(BTreeMap<(String, String, bool), u64>, BTreeMap<String, u64>);

impl Calls {
    /// AWS calls by (service, operation, mutating), and by outcome, from the controller's metrics.
    fn parse(text: &str) -> Self {
        let mut calls = Calls::default();
        for line in text.lines().filter(|l| l.starts_with("securecart_aws_api_calls_total{")) {
            let label = |k: &str| {
                line.split(&format!("{k}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string()
            };
            let value: u64 = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) as u64;
            *calls.0.entry((label("service"), label("operation"), label("mutating") == "true")).or_default() += value;
            *calls.1.entry(label("outcome")).or_default() += value;
        }
        calls
    }
    fn since(&self, before: &Calls) -> Calls {
        fn sub<K: Ord + Clone>(a: &BTreeMap<K, u64>, b: &BTreeMap<K, u64>) -> BTreeMap<K, u64> {
            a.iter().map(|(k, v)| (k.clone(), v - b.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
        }
        Calls(sub(&self.0, &before.0), sub(&self.1, &before.1))
    }
    fn mutating(&self) -> u64 {
        self.0.iter().filter(|((_, _, m), _)| *m).map(|(_, v)| v).sum()
    }
    fn reads(&self) -> u64 {
        self.0.iter().filter(|((_, _, m), _)| !*m).map(|(_, v)| v).sum()
    }
}

#[derive(Serialize, Default)]
struct Latency {
    p50_seconds: f64,
    p95_seconds: f64,
    max_seconds: f64,
    batch_seconds: f64,
}

fn latency(mut samples: Vec<f64>, batch: f64) -> Option<Latency> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Some(Latency { p50_seconds: at(0.5), p95_seconds: at(0.95), max_seconds: at(1.0), batch_seconds: batch })
}

#[derive(Serialize, Default)]
struct ProcessFigures {
    rss_mib: f64,
    peak_rss_mib: f64,
    cpu_seconds: f64,
}

fn process(pid: Option<u32>) -> ProcessFigures {
    let Some(pid) = pid else { return ProcessFigures::default() };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ProcessFigures {
        rss_mib: kib("VmRSS:") / 1024.0,
        peak_rss_mib: kib("VmHWM:") / 1024.0,
        cpu_seconds: (ticks(11) + ticks(12)) / 100.0,
    }
}

#[derive(Serialize, Default)]
struct Scenario {
    name: String,
    objects: usize,
    ready: usize,
    seconds: f64,
    time_to_ready: Option<Latency>,
    mutating_calls: u64,
    read_calls: u64,
    minimum_mutating_calls: Option<u64>,
    mutating_to_minimum: Option<f64>,
    throttled_by_aws: u64,
    calls_by_operation: Vec<(String, String, bool, u64)>,
    process: ProcessFigures,
    notes: Vec<String>,
}

impl Scenario {
    fn record_calls(&mut self, calls: &Calls) {
        self.mutating_calls = calls.mutating();
        self.read_calls = calls.reads();
        self.throttled_by_aws = calls.1.get("throttled").copied().unwrap_or(0);
        self.calls_by_operation = calls.0.iter().map(|((s, o, m), v)| (s.clone(), o.clone(), *m, *v)).collect();
        if let Some(min) = self.minimum_mutating_calls {
            self.mutating_to_minimum = Some(self.mutating_calls as f64 / min.max(1) as f64);
        }
    }
}

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
    let cx = Context { owner: &owner, known: &Known::new(), in_use: &InUse::new() };
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
    endpoint::desired(&pe.spec, &owner, &view)
        .map(|d| endpoint::plan(Some(&d), &owner, &endpoint::Observed::default()).steps.len() as u64)
        .unwrap_or(0)
}

fn is_ready<K: serde::Serialize + kube::Resource>(o: &K) -> bool {
    condition(o, "Ready").is_some_and(|c| c.status == "True" && c.observed_generation == o.meta().generation)
}

/// Polls until every named object is Ready or `limit` passes; returns seconds to Ready per object.
async fn ready_times(
    env: &TestEnv,
    namespace: &str,
    applied: &HashMap<String, Instant>,
    limit: Duration,
) -> Result<Vec<f64>> {
    let vpc_tiers: Api<VpcTier> = Api::namespaced(env.client.clone(), namespace);
    let endpoints: Api<PrivateEndpoint> = Api::namespaced(env.client.clone(), namespace);
    let deadline = Instant::now() + limit;
    let mut done: HashMap<String, f64> = HashMap::new();
    while done.len() < applied.len() && Instant::now() < deadline {
        let mut ready: Vec<String> = vpc_tiers
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .filter(|o| is_ready(*o))
            .map(|o| format!("VpcTier/{}", o.name_any()))
            .collect();
        ready.extend(
            endpoints
                .list(&ListParams::default())
                .await?
                .items
                .iter()
                .filter(|o| is_ready(*o))
                .map(|o| format!("PrivateEndpoint/{}", o.name_any())),
        );
        for key in ready {
            if let Some(at) = applied.get(&key) {
                done.entry(key).or_insert_with(|| at.elapsed().as_secs_f64());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(done.into_values().collect())
}

async fn namespace(env: &TestEnv, name: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(env.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}}))?;
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
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
    s.process = process(env.controller_pid());
    if s.ready < count {
        s.notes.push(format!("only {} of {count} objects were Ready within {}s", s.ready, limit.as_secs()));
    }
    Ok(s)
}

#[tokio::main]
async fn main() -> Result<()> {
    let root = PathBuf::from(std::env::var("SECURECART_ROOT").unwrap_or_else(|_| ".".into()));
    let large: usize = std::env::var("BENCH_LARGE").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let large_limit =
        Duration::from_secs(std::env::var("BENCH_LARGE_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(480));
    let rate_scale = std::env::var("BENCH_RATE_SCALE").unwrap_or_else(|_| "0".into());
    let args = vec![
        "--resync-seconds".to_string(),
        RESYNC_SECONDS.to_string(),
        "--progress-seconds".into(),
        "2".into(),
        "--concurrency".into(),
        "16".into(),
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
    let mut scenarios = Vec::new();
    let mut notes = vec![
        format!(
            "controller: the debug build of this checkout, --concurrency 16, --resync-seconds {RESYNC_SECONDS}, --aws-rate-scale {rate_scale}"
        ),
        "AWS: moto in server mode on loopback; Kubernetes: kube-apiserver 1.35.4 with etcd 3.6.5 on loopback".into(),
        "example set: the VpcTier and PrivateEndpoint examples (the LoadBalancerPolicy ones need a hosted zone and a certificate that only `make demo` creates)".into(),
    ];

    // 1. The example set, as `make demo` applies it.
    eprintln!("bench: example set");
    create_emulator_bucket("shop-flow-logs").await?;
    let before = Calls::parse(&env.metrics().await?);
    let started = Instant::now();
    // The VpcTier and PrivateEndpoint examples: the LoadBalancerPolicy ones need a hosted zone
    // and a certificate that only examples/demo.sh makes.
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

    // 2. 100 VpcTiers (2 zones x 2 tiers).
    eprintln!("bench: 100 VpcTiers");
    scenarios.push(storm(&env, "100 VpcTiers", "bench-100", 100, Duration::from_secs(300), &zones).await?);

    // 3. Steady state over three resync periods: zero mutating calls expected.
    eprintln!("bench: steady state");
    let objects = scenarios.iter().map(|s| s.ready).sum::<usize>();
    let before = Calls::parse(&env.metrics().await?);
    let cpu_before = process(env.controller_pid()).cpu_seconds;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3 * RESYNC_SECONDS + 2)).await;
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
        .push(format!("read calls per object per resync: {:.1}", calls.reads() as f64 / objects.max(1) as f64 / 3.0));
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

    // 5. The large storm.
    eprintln!("bench: {large} VpcTiers");
    scenarios.push(storm(&env, &format!("{large} VpcTiers"), "bench-large", large, large_limit, &zones).await?);

    // 6. Deletion storm of every bench VpcTier.
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
            left += Api::<VpcTier>::namespaced(env.client.clone(), ns).list(&ListParams::default()).await?.items.len();
        }
        Ok(left == 0)
    })
    .await;
    let mut s = Scenario {
        name: "deletion storm".into(),
        objects: count,
        ready: count,
        seconds: started.elapsed().as_secs_f64(),
        ..Default::default()
    };
    s.record_calls(&Calls::parse(&env.metrics().await?).since(&before));
    s.process = process(env.controller_pid());
    if let Err(e) = gone {
        s.notes.push(format!("not every object was gone in time: {e}"));
    }
    scenarios.push(s);
    notes.push(format!("finished at {}", k8s_openapi::jiff::Timestamp::now()));

    write_report(&root, &scenarios, &notes)?;
    Ok(())
}

fn write_report(root: &std::path::Path, scenarios: &[Scenario], notes: &[String]) -> Result<()> {
    let dir = root.join("bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&json!({"notes": notes, "scenarios": scenarios}))?,
    )?;
    let mut md = String::from("# securecart-operator benchmark\n\n");
    for n in notes {
        md.push_str(&format!("- {n}\n"));
    }
    md.push_str("\n| scenario | objects | Ready | batch s | p50 s | p95 s | max s | mutating | minimum | ratio | reads | AWS throttled | RSS MiB | peak RSS MiB | CPU s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for s in scenarios {
        let l = s.time_to_ready.as_ref();
        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
        md.push_str(&format!(
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} |\n",
            s.name,
            s.objects,
            s.ready,
            s.seconds,
            f(l.map(|l| l.p50_seconds)),
            f(l.map(|l| l.p95_seconds)),
            f(l.map(|l| l.max_seconds)),
            s.mutating_calls,
            s.minimum_mutating_calls.map_or("-".into(), |m| m.to_string()),
            f(s.mutating_to_minimum),
            s.read_calls,
            s.throttled_by_aws,
            s.process.rss_mib,
            s.process.peak_rss_mib,
            s.process.cpu_seconds,
        ));
    }
    for s in scenarios.iter().filter(|s| !s.notes.is_empty()) {
        md.push_str(&format!("\n**{}**: {}\n", s.name, s.notes.join("; ")));
    }
    md.push_str(
        "\n## AWS calls by operation\n\n| scenario | service | operation | mutating | calls |\n|---|---|---|---|---|\n",
    );
    for s in scenarios {
        for (service, op, m, v) in &s.calls_by_operation {
            md.push_str(&format!("| {} | {service} | {op} | {m} | {v} |\n", s.name));
        }
    }
    std::fs::write(dir.join("report.md"), md)?;
    eprintln!("bench: wrote {}", dir.join("report.md").display());
    Ok(())
}
