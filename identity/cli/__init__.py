"""`identity-admin`, also reachable as `flask --app identity admin`: thin over the services."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo

from identity.cli import (
    api_keys,
    audit,
    database,
    disclosures,
    holds,
    keys,
    platforms,
    purge,
    sanctions,
    transparency,
    webhooks,
)
from identity.cli.check import check

admin = AppGroup("admin", help="Operate the identity service: schema, platforms, API keys, keys, audit.")
for group in (database.group, platforms.group, api_keys.group, keys.group, sanctions.group, audit.group):
    admin.add_command(group)
for group in (disclosures.group, holds.group, transparency.group, webhooks.group):
    admin.add_command(group)
admin.add_command(purge.purge)
admin.add_command(check)  # builds no app: it must run where the server would not start


def init_cli(app: Flask) -> None:
    if "admin" not in app.cli.commands:
        app.cli.add_command(admin)


click.version_option(package_name="identity-service", prog_name="identity-admin")(admin)


def main() -> None:
    """Console entry point. The app is built from IDENTITY_* settings only when a command runs,
    so `--help` and `--version` need no database and make no key."""
    admin.main(prog_name="identity-admin", obj=ScriptInfo(create_app=_build_app, set_debug_flag=False))


def _build_app() -> Flask:
    from identity import create_app
    from identity.cli.command_boundary import fail, unexpected
    from identity.errors import KeyringError
    from identity.settings import SettingsError

    try:
        return create_app()
    except SettingsError as error:
        fail("configuration_invalid", str(error))
    except KeyringError as error:
        fail("keys_unavailable", str(error))
    except Exception as error:  # noqa: BLE001 - any other start-up failure is one line too, never a traceback
        fail("start_up_failed", f"the service could not be built: {unexpected(error)}")
