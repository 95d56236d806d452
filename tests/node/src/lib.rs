//! Harness of the node tests. `tests/run-node.sh` brings up a real single-node cluster
//! (`tests/controlplane/node.sh`), imports the operator image that `make image` built, and runs
//! these tests with the node's environment. They install `deploy/` as a user would and observe
//! the operator's pods through the API, their metrics port, the kubelet and /proc; AWS state is
//! read through the AWS API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use aws_sdk_ec2::types::Filter;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::{Client, ResourceExt};
use securecart_api::VpcTier;
use securecart_api::tags::OWNER_UID;
use securecart_e2e::{LoadBalancingClients, Owned, aws_config, env, http_get_at, sum_metric, wait_for};

pub use securecart_e2e::Result;

/// Where deploy/ installs the operator, and the chart's names.
pub const NAMESPACE: &str = "securecart-system";
pub const RELEASE: &str = "securecart-operator";
pub const LEASE: &str = "securecart-operator-leader";
/// The namespace of examples/.
pub const EXAMPLES_NAMESPACE: &str = "platform";
const POD_SELECTOR: &str = "app.kubernetes.io/name=securecart-operator";
const METRICS_PORT: u16 = 8080;

/// The node's cluster and the tools to drive it.
pub struct Node {
    pub client: Client,
    pub root: PathBuf,
    pub node_name: String,
    pub aws_endpoint: String,
    kubectl: PathBuf,
    helm: PathBuf,
    python: PathBuf,
    ec2: aws_sdk_ec2::Client,
    apigateway: aws_sdk_apigateway::Client,
    cloudfront: aws_sdk_cloudfront::Client,
    load_balancing: LoadBalancingClients,
}

/// One example object: `Kind/name` and its UID, which its AWS resources carry as a tag.
#[derive(Clone, Debug)]
pub struct Example {
    pub key: String,
    pub kind: String,
    pub uid: String,
}

/// What each example object owns in AWS: resource kind -> count.
pub type Inventory = BTreeMap<String, BTreeMap<&'static str, usize>>;

/// The operator's process in a pod, seen from the host.
#[derive(Debug)]
pub struct ContainerProcess {
    pub pid: u32,
    /// Real, effective, saved and filesystem user IDs, as /proc/PID/status lists them.
    pub uids: Vec<u32>,
    pub gids: Vec<u32>,
    pub effective_capabilities: u64,
    pub no_new_privileges: bool,
    pub root_read_only: bool,
    /// What the image's root directory holds.
    pub root_entries: Vec<String>,
}

impl Node {
    /// The node that tests/run-node.sh brought up; fails when its environment is missing.
    pub async fn connect() -> Result<Self> {
        let node_dir = env("SECURECART_NODE_DIR")?;
        anyhow::ensure!(Path::new(&node_dir).join("env").is_file(), "no node is up in {node_dir}");
        let client = Client::try_default().await.context("kube client from KUBECONFIG")?;
        let region = aws_config("us-east-1").await;
        Ok(Self {
            client,
            root: PathBuf::from(env("SECURECART_ROOT")?),
            node_name: env("SECURECART_NODE_NAME")?,
            aws_endpoint: env("AWS_ENDPOINT_URL")?,
            kubectl: PathBuf::from(env("KUBECTL")?),
            helm: PathBuf::from(env("HELM")?),
            python: PathBuf::from(env("SECURECART_PYTHON")?),
            ec2: aws_sdk_ec2::Client::new(&region),
            apigateway: aws_sdk_apigateway::Client::new(&region),
            cloudfront: aws_sdk_cloudfront::Client::new(&region),
            load_balancing: LoadBalancingClients {
                elb: aws_sdk_elasticloadbalancingv2::Client::new(&region),
                waf: aws_sdk_wafv2::Client::new(&region),
                ec2: aws_sdk_ec2::Client::new(&region),
                route53: aws_sdk_route53::Client::new(&region),
                shield: aws_sdk_shield::Client::new(&region),
            },
        })
    }

