"""The planted signals of the shipped sample store, each found by the feature that should
find it. The truth files (``personas.csv``, ``signals.csv``, ``paths.csv``) are read here
and never by the app."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from profiling.data.dataset import SAMPLE_DIR, load_sample
from profiling.data.sample import DEFAULT_END, NEXT_BATCH_FILE, PROMOTIONS

SLIPPING = ("About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost")
THRIVING = ("Champions", "Loyal", "Potential loyalist")


@pytest.fixture(scope="module")
def ds():
    return load_sample()


@pytest.fixture(scope="module")
def signals() -> pl.DataFrame:
    return pl.read_csv(SAMPLE_DIR / "signals.csv")


@pytest.fixture(scope="module")
def paths() -> pl.DataFrame:
    return pl.read_csv(SAMPLE_DIR / "paths.csv")


def planted(signals: pl.DataFrame, name: str) -> set[str]:
    return set(signals.filter(pl.col("signal") == name)["user_id"])


# ---- truth files ---------------------------------------------------------------------------
def test_truth_files_name_known_users_and_items_and_every_signal_is_planted(ds, signals, paths):
    users = set(pl.read_csv(SAMPLE_DIR / "users.csv")["user_id"])
    items = set(pl.read_csv(SAMPLE_DIR / "items.csv")["item_id"])
    assert set(signals["user_id"]) <= users
    assert set(signals["item_id"].drop_nulls()) <= items
    assert set(paths["item_id"]) | set(paths["next_item_id"]) <= items
    counts = dict(signals.group_by("signal").len().iter_rows())
    assert set(counts) == {"churner", "grower", "bot", "refund_heavy", "refill"}
    assert counts["bot"] == 3000 // 375 and counts["refund_heavy"] == 3000 // 500
    assert counts["churner"] >= 100 and counts["grower"] >= 100 and counts["refill"] >= 100
    assert set(paths["kind"]) == {"accessory", "next_volume"}
    # a user is a churner or a grower, never both
    trend = signals.filter(pl.col("signal").is_in(["churner", "grower"]))
    assert trend["user_id"].is_unique().all()
    # bots are labelled as such in the persona truth too
    personas = pl.read_csv(SAMPLE_DIR / "personas.csv")
    assert set(personas.filter(pl.col("persona") == "bot")["user_id"]) == planted(signals, "bot")


# ---- traffic -------------------------------------------------------------------------------
def daily_events(ds) -> pl.DataFrame:
    return (
        ds.events.group_by(pl.col("timestamp").dt.date().alias("day"))
        .len()
        .sort("day")
        .with_columns(pl.col("day").dt.ordinal_day().alias("doy"))
    )


def test_traffic_is_steady_with_a_holiday_peak(ds):
    days = daily_events(ds)
    # whole weeks only: the first and last days of the log are partial weeks
    weekly = (
        days.group_by(pl.col("day").dt.truncate("1w").alias("week"))
        .agg(pl.col("len").sum(), pl.col("doy").min().alias("doy"), pl.len().alias("n"))
        .filter(pl.col("n") == 7)
        .sort("week")
    )
    median = weekly["len"].median()
    in_promo = pl.any_horizontal(
        [pl.col("doy").is_between(first - 6, first + length) for _, first, length in PROMOTIONS]
    )
    ordinary = weekly.filter(~in_promo & ~pl.col("doy").is_between(305, 366))
    # a level base: no ordinary week far below or above the typical one (the old sample
    # store ramped up from a third of it in July and fell back to a third in June)
    assert ordinary["len"].min() >= 0.75 * median
    assert ordinary["len"].max() <= 1.35 * median
    # the holiday peak: 1-21 December is busier than any ordinary week
    december = days.filter(pl.col("day").dt.month() == 12, pl.col("day").dt.day() <= 21)
    assert december["len"].sum() / 3 >= 1.3 * median
    assert december["len"].sum() / 3 > ordinary["len"].max()


def test_every_promotion_day_is_a_visible_spike(ds):
    days = daily_events(ds)
    median_day = days["len"].median()
    for name, first, length in PROMOTIONS:
        spike = days.filter(pl.col("doy").is_between(first, first + length - 1))
        assert spike.height == length, name
        assert spike["len"].min() >= 1.8 * median_day, name


def test_toys_peak_before_christmas_and_garden_in_spring(ds):
    cat = ds.events.join(ds.items.select("item_id", "category"), on="item_id").with_columns(
        month=pl.col("timestamp").dt.month()
    )
    share = cat.group_by("month").agg(
        toys=(pl.col("category") == "Toys & Games").mean(),
        garden=(pl.col("category") == "Garden").mean(),
    )
    by = {row["month"]: row for row in share.iter_rows(named=True)}
    assert by[12]["toys"] > 1.5 * by[8]["toys"]
    assert by[5]["garden"] > 2 * by[12]["garden"]


# ---- risk ----------------------------------------------------------------------------------
def test_the_planted_bots_and_refund_heavy_users_and_no_one_else_carry_those_flags(ds, signals):
    from profiling.profiles.risk import risk_scores

    scores = risk_scores(ds.events)
    flagged = scores.explode("risk_flags")
    bots = set(flagged.filter(pl.col("risk_flags") == "Bot-like browsing")["user_id"])
    refunds = set(flagged.filter(pl.col("risk_flags") == "Refund abuse")["user_id"])
    assert bots == planted(signals, "bot")
    assert refunds == planted(signals, "refund_heavy")
    # the anomaly score also sets the bots apart: all in its top 2 %
    bot_pct = scores.filter(pl.col("user_id").is_in(list(bots)))["anomaly_pct"]
    assert bot_pct.min() >= 98


# ---- segment migration ---------------------------------------------------------------------
def test_migration_between_the_halves_of_the_year_moves_the_planted_churners_and_growers(
    ds, signals
):
    from profiling.workspace.migration import migrate
    from profiling.workspace.store import compute_snapshot

    mid = dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    _, early = compute_snapshot(ds, mid, clusters=False)
    _, late = compute_snapshot(ds, DEFAULT_END, clusters=False)
    m = migrate(
        early.assignments,
        late.assignments,
        "rfm_segment",
        events=ds.events,
        before_date=mid,
        after_date=DEFAULT_END,
    )
    movers = m.movers.with_columns(
        slipping=pl.col("to_segment").is_in(SLIPPING) | pl.col("became_inactive"),
        thriving=pl.col("to_segment").is_in(THRIVING),
    )
    churners, growers = planted(signals, "churner"), planted(signals, "grower")

    def share(users: set[str] | None, column: str) -> float:
        rows = movers if users is None else movers.filter(pl.col("user_id").is_in(list(users)))
        return float(rows[column].mean())

    others = movers.filter(~pl.col("user_id").is_in(list(churners | growers)))
    assert share(churners, "slipping") >= float(others["slipping"].mean()) + 0.2
    assert share(growers, "thriving") >= float(others["thriving"].mean()) + 0.2
    # flows out of the thriving segments into slipping ones carry churners' revenue
    at_stake = movers.filter(
        pl.col("from_segment").is_in(THRIVING), pl.col("slipping"), pl.col("revenue_12m") > 0
    )
    assert at_stake.filter(pl.col("user_id").is_in(list(churners))).height >= 10


@pytest.mark.slow
def test_the_planted_churners_rank_high_on_churn_risk_and_growers_on_propensity(ds, signals):
    from profiling.predict import predict

    result = predict(ds.events, n_boot=20, drivers=False)
    scores = result.scores
    churners, growers = planted(signals, "churner"), planted(signals, "grower")
    rest = scores.filter(~pl.col("user_id").is_in(list(churners | growers)))
    churn = scores.filter(pl.col("user_id").is_in(list(churners)))
    grow = scores.filter(pl.col("user_id").is_in(list(growers)))
    assert churn["churn_risk_pct"].median() >= rest["churn_risk_pct"].median() + 10
    assert grow["purchase_propensity_pct"].median() >= rest["purchase_propensity_pct"].median() + 10


# ---- buy again and sequences ---------------------------------------------------------------
def test_buy_again_recommends_the_planted_refills_that_popularity_misses(ds, signals):
    from profiling.data.interactions import interactions_from
    from profiling.recommenders.popularity import Popularity
    from profiling.recommenders.repeat import BuyAgain

    refill = signals.filter(pl.col("signal") == "refill").select("user_id", "item_id")
    cutoff = DEFAULT_END - dt.timedelta(days=60)
    train = interactions_from(ds.events.filter(pl.col("timestamp") <= cutoff))
    # users who bought their refill item in the training period and again after it
    later = ds.events.filter(pl.col("timestamp") > cutoff, pl.col("event_type") == "purchase")
    cases = refill.join(later.select("user_id", "item_id").unique(), on=["user_id", "item_id"])
    cases = cases.filter(pl.col("user_id").is_in(train["user_id"].unique().implode()))
    assert cases.height >= 100

    def hit_rate(model) -> float:
        recs = model.fit(train).recommend(cases["user_id"].to_list(), k=3, exclude_seen=False)
        hits = cases.join(recs.select("user_id", "item_id"), on=["user_id", "item_id"])
        return hits.height / cases.height

    again, popular = hit_rate(BuyAgain()), hit_rate(Popularity())
    assert again >= 0.7
    assert again >= popular + 0.5


def test_planted_paths_are_followed_in_order(ds, paths):
    buys = ds.events.filter(pl.col("event_type") == "purchase").select(
        "user_id", "item_id", "timestamp"
    )
    first = buys.group_by("user_id", "item_id").agg(pl.col("timestamp").min())
    pairs = paths.join(first, on="item_id").join(
        first.rename({"item_id": "next_item_id", "timestamp": "next_ts"}),
        on=["user_id", "next_item_id"],
    )
    # most buyers of a successor bought its predecessor first, a few days to weeks before
    assert pairs.height >= 100
    assert (pairs["next_ts"] > pairs["timestamp"]).mean() >= 0.9
    for kind in ("accessory", "next_volume"):
        assert pairs.filter(pl.col("kind") == kind).height >= 30, kind


def test_the_markov_baseline_finds_the_planted_successors(ds, paths):
    from profiling.data.interactions import interactions_from
    from profiling.recommenders.registry import make

    buys = (
        ds.events.filter(pl.col("event_type") == "purchase")
        .select("user_id", "item_id", "timestamp")
        .sort("user_id", "timestamp")
    )
    last = buys.group_by("user_id").agg(pl.all().last(), pl.col("item_id").alias("_all"))
    prev = buys.with_columns(pl.col("item_id").shift(1).over("user_id").alias("prev")).join(
        last.select("user_id", "timestamp"), on=["user_id", "timestamp"]
    )
    # held out: users whose last purchase is the planted successor of the one before it
    cases = prev.join(
        paths.select(pl.col("item_id").alias("prev"), pl.col("next_item_id").alias("item_id")),
        on=["prev", "item_id"],
    ).unique("user_id")
    assert cases.height >= 20
    # cut an hour before the held-out purchase: its session's view and add-to-cart go too
    held = cases.select("user_id", (pl.col("timestamp") - pl.duration(hours=1)).alias("_cut"))
    train_events = (
        ds.events.join(held, on="user_id", how="left")
        .filter(pl.col("_cut").is_null() | (pl.col("timestamp") < pl.col("_cut")))
        .drop("_cut")
    )
    train = interactions_from(train_events)

    def hit_rate(name: str) -> float:
        model = make(name)
        extra = {"events": train_events} if getattr(model, "uses_events", False) else {}
        fit = model.fit(train, **extra)
        recs = fit.recommend(cases["user_id"].to_list(), k=10)
        return cases.join(recs.select("user_id", "item_id"), on=["user_id", "item_id"]).height / (
            cases.height
        )

    # The last-item successor alone finds the planted next item for about half of the held-out
    # users (0.505 measured), where popularity finds none. Order-blind EASE does better here
    # (0.561 measured; SASRec 0.505): device and accessory are also bought together, so
    # co-occurrence already links them. The issue's "a sequence model beats order-blind
    # models on the planted paths" is therefore not met; this checks the signal is there.
    assert hit_rate("popularity") < 0.05
    assert hit_rate("markov") > 0.4


# ---- the second batch ----------------------------------------------------------------------
@pytest.mark.slow  # builds two snapshots of the whole sample store (about a minute)
def test_adding_the_next_month_to_a_copy_of_the_sample_counts_the_overlap_as_duplicates(
    tmp_path, monkeypatch
):
    from profiling import workspace as W
    from profiling.data.dataset import sample_paths

    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    p = sample_paths()
    events = pl.read_parquet(p["events"])
    batch = pl.read_parquet(SAMPLE_DIR / NEXT_BATCH_FILE)
    # by hand: the batch's rows up to the end of the first batch repeat it row for row
    overlap = batch.filter(pl.col("timestamp") <= DEFAULT_END)
    assert overlap.height > 0
    assert overlap.join(events, on=events.columns, how="anti", nulls_equal=True).height == 0
    new_users = set(batch["user_id"]) - set(events["user_id"])

    ws = W.create("Sample copy", p["events"], p["users"], p["items"])
    rep = ws.add(SAMPLE_DIR / NEXT_BATCH_FILE)
    assert rep.rows_read == batch.height
    assert rep.rows_dropped == 0
    assert rep.rows_duplicate == overlap.height
    assert rep.rows_new == batch.height - overlap.height
    assert rep.new_users == len(new_users)
    assert ws.dataset().events.height == events.height + batch.height - overlap.height
