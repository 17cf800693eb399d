"""gunicorn's logger for this service (`logger_class` in config/gunicorn.conf.py).

Its access line names the route template (`/v1/accounts/{pseudonym}`), never the path, which
holds pseudonyms and other ids (the app leaves the route's rule in the WSGI environ, see
identity.metrics), and carries the request id. With IDENTITY_LOG_FORMAT=json, gunicorn's own
lines and its access lines are JSON objects with a timestamp, like the app's.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from identity.log_paths import REQUEST_ID_ENVIRON_KEY, ROUTE_ENVIRON_KEY, UNKNOWN_SEGMENT, route_template
from identity.logging_setup import JsonLineFormatter


def log_format_from_env() -> str:
    """The server's own reading of IDENTITY_LOG_FORMAT; a bad value is left to the start-up check
    (config/gunicorn.conf.py `on_starting`), which stops gunicorn with one line naming it."""
    from identity.settings import Settings, SettingsError

    try:
        return Settings.from_env().log_format
    except SettingsError:
        return "text"


class IdentityLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.json = log_format_from_env() == "json"
        if self.json:
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    if getattr(handler, "_gunicorn", False):
                        handler.setFormatter(JsonLineFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        route = environ.get(ROUTE_ENVIRON_KEY)  # no route: the app never saw it (or failed): no path either
        environ = {**environ, "PATH_INFO": route_template(route) if route else f"/{UNKNOWN_SEGMENT}"}
        if not self.json:
            super().access(resp, req, environ, request_time)
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        method, path = environ.get("REQUEST_METHOD", "-"), environ["PATH_INFO"]
        fields = {
            "request_id": environ.get(REQUEST_ID_ENVIRON_KEY),
            "method": method,
            "path": path,
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "remote_addr": environ.get("REMOTE_ADDR", "-"),
        }
        try:
            self.access_log.info("%s %s %s", method, path, status, extra=fields)
        except Exception:  # a log line must never break a request
            logging.getLogger("gunicorn.error").exception("access log line failed")
