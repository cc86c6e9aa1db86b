"""How many CPUs this process is given, and thread pools sized to it.

OpenMP and BLAS size their pools from the CPUs the kernel lets a process run on (its affinity),
not from its cgroup quota: in a pod limited to 1 CPU on a 32-core node, a gradient-boosting
predict starts 32 threads that then wait for each other's time slices. available() reads both;
limit() caps every loaded pool (threadpoolctl) and the pools of libraries loaded later (the
OMP/BLAS variables, for child processes); limited() does so for one block of work and restores
the pools after it, for work that runs inside another program's process.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def quota(root: Path = CGROUP) -> float | None:
    """The cgroup CPU limit in CPUs (v2 cpu.max or v1 cfs quota/period), None when unlimited."""
    try:
        v2 = root / "cpu.max"
        if v2.exists():
            limit, period = v2.read_text().split()[:2]
            return None if limit == "max" else int(limit) / int(period)
        v1 = root / "cpu" / "cpu.cfs_quota_us"
        if v1.exists():
            limit = int(v1.read_text())
            period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
            return None if limit <= 0 else limit / period
    except (OSError, ValueError):
        return None
    return None


def available(root: Path = CGROUP) -> int:
    """CPUs this process may use: its affinity, capped by its cgroup quota (rounded up, >= 1)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    share = quota(root)
    if share is not None:
        count = min(count or 1, max(1, math.ceil(share)))
    return max(1, count or 1)


def thread_env(threads: int) -> dict[str, str]:
    """OMP/BLAS variables for a child process, keeping any the user set."""
    return {name: os.environ.get(name, str(threads)) for name in THREAD_VARIABLES}


def limit(threads: int) -> int:
    """Cap the thread pools of this process at `threads`; returns the cap applied."""
    from threadpoolctl import threadpool_limits

    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
    threadpool_limits(limits=threads)
    return threads


def pool_size(given: int) -> int:
    """Threads for work on `given` CPUs: never more than an OMP_NUM_THREADS the user (or the
    process that started this one) set."""
    try:
        asked = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return given
    return max(1, min(given, asked)) if asked > 0 else given


def work_threads() -> int:
    """Threads for this process's own work (training, batch scoring): the CPUs it is given,
    capped by an OMP_NUM_THREADS set for it."""
    return pool_size(available())


@contextmanager
def limited(threads: int) -> Iterator[int]:
    """Cap this process's thread pools at `threads` while the block runs, then put them back as
    they were: batch scoring called in a test worker or a notebook must not leave that process's
    pools raised (two pools spinning on two cores each slowed a test run by 25 s)."""
    from threadpoolctl import threadpool_limits

    for name in THREAD_VARIABLES:  # for libraries loaded inside the block
        os.environ.setdefault(name, str(threads))
    with threadpool_limits(limits=threads):
        yield threads
