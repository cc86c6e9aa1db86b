import numpy as np
import pandas as pd

from mlrig.components.common.html_report import render
from mlrig.components.eda.core import numeric_table, plots, summary


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
