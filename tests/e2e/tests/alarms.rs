//! LoadBalancerPolicy `spec.alarms` against a real kube-apiserver and the AWS emulator: the
//! alarms are read through CloudWatch (in af-south-1, and us-east-1 for the health-check alarm)
//! and compared with the load balancer and target groups read through ELBv2 and the health check
//! read through Route 53, never through the controller's status.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::types::MetricAlarm;
use securecart_api::tags::{COMPONENT, OWNER_UID};
use securecart_e2e::{Result, TestEnv, spec, sum_metric, wait_for};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(120);
const REGION: &str = "af-south-1";
const TOPIC: &str = "arn:aws:sns:af-south-1:123456789012:oncall";

async fn network(env: &TestEnv, region: &str, name: &str) -> Result<()> {
    env.apply_vpc_tier(
        name,
        spec(json!({
            "region": region, "cidrBlock": "10.31.0.0/16", "availabilityZones": 2,
            "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}],
            "natGateways": "None",
        })),
    )
    .await?;
    env.wait_ready(name, CONVERGE).await?;
    Ok(())
}

fn policy(zone_id: &str, certificate_arn: &str, dns_name: &str, alarms: Value) -> Value {
    json!({
        "vpcTierRef": {"name": "shop"}, "type": "Application", "scheme": "internet-facing", "tier": "public",
        "allowedCidrs": ["0.0.0.0/0"],
        "targetGroups": [
            {"name": "web", "protocol": "HTTP", "port": 8080, "targetType": "ip", "healthCheck": {"path": "/healthz"}},
            {"name": "checkout", "protocol": "HTTP", "port": 9090, "targetType": "ip"},
        ],
        "listeners": [{"port": 443, "protocol": "HTTPS", "certificateArn": certificate_arn, "defaultTargetGroup": "web"}],
        "dns": {"hostedZoneId": zone_id, "name": dns_name,
                "healthCheck": {"protocol": "HTTPS", "path": "/healthz", "port": 443}},
        "alarms": alarms,
        "tags": {"team": "storefront"},
    })
}

fn all_alarms() -> Value {
    json!({
        "actions": [TOPIC],
        "targetResponseTime": {"statistic": "p99", "thresholdSeconds": 1.5, "evaluationPeriods": 5, "datapointsToAlarm": 3},
        "http5xxPercent": {"threshold": 5},
        "unhealthyHosts": {"threshold": 0},
        "healthCheck": {},
    })
}

/// Every metric alarm whose name starts with `prefix`, by name.
async fn alarms(cw: &aws_sdk_cloudwatch::Client, prefix: &str) -> Result<BTreeMap<String, MetricAlarm>> {
    let out = cw.describe_alarms().alarm_name_prefix(prefix).send().await?;
    Ok(out.metric_alarms().iter().map(|a| (a.alarm_name().unwrap_or_default().to_string(), a.clone())).collect())
}

async fn tags(cw: &aws_sdk_cloudwatch::Client, arn: &str) -> Result<BTreeMap<String, String>> {
    let out = cw.list_tags_for_resource().resource_arn(arn).send().await?;
    Ok(out.tags().iter().map(|t| (t.key().unwrap_or_default().into(), t.value().unwrap_or_default().into())).collect())
}

fn dimensions(a: &MetricAlarm) -> BTreeMap<String, String> {
    let own = a.dimensions().iter();
    let math = a.metrics().iter().filter_map(|q| q.metric_stat()?.metric()).flat_map(|m| m.dimensions().iter());
    own.chain(math)
        .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
        .collect()
}

fn find<'a>(alarms: &'a BTreeMap<String, MetricAlarm>, component_suffix: &str) -> &'a MetricAlarm {
    alarms
        .iter()
        .find(|(n, _)| n.contains(&format!("-{component_suffix}-")))
        .map(|(_, a)| a)
        .unwrap_or_else(|| panic!("an alarm for {component_suffix} among {:?}", alarms.keys().collect::<Vec<_>>()))
}

