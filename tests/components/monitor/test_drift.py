"""Drift holds up at large sample sizes: two samples of one distribution raise no alarm at
n = 100k, and a shifted column is flagged by name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlrig.components.monitor.drift import feature_drift, summary, word_counts


def _sample(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "delay": rng.gamma(2, 10, n) + shift,
            "temp": rng.normal(15, 8, n),
            "carrier": rng.choice(["UA", "DL", "AA", "B6"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def test_same_distribution_at_100k_raises_no_alarm():
    result = summary(feature_drift(_sample(100_000, 1), _sample(100_000, 2), ["carrier"]))
    assert result["drifted"] == []
    p_values = [f["p_value"] for f in result["features"]]
    assert all(np.isfinite(p_values))


def test_a_shifted_column_is_flagged_by_name():
    current = _sample(100_000, 2, shift=8.0)
    rng = np.random.default_rng(3)
    current["carrier"] = rng.choice(["UA", "DL", "AA", "B6"], 100_000, p=[0.1, 0.2, 0.3, 0.4])
    result = summary(feature_drift(_sample(100_000, 1), current, ["carrier"]))
    assert set(result["drifted"]) == {"delay", "carrier"}
    delay = next(f for f in result["features"] if f["column"] == "delay")
    assert delay["psi"] > 0.2 and delay["statistic"] > 0.1


def test_a_small_window_of_the_same_distribution_raises_no_alarm():
    """PSI on a few dozen rows is large by chance; significance keeps it quiet."""
    alarms = 0
    for seed in range(20):
        result = summary(feature_drift(_sample(5_000, 1), _sample(60, 100 + seed), ["carrier"]))
        alarms += len(result["drifted"])
    assert alarms <= 1  # 60 column checks at alpha 0.01


def test_a_large_shift_is_flagged_in_a_small_window():
    result = summary(feature_drift(_sample(5_000, 1), _sample(60, 7, shift=30.0), ["carrier"]))
    assert result["drifted"] == ["delay"]


def test_inputs_that_move_with_time_are_reported_not_counted():
    """Served a month after training, an event time's month and day of year, a customer's
    lifetime count and the days since its first event all shift with nothing wrong; hour and
    day of week (a week's cycle), windowed aggregates and rates keep counting."""
    from mlrig.components.monitor.drift import moves_with_time, summary

    inputs = ["ts_hour", "ts_dayofweek", "ts_month", "ts_dayofyear", "c__count_all",
              "c__count_7d", "c__fraud_yes_mean_all", "c__days_since_first",
              "c__days_since_last", "amount"]  # fmt: skip
    parts = {"column": "ts", "parts": ["hour", "month", "dayofweek", "dayofyear"]}
    bound = moves_with_time(inputs, parts, "ts")
    assert bound == ["ts_month", "ts_dayofyear", "c__count_all", "c__days_since_first"]
    assert moves_with_time(inputs, {"column": "built", "parts": ["year"]}, "ts") == [
        "c__count_all",
        "c__days_since_first",
    ]  # a house's build year is data, not the calendar
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"ts_month": rng.integers(1, 13, 2000).astype(float),
                        "amount": rng.normal(0, 1, 2000)})  # fmt: skip
    cur = pd.DataFrame({"ts_month": np.full(500, 12.0), "amount": rng.normal(3, 1, 500)})
    result = summary(feature_drift(ref, cur, []), bound)
    assert result["drifted"] == ["amount"] and result["moved_with_time"] == ["ts_month"]


def test_free_text_drifts_by_its_length_in_words():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"note": [" ".join(["w"] * int(k)) for k in rng.integers(3, 8, 500)]})
    same = pd.DataFrame({"note": [" ".join(["v"] * int(k)) for k in rng.integers(3, 8, 500)]})
    longer = pd.DataFrame({"note": [" ".join(["w"] * int(k)) for k in rng.integers(20, 40, 500)]
                           + [None] * 10})  # fmt: skip
    counted = word_counts(longer, ["note"])
    assert counted["note"].dtype == "float64" and counted["note"].isna().sum() == 10
    # other words of the same length are no drift; texts three times as long are
    assert not feature_drift(word_counts(ref, ["note"]), word_counts(same, ["note"]), [])[0].drifted
    assert feature_drift(word_counts(ref, ["note"]), counted, [])[0].drifted


def test_a_feature_that_stops_arriving_alarms_by_name():
    current = _sample(500, 2)
    current["temp"] = np.nan  # the weather feed stopped
    current.loc[: len(current) // 2, "carrier"] = None  # half the carriers went missing
    result = summary(feature_drift(_sample(5_000, 1), current, ["carrier"]))
    assert set(result["drifted"]) == {"temp", "carrier"}
    assert set(result["missing_drifted"]) == {"temp", "carrier"}
    temp = next(f for f in result["features"] if f["column"] == "temp")
    assert temp["missing_ref"] == 0 and temp["missing_cur"] == 1


def test_a_steady_missing_share_raises_no_alarm():
    reference, current = _sample(20_000, 1), _sample(20_000, 2)
    for frame, seed in ((reference, 3), (current, 4)):
        gone = np.random.default_rng(seed).random(len(frame)) < 0.3
        frame.loc[gone, "temp"] = np.nan
    result = summary(feature_drift(reference, current, ["carrier"]))
    assert result["drifted"] == [] and result["missing_drifted"] == []
