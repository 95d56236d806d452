//! The converge loop, the same for every kind: validate -> resolve references -> observe ->
//! desired -> plan -> record intents -> execute -> fold results into the model, repeated while
//! a pass changes something, then status.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use securecart_api::conditions::reason;
use securecart_api::{CommonStatus, CreateIntent};
use securecart_plan::conditions::{Readiness, Report, Sync};
use securecart_plan::intent::{self, Outcome};
use securecart_plan::plan::PlanStep;
use securecart_plan::{Choices, Context as PlanContext, InUse, Known};

use super::report::Reporter;
use super::{Cx, Hub, Kind, MAX_PASSES, Observe, Unresolved, is_paused};
use crate::context::Error;

pub(super) async fn apply<K: Kind>(obj: Arc<K>, api: &Api<K>, hub: &Hub) -> Result<Action, Error> {
    let ctx = &*hub.ctx;
    let mut r = Reporter::new(&*obj, api, ctx);
    if let Err(invalid) = obj.validate() {
        return r.invalid(invalid).await;
    }
    let owner = r.owner.clone();
    let cx = Cx { ctx, registry: &hub.registry, owner: &owner };
    let facts = match Box::pin(obj.resolve(&cx)).await {
        Ok(f) => f,
        Err(Unresolved::Waiting(what)) => {
            let message = format!("waiting for {what}");
            r.write(&Report::not_ready(reason::WAITING_FOR_DEPENDENCY, &message), None, None, None).await?;
            return Err(Error::WaitingForDependency(message));
        }
        Err(Unresolved::Invalid(invalid)) => return r.invalid(invalid).await,
        Err(Unresolved::Aws(e)) => return Err(r.aws_failed(e, false, None).await),
    };
    let Some(region) = obj.region(Some(&facts)) else {
        return Err(Error::WaitingForDependency("no region known yet".into()));
    };

    // Creates recorded by an earlier reconcile whose outcome this one does not know.
    let leftovers = r.intents();
    let legacy = r.status().is_some_and(|s| s.resources().is_empty() && K::legacy_status(s));
    let mut known = r.known();
    // A converged object's check reads a shared snapshot; what it then changes is a drift repair,
    // unless what its references publish changed since its last reconcile (it is following them).
    let drift = r.was_ready() && leftovers.is_empty();
    let references = hub.registry.published_digest(&owner.namespace, &obj.references());
    let repair = drift && ctx.followed.get::<u64>(&owner.uid).is_none_or(|d| d == references);
    // A duplicate the status lists is searched for until it is gone: a read by the kept IDs
    // would not see it, and it would stay.
    let searching = !leftovers.is_empty() || legacy || r.lists_duplicates();
    let how = Observe { known: &known, search: searching, drift };
    let mut observed = match Box::pin(obj.observe(&cx, &region, how)).await {
        Ok(o) => o,
        Err(e) => return Err(r.aws_failed(e, false, None).await),
    };
    let window = ctx.settings.consistency_window;
    let found: Known = obj.inventory(&owner, &observed).into_iter().collect();
    let open = intent::reconcile_leftovers(&leftovers, |c| found.contains_key(c), &intent::now(), window);
    let mut intents = open.open.clone();

    let in_use = in_use_of(hub, &*obj);
    let paused = is_paused(&*obj);
    let mut pass = 0;
    let (desired, plan) = loop {
        let desired = match obj.desired(&owner, &facts, &observed) {
            Ok(d) => d,
            Err(invalid) => return r.invalid(invalid).await,
        };
        remember(&mut known, obj.inventory(&owner, &observed));
        let chosen = Choices::default();
        let pcx = PlanContext { owner: &owner, known: &known, in_use: &in_use, chosen: Some(&chosen) };
        let planned = obj.plan(Some(&desired), &pcx, &observed);
        // The planner's pick among duplicates the status does not name becomes the named one.
        known.extend(chosen.take());
        // While a create's outcome is unknown and AWS may not show it yet, nothing is created;
        // a create answered after a retry holds back only another create of its component.
        let creating: Vec<&str> = planned.plan.steps.iter().filter_map(|s| s.creates()).collect();
        if planned.plan.is_empty() || pass == MAX_PASSES || paused || intent::holds_back(&intents, &creating) {
            break (desired, planned.plan);
        }
        pass += 1;
        for (why, message) in &planned.events {
            r.event(EventType::Normal, why, "Plan", message.clone()).await;
        }
        let now = intent::now();
        let creates: Vec<(String, String)> = planned
            .plan
            .steps
            .iter()
            .filter_map(|s| Some((s.creates()?.to_string(), serde_json::to_string(s).unwrap_or_default())))
            .collect();
        let (recorded, tokens) = intent::prepare(&intents, &owner.uid, &creates, &now);
        if !creates.is_empty() || pass == 1 {
            // Durable before the first call: the region, the zones, and what is about to be made.
            let fields = obj.status_fields(&facts, &desired, &observed, &known, &r.conditions(), &now);
            let message = format!("applying {} changes", planned.plan.steps.len());
            let inventory = known_first(obj.inventory(&owner, &observed), &known);
            r.write(&Report::progressing(message), Some(fields), Some(inventory), Some(recorded.clone())).await?;
        }
        ctx.aws.record_change(&owner.uid).await;
        tracing::info!(kind = K::KIND, namespace = %owner.namespace, name = %owner.name, %region, pass, steps = planned.plan.steps.len(), "executing plan");
        let execution = Box::pin(ctx.aws.execute(&region, &planned.plan, &tokens)).await;
        r.changes(&execution, repair).await;
        let outcomes = execution.create_outcomes(&planned.plan);
        intents = intent::settle(recorded, &outcomes, &intent::now());
        for e in &execution.executed {
            if let (Some(c), Some(id)) = (planned.plan.steps[e.index].creates(), &e.output.id) {
                known.insert(c.to_string(), id.clone());
            }
        }
        if !K::absorb(&mut observed, &planned.plan, &execution) {
            // A reconcile that had to search goes on searching: what only the search found (the
            // duplicate kept when none was recorded) is not in `known`, and a read by ID would
            // lose it and create it again.
            let search = searching || outcomes.values().any(|o| !matches!(o, Outcome::Confirmed | Outcome::NotCreated));
            observed = match Box::pin(obj.observe(&cx, &region, Observe { known: &known, search, drift: false })).await
            {
                Ok(o) => o,
                Err(e) => return Err(r.aws_failed(e, false, None).await),
            };
        }
        if let Some(error) = execution.error().cloned() {
            let fields = obj.status_fields(&facts, &desired, &observed, &known, &r.conditions(), &intent::now());
            let inventory = known_first(obj.inventory(&owner, &observed), &known);
            if error.code == "DependencyViolation" {
                // Something still uses what is being removed (a load balancer's interfaces in a
                // leaving subnet): that is sequencing, not failure.
                let detail = Box::pin(obj.explain_blocked(&cx, &region, &observed, &error))
                    .await
                    .unwrap_or_else(|| error.to_string());
                let report = Report::progressing(format!("waiting for {detail}"));
                r.write(&report, Some(fields), Some(inventory), Some(intents)).await?;
                return Err(Error::WaitingForDependency(detail));
            }
            r.write(&report_for(&error), Some(fields), Some(inventory), Some(intents)).await?;
            return Err(Error::Aws(error));
        }
    };

    let now = intent::now();
    let fields = obj.status_fields(&facts, &desired, &observed, &known, &r.conditions(), &now);
    let inventory = known_first(obj.inventory(&owner, &observed), &known);
    let pending = plan.steps.len();
    let readiness = if !intents.is_empty() {
        let (answered, lost): (Vec<&CreateIntent>, Vec<&CreateIntent>) =
            intents.iter().partition(|i| i.answered.is_some());
        let names = |v: &[&CreateIntent]| v.iter().map(|i| i.component.as_str()).collect::<Vec<_>>().join(", ");
        Readiness::progressing(match (lost.is_empty(), answered.is_empty()) {
            (false, _) => format!("confirming whether {} exist (a create's outcome was lost)", names(&lost)),
            _ => format!("looking for duplicates of {} (a create was retried)", names(&answered)),
        })
    } else if paused && pending > 0 {
        Readiness::not_ready(reason::PAUSED, format!("{pending} changes not applied while paused"))
    } else {
        obj.readiness(&desired, &observed, &plan)
    };
    let sync = match paused {
        true => {
            Sync::Paused { message: format!("paused by annotation {}", securecart_api::conditions::PAUSED_ANNOTATION) }
        }
        false => Sync::Synced,
    };
    let ready = readiness == Readiness::Ready;
    let report = Report { ready: Some(readiness), sync };
    let wait = open.wait(&now, window).or_else(|| (!intents.is_empty()).then_some(window));
    r.write(&report, Some(fields), Some(inventory), Some(intents)).await?;
    ctx.followed.put(&owner.uid, references);
    Ok(Action::requeue(match (ready, wait) {
        (_, Some(w)) => w.max(Duration::from_millis(500)),
        (true, None) if K::SHARED_CHECKS => next_check(ctx.settings.resync, std::time::SystemTime::now()),
        (true, None) => ctx.settings.resync,
        (false, None) => ctx.settings.progress,
    }))
}

