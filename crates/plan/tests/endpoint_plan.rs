//! The PrivateEndpoint planner (a VPC endpoint and its security group) run against a small
//! simulated EC2 endpoint API: plan, apply, observe again, until in sync; drift, crashes,
//! duplicates, replacements, ownership and teardown.

mod endpoint_sim;

use endpoint_sim::*;
use pretty_assertions::assert_eq;
use securecart_api::EndpointType;
use securecart_plan::private_endpoint::{self, Desired, Observed};
use securecart_plan::security_group::{self as sg, Ingress};
use securecart_plan::vpc_endpoint as ep;
use securecart_plan::{Owner, Plan, Ref, Step, Tags};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// 1. Gateway endpoint

#[test]
fn s3_gateway_endpoint_gets_the_tiers_route_tables_and_the_policy_and_converges() {
    let v = s3();
    let mut sim = Sim::new();
    let first = plan_for(Some(&v), &sim);
    assert_eq!(actions(&first), ["CreateVpcEndpoint"]);
    let ep::Step::CreateEndpoint {
        component,
        endpoint_type,
        service_name,
        vpc_id,
        route_table_ids,
        subnet_ids,
        security_group,
        private_dns,
        policy: p,
        tags,
    } = create_endpoint(&first).clone()
    else {
        unreachable!()
    };
    assert_eq!(component, "endpoint");
    assert_eq!(endpoint_type, EndpointType::Gateway);
    assert_eq!(service_name, "com.amazonaws.us-east-1.s3");
    assert_eq!(vpc_id, "vpc-1");
    assert_eq!(route_table_ids, strs(&["rtb-app-a", "rtb-app-b", "rtb-app-c", "rtb-database"]));
    assert!(subnet_ids.is_empty());
    assert_eq!((security_group, private_dns), (None, None));
    assert_eq!(serde_json::from_str::<Value>(&p.unwrap()).unwrap(), policy());
    assert!(owner().owns(&tags));
    assert_eq!(comp(&tags), "endpoint");

    let applied = converge(Some(&v), &mut sim, 3);
    assert_eq!(applied.len(), 1);
    assert!(plan_for(Some(&v), &sim).in_sync());
    let e = &sim.observed.endpoints[0];
    assert_eq!((e.id.as_str(), e.state.as_str()), ("vpce-1", "available"));
    assert!(sim.observed.security_groups.is_empty(), "no security group for a Gateway endpoint");
}

#[test]
fn dynamodb_defaults_to_gateway_and_other_services_to_interface() {
    let t = |v: Value| private_endpoint::endpoint_type(&spec(v));
    assert_eq!(t(json!({ "service": "dynamodb", "tiers": ["app"] })), EndpointType::Gateway);
    assert_eq!(t(json!({ "service": "s3", "tiers": ["app"] })), EndpointType::Gateway);
    assert_eq!(t(json!({ "service": "s3", "type": "Interface", "tiers": ["app"] })), EndpointType::Interface);
    assert_eq!(t(json!({ "service": "ecr.api", "tiers": ["app"] })), EndpointType::Interface);
    assert_eq!(t(json!({ "serviceName": "com.amazonaws.us-east-1.s3", "tiers": ["app"] })), EndpointType::Interface);
}

// ---------------------------------------------------------------------------------------------
// 2. Interface endpoint

#[test]
fn sts_interface_endpoint_takes_one_app_subnet_per_zone_and_a_security_group() {
    let v = sts();
    let first = plan_for(Some(&v), &Sim::new());
    assert_eq!(actions(&first), ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "CreateVpcEndpoint"]);
    let Step::SecurityGroup(sg::Step::CreateSecurityGroup { component, vpc_id, name: group_name, tags, .. }) =
        &first.steps[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (component.as_str(), vpc_id.as_str(), group_name.as_str()),
        ("sg", "vpc-1", "securecart-platform-pe-uid-1")
    );
    assert!(owner().owns(tags));
    assert_eq!(first.steps[1], authorize(Ref::Created("sg".into()), rules(443, &["10.20.0.0/16"])));
    let ep::Step::CreateEndpoint {
        endpoint_type,
        service_name,
        subnet_ids,
        route_table_ids,
        security_group,
        private_dns,
        policy,
        ..
    } = create_endpoint(&first)
    else {
        unreachable!()
    };
    assert_eq!(*endpoint_type, EndpointType::Interface);
    assert_eq!(service_name, "com.amazonaws.us-east-1.sts");
    assert_eq!(*subnet_ids, strs(&["subnet-app-a", "subnet-app-b", "subnet-app-c"]));
    assert!(route_table_ids.is_empty());
    assert_eq!(*security_group, Some(Ref::Created("sg".into())));
    assert_eq!(*private_dns, Some(true));
    assert_eq!(*policy, None);

    let mut sim = Sim::new();
    assert_eq!(converge(Some(&v), &mut sim, 3).len(), 1);
    let e = &sim.observed.endpoints[0];
    assert_eq!(e.security_group_ids, ["sg-1"]);
    assert_eq!(sim.observed.security_groups[0].ingress, set(rules(443, &["10.20.0.0/16"])));
}

