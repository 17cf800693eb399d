"""Typed settings read from IDENTITY_* environment variables.

The defaults run on one machine with nothing else installed: SQLite and a generated
development root key in the instance folder. A bad value stops the process at start-up
with a message naming the variable, never later in a request.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from limits import parse_many

from identity.rates import parse_rate
from identity.verifiers import VERIFIER_KINDS, http_worst_case_seconds

LOG_FORMATS = ("text", "json")
# The Cybersecurity Law (art. 21) asks for network logs kept at least six months: no setting may
# purge the audit log sooner than this.
MIN_AUDIT_RETENTION_DAYS = 183


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class Argon2Parameters:
    """argon2id cost for API-key hashes (RFC 9106's second recommended option by default)."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


# Cheap parameters for the test suite only: hashing is exercised, not its cost.
TEST_ARGON2 = Argon2Parameters(time_cost=1, memory_cost_kib=1024, parallelism=1)


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    root_key_file: Path
    root_key_file_is_default: bool
    issuer: str = "http://localhost:8000"
    verifier: str = "offline"
    verifier_url: str | None = None
    verifier_timeout_seconds: float = 5.0
    verifier_retries: int = 2
    verifier_max_concurrent: int = 8
    verifier_failure_threshold: int = 5
    verifier_cooldown_seconds: float = 30.0
    # gunicorn's worker timeout: config/gunicorn.conf.py reads the same IDENTITY_TIMEOUT.
    worker_timeout_seconds: int = 30
    redis_url: str | None = None
    rate_limit: str = "6000 per minute"
    auth_failure_limit: str = "30 per minute"
    trusted_proxies: int = 0
    # Registrations that could not be verified, per platform: the default of the policy's
    # `mismatch_limit` (see identity.services.mismatches).
    mismatch_limit: str = "100 per hour"
    argon2: Argon2Parameters = field(default_factory=Argon2Parameters)
    idempotency_ttl_seconds: int = 24 * 3600
    jwks_max_age_seconds: int = 300
    log_level: str = "INFO"
    # `json`: one JSON object a line, for a log shipper (see identity.logging_setup).
    log_format: str = "text"
    audit_retention_days: int = 400
    # Webhook endpoints may resolve to private, loopback or link-local addresses (and use plain
    # http to loopback): for tests and private deployments only (docs/webhooks.md).
    webhook_allow_private: bool = False
    testing: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get("IDENTITY_INSTANCE_PATH", "instance")).resolve()
        database_url = env.get("IDENTITY_DATABASE_URL") or embedded_database_url(instance)
        root_key_file = env.get("IDENTITY_ROOT_KEY_FILE")
        verifier = env.get("IDENTITY_VERIFIER", "offline")
        settings = cls(
            instance_path=instance,
            database_url=database_url,
            root_key_file=Path(root_key_file) if root_key_file else instance / "root.keys",
            root_key_file_is_default=not root_key_file,
            issuer=env.get("IDENTITY_ISSUER", "http://localhost:8000"),
            verifier=verifier,
            verifier_url=env.get("IDENTITY_VERIFIER_URL") or None,
            verifier_timeout_seconds=_number(env, "IDENTITY_VERIFIER_TIMEOUT", 5.0),
            verifier_retries=_whole(env, "IDENTITY_VERIFIER_RETRIES", 2),
            verifier_max_concurrent=_whole(env, "IDENTITY_VERIFIER_MAX_CONCURRENT", 8),
            verifier_failure_threshold=_whole(env, "IDENTITY_VERIFIER_FAILURE_THRESHOLD", 5),
            verifier_cooldown_seconds=_number(env, "IDENTITY_VERIFIER_COOLDOWN", 30.0),
            worker_timeout_seconds=_whole(env, "IDENTITY_TIMEOUT", 30),
            redis_url=env.get("IDENTITY_REDIS_URL") or None,
            rate_limit=env.get("IDENTITY_RATE_LIMIT", "6000 per minute"),
            auth_failure_limit=env.get("IDENTITY_AUTH_FAILURE_LIMIT", "30 per minute"),
            trusted_proxies=_whole(env, "IDENTITY_TRUSTED_PROXIES", 0),
            mismatch_limit=env.get("IDENTITY_MISMATCH_LIMIT", "100 per hour"),
            log_level=env.get("IDENTITY_LOG_LEVEL", "INFO").upper(),
            log_format=env.get("IDENTITY_LOG_FORMAT", "text").strip().lower() or "text",
            audit_retention_days=_whole(env, "IDENTITY_AUDIT_RETENTION_DAYS", 400),
            webhook_allow_private=_flag(env, "IDENTITY_WEBHOOK_ALLOW_PRIVATE"),
        )
        settings = replace(settings, **overrides)
        settings.validate()
        return settings

    @property
    def database_is_embedded_default(self) -> bool:
        """The SQLite file in the instance folder: the only database a root key may be generated for,
        since key and data then live and get lost together."""
        return self.database_url == embedded_database_url(self.instance_path)

    def validate(self) -> None:
        if self.verifier not in VERIFIER_KINDS:
            raise SettingsError(f"IDENTITY_VERIFIER must be one of {', '.join(VERIFIER_KINDS)}")
        if self.verifier == "http" and not self.verifier_url:
            raise SettingsError("IDENTITY_VERIFIER=http needs IDENTITY_VERIFIER_URL")
        if self.verifier_url and not _authority_url_allowed(self.verifier_url):
            raise SettingsError("IDENTITY_VERIFIER_URL must be an https URL, or http to a loopback address "
                                "(127.0.0.1, ::1, localhost)")
        if urlparse(self.issuer).scheme not in ("http", "https"):
            raise SettingsError("IDENTITY_ISSUER must be an http(s) URL")
        if self.verifier_timeout_seconds <= 0:
            raise SettingsError("IDENTITY_VERIFIER_TIMEOUT must be a positive number of seconds")
        for name, value in (("IDENTITY_RATE_LIMIT", self.rate_limit),
                            ("IDENTITY_AUTH_FAILURE_LIMIT", self.auth_failure_limit)):
            try:
                parsed = parse_many(value)
            except ValueError:
                parsed = []
            if not parsed or any(item.amount < 1 for item in parsed):
                raise SettingsError(f"{name} must be a rate above zero such as '6000 per minute' or "
                                    f"'100/second; 6000/minute'")
        try:
            parse_rate(self.mismatch_limit)
        except ValueError as error:
            raise SettingsError(f"IDENTITY_MISMATCH_LIMIT: {error}") from None
        if self.verifier_max_concurrent < 1:
            raise SettingsError("IDENTITY_VERIFIER_MAX_CONCURRENT must be at least 1")
        if self.verifier_failure_threshold < 1:
            raise SettingsError("IDENTITY_VERIFIER_FAILURE_THRESHOLD must be at least 1")
        if self.verifier_cooldown_seconds <= 0:
            raise SettingsError("IDENTITY_VERIFIER_COOLDOWN must be a positive number of seconds")
        if self.worker_timeout_seconds <= 0:
            raise SettingsError("IDENTITY_TIMEOUT must be a positive number of seconds")
        if self.verifier == "http":
            # A call that outlives the worker gets the worker killed mid-request: refuse the pair.
            worst = http_worst_case_seconds(self.verifier_timeout_seconds, self.verifier_retries)
            if worst >= self.worker_timeout_seconds:
                raise SettingsError(
                    f"IDENTITY_VERIFIER_TIMEOUT and IDENTITY_VERIFIER_RETRIES let one verification take up to "
                    f"{worst:g} s, not below the worker timeout IDENTITY_TIMEOUT ({self.worker_timeout_seconds:g} s): "
                    f"lower the first two or raise the last")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("IDENTITY_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"IDENTITY_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        if self.audit_retention_days < MIN_AUDIT_RETENTION_DAYS:
            raise SettingsError(f"IDENTITY_AUDIT_RETENTION_DAYS must be at least {MIN_AUDIT_RETENTION_DAYS} "
                                "(the law asks for six months of logs)")


def embedded_database_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'identity.sqlite3'}"


def _authority_url_allowed(url: str) -> bool:
    """https anywhere; plain http only to this machine, where nobody on the path can read it."""
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError for a malformed host or port
    except ValueError:
        return False
    if parsed.scheme == "https":
        return bool(parsed.hostname)
    if parsed.scheme != "http" or not parsed.hostname:
        return False
    if parsed.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parsed.hostname).is_loopback
    except ValueError:
        return False


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip()
    if raw in ("", "0"):
        return False
    if raw == "1":
        return True
    raise SettingsError(f"{name} must be 0 or 1")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number")
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value

