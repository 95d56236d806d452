//! `make chaos`: T trials of the example set under faults. Each trial starts from an empty
//! emulator (moto's reset) and a fresh controller whose AWS calls go through the fault proxy
//! (tests/faults/), applies examples/, SIGKILLs the controller K times at random moments while
//! the objects are being created (restarting it each time), waits for Ready (bounded), counts
//! every resource straight from the emulator against what each object should hold (duplicates),
//! deletes everything with the faults still on, waits for the objects to go (bounded) and counts
//! what is left (leaks). Writes chaos/report.json and chaos/report.md; with --assert it fails
//! unless every trial converged with no duplicate and no leak.

mod expected;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ListParams, PostParams};
use kube::{Api, ResourceExt};
use securecart_api::{
    GlobalEntrypoint, LoadBalancerPolicy, PartnerApi, PrivateEndpoint, TransitGateway, VpcPeering, VpcTier,
};
use securecart_e2e::faults::FaultProxy;
use securecart_e2e::faults::census::{Census, named_owner};
use securecart_e2e::{Result, TestEnv, condition, env};
use serde_json::json;

use report::{Duplicate, Trial};

const REGION: &str = "us-east-1";

#[derive(Parser, Clone, Debug, serde::Serialize)]
#[command(about = "Trials of the example set under AWS faults and controller crashes")]
pub struct Args {
    /// Trials, each on an empty emulator with a fresh controller.
    #[arg(long, default_value_t = 50)]
    trials: usize,
    /// SIGKILLs of the controller per trial, at random moments before everything is Ready.
    #[arg(long, default_value_t = 5)]
    kills: usize,
    /// Share of requests failed before they reach the emulator (40% throttling, 20% HTTP 500,
    /// 20% HTTP 503, 20% connection reset).
    #[arg(long, default_value_t = 0.15)]
    fail_rate: f64,
    /// Share of mutating requests whose response is lost after the emulator applied them.
    #[arg(long, default_value_t = 0.10)]
    lost_rate: f64,
    /// Seconds for which IDs returned by EC2 and Route 53 creates are hidden from reads.
    #[arg(long, default_value_t = 0.0)]
    ec_seconds: f64,
    /// Share of requests delayed by 50-500 ms.
    #[arg(long, default_value_t = 0.0)]
    latency_rate: f64,
    /// More fault configuration (tests/faults/fault_state.py's JSON); its top-level keys replace
    /// those the flags above set, e.g. '{"operations": {"route53:CreateHealthCheck": {"lost": 0.5}}}'.
    #[arg(long)]
    faults_json: Option<String>,
    /// Trial t uses seed + t, for its faults and its kill moments.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Kills come 0.2 s to this many seconds apart.
    #[arg(long, default_value_t = 2.0)]
    max_kill_gap_seconds: f64,
    /// A trial not Ready this long after its objects were applied has not converged.
    #[arg(long, default_value_t = 600)]
    converge_seconds: u64,
    /// Bound on deletion: objects not gone after this long are reported.
    #[arg(long, default_value_t = 300)]
    delete_seconds: u64,
    /// Where report.json and report.md go (relative to the repository root).
    #[arg(long, default_value = "chaos")]
    report_dir: PathBuf,
    /// Exit non-zero unless every trial converged with no duplicate and no leak.
    #[arg(long)]
    assert: bool,
    /// "k/N": run only trials k, k+N, k+2N, ... on this process's own environment, and write
    /// the report to report-dir/lane-k (tests/run-chaos.sh starts N lanes side by side).
    #[arg(long)]
    lane: Option<String>,
    /// Merge the lane reports found in report-dir/lane-*/ into one report in report-dir.
    #[arg(long)]
    merge_lanes: bool,
}

/// The lane's index and the number of lanes, from "k/N".
fn lane(args: &Args) -> Result<(usize, usize)> {
    let Some(lane) = &args.lane else { return Ok((0, 1)) };
    let (k, n) = lane.split_once('/').context("--lane is k/N")?;
    let (k, n): (usize, usize) = (k.parse()?, n.parse()?);
    anyhow::ensure!(n > 0 && k < n, "--lane {lane}: k must be below N");
    Ok((k, n))
}

