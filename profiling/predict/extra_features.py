"""Inputs of the learned models derived from a cutoff's features (customer-base literature:
where a customer stands against their own rhythm), computed row by row from columns that
already read only events before the cutoff, so they cannot read past it either.

- ``gap_ratio``: days since the last purchase / the customer's average gap between purchase
  days (1 = "due now"; null below two purchase days);
- ``gap_z``: (days since the last purchase - average gap) / spread of the gaps, how unusual
  the current silence is for this customer (null below three purchase days or with
  perfectly even gaps);
- ``purchase_rate``: purchase days per day of history (purchase days / days since the first
  visit);
- ``recency_share``: share of the customer's history spent silent since the last purchase
  (days since the last purchase / days since the first visit).

Gradient boosting is indifferent to monotone transforms of one column (a log changes no
split), so only ratios between columns are added; they are splits a tree would need many
leaves to draw.
"""

from __future__ import annotations

import polars as pl

# the cutoff-feature columns these are derived from (profiling.predict.features)
RECENCY = "recency_days"
PURCHASE_DAYS = "purchase_days"
MEAN_GAP = "mean_gap_days"
REGULARITY = "gap_regularity"
TENURE = "tenure_days"

EXTRA_FEATURES = ("gap_ratio", "gap_z", "purchase_rate", "recency_share")
"""The columns :func:`add_extra_features` adds, in order."""


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den, null where den is null or not positive (never inf or NaN)."""
    return pl.when(den > 0).then(num / den).otherwise(None)


def add_extra_features(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (one row per user at a cutoff, with the columns of
    :func:`profiling.predict.features.cutoff_features`) with :data:`EXTRA_FEATURES` added.

    Raises
    ------
    KeyError
        When ``frame`` lacks a column they are derived from (a programming error: the cutoff
        features always carry them); the message names the missing columns.
    """
    needed = (RECENCY, PURCHASE_DAYS, MEAN_GAP, REGULARITY, TENURE)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise KeyError(
            f"extra prediction features need the cutoff features {', '.join(needed)}; "
            f"the frame lacks {', '.join(missing)}"
        )
    rec, gap, tenure = pl.col(RECENCY), pl.col(MEAN_GAP), pl.col(TENURE)
    spread = pl.col(REGULARITY) * gap
    return frame.with_columns(
        _ratio(rec, gap).alias("gap_ratio"),
        _ratio(rec - gap, spread).alias("gap_z"),
        _ratio(pl.col(PURCHASE_DAYS), tenure).alias("purchase_rate"),
        _ratio(rec, tenure).alias("recency_share"),
    ).with_columns(pl.col(c).cast(pl.Float64) for c in EXTRA_FEATURES)
