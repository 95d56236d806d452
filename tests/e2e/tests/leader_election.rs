//! High availability: two controller processes for one namespace elect a leader on a Lease;
//! only the leader reconciles; SIGKILL of the leader hands over within the lease duration, and
//! the AWS resources are made exactly once; a leader that finds another holder in the lease exits.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams};
use securecart_e2e::{ControllerProcess, Result, TestEnv, env as setting, spec, sum_metric, wait_for};
use serde_json::json;

const LEASE_SECONDS: u64 = 6;
const RETRY_SECONDS: u64 = 1;
/// The chart's default lease name, which its Role lets the ServiceAccount read and write.
const LEASE_NAME: &str = "securecart-operator-leader";

async fn replica(env: &TestEnv, lease_namespace: &str) -> Result<ControllerProcess> {
    let lease = LEASE_SECONDS.to_string();
    let retry = RETRY_SECONDS.to_string();
    env.spawn_controller(&[
        "--leader-elect",
        "--leader-election-namespace",
        lease_namespace,
        "--lease-duration-seconds",
        &lease,
        "--renew-deadline-seconds",
        "4",
        "--retry-period-seconds",
        &retry,
    ])
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_standby_takes_over_from_a_killed_leader_without_duplicates() -> Result<()> {
    let region = "eu-south-1";
    let env = TestEnv::start_without_controller("ha", region).await?;
    // The lease lives where the chart puts it, under the chart's name: the controllers run as
    // the chart's ServiceAccount, whose Role allows exactly that lease.
    let lease_namespace = setting("SECURECART_OPERATOR_NAMESPACE")?;
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), &lease_namespace);

    let first = replica(&env, &lease_namespace).await?;
    wait_for("the first replica to lead", Duration::from_secs(30), || async { first.is_leader().await }).await?;
    let second = replica(&env, &lease_namespace).await?;
    // Both are ready; the second stands by through several retry periods.
    tokio::time::sleep(Duration::from_secs(3 * RETRY_SECONDS)).await;
    assert!(!second.is_leader().await?, "only one replica leads");

    let obj = env
        .apply_vpc_tier(
            "ha",
            spec(json!({
                "region": region, "cidrBlock": "10.40.0.0/16", "availabilityZones": 2,
                "tiers": [
                    {"name": "public", "type": "Public", "prefixLength": 24},
                    {"name": "app", "type": "Private", "prefixLength": 20},
                    {"name": "db", "type": "Isolated", "prefixLength": 24},
                ],
                "natGateways": "PerZone",
            })),
        )
        .await?;
    let uid = obj.metadata.uid.clone().unwrap();
    // Kill the leader as soon as it has started creating, mid-plan.
    wait_for("the leader to create the VPC", Duration::from_secs(60), || async {
        Ok(!env.owned(&uid).await?.vpcs.is_empty())
    })
    .await?;
    assert!(first.reconciles().await? > 0, "the leader reconciles");
    assert_eq!(second.reconciles().await?, 0, "the standby does not reconcile");
    let first_holder = leases.get(LEASE_NAME).await?.spec.unwrap_or_default().holder_identity;
    first.kill().await?;
    let killed = Instant::now();

    wait_for("the standby to take over", Duration::from_secs(30), || async { second.is_leader().await }).await?;
    let handover = killed.elapsed();
    // A standby takes over once it has seen the same unrenewed record for a lease duration; it
    // looks once per retry period, and its first look may come up to one period late.
    let bound = Duration::from_secs(LEASE_SECONDS + 2 * RETRY_SECONDS) + Duration::from_millis(750);
    assert!(handover <= bound, "handover took {handover:?}, more than {bound:?}");

    let lease = leases.get(LEASE_NAME).await?.spec.unwrap_or_default();
    let pid = second.pid().expect("the standby runs");
    assert!(
        lease.holder_identity.as_deref().is_some_and(|h| h.ends_with(&format!("_{pid}"))),
        "the lease names the new leader: {:?} (was {first_holder:?})",
        lease.holder_identity
    );
    assert!(lease.lease_transitions.unwrap_or(0) >= 1, "the takeover is a transition");

    env.wait_ready("ha", Duration::from_secs(90)).await?;
    // The first leader may have finished before it died; the new one reconciles all it finds.
    wait_for("the new leader to reconcile", Duration::from_secs(30), || async { Ok(second.reconciles().await? > 0) })
        .await?;
    wait_for("securecart_objects to count the Ready object", Duration::from_secs(15), || async {
        let text = second.metrics().await?;
        Ok(sum_metric(&text, "securecart_objects", &[("kind", "VpcTier"), ("ready", "True")]) == 1
            && sum_metric(&text, "securecart_objects", &[("kind", "VpcTier"), ("ready", "False")]) == 0)
    })
    .await?;
    // Exactly one of everything: 2 zones x 3 tiers, one route table per private zone.
    let owned = env.owned(&uid).await?;
    let counts = [
        ("vpcs", owned.vpcs.len(), 1),
        ("subnets", owned.subnets.len(), 6),
        ("internet gateways", owned.internet_gateways.len(), 1),
        ("NAT gateways", owned.nat_gateways.len(), 2),
        ("elastic IPs", owned.addresses.len(), 2),
        ("route tables", owned.route_tables.len(), 4),
    ];
    for (what, got, want) in counts {
        assert_eq!(got, want, "{what}: no duplicates after the handover");
    }

    // Another holder in the lease (what a partitioned leader finds when it comes back): the
    // leader stops at its next renewal and exits non-zero, so its pod restarts as a standby.
    let intruder = json!({"spec": {"holderIdentity": "intruder", "renewTime": MicroTime(Timestamp::now())}});
    leases.patch(LEASE_NAME, &PatchParams::default(), &Patch::Merge(&intruder)).await?;
    let status = second.wait_exit(Duration::from_secs(4 * RETRY_SECONDS + 5)).await?;
    assert!(!status.success(), "a leader that lost its lease exits with a failure: {status:?}");
    Ok(())
}