/// xorshift64*: kill moments reproducible from the seed without another dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let unit = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        low + unit * (high - low)
    }
}

fn fault_config(args: &Args, seed: u64) -> Result<serde_json::Value> {
    let f = args.fail_rate;
    let mut config = json!({
        "seed": seed,
        "rates": {"throttle": 0.4 * f, "internal": 0.2 * f, "unavailable": 0.2 * f, "reset": 0.2 * f,
                  "lost": args.lost_rate, "latency": args.latency_rate},
        "eventual_consistency": {"seconds": args.ec_seconds},
    });
    if let Some(extra) = &args.faults_json {
        let extra: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(extra).context("--faults-json is not a JSON object")?;
        config.as_object_mut().expect("an object").extend(extra);
    }
    Ok(config)
}

/// A plain Query call to the emulator for what the operator never calls itself (IAM), like
/// examples/demo.sh's boto3 set-up.
async fn emulator_query(service: &str, body: &str) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = env("AWS_ENDPOINT_URL")?;
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let request = format!(
        "POST / HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut buf = String::new();
    stream.read_to_string(&mut buf).await?;
    anyhow::ensure!(buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200"), "{service}: {buf}");
    Ok(())
}

/// An empty emulator with what the examples expect to exist (examples/demo.sh makes the same):
/// the flow-log and image buckets, the storefront's IAM server certificate and the hosted zone.
async fn fresh_emulator(test_env: &TestEnv) -> Result<()> {
    let endpoint = env("AWS_ENDPOINT_URL")?;
    let port: u16 = endpoint.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).context("port")?;
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(b"POST /moto-api/reset HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n").await?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).await?;
        anyhow::ensure!(buf.contains(" 200 "), "moto reset: {buf}");
    }
    test_env.create_bucket("shop-flow-logs").await?;
    test_env.create_bucket("shop-images").await?;
    emulator_query(
        "iam",
        "Action=UploadServerCertificate&Version=2010-05-08&ServerCertificateName=shop-demo&CertificateBody=demo&PrivateKey=demo",
    )
    .await?;
    let route53 = aws_sdk_route53::Client::new(&test_env.aws_config(REGION).await);
    route53.create_hosted_zone().name("shop.example").caller_reference("securecart-chaos-shop.example").send().await?;
    Ok(())
}

/// The examples with their namespace replaced, one file each, ready for `kubectl apply`.
fn examples_into(root: &std::path::Path, namespace: &str, out: &std::path::Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join("examples"))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || name.starts_with("00-") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?.replace("namespace: platform", &format!("namespace: {namespace}"));
        let target = out.join(&name);
        std::fs::write(&target, text)?;
        files.push(target);
    }
    files.sort();
    Ok(files)
}

/// Objects of the trial's namespace, and those not Ready (name: Ready message).
struct Objects {
    tiers: Vec<VpcTier>,
    endpoints: Vec<PrivateEndpoint>,
    policies: Vec<LoadBalancerPolicy>,
    hubs: Vec<TransitGateway>,
    peerings: Vec<VpcPeering>,
    apis: Vec<PartnerApi>,
    edges: Vec<GlobalEntrypoint>,
    not_ready: Vec<String>,
}

