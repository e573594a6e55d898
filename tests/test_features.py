"""Profiles: every feature group computed by hand on tiny event logs, the feature catalog, tags."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from profiling.data.dataset import load_dataset
from profiling.profiles.features import (
    TAG_RULES,
    add_tags,
    build_profiles,
    feature_catalog,
    tag_rules,
)

UTC = dt.UTC

# A small store. 2024-03-01 is a Friday, 03-02 a Saturday, 03-03 a Sunday, 03-10 a Sunday,
# 02-01 a Thursday, 02-02 a Friday and 03-20 a Wednesday. The latest event (the default
# as_of) is 2024-03-20 12:00.
#  u1: views, a cart, two orders (o1 with two lines, o2 with one), a refund and a rating;
#  u2: one single event;
#  u3: views and two ratings but no purchase.
STORE = (
    "user,item,event,when,price,qty,order,rating\n"
    "u1,i1,view,2024-03-01 10:00,100,,,\n"
    "u1,i1,cart,2024-03-01 10:20,100,,,\n"
    "u1,i1,purchase,2024-03-01 11:00,100,1,o1,\n"
    "u1,i3,purchase,2024-03-01 11:00,20,2,o1,\n"
    "u1,i2,view,2024-03-02 22:00,50,,,\n"
    "u1,i2,purchase,2024-03-02 22:10,50,1,o2,\n"
    "u1,i3,refund,2024-03-03 09:00,20,1,,\n"
    "u1,i3,rating,2024-03-03 09:05,,,,4\n"
    "u2,i4,view,2024-03-10 03:00,30,,,\n"
    "u3,i4,view,2024-02-01 08:00,30,,,\n"
    "u3,i4,rating,2024-02-01 08:30,,,,5\n"
    "u3,i2,rating,2024-02-02 08:30,,,,2\n"
    "u3,i4,view,2024-03-20 12:00,40,,,\n"
)
ITEMS = (
    "item_id,title,category,brand\n"
    "i1,Phone,Electronics,Acme\n"
    "i2,Cable,Electronics,Zenith\n"
    "i3,Novel,Books,Acme\n"
    "i4,Lamp,Home,Homely\n"
)
USERS = "user_id,age,gender,region\nu1,25,F,North\nu2,17,M,South\nu3,65,,East\n"


def load(tmp_path, events, users=None, items=None, prefix="t"):
    paths = {}
    for role, text in (("events", events), ("users", users), ("items", items)):
        if text is None:
            paths[role] = None
            continue
        path = tmp_path / f"{prefix}_{role}.csv"
        path.write_text(text)
        paths[role] = str(path)
    return load_dataset(paths["events"], paths["users"], paths["items"])


def row(profiles: pl.DataFrame, user: str) -> dict:
    return profiles.filter(pl.col("user_id") == user).row(0, named=True)


@pytest.fixture
def store(tmp_path):
    return load(tmp_path, STORE, USERS, ITEMS)


@pytest.fixture
def profiles(store):
    return build_profiles(store)


# ---- RFM --------------------------------------------------------------------------------
def test_there_is_one_profile_per_user_sorted_by_id(profiles):
    assert profiles["user_id"].to_list() == ["u1", "u2", "u3"]


def test_recency_counts_days_from_the_latest_timestamp_to_the_last_purchase(profiles):
    # as_of 2024-03-20 12:00, last purchase 2024-03-02 22:10: 17 days 13 h 50 min
    assert row(profiles, "u1")["recency_days"] == pytest.approx(17 + (13 * 60 + 50) / 1440)


def test_an_explicit_as_of_ignores_later_events_and_moves_recency(store):
    profiles = build_profiles(store, as_of="2024-03-05")
    # u2's only event (03-10) is after the profile date: no profile at all
    assert profiles["user_id"].to_list() == ["u1", "u3"]
    # 2024-03-05 00:00 UTC minus 2024-03-02 22:10: 2 days 1 h 50 min
    assert row(profiles, "u1")["recency_days"] == pytest.approx(2 + (60 + 50) / 1440)
    # u3's view of 03-20 is dropped
    assert row(profiles, "u3")["n_events"] == 3
    same = build_profiles(store, as_of=dt.datetime(2024, 3, 5, tzinfo=UTC))
    assert same.equals(profiles)


def test_frequency_counts_distinct_orders_not_order_lines(profiles):
    assert row(profiles, "u1")["frequency"] == 2  # o1 (two lines) and o2


def test_monetary_and_avg_order_value_are_net_of_refunds(profiles):
    u1 = row(profiles, "u1")
    assert u1["monetary"] == 100 * 1 + 20 * 2 + 50 * 1 - 20 * 1
    # one definition (glossary AOV_RULE): net spend / orders
    assert u1["avg_order_value"] == (100 * 1 + 20 * 2 + 50 * 1 - 20 * 1) / 2


# 2024-05-01 is a Wednesday; a transaction log: no event column, every row a purchase,
# a negative quantity is a refund.
TRANSACTIONS = (
    "user,item,when,price,qty\n"
    "t1,i1,2024-05-01 09:00,10,2\n"
    "t1,i2,2024-05-01 17:00,5,1\n"
    "t1,i1,2024-05-03 12:00,10,1\n"
    "t1,i1,2024-05-04 12:00,10,-1\n"
)


def test_without_order_ids_frequency_counts_distinct_purchase_days(tmp_path):
    t1 = row(build_profiles(load(tmp_path, TRANSACTIONS)), "t1")
    assert t1["frequency"] == 2  # May 1 (two purchases) and May 3; the refund day is no order
    assert t1["n_purchase"] == 3
    assert t1["n_refund"] == 1


def test_a_negative_quantity_in_a_transaction_log_is_a_refund_netted_from_monetary(tmp_path):
    t1 = row(build_profiles(load(tmp_path, TRANSACTIONS)), "t1")
    assert t1["monetary"] == 10 * 2 + 5 * 1 + 10 * 1 - 10 * 1
    assert t1["avg_order_value"] == (10 * 2 + 5 * 1 + 10 * 1 - 10 * 1) / 2
    assert t1["refund_rate"] == 1 / 3
    # as_of is the refund, 2024-05-04 12:00; the last purchase is a day earlier
    assert t1["recency_days"] == 1.0


def test_a_user_without_purchases_has_no_recency_and_zero_frequency(profiles):
    u3 = row(profiles, "u3")
    assert u3["recency_days"] is None
    assert u3["frequency"] == 0
    assert u3["monetary"] == 0
    assert u3["avg_order_value"] is None
    assert u3["refund_rate"] is None  # no purchase to refund


# ---- activity ---------------------------------------------------------------------------
def test_activity_counts_events_days_and_event_types(profiles):
    u1 = row(profiles, "u1")
    assert u1["n_events"] == 8
    assert u1["first_seen"] == dt.datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert u1["last_seen"] == dt.datetime(2024, 3, 3, 9, 5, tzinfo=UTC)
    # from 2024-03-01 10:00 to as_of 2024-03-20 12:00
    assert u1["tenure_days"] == pytest.approx(19 + 2 / 24)
    # from 2024-03-03 09:05 to as_of
    assert u1["days_since_seen"] == pytest.approx(17 + (2 * 60 + 55) / 1440)
    assert u1["active_days"] == 3  # March 1, 2 and 3
    assert (u1["n_view"], u1["n_cart"], u1["n_purchase"], u1["n_refund"]) == (2, 1, 3, 1)


def test_counts_of_event_types_the_data_never_has_are_left_out(profiles):
    assert "n_view" in profiles.columns
    assert not {"n_click", "n_wishlist", "n_search"} & set(profiles.columns)


def test_sessions_break_after_a_30_minute_gap(profiles):
    # u1: 10:00, 10:20 | 11:00, 11:00 | next day 22:00, 22:10 | next day 09:00, 09:05
    u1 = row(profiles, "u1")
    assert u1["sessions"] == 4
    assert u1["events_per_session"] == 8 / 4


SESSIONS = (
    "user,event,when\n"
    "s1,view,2024-01-01 10:00\n"
    "s1,view,2024-01-01 10:20\n"
    "s1,view,2024-01-01 11:00\n"
    "s2,view,2024-01-01 10:00\n"
    "s2,view,2024-01-01 10:30\n"
)


def test_events_at_10_00_10_20_and_11_00_make_two_sessions(tmp_path):
    profiles = build_profiles(load(tmp_path, SESSIONS))
    s1 = row(profiles, "s1")
    assert s1["sessions"] == 2  # the gaps are 20 and 40 minutes
    assert s1["events_per_session"] == 3 / 2
    assert row(profiles, "s2")["sessions"] == 1  # a gap of exactly 30 minutes is no break


def test_a_session_column_wins_over_the_time_gap(tmp_path):
    log = (
        "user,event,when,session\n"
        "s1,view,2024-01-01 10:00,a\n"
        "s1,view,2024-01-01 10:01,b\n"
        "s1,view,2024-01-01 15:00,b\n"
    )
    assert row(build_profiles(load(tmp_path, log)), "s1")["sessions"] == 2


def test_a_user_with_a_single_event(profiles):
    u2 = row(profiles, "u2")
    assert u2["n_events"] == 1
    assert u2["first_seen"] == u2["last_seen"] == dt.datetime(2024, 3, 10, 3, tzinfo=UTC)
    assert u2["tenure_days"] == pytest.approx(10 + 9 / 24)
    assert (u2["active_days"], u2["sessions"], u2["events_per_session"]) == (1, 1, 1.0)
    assert u2["share_night"] == 1.0  # 03:00
    assert u2["weekend_share"] == 1.0  # a Sunday
    assert u2["preferred_hour"] == 3
    assert u2["cat_share__Home"] == 1.0
    assert u2["category_entropy"] == 0.0
    assert u2["rating_std"] is None


# ---- funnel -----------------------------------------------------------------------------
def test_funnel_rates_divide_event_counts(profiles):
    u1 = row(profiles, "u1")
    assert u1["view_to_cart"] == 1 / 2
    assert u1["cart_to_purchase"] == 3 / 1
    assert u1["view_to_purchase"] == 3 / 2


def test_a_funnel_rate_with_a_zero_denominator_is_null(profiles):
    u2 = row(profiles, "u2")  # one view, no cart
    assert u2["view_to_cart"] == 0 / 1
    assert u2["cart_to_purchase"] is None
    assert u2["view_to_purchase"] == 0 / 1


# ---- affinity ---------------------------------------------------------------------------
def test_category_shares_count_interactions_per_category(profiles):
    # u1: i1 x3 and i2 x2 are Electronics, i3 x3 (purchase, refund, rating) are Books
    u1 = row(profiles, "u1")
    assert u1["cat_share__Electronics"] == 5 / 8
    assert u1["cat_share__Books"] == 3 / 8
    assert u1["cat_share__Home"] == 0.0
    assert u1["top_category"] == "Electronics"
    assert u1["top_category_share"] == 5 / 8
    # u3: i4 (Home) x3, i2 (Electronics) x1
    u3 = row(profiles, "u3")
    assert (u3["cat_share__Home"], u3["cat_share__Electronics"]) == (3 / 4, 1 / 4)


def test_spend_shares_split_gross_purchases_by_category(profiles):
    u1 = row(profiles, "u1")
    assert u1["spend_share__Electronics"] == pytest.approx((100 + 50) / (100 + 50 + 20 * 2))
    assert u1["spend_share__Books"] == pytest.approx(20 * 2 / (100 + 50 + 20 * 2))
    assert row(profiles, "u3")["spend_share__Home"] == 0.0  # spent nothing


def test_category_entropy_is_minus_the_sum_of_p_log_p(profiles):
    u1 = row(profiles, "u1")
    assert u1["category_entropy"] == pytest.approx(
        -(5 / 8 * math.log(5 / 8) + 3 / 8 * math.log(3 / 8))
    )
    u3 = row(profiles, "u3")
    assert u3["category_entropy"] == pytest.approx(
        -(3 / 4 * math.log(3 / 4) + 1 / 4 * math.log(1 / 4))
    )


def test_favourite_brand_is_the_brand_with_most_interactions(profiles):
    assert row(profiles, "u1")["favourite_brand"] == "Acme"  # i1 x3 + i3 x3 vs Zenith i2 x2
    assert row(profiles, "u3")["favourite_brand"] == "Homely"  # i4 x3 vs Zenith x1


# ---- price ------------------------------------------------------------------------------
def test_price_level_is_the_mean_price_paid_over_the_category_median(profiles):
    # priced Electronics events: 100, 100, 100 (i1) and 50, 50 (i2): median 100;
    # priced Books events: 20 (purchase), 20 (refund): median 20
    u1 = row(profiles, "u1")
    assert u1["price_level"] == pytest.approx((100 / 100 + 20 / 20 + 50 / 100) / 3)
    assert u1["avg_unit_price"] == pytest.approx((100 + 20 + 50) / 3)
    assert u1["refund_rate"] == 1 / 3
    assert row(profiles, "u3")["price_level"] is None  # bought nothing


# ---- time -------------------------------------------------------------------------------
# 2024-01-06 is a Saturday, 01-07 a Sunday, 01-08 a Monday
TIMES = (
    "user,event,when\n"
    "w,view,2024-01-06 05:59\n"
    "w,view,2024-01-06 06:00\n"
    "w,view,2024-01-07 12:00\n"
    "w,view,2024-01-08 18:00\n"
    "w,view,2024-01-08 18:30\n"
)


def test_parts_of_day_weekend_share_and_preferred_hour(tmp_path):
    w = row(build_profiles(load(tmp_path, TIMES)), "w")
    assert w["share_night"] == 1 / 5  # 05:59
    assert w["share_morning"] == 1 / 5  # 06:00
    assert w["share_afternoon"] == 1 / 5  # 12:00
    assert w["share_evening"] == 2 / 5  # 18:00 and 18:30
    assert w["weekend_share"] == 3 / 5  # Saturday x2, Sunday x1
    assert w["preferred_hour"] == 18


def test_time_shares_in_the_store(profiles):
    # u1 hours: 10, 10, 11, 11 (Friday), 22, 22 (Saturday), 9, 9 (Sunday)
    u1 = row(profiles, "u1")
    assert (u1["share_night"], u1["share_morning"]) == (0.0, 6 / 8)
    assert (u1["share_afternoon"], u1["share_evening"]) == (0.0, 2 / 8)
    assert u1["weekend_share"] == 4 / 8
    assert u1["preferred_hour"] == 9  # hours 9, 10, 11 and 22 tie: the earliest wins


# ---- ratings and momentum -----------------------------------------------------------------
def test_ratings_count_mean_and_sample_std(profiles):
    u3 = row(profiles, "u3")
    assert (u3["n_ratings"], u3["rating_mean"]) == (2, (5 + 2) / 2)
    assert u3["rating_std"] == pytest.approx(math.sqrt(((5 - 3.5) ** 2 + (2 - 3.5) ** 2) / (2 - 1)))
    u1 = row(profiles, "u1")
    assert (u1["n_ratings"], u1["rating_mean"], u1["rating_std"]) == (1, 4.0, None)
    u2 = row(profiles, "u2")
    assert (u2["n_ratings"], u2["rating_mean"]) == (0, None)


def test_momentum_compares_the_last_30_days_with_the_30_before(profiles):
    # as_of 2024-03-20 12:00: the last 30 days start after 02-19 12:00, the 30 before after
    # 01-20 12:00
    u3 = row(profiles, "u3")
    assert (u3["events_last_30d"], u3["events_prev_30d"]) == (1, 3)
    assert u3["momentum"] == (1 - 3) / (1 + 3)
    u1 = row(profiles, "u1")
    assert (u1["events_last_30d"], u1["events_prev_30d"], u1["momentum"]) == (8, 0, 1.0)


# ---- attributes -------------------------------------------------------------------------
def test_attributes_and_age_bands_come_from_the_users_table(profiles):
    u1, u2, u3 = (row(profiles, u) for u in ("u1", "u2", "u3"))
    assert (u1["age"], u1["gender"], u1["region"], u1["age_band"]) == (25, "F", "North", "25-34")
    assert (u2["age_band"], u2["region"]) == ("<18", "South")
    assert (u3["age_band"], u3["gender"]) == ("65+", None)


def test_only_users_table_columns_are_attributes(profiles):
    from profiling.profiles.features import attribute_columns

    # the users table (with the canonical signup_date, empty here) and the age band made from
    # its ages; a users-table column named like a feature is kept as <name>_attr
    assert attribute_columns(profiles.columns) == [
        "age",
        "gender",
        "region",
        "signup_date",
        "age_band",
    ]
    clash = ["user_id", "frequency", "frequency_attr", "cat_share__Books", "rfm_segment"]
    assert attribute_columns(clash) == ["frequency_attr"]


def test_the_computed_features_are_read_off_the_code_that_computes_them():
    from profiling.profiles.features import computed_columns

    # the hand-kept list this replaced (every fixed-name feature a profile can have)
    expected = {
        "user_id",
        "n_events",
        "first_seen",
        "last_seen",
        "active_days",
        "sessions",
        "gross_spend",
        "refunded",
        "events_last_30d",
        "events_prev_30d",
        "frequency",
        "purchase_days",
        "last_purchase",
        "avg_unit_price",
        "units_bought",
        "price_level",
        "preferred_hour",
        "n_ratings",
        "rating_mean",
        "rating_std",
        "favourite_brand",
        "category_entropy",
        "top_category",
        "top_category_share",
        "tenure_days",
        "days_since_seen",
        "recency_days",
        "monetary",
        "avg_order_value",
        "events_per_session",
        "view_to_cart",
        "cart_to_purchase",
        "view_to_purchase",
        "refund_rate",
        "weekend_share",
        "momentum",
        "n_view",
        "n_click",
        "n_cart",
        "n_wishlist",
        "n_purchase",
        "n_refund",
        "n_rating",
        "n_search",
        "share_night",
        "share_morning",
        "share_afternoon",
        "share_evening",
    }
    assert computed_columns() == expected


def test_a_new_computed_column_is_never_mistaken_for_a_user_attribute(tmp_path, monkeypatch):
    import narwhals as nw

    from profiling.profiles import features as F

    real_activity, real_derive = F._activity, F._derive

    def activity(ev, use_sessions):  # a new aggregate in the plans
        extra = ev.group_by("user_id").agg(nw.col("quantity").max().alias("most_units"))
        return real_activity(ev, use_sessions).join(extra, on="user_id", how="left")

    def derive(p, when, cat):  # and a new derived ratio
        out = real_derive(p, when, cat)
        return out.with_columns((pl.col("n_view") / pl.col("n_events")).alias("view_share"))

    monkeypatch.setattr(F, "_activity", activity)
    monkeypatch.setattr(F, "_derive", derive)
    F.computed_columns.cache_clear()
    try:
        prof = build_profiles(load(tmp_path, STORE, USERS, ITEMS))
        assert {"most_units", "view_share"} <= set(prof.columns)
        assert F.attribute_columns(prof.columns) == [
            "age",
            "gender",
            "region",
            "signup_date",
            "age_band",
        ]
    finally:
        F.computed_columns.cache_clear()


# ---- the catalog and missing columns --------------------------------------------------------
def test_the_catalog_of_a_full_store_skips_nothing(store):
    cat = feature_catalog(store)
    assert cat.skipped == {}
    assert {"rfm", "monetary", "funnel", "category affinity", "brand affinity"} <= set(cat.computed)
    assert {"price level", "refunds", "time of day", "ratings", "attributes"} <= set(cat.computed)


# Dates only, no items, prices, ratings, refunds or users. 2024-01-01 is a Monday.
BARE = (
    "user,event,when\n"
    "a,view,2024-01-01\n"
    "a,purchase,2024-01-02\n"
    "a,purchase,2024-01-02\n"
    "a,purchase,2024-01-04\n"
    "b,view,2024-01-04\n"
)


def test_the_catalog_says_which_groups_are_skipped_and_why(tmp_path):
    cat = feature_catalog(load(tmp_path, BARE))
    assert cat.skipped == {
        "monetary": "no price or amount column",
        "category affinity": "no item catalog with a category column",
        "brand affinity": "no item catalog with a brand column",
        "price level": "needs item categories and prices",
        "refunds": "no refunds in the data",
        "time of day": "timestamps carry no time of day (a date-only log): hours and parts of "
        "the day are not computed from midnight; weekday features stay",
        "ratings": "no rating column",
        "attributes": "no users table",
    }
    assert cat.computed == ["activity", "rfm", "funnel", "sessions"]
    assert cat.to_dict()["skipped"] == cat.skipped


def test_columns_of_skipped_groups_are_absent(tmp_path):
    profiles = build_profiles(load(tmp_path, BARE))
    absent = {
        "monetary",
        "avg_order_value",
        "gross_spend",
        "refunded",
        "top_category",
        "category_entropy",
        "favourite_brand",
        "price_level",
        "refund_rate",
        "n_refund",
        "share_night",
        "share_evening",
        "preferred_hour",
        "n_ratings",
        "rating_mean",
        "age",
        "age_band",
    }
    assert not absent & set(profiles.columns)
    assert not [c for c in profiles.columns if c.startswith(("cat_share__", "spend_share__"))]
    a = row(profiles, "a")
    # identical rows are kept when timestamps carry no time of day and there is no order id
    assert (a["frequency"], a["n_purchase"]) == (2, 3)  # purchase days Jan 2 and Jan 4
    assert a["recency_days"] == 0.0
    assert a["weekend_share"] == 0.0  # dates still have weekdays


NO_PRICES = "user,item,event,when\na,i1,view,2024-05-01 09:00\na,i1,purchase,2024-05-01 17:00\n"


def test_price_columns_are_absent_when_the_log_has_no_prices(tmp_path):
    ds = load(tmp_path, NO_PRICES, items=ITEMS)
    assert {"monetary", "price level"} <= set(feature_catalog(ds).skipped)
    columns = set(build_profiles(ds).columns)
    assert not {"avg_unit_price", "price_level", "spend_share__Electronics"} & columns


def test_funnel_ratios_are_absent_when_the_funnel_is_skipped(tmp_path):
    purchases_only = load(tmp_path, TRANSACTIONS.replace("-1", "1"))
    assert "funnel" in feature_catalog(purchases_only).skipped
    columns = set(build_profiles(purchases_only).columns)
    assert not {"view_to_cart", "cart_to_purchase", "view_to_purchase"} & columns


# ---- tags -------------------------------------------------------------------------------
# A profile frame built by hand with the inputs of the behaviour tags (not of the population
# tags "high value", "frequent buyer" and "explorer", which compare users with each other).
NEUTRAL = {
    "frequency": 1,
    "price_level": 1.0,
    "n_purchase": 1,
    "share_night": 0.1,
    "weekend_share": 0.3,
    "top_category_share": 0.4,
    "n_events": 5,
    "n_view": 3,
    "tenure_days": 100.0,
    "days_since_seen": 5.0,
    "active_days": 2,
    "momentum": 0.0,
    "events_last_30d": 2,
    "n_ratings": 0,
    "refund_rate": 0.0,
    "n_refund": 0,
}


def tags_of(users: dict[str, dict], neutral: dict = NEUTRAL) -> dict[str, list[str]]:
    frame = pl.DataFrame([{"user_id": u, **neutral, **over} for u, over in users.items()])
    return dict(add_tags(frame).select("user_id", "tags").iter_rows())


def test_behaviour_tags_fire_exactly_on_their_thresholds():
    tags = tags_of(
        {
            "plain": {},
            "window": {"n_view": 20, "frequency": 0, "n_purchase": 0},
            "browser_who_bought": {"n_view": 25},
            "few_views": {"n_view": 19, "frequency": 0, "n_purchase": 0},
            "weekend": {"weekend_share": 0.6},
            "weekday": {"weekend_share": 0.59},
            "owl": {"share_night": 0.25},
            "new": {"tenure_days": 30.0},
            "not_new": {"tenure_days": 30.5},
            "lapsing": {"days_since_seen": 90.0, "active_days": 3},
            "gone_once": {"days_since_seen": 200.0, "active_days": 2},
            "rising": {"events_last_30d": 5, "momentum": 0.5},
            "rising_slowly": {"events_last_30d": 5, "momentum": 1 / 3},
            "reviewer": {"n_ratings": 5},
            "returner": {"refund_rate": 0.2, "n_refund": 2},
            "one_return": {"refund_rate": 1.0, "n_refund": 1},
            "bargain": {"price_level": 0.8, "n_purchase": 2},
            "premium": {"price_level": 1.3, "n_purchase": 2},
            "premium_once": {"price_level": 2.0, "n_purchase": 1},
            "loyalist": {"top_category_share": 0.6, "n_events": 10},
        }
    )
    assert tags == {
        "plain": [],
        "window": ["window shopper"],
        "browser_who_bought": [],
        "few_views": [],
        "weekend": ["weekend shopper"],
        "weekday": [],
        "owl": ["night owl"],
        "new": ["new"],
        "not_new": [],
        "lapsing": ["lapsing"],
        "gone_once": [],
        "rising": ["rising"],
        "rising_slowly": [],
        "reviewer": ["reviewer"],
        "returner": ["serial returner"],
        "one_return": [],
        "bargain": ["bargain hunter"],
        "premium": ["premium buyer"],
        "premium_once": [],
        "loyalist": ["category loyalist"],
    }


def test_tags_are_listed_in_rule_order():
    tags = tags_of(
        {
            "many": {
                "share_night": 0.5,
                "weekend_share": 0.9,
                "tenure_days": 3.0,
                "n_view": 30,
                "frequency": 0,
                "n_purchase": 0,
            }
        }
    )
    assert tags["many"] == ["night owl", "weekend shopper", "window shopper", "new"]


def test_a_frequent_buyer_needs_the_top_10_percent_and_at_least_3_orders():
    # 10 buyers with 1..10 orders: the 90th percentile (nearest rank, sorted index
    # round(0.9 * 9) = 8) is 9 orders
    users = {f"b{n:02d}": {"frequency": n} for n in range(1, 11)}
    tags = tags_of(users | {"none": {"frequency": 0}})
    assert [u for u, t in tags.items() if "frequent buyer" in t] == ["b09", "b10"]
    # in a population that rarely buys, the floor of 3 orders still holds
    low = tags_of({f"b{n}": {"frequency": 1 + n % 2} for n in range(10)})
    assert not [u for u, t in low.items() if "frequent buyer" in t]


def test_high_value_tags_the_top_spenders_only():
    users = {f"b{n:02d}": {"monetary": 10.0 * n} for n in range(1, 11)}
    tags = tags_of(users | {"none": {"frequency": 0, "monetary": 0.0}})
    high = {u for u, t in tags.items() if "high value" in t}
    # 100 is in the top 10%; 90 sits on the 90th percentile, whichever way it is taken
    assert "b10" in high
    assert not high & ({f"b{n:02d}" for n in range(1, 9)} | {"none"})


def test_a_tie_at_the_90th_percentile_does_not_make_every_buyer_high_value():
    users = {f"b{n}": {"monetary": 10.0} for n in range(9)} | {"big": {"monetary": 1000.0}}
    tags = tags_of(users)
    assert [u for u, t in tags.items() if "high value" in t] == ["big"]


def test_explorer_tags_the_widest_category_spread():
    users = {f"u{n}": {"category_entropy": 0.1 * n} for n in range(1, 11)}
    tags = tags_of(users)
    assert "explorer" in tags["u10"]
    assert not [u for u in ("u1", "u2", "u5", "u8") if "explorer" in tags[u]]


def test_users_of_a_single_category_are_never_explorers():
    # entropy 0: every interaction in one category; ln 2: two categories half and half
    users = {f"one{n}": {"category_entropy": 0.0} for n in range(9)}
    tags = tags_of(users | {"two": {"category_entropy": math.log(2)}})
    assert [u for u, t in tags.items() if "explorer" in t] == ["two"]


def test_only_rules_whose_inputs_exist_apply():
    frame = pl.DataFrame({"user_id": ["a"], "share_night": [0.9]})
    assert [r.name for r in tag_rules(frame)] == ["night owl"]
    assert add_tags(frame)["tags"].to_list() == [["night owl"]]
    empty = add_tags(pl.DataFrame({"user_id": ["a"]}))
    assert empty["tags"].to_list() == [[]]
    assert empty.schema["tags"] == pl.List(pl.String)


def test_a_user_without_any_tag_gets_an_empty_list_and_tags_keep_the_rules_order():
    frame = pl.DataFrame(
        {
            "user_id": ["a", "b", "c"],
            "share_night": [0.9, 0.0, 0.5],
            "weekend_share": [0.7, 0.1, 0.0],
        }
    )
    tagged = add_tags(frame)
    assert tagged["tags"].to_list() == [["night owl", "weekend shopper"], [], ["night owl"]]
    assert tagged.schema["tags"] == pl.List(pl.String)


def test_tags_on_built_profiles(profiles):
    tags = dict(add_tags(profiles).select("user_id", "tags").iter_rows())
    # tenure from as_of 2024-03-20: u1 19 days, u2 10 days, u3 48 days
    assert "new" in tags["u1"] and "new" in tags["u2"] and "new" not in tags["u3"]
    assert "night owl" in tags["u2"]  # its only event is at 03:00
    assert "weekend shopper" in tags["u2"] and "weekend shopper" not in tags["u1"]  # 1.0 vs 0.5


def test_every_tag_rule_has_a_name_a_rule_text_and_inputs():
    assert len({r.name for r in TAG_RULES}) == len(TAG_RULES)
    for rule in TAG_RULES:
        assert rule.name.strip() and rule.rule.strip() and rule.needs
