//! PartnerApi against a real kube-apiserver and the AWS emulator, read through the API Gateway,
//! ELBv2 and WAFv2 APIs: a REST API over a VPC link to a Network Load Balancer policy, its
//! stage (X-Ray tracing on, throttling), a usage plan and a web ACL; stage drift repaired without
//! a new deployment; the policy held while the API uses it; deletion leaves nothing tagged.

use std::time::Duration;

use securecart_api::tags::OWNER_UID;
use securecart_api::{LoadBalancerPolicy, PartnerApi};
use securecart_e2e::{Result, TestEnv, spec, wait_for};
use serde_json::json;

const CONVERGE: Duration = Duration::from_secs(120);

fn owned(tags: Option<&std::collections::HashMap<String, String>>, uid: &str) -> bool {
    tags.and_then(|t| t.get(OWNER_UID)).is_some_and(|u| u == uid)
}

/// A two-zone VpcTier `shop` with one private tier, and a Ready load balancer policy in it.
async fn backend(env: &TestEnv, region: &str, cidr: &str, name: &str, policy: serde_json::Value) -> Result<()> {
    let tier = json!({
        "region": region, "cidrBlock": cidr, "availabilityZones": 2, "natGateways": "None",
        "tiers": [{"name": "app", "type": "Private", "prefixLength": 20}],
    });
    env.apply_vpc_tier("shop", spec(tier)).await?;
    env.wait_ready("shop", CONVERGE).await?;
    env.apply_load_balancer_policy(name, policy).await?;
    env.wait_ready_as::<LoadBalancerPolicy>(name, CONVERGE).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_api_over_a_vpc_link_with_stage_usage_plan_and_waf() -> Result<()> {
    let region = "ap-southeast-1";
    let env = TestEnv::start("partner-api", region).await?;
    let config = env.aws_config(region).await;
    let (apigw, elb, waf) = (
        aws_sdk_apigateway::Client::new(&config),
        aws_sdk_elasticloadbalancingv2::Client::new(&config),
        aws_sdk_wafv2::Client::new(&config),
    );
    let nlb = json!({
        "vpcTierRef": {"name": "shop"}, "type": "Network", "scheme": "internal", "tier": "app",
        "targetGroups": [{"name": "payments", "protocol": "TCP", "port": 8443, "targetType": "ip"}],
        "listeners": [{"port": 443, "protocol": "TCP", "defaultTargetGroup": "payments"}],
    });
    backend(&env, region, "10.40.0.0/16", "partner-nlb", nlb).await?;
    let api_obj: PartnerApi = env
        .apply(
            "payments",
            json!({
                "vpcTierRef": {"name": "shop"}, "type": "REST",
                "backend": {"loadBalancerPolicyRef": {"name": "partner-nlb"}, "port": 443},
                "routes": [{"path": "/payments/{proxy+}", "methods": ["ANY"]}, {"path": "/health", "methods": ["GET"]}],
                "stage": {"name": "prod", "tracing": true, "throttling": {"rateLimit": 100.0, "burstLimit": 200}},
                "usagePlans": [{"name": "acme", "throttling": {"rateLimit": 20.0, "burstLimit": 40},
                                "quota": {"limit": 100000, "period": "DAY"}}],
                "waf": {"managedRuleGroups": ["AWSManagedRulesCommonRuleSet"], "rateLimitPerFiveMinutes": 2000},
            }),
        )
        .await?;
    let uid = api_obj.metadata.uid.clone().unwrap();
    env.wait_ready_as::<PartnerApi>("payments", CONVERGE).await?;

    // The load balancer, as ELBv2 reports it.
    let lbs = elb.describe_load_balancers().send().await?;
    let lb = lbs.load_balancers().iter().find(|l| l.r#type().map(|t| t.as_str()) == Some("network")).expect("the NLB");
    let (lb_arn, lb_dns) = (lb.load_balancer_arn().unwrap().to_string(), lb.dns_name().unwrap().to_string());

    // The API, tagged with its owner, and its VPC link to the NLB.
    let apis = apigw.get_rest_apis().send().await?;
    let mine: Vec<_> = apis.items().iter().filter(|a| owned(a.tags(), &uid)).collect();
    assert_eq!(mine.len(), 1, "one REST API");
    let api_id = mine[0].id().unwrap().to_string();
    let links = apigw.get_vpc_links().send().await?;
    let link = links.items().iter().find(|l| owned(l.tags(), &uid)).expect("a VPC link");
    assert_eq!(link.target_arns(), std::slice::from_ref(&lb_arn));

    // Routes proxied to the same paths on the NLB.
    let resources = apigw.get_resources().rest_api_id(&api_id).send().await?;
    let proxy = resources.items().iter().find(|r| r.path() == Some("/payments/{proxy+}")).expect("the proxy route");
    let method =
        apigw.get_method().rest_api_id(&api_id).resource_id(proxy.id().unwrap()).http_method("ANY").send().await?;
    assert_eq!(method.api_key_required(), Some(true), "partners call with their plan's API key");
    let integration = method.method_integration().expect("an integration");
    assert_eq!(integration.uri(), Some(format!("https://{lb_dns}:443/payments/{{proxy}}").as_str()));
    assert_eq!(integration.connection_type().map(|c| c.as_str()), Some("VPC_LINK"));
    assert!(resources.items().iter().any(|r| r.path() == Some("/health")));

    // The stage: tracing, throttling, one deployment.
    let stage = apigw.get_stage().rest_api_id(&api_id).stage_name("prod").send().await?;
    assert!(stage.tracing_enabled(), "X-Ray active tracing");
    let all = stage.method_settings().and_then(|m| m.get("*/*")).expect("method settings for every method");
    assert_eq!((all.throttling_rate_limit(), all.throttling_burst_limit()), (100.0, 200));
    let deployments = apigw.get_deployments().rest_api_id(&api_id).send().await?.items().len();
    assert_eq!(deployments, 1);

    // The usage plan on the stage, and the web ACL on the stage.
    let plans = apigw.get_usage_plans().send().await?;
    let plan = plans.items().iter().find(|p| owned(p.tags(), &uid)).expect("a usage plan");
    assert!(plan.api_stages().iter().any(|s| s.api_id() == Some(api_id.as_str()) && s.stage() == Some("prod")));
    assert_eq!(plan.quota().map(|q| q.limit()), Some(100000));
    let stage_arn = format!("arn:aws:apigateway:{region}::/restapis/{api_id}/stages/prod");
    let acl = waf.get_web_acl_for_resource().resource_arn(&stage_arn).send().await?;
    assert!(acl.web_acl().is_some(), "a web ACL on the stage");

    let status = env.api::<PartnerApi>().get("payments").await?.status.unwrap();
    assert_eq!(status.invoke_url, Some(format!("https://{api_id}.execute-api.{region}.amazonaws.com/prod")));

    // Out of band: tracing switched off. Repaired on resync, with no new deployment.
    apigw
        .update_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Replace)
                .path("/tracingEnabled")
                .value("false")
                .build(),
        )
        .send()
        .await?;
    wait_for("tracing on again", CONVERGE, || async {
        Ok(apigw.get_stage().rest_api_id(&api_id).stage_name("prod").send().await?.tracing_enabled())
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let deployments = apigw.get_deployments().rest_api_id(&api_id).send().await?.items().len();
    assert_eq!(deployments, 1, "stage drift and resyncs never redeploy");

    // The policy cannot go while the API uses it.
    env.api::<LoadBalancerPolicy>().delete("partner-nlb", &Default::default()).await?;
    env.wait_condition::<LoadBalancerPolicy>("partner-nlb", "Ready", CONVERGE, |c| {
        c.reason == "InUse" && c.message.contains("PartnerApi payments")
    })
    .await?;

    env.api::<PartnerApi>().delete("payments", &Default::default()).await?;
    env.wait_gone_as::<PartnerApi>("payments", CONVERGE).await?;
    let apis = apigw.get_rest_apis().send().await?;
    assert!(!apis.items().iter().any(|a| owned(a.tags(), &uid)), "the API is gone");
    let links = apigw.get_vpc_links().send().await?;
    assert!(!links.items().iter().any(|l| owned(l.tags(), &uid)), "the VPC link is gone");
    let plans = apigw.get_usage_plans().send().await?;
    assert!(!plans.items().iter().any(|p| owned(p.tags(), &uid)), "the usage plan is gone");
    env.wait_gone_as::<LoadBalancerPolicy>("partner-nlb", CONVERGE).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn http_api_over_a_vpc_link_to_an_alb_listener() -> Result<()> {
    let region = "ap-southeast-2";
    let env = TestEnv::start("partner-http-api", region).await?;
    let config = env.aws_config(region).await;
    let (v2, elb, ec2) = (
        aws_sdk_apigatewayv2::Client::new(&config),
        aws_sdk_elasticloadbalancingv2::Client::new(&config),
        aws_sdk_ec2::Client::new(&config),
    );
    let alb = json!({
        "vpcTierRef": {"name": "shop"}, "type": "Application", "scheme": "internal", "tier": "app",
        "targetGroups": [{"name": "shipping", "protocol": "HTTP", "port": 8080, "targetType": "ip"}],
        "listeners": [{"port": 80, "protocol": "HTTP", "defaultTargetGroup": "shipping"}],
    });
    backend(&env, region, "10.41.0.0/16", "shipping-alb", alb).await?;
    let obj: PartnerApi = env
        .apply(
            "shipping",
            json!({
                "vpcTierRef": {"name": "shop"}, "type": "HTTP",
                "backend": {"loadBalancerPolicyRef": {"name": "shipping-alb"}, "port": 80},
                "routes": [{"path": "/shipments/{proxy+}", "methods": ["GET", "POST"]}],
                "stage": {"name": "live", "throttling": {"rateLimit": 50.0, "burstLimit": 100},
                          "accessLogs": {"cloudWatchLogGroupArn": "arn:aws:logs:ap-southeast-2:123456789012:log-group:shipping"}},
            }),
        )
        .await?;
    let uid = obj.metadata.uid.clone().unwrap();
    env.wait_ready_as::<PartnerApi>("shipping", CONVERGE).await?;

    let lbs = elb.describe_load_balancers().send().await?;
    let lb = lbs.load_balancers().first().expect("the ALB");
    let lb_subnets: std::collections::BTreeSet<String> =
        lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)).collect();
    let listeners = elb.describe_listeners().load_balancer_arn(lb.load_balancer_arn().unwrap()).send().await?;
    let listener = listeners.listeners().iter().find(|l| l.port() == Some(80)).expect("the listener");

    let apis = v2.get_apis().send().await?;
    let api = apis.items().iter().find(|a| owned(a.tags(), &uid)).expect("an HTTP API tagged with its owner");
    let api_id = api.api_id().unwrap().to_string();
    let links = v2.get_vpc_links().send().await?;
    let link = links.items().iter().find(|l| owned(l.tags(), &uid)).expect("a VPC link");
    let link_subnets: std::collections::BTreeSet<String> = link.subnet_ids().iter().cloned().collect();
    assert_eq!(link_subnets, lb_subnets, "the VPC link is in the load balancer's subnets");
    let group_id = link.security_group_ids().first().expect("a security group").clone();
    let groups = ec2.describe_security_groups().group_ids(&group_id).send().await?;
    let group = groups.security_groups().first().expect("the group exists");
    assert!(group.tags().iter().any(|t| t.key() == Some(OWNER_UID) && t.value() == Some(uid.as_str())));

    let integrations = v2.get_integrations().api_id(&api_id).send().await?;
    assert_eq!(integrations.items().len(), 1);
    let integration = &integrations.items()[0];
    assert_eq!(integration.integration_uri(), listener.listener_arn());
    assert_eq!(integration.connection_id(), link.vpc_link_id());
    let routes = v2.get_routes().api_id(&api_id).send().await?;
    let mut keys: Vec<&str> = routes.items().iter().filter_map(|r| r.route_key()).collect();
    keys.sort();
    assert_eq!(keys, ["GET /shipments/{proxy+}", "POST /shipments/{proxy+}"]);
    let target = format!("integrations/{}", integration.integration_id().unwrap());
    assert!(routes.items().iter().all(|r| r.target() == Some(target.as_str())));
    let stages = v2.get_stages().api_id(&api_id).send().await?;
    let stage = stages.items().iter().find(|s| s.stage_name() == Some("live")).expect("the stage");
    assert_eq!(stage.auto_deploy(), Some(true));
    let settings = stage.default_route_settings().expect("throttling");
    assert_eq!((settings.throttling_rate_limit(), settings.throttling_burst_limit()), (Some(50.0), Some(100)));
    assert!(stage.access_log_settings().and_then(|a| a.destination_arn()).is_some_and(|a| a.ends_with(":shipping")));

    // A route deleted behind the controller's back comes back.
    let get = routes.items().iter().find(|r| r.route_key() == Some("GET /shipments/{proxy+}")).unwrap();
    v2.delete_route().api_id(&api_id).route_id(get.route_id().unwrap()).send().await?;
    wait_for("the route recreated", CONVERGE, || async {
        let routes = v2.get_routes().api_id(&api_id).send().await?;
        Ok(routes.items().iter().any(|r| r.route_key() == Some("GET /shipments/{proxy+}")))
    })
    .await?;

    env.api::<PartnerApi>().delete("shipping", &Default::default()).await?;
    env.wait_gone_as::<PartnerApi>("shipping", CONVERGE).await?;
    assert!(!v2.get_apis().send().await?.items().iter().any(|a| owned(a.tags(), &uid)), "the API is gone");
    assert!(!v2.get_vpc_links().send().await?.items().iter().any(|l| owned(l.tags(), &uid)), "the link is gone");
    let left = ec2.describe_security_groups().group_ids(&group_id).send().await;
    assert!(left.map(|g| g.security_groups().is_empty()).unwrap_or(true), "the group is gone");
    Ok(())
}
