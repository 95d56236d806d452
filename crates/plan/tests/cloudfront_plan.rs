//! CloudFront planner: the spec's translation and validation as tables, and plans run against a
//! simulator of CloudFront as AWS behaves (random IDs, an ETag per change, IfMatch checked,
//! deploys that take a while, deletes refused until disabled and deployed) until they converge.

mod cf_sim;

use std::collections::BTreeMap;

use cf_sim::Account;
use pretty_assertions::assert_eq;
use securecart_api::global_entrypoint::CloudFrontSpec;
use securecart_plan::cloudfront::{self, Desired, OriginKind, Planned, Step, components};
use securecart_plan::plan::{Plan, PlanStep, Verb};
use securecart_plan::{Context, InUse, Known, Owner, Ref, Tags, intent};
use serde_json::json;

const LB_DNS: &str = "storefront-1234567890.us-east-1.elb.amazonaws.com";
const WEB_ACL: &str = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/platform-static/0b3c";

fn owner() -> Owner {
    Owner {
        kind: "GlobalEntrypoint".into(),
        namespace: "platform".into(),
        name: "static".into(),
        uid: "6f1e2d3c-aaaa-bbbb-cccc-000000000001".into(),
    }
}

fn spec_json() -> serde_json::Value {
    json!({
        "aliases": ["static.shop.example.com"],
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "priceClass": "PriceClass_100",
        "origins": [
            {"name": "web", "loadBalancerPolicyRef": {"name": "storefront"}, "protocolPolicy": "https-only"},
            {"name": "images", "s3": {"bucketName": "shop-images", "region": "us-east-1"}}
        ],
        "defaultBehavior": {"origin": "web", "cachePolicy": "CachingDisabled", "viewerProtocolPolicy": "redirect-to-https",
                            "originRequestPolicy": "AllViewerExceptHostHeader", "allowedMethods": "All"},
        "behaviors": [
            {"pathPattern": "/images/*", "origin": "images", "cachePolicy": "CachingOptimized"},
            {"pathPattern": "*.js", "origin": "web", "cachePolicy": "CachingOptimized", "compress": true}
        ]
    })
}

fn spec_of(v: serde_json::Value) -> CloudFrontSpec {
    serde_json::from_value(v).expect("a CloudFront spec")
}

fn lbs(dns: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("web".to_string(), dns.to_string())])
}

fn user_tags() -> Tags {
    Tags::from([("team".to_string(), "storefront".to_string())])
}

fn desired_with(dns: &str) -> Desired {
    cloudfront::desired_of(&spec_of(spec_json()), &owner(), &lbs(dns), &user_tags()).expect("valid")
}

fn desired() -> Desired {
    desired_with(LB_DNS)
}

fn plan_with(
    desired: Option<&Desired>,
    known: &Known,
    observed: &cloudfront::Observed,
    web_acl: Option<&Ref>,
) -> Planned {
    let (owner, in_use) = (owner(), InUse::new());
    let cx = Context { owner: &owner, known, in_use: &in_use, chosen: None };
    cloudfront::plan(desired, &cx, observed, web_acl)
}

fn actions(plan: &Plan<Step>) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action()).collect()
}

/// The controller's loop against the simulator: observe, plan, apply, record what the status
/// would (the inventory), with one token per create intent kept until the create is seen.
struct Driver {
    account: Account,
    known: Known,
    tokens: BTreeMap<String, String>,
    nonce: u32,
    pub rounds: Vec<Plan<Step>>,
}

impl Driver {
    fn new(account: Account) -> Self {
        Self { account, known: Known::new(), tokens: BTreeMap::new(), nonce: 0, rounds: Vec::new() }
    }

    fn token(&mut self, component: &str) -> String {
        if !self.tokens.contains_key(component) {
            self.nonce += 1;
            let t = intent::token(&owner().uid, component, "", &self.nonce.to_string());
            self.tokens.insert(component.to_string(), t);
        }
        self.tokens[component].clone()
    }

    /// One reconcile: returns the plan it ran and the error that stopped it, if any.
    fn round(&mut self, desired: Option<&Desired>, web_acl: Option<&Ref>) -> (Plan<Step>, Result<(), String>) {
        let observed = self.account.observe();
        self.known = cloudfront::inventory(&owner(), &observed).into_iter().collect();
        // An intent is settled once its resource is seen.
        let seen: Vec<String> = self.known.keys().cloned().collect();
        self.tokens.retain(|c, _| !seen.contains(c));
        let planned = plan_with(desired, &self.known, &observed, web_acl);
        for c in planned.plan.steps.iter().filter_map(|s| s.creates()).map(str::to_string).collect::<Vec<_>>() {
            self.token(&c);
        }
        let result = self.account.apply(&planned.plan, &self.tokens).map(|created| self.known.extend(created));
        self.rounds.push(planned.plan.clone());
        (planned.plan, result)
    }

