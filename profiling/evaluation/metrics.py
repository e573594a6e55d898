"""Recommendation metrics: ranking accuracy per user, rating errors and beyond-accuracy
measures (coverage, novelty, diversity, popularity bias), as pure functions over long frames.

Conventions shared by every ranking metric:

- ``recs`` is a long frame user_id, item_id, rank (1 = best, as returned by
  :meth:`profiling.recommenders.base.Recommender.recommend`); scores are never read, so ties
  in scores are resolved by the rank the model gave. Duplicate (user, item) rows keep their
  best rank; equal ranks of one user are ordered by item_id, so results are deterministic.
- ``truth`` is a long frame user_id, item_id of relevant items (binary relevance), e.g. from
  :func:`profiling.evaluation.splits.relevant_items`.
- Per-user metrics return one row per user of ``truth`` (user_id, value), sorted by user_id.
  A user of ``truth`` without any recommendation scores 0; users of ``recs`` without ground
  truth are left out (their accuracy is undefined).
- ``k`` cuts each list to its first ``k`` positions.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

import numpy as np
import polars as pl

from profiling.checks import check_columns, check_k
from profiling.errors import EvaluationError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

VALUE = "value"
RANK = "rank"
PER_USER_SCHEMA = {S.USER_ID: pl.String, VALUE: pl.Float64}


# ---- preparation --------------------------------------------------------------------------------
def _ranked(recs: pl.DataFrame, k: int | None) -> pl.DataFrame:
    """user_id, item_id, pos (1..n per user, by rank then item_id), cut at ``k``."""
    check_columns(recs, (S.USER_ID, S.ITEM_ID, RANK), "recs")
    if k is not None:
        k = check_k(k)
    r = (
        recs.select(
            pl.col(S.USER_ID).cast(pl.String),
            pl.col(S.ITEM_ID).cast(pl.String),
            pl.col(RANK).cast(pl.Float64),
        )
        .drop_nulls()
        .sort(S.USER_ID, RANK, S.ITEM_ID)
        .unique([S.USER_ID, S.ITEM_ID], keep="first", maintain_order=True)
        .with_columns((pl.int_range(pl.len()).over(S.USER_ID) + 1).cast(pl.Int64).alias("pos"))
        .drop(RANK)
    )
    return r if k is None else r.filter(pl.col("pos") <= k)


def _truth(truth: pl.DataFrame) -> pl.DataFrame:
    check_columns(truth, (S.USER_ID, S.ITEM_ID), "truth")
    return (
        truth.select(pl.col(S.USER_ID).cast(pl.String), pl.col(S.ITEM_ID).cast(pl.String))
        .drop_nulls()
        .unique()
    )


def _hits(
    recs: pl.DataFrame, truth: pl.DataFrame, k: int | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(ranked recommendations of truth users with a boolean ``hit``, user_id + n_rel)."""
    t = _truth(truth)
    n_rel = t.group_by(S.USER_ID).agg(pl.len().cast(pl.Int64).alias("n_rel")).sort(S.USER_ID)
    r = (
        _ranked(recs, k)
        .join(n_rel, on=S.USER_ID, how="inner")
        .join(t.with_columns(pl.lit(True).alias("hit")), on=[S.USER_ID, S.ITEM_ID], how="left")
        .with_columns(pl.col("hit").fill_null(False))
        .sort(S.USER_ID, "pos")
    )
    return r, n_rel


