"""The learned model and every baseline of a prediction task, behind one small contract
(:class:`ScoreModel`): ``fit(examples)`` returns the model, ``predict(examples)`` returns one
probability per row, and ``name`` says which model it is."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from profiling.predict.labels import Examples

LEARNED = "learned"
BASELINES = ("recency", "purchase_days", "rfm", "bgnbd")


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


def purchase_days_column(frame: pl.DataFrame) -> np.ndarray:
    return np.log1p(frame["purchase_days"].to_numpy().astype(float))


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


SETTINGS: tuple[dict, ...] = (
    {"learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 50, "l2_regularization": 1.0},
    {
        "learning_rate": 0.05,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 200,
        "l2_regularization": 3.0,
    },
    {"learning_rate": 0.1, "max_leaf_nodes": 7, "min_samples_leaf": 20, "l2_regularization": 0.0},
    {"learning_rate": 0.03, "max_leaf_nodes": 7, "min_samples_leaf": 100, "l2_regularization": 1.0},
)
"""The gradient-boosting settings :class:`LearnedModel` searches (each with early stopping)."""


MAX_ROWS = 500_000
"""Example rows :class:`LearnedModel` fits on at most (a random sample beyond)."""


def _split_for_tuning(ex: Examples, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows to fit, rows to validate on): the most recent cutoff of ``ex`` when it has two
    or more, else a random quarter of the rows."""
    if "cutoff" in ex.frame.columns:
        cut = ex.frame["cutoff"]
        latest = cut.max()
        is_val = (cut == latest).to_numpy()
        if 0 < is_val.sum() < is_val.size:
            return np.flatnonzero(~is_val), np.flatnonzero(is_val)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(ex.frame.height)
    n_val = max(ex.frame.height // 4, 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


class LearnedModel(ScoreModel):
    """HistGradientBoostingClassifier tuned on the examples it is given, calibrated by
    isotonic regression.

    ``fit(ex)`` holds out the most recent cutoff of ``ex`` (its own validation window: the
    protocol passes only windows whose labels end before the window being measured), fits
    each of :data:`SETTINGS` with early stopping on at most ``tune_rows`` of the other rows,
    keeps the setting and number of boosting rounds with the best ROC-AUC on the held-out
    cutoff, refits that on every row and calibrates it (isotonic, sigmoid below 2,000
    validation rows) on the held-out cutoff's scores of the model fitted without it.
    ``tune=False`` skips the search (the first setting, 100 rounds).

    ``max_rows``: on more example rows than this (a large store: 500,000 customers at seven
    cutoffs are 3.5 million rows), the model is fitted on a random ``max_rows`` of them
    drawn with ``random_state`` (every cutoff in proportion), which :meth:`describe` says;
    a fit on millions of rows took minutes for no measurable gain in ranking.

    ``n_threads`` defaults to 1: on a few thousand rows OpenMP threads mostly wait for each
    other, and on a shared 2-core machine a 16,000-row fit took 0.3 s on one thread against
    3 s on two."""

    name = LEARNED

    def __init__(
        self,
        random_state: int = 0,
        n_threads: int = 1,
        *,
        tune: bool = True,
        tune_rows: int = 150_000,
        setting: dict | None = None,
        n_iter: int | None = None,
        max_rows: int = MAX_ROWS,
    ):
        self.random_state = random_state
        self.max_rows = max_rows
        self.n_threads = n_threads
        self.tune = tune
        self.tune_rows = tune_rows
        self.setting = setting
        self.n_iter = n_iter

    def fit(self, ex: Examples) -> LearnedModel:
        with threadpool_limits(self.n_threads):
            return self._fit(ex)

    def _booster(self, setting: dict, max_iter: int, early: bool) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=max_iter,
            early_stopping=early,
            n_iter_no_change=15,
            validation_fraction=0.15,
            random_state=self.random_state,
            **setting,
        )

    def _fit(self, ex: Examples) -> LearnedModel:
        ex = self._sample(ex)
        X, y = ex.X(), ex.y()
        fit_rows, val_rows = _split_for_tuning(ex, self.random_state)
        rng = np.random.default_rng(self.random_state)
        if fit_rows.size > self.tune_rows:
            fit_rows = np.sort(rng.choice(fit_rows, self.tune_rows, replace=False))
        # an input with no value in the rows tuned on (the buying-pattern model could not be
        # fitted before those cutoffs) is left out: gradient boosting cannot bin it
        self.keep_ = ~np.isnan(X[fit_rows]).all(axis=0)
        X = X[:, self.keep_]
        trials = []
        settings = SETTINGS if self.tune else SETTINGS[:1]
        if self.setting is not None:  # chosen before, on a validation window: no search
            settings = (self.setting,)
        for setting in settings:
            early = self.tune and self.setting is None and fit_rows.size >= 1000
            rounds = self.n_iter or 100
            model = self._booster(setting, 400 if early else rounds, early)
            if len(np.unique(y[fit_rows])) < 2 or len(np.unique(y[val_rows])) < 2:
                trials.append((float("nan"), setting, model.max_iter, None))
                break
            model.fit(X[fit_rows], y[fit_rows])
            p_val = model.predict_proba(X[val_rows])[:, 1]
            auc = float(roc_auc_score(y[val_rows], p_val))
            trials.append((auc, setting, int(model.n_iter_), p_val))
        best = max(trials, key=lambda t: -1.0 if np.isnan(t[0]) else t[0])
        self.validation_auc_, self.setting_, self.n_iter_, p_val = best
        self.trials_ = [(a, s, n) for a, s, n, _ in trials]
        self.model_ = self._booster(self.setting_, max(self.n_iter_, 1), False).fit(X, y)
        self.calibrator_ = None
        if p_val is not None:
            if val_rows.size >= 2000:
                self.calibrator_ = IsotonicRegression(out_of_bounds="clip").fit(p_val, y[val_rows])
            else:
                self.calibrator_ = LogisticRegression().fit(_logit(p_val)[:, None], y[val_rows])
        self.features_ = ex.features
        return self

    def _sample(self, ex: Examples) -> Examples:
        """``ex``, or a random ``max_rows`` of its rows (in their order) when it has more;
        ``rows_`` is (rows fitted on, rows given)."""
        n = ex.frame.height
        self.rows_ = (min(n, self.max_rows), n)
        if n <= self.max_rows:
            return ex
        rng = np.random.default_rng(self.random_state)
        keep = np.sort(rng.choice(n, self.max_rows, replace=False))
        return Examples(ex.frame[keep], ex.features)

    def describe(self) -> str:
        """The chosen setting and rounds, and its validation ROC-AUC, in one line (and the
        sample it was fitted on, when it saw one)."""
        s = self.setting_
        how = (
            "chosen on the validation window"
            if self.setting is not None
            else f"best of {len(self.trials_)} settings on its validation window"
        )
        return (
            f"gradient boosting, {self.n_iter_} rounds, learning rate {s['learning_rate']}, "
            f"{s['max_leaf_nodes']} leaves, at least {s['min_samples_leaf']} rows per leaf "
            f"({how}, ROC-AUC {self.validation_auc_:.3f})" + self.sample_note()
        )

    def sample_note(self) -> str:
        """ "; fitted on a random 500,000 of 3,412,000 example rows (fixed seed)" when the
        fit saw a sample, else ""."""
        seen, given = self.rows_
        if seen == given:
            return ""
        return f"; fitted on a random {seen:,} of {given:,} example rows (fixed seed)"

    def tuned(self) -> dict:
        """The setting and rounds this fit chose, to refit with on more rows
        (``LearnedModel(**model.tuned())``) without searching again."""
        return {"setting": self.setting_, "n_iter": self.n_iter_}

    def predict(self, ex: Examples) -> np.ndarray:
        return self.predict_X(ex.X())

    def predict_X(self, X: np.ndarray) -> np.ndarray:
        with threadpool_limits(self.n_threads):
            raw = self.model_.predict_proba(X[:, self.keep_])[:, 1]
        return self.calibrate(raw)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """The calibrated chance from the booster's own ``predict_proba`` column ``raw``."""
        if self.calibrator_ is None:
            return raw
        if isinstance(self.calibrator_, IsotonicRegression):
            return keep_order(np.clip(self.calibrator_.predict(raw), 0.0, 1.0), raw)
        return self.calibrator_.predict_proba(_logit(raw)[:, None])[:, 1]