    /// Rounds until a plan has nothing to do nor wait for; panics after `max`.
    fn converge(&mut self, desired: Option<&Desired>, web_acl: Option<&Ref>, max: usize) -> usize {
        for n in 0..max {
            let (plan, result) = self.round(desired, web_acl);
            if plan.in_sync() {
                assert!(result.is_ok());
                return n;
            }
            if let Err(e) = result {
                // Retryable races (a stale ETag) are met again by the next round.
                assert!(e.contains("PreconditionFailed") || e.contains("answer was lost"), "{e}");
            }
        }
        panic!(
            "no convergence in {max} rounds:\n{}",
            self.rounds.iter().map(|p| p.render()).collect::<Vec<_>>().join("--\n")
        );
    }

    fn only_distribution(&self) -> &cloudfront::Distribution {
        assert_eq!(self.account.distributions.len(), 1, "{:?}", self.account.distributions);
        &self.account.distributions[0]
    }
}

fn converged() -> Driver {
    let mut d = Driver::new(Account::new());
    d.converge(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())), 10);
    d
}

// ---------------------------------------------------------------- the spec

#[test]
fn the_issue_example_becomes_the_distribution_config() {
    let d = desired();
    let c = &d.config;
    assert!(c.enabled);
    assert_eq!(c.comment, "GlobalEntrypoint platform/static");
    assert_eq!(c.aliases, ["static.shop.example.com"]);
    assert_eq!(c.certificate_arn.as_deref(), Some("arn:aws:acm:us-east-1:123456789012:certificate/abc"));
    assert_eq!(
        (c.ssl_support_method.as_deref(), c.minimum_protocol_version.as_deref()),
        (Some("sni-only"), Some("TLSv1.2_2021"))
    );
    assert_eq!((c.price_class.as_str(), c.ipv6, c.default_root_object.as_deref()), ("PriceClass_100", true, None));
    // Origins sorted by ID: CloudFront keeps them as a set.
    let origins: Vec<(&str, &str)> = c.origins.iter().map(|o| (o.id.as_str(), o.domain_name.as_str())).collect();
    assert_eq!(origins, [("images", "shop-images.s3.us-east-1.amazonaws.com"), ("web", LB_DNS)]);
    assert_eq!(c.origins[0].kind, OriginKind::S3 { origin_access_control_id: None });
    assert_eq!(
        c.origins[1].kind,
        OriginKind::Custom { protocol_policy: "https-only".into(), http_port: 80, https_port: 443 }
    );
    let b = &c.default_behavior;
    assert_eq!(b.path_pattern, None);
    assert_eq!(b.cache_policy_id, "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "CachingDisabled");
    assert_eq!(b.origin_request_policy_id.as_deref(), Some("b689b0a8-53d0-40ab-baf2-68738e2966ac"));
    assert_eq!(b.allowed_methods, ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]);
    assert_eq!(b.cached_methods(), ["GET", "HEAD", "OPTIONS"]);
    // Path behaviours in the spec's order: the first match serves.
    let paths: Vec<(Option<&str>, &str, &str, bool)> = c
        .behaviors
        .iter()
        .map(|b| (b.path_pattern.as_deref(), b.target_origin_id.as_str(), b.cache_policy_id.as_str(), b.compress))
        .collect();
    assert_eq!(
        paths,
        [
            (Some("/images/*"), "images", "658327ea-f89d-4fab-a63d-7e88639e58f6", false),
            (Some("*.js"), "web", "658327ea-f89d-4fab-a63d-7e88639e58f6", true)
        ]
    );
    assert_eq!(c.behaviors[0].allowed_methods, ["GET", "HEAD"]);
    assert_eq!(c.behaviors[0].viewer_protocol_policy, "redirect-to-https", "the default");
    // One access control, for the S3 origin.
    assert_eq!(d.origin_access_controls.len(), 1);
    let oac = &d.origin_access_controls[0];
    assert_eq!(oac.origin, "images");
    assert_eq!(
        (oac.config.origin_type.as_str(), oac.config.signing_behavior.as_str(), oac.config.signing_protocol.as_str()),
        ("s3", "always", "sigv4")
    );
    assert_eq!(oac.config.name, cloudfront::access_control_name(&owner(), "images"));
}

