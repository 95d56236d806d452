//! The adapter against the SDK's own replay client: recorded, AWS-shaped awsJson1_1 answers in,
//! the requests the SDK actually sent out. Global Accelerator is not in the emulator, so these
//! are what shows the adapter reads and writes what AWS does.

use std::collections::HashMap;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::http::{Request, Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use securecart_plan::global_accelerator::{EndpointConfig, HealthCheck, Step, listener_key};
use securecart_plan::{Ref, Tags};
use serde_json::{Value, json};

use super::{AcceleratorScope, GlobalAccelerator, child_token};
use crate::ErrorKind;

const ACCELERATOR: &str = "arn:aws:globalaccelerator::123456789012:accelerator/1234abcd-abcd-1234-abcd-1234abcdefgh";
const LB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/checkout-euw1/5a6b7c8d";

fn listener_arn() -> String {
    format!("{ACCELERATOR}/listener/0123vxyz")
}

fn group_arn() -> String {
    format!("{}/endpoint-group/098765zyxwvu", listener_arn())
}

fn answer(status: u16, body: Value) -> Response {
    let mut r = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body.to_string()));
    r.headers_mut().insert("content-type", "application/x-amz-json-1.1");
    r.headers_mut().insert("x-amzn-requestid", "6f1c3e9a-1b2c-4d5e-8f90-a1b2c3d4e5f6");
    r
}

fn ok(body: Value) -> ReplayEvent {
    ReplayEvent::new(Request::new(SdkBody::empty()), answer(200, body))
}

fn refused(code: &str, message: &str) -> ReplayEvent {
    ReplayEvent::new(Request::new(SdkBody::empty()), answer(400, json!({"__type": code, "Message": message})))
}

fn adapter(events: Vec<ReplayEvent>) -> (GlobalAccelerator, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    let client = crate::sdk::replay_client!(aws_sdk_globalaccelerator, http, "us-west-2");
    (GlobalAccelerator::with_client(crate::sdk::test_aws(), client), http)
}

/// Every request sent: (operation from X-Amz-Target, JSON body).
fn sent(http: &StaticReplayClient) -> Vec<(String, Value)> {
    http.actual_requests()
        .map(|r| {
            assert!(r.uri().contains("globalaccelerator.us-west-2.amazonaws.com"), "{}", r.uri());
            let target = r.headers().get("x-amz-target").unwrap_or_default();
            let op = target.strip_prefix("GlobalAccelerator_V20180706.").unwrap_or(target).to_string();
            let body =
                r.body().bytes().filter(|b| !b.is_empty()).map_or(Value::Null, |b| serde_json::from_slice(b).unwrap());
            (op, body)
        })
        .collect()
}

fn accelerator_json(status: &str, enabled: bool) -> Value {
    json!({
        "AcceleratorArn": ACCELERATOR,
        "Name": "shop-checkout",
        "IpAddressType": "IPV4",
        "Enabled": enabled,
        "IpSets": [{"IpFamily": "IPv4", "IpAddresses": ["75.2.27.4", "99.83.91.9"], "IpAddressFamily": "IPv4"}],
        "DnsName": "a1234567890abcdef.awsglobalaccelerator.com",
        "Status": status,
        "CreatedTime": 1.7221e9,
        "LastModifiedTime": 1.7221e9,
    })
}

fn tags_json(uid: &str) -> Value {
    json!({"Tags": [
        {"Key": "net.securecart.io/owner-uid", "Value": uid},
        {"Key": "net.securecart.io/component", "Value": "accelerator"},
        {"Key": "team", "Value": "checkout"},
    ]})
}

fn listeners_json() -> Value {
    json!({"Listeners": [{
        "ListenerArn": listener_arn(),
        "PortRanges": [{"FromPort": 8443, "ToPort": 8443}, {"FromPort": 443, "ToPort": 443}],
        "Protocol": "TCP",
        "ClientAffinity": "SOURCE_IP",
    }]})
}

