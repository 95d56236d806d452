//! GlobalEntrypoint, the kind: validation without AWS, the desired state from the referenced
//! policies, the composition of the edge's plan with Shield and Route 53 (and their order at
//! teardown), readiness while the edge deploys, and the status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use securecart_api::GlobalEntrypointSpec;
use securecart_plan::global_accelerator::{self as ga, Accelerator, HOSTED_ZONE_ID as GA_ZONE};
use securecart_plan::global_entrypoint::{self as gep, Observed, Policies, PolicyView};
use securecart_plan::plan::{Plan, PlanStep};
use securecart_plan::route53::{self, ChangeAction};
use securecart_plan::shield::Protection;
use securecart_plan::{Context, InUse, Known, Owner, Step};
use serde_json::{Value, json};

const USE1_LB: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/checkout-use1/1f2e3d4c";
const EUW1_LB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/checkout-euw1/5a6b7c8d";
const ACCELERATOR_ARN: &str =
    "arn:aws:globalaccelerator::123456789012:accelerator/5f3e2d1c-aaaa-4bbb-8ccc-0123456789ab";

fn owner() -> Owner {
    Owner {
        kind: "GlobalEntrypoint".into(),
        namespace: "platform".into(),
        name: "checkout".into(),
        uid: "u-gep".into(),
    }
}

fn spec(v: Value) -> GlobalEntrypointSpec {
    serde_json::from_value(v).expect("a valid spec")
}

fn accelerator_spec() -> Value {
    json!({
        "type": "GlobalAccelerator",
        "globalAccelerator": {"listeners": [{
            "protocol": "TCP", "portRanges": [{"from": 443, "to": 443}], "clientAffinity": "SOURCE_IP",
            "endpointGroups": [
                {"loadBalancerPolicyRef": {"name": "checkout-use1"}},
                {"loadBalancerPolicyRef": {"name": "checkout-euw1"}, "weight": 200},
            ],
        }]},
        "dns": {"hostedZoneName": "shop.example", "name": "checkout.shop.example"},
        "shield": {"enabled": true},
    })
}

fn policy(region: &str, arn: &str, ready: bool) -> PolicyView {
    PolicyView {
        region: region.into(),
        load_balancer_arn: arn.into(),
        dns_name: format!("{region}.elb.example"),
        active: true,
        ready,
        application: true,
    }
}

fn policies() -> Policies {
    Policies::from([
        ("checkout-use1".to_string(), policy("us-east-1", USE1_LB, true)),
        ("checkout-euw1".to_string(), policy("eu-west-1", EUW1_LB, true)),
    ])
}

static NOTHING_KNOWN: Known = Known::new();
static NOT_IN_USE: InUse = InUse::new();

fn cx(owner: &Owner) -> Context<'_> {
    Context { owner, known: &NOTHING_KNOWN, in_use: &NOT_IN_USE, chosen: None }
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

/// The owner's accelerator, as Global Accelerator reports it, with the zone and record Route 53 has.
fn deployed(owner: &Owner, status: &str) -> Observed {
    let accelerator = Accelerator {
        arn: ACCELERATOR_ARN.into(),
        name: ga::accelerator_name(owner),
        status: status.into(),
        enabled: true,
        ip_address_type: "IPV4".into(),
        dns_name: Some("a1234567890abcdef.awsglobalaccelerator.com".into()),
        dual_stack_dns_name: None,
        ip_addresses: vec!["75.2.0.1".into(), "99.83.0.1".into()],
        tags: owner.tags(ga::components::ACCELERATOR, &Default::default()),
    };
    Observed {
        accelerator: ga::Observed { accelerators: vec![accelerator], ..Default::default() },
        route53: route53::Observed { hosted_zone_id: Some("Z0SHOP".into()), ..Default::default() },
        ..Default::default()
    }
}

