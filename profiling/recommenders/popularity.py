"""Non-personalized baselines: overall popularity and popularity within the user's segment."""

from __future__ import annotations

import numpy as np

from profiling.profiles.segments import segment_label
from profiling.recommenders.base import Recommender
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import gettext as _


class Popularity(Recommender):
    """Most popular items overall (distinct users per item in training)."""

    name = "popularity"
    family = "non-personalized"

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity_, (len(user_idx), 1))

    def _explain(self, u: int, i: int) -> str:
        return _("popular with everyone: {n} users chose it").format(
            n=fmt.count(int(self.popularity_[i]))
        )


class SegmentPopularity(Recommender):
    """Most popular items among users of the same segment (overall popularity for users
    without a segment). Needs ``user_segments`` in ``fit``."""

    name = "segment-popularity"
    family = "non-personalized"

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        out = np.empty((len(user_idx), len(self.items_)))
        for row, u in enumerate(user_idx):
            seg = self.segment_of_.get(self.users_[u])
            out[row] = self.segment_popularity_.get(seg, self.popularity_) + self.popularity_ * 1e-9
        return out

    def _explain(self, u: int, i: int) -> str:
        seg = self.segment_of_.get(self.users_[u])
        if seg is None or seg not in self.segment_popularity_:
            return _("popular with everyone: {n} users chose it").format(
                n=fmt.count(int(self.popularity_[i]))
            )
        return _("popular in your segment ({segment}): {n} of its users chose it").format(
            segment=segment_label(seg), n=fmt.count(int(self.segment_popularity_[seg][i]))
        )
