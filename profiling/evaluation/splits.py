"""Evaluation splits of an event log (global temporal, leave-last-n, random k-fold, stratified
per user), the train interactions rebuilt from train events, and the test ground truth.

Splits cut EVENTS (the canonical event frame: user_id, item_id, event_type, timestamp,
rating, ...), not interactions, so that the train side is rebuilt with the usual implicit
weights (:func:`interactions_from`) and relevance on the test side is defined by event type or
rating (:func:`relevant_items`). Every split keeps the columns of its input.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from profiling.checks import check_columns, check_fraction, check_k
from profiling.data.interactions import interactions_from  # noqa: F401  (re-exported)
from profiling.errors import EvaluationError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

_ROW = "__row"


@dataclass(frozen=True)
class Split:
    """One train/test split of an event log.

    Attributes
    ----------
    train : pl.DataFrame
        Events to learn from.
    test : pl.DataFrame
        Events held out; the ground truth comes from them (:func:`relevant_items`).
    protocol : str
        "temporal", "leave_last_n", "random_kfold" or "stratified".
    description : str
        One readable line, e.g. "global temporal split at 2026-04-12 (80% of events before)".
    cutoff : datetime or None
        The global cutoff of a temporal split (train < cutoff <= test).
    fold : int or None
        0-based fold index of a k-fold split.
    """

    train: pl.DataFrame
    test: pl.DataFrame
    protocol: str
    description: str
    cutoff: datetime | None = None
    fold: int | None = None

    def summary(self) -> dict:
        """Headline counts: train/test events and users, and test users absent from train."""
        train_users = self.train[S.USER_ID].unique()
        test_users = self.test[S.USER_ID].unique()
        return {
            "protocol": self.protocol,
            "description": self.description,
            "train_events": self.train.height,
            "test_events": self.test.height,
            "train_users": train_users.len(),
            "test_users": test_users.len(),
            "test_users_not_in_train": test_users.filter(
                ~test_users.is_in(train_users.implode())
            ).len(),
        }


# ---- helpers ----------------------------------------------------------------------------------
def _check_types(relevant_types: Iterable[str] | str | None) -> tuple[str, ...]:
    if relevant_types is None:
        return ()
    if isinstance(relevant_types, str):
        return (relevant_types,)
    return tuple(relevant_types)


def _need_rows(frame: pl.DataFrame, name: str) -> None:
    """``name``: the frame's argument name, or words already in the current language."""
    if frame.height == 0:
        raise EvaluationError(
            _("{name} has no rows; a split needs events to cut.").format(name=name)
        )


def _split_description_share(train: int, total: int) -> str:
    return f"{train / total:.0%}" if total else "0%"


# ---- splits -----------------------------------------------------------------------------------
def temporal_split(events: pl.DataFrame, test_fraction: float = 0.2) -> Split:
    """Global temporal split: one cutoff timestamp for every user.

    The cutoff is the timestamp of the event at the (1 - ``test_fraction``) quantile of
    time; events strictly before it are train, events at or after it are test. No future
    event (nor future popularity) leaks into train. Ties at the cutoff all go to test, so
    train can hold slightly less than 1 - ``test_fraction`` of the events. Events without a
    timestamp are dropped.

    Parameters
    ----------
    events : pl.DataFrame
        Canonical events (user_id, item_id, event_type, timestamp, ...).
    test_fraction : float, default 0.2
        Share of events (by time) to hold out, strictly between 0 and 1.

    Raises
    ------
    EvaluationError
        Bad ``test_fraction``, no timestamps, or every timestamp equal (nothing before the
        cutoff).
    """
    check_columns(events, (S.USER_ID, S.ITEM_ID, S.TIMESTAMP), "events")
    test_fraction = check_fraction(test_fraction, "test_fraction")
    e = events.filter(pl.col(S.TIMESTAMP).is_not_null())
    _need_rows(e, _("events (with a timestamp)"))
    ts = e[S.TIMESTAMP].sort()
    idx = min(int(math.floor(ts.len() * (1.0 - test_fraction))), ts.len() - 1)
    cutoff = ts[idx]
    before = pl.col(S.TIMESTAMP) < pl.lit(cutoff, dtype=e.schema[S.TIMESTAMP])
    train, test = e.filter(before), e.filter(~before)
    if train.height == 0:
        raise EvaluationError(
            _(
                "no event is strictly before the cutoff {cutoff} with "
                "test_fraction={test_fraction}; the timestamps are (nearly) all equal."
            ).format(cutoff=cutoff, test_fraction=test_fraction)
        )
    when = cutoff.strftime("%Y-%m-%d %H:%M") if hasattr(cutoff, "strftime") else str(cutoff)
    return Split(
        train=train,
        test=test,
        protocol="temporal",
        description=(
            f"global temporal split at {when} "
            f"({_split_description_share(train.height, e.height)} of events before)"
        ),
        cutoff=cutoff,
    )