#[test]
fn without_aliases_the_default_certificate_and_defaults() {
    let spec = spec_of(json!({
        "origins": [{"name": "site", "domainName": "origin.example.com", "httpPort": 8080, "protocolPolicy": "match-viewer"}],
        "defaultBehavior": {"origin": "site", "cachePolicy": "UseOriginCacheControlHeaders-QueryStrings"},
        "defaultRootObject": "index.html"
    }));
    let d = cloudfront::desired_of(&spec, &owner(), &BTreeMap::new(), &Tags::new()).unwrap();
    assert_eq!((d.config.certificate_arn.as_ref(), d.config.ssl_support_method.as_ref()), (None, None));
    assert_eq!((d.config.price_class.as_str(), d.config.ipv6), ("PriceClass_All", true));
    assert_eq!(d.config.default_root_object.as_deref(), Some("index.html"));
    assert_eq!(
        d.config.origins[0].kind,
        OriginKind::Custom { protocol_policy: "match-viewer".into(), http_port: 8080, https_port: 443 }
    );
    assert_eq!(d.config.default_behavior.cache_policy_id, "4cc15a8a-d715-48a4-82b8-cc0b614638fe");
    assert!(d.origin_access_controls.is_empty());
}

/// A change to the example spec.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn invalid_specs_name_the_field() {
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "a behaviour naming a missing origin",
            Box::new(|s| s["behaviors"][1]["origin"] = json!("api")),
            "spec.cloudFront.behaviors[1].origin: api names no origin",
        ),
        (
            "the default behaviour naming a missing origin",
            Box::new(|s| s["defaultBehavior"]["origin"] = json!("nowhere")),
            "spec.cloudFront.defaultBehavior.origin: nowhere names no origin",
        ),
        (
            "a certificate outside us-east-1",
            Box::new(|s| s["certificateArn"] = json!("arn:aws:acm:eu-west-1:123456789012:certificate/abc")),
            "spec.cloudFront.certificateArn: CloudFront takes ACM certificates from us-east-1 only",
        ),
        (
            "not an ACM certificate",
            Box::new(|s| s["certificateArn"] = json!("arn:aws:iam::123456789012:server-certificate/x")),
            "spec.cloudFront.certificateArn: arn:aws:iam::123456789012:server-certificate/x is not an ACM",
        ),
        (
            "aliases without a certificate",
            Box::new(|s| {
                s.as_object_mut().unwrap().remove("certificateArn");
            }),
            "spec.cloudFront.certificateArn: aliases (static.shop.example.com) need a certificate",
        ),
        (
            "a path pattern listed twice",
            Box::new(|s| s["behaviors"][1]["pathPattern"] = json!("/images/*")),
            "spec.cloudFront.behaviors[1].pathPattern: /images/* is listed twice",
        ),
        (
            "a path behaviour without a pattern",
            Box::new(|s| {
                s["behaviors"][0].as_object_mut().unwrap().remove("pathPattern");
            }),
            "spec.cloudFront.behaviors[0].pathPattern: required",
        ),
        (
            "a default behaviour with a pattern",
            Box::new(|s| s["defaultBehavior"]["pathPattern"] = json!("/*")),
            "spec.cloudFront.defaultBehavior.pathPattern",
        ),
        (
            "an origin listed twice",
            Box::new(|s| s["origins"][1]["name"] = json!("web")),
            "spec.cloudFront.origins[1].name: web is listed twice",
        ),
        (
            "an S3 origin with a protocol policy",
            Box::new(|s| s["origins"][1]["protocolPolicy"] = json!("http-only")),
            "spec.cloudFront.origins[1].protocolPolicy",
        ),
        (
            "an origin with two kinds",
            Box::new(|s| s["origins"][1]["domainName"] = json!("x.example.com")),
            "spec.cloudFront.origins[1]: set exactly one of",
        ),
    ];
    for (what, edit, message) in cases {
        let mut v = spec_json();
        edit(&mut v);
        let err = cloudfront::desired_of(&spec_of(v), &owner(), &lbs(LB_DNS), &Tags::new()).expect_err(what);
        assert!(err.0.starts_with(message), "{what}: {}", err.0);
    }
    // A load balancer origin whose policy has no DNS name yet cannot be built.
    let err = cloudfront::desired_of(&spec_of(spec_json()), &owner(), &BTreeMap::new(), &Tags::new()).unwrap_err();
    assert_eq!(
        err.0,
        "spec.cloudFront.origins[0].loadBalancerPolicyRef: no load balancer DNS name for LoadBalancerPolicy storefront"
    );
}

