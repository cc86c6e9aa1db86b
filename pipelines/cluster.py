"""What a pipeline task needs on a cluster (kfp-kubernetes platform config; kfp.local ignores it):
the data volume, the database password as a file, the labels the NetworkPolicies admit, and the
Spark Connect address of the spark overlay (an optional ConfigMap: absent, nothing is set)."""

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
    "mlrig.io/spark-client": "true",  # admitted to Spark Connect where the spark overlay runs
}
SPARK_CONFIG = "mlrig-spark"  # manifests/overlays/spark: remote -> MLRIG_SPARK_REMOTE


def on_cluster(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """Mount the data PVC and the password Secret (read from its default path), label the pod."""
    kubernetes.mount_pvc(task, pvc_name=DATA_PVC, mount_path=DATA_PATH)
    kubernetes.use_secret_as_volume(task, secret_name=PG_SECRET, mount_path=PG_SECRET_PATH)
    for key, value in POD_LABELS.items():
        kubernetes.add_pod_label(task, key, value)
    kubernetes.use_config_map_as_env(
        task, SPARK_CONFIG, {"remote": "MLRIG_SPARK_REMOTE"}, optional=True
    )
    return task
