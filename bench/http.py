"""The HTTP benchmark (issue 2): `python -m bench.http --database sqlite|postgresql|all`.

For each database it prepares a fresh instance (database, platform, API key through the admin
CLI), serves it with gunicorn sync workers on 127.0.0.1, drives every scenario in
`bench.scenarios` from separate load processes, and prints requests/s, p50, p99, the ratio
to the framework floor (`GET /healthz` of the same app) and a verdict against the targets.

Scenarios run in interleaved rounds (floor, a, b, ..., floor, a, b, ...): each round's ratio
compares a scenario with the floor measured moments before it, and the verdict takes the
median over rounds, so that drift in what else the machine is doing cancels out.
Exit status: 0 when every target is met and nothing answered unexpectedly, else 1.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bench import load
from bench.scenarios import BARE_SHARES, ROUND_STRIDE, SCENARIOS, Bare, Context, Scenario
from bench.server import Service

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "all"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES,
                        help="admin connection; the benchmark creates its own database there and drops it")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn sync workers (default: the service's IDENTITY_WORKERS default)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="load processes, one connection each (default: workers + 1)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every scenario")
    parser.add_argument("--duration", type=float, default=5.0,
                        help="measured seconds per scenario and round (at most)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per scenario and round")
    parser.add_argument("--requests", type=int, default=50_000,
                        help="measured requests per scenario and round (at most)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, from: {','.join(SCENARIOS)} (the floor always runs)")
    parser.add_argument("--no-bare", dest="bare", action="store_false",
                        help="skip the bare Flask app reference (issue 15)")
    parser.add_argument("--json", dest="json_out", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def default_workers() -> int:
    # The same default as config/gunicorn.conf.py when IDENTITY_WORKERS is unset.
    import os

    from identity.cpu_quota import default_workers as from_cpu_quota

    return int(os.environ.get("IDENTITY_WORKERS") or from_cpu_quota())


def chosen(names: str) -> list[Scenario]:
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    floor = [s for s in SCENARIOS.values() if s.floor]
    return floor + [SCENARIOS[n] for n in wanted if not SCENARIOS[n].floor]


@dataclass
class Measured:
    """A scenario over every round: all its requests together, and its ratio to the floor per round."""

    result: load.ScenarioResult
    ratios: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else math.nan


def verdict(measured: Measured, database: str) -> tuple[str, bool]:
    result = measured.result
    if result.unexpected:
        return "FAIL (unexpected answers)", False
    target = result.scenario.targets.get(database)
    if target is None:
        return "", True
    misses = []
    if target.min_ratio is not None and not measured.ratio >= target.min_ratio:
        misses.append(f"ratio < {target.min_ratio:.0%}")
    if target.max_p99_ms is not None and not result.percentile_ms(99) < target.max_p99_ms:
        misses.append(f"p99 >= {target.max_p99_ms:g} ms")
    return ("MISS: " + ", ".join(misses), False) if misses else ("ok", True)


def bench_database(database: str, args: argparse.Namespace, scenarios: list[Scenario]) -> tuple[list[dict], bool]:
    workers = args.workers or default_workers()
    plan = load.LoadPlan(concurrency=args.concurrency or workers + 1, duration_s=args.duration,
                         warmup_s=args.warmup, max_requests=args.requests)
    scopes = sorted({scope for s in scenarios for scope in s.scopes})
    policy = {key: value for s in scenarios for key, value in s.policy.items()}
    with tempfile.TemporaryDirectory(prefix="identity-bench-") as tmp:
        service = Service(database, Path(tmp), workers=workers, postgres_url=args.postgres_url)
        try:
            platform_id, api_key = service.prepare(scopes, policy)
            service.start()
            bare = service.start_bare(Path(tmp)) if args.bare else None
            context = Context("127.0.0.1", service.port, database, api_key, platform_id)
            print(f"\n== {database}: {workers} gunicorn sync workers, {plan.concurrency} load processes, "
                  f"{args.rounds} interleaved rounds of {plan.warmup_s:g} s warm-up + up to {plan.duration_s:g} s / "
                  f"{plan.max_requests} requests per scenario", flush=True)
            for scenario in scenarios:
                scenario.setup(context)
            rounds, bare_rounds = [], []
            for number in range(args.rounds):
                round_plan = replace(plan, first=number * ROUND_STRIDE)
                if bare is not None:
                    bare_context = replace(context, port=bare.port)
                    bare_rounds.append(load.run(Bare(), bare_context, round_plan, bare.pid))
                rounds.append([load.run(scenario, context, round_plan, service.pid) for scenario in scenarios])
                print(f"   round {number + 1}: done", file=sys.stderr, flush=True)
        except BaseException:
            print(f"(service log: {service.log_path})", file=sys.stderr)
            if service.log_path.exists():
                sys.stderr.write(service.log_path.read_text(errors="replace")[-3000:])
            raise
        finally:
            if bare is not None:
                bare.stop()
            service.stop()
            service.drop_database()
    rows, passed = report(database, workers, plan, combine(rounds))
    if bare_rounds:
        rows += report_bare(database, bare_rounds, rounds)
    return rows, passed


def report_bare(database: str, bare_rounds: list[load.ScenarioResult],
                rounds: list[list[load.ScenarioResult]]) -> list[dict]:
    """Issue 15: every scenario's req/s as a share of the bare Flask app's, median over rounds
    (each round's bare run moments before its scenarios). Printed, not part of the exit status."""
    merged = bare_rounds[0]
    for result in bare_rounds[1:]:
        merged = merged.merged(result)
    print(f"bare Flask app (same gunicorn settings): {merged.rps:.0f} req/s, p50 {merged.percentile_ms(50):.1f} ms, "
          f"p99 {merged.percentile_ms(99):.1f} ms, cpu ms {merged.cpu_ms_per_request:.2f}; as shares of it:")
    rows = []
    for column in zip(*rounds, strict=True):
        scenario = column[0].scenario
        shares = [r.rps / b.rps if b.rps else math.nan for r, b in zip(column, bare_rounds, strict=True)]
        share = statistics.median(shares)
        target = BARE_SHARES.get(scenario.name, {}).get(database)
        verdict = "" if target is None else f">= {target:.0%}: {'met' if share >= target else 'not met'}"
        print(f"  {scenario.name:<22} {share:6.0%}  rounds {'/'.join(f'{x:.0%}'.rstrip('%') for x in shares):<14} "
              f"{verdict}")
        rows.append({"database": database, "scenario": scenario.name, "share_of_bare": round(share, 3),
                     "share_of_bare_per_round": [round(x, 3) for x in shares], "bare_target": target})
    print(flush=True)
    return rows


def combine(rounds: list[list[load.ScenarioResult]]) -> list[Measured]:
    """Per scenario: the rounds merged, and each round's ratio to that round's floor."""
    measured = []
    for column in zip(*rounds, strict=True):
        merged = column[0]
        for result in column[1:]:
            merged = merged.merged(result)
        measured.append(Measured(merged, []))
    for results in rounds:
        floor_rps = next(r.rps for r in results if r.scenario.floor)
        for entry, result in zip(measured, results, strict=True):
            entry.ratios.append(result.rps / floor_rps if floor_rps else math.nan)
    return measured


def report(database: str, workers: int, plan: load.LoadPlan, measured: list[Measured]) -> tuple[list[dict], bool]:
    header = f"{'scenario':<32} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'floor':>6} " \
             f"{'rounds':<14} {'cpu ms':>6}  {'target':<28} verdict"
    print(header)
    print("-" * len(header))
    rows, passed = [], True
    for m in measured:
        r = m.result
        target = r.scenario.targets.get(database)
        text, ok = verdict(m, database)
        passed &= ok
        per_round = "/".join(f"{x:.0%}".rstrip("%") for x in m.ratios)
        print(f"{r.scenario.title:<32} {r.requests:>8} {r.rps:>8.0f} {r.percentile_ms(50):>7.1f} "
              f"{r.percentile_ms(99):>7.1f} {m.ratio:>6.0%} {per_round:<14} {r.cpu_ms_per_request:>6.2f}  "
              f"{target.describe() if target else '':<28} {text}")
        for status, count in sorted(r.unexpected.items()):
            print(f"    {count} unexpected answers with status {status}; e.g. {', '.join(r.samples)}")
        rows.append({"database": database, "workers": workers, "concurrency": plan.concurrency,
                     "scenario": r.scenario.name, "requests": r.requests, "seconds": round(r.seconds, 3),
                     "rps": round(r.rps, 1), "p50_ms": round(r.percentile_ms(50), 2),
                     "p99_ms": round(r.percentile_ms(99), 2), "ratio_to_floor": round(m.ratio, 3),
                     "ratio_per_round": [round(x, 3) for x in m.ratios],
                     "server_cpu_ms_per_request": round(r.cpu_ms_per_request, 3),
                     "unexpected": dict(r.unexpected), "verdict": text or "n/a"})
    by_name = {m.result.scenario.name: m for m in measured}
    for m in measured:
        scenario = m.result.scenario
        base = by_name.get(scenario.baseline or "")
        if base is None or scenario.max_cost is None:
            continue
        # Both ratios are to the same round's floor, so their quotient is the round's own comparison.
        relative = statistics.median(x / y for x, y in zip(m.ratios, base.ratios, strict=True) if y)
        cost = 1 - relative
        ok = cost <= scenario.max_cost
        passed &= ok
        print(f"{scenario.name} vs {base.result.scenario.name}: {relative:.0%} of its req/s (median of rounds; "
              f"cpu ms {m.result.cpu_ms_per_request:.2f} vs {base.result.cpu_ms_per_request:.2f}); costs {cost:.1%}, "
              f"at most {scenario.max_cost:.0%} allowed: {'ok' if ok else 'MISS'}")
        rows.append({"database": database, "comparison": f"{scenario.name}/{base.result.scenario.name}",
                     "ratio": round(relative, 3), "cost": round(cost, 3), "ok": ok})
    print(f"verdict ({database}): {'all targets met' if passed else 'targets missed'}", flush=True)
    return rows, passed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.requests > ROUND_STRIDE // 2:  # the rest of the stride is for the warm-up's requests
        raise SystemExit(f"--requests may be at most {ROUND_STRIDE // 2} per scenario and round")
    scenarios = chosen(args.scenarios)
    databases = ["sqlite", "postgresql"] if args.database == "all" else [args.database]
    rows, passed = [], True
    for database in databases:
        figures, ok = bench_database(database, args, scenarios)
        rows += figures
        passed &= ok
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
