"""`identity-admin webhooks deliver` as real processes: killed mid-delivery and restarted, nothing
is lost; stopped with SIGTERM, it exits cleanly; on PostgreSQL two at once deliver each event once.

The receiver is a real HTTP server on 127.0.0.1 verifying every delivery with `standardwebhooks`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from identity.settings import Settings
from tests.conftest import PG_URL, make_settings
from tests.support.people import register
from tests.support.rotation import REPO, admin_env
from tests.support.tokens import file_sanction
from tests.support.webhooks import WEBHOOK_SCOPES, add_endpoint, receiving

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path, database_url, root_key_file) -> Settings:
    return make_settings(tmp_path / "instance", database_url, root_key_file, webhook_allow_private=True)


def spawn_worker(settings: Settings, *args: str) -> subprocess.Popen[str]:
    env = {**admin_env(settings), "IDENTITY_WEBHOOK_ALLOW_PRIVATE": "1"}
    return subprocess.Popen([sys.executable, "-c", "from identity.cli import main; main()", "webhooks", "deliver",
                             "--json", *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def store_events(app, platform_id: str, count: int) -> list[str]:
    """Events as a use case stores them (`record_event`), many at once without the use cases' cost."""
    from identity.clock import utc_now
    from identity.extensions import db
    from identity.services.webhooks.outbox import record_event

    with app.app_context():
        ids = [record_event(db.session(), platform_id, "account.closed",
                            {"pseudonym": f"psn_{n:026d}", "closed_at": utc_now()}, utc_now()) for n in range(count)]
        db.session.commit()
    assert all(ids)
    return [i for i in ids if i]


def wait_until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_loses_nothing_when_restarted(app, client, platforms, settings):
    platform = platforms.create("forum")
    auth = platforms.headers(platform, WEBHOOK_SCOPES)
    arrived, release = threading.Event(), threading.Event()

    def answer(_path: str, n: int) -> int:
        if n == 0:  # the first delivery hangs until its worker has been killed
            arrived.set()
            release.wait(30)
        return 200

    with receiving() as receiver:
        receiver.answer = answer
        add_endpoint(client, auth, receiver, "/hooks", ["account.closed"])
        events = store_events(app, platform, 5)
        first = spawn_worker(settings, "--batch-size", "1", "--concurrency", "1", "--lease-seconds", "2")
        try:
            assert arrived.wait(30), first.stderr.read() if first.poll() is not None else "no delivery"
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            release.set()
            if first.poll() is None:
                first.kill()
        # Released, the receiver takes the dead worker's post: that event has arrived, and no worker
        # knows it. Everything the receiver takes from here on is the restarted worker's.
        wait_until(lambda: len(receiver.payloads()) == 1)
        in_flight = receiver.payloads()[0]["id"]
        second = spawn_worker(settings, "--idle-seconds", "0.1")
        try:
            # Every event from the restarted worker, the one in flight too once its 2 s lease has run
            # out: waiting only for every id to have arrived stops the worker before it posts that one.
            wait_until(lambda: set(events) <= {p["id"] for p in receiver.payloads()[1:]})
        finally:
            second.send_signal(signal.SIGTERM)
            out, err = second.communicate(timeout=30)
        assert second.returncode == 0, err  # SIGTERM stops it cleanly
        assert json.loads(out.strip().splitlines()[-1])["delivered"] == len(events)
        assert receiver.unverified == []
        # At least once: the delivery in flight when its worker died arrives twice, every other once.
        assert Counter(p["id"] for p in receiver.payloads()) == Counter(events) + Counter([in_flight])
    with app.app_context():
        from sqlalchemy import func, select

        from identity.extensions import db
        from identity.models import WebhookDelivery
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                 .where(WebhookDelivery.delivered_at.is_(None))) == 0


@pytest.mark.skipif(not PG_URL, reason="several workers at once run on PostgreSQL (set IDENTITY_TEST_DATABASE_URL)")
def test_two_workers_at_once_deliver_each_event_exactly_once(app, client, platforms, settings, clock):
    platform = platforms.create("forum")
    auth = platforms.headers(platform, WEBHOOK_SCOPES)
    with receiving() as receiver:
        receiver.answer = lambda _path, _n: (time.sleep(0.01), 200)[1]  # long enough for both to take a share
        add_endpoint(client, auth, receiver, "/hooks", ["account.closed", "sanction.expired"])
        events = store_events(app, platform, 400)
        # Filed two minutes ago by the app's clock, for one minute: expired by the workers' wall clock.
        clock.set(datetime.now(UTC) - timedelta(minutes=2))
        expired = [file_sanction(app, register(client, auth, sequence=n), "posting_ban",
                                 expires_at=datetime.now(UTC) - timedelta(minutes=1)) for n in range(1, 21)]
        workers = [spawn_worker(settings, "--once", "--batch-size", "20") for _ in range(2)]
        outputs = [w.communicate(timeout=120) for w in workers]
        assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
        totals = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
        counts = Counter(p["id"] for p in receiver.payloads())
        announced = Counter(p["data"]["sanction"] for p in receiver.payloads() if p["type"] == "sanction.expired")
    assert set(counts) >= set(events) and set(counts.values()) == {1}
    delivered = [t["delivered"] for t in totals]
    assert sum(delivered) == len(events) + len(expired) and min(delivered) > 0, delivered  # both took a share
    # The expiry sweep too: split between the workers, each expiry announced once.
    assert set(announced) == set(expired) and set(announced.values()) == {1}
    assert sum(t["expiries_announced"] for t in totals) == len(expired)


def test_sigterm_mid_delivery_finishes_that_delivery_and_exits_cleanly(app, client, platforms, settings):
    platform = platforms.create("forum")
    auth = platforms.headers(platform, WEBHOOK_SCOPES)
    arrived, release = threading.Event(), threading.Event()

    def answer(_path: str, n: int) -> int:
        if n == 0:
            arrived.set()
            release.wait(30)
        return 200

    with receiving() as receiver:
        receiver.answer = answer
        add_endpoint(client, auth, receiver, "/hooks", ["account.closed"])
        events = store_events(app, platform, 3)
        worker = spawn_worker(settings, "--batch-size", "1", "--concurrency", "1")
        try:
            assert arrived.wait(30)
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert worker.poll() is None  # still finishing the delivery in flight
        finally:
            release.set()
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["delivered"] == 1
    with app.app_context():
        from sqlalchemy import select

        from identity.extensions import db
        from identity.models import WebhookDelivery
        rows = db.session.execute(select(WebhookDelivery.event_id, WebhookDelivery.delivered_at,
                                         WebhookDelivery.claim)).all()
    assert sum(r.delivered_at is not None for r in rows) == 1 and all(r.claim is None for r in rows)
    assert {r.event_id for r in rows} == set(events)
