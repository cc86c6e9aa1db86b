"""What a pipeline task needs on a cluster (kfp-kubernetes platform config; kfp.local ignores it):
the data volume, the database password as a file, and the labels the NetworkPolicies admit."""

from __future__ import annotations

from kfp import dsl, kubernetes

DATA_PVC = "mlrig-data"
DATA_PATH = "/data"
PG_SECRET = "mlrig-postgres"
PG_SECRET_PATH = "/run/secrets/postgres"
POD_LABELS = {
    "mlrig.io/pipeline": "true",
    "mlrig.io/db-client": "true",
    "mlrig.io/redis-client": "true",
    "mlrig.io/mlflow-client": "true",
}


def on_cluster(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """Mount the data PVC and the password Secret (read from its default path), label the pod."""
    kubernetes.mount_pvc(task, pvc_name=DATA_PVC, mount_path=DATA_PATH)
    kubernetes.use_secret_as_volume(task, secret_name=PG_SECRET, mount_path=PG_SECRET_PATH)
    for key, value in POD_LABELS.items():
        kubernetes.add_pod_label(task, key, value)
    return task
