//! VpcPeering: validate the spec, resolve each side's route tables from the tiers named, build
//! the peering it asks for (refusing overlapping blocks, which AWS refuses too) and report the
//! status. The peering itself is planned by the peering module.

use ipnet::Ipv4Net;
use securecart_api::{SubnetStatus, VpcPeeringSpec, VpcPeeringStatus, VpcTierSpec};

use crate::owner::Owner;
use crate::peering::{self, COMPONENT, Observed};
use crate::plan::Location;
use crate::{InvalidSpec, Known};

/// One side of the peering as the planner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    pub vpc_id: String,
    pub cidr_block: String,
    pub region: String,
    pub account_id: String,
    pub route_table_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub requester: Side,
    pub accepter: Side,
    /// The role the accepter's side is reached through, if any.
    pub accepter_role_arn: Option<String>,
}

impl Facts {
    /// Where the accepter's side is acted on; None when it is the requester's region and account.
    pub fn accepter_at(&self) -> Option<Location> {
        Location { region: self.accepter.region.clone(), role_arn: self.accepter_role_arn.clone() }
            .unless_home(&self.requester.region)
    }
}

/// The spec on its own.
pub fn validate(spec: &VpcPeeringSpec) -> Result<(), InvalidSpec> {
    let bad = |m: String| Err(InvalidSpec(m));
    let a = &spec.accepter;
    match (&a.vpc_tier_ref, &a.external) {
        (Some(_), None) => {}
        (None, Some(x)) => {
            if !a.route_tiers.is_empty() {
                return bad(
                    "spec.accepter.routeTiers apply to a vpcTierRef; an external accepter lists routeTableIds".into()
                );
            }
            if let Some(role) = &x.role_arn
                && role.split(':').nth(4) != Some(x.account_id.as_str())
            {
                return bad(format!(
                    "spec.accepter.external.roleArn: {role} is not a role of account {}",
                    x.account_id
                ));
            }
        }
        _ => return bad("spec.accepter: set exactly one of vpcTierRef and external".into()),
    }
    if let Some(key) = spec.tags.keys().find(|k| k.starts_with("aws:") || k.starts_with(securecart_api::tags::PREFIX)) {
        return bad(format!("spec.tags: key {key:?} is reserved"));
    }
    Ok(())
}

/// The route tables of `tiers` in a VpcTier, from its status. A tier the VpcTier lacks is an
/// invalid spec; None while the VpcTier has not reported a route table for one of them.
pub fn route_tables_for(
    tiers: &[String],
    field: &str,
    vpc_tier: &str,
    spec: &VpcTierSpec,
    subnets: &[SubnetStatus],
) -> Result<Option<Vec<String>>, InvalidSpec> {
    let mut out = Vec::new();
    for (i, tier) in tiers.iter().enumerate() {
        if !spec.tiers.iter().any(|t| &t.name == tier) {
            return Err(InvalidSpec(format!("{field}[{i}]: VpcTier {vpc_tier} has no tier {tier:?}")));
        }
        let of_tier: Vec<&SubnetStatus> = subnets.iter().filter(|s| &s.tier == tier).collect();
        if of_tier.is_empty() || of_tier.iter().any(|s| s.route_table_id.is_none()) {
            return Ok(None);
        }
        for s in of_tier {
            let id = s.route_table_id.clone().unwrap_or_default();
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    Ok(Some(out))
}

/// Whether two IPv4 blocks share an address.
pub fn overlap(a: &str, b: &str) -> bool {
    match (a.parse::<Ipv4Net>(), b.parse::<Ipv4Net>()) {
        (Ok(a), Ok(b)) => a.contains(&b) || b.contains(&a),
        _ => false,
    }
}

/// The peering the spec asks for between the resolved sides. `own_account` is the account of the
/// controller's own credentials.
pub fn desired(
    spec: &VpcPeeringSpec,
    owner: &Owner,
    facts: &Facts,
    own_account: &str,
) -> Result<peering::Desired, InvalidSpec> {
    validate(spec)?;
    let (r, a) = (&facts.requester, &facts.accepter);
    if overlap(&r.cidr_block, &a.cidr_block) {
        return Err(InvalidSpec(format!(
            "spec.accepter: its VPC block {} overlaps the requester's {}; AWS does not peer overlapping VPCs",
            a.cidr_block, r.cidr_block
        )));
    }
    if a.account_id != own_account && facts.accepter_role_arn.is_none() {
        return Err(InvalidSpec(format!(
            "spec.accepter.external.roleArn: the accepter is in account {}, not the controller's ({own_account}): a role there is needed to accept",
            a.account_id
        )));
    }
    Ok(peering::Desired {
        owner: owner.clone(),
        user_tags: spec.tags.clone(),
        requester_vpc_id: r.vpc_id.clone(),
        requester_cidr: r.cidr_block.clone(),
        accepter_vpc_id: a.vpc_id.clone(),
        accepter_cidr: a.cidr_block.clone(),
        accepter_account_id: (a.account_id != r.account_id).then(|| a.account_id.clone()),
        accepter_region: (a.region != r.region).then(|| a.region.clone()),
        accepter_at: facts.accepter_at(),
        requester_route_tables: r.route_table_ids.clone(),
        accepter_route_tables: a.route_table_ids.clone(),
        allow_dns_resolution: spec.allow_dns_resolution,
    })
}

/// The status: the connection and the route tables holding routes to it.
/// `known` names the connection kept among duplicates (a retried create can make two).
pub fn status(facts: &Facts, owner: &Owner, observed: &Observed, known: &Known) -> VpcPeeringStatus {
    let candidates = observed.connections.iter().filter(|c| {
        owner.owns(&c.tags)
            && (c.is_live() || c.is_dead())
            && crate::owner::component(&c.tags) == Some(COMPONENT)
            && c.requester_vpc_id == facts.requester.vpc_id
            && c.accepter_vpc_id == facts.accepter.vpc_id
    });
    let connection = crate::owner::kept_or_first(candidates, known, COMPONENT, |c| &c.id);
    let holding = |tables: &[crate::network::RouteTable]| -> Vec<String> {
        tables
            .iter()
            .filter(|t| {
                t.routes
                    .iter()
                    .any(|r| connection.is_some_and(|c| r.vpc_peering_connection_id.as_deref() == Some(c.id.as_str())))
            })
            .map(|t| t.id.clone())
            .collect()
    };
    VpcPeeringStatus {
        region: Some(facts.requester.region.clone()),
        vpc_peering_connection_id: connection.map(|c| c.id.clone()),
        state: connection.map(|c| c.state.clone()),
        requester_vpc_id: Some(facts.requester.vpc_id.clone()),
        accepter_vpc_id: Some(facts.accepter.vpc_id.clone()),
        requester_route_table_ids: holding(&observed.route_tables),
        accepter_route_table_ids: holding(&observed.accepter_route_tables),
        ..Default::default()
    }
}
