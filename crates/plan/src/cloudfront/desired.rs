//! The desired distribution of a `GlobalEntrypoint`'s `spec.cloudFront`, validated: what the
//! schema's CEL rules say again (a behaviour naming a missing origin, a path pattern listed
//! twice, aliases without a certificate) and what CEL cannot (the certificate's region).

use std::collections::{BTreeMap, BTreeSet};

use securecart_api::global_entrypoint::{AllowedMethods, Behavior, CloudFrontSpec, Origin};

use super::policies::{cache_policy_id, origin_request_policy_id};
use super::{BehaviorConfig, Desired, DesiredOriginAccessControl, DistributionConfig, OriginConfig, OriginKind};
use crate::InvalidSpec;
use crate::owner::{Owner, Tags};

/// CloudFront takes ACM certificates from this region only.
pub const CERTIFICATE_REGION: &str = "us-east-1";

fn bad<T>(message: String) -> Result<T, InvalidSpec> {
    Err(InvalidSpec(message))
}

/// `spec` as the distribution to make; `origins` maps each load balancer origin's name to its
/// load balancer's DNS name (every such origin must be in it: the caller waits for the
/// policies first).
pub fn desired_of(
    spec: &CloudFrontSpec,
    owner: &Owner,
    origins: &BTreeMap<String, String>,
    user_tags: &Tags,
) -> Result<Desired, InvalidSpec> {
    validate_certificate(spec)?;
    let mut names = BTreeSet::new();
    let mut origin_configs = Vec::new();
    let mut controls = Vec::new();
    if spec.origins.is_empty() {
        return bad("spec.cloudFront.origins: at least one origin is needed".into());
    }
    for (i, o) in spec.origins.iter().enumerate() {
        if !names.insert(o.name.as_str()) {
            return bad(format!("spec.cloudFront.origins[{i}].name: {} is listed twice", o.name));
        }
        let (config, s3) = origin(i, o, origins)?;
        if s3 {
            controls.push(DesiredOriginAccessControl {
                origin: o.name.clone(),
                config: super::access_control_config(owner, &o.name),
            });
        }
        origin_configs.push(config);
    }
    origin_configs.sort_by(|a, b| a.id.cmp(&b.id));

    if spec.default_behavior.path_pattern.is_some() {
        return bad("spec.cloudFront.defaultBehavior.pathPattern: the default behaviour matches every path".into());
    }
    let default_behavior = behavior("spec.cloudFront.defaultBehavior", &spec.default_behavior, &names)?;
    let mut patterns = BTreeSet::new();
    let mut behaviors = Vec::new();
    for (i, b) in spec.behaviors.iter().enumerate() {
        let field = format!("spec.cloudFront.behaviors[{i}]");
        let Some(pattern) = &b.path_pattern else {
            return bad(format!("{field}.pathPattern: required (only the default behaviour has none)"));
        };
        if !patterns.insert(pattern.as_str()) {
            return bad(format!("{field}.pathPattern: {pattern} is listed twice"));
        }
        behaviors.push(behavior(&field, b, &names)?);
    }

    let mut aliases = spec.aliases.clone();
    aliases.sort();
    aliases.dedup();
    let acm = spec.certificate_arn.is_some();
    let comment: String =
        format!("{}{}/{}", super::COMMENT_PREFIX, owner.namespace, owner.name).chars().take(128).collect();
    Ok(Desired {
        config: DistributionConfig {
            enabled: true,
            comment,
            aliases,
            certificate_arn: spec.certificate_arn.clone(),
            ssl_support_method: acm.then(|| "sni-only".to_string()),
            minimum_protocol_version: acm.then(|| "TLSv1.2_2021".to_string()),
            price_class: spec.price_class.as_str().into(),
            ipv6: spec.ipv6,
            default_root_object: spec.default_root_object.clone(),
            origins: origin_configs,
            default_behavior,
            behaviors,
            web_acl_id: None,
        },
        origin_access_controls: controls,
        user_tags: user_tags.clone(),
    })
}

