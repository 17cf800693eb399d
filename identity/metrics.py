"""Prometheus metrics. Labels are route templates and outcome codes: never a path, a pseudonym,
or anything a person submitted.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (config/gunicorn.conf.py
does) so that /metrics adds up every worker.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

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


def circuit_state_value(state: str) -> int:
    return {"closed": 0, "half_open": 1, "open": 2}[state]


# Anyone can send any method name; an unbounded label would grow a series per invention.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def _route_label() -> str:
    # The rule's template (`/v1/accounts/<string:pseudonym>`), never the path: bounded by the code.
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def init_metrics(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        route = _route_label()
        if started is not None:
            HTTP_LATENCY.labels(route=route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(method=_method_label(request.method), route=route, status=str(response.status_code)).inc()
        return response


def metrics_response() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        payload = generate_latest(registry)
    else:
        payload = generate_latest()
    return Response(payload, mimetype=CONTENT_TYPE_LATEST)
