//! Direct Connect: the associations of Direct Connect gateways with a transit gateway (observed
//! by the transit gateway they connect: associations carry no tags), and their steps.

use std::collections::HashMap;

use aws_sdk_directconnect::Client;
use aws_sdk_directconnect::types::RouteFilterPrefix;
use securecart_plan::direct_connect::{Association, Step};
use securecart_plan::{Output, Ref};

use crate::{Aws, AwsError};

/// Every call here is a Direct Connect call (the IAM policy test maps calls to actions by this).
const SERVICE: &str = "directconnect";

pub struct DirectConnect {
    client: Client,
    aws: Aws,
    region: String,
}

fn prefixes(cidrs: &[String]) -> Option<Vec<RouteFilterPrefix>> {
    (!cidrs.is_empty()).then(|| cidrs.iter().map(|c| RouteFilterPrefix::builder().cidr(c).build()).collect())
}

fn association(a: &aws_sdk_directconnect::types::DirectConnectGatewayAssociation) -> Option<Association> {
    Some(Association {
        id: a.association_id()?.into(),
        gateway_id: a.direct_connect_gateway_id().unwrap_or_default().into(),
        associated_gateway_id: a.associated_gateway().and_then(|g| g.id()).unwrap_or_default().into(),
        state: a.association_state().map(|s| s.as_str().to_string()).unwrap_or_default(),
        allowed_prefixes: a
            .allowed_prefixes_to_direct_connect_gateway()
            .iter()
            .filter_map(|p| p.cidr().map(str::to_string))
            .collect(),
    })
}

impl Aws {
    /// The Direct Connect adapter for one region.
    pub async fn direct_connect(&self, region: &str) -> DirectConnect {
        let client = self.client(SERVICE, region, |c| crate::sdk::client!(aws_sdk_directconnect, c)).await;
        DirectConnect { client, aws: self.clone(), region: region.to_string() }
    }
}

impl DirectConnect {
    crate::sdk::adapter_call!(SERVICE);

    /// Every association of a Direct Connect gateway with `transit_gateway_id`.
    pub async fn associations(&self, transit_gateway_id: &str) -> Result<Vec<Association>, AwsError> {
        crate::ec2::paged(move |token| async move {
            let page = self
                .call(
                    "DescribeDirectConnectGatewayAssociations",
                    false,
                    self.client
                        .describe_direct_connect_gateway_associations()
                        .associated_gateway_id(transit_gateway_id)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            let items = page.direct_connect_gateway_associations().iter().filter_map(association).collect();
            Ok((items, page.next_token().map(str::to_string)))
        })
        .await
    }

    pub(crate) async fn run(&self, step: &Step, created: &HashMap<String, String>) -> Result<Output, AwsError> {
        let c = &self.client;
        match step {
            Step::CreateAssociation { gateway_id, transit_gateway, allowed_prefixes, .. } => {
                let tgw = crate::resolve(transit_gateway as &Ref, created)?;
                let out = self
                    .call(
                        "CreateDirectConnectGatewayAssociation",
                        true,
                        c.create_direct_connect_gateway_association()
                            .direct_connect_gateway_id(gateway_id)
                            .gateway_id(tgw)
                            .set_add_allowed_prefixes_to_direct_connect_gateway(prefixes(allowed_prefixes))
                            .send(),
                    )
                    .await?;
                let a = out.direct_connect_gateway_association();
                let id = a.and_then(|a| a.association_id());
                Ok(Output::id(id.ok_or_else(|| AwsError::malformed("CreateDirectConnectGatewayAssociation", "no ID"))?)
                    .with("state", a.and_then(|a| a.association_state()).map(|s| s.as_str().to_string())))
            }
            Step::UpdateAllowedPrefixes { association_id, add, remove } => {
                self.call(
                    "UpdateDirectConnectGatewayAssociation",
                    true,
                    c.update_direct_connect_gateway_association()
                        .association_id(association_id)
                        .set_add_allowed_prefixes_to_direct_connect_gateway(prefixes(add))
                        .set_remove_allowed_prefixes_to_direct_connect_gateway(prefixes(remove))
                        .send(),
                )
                .await?;
                Ok(Output::none())
            }
            Step::DeleteAssociation { association_id } => crate::ok_if_gone(
                self.call(
                    "DeleteDirectConnectGatewayAssociation",
                    true,
                    c.delete_direct_connect_gateway_association().association_id(association_id).send(),
                )
                .await
                .map(|_| ()),
            ),
        }
    }
}
