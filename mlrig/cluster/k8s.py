"""The kubernetes client side: is a cluster reachable, what is its state, roll the serving
Deployment to the current champion and roll back when the new pods do not get ready."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mlrig.cluster.cluster_ops import NAMESPACE, ClusterError

SERVING_DEPLOYMENT = "mlrig-serving"
CHAMPION_ANNOTATION = "mlrig.io/champion-version"


def api_clients() -> tuple[Any, Any]:
    """(CoreV1Api, AppsV1Api) for the current kubeconfig context, or ClusterError."""
    from kubernetes import client, config

    try:
        config.load_kube_config()
    except Exception:
        try:
            config.load_incluster_config()
        except Exception as exc:
            raise ClusterError(f"no Kubernetes cluster configured ({exc})") from None
    core = client.CoreV1Api()
    try:
        core.list_namespace(limit=1, _request_timeout=5)
    except Exception as exc:
        raise ClusterError(f"the cluster does not answer: {type(exc).__name__}: {exc}") from None
    return core, client.AppsV1Api()


def status(apps: Any, namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """Ready/desired replicas of every Deployment and StatefulSet in the namespace."""
    rows = []
    for kind, items in (
        ("deployment", apps.list_namespaced_deployment(namespace).items),
        ("statefulset", apps.list_namespaced_stateful_set(namespace).items),
    ):
        for item in items:
            rows.append(
                {
                    "name": f"{kind}/{item.metadata.name}",
                    "ready": item.status.ready_replicas or 0,
                    "desired": item.spec.replicas or 0,
                }
            )
    return rows


def _rolled_out(dep: Any) -> bool:
    st, spec = dep.status, dep.spec
    return (
        (st.observed_generation or 0) >= dep.metadata.generation
        and (st.updated_replicas or 0) == spec.replicas
        and (st.available_replicas or 0) == spec.replicas
        and (st.replicas or 0) == spec.replicas
    )


def wait_rollout(
    apps: Any, name: str, timeout_s: float, on_tick: Callable[[str], None], namespace: str
) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        dep = apps.read_namespaced_deployment(name, namespace)
        st = dep.status
        on_tick(
            f"{st.updated_replicas or 0}/{dep.spec.replicas} updated, "
            f"{st.available_replicas or 0} available"
        )
        if _rolled_out(dep):
            return True
        time.sleep(3)
    return False


def deploy(
    apps: Any,
    champion: str,
    on_tick: Callable[[str], None],
    timeout_s: float = 600,
    namespace: str = NAMESPACE,
) -> str:
    """Restart the serving pods onto a model version (pods read the annotation as
    MLRIG_MODEL_VERSION and pin it); on failure restore the previous annotation, so the pods
    serve the previous version again."""
    previous = apps.read_namespaced_deployment(SERVING_DEPLOYMENT, namespace)
    old_annotations = dict(previous.spec.template.metadata.annotations or {})
    patch = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        CHAMPION_ANNOTATION: champion,
                        "kubectl.kubernetes.io/restartedAt": datetime.now(UTC).isoformat(),
                    }
                }
            }
        }
    }
    apps.patch_namespaced_deployment(SERVING_DEPLOYMENT, namespace, patch)
    if wait_rollout(apps, SERVING_DEPLOYMENT, timeout_s, on_tick, namespace):
        return "rolled out"
    restore = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        CHAMPION_ANNOTATION: old_annotations.get(CHAMPION_ANNOTATION),
                        "kubectl.kubernetes.io/restartedAt": old_annotations.get(
                            "kubectl.kubernetes.io/restartedAt"
                        ),
                    }
                }
            }
        }
    }
    apps.patch_namespaced_deployment(SERVING_DEPLOYMENT, namespace, restore)
    wait_rollout(apps, SERVING_DEPLOYMENT, timeout_s, on_tick, namespace)
    raise ClusterError(f"{SERVING_DEPLOYMENT} did not become ready on {champion}; rolled back")
