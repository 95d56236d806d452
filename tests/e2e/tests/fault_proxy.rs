//! The fault proxy itself (tests/faults/), checked with the real aws-sdk-rust: each injected
//! error parses to the code AWS uses and the SDK retries it; a reset and a lost response are
//! transport failures the SDK retries; a lost create was applied; the eventual-consistency mode
//! hides new IDs and then shows them. These test the test bed, not the controller.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::Filter;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use securecart_e2e::Result;
use securecart_e2e::faults::FaultProxy;
use serde_json::json;

/// SDK configuration pointing at the proxy, with `attempts` attempts per call.
async fn via(proxy: &FaultProxy, region: &str, attempts: u32) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(&proxy.proxy_url)
        .retry_config(
            RetryConfig::standard().with_max_attempts(attempts).with_initial_backoff(Duration::from_millis(10)),
        )
        .load()
        .await
}

/// (code, HTTP status) of a failed call, or what kind of failure it was.
fn classify<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: std::result::Result<T, SdkError<E, HttpResponse>>,
) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(SdkError::ServiceError(e)) => format!("{} {}", e.err().code().unwrap_or("none"), e.raw().status().as_u16()),
        Err(SdkError::DispatchFailure(_)) => "dispatch failure".into(),
        Err(SdkError::ResponseError(_)) => "response error".into(),
        Err(other) => format!("other {other:?}"),
    }
}

/// One call per service under every fault kind, as the SDK sees it with a single attempt, and
/// with three attempts (the SDK's standard mode) after one fault: retried and then answered.
#[tokio::test(flavor = "multi_thread")]
async fn every_fault_parses_as_the_aws_code_and_the_sdk_retries_it() -> Result<()> {
    let region = "ap-south-2";
    let proxy = FaultProxy::start("fault-shapes", json!({})).await?;
    let one = via(&proxy, region, 1).await;
    let three = via(&proxy, region, 3).await;
    let (ec2, ec2_retrying) = (aws_sdk_ec2::Client::new(&one), aws_sdk_ec2::Client::new(&three));
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&one);
    let route53 = aws_sdk_route53::Client::new(&one);
    let waf = aws_sdk_wafv2::Client::new(&one);
    let shield = aws_sdk_shield::Client::new(&one);

    // (service, operation, fault, expected code and status)
    let cases = [
        ("ec2", "DescribeVpcs", "throttle", "RequestLimitExceeded 503"),
        ("ec2", "DescribeVpcs", "internal", "InternalError 500"),
        ("ec2", "DescribeVpcs", "unavailable", "ServiceUnavailable 503"),
        ("ec2", "DescribeVpcs", "reset", "dispatch failure"),
        ("elasticloadbalancing", "DescribeLoadBalancers", "throttle", "Throttling 400"),
        ("elasticloadbalancing", "DescribeLoadBalancers", "internal", "InternalFailure 500"),
        ("elasticloadbalancing", "DescribeLoadBalancers", "unavailable", "ServiceUnavailable 503"),
        ("route53", "ListHealthChecks", "throttle", "Throttling 400"),
        ("route53", "ListHealthChecks", "internal", "InternalFailure 500"),
        ("route53", "ListHealthChecks", "unavailable", "ServiceUnavailable 503"),
        ("wafv2", "ListWebACLs", "throttle", "ThrottlingException 400"),
        ("wafv2", "ListWebACLs", "internal", "WAFInternalErrorException 500"),
        ("wafv2", "ListWebACLs", "unavailable", "ServiceUnavailable 503"),
        ("shield", "ListProtections", "throttle", "ThrottlingException 400"),
        ("shield", "ListProtections", "internal", "InternalErrorException 500"),
        ("shield", "ListProtections", "unavailable", "ServiceUnavailable 503"),
    ];
    for (service, operation, fault, expected) in cases {
        proxy.fail_next(service, operation, fault, 1).await?;
        let seen = match service {
            "ec2" => classify(ec2.describe_vpcs().send().await),
            "elasticloadbalancing" => classify(elb.describe_load_balancers().send().await),
            "route53" => classify(route53.list_health_checks().send().await),
            "wafv2" => classify(waf.list_web_acls().scope(aws_sdk_wafv2::types::Scope::Regional).send().await),
            _ => classify(shield.list_protections().send().await),
        };
        assert_eq!(seen, expected, "{fault} on {service} {operation}");
    }
    let counters = proxy.counters().await?;
    for kind in ["throttle", "internal", "unavailable"] {
        assert_eq!(counters.faults.by_kind.get(kind), Some(&5), "{kind}: {counters:?}");
    }

    // With retries, every kind is retried by the SDK (for every service) and the second attempt
    // is answered.
    let elb_retrying = aws_sdk_elasticloadbalancingv2::Client::new(&three);
    let route53_retrying = aws_sdk_route53::Client::new(&three);
    let waf_retrying = aws_sdk_wafv2::Client::new(&three);
    let shield_retrying = aws_sdk_shield::Client::new(&three);
    let reads = [
        ("ec2", "DescribeAvailabilityZones"),
        ("elasticloadbalancing", "DescribeLoadBalancers"),
        ("route53", "ListHealthChecks"),
        ("wafv2", "ListWebACLs"),
        ("shield", "ListProtections"),
    ];
    for (service, operation) in reads {
        for fault in ["throttle", "internal", "unavailable", "reset"] {
            let before = proxy.counters().await?.requests_of(operation);
            proxy.fail_next(service, operation, fault, 1).await?;
            let answered = match service {
                "ec2" => {
                    ec2_retrying.describe_availability_zones().send().await.map(drop).map_err(|e| format!("{e:?}"))
                }
                "elasticloadbalancing" => {
                    elb_retrying.describe_load_balancers().send().await.map(drop).map_err(|e| format!("{e:?}"))
                }
                "route53" => route53_retrying.list_health_checks().send().await.map(drop).map_err(|e| format!("{e:?}")),
                "wafv2" => waf_retrying
                    .list_web_acls()
                    .scope(aws_sdk_wafv2::types::Scope::Regional)
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| format!("{e:?}")),
                _ => shield_retrying.list_protections().send().await.map(drop).map_err(|e| format!("{e:?}")),
            };
            assert!(answered.is_ok(), "{fault} on {operation} was not retried: {answered:?}");
            let after = proxy.counters().await?.requests_of(operation);
            assert_eq!(after - before, 2, "{fault} on {operation}: one failed attempt and one answered");
        }
    }
    Ok(())
}