#[test]
fn fields_of_the_other_type_and_latency_routing_are_refused_without_aws() {
    let mut both = accelerator_spec();
    both["cloudFront"] = json!({"origins": [{"name": "web", "domainName": "web.example.com"}],
                                "defaultBehavior": {"origin": "web", "cachePolicy": "CachingDisabled"}});
    let e = gep::validate(&spec(both)).unwrap_err();
    assert!(e.0.starts_with("spec.cloudFront:"), "{e}");

    let mut latency = accelerator_spec();
    latency["dns"]["routing"] = json!({"policy": "Latency", "setIdentifier": "x"});
    let e = gep::validate(&spec(latency)).unwrap_err();
    assert!(e.0.contains("spec.dns.routing.policy"), "{e}");

    let mut reserved = accelerator_spec();
    reserved["tags"] = json!({"net.securecart.io/owner": "me"});
    assert!(gep::validate(&spec(reserved)).unwrap_err().0.starts_with("spec.tags"));
    assert_eq!(gep::validate(&spec(accelerator_spec())), Ok(()));
}

#[test]
fn a_policy_the_edge_cannot_reach_is_refused_naming_the_field() {
    let field = &gep::policy_refs(&spec(accelerator_spec()))[1].0;
    assert_eq!(field, "spec.globalAccelerator.listeners[0].endpointGroups[1].loadBalancerPolicyRef");
    let e = gep::check_policy(field, "checkout-euw1", "Application", false).unwrap_err();
    assert!(e.0.starts_with(field) && e.0.contains("internal"), "{e}");
    let e = gep::check_policy(field, "inspection", "Gateway", true).unwrap_err();
    assert!(e.0.contains("Gateway"), "{e}");
    assert!(gep::check_policy(field, "checkout-euw1", "Network", true).is_ok());
}

#[test]
fn two_endpoint_groups_in_one_region_for_one_listener_are_refused() {
    let mut same = policies();
    same.insert("checkout-euw1".into(), policy("us-east-1", EUW1_LB, true));
    let e = gep::desired(&spec(accelerator_spec()), &owner(), &same).unwrap_err();
    assert!(e.0.starts_with("spec.globalAccelerator.listeners[0].endpointGroups[1]"), "{e}");
    assert!(e.0.contains("us-east-1"), "{e}");
}

#[test]
fn the_accelerator_comes_first_then_shield_and_the_alias_records_to_its_name() {
    let owner = owner();
    let desired = gep::desired(&spec(accelerator_spec()), &owner, &policies()).unwrap();
    // Nothing yet: the accelerator with its listener and groups, and nothing to protect or alias.
    let first = gep::plan(Some(&desired), &cx(&owner), &Observed::default());
    assert_eq!(
        actions(&first),
        ["CreateAccelerator", "CreateListener", "CreateEndpointGroup", "CreateEndpointGroup"],
        "{}",
        first.render()
    );

    // Deployed: its listener and groups, Shield on its ARN, A records aliasing its DNS name.
    let observed = deployed(&owner, "DEPLOYED");
    let plan = gep::plan(Some(&desired), &cx(&owner), &observed);
    let found = |a: &str| plan.steps.iter().filter(|s| s.action() == a).count();
    assert_eq!(found("CreateListener"), 1, "{}", plan.render());
    assert_eq!(found("CreateProtection"), 1, "{}", plan.render());
    let records = plan.steps.iter().find_map(|s| match s {
        Step::Route53(route53::Step::ChangeRecords { changes, .. }) => Some(changes.clone()),
        _ => None,
    });
    let records = records.expect("alias records");
    assert_eq!(records.len(), 1, "IPV4: an A record only: {records:?}");
    let r = &records[0].record;
    assert_eq!((r.record_type.as_str(), r.alias_hosted_zone_id.as_deref()), ("A", Some(GA_ZONE)));
    assert_eq!(r.alias_dns_name.as_deref(), Some("a1234567890abcdef.awsglobalaccelerator.com."));
    assert!(!r.evaluate_target_health, "the accelerator checks its own endpoints");
}

#[test]
fn deploying_or_a_policy_not_ready_keeps_the_entry_point_from_ready_naming_why() {
    let owner = owner();
    let desired = gep::desired(&spec(accelerator_spec()), &owner, &policies()).unwrap();
    let why = gep::not_ready(&desired, &deployed(&owner, "IN_PROGRESS")).expect("not ready while deploying");
    assert!(why.contains("IN_PROGRESS"), "{why}");
    assert_eq!(gep::not_ready(&desired, &deployed(&owner, "DEPLOYED")), None);

    let mut lagging = policies();
    lagging.insert("checkout-euw1".into(), policy("eu-west-1", EUW1_LB, false));
    let desired = gep::desired(&spec(accelerator_spec()), &owner, &lagging).unwrap();
    let why = gep::not_ready(&desired, &deployed(&owner, "DEPLOYED")).expect("not ready");
    assert!(why.contains("LoadBalancerPolicy checkout-euw1"), "{why}");
}

