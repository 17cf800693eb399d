"""Token hot paths under gunicorn sync workers, as ratios to the framework floor (/healthz).

    python -m bench.tokens [--seconds 8] [--clients 2] [--workers 2] [--database-url URL]

Self-contained: makes a throw-away instance folder, migrates and seeds it through the admin
CLI, serves `identity:create_app()` with config/gunicorn.conf.py on a free loopback port,
registers one person, and drives each route from separate client processes over keep-alive
connections, one route after another in the same run. Besides /healthz (the framework floor)
it measures the cheapest authenticated route, to show what share of a token request is the
per-request cost every authenticated route pays (rate limit, API key, epoch read, commit).
Then measures realname_identity_client's offline verification beside a bare Ed25519 verify of the
same token. Prints rps, p50, p99 and ratios.

Live sanctions: introspection over tokens of `--accounts` accounts that each carry active
sanctions (an indefinite group-management suspension and one expiring in a year, so their
tokens still issue and `scope` is computed after them) beside the same introspection over as
many unsanctioned accounts, in interleaved rounds of the same run (the machine's other load
hits both alike). Prints both rates and their ratio; the goal is that sanctions cost
introspection at most a tenth of its throughput (ratio >= 90 %).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.client import Connection, Request

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run([str(BIN / "identity-admin"), *args, "--json"], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def call(port: int, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


def load(port: int, method: str, path: str, body: bytes | list[bytes] | None, headers: dict[str, str], expect: int,
         seconds: float, start_at: float, out: Any, offset: int = 0) -> None:
    """One client process: a keep-alive connection, requests back to back, latencies recorded.
    A list of bodies is sent in turn (from `offset`, so client processes spread over them).

    It uses bench.http's raw-socket client, not http.client: the client shares the cores with
    the server, and http.client's own cost per request (about a third of the floor's) raised
    every ratio to the floor, so the two benchmarks disagreed about the same routes."""
    conn = Connection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    errors = 0
    requests = [Request(method, path, headers, b or b"") for b in (body if isinstance(body, list) else [body])]
    sent = offset
    while time.time() < start_at:
        time.sleep(0.001)
    stop = start_at + seconds
    while True:
        began = time.perf_counter()
        if time.time() >= stop:
            break
        response = conn.request(requests[sent % len(requests)])
        sent += 1
        if response.status != expect:
            errors += 1
        latencies.append(time.perf_counter() - began)
    conn.close()
    out.put((latencies, errors))


def drive(port: int, clients: int, seconds: float, method: str, path: str, body: bytes | list[bytes] | None = None,
          headers: dict[str, str] | None = None, expect: int = 200) -> dict[str, float]:
    queue: Any = mp.Queue()
    start_at = time.time() + 0.5
    spread = len(body) // clients if isinstance(body, list) else 0
    procs = [mp.Process(target=load, args=(port, method, path, body, headers or {}, expect, seconds, start_at, queue,
                                           i * spread))
             for i in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    return {"rps": len(latencies) / seconds, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1], "errors": errors, "n": len(latencies)}


def resident_id(n: int) -> str:
    """The n-th valid (GB 11643 check digit) synthetic resident ID of this benchmark."""
    body = f"110105{1950 + n // 900:04d}0101{n % 900 + 100:03d}"
    check = (12 - sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def register(port: int, auth: dict[str, str], n: int) -> str:
    person = {"real_name": "张三", "id_document": {"type": "cn_resident_id", "number": resident_id(n)},
              "consent": {"notice_version": "2026-01", "accepted_at": "2026-11-28T10:00:00Z"}}
    status, body = call(port, "POST", "/v1/registrations", json.dumps(person).encode(), auth)
    if status != 201:
        sys.exit(f"registration failed: {status}")
    return str(json.loads(body)["pseudonym"])


def file_sanction(port: int, auth: dict[str, str], pseudonym: str, kind: str, expires_at: str | None) -> None:
    body = {"pseudonym": pseudonym, "kind": kind, "reason_code": "spam", "evidence_ref": "bench"}
    if expires_at is not None:
        body["expires_at"] = expires_at
    status, _ = call(port, "POST", "/v1/sanctions", json.dumps(body).encode(), auth)
    if status != 201:
        sys.exit(f"filing a sanction failed: {status}")


def introspection_bodies(port: int, auth: dict[str, str], form: dict[str, str], first: int, count: int, *,
                         sanctioned: bool) -> list[bytes]:
    """Register `count` accounts (sanctioned or not), issue a token for each, check one introspection."""
    in_a_year = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 365 * 86400))
    bodies = []
    for n in range(first, first + count):
        pseudonym = register(port, auth, n)
        if sanctioned:
            file_sanction(port, auth, pseudonym, "group_management_suspension", None)
            file_sanction(port, auth, pseudonym, "group_management_suspension", in_a_year)
        status, body = call(port, "POST", "/v1/tokens", json.dumps({"pseudonym": pseudonym, "ttl_seconds": 3600})
                            .encode(), auth)
        if status != 201:
            sys.exit(f"token issue failed: {status}")
        bodies.append(urlencode({"token": json.loads(body)["token"]}).encode())
    answer = json.loads(call(port, "POST", "/v1/tokens/introspect", bodies[0], form)[1])
    assert answer["active"] is True and answer["scope"] == ("post" if sanctioned else "post group:create group:manage")
    return bodies


def compare_sanctions(port: int, clients: int, seconds: float, rounds: int, plain: list[bytes],
                      sanctioned: list[bytes], form: dict[str, str]) -> dict[str, dict[str, float]]:
    """Interleaved rounds of introspection without and with live sanctions; totals per mode."""
    totals: dict[str, dict[str, float]] = {"without sanctions": {"n": 0, "errors": 0, "seconds": 0.0},
                                           "with sanctions": {"n": 0, "errors": 0, "seconds": 0.0}}
    p50s: dict[str, list[float]] = {name: [] for name in totals}
    for _ in range(rounds):
        for name, bodies in (("without sanctions", plain), ("with sanctions", sanctioned)):
            r = drive(port, clients, seconds / rounds, "POST", "/v1/tokens/introspect", bodies, form)
            totals[name]["n"] += r["n"]
            totals[name]["errors"] += r["errors"]
            totals[name]["seconds"] += seconds / rounds
            p50s[name].append(r["p50_ms"])
    for name, total in totals.items():
        total["rps"] = total["n"] / total["seconds"]
        total["p50_ms"] = statistics.median(p50s[name])
    return totals


def bench_client(port: int, token: str, issuer: str, audience: str, rounds: int) -> tuple[float, float]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from realname_identity_client import TokenVerifier

    verifier = TokenVerifier(f"http://127.0.0.1:{port}/.well-known/jwks.json", issuer, audience)
    verifier.verify(token)  # fetch the key set once
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    jwk = next(k for k in json.loads(call(port, "GET", "/.well-known/jwks.json")[1])["keys"]
               if k["kid"] == header["kid"])
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    head, payload, signature = token.split(".")
    message, raw_signature = f"{head}.{payload}".encode(), base64.urlsafe_b64decode(signature + "==")

    # Interleaved rounds, best of each: the machine's other load hits both alike.
    best = {"bare": 0.0, "ours": 0.0}
    calls = {"bare": lambda: public.verify(raw_signature, message), "ours": lambda: verifier.verify(token)}
    for _ in range(10):
        for name, fn in calls.items():
            began = time.perf_counter()
            for _ in range(rounds // 10):
                fn()
            best[name] = max(best[name], (rounds // 10) / (time.perf_counter() - began))
    bare, ours = best["bare"], best["ours"]
    return ours, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--database-url", help="default: SQLite in a throw-away instance folder")
    parser.add_argument("--rounds", type=int, default=20000, help="offline verifications per timing")
    parser.add_argument("--accounts", type=int, default=50,
                        help="accounts per mode of the live-sanctions comparison (one token each)")
    parser.add_argument("--sanction-rounds", type=int, default=4,
                        help="interleaved rounds of the live-sanctions comparison (--seconds per mode in all)")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="identity-bench-"))
    port = free_port()
    env = {**os.environ, "IDENTITY_INSTANCE_PATH": str(instance), "IDENTITY_ROOT_KEY_FILE": str(instance / "root.keys"),
           "IDENTITY_RATE_LIMIT": "100000000 per minute", "IDENTITY_LOG_LEVEL": "WARNING",
           "IDENTITY_BIND": f"127.0.0.1:{port}", "IDENTITY_WORKERS": str(args.workers),
           "PROMETHEUS_MULTIPROC_DIR": str(instance / "metrics")}
    (instance / "metrics").mkdir()
    if args.database_url:
        env["IDENTITY_DATABASE_URL"] = args.database_url
    from identity.crypto.root_keys import generate_root_key_file

    generate_root_key_file(instance / "root.keys")
    admin(env, "db", "upgrade")
    platform = admin(env, "platforms", "create", f"bench-{port}")["id"]
    api_key = admin(env, "api-keys", "issue", platform, "--scopes",
                    "registrations:write,accounts:read,tokens:issue,tokens:introspect,sanctions:write")["api_key"]
    server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "identity:create_app()"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_ready(port)
        auth = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        person = {"real_name": "张三", "id_document": {"type": "cn_resident_id", "number": "110105199005170011"},
                  "consent": {"notice_version": "2026-01", "accepted_at": "2026-11-28T10:00:00Z"}}
        status, body = call(port, "POST", "/v1/registrations", json.dumps(person).encode(), auth)
        if status != 201:
            sys.exit(f"registration failed: {status} {body[:200]!r}")
        pseudonym = json.loads(body)["pseudonym"]
        issue_body = json.dumps({"pseudonym": pseudonym}).encode()
        token = json.loads(call(port, "POST", "/v1/tokens", issue_body, auth)[1])["token"]
        form = {"Authorization": auth["Authorization"], "Content-Type": "application/x-www-form-urlencoded"}
        introspect_body = urlencode({"token": token}).encode()
        assert json.loads(call(port, "POST", "/v1/tokens/introspect", introspect_body, form)[1])["active"] is True

        drive(port, args.clients, 2, "GET", "/healthz")  # warm every worker
        drive(port, args.clients, 2, "POST", "/v1/tokens", issue_body, auth, 201)
        drive(port, args.clients, 2, "POST", "/v1/tokens/introspect", introspect_body, form)
        reference = "/v1/accounts?external_ref=nobody"  # authenticated, rate-limited, epochs + one SELECT
        results = {
            "healthz": drive(port, args.clients, args.seconds, "GET", "/healthz"),
            "auth reference": drive(port, args.clients, args.seconds, "GET", reference, None, auth),
            "token issue": drive(port, args.clients, args.seconds, "POST", "/v1/tokens", issue_body, auth, 201),
            "introspection": drive(port, args.clients, args.seconds, "POST", "/v1/tokens/introspect",
                                   introspect_body, form),
        }
        floor = results["healthz"]["rps"]
        database = "PostgreSQL" if args.database_url and "postgres" in args.database_url else "SQLite"
        print(f"gunicorn sync, {args.workers} workers, {args.clients} client processes, {args.seconds:g}s each, "
              f"{database}, {os.cpu_count()} CPUs")
        print(f"{'route':<15}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs /healthz':>13}")
        for name, r in results.items():
            print(f"{name:<15}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['errors']:>8.0f}"
                  f"{r['rps'] / floor:>12.0%}")
        print("auth reference: GET /v1/accounts?external_ref=nobody, the cheapest authenticated route: API-key "
              "check, rate limit, epoch read and one SELECT; token routes as a share of it: "
              f"issue {results['token issue']['rps'] / results['auth reference']['rps']:.0%}, "
              f"introspection {results['introspection']['rps'] / results['auth reference']['rps']:.0%}")

        plain = introspection_bodies(port, auth, form, 1000, args.accounts, sanctioned=False)
        sanctioned = introspection_bodies(port, auth, form, 1000 + args.accounts, args.accounts, sanctioned=True)
        drive(port, args.clients, 1, "POST", "/v1/tokens/introspect", plain, form)  # warm every worker's caches
        drive(port, args.clients, 1, "POST", "/v1/tokens/introspect", sanctioned, form)
        compared = compare_sanctions(port, args.clients, args.seconds, args.sanction_rounds, plain, sanctioned, form)
        print(f"live sanctions: introspection over {args.accounts} tokens of {args.accounts} accounts per mode, "
              f"{args.sanction_rounds} interleaved rounds, {args.seconds:g}s per mode")
        for name, r in compared.items():
            print(f"  {name:<18}{r['rps']:>9.0f} rps  p50 {r['p50_ms']:.2f} ms  errors {r['errors']:.0f}")
        ratio = compared["with sanctions"]["rps"] / compared["without sanctions"]["rps"]
        print(f"  with / without: {ratio:.1%}; sanctions cost {1 - ratio:.1%} of introspection's throughput "
              f"(goal: at most 10%): {'ok' if ratio >= 0.9 else 'MISS'}")
        issuer = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["iss"]
        ours, bare = bench_client(port, token, issuer, platform, args.rounds)
        print(f"realname_identity_client offline verify {ours:,.0f}/s; bare Ed25519 verify {bare:,.0f}/s; "
              f"ratio {ours / bare:.0%}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
