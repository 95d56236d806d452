//! Teardown, the same for every kind: the finalizer holds the object until its AWS resources are
//! gone (or retained). Nothing is torn down while other objects still use it; nothing at all
//! while it is paused. It copes with apply never having run, and "not found" is success.

use std::sync::Arc;

use kube::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use securecart_api::conditions::reason;
use securecart_api::{CommonStatus, DeletionPolicy};
use securecart_plan::conditions::Report;
use securecart_plan::{Context as PlanContext, InUse};

use super::report::Reporter;
use super::{Cx, Hub, Kind, MAX_PASSES, Observe, is_paused};
use crate::context::Error;

pub(super) async fn cleanup<K: Kind>(obj: Arc<K>, api: &Api<K>, hub: &Hub) -> Result<Action, Error> {
    let ctx = &*hub.ctx;
    let mut r = Reporter::new(&*obj, api, ctx);
    let owner = r.owner.clone();
    if is_paused(&*obj) {
        let message = format!("deletion waits: paused by annotation {}", securecart_api::conditions::PAUSED_ANNOTATION);
        r.write(&Report::not_ready(reason::PAUSED, message.clone()), None, None, None).await?;
        return Ok(Action::await_change());
    }
    if obj.deletion_policy() == DeletionPolicy::Retain {
        let note = "deletionPolicy is Retain: AWS resources left in place".to_string();
        r.event(EventType::Normal, "Retained", "Delete", note).await;
        forget(hub, &owner.uid).await;
        return Ok(Action::await_change());
    }
    let users = hub.registry.users_of(K::KIND, &owner.namespace, &owner.name);
    if !users.is_empty() {
        let names: Vec<String> = users.iter().map(ToString::to_string).collect();
        let message = format!("deletion waits for the objects that use it: {}", names.join(", "));
        r.write(&Report::not_ready(reason::IN_USE, message.clone()), None, None, None).await?;
        return Err(Error::DeletionPending(message));
    }
    let cx = Cx { ctx, registry: &hub.registry, owner: &owner };
    let recorded_anything = r.status().is_some_and(|s| !s.resources().is_empty() || !s.intents().is_empty());
    let region = match obj.region(None) {
        Some(region) => region,
        // The region goes to the status before the first create: without one, and without
        // anything recorded, nothing was ever made.
        None if !recorded_anything => {
            r.event(EventType::Normal, "Deleted", "Delete", "no AWS resources were ever created".into()).await;
            forget(hub, &owner.uid).await;
            return Ok(Action::await_change());
        }
        None => match obj.resolve(&cx).await.ok().and_then(|facts| obj.region(Some(&facts))) {
            Some(region) => region,
            None => {
                let message = "deletion cannot find the region its resources are in".to_string();
                r.write(&Report::not_ready(reason::DELETION_BLOCKED, message.clone()), None, None, None).await?;
                return Err(Error::DeletionPending(message));
            }
        },
    };
    let known = r.known();
    let none = InUse::new();
    for _ in 0..MAX_PASSES {
        // Everything the owner may have made: by ID, and by tags and names.
        let observed = match obj.observe(&cx, &region, Observe { known: &known, search: true, drift: false }).await {
            Ok(o) => o,
            Err(e) => return Err(r.aws_failed(e, false, None).await),
        };
        let plan =
            obj.plan(None, &PlanContext { owner: &owner, known: &known, in_use: &none, chosen: None }, &observed).plan;
        if !obj.owns_anything(&owner, &observed) && plan.is_empty() {
            r.event(
                EventType::Normal,
                "Deleted",
                "Delete",
                format!("every AWS resource of this {} is deleted", K::KIND),
            )
            .await;
            forget(hub, &owner.uid).await;
            return Ok(Action::await_change());
        }
        if plan.is_empty() && !plan.blocked.is_empty() {
            let reasons: Vec<&str> = plan.blocked.iter().map(|b| b.message.as_str()).collect();
            let message = format!("deletion blocked: {}", reasons.join("; "));
            r.event(EventType::Warning, reason::DELETION_BLOCKED, "Delete", message.clone()).await;
            r.write(&Report::not_ready(reason::DELETION_BLOCKED, message.clone()), None, None, None).await?;
            return Err(Error::DeletionPending(message));
        }
        if plan.is_empty() {
            let message = format!("deleting: waiting for {}", plan.waiting.join("; "));
            r.write(&Report::not_ready(reason::DELETING, message.clone()), None, None, None).await?;
            return Err(Error::DeletionPending(message));
        }
        ctx.aws.record_change(&owner.uid).await;
        let execution = ctx.aws.execute(&region, &plan, &Default::default()).await;
        r.changes(&execution, false).await;
        if let Some(error) = execution.error().cloned() {
            if error.code == "DependencyViolation" {
                let detail = obj.explain_blocked(&cx, &region, &observed, &error).await;
                let message = match detail {
                    Some(d) => format!("deletion blocked by {d}"),
                    None => format!("deletion blocked: {error}"),
                };
                r.event(EventType::Warning, reason::DELETION_BLOCKED, error.operation, message.clone()).await;
                let report = Report::not_ready(reason::DELETION_BLOCKED, message.clone());
                r.write(&report, None, None, None).await?;
                return Err(Error::DeletionPending(message));
            }
            return Err(r.aws_failed(error, true, None).await);
        }
    }
    Err(Error::DeletionPending("still deleting".into()))
}

/// What this process remembers of an object, dropped once it is gone.
async fn forget(hub: &Hub, uid: &str) {
    hub.ctx.journal.remove(uid);
    hub.ctx.followed.remove(uid);
    hub.ctx.aws.forget(uid).await;
}
