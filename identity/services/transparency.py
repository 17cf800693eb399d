"""The transparency report: how many disclosures were requested, approved, denied and
revealed, and how many sanctions were filed, in a period. Counts only: no identity, no
pseudonym, no platform. Each step is counted in the period it happened in (a request made in
March and approved in April counts as requested in March and approved in April)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from identity.models import DisclosureRequest, Platform, Sanction

# Sandbox platforms hold test data only: their sanctions (and any disclosure about them) are
# not the service's record and would distort a published report.
_REAL_PLATFORMS = select(Platform.id).where(Platform.sandbox.is_(False))


def _count(session: Session, column: InstrumentedAttribute[Any], start: datetime, end: datetime) -> int:
    return session.scalar(select(func.count()).where(
        column >= start, column < end, DisclosureRequest.platform_id.in_(_REAL_PLATFORMS))) or 0


def _by(session: Session, group: InstrumentedAttribute[Any], moment: InstrumentedAttribute[Any],
        platform: InstrumentedAttribute[str], start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(select(group, func.count()).where(moment >= start, moment < end,
                                                             platform.in_(_REAL_PLATFORMS)).group_by(group)).all()
    return dict(sorted((str(key), int(n)) for key, n in rows))


def report(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Counts for [start, end), sandbox platforms left out."""
    d, s = DisclosureRequest, Sanction
    return {
        "disclosures": {
            "requested": _count(session, d.requested_at, start, end),
            "approved": _count(session, d.approved_at, start, end),
            "denied": _count(session, d.denied_at, start, end),
            "revealed": _count(session, d.revealed_at, start, end),
            "by_authority": _by(session, d.authority, d.requested_at, d.platform_id, start, end),
            "by_legal_basis": _by(session, d.legal_basis, d.requested_at, d.platform_id, start, end),
        },
        "sanctions": {
            "by_kind": _by(session, s.kind, s.created_at, s.platform_id, start, end),
            "by_reason": _by(session, s.reason_code, s.created_at, s.platform_id, start, end),
        },
    }
