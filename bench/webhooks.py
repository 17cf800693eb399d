"""Webhook delivery throughput: events per second from the outbox to a loopback receiver.

    python -m bench.webhooks                                  # SQLite: one worker
    python -m bench.webhooks --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
                                                              # PostgreSQL: one worker, then two

For each database: a fresh database is migrated, a platform gets one endpoint on a loopback
receiver (a separate process: `http.server` with keep-alive, counting what it gets, no
verification), and `--events` events are stored through `record_event`, the call the use cases
make. Then `identity-admin webhooks deliver --once` runs as real child processes, exactly as an
operator runs them, and the rate is the receiver's: events received over the time from the
first to the last (process start-up is not in it). The baseline, measured in the same run
against the same receiver: the same urllib3 client posting the same body from as many threads
as the worker uses, with nothing else (no database, no signing, no DNS check): the most the
worker could reach on this machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rotation import fresh_database  # noqa: E402
from identity.crypto.root_keys import generate_root_key_file  # noqa: E402
from identity.settings import Settings  # noqa: E402

TARGET_ONE_WORKER = 500.0  # events/s (issue 11)


def _serve(port_out: Any, count: Any, first: Any, last: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            now = time.time()
            with count.get_lock():
                if count.value == 0:
                    first.value = now
                count.value += 1
                last.value = now

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.value = server.server_address[1]
    server.serve_forever()


class Receiver:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.port, self.count = ctx.Value("i", 0), ctx.Value("q", 0)
        self.first, self.last = ctx.Value("d", 0.0), ctx.Value("d", 0.0)
        self.process = ctx.Process(target=_serve, args=(self.port, self.count, self.first, self.last), daemon=True)
        self.process.start()
        while self.port.value == 0:
            time.sleep(0.01)

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value, self.first.value, self.last.value = 0, 0.0, 0.0

    def rate(self) -> tuple[int, float]:
        n, span = self.count.value, self.last.value - self.first.value
        return n, (n - 1) / span if n > 1 and span > 0 else 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()


def baseline(receiver: Receiver, body: bytes, requests: int, threads: int) -> float:
    """The same client, the same body and headers' size, from `threads` threads: raw loopback POSTs."""
    pool = urllib3.HTTPConnectionPool("127.0.0.1", receiver.port.value, maxsize=threads, retries=False)
    headers = {"Content-Type": "application/json", "webhook-id": "evt_" + "0" * 26, "webhook-timestamp": "0",
               "webhook-signature": "v1," + "A" * 44}
    receiver.reset()
    per_thread = requests // threads

    def run() -> None:
        for _ in range(per_thread):
            response = pool.urlopen("POST", "/hooks", body=body, headers=headers, preload_content=False)
            response.drain_conn()
            response.release_conn()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    pool.close()
    return receiver.rate()[1]


def _admin(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", "from identity.cli import main; main()", *args, "--json"],
                          env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"identity-admin {' '.join(args)} failed: {done.stdout} {done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _store(app: Any, platform_id: str, events: int) -> None:
    from identity.clock import utc_now
    from identity.extensions import db
    from identity.services.webhooks.outbox import record_event

    with app.app_context():
        for n in range(events):
            record_event(db.session(), platform_id, "account.closed",
                         {"pseudonym": f"psn_{n:026d}", "closed_at": utc_now()}, utc_now())
            if n % 1000 == 999:
                db.session.commit()
        db.session.commit()


def bench(base_url: str | None, events: int, worker_counts: list[int], concurrency: int,
          batch: int) -> list[dict[str, Any]]:
    from identity import create_app
    from identity.cli.command_boundary import keyring
    from identity.clock import utc_now
    from identity.extensions import db
    from identity.services import platforms
    from identity.services.authentication import Principal
    from identity.services.webhooks import endpoints

    results = []
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="identity-bench-") as tmp:
        workdir = Path(tmp)
        root_keys = workdir / "root.keys"
        generate_root_key_file(root_keys)
        url, drop = fresh_database(base_url, workdir)
        try:
            env = {**os.environ, "IDENTITY_DATABASE_URL": url, "IDENTITY_ROOT_KEY_FILE": str(root_keys),
                   "IDENTITY_INSTANCE_PATH": str(workdir), "IDENTITY_LOG_LEVEL": "WARNING",
                   "IDENTITY_WEBHOOK_ALLOW_PRIVATE": "1"}
            _admin(env, "db", "upgrade")
            app = create_app(Settings.from_env(env))
            with app.app_context():
                platform = platforms.create_platform(db.session, keyring(), "bench", platforms.parse_policy({}))
                principal = Principal(platform_id=platform.id, key_id="key_bench", scopes=frozenset(),
                                      policy=platforms.parse_policy({}))
                endpoints.create(db.session(), keyring(), principal, f"http://127.0.0.1:{receiver.port.value}/hooks",
                                 ["account.closed"], allow_private=True, now=utc_now())
                db.session.commit()
                platform_id = platform.id
            sample = b'{"id":"evt_' + b"0" * 26 + b'","type":"account.closed","created_at":"2026-12-01T00:00:00Z",' \
                     b'"data":{"pseudonym":"psn_' + b"0" * 26 + b'","closed_at":"2026-12-01T00:00:00Z"}}'
            for workers in worker_counts:
                base = baseline(receiver, sample, min(events, 5000), concurrency * workers)
                _store(app, platform_id, events)
                receiver.reset()
                procs = [subprocess.Popen([sys.executable, "-c", "from identity.cli import main; main()",
                                           "webhooks", "deliver", "--once", "--json", "--batch-size", str(batch),
                                           "--concurrency", str(concurrency)],
                                          env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True) for _ in range(workers)]
                outs = [p.communicate() for p in procs]
                if any(p.returncode for p in procs):
                    raise SystemExit(f"a worker failed: {outs}")
                delivered = sum(json.loads(out.strip().splitlines()[-1])["delivered"] for out, _ in outs)
                received, rate = receiver.rate()
                results.append({"workers": workers, "events": events, "delivered": delivered, "received": received,
                                "rate": rate, "baseline": base})
            with app.app_context():
                db.engine.dispose()
        finally:
            receiver.stop()
            if drop is not None:
                drop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="PostgreSQL server URL (a scratch database is created on it); "
                                               "default: a temporary SQLite file")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--workers", type=int, nargs="+", help="worker counts to run, one after the other "
                                                                "(default: 1 on SQLite, 1 2 on PostgreSQL)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    postgres = bool(args.database_url) and not args.database_url.startswith("sqlite")
    workers = args.workers or ([1, 2] if postgres else [1])
    print(f"{'PostgreSQL' if postgres else 'SQLite'}, {args.events} events, batch {args.batch_size}, "
          f"concurrency {args.concurrency} per worker, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'events/s':>9} {'baseline/s':>11} {'share':>6} {'delivered':>10} {'verdict':>8}")
    ok = True
    for r in bench(args.database_url, args.events, workers, args.concurrency, args.batch_size):
        verdict = ""
        if r["workers"] == 1:
            verdict = "ok" if r["rate"] >= TARGET_ONE_WORKER else "MISSED"
            ok = ok and r["rate"] >= TARGET_ONE_WORKER
        ok = ok and r["delivered"] == r["events"] == r["received"]
        print(f"{r['workers']:>7} {r['rate']:>9,.0f} {r['baseline']:>11,.0f} {r['rate'] / r['baseline']:>6.0%} "
              f"{r['delivered']:>10} {verdict:>8}")
        sys.stdout.flush()
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
