"""The model behind the service: one pinned model version (its contract included) and features
from Feast's online store, assembled by the same step as training and batch scoring."""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.config.loader import LoadedConfig
from mlrig.components.contract.assemble import assemble
from mlrig.components.contract.assemble_one import OneRow, RowAssembler
from mlrig.components.contract.assemble_one import is_missing as missing
from mlrig.components.contract.compiled_model import CompiledBlend, CompiledModel, compile_one
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.explain import explain_row, explainer_of, has_exact_method
from mlrig.components.contract.metrics import scores
from mlrig.components.contract.predict import as_response, predict_frame, response_one
from mlrig.components.integrations.feast.online_store import OnlineFeatures
from mlrig.components.integrations.feast.repo import open_store
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import NoVersion, Pinned, aliases, load_version
from mlrig.components.integrations.mlflow.registry import pinned_version as registry_pinned_version
from mlrig.components.integrations.mlflow.samples import check_rows
from mlrig.components.monitor.predlog import LogUnavailable, PredictionLog, log_location
from mlrig.components.runtime.catalog import EVENT_TS, SEP

LOGGED = ("prediction", "probability", "probabilities")  # of an answer, into the log


def prediction_log(loaded: LoadedConfig) -> PredictionLog | None:
    """The project's prediction log, when serving.log_predictions is on. A PostgreSQL log that
    does not answer yet is kept: until it does, predictions are refused (503), never served
    unlogged."""
    if not loaded.config.serving.log_predictions:
        return None
    location = log_location(loaded.place)
    try:
        log = PredictionLog(location, connect=False)
    except (OSError, sqlite3.Error) as exc:  # a read-only or missing volume: say so, keep serving
        print(f"mlrig: prediction log disabled, {location} is not writable: {exc}", flush=True)
        return None
    try:
        log.check()
    except LogUnavailable as exc:
        print(f"mlrig: {exc}; predictions are refused until it answers", flush=True)
    return log


class NotReady(RuntimeError):
    """Nothing to serve yet (no champion, no registered features); the message says what to run."""


class RequestError(ValueError):
    """A request that passed the schema but cannot be used (e.g. a time out of range)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def pinned_version(loaded: LoadedConfig) -> int:
    """MLRIG_MODEL_VERSION (set by `mlrig deploy` on the cluster) or the champion, resolved once."""
    mlflow = tracking.configure(loaded.place)
    try:
        return registry_pinned_version(mlflow, loaded.config.model.name)
    except NoVersion as exc:
        raise NotReady(
            f"{exc} in {tracking.tracking_uri(loaded.place)} yet: run the training pipeline first"
        ) from None


def model_aliases(loaded: LoadedConfig) -> dict[str, int]:
    """The model's aliases now, in one registry request (the champion and shadow followers)."""
    return aliases(tracking.configure(loaded.place), loaded.config.model.name)


