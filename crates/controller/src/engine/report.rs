//! Status and Events for one object being reconciled. Status is written with server-side apply,
//! only when it changes, and remembered: the next reconcile of the object starts from the status
//! this process last wrote, even before the watch has brought it back, so a create recorded
//! in it is never forgotten.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::events::EventType;
use kube::{Api, ResourceExt};
use securecart_api::conditions::reason;
use securecart_api::{CommonStatus, CreateIntent, OwnedResource};
use securecart_aws::{AwsError, Execution};
use securecart_plan::conditions::{Report, conditions};
use securecart_plan::{InvalidSpec, Known, Owner};

use super::{Kind, owner_of};
use crate::context::{Context, Error};
use crate::status;

pub struct Reporter<'a, K: Kind> {
    pub obj: &'a K,
    api: &'a Api<K>,
    pub ctx: &'a Context,
    pub owner: Owner,
    oref: ObjectReference,
    /// The status as last written: by this process if it wrote one, else as the watch has it.
    current: Option<K::StatusFields>,
}

impl<'a, K: Kind> Reporter<'a, K> {
    pub fn new(obj: &'a K, api: &'a Api<K>, ctx: &'a Context) -> Self {
        let owner = owner_of(obj);
        let current = ctx
            .journal
            .get_unless_seen::<K::StatusFields>(&owner.uid, obj.meta().resource_version.as_deref())
            .or_else(|| kube::core::object::HasStatus::status(obj).cloned());
        Self { obj, api, ctx, owner, oref: obj.object_ref(&()), current }
    }

    pub fn status(&self) -> Option<&K::StatusFields> {
        self.current.as_ref()
    }

    /// What the status records the object owns, by component.
    /// The IDs the status names, by component; where it lists duplicates, the first (the one
    /// the last reconcile knew).
    pub fn known(&self) -> Known {
        let mut known = Known::new();
        for r in self.current.iter().flat_map(|s| s.resources()) {
            known.entry(r.component.clone()).or_insert_with(|| r.id.clone());
        }
        known
    }

    /// The conditions the status holds now (per-part conditions keep their transition times).
    pub fn conditions(&self) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
        self.current.as_ref().map(|s| s.conditions().to_vec()).unwrap_or_default()
    }

    /// Whether the status lists two IDs for one component: a duplicate not yet deleted.
    pub fn lists_duplicates(&self) -> bool {
        let resources = self.current.as_ref().map(|s| s.resources()).unwrap_or_default();
        resources.windows(2).any(|w| w[0].component == w[1].component)
    }

    pub fn intents(&self) -> Vec<CreateIntent> {
        self.current.as_ref().map(|s| s.intents().to_vec()).unwrap_or_default()
    }

    /// Ready=True at the current generation: anything changed now is a drift repair.
    pub fn was_ready(&self) -> bool {
        self.current.as_ref().is_some_and(|s| {
            s.conditions().iter().any(|c| {
                c.type_ == securecart_api::conditions::READY
                    && c.status == "True"
                    && c.observed_generation == self.obj.meta().generation
            })
        })
    }

    /// Writes the status: `fields` (the kind's, from the model) or the current ones, with
    /// `inventory` and `intents` when given, and the conditions for `report`.
    pub async fn write(
        &mut self,
        report: &Report,
        fields: Option<K::StatusFields>,
        inventory: Option<Vec<(String, String)>>,
        intents: Option<Vec<CreateIntent>>,
    ) -> Result<(), Error> {
        let mut next = fields.unwrap_or_else(|| self.current.clone().unwrap_or_default());
        if fields_lack_bookkeeping::<K>(&next)
            && let Some(current) = &self.current
        {
            *next.resources_mut() = current.resources().to_vec();
            *next.intents_mut() = current.intents().to_vec();
        }
        if let Some(inventory) = inventory {
            let mut resources: Vec<OwnedResource> =
                inventory.into_iter().map(|(component, id)| OwnedResource { component, id }).collect();
            // By component, in the given order within one: duplicates after the known ID.
            resources.sort_by(|a, b| a.component.cmp(&b.component));
            resources.dedup();
            *next.resources_mut() = resources;
        }
        if let Some(intents) = intents {
            *next.intents_mut() = intents;
        }
        let generation = self.obj.meta().generation;
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let previous = self.current.as_ref().map(|s| s.conditions().to_vec()).unwrap_or_default();
        next.set_common(generation, conditions(report, generation, &previous, &now));
        if let Some(version) = status::apply(self.api, &self.obj.name_any(), self.current.as_ref(), &next).await? {
            self.ctx.journal.put_at(&self.owner.uid, version, next.clone());
        }
        self.current = Some(next);
        Ok(())
    }

    pub async fn event(&self, type_: EventType, reason: &str, action: &str, note: String) {
        self.ctx.event(&self.oref, type_, reason, action, note).await;
    }

    /// Reports a spec the controller cannot realise; waits for the spec to change.
    pub async fn invalid(&mut self, invalid: InvalidSpec) -> Result<kube::runtime::controller::Action, Error> {
        let already = self.current.as_ref().is_some_and(|s| {
            s.conditions().iter().any(|c| {
                c.type_ == securecart_api::conditions::READY
                    && c.reason == reason::INVALID_SPEC
                    && c.message == invalid.0
            })
        });
        if !already {
            self.event(EventType::Warning, reason::INVALID_SPEC, "Validate", invalid.0.clone()).await;
        }
        self.write(&Report::invalid(invalid.0.clone()), None, None, None).await?;
        Ok(kube::runtime::controller::Action::await_change())
    }

    /// Reports an AWS failure in the conditions and an Event, and returns the error to retry.
    /// `changed`: it happened while changing AWS (Ready turns False), not while reading.
    pub async fn aws_failed(&mut self, error: AwsError, changed: bool, fields: Option<K::StatusFields>) -> Error {
        let message = error.to_string();
        let why = if error.is_terminal() { reason::AWS_REJECTED } else { reason::AWS_ERROR };
        let report = if changed {
            Report::failed_change(why, message.clone(), error.is_terminal())
        } else {
            Report::failed_read(why, message.clone(), error.is_terminal())
        };
        self.event(EventType::Warning, why, error.operation, message).await;
        if let Err(e) = self.write(&report, fields, None, None).await {
            return e;
        }
        Error::Aws(error)
    }

    /// One Event per kind of change (Created, Updated, Deleted, DriftRepaired) per pass, its note
    /// listing the changes in order: a new VpcTier is about seventeen AWS creates, and an Event
    /// for each was as many apiserver writes as AWS calls in a creation storm, and as many
    /// entries in the recorder's cache. Drift repairs are also counted.
    pub async fn changes(&self, execution: &Execution, drift: bool) {
        let mut groups: Vec<(&'static str, Vec<&str>, Vec<String>)> = Vec::new();
        for step in &execution.executed {
            let reason = if drift {
                self.ctx.metrics.drift_repairs.with_label_values(&[K::KIND, step.action]).inc();
                "DriftRepaired"
            } else {
                change_reason(step.action)
            };
            let note = match &step.output.id {
                Some(id) => format!("{} ({id})", step.summary),
                None => step.summary.clone(),
            };
            match groups.iter_mut().find(|(r, _, _)| *r == reason) {
                Some((_, actions, notes)) => {
                    actions.push(step.action);
                    notes.push(note);
                }
                None => groups.push((reason, vec![step.action], vec![note])),
            }
        }
        for (reason, mut actions, notes) in groups {
            actions.dedup();
            let action = if actions.len() == 1 { actions[0] } else { "Apply" };
            self.event(EventType::Normal, reason, action, event_note(&notes)).await;
        }
    }
}

