"""Why a user got their score: for each input of the model that scored them, how far the
score moves when that input alone is set to the population's typical value."""

from __future__ import annotations

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from profiling.predict.labels import Examples
from profiling.predict.models import LearnedModel, ScoreModel
from profiling.vocabulary import schema as S
from profiling.vocabulary.glossary import PREDICT_FEATURE_LABELS as FEATURE_LABELS

DRIVER_SCHEMA = {
    S.USER_ID: pl.String,
    "rank": pl.Int64,
    "feature": pl.String,
    "label": pl.String,
    "value": pl.Float64,
    "typical": pl.Float64,
    "effect": pl.Float64,
}
"""The columns of :func:`explain_scores` (an empty frame of them when drivers are skipped)."""

DRIVER_USERS = 100_000
"""Users whose drivers are computed, at most: the highest-scored ones (the top of the list
the page shows), compared with the median of every scored user."""


def explain_scores(
    model: ScoreModel,
    ex: Examples,
    *,
    top: int = 3,
    inputs: tuple[str, ...] | None = None,
    typical: np.ndarray | None = None,
) -> pl.DataFrame:
    """Per-user drivers: for each input of ``model``, how much the user's score moves when
    that input alone is set to the population's typical (median) value; a positive effect
    means the user's actual value pushes the score up. ``inputs`` defaults to every feature
    (the learned model); see :data:`profiling.predict.models.MODEL_INPUTS`. ``typical``: the
    population's median of each input, when ``ex`` holds only some of the users (by default
    the median over ``ex``; see :func:`typical_values`).

    Returns
    -------
    pl.DataFrame
        Up to ``top`` rows per user (largest absolute effect first, zero effects dropped):
        user_id, rank, feature, label, value (null where the user has none), typical, effect.
    """
    names = list(ex.features if inputs is None else inputs)
    values = ex.frame.select(names).to_numpy().astype(float)
    if typical is None:
        typical = typical_values(ex, names)
    X = ex.X() if isinstance(model, LearnedModel) else None
    trees = None if X is None else _TreeEffects.of(model, X)
    if trees is not None:
        # the learned model: only the trees that read an input are run again for it
        _, effects = trees.run([ex.features.index(n) for n in names], values, typical)
    else:
        effects = _rescored_effects(model, ex, names, values, typical, X)
    order = np.argsort(-np.abs(effects), axis=1)[:, :top]
    rows_idx = np.repeat(np.arange(values.shape[0]), order.shape[1])
    cols_idx = order.ravel()
    long = pl.DataFrame(
        {
            S.USER_ID: ex.frame[S.USER_ID].gather(rows_idx),
            "rank": np.tile(np.arange(1, order.shape[1] + 1), values.shape[0]),
            "feature": [names[c] for c in cols_idx],
            "value": values[rows_idx, cols_idx],
            "typical": typical[cols_idx],
            "effect": effects[rows_idx, cols_idx],
        }
    ).with_columns(pl.col("value").fill_nan(None))
    # NaN effects (a user the model cannot score) explain nothing: polars orders NaN above
    # every number, so without is_not_nan they passed as "none (+NaN)"
    long = long.filter(pl.col("effect").is_not_nan() & (pl.col("effect").abs() > 1e-6))
    return long.with_columns(
        pl.col("feature").replace_strict(FEATURE_LABELS, default=pl.col("feature")).alias("label")
    ).select(S.USER_ID, "rank", "feature", "label", "value", "typical", "effect")


