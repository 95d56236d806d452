//! Integration-test harness. `tests/run-integration.sh` starts a real etcd + kube-apiserver and
//! the AWS emulator, then runs these tests with their addresses in the environment. Each test
//! gets its own namespace, its own AWS account in the emulator (assumed through STS, as a test
//! in a real organization would use an account of its own) and its own controller process (the
//! real binary), so tests run in parallel without seeing each other whatever regions they use;
//! AWS state is checked through the AWS API, never through the controller's status.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use aws_sdk_ec2::types::Filter;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use securecart_api::tags::OWNER_UID;
use securecart_api::{LoadBalancerPolicy, VpcTier, VpcTierSpec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::process::{Child, Command};

pub use anyhow::Result;

pub mod faults;
pub mod transit;

/// A test's world: namespace, AWS account and region, controller and clients.
pub struct TestEnv {
    pub name: String,
    pub namespace: String,
    pub region: String,
    /// The test's own AWS account: its controller and its clients act in it.
    pub account: String,
    credentials: aws_sdk_ec2::config::Credentials,
    pub client: Client,
    pub ec2: aws_sdk_ec2::Client,
    controller: Option<Child>,
    metrics_port: u16,
    /// Flags of the controller processes this environment starts.
    pub controller_args: Vec<String>,
    /// The namespace its controllers watch; None for all namespaces.
    pub watch_namespace: Option<String>,
    /// Environment variables of the controller processes this environment starts.
    pub controller_env: Vec<(String, String)>,
}

pub fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| {
        format!("{name} is not set: run the integration tests through `make test` or tests/run-integration.sh")
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free loopback port")
}

pub fn log_dir() -> PathBuf {
    let dir = PathBuf::from(std::env::var("SECURECART_E2E_LOGS").unwrap_or_else(|_| "target/e2e-logs".into()));
    std::fs::create_dir_all(&dir).ok();
    dir
}

impl TestEnv {
    /// Creates the namespace and the test's AWS account, and starts a controller watching only
    /// the namespace and acting in the account.
    pub async fn start(name: &str, region: &str) -> Result<Self> {
        Self::start_with(name, region, None, false).await
    }

    /// Like `start`, with other controller flags than the tests' short resync defaults, and
    /// a controller that watches every namespace when `watch_all`.
    pub async fn start_with(
        name: &str,
        region: &str,
        controller_args: Option<Vec<String>>,
        watch_all: bool,
    ) -> Result<Self> {
        let mut this = Self::start_without_controller(name, region).await?;
        if let Some(args) = controller_args {
            this.controller_args = args;
        }
        if watch_all {
            this.watch_namespace = None;
        }
        this.start_controller().await?;
        Ok(this)
    }

    /// Creates the namespace and clients only; the test starts its controllers itself with
    /// [`TestEnv::spawn_controller`].
    pub async fn start_without_controller(name: &str, region: &str) -> Result<Self> {
        let client = Client::try_default().await.context("kube client from KUBECONFIG")?;
        let namespace = format!("t-{name}");
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": namespace}}))?;
        match namespaces.create(&PostParams::default(), &ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
        let (account, credentials) = test_account(name).await?;
        let config = with_credentials(aws_config(region).await, &credentials);
        let controller_env = vec![
            ("AWS_ACCESS_KEY_ID".to_string(), credentials.access_key_id().to_string()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), credentials.secret_access_key().to_string()),
            ("AWS_SESSION_TOKEN".to_string(), credentials.session_token().unwrap_or_default().to_string()),
        ];
        Ok(Self {
            name: name.into(),
            region: region.into(),
            account,
            credentials,
            client,
            ec2: aws_sdk_ec2::Client::new(&config),
            controller: None,
            metrics_port: 0,
            controller_args: ["--resync-seconds", "3", "--progress-seconds", "1"].map(String::from).to_vec(),
            watch_namespace: Some(namespace.clone()),
            controller_env,
            namespace,
        })
    }

    /// The SDK configuration for `region` in the test's account.
    pub async fn aws_config(&self, region: &str) -> aws_config::SdkConfig {
        with_credentials(aws_config(region).await, &self.credentials)
    }

    /// An EC2 client for `region` in the test's account.
    pub async fn ec2_in(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.aws_config(region).await)
    }

    /// Requests an ACM certificate in the test's account (an HTTPS listener needs one there).
    pub async fn request_certificate(&self, region: &str, domain: &str) -> Result<String> {
        request_certificate_as(self.credentials.access_key_id(), region, domain).await
    }

    /// Creates an S3 bucket in the test's account (flow logs need one there).
    pub async fn create_bucket(&self, bucket: &str) -> Result<()> {
        create_emulator_bucket_as(self.credentials.access_key_id(), bucket).await
    }

    /// Starts (or restarts) the test's own controller process.
    pub async fn start_controller(&mut self) -> Result<()> {
        let process = self.spawn_controller(&[]).await?;
        self.metrics_port = process.metrics_port;
        self.controller = Some(process.child);
        Ok(())
    }

    /// Starts one more controller process for this namespace with `extra` arguments, and waits
    /// for its /readyz. It runs with the kubeconfig in SECURECART_CONTROLLER_KUBECONFIG when set
    /// (run-integration.sh points it at the chart's ServiceAccount), otherwise with the test's.
    pub async fn spawn_controller(&self, extra: &[&str]) -> Result<ControllerProcess> {
        let bin = env("SECURECART_CONTROLLER_BIN")?;
        let metrics_port = free_port();
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(log_dir().join(format!("{}.log", self.name)))?;
        let mut command = Command::new(bin);
        if let Some(ns) = &self.watch_namespace {
            command.args(["--namespace", ns]);
        }
        command
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .args(&self.controller_args)
            .args(extra)
            // SECURECART_CONTROLLER_RUST_LOG widens the filter, e.g. to the SDK's retry decisions.
            .env(
                "RUST_LOG",
                std::env::var("SECURECART_CONTROLLER_RUST_LOG").unwrap_or_else(|_| "info,securecart=debug".into()),
            )
            .envs(self.controller_env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        if let Ok(kubeconfig) = std::env::var("SECURECART_CONTROLLER_KUBECONFIG") {
            command.env("KUBECONFIG", kubeconfig);
        }
        let child = command.spawn().context("starting the controller")?;
        wait_for("controller /readyz", Duration::from_secs(30), || async {
            Ok(http_get(metrics_port, "/readyz").await.is_ok_and(|b| b == "ok"))
        })
        .await?;
        Ok(ControllerProcess { child, metrics_port })
    }

    /// The controller process's ID, for reading its memory and CPU from /proc.
    pub fn controller_pid(&self) -> Option<u32> {
        self.controller.as_ref().and_then(Child::id)
    }

    /// Kills the controller with SIGKILL: no graceful shutdown, like a crash.
    pub async fn kill_controller(&mut self) -> Result<()> {
        if let Some(mut child) = self.controller.take() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }

    pub fn vpc_tiers(&self) -> Api<VpcTier> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub async fn apply_vpc_tier(&self, name: &str, spec: VpcTierSpec) -> Result<VpcTier> {
        let obj = VpcTier::new(name, spec);
        let value = serde_json::json!({
            "apiVersion": "net.securecart.io/v1alpha1",
            "kind": "VpcTier",
            "metadata": {"name": name},
            "spec": obj.spec,
        });
        Ok(self.vpc_tiers().patch(name, &PatchParams::apply("e2e").force(), &Patch::Apply(&value)).await?)
    }

    pub async fn delete_vpc_tier(&self, name: &str) -> Result<()> {
        self.vpc_tiers().delete(name, &DeleteParams::default()).await?;
        Ok(())
    }

    /// Server-side applies an object of any of the operator's kinds from its spec.
    pub async fn apply<K>(&self, name: &str, spec: serde_json::Value) -> Result<K>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        let value = serde_json::json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "metadata": {"name": name},
            "spec": spec,
        });
        let api: Api<K> = Api::namespaced(self.client.clone(), &self.namespace);
        Ok(api.patch(name, &PatchParams::apply("e2e").force(), &Patch::Apply(&value)).await?)
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Waits until a condition of an object of any kind satisfies `check`.
    pub async fn wait_condition<K>(
        &self,
        name: &str,
        type_: &str,
        timeout: Duration,
        check: impl Fn(&Condition) -> bool,
    ) -> Result<K>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + Serialize
            + std::fmt::Debug,
    {
        let api = self.api::<K>();
        let check = &check;
        wait_for(&format!("{} {name} {type_}", K::kind(&())), timeout, || async {
            let o = api.get(name).await?;
            Ok(condition(&o, type_).is_some_and(|c| check(&c) && c.observed_generation == o.meta().generation))
        })
        .await?;
        Ok(api.get(name).await?)
    }

    /// Waits until an object of any kind is Ready=True at its current generation.
    pub async fn wait_ready_as<K>(&self, name: &str, timeout: Duration) -> Result<K>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + Serialize
            + std::fmt::Debug,
    {
        self.wait_condition(name, "Ready", timeout, |c| c.status == "True").await
    }

    /// Waits until an object of any kind is gone (its finalizer done).
    pub async fn wait_gone_as<K>(&self, name: &str, timeout: Duration) -> Result<()>
    where
        K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        let api = self.api::<K>();
        wait_for(&format!("{} {name} deleted", K::kind(&())), timeout, || async {
            Ok(api.get_opt(name).await?.is_none())
        })
        .await
    }

    /// Waits until the VpcTier is Ready=True at its current generation.
    pub async fn wait_ready(&self, name: &str, timeout: Duration) -> Result<VpcTier> {
        self.wait_ready_in(self.vpc_tiers(), name, timeout).await
    }

    /// Waits until an object of any kind is Ready=True at its current generation.
    pub async fn wait_ready_in<K>(&self, api: Api<K>, name: &str, timeout: Duration) -> Result<K>
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + serde::Serialize,
    {
        wait_for(&format!("{name} Ready"), timeout, || async {
            let o = serde_json::to_value(api.get(name).await?)?;
            let ready = o["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
            Ok(ready && o["status"]["observedGeneration"] == o["metadata"]["generation"])
        })
        .await?;
        Ok(api.get(name).await?)
    }

    /// Waits until the VpcTier is gone (finalizer done).
    pub async fn wait_gone(&self, name: &str, timeout: Duration) -> Result<()> {
        self.wait_gone_in(self.vpc_tiers(), name, timeout).await
    }

    pub async fn wait_gone_in<K>(&self, api: Api<K>, name: &str, timeout: Duration) -> Result<()>
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        wait_for(&format!("{name} deleted"), timeout, || async { Ok(api.get_opt(name).await?.is_none()) }).await
    }

    pub fn load_balancer_policies(&self) -> Api<LoadBalancerPolicy> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Applies a LoadBalancerPolicy from manifest-like JSON (the spec is checked by the apiserver,
    /// so invalid specs can be tried too).
    pub async fn apply_load_balancer_policy(&self, name: &str, spec: serde_json::Value) -> Result<LoadBalancerPolicy> {
        let value = serde_json::json!({
            "apiVersion": "net.securecart.io/v1alpha1",
            "kind": "LoadBalancerPolicy",
            "metadata": {"name": name},
            "spec": spec,
        });
        Ok(self.load_balancer_policies().patch(name, &PatchParams::apply("e2e").force(), &Patch::Apply(&value)).await?)
    }

    /// Clients for load balancing checks: ELBv2 and WAFv2 in `region`, Route 53 and Shield global.
    pub async fn load_balancing_clients(&self, region: &str) -> LoadBalancingClients {
        let regional = self.aws_config(region).await;
        let global = self.aws_config("us-east-1").await;
        LoadBalancingClients {
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&regional),
            waf: aws_sdk_wafv2::Client::new(&regional),
            ec2: aws_sdk_ec2::Client::new(&regional),
            route53: aws_sdk_route53::Client::new(&global),
            shield: aws_sdk_shield::Client::new(&global),
        }
    }

    /// The controller's Prometheus text.
    pub async fn metrics(&self) -> Result<String> {
        http_get(self.metrics_port, "/metrics").await
    }

    /// Sum of AWS calls that change something, as the controller counted them.
    pub async fn mutating_calls(&self) -> Result<u64> {
        Ok(sum_metric(&self.metrics().await?, "securecart_aws_api_calls_total", &[("mutating", "true")]))
    }

    pub async fn reconciles(&self) -> Result<u64> {
        Ok(sum_metric(&self.metrics().await?, "securecart_reconciles_total", &[]))
    }

    /// Resources in this test's region tagged with the owner's UID, by kind.
    pub async fn owned(&self, uid: &str) -> Result<Owned> {
        Owned::read(&self.ec2, uid).await
    }

    /// Events recorded on an object, as (reason, note) pairs.
    pub async fn events(&self, name: &str) -> Result<Vec<(String, String)>> {
        let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = api.list(&ListParams::default()).await?;
        Ok(list
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect())
    }

    /// Runs the project's kubectl against the test apiserver.
    pub async fn kubectl(&self, args: &[&str]) -> Result<std::process::Output> {
        Ok(Command::new(std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into())).args(args).output().await?)
    }
}