#[test]
fn access_control_names_are_deterministic_short_and_distinct() {
    let o = owner();
    let name = cloudfront::access_control_name(&o, "images");
    assert_eq!(name, cloudfront::access_control_name(&o, "images"));
    assert!(name.starts_with("platform-static-images-"), "{name}");
    assert_ne!(name, cloudfront::access_control_name(&o, "media"));
    let other = Owner { uid: "another-uid".into(), ..o.clone() };
    assert_ne!(name, cloudfront::access_control_name(&other, "images"), "a recreated object gets its own");
    let long = Owner { namespace: "n".repeat(63), name: "m".repeat(63), ..o.clone() };
    let long_name = cloudfront::access_control_name(&long, &"o".repeat(63));
    assert_eq!(long_name.len(), 64);
    assert_ne!(
        long_name,
        cloudfront::access_control_name(&long, &format!("{}p", "o".repeat(62))),
        "the hash tells them apart"
    );
    let description = cloudfront::access_control_description(&o, "images");
    assert_eq!(cloudfront::origin_of_description(&description), Some("images"));
    assert_eq!(cloudfront::owner_of_description(&description), Some(("platform", "static")));
}

// ---------------------------------------------------------------- plans

#[test]
fn a_create_makes_the_access_control_before_the_distribution_that_signs_with_it() {
    let acl = Ref::Created("webacl".into());
    let planned = plan_with(Some(&desired()), &Known::new(), &cloudfront::Observed::default(), Some(&acl));
    assert_eq!(actions(&planned.plan), ["CreateOriginAccessControl", "CreateDistributionWithTags"]);
    assert_eq!(planned.plan.levels(), [0, 1]);
    assert_eq!(planned.distribution, Some(Ref::Created(components::DISTRIBUTION.into())));
    let Step::CreateDistribution { config, refs, tags, .. } = &planned.plan.steps[1] else { unreachable!() };
    assert_eq!(
        refs.origin_access_controls,
        BTreeMap::from([("images".to_string(), Ref::Created("oac/images".into()))])
    );
    assert_eq!(refs.web_acl, Some(acl.clone()));
    assert_eq!(config.web_acl_id, None, "filled by the adapter from the created ACL");
    assert_eq!(tags.get("team").map(String::as_str), Some("storefront"));
    assert_eq!(tags.get(securecart_api::tags::OWNER_UID), Some(&owner().uid));
    assert_eq!(planned.plan.steps[1].refs(), vec![&Ref::Created("oac/images".into()), &acl]);
    insta_like(
        &planned.plan.render(),
        &[
            "L1 create origin access control platform-static-images-",
            "L2 create distribution \"GlobalEntrypoint platform/static\" with origins shop-images.s3.us-east-1.amazonaws.com, storefront-",
        ],
    );
}

fn insta_like(rendered: &str, starts: &[&str]) {
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines.len(), starts.len(), "{rendered}");
    for (line, start) in lines.iter().zip(starts) {
        assert!(line.starts_with(start), "{line:?} should start with {start:?}");
    }
}

#[test]
fn the_distribution_waits_for_the_web_acl_and_its_protection_and_records_wait_for_it() {
    use securecart_plan::shield;
    let planned =
        plan_with(Some(&desired()), &Known::new(), &cloudfront::Observed::default(), Some(&Ref::Id(WEB_ACL.into())));
    let mut steps: Vec<securecart_plan::Step> = planned.plan.steps.into_iter().map(Into::into).collect();
    steps.push(
        shield::Step::CreateProtection {
            component: "shield".into(),
            name: "platform-static".into(),
            resource_arn: "<distribution>".into(),
            tags: Tags::new(),
        }
        .into(),
    );
    let plan = Plan { steps, ..Plan::default() };
    assert_eq!(plan.levels(), [0, 1, 2], "access control, distribution, then its protection");
}

#[test]
fn teardown_steps_go_in_reverse_disable_after_the_records_that_alias_it() {
    use securecart_plan::route53::{self, ChangeAction, Record, RecordChange, RecordRouting};
    let record = Record {
        name: "static.shop.example.com.".into(),
        record_type: "A".into(),
        set_identifier: None,
        routing: RecordRouting::Simple,
        alias_dns_name: Some("d1.cloudfront.net".into()),
        alias_hosted_zone_id: Some(cloudfront::HOSTED_ZONE_ID.into()),
        evaluate_target_health: false,
        health_check_id: None,
    };
    let steps: Vec<securecart_plan::Step> = vec![
        Step::DisableDistribution { id: "E1".into(), etag: "EA".into() }.into(),
        route53::Step::ChangeRecords {
            hosted_zone_id: "Z1".into(),
            changes: vec![RecordChange { action: ChangeAction::Delete, record }],
        }
        .into(),
    ];
    let plan = Plan { steps, ..Plan::default() };
    assert_eq!(plan.levels(), [1, 0], "the name stops pointing at the distribution before it is disabled");
    assert_eq!(Step::DisableDistribution { id: "E1".into(), etag: "EA".into() }.verb(), Verb::Delete);
}

