//! The controller's own traces, exported over OTLP/HTTP to a real receiver
//! (tests/controlplane/otlp_receiver.py, the OTLP protobuf messages from opentelemetry-proto):
//! a span per reconcile, and per AWS call a child span with the call's service, operation,
//! region and request ID, in the same trace, also for the plan steps that run concurrently.
//! AWS state is read through the EC2 API; the spans through what the receiver decoded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use kube::ResourceExt;
use securecart_e2e::{Owned, Result, TestEnv, http_get_at, log_dir, spec, wait_for};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const CONVERGE: Duration = Duration::from_secs(90);

/// The receiver process (killed when dropped) and the file it writes a JSON line per span to.
struct Receiver {
    _child: Child,
    port: u16,
    spans: PathBuf,
}

impl Receiver {
    async fn start(name: &str) -> Result<Self> {
        let dir = log_dir();
        let (spans, port_file) = (dir.join(format!("{name}.spans.jsonl")), dir.join(format!("{name}.otlp-port")));
        for f in [&spans, &port_file] {
            let _ = std::fs::remove_file(f);
        }
        let log = std::fs::File::create(dir.join(format!("{name}.otlp-receiver.log")))?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../controlplane/otlp.sh");
        let child = Command::new(script)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--out")
            .arg(&spans)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .context("starting tests/controlplane/otlp.sh")?;
        // On a fresh machine otlp.sh first installs the receiver's venv.
        wait_for("the OTLP receiver's port", Duration::from_secs(180), || async {
            Ok(std::fs::read_to_string(&port_file).is_ok_and(|p| p.trim().parse::<u16>().is_ok()))
        })
        .await?;
        let port: u16 = std::fs::read_to_string(&port_file)?.trim().parse()?;
        wait_for("the OTLP receiver's /healthz", Duration::from_secs(10), || async {
            Ok(http_get_at(&format!("127.0.0.1:{port}"), "/healthz").await.is_ok_and(|b| b == "ok"))
        })
        .await?;
        Ok(Self { _child: child, port, spans })
    }

    fn spans(&self) -> Result<Vec<Span>> {
        let text = std::fs::read_to_string(&self.spans)?;
        text.lines().map(|l| Ok(serde_json::from_str(l)?)).collect()
    }
}

#[derive(Debug, serde::Deserialize)]
struct Span {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: HashMap<String, Value>,
    resource: HashMap<String, Value>,
}

impl Span {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }
}

/// The spans from `span` up to its root, following parent span IDs.
fn ancestors<'a>(span: &'a Span, by_id: &HashMap<&str, &'a Span>) -> Vec<&'a Span> {
    let mut chain = vec![span];
    let mut current = span;
    while !current.parent_span_id.is_empty() {
        let Some(parent) = by_id.get(current.parent_span_id.as_str()) else { break };
        chain.push(parent);
        current = parent;
        if chain.len() > 64 {
            break;
        }
    }
    chain
}

