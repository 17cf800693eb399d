"""Typed settings read from IDENTITY_* environment variables.

The defaults run on one machine with nothing else installed: SQLite and a generated
development root key in the instance folder. A bad value stops the process at start-up
with a message naming the variable, never later in a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

VERIFIER_KINDS = ("offline", "http")


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
    redis_url: str | None = None
    rate_limit: str = "6000 per minute"
    argon2: Argon2Parameters = field(default_factory=Argon2Parameters)
    idempotency_ttl_seconds: int = 24 * 3600
    jwks_max_age_seconds: int = 300
    log_level: str = "INFO"
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
            verifier_retries=int(_number(env, "IDENTITY_VERIFIER_RETRIES", 2)),
            redis_url=env.get("IDENTITY_REDIS_URL") or None,
            rate_limit=env.get("IDENTITY_RATE_LIMIT", "6000 per minute"),
            log_level=env.get("IDENTITY_LOG_LEVEL", "INFO").upper(),
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
        if self.verifier_url and urlparse(self.verifier_url).scheme not in ("http", "https"):
            raise SettingsError("IDENTITY_VERIFIER_URL must be an http(s) URL")
        if urlparse(self.issuer).scheme not in ("http", "https"):
            raise SettingsError("IDENTITY_ISSUER must be an http(s) URL")
        if self.verifier_timeout_seconds <= 0:
            raise SettingsError("IDENTITY_VERIFIER_TIMEOUT must be a positive number of seconds")
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError("IDENTITY_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")


def embedded_database_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'identity.sqlite3'}"


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value