/// The changes joined, within the 1 kB an Event's note may hold; what does not fit is counted.
fn event_note(changes: &[String]) -> String {
    const LIMIT: usize = 1024;
    let mut note = String::new();
    for (i, change) in changes.iter().enumerate() {
        let more = changes.len() - i;
        let separator = if note.is_empty() { "" } else { "; " };
        // Room for this change and, after it, for the count of any that would still follow.
        let tail = if more > 1 { format!("; and {} more", more - 1).len() } else { 0 };
        if note.len() + separator.len() + change.len() + tail > LIMIT {
            note.push_str(&format!("{separator}and {more} more"));
            return note;
        }
        note.push_str(separator);
        note.push_str(change);
    }
    note
}

/// A kind's status built from the model carries no inventory or intents of its own.
fn fields_lack_bookkeeping<K: Kind>(fields: &K::StatusFields) -> bool {
    fields.resources().is_empty() && fields.intents().is_empty()
}

/// Created, Deleted or Updated, from an AWS action name.
pub fn change_reason(action: &str) -> &'static str {
    const CREATE: &[&str] = &["Create", "Allocate", "Associate", "Attach", "Put", "Request", "Register", "Add"];
    const DELETE: &[&str] = &["Delete", "Release", "Detach", "Disassociate", "Deregister", "Remove"];
    if CREATE.iter().any(|p| action.starts_with(p)) {
        "Created"
    } else if DELETE.iter().any(|p| action.starts_with(p)) {
        "Deleted"
    } else {
        "Updated"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_note_lists_the_changes_within_an_events_limit() {
        let few = vec!["create VPC 10.0.0.0/16 (vpc-1)".to_string(), "create subnet app-a (subnet-1)".to_string()];
        assert_eq!(event_note(&few), "create VPC 10.0.0.0/16 (vpc-1); create subnet app-a (subnet-1)");
        let many: Vec<String> = (0..200).map(|i| format!("create subnet tier-{i:03} (subnet-{i:08})")).collect();
        let note = event_note(&many);
        assert!(note.len() <= 1024, "{} bytes", note.len());
        assert!(note.starts_with("create subnet tier-000 (subnet-00000000); create subnet tier-001"), "{note}");
        let listed = note.matches("create subnet").count();
        assert!(note.ends_with(&format!("; and {} more", 200 - listed)), "{note}");
    }

    #[test]
    fn change_reasons() {
        assert_eq!(change_reason("CreateSubnet"), "Created");
        assert_eq!(change_reason("AssociateWebACL"), "Created");
        assert_eq!(change_reason("ReleaseAddress"), "Deleted");
        assert_eq!(change_reason("ModifyVpcAttribute"), "Updated");
        assert_eq!(change_reason("SetTags"), "Updated");
    }
}