def leave_last_n(
    events: pl.DataFrame, n: int = 1, relevant_types: Iterable[str] = (S.PURCHASE,)
) -> Split:
    """Leave-last-n: per user, the last ``n`` relevant events go to test.

    For every user with at least one relevant event (event type in ``relevant_types`` and an
    item): their last ``n`` relevant events in time (fewer when they have fewer; ties in time
    broken by row order) form the test set; all of that user's events strictly before the
    earliest of them form train; the user's other events (at or after that time but not
    held out, such as the views around the last purchase) are dropped. Users without a
    relevant event keep all their events in train. Cutoffs differ per user, so other
    users' later events are in train: this protocol can leak future popularity, unlike
    :func:`temporal_split`.

    Parameters
    ----------
    n : int, default 1
        Relevant events held out per user.
    relevant_types : iterable of str, default ("purchase",)
        Event types that count as relevant.
    """
    check_columns(events, (S.USER_ID, S.ITEM_ID, S.EVENT_TYPE, S.TIMESTAMP), "events")
    n = check_k(n, "n")
    types = _check_types(relevant_types)
    if not types:
        raise EvaluationError(
            _(
                "relevant_types must name at least one event type. Got relevant_types={value} "
                "instead; allowed: {allowed}."
            ).format(value=repr(relevant_types), allowed=", ".join(S.EVENT_TYPES))
        )
    e = events.filter(pl.col(S.TIMESTAMP).is_not_null()).with_row_index(_ROW)
    _need_rows(e, _("events (with a timestamp)"))
    relevant = e.filter(pl.col(S.EVENT_TYPE).is_in(list(types)) & pl.col(S.ITEM_ID).is_not_null())
    if relevant.height == 0:
        raise EvaluationError(
            _(
                "no event has a type in relevant_types={types}; the event types present are "
                "{present}."
            ).format(
                types=repr(types),
                present=", ".join(sorted(e[S.EVENT_TYPE].drop_nulls().unique().to_list())),
            )
        )
    held = (
        relevant.sort(S.USER_ID, S.TIMESTAMP, _ROW)
        .group_by(S.USER_ID, maintain_order=True)
        .tail(n)
        .select(e.columns)
    )
    first = held.group_by(S.USER_ID).agg(pl.col(S.TIMESTAMP).min().alias("__first"))
    train = (
        e.join(first, on=S.USER_ID, how="left")
        .filter(pl.col("__first").is_null() | (pl.col(S.TIMESTAMP) < pl.col("__first")))
        .sort(_ROW)
        .drop(_ROW, "__first")
    )
    test = held.sort(_ROW).drop(_ROW)
    users = test[S.USER_ID].n_unique()
    return Split(
        train=train,
        test=test,
        protocol="leave_last_n",
        description=(
            f"leave-last-{n} {'/'.join(types)} per user ({users:,} test users; "
            "each user's earlier events train)"
        ),
    )


