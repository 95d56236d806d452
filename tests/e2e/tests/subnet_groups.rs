//! A VpcTier's database subnet groups against a real kube-apiserver and the AWS emulator, read
//! through the RDS and ElastiCache APIs: created over the database tier's subnets with the
//! ownership tags, recreated when deleted out of band, not torn down while a DB instance uses
//! them, deleted with the VpcTier.

use std::collections::BTreeSet;
use std::time::Duration;

use securecart_api::tags::OWNER_UID;
use securecart_e2e::{Result, TestEnv, spec, wait_for};
use serde_json::json;

const CONVERGE: Duration = Duration::from_secs(90);

fn shop(region: &str, groups: serde_json::Value) -> serde_json::Value {
    json!({
        "region": region,
        "cidrBlock": "10.30.0.0/16",
        "availabilityZones": 2,
        "natGateways": "None",
        "tiers": [
            {"name": "app", "type": "Private", "prefixLength": 20},
            {"name": "database", "type": "Isolated", "prefixLength": 24},
        ],
        "subnetGroups": groups,
    })
}

/// The database tier's subnet IDs, read through EC2 by the owner's tags.
async fn database_subnets(env: &TestEnv, uid: &str) -> Result<BTreeSet<String>> {
    Ok(env
        .owned(uid)
        .await?
        .subnet_ids()
        .into_iter()
        .filter(|(component, _)| component.starts_with("subnet/database/"))
        .map(|(_, id)| id)
        .collect())
}

async fn db_subnet_group(rds: &aws_sdk_rds::Client, name: &str) -> Result<Option<aws_sdk_rds::types::DbSubnetGroup>> {
    match rds.describe_db_subnet_groups().db_subnet_group_name(name).send().await {
        Ok(out) => Ok(out.db_subnet_groups().first().cloned()),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_db_subnet_group_not_found_fault()) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rds_subnet_group_follows_the_tier_and_waits_for_its_database() -> Result<()> {
    let region = "ap-northeast-1";
    let env = TestEnv::start("subnet-groups", region).await?;
    let rds = aws_sdk_rds::Client::new(&env.aws_config(region).await);
    let name = format!("{}-shop-orders", env.namespace);
    let obj = env
        .apply_vpc_tier("shop", spec(shop(region, json!([{"name": "orders", "tier": "database", "service": "RDS"}]))))
        .await?;
    let uid = obj.metadata.uid.clone().unwrap();
    env.wait_ready("shop", CONVERGE).await?;

    let group = db_subnet_group(&rds, &name).await?.expect("the DB subnet group exists");
    let subnets: BTreeSet<String> =
        group.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect();
    let database = database_subnets(&env, &uid).await?;
    assert_eq!(database.len(), 2);
    assert_eq!(subnets, database, "the group holds the database tier's subnet in each zone");
    let vpc_id = env.owned(&uid).await?.vpcs[0].vpc_id().unwrap().to_string();
    assert_eq!(group.vpc_id(), Some(vpc_id.as_str()));
    let arn = group.db_subnet_group_arn().unwrap().to_string();
    let tags = rds.list_tags_for_resource().resource_name(&arn).send().await?;
    assert!(
        tags.tag_list().iter().any(|t| t.key() == Some(OWNER_UID) && t.value() == Some(uid.as_str())),
        "tagged with its owner: {:?}",
        tags.tag_list()
    );
    let status = env.vpc_tiers().get("shop").await?.status.unwrap();
    assert_eq!(status.subnet_groups.len(), 1);
    assert_eq!(status.subnet_groups[0].group_name, name, "the status names the group a database must use");

    // Deleted behind the controller's back: recreated on the next resync.
    rds.delete_db_subnet_group().db_subnet_group_name(&name).send().await?;
    wait_for("the DB subnet group recreated", CONVERGE, || async { Ok(db_subnet_group(&rds, &name).await?.is_some()) })
        .await?;
    let group = db_subnet_group(&rds, &name).await?.unwrap();
    assert_eq!(group.subnets().len(), 2);

    // A database in it holds the whole VpcTier.
    rds.create_db_instance()
        .db_instance_identifier("orders-db")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .master_username("orders")
        .master_user_password("not-a-real-secret-1")
        .allocated_storage(20)
        .db_subnet_group_name(&name)
        .send()
        .await?;
    env.delete_vpc_tier("shop").await?;
    env.wait_condition::<securecart_api::VpcTier>("shop", "Ready", CONVERGE, |c| {
        c.reason == "DeletionBlocked" && c.message.contains("DB instance orders-db") && c.message.contains(&name)
    })
    .await?;
    assert!(db_subnet_group(&rds, &name).await?.is_some(), "the group stays while the database runs");
    assert_eq!(database_subnets(&env, &uid).await?, database, "and so do the subnets");
    assert_eq!(env.owned(&uid).await?.vpcs.len(), 1, "and the VPC");

    rds.delete_db_instance().db_instance_identifier("orders-db").skip_final_snapshot(true).send().await?;
    env.wait_gone("shop", CONVERGE).await?;
    assert!(db_subnet_group(&rds, &name).await?.is_none(), "deleted with the VpcTier");
    assert_eq!(env.owned(&uid).await?.total(), 0, "nothing tagged is left");
    Ok(())
}

/// The emulator creates and describes cache subnet groups but answers HTTP 500 to deleting or
/// changing one, so this VpcTier retains its AWS resources; the planner tests cover the rest.
#[tokio::test(flavor = "multi_thread")]
async fn elasticache_subnet_group_is_created_over_the_tier() -> Result<()> {
    let region = "ap-northeast-1";
    let env = TestEnv::start("cache-subnet-groups", region).await?;
    let elasticache = aws_sdk_elasticache::Client::new(&env.aws_config(region).await);
    let name = format!("{}-carts-sessions", env.namespace);
    let mut s = shop(region, json!([{"name": "sessions", "tier": "database", "service": "ElastiCache"}]));
    s["availabilityZones"] = json!(1);
    s["deletionPolicy"] = json!("Retain");
    let obj = env.apply_vpc_tier("carts", spec(s)).await?;
    let uid = obj.metadata.uid.clone().unwrap();
    env.wait_ready("carts", CONVERGE).await?;

    let out = elasticache.describe_cache_subnet_groups().cache_subnet_group_name(&name).send().await?;
    let group = out.cache_subnet_groups().first().expect("the cache subnet group exists");
    let subnets: BTreeSet<String> =
        group.subnets().iter().filter_map(|s| s.subnet_identifier().map(str::to_string)).collect();
    assert_eq!(subnets, database_subnets(&env, &uid).await?);
    let tags = elasticache.list_tags_for_resource().resource_name(group.arn().unwrap()).send().await?;
    assert!(tags.tag_list().iter().any(|t| t.key() == Some(OWNER_UID) && t.value() == Some(uid.as_str())));

    // Converged: further resyncs change nothing.
    let before = env.mutating_calls().await?;
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(env.mutating_calls().await?, before, "a converged group is not rewritten");

    env.delete_vpc_tier("carts").await?;
    env.wait_gone("carts", CONVERGE).await?;
    let out = elasticache.describe_cache_subnet_groups().cache_subnet_group_name(&name).send().await?;
    assert_eq!(out.cache_subnet_groups().len(), 1, "Retain leaves it in place");
    Ok(())
}