/// A controller process started by [`TestEnv::spawn_controller`]; killed when dropped.
pub struct ControllerProcess {
    child: Child,
    pub metrics_port: u16,
}

impl ControllerProcess {
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub async fn metrics(&self) -> Result<String> {
        http_get(self.metrics_port, "/metrics").await
    }

    /// Whether this process runs the controllers (securecart_leader is 1).
    pub async fn is_leader(&self) -> Result<bool> {
        Ok(sum_metric(&self.metrics().await?, "securecart_leader", &[]) == 1)
    }

    pub async fn reconciles(&self) -> Result<u64> {
        Ok(sum_metric(&self.metrics().await?, "securecart_reconciles_total", &[]))
    }

    /// Waits for the process to exit on its own.
    pub async fn wait_exit(mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        Ok(tokio::time::timeout(timeout, self.child.wait()).await.context("the controller did not exit")??)
    }

    /// SIGKILL: no graceful shutdown, no lease release, like a crashed node.
    pub async fn kill(mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }
}

/// The test's own account: a 12-digit ID derived from its name (never the emulator's default
/// account, which the bench and the chaos runner use), and credentials in it from STS
/// AssumeRole, which the emulator answers for the role's account.
async fn test_account(name: &str) -> Result<(String, aws_sdk_ec2::config::Credentials)> {
    let digest = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let account = format!("4{:011}", digest % 100_000_000_000);
    let sts = aws_sdk_sts::Client::new(&aws_config("us-east-1").await);
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/securecart-e2e"))
        .role_session_name(format!("e2e-{}", name.chars().take(40).collect::<String>()))
        .send()
        .await
        .with_context(|| format!("assuming a role in the test's account {account}"))?;
    let c = assumed.credentials().context("AssumeRole returned no credentials")?;
    let credentials = aws_sdk_ec2::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "securecart-e2e",
    );
    Ok((account, credentials))
}

