"""`identity-admin db upgrade|current`."""

from __future__ import annotations

import flask_migrate
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, keyring, operator_command, runtime
from identity.extensions import db
from identity.schema_state import MIGRATIONS_DIR, database_revision, head_revision
from identity.services import audit, epochs
from identity.services.keyring import ensure_initial_keys
from identity.services.operators import CLI_OPERATOR

group = AppGroup("db", help="The database schema.")


@group.command("upgrade")
@operator_command(needs_current_schema=False)
def upgrade() -> Outcome:
    """Create or migrate the schema, then make sure every key kind has a primary key."""
    before = database_revision()
    flask_migrate.upgrade(directory=str(MIGRATIONS_DIR))
    after = database_revision()
    epochs.ensure_epoch_rows(db.session())
    audit.ensure_chain_head(db.session())
    created = ensure_initial_keys(db.session(), runtime().root_keys)
    db.session.flush()
    audit.record(db.session(), keyring(), actor=CLI_OPERATOR, action="schema.upgraded",
                 details={"from": before, "to": after, "keys_created": created})
    text = f"schema at {after}" + (f" (was {before})" if before != after else " (already current)")
    if created:
        text += f"; created primary keys: {', '.join(created)}"
    return Outcome(text, {"revision": after, "previous_revision": before, "keys_created": created})


@group.command("current")
@operator_command(needs_current_schema=False)
def current() -> Outcome:
    """The database's schema revision and whether it is the one this version needs (read-only)."""
    revision, head = database_revision(), head_revision()
    data = {"revision": revision, "head": head, "is_head": revision == head}
    if revision == head:
        return Outcome(f"schema at {revision} (head: current)", data)
    return Outcome(f"schema at {revision or 'none'}; this version needs {head}: run `identity-admin db upgrade`",
                   data)
