//! A VpcTier's attachment to its hub: the attachment in one subnet per zone, its association
//! and its propagations. They are the VpcTier's, not the hub's. AWS allows one attachment per
//! VPC and transit gateway, so one of the VpcTier's own VPC to its hub that lacks the ownership
//! tags (a create whose tags were lost) is the VpcTier's: it is tagged, then managed.

use std::collections::BTreeMap;

use super::desired::{DesiredVpcAttachment, components};
use super::observed::VpcAttachment;
use super::planner::Planner;
use super::step::Step;
use crate::context::Context;
use crate::owner::{Rank, Tags, match_ranked, ownership_tags};
use crate::plan::{Plan, Ref};

/// Where the attachment goes: the VpcTier's VPC (kept, or being created) and its subnets.
pub struct VpcRefs<'a> {
    pub vpc: Option<&'a Ref>,
    /// The ID of the VPC the VpcTier owns, once it exists.
    pub vpc_id: Option<&'a str>,
    pub subnets: &'a BTreeMap<String, Ref>,
}

/// True when `a` is an attachment of the owner's VPC to `hub` that carries no ownership tags.
pub fn claimable(a: &VpcAttachment, vpc_id: Option<&str>, hub: Option<&str>) -> bool {
    !a.tags.contains_key(securecart_api::tags::OWNER_UID)
        && Some(a.vpc_id.as_str()) == vpc_id
        && Some(a.transit_gateway_id.as_str()) == hub
        && a.is_live()
}

/// The attachment that serves `desired`, if it exists (owned, or claimable).
pub fn kept<'a>(
    desired: &DesiredVpcAttachment,
    owner: &crate::Owner,
    vpc_id: Option<&str>,
    observed: &'a [VpcAttachment],
) -> Option<&'a VpcAttachment> {
    let mut candidates: Vec<&VpcAttachment> = observed
        .iter()
        .filter(|a| {
            a.is_live() && Some(a.vpc_id.as_str()) == vpc_id && a.transit_gateway_id == desired.transit_gateway_id
        })
        .filter(|a| owner.owns(&a.tags) || claimable(a, vpc_id, Some(&desired.transit_gateway_id)))
        .collect();
    candidates.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    candidates.first().copied()
}

/// The steps that take the VpcTier's attachments to `desired`; `hub` is the transit gateway it
/// attaches (or attached) to, for claiming and teardown.
pub fn plan(
    desired: Option<&DesiredVpcAttachment>,
    user_tags: &Tags,
    cx: &Context,
    refs: &VpcRefs,
    hub: Option<&str>,
    observed: &[VpcAttachment],
) -> Plan<Step> {
    let owner = cx.owner;
    let mut p = Planner { cx, user_tags: user_tags.clone(), plan: Plan::default() };
    let c = components::VPC_ATTACHMENT;
    // Claimable attachments count as owned, with the tags they get.
    let claim = |a: &VpcAttachment| claimable(a, refs.vpc_id, desired.map(|d| d.transit_gateway_id.as_str()).or(hub));
    let candidates: Vec<VpcAttachment> = observed
        .iter()
        .filter(|a| a.is_live())
        .map(|a| {
            let mut a = a.clone();
            if claim(&a) {
                a.tags.extend(ownership_tags(owner, c));
            }
            a
        })
        .collect();
    let matched = match_ranked(
        &candidates,
        cx,
        |a| &a.tags,
        |a| &a.id,
        |comp, a| {
            comp == c
                && desired.is_some_and(|d| a.transit_gateway_id == d.transit_gateway_id)
                && Some(a.vpc_id.as_str()) == refs.vpc_id
        },
        |a| Rank { named: cx.named(c, &a.id), dependents: 0, created: a.created.as_deref() },
    );
    let real_tags = |id: &str| observed.iter().find(|a| a.id == id).map(|a| a.tags.clone()).unwrap_or_default();
    if let Some(d) = desired {
        match matched.kept.get(c) {
            Some(a) => {
                p.check_tags(c, &a.id, &real_tags(&a.id));
                if a.state == "available" {
                    links(&mut p, d, a, refs.subnets);
                } else {
                    p.wait(format!("transit gateway attachment {} to become available (now {})", a.id, a.state));
                }
            }
            None => {
                match (refs.vpc, d.subnets.iter().map(|s| refs.subnets.get(s).cloned()).collect::<Option<Vec<Ref>>>()) {
                    (Some(vpc), Some(subnets)) => {
                        p.push(Step::CreateVpcAttachment {
                            component: c.into(),
                            transit_gateway_id: d.transit_gateway_id.clone(),
                            vpc: vpc.clone(),
                            subnets,
                            tags: p.tags(c),
                        });
                        p.wait("the transit gateway attachment to become available".into());
                    }
                    _ => p.wait("the attachment's subnets to exist".into()),
                }
            }
        }
    }
    for a in &matched.unwanted {
        p.push(Step::DeleteVpcAttachment { id: a.id.clone() });
    }
    for a in observed.iter().filter(|a| a.state == "deleting" && owner.owns(&a.tags)) {
        p.wait(format!("transit gateway attachment {} to finish deleting", a.id));
    }
    p.plan
}

/// Subnets, association and propagations of an available attachment.
fn links(p: &mut Planner, d: &DesiredVpcAttachment, a: &VpcAttachment, subnets: &BTreeMap<String, Ref>) {
    let want: Vec<Ref> = d.subnets.iter().filter_map(|s| subnets.get(s).cloned()).collect();
    let add: Vec<Ref> =
        want.iter().filter(|r| r.id().is_none_or(|id| !a.subnet_ids.iter().any(|s| s == id))).cloned().collect();
    let remove: Vec<String> =
        a.subnet_ids.iter().filter(|s| !want.iter().any(|r| r.id() == Some(s.as_str()))).cloned().collect();
    if !add.is_empty() || !remove.is_empty() {
        p.push(Step::ModifyVpcAttachment { attachment_id: a.id.clone(), add, remove });
    }
    match a.association.as_ref().filter(|(_, state)| state != "disassociated") {
        None => p.push(Step::Associate {
            route_table: Ref::Id(d.route_table_id.clone()),
            attachment_id: a.id.clone(),
            at: None,
        }),
        Some((table, state)) if table == &d.route_table_id => {
            if state != "associated" {
                p.wait(format!("attachment {} association to finish {state}", a.id));
            }
        }
        // AWS allows one association: the old one goes, the new one comes on a later pass.
        Some((table, state)) if state == "associated" => {
            p.push(Step::Disassociate { route_table_id: table.clone(), attachment_id: a.id.clone(), at: None });
            p.wait(format!("attachment {} to leave hub route table {table}", a.id));
        }
        Some((table, state)) => p.wait(format!("attachment {} to leave hub route table {table} (now {state})", a.id)),
    }
    let state_of = |table: &String| a.propagations.iter().find(|(t, _)| t == table).map(|(_, s)| s.as_str());
    for table in &d.propagate_to {
        match state_of(table) {
            Some("enabled") => {}
            Some("enabling") => p.wait(format!("attachment {} propagation to {table} to be enabled", a.id)),
            _ => p.push(Step::EnablePropagation { route_table: Ref::Id(table.clone()), attachment_id: a.id.clone() }),
        }
    }
    for (table, state) in &a.propagations {
        if state == "enabled" && !d.propagate_to.contains(table) && d.hub_route_table_ids.contains(table) {
            p.push(Step::DisablePropagation { route_table_id: table.clone(), attachment_id: a.id.clone() });
        }
    }
}
