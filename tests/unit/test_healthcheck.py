"""The image's health check asks /healthz where IDENTITY_BIND says gunicorn listens."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from identity.healthcheck import probe_url
from tests.support.serving import served


@pytest.mark.parametrize("bind, url", [
    ("0.0.0.0:8000", "http://127.0.0.1:8000/healthz"),
    ("0.0.0.0:9123", "http://127.0.0.1:9123/healthz"),
    ("127.0.0.1:8080", "http://127.0.0.1:8080/healthz"),
    ("[::]:8000", "http://[::1]:8000/healthz"),
    ("[::1]:7000", "http://[::1]:7000/healthz"),
    (":8001", "http://127.0.0.1:8001/healthz"),
    ("8002", "http://127.0.0.1:8002/healthz"),
    ("identity.internal:80", "http://identity.internal:80/healthz"),
])
def test_the_probe_follows_identity_bind(bind, url):
    assert probe_url(bind) == url


@pytest.mark.parametrize("bind", ["unix:/run/identity.sock", "0.0.0.0:http", "0.0.0.0:"])
def test_an_address_it_cannot_ask_is_refused(bind):
    with pytest.raises(ValueError, match="IDENTITY_BIND"):
        probe_url(bind)


def run_probe(bind: str) -> int:
    env = {**os.environ, "IDENTITY_BIND": bind}
    return subprocess.run([sys.executable, "-m", "identity.healthcheck"], env=env, capture_output=True,
                          timeout=30).returncode


def test_the_probe_is_healthy_on_the_bound_port_and_not_elsewhere(app):
    with served(app) as base:
        port = base.rsplit(":", 1)[1]
        assert run_probe(f"0.0.0.0:{port}") == 0
    assert run_probe(f"0.0.0.0:{port}") == 1  # nothing listens there any more
