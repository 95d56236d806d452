//! The hosted zone lookup against the SDK's replay client with AWS-shaped answers (the REST-XML
//! of the Route 53 API reference, 2013-04-01).

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use securecart_plan::route53::ZoneRef;

use super::{DnsScope, Route53};
use crate::Aws;
use crate::sdk::{replay_client, test_aws};

const NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
const ZONE: &str = "shop.example.com.";
const NAME: &str = "www.shop.example.com.";

fn adapter(aws: &Aws, events: Vec<ReplayEvent>) -> (Route53, StaticReplayClient) {
    let replay = StaticReplayClient::new(events);
    let client = replay_client!(aws_sdk_route53, replay, "us-east-1");
    (Route53 { aws: aws.clone(), client, region: "us-east-1".into() }, replay)
}

fn answer(status: u16, body: String) -> HttpResponse {
    HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
}

fn event(status: u16, body: String) -> ReplayEvent {
    // The replay client answers in order; what was asked is checked from its request log.
    let request = HttpRequest::new(SdkBody::empty());
    ReplayEvent::new(request, answer(status, body))
}

fn zones(id: &str) -> ReplayEvent {
    event(
        200,
        format!(
            "<?xml version=\"1.0\"?>\n<ListHostedZonesByNameResponse xmlns=\"{NS}\"><HostedZones><HostedZone>\
             <Id>/hostedzone/{id}</Id><Name>{ZONE}</Name><CallerReference>made-by-hand</CallerReference>\
             <Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>3</ResourceRecordSetCount>\
             </HostedZone></HostedZones><DNSName>{ZONE}</DNSName><IsTruncated>false</IsTruncated>\
             <MaxItems>1</MaxItems></ListHostedZonesByNameResponse>"
        ),
    )
}

fn records() -> ReplayEvent {
    event(
        200,
        format!(
            "<?xml version=\"1.0\"?>\n<ListResourceRecordSetsResponse xmlns=\"{NS}\"><ResourceRecordSets>\
             <ResourceRecordSet><Name>{NAME}</Name><Type>A</Type><AliasTarget><HostedZoneId>Z35SXDOTRQ7X7K</HostedZoneId>\
             <DNSName>storefront-1234567890.us-east-1.elb.amazonaws.com.</DNSName>\
             <EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget></ResourceRecordSet>\
             </ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>\
             </ListResourceRecordSetsResponse>"
        ),
    )
}

fn no_such_zone(id: &str) -> ReplayEvent {
    event(
        404,
        format!(
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type>\
             <Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: {id}</Message></Error>\
             <RequestId>8d3f1c2e-0000-4000-8000-000000000001</RequestId></ErrorResponse>"
        ),
    )
}

/// Each request the replay client saw, as "<path>" (the operation is in the path).
fn asked(replay: &StaticReplayClient) -> Vec<String> {
    let path = |uri: &str| {
        uri.split('?').next().unwrap_or_default().trim_start_matches("https://route53.amazonaws.com").to_string()
    };
    replay.actual_requests().map(|r| path(r.uri())).collect()
}

fn scope(zone: &ZoneRef) -> DnsScope<'_> {
    DnsScope { owner_uid: "6f1e2d3c-aaaa-bbbb-cccc-000000000001", records: Some((zone, NAME)), ..Default::default() }
}

#[tokio::test]
async fn a_zone_found_by_name_is_not_looked_up_again_by_the_next_observation() {
    let aws = test_aws();
    let zone = ZoneRef::Name(ZONE.into());
    let (r53, replay) = adapter(&aws, vec![zones("Z1AAAA"), records()]);
    let first = r53.observe(scope(&zone)).await.unwrap();
    // Another policy in the same zone, through another adapter of the same controller.
    let (other, replay_other) = adapter(&aws, vec![records()]);
    let second = other.observe(scope(&zone)).await.unwrap();

    assert_eq!(first.hosted_zone_id.as_deref(), Some("Z1AAAA"));
    assert_eq!(second.hosted_zone_id.as_deref(), Some("Z1AAAA"));
    assert_eq!(second.records.len(), 1, "the alias record at the name");
    assert_eq!(asked(&replay), ["/2013-04-01/hostedzonesbyname", "/2013-04-01/hostedzone/Z1AAAA/rrset"]);
    assert_eq!(asked(&replay_other), ["/2013-04-01/hostedzone/Z1AAAA/rrset"], "no second lookup by name");
}

#[tokio::test]
async fn a_zone_deleted_and_made_again_is_looked_up_again_when_its_old_id_is_refused() {
    let aws = test_aws();
    let zone = ZoneRef::Name(ZONE.into());
    let (r53, _) = adapter(&aws, vec![zones("Z1AAAA"), records()]);
    r53.observe(scope(&zone)).await.unwrap();

    let (r53, replay) = adapter(&aws, vec![no_such_zone("Z1AAAA"), zones("Z2BBBB"), records()]);
    let observed = r53.observe(scope(&zone)).await.unwrap();
    assert_eq!(observed.hosted_zone_id.as_deref(), Some("Z2BBBB"), "the zone's new ID");
    assert_eq!(observed.records.len(), 1);
    assert_eq!(
        asked(&replay),
        ["/2013-04-01/hostedzone/Z1AAAA/rrset", "/2013-04-01/hostedzonesbyname", "/2013-04-01/hostedzone/Z2BBBB/rrset"]
    );
}

#[tokio::test]
async fn a_zone_named_by_id_is_never_looked_up_and_a_missing_one_is_reported_absent() {
    let aws = test_aws();
    let zone = ZoneRef::Id("Z9GONE".into());
    let (r53, replay) = adapter(&aws, vec![no_such_zone("Z9GONE")]);
    let observed = r53.observe(scope(&zone)).await.unwrap();
    assert_eq!(observed.hosted_zone_id, None);
    assert!(observed.records.is_empty());
    assert_eq!(asked(&replay), ["/2013-04-01/hostedzone/Z9GONE/rrset"]);
}
