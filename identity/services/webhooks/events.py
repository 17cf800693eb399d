"""The event types a platform may subscribe to, and the body every event has.

`data` holds only ids, the receiving platform's pseudonyms, codes and times: never a name, a
document number, a phone number, nor free text a person may have written (a lift reason, an
evidence reference).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from identity.clock import rfc3339

EVENT_TYPES = (
    "verification_session.completed", "verification_session.failed",
    "account.closed", "account.restricted", "account.unrestricted",
    "sanction.created", "sanction.lifted", "sanction.expired",
    "group.closed",
)

# Only these (and lists of ids) can appear in `data`: anything richer is a mistake to refuse.
_PLAIN = (str, int, bool, type(None))


def event_body(event_id: str, event_type: str, data: dict[str, Any], created_at: datetime) -> str:
    """`{"id", "type", "created_at", "data"}` as compact JSON: the exact text signed and posted."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type}")
    plain: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, datetime):
            value = rfc3339(value)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = list(value)
        elif not isinstance(value, _PLAIN):
            raise TypeError(f"webhook event data {name} must be an id, a code, a number or a time")
        plain[name] = value
    return json.dumps({"id": event_id, "type": event_type, "created_at": rfc3339(created_at), "data": plain},
                      separators=(",", ":"), ensure_ascii=True)
