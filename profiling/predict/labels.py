"""Labels of the two tasks at a cutoff (a purchase in the H days from it, or none), and the
examples the models learn from: one user's features at one cutoff with that label."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from profiling.predict.extra_features import add_extra_features
from profiling.predict.features import EventHistory, bgnbd_at, rfm_score
from profiling.predict.protocol import TASKS, PredictionError, Stage, Verbatim
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_


def cutoff_labels(events: pl.DataFrame, cutoff: datetime, horizon_days: int) -> pl.DataFrame:
    """One row per user who made a purchase in [cutoff, cutoff + horizon_days): user_id,
    purchase_days (distinct purchase days in the window)."""
    end = cutoff + timedelta(days=horizon_days)
    ts = pl.col(S.TIMESTAMP)
    return (
        events.lazy()
        .filter((pl.col(S.EVENT_TYPE) == S.PURCHASE) & (ts >= cutoff) & (ts < end))
        .group_by(S.USER_ID)
        .agg(ts.dt.truncate("1d").n_unique().alias("purchase_days"))
        .sort(S.USER_ID)
        .collect()
    )


@dataclass(frozen=True)
class Examples:
    """Rows of one task at one or more cutoffs: features, label, and the columns baselines
    read (``rfm_score``, ``bgnbd_p``)."""

    frame: pl.DataFrame  # user_id, cutoff, features..., rfm_score, bgnbd_p, label
    features: tuple[str, ...]

    def X(self) -> np.ndarray:
        return self.frame.select(self.features).to_numpy().astype(float)

    def y(self) -> np.ndarray:
        return self.frame["label"].to_numpy().astype(int)


def cutoff_frame(
    events: pl.DataFrame,
    cutoff: datetime,
    horizon_days: int,
    *,
    with_labels: bool = True,
    embeddings=None,
    history: EventHistory | None = None,
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Everything both tasks read at one cutoff, computed once.

    ``history``: the :class:`EventHistory` of ``events`` the features and labels are read
    from (built when not given: a run over many cutoffs builds it once and passes it).

    ``embeddings`` (a fitted :class:`profiling.predict.embeddings.SequenceEmbeddings`) adds
    its columns (``seq_emb_1`` ...) to the features, read from events before ``cutoff``.

    Returns
    -------
    (pl.DataFrame, tuple of str)
        One row per user with an event before ``cutoff``: user_id, cutoff, the features of
        :func:`cutoff_features`, rfm_score, bgnbd_p and bgnbd_alive (MBG/NBD P(buy in the
        window) and P(alive); null when it cannot be fitted), bought (1 when the user buys in
        [cutoff, cutoff + H), null when ``with_labels`` is false); and the feature names.
    """
    history = EventHistory(events) if history is None else history
    feats = add_extra_features(history.features(cutoff))
    if embeddings is not None:
        feats = feats.join(embeddings.features(events, cutoff), on=S.USER_ID, how="left")
    # the buying-pattern model's chance of buying and P(alive), fitted before the cutoff,
    # are inputs of the learned model too (null where it cannot be fitted)
    names = (*(c for c in feats.columns if c != S.USER_ID), "bgnbd_p", "bgnbd_alive")
    feats = feats.with_columns(rfm_score(feats).alias("rfm_score"), pl.lit(cutoff).alias("cutoff"))
    bg = bgnbd_at(events, cutoff, horizon_days, history=history)
    if bg is None:
        feats = feats.with_columns(
            pl.lit(None, pl.Float64).alias("bgnbd_p"), pl.lit(None, pl.Float64).alias("bgnbd_alive")
        )
    else:
        feats = feats.join(bg, on=S.USER_ID, how="left")
    if with_labels:
        bought = history.labels(cutoff, horizon_days).select(S.USER_ID, pl.lit(1).alias("bought"))
        feats = feats.join(bought, on=S.USER_ID, how="left").with_columns(
            pl.col("bought").fill_null(0)
        )
    else:
        feats = feats.with_columns(pl.lit(None, pl.Int32).alias("bought"))
    return feats.sort(S.USER_ID), names


def task_error(task: object) -> PredictionError:
    """The refusal of a task that is not one of :data:`TASKS`."""
    return PredictionError(
        Stage(
            N_("task must be one of {tasks}. Got task={task}."),
            tasks=Verbatim(", ".join(TASKS)),
            task=repr(task),
        )
    )


def examples_for(frame: pl.DataFrame, names: tuple[str, ...], task: str) -> Examples:
    """The rows and label of ``task`` from a :func:`cutoff_frame`.

    Purchase: every user; label = bought. Churn: users with a purchase before the cutoff;
    label = 1 - bought (no purchase in the window).
    """
    if task not in TASKS:
        raise task_error(task)
    if task == "churn":
        frame = frame.filter(pl.col("purchase_days") > 0)
        label = 1 - pl.col("bought")
    else:
        label = pl.col("bought")
    return Examples(frame.with_columns(label.alias("label")).drop("bought"), names)


def build_examples(
    events: pl.DataFrame,
    cutoff: datetime,
    horizon_days: int,
    task: str,
    *,
    with_labels: bool = True,
) -> Examples:
    """Examples of ``task`` ("purchase" or "churn") at ``cutoff``.

    Purchase: every user with an event before the cutoff; label 1 when they buy in
    [cutoff, cutoff + H). Churn: users with a purchase before the cutoff; label 1 when they
    do not buy in that window. With ``with_labels=False`` (scoring today) the label is null.

    Returns
    -------
    Examples
        ``frame``: one row per user: user_id, the features, rfm_score, cutoff, bgnbd_p,
        label.
    """
    if task not in TASKS:
        raise task_error(task)
    frame, names = cutoff_frame(events, cutoff, horizon_days, with_labels=with_labels)
    return examples_for(frame, names, task)


def concat_examples(parts: list[Examples]) -> Examples:
    """The rows of several cutoffs as one set of examples (the features of the first)."""
    return Examples(pl.concat([p.frame for p in parts], how="vertical_relaxed"), parts[0].features)


def check_two_classes(ex: Examples, where: str, task: str) -> None:
    """Raise :class:`PredictionError` when ``ex`` (the ``where`` of ``task``, for the message)
    has no rows or one class only: nothing can be learned or measured there."""
    y = ex.y()
    n = y.size
    pos = int(y.sum())
    if n == 0:
        who = N_("users with a purchase before it") if task == "churn" else N_("users")
        raise PredictionError(
            Stage(
                N_("{task}: the {where} has no {who}; nothing to learn from."),
                task=TASKS[task],
                where=where,
                who=who,
            )
        )
    if pos in (0, n):
        what = {
            ("purchase", 0): N_("none of them bought"),
            ("purchase", 1): N_("every one of them bought"),
            ("churn", 0): N_("every one of them bought again"),
            ("churn", 1): N_("none of them bought again"),
        }[(task, int(pos == n))]
        raise PredictionError(
            Stage(
                N_(
                    "{task}: in the {where}, {what} ({n} users), so there is one class only "
                    "and no model can be learned or measured there. Use a longer horizon or a "
                    "longer log."
                ),
                task=TASKS[task],
                where=where,
                what=what,
                n=f"{n:,}",
            )
        )
