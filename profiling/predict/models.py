"""The learned model and every baseline of a prediction task, behind one small contract
(:class:`ScoreModel`): ``fit(examples)`` returns the model, ``predict(examples)`` returns one
probability per row, and ``name`` says which model it is."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from profiling.predict.labels import Examples

LEARNED = "learned"
BASELINES = ("recency", "frequency", "rfm", "bgnbd")


class ScoreModel(ABC):
    """The contract of every model of a prediction task (the learned one and the baselines).

    ``fit(ex)`` learns from labelled :class:`Examples` and returns ``self``; ``predict(ex)``
    returns the probability of the positive label (buys / lapses) for every row of ``ex``,
    comparable across models (Brier, calibration). ``name`` is the model's key in
    :data:`MODEL_INPUTS` and
    :data:`profiling.vocabulary.glossary.PREDICT_MODEL_LABELS`.
    """

    name: str

    @abstractmethod
    def fit(self, ex: Examples) -> ScoreModel:
        """Learn from labelled examples; returns ``self``."""

    @abstractmethod
    def predict(self, ex: Examples) -> np.ndarray:
        """One probability in [0, 1] per row of ``ex``."""


class OneColumnLogistic(ScoreModel):
    """A baseline: logistic regression on one transformed column (monotone in it), so its
    output is a probability comparable with the learned model's (Brier, calibration)."""

    def __init__(
        self, name: str, column: str, transform: Callable[[pl.DataFrame], np.ndarray]
    ) -> None:
        self.name = name
        self.column = column
        self.transform = transform

    def fit(self, ex: Examples) -> OneColumnLogistic:
        self.model_ = LogisticRegression().fit(self.transform(ex.frame)[:, None], ex.y())
        return self

    def predict(self, ex: Examples) -> np.ndarray:
        return self.model_.predict_proba(self.transform(ex.frame)[:, None])[:, 1]


def recency_column(frame: pl.DataFrame) -> np.ndarray:
    # users who never bought rank below every buyer: one day more than the longest history
    never = float(frame["tenure_days"].max() or 0.0) + 1.0
    return np.log1p(frame["recency_days"].fill_null(never).to_numpy().astype(float))


def frequency_column(frame: pl.DataFrame) -> np.ndarray:
    return np.log1p(frame["frequency"].to_numpy().astype(float))


def rfm_column(frame: pl.DataFrame) -> np.ndarray:
    return frame["rfm_score"].to_numpy().astype(float)


class BGNBDBaseline(ScoreModel):
    """BG/NBD's own P(purchase in the window) (1 - it for churn), fitted per cutoff on
    purchases before it. Users it cannot score (no purchase yet) get the rate at which such
    users bought in the training windows."""

    name = "bgnbd"

    def __init__(self, task: str):
        self.task = task

    def fit(self, ex: Examples) -> BGNBDBaseline:
        unscored = ex.frame.filter(pl.col("bgnbd_p").is_null())
        self.fill_ = float(unscored["label"].mean()) if unscored.height else float(ex.y().mean())
        return self

    def predict(self, ex: Examples) -> np.ndarray:
        p = ex.frame["bgnbd_p"]
        if self.task == "churn":
            p = 1.0 - p
        return np.clip(p.fill_null(self.fill_).to_numpy().astype(float), 0.0, 1.0)


class LearnedModel(ScoreModel):
    """HistGradientBoostingClassifier, calibrated by isotonic regression (sigmoid below 2,000
    training rows) fitted on 3-fold out-of-fold predictions.

    ``n_threads`` defaults to 1: on a few thousand rows OpenMP threads mostly wait for each
    other, and on a shared 2-core machine a 16,000-row fit took 0.3 s on one thread against
    3 s on two."""

    name = LEARNED

    def __init__(self, random_state: int = 0, n_threads: int = 1):
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, ex: Examples) -> LearnedModel:
        with threadpool_limits(self.n_threads):
            return self._fit(ex)

    def _fit(self, ex: Examples) -> LearnedModel:
        X, y = ex.X(), ex.y()
        base = HistGradientBoostingClassifier(
            max_iter=100,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=self.random_state,
        )
        folds = max(2, min(3, int(min(np.bincount(y, minlength=2)))))
        method = "isotonic" if y.size >= 2000 else "sigmoid"
        # ensemble=False: one booster fitted on all rows, calibrated on its out-of-fold
        # predictions; a third of the prediction cost of averaging the fold models
        self.model_ = CalibratedClassifierCV(base, method=method, cv=folds, ensemble=False)
        self.model_.fit(X, y)
        self.features_ = ex.features
        return self

    def predict(self, ex: Examples) -> np.ndarray:
        return self.predict_X(ex.X())

    def predict_X(self, X: np.ndarray) -> np.ndarray:
        with threadpool_limits(self.n_threads):
            return self.model_.predict_proba(X)[:, 1]


def make_models(task: str, random_state: int = 0) -> dict[str, ScoreModel]:
    """The learned model and every baseline of ``task``, unfitted, by name (learned first)."""
    models: list[ScoreModel] = [
        LearnedModel(random_state),
        OneColumnLogistic("recency", "recency_days", recency_column),
        OneColumnLogistic("frequency", "frequency", frequency_column),
        OneColumnLogistic("rfm", "rfm_score", rfm_column),
        BGNBDBaseline(task),
    ]
    return {m.name: m for m in models}


MODEL_INPUTS: dict[str, tuple[str, ...] | None] = {
    LEARNED: None,  # every feature
    "recency": ("recency_days",),
    "frequency": ("frequency",),
    "rfm": ("rfm_score",),
    "bgnbd": ("bgnbd_p",),
}
"""The columns each model reads: the drivers of a score are always the inputs of the model
that produced it."""
