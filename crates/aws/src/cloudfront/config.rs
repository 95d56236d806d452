//! Between the SDK's distribution configuration and the planner's: reading the managed fields
//! out of what AWS answers, and writing them onto a configuration as read, so that every field
//! the controller does not manage (logging, geo restrictions, error responses, function
//! associations, origin timeouts, custom headers, ...) goes back exactly as it came.

use aws_sdk_cloudfront::types as cf;
use aws_smithy_types::error::operation::BuildError;
use securecart_plan::cloudfront::{BehaviorConfig, DistributionConfig, OriginConfig, OriginKind};

use crate::{AwsError, ErrorKind};

/// A request the SDK refuses to build (a required field missing): a bug here, not AWS's answer.
pub(crate) fn built<T>(operation: &'static str, r: Result<T, BuildError>) -> Result<T, AwsError> {
    r.map_err(|e| AwsError { kind: ErrorKind::Terminal, operation, code: "BuildError".into(), message: e.to_string() })
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The managed fields of a configuration AWS answered, normalised as the planner's desired
/// configuration is (sets sorted, empty strings as none).
pub(crate) fn read(c: &cf::DistributionConfig) -> DistributionConfig {
    let cert = c.viewer_certificate();
    let acm = cert
        .and_then(|v| non_empty(v.acm_certificate_arn()))
        .filter(|_| cert.and_then(|v| v.cloud_front_default_certificate()) != Some(true));
    let with_acm = |f: &dyn Fn(&cf::ViewerCertificate) -> Option<String>| acm.as_ref().and(cert).and_then(f);
    let mut origins: Vec<OriginConfig> =
        c.origins().map(|o| o.items()).unwrap_or_default().iter().map(read_origin).collect();
    origins.sort_by(|a, b| a.id.cmp(&b.id));
    DistributionConfig {
        enabled: c.enabled(),
        comment: c.comment().to_string(),
        aliases: sorted(c.aliases().map(|a| a.items().to_vec()).unwrap_or_default()),
        ssl_support_method: with_acm(&|v| v.ssl_support_method().map(|m| m.as_str().to_string())),
        minimum_protocol_version: with_acm(&|v| v.minimum_protocol_version().map(|m| m.as_str().to_string())),
        certificate_arn: acm.clone(),
        price_class: c.price_class().map(|p| p.as_str().to_string()).unwrap_or_default(),
        ipv6: c.is_ipv6_enabled().unwrap_or(false),
        default_root_object: non_empty(c.default_root_object()),
        origins,
        default_behavior: c.default_cache_behavior().map(read_default_behavior).unwrap_or_default(),
        behaviors: c.cache_behaviors().map(|b| b.items()).unwrap_or_default().iter().map(read_behavior).collect(),
        web_acl_id: non_empty(c.web_acl_id()),
    }
}

fn read_origin(o: &cf::Origin) -> OriginConfig {
    let kind = match (&o.s3_origin_config, &o.custom_origin_config) {
        (Some(_), _) => OriginKind::S3 { origin_access_control_id: non_empty(o.origin_access_control_id.as_deref()) },
        (None, Some(c)) => OriginKind::Custom {
            protocol_policy: c.origin_protocol_policy.as_str().to_string(),
            http_port: u16::try_from(c.http_port).unwrap_or_default(),
            https_port: u16::try_from(c.https_port).unwrap_or_default(),
        },
        // A VPC origin, not one the controller makes: it differs, so it is rewritten.
        (None, None) if o.vpc_origin_config.is_some() => {
            OriginKind::Custom { protocol_policy: String::new(), http_port: 0, https_port: 0 }
        }
        (None, None) => OriginKind::Unreported,
    };
    OriginConfig {
        id: o.id.clone(),
        domain_name: o.domain_name.clone(),
        origin_path: non_empty(o.origin_path.as_deref()),
        kind,
    }
}

fn methods(m: Option<&cf::AllowedMethods>) -> Vec<String> {
    sorted(m.map(|m| m.items().iter().map(|x| x.as_str().to_string()).collect()).unwrap_or_default())
}

fn read_default_behavior(b: &cf::DefaultCacheBehavior) -> BehaviorConfig {
    BehaviorConfig {
        path_pattern: None,
        target_origin_id: b.target_origin_id.clone(),
        cache_policy_id: b.cache_policy_id.clone().unwrap_or_default(),
        origin_request_policy_id: non_empty(b.origin_request_policy_id.as_deref()),
        viewer_protocol_policy: b.viewer_protocol_policy.as_str().to_string(),
        allowed_methods: methods(b.allowed_methods.as_ref()),
        compress: b.compress.unwrap_or(false),
    }
}

fn read_behavior(b: &cf::CacheBehavior) -> BehaviorConfig {
    BehaviorConfig {
        path_pattern: Some(b.path_pattern.clone()),
        target_origin_id: b.target_origin_id.clone(),
        cache_policy_id: b.cache_policy_id.clone().unwrap_or_default(),
        origin_request_policy_id: non_empty(b.origin_request_policy_id.as_deref()),
        viewer_protocol_policy: b.viewer_protocol_policy.as_str().to_string(),
        allowed_methods: methods(b.allowed_methods.as_ref()),
        compress: b.compress.unwrap_or(false),
    }
}

/// The configuration of a new distribution: CloudFront's defaults for what the controller does
/// not manage (no geo restriction, HTTP/2), then `want`.
pub(crate) fn fresh(caller_reference: &str, want: &DistributionConfig) -> Result<cf::DistributionConfig, AwsError> {
    const OP: &str = "CreateDistributionWithTags";
    let restrictions = cf::Restrictions::builder()
        .geo_restriction(built(
            OP,
            cf::GeoRestriction::builder().restriction_type(cf::GeoRestrictionType::None).quantity(0).build(),
        )?)
        .build();
    let skeleton = cf::DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(&want.comment)
        .enabled(want.enabled)
        .origins(built(OP, cf::Origins::builder().quantity(0).set_items(Some(Vec::new())).build())?)
        .default_cache_behavior(built(
            OP,
            cf::DefaultCacheBehavior::builder()
                .target_origin_id(&want.default_behavior.target_origin_id)
                .viewer_protocol_policy(cf::ViewerProtocolPolicy::from(
                    want.default_behavior.viewer_protocol_policy.as_str(),
                ))
                .build(),
        )?)
        .restrictions(restrictions)
        .http_version(cf::HttpVersion::Http2)
        .build();
    let mut config = built(OP, skeleton)?;
    apply(&mut config, want, OP)?;
    Ok(config)
}

/// Writes the managed fields of `want` onto `c` (as read, or [`fresh`]); origins and behaviours
/// that exist already keep their unmanaged settings.
pub(crate) fn apply(
    c: &mut cf::DistributionConfig,
    want: &DistributionConfig,
    op: &'static str,
) -> Result<(), AwsError> {
    c.enabled = want.enabled;
    c.comment = want.comment.clone();
    c.aliases = Some(built(
        op,
        cf::Aliases::builder().quantity(want.aliases.len() as i32).set_items(Some(want.aliases.clone())).build(),
    )?);
    c.viewer_certificate = Some(match &want.certificate_arn {
        Some(arn) => cf::ViewerCertificate::builder()
            .acm_certificate_arn(arn)
            .cloud_front_default_certificate(false)
            .set_ssl_support_method(want.ssl_support_method.as_deref().map(cf::SslSupportMethod::from))
            .set_minimum_protocol_version(
                want.minimum_protocol_version.as_deref().map(cf::MinimumProtocolVersion::from),
            )
            .build(),
        None => cf::ViewerCertificate::builder().cloud_front_default_certificate(true).build(),
    });
    c.price_class = Some(cf::PriceClass::from(want.price_class.as_str()));
    c.is_ipv6_enabled = Some(want.ipv6);
    c.default_root_object = Some(want.default_root_object.clone().unwrap_or_default());
    // An empty ID detaches the web ACL.
    c.web_acl_id = Some(want.web_acl_id.clone().unwrap_or_default());

    let old_origins: Vec<cf::Origin> = c.origins.as_ref().map(|o| o.items().to_vec()).unwrap_or_default();
    let mut origins = Vec::new();
    for o in &want.origins {
        origins.push(origin(old_origins.iter().find(|x| x.id == o.id), o, op)?);
    }
    c.origins =
        Some(built(op, cf::Origins::builder().quantity(origins.len() as i32).set_items(Some(origins)).build())?);

    let b = &want.default_behavior;
    let mut default =
        c.default_cache_behavior.clone().ok_or_else(|| AwsError::malformed(op, "no default cache behaviour"))?;
    default.target_origin_id = b.target_origin_id.clone();
    default.viewer_protocol_policy = cf::ViewerProtocolPolicy::from(b.viewer_protocol_policy.as_str());
    default.allowed_methods = Some(allowed_methods(b, op)?);
    default.compress = Some(b.compress);
    default.cache_policy_id = Some(b.cache_policy_id.clone());
    default.origin_request_policy_id = b.origin_request_policy_id.clone();
    clear_legacy_default(&mut default);
    c.default_cache_behavior = Some(default);

    let old_behaviors: Vec<cf::CacheBehavior> =
        c.cache_behaviors.as_ref().map(|b| b.items().to_vec()).unwrap_or_default();
    let mut behaviors = Vec::new();
    for b in &want.behaviors {
        let pattern = b.path_pattern.clone().unwrap_or_default();
        let mut item = match old_behaviors.iter().find(|x| x.path_pattern == pattern) {
            Some(old) => old.clone(),
            None => built(
                op,
                cf::CacheBehavior::builder()
                    .path_pattern(&pattern)
                    .target_origin_id(&b.target_origin_id)
                    .viewer_protocol_policy(cf::ViewerProtocolPolicy::from(b.viewer_protocol_policy.as_str()))
                    .build(),
            )?,
        };
        item.target_origin_id = b.target_origin_id.clone();
        item.viewer_protocol_policy = cf::ViewerProtocolPolicy::from(b.viewer_protocol_policy.as_str());
        item.allowed_methods = Some(allowed_methods(b, op)?);
        item.compress = Some(b.compress);
        item.cache_policy_id = Some(b.cache_policy_id.clone());
        item.origin_request_policy_id = b.origin_request_policy_id.clone();
        clear_legacy(&mut item);
        behaviors.push(item);
    }
    c.cache_behaviors = Some(built(
        op,
        cf::CacheBehaviors::builder().quantity(behaviors.len() as i32).set_items(Some(behaviors)).build(),
    )?);
    Ok(())
}

// A cache policy replaces the legacy cache settings (deprecated in the SDK for that reason);
// CloudFront refuses both at once.
#[allow(deprecated)]
fn clear_legacy_default(b: &mut cf::DefaultCacheBehavior) {
    (b.forwarded_values, b.min_ttl, b.default_ttl, b.max_ttl) = (None, None, None, None);
}

#[allow(deprecated)]
fn clear_legacy(b: &mut cf::CacheBehavior) {
    (b.forwarded_values, b.min_ttl, b.default_ttl, b.max_ttl) = (None, None, None, None);
}

fn method_list(names: &[String]) -> Vec<cf::Method> {
    names.iter().map(|m| cf::Method::from(m.as_str())).collect()
}

fn allowed_methods(b: &BehaviorConfig, op: &'static str) -> Result<cf::AllowedMethods, AwsError> {
    let cached = b.cached_methods();
    let cached = built(
        op,
        cf::CachedMethods::builder().quantity(cached.len() as i32).set_items(Some(method_list(&cached))).build(),
    )?;
    built(
        op,
        cf::AllowedMethods::builder()
            .quantity(b.allowed_methods.len() as i32)
            .set_items(Some(method_list(&b.allowed_methods)))
            .cached_methods(cached)
            .build(),
    )
}

fn origin(old: Option<&cf::Origin>, want: &OriginConfig, op: &'static str) -> Result<cf::Origin, AwsError> {
    let mut o = match old {
        Some(o) => o.clone(),
        None => built(op, cf::Origin::builder().id(&want.id).domain_name(&want.domain_name).build())?,
    };
    o.domain_name = want.domain_name.clone();
    o.origin_path = Some(want.origin_path.clone().unwrap_or_default());
    o.vpc_origin_config = None;
    match &want.kind {
        OriginKind::Custom { protocol_policy, http_port, https_port } => {
            let mut custom = match o.custom_origin_config.take() {
                Some(c) => c,
                None => {
                    let tls = built(
                        op,
                        cf::OriginSslProtocols::builder().quantity(1).items(cf::SslProtocol::TlSv12).build(),
                    )?;
                    built(
                        op,
                        cf::CustomOriginConfig::builder()
                            .http_port(i32::from(*http_port))
                            .https_port(i32::from(*https_port))
                            .origin_protocol_policy(cf::OriginProtocolPolicy::from(protocol_policy.as_str()))
                            .origin_ssl_protocols(tls)
                            .origin_read_timeout(30)
                            .origin_keepalive_timeout(5)
                            .build(),
                    )?
                }
            };
            custom.http_port = i32::from(*http_port);
            custom.https_port = i32::from(*https_port);
            custom.origin_protocol_policy = cf::OriginProtocolPolicy::from(protocol_policy.as_str());
            o.custom_origin_config = Some(custom);
            o.s3_origin_config = None;
            o.origin_access_control_id = Some(String::new());
        }
        OriginKind::S3 { origin_access_control_id } => {
            // Signed with an origin access control; the legacy identity stays empty.
            let s3 = cf::S3OriginConfig::builder().origin_access_identity("").build();
            o.s3_origin_config = Some(s3);
            o.custom_origin_config = None;
            o.origin_access_control_id = Some(origin_access_control_id.clone().unwrap_or_default());
        }
        // Never desired: nothing to write.
        OriginKind::Unreported => {}
    }
    Ok(o)
}
