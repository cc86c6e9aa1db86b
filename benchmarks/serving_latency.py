"""Serving latency: `mlrig serve` (BentoML) against a bare FastAPI baseline doing the same work,
and the in-process floor. Prints p50/p95 per target and the ratio to the baseline.

Needs a trained project in the current folder (`mlrig run`, or `mlrig run --sample 20000`).
Usage: python benchmarks/serving_latency.py [--requests 500]
Loopback only; the request loop is bounded in count.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

BODY = {"tailnum": "N14228", "origin": "EWR", "dest": "IAH", "carrier": "UA",
        "sched_dep": "2013-12-30T08:15:00"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.post(url, json=BODY, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s")


def measure(call: Callable[[], object], n: int, warmup: int = 50) -> list[float]:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def http_target(url: str, n: int) -> list[float]:
    with httpx.Client() as client:

        def call() -> None:
            assert client.post(url, json=BODY).status_code == 200

        return measure(call, n)


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    here = Path(__file__).parent
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "BENTOML_DO_NOT_TRACK": "true"}

    from mlrig.components.config.loader import load
    from mlrig.serving.predictor import Predictor

    predictor = Predictor(load())
    results = {"in-process floor": measure(lambda: predictor.predict(BODY), args.requests)}

    procs = []
    try:
        base_port, bento_port = free_port(), free_port()
        commands = [
            [sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(base_port),
             "--no-access-log", "--app-dir", str(here)],
            [sys.executable, "-m", "mlrig.cli", "serve", "--port", str(bento_port)],
        ]  # fmt: skip
        for argv in commands:
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            procs.append(subprocess.Popen(argv, env=env, start_new_session=True, **quiet))
        targets = {
            "FastAPI baseline": f"http://127.0.0.1:{base_port}/predict",
            "mlrig serve (BentoML)": f"http://127.0.0.1:{bento_port}/predict",
        }
        for name, url in targets.items():
            wait_ready(url)
            results[name] = http_target(url, args.requests)
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    base_p50, base_p95 = summary(results["FastAPI baseline"])
    print(f"{'target':<24}{'p50 ms':>9}{'p95 ms':>9}{'p50 / baseline':>16}")
    for name, times in results.items():
        p50, p95 = summary(times)
        print(f"{name:<24}{p50:>9.2f}{p95:>9.2f}{p50 / base_p50:>16.2f}")


if __name__ == "__main__":
    main()
