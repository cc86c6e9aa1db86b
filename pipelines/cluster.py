"""What a pipeline task needs on a cluster (kfp-kubernetes platform config; kfp.local ignores it):
the data volume, the database password as a file, the labels the NetworkPolicies admit, and the
Spark Connect address of the spark overlay (an optional ConfigMap: absent, nothing is set)."""

from __future__ import annotations

from kfp import dsl, kubernetes
from kfp.dsl import structures

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


def sized(
    task: dsl.PipelineTask,
    cpu: str,
    memory: str,
    memory_limit: str | None = None,
    cpu_limit: str | None = None,
) -> dsl.PipelineTask:
    """The task's CPU and memory requests and limits, checked and converted by kfp's own checks,
    as its set_cpu_request & co. would set them, but without their inspect.stack(): each of those
    calls read the source file of every frame on the stack (to name itself in an error), 25-50 ms
    inside the import that defines a pipeline, about 0.65 s of every run's start."""
    if task.container_spec is None:
        raise ValueError(f"task {task.name!r}: only a single-step component takes resources")

    cpu_check = task._validate_cpu_request_limit
    memory_check = task._validate_memory_request_limit
    task.container_spec.resources = structures.ResourceSpec(
        cpu_request=cpu_check(cpu),
        cpu_limit=cpu_check(cpu_limit) if cpu_limit else None,
        memory_request=memory_check(memory),
        memory_limit=memory_check(memory_limit) if memory_limit else None,
    )
    return task


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
