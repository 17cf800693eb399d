"""The webhook rules that need no database: the SSRF address test, the retry schedule, the body,
and the signature as a stock Standard Webhooks library checks it."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from identity.services.webhooks import addresses, delivery, signing
from identity.services.webhooks.events import event_body


@pytest.mark.parametrize("address, public", [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False), ("127.0.0.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("240.0.0.1", False), ("::1", False), ("fe80::1", False), ("fc00::1", False), ("::", False),
    ("::ffff:10.0.0.1", False), ("64:ff9b::a00:1", False), ("2002:0a00:0001::", False), ("ff02::1", False),
])
def test_only_public_addresses_pass(address, public):
    assert addresses.is_public(ipaddress.ip_address(address)) is public


def test_plain_http_needs_the_allowance_and_a_loopback_host(monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: [ipaddress.ip_address(
        "127.0.0.1" if host == "127.0.0.1" else "10.1.1.1")])
    with pytest.raises(addresses.UrlRefused):
        addresses.check("http://127.0.0.1:8080/h", allow_private=False)
    target = addresses.check("http://127.0.0.1:8080/h?x=1", allow_private=True)
    assert (target.address, target.port, target.path, target.host_header) == ("127.0.0.1", 8080, "/h?x=1",
                                                                             "127.0.0.1:8080")
    with pytest.raises(addresses.UrlRefused, match="loopback"):
        addresses.check("http://intranet.example/h", allow_private=True)


def test_retries_double_from_five_seconds_to_six_hours_with_jitter():
    assert delivery.retry_delay(1, rng=lambda: 1.0) == timedelta(seconds=5)
    assert delivery.retry_delay(1, rng=lambda: 0.0) == timedelta(seconds=2.5)
    assert delivery.retry_delay(4, rng=lambda: 1.0) == timedelta(seconds=40)
    assert delivery.retry_delay(30, rng=lambda: 1.0) == timedelta(hours=6)
    elapsed, attempts = timedelta(0), 0
    while elapsed < delivery.RETRY_WINDOW:
        attempts += 1
        elapsed += delivery.retry_delay(attempts, rng=lambda: 0.75)
    assert 15 <= attempts <= 30  # a few dozen tries over the 3 days, not thousands


def test_an_event_body_holds_plain_values_only():
    moment = datetime(2026, 12, 1, 10, 0, 0, 123, tzinfo=UTC)
    body = json.loads(event_body("evt_1", "account.closed", {"pseudonym": "psn_1", "closed_at": moment}, moment))
    assert body == {"id": "evt_1", "type": "account.closed", "created_at": "2026-12-01T10:00:00Z",
                    "data": {"pseudonym": "psn_1", "closed_at": "2026-12-01T10:00:00Z"}}
    with pytest.raises(TypeError):
        event_body("evt_1", "account.closed", {"person": {"name": "x"}}, moment)
    with pytest.raises(ValueError):
        event_body("evt_1", "account.renamed", {}, moment)


def test_a_stock_library_verifies_the_signature_and_refuses_a_changed_body():
    secret = signing.new_secret()
    body = b'{"id":"evt_1","type":"account.closed","created_at":"2026-12-01T10:00:00Z","data":{}}'
    now = int(datetime.now(UTC).timestamp())
    headers = signing.headers(secret, "evt_1", now, body)
    assert Webhook(signing.shown(secret)).verify(body, headers)["id"] == "evt_1"
    with pytest.raises(Exception):  # noqa: B017 - the library's own verification error
        Webhook(signing.shown(secret)).verify(body.replace(b"closed", b"opened"), headers)
