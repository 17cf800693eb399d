"""Prometheus metrics. Labels are route templates (`/v1/accounts/<string:pseudonym>`, bounded by
the code) and outcome codes: never a path, a pseudonym, or anything a person submitted.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (config/gunicorn.conf.py
does) so that /metrics adds up every worker.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from identity.log_paths import ROUTE_ENVIRON_KEY, literal_route_segments, loggable_unrouted_path

HTTP_REQUESTS = Counter("identity_http_requests_total", "HTTP requests answered",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("identity_http_request_duration_seconds", "Time to answer a request", ["route"],
                         buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
REGISTRATIONS = Counter("identity_registrations_total", "Registration outcomes", ["outcome"])
TOKENS = Counter("identity_tokens_total", "Token operations", ["operation", "outcome"])
# One circuit per worker: "livemax" shows the worst state among the live workers.
VERIFIER_CIRCUIT_STATE = Gauge("identity_verifier_circuit_state",
                               "Verification authority circuit: 0 closed, 1 half-open (probing), 2 open",
                               multiprocess_mode="livemax")
VERIFIER_REFUSED = Counter("identity_verifier_refused_total",
                           "Verifications answered 503 without asking the authority", ["reason"])
# One per call of the authority, retries included; `outcome` is one of the HTTP verifier's fixed
# words (match, no_match, timeout, unreachable, rate_limited, ...): bounded by the code.
AUTHORITY_CALLS = Counter("identity_authority_calls_total", "Calls of the verification authority, by outcome",
                          ["outcome"])
AUTHORITY_LATENCY = Histogram("identity_authority_call_duration_seconds",
                              "Time a call of the verification authority took, retries included",
                              buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30))
# "max": the same value from every worker, shown once rather than once per process.
BUILD_INFO = Gauge("identity_build_info", "The running version (always 1)", ["version", "python_version"],
                   multiprocess_mode="max")


def observe_authority_call(outcome: str, seconds: float) -> None:
    AUTHORITY_CALLS.labels(outcome=outcome).inc()
    AUTHORITY_LATENCY.observe(seconds)


def service_version() -> str:
    try:
        return version("identity-service")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class KeyAgeCollector(Collector):
    """`identity_key_age_seconds{kind}`: seconds since each kind's primary key was created, read at
    scrape time (one small query), so every worker and the CLI's rotations show at once."""

    def __init__(self, primary_key_created: Callable[[], Iterable[tuple[str, float]]]) -> None:
        self._primary_key_created = primary_key_created

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("identity_key_age_seconds",
                                   "Seconds since the primary key of each kind was created", labels=["kind"])
        now = time.time()
        for kind, created in self._primary_key_created():
            family.add_metric([kind], max(now - created, 0.0))
        yield family


def circuit_state_value(state: str) -> int:
    return {"closed": 0, "half_open": 1, "open": 2}[state]


# Anyone can send any method name; an unbounded label would grow a series per invention.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


class RouteMetrics:
    """The request counter's and latency histogram's children, by label values.

    `labels()` checks and sorts its arguments and takes a lock on every call; the label sets
    here are few (methods x route templates x status codes), so each child is looked up once
    and kept. Counting still goes through the child on every request."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._latencies: dict[str, Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float | None) -> None:
        key = (_method_label(method), route, status)  # the label values: the bound holds for the keys too
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters.setdefault(key, HTTP_REQUESTS.labels(key[0], route, str(status)))
        counter.inc()
        if seconds is not None:
            latency = self._latencies.get(route)
            if latency is None:
                latency = self._latencies.setdefault(route, HTTP_LATENCY.labels(route=route))
            latency.observe(seconds)


def init_metrics(app: Flask) -> None:
    BUILD_INFO.labels(version=service_version(), python_version=platform.python_version()).set(1)
    route_metrics = RouteMetrics()

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    literal_segments: frozenset[str] | None = None

    @app.after_request
    def _observe(response: Response) -> Response:
        nonlocal literal_segments
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup
        rule = req.url_rule
        route = rule.rule if rule is not None else "unmatched"
        started = g.get("request_started")
        route_metrics.observe(req.method, route, response.status_code,
                              None if started is None else time.perf_counter() - started)
        # gunicorn writes the access line after Flask dropped the request: leave it the route, never
        # the path, which holds pseudonyms and other ids (identity.gunicorn_logging). Here rather
        # than in a hook of its own: the rule is at hand, and a hook costs on every request.
        if rule is None:
            if literal_segments is None:
                literal_segments = literal_route_segments(r.rule for r in app.url_map.iter_rules())
            req.environ[ROUTE_ENVIRON_KEY] = loggable_unrouted_path(req.path, literal_segments)
        else:
            req.environ[ROUTE_ENVIRON_KEY] = route
        return response


def metrics_response(*collectors: Collector) -> Response:
    """Every worker's metrics (or this process's), and `collectors` computed now, for this scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        payload = generate_latest(registry)
    else:
        payload = generate_latest(REGISTRY)
    if collectors:
        now = CollectorRegistry(auto_describe=False)
        for collector in collectors:
            now.register(collector)
        payload += generate_latest(now)
    return Response(payload, mimetype=CONTENT_TYPE_LATEST)
