//! Matching an owner's network against the desired one (by ownership tags, in three sets:
//! matched, desired-only, AWS-only) and planning the difference. Teardown is the same planner
//! with nothing desired.

use std::collections::{BTreeMap, BTreeSet};

use securecart_api::TierType;

use super::desired::{DefaultRoute, Desired, DesiredFlowLog, DesiredSubnet, FlowLogTarget, components};
use super::observed::{FlowLog, NatGateway, Observed, RouteTable};
use super::step::{RouteTarget, Step, VpcAttribute};
use crate::context::Context;
use crate::owner::{Rank, Tags, match_ranked, missing_tags};
use crate::plan::{Plan, Ref};

pub const DEFAULT_ROUTE: &str = "0.0.0.0/0";

struct Planner<'a> {
    cx: &'a Context<'a>,
    user_tags: Tags,
    plan: Plan<Step>,
}

impl Planner<'_> {
    fn push(&mut self, step: Step) {
        self.plan.steps.push(step);
    }
    fn wait(&mut self, why: String) {
        self.plan.waiting.push(why);
    }
    fn tags(&self, component: &str) -> Tags {
        self.cx.owner.tags(component, &self.user_tags)
    }
    /// Rewrites tags that are missing or changed on an existing resource.
    fn check_tags(&mut self, component: &str, id: &str, actual: &Tags) {
        let missing = missing_tags(&self.tags(component), actual);
        if !missing.is_empty() {
            self.push(Step::SetTags { resource_id: id.into(), component: component.into(), tags: missing });
        }
    }
    /// Whether objects that use this one still hold `id`; if so, says so and keeps it.
    fn held(&mut self, what: &str, id: &str) -> bool {
        match self.cx.users_of(id) {
            Some(users) => {
                self.wait(format!("{what} {id} to be released by {}", users.join(", ")));
                true
            }
            None => false,
        }
    }
}

/// What later planners of the same VPC need from this one: the VPC and its subnets, existing or
/// about to be created.
#[derive(Clone, Debug, Default)]
pub struct Refs {
    pub vpc: Option<Ref>,
    /// The owned VPC's ID, once it exists.
    pub vpc_id: Option<String>,
    pub subnets: BTreeMap<String, Ref>,
}

