from pathlib import Path

import pytest
import yaml

from mlrig.components.config.loader import ConfigError, load


def _write(folder: Path, mutate) -> Path:
    data = yaml.safe_load((Path(__file__).parents[3] / "mlrig.yaml").read_text())
    mutate(data)
    path = folder / "mlrig.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_demo_config_loads_with_paths_relative_to_its_folder(demo_dir):
    loaded = load(demo_dir / "mlrig.yaml")
    assert loaded.config.dataset.task == "classification"
    assert loaded.path(loaded.config.workdir) == demo_dir / ".mlrig"


def test_bad_type_names_the_key(tmp_path):
    path = _write(tmp_path, lambda d: d["model"].update(cv_folds="many"))
    with pytest.raises(ConfigError, match=r"model\.cv_folds"):
        load(path)


def test_unknown_key_is_rejected(tmp_path):
    path = _write(tmp_path, lambda d: d["serving"].update(prot=3000))
    with pytest.raises(ConfigError, match=r"serving\.prot: Extra inputs"):
        load(path)


def test_view_pointing_at_missing_table_is_named(tmp_path):
    path = _write(tmp_path, lambda d: d["features"]["views"][0].update(table="nope"))
    with pytest.raises(ConfigError, match=r"plane_attributes\.table: no table 'nope'"):
        load(path)


def test_request_field_cannot_be_forbidden(tmp_path):
    path = _write(tmp_path, lambda d: d["dataset"]["request_features"].append("dep_delay"))
    with pytest.raises(ConfigError, match="forbidden"):
        load(path)


def test_env_override_and_profile(demo_dir, monkeypatch):
    monkeypatch.setenv("MLRIG__MODEL__CV_FOLDS", "4")
    assert load(demo_dir / "mlrig.yaml").config.model.cv_folds == 4
    with pytest.raises(ConfigError, match="unknown profile 'prod'"):
        load(demo_dir / "mlrig.yaml", profile="prod")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["model"].update(primary_metric="rmse"), r"model\.primary_metric: 'rmse'"),
        (lambda d: d["model"]["candidates"].update(ridge={"alpha": [1.0]}),
         r"model\.candidates\.ridge: not a classification model"),
        (lambda d: d["dataset"].update(target="nope"), r"dataset\.target: 'nope'"),
        (lambda d: d["dataset"].update(event_timestamp="carrier"), r"dataset\.event_timestamp"),
        (lambda d: d["serving"].update(request_fields={"tailnum": "str", "sched_dep": "datetime"}),
         r"serving\.request_fields: must contain .*carrier"),
        (lambda d: d["features"]["entities"][0].update(join_key="plane_id"),
         r"features\.views\.plane_attributes\.entity: join key 'plane_id'"),
        (lambda d: d["dataset"].update(positive_label="yes", task="regression"),
         r"primary_metric|positive_label"),
        (lambda d: d["stores"].update(offline_memory="lots"),
         r"stores\.offline_memory: .*'lots' is neither a size such as 4GB nor a share"),
    ],
)  # fmt: skip
def test_cross_field_rules_fail_at_load_naming_the_key(tmp_path, mutate, message):
    with pytest.raises(ConfigError, match=message):
        load(_write(tmp_path, mutate))


def test_flat_table_declares_its_columns_once(tmp_path):
    def flat(d):
        d["features"] = {"entities": [], "views": []}
        d["dataset"].pop("request_features")
        d["dataset"]["forbidden_features"] += ["time_hour", "year", "month", "day"]

    cfg = load(_write(tmp_path, flat)).config
    from mlrig.components.contract.contract import RequestField, draft

    fields = draft(cfg, None).request_fields
    assert {"carrier", "origin", "dest", "distance", "sched_dep"} <= set(fields)
    assert "late" not in fields and "arr_delay" not in fields  # target and its inputs
    assert fields["carrier"] == RequestField(type="str", required=True)


SECRET = "s3cr3t-Pa55"


def test_secrets_stay_references_in_config_show_and_pipeline_arguments(demo_dir, monkeypatch):
    from typer.testing import CliRunner

    from mlrig.cli import app

    monkeypatch.setenv("MLRIG_PG_PASSWORD", SECRET)
    data = yaml.safe_load((demo_dir / "mlrig.yaml").read_text())
    uri = "postgresql://mlflow:literal-pw@db:5432/mlflow"
    data["profiles"]["cluster"]["stores"]["mlflow_tracking_uri"] = uri
    (demo_dir / "mlrig.yaml").write_text(yaml.safe_dump(data))
    loaded = load(demo_dir / "mlrig.yaml", profile="cluster")
    assert "${MLRIG_PG_PASSWORD}" in loaded.config.stores.feast_registry
    assert SECRET not in loaded.to_json()  # what `mlrig pipeline submit` passes to KFP
    shown = CliRunner().invoke(app, ["config", "show", "-c", str(demo_dir / "mlrig.yaml"),
                                     "-p", "cluster"]).output  # fmt: skip
    assert SECRET not in shown and "literal-pw" not in shown and "mlflow:***@db" in shown
    from mlrig.components.config import env

    assert SECRET in env.resolve(loaded.config.stores.feast_registry)  # where it is used
    monkeypatch.delenv("MLRIG_PG_PASSWORD")
    with pytest.raises(env.SecretMissing, match="MLRIG_PG_PASSWORD"):
        env.resolve(loaded.config.stores.feast_registry)


def test_free_text_in_a_feature_view(tmp_path):
    """A stored text (a plane's manufacturer here) is a model input of a static view; in a
    rolling view, which averages numbers, it is refused with the fix."""
    from mlrig.components.features.core import text_inputs

    def mark(data: dict) -> None:
        data["dataset"]["tables"]["planes"]["columns"]["manufacturer"]["text"] = True

    loaded = load(_write(tmp_path, mark))
    assert text_inputs(loaded.config) == ["plane_attributes__manufacturer"]

    def rolling(data: dict) -> None:
        data["dataset"]["tables"]["flights"]["columns"]["carrier"]["text"] = True
        data["features"]["views"][3]["features"].append("carrier")

    with pytest.raises(ConfigError, match=r"plane_history\.features: 'carrier' is free text "
                                          r"\(text: true\): a rolling view summarizes"):  # fmt: skip
        load(_write(tmp_path, rolling))
