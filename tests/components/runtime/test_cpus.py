"""The CPUs a process is given: affinity capped by a cgroup v2 or v1 quota."""

from __future__ import annotations

import os

from threadpoolctl import threadpool_info

from mlrig.components.runtime import cpus


def test_a_cgroup_v2_quota_caps_the_count(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cpus.quota(tmp_path) == 1.5
    assert cpus.available(tmp_path) == min(2, len(os.sched_getaffinity(0)))
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert cpus.available(tmp_path) == 1  # half a CPU still gets one thread


def test_unlimited_v2_and_a_v1_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cpus.quota(tmp_path) is None
    assert cpus.available(tmp_path) == len(os.sched_getaffinity(0))
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpus.available(v1) == 1
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cpus.quota(v1) is None


def test_limit_caps_loaded_pools_and_child_variables(monkeypatch):
    import numpy  # noqa: F401  (a BLAS pool to cap)

    for name in cpus.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert cpus.limit(1) == 1
    assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert cpus.thread_env(4) == {name: "1" for name in cpus.THREAD_VARIABLES}  # set above


def test_limited_restores_the_pools_and_keeps_a_users_ceiling(monkeypatch):
    import numpy  # noqa: F401  (a BLAS pool to watch)

    before = [pool["num_threads"] for pool in threadpool_info()]
    with cpus.limited(2) as threads:
        assert threads == 2
        assert all(pool["num_threads"] == 2 for pool in threadpool_info())
    assert [pool["num_threads"] for pool in threadpool_info()] == before
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert cpus.pool_size(8) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert cpus.pool_size(2) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    assert cpus.pool_size(3) == 3
