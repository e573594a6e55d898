"""Hybrid recommender: a weighted blend of per-user min-max-normalised model scores."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from profiling.errors import ProfilingError
from profiling.recommenders.base import Recommender
from profiling.recommenders.content import minmax_rows, segments_frame
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _


def zscore_rows(scores: np.ndarray) -> np.ndarray:
    """Centre each row on its mean and divide by its standard deviation, over finite values
    (constant rows -> 0; -inf stays)."""
    s = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(s)
    n = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    x = np.where(finite, s, 0.0)
    mean = x.sum(axis=1, keepdims=True) / n
    sd = np.sqrt((np.where(finite, (x - mean) ** 2, 0.0)).sum(axis=1, keepdims=True) / n)
    out = np.where(sd > 0, (x - mean) / np.where(sd > 0, sd, 1.0), 0.0)
    return np.where(finite, out, s)


NORMALIZATIONS = ("minmax", "zscore")
NORMALIZERS = {"minmax": minmax_rows, "zscore": zscore_rows}
NO_WEIGHT = N_("no sub-model weighted")
"""The hybrid's fallback reason when no sub-model has a weight (English msgid)."""


class Hybrid(Recommender):
    """Weighted blend of several recommenders.

    Every sub-model is copied, given this model's ``random_state`` (like scikit-learn
    ensembles seed their members) and fitted on the same interactions, catalog and
    segments. For each user, each sub-model's scores over the catalog are scaled
    (``normalization``: min-max to [0, 1], or z-scores); the blend is
    ``sum_m weight_m * scaled_m`` with weights normalised to sum to 1.

    Parameters
    ----------
    models : dict of str to Recommender, or list of Recommender
        Unfitted sub-models; a list is named by each model's ``name`` (``-2``, ``-3``, ...
        appended to repeats).
    weights : dict of str to float, or list of float, optional
        Non-negative blend weights (same keys / order as ``models``); default equal. A
        sub-model of weight 0 is not fitted (unless ``fit_unweighted``).
    normalization : {"minmax", "zscore"}, default "minmax"
        How each sub-model's scores of one user are put on a common scale before blending:
        min-max to [0, 1], or centred and divided by their standard deviation (less
        sensitive to a single extreme score; the better one on MovieLens 100K validation).
    fit_unweighted : bool, default False
        Fit sub-models of weight 0 too (tuning fits once, then :meth:`reweight`).
    random_state : int

    Attributes
    ----------
    models_ : dict of str to Recommender
        The fitted copies.
    weights_ : dict of str to float
        Normalised weights (0 for a dropped sub-model).
    dropped_ : dict of str to str
        Sub-models left out of the blend because they cannot personalise (their
        ``fallback_reason_``); when every weighted sub-model is dropped the hybrid itself
        is a flagged fallback.
    """

    name = "hybrid"
    family = "hybrid"

    def __init__(
        self,
        models: Mapping[str, Recommender] | Sequence[Recommender],
        weights: Mapping[str, float] | Sequence[float] | None = None,
        normalization: str = "minmax",
        fit_unweighted: bool = False,
        random_state: int = S.RANDOM_STATE,
    ) -> None:
        super().__init__(random_state=random_state)
        self.models = models
        self.weights = weights
        self.normalization = normalization
        self.fit_unweighted = fit_unweighted

    def _named_models(self) -> dict[str, Recommender]:
        if isinstance(self.models, Mapping):
            named = {str(k): m for k, m in self.models.items()}
        else:
            named = {}
            for m in self.models:
                key, n = m.name, 1
                while key in named:
                    n += 1
                    key = f"{m.name}-{n}"
                named[key] = m
        if not named:
            raise ProfilingError(_("Hybrid needs at least one model"))
        return named

    def _normalised_weights(self, names: list[str]) -> dict[str, float]:
        if self.weights is None:
            raw = dict.fromkeys(names, 1.0)
        elif isinstance(self.weights, Mapping):
            unknown = set(self.weights) - set(names)
            if unknown:
                raise ProfilingError(
                    _(
                        "weights name models that are not in the hybrid: {unknown}; models are {names}"
                    ).format(unknown=sorted(unknown), names=names)
                )
            raw = {n: float(self.weights.get(n, 0.0)) for n in names}
        else:
            w = list(self.weights)
            if len(w) != len(names):
                raise ProfilingError(
                    _("weights has {n} values for {models} models; give one per model").format(
                        n=len(w), models=len(names)
                    )
                )
            raw = {n: float(v) for n, v in zip(names, w, strict=True)}
        if any(v < 0 or not np.isfinite(v) for v in raw.values()) or sum(raw.values()) <= 0:
            raise ProfilingError(
                _("weights must be non-negative and not all 0. Got {weights}.").format(
                    weights=repr(raw)
                )
            )
        total = sum(raw.values())
        return {n: v / total for n, v in raw.items()}

    def _fit(self, data: pl.DataFrame, codes: tuple[np.ndarray, np.ndarray]) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise ProfilingError(
                _("normalization must be one of {allowed}. Got {value} instead.").format(
                    allowed=NORMALIZATIONS, value=repr(self.normalization)
                )
            )
        named = self._named_models()
        self.weights_ = self._normalised_weights(list(named))
        segments = segments_frame(self)
        self.models_ = {}
        for key, model in named.items():
            if self.weights_[key] <= 0 and not self.fit_unweighted:
                continue  # weight 0: not fitted at all (saves its training time)
            m = copy.deepcopy(model)
            m.random_state = self.random_state
            m.fit(data, items=self.item_table_, user_segments=segments)
            if not (
                np.array_equal(m.users_, self.users_) and np.array_equal(m.items_, self.items_)
            ):  # pragma: no cover - every model indexes through the same base class
                raise ProfilingError(
                    _("sub-model {key} indexed users or items differently").format(key=key)
                )
            self.models_[key] = m
        # a sub-model that cannot personalise (e.g. content without item text) would only
        # blend popularity in: it is left out, and the hybrid says which and why
        self.dropped_ = {
            k: m.fallback_reason_ for k, m in self.models_.items() if m.fallback_reason_
        }
        self._apply_weights()

    def reweight(self, weights: Mapping[str, float] | Sequence[float]) -> Hybrid:
        """Set new blend ``weights`` on a fitted hybrid without refitting (the sub-models do
        not depend on the weights; a sub-model that was not fitted must keep weight 0).
        Used by tuning; returns self."""
        self._check_fitted()
        self.weights = weights
        self.weights_ = self._normalised_weights(list(self._named_models()))
        missing = [k for k, w in self.weights_.items() if w > 0 and k not in self.models_]
        if missing:
            raise ProfilingError(
                _(
                    "sub-models {missing} were not fitted (weight 0 at fit time); refit the hybrid"
                ).format(missing=missing)
            )
        self._apply_weights()
        return self

    def _apply_weights(self) -> None:
        kept = {k: w for k, w in self.weights_.items() if k not in self.dropped_ and w > 0}
        self.fallback_reason_ = None
        if kept:
            total = sum(kept.values())
            self.weights_ = {k: kept.get(k, 0.0) / total for k in self.weights_}
        else:
            self.fallback_reason_ = "; ".join(self.dropped_.values()) or NO_WEIGHT

    def scaled(self, key: str, user_idx: np.ndarray) -> np.ndarray:
        """Sub-model ``key``'s scores for inner users ``user_idx``, scaled per user by
        ``normalization`` (unweighted)."""
        return NORMALIZERS[self.normalization](self.models_[key]._score(user_idx))

    def _parts(self, user_idx: np.ndarray) -> dict[str, np.ndarray]:
        """Weighted, scaled score of every sub-model (users x items each)."""
        return {
            key: self.weights_[key] * self.scaled(key, user_idx)
            for key in self.models_
            if self.weights_.get(key, 0.0) > 0
        }

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return sum(self._parts(user_idx).values())

    def _fallback_words(self) -> str:
        if self.fallback_reason_ == "; ".join(self.dropped_.values()) and self.dropped_:
            return _("; ").join(self.models_[k]._fallback_words() for k in self.dropped_)
        return super()._fallback_words()

    def _explain(self, u: int, i: int) -> str:
        parts = {k: float(v[0, i]) for k, v in self._parts(np.array([u])).items()}
        total = sum(parts.values())
        key = max(parts, key=parts.__getitem__)
        reason = self.models_[key]._explain(u, i)
        if total <= 0 or min(parts.values()) < 0:  # z-scores: shares are not meaningful
            if len(parts) > 1:
                return _("{reason} (mostly {model})").format(
                    reason=reason, model=G.model_label(key)
                )
            return reason
        return _("{reason} (mostly {model}: {share} of the blended score)").format(
            reason=reason, model=G.model_label(key), share=fmt.percent(parts[key] / total, 0)
        )
