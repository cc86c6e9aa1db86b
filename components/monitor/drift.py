"""Drift between a reference (the training data) and a window of recent rows, per feature and for
the predictions.

Numeric: PSI over the reference's deciles and the two-sample KS statistic; categorical: PSI over
the reference's categories (plus 'other' and 'missing') and the chi-square statistic turned into
Cramér's V. A column drifts when an effect size (PSI, KS distance, Cramér's V) passes its
threshold and the test's p-value is below ALPHA: effect sizes alone, because plain p-values flag
any difference at all once samples reach 100k rows; and significance too, because on a window of
a few dozen rows PSI is large by chance alone.

Every column is also judged by its missing share alone: a feature that stops arriving (all null in
the window) or starts arriving half empty alarms by name, whatever its present values do. The
share moves by more than MISSING_ALARM and a chi-square test of the two shares says p < ALPHA.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

BINS = 10
EPS = 1e-4
# Usual reading: PSI < 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift.
PSI_ALARM = 0.2
KS_ALARM = 0.1
CRAMER_ALARM = 0.1
ALPHA = 0.01
MISSING_ALARM = 0.1  # absolute change of the missing share
OTHER, MISSING = "__other__", "__missing__"


@dataclass
class FeatureDrift:
    column: str
    kind: str  # numeric | categorical
    psi: float
    statistic: float  # KS distance or Cramér's V
    p_value: float
    missing_ref: float
    missing_cur: float
    drifted: bool
    missing_drifted: bool = False  # the missing share alone moved (drifted is then true too)

    def as_dict(self) -> dict:
        return asdict(self)


def psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    ref = np.clip(ref_share, EPS, None)
    cur = np.clip(cur_share, EPS, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def missing_moved(ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int) -> bool:
    """Whether the missing share moved: by more than MISSING_ALARM, and significantly."""
    if not ref_rows or not cur_rows:
        return False
    if abs(cur_missing / cur_rows - ref_missing / ref_rows) <= MISSING_ALARM:
        return False
    table = np.array([[ref_missing, ref_rows - ref_missing], [cur_missing, cur_rows - cur_missing]])
    if (table.sum(axis=0) == 0).any():
        return False
    _, p, _, _ = stats.chi2_contingency(table, correction=False)
    return bool(p < ALPHA)


def _with_missing(drift: FeatureDrift, ref_rows: int, cur_rows: int) -> FeatureDrift:
    moved = missing_moved(
        round(drift.missing_ref * ref_rows), ref_rows, round(drift.missing_cur * cur_rows), cur_rows
    )
    drift.missing_drifted = moved
    drift.drifted = drift.drifted or moved
    return drift


def _numeric(column: str, ref: pd.Series, cur: pd.Series) -> FeatureDrift:
    r = pd.to_numeric(ref, errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(cur, errors="coerce").to_numpy(dtype=float)
    r_ok, c_ok = r[np.isfinite(r)], c[np.isfinite(c)]
    if not len(r_ok) or not len(c_ok):
        return FeatureDrift(
            column,
            "numeric",
            float("nan"),
            float("nan"),
            float("nan"),
            1 - len(r_ok) / max(len(r), 1),
            1 - len(c_ok) / max(len(c), 1),
            False,
        )
    edges = np.unique(np.quantile(r_ok, np.linspace(0, 1, BINS + 1)[1:-1]))
    ref_counts = np.bincount(np.searchsorted(edges, r_ok, side="right"), minlength=len(edges) + 1)
    cur_counts = np.bincount(np.searchsorted(edges, c_ok, side="right"), minlength=len(edges) + 1)
    value = psi(ref_counts / len(r_ok), cur_counts / len(c_ok))
    ks = stats.ks_2samp(r_ok, c_ok)
    drifted = (value > PSI_ALARM or ks.statistic > KS_ALARM) and ks.pvalue < ALPHA
    return FeatureDrift(
        column,
        "numeric",
        value,
        float(ks.statistic),
        float(ks.pvalue),
        1 - len(r_ok) / len(r),
        1 - len(c_ok) / len(c),
        drifted,
    )


def _categorical(column: str, ref: pd.Series, cur: pd.Series, top: int = 30) -> FeatureDrift:
    r = ref.astype(object).where(ref.notna(), MISSING).astype(str)
    c = cur.astype(object).where(cur.notna(), MISSING).astype(str)
    keep = list(r.value_counts().index[:top])
    r = r.where(r.isin(keep), OTHER)
    c = c.where(c.isin(keep), OTHER)
    cats = sorted(set(r.unique()) | set(c.unique()))
    rc = r.value_counts().reindex(cats, fill_value=0).to_numpy()
    cc = c.value_counts().reindex(cats, fill_value=0).to_numpy()
    value = psi(rc / rc.sum(), cc / cc.sum())
    table = np.vstack([rc, cc])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        chi2, p, v = 0.0, 1.0, 0.0
    else:
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        v = float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))
    drifted = (value > PSI_ALARM or v > CRAMER_ALARM) and p < ALPHA
    return FeatureDrift(
        column,
        "categorical",
        value,
        v,
        float(p),
        float((ref.isna()).mean()),
        float(cur.isna().mean()),
        drifted,
    )


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, categorical: list[str]
) -> list[FeatureDrift]:
    """Drift of every column both frames share; categorical columns by name."""
    out = []
    for column in [c for c in reference.columns if c in current.columns]:
        judge = _categorical if column in categorical else _numeric
        drift = judge(column, reference[column], current[column])
        out.append(_with_missing(drift, len(reference), len(current)))
    return out


def word_counts(frame: pd.DataFrame, text: list[str]) -> pd.DataFrame:
    """Free-text columns as their number of words (missing stays missing): every text is its
    own category, so a shift shows in their length, not in their levels."""
    present = [c for c in text if c in frame]
    if not present:
        return frame
    out = frame.copy()
    for column in present:
        values = out[column]
        counts = values.map(lambda v: float(len(v.split())) if isinstance(v, str) else np.nan)
        out[column] = counts.astype("float64")
    return out


CALENDAR_PARTS = ("year", "month", "day", "dayofyear", "weekofyear")
LIFETIME = re.compile(r"__(count|sum)_all$|__days_since_first$")


def moves_with_time(
    inputs: list[str], date_parts: dict | None, event_time: str | None
) -> list[str]:
    """Model inputs that shift whenever time passes, whatever the data do: the event time's
    calendar parts beyond a week's cycle (month, day of year: last month's traffic is all in one
    month) and lifetime aggregates (counts and sums over all history, days since the first
    event: they only grow). Their drift is reported but not counted toward retraining."""
    out = []
    if date_parts and date_parts.get("column") == event_time:
        out += [f"{event_time}_{p}" for p in date_parts.get("parts", []) if p in CALENDAR_PARTS]
    out += [name for name in inputs if LIFETIME.search(name)]
    return [name for name in inputs if name in out]


def summary(drifts: list[FeatureDrift], time_bound: list[str] | None = None) -> dict:
    """The JSON summary: drifted columns first, every number beside them. Drift of a column that
    moves with time (moves_with_time) is listed under moved_with_time, not drifted."""
    ranked = sorted(drifts, key=lambda d: (not d.drifted, -np.nan_to_num(d.psi)))
    bound = set(time_bound or [])
    return {
        "drifted": [d.column for d in ranked if d.drifted and d.column not in bound],
        "moved_with_time": [d.column for d in ranked if d.drifted and d.column in bound],
        "thresholds": {
            "psi": PSI_ALARM,
            "ks": KS_ALARM,
            "cramers_v": CRAMER_ALARM,
            "alpha": ALPHA,
            "missing_share": MISSING_ALARM,
        },
        "missing_drifted": [d.column for d in ranked if d.missing_drifted],
        "features": [d.as_dict() for d in ranked],
    }
