//! LoadBalancerPolicy on the engine: it uses a VpcTier, and holds the subnets its load
//! balancer is in, so the VpcTier keeps them until the load balancer has moved off. Its AWS
//! state is read by what is known (recorded IDs and ARNs, names derived from the owner), never
//! by listing the account, except for the searches an unknown create outcome or a teardown needs.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{DeletionPolicy, LoadBalancerPolicy, LoadBalancerPolicyStatus, LoadBalancerType, VpcTier};
use securecart_aws::cloudwatch::AlarmScope;
use securecart_aws::ec2::InVpc;
use securecart_aws::elbv2::ElbScope;
use securecart_aws::route53::DnsScope;
use securecart_aws::wafv2::WafScope;
use securecart_aws::{AwsError, Execution};
use securecart_plan::cloudwatch::{ROUTE53_METRICS_REGION, parse_arn};
use securecart_plan::load_balancer_policy::alarms;
use securecart_plan::load_balancer_policy::{self as plan, Observed, Placement, SECURITY_GROUP};
use securecart_plan::wafv2::Scope;
use securecart_plan::{Context as PlanContext, InvalidSpec, Owner, Plan, Step};

use super::{ids, recorded};
use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved};

impl Managed for LoadBalancerPolicy {
    type StatusFields = LoadBalancerPolicyStatus;
    const KIND: &'static str = "LoadBalancerPolicy";
}

/// The alarms by the names derived from the owner and those the status records: one
/// `DescribeAlarms` in the home region, one in us-east-1 only when a health-check alarm is
/// wanted or recorded there (or in a search), and tags only of alarms not recorded yet.
async fn observe_alarms(
    lbp: &LoadBalancerPolicy,
    cx: &Cx<'_>,
    region: &str,
    recorded: &[(String, String)],
    search: bool,
) -> Result<securecart_plan::cloudwatch::Observed, AwsError> {
    let owner = cx.owner;
    let recorded: Vec<(String, String)> = recorded
        .iter()
        .filter(|(c, _)| c.starts_with(alarms::components::PREFIX))
        .map(|(c, arn)| (arn.clone(), c.clone()))
        .collect();
    let mut by_region: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    // A policy without `spec.alarms` reads only the alarms its status records (none: no call);
    // a teardown searches anyway.
    let derived =
        if lbp.spec.alarms.is_some() || search { alarms::alarm_names(&lbp.spec, owner, region) } else { Vec::new() };
    for (name, r) in derived {
        let wanted_there = r == region || alarms::wants_health_check_alarm(&lbp.spec) || search;
        if wanted_there {
            by_region.entry(r).or_default().push(name);
        }
    }
    for (arn, _) in &recorded {
        if let Some((r, name)) = parse_arn(arn) {
            by_region.entry(r.to_string()).or_default().push(name.to_string());
        }
    }
    if search {
        by_region.entry(ROUTE53_METRICS_REGION.to_string()).or_default();
    }
    let prefix = alarms::alarm_name_prefix(owner);
    let mut out = securecart_plan::cloudwatch::Observed::default();
    for (r, names) in &by_region {
        let cw = cx.aws().cloudwatch(r).await;
        let scope = AlarmScope { names, recorded: &recorded, search_prefix: search.then_some(prefix.as_str()) };
        out.alarms.extend(cw.observe(scope).await?);
    }
    Ok(out)
}

