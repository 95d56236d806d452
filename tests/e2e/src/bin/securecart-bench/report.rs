//! bench/report.json and bench/report.md.

use securecart_e2e::Result;
use serde_json::json;

use crate::measure::Scenario;

pub fn write_report(root: &std::path::Path, scenarios: &[Scenario], notes: &[String]) -> Result<()> {
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
    md.push_str("\n| scenario | objects | Ready | batch s | floor s | x floor | p50 s | p95 s | max s | mutating | minimum | ratio | reads | AWS throttled | RSS MiB | of it file MiB | peak RSS MiB | CPU s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for s in scenarios {
        let l = s.time_to_ready.as_ref();
        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
        md.push_str(&format!(
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            s.name,
            s.objects,
            s.ready,
            s.seconds,
            f(s.floor.as_ref().map(|f| f.seconds)),
            f(s.to_floor),
            f(l.map(|l| l.p50_seconds)),
            f(l.map(|l| l.p95_seconds)),
            f(l.map(|l| l.max_seconds)),
            s.mutating_calls,
            s.minimum_mutating_calls.map_or("-".into(), |m| m.to_string()),
            f(s.mutating_to_minimum),
            s.read_calls,
            s.throttled_by_aws,
            s.process.rss_mib,
            s.process.rss_file_mib,
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