TIE_BREAK = 1e-6
"""How far :func:`keep_order` may move a calibrated probability."""


def keep_order(calibrated: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Isotonic calibration maps whole ranges of raw scores onto one step, and the ties it
    creates throw ranking away (on Online Retail II's validation window the calibrated
    model's ROC-AUC was 0.715 against the raw model's 0.718). Each probability moves by at
    most :data:`TIE_BREAK` so that the raw score orders the users inside a step: the ranking
    is the raw model's, the probabilities stay the calibrated ones (Brier changes below 1e-6),
    and every value stays strictly inside (0, 1)."""
    return calibrated * (1.0 - 2.0 * TIE_BREAK) + TIE_BREAK * (0.5 + raw)


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


class PAliveBaseline(ScoreModel):
    """Churn only: 1 - P(alive) of the buying-pattern model fitted before the cutoff (the
    textbook reading of "has this customer lapsed"). Users it cannot score get the lapse
    rate of such users in the training windows."""

    name = "p_alive"

    def fit(self, ex: Examples) -> PAliveBaseline:
        unscored = ex.frame.filter(pl.col("bgnbd_alive").is_null())
        self.fill_ = float(unscored["label"].mean()) if unscored.height else float(ex.y().mean())
        return self

    def predict(self, ex: Examples) -> np.ndarray:
        p = 1.0 - ex.frame["bgnbd_alive"]
        return np.clip(p.fill_null(self.fill_).to_numpy().astype(float), 0.0, 1.0)


def baselines(task: str) -> tuple[str, ...]:
    """The baselines of ``task``: churn adds 1 - P(alive)."""
    return (*BASELINES, "p_alive") if task == "churn" else BASELINES


def make_models(
    task: str,
    random_state: int = 0,
    *,
    learned: bool = True,
    tune: bool = True,
    tuned: dict | None = None,
    skip: tuple[str, ...] = (),
) -> dict[str, ScoreModel]:
    """The learned model (unless ``learned`` is false: the baselines need no training
    beyond a one-column fit) and every baseline of ``task`` but those in ``skip``, unfitted,
    by name (learned first). ``tuned``: :meth:`LearnedModel.tuned` of an earlier fit."""
    models: list[ScoreModel] = (
        [LearnedModel(random_state, tune=tune, **(tuned or {}))] if learned else []
    )
    models += [
        OneColumnLogistic("recency", "recency_days", recency_column),
        OneColumnLogistic("purchase_days", "purchase_days", purchase_days_column),
        OneColumnLogistic("rfm", "rfm_score", rfm_column),
        BGNBDBaseline(task),
    ]
    if task == "churn":
        models.append(PAliveBaseline())
    return {m.name: m for m in models if m.name not in skip}


MODEL_INPUTS: dict[str, tuple[str, ...] | None] = {
    LEARNED: None,  # every feature
    "recency": ("recency_days",),
    "purchase_days": ("purchase_days",),
    "rfm": ("rfm_score",),
    "bgnbd": ("bgnbd_p",),
    "p_alive": ("bgnbd_alive",),
}
"""The columns each model reads: the drivers of a score are always the inputs of the model
that produced it."""