def random_kfold(
    events: pl.DataFrame, n_folds: int = 5, random_state: int = S.RANDOM_STATE
) -> list[Split]:
    """Random k-fold over rows (the Surprise protocol, meant for explicit ratings).

    Rows are shuffled with ``random_state`` and cut into ``n_folds`` folds of near-equal
    size; fold i is the test set of the i-th split and the other rows its train set, so each
    row is in exactly one test fold. On raw events this puts a view in train and the purchase
    of the same item in test: use it on a ratings frame (one row per user-item rating).

    Parameters
    ----------
    events : pl.DataFrame
        Events or ratings: user_id, item_id and anything else.
    n_folds : int, default 5
        At least 2 and at most the number of rows.

    Returns
    -------
    list of Split
        ``n_folds`` splits, ``fold`` = 0 .. n_folds - 1.
    """
    check_columns(events, (S.USER_ID, S.ITEM_ID), "events")
    _need_rows(events, "events")
    if isinstance(n_folds, bool) or not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise EvaluationError(
            _("n_folds must be an integer >= 2. Got n_folds={value} instead.").format(
                value=repr(n_folds)
            )
        )
    n_folds = int(n_folds)
    if n_folds > events.height:
        raise EvaluationError(
            _(
                "n_folds must be at most the number of rows ({rows}). Got n_folds={value} instead."
            ).format(rows=events.height, value=n_folds)
        )
    order = np.random.default_rng(random_state).permutation(events.height)
    fold_of = np.empty(events.height, dtype=np.int64)
    for f, chunk in enumerate(np.array_split(order, n_folds)):
        fold_of[chunk] = f
    folds = pl.Series("__fold", fold_of)
    out = []
    for f in range(n_folds):
        mask = folds == f
        test = events.filter(mask)
        out.append(
            Split(
                train=events.filter(~mask),
                test=test,
                protocol="random_kfold",
                description=(
                    f"random {n_folds}-fold split, fold {f + 1} of {n_folds} "
                    f"({_split_description_share(test.height, events.height)} of rows in test)"
                ),
                fold=f,
            )
        )
    return out


def stratified_split(
    events: pl.DataFrame, test_fraction: float = 0.25, random_state: int = S.RANDOM_STATE
) -> Split:
    """Per-user random split of distinct (user, item) pairs (Microsoft Recommenders'
    ``python_stratified_split``).

    Each user with n >= 2 distinct items has round(``test_fraction`` * n) of them, at least 1
    and at most n - 1, drawn at random into test; every event of a test pair goes to test and
    every event of a train pair to train, so no (user, item) is on both sides. Users with a
    single item stay wholly in train. Events without an item go to train.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Share of each user's distinct items held out, strictly between 0 and 1.
    random_state : int
        Seed of the draw.
    """
    check_columns(events, (S.USER_ID, S.ITEM_ID), "events")
    test_fraction = check_fraction(test_fraction, "test_fraction")
    _need_rows(events, "events")
    pairs = (
        events.filter(pl.col(S.ITEM_ID).is_not_null())
        .select(S.USER_ID, S.ITEM_ID)
        .unique()
        .sort(S.USER_ID, S.ITEM_ID)
    )
    pairs = pairs.with_columns(
        pl.Series("__key", np.random.default_rng(random_state).random(pairs.height))
    )
    n = pl.len().over(S.USER_ID)
    n_test = pl.when(n >= 2).then(((n * test_fraction + 0.5).floor().cast(pl.Int64)).clip(1, n - 1))
    test_pairs = pairs.filter(
        pl.col("__key").rank("ordinal").over(S.USER_ID) <= n_test.fill_null(0)
    ).select(S.USER_ID, S.ITEM_ID, pl.lit(True).alias("__test"))
    tagged = events.join(test_pairs, on=[S.USER_ID, S.ITEM_ID], how="left", maintain_order="left")
    is_test = pl.col("__test").fill_null(False)
    train, test = tagged.filter(~is_test).drop("__test"), tagged.filter(is_test).drop("__test")
    return Split(
        train=train,
        test=test,
        protocol="stratified",
        description=(
            f"stratified random split: {test_fraction:.0%} of each user's items in test "
            f"({test_pairs.height:,} user-item pairs, seed {random_state})"
        ),
    )


