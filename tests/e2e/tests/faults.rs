//! Crash-safe identity under faults: each test runs its controller behind a fault proxy of its own
//! (tests/faults/) and reads the truth from the emulator directly. Lost create responses (applied,
//! then the connection killed, so the SDK retries), an eventual-consistency window, and a
//! duplicate internet gateway next to NAT gateways in use.
//!
//! They run in `make test`; tests/run-integration.sh leaves them out with SECURECART_FAULT_TESTS=0.

mod crash_safety {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use aws_sdk_ec2::types::Tag;
    use securecart_api::tags::{COMPONENT, OWNER_KIND, OWNER_NAME, OWNER_NAMESPACE, OWNER_UID};
    use securecart_e2e::faults::census::Census;
    use securecart_e2e::{Owned, Result, TestEnv, spec, tag, wait_for};
    use serde_json::json;

    const CONVERGE: Duration = Duration::from_secs(120);

    fn uid(obj: &impl kube::Resource) -> String {
        obj.meta().uid.clone().unwrap_or_default()
    }

    fn ids<T>(items: &[T], id: impl Fn(&T) -> Option<&str>) -> Vec<String> {
        items.iter().filter_map(|i| id(i).map(str::to_string)).collect()
    }

    /// Components that appear on more than one resource of a kind: duplicates.
    fn repeated(components: impl Iterator<Item = Option<String>>) -> Vec<String> {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for c in components {
            *seen.entry(c.unwrap_or_else(|| "<no component>".into())).or_default() += 1;
        }
        seen.into_iter().filter(|(_, n)| *n > 1).map(|(c, n)| format!("{c} x{n}")).collect()
    }

    fn duplicates(owned: &Owned) -> Vec<String> {
        let mut out = Vec::new();
        let mut kind = |name: &str, list: Vec<String>| out.extend(list.into_iter().map(|d| format!("{name} {d}")));
        kind("VPC", repeated(owned.vpcs.iter().map(|r| tag(r.tags(), COMPONENT))));
        kind("subnet", repeated(owned.subnets.iter().map(|r| tag(r.tags(), COMPONENT))));
        kind("internet gateway", repeated(owned.internet_gateways.iter().map(|r| tag(r.tags(), COMPONENT))));
        kind("route table", repeated(owned.route_tables.iter().map(|r| tag(r.tags(), COMPONENT))));
        kind("NAT gateway", repeated(owned.nat_gateways.iter().map(|r| tag(r.tags(), COMPONENT))));
        kind("Elastic IP", repeated(owned.addresses.iter().map(|r| tag(r.tags(), COMPONENT))));
        out
    }

    /// (a) CreateVpc's response lost once: applied by the emulator, the connection killed, the
    /// SDK's retry creates again. At Ready exactly one VPC carries the owner's UID.
    #[tokio::test(flavor = "multi_thread")]
    async fn lost_create_vpc_response_leaves_exactly_one_vpc() -> Result<()> {
        let region = "us-west-1";
        let (env, proxy) = TestEnv::start_with_faults("faults-lost-vpc", region, json!({})).await?;
        proxy.lose_next("ec2", "CreateVpc", 1).await?;
        let obj = env
            .apply_vpc_tier(
                "lost-vpc",
                spec(json!({"region": region, "cidrBlock": "10.41.0.0/16", "availabilityZones": 1,
                            "tiers": [{"name": "db", "type": "Isolated", "prefixLength": 24}]})),
            )
            .await?;
        let ready = env.wait_ready("lost-vpc", CONVERGE).await?;
        let counters = proxy.counters().await?;
        assert_eq!(counters.injected("lost_response", "CreateVpc"), 1, "the fault was injected: {counters:?}");
        let owned = env.owned(&uid(&obj)).await?;
        let vpcs = ids(&owned.vpcs, |v| v.vpc_id());
        assert_eq!(vpcs.len(), 1, "exactly one VPC owned by the object at Ready: {vpcs:?}");
        assert_eq!(ready.status.and_then(|s| s.vpc_id), vpcs.first().cloned(), "status names that VPC");
        Ok(())
    }

    /// (b) The same for CreateInternetGateway.
    #[tokio::test(flavor = "multi_thread")]
    async fn lost_create_internet_gateway_response_leaves_exactly_one_gateway() -> Result<()> {
        let region = "ap-southeast-3";
        let (env, proxy) = TestEnv::start_with_faults("faults-lost-igw", region, json!({})).await?;
        proxy.lose_next("ec2", "CreateInternetGateway", 1).await?;
        let obj = env
            .apply_vpc_tier(
                "lost-igw",
                spec(json!({"region": region, "cidrBlock": "10.42.0.0/16", "availabilityZones": 1,
                            "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}],
                            "natGateways": "None"})),
            )
            .await?;
        env.wait_ready("lost-igw", CONVERGE).await?;
        let counters = proxy.counters().await?;
        assert_eq!(counters.injected("lost_response", "CreateInternetGateway"), 1, "{counters:?}");
        let owned = env.owned(&uid(&obj)).await?;
        let igws = ids(&owned.internet_gateways, |g| g.internet_gateway_id());
        assert_eq!(igws.len(), 1, "exactly one internet gateway owned by the object at Ready: {igws:?}");
        Ok(())
    }