#[test]
fn interface_security_group_rules_follow_allowed_tiers_cidrs_and_ports() {
    let sg = |v: Value| desired(&with(sts(), |s| s.as_object_mut().unwrap().extend(v.as_object().unwrap().clone())));
    let ingress = |d: Desired| d.security_group.unwrap().ingress.into_iter().collect::<Vec<_>>();
    let table: Vec<(Value, Vec<Ingress>)> = vec![
        (json!({}), rules(443, &["10.20.0.0/16"])),
        (json!({ "allowedTiers": ["app"] }), rules(443, &APP_CIDRS)),
        (json!({ "allowedCidrs": ["192.168.0.0/24"] }), rules(443, &["192.168.0.0/24"])),
        (
            json!({ "allowedTiers": ["database"], "allowedCidrs": ["192.168.0.0/24"] }),
            rules(443, &["10.20.3.0/24", "10.20.4.0/24", "10.20.5.0/24", "192.168.0.0/24"]),
        ),
        (json!({ "ports": [8443, 443] }), [rules(443, &["10.20.0.0/16"]), rules(8443, &["10.20.0.0/16"])].concat()),
        (json!({ "allowedCidrs": [] }), vec![]),
    ];
    for (extra, want) in table {
        assert_eq!(ingress(sg(extra.clone())), want, "{extra}");
    }
}

#[test]
fn an_endpoint_nobody_may_reach_gets_a_group_without_rules() {
    let v = with(sts(), |v| v["allowedCidrs"] = json!([]));
    let first = plan_for(Some(&v), &Sim::new());
    assert_eq!(actions(&first), ["CreateSecurityGroup", "CreateVpcEndpoint"], "no empty AuthorizeSecurityGroupIngress");
    let mut sim = Sim::new();
    converge(Some(&v), &mut sim, 3);
    assert!(sim.observed.security_groups[0].ingress.is_empty());
}

#[test]
fn security_group_names_are_unique_per_object_and_fit_ec2s_limit() {
    let long = Owner { namespace: "n".repeat(63), name: "x".repeat(253), uid: "0123456789abcdef".into(), ..owner() };
    let d = desired_as(&sts(), &long, &vpc3());
    let name = d.security_group.unwrap().name;
    assert_eq!(name.len(), 255);
    assert!(name.ends_with("x-01234567"), "{name}");
    assert_ne!(desired_as(&sts(), &stranger(), &vpc3()).security_group, desired(&sts()).security_group);
}

#[test]
fn private_dns_defaults_true_for_aws_services_and_false_for_partner_services() {
    let d = desired(&sts());
    assert_eq!((d.endpoint.private_dns, d.partner), (Some(true), false));
    let partner = json!({ "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0abc123", "tiers": ["app"] });
    let d = desired(&partner);
    assert_eq!((d.endpoint.private_dns, d.partner), (Some(false), true));
    assert_eq!(d.endpoint.service_name, "com.amazonaws.vpce.us-east-1.vpce-svc-0abc123");
    let d = desired(&with(partner, |v| v["privateDns"] = json!(true)));
    assert_eq!(d.endpoint.private_dns, Some(true));
    assert_eq!(desired(&with(sts(), |v| v["privateDns"] = json!(false))).endpoint.private_dns, Some(false));
    assert_eq!(desired(&s3()).endpoint.private_dns, None, "not set for a Gateway endpoint");
}

