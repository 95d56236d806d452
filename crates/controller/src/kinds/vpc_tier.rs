//! VpcTier on the engine: no references; its zones are resolved once and pinned in its status;
//! its network is planned by the shared EC2 networking planner and folded back from the
//! results, so a new VpcTier converges without reading back what it made.

use std::hash::{Hash, Hasher};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, VpcTier, VpcTierStatus};
use securecart_aws::ec2::NetworkScope;
use securecart_aws::{AwsError, Execution};
use securecart_plan::network::{self, Observed};
use securecart_plan::vpc_tier::{self as plan};
use securecart_plan::{Context as PlanContext, InvalidSpec, Owner, Plan, Step};

use crate::engine::{Cx, Kind, Managed, Observe, Planned, Unresolved};

impl Managed for VpcTier {
    type StatusFields = VpcTierStatus;
    const KIND: &'static str = "VpcTier";
}

/// The zones the VpcTier uses, pinned.
pub struct Facts {
    zones: Vec<String>,
}

impl Kind for VpcTier {
    type Facts = Facts;
    type Desired = network::Desired;
    type Observed = Observed;

    /// What its users read: the VPC, its zones and its subnets with their route tables.
    fn published(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        if let Some(s) = &self.status {
            (&s.vpc_id, &s.zones, &s.internet_gateway_id).hash(&mut h);
            for sub in &s.subnets {
                (&sub.tier, &sub.zone, &sub.cidr_block, &sub.subnet_id, &sub.route_table_id).hash(&mut h);
            }
        }
        h.finish()
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        plan::validate(&self.spec)
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    async fn resolve(&self, cx: &Cx<'_>) -> Result<Facts, Unresolved> {
        let zones = cx.aws().ec2(&self.spec.region).await.availability_zones().await?;
        let pinned = self.status.as_ref().map(|s| s.zones.clone()).unwrap_or_default();
        let pinned = match cx.ctx.journal.get::<VpcTierStatus>(&cx.owner.uid) {
            Some(written) => written.zones,
            None => pinned,
        };
        Ok(Facts { zones: plan::resolve_zones(&self.spec, &zones, &pinned)? })
    }

    fn region(&self, _facts: Option<&Facts>) -> Option<String> {
        Some(self.spec.region.clone())
    }

    async fn observe(&self, cx: &Cx<'_>, region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let ec2 = cx.aws().ec2(region).await;
        if how.drift {
            return ec2.observe_network_shared(&cx.owner.uid, cx.ctx.settings.resync / 2).await;
        }
        ec2.observe_network(NetworkScope { owner_uid: &cx.owner.uid, known: how.known, search: how.search }).await
    }

    fn desired(&self, owner: &Owner, facts: &Facts, observed: &Observed) -> Result<network::Desired, InvalidSpec> {
        plan::desired(&self.spec, owner, facts.zones.clone(), observed)
    }

    fn plan(&self, desired: Option<&network::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        network::plan(desired, cx, observed).map(Step::Network).into()
    }

    fn absorb(observed: &mut Observed, plan: &Plan<Step>, execution: &Execution) -> bool {
        let executed: Vec<(&network::Step, &securecart_plan::Output)> = execution
            .outputs(plan)
            .into_iter()
            .filter_map(|(step, output)| match step {
                Step::Network(s) => Some((s, output)),
                _ => None,
            })
            .collect();
        network::absorb(observed, &executed);
        true
    }

    fn status_fields(
        &self,
        _facts: &Facts,
        desired: &network::Desired,
        observed: &Observed,
        _previous: &[Condition],
        _now: &Time,
    ) -> VpcTierStatus {
        plan::status(desired, observed)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        observed.inventory(&owner.uid)
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        network::owns_anything(owner, observed)
    }

    fn legacy_status(status: &VpcTierStatus) -> bool {
        status.vpc_id.is_some()
    }

    /// A subnet or VPC that will not go: the network interfaces in it that the controller does
    /// not own (a load balancer's, an endpoint's, an instance's).
    async fn explain_blocked(
        &self,
        cx: &Cx<'_>,
        region: &str,
        observed: &Observed,
        error: &AwsError,
    ) -> Option<String> {
        let ec2 = cx.aws().ec2(region).await;
        let subnet = error
            .message
            .split_whitespace()
            .find(|w| w.starts_with("subnet-"))
            .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-'));
        let mut foreign = Vec::new();
        for v in observed.vpcs.iter().filter(|v| cx.owner.owns(&v.tags)) {
            if let Ok(enis) = ec2.foreign_network_interfaces(&v.id, subnet).await {
                foreign.extend(enis);
            }
        }
        (!foreign.is_empty())
            .then(|| format!("network interfaces this controller does not own: {}", foreign.join(", ")))
    }
}