    /// The owner's health checks in the emulator: tagged with its UID, or untagged with a caller
    /// reference the controller derives from the UID (tags are written after the create).
    async fn owned_health_checks(env: &TestEnv, region: &str, owner_uid: &str) -> Result<Vec<String>> {
        let census = Census::take_in(env, region).await?;
        let owned = census.items.iter().filter(|i| i.kind == "health_check" && i.owner.as_deref() == Some(owner_uid));
        Ok(owned.map(|i| i.id.clone()).collect())
    }

    /// (c) CreateHealthCheck's response lost once on a LoadBalancerPolicy: one health check at
    /// Ready, none after the policy is deleted.
    #[tokio::test(flavor = "multi_thread")]
    async fn lost_create_health_check_response_leaves_one_and_deletion_leaves_none() -> Result<()> {
        let region = "me-central-1";
        let (env, proxy) = TestEnv::start_with_faults("faults-lost-hc", region, json!({})).await?;
        let c = env.load_balancing_clients(region).await;
        env.apply_vpc_tier(
            "net",
            spec(json!({"region": region, "cidrBlock": "10.43.0.0/16", "availabilityZones": 2,
                        "tiers": [{"name": "public", "type": "Public", "prefixLength": 24}],
                        "natGateways": "None"})),
        )
        .await?;
        env.wait_ready("net", CONVERGE).await?;
        let zone = c.create_hosted_zone("faults-hc-mec1.example.com").await?;
        proxy.lose_next("route53", "CreateHealthCheck", 1).await?;
        let policy = env
            .apply_load_balancer_policy(
                "web",
                json!({
                    "vpcTierRef": {"name": "net"}, "type": "Application", "scheme": "internet-facing",
                    "tier": "public", "allowedCidrs": ["0.0.0.0/0"],
                    "targetGroups": [{"name": "web", "protocol": "HTTP", "port": 8080, "targetType": "ip"}],
                    "listeners": [{"port": 80, "protocol": "HTTP", "defaultTargetGroup": "web"}],
                    "dns": {"hostedZoneId": zone, "name": "www.faults-hc-mec1.example.com",
                            "healthCheck": {"protocol": "HTTP", "path": "/healthz", "port": 80}},
                    "deletionPolicy": "Delete",
                }),
            )
            .await?;
        let owner = uid(&policy);
        env.wait_ready_in(env.load_balancer_policies(), "web", CONVERGE).await?;
        let counters = proxy.counters().await?;
        assert_eq!(counters.injected("lost_response", "CreateHealthCheck"), 1, "{counters:?}");
        let at_ready = owned_health_checks(&env, region, &owner).await?;
        assert_eq!(at_ready.len(), 1, "exactly one health check of the policy at Ready: {at_ready:?}");

        env.load_balancer_policies().delete("web", &Default::default()).await?;
        env.wait_gone_in(env.load_balancer_policies(), "web", CONVERGE).await?;
        let left = owned_health_checks(&env, region, &owner).await?;
        assert!(left.is_empty(), "no health check of the policy after deletion: {left:?}");
        Ok(())
    }

