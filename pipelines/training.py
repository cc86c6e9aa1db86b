"""The training pipeline: wiring only; every stage's logic lives in mlrig.components."""

from kfp import dsl

from mlrig.components.eda.component import eda
from mlrig.components.evaluate.component import evaluate
from mlrig.components.features.component import features, materialize
from mlrig.components.ingest.component import ingest
from mlrig.components.register.component import register
from mlrig.components.train.component import train
from mlrig.components.validate.component import validate
from mlrig.pipelines.cluster import on_cluster


@dsl.pipeline(
    name="mlrig-training",
    description="ingest → validate → features → eda + train → evaluate → register → materialize",
)
def training_pipeline(config: str) -> None:
    # Sources and registries are outside the pipeline: those steps never reuse a cached result.
    raw = ingest(config=config).set_retry(2).set_caching_options(False)
    raw.set_cpu_request("250m").set_memory_request("2G").set_memory_limit("4G")
    checked = validate(config=config, raw=raw.outputs["raw"])
    checked.set_cpu_request("250m").set_memory_request("2G").set_memory_limit("4G")
    feats = features(config=config, validated=checked.outputs["validated"])
    feats.set_retry(2).set_caching_options(False)
    feats.set_cpu_request("1").set_memory_request("4G").set_memory_limit("8G")
    profiled = eda(config=config, training_set=feats.outputs["training_set"])
    profiled.set_cpu_request("500m").set_memory_request("2G").set_memory_limit("6G")
    fitted = train(config=config, training_set=feats.outputs["training_set"])
    fitted.set_caching_options(False)
    fitted.set_cpu_request("1").set_memory_request("4G").set_memory_limit("12G")
    scored = evaluate(
        config=config, model=fitted.outputs["model"], holdout=fitted.outputs["holdout"]
    )
    scored.set_cpu_request("1").set_memory_request("2G").set_memory_limit("6G")
    registered = register(
        config=config,
        model=fitted.outputs["model"],
        holdout=fitted.outputs["holdout"],
        evaluation=scored.outputs["evaluation"],
    )
    registered.set_retry(2).set_caching_options(False)
    registered.set_cpu_request("250m").set_memory_request("1G").set_memory_limit("4G")
    published = materialize(config=config, champion_version=registered.output)
    published.set_retry(2).set_caching_options(False)
    published.set_cpu_request("500m").set_memory_request("2G").set_memory_limit("4G")
    for task in (raw, checked, feats, profiled, fitted, scored, registered, published):
        on_cluster(task)
