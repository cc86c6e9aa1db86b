"""How model files are written and read: skops, a format that does not run code on load.

A skops file is a description of objects, not a program: loading builds only types on an
allow-list. MLflow reads that allow-list from the model's own MLmodel file, so a crafted
artifact could widen it; here the list is mlrig's (TRUSTED), whatever the artifact says. Every
candidate mlrig trains (scikit-learn pipelines, LightGBM, the calibration wrapper) round-trips
through it (tests/components/integrations/mlflow/test_modelfile.py).

A pickle-based artifact (cloudpickle, pickle: how versions registered before skops were written)
runs code when it is read, so it is refused whatever its MLmodel says, unless the variable
MLRIG_ALLOW_PICKLED_MODELS names that version (`flights-delay/3,flights-delay/4`), and then only
after its SHA-256 matched (integrity.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from mlrig.components.config import env

SKOPS = "skops"
# Types beyond skops' own safe defaults that mlrig's candidates contain. A new candidate whose
# model holds another type fails at training (MLflow checks the round trip) until it is added.
TRUSTED = (
    # the optional learners (mlrig[learners]): their state is the library's own model bytes
    "catboost.core.CatBoostClassifier",
    "catboost.core.CatBoostRegressor",
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "mlrig.components.contract.blend.Blend",
    "mlrig.components.train.boosters.AsText",
    "mlrig.components.train.boosters.EarlyStopped",
    "mlrig.components.train.core.CategoryCodes",
    "mlrig.components.train.core.PlattCalibrated",
    "mlrig.components.train.impute.MedianImputer",
    "mlrig.components.train.ranges.TrainingRange",
    "mlrig.components.train.text.TextTopics",
    "numpy.dtype",
    # a target encoder's folds (data only: n_splits, shuffle, random_state)
    "sklearn.model_selection._split.KFold",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
)


class UnsafeModelFile(RuntimeError):
    """A model file holds a type mlrig does not trust, or is in an unknown format."""


def import_reader() -> None:
    """Import skops' reader now, before MLflow and Feast, in a process that will load a model.

    Importing skops.io finds the module of every scipy and numpy ufunc by looking it up in every
    loaded module: after MLflow, Feast and ibis (thousands of modules, some with a slow
    __getattr__) that took 1.8 s of the score stage, against 1.2-1.6 s before them."""
    import skops.io  # noqa: F401


def log_options() -> dict[str, Any]:
    """Keyword arguments for mlflow.sklearn.log_model."""
    return {"serialization_format": SKOPS, "skops_trusted_types": list(TRUSTED)}


def pickle_allowed(name: str, version: int) -> bool:
    """Whether MLRIG_ALLOW_PICKLED_MODELS names this registered version (`name/version`)."""
    named = {item.strip() for item in (env.get(env.ALLOW_PICKLED_MODELS) or "").split(",")}
    return f"{name}/{version}" in named


def load(folder: Path, pickled_ok: bool = False) -> Any:
    """The model in a downloaded MLflow sklearn model folder, read with mlrig's allow-list.
    pickled_ok: the folder is a registered version that MLRIG_ALLOW_PICKLED_MODELS names and
    whose digest was checked; anything else pickle-based is refused."""
    meta = yaml.safe_load((folder / "MLmodel").read_text())
    flavor = (meta.get("flavors") or {}).get("sklearn") or {}
    fmt = flavor.get("serialization_format")
    path = folder / str(flavor.get("pickled_model", ""))
    if fmt == SKOPS:
        import skops.io
        from skops.io.exceptions import UntrustedTypesFoundException

        try:
            return skops.io.load(path, trusted=list(TRUSTED))
        except UntrustedTypesFoundException as exc:
            raise UnsafeModelFile(f"{path.name}: {exc}; refusing to load it") from None
    if fmt in ("cloudpickle", "pickle"):
        if not pickled_ok:
            raise UnsafeModelFile(
                f"{folder.name}: a {fmt} model file runs code when it is read; refusing to load it "
                f"(retrain it with mlrig, which writes skops, or name the version in "
                f"{env.ALLOW_PICKLED_MODELS} as name/version if you trust its files)"
            )
        import mlflow.sklearn

        return mlflow.sklearn.load_model(str(folder))
    raise UnsafeModelFile(f"{folder}: unknown model serialization format {fmt!r}")


def load_uri(mlflow: Any, uri: str) -> Any:
    """Download a logged model (runs:/…, models:/…) and read it as load() does."""
    with tempfile.TemporaryDirectory(prefix="mlrig-model-") as tmp:
        return load(Path(mlflow.artifacts.download_artifacts(uri, dst_path=tmp)))
