//! The adapter's requests and its reading of answers, against the SDK's replay client with
//! AWS-shaped responses (the REST-XML of the CloudFront API reference, 2020-05-31).

use std::collections::{BTreeMap, HashMap};

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use securecart_plan::cloudfront::{self, ConfigRefs, Desired, OriginKind, Step};
use securecart_plan::{Context, InUse, Known, Owner, Ref, Tags};

use super::{CloudFront, CloudFrontScope};
use crate::ErrorKind;

const NS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
const ID: &str = "E2QWRUHEXAMPLE";
const OAC: &str = "E1A2B3C4OACXMP";
const LB: &str = "storefront-1234567890.us-east-1.elb.amazonaws.com";
const ACL: &str = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/platform-static/0b3c";
const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
const TOKEN: &str = "sc-6f1e2d3caaaa-0123456789abcdef0123456789abcdef";

fn owner() -> Owner {
    Owner {
        kind: "GlobalEntrypoint".into(),
        namespace: "platform".into(),
        name: "static".into(),
        uid: "6f1e2d3c-aaaa-bbbb-cccc-000000000001".into(),
    }
}

fn desired() -> Desired {
    let spec = serde_json::from_value(serde_json::json!({
        "aliases": ["static.shop.example.com"],
        "certificateArn": CERT,
        "priceClass": "PriceClass_100",
        "origins": [
            {"name": "web", "loadBalancerPolicyRef": {"name": "storefront"}},
            {"name": "images", "s3": {"bucketName": "shop-images", "region": "us-east-1"}}
        ],
        "defaultBehavior": {"origin": "web", "cachePolicy": "CachingDisabled", "originRequestPolicy": "AllViewerExceptHostHeader", "allowedMethods": "All"},
        "behaviors": [
            {"pathPattern": "/images/*", "origin": "images", "cachePolicy": "CachingOptimized"},
            {"pathPattern": "*.js", "origin": "web", "cachePolicy": "CachingOptimized", "compress": true}
        ]
    }))
    .unwrap();
    let lbs = BTreeMap::from([("web".to_string(), LB.to_string())]);
    cloudfront::desired_of(&spec, &owner(), &lbs, &Tags::from([("team".into(), "storefront".into())])).unwrap()
}

fn oac_name() -> String {
    cloudfront::access_control_name(&owner(), "images")
}

