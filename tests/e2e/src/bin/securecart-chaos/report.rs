//! chaos/report.json and chaos/report.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Args;
use securecart_e2e::Result;
use securecart_e2e::faults::census::SAME_NAME_LOAD_BALANCER;

/// More of a kind than an object should hold, or resources no object owns.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Duplicate {
    pub object: String,
    pub kind: String,
    pub expected: usize,
    pub actual: usize,
    pub note: Option<String>,
}

impl Duplicate {
    /// How many more than expected, counted against the operator: never a second load balancer
    /// of a name already taken, which AWS does not make (the emulator does; see the census).
    pub fn extra(&self) -> usize {
        if self.kind == SAME_NAME_LOAD_BALANCER {
            return 0;
        }
        self.actual.saturating_sub(self.expected)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Trial {
    pub trial: usize,
    pub seed: u64,
    pub objects: usize,
    pub kills: usize,
    pub converged: bool,
    pub seconds_to_ready: Option<f64>,
    pub reason: Option<String>,
    pub faults: BTreeMap<String, u64>,
    /// "kind service:operation" -> count.
    pub faults_by_operation: BTreeMap<String, u64>,
    pub requests: u64,
    pub resources_at_ready: BTreeMap<String, usize>,
    pub duplicates: Vec<Duplicate>,
    pub seconds_to_delete: Option<f64>,
    pub delete_reason: Option<String>,
    pub leaks: BTreeMap<String, usize>,
    pub leaked_ids: Vec<String>,
    /// The objects that were the last to become Ready, and the last to go.
    pub last_ready: Vec<String>,
    pub last_gone: Vec<String>,
}

impl Trial {
    pub fn duplicate_count(&self) -> usize {
        self.duplicates.iter().map(Duplicate::extra).sum()
    }
    pub fn leak_count(&self) -> usize {
        self.leaks.values().sum()
    }
    pub fn summary(&self) -> String {
        format!(
            "chaos: trial {} seed {}: {} kills, {}, {} duplicates, {} leaks, {} faults in {} requests{}",
            self.trial,
            self.seed,
            self.kills,
            match self.seconds_to_ready {
                Some(s) => format!("Ready in {s:.1}s"),
                None => "not converged".into(),
            },
            self.duplicate_count(),
            self.leak_count(),
            self.faults.values().sum::<u64>(),
            self.requests,
            self.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
        )
    }
}

pub struct Summary {
    pub trials: usize,
    pub converged: usize,
    pub duplicates: usize,
    pub leaks: usize,
}

impl Summary {
    pub fn passed(&self) -> bool {
        self.converged == self.trials && self.duplicates == 0 && self.leaks == 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} trials converged, {} duplicates at Ready, {} leaks after deletion",
            self.converged, self.trials, self.duplicates, self.leaks
        )
    }
}

fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| sorted[((sorted.len() as f64 - 1.0) * q).round() as usize])
}

fn sum_maps<'a, K: Ord + Clone + 'a, V: Copy + std::ops::Add<Output = V> + Default + 'a>(
    maps: impl Iterator<Item = &'a BTreeMap<K, V>>,
) -> BTreeMap<K, V> {
    let mut out = BTreeMap::new();
    for m in maps {
        for (k, v) in m {
            let e = out.entry(k.clone()).or_default();
            *e = *e + *v;
        }
    }
    out
}

