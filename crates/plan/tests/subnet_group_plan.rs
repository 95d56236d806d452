//! A VpcTier's RDS and ElastiCache subnet groups, planned by `vpc_tier::plan` against the
//! simulated EC2 networking (`sim`) and a simulated subnet-group API (below, strict where AWS is:
//! a name is taken once, an RDS group spans two zones, a group in use is not deleted, a subnet
//! a group holds is not deleted). Created after their subnets, kept to the tier's subnets when
//! zones change, never duplicated after a lost response, never deleted from under a database,
//! never taken from another owner.

mod sim;

use std::collections::{BTreeMap, BTreeSet};

use securecart_api::conditions::reason;
use securecart_api::{SubnetGroupService, VpcTierSpec};
use securecart_plan::network;
use securecart_plan::plan::{PlanStep, Verb};
use securecart_plan::subnet_group::{self, SubnetGroup};
use securecart_plan::vpc_tier::{self, Zone};
use securecart_plan::{Context, InUse, Known, Owner, Plan, Ref, Step};
use serde_json::{Value, json};
use sim::Sim;

fn owner() -> Owner {
    Owner { kind: "VpcTier".into(), namespace: "platform".into(), name: "shop".into(), uid: "uid-1".into() }
}

fn zones() -> Vec<Zone> {
    ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"].map(|z| Zone::new(z, "available")).to_vec()
}

fn base(zones: u32, groups: Value) -> Value {
    json!({
        "region": "us-east-1", "cidrBlock": "10.20.0.0/16", "availabilityZones": zones, "natGateways": "None",
        "tiers": [
            {"name": "app", "type": "Private", "prefixLength": 20},
            {"name": "database", "type": "Isolated", "prefixLength": 24},
        ],
        "subnetGroups": groups,
        "tags": {"team": "platform"},
    })
}

fn both() -> Value {
    json!([
        {"name": "orders", "tier": "database", "service": "RDS"},
        {"name": "carts", "tier": "database", "service": "ElastiCache"},
    ])
}

fn spec(v: Value) -> VpcTierSpec {
    serde_json::from_value(v).expect("a VpcTierSpec")
}

const ORDERS: &str = "platform-shop-orders";
const CARTS: &str = "platform-shop-carts";

/// The subnet-group API of one region, both services.
#[derive(Default)]
struct Groups {
    groups: BTreeMap<(SubnetGroupService, String), SubnetGroup>,
    /// (service, group name) -> databases in it; a database also holds every subnet of its group.
    databases: BTreeMap<(SubnetGroupService, String), Vec<String>>,
    log: Vec<String>,
}

struct World {
    net: Sim,
    groups: Groups,
    known: Known,
    zone_count: usize,
}

impl World {
    fn new() -> Self {
        World { net: Sim::new(), groups: Groups::default(), known: Known::new(), zone_count: 3 }
    }

    fn observed(&self) -> network::Observed {
        let mut o = self.net.observed.clone();
        o.subnet_groups = self
            .groups
            .groups
            .iter()
            .map(|(key, g)| SubnetGroup {
                users: self.groups.databases.get(key).cloned().unwrap_or_default(),
                ..g.clone()
            })
            .collect();
        o
    }

    fn plan_as(&mut self, who: &Owner, spec: Option<&VpcTierSpec>) -> Plan<Step> {
        let observed = self.observed();
        for (c, id) in observed.inventory(&who.uid) {
            self.known.entry(c).or_insert(id);
        }
        let zones: Vec<String> = zones().iter().take(self.zone_count).map(|z| z.name.clone()).collect();
        let desired = spec.map(|s| vpc_tier::desired(s, who, zones, &observed).expect("valid"));
        let in_use = InUse::new();
        let cx = Context { owner: who, known: &self.known, in_use: &in_use, chosen: None };
        vpc_tier::plan(desired.as_ref(), &cx, &observed, None)
    }

    fn plan(&mut self, spec: Option<&VpcTierSpec>) -> Plan<Step> {
        self.plan_as(&owner(), spec)
    }

