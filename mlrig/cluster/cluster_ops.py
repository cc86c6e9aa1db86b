"""`mlrig cluster up/down/status`: the same commands a user would type, as data, run in order.

`mlrig cluster up --dry-run` prints them; docs/how-to/cluster.md lists them (a test compares).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlrig.cluster.images import DEFAULT_TAG, build_command, docker_env

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
    stdin: str | None = None  # given on standard input, never shown (a Secret's values)
    stdin_note: str = ""  # what is shown in its place

    def shown(self) -> str:
        text = " ".join(self.argv)
        if self.stdin_note:
            text += f" < {self.stdin_note}"
        return f"{text} | {' '.join(self.pipe_to)}" if self.pipe_to else text


# Which Secret holds which generated password: the superuser's and the roles' only where PostgreSQL
# creates them, MLflow's only in MLflow, and what every feature reader needs (the Feast registry
# role and Redis) in mlrig-postgres, the Secret the pipeline pods mount.
SECRETS = {
    "mlrig-db-admin": {
        "password": "admin",
        "mlflow-password": "mlflow",
        "feast-password": "feast",
        "predictions-password": "predictions",
    },
    "mlrig-mlflow-db": {
        "password": "mlflow",
        "admin-password": "mlflow-auth",
        "serving-password": "mlflow-serving",
        "flask-secret-key": "mlflow-flask",
    },
    "mlrig-postgres": {
        "password": "feast",
        "redis-password": "redis",
        "mlflow-auth-password": "mlflow-auth",
    },
    # the prediction log's role: only the serving pods and the monitor job mount it
    "mlrig-predictions": {"password": "predictions"},
    # MLflow's read-only `serving` user (integrations/mlflow/tracking_users.py): serving pods only
    "mlrig-mlflow-serving": {"password": "mlflow-serving"},
}


def secret_manifest(passwords: dict[str, str]) -> str:
    """The Secrets as YAML for `kubectl create -f -` (create, not apply: apply would copy the
    values into the last-applied-configuration annotation).

    passwords: admin, mlflow, feast, predictions, redis, mlflow-auth, mlflow-flask,
    mlflow-serving -> value."""
    docs = []
    for name, keys in SECRETS.items():
        data = "".join(f"  {key}: {json.dumps(passwords[who])}\n" for key, who in keys.items())
        docs.append(
            f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n"
            f"  namespace: {NAMESPACE}\ntype: Opaque\nstringData:\n{data}"
        )
    return "---\n".join(docs)


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


# every reader of a password Secret, each given its own password
READERS = ("admin", "mlflow", "feast", "predictions", "redis", "mlflow-auth", "mlflow-flask",
           "mlflow-serving")  # fmt: skip


def _provider_steps(provider: str, manifests: Path) -> tuple[Step, Step]:
    """Creating the cluster and loading the image into it, for kind or minikube."""
    if provider == "kind":
        kind_config = str(manifests / "kind/cluster.yaml")
        return (
            Step(
                "create the kind cluster",
                ["kind", "create", "cluster", "--name", CLUSTER, "--config", kind_config],
                skip_if=["kind", "get", "kubeconfig", "--name", CLUSTER],
            ),
            Step(
                "load the image into the cluster",
                ["kind", "load", "docker-image", DEFAULT_TAG, "--name", CLUSTER],
            ),
        )
    return (
        Step(
            "start minikube",
            ["minikube", "start", "-p", CLUSTER, "--cpus", "2", "--memory", "8g"],
            skip_if=["minikube", "status", "-p", CLUSTER],
        ),
        Step(
            "load the image into the cluster",
            ["minikube", "image", "load", DEFAULT_TAG, "-p", CLUSTER],
        ),
    )


def up_steps(provider: str, repo: Path, config: Path, base_image: str) -> list[Step]:
    """Every command `mlrig cluster up` runs, in order."""
    manifests = repo / "manifests"
    create, load = _provider_steps(provider, manifests)
    passwords = {who: secrets.token_urlsafe(24) for who in READERS}
    publish = ["kubectl", "-n", NAMESPACE, "create", "configmap", "mlrig-config",
               f"--from-file=mlrig.yaml={config}", "--dry-run=client", "-o", "yaml"]  # fmt: skip
    return [
        create,
        Step("build the mlrig image", build_command(repo, DEFAULT_TAG, base_image)),
        load,
        Step(
            "create the namespace (Pod Security: restricted)",
            ["kubectl", "apply", "-f", str(manifests / "base/namespace.yaml")],
        ),
        Step(
            "create the password Secrets, one per reader (generated, given on stdin, never on a "
            "command line or disk)",
            ["kubectl", "-n", NAMESPACE, "create", "-f", "-"],
            skip_if=["kubectl", "-n", NAMESPACE, "get", "secret", "mlrig-postgres"],
            stdin=secret_manifest(passwords),
            stdin_note="<generated Secrets>",
        ),
        Step(
            "publish the project config as the ConfigMap mlrig-config",
            publish,
            pipe_to=["kubectl", "apply", "-f", "-"],
        ),
        Step(
            "apply the overlay", ["kubectl", "apply", "-k", str(manifests / "overlays" / provider)]
        ),
        *[
            Step(
                f"wait for {target}",
                ["kubectl", "-n", NAMESPACE, "rollout", "status", target, "--timeout=600s"],
            )
            for target in INFRA_ROLLOUTS
        ],
    ]


def down_steps(provider: str) -> list[Step]:
    if provider == "kind":
        return [Step("delete the kind cluster", ["kind", "delete", "cluster", "--name", CLUSTER])]
    return [Step("delete the minikube profile", ["minikube", "delete", "-p", CLUSTER])]


def run_step(step: Step) -> str:
    """Run one step (skipping it when its skip_if check succeeds); return 'done' or 'skipped'."""
    env = docker_env()
    if step.skip_if and subprocess.run(step.skip_if, env=env, capture_output=True).returncode == 0:
        return "skipped"
    first = subprocess.run(step.argv, input=step.stdin, env=env, capture_output=True, text=True)
    if first.returncode != 0:
        raise ClusterError(f"{step.title} failed: {step.shown()}\n{first.stderr[-2000:]}")
    if step.pipe_to:
        second = subprocess.run(
            step.pipe_to, input=first.stdout, env=env, capture_output=True, text=True
        )
        if second.returncode != 0:
            raise ClusterError(f"{step.title} failed: {step.shown()}\n{second.stderr[-2000:]}")
    return "done"
