"""The warm server: kfp.local's tasks forked from a process that imported the stages' libraries
once, each with its own environment, output and exit status."""

import importlib.util

import pytest
from kfp import local

from mlrig.components.integrations.feast import unchecked
from mlrig.components.integrations.mlflow import tracking
from mlrig.pipelines.registry import PIPELINES
from mlrig.pipelines.warm import warm_stages
from mlrig.pipelines.warm.server import (
    FEAST,
    MLFLOW,
    MLFLOW_PACKAGES,
    PIPELINE_STAGES,
    STAGE_IMPORTS,
    preload_steps,
)
from tests.pipelines.warm.tasks import (
    PRELOADED,
    counts_frozen,
    one_failing,
    one_killed,
    sees_env,
    sees_loaded,
    wait_until_serving,
)


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline_root")
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root),
               raise_on_error=True)  # fmt: skip
    with warm_stages() as script:
        assert script is not None
        wait_until_serving(script)
        yield script


def test_a_task_runs_with_the_servers_libraries_already_imported(warm):
    assert sees_loaded(module=PRELOADED).output is True


def test_a_tasks_garbage_collections_leave_the_servers_objects_alone(warm):
    assert counts_frozen().output > 100_000


def test_a_task_gets_the_environment_it_was_started_with_not_the_servers(warm, monkeypatch):
    monkeypatch.setenv("MLRIG_TEST_WARM_VALUE", "set after the server started")
    assert sees_env(name="MLRIG_TEST_WARM_VALUE").output == "set after the server started"


def test_a_failing_task_fails_the_run_and_shows_its_error(warm, capfd):
    with pytest.raises(RuntimeError):
        one_failing(message="the task's own error")
    assert "ValueError: the task's own error" in capfd.readouterr().out


def test_a_task_killed_by_a_signal_fails_the_run(warm):
    with pytest.raises(RuntimeError):
        one_killed()


def test_every_pipeline_has_its_stages_import_order():
    assert set(PIPELINE_STAGES) == set(PIPELINES)


def test_every_module_the_server_imports_exists():
    names = {n for stage in STAGE_IMPORTS.values() for n in stage} - {
        FEAST,
        MLFLOW,
        MLFLOW_PACKAGES,
    }
    names |= {*unchecked.FIRST_USE, *tracking.FIRST_USE}  # Feast's and MLflow's own steps
    assert [n for n in sorted(names) if importlib.util.find_spec(n) is None] == []


def test_a_scoring_run_loads_only_what_scoring_imports_feast_and_mlflow_first():
    names = [name for name, _ in preload_steps("scoring")]
    assert names.index("feast") < names.index("mlflow") < names.index("mlrig.components.score.io")
    assert "optuna" not in names and "mlrig.components.train.core" not in names
    assert len(names) == len(set(names))


def test_feast_mlflow_and_scikit_learn_load_in_several_steps_so_a_task_waits_less():
    names = [name for name, _ in preload_steps("training")]
    assert names.index("feast") < names.index("ibis.backends.duckdb")
    assert names.index("scipy.stats") < names.index("sklearn.base") < names.index("skops.io")
    assert names.index("mlflow") < names.index("mlflow.sklearn")
    assert names.index("mlflow.sklearn") < names.index("mlflow's map of installed packages")
