"""Key rotation throughput and memory, beside the bare cost of the same cryptography.

    python -m bench.rotation                                   # SQLite, 100k and 200k people
    python -m bench.rotation --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python -m bench.rotation --records 1000000

For each size: a fresh database is migrated and seeded fast (vault ciphertexts computed in
memory, bulk-inserted), then `identity-admin keys rotate data` and `keys rotate index` run
as real child processes, exactly as an operator runs them. Reported per job: records/s as
the job measured it (its batches, not process start-up), the same cryptography over the same
rows in memory in this process (records/s), their ratio (how much the database costs on top),
and the rotating process's peak RSS (from wait4). Finally `keys verify` must pass.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from identity.crypto.root_keys import generate_root_key_file  # noqa: E402
from identity.settings import Settings  # noqa: E402

IN_MEMORY_SAMPLE = 50_000


def _env(database_url: str, root_keys: Path, instance: Path) -> dict[str, str]:
    return {**os.environ, "IDENTITY_DATABASE_URL": database_url, "IDENTITY_ROOT_KEY_FILE": str(root_keys),
            "IDENTITY_INSTANCE_PATH": str(instance), "IDENTITY_LOG_LEVEL": "WARNING"}


def _admin(env: dict[str, str], *args: str) -> tuple[dict[str, Any], float]:
    """Run identity-admin in a child process; returns its JSON and its peak RSS in MiB."""
    process = subprocess.Popen([sys.executable, "-c", "from identity.cli import main; main()", *args, "--json"],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"identity-admin {' '.join(args)} failed: {out.decode(errors='replace')}")
    return json.loads(out), usage.ru_maxrss / 1024


def fresh_database(base_url: str | None, workdir: Path) -> tuple[str, Any]:
    """A SQLite file in `workdir`, or a new PostgreSQL database beside `base_url`'s; with its drop."""
    if base_url is None or base_url.startswith("sqlite"):
        return f"sqlite:///{workdir / 'bench.sqlite3'}", None
    name = f"identity_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base_url).set(database=name).render_as_string(hide_password=False), drop


def _in_memory_rates(app: Any, target_data: int, target_index: int) -> tuple[float, float]:
    """The same per-record work as the jobs (unwrap + wrap; unwrap + decrypt + HMAC), no database."""
    from identity.cli.command_boundary import keyring
    from identity.extensions import db
    from identity.models import Person
    from identity.services import vault

    with app.app_context():
        ring = keyring()
        rows = db.session.execute(select(Person.id, Person.dek_wrapped, Person.document_ct)
                                  .where(Person.dek_wrapped.is_not(None)).limit(IN_MEMORY_SAMPLE)).all()
        db.session.rollback()
    started = time.perf_counter()
    for row in rows:
        vault.rewrap_dek_to(ring, row.id, row.dek_wrapped, target_data)
    rewrap = len(rows) / (time.perf_counter() - started)
    started = time.perf_counter()
    for row in rows:
        vault.reindex_document(ring, row.id, row.dek_wrapped, row.document_ct, target_index)
    reindex = len(rows) / (time.perf_counter() - started)
    return rewrap, reindex


def bench_size(records: int, base_url: str | None, batch_size: int) -> dict[str, Any]:
    from identity import create_app
    from identity.cli.command_boundary import keyring
    from identity.extensions import db
    from identity.services.keyring import add_key_version
    from tests.support.seeding import seed_people

    with tempfile.TemporaryDirectory(prefix="identity-bench-") as tmp:
        workdir = Path(tmp)
        root_keys = workdir / "root.keys"
        generate_root_key_file(root_keys)
        url, drop = fresh_database(base_url, workdir)
        try:
            env = _env(url, root_keys, workdir)
            _admin(env, "db", "upgrade")
            settings = Settings.from_env(env)
            app = create_app(settings)
            started = time.perf_counter()
            with app.app_context():
                seed_people(db.session(), keyring(), records)
                db.session.commit()
            seeded = time.perf_counter() - started

            # The in-memory baseline needs the target keys: make them (not primary) as the jobs would.
            with app.app_context():
                data_v = add_key_version(db.session(), app.extensions["identity"].root_keys, "data",
                                         primary=False).version
                index_v = add_key_version(db.session(), app.extensions["identity"].root_keys, "index",
                                          primary=False).version
                db.session.commit()
            mem_rewrap, mem_reindex = _in_memory_rates(app, data_v, index_v)
            with app.app_context():
                db.engine.dispose()

            args = ["--batch-size", str(batch_size)]
            data, data_rss = _admin(env, "keys", "rotate", "data", *args)
            index, index_rss = _admin(env, "keys", "rotate", "index", *args)
            verified, _ = _admin(env, "keys", "verify")
            assert verified["ok"] and verified["decrypted"] == records, verified
            return {"records": records, "seed_s": seeded,
                    "rewrap_rate": data["rate"], "rewrap_mem_rate": mem_rewrap, "rewrap_s": data["seconds"],
                    "rewrap_rss_mib": data_rss, "rewrap_cpu_rate": data["moved_this_run"] / data["cpu_seconds"],
                    "reindex_cpu_rate": index["moved_this_run"] / index["cpu_seconds"],
                    "reindex_rate": index["rate"], "reindex_mem_rate": mem_reindex, "reindex_s": index["seconds"],
                    "reindex_rss_mib": index_rss}
        finally:
            if drop is not None:
                drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL server URL (a scratch database is created on it); "
                                               "default: a temporary SQLite file")
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 200_000])
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url and not args.database_url.startswith("sqlite") else "SQLite"
    print(f"{backend}, batch {args.batch_size}, {os.cpu_count()} cores")
    # records/s: wall clock, as the operator sees it on this (shared) machine. per CPU-s: records per
    # second of the rotating process's own CPU; on SQLite that includes all the database work, so it
    # is the rate of an otherwise idle core. On PostgreSQL the server's share is not in it.
    header = (f"{'records':>9} {'job':<7} {'records/s':>10} {'per CPU-s':>10} {'in memory/s':>12} {'ratio':>6} "
              f"{'seconds':>8} {'s per 1M':>9} {'peak RSS':>9}")
    print(header)
    for records in args.records:
        r = bench_size(records, args.database_url, args.batch_size)
        for job in ("rewrap", "reindex"):
            rate, mem = r[f"{job}_rate"], r[f"{job}_mem_rate"]
            print(f"{records:>9,} {job:<7} {rate:>10,.0f} {r[f'{job}_cpu_rate']:>10,.0f} {mem:>12,.0f} "
                  f"{rate / mem:>6.2f} {r[f'{job}_s']:>8.1f} "
                  f"{1_000_000 / rate:>9.0f} {r[f'{job}_rss_mib']:>6.0f} MiB")
        print(f"{'':>9} (seeded in {r['seed_s']:.1f}s; keys verify ok)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