#[test]
fn the_status_reports_the_accelerator_its_ips_and_per_part_conditions() {
    let owner = owner();
    let desired = gep::desired(&spec(accelerator_spec()), &owner, &policies()).unwrap();
    let mut observed = deployed(&owner, "DEPLOYED");
    observed.protections.push(Protection {
        id: "p-1".into(),
        arn: "arn:aws:shield::123456789012:protection/p-1".into(),
        resource_arn: ACCELERATOR_ARN.into(),
        tags: owner.tags("shield", &Default::default()),
    });
    let now = Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap());
    let status = gep::status(&desired, &observed, Some(3), &[], &now);
    assert_eq!(status.accelerator_arn.as_deref(), Some(ACCELERATOR_ARN));
    assert_eq!(status.domain_name.as_deref(), Some("a1234567890abcdef.awsglobalaccelerator.com"));
    assert_eq!(status.static_ips, ["75.2.0.1", "99.83.0.1"]);
    assert_eq!(status.shield_protection_id.as_deref(), Some("p-1"));
    let condition =
        |t: &str| status.conditions.iter().find(|c| c.type_ == t).map(|c| (c.status.clone(), c.reason.clone()));
    assert_eq!(condition("Deployed"), Some(("True".into(), "Deployed".into())));
    assert_eq!(condition("WafAssociated"), Some(("False".into(), "NotRequested".into())));
    assert_eq!(condition("DnsPublished"), Some(("False".into(), "Progressing".into())), "no record yet");
    assert!(status.conditions.iter().all(|c| c.observed_generation == Some(3)));
}

#[test]
fn teardown_removes_records_and_shield_before_the_accelerator() {
    let owner = owner();
    let mut observed = deployed(&owner, "DEPLOYED");
    observed.protections.push(Protection {
        id: "p-1".into(),
        arn: "arn:aws:shield::123456789012:protection/p-1".into(),
        resource_arn: ACCELERATOR_ARN.into(),
        tags: owner.tags("shield", &Default::default()),
    });
    observed.route53.records.push(route53::Record {
        name: "checkout.shop.example.".into(),
        record_type: "A".into(),
        set_identifier: None,
        routing: route53::RecordRouting::Simple,
        alias_dns_name: Some("a1234567890abcdef.awsglobalaccelerator.com.".into()),
        alias_hosted_zone_id: Some(GA_ZONE.into()),
        evaluate_target_health: false,
        health_check_id: None,
    });
    let plan = gep::plan(None, &cx(&owner), &observed);
    let position = |a: &str| plan.steps.iter().position(|s| s.action() == a);
    let records = position("ChangeResourceRecordSets").expect("records go");
    assert!(position("DeleteProtection").is_some(), "the protection goes: {}", plan.render());
    assert!(position("UpdateAccelerator").is_some(), "the accelerator is disabled: {}", plan.render());
    let deletes_records = matches!(&plan.steps[records], Step::Route53(route53::Step::ChangeRecords { changes, .. })
        if changes.iter().all(|c| c.action == ChangeAction::Delete));
    assert!(deletes_records, "{}", plan.render());
    // Deleted only once it is disabled and deployed so, after the records and the protection.
    assert_eq!(position("DeleteAccelerator"), None, "{}", plan.render());
    assert!(plan.waiting.iter().any(|w| w.contains("deployed disabled")), "{:?}", plan.waiting);
    let mut disabled = observed.clone();
    disabled.accelerator.accelerators[0].enabled = false;
    disabled.protections.clear();
    disabled.route53.records.clear();
    let last = gep::plan(None, &cx(&owner), &disabled);
    assert_eq!(actions(&last), ["DeleteAccelerator"], "{}", last.render());
}