    /// The subnet a created reference names, by its owner's component tag.
    fn subnet_id(&self, r: &Ref) -> Result<String, String> {
        match r {
            Ref::Id(id) => Ok(id.clone()),
            Ref::Created(c) => self
                .net
                .observed
                .subnets
                .iter()
                .find(|s| s.tags.get(securecart_api::tags::COMPONENT) == Some(c))
                .map(|s| s.id.clone())
                .ok_or_else(|| format!("{c} was not created before the group that uses it")),
        }
    }

    /// Applies a plan in the order its dependencies allow: networking creates and changes, then
    /// group creates and changes, group deletes, networking deletes. Fails where AWS would.
    fn apply(&mut self, plan: &Plan<Step>) -> Result<(), String> {
        let network = |deletes: bool| Plan {
            steps: plan
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::Network(n) if (n.verb() == Verb::Delete) == deletes => Some(n.clone()),
                    _ => None,
                })
                .collect(),
            ..Plan::default()
        };
        self.net.apply(&network(false))?;
        let groups: Vec<&subnet_group::Step> =
            plan.steps.iter().filter_map(|s| if let Step::SubnetGroup(g) = s { Some(g) } else { None }).collect();
        for g in groups.iter().filter(|g| g.verb() != Verb::Delete) {
            self.apply_group(g)?;
        }
        for g in groups.iter().filter(|g| g.verb() == Verb::Delete) {
            self.apply_group(g)?;
        }
        let deletes = network(true);
        for s in &deletes.steps {
            if let network::Step::DeleteSubnet { id } = s
                && let Some(g) = self.groups.groups.values().find(|g| g.subnet_ids.contains(id))
            {
                return Err(format!("DeleteSubnet {id}: subnet group {} still holds it", g.name));
            }
        }
        self.net.apply(&deletes)
    }

    fn zones_of(&self, ids: &BTreeSet<String>) -> Result<BTreeSet<String>, String> {
        ids.iter()
            .map(|id| {
                self.net
                    .observed
                    .subnets
                    .iter()
                    .find(|s| &s.id == id)
                    .map(|s| s.zone.clone())
                    .ok_or(format!("{id} does not exist"))
            })
            .collect()
    }

    fn apply_group(&mut self, step: &subnet_group::Step) -> Result<(), String> {
        let service = step.service();
        self.groups.log.push(format!("{} {step}", step.action()));
        let check = |w: &World, subnets: &[Ref]| -> Result<BTreeSet<String>, String> {
            let ids: BTreeSet<String> = subnets.iter().map(|r| w.subnet_id(r)).collect::<Result<_, _>>()?;
            if service == SubnetGroupService::Rds && w.zones_of(&ids)?.len() < 2 {
                return Err("DBSubnetGroupDoesNotCoverEnoughAZs".into());
            }
            Ok(ids)
        };
        match step {
            subnet_group::Step::Create { name, description, subnets, tags, .. } => {
                let key = (service, name.clone());
                if self.groups.groups.contains_key(&key) {
                    return Err(format!("{name}: AlreadyExists"));
                }
                let subnet_ids = check(self, subnets)?;
                let arn = format!("arn:aws:{service:?}:us-east-1:123456789012:subgrp:{name}").to_lowercase();
                let group = SubnetGroup {
                    service: Some(service),
                    name: name.clone(),
                    arn,
                    description: description.clone(),
                    subnet_ids,
                    tags: tags.clone(),
                    users: Vec::new(),
                };
                self.groups.groups.insert(key, group);
            }
            subnet_group::Step::Modify { name, description, subnets, .. } => {
                let ids = check(self, subnets)?;
                let key = (service, name.clone());
                let in_use = self.groups.databases.get(&key).is_some_and(|d| !d.is_empty());
                let g = self.groups.groups.get_mut(&key).ok_or(format!("{name}: NotFound"))?;
                if in_use && !g.subnet_ids.is_subset(&ids) {
                    return Err(format!("{name}: SubnetInUse"));
                }
                g.subnet_ids = ids;
                g.description = description.clone();
            }
            subnet_group::Step::SetTags { arn, tags, .. } => {
                let g = self.groups.groups.values_mut().find(|g| &g.arn == arn).ok_or(format!("{arn}: NotFound"))?;
                g.tags.extend(tags.clone());
            }
            subnet_group::Step::Delete { name, .. } => {
                let key = (service, name.clone());
                if self.groups.databases.get(&key).is_some_and(|d| !d.is_empty()) {
                    return Err(format!("{name}: InvalidDBSubnetGroupStateFault (in use)"));
                }
                self.groups.groups.remove(&key);
            }
        }
        Ok(())
    }

    fn converge_as(&mut self, who: &Owner, spec: Option<&VpcTierSpec>, max: usize) -> Vec<Plan<Step>> {
        let mut applied = Vec::new();
        for _ in 0..max {
            let plan = self.plan_as(who, spec);
            if plan.steps.is_empty() {
                return applied;
            }
            if let Err(e) = self.apply(&plan) {
                panic!("{e}\nplan:\n{}", plan.render());
            }
            applied.push(plan);
        }
        panic!("not converged after {max} passes:\n{}", self.plan_as(who, spec).render());
    }

    fn converge(&mut self, spec: Option<&VpcTierSpec>, max: usize) -> Vec<Plan<Step>> {
        self.converge_as(&owner(), spec, max)
    }

    fn group(&self, service: SubnetGroupService, name: &str) -> Option<&SubnetGroup> {
        self.groups.groups.get(&(service, name.to_string()))
    }

    fn tier_subnets(&self, tier: &str) -> BTreeSet<String> {
        self.net
            .observed
            .subnets
            .iter()
            .filter(|s| {
                s.tags.get(securecart_api::tags::COMPONENT).is_some_and(|c| c.starts_with(&format!("subnet/{tier}/")))
            })
            .map(|s| s.id.clone())
            .collect()
    }

    fn add_database(&mut self, service: SubnetGroupService, group: &str, name: &str) {
        self.groups.databases.entry((service, group.to_string())).or_default().push(name.to_string());
    }
}

