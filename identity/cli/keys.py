"""`identity-admin keys status|rotate|verify|retire|revoke`: thin over `services.key_rotation`.

Long jobs commit batch by batch (each its own transaction, through `command_boundary.unit_of_work`), print
progress on stderr (a live line on a terminal, a plain line per batch otherwise), and can be
killed at any moment: the same command resumes. stdout carries only the outcome, so `--json`
prints exactly one object.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from identity.cli.command_boundary import Outcome, current_time, operator_command, runtime, unit_of_work
from identity.cli.confirmation import confirm, destroying
from identity.clock import rfc3339
from identity.engine_behaviour import read_only_transactions
from identity.errors import OperatorError
from identity.extensions import db
from identity.models.keyring import KEY_KINDS
from identity.services import key_rotation, maintenance_lock
from identity.services.operators import CLI_OPERATOR

group = AppGroup("keys", help="Key versions: status, rotation, verification, retirement, revocation.")


@contextmanager
def read_transaction() -> Iterator[Session]:
    """A read-only unit of work: on SQLite it begins deferred, so writers never wait for it."""
    db.session.commit()
    with read_only_transactions():
        session = db.session()
        try:
            yield session
        finally:
            session.rollback()


class ProgressPrinter:
    """Records done, rate and time left: one rewritten line on a terminal, a plain line per batch otherwise."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.printed = False

    def __call__(self, p: key_rotation.Progress) -> None:
        percent = 100.0 * p.processed / p.total if p.total else 100.0
        left = f"{p.seconds_left:,.0f}s left" if p.seconds_left is not None else "time left unknown"
        line = (f"rotate {p.kind} v{p.version} {p.phase} batch {p.batch}: {p.processed:,}/{p.total:,} records "
                f"({min(percent, 100.0):.1f}%), {p.rate:,.0f} records/s, {left}")
        if self.tty:
            filled = int(min(percent, 100.0) // 5)
            self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (20 - filled)}] {line}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.printed = True

    def close(self) -> None:
        if self.tty and self.printed:
            self.stream.write("\n")
            self.stream.flush()


@group.command("status")
@operator_command
def status() -> Outcome:
    """Every key version of every kind, its state, and how many records use it."""
    session = db.session()
    keys = key_rotation.key_status(session)
    lines = []
    for key in keys:
        line = f"{key.kind:<8} v{key.version:<4} {key.state:<8} {key.records:>12,} records"
        if key.kind == "signing":
            line = f"{key.kind:<8} v{key.version:<4} {key.state:<8} {'(tokens are not stored)':>20}"
            if key.state != "retired" and key.verifies_until is not None:
                window = "open" if current_time() < key.verifies_until else "closed"
                line += f"  JWKS window {window} until {rfc3339(key.verifies_until)}"
        if key.retired_at is not None:
            line += f"  retired {rfc3339(key.retired_at)}"
        lines.append(line)
    for kind in key_rotation.RECORD_KINDS:
        job = key_rotation.running_job(session, kind)
        if job is not None:
            lines.append(f"unfinished rotation of {kind} to v{job.target_version}: {job.processed:,}/"
                         f"{job.total or 0:,} records; run `identity-admin keys rotate {kind}` to resume it")
    holder = maintenance_lock.current_holder(session, maintenance_lock.KEYS_LOCK)
    if holder is not None:
        lines.append(f"key operation lock held by {holder.owner} (heartbeat {rfc3339(holder.heartbeat_at)})")
    return Outcome("\n".join(lines) or "no keys; run `identity-admin db upgrade`",
                   {"keys": [key.as_dict() for key in keys]})


@group.command("rotate")
@click.argument("kind", type=click.Choice(["data", "index", "signing", "root"]))
@click.option("--batch-size", default=key_rotation.DEFAULT_BATCH_SIZE, show_default=True,
              help="records per transaction (data, index)")
@click.option("--pause", default=0.0, show_default=True, type=click.FloatRange(0, 60),
              help="seconds to sleep between batches, to leave the database headroom for traffic")
