//! GlobalEntrypoint on the engine: it uses LoadBalancerPolicies (CloudFront origins, Global
//! Accelerator endpoints), none of which can be deleted from under it, and follows a policy
//! that replaces its load balancer. Its AWS resources are global: CloudFront, WAF's CLOUDFRONT
//! scope, Shield and Route 53 through us-east-1, Global Accelerator through us-west-2.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::conditions::LOAD_BALANCER_READY;
use securecart_api::{
    DeletionPolicy, EntrypointType, GlobalEntrypoint, GlobalEntrypointStatus, LoadBalancerPolicy, LoadBalancerType,
    Scheme,
};
use securecart_aws::cloudfront::CloudFrontScope;
use securecart_aws::globalaccelerator::AcceleratorScope;
use securecart_aws::route53::DnsScope;
use securecart_aws::wafv2::WafScope;
use securecart_aws::{AwsError, GLOBAL_REGION};
use securecart_plan::cloudfront::{self, components as cf_components};
use securecart_plan::conditions::Readiness;
use securecart_plan::global_accelerator::{self, components as ga_components};
use securecart_plan::global_entrypoint::{self as plan, Observed, Policies, PolicyView};
use securecart_plan::wafv2::Scope;
use securecart_plan::{Context as PlanContext, InvalidSpec, Known, Owner, Plan, Step};

use super::{ids, recorded};
use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved, ready_state};

impl Managed for GlobalEntrypoint {
    type StatusFields = GlobalEntrypointStatus;
    const KIND: &'static str = "GlobalEntrypoint";
}

fn type_name(t: LoadBalancerType) -> &'static str {
    match t {
        LoadBalancerType::Application => "Application",
        LoadBalancerType::Network => "Network",
        LoadBalancerType::Gateway => "Gateway",
    }
}

/// What the entry point reads of a referenced policy: its load balancer from its status
/// (whatever its Ready says, so a replacement is followed as soon as it is published).
fn view(field: &str, name: &str, policy: &LoadBalancerPolicy) -> Result<PolicyView, Unresolved> {
    plan::check_policy(field, name, type_name(policy.spec.lb_type), policy.spec.scheme == Scheme::InternetFacing)?;
    let status = policy.status.as_ref();
    let waiting = || Unresolved::Waiting(format!("LoadBalancerPolicy {name} to report its load balancer"));
    let active = status
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == LOAD_BALANCER_READY))
        .is_some_and(|c| c.status == "True");
    Ok(PolicyView {
        region: status.and_then(|s| s.region.clone()).ok_or_else(waiting)?,
        load_balancer_arn: status.and_then(|s| s.load_balancer_arn.clone()).ok_or_else(waiting)?,
        dns_name: status.and_then(|s| s.dns_name.clone()).ok_or_else(waiting)?,
        active,
        ready: ready_state(policy) == "True",
        application: policy.spec.lb_type == LoadBalancerType::Application,
    })
}

impl Kind for GlobalEntrypoint {
    type Facts = Policies;
    type Desired = plan::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        let mut refs: Vec<Reference> = plan::policy_refs(&self.spec)
            .into_iter()
            .map(|(_, name)| Reference::new(LoadBalancerPolicy::KIND, &name))
            .collect();
        refs.dedup();
        refs
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        plan::validate(&self.spec)
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    async fn resolve(&self, cx: &Cx<'_>) -> Result<Policies, Unresolved> {
        let mut policies = Policies::new();
        for (field, name) in plan::policy_refs(&self.spec) {
            let policy = cx
                .get::<LoadBalancerPolicy>(&name)
                .ok_or_else(|| Unresolved::Waiting(format!("LoadBalancerPolicy {name} to exist")))?;
            policies.insert(name.clone(), view(&field, &name, &policy)?);
        }
        Ok(policies)
    }

    /// Global: CloudFront's endpoint region, or Global Accelerator's control plane.
    fn region(&self, _facts: Option<&Policies>) -> Option<String> {
        Some(match self.spec.entry_type {
            EntrypointType::CloudFront => GLOBAL_REGION.to_string(),
            EntrypointType::GlobalAccelerator => global_accelerator::CONTROL_REGION.to_string(),
        })
    }