/// Every subnet delete of `plan` waits, in the executor's dependency graph, for every step on a
/// subnet group (the simulator's own order would hide a wrong graph).
fn subnet_deletes_wait_for_groups(plan: &Plan<Step>) {
    let deps = plan.dependencies();
    let groups: Vec<usize> = (0..plan.steps.len()).filter(|&i| matches!(plan.steps[i], Step::SubnetGroup(_))).collect();
    let mut checked = 0;
    for (i, step) in plan.steps.iter().enumerate() {
        if let Step::Network(network::Step::DeleteSubnet { .. }) = step {
            checked += 1;
            for g in &groups {
                assert!(deps[i].contains(g), "{} does not wait for {}:\n{}", step, plan.steps[*g], plan.render());
            }
        }
    }
    assert!(checked > 0 && !groups.is_empty(), "the plan deletes subnets and changes groups:\n{}", plan.render());
}

fn group_steps(plan: &Plan<Step>) -> Vec<String> {
    plan.steps
        .iter()
        .filter_map(
            |s| if let Step::SubnetGroup(g) = s { Some(format!("{} {}", g.action(), name_of(g))) } else { None },
        )
        .collect()
}

fn name_of(step: &subnet_group::Step) -> &str {
    match step {
        subnet_group::Step::Create { name, .. }
        | subnet_group::Step::Modify { name, .. }
        | subnet_group::Step::Delete { name, .. } => name,
        subnet_group::Step::SetTags { component, .. } => component,
    }
}

