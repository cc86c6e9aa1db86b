"""The cluster commands: the cluster guide lists exactly what `mlrig cluster up` runs, and missing tools or
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


def test_the_cluster_guide_lists_exactly_the_cluster_up_steps():
    steps = _mlrig("cluster", "up", "--dry-run").stdout.strip().splitlines()
    assert len(steps) == 11 and steps[0].startswith(
        "1. create the kind cluster: kind create cluster"
    )
    guide = (REPO / "docs/how-to/cluster.md").read_text()
    block = guide.split("```")[1].strip().splitlines()
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


class _FakeApps:
    """An in-memory serving Deployment: pods become ready unless they serve a broken version."""

    def __init__(self, version: str | None, broken: str) -> None:
        from types import SimpleNamespace as NS

        self.broken = broken
        self.dep = NS(
            metadata=NS(generation=1),
            spec=NS(replicas=1, template=NS(metadata=NS(annotations={}))),
            status=NS(observed_generation=1, updated_replicas=1, available_replicas=1, replicas=1),
        )
        if version:
            self.dep.spec.template.metadata.annotations["mlrig.io/champion-version"] = version

    def read_namespaced_deployment(self, name, namespace):
        version = self.dep.spec.template.metadata.annotations.get("mlrig.io/champion-version")
        self.dep.status.available_replicas = 0 if version == self.broken else 1
        return self.dep

    def patch_namespaced_deployment(self, name, namespace, patch):
        annotations = patch["spec"]["template"]["metadata"]["annotations"]
        for key, value in annotations.items():
            if value is None:
                self.dep.spec.template.metadata.annotations.pop(key, None)
            else:
                self.dep.spec.template.metadata.annotations[key] = value


def test_deploy_pins_the_version_and_rollback_returns_to_the_previous_one(monkeypatch):
    import pytest

    from mlrig.cluster import k8s
    from mlrig.cluster.cluster_ops import ClusterError

    monkeypatch.setattr(k8s.time, "sleep", lambda s: None)
    apps = _FakeApps(version="1", broken="3")
    assert k8s.deploy(apps, "2", lambda s: None, timeout_s=1) == "rolled out"
    pinned = apps.dep.spec.template.metadata.annotations["mlrig.io/champion-version"]
    assert pinned == "2"  # the pods read it as MLRIG_MODEL_VERSION
    with pytest.raises(ClusterError, match="rolled back"):
        k8s.deploy(apps, "3", lambda s: None, timeout_s=0.05)
    assert apps.dep.spec.template.metadata.annotations["mlrig.io/champion-version"] == "2"


def test_serving_pods_read_the_pinned_version_from_their_annotation():
    import yaml

    docs = list(yaml.safe_load_all((REPO / "manifests/base/serving.yaml").read_text()))
    dep = next(d for d in docs if d and d.get("kind") == "Deployment")
    env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
    ref = env["MLRIG_MODEL_VERSION"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert ref == "metadata.annotations['mlrig.io/champion-version']"
