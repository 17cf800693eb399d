"""Faults lose nothing: a dropped database connection, and the real gunicorn server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.people import registration

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not os.environ.get("IDENTITY_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_the_service_recovers_when_the_database_drops_its_connections(client, auth, database_url):
    assert client.post("/v1/registrations", json=registration(sequence=1), headers=auth).status_code == 201
    name = make_url(database_url).database
    admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar()
    admin.dispose()
    assert killed >= 1
    response = client.post("/v1/registrations", json=registration(sequence=2), headers=auth)
    assert response.status_code == 201
    assert client.get(response.headers["Location"], headers=auth).status_code == 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_gunicorn_serves_the_app_with_its_config(settings, platforms, platform):
    port = free_port()
    env = {**os.environ, "IDENTITY_DATABASE_URL": settings.database_url,
           "IDENTITY_ROOT_KEY_FILE": str(settings.root_key_file),
           "IDENTITY_INSTANCE_PATH": str(settings.instance_path),
           "IDENTITY_BIND": f"127.0.0.1:{port}", "IDENTITY_WORKERS": "2"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
                               "identity:create_app()"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if urllib.request.urlopen(f"{base}/readyz", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(
            f"{base}/v1/registrations", data=json.dumps(registration()).encode(), method="POST",
            headers={"Authorization": f"Bearer {platforms.key(platform)}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert 'route="/v1/registrations"' in metrics
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "POST /v1/registrations" in output and "201" in output  # the access log, without bodies
    assert "张三" not in output
