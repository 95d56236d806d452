//! deploy/iam-policy.json against the code: every AWS operation this crate calls is allowed,
//! nothing else is, mutating actions are allowed only on resources carrying (or requests
//! creating) the ownership tag, and reads are unconditioned.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use securecart_api::tags::OWNER_UID;
use serde_json::Value;

/// Actions the policy grants that no `call(...)` names: permissions AWS checks implicitly.
const IMPLICIT: &[&str] = &[
    // CreateFlowLogs with a CloudWatch Logs destination passes the user's delivery role.
    "iam:PassRole",
    // wafv2:AssociateWebACL also needs this on the (owned) load balancer.
    "elasticloadbalancing:SetWebAcl",
    // The first load balancer of an account makes ELB create its service-linked role.
    "iam:CreateServiceLinkedRole",
    // The credentials provider assumes the roles peerings name in other accounts.
    "sts:AssumeRole",
];

/// Mutating actions on two resources, one of which need not be the owner's: associating a web
/// ACL given by ARN (`waf.webAclArn`) with an owned load balancer. A statement may grant them
/// unconditioned only on ARNs of that other resource type; the action must also be granted
/// under the ownership condition (for the owned side).
const OTHER_SIDE_UNOWNED: &[(&str, &str)] = &[("wafv2:AssociateWebACL", "/webacl/")];

/// Mutating actions IAM cannot condition on resource or request tags: Route 53 has no tag
/// condition keys. The policy scopes them to hosted-zone and health-check ARNs instead; the
/// controller itself only changes records and health checks it owns (tags, set identifiers).
const NOT_TAG_CONDITIONABLE: &[&str] = &[
    "route53:ChangeResourceRecordSets",
    "route53:ChangeTagsForResource",
    "route53:CreateHealthCheck",
    "route53:DeleteHealthCheck",
    "route53:UpdateHealthCheck",
    // Associations carry no tags and the Direct Connect gateway is the user's: scoped to
    // Direct Connect gateway ARNs; the controller only changes associations with its own hubs.
    "directconnect:CreateDirectConnectGatewayAssociation",
    "directconnect:DeleteDirectConnectGatewayAssociation",
    "directconnect:UpdateDirectConnectGatewayAssociation",
    // Global Accelerator takes tags on accelerators only: its listeners and endpoint groups are
    // scoped to listener ARNs (an accelerator's sub-resources); creating a listener is
    // conditioned on the owned accelerator's tag.
    "globalaccelerator:CreateEndpointGroup",
    "globalaccelerator:DeleteEndpointGroup",
    "globalaccelerator:DeleteListener",
    "globalaccelerator:UpdateEndpointGroup",
    "globalaccelerator:UpdateListener",
    // CloudFront origin access controls take no tags: scoped to their ARNs; the controller
    // only changes those whose names it derives from the owner.
    "cloudfront:CreateOriginAccessControl",
    "cloudfront:DeleteOriginAccessControl",
    "cloudfront:UpdateOriginAccessControl",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The IAM prefix of a service label used in `const SERVICE` (and the metrics).
fn iam_prefix(service: &str) -> Option<&'static str> {
    Some(match service {
        "ec2" => "ec2",
        "elbv2" | "elb" | "elasticloadbalancing" | "elasticloadbalancingv2" => "elasticloadbalancing",
        "wafv2" => "wafv2",
        "route53" => "route53",
        "shield" => "shield",
        "cloudwatch" => "cloudwatch",
        "acm" => "acm",
        "directconnect" => "directconnect",
        "sts" => "sts",
        "rds" => "rds",
        "elasticache" => "elasticache",
        "globalaccelerator" => "globalaccelerator",
        // HTTP APIs (v2) share API Gateway's IAM actions.
        "apigateway" | "apigatewayv2" => "apigateway",
        "cloudfront" => "cloudfront",
        _ => return None,
    })
}

/// The `const SERVICE: &str = "..."` of a module, else its file name.
fn service_of(path: &Path, source: &str) -> String {
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("const SERVICE: &str = \"")?.split('"').next().map(str::to_string))
        .unwrap_or_else(|| path.file_stem().unwrap_or_default().to_string_lossy().into_owned())
}

