//! A small model of the EC2 API: just enough of it to run the VPC planner's plans against, and
//! strict where EC2 is strict, so that a plan whose order AWS would reject fails here too.
//!
//! Phases run in order; a `Ref::Created` resolves only to something an *earlier* phase created
//! (steps of one phase run in parallel in the real executor). IDs are fresh per kind: `vpc-1`,
//! `subnet-2`, `rtb-3`, ...

#![allow(dead_code)]

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use securecart_plan::network::{
    Address, Association, FlowLog, FlowLogTarget, InternetGateway, NatGateway, Observed, Route, RouteTable,
    RouteTarget, Step, Subnet, Vpc, VpcAttribute,
};
use securecart_plan::plan::PlanStep;
use securecart_plan::{Plan, Ref, Tags};

pub struct Sim {
    pub observed: Observed,
    /// State a new NAT gateway starts in: `available` (default) or `pending` (available one pass later).
    pub nat_starts: &'static str,
    /// When true, a deleted NAT gateway stays `deleting` (holding its subnet and EIP) for one pass.
    pub nat_deletes_slowly: bool,
    /// Every action applied, in order, e.g. `DeleteVpc vpc-1`.
    pub log: Vec<String>,
    /// IDs as AWS makes them (random hex) instead of `vpc-1`, `vpc-2`: their order says
    /// nothing about age.
    pub random_ids: bool,
    counters: BTreeMap<&'static str, u32>,
    /// Seconds since the simulation began, for creation times.
    clock: u32,
}

impl Default for Sim {
    fn default() -> Self {
        Self {
            observed: Observed::default(),
            nat_starts: "available",
            nat_deletes_slowly: false,
            log: Vec::new(),
            random_ids: false,
            counters: BTreeMap::new(),
            clock: 0,
        }
    }
}

fn resolve(r: &Ref, created: &BTreeMap<String, String>) -> Result<String, String> {
    match r {
        Ref::Id(id) => Ok(id.clone()),
        Ref::Created(c) => {
            created.get(c).cloned().ok_or_else(|| format!("Ref::Created({c}) was not created by an earlier phase"))
        }
    }
}

fn holds(n: &NatGateway) -> bool {
    matches!(n.state.as_str(), "pending" | "available" | "deleting")
}

impl Sim {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_random_ids() -> Self {
        Self { random_ids: true, ..Self::default() }
    }

    fn fresh(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_default();
        *n += 1;
        if self.random_ids {
            let h = securecart_plan::intent::stable_hash(&[prefix, &n.to_string(), "sim"]);
            return format!("{prefix}-0{h:016x}");
        }
        format!("{prefix}-{n}")
    }

    /// A creation time, one second after the last.
    fn now(&mut self) -> String {
        self.clock += 1;
        format!("2026-12-01T00:{:02}:{:02}Z", self.clock / 60, self.clock % 60)
    }

    /// Time passes: pending NAT gateways become available, deleting ones deleted.
    pub fn tick(&mut self) {
        for n in &mut self.observed.nat_gateways {
            match n.state.as_str() {
                "pending" => n.state = "available".into(),
                "deleting" => n.state = "deleted".into(),
                _ => {}
            }
        }
    }

