"""The one exception type this package raises for bad input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DocumentError(ValueError):
    """Raised with `errors`: dict[str, list[str]] mapping dotted field paths
    ('id_document.number', 'id_document.type', 'id_document.issuing_country',
    'real_name', 'phone') to human messages.

    Messages and ``str(exc)`` never contain the submitted value (no name,
    number or phone is echoed): every message is a constant that describes the
    rule (see :mod:`identity.documents.messages`).  Exceptions raised while
    checking input are never chained onto this one, so a traceback does not
    carry the value either.
    """

    errors: dict[str, list[str]]

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        copied = {field: list(messages) for field, messages in errors.items() if messages}
        if not copied:
            raise ValueError("DocumentError needs at least one field with a message")
        self.errors = copied
        super().__init__(self._summary())

    def _summary(self) -> str:
        return "; ".join(
            f"{field}: {message}" for field, messages in self.errors.items() for message in messages
        )

    def __str__(self) -> str:
        return self._summary()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.errors!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors,))


def merge_errors(*errors: DocumentError | None) -> DocumentError | None:
    """Combine several errors (field by field, keeping order); None if there are none."""
    combined: dict[str, list[str]] = {}
    for error in errors:
        if error is None:
            continue
        for field, messages in error.errors.items():
            bucket = combined.setdefault(field, [])
            bucket.extend(message for message in messages if message not in bucket)
    return DocumentError(combined) if combined else None
