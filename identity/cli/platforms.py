"""`identity-admin platforms create|update|list|show|disable|assess`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command, operator_option, runtime
from identity.cli.confirmation import confirm, destroying
from identity.clock import rfc3339
from identity.errors import OperatorError
from identity.extensions import db
from identity.models import Platform
from identity.services import cross_border, platforms
from identity.services.operators import check_operator

group = AppGroup("platforms", help="Onboard and manage platforms.")


def _platform_json(platform: Platform) -> dict[str, object]:
    return {"id": platform.id, "name": platform.name, "status": platform.status, "policy": platform.policy,
            "sandbox": platform.sandbox, "created_at": rfc3339(platform.created_at)}


@group.command("create")
@click.argument("name")
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False, path_type=Path),
              help='JSON policy: {"min_age": 18, "max_accounts_per_person": 1, "phone": "optional"}')
@click.option("--sandbox", is_flag=True,
              help="For integration tests: accepts only the published test identities; its tokens say sandbox.")
@operator_command
def create(name: str, policy_file: Path | None, sandbox: bool) -> Outcome:
    """Onboard a platform; prints its id."""
    data = None if policy_file is None else _read_policy(policy_file)
    platform = platforms.create_platform(db.session(), keyring(), name, platforms.parse_policy(data), sandbox=sandbox)
    kind = "sandbox platform" if platform.sandbox else "platform"
    return Outcome(f"created {kind} {platform.id} ({platform.name})", _platform_json(platform))


@group.command("update")
@click.argument("platform_id")
@click.option("--policy", "policy_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help='JSON with the policy keys to change, e.g. {"mismatch_limit": "300 per hour"}; '
                   "keys it leaves out keep their value.")
@operator_command
def update(platform_id: str, policy_file: Path) -> Outcome:
    """Change a platform's policy; it applies to the platform's next request."""
    platform = platforms.update_policy(db.session(), keyring(), platform_id, _read_policy(policy_file))
    return Outcome(f"updated the policy of platform {platform.id}: {json.dumps(platform.policy, ensure_ascii=False)}",
                   _platform_json(platform))


def _read_policy(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise OperatorError(f"cannot read policy file: {error.strerror}") from None
    except ValueError:
        raise OperatorError("the policy file is not valid JSON") from None


@group.command("list")
@operator_command
def list_() -> Outcome:
    """Every platform, oldest first."""
    rows = platforms.list_platforms(db.session())
    text = "\n".join(f"{p.id}  {p.status:<8}  {p.name}{'  (sandbox)' if p.sandbox else ''}" for p in rows) \
        or "no platforms"
    return Outcome(text, {"platforms": [_platform_json(p) for p in rows]})


@group.command("show")
@click.argument("platform_id")
@operator_command
def show(platform_id: str) -> Outcome:
    """A platform, the policy that applies to it (defaults filled in) and how many keys it holds."""
    platform = platforms.get_platform(db.session(), platform_id)
    policy = platforms.effective_policy(platform, runtime().settings.mismatch_limit)
    keys = platforms.list_api_keys(db.session(), platform.id)
    active = sum(1 for key in keys if key.revoked_at is None)
    data = {**_platform_json(platform), "policy": policy,
            "disabled_at": rfc3339(platform.disabled_at),
            "api_keys": {"active": active, "revoked": len(keys) - active}}
    lines = [f"{platform.id}  {platform.name}", f"status: {platform.status}",
             f"created: {data['created_at']}"]
    if data["disabled_at"]:
        lines.append(f"disabled: {data['disabled_at']}")
    lines.append(f"api keys: {active} active, {len(keys) - active} revoked")
    lines.append("policy:")
    lines.extend(f"  {name}: {json.dumps(value, ensure_ascii=False)}" for name, value in policy.items())
    return Outcome("\n".join(lines), data)


@group.command("disable")
@click.argument("platform_id")
@destroying
@operator_command
def disable(platform_id: str, yes: bool) -> Outcome:
    """Disable a platform: its keys stop working at once."""
    platform = platforms.get_platform(db.session(), platform_id)
    if platform.status != "disabled":
        confirm(f"Disable platform {platform.id} ({platform.name})? Its API keys stop working at once.", yes)
    platform = platforms.disable_platform(db.session(), keyring(), platform_id)
    return Outcome(f"disabled platform {platform.id}", _platform_json(platform))


@group.command("assess")
@click.argument("platform_id")
@click.option("--reference", required=True, help="The security assessment's reference.")
@click.option("--valid-until", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The date (UTC) the assessment lapses on.")
@operator_option
@operator_command
def assess(platform_id: str, reference: str, valid_until: datetime, operator: str | None) -> Outcome:
    """Record a cross-border security assessment: an overseas platform receives personal data until it lapses."""
    row = cross_border.assess(db.session(), keyring(), check_operator(operator) if operator else "cli",
                              platform_id, reference, valid_until.date(), current_time())
    data = {"platform": row.platform_id, "reference": row.reference, "valid_until": rfc3339(row.valid_until)}
    return Outcome(f"recorded security assessment {row.reference} for {row.platform_id}, valid until "
                   f"{rfc3339(row.valid_until)}", data)
