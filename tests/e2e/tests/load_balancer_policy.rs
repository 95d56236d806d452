//! LoadBalancerPolicy against a real kube-apiserver and the AWS emulator. AWS state is read
//! through the ELBv2, WAFv2, Route 53, Shield and EC2 APIs, never through the controller's status.

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, LoadBalancer, TargetGroup};
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
use securecart_api::tags::COMPONENT;
use securecart_e2e::{LoadBalancingClients, Result, TestEnv, spec, tag, wait_for};
use serde_json::{Value, json};

const CONVERGE: Duration = Duration::from_secs(120);

/// A two-zone VpcTier `shop` with a public and a private tier, Ready; returns the public subnet IDs.
async fn network(env: &TestEnv, region: &str, name: &str) -> Result<Vec<String>> {
    let obj = env
        .apply_vpc_tier(
            name,
            spec(json!({
                "region": region, "cidrBlock": "10.30.0.0/16", "availabilityZones": 2,
                "tiers": [{"name": "public", "type": "Public", "prefixLength": 24},
                          {"name": "app", "type": "Private", "prefixLength": 20}],
                "natGateways": "None",
            })),
        )
        .await?;
    env.wait_ready(name, CONVERGE).await?;
    let owned = env.owned(obj.metadata.uid.as_deref().unwrap_or_default()).await?;
    let mut public: Vec<String> = owned
        .subnets
        .iter()
        .filter(|s| tag(s.tags(), COMPONENT).is_some_and(|c| c.starts_with("subnet/public/")))
        .filter(|s| s.vpc_id().is_some())
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    public.sort();
    Ok(public)
}

/// The storefront example, with the emulator's zone and certificate.
fn storefront(tier: &str, zone_id: &str, certificate_arn: &str, dns_name: &str, set_identifier: &str) -> Value {
    json!({
        "vpcTierRef": {"name": tier},
        "type": "Application",
        "scheme": "internet-facing",
        "tier": "public",
        "allowedCidrs": ["0.0.0.0/0"],
        "targetGroups": [
            {"name": "web", "protocol": "HTTP", "port": 8080, "targetType": "ip",
             "healthCheck": {"path": "/healthz", "intervalSeconds": 10, "healthyThreshold": 3, "unhealthyThreshold": 2, "matcher": "200-399"}},
            {"name": "checkout", "protocol": "HTTP", "port": 9090, "targetType": "ip", "healthCheck": {"path": "/ready"}},
        ],
        "listeners": [
            {"port": 443, "protocol": "HTTPS", "certificateArn": certificate_arn, "defaultTargetGroup": "web",
             "rules": [{"priority": 10, "pathPatterns": ["/checkout/*"], "targetGroup": "checkout"}]},
            {"port": 80, "protocol": "HTTP", "redirectToHttps": true},
        ],
        "attributes": {"idleTimeoutSeconds": 60, "deletionProtection": false},
        "waf": {"defaultAction": "Allow",
                "managedRuleGroups": ["AWSManagedRulesSQLiRuleSet", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"],
                "rateLimitPerFiveMinutes": 2000},
        "shield": {"enabled": true},
        "dns": {"hostedZoneId": zone_id, "name": dns_name,
                "routing": {"policy": "Latency", "setIdentifier": set_identifier},
                "healthCheck": {"protocol": "HTTPS", "path": "/healthz", "port": 443, "failureThreshold": 3, "requestIntervalSeconds": 30}},
        "tags": {"team": "storefront"},
        "deletionPolicy": "Delete",
    })
}

fn uid_of(obj: &securecart_api::LoadBalancerPolicy) -> String {
    obj.metadata.uid.clone().unwrap_or_default()
}

fn the_one<'a, T: std::fmt::Debug>(items: &'a [T], what: &str) -> &'a T {
    assert_eq!(items.len(), 1, "exactly one {what}: {items:?}");
    &items[0]
}

fn target_group(tgs: &[TargetGroup], port: i32) -> &TargetGroup {
    tgs.iter().find(|t| t.port() == Some(port)).unwrap_or_else(|| panic!("a target group on port {port}: {tgs:?}"))
}

