"""gunicorn's default worker count comes from the container's CPU quota, not the host's cores."""

from __future__ import annotations

import os

import pytest

from identity.cpu_quota import default_workers, quota_cpus, usable_cpus

HOST_CPUS = len(os.sched_getaffinity(0))


def cgroup(tmp_path, files: dict[str, str]):
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return tmp_path


@pytest.mark.parametrize("files, cpus", [
    ({"cpu.max": "200000 100000\n"}, 2),                      # v2: two CPUs
    ({"cpu.max": "150000 100000\n"}, 2),                      # v2: 1.5 CPUs, rounded up
    ({"cpu.max": "50000 100000\n"}, 1),                       # v2: half a CPU is still one worker slot
    ({"cpu.max": "max 100000\n"}, None),                      # v2: no quota
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),        # v1
    ({"cpu,cpuacct/cpu.cfs_quota_us": "100000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, 1),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),         # v1: no quota
    ({"cpu.max": "garbage"}, None),
    ({}, None),                                                # no cgroup at all
])
def test_the_quota_is_read_from_cgroup_v2_or_v1(tmp_path, files, cpus):
    assert quota_cpus(cgroup(tmp_path, files)) == cpus


def test_workers_are_two_per_usable_cpu_plus_one(tmp_path):
    assert default_workers(cgroup(tmp_path, {"cpu.max": "100000 100000"})) == 3
    unlimited = cgroup(tmp_path / "none", {"cpu.max": "max 100000"})
    assert usable_cpus(unlimited) == HOST_CPUS and default_workers(unlimited) == 2 * HOST_CPUS + 1
    # A quota above the CPUs the process may run on does not invent CPUs.
    generous = cgroup(tmp_path / "big", {"cpu.max": f"{(HOST_CPUS + 8) * 100000} 100000"})
    assert usable_cpus(generous) == HOST_CPUS
