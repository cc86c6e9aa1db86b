"""The batch-scoring pipeline: wiring only."""

from kfp import dsl

from mlrig.components.config.slices import task_arguments
from mlrig.components.score.component import batch_score
from mlrig.pipelines.cluster import on_cluster


@dsl.pipeline(name="mlrig-batch-scoring", description="score a file of events with the champion")
def scoring_pipeline(
    root: str,
    dataset: dict,
    model: dict,
    stores: dict,
    workdir: str,
    input_path: str,
    keep: str = "[]",
) -> None:
    parts = {"dataset": dataset, "model": model, "stores": stores, "workdir": workdir}
    task = batch_score(**task_arguments("score", root, parts), input_path=input_path, keep=keep)
    task.set_retry(2).set_caching_options(False)
    task.set_cpu_request("500m").set_memory_request("2G").set_cpu_limit("2").set_memory_limit("8G")
    on_cluster(task)