impl Objects {
    async fn read(env: &TestEnv) -> Result<Self> {
        let lp = ListParams::default();
        let tiers = env.api::<VpcTier>().list(&lp).await?.items;
        let endpoints = env.api::<PrivateEndpoint>().list(&lp).await?.items;
        let policies = env.api::<LoadBalancerPolicy>().list(&lp).await?.items;
        let hubs = env.api::<TransitGateway>().list(&lp).await?.items;
        let peerings = env.api::<VpcPeering>().list(&lp).await?.items;
        let apis = env.api::<PartnerApi>().list(&lp).await?.items;
        let edges = env.api::<GlobalEntrypoint>().list(&lp).await?.items;
        let mut not_ready = Vec::new();
        fn check<K: kube::Resource<DynamicType = ()> + serde::Serialize>(o: &K, out: &mut Vec<String>) {
            let c = condition(o, "Ready");
            let ok = c.as_ref().is_some_and(|c| c.status == "True" && c.observed_generation == o.meta().generation);
            if !ok {
                let why = c.map(|c| format!("{}: {}", c.reason, c.message)).unwrap_or_else(|| "no Ready yet".into());
                out.push(format!("{}/{} ({why})", K::kind(&()), o.name_any()));
            }
        }
        tiers.iter().for_each(|o| check(o, &mut not_ready));
        endpoints.iter().for_each(|o| check(o, &mut not_ready));
        policies.iter().for_each(|o| check(o, &mut not_ready));
        hubs.iter().for_each(|o| check(o, &mut not_ready));
        peerings.iter().for_each(|o| check(o, &mut not_ready));
        apis.iter().for_each(|o| check(o, &mut not_ready));
        edges.iter().for_each(|o| check(o, &mut not_ready));
        Ok(Self { tiers, endpoints, policies, hubs, peerings, apis, edges, not_ready })
    }
    fn names(&self) -> Vec<String> {
        fn name<K: kube::Resource<DynamicType = ()>>(o: &K) -> String {
            format!("{}/{}", K::kind(&()), o.name_any())
        }
        let mut out: Vec<String> = self.tiers.iter().map(name).collect();
        out.extend(self.endpoints.iter().map(name));
        out.extend(self.policies.iter().map(name));
        out.extend(self.hubs.iter().map(name));
        out.extend(self.peerings.iter().map(name));
        out.extend(self.apis.iter().map(name));
        out.extend(self.edges.iter().map(name));
        out
    }
    fn count(&self) -> usize {
        self.tiers.len()
            + self.endpoints.len()
            + self.policies.len()
            + self.hubs.len()
            + self.peerings.len()
            + self.apis.len()
            + self.edges.len()
    }
    fn uids(&self) -> BTreeSet<String> {
        let t = self.tiers.iter().map(|o| o.uid());
        let e = self.endpoints.iter().map(|o| o.uid());
        let p = self.policies.iter().map(|o| o.uid());
        let h = self.hubs.iter().map(|o| o.uid());
        let v = self.peerings.iter().map(|o| o.uid());
        let a = self.apis.iter().map(|o| o.uid()).chain(self.edges.iter().map(|o| o.uid()));
        t.chain(e).chain(p).chain(h).chain(v).chain(a).flatten().collect()
    }
}

