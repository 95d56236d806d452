//! deploy/iam-policy.json against the code: every AWS operation this crate calls is allowed,
//! nothing else is, mutating actions are allowed only on resources carrying (or requests
//! creating) the ownership tag, and reads are unconditioned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use securecart_api::tags::OWNER_UID;
use serde_json::Value;

/// Actions the policy grants that no `call(...)` names: permissions AWS checks implicitly.
const IMPLICIT: &[&str] = &[
    // CreateFlowLogs with a CloudWatch Logs destination passes the user's delivery role.
    "iam:PassRole",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The IAM prefix of a service label used in `const SERVICE` (and the metrics).
fn iam_prefix(service: &str) -> Option<&'static str> {
    Some(match service {
        "ec2" => "ec2",
        "elbv2" | "elb" | "elasticloadbalancing" | "elasticloadbalancingv2" => "elasticloadbalancing",
        "wafv2" => "wafv2",
        "route53" => "route53",
        "shield" => "shield",
        "acm" => "acm",
        _ => return None,
    })
}

/// The `const SERVICE: &str = "..."` of a module, else its file name.
fn service_of(path: &Path, source: &str) -> String {
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("const SERVICE: &str = \"")?.split('"').next().map(str::to_string))
        .unwrap_or_else(|| path.file_stem().unwrap_or_default().to_string_lossy().into_owned())
}

/// Every `.call("Operation", mutating, ...)` in a source file.
fn calls(source: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".call(") {
        rest = &rest[at + ".call(".len()..];
        let args = rest.trim_start();
        let Some(args) = args.strip_prefix('"') else { continue };
        let Some((operation, after)) = args.split_once('"') else { continue };
        let mutating = after.trim_start().trim_start_matches(',').trim_start();
        let mutating = mutating.starts_with("true");
        out.push((operation.to_string(), mutating));
    }
    out
}

/// `service:Operation` -> mutating, for every call in src/.
fn called_actions() -> BTreeMap<String, bool> {
    let mut actions = BTreeMap::new();
    let mut unknown = Vec::new();
    for entry in std::fs::read_dir(crate_dir().join("src")).expect("src/") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("source file");
        let found = calls(&source);
        if found.is_empty() {
            continue;
        }
        let service = service_of(&path, &source);
        let Some(prefix) = iam_prefix(&service) else {
            unknown.push(format!("{} (service {service:?})", path.display()));
            continue;
        };
        for (operation, mutating) in found {
            *actions.entry(format!("{prefix}:{operation}")).or_insert(false) |= mutating;
        }
    }
    assert!(unknown.is_empty(), "no IAM prefix known for {unknown:?}: add it to iam_prefix()");
    actions
}

struct Statement {
    actions: Vec<String>,
    condition: Value,
}

fn policy() -> Vec<Statement> {
    let path = crate_dir().join("../../deploy/iam-policy.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("deploy/iam-policy.json"))
        .expect("the policy is JSON");
    assert_eq!(doc["Version"], "2012-10-17");
    doc["Statement"]
        .as_array()
        .expect("Statement is a list")
        .iter()
        .map(|s| {
            assert_eq!(s["Effect"], "Allow", "only Allow statements: {s}");
            let actions = match &s["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().map(|v| v.as_str().expect("action string").to_string()).collect(),
                other => panic!("Action must be a string or a list: {other}"),
            };
            assert!(!actions.iter().any(|a| a.contains('*')), "no wildcard actions: {actions:?}");
            Statement { actions, condition: s["Condition"].clone() }
        })
        .collect()
}

/// Whether a condition requires the ownership tag on the resource or on the request.
fn requires_owner_tag(condition: &Value) -> bool {
    let null = &condition["Null"];
    [format!("aws:ResourceTag/{OWNER_UID}"), format!("aws:RequestTag/{OWNER_UID}")]
        .iter()
        .any(|key| null[key.as_str()] == "false")
}

#[test]
fn the_call_scanner_reads_multi_line_calls() {
    let source = "self.call(\n    \"DescribeVpcs\",\n    false,\n x).await; c.call(\"DeleteVpc\", true, y)";
    assert_eq!(calls(source), vec![("DescribeVpcs".into(), false), ("DeleteVpc".into(), true)]);
}

#[test]
fn every_called_operation_is_allowed_and_nothing_else() {
    let called = called_actions();
    assert!(called.len() > 20, "the scanner found the calls: {called:?}");
    let granted: BTreeSet<String> = policy().into_iter().flat_map(|s| s.actions).collect();
    let missing: Vec<&String> = called.keys().filter(|a| !granted.contains(*a)).collect();
    assert!(missing.is_empty(), "called but not in deploy/iam-policy.json: {missing:?}");
    let extra: Vec<&String> =
        granted.iter().filter(|a| !called.contains_key(*a) && !IMPLICIT.contains(&a.as_str())).collect();
    assert!(extra.is_empty(), "in deploy/iam-policy.json but never called: {extra:?}");
}

#[test]
fn mutating_actions_are_conditioned_on_ownership_and_reads_are_not() {
    let called = called_actions();
    for statement in policy() {
        for action in &statement.actions {
            match called.get(action) {
                Some(true) => assert!(
                    requires_owner_tag(&statement.condition),
                    "{action} is granted without requiring the {OWNER_UID} tag: {}",
                    statement.condition
                ),
                Some(false) => {
                    assert!(statement.condition.is_null(), "read {action} is conditioned: {}", statement.condition)
                }
                None => {}
            }
        }
    }
}