    /// Applies a plan, phase by phase. Time passes first (NAT gateways the previous pass left in
    /// transition settle), then the steps run. Fails like EC2 on a step whose dependency is unmet.
    pub fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        self.tick();
        self.apply_steps(plan, usize::MAX)
    }

    /// Applies only the first `n` steps in phase order, as if the controller crashed after them.
    pub fn apply_until_crash(&mut self, plan: &Plan<Step>, n: usize) -> Result<(), String> {
        self.apply_steps(plan, n)
    }

    fn apply_steps(&mut self, plan: &Plan<Step>, limit: usize) -> Result<(), String> {
        let mut created: BTreeMap<String, String> = BTreeMap::new();
        let mut done = 0;
        for phase in plan.phases() {
            let mut new = Vec::new();
            for step in phase {
                if done == limit {
                    return Ok(());
                }
                let id = self.step(step, &created).map_err(|e| format!("{} failed: {e}", step.action()))?;
                self.log.push(format!("{} {}", step.action(), id.as_deref().unwrap_or("")).trim_end().to_string());
                if let (Some(c), Some(id)) = (step.creates(), id) {
                    new.push((c.to_string(), id));
                }
                done += 1;
            }
            created.extend(new);
        }
        Ok(())
    }

    fn vpc(&self, id: &str) -> Result<&Vpc, String> {
        self.observed.vpcs.iter().find(|v| v.id == id).ok_or_else(|| format!("InvalidVpcID.NotFound: {id}"))
    }
    fn subnet(&self, id: &str) -> Result<&Subnet, String> {
        self.observed.subnets.iter().find(|s| s.id == id).ok_or_else(|| format!("InvalidSubnetID.NotFound: {id}"))
    }
    fn table_mut(&mut self, id: &str) -> Result<&mut RouteTable, String> {
        self.observed
            .route_tables
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or_else(|| format!("InvalidRouteTableID.NotFound: {id}"))
    }
    fn igw_mut(&mut self, id: &str) -> Result<&mut InternetGateway, String> {
        self.observed
            .internet_gateways
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or_else(|| format!("InvalidInternetGatewayID.NotFound: {id}"))
    }
    /// NAT gateways holding a public address inside the VPC.
    fn mapped_public_addresses(&self, vpc_id: &str) -> Vec<String> {
        self.observed
            .nat_gateways
            .iter()
            .filter(|n| holds(n) && self.observed.subnets.iter().any(|s| s.id == n.subnet_id && s.vpc_id == vpc_id))
            .map(|n| n.id.clone())
            .collect()
    }
    fn new_table(&mut self, vpc_id: &str, tags: Tags, main: bool) -> Result<String, String> {
        let cidr = self.vpc(vpc_id)?.cidr_block.clone();
        let id = self.fresh("rtb");
        let associations = if main {
            vec![Association { id: self.fresh("rtbassoc"), subnet_id: None, main: true }]
        } else {
            Vec::new()
        };
        self.observed.route_tables.push(RouteTable {
            id: id.clone(),
            vpc_id: vpc_id.into(),
            routes: vec![Route { destination: cidr, gateway_id: Some("local".into()), nat_gateway_id: None }],
            associations,
            tags,
        });
        Ok(id)
    }
    fn route_target(
        &self,
        table_vpc: &str,
        target: &RouteTarget,
        created: &BTreeMap<String, String>,
    ) -> Result<(Option<String>, Option<String>), String> {
        match target {
            RouteTarget::InternetGateway(r) => {
                let id = resolve(r, created)?;
                let g = self
                    .observed
                    .internet_gateways
                    .iter()
                    .find(|g| g.id == id)
                    .ok_or(format!("InvalidGatewayID.NotFound: {id}"))?;
                if !g.attached_vpc_ids.iter().any(|v| v == table_vpc) {
                    return Err(format!(
                        "InvalidParameterValue: route table and network gateway {id} belong to different networks"
                    ));
                }
                Ok((Some(id), None))
            }
            RouteTarget::NatGateway(r) => {
                let id = resolve(r, created)?;
                let n = self
                    .observed
                    .nat_gateways
                    .iter()
                    .find(|n| n.id == id)
                    .ok_or(format!("InvalidNatGatewayID.NotFound: {id}"))?;
                if !matches!(n.state.as_str(), "pending" | "available") {
                    return Err(format!("InvalidNatGatewayID.NotFound: {id} is {}", n.state));
                }
                Ok((None, Some(id)))
            }
        }
    }

    /// Runs one step; returns the ID of what it created or acted on.
    fn step(&mut self, step: &Step, created: &BTreeMap<String, String>) -> Result<Option<String>, String> {
        match step {
            Step::CreateVpc { cidr_block, tags, .. } => {
                let net: Ipv4Net = cidr_block.parse().map_err(|_| format!("InvalidParameterValue: {cidr_block}"))?;
                if net.trunc() != net {
                    return Err(format!("InvalidParameterValue: {cidr_block} has host bits set"));
                }
                let id = self.fresh("vpc");
                self.observed.vpcs.push(Vpc {
                    id: id.clone(),
                    cidr_block: cidr_block.clone(),
                    dns_support: Some(true),
                    dns_hostnames: Some(false),
                    tags: tags.clone(),
                });
                self.new_table(&id, Tags::new(), true)?; // the main route table, untagged
                Ok(Some(id))
            }
            Step::SetVpcAttribute { vpc, attribute, value } => {
                let id = resolve(vpc, created)?;
                self.vpc(&id)?;
                let v = self.observed.vpcs.iter_mut().find(|v| v.id == id).unwrap();
                match attribute {
                    VpcAttribute::EnableDnsSupport => v.dns_support = Some(*value),
                    VpcAttribute::EnableDnsHostnames => v.dns_hostnames = Some(*value),
                }
                Ok(Some(id))
            }
            Step::CreateInternetGateway { tags, .. } => {
                let id = self.fresh("igw");
                self.observed.internet_gateways.push(InternetGateway {
                    id: id.clone(),
                    attached_vpc_ids: Vec::new(),
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::AllocateAddress { tags, .. } => {
                let id = self.fresh("eipalloc");
                let n = self.counters["eipalloc"];
                self.observed.addresses.push(Address {
                    allocation_id: id.clone(),
                    public_ip: Some(format!("203.0.113.{n}")),
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::SetTags { resource_id, tags, .. } => {
                let o = &mut self.observed;
                let target: Option<&mut Tags> = o
                    .vpcs
                    .iter_mut()
                    .find(|r| r.id == *resource_id)
                    .map(|r| &mut r.tags)
                    .or_else(|| o.subnets.iter_mut().find(|r| r.id == *resource_id).map(|r| &mut r.tags))
                    .or_else(|| o.internet_gateways.iter_mut().find(|r| r.id == *resource_id).map(|r| &mut r.tags))
                    .or_else(|| o.route_tables.iter_mut().find(|r| r.id == *resource_id).map(|r| &mut r.tags))
                    .or_else(|| o.nat_gateways.iter_mut().find(|r| r.id == *resource_id).map(|r| &mut r.tags))
                    .or_else(|| o.addresses.iter_mut().find(|r| r.allocation_id == *resource_id).map(|r| &mut r.tags))
                    .or_else(|| o.flow_logs.iter_mut().find(|r| r.id == *resource_id).map(|r| &mut r.tags));
                let t = target.ok_or_else(|| format!("InvalidID: {resource_id}"))?;
                t.extend(tags.clone());
                Ok(Some(resource_id.clone()))
            }
            Step::CreateSubnet { vpc, cidr_block, zone, tags, .. } => {
                let vpc_id = resolve(vpc, created)?;
                let vpc_net: Ipv4Net = self.vpc(&vpc_id)?.cidr_block.parse().unwrap();
                let net: Ipv4Net = cidr_block.parse().map_err(|_| format!("InvalidParameterValue: {cidr_block}"))?;
                if net.trunc() != net || !vpc_net.contains(&net) {
                    return Err(format!("InvalidSubnet.Range: {cidr_block} in {vpc_net}"));
                }
                if let Some(s) = self.observed.subnets.iter().find(|s| {
                    s.vpc_id == vpc_id && {
                        let other: Ipv4Net = s.cidr_block.parse().unwrap();
                        other.contains(&net.network()) || net.contains(&other.network())
                    }
                }) {
                    return Err(format!(
                        "InvalidSubnet.Conflict: {cidr_block} conflicts with {} {}",
                        s.id, s.cidr_block
                    ));
                }
                if zone.is_empty() {
                    return Err("InvalidParameterValue: zone".into());
                }
                let id = self.fresh("subnet");
                self.observed.subnets.push(Subnet {
                    id: id.clone(),
                    vpc_id,
                    cidr_block: cidr_block.clone(),
                    zone: zone.clone(),
                    map_public_ip_on_launch: false,
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::CreateRouteTable { vpc, tags, .. } => {
                let vpc_id = resolve(vpc, created)?;
                self.new_table(&vpc_id, tags.clone(), false).map(Some)
            }
            Step::AttachInternetGateway { internet_gateway, vpc } => {
                let (igw, vpc_id) = (resolve(internet_gateway, created)?, resolve(vpc, created)?);
                self.vpc(&vpc_id)?;
                if self.observed.internet_gateways.iter().any(|g| g.id != igw && g.attached_vpc_ids.contains(&vpc_id)) {
                    return Err(format!("Resource.AlreadyAssociated: {vpc_id} already has an internet gateway"));
                }
                let g = self.igw_mut(&igw)?;
                if !g.attached_vpc_ids.is_empty() {
                    return Err(format!("Resource.AlreadyAssociated: {igw} is attached to {:?}", g.attached_vpc_ids));
                }
                g.attached_vpc_ids.push(vpc_id);
                Ok(Some(igw))
            }
            Step::CreateFlowLog { vpc, traffic_type, destination, tags, .. } => {
                let vpc_id = resolve(vpc, created)?;
                self.vpc(&vpc_id)?;
                let id = self.fresh("fl");
                let (destination_type, destination, log_group, role_arn) = match destination {
                    FlowLogTarget::S3 { bucket_arn } => ("s3", Some(bucket_arn.clone()), None, None),
                    FlowLogTarget::CloudWatchLogs { log_group, role_arn } => {
                        ("cloud-watch-logs", None, Some(log_group.clone()), Some(role_arn.clone()))
                    }
                };
                let created = Some(self.now());
                self.observed.flow_logs.push(FlowLog {
                    created,
                    id: id.clone(),
                    resource_id: vpc_id,
                    traffic_type: traffic_type.clone(),
                    destination_type: destination_type.into(),
                    destination,
                    log_group,
                    role_arn,
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::SetSubnetPublicIpOnLaunch { subnet, value } => {
                let id = resolve(subnet, created)?;
                self.subnet(&id)?;
                self.observed.subnets.iter_mut().find(|s| s.id == id).unwrap().map_public_ip_on_launch = *value;
                Ok(Some(id))
            }
            Step::AssociateRouteTable { route_table, subnet } => {
                let (table, subnet) = (resolve(route_table, created)?, resolve(subnet, created)?);
                let subnet_vpc = self.subnet(&subnet)?.vpc_id.clone();
                if self
                    .observed
                    .route_tables
                    .iter()
                    .any(|t| t.associations.iter().any(|a| a.subnet_id.as_deref() == Some(&subnet)))
                {
                    return Err(format!("Resource.AlreadyAssociated: {subnet} already has a route table association"));
                }
                let assoc = self.fresh("rtbassoc");
                let t = self.table_mut(&table)?;
                if t.vpc_id != subnet_vpc {
                    return Err(format!("InvalidParameterValue: {table} and {subnet} belong to different networks"));
                }
                t.associations.push(Association { id: assoc.clone(), subnet_id: Some(subnet), main: false });
                Ok(Some(assoc))
            }
            Step::ReplaceRouteTableAssociation { association_id, route_table } => {
                let table = resolve(route_table, created)?;
                let old = self
                    .observed
                    .route_tables
                    .iter_mut()
                    .find_map(|t| {
                        let i = t.associations.iter().position(|a| a.id == *association_id)?;
                        Some((t.vpc_id.clone(), t.associations.remove(i)))
                    })
                    .ok_or_else(|| format!("InvalidAssociationID.NotFound: {association_id}"))?;
                let assoc = self.fresh("rtbassoc");
                let t = self.table_mut(&table)?;
                if t.vpc_id != old.0 {
                    return Err(format!("InvalidParameterValue: {table} is in another VPC"));
                }
                t.associations.push(Association { id: assoc.clone(), subnet_id: old.1.subnet_id, main: old.1.main });
                Ok(Some(assoc))
            }
            Step::CreateNatGateway { subnet, address, tags, .. } => {
                let (subnet, allocation) = (resolve(subnet, created)?, resolve(address, created)?);
                let vpc_id = self.subnet(&subnet)?.vpc_id.clone();
                let a = self
                    .observed
                    .addresses
                    .iter()
                    .find(|a| a.allocation_id == allocation)
                    .ok_or_else(|| format!("InvalidAllocationID.NotFound: {allocation}"))?;
                let public_ip = a.public_ip.clone();
                if let Some(n) = self
                    .observed
                    .nat_gateways
                    .iter()
                    .find(|n| holds(n) && n.allocation_id.as_deref() == Some(&allocation))
                {
                    return Err(format!("Resource.AlreadyAssociated: {allocation} is in use by {}", n.id));
                }
                // A public NAT gateway in a VPC without an attached internet gateway fails.
                let has_igw = self.observed.internet_gateways.iter().any(|g| g.attached_vpc_ids.contains(&vpc_id));
                let id = self.fresh("nat");
                let created = Some(self.now());
                self.observed.nat_gateways.push(NatGateway {
                    created,
                    id: id.clone(),
                    subnet_id: subnet,
                    state: if has_igw { self.nat_starts.into() } else { "failed".into() },
                    allocation_id: Some(allocation),
                    public_ip,
                    tags: tags.clone(),
                });
                Ok(Some(id))
            }
            Step::CreateRoute { route_table, destination, target } => {
                let table = resolve(route_table, created)?;
                let vpc_id = self.table_mut(&table)?.vpc_id.clone();
                let (gateway_id, nat_gateway_id) = self.route_target(&vpc_id, target, created)?;
                let t = self.table_mut(&table)?;
                if t.routes.iter().any(|r| r.destination == *destination) {
                    return Err(format!("RouteAlreadyExists: {destination} in {table}"));
                }
                t.routes.push(Route { destination: destination.clone(), gateway_id, nat_gateway_id });
                Ok(Some(table))
            }
            Step::ReplaceRoute { route_table, destination, target } => {
                let table = resolve(route_table, created)?;
                let vpc_id = self.table_mut(&table)?.vpc_id.clone();
                let (gateway_id, nat_gateway_id) = self.route_target(&vpc_id, target, created)?;
                let t = self.table_mut(&table)?;
                let r = t
                    .routes
                    .iter_mut()
                    .find(|r| r.destination == *destination)
                    .ok_or(format!("InvalidRoute.NotFound: {destination} in {table}"))?;
                (r.gateway_id, r.nat_gateway_id) = (gateway_id, nat_gateway_id);
                Ok(Some(table))
            }
            Step::DeleteRoute { route_table_id, destination } => {
                let t = self.table_mut(route_table_id)?;
                let i = t
                    .routes
                    .iter()
                    .position(|r| r.destination == *destination)
                    .ok_or(format!("InvalidRoute.NotFound: {destination}"))?;
                t.routes.remove(i);
                Ok(Some(route_table_id.clone()))
            }
            Step::DisassociateRouteTable { association_id } => {
                for t in &mut self.observed.route_tables {
                    if let Some(i) = t.associations.iter().position(|a| a.id == *association_id) {
                        if t.associations[i].main {
                            return Err(format!("InvalidParameterValue: {association_id} is the main association"));
                        }
                        t.associations.remove(i);
                        return Ok(Some(association_id.clone()));
                    }
                }
                Err(format!("InvalidAssociationID.NotFound: {association_id}"))
            }
            Step::DeleteNatGateway { id } => {
                let slowly = self.nat_deletes_slowly;
                let n = self
                    .observed
                    .nat_gateways
                    .iter_mut()
                    .find(|n| n.id == *id)
                    .ok_or(format!("NatGatewayNotFound: {id}"))?;
                if !matches!(n.state.as_str(), "pending" | "available" | "failed") {
                    return Err(format!("InvalidNatGatewayID.NotFound: {id} is {}", n.state));
                }
                n.state = if slowly { "deleting" } else { "deleted" }.into();
                Ok(Some(id.clone()))
            }
            Step::ReleaseAddress { allocation_id } => {
                if let Some(n) = self
                    .observed
                    .nat_gateways
                    .iter()
                    .find(|n| holds(n) && n.allocation_id.as_deref() == Some(allocation_id))
                {
                    return Err(format!("InvalidIPAddress.InUse: {allocation_id} is held by {} ({})", n.id, n.state));
                }
                let i = self
                    .observed
                    .addresses
                    .iter()
                    .position(|a| a.allocation_id == *allocation_id)
                    .ok_or(format!("InvalidAllocationID.NotFound: {allocation_id}"))?;
                self.observed.addresses.remove(i);
                Ok(Some(allocation_id.clone()))
            }
            Step::DeleteSubnet { id } => {
                self.subnet(id)?;
                if let Some(n) = self.observed.nat_gateways.iter().find(|n| holds(n) && n.subnet_id == *id) {
                    return Err(format!("DependencyViolation: {id} has dependencies ({} is {})", n.id, n.state));
                }
                self.observed.subnets.retain(|s| s.id != *id);
                for t in &mut self.observed.route_tables {
                    t.associations.retain(|a| a.subnet_id.as_deref() != Some(id));
                }
                Ok(Some(id.clone()))
            }
            Step::DetachInternetGateway { id, vpc_id } => {
                // The rule protects the VPC's way out: it does not apply while another gateway
                // stays attached (which AWS never allows, and the emulator does).
                let another =
                    self.observed.internet_gateways.iter().any(|g| g.id != *id && g.attached_vpc_ids.contains(vpc_id));
                let mapped = self.mapped_public_addresses(vpc_id);
                if !mapped.is_empty() && !another {
                    return Err(format!(
                        "DependencyViolation: Network {vpc_id} has some mapped public address(es) ({}). Please unmap those public address(es) before detaching the gateway.",
                        mapped.join(", ")
                    ));
                }
                let g = self.igw_mut(id)?;
                let i = g
                    .attached_vpc_ids
                    .iter()
                    .position(|v| v == vpc_id)
                    .ok_or(format!("Gateway.NotAttached: {id} {vpc_id}"))?;
                g.attached_vpc_ids.remove(i);
                Ok(Some(id.clone()))
            }
            Step::DeleteRouteTable { id } => {
                let t = self.table_mut(id)?;
                if !t.associations.is_empty() {
                    return Err(format!("DependencyViolation: {id} has associations {:?}", t.associations));
                }
                self.observed.route_tables.retain(|t| t.id != *id);
                Ok(Some(id.clone()))
            }
            Step::DeleteInternetGateway { id } => {
                if !self.igw_mut(id)?.attached_vpc_ids.is_empty() {
                    return Err(format!("DependencyViolation: {id} is still attached"));
                }
                self.observed.internet_gateways.retain(|g| g.id != *id);
                Ok(Some(id.clone()))
            }
            Step::DeleteVpc { id } => {
                self.vpc(id)?;
                let o = &self.observed;
                let subnets = o.subnets.iter().filter(|s| s.vpc_id == *id).count();
                let igws = o.internet_gateways.iter().filter(|g| g.attached_vpc_ids.contains(id)).count();
                let tables =
                    o.route_tables.iter().filter(|t| t.vpc_id == *id && !t.associations.iter().any(|a| a.main)).count();
                if subnets + igws + tables > 0 {
                    return Err(format!(
                        "DependencyViolation: {id} has {subnets} subnets, {igws} gateways, {tables} route tables"
                    ));
                }
                self.observed.vpcs.retain(|v| v.id != *id);
                self.observed.route_tables.retain(|t| t.vpc_id != *id);
                Ok(Some(id.clone()))
            }
            Step::DeleteFlowLog { id } => {
                let i = self
                    .observed
                    .flow_logs
                    .iter()
                    .position(|f| f.id == *id)
                    .ok_or(format!("InvalidFlowLogId.NotFound: {id}"))?;
                self.observed.flow_logs.remove(i);
                Ok(Some(id.clone()))
            }
        }
    }

    /// Routes that lead nowhere: to a NAT gateway that is gone, or to an internet gateway that is
    /// not attached to the table's VPC. A converged state has none.
    pub fn blackholes(&self) -> Vec<String> {
        let o = &self.observed;
        let mut out = Vec::new();
        for t in &o.route_tables {
            for r in &t.routes {
                let nat_gone = r
                    .nat_gateway_id
                    .as_ref()
                    .is_some_and(|nat| !o.nat_gateways.iter().any(|n| n.id == *nat && n.state == "available"));
                let igw_gone = r.gateway_id.as_deref().filter(|g| *g != "local").is_some_and(|gw| {
                    !o.internet_gateways.iter().any(|g| g.id == gw && g.attached_vpc_ids.contains(&t.vpc_id))
                });
                if nat_gone || igw_gone {
                    let target = r.nat_gateway_id.as_ref().or(r.gateway_id.as_ref()).unwrap();
                    out.push(format!("{} {} -> {target}", t.id, r.destination));
                }
            }
        }
        out
    }
}
