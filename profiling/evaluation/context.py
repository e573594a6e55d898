"""What a model may know about users at a split's cutoff, computed from the training part
only: the RFM segments that drive segment popularity, every model's fallback for cold users
and the per-segment breakdowns. Nothing here reads a test event."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from profiling.evaluation.splits import Split
from profiling.vocabulary import schema as S


def train_as_of(split: Split) -> datetime | None:
    """The date the training part describes: the split's cutoff (temporal split), else the
    latest training timestamp (None without timestamps)."""
    if split.cutoff is not None:
        return split.cutoff
    if S.TIMESTAMP not in split.train.columns:
        return None
    return split.train[S.TIMESTAMP].max()


def train_segments(split: Split) -> pl.DataFrame | None:
    """Named RFM segments of the training users, as of :func:`train_as_of`.

    Recency, frequency and monetary value come from the training events alone
    (:func:`profiling.profiles.features.build_profiles` on ``split.train``), so a user who only
    appears in the test period has no segment (the models then fall back to overall
    popularity for them) and a warm user's segment ignores what they did after the cutoff.

    Returns
    -------
    pl.DataFrame or None
        One row per training user: user_id, segment (an RFM segment name). None when the
        training events hold no purchase (RFM is undefined, e.g. a rating log).
    """
    from profiling.data.dataset import Dataset
    from profiling.profiles.features import build_profiles
    from profiling.profiles.segments import rfm_segments

    train = split.train
    if train.height == 0 or S.EVENT_TYPE not in train.columns:
        return None
    if not (train[S.EVENT_TYPE] == S.PURCHASE).any():
        return None
    numeric = {
        S.QUANTITY: pl.Int64,
        S.PRICE: pl.Float64,
        S.AMOUNT: pl.Float64,
        S.RATING: pl.Float64,
    }
    missing = [c for c in S.EVENT_COLUMNS if c not in train.columns]
    train = train.with_columns(
        pl.lit(None, dtype=numeric.get(c, pl.String)).alias(c) for c in missing
    ).select(S.EVENT_COLUMNS)
    ds = Dataset(events=train, users=None, items=None, report=None, fingerprint="", name="train")
    profiles = build_profiles(ds, as_of=train_as_of(split))
    if "recency_days" not in profiles.columns:
        return None
    return rfm_segments(profiles).select(S.USER_ID, pl.col("rfm_segment").alias("segment"))
