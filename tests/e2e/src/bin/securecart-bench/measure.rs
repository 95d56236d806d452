//! Measuring a scenario: AWS calls from the controller's metrics, time to Ready, memory and CPU
//! from /proc.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures::stream::{BoxStream, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::PostParams;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use securecart_api::{LoadBalancerPolicy, PrivateEndpoint, VpcTier};
use securecart_e2e::{Result, TestEnv, condition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

#[derive(Default, Clone)]
pub struct Calls(pub BTreeMap<(String, String, bool), u64>, pub BTreeMap<String, u64>);

impl Calls {
    /// AWS calls by (service, operation, mutating), and by outcome, from the controller's metrics.
    pub fn parse(text: &str) -> Self {
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
    pub fn since(&self, before: &Calls) -> Calls {
        fn sub<K: Ord + Clone>(a: &BTreeMap<K, u64>, b: &BTreeMap<K, u64>) -> BTreeMap<K, u64> {
            a.iter().map(|(k, v)| (k.clone(), v - b.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
        }
        Calls(sub(&self.0, &before.0), sub(&self.1, &before.1))
    }
    pub fn mutating(&self) -> u64 {
        self.0.iter().filter(|((_, _, m), _)| *m).map(|(_, v)| v).sum()
    }
    pub fn reads(&self) -> u64 {
        self.0.iter().filter(|((_, _, m), _)| !*m).map(|(_, v)| v).sum()
    }
}

#[derive(Serialize, Default)]
pub struct Latency {
    pub p50_seconds: f64,
    pub p95_seconds: f64,
    pub max_seconds: f64,
    pub batch_seconds: f64,
}

pub fn latency(mut samples: Vec<f64>, batch: f64) -> Option<Latency> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Some(Latency { p50_seconds: at(0.5), p95_seconds: at(0.95), max_seconds: at(1.0), batch_seconds: batch })
}

#[derive(Serialize, Default)]
pub struct ProcessFigures {
    pub rss_mib: f64,
    /// The part of `rss_mib` that is file pages (the binary's code, mapped from the page cache
    /// and reclaimable); the rest is the heap and stacks.
    pub rss_file_mib: f64,
    pub peak_rss_mib: f64,
    pub cpu_seconds: f64,
}

pub fn process(pid: Option<u32>) -> ProcessFigures {
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
        rss_file_mib: kib("RssFile:") / 1024.0,
        peak_rss_mib: kib("VmHWM:") / 1024.0,
        cpu_seconds: (ticks(11) + ticks(12)) / 100.0,
    }
}

#[derive(Serialize, Default)]
pub struct Scenario {
    pub name: String,
    pub objects: usize,
    pub ready: usize,
    pub seconds: f64,
    pub time_to_ready: Option<Latency>,
    pub mutating_calls: u64,
    pub read_calls: u64,
    pub minimum_mutating_calls: Option<u64>,
    /// The same calls issued straight through the SDK in this run (see floor.rs).
    pub floor: Option<crate::floor::Floor>,
    /// The operator's time to all Ready over the floor's time.
    pub to_floor: Option<f64>,
    pub mutating_to_minimum: Option<f64>,
    pub throttled_by_aws: u64,
    pub calls_by_operation: Vec<(String, String, bool, u64)>,
    pub process: ProcessFigures,
    pub notes: Vec<String>,
}

impl Scenario {
    pub fn compare(&mut self, floor: crate::floor::Floor) {
        self.to_floor = Some(self.seconds / floor.seconds.max(0.001));
        self.floor = Some(floor);
    }

    pub fn record_calls(&mut self, calls: &Calls) {
        self.mutating_calls = calls.mutating();
        self.read_calls = calls.reads();
        self.throttled_by_aws = calls.1.get("throttled").copied().unwrap_or(0);
        self.calls_by_operation = calls.0.iter().map(|((s, o, m), v)| (s.clone(), o.clone(), *m, *v)).collect();
        if let Some(min) = self.minimum_mutating_calls {
            self.mutating_to_minimum = Some(self.mutating_calls as f64 / min.max(1) as f64);
        }
    }
}

pub fn is_ready<K: serde::Serialize + kube::Resource>(o: &K) -> bool {
    condition(o, "Ready").is_some_and(|c| c.status == "True" && c.observed_generation == o.meta().generation)
}

/// Watches until every named object is Ready or `limit` passes; returns seconds to Ready per
/// object. A watch, not polling lists: listing a thousand objects with their status several
/// times a second would take from the two cores the emulator and the apiserver need, which the
/// floor's run does not have to share.
pub async fn ready_times(
    env: &TestEnv,
    namespace: &str,
    applied: &HashMap<String, Instant>,
    limit: Duration,
) -> Result<Vec<f64>> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut ready = futures::stream::select_all([
        readiness::<VpcTier>(env, namespace),
        readiness::<PrivateEndpoint>(env, namespace),
        readiness::<LoadBalancerPolicy>(env, namespace),
    ]);
    let mut done: HashMap<String, f64> = HashMap::new();
    while done.len() < applied.len() {
        let Ok(Some(key)) = tokio::time::timeout_at(deadline, ready.next()).await else { break };
        if let Some(at) = applied.get(&key) {
            done.entry(key).or_insert_with(|| at.elapsed().as_secs_f64());
        }
    }
    Ok(done.into_values().collect())
}

/// "Kind/name" of each object of kind `K` in `namespace` whenever the watch shows it Ready.
fn readiness<K>(env: &TestEnv, namespace: &str) -> BoxStream<'static, String>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug
        + Send
        + 'static,
{
    let api: Api<K> = Api::namespaced(env.client.clone(), namespace);
    watcher(api, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .filter_map(|o| async move {
            let o = o.ok().filter(|o| is_ready(o))?;
            Some(format!("{}/{}", K::kind(&()), o.name_any()))
        })
        .boxed()
}

pub async fn namespace(env: &TestEnv, name: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(env.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}}))?;
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}