/// Extra resources per object and kind, and resources that belong to none of the objects.
fn duplicates(objects: &Objects, census: &Census, zones: &[String]) -> Vec<Duplicate> {
    let mut wanted: Vec<(String, String, Result<expected::Counts, String>)> = Vec::new();
    for o in &objects.tiers {
        wanted.push((format!("VpcTier/{}", o.name_any()), o.uid().unwrap_or_default(), expected::vpc_tier(o, zones)));
    }
    for o in &objects.endpoints {
        let counts = expected::private_endpoint(o, &objects.tiers);
        wanted.push((format!("PrivateEndpoint/{}", o.name_any()), o.uid().unwrap_or_default(), counts));
    }
    for o in &objects.policies {
        let counts = expected::load_balancer_policy(o, &objects.tiers);
        wanted.push((format!("LoadBalancerPolicy/{}", o.name_any()), o.uid().unwrap_or_default(), counts));
    }
    for o in &objects.hubs {
        let counts = Ok(expected::transit_gateway(o));
        wanted.push((format!("TransitGateway/{}", o.name_any()), o.uid().unwrap_or_default(), counts));
    }
    for o in &objects.peerings {
        let counts = Ok(expected::vpc_peering(o));
        wanted.push((format!("VpcPeering/{}", o.name_any()), o.uid().unwrap_or_default(), counts));
    }
    for o in &objects.apis {
        let counts = Ok(expected::partner_api(o));
        wanted.push((format!("PartnerApi/{}", o.name_any()), o.uid().unwrap_or_default(), counts));
    }
    let mut named = BTreeMap::new();
    for o in &objects.edges {
        let counts = Ok(expected::global_entrypoint(o));
        let key = named_owner("GlobalEntrypoint", &o.namespace().unwrap_or_default(), &o.name_any());
        named.insert(o.uid().unwrap_or_default(), key);
        wanted.push((format!("GlobalEntrypoint/{}", o.name_any()), o.uid().unwrap_or_default(), counts));
    }
    let mut out = Vec::new();
    for (object, uid, counts) in wanted {
        let mut actual = census.of_owner(&uid);
        for (kind, n) in named.get(&uid).map(|key| census.of_owner(key)).unwrap_or_default() {
            *actual.entry(kind).or_default() += n;
        }
        let counts = match counts {
            Ok(c) => c,
            Err(e) => {
                out.push(Duplicate { object, kind: "?".into(), expected: 0, actual: 0, note: Some(e) });
                continue;
            }
        };
        let kinds: BTreeSet<&str> = counts.keys().chain(actual.keys()).copied().collect();
        for kind in kinds {
            let (want, have) = (counts.get(kind).copied().unwrap_or(0), actual.get(kind).copied().unwrap_or(0));
            if have > want {
                out.push(Duplicate {
                    object: object.clone(),
                    kind: kind.into(),
                    expected: want,
                    actual: have,
                    note: None,
                });
            }
        }
    }
    // Records are attributed by name, not by tags: they cannot be told apart here.
    let mut strays: BTreeMap<&str, usize> = BTreeMap::new();
    let owners: BTreeSet<String> = objects.uids().into_iter().chain(named.into_values()).collect();
    for item in census.unattributed(&owners).into_iter().filter(|i| i.kind != "dns_record") {
        *strays.entry(item.kind).or_default() += 1;
    }
    for (kind, n) in strays {
        let note = Some("attributed to no object (untagged or foreign)".into());
        out.push(Duplicate { object: "-".into(), kind: kind.into(), expected: 0, actual: n, note });
    }
    out
}

async fn all_ready(env: &TestEnv, want: usize) -> Result<bool> {
    let o = Objects::read(env).await?;
    Ok(o.count() == want && o.not_ready.is_empty())
}

