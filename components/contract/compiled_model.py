"""A fitted model pipeline compiled for one row at a time.

The logged model is a scikit-learn Pipeline (preprocessing, then the estimator). On a one-row
DataFrame its ColumnTransformer costs about 6 ms, nearly all of it checks and pandas calls, and
LightGBM's predict on a DataFrame another 2 ms, while the arithmetic is microseconds. compile_one
reads the fitted transformers into plain lookups (category -> its encoded columns, found by running
each fitted encoder on its own categories; imputation and scaling from the fitted statistics) and
calls the estimator on one numeric vector (LightGBM: its Booster directly).

It covers the pipelines train/core.py builds. Anything else (another transformer, a custom model)
is not compiled and serving scores through the pipeline as before. A compiled model is checked
against its pipeline on probe rows (missing values, known and unseen categories) before it is
used; a difference in any score means it is not used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.contract.metrics import scores

UNSEEN = "\uffff unseen category"
Segment = Callable[[dict[str, Any]], list[float]]  # one transformer's output columns


ENCODERS = ("OneHotEncoder", "OrdinalEncoder", "TargetEncoder")


class NotCompiled(Exception):
    """The pipeline has a part compile_one does not know."""


def _step_names(pipe: Any) -> list[str]:
    return [type(step).__name__ for _, step in getattr(pipe, "steps", [])]


class _Categorical:
    """SimpleImputer(constant) + OneHotEncoder, OrdinalEncoder or TargetEncoder: a lookup per
    column, made by running the fitted encoder on every category it knows, on an unseen one and
    on a missing one."""

    def __init__(self, sub: Any, columns: list[str]) -> None:
        encoder = sub.steps[-1][1]
        if type(encoder).__name__ == "OneHotEncoder":
            infrequent = getattr(encoder, "infrequent_categories_", None) or [None] * len(columns)
            widths = [
                len(cats) - (0 if inf is None else len(inf) - 1)
                for cats, inf in zip(encoder.categories_, infrequent, strict=True)
            ]
        elif type(encoder).__name__ == "TargetEncoder" and encoder.target_type_ == "multiclass":
            widths = [len(encoder.classes_)] * len(columns)  # a mean per class
        else:
            widths = [1] * len(columns)
        self.owners = [c for c, w in zip(columns, widths, strict=True) for _ in range(w)]
        self.known = {
            col: [c for c in cats if isinstance(c, str)]
            for col, cats in zip(columns, encoder.categories_, strict=True)
        }
        n = max([len(k) for k in self.known.values()] + [1]) + 2
        probe = {}
        for col, cats in self.known.items():
            values = [*cats, UNSEEN, np.nan]
            probe[col] = [values[i] if i < len(values) else values[0] for i in range(n)]
        out = sub.transform(pd.DataFrame(probe, columns=columns).astype(object))
        out = out.toarray() if hasattr(out, "toarray") else np.asarray(out, dtype=float)
        starts = np.cumsum([0, *widths])
        if starts[-1] != out.shape[1]:
            raise NotCompiled("encoder output width")
        self.tables = []
        for j, (col, cats) in enumerate(self.known.items()):
            rows = [list(map(float, r)) for r in out[:, starts[j] : starts[j + 1]]]
            table = {value: rows[i] for i, value in enumerate(cats)}
            self.tables.append((col, table, rows[len(cats)], rows[len(cats) + 1]))

    def __call__(self, row: dict[str, Any]) -> list[float]:
        vector: list[float] = []
        for col, table, unseen, missing in self.tables:
            value = row[col]
            vector += missing if not isinstance(value, str) else table.get(value, unseen)
        return vector


class _Passthrough:
    """Columns taken as they are, as numbers."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns

    def __call__(self, row: dict[str, Any]) -> list[float]:
        return [float(row[c]) for c in self.columns]


# the numeric steps after TrainingRange: mlrig's imputer, or SimpleImputer (older models)
NUMERIC_STEPS = (["MedianImputer", "StandardScaler"], ["SimpleImputer", "StandardScaler"])


class _Numeric:
    """[TrainingRange +] SimpleImputer(add_indicator, keep_empty_features) + StandardScaler: held
    to [low, high], missing ones filled, flags of missing (for the flagged columns) appended, then
    centred and scaled."""

    def __init__(self, sub: Any, columns: list[str]) -> None:
        names = _step_names(sub)
        ranged = names[:1] == ["TrainingRange"]
        if names[ranged:] not in NUMERIC_STEPS:
            raise NotCompiled(f"numeric steps {names}")
        imputer, scaler = sub.steps[ranged][1], sub.steps[ranged + 1][1]
        width = len(columns)
        if ranged:
            self.low, self.high = sub.steps[0][1].low_, sub.steps[0][1].high_
        else:
            self.low, self.high = np.full(width, -np.inf), np.full(width, np.inf)
        if not imputer.keep_empty_features:
            raise NotCompiled("an imputer that drops empty columns")
        self.columns = columns
        self.fill = np.asarray(imputer.statistics_, dtype=float)
        self.flags = list(imputer.indicator_.features_) if imputer.add_indicator else []
        n = len(self.fill) + len(self.flags)
        self.mean = np.zeros(n) if scaler.mean_ is None else np.asarray(scaler.mean_, dtype=float)
        self.scale = np.ones(n) if scaler.scale_ is None else np.asarray(scaler.scale_, dtype=float)

    def __call__(self, row: dict[str, Any]) -> list[float]:
        x = np.clip(np.array([row[c] for c in self.columns], dtype=float), self.low, self.high)
        gone = np.isnan(x)
        values = np.concatenate([np.where(gone, self.fill, x), gone[self.flags].astype(float)])
        return list((values - self.mean) / self.scale)