    /// Runs a program in the repository root; its standard output, or an error with both outputs.
    pub async fn run(&self, program: &Path, args: &[&str]) -> Result<String> {
        let out = tokio::process::Command::new(program)
            .args(args)
            .current_dir(&self.root)
            .output()
            .await
            .with_context(|| format!("running {}", program.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            bail!("`{} {}` failed ({}):\n{stdout}{stderr}", program.display(), args.join(" "), out.status);
        }
        Ok(stdout)
    }

    pub async fn kubectl(&self, args: &[&str]) -> Result<String> {
        self.run(&self.kubectl, args).await
    }

    pub async fn helm(&self, args: &[&str]) -> Result<String> {
        self.run(&self.helm, args).await
    }

    /// The operator's pods, terminating ones included.
    pub async fn operator_pods(&self) -> Result<Vec<Pod>> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), NAMESPACE);
        Ok(pods.list(&ListParams::default().labels(POD_SELECTOR)).await?.items)
    }

    /// Waits until exactly `replicas` operator pods exist, none terminating, all Running and
    /// Ready (the kubelet's readiness probe passed) with `image`.
    pub async fn wait_pods(&self, image: &str, replicas: usize, timeout: Duration) -> Result<Vec<Pod>> {
        wait_for(&format!("{replicas} Ready operator pods with {image}"), timeout, || async {
            let pods = self.operator_pods().await?;
            Ok(pods.len() == replicas && pods.iter().all(|p| is_ready(p) && pod_image(p) == Some(image)))
        })
        .await?;
        self.operator_pods().await
    }

    pub async fn lease_holder(&self) -> Result<Option<String>> {
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), NAMESPACE);
        Ok(leases.get_opt(LEASE).await?.and_then(|l| l.spec?.holder_identity))
    }

    /// The pod's Prometheus text, scraped from its own IP and metrics port.
    pub async fn metrics(&self, pod: &Pod) -> Result<String> {
        let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).context("pod has no IP")?;
        let authority = format!("{ip}:{METRICS_PORT}");
        let scrape = http_get_at(&authority, "/metrics");
        // A frozen or dying process would hold the request forever.
        tokio::time::timeout(Duration::from_secs(3), scrape).await.context("metrics scrape timed out")?
    }

    /// Names of the pods whose securecart_leader gauge is 1; a pod that does not answer counts
    /// as not leading.
    pub async fn leaders(&self, pods: &[Pod]) -> Result<Vec<String>> {
        let mut leaders = Vec::new();
        for pod in pods {
            if let Ok(text) = self.metrics(pod).await
                && sum_metric(&text, "securecart_leader", &[]) == 1
            {
                leaders.push(pod.name_any());
            }
        }
        Ok(leaders)
    }

    /// Sends a signal to the pod's controller process from the host (STOP freezes it like a
    /// hung node, CONT thaws it).
    pub async fn signal(&self, pod: &Pod, signal: &str) -> Result<()> {
        let pid = self.container_process(pod).await?.pid.to_string();
        self.run(Path::new("kill"), &[&format!("-{signal}"), &pid]).await.map(drop)
    }

    /// How often the pod's controller container has restarted.
    pub async fn restarts(&self, name: &str) -> Result<i32> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), NAMESPACE);
        let pod = pods.get(name).await?;
        Ok(pod.status.and_then(|s| s.container_statuses?.first().map(|c| c.restart_count)).unwrap_or(0))
    }

    /// Successful probes of a type ("Liveness", "Readiness") the kubelet ran on a pod, from its
    /// /metrics/probes endpoint through the apiserver's node proxy.
    pub async fn successful_probes(&self, pod: &str, probe_type: &str) -> Result<u64> {
        let path = format!("/api/v1/nodes/{}/proxy/metrics/probes", self.node_name);
        let text = self.kubectl(&["get", "--raw", &path]).await?;
        let labels = [("namespace", NAMESPACE), ("pod", pod), ("probe_type", probe_type), ("result", "successful")];
        Ok(sum_metric(&text, "prober_probe_total", &labels))
    }

    /// The pod's controller process as the kernel sees it, found through containerd's tasks.
    pub async fn container_process(&self, pod: &Pod) -> Result<ContainerProcess> {
        let id = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref()?.first()?.container_id.clone())
            .context("pod has no container ID")?;
        let id = id.trim_start_matches("containerd://");
        let tasks = self.run(Path::new("ctr"), &["tasks", "ls"]).await?;
        let pid: u32 = tasks
            .lines()
            .find_map(|l| {
                let mut fields = l.split_whitespace();
                (fields.next()? == id).then(|| fields.next()?.parse().ok())?
            })
            .with_context(|| format!("no containerd task {id}:\n{tasks}"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| {
            status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_default().to_string()
        };
        let ids = |name: &str| field(name).split_whitespace().filter_map(|v| v.parse().ok()).collect();
        let mountinfo = std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))?;
        let root_options = mountinfo
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.get(4) == Some(&"/"))
            .and_then(|f| f.get(5).map(|o| o.to_string()))
            .unwrap_or_default();
        let mut root_entries: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/root"))?
            .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
            .collect();
        root_entries.sort();
        Ok(ContainerProcess {
            pid,
            uids: ids("Uid:"),
            gids: ids("Gid:"),
            effective_capabilities: u64::from_str_radix(&field("CapEff:"), 16)?,
            no_new_privileges: field("NoNewPrivs:") == "1",
            root_read_only: root_options.split(',').any(|o| o == "ro"),
            root_entries,
        })
    }

    /// Makes what the examples refer to in the emulator, then applies examples/ as a user would.
    pub async fn apply_examples(&self) -> Result<()> {
        let setup = self.root.join("examples/emulator-setup.py");
        self.run(&self.python, &[setup.to_str().context("path")?]).await?;
        self.kubectl(&["apply", "-f", "examples/00-namespace.yaml"]).await?;
        self.kubectl(&["apply", "--server-side", "-f", "examples/"]).await?;
        Ok(())
    }

    /// The example objects in the cluster, by kind and name.
    pub async fn examples(&self) -> Result<Vec<Example>> {
        let mut out = Vec::new();
        for resource in example_kinds() {
            let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), EXAMPLES_NAMESPACE, &resource);
            for o in api.list(&ListParams::default()).await?.items {
                let uid = o.uid().context("object without UID")?;
                out.push(Example {
                    key: format!("{}/{}", resource.kind, o.name_any()),
                    kind: resource.kind.clone(),
                    uid,
                });
            }
        }
        Ok(out)
    }

    /// Waits until every example object is Ready=True at its current generation (so each change
    /// made to it has been reconciled), and there are as many as examples/ defines.
    pub async fn wait_examples_ready(&self, timeout: Duration) -> Result<()> {
        let expected = example_objects(&self.root)?;
        let not_ready = std::sync::Mutex::new(Vec::new());
        let not_ready = &not_ready;
        let result = wait_for("every example Ready at its generation", timeout, || async move {
            let mut pending = Vec::new();
            let mut count = 0;
            for resource in example_kinds() {
                let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), EXAMPLES_NAMESPACE, &resource);
                for o in api.list(&ListParams::default()).await?.items {
                    count += 1;
                    if !ready_at_generation(&o) {
                        pending.push(format!("{}/{}", resource.kind, o.name_any()));
                    }
                }
            }
            let done = count == expected && pending.is_empty();
            *not_ready.lock().expect("not poisoned") = pending;
            Ok(done)
        })
        .await;
        result.with_context(|| format!("not Ready: {:?}", not_ready.lock().expect("not poisoned")))
    }

    /// Counts every AWS resource tagged with each example's UID.
    pub async fn inventory(&self, examples: &[Example]) -> Result<Inventory> {
        let mut inventory = Inventory::new();
        for e in examples {
            let ec2 = Owned::read(&self.ec2, &e.uid).await?;
            let lb = self.load_balancing.owned(&e.uid).await?;
            let endpoints = self
                .ec2
                .describe_vpc_endpoints()
                .filters(Filter::builder().name(format!("tag:{OWNER_UID}")).values(&e.uid).build())
                .send()
                .await?;
            let live_endpoints = endpoints
                .vpc_endpoints()
                .iter()
                .filter(|v| v.state().is_some_and(|s| !s.as_str().eq_ignore_ascii_case("deleted")))
                .count();
            let hub = securecart_e2e::transit::hub_owned(&self.ec2, &e.uid).await?;
            let peerings = securecart_e2e::transit::peering_connections(&self.ec2, &e.uid).await?;
            let apis = self.apigateway.get_rest_apis().limit(500).send().await?;
            let rest_apis = apis
                .items()
                .iter()
                .filter(|a| a.tags().and_then(|t| t.get(OWNER_UID)).is_some_and(|u| *u == e.uid))
                .count();
            let distributions = self.distributions_of(&e.uid).await?;
            let counts = BTreeMap::from([
                ("vpcs", ec2.vpcs.len()),
                ("subnets", ec2.subnets.len()),
                ("internet gateways", ec2.internet_gateways.len()),
                ("route tables", ec2.route_tables.len()),
                ("NAT gateways", ec2.nat_gateways.len()),
                ("elastic IPs", ec2.addresses.len()),
                ("flow logs", ec2.flow_logs.len()),
                ("VPC endpoints", live_endpoints),
                ("load balancers", lb.load_balancers.len()),
                ("target groups", lb.target_groups.len()),
                ("security groups", lb.security_groups.len()),
                ("web ACLs", lb.web_acls.len()),
                ("health checks", lb.health_checks.len()),
                ("transit gateways", hub.transit_gateways.len()),
                ("transit gateway parts", hub.total()),
                ("peering connections", peerings.len()),
                ("REST APIs", rest_apis),
                ("distributions", distributions),
            ]);
            inventory.insert(e.key.clone(), counts);
        }
        Ok(inventory)
    }

    /// How many CloudFront distributions carry `uid` as their owner.
    async fn distributions_of(&self, uid: &str) -> Result<usize> {
        let list = self.cloudfront.list_distributions().send().await?;
        let mut n = 0;
        for d in list.distribution_list().map(|l| l.items()).unwrap_or_default() {
            let tags = self.cloudfront.list_tags_for_resource().resource(d.arn()).send().await?;
            let items = tags.tags().map(|t| t.items()).unwrap_or_default();
            n += usize::from(items.iter().any(|t| t.key() == OWNER_UID && t.value() == Some(uid)));
        }
        Ok(n)
    }

    /// Merges `tags` into a VpcTier's spec.tags; returns the new generation.
    pub async fn tag_vpc_tier(&self, name: &str, key: &str, value: &str) -> Result<i64> {
        let api: Api<VpcTier> = Api::namespaced(self.client.clone(), EXAMPLES_NAMESPACE);
        let patch = serde_json::json!({"spec": {"tags": {key: value}}});
        let o = api.patch(name, &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await?;
        o.metadata.generation.context("no generation")
    }

    /// The value of a tag on the VPC a VpcTier owns, read from EC2.
    pub async fn vpc_tag(&self, uid: &str, key: &str) -> Result<Option<String>> {
        let owned = Owned::read(&self.ec2, uid).await?;
        let vpc = owned.vpcs.first().context("the VpcTier owns no VPC")?;
        Ok(securecart_e2e::tag(vpc.tags(), key))
    }

    /// What to look at when a step fails: pods, the operator's logs, recent events.
    pub async fn diagnostics(&self) -> String {
        let mut out = String::new();
        let logs = ["logs", "-n", NAMESPACE, "-l", POD_SELECTOR, "--tail", "40", "--prefix", "--all-containers"];
        let commands: [&[&str]; 3] =
            [&["get", "pods", "-A", "-o", "wide"], &logs, &["get", "events", "-A", "--sort-by", ".lastTimestamp"]];
        for args in commands {
            out.push_str(&format!("---- kubectl {}\n", args.join(" ")));
            match self.kubectl(args).await {
                Ok(text) => out.push_str(&text),
                Err(e) => out.push_str(&format!("{e:#}\n")),
            }
        }
        out
    }
}

