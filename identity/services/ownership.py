"""A platform reaches only its own rows: another platform's pseudonym or sanction id is answered
exactly as one that does not exist (404), and a malformed one without a query. The same holds
for group ids."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.errors import NotFound
from identity.ids import looks_like
from identity.models import Account, Group, Sanction

T = TypeVar("T", Account, Sanction, Group)


def _platform_row(session: Session, model: type[T], id_column: Any, prefix: str, value: str, platform_id: str,
                  missing: str, for_update: bool) -> T:
    """The platform's row with this id, or NotFound (a malformed id is never queried)."""
    found = None
    if looks_like(prefix, value):
        query = select(model).where(id_column == value, model.platform_id == platform_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        found = session.scalar(query)
    if found is None:
        raise NotFound(missing)
    return found


def require_platform_account(session: Session, platform_id: str, pseudonym: str, *,
                             for_update: bool = False) -> Account:
    return _platform_row(session, Account, Account.pseudonym, "psn_", pseudonym, platform_id, "No such account.",
                         for_update)


def require_platform_sanction(session: Session, platform_id: str, sanction_id: str, *,
                              for_update: bool = False) -> Sanction:
    """Only the filing platform reaches a sanction, even once it is global."""
    return _platform_row(session, Sanction, Sanction.id, "snc_", sanction_id, platform_id, "No such sanction.",
                         for_update)


def require_platform_group(session: Session, platform_id: str, group_id: str, *, for_update: bool = False) -> Group:
    return _platform_row(session, Group, Group.id, "grp_", group_id, platform_id, "No such group.", for_update)
