"""Cross-border transfers: an overseas platform receives personal information only while a
security assessment an operator recorded for it is valid (PIPL art. 38 and 40)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.errors import CrossBorderAssessmentRequired, OperatorError
from identity.models import SecurityAssessment
from identity.services import audit, platforms
from identity.services.operators import actor_of, check_text


def valid_assessment(session: Session, platform_id: str, now: datetime) -> SecurityAssessment | None:
    return session.scalar(select(SecurityAssessment)
                          .where(SecurityAssessment.platform_id == platform_id, SecurityAssessment.valid_until > now)
                          .order_by(SecurityAssessment.valid_until.desc()).limit(1))


def require_transfer_allowed(session: Session, platform_id: str, policy: platforms.PlatformPolicy,
                             now: datetime) -> None:
    """Refuse personal data to an overseas platform without a valid assessment."""
    if policy.jurisdiction == "overseas" and valid_assessment(session, platform_id, now) is None:
        raise CrossBorderAssessmentRequired(
            "This platform is overseas and has no valid security assessment; personal information is not "
            "transferred to it until an operator records one.")


def assess(session: Session, keyring: Keyring, operator: str, platform_id: str, reference: str,
           valid_until: date, now: datetime) -> SecurityAssessment:
    """Record an assessment; it lapses at the start of `valid_until` (UTC)."""
    reference = check_text("--reference", reference)
    platform = platforms.get_platform(session, platform_id)
    until = datetime.combine(valid_until, time(0), tzinfo=UTC)
    if until <= now:
        raise OperatorError("--valid-until must be a date in the future")
    row = SecurityAssessment(platform_id=platform.id, reference=reference, valid_until=until,
                             recorded_by=operator, recorded_at=now)
    session.add(row)
    session.flush()
    audit.record(session, keyring, actor=actor_of(operator), action="platform.assessed", subject=platform.id,
                 details={"valid_until": valid_until.isoformat(),
                          "jurisdiction": platforms.policy_of(platform).jurisdiction}, now=now)
    return row
