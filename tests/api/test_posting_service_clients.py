"""The posting services' clients against a served app whose issuer is its own URL: configured
with nothing but that issuer URL (RFC 8414), the Python package (clients/python) and the Node
check with `jose` (clients/node-check) verify a real token offline, and the Python package
introspects it."""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from flask import Flask
from realname_identity_client import InvalidToken, TokenVerifier
from realname_identity_client._http import StdlibTransport

from identity.settings import Settings
from tests.support.people import register
from tests.support.serving import served_as_issuer
from tests.support.tokens import issue

NODE_CHECK = Path(__file__).resolve().parents[2] / "clients" / "node-check"


@pytest.fixture
def issuer_app(settings: Settings) -> Iterator[tuple[Flask, str]]:
    with served_as_issuer(settings) as served:
        yield served


@pytest.fixture
def app(issuer_app: tuple[Flask, str]) -> Flask:  # the conftest's fixtures (client, platforms) use this one
    return issuer_app[0]


@pytest.fixture
def issuer(issuer_app: tuple[Flask, str]) -> str:
    return issuer_app[1]


@pytest.fixture
def issued(client, auth):  # type: ignore[no-untyped-def]
    pseudonym = register(client, auth)
    return pseudonym, issue(client, auth, pseudonym)["token"]


@pytest.mark.parametrize("transport", [urllib3.PoolManager, StdlibTransport], ids=["urllib3", "stdlib-urllib"])
def test_python_client_from_the_issuer_url_alone_verifies_offline_and_introspects(
        issuer, platform, platforms, client, auth, issued, transport):
    pseudonym, token = issued
    api_key = platforms.key(platform, ("tokens:introspect",))
    verifier = TokenVerifier.from_issuer(issuer, platform, api_key=api_key, http=transport())
    offline = verifier.verify(token)
    assert (offline.sub, offline.aud, offline.rnv, offline.allows("post")) == (pseudonym, platform, True, True)
    assert verifier.verify(token, online=True) == offline
    with pytest.raises(InvalidToken) as elsewhere:
        TokenVerifier.from_issuer(issuer, "plt_someone_else", http=transport()).verify(token)
    assert elsewhere.value.reason == "wrong_audience"
    assert client.post("/v1/tokens/revoke", data={"token": token}, headers=auth).status_code == 200
    with pytest.raises(InvalidToken) as revoked:
        verifier.verify(token, online=True)
    assert revoked.value.reason == "inactive"


def _node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the Node check: node and npm are not on PATH")
        pytest.skip("node/npm not installed (the Node check runs in CI, where CI is set)")
    pinned = json.loads((NODE_CHECK / "package.json").read_text())["dependencies"]["jose"]
    installed = NODE_CHECK / "node_modules" / "jose" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != pinned:
        # From the lockfile only; a warm npm cache makes this work offline.
        subprocess.run([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=NODE_CHECK, check=True, timeout=180)
    return node


def _node_check(node: str, issuer: str, audience: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([node, "check.mjs", issuer, audience], input=token, cwd=NODE_CHECK,
                          capture_output=True, text=True, timeout=60)


def test_node_jose_from_the_issuer_url_alone_verifies_a_real_token(issuer, platform, issued):
    node = _node()
    pseudonym, token = issued
    result = _node_check(node, issuer, platform, token)
    assert result.returncode == 0, result.stderr
    claims = json.loads(result.stdout)
    assert (claims["iss"], claims["aud"], claims["sub"]) == (issuer, platform, pseudonym)
    assert "post" in claims["scope"].split()

    wrong_audience = _node_check(node, issuer, "plt_someone_else", token)
    assert wrong_audience.returncode == 1 and "ERR_JWT_CLAIM_VALIDATION_FAILED" in wrong_audience.stderr
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad_signature = _node_check(node, issuer, platform, tampered)
    assert bad_signature.returncode == 1 and "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" in bad_signature.stderr
    not_the_issuer = _node_check(node, issuer + "/elsewhere", platform, token)
    assert not_the_issuer.returncode == 2


def _readme_posting_service() -> str:
    readme = (Path(__file__).resolve().parents[2] / "clients" / "python" / "README.md").read_text()
    return readme.split("## A posting service", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_readmes_posting_service_accepts_a_token_and_refuses_the_rest(issuer, platform, issued):
    _, token = issued
    port = _free_port()
    env = {**os.environ, "IDENTITY_ISSUER": issuer, "PLATFORM_ID": platform, "PORT": str(port)}
    service = subprocess.Popen([sys.executable, "-c", _readme_posting_service()], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        http = urllib3.PoolManager(retries=urllib3.Retry(connect=100, backoff_factor=0.05, backoff_max=0.2))
        post = functools.partial(http.request, "POST", f"http://127.0.0.1:{port}/posts", body=b"hello")
        assert post(headers={"Authorization": f"Bearer {token}"}).status == 201
        assert post().status == 401
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert post(headers={"Authorization": f"Bearer {tampered}"}).status == 401
    finally:
        service.terminate()
        _, stderr = service.communicate(timeout=10)
    assert b"Traceback" not in stderr, stderr.decode()
