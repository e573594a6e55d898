"""The recommender contract: fit on interactions, recommend top-k with raw ids, explain.

Every model subclasses :class:`Recommender`. Subclasses implement ``_fit`` (learn from the
indexed interaction matrix) and ``_score`` (scores of every item for a batch of known users);
the base class owns id mapping, excluding seen items, top-k selection, the flagged fallback
for unknown users and the output frame, so every model behaves the same at the boundary.
"""

from __future__ import annotations

import copy
import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np
import polars as pl
import scipy.sparse as sp

from profiling.checks import check_k
from profiling.errors import NotFittedError, ProfilingError
from profiling.profiles.segments import segment_label
from profiling.vocabulary import fmt
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

RECOMMENDATION_SCHEMA = {
    S.USER_ID: pl.String,
    S.ITEM_ID: pl.String,
    "score": pl.Float64,
    "rank": pl.Int32,
    "is_fallback": pl.Boolean,
}


class Recommender(ABC):
    """Abstract base class of every recommender.

    Parameters are stored by ``__init__`` and nothing else (scikit-learn style); learned
    state ends in ``_``. :meth:`get_params`, :meth:`set_params` and :meth:`clone` read and
    write the constructor parameters (tuning and the hybrid use them).

    Public hooks for subclasses: ``_fit(data, codes)`` (learn; ``matrix_`` is ready),
    ``_score(user_idx)`` (required: scores of every item for known users), ``_explain(u, i)``,
    ``_user_factors()``. A model that cannot personalise at all after ``_fit`` (e.g. content
    without any usable item text) sets ``fallback_reason_`` to a readable sentence: every
    list it returns is then flagged ``is_fallback`` and explained by that sentence.
    ``recommends_seen = True`` on a class (buy-again) tells :func:`compare` to let it
    recommend items the user already has.

    Parameters
    ----------
    random_state : int
        Seed of every random step; the same input gives the same recommendations.

    Attributes (after ``fit``)
    --------------------------
    users_ : np.ndarray of str
        Raw user ids, position = inner index.
    items_ : np.ndarray of str
        Raw item ids, position = inner index.
    matrix_ : scipy.sparse.csr_matrix
        users x items implicit weights (float32) of the training interactions.
    popularity_ : np.ndarray
        Distinct users per item in training (the fallback ranking).
    fit_seconds_ : float
    """

    name = "base"
    family = "base"
    recommends_seen = False

    def __init__(self, random_state: int = S.RANDOM_STATE) -> None:
        self.random_state = random_state

    # ---- parameters (scikit-learn style) -------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self) -> dict:
        """The constructor parameters and their current values."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> Recommender:
        """Set constructor parameters (unfits nothing: call ``fit`` again); returns self."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ProfilingError(
                    _("{model} has no parameter {key}; parameters are {valid}.").format(
                        model=type(self).__name__, key=repr(key), valid=", ".join(sorted(valid))
                    )
                )
            setattr(self, key, value)
        return self

    def clone(self, **overrides) -> Recommender:
        """A new, unfitted model with the same parameters (deep-copied), some overridden."""
        params = copy.deepcopy(self.get_params())
        out = type(self)(**params)
        if "name" in self.__dict__:  # a registry name given by registry.make
            out.name = self.name
        return out.set_params(**overrides) if overrides else out

    # ---- public API -------------------------------------------------------------------
    def fit(
        self,
        interactions: pl.DataFrame,
        *,
        items: pl.DataFrame | None = None,
        user_segments: pl.DataFrame | None = None,
    ) -> Recommender:
        """Learn from interactions.

        Parameters
        ----------
        interactions : pl.DataFrame
            One row per (user_id, item_id) with ``weight`` (implicit strength, > 0) and
            optionally ``rating`` and ``timestamp`` (see
            :meth:`profiling.data.dataset.Dataset.interactions`).
        items : pl.DataFrame, optional
            The item catalog (item_id, title, category, brand, description, ...) for models
            that use content and for readable explanations.
        user_segments : pl.DataFrame, optional
            user_id, segment: lets unknown or cold users fall back to what is popular in
            their segment.
        """
        start = time.perf_counter()
        missing = {S.USER_ID, S.ITEM_ID, "weight"} - set(interactions.columns)
        if missing:
            raise ProfilingError(
                _("interactions need columns user_id, item_id, weight; missing {missing}").format(
                    missing=sorted(missing)
                )
            )
        positive = pl.col("weight") > 0
        if S.RATING in interactions.columns:
            positive = positive | pl.col(S.RATING).is_not_null()  # explicit ratings count too
        data = interactions.filter(pl.col(S.ITEM_ID).is_not_null() & positive)
        if S.RATING in data.columns:
            # a pair that was only rated (weight 0) is still an interaction: it gets the
            # weight of a rating event, so it counts as seen and as popular
            data = data.with_columns(
                pl.when((pl.col("weight") <= 0) & pl.col(S.RATING).is_not_null())
                .then(pl.lit(S.IMPLICIT_WEIGHTS[S.RATE], dtype=pl.Float64))
                .otherwise(pl.col("weight").cast(pl.Float64))
                .alias("weight")
            )
        if data.height == 0:
            raise ProfilingError(_("no interactions to learn from (every weight is 0 or missing)"))
        self.users_ = np.asarray(data[S.USER_ID].unique().sort().to_list(), dtype=object)
        catalog = data[S.ITEM_ID].unique()
        if items is not None and S.ITEM_ID in items.columns:
            catalog = pl.concat([catalog, items[S.ITEM_ID].drop_nulls()]).unique()
        self.items_ = np.asarray(catalog.sort().to_list(), dtype=object)
        self.user_index_ = {u: i for i, u in enumerate(self.users_)}
        self.item_index_ = {it: i for i, it in enumerate(self.items_)}
        codes = self._codes(data)
        self.matrix_ = sp.csr_matrix(
            (data["weight"].clip(lower_bound=0).cast(pl.Float32).to_numpy(), (codes[0], codes[1])),
            shape=(len(self.users_), len(self.items_)),
        )
        self.matrix_.sum_duplicates()
        self.popularity_ = np.asarray((self.matrix_ > 0).sum(axis=0)).ravel().astype(np.float64)
        self.item_table_ = items
        self.user_segments_ = user_segments
        self.__dict__.pop("_titles", None)  # titles of a previous catalog
        self.__dict__.pop("fit_seconds_", None)
        self.fallback_reason_ = None
        self._fit_segments(user_segments)
        self._fit(data, codes)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def recommend(
        self, user_ids: Iterable[str], k: int = S.DEFAULT_K, exclude_seen: bool = True
    ) -> pl.DataFrame:
        """Top-``k`` items per user.

        Returns
        -------
        pl.DataFrame
            One row per (user, recommended item): user_id, item_id, score, rank (1 = best),
            is_fallback. Users unknown to the model get the most popular items of their
            segment (or overall) with ``is_fallback=True``: never an error, never a silent
            substitution.
        """
        self._check_fitted()
        k = check_k(k, "k", ProfilingError)
        if isinstance(user_ids, str):
            user_ids = [user_ids]
        users = list(dict.fromkeys(str(u) for u in user_ids))  # each user once, in order
        known = [u for u in users if u in self.user_index_]
        unknown = [u for u in users if u not in self.user_index_]
        frames = []
        batch = 1024
        for start in range(0, len(known), batch):
            chunk = known[start : start + batch]
            idx = np.fromiter(
                (self.user_index_[u] for u in chunk), dtype=np.int64, count=len(chunk)
            )
            scores = np.asarray(self._score(idx), dtype=np.float64)
            if exclude_seen:
                seen = self.matrix_[idx]
                scores[seen.nonzero()] = -np.inf
            frames.append(self._top_k(chunk, scores, k, fallback=self.fallback_reason_ is not None))
        if unknown:
            frames.append(self._fallback(unknown, k))
        if not frames:
            return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
        out = pl.concat(frames)
        order = pl.DataFrame({S.USER_ID: users, "_o": np.arange(len(users))})
        return out.join(order, on=S.USER_ID).sort("_o", "rank").drop("_o")

    def explain(self, user_id: str, item_id: str) -> str:
        """A short human reason why ``item_id`` is recommended to ``user_id``."""
        self._check_fitted()
        if str(user_id) not in self.user_index_:
            return self._fallback_reason(str(user_id))
        if self.fallback_reason_ is not None:
            i = self.item_index_.get(str(item_id))
            pop = (
                _(": {n} users chose it").format(n=fmt.count(int(self.popularity_[i])))
                if i is not None
                else ""
            )
            return _("{why}; popular with everyone{chosen}").format(
                why=self._fallback_words(), chosen=pop
            )
        if str(item_id) not in self.item_index_:
            return _("this item was not in the training data")
        return self._explain(self.user_index_[str(user_id)], self.item_index_[str(item_id)])

    def _fallback_words(self) -> str:
        """``fallback_reason_`` (an English msgid, kept in English) in the current language."""
        return _(self.fallback_reason_)

    def user_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Raw user ids and the learned user vectors (users x factors), for maps of users.

        Only matrix-factorization models have them; the others raise ProfilingError.
        """
        self._check_fitted()
        factors = self._user_factors()
        if factors is None:
            raise ProfilingError(
                _(
                    "{model} learns no user factors; choose a matrix-factorization model such as "
                    "svd or als"
                ).format(model=getattr(self, "label", self.name))
            )
        return self.users_, factors

    # ---- for subclasses -----------------------------------------------------------------
    def _user_factors(self) -> np.ndarray | None:
        """User vectors aligned with ``users_``, or None for models without them."""
        return None

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        """Learn model state from the indexed interactions (``self.matrix_`` is ready);
        the default learns nothing beyond what the base class keeps (popularity)."""
        return None

    @abstractmethod
    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        """Scores (len(user_idx) x n_items); higher is better."""

    def _explain(self, u: int, i: int) -> str:
        return _("popular: bought or used by {n} users").format(
            n=fmt.count(int(self.popularity_[i]))
        )

    # ---- helpers --------------------------------------------------------------------------
    def _codes(self, data: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        u = data[S.USER_ID].replace_strict(self.user_index_, return_dtype=pl.Int64).to_numpy()
        i = data[S.ITEM_ID].replace_strict(self.item_index_, return_dtype=pl.Int64).to_numpy()
        return u, i

    def _check_fitted(self) -> None:
        # fit_seconds_ is set last, so a fit that raised leaves the model unfitted
        if not hasattr(self, "fit_seconds_"):
            raise NotFittedError(
                _("{model} is not fitted yet; call fit(interactions) first").format(
                    model=type(self).__name__
                )
            )

    def _top_k(self, users: list[str], scores: np.ndarray, k: int, fallback: bool) -> pl.DataFrame:
        n_items = scores.shape[1]
        kk = min(k, n_items)
        part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
        part_scores = np.take_along_axis(scores, part, axis=1)
        # ties broken by item index so results are deterministic
        order = np.lexsort((part, -part_scores), axis=1)
        top = np.take_along_axis(part, order, axis=1)
        top_scores = np.take_along_axis(part_scores, order, axis=1)
        valid = np.isfinite(top_scores)
        rows = np.repeat(np.arange(len(users)), kk).reshape(len(users), kk)
        ranks = np.tile(np.arange(1, kk + 1, dtype=np.int32), (len(users), 1))
        return pl.DataFrame(
            {
                S.USER_ID: np.asarray(users, dtype=object)[rows[valid]],
                S.ITEM_ID: self.items_[top[valid]],
                "score": top_scores[valid].astype(np.float64),
                "rank": ranks[valid],
                "is_fallback": np.full(int(valid.sum()), fallback),
            },
            schema=RECOMMENDATION_SCHEMA,
        )

    def _fit_segments(self, user_segments: pl.DataFrame | None) -> None:
        self.segment_of_ = {}
        self.segment_popularity_ = {}
        if user_segments is None or user_segments.height == 0:
            return
        seg_col = [c for c in user_segments.columns if c != S.USER_ID][0]
        self.segment_of_ = dict(
            zip(user_segments[S.USER_ID].to_list(), user_segments[seg_col].to_list(), strict=True)
        )
        rows = np.array([self.segment_of_.get(u) for u in self.users_], dtype=object)
        binary = (self.matrix_ > 0).astype(np.float64)
        for seg in set(v for v in rows if v is not None):
            mask = rows == seg
            self.segment_popularity_[seg] = np.asarray(binary[mask].sum(axis=0)).ravel()

    def _fallback(self, users: list[str], k: int) -> pl.DataFrame:
        frames = []
        by_segment: dict[object, list[str]] = {}
        for u in users:
            by_segment.setdefault(self.segment_of_.get(u), []).append(u)
        for seg, members in by_segment.items():
            pop = self.segment_popularity_.get(seg, self.popularity_)
            scores = np.tile(pop, (len(members), 1))
            frames.append(self._top_k(members, scores, k, fallback=True))
        return pl.concat(frames)

    def _fallback_reason(self, user_id: str) -> str:
        seg = self.segment_of_.get(user_id)
        if seg is not None and seg in self.segment_popularity_:
            return _("new to the model: popular in your segment ({segment})").format(
                segment=segment_label(seg)
            )
        return _("new to the model: popular with everyone")

    def item_title(self, i: int) -> str:
        """Readable name of inner item ``i`` (title when the catalog has one)."""
        raw = self.items_[i]
        if not hasattr(self, "_titles"):
            t = self.item_table_
            self._titles = (
                dict(zip(t[S.ITEM_ID].to_list(), t[S.TITLE].to_list(), strict=True))
                if t is not None and S.TITLE in t.columns
                else {}
            )
        return self._titles.get(raw) or str(raw)


def explained_recommendations(
    model: Recommender,
    user_id: str,
    k: int = S.DEFAULT_K,
    exclude_seen: bool = True,
    bought: Iterable[str] = (),
) -> pl.DataFrame:
    """Top-``k`` for one user with a readable title and the reason for every item.

    One row per item: rank, item_id, title, score, reason, is_fallback, already_bought
    (the item is in ``bought``, e.g. the user's purchased items, so it can be marked when
    ``exclude_seen`` is False).
    """
    recs = model.recommend([user_id], k=k, exclude_seen=exclude_seen)
    bought = {str(b) for b in bought}
    titles, reasons = [], []
    for item in recs[S.ITEM_ID].to_list():
        i = model.item_index_.get(item)
        titles.append(model.item_title(i) if i is not None else item)
        reasons.append(model.explain(user_id, item))
    return (
        recs.select("rank", S.ITEM_ID, "score", "is_fallback")
        .with_columns(
            pl.Series("title", titles, dtype=pl.String),
            pl.Series("reason", reasons, dtype=pl.String),
            pl.col(S.ITEM_ID).is_in(list(bought)).alias("already_bought"),
        )
        .select("rank", S.ITEM_ID, "title", "score", "reason", "is_fallback", "already_bought")
    )
