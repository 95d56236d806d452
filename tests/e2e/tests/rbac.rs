//! Least privilege: run-integration.sh gives every test's controller a token of the chart's
//! ServiceAccount (TokenRequest API), so each scenario passing proves the grant is enough. Here:
//! that token really is that ServiceAccount, and it is refused outside its grant.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use securecart_api::VpcTier;
use securecart_e2e::{Result, TestEnv, env as setting};

fn forbidden<T: std::fmt::Debug>(what: &str, result: kube::Result<T>) {
    match result {
        Err(kube::Error::Api(e)) if e.code == 403 => {}
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_controller_token_is_the_charts_service_account_and_is_refused_outside_its_grant() -> Result<()> {
    let env = TestEnv::start("rbac", "ap-northeast-3").await?;
    let path = setting("SECURECART_CONTROLLER_KUBECONFIG")?;
    let operator_ns = setting("SECURECART_OPERATOR_NAMESPACE")?;

    let whoami =
        env.kubectl(&["--kubeconfig", &path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]).await?;
    assert_eq!(
        String::from_utf8_lossy(&whoami.stdout),
        format!("system:serviceaccount:{operator_ns}:securecart-operator"),
        "{}",
        String::from_utf8_lossy(&whoami.stderr)
    );

    let config =
        kube::Config::from_custom_kubeconfig(Kubeconfig::read_from(&path)?, &KubeConfigOptions::default()).await?;
    let sa = Client::try_from(config)?;
    let ns = env.namespace.as_str();

    // Inside the grant: what the controller does.
    Api::<VpcTier>::namespaced(sa.clone(), ns).list(&ListParams::default()).await?;
    Api::<VpcTier>::all(sa.clone()).list(&ListParams::default()).await?;

    // Outside it.
    forbidden("list secrets", Api::<Secret>::namespaced(sa.clone(), ns).list(&ListParams::default()).await);
    forbidden("list secrets cluster-wide", Api::<Secret>::all(sa.clone()).list(&ListParams::default()).await);
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}}))?;
    forbidden(
        "create a ConfigMap",
        Api::<ConfigMap>::namespaced(sa.clone(), ns).create(&PostParams::default(), &cm).await,
    );
    forbidden(
        "delete VpcTiers",
        Api::<VpcTier>::namespaced(sa.clone(), ns).delete("anything", &DeleteParams::default()).await,
    );
    let lease: Lease = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}}))?;
    forbidden(
        "create a lease outside its namespace",
        Api::<Lease>::namespaced(sa.clone(), ns).create(&PostParams::default(), &lease).await,
    );
    forbidden(
        "read another lease",
        Api::<Lease>::namespaced(sa.clone(), &operator_ns).get("someone-elses-lease").await,
    );
    Ok(())
}