/// The web ACL associated with the load balancer, with its rules.
async fn associated_acl(c: &LoadBalancingClients, lb: &LoadBalancer) -> Result<Option<aws_sdk_wafv2::types::WebAcl>> {
    let out = c.waf.get_web_acl_for_resource().resource_arn(lb.load_balancer_arn().unwrap_or_default()).send().await?;
    Ok(out.web_acl().cloned())
}

async fn protections_of(c: &LoadBalancingClients, lb_arn: &str) -> Result<usize> {
    let out = c.shield.list_protections().send().await?;
    Ok(out.protections().iter().filter(|p| p.resource_arn() == Some(lb_arn)).count())
}

#[tokio::test(flavor = "multi_thread")]
async fn storefront_alb_converges_stays_quiet_and_deletion_leaves_nothing() -> Result<()> {
    let region = "us-west-2";
    let env = TestEnv::start("lbp-storefront", region).await?;
    let c = env.load_balancing_clients(region).await;
    let public_subnets = network(&env, region, "shop").await?;
    let zone = c.create_hosted_zone("storefront-usw2.example.com").await?;
    let cert = env.request_certificate(region, "shop.storefront-usw2.example.com").await?;
    let dns_name = "shop.storefront-usw2.example.com";
    let obj = env.apply_load_balancer_policy("storefront", storefront("shop", &zone, &cert, dns_name, region)).await?;
    let uid = uid_of(&obj);
    env.wait_ready_in(env.load_balancer_policies(), "storefront", CONVERGE).await?;

    // An internet-facing ALB in the VpcTier's public subnets, behind its own security group.
    let owned = c.owned(&uid).await?;
    let lb = the_one(&owned.load_balancers, "load balancer");
    let lb_arn = lb.load_balancer_arn().unwrap().to_string();
    assert_eq!(lb.r#type().map(|t| t.as_str()), Some("application"));
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    let mut subnets: Vec<String> =
        lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)).collect();
    subnets.sort();
    assert_eq!(subnets, public_subnets);
    let sg = the_one(&owned.security_groups, "security group");
    assert_eq!(lb.security_groups(), [sg.group_id().unwrap().to_string()]);
    let ports: Vec<(Option<i32>, Option<String>)> = sg
        .ip_permissions()
        .iter()
        .map(|p| (p.from_port(), p.ip_ranges().first().and_then(|r| r.cidr_ip()).map(str::to_string)))
        .collect();
    assert!(
        ports.contains(&(Some(443), Some("0.0.0.0/0".into()))) && ports.contains(&(Some(80), Some("0.0.0.0/0".into()))),
        "{ports:?}"
    );
    let attributes = c.elb.describe_load_balancer_attributes().load_balancer_arn(&lb_arn).send().await?;
    assert!(
        attributes
            .attributes()
            .iter()
            .any(|a| a.key() == Some("idle_timeout.timeout_seconds") && a.value() == Some("60")),
        "{attributes:?}"
    );

    // Both target groups, with the web group's health check.
    assert_eq!(owned.target_groups.len(), 2, "{:?}", owned.target_groups);
    let web = target_group(&owned.target_groups, 8080);
    let checkout = target_group(&owned.target_groups, 9090);
    assert_eq!(web.health_check_path(), Some("/healthz"));
    assert_eq!(web.matcher().and_then(|m| m.http_code()), Some("200-399"));
    assert_eq!(checkout.health_check_path(), Some("/ready"));

    // The HTTPS listener with its certificate and path rule, and the HTTP -> HTTPS redirect.
    let listeners = c.elb.describe_listeners().load_balancer_arn(&lb_arn).send().await?;
    let https = listeners.listeners().iter().find(|l| l.port() == Some(443)).expect("HTTPS listener");
    assert_eq!(https.certificates().first().and_then(|c| c.certificate_arn()), Some(cert.as_str()));
    assert_eq!(https.default_actions()[0].target_group_arn(), web.target_group_arn());
    let rules = c.elb.describe_rules().listener_arn(https.listener_arn().unwrap()).send().await?;
    let rule = rules.rules().iter().find(|r| r.priority() == Some("10")).expect("the path rule");
    assert_eq!(
        rule.conditions()[0].path_pattern_config().map(|p| p.values().to_vec()),
        Some(vec!["/checkout/*".into()])
    );
    assert_eq!(rule.actions()[0].target_group_arn(), checkout.target_group_arn());
    let http = listeners.listeners().iter().find(|l| l.port() == Some(80)).expect("HTTP listener");
    let redirect = &http.default_actions()[0];
    assert_eq!(redirect.r#type(), Some(&ActionTypeEnum::Redirect));
    let config = redirect.redirect_config().unwrap();
    assert_eq!(
        (config.protocol(), config.port(), config.status_code().map(|s| s.as_str())),
        (Some("HTTPS"), Some("443"), Some("HTTP_301"))
    );

    // A web ACL with the three managed groups and the rate rule, associated with the ALB.
    let (_, _, acl_arn) = the_one(&owned.web_acls, "web ACL");
    let acl = associated_acl(&c, lb).await?.expect("a web ACL is associated");
    assert_eq!(acl.arn(), acl_arn.as_str());
    let managed: Vec<&str> =
        acl.rules().iter().filter_map(|r| r.statement()?.managed_rule_group_statement()).map(|m| m.name()).collect();
    assert_eq!(
        managed,
        ["AWSManagedRulesSQLiRuleSet", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"]
    );
    let rate: Vec<i64> =
        acl.rules().iter().filter_map(|r| r.statement()?.rate_based_statement()).map(|r| r.limit()).collect();
    assert_eq!(rate, [2000]);

    // Shield, the health check and the latency alias record naming it.
    assert_eq!(protections_of(&c, &lb_arn).await?, 1);
    let hc = the_one(&owned.health_checks, "health check");
    let hc_config = hc.health_check_config().unwrap();
    assert_eq!(hc_config.resource_path(), Some("/healthz"));
    assert_eq!(hc_config.fully_qualified_domain_name(), lb.dns_name());
    let records = c.records(&zone, dns_name).await?;
    let record = the_one(&records, "record");
    assert_eq!(record.r#type().as_str(), "A");
    assert_eq!(record.set_identifier(), Some(region));
    assert_eq!(record.region().map(|r| r.as_str()), Some(region));
    assert_eq!(record.health_check_id(), Some(hc.id()));
    let alias = record.alias_target().unwrap();
    assert!(alias.evaluate_target_health());
    assert_eq!(alias.dns_name().trim_end_matches('.'), lb.dns_name().unwrap().trim_end_matches('.'));

    // In sync: resyncs run (every 3 s here) but change nothing.
    let mutating = env.mutating_calls().await?;
    let reconciles = env.reconciles().await?;
    let version = env.load_balancer_policies().get("storefront").await?.metadata.resource_version;
    wait_for("two more reconciles", Duration::from_secs(30), || async {
        Ok(env.reconciles().await? >= reconciles + 2)
    })
    .await?;
    assert_eq!(env.mutating_calls().await?, mutating, "no mutating AWS call once converged");
    let after = env.load_balancer_policies().get("storefront").await?.metadata.resource_version;
    assert_eq!(after, version, "no status write when nothing changed");
    let columns = env.kubectl(&["get", "lbp", "-n", &env.namespace, "storefront"]).await?;
    let columns = String::from_utf8_lossy(&columns.stdout);
    assert!(
        columns.contains("DNS NAME") && columns.contains("WAF") && columns.contains(lb.dns_name().unwrap()),
        "{columns}"
    );

    // Deletion: nothing tagged left behind, no record in the zone, and no protection.
    env.load_balancer_policies().delete("storefront", &Default::default()).await?;
    env.wait_gone_in(env.load_balancer_policies(), "storefront", CONVERGE).await?;
    let left = c.owned(&uid).await?;
    assert_eq!(left.total(), 0, "left behind: {left:?}");
    assert!(c.records(&zone, dns_name).await?.is_empty(), "no record in the zone");
    assert_eq!(protections_of(&c, &lb_arn).await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_band_drift_is_repaired_with_events() -> Result<()> {
    let region = "ca-central-1";
    let env = TestEnv::start("lbp-drift", region).await?;
    let c = env.load_balancing_clients(region).await;
    network(&env, region, "shop").await?;
    let zone = c.create_hosted_zone("drift-cac1.example.com").await?;
    let cert = env.request_certificate(region, "shop.drift-cac1.example.com").await?;
    let dns_name = "shop.drift-cac1.example.com";
    let obj = env.apply_load_balancer_policy("storefront", storefront("shop", &zone, &cert, dns_name, region)).await?;
    let uid = uid_of(&obj);
    env.wait_ready_in(env.load_balancer_policies(), "storefront", CONVERGE).await?;
    let owned = c.owned(&uid).await?;
    let lb = the_one(&owned.load_balancers, "load balancer").clone();
    let lb_arn = lb.load_balancer_arn().unwrap().to_string();
    let hc_id = the_one(&owned.health_checks, "health check").id().to_string();

    // Out of band: remove the WAF association, delete the path rule, change the health-check
    // path and delete the record from the zone.
    c.waf.disassociate_web_acl().resource_arn(&lb_arn).send().await?;
    let listeners = c.elb.describe_listeners().load_balancer_arn(&lb_arn).send().await?;
    let https_arn =
        listeners.listeners().iter().find(|l| l.port() == Some(443)).unwrap().listener_arn().unwrap().to_string();
    let rules = c.elb.describe_rules().listener_arn(&https_arn).send().await?;
    let rule_arn = rules.rules().iter().find(|r| r.priority() == Some("10")).unwrap().rule_arn().unwrap().to_string();
    c.elb.delete_rule().rule_arn(&rule_arn).send().await?;
    c.route53.update_health_check().health_check_id(&hc_id).resource_path("/changed").send().await?;
    let record = c.records(&zone, dns_name).await?.remove(0);
    let delete = Change::builder().action(ChangeAction::Delete).resource_record_set(record).build()?;
    c.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(ChangeBatch::builder().changes(delete).build()?)
        .send()
        .await?;

    wait_for("every drift repaired", CONVERGE, || async {
        let acl = associated_acl(&c, &lb).await?;
        let rules = c.elb.describe_rules().listener_arn(&https_arn).send().await?;
        let rule = rules.rules().iter().any(|r| r.priority() == Some("10"));
        let hc = c.route53.get_health_check().health_check_id(&hc_id).send().await?;
        let path =
            hc.health_check().and_then(|h| h.health_check_config()).and_then(|c| c.resource_path().map(str::to_string));
        let records = c.records(&zone, dns_name).await?;
        Ok(acl.is_some() && rule && path.as_deref() == Some("/healthz") && records.len() == 1)
    })
    .await?;
    let events = env.events("storefront").await?;
    let repaired: Vec<&String> =
        events.iter().filter(|(reason, _)| reason == "DriftRepaired").map(|(_, note)| note).collect();
    for what in ["associate web ACL", "create rule 10", "update health check", "change records"] {
        assert!(repaired.iter().any(|n| n.contains(what)), "a DriftRepaired event for {what}: {repaired:?}");
    }
    // Repaired in place: still one of each.
    let after = c.owned(&uid).await?;
    assert_eq!((after.load_balancers.len(), after.health_checks.len(), after.web_acls.len()), (1, 1, 1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn network_and_gateway_load_balancers_converge() -> Result<()> {
    let region = "eu-north-1";
    let env = TestEnv::start("lbp-nlb-gwlb", region).await?;
    let c = env.load_balancing_clients(region).await;
    let public_subnets = network(&env, region, "shop").await?;
    let zone = c.create_hosted_zone("edge-eun1.example.com").await?;
    let nlb = env
        .apply_load_balancer_policy(
            "edge",
            json!({
                "vpcTierRef": {"name": "shop"}, "type": "Network", "tier": "public",
                "allowedCidrs": ["10.0.0.0/8"],
                "targetGroups": [{"name": "tcp", "protocol": "TCP", "port": 8443, "targetType": "ip"},
                                 {"name": "dns", "protocol": "UDP", "port": 53, "targetType": "ip"}],
                "listeners": [{"port": 443, "protocol": "TCP", "defaultTargetGroup": "tcp"},
                              {"port": 53, "protocol": "UDP", "defaultTargetGroup": "dns"}],
                "attributes": {"crossZoneLoadBalancing": true},
                "dns": {"hostedZoneName": "edge-eun1.example.com", "name": "edge.edge-eun1.example.com",
                        "routing": {"policy": "Weighted", "setIdentifier": "blue", "weight": 50}},
            }),
        )
        .await?;
    let gwlb = env
        .apply_load_balancer_policy(
            "inspection",
            json!({
                "vpcTierRef": {"name": "shop"}, "type": "Gateway", "tier": "app",
                "targetGroups": [{"name": "appliances", "protocol": "GENEVE", "targetType": "ip"}],
                "listeners": [{"defaultTargetGroup": "appliances"}],
            }),
        )
        .await?;
    env.wait_ready_in(env.load_balancer_policies(), "edge", CONVERGE).await?;
    env.wait_ready_in(env.load_balancer_policies(), "inspection", CONVERGE).await?;

    let edge = c.owned(&uid_of(&nlb)).await?;
    let lb = the_one(&edge.load_balancers, "network load balancer");
    assert_eq!(lb.r#type().map(|t| t.as_str()), Some("network"));
    let mut subnets: Vec<String> =
        lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)).collect();
    subnets.sort();
    assert_eq!(subnets, public_subnets);
    assert_eq!(edge.target_groups.len(), 2);
    let listeners = c.elb.describe_listeners().load_balancer_arn(lb.load_balancer_arn().unwrap()).send().await?;
    let mut protocols: Vec<(Option<i32>, Option<&str>)> =
        listeners.listeners().iter().map(|l| (l.port(), l.protocol().map(|p| p.as_str()))).collect();
    protocols.sort();
    assert_eq!(protocols, [(Some(53), Some("UDP")), (Some(443), Some("TCP"))]);
    let sg = the_one(&edge.security_groups, "NLB security group");
    let udp = sg.ip_permissions().iter().any(|p| p.ip_protocol() == Some("udp") && p.from_port() == Some(53));
    assert!(udp, "UDP 53 allowed: {:?}", sg.ip_permissions());
    let records = c.records(&zone, "edge.edge-eun1.example.com").await?;
    let record = the_one(&records, "weighted record");
    assert_eq!((record.set_identifier(), record.weight()), (Some("blue"), Some(50)));
    assert!(edge.web_acls.is_empty() && edge.health_checks.is_empty());

    let inspection = c.owned(&uid_of(&gwlb)).await?;
    let gw = the_one(&inspection.load_balancers, "gateway load balancer");
    assert_eq!(gw.r#type().map(|t| t.as_str()), Some("gateway"));
    let tg = the_one(&inspection.target_groups, "GENEVE target group");
    assert_eq!((tg.protocol().map(|p| p.as_str()), tg.port()), (Some("GENEVE"), Some(6081)));
    assert!(inspection.security_groups.is_empty(), "a Gateway load balancer takes no security group");
    let gw_listeners = c.elb.describe_listeners().load_balancer_arn(gw.load_balancer_arn().unwrap()).send().await?;
    let listener = the_one(gw_listeners.listeners(), "GWLB listener");
    assert_eq!(listener.default_actions()[0].target_group_arn(), tg.target_group_arn());

    // Changing the scheme replaces the NLB, and says so.
    let old_arn = lb.load_balancer_arn().unwrap().to_string();
    let mut internal = env.load_balancer_policies().get("edge").await?.spec;
    internal.scheme = securecart_api::Scheme::Internal;
    env.apply_load_balancer_policy("edge", serde_json::to_value(&internal)?).await?;
    env.wait_ready_in(env.load_balancer_policies(), "edge", CONVERGE).await?;
    let replaced = c.owned(&uid_of(&nlb)).await?;
    let new_lb = the_one(&replaced.load_balancers, "replacement load balancer");
    assert_ne!(new_lb.load_balancer_arn(), Some(old_arn.as_str()));
    assert_eq!(new_lb.scheme().map(|s| s.as_str()), Some("internal"));
    let events = env.events("edge").await?;
    assert!(events.iter().any(|(reason, note)| reason == "Replacing" && note.contains("internal")), "{events:?}");
    let records = c.records(&zone, "edge.edge-eun1.example.com").await?;
    let alias = the_one(&records, "record").alias_target().unwrap().dns_name().trim_end_matches('.').to_string();
    assert_eq!(alias, new_lb.dns_name().unwrap().trim_end_matches('.'), "the record follows the replacement");

    // Retain: the object goes, the Gateway Load Balancer stays.
    let mut retained = env.load_balancer_policies().get("inspection").await?.spec;
    retained.deletion_policy = securecart_api::DeletionPolicy::Retain;
    env.apply_load_balancer_policy("inspection", serde_json::to_value(&retained)?).await?;
    env.wait_ready_in(env.load_balancer_policies(), "inspection", CONVERGE).await?;
    env.load_balancer_policies().delete("inspection", &Default::default()).await?;
    env.wait_gone_in(env.load_balancer_policies(), "inspection", CONVERGE).await?;
    assert_eq!(c.owned(&uid_of(&gwlb)).await?.load_balancers.len(), 1, "retained");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_regions_publish_one_latency_record_set() -> Result<()> {
    let (east, west) = ("ap-south-1", "ap-southeast-2");
    let env = TestEnv::start("lbp-latency", east).await?;
    let c = env.load_balancing_clients(east).await;
    network(&env, east, "shop-mumbai").await?;
    network(&env, west, "shop-sydney").await?;
    let zone = c.create_hosted_zone("latency-aps.example.com").await?;
    let dns_name = "shop.latency-aps.example.com";
    let mut uids = Vec::new();
    for (name, tier, region) in [("mumbai", "shop-mumbai", east), ("sydney", "shop-sydney", west)] {
        let cert = env.request_certificate(region, dns_name).await?;
        let obj = env.apply_load_balancer_policy(name, storefront(tier, &zone, &cert, dns_name, region)).await?;
        uids.push((name, region, uid_of(&obj)));
    }
    for (name, _, _) in &uids {
        env.wait_ready_in(env.load_balancer_policies(), name, CONVERGE).await?;
    }
    let records = c.records(&zone, dns_name).await?;
    assert_eq!(records.len(), 2, "{records:?}");
    for (_, region, uid) in &uids {
        let owned = env.load_balancing_clients(region).await.owned(uid).await?;
        let lb = the_one(&owned.load_balancers, "load balancer");
        let record = records.iter().find(|r| r.set_identifier() == Some(*region)).expect("a record per region");
        assert_eq!(record.region().map(|r| r.as_str()), Some(*region));
        let alias = record.alias_target().unwrap().dns_name().trim_end_matches('.');
        assert_eq!(alias, lb.dns_name().unwrap().trim_end_matches('.'), "each record points at its own region's ALB");
    }
    // Each policy owns only its own record.
    env.load_balancer_policies().delete("mumbai", &Default::default()).await?;
    env.wait_gone_in(env.load_balancer_policies(), "mumbai", CONVERGE).await?;
    let left = c.records(&zone, dns_name).await?;
    let left = the_one(&left, "remaining record");
    assert_eq!(left.set_identifier(), Some(west));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_mid_creation_leaves_no_duplicate() -> Result<()> {
    let region = "eu-west-3";
    let mut env = TestEnv::start("lbp-crash", region).await?;
    let c = env.load_balancing_clients(region).await;
    network(&env, region, "shop").await?;
    let cert = env.request_certificate(region, "shop.crash-euw3.example.com").await?;
    let dns_name = "shop.crash-euw3.example.com";
    // The zone is named, not created yet: the controller builds everything up to the records and
    // waits there, so the kill below lands mid-creation every time.
    let mut policy = storefront("shop", "unused", &cert, dns_name, region);
    policy["dns"].as_object_mut().unwrap().remove("hostedZoneId");
    policy["dns"]["hostedZoneName"] = json!("crash-euw3.example.com");
    let obj = env.apply_load_balancer_policy("storefront", policy).await?;
    let uid = uid_of(&obj);
    wait_for("everything but the records", CONVERGE, || async {
        let o = env.load_balancer_policies().get("storefront").await?;
        let waiting = o.status.is_some_and(|s| {
            s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "False" && c.message.contains("hosted zone"))
        });
        Ok(waiting && c.owned(&uid).await?.health_checks.len() == 1)
    })
    .await?;
    env.kill_controller().await?;
    let zone = c.create_hosted_zone("crash-euw3.example.com").await?;
    assert!(c.records(&zone, dns_name).await?.is_empty());
    env.start_controller().await?;
    env.wait_ready_in(env.load_balancer_policies(), "storefront", CONVERGE).await?;
    let owned = c.owned(&uid).await?;
    assert_eq!(
        (
            owned.load_balancers.len(),
            owned.target_groups.len(),
            owned.security_groups.len(),
            owned.web_acls.len(),
            owned.health_checks.len()
        ),
        (1, 2, 1, 1, 1),
        "{owned:?}"
    );
    assert_eq!(c.records(&zone, dns_name).await?.len(), 1);
    Ok(())
}

/// Makes no AWS call at all (asserted), so it shares eu-west-3 with the restart test harmlessly.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_policies_are_rejected_at_admission_or_reported_without_aws_calls() -> Result<()> {
    let env = TestEnv::start("lbp-invalid", "eu-west-3").await?;
    let base = || {
        json!({
            "vpcTierRef": {"name": "missing"}, "type": "Application", "tier": "public",
            "targetGroups": [{"name": "web", "protocol": "HTTP", "port": 80}],
            "listeners": [{"port": 80, "protocol": "HTTP", "defaultTargetGroup": "web"}],
        })
    };
    // Rejected by the schema's CEL rules.
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut v = base();
    v["type"] = json!("Network");
    v["targetGroups"][0]["protocol"] = json!("TCP");
    v["listeners"][0]["protocol"] = json!("TCP");
    v["waf"] = json!({"managedRuleGroups": ["AWSManagedRulesCommonRuleSet"]});
    cases.push(("WAF on a non-Application type", v));
    let mut v = base();
    v["listeners"][0]["protocol"] = json!("TCP");
    cases.push(("listener protocol that does not fit", v));
    let mut v = base();
    v["listeners"][0]["rules"] = json!([{"priority": 5, "pathPatterns": ["/a"], "targetGroup": "web"}, {"priority": 5, "pathPatterns": ["/b"], "targetGroup": "web"}]);
    cases.push(("duplicate priorities", v));
    let mut v = base();
    v["dns"] = json!({"hostedZoneId": "Z1", "name": "a.example.com", "routing": {"policy": "Latency"}});
    cases.push(("routing without setIdentifier", v));
    for (what, spec) in cases {
        let err = env.apply_load_balancer_policy("rejected", spec).await.expect_err(what);
        assert!(err.to_string().contains("Invalid") || err.to_string().contains("invalid"), "{what}: {err}");
    }
    // Admitted, but a rule names a missing target group: InvalidSpec naming the field.
    let mut v = base();
    v["listeners"][0]["rules"] = json!([{"priority": 5, "pathPatterns": ["/a"], "targetGroup": "nope"}]);
    env.apply_load_balancer_policy("dangling", v).await?;
    wait_for("InvalidSpec", Duration::from_secs(30), || async {
        let o = env.load_balancer_policies().get("dangling").await?;
        Ok(o.status.is_some_and(|s| {
            s.conditions.iter().any(|c| {
                c.type_ == "Ready"
                    && c.reason == "InvalidSpec"
                    && c.message.contains("spec.listeners[0].rules[0].targetGroup")
            })
        }))
    })
    .await?;
    assert_eq!(env.mutating_calls().await?, 0, "no AWS change for invalid specs");
    Ok(())
}
