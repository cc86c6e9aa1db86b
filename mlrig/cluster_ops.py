"""`mlrig cluster up/down/status`: the same commands a user would type, as data, run in order.

`mlrig cluster up --dry-run` prints them; the README's "Run on kind" section lists them.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from mlrig.images import DEFAULT_TAG, build_command, docker_env

CLUSTER = "mlrig"
NAMESPACE = "mlrig"
INFRA_ROLLOUTS = [
    "statefulset/postgres",
    "deployment/redis",
    "deployment/mlflow",
    "deployment/feast",
]
SERVING = "deployment/mlrig-serving"


class ClusterError(RuntimeError):
    """A cluster step cannot run or failed; the message says which and why."""


@dataclass
class Step:
    title: str
    argv: list[str]
    pipe_to: list[str] | None = None
    skip_if: list[str] | None = None  # a command whose success means the step is already done
    secret_args: dict[int, str] = field(default_factory=dict)  # argv index -> real value

    def shown(self) -> str:
        text = " ".join(self.argv)
        return f"{text} | {' '.join(self.pipe_to)}" if self.pipe_to else text


def required_tools(provider: str) -> list[str]:
    return [provider, "kubectl", "docker"]


def check_tools(provider: str) -> None:
    hints = {
        "kind": "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
        "minikube": "install minikube: https://minikube.sigs.k8s.io/docs/start/",
        "kubectl": "install kubectl: https://kubernetes.io/docs/tasks/tools/",
        "docker": "install Docker (Debian: apt-get install -y docker.io) and start it",
    }
    path = docker_env()["PATH"]
    missing = [t for t in required_tools(provider) if not shutil.which(t, path=path)]
    if missing:
        raise ClusterError("missing: " + "; ".join(hints[t] for t in missing))


def up_steps(provider: str, repo: Path, config: Path, base_image: str) -> list[Step]:
    """Every command `mlrig cluster up` runs, in order."""
    manifests = repo / "manifests"
    if provider == "kind":
        create = Step("create the kind cluster",
                      ["kind", "create", "cluster", "--name", CLUSTER, "--config",
                       str(manifests / "kind/cluster.yaml")],
                      skip_if=["kind", "get", "kubeconfig", "--name", CLUSTER])  # fmt: skip
        load = Step("load the image into the cluster",
                    ["kind", "load", "docker-image", DEFAULT_TAG, "--name", CLUSTER])  # fmt: skip
    else:
        create = Step("start minikube",
                      ["minikube", "start", "-p", CLUSTER, "--cpus", "2", "--memory", "8g"],
                      skip_if=["minikube", "status", "-p", CLUSTER])  # fmt: skip
        load = Step("load the image into the cluster",
                    ["minikube", "image", "load", DEFAULT_TAG, "-p", CLUSTER])  # fmt: skip
    password = secrets.token_urlsafe(24)
    return [
        create,
        Step("build the mlrig image", build_command(repo, DEFAULT_TAG, base_image)),
        load,
        Step("create the namespace (Pod Security: restricted)",
             ["kubectl", "apply", "-f", str(manifests / "base/namespace.yaml")]),
        Step("create the PostgreSQL password Secret (generated, never written to disk)",
             ["kubectl", "-n", NAMESPACE, "create", "secret", "generic", "mlrig-postgres",
              "--from-literal=password=<generated>"],
             skip_if=["kubectl", "-n", NAMESPACE, "get", "secret", "mlrig-postgres"],
             secret_args={6: f"--from-literal=password={password}"}),
        Step("publish the project config as the ConfigMap mlrig-config",
             ["kubectl", "-n", NAMESPACE, "create", "configmap", "mlrig-config",
              f"--from-file=mlrig.yaml={config}", "--dry-run=client", "-o", "yaml"],
             pipe_to=["kubectl", "apply", "-f", "-"]),
        Step("apply the overlay",
             ["kubectl", "apply", "-k", str(manifests / "overlays" / provider)]),
        *[
            Step(f"wait for {target}",
                 ["kubectl", "-n", NAMESPACE, "rollout", "status", target, "--timeout=600s"])
            for target in INFRA_ROLLOUTS
        ],
    ]  # fmt: skip


def down_steps(provider: str) -> list[Step]:
    if provider == "kind":
        return [Step("delete the kind cluster", ["kind", "delete", "cluster", "--name", CLUSTER])]
    return [Step("delete the minikube profile", ["minikube", "delete", "-p", CLUSTER])]


def run_step(step: Step) -> str:
    """Run one step (skipping it when its skip_if check succeeds); return 'done' or 'skipped'."""
    env = docker_env()
    if step.skip_if and subprocess.run(step.skip_if, env=env, capture_output=True).returncode == 0:
        return "skipped"
    argv = list(step.argv)
    for index, value in step.secret_args.items():
        argv[index] = value
    first = subprocess.run(argv, env=env, capture_output=True, text=True)
    if first.returncode != 0:
        raise ClusterError(f"{step.title} failed: {step.shown()}\n{first.stderr[-2000:]}")
    if step.pipe_to:
        second = subprocess.run(
            step.pipe_to, input=first.stdout, env=env, capture_output=True, text=True
        )
        if second.returncode != 0:
            raise ClusterError(f"{step.title} failed: {step.shown()}\n{second.stderr[-2000:]}")
    return "done"