#[test]
fn multiple_tiers_pick_the_first_listed_tier_with_a_subnet_in_each_zone() {
    let mut vpc = vpc3();
    vpc.subnets.retain(|s| !(s.tier == "app" && s.zone == "us-east-1c"));
    let v = with(sts(), |v| v["tiers"] = json!(["app", "database"]));
    let d = desired_as(&v, &owner(), &vpc);
    assert_eq!(
        d.endpoint.subnet_ids.into_iter().collect::<Vec<_>>(),
        ["subnet-app-a", "subnet-app-b", "subnet-database-c"]
    );
    let v = with(sts(), |v| v["tiers"] = json!(["database", "app"]));
    let d = desired_as(&v, &owner(), &vpc);
    assert_eq!(
        d.endpoint.subnet_ids.into_iter().collect::<Vec<_>>(),
        ["subnet-database-a", "subnet-database-b", "subnet-database-c"]
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Golden

#[test]
fn interface_first_plan_matches_golden_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/endpoint_interface_first_plan.txt");
    let v = with(sts(), |v| v["allowedTiers"] = json!(["app"]));
    let got = plan_for(Some(&v), &Sim::new()).render();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &got).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("golden file exists; run with UPDATE_GOLDEN=1 to write it");
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// 4. Drift

/// Converges `v`, lets `drift` change AWS, and checks the next plan is exactly `want`, after which
/// it converges again in one pass.
fn drift_case(v: &Value, drift: impl FnOnce(&mut Observed), want: Vec<Step>) {
    let mut sim = converged(v);
    drift(&mut sim.observed);
    let plan = plan_for(Some(v), &sim);
    assert_eq!(plan.steps, want);
    assert!(plan.waiting.is_empty(), "{:?}", plan.waiting);
    assert_eq!(converge(Some(v), &mut sim, 3).len(), usize::from(!want.is_empty()));
}

#[test]
fn removed_route_table_is_added_back() {
    drift_case(
        &s3(),
        |o| o.endpoints[0].route_table_ids.retain(|t| t != "rtb-app-b"),
        vec![Modify { add_route_tables: strs(&["rtb-app-b"]), ..Default::default() }.on("vpce-1")],
    );
}

#[test]
fn extra_route_table_is_removed() {
    drift_case(
        &s3(),
        |o| o.endpoints[0].route_table_ids.push("rtb-public".into()),
        vec![Modify { remove_route_tables: strs(&["rtb-public"]), ..Default::default() }.on("vpce-1")],
    );
}

#[test]
fn policy_edited_out_of_band_is_set_back_to_the_spec_policy() {
    let mut sim = converged(&s3());
    sim.observed.endpoints[0].policy = Some(DEFAULT_POLICY.into());
    let plan = plan_for(Some(&s3()), &sim);
    let [
        Step::VpcEndpoint(ep::Step::ModifyEndpoint {
            id, policy: Some(p), reset_policy: false, add_route_tables, ..
        }),
    ] = plan.steps.as_slice()
    else {
        panic!("{}", plan.render())
    };
    assert_eq!((id.as_str(), add_route_tables.len()), ("vpce-1", 0));
    assert_eq!(serde_json::from_str::<Value>(p).unwrap(), policy());
    converge(Some(&s3()), &mut sim, 2);
}

#[test]
fn policy_is_compared_semantically() {
    let reordered = r#"{
        "Statement": [ { "Resource": "arn:aws:s3:::shop-assets/*", "Action": ["s3:GetObject"],
                         "Principal": "*", "Effect": "Allow" } ],
        "Version": "2012-10-17"
    }"#;
    drift_case(&s3(), |o| o.endpoints[0].policy = Some(reordered.into()), vec![]);
}

#[test]
fn spec_without_policy_accepts_the_aws_default_and_resets_a_custom_one() {
    let v = with(s3(), |v| v.as_object_mut().unwrap().retain(|k, _| k != "policy"));
    // What AWS may return for the default: a single statement object, Principal {"AWS": "*"}.
    let aws_default = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}}"#;
    drift_case(&v, |o| o.endpoints[0].policy = Some(aws_default.into()), vec![]);
    drift_case(&v, |o| o.endpoints[0].policy = None, vec![]);
    drift_case(
        &v,
        |o| o.endpoints[0].policy = Some(policy().to_string()),
        vec![Modify { reset_policy: true, ..Default::default() }.on("vpce-1")],
    );
}

#[test]
fn security_group_rules_are_repaired() {
    let v = with(sts(), |v| v["allowedTiers"] = json!(["app"]));
    drift_case(
        &v,
        |o| o.security_groups[0].ingress.retain(|r| r.cidr != APP_CIDRS[1]),
        vec![authorize(Ref::Id("sg-1".into()), rules(443, &[APP_CIDRS[1]]))],
    );
    drift_case(
        &v,
        |o| {
            o.security_groups[0].ingress.insert(Ingress::tcp(22, "0.0.0.0/0"));
        },
        vec![revoke("sg-1", rules(22, &["0.0.0.0/0"]))],
    );
}

