//! Every kind the operator serves, listed once. The CRD generator writes one CRD per entry; tests
//! check the controller's registration, RBAC (chart and kustomize), the Argo CD health config and
//! the CRD files against this list, so no kind can be forgotten in one of them.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::{GlobalEntrypoint, LoadBalancerPolicy, PartnerApi, PrivateEndpoint, TransitGateway, VpcPeering, VpcTier};

/// The CRD of every kind, in the order they were added.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        VpcTier::crd(),
        LoadBalancerPolicy::crd(),
        PrivateEndpoint::crd(),
        TransitGateway::crd(),
        VpcPeering::crd(),
        PartnerApi::crd(),
        GlobalEntrypoint::crd(),
    ]
}

/// (kind, plural) of every kind.
pub fn names() -> Vec<(String, String)> {
    crds().into_iter().map(|c| (c.spec.names.kind, c.spec.names.plural)).collect()
}

/// The file a kind's CRD is written to in `crds/`.
pub fn crd_file(kind: &str) -> String {
    format!("{}.yaml", kind.to_ascii_lowercase())
}
