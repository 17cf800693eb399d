"""`identity-admin check`: the configuration as the server reads it, checked as the server checks
it at start-up (the same code: `Settings.from_env` and the root key rules of identity.process_state).

It builds no app, so it opens no database and, unlike a first start, generates no key: it says
that one would be generated instead. Secrets and passwords in URLs are never printed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from identity.cli.command_boundary import fail
from identity.crypto.root_keys import load_root_keys
from identity.errors import KeyringError
from identity.metrics import service_version
from identity.process_state import root_key_would_be_generated
from identity.settings import Settings, SettingsError

REDACTED = "***"
# A setting whose name says it holds a secret is never printed, whatever it holds.
SECRET_NAME_PARTS = ("secret", "password", "token", "credential")


def redact(name: str, value: Any) -> Any:
    if isinstance(value, str) and value and any(part in name for part in SECRET_NAME_PARTS):
        return REDACTED
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


def redact_url(url: str) -> str:
    """The URL with its password (database, Redis, authority) replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return REDACTED  # unparseable: it might hold anything
    if not password:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


def settings_as_read(settings: Settings) -> dict[str, Any]:
    """Every setting by name, as the server holds it, redacted. New settings appear here by themselves."""
    return {f.name: redact(f.name, _plain(getattr(settings, f.name))) for f in fields(settings)}


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def check(as_json: bool) -> None:
    """Print every setting as the server would read it and check them as start-up does; exit 1
    with a one-line reason on the first bad one. Needs no database; changes nothing."""
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        fail("configuration_invalid", str(error))
    shown = settings_as_read(settings)
    try:
        generated = root_key_would_be_generated(settings)
        keys = None if generated else load_root_keys(settings.root_key_file)
    except (SettingsError, KeyringError) as error:
        if not as_json:
            click.echo(_settings_text(shown))
        fail("configuration_invalid" if isinstance(error, SettingsError) else "keys_unavailable", str(error))
    if keys is None:
        root = {"file": str(settings.root_key_file), "keys": 0, "would_generate": True}
        root_text = (f"{settings.root_key_file} does not exist: the server would generate a development root key "
                     "there at its first start (allowed only with the embedded SQLite database)")
    else:
        root = {"file": str(settings.root_key_file), "keys": len(keys.keys), "would_generate": False}
        root_text = f"{settings.root_key_file}: {len(keys.keys)} key(s), the first encrypts"
    if as_json:
        click.echo(json.dumps({"ok": True, "version": service_version(), "settings": shown, "root_keys": root},
                              ensure_ascii=False, default=str))
        return
    click.echo(f"{_settings_text(shown)}\nroot keys: {root_text}\n"
               f"configuration OK (identity-service {service_version()})")


def _settings_text(shown: dict[str, Any]) -> str:
    width = max(map(len, shown))
    return "\n".join(f"{name:<{width}}  {json.dumps(value, ensure_ascii=False, default=str)}"
                     for name, value in shown.items())