#[test]
fn private_dns_and_removed_tags_are_repaired() {
    drift_case(
        &sts(),
        |o| o.endpoints[0].private_dns_enabled = Some(false),
        vec![Modify { private_dns: Some(true), ..Default::default() }.on("vpce-1")],
    );
    let mut sim = converged(&sts());
    sim.observed.endpoints[0].tags.remove("Name");
    let plan = plan_for(Some(&sts()), &sim);
    assert_eq!(
        plan.steps,
        [Step::VpcEndpoint(ep::Step::SetTags {
            resource_id: "vpce-1".into(),
            component: "endpoint".into(),
            tags: Tags::from([("Name".into(), "platform-pe-endpoint".into())])
        })]
    );
}

// ---------------------------------------------------------------------------------------------
// 5. The VpcTier grows

#[test]
fn a_new_zone_adds_only_its_route_table_or_subnet() {
    let two = view(&ZONES[..2]);
    let mut sim = Sim::new();
    converge_in(Some(&s3()), &owner(), &two, &mut sim, 2);
    assert_eq!(sim.observed.endpoints[0].route_table_ids, strs(&["rtb-app-a", "rtb-app-b", "rtb-database"]));
    let plan = plan_as(Some(&s3()), &owner(), &vpc3(), &sim);
    assert_eq!(plan.steps, [Modify { add_route_tables: strs(&["rtb-app-c"]), ..Default::default() }.on("vpce-1")]);
    converge_in(Some(&s3()), &owner(), &vpc3(), &mut sim, 2);

    let v = with(sts(), |v| v["allowedTiers"] = json!(["app"]));
    let mut sim = Sim::new();
    converge_in(Some(&v), &owner(), &two, &mut sim, 2);
    let plan = plan_as(Some(&v), &owner(), &vpc3(), &sim);
    assert_eq!(
        plan.steps,
        [
            authorize(Ref::Id("sg-1".into()), rules(443, &[APP_CIDRS[2]])),
            Modify { add_subnets: strs(&["subnet-app-c"]), ..Default::default() }.on("vpce-1"),
        ]
    );
    converge_in(Some(&v), &owner(), &vpc3(), &mut sim, 2);
    assert_eq!(sim.observed.endpoints.len(), 1);
    assert_eq!(sim.observed.security_groups.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 6. Crashes and duplicates

#[test]
fn after_a_crash_at_any_step_of_the_first_plan_it_converges_to_one_of_each() {
    let v = sts();
    let first = plan_for(Some(&v), &Sim::new());
    for n in 0..first.steps.len() {
        let mut sim = Sim::new();
        sim.apply_until_crash(&first, n).unwrap();
        let next = plan_for(Some(&v), &sim);
        if n >= 1 {
            assert!(!actions(&next).contains(&"CreateSecurityGroup"), "crash after {n}: SG found, not recreated");
        }
        converge(Some(&v), &mut sim, 3);
        assert_eq!(sim.observed.endpoints.len(), 1, "crash after {n}");
        assert_eq!(sim.observed.security_groups.len(), 1, "crash after {n}");
        assert_eq!(sim.observed.security_groups[0].ingress, set(rules(443, &["10.20.0.0/16"])), "crash after {n}");
    }
}

#[test]
fn a_duplicate_endpoint_is_deleted_and_the_lowest_id_kept() {
    for v in [s3(), sts()] {
        let mut sim = converged(&v);
        let mut dup = sim.observed.endpoints[0].clone();
        dup.id = "vpce-2".into();
        sim.observed.endpoints.push(dup);
        let plan = plan_for(Some(&v), &sim);
        assert_eq!(plan.steps, [delete_endpoint("vpce-2")]);
        converge(Some(&v), &mut sim, 2);
        assert_eq!(sim.observed.endpoints.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["vpce-1"]);
        assert_eq!(sim.observed.security_groups.len(), usize::from(v == sts()));
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Immutable changes

#[test]
fn a_service_or_type_change_deletes_the_old_endpoint_before_creating_the_new_one() {
    let cases = [
        (sts(), with(sts(), |v| v["service"] = json!("ssm"))),
        (s3(), with(s3(), |v| v["type"] = json!("Interface"))),
        (
            with(sts(), |v| {
                v["service"] = json!("s3");
                v["type"] = json!("Interface");
            }),
            with(s3(), |v| {
                v["policy"].take();
            }),
        ),
    ];
    for (before, after) in cases {
        for slow in [false, true] {
            let mut sim = converged(&before);
            sim.deletes_slowly = slow;
            let old = sim.observed.endpoints[0].id.clone();
            let plan = plan_for(Some(&after), &sim);
            assert!(plan.steps.contains(&delete_endpoint(&old)), "{}", plan.render());
            assert!(!actions(&plan).contains(&"CreateVpcEndpoint"), "{}", plan.render());
            assert!(plan.waiting.iter().any(|w| w.contains(&old)), "{:?}", plan.waiting);
            sim.apply(&plan).unwrap();
            if slow {
                // Still `deleting`: it holds its routes and private DNS names until gone.
                assert_eq!(sim.observed.endpoints.iter().find(|e| e.id == old).unwrap().state, "deleting");
                let next = plan_for(Some(&after), &sim);
                assert!(!actions(&next).contains(&"CreateVpcEndpoint"), "{}", next.render());
                let wait = format!("endpoint {old} to be deleted before its replacement");
                assert!(next.waiting.contains(&wait), "{:?}", next.waiting);
            }
            converge(Some(&after), &mut sim, 5);
            assert_eq!(sim.observed.endpoints.len(), 1);
            let e = &sim.observed.endpoints[0];
            let d = desired(&after);
            assert_eq!(
                (e.service_name.as_str(), e.endpoint_type.as_str()),
                (d.endpoint.service_name.as_str(), d.endpoint.endpoint_type.as_aws())
            );
            assert_eq!(sim.observed.security_groups.len(), usize::from(d.security_group.is_some()), "{after}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Ownership

#[test]
fn another_owners_endpoint_and_security_group_are_never_touched() {
    let v = with(sts(), |v| v["privateDns"] = json!(false));
    let mut sim = Sim::new();
    converge_in(Some(&v), &stranger(), &vpc3(), &mut sim, 2);
    let theirs = sim.observed.clone();
    // Ours converges alongside, then is torn down, without a step on theirs.
    let applied = converge(Some(&v), &mut sim, 3);
    let applied = [applied, converge(None, &mut sim, 4)].concat();
    for plan in &applied {
        let text = plan.render();
        assert!(!text.contains("vpce-1") && !text.contains("sg-1 "), "{text}");
        assert!(!text.ends_with("sg-1\n"), "{text}");
    }
    assert_eq!(sim.observed, theirs);
    assert!(!private_endpoint::owns_anything(&owner(), &sim.observed));
    assert!(private_endpoint::owns_anything(&stranger(), &sim.observed));
    assert!(plan_for(None, &sim).in_sync());
}

// ---------------------------------------------------------------------------------------------
// 9. Teardown

#[test]
fn teardown_deletes_the_endpoint_then_the_security_group() {
    let both = Plan { steps: vec![delete_group("x"), delete_endpoint("x")], ..Plan::default() };
    assert_eq!(both.levels(), [1, 0], "the endpoint goes first, then its group");
    for slow in [false, true] {
        let mut sim = converged(&sts());
        sim.deletes_slowly = slow;
        let first = plan_for(None, &sim);
        assert_eq!(first.steps, [delete_endpoint("vpce-1")]);
        assert_eq!(first.waiting, ["endpoint vpce-1 to release security group sg-1"]);
        sim.apply(&first).unwrap();
        if slow {
            assert_eq!(sim.observed.endpoints[0].state, "deleting");
            let waiting = plan_for(None, &sim);
            assert!(waiting.steps.is_empty(), "{}", waiting.render());
            assert_eq!(waiting.waiting, ["endpoint vpce-1 to release security group sg-1"]);
            assert!(private_endpoint::owns_anything(&owner(), &sim.observed));
            sim.apply(&waiting).unwrap();
        }
        let last = plan_for(None, &sim);
        assert_eq!(last.steps, [delete_group("sg-1")]);
        sim.apply(&last).unwrap();
        assert!(plan_for(None, &sim).in_sync());
        assert!(!private_endpoint::owns_anything(&owner(), &sim.observed));
    }
}

#[test]
fn teardown_of_a_security_group_no_endpoint_holds_runs_in_one_plan() {
    let mut sim = Sim::new();
    sim.apply_until_crash(&plan_for(Some(&sts()), &sim), 2).unwrap();
    let plan = plan_for(None, &sim);
    assert_eq!(plan.steps, [delete_group("sg-1")]);
    assert_eq!(converge(None, &mut sim, 2).len(), 1);
    assert!(!private_endpoint::owns_anything(&owner(), &sim.observed));
}