fn with_credentials(
    config: aws_config::SdkConfig,
    credentials: &aws_sdk_ec2::config::Credentials,
) -> aws_config::SdkConfig {
    config
        .to_builder()
        .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(credentials.clone()))
        .build()
}

pub async fn aws_config(region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await
}

pub struct LoadBalancingClients {
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub waf: aws_sdk_wafv2::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub route53: aws_sdk_route53::Client,
    pub shield: aws_sdk_shield::Client,
}

/// What one LoadBalancerPolicy owns in a region, read through the AWS API by its owner tag.
#[derive(Debug, Default)]
pub struct OwnedLoadBalancing {
    pub load_balancers: Vec<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>,
    pub target_groups: Vec<aws_sdk_elasticloadbalancingv2::types::TargetGroup>,
    pub security_groups: Vec<aws_sdk_ec2::types::SecurityGroup>,
    /// (name, id, ARN)
    pub web_acls: Vec<(String, String, String)>,
    pub health_checks: Vec<aws_sdk_route53::types::HealthCheck>,
}

impl OwnedLoadBalancing {
    pub fn total(&self) -> usize {
        self.load_balancers.len()
            + self.target_groups.len()
            + self.security_groups.len()
            + self.web_acls.len()
            + self.health_checks.len()
    }
}

