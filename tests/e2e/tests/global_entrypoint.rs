//! GlobalEntrypoint (CloudFront) against a real kube-apiserver and the AWS emulator, read
//! through the CloudFront, WAFv2, Shield and Route 53 APIs: a distribution in front of the
//! storefront ALB and an S3 bucket (origin access control), its CLOUDFRONT-scope web ACL, Shield
//! protection and alias records; drift repaired; a replaced load balancer followed; the policy
//! held while used; deletion disables, deletes and leaves nothing tagged. Global Accelerator is
//! not in the emulator: its planner simulator and adapter replay tests cover it.

use std::time::Duration;

use aws_sdk_cloudfront::types::DistributionConfig;
use securecart_api::tags::OWNER_UID;
use securecart_api::{GlobalEntrypoint, LoadBalancerPolicy};
use securecart_e2e::{Result, TestEnv, spec, wait_for};
use serde_json::json;

const CONVERGE: Duration = Duration::from_secs(150);
/// AWS managed cache policies, by name.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// The hosted zone of every CloudFront domain name.
const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";

fn alb(scheme: &str) -> serde_json::Value {
    json!({
        "vpcTierRef": {"name": "shop"}, "type": "Application", "scheme": scheme, "tier": "public",
        "allowedCidrs": ["0.0.0.0/0"],
        "targetGroups": [{"name": "web", "protocol": "HTTP", "port": 8080, "targetType": "ip"}],
        "listeners": [{"port": 80, "protocol": "HTTP", "defaultTargetGroup": "web"}],
    })
}

/// The storefront as a Network Load Balancer: a type change replaces the load balancer.
fn nlb() -> serde_json::Value {
    json!({
        "vpcTierRef": {"name": "shop"}, "type": "Network", "scheme": "internet-facing", "tier": "public",
        "allowedCidrs": ["0.0.0.0/0"],
        "targetGroups": [{"name": "web", "protocol": "TCP", "port": 8080, "targetType": "ip"}],
        "listeners": [{"port": 443, "protocol": "TCP", "defaultTargetGroup": "web"}],
    })
}

fn edge(certificate_arn: &str) -> serde_json::Value {
    json!({
        "type": "CloudFront",
        "cloudFront": {
            "aliases": ["static.shop-edge.example"],
            "certificateArn": certificate_arn,
            "priceClass": "PriceClass_100",
            "origins": [
                {"name": "web", "loadBalancerPolicyRef": {"name": "storefront"}, "protocolPolicy": "https-only"},
                {"name": "images", "s3": {"bucketName": "shop-edge-images", "region": "us-east-1"}},
            ],
            "defaultBehavior": {"origin": "web", "cachePolicy": "CachingDisabled", "allowedMethods": "All"},
            "behaviors": [
                {"pathPattern": "/images/*", "origin": "images", "cachePolicy": "CachingOptimized"},
                {"pathPattern": "*.js", "origin": "web", "cachePolicy": "CachingOptimized", "compress": true},
            ],
            "waf": {"managedRuleGroups": ["AWSManagedRulesCommonRuleSet"], "rateLimitPerFiveMinutes": 2000},
        },
        "dns": {"hostedZoneName": "shop-edge.example", "name": "static.shop-edge.example"},
        "shield": {"enabled": true},
    })
}

/// The owner's distributions, by their tags.
async fn owned_distributions(cf: &aws_sdk_cloudfront::Client, uid: &str) -> Result<Vec<(String, String)>> {
    let list = cf.list_distributions().send().await?;
    let mut out = Vec::new();
    for d in list.distribution_list().map(|l| l.items()).unwrap_or_default() {
        let tags = cf.list_tags_for_resource().resource(d.arn()).send().await?;
        let mine = tags
            .tags()
            .map(|t| t.items())
            .unwrap_or_default()
            .iter()
            .any(|t| t.key() == OWNER_UID && t.value() == Some(uid));
        if mine {
            out.push((d.id().to_string(), d.arn().to_string()));
        }
    }
    Ok(out)
}

