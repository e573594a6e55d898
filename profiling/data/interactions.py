"""The one function that turns events into user-item interactions for recommenders."""

from __future__ import annotations

import polars as pl

from profiling.checks import check_columns
from profiling.vocabulary import schema as S

_ROW = "__row"


def interactions_from(
    events: pl.DataFrame, weights: dict[str, float] | None = None
) -> pl.DataFrame:
    """User-item interactions of an event frame (a whole dataset or a split's train part).

    One row per (user_id, item_id) with at least one positively weighted event or a rating:
    ``weight`` (sum of event weights, :data:`profiling.vocabulary.schema.IMPLICIT_WEIGHTS` updated by
    ``weights``; 1 per row when there is no event_type column), ``rating`` (the latest
    explicit rating: by timestamp, then by row order for equal or missing timestamps; null
    when the pair was never rated), ``timestamp`` (the latest event, or null),
    ``purchases`` (purchase events of the pair, 0 without an event_type column) and
    ``last_purchase`` (the latest purchase, or null): what a buy-again model reads. Sorted by
    user_id, item_id.
    """
    check_columns(events, (S.USER_ID, S.ITEM_ID), "events")
    w = {**S.IMPLICIT_WEIGHTS, **(weights or {})}
    e = events.filter(pl.col(S.ITEM_ID).is_not_null())
    weight = (
        pl.col(S.EVENT_TYPE).replace_strict(w, default=0.0, return_dtype=pl.Float64)
        if S.EVENT_TYPE in e.columns
        else pl.lit(1.0, dtype=pl.Float64)
    )
    ts = pl.col(S.TIMESTAMP) if S.TIMESTAMP in e.columns else pl.lit(None, dtype=pl.Datetime)
    rating = (
        pl.col(S.RATING).cast(pl.Float64)
        if S.RATING in e.columns
        else pl.lit(None, dtype=pl.Float64)
    )
    bought = (
        (pl.col(S.EVENT_TYPE) == S.PURCHASE).fill_null(False)
        if S.EVENT_TYPE in e.columns
        else pl.lit(False)
    )
    return (
        e.select(
            pl.col(S.USER_ID).cast(pl.String),
            pl.col(S.ITEM_ID).cast(pl.String),
            weight.alias("weight"),
            rating.alias(S.RATING),
            ts.alias(S.TIMESTAMP),
            bought.alias("__bought"),
        )
        .with_row_index(_ROW)
        .group_by(S.USER_ID, S.ITEM_ID)
        .agg(
            pl.col("weight").sum(),
            pl.col(S.RATING).sort_by(S.TIMESTAMP, _ROW, nulls_last=False).drop_nulls().last(),
            pl.col(S.TIMESTAMP).max(),
            pl.col("__bought").sum().cast(pl.Int64).alias("purchases"),
            pl.col(S.TIMESTAMP).filter(pl.col("__bought")).max().alias("last_purchase"),
        )
        .filter((pl.col("weight") > 0) | pl.col(S.RATING).is_not_null())
        .sort(S.USER_ID, S.ITEM_ID)
    )
