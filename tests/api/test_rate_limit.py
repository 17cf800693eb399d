import threading
import time

from identity.ratelimit import SweepingMemoryStorage


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
