"""The cluster commands: the README lists exactly what `mlrig cluster up` runs, and missing tools or
clusters give clear messages instead of tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def _mlrig(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlrig.cli", *args],
        cwd=REPO, capture_output=True, text=True, env=env or dict(os.environ), timeout=120,
    )  # fmt: skip


def test_readme_run_on_kind_lists_exactly_the_cluster_up_steps():
    steps = _mlrig("cluster", "up", "--dry-run").stdout.strip().splitlines()
    assert len(steps) == 11 and steps[0].startswith(
        "1. create the kind cluster: kind create cluster"
    )
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Run on kind") :]
    block = section.split("```")[1].strip().splitlines()
    assert block == steps


def test_minikube_steps_use_minikube():
    steps = _mlrig("cluster", "up", "--minikube", "--dry-run").stdout
    assert "minikube start -p mlrig" in steps and "minikube image load mlrig:0.1.0" in steps
    assert "kubectl apply -k manifests/overlays/minikube" in steps


def test_missing_kind_is_named_not_a_traceback():
    env = {**os.environ, "PATH": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-m", "mlrig.cli", "cluster", "up"],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "install kind" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_status_without_a_cluster_is_a_clear_error(tmp_path):
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "none")}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    result = _mlrig("cluster", "status", env=env)
    assert result.returncode == 1 and "cluster" in result.stdout.lower()
    assert "Traceback" not in result.stdout + result.stderr


def test_submit_to_an_unreachable_endpoint_is_a_clear_error():
    result = _mlrig("pipeline", "runs", "--host", "http://127.0.0.1:9")
    assert result.returncode == 1 and "no KFP API at http://127.0.0.1:9" in result.stdout
