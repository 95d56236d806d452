//! Status fields every kind shares: the inventory of what the object owns in AWS and the creates
//! it has started but not yet seen finish. Together they let the controller observe by ID and
//! never create twice, whatever happened to the last reconcile.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One AWS resource the object owns.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct OwnedResource {
    /// Its role in the object, the value of its `net.securecart.io/component` tag.
    pub component: String,
    /// Its AWS ID or ARN.
    pub id: String,
}

/// A create the controller recorded before calling AWS. It stays until the resource is seen; if
/// the call's outcome was lost (a crash, a lost response), the next reconcile searches for the
/// resource (tags, caller reference, derived name) before it creates again, and a retry sends
/// the same idempotency token.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateIntent {
    pub component: String,
    /// Sent as ClientToken or CallerReference where the API takes one.
    pub token: String,
    /// When the intent was recorded.
    pub since: Time,
    /// The call was made and its outcome is unknown (retried, timed out, or failed after it was sent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
    /// What AWS answered a create that was retried: that resource exists and is used, while an
    /// earlier attempt may have made a duplicate, so the intent stays for the consistency window
    /// and the searches in it look for one. Unset: nothing is known to exist yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<String>,
}

/// The status fields every kind shares, so the controller writes them generically.
pub trait CommonStatus: Default + Clone + PartialEq + serde::Serialize {
    fn conditions(&self) -> &[Condition];
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    fn observed_generation_mut(&mut self) -> &mut Option<i64>;
    fn resources(&self) -> &[OwnedResource];
    fn resources_mut(&mut self) -> &mut Vec<OwnedResource>;
    fn intents(&self) -> &[CreateIntent];
    fn intents_mut(&mut self) -> &mut Vec<CreateIntent>;

    /// Puts the engine's conditions first, keeps per-part conditions the kind's status carries
    /// after them, and stamps the generation on all of them.
    fn set_common(&mut self, observed_generation: Option<i64>, conditions: Vec<Condition>) {
        *self.observed_generation_mut() = observed_generation;
        let parts: Vec<Condition> = std::mem::take(self.conditions_mut())
            .into_iter()
            .filter(|c| !conditions.iter().any(|n| n.type_ == c.type_))
            .map(|mut c| {
                c.observed_generation = observed_generation;
                c
            })
            .collect();
        *self.conditions_mut() = conditions.into_iter().chain(parts).collect();
    }
}

/// Implements [`CommonStatus`] for a status struct with `observed_generation`, `conditions`,
/// `resources` and `intents` fields.
#[macro_export]
macro_rules! common_status {
    ($($status:ty),+ $(,)?) => {$(
        impl $crate::CommonStatus for $status {
            fn conditions(&self) -> &[$crate::Condition] {
                &self.conditions
            }
            fn conditions_mut(&mut self) -> &mut Vec<$crate::Condition> {
                &mut self.conditions
            }
            fn observed_generation_mut(&mut self) -> &mut Option<i64> {
                &mut self.observed_generation
            }
            fn resources(&self) -> &[$crate::OwnedResource] {
                &self.resources
            }
            fn resources_mut(&mut self) -> &mut Vec<$crate::OwnedResource> {
                &mut self.resources
            }
            fn intents(&self) -> &[$crate::CreateIntent] {
                &self.intents
            }
            fn intents_mut(&mut self) -> &mut Vec<$crate::CreateIntent> {
                &mut self.intents
            }
        }
    )+};
}
