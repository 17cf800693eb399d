"""How many CPUs this process may use: the container's CPU quota, not the host's core count.

A container limited to 2 CPUs on a 64-core host sees 64 cores in os.cpu_count(); sizing
gunicorn from that starts 129 workers that share 2 CPUs and as many database connections.
The quota lives in the cgroup: `cpu.max` (cgroup v2: "QUOTA PERIOD" or "max PERIOD"), or
`cpu/cpu.cfs_quota_us` and `cpu.cfs_period_us` (cgroup v1: -1 for no quota).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_V1_FOLDERS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


def quota_cpus(cgroup_root: Path = CGROUP_ROOT) -> int | None:
    """CPUs allowed by the cgroup's quota, rounded up; None when there is no quota (or no cgroup)."""
    v2 = _read(cgroup_root / "cpu.max")
    if v2 is not None:
        fields = v2.split()
        if len(fields) == 2 and fields[0] != "max":
            return _ceil_ratio(fields[0], fields[1])
        return None
    for folder in _V1_FOLDERS:
        quota = _read(cgroup_root / folder / "cpu.cfs_quota_us")
        period = _read(cgroup_root / folder / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            return _ceil_ratio(quota, period)
    return None


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """The CPUs this process may run on (affinity), capped by the cgroup quota; at least 1."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = quota_cpus(cgroup_root)
    return max(1, min(cpus, quota) if quota is not None else cpus)


def default_workers(cgroup_root: Path = CGROUP_ROOT) -> int:
    """gunicorn's usual 2 x CPUs + 1 for sync workers, counted from the CPUs actually usable."""
    return 2 * usable_cpus(cgroup_root) + 1


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _ceil_ratio(quota: str, period: str) -> int | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    if q <= 0 or p <= 0:  # v1 writes -1 for "no quota"
        return None
    return max(1, math.ceil(q / p))
