//! deploy/argocd/argocd-cm-health.yaml run by a real Lua 5.4 over statuses the planner's own
//! `conditions()` writes: Healthy, Progressing and Degraded as docs/status.md promises.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use mlua::{Lua, LuaSerdeExt, SerializeOptions};
use securecart_api::conditions::reason;
use securecart_plan::conditions::{Readiness, Report, Sync, conditions};
use serde_json::{Value, json};

const KINDS: [&str; 3] = ["VpcTier", "LoadBalancerPolicy", "PrivateEndpoint"];

fn scripts() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/argocd/argocd-cm-health.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).expect("argocd-cm-health.yaml"))
        .expect("the patch is YAML");
    KINDS
        .iter()
        .map(|kind| {
            let key = format!("resource.customizations.health.net.securecart.io_{kind}");
            let script = doc["data"][key.as_str()].as_str().unwrap_or_else(|| panic!("no {key}")).to_string();
            (kind.to_string(), script)
        })
        .collect()
}

/// Runs a health script with `obj` as Argo CD does and returns (status, message).
fn health(script: &str, obj: &Value) -> (String, String) {
    let lua = Lua::new();
    let options = SerializeOptions::new().serialize_none_to_null(false).serialize_unit_to_null(false);
    lua.globals().set("obj", lua.to_value_with(obj, options).expect("obj to Lua")).expect("set obj");
    let hs: mlua::Table = lua.load(script).eval().expect("the script runs and returns a table");
    (hs.get("status").expect("status"), hs.get("message").unwrap_or_default())
}

fn object(kind: &str, generation: i64, status: Option<Value>) -> Value {
    let mut obj = json!({
        "apiVersion": "net.securecart.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "namespace": "shop", "generation": generation},
    });
    if let Some(status) = status {
        obj["status"] = status;
    }
    obj
}

fn status_for(report: &Report, observed: i64) -> Value {
    status_after(report, observed, &[])
}

/// The status a report writes over an earlier one (Ready is kept across a failed read).
fn status_after(report: &Report, observed: i64, before: &[Report]) -> Value {
    let now = Time(Timestamp::from_second(1_700_000_000).expect("time"));
    let mut previous = Vec::new();
    for b in before {
        previous = conditions(b, Some(observed), &previous, &now);
    }
    json!({"observedGeneration": observed, "conditions": conditions(report, Some(observed), &previous, &now)})
}

#[test]
fn the_three_kinds_share_one_script() {
    let scripts = scripts();
    assert!(scripts.iter().all(|(_, s)| *s == scripts[0].1), "the YAML anchor gives every kind the same script");
}

#[test]
fn health_follows_the_kstatus_conditions() {
    let stalled = Report::invalid("spec.cidrBlock: too small");
    let failed = Report::failed_change(reason::AWS_ERROR, "Throttling", false);
    let failed_read = Report::failed_read(reason::AWS_ERROR, "DescribeSubnets: RequestLimitExceeded", false);
    let paused = Report {
        ready: Some(Readiness::not_ready(reason::PAUSED, "2 changes not applied while paused")),
        sync: Sync::Paused { message: "paused by annotation net.securecart.io/paused".into() },
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("never reconciled", object("K", 1, None), "Progressing", "waiting for the controller"),
        ("Ready", object("K", 2, Some(status_for(&Report::ready(), 2))), "Healthy", "all AWS resources exist"),
        (
            "Ready, then a drift read throttled",
            object("K", 2, Some(status_after(&failed_read, 2, &[Report::ready()]))),
            "Healthy",
            "all AWS resources exist and match the spec; last reconcile failed: AwsError",
        ),
        ("paused", object("K", 2, Some(status_for(&paused, 2))), "Suspended", "Paused: paused by annotation"),
        (
            "Ready for an older generation",
            object("K", 3, Some(status_for(&Report::ready(), 2))),
            "Progressing",
            "waiting for the controller",
        ),
        (
            "converging",
            object("K", 1, Some(status_for(&Report::progressing("waiting for NAT gateway nat-1"), 1))),
            "Progressing",
            "Progressing: waiting for NAT gateway nat-1",
        ),
        ("retrying an AWS error", object("K", 1, Some(status_for(&failed, 1))), "Progressing", "AwsError: Throttling"),
        (
            "stalled",
            object("K", 4, Some(status_for(&stalled, 4))),
            "Degraded",
            "InvalidSpec: spec.cidrBlock: too small",
        ),
        (
            "stalled at an older generation, fixed since",
            object("K", 5, Some(status_for(&stalled, 4))),
            "Progressing",
            "waiting for the controller",
        ),
    ];
    for (kind, script) in scripts() {
        for (what, obj, want_status, want_message) in &cases {
            let mut obj = obj.clone();
            obj["kind"] = json!(kind);
            let (status, message) = health(&script, &obj);
            assert_eq!(&status, want_status, "{kind}, {what}: {message}");
            assert!(message.starts_with(want_message), "{kind}, {what}: message {message:?}");
        }
    }
}

#[test]
fn deleting_is_progressing() {
    let mut obj = object("VpcTier", 1, Some(status_for(&Report::ready(), 1)));
    obj["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    assert_eq!(health(&scripts()[0].1, &obj), ("Progressing".into(), "deleting its AWS resources".into()));
}