@click.option("--stage", is_flag=True,
              help="root only: add the new root key to the file and stop; copy the file to every host, "
                   "then run again without --stage to re-encrypt the keyring")
@operator_command
def rotate(kind: str, batch_size: int, pause: float, stage: bool) -> Outcome:
    """New primary KIND key; data and index then move every record onto it (resumable)."""
    db.session.commit()  # nothing of this command's own is open across the batches
    cache, owner = runtime().keyring_cache, maintenance_lock.new_owner()
    if stage and kind != "root":
        raise OperatorError("--stage applies to root rotation only")
    if kind == "signing":
        signing = key_rotation.rotate_signing(unit_of_work, cache, owner=owner, actor=CLI_OPERATOR, now=current_time())
        text = f"signing key v{signing.version} is primary: new tokens are signed with it."
        if signing.previous is not None and signing.previous_verifies_until is not None:
            text += (f"\nsigning key v{signing.previous} stays in the JWKS and verifies its tokens until "
                     f"{rfc3339(signing.previous_verifies_until)}; retire it after that.")
        return Outcome(text, {"kind": "signing", "version": signing.version, "previous": signing.previous,
                              "previous_verifies_until": rfc3339(signing.previous_verifies_until)})
    if kind == "root":
        path = runtime().settings.root_key_file
        root = key_rotation.rotate_root(unit_of_work, cache, path, owner=owner, actor=CLI_OPERATOR, stage_only=stage)
        data = {"kind": "root", "root_key_id": root.root_key_id, "file": str(root.file), "lines": root.lines,
                "reencrypted": root.reencrypted, "staged_only": root.staged_only, "resumed": root.resumed}
        if root.staged_only:
            return Outcome(f"new root key {root.root_key_id} is line 1 of {root.file} ({root.lines} lines); "
                           "the keyring is not re-encrypted yet.\nCopy this file to every host, then run "
                           "`identity-admin keys rotate root` again to re-encrypt the keyring under it.", data)
        return Outcome(
            f"new root key {root.root_key_id} is line 1 of {root.file} ({root.lines} lines); "
            f"{root.reencrypted} stored key(s) re-encrypted under it.\n"
            f"Old and new root keys are both accepted until every process has restarted. Once every process "
            f"that reads this file (servers, workers, CLI) has restarted after {rfc3339(current_time())}, remove every "
            "line but the first.", data)
    printer = ProgressPrinter()
    try:
        report = key_rotation.rotate_records(unit_of_work, cache, kind, owner=owner, actor=CLI_OPERATOR,
                                             clock=runtime().clock.now, batch_size=batch_size, pause=pause,
                                             progress=printer)
    except KeyboardInterrupt:
        raise OperatorError(f"interrupted; run `identity-admin keys rotate {kind}` again to resume") from None
    finally:
        printer.close()
    verb = "resumed and finished" if report.resumed else "finished"
    text = (f"{kind} key v{report.version} is primary; rotation {verb}: {report.processed:,} of "
            f"{report.total:,} records on v{report.version} ({report.moved_this_run:,} in this run, "
            f"{report.seconds:.1f}s)")
    if report.took_over_from:
        text += f"\ntook the key operation lock over from {report.took_over_from}, which had stopped"
    if report.failures:
        shown = report.failures[:50]
        text += (f"\n{len(report.failures)} record(s) could not be moved and stay on their old key "
                 f"(run `identity-admin keys verify`):\n" + "\n".join(f"  {pid}" for pid in shown))
        return Outcome(text, report.as_dict(), exit_code=1)
    return Outcome(text, report.as_dict())


