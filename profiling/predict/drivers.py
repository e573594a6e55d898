"""Why a user got their score: for each input of the model that scored them, how far the
score moves when that input alone is set to the population's typical value."""

from __future__ import annotations

import numpy as np
import polars as pl

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
    base = model.predict(ex)
    values = ex.frame.select(names).to_numpy().astype(float)
    if typical is None:
        typical = typical_values(ex, names)
    effects = np.zeros_like(values)
    # a model that scores a feature matrix is asked only about the users whose value differs
    # from the typical one (the others' effect is exactly 0): on a large store most users sit
    # at the median of the counts (no purchase in the last 30 days, no cart...)
    X = ex.X() if isinstance(model, LearnedModel) else None
    for j, name in enumerate(names):
        if X is None:
            frame = ex.frame.with_columns(pl.lit(float(typical[j])).alias(name))
            effects[:, j] = base - model.predict(Examples(frame, ex.features))
            continue
        rows = np.flatnonzero(~(values[:, j] == typical[j]))
        if rows.size:
            changed = X[rows]
            changed[:, ex.features.index(name)] = typical[j]
            effects[rows, j] = base[rows] - model.predict_X(changed)
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
    long = long.filter(pl.col("effect").abs() > 1e-6)
    return long.with_columns(
        pl.col("feature").replace_strict(FEATURE_LABELS, default=pl.col("feature")).alias("label")
    ).select(S.USER_ID, "rank", "feature", "label", "value", "typical", "effect")


def typical_values(ex: Examples, names: list[str]) -> np.ndarray:
    """The median of each of ``names`` over the rows of ``ex`` (missing values left out)."""
    values = ex.frame.select(names).to_numpy().astype(float)
    return np.nanmedian(values, axis=0) if values.size else np.zeros(len(names))


def driver_text(drivers: pl.DataFrame, none: str = "none") -> pl.DataFrame:
    """user_id, drivers: "days since last purchase 12 (+0.08); ..." per user (``none``
    where the user has no value)."""
    sign = pl.when(pl.col("effect") >= 0).then(pl.lit("+")).otherwise(pl.lit("−"))
    piece = pl.format(
        "{} {} ({}{})",
        pl.col("label"),
        pl.col("value").round(1).cast(pl.String).fill_null(none),
        sign,
        pl.col("effect").abs().round(3).cast(pl.String),
    )
    return (
        drivers.sort(S.USER_ID, "rank")
        .group_by(S.USER_ID, maintain_order=True)
        .agg(piece.str.join("; ").alias("drivers"))
    )