#[tokio::test]
async fn traces_of_reconciles_and_aws_calls_reach_an_otlp_receiver() -> Result<()> {
    let receiver = Receiver::start("traces").await?;
    let mut env = TestEnv::start_without_controller("traces", "ap-east-1").await?;
    let region = env.region.clone();
    // No periodic export: every span reaches the receiver through the flush at SIGTERM, which
    // is what this proves as well (the batch size, 512, is far more than this test makes).
    env.controller_env.push(("OTEL_BSP_SCHEDULE_DELAY".into(), "600000".into()));
    let endpoint = format!("http://127.0.0.1:{}", receiver.port);
    let controller = env.spawn_controller(&["--otlp-endpoint", &endpoint]).await?;

    let obj = env
        .apply_vpc_tier(
            "traced",
            spec(json!({"region": region, "cidrBlock": "10.61.0.0/16", "availabilityZones": 1,
                        "tiers": [{"name": "db", "type": "Isolated", "prefixLength": 24}]})),
        )
        .await?;
    let uid = obj.uid().context("the VpcTier has a UID")?;
    wait_for("the VpcTier's VPC in EC2", CONVERGE, || async {
        Ok(!Owned::read(&env.ec2, &uid).await?.vpcs.is_empty())
    })
    .await?;
    let vpcs = Owned::read(&env.ec2, &uid).await?.vpcs;
    ensure!(vpcs.len() == 1, "one VPC owned by the VpcTier: {vpcs:?}");
    // The reconcile that created it has written its status: its span has ended.
    env.wait_ready("traced", CONVERGE).await?;

    let pid = controller.pid().context("the controller's pid")?;
    let term = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
    ensure!(term.success(), "kill -TERM {pid}");
    let exit = controller.wait_exit(Duration::from_secs(30)).await?;
    ensure!(exit.success(), "the controller exits cleanly on SIGTERM: {exit:?}");

    let spans = receiver.spans()?;
    ensure!(!spans.is_empty(), "the receiver got spans");
    let by_id: HashMap<&str, &Span> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();

    // Every span says which service sent it.
    for s in &spans {
        assert_eq!(s.resource.get("service.name").and_then(Value::as_str), Some("securecart-operator"), "{s:?}");
        assert!(s.resource.get("service.version").and_then(Value::as_str).is_some_and(|v| !v.is_empty()), "{s:?}");
    }

    let reconciles: Vec<&Span> = spans
        .iter()
        .filter(|s| {
            s.name == "reconcile VpcTier"
                && s.attr("kind") == Some("VpcTier")
                && s.attr("namespace") == Some(env.namespace.as_str())
                && s.attr("name") == Some("traced")
        })
        .collect();
    ensure!(!reconciles.is_empty(), "a reconcile span for {}/traced among {} spans", env.namespace, spans.len());
    for r in &reconciles {
        assert!(r.parent_span_id.is_empty(), "a reconcile is the root of its trace: {r:?}");
        assert!(r.attributes.get("generation").and_then(Value::as_i64).is_some_and(|g| g >= 1), "{r:?}");
        assert!(r.attr("outcome").is_some(), "the reconcile's outcome is recorded: {r:?}");
    }

    let calls: Vec<&Span> = spans.iter().filter(|s| s.attr("rpc.system") == Some("aws-api")).collect();
    let create_vpc: Vec<&&Span> = calls
        .iter()
        .filter(|s| s.attr("rpc.service") == Some("ec2") && s.attr("rpc.method") == Some("CreateVpc"))
        .collect();
    ensure!(create_vpc.len() == 1, "one CreateVpc call span: {create_vpc:?}");
    let call = create_vpc[0];
    assert_eq!(call.name, "ec2/CreateVpc");
    assert_eq!(call.attr("aws.region"), Some(region.as_str()));
    assert_eq!(call.attr("outcome"), Some("ok"));
    assert!(call.attr("aws.request_id").is_some_and(|id| !id.is_empty()), "CreateVpc has a request ID: {call:?}");

    // Its parents lead, within one trace, to the reconcile of that object.
    let chain = ancestors(call, &by_id);
    let root = chain.last().expect("the chain holds the span itself");
    assert!(
        reconciles.iter().any(|r| r.span_id == root.span_id),
        "CreateVpc's chain ends at the object's reconcile: {:?}",
        chain.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert!(chain.iter().all(|s| s.trace_id == call.trace_id), "one trace: {chain:?}");
    assert!(chain.iter().any(|s| s.name == "step CreateVpc"), "through its plan step: {chain:?}");

    // So do the other creates of that plan, which ran concurrently where the graph allowed.
    let creates: Vec<&&Span> = calls
        .iter()
        .filter(|s| s.trace_id == call.trace_id && s.attr("rpc.method").is_some_and(|m| m.starts_with("Create")))
        .collect();
    assert!(
        creates.iter().any(|s| s.attr("rpc.method") == Some("CreateSubnet")),
        "the subnet's create is in the same trace: {creates:?}"
    );
    for c in &creates {
        assert_eq!(ancestors(c, &by_id).last().map(|s| &s.span_id), Some(&root.span_id), "{c:?}");
        assert!(c.attr("aws.request_id").is_some_and(|id| !id.is_empty()), "{c:?}");
    }
    Ok(())
}
