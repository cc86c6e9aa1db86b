import numpy as np
import pandas as pd

from mlrig.components.eda.core import numeric_table, plots, summary, word_rates
from mlrig.components.runtime.html_report import render


def test_eda_profile_has_overview_and_plots():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=300),
            "gap": np.where(rng.random(300) < 0.3, np.nan, 1.0),
            "carrier": rng.choice(["AA", "UA", None], size=300),
            "late": rng.integers(0, 2, 300).astype(float),
        }
    )
    head = summary(frame, "late")
    assert head["rows"] == 300 and head["columns with missing values"] == 2
    assert numeric_table(frame, ["x", "gap", "carrier"]).keys() == {"x", "gap"}
    images = plots(frame, ["x", "gap", "carrier"], "late", "classification")
    assert set(images) == {"missing", "histograms", "target_correlation", "target_by_carrier"}
    page = render("eda", {"Overview": head}, images)
    assert page.count("data:image/png;base64,") == 4


def test_free_text_is_shown_by_its_common_words():
    texts = pd.Series(["App crash on login", "crash crash", "billing question", None, "login slow"])
    y = pd.Series([1, 1, 0, 0, 0])
    rates = word_rates(texts, y)
    assert rates.loc["crash"].tolist() == [1.0, 2]  # twice in one text counts once
    assert rates.loc["login"].tolist() == [0.5, 2] and "on" in rates.index
    assert list(rates.index[:2]) == ["crash", "login"]  # most rows first
    frame = pd.DataFrame({"note": texts, "late": y})
    shown = plots(frame, ["note"], "late", "classification", text=["note"])
    assert "target_by_note" in shown