/// A distribution configuration as AWS answers it: the controller's fields, plus settings it
/// does not manage (logging, a geo restriction, a function association, a custom origin header,
/// a longer read timeout, HTTP/3) that an update must send back unchanged.
fn config_xml(default_cache_policy: &str) -> String {
    let methods = |m: &[&str]| m.iter().map(|m| format!("<Method>{m}</Method>")).collect::<String>();
    let behavior = |pattern: &str, origin: &str, compress: bool| {
        format!(
            "<CacheBehavior><PathPattern>{pattern}</PathPattern><TargetOriginId>{origin}</TargetOriginId>\
             <TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners>\
             <TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>\
             <ViewerProtocolPolicy>redirect-to-https</ViewerProtocolPolicy>\
             <AllowedMethods><Quantity>2</Quantity><Items>{}</Items><CachedMethods><Quantity>2</Quantity><Items>{}</Items></CachedMethods></AllowedMethods>\
             <SmoothStreaming>false</SmoothStreaming><Compress>{compress}</Compress>\
             <LambdaFunctionAssociations><Quantity>0</Quantity></LambdaFunctionAssociations>\
             <FunctionAssociations><Quantity>0</Quantity></FunctionAssociations><FieldLevelEncryptionId></FieldLevelEncryptionId>\
             <CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId></CacheBehavior>",
            methods(&["HEAD", "GET"]),
            methods(&["HEAD", "GET"])
        )
    };
    format!(
        "<CallerReference>{TOKEN}</CallerReference>\
         <Aliases><Quantity>1</Quantity><Items><CNAME>static.shop.example.com</CNAME></Items></Aliases>\
         <DefaultRootObject></DefaultRootObject>\
         <Origins><Quantity>2</Quantity><Items>\
           <Origin><Id>images</Id><DomainName>shop-images.s3.us-east-1.amazonaws.com</DomainName><OriginPath></OriginPath>\
             <CustomHeaders><Quantity>0</Quantity></CustomHeaders><S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig>\
             <ConnectionAttempts>3</ConnectionAttempts><ConnectionTimeout>10</ConnectionTimeout><OriginShield><Enabled>false</Enabled></OriginShield>\
             <OriginAccessControlId>{OAC}</OriginAccessControlId></Origin>\
           <Origin><Id>web</Id><DomainName>{LB}</DomainName><OriginPath></OriginPath>\
             <CustomHeaders><Quantity>1</Quantity><Items><OriginCustomHeader><HeaderName>X-Origin-Verify</HeaderName><HeaderValue>from-the-edge</HeaderValue></OriginCustomHeader></Items></CustomHeaders>\
             <CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>https-only</OriginProtocolPolicy>\
               <OriginSslProtocols><Quantity>1</Quantity><Items><SslProtocol>TLSv1.2</SslProtocol></Items></OriginSslProtocols>\
               <OriginReadTimeout>60</OriginReadTimeout><OriginKeepaliveTimeout>5</OriginKeepaliveTimeout></CustomOriginConfig>\
             <ConnectionAttempts>3</ConnectionAttempts><ConnectionTimeout>10</ConnectionTimeout><OriginShield><Enabled>false</Enabled></OriginShield>\
             <OriginAccessControlId></OriginAccessControlId></Origin>\
         </Items></Origins>\
         <OriginGroups><Quantity>0</Quantity></OriginGroups>\
         <DefaultCacheBehavior><TargetOriginId>web</TargetOriginId>\
           <TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners>\
           <TrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></TrustedKeyGroups>\
           <ViewerProtocolPolicy>redirect-to-https</ViewerProtocolPolicy>\
           <AllowedMethods><Quantity>7</Quantity><Items>{}</Items><CachedMethods><Quantity>3</Quantity><Items>{}</Items></CachedMethods></AllowedMethods>\
           <SmoothStreaming>false</SmoothStreaming><Compress>false</Compress>\
           <LambdaFunctionAssociations><Quantity>0</Quantity></LambdaFunctionAssociations>\
           <FunctionAssociations><Quantity>1</Quantity><Items><FunctionAssociation><FunctionARN>arn:aws:cloudfront::123456789012:function/security-headers</FunctionARN><EventType>viewer-response</EventType></FunctionAssociation></Items></FunctionAssociations>\
           <FieldLevelEncryptionId></FieldLevelEncryptionId>\
           <CachePolicyId>{default_cache_policy}</CachePolicyId><OriginRequestPolicyId>b689b0a8-53d0-40ab-baf2-68738e2966ac</OriginRequestPolicyId>\
         </DefaultCacheBehavior>\
         <CacheBehaviors><Quantity>2</Quantity><Items>{}{}</Items></CacheBehaviors>\
         <CustomErrorResponses><Quantity>0</Quantity></CustomErrorResponses>\
         <Comment>GlobalEntrypoint platform/static</Comment>\
         <Logging><Enabled>true</Enabled><IncludeCookies>false</IncludeCookies><Bucket>shop-logs.s3.amazonaws.com</Bucket><Prefix>edge/</Prefix></Logging>\
         <PriceClass>PriceClass_100</PriceClass><Enabled>true</Enabled>\
         <ViewerCertificate><CloudFrontDefaultCertificate>false</CloudFrontDefaultCertificate><ACMCertificateArn>{CERT}</ACMCertificateArn>\
           <SSLSupportMethod>sni-only</SSLSupportMethod><MinimumProtocolVersion>TLSv1.2_2021</MinimumProtocolVersion>\
           <Certificate>{CERT}</Certificate><CertificateSource>acm</CertificateSource></ViewerCertificate>\
         <Restrictions><GeoRestriction><RestrictionType>whitelist</RestrictionType><Quantity>2</Quantity><Items><Location>DE</Location><Location>FR</Location></Items></GeoRestriction></Restrictions>\
         <WebACLId>{ACL}</WebACLId><HttpVersion>http2and3</HttpVersion><IsIPV6Enabled>true</IsIPV6Enabled>",
        methods(&["HEAD", "DELETE", "POST", "GET", "OPTIONS", "PUT", "PATCH"]),
        methods(&["HEAD", "GET", "OPTIONS"]),
        behavior("/images/*", "images", false),
        behavior("*.js", "web", true),
    )
}

