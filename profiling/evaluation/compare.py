"""Model comparison on one split: fit, recommend, score every user, bootstrap confidence
intervals, paired significance against the best model, per-segment breakdowns and the
precision-recall curve over k.

Statistics
----------
- Confidence intervals: 95% percentile bootstrap of the mean over test users, resampling
  users with replacement (``n_boot`` resamples); the same resampled users are used for every
  model, so intervals are paired.
- Significance: a paired sign-flip permutation test on per-user differences (model minus
  best): under the null hypothesis of no difference each user's difference is as likely to
  be positive as negative, so the p-value is the share of random sign flips whose mean
  difference is at least as large in absolute value as the observed one (two-sided). With
  at most :data:`EXACT_MAX_USERS` non-zero differences every flip is enumerated (exact
  p-value); otherwise ``n_permutations`` random flips are drawn and p = (1 + count) /
  (1 + n_permutations). Identical per-user values give p = 1; the best model itself gets
  p = NaN.
- Multiple comparisons: the † marks test every model against the best on every metric at
  once (up to 11 metrics x 20 models), so the p-values are adjusted with the
  Benjamini-Hochberg procedure over all the comparisons of one table (``p_adjusted``) and †
  means adjusted p < 0.05: at most 5% of the † marks are expected to be false. BH rather
  than Holm because Holm's family-wise control would demand p < 0.05 / 200 = 0.00025 for
  the first mark, below the smallest p-value 1000 random sign flips can give (about 0.001),
  so no model could ever be marked; BH stays valid under the positive dependence of
  correlated metrics (precision, recall, F1 and NDCG move together).
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from profiling.checks import check_k
from profiling.errors import EvaluationError
from profiling.evaluation import metrics as M
from profiling.evaluation.context import train_segments
from profiling.evaluation.relevance import Relevance, relevance_for
from profiling.evaluation.splits import Split, interactions_from, relevant_items
from profiling.profiles.segments import NO_SEGMENT
from profiling.recommenders.base import Recommender
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

CURVE_DEPTH = 20
"""Recommendations kept per user by :func:`compare` (at least ``k``), enough for the
precision-recall curve up to k = 20 without recommending again."""
EXACT_MAX_USERS = 16
"""Up to this many non-zero paired differences the sign-flip test enumerates every flip."""

HIGHER_IS_BETTER: dict[str, bool] = {
    "precision": True,
    "recall": True,
    "f1": True,
    "ndcg": True,
    "map": True,
    "mrr": True,
    "hit_rate": True,
    "coverage": True,
    "novelty": True,
    "diversity": True,
    "popularity_bias": False,
    "rmse": False,
    "mae": False,
}
"""Direction of every metric :func:`compare` reports; the best model on popularity_bias is
the one with the lowest value (it leans least on best sellers)."""

METRIC_LABELS: dict[str, str] = {
    "precision": "Precision@k",
    "recall": "Recall@k",
    "f1": "F1@k",
    "ndcg": "NDCG@k",
    "map": "MAP@k",
    "mrr": "MRR@k",
    "hit_rate": "Hit rate@k",
    "coverage": "Catalog coverage",
    "novelty": "Novelty (bits)",
    "diversity": "Intra-list diversity",
    "popularity_bias": "Popularity bias",
    "rmse": "RMSE (rating)",
    "mae": "MAE (rating)",
}

Progress = Callable[[str, int, int], None]

"""Breakdown label of test users without a segment (no training history)."""

METRICS_SCHEMA = {
    "model": pl.String,
    "metric": pl.String,
    "k": pl.Int64,
    "value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value_vs_best": pl.Float64,
    "p_adjusted": pl.Float64,
    "is_best": pl.Boolean,
}


# ---- statistics ---------------------------------------------------------------------------------
def bootstrap_ci(
    values: np.ndarray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    random_state: int = S.RANDOM_STATE,
) -> tuple[np.ndarray, np.ndarray]:
    """Paired percentile bootstrap confidence interval of the mean of each column.

    Parameters
    ----------
    values : np.ndarray
        users x columns (models, or metric-model pairs); a 1-d array is one column. NaN
        cells are left out of each mean.
    n_boot : int, default 1000
        Resamples of the users (rows), drawn with replacement; each resample is shared by
        every column (paired).
    level : float, default 0.95
        Coverage of the interval, strictly between 0 and 1.

    Returns
    -------
    (low, high) : tuple of np.ndarray
        One bound per column (NaN when a column has no value).
    """
    n_boot = check_k(n_boot, "n_boot")
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise EvaluationError(
            _("level must be strictly between 0 and 1. Got level={level} instead.").format(
                level=repr(level)
            )
        )
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n, m = x.shape
    if n == 0 or m == 0:
        return np.full(m, np.nan), np.full(m, np.nan)
    ok = ~np.isnan(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        center = np.nanmean(x, axis=0)
    # deviations from the column mean: float32 products stay exact enough (a constant column
    # has zero deviations, so its interval is exactly its mean) and run much faster
    dev = np.where(ok, x - center, 0.0).astype(np.float32)
    gaps = np.flatnonzero(~ok.all(axis=0))  # columns with NaN need their own user counts
    okf = ok[:, gaps].astype(np.float32)
    rng = np.random.default_rng(random_state)
    means = np.empty((n_boot, m))
    rows = max(1, min(n_boot, 4_000_000 // n))
    for start in range(0, n_boot, rows):
        b = min(rows, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        # resampled users as counts per user, so one matrix product serves every column
        counts = np.stack([np.bincount(r, minlength=n) for r in idx]).astype(np.float32)
        users = np.full((b, m), float(n))
        if gaps.size:
            users[:, gaps] = counts @ okf
        with np.errstate(invalid="ignore", divide="ignore"):
            means[start : start + b] = center + (counts @ dev).astype(np.float64) / users
    alpha = (1.0 - level) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanquantile(means, alpha, axis=0)
        high = np.nanquantile(means, 1.0 - alpha, axis=0)
    return low, high


def paired_sign_flip_test(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_permutations: int = 1000,
    random_state: int = S.RANDOM_STATE,
) -> float | np.ndarray:
    """Two-sided paired sign-flip permutation test of mean(a - b) = 0.

    Pairs where either value is NaN are left out; zero differences do not change the
    outcome. Exact over every sign flip when at most :data:`EXACT_MAX_USERS` differences are
    non-zero, else ``n_permutations`` random flips (shared by every column) with
    p = (1 + count) / (1 + n_permutations). min=0 (never reached by the Monte Carlo test),
    max=1; p = 1 when every pair is equal (no evidence of a difference), NaN when no pair is
    left.

    Parameters
    ----------
    a, b : np.ndarray
        Per-user values of two models aligned by user: 1-d, or users x tests for several
        tests at once.

    Returns
    -------
    float, or np.ndarray of one p-value per column for 2-d input.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise EvaluationError(
            _(
                "a and b must be aligned per user (same 1-d or 2-d shape). Got shapes {a} "
                "and {b} instead."
            ).format(a=a.shape, b=b.shape)
        )
    n_permutations = check_k(n_permutations, "n_permutations")
    single = a.ndim == 1
    if single:
        a, b = a[:, None], b[:, None]
    keep = ~(np.isnan(a) | np.isnan(b))
    d = np.where(keep, a - b, 0.0)
    nonzero = (d != 0.0).sum(axis=0)
    observed = np.abs(d.sum(axis=0))
    tol = 1e-9 * np.abs(d).sum(axis=0)
    p = np.ones(d.shape[1])
    p[~keep.any(axis=0)] = np.nan
    exact = np.flatnonzero((nonzero > 0) & (nonzero <= EXACT_MAX_USERS))
    for j in exact:
        dj = d[d[:, j] != 0.0, j]
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=dj.size)))
        p[j] = np.mean(np.abs(signs @ dj) >= observed[j] - tol[j])
    sampled = np.flatnonzero(nonzero > EXACT_MAX_USERS)
    if sampled.size:
        ds = d[:, sampled]
        users = np.flatnonzero((ds != 0.0).any(axis=1))
        ds = ds[users]
        n = users.size
        rng = np.random.default_rng(random_state)
        count = np.zeros(sampled.size)
        rows = max(1, min(n_permutations, 4_000_000 // n))
        for start in range(0, n_permutations, rows):
            r = min(rows, n_permutations - start)
            bits = np.unpackbits(
                rng.integers(0, 256, size=(r, (n + 7) // 8), dtype=np.uint8), axis=1, count=n
            )
            flipped = np.abs((bits.astype(np.float64) * 2.0 - 1.0) @ ds)
            count += (flipped >= observed[sampled] - tol[sampled]).sum(axis=0)
        p[sampled] = (1.0 + count) / (1.0 + n_permutations)
    return float(p[0]) if single else p


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of a family of tests.

    With the m finite p-values sorted ascending, q_(i) = min over j >= i of p_(j) * m / j,
    capped at 1; NaN entries (no test) stay NaN and do not count in m. Rejecting where
    q < alpha controls the false discovery rate at alpha. min=0, max=1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out[order] = np.minimum(q, 1.0)
    return out


# ---- the comparison ----------------------------------------------------------------------------
@dataclass
class Comparison:
    """Result of :func:`compare`.

    Attributes
    ----------
    metrics : pl.DataFrame
        Tidy: model, metric, k, value (mean over test users; catalog coverage is a global
        share), ci_low, ci_high (95% paired bootstrap interval of the mean; null for
        coverage), p_value_vs_best (paired sign-flip test against the best model on that
        metric; NaN for the best itself, null for coverage), p_adjusted (Benjamini-Hochberg
        over every p-value of the table; see the module notes), is_best (one model per metric,
        the first in ``models`` order on ties; see :data:`HIGHER_IS_BETTER`).
    per_user : pl.DataFrame
        model, user_id, metric, value, is_cold (the user has no train interaction). Ranking
        metrics count a user without recommendations as 0; beyond-accuracy values are null
        when undefined (no list, or fewer than two categorized items for diversity).
    timings : pl.DataFrame
        model, fit_seconds, predict_seconds.
    recommendations : pl.DataFrame
        model, user_id, item_id, score, rank, is_fallback: the top max(k, 20) per test user.
    truth : pl.DataFrame
        user_id, item_id: the relevant test items (test users = its users).
    split : Split
    k : int
    relevance : Relevance
        The rule that chose the relevant test items (its ``description`` says which).
    segments : pl.DataFrame or None
        user_id, segment the models were given (train-only RFM segments by default).
    """

    metrics: pl.DataFrame
    per_user: pl.DataFrame
    timings: pl.DataFrame
    recommendations: pl.DataFrame
    truth: pl.DataFrame
    split: Split
    k: int
    relevance: Relevance | None = None
    segments: pl.DataFrame | None = None

    @property
    def models(self) -> list[str]:
        """Model names in the order they were given."""
        return self.timings["model"].to_list()

    @property
    def n_users(self) -> int:
        """Test users (users with at least one relevant test item)."""
        return self.truth[S.USER_ID].n_unique()

    def best(self, metric: str = "ndcg") -> str:
        """Name of the best model on ``metric``."""
        known = self.metrics["metric"].unique(maintain_order=True).to_list()
        if metric not in known:
            raise EvaluationError(
                _("metric must be one of {known}. Got metric={metric} instead.").format(
                    known=", ".join(known), metric=repr(metric)
                )
            )
        rows = self.metrics.filter((pl.col("metric") == metric) & pl.col("is_best"))
        if rows.height == 0:
            raise EvaluationError(
                _("no model has a value for metric={metric}.").format(metric=repr(metric))
            )
        return rows["model"][0]

    def wide(self) -> pl.DataFrame:
        """One row per model, one column per metric (the values)."""
        return self.metrics.pivot(on="metric", index="model", values="value", maintain_order=True)

    def breakdown(self, segments: pl.DataFrame) -> pl.DataFrame:
        """Mean of every per-user metric by model and user segment.

        Parameters
        ----------
        segments : pl.DataFrame
            user_id and a segment column (``segment``, else the first other column). Test
            users without a row (e.g. new since a split's cutoff) get :data:`NO_SEGMENT`.

        Returns
        -------
        pl.DataFrame
            model, segment, metric, value (mean over the segment's users), users (users with
            a value).
        """
        M.check_columns(segments, (S.USER_ID,), "segments")
        others = [c for c in segments.columns if c != S.USER_ID]
        if not others:
            raise EvaluationError(
                _("segments needs a segment column next to user_id; it has only user_id.")
            )
        col = "segment" if "segment" in others else others[0]
        seg = segments.select(
            pl.col(S.USER_ID).cast(pl.String), pl.col(col).cast(pl.String).alias("segment")
        ).unique(S.USER_ID, keep="first")
        tagged = self.per_user.join(seg, on=S.USER_ID, how="left").with_columns(
            pl.col("segment").fill_null(NO_SEGMENT)
        )
        return self._grouped(tagged)

    def cold_warm(self) -> pl.DataFrame:
        """:meth:`breakdown` by "cold" (no train interaction) and "warm" test users."""
        tagged = self.per_user.with_columns(
            pl.when(pl.col("is_cold"))
            .then(pl.lit("cold"))
            .otherwise(pl.lit("warm"))
            .alias("segment")
        )
        return self._grouped(tagged)

    def _grouped(self, tagged: pl.DataFrame) -> pl.DataFrame:
        order = pl.DataFrame({"model": self.models, "__m": range(len(self.models))})
        metric_order = pl.DataFrame(
            {"metric": list(HIGHER_IS_BETTER), "__k": range(len(HIGHER_IS_BETTER))}
        )
        return (
            tagged.group_by("model", "segment", "metric")
            .agg(
                pl.col("value").mean().alias("value"),
                pl.col("value").is_not_null().sum().cast(pl.Int64).alias("users"),
            )
            .join(order, on="model", how="left")
            .join(metric_order, on="metric", how="left")
            .sort("__m", "segment", "__k", nulls_last=True)
            .select("model", "segment", "metric", "value", "users")
        )


def _run_models(
    models: Mapping[str, Recommender],
    train: pl.DataFrame,
    users: list[str],
    depth: int,
    items: pl.DataFrame | None,
    user_segments: pl.DataFrame | None,
    progress: Progress | None,
    prefit: bool = False,
    had: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fit every model on ``train`` (unless ``prefit``) and recommend ``depth`` items to
    ``users``, leaving out the (user_id, item_id) pairs of ``had`` (what each user already
    had in the relevant sense, :meth:`Relevance.already_had`); None = every item seen in
    ``train``."""
    if not models:
        # "{name: model}" is literal text (a dict), never filled in
        raise EvaluationError(_("models is empty; give at least one {name: model}."))
    recs, timings = [], []
    n = len(models)
    for i, (name, model) in enumerate(models.items(), start=1):
        if progress is not None:
            progress(name, i, n)
        start = time.perf_counter()
        if not prefit:
            model.fit(train, items=items, user_segments=user_segments)
        fit_seconds = getattr(model, "fit_seconds_", None)
        if fit_seconds is None:
            fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        r = recommend_excluding(model, users, depth, had)
        predict_seconds = time.perf_counter() - start
        recs.append(r.select(pl.lit(name, dtype=pl.String).alias("model"), pl.all()))
        timings.append((name, float(fit_seconds), float(predict_seconds)))
    timing_frame = pl.DataFrame(
        timings,
        schema={"model": pl.String, "fit_seconds": pl.Float64, "predict_seconds": pl.Float64},
        orient="row",
    )
    return pl.concat(recs, how="vertical_relaxed"), timing_frame


def recommend_excluding(
    model: Recommender, users: list[str], depth: int, had: pl.DataFrame | None
) -> pl.DataFrame:
    """``model``'s top ``depth`` per user, without the (user_id, item_id) pairs of ``had``
    (None: without every item the user has in the training interactions). Buy-again models
    recommend what the user already has, by design: nothing is left out for them.

    Models only know how to leave out everything seen; to leave out less (what was bought,
    not what was merely viewed) each user's list is asked that many items deeper and the
    pairs of ``had`` are dropped, then ranks are counted again from 1."""
    if model.recommends_seen:
        return model.recommend(users, k=depth, exclude_seen=False)
    if had is None:
        return model.recommend(users, k=depth, exclude_seen=True)
    mine = had.filter(pl.col(S.USER_ID).is_in(pl.Series(users, dtype=pl.String).implode()))
    extra = int(mine.group_by(S.USER_ID).len()["len"].max() or 0)
    r = model.recommend(users, k=depth + extra, exclude_seen=False)
    rank_type = r.schema["rank"]
    return (
        r.join(mine, on=[S.USER_ID, S.ITEM_ID], how="anti")
        .sort(S.USER_ID, "rank", maintain_order=True)
        .with_columns(pl.col("rank").rank("ordinal").over(S.USER_ID).cast(rank_type))
        .filter(pl.col("rank") <= depth)
        .join(
            pl.DataFrame({S.USER_ID: users, "_o": range(len(users))}),
            on=S.USER_ID,
            how="left",
        )
        .sort("_o", "rank")
        .drop("_o")
    )


def resolve_relevance(
    split: Split,
    relevant_types: Iterable[str] | str | None | Relevance = "auto",
    rating_threshold: float | None = None,
) -> Relevance:
    """The :class:`Relevance` rule for ``split``: given, or the default of the log's kind
    ("auto": read from the split's events; see :mod:`profiling.evaluation.relevance`)."""
    if isinstance(relevant_types, Relevance):
        return relevant_types
    events = pl.concat([split.train, split.test], how="diagonal_relaxed")
    if isinstance(relevant_types, str) and relevant_types == "auto":
        return relevance_for(events, rating_threshold=rating_threshold)
    return relevance_for(
        events, types=tuple(relevant_types or ()), rating_threshold=rating_threshold
    )


def _truth_and_train(
    split: Split, relevance: Relevance
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    truth = relevant_items(split.test, relevance.types, relevance.rating_threshold)
    if truth.height == 0:
        raise EvaluationError(
            _(
                "no test user has a relevant item with relevant_types={types} and "
                "rating_threshold={threshold} ({rule}); choose event types present in the test "
                "events or a lower threshold."
            ).format(
                types=repr(relevance.types),
                threshold=repr(relevance.rating_threshold),
                rule=relevance.description,
            )
        )
    train = interactions_from(split.train)
    return truth, train, truth[S.USER_ID].unique().sort().to_list()


def _user_metrics(
    recs: pl.DataFrame,
    truth: pl.DataFrame,
    train: pl.DataFrame,
    k: int,
    categories: pl.DataFrame | None,
) -> pl.DataFrame:
    """Long user_id, metric, value of every per-user metric for one model's top-k."""
    users = truth.select(S.USER_ID).unique()
    frames = [
        fn(recs, truth, k).with_columns(pl.lit(name).alias("metric"))
        for name, fn in M.RANKING_METRICS.items()
    ]
    beyond = {
        "novelty": M.novelty(recs, train, k),
        "popularity_bias": M.popularity_bias(recs, train, k),
    }
    if categories is not None:
        beyond["diversity"] = M.intra_list_diversity(recs, categories, k)
    for name, frame in beyond.items():
        full = users.join(frame, on=S.USER_ID, how="left")
        frames.append(full.with_columns(pl.lit(name).alias("metric")))
    return pl.concat(
        [f.select(S.USER_ID, "metric", pl.col("value").cast(pl.Float64)) for f in frames]
    )


def compare(
    models: Mapping[str, Recommender],
    split: Split,
    *,
    k: int = S.DEFAULT_K,
    relevant_types: Iterable[str] | str | None | Relevance = "auto",
    rating_threshold: float | None = None,
    items: pl.DataFrame | None = None,
    user_segments: pl.DataFrame | str | None = "train",
    progress: Progress | None = None,
    n_boot: int = 1000,
    n_permutations: int = 1000,
    random_state: int = S.RANDOM_STATE,
    prefit: bool = False,
) -> Comparison:
    """Fit and score several recommenders on one split.

    Every model is fitted (in place) on ``interactions_from(split.train)`` and recommends
    max(k, 20) items, excluding the items the user already had in train in the sense of
    relevance (:attr:`Relevance.seen_rule`: already bought when purchases are relevant,
    already rated in a rating log; an item only viewed stays a candidate), except for
    models with ``recommends_seen``, such as buy-again, to every test user: a user with at least one
    relevant test item (:func:`relevant_items`). Users unknown to a model get its flagged
    popularity fallback. A relevant item the user already had in train stays in the truth,
    so repeat purchases count as misses for the other models (as in Microsoft
    Recommenders).

    Nothing a model is given comes from after the split: the interactions are the train
    part's, and by default the segments behind segment popularity and the cold-user
    fallbacks are the train-only RFM segments of :func:`train_segments`.

    Metrics: precision, recall, f1, ndcg, map, mrr, hit_rate (at ``k``; see
    :mod:`profiling.evaluation.metrics`), coverage (distinct recommended items / catalog:
    ``items`` when given, else the train items), novelty, popularity_bias, diversity
    (category-based; only when ``items`` has a category column), and rmse / mae for models
    that predict ratings (``predict_ratings``) when the test part holds explicit ratings
    (every rated test pair, its latest rating; one value per model, no interval).

    Parameters
    ----------
    models : mapping of str to Recommender
        Display name -> unfitted (or refittable) model.
    split : Split
    k : int, default 10
    relevant_types, rating_threshold
        What counts as relevant in the test events: "auto" (default) follows the kind of
        log (:func:`profiling.evaluation.relevance.relevance_for`: purchases; every rating
        of a rating log, or those >= ``rating_threshold``), else event types, or a
        :class:`Relevance`.
    items : pl.DataFrame, optional
        The item catalog, passed to ``fit``; gives the catalog size and the categories.
    user_segments : "train", pl.DataFrame or None, default "train"
        user_id, segment, passed to ``fit`` (segment fallbacks, SegmentPopularity).
        "train": :func:`train_segments` of the split (RFM from the training events only).
        A frame must likewise be computed from ``split.train`` alone.
    progress : callable, optional
        Called as ``progress(model_name, i, n)`` when model i of n (1-based) starts.
    prefit : bool, default False
        The models are already fitted on ``interactions_from(split.train)`` with the same
        ``items`` and ``user_segments`` (e.g. taken from an app cache): do not refit.
    n_boot, n_permutations : int, default 1000
        Bootstrap resamples and random sign flips (see the module notes).
    random_state : int
        Seed of the bootstrap and of the permutation test.

    Returns
    -------
    Comparison
    """
    k = check_k(k)
    n_boot = check_k(n_boot, "n_boot")
    n_permutations = check_k(n_permutations, "n_permutations")
    relevance = resolve_relevance(split, relevant_types, rating_threshold)
    truth, train, users = _truth_and_train(split, relevance)
    if isinstance(user_segments, str):
        if user_segments != "train":
            raise EvaluationError(
                _("user_segments must be 'train', a frame or None. Got {value} instead.").format(
                    value=repr(user_segments)
                )
            )
        user_segments = train_segments(split)
    depth = max(k, CURVE_DEPTH)
    had = None if relevance.had_is_seen(split.train) else relevance.already_had(split.train)
    recs, timings = _run_models(
        models, train, users, depth, items, user_segments, progress, prefit, had
    )

    categories = None
    if items is not None and {S.ITEM_ID, S.CATEGORY} <= set(items.columns):
        categories = items.select(S.ITEM_ID, S.CATEGORY)
    catalog = (
        items[S.ITEM_ID].drop_nulls().cast(pl.String).unique().to_list()
        if items is not None and S.ITEM_ID in items.columns
        else train[S.ITEM_ID].unique().to_list()
    )
    warm = train.filter(pl.col("weight") > 0)[S.USER_ID].unique().implode()
    names = list(models)

    per_user_frames, coverage = [], {}
    for name in names:
        r = recs.filter(pl.col("model") == name)
        per_user_frames.append(
            _user_metrics(r, truth, train, k, categories).select(
                pl.lit(name, dtype=pl.String).alias("model"), pl.all()
            )
        )
        coverage[name] = M.catalog_coverage(r, catalog, k)
    per_user = (
        pl.concat(per_user_frames)
        .with_columns((~pl.col(S.USER_ID).is_in(warm)).alias("is_cold"))
        .select("model", S.USER_ID, "metric", "value", "is_cold")
    )

    metric_names = [m for m in HIGHER_IS_BETTER if m in set(per_user["metric"].unique())]
    metrics = _statistics(per_user, names, metric_names, k, n_boot, n_permutations, random_state)
    rows = []
    cov = np.array([coverage[n] for n in names])
    best = _best(cov, True)
    for j, name in enumerate(names):
        rows.append((name, "coverage", k, cov[j], None, None, None, None, j == best))
    rows += _rating_rows(models, split, k)
    metrics = pl.concat([metrics, pl.DataFrame(rows, schema=METRICS_SCHEMA, orient="row")])
    return Comparison(
        metrics=metrics,
        per_user=per_user,
        timings=timings,
        recommendations=recs,
        truth=truth,
        split=split,
        k=k,
        relevance=relevance,
        segments=user_segments,
    )


def rated_test_pairs(split: Split) -> pl.DataFrame:
    """Every (user_id, item_id) of the test part with an explicit rating, its latest rating
    (as :func:`interactions_from` keeps it): user_id, item_id, rating. Empty without
    ratings."""
    if S.RATING not in split.test.columns:
        return pl.DataFrame(
            schema={S.USER_ID: pl.String, S.ITEM_ID: pl.String, S.RATING: pl.Float64}
        )
    return (
        interactions_from(split.test.filter(pl.col(S.RATING).is_not_null()))
        .filter(pl.col(S.RATING).is_not_null())
        .select(S.USER_ID, S.ITEM_ID, S.RATING)
    )


def _rating_rows(models: Mapping[str, Recommender], split: Split, k: int) -> list[tuple]:
    """(model, rmse|mae, ...) metric rows of every fitted rating-prediction model."""
    pairs = rated_test_pairs(split)
    raters = [n for n, m in models.items() if callable(getattr(m, "predict_ratings", None))]
    if pairs.height == 0 or not raters:
        return []
    values = {}
    for name in raters:
        pred = models[name].predict_ratings(pairs)
        values[name] = (M.rmse(pred), M.mae(pred))
    rows = []
    for col, metric in enumerate(("rmse", "mae")):
        v = np.array([values[n][col] for n in raters])
        best = _best(v, False)
        rows += [
            (n, metric, k, float(v[j]), None, None, None, None, j == best)
            for j, n in enumerate(raters)
        ]
    return rows


def _statistics(
    per_user: pl.DataFrame,
    names: list[str],
    metric_names: list[str],
    k: int,
    n_boot: int,
    n_permutations: int,
    random_state: int,
) -> pl.DataFrame:
    """Means, paired bootstrap intervals and sign-flip p-values of every (metric, model).

    One users x (metric, model) matrix carries every column, so a single set of bootstrap
    resamples and a single set of sign flips serve all of them.
    """
    blocks = []
    for metric in metric_names:
        wide = (
            per_user.filter(pl.col("metric") == metric)
            .pivot(on="model", index=S.USER_ID, values="value")
            .sort(S.USER_ID)
        )
        blocks.append(wide.select(names).cast(pl.Float64).fill_null(np.nan).to_numpy())
    m = len(names)
    x = np.hstack(blocks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(x, axis=0)
    low, high = bootstrap_ci(x, n_boot=n_boot, random_state=random_state)
    best = {
        i: _best(means[i * m : (i + 1) * m], HIGHER_IS_BETTER[metric])
        for i, metric in enumerate(metric_names)
    }
    pairs = [
        (i * m + j, i * m + best[i])
        for i in range(len(metric_names))
        for j in range(m)
        if best[i] is not None and j != best[i]
    ]
    p = np.full(x.shape[1], np.nan)
    if pairs:
        cols, refs = (list(c) for c in zip(*pairs, strict=True))
        p[cols] = paired_sign_flip_test(
            x[:, cols], x[:, refs], n_permutations=n_permutations, random_state=random_state
        )
    q = benjamini_hochberg(p)
    rows = [
        (
            name,
            metric,
            k,
            means[i * m + j],
            low[i * m + j],
            high[i * m + j],
            p[i * m + j],
            q[i * m + j],
            j == best[i],
        )
        for i, metric in enumerate(metric_names)
        for j, name in enumerate(names)
    ]
    return pl.DataFrame(rows, schema=METRICS_SCHEMA, orient="row")


def _best(means: np.ndarray, higher_is_better: bool) -> int | None:
    """Index of the best finite mean (first on ties), None when there is none."""
    finite = np.isfinite(means)
    if not finite.any():
        return None
    score = np.where(finite, means if higher_is_better else -means, -np.inf)
    return int(np.argmax(score))


def precision_recall_curve(
    source: Comparison | Mapping[str, Recommender],
    split: Split | None = None,
    ks: Iterable[int] = range(1, CURVE_DEPTH + 1),
    *,
    relevant_types: Iterable[str] | str | None | Relevance = "auto",
    rating_threshold: float | None = None,
    items: pl.DataFrame | None = None,
    user_segments: pl.DataFrame | str | None = "train",
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Mean precision@k, recall@k and F1@k of every model for each k in ``ks``.

    Computed from a single top-max(ks) list per model: a :class:`Comparison`'s stored
    recommendations (top max(k, 20)), or, given models, one fit and recommend per model on
    ``split`` (the other arguments as in :func:`compare`).

    Returns
    -------
    pl.DataFrame
        model, k, precision, recall, f1 (min=0, max=1).
    """
    ks = sorted({check_k(x, "ks") for x in ks})
    if not ks:
        raise EvaluationError(_("ks is empty; give at least one k, e.g. range(1, 21)."))
    if isinstance(source, Comparison):
        depth = int(source.recommendations["rank"].max() or 0)
        if ks[-1] > max(depth, source.k, CURVE_DEPTH):
            raise EvaluationError(
                _(
                    "the comparison kept the top {depth} recommendations; ks must stay at or "
                    "below it. Got max(ks)={largest} instead."
                ).format(depth=max(source.k, CURVE_DEPTH), largest=ks[-1])
            )
        recs, truth, names = source.recommendations, source.truth, source.models
    else:
        if split is None:
            raise EvaluationError(_("split is required when source is a dict of models."))
        relevance = resolve_relevance(split, relevant_types, rating_threshold)
        truth, train, users = _truth_and_train(split, relevance)
        if isinstance(user_segments, str):
            user_segments = train_segments(split)
        had = None if relevance.had_is_seen(split.train) else relevance.already_had(split.train)
        recs, timings = _run_models(
            source, train, users, ks[-1], items, user_segments, progress, had=had
        )
        names = timings["model"].to_list()
    rows = []
    for name in names:
        r = recs.filter(pl.col("model") == name)
        for kk in ks:
            rows.append(
                (
                    name,
                    kk,
                    M.mean_over_users(M.precision_at_k(r, truth, kk)),
                    M.mean_over_users(M.recall_at_k(r, truth, kk)),
                    M.mean_over_users(M.f1_at_k(r, truth, kk)),
                )
            )
    return pl.DataFrame(
        rows,
        schema={
            "model": pl.String,
            "k": pl.Int64,
            "precision": pl.Float64,
            "recall": pl.Float64,
            "f1": pl.Float64,
        },
        orient="row",
    )
