//! Status writes: server-side apply on the status subresource, only when something changed.

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use securecart_api::FIELD_MANAGER;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Applies `status` unless it equals `current`. Returns, when a write happened, the resource
/// version it produced (none if the answer lacked one).
pub async fn apply<K, S>(
    api: &Api<K>,
    name: &str,
    current: Option<&S>,
    status: &S,
) -> Result<Option<Option<String>>, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    if current == Some(status) {
        return Ok(None);
    }
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let written = api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch)).await?;
    Ok(Some(written.meta().resource_version.clone()))
}