#[test]
fn groups_are_created_over_the_tier_in_every_zone_after_its_subnets() {
    let s = spec(base(3, both()));
    let mut w = World::new();
    let first = w.plan(Some(&s));
    // Each group waits for the subnets it names.
    let deps = first.dependencies();
    for (i, step) in first.steps.iter().enumerate() {
        if let Step::SubnetGroup(g) = step {
            let waits_for: Vec<&Step> = deps[i].iter().map(|&d| &first.steps[d]).collect();
            for r in g.refs() {
                let c = r.created().expect("a new subnet");
                assert!(c.starts_with("subnet/database/"), "{c}");
                assert!(waits_for.iter().any(|s| s.creates() == Some(c)), "{} does not wait for {c}", g);
            }
        }
    }
    w.converge(Some(&s), 4);
    let database = w.tier_subnets("database");
    assert_eq!(database.len(), 3);
    for (service, name) in [(SubnetGroupService::Rds, ORDERS), (SubnetGroupService::ElastiCache, CARTS)] {
        let g = w.group(service, name).unwrap_or_else(|| panic!("{name} exists"));
        assert_eq!(g.subnet_ids, database, "{name} holds the database tier's subnets");
        assert_eq!(g.tags.get(securecart_api::tags::OWNER_UID).map(String::as_str), Some("uid-1"));
        assert_eq!(g.tags.get("team").map(String::as_str), Some("platform"), "user tags too");
        assert!(g.description.contains("VpcTier platform/shop, tier database"), "{}", g.description);
    }
    let again = w.plan(Some(&s));
    assert!(again.in_sync(), "a converged VpcTier plans nothing:\n{}", again.render());

    let observed = w.observed();
    let desired =
        vpc_tier::desired(&s, &owner(), vec!["us-east-1a".into(), "us-east-1b".into(), "us-east-1c".into()], &observed)
            .expect("valid");
    let status = vpc_tier::status(&desired, &observed, &Known::new());
    let names: Vec<(&str, &str)> =
        status.subnet_groups.iter().map(|g| (g.name.as_str(), g.group_name.as_str())).collect();
    assert_eq!(names, [("orders", ORDERS), ("carts", CARTS)]);
    assert_eq!(status.subnet_groups[0].subnet_ids.iter().cloned().collect::<BTreeSet<_>>(), database);
    assert!(status.subnet_groups[0].arn.as_deref().is_some_and(|a| a.ends_with(ORDERS)));
}

#[test]
fn zones_added_and_removed_keep_each_group_to_the_tier() {
    let s3 = spec(base(3, both()));
    let mut w = World::new();
    w.converge(Some(&s3), 4);

    w.zone_count = 4;
    let s4 = spec(base(4, both()));
    let grown = w.converge(Some(&s4), 4);
    assert_eq!(
        group_steps(&grown[0]),
        [format!("ModifyDBSubnetGroup {ORDERS}"), format!("ModifyCacheSubnetGroup {CARTS}")]
    );
    assert_eq!(w.group(SubnetGroupService::Rds, ORDERS).unwrap().subnet_ids, w.tier_subnets("database"));
    assert_eq!(w.tier_subnets("database").len(), 4);

    // Shrinking: the groups let go of the zone's subnet before it is deleted (the simulator
    // refuses to delete a subnet a group holds).
    w.zone_count = 2;
    let s2 = spec(base(2, both()));
    let shrunk = w.converge(Some(&s2), 4);
    subnet_deletes_wait_for_groups(&shrunk[0]);
    assert_eq!(w.tier_subnets("database").len(), 2);
    assert_eq!(w.group(SubnetGroupService::ElastiCache, CARTS).unwrap().subnet_ids, w.tier_subnets("database"));
}

#[test]
fn a_lost_create_response_is_found_by_name_not_repeated() {
    let s = spec(base(3, both()));
    let mut w = World::new();
    let plan = w.plan(Some(&s));
    w.apply(&plan).expect("applies");
    // The status never recorded the groups (the process died before writing it).
    w.known.clear();
    let next = w.plan(Some(&s));
    assert!(
        group_steps(&next).iter().all(|s| !s.starts_with("Create")),
        "groups found by their names are not created again:\n{}",
        next.render()
    );
    w.converge(Some(&s), 3);
    assert_eq!(w.groups.groups.len(), 2);
}

