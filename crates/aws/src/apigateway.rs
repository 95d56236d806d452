//! API Gateway (REST APIs): observe an owner's APIs, VPC links and usage plans by the IDs the
//! status records (with a search, by their tags, which API Gateway lists with each item), the
//! kept API's resources, methods, stages and served deployments; run the API Gateway steps.

use std::collections::{BTreeMap, HashMap};

use apigw::types::{ConnectionType, EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation};
use aws_sdk_apigateway as apigw;
use securecart_api::tags::OWNER_UID;
use securecart_plan::Tags;
use securecart_plan::apigateway::{
    AccessLog, ApiResource, Integration, Method, Observed, Patch, RestApi, Stage, Step, UsagePlan, VpcLink,
};

use crate::{Aws, AwsError, ErrorKind, Output, ok_if_gone, resolve};

const SERVICE: &str = "apigateway";

pub struct ApiGateway {
    aws: Aws,
    client: apigw::Client,
    region: String,
}

impl Aws {
    pub async fn apigateway(&self, region: &str) -> ApiGateway {
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_apigateway, c)).await;
        ApiGateway { aws: self.clone(), client, region: region.into() }
    }
}

/// What to read: the IDs the status records; with `search`, everything tagged with the owner.
pub struct ApiScope<'a> {
    pub owner_uid: &'a str,
    pub api_ids: &'a [String],
    pub vpc_link_ids: &'a [String],
    pub usage_plan_ids: &'a [String],
    pub search: bool,
}

fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

fn mine(tags: &Tags, owner_uid: &str) -> bool {
    tags.get(OWNER_UID).is_some_and(|u| u == owner_uid)
}

fn patch_operations(patches: &[Patch]) -> Vec<PatchOperation> {
    patches
        .iter()
        .map(|p| PatchOperation::builder().op(Op::from(p.op)).path(&p.path).set_value(p.value.clone()).build())
        .collect()
}

fn throttle_of(rate: Option<f64>, burst: Option<i32>) -> Option<(f64, i32)> {
    match (rate, burst) {
        (None, None) => None,
        (r, b) => Some((r.unwrap_or_default(), b.unwrap_or_default())),
    }
}

fn link_of(l: &apigw::types::VpcLink) -> Option<VpcLink> {
    Some(VpcLink {
        id: l.id()?.to_string(),
        name: l.name().unwrap_or_default().to_string(),
        target_arns: l.target_arns().to_vec(),
        status: l.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        tags: tags_of(l.tags()),
    })
}

fn usage_plan_of(p: &apigw::types::UsagePlan) -> Option<UsagePlan> {
    Some(UsagePlan {
        id: p.id()?.to_string(),
        name: p.name().unwrap_or_default().to_string(),
        api_stages: p
            .api_stages()
            .iter()
            .filter_map(|s| Some((s.api_id()?.to_string(), s.stage()?.to_string())))
            .collect(),
        throttling: p.throttle().and_then(|t| throttle_of(Some(t.rate_limit()), Some(t.burst_limit()))),
        quota: p.quota().map(|q| (q.limit(), q.period().map(|p| p.as_str().to_string()).unwrap_or_default())),
        tags: tags_of(p.tags()),
    })
}

impl ApiGateway {
    crate::sdk::adapter_call!(SERVICE);

