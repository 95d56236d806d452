"""Counts what the operator created in AWS, by owner, read through the AWS API (boto3)."""
import collections
import os

import boto3

OWNER = "net.securecart.io/owner-name"
region = os.environ.get("AWS_REGION", "us-east-1")
ec2 = boto3.client("ec2", region_name=region)


def tags(item):
    return {t["Key"]: t["Value"] for t in item.get("Tags", []) or item.get("TagList", [])}


counts = collections.defaultdict(collections.Counter)
kinds = [
    ("VPCs", ec2.describe_vpcs()["Vpcs"]),
    ("subnets", ec2.describe_subnets()["Subnets"]),
    ("internet gateways", ec2.describe_internet_gateways()["InternetGateways"]),
    ("route tables", ec2.describe_route_tables()["RouteTables"]),
    ("NAT gateways", [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"]),
    ("Elastic IPs", ec2.describe_addresses()["Addresses"]),
    ("flow logs", ec2.describe_flow_logs()["FlowLogs"]),
    ("VPC endpoints", [e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() != "deleted"]),
    ("transit gateways", [g for g in ec2.describe_transit_gateways()["TransitGateways"] if g["State"] != "deleted"]),
    ("hub route tables", [t for t in ec2.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"] if t["State"] != "deleted"]),
    ("hub attachments", [a for a in ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"] if a["State"] != "deleted"]),
    ("customer gateways", [g for g in ec2.describe_customer_gateways()["CustomerGateways"] if g["State"] != "deleted"]),
    ("VPN connections", [v for v in ec2.describe_vpn_connections()["VpnConnections"] if v["State"] != "deleted"]),
    ("peering connections", [p for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"] if p["Status"]["Code"] == "active"]),
]
elb = boto3.client("elbv2", region_name=region)
load_balancers = elb.describe_load_balancers()["LoadBalancers"]
target_groups = elb.describe_target_groups()["TargetGroups"]
arns = [l["LoadBalancerArn"] for l in load_balancers] + [t["TargetGroupArn"] for t in target_groups]
elb_tags = {}
for i in range(0, len(arns), 20):
    for d in elb.describe_tags(ResourceArns=arns[i : i + 20])["TagDescriptions"]:
        elb_tags[d["ResourceArn"]] = d["Tags"]
kinds += [
    ("load balancers", [{"Tags": elb_tags.get(l["LoadBalancerArn"], [])} for l in load_balancers]),
    ("target groups", [{"Tags": elb_tags.get(t["TargetGroupArn"], [])} for t in target_groups]),
    ("security groups", ec2.describe_security_groups()["SecurityGroups"]),
]
waf = boto3.client("wafv2", region_name=region)
for acl in waf.list_web_acls(Scope="REGIONAL")["WebACLs"]:
    tag_list = waf.list_tags_for_resource(ResourceARN=acl["ARN"])["TagInfoForResource"].get("TagList", [])
    kinds.append(("web ACLs", [{"Tags": tag_list}]))
# The edge is global: CloudFront and its web ACLs (scope CLOUDFRONT) live in us-east-1.
edge_waf = boto3.client("wafv2", region_name="us-east-1")
for acl in edge_waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]:
    tag_list = edge_waf.list_tags_for_resource(ResourceARN=acl["ARN"])["TagInfoForResource"].get("TagList", [])
    kinds.append(("edge web ACLs", [{"Tags": tag_list}]))
cloudfront = boto3.client("cloudfront", region_name="us-east-1")
for d in cloudfront.list_distributions()["DistributionList"].get("Items", []):
    tag_list = cloudfront.list_tags_for_resource(Resource=d["ARN"])["Tags"].get("Items", [])
    kinds.append(("CloudFront distributions", [{"Tags": tag_list}]))
rds = boto3.client("rds", region_name=region)
for group in rds.describe_db_subnet_groups()["DBSubnetGroups"]:
    tag_list = rds.list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"]
    kinds.append(("DB subnet groups", [{"Tags": tag_list}]))
apigw = boto3.client("apigateway", region_name=region)
kinds += [
    ("REST APIs", [{"Tags": [{"Key": k, "Value": v} for k, v in a.get("tags", {}).items()]} for a in apigw.get_rest_apis()["items"]]),
    ("VPC links", [{"Tags": [{"Key": k, "Value": v} for k, v in l.get("tags", {}).items()]} for l in apigw.get_vpc_links()["items"]]),
    ("usage plans", [{"Tags": [{"Key": k, "Value": v} for k, v in p.get("tags", {}).items()]} for p in apigw.get_usage_plans()["items"]]),
]
r53 = boto3.client("route53", region_name="us-east-1")
for check in r53.list_health_checks()["HealthChecks"]:
    tag_set = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])["ResourceTagSet"]
    kinds.append(("health checks", [{"Tags": tag_set.get("Tags", [])}]))
for kind, items in kinds:
    for item in items:
        owner = tags(item).get(OWNER)
        if owner:
            counts[owner][kind] += 1

print(f"AWS resources in {region} owned by the operator (read from the emulator):")
for owner, by_kind in sorted(counts.items()):
    print(f"  {owner}: " + ", ".join(f"{n} {k}" for k, n in by_kind.items()))

for zone in r53.list_hosted_zones()["HostedZones"]:
    records = r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    for r in records:
        if "AliasTarget" in r:
            who = r.get("SetIdentifier", "simple")
            print(f"  record {r['Name']} {r['Type']} ({who}) -> {r['AliasTarget']['DNSName']}")
