"""The simplest sequential model: recommend the most frequent successors of the user's last
item (a first-order Markov chain over items), the baseline every deep sequence model must
beat."""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from profiling.recommenders.base import Recommender
from profiling.recommenders.sequence_data import user_sequences
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

BACKOFF = 1e-3
"""Weight of the successors of the item before the last one (and so on, geometrically):
they only order items the last item's successors leave tied."""
BACKOFF_STEPS = 3
POPULARITY_TIE = 1e-9


class Markov(Recommender):
    """Next-item Markov chain: score(j) = times any training user went from the user's
    last item straight to j.

    Transitions are counted between consecutive steps of every user's time-ordered sequence
    (:func:`profiling.recommenders.sequence_data.user_sequences`: events when ``fit`` gets
    them, else interactions ordered by time). Items the last item never led to are ordered
    by the successors of the earlier items (weights ``BACKOFF``, ``BACKOFF``², ...) and then
    by popularity, so a user whose last item has no known successor still gets a ranking.

    Parameters
    ----------
    session_gap_minutes : float, default 30
        Passed to the sequence builder (sessions are not used by the chain itself).
    """

    name = "markov"
    family = "sequential"
    uses_events = True

    def __init__(
        self, *, session_gap_minutes: float = 30.0, random_state: int = S.RANDOM_STATE
    ) -> None:
        super().__init__(random_state=random_state)
        self.session_gap_minutes = session_gap_minutes

    def fit(
        self,
        interactions: pl.DataFrame,
        *,
        items: pl.DataFrame | None = None,
        user_segments: pl.DataFrame | None = None,
        events: pl.DataFrame | None = None,
    ) -> Markov:
        """As :meth:`Recommender.fit`; ``events`` (the training events, never later ones)
        give the order of steps, event types and sessions; without them the
        interactions' latest timestamps give the order."""
        self._events = events
        try:
            return super().fit(interactions, items=items, user_segments=user_segments)
        finally:
            del self._events

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        source = self._events if self._events is not None else data
        self.sequences_ = user_sequences(
            source, self.user_index_, self.item_index_, self.session_gap_minutes
        )
        seq = self.sequences_
        n = len(self.items_)
        # consecutive pairs inside a user: drop the pair that crosses into the next user
        same_user = np.ones(len(seq.items), dtype=bool)
        same_user[seq.offsets[1:-1] - 1] = False
        src, dst = seq.items[:-1], seq.items[1:]
        keep = same_user[:-1]
        self.transitions_ = sp.csr_matrix(
            (np.ones(int(keep.sum())), (src[keep], dst[keep])), shape=(n, n)
        )
        self.transitions_.sum_duplicates()

    def _recent(self, u: int, steps: int) -> np.ndarray:
        items = self.sequences_.of(u)[0]
        return items[::-1][:steps]

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        seq = self.sequences_
        start, end = seq.offsets[user_idx], seq.offsets[user_idx + 1]
        rows, cols, vals = [], [], []
        for step in range(BACKOFF_STEPS):
            pos = end - 1 - step
            ok = pos >= start
            rows.append(np.flatnonzero(ok))
            cols.append(seq.items[pos[ok]])
            vals.append(np.full(int(ok.sum()), BACKOFF**step))
        recent = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(user_idx), len(self.items_)),
        )
        pop = self.popularity_ / max(float(self.popularity_.max()), 1.0)
        return np.asarray((recent @ self.transitions_).todense()) + pop * POPULARITY_TIE

    def _explain(self, u: int, i: int) -> str:
        recent = self._recent(u, BACKOFF_STEPS)
        for step, item in enumerate(recent):
            count = int(self.transitions_[item, i])
            if count:
                if step == 0:
                    said = _(
                        "{count} time(s) users went straight from {item} (your last item) to "
                        "this one"
                    )
                else:
                    said = _(
                        "{count} time(s) users went straight from {item} (your item {steps} "
                        "steps back) to this one"
                    )
                return said.format(count=f"{count:,}", item=self.item_title(item), steps=step + 1)
        return _(
            "no user went from your recent items to this one: popular with everyone "
            "({n} users chose it)"
        ).format(n=f"{int(self.popularity_[i]):,}")
