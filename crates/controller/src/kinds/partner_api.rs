//! PartnerApi on the engine: it uses a VpcTier (its region and VPC) and a LoadBalancerPolicy (the
//! load balancer its VPC link reaches, followed when the policy replaces it), neither of which
//! can be deleted from under it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use securecart_api::{
    ApiType, DeletionPolicy, LoadBalancerPolicy, LoadBalancerType, PartnerApi, PartnerApiStatus, VpcTier,
};
use securecart_aws::AwsError;
use securecart_aws::apigateway::ApiScope;
use securecart_aws::ec2::InVpc;
use securecart_aws::wafv2::WafScope;
use securecart_plan::apigateway::components;
use securecart_plan::http_api::components as http_components;
use securecart_plan::partner_api::{self as plan, BackendView, Observed};
use securecart_plan::wafv2::Scope;
use securecart_plan::{Context as PlanContext, InvalidSpec, Owner};

use super::{ids, recorded};
use crate::engine::{Cx, Kind, Managed, Observe, Planned, Reference, Unresolved};

impl Managed for PartnerApi {
    type StatusFields = PartnerApiStatus;
    const KIND: &'static str = "PartnerApi";
}

fn type_name(t: LoadBalancerType) -> &'static str {
    match t {
        LoadBalancerType::Application => "Application",
        LoadBalancerType::Network => "Network",
        LoadBalancerType::Gateway => "Gateway",
    }
}

impl Kind for PartnerApi {
    type Facts = BackendView;
    type Desired = plan::Desired;
    type Observed = Observed;

    fn references(&self) -> Vec<Reference> {
        vec![
            Reference::new(VpcTier::KIND, &self.spec.vpc_tier_ref.name),
            Reference::new(LoadBalancerPolicy::KIND, &self.spec.backend.load_balancer_policy_ref.name),
        ]
    }

