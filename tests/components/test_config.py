from pathlib import Path

import pytest
import yaml

from mlrig.components.config.loader import ConfigError, load


def _write(folder: Path, mutate) -> Path:
    data = yaml.safe_load((Path(__file__).parents[2] / "mlrig.yaml").read_text())
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