class _Text:
    """TextTopics of one text column (train/text.py) on the request's one value; known holds
    texts of its own terms for the probe rows."""

    def __init__(self, topics: Any, columns: list[str]) -> None:
        if len(columns) != 1:
            raise NotCompiled("topics of more than one column")
        self.topics, self.column = topics, columns[0]
        terms = sorted(topics.tfidf_.vocabulary_) if topics.tfidf_ is not None else []
        self.known = {self.column: [" ".join(terms[i::3][:6]) or UNSEEN for i in range(3)]}

    def __call__(self, row: dict[str, Any]) -> list[float]:
        return self.topics.one(row[self.column])


def _segments(ct: Any) -> tuple[list[Segment], list[str], list[str]]:
    """One segment per fitted transformer of the ColumnTransformer, the output columns, and the
    input each output column comes from (a one-hot level, a flag of missing, a text topic: the
    column it encodes)."""
    if type(ct).__name__ != "ColumnTransformer":
        raise NotCompiled(f"preprocessing {type(ct).__name__}")
    segments: list[Segment] = []
    names: list[str] = []
    owners: list[str] = []
    for _, trans, columns in ct.transformers_:
        if isinstance(trans, str) and trans == "drop" or len(columns) == 0:
            continue
        columns = list(columns)
        if not all(isinstance(c, str) for c in columns):
            raise NotCompiled("columns chosen by position")
        kind = type(trans).__name__
        steps = _step_names(trans)
        if kind == "TextTopics":  # its own transform of the one text: the same arithmetic
            segments.append(_Text(trans, columns))
            out = [str(n) for n in trans.get_feature_names_out()]
            names += out
            owners += columns * len(out)
            continue
        if trans == "passthrough" or kind == "FunctionTransformer" and trans.func is None:
            segments.append(_Passthrough(columns))
            owners += columns
        elif steps[-1:] and steps[-1] in ENCODERS and steps[0] == "SimpleImputer":
            segments.append(_Categorical(trans, columns))
            owners += segments[-1].owners  # type: ignore[attr-defined]
        else:
            numeric = _Numeric(trans, columns)
            segments.append(numeric)
            owners += columns + [columns[f] for f in numeric.flags]
        names += columns
    return segments, names, owners


class CompiledModel:
    """predict_proba / predict of one vector, as the pipeline gives them for one model_frame row."""

    def __init__(self, pipeline: Any) -> None:
        self.platt = None  # a PlattCalibrated model: its sigmoid applies to the inner scores
        if type(pipeline).__name__ == "PlattCalibrated":
            self.platt, pipeline = pipeline, pipeline.model
        steps = getattr(pipeline, "steps", None)
        if not steps or len(steps) != 2:
            raise NotCompiled("not a (preprocessing, estimator) pipeline")
        prep, self.estimator = steps[0][1], steps[1][1]
        if type(self.estimator).__name__ == "EarlyStopped":
            raise NotCompiled("XGBoost and CatBoost score through the pipeline")
        codes = None
        if type(prep).__name__ == "Pipeline":  # LightGBM: ColumnTransformer, CategoryCodes
            if _step_names(prep)[1:] != ["CategoryCodes"]:
                raise NotCompiled(f"preprocessing steps {_step_names(prep)}")
            prep, codes = prep.steps[0][1], prep.steps[1][1]
        self.segments, names, self.owners = _segments(prep)
        self.classes_ = getattr(self.estimator, "classes_", None)
        self.booster = getattr(self.estimator, "booster_", None)
        self.recode: list[tuple[int, dict[float, float]]] = []
        if self.booster is not None:
            self._lightgbm(names, codes)
        elif codes is not None or hasattr(self.estimator, "feature_names_in_"):
            raise NotCompiled("an estimator fitted on a DataFrame")

    def _lightgbm(self, names: list[str], codes: Any) -> None:
        """LightGBM reads a categorical column as the position of its value in the categories it
        saw in training (pandas_categorical), missing when it is not one of them."""
        if list(self.booster.feature_name()) != names:
            raise NotCompiled("LightGBM's features are not the preprocessing's columns")
        seen = self.booster.pandas_categorical or []
        cat_cols = [c for c in names if codes is not None and c in codes.categories_]
        if len(cat_cols) != len(seen):
            raise NotCompiled("LightGBM's categorical columns")
        for col, trained in zip(cat_cols, seen, strict=True):
            kept = set(codes.categories_[col])
            table = {float(v): float(i) for i, v in enumerate(trained) if v in kept}
            self.recode.append((names.index(col), table))

    def vector(self, row: dict[str, Any]) -> np.ndarray:
        values: list[float] = []
        for segment in self.segments:
            values += segment(row)
        for position, table in self.recode:
            values[position] = table.get(values[position], np.nan)
        return np.array([values], dtype=float)

    def _raw(self, x: Any, proba: bool) -> np.ndarray:
        if self.booster is None:
            return self.estimator.predict_proba(x) if proba else self.estimator.predict(x)
        raw = self.booster.predict(x, num_threads=1)
        if proba and raw.ndim == 1:  # binary: the positive class's probability
            return np.vstack((1.0 - raw, raw)).transpose()
        return raw

    def predict_proba(self, x: Any) -> np.ndarray:
        proba = self._raw(x, proba=True)
        if self.platt is None:
            return proba
        q = self.platt.calibrate(proba[:, 1])
        return np.column_stack([1 - q, q])

    def predict(self, x: Any) -> np.ndarray:
        if self.platt is not None:
            return self.classes_[(self.predict_proba(x)[:, 1] >= 0.5).astype(int)]
        return self._raw(x, proba=False)


