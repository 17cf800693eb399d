import threading
import time

from identity import create_app
from identity.ratelimit import SweepingMemoryStorage
from tests.conftest import make_settings


def test_requests_over_the_limit_answer_429_with_retry_after(tmp_path, database_url, root_key_file):
    app = create_app(make_settings(tmp_path / "instance", database_url, root_key_file, rate_limit="2 per minute"))
    from tests.conftest import Platforms

    platforms = Platforms(app)
    auth = platforms.headers(platforms.create("forum"))
    client = app.test_client()
    statuses = [client.get("/v1/accounts/psn_00000000000000000000000000", headers=auth) for _ in range(3)]
    assert [r.status_code for r in statuses] == [404, 404, 429]
    assert statuses[2].get_json()["code"] == "rate_limited"
    assert int(statuses[2].headers["Retry-After"]) >= 1


def test_in_process_storage_expires_counters_without_starting_threads():
    storage = SweepingMemoryStorage("process-memory://")
    before = threading.active_count()
    for _ in range(200):
        storage.incr("key:a", expiry=0.05)
    assert threading.active_count() <= before
    assert storage.get("key:a") == 200
    time.sleep(0.06)
    assert storage.get("key:a") == 0


def test_in_process_storage_sweeps_expired_keys_so_memory_stays_bounded(monkeypatch):
    storage = SweepingMemoryStorage("process-memory://")
    for n in range(50):
        storage.incr(f"key:{n}", expiry=0.01)
    time.sleep(0.02)
    monkeypatch.setattr(storage, "_next_sweep", 0.0)
    storage.incr("key:other", expiry=60)
    assert set(storage.storage) == {"key:other"}