    pub async fn observe(&self, scope: ApiScope<'_>) -> Result<Observed, AwsError> {
        let mut out = Observed::default();
        for id in scope.api_ids {
            match self.call("GetRestApi", false, self.client.get_rest_api().rest_api_id(id).send()).await {
                Ok(a) => out.apis.push(RestApi {
                    id: id.clone(),
                    name: a.name().unwrap_or_default().into(),
                    tags: tags_of(a.tags()),
                }),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        for id in scope.vpc_link_ids {
            match self.call("GetVpcLink", false, self.client.get_vpc_link().vpc_link_id(id).send()).await {
                Ok(l) => out.vpc_links.extend(link_of(
                    &apigw::types::VpcLink::builder()
                        .set_id(l.id().map(str::to_string))
                        .set_name(l.name().map(str::to_string))
                        .set_target_arns(Some(l.target_arns().to_vec()))
                        .set_status(l.status().cloned())
                        .set_tags(l.tags().cloned())
                        .build(),
                )),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        for id in scope.usage_plan_ids {
            match self.call("GetUsagePlan", false, self.client.get_usage_plan().usage_plan_id(id).send()).await {
                Ok(p) => out.usage_plans.extend(usage_plan_of(
                    &apigw::types::UsagePlan::builder()
                        .set_id(p.id().map(str::to_string))
                        .set_name(p.name().map(str::to_string))
                        .set_api_stages(Some(p.api_stages().to_vec()))
                        .set_throttle(p.throttle().cloned())
                        .set_quota(p.quota().cloned())
                        .set_tags(p.tags().cloned())
                        .build(),
                )),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if scope.search {
            self.search(scope.owner_uid, &mut out).await?;
        }
        let apis: Vec<String> = out.apis.iter().map(|a| a.id.clone()).collect();
        for api in &apis {
            out.resources.extend(self.resources(api).await?);
            for stage in self.stages(api).await? {
                if let Some(id) = &stage.deployment_id
                    && !out.deployments.contains_key(id)
                {
                    let request = self.client.get_deployment().rest_api_id(api).deployment_id(id);
                    match self.call("GetDeployment", false, request.send()).await {
                        Ok(d) => {
                            out.deployments.insert(id.clone(), d.description().unwrap_or_default().into());
                        }
                        Err(e) if e.kind == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                out.stages.push(stage);
            }
        }
        Ok(out)
    }

    /// Everything tagged with the owner: APIs, VPC links and usage plans (paginated listings).
    async fn search(&self, owner_uid: &str, out: &mut Observed) -> Result<(), AwsError> {
        let mut position = None;
        loop {
            let request = self.client.get_rest_apis().limit(500).set_position(position);
            let page = self.call("GetRestApis", false, request.send()).await?;
            for a in page.items() {
                let tags = tags_of(a.tags());
                if let Some(id) = a.id()
                    && mine(&tags, owner_uid)
                    && !out.apis.iter().any(|o| o.id == id)
                {
                    out.apis.push(RestApi { id: id.into(), name: a.name().unwrap_or_default().into(), tags });
                }
            }
            position = page.position().map(str::to_string);
            if position.is_none() {
                break;
            }
        }
        let mut position = None;
        loop {
            let request = self.client.get_vpc_links().limit(500).set_position(position);
            let page = self.call("GetVpcLinks", false, request.send()).await?;
            for l in page.items().iter().filter_map(link_of) {
                if mine(&l.tags, owner_uid) && !out.vpc_links.iter().any(|o| o.id == l.id) {
                    out.vpc_links.push(l);
                }
            }
            position = page.position().map(str::to_string);
            if position.is_none() {
                break;
            }
        }
        let mut position = None;
        loop {
            let request = self.client.get_usage_plans().limit(500).set_position(position);
            let page = self.call("GetUsagePlans", false, request.send()).await?;
            for p in page.items().iter().filter_map(usage_plan_of) {
                if mine(&p.tags, owner_uid) && !out.usage_plans.iter().any(|o| o.id == p.id) {
                    out.usage_plans.push(p);
                }
            }
            position = page.position().map(str::to_string);
            if position.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// The API's resources, each method read with its integration (one GetMethod per method).
    async fn resources(&self, api: &str) -> Result<Vec<ApiResource>, AwsError> {
        let mut out = Vec::new();
        let mut position = None;
        loop {
            let request = self.client.get_resources().rest_api_id(api).limit(500).set_position(position);
            let page = self.call("GetResources", false, request.send()).await?;
            for r in page.items() {
                let (Some(id), Some(path)) = (r.id(), r.path()) else { continue };
                let mut methods = BTreeMap::new();
                let names: Vec<String> = r.resource_methods().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                for name in names {
                    let request = self.client.get_method().rest_api_id(api).resource_id(id).http_method(&name);
                    let m = match self.call("GetMethod", false, request.send()).await {
                        Ok(m) => m,
                        Err(e) if e.kind == ErrorKind::NotFound => continue,
                        Err(e) => return Err(e),
                    };
                    let integration = m.method_integration().map(|i| Integration {
                        integration_type: i.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                        http_method: i.http_method().unwrap_or_default().into(),
                        uri: i.uri().unwrap_or_default().into(),
                        connection_type: i.connection_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                        connection_id: i.connection_id().map(str::to_string),
                        request_parameters: i
                            .request_parameters()
                            .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                    });
                    let method = Method {
                        api_key_required: m.api_key_required().unwrap_or(false),
                        request_parameters: m
                            .request_parameters()
                            .map(|p| p.iter().map(|(k, v)| (k.clone(), *v)).collect())
                            .unwrap_or_default(),
                        integration,
                    };
                    methods.insert(name, method);
                }
                out.push(ApiResource { api_id: api.into(), id: id.into(), path: path.into(), methods });
            }
            position = page.position().map(str::to_string);
            if position.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn stages(&self, api: &str) -> Result<Vec<Stage>, AwsError> {
        let out = self.call("GetStages", false, self.client.get_stages().rest_api_id(api).send()).await?;
        Ok(out
            .item()
            .iter()
            .filter_map(|s| {
                let all = s.method_settings().and_then(|m| m.get("*/*"));
                Some(Stage {
                    api_id: api.into(),
                    name: s.stage_name()?.into(),
                    deployment_id: s.deployment_id().map(str::to_string),
                    tracing: s.tracing_enabled(),
                    throttling: all
                        .and_then(|m| throttle_of(Some(m.throttling_rate_limit()), Some(m.throttling_burst_limit()))),
                    access_log: s.access_log_settings().and_then(|a| {
                        Some(AccessLog {
                            destination_arn: a.destination_arn()?.into(),
                            format: a.format().unwrap_or_default().into(),
                        })
                    }),
                    tags: tags_of(s.tags()),
                })
            })
            .collect())
    }

    /// Runs one API Gateway step; a create answers with the new ID.
    pub(crate) async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let c = &self.client;
        let id = |r: &securecart_plan::Ref| resolve(r, created);
        let hash = |t: &Tags| Some(t.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<HashMap<_, _>>());
        match step {
            Step::CreateVpcLink { name, target_arn, tags, .. } => {
                let request = c.create_vpc_link().name(name).target_arns(target_arn).set_tags(hash(tags));
                let out = self.call("CreateVpcLink", true, request.send()).await?;
                let link = out.id().ok_or_else(|| AwsError::malformed("CreateVpcLink", "no ID"))?;
                Ok(Output::id(link).with("status", out.status().map(|s| s.as_str().to_string())))
            }
            Step::DeleteVpcLink { id } => {
                ok_if_gone(self.call("DeleteVpcLink", true, c.delete_vpc_link().vpc_link_id(id).send()).await)
            }
            Step::CreateRestApi { name, tags, .. } => {
                let regional = EndpointConfiguration::builder().types(EndpointType::Regional).build();
                let request = c.create_rest_api().name(name).endpoint_configuration(regional).set_tags(hash(tags));
                let out = self.call("CreateRestApi", true, request.send()).await?;
                let api = out.id().ok_or_else(|| AwsError::malformed("CreateRestApi", "no ID"))?;
                Ok(Output::id(api))
            }
            Step::DeleteRestApi { id } => {
                ok_if_gone(self.call("DeleteRestApi", true, c.delete_rest_api().rest_api_id(id).send()).await)
            }
            Step::CreateResource { api, parent, path_part, .. } => {
                let api = id(api)?;
                let parent = match parent {
                    Some(p) => id(p)?,
                    None => {
                        let out = self.call("GetRestApi", false, c.get_rest_api().rest_api_id(&api).send()).await?;
                        out.root_resource_id()
                            .ok_or_else(|| AwsError::malformed("GetRestApi", "no root resource"))?
                            .to_string()
                    }
                };
                let request = c.create_resource().rest_api_id(&api).parent_id(parent).path_part(path_part);
                let out = self.call("CreateResource", true, request.send()).await?;
                Ok(Output::id(out.id().ok_or_else(|| AwsError::malformed("CreateResource", "no ID"))?))
            }
            Step::DeleteResource { api_id, id: resource, .. } => ok_if_gone(
                self.call("DeleteResource", true, c.delete_resource().rest_api_id(api_id).resource_id(resource).send())
                    .await,
            ),
            Step::PutMethod { api, resource, method, api_key_required, request_parameters, .. } => {
                let request = c
                    .put_method()
                    .rest_api_id(id(api)?)
                    .resource_id(id(resource)?)
                    .http_method(method)
                    .authorization_type("NONE")
                    .api_key_required(*api_key_required)
                    .set_request_parameters(Some(request_parameters.clone().into_iter().collect()));
                self.call("PutMethod", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::UpdateMethod { api_id, resource_id, method, patches, .. } => {
                let request = c
                    .update_method()
                    .rest_api_id(api_id)
                    .resource_id(resource_id)
                    .http_method(method)
                    .set_patch_operations(Some(patch_operations(patches)));
                self.call("UpdateMethod", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteMethod { api_id, resource_id, method, .. } => {
                let request = c.delete_method().rest_api_id(api_id).resource_id(resource_id).http_method(method);
                ok_if_gone(self.call("DeleteMethod", true, request.send()).await)
            }
            Step::PutIntegration { api, resource, method, uri, vpc_link, request_parameters, .. } => {
                let request = c
                    .put_integration()
                    .rest_api_id(id(api)?)
                    .resource_id(id(resource)?)
                    .http_method(method)
                    .r#type(IntegrationType::HttpProxy)
                    .integration_http_method("ANY")
                    .uri(uri)
                    .connection_type(ConnectionType::VpcLink)
                    .connection_id(id(vpc_link)?)
                    .set_request_parameters(Some(request_parameters.clone().into_iter().collect()));
                self.call("PutIntegration", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::CreateDeployment { api, description, .. } => {
                let request = c.create_deployment().rest_api_id(id(api)?).description(description);
                let out = self.call("CreateDeployment", true, request.send()).await?;
                Ok(Output::id(out.id().ok_or_else(|| AwsError::malformed("CreateDeployment", "no ID"))?))
            }
            Step::CreateStage { api, deployment, name, tracing, tags, .. } => {
                let request = c
                    .create_stage()
                    .rest_api_id(id(api)?)
                    .deployment_id(id(deployment)?)
                    .stage_name(name)
                    .tracing_enabled(*tracing)
                    .set_tags(hash(tags));
                self.call("CreateStage", true, request.send()).await?;
                Ok(Output::id(name.clone()))
            }
            Step::UpdateStage { api, name, deployment, patches } => {
                let mut all = Vec::new();
                if let Some(d) = deployment {
                    all.push(Patch::replace("/deploymentId", id(d)?));
                }
                all.extend(patches.iter().cloned());
                let request = c
                    .update_stage()
                    .rest_api_id(id(api)?)
                    .stage_name(name)
                    .set_patch_operations(Some(patch_operations(&all)));
                self.call("UpdateStage", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::CreateUsagePlan { name, api, stage, throttling, quota, tags, .. } => {
                let stage = apigw::types::ApiStage::builder().api_id(id(api)?).stage(stage).build();
                let throttle = throttling.map(|(rate, burst)| {
                    apigw::types::ThrottleSettings::builder().rate_limit(rate).burst_limit(burst).build()
                });
                let quota = quota.as_ref().map(|(limit, period)| {
                    apigw::types::QuotaSettings::builder()
                        .limit(*limit)
                        .period(apigw::types::QuotaPeriodType::from(period.as_str()))
                        .build()
                });
                let request = c
                    .create_usage_plan()
                    .name(name)
                    .api_stages(stage)
                    .set_throttle(throttle)
                    .set_quota(quota)
                    .set_tags(hash(tags));
                let out = self.call("CreateUsagePlan", true, request.send()).await?;
                Ok(Output::id(out.id().ok_or_else(|| AwsError::malformed("CreateUsagePlan", "no ID"))?))
            }
            Step::UpdateUsagePlan { id: plan, patches, .. } => {
                let request =
                    c.update_usage_plan().usage_plan_id(plan).set_patch_operations(Some(patch_operations(patches)));
                self.call("UpdateUsagePlan", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteUsagePlan { id: plan, .. } => {
                ok_if_gone(self.call("DeleteUsagePlan", true, c.delete_usage_plan().usage_plan_id(plan).send()).await)
            }
        }
    }
}