fn groups_json() -> Value {
    json!({"EndpointGroups": [{
        "EndpointGroupArn": group_arn(),
        "EndpointGroupRegion": "eu-west-1",
        "EndpointDescriptions": [{"EndpointId": LB, "Weight": 128, "HealthState": "HEALTHY", "ClientIPPreservationEnabled": true}],
        "TrafficDialPercentage": 100.0,
        "HealthCheckPort": 443,
        "HealthCheckProtocol": "TCP",
        "HealthCheckPath": "/",
        "HealthCheckIntervalSeconds": 30,
        "ThresholdCount": 3,
        "PortOverrides": [],
    }]})
}

#[tokio::test]
async fn observe_reads_the_recorded_accelerator_its_tags_listeners_and_groups() {
    let (adapter, http) = adapter(vec![
        ok(json!({"Accelerator": accelerator_json("DEPLOYED", true)})),
        ok(tags_json("u-ga-1")),
        ok(listeners_json()),
        ok(groups_json()),
    ]);
    let arns = [ACCELERATOR.to_string()];
    let o = adapter
        .observe(AcceleratorScope { owner_uid: "u-ga-1", accelerator_arns: &arns, search: false })
        .await
        .unwrap();
    let a = &o.accelerators[0];
    assert_eq!(
        (a.arn.as_str(), a.name.as_str(), a.status.as_str(), a.enabled),
        (ACCELERATOR, "shop-checkout", "DEPLOYED", true)
    );
    assert_eq!(a.dns_name.as_deref(), Some("a1234567890abcdef.awsglobalaccelerator.com"));
    assert_eq!(a.ip_addresses, ["75.2.27.4", "99.83.91.9"]);
    assert_eq!(a.tags["team"], "checkout");
    assert_eq!(a.tags[securecart_api::tags::OWNER_UID], "u-ga-1");
    let l = &o.listeners[0];
    assert_eq!(
        (l.accelerator_arn.as_str(), l.protocol.as_str(), l.client_affinity.as_str()),
        (ACCELERATOR, "TCP", "SOURCE_IP")
    );
    assert_eq!(l.port_ranges, [(443, 443), (8443, 8443)], "sorted, as the planner compares them");
    let g = &o.endpoint_groups[0];
    assert_eq!(
        (g.listener_arn.as_str(), g.region.as_str(), g.traffic_dial_percentage),
        (listener_arn().as_str(), "eu-west-1", 100.0)
    );
    assert_eq!(
        g.health_check,
        HealthCheck { protocol: "TCP".into(), path: None, port: Some(443), interval_seconds: 30, threshold_count: 3 },
        "a TCP check's path means nothing"
    );
    let e = &g.endpoints[0];
    assert_eq!(
        (e.id.as_str(), e.weight, e.client_ip_preservation, e.health_state.as_deref()),
        (LB, 128, true, Some("HEALTHY"))
    );
    let requests = sent(&http);
    let ops: Vec<&str> = requests.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(ops, ["DescribeAccelerator", "ListTagsForResource", "ListListeners", "ListEndpointGroups"]);
    assert_eq!(requests[0].1, json!({"AcceleratorArn": ACCELERATOR}));
    assert_eq!(requests[1].1, json!({"ResourceArn": ACCELERATOR}));
    assert_eq!(requests[2].1["AcceleratorArn"], ACCELERATOR);
    assert_eq!(requests[3].1["ListenerArn"], listener_arn());
}

#[tokio::test]
async fn an_accelerator_that_is_gone_is_none() {
    let (adapter, http) =
        adapter(vec![refused("AcceleratorNotFoundException", "The accelerator that you specified doesn't exist.")]);
    let arns = [ACCELERATOR.to_string()];
    let o = adapter
        .observe(AcceleratorScope { owner_uid: "u-ga-1", accelerator_arns: &arns, search: false })
        .await
        .unwrap();
    assert!(o.accelerators.is_empty() && o.listeners.is_empty());
    assert_eq!(sent(&http).len(), 1, "nothing more is read of it");
}