fn distribution_xml(status: &str, config: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Distribution xmlns=\"{NS}\"><Id>{ID}</Id>\
         <ARN>arn:aws:cloudfront::123456789012:distribution/{ID}</ARN><Status>{status}</Status>\
         <LastModifiedTime>2026-11-30T10:00:00.000Z</LastModifiedTime><InProgressInvalidationBatches>0</InProgressInvalidationBatches>\
         <DomainName>d111111abcdef8.cloudfront.net</DomainName>\
         <ActiveTrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedSigners>\
         <ActiveTrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedKeyGroups>\
         <DistributionConfig>{config}</DistributionConfig></Distribution>"
    )
}

fn answer(status: u16, etag: Option<&str>, body: String) -> HttpResponse {
    let mut r = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
    r.headers_mut().insert("Content-Type", "text/xml");
    r.headers_mut().insert("x-amz-request-id", "req-1");
    if let Some(e) = etag {
        r.headers_mut().insert("ETag", e.to_string());
    }
    r
}

fn error(status: u16, code: &str) -> HttpResponse {
    answer(
        status,
        None,
        format!(
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>refused</Message></Error><RequestId>req-err</RequestId></ErrorResponse>"
        ),
    )
}

fn event(response: HttpResponse) -> ReplayEvent {
    // The recorded request is not compared: each test reads the requests actually sent.
    ReplayEvent::new(HttpRequest::new(SdkBody::empty()), response)
}

fn adapter(events: Vec<ReplayEvent>) -> (CloudFront, StaticReplayClient) {
    let replay = StaticReplayClient::new(events);
    let client = crate::sdk::replay_client!(aws_sdk_cloudfront, replay, "us-east-1");
    (CloudFront { aws: crate::sdk::test_aws(), client, region: "us-east-1".into() }, replay)
}

fn body(r: &HttpRequest) -> String {
    String::from_utf8(r.body().bytes().unwrap_or_default().to_vec()).unwrap()
}

