"""Hyperparameter tuning without peeking: a plain grid scored on a validation split carved
from the training part of a split (the test part is never read), under a time budget.

>>> from profiling.evaluation.tune import tune
>>> result = tune("ease", split)           # doctest: +SKIP
>>> result.params, result.score            # best settings and their validation NDCG@k

The validation split repeats the outer protocol inside ``split.train``: a global temporal
cut of the training events (temporal), each user's last relevant training event
(leave-last-n), 25% of each user's training items (stratified), or the first of 5 random
folds of the training rows (k-fold). Candidates are tried in grid order, the registry's
defaults first, so the chosen setting is never worse on validation than the default; when the
budget runs out the remaining candidates are skipped and the result says so.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from profiling.errors import EvaluationError
from profiling.evaluation.compare import recommend_excluding
from profiling.evaluation.metrics import mean_over_users, ndcg_at_k
from profiling.evaluation.relevance import Relevance, relevance_for
from profiling.evaluation.splits import (
    Split,
    interactions_from,
    leave_last_n,
    random_kfold,
    relevant_items,
    stratified_split,
    temporal_split,
)
from profiling.recommenders import registry
from profiling.recommenders.base import Recommender
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

Progress = Callable[[str, int, int], None]


def grid(**axes: Iterable) -> list[dict]:
    """Every combination of the given parameter values (the first value of each axis
    first)."""
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


HYBRID_PARTS = ("item-knn", "ease", "als", "bpr", "content")
"""Sub-models of the registry hybrid, in order."""


def _hybrid_weights() -> list[dict]:
    out = []
    levels = {
        "item-knn": (0.0, 0.5, 1.0),
        "ease": (1.0, 0.5, 0.0),
        "als": (0.0, 0.5, 1.0),
        "bpr": (0.0, 0.5, 1.0),
        "content": (0.0, 0.2),
    }
    for norm in ("minmax", "zscore"):
        for values in itertools.product(*levels.values()):
            if sum(values[:4]) > 0:
                weights = dict(zip(HYBRID_PARTS, values, strict=True))
                out.append({"weights": weights, "normalization": norm})
    return out


GRIDS: dict[str, list[dict]] = {
    "ease": grid(l2=(500.0, 100.0, 200.0, 300.0, 1000.0, 2000.0), weighting=("log", "binary")),
    "als": grid(
        factors=(64, 32, 128, 200),
        regularization=(20.0, 1.0, 5.0, 50.0),
        alpha=(1.0, 5.0, 10.0),
        iterations=(15,),
    ),
    "bpr": grid(
        factors=(200, 64),
        regularization=(0.01, 0.001),
        learning_rate=(0.01, 0.02),
        iterations=(300, 100, 200),
    ),
    "item-knn": grid(k_neighbors=(100, 20, 50, 200, 400), shrink=(0.0, 10.0, 50.0, 100.0)),
    "hybrid": _hybrid_weights(),
}
"""Candidate settings per tunable registry model; :func:`candidates` puts the model's
current setting in front."""


SETTING_WORDS: dict[str, str] = {
    "l2": N_("how strongly similarities are held back (L2)"),
    "weighting": N_("how repeated actions count"),
    "factors": N_("number of hidden tastes"),
    "regularization": N_("how strongly the model is held back"),
    "alpha": N_("extra trust in repeated actions"),
    "iterations": N_("training rounds"),
    "learning_rate": N_("learning step"),
    "k_neighbors": N_("similar items considered"),
    "shrink": N_("discount for items seen together rarely"),
    "weights": N_("weight of each model in the blend"),
    "normalization": N_("how scores are made comparable"),
}
"""A tuning grid's setting -> its meaning in plain words (English msgids)."""

VALUE_WORDS: dict[str, str] = {
    "log": N_("by the logarithm of their count"),
    "binary": N_("once, however often"),
    "minmax": N_("rescaled to 0-1"),
    "zscore": N_("standardized"),
}
"""Text values of the grids in plain words (English msgids)."""


def setting_rows(params: dict) -> list[tuple[str, str]]:
    """(setting, value) in plain words for chosen ``params`` of a tuning grid, in the
    order of :data:`SETTING_WORDS`: ``{"l2": 500.0, "weighting": "log"}`` -> [("how
    strongly similarities are held back (L2)", "500"), ("how repeated actions count", "by
    the logarithm of their count")]. Blend weights read "item-kNN 1, EASE 0.5"; a setting
    or value without words is shown as it is."""
    order = [k for k in SETTING_WORDS if k in params] + sorted(set(params) - set(SETTING_WORDS))
    return [
        (_(SETTING_WORDS[k]) if k in SETTING_WORDS else k, _value_words(params[k])) for k in order
    ]


def _value_words(value) -> str:
    if isinstance(value, dict):
        return _(", ").join(f"{G.model_label(m)} {_value_words(w)}" for m, w in value.items())
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return fmt.number(value, 4)
    return _(VALUE_WORDS[value]) if value in VALUE_WORDS else str(value)


