//! The PrivateEndpoint spec (validation, and what the VpcTier can give), its readiness and its
//! status.

mod endpoint_sim;

use endpoint_sim::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use pretty_assertions::assert_eq;
use securecart_api::EndpointType;
use securecart_api::conditions::{ACCEPTED, reason};
use securecart_plan::conditions::Readiness;
use securecart_plan::private_endpoint::{self, Observed};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// 10. Validation

#[test]
fn invalid_specs_are_refused_naming_the_field() {
    let statement = |st: Value| json!({ "Version": "2012-10-17", "Statement": [st] });
    let table: Vec<(Value, &str)> = vec![
        (json!({ "service": "sts", "serviceName": "com.amazonaws.us-east-1.sts", "tiers": ["app"] }), "serviceName"),
        (json!({ "tiers": ["app"] }), "serviceName"),
        (json!({ "service": "", "tiers": ["app"] }), "service"),
        (with(s3(), |v| v["privateDns"] = json!(true)), "spec.privateDns"),
        (with(s3(), |v| v["allowedTiers"] = json!(["app"])), "spec.allowedTiers"),
        (with(s3(), |v| v["allowedCidrs"] = json!(["10.0.0.0/8"])), "spec.allowedCidrs"),
        (with(s3(), |v| v["ports"] = json!([443])), "spec.ports"),
        (json!({ "service": "sts", "type": "Gateway", "tiers": ["app"] }), "spec.type"),
        (json!({ "service": "sts", "tiers": [] }), "spec.tiers"),
        (json!({ "service": "sts", "tiers": ["app", "database", "app"] }), "spec.tiers[2]"),
        (with(sts(), |v| v["allowedCidrs"] = json!(["10.0.0.0/8", "10.0.0.300/24"])), "spec.allowedCidrs[1]"),
        (with(sts(), |v| v["allowedCidrs"] = json!(["fd00::/8"])), "spec.allowedCidrs[0]"),
        (with(sts(), |v| v["ports"] = json!([0])), "spec.ports"),
        (with(s3(), |v| v["policy"] = json!("allow all")), "spec.policy"),
        (with(s3(), |v| v["policy"] = json!([policy()])), "spec.policy"),
        (with(s3(), |v| v["policy"] = json!({ "Version": "2012-10-17" })), "spec.policy"),
        (with(s3(), |v| v["policy"] = json!({ "Statement": [] })), "spec.policy"),
        (with(s3(), |v| v["policy"]["Version"] = json!("2020-01-01")), "spec.policy"),
        (with(s3(), |v| v["policy"]["Version"] = json!(2012)), "spec.policy"),
        (with(s3(), |v| v["policy"] = statement(json!({ "Effect": "Permit", "Action": "*" }))), "Statement[0].Effect"),
        (with(s3(), |v| v["policy"] = statement(json!({ "Action": "*" }))), "Statement[0].Effect"),
        (with(s3(), |v| v["policy"] = statement(json!({ "Effect": "Allow", "Resource": "*" }))), "Statement[0]"),
        (with(s3(), |v| v["policy"] = statement(json!("Allow"))), "Statement[0]"),
        (
            json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "type": "GatewayLoadBalancer",
                    "tiers": ["app"], "policy": policy() }),
            "spec.policy",
        ),
        (with(sts(), |v| v["tags"] = json!({ "net.securecart.io/owner-uid": "x" })), "spec.tags"),
        (with(sts(), |v| v["tags"] = json!({ "aws:cloudformation:stack-name": "x" })), "spec.tags"),
    ];
    for (v, field) in table {
        let s = spec(v.clone());
        let err = private_endpoint::validate(&s).expect_err(&v.to_string()).0;
        assert!(err.contains(field), "{v}: {err:?} should name {field}");
        let again = private_endpoint::desired(&s, &owner(), &vpc3()).expect_err(&v.to_string()).0;
        assert_eq!(again, err, "desired() validates too");
    }
}

