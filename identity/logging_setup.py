"""Log format and levels. Request bodies, headers and query strings are never logged."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_identity", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._identity = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger("identity").setLevel(level)