async fn config(cf: &aws_sdk_cloudfront::Client, id: &str) -> Result<(DistributionConfig, String)> {
    let out = cf.get_distribution_config().id(id).send().await?;
    Ok((out.distribution_config().cloned().expect("a configuration"), out.e_tag().unwrap_or_default().to_string()))
}

fn origin_domain(c: &DistributionConfig, id: &str) -> Option<String> {
    c.origins()?.items().iter().find(|o| o.id() == id).map(|o| o.domain_name().to_string())
}

fn behavior(c: &DistributionConfig, pattern: &str) -> Option<aws_sdk_cloudfront::types::CacheBehavior> {
    c.cache_behaviors()?.items().iter().find(|b| b.path_pattern() == pattern).cloned()
}

async fn load_balancer_dns(env: &TestEnv, region: &str, lb_type: &str) -> Result<String> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&env.aws_config(region).await);
    let lbs = elb.describe_load_balancers().send().await?;
    let lb = lbs.load_balancers().iter().find(|l| l.r#type().map(|t| t.as_str()) == Some(lb_type));
    Ok(lb.and_then(|l| l.dns_name()).expect("the load balancer").to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudfront_in_front_of_the_storefront_and_a_bucket_with_waf_shield_and_dns() -> Result<()> {
    let region = "us-east-1";
    let env = TestEnv::start("global-entrypoint", region).await?;
    let config_us = env.aws_config(region).await;
    let (cf, waf, shield) = (
        aws_sdk_cloudfront::Client::new(&config_us),
        aws_sdk_wafv2::Client::new(&config_us),
        aws_sdk_shield::Client::new(&config_us),
    );
    env.create_bucket("shop-edge-images").await?;
    let zone_id = env.load_balancing_clients(region).await.create_hosted_zone("shop-edge.example").await?;
    let certificate = env.request_certificate(region, "static.shop-edge.example").await?;
    let tier = json!({
        "region": region, "cidrBlock": "10.60.0.0/16", "availabilityZones": 2, "natGateways": "None",
        "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}],
    });
    env.apply_vpc_tier("shop", spec(tier)).await?;
    env.wait_ready("shop", CONVERGE).await?;
    env.apply_load_balancer_policy("storefront", alb("internet-facing")).await?;
    env.wait_ready_as::<LoadBalancerPolicy>("storefront", CONVERGE).await?;

    // A certificate outside us-east-1 is refused at admission, before any AWS call.
    let wrong = edge("arn:aws:acm:eu-west-1:123456789012:certificate/x");
    let refused = env.apply::<GlobalEntrypoint>("static", wrong).await.expect_err("admission refuses it");
    assert!(refused.to_string().contains("us-east-1"), "{refused}");

    let obj: GlobalEntrypoint = env.apply("static", edge(&certificate)).await?;
    let uid = obj.metadata.uid.clone().unwrap();
    env.wait_ready_as::<GlobalEntrypoint>("static", CONVERGE).await?;

    // One distribution, tagged with its owner, in front of the ALB and the bucket.
    let mine = owned_distributions(&cf, &uid).await?;
    assert_eq!(mine.len(), 1, "one distribution: {mine:?}");
    let (id, arn) = mine[0].clone();
    let (c, _) = config(&cf, &id).await?;
    let alb_dns = load_balancer_dns(&env, region, "application").await?;
    assert_eq!(origin_domain(&c, "web"), Some(alb_dns.clone()));
    assert_eq!(origin_domain(&c, "images").as_deref(), Some("shop-edge-images.s3.us-east-1.amazonaws.com"));
    assert_eq!(c.aliases().map(|a| a.items().to_vec()), Some(vec!["static.shop-edge.example".to_string()]));
    assert_eq!(c.viewer_certificate().and_then(|v| v.acm_certificate_arn()), Some(certificate.as_str()));
    assert_eq!(c.default_cache_behavior().and_then(|b| b.cache_policy_id()), Some(CACHING_DISABLED));
    let patterns: Vec<&str> =
        c.cache_behaviors().map(|b| b.items()).unwrap_or_default().iter().map(|b| b.path_pattern()).collect();
    assert_eq!(patterns, ["/images/*", "*.js"], "behaviours in the spec's order");
    let js = behavior(&c, "*.js").expect("the *.js behaviour");
    assert_eq!((js.cache_policy_id(), js.compress()), (Some(CACHING_OPTIMIZED), Some(true)));

    // The origin access control made for the bucket.
    let status = env.api::<GlobalEntrypoint>().get("static").await?.status.unwrap();
    let oac = status.origin_access_controls.iter().find(|o| o.name == "images").expect("the bucket's OAC in status");
    let controls = cf.list_origin_access_controls().send().await?;
    let listed = controls.origin_access_control_list().map(|l| l.items()).unwrap_or_default();
    let control = listed.iter().find(|o| o.id() == oac.id).expect("the OAC exists");
    assert_eq!(
        (control.signing_behavior().as_str(), control.origin_access_control_origin_type().as_str()),
        ("always", "s3")
    );

    // The CLOUDFRONT-scope web ACL, owned, named by the distribution.
    let web_acl_id = c.web_acl_id().unwrap_or_default().to_string();
    assert!(web_acl_id.contains(":global/webacl/"), "a CLOUDFRONT-scope ACL: {web_acl_id}");
    let acl_tags = waf.list_tags_for_resource().resource_arn(&web_acl_id).send().await?;
    let acl_owned = acl_tags
        .tag_info_for_resource()
        .map(|t| t.tag_list())
        .unwrap_or_default()
        .iter()
        .any(|t| t.key() == OWNER_UID && t.value() == uid);
    assert!(acl_owned, "the web ACL carries the ownership tags");
    assert_eq!(status.web_acl_arn.as_deref(), Some(web_acl_id.as_str()));

    // Shield on the distribution; alias records to it.
    let protections = shield.list_protections().send().await?;
    assert!(
        protections.protections().iter().any(|p| p.resource_arn() == Some(arn.as_str())),
        "Shield protects the distribution"
    );
    let domain = status.domain_name.clone().expect("the distribution's domain name");
    let records = env.load_balancing_clients(region).await.records(&zone_id, "static.shop-edge.example").await?;
    let mut types: Vec<&str> = records.iter().map(|r| r.r#type().as_str()).collect();
    types.sort();
    assert_eq!(types, ["A", "AAAA"]);
    for r in &records {
        let alias = r.alias_target().expect("an alias record");
        assert_eq!(alias.hosted_zone_id(), CLOUDFRONT_ZONE);
        assert!(alias.dns_name().trim_end_matches('.').eq_ignore_ascii_case(&domain), "{alias:?}");
        assert!(!alias.evaluate_target_health(), "CloudFront aliases do not evaluate target health");
    }

    // Out of band: the *.js behaviour stops compressing and the web ACL is detached.
    let (mut drifted, etag) = config(&cf, &id).await?;
    if let Some(behaviors) = drifted.cache_behaviors.as_mut() {
        for b in behaviors.items.iter_mut().flatten().filter(|b| b.path_pattern == "*.js") {
            b.compress = Some(false);
        }
    }
    drifted.web_acl_id = Some(String::new());
    cf.update_distribution().id(&id).if_match(&etag).distribution_config(drifted).send().await?;
    wait_for("the behaviour and the web ACL repaired", CONVERGE, || async {
        let (c, _) = config(&cf, &id).await?;
        Ok(behavior(&c, "*.js").and_then(|b| b.compress()) == Some(true) && c.web_acl_id() == Some(web_acl_id.as_str()))
    })
    .await?;

    // The storefront becomes a Network Load Balancer: a new load balancer, which the origin follows.
    env.apply_load_balancer_policy("storefront", nlb()).await?;
    wait_for("the web origin on the new load balancer", CONVERGE, || async {
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config_us);
        let lbs = elb.describe_load_balancers().send().await?;
        let Some(nlb_dns) = lbs
            .load_balancers()
            .iter()
            .find(|l| l.r#type().map(|t| t.as_str()) == Some("network"))
            .and_then(|l| l.dns_name())
        else {
            return Ok(false);
        };
        let (c, _) = config(&cf, &id).await?;
        Ok(origin_domain(&c, "web").as_deref() == Some(nlb_dns))
    })
    .await?;
    env.wait_ready_as::<GlobalEntrypoint>("static", CONVERGE).await?;
    assert_eq!(owned_distributions(&cf, &uid).await?.len(), 1, "the same distribution, updated");

    // The policy cannot go while the entry point uses it.
    env.api::<LoadBalancerPolicy>().delete("storefront", &Default::default()).await?;
    env.wait_condition::<LoadBalancerPolicy>("storefront", "Ready", CONVERGE, |c| {
        c.reason == "InUse" && c.message.contains("GlobalEntrypoint static")
    })
    .await?;

    // Deletion: records, Shield, the distribution (disabled first), the OAC and the web ACL go.
    env.api::<GlobalEntrypoint>().delete("static", &Default::default()).await?;
    env.wait_gone_as::<GlobalEntrypoint>("static", CONVERGE).await?;
    assert!(owned_distributions(&cf, &uid).await?.is_empty(), "the distribution is gone");
    let controls = cf.list_origin_access_controls().send().await?;
    let left = controls.origin_access_control_list().map(|l| l.items()).unwrap_or_default();
    assert!(!left.iter().any(|o| o.id() == oac.id), "the OAC is gone");
    let acls = waf.list_web_acls().scope(aws_sdk_wafv2::types::Scope::Cloudfront).send().await?;
    assert!(!acls.web_acls().iter().any(|a| a.arn() == Some(web_acl_id.as_str())), "the web ACL is gone");
    let protections = shield.list_protections().send().await?;
    assert!(
        !protections.protections().iter().any(|p| p.resource_arn() == Some(arn.as_str())),
        "the protection is gone"
    );
    let records = env.load_balancing_clients(region).await.records(&zone_id, "static.shop-edge.example").await?;
    assert!(records.is_empty(), "the records are gone: {records:?}");
    env.wait_gone_as::<LoadBalancerPolicy>("storefront", CONVERGE).await?;
    Ok(())
}

/// A policy an entry point cannot use (internal) is named in Ready=False InvalidSpec, and no
/// distribution is made.
#[tokio::test(flavor = "multi_thread")]
async fn an_internal_load_balancer_is_refused_naming_the_field() -> Result<()> {
    let region = "us-east-1";
    let env = TestEnv::start("global-entrypoint-invalid", region).await?;
    let cf = aws_sdk_cloudfront::Client::new(&env.aws_config(region).await);
    let tier = json!({
        "region": region, "cidrBlock": "10.61.0.0/16", "availabilityZones": 2, "natGateways": "None",
        "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}],
    });
    env.apply_vpc_tier("shop", spec(tier)).await?;
    env.apply_load_balancer_policy("storefront", alb("internal")).await?;
    let mut spec = edge("arn:aws:acm:us-east-1:123456789012:certificate/x");
    spec["cloudFront"].as_object_mut().unwrap().remove("waf");
    env.apply::<GlobalEntrypoint>("static", spec).await?;
    let obj = env
        .wait_condition::<GlobalEntrypoint>("static", "Ready", CONVERGE, |c| {
            c.status == "False" && c.reason == "InvalidSpec"
        })
        .await?;
    let ready = securecart_e2e::condition(&obj, "Ready").unwrap();
    assert!(ready.message.contains("spec.cloudFront.origins[0].loadBalancerPolicyRef"), "{}", ready.message);
    assert!(ready.message.contains("internal"), "{}", ready.message);
    let list = cf.list_distributions().send().await?;
    assert_eq!(
        list.distribution_list().map(|l| l.items().len()).unwrap_or_default(),
        0,
        "no AWS call made a distribution"
    );
    Ok(())
}
