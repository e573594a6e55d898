"""Which test events count as relevant, chosen from the kind of log by default.

- rating log (no event type, a rating column): every test rating is relevant, or only those
  at or above a threshold the user sets; rating models are also scored by RMSE and MAE;
- transaction log (every row a purchase): test purchases;
- event log (views, carts, purchases, ...): test purchases, with views, carts or any other
  type as options.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from profiling.errors import EvaluationError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

KINDS = ("event log", "transaction log", "rating log")
_PAST = {
    S.PURCHASE: N_("bought"),
    S.VIEW: N_("viewed"),
    S.CART: N_("put in the cart"),
    S.RATE: N_("rated"),
    S.CLICK: N_("clicked"),
    S.WISHLIST: N_("wished for"),
    S.REVIEW: N_("reviewed"),
}
_PLURALS = {
    S.VIEW: N_("views"),
    S.CLICK: N_("clicks"),
    S.SEARCH: N_("searches"),
    S.WISHLIST: N_("wishlists"),
    S.CART: N_("carts"),
    S.PURCHASE: N_("purchases"),
    S.REFUND: N_("refunds"),
    S.RATE: N_("ratings"),
    S.REVIEW: N_("reviews"),
    S.OTHER: N_("others"),
}
_KIND_WORDS = {
    "event log": N_("event log"),
    "transaction log": N_("transaction log"),
    "rating log": N_("rating log"),
}
"""Words of the rule, English msgids read in the current language when the rule is shown."""


@dataclass(frozen=True)
class Relevance:
    """A relevance rule: test events whose type is in ``types``, or whose rating is at
    least ``rating_threshold``, are relevant.

    Attributes
    ----------
    types : tuple of str
    rating_threshold : float or None
    kind : str
        The kind of log the rule was chosen for ("event log", "transaction log", "rating
        log").
    description : str
        One readable line in the current language, e.g. "relevant: every rating in the test
        part (rating log)" (a property: the rule may be cached and shown in any language).
    """

    types: tuple[str, ...]
    rating_threshold: float | None
    kind: str

    @property
    def description(self) -> str:
        parts = []
        if self.types == (S.RATE,):
            parts.append(_("every rating"))
        elif self.types:
            parts.append(_(" or ").join(_(_PLURALS.get(t, t)) for t in self.types))
        if self.rating_threshold is not None:
            parts.append(_("ratings >= {threshold}").format(threshold=f"{self.rating_threshold:g}"))
        return _("relevant: {what} in the test part ({kind})").format(
            what=_(" or ").join(parts), kind=_(_KIND_WORDS.get(self.kind, self.kind))
        )

    def to_dict(self) -> dict:
        return {
            "relevant_types": list(self.types),
            "rating_threshold": self.rating_threshold,
            "kind": self.kind,
            "rule": self.description,
            "already_had": self.seen_rule,
        }

    @property
    def _had_words(self) -> str:
        if not self.types or self.kind == "rating log":
            return _("rated")
        words = [
            _(_PAST[t]) if t in _PAST else _("had a {event} of").format(event=t) for t in self.types
        ]
        return _(" or ").join(dict.fromkeys(words))

    @property
    def seen_rule(self) -> str:
        """Which items a model may not suggest again, in one line: what the user already
        had in the training part in the sense of relevance (bought, for purchases; rated,
        for ratings), never what they merely viewed."""
        text = _(
            "not suggested again: items the customer already {had} before the test period"
        ).format(had=self._had_words)
        if self.kind == "event log" and S.VIEW not in self.types:
            text += _(" (items only viewed or carted may be suggested)")
        return text

    def already_had(self, train: pl.DataFrame) -> pl.DataFrame:
        """(user_id, item_id) pairs of ``train`` events that count as having the item:
        events of a relevant type, and any rated event when ratings are relevant (a
        rating log, or a rating threshold). One row per pair."""
        if S.EVENT_TYPE not in train.columns:
            had = pl.lit(True)
        else:
            had = pl.col(S.EVENT_TYPE).is_in(list(self.types))
        if S.RATING in train.columns and (
            self.rating_threshold is not None or self.kind == "rating log"
        ):
            had = had | pl.col(S.RATING).is_not_null()
        return (
            train.filter(had & pl.col(S.ITEM_ID).is_not_null())
            .select(S.USER_ID, S.ITEM_ID)
            .unique()
        )

    def had_is_seen(self, train: pl.DataFrame) -> bool:
        """True when every training event with an item is of a kind that counts as having
        it, so "seen" and "already had" are the same items (a transaction log)."""
        if S.EVENT_TYPE not in train.columns:
            return True
        types = set(train.filter(pl.col(S.ITEM_ID).is_not_null())[S.EVENT_TYPE].unique())
        return types <= set(self.types) | {S.REFUND}


def log_kind(events: pl.DataFrame) -> str:
    """The kind of log ``events`` come from, read from its event types: "rating log" when
    no event is a purchase and some carry a rating, "transaction log" when every event is a
    purchase, else "event log"."""
    if S.EVENT_TYPE not in events.columns or events.height == 0:
        return "transaction log"
    types = set(events[S.EVENT_TYPE].drop_nulls().unique().to_list())
    has_rating = S.RATING in events.columns and events[S.RATING].is_not_null().any()
    if S.PURCHASE not in types and has_rating:
        return "rating log"
    if types <= {S.PURCHASE, S.REFUND}:
        return "transaction log"
    return "event log"


def _check_threshold(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise EvaluationError(
            _(
                "rating_threshold must be a number or None. Got rating_threshold={value} instead."
            ).format(value=repr(value))
        )
    return float(value)


def relevance_for(
    events: pl.DataFrame,
    *,
    kind: str | None = None,
    types: Iterable[str] | str | None = None,
    rating_threshold: float | None = None,
) -> Relevance:
    """The relevance rule for a log: the default of its kind, or the caller's choice.

    Parameters
    ----------
    events : pl.DataFrame
        The whole event log (only its event types and ratings are read, to tell its kind).
    kind : str, optional
        "event log", "transaction log" or "rating log" (e.g. the cleaning report's); read
        from ``events`` when None.
    types : iterable of str, optional
        Event types that count as relevant (e.g. ``("purchase", "cart")``); None = the
        default of the kind (purchases; for a rating log every rating, or none when a
        threshold is given).
    rating_threshold : float, optional
        Ratings at or above it are relevant too; it refines ratings: with a threshold, a
        rating event counts only when it reaches it (even when ``types`` names "rating").
    """
    kind = kind or log_kind(events)
    if kind not in KINDS:
        raise EvaluationError(
            _("kind must be one of {allowed}. Got kind={value} instead.").format(
                allowed=", ".join(KINDS), value=repr(kind)
            )
        )
    threshold = _check_threshold(rating_threshold)
    if isinstance(types, str):
        types = (types,)
    chosen = None if types is None else tuple(t for t in types if t)
    if chosen is not None:
        unknown = [t for t in chosen if t not in S.EVENT_TYPES]
        if unknown:
            raise EvaluationError(
                _("relevant event types must be among {allowed}. Got {unknown} instead.").format(
                    allowed=", ".join(S.EVENT_TYPES), unknown=", ".join(unknown)
                )
            )
    if chosen is None:
        if kind == "rating log":
            chosen = () if threshold is not None else (S.RATE,)
        else:
            chosen = (S.PURCHASE,)
    elif threshold is not None and S.RATE in chosen:
        # "every rating, or ratings >= t" would be every rating: a threshold refines ratings
        chosen = tuple(t for t in chosen if t != S.RATE)
    if not chosen and threshold is None:
        raise EvaluationError(
            _(
                "no relevant event type and no rating threshold: nothing can be relevant. "
                "Choose event types (allowed: {allowed}) or a rating threshold."
            ).format(allowed=", ".join(S.EVENT_TYPES))
        )
    return Relevance(types=chosen, rating_threshold=threshold, kind=kind)
