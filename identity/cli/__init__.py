"""`identity-admin`, also reachable as `flask --app identity admin`: thin over the services."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

from identity.cli import api_keys, audit, database, disclosures, holds, keys, platforms, purge, sanctions, transparency

admin = AppGroup("admin", help="Operate the identity service: schema, platforms, API keys, keys, audit.")
for group in (database.group, platforms.group, api_keys.group, keys.group, sanctions.group, audit.group):
    admin.add_command(group)
for group in (disclosures.group, holds.group, transparency.group):
    admin.add_command(group)
admin.add_command(purge.purge)




def init_cli(app: Flask) -> None:
    if "admin" not in app.cli.commands:
        app.cli.add_command(admin)


def main() -> None:
    """Console entry point: builds the app from IDENTITY_* settings and runs the admin group."""
    import sys

    from identity.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        from identity import create_app

        app = create_app(settings)
    except (SettingsError, Exception) as error:  # start-up failures are one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    with app.app_context():
        admin.main(prog_name="identity-admin")