#[test]
fn valid_specs_pass_validation() {
    let ok = [
        s3(),
        sts(),
        with(s3(), |v| v["policy"] = json!({ "Statement": { "Effect": "Deny", "NotAction": "s3:Delete*" } })),
        with(s3(), |v| v["policy"]["Version"] = json!("2008-10-17")),
        with(sts(), |v| v["tags"] = json!({ "team": "platform" })),
        json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "type": "GatewayLoadBalancer", "tiers": ["app"] }),
        json!({ "service": "dynamodb", "tiers": ["database"] }),
    ];
    for v in ok {
        private_endpoint::validate(&spec(v.clone())).unwrap_or_else(|e| panic!("{v}: {e}"));
    }
}

#[test]
fn desired_refuses_what_the_vpc_tier_cannot_give() {
    let table: Vec<(Value, &str)> = vec![
        (
            json!({ "service": "sts", "tiers": ["app", "web"] }),
            "spec.tiers[1]: VpcTier shop has no tier \"web\" (it has app, database, public)",
        ),
        (
            with(sts(), |v| v["allowedTiers"] = json!(["batch"])),
            "spec.allowedTiers[0]: VpcTier shop has no tier \"batch\" (it has app, database, public)",
        ),
        (
            json!({ "serviceName": "com.amazonaws.eu-west-1.sts", "tiers": ["app"] }),
            "spec.serviceName: com.amazonaws.eu-west-1.sts is in region eu-west-1, but the VpcTier shop is in us-east-1",
        ),
        (
            json!({ "serviceName": "com.amazonaws.vpce.eu-west-1.vpce-svc-0abc", "tiers": ["app"] }),
            "spec.serviceName: com.amazonaws.vpce.eu-west-1.vpce-svc-0abc is in region eu-west-1, but the VpcTier shop is in us-east-1",
        ),
    ];
    for (v, want) in table {
        private_endpoint::validate(&spec(v.clone())).unwrap_or_else(|e| panic!("{v} is valid on its own: {e}"));
        let err = private_endpoint::desired(&spec(v.clone()), &owner(), &vpc3()).expect_err(&v.to_string());
        assert_eq!(err.0, want);
    }
}

// ---------------------------------------------------------------------------------------------
// 11. Outcome and status

fn partner() -> Value {
    json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc", "tiers": ["app"] })
}

fn outcome_of(v: &Value, sim: &Sim) -> Readiness {
    let d = desired(v);
    let plan = private_endpoint::plan(Some(&d), &cx(&owner()), &sim.observed);
    private_endpoint::readiness(&d, &sim.observed, &plan)
}

#[test]
fn outcome_follows_the_endpoint_state() {
    let sim = converged(&sts());
    assert_eq!(outcome_of(&sts(), &sim), Readiness::Ready);

    let mut sim = Sim::new();
    sim.starts = "pendingAcceptance";
    sim.apply(&plan_for(Some(&partner()), &sim)).unwrap();
    let plan = plan_for(Some(&partner()), &sim);
    assert!(plan.steps.is_empty(), "{}", plan.render());
    assert_eq!(plan.waiting.len(), 1);
    assert!(
        matches!(outcome_of(&partner(), &sim), Readiness::NotReady { reason: r, stalled: false, .. } if r == reason::PENDING_ACCEPTANCE)
    );

    sim.observed.endpoints[0].state = "rejected".into();
    let Readiness::NotReady { reason: r, message, stalled: true } = outcome_of(&partner(), &sim) else { panic!() };
    assert_eq!(r, reason::REJECTED);
    assert!(message.contains("vpce-1"), "{message}");

    sim.observed.endpoints[0].state = "available".into();
    assert_eq!(outcome_of(&partner(), &sim), Readiness::Ready);

    let mut sim = Sim::new();
    sim.starts = "pending";
    sim.apply(&plan_for(Some(&sts()), &sim)).unwrap();
    assert!(
        matches!(outcome_of(&sts(), &sim), Readiness::NotReady { message: m, .. } if m.contains("vpce-1 to become available"))
    );
    let mut sim = converged(&s3());
    sim.observed.endpoints[0].route_table_ids.pop();
    assert!(matches!(outcome_of(&s3(), &sim), Readiness::NotReady { message: m, .. } if m.contains("1 changes")));
}

