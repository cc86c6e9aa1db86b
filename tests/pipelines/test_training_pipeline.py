"""Compiled pipelines: golden files, retries, caching, resources and the cluster platform spec.

Regenerate the golden files after a deliberate change: mlrig pipeline compile --out tests/pipelines/golden
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kfp.pipeline_spec import pipeline_spec_pb2

from mlrig.cluster.kfp_ops import PIPELINE_NAMES, compile_pipeline

GOLDEN = Path(__file__).parent / "golden"


def _docs(path: Path) -> list[dict]:
    return list(yaml.safe_load_all(path.read_text()))


def _normalized(path: Path) -> list[dict]:
    docs = _docs(path)
    docs[0].pop("sdkVersion", None)
    return docs


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("compiled")
    return {name: compile_pipeline(name, out) for name in PIPELINE_NAMES}


@pytest.mark.parametrize("name", PIPELINE_NAMES)
def test_compiled_pipeline_matches_its_golden_file(compiled, name, monkeypatch):
    assert _normalized(compiled[name]) == _normalized(GOLDEN / f"{name}.yaml"), (
        "compiled pipeline changed; if intended: mlrig pipeline compile --out tests/pipelines/golden"
    )


@pytest.mark.parametrize("name", PIPELINE_NAMES)
def test_compiled_pipeline_is_valid_kfp_ir(compiled, name):
    from google.protobuf import json_format

    spec = json_format.ParseDict(_docs(compiled[name])[0], pipeline_spec_pb2.PipelineSpec())
    assert spec.pipeline_info.name.startswith("mlrig-")
    parameters = spec.root.input_definitions.parameters
    assert parameters["root"].parameter_type == 3  # STRING
    assert parameters["dataset"].parameter_type == 6  # STRUCT: a typed section, not a JSON string
    assert "config" not in parameters and "monitor" not in parameters  # no stage reads `monitor`


def test_each_task_is_given_only_its_stages_config_sections(compiled):
    from mlrig.components.config.slices import STAGES, parameter

    spec, _ = _docs(compiled["training"])
    stage_of = {"features": "features", "materialize": "materialize"}
    for name, task in spec["root"]["dag"]["tasks"].items():
        given = set(task["inputs"]["parameters"]) - {"champion_version"}
        wanted = {"root", *(parameter(s) for s in STAGES[stage_of.get(name, name)])}
        assert given == wanted, name
        component = spec["components"][task["componentRef"]["name"]]
        types = component["inputDefinitions"]["parameters"]
        assert all(types[p]["parameterType"] == "STRUCT" for p in given if p.endswith("_section"))


def test_training_tasks_have_retries_caching_and_resources(compiled):
    spec, platform = _docs(compiled["training"])
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {
        "ingest", "validate", "features", "eda", "train", "evaluate", "register", "materialize"
    }  # fmt: skip
    for io_stage in ("ingest", "features", "register", "materialize"):
        assert tasks[io_stage]["retryPolicy"]["maxRetryCount"] == 2
        assert tasks[io_stage]["cachingOptions"] == {}  # caching off: external inputs
    assert tasks["validate"]["cachingOptions"] == {"enableCache": True}
    assert tasks["materialize"]["dependentTasks"] == ["register"]
    for name, executor in spec["deploymentSpec"]["executors"].items():
        container = executor["container"]
        assert container["image"] == "mlrig:0.1.0", name
        assert "pip install" not in " ".join(container["command"]), name
        assert container["resources"]["memoryRequest"] > 0, name
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert len(executors) == 8
    for executor in executors.values():
        assert executor["pvcMount"][0]["mountPath"] == "/data"
        assert executor["secretAsVolume"][0]["secretName"] == "mlrig-postgres"
        assert executor["podMetadata"]["labels"]["mlrig.io/pipeline"] == "true"
        spark = executor["configMapAsEnv"][0]  # the spark overlay's address, when it is there
        assert (spark["configMapName"], spark["optional"]) == ("mlrig-spark", True)
        assert spark["keyToEnv"] == [{"configMapKey": "remote", "envVar": "MLRIG_SPARK_REMOTE"}]


def test_the_parts_pipeline_scores_each_part_in_its_own_task_and_sums_them(compiled):
    spec, platform = _docs(compiled["scoring-parts"])
    loop = next(t for t in spec["root"]["dag"]["tasks"].values() if "parameterIterator" in t)
    assert loop["parameterIterator"]["items"]["inputParameter"] == "pipelinechannel--input_parts"
    assert loop["iteratorPolicy"]["parallelismLimit"] == 4
    inner = spec["components"][loop["componentRef"]["name"]]["dag"]["tasks"]
    assert set(inner) == {"batch-score"}
    assert inner["batch-score"]["retryPolicy"]["maxRetryCount"] == 2
    total = spec["root"]["dag"]["tasks"]["scored-total"]
    assert (
        total["inputs"]["parameters"]["counts"]["taskOutputParameter"]["producerTask"]
        == (loop["taskInfo"]["name"])
    )  # fan-in: every part's count
    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert parameters["input_parts"]["parameterType"] == "LIST"
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert all(e["pvcMount"][0]["mountPath"] == "/data" for e in executors.values())


def test_the_cli_knows_every_pipeline_without_importing_them():
    from mlrig.pipelines.registry import PIPELINES  # building them is slow: not at collection

    assert tuple(PIPELINES) == PIPELINE_NAMES