impl LoadBalancingClients {
    pub async fn owned(&self, uid: &str) -> Result<OwnedLoadBalancing> {
        let has_uid = |tags: &[aws_sdk_elasticloadbalancingv2::types::Tag]| {
            tags.iter().any(|t| t.key() == Some(OWNER_UID) && t.value() == Some(uid))
        };
        let lbs = self.elb.describe_load_balancers().send().await?.load_balancers().to_vec();
        let tgs = self.elb.describe_target_groups().send().await?.target_groups().to_vec();
        let arns: Vec<String> = lbs
            .iter()
            .filter_map(|l| l.load_balancer_arn())
            .chain(tgs.iter().filter_map(|t| t.target_group_arn()))
            .map(str::to_string)
            .collect();
        let mut owned_arns = std::collections::BTreeSet::new();
        for batch in arns.chunks(20) {
            let out = self.elb.describe_tags().set_resource_arns(Some(batch.to_vec())).send().await?;
            for d in out.tag_descriptions() {
                if has_uid(d.tags()) {
                    owned_arns.insert(d.resource_arn().unwrap_or_default().to_string());
                }
            }
        }
        let sgs = self
            .ec2
            .describe_security_groups()
            .filters(Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid).build())
            .send()
            .await?;
        let mut web_acls = Vec::new();
        let acls = self.waf.list_web_acls().scope(aws_sdk_wafv2::types::Scope::Regional).send().await?;
        for a in acls.web_acls() {
            let arn = a.arn().unwrap_or_default();
            let tags = self.waf.list_tags_for_resource().resource_arn(arn).send().await?;
            let owned = tags
                .tag_info_for_resource()
                .is_some_and(|t| t.tag_list().iter().any(|t| t.key() == OWNER_UID && t.value() == uid));
            if owned {
                web_acls.push((a.name().unwrap_or_default().into(), a.id().unwrap_or_default().into(), arn.into()));
            }
        }
        let mut health_checks = Vec::new();
        for h in self.route53.list_health_checks().send().await?.health_checks() {
            let tags = self
                .route53
                .list_tags_for_resource()
                .resource_type(aws_sdk_route53::types::TagResourceType::Healthcheck)
                .resource_id(h.id())
                .send()
                .await?;
            let owned = tags
                .resource_tag_set()
                .is_some_and(|t| t.tags().iter().any(|t| t.key() == Some(OWNER_UID) && t.value() == Some(uid)));
            if owned {
                health_checks.push(h.clone());
            }
        }
        Ok(OwnedLoadBalancing {
            load_balancers: lbs
                .into_iter()
                .filter(|l| owned_arns.contains(l.load_balancer_arn().unwrap_or_default()))
                .collect(),
            target_groups: tgs
                .into_iter()
                .filter(|t| owned_arns.contains(t.target_group_arn().unwrap_or_default()))
                .collect(),
            security_groups: sgs.security_groups().to_vec(),
            web_acls,
            health_checks,
        })
    }

    /// A public hosted zone with a unique name (Route 53 is global in the emulator). Returns its ID.
    pub async fn create_hosted_zone(&self, name: &str) -> Result<String> {
        let out = self.route53.create_hosted_zone().name(name).caller_reference(name).send().await?;
        let id = out.hosted_zone().map(|z| z.id().trim_start_matches("/hostedzone/").to_string());
        id.context("CreateHostedZone returned no zone")
    }

    /// The A and AAAA records at `name` in the zone.
    pub async fn records(&self, zone_id: &str, name: &str) -> Result<Vec<aws_sdk_route53::types::ResourceRecordSet>> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let out = self.route53.list_resource_record_sets().hosted_zone_id(zone_id).send().await?;
        Ok(out
            .resource_record_sets()
            .iter()
            .filter(|r| r.name() == fqdn && matches!(r.r#type().as_str(), "A" | "AAAA"))
            .cloned()
            .collect())
    }
}

