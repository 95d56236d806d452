//! AWS managed cache and origin request policies by name. Their IDs are the same in every
//! account (published in the CloudFront Developer Guide, "Use managed cache policies" and "Use
//! managed origin request policies"); they live here because not every CloudFront API (the
//! emulator's, for one) can list them.

use securecart_api::global_entrypoint::{CachePolicy, OriginRequestPolicy};

pub fn cache_policy_id(policy: CachePolicy) -> &'static str {
    match policy {
        CachePolicy::CachingOptimized => "658327ea-f89d-4fab-a63d-7e88639e58f6",
        CachePolicy::CachingDisabled => "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        CachePolicy::CachingOptimizedForUncompressedObjects => "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
        CachePolicy::UseOriginCacheControlHeaders => "83da9c7e-98b4-4e11-a168-04f0df8e2c65",
        CachePolicy::UseOriginCacheControlHeadersQueryStrings => "4cc15a8a-d715-48a4-82b8-cc0b614638fe",
    }
}

pub fn origin_request_policy_id(policy: OriginRequestPolicy) -> &'static str {
    match policy {
        OriginRequestPolicy::AllViewer => "216adef6-5c7f-47e4-b989-5492eafa07d3",
        OriginRequestPolicy::AllViewerExceptHostHeader => "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        OriginRequestPolicy::AllViewerAndCloudFrontHeaders => "33f36d7e-f396-46d9-90e0-52428a34d9dc",
        OriginRequestPolicy::CorsS3Origin => "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
        OriginRequestPolicy::CorsCustomOrigin => "59781a5b-3903-41f3-afcb-af62929ccde1",
        OriginRequestPolicy::UserAgentRefererHeaders => "acba4595-bd28-49b8-b9fe-13317c0390fa",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_policy_ids_are_distinct_uuids() {
        let ids = [
            cache_policy_id(CachePolicy::CachingOptimized),
            cache_policy_id(CachePolicy::CachingDisabled),
            cache_policy_id(CachePolicy::CachingOptimizedForUncompressedObjects),
            cache_policy_id(CachePolicy::UseOriginCacheControlHeaders),
            cache_policy_id(CachePolicy::UseOriginCacheControlHeadersQueryStrings),
            origin_request_policy_id(OriginRequestPolicy::AllViewer),
            origin_request_policy_id(OriginRequestPolicy::AllViewerExceptHostHeader),
            origin_request_policy_id(OriginRequestPolicy::AllViewerAndCloudFrontHeaders),
            origin_request_policy_id(OriginRequestPolicy::CorsS3Origin),
            origin_request_policy_id(OriginRequestPolicy::CorsCustomOrigin),
            origin_request_policy_id(OriginRequestPolicy::UserAgentRefererHeaders),
        ];
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        for id in ids {
            let groups: Vec<usize> = id.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
            assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{id}");
        }
    }
}
