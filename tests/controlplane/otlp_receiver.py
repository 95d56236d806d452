"""A minimal OTLP/HTTP trace receiver for the integration tests (tests/e2e/tests/traces.rs).

Serves POST /v1/traces (application/x-protobuf) on a loopback port, decodes each
ExportTraceServiceRequest with the generated OTLP messages (opentelemetry-proto, installed by
deps-otlp.sh) and appends every span as one JSON line to OUT:

    {"name", "trace_id", "span_id", "parent_span_id", "kind", "status",
     "attributes": {...}, "resource": {...}, "scope"}

IDs are lowercase hex; parent_span_id is "" for a root span. Attribute values are the decoded
AnyValue (strings, ints, floats, bools; arrays as lists). Once listening it writes its port to
PORT_FILE (so a test can ask for port 0), and answers GET /healthz with "ok".

    python otlp_receiver.py --port 0 --port-file FILE --out FILE
"""

import argparse
import gzip
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


def any_value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def spans(request):
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                yield {
                    "name": s.name,
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "kind": s.kind,
                    "status": {"code": s.status.code, "message": s.status.message},
                    "start_unix_nano": s.start_time_unix_nano,
                    "end_unix_nano": s.end_time_unix_nano,
                    "attributes": attributes(s.attributes),
                    "resource": resource,
                    "scope": ss.scope.name,
                }


class Handler(BaseHTTPRequestHandler):
    out = None
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        sys.stderr.write("otlp_receiver: " + (fmt % args) + "\n")

    def reply(self, code, body=b"", content_type="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, b"ok")
        else:
            self.reply(404)

    def do_POST(self):
        if self.path != "/v1/traces":
            self.reply(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if "protobuf" not in (self.headers.get("Content-Type") or ""):
            self.reply(415, b"only application/x-protobuf")
            return
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as e:  # noqa: BLE001 - a malformed export is the client's error
            self.reply(400, str(e).encode())
            return
        lines = [json.dumps(s, sort_keys=True) for s in spans(request)]
        with Handler.lock, open(Handler.out, "a", encoding="utf-8") as f:
            for line in lines:
                f.write(line + "\n")
        self.log_message("%d spans", len(lines))
        response = trace_service_pb2.ExportTraceServiceResponse()
        self.reply(200, response.SerializeToString(), "application/x-protobuf")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    Handler.out = a.out
    open(a.out, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, a.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