/// A lost CreateVpc response: the VPC exists in the emulator, the client saw a transport failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_response_was_applied_and_the_client_saw_a_transport_failure() -> Result<()> {
    let region = "ap-south-2";
    let proxy = FaultProxy::start("fault-lost", json!({})).await?;
    let through = aws_sdk_ec2::Client::new(&via(&proxy, region, 1).await);
    let direct = aws_sdk_ec2::Client::new(&securecart_e2e::aws_config(region).await);
    let cidr = "10.231.0.0/16";
    let count = || async {
        let f = Filter::builder().name("cidr").values(cidr).build();
        anyhow::Ok(direct.describe_vpcs().filters(f).send().await?.vpcs().len())
    };
    assert_eq!(count().await?, 0);
    proxy.lose_next("ec2", "CreateVpc", 1).await?;
    let seen = classify(through.create_vpc().cidr_block(cidr).send().await);
    assert!(seen == "response error" || seen == "dispatch failure", "{seen}");
    assert_eq!(count().await?, 1, "the emulator applied the lost call");
    assert_eq!(proxy.counters().await?.injected("lost_response", "CreateVpc"), 1);

    // Reads are never lost by a rate meant for mutating calls.
    proxy.configure(json!({"rates": {"lost": 1.0}})).await?;
    assert!(through.describe_vpcs().send().await.is_ok());
    Ok(())
}

/// New IDs are hidden from lists and by-ID reads for the window, then visible.
#[tokio::test(flavor = "multi_thread")]
async fn eventual_consistency_hides_new_ids_for_the_window() -> Result<()> {
    let region = "ap-south-2";
    let proxy = FaultProxy::start("fault-ec", json!({"eventual_consistency": {"seconds": 3}})).await?;
    let config = via(&proxy, region, 1).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let route53 = aws_sdk_route53::Client::new(&config);

    let vpc = ec2.create_vpc().cidr_block("10.232.0.0/16").send().await?;
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    let listed = |out: aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput| {
        out.vpcs().iter().any(|v| v.vpc_id() == Some(vpc_id.as_str()))
    };
    assert!(!listed(ec2.describe_vpcs().send().await?), "hidden from the list");
    assert_eq!(classify(ec2.describe_vpcs().vpc_ids(&vpc_id).send().await), "InvalidVpcID.NotFound 400");

    let check = route53
        .create_health_check()
        .caller_reference("fault-ec-check")
        .health_check_config(
            aws_sdk_route53::types::HealthCheckConfig::builder()
                .r#type(aws_sdk_route53::types::HealthCheckType::Http)
                .fully_qualified_domain_name("ec.example.com")
                .port(80)
                .build()?,
        )
        .send()
        .await?;
    let check_id = check.health_check().map(|h| h.id().to_string()).unwrap();
    let listed_check = |out: aws_sdk_route53::operation::list_health_checks::ListHealthChecksOutput| {
        out.health_checks().iter().any(|h| h.id() == check_id)
    };
    assert!(!listed_check(route53.list_health_checks().send().await?));
    let got = route53.get_health_check().health_check_id(&check_id).send().await;
    assert!(matches!(&got, Err(SdkError::ServiceError(e)) if e.err().is_no_such_health_check()), "{got:?}");

    tokio::time::sleep(Duration::from_millis(3300)).await;
    assert!(listed(ec2.describe_vpcs().send().await?), "visible after the window");
    assert!(ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.is_ok());
    assert!(listed_check(route53.list_health_checks().send().await?));
    route53.delete_health_check().health_check_id(&check_id).send().await?;
    ec2.delete_vpc().vpc_id(&vpc_id).send().await?;
    let counters = proxy.counters().await?;
    assert!(counters.injected("hidden_from_list", "DescribeVpcs") >= 1, "{counters:?}");
    assert!(counters.injected("hidden_not_found", "GetHealthCheck") >= 1, "{counters:?}");
    Ok(())
}
