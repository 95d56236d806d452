"""The securecart fault proxy: a mitmproxy addon that sits between the controller and the AWS
emulator (mitmdump in reverse-proxy mode) and injects, per request, AWS-shaped faults.

Design note: why mitmproxy. The faults that matter for crash-safe identity are HTTP-level: an
AWS error code in the body the SDK classifies (throttling, 500, 503), and a mutating call that
the emulator applied whose answer never reaches the client. toxiproxy works on TCP streams only
(latency, resets, timeouts) and cannot tell a CreateVpc from a DescribeVpcs or answer with an
EC2 error body. A layer inside the SDK's HTTP connector would have to be built into the product
binary (or a test build of it), while the point is to test the real binary unchanged: a proxy at
its AWS_ENDPOINT_URL does that. mitmproxy is a well-kept HTTP proxy from PyPI whose addon API
sees each request before it is sent upstream and each response before it is returned, can answer
itself or kill the client connection at either point, and runs async hooks (latency) without
holding other requests. Version 11.0.2 is pinned: 12.x needs Python 3.12, Debian bookworm has 3.11.

Faults are decided per HTTP request (per SDK attempt), deterministically from the seed, the
operation and how many requests of that operation came before, so a run with a given seed and the
same order of calls per operation injects the same faults. Kinds:
  throttle, internal (500), unavailable (503) - an error in the service's own shape, never sent on
  reset          - the client connection is closed without a response, never sent on
  latency        - the request waits before going on
  lost_response  - a mutating call is sent on and applied; then the client connection is closed
  hidden_*       - eventual consistency: IDs returned by creates are hidden from reads for N s
                   (recorded when the create's answer passes through, even if it is then lost)
Not a fault: an EC2 create repeated with the ClientToken of an answered one gets the first answer
(IdempotentParameterMismatch if its parameters differ), as from AWS; the emulator ignores tokens.

Options (mitmdump --set): faults_config (JSON, see fault_state.CONFIG_KEYS), faults_control_port (the
control endpoint, HTTP on 127.0.0.1; see tests/controlplane/faults.sh and docs/development.md).
"""

import asyncio
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mitmproxy import ctx, http

import aws_protocols as aws
from fault_state import State

log = logging.getLogger("securecart.faults")

class Control(BaseHTTPRequestHandler):
    """The control endpoint. JSON in, JSON out."""

    state: State

    def log_message(self, fmt, *args):
        log.debug("control: " + fmt, *args)

    def reply(self, status: int, value):
        body = json.dumps(value, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        routes = {"/healthz": lambda: "ok", "/config": self.state.config, "/counters": self.state.counters}
        handler = routes.get(self.path)
        if handler is None:
            return self.reply(404, {"error": f"no route {self.path}", "routes": sorted(routes)})
        self.reply(200, handler())

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            s = self.state
            if self.path == "/config":
                s.configure(body)
            elif self.path == "/next":
                s.enqueue(body.get("fault", ""), body.get("operation", ""), int(body.get("count", 1)), body.get("service"))
            elif self.path == "/lose":
                s.enqueue("lost", body.get("operation", ""), int(body.get("count", 1)), body.get("service"))
            elif self.path == "/hide":
                ec = {"seconds": body.get("seconds", 0)}
                if "services" in body:
                    ec["services"] = body["services"]
                s.configure({"eventual_consistency": ec})
            elif self.path == "/reset":
                s.reset()
            elif self.path == "/counters/reset":
                s.clear_counters()
            else:
                return self.reply(404, {"error": f"no route {self.path}"})
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            return self.reply(400, {"error": str(e)})
        self.reply(200, s.config())


class AwsFaults:
    def __init__(self):
        self.state = State()
        self.server: ThreadingHTTPServer | None = None

    def load(self, loader):
        loader.add_option("faults_config", str, "", "Fault configuration, JSON (see the module docstring).")
        loader.add_option("faults_control_port", int, 0, "Port of the control endpoint on 127.0.0.1 (0: none).")

    def configure(self, updated):
        if "faults_config" in updated and ctx.options.faults_config:
            self.state.configure(json.loads(ctx.options.faults_config))
        if "faults_control_port" in updated and ctx.options.faults_control_port and self.server is None:
            handler = type("BoundControl", (Control,), {"state": self.state})
            self.server = ThreadingHTTPServer(("127.0.0.1", ctx.options.faults_control_port), handler)
            self.server.daemon_threads = True
            threading.Thread(target=self.server.serve_forever, name="faults-control", daemon=True).start()
            log.info("fault control endpoint on 127.0.0.1:%d", ctx.options.faults_control_port)

    def done(self):
        if self.server is not None:
            self.server.shutdown()

    async def request(self, flow: http.HTTPFlow):
        req = flow.request
        call = aws.recognise(req.method, req.path, req.headers, req.raw_content or b"")
        if call is None:
            return
        flow.metadata["aws_call"] = call
        s = self.state
        d = s.decide(call)
        if d.latency_ms:
            s.count("latency", call)
            await asyncio.sleep(d.latency_ms / 1000)
        if d.fault == "reset":
            s.count("reset", call)
            flow.kill()
            return
        if d.fault:
            s.count(d.fault, call)
            self.answer(flow, aws.fault_response(call, d.fault))
            return
        replayed = s.replay(call)
        if replayed is not None:
            log.info("answering a repeated %s token as AWS does", call.operation)
            self.answer(flow, replayed)
            flow.metadata["lose"] = d.lose
            return
        if not call.mutating and s.ec_applies(call):
            hidden = s.hidden_now()
            for resource_id in aws.named_ids(call):
                if resource_id in hidden:
                    answer = aws.not_found(call, resource_id)
                    if answer:
                        s.count("hidden_not_found", call)
                        self.answer(flow, answer)
                        return
        flow.metadata["lose"] = d.lose

    def answer(self, flow: http.HTTPFlow, answer):
        status, body, headers = answer
        flow.metadata["injected"] = True
        flow.response = http.Response.make(status, body, headers)

    def response(self, flow: http.HTTPFlow):
        call = flow.metadata.get("aws_call")
        if call is None or flow.response is None:
            return
        if flow.metadata.get("injected"):
            if flow.metadata.get("lose"):
                self.state.count("lost_response", call)
                flow.kill()
            return
        s = self.state
        ok = 200 <= flow.response.status_code < 300
        if ok:
            s.remember(call, (flow.response.status_code, flow.response.raw_content or b"", dict(flow.response.headers)))
        if ok and s.ec_applies(call):
            body = flow.response.raw_content or b""
            if call.mutating:
                created = aws.created_id(call, body)
                if created:
                    s.hide(created)
                    log.info("hiding %s from reads for %ss", created, s.ec_seconds)
            else:
                filtered, removed = aws.filter_listing(call, body, s.hidden_now())
                if removed:
                    s.count("hidden_from_list", call, removed)
                    flow.response.content = filtered
        if flow.metadata.get("lose"):
            s.count("lost_response", call)
            flow.kill()


addons = [AwsFaults()]