#[tokio::test]
async fn search_pages_through_every_accelerator_and_keeps_the_owners() {
    let other = "arn:aws:globalaccelerator::123456789012:accelerator/ffffeeee-dddd-cccc-bbbb-aaaa99998888";
    let mut foreign = accelerator_json("DEPLOYED", true);
    foreign["AcceleratorArn"] = json!(other);
    let (adapter, http) = adapter(vec![
        ok(json!({"Accelerators": [foreign], "NextToken": "page-2"})),
        ok(tags_json("u-someone-else")),
        ok(json!({"Accelerators": [accelerator_json("IN_PROGRESS", true)]})),
        ok(tags_json("u-ga-1")),
        ok(json!({"Listeners": []})),
    ]);
    let o =
        adapter.observe(AcceleratorScope { owner_uid: "u-ga-1", accelerator_arns: &[], search: true }).await.unwrap();
    assert_eq!(o.accelerators.iter().map(|a| a.arn.as_str()).collect::<Vec<_>>(), [ACCELERATOR]);
    assert_eq!(o.accelerators[0].status, "IN_PROGRESS");
    let requests = sent(&http);
    let ops: Vec<&str> = requests.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        ops,
        ["ListAccelerators", "ListTagsForResource", "ListAccelerators", "ListTagsForResource", "ListListeners"]
    );
    assert_eq!(requests[1].1["ResourceArn"], other);
    assert_eq!(requests[2].1["NextToken"], "page-2");
}