fn put_metric_alarm_calls(metrics: &str) -> u64 {
    sum_metric(metrics, "securecart_aws_api_calls_total", &[("operation", "PutMetricAlarm")])
}

#[tokio::test(flavor = "multi_thread")]
async fn alarms_follow_the_load_balancer_stay_quiet_and_go_with_the_policy() -> Result<()> {
    let env = TestEnv::start("lbp-alarms", REGION).await?;
    let c = env.load_balancing_clients(REGION).await;
    let home = aws_sdk_cloudwatch::Client::new(&env.aws_config(REGION).await);
    let global = aws_sdk_cloudwatch::Client::new(&env.aws_config("us-east-1").await);
    // Alarms that do not fit are refused at admission, naming the field.
    let nlb = |alarms: Value| {
        json!({
            "vpcTierRef": {"name": "shop"}, "type": "Network", "tier": "public",
            "targetGroups": [{"name": "tcp", "protocol": "TCP", "port": 80}],
            "listeners": [{"port": 80, "protocol": "TCP", "defaultTargetGroup": "tcp"}],
            "alarms": alarms,
        })
    };
    let no_health_check = nlb(json!({"healthCheck": {}}));
    let cases = [
        ("spec.alarms.targetResponseTime", nlb(json!({"targetResponseTime": {"thresholdSeconds": 1}}))),
        ("spec.alarms.http5xxPercent", nlb(json!({"http5xxPercent": {"threshold": 5}}))),
        ("spec.alarms.healthCheck", no_health_check),
        (
            "datapointsToAlarm",
            nlb(json!({"unhealthyHosts": {"threshold": 0, "evaluationPeriods": 2, "datapointsToAlarm": 3}})),
        ),
    ];
    for (field, v) in cases {
        let err = env.apply_load_balancer_policy("refused", v).await.expect_err(field);
        assert!(err.to_string().contains(field), "{field}: {err}");
    }

    network(&env, REGION, "shop").await?;
    let zone = c.create_hosted_zone("alarms-afs1.example.com").await?;
    let cert = env.request_certificate(REGION, "shop.alarms-afs1.example.com").await?;
    let dns_name = "shop.alarms-afs1.example.com";
    let obj = env.apply_load_balancer_policy("alarmed", policy(&zone, &cert, dns_name, all_alarms())).await?;
    let uid = obj.metadata.uid.clone().unwrap_or_default();
    env.wait_ready_in(env.load_balancer_policies(), "alarmed", CONVERGE).await?;
    let prefix = format!("{}-alarmed-", env.namespace);

    // The load balancer, target groups and health check as ELBv2 and Route 53 report them.
    let owned = c.owned(&uid).await?;
    assert_eq!(owned.load_balancers.len(), 1, "{:?}", owned.load_balancers);
    let lb_arn = owned.load_balancers[0].load_balancer_arn().unwrap().to_string();
    let lb_dimension = lb_arn.split_once(":loadbalancer/").expect("an ELBv2 ARN").1.to_string();
    // Target group names are truncated; the spec's groups differ by port.
    let tg_dimension = |name: &str| {
        let port = if name == "web" { 8080 } else { 9090 };
        let tg = owned
            .target_groups
            .iter()
            .find(|t| t.port() == Some(port))
            .unwrap_or_else(|| panic!("target group {name} on port {port}"));
        tg.target_group_arn().unwrap().rsplit_once(':').unwrap().1.to_string()
    };
    assert_eq!(owned.health_checks.len(), 1);
    let hc_id = owned.health_checks[0].id().to_string();

    // Four alarms at home, on the load balancer's and target groups' dimensions.
    let at_home = alarms(&home, &prefix).await?;
    assert_eq!(at_home.len(), 4, "{:?}", at_home.keys());
    let latency = find(&at_home, "latency");
    assert_eq!(latency.namespace(), Some("AWS/ApplicationELB"));
    assert_eq!(latency.metric_name(), Some("TargetResponseTime"));
    assert_eq!(latency.extended_statistic(), Some("p99"));
    assert_eq!(
        (latency.threshold(), latency.evaluation_periods(), latency.datapoints_to_alarm()),
        (Some(1.5), Some(5), Some(3))
    );
    assert_eq!(dimensions(latency), BTreeMap::from([("LoadBalancer".to_string(), lb_dimension.clone())]));
    assert_eq!(latency.alarm_actions(), [TOPIC]);
    assert_eq!(latency.ok_actions(), [TOPIC]);
    let five = find(&at_home, "5xx");
    let expressions: Vec<&str> = five.metrics().iter().filter_map(|q| q.expression()).collect();
    assert_eq!(expressions, ["100 * (elb5xx + target5xx) / requests"]);
    let names: Vec<&str> = five.metrics().iter().filter_map(|q| q.metric_stat()?.metric()?.metric_name()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(five.threshold(), Some(5.0));
    assert_eq!(dimensions(five), BTreeMap::from([("LoadBalancer".to_string(), lb_dimension.clone())]));
    for tg in ["web", "checkout"] {
        let a = find(&at_home, &format!("unhealthy-{tg}"));
        assert_eq!(a.metric_name(), Some("UnHealthyHostCount"));
        assert_eq!(
            dimensions(a),
            BTreeMap::from([
                ("LoadBalancer".to_string(), lb_dimension.clone()),
                ("TargetGroup".to_string(), tg_dimension(tg)),
            ])
        );
        assert_eq!(a.threshold(), Some(0.0));
    }
    // The health-check alarm in us-east-1, on the health check Route 53 reports.
    let in_us_east_1 = alarms(&global, &prefix).await?;
    assert_eq!(in_us_east_1.len(), 1, "{:?}", in_us_east_1.keys());
    let hc = find(&in_us_east_1, "healthcheck");
    assert_eq!((hc.namespace(), hc.metric_name()), (Some("AWS/Route53"), Some("HealthCheckStatus")));
    assert_eq!(dimensions(hc), BTreeMap::from([("HealthCheckId".to_string(), hc_id)]));
    assert!(hc.alarm_arn().unwrap().contains(":us-east-1:"));
    // Each tagged as the owner's.
    for (cw, set) in [(&home, &at_home), (&global, &in_us_east_1)] {
        for a in set.values() {
            let t = tags(cw, a.alarm_arn().unwrap()).await?;
            assert_eq!(t.get(OWNER_UID), Some(&uid), "{:?}", a.alarm_name());
            assert!(t.get(COMPONENT).is_some_and(|c| c.starts_with("alarm/")), "{t:?}");
            assert_eq!(t.get("team").map(String::as_str), Some("storefront"));
        }
    }

    // Converged: resyncs (every 3 s) rewrite no alarm.
    let updated = |set: &BTreeMap<String, MetricAlarm>| -> BTreeMap<String, String> {
        set.iter()
            .map(|(n, a)| {
                (n.clone(), a.alarm_configuration_updated_timestamp().map(|t| t.to_string()).unwrap_or_default())
            })
            .collect()
    };
    let before = (updated(&at_home), updated(&in_us_east_1));
    assert!(before.0.values().chain(before.1.values()).all(|t| !t.is_empty()), "timestamps reported: {before:?}");
    let puts = put_metric_alarm_calls(&env.metrics().await?);
    assert!(puts >= 5, "the controller counted its PutMetricAlarm calls: {puts}");
    let reconciles = env.reconciles().await?;
    wait_for("two more reconciles", Duration::from_secs(30), || async {
        Ok(env.reconciles().await? >= reconciles + 2)
    })
    .await?;
    assert_eq!(put_metric_alarm_calls(&env.metrics().await?), puts, "no PutMetricAlarm once converged");
    let after = (updated(&alarms(&home, &prefix).await?), updated(&alarms(&global, &prefix).await?));
    assert_eq!(after, before, "no alarm's configuration was rewritten");

    // A replaced load balancer (scheme changed) takes its alarms along: same names, the
    // successor's dimensions.
    let mut internal = policy(&zone, &cert, dns_name, all_alarms());
    internal["scheme"] = json!("internal");
    env.apply_load_balancer_policy("alarmed", internal.clone()).await?;
    let successor_dimension = || async {
        let lbs = c.owned(&uid).await?.load_balancers;
        let new: Vec<String> = lbs
            .iter()
            .filter(|l| l.scheme().map(|s| s.as_str()) == Some("internal"))
            .filter_map(|l| l.load_balancer_arn()?.split_once(":loadbalancer/").map(|(_, d)| d.to_string()))
            .collect();
        Ok::<_, anyhow::Error>((lbs.len() == 1 && new.len() == 1).then(|| new[0].clone()))
    };
    wait_for("the alarms on the successor", CONVERGE, || async {
        let Some(dim) = successor_dimension().await? else { return Ok(false) };
        let set = alarms(&home, &prefix).await?;
        Ok(set.len() == 4 && set.values().all(|a| dimensions(a).get("LoadBalancer") == Some(&dim)))
    })
    .await?;
    let successor = successor_dimension().await?.expect("one internal load balancer");
    assert_ne!(successor, lb_dimension);
    assert_eq!(
        alarms(&home, &prefix).await?.keys().collect::<Vec<_>>(),
        at_home.keys().collect::<Vec<_>>(),
        "the same names"
    );
    env.wait_ready_in(env.load_balancer_policies(), "alarmed", CONVERGE).await?;
    let before = (updated(&alarms(&home, &prefix).await?), updated(&alarms(&global, &prefix).await?));

    // A changed threshold rewrites that alarm only; removing the 5xx and health-check alarms
    // deletes them, in both regions.
    let mut less = all_alarms();
    less["targetResponseTime"]["thresholdSeconds"] = json!(2.5);
    less.as_object_mut().unwrap().remove("http5xxPercent");
    less.as_object_mut().unwrap().remove("healthCheck");
    internal["alarms"] = less;
    env.apply_load_balancer_policy("alarmed", internal).await?;
    wait_for("the 5xx and health-check alarms to go", CONVERGE, || async {
        Ok(alarms(&home, &prefix).await?.len() == 3 && alarms(&global, &prefix).await?.is_empty())
    })
    .await?;
    wait_for("the new threshold", CONVERGE, || async {
        Ok(find(&alarms(&home, &prefix).await?, "latency").threshold() == Some(2.5))
    })
    .await?;
    let now = updated(&alarms(&home, &prefix).await?);
    for (name, t) in now.iter().filter(|(n, _)| n.contains("-unhealthy-")) {
        assert_eq!(before.0.get(name), Some(t), "{name} was not rewritten");
    }
    // The timestamp does show a rewrite (so its staying put above means something).
    let latency_name = now.keys().find(|n| n.contains("-latency-")).expect("the latency alarm");
    assert_ne!(before.0.get(latency_name), now.get(latency_name), "the rewritten alarm's timestamp moved");

    // Deleting the policy leaves no alarm in either region.
    env.load_balancer_policies().delete("alarmed", &Default::default()).await?;
    env.wait_gone_in(env.load_balancer_policies(), "alarmed", CONVERGE).await?;
    assert!(alarms(&home, &prefix).await?.is_empty(), "no alarm left at home");
    assert!(alarms(&global, &prefix).await?.is_empty(), "no alarm left in us-east-1");
    let left = c.owned(&uid).await?;
    assert_eq!(left.total(), 0, "left behind: {left:?}");
    Ok(())
}
