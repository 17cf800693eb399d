"""Rate limits: per verified API key, failed authentication per client address, an exact
Retry-After, start-up refusal of a bad limit, and per-process counting while Redis is away."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import types
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from identity import create_app
from identity.ratelimit import ProcessWindows, parse_limits
from identity.settings import Settings, SettingsError
from tests.conftest import Platforms, make_settings
from tests.support.serving import running_app

REDIS_URL = os.environ.get("IDENTITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ACCOUNTS = "/v1/accounts?external_ref=x"


@pytest.fixture
def limited(tmp_path: Path, database_url: str, root_key_file: Path) -> Iterator[Any]:
    """Builds an app with the given limits (and storage) on the test's database."""
    apps: list[Any] = []

    def build(**overrides: Any) -> Flask:
        settings = make_settings(tmp_path / f"i{len(apps)}", database_url, root_key_file, **overrides)
        context = running_app(settings)
        apps.append(context)
        return context.__enter__()

    yield build
    for context in reversed(apps):
        context.__exit__(None, None, None)


def address() -> str:
    """A client address of the test's own: counters in a shared Redis never meet another test's."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def get(app: Flask, key: str | None, remote: str) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return app.test_client().get(ACCOUNTS, headers=headers, environ_base={"REMOTE_ADDR": remote})


def forge(key: str) -> str:
    """The same key id with a wrong secret."""
    return key[: key.rindex("_") + 1] + "b" * 48


def test_junk_secrets_with_a_victims_key_id_do_not_throttle_the_victim(limited):
    app = limited(rate_limit="5 per minute", auth_failure_limit="1000 per minute")
    helper = Platforms(app)
    victim = helper.key(helper.create())
    attacker = address()
    for _ in range(30):
        assert get(app, forge(victim), attacker).status_code == 401
    # The victim's first request on this process still gets its argon2 verification, and all
    # of its own limit.
    victim_address = address()
    assert [get(app, victim, victim_address).status_code for _ in range(6)] == [200] * 5 + [429]


def test_failed_authentication_is_limited_per_client_address_and_then_costs_no_argon2(limited, monkeypatch):
    app = limited(auth_failure_limit="3 per minute")
    helper = Platforms(app)
    key, neighbour = helper.key(helper.create()), helper.key(helper.create())
    guesser = address()
    assert get(app, neighbour, guesser).status_code == 200  # a platform behind the same NAT
    hasher = app.extensions["identity"].hasher
    calls: list[int] = []
    original = hasher.verify
    monkeypatch.setattr(hasher, "verify", lambda *a: calls.append(1) or original(*a))
    answers = [get(app, forge(key), guesser) for _ in range(6)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429, 429]
    assert answers[-1].get_json()["code"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert len(calls) == 3
    assert get(app, None, guesser).status_code == 429  # no key at all is a failure too
    assert get(app, key, guesser).status_code == 429  # would need argon2 on this process
    assert get(app, neighbour, guesser).status_code == 200  # verified before: costs no argon2
    assert len(calls) == 3
    other = address()
    assert get(app, forge(key), other).status_code == 401
    assert get(app, key, other).status_code == 200


class FakeTime:
    """Stands in for the `time` module of the in-process counters: a clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.25

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


