"""The training pipeline: wiring only; every stage's logic lives in mlrig.components."""

from kfp import dsl

from mlrig.components.evaluate.component import evaluate
from mlrig.components.features.component import features, materialize
from mlrig.components.ingest.component import ingest
from mlrig.components.register.component import register
from mlrig.components.train.component import train
from mlrig.components.validate.component import validate


@dsl.pipeline(
    name="mlrig-training",
    description="ingest → validate → features → train → evaluate → register → materialize",
)
def training_pipeline(config: str) -> None:
    raw = ingest(config=config).set_retry(2).set_caching_options(False)
    checked = validate(config=config, raw=raw.outputs["raw"])
    feats = features(config=config, validated=checked.outputs["validated"]).set_retry(2)
    fitted = train(config=config, training_set=feats.outputs["training_set"])
    fitted.set_cpu_request("1").set_memory_request("4G").set_memory_limit("12G")
    scored = evaluate(
        config=config, model=fitted.outputs["model"], holdout=fitted.outputs["holdout"]
    )
    registered = (
        register(
            config=config,
            model=fitted.outputs["model"],
            holdout=fitted.outputs["holdout"],
            evaluation=scored.outputs["evaluation"],
        )
        .set_retry(2)
        .set_caching_options(False)
    )
    materialize(config=config, champion_version=registered.output).set_retry(2).set_caching_options(
        False
    )