/// The steps that take `observed` to `desired`; with `desired = None`, the teardown.
pub fn plan(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> Plan<Step> {
    plan_with_refs(desired, cx, observed).0
}

/// [`plan`], and the references to the VPC and subnets its steps create or keep.
pub fn plan_with_refs(desired: Option<&Desired>, cx: &Context, observed: &Observed) -> (Plan<Step>, Refs) {
    let owner = cx.owner;
    let mut p =
        Planner { cx, user_tags: desired.map(|d| d.user_tags.clone()).unwrap_or_default(), plan: Plan::default() };
    let set = |f: &dyn Fn(&Desired) -> Vec<String>| {
        desired.map(f).map(|v| v.into_iter().collect::<BTreeSet<_>>()).unwrap_or_default()
    };
    let want_subnets: BTreeMap<String, &DesiredSubnet> =
        desired.map(|d| d.subnets.iter().map(|s| (s.component.clone(), s)).collect()).unwrap_or_default();
    let want_tables = set(&|d| d.route_tables.iter().map(|t| t.component.clone()).collect());
    let want_nats = set(&|d| d.nat_gateways.iter().map(|n| n.component.clone()).collect());
    let want_addresses = set(&|d| d.nat_gateways.iter().map(|n| n.address.clone()).collect());
    let named = |c: &str, id: &str| cx.named(c, id);
    let owned_subnets_in =
        |vpc_id: &str| observed.subnets.iter().filter(|s| s.vpc_id == vpc_id && owner.owns(&s.tags)).count();

    // VPC: of duplicates, the one the status names, else the one holding subnets.
    let vpcs = match_ranked(
        &observed.vpcs,
        cx,
        |v| &v.tags,
        |v| &v.id,
        |c, v| c == components::VPC && desired.is_some_and(|d| v.cidr_block == d.cidr_block.to_string()),
        |v| Rank { named: named(components::VPC, &v.id), dependents: owned_subnets_in(&v.id), created: None },
    );
    let vpc = vpcs.kept.get(components::VPC).copied();
    let vpc_ref = match (desired, vpc) {
        (Some(_), Some(v)) => {
            p.check_tags(components::VPC, &v.id, &v.tags);
            for (attribute, actual) in
                [(VpcAttribute::EnableDnsSupport, v.dns_support), (VpcAttribute::EnableDnsHostnames, v.dns_hostnames)]
            {
                if actual == Some(false) {
                    p.push(Step::SetVpcAttribute { vpc: Ref::Id(v.id.clone()), attribute, value: true });
                }
            }
            Some(Ref::Id(v.id.clone()))
        }
        (Some(d), None) => {
            p.push(Step::CreateVpc {
                component: components::VPC.into(),
                cidr_block: d.cidr_block.to_string(),
                tags: p.tags(components::VPC),
            });
            // New VPCs have DNS support on and DNS hostnames off.
            let vpc = Ref::Created(components::VPC.into());
            p.push(Step::SetVpcAttribute {
                vpc: vpc.clone(),
                attribute: VpcAttribute::EnableDnsHostnames,
                value: true,
            });
            Some(vpc)
        }
        (None, _) => None,
    };
    let in_vpc = |vpc_id: &str| vpc.is_some_and(|v| v.id == vpc_id);

    // Subnets
    let subnets = match_ranked(
        &observed.subnets,
        cx,
        |s| &s.tags,
        |s| &s.id,
        |c, s| {
            in_vpc(&s.vpc_id)
                && want_subnets.get(c).is_some_and(|d| d.cidr_block.to_string() == s.cidr_block && d.zone == s.zone)
        },
        |s| Rank { named: crate::owner::component(&s.tags).is_some_and(|c| named(c, &s.id)), ..Rank::default() },
    );
    let mut subnet_refs: BTreeMap<String, Ref> = BTreeMap::new();
    if let Some(vpc_ref) = &vpc_ref {
        for d in want_subnets.values() {
            let public = d.tier_type == TierType::Public;
            let subnet_ref = match subnets.kept.get(&d.component) {
                Some(s) => {
                    p.check_tags(&d.component, &s.id, &s.tags);
                    if s.map_public_ip_on_launch != public {
                        p.push(Step::SetSubnetPublicIpOnLaunch { subnet: Ref::Id(s.id.clone()), value: public });
                    }
                    Ref::Id(s.id.clone())
                }
                None => {
                    p.push(Step::CreateSubnet {
                        component: d.component.clone(),
                        vpc: vpc_ref.clone(),
                        cidr_block: d.cidr_block.to_string(),
                        zone: d.zone.clone(),
                        tags: p.tags(&d.component),
                    });
                    let r = Ref::Created(d.component.clone());
                    if public {
                        p.push(Step::SetSubnetPublicIpOnLaunch { subnet: r.clone(), value: true });
                    }
                    r
                }
            };
            subnet_refs.insert(d.component.clone(), subnet_ref);
        }
    }

    // Internet gateway. Of duplicates, the one attached to the VPC wins over the one the status
    // names: detaching the attached one while NAT gateways map public addresses would fail.
    let igws = match_ranked(
        &observed.internet_gateways,
        cx,
        |g| &g.tags,
        |g| &g.id,
        |c, _| c == components::INTERNET_GATEWAY && desired.is_some_and(|d| d.internet_gateway),
        |g| Rank {
            named: vpc.is_some_and(|v| g.attached_vpc_ids.contains(&v.id)),
            dependents: usize::from(named(components::INTERNET_GATEWAY, &g.id)),
            created: None,
        },
    );
    let kept_igw = igws.kept.get(components::INTERNET_GATEWAY).copied();
    let igw_ref = match (desired.filter(|d| d.internet_gateway), &vpc_ref) {
        (Some(_), Some(vpc_ref)) => Some(match kept_igw {
            Some(g) => {
                p.check_tags(components::INTERNET_GATEWAY, &g.id, &g.tags);
                let attached = vpc.is_some_and(|v| g.attached_vpc_ids.contains(&v.id));
                if !attached {
                    // A gateway attaches to one VPC: on a stray twin of this owner's VPC (a crash
                    // between two creates), it comes off that one first.
                    for twin in g.attached_vpc_ids.iter().filter(|id| vpcs.unwanted.iter().any(|u| &u.id == *id)) {
                        p.push(Step::DetachInternetGateway { id: g.id.clone(), vpc_id: twin.clone() });
                    }
                    p.push(Step::AttachInternetGateway {
                        internet_gateway: Ref::Id(g.id.clone()),
                        vpc: vpc_ref.clone(),
                    });
                }
                Ref::Id(g.id.clone())
            }
            None => {
                let c = components::INTERNET_GATEWAY;
                p.push(Step::CreateInternetGateway { component: c.into(), tags: p.tags(c) });
                let r = Ref::Created(c.into());
                p.push(Step::AttachInternetGateway { internet_gateway: r.clone(), vpc: vpc_ref.clone() });
                r
            }
        }),
        _ => None,
    };

    // Elastic IPs and NAT gateways
    let nat_holding = |allocation_id: &str| {
        observed.nat_gateways.iter().any(|n| n.is_live() && n.allocation_id.as_deref() == Some(allocation_id))
    };
    let addresses = match_ranked(
        &observed.addresses,
        cx,
        |a| &a.tags,
        |a| &a.allocation_id,
        |c, _| want_addresses.contains(c),
        |a| Rank {
            named: crate::owner::component(&a.tags).is_some_and(|c| named(c, &a.allocation_id)),
            dependents: usize::from(nat_holding(&a.allocation_id)),
            created: None,
        },
    );
    let live_nats: Vec<NatGateway> = observed.nat_gateways.iter().filter(|n| n.is_live()).cloned().collect();
    let nats = match_ranked(
        &live_nats,
        cx,
        |n| &n.tags,
        |n| &n.id,
        |c, n| {
            want_nats.contains(c)
                && desired.is_some_and(|d| {
                    d.nat_gateways.iter().any(|dn| {
                        dn.component == c && subnet_refs.get(&dn.subnet).and_then(Ref::id) == Some(n.subnet_id.as_str())
                    })
                })
        },
        |n| Rank {
            named: crate::owner::component(&n.tags).is_some_and(|c| named(c, &n.id)),
            dependents: 0,
            created: n.created.as_deref(),
        },
    );
    let mut nat_ids: BTreeMap<String, String> = BTreeMap::new();
    for d in desired.map(|d| d.nat_gateways.as_slice()).unwrap_or_default() {
        let address_ref = match addresses.kept.get(&d.address) {
            Some(a) => {
                p.check_tags(&d.address, &a.allocation_id, &a.tags);
                Ref::Id(a.allocation_id.clone())
            }
            None => {
                p.push(Step::AllocateAddress { component: d.address.clone(), tags: p.tags(&d.address) });
                Ref::Created(d.address.clone())
            }
        };
        match nats.kept.get(&d.component) {
            Some(n) => {
                p.check_tags(&d.component, &n.id, &n.tags);
                if n.state == "available" {
                    nat_ids.insert(d.component.clone(), n.id.clone());
                } else {
                    p.wait(format!("NAT gateway {} ({}) to become available", n.id, d.zone));
                }
            }
            None => {
                if let Some(subnet) = subnet_refs.get(&d.subnet) {
                    p.push(Step::CreateNatGateway {
                        component: d.component.clone(),
                        subnet: subnet.clone(),
                        address: address_ref,
                        tags: p.tags(&d.component),
                    });
                    p.wait(format!("NAT gateway {} to become available", d.component));
                }
            }
        }
    }

    // Route tables, default routes and associations
    let tables = match_ranked(
        &observed.route_tables,
        cx,
        |t| &t.tags,
        |t| &t.id,
        |c, t| want_tables.contains(c) && in_vpc(&t.vpc_id),
        |t| Rank {
            named: crate::owner::component(&t.tags).is_some_and(|c| named(c, &t.id)),
            dependents: t.associations.len(),
            created: None,
        },
    );
    let mut table_refs: BTreeMap<String, Ref> = BTreeMap::new();
    if let (Some(d), Some(vpc_ref)) = (desired, &vpc_ref) {
        for want in &d.route_tables {
            let observed_table = tables.kept.get(&want.component).copied();
            let table_ref = match observed_table {
                Some(t) => {
                    p.check_tags(&want.component, &t.id, &t.tags);
                    Ref::Id(t.id.clone())
                }
                None => {
                    p.push(Step::CreateRouteTable {
                        component: want.component.clone(),
                        vpc: vpc_ref.clone(),
                        tags: p.tags(&want.component),
                    });
                    Ref::Created(want.component.clone())
                }
            };
            let current = observed_table.and_then(|t| t.routes.iter().find(|r| r.destination == DEFAULT_ROUTE));
            let target = match &want.default_route {
                None => None,
                Some(DefaultRoute::InternetGateway) => igw_ref.clone().map(RouteTarget::InternetGateway),
                Some(DefaultRoute::NatGateway(nat)) => {
                    nat_ids.get(nat).map(|id| RouteTarget::NatGateway(Ref::Id(id.clone())))
                }
            };
            match (target, current) {
                (Some(target), None) => p.push(Step::CreateRoute {
                    route_table: table_ref.clone(),
                    destination: DEFAULT_ROUTE.into(),
                    target,
                }),
                (Some(target), Some(route)) => {
                    let matches = match &target {
                        RouteTarget::InternetGateway(r) => r.id().is_some() && route.gateway_id.as_deref() == r.id(),
                        RouteTarget::NatGateway(r) => route.nat_gateway_id.as_deref() == r.id(),
                        RouteTarget::TransitGateway(r) => route.transit_gateway_id.as_deref() == r.id(),
                    };
                    if !matches {
                        p.push(Step::ReplaceRoute {
                            route_table: table_ref.clone(),
                            destination: DEFAULT_ROUTE.into(),
                            target,
                        });
                    }
                }
                // A NAT gateway still pending: its route comes on a later pass.
                (None, Some(_)) if want.default_route.is_some() => {}
                // A default route to a transit gateway or a peering is its owner's.
                (None, Some(route)) if route.targets_a_link() => {}
                (None, Some(_)) => {
                    if let Some(t) = observed_table {
                        p.push(Step::DeleteRoute { route_table_id: t.id.clone(), destination: DEFAULT_ROUTE.into() });
                    }
                }
                (None, None) => {}
            }
            table_refs.insert(want.component.clone(), table_ref);
        }
    }
    let owned_tables: Vec<&RouteTable> = tables.kept.values().copied().chain(tables.unwanted.iter().copied()).collect();
    transit_routes(&mut p, desired, observed, vpc.map(|v| v.id.as_str()), &tables.kept, &table_refs);
    let mut moved_associations = BTreeSet::new();
    for d in want_subnets.values() {
        let (Some(subnet_ref), Some(table_ref)) = (subnet_refs.get(&d.component), table_refs.get(&d.route_table))
        else {
            continue;
        };
        let current = subnet_ref.id().and_then(|sid| {
            owned_tables
                .iter()
                .find_map(|t| t.associations.iter().find(|a| a.subnet_id.as_deref() == Some(sid)).map(|a| (*t, a)))
        });
        match current {
            Some((t, _)) if Some(t.id.as_str()) == table_ref.id() => {}
            Some((_, a)) => {
                moved_associations.insert(a.id.clone());
                p.push(Step::ReplaceRouteTableAssociation {
                    association_id: a.id.clone(),
                    route_table: table_ref.clone(),
                });
            }
            None => p.push(Step::AssociateRouteTable { route_table: table_ref.clone(), subnet: subnet_ref.clone() }),
        }
    }

    // Flow log
    let vpc_id = vpc.map(|v| v.id.as_str());
    let flow_logs = match_ranked(
        &observed.flow_logs,
        cx,
        |f| &f.tags,
        |f| &f.id,
        |c, f| {
            c == components::FLOW_LOG
                && Some(f.resource_id.as_str()) == vpc_id
                && desired.and_then(|d| d.flow_log.as_ref()).is_some_and(|want| flow_log_matches(want, f))
        },
        |f| Rank { named: named(components::FLOW_LOG, &f.id), dependents: 0, created: f.created.as_deref() },
    );
    if let (Some(want), Some(vpc_ref)) = (desired.and_then(|d| d.flow_log.as_ref()), &vpc_ref) {
        match flow_logs.kept.get(components::FLOW_LOG) {
            Some(f) => p.check_tags(components::FLOW_LOG, &f.id, &f.tags),
            None => p.push(Step::CreateFlowLog {
                component: components::FLOW_LOG.into(),
                vpc: vpc_ref.clone(),
                traffic_type: want.traffic_type.clone(),
                destination: want.destination.clone(),
                tags: p.tags(components::FLOW_LOG),
            }),
        }
    }

    // AWS-only: deleted after everything else (the ordering puts deletes last, in reverse).
    for f in &flow_logs.unwanted {
        p.push(Step::DeleteFlowLog { id: f.id.clone() });
    }
    for t in &tables.unwanted {
        if p.held("route table", &t.id) {
            continue;
        }
        for a in t.associations.iter().filter(|a| !a.main && !moved_associations.contains(&a.id)) {
            p.push(Step::DisassociateRouteTable { association_id: a.id.clone() });
        }
        p.push(Step::DeleteRouteTable { id: t.id.clone() });
    }
    for n in &nats.unwanted {
        p.push(Step::DeleteNatGateway { id: n.id.clone() });
    }
    let owned_nats: Vec<&NatGateway> =
        observed.nat_gateways.iter().filter(|n| owner.owns(&n.tags) && n.holds_resources()).collect();
    for a in &addresses.unwanted {
        match owned_nats.iter().find(|n| n.allocation_id.as_deref() == Some(a.allocation_id.as_str())) {
            Some(n) => p.wait(format!("NAT gateway {} to release Elastic IP {}", n.id, a.allocation_id)),
            None => p.push(Step::ReleaseAddress { allocation_id: a.allocation_id.clone() }),
        }
    }
    for s in &subnets.unwanted {
        if p.held("subnet", &s.id) {
            continue;
        }
        let attachment =
            observed.transit_attachments.iter().find(|a| a.holds_subnets() && a.subnet_ids.contains(&s.id));
        match (owned_nats.iter().find(|n| n.subnet_id == s.id), attachment) {
            (Some(n), _) => p.wait(format!("NAT gateway {} to leave subnet {}", n.id, s.id)),
            (None, Some(a)) => p.wait(format!("transit gateway attachment {} to leave subnet {}", a.id, s.id)),
            (None, None) => p.push(Step::DeleteSubnet { id: s.id.clone() }),
        }
    }
    for g in &igws.unwanted {
        // EC2 refuses to detach the gateway a VPC reaches the internet through while NAT gateways
        // there map public addresses. A stray second gateway is not that one: while the kept
        // gateway stays attached to the same VPC, the stray one simply goes.
        let stays_connected = |vpc_id: &String| kept_igw.is_some_and(|k| k.attached_vpc_ids.contains(vpc_id));
        let in_attached_vpc = |n: &&&NatGateway| {
            observed
                .subnets
                .iter()
                .any(|s| s.id == n.subnet_id && g.attached_vpc_ids.contains(&s.vpc_id) && !stays_connected(&s.vpc_id))
        };
        if let Some(n) = owned_nats.iter().find(in_attached_vpc) {
            p.wait(format!(
                "NAT gateway {} to release its public address before internet gateway {} is detached",
                n.id, g.id
            ));
            continue;
        }
        for v in &g.attached_vpc_ids {
            p.push(Step::DetachInternetGateway { id: g.id.clone(), vpc_id: v.clone() });
        }
        p.push(Step::DeleteInternetGateway { id: g.id.clone() });
    }
    // A VPC goes last, once nothing in it is still waiting to go: a NAT gateway (live or
    // deleting) in one of its subnets, or a subnet or route table its users still hold.
    let vpc_of_subnet = |id: &str| observed.subnets.iter().find(|s| s.id == id).map(|s| s.vpc_id.as_str());
    for v in &vpcs.unwanted {
        let nat_inside = owned_nats.iter().any(|n| vpc_of_subnet(&n.subnet_id) == Some(v.id.as_str()));
        let held_inside = subnets.unwanted.iter().any(|s| s.vpc_id == v.id && cx.users_of(&s.id).is_some())
            || tables.unwanted.iter().any(|t| t.vpc_id == v.id && cx.users_of(&t.id).is_some());
        let attached = observed.transit_attachments.iter().any(|a| a.vpc_id == v.id && a.holds_subnets());
        if nat_inside || held_inside || attached {
            p.wait(format!("VPC {} deletion waits for its subnets and Elastic IPs", v.id));
        } else {
            p.push(Step::DeleteVpc { id: v.id.clone() });
        }
    }
    let refs = Refs { vpc: vpc_ref, vpc_id: vpc.map(|v| v.id.clone()), subnets: subnet_refs };
    (p.plan, refs)
}

/// Routes to the hub in the VPC's route tables, for the destinations and tiers the spec lists:
/// made once the attachment is available; a route to a transit gateway the VpcTier attaches (or
/// attached) to that is no longer listed goes. A route with another target is never replaced.
fn transit_routes(
    p: &mut Planner,
    desired: Option<&Desired>,
    observed: &Observed,
    vpc_id: Option<&str>,
    kept: &BTreeMap<String, &RouteTable>,
    table_refs: &BTreeMap<String, Ref>,
) {
    let owner = p.cx.owner;
    let want = desired.and_then(|d| d.transit.as_ref());
    let hub = want.map(|w| w.transit_gateway_id.as_str());
    // Transit gateways whose routes here are the VpcTier's: its hub, and any it has an attachment to.
    let mut hubs: BTreeSet<&str> = hub.into_iter().collect();
    hubs.extend(
        observed
            .transit_attachments
            .iter()
            .filter(|a| owner.owns(&a.tags) || crate::transit::attachment::claimable(a, vpc_id, hub))
            .map(|a| a.transit_gateway_id.as_str()),
    );
    let wanted = |table: &str, destination: &str, target: &str| {
        want.is_some_and(|w| {
            w.transit_gateway_id == target && w.routes.iter().any(|(t, d)| t == table && d == destination)
        })
    };
    for (component, t) in kept {
        for r in &t.routes {
            let Some(target) = r.transit_gateway_id.as_deref().filter(|g| hubs.contains(g)) else { continue };
            if !wanted(component, &r.destination, target) {
                p.push(Step::DeleteRoute { route_table_id: t.id.clone(), destination: r.destination.clone() });
            }
        }
    }
    let Some(want) = want else { return };
    let ready = desired
        .and_then(|d| crate::transit::attachment::kept(want, &d.owner, vpc_id, &observed.transit_attachments))
        .is_some_and(|a| a.state == "available");
    for (component, destination) in &want.routes {
        let Some(table_ref) = table_refs.get(component) else { continue };
        let current = kept.get(component).and_then(|t| t.routes.iter().find(|r| &r.destination == destination));
        match current {
            None if ready => p.push(Step::CreateRoute {
                route_table: table_ref.clone(),
                destination: destination.clone(),
                target: RouteTarget::TransitGateway(Ref::Id(want.transit_gateway_id.clone())),
            }),
            None => p.wait(format!("the transit gateway attachment to be available before route {destination}")),
            Some(r) if r.transit_gateway_id.as_deref() == Some(want.transit_gateway_id.as_str()) => {}
            Some(r) => p.wait(format!(
                "route {destination} in {component} targets {}: not this VpcTier's to replace with the transit gateway",
                r.gateway_id
                    .as_deref()
                    .or(r.nat_gateway_id.as_deref())
                    .or(r.transit_gateway_id.as_deref())
                    .or(r.vpc_peering_connection_id.as_deref())
                    .unwrap_or("something else")
            )),
        }
    }
}

fn flow_log_matches(want: &DesiredFlowLog, f: &FlowLog) -> bool {
    if f.traffic_type != want.traffic_type {
        return false;
    }
    match &want.destination {
        FlowLogTarget::S3 { bucket_arn } => {
            f.destination_type == "s3"
                && f.destination.as_deref().map(|d| d.trim_end_matches('/')) == Some(bucket_arn.trim_end_matches('/'))
        }
        FlowLogTarget::CloudWatchLogs { log_group, role_arn } => {
            f.destination_type == "cloud-watch-logs"
                && f.log_group.as_deref() == Some(log_group)
                && f.role_arn.as_deref() == Some(role_arn)
        }
    }
}

/// True when `observed` still holds anything this owner owns (teardown is done when false).
pub fn owns_anything(owner: &crate::Owner, observed: &Observed) -> bool {
    observed.vpcs.iter().any(|r| owner.owns(&r.tags))
        || observed.subnets.iter().any(|r| owner.owns(&r.tags))
        || observed.internet_gateways.iter().any(|r| owner.owns(&r.tags))
        || observed.route_tables.iter().any(|r| owner.owns(&r.tags))
        || observed.nat_gateways.iter().any(|r| owner.owns(&r.tags) && r.holds_resources())
        || observed.addresses.iter().any(|r| owner.owns(&r.tags))
        || observed.flow_logs.iter().any(|r| owner.owns(&r.tags))
        || observed.transit_attachments.iter().any(|a| owner.owns(&a.tags) && a.holds_subnets())
        || observed.subnet_groups.iter().any(|g| owner.owns(&g.tags))
}
