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
    ("security groups", ec2.describe_security_groups()["SecurityGroups"]),
]
for kind, items in kinds:
    for item in items:
        owner = tags(item).get(OWNER)
        if owner:
            counts[owner][kind] += 1

print(f"AWS resources in {region} owned by the operator (read from the emulator):")
for owner, by_kind in sorted(counts.items()):
    print(f"  {owner}: " + ", ".join(f"{n} {k}" for k, n in by_kind.items()))
