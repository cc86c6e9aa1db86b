"""How a logistic regression is solved: Newton's method (scikit-learn's newton-cholesky) when its
encoded inputs are few, L-BFGS otherwise. Both minimise the same penalised loss.

Mlrig's encoded inputs (scaled numbers, missing flags, one-hot levels, target encodings) are
correlated and unevenly scaled, and L-BFGS needed 60-110 iterations on the demo's 70 columns:
0.2-1.0 s a fold on 10,000-30,000 rows and 1.8 s on 262,000. Newton's method took 3-5 iterations
and 0.01-0.04 s a fold. Each of its iterations builds a Hessian of (columns x outputs) squared
entries over every row, so past NEWTON_MAX_WIDTH it is the slower one (300 columns on 262,000
rows: 3.7 s against L-BFGS's 0.4 s on well-conditioned data)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

NEWTON_MAX_WIDTH = 150  # encoded columns x outputs (1 for two classes, else one per class)


def solver_for(columns: int, classes: int) -> str:
    """The solver of a logistic regression over `columns` encoded inputs and `classes` labels."""
    outputs = 1 if classes <= 2 else classes
    return "newton-cholesky" if columns * outputs <= NEWTON_MAX_WIDTH else "lbfgs"


def is_logistic(pipe: Any) -> bool:
    return isinstance(pipe.steps[-1][1], LogisticRegression)


def fit_logistic(pipe: Any, x: Any, y: np.ndarray) -> Any:
    """pipe.fit(x, y) for a pipeline ending in a logistic regression: the preprocessing is
    fitted first (as Pipeline.fit does), then the regression with the solver its encoded width
    calls for."""
    encoded = pipe[:-1].fit_transform(x, y)
    model = pipe.steps[-1][1]
    model.set_params(solver=solver_for(encoded.shape[1], len(np.unique(y))))
    model.fit(encoded, y)
    return pipe