#[tokio::test]
async fn create_accelerator_sends_the_intents_token_enabled_with_tags() {
    let (adapter, http) = adapter(vec![ok(json!({"Accelerator": accelerator_json("IN_PROGRESS", true)}))]);
    let tags = Tags::from([
        (securecart_api::tags::OWNER_UID.to_string(), "u-ga-1".to_string()),
        ("team".to_string(), "checkout".to_string()),
    ]);
    let step = Step::CreateAccelerator {
        component: "accelerator".into(),
        name: "shop-checkout".into(),
        ip_address_type: "IPV4".into(),
        tags,
    };
    let out = adapter.run(&step, &HashMap::new(), Some("sc-uga1-0123456789abcdef")).await.unwrap();
    assert_eq!(out.id.as_deref(), Some(ACCELERATOR));
    assert_eq!(out.field("dns_name"), Some("a1234567890abcdef.awsglobalaccelerator.com"));
    assert_eq!(out.field("status"), Some("IN_PROGRESS"));
    let (op, body) = &sent(&http)[0];
    assert_eq!(op, "CreateAccelerator");
    assert_eq!(body["IdempotencyToken"], "sc-uga1-0123456789abcdef");
    assert_eq!(
        (&body["Name"], &body["IpAddressType"], &body["Enabled"]),
        (&json!("shop-checkout"), &json!("IPV4"), &json!(true))
    );
    let mut sent_tags: Vec<(String, String)> = body["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["Key"].as_str().unwrap().to_string(), t["Value"].as_str().unwrap().to_string()))
        .collect();
    sent_tags.sort();
    assert_eq!(
        sent_tags,
        [("net.securecart.io/owner-uid".into(), "u-ga-1".into()), ("team".into(), "checkout".into())]
    );
}

#[tokio::test]
async fn create_listener_resolves_its_accelerator_and_repeats_its_token() {
    let answer = || {
        ok(json!({"Listener": {"ListenerArn": listener_arn(), "PortRanges": [{"FromPort": 443, "ToPort": 443}],
        "Protocol": "TCP", "ClientAffinity": "NONE"}}))
    };
    let (adapter, http) = adapter(vec![answer(), answer()]);
    let step = Step::CreateListener {
        component: "listener/TCP/443".into(),
        accelerator: Ref::Created("accelerator".into()),
        protocol: "TCP".into(),
        port_ranges: vec![(443, 443)],
        client_affinity: "NONE".into(),
    };
    let created = HashMap::from([("accelerator".to_string(), ACCELERATOR.to_string())]);
    for _ in 0..2 {
        let out = adapter.run(&step, &created, Some("sc-uga1-listener")).await.unwrap();
        assert_eq!(out.id, Some(listener_arn()));
    }
    let requests = sent(&http);
    let body = &requests[0].1;
    assert_eq!(body["AcceleratorArn"], ACCELERATOR);
    assert_eq!(body["PortRanges"], json!([{"FromPort": 443, "ToPort": 443}]));
    assert_eq!((&body["Protocol"], &body["ClientAffinity"]), (&json!("TCP"), &json!("NONE")));
    let token = body["IdempotencyToken"].as_str().unwrap();
    assert_eq!(token, child_token(Some("sc-uga1-listener"), ACCELERATOR, &listener_key("TCP", &[(443, 443)])));
    assert_eq!(requests[1].1["IdempotencyToken"], token, "a retry is the same request");
    assert!(token.len() <= 255 && token.is_ascii());
}

#[test]
fn child_tokens_differ_by_parent_and_key() {
    let t = child_token(Some("sc-a"), ACCELERATOR, "TCP/443");
    assert_eq!(t, child_token(Some("sc-a"), ACCELERATOR, "TCP/443"));
    assert_ne!(t, child_token(Some("sc-a"), ACCELERATOR, "TCP/80"));
    assert_ne!(t, child_token(Some("sc-a"), "arn:other", "TCP/443"), "a new accelerator never gets an old listener");
    assert_ne!(t, child_token(Some("sc-b"), ACCELERATOR, "TCP/443"));
    assert_eq!(child_token(None, ACCELERATOR, "TCP/443"), child_token(None, ACCELERATOR, "TCP/443"));
}

#[tokio::test]
async fn create_endpoint_group_names_its_region_listener_and_endpoints() {
    let (adapter, http) = adapter(vec![ok(json!({"EndpointGroup": groups_json()["EndpointGroups"][0]}))]);
    let step = Step::CreateEndpointGroup {
        component: "endpointgroup/TCP/443/eu-west-1".into(),
        listener: Ref::Id(listener_arn()),
        region: "eu-west-1".into(),
        traffic_dial_percentage: 100.0,
        health_check: HealthCheck {
            protocol: "TCP".into(),
            path: None,
            port: Some(443),
            interval_seconds: 30,
            threshold_count: 3,
        },
        endpoints: vec![EndpointConfig { id: LB.into(), weight: 128, client_ip_preservation: true }],
    };
    let out = adapter.run(&step, &HashMap::new(), Some("sc-uga1-group")).await.unwrap();
    assert_eq!(out.id, Some(group_arn()));
    let (op, body) = &sent(&http)[0];
    assert_eq!(op, "CreateEndpointGroup");
    assert_eq!((&body["ListenerArn"], &body["EndpointGroupRegion"]), (&json!(listener_arn()), &json!("eu-west-1")));
    assert_eq!(
        body["EndpointConfigurations"],
        json!([{"EndpointId": LB, "Weight": 128, "ClientIPPreservationEnabled": true}])
    );
    assert_eq!((&body["HealthCheckProtocol"], &body["HealthCheckPort"]), (&json!("TCP"), &json!(443)));
    assert!(body.get("HealthCheckPath").is_none(), "no path for a TCP check: {body}");
    assert_eq!(body["IdempotencyToken"], child_token(Some("sc-uga1-group"), &listener_arn(), "eu-west-1"));
}

#[tokio::test]
async fn update_endpoint_group_replaces_the_whole_endpoint_list() {
    let (adapter, http) = adapter(vec![ok(json!({"EndpointGroup": groups_json()["EndpointGroups"][0]}))]);
    let new_lb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/checkout-euw1/9e0f1a2b";
    let step = Step::UpdateEndpointGroup {
        arn: group_arn(),
        region: "eu-west-1".into(),
        traffic_dial_percentage: 50.0,
        health_check: HealthCheck {
            protocol: "HTTPS".into(),
            path: Some("/healthz".into()),
            port: Some(443),
            interval_seconds: 10,
            threshold_count: 2,
        },
        endpoints: vec![EndpointConfig { id: new_lb.into(), weight: 200, client_ip_preservation: true }],
    };
    adapter.run(&step, &HashMap::new(), None).await.unwrap();
    let (op, body) = &sent(&http)[0];
    assert_eq!(op, "UpdateEndpointGroup");
    assert_eq!(
        body,
        &json!({
            "EndpointGroupArn": group_arn(),
            "EndpointConfigurations": [{"EndpointId": new_lb, "Weight": 200, "ClientIPPreservationEnabled": true}],
            "TrafficDialPercentage": 50.0,
            "HealthCheckPort": 443,
            "HealthCheckProtocol": "HTTPS",
            "HealthCheckPath": "/healthz",
            "HealthCheckIntervalSeconds": 10,
            "ThresholdCount": 2,
        })
    );
}

#[tokio::test]
async fn disabling_sends_enabled_false_with_name_and_address_type() {
    let (adapter, http) = adapter(vec![ok(json!({"Accelerator": accelerator_json("IN_PROGRESS", false)}))]);
    let step = Step::UpdateAccelerator {
        arn: ACCELERATOR.into(),
        name: "shop-checkout".into(),
        ip_address_type: "IPV4".into(),
        enabled: false,
    };
    let out = adapter.run(&step, &HashMap::new(), None).await.unwrap();
    assert_eq!(out.field("status"), Some("IN_PROGRESS"));
    assert_eq!(
        sent(&http)[0].1,
        json!({"AcceleratorArn": ACCELERATOR, "Name": "shop-checkout", "IpAddressType": "IPV4", "Enabled": false})
    );
}

#[tokio::test]
async fn deleting_an_enabled_accelerator_is_refused_and_retryable() {
    let (adapter, http) = adapter(vec![refused(
        "AcceleratorNotDisabledException",
        "The accelerator that you specified could not be disabled.",
    )]);
    let e = adapter.run(&Step::DeleteAccelerator { arn: ACCELERATOR.into() }, &HashMap::new(), None).await.unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.kind, e.operation),
        ("AcceleratorNotDisabledException", ErrorKind::Retryable, "DeleteAccelerator")
    );
    assert!(!e.is_terminal());
    assert_eq!(sent(&http)[0], ("DeleteAccelerator".to_string(), json!({"AcceleratorArn": ACCELERATOR})));
}

