"""A posting service can import identity.client with only PyJWT, urllib3 and cryptography."""

from __future__ import annotations

import subprocess
import sys

SERVER_ONLY = ("flask", "sqlalchemy", "marshmallow", "flask_smorest", "argon2", "werkzeug", "psycopg", "redis")


def test_identity_client_imports_without_the_servers_dependencies():
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in SERVER_ONLY)
    code = f"import sys; {blocked}; from identity.client import TokenVerifier, IntrospectionClient; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
