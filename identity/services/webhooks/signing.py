"""The Standard Webhooks signature (https://www.standardwebhooks.com/): what a stock library verifies.

`webhook-signature` is `v1,` and the base64 HMAC-SHA256, under the secret's bytes, of
`{webhook-id}.{webhook-timestamp}.{body}`. The secret is shown to the platform as `whsec_` and
the base64 of those bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret # nosec B105
SECRET_BYTES = 32  # the specification asks for 24 to 64


def new_secret() -> bytes:
    return os.urandom(SECRET_BYTES)


def shown(secret: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(secret).decode("ascii")


def signature(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, f"{message_id}.{timestamp}.".encode("ascii") + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def headers(secret: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body)}