// ---------------------------------------------------------------- against the simulator

#[test]
fn a_new_entry_point_converges_and_stays_converged() {
    let mut d = Driver::new(Account::new());
    let rounds = d.converge(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())), 10);
    assert_eq!(rounds, 1, "one round of creates, then in sync:\n{}", d.rounds[0].render());
    let dist = d.only_distribution().clone();
    assert_eq!(dist.caller_reference.len(), 48, "the intent's token");
    assert!(dist.caller_reference.starts_with(&intent::token_prefix(&owner().uid)));
    assert_eq!(dist.config.web_acl_id.as_deref(), Some(WEB_ACL));
    let oac = &d.account.controls[0];
    assert_eq!(dist.config.origins[0].kind, OriginKind::S3 { origin_access_control_id: Some(oac.id.clone()) });
    assert_eq!(d.known.get("distribution"), Some(&dist.id));
    assert_eq!(d.known.get("oac/images"), Some(&oac.id));
    // Deploying is not a change to make: still nothing to do while InProgress, then Deployed.
    assert_eq!(dist.status, "InProgress");
    for _ in 0..3 {
        let (plan, _) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
        assert!(plan.in_sync(), "{}", plan.render());
    }
    assert!(d.only_distribution().deployed());
    assert_eq!(cloudfront::find(&owner(), &d.account.observe()).map(|f| f.id.clone()), Some(dist.id));
    assert_eq!(d.account.calls("UpdateDistribution"), 0, "a converged distribution is never rewritten");
}

#[test]
fn a_behaviour_changed_out_of_band_is_put_back_with_the_new_etag() {
    let mut d = converged();
    let id = d.only_distribution().id.clone();
    let before = d.only_distribution().etag.clone();
    d.account.change(&id, |c| c.behaviors[0].cache_policy_id = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad".into());
    let changed = d.only_distribution().etag.clone();
    assert_ne!(before, changed, "every change has a new ETag");
    let (plan, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    assert_eq!(actions(&plan), ["UpdateDistribution"]);
    let Step::UpdateDistribution { etag, .. } = &plan.steps[0] else { unreachable!() };
    assert_eq!(etag, &changed, "IfMatch is the ETag just read");
    result.unwrap();
    assert_eq!(d.only_distribution().config.behaviors[0].cache_policy_id, "658327ea-f89d-4fab-a63d-7e88639e58f6");
    assert_eq!(d.converge(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())), 5), 0);
}

#[test]
fn an_s3_origin_that_lost_its_access_control_out_of_band_is_signed_again() {
    let mut d = converged();
    let id = d.only_distribution().id.clone();
    let signed = d.only_distribution().config.origins[0].kind.clone();
    d.account.change(&id, |c| c.origins[0].kind = OriginKind::S3 { origin_access_control_id: None });
    let (plan, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    assert_eq!(actions(&plan), ["UpdateDistribution"]);
    result.unwrap();
    assert_eq!(d.only_distribution().config.origins[0].kind, signed);
    assert_eq!(d.converge(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())), 5), 0);
}

#[test]
fn an_origin_read_back_without_its_type_is_compared_on_the_rest() {
    let mut d = converged();
    let id = d.only_distribution().id.clone();
    d.account.change(&id, |c| c.origins[0].kind = OriginKind::Unreported);
    let (plan, _) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    assert!(plan.in_sync(), "a read that says nothing of the type is no drift: {}", plan.render());
    // Its other fields are still compared.
    d.account.change(&id, |c| c.origins[0].origin_path = Some("/elsewhere".into()));
    let (plan, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    assert_eq!(actions(&plan), ["UpdateDistribution"]);
    result.unwrap();
    assert_eq!(d.only_distribution().config.origins[0].origin_path, None);
}

#[test]
fn a_detached_web_acl_is_attached_again() {
    let mut d = converged();
    let id = d.only_distribution().id.clone();
    d.account.change(&id, |c| c.web_acl_id = None);
    let (plan, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    assert_eq!(actions(&plan), ["UpdateDistribution"]);
    result.unwrap();
    assert_eq!(d.only_distribution().config.web_acl_id.as_deref(), Some(WEB_ACL));
    // A web ACL replaced (made anew by this plan) reaches the distribution through its reference.
    let created =
        cf_sim::resolve(&Ref::Created("webacl".into()), &BTreeMap::from([("webacl".into(), "arn:new".into())]));
    assert_eq!(created.as_deref(), Ok("arn:new"));
}

#[test]
fn an_update_made_from_a_stale_read_is_refused_and_the_next_round_repairs() {
    let mut d = converged();
    let id = d.only_distribution().id.clone();
    d.account.change(&id, |c| c.price_class = "PriceClass_All".into());
    let observed = d.account.observe();
    let planned = plan_with(Some(&desired()), &d.known, &observed, Some(&Ref::Id(WEB_ACL.into())));
    assert_eq!(actions(&planned.plan), ["UpdateDistribution"]);
    // Someone else changes it between our read and our write.
    d.account.change(&id, |c| c.ipv6 = false);
    let err = d.account.apply(&planned.plan, &BTreeMap::new()).unwrap_err();
    assert!(err.contains("PreconditionFailed"), "{err}");
    d.converge(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())), 5);
    let c = &d.only_distribution().config;
    assert_eq!((c.price_class.as_str(), c.ipv6), ("PriceClass_100", true), "both changes put back");
}

