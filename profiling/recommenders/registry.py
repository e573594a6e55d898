"""Every recommender under a stable name: factories, one-line descriptions, defaults.

>>> from profiling.recommenders.registry import make
>>> model = make("item-knn", random_state=7)  # unfitted
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from profiling.errors import ProfilingError
from profiling.recommenders.base import Recommender
from profiling.recommenders.content import ContentBased, ContextAware
from profiling.recommenders.hybrid import Hybrid
from profiling.recommenders.implicit_models import ALS, BPR, EASE, ItemKNN
from profiling.recommenders.markov import Markov
from profiling.recommenders.popularity import Popularity, SegmentPopularity
from profiling.recommenders.repeat import BuyAgain
from profiling.recommenders.sequence import GRU4Rec, SASRec
from profiling.recommenders.surprise_models import SurpriseModel
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

Factory = Callable[..., Recommender]
"""``factory(random_state=...) -> unfitted Recommender`` (the argument is optional)."""


def _hybrid(random_state: int = S.RANDOM_STATE) -> Recommender:
    return Hybrid(
        {
            "item-knn": ItemKNN(random_state=random_state),
            "ease": EASE(random_state=random_state),
            "als": _als(random_state),
            "bpr": BPR(random_state=random_state),
            "content": ContentBased(random_state=random_state),
        },
        # content at a small weight lets never-chosen items surface without diluting the
        # collaborative signal (sample store: hit rate@10 0.336 vs 0.342 without content);
        # BPR has weight 0 by default, so it is not even fitted: tuning may weigh it in
        weights={"item-knn": 1.0, "ease": 1.0, "als": 1.0, "bpr": 0.0, "content": 0.2},
        random_state=random_state,
    )


def _als(random_state: int = S.RANDOM_STATE) -> Recommender:
    # a strong ridge suits small stores (tuned on the sample store: +0.02 hit rate@10)
    return ALS(regularization=20.0, random_state=random_state)


def _spark_als(random_state: int = S.RANDOM_STATE) -> Recommender:
    from profiling.recommenders.spark_als import SparkALS  # trains on Spark (Java)

    return SparkALS(random_state=random_state)


def _surprise(algorithm: str) -> Factory:
    def factory(random_state: int = S.RANDOM_STATE) -> Recommender:
        return SurpriseModel(algorithm, random_state=random_state)

    factory.__name__ = f"surprise_{algorithm}"
    return factory


MODELS: dict[str, Factory] = {
    "popularity": lambda random_state=S.RANDOM_STATE: Popularity(random_state=random_state),
    "segment-popularity": lambda random_state=S.RANDOM_STATE: SegmentPopularity(
        random_state=random_state
    ),
    "buy-again": lambda random_state=S.RANDOM_STATE: BuyAgain(random_state=random_state),
    "item-knn": lambda random_state=S.RANDOM_STATE: ItemKNN(random_state=random_state),
    "als": _als,
    "bpr": lambda random_state=S.RANDOM_STATE: BPR(random_state=random_state),
    "ease": lambda random_state=S.RANDOM_STATE: EASE(random_state=random_state),
    "content": lambda random_state=S.RANDOM_STATE: ContentBased(random_state=random_state),
    "context": lambda random_state=S.RANDOM_STATE: ContextAware(random_state=random_state),
    "hybrid": _hybrid,
    "svd": _surprise("svd"),
    "svdpp": _surprise("svdpp"),
    "nmf": _surprise("nmf"),
    "knn-user": _surprise("knn_basic"),
    "knn-item": _surprise("knn_item"),
    "knn-means": _surprise("knn_means"),
    "knn-baseline": _surprise("knn_baseline"),
    "baseline-only": _surprise("baseline_only"),
    "slope-one": _surprise("slope_one"),
    "co-clustering": _surprise("co_clustering"),
    "markov": lambda random_state=S.RANDOM_STATE: Markov(random_state=random_state),
    "gru4rec": lambda random_state=S.RANDOM_STATE: GRU4Rec(random_state=random_state),
    "sasrec": lambda random_state=S.RANDOM_STATE: SASRec(random_state=random_state),
    "spark-als": _spark_als,
}
"""Stable model name -> factory with sensible defaults."""

DESCRIPTIONS: dict[str, str] = {
    "popularity": N_("Most popular items overall (the non-personalized baseline)."),
    "segment-popularity": N_("Most popular items among users of the same segment."),
    "buy-again": N_("Items you bought before, by how often and how recently (repeat purchases)."),
    "item-knn": N_("Items often chosen together with yours (item-item cosine neighbours)."),
    "als": N_("Matrix factorization of implicit feedback, alternating least squares (implicit)."),
    "bpr": N_("Matrix factorization trained to rank chosen items first, BPR (implicit)."),
    "ease": N_("Closed-form item-item regression (EASE): strong on small catalogs."),
    "content": N_(
        "Items whose title, description, category and brand match your history (TF-IDF)."
    ),
    "context": N_(
        "Content-based, re-ranked by when you usually shop which category and what "
        "you liked lately."
    ),
    "hybrid": N_("Blend of item-kNN, EASE, ALS, BPR and content-based scores (weights tunable)."),
    "svd": N_("Predicted rating by SVD matrix factorization (Surprise)."),
    "svdpp": N_("Predicted rating by SVD++: SVD plus which items you rated (Surprise)."),
    "nmf": N_("Predicted rating by non-negative matrix factorization (Surprise)."),
    "knn-user": N_("Predicted rating from the most similar users (Surprise KNNBasic)."),
    "knn-item": N_(
        "Predicted rating from your ratings of the most similar items (Surprise KNNBasic)."
    ),
    "knn-means": N_("Predicted rating from similar users, centred on each user's mean (Surprise)."),
    "knn-baseline": N_("Predicted rating from similar users on top of a bias baseline (Surprise)."),
    "baseline-only": N_("Predicted rating = global mean + user bias + item bias (Surprise)."),
    "slope-one": N_("Predicted rating from average rating differences between items (Surprise)."),
    "co-clustering": N_("Predicted rating from user and item cluster averages (Surprise)."),
    "markov": N_("What most often came straight after your last item (next-item Markov chain)."),
    "gru4rec": N_(
        "Next item from the order of your history, read by a recurrent network "
        "(GRU4Rec, PyTorch; trains for up to a few minutes)."
    ),
    "sasrec": N_(
        "Next item from the order of your history, read by self-attention "
        "(SASRec, PyTorch; trains for up to a few minutes)."
    ),
    "spark-als": N_(
        "Implicit ALS trained on Apache Spark (Spark ML), for logs beyond one machine."
    ),
}
"""Registry name -> one-line description (English msgids: read through :func:`describe`)."""

DEFAULT_MODELS: tuple[str, ...] = (
    "popularity",
    "segment-popularity",
    "item-knn",
    "ease",
    "als",
    "content",
    "hybrid",
    "svd",
)
"""A fast default set for the UI (each fits in about a second on the sample store); see
:func:`default_models` for the set of one log (buy-again added where people buy again)."""

#: share of (customer, item) pairs bought on two or more days above which a log "has repeat
#: purchases" and buy-again, which wins there by far, joins the default comparison
REPEAT_SHARE = 0.01


def repeat_purchase_share(events: pl.DataFrame) -> float:
    """Share of the (user_id, item_id) pairs with a purchase that were bought on two or more
    distinct days (0 without purchases)."""
    if S.EVENT_TYPE not in events.columns:
        return 0.0
    pairs = (
        events.filter((pl.col(S.EVENT_TYPE) == S.PURCHASE) & pl.col(S.ITEM_ID).is_not_null())
        .group_by(S.USER_ID, S.ITEM_ID)
        .agg(pl.col(S.TIMESTAMP).dt.date().n_unique().alias("days"))
    )
    return float((pairs["days"] >= 2).mean()) if pairs.height else 0.0


def default_models(events: pl.DataFrame) -> tuple[str, ...]:
    """:data:`DEFAULT_MODELS`, plus buy-again for a transaction or event log where people
    buy the same items again (:func:`repeat_purchase_share` at least :data:`REPEAT_SHARE`);
    a rating log has no purchases to repeat."""
    if repeat_purchase_share(events) >= REPEAT_SHARE:
        return (*DEFAULT_MODELS, "buy-again")
    return DEFAULT_MODELS


_RATING_EVENT_WORDS: dict[str, str] = {
    S.VIEW: N_("a view"),
    S.CLICK: N_("a click"),
    S.WISHLIST: N_("a wishlist add"),
    S.CART: N_("an add to cart"),
    S.RATE: N_("a rating"),
    S.REVIEW: N_("a review"),
    S.PURCHASE: N_("a purchase"),
}
"""One event of a type, in words, for the ratings note (English msgids)."""


def implicit_ratings_note(event_types: list[str] | set[str], names: list[str]) -> str:
    """The sentence saying how events became ratings for rating-prediction models
    (``names``) on a log without explicit ratings, in words and naming only the event types
    the log has: "purchases were turned into ratings (an item bought more often rates
    higher)" on a log of purchases only; "events were turned into ratings: a purchase
    weighs most, then an add to cart, then a view" when it has several kinds (types of
    equal weight joined by "or"). Empty when ``names`` is empty."""
    if not names:
        return ""
    weighted = [t for t in S.IMPLICIT_WEIGHTS if t in set(event_types) and S.IMPLICIT_WEIGHTS[t]]
    models = _(", ").join(G.model_label(n) for n in names)
    if weighted == [S.PURCHASE]:
        how = _("purchases were turned into ratings (an item bought more often rates higher)")
    elif len(weighted) == 1:
        how = _("{event} events were turned into ratings (more of them rates higher)").format(
            event=_(weighted[0])
        )
    else:
        levels = sorted({S.IMPLICIT_WEIGHTS[t] for t in weighted}, reverse=True)
        groups = [
            _(" or ").join(
                _(_RATING_EVENT_WORDS.get(t, t)) for t in weighted if S.IMPLICIT_WEIGHTS[t] == w
            )
            for w in levels
        ]
        how = _("events were turned into ratings: {first} weighs most, then {rest}").format(
            first=groups[0], rest=_(", then ").join(groups[1:])
        )
    return _("No explicit ratings for these rating-prediction models, so {how}: {models}.").format(
        how=how, models=models
    )


def _check(name: str) -> None:
    if name not in MODELS:
        raise ProfilingError(
            _("unknown model {name}; choose one of {models}").format(
                name=repr(name), models=", ".join(MODELS)
            )
        )


def describe(name: str) -> str:
    """One-line description of model ``name`` in the current language."""
    _check(name)
    return _(DESCRIPTIONS[name])


def make(name: str, random_state: int = S.RANDOM_STATE) -> Recommender:
    """A new, unfitted model ``name`` seeded with ``random_state``; its ``name`` is the
    registry key (one name per model: "svd", not the adapter's class-wide "surprise")."""
    _check(name)
    model = MODELS[name](random_state=random_state)
    model.name = name
    return model