    fn validate(&self) -> Result<(), InvalidSpec> {
        plan::validate(&self.spec)
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    /// The backend policy's load balancer, from its status (whatever its Ready says, so a
    /// replacement is followed as soon as the policy publishes it), in the VpcTier's region.
    async fn resolve(&self, cx: &Cx<'_>) -> Result<BackendView, Unresolved> {
        let tier = &self.spec.vpc_tier_ref.name;
        let vpc_tier =
            cx.get::<VpcTier>(tier).ok_or_else(|| Unresolved::Waiting(format!("VpcTier {tier} to exist")))?;
        let name = &self.spec.backend.load_balancer_policy_ref.name;
        let policy = cx
            .get::<LoadBalancerPolicy>(name)
            .ok_or_else(|| Unresolved::Waiting(format!("LoadBalancerPolicy {name} to exist")))?;
        let ports: Vec<u16> = policy.spec.listeners.iter().filter_map(|l| l.port).collect();
        plan::check_backend(&self.spec, type_name(policy.spec.lb_type), &ports)?;
        let region = vpc_tier.spec.region.clone();
        let status = policy.status.as_ref();
        if let Some(other) = status.and_then(|s| s.region.as_ref()).filter(|r| **r != region) {
            return Err(Unresolved::Invalid(InvalidSpec(format!(
                "spec.backend.loadBalancerPolicyRef: LoadBalancerPolicy {name} is in {other}, the API in {region} (VpcTier {tier})"
            ))));
        }
        let waiting = || Unresolved::Waiting(format!("LoadBalancerPolicy {name} to report its load balancer"));
        let load_balancer_arn = status.and_then(|s| s.load_balancer_arn.clone()).ok_or_else(waiting)?;
        let dns_name = status.and_then(|s| s.dns_name.clone()).ok_or_else(waiting)?;
        let port = Some(self.spec.backend.port);
        let listener_arn = status.and_then(|s| s.listeners.iter().find(|l| l.port == port)).map(|l| l.arn.clone());
        let subnet_ids = status.map(|s| s.subnet_ids.clone()).unwrap_or_default();
        let vpc_id = vpc_tier.status.as_ref().and_then(|s| s.vpc_id.clone());
        let vpc_id = vpc_id.ok_or_else(|| Unresolved::Waiting(format!("VpcTier {tier} to report its VPC")))?;
        if self.spec.api_type == ApiType::Http && (listener_arn.is_none() || subnet_ids.is_empty()) {
            return Err(Unresolved::Waiting(format!(
                "LoadBalancerPolicy {name} to report its listener on port {} and its subnets",
                self.spec.backend.port
            )));
        }
        Ok(BackendView { region, load_balancer_arn, dns_name, listener_arn, subnet_ids, vpc_id })
    }

    fn region(&self, facts: Option<&BackendView>) -> Option<String> {
        facts.map(|f| f.region.clone()).or_else(|| self.status.as_ref()?.region.clone())
    }

    /// By the IDs the status records (API, VPC link, usage plans, web ACL), the kept API's
    /// resources, methods and stages, and the web ACL of each of its stages; by tags when searching.
    async fn observe(&self, cx: &Cx<'_>, region: &str, how: Observe<'_>) -> Result<Observed, AwsError> {
        let recorded = recorded(cx, self.status.as_ref(), how);
        let (api_ids, vpc_link_ids, usage_plan_ids, acl_arns) = (
            ids(&recorded, |c| c == components::REST_API),
            ids(&recorded, |c| c == components::VPC_LINK),
            ids(&recorded, |c| c.starts_with("usageplan/")),
            ids(&recorded, |c| c == "webacl"),
        );
        let owner_uid = cx.owner.uid.as_str();
        if self.spec.api_type == ApiType::Http {
            let api_ids = ids(&recorded, |c| c == http_components::HTTP_API);
            let group_ids = ids(&recorded, |c| c == http_components::SECURITY_GROUP);
            let (ec2, v2) = (cx.aws().ec2(region).await, cx.aws().apigatewayv2(region).await);
            let vpc = self.resolve(cx).await.ok().map(|b| b.vpc_id);
            let (http, security_groups) = futures::try_join!(
                v2.observe(owner_uid, &api_ids, &vpc_link_ids, how.search),
                ec2.observe_security_groups(InVpc {
                    owner_uid,
                    vpc_id: vpc.as_deref(),
                    ids: &group_ids,
                    search: how.search
                }),
            )?;
            return Ok(Observed { http, security_groups, ..Default::default() });
        }
        let apigateway = cx
            .aws()
            .apigateway(region)
            .await
            .observe(ApiScope {
                owner_uid,
                api_ids: &api_ids,
                vpc_link_ids: &vpc_link_ids,
                usage_plan_ids: &usage_plan_ids,
                search: how.search,
            })
            .await?;
        let stages = plan::stage_arns(cx.owner, &apigateway, region);
        let wafv2 = cx
            .aws()
            .wafv2(Scope::Regional, region)
            .await
            .observe(WafScope { owner_uid, acl_arns: &acl_arns, search: how.search, resources: &stages })
            .await?;
        Ok(Observed { apigateway, wafv2, ..Default::default() })
    }

    fn desired(&self, owner: &Owner, facts: &BackendView, _observed: &Observed) -> Result<plan::Desired, InvalidSpec> {
        plan::desired(&self.spec, owner, facts)
    }

    fn plan(&self, desired: Option<&plan::Desired>, cx: &PlanContext<'_>, observed: &Observed) -> Planned {
        let region = desired.map(|d| d.region.clone()).or_else(|| self.status.as_ref()?.region.clone());
        plan::plan(desired, cx, observed, region.as_deref().unwrap_or_default()).into()
    }

    fn status_fields(
        &self,
        _facts: &BackendView,
        desired: &plan::Desired,
        observed: &Observed,
        known: &securecart_plan::Known,
        _previous: &[Condition],
        _now: &Time,
    ) -> PartnerApiStatus {
        plan::status(desired, observed, known)
    }

    fn inventory(&self, owner: &Owner, observed: &Observed) -> Vec<(String, String)> {
        plan::inventory(owner, observed)
    }

    fn owns_anything(&self, owner: &Owner, observed: &Observed) -> bool {
        plan::owns_anything(owner, observed)
    }
}
