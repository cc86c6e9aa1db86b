"""The training pipeline: wiring only; every stage's logic lives in mlrig.components."""

from kfp import dsl

from mlrig.components.config.slices import task_arguments
from mlrig.components.eda.component import eda
from mlrig.components.evaluate.component import evaluate
from mlrig.components.features.component import features as features_task
from mlrig.components.features.component import materialize
from mlrig.components.ingest.component import ingest
from mlrig.components.register.component import register
from mlrig.components.train.component import train
from mlrig.components.validate.component import validate
from mlrig.pipelines.cluster import on_cluster, sized


@dsl.pipeline(
    name="mlrig-training",
    description="ingest → validate → features → eda + train → evaluate → register → materialize",
)
def training_pipeline(
    root: str,
    dataset: dict,
    features: dict,
    model: dict,
    profile: str,
    project: str,
    serving: dict,
    stores: dict,
    workdir: str,
) -> None:
    # each task is given the config sections its stage reads (components/config/slices.py)
    parts = {
        "dataset": dataset,
        "features": features,
        "model": model,
        "profile": profile,
        "project": project,
        "serving": serving,
        "stores": stores,
        "workdir": workdir,
    }

    def given(stage: str) -> dict:
        return task_arguments(stage, root, parts)

    # Sources and registries are outside the pipeline: those steps never reuse a cached result.
    raw = ingest(**given("ingest")).set_retry(2).set_caching_options(False)
    sized(raw, cpu="250m", memory="2G", memory_limit="4G")
    checked = validate(**given("validate"), raw=raw.outputs["raw"])
    sized(checked, cpu="250m", memory="2G", memory_limit="4G")
    feats = features_task(**given("features"), validated=checked.outputs["validated"])
    feats.set_retry(2).set_caching_options(False)
    sized(feats, cpu="1", memory="4G", memory_limit="8G")
    profiled = eda(**given("eda"), training_set=feats.outputs["training_set"])
    sized(profiled, cpu="500m", memory="2G", memory_limit="6G")
    fitted = train(**given("train"), training_set=feats.outputs["training_set"])
    fitted.set_caching_options(False)
    sized(fitted, cpu="1", memory="4G", memory_limit="12G")
    scored = evaluate(
        **given("evaluate"), model=fitted.outputs["model"], holdout=fitted.outputs["holdout"]
    )
    sized(scored, cpu="1", memory="2G", memory_limit="6G")
    registered = register(
        **given("register"),
        model=fitted.outputs["model"],
        holdout=fitted.outputs["holdout"],
        evaluation=scored.outputs["evaluation"],
    )
    registered.set_retry(2).set_caching_options(False)
    sized(registered, cpu="250m", memory="1G", memory_limit="4G")
    published = materialize(**given("materialize"), champion_version=registered.output)
    published.set_retry(2).set_caching_options(False)
    sized(published, cpu="500m", memory="2G", memory_limit="4G")
    for task in (raw, checked, feats, profiled, fitted, scored, registered, published):
        on_cluster(task)
