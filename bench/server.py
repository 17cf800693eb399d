"""A throwaway instance of the service: a fresh database, a platform and key made through the
admin CLI, and gunicorn with the production config (`config/gunicorn.conf.py`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.client import Connection, Request

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# High enough that no scenario is ever limited: the figures measure work, not the limiter.
RATE_LIMIT = "100000000 per minute"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    def __init__(self, database: str, workdir: Path, *, workers: int, postgres_url: str) -> None:
        self.database, self.workdir, self.workers = database, workdir, workers
        self.postgres_url = postgres_url  # an admin connection, where the benchmark's database is created
        self.port = free_port()
        self.pg_name: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "gunicorn.log"

    # -- database ---------------------------------------------------------------------------

    def _pg_admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.postgres_url.replace("postgresql+psycopg://", "postgresql://"),
                               autocommit=True)

    def create_database(self) -> str:
        if self.database == "sqlite":
            return f"sqlite:///{self.workdir / 'identity.sqlite3'}"
        self.pg_name = f"identity_bench_{uuid.uuid4().hex[:10]}"
        with self._pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.pg_name}"')
        base, _, _ = self.postgres_url.rpartition("/")
        return f"{base}/{self.pg_name}"

    def drop_database(self) -> None:
        if self.pg_name is not None:
            with self._pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            self.pg_name = None

    # -- environment and the admin CLI --------------------------------------------------------

    def prepare(self, scopes: list[str], policy: dict[str, Any] | None = None) -> tuple[str, str]:
        """Create and migrate the database; onboard a platform; return (platform id, API key)."""
        from identity.crypto.root_keys import generate_root_key_file

        # A database of its own is not the embedded default: it needs a root key file of its own.
        root_keys = self.workdir / "root.keys"
        generate_root_key_file(root_keys)
        self.env = {
            **os.environ,
            "IDENTITY_DATABASE_URL": self.create_database(),
            "IDENTITY_INSTANCE_PATH": str(self.workdir / "instance"),
            "IDENTITY_ROOT_KEY_FILE": str(root_keys),
            "IDENTITY_RATE_LIMIT": RATE_LIMIT,
            "IDENTITY_WORKERS": str(self.workers),
            "IDENTITY_BIND": f"127.0.0.1:{self.port}",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
        }
        (self.workdir / "metrics").mkdir()
        self.admin("db", "upgrade")
        policy_file = self.workdir / "policy.json"
        policy_file.write_text(json.dumps(policy or {}))
        platform = self.admin("platforms", "create", "bench-forum", "--policy", str(policy_file))
        key = self.admin("api-keys", "issue", platform["id"], "--scopes", ",".join(scopes))
        return platform["id"], key["api_key"]

    def admin(self, *args: str) -> dict[str, Any]:
        done = subprocess.run([str(BIN / "identity-admin"), *args, "--json"], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"identity-admin {' '.join(args[:2])} failed: {done.stdout} {done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    # -- gunicorn ------------------------------------------------------------------------------

    def start(self, app: str = "identity:create_app()", ready_path: str = "/readyz") -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", app],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            try:
                if Connection("127.0.0.1", self.port, timeout=2).request(Request("GET", ready_path, {})).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the service did not become ready within 60 s")

    def start_bare(self, workdir: Path) -> Service:
        """The bare Flask app (issue 15) under the same gunicorn settings and worker count, on a
        port of its own; the service's environment lets the config's start-up check pass."""
        bare = Service(self.database, workdir, workers=self.workers, postgres_url=self.postgres_url)
        bare.log_path = workdir / "gunicorn-bare.log"
        bare.env = {**self.env, "IDENTITY_BIND": f"127.0.0.1:{bare.port}"}
        bare.start("bench.bare_app:app", ready_path="/")
        return bare

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