#[test]
fn a_replaced_load_balancer_is_followed() {
    let mut d = converged();
    let new_dns = "storefront-new-987654321.us-east-1.elb.amazonaws.com";
    let (plan, result) = d.round(Some(&desired_with(new_dns)), Some(&Ref::Id(WEB_ACL.into())));
    assert_eq!(actions(&plan), ["UpdateDistribution"]);
    result.unwrap();
    let web = d.only_distribution().config.origins.iter().find(|o| o.id == "web").unwrap().domain_name.clone();
    assert_eq!(web, new_dns);
    assert_eq!(d.account.calls("CreateDistributionWithTags"), 1, "updated in place, not replaced");
}

#[test]
fn teardown_disables_waits_for_the_deploy_deletes_then_the_access_control() {
    let mut d = converged();
    let id = d.only_distribution().id.clone();
    d.account.log.clear();
    let (first, _) = d.round(None, None);
    assert_eq!(actions(&first), ["UpdateDistribution"]);
    assert!(matches!(&first.steps[0], Step::DisableDistribution { id: i, .. } if i == &id));
    assert!(
        first.waiting.iter().any(|w| w.contains("to be unused by distribution") && w.contains(&id)),
        "the access control waits for the distribution: {:?}",
        first.waiting
    );
    assert_eq!(d.only_distribution().config.web_acl_id, None, "its web ACL can go in the same pass");
    let (second, _) = d.round(None, None);
    assert!(second.steps.is_empty());
    assert!(
        second.waiting.contains(&format!("distribution {id} to finish deploying (disabled) before it is deleted")),
        "{:?}",
        second.waiting
    );
    d.converge(None, None, 10);
    assert!(d.account.distributions.is_empty() && d.account.controls.is_empty());
    let order: Vec<&str> = d.account.log.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(order, ["UpdateDistribution", "DeleteDistribution", "DeleteOriginAccessControl"]);
    assert!(!cloudfront::owns_any(&owner(), &d.account.observe()));
}

#[test]
fn the_simulator_refuses_what_aws_refuses() {
    let mut d = converged();
    let dist = d.only_distribution().clone();
    let oac = d.account.controls[0].clone();
    let delete = Plan {
        steps: vec![Step::DeleteDistribution { id: dist.id.clone(), etag: dist.etag.clone() }],
        ..Plan::default()
    };
    assert!(d.account.apply(&delete, &BTreeMap::new()).unwrap_err().contains("DistributionNotDisabled"));
    let stale = Plan {
        steps: vec![Step::DisableDistribution { id: dist.id.clone(), etag: "ESTALE".into() }],
        ..Plan::default()
    };
    assert!(d.account.apply(&stale, &BTreeMap::new()).unwrap_err().contains("PreconditionFailed"));
    let in_use = Plan {
        steps: vec![Step::DeleteOriginAccessControl {
            id: oac.id.clone(),
            etag: oac.etag.clone(),
            name: oac.config.name.clone(),
        }],
        ..Plan::default()
    };
    assert!(d.account.apply(&in_use, &BTreeMap::new()).unwrap_err().contains("OriginAccessControlInUse"));
    // IDs are random: two creates do not get neighbouring IDs.
    assert!(!oac.id.ends_with('1') || !dist.id.ends_with('2'));
    assert_ne!(oac.id[1..5], dist.id[1..5]);
}

