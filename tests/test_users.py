"""One user against everyone: percentiles and nearest neighbours on hand-made profiles."""

import datetime as dt

import polars as pl
import pytest

from profiling.data.dataset import load_dataset
from profiling.errors import ProfilingError
from profiling.profiles.features import build_profiles
from profiling.profiles.users import (
    ProfileNeighbours,
    bought_items,
    funnel,
    percentiles,
    pick_random,
    rhythm,
    segment_choices,
    similar_users,
    timeline,
    users_in,
)
from profiling.recommenders import registry
from profiling.recommenders.base import explained_recommendations
from profiling.vocabulary import i18n

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


def test_one_neighbour_index_answers_for_every_user_as_similar_users_does():
    index = ProfileNeighbours(PROFILES, ["weekend_share"])
    for user in ("a", "b", "c", "d"):
        assert index.of(user, 2).equals(similar_users(PROFILES, user, 2, ["weekend_share"]))
    # d (0.4) is nearest to c (0.3), then b (0.2): one and two standardized steps
    assert index.of("d", 2)["user_id"].to_list() == ["c", "b"]
    d = index.of("d", 2)["distance"].to_list()
    assert d[1] == pytest.approx(2 * d[0])
    with pytest.raises(ProfilingError, match="unknown user 'zz'"):
        index.of("zz")


def test_rhythm_of_one_users_rows_follows_the_whole_logs_time_of_day():
    # a user whose only event is at midnight, in a log that has times of day: "night"
    one = pl.DataFrame(
        {"user_id": ["m"], "timestamp": [dt.datetime(2025, 1, 6, tzinfo=dt.UTC)]},
    )
    assert rhythm(one, "m")["part"].to_list() == [None]  # alone, it reads as date-only
    assert rhythm(one, "m", time_known=True)["part"].to_list() == ["night"]


def test_an_unknown_user_is_a_clear_error():
    with pytest.raises(ProfilingError, match="unknown user 'zz'"):
        percentiles(PROFILES, "zz")


def test_an_unknown_user_is_named_in_the_readers_language():
    with pytest.raises(ProfilingError) as raised:
        percentiles(PROFILES, "zz")
    assert str(raised.value) == "unknown user 'zz': no events for this id in the dataset"
    with i18n.language("zh"), pytest.raises(ProfilingError) as raised:
        ProfileNeighbours(PROFILES, ["weekend_share"]).of("zz")
    assert str(raised.value) == "未知客户 'zz'：数据集中没有此 ID 的行为记录"


EVENTS = pl.DataFrame(
    {
        "user_id": ["a", "a", "a", "b", "a"],
        "item_id": ["i1", "i2", "i1", "i1", None],
        "event_type": ["purchase", "view", "purchase", "purchase", "purchase"],
        "timestamp": pl.datetime_range(
            pl.datetime(2025, 1, 6, 9), pl.datetime(2025, 1, 6, 13), "1h", eager=True
        ),
    }
)


def test_bought_items_are_the_distinct_purchased_items_of_the_user():
    assert bought_items(EVENTS, "a") == ["i1"]  # i2 only viewed; the item-less row ignored
    assert bought_items(EVENTS, "zz") == []


def test_recommendations_mark_what_the_user_bought_when_seen_items_stay():
    data = pl.DataFrame(
        {
            "user_id": ["a", "b", "b", "c", "c"],
            "item_id": ["i1", "i1", "i2", "i1", "i3"],
            "weight": [1.0] * 5,
        }
    )
    model = registry.make("popularity").fit(data)
    kept = explained_recommendations(model, "a", k=2, exclude_seen=False, bought=["i1"])
    assert kept["item_id"].to_list()[0] == "i1"  # most popular, bought by a: listed and marked
    assert kept["already_bought"].to_list() == [True, False]
    left_out = explained_recommendations(model, "a", k=2, bought=["i1"])
    assert "i1" not in left_out["item_id"].to_list()
    assert not left_out["already_bought"].any()


def test_a_user_with_a_single_view_gets_every_part_of_the_page(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "user_id,item_id,event_type,timestamp,price\n"
        "solo,i1,view,2025-03-01 22:00,\n"
        "x,i1,purchase,2025-03-02 09:00,5.00\n"
        "x,i2,purchase,2025-03-03 09:00,7.00\n"
    )
    ds = load_dataset(log)
    prof = build_profiles(ds)
    row = prof.filter(pl.col("user_id") == "solo").row(0, named=True)
    assert row["frequency"] == 0
    p = percentiles(prof, "solo")
    assert p.filter(pl.col("feature") == "recency_days")["percentile"].to_list() == [None]
    assert rhythm(ds.events, "solo")["events"].sum() == 1
    assert funnel(row)["events"].to_list()[0] == 1  # one view, then zeros
    assert timeline(ds.events, None, "solo").height == 1
    assert bought_items(ds.events, "solo") == []


def test_segment_choices_name_each_segment_with_its_size_and_list_its_members():
    a = pl.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "rfm_segment": ["Lost", "Champions", "Lost"],
            "cluster_name": ["Big spenders", None, "Big spenders"],
        }
    )
    choices = segment_choices(a)
    assert choices == {
        "rfm_segment=Champions": "Segment: Champions (1 customer)",
        "rfm_segment=Lost": "Segment: Lost (2 customers)",
        "cluster_name=Big spenders": "Group: Big spenders (2 customers)",
    }
    assert list(choices)[:2] == ["rfm_segment=Champions", "rfm_segment=Lost"]  # best to lost
    assert users_in(a, "rfm_segment=Lost") == ["u1", "u3"]
    prof = pl.DataFrame({"user_id": ["u1", "u2", "u3"], "frequency": [0, 3, 2]})
    # among the segment, a user with purchases is preferred
    assert {pick_random(prof, random_state=s, among=["u1", "u3"]) for s in range(10)} == {"u3"}


def test_assignment_of_finds_the_users_row_or_nothing():
    import polars as pl

    from profiling.profiles.users import assignment_of

    a = pl.DataFrame({"user_id": ["u1", "u2"], "rfm_segment": ["Lost", "Champions"]})
    assert assignment_of(a, "u2") == {"user_id": "u2", "rfm_segment": "Champions"}
    assert assignment_of(a, "u9") == {}
    assert assignment_of(None, "u1") == {}