/// When a converged object of a kind with shared checks is checked next: at the next multiple of
/// `resync` since the epoch that is at least half a period away. Every such object of the kind
/// comes due at the same moments, so the first check takes the region's snapshot and the rest
/// read it (one read per resource type per period, not one per half period as when the checks
/// are spread), and no object goes longer than one and a half periods unchecked.
fn next_check(resync: Duration, now: std::time::SystemTime) -> Duration {
    let period = resync.as_millis().max(1);
    let since_epoch = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    let mut wait = period - since_epoch % period;
    if wait < period / 2 {
        wait += period;
    }
    Duration::from_millis(wait as u64)
}

/// Adds the IDs `observed` holds to `known`. An ID already known and still there stays (the
/// status named it: between duplicates it is the one kept), and where duplicates exist and none
/// is known, none is chosen here: the planner's tie-break (what dependents use, then the oldest)
/// decides.
fn remember(known: &mut Known, inventory: Vec<(String, String)>) {
    let mut by_component: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (component, id) in inventory {
        by_component.entry(component).or_default().push(id);
    }
    for (component, ids) in by_component {
        if known.get(&component).is_some_and(|k| ids.contains(k)) {
            continue;
        }
        match ids.as_slice() {
            [only] => known.insert(component, only.clone()),
            _ => known.remove(&component),
        };
    }
}