# ---- train interactions and ground truth -----------------------------------------------------
def relevant_items(
    test_events: pl.DataFrame,
    relevant_types: Iterable[str] | None = (S.PURCHASE,),
    rating_threshold: float | None = None,
) -> pl.DataFrame:
    """The ground truth: one row per (user_id, item_id) relevant in the test events.

    An event is relevant when its type is in ``relevant_types`` or, when
    ``rating_threshold`` is given, when its rating is at least the threshold. For
    explicit-rating data pass ``relevant_types=()`` and a threshold (e.g. 4 on a 1-5 scale).

    Returns
    -------
    pl.DataFrame
        user_id, item_id, sorted.
    """
    check_columns(test_events, (S.USER_ID, S.ITEM_ID), "test_events")
    types = _check_types(relevant_types)
    if not types and rating_threshold is None:
        raise EvaluationError(
            _(
                "relevant_types is empty and rating_threshold is None: nothing can be relevant. "
                "Pass event types (allowed: {allowed}) or a rating threshold."
            ).format(allowed=", ".join(S.EVENT_TYPES))
        )
    if rating_threshold is not None and (
        isinstance(rating_threshold, bool)
        or not isinstance(rating_threshold, int | float)
        or math.isnan(rating_threshold)
    ):
        raise EvaluationError(
            _(
                "rating_threshold must be a number or None. Got rating_threshold={value} instead."
            ).format(value=repr(rating_threshold))
        )
    cond = pl.lit(False)
    if types:
        check_columns(test_events, (S.EVENT_TYPE,), "test_events")
        cond = cond | pl.col(S.EVENT_TYPE).is_in(list(types)).fill_null(False)
    if rating_threshold is not None:
        check_columns(test_events, (S.RATING,), "test_events")
        cond = cond | (pl.col(S.RATING).cast(pl.Float64) >= rating_threshold).fill_null(False)
    return (
        test_events.filter(cond & pl.col(S.ITEM_ID).is_not_null())
        .select(pl.col(S.USER_ID).cast(pl.String), pl.col(S.ITEM_ID).cast(pl.String))
        .unique()
        .sort(S.USER_ID, S.ITEM_ID)
    )


PROTOCOLS: dict[str, str] = {
    "temporal": "Global temporal split (80% of history before one cutoff)",
    "leave-last": "Leave the last relevant event out per user",
    "stratified": "Stratified 75/25 per user (random)",
    "kfold": "Random 5-fold cross-validation (every fold)",
}
"""Protocol name (CLI and page) -> readable description."""


def make_splits(
    events: pl.DataFrame,
    protocol: str,
    *,
    relevant_types: Iterable[str] = (S.PURCHASE,),
    test_fraction: float = 0.2,
    n_folds: int = 5,
    random_state: int = S.RANDOM_STATE,
) -> list[Split]:
    """The split(s) of a named protocol: one split, or ``n_folds`` for "kfold".

    "temporal": :func:`temporal_split` (``test_fraction``); "leave-last":
    :func:`leave_last_n` (n=1, ``relevant_types``); "stratified": :func:`stratified_split`
    (25% of each user's items); "kfold": every fold of :func:`random_kfold`.
    """
    if protocol not in PROTOCOLS:
        raise EvaluationError(
            _("protocol must be one of {allowed}. Got protocol={value} instead.").format(
                allowed=", ".join(PROTOCOLS), value=repr(protocol)
            )
        )
    if protocol == "temporal":
        return [temporal_split(events, test_fraction=test_fraction)]
    if protocol == "leave-last":
        return [leave_last_n(events, n=1, relevant_types=tuple(relevant_types) or (S.PURCHASE,))]
    if protocol == "stratified":
        return [stratified_split(events, test_fraction=0.25, random_state=random_state)]
    return random_kfold(events, n_folds=n_folds, random_state=random_state)
