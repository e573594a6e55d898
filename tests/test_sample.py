"""The seeded synthetic store generator and the committed sample_data files."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import polars as pl
import pytest

from profiling.data import sample
from profiling.data.sample import DEFAULT_END, PERSONAS, SampleStore, generate_store, write_store

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

EVENT_SCHEMA = {
    "user_id": pl.String,
    "item_id": pl.String,
    "event_type": pl.String,
    "timestamp": pl.Datetime("us", "UTC"),
    "quantity": pl.Int64,
    "price": pl.Float64,
    "rating": pl.Float64,
    "order_id": pl.String,
}
USER_SCHEMA = {
    "user_id": pl.String,
    "age": pl.Int64,
    "gender": pl.String,
    "region": pl.String,
    "signup_date": pl.Date,
}
ITEM_SCHEMA = {
    "item_id": pl.String,
    "title": pl.String,
    "category": pl.String,
    "brand": pl.String,
    "price": pl.Float64,
    "description": pl.String,
}
PERSONA_SCHEMA = {"user_id": pl.String, "persona": pl.String}


@pytest.fixture(scope="module")
def store() -> SampleStore:
    return generate_store(n_users=200, n_items=50, random_state=7)


def with_personas(store: SampleStore) -> pl.DataFrame:
    return store.events.join(store.personas, on="user_id")


# ----------------------------------------------------------------- determinism ----
def test_the_same_seed_gives_an_identical_store(store):
    again = generate_store(n_users=200, n_items=50, random_state=7)
    for name in ("events", "users", "items", "personas"):
        assert getattr(again, name).equals(getattr(store, name)), name


def test_another_seed_gives_a_different_store(store):
    other = generate_store(n_users=200, n_items=50, random_state=8)
    assert not other.events.equals(store.events)
    assert not other.items.equals(store.items)
    assert not other.personas.equals(store.personas)


def test_a_small_store_is_quick_to_generate():
    started = time.perf_counter()
    generate_store(n_users=200, n_items=50, random_state=1)
    assert time.perf_counter() - started < 2.0


# ------------------------------------------------------------- shape and types ----
def test_tables_have_the_documented_columns_and_dtypes(store):
    assert dict(store.events.schema) == EVENT_SCHEMA
    assert dict(store.users.schema) == USER_SCHEMA
    assert dict(store.items.schema) == ITEM_SCHEMA
    assert dict(store.personas.schema) == PERSONA_SCHEMA


def test_row_counts_follow_the_requested_sizes(store):
    assert store.users.height == 200
    assert store.personas.height == 200
    assert store.items.height == 50
    per_user = store.events.height / 200
    assert 30 < per_user < 90  # about 55 events per user by default


def test_n_events_gives_exactly_that_many_events():
    exact = generate_store(n_users=150, n_items=40, n_events=6_000, random_state=3)
    assert exact.events.height == 6_000
    assert exact.events["user_id"].n_unique() == 150  # trimming never empties a user


def test_ids_are_zero_padded_with_their_prefix(store):
    assert store.users["user_id"].str.contains(r"^U\d{6}$").all()
    assert store.items["item_id"].str.contains(r"^I\d{5}$").all()
    orders = store.events["order_id"].drop_nulls()
    assert orders.str.contains(r"^O\d{7}$").all()
    assert store.users["user_id"].is_unique().all()
    assert store.items["item_id"].is_unique().all()


def test_events_are_sorted_by_timestamp(store):
    assert store.events["timestamp"].is_sorted()


def test_invalid_sizes_are_rejected():
    with pytest.raises(ValueError, match="n_items"):
        generate_store(n_users=10, n_items=5)
    with pytest.raises(ValueError, match="n_users"):
        generate_store(n_users=0)


# ------------------------------------------------------------------ integrity ----
def test_every_event_user_and_item_is_in_the_users_and_items_tables(store):
    assert store.events["user_id"].is_in(store.users["user_id"].implode()).all()
    assert store.events["item_id"].is_in(store.items["item_id"].implode()).all()


def test_event_types_are_view_cart_purchase_rating_and_the_planted_refunds(store):
    assert set(store.events["event_type"].unique()) == {"view", "cart", "purchase", "rating"}
    refunds = generate_store(n_users=200, n_items=50, random_state=7, n_refunders=2).events
    assert set(refunds["event_type"].unique()) == {"view", "cart", "purchase", "rating", "refund"}
    # a refund returns (part of) an earlier order line: same user, item, order and price,
    # later, and never more units in all than the line bought
    back = refunds.filter(pl.col("event_type") == "refund")
    bought = refunds.filter(pl.col("event_type") == "purchase")
    keys = ["user_id", "item_id", "order_id", "price"]
    matched = back.join(bought, on=keys, suffix="_buy")
    assert matched.height == back.height > 0
    assert (matched["timestamp"] > matched["timestamp_buy"]).all()
    returned = matched.group_by(keys).agg(pl.col("quantity").sum(), pl.col("quantity_buy").first())
    assert (returned["quantity"] <= returned["quantity_buy"]).all()


def test_ratings_are_whole_stars_from_1_to_5_and_only_on_rating_rows(store):
    events = store.events
    rated = events.filter(pl.col("event_type") == "rating")["rating"]
    assert rated.null_count() == 0
    assert rated.is_between(1, 5).all()
    assert (rated == rated.round(0)).all()
    assert rated.n_unique() >= 4
    assert events.filter(pl.col("event_type") != "rating")["rating"].null_count() == (
        events.filter(pl.col("event_type") != "rating").height
    )


def test_every_purchase_has_a_positive_price_a_quantity_and_an_order(store):
    buys = store.events.filter(pl.col("event_type") == "purchase")
    assert buys.height > 0
    assert (buys["price"] > 0).all()
    assert buys["quantity"].is_between(1, 12).all()
    assert buys["order_id"].null_count() == 0
    others = store.events.filter(pl.col("event_type") != "purchase")
    assert others["order_id"].null_count() == others.height
    assert others["quantity"].null_count() == others.height


def test_views_and_carts_carry_the_catalogue_price(store):
    priced = store.events.filter(pl.col("event_type") != "rating").join(
        store.items.select("item_id", pl.col("price").alias("list_price")), on="item_id"
    )
    assert priced["price"].null_count() == 0
    assert (priced["price"] == priced["list_price"]).all()
    ratings = store.events.filter(pl.col("event_type") == "rating")
    assert ratings["price"].null_count() == ratings.height


def test_orders_group_purchase_rows_of_one_user_at_one_checkout(store):
    orders = (
        store.events.filter(pl.col("event_type") == "purchase")
        .group_by("order_id")
        .agg(
            lines=pl.len(),
            users=pl.col("user_id").n_unique(),
            times=pl.col("timestamp").n_unique(),
        )
    )
    assert (orders["users"] == 1).all()
    assert (orders["times"] == 1).all()
    assert (orders["lines"] > 1).any()


def test_every_purchase_follows_a_cart_and_every_cart_follows_a_view(store):
    first = store.events.group_by("user_id", "item_id", "event_type").agg(pl.col("timestamp").min())
    wide = first.pivot("event_type", index=["user_id", "item_id"], values="timestamp")
    bought = wide.filter(pl.col("purchase").is_not_null())
    assert bought["cart"].null_count() == 0
    assert (bought["cart"] <= bought["purchase"]).all()
    carted = wide.filter(pl.col("cart").is_not_null())
    assert carted["view"].null_count() == 0
    assert (carted["view"] <= carted["cart"]).all()
    rated = wide.filter(pl.col("rating").is_not_null())
    assert rated["purchase"].null_count() == 0
    assert (rated["purchase"] < rated["rating"]).all()


# ----------------------------------------------------------------------- time ----
def test_timestamps_span_about_twelve_months_ending_at_or_before_end(store):
    first, last = store.events["timestamp"].min(), store.events["timestamp"].max()
    assert last <= DEFAULT_END
    assert first >= DEFAULT_END - dt.timedelta(days=366)
    assert (last - first).days >= 330


def test_a_custom_end_and_shorter_period_are_respected():
    end = dt.datetime(2024, 3, 31, 12, 0, tzinfo=dt.UTC)
    short = generate_store(n_users=100, n_items=30, months=6, end=end, random_state=5)
    first, last = short.events["timestamp"].min(), short.events["timestamp"].max()
    assert last <= end
    assert first >= end - dt.timedelta(days=184)


def test_signup_date_is_on_or_before_each_users_first_event(store):
    first = store.events.group_by("user_id").agg(first=pl.col("timestamp").min().dt.date())
    joined = first.join(store.users, on="user_id")
    assert joined.height == store.users.height  # every user has at least one event
    assert (joined["signup_date"] <= joined["first"]).all()


# ------------------------------------------------------------------- personas ----
def test_there_are_six_personas_and_every_user_has_exactly_one(store):
    assert len(PERSONAS) == 6
    assert store.personas["user_id"].is_unique().all()
    assert set(store.personas["user_id"]) == set(store.users["user_id"])
    assert store.personas["persona"].null_count() == 0
    assert set(store.personas["persona"]) == {p.name for p in PERSONAS}


def test_lapsing_users_last_activity_is_much_earlier_than_other_personas(store):
    last = with_personas(store).group_by("user_id", "persona").agg(pl.col("timestamp").max())
    days_ago = last.with_columns(
        days=(pl.lit(DEFAULT_END) - pl.col("timestamp")).dt.total_days(),
        lapsing=pl.col("persona") == "lapsing",
    )
    lapsing = days_ago.filter(pl.col("lapsing"))["days"].mean()
    others = days_ago.filter(~pl.col("lapsing"))["days"].mean()
    assert lapsing > 90 + others
    assert days_ago.filter(pl.col("lapsing"))["days"].min() >= 60


def test_personas_differ_in_categories_and_price_level(store):
    events = with_personas(store).join(store.items.select("item_id", "category"), on="item_id")
    share = events.group_by("persona").agg(
        books=(pl.col("category") == "Books").mean(),
        electronics=(pl.col("category") == "Electronics").mean(),
        # the mean, not the median: in this 200-user store tech enthusiasts make ~85
        # purchases split between dear Electronics and cheap Office items, and the median
        # lands on whichever side of that boundary chance puts it; the committed store's
        # medians are checked in test_committed_sample_data_matches_its_readme
        paid=pl.col("price").filter(pl.col("event_type") == "purchase").mean(),
    )
    by = {row["persona"]: row for row in share.iter_rows(named=True)}
    assert by["loyal_bookworm"]["books"] > 0.4
    assert by["tech_enthusiast"]["electronics"] > 0.3
    assert by["tech_enthusiast"]["paid"] > 3 * by["bargain_hunter"]["paid"]


# ---------------------------------------------------------------------- output ----
def test_write_store_round_trips_through_parquet_and_csv(store, tmp_path):
    paths = write_store(store, tmp_path / "out")
    assert {p.name for p in paths.values()} == {
        "events.parquet",
        "users.csv",
        "items.csv",
        "personas.csv",
        "events_next_month.parquet",
        "signals.csv",
        "paths.csv",
    }
    assert pl.read_parquet(paths["events"]).equals(store.events)
    assert pl.read_parquet(paths["next_batch"]).equals(store.next_batch)
    assert pl.read_csv(paths["signals"]).equals(store.signals)
    assert pl.read_csv(paths["paths"]).equals(store.paths)
    users = pl.read_csv(paths["users"], schema_overrides={"signup_date": pl.Date})
    assert users.equals(store.users)
    assert pl.read_csv(paths["items"]).equals(store.items)
    assert pl.read_csv(paths["personas"]).equals(store.personas)


def test_the_command_line_writes_a_store(tmp_path, capsys):
    out = tmp_path / "cli"
    code = sample.main(["--out", str(out), "--users", "60", "--items", "24", "--seed", "9"])
    assert code == 0
    assert pl.read_parquet(out / "events.parquet").height > 0
    assert pl.read_csv(out / "users.csv").height == 60
    assert "events" in capsys.readouterr().out


# ------------------------------------------------------------- committed data ----
def test_committed_sample_data_matches_its_readme():
    events = pl.read_parquet(SAMPLE_DIR / "events.parquet")
    users = pl.read_csv(SAMPLE_DIR / "users.csv", schema_overrides={"signup_date": pl.Date})
    items = pl.read_csv(SAMPLE_DIR / "items.csv")
    personas = pl.read_csv(SAMPLE_DIR / "personas.csv")
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")

    assert 100_000 <= events.height <= 250_000
    assert f"{events.height:,}" in readme
    paid = (
        events.filter(pl.col("event_type") == "purchase")
        .join(personas, on="user_id")
        .group_by("persona")
        .agg(pl.col("price").median())
    )
    median = dict(paid.iter_rows())
    assert median["tech_enthusiast"] > 5 * median["bargain_hunter"]
    assert users.height == 3000
    assert items.height == 500
    assert personas.height == 3000
    assert items["category"].n_unique() == 12
    assert dict(events.schema) == EVENT_SCHEMA
    assert dict(users.schema) == USER_SCHEMA
    assert events["user_id"].is_in(users["user_id"].implode()).all()
    assert events["item_id"].is_in(items["item_id"].implode()).all()
    for persona in personas["persona"].unique():
        assert f"`{persona}`" in readme
    assert "python -m profiling.data.sample --out sample_data" in readme
    size = sum(p.stat().st_size for p in SAMPLE_DIR.iterdir())
    assert size < 6_000_000
