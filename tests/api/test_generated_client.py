"""A Python client generated from the served OpenAPI document (openapi-python-client, offline)
registers a person and issues a token against the service served over real HTTP."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.people import registration
from tests.support.serving import served

pytestmark = pytest.mark.slow  # runs the generator in a process of its own (a few seconds)

PACKAGE = "identity_generated_client"


@pytest.fixture
def generated_client(client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(client.get("/openapi.json").get_json()))
    config = tmp_path / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: nothing to install or fetch
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run([str(generator), "generate", "--path", str(document), "--meta", "none",
                             "--output-path", str(tmp_path / PACKAGE), "--config", str(config)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_a_generated_client_registers_a_person_and_issues_a_token(app, platforms, platform, generated_client):
    api_key = platforms.key(platform)
    create_registration = importlib.import_module(f"{PACKAGE}.api.registrations.create_registration")
    issue_token = importlib.import_module(f"{PACKAGE}.api.tokens.issue_token")
    get_account = importlib.import_module(f"{PACKAGE}.api.accounts.get_account")
    models = importlib.import_module(f"{PACKAGE}.models")

    with served(app) as base_url:
        api = generated_client.AuthenticatedClient(base_url=base_url, token=api_key)
        body = models.Registration.from_dict(registration(sequence=3, external_ref="forum-user-42"))

        created = create_registration.sync_detailed(client=api, body=body, idempotency_key="signup-42")
        again = create_registration.sync_detailed(client=api, body=body, idempotency_key="signup-42")
        token = issue_token.sync(client=api, body=models.TokenRequest(pseudonym=created.parsed.pseudonym,
                                                                      ttl_seconds=600))
        missing = get_account.sync(client=api, pseudonym="psn_00000000000000000000000000")

    assert created.status_code == 201 and isinstance(created.parsed, models.Account)
    assert created.parsed.status.value == "active" and created.parsed.external_ref == "forum-user-42"
    assert created.headers["Location"] == f"/v1/accounts/{created.parsed.pseudonym}"
    assert again.parsed.pseudonym == created.parsed.pseudonym  # the Idempotency-Key parameter reached the server
    assert isinstance(token, models.IssuedToken) and token.token_type.value == "Bearer"
    assert token.token.count(".") == 2 and token.jti
    # Errors parse into the operation's problem models, with the documented code enum.
    assert type(missing).__name__ == "GetAccountResponse404" and missing.code.value == "not_found"
