"""Fault configuration, decisions, hidden IDs and counters of the fault proxy (aws_faults.py),
kept apart from mitmproxy so it can be loaded and tested on its own."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, fields

import aws_protocols as aws

log = logging.getLogger("securecart.faults")

PRE_ARRIVAL = ("throttle", "internal", "unavailable", "reset")
KINDS = PRE_ARRIVAL + ("latency", "lost")
ALIASES = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "cloudwatch": "monitoring"}
CONFIG_KEYS = ("seed", "rates", "services", "operations", "latency_ms", "eventual_consistency")


def service_name(name: str) -> str:
    return ALIASES.get(name, name)


@dataclass
class Rates:
    """Probabilities per request. The four pre-arrival kinds are exclusive (their sum is the share
    of requests that never reach the emulator); latency is drawn on its own; lost applies to
    mutating requests that were sent on."""

    throttle: float = 0.0
    internal: float = 0.0
    unavailable: float = 0.0
    reset: float = 0.0
    latency: float = 0.0
    lost: float = 0.0

    @classmethod
    def parse(cls, value: dict) -> dict:
        unknown = set(value) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {list(KINDS)}")
        out = {}
        for k, v in value.items():
            v = float(v)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"rate {k}={v} is not within [0, 1]")
            out[k] = v
        return out


@dataclass
class Decision:
    fault: str | None = None  # one of PRE_ARRIVAL
    latency_ms: float = 0.0
    lose: bool = False


class State:
    """Configuration, one-shot faults, hidden IDs and counters, shared by the proxy's event loop
    and the control endpoint's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ordinals: Counter = Counter()
        self.reset()

    def reset(self):
        with self.lock:
            self.seed = 0
            self.rates: dict = {}
            self.services: dict[str, dict] = {}
            self.operations: dict[str, dict] = {}
            self.latency_ms = (50.0, 500.0)
            self.ec_seconds = 0.0
            self.ec_services = {"ec2", "route53"}
            self.queued: list[dict] = []
            self.hidden: dict[str, float] = {}
            self.faults: Counter = Counter()
            self.requests: Counter = Counter()
            # EC2 ClientToken -> (the request's parameters, the first answer), per region and action.
            self.tokens: dict[tuple[str, str, str], tuple[dict, tuple]] = {}
            self.replays: Counter = Counter()

    # --- configuration ------------------------------------------------------------------------
    def configure(self, config: dict):
        unknown = set(config) - set(CONFIG_KEYS)
        if unknown:
            raise ValueError(f"unknown configuration keys {sorted(unknown)}; known: {list(CONFIG_KEYS)}")
        rates = Rates.parse(config.get("rates", {}))
        services = {service_name(k): Rates.parse(v) for k, v in config.get("services", {}).items()}
        operations = {}
        for k, v in config.get("operations", {}).items():
            svc, _, op = k.partition(":")
            operations[f"{service_name(svc)}:{op}"] = Rates.parse(v)
        latency = config.get("latency_ms")
        if latency is not None and not (len(latency) == 2 and 0 <= latency[0] <= latency[1]):
            raise ValueError("latency_ms is [min, max] with 0 <= min <= max")
        ec = config.get("eventual_consistency")
        with self.lock:
            if "seed" in config:
                self.seed = int(config["seed"])
                self.ordinals.clear()
            if "rates" in config:
                self.rates = rates
            if "services" in config:
                self.services = services
            if "operations" in config:
                self.operations = operations
            if latency is not None:
                self.latency_ms = (float(latency[0]), float(latency[1]))
            if ec is not None:
                self.ec_seconds = float(ec.get("seconds", 0))
                if "services" in ec:
                    self.ec_services = {service_name(s) for s in ec["services"]}

    def config(self) -> dict:
        with self.lock:
            return {
                "seed": self.seed,
                "rates": self.rates,
                "services": self.services,
                "operations": self.operations,
                "latency_ms": list(self.latency_ms),
                "eventual_consistency": {"seconds": self.ec_seconds, "services": sorted(self.ec_services)},
                "queued": list(self.queued),
            }

    def enqueue(self, fault: str, operation: str, count: int, service: str | None):
        if fault not in KINDS:
            raise ValueError(f"unknown fault {fault!r}; known: {list(KINDS)}")
        if count < 1 or not operation:
            raise ValueError("queueing a fault needs an operation and a count >= 1")
        with self.lock:
            self.queued.append(
                {"fault": fault, "operation": operation, "service": service and service_name(service), "count": count}
            )

    def effective(self, call: aws.Call) -> Rates:
        # Caller holds the lock. Operation rates override service rates override global rates.
        merged = dict(self.rates)
        merged.update(self.services.get(call.service.name, {}))
        merged.update(self.operations.get(call.key, {}))
        return Rates(**merged)

    def decide(self, call: aws.Call) -> Decision:
        with self.lock:
            n = self.ordinals[call.key]
            self.ordinals[call.key] += 1
            self.requests[call.key] += 1
            for q in self.queued:
                if q["operation"] == call.operation and q["service"] in (None, call.service.name):
                    q["count"] -= 1
                    if q["count"] == 0:
                        self.queued.remove(q)
                    if q["fault"] == "lost":
                        return Decision(lose=True)
                    if q["fault"] == "latency":
                        return Decision(latency_ms=self.latency_ms[1])
                    return Decision(fault=q["fault"])
            rates = self.effective(call)
            low, high = self.latency_ms
            seed = self.seed
        rng = random.Random(f"{seed}/{call.key}/{n}")
        u, slow, ms, lose = rng.random(), rng.random(), rng.uniform(low, high), rng.random()
        decision = Decision()
        acc = 0.0
        for kind in PRE_ARRIVAL:
            acc += getattr(rates, kind)
            if u < acc:
                decision.fault = kind
                break
        if slow < rates.latency:
            decision.latency_ms = ms
        decision.lose = decision.fault is None and call.mutating and lose < rates.lost
        return decision

    def count(self, kind: str, call: aws.Call, n: int = 1):
        with self.lock:
            self.faults[(kind, call.service.name, call.operation)] += n
        log.info("fault %s %s %s (%s)", kind, call.key, call.region, n)

    # --- eventual consistency -----------------------------------------------------------------
    def ec_applies(self, call: aws.Call) -> bool:
        with self.lock:
            return self.ec_seconds > 0 and call.service.name in self.ec_services

    def hide(self, resource_id: str):
        with self.lock:
            self.hidden[resource_id] = time.monotonic() + self.ec_seconds

    def hidden_now(self) -> set[str]:
        now = time.monotonic()
        with self.lock:
            for k in [k for k, until in self.hidden.items() if until <= now]:
                del self.hidden[k]
            return set(self.hidden)

    # --- idempotency tokens ---------------------------------------------------------------------
    # The emulator ignores EC2's ClientToken, so a create repeated after its answer was lost makes
    # a second resource where AWS answers with the first. The proxy answers as AWS does: the first
    # answer again for the same token and parameters, IdempotentParameterMismatch for others.
    @staticmethod
    def token_key(call: aws.Call) -> tuple[str, str, str] | None:
        token = call.params.get("ClientToken", [""])[0]
        if call.service.protocol != "ec2" or not call.mutating or not token:
            return None
        return (call.region, call.operation, token)

    def replay(self, call: aws.Call):
        """The answer AWS would give a repeat of an answered request, or None to send it on."""
        key = self.token_key(call)
        if key is None:
            return None
        with self.lock:
            seen = self.tokens.get(key)
            if seen is None:
                return None
            self.replays[f"{call.service.name}:{call.operation}"] += 1
        params, answer = seen
        if params != call.params:
            return aws.error_response(
                call, 400, "IdempotentParameterMismatch", "The client token you have provided is associated with a resource that is already deleted or has different parameters."
            )
        return answer

    def remember(self, call: aws.Call, answer: tuple):
        key = self.token_key(call)
        if key is not None:
            with self.lock:
                self.tokens.setdefault(key, (call.params, answer))

    def counters(self) -> dict:
        with self.lock:
            by_kind: Counter = Counter()
            rows = []
            for (kind, svc, op), n in sorted(self.faults.items()):
                by_kind[kind] += n
                rows.append({"kind": kind, "service": svc, "operation": op, "count": n})
            requests = [
                {"service": k.split(":", 1)[0], "operation": k.split(":", 1)[1], "count": n}
                for k, n in sorted(self.requests.items())
            ]
            return {
                "faults": {"total": sum(by_kind.values()), "by_kind": dict(by_kind), "by_operation": rows},
                "requests": requests,
                "requests_total": sum(self.requests.values()),
                "hidden_ids": len(self.hidden),
                "client_token_replays": dict(self.replays),
            }

    def clear_counters(self):
        with self.lock:
            self.faults.clear()
            self.requests.clear()
            self.replays.clear()