def _per_user(n_rel: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """Every truth user with its value (0 when absent from ``values``)."""
    return (
        n_rel.select(S.USER_ID)
        .join(values.select(S.USER_ID, VALUE), on=S.USER_ID, how="left")
        .with_columns(pl.col(VALUE).cast(pl.Float64).fill_null(0.0))
        .sort(S.USER_ID)
    )


# ---- ranking accuracy (per user) ---------------------------------------------------------------
def precision_at_k(recs: pl.DataFrame, truth: pl.DataFrame, k: int = S.DEFAULT_K) -> pl.DataFrame:
    """Precision@k per user: relevant items among the first ``k`` recommended, divided by k.

    Dividing by ``k`` (not by the list length) follows Microsoft Recommenders, so a model
    that returns fewer than ``k`` items is not rewarded. min=0, max=1 (max < 1 when a user has
    fewer than ``k`` relevant items).

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``truth``.
    """
    k = check_k(k)
    r, n_rel = _hits(recs, truth, k)
    v = r.group_by(S.USER_ID).agg((pl.col("hit").sum() / k).alias(VALUE))
    return _per_user(n_rel, v)


def recall_at_k(recs: pl.DataFrame, truth: pl.DataFrame, k: int = S.DEFAULT_K) -> pl.DataFrame:
    """Recall@k per user: relevant items among the first ``k`` recommended, divided by the
    number of relevant items of the user. min=0, max=1.

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``truth``.
    """
    k = check_k(k)
    r, n_rel = _hits(recs, truth, k)
    v = r.group_by(S.USER_ID).agg((pl.col("hit").sum() / pl.col("n_rel").first()).alias(VALUE))
    return _per_user(n_rel, v)


def f1_at_k(recs: pl.DataFrame, truth: pl.DataFrame, k: int = S.DEFAULT_K) -> pl.DataFrame:
    """F1@k per user: the harmonic mean of the user's precision@k and recall@k,
    2 * P * R / (P + R), and 0 when the first ``k`` items hold no relevant one.
    min=0, max=1 (max < 1 when the user's number of relevant items differs from k).

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``truth``.
    """
    k = check_k(k)
    r, n_rel = _hits(recs, truth, k)
    v = r.group_by(S.USER_ID).agg(
        (2.0 * pl.col("hit").sum() / (k + pl.col("n_rel").first())).alias(VALUE)
    )
    return _per_user(n_rel, v)


def hit_rate_at_k(recs: pl.DataFrame, truth: pl.DataFrame, k: int = S.DEFAULT_K) -> pl.DataFrame:
    """Hit rate@k per user: 1 when at least one of the first ``k`` recommended items is
    relevant, else 0. min=0, max=1.

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``truth``.
    """
    k = check_k(k)
    r, n_rel = _hits(recs, truth, k)
    v = r.group_by(S.USER_ID).agg(pl.col("hit").any().cast(pl.Float64).alias(VALUE))
    return _per_user(n_rel, v)


def ndcg_at_k(recs: pl.DataFrame, truth: pl.DataFrame, k: int = S.DEFAULT_K) -> pl.DataFrame:
    """NDCG@k per user with binary relevance and log2 discount.

    DCG = sum over hits at position p <= k of 1 / log2(p + 1); IDCG is the DCG of a perfect
    list, sum over p = 1..min(|relevant|, k) of 1 / log2(p + 1); NDCG = DCG / IDCG.
    min=0 (no hit), max=1 (every one of the first min(|relevant|, k) positions is a hit).

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``truth``.
    """
    k = check_k(k)
    r, n_rel = _hits(recs, truth, k)
    depth = min(int(n_rel["n_rel"].max() or 1), k)
    ideal = pl.DataFrame(
        {
            "n_ideal": np.arange(1, depth + 1, dtype=np.int64),
            "idcg": np.cumsum(1.0 / np.log2(np.arange(2, depth + 2))),
        }
    )
    dcg = r.group_by(S.USER_ID).agg(
        (pl.col("hit").cast(pl.Float64) / (pl.col("pos") + 1).cast(pl.Float64).log(2))
        .sum()
        .alias("dcg")
    )
    v = (
        n_rel.with_columns(pl.col("n_rel").clip(upper_bound=k).alias("n_ideal"))
        .join(ideal, on="n_ideal", how="left")
        .join(dcg, on=S.USER_ID, how="inner")
        .select(S.USER_ID, (pl.col("dcg") / pl.col("idcg")).clip(0.0, 1.0).alias(VALUE))
    )
    return _per_user(n_rel, v)


def map_at_k(recs: pl.DataFrame, truth: pl.DataFrame, k: int = S.DEFAULT_K) -> pl.DataFrame:
    """Average precision@k per user (its mean over users is MAP@k).

    Microsoft Recommenders' definition: the sum, over hits at position p <= k, of the
    precision at p (hits in the first p / p), divided by min(|relevant|, k).
    min=0, max=1 (the first min(|relevant|, k) positions are all hits).

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``truth``.
    """
    k = check_k(k)
    r, n_rel = _hits(recs, truth, k)
    v = (
        r.with_columns(pl.col("hit").cast(pl.Int64).cum_sum().over(S.USER_ID).alias("cum_hits"))
        .group_by(S.USER_ID)
        .agg(
            (
                (pl.col("cum_hits") / pl.col("pos")).filter(pl.col("hit")).sum()
                / pl.min_horizontal(pl.col("n_rel").first(), pl.lit(k))
            ).alias(VALUE)
        )
    )
    return _per_user(n_rel, v)


def mrr(recs: pl.DataFrame, truth: pl.DataFrame, k: int | None = None) -> pl.DataFrame:
    """Reciprocal rank per user (its mean over users is MRR): 1 / position of the first
    relevant item, 0 when there is none (within the first ``k`` when ``k`` is given).
    min=0, max=1.

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``truth``.
    """
    r, n_rel = _hits(recs, truth, k)
    v = (
        r.filter(pl.col("hit"))
        .group_by(S.USER_ID)
        .agg((1.0 / pl.col("pos").min().cast(pl.Float64)).alias(VALUE))
    )
    return _per_user(n_rel, v)


def mean_over_users(per_user: pl.DataFrame, column: str = VALUE) -> float:
    """Mean of a per-user metric over its users (nulls and NaN left out; NaN when empty)."""
    check_columns(per_user, (column,), "per_user")
    values = per_user[column].cast(pl.Float64).fill_nan(None).drop_nulls()
    return float(values.mean()) if values.len() else math.nan


# ---- rating prediction ---------------------------------------------------------------------
def _errors(predictions: pl.DataFrame, rating: str, prediction: str) -> np.ndarray:
    check_columns(predictions, (rating, prediction), "predictions")
    pairs = predictions.select(
        pl.col(rating).cast(pl.Float64), pl.col(prediction).cast(pl.Float64)
    ).drop_nulls()
    if pairs.height == 0:
        raise EvaluationError(
            _(
                "predictions has no row with both '{rating}' and '{prediction}'; rating errors "
                "need at least one rated pair."
            ).format(rating=rating, prediction=prediction)
        )
    return (pairs[prediction] - pairs[rating]).to_numpy()


def rmse(
    predictions: pl.DataFrame, *, rating: str = S.RATING, prediction: str = "prediction"
) -> float:
    """Root mean squared error of predicted ratings over (user_id, item_id, rating,
    prediction) rows; rows with a null rating or prediction are left out. min=0, no max
    (in rating units).
    """
    e = _errors(predictions, rating, prediction)
    return float(np.sqrt(np.mean(e**2)))


def mae(
    predictions: pl.DataFrame, *, rating: str = S.RATING, prediction: str = "prediction"
) -> float:
    """Mean absolute error of predicted ratings over (user_id, item_id, rating, prediction)
    rows; rows with a null rating or prediction are left out. min=0, no max (in rating
    units).
    """
    e = _errors(predictions, rating, prediction)
    return float(np.mean(np.abs(e)))


# ---- beyond accuracy ----------------------------------------------------------------------------
def catalog_coverage(
    recs: pl.DataFrame, catalog: int | Collection[str], k: int | None = None
) -> float:
    """Catalog coverage: distinct items recommended (in the first ``k`` of any list) divided
    by the catalog size. min=0, max=1.

    Parameters
    ----------
    catalog : int or collection of item ids
        The catalog size, or the catalog itself (then only its items count as covered).
    """
    items = _ranked(recs, k)[S.ITEM_ID].unique()
    if isinstance(catalog, int | np.integer):
        size = int(catalog)
    else:
        ids = pl.Series(S.ITEM_ID, [str(c) for c in catalog], dtype=pl.String).unique()
        size = ids.len()
        items = items.filter(items.is_in(ids.implode()))
    if size < 1:
        raise EvaluationError(
            _("catalog must hold at least one item. Got catalog={value} instead.").format(
                value=repr(catalog)
            )
        )
    return min(items.len() / size, 1.0)


def _item_users(train: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """(item_id, users: distinct train users per item), number of train users."""
    check_columns(train, (S.USER_ID, S.ITEM_ID), "train")
    t = train.select(pl.col(S.USER_ID).cast(pl.String), pl.col(S.ITEM_ID).cast(pl.String))
    t = t.drop_nulls()
    if t.height == 0:
        raise EvaluationError(_("train has no (user_id, item_id) row; popularity needs some."))
    pop = t.unique().group_by(S.ITEM_ID).agg(pl.len().cast(pl.Float64).alias("users"))
    return pop, t[S.USER_ID].n_unique()


def novelty(recs: pl.DataFrame, train: pl.DataFrame, k: int | None = None) -> pl.DataFrame:
    """Novelty per user: mean over recommended items of -log2(p), p = share of train users
    who interacted with the item.

    Items no train user touched get p = 1 / (train users), as if one user had, so the value
    stays finite. min=0 (only items every train user has), max=log2(train users).

    Parameters
    ----------
    train : pl.DataFrame
        Training interactions or events: user_id, item_id.

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``recs``.
    """
    pop, n_users = _item_users(train)
    v = (
        _ranked(recs, k)
        .join(pop, on=S.ITEM_ID, how="left")
        .with_columns(pl.col("users").fill_null(1.0).clip(lower_bound=1.0))
        .group_by(S.USER_ID)
        .agg((-(pl.col("users") / n_users).log(2)).mean().alias(VALUE))
        .sort(S.USER_ID)
    )
    return v.select(S.USER_ID, pl.col(VALUE).cast(pl.Float64).clip(lower_bound=0.0))


def popularity_bias(recs: pl.DataFrame, train: pl.DataFrame, k: int | None = None) -> pl.DataFrame:
    """Popularity bias per user: mean popularity percentile of the recommended items.

    An item's percentile is the share of train items whose popularity (distinct train users)
    is at most its own: 1 for the most popular item, 0 for an item absent from train.
    min=0, max=1; lower means the model digs deeper into the long tail.

    Parameters
    ----------
    train : pl.DataFrame
        Training interactions or events: user_id, item_id.

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``recs``.
    """
    pop, _ = _item_users(train)
    pct = pop.select(
        S.ITEM_ID, (pl.col("users").rank("max") / pl.len()).cast(pl.Float64).alias("pct")
    )
    return (
        _ranked(recs, k)
        .join(pct, on=S.ITEM_ID, how="left")
        .group_by(S.USER_ID)
        .agg(pl.col("pct").fill_null(0.0).mean().alias(VALUE))
        .sort(S.USER_ID)
        .select(S.USER_ID, pl.col(VALUE).cast(pl.Float64))
    )


def intra_list_diversity(
    recs: pl.DataFrame,
    categories: pl.DataFrame | Mapping[str, str],
    k: int | None = None,
) -> pl.DataFrame:
    """Intra-list diversity per user, category-based: the share of pairs of recommended
    items that belong to different categories.

    Category-based rather than cosine over feature vectors because every catalog the app
    reads has a category and the value reads plainly ("62% of pairs differ"). Items without
    a category are left out; a list with fewer than two categorized items has a null value
    (left out of means). min=0 (one category), max=1 (every item in its own category).

    Parameters
    ----------
    categories : pl.DataFrame or mapping
        item_id -> category: a frame with item_id and category columns, or a dict.

    Returns
    -------
    pl.DataFrame
        user_id, value: one row per user of ``recs``.
    """
    if isinstance(categories, pl.DataFrame):
        check_columns(categories, (S.ITEM_ID, S.CATEGORY), "categories")
        cats = categories.select(
            pl.col(S.ITEM_ID).cast(pl.String), pl.col(S.CATEGORY).cast(pl.String)
        )
    else:
        cats = pl.DataFrame(
            {
                S.ITEM_ID: [str(i) for i in categories],
                S.CATEGORY: [None if c is None else str(c) for c in categories.values()],
            },
            schema={S.ITEM_ID: pl.String, S.CATEGORY: pl.String},
        )
    cats = cats.drop_nulls().unique(S.ITEM_ID, keep="first")
    r = _ranked(recs, k)
    per_cat = (
        r.join(cats, on=S.ITEM_ID, how="inner")
        .group_by(S.USER_ID, S.CATEGORY)
        .agg(pl.len().cast(pl.Float64).alias("c"))
    )
    v = per_cat.group_by(S.USER_ID).agg(
        pl.col("c").sum().alias("n"), (pl.col("c") * (pl.col("c") - 1) / 2).sum().alias("same")
    )
    v = v.select(
        S.USER_ID,
        pl.when(pl.col("n") >= 2)
        .then(1.0 - pl.col("same") / (pl.col("n") * (pl.col("n") - 1) / 2))
        .otherwise(None)
        .cast(pl.Float64)
        .alias(VALUE),
    )
    users = r.select(S.USER_ID).unique()
    return users.join(v, on=S.USER_ID, how="left").sort(S.USER_ID)


RANKING_METRICS = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "f1": f1_at_k,
    "ndcg": ndcg_at_k,
    "map": map_at_k,
    "mrr": mrr,
    "hit_rate": hit_rate_at_k,
}
"""Per-user ranking accuracy metrics by short name; each takes (recs, truth, k)."""