pub fn is_ready(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    pod.metadata.deletion_timestamp.is_none()
        && status.and_then(|s| s.phase.as_deref()) == Some("Running")
        && status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub fn pod_image(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.containers.first().map(|c| c.image.as_deref().unwrap_or_default())
}

/// Every kind the operator serves (examples/ may hold any of them).
fn example_kinds() -> Vec<ApiResource> {
    securecart_api::kinds::crds()
        .into_iter()
        .map(|crd| {
            let version = crd.spec.versions.first().map(|v| v.name.clone()).unwrap_or_default();
            ApiResource {
                api_version: format!("{}/{version}", crd.spec.group),
                group: crd.spec.group,
                version,
                kind: crd.spec.names.kind,
                plural: crd.spec.names.plural,
            }
        })
        .collect()
}

/// How many objects of the operator's kinds examples/ defines (a file may hold several).
fn example_objects(root: &Path) -> Result<usize> {
    let kinds: Vec<String> =
        securecart_api::kinds::names().into_iter().map(|(kind, _)| format!("kind: {kind}")).collect();
    let mut count = 0;
    for entry in std::fs::read_dir(root.join("examples"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path)?;
            count += text.lines().filter(|l| kinds.iter().any(|k| l.trim_end() == k)).count();
        }
    }
    Ok(count)
}

fn ready_at_generation(o: &DynamicObject) -> bool {
    let status = &o.data["status"];
    let ready = status["conditions"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
    ready && status["observedGeneration"].as_i64() == o.metadata.generation
}
