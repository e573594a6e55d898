"""Live profiles: state merged batch by batch equals a rebuild from every event."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from profiling.data.dataset import Dataset
from profiling.profiles import incremental as I
from profiling.profiles.features import build_profiles
from profiling.vocabulary import schema as S

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TYPES = [S.VIEW, S.VIEW, S.VIEW, S.CART, S.PURCHASE, S.PURCHASE, S.REFUND, S.RATE]


def items_table(n: int = 12) -> pl.DataFrame:
    return pl.DataFrame(
        {
            S.ITEM_ID: [f"i{k}" for k in range(n)],
            S.CATEGORY: [None if k == 0 else f"c{k % 4}" for k in range(n)],
            S.BRAND: [None if k == 1 else f"b{k % 3}" for k in range(n)],
        }
    )


def random_events(rng: random.Random, n: int, users: int, *, sessions: bool) -> pl.DataFrame:
    """Random canonical events over ~120 days: some with whole-minute timestamps (ties),
    prices drawn from a few values (ties in the medians), null amounts and ratings."""
    rows = []
    for _ in range(n):
        et = rng.choice(TYPES)
        price = rng.choice([None, 5.0, 9.5, 12.0, 30.0, 31.25])
        qty = rng.choice([1, 1, 2, None])
        rows.append(
            {
                S.USER_ID: f"u{rng.randrange(users)}",
                S.ITEM_ID: rng.choice([None, *[f"i{k}" for k in range(13)]]),
                S.EVENT_TYPE: et,
                S.TIMESTAMP: T0 + timedelta(minutes=rng.randrange(0, 120 * 24 * 60, 7)),
                S.QUANTITY: qty,
                S.PRICE: price,
                S.AMOUNT: None if price is None else price * (qty or 1),
                S.RATING: float(rng.randint(1, 5)) if et == S.RATE else None,
                S.ORDER_ID: rng.choice([None, f"o{rng.randrange(30)}"])
                if et == S.PURCHASE
                else None,
                S.SESSION_ID: f"s{rng.randrange(8)}" if sessions else None,
                S.CHANNEL: None,
                S.DEVICE: None,
            }
        )
    return pl.DataFrame(rows, schema=EVENT_SCHEMA)


EVENT_SCHEMA = {
    S.USER_ID: pl.String,
    S.ITEM_ID: pl.String,
    S.EVENT_TYPE: pl.String,
    S.TIMESTAMP: pl.Datetime("us", "UTC"),
    S.QUANTITY: pl.Int64,
    S.PRICE: pl.Float64,
    S.AMOUNT: pl.Float64,
    S.RATING: pl.Float64,
    S.ORDER_ID: pl.String,
    S.SESSION_ID: pl.String,
    S.CHANNEL: pl.String,
    S.DEVICE: pl.String,
}


def rebuild(events: pl.DataFrame, items, users=None) -> pl.DataFrame:
    ds = Dataset(events, users, items, None, "", "t")
    return build_profiles(ds)


def live(state: I.LiveState, events: pl.DataFrame, items, users=None) -> pl.DataFrame:
    when = events[S.TIMESTAMP].max()
    recent = events.filter(pl.col(S.TIMESTAMP) > I.window_start(when))
    return I.profiles_from_state(state, when, recent, items, users)


def assert_same_profiles(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == want.columns
    assert got[S.USER_ID].to_list() == want[S.USER_ID].to_list()
    for c in want.columns:
        assert got[c].dtype == want[c].dtype, c
        for a, b in zip(got[c].to_list(), want[c].to_list(), strict=True):
            if isinstance(b, float) and isinstance(a, float):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (
                    math.isnan(a) and math.isnan(b)
                ), (c, a, b)
            else:
                assert a == b, (c, a, b)


def history_of(events: pl.DataFrame):
    return lambda ids: events.filter(pl.col(S.USER_ID).is_in(ids))


def test_state_of_a_whole_log_gives_the_rebuilds_profiles():
    events = random_events(random.Random(1), 400, 25, sessions=False)
    items = items_table()
    state = I.state_from_events(events, items)
    assert_same_profiles(live(state, events, items), rebuild(events, items))


def test_a_user_with_one_rating_has_no_rating_spread_and_two_ratings_have_the_sample_std():
    e = (
        pl.DataFrame(
            {
                S.USER_ID: ["a", "b", "b"],
                S.EVENT_TYPE: [S.RATE] * 3,
                S.TIMESTAMP: [T0, T0, T0 + timedelta(hours=1)],
                S.RATING: [4.0, 2.0, 5.0],
            }
        )
        .with_columns(
            pl.lit(None, EVENT_SCHEMA[c]).alias(c)
            for c in EVENT_SCHEMA
            if c not in (S.USER_ID, S.EVENT_TYPE, S.TIMESTAMP, S.RATING)
        )
        .select(list(EVENT_SCHEMA))
        .cast(EVENT_SCHEMA)
    )
    state = I.state_from_events(e.head(1), None)
    state = state.updated(I.merge_events(state, e.tail(2), None, history_of(e.head(1))))
    p = live(state, e, None)
    assert p["rating_std"].to_list() == [
        None,
        pytest.approx(math.sqrt(((2 - 3.5) ** 2 + (5 - 3.5) ** 2) / 1)),
    ]
    assert p["rating_mean"].to_list() == [4.0, 3.5]


@pytest.mark.parametrize("case", range(30))
def test_batches_merged_one_by_one_equal_a_rebuild_of_the_same_events(case):
    rng = random.Random(case)
    sessions = case % 3 == 0
    items = items_table() if case % 5 else None
    batches = [random_events(rng, rng.randint(1, 120), 15, sessions=sessions) for _ in range(4)]
    # a later batch repeating earlier rows: the merge counts what it is given, like a rebuild
    batches[2] = pl.concat([batches[2], batches[0].head(5), batches[1].tail(3)])
    # late and out-of-order events are the norm with random timestamps
    seen = batches[0]
    state = I.state_from_events(seen, items)
    for b in batches[1:]:
        # of days and orders, the merge is given only the rows at the batch's keys, as the
        # workspace reads them
        keys = I.batch_keys(b)
        given = replace(
            state,
            days=state.days.join(keys["days"], on=list(I.KEYS["days"]), how="semi"),
            orders=state.orders.join(keys["orders"], on=list(I.KEYS["orders"]), how="semi"),
        )
        delta = I.merge_events(given, b, items, history_of(seen))
        state = state.updated(delta)
        seen = pl.concat([seen, b])
        assert_same_profiles(live(state, seen, items), rebuild(seen, items))


def test_assigning_users_to_converged_kmeans_clusters_gives_back_the_same_clusters():
    # k-means' fixed point: every user is nearest to the mean of their own cluster, so
    # assigning the same profiles to the means of the previous clusters changes nothing
    from profiling.profiles.segments import build_segments

    events = random_events(random.Random(4), 1500, 60, sessions=False)
    profiles = rebuild(events, items_table())
    previous = build_segments(profiles, k=3)
    seg = I.segments_to_current_clusters(profiles, previous)
    got, want = seg.assignments, previous.assignments
    assert got["cluster"].to_list() == want["cluster"].to_list()
    assert got["cluster_name"].to_list() == want["cluster_name"].to_list()
    assert got["rfm_segment"].to_list() == want["rfm_segment"].to_list()
    assert seg.k == 3 and seg.features == previous.features


def test_a_previous_snapshot_without_clusters_asks_for_a_rebuild():
    from profiling.profiles.segments import build_segments

    profiles = rebuild(random_events(random.Random(4), 300, 20, sessions=False), None)
    previous = build_segments(profiles, k=3)
    previous.k = 0
    with pytest.raises(I.NeedsRebuild, match="no clusters"):
        I.segments_to_current_clusters(profiles, previous)


def test_a_merge_returns_only_the_rows_its_events_changed_or_added():
    # u0 has two days, two orders and two brands of history; one new purchase on a third
    # day, in order o9, of a b1 item, adds one row to each table and changes no other row
    items = pl.DataFrame({S.ITEM_ID: ["i0", "i1"], S.CATEGORY: ["c0", "c1"], S.BRAND: ["b0", "b1"]})

    def event(day: int, order: str, item: str) -> dict:
        return {
            S.USER_ID: "u0",
            S.ITEM_ID: item,
            S.EVENT_TYPE: S.PURCHASE,
            S.TIMESTAMP: T0 + timedelta(days=day, hours=12),
            S.QUANTITY: 1,
            S.PRICE: 10.0,
            S.AMOUNT: 10.0,
            S.RATING: None,
            S.ORDER_ID: order,
            S.SESSION_ID: None,
            S.CHANNEL: None,
            S.DEVICE: None,
        }

    past = pl.DataFrame(
        [event(0, "o1", "i0"), event(1, "o2", "i0"), event(1, "o2", "i1")], schema=EVENT_SCHEMA
    )
    state = I.state_from_events(past, items)
    new = pl.DataFrame([event(5, "o9", "i1")], schema=EVENT_SCHEMA)
    delta = I.merge_events(state, new, items, history_of(past))
    assert delta.days.height == 1 and delta.days["n_buy"].to_list() == [1]
    assert delta.orders["_order"].to_list() == ["o9"]
    assert delta.cats[S.CATEGORY].to_list() == ["c1"] and delta.cats["cat_n"].to_list() == [2]
    assert delta.brands[S.BRAND].to_list() == ["b1"] and delta.brands["n"].to_list() == [2]
    u = delta.users.row(0, named=True)
    # 3 days, 3 days with a purchase, 3 orders; b0 and b1 both bought twice: the first by name
    assert (u["active_days"], u["purchase_days"], u["frequency"]) == (3, 3, 3)
    assert u["favourite_brand"] == "b0"
    full = state.updated(delta)
    assert full.days.height == 3 and full.orders.height == 3
    assert sorted(full.brands["n"].to_list()) == [2, 2]


def test_the_live_path_does_not_import_scikit_learn():
    # a live add reads the saved segmentation and assigns users to its clusters: importing
    # scikit-learn (and scipy) for that would cost more than the merge of a small batch
    import subprocess
    import sys

    code = (
        "import sys; import profiling.profiles.segments, profiling.workspace.live, "
        "profiling.workspace.formats; print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_preferred_hour_is_the_lowest_of_the_hours_with_the_most_events():
    hours = [3, 1, 5, 3, 1]  # 1 and 3 tie with two events each: 1 wins
    e = pl.DataFrame(
        [
            {**{c: None for c in EVENT_SCHEMA}, S.USER_ID: "u", S.EVENT_TYPE: S.VIEW}
            | {S.TIMESTAMP: T0 + timedelta(days=k, hours=h)}
            for k, h in enumerate(hours)
        ],
        schema=EVENT_SCHEMA,
    )
    assert live(I.state_from_events(e, None), e, None)["preferred_hour"].to_list() == [1]