fn list<K: std::fmt::Display, V: std::fmt::Display>(m: &BTreeMap<K, V>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

pub fn write(dir: &Path, args: &Args, trials: &[Trial], took: Duration) -> Result<Summary> {
    let mut times: Vec<f64> = trials.iter().filter_map(|t| t.seconds_to_ready).collect();
    times.sort_by(f64::total_cmp);
    let faults = sum_maps(trials.iter().map(|t| &t.faults));
    let leaks_by_kind = sum_maps(trials.iter().map(|t| &t.leaks));
    let mut duplicates_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for d in trials.iter().flat_map(|t| &t.duplicates) {
        *duplicates_by_kind.entry(d.kind.clone()).or_default() += d.extra();
    }
    let summary = Summary {
        trials: trials.len(),
        converged: trials.iter().filter(|t| t.converged).count(),
        duplicates: trials.iter().map(Trial::duplicate_count).sum(),
        leaks: trials.iter().map(Trial::leak_count).sum(),
    };
    let (p50, max) = (percentile(&times, 0.5), percentile(&times, 1.0));
    let kills: usize = trials.iter().map(|t| t.kills).sum();
    let requests: u64 = trials.iter().map(|t| t.requests).sum();
    std::fs::create_dir_all(dir)?;
    let value = json!({
        "config": args,
        "duration_seconds": took.as_secs_f64(),
        "trials": summary.trials,
        "converged": summary.converged,
        "time_to_ready_seconds": {"p50": p50, "max": max},
        "kills": kills,
        "requests": requests,
        "faults_injected": faults,
        "duplicates_at_ready": summary.duplicates,
        "duplicates_by_kind": duplicates_by_kind,
        "leaks_after_deletion": summary.leaks,
        "leaks_by_kind": leaks_by_kind,
        "per_trial": trials,
    });
    std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&value)?)?;

    let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
    let mut md = String::from("# securecart-operator chaos report\n\n");
    md.push_str(&format!(
        "- {} trials{} of the example set, each on an empty emulator with a fresh controller; K={} SIGKILLs per trial \
         while objects were being created ({kills} in all)\n\
         - faults per request: {:.0}% failed before reaching the emulator (40% throttling, 20% HTTP 500, 20% HTTP 503, \
         20% connection reset), {:.0}% of mutating responses lost after being applied, eventual-consistency window {} s, \
         {:.0}% delayed; seed {}\n- took {:.0} s\n\n",
        trials.len(),
        if trials.len() == args.trials { String::new() } else { format!(" (of {} asked)", args.trials) },
        args.kills,
        args.fail_rate * 100.0,
        args.lost_rate * 100.0,
        args.ec_seconds,
        args.latency_rate * 100.0,
        args.seed,
        took.as_secs_f64()
    ));
    if let Some(extra) = &args.faults_json {
        md.push_str(&format!("- fault configuration replaced by --faults-json: `{extra}`\n\n"));
    }
    md.push_str("| trials | converged | Ready p50 s | Ready max s | duplicates at Ready | leaks after deletion | AWS requests | faults injected |\n|---|---|---|---|---|---|---|---|\n");
    md.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {requests} | {} |\n\n",
        summary.trials,
        summary.converged,
        f(p50),
        f(max),
        summary.duplicates,
        summary.leaks,
        faults.values().sum::<u64>()
    ));
    md.push_str(&format!("- faults injected by kind: {}\n", list(&faults)));
    md.push_str(&format!("- duplicates at Ready by kind: {}\n", list(&duplicates_by_kind)));
    let same_name: usize =
        trials.iter().flat_map(|t| &t.duplicates).filter(|d| d.kind == SAME_NAME_LOAD_BALANCER).map(|d| d.actual).sum();
    if same_name > 0 {
        md.push_str(&format!(
            "- not counted: {same_name} second load balancer(s) of a name already taken, made by the emulator when \
             a CreateLoadBalancer was repeated after its response was lost (AWS answers such a repeat with the \
             load balancer it made)\n"
        ));
    }
    md.push_str(&format!("- leaks after deletion by kind: {}\n", list(&leaks_by_kind)));
    md.push_str(&format!("- verdict: {} ({summary})\n", if summary.passed() { "pass" } else { "**fail**" }));
    md.push_str("\n## Trials\n\n| trial | seed | kills | Ready s | delete s | last Ready | last gone | duplicates | leaks | faults | notes |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for t in trials {
        let mut notes: Vec<String> = t.reason.iter().chain(t.delete_reason.iter()).cloned().collect();
        notes.extend(t.duplicates.iter().map(|d| {
            format!(
                "{} {}: {} of {}{}",
                d.object,
                d.kind,
                d.actual,
                d.expected,
                d.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
            )
        }));
        if !t.leaks.is_empty() {
            notes.push(format!("left: {}", list(&t.leaks)));
        }
        // Names only: the Ready message that follows them is in report.json.
        let names = |objects: &[String]| {
            objects.iter().map(|o| o.split(" (").next().unwrap_or(o)).collect::<Vec<_>>().join(", ")
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            t.trial,
            t.seed,
            t.kills,
            f(t.seconds_to_ready),
            f(t.seconds_to_delete),
            names(&t.last_ready),
            names(&t.last_gone),
            t.duplicate_count(),
            t.leak_count(),
            t.faults.values().sum::<u64>(),
            notes.join("; ").replace('|', "/")
        ));
    }
    std::fs::write(dir.join("report.md"), md)?;
    Ok(summary)
}

/// The trials of every lane's report under `dir` (lane-*/report.json), in trial order, and the
/// longest a lane took (they ran side by side).
pub fn read_lanes(dir: &Path) -> Result<(Vec<Trial>, Duration)> {
    let mut trials = Vec::new();
    let mut took = Duration::ZERO;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("lane-")) {
            continue;
        }
        let text = std::fs::read_to_string(path.join("report.json"))
            .map_err(|e| anyhow::anyhow!("{}: {e} (did the lane fail before writing its report?)", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)?;
        let lane: Vec<Trial> = serde_json::from_value(value["per_trial"].clone())?;
        trials.extend(lane);
        took = took.max(Duration::from_secs_f64(value["duration_seconds"].as_f64().unwrap_or_default()));
    }
    trials.sort_by_key(|t| t.trial);
    Ok((trials, took))
}
