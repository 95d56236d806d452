"""What the fault proxy knows about AWS wire protocols: which service and operation a request is,
whether it mutates, how each service spells its errors, and where create calls put new IDs and
read calls list them (for the eventual-consistency mode).

Adding a service is a table entry in SERVICES (plus a route table for REST protocols).
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qs

# Operations whose names start so only read. Everything else is treated as mutating (Route 53's
# ListTagsForResources is a POST and still a read: the name decides, not the method).
READ_PREFIXES = ("Describe", "List", "Get")


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


@dataclass(frozen=True)
class Errors:
    """The codes a service answers for each injected fault, with their HTTP statuses."""

    throttle: tuple[int, str]
    internal: tuple[int, str] = (500, "InternalFailure")
    unavailable: tuple[int, str] = (503, "ServiceUnavailable")


@dataclass(frozen=True)
class Service:
    name: str
    # ec2 | query | rest-xml | json | rest-json
    protocol: str
    errors: Errors
    xmlns: str = ""
    # REST protocols: (method, path regex, operation), first match wins.
    routes: tuple[tuple[str, str, str], ...] = ()


ROUTE53_ROUTES = (
    ("POST", r"/2013-04-01/healthcheck/?", "CreateHealthCheck"),
    ("GET", r"/2013-04-01/healthcheck/?", "ListHealthChecks"),
    ("GET", r"/2013-04-01/healthcheckcount", "GetHealthCheckCount"),
    ("GET", r"/2013-04-01/healthcheck/[^/]+/status", "GetHealthCheckStatus"),
    ("GET", r"/2013-04-01/healthcheck/[^/]+", "GetHealthCheck"),
    ("POST", r"/2013-04-01/healthcheck/[^/]+", "UpdateHealthCheck"),
    ("DELETE", r"/2013-04-01/healthcheck/[^/]+", "DeleteHealthCheck"),
    ("POST", r"/2013-04-01/hostedzone/?", "CreateHostedZone"),
    ("GET", r"/2013-04-01/hostedzone/?", "ListHostedZones"),
    ("GET", r"/2013-04-01/hostedzonesbyname", "ListHostedZonesByName"),
    ("POST", r"/2013-04-01/hostedzone/[^/]+/rrset/?", "ChangeResourceRecordSets"),
    ("GET", r"/2013-04-01/hostedzone/[^/]+/rrset/?", "ListResourceRecordSets"),
    ("GET", r"/2013-04-01/hostedzone/[^/]+", "GetHostedZone"),
    ("DELETE", r"/2013-04-01/hostedzone/[^/]+", "DeleteHostedZone"),
    ("GET", r"/2013-04-01/change/[^/]+", "GetChange"),
    ("GET", r"/2013-04-01/tags/[^/]+/[^/]+", "ListTagsForResource"),
    ("POST", r"/2013-04-01/tags/[^/]+/[^/]+", "ChangeTagsForResource"),
    ("POST", r"/2013-04-01/tags/[^/]+", "ListTagsForResources"),
)

# Not exercised by the operator yet: the routes its next kinds would call first.
CLOUDFRONT_ROUTES = (
    ("POST", r"/2020-05-31/distribution/?", "CreateDistribution"),
    ("GET", r"/2020-05-31/distribution/?", "ListDistributions"),
    ("GET", r"/2020-05-31/distribution/[^/]+/config", "GetDistributionConfig"),
    ("PUT", r"/2020-05-31/distribution/[^/]+/config", "UpdateDistribution"),
    ("GET", r"/2020-05-31/distribution/[^/]+", "GetDistribution"),
    ("DELETE", r"/2020-05-31/distribution/[^/]+", "DeleteDistribution"),
    ("POST", r"/2020-05-31/tagging", "TagResource"),
    ("GET", r"/2020-05-31/tagging", "ListTagsForResource"),
)
APIGATEWAY_ROUTES = (
    ("POST", r"/restapis/?", "CreateRestApi"),
    ("GET", r"/restapis/?", "GetRestApis"),
    ("GET", r"/restapis/[^/]+", "GetRestApi"),
    ("DELETE", r"/restapis/[^/]+", "DeleteRestApi"),
    ("POST", r"/v2/apis/?", "CreateApi"),
    ("GET", r"/v2/apis/?", "GetApis"),
    ("DELETE", r"/v2/apis/[^/]+", "DeleteApi"),
)

# Keyed by the service name in the SigV4 credential scope of the Authorization header.
SERVICES = {
    s.name: s
    for s in (
        Service("ec2", "ec2", Errors(throttle=(503, "RequestLimitExceeded"), internal=(500, "InternalError"))),
        Service(
            "elasticloadbalancing",
            "query",
            Errors(throttle=(400, "Throttling")),
            xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
        ),
        Service("sts", "query", Errors(throttle=(400, "Throttling")), xmlns="https://sts.amazonaws.com/doc/2011-06-15/"),
        Service(
            "monitoring",
            "query",
            Errors(throttle=(400, "Throttling")),
            xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/",
        ),
        Service("rds", "query", Errors(throttle=(400, "Throttling")), xmlns="http://rds.amazonaws.com/doc/2014-10-31/"),
        Service(
            "route53",
            "rest-xml",
            Errors(throttle=(400, "Throttling")),
            xmlns="https://route53.amazonaws.com/doc/2013-04-01/",
            routes=ROUTE53_ROUTES,
        ),
        Service(
            "cloudfront",
            "rest-xml",
            Errors(throttle=(400, "Throttling")),
            xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/",
            routes=CLOUDFRONT_ROUTES,
        ),
        Service(
            "wafv2",
            "json",
            Errors(throttle=(400, "ThrottlingException"), internal=(500, "WAFInternalErrorException")),
        ),
        Service(
            "shield",
            "json",
            Errors(throttle=(400, "ThrottlingException"), internal=(500, "InternalErrorException")),
        ),
        Service(
            "apigateway",
            "rest-json",
            Errors(throttle=(429, "TooManyRequestsException")),
            routes=APIGATEWAY_ROUTES,
        ),
    )
}

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Call:
    """One AWS request as the proxy sees it."""

    service: Service
    region: str
    operation: str
    params: dict[str, list[str]] = field(default_factory=dict)
    path: str = ""

    @property
    def mutating(self) -> bool:
        return is_mutating(self.operation)

    @property
    def key(self) -> str:
        return f"{self.service.name}:{self.operation}"


def recognise(method: str, path: str, headers, body: bytes) -> Call | None:
    """The service and operation of a request, or None for anything that is not an AWS call of a
    known service (it is then passed through untouched)."""
    m = SCOPE.search(headers.get("authorization", ""))
    if not m:
        return None
    region, name = m.group(1), m.group(2)
    service = SERVICES.get(name)
    if service is None:
        return None
    bare = path.split("?", 1)[0]
    if service.protocol in ("ec2", "query"):
        params = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if "?" in path:
            params.update(parse_qs(path.split("?", 1)[1], keep_blank_values=True))
        action = params.get("Action", [""])[0]
        return Call(service, region, action, params, bare) if action else None
    if service.protocol == "json":
        target = headers.get("x-amz-target", "")
        return Call(service, region, target.rsplit(".", 1)[-1], path=bare) if target else None
    for want, pattern, operation in service.routes:
        if method == want and re.fullmatch(pattern, bare):
            return Call(service, region, operation, path=bare)
    return None


# --- errors ------------------------------------------------------------------------------------


def error_response(call: Call, status: int, code: str, message: str) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of an AWS error in the shape the service's protocol uses."""
    rid = str(uuid.uuid4())
    protocol = call.service.protocol
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}</Message></Error></Errors>"
            f"<RequestID>{rid}</RequestID></Response>"
        )
        return status, body.encode(), {"Content-Type": "text/xml;charset=UTF-8"}
    if protocol in ("query", "rest-xml"):
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ErrorResponse xmlns="{call.service.xmlns}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        )
        return status, body.encode(), {"Content-Type": "text/xml", "x-amzn-RequestId": rid}
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message})
        return status, body.encode(), {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": rid}
    # REST-JSON names the code in a header; the body's __type is what parsers fall back on.
    body = json.dumps({"__type": code, "message": message})
    return status, body.encode(), {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": rid}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FAULT_MESSAGES = {
    "throttle": "Rate exceeded (injected by the securecart fault proxy)",
    "internal": "We encountered an internal error. Please try again. (injected by the securecart fault proxy)",
    "unavailable": "Service unavailable. Please try again later. (injected by the securecart fault proxy)",
}


def fault_response(call: Call, kind: str) -> tuple[int, bytes, dict[str, str]]:
    status, code = getattr(call.service.errors, kind)
    return error_response(call, status, code, FAULT_MESSAGES[kind])


# --- eventual consistency -------------------------------------------------------------------------

# Create operation -> the element naming the new ID in its response (its first occurrence).
EC2_CREATES = {
    "CreateVpc": "vpcId",
    "CreateSubnet": "subnetId",
    "CreateInternetGateway": "internetGatewayId",
    "CreateRouteTable": "routeTableId",
    "CreateNatGateway": "natGatewayId",
    "AllocateAddress": "allocationId",
    "CreateVpcEndpoint": "vpcEndpointId",
    "CreateSecurityGroup": "groupId",
}


@dataclass(frozen=True)
class Listing:
    """A read that lists resources: the set element, each item's ID element, the by-ID request
    parameter prefix and the error AWS answers when a named ID does not exist (None: it answers
    an empty list)."""

    set_tag: str
    id_tag: str
    id_param: str
    not_found: str | None


EC2_READS = {
    "DescribeVpcs": Listing("vpcSet", "vpcId", "VpcId", "InvalidVpcID.NotFound"),
    "DescribeSubnets": Listing("subnetSet", "subnetId", "SubnetId", "InvalidSubnetID.NotFound"),
    "DescribeInternetGateways": Listing(
        "internetGatewaySet", "internetGatewayId", "InternetGatewayId", "InvalidInternetGatewayID.NotFound"
    ),
    "DescribeRouteTables": Listing("routeTableSet", "routeTableId", "RouteTableId", "InvalidRouteTableID.NotFound"),
    "DescribeNatGateways": Listing("natGatewaySet", "natGatewayId", "NatGatewayId", "NatGatewayNotFound"),
    "DescribeAddresses": Listing("addressesSet", "allocationId", "AllocationId", "InvalidAllocationID.NotFound"),
    "DescribeVpcEndpoints": Listing("vpcEndpointSet", "vpcEndpointId", "VpcEndpointId", "InvalidVpcEndpointId.NotFound"),
    "DescribeSecurityGroups": Listing("securityGroupInfo", "groupId", "GroupId", "InvalidGroup.NotFound"),
    "DescribeTags": Listing("tagSet", "resourceId", "", None),
}
# A read of one resource by a single ID parameter.
EC2_SINGLE_READS = {
    "DescribeVpcAttribute": ("VpcId", "InvalidVpcID.NotFound"),
    "DescribeSubnetAttribute": ("SubnetId", "InvalidSubnetID.NotFound"),
}

ROUTE53_HEALTH_CHECK_ID = re.compile(r"/2013-04-01/(?:tags/healthcheck|healthcheck)/([^/]+)")


def created_id(call: Call, body: bytes) -> str | None:
    """The ID a successful create call returned, if it is one the eventual-consistency mode hides."""
    if call.service.name == "ec2":
        tag = EC2_CREATES.get(call.operation)
        return first_text(body, tag) if tag else None
    if call.service.name == "route53" and call.operation == "CreateHealthCheck":
        return first_text(body, "Id")
    return None


def named_ids(call: Call) -> list[str]:
    """IDs a read names explicitly (by-ID describes), which answer NotFound while hidden."""
    if call.service.name == "ec2":
        if call.operation in EC2_SINGLE_READS:
            return call.params.get(EC2_SINGLE_READS[call.operation][0], [])
        listing = EC2_READS.get(call.operation)
        if not listing or not listing.id_param:
            return []
        prefix = listing.id_param + "."
        return [v for k, vs in call.params.items() if k.startswith(prefix) for v in vs]
    if call.service.name == "route53" and call.operation in (
        "GetHealthCheck",
        "GetHealthCheckStatus",
        "ListTagsForResource",
    ):
        m = ROUTE53_HEALTH_CHECK_ID.match(call.path)
        return [m.group(1)] if m else []
    return []


def not_found(call: Call, resource_id: str) -> tuple[int, bytes, dict[str, str]] | None:
    if call.service.name == "ec2":
        code = EC2_SINGLE_READS.get(call.operation, (None, None))[1]
        if code is None and call.operation in EC2_READS:
            code = EC2_READS[call.operation].not_found
        if code is None:
            return None
        return error_response(call, 400, code, f"The ID '{resource_id}' does not exist")
    return error_response(call, 404, "NoSuchHealthCheck", f"A health check with id {resource_id} does not exist.")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def first_text(body: bytes, name: str) -> str | None:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for el in root.iter():
        if local(el.tag) == name and el.text:
            return el.text.strip()
    return None


def filter_listing(call: Call, body: bytes, hidden) -> tuple[bytes, int]:
    """The read's response without the items whose ID is hidden, and how many were removed."""
    if call.service.name == "ec2":
        listing = EC2_READS.get(call.operation)
        if not listing:
            return body, 0
        return remove_items(body, listing.set_tag, None, listing.id_tag, hidden)
    if call.service.name == "route53" and call.operation == "ListHealthChecks":
        return remove_items(body, "HealthChecks", "HealthCheck", "Id", hidden)
    if call.service.name == "route53" and call.operation == "ListTagsForResources":
        return remove_items(body, "ResourceTagSets", "ResourceTagSet", "ResourceId", hidden)
    return body, 0


def remove_items(body: bytes, set_tag: str, item_tag: str | None, id_tag: str, hidden) -> tuple[bytes, int]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body, 0
    removed = 0
    # Only the top-level list: nested sets (a route table's associations) name other resources.
    for container in root:
        if local(container.tag) != set_tag:
            continue
        for item in list(container):
            if item_tag and local(item.tag) != item_tag:
                continue
            ident = next((c.text for c in item if local(c.tag) == id_tag and c.text), None)
            if ident and ident.strip() in hidden:
                container.remove(item)
                removed += 1
    if not removed:
        return body, 0
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace:
        # Serialise with the document's namespace as the default one, as the service wrote it.
        ET.register_namespace("", namespace)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), removed