/// Checks `spec` on its own, before any policy is read: the same checks as [`desired_of`], with
/// each load balancer origin standing in for the DNS name its policy will give it.
pub fn validate(spec: &CloudFrontSpec) -> Result<(), InvalidSpec> {
    let placeholder = Owner { kind: String::new(), namespace: String::new(), name: String::new(), uid: String::new() };
    let origins = spec
        .origins
        .iter()
        .filter(|o| o.load_balancer_policy_ref.is_some())
        .map(|o| (o.name.clone(), "load-balancer.invalid".to_string()))
        .collect();
    desired_of(spec, &placeholder, &origins, &Tags::default()).map(|_| ())
}

fn validate_certificate(spec: &CloudFrontSpec) -> Result<(), InvalidSpec> {
    let field = "spec.cloudFront.certificateArn";
    match &spec.certificate_arn {
        None if !spec.aliases.is_empty() => {
            bad(format!("{field}: aliases ({}) need a certificate that covers them", spec.aliases.join(", ")))
        }
        None => Ok(()),
        Some(arn) => {
            // arn:aws:acm:<region>:<account>:certificate/<id>
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            match parts.as_slice() {
                ["arn", _, "acm", region, _, resource] if resource.starts_with("certificate/") => {
                    if *region == CERTIFICATE_REGION {
                        Ok(())
                    } else {
                        bad(format!(
                            "{field}: CloudFront takes ACM certificates from {CERTIFICATE_REGION} only; {arn} is in {region}"
                        ))
                    }
                }
                _ => bad(format!("{field}: {arn} is not an ACM certificate ARN")),
            }
        }
    }
}

/// An origin's configuration, and whether it is an S3 one (that needs an access control).
fn origin(i: usize, o: &Origin, lbs: &BTreeMap<String, String>) -> Result<(OriginConfig, bool), InvalidSpec> {
    let field = format!("spec.cloudFront.origins[{i}]");
    let custom = || OriginKind::Custom {
        protocol_policy: o.protocol_policy.map_or("https-only", |p| p.as_str()).into(),
        http_port: o.http_port.unwrap_or(80),
        https_port: o.https_port.unwrap_or(443),
    };
    let (domain_name, kind, s3) = match (&o.load_balancer_policy_ref, &o.s3, &o.domain_name) {
        (Some(policy), None, None) => match lbs.get(&o.name) {
            Some(dns) => (dns.clone(), custom(), false),
            None => {
                return bad(format!(
                    "{field}.loadBalancerPolicyRef: no load balancer DNS name for LoadBalancerPolicy {}",
                    policy.name
                ));
            }
        },
        (None, Some(bucket), None) => {
            if o.protocol_policy.is_some() || o.http_port.is_some() || o.https_port.is_some() {
                return bad(format!(
                    "{field}.protocolPolicy: an S3 origin is reached over HTTPS with origin access control"
                ));
            }
            let domain = format!("{}.s3.{}.amazonaws.com", bucket.bucket_name, bucket.region);
            (domain, OriginKind::S3 { origin_access_control_id: None }, true)
        }
        (None, None, Some(host)) => (host.clone(), custom(), false),
        _ => return bad(format!("{field}: set exactly one of loadBalancerPolicyRef, s3 and domainName")),
    };
    Ok((OriginConfig { id: o.name.clone(), domain_name, origin_path: o.origin_path.clone(), kind }, s3))
}

fn methods(allowed: AllowedMethods) -> Vec<String> {
    let list: &[&str] = match allowed {
        AllowedMethods::GetHead => &["GET", "HEAD"],
        AllowedMethods::GetHeadOptions => &["GET", "HEAD", "OPTIONS"],
        AllowedMethods::All => &["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
    };
    let mut v: Vec<String> = list.iter().map(|m| m.to_string()).collect();
    v.sort();
    v
}

fn behavior(field: &str, b: &Behavior, origins: &BTreeSet<&str>) -> Result<BehaviorConfig, InvalidSpec> {
    if !origins.contains(b.origin.as_str()) {
        return bad(format!("{field}.origin: {} names no origin in spec.cloudFront.origins", b.origin));
    }
    Ok(BehaviorConfig {
        path_pattern: b.path_pattern.clone(),
        target_origin_id: b.origin.clone(),
        cache_policy_id: cache_policy_id(b.cache_policy).into(),
        origin_request_policy_id: b.origin_request_policy.map(|p| origin_request_policy_id(p).to_string()),
        viewer_protocol_policy: b.viewer_protocol_policy.as_str().into(),
        allowed_methods: methods(b.allowed_methods),
        compress: b.compress,
    })
}
