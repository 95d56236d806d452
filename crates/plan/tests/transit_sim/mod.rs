//! A small model of the EC2 transit gateway and VPN APIs and of Direct Connect gateway
//! associations, strict where AWS is strict: nothing can be asked of a transit gateway, route
//! table or attachment that is not `available` yet; an attachment has one association; a route
//! table with links cannot be deleted, nor a customer gateway a VPN uses, nor a transit gateway
//! with attachments; a peering is accepted only in the peer's region; a step on a route table
//! runs only where the table is. With `slow`, everything AWS brings up or takes down over
//! minutes stays in its transitional state for one tick (a Direct Connect association for
//! `associating_ticks`).
//!
//! Phases run in order; a `Ref::Created` resolves only to something an earlier phase created.

#![allow(dead_code)]

use std::collections::BTreeMap;

use securecart_plan::direct_connect::{self, Association};
use securecart_plan::plan::PlanStep;
use securecart_plan::transit::{
    Attachment, CustomerGateway, Link, Observed, PeeringAttachment, Route, RouteTable, Step, TransitGateway,
    VpcAttachment, VpnConnection,
};
use securecart_plan::{Location, Plan, Ref, Step as AnyStep, Tags};

pub const HOME: &str = "us-east-1";

#[derive(Default)]
pub struct TransitSim {
    /// Every transit gateway resource, in every region: route tables carry their region below.
    pub gateways: Vec<(String, TransitGateway)>,
    pub tables: Vec<(String, RouteTable)>,
    pub peerings: Vec<PeeringAttachment>,
    pub customer_gateways: Vec<CustomerGateway>,
    pub vpns: Vec<VpnConnection>,
    pub attachments: Vec<Attachment>,
    pub vpc_attachments: Vec<VpcAttachment>,
    pub dx: Vec<Association>,
    pub slow: bool,
    /// Ticks a new Direct Connect association stays `associating` (AWS: minutes).
    pub associating_ticks: u32,
    dx_age: BTreeMap<String, u32>,
    pub log: Vec<String>,
    counters: BTreeMap<&'static str, u32>,
    clock: u32,
}

fn resolve(r: &Ref, created: &BTreeMap<String, String>) -> Result<String, String> {
    match r {
        Ref::Id(id) => Ok(id.clone()),
        Ref::Created(c) => {
            created.get(c).cloned().ok_or_else(|| format!("Ref::Created({c}) was not created by an earlier phase"))
        }
    }
}

impl TransitSim {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn slow() -> Self {
        Self { slow: true, associating_ticks: 3, ..Self::default() }
    }

    fn fresh(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_default();
        *n += 1;
        format!("{prefix}-{n}")
    }

    fn now(&mut self) -> String {
        self.clock += 1;
        format!("2026-12-01T00:{:02}:{:02}Z", self.clock / 60, self.clock % 60)
    }

    fn start(&self, settled: &str, transitional: &str) -> String {
        if self.slow { transitional.into() } else { settled.into() }
    }

    /// A peer transit gateway that exists already (another object's, or another account's).
    pub fn add_peer(&mut self, region: &str, tables: usize) -> (String, Vec<String>) {
        let id = self.fresh("tgw");
        self.gateways
            .push((region.into(), TransitGateway { id: id.clone(), state: "available".into(), ..Default::default() }));
        let mut ids = Vec::new();
        for _ in 0..tables {
            let t = self.fresh("tgw-rtb");
            self.tables.push((
                region.into(),
                RouteTable {
                    id: t.clone(),
                    transit_gateway_id: id.clone(),
                    state: "available".into(),
                    ..Default::default()
                },
            ));
            ids.push(t);
        }
        (id, ids)
    }