#[test]
fn drift_of_subnets_description_and_tags_is_repaired() {
    let s = spec(base(3, both()));
    let mut w = World::new();
    w.converge(Some(&s), 4);
    let key = (SubnetGroupService::Rds, ORDERS.to_string());
    let g = w.groups.groups.get_mut(&key).unwrap();
    let dropped = g.subnet_ids.iter().next().cloned().unwrap();
    g.subnet_ids.remove(&dropped);
    g.tags.remove("team");
    let plan = w.plan(Some(&s));
    assert_eq!(
        group_steps(&plan),
        [format!("ModifyDBSubnetGroup {ORDERS}"), "AddTagsToResource subnet-group/rds/orders".to_string()]
    );
    w.converge(Some(&s), 2);
    assert!(w.group(SubnetGroupService::Rds, ORDERS).unwrap().subnet_ids.contains(&dropped));

    let described = spec(base(
        3,
        json!([{"name": "orders", "tier": "database", "service": "RDS", "description": "orders database"}, both()[1]]),
    ));
    let plan = w.plan(Some(&described));
    assert_eq!(group_steps(&plan), [format!("ModifyDBSubnetGroup {ORDERS}")]);
    w.converge(Some(&described), 2);
    assert_eq!(w.group(SubnetGroupService::Rds, ORDERS).unwrap().description, "orders database");
}

#[test]
fn a_group_removed_from_the_spec_is_deleted_unless_a_database_uses_it() {
    let s = spec(base(3, both()));
    let mut w = World::new();
    w.converge(Some(&s), 4);
    w.add_database(SubnetGroupService::Rds, ORDERS, "DB instance orders-db");

    let only_carts = spec(base(3, json!([both()[1]])));
    let plan = w.plan(Some(&only_carts));
    assert!(plan.steps.is_empty(), "nothing is deleted from under the database:\n{}", plan.render());
    assert_eq!(plan.blocked.len(), 1);
    assert_eq!(plan.blocked[0].reason, reason::DELETION_BLOCKED);
    assert_eq!(plan.blocked[0].message, format!("DB subnet group {ORDERS} is used by DB instance orders-db"));

    w.groups.databases.clear();
    let plan = w.plan(Some(&only_carts));
    assert_eq!(group_steps(&plan), [format!("DeleteDBSubnetGroup {ORDERS}")]);
    w.converge(Some(&only_carts), 2);
    assert!(w.group(SubnetGroupService::Rds, ORDERS).is_none());
    assert!(w.group(SubnetGroupService::ElastiCache, CARTS).is_some());
}

#[test]
fn a_tier_whose_group_is_in_use_keeps_its_subnets_until_the_database_is_gone() {
    let s = spec(base(3, json!([both()[0]])));
    let mut w = World::new();
    w.converge(Some(&s), 4);
    w.add_database(SubnetGroupService::Rds, ORDERS, "DB cluster orders");
    let database = w.tier_subnets("database");

    let mut without = base(3, json!([]));
    without["tiers"] = json!([{"name": "app", "type": "Private", "prefixLength": 20}]);
    let without = spec(without);
    let plan = w.plan(Some(&without));
    let deleted: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(
            |s| if let Step::Network(network::Step::DeleteSubnet { id }) = s { Some(id.as_str()) } else { None },
        )
        .collect();
    assert!(deleted.iter().all(|id| !database.contains(*id)), "database subnets kept:\n{}", plan.render());
    assert!(plan.blocked.iter().any(|b| b.message.contains("DB cluster orders")), "{}", plan.render());
    assert!(
        plan.waiting.iter().any(|m| m.contains(&format!("released by DB subnet group {ORDERS}"))),
        "the subnets wait for the group: {:?}",
        plan.waiting
    );
    w.apply(&plan).expect("applies");
    assert_eq!(w.tier_subnets("database"), database);

    w.groups.databases.clear();
    w.converge(Some(&without), 4);
    assert!(w.tier_subnets("database").is_empty());
    assert!(w.groups.groups.is_empty());
}

