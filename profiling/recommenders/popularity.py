"""Non-personalized baselines: overall popularity and popularity within the user's segment."""

from __future__ import annotations

import numpy as np

from profiling.recommenders.base import Recommender


class Popularity(Recommender):
    """Most popular items overall (distinct users per item in training)."""

    name = "popularity"
    family = "non-personalized"

    def _score(self, user_idx: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity_, (len(user_idx), 1))

    def _explain(self, u: int, i: int) -> str:
        return f"popular with everyone: {int(self.popularity_[i]):,} users chose it"


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
            return f"popular with everyone: {int(self.popularity_[i]):,} users chose it"
        return f"popular in your segment ({seg}): {int(self.segment_popularity_[seg][i]):,} of its users chose it"