class CompiledBlend:
    """A Blend (contract/blend.py) of compiled pipelines: each member scores its own vector of the
    row, and the weighted mean is taken as the Blend takes it."""

    def __init__(self, blend: Any) -> None:
        self.platt = None
        if type(blend).__name__ == "PlattCalibrated":
            self.platt, blend = blend, blend.model
        self.members = [CompiledModel(m) for m in blend.members]
        self.weights = list(blend.weights)
        self.task = blend.task
        classifier = self.task != "regression"
        self.classes_ = blend.classes_ if classifier else None
        self.columns = [
            np.searchsorted(self.classes_, np.asarray(m.classes_)) if classifier else None
            for m in blend.members
        ]
        self.segments = [s for m in self.members for s in m.segments]

    def vector(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        return [row]  # each member makes its own vector of it

    def _proba(self, x: list[dict[str, Any]]) -> np.ndarray:
        total = np.zeros((1, len(self.classes_)))
        for member, weight, columns in zip(self.members, self.weights, self.columns, strict=True):
            total[:, columns] += weight * member.predict_proba(member.vector(x[0]))
        return total

    def predict_proba(self, x: list[dict[str, Any]]) -> np.ndarray:
        proba = self._proba(x)
        if self.platt is None:
            return proba
        q = self.platt.calibrate(proba[:, 1])
        return np.column_stack([1 - q, q])

    def predict(self, x: list[dict[str, Any]]) -> np.ndarray:
        if self.task != "regression":
            return self.classes_[np.argmax(self.predict_proba(x), axis=1)]
        members = zip(self.members, self.weights, strict=True)
        return np.sum([w * m.predict(m.vector(x[0])) for m, w in members], axis=0)


def _probe_rows(
    inputs: list[str], categorical: list[str], model: CompiledModel | CompiledBlend
) -> pd.DataFrame:
    """Missing values, numbers of several sizes, known, unseen and missing categories."""
    cats = set(categorical)
    known = {}
    for segment in model.segments:
        known.update(getattr(segment, "known", {}))
    rows = []
    for i, number in enumerate([np.nan, 0.5, -3.25, 1e6, 7.0]):
        row: dict[str, Any] = {}
        for j, name in enumerate(inputs):
            if name in cats:
                seen = known.get(name) or [UNSEEN]
                row[name] = [np.nan, seen[0], UNSEEN, seen[-1], seen[j % len(seen)]][i]
            else:
                row[name] = np.nan if i == 4 and j % 2 == 0 else number
        rows.append(row)
    frame = pd.DataFrame(rows, columns=inputs)
    for name in inputs:
        frame[name] = frame[name].astype(object if name in cats else "float64")
    return frame


def compile_one(
    pipeline: Any, task: str, inputs: list[str], categorical: list[str], n_classes: int
) -> tuple[CompiledModel | CompiledBlend | None, str]:
    """The compiled model, or None and the reason it is not used."""
    inner = pipeline.model if type(pipeline).__name__ == "PlattCalibrated" else pipeline
    try:
        blended = type(inner).__name__ == "Blend"
        model = CompiledBlend(pipeline) if blended else CompiledModel(pipeline)
        probe = _probe_rows(inputs, categorical, model)
        expected = scores(pipeline, probe, task, n_classes)
        got = np.concatenate(
            [scores(model, model.vector(r), task, n_classes) for r in probe.to_dict("records")]
        )
    except NotCompiled as exc:
        return None, str(exc)
    except Exception as exc:  # an optimisation that cannot apply: serve through the pipeline
        return None, f"{type(exc).__name__}: {exc}"
    if not np.allclose(got, np.asarray(expected).reshape(got.shape), rtol=1e-9, atol=1e-12):
        return None, "its scores differ from the pipeline's on probe rows"
    return model, ""