#[test]
fn a_lost_create_response_is_found_by_its_tags_and_not_made_again() {
    let mut account = Account::new();
    account.lose_create_response_of = Some("distribution".into());
    let mut d = Driver::new(account);
    let (first, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    assert!(result.unwrap_err().contains("answer was lost"));
    assert_eq!(actions(&first), ["CreateOriginAccessControl", "CreateDistributionWithTags"]);
    d.converge(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())), 10);
    d.only_distribution();
    assert_eq!(d.account.calls("CreateOriginAccessControl"), 1);
    assert_eq!(d.account.calls("CreateDistributionWithTags"), 1);
}

#[test]
fn a_create_retried_with_its_caller_reference_answers_the_first_distribution() {
    let mut d = Driver::new(Account::new());
    let observed = d.account.observe();
    let planned = plan_with(Some(&desired()), &Known::new(), &observed, Some(&Ref::Id(WEB_ACL.into())));
    let tokens: BTreeMap<String, String> = BTreeMap::from([
        ("distribution".into(), d.token("distribution")),
        ("oac/images".into(), d.token("oac/images")),
    ]);
    let first = d.account.apply(&planned.plan, &tokens).unwrap();
    // The SDK retries the create (its first answer timed out): same reference, same config.
    let create_only = Plan {
        steps: planned.plan.steps.iter().filter(|s| s.action() == "CreateDistributionWithTags").cloned().collect(),
        ..Plan::default()
    };
    let mut retry = create_only.clone();
    if let Step::CreateDistribution { refs, .. } = &mut retry.steps[0] {
        refs.origin_access_controls.insert("images".into(), Ref::Id(first["oac/images"].clone()));
    }
    let again = d.account.apply(&retry, &tokens).unwrap();
    assert_eq!(again["distribution"], first["distribution"]);
    assert_eq!(d.account.distributions.len(), 1);
    // The same reference with another configuration is refused.
    if let Step::CreateDistribution { config, .. } = &mut retry.steps[0] {
        config.price_class = "PriceClass_200".into();
    }
    assert!(d.account.apply(&retry, &tokens).unwrap_err().contains("DistributionAlreadyExists"));
}

#[test]
fn an_untagged_distribution_with_the_owners_caller_reference_is_adopted_and_tagged() {
    let mut account = Account::new();
    let token = intent::token(&owner().uid, "distribution", "", "lost");
    let mut config = desired().config;
    config.web_acl_id = Some(WEB_ACL.into());
    let adopted = account.insert_untagged(&token, config.clone());
    let foreign = account.insert_untagged("someone-elses-reference", config.clone());
    // Aliases are unique across distributions: the foreign one has none.
    account.distributions.iter_mut().find(|d| d.id == foreign).unwrap().config.aliases.clear();
    let mut d = Driver::new(account);
    let (plan, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    result.unwrap();
    let tag_steps: Vec<&Step> = plan.steps.iter().filter(|s| s.action() == "TagResource").collect();
    assert!(
        matches!(tag_steps.as_slice(), [Step::SetTags { arn, tags, .. }] if arn.ends_with(&adopted) && tags.contains_key("team"))
    );
    assert!(!plan.steps.iter().any(|s| s.action() == "CreateDistributionWithTags"), "{}", plan.render());
    d.converge(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())), 10);
    assert_eq!(d.account.distributions.len(), 2, "the foreign one is left alone");
    let f = d.account.distributions.iter().find(|x| x.id == foreign).unwrap();
    assert!(f.tags.is_empty() && f.config.enabled);
    assert_eq!(d.known.get("distribution"), Some(&adopted));
}

