"""A drift check of the pinned champion: its training reference against the predictions it served
in a window, as an HTML report with plots and a JSON summary, logged to MLflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlrig.components.config.loader import LoadedConfig
from mlrig.components.config.place import Place
from mlrig.components.contract.loss_model import LOSS_FILE
from mlrig.components.integrations.mlflow import tracking
from mlrig.components.integrations.mlflow.registry import load_version, resolve
from mlrig.components.monitor import gauges, reasons, retrains
from mlrig.components.monitor.drift import feature_drift, moves_with_time, summary, word_counts
from mlrig.components.monitor.predlog import features_of, opened
from mlrig.components.monitor.shadow_gate import judge_shadow
from mlrig.components.runtime import html_report
from mlrig.components.runtime.catalog import CHAMPION, REFERENCE_FILE, REFERENCE_SCORE

MAX_PLOTS = 12


class NothingToCheck(RuntimeError):
    """No logged predictions in the window."""


def _histograms(ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str], cats: list[str]) -> str:
    import matplotlib.pyplot as plt

    cols = 3
    rows = int(np.ceil(len(columns) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(13, 2.8 * rows), squeeze=False)
    for ax, column in zip(axes.flat, columns, strict=False):
        if column in cats:
            share = (
                pd.DataFrame(
                    {
                        "reference": ref[column].astype(str).value_counts(normalize=True),
                        "current": cur[column].astype(str).value_counts(normalize=True),
                    }
                )
                .fillna(0)
                .head(12)
            )
            share.plot.bar(ax=ax, legend=False)
        else:
            both = pd.concat([ref[column], cur[column]]).astype(float).dropna()
            bins = np.histogram_bin_edges(both, bins=30) if len(both) else 10
            ax.hist(ref[column].astype(float).dropna(), bins=bins, alpha=0.5, density=True)
            ax.hist(cur[column].astype(float).dropna(), bins=bins, alpha=0.5, density=True)
        ax.set_title(column, fontsize=8)
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    axes.flat[0].legend(["reference", "current"], fontsize=7)
    fig.tight_layout()
    return html_report.png(fig)


def drift_check(
    loaded: LoadedConfig, since: str | None = None, out_dir: Path | None = None
) -> dict:
    """Compare the champion's reference with its logged predictions (since an ISO time)."""
    cfg = loaded.config
    mlflow = tracking.configure(loaded.place)
    version = resolve(mlflow, cfg.model.name, CHAMPION)
    pinned = load_version(mlflow, cfg.model.name, version)
    current, logged = _current(loaded.place, cfg.monitor.drift_rows, version, since)
    local = mlflow.artifacts.download_artifacts(
        run_id=pinned.run_id, artifact_path=f"monitor/{REFERENCE_FILE}"
    )
    reference = pd.read_parquet(local)
    contract = pinned.contract
    logged_inputs = features_of(current)
    raw_reference = reference
    # free text is compared by its length in words
    reference = word_counts(reference, contract.text)
    features = word_counts(logged_inputs, contract.text)
    categorical = [c for c in contract.categorical if c not in contract.text]
    drifts = feature_drift(reference[contract.inputs], features, categorical)
    # "score" in references written before REFERENCE_SCORE
    scored = reference[REFERENCE_SCORE if REFERENCE_SCORE in reference else "score"]
    ref_score = pd.DataFrame({"score": scored.to_numpy()})
    prediction = feature_drift(ref_score, current[["score"]], [])[0]
    timely = moves_with_time(contract.inputs, contract.date_parts, contract.event_time)
    result: dict[str, Any] = {
        "model": cfg.model.name,
        "version": version,
        "since": since,
        "reference_rows": len(reference),
        "current_rows": len(current),
        "logged_rows": logged,
        "current_from": current.logged_at.iloc[0],
        "prediction_drift": prediction.as_dict(),
        **summary(drifts, timely),
    }
    shift = cfg.monitor.reasons_shift
    result["reasons"] = reasons.check(
        pinned.model, contract, raw_reference, logged_inputs, shift, result["drifted"]
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    dest = out_dir or loaded.path(cfg.workdir) / "monitor" / stamp
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "drift.json").write_text(json.dumps(result, indent=2, default=str))
    shown = [f["column"] for f in result["features"]][:MAX_PLOTS]
    plots = {
        "features": _histograms(reference, features, shown, categorical),
        "prediction": _histograms(ref_score, current, ["score"], []),
    }
    page = html_report.render(f"{cfg.project}: drift of v{version}", _sections(result), plots)
    (dest / "drift.html").write_text(page)
    _log_run(mlflow, cfg.project, version, result, dest)
    result["report"] = str(dest / "drift.html")
    return result