/// Requests an ACM certificate in the emulator's default account; see
/// [`TestEnv::request_certificate`].
pub async fn request_certificate(region: &str, domain: &str) -> Result<String> {
    request_certificate_as("testing", region, domain).await
}

/// Requests an ACM certificate in the emulator (an HTTPS listener needs one that exists there)
/// with a plain JSON request, in the account of `access_key_id`: the operator never calls ACM,
/// so the tests carry no ACM SDK.
async fn request_certificate_as(access_key_id: &str, region: &str, domain: &str) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = env("AWS_ENDPOINT_URL")?;
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let body = serde_json::json!({"DomainName": domain}).to_string();
    let request = format!(
        "POST / HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: CertificateManager.RequestCertificate\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={access_key_id}/20260101/{region}/acm/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut buf = String::new();
    stream.read_to_string(&mut buf).await?;
    let (_, response) = buf.split_once("\r\n\r\n").context("malformed HTTP response")?;
    let value: serde_json::Value = serde_json::from_str(response).with_context(|| format!("ACM answered {buf}"))?;
    value["CertificateArn"].as_str().map(str::to_string).context("no CertificateArn")
}

/// Everything one owner holds in the emulator, read through the AWS API.
#[derive(Debug)]
pub struct Owned {
    pub vpcs: Vec<aws_sdk_ec2::types::Vpc>,
    pub subnets: Vec<aws_sdk_ec2::types::Subnet>,
    pub internet_gateways: Vec<aws_sdk_ec2::types::InternetGateway>,
    pub route_tables: Vec<aws_sdk_ec2::types::RouteTable>,
    pub nat_gateways: Vec<aws_sdk_ec2::types::NatGateway>,
    pub addresses: Vec<aws_sdk_ec2::types::Address>,
    pub flow_logs: Vec<aws_sdk_ec2::types::FlowLog>,
}