async fn trial(args: &Args, t: usize, env: &mut TestEnv, proxy: &FaultProxy, root: &std::path::Path) -> Result<Trial> {
    let seed = args.seed + t as u64;
    let namespace = format!("chaos-{t:03}");
    let mut rng = Rng::new(seed);
    let mut trial = Trial { trial: t, seed, ..Default::default() };
    fresh_emulator(env).await.context("resetting the emulator")?;
    let zones = {
        let out = env.ec2.describe_availability_zones().send().await?;
        out.availability_zones().iter().filter_map(|z| z.zone_name().map(str::to_string)).collect::<Vec<_>>()
    };
    let baseline = Census::take_in(env, REGION).await.context("counting what the emulator holds")?;

    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}}))?;
    namespaces.create(&PostParams::default(), &ns).await?;
    env.name = format!("chaos-{t:03}");
    env.namespace = namespace.clone();
    env.watch_namespace = Some(namespace.clone());
    proxy.reset().await.context("resetting the fault proxy")?;
    proxy.configure(fault_config(args, seed)?).await.context("configuring the fault proxy")?;
    env.start_controller().await.context("starting the controller")?;

    let files = examples_into(root, &namespace, &root.join("target/chaos").join(&namespace))?;
    let started = Instant::now();
    for file in &files {
        let out = env.kubectl(&["apply", "--server-side", "-f", &file.to_string_lossy()]).await?;
        anyhow::ensure!(
            out.status.success(),
            "kubectl apply {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let want = Objects::read(env).await?.count();
    trial.objects = want;

    // Kills at random moments while something is still being created.
    for _ in 0..args.kills {
        tokio::time::sleep(Duration::from_secs_f64(rng.uniform(0.2, args.max_kill_gap_seconds))).await;
        if all_ready(env, want).await? {
            break;
        }
        env.kill_controller().await?;
        trial.kills += 1;
        env.start_controller().await?;
    }
    let limit = Duration::from_secs(args.converge_seconds);
    loop {
        let objects = Objects::read(env).await?;
        if objects.count() == want && objects.not_ready.is_empty() {
            trial.converged = true;
            trial.seconds_to_ready = Some(started.elapsed().as_secs_f64());
            break;
        }
        if started.elapsed() > limit {
            trial.reason = Some(format!(
                "not Ready after {}s: {}",
                limit.as_secs(),
                Objects::read(env).await?.not_ready.join("; ")
            ));
            break;
        }
        trial.last_ready = objects.not_ready;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let objects = Objects::read(env).await?;
    let at_ready = Census::take_in(env, REGION).await?.since(&baseline);
    trial.duplicates = duplicates(&objects, &at_ready, &zones);
    trial.resources_at_ready = at_ready.by_kind().into_iter().map(|(k, n)| (k.to_string(), n)).collect();

    // Deletion of everything at once, faults still on: the engine orders it (users first).
    let deleted = Instant::now();
    let kinds = "vpctier,privateendpoint,loadbalancerpolicy,transitgateway,vpcpeering,partnerapi,globalentrypoint";
    let out = env.kubectl(&["delete", "-n", &namespace, kinds, "--all", "--wait=false"]).await?;
    anyhow::ensure!(out.status.success(), "kubectl delete: {}", String::from_utf8_lossy(&out.stderr));
    let delete_limit = Duration::from_secs(args.delete_seconds);
    loop {
        let left = Objects::read(env).await?;
        if left.count() == 0 {
            trial.seconds_to_delete = Some(deleted.elapsed().as_secs_f64());
            break;
        }
        if deleted.elapsed() > delete_limit {
            let names = left.not_ready.join("; ");
            trial.delete_reason =
                Some(format!("{} object(s) not gone after {}s: {names}", left.count(), delete_limit.as_secs()));
            break;
        }
        trial.last_gone = left.names();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let left = Census::take_in(env, REGION).await?.since(&baseline);
    trial.leaks = left.by_kind().into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    trial.leaked_ids = left.items.iter().map(|i| format!("{} {}", i.kind, i.id)).collect();
    env.kill_controller().await?;
    let counters = proxy.counters().await?;
    trial.faults = counters.faults.by_kind;
    trial.faults_by_operation = counters
        .faults
        .by_operation
        .iter()
        .map(|f| (format!("{} {}:{}", f.kind, f.service, f.operation), f.count))
        .collect();
    trial.requests = counters.requests_total;
    Ok(trial)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(std::env::var("SECURECART_ROOT").unwrap_or_else(|_| ".".into()));
    if args.merge_lanes {
        let dir = root.join(&args.report_dir);
        let (trials, took) = report::read_lanes(&dir)?;
        return finish(&args, &dir, &trials, took);
    }
    let (lane, lanes) = lane(&args)?;
    let proxy = FaultProxy::start("chaos", json!({})).await?;
    let mut env = TestEnv::start_without_controller("chaos", REGION).await?;
    env.route_controller_through(&proxy);
    let started = Instant::now();
    let mut trials = Vec::new();
    for t in (lane..args.trials).step_by(lanes) {
        let result = trial(&args, t, &mut env, &proxy, &root).await;
        let trial = result.unwrap_or_else(|e| Trial {
            trial: t,
            seed: args.seed + t as u64,
            reason: Some(format!("trial failed: {e:#}")),
            ..Default::default()
        });
        eprintln!("{}", trial.summary());
        trials.push(trial);
        // A failed trial may have left its controller running.
        env.kill_controller().await?;
    }
    let mut dir = root.join(&args.report_dir);
    if args.lane.is_some() {
        dir = dir.join(format!("lane-{lane}"));
    }
    finish(&args, &dir, &trials, started.elapsed())
}

fn finish(args: &Args, dir: &std::path::Path, trials: &[Trial], took: Duration) -> Result<()> {
    let summary = report::write(dir, args, trials, took)?;
    println!("{}", std::fs::read_to_string(dir.join("report.md"))?);
    if args.assert && !summary.passed() {
        anyhow::bail!("chaos: {summary}");
    }
    Ok(())
}
