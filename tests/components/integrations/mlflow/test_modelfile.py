"""Model files are skops: every candidate round-trips, and a file naming a type mlrig does not
trust is refused before that type is built, whatever the artifact's own MLmodel allows."""

from __future__ import annotations

from pathlib import Path

import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
import skops.io

from mlrig.components.config.schema import CANDIDATE_TASKS
from mlrig.components.contract.blend import Blend
from mlrig.components.integrations.mlflow import modelfile
from mlrig.components.train.core import PlattCalibrated, build_pipeline

# every candidate the config accepts, by task (a new one is covered the day it is added)
CANDIDATES = {
    task: [n for n, tasks in CANDIDATE_TASKS.items() if kind in tasks]
    for task, kind in (("binary", "classification"), ("multiclass", "classification"),
                       ("regression", "regression"))
}  # fmt: skip


def _data(task: str) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 200
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["x", "y", None], n), "d": rng.choice(["p", "q"], n)})  # fmt: skip
    if task == "binary":
        return x, (x["a"] > 0).astype(int).to_numpy()
    if task == "multiclass":
        return x, np.array(["u", "v", "w"])[rng.integers(0, 3, n)]
    return x, x["a"].to_numpy() * 2 + rng.normal(size=n)


@pytest.mark.parametrize(("task", "name"), [(t, n) for t, ns in CANDIDATES.items() for n in ns])
def test_every_candidate_round_trips_through_skops(task, name, tmp_path):
    x, y = _data(task)
    wide = None if name == "lightgbm" else ["c"]  # a target-encoded categorical, with its folds
    model = build_pipeline(name, task, ["a", "b"], ["c", "d"], 0, wide=wide).fit(x, y)
    if task == "binary":
        model = PlattCalibrated(model, 1.3, -0.2)
    mlflow.sklearn.save_model(model, tmp_path / "m", pip_requirements=[], **modelfile.log_options())
    assert (tmp_path / "m" / "model.skops").exists()
    back = modelfile.load(tmp_path / "m")
    method = "predict" if task == "regression" else "predict_proba"
    np.testing.assert_allclose(getattr(back, method)(x), getattr(model, method)(x))


@pytest.mark.parametrize("task", list(CANDIDATES))
def test_a_blend_of_candidates_round_trips_through_skops(task, tmp_path):
    x, y = _data(task)
    names = CANDIDATES[task][:1] + ["lightgbm"]
    members = [build_pipeline(n, task, ["a", "b"], ["c", "d"], 0).fit(x, y) for n in names]
    model = Blend(members, [0.4, 0.6], task)
    mlflow.sklearn.save_model(model, tmp_path / "m", pip_requirements=[], **modelfile.log_options())
    back = modelfile.load(tmp_path / "m")
    method = "predict" if task == "regression" else "predict_proba"
    np.testing.assert_allclose(getattr(back, method)(x), getattr(model, method)(x))


class Sneaky:
    """Stands for any type outside the allow-list: building it would run its __setstate__."""

    marker = ""

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).write_text("ran")


def test_a_type_outside_the_allow_list_is_refused_even_if_the_artifact_trusts_it(tmp_path):
    sneaky = Sneaky()
    sneaky.__dict__["marker"] = str(tmp_path / "ran")
    folder = tmp_path / "m"
    own_list = [f"{__name__}.Sneaky"]  # what a crafted MLmodel file would declare
    mlflow.sklearn.save_model(sneaky, folder, serialization_format="skops",
                              skops_trusted_types=own_list, pip_requirements=[])  # fmt: skip
    (tmp_path / "ran").unlink(missing_ok=True)  # MLflow's own check at save built it once
    assert own_list[0] in skops.io.get_untrusted_types(file=folder / "model.skops")
    with pytest.raises(modelfile.UnsafeModelFile, match="Sneaky"):
        modelfile.load(folder)
    assert not (tmp_path / "ran").exists()


def _pickled(tmp_path: Path) -> tuple[Path, Path]:
    """A cloudpickle model folder whose object writes a marker file when it is unpickled."""
    sneaky = Sneaky()
    sneaky.__dict__["marker"] = str(tmp_path / "ran")
    folder = tmp_path / "m"
    mlflow.sklearn.save_model(sneaky, folder, serialization_format="cloudpickle",
                              pip_requirements=[])  # fmt: skip
    (tmp_path / "ran").unlink(missing_ok=True)
    return folder, tmp_path / "ran"


def test_a_pickled_model_file_is_refused_before_any_of_it_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("MLRIG_ALLOW_PICKLED_MODELS", raising=False)
    folder, ran = _pickled(tmp_path)
    with pytest.raises(modelfile.UnsafeModelFile, match="MLRIG_ALLOW_PICKLED_MODELS"):
        modelfile.load(folder)
    assert not ran.exists()


def test_only_the_versions_the_opt_in_names_may_be_pickled(tmp_path, monkeypatch):
    monkeypatch.setenv("MLRIG_ALLOW_PICKLED_MODELS", "shop/3, flights-delay/12")
    assert modelfile.pickle_allowed("flights-delay", 12)
    assert modelfile.pickle_allowed("shop", 3)
    assert not modelfile.pickle_allowed("shop", 4)
    assert not modelfile.pickle_allowed("flights-delay", 1)
    folder, ran = _pickled(tmp_path)
    modelfile.load(folder, pickled_ok=modelfile.pickle_allowed("shop", 3))
    assert ran.read_text() == "ran"  # named, so it was read (and ran) as the user chose


def test_the_reader_is_imported_alone_before_mlflow_and_feast():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mlrig.components.integrations.mlflow import modelfile\n"
        "modelfile.import_reader()\n"
        "print('skops.io' in sys.modules, 'mlflow' in sys.modules, 'feast' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False", "False"]
