import lightgbm
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlrig.components.contract.blend import Blend
from mlrig.components.contract.threads import set_threads
from mlrig.components.train.core import PlattCalibrated


def test_every_lightgbm_inside_a_calibrated_blend_gets_the_threads_and_answers_the_same():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    y = (x["a"] + rng.normal(size=600) > 0).astype(int).to_numpy()
    boosted = make_pipeline(StandardScaler(), lightgbm.LGBMClassifier(n_estimators=20, n_jobs=1))
    linear = make_pipeline(StandardScaler(), LogisticRegression())
    blend = Blend([boosted.fit(x, y), linear.fit(x, y)], [0.7, 0.3], "binary")
    model = PlattCalibrated(blend, 1.2, -0.1)
    before = model.predict_proba(x)
    assert set_threads(model, 2) is model
    assert boosted[-1].get_params()["n_jobs"] == 2
    assert "n_jobs" not in linear[-1].get_params() or linear[-1].n_jobs is None
    np.testing.assert_array_equal(model.predict_proba(x), before)
