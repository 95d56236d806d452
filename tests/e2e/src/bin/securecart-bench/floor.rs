//! The floor a scenario is measured against: the same mutating calls the operator makes for it,
//! issued straight through the AWS SDK against the same emulator in the same run, each object's
//! calls in dependency order (one round of parallel calls per level), as many objects at once as
//! the controller reconciles (`--concurrency`). Nothing of the operator's code is used, so the
//! ratio says what the operator costs on top of the calls themselves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Tag, TagSpecification};
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, HealthCheckConfig, HealthCheckType, ResourceRecordSet, RrType,
};
use futures::StreamExt;
use securecart_e2e::{Result, aws_config};

/// What a floor run took.
#[derive(Debug, Default, serde::Serialize)]
pub struct Floor {
    pub objects: usize,
    pub calls: u64,
    pub seconds: f64,
}

/// An SDK call as a future with one error type, for `try_join!`.
macro_rules! call {
    ($request:expr) => {
        async { $request.send().await.map_err(anyhow::Error::from) }
    };
}

/// Six tags, as many as the operator's ownership tags (owner kind, namespace, name and UID,
/// component, Name) and as long: the emulator finds a resource's tags by scanning every tag in
/// the region, so a floor with fewer tags would make cheaper calls than the operator's.
fn tagged(kind: ResourceType, name: &str) -> TagSpecification {
    let component = kind.as_str().to_string();
    let uid = format!("{:08x}-0000-4000-8000-{:012x}", name.len(), name.bytes().map(u64::from).sum::<u64>());
    let tags = [
        ("bench-floor", name.to_string()),
        ("bench-floor.example/owner-kind", "VpcTier".to_string()),
        ("bench-floor.example/owner-namespace", "bench-floor".to_string()),
        ("bench-floor.example/owner-uid", uid),
        ("bench-floor.example/component", component.clone()),
        ("Name", format!("bench-floor-{name}-{component}")),
    ];
    let tags = tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build());
    TagSpecification::builder().resource_type(kind).set_tags(Some(tags.collect())).build()
}

async fn run<F, Fut>(objects: usize, concurrency: usize, one: F) -> Result<Floor>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<u64>>,
{
    let started = Instant::now();
    let calls = AtomicU64::new(0);
    let results: Vec<Result<u64>> =
        futures::stream::iter((0..objects).map(&one)).buffer_unordered(concurrency).collect().await;
    for r in results {
        calls.fetch_add(r?, Ordering::Relaxed);
    }
    Ok(Floor { objects, calls: calls.into_inner(), seconds: started.elapsed().as_secs_f64() })
}

/// The small VpcTier of the storms (a Public and an Isolated /26 tier in two zones): VPC and
/// internet gateway; DNS hostnames, four subnets, the attachment, two route tables; public IPs on
/// launch, four associations, the default route. 17 calls in three levels.
pub async fn vpc_tiers(region: &str, objects: usize, concurrency: usize, zones: &[String]) -> Result<Floor> {
    let ec2 = aws_sdk_ec2::Client::new(&aws_config(region).await);
    let ec2 = &ec2;
    run(objects, concurrency, |i| async move {
        let name = format!("floor-{i}");
        let base = format!("10.{}.{}", i / 256 % 256, i % 256);
        let (vpc, igw) = futures::try_join!(
            call!(
                ec2.create_vpc()
                    .cidr_block(format!("{base}.0/24"))
                    .tag_specifications(tagged(ResourceType::Vpc, &name))
            ),
            call!(ec2.create_internet_gateway().tag_specifications(tagged(ResourceType::InternetGateway, &name))),
        )?;
        let vpc = vpc.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string();
        let igw = igw.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string();
        let subnet = |n: usize| {
            let request = ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(format!("{base}.{}/26", n * 64))
                .availability_zone(&zones[n % 2])
                .tag_specifications(tagged(ResourceType::Subnet, &name));
            call!(request)
        };
        let table =
            || call!(ec2.create_route_table().vpc_id(&vpc).tag_specifications(tagged(ResourceType::RouteTable, &name)));
        let (_, s0, s1, s2, s3, _, public, isolated) = futures::try_join!(
            call!(
                ec2.modify_vpc_attribute()
                    .vpc_id(&vpc)
                    .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
            ),
            subnet(0),
            subnet(1),
            subnet(2),
            subnet(3),
            call!(ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc)),
            table(),
            table(),
        )?;
        let id = |s: &aws_sdk_ec2::operation::create_subnet::CreateSubnetOutput| {
            s.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string()
        };
        let (s0, s1, s2, s3) = (id(&s0), id(&s1), id(&s2), id(&s3));
        let public = public.route_table().and_then(|t| t.route_table_id()).unwrap_or_default().to_string();
        let isolated = isolated.route_table().and_then(|t| t.route_table_id()).unwrap_or_default().to_string();
        let on_launch = |s: &str| {
            let request = ec2
                .modify_subnet_attribute()
                .subnet_id(s)
                .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build());
            call!(request)
        };
        let associate = |t: &str, s: &str| {
            let request = ec2.associate_route_table().route_table_id(t).subnet_id(s);
            call!(request)
        };
        futures::try_join!(
            on_launch(&s0),
            on_launch(&s1),
            associate(&public, &s0),
            associate(&public, &s1),
            associate(&isolated, &s2),
            associate(&isolated, &s3),
            call!(ec2.create_route().route_table_id(&public).destination_cidr_block("0.0.0.0/0").gateway_id(&igw)),
        )?;
        Ok(17)
    })
    .await
}

