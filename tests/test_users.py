"""One user against everyone: percentiles and nearest neighbours on hand-made profiles."""

import polars as pl
import pytest

from profiling.errors import ProfilingError
from profiling.users import percentiles, similar_users

PROFILES = pl.DataFrame(
    {
        "user_id": ["a", "b", "c", "d"],
        "frequency": [1, 2, 3, 4],
        "monetary": [10.0, 20.0, 30.0, 40.0],
        "recency_days": [5.0, 50.0, None, 20.0],
        "n_events": [1, 2, 3, 4],
        "weekend_share": [0.1, 0.2, 0.3, 0.4],
    }
)


def test_percentiles_count_users_at_or_below_the_value():
    p = percentiles(PROFILES, "c", ("frequency", "monetary"))
    assert dict(p.select("feature", "percentile").iter_rows()) == {
        "frequency": 100 * 3 / 4,
        "monetary": 100 * 3 / 4,
    }


def test_recency_percentile_is_the_share_of_users_who_bought_longer_ago_or_never():
    p = percentiles(PROFILES, "a", ("recency_days",))
    # b (50 days), d (20 days) bought longer ago and c never bought: 3 of 4 users
    assert p["percentile"].to_list() == [100 * 3 / 4]
    assert percentiles(PROFILES, "c", ("recency_days",))["percentile"].to_list() == [None]


def test_similar_users_are_the_nearest_in_standardized_space_without_the_user():
    sim = similar_users(PROFILES, "b", n=2, features=["weekend_share"])
    # a share (not logged): a and c are one standardized step from b, d two
    assert set(sim["user_id"].to_list()) == {"a", "c"}
    assert "b" not in sim["user_id"].to_list()
    assert sim["distance"][0] == pytest.approx(sim["distance"][1])


def test_an_unknown_user_is_a_clear_error():
    with pytest.raises(ProfilingError, match="unknown user 'zz'"):
        percentiles(PROFILES, "zz")