def _log_run(mlflow: Any, project: str, version: int, result: dict[str, Any], dest: Path) -> None:
    """The check as an MLflow run: tags, each input's PSI, the report."""
    with mlflow.start_run(run_name=f"{project}-monitor"):
        mlflow.set_tags(
            {
                "mlrig.stage": "monitor",
                "mlrig.model_version": str(version),
                "mlrig.drifted": ",".join(result["drifted"]),
            }
        )
        keys = tracking.metric_keys([f["column"] for f in result["features"]], "psi.")
        psi = {keys[f["column"]]: f["psi"] for f in result["features"]}
        psi["psi.prediction"] = result["prediction_drift"]["psi"]
        mlflow.log_metrics({k: v for k, v in psi.items() if np.isfinite(v)})
        mlflow.log_artifacts(str(dest), "monitor")


def _current(
    place: Place, latest: int, version: int, since: str | None
) -> tuple[pd.DataFrame, int]:
    """The latest monitor.drift_rows of the champion's predictions (enough for PSI and KS, and
    bounded: reading all of a 1.1 M-row log took 50 s and 7.7 GB), and how many were logged."""
    with opened(place) as log:
        columns = ["logged_at", "features", "score"]
        current = log.read(since, version=version, latest=latest, columns=columns)
        logged = log.count(since, version=version)
    if current.empty:
        raise NothingToCheck(
            f"no logged predictions of v{version}" + (f" since {since}" if since else "")
        )
    return current, logged


def _sections(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The drift report's window summary and its per-feature table."""
    table = {
        f["column"]: f"PSI {f['psi']:.3f} · stat {f['statistic']:.3f} · p {f['p_value']:.2g}"
        + f" · missing {f['missing_ref']:.0%} → {f['missing_cur']:.0%}"
        + ("  DRIFT" if f["drifted"] else "")
        + (" (missing share)" if f.get("missing_drifted") else "")
        for f in result["features"]
    }
    window = {
        "current rows": f"the latest {result['current_rows']} of {result['logged_rows']} logged "
        f"since {result['since'] or 'the start'} (from {result['current_from']})",
        "reference rows": result["reference_rows"],
        "drifted": ", ".join(result["drifted"]) or "none",
        "moved with time (not counted)": ", ".join(result["moved_with_time"]) or "none",
        "missing share moved": ", ".join(result["missing_drifted"]) or "none",
        "prediction PSI": result["prediction_drift"]["psi"],
    }
    window["reasons moved"] = ", ".join(result["reasons"]["moved"]) or "none"
    return {
        "Window": window,
        "Per feature (decisions on effect sizes, thresholds in drift.json)": table,
        "Reasons: each input's share of mean |contribution|": reasons.section(result["reasons"]),
    }


def performance_check(loaded: LoadedConfig, since: str | None = None) -> dict:
    """The champion's labelled predictions (logged since an ISO time) per window against its
    evaluation metrics."""
    from mlrig.components.monitor.performance import judge, window_metrics

    cfg = loaded.config
    mlflow = tracking.configure(loaded.place)
    version = resolve(mlflow, cfg.model.name, CHAMPION)
    pinned = load_version(mlflow, cfg.model.name, version)
    loss = _loss_model(mlflow, pinned) if pinned.contract.task == "regression" else None
    with opened(loaded.place) as log:
        columns = ["logged_at", "event_time", "prediction", "label"]
        columns += ["features"] if loss is not None else []
        logged = log.read(since, version=version, columns=columns)
    window = cfg.monitor.window
    windows = window_metrics(logged, pinned.contract, window, loss) if len(logged) else None
    evaluation = mlflow.MlflowClient().get_run(pinned.run_id).data.metrics
    ece = evaluation.get("holdout_ece")
    calibrated = ece is not None and ece <= cfg.monitor.max_ece
    use = cfg.monitor.use_estimates and (calibrated or loss is not None)
    metric, m = cfg.model.primary_metric or "", cfg.monitor
    worse = (
        judge(windows, evaluation, metric, m.metric_tolerance, m.min_window_rows, use)
        if windows is not None
        else []
    )
    return {
        "version": version,
        "calibration": {"ece": ece, "calibrated": calibrated, "estimates_judged": use},
        "windows": [] if windows is None else windows.to_dict("records"),
        "worse": worse,
        "evaluation": {k: v for k, v in evaluation.items() if k.startswith("holdout_")},
    }


def _loss_model(mlflow: Any, pinned: Any) -> dict | None:
    """A regression version's error estimator, logged by its evaluation (None before there was
    one, or for a holdout too small to fit it)."""
    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=pinned.run_id, artifact_path=f"evaluation/{LOSS_FILE}"
        )
    except (mlflow.exceptions.MlflowException, OSError):  # logged before estimators existed
        return None
    return json.loads(Path(local).read_text())


