"""`python -m identity.healthcheck`: the container's liveness probe, asking `/healthz` on the address
gunicorn listens on (IDENTITY_BIND), so moving the port does not make a healthy container "unhealthy".

Exits 0 when the server answers 200, 1 otherwise. Uses only the standard library: it runs every
30 s in the image and must start fast.
"""

from __future__ import annotations

import os
import sys
import urllib.request

DEFAULT_BIND = "127.0.0.1:8000"  # config/gunicorn.conf.py's default
# A server bound to every address is asked on loopback.
_ANY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]"}  # noqa: S104 - names addresses, binds none # nosec B104


def probe_url(bind: str) -> str:
    """IDENTITY_BIND (`HOST:PORT`, `[IPV6]:PORT`, `:PORT` or a bare `PORT`) -> the /healthz URL to ask."""
    bind = bind.strip()
    if bind.startswith(("unix:", "fd://")):
        raise ValueError(f"IDENTITY_BIND={bind} is not a TCP address the health check can ask")
    host, _, port = bind.rpartition(":") if ":" in bind else ("", "", bind)
    host = _ANY_ADDRESS.get(host, host)
    if not port.isdigit():
        raise ValueError(f"IDENTITY_BIND={bind} has no port")
    return f"http://{host}:{int(port)}/healthz"


def main() -> int:
    try:
        url = probe_url(os.environ.get("IDENTITY_BIND") or DEFAULT_BIND)
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - an http URL built above # nosec B310
            return 0 if response.status == 200 else 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
