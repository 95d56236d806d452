//! Every kind the operator serves, each on the one engine.

pub mod global_entrypoint;
pub mod load_balancer_policy;
pub mod partner_api;
pub mod private_endpoint;
pub mod transit_gateway;
pub mod vpc_peering;
pub mod vpc_tier;

use securecart_api::CommonStatus;

use crate::engine::{Cx, Observe};

/// Every (component, ID) the status records, several for one component included (a replacement
/// under way; the engine's `known` keeps one per component), and what this reconcile created
/// since: what observation reads by ID. The status is the one this process last wrote, else the
/// object's.
pub(crate) fn recorded<S: CommonStatus + Send + Sync + 'static>(
    cx: &Cx<'_>,
    status: Option<&S>,
    how: Observe<'_>,
) -> Vec<(String, String)> {
    let written = cx.ctx.journal.get::<S>(&cx.owner.uid);
    let status = written.as_ref().or(status);
    let mut out: Vec<(String, String)> =
        status.iter().flat_map(|s| s.resources()).map(|r| (r.component.clone(), r.id.clone())).collect();
    for (component, id) in how.known {
        if !out.iter().any(|(c, i)| c == component && i == id) {
            out.push((component.clone(), id.clone()));
        }
    }
    out
}

/// The IDs recorded for components that pass `is`.
pub(crate) fn ids(recorded: &[(String, String)], is: impl Fn(&str) -> bool) -> Vec<String> {
    recorded.iter().filter(|(c, _)| is(c)).map(|(_, id)| id.clone()).collect()
}
