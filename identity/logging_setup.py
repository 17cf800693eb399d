"""Log format and levels. Request bodies, headers and query strings are never logged.

`IDENTITY_LOG_FORMAT=text` (default) writes lines for people; `json` writes one JSON object a
line for a log shipper (python-json-logger), each with `timestamp` (RFC 3339, UTC), `level`,
`logger`, `message` and, on the lines of a request, its `request_id`. gunicorn's own and access
lines get the same format from identity.gunicorn_logging.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter

# The request being served by this thread (set by identity.api.request_ids), for every log line.
current_request_id: ContextVar[str | None] = ContextVar("identity_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record, so any logger's line of a request carries it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} request_id={request_id}" if request_id else line


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: timestamp, level, logger, message, then any extra fields."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        # The timestamp first, in UTC with milliseconds: what shippers and people scan for.
        log_record["timestamp"] = (datetime.fromtimestamp(record.created, tz=UTC)
                                   .isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        super().add_fields(log_record, record, message_dict)
        if log_record.get("request_id") is None:
            log_record.pop("request_id", None)


def formatter(log_format: str) -> logging.Formatter:
    return JsonLineFormatter() if log_format == "json" else TextFormatter()


def configure_logging(level: str, log_format: str = "text") -> None:
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_identity", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._identity = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))  # an app built again with other settings takes its format
    logging.getLogger("identity").setLevel(level)