def test_retry_after_is_the_exact_number_of_seconds_until_the_window_resets(limited, monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr("limits.storage.memory.time", types.SimpleNamespace(time=clock.time))
    monkeypatch.setattr("identity.ratelimit.time", clock)
    app = limited(rate_limit="3 per minute")
    helper = Platforms(app)
    key, remote = helper.key(helper.create()), address()
    assert [get(app, key, remote).status_code for _ in range(3)] == [200] * 3
    clock.now += 0.5
    first = get(app, key, remote)
    assert first.status_code == 429 and first.headers["Retry-After"] == "60"  # 59.5 s left, rounded up
    clock.now += 45.25
    assert get(app, key, remote).headers["Retry-After"] == "15"  # 14.25 s left
    clock.now += 14.0
    assert get(app, key, remote).headers["Retry-After"] == "1"  # 0.25 s left
    clock.now += 0.25
    assert get(app, key, remote).status_code == 200


@pytest.mark.parametrize("variable, value", [
    ("IDENTITY_RATE_LIMIT", "lots"),
    ("IDENTITY_RATE_LIMIT", "5 per fortnight"),
    ("IDENTITY_RATE_LIMIT", "0 per minute"),
    ("IDENTITY_AUTH_FAILURE_LIMIT", "many"),
    ("IDENTITY_TRUSTED_PROXIES", "yes"),
])
def test_a_limit_that_does_not_parse_stops_start_up_naming_the_variable(tmp_path, variable, value):
    with pytest.raises(SettingsError, match=variable):
        create_app(Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path), variable: value}))


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_counted(limited):
    app = limited(auth_failure_limit="2 per minute", trusted_proxies=1)
    proxy = address()

    def through_proxy(client: str) -> int:
        return app.test_client().get(ACCOUNTS, environ_base={"REMOTE_ADDR": proxy},
                                     headers={"X-Forwarded-For": client}).status_code

    one, two = address(), address()
    assert [through_proxy(one) for _ in range(3)] == [401, 401, 429]
    assert through_proxy(two) == 401  # another client behind the same proxy keeps its own budget


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(limited):
    app = limited(auth_failure_limit="2 per minute")
    remote = address()
    codes = [app.test_client().get(ACCOUNTS, environ_base={"REMOTE_ADDR": remote},
                                   headers={"X-Forwarded-For": address()}).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_routes_without_an_api_key_are_limited_per_address(limited):
    app = limited(rate_limit="2 per minute")
    remote = address()
    codes = [app.test_client().get("/.well-known/jwks.json", environ_base={"REMOTE_ADDR": remote}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    assert app.test_client().get("/healthz", environ_base={"REMOTE_ADDR": remote}).status_code == 200


# --- Redis ------------------------------------------------------------------------------------


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not redis_reachable(), reason=f"no Redis at {REDIS_URL}")


def closed_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def metric(app: Flask, name: str) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    values = [line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")
              or line.startswith(name + "{")]
    return float(values[0])


@needs_redis
def test_limits_are_shared_through_redis_with_an_exact_retry_after(limited):
    one = limited(rate_limit="3 per minute", redis_url=REDIS_URL)
    two = limited(rate_limit="3 per minute", redis_url=REDIS_URL)  # another worker on the same Redis
    helper = Platforms(one)
    key = helper.key(helper.create())
    remote = address()
    assert [get(app, key, remote).status_code for app in (one, two, one)] == [200] * 3
    limited_answer = get(two, key, remote)
    assert limited_answer.status_code == 429
    assert int(limited_answer.headers["Retry-After"]) in (59, 60)


def test_while_redis_is_unreachable_requests_are_answered_and_limited_per_process(limited, caplog):
    caplog.set_level(logging.INFO)
    app = limited(rate_limit="3 per minute", auth_failure_limit="2 per minute",
                  redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    helper = Platforms(app)
    key, remote = helper.key(helper.create()), address()
    assert [get(app, key, remote).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [get(app, forge(key), remote).status_code for _ in range(3)] == [401, 401, 429]
    warnings = [r for r in caplog.records if r.name == "identity.ratelimit" and "unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert "127.0.0.1" not in warnings[0].getMessage()  # a Redis URL may carry a password
    assert metric(app, "identity_rate_limit_storage_degraded") == 1.0


class Forwarder:
    """A TCP relay to the real Redis that the test can take down and bring back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = closed_port()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        if self._listener is not None:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._listener.close()
            self._listener = None
        for connection in self._connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()


@contextmanager
def forwarder() -> Iterator[Forwarder]:
    from urllib.parse import urlparse

    parsed = urlparse(REDIS_URL)
    relay = Forwarder((parsed.hostname or "127.0.0.1", parsed.port or 6379))
    relay.up()
    try:
        yield relay
    finally:
        relay.down()


@needs_redis
def test_counting_goes_back_to_redis_when_it_returns(limited, caplog, monkeypatch):
    monkeypatch.setattr("identity.ratelimit.PROBE_EVERY_SECONDS", 0.0)
    caplog.set_level(logging.INFO)
    with forwarder() as relay:
        url = f"redis://127.0.0.1:{relay.port}/0"
        app = limited(rate_limit="4 per minute", redis_url=url)
        shared_view = limited(rate_limit="4 per minute", redis_url=REDIS_URL)  # reads Redis directly
        helper = Platforms(app)
        key, remote = helper.key(helper.create()), address()
        assert get(app, key, remote).status_code == 200  # counted in Redis: 1
        relay.down()
        assert get(app, key, remote).status_code == 200  # counted in the process
        assert metric(app, "identity_rate_limit_storage_degraded") == 1.0
        relay.up()
        time.sleep(0.05)
        assert get(app, key, remote).status_code == 200  # back in Redis: 2
        assert metric(app, "identity_rate_limit_storage_degraded") == 0.0
        assert [get(shared_view, key, remote).status_code for _ in range(3)] == [200, 200, 429]
    messages = [r.getMessage() for r in caplog.records if r.name == "identity.ratelimit"]
    assert len(messages) == 2 and "unreachable" in messages[0] and "again" in messages[1]


# --- the in-process storage -------------------------------------------------------------------


def test_in_process_counters_expire_without_starting_threads():
    windows, item = ProcessWindows(), parse_limits("3 per second")[0]
    before = threading.active_count()
    assert [windows.hit(item, "key:a") for _ in range(4)] == [True, True, True, False]
    assert threading.active_count() <= before
    assert not windows.test(item, "key:a") and windows.test(item, "key:b")
    time.sleep(1.01)
    assert windows.test(item, "key:a") and windows.hit(item, "key:a")


def test_in_process_counters_count_like_limits_fixed_window(monkeypatch):
    # The same answers, hit by hit, as `limits`' own fixed window over its memory storage,
    # across a window's end, with the same reset time for Retry-After.
    clock = FakeTime()
    monkeypatch.setattr("limits.storage.memory.time", types.SimpleNamespace(time=clock.time))
    monkeypatch.setattr("identity.ratelimit.time", clock)
    theirs, ours = FixedWindowRateLimiter(MemoryStorage()), ProcessWindows()
    item = parse_limits("5 per minute")[0]
    for step in (0, 1, 1, 10, 5, 30, 13, 0.5, 0.25, 60, 1, 1):
        clock.now += step
        assert ours.hit(item, "key:a") == theirs.hit(item, "key:a")
        assert ours.test(item, "key:a") == theirs.test(item, "key:a")
        assert ours.get_window_stats(item, "key:a") == theirs.get_window_stats(item, "key:a")


def test_in_process_counters_sweep_expired_windows_so_memory_stays_bounded(monkeypatch):
    windows, short, long = ProcessWindows(), parse_limits("1 per second")[0], parse_limits("1 per hour")[0]
    for n in range(50):
        windows.hit(short, f"key:{n}")
    time.sleep(1.01)
    monkeypatch.setattr(windows, "_next_sweep", 0.0)
    windows.hit(long, "key:other")
    assert list(windows._windows) == [(long, "key:other")]
