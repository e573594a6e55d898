"""Time-ordered item sequences per user, the input of the sequential recommenders (Markov,
GRU4Rec, SASRec), built from canonical events or, failing those, from interactions.

From events a step is an item event with a positive implicit weight (view, cart, purchase,
rating, ...; searches, refunds and unknown types are left out), in time order (ties in file
order). Consecutive events of one user on the same item collapse into one step, the last of
the run (a view, then a cart, then a purchase of one item is one "purchase" step), so a
model is not rewarded for predicting "the item you are looking at". A step opens a new
session when it is the user's first, when its session id differs from the previous step's,
or when it comes more than ``session_gap_minutes`` after it.

From interactions (one row per user-item pair, no event types) the steps are the user's
items ordered by their latest timestamp; the event type is unknown (code 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from profiling.errors import ProfilingError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

TYPE_CODES: dict[str, int] = {t: i + 1 for i, t in enumerate(S.EVENT_TYPES)}
"""Event type -> input code of the sequence models (0 = unknown or padding)."""
N_TYPE_CODES = len(TYPE_CODES) + 1


@dataclass(frozen=True)
class Sequences:
    """Every user's steps, concatenated in user order.

    ``items[offsets[u]:offsets[u + 1]]`` are the inner item indices (0-based, as in the
    model's ``items_``) of inner user ``u`` in time order; ``types`` and ``new_session`` are
    aligned with ``items`` (event type code, 1 where a session starts).
    """

    offsets: np.ndarray
    items: np.ndarray
    types: np.ndarray
    new_session: np.ndarray

    def of(self, u: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(items, types, new_session) of inner user ``u``."""
        a, b = self.offsets[u], self.offsets[u + 1]
        return self.items[a:b], self.types[a:b], self.new_session[a:b]

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def user_sequences(
    frame: pl.DataFrame,
    user_index: dict[str, int],
    item_index: dict[str, int],
    session_gap_minutes: float = 30.0,
) -> Sequences:
    """The sequences of the users in ``user_index`` over the items in ``item_index``.

    Parameters
    ----------
    frame : pl.DataFrame
        Canonical events (user_id, item_id, timestamp, event_type[, session_id]) or
        interactions (user_id, item_id, weight, timestamp). Rows of other users or items
        are ignored.
    user_index, item_index : dict
        Raw id -> inner index of the fitted model.
    session_gap_minutes : float, default 30
        A longer pause between two steps starts a new session.
    """
    if session_gap_minutes <= 0:
        raise ProfilingError(
            _(
                "session_gap_minutes must be positive. Got session_gap_minutes={value} instead."
            ).format(value=repr(session_gap_minutes))
        )
    missing = {S.USER_ID, S.ITEM_ID} - set(frame.columns)
    if missing:
        raise ProfilingError(
            _("sequences need columns user_id and item_id; the frame is missing {missing}").format(
                missing=sorted(missing)
            )
        )
    users = pl.DataFrame(
        {S.USER_ID: list(user_index), "__u": list(user_index.values())},
        schema={S.USER_ID: pl.String, "__u": pl.Int64},
    )
    items = pl.DataFrame(
        {S.ITEM_ID: list(item_index), "__i": list(item_index.values())},
        schema={S.ITEM_ID: pl.String, "__i": pl.Int64},
    )
    has_types = S.EVENT_TYPE in frame.columns
    ts = (
        pl.col(S.TIMESTAMP)
        if S.TIMESTAMP in frame.columns
        else pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    )
    kind = (
        pl.col(S.EVENT_TYPE).replace_strict(TYPE_CODES, default=0, return_dtype=pl.Int64)
        if has_types
        else pl.lit(0, dtype=pl.Int64)
    )
    session = (
        pl.col(S.SESSION_ID).cast(pl.String)
        if S.SESSION_ID in frame.columns
        else pl.lit(None, dtype=pl.String)
    )
    e = frame.with_row_index("__row").filter(pl.col(S.ITEM_ID).is_not_null())
    if has_types:
        positive = [t for t, w in S.IMPLICIT_WEIGHTS.items() if w > 0]
        e = e.filter(pl.col(S.EVENT_TYPE).is_in(positive))
    steps = (
        e.select(
            pl.col(S.USER_ID).cast(pl.String),
            pl.col(S.ITEM_ID).cast(pl.String),
            ts.alias("__ts"),
            kind.alias("__type"),
            session.alias("__session"),
            "__row",
        )
        .join(users, on=S.USER_ID)
        .join(items, on=S.ITEM_ID)
        .sort("__u", "__ts", "__row", nulls_last=False)
        # keep the last step of a run of one item
        .filter((pl.col("__i") != pl.col("__i").shift(-1).over("__u")).fill_null(True))
    )
    gap = pl.duration(seconds=session_gap_minutes * 60)
    prev_ts = pl.col("__ts").shift(1).over("__u")
    prev_session = pl.col("__session").shift(1).over("__u")
    steps = steps.with_columns(
        (
            (pl.int_range(pl.len()).over("__u") == 0)
            | ((pl.col("__ts") - prev_ts) > gap).fill_null(False)
            | (pl.col("__session") != prev_session).fill_null(False)
        ).alias("__new")
    )
    counts = np.bincount(steps["__u"].to_numpy(), minlength=len(user_index))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Sequences(
        offsets=offsets,
        items=steps["__i"].to_numpy().astype(np.int64),
        types=steps["__type"].to_numpy().astype(np.int64),
        new_session=steps["__new"].cast(pl.Int64).to_numpy(),
    )