def candidates(name: str, model: Recommender | None = None) -> list[dict]:
    """The grid of ``name`` with the current setting of ``model`` (default: the registry
    model) in front; duplicates removed."""
    if name not in GRIDS:
        raise EvaluationError(
            _("model {name} has no tuning grid; tunable models: {models}.").format(
                name=repr(name), models=", ".join(GRIDS)
            )
        )
    default = (model if model is not None else registry.make(name)).get_params()
    first = {k: default[k] for k in GRIDS[name][0] if k in default}
    out, seen = [first], {json.dumps(first, sort_keys=True, default=str)}
    for params in GRIDS[name]:
        key = json.dumps(params, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(params)
    return out


def validation_split(
    split: Split, relevance: Relevance, random_state: int = S.RANDOM_STATE
) -> Split:
    """A split of ``split.train`` alone, by the same protocol as ``split`` (module notes)."""
    train = split.train
    if split.protocol == "temporal":
        return temporal_split(train, test_fraction=0.2)
    if split.protocol == "leave_last_n":
        return leave_last_n(train, n=1, relevant_types=relevance.types or (S.RATE,))
    if split.protocol == "stratified":
        return stratified_split(train, test_fraction=0.25, random_state=random_state)
    return random_kfold(train, n_folds=5, random_state=random_state)[0]


@dataclass
class TuneResult:
    """Outcome of :func:`tune`.

    Attributes
    ----------
    name : str
        Registry name of the model.
    params : dict
        The chosen settings (constructor parameters).
    score : float
        Their validation NDCG@k.
    default_score : float
        Validation NDCG@k of the registry defaults (the first candidate).
    trials : pl.DataFrame
        One row per candidate tried: params (JSON), ndcg, seconds.
    complete : bool
        Whether every candidate was tried within the budget.
    validation : str
        Description of the validation split.
    seconds : float
    model : Recommender
        An unfitted model with the chosen settings.
    """

    name: str
    params: dict
    score: float
    default_score: float
    trials: pl.DataFrame
    complete: bool
    validation: str
    seconds: float
    model: Recommender = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-ready summary (saved with the results)."""
        return {
            "model": self.name,
            "params": self.params,
            "validation_ndcg": self.score,
            "default_validation_ndcg": self.default_score,
            "tried": self.trials.height,
            "complete": self.complete,
            "validation": self.validation,
            "seconds": round(self.seconds, 2),
            "trials": self.trials.to_dicts(),
        }


def tune(
    name: str,
    split: Split,
    *,
    relevance: Relevance | None = None,
    items: pl.DataFrame | None = None,
    k: int = S.DEFAULT_K,
    budget_seconds: float = 60.0,
    grid_override: list[dict] | None = None,
    progress: Progress | None = None,
    random_state: int = S.RANDOM_STATE,
    model: Recommender | None = None,
) -> TuneResult:
    """Choose the settings of registry model ``name`` by NDCG@k on a validation split
    carved from ``split.train`` (:func:`validation_split`); ``split.test`` is never read.

    Parameters
    ----------
    name : str
        A model of :data:`GRIDS` (ease, als, bpr, item-knn, hybrid).
    split : Split
        The evaluation split; only its training part is used.
    relevance : Relevance, optional
        What counts as relevant (default: the log's rule, :func:`relevance_for`).
    budget_seconds : float, default 60
        No new candidate starts after this many seconds (the first always runs).
    grid_override : list of dict, optional
        Candidates to try instead of :func:`candidates`.
    progress : callable, optional
        ``progress("name: params", i, n)`` before candidate i of n.
    model : Recommender, optional
        The unfitted model whose settings are tuned (default ``registry.make(name)``), e.g.
        a hybrid of already tuned sub-models (see :func:`hybrid_of`).
    """
    if (
        isinstance(budget_seconds, bool)
        or not isinstance(budget_seconds, int | float)
        or not (budget_seconds > 0)
    ):
        raise EvaluationError(
            _(
                "budget_seconds must be a positive number. Got budget_seconds={value} instead."
            ).format(value=repr(budget_seconds))
        )
    start = time.perf_counter()
    base = model if model is not None else registry.make(name, random_state)
    cands = list(grid_override) if grid_override is not None else candidates(name, base)
    if not cands:
        raise EvaluationError(_("the tuning grid is empty; give at least one setting."))
    relevance = relevance or relevance_for(split.train)
    val = validation_split(split, relevance, random_state)
    truth = relevant_items(val.test, relevance.types, relevance.rating_threshold)
    if truth.height == 0:
        raise EvaluationError(
            _(
                "the validation split of the training part has no relevant item ({rule}); the "
                "training part is too small to tune on."
            ).format(rule=relevance.description)
        )
    train = interactions_from(val.train)
    users = truth[S.USER_ID].unique().sort().to_list()
    # the comparison's rule for what a model may not suggest again (what was bought, not
    # what was merely viewed): validation scores the candidates as the test will
    had = None if relevance.had_is_seen(val.train) else relevance.already_had(val.train)

    def score(model: Recommender) -> float:
        recs = recommend_excluding(model, users, k, had)
        return mean_over_users(ndcg_at_k(recs, truth, k))

    rows = []
    blend = None
    for i, params in enumerate(cands, start=1):
        if i > 1 and time.perf_counter() - start > budget_seconds:
            break
        if progress is not None:
            progress(f"{name}: {json.dumps(params, default=str)}", i, len(cands))
        t0 = time.perf_counter()
        if name == "hybrid" and set(params) <= {"weights", "normalization"}:
            # the sub-models do not depend on the weights: fit every one once, cache their
            # scaled scores of the validation users, and only re-blend per candidate
            if blend is None:
                blend = _HybridBlend(base.clone(), train, items, users, k, had)
            value = blend.ndcg(params, truth)
        else:
            value = score(base.clone(**params).fit(train, items=items))
        rows.append(
            (json.dumps(params, sort_keys=True, default=str), value, time.perf_counter() - t0)
        )
    trials = pl.DataFrame(
        rows, schema={"params": pl.String, "ndcg": pl.Float64, "seconds": pl.Float64}, orient="row"
    )
    values = trials["ndcg"].fill_nan(-1.0).to_numpy()
    best = int(np.argmax(values))  # first on ties: the default wins a tie
    params = json.loads(trials["params"][best])
    return TuneResult(
        name=name,
        params=params,
        score=float(trials["ndcg"][best]),
        default_score=float(trials["ndcg"][0]),
        trials=trials,
        complete=trials.height == len(cands),
        validation=val.description + " (of the training part)",
        seconds=time.perf_counter() - start,
        model=base.clone(**params),
    )


def hybrid_of(tuned: dict[str, Recommender], random_state: int = S.RANDOM_STATE) -> Recommender:
    """The registry hybrid with its sub-models replaced by ``tuned`` ones (registry name ->
    unfitted model, e.g. :attr:`TuneResult.model`); the others keep their defaults."""
    hybrid = registry.make("hybrid", random_state)
    models = {key: tuned.get(key, m) for key, m in hybrid.models.items()}
    return hybrid.set_params(models=models)


class _HybridBlend:
    """A hybrid fitted once with every sub-model, its scaled validation scores cached, so a
    weights candidate costs one weighted sum and a top-k."""

    def __init__(
        self,
        hybrid,
        train: pl.DataFrame,
        items,
        users: list[str],
        k: int,
        had: pl.DataFrame | None = None,
    ) -> None:
        hybrid.set_params(weights=None, fit_unweighted=True).fit(train, items=items)
        self.hybrid, self.k = hybrid, k
        self.users = [u for u in users if u in hybrid.user_index_]
        cold = [u for u in users if u not in hybrid.user_index_]
        # users without history get the fallback, whatever the weights: computed once
        self.cold = (
            hybrid.recommend(cold, k=k).select(S.USER_ID, S.ITEM_ID, "rank") if cold else None
        )
        self.idx = np.array([hybrid.user_index_[u] for u in self.users], dtype=np.int64)
        if had is None:  # every item seen in training may not be suggested again
            self.seen = hybrid.matrix_[self.idx].toarray() > 0
        else:  # only what they had in the relevant sense (bought, rated)
            self.seen = np.zeros((len(self.users), len(hybrid.items_)), dtype=bool)
            row = {u: i for i, u in enumerate(self.users)}
            for user, item in had.iter_rows():
                if user in row and item in hybrid.item_index_:
                    self.seen[row[user], hybrid.item_index_[item]] = True
        self.cache: dict[str, dict[str, np.ndarray]] = {}

    def ndcg(self, params: dict, truth: pl.DataFrame) -> float:
        h = self.hybrid
        h.normalization = params.get("normalization", h.normalization)
        if h.normalization not in self.cache:
            self.cache[h.normalization] = {key: h.scaled(key, self.idx) for key in h.models_}
        h.reweight(params["weights"])
        scaled = self.cache[h.normalization]
        total = sum(w * scaled[key] for key, w in h.weights_.items() if w > 0)
        total = np.where(self.seen, -np.inf, total)
        kk = min(self.k, total.shape[1])
        part = np.argpartition(-total, kk - 1, axis=1)[:, :kk]
        order = np.lexsort((part, -np.take_along_axis(total, part, axis=1)), axis=1)
        top = np.take_along_axis(part, order, axis=1)  # best first, ties by item index
        recs = pl.DataFrame(
            {
                S.USER_ID: np.repeat(np.asarray(self.users, dtype=object), top.shape[1]),
                S.ITEM_ID: h.items_[top.ravel()],
                "rank": np.tile(np.arange(1, top.shape[1] + 1), len(self.users)),
            },
            schema={S.USER_ID: pl.String, S.ITEM_ID: pl.String, "rank": pl.Int32},
        )
        if self.cold is not None:
            recs = pl.concat([recs, self.cold])
        return mean_over_users(ndcg_at_k(recs, truth, self.k))