#[test]
fn duplicates_keep_the_one_the_status_names_and_the_rest_are_disabled_then_deleted() {
    let mut account = Account::new();
    let tags = owner().tags(components::DISTRIBUTION, &user_tags());
    let spec_without_s3 = {
        let mut v = spec_json();
        v.as_object_mut().unwrap().remove("aliases");
        v.as_object_mut().unwrap().remove("certificateArn");
        v["origins"].as_array_mut().unwrap().truncate(1);
        v["behaviors"].as_array_mut().unwrap().remove(0);
        cloudfront::desired_of(&spec_of(v), &owner(), &lbs(LB_DNS), &user_tags()).unwrap()
    };
    let config = spec_without_s3.config.clone();
    let a = account.insert_untagged("ref-a", config.clone());
    let b = account.insert_untagged("ref-b", config.clone());
    for dist in &mut account.distributions {
        dist.tags = tags.clone();
    }
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    // Without a status: the lowest ID is kept.
    let observed = account.observe();
    let planned = plan_with(Some(&spec_without_s3), &Known::new(), &observed, None);
    assert_eq!(planned.distribution, Some(Ref::Id(low.clone())));
    // With one: the named one, even with the higher ID.
    let mut d = Driver::new(account);
    let named = Known::from([("distribution".to_string(), high.clone())]);
    let observed = d.account.observe();
    let planned = plan_with(Some(&spec_without_s3), &named, &observed, None);
    assert_eq!(planned.distribution, Some(Ref::Id(high.clone())));
    assert!(
        matches!(planned.plan.steps.as_slice(), [Step::DisableDistribution { id, .. }] if id == &low),
        "{}",
        planned.plan.render()
    );
    d.account.apply(&planned.plan, &BTreeMap::new()).unwrap();
    // The disabled duplicate is no longer what `find` reports.
    assert_eq!(cloudfront::find(&owner(), &d.account.observe()).map(|f| f.id.clone()), Some(high.clone()));
    d.known = named;
    for _ in 0..6 {
        let observed = d.account.observe();
        let planned = plan_with(Some(&spec_without_s3), &d.known, &observed, None);
        d.account.apply(&planned.plan, &BTreeMap::new()).unwrap();
    }
    let left: Vec<&str> = d.account.distributions.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(left, [high.as_str()]);
}

#[test]
fn missing_ownership_tags_are_added_and_nothing_else_is_rewritten() {
    let mut d = converged();
    d.account.distributions[0].tags.remove(securecart_api::tags::COMPONENT);
    d.account.distributions[0].tags.insert("added-by-someone".into(), "x".into());
    let (plan, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    result.unwrap();
    assert!(
        matches!(plan.steps.as_slice(), [Step::SetTags { tags, .. }] if tags.len() == 1 && tags.contains_key(securecart_api::tags::COMPONENT)),
        "{}",
        plan.render()
    );
}

#[test]
fn an_access_control_with_other_settings_is_repaired_with_its_etag() {
    let mut d = converged();
    d.account.controls[0].config.signing_behavior = "no-override".into();
    let etag = d.account.controls[0].etag.clone();
    let (plan, result) = d.round(Some(&desired()), Some(&Ref::Id(WEB_ACL.into())));
    result.unwrap();
    assert!(
        matches!(plan.steps.as_slice(), [Step::UpdateOriginAccessControl { etag: e, .. }] if e == &etag),
        "{}",
        plan.render()
    );
    assert_eq!(d.account.controls[0].config.signing_behavior, "always");
    assert_ne!(d.account.controls[0].etag, etag);
}

#[test]
fn an_s3_origin_removed_from_the_spec_loses_its_access_control_after_the_distribution_moves_off() {
    let mut d = converged();
    let oac_id = d.account.controls[0].id.clone();
    let mut v = spec_json();
    v["origins"].as_array_mut().unwrap().remove(1);
    v["behaviors"].as_array_mut().unwrap().remove(0);
    let smaller = cloudfront::desired_of(&spec_of(v), &owner(), &lbs(LB_DNS), &user_tags()).unwrap();
    let (first, result) = d.round(Some(&smaller), Some(&Ref::Id(WEB_ACL.into())));
    result.unwrap();
    assert_eq!(actions(&first), ["UpdateDistribution"]);
    assert_eq!(first.waiting.len(), 1, "{:?}", first.waiting);
    let (second, result) = d.round(Some(&smaller), Some(&Ref::Id(WEB_ACL.into())));
    result.unwrap();
    assert!(matches!(second.steps.as_slice(), [Step::DeleteOriginAccessControl { id, .. }] if id == &oac_id));
    assert_eq!(d.converge(Some(&smaller), Some(&Ref::Id(WEB_ACL.into())), 5), 0);
    assert!(d.account.controls.is_empty());
}

#[test]
fn an_access_control_of_another_owner_or_name_is_never_touched() {
    let mut d = converged();
    let stranger = securecart_plan::cloudfront::OriginAccessControl {
        id: "EOTHER".into(),
        etag: "E1".into(),
        config: securecart_plan::cloudfront::AccessControlConfig {
            name: "platform-static-images-deadbeef".into(),
            description: cloudfront::access_control_description(&owner(), "images"),
            origin_type: "s3".into(),
            signing_behavior: "always".into(),
            signing_protocol: "sigv4".into(),
        },
    };
    d.account.controls.push(stranger);
    let (plan, _) = d.round(None, None);
    assert!(!plan.steps.iter().any(|s| matches!(s, Step::DeleteOriginAccessControl { id, .. } if id == "EOTHER")));
    d.converge(None, None, 10);
    assert_eq!(d.account.controls.len(), 1, "a name the owner did not derive is not its");
}
