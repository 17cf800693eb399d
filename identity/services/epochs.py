"""Cross-process cache invalidation through change counters in the database.

Every process caches what is costly to look up (verified API keys, the keyring, token
states). A change that must be seen at once everywhere bumps its topic's counter in the
same transaction as the change; each request reads the counters first (one small query)
and drops any cache built under an older counter. Reading the counters *before* the data
is what makes this safe: data read after the counters is at least as new as they are.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from identity.models import EPOCH_TOPICS, CacheEpoch

Epochs = dict[str, int]


def read_epochs(session: Session) -> Epochs:
    # Every authenticated request runs this first: plain SQL on the session's connection skips
    # the ORM's statement pipeline, which costs more than the query itself.
    rows = session.connection().exec_driver_sql("SELECT topic, counter FROM cache_epochs").all()
    return {topic: counter for topic, counter in rows}


def bump(session: Session, topic: str) -> None:
    if topic not in EPOCH_TOPICS:
        raise ValueError(f"unknown epoch topic {topic}")
    session.execute(update(CacheEpoch).where(CacheEpoch.topic == topic).values(counter=CacheEpoch.counter + 1))


def ensure_epoch_rows(session: Session) -> None:
    existing = set(session.scalars(select(CacheEpoch.topic)))
    for topic in EPOCH_TOPICS:
        if topic not in existing:
            session.add(CacheEpoch(topic=topic, counter=0))
    session.flush()