class _TreeEffects:
    """The learned model's score change when one input is set to its typical value, from
    the trees that split on that input alone: a tree that never reads the input gives every
    user the same leaf either way, so only the trees that read it are run again on the
    users whose value changes (each tree's leaf values of every user are computed once).
    On a large store this is several times faster than scoring every user again per input,
    and equal to it up to float rounding of the sum of the trees.

    It reads scikit-learn's ``HistGradientBoostingClassifier`` internals (its trees and
    their nodes); :meth:`of` returns None, and the drivers are computed by scoring again,
    when they are not as expected."""

    CHUNK = 20_000  # users whose per-tree leaf values are held at once

    def __init__(self, model: LearnedModel, X: np.ndarray, hgb, trees: list, uses: np.ndarray):
        self.model, self.X, self.hgb, self.trees, self.uses = model, X, hgb, trees, uses
        self.column = np.cumsum(model.keep_) - 1  # a feature's column among the kept ones
        self.bitsets = hgb._bin_mapper.make_known_categories_bitsets()

    @classmethod
    def of(cls, model: LearnedModel, X: np.ndarray) -> _TreeEffects | None:
        hgb = getattr(model, "model_", None)
        try:
            if hgb is None or hgb.n_trees_per_iteration_ != 1:
                return None
            trees = [it[0] for it in hgb._predictors]
            n_kept = int(np.sum(model.keep_))
            uses = np.zeros((len(trees), n_kept), dtype=bool)
            for t, tree in enumerate(trees):
                nodes = tree.nodes
                split = nodes["feature_idx"][nodes["is_leaf"] == 0]
                uses[t, np.unique(split)] = True
            hgb._bin_mapper.make_known_categories_bitsets()
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            return None  # another scikit-learn: score again per input instead
        return cls(model, X, hgb, trees, uses)

    def _leaves(self, X: np.ndarray, trees: np.ndarray) -> np.ndarray:
        """(trees, rows): each of ``trees``' leaf value for each row of ``X`` (kept columns)."""
        known, f_idx_map = self.bitsets
        X = np.ascontiguousarray(X, dtype=np.float64)
        out = np.empty((trees.size, X.shape[0]))
        for i, t in enumerate(trees):
            out[i] = self.trees[t].predict(X, known, f_idx_map, self.model.n_threads)
        return out

    def _chance(self, raw: np.ndarray) -> np.ndarray:
        proba = self.hgb._loss.predict_proba(raw)
        return self.model.calibrate(proba[:, 1] if proba.ndim == 2 else proba)

    def run(
        self, features: list[int], values: np.ndarray, typical: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(every user's score, the effects: score - the score with feature ``features[j]``
        set to ``typical[j]``, one column per feature; 0 where the user's value is the
        typical one, where the model left the feature out, or where no tree reads it)."""
        keep = self.model.keep_
        n = self.X.shape[0]
        base, effects = np.empty(n), np.zeros((n, len(features)))
        for start in range(0, n, self.CHUNK):
            X = self.X[start : start + self.CHUNK][:, keep]
            with threadpool_limits(self.model.n_threads):
                raw = self.hgb._raw_predict(X).ravel()
            chance = self._chance(raw)
            base[start : start + X.shape[0]] = chance
            leaves = None  # each tree's leaf per user of the chunk, made when first needed
            for j, feature in enumerate(features):
                if not keep[feature]:
                    continue  # an input the model left out moves nothing
                column = self.column[feature]
                using = np.flatnonzero(self.uses[:, column])
                v = values[start : start + X.shape[0], j]
                rows = np.flatnonzero(~(v == typical[j]))
                if not using.size or not rows.size:
                    continue
                if leaves is None:
                    leaves = self._leaves(X, np.arange(len(self.trees)))
                changed = X[rows]
                changed[:, column] = typical[j]
                delta = self._leaves(changed, using).sum(axis=0) - leaves[using][:, rows].sum(
                    axis=0
                )
                effects[start + rows, j] = chance[rows] - self._chance(raw[rows] + delta)
        return base, effects


def _rescored_effects(
    model: ScoreModel,
    ex: Examples,
    names: list[str],
    values: np.ndarray,
    typical: np.ndarray,
    X: np.ndarray | None,
) -> np.ndarray:
    """The effects of :func:`explain_scores` by scoring the users again with each input set
    to its typical value (a baseline, or a learned model :class:`_TreeEffects` cannot read)."""
    base = model.predict(ex)
    effects = np.zeros_like(values)
    for j, name in enumerate(names):
        if X is None:
            frame = ex.frame.with_columns(pl.lit(float(typical[j])).alias(name))
            effects[:, j] = base - model.predict(Examples(frame, ex.features))
            continue
        # asked only about the users whose value differs from the typical one (the others'
        # effect is exactly 0): on a large store most users sit at the median of the counts
        rows = np.flatnonzero(~(values[:, j] == typical[j]))
        if rows.size:
            changed = X[rows]
            changed[:, ex.features.index(name)] = typical[j]
            effects[rows, j] = base[rows] - model.predict_X(changed)
    return effects


def typical_values(ex: Examples, names: list[str]) -> np.ndarray:
    """The median of each of ``names`` over the rows of ``ex`` (missing values left out)."""
    values = ex.frame.select(names).to_numpy().astype(float)
    return np.nanmedian(values, axis=0) if values.size else np.zeros(len(names))


def driver_text(drivers: pl.DataFrame) -> pl.DataFrame:
    """user_id, drivers: "days since last purchase 12 (+0.08); ..." per user."""
    sign = pl.when(pl.col("effect") >= 0).then(pl.lit("+")).otherwise(pl.lit("−"))
    piece = pl.format(
        "{} {} ({}{})",
        pl.col("label"),
        pl.col("value").round(1).cast(pl.String).fill_null("none"),
        sign,
        pl.col("effect").abs().round(3).cast(pl.String),
    )
    return (
        drivers.sort(S.USER_ID, "rank")
        .group_by(S.USER_ID, maintain_order=True)
        .agg(piece.str.join("; ").alias("drivers"))
    )