/// Every call in a source file, as (service if the call names one, operation, mutating). Calls
/// read `.call("Operation", mutating, ..)` (the module's service), or name the service first:
/// `.call("service", "Operation", mutating, ..)` or `.call(SERVICE_CONST, "Operation", ..)`.
fn calls(source: &str) -> Vec<(Option<String>, String, bool)> {
    let constant = |name: &str| {
        source.lines().find_map(|l| {
            let rest = l.trim().strip_prefix(&format!("const {name}: &str = \""))?;
            rest.split('"').next().map(str::to_string)
        })
    };
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".call(") {
        // `self.ec2.call(..)` from another adapter is an EC2 call.
        let receiver_is_ec2 = rest[..at].trim_end().ends_with("ec2");
        rest = &rest[at + ".call(".len()..];
        // The first three arguments, as written.
        let args: Vec<&str> = rest.splitn(4, ',').take(3).map(str::trim).collect();
        if args.len() < 3 {
            continue;
        }
        let literal = |a: &str| a.strip_prefix('"').and_then(|a| a.strip_suffix('"')).map(str::to_string);
        let flag = |a: &str| a.starts_with("true");
        match (literal(args[0]), literal(args[1])) {
            (Some(service), Some(operation)) => out.push((Some(service), operation, flag(args[2]))),
            (Some(operation), None) if args[1] == "true" || args[1] == "false" => {
                out.push((receiver_is_ec2.then(|| "ec2".to_string()), operation, flag(args[1])))
            }
            // A variable service (the shared wrapper itself) is not a call site.
            (None, Some(operation)) => {
                if let Some(service) = constant(args[0]) {
                    out.push((Some(service), operation, flag(args[2])));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every Rust source file under `dir`, in the service subdirectories too.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The IAM action of an operation: `service:Operation`, except API Gateway's, whose actions are
/// the HTTP verbs of its REST resources (`apigateway:POST` creates, `PATCH` updates).
fn iam_action(prefix: &str, operation: &str) -> String {
    // CloudFront authorizes CreateDistributionWithTags as CreateDistribution (conditioned on the
    // request's tags) plus TagResource.
    if (prefix, operation) == ("cloudfront", "CreateDistributionWithTags") {
        return "cloudfront:CreateDistribution".into();
    }
    if prefix != "apigateway" {
        return format!("{prefix}:{operation}");
    }
    let verb = match operation {
        o if o.starts_with("Get") => "GET",
        "PutMethod" | "PutIntegration" => "PUT",
        o if o.starts_with("Update") => "PATCH",
        o if o.starts_with("Delete") => "DELETE",
        _ => "POST",
    };
    format!("apigateway:{verb}")
}

/// `service:Operation` -> mutating, for every call in src/.
fn called_actions() -> BTreeMap<String, bool> {
    let mut actions = BTreeMap::new();
    let mut unknown = Vec::new();
    for path in sources(&crate_dir().join("src")) {
        let source = std::fs::read_to_string(&path).expect("source file");
        let found = calls(&source);
        if found.is_empty() {
            continue;
        }
        let module_service = service_of(&path, &source);
        for (service, operation, mutating) in found {
            let service = service.unwrap_or_else(|| module_service.clone());
            let Some(prefix) = iam_prefix(&service) else {
                unknown.push(format!("{} (service {service:?})", path.display()));
                continue;
            };
            *actions.entry(iam_action(prefix, &operation)).or_insert(false) |= mutating;
        }
    }
    assert!(unknown.is_empty(), "no IAM prefix known for {unknown:?}: add it to iam_prefix()");
    actions
}

struct Statement {
    actions: Vec<String>,
    condition: Value,
    resources: Vec<String>,
}

fn policy() -> Vec<Statement> {
    let path = crate_dir().join("../../deploy/iam-policy.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("deploy/iam-policy.json"))
        .expect("the policy is JSON");
    assert_eq!(doc["Version"], "2012-10-17");
    doc["Statement"]
        .as_array()
        .expect("Statement is a list")
        .iter()
        .map(|s| {
            assert_eq!(s["Effect"], "Allow", "only Allow statements: {s}");
            let actions = match &s["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().map(|v| v.as_str().expect("action string").to_string()).collect(),
                other => panic!("Action must be a string or a list: {other}"),
            };
            assert!(!actions.iter().any(|a| a.contains('*')), "no wildcard actions: {actions:?}");
            let resources = match &s["Resource"] {
                Value::String(r) => vec![r.clone()],
                Value::Array(list) => list.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
                other => panic!("Resource must be a string or a list: {other}"),
            };
            Statement { actions, condition: s["Condition"].clone(), resources }
        })
        .collect()
}

/// The resource type a two-resource action may name unowned, if it is one.
fn other_side(action: &str) -> Option<&'static str> {
    OTHER_SIDE_UNOWNED.iter().find(|(a, _)| *a == action).map(|(_, t)| *t)
}

/// Whether a condition requires the ownership tag on the resource or on the request.
fn requires_owner_tag(condition: &Value) -> bool {
    let null = &condition["Null"];
    [format!("aws:ResourceTag/{OWNER_UID}"), format!("aws:RequestTag/{OWNER_UID}")]
        .iter()
        .any(|key| null[key.as_str()] == "false")
}

#[test]
fn the_call_scanner_reads_multi_line_calls() {
    let source = "self.call(\n    \"DescribeVpcs\",\n    false,\n x).await; c.call(\"DeleteVpc\", true, y)";
    assert_eq!(calls(source), vec![(None, "DescribeVpcs".into(), false), (None, "DeleteVpc".into(), true)]);
}

#[test]
fn the_call_scanner_reads_the_service_when_a_call_names_it() {
    let source = "const ELB: &str = \"elasticloadbalancing\";\n self.call(ELB, \"DeleteRule\", true, x); \
                  self.call(\n\"route53\",\n\"ChangeResourceRecordSets\",\ntrue, y); self.call(service, operation, mutating, r); \
                  self.ec2\n    .call(\"CreateSecurityGroup\", true, z)";
    assert_eq!(
        calls(source),
        vec![
            (Some("elasticloadbalancing".into()), "DeleteRule".into(), true),
            (Some("route53".into()), "ChangeResourceRecordSets".into(), true),
            (Some("ec2".into()), "CreateSecurityGroup".into(), true),
        ]
    );
}

#[test]
fn every_called_operation_is_allowed_and_nothing_else() {
    let called = called_actions();
    assert!(called.len() > 20, "the scanner found the calls: {called:?}");
    let granted: BTreeSet<String> = policy().into_iter().flat_map(|s| s.actions).collect();
    let missing: Vec<&String> = called.keys().filter(|a| !granted.contains(*a)).collect();
    assert!(missing.is_empty(), "called but not in deploy/iam-policy.json: {missing:?}");
    let extra: Vec<&String> =
        granted.iter().filter(|a| !called.contains_key(*a) && !IMPLICIT.contains(&a.as_str())).collect();
    assert!(extra.is_empty(), "in deploy/iam-policy.json but never called: {extra:?}");
}

#[test]
fn mutating_actions_are_conditioned_on_ownership_and_reads_are_not() {
    let called = called_actions();
    for statement in policy() {
        for action in &statement.actions {
            match called.get(action) {
                Some(true) if NOT_TAG_CONDITIONABLE.contains(&action.as_str()) => {
                    assert!(statement.resources.iter().all(|r| r != "*"), "{action} must be scoped to ARNs")
                }
                Some(true) if !requires_owner_tag(&statement.condition) && other_side(action).is_some() => {
                    let of_type = other_side(action).unwrap_or_default();
                    assert!(
                        statement.resources.iter().all(|r| r.contains(of_type) && r.starts_with("arn:")),
                        "{action} is granted unconditioned beyond {of_type} ARNs: {:?}",
                        statement.resources
                    );
                    let owned_side =
                        policy().iter().any(|s| s.actions.contains(action) && requires_owner_tag(&s.condition));
                    assert!(owned_side, "{action} must also be granted on owned resources only");
                }
                Some(true) => assert!(
                    requires_owner_tag(&statement.condition),
                    "{action} is granted without requiring the {OWNER_UID} tag: {}",
                    statement.condition
                ),
                Some(false) => {
                    assert!(statement.condition.is_null(), "read {action} is conditioned: {}", statement.condition)
                }
                None => {}
            }
        }
    }
}