impl Owned {
    /// Resources in the client's region tagged with the owner's UID, by kind.
    pub async fn read(ec2: &aws_sdk_ec2::Client, uid: &str) -> Result<Owned> {
        let f = || Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid).build();
        let vpcs = ec2.describe_vpcs().filters(f()).send().await?;
        let subnets = ec2.describe_subnets().filters(f()).send().await?;
        let igws = ec2.describe_internet_gateways().filters(f()).send().await?;
        let tables = ec2.describe_route_tables().filters(f()).send().await?;
        // The emulator ignores NAT gateway filters; filter on tags here as the controller does.
        let nats = ec2.describe_nat_gateways().send().await?;
        let addresses = ec2.describe_addresses().filters(f()).send().await?;
        let flow_logs = ec2.describe_flow_logs().filter(f()).send().await?;
        let has_uid = |tags: &[aws_sdk_ec2::types::Tag]| {
            tags.iter().any(|t| t.key() == Some(OWNER_UID) && t.value() == Some(uid))
        };
        Ok(Owned {
            vpcs: vpcs.vpcs().to_vec(),
            subnets: subnets.subnets().to_vec(),
            internet_gateways: igws.internet_gateways().to_vec(),
            route_tables: tables.route_tables().to_vec(),
            nat_gateways: nats
                .nat_gateways()
                .iter()
                .filter(|n| has_uid(n.tags()) && n.state().is_some_and(|s| s.as_str() != "deleted"))
                .cloned()
                .collect(),
            addresses: addresses.addresses().to_vec(),
            flow_logs: flow_logs.flow_logs().to_vec(),
        })
    }

    pub fn total(&self) -> usize {
        self.vpcs.len()
            + self.subnets.len()
            + self.internet_gateways.len()
            + self.route_tables.len()
            + self.nat_gateways.len()
            + self.addresses.len()
            + self.flow_logs.len()
    }

    /// Subnet ID by component tag.
    pub fn subnet_ids(&self) -> BTreeMap<String, String> {
        self.subnets
            .iter()
            .filter_map(|s| Some((tag(s.tags(), securecart_api::tags::COMPONENT)?, s.subnet_id()?.to_string())))
            .collect()
    }
}

