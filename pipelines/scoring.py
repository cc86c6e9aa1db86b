"""The batch-scoring pipelines: wiring only. `scoring` scores one file (or folder) in one task;
`scoring-parts` (a cluster's large batch) scores each part of a partitioned batch in its own
task, PARALLEL_PARTS at a time (KFP ParallelFor), and sums what they scored."""

from kfp import dsl

from mlrig.components.config.slices import task_arguments
from mlrig.components.score.component import batch_score, scored_total
from mlrig.pipelines.cluster import on_cluster, sized

PARALLEL_PARTS = 4  # score tasks at once: each takes up to 2 CPUs and 8 GB (its chunks bound it)


def _scoring_task(parts: dict, root: str, input_path: str, keep: str) -> dsl.PipelineTask:
    task = batch_score(**task_arguments("score", root, parts), input_path=input_path, keep=keep)
    task.set_retry(2).set_caching_options(False)
    sized(task, cpu="500m", memory="2G", memory_limit="8G", cpu_limit="2")
    return on_cluster(task)


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
    _scoring_task(parts, root, input_path, keep)


@dsl.pipeline(
    name="mlrig-batch-scoring-parts",
    description="score each part of a partitioned batch in its own task, in parallel",
)
def scoring_parts_pipeline(
    root: str,
    dataset: dict,
    model: dict,
    stores: dict,
    workdir: str,
    input_parts: list,
    keep: str = "[]",
) -> None:
    parts = {"dataset": dataset, "model": model, "stores": stores, "workdir": workdir}
    with dsl.ParallelFor(input_parts, parallelism=PARALLEL_PARTS) as part:
        scored = _scoring_task(parts, root, part, keep)
    total = scored_total(counts=dsl.Collected(scored.outputs["Output"]))
    sized(total.set_caching_options(False), cpu="100m", memory="256M")
    on_cluster(total)