/// The LoadBalancerPolicy of the policy storm: security group and its ingress rule, target
/// group, load balancer, listener, health check and its tags, the alias record: 8 calls, in the
/// order each needs the one before (the health check targets the load balancer's DNS name).
/// `subnets` and `vpc_id` are a network made beforehand (not timed); `zone_id` a hosted zone.
pub async fn load_balancers(
    region: &str,
    objects: usize,
    concurrency: usize,
    vpc_id: &str,
    subnets: &[String],
    zone: (&str, &str),
) -> Result<Floor> {
    let regional = aws_config(region).await;
    let (ec2, elb) = (aws_sdk_ec2::Client::new(&regional), aws_sdk_elasticloadbalancingv2::Client::new(&regional));
    let route53 = aws_sdk_route53::Client::new(&aws_config("us-east-1").await);
    let (ec2, elb, route53) = (&ec2, &elb, &route53);
    run(objects, concurrency, |i| async move {
        let name = format!("floor-lb-{i}");
        let (sg, tg) = futures::try_join!(
            call!(
                ec2.create_security_group()
                    .group_name(&name)
                    .description("bench floor")
                    .vpc_id(vpc_id)
                    .tag_specifications(tagged(ResourceType::SecurityGroup, &name))
            ),
            call!(
                elb.create_target_group()
                    .name(&name)
                    .protocol(ProtocolEnum::Http)
                    .port(8080)
                    .vpc_id(vpc_id)
                    .target_type(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Ip)
            ),
        )?;
        let sg = sg.group_id().unwrap_or_default().to_string();
        let tg = tg.target_groups().first().and_then(|t| t.target_group_arn()).unwrap_or_default().to_string();
        let (_, lb) = futures::try_join!(
            call!(
                ec2.authorize_security_group_ingress()
                    .group_id(&sg)
                    .ip_protocol("tcp")
                    .from_port(80)
                    .to_port(80)
                    .cidr_ip("0.0.0.0/0")
            ),
            call!(elb.create_load_balancer().name(&name).set_subnets(Some(subnets.to_vec())).security_groups(&sg)),
        )?;
        let lb =
            lb.load_balancers().first().cloned().ok_or_else(|| anyhow::anyhow!("CreateLoadBalancer returned none"))?;
        let (lb_arn, dns) = (lb.load_balancer_arn().unwrap_or_default(), lb.dns_name().unwrap_or_default());
        let forward = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg).build();
        let (_, hc) = futures::try_join!(
            call!(
                elb.create_listener()
                    .load_balancer_arn(lb_arn)
                    .protocol(ProtocolEnum::Http)
                    .port(80)
                    .default_actions(forward)
            ),
            call!(
                route53.create_health_check().caller_reference(&name).health_check_config(
                    HealthCheckConfig::builder()
                        .r#type(HealthCheckType::Http)
                        .fully_qualified_domain_name(dns)
                        .port(80)
                        .resource_path("/healthz")
                        .build()?,
                )
            ),
        )?;
        let hc = hc.health_check().map(|h| h.id().to_string()).unwrap_or_default();
        let record = ResourceRecordSet::builder()
            .name(format!("{name}.{}", zone.1))
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .dns_name(dns)
                    .hosted_zone_id(lb.canonical_hosted_zone_id().unwrap_or_default())
                    .evaluate_target_health(true)
                    .build()?,
            )
            .health_check_id(&hc)
            .build()?;
        futures::try_join!(
            call!(
                route53
                    .change_tags_for_resource()
                    .resource_type(aws_sdk_route53::types::TagResourceType::Healthcheck)
                    .resource_id(&hc)
                    .add_tags(aws_sdk_route53::types::Tag::builder().key("bench-floor").value(&name).build())
            ),
            call!(
                route53.change_resource_record_sets().hosted_zone_id(zone.0).change_batch(
                    ChangeBatch::builder()
                        .changes(Change::builder().action(ChangeAction::Upsert).resource_record_set(record).build()?)
                        .build()?,
                )
            ),
        )?;
        Ok(8)
    })
    .await
}
