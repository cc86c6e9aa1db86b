"""Cluster tier: against a live kind/minikube cluster brought up by `mlrig cluster up`.

Skips with the reason when no cluster answers (these machines cannot run one)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mlrig.cluster import k8s
from mlrig.cluster.cluster_ops import INFRA_ROLLOUTS, NAMESPACE, ClusterError

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def apps():
    try:
        _, apps_api = k8s.api_clients()
    except ClusterError as exc:
        pytest.skip(f"no reachable Kubernetes cluster: {exc}")
    return apps_api


def test_infrastructure_is_rolled_out(apps):
    rows = {r["name"]: r for r in k8s.status(apps)}
    for target in INFRA_ROLLOUTS:
        assert target in rows, f"{target} missing: run mlrig cluster up"
        assert rows[target]["ready"] == rows[target]["desired"] > 0, target


def test_pipeline_runner_cannot_touch_secrets(apps):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    sa = f"system:serviceaccount:{NAMESPACE}:mlrig-pipeline-runner"
    for verb in ("get", "list", "create"):
        answer = subprocess.run(
            ["kubectl", "auth", "can-i", verb, "secrets", "-n", NAMESPACE, "--as", sa],
            capture_output=True, text=True,
        )  # fmt: skip
        assert answer.stdout.strip() == "no", verb


def test_deploy_rolls_serving_onto_the_champion(apps):
    rows = {r["name"]: r for r in k8s.status(apps)}
    serving = rows.get("deployment/mlrig-serving")
    if not serving or serving["ready"] == 0:
        pytest.skip("mlrig-serving has no ready pods yet: submit the training pipeline first")
    assert k8s.deploy(apps, "champion", on_tick=lambda _s: None, timeout_s=600) == "rolled out"