    /// The distribution or accelerator by the ID or ARN the status records (by tags when
    /// searching), the origin access controls by their derived names, the web ACL by ARN,
    /// Shield by protection ID and the edge's ARN, the records from their name.
    async fn observe(&self, cx: &Cx<'_>, _region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let recorded = recorded(cx, self.status.as_ref(), how);
        let owner = cx.owner;
        let (owner_uid, search) = (owner.uid.as_str(), how.search);
        let aws = cx.aws();
        let mut observed = Observed::default();
        match self.spec.entry_type {
            EntrypointType::CloudFront => {
                let distribution_ids = ids(&recorded, |c| c == cf_components::DISTRIBUTION);
                let oac_ids = ids(&recorded, |c| c.starts_with("oac/"));
                // The spec's S3 origins and those the status records (an origin since removed
                // still has a control to delete).
                let recorded_known: Known = recorded.iter().cloned().collect();
                let mut oac_names = cloudfront::access_control_names(owner, None, &recorded_known);
                oac_names.extend(
                    self.spec
                        .cloud_front
                        .iter()
                        .flat_map(|cf| cf.origins.iter().filter(|o| o.s3.is_some()))
                        .map(|o| cloudfront::access_control_name(owner, &o.name)),
                );
                oac_names.sort();
                oac_names.dedup();
                let acl_arns = ids(&recorded, |c| c == "webacl");
                let (cloudfront, wafv2) = (aws.cloudfront().await, aws.wafv2(Scope::CloudFront, GLOBAL_REGION).await);
                let (cf, waf) = futures::try_join!(
                    cloudfront.observe(CloudFrontScope {
                        owner_uid,
                        distribution_ids: &distribution_ids,
                        origin_access_control_ids: &oac_ids,
                        origin_access_control_names: &oac_names,
                        search,
                    }),
                    wafv2.observe(WafScope { owner_uid, acl_arns: &acl_arns, search, resources: &[] }),
                )?;
                observed.cloudfront = cf;
                observed.wafv2 = waf;
            }
            EntrypointType::GlobalAccelerator => {
                let accelerator_arns = ids(&recorded, |c| c == ga_components::ACCELERATOR);
                observed.accelerator = aws
                    .global_accelerator()
                    .await
                    .observe(AcceleratorScope { owner_uid, accelerator_arns: &accelerator_arns, search })
                    .await?;
            }
        }
        let edge_arns: Vec<String> = observed
            .cloudfront
            .distributions
            .iter()
            .map(|d| d.arn.clone())
            .chain(observed.accelerator.accelerators.iter().map(|a| a.arn.clone()))
            .collect();
        let shield_wanted = self.spec.shield.as_ref().is_some_and(|s| s.enabled);
        let protectable = if shield_wanted || search { edge_arns } else { Vec::new() };
        let (protection_ids, health_check_ids) =
            (ids(&recorded, |c| c == "shield"), ids(&recorded, |c| c == "healthcheck"));
        let dns_target = self.spec.dns.as_ref().and_then(securecart_plan::dns::target);
        let (shield, route53) = (aws.shield().await, aws.route53().await);
        let (protections, route53) = futures::try_join!(
            shield.observe(&protection_ids, &protectable),
            route53.observe(DnsScope {
                owner_uid,
                health_check_ids: &health_check_ids,
                search,
                records: dns_target.as_ref().map(|(zone, name)| (zone, name.as_str())),
            }),
        )?;
        observed.protections = protections;
        observed.route53 = route53;
        Ok(observed)
    }

    fn desired(&self, owner: &Owner, facts: &Policies, _observed: &Observed) -> Result<plan::Desired, InvalidSpec> {
        plan::desired(&self.spec, owner, facts)
    }

    fn plan(&self, desired: Option<&plan::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        plan::plan(desired, cx, observed).into()
    }

    fn status_fields(
        &self,
        _facts: &Policies,
        desired: &plan::Desired,
        observed: &Observed,
        _known: &securecart_plan::Known,
        previous: &[Condition],
        now: &Time,
    ) -> GlobalEntrypointStatus {
        plan::status(desired, observed, self.metadata.generation, previous, now)
    }

    /// Ready once the plan is done and the edge has deployed it, with every referenced policy Ready.
    fn readiness(&self, desired: &plan::Desired, observed: &Observed, plan: &Plan<Step>) -> Readiness {
        let base = securecart_plan::conditions::blocked(&plan.blocked)
            .unwrap_or_else(|| securecart_plan::conditions::settled(plan.steps.len(), &plan.waiting));
        match (base, plan::not_ready(desired, observed)) {
            (Readiness::Ready, Some(why)) => Readiness::progressing(why),
            (base, _) => base,
        }
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        plan::inventory(owner, observed)
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        plan::owns_anything(owner, observed)
    }
}