class Predictor:
    """Loads one model version once; turns one request into one model row and scores it."""

    def __init__(
        self, loaded: LoadedConfig, version: int | None = None, log: PredictionLog | None = None
    ) -> None:
        self.loaded = loaded
        self.log = log
        mlflow = tracking.configure(loaded.place)
        version = version or pinned_version(loaded)
        try:
            self.pinned: Pinned = load_version(mlflow, loaded.config.model.name, version)
        except NoVersion as exc:
            raise NotReady(str(exc)) from None
        self.contract = self.pinned.contract
        self.features = OnlineFeatures(open_store(loaded.place))
        fs = self.contract.features
        if fs is not None and fs.views:
            try:
                self.features.service(fs.service)
            except Exception as exc:  # Feast raises its own not-found types per registry backend
                raise NotReady(f"feature service '{fs.service}' is not registered: {exc}") from None
        # one request at a time: the same assemble step on plain values, the fitted pipeline
        # compiled to lookups (checked against the pipeline; when it cannot be, the pipeline)
        self.rows = RowAssembler(self.contract)
        c = self.contract
        self.compiled, why = compile_one(
            self.pinned.model, c.task, c.inputs, c.categorical, len(c.classes)
        )
        if self.compiled is None:
            print(f"mlrig: one-row predictions go through the model pipeline: {why}", flush=True)
        exact = self.compiled is not None and has_exact_method(self.compiled)
        self._explainer: Any = self.compiled if exact else None  # else found at the first explain

    def explainer(self) -> Any:
        """What explains an answer (contract/explain.py): the compiled model, the pipeline
        explained through, or sampled Shapley values against the version's holdout sample;
        found once when first asked (a forest's TreeSHAP takes a while)."""
        if self._explainer is None:
            c, mlflow = self.contract, tracking.configure(self.loaded.place)
            rows = lambda: check_rows(mlflow, self.pinned.run_id)[0]  # noqa: E731  (sampled only)
            found, _ = explainer_of(
                self.pinned.model, c.task, c.inputs, c.categorical, len(c.classes), rows
            )
            self._explainer = found or False
        return self._explainer or None

    @property
    def model_version(self) -> int:
        return self.pinned.version

    def predict(
        self, request: dict[str, Any], explain: bool = False, features: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Score one request: the prediction, the model version, and which features the online
        store had no value for (an unknown entity shows up there, never silently); explain: with
        each input's contribution (contract/explain.py); features: model inputs passed in, used
        in place of the store's (an app that holds them, serving/embedded.py)."""
        return self._predict(request, self.compiled, explain, features)

    def predict_via_frame(self, request: dict[str, Any]) -> dict[str, Any]:
        """predict() through assemble()'s frame and the model pipeline: the same answer, ~20 ms
        slower (what the one-row path is compared with in tests and benchmarks)."""
        return self._predict(request, None)

    def _predict(
        self,
        request: dict[str, Any],
        compiled: CompiledModel | CompiledBlend | None,
        explain: bool = False,
        given: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        c = self.contract
        one, raw = self._scored(request, compiled, given or {})
        for name, spec in c.request_fields.items():
            given = spec.type == "datetime" and request.get(name) is not None
            if given and pd.isna(one.rows[name]):
                raise RequestError(name, "not a time pandas can represent (1677-2262)")
        result = response_one(c, raw)
        result.update(
            {
                "model": self.pinned.name,
                "model_version": self.pinned.version,
                "inputs_present": sum(not missing(v) for v in one.inputs.values()),
                "inputs_total": len(c.inputs),
                "missing_features": sorted(name for name, gone in one.missing.items() if gone),
                "feature_age_s": _rounded(one.ages),
            }
        )
        unknown = unknown_views(c, one.missing)
        if unknown:
            result["unknown_entities"] = unknown
        if explain:
            result["explanation"] = explain_row(self.explainer(), one.inputs)
        if self.log is not None:
            result["request_id"] = self.log.log(
                model=self.pinned.name,
                version=self.pinned.version,
                keys={k: one.rows.get(k, request.get(k)) for k in c.entity_keys},  # derived too
                request=request,
                features=one.inputs,
                prediction={k: result[k] for k in LOGGED if k in result},
                event_time=one.rows[EVENT_TS],
            )
        return result

    def _scored(
        self, request: dict[str, Any], compiled: Any, given: dict[str, Any]
    ) -> tuple[OneRow, np.ndarray]:
        """The request's model row (given: model inputs passed in, in place of the store's) and
        its scores, by the compiled model or, without one, through assemble() and the pipeline."""
        c = self.contract
        unknown = sorted(set(given) - set(c.inputs))
        if unknown:
            raise RequestError(unknown[0], f"not a model input (the inputs: {c.inputs})")
        if compiled is None:
            built = assemble(c, pd.DataFrame([request]), self.features)
            for name, value in given.items():
                built.frame[name] = value
            one = OneRow.of(built)
            one.ages = self._ages([one.rows])[0]
            frame = built.frame
        else:
            one = self.rows.one(request, self.features)
            if c.features is not None and c.features.views and not one.ages:  # took assemble()
                one.ages = self._ages([one.rows])[0]
            one.inputs.update(given)
        for name in set(given) & set(one.missing):  # a stored feature passed in
            one.missing[name] = missing(given[name])
        if compiled is None:
            return one, scores(self.pinned.model, frame, c.task, len(c.classes))
        return one, scores(compiled, compiled.vector(one.inputs), c.task, len(c.classes))

    def _ages(self, rows: list[dict[str, Any]]) -> list[dict[str, float | None]]:
        """Each prepared row's view ages at its event time (rows without a full key: none)."""
        fs = self.contract.features
        if fs is None or not fs.views or not hasattr(self.features, "ages"):
            return [{} for _ in rows]
        keys = list(self.contract.entity_keys)
        wanted = []
        for row in rows:
            values = {k: row.get(k) for k in keys}
            whole = all(
                v is not None and not (isinstance(v, float) and v != v) for v in values.values()
            )
            kinds = self.contract.entity_keys
            typed = {k: int(v) if kinds[k] == "int" else _plain(v) for k, v in values.items()}
            wanted.append(typed if whole else None)
        return self.features.ages(fs, wanted, [row.get(EVENT_TS) for row in rows])

    def predict_many(
        self, requests: list[dict[str, Any]], explain: list[bool] | None = None
    ) -> list[dict[str, Any]]:
        """Score many requests in one pass (one online read, one predict, one log commit);
        answers in request order, each as /predict would give it (explain: which to explain)."""
        built = assemble(self.contract, pd.DataFrame(requests), self.features)
        self._times_kept(requests, built.rows)
        predicted = predict_frame(self.pinned.model, self.contract, built.frame)
        present = built.frame.notna().sum(axis=1).to_numpy()
        answers = predicted.to_dict("records")  # plain rows: no pandas call per row
        gone = built.missing.to_numpy(dtype=bool)
        names = [str(c) for c in built.missing.columns]
        views = view_columns(self.contract, names)
        # a view is unknown for a row when every one of its stored features is missing there
        unknown = {
            view: gone[:, [names.index(c) for c in cols]].all(axis=1)
            for view, cols in views.items()
            if cols
        }
        ages = self._ages(built.rows.to_dict("records"))
        results = []
        for i in range(len(requests)):
            result = as_response(self.contract, answers[i])
            result.update(
                {
                    "model": self.pinned.name,
                    "model_version": self.pinned.version,
                    "inputs_present": int(present[i]),
                    "inputs_total": len(self.contract.inputs),
                    "missing_features": sorted(n for n, g in zip(names, gone[i], strict=True) if g),
                    "feature_age_s": _rounded(ages[i]),
                }
            )
            views_unknown = [view for view, rows in unknown.items() if rows[i]]
            if views_unknown:
                result["unknown_entities"] = views_unknown
            if explain and explain[i]:
                inputs = built.frame.iloc[i].to_dict()
                result["explanation"] = explain_row(self.explainer(), inputs)
            results.append(result)
        if self.log is not None:
            self._log_many(requests, built, results)
        return results

    def _times_kept(self, requests: list[dict[str, Any]], rows: pd.DataFrame) -> None:
        """A time pandas cannot hold (before 1677 or after 2262) is the caller's error, named."""
        for name, spec in self.contract.request_fields.items():
            if spec.type != "datetime":
                continue
            for i in rows[name].isna().to_numpy().nonzero()[0]:
                if requests[i].get(name) is not None:
                    raise RequestError(
                        f"rows.{i}.{name}", "not a time pandas can represent (1677-2262)"
                    )

    def _log_many(self, requests: list[dict[str, Any]], built: Any, results: list[dict]) -> None:
        """Commit every answer to the log (every entity key with its value, derived ones too)
        and give each its request_id."""
        assert self.log is not None
        derived = [k for k in self.contract.entity_keys if k in built.rows]
        known = built.rows[derived].astype(object).where(built.rows[derived].notna(), None)
        rows = known.to_dict("records") if derived else [{} for _ in requests]
        keys = [
            {k: r.get(k) for k in self.contract.entity_keys} | row
            for r, row in zip(requests, rows, strict=True)
        ]
        logged = [{k: r[k] for k in LOGGED if k in r} for r in results]
        ids = self.log.log_many(
            model=self.pinned.name,
            version=self.pinned.version,
            keys=keys,
            requests=requests,
            features=built.frame.reset_index(drop=True),
            predictions=logged,
            event_times=built.rows[EVENT_TS],
        )
        for result, rid in zip(results, ids, strict=True):
            result["request_id"] = rid


def view_columns(contract: Contract, stored: list[str]) -> dict[str, list[str]]:
    """Each view's stored features among the fetched columns."""
    if contract.features is None:
        return {}
    return {
        view: [c for c in stored if str(c).startswith(view + SEP)]
        for view in contract.features.views.values()
    }


def unknown_views(
    contract: Contract, missing: dict[str, bool], views: dict[str, list[str]] | None = None
) -> list[str]:
    """Views of which every stored feature was missing: their entity is unknown to the store."""
    views = view_columns(contract, list(missing)) if views is None else views
    return [view for view, cols in views.items() if cols and all(missing[c] for c in cols)]


def _plain(value: Any) -> Any:
    """A key as the online store takes it: a Python int or str, not a NumPy scalar."""
    return value.item() if hasattr(value, "item") else value


def _rounded(ages: dict[str, float | None]) -> dict[str, float | None]:
    return {view: None if age is None else round(age, 3) for view, age in ages.items()}