/// The inventory with the known ID of each component before its duplicates, so the status
/// names it first and the next reconcile knows it again.
fn known_first(mut inventory: Vec<(String, String)>, known: &Known) -> Vec<(String, String)> {
    inventory.sort_by_key(|(component, id)| known.get(component) != Some(id));
    inventory
}

/// The report for an execution that failed.
fn report_for(error: &securecart_aws::AwsError) -> Report {
    let why = if error.is_terminal() { reason::AWS_REJECTED } else { reason::AWS_ERROR };
    Report::failed_change(why, error.to_string(), error.is_terminal())
}

/// AWS IDs the users of `obj` hold in it.
fn in_use_of<K: Kind>(hub: &Hub, obj: &K) -> InUse {
    let owner = super::owner_of(obj);
    let mut in_use: InUse = BTreeMap::new();
    for user in hub.registry.users_of(K::KIND, &owner.namespace, &owner.name) {
        for id in &user.holds {
            in_use.entry(id.clone()).or_default().push(user.to_string());
        }
    }
    in_use
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(c, id)| (c.to_string(), id.to_string())).collect()
    }

    #[test]
    fn shared_checks_come_due_together_at_least_half_a_period_away() {
        let resync = Duration::from_secs(300);
        let at = |secs: u64| std::time::UNIX_EPOCH + Duration::from_millis(secs * 1000 + 250);
        // Objects finishing their checks at different moments all come due at 6000 s.
        for finished in [5700, 5800, 5849] {
            let due = finished as f64 + 0.25 + next_check(resync, at(finished)).as_secs_f64();
            assert_eq!(due, 6000.0, "finished at {finished}");
        }
        // Less than half a period before a due moment: the one after it.
        let due = 5851.25 + next_check(resync, at(5851)).as_secs_f64();
        assert_eq!(due, 6300.0);
        for finished in (0..1200).step_by(7) {
            let wait = next_check(resync, at(finished));
            assert!(wait >= resync / 2 && wait <= resync * 3 / 2, "{wait:?} after {finished}");
        }
    }

    #[test]
    fn a_known_id_survives_a_duplicate_whatever_the_order() {
        for order in [[("igw", "igw-0aaa"), ("igw", "igw-0fff")], [("igw", "igw-0fff"), ("igw", "igw-0aaa")]] {
            let mut known = Known::from([("igw".to_string(), "igw-0fff".to_string())]);
            remember(&mut known, inventory(&order));
            assert_eq!(known["igw"], "igw-0fff", "the status-named gateway stays named");
        }
    }

    #[test]
    fn unknown_duplicates_are_left_to_the_planner_and_single_ids_are_learned() {
        let mut known = Known::from([("igw".to_string(), "igw-gone".to_string())]);
        remember(&mut known, inventory(&[("igw", "igw-1"), ("igw", "igw-2"), ("vpc", "vpc-1")]));
        assert_eq!(known.get("igw"), None, "no gateway is picked between two unknown ones");
        assert_eq!(known["vpc"], "vpc-1");
        remember(&mut known, inventory(&[("igw", "igw-2"), ("vpc", "vpc-1")]));
        assert_eq!(known["igw"], "igw-2");
    }
}
