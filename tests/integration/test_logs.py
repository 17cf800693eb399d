"""Logs an operator can ship: the real gunicorn server with IDENTITY_LOG_FORMAT=json writes one JSON
object a line, each with a timestamp, the request's lines with its `X-Request-Id`, and access lines
that name the route template, never a pseudonym or anything a person submitted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from identity.settings import Settings
from tests.integration.test_faults import free_port
from tests.support.authority import Authority
from tests.support.people import registration, resident_id

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    base: str
    output: str = ""


@contextmanager
def gunicorn(settings: Settings, **env: str) -> Iterator[Served]:
    """gunicorn with config/gunicorn.conf.py on 127.0.0.1; `output` holds everything it wrote once stopped."""
    port = free_port()
    environ = {**os.environ, "IDENTITY_DATABASE_URL": settings.database_url,
               "IDENTITY_ROOT_KEY_FILE": str(settings.root_key_file),
               "IDENTITY_INSTANCE_PATH": str(settings.instance_path),
               "IDENTITY_BIND": f"127.0.0.1:{port}", "IDENTITY_WORKERS": "1", **env}
    environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
                               "identity:create_app()"], cwd=ROOT, env=environ,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}")
    try:
        for _ in range(150):
            try:
                if urllib.request.urlopen(f"{served.base}/readyz", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield served
    finally:
        server.terminate()
        served.output = server.communicate(timeout=30)[0].decode()


def call(base: str, method: str, path: str, *, key: str | None = None, body: dict | None = None,
         request_id: str | None = None) -> tuple[int, dict[str, str], dict]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    request = urllib.request.Request(f"{base}{path}", method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def test_json_logs_of_a_served_app_carry_timestamp_request_id_and_route_templates(settings, platforms, platform):
    key = platforms.key(platform)
    number = resident_id(sequence=7)
    with Authority(known={("张三", number)}) as authority, \
            gunicorn(settings, IDENTITY_LOG_FORMAT="json", IDENTITY_VERIFIER="http",
                     IDENTITY_VERIFIER_URL=authority.url) as served:
        status, headers, account = call(served.base, "POST", "/v1/registrations", key=key,
                                        body=registration(number), request_id="platform-trace-0001")
        assert status == 201 and headers["X-Request-Id"] == "platform-trace-0001"
        pseudonym = account["pseudonym"]
        status, read_headers, _ = call(served.base, "GET", f"/v1/accounts/{pseudonym}?external_ref=x", key=key)
        assert status == 200
        made = read_headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)  # none was sent: one was made
        # a request id that is not sane (too long) is replaced, not echoed
        status, junk_headers, _ = call(served.base, "GET", f"/v1/accounts/{pseudonym}", key=key,
                                       request_id="x" * 200)
        assert status == 200 and junk_headers["X-Request-Id"] != "x" * 200
        # a path that matches no route keeps only the app's own words
        status, missing_headers, _ = call(served.base, "GET", f"/v1/nowhere/{pseudonym}/{number}", key=key)
        assert status == 404
        # an error answer carries one too
        status, denied_headers, _ = call(served.base, "GET", f"/v1/accounts/{pseudonym}", key="idk_wrong")
        assert status == 401 and denied_headers["X-Request-Id"]
        # the same server's metrics (gunicorn: added up over its workers)
        metrics = urllib.request.urlopen(f"{served.base}/metrics", timeout=5).read().decode()
        assert 'identity_build_info{' in metrics and 'identity_key_age_seconds{kind="signing"}' in metrics
        assert 'identity_authority_calls_total{outcome="match"} 1.0' in metrics
    lines = [line for line in served.output.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert datetime.fromisoformat(record["timestamp"]).utcoffset().total_seconds() == 0, record
        assert record["level"] and record["logger"] and "message" in record
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    by_id = {r["request_id"]: r for r in access}
    assert by_id["platform-trace-0001"]["path"] == "/v1/registrations"
    assert by_id["platform-trace-0001"]["status"] == 201 and by_id["platform-trace-0001"]["method"] == "POST"
    assert by_id[made]["path"] == "/v1/accounts/{pseudonym}" and by_id[made]["status"] == 200
    assert by_id[junk_headers["X-Request-Id"]]["path"] == "/v1/accounts/{pseudonym}"
    assert by_id[missing_headers["X-Request-Id"]]["path"] == "/v1/{?}/{?}/{?}"
    assert by_id[denied_headers["X-Request-Id"]]["status"] == 401
    assert all(isinstance(r["duration_ms"], float | int) for r in access)
    # the app's own line of that request (the authority's answer) carries its id too
    verification = [r for r in records if r["logger"] == "identity.verifiers.http"]
    assert [r["request_id"] for r in verification] == ["platform-trace-0001"]
    assert "outcome=match" in verification[0]["message"]
    for secret in (pseudonym, number, "张三", "external_ref", "idk_wrong", "x" * 200):
        assert secret not in served.output


def test_text_access_lines_have_a_timestamp_the_request_id_and_the_route_template(settings, platforms, platform):
    key = platforms.key(platform)
    with gunicorn(settings) as served:
        status, _, account = call(served.base, "POST", "/v1/registrations", key=key, body=registration())
        assert status == 201
        status, headers, _ = call(served.base, "GET", f"/v1/accounts/{account['pseudonym']}", key=key,
                                  request_id="trace-42")
        assert status == 200 and headers["X-Request-Id"] == "trace-42"
    line = next(line for line in served.output.splitlines() if "request_id=trace-42" in line)
    assert re.match(r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] ", line)  # gunicorn's timestamp
    assert '"GET /v1/accounts/{pseudonym}" 200' in line
    assert account["pseudonym"] not in served.output and "张三" not in served.output


def test_gunicorn_stops_at_start_up_naming_a_bad_log_format(settings):
    env = {**os.environ, "IDENTITY_DATABASE_URL": settings.database_url,
           "IDENTITY_ROOT_KEY_FILE": str(settings.root_key_file), "IDENTITY_INSTANCE_PATH": str(settings.instance_path),
           "IDENTITY_BIND": "127.0.0.1:0", "IDENTITY_WORKERS": "1", "IDENTITY_LOG_FORMAT": "yaml"}
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "identity:create_app()"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: IDENTITY_LOG_FORMAT must be one of text, json"]
