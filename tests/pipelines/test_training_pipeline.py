"""The training pipeline compiles to KFP IR with retries and caching set where they belong."""

from __future__ import annotations

import yaml
from kfp import compiler

from mlrig.pipelines.training import training_pipeline


def test_pipeline_compiles_with_retries_and_caching(tmp_path):
    out = tmp_path / "training.yaml"
    compiler.Compiler().compile(training_pipeline, str(out))
    spec = yaml.safe_load(out.read_text())
    tasks = spec["root"]["dag"]["tasks"]
    assert list(tasks) == [
        "evaluate", "features", "ingest", "materialize", "register", "train", "validate"
    ]  # fmt: skip
    assert tasks["ingest"]["retryPolicy"]["maxRetryCount"] == 2
    assert tasks["ingest"]["cachingOptions"] == {}
    assert tasks["materialize"]["dependentTasks"] == ["register"]
    assert spec["root"]["inputDefinitions"]["parameters"]["config"]["parameterType"] == "STRING"
