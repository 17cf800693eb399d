"""Closed-loop load from separate client processes, bounded by request count and time.

Each load process keeps one connection (reconnecting when the server closes it), sends a
request, waits for the answer, and sends the next. All processes start together, warm up
for a while (not measured: workers load keys and verify the API key once), then measure
until either the time is up or the request budget is spent, whichever comes first.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.scenarios import Context, Scenario


@dataclass(frozen=True)
class LoadPlan:
    concurrency: int
    duration_s: float
    warmup_s: float
    max_requests: int
    first: int = 0  # the first sequence number: each round of a run starts past the previous ones


@dataclass
class ClientResult:
    latencies: array  # seconds, measured requests that answered as expected
    unexpected: Counter[int]
    samples: list[str]
    started: float
    finished: float
    connects: int
    sent: int  # measured requests, expected or not


@dataclass
class ScenarioResult:
    scenario: Scenario
    requests: int
    seconds: float
    latencies: list[float]
    unexpected: Counter[int] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    connects: int = 0
    sent: int = 0
    server_cpu_s: float | None = None  # CPU the server's workers used while measured

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per request: steadier than req/s when other work shares the machine."""
        if self.server_cpu_s is None or not self.sent:
            return float("nan")
        return self.server_cpu_s / self.sent * 1000

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def merged(self, other: ScenarioResult) -> ScenarioResult:
        """This result and another round of the same scenario, as one."""
        cpu = (self.server_cpu_s + other.server_cpu_s
               if self.server_cpu_s is not None and other.server_cpu_s is not None else None)
        return ScenarioResult(scenario=self.scenario, requests=self.requests + other.requests,
                              seconds=self.seconds + other.seconds,
                              latencies=sorted(self.latencies + other.latencies),
                              unexpected=self.unexpected + other.unexpected,
                              samples=(self.samples + other.samples)[:5], connects=self.connects + other.connects,
                              sent=self.sent + other.sent, server_cpu_s=cpu)

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        index = min(len(self.latencies) - 1, max(0, round(p / 100 * len(self.latencies) + 0.5) - 1))
        return self.latencies[index] * 1000


def _problem_code(body: bytes) -> str:
    """Only the problem `code` of an unexpected answer is kept: never a body that might hold data."""
    import json

    try:
        return str(json.loads(body).get("code"))
    except (ValueError, AttributeError):
        return "(no problem body)"


def _client(scenario: Scenario, context: Context, index: int, plan: LoadPlan, go: Any, results: Any) -> None:
    connection = context.connect()
    budget = plan.max_requests // plan.concurrency + (1 if index < plan.max_requests % plan.concurrency else 0)
    latencies, unexpected, samples = array("d"), Counter[int](), list[str]()
    sequence = 0

    def one() -> tuple[float, int, bytes]:
        nonlocal sequence
        request = scenario.request(context, plan.first + index + sequence * plan.concurrency)
        sequence += 1
        began = time.perf_counter()
        response = connection.request(request)
        return time.perf_counter() - began, response.status, response.body

    go.wait()
    warm_until = time.perf_counter() + plan.warmup_s
    while time.perf_counter() < warm_until:
        one()
    started = time.perf_counter()
    deadline = started + plan.duration_s
    while len(latencies) + sum(unexpected.values()) < budget and time.perf_counter() < deadline:
        elapsed, status, body = one()
        if status == scenario.expect:
            latencies.append(elapsed)
        else:
            unexpected[status] += 1
            if len(samples) < 3:
                samples.append(f"{status} {_problem_code(body)}")
    finished = time.perf_counter()
    connection.close()
    results.put((index, ClientResult(latencies, unexpected, samples, started, finished, connection.connects,
                                     len(latencies) + sum(unexpected.values()))))


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds of a process and its live children (Linux /proc)."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [root]
    try:
        with open(f"/proc/{root}/task/{root}/children") as handle:
            pids += [int(p) for p in handle.read().split()]
    except OSError:
        return float("nan")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


def run(scenario: Scenario, context: Context, plan: LoadPlan, server_pid: int | None = None) -> ScenarioResult:
    """Run one scenario from `plan.concurrency` processes and merge what they measured."""
    ctx = mp.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    processes = [ctx.Process(target=_client, args=(scenario, context, i, plan, go, results), daemon=True)
                 for i in range(plan.concurrency)]
    for process in processes:
        process.start()
    time.sleep(0.2)  # let every process reach the starting line
    go.set()
    time.sleep(plan.warmup_s)  # the server's CPU is counted from the end of the warm-up
    cpu_before = process_tree_cpu(server_pid) if server_pid else None
    limit = plan.warmup_s + plan.duration_s + 60
    merged = [results.get(timeout=limit) for _ in processes]
    cpu_after = process_tree_cpu(server_pid) if server_pid else None
    for process in processes:
        process.join(timeout=10)
    parts = [r for _, r in merged]
    latencies = sorted(x for r in parts for x in r.latencies)
    unexpected: Counter[int] = Counter()
    for r in parts:
        unexpected.update(r.unexpected)
    seconds = max(r.finished for r in parts) - min(r.started for r in parts)
    return ScenarioResult(scenario=scenario, requests=len(latencies), seconds=seconds, latencies=latencies,
                          unexpected=unexpected, samples=[s for r in parts for s in r.samples][:5],
                          connects=sum(r.connects for r in parts), sent=sum(r.sent for r in parts),
                          server_cpu_s=(cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None
                          else None)
