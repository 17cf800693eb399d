"""The audit chain's rule without a database: each event's MAC covers it and the one before, so an
edit, a gap or a re-link shows; a checkpoint signs the head and only ours verifies."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from identity.crypto.keyring import Keyring
from identity.services import audit


@dataclass(frozen=True)
class Event:
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    subject: str | None
    details: str
    key_version: int
    prev_mac: bytes
    mac: bytes


def chain(keyring: Keyring, length: int) -> list[Event]:
    """Events as `audit.record` writes them."""
    version, key = keyring.primary("audit")
    events, prev = [], audit.GENESIS_MAC
    for seq in range(1, length + 1):
        at = datetime(2026, 12, 1, 12, seq, tzinfo=UTC)
        body = audit._canonical(seq, at, "platform:plt_unit", "account.registered", f"psn_{seq}", "{}", version)
        mac = audit._mac(key, prev, body)
        events.append(Event(seq, at, "platform:plt_unit", "account.registered", f"psn_{seq}", "{}", version, prev,
                            mac))
        prev = mac
    return events


def problems(keyring: Keyring, events: list[Event]) -> list[str]:
    found, prev = [], audit.GENESIS_MAC
    for expected, event in enumerate(events, start=1):
        found += audit._event_problems(keyring, event, expected, prev)
        prev = event.mac
    return found


def test_an_untouched_chain_verifies(keyring):
    assert problems(keyring, chain(keyring, 4)) == []


def test_an_edited_event_a_gap_and_an_unknown_key_each_show(keyring):
    events = chain(keyring, 4)
    edited = [*events[:2], replace(events[2], subject="psn_other"), events[3]]
    assert problems(keyring, edited) == ["event 3 was altered (its MAC does not match)"]
    gap = [*events[:2], events[3]]
    assert problems(keyring, gap) == ["event 3 is missing (next is 4)", "event 4 does not link to the event before it"]
    unknown = [*events[:3], replace(events[3], key_version=9)]
    assert problems(keyring, unknown) == ["event 4 names audit key version 9, not in the keyring"]


class FakeSession:
    """Holds the chain head, as `session.get(AuditChainHead, 1)` would answer."""

    def __init__(self, head: object) -> None:
        self.head = head

    def get(self, _model: object, _id: int) -> object:
        return self.head


def test_a_checkpoint_loads_back_and_an_altered_one_is_refused(keyring):
    last = chain(keyring, 3)[-1]
    taken = audit.take_checkpoint(FakeSession(type("Head", (), {"seq": last.seq, "mac": last.mac})()),  # type: ignore[arg-type]
                                  keyring, datetime(2026, 12, 1, 13, 0, 0, 500, tzinfo=UTC))
    printed = taken.as_json()
    loaded = audit.load_checkpoint(keyring, printed)
    assert (loaded.seq, loaded.mac, loaded.key_version) == (3, last.mac, 2)
    with pytest.raises(audit.BadCheckpoint):
        audit.load_checkpoint(keyring, {**printed, "seq": 2})
    other = Keyring()
    other.add("audit", 2, b"\x00" * 32, primary=True)
    with pytest.raises(audit.BadCheckpoint):
        audit.load_checkpoint(other, printed)