    /// Time passes: every transition one tick further.
    pub fn tick(&mut self) {
        let settle = |s: &mut String| {
            *s = match s.as_str() {
                "pending" | "modifying" | "initiatingRequest" => "available".into(),
                "deleting" => "deleted".into(),
                "associating" | "updating" => "associated".into(),
                "disassociating" => "disassociated".into(),
                "enabling" => "enabled".into(),
                "disabling" => "disabled".into(),
                other => other.into(),
            }
        };
        for (_, g) in &mut self.gateways {
            settle(&mut g.state);
        }
        for (_, t) in &mut self.tables {
            settle(&mut t.state);
            t.associations.iter_mut().for_each(|l| settle(&mut l.state));
            t.propagations.iter_mut().for_each(|l| settle(&mut l.state));
            t.associations.retain(|l| l.state != "disassociated");
            t.propagations.retain(|l| l.state != "disabled");
        }
        for p in &mut self.peerings {
            if p.state != "pendingAcceptance" {
                settle(&mut p.state);
            }
        }
        self.vpns.iter_mut().for_each(|v| settle(&mut v.state));
        self.attachments.iter_mut().for_each(|a| settle(&mut a.state));
        self.vpc_attachments.iter_mut().for_each(|a| settle(&mut a.state));
        for a in &mut self.dx {
            let age = self.dx_age.entry(a.id.clone()).or_default();
            *age += 1;
            if a.state == "associating" && *age < self.associating_ticks {
                continue;
            }
            settle(&mut a.state);
        }
        for a in self.dx.iter().filter(|a| a.state == "associated") {
            for att in self.attachments.iter_mut().filter(|x| x.resource_id == a.gateway_id) {
                if att.state == "pending" {
                    att.state = "available".into();
                }
            }
        }
    }

    /// What the hub's controller observes: everything in `HOME` (its owner's checks happen in
    /// the planner), the peer route tables it reads where they are.
    pub fn observed(&self, peer_tables: &[(Location, String)]) -> Observed {
        let mut tables: Vec<RouteTable> =
            self.tables.iter().filter(|(r, _)| r == HOME).map(|(_, t)| t.clone()).collect();
        // Associations and propagations of vanished attachments vanish with them.
        for t in &mut tables {
            t.associations.retain(|l| self.attachment_exists(&l.attachment_id));
        }
        Observed {
            transit_gateways: self.gateways.iter().filter(|(r, _)| r == HOME).map(|(_, g)| g.clone()).collect(),
            route_tables: tables,
            peerings: self.peerings.clone(),
            peer_route_tables: peer_tables
                .iter()
                .filter_map(|(at, id)| {
                    let (_, t) = self.tables.iter().find(|(r, t)| &t.id == id && r == &at.region)?;
                    Some((at.clone(), t.clone()))
                })
                .collect(),
            customer_gateways: self.customer_gateways.clone(),
            vpn_connections: self.vpns.clone(),
            attachments: self.attachments.clone(),
        }
    }

    fn attachment_exists(&self, id: &str) -> bool {
        self.attachments.iter().any(|a| a.id == id && a.state != "deleted")
            || self.vpc_attachments.iter().any(|a| a.id == id && a.state != "deleted")
            || self.peerings.iter().any(|a| a.id == id && a.state != "deleted")
    }

    /// A VPC's attachments with their links among the hub's route tables.
    pub fn vpc_view(&self, vpc_id: &str) -> Vec<VpcAttachment> {
        self.vpc_attachments
            .iter()
            .filter(|a| a.vpc_id == vpc_id && a.state != "deleted")
            .map(|a| {
                let mut a = a.clone();
                for (_, t) in &self.tables {
                    if let Some(l) = t.associations.iter().find(|l| l.attachment_id == a.id) {
                        a.association = Some((t.id.clone(), l.state.clone()));
                    }
                    if let Some(l) = t.propagations.iter().find(|l| l.attachment_id == a.id) {
                        a.propagations.push((t.id.clone(), l.state.clone()));
                    }
                }
                a
            })
            .collect()
    }

    /// Applies the transit and Direct Connect steps of a plan, phase by phase; time passes first.
    pub fn apply(&mut self, plan: &Plan<AnyStep>) -> Result<(), String> {
        self.tick();
        self.apply_until_crash(plan, usize::MAX)
    }