#[tokio::test]
async fn deleting_what_is_gone_is_success_and_a_listener_with_groups_is_retried() {
    let (adapter, _) = adapter(vec![
        refused("ListenerNotFoundException", "The listener that you specified doesn't exist."),
        refused(
            "AssociatedEndpointGroupFoundException",
            "The listener can't be deleted because it has endpoint groups.",
        ),
        refused("EndpointGroupNotFoundException", "The endpoint group that you specified doesn't exist."),
    ]);
    let delete = Step::DeleteListener { arn: listener_arn(), protocol: "TCP".into(), port_ranges: vec![(443, 443)] };
    assert!(adapter.run(&delete, &HashMap::new(), None).await.is_ok());
    let e = adapter.run(&delete, &HashMap::new(), None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Retryable);
    let group = Step::DeleteEndpointGroup { arn: group_arn(), region: "eu-west-1".into() };
    assert!(adapter.run(&group, &HashMap::new(), None).await.is_ok());
}

#[tokio::test]
async fn a_port_range_aws_refuses_is_terminal() {
    let (adapter, _) =
        adapter(vec![refused("InvalidPortRangeException", "The port numbers that you specified are not valid.")]);
    let step = Step::UpdateListener {
        arn: listener_arn(),
        protocol: "TCP".into(),
        port_ranges: vec![(443, 443)],
        client_affinity: "NONE".into(),
    };
    let e = adapter.run(&step, &HashMap::new(), None).await.unwrap_err();
    assert!(e.is_terminal(), "{e}");
}
