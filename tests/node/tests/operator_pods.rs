//! The operator as users run it: the image `make image` built, installed on a real node with
//! `helm install` and then with the kustomize base, its two replicas electing a leader, the
//! examples converging through the pods, a leader pod deleted, a `helm upgrade` to a new image
//! tag, `helm uninstall`, and removal. One node and one install, the steps in sequence: each
//! step starts from where the last one left the cluster and the AWS account.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams};
use securecart_e2e::wait_for;
use securecart_node_e2e::{EXAMPLES_NAMESPACE, Example, Inventory, NAMESPACE, Node, RELEASE, Result, is_ready};

const IMAGE: &str = "securecart-operator:0.1.0";
/// The same build under a second tag (tests/run-node.sh imports both).
const UPGRADE_TAG: &str = "0.1.0-upgrade";
/// The chart's leader election defaults.
const LEASE_SECONDS: u64 = 15;
const RETRY_SECONDS: u64 = 2;
const ROLLOUT: Duration = Duration::from_secs(180);
const CONVERGE: Duration = Duration::from_secs(240);

fn step(t0: Instant, what: &str) {
    eprintln!("[{:>6.1}s] {what}", t0.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_runs_as_pods_from_helm_and_kustomize() -> Result<()> {
    let node = Node::connect().await?;
    let result = scenario(&node).await;
    if result.is_err() {
        eprintln!("{}", node.diagnostics().await);
    }
    result
}

async fn scenario(node: &Node) -> Result<()> {
    let t0 = Instant::now();
    step(t0, "helm install");
    node.kubectl(&["create", "namespace", NAMESPACE]).await?;
    // Static credentials from a Secret, as outside EKS; the endpoint is the emulator's.
    let secret = format!(
        "create secret generic aws-credentials -n {NAMESPACE} \
         --from-literal=AWS_ACCESS_KEY_ID=testing --from-literal=AWS_SECRET_ACCESS_KEY=testing"
    );
    node.kubectl(&words(&secret)).await?;
    let install = format!(
        "install {RELEASE} deploy/helm/securecart-operator --namespace {NAMESPACE} \
         --set extraEnv[0].name=AWS_ENDPOINT_URL --set-string extraEnv[0].value={} \
         --set extraEnvFrom[0].secretRef.name=aws-credentials --wait --timeout 3m",
        node.aws_endpoint
    );
    node.helm(&words(&install)).await?;
    let pods = node.wait_pods(IMAGE, 2, ROLLOUT).await?;
    for pod in &pods {
        hardened(node, pod).await?;
    }
    let leader = one_leader(node, &pods).await?;

    step(t0, "the examples converge through the pods");
    node.apply_examples().await?;
    node.wait_examples_ready(CONVERGE).await?;
    let examples = node.examples().await?;
    let baseline = node.inventory(&examples).await?;
    expect_one_of_each(&examples, &baseline);
    let standby = pods.iter().find(|p| p.name_any() != leader).expect("two pods");
    let leader_pod = pods.iter().find(|p| p.name_any() == leader).expect("the leader");
    let reconciles = |text: &str| securecart_e2e::sum_metric(text, "securecart_reconciles_total", &[]);
    assert!(reconciles(&node.metrics(leader_pod).await?) > 0, "the leader reconciles (its metrics port says)");
    assert_eq!(reconciles(&node.metrics(standby).await?), 0, "the standby does not reconcile");
    probes_used_by_the_kubelet(node, &pods).await?;

    step(t0, "the leader freezes (SIGSTOP, like a hung node): the standby takes over");
    let standby_name = standby.name_any();
    node.signal(leader_pod, "STOP").await?;
    let frozen = Instant::now();
    wait_for("the standby to lead", Duration::from_secs(LEASE_SECONDS + 10), || async {
        Ok(node.lease_holder().await?.as_deref() == Some(standby_name.as_str())
            && node.leaders(std::slice::from_ref(standby)).await?.len() == 1)
    })
    .await?;
    let takeover = frozen.elapsed();
    node.signal(leader_pod, "CONT").await?;
    // It waits out the lease (renewed at most one retry period before the freeze), then looks
    // once per retry period.
    let (low, high) = (LEASE_SECONDS - RETRY_SECONDS, LEASE_SECONDS + 2 * RETRY_SECONDS + 1);
    assert!(
        takeover >= Duration::from_secs(low) && takeover <= Duration::from_secs(high),
        "the standby led {takeover:?} after the freeze, not within the lease duration ({low}-{high}s)"
    );
    eprintln!("           takeover in {takeover:?}");
    // Thawed, the old leader finds another holder at its next renewal and exits, so the kubelet
    // restarts its container, which stands by.
    wait_for("the thawed leader to exit and restart", Duration::from_secs(30), || async {
        Ok(node.restarts(&leader).await? >= 1)
    })
    .await?;
    let pods = node.wait_pods(IMAGE, 2, ROLLOUT).await?;
    assert_eq!(one_leader(node, &pods).await?, standby_name, "the restarted replica stands by");
    reconciled_change(node, &examples, "after-takeover").await?;
    same_inventory(node, &examples, &baseline, "after the takeover").await?;

    step(t0, "the leader pod is deleted");
    let pods_api: Api<Pod> = Api::namespaced(node.client.clone(), NAMESPACE);
    pods_api.delete(&standby_name, &DeleteParams::default()).await?;
    let deleted = Instant::now();
    // On SIGTERM the leader releases the lease; the waiting replica or the Deployment's
    // replacement pod, whichever looks first, takes it.
    wait_for("another replica to lead", Duration::from_secs(LEASE_SECONDS + 10), || async {
        let pods = node.operator_pods().await?;
        let others: Vec<Pod> = pods.into_iter().filter(|p| p.name_any() != standby_name && is_ready(p)).collect();
        let holder = node.lease_holder().await?;
        Ok(holder.is_some_and(|h| h != standby_name) && node.leaders(&others).await?.len() == 1)
    })
    .await?;
    let handover = deleted.elapsed();
    let bound = Duration::from_secs(LEASE_SECONDS + RETRY_SECONDS);
    assert!(handover <= bound, "another replica led after {handover:?}, more than the lease duration ({bound:?})");
    eprintln!("           handover in {handover:?}");
    let pods = node.wait_pods(IMAGE, 2, ROLLOUT).await?;
    one_leader(node, &pods).await?;
    reconciled_change(node, &examples, "after-delete").await?;
    same_inventory(node, &examples, &baseline, "after the leader pod's deletion").await?;

    step(t0, "helm upgrade to a new image tag, with a change made during the rollout");
    let before: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
    let upgrade = format!(
        "upgrade {RELEASE} deploy/helm/securecart-operator --namespace {NAMESPACE} --reuse-values \
         --set image.tag={UPGRADE_TAG} --wait --timeout 3m"
    );
    let upgrade_args = words(&upgrade);
    let upgrade = node.helm(&upgrade_args);
    let change = async {
        // Once the rollout has begun: the first new pod exists.
        wait_for("the rollout to start", ROLLOUT, || async {
            Ok(node.operator_pods().await?.iter().any(|p| !before.contains(&p.name_any())))
        })
        .await?;
        reconciled_change(node, &examples, "during-upgrade").await
    };
    let (upgraded, changed) = tokio::join!(upgrade, change);
    upgraded?;
    changed?;
    let upgraded_image = format!("securecart-operator:{UPGRADE_TAG}");
    let pods = node.wait_pods(&upgraded_image, 2, ROLLOUT).await?;
    assert!(pods.iter().all(|p| !before.contains(&p.name_any())), "every pod was replaced");
    one_leader(node, &pods).await?;
    node.wait_examples_ready(CONVERGE).await?;
    same_inventory(node, &examples, &baseline, "after the upgrade").await?;

    step(t0, "helm uninstall");
    node.helm(&words(&format!("uninstall {RELEASE} --namespace {NAMESPACE} --wait --timeout 2m"))).await?;
    wait_for("the operator's pods to go", ROLLOUT, || async { Ok(node.operator_pods().await?.is_empty()) }).await?;
    // Documented: Helm keeps the CRDs it installed from crds/, so the objects and their AWS
    // resources stay, each object still holding the finalizer for whoever runs the operator next.
    for crd in ["vpctiers", "privateendpoints", "loadbalancerpolicies"] {
        node.kubectl(&["get", "crd", &format!("{crd}.net.securecart.io")]).await?;
    }
    let left = node.examples().await?;
    assert_eq!(left.len(), examples.len(), "helm uninstall leaves the custom resources");
    let finalizers = node
        .kubectl(&words(&format!(
            "get vpctiers,privateendpoints,loadbalancerpolicies -n {EXAMPLES_NAMESPACE} \
             -o custom-columns=FINALIZERS:.metadata.finalizers --no-headers"
        )))
        .await?;
    assert!(finalizers.lines().all(|l| l.contains("net.securecart.io/cleanup")), "finalizers kept: {finalizers}");
    same_inventory(node, &examples, &baseline, "after helm uninstall").await?;

    step(t0, "the kustomize base");
    let overlay = kustomize_overlay(node)?;
    node.kubectl(&["apply", "--server-side", "-k", &overlay]).await?;
    let pods = node.wait_pods(IMAGE, 2, ROLLOUT).await?;
    for pod in &pods {
        hardened(node, pod).await?;
    }
    one_leader(node, &pods).await?;
    probes_used_by_the_kubelet(node, &pods).await?;
    reconciled_change(node, &examples, "kustomize").await?;
    same_inventory(node, &examples, &baseline, "with the kustomize base").await?;

    step(t0, "the examples deleted through the pods, then the base");
    // Every example at once: the finalizers hold each object until its users are gone (a
    // VpcTier waits for its peerings, policies and endpoints, a hub for its attached VpcTiers),
    // so the engine, not the order of these deletes, orders the teardown. The base goes last:
    // its CRDs would otherwise take the objects with them while the operator goes.
    for path in glob(node, "*.yaml")?.iter().filter(|p| !p.ends_with("00-namespace.yaml")) {
        node.kubectl(&["delete", "-f", path, "--wait=false", "--ignore-not-found"]).await?;
    }
    wait_for("every example to be gone", CONVERGE, || async { Ok(node.examples().await?.is_empty()) }).await?;
    let after = node.inventory(&examples).await?;
    for (key, counts) in &after {
        assert!(counts.values().all(|&n| n == 0), "{key} still owns AWS resources: {counts:?}");
    }
    node.kubectl(&["delete", "-k", &overlay, "--wait=true", "--timeout=120s"]).await?;
    wait_for("the operator's pods to go", ROLLOUT, || async { Ok(node.operator_pods().await?.is_empty()) }).await?;
    let crds = node.kubectl(&["get", "crd", "-o", "name"]).await?;
    assert!(!crds.contains("net.securecart.io"), "the base's CRDs are deleted: {crds}");
    step(t0, "done");
    Ok(())
}

/// The pod runs as the image and the chart say: user and group 65532, no capabilities, no
/// privilege escalation, a read-only root holding nothing but the binary and the CA bundle.
async fn hardened(node: &Node, pod: &Pod) -> Result<()> {
    let p = node.container_process(pod).await?;
    assert!(p.uids.iter().all(|&u| u == 65532), "{}: runs as 65532: {p:?}", pod.name_any());
    assert!(p.gids.iter().all(|&g| g == 65532), "{}: group 65532: {p:?}", pod.name_any());
    assert_eq!(p.effective_capabilities, 0, "{}: no capabilities", pod.name_any());
    assert!(p.no_new_privileges, "{}: no privilege escalation", pod.name_any());
    assert!(p.root_read_only, "{}: read-only root filesystem", pod.name_any());
    // The runtime adds mount points (dev, proc, sys, etc/hosts, tmp, the token); the image
    // itself brings the binary and etc/ssl only. No shell.
    assert!(p.root_entries.contains(&"securecart-controller".to_string()), "{p:?}");
    for absent in ["bin", "sbin", "usr", "lib"] {
        assert!(!p.root_entries.contains(&absent.to_string()), "{}: the image has no /{absent}", pod.name_any());
    }
    Ok(())
}

/// Exactly one replica leads: the lease names it, and its metrics port says so, the others' not.
async fn one_leader(node: &Node, pods: &[Pod]) -> Result<String> {
    let names: Vec<String> = pods.iter().map(|p| p.name_any()).collect();
    wait_for("one of the pods to hold the lease", Duration::from_secs(LEASE_SECONDS * 2), || async {
        Ok(node.lease_holder().await?.is_some_and(|h| names.contains(&h)) && node.leaders(pods).await?.len() == 1)
    })
    .await?;
    let holder = node.lease_holder().await?.expect("a holder");
    assert_eq!(node.leaders(pods).await?, vec![holder.clone()], "exactly one leader, the lease's holder");
    Ok(holder)
}

/// The kubelet ran the chart's liveness (/healthz) and readiness (/readyz) probes on each pod
/// and they passed (its prober metrics count them).
async fn probes_used_by_the_kubelet(node: &Node, pods: &[Pod]) -> Result<()> {
    for pod in pods {
        let name = pod.name_any();
        let container = &pod.spec.as_ref().expect("spec").containers[0];
        let path = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
            p.as_ref().and_then(|p| p.http_get.as_ref()).and_then(|h| h.path.clone())
        };
        assert_eq!(path(&container.liveness_probe).as_deref(), Some("/healthz"));
        assert_eq!(path(&container.readiness_probe).as_deref(), Some("/readyz"));
        wait_for(&format!("the kubelet to probe {name}"), Duration::from_secs(40), || async {
            Ok(node.successful_probes(&name, "Liveness").await? > 0
                && node.successful_probes(&name, "Readiness").await? > 0)
        })
        .await?;
    }
    Ok(())
}

/// A change to the partner-edge VpcTier's tags, reconciled: Ready at the new generation and
/// the tag on its VPC in AWS.
async fn reconciled_change(node: &Node, examples: &[Example], value: &str) -> Result<()> {
    let tier = examples.iter().find(|e| e.key == "VpcTier/partner-edge").expect("the partner-edge example");
    node.tag_vpc_tier("partner-edge", "rollout", value).await?;
    node.wait_examples_ready(CONVERGE).await?;
    wait_for(&format!("the VPC to carry rollout={value}"), CONVERGE, || async {
        Ok(node.vpc_tag(&tier.uid, "rollout").await?.as_deref() == Some(value))
    })
    .await
}

/// Nothing made twice: the same count of every AWS resource per object as at first convergence.
async fn same_inventory(node: &Node, examples: &[Example], baseline: &Inventory, when: &str) -> Result<()> {
    let now = node.inventory(examples).await?;
    assert_eq!(&now, baseline, "AWS resources per object {when}");
    Ok(())
}

fn expect_one_of_each(examples: &[Example], inventory: &Inventory) {
    for e in examples {
        let counts = &inventory[&e.key];
        let (what, want) = match e.kind.as_str() {
            "VpcTier" => ("vpcs", 1),
            "PrivateEndpoint" => ("VPC endpoints", 1),
            "LoadBalancerPolicy" => ("load balancers", 1),
            "TransitGateway" => ("transit gateways", 1),
            "VpcPeering" => ("peering connections", 1),
            "PartnerApi" => ("REST APIs", 1),
            "GlobalEntrypoint" => ("distributions", 1),
            other => panic!("{}: no AWS resource to count for kind {other}; add one here", e.key),
        };
        assert_eq!(counts[what], want, "{}: {what} in AWS: {counts:?}", e.key);
    }
}

/// A kustomize overlay of deploy/kustomize/base that points the operator at the emulator, the
/// way a user's overlay sets their own environment.
fn kustomize_overlay(node: &Node) -> Result<String> {
    let dir = node.root.join("target/node-e2e/overlay");
    std::fs::create_dir_all(&dir)?;
    let patch = serde_json::json!([
        {"op": "add", "path": "/spec/template/spec/containers/0/env/-",
         "value": {"name": "AWS_ENDPOINT_URL", "value": node.aws_endpoint}},
        {"op": "add", "path": "/spec/template/spec/containers/0/envFrom",
         "value": [{"secretRef": {"name": "aws-credentials"}}]},
    ]);
    let kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../../deploy/kustomize/base"],
        "patches": [{"target": {"kind": "Deployment", "name": "securecart-operator"}, "patch": patch.to_string()}],
    });
    std::fs::write(dir.join("kustomization.yaml"), serde_json::to_string_pretty(&kustomization)?)?;
    Ok(dir.to_string_lossy().into_owned())
}

/// examples/ files matching `prefix-*.yaml`, as paths relative to the repository.
fn glob(node: &Node, pattern: &str) -> Result<Vec<String>> {
    let prefix = pattern.trim_end_matches("*.yaml");
    let mut out: Vec<String> = std::fs::read_dir(node.root.join("examples"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".yaml"))
        .map(|n| format!("examples/{n}"))
        .collect();
    out.sort();
    Ok(out)
}

/// A command line split at whitespace (none of the arguments here holds any).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}