def _hold_if_young(place: Place, need: float, decision: dict, version: int) -> None:
    """No retrain before the champion has answered monitor.min_days_served days of requests
    since it began answering or since the last retrain started (decision["newest_event"] is
    what the CLI records when it starts one)."""
    with opened(place) as log:
        span = log.event_range(version)
    if span is None:
        served = 0.0
    else:
        served = retrains.days_served(*span, retrains.last_started(place.workdir))
        decision["newest_event"] = span[1].isoformat()
    if served < need:
        decision["retrain"] = False
        decision["held"] = (
            f"v{version} has answered {served:.1f} days of requests (event time) since it began "
            f"answering or the last retrain started, fewer than monitor.min_days_served "
            f"({need:g}): reported, not retrained"
        )


def decide(loaded: LoadedConfig, since: str | None = None, out_dir: Path | None = None) -> dict:
    """Drift and performance against the policy in `monitor`; says whether to retrain and why,
    with the numbers, and logs the decision as an MLflow run."""
    policy = loaded.config.monitor
    reasons: list[str] = []
    try:
        drift = drift_check(loaded, since, out_dir)
    except NothingToCheck as exc:
        drift = {"drifted": [], "prediction_drift": {"psi": 0.0}, "note": str(exc)}
    if len(drift["drifted"]) > policy.max_drifted_features:
        reasons.append(
            f"{len(drift['drifted'])} features drifted "
            f"(> {policy.max_drifted_features}): {', '.join(drift['drifted'])}"
        )
    psi_pred = drift["prediction_drift"]["psi"]
    if np.isfinite(psi_pred) and psi_pred > policy.prediction_psi:
        reasons.append(f"prediction PSI {psi_pred:.3f} > {policy.prediction_psi}")
    perf = performance_check(loaded, since)
    reasons += [f"window {w}" for w in perf["worse"]]
    decision = {"retrain": bool(reasons), "reasons": reasons, "drift": drift, "performance": perf}
    if reasons and policy.min_days_served:
        _hold_if_young(loaded.place, policy.min_days_served, decision, perf["version"])
    shadow = judge_shadow(loaded.place, loaded.config.model, loaded.config.features)
    if shadow is not None:
        decision["shadow"] = shadow
    gauges.write(loaded.workdir, decision)  # the service exports these to Prometheus
    mlflow = tracking.configure(loaded.place)
    with mlflow.start_run(run_name=f"{loaded.config.project}-monitor-decision"):
        mlflow.set_tags(
            {
                "mlrig.stage": "monitor",
                "mlrig.decision": "retrain"
                if decision["retrain"]
                else ("held" if reasons else "keep"),
                "mlrig.reasons": "; ".join(reasons)[:4900],
                "mlrig.model_version": str(perf["version"]),
            }
        )
        mlflow.log_dict(decision, "decision.json")
    return decision
