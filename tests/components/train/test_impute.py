import numpy as np
import pytest
from sklearn.impute import SimpleImputer

from mlrig.components.train.impute import MedianImputer


def _numbers() -> np.ndarray:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(1001, 5))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, 3] = np.nan  # a column with no value at all
    x[:, 4] = rng.integers(0, 4, len(x))  # ties, an even count of present values below
    x[::2, 4] = np.nan
    return x


@pytest.mark.parametrize("keep_empty", [True, False])
def test_the_median_imputer_fills_and_flags_exactly_as_scikit_learns(keep_empty):
    x = _numbers()
    ours = MedianImputer(add_indicator=True, keep_empty_features=keep_empty).fit(x)
    theirs = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=keep_empty)
    theirs.fit(x)
    np.testing.assert_array_equal(ours.statistics_, theirs.statistics_)
    assert list(ours.indicator_.features_) == list(theirs.indicator_.features_) == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(ours.transform(x.copy()), theirs.transform(x))
    assert (ours.statistics_[3] == 0.0) if keep_empty else np.isnan(ours.statistics_[3])


def test_without_copy_it_fills_the_array_it_is_given():
    x = _numbers()
    imputer = MedianImputer(keep_empty_features=True, copy=False).fit(x)
    filled = imputer.transform(x)
    assert not np.isnan(filled).any() and not np.isnan(x[:, :3]).any()
