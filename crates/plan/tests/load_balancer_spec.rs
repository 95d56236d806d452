//! LoadBalancerPolicy specs: what is refused (naming the field), where the load balancer goes,
//! and the shapes of Network and Gateway load balancers.

mod lb_sim;

use std::collections::BTreeSet;

use lb_sim::Sim;
use lb_sim::fixtures::*;
use pretty_assertions::assert_eq;
use securecart_plan::elbv2;
use securecart_plan::load_balancer_policy as lbp;
use serde_json::{Value, json};

#[test]
fn network_and_gateway_load_balancers_plan_their_own_shapes() {
    let nlb = spec(json!({
        "vpcTierRef": {"name": "shop"}, "type": "Network", "tier": "public", "allowedCidrs": ["10.0.0.0/8", "2001:db8::/32"],
        "targetGroups": [{"name": "dns", "protocol": "TCP_UDP", "port": 53}],
        "listeners": [{"port": 53, "protocol": "TCP_UDP", "defaultTargetGroup": "dns"}],
        "attributes": {"crossZoneLoadBalancing": true},
    }));
    let d = desired_for(&nlb, &owner());
    let ingress: BTreeSet<(String, String)> =
        d.security_group.unwrap().ingress.into_iter().map(|i| (i.protocol, i.cidr)).collect();
    assert_eq!(ingress.len(), 4, "tcp and udp from both CIDRs: {ingress:?}");
    assert_eq!(
        d.elbv2.load_balancer.attributes.get("load_balancing.cross_zone.enabled").map(String::as_str),
        Some("true")
    );

    let gwlb = spec(json!({
        "vpcTierRef": {"name": "shop"}, "type": "Gateway", "tier": "app",
        "targetGroups": [{"name": "appliances", "protocol": "GENEVE"}],
        "listeners": [{"defaultTargetGroup": "appliances"}],
    }));
    let d = desired_for(&gwlb, &owner());
    assert!(d.security_group.is_none());
    assert_eq!(d.elbv2.target_groups[0].port, elbv2::GENEVE_PORT);
    let mut sim = Sim::new();
    converge(Some(&gwlb), &mut sim);
    let o = sim.observe();
    assert_eq!(components_of(&o.elbv2.listeners, |l| &l.tags), BTreeSet::from([elbv2::components::listener(None)]));
    assert!(o.security_groups.is_empty());
}

#[test]
fn invalid_specs_name_their_field() {
    let cases: Vec<(&str, Value)> = vec![
        ("spec.waf", {
            let mut v = example();
            v["type"] = json!("Network");
            v["targetGroups"] = json!([{"name": "web", "protocol": "TCP", "port": 80}]);
            v["listeners"] = json!([{"port": 80, "protocol": "TCP", "defaultTargetGroup": "web"}]);
            v.as_object_mut().unwrap().remove("attributes");
            v
        }),
        ("spec.listeners[1].protocol", {
            let mut v = example();
            v["listeners"][1]["protocol"] = json!("UDP");
            v
        }),
        ("spec.listeners[0].rules[0].targetGroup", {
            let mut v = example();
            v["listeners"][0]["rules"][0]["targetGroup"] = json!("missing");
            v
        }),
        ("spec.listeners[0].defaultTargetGroup", {
            let mut v = example();
            v["listeners"][0]["defaultTargetGroup"] = json!("missing");
            v
        }),
        ("spec.listeners[0].rules[1].priority", {
            let mut v = example();
            v["listeners"][0]["rules"] = json!([
                {"priority": 10, "pathPatterns": ["/a"], "targetGroup": "web"},
                {"priority": 10, "pathPatterns": ["/b"], "targetGroup": "web"}]);
            v
        }),
        ("spec.dns.routing.setIdentifier", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Latency"});
            v
        }),
        ("spec.dns.routing.weight", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Weighted", "setIdentifier": "a"});
            v
        }),
        ("spec.dns.routing.role", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Failover", "setIdentifier": "a"});
            v
        }),
        ("spec.dns.routing: Geolocation", {
            let mut v = example();
            v["dns"]["routing"] = json!({"policy": "Geolocation", "setIdentifier": "a"});
            v
        }),
        ("spec.listeners[0].certificateArn", {
            let mut v = example();
            v["listeners"][0].as_object_mut().unwrap().remove("certificateArn");
            v
        }),
        ("spec.targetGroups[1].name", {
            let mut v = example();
            v["targetGroups"][1]["name"] = json!("web");
            v
        }),
        ("spec.allowedCidrs[0]", {
            let mut v = example();
            v["allowedCidrs"] = json!(["not-a-cidr"]);
            v
        }),
        ("spec.attributes.crossZoneLoadBalancing", {
            let mut v = example();
            v["attributes"]["crossZoneLoadBalancing"] = json!(true);
            v
        }),
        ("spec.tags", {
            let mut v = example();
            v["tags"] = json!({"net.securecart.io/owner-uid": "x"});
            v
        }),
    ];
    for (field, v) in cases {
        let err = lbp::validate(&spec(v)).expect_err(field);
        assert!(err.0.starts_with(field), "expected an error naming {field}, got {:?}", err.0);
    }
    assert_eq!(lbp::validate(&spec(example())), Ok(()));
}

#[test]
fn placement_comes_from_the_vpc_tier_tier() {
    let tier_spec: securecart_api::VpcTierSpec = serde_json::from_value(json!({
        "region": "us-east-1", "cidrBlock": "10.20.0.0/16", "availabilityZones": 2,
        "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}, {"name": "app", "type": "Private", "prefixLength": 20}],
    }))
    .unwrap();
    let status: securecart_api::VpcTierStatus = serde_json::from_value(json!({
        "vpcId": "vpc-9",
        "subnets": [
            {"tier": "public", "type": "Public", "zone": "us-east-1a", "cidrBlock": "10.20.0.0/24", "subnetId": "subnet-p1"},
            {"tier": "public", "type": "Public", "zone": "us-east-1b", "cidrBlock": "10.20.1.0/24", "subnetId": "subnet-p2"},
            {"tier": "app", "type": "Private", "zone": "us-east-1a", "cidrBlock": "10.20.16.0/20", "subnetId": "subnet-a1"},
        ],
    }))
    .unwrap();
    let s = spec(example());
    let p = lbp::placement(&s, &tier_spec, &status).unwrap().unwrap();
    assert_eq!((p.vpc_id.as_str(), p.subnet_ids.clone()), ("vpc-9", vec!["subnet-p1".to_string(), "subnet-p2".into()]));
    let missing = example_with(|v| v["tier"] = json!("edge"));
    assert!(lbp::placement(&missing, &tier_spec, &status).unwrap_err().0.starts_with("spec.tier"));
    let private = example_with(|v| v["tier"] = json!("app"));
    let err = lbp::placement(&private, &tier_spec, &status).unwrap_err();
    assert!(err.0.contains("internet-facing"), "{}", err.0);
    let empty = securecart_api::VpcTierStatus::default();
    assert_eq!(lbp::placement(&s, &tier_spec, &empty), Ok(None), "waits for subnets");
}
