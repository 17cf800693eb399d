"""marshmallow fields for the contract's conventions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields

from identity.clock import rfc3339


class Rfc3339(fields.AwareDateTime):
    """Loads an RFC 3339 time with a zone; dumps `2026-11-28T10:00:00Z`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)
        self.metadata = {"example": "2026-11-28T10:00:00Z", **self.metadata}

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return rfc3339(value)


class StrictBoolean(fields.Boolean):
    """Only JSON true and false: "yes" or 1 is not consent."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


class StrictString(fields.String):
    """A JSON string, refusing numbers and other types instead of coercing them."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError("Must be a string.")
        return super()._deserialize(value, attr, data, **kwargs)
