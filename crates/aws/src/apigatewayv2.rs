//! API Gateway HTTP APIs (v2): observe an owner's APIs and VPC links by the IDs the status
//! records (with a search, by their tags, which API Gateway lists with each item), the kept
//! API's integrations, routes and stages; run the HTTP API steps.

use std::collections::HashMap;

use aws_sdk_apigatewayv2 as v2;
use securecart_api::tags::OWNER_UID;
use securecart_plan::Tags;
use securecart_plan::apigateway::AccessLog;
use securecart_plan::http_api::{HttpApi, Integration, Observed, Route, Stage, Step, VpcLink};
use v2::types::{AccessLogSettings, ConnectionType, IntegrationType, ProtocolType, RouteSettings};

use crate::{Aws, AwsError, ErrorKind, Output, ok_if_gone, resolve};

const SERVICE: &str = "apigatewayv2";

pub struct ApiGatewayV2 {
    aws: Aws,
    client: v2::Client,
    region: String,
}

impl Aws {
    pub async fn apigatewayv2(&self, region: &str) -> ApiGatewayV2 {
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_apigatewayv2, c)).await;
        ApiGatewayV2 { aws: self.clone(), client, region: region.into() }
    }
}

fn tags_of(tags: Option<&HashMap<String, String>>) -> Tags {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

fn mine(tags: &Tags, owner_uid: &str) -> bool {
    tags.get(OWNER_UID).is_some_and(|u| u == owner_uid)
}

fn link_of(
    id: Option<&str>,
    name: Option<&str>,
    subnets: &[String],
    groups: &[String],
    status: Option<&v2::types::VpcLinkStatus>,
    tags: Option<&HashMap<String, String>>,
) -> Option<VpcLink> {
    Some(VpcLink {
        id: id?.to_string(),
        name: name.unwrap_or_default().to_string(),
        subnet_ids: subnets.to_vec(),
        security_group_ids: groups.to_vec(),
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        tags: tags_of(tags),
    })
}

fn route_settings(throttling: Option<(f64, i32)>) -> Option<RouteSettings> {
    throttling
        .map(|(rate, burst)| RouteSettings::builder().throttling_rate_limit(rate).throttling_burst_limit(burst).build())
}

fn log_settings(log: &Option<AccessLog>) -> Option<AccessLogSettings> {
    log.as_ref().map(|l| AccessLogSettings::builder().destination_arn(&l.destination_arn).format(&l.format).build())
}

impl ApiGatewayV2 {
    crate::sdk::adapter_call!(SERVICE);

    pub async fn observe(
        &self,
        owner_uid: &str,
        api_ids: &[String],
        vpc_link_ids: &[String],
        search: bool,
    ) -> Result<Observed, AwsError> {
        let mut out = Observed::default();
        for id in api_ids {
            match self.call("GetApi", false, self.client.get_api().api_id(id).send()).await {
                Ok(a) => out.apis.push(HttpApi {
                    id: id.clone(),
                    name: a.name().unwrap_or_default().into(),
                    tags: tags_of(a.tags()),
                }),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        for id in vpc_link_ids {
            match self.call("GetVpcLink", false, self.client.get_vpc_link().vpc_link_id(id).send()).await {
                Ok(l) => out.vpc_links.extend(link_of(
                    l.vpc_link_id(),
                    l.name(),
                    l.subnet_ids(),
                    l.security_group_ids(),
                    l.vpc_link_status(),
                    l.tags(),
                )),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if search {
            self.search(owner_uid, &mut out).await?;
        }
        let apis: Vec<String> = out.apis.iter().map(|a| a.id.clone()).collect();
        for api in &apis {
            let integrations =
                self.call("GetIntegrations", false, self.client.get_integrations().api_id(api).send()).await?;
            out.integrations.extend(integrations.items().iter().filter_map(|i| {
                Some(Integration {
                    api_id: api.clone(),
                    id: i.integration_id()?.into(),
                    integration_type: i.integration_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    connection_type: i.connection_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                    connection_id: i.connection_id().map(str::to_string),
                    uri: i.integration_uri().unwrap_or_default().into(),
                    method: i.integration_method().unwrap_or_default().into(),
                })
            }));
            let routes = self.call("GetRoutes", false, self.client.get_routes().api_id(api).send()).await?;
            out.routes.extend(routes.items().iter().filter_map(|r| {
                Some(Route {
                    api_id: api.clone(),
                    id: r.route_id()?.into(),
                    key: r.route_key()?.into(),
                    target: r.target().map(str::to_string),
                })
            }));
            let stages = self.call("GetStages", false, self.client.get_stages().api_id(api).send()).await?;
            out.stages.extend(stages.items().iter().filter_map(|s| {
                let settings = s.default_route_settings();
                Some(Stage {
                    api_id: api.clone(),
                    name: s.stage_name()?.into(),
                    auto_deploy: s.auto_deploy().unwrap_or(false),
                    throttling: settings.and_then(|r| Some((r.throttling_rate_limit()?, r.throttling_burst_limit()?))),
                    access_log: s.access_log_settings().and_then(|a| {
                        Some(AccessLog {
                            destination_arn: a.destination_arn()?.into(),
                            format: a.format().unwrap_or_default().into(),
                        })
                    }),
                    tags: tags_of(s.tags()),
                })
            }));
        }
        Ok(out)
    }

    /// Every API and VPC link tagged with the owner (paginated listings).
    async fn search(&self, owner_uid: &str, out: &mut Observed) -> Result<(), AwsError> {
        let mut token = None;
        loop {
            let page = self.call("GetApis", false, self.client.get_apis().set_next_token(token).send()).await?;
            for a in page.items() {
                let tags = tags_of(a.tags());
                if let Some(id) = a.api_id()
                    && mine(&tags, owner_uid)
                    && !out.apis.iter().any(|o| o.id == id)
                {
                    out.apis.push(HttpApi { id: id.into(), name: a.name().unwrap_or_default().into(), tags });
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        let mut token = None;
        loop {
            let page =
                self.call("GetVpcLinks", false, self.client.get_vpc_links().set_next_token(token).send()).await?;
            for l in page.items() {
                let Some(link) = link_of(
                    l.vpc_link_id(),
                    l.name(),
                    l.subnet_ids(),
                    l.security_group_ids(),
                    l.vpc_link_status(),
                    l.tags(),
                ) else {
                    continue;
                };
                if mine(&link.tags, owner_uid) && !out.vpc_links.iter().any(|o| o.id == link.id) {
                    out.vpc_links.push(link);
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// Runs one HTTP API step; a create answers with the new ID.
    pub(crate) async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let c = &self.client;
        let id = |r: &securecart_plan::Ref| resolve(r, created);
        let hash = |t: &Tags| Some(t.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<HashMap<_, _>>());
        let missing = |operation| move || AwsError::malformed(operation, "no ID");
        match step {
            Step::CreateVpcLink { name, subnet_ids, security_group, tags, .. } => {
                let request = c
                    .create_vpc_link()
                    .name(name)
                    .set_subnet_ids(Some(subnet_ids.clone()))
                    .security_group_ids(id(security_group)?)
                    .set_tags(hash(tags));
                let out = self.call("CreateVpcLink", true, request.send()).await?;
                Ok(Output::id(out.vpc_link_id().ok_or_else(missing("CreateVpcLink"))?))
            }
            Step::DeleteVpcLink { id } => {
                ok_if_gone(self.call("DeleteVpcLink", true, c.delete_vpc_link().vpc_link_id(id).send()).await)
            }
            Step::CreateApi { name, tags, .. } => {
                let request = c.create_api().name(name).protocol_type(ProtocolType::Http).set_tags(hash(tags));
                let out = self.call("CreateApi", true, request.send()).await?;
                Ok(Output::id(out.api_id().ok_or_else(missing("CreateApi"))?))
            }
            Step::DeleteApi { id } => ok_if_gone(self.call("DeleteApi", true, c.delete_api().api_id(id).send()).await),
            Step::CreateIntegration { api, uri, vpc_link, .. } => {
                let request = c
                    .create_integration()
                    .api_id(id(api)?)
                    .integration_type(IntegrationType::HttpProxy)
                    .connection_type(ConnectionType::VpcLink)
                    .connection_id(id(vpc_link)?)
                    .integration_uri(uri)
                    .integration_method("ANY")
                    .payload_format_version("1.0");
                let out = self.call("CreateIntegration", true, request.send()).await?;
                Ok(Output::id(out.integration_id().ok_or_else(missing("CreateIntegration"))?))
            }
            Step::UpdateIntegration { api_id, id: integration, uri, vpc_link } => {
                let request = c
                    .update_integration()
                    .api_id(api_id)
                    .integration_id(integration)
                    .integration_type(IntegrationType::HttpProxy)
                    .connection_type(ConnectionType::VpcLink)
                    .connection_id(id(vpc_link)?)
                    .integration_uri(uri)
                    .integration_method("ANY");
                self.call("UpdateIntegration", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::CreateRoute { api, key, integration } => {
                let target = securecart_plan::http_api::target(&id(integration)?);
                let request = c.create_route().api_id(id(api)?).route_key(key).target(target);
                self.call("CreateRoute", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::UpdateRoute { api_id, id: route, integration, .. } => {
                let target = securecart_plan::http_api::target(&id(integration)?);
                let request = c.update_route().api_id(api_id).route_id(route).target(target);
                self.call("UpdateRoute", true, request.send()).await?;
                Ok(Output::none())
            }
            Step::DeleteRoute { api_id, id: route, .. } => {
                ok_if_gone(self.call("DeleteRoute", true, c.delete_route().api_id(api_id).route_id(route).send()).await)
            }
            Step::CreateStage { api, name, throttling, access_log, tags, .. } => {
                let request = c
                    .create_stage()
                    .api_id(id(api)?)
                    .stage_name(name)
                    .auto_deploy(true)
                    .set_default_route_settings(route_settings(*throttling))
                    .set_access_log_settings(log_settings(access_log))
                    .set_tags(hash(tags));
                self.call("CreateStage", true, request.send()).await?;
                Ok(Output::id(name.clone()))
            }
            Step::UpdateStage { api_id, name, throttling, access_log } => {
                let request = c
                    .update_stage()
                    .api_id(api_id)
                    .stage_name(name)
                    .set_default_route_settings(
                        route_settings(*throttling).or_else(|| Some(RouteSettings::builder().build())),
                    )
                    .set_access_log_settings(log_settings(access_log));
                self.call("UpdateStage", true, request.send()).await?;
                Ok(Output::none())
            }
        }
    }
}