#[test]
fn status_reports_the_endpoint_sorted() {
    let v = with(sts(), |v| v["tiers"] = json!(["app"]));
    let mut sim = converged(&v);
    let e = &mut sim.observed.endpoints[0];
    e.subnet_ids.reverse();
    e.network_interface_ids.reverse();
    let d = desired(&v);
    let s = private_endpoint::status(&d, &sim.observed, &[], &at(10));
    assert_eq!(s.region.as_deref(), Some("us-east-1"));
    assert_eq!(s.vpc_endpoint_id.as_deref(), Some("vpce-1"));
    assert_eq!(s.service_name.as_deref(), Some("com.amazonaws.us-east-1.sts"));
    assert_eq!(s.endpoint_type, Some(EndpointType::Interface));
    assert_eq!(s.state.as_deref(), Some("available"));
    assert_eq!(s.subnet_ids, strs(&["subnet-app-a", "subnet-app-b", "subnet-app-c"]));
    assert_eq!(s.network_interface_ids, strs(&["eni-1", "eni-2", "eni-3"]));
    assert!(s.route_table_ids.is_empty());
    assert_eq!(s.security_group_id.as_deref(), Some("sg-1"));
    assert_eq!(s.dns_entries.len(), 1);
    assert_eq!(s.dns_entries[0].dns_name, "vpce-1-x1.com.amazonaws.us-east-1.sts.vpce.amazonaws.com");
    assert_eq!(s.dns_entries[0].hosted_zone_id.as_deref(), Some("Z7HUB22UULQXV"));
    assert!(s.conditions.is_empty(), "Accepted only for partner services");

    let mut sim = converged(&s3());
    sim.observed.endpoints[0].route_table_ids.reverse();
    let s = private_endpoint::status(&desired(&s3()), &sim.observed, &[], &at(10));
    assert_eq!(s.route_table_ids, strs(&["rtb-app-a", "rtb-app-b", "rtb-app-c", "rtb-database"]));
    assert_eq!((s.security_group_id, s.dns_entries.len()), (None, 0));

    let s = private_endpoint::status(&desired(&s3()), &Observed::default(), &[], &at(10));
    assert_eq!((s.vpc_endpoint_id, s.state), (None, None));
}

#[test]
fn partner_services_get_an_accepted_condition_with_a_stable_transition_time() {
    let d = desired(&partner());
    let mut sim = Sim::new();
    sim.starts = "pendingAcceptance";
    sim.apply(&plan_for(Some(&partner()), &sim)).unwrap();
    let accepted = |c: &[Condition]| {
        let c = c.iter().find(|c| c.type_ == ACCEPTED).expect("Accepted condition").clone();
        (c.status, c.reason, c.last_transition_time)
    };
    let first = private_endpoint::status(&d, &sim.observed, &[], &at(10)).conditions;
    assert_eq!(accepted(&first), ("False".into(), reason::PENDING_ACCEPTANCE.into(), at(10)));
    let again = private_endpoint::status(&d, &sim.observed, &first, &at(20)).conditions;
    assert_eq!(accepted(&again), ("False".into(), reason::PENDING_ACCEPTANCE.into(), at(10)), "time kept");

    sim.observed.endpoints[0].state = "available".into();
    let ok = private_endpoint::status(&d, &sim.observed, &again, &at(30)).conditions;
    assert_eq!(accepted(&ok), ("True".into(), "Accepted".into(), at(30)), "flipped");
    let ok = private_endpoint::status(&d, &sim.observed, &ok, &at(40)).conditions;
    assert_eq!(accepted(&ok).2, at(30));

    sim.observed.endpoints[0].state = "rejected".into();
    let no = private_endpoint::status(&d, &sim.observed, &ok, &at(50)).conditions;
    assert_eq!(accepted(&no), ("False".into(), reason::REJECTED.into(), at(50)));
}

// ---------------------------------------------------------------------------------------------
// 12. users_of

#[test]
fn users_of_lists_only_the_endpoints_of_that_vpc_tier_sorted() {
    let on = |tier: &str| spec(json!({ "vpcTierRef": { "name": tier }, "service": "sts", "tiers": ["app"] }));
    let (a, b, c, d) = (on("shop"), on("other"), on("shop"), on("shop-2"));
    let all = [("zeta", &a), ("beta", &b), ("alpha", &c), ("gamma", &d)];
    assert_eq!(private_endpoint::users_of("shop", all), ["alpha", "zeta"]);
    assert_eq!(private_endpoint::users_of("other", all), ["beta"]);
    assert!(private_endpoint::users_of("none", all).is_empty());
}