impl Kind for LoadBalancerPolicy {
    type Facts = Placement;
    type Desired = plan::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        vec![Reference::new(VpcTier::KIND, &self.spec.vpc_tier_ref.name)]
    }

    fn holds(&self) -> Vec<String> {
        self.status.as_ref().map(|s| s.subnet_ids.clone()).unwrap_or_default()
    }

    /// What its users (entry points, partner APIs) read: the load balancer, its DNS name and zone,
    /// its region and listeners; a replaced load balancer requeues them.
    fn published(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        if let Some(s) = &self.status {
            (&s.region, &s.load_balancer_arn, &s.dns_name, &s.canonical_hosted_zone_id).hash(&mut h);
            for l in &s.listeners {
                (&l.port, &l.arn).hash(&mut h);
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

    async fn resolve(&self, cx: &Cx<'_>) -> Result<Placement, Unresolved> {
        let name = &self.spec.vpc_tier_ref.name;
        let tier = cx.get::<VpcTier>(name).ok_or_else(|| Unresolved::Waiting(format!("VpcTier {name} to exist")))?;
        let Some(status) = tier.status.as_ref() else {
            return Err(Unresolved::Waiting(format!("VpcTier {name} to report its subnets")));
        };
        match plan::placement(&self.spec, &tier.spec, status)? {
            Some(p) => Ok(p),
            None => Err(Unresolved::Waiting(format!("VpcTier {name} to report its subnets"))),
        }
    }

    fn region(&self, facts: Option<&Placement>) -> Option<String> {
        facts.map(|f| f.region.clone()).or_else(|| self.status.as_ref()?.region.clone())
    }

    /// Security group by ID (else by VPC); load balancers and target groups by ARN and by their
    /// derived names, listeners, rules, attributes and tags by ARN; the web ACL by name and ID,
    /// the associations of the owner's ALBs, Shield by protection ID and resource ARN, the health
    /// check by ID and the records from their name. Searches only when `how.search`.
    async fn observe(&self, cx: &Cx<'_>, region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let mut recorded = recorded(cx, self.status.as_ref(), how);
        if let Some(s) = &self.status {
            // A status from before the inventory named the load balancer and target groups.
            recorded.extend(s.load_balancer_arn.iter().map(|arn| ("lb".to_string(), arn.clone())));
            recorded.extend(s.target_groups.iter().map(|t| (format!("tg/{}", t.name), t.arn.clone())));
            recorded.sort();
            recorded.dedup();
        }
        let placement = self.resolve(cx).await.ok();
        let owner = cx.owner;
        let (owner_uid, search) = (owner.uid.as_str(), how.search);
        let load_balancer_names = vec![plan::load_balancer_name(&self.spec, owner)];
        let target_group_names =
            placement.as_ref().map(|p| plan::target_group_names(&self.spec, owner, &p.vpc_id)).unwrap_or_default();
        let dns_target = plan::dns_target(&self.spec);
        let (group_ids, lb_arns, tg_arns, health_check_ids) = (
            ids(&recorded, |c| c == SECURITY_GROUP),
            ids(&recorded, |c| c == "lb"),
            ids(&recorded, |c| c.starts_with("tg/")),
            ids(&recorded, |c| c == "healthcheck"),
        );
        let aws = cx.aws();
        let (ec2, elbv2, route53) = (aws.ec2(region).await, aws.elbv2(region).await, aws.route53().await);
        let (security_groups, elbv2, route53) = futures::try_join!(
            ec2.observe_security_groups(InVpc {
                owner_uid,
                // A Gateway load balancer has no group: only a recorded one is read.
                vpc_id: placement
                    .as_ref()
                    .map(|p| p.vpc_id.as_str())
                    .filter(|_| self.spec.lb_type != LoadBalancerType::Gateway),
                ids: &group_ids,
                search,
            }),
            elbv2.observe(ElbScope {
                owner_uid,
                load_balancer_arns: &lb_arns,
                target_group_arns: &tg_arns,
                load_balancer_names: &load_balancer_names,
                target_group_names: &target_group_names,
                // Target group names need the VpcTier's VPC: without it, a search lists the region.
                list_all: search && placement.is_none(),
            }),
            route53.observe(DnsScope {
                owner_uid,
                health_check_ids: &health_check_ids,
                search,
                records: dns_target.as_ref().map(|(zone, name)| (zone, name.as_str())),
            }),
        )?;
        let lbs: Vec<String> = elbv2.load_balancers.iter().map(|l| l.arn.clone()).collect();
        let albs: Vec<String> =
            elbv2.load_balancers.iter().filter(|l| l.lb_type == "application").map(|l| l.arn.clone()).collect();
        let shield_wanted = self.spec.shield.as_ref().is_some_and(|s| s.enabled);
        let protectable = if shield_wanted || search { lbs } else { Vec::new() };
        let (acl_arns, protection_ids) = (ids(&recorded, |c| c == "webacl"), ids(&recorded, |c| c == "shield"));
        let (wafv2, shield) = (aws.wafv2(Scope::Regional, region).await, aws.shield().await);
        let (wafv2, protections) = futures::try_join!(
            wafv2.observe(WafScope { owner_uid, acl_arns: &acl_arns, search, resources: &albs }),
            shield.observe(&protection_ids, &protectable),
        )?;
        let cloudwatch = observe_alarms(self, cx, region, &recorded, search).await?;
        Ok(Observed { security_groups, elbv2, wafv2, protections, route53, cloudwatch })
    }

    fn desired(&self, owner: &Owner, facts: &Placement, _observed: &Observed) -> Result<plan::Desired, InvalidSpec> {
        plan::desired(&self.spec, owner, facts.clone())
    }

    fn plan(&self, desired: Option<&plan::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        let planned = plan::plan(desired, cx, observed);
        Planned { plan: planned.plan, events: planned.replacements.into_iter().map(|m| ("Replacing", m)).collect() }
    }

    /// The security group, load balancing and DNS parts of a plan are folded into the model; a
    /// plan with anything else in it is read back.
    fn absorb(observed: &mut Observed, plan: &Plan<Step>, execution: &Execution) -> bool {
        plan::foldable(plan.steps.iter()) && plan::absorb(observed, &execution.outputs(plan))
    }

    fn status_fields(
        &self,
        _facts: &Placement,
        desired: &plan::Desired,
        observed: &Observed,
        _known: &securecart_plan::Known,
        previous: &[Condition],
        now: &Time,
    ) -> LoadBalancerPolicyStatus {
        plan::status(desired, observed, self.metadata.generation, previous, now)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        plan::inventory(owner, observed)
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        plan::owns_anything(owner, observed)
    }

    /// A status written before the inventory existed names what was made directly.
    fn legacy_status(status: &LoadBalancerPolicyStatus) -> bool {
        status.load_balancer_arn.is_some()
            || status.security_group_id.is_some()
            || status.web_acl_arn.is_some()
            || status.health_check_id.is_some()
            || status.shield_protection_id.is_some()
    }
}