fn tags_xml() -> String {
    let t = owner().tags(cloudfront::components::DISTRIBUTION, &Tags::from([("team".into(), "storefront".into())]));
    let items: String = t.iter().map(|(k, v)| format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>")).collect();
    format!("<?xml version=\"1.0\"?>\n<Tags xmlns=\"{NS}\"><Items>{items}</Items></Tags>")
}

fn oac_config_xml() -> String {
    format!(
        "<OriginAccessControlConfig><Name>{}</Name><Description>{}</Description><SigningProtocol>sigv4</SigningProtocol>\
         <SigningBehavior>always</SigningBehavior><OriginAccessControlOriginType>s3</OriginAccessControlOriginType></OriginAccessControlConfig>",
        oac_name(),
        cloudfront::access_control_description(&owner(), "images")
    )
}

#[tokio::test]
async fn observe_reads_the_distribution_its_tags_and_the_access_control_and_the_plan_is_in_sync() {
    let list = format!(
        "<?xml version=\"1.0\"?>\n<OriginAccessControlList xmlns=\"{NS}\"><Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated>\
         <Quantity>2</Quantity><Items>\
         <OriginAccessControlSummary><Id>EOTHER</Id><Description>x</Description><Name>someone-else</Name><SigningProtocol>sigv4</SigningProtocol><SigningBehavior>always</SigningBehavior><OriginAccessControlOriginType>s3</OriginAccessControlOriginType></OriginAccessControlSummary>\
         <OriginAccessControlSummary><Id>{OAC}</Id><Description>d</Description><Name>{}</Name><SigningProtocol>sigv4</SigningProtocol><SigningBehavior>always</SigningBehavior><OriginAccessControlOriginType>s3</OriginAccessControlOriginType></OriginAccessControlSummary>\
         </Items></OriginAccessControlList>",
        oac_name()
    );
    let oac = format!(
        "<?xml version=\"1.0\"?>\n<OriginAccessControl xmlns=\"{NS}\"><Id>{OAC}</Id>{}</OriginAccessControl>",
        oac_config_xml()
    );
    let (cf, replay) = adapter(vec![
        event(answer(
            200,
            Some("E2ETAGONE"),
            distribution_xml("Deployed", &config_xml("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")),
        )),
        event(answer(200, None, tags_xml())),
        event(answer(200, None, list)),
        event(answer(200, Some("EOACETAG"), oac)),
    ]);
    let names = vec![oac_name()];
    let observed = cf
        .observe(CloudFrontScope {
            owner_uid: &owner().uid,
            distribution_ids: &[ID.to_string()],
            origin_access_control_ids: &[],
            origin_access_control_names: &names,
            search: false,
        })
        .await
        .unwrap();
    let requests: Vec<(String, String)> =
        replay.actual_requests().map(|r| (r.method().to_string(), r.uri().to_string())).collect();
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert!(requests[0].1.ends_with(&format!("/2020-05-31/distribution/{ID}")), "{requests:?}");
    assert!(requests[1].1.contains("/2020-05-31/tagging?Resource=arn%3Aaws%3Acloudfront"), "{requests:?}");
    assert!(requests[3].1.ends_with(&format!("/2020-05-31/origin-access-control/{OAC}")), "{requests:?}");

    let d = &observed.distributions[0];
    assert_eq!((d.id.as_str(), d.status.as_str(), d.etag.as_str()), (ID, "Deployed", "E2ETAGONE"));
    assert_eq!(d.domain_name, "d111111abcdef8.cloudfront.net");
    assert_eq!(d.caller_reference, TOKEN);
    assert_eq!(d.tags.get("team").map(String::as_str), Some("storefront"));
    assert_eq!(d.config.origins[0].kind, OriginKind::S3 { origin_access_control_id: Some(OAC.into()) });
    assert_eq!(observed.origin_access_controls.len(), 1, "only the owner's name");
    assert_eq!(observed.origin_access_controls[0].etag, "EOACETAG");

    // What AWS answered is what the planner asks for: nothing to do.
    let (o, known, in_use) = (owner(), Known::new(), InUse::new());
    let cx = Context { owner: &o, known: &known, in_use: &in_use, chosen: None };
    let planned = cloudfront::plan(Some(&desired()), &cx, &observed, Some(&Ref::Id(ACL.into())));
    assert!(planned.plan.in_sync(), "{}", planned.plan.render());
}

fn update_step(etag: &str) -> Step {
    let mut config = desired().config;
    config.web_acl_id = Some(ACL.into());
    for o in &mut config.origins {
        if let OriginKind::S3 { origin_access_control_id } = &mut o.kind {
            *origin_access_control_id = Some(OAC.into());
        }
    }
    let refs = ConfigRefs {
        origin_access_controls: BTreeMap::from([("images".to_string(), Ref::Id(OAC.into()))]),
        web_acl: Some(Ref::Id(ACL.into())),
    };
    Step::UpdateDistribution { id: ID.into(), etag: etag.into(), config: Box::new(config), refs }
}

fn config_answer(etag: &str, cache_policy: &str) -> HttpResponse {
    answer(
        200,
        Some(etag),
        format!(
            "<?xml version=\"1.0\"?>\n<DistributionConfig xmlns=\"{NS}\">{}</DistributionConfig>",
            config_xml(cache_policy)
        ),
    )
}

#[tokio::test]
async fn an_update_sends_the_planned_etag_and_the_whole_config_with_unmanaged_fields_as_read() {
    // Drift: the default behaviour was switched to CachingOptimized out of band.
    let (cf, replay) = adapter(vec![
        event(config_answer("E2ETAGTWO", "658327ea-f89d-4fab-a63d-7e88639e58f6")),
        event(answer(
            200,
            Some("E2ETAGTHREE"),
            distribution_xml("InProgress", &config_xml("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")),
        )),
    ]);
    let out = cf.run(&update_step("E2ETAGTWO"), &HashMap::new(), None).await.unwrap();
    assert_eq!(out.field("status"), Some("InProgress"));
    let requests: Vec<&HttpRequest> = replay.actual_requests().collect();
    assert_eq!(requests.len(), 2);
    let put = requests[1];
    assert_eq!(put.method(), "PUT");
    assert!(put.uri().ends_with(&format!("/2020-05-31/distribution/{ID}/config")), "{}", put.uri());
    assert_eq!(put.headers().get("If-Match"), Some("E2ETAGTWO"));
    let sent = body(put);
    // The managed field is put back.
    assert!(sent.contains("<CachePolicyId>4135ea2d-6df8-44a3-9df3-4b5a84be39ad</CachePolicyId>"), "{sent}");
    assert!(sent.contains(&format!("<CallerReference>{TOKEN}</CallerReference>")), "the caller reference is kept");
    // Nothing the controller does not manage is reset.
    for kept in [
        "<Bucket>shop-logs.s3.amazonaws.com</Bucket>",
        "<RestrictionType>whitelist</RestrictionType>",
        "<Location>DE</Location>",
        "<FunctionARN>arn:aws:cloudfront::123456789012:function/security-headers</FunctionARN>",
        "<HeaderName>X-Origin-Verify</HeaderName>",
        "<OriginReadTimeout>60</OriginReadTimeout>",
        "<HttpVersion>http2and3</HttpVersion>",
    ] {
        assert!(sent.contains(kept), "{kept} missing from {sent}");
    }
    assert!(sent.contains(&format!("<OriginAccessControlId>{OAC}</OriginAccessControlId>")));
    assert!(sent.contains(&format!("<WebACLId>{ACL}</WebACLId>")));
    assert!(!sent.contains("ForwardedValues"), "a cache policy and legacy settings never together");
}

#[tokio::test]
async fn an_update_planned_from_a_stale_read_is_not_sent() {
    let (cf, replay) = adapter(vec![event(config_answer("E2NEWER", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"))]);
    let err = cf.run(&update_step("E2ETAGTWO"), &HashMap::new(), None).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.kind), ("PreconditionFailed", ErrorKind::Retryable));
    assert_eq!(replay.actual_requests().count(), 1, "only the read");
}

#[tokio::test]
async fn aws_refusing_a_stale_etag_is_retryable() {
    let (cf, _) = adapter(vec![
        event(config_answer("E2ETAGTWO", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad")),
        event(error(412, "PreconditionFailed")),
    ]);
    let err = cf.run(&update_step("E2ETAGTWO"), &HashMap::new(), None).await.unwrap_err();
    assert_eq!(
        (err.operation, err.code.as_str(), err.kind),
        ("UpdateDistribution", "PreconditionFailed", ErrorKind::Retryable)
    );
}

#[tokio::test]
async fn disabling_turns_it_off_and_detaches_its_web_acl_and_nothing_else() {
    let (cf, replay) = adapter(vec![
        event(config_answer("E2ETAGTWO", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad")),
        event(answer(
            200,
            Some("E2ETAGTHREE"),
            distribution_xml("InProgress", &config_xml("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")),
        )),
    ]);
    cf.run(&Step::DisableDistribution { id: ID.into(), etag: "E2ETAGTWO".into() }, &HashMap::new(), None)
        .await
        .unwrap();
    let put = replay.actual_requests().nth(1).unwrap();
    assert_eq!(put.headers().get("If-Match"), Some("E2ETAGTWO"));
    let sent = body(put);
    assert!(
        sent.contains("<Enabled>false</Enabled><ViewerCertificate>")
            || sent.contains("</PriceClass><Enabled>false</Enabled>"),
        "{sent}"
    );
    assert!(sent.contains("<WebACLId></WebACLId>") || sent.contains("<WebACLId/>"), "{sent}");
    assert!(sent.contains("<Bucket>shop-logs.s3.amazonaws.com</Bucket>"));
    assert!(sent.contains("<CachePolicyId>4135ea2d-6df8-44a3-9df3-4b5a84be39ad</CachePolicyId>"));
}

#[tokio::test]
async fn a_create_sends_the_token_the_tags_and_the_resolved_references() {
    let (cf, replay) = adapter(vec![event(answer(
        201,
        Some("E1FIRST"),
        distribution_xml("InProgress", &config_xml("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")),
    ))]);
    let d = desired();
    let refs = ConfigRefs {
        origin_access_controls: BTreeMap::from([("images".to_string(), Ref::Created("oac/images".into()))]),
        web_acl: Some(Ref::Created("webacl".into())),
    };
    let step = Step::CreateDistribution {
        component: "distribution".into(),
        config: Box::new(d.config.clone()),
        refs,
        tags: owner().tags("distribution", &d.user_tags),
    };
    let created = HashMap::from([("oac/images".to_string(), OAC.to_string()), ("webacl".to_string(), ACL.to_string())]);
    let out = cf.run(&step, &created, Some(TOKEN)).await.unwrap();
    assert_eq!(out.id.as_deref(), Some(ID));
    assert_eq!(out.field("domain_name"), Some("d111111abcdef8.cloudfront.net"));
    assert_eq!(out.field("status"), Some("InProgress"));
    assert_eq!(out.field("arn"), Some(format!("arn:aws:cloudfront::123456789012:distribution/{ID}").as_str()));
    let post = replay.actual_requests().next().unwrap();
    assert_eq!(post.method(), "POST");
    assert!(post.uri().ends_with("/2020-05-31/distribution?WithTags"), "{}", post.uri());
    let sent = body(post);
    for want in [
        format!("<CallerReference>{TOKEN}</CallerReference>"),
        format!("<OriginAccessControlId>{OAC}</OriginAccessControlId>"),
        "<S3OriginConfig><OriginAccessIdentity></OriginAccessIdentity></S3OriginConfig>".to_string(),
        format!("<WebACLId>{ACL}</WebACLId>"),
        format!("<ACMCertificateArn>{CERT}</ACMCertificateArn>"),
        "<SSLSupportMethod>sni-only</SSLSupportMethod>".into(),
        "<MinimumProtocolVersion>TLSv1.2_2021</MinimumProtocolVersion>".into(),
        "<RestrictionType>none</RestrictionType>".into(),
        "<PathPattern>/images/*</PathPattern>".into(),
        "<Key>team</Key><Value>storefront</Value>".into(),
        format!("<Key>{}</Key><Value>{}</Value>", securecart_api::tags::OWNER_UID, owner().uid),
        "<Comment>GlobalEntrypoint platform/static</Comment>".into(),
        "<IsIPV6Enabled>true</IsIPV6Enabled>".into(),
    ] {
        assert!(sent.contains(&want), "{want} missing from {sent}");
    }
    // Behaviours in the spec's order.
    let images = sent.find("<PathPattern>/images/*</PathPattern>").unwrap();
    let js = sent.find("<PathPattern>*.js</PathPattern>").unwrap();
    assert!(images < js);
}

#[tokio::test]
async fn a_create_without_its_token_is_never_sent() {
    let (cf, replay) = adapter(vec![]);
    let d = desired();
    let step = Step::CreateDistribution {
        component: "distribution".into(),
        config: Box::new(d.config),
        refs: ConfigRefs::default(),
        tags: Tags::new(),
    };
    let err = cf.run(&step, &HashMap::new(), None).await.unwrap_err();
    assert!(err.is_terminal());
    assert_eq!(replay.actual_requests().count(), 0);
}

#[tokio::test]
async fn deletes_send_if_match_and_gone_is_done() {
    let (cf, replay) = adapter(vec![event(answer(204, None, String::new())), event(error(404, "NoSuchDistribution"))]);
    let step = Step::DeleteDistribution { id: ID.into(), etag: "E2ETAGFOUR".into() };
    cf.run(&step, &HashMap::new(), None).await.unwrap();
    cf.run(&step, &HashMap::new(), None).await.expect("already gone is success");
    let delete = replay.actual_requests().next().unwrap();
    assert_eq!((delete.method(), delete.headers().get("If-Match")), ("DELETE", Some("E2ETAGFOUR")));
    let (cf, _) = adapter(vec![event(error(409, "DistributionNotDisabled"))]);
    let err = cf.run(&step, &HashMap::new(), None).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.kind), ("DistributionNotDisabled", ErrorKind::Retryable));
}

#[tokio::test]
async fn an_access_control_is_created_signing_always_with_sigv4_and_deleted_only_if_unused() {
    let created = format!(
        "<?xml version=\"1.0\"?>\n<OriginAccessControl xmlns=\"{NS}\"><Id>{OAC}</Id>{}</OriginAccessControl>",
        oac_config_xml()
    );
    let (cf, replay) =
        adapter(vec![event(answer(201, Some("EOAC1"), created)), event(error(409, "OriginAccessControlInUse"))]);
    let config = cloudfront::access_control_config(&owner(), "images");
    let out = cf
        .run(
            &Step::CreateOriginAccessControl { component: "oac/images".into(), config: config.clone() },
            &HashMap::new(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(out.id.as_deref(), Some(OAC));
    let sent = body(replay.actual_requests().next().unwrap());
    for want in [
        format!("<Name>{}</Name>", oac_name()),
        "<SigningProtocol>sigv4</SigningProtocol>".into(),
        "<SigningBehavior>always</SigningBehavior>".into(),
        "<OriginAccessControlOriginType>s3</OriginAccessControlOriginType>".into(),
    ] {
        assert!(sent.contains(&want), "{want} missing from {sent}");
    }
    let delete = Step::DeleteOriginAccessControl { id: OAC.into(), etag: "EOAC1".into(), name: config.name };
    let err = cf.run(&delete, &HashMap::new(), None).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.kind), ("OriginAccessControlInUse", ErrorKind::Retryable));
    assert_eq!(replay.actual_requests().nth(1).unwrap().headers().get("If-Match"), Some("EOAC1"));
}
