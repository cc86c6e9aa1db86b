"""Free text as model inputs: a column's TF-IDF weights of words and word pairs, reduced to a
few dense components (latent semantic analysis).

Dense components suit every candidate alike (gradient boosting takes no sparse input, LightGBM
takes them as plain numbers), keep a wide vocabulary from widening the model, and score one
request in tens of microseconds. Missing text is the empty text.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

COMPONENTS = 16  # per text column
MIN_DF = 2  # a term in fewer rows than this is noise (a typo, an order number)
MAX_TERMS = 20_000
# each fitted TextTopics' tokenizer, built once (kept out of the model file: it is a function)
_ANALYZERS: WeakKeyDictionary[Any, Callable[[str], list[str]]] = WeakKeyDictionary()
# recent fits by their texts: the search fits every trial on the same CV folds, and the topics
# (no label involved) of a fold's texts are the same each time; one fit per fold, not per trial
_FITTED: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_KEEP = 8


def _docs(x: Any) -> list[str]:
    """The first column of x as text, missing as ''."""
    column = x.iloc[:, 0] if isinstance(x, pd.DataFrame) else np.asarray(x, dtype=object)[:, 0]
    return ["" if not isinstance(v, str) else v for v in column]


class TextTopics(TransformerMixin, BaseEstimator):
    """One text column -> `components` numbers (fewer when the vocabulary is smaller), named
    <column>_topic00, ...; none when no term occurs in MIN_DF rows."""

    def __init__(self, components: int = COMPONENTS, seed: int = 0) -> None:
        self.components = components
        self.seed = seed

    def fit(self, x: Any, y: Any = None) -> TextTopics:
        self.column_ = str(x.columns[0]) if isinstance(x, pd.DataFrame) else "text"
        docs = _docs(x)
        key = self._key(docs)
        if key in _FITTED:
            _FITTED.move_to_end(key)
            self.tfidf_, self.svd_ = _FITTED[key]
            return self
        self._fit(docs)
        _FITTED[key] = (self.tfidf_, self.svd_)
        while len(_FITTED) > _KEEP:
            _FITTED.popitem(last=False)
        return self

    def _key(self, docs: list[str]) -> str:
        digest = hashlib.blake2b(f"{self.components}|{self.seed}|{MIN_DF}|{MAX_TERMS}".encode())
        for doc in docs:
            digest.update(doc.encode("utf-8", "surrogatepass") + b"\x00")
        return digest.hexdigest()

    def _fit(self, docs: list[str]) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.tfidf_ = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=min(MIN_DF, len(docs)),
            max_features=MAX_TERMS,
            sublinear_tf=True,
            dtype=np.float64,
        )
        try:
            weights = self.tfidf_.fit_transform(docs)
        except ValueError:  # no term at all (every row empty, or every term too rare)
            self.tfidf_, self.svd_ = None, None
            return
        width = min(self.components, weights.shape[1] - 1, len(docs) - 1)
        # one term: its weight is the one number
        self.svd_ = (
            TruncatedSVD(n_components=width, random_state=self.seed).fit(weights)
            if width >= 1
            else None
        )

    def _width(self) -> int:
        if self.tfidf_ is None:
            return 0
        return self.svd_.n_components if self.svd_ is not None else len(self.tfidf_.vocabulary_)

    def transform(self, x: Any) -> np.ndarray:
        docs = _docs(x)
        if self.tfidf_ is None:
            return np.zeros((len(docs), 0))
        weights = self.tfidf_.transform(docs)
        if self.svd_ is None:
            return weights.toarray()
        return np.asarray(self.svd_.transform(weights), dtype=float)

    def one(self, value: Any) -> list[float]:
        """transform() of one text, in plain arithmetic over its own terms: sklearn's checks
        and sparse matrices cost half a millisecond for one request."""
        if self.tfidf_ is None:
            return []
        analyze = _ANALYZERS.get(self)
        if analyze is None:
            analyze = _ANALYZERS[self] = self.tfidf_.build_analyzer()
        vocabulary, idf = self.tfidf_.vocabulary_, self.tfidf_.idf_
        counts = Counter(
            vocabulary[t]
            for t in analyze(value if isinstance(value, str) else "")
            if t in vocabulary
        )
        index = np.fromiter(counts, dtype=np.intp, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * idf[index]
        norm = np.sqrt(weights @ weights)
        if norm > 0:
            weights = weights / norm
        if self.svd_ is None:
            dense = np.zeros(len(vocabulary))
            dense[index] = weights
            return dense.tolist()
        return (self.svd_.components_[:, index] @ weights).tolist()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [f"{self.column_}_topic{i:02d}" for i in range(self._width())]
        return np.array(names, dtype=object)