@group.command("verify")
@click.option("--batch-size", default=key_rotation.DEFAULT_BATCH_SIZE, show_default=True)
@operator_command
def verify(batch_size: int) -> Outcome:
    """Decrypt every record and check every index and wrapped key; exits 1 on any failure."""
    db.session.commit()
    cache = runtime().keyring_cache
    report = key_rotation.verify_records(read_transaction, cache, batch_size=batch_size)
    with unit_of_work() as session:
        key_rotation.record_verification(session, cache, report, actor=CLI_OPERATOR)
    summary = (f"{report.records:,} records: {report.decrypted:,} decrypted, {report.indexes:,} indexes match; "
               f"{report.keys} keys open under the root key file"
               + (f" ({report.keys_under_old_root} still under an older root key)"
                  if report.keys_under_old_root else ""))
    if report.ok:
        return Outcome(f"keys verified: {summary}", report.as_dict())
    lines = [f"  {pid}: {'; '.join(problems)}" for pid, problems in list(report.failures.items())[:50]]
    more = len(report.failures) - len(lines)
    text = (f"keys verify FAILED: {len(report.failures):,} record(s) with problems. {summary}\n" + "\n".join(lines)
            + (f"\n  … and {more:,} more (see --json)" if more > 0 else ""))
    return Outcome(text, report.as_dict(), exit_code=1)


@group.command("retire")
@click.argument("kind", type=click.Choice(list(KEY_KINDS)))
@click.argument("version", type=click.IntRange(min=1))
@destroying
@operator_command
def retire(kind: str, version: int, yes: bool) -> Outcome:
    """Destroy a key version's material for good; refuses while anything may still need it."""
    confirm(f"Destroy {kind} key v{version} for good? Backups taken under it will no longer open.", yes)
    db.session.commit()
    cache, owner = runtime().keyring_cache, maintenance_lock.new_owner()
    with maintenance_lock.held(unit_of_work, maintenance_lock.KEYS_LOCK, owner):
        with unit_of_work() as session:
            key, newly = key_rotation.retire_key(session, cache, kind, version, actor=CLI_OPERATOR, now=current_time())
            retired_at = key.retired_at
    data = {"kind": kind, "version": version, "state": "retired", "retired_at": rfc3339(retired_at)}
    if not newly:
        return Outcome(f"{kind} key v{version} was already retired", data)
    return Outcome(f"retired {kind} key v{version}: its material is deleted for good", data)


@group.command("revoke")
@click.argument("kind", type=click.Choice(["signing"]))
@click.argument("version", type=click.IntRange(min=1))
@click.option("--compromised", is_flag=True, help="required: the key leaked, so its tokens must stop working now")
@destroying
@operator_command
def revoke(kind: str, version: int, compromised: bool, yes: bool) -> Outcome:
    """For a leaked signing key: drop it from the JWKS and make every token it signed inactive, at once."""
    if not compromised:
        raise OperatorError("`keys revoke` is for a leaked key and needs --compromised; to end a key's use in the "
                            "normal way, `keys rotate signing` and `keys retire` it after its JWKS window")
    # No key-operation lock: an emergency must not wait for an hours-long data rotation, and this
    # touches one signing row only (its own row lock orders it against a signing rotation).
    with unit_of_work() as session:
        key_rotation.check_signing_revocation(session, version)
    confirm(f"Revoke signing key v{version} now? Every token it signed stops working at once.", yes)
    with unit_of_work() as session:
        revoked = key_rotation.revoke_signing_key(session, runtime().keyring_cache, version, actor=CLI_OPERATOR,
                                                  now=current_time())
    data = {"kind": kind, "version": version, "kid": revoked.kid, "state": "retired",
            "revoked_at": rfc3339(revoked.revoked_at), "already_retired": not revoked.newly}
    if not revoked.newly:
        return Outcome(f"signing key v{version} was already retired: it verifies no token", data)
    return Outcome(
        f"revoked signing key v{version} (kid {revoked.kid}): it is out of the JWKS and every token it signed is "
        "inactive at introspection, in every server process from its next request.\nPosting services that verify "
        "offline drop it when they next fetch the JWKS (within its Cache-Control max-age); tell them to refetch "
        "now.", data)
