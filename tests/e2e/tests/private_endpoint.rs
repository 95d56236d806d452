//! PrivateEndpoint against a real kube-apiserver and the AWS emulator. Endpoint state is read
//! through the EC2 API.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, VpcEndpoint};
use kube::api::{DeleteParams, Patch, PatchParams};
use securecart_api::tags::OWNER_UID;
use securecart_api::{PrivateEndpoint, VpcTier};
use securecart_e2e::{Result, TestEnv, condition, tag, wait_for};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(90);

fn vpc_tier(region: &str, zones: u32) -> Value {
    json!({
        "region": region, "cidrBlock": "10.50.0.0/16", "availabilityZones": zones, "natGateways": "PerZone",
        "tiers": [
            {"name": "public", "type": "Public", "prefixLength": 24},
            {"name": "app", "type": "Private", "prefixLength": 20},
            {"name": "database", "type": "Isolated", "prefixLength": 24},
        ],
    })
}

fn s3_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::shop-images/*"]}
    ]})
}

async fn endpoints_of(env: &TestEnv, uid: &str) -> Result<Vec<VpcEndpoint>> {
    let out = env
        .ec2
        .describe_vpc_endpoints()
        .filters(Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid).build())
        .send()
        .await?;
    Ok(out.vpc_endpoints().iter().filter(|e| e.state().is_some_and(|s| s.as_str() != "deleted")).cloned().collect())
}

async fn security_groups_of(env: &TestEnv, uid: &str) -> Result<Vec<aws_sdk_ec2::types::SecurityGroup>> {
    let out = env
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid).build())
        .send()
        .await?;
    Ok(out.security_groups().to_vec())
}

/// Route table and subnet IDs of a VpcTier's tier, from the emulator.
async fn tier_ids(
    env: &TestEnv,
    vpc_tier_uid: &str,
    tier: &str,
) -> Result<(BTreeSet<String>, BTreeSet<String>, BTreeSet<String>)> {
    let owned = env.owned(vpc_tier_uid).await?;
    let subnets: Vec<_> = owned
        .subnets
        .iter()
        .filter(|s| {
            tag(s.tags(), securecart_api::tags::COMPONENT).is_some_and(|c| c.starts_with(&format!("subnet/{tier}/")))
        })
        .collect();
    let subnet_ids: BTreeSet<String> = subnets.iter().filter_map(|s| s.subnet_id().map(str::to_string)).collect();
    let cidrs = subnets.iter().filter_map(|s| s.cidr_block().map(str::to_string)).collect();
    let tables = owned
        .route_tables
        .iter()
        .filter(|t| t.associations().iter().any(|a| a.subnet_id().is_some_and(|s| subnet_ids.contains(s))))
        .filter_map(|t| t.route_table_id().map(str::to_string))
        .collect();
    Ok((tables, subnet_ids, cidrs))
}

async fn ready_vpc_tier(env: &TestEnv, zones: u32) -> Result<String> {
    let vt: VpcTier = env.apply("shop", vpc_tier(&env.region, zones)).await?;
    env.wait_ready("shop", CONVERGE).await?;
    Ok(vt.metadata.uid.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_gateway_endpoint_uses_exactly_the_tiers_route_tables_with_its_policy() -> Result<()> {
    let env = TestEnv::start("pe-gateway", "ap-northeast-2").await?;
    let vt_uid = ready_vpc_tier(&env, 2).await?;
    let pe: PrivateEndpoint = env
        .apply("s3", json!({"vpcTierRef": {"name": "shop"}, "service": "s3", "tiers": ["app", "database"], "policy": s3_policy()}))
        .await?;
    let uid = pe.metadata.uid.clone().unwrap();
    env.wait_ready_as::<PrivateEndpoint>("s3", CONVERGE).await?;

    let endpoints = endpoints_of(&env, &uid).await?;
    assert_eq!(endpoints.len(), 1);
    let e = &endpoints[0];
    assert_eq!(e.service_name(), Some("com.amazonaws.ap-northeast-2.s3"));
    assert_eq!(e.vpc_endpoint_type().map(|t| t.as_str()), Some("Gateway"));
    let (app_tables, _, _) = tier_ids(&env, &vt_uid, "app").await?;
    let (db_tables, _, _) = tier_ids(&env, &vt_uid, "database").await?;
    let (public_tables, _, _) = tier_ids(&env, &vt_uid, "public").await?;
    assert_eq!(app_tables.len(), 2, "PerZone: one private table per zone");
    let expected: BTreeSet<String> = app_tables.union(&db_tables).cloned().collect();
    let actual: BTreeSet<String> = e.route_table_ids().iter().cloned().collect();
    assert_eq!(actual, expected, "exactly the app and database route tables");
    assert!(public_tables.is_disjoint(&actual));
    let policy: Value = serde_json::from_str(e.policy_document().unwrap())?;
    assert_eq!(policy, s3_policy());

    // Drift: a route table removed and the policy edited behind the controller's back.
    let removed = expected.iter().next().unwrap().clone();
    env.ec2
        .modify_vpc_endpoint()
        .vpc_endpoint_id(e.vpc_endpoint_id().unwrap())
        .remove_route_table_ids(&removed)
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await?;
    wait_for("endpoint drift repaired", CONVERGE, || async {
        let e = &endpoints_of(&env, &uid).await?[0];
        let tables: BTreeSet<String> = e.route_table_ids().iter().cloned().collect();
        let policy: Value = serde_json::from_str(e.policy_document().unwrap_or("{}"))?;
        Ok(tables == expected && policy == s3_policy())
    })
    .await?;
    let events = env.events("s3").await?;
    assert!(events.iter().any(|(reason, _)| reason == "DriftRepaired"), "{events:?}");

    // A converged endpoint costs no mutating call.
    let before = env.mutating_calls().await?;
    let reconciles = env.reconciles().await?;
    wait_for("more reconciles", CONVERGE, || async { Ok(env.reconciles().await? >= reconciles + 3) }).await?;
    assert_eq!(env.mutating_calls().await?, before);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sts_interface_endpoint_in_the_app_tier_with_security_group_and_private_dns() -> Result<()> {
    let env = TestEnv::start("pe-interface", "ap-east-1").await?;
    let vt_uid = ready_vpc_tier(&env, 2).await?;
    let pe: PrivateEndpoint = env
        .apply("sts", json!({"vpcTierRef": {"name": "shop"}, "service": "sts", "tiers": ["app"], "privateDns": true, "allowedTiers": ["app"]}))
        .await?;
    let uid = pe.metadata.uid.clone().unwrap();
    let pe = env.wait_ready_as::<PrivateEndpoint>("sts", CONVERGE).await?;

    let e = endpoints_of(&env, &uid).await?.remove(0);
    assert_eq!(e.vpc_endpoint_type().map(|t| t.as_str()), Some("Interface"));
    assert_eq!(e.service_name(), Some("com.amazonaws.ap-east-1.sts"));
    assert_eq!(e.private_dns_enabled(), Some(true));
    let (_, app_subnets, app_cidrs) = tier_ids(&env, &vt_uid, "app").await?;
    assert_eq!(e.subnet_ids().iter().cloned().collect::<BTreeSet<_>>(), app_subnets, "one interface per zone, in app");
    assert_eq!(e.network_interface_ids().len(), 2);
    let groups = security_groups_of(&env, &uid).await?;
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    assert_eq!(e.groups().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>(), vec![group.group_id().unwrap()]);
    let rules: BTreeSet<(i32, String)> = group
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(move |r| (p.from_port().unwrap_or(0), r.cidr_ip().unwrap_or_default().to_string()))
        })
        .collect();
    let expected: BTreeSet<(i32, String)> = app_cidrs.iter().map(|c| (443, c.clone())).collect();
    assert_eq!(rules, expected, "443 from the app tier's subnets only");
    let status = pe.status.unwrap();
    assert_eq!(status.security_group_id.as_deref(), group.group_id());
    assert!(!status.dns_entries.is_empty(), "DNS entries reported");

    // Drift: an ingress rule revoked out of band comes back.
    let (port, cidr) = expected.iter().next().unwrap().clone();
    env.ec2
        .revoke_security_group_ingress()
        .group_id(group.group_id().unwrap())
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
                .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip(&cidr).build())
                .build(),
        )
        .send()
        .await?;
    wait_for("ingress rule restored", CONVERGE, || async {
        let g = &security_groups_of(&env, &uid).await?[0];
        Ok(g.ip_permissions().iter().any(|p| p.ip_ranges().iter().any(|r| r.cidr_ip() == Some(cidr.as_str()))))
    })
    .await?;
    Ok(())
}

/// A partner's PrivateLink service: an endpoint service the test creates, backed by an NLB.
#[tokio::test(flavor = "multi_thread")]
async fn privatelink_endpoint_to_a_partner_service_becomes_available_and_accepted() -> Result<()> {
    let env = TestEnv::start("pe-privatelink", "me-south-1").await?;
    let vt_uid = ready_vpc_tier(&env, 2).await?;
    // The partner side: an NLB in the partner's own subnet and an endpoint service over it.
    let partner_vpc =
        env.ec2.create_vpc().cidr_block("172.31.0.0/16").send().await?.vpc().unwrap().vpc_id().unwrap().to_string();
    let zone =
        env.ec2.describe_availability_zones().send().await?.availability_zones()[0].zone_name().unwrap().to_string();
    let partner_subnet = env
        .ec2
        .create_subnet()
        .vpc_id(&partner_vpc)
        .cidr_block("172.31.0.0/24")
        .availability_zone(zone)
        .send()
        .await?
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    let config = env.aws_config(&env.region).await;
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let nlb = elbv2
        .create_load_balancer()
        .name("partner-payments")
        .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
        .subnets(&partner_subnet)
        .send()
        .await?;
    let nlb_arn = nlb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
    let service = env
        .ec2
        .create_vpc_endpoint_service_configuration()
        .network_load_balancer_arns(&nlb_arn)
        .acceptance_required(true)
        .send()
        .await?;
    let service_name = service.service_configuration().unwrap().service_name().unwrap().to_string();
    assert!(service_name.contains("vpce-svc-"), "{service_name}");

    let pe: PrivateEndpoint = env
        .apply("payments", json!({"vpcTierRef": {"name": "shop"}, "serviceName": service_name, "tiers": ["app"], "allowedTiers": ["app"]}))
        .await?;
    let uid = pe.metadata.uid.clone().unwrap();
    let pe = env.wait_ready_as::<PrivateEndpoint>("payments", CONVERGE).await?;
    let accepted = condition(&pe, "Accepted").expect("an Accepted condition for a partner service");
    assert_eq!((accepted.status.as_str(), accepted.reason.as_str()), ("True", "Accepted"));
    let e = endpoints_of(&env, &uid).await?.remove(0);
    assert_eq!(e.service_name(), Some(service_name.as_str()));
    assert_eq!(e.state().map(|s| s.as_str().to_ascii_lowercase()).as_deref(), Some("available"));
    assert_eq!(e.private_dns_enabled(), Some(false), "no private DNS by default for partner services");
    let (_, app_subnets, _) = tier_ids(&env, &vt_uid, "app").await?;
    assert_eq!(e.subnet_ids().iter().cloned().collect::<BTreeSet<_>>(), app_subnets);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_follows_its_vpc_tier_survives_restart_and_deletes_cleanly() -> Result<()> {
    let mut env = TestEnv::start("pe-lifecycle", "af-south-1").await?;
    let vt_uid = ready_vpc_tier(&env, 2).await?;
    // An interface endpoint: moto's ModifyVpcEndpoint adds no prefix-list routes for added route
    // tables, after which its DeleteVpcEndpoints fails on them; real AWS has no such trap. The
    // gateway endpoint's route-table following is covered by the drift test above.
    let pe: PrivateEndpoint = env
        .apply(
            "dynamodb",
            json!({"vpcTierRef": {"name": "shop"}, "service": "dynamodb", "type": "Interface", "tiers": ["app"]}),
        )
        .await?;
    let uid = pe.metadata.uid.clone().unwrap();
    env.wait_ready_as::<PrivateEndpoint>("dynamodb", CONVERGE).await?;

    // The VpcTier gains a zone: a new app subnet appears and the endpoint follows it.
    env.apply::<VpcTier>("shop", vpc_tier(&env.region, 3)).await?;
    env.wait_ready("shop", CONVERGE).await?;
    let (_, app_subnets, _) = tier_ids(&env, &vt_uid, "app").await?;
    assert_eq!(app_subnets.len(), 3);
    wait_for("endpoint in the new zone's subnet", CONVERGE, || async {
        let e = &endpoints_of(&env, &uid).await?[0];
        Ok(e.subnet_ids().iter().cloned().collect::<BTreeSet<_>>() == app_subnets)
    })
    .await?;

    // A restart finds the endpoint by its tags and makes no duplicate.
    env.kill_controller().await?;
    env.start_controller().await?;
    let reconciles = env.reconciles().await?;
    wait_for("reconciles after restart", CONVERGE, || async { Ok(env.reconciles().await? > reconciles + 2) }).await?;
    assert_eq!(endpoints_of(&env, &uid).await?.len(), 1);
    assert_eq!(env.mutating_calls().await?, 0, "nothing to change after a restart");

    // The VpcTier cannot be deleted from under its endpoint: its teardown waits and says why.
    env.api::<VpcTier>().delete("shop", &DeleteParams::default()).await?;
    env.wait_condition::<VpcTier>("shop", "Ready", CONVERGE, |c| {
        c.reason == "InUse" && c.message.contains("objects that use it: PrivateEndpoint dynamodb")
    })
    .await?;
    assert!(env.owned(&vt_uid).await?.vpcs.len() == 1, "the VPC stays while the endpoint exists");

    env.api::<PrivateEndpoint>().delete("dynamodb", &DeleteParams::default()).await?;
    env.wait_gone_as::<PrivateEndpoint>("dynamodb", CONVERGE).await?;
    env.wait_gone_as::<VpcTier>("shop", CONVERGE).await?;
    assert!(endpoints_of(&env, &uid).await?.is_empty(), "no tagged endpoint left");
    assert!(security_groups_of(&env, &uid).await?.is_empty());
    assert_eq!(env.owned(&vt_uid).await?.total(), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_endpoints_are_rejected_or_reported_without_aws_calls() -> Result<()> {
    let env = TestEnv::start("pe-invalid", "eu-south-2").await?;
    ready_vpc_tier(&env, 2).await?;
    let settled = env.mutating_calls().await?;

    // Admission: an interface-only field on a gateway endpoint.
    let rejected = env
        .apply::<PrivateEndpoint>(
            "bad-gateway",
            json!({"vpcTierRef": {"name": "shop"}, "service": "s3", "tiers": ["app"], "privateDns": true}),
        )
        .await
        .expect_err("privateDns on a gateway endpoint must be refused");
    assert!(rejected.to_string().contains("Interface endpoints only"), "{rejected}");

    // Reported: a tier the VpcTier lacks, a service of another region, a malformed policy.
    let cases = [
        ("no-tier", json!({"vpcTierRef": {"name": "shop"}, "service": "s3", "tiers": ["cache"]}), "spec.tiers[0]"),
        (
            "wrong-region",
            json!({"vpcTierRef": {"name": "shop"}, "serviceName": "com.amazonaws.us-east-1.sts", "tiers": ["app"]}),
            "spec.serviceName",
        ),
        (
            "bad-policy",
            json!({"vpcTierRef": {"name": "shop"}, "service": "s3", "tiers": ["app"], "policy": {"Statement": [{"Effect": "Maybe", "Action": "*"}]}}),
            "spec.policy.Statement[0].Effect",
        ),
    ];
    for (name, s, _) in &cases {
        env.apply::<PrivateEndpoint>(name, s.clone()).await?;
    }
    for (name, _, field) in &cases {
        let o = env.wait_condition::<PrivateEndpoint>(name, "Ready", CONVERGE, |c| c.reason == "InvalidSpec").await?;
        let ready = condition(&o, "Ready").unwrap();
        assert!(ready.message.contains(field), "{name}: {}", ready.message);
        assert_eq!(condition(&o, "Stalled").unwrap().status, "True");
    }
    assert_eq!(env.mutating_calls().await?, settled, "no AWS change for invalid endpoints");

    // Fixing the spec makes it converge.
    env.api::<PrivateEndpoint>()
        .patch("no-tier", &PatchParams::default(), &Patch::Merge(json!({"spec": {"tiers": ["database"]}})))
        .await?;
    env.wait_ready_as::<PrivateEndpoint>("no-tier", CONVERGE).await?;
    Ok(())
}
