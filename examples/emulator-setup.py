"""What the examples expect to exist in the AWS account, made in the emulator: the flow-log bucket
of vpctier-shop.yaml, the image bucket of globalentrypoint-static.yaml, the storefront's server
certificate and the shop.example hosted zone. In a real account these are the user's own buckets,
certificates and zone. Safe to run again."""
import boto3

s3 = boto3.client("s3", region_name="us-east-1")
buckets = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
for bucket in ("shop-flow-logs", "shop-images"):
    if bucket not in buckets:
        s3.create_bucket(Bucket=bucket)
iam = boto3.client("iam", region_name="us-east-1")
if not any(c["ServerCertificateName"] == "shop-demo" for c in iam.list_server_certificates()["ServerCertificateMetadataList"]):
    iam.upload_server_certificate(ServerCertificateName="shop-demo", CertificateBody="demo", PrivateKey="demo")
r53 = boto3.client("route53", region_name="us-east-1")
if not any(z["Name"] == "shop.example." for z in r53.list_hosted_zones_by_name(DNSName="shop.example")["HostedZones"]):
    r53.create_hosted_zone(Name="shop.example", CallerReference="securecart-demo-shop.example")
