"""Run the training stages in process (the same functions the KFP components call), for tests
that need a trained project quickly."""

from __future__ import annotations

from pathlib import Path

from mlrig.components.config.loader import LoadedConfig
from mlrig.components.eda.io import run as eda
from mlrig.components.evaluate.io import run as evaluate
from mlrig.components.features.io import publish
from mlrig.components.features.io import run as features
from mlrig.components.ingest.io import run as ingest
from mlrig.components.register.io import run as register
from mlrig.components.train.io import run as train
from mlrig.components.validate.io import run as validate


def run_stages(loaded: LoadedConfig, out: Path, eda_report: bool = False) -> dict:
    """ingest → validate → features (→ eda) → train → evaluate → register → materialize."""
    js = loaded.to_json()
    ingest(js, str(out / "raw"))
    validate(js, str(out / "raw"), str(out / "val"), str(out / "q"))
    features(js, str(out / "val"), str(out / "ts"))
    if eda_report:
        eda(js, str(out / "ts"), str(out / "eda.html"))
    train(js, str(out / "ts"), str(out / "model"), str(out / "hold"))
    evaluate(js, str(out / "model"), str(out / "hold"), str(out / "eval"))
    result = register(js, str(out / "model"), str(out / "hold"), str(out / "eval"))
    publish(js, result["champion_version"] or 0)
    return result