    /// (d) Every EC2 create's ID hidden from reads for 5 s while a VpcTier converges, and the
    /// controller SIGKILLed right after its first create was answered, so the new process has to find what the
    /// old one created while reads cannot show it yet: at Ready no component exists twice.
    #[tokio::test(flavor = "multi_thread")]
    async fn eventual_consistency_window_makes_no_duplicate() -> Result<()> {
        let region = "il-central-1";
        let config = json!({"eventual_consistency": {"seconds": 5, "services": ["ec2"]}});
        let (mut env, proxy) = TestEnv::start_with_faults("faults-ec", region, config).await?;
        let obj = env
            .apply_vpc_tier(
                "ec",
                spec(json!({"region": region, "cidrBlock": "10.44.0.0/16", "availabilityZones": 2,
                            "tiers": [{"name": "public", "type": "Public", "prefixLength": 24},
                                      {"name": "app", "type": "Private", "prefixLength": 20},
                                      {"name": "database", "type": "Isolated", "prefixLength": 24}],
                            "natGateways": "PerZone"})),
            )
            .await?;
        // Kill as soon as the proxy hides a first new ID (it does when a create's answer passes
        // through), well inside the window.
        let deadline = tokio::time::Instant::now() + CONVERGE;
        while proxy.counters().await?.hidden_ids == 0 {
            assert!(tokio::time::Instant::now() < deadline, "no create answered within {CONVERGE:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        env.kill_controller().await?;
        env.start_controller().await?;
        env.wait_ready("ec", Duration::from_secs(180)).await?;
        let counters = proxy.counters().await?;
        let hidden = counters.faults.by_kind.get("hidden_from_list").copied().unwrap_or(0)
            + counters.faults.by_kind.get("hidden_not_found").copied().unwrap_or(0);
        assert!(hidden > 0, "the window hid something from the controller: {counters:?}");
        let owned = env.owned(&uid(&obj)).await?;
        let dups = duplicates(&owned);
        assert!(dups.is_empty(), "duplicates at Ready: {dups:?}");
        // 1 VPC, 6 subnets, 1 internet gateway, 4 route tables (public, app per zone, database),
        // 2 NAT gateways, 2 Elastic IPs.
        let counts = (
            owned.vpcs.len(),
            owned.subnets.len(),
            owned.internet_gateways.len(),
            owned.route_tables.len(),
            owned.nat_gateways.len(),
            owned.addresses.len(),
        );
        assert_eq!(counts, (1, 6, 1, 4, 2, 2), "resources at Ready");
        Ok(())
    }

    /// (e) A second internet gateway with the object's ownership tags attached to its VPC behind
    /// its back (the emulator allows it; AWS would refuse): the duplicate is detached and
    /// deleted while the NAT gateways in use stay, and the VpcTier is Ready again. The original,
    /// which the routes and the status name, is the one kept, even though the duplicate's ID
    /// sorts first.
    #[tokio::test(flavor = "multi_thread")]
    async fn duplicate_internet_gateway_goes_without_waiting_on_nat_gateways() -> Result<()> {
        let region = "eu-central-2";
        let (env, _proxy) = TestEnv::start_with_faults("faults-dup-igw", region, json!({})).await?;
        let obj = env
            .apply_vpc_tier(
                "dup-igw",
                spec(json!({"region": region, "cidrBlock": "10.45.0.0/16", "availabilityZones": 2,
                            "tiers": [{"name": "public", "type": "Public", "prefixLength": 24},
                                      {"name": "app", "type": "Private", "prefixLength": 20}],
                            "natGateways": "PerZone"})),
            )
            .await?;
        let owner = uid(&obj);
        env.wait_ready("dup-igw", CONVERGE).await?;
        let before = env.owned(&owner).await?;
        let original = ids(&before.internet_gateways, |g| g.internet_gateway_id());
        let nats = ids(&before.nat_gateways, |n| n.nat_gateway_id());
        assert_eq!((original.len(), nats.len()), (1, 2), "one gateway and two NAT gateways to start with");
        let vpc_id = before.vpcs[0].vpc_id().unwrap().to_string();

        let tags = [
            (OWNER_KIND, "VpcTier"),
            (OWNER_NAMESPACE, env.namespace.as_str()),
            (OWNER_NAME, "dup-igw"),
            (OWNER_UID, owner.as_str()),
            (COMPONENT, "igw"),
            ("Name", "duplicate"),
        ];
        // The duplicate is made to sort before the original, so that an "oldest ID wins" rule
        // cannot keep the original by luck: untagged (invisible to the controller) until its ID
        // sorts first, then given the ownership tags.
        let mut duplicate = String::new();
        for _ in 0..100 {
            let created = env.ec2.create_internet_gateway().send().await?;
            let id = created.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap().to_string();
            if id < original[0] {
                duplicate = id;
                break;
            }
            env.ec2.delete_internet_gateway().internet_gateway_id(&id).send().await?;
        }
        assert!(!duplicate.is_empty(), "no gateway ID sorted before {original:?} in 100 tries");
        let tag_list: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect();
        env.ec2.create_tags().resources(&duplicate).set_tags(Some(tag_list)).send().await?;
        env.ec2.attach_internet_gateway().internet_gateway_id(&duplicate).vpc_id(&vpc_id).send().await?;

        let gone = wait_for("the duplicate internet gateway deleted", Duration::from_secs(60), || async {
            let owned = env.owned(&owner).await?;
            Ok(ids(&owned.internet_gateways, |g| g.internet_gateway_id()) == original)
        })
        .await;
        let after = env.owned(&owner).await?;
        let events = env.events("dup-igw").await?;
        assert!(
            gone.is_ok(),
            "the duplicate {duplicate} is detached and deleted, the original {original:?} kept: {gone:?}; \
             gateways now {:?}; events {events:?}",
            ids(&after.internet_gateways, |g| g.internet_gateway_id())
        );
        assert_eq!(ids(&after.nat_gateways, |n| n.nat_gateway_id()), nats, "the NAT gateways stay");
        env.wait_ready("dup-igw", Duration::from_secs(60)).await?;
        Ok(())
    }

    /// (f) A converged VpcTier whose drift reads fail (every DescribeInternetGateways answers
    /// HTTP 500 for as long as the test says) keeps Ready=True and shows Synced=False, and a
    /// PrivateEndpoint that uses it is made meanwhile, in its subnets. Once the reads work again
    /// the VpcTier is Synced again.
    #[tokio::test(flavor = "multi_thread")]
    async fn failing_drift_reads_leave_ready_true_and_dependents_working() -> Result<()> {
        use aws_sdk_ec2::types::Filter;
        use securecart_api::{PrivateEndpoint, VpcTier};
        use securecart_e2e::condition;

        let region = "eu-south-2";
        let (env, proxy) = TestEnv::start_with_faults("faults-drift-read", region, json!({})).await?;
        let obj = env
            .apply_vpc_tier(
                "shop",
                spec(json!({"region": region, "cidrBlock": "10.46.0.0/16", "availabilityZones": 2,
                            "tiers": [{"name": "public", "type": "Public", "prefixLength": 24},
                                      {"name": "app", "type": "Private", "prefixLength": 20}],
                            "natGateways": "None"})),
            )
            .await?;
        env.wait_ready("shop", CONVERGE).await?;
        let app_subnets: Vec<String> = env
            .owned(&uid(&obj))
            .await?
            .subnets
            .iter()
            .filter(|s| tag(s.tags(), COMPONENT).is_some_and(|c| c.starts_with("subnet/app/")))
            .filter_map(|s| s.subnet_id().map(str::to_string))
            .collect();
        assert_eq!(app_subnets.len(), 2, "one app subnet per zone");

        proxy.fail_next("ec2", "DescribeInternetGateways", "internal", 1_000_000).await?;
        // Ready is sampled for the whole window: it must never leave True.
        let api = env.api::<VpcTier>();
        let not_ready = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let watch = {
            let (api, not_ready) = (api.clone(), not_ready.clone());
            tokio::spawn(async move {
                loop {
                    if let Ok(o) = api.get("shop").await {
                        let ready = condition(&o, "Ready").map(|c| c.status).unwrap_or_default();
                        if ready != "True" {
                            not_ready.lock().expect("lock").push(ready);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        };
        let failing = env.wait_condition::<VpcTier>("shop", "Synced", CONVERGE, |c| c.status == "False").await?;
        let synced = condition(&failing, "Synced").expect("Synced");
        assert_eq!(synced.reason, securecart_api::conditions::reason::AWS_ERROR, "Synced=False says why: {synced:?}");
        assert_eq!(condition(&failing, "Ready").map(|c| c.status).as_deref(), Some("True"), "still Ready");

        let endpoint: PrivateEndpoint =
            env.apply("sts", json!({"vpcTierRef": {"name": "shop"}, "service": "sts", "tiers": ["app"]})).await?;
        env.wait_ready_as::<PrivateEndpoint>("sts", CONVERGE).await?;
        let out = env
            .ec2
            .describe_vpc_endpoints()
            .filters(Filter::builder().name(format!("tag:{OWNER_UID}")).values(uid(&endpoint)).build())
            .send()
            .await?;
        let mut in_subnets: Vec<String> =
            out.vpc_endpoints().iter().flat_map(|e| e.subnet_ids().iter().cloned()).collect();
        in_subnets.sort();
        let mut want = app_subnets.clone();
        want.sort();
        assert_eq!(out.vpc_endpoints().len(), 1, "one endpoint made while the tier's reads fail");
        assert_eq!(in_subnets, want, "the endpoint is in the tier's app subnets");
        let still = api.get("shop").await?;
        assert_eq!(condition(&still, "Synced").map(|c| c.status).as_deref(), Some("False"), "reads still failing");
        let injected = proxy.counters().await?.injected("internal", "DescribeInternetGateways");
        assert!(injected > 0, "the drift reads were failed: {injected}");

        proxy.reset().await?;
        env.wait_condition::<VpcTier>("shop", "Synced", CONVERGE, |c| c.status == "True").await?;
        watch.abort();
        let not_ready = not_ready.lock().expect("lock").clone();
        assert!(not_ready.is_empty(), "Ready left True while only reads failed: {not_ready:?}");
        Ok(())
    }
}
