"""Buy again: the items a user bought before, ranked by how often and how recently."""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from profiling.errors import ProfilingError
from profiling.recommenders.base import Recommender
from profiling.vocabulary import fmt
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _


class BuyAgain(Recommender):
    """Repeat-purchase recommender for logs where people buy the same items again
    (groceries, supplies, consumables).

    The score of an item the user bought is ``n_ui * 0.5 ** (age_ui / half_life_days)``:
    ``n_ui`` their purchases of it, ``age_ui`` the days from their last purchase of it to
    the latest training timestamp, so an item bought often and lately ranks first. Items
    the user never bought come after all of them, by overall popularity, to fill the list.
    It recommends items the user already has by design (``recommends_seen``): compare()
    lets it, and a page shows it as its own "buy again" list.

    Interactions need ``purchases`` and ``last_purchase`` (as
    :func:`profiling.data.interactions.interactions_from` builds them); without them every
    interaction counts as one purchase at its ``timestamp``.

    Parameters
    ----------
    half_life_days : float or None, default 30
        Recency half-life; None ranks by purchase count only.
    random_state : int
        Unused (deterministic); kept for a uniform constructor.

    Attributes
    ----------
    repeat_ : scipy.sparse.csr_matrix
        users x items frequency-recency scores of the items each user bought.
    purchases_ : scipy.sparse.csr_matrix
        users x items purchase counts.
    age_days_ : scipy.sparse.csr_matrix
        users x items days since the last purchase (stored where bought).
    """

    name = "buy-again"
    family = "repeat purchase"
    recommends_seen = True

    def __init__(self, half_life_days: float | None = 30.0, random_state: int = S.RANDOM_STATE):
        super().__init__(random_state=random_state)
        self.half_life_days = half_life_days

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        hl = self.half_life_days
        if hl is not None and (isinstance(hl, bool) or not isinstance(hl, int | float) or hl <= 0):
            raise ProfilingError(
                _("half_life_days must be > 0 or None. Got {value} instead.").format(value=repr(hl))
            )
        n = len(data)
        count = (
            data["purchases"].fill_null(0).cast(pl.Float64).to_numpy()
            if "purchases" in data.columns
            else np.ones(n)
        )
        when_col = "last_purchase" if "last_purchase" in data.columns else S.TIMESTAMP
        age = np.zeros(n)
        latest = data[S.TIMESTAMP].max() if S.TIMESTAMP in data.columns else None
        if latest is not None and when_col in data.columns:
            seconds = (latest - data[when_col]).dt.total_seconds(fractional=True)
            age = seconds.fill_null(0.0).to_numpy() / 86400.0
        bought = count > 0
        decay = np.ones(n) if hl is None else np.power(0.5, np.clip(age, 0.0, None) / hl)
        shape = self.matrix_.shape
        u, i = codes[0][bought], codes[1][bought]
        self.purchases_ = sp.csr_matrix((count[bought], (u, i)), shape=shape)
        self.age_days_ = sp.csr_matrix((np.maximum(age[bought], 1e-9), (u, i)), shape=shape)
        self.repeat_ = sp.csr_matrix(((count * decay)[bought], (u, i)), shape=shape)
        if not bought.any():
            self.fallback_reason_ = N_("nobody bought anything in the training data")

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        own = self.repeat_[user_idx].toarray()
        pop = self.popularity_ / max(float(self.popularity_.max()), 1.0)
        # bought items score above 1 (1 + their score); the rest by popularity, below 1
        return np.where(own > 0, 1.0 + own, 0.5 * pop[None, :])

    def _explain(self, u: int, i: int) -> str:
        n = int(self.purchases_[u, i])
        if n == 0:
            return _(
                "you have not bought it yet; popular with everyone: {n} users chose it"
            ).format(n=fmt.count(int(self.popularity_[i])))
        days = float(self.age_days_[u, i])
        when = _("today") if days < 1 else _("{days} days ago").format(days=f"{days:.0f}")
        if n == 1:  # two messages, not ngettext: Chinese says the count either way
            return _("you bought it once, last {when}").format(when=when)
        return _("you bought it {n} times, last {when}").format(n=n, when=when)