pub fn tag(tags: &[aws_sdk_ec2::types::Tag], key: &str) -> Option<String> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value()).map(str::to_string)
}

/// A condition of an object of any kind, read from its serialized status.
pub fn condition<K: Serialize>(obj: &K, type_: &str) -> Option<Condition> {
    let value = serde_json::to_value(obj).ok()?;
    let conditions = value.get("status")?.get("conditions")?.as_array()?.clone();
    conditions.into_iter().filter_map(|c| serde_json::from_value::<Condition>(c).ok()).find(|c| c.type_ == type_)
}

pub fn ready_status(o: &VpcTier) -> Option<String> {
    ready_condition(o).map(|c| c.status)
}

pub fn ready_condition(o: &VpcTier) -> Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    o.status.as_ref()?.conditions.iter().find(|c| c.type_ == "Ready").cloned()
}

/// Polls `check` until it returns true, or fails with `what` after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last_error = Some(e),
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what} (last error: {last_error:?})");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn http_get(port: u16, path: &str) -> Result<String> {
    http_get_at(&format!("127.0.0.1:{port}"), path).await
}

/// GET `path` from `authority` (host:port) over plain HTTP; the body of a 200 answer.
pub async fn http_get_at(authority: &str, path: &str) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").as_bytes()).await?;
    let mut buf = String::new();
    stream.read_to_string(&mut buf).await?;
    let (head, body) = buf.split_once("\r\n\r\n").context("malformed HTTP response")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or_default());
    }
    Ok(body.to_string())
}

/// Sums a Prometheus counter over the series whose labels include all of `labels`.
pub fn sum_metric(text: &str, name: &str, labels: &[(&str, &str)]) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Creates an S3 bucket in the emulator (flow logs to S3 need one), with a plain HTTP request:
/// the emulator does not check signatures, and the operator itself never calls S3.
pub async fn create_emulator_bucket(bucket: &str) -> Result<()> {
    create_emulator_bucket_as("testing", bucket).await
}

/// Creates a bucket in the account of `access_key_id`.
async fn create_emulator_bucket_as(access_key_id: &str, bucket: &str) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = env("AWS_ENDPOINT_URL")?;
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    );
    stream
        .write_all(
            format!("PUT /{bucket} HTTP/1.0\r\nHost: {authority}\r\nAuthorization: {authorization}\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut buf = String::new();
    stream.read_to_string(&mut buf).await?;
    if !buf.starts_with("HTTP/1.0 200") && !buf.starts_with("HTTP/1.1 200") {
        bail!("creating bucket {bucket}: {}", buf.lines().next().unwrap_or_default());
    }
    Ok(())
}

/// A spec from YAML-like JSON, so tests read like manifests.
pub fn spec(value: serde_json::Value) -> VpcTierSpec {
    serde_json::from_value(value).expect("test spec is a valid VpcTierSpec")
}