    /// Applies only the first `n` steps in phase order, as if the controller crashed after them.
    pub fn apply_until_crash(&mut self, plan: &Plan<AnyStep>, n: usize) -> Result<(), String> {
        let mut created = BTreeMap::new();
        let mut done = 0;
        for phase in plan.phases() {
            let mut new = Vec::new();
            for step in phase {
                if done == n {
                    return Ok(());
                }
                let at = step.location().cloned().unwrap_or_else(|| Location::region(HOME));
                let id = match step {
                    AnyStep::Transit(s) => self.step(s, &at, &created),
                    AnyStep::DirectConnect(s) => self.dx_step(s, &created),
                    other => Err(format!("not a transit step: {other}")),
                }
                .map_err(|e| format!("{} failed: {e}", step.action()))?;
                self.log.push(format!("{} {}", step.action(), id.clone().unwrap_or_default()));
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    new.push((c.to_string(), id));
                }
                done += 1;
            }
            created.extend(new);
        }
        Ok(())
    }

    fn table(&mut self, id: &str, at: &Location) -> Result<&mut RouteTable, String> {
        let (region, t) = self
            .tables
            .iter_mut()
            .find(|(_, t)| t.id == id && t.state != "deleted")
            .ok_or(format!("InvalidRouteTableID.NotFound: {id}"))?;
        if region != &at.region {
            return Err(format!("InvalidRouteTableID.NotFound: {id} is in {region}, not {}", at.region));
        }
        Ok(t)
    }

    fn attachment_state(&self, id: &str) -> Option<String> {
        self.attachments
            .iter()
            .map(|a| (&a.id, &a.state))
            .chain(self.vpc_attachments.iter().map(|a| (&a.id, &a.state)))
            .chain(self.peerings.iter().map(|a| (&a.id, &a.state)))
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s.clone())
    }

    fn available_attachment(&self, id: &str) -> Result<(), String> {
        match self.attachment_state(id).as_deref() {
            Some("available") => Ok(()),
            Some(s) => Err(format!("IncorrectState: attachment {id} is {s}")),
            None => Err(format!("InvalidTransitGatewayAttachmentID.NotFound: {id}")),
        }
    }

    fn gateway_available(&self, id: &str) -> Result<(), String> {
        match self.gateways.iter().find(|(_, g)| g.id == id) {
            Some((_, g)) if g.state == "available" => Ok(()),
            Some((_, g)) => Err(format!("IncorrectState: transit gateway {id} is {}", g.state)),
            None => Err(format!("InvalidTransitGatewayID.NotFound: {id}")),
        }
    }

    fn step(
        &mut self,
        step: &Step,
        at: &Location,
        created: &BTreeMap<String, String>,
    ) -> Result<Option<String>, String> {
        let tags_of = |t: &Tags| t.clone();
        match step {
            Step::CreateTransitGateway { amazon_side_asn, tags, .. } => {
                let id = self.fresh("tgw");
                let created = Some(self.now());
                let state = self.start("available", "pending");
                self.gateways.push((
                    HOME.into(),
                    TransitGateway {
                        id: id.clone(),
                        state,
                        amazon_side_asn: Some(*amazon_side_asn),
                        created,
                        tags: tags_of(tags),
                    },
                ));
                Ok(Some(id))
            }
            Step::CreateRouteTable { transit_gateway, tags, .. } => {
                let tgw = resolve(transit_gateway, created)?;
                self.gateway_available(&tgw)?;
                let id = self.fresh("tgw-rtb");
                let state = self.start("available", "pending");
                let created = Some(self.now());
                self.tables.push((
                    HOME.into(),
                    RouteTable {
                        id: id.clone(),
                        transit_gateway_id: tgw,
                        state,
                        created,
                        tags: tags_of(tags),
                        ..Default::default()
                    },
                ));
                Ok(Some(id))
            }
            Step::CreatePeering {
                transit_gateway,
                peer_transit_gateway_id,
                peer_region,
                peer_account_id,
                tags,
                ..
            } => {
                let tgw = resolve(transit_gateway, created)?;
                self.gateway_available(&tgw)?;
                let id = self.fresh("tgw-attach");
                let created = Some(self.now());
                self.peerings.push(PeeringAttachment {
                    id: id.clone(),
                    transit_gateway_id: tgw,
                    peer_transit_gateway_id: peer_transit_gateway_id.clone(),
                    peer_region: peer_region.clone(),
                    peer_account_id: peer_account_id.clone(),
                    state: "pendingAcceptance".into(),
                    created,
                    tags: tags_of(tags),
                });
                Ok(Some(id))
            }
            Step::AcceptPeering { attachment_id, at } => {
                let p = self
                    .peerings
                    .iter_mut()
                    .find(|p| &p.id == attachment_id)
                    .ok_or("InvalidTransitGatewayAttachmentID.NotFound")?;
                if p.peer_region != at.region {
                    return Err(format!(
                        "InvalidParameterValue: accept {attachment_id} in {}, not {}",
                        p.peer_region, at.region
                    ));
                }
                if p.state != "pendingAcceptance" {
                    return Err(format!("IncorrectState: {attachment_id} is {}", p.state));
                }
                p.state = if self.slow { "pending".into() } else { "available".into() };
                Ok(None)
            }
            Step::CreateCustomerGateway { ip_address, bgp_asn, tags, .. } => {
                let id = self.fresh("cgw");
                self.customer_gateways.push(CustomerGateway {
                    id: id.clone(),
                    ip_address: ip_address.clone(),
                    bgp_asn: Some(*bgp_asn),
                    state: "available".into(),
                    tags: tags_of(tags),
                });
                Ok(Some(id))
            }
            Step::CreateVpnConnection { transit_gateway, customer_gateway, static_routes_only, tags, .. } => {
                let tgw = resolve(transit_gateway, created)?;
                self.gateway_available(&tgw)?;
                let cgw = resolve(customer_gateway, created)?;
                if !self.customer_gateways.iter().any(|g| g.id == cgw && g.state == "available") {
                    return Err(format!("InvalidCustomerGatewayID.NotFound: {cgw}"));
                }
                let id = self.fresh("vpn");
                let state = self.start("available", "pending");
                self.vpns.push(VpnConnection {
                    id: id.clone(),
                    customer_gateway_id: cgw,
                    transit_gateway_id: Some(tgw.clone()),
                    state: state.clone(),
                    static_routes_only: Some(*static_routes_only),
                    tunnels: Vec::new(),
                    tags: tags_of(tags),
                });
                let attachment = self.fresh("tgw-attach");
                self.attachments.push(Attachment {
                    id: attachment,
                    transit_gateway_id: tgw,
                    resource_type: "vpn".into(),
                    resource_id: id.clone(),
                    state,
                    tags: Tags::new(),
                });
                Ok(Some(id))
            }
            Step::ReplaceVpnCustomerGateway { vpn_connection_id, customer_gateway } => {
                let cgw = resolve(customer_gateway, created)?;
                if !self.customer_gateways.iter().any(|g| g.id == cgw && g.state == "available") {
                    return Err(format!("InvalidCustomerGatewayID.NotFound: {cgw}"));
                }
                let slow = self.slow;
                let v = self
                    .vpns
                    .iter_mut()
                    .find(|v| &v.id == vpn_connection_id)
                    .ok_or("InvalidVpnConnectionID.NotFound")?;
                if v.state != "available" {
                    return Err(format!("IncorrectState: {} is {}", v.id, v.state));
                }
                v.customer_gateway_id = cgw;
                if slow {
                    v.state = "modifying".into();
                }
                Ok(None)
            }
            Step::CreateVpcAttachment { transit_gateway_id, vpc, subnets, tags, .. } => {
                self.gateway_available(transit_gateway_id)?;
                let vpc_id = resolve(vpc, created)?;
                if self
                    .vpc_attachments
                    .iter()
                    .any(|a| a.vpc_id == vpc_id && &a.transit_gateway_id == transit_gateway_id && a.state != "deleted")
                {
                    return Err(format!("DuplicateTransitGatewayAttachment: {vpc_id} on {transit_gateway_id}"));
                }
                let subnet_ids = subnets.iter().map(|s| resolve(s, created)).collect::<Result<Vec<_>, _>>()?;
                let id = self.fresh("tgw-attach");
                let state = self.start("available", "pending");
                let created = Some(self.now());
                self.vpc_attachments.push(VpcAttachment {
                    id: id.clone(),
                    transit_gateway_id: transit_gateway_id.clone(),
                    vpc_id,
                    subnet_ids,
                    state,
                    created,
                    tags: tags_of(tags),
                    ..Default::default()
                });
                Ok(Some(id))
            }
            Step::ModifyVpcAttachment { attachment_id, add, remove } => {
                let add = add.iter().map(|s| resolve(s, created)).collect::<Result<Vec<_>, _>>()?;
                let slow = self.slow;
                let a = self
                    .vpc_attachments
                    .iter_mut()
                    .find(|a| &a.id == attachment_id)
                    .ok_or("InvalidTransitGatewayAttachmentID.NotFound")?;
                if a.state != "available" {
                    return Err(format!("IncorrectState: {} is {}", a.id, a.state));
                }
                a.subnet_ids.retain(|s| !remove.contains(s));
                a.subnet_ids.extend(add);
                if slow {
                    a.state = "modifying".into();
                }
                Ok(None)
            }
            Step::Associate { route_table, attachment_id, .. } => {
                let table = resolve(route_table, created)?;
                self.available_attachment(attachment_id)?;
                // One association per attachment on each side (a peering has one on each hub).
                let here = |r: &String| r == &at.region;
                if self
                    .tables
                    .iter()
                    .any(|(r, t)| here(r) && t.associations.iter().any(|l| &l.attachment_id == attachment_id))
                {
                    return Err(format!("Resource.AlreadyAssociated: {attachment_id}"));
                }
                let state = self.start("associated", "associating");
                let t = self.table(&table, at)?;
                if t.state != "available" {
                    return Err(format!("IncorrectState: {table} is {}", t.state));
                }
                t.associations.push(Link { attachment_id: attachment_id.clone(), state });
                Ok(None)
            }
            Step::Disassociate { route_table_id, attachment_id, .. } => {
                let state = self.start("disassociated", "disassociating");
                let t = self.table(route_table_id, at)?;
                let l = t
                    .associations
                    .iter_mut()
                    .find(|l| &l.attachment_id == attachment_id)
                    .ok_or("InvalidAssociation.NotFound")?;
                if l.state != "associated" {
                    return Err(format!("IncorrectState: association is {}", l.state));
                }
                l.state = state;
                t.associations.retain(|l| l.state != "disassociated");
                Ok(None)
            }
            Step::EnablePropagation { route_table, attachment_id } => {
                let table = resolve(route_table, created)?;
                self.available_attachment(attachment_id)?;
                let state = self.start("enabled", "enabling");
                let t = self.table(&table, at)?;
                if t.propagations.iter().any(|l| &l.attachment_id == attachment_id) {
                    return Err("TransitGatewayRouteTablePropagation.Duplicate".into());
                }
                t.propagations.push(Link { attachment_id: attachment_id.clone(), state });
                Ok(None)
            }
            Step::DisablePropagation { route_table_id, attachment_id } => {
                let t = self.table(route_table_id, at)?;
                let before = t.propagations.len();
                t.propagations.retain(|l| &l.attachment_id != attachment_id);
                if before == t.propagations.len() {
                    return Err("InvalidRouteTableID.NotFound: no such propagation".into());
                }
                Ok(None)
            }
            Step::CreateRoute { route_table, destination, attachment_id, .. } => {
                let table = resolve(route_table, created)?;
                self.available_attachment(attachment_id)?;
                let t = self.table(&table, at)?;
                if t.routes.iter().any(|r| &r.destination == destination) {
                    return Err(format!("RouteAlreadyExists: {destination} in {table}"));
                }
                t.routes.push(Route {
                    destination: destination.clone(),
                    attachment_id: Some(attachment_id.clone()),
                    state: "active".into(),
                });
                Ok(None)
            }
            Step::ReplaceRoute { route_table_id, destination, attachment_id, .. } => {
                self.available_attachment(attachment_id)?;
                let t = self.table(route_table_id, at)?;
                let r = t.routes.iter_mut().find(|r| &r.destination == destination).ok_or("InvalidRoute.NotFound")?;
                r.attachment_id = Some(attachment_id.clone());
                Ok(None)
            }
            Step::DeleteRoute { route_table_id, destination, .. } => {
                let t = self.table(route_table_id, at)?;
                t.routes.retain(|r| &r.destination != destination);
                Ok(None)
            }
            Step::SetTags { resource_id, tags, .. } => {
                let target = self
                    .gateways
                    .iter_mut()
                    .map(|(_, g)| (&g.id, &mut g.tags))
                    .chain(self.tables.iter_mut().map(|(_, t)| (&t.id, &mut t.tags)))
                    .chain(self.peerings.iter_mut().map(|a| (&a.id, &mut a.tags)))
                    .chain(self.customer_gateways.iter_mut().map(|g| (&g.id, &mut g.tags)))
                    .chain(self.vpns.iter_mut().map(|v| (&v.id, &mut v.tags)))
                    .chain(self.attachments.iter_mut().map(|a| (&a.id, &mut a.tags)))
                    .chain(self.vpc_attachments.iter_mut().map(|a| (&a.id, &mut a.tags)))
                    .find(|(id, _)| *id == resource_id);
                let (_, existing) = target.ok_or(format!("InvalidID: {resource_id}"))?;
                existing.extend(tags.clone());
                Ok(None)
            }
            Step::DeleteVpcAttachment { id } => {
                let state = self.start("deleted", "deleting");
                let a = self.vpc_attachments.iter_mut().find(|a| &a.id == id).ok_or("NotFound")?;
                a.state = state;
                for (_, t) in &mut self.tables {
                    t.associations.retain(|l| &l.attachment_id != id);
                    t.propagations.retain(|l| &l.attachment_id != id);
                }
                Ok(None)
            }
            Step::DeleteVpnConnection { id } => {
                let state = self.start("deleted", "deleting");
                let v = self.vpns.iter_mut().find(|v| &v.id == id).ok_or("NotFound")?;
                v.state = state.clone();
                for a in self.attachments.iter_mut().filter(|a| &a.resource_id == id) {
                    a.state = state.clone();
                }
                let gone: Vec<String> =
                    self.attachments.iter().filter(|a| &a.resource_id == id).map(|a| a.id.clone()).collect();
                for (_, t) in &mut self.tables {
                    t.associations.retain(|l| !gone.contains(&l.attachment_id));
                    t.propagations.retain(|l| !gone.contains(&l.attachment_id));
                }
                Ok(None)
            }
            Step::DeleteCustomerGateway { id } => {
                if self.vpns.iter().any(|v| &v.customer_gateway_id == id && v.state != "deleted") {
                    return Err(format!("IncorrectState: customer gateway {id} is used by a VPN connection"));
                }
                self.customer_gateways.retain(|g| &g.id != id);
                Ok(None)
            }
            Step::DeletePeering { id } => {
                let state = self.start("deleted", "deleting");
                let p = self.peerings.iter_mut().find(|p| &p.id == id).ok_or("NotFound")?;
                p.state = state;
                for (_, t) in &mut self.tables {
                    t.associations.retain(|l| &l.attachment_id != id);
                }
                Ok(None)
            }
            Step::DeleteRouteTable { id } => {
                let t = self.table(id, at)?;
                if !t.associations.is_empty() || !t.propagations.is_empty() {
                    return Err(format!("IncorrectState: {id} has associations or propagations"));
                }
                t.state = "deleted".into();
                Ok(None)
            }
            Step::DeleteTransitGateway { id } => {
                let attached = self
                    .attachments
                    .iter()
                    .filter(|a| &a.transit_gateway_id == id)
                    .map(|a| &a.state)
                    .chain(self.vpc_attachments.iter().filter(|a| &a.transit_gateway_id == id).map(|a| &a.state))
                    .chain(self.peerings.iter().filter(|a| &a.transit_gateway_id == id).map(|a| &a.state))
                    .any(|s| s != "deleted");
                if attached {
                    return Err(format!("IncorrectState: {id} has attachments"));
                }
                if self.tables.iter().any(|(_, t)| &t.transit_gateway_id == id && t.state != "deleted") {
                    return Err(format!("IncorrectState: {id} has route tables"));
                }
                let state = self.start("deleted", "deleting");
                let (_, g) = self.gateways.iter_mut().find(|(_, g)| &g.id == id).ok_or("NotFound")?;
                g.state = state;
                Ok(None)
            }
        }
    }

    fn dx_step(
        &mut self,
        step: &direct_connect::Step,
        created: &BTreeMap<String, String>,
    ) -> Result<Option<String>, String> {
        match step {
            direct_connect::Step::CreateAssociation { gateway_id, transit_gateway, allowed_prefixes, .. } => {
                let tgw = resolve(transit_gateway, created)?;
                self.gateway_available(&tgw)?;
                if self.dx.iter().any(|a| {
                    &a.gateway_id == gateway_id && a.associated_gateway_id == tgw && a.state != "disassociated"
                }) {
                    return Err("DirectConnectClientException: the gateways are already associated".into());
                }
                let id = self.fresh("dxassoc");
                self.dx.push(Association {
                    id: id.clone(),
                    gateway_id: gateway_id.clone(),
                    associated_gateway_id: tgw.clone(),
                    state: self.start("associated", "associating"),
                    allowed_prefixes: allowed_prefixes.clone(),
                });
                let attachment = self.fresh("tgw-attach");
                let state = self.start("available", "pending");
                self.attachments.push(Attachment {
                    id: attachment,
                    transit_gateway_id: tgw,
                    resource_type: "direct-connect-gateway".into(),
                    resource_id: gateway_id.clone(),
                    state,
                    tags: Tags::new(),
                });
                Ok(Some(id))
            }
            direct_connect::Step::UpdateAllowedPrefixes { association_id, add, remove } => {
                let slow = self.slow;
                let a = self
                    .dx
                    .iter_mut()
                    .find(|a| &a.id == association_id)
                    .ok_or("DirectConnectClientException: no association")?;
                if a.state != "associated" {
                    return Err(format!("DirectConnectClientException: the association is {}", a.state));
                }
                a.allowed_prefixes.retain(|p| !remove.contains(p));
                a.allowed_prefixes.extend(add.iter().cloned());
                if slow {
                    a.state = "updating".into();
                }
                Ok(None)
            }
            direct_connect::Step::DeleteAssociation { association_id } => {
                let slow = self.slow;
                let a = self
                    .dx
                    .iter_mut()
                    .find(|a| &a.id == association_id)
                    .ok_or("DirectConnectClientException: no association")?;
                if a.state != "associated" {
                    return Err(format!("DirectConnectClientException: the association is {}", a.state));
                }
                a.state = if slow { "disassociating".into() } else { "disassociated".into() };
                let gateway = a.gateway_id.clone();
                let state = self.start("deleted", "deleting");
                for att in self.attachments.iter_mut().filter(|x| x.resource_id == gateway) {
                    att.state = state.clone();
                }
                Ok(None)
            }
        }
    }
}