#[test]
fn teardown_waits_for_databases_then_deletes_groups_before_subnets() {
    let s = spec(base(3, both()));
    let mut w = World::new();
    w.converge(Some(&s), 4);
    w.add_database(SubnetGroupService::ElastiCache, CARTS, "cache cluster carts-1");

    let plan = w.plan(None);
    assert!(plan.steps.is_empty(), "nothing of the VpcTier is torn down while a database runs:\n{}", plan.render());
    assert_eq!(plan.blocked[0].message, format!("cache subnet group {CARTS} is used by cache cluster carts-1"));

    w.groups.databases.clear();
    let teardown = w.converge(None, 6);
    subnet_deletes_wait_for_groups(&teardown[0]);
    assert!(w.groups.groups.is_empty());
    assert!(w.net.observed.vpcs.is_empty(), "the network goes too");
    let deletes: Vec<&String> = w.groups.log.iter().filter(|l| l.starts_with("Delete")).collect();
    assert_eq!(deletes.len(), 2, "{:?}", w.groups.log);
}

#[test]
fn a_group_of_the_same_name_without_the_owners_tags_is_never_taken() {
    let s = spec(base(3, json!([both()[0]])));
    let mut w = World::new();
    // Someone else's group already has the name the VpcTier derives.
    let stranger = Owner { uid: "uid-other".into(), ..owner() };
    w.converge_as(&stranger, Some(&s), 4);
    let theirs = w.group(SubnetGroupService::Rds, ORDERS).cloned().expect("theirs");

    let plan = w.plan(Some(&s));
    assert!(group_steps(&plan).is_empty(), "{}", plan.render());
    assert_eq!(plan.blocked.len(), 1);
    assert_eq!(plan.blocked[0].reason, reason::NAME_TAKEN);
    assert!(plan.blocked[0].message.contains(ORDERS), "{}", plan.blocked[0].message);

    // Nor deleted in the owner's teardown.
    let teardown = w.plan(None);
    assert!(group_steps(&teardown).is_empty(), "{}", teardown.render());
    assert_eq!(w.group(SubnetGroupService::Rds, ORDERS), Some(&theirs));
}

#[test]
fn invalid_groups_are_rejected_naming_the_field() {
    let err = |v: Value| vpc_tier::validate(&spec(v)).expect_err("invalid").0;
    let one_zone = err(base(1, json!([both()[0]])));
    assert!(one_zone.starts_with("spec.subnetGroups[0]:") && one_zone.contains("two zones"), "{one_zone}");
    let no_tier = err(base(3, json!([{"name": "x", "tier": "web", "service": "ElastiCache"}])));
    assert!(no_tier.starts_with("spec.subnetGroups[0].tier:"), "{no_tier}");
    let twice = err(base(3, json!([both()[0], both()[0]])));
    assert!(twice.starts_with("spec.subnetGroups[1].name:"), "{twice}");
    // One name may serve both services.
    vpc_tier::validate(&spec(base(
        3,
        json!([{"name": "a", "tier": "database", "service": "RDS"}, {"name": "a", "tier": "database", "service": "ElastiCache"}]),
    )))
    .expect("valid");
    // An ElastiCache group is fine in one zone.
    vpc_tier::validate(&spec(base(1, json!([both()[1]])))).expect("valid");
}

#[test]
fn aws_names_derive_from_the_owner_and_fit_the_limit() {
    assert_eq!(subnet_group::aws_name(&owner(), "orders"), ORDERS);
    let long = Owner { name: "v".repeat(253), ..owner() };
    let name = subnet_group::aws_name(&long, "orders");
    assert_eq!(name.len(), 255);
    assert_ne!(name, subnet_group::aws_name(&long, "carts"), "still unique per group");
}
