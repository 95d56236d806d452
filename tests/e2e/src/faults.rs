//! The fault proxy (tests/faults/, started by tests/controlplane/faults.sh) from the tests' side.
//!
//! A test that wants faults gets a proxy instance of its own, on its own ports, and points only
//! its controller at it; the test's own AWS clients keep talking to the emulator directly, so its
//! assertions read the truth. One proxy per test (rather than one shared proxy filtering by
//! region) because Route 53 and Shield are global: every test's calls to them carry the same
//! region, so a region filter could not keep one test's health-check faults from another's.

pub mod census;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Result, TestEnv, env};

/// One running fault proxy; stopped when dropped.
pub struct FaultProxy {
    name: String,
    dir: String,
    /// The URL to give a controller as AWS_ENDPOINT_URL.
    pub proxy_url: String,
    control_port: u16,
}

/// What the proxy injected and saw, from its control endpoint.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FaultCounters {
    pub faults: Faults,
    pub requests: Vec<RequestCount>,
    pub requests_total: u64,
    pub hidden_ids: u64,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Faults {
    pub total: u64,
    pub by_kind: BTreeMap<String, u64>,
    pub by_operation: Vec<FaultCount>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FaultCount {
    pub kind: String,
    pub service: String,
    pub operation: String,
    pub count: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RequestCount {
    pub service: String,
    pub operation: String,
    pub count: u64,
}

impl FaultCounters {
    /// Faults of `kind` injected into calls of `operation`.
    pub fn injected(&self, kind: &str, operation: &str) -> u64 {
        self.faults.by_operation.iter().filter(|f| f.kind == kind && f.operation == operation).map(|f| f.count).sum()
    }

    /// Requests of `operation` that reached the proxy (every SDK attempt is one).
    pub fn requests_of(&self, operation: &str) -> u64 {
        self.requests.iter().filter(|r| r.operation == operation).map(|r| r.count).sum()
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../controlplane/faults.sh")
}

impl FaultProxy {
    /// Starts a proxy named `name` (unique per test) in front of the run's emulator, configured
    /// with `config` (the JSON of tests/faults/fault_state.py; `{}` for none).
    pub async fn start(name: &str, config: Value) -> Result<Self> {
        let dir = env("SECURECART_ENV_DIR")?;
        let out = tokio::process::Command::new(script())
            .args(["start", &dir, name, "--config", &config.to_string()])
            .output()
            .await
            .context("running faults.sh")?;
        if !out.status.success() {
            bail!("faults.sh start {name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let url = |key: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {key}='"))?.strip_suffix('\'').map(str::to_string))
                .with_context(|| format!("faults.sh printed no {key}: {stdout}"))
        };
        let proxy_url = url("SECURECART_FAULTS_PROXY_URL")?;
        let control = url("SECURECART_FAULTS_CONTROL_URL")?;
        let control_port = control.rsplit(':').next().and_then(|p| p.parse().ok()).context("control port")?;
        Ok(Self { name: name.into(), dir, proxy_url, control_port })
    }

    /// Merges `config` into the running configuration.
    pub async fn configure(&self, config: Value) -> Result<Value> {
        self.control("POST", "/config", Some(config)).await
    }

    /// Loses the responses of the next `count` calls of `operation`: sent on, applied, then the
    /// client connection is closed.
    pub async fn lose_next(&self, service: &str, operation: &str, count: u32) -> Result<()> {
        self.fail_next(service, operation, "lost", count).await
    }

    /// Injects `fault` (throttle, internal, unavailable, reset, latency, lost) into the next
    /// `count` calls of `operation`.
    pub async fn fail_next(&self, service: &str, operation: &str, fault: &str, count: u32) -> Result<()> {
        let body = json!({"service": service, "operation": operation, "fault": fault, "count": count});
        self.control("POST", "/next", Some(body)).await.map(drop)
    }

    /// Hides the IDs that creates return from reads for `seconds` (0 turns it off).
    pub async fn hide_new_ids(&self, seconds: f64) -> Result<()> {
        self.control("POST", "/hide", Some(json!({"seconds": seconds}))).await.map(drop)
    }

    /// No faults, nothing queued or hidden, counters at zero.
    pub async fn reset(&self) -> Result<()> {
        self.control("POST", "/reset", Some(json!({}))).await.map(drop)
    }

    pub async fn counters(&self) -> Result<FaultCounters> {
        Ok(serde_json::from_value(self.control("GET", "/counters", None).await?)?)
    }

    pub async fn clear_counters(&self) -> Result<()> {
        self.control("POST", "/counters/reset", Some(json!({}))).await.map(drop)
    }

    async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.control_port)).await?;
            let head = format!(
                "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(format!("{head}{body}").as_bytes()).await?;
            let mut buf = String::new();
            stream.read_to_string(&mut buf).await?;
            anyhow::Ok(buf)
        };
        let buf = tokio::time::timeout(Duration::from_secs(10), exchange)
            .await
            .with_context(|| format!("fault proxy control {method} {path} timed out"))??;
        let (head, response) = buf.split_once("\r\n\r\n").context("malformed HTTP response")?;
        if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
            bail!("fault proxy control {method} {path}: {head} {response}");
        }
        Ok(serde_json::from_str(response)?)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script()).args(["stop", &self.dir, &self.name]).output();
    }
}

impl TestEnv {
    /// Like [`TestEnv::start`], with the controller's AWS calls going through a fault proxy of
    /// its own, configured with `config`; the test's clients still talk to the emulator.
    pub async fn start_with_faults(name: &str, region: &str, config: Value) -> Result<(Self, FaultProxy)> {
        let proxy = FaultProxy::start(name, config).await?;
        let mut this = Self::start_without_controller(name, region).await?;
        this.route_controller_through(&proxy);
        this.start_controller().await?;
        Ok((this, proxy))
    }

    /// Controllers started from now on send their AWS calls through `proxy`.
    pub fn route_controller_through(&mut self, proxy: &FaultProxy) {
        self.controller_env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
        self.controller_env.push(("AWS_ENDPOINT_URL".into(), proxy.proxy_url.clone()));
    }
}
