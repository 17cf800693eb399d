"""A posting service installs realname-identity-client alone: it imports nothing of the service,
needs neither Flask nor PyJWT, and works on the stdlib's urllib when urllib3 is absent."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[3] / "clients" / "python"
BLOCKED = ("identity", "flask", "sqlalchemy", "marshmallow", "flask_smorest", "argon2", "werkzeug", "psycopg",
           "redis", "jwt", "urllib3")


def test_the_client_imports_and_falls_back_to_urllib_without_the_servers_dependencies_or_urllib3():
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in BLOCKED)
    code = (f"import sys; {blocked}; import realname_identity_client as c; from realname_identity_client import _http; "
            "print(type(_http.default_transport()).__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "StdlibTransport"


def test_its_distribution_declares_ranges_under_its_own_name_and_no_flask():
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "realname-identity-client"
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    assert requirements and not any("==" in r for r in requirements)
    assert not any(r.lower().startswith("flask") for r in requirements)


def test_the_service_no_longer_ships_a_client_under_the_identity_name():
    # `identity` is taken on PyPI; the client now lives only in realname_identity_client.
    with warnings.catch_warnings(), pytest.raises(ModuleNotFoundError):
        __import__("identity.client")
