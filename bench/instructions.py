"""Instructions per request, counted by valgrind: `python -m bench.instructions`.

Requests per second on a shared 2-core machine drift by a fifth from one minute to the next,
which hides changes of a few per cent. An instruction count does not drift: the same requests
through the same code count the same, whatever else the machine does. For each scenario this
runs the app in one process under `valgrind --tool=callgrind` (no HTTP, no gunicorn: the WSGI
app is called directly), warms up, then counts only the measured requests, and prints
instructions per request, the floor's count as a share of each scenario's, and each scenario as a
multiple of `bare` (issue 15): a one-route Flask app answering `{"ok": true}`, nothing else,
called the same way, against the issue's targets.

It is a complement to `bench.http`, not a stand-in: it counts neither HTTP, nor the database
server's work (PostgreSQL), nor cache misses, so its ratios are not the targets' ratios. Use it
to compare commits: `git stash; python -m bench.instructions; git stash pop; ...`.

How only the measured requests are counted: they run inside one `functools.reduce` call, and
callgrind is told to collect only while that C function is on the stack
(`--toggle-collect=functools_reduce`). A request that called `functools.reduce` itself would
switch collection off for that call. Some first requests do (SQLAlchemy compiling a query), so
after the warm-up the child watches a few more requests, warm like the measured ones, for such
a call and stops if it sees one; it also checks every answer's status.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# Not a group closure: it files sanctions, whose lazy loads under `populate_existing` call
# functools.reduce in every request (see below), so its count cannot be isolated this way.
SCENARIOS = ("bare", "floor", "register", "account_read", "token_issue", "introspect", "group_create", "page_get")
# Issue 15: the most instructions a request may cost, as a multiple of `bare` in the same run.
BARE_TARGETS = {"floor": 1.5, "account_read": 3.0, "introspect": 3.0, "token_issue": 3.5, "register": 8.0}
WARMUP = 50  # unmeasured: caches filled, statements compiled
WATCHED = 10  # unmeasured too: warm requests, watched for functools.reduce (see above)
# What `--without` can leave out, by the names of the hooks (or the middleware) that do it. A run
# without a part answers as usual where the scenario does not need it (e.g. no metrics); its
# count less the full run's is what that part costs a request.
PARTS = {
    "request_id": (),  # the WSGI middleware, unwrapped
    "metrics": ("_start_timer", "_observe"),
    "transactions": ("_choose_transaction_mode", "_commit_or_roll_back", "_reset_mode"),
    "guard": ("_guard",),
    "no_store": ("_no_store",),
    "session_teardown": ("_teardown_session",),
    "rate_limits": (),  # RateLimits counts nothing
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="measured requests per scenario")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"from: {','.join(SCENARIOS)}")
    parser.add_argument("--without", default="", help=f"attribution: leave out these parts ({','.join(PARTS)}); "
                        "the difference to a full run is what they cost")
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the child: one scenario, run under callgrind ---------------------------------------------

def _environs(app: Any, scenario: str, count: int) -> tuple[list[dict[str, Any]], str]:
    """`count` WSGI environs for the scenario, and the status every answer must have."""
    from werkzeug.test import EnvironBuilder

    from bench.scenarios import MANY_GROUPS, PAGE_POLICY, person_number
    from tests.conftest import Platforms
    from tests.support.groups import GROUP_SCOPES
    from tests.support.people import registration

    platforms = Platforms(app)
    platform = platforms.create(**MANY_GROUPS)
    auth = platforms.headers(platform, GROUP_SCOPES)
    client = app.test_client()

    def build(**kwargs: Any) -> dict[str, Any]:
        return dict(EnvironBuilder(**kwargs).get_environ())

    if scenario == "floor":
        return [build(path="/healthz") for _ in range(count)], "200 OK"
    if scenario == "page_get":
        # As bench.http's page_get: the form over sessions created first, a person's first visit
        # (no cookie), in turn over as many sessions as that scenario makes.
        page_auth = platforms.headers(platforms.create(**PAGE_POLICY), ("registrations:write",))
        body = {"return_url": PAGE_POLICY["return_urls"][0], "state": "bench"}
        paths = [urlsplit(client.post("/v1/verification-sessions", json=body, headers=page_auth).get_json()["url"]).path
                 for _ in range(200)]
        return [build(path=paths[n % len(paths)]) for n in range(count)], "200 OK"
    if scenario == "register":
        return [build(path="/v1/registrations", method="POST", json=registration(person_number(1, n)), headers=auth)
                for n in range(count)], "201 CREATED"
    pseudonym = client.post("/v1/registrations", json=registration(person_number(2, 0)),
                            headers=auth).get_json()["pseudonym"]
    if scenario == "account_read":
        return [build(path=f"/v1/accounts/{pseudonym}", headers=auth) for _ in range(count)], "200 OK"
    if scenario == "group_create":
        return [build(path="/v1/groups", method="POST", json={"founder": pseudonym}, headers=auth)
                for _ in range(count)], "201 CREATED"
    if scenario == "token_issue":
        return [build(path="/v1/tokens", method="POST", json={"pseudonym": pseudonym}, headers=auth)
                for _ in range(count)], "201 CREATED"
    token = client.post("/v1/tokens", json={"pseudonym": pseudonym, "ttl_seconds": 3600},
                        headers=auth).get_json()["token"]
    return [build(path="/v1/tokens/introspect", method="POST", data={"token": token}, headers=auth)
            for _ in range(count)], "200 OK"


def _leave_out(app: Any, parts: list[str]) -> None:
    hooks = {name for part in parts for name in PARTS[part]}
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        for key, funcs in registry.items():
            registry[key] = [f for f in funcs if f.__name__ not in hooks]
    app.teardown_appcontext_funcs[:] = [f for f in app.teardown_appcontext_funcs if f.__name__ not in hooks]
    if "request_id" in parts:
        app.wsgi_app = app.wsgi_app.wsgi_app
    if "rate_limits" in parts:
        limits = app.extensions["identity_rate_limits"]
        limits.hit_caller = limits.hit_auth_failure = lambda *_: None


def run_child(scenario: str, requests: int, without: list[str] | None = None) -> int:
    if scenario == "bare":
        from werkzeug.test import EnvironBuilder

        from bench.bare_app import bare_app

        environs = [dict(EnvironBuilder(path="/").get_environ()) for _ in range(WARMUP + WATCHED + requests)]
        return _measure(bare_app(), scenario, environs, "200 OK")

    from identity import create_app
    from identity.crypto.root_keys import generate_root_key_file
    from tests.conftest import make_settings, migrate

    with tempfile.TemporaryDirectory(prefix="identity-instructions-") as tmp:
        generate_root_key_file(Path(tmp) / "root.keys")
        # The test suite's settings: cheap argon2 (a request never hashes, keys are checked once
        # per process, and production parameters would cost minutes under valgrind for the one
        # hash there is) and a rate limit no run reaches.
        settings = make_settings(Path(tmp) / "instance", f"sqlite:///{tmp}/identity.sqlite3", Path(tmp) / "root.keys")
        migrate(settings)
        app = create_app(settings)
        _leave_out(app, without or [])
        environs, expected = _environs(app, scenario, WARMUP + WATCHED + requests)
        return _measure(app, scenario, environs, expected)


def _measure(app: Any, scenario: str, environs: list[dict[str, Any]], expected: str) -> int:
    """Warm up, watch, then run the measured requests inside the one `functools.reduce` call."""
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    def one(_: Any, environ: dict[str, Any]) -> None:
        b"".join(app(environ, start_response))

    for environ in environs[:WARMUP]:
        one(None, environ)
    _watch_for_reduce(one, environs[WARMUP:WARMUP + WATCHED])
    functools.reduce(one, environs[WARMUP + WATCHED:], None)  # the measured requests: see the module doc
    wrong = [s for s in statuses if s != expected]
    if wrong:
        raise SystemExit(f"{scenario}: {len(wrong)} answers were not {expected}, e.g. {wrong[0]}")
    return 0


def _watch_for_reduce(one: Any, environs: list[dict[str, Any]]) -> None:
    seen: list[str] = []

    def watch(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and arg is functools.reduce:
            seen.append(frame.f_code.co_filename)

    sys.setprofile(watch)
    try:
        for environ in environs:
            one(None, environ)
    finally:
        sys.setprofile(None)
    if seen:
        raise SystemExit(f"a warm request calls functools.reduce ({seen[0]}): the counts would be wrong")


# -- the parent: one valgrind run per scenario ---------------------------------------------------

def _parts(value: str) -> list[str]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise SystemExit(f"unknown part(s): {', '.join(unknown)}; from: {', '.join(PARTS)}")
    return parts


def count(scenario: str, requests: int, valgrind: str, without: str = "") -> int:
    """Instructions for `requests` requests of the scenario (the warm-up is not counted)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [valgrind, "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=functools_reduce",
             f"--callgrind-out-file={tmp}/callgrind.out", sys.executable, "-m", "bench.instructions",
             "--child", scenario, "--requests", str(requests), "--without", without],
            cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "IDENTITY_LOG_LEVEL": "WARNING"})
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{scenario}: valgrind run failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return run_child(args.child, args.requests, _parts(args.without))
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    _parts(args.without)
    wanted = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    # The references first, so every line after them can be printed as soon as it is counted.
    names = ["bare", "floor"] + [s for s in wanted if s not in ("bare", "floor")]
    print(f"instructions per request, {args.requests} requests per scenario after {WARMUP + WATCHED} unmeasured, "
          "one process, SQLite, no HTTP", flush=True)
    bare = floor = 0.0
    for name in names:
        per_request = count(name, args.requests, valgrind, "" if name == "bare" else args.without) / args.requests
        bare = bare or per_request
        floor = floor or (per_request if name == "floor" else 0.0)
        share = f"floor / this {floor / per_request:6.1%}" if floor else " " * 19
        print(f"  {name:<14} {per_request / 1e6:7.3f} M   {share}   {_versus_bare(name, per_request / bare)}",
              flush=True)
    return 0


def _versus_bare(name: str, multiple: float) -> str:
    target = BARE_TARGETS.get(name)
    verdict = "" if target is None else f"  target <= {target:.1f}: {'met' if multiple <= target else 'not met'}"
    return f"{multiple:5.2f} x bare{verdict}"


if __name__ == "__main__":
    raise SystemExit(main())
