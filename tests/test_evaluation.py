"""Evaluation: metric fixed points and textbook cases worked by hand, the four splits, the
bootstrap and the paired sign-flip test, and compare() on a small synthetic store."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from profiling.errors import ProfilingError
from profiling.evaluation import (
    Comparison,
    EvaluationError,
    benjamini_hochberg,
    bootstrap_ci,
    catalog_coverage,
    compare,
    compare_folds,
    f1_at_k,
    hit_rate_at_k,
    interactions_from,
    intra_list_diversity,
    leave_last_n,
    log_kind,
    mae,
    map_at_k,
    mean_over_users,
    mrr,
    ndcg_at_k,
    novelty,
    paired_sign_flip_test,
    popularity_bias,
    precision_at_k,
    precision_recall_curve,
    random_kfold,
    recall_at_k,
    relevance_for,
    relevant_items,
    rmse,
    stratified_split,
    temporal_split,
)
from profiling.evaluation.splits import make_splits
from profiling.recommenders.popularity import Popularity, SegmentPopularity
from tests.conftest import raised_in_both

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def recs_of(lists: dict[str, list[str]]) -> pl.DataFrame:
    """Long recommendations: user_id, item_id, score, rank from ordered lists."""
    rows = [
        (u, item, float(len(items) - i), i + 1)
        for u, items in lists.items()
        for i, item in enumerate(items)
    ]
    return pl.DataFrame(
        rows,
        schema={"user_id": pl.String, "item_id": pl.String, "score": pl.Float64, "rank": pl.Int32},
        orient="row",
    )


def truth_of(sets: dict[str, list[str]]) -> pl.DataFrame:
    rows = [(u, item) for u, items in sets.items() for item in items]
    return pl.DataFrame(rows, schema={"user_id": pl.String, "item_id": pl.String}, orient="row")


def value_of(per_user: pl.DataFrame, user: str = "u") -> float:
    return per_user.filter(pl.col("user_id") == user)["value"][0]


ALL_RANKING = (precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k)


# ---- ranking metrics: fixed points --------------------------------------------------------------
@pytest.mark.parametrize("metric", [*ALL_RANKING, mrr])
def test_a_perfect_ranking_scores_one(metric):
    # 3 relevant items, all in the first 3 positions, k = 3
    recs = recs_of({"u": ["a", "b", "c", "d"]})
    truth = truth_of({"u": ["a", "b", "c"]})
    assert value_of(metric(recs, truth, 3)) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [*ALL_RANKING, mrr])
def test_no_hit_scores_zero(metric):
    recs = recs_of({"u": ["a", "b", "c"]})
    truth = truth_of({"u": ["x", "y"]})
    assert value_of(metric(recs, truth, 3)) == 0.0


@pytest.mark.parametrize("metric", [*ALL_RANKING, mrr])
def test_a_truth_user_without_recommendations_scores_zero_and_others_are_left_out(metric):
    recs = recs_of({"u": ["a", "b"], "stranger": ["a"]})
    truth = truth_of({"u": ["a"], "v": ["a"]})
    out = metric(recs, truth, 2)
    assert out.columns == ["user_id", "value"]
    assert out["user_id"].to_list() == ["u", "v"]  # no row for "stranger" (no ground truth)
    assert value_of(out, "v") == 0.0


# ---- ranking metrics: a textbook case worked by hand --------------------------------------------
# recommended a b c d e, relevant {a, c, x}: hits at positions 1 and 3, x never recommended
TEXTBOOK_RECS = {"u": ["a", "b", "c", "d", "e"]}
TEXTBOOK_TRUTH = {"u": ["a", "c", "x"]}


def test_textbook_precision_recall_hit_rate_mrr():
    recs, truth = recs_of(TEXTBOOK_RECS), truth_of(TEXTBOOK_TRUTH)
    assert value_of(precision_at_k(recs, truth, 5)) == pytest.approx(2 / 5)
    assert value_of(recall_at_k(recs, truth, 5)) == pytest.approx(2 / 3)
    assert value_of(hit_rate_at_k(recs, truth, 5)) == 1.0
    assert value_of(mrr(recs, truth)) == 1.0
    # k = 2 keeps a and b: one hit of 2 positions
    assert value_of(precision_at_k(recs, truth, 2)) == pytest.approx(1 / 2)
    assert value_of(recall_at_k(recs, truth, 2)) == pytest.approx(1 / 3)


def test_textbook_ndcg():
    recs, truth = recs_of(TEXTBOOK_RECS), truth_of(TEXTBOOK_TRUTH)
    # DCG: hits at 1 and 3; IDCG: 3 relevant items at positions 1, 2, 3
    expected = (1 / math.log2(2) + 1 / math.log2(4)) / (
        1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    )
    assert value_of(ndcg_at_k(recs, truth, 5)) == pytest.approx(expected)
    # two relevant items: IDCG over positions 1 and 2
    two = truth_of({"u": ["a", "c"]})
    expected_two = (1 / math.log2(2) + 1 / math.log2(4)) / (1 / math.log2(2) + 1 / math.log2(3))
    assert value_of(ndcg_at_k(recs, two, 5)) == pytest.approx(expected_two)
    # k = 1: IDCG over min(|truth|, k) = 1 position, and a is a hit
    assert value_of(ndcg_at_k(recs, two, 1)) == pytest.approx(1.0)


def test_textbook_map():
    recs, truth = recs_of(TEXTBOOK_RECS), truth_of(TEXTBOOK_TRUTH)
    # precision at each hit: 1/1 at position 1, 2/3 at position 3; divided by min(3, 5)
    assert value_of(map_at_k(recs, truth, 5)) == pytest.approx((1 / 1 + 2 / 3) / 3)
    # five relevant items, k = 2, both positions hits: (1/1 + 2/2) / min(5, 2) = 1
    many = truth_of({"u": ["a", "b", "c", "d", "e"]})
    assert value_of(map_at_k(recs, many, 2)) == pytest.approx(1.0)


def test_mrr_is_one_over_the_first_hit_and_k_cuts_it():
    recs = recs_of({"u": ["a", "b", "c", "d"]})
    truth = truth_of({"u": ["c", "d"]})
    assert value_of(mrr(recs, truth)) == pytest.approx(1 / 3)
    assert value_of(mrr(recs, truth, 2)) == 0.0


def test_ties_in_score_are_resolved_by_rank_then_item_id():
    # equal scores: the metric follows the rank the model gave (b first)
    recs = pl.DataFrame(
        {"user_id": ["u", "u"], "item_id": ["a", "b"], "score": [1.0, 1.0], "rank": [2, 1]}
    )
    truth = truth_of({"u": ["a"]})
    assert value_of(mrr(recs, truth)) == pytest.approx(1 / 2)
    assert value_of(precision_at_k(recs, truth, 1)) == 0.0
    # equal ranks: ordered by item_id, so a comes first whatever the row order
    tied = recs.with_columns(pl.lit(1).alias("rank"))
    assert value_of(mrr(tied, truth)) == 1.0
    assert value_of(mrr(tied.reverse(), truth)) == 1.0


def test_duplicate_recommendations_count_once():
    recs = recs_of({"u": ["a", "a", "b"]})
    truth = truth_of({"u": ["a", "b"]})
    # deduplicated list: a at 1, b at 2
    assert value_of(precision_at_k(recs, truth, 2)) == 1.0


def test_mean_over_users_averages_users_and_skips_nulls():
    recs = recs_of({"u": ["a", "b"], "v": ["x", "y"]})
    truth = truth_of({"u": ["a"], "v": ["a"]})
    assert mean_over_users(hit_rate_at_k(recs, truth, 2)) == pytest.approx((1 + 0) / 2)
    frame = pl.DataFrame({"user_id": ["u", "v", "w"], "value": [1.0, None, 0.0]})
    assert mean_over_users(frame) == pytest.approx(0.5)
    assert math.isnan(mean_over_users(frame.head(0)))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_bad_k_names_the_parameter_and_value(bad):
    recs, truth = recs_of(TEXTBOOK_RECS), truth_of(TEXTBOOK_TRUTH)
    with pytest.raises(EvaluationError, match=rf"Got k={bad!r} instead\.") as info:
        precision_at_k(recs, truth, bad)
    assert isinstance(info.value, ProfilingError)


def test_missing_columns_are_named():
    with pytest.raises(EvaluationError, match="missing rank"):
        precision_at_k(pl.DataFrame({"user_id": ["u"], "item_id": ["a"]}), truth_of({}), 1)


# ---- rating errors ------------------------------------------------------------------------------
def test_rmse_and_mae_by_hand():
    pred = pl.DataFrame(
        {
            "user_id": ["u", "u", "v", "v"],
            "item_id": ["a", "b", "a", "c"],
            "rating": [4.0, 3.0, 5.0, None],
            "prediction": [3.5, 3.0, 4.0, 2.0],
        }
    )
    # errors -0.5, 0, -1 (the null rating is left out)
    assert rmse(pred) == pytest.approx(math.sqrt((0.25 + 0 + 1) / 3))
    assert mae(pred) == pytest.approx((0.5 + 0 + 1) / 3)
    perfect = pred.with_columns(pl.col("rating").alias("prediction"))
    assert rmse(perfect) == 0.0 and mae(perfect) == 0.0
    with pytest.raises(EvaluationError, match="at least one rated pair"):
        rmse(pred.filter(pl.col("rating").is_null()))


# ---- beyond accuracy ---------------------------------------------------------------------------
TRAIN = pl.DataFrame(
    {
        # a: 4 of 4 users, c: 2 users, b: 1 user
        "user_id": ["1", "2", "3", "4", "1", "2", "1"],
        "item_id": ["a", "a", "a", "a", "c", "c", "b"],
    }
)


def test_catalog_coverage():
    recs = recs_of({"u": ["a", "b", "c"], "v": ["a", "d"]})
    assert catalog_coverage(recs, 10) == pytest.approx(4 / 10)
    assert catalog_coverage(recs, 10, k=1) == pytest.approx(1 / 10)
    # with the catalog itself, items outside it do not count
    assert catalog_coverage(recs, ["a", "b", "c"]) == 1.0
    assert catalog_coverage(recs, ["a", "z"]) == pytest.approx(1 / 2)
    with pytest.raises(EvaluationError, match="Got catalog=0 instead"):
        catalog_coverage(recs, 0)


def test_novelty_by_hand():
    recs = recs_of({"u": ["a", "b"], "v": ["new"]})
    out = novelty(recs, TRAIN)
    # a: -log2(4/4) = 0; b: -log2(1/4) = 2; an unseen item counts as seen by one user
    assert value_of(out, "u") == pytest.approx((0 + 2) / 2)
    assert value_of(out, "v") == pytest.approx(-math.log2(1 / 4))
    assert value_of(novelty(recs, TRAIN, k=1), "u") == 0.0


def test_popularity_bias_by_hand():
    recs = recs_of({"u": ["a", "b"], "v": ["c", "new"]})
    out = popularity_bias(recs, TRAIN)
    # percentile = share of train items at most as popular: a 3/3, c 2/3, b 1/3, unseen 0
    assert value_of(out, "u") == pytest.approx((1 + 1 / 3) / 2)
    assert value_of(out, "v") == pytest.approx((2 / 3 + 0) / 2)


def test_intra_list_diversity_by_hand():
    cats = {"a": "X", "b": "X", "c": "Y", "d": None}
    recs = recs_of({"u": ["a", "b", "c"], "v": ["a", "b"], "w": ["a", "d"]})
    out = intra_list_diversity(recs, cats)
    # u: 3 pairs, 1 within X -> 1 - 1/3; v: one pair, same category; w: one categorized item
    assert value_of(out, "u") == pytest.approx(1 - 1 / 3)
    assert value_of(out, "v") == 0.0
    assert value_of(out, "w") is None
    frame = pl.DataFrame({"item_id": ["a", "b", "c"], "category": ["X", "Y", "Z"]})
    assert value_of(intra_list_diversity(recs, frame), "u") == 1.0


# ---- splits -------------------------------------------------------------------------------------
def synthetic_events(n_users: int = 60, n_items: int = 30, seed: int = 7) -> pl.DataFrame:
    """Three segments of users, each preferring its own third of the items; the last five
    users only appear in the final week (cold in a temporal split)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        seg = u % 3
        late = u >= n_users - 5
        for _ in range(int(rng.integers(8, 16))):
            if rng.random() < 0.85:
                item = seg * (n_items // 3) + int(rng.integers(0, n_items // 3))
            else:
                item = int(rng.integers(0, n_items))
            day = rng.uniform(53, 60) if late else rng.uniform(0, 60)
            ts = T0 + timedelta(days=float(day))
            kind = rng.choice(["view", "cart", "purchase"], p=[0.5, 0.2, 0.3])
            rows.append(
                (f"U{u:03d}", f"I{item:03d}", str(kind), ts, None if rng.random() < 0.8 else 4.0)
            )
    return pl.DataFrame(
        rows,
        schema={
            "user_id": pl.String,
            "item_id": pl.String,
            "event_type": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "rating": pl.Float64,
        },
        orient="row",
    ).sort("timestamp")


def user_segments(events: pl.DataFrame) -> pl.DataFrame:
    users = events["user_id"].unique().sort()
    return pl.DataFrame(
        {"user_id": users, "segment": [f"S{int(u[1:]) % 3}" for u in users.to_list()]}
    )


@pytest.fixture(scope="module")
def events() -> pl.DataFrame:
    return synthetic_events()


def test_temporal_split_cuts_everybody_at_one_time(events):
    split = temporal_split(events, test_fraction=0.2)
    assert split.protocol == "temporal" and split.cutoff is not None
    assert (split.train["timestamp"] < split.cutoff).all()
    assert (split.test["timestamp"] >= split.cutoff).all()
    assert split.train.height + split.test.height == events.height
    assert split.train.columns == events.columns
    assert split.train.height / events.height == pytest.approx(0.8, abs=0.01)
    assert split.description.startswith("global temporal split at ")
    assert "80% of events before" in split.description


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2])
def test_temporal_split_rejects_a_bad_fraction(events, bad):
    with pytest.raises(EvaluationError, match=rf"Got test_fraction={bad!r} instead"):
        temporal_split(events, test_fraction=bad)


def test_temporal_split_needs_distinct_times(events):
    same = events.with_columns(pl.lit(T0).alias("timestamp"))
    with pytest.raises(EvaluationError, match="strictly before the cutoff"):
        temporal_split(same)


def test_leave_last_n_holds_out_each_users_last_relevant_events(events):
    split = leave_last_n(events, n=2)
    purchases = events.with_row_index("row").filter(pl.col("event_type") == "purchase")
    for user in events["user_id"].unique().to_list():
        mine = purchases.filter(pl.col("user_id") == user).sort("timestamp", "row")
        test = split.test.filter(pl.col("user_id") == user)
        train = split.train.filter(pl.col("user_id") == user)
        everything = events.filter(pl.col("user_id") == user)
        if mine.height == 0:
            assert test.height == 0 and train.height == everything.height
            continue
        last = mine.tail(2)
        assert sorted(test["item_id"].to_list()) == sorted(last["item_id"].to_list())
        assert (test["event_type"] == "purchase").all()
        assert (train["timestamp"] < last["timestamp"].min()).all()
        # everything strictly before the first held-out event is kept
        assert (
            train.height == everything.filter(pl.col("timestamp") < last["timestamp"].min()).height
        )
    assert split.test.columns == events.columns


def test_leave_last_n_rejects_unknown_types(events):
    with pytest.raises(EvaluationError, match="no event has a type"):
        leave_last_n(events, relevant_types=("refund",))
    with pytest.raises(EvaluationError, match="Got n=0 instead"):
        leave_last_n(events, n=0)


def test_random_kfold_partitions_rows_and_is_seeded(events):
    indexed = events.with_row_index("row")
    folds = random_kfold(indexed, n_folds=5, random_state=3)
    assert [f.fold for f in folds] == [0, 1, 2, 3, 4]
    test_rows = [set(f.test["row"].to_list()) for f in folds]
    assert sum(len(s) for s in test_rows) == indexed.height
    assert set().union(*test_rows) == set(range(indexed.height))
    for f, rows in zip(folds, test_rows, strict=True):
        assert set(f.train["row"].to_list()) == set(range(indexed.height)) - rows
        assert abs(len(rows) - indexed.height / 5) <= 1
    again = random_kfold(indexed, n_folds=5, random_state=3)
    assert all(a.test.equals(b.test) for a, b in zip(folds, again, strict=True))
    other = random_kfold(indexed, n_folds=5, random_state=4)
    assert not folds[0].test.equals(other[0].test)
    with pytest.raises(EvaluationError, match="Got n_folds=1 instead"):
        random_kfold(indexed, n_folds=1)


def test_stratified_split_holds_out_a_share_of_each_users_items(events):
    split = stratified_split(events, test_fraction=0.25, random_state=1)
    pairs = lambda frame: set(frame.select("user_id", "item_id").iter_rows())  # noqa: E731 - a one-line helper read beside its use
    assert not pairs(split.train) & pairs(split.test)
    assert split.train.height + split.test.height == events.height
    n_items = events.group_by("user_id").agg(pl.col("item_id").n_unique().alias("n"))
    n_test = split.test.group_by("user_id").agg(pl.col("item_id").n_unique().alias("t"))
    joined = n_items.join(n_test, on="user_id", how="left").with_columns(pl.col("t").fill_null(0))
    for n, t in joined.select("n", "t").iter_rows():
        expected = 0 if n < 2 else min(max(math.floor(0.25 * n + 0.5), 1), n - 1)
        assert t == expected
    again = stratified_split(events, test_fraction=0.25, random_state=1)
    assert again.test.equals(split.test)


def test_interactions_from_sums_weights_and_keeps_the_latest_rating():
    ev = pl.DataFrame(
        {
            "user_id": ["u", "u", "u", "u", "v"],
            "item_id": ["a", "a", "a", "b", "a"],
            "event_type": ["view", "purchase", "rating", "search", "view"],
            "timestamp": [T0 + timedelta(hours=h) for h in (0, 1, 2, 3, 4)],
            "rating": [None, 3.0, 5.0, None, None],
        }
    )
    out = interactions_from(ev)
    assert out.columns == [
        "user_id",
        "item_id",
        "weight",
        "rating",
        "timestamp",
        "purchases",
        "last_purchase",
    ]
    # u-a: view 1 + purchase 5 + rating 4; u-b is a search only (weight 0, no rating): dropped
    assert out.rows() == [
        ("u", "a", 10.0, 5.0, T0 + timedelta(hours=2), 1, T0 + timedelta(hours=1)),
        ("v", "a", 1.0, None, T0 + timedelta(hours=4), 0, None),
    ]
    assert interactions_from(ev, weights={"view": 0.0}).height == 1


def test_relevant_items_by_type_or_rating():
    ev = pl.DataFrame(
        {
            "user_id": ["u", "u", "u", "v", "v"],
            "item_id": ["a", "a", "b", "c", "d"],
            "event_type": ["purchase", "purchase", "view", "rating", "rating"],
            "rating": [None, None, None, 5.0, 2.0],
        }
    )
    assert relevant_items(ev).rows() == [("u", "a")]
    assert relevant_items(ev, relevant_types=(), rating_threshold=4).rows() == [("v", "c")]
    assert relevant_items(ev, rating_threshold=4).rows() == [("u", "a"), ("v", "c")]
    with pytest.raises(EvaluationError, match="nothing can be relevant"):
        relevant_items(ev, relevant_types=())


# ---- statistics --------------------------------------------------------------------------------
def test_sign_flip_test_exact_small_case():
    # differences 1, 2, 3: of the 8 sign flips only +++ and --- reach |sum| >= 6
    assert paired_sign_flip_test(np.array([1.0, 2, 3]), np.zeros(3)) == pytest.approx(2 / 8)


def test_sign_flip_test_a_better_for_every_user_is_significant():
    rng = np.random.default_rng(0)
    b = rng.uniform(0, 0.5, 30)
    a = b + rng.uniform(0.05, 0.2, 30)
    p = paired_sign_flip_test(a, b)
    assert p < 0.01
    assert p == pytest.approx(1 / 1001)  # no random flip of 30 signs matches: (1 + 0) / 1001
    assert paired_sign_flip_test(b, a) == p  # two-sided


def test_sign_flip_test_identical_values_give_one_and_no_pair_gives_nan():
    x = np.linspace(0, 1, 30)
    assert paired_sign_flip_test(x, x.copy()) == 1.0
    assert math.isnan(paired_sign_flip_test(np.full(3, np.nan), np.ones(3)))
    # one noisy difference among equal users is not significant
    y = x.copy()
    y[0] += 0.5
    assert paired_sign_flip_test(y, x) == 1.0  # a single flip: both signs tie


def test_bootstrap_ci_contains_the_mean_and_collapses_on_constants():
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.uniform(0, 1, 200), np.full(200, 0.3)])
    low, high = bootstrap_ci(x, n_boot=500)
    assert low[0] < x[:, 0].mean() < high[0]
    assert high[0] - low[0] < 0.2
    assert low[1] == pytest.approx(0.3) and high[1] == pytest.approx(0.3)
    again = bootstrap_ci(x, n_boot=500)
    assert np.array_equal(low, again[0]) and np.array_equal(high, again[1])


# ---- compare ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def comparison(events) -> tuple[Comparison, list]:
    calls = []
    items = pl.DataFrame(
        {
            "item_id": [f"I{i:03d}" for i in range(30)],
            "category": [f"C{i // 10}" for i in range(30)],
        }
    )
    result = compare(
        {"Popularity": Popularity(), "Segment popularity": SegmentPopularity()},
        temporal_split(events, 0.3),
        k=5,
        items=items,
        user_segments=user_segments(events),
        progress=lambda name, i, n: calls.append((name, i, n)),
    )
    return result, calls


def test_compare_returns_the_documented_frames(comparison):
    result, calls = comparison
    assert calls == [("Popularity", 1, 2), ("Segment popularity", 2, 2)]
    assert result.metrics.columns == [
        "model",
        "metric",
        "k",
        "value",
        "ci_low",
        "ci_high",
        "p_value_vs_best",
        "p_adjusted",
        "is_best",
    ]
    assert result.per_user.columns == ["model", "user_id", "metric", "value", "is_cold"]
    assert result.timings.columns == ["model", "fit_seconds", "predict_seconds"]
    assert set(result.metrics["metric"]) == {
        "precision",
        "recall",
        "f1",
        "ndcg",
        "map",
        "mrr",
        "hit_rate",
        "coverage",
        "novelty",
        "diversity",
        "popularity_bias",
    }
    assert (result.metrics["k"] == 5).all()
    assert result.models == ["Popularity", "Segment popularity"]
    # test users: every user with a relevant test item, each scored by every model
    truth_users = set(result.truth["user_id"])
    for (model, metric), group in result.per_user.group_by("model", "metric"):
        assert set(group["user_id"]) == truth_users, (model, metric)
    assert (result.timings["fit_seconds"] >= 0).all()


def test_compare_intervals_contain_the_mean_and_the_best_has_no_p_value(comparison):
    result, _ = comparison
    m = result.metrics.filter(pl.col("metric") != "coverage")
    assert (m["ci_low"] <= m["value"] + 1e-12).all()
    assert (m["value"] <= m["ci_high"] + 1e-12).all()
    winners = result.metrics.group_by("metric").agg(pl.col("is_best").sum().alias("n"))
    assert (winners["n"] == 1).all() and winners.height == 11
    best = m.filter(pl.col("is_best"))
    assert best["p_value_vs_best"].is_nan().all()
    rest = m.filter(~pl.col("is_best"))
    assert ((rest["p_value_vs_best"] > 0) & (rest["p_value_vs_best"] <= 1)).all()
    # the per-user means are the reported values
    ndcg = result.per_user.filter((pl.col("metric") == "ndcg") & (pl.col("model") == "Popularity"))
    reported = result.metrics.filter(
        (pl.col("metric") == "ndcg") & (pl.col("model") == "Popularity")
    )["value"][0]
    assert ndcg["value"].mean() == pytest.approx(reported)


def test_compare_segment_popularity_wins_where_segments_drive_taste(comparison):
    result, _ = comparison
    assert result.best("ndcg") == "Segment popularity"
    assert result.best("hit_rate") == "Segment popularity"


def test_compare_marks_cold_users_and_breaks_down_by_segment(comparison, events):
    result, _ = comparison
    cold = set(result.per_user.filter(pl.col("is_cold"))["user_id"])
    assert cold and cold <= {f"U{u:03d}" for u in range(55, 60)}
    cw = result.cold_warm()
    assert cw.columns == ["model", "segment", "metric", "value", "users"]
    assert set(cw["segment"]) == {"cold", "warm"}
    by_seg = result.breakdown(user_segments(events))
    assert by_seg.columns == ["model", "segment", "metric", "value", "users"]
    assert set(by_seg["segment"]) == {"S0", "S1", "S2"}
    users = by_seg.filter((pl.col("model") == "Popularity") & (pl.col("metric") == "ndcg"))
    assert users["users"].sum() == result.n_users


def test_compare_is_deterministic(comparison, events):
    result, _ = comparison
    items = pl.DataFrame(
        {
            "item_id": [f"I{i:03d}" for i in range(30)],
            "category": [f"C{i // 10}" for i in range(30)],
        }
    )
    again = compare(
        {"Popularity": Popularity(), "Segment popularity": SegmentPopularity()},
        temporal_split(events, 0.3),
        k=5,
        items=items,
        user_segments=user_segments(events),
    )
    assert again.metrics.equals(result.metrics)
    assert again.per_user.equals(result.per_user)


def test_compare_rejects_a_split_without_relevant_test_items(events):
    split = temporal_split(events.filter(pl.col("event_type") != "purchase"))
    with pytest.raises(EvaluationError, match="no test user has a relevant item"):
        compare({"Popularity": Popularity()}, split)


def test_precision_recall_curve_from_a_comparison_and_from_models(comparison, events):
    result, _ = comparison
    curve = precision_recall_curve(result, ks=range(1, 21))
    assert curve.columns == ["model", "k", "precision", "recall", "f1"]
    assert curve.height == 2 * 20
    pop = curve.filter(pl.col("model") == "Popularity").sort("k")
    assert pop["recall"].is_sorted()  # recall never drops as k grows
    at_5 = pop.filter(pl.col("k") == 5)["precision"][0]
    reported = result.metrics.filter(
        (pl.col("model") == "Popularity") & (pl.col("metric") == "precision")
    )["value"][0]
    assert at_5 == pytest.approx(reported)
    fresh = precision_recall_curve(
        {"Popularity": Popularity()},
        temporal_split(events, 0.3),
        ks=[1, 5],
        user_segments=user_segments(events),
    )
    assert fresh.filter(pl.col("k") == 5)["precision"][0] == pytest.approx(reported)
    with pytest.raises(EvaluationError, match="Got max\\(ks\\)=30 instead"):
        precision_recall_curve(result, ks=[30])
    from profiling.present.viz import pr_curve_figure

    fig = pr_curve_figure(curve)
    assert [a.text for a in fig.layout.annotations] == ["precision@K", "recall@K", "F1@K"]
    assert len(fig.data) == 2 * 3  # two models, three panels
    f1 = curve.filter((pl.col("model") == "Popularity") & (pl.col("k") == 5))["f1"][0]
    assert f1 == pytest.approx(
        result.metrics.filter((pl.col("model") == "Popularity") & (pl.col("metric") == "f1"))[
            "value"
        ][0]
    )


def test_best_names_unknown_metrics(comparison):
    result, _ = comparison
    with pytest.raises(EvaluationError, match="Got metric='auc' instead"):
        result.best("auc")


# ---- F1, multiple comparisons, relevance rules, folds ---------------------------------------
def test_f1_is_the_harmonic_mean_of_precision_and_recall():
    recs = pl.DataFrame(
        {
            "user_id": ["u"] * 4 + ["v"] * 4,
            "item_id": list("abcd") + list("abcd"),
            "rank": [1, 2, 3, 4] * 2,
        }
    )
    truth = pl.DataFrame({"user_id": ["u", "u", "v"], "item_id": ["a", "z", "y"]})
    out = dict(f1_at_k(recs, truth, 4).iter_rows())
    p, r = 1 / 4, 1 / 2  # u: 1 hit in 4, 1 of its 2 relevant items
    assert out["u"] == pytest.approx(2 * p * r / (p + r))  # = 2 * 1 / (4 + 2) = 1/3
    assert out["v"] == 0.0  # no hit: 0, not NaN


def test_benjamini_hochberg_adjusts_by_rank_and_keeps_nan():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.5])
    q = benjamini_hochberg(p)
    # m = 4 finite: sorted 0.01, 0.03, 0.04, 0.5 -> 0.01*4/1, 0.03*4/2, 0.04*4/3, 0.5*4/4,
    # then the running minimum from the largest down
    assert q[0] == pytest.approx(0.04)
    assert q[3] == pytest.approx(0.04 * 4 / 3)
    assert q[1] == pytest.approx(0.04 * 4 / 3)
    assert q[4] == pytest.approx(0.5)
    assert math.isnan(q[2])


def _log(types, ratings=None):
    n = len(types)
    return pl.DataFrame(
        {
            "user_id": ["u"] * n,
            "item_id": ["i"] * n,
            "event_type": types,
            "rating": ratings or [None] * n,
        },
        schema_overrides={"rating": pl.Float64},
    )


def test_relevance_follows_the_kind_of_log():
    rating_log = _log(["rating", "rating"], [4.0, 2.0])
    assert log_kind(rating_log) == "rating log"
    rule = relevance_for(rating_log)
    assert rule.types == ("rating",) and rule.rating_threshold is None
    assert rule.description == "relevant: every rating in the test part (rating log)"
    high = relevance_for(rating_log, rating_threshold=4)
    assert high.types == () and high.rating_threshold == 4.0
    assert high.description == "relevant: ratings >= 4 in the test part (rating log)"
    # choosing "rating" and a threshold means ratings at or above it, not every rating
    assert relevance_for(rating_log, types=["rating"], rating_threshold=4).types == ()
    assert log_kind(_log(["purchase", "refund"])) == "transaction log"
    assert relevance_for(_log(["purchase"])).types == ("purchase",)
    events = _log(["view", "cart", "purchase"])
    assert log_kind(events) == "event log"
    assert relevance_for(events).description == "relevant: purchases in the test part (event log)"
    carts = relevance_for(events, types=["purchase", "cart"])
    assert carts.description == "relevant: purchases or carts in the test part (event log)"
    with pytest.raises(EvaluationError, match="Got teleport instead"):
        relevance_for(events, types=["teleport"])
    with pytest.raises(EvaluationError, match="nothing can be relevant"):
        relevance_for(events, types=[])
    with pytest.raises(EvaluationError, match="Got rating_threshold=True instead"):
        relevance_for(events, rating_threshold=True)


def _ratings(n_users=12, n_items=8, seed=0):
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{u}", f"i{i}", "rating", float(rng.integers(1, 6)))
        for u in range(n_users)
        for i in range(n_items)
        if rng.random() < 0.7
    ]
    return pl.DataFrame(rows, schema=["user_id", "item_id", "event_type", "rating"], orient="row")


def test_a_rating_log_is_scored_by_rmse_and_mae_on_every_fold():
    from profiling.recommenders.surprise_models import SurpriseModel

    events = _ratings()
    folds = random_kfold(events, n_folds=3)
    folded = compare_folds(
        {"baseline": SurpriseModel("baseline_only"), "pop": Popularity()},
        folds,
        k=3,
        n_boot=20,
        n_permutations=20,
    )
    assert folded.comparisons[0].relevance.types == ("rating",)
    per_fold = folded.per_fold.filter(pl.col("metric") == "rmse")
    assert per_fold["fold"].to_list() == [0, 1, 2]  # only the rating model has an RMSE
    assert per_fold["model"].unique().to_list() == ["baseline"]
    # fold 0 by hand: the model's own predictions of the fold's test ratings
    test = folds[0].test
    model = SurpriseModel("baseline_only").fit(interactions_from(folds[0].train))
    err = model.predict_ratings(test)["prediction"].to_numpy() - test["rating"].to_numpy()
    assert per_fold["value"][0] == pytest.approx(math.sqrt(np.mean(err**2)))
    row = folded.metrics.filter(pl.col("metric") == "rmse").row(0, named=True)
    values = per_fold["value"].to_numpy()
    assert row["value"] == pytest.approx(values.mean())
    assert row["std"] == pytest.approx(values.std())  # np.std, as Surprise reports it
    assert row["folds"] == 3
    mae = folded.metrics.filter(pl.col("metric") == "mae")
    assert mae.height == 1 and mae["value"][0] <= row["value"] + 1e-12  # MAE <= RMSE


# ---- errors in the reader's language -------------------------------------------------------------
def _four_events() -> pl.DataFrame:
    """u1 views a then buys b, u2 views b then buys a: one event a day from 2 Jan 2026."""
    return pl.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2"],
            "item_id": ["a", "b", "b", "a"],
            "event_type": ["view", "purchase", "view", "purchase"],
            "timestamp": [T0 + timedelta(days=d) for d in (1, 2, 3, 4)],
        }
    )


def _views_only_split():
    """A temporal split whose test part holds views only (the purchases were before it)."""
    e = _four_events().with_columns(
        pl.Series("event_type", ["purchase", "purchase", "view", "view"])
    )
    return temporal_split(e, test_fraction=0.5)


EVALUATION_ERRORS = {
    "a split of events at one time": (
        lambda: make_splits(_four_events().with_columns(pl.lit(T0).alias("timestamp")), "temporal"),
        "no event is strictly before the cutoff 2026-01-01 00:00:00+00:00 with test_fraction=0.2;"
        " the timestamps are (nearly) all equal.",
        "在 test_fraction=0.2 下，没有任何行为严格早于截止点 2026-01-01 00:00:00+00:00；"
        "时间戳（几乎）全部相同。",
    ),
    "leave-last with a type the log lacks": (
        lambda: make_splits(_four_events(), "leave-last", relevant_types=("refund",)),
        "no event has a type in relevant_types=('refund',); the event types present are "
        "purchase, view.",
        "没有任何行为的类型在 relevant_types=('refund',) 中；数据中的行为类型为 purchase, view。",
    ),
    "an unknown protocol": (
        lambda: make_splits(_four_events(), "weekly"),
        "protocol must be one of temporal, leave-last, stratified, kfold. Got protocol='weekly' "
        "instead.",
        "protocol 必须是 temporal, leave-last, stratified, kfold 之一，收到的是 protocol='weekly'。",
    ),
    "more folds than rows": (
        lambda: random_kfold(_four_events(), n_folds=9),
        "n_folds must be at most the number of rows (4). Got n_folds=9 instead.",
        "n_folds 不能超过行数（4），收到的是 n_folds=9。",
    ),
    "events without a timestamp column (checks.check_columns)": (
        lambda: temporal_split(_four_events().drop("timestamp")),
        "events needs columns user_id, item_id, timestamp; missing timestamp "
        "(has user_id, item_id, event_type).",
        "events 需要 user_id, item_id, timestamp 列；缺少 timestamp（现有：user_id, item_id, "
        "event_type）。",
    ),
    "a fraction of 1 (checks.check_fraction)": (
        lambda: temporal_split(_four_events(), test_fraction=1),
        "test_fraction must be a number strictly between 0 and 1. Got test_fraction=1 instead.",
        "test_fraction 必须是严格介于 0 和 1 之间的数，收到的是 test_fraction=1。",
    ),
    "no model to compare": (
        lambda: compare({}, temporal_split(_four_events(), test_fraction=0.5)),
        "models is empty; give at least one {name: model}.",
        "models 为空；请至少给出一个 {name: model}。",
    ),
    "a K of 0 (checks.check_k)": (
        lambda: compare({"Popularity": Popularity()}, _views_only_split(), k=0),
        "k must be a positive integer. Got k=0 instead.",
        "k 必须是正整数，收到的是 k=0。",
    ),
    "no relevant item in the test part": (
        lambda: compare({"Popularity": Popularity()}, _views_only_split(), k=2),
        "no test user has a relevant item with relevant_types=('purchase',) and "
        "rating_threshold=None (relevant: purchases in the test part (event log)); choose event "
        "types present in the test events or a lower threshold.",
        "在 relevant_types=('purchase',) 和 rating_threshold=None 下，没有任何测试客户有相关商品"
        "（命中：测试部分中的购买（行为日志））；请选择测试期行为中出现的行为类型，或降低阈值。",
    ),
    "an empty catalog": (
        lambda: catalog_coverage(recs_of({"u": ["a"]}), []),
        "catalog must hold at least one item. Got catalog=[] instead.",
        "catalog 至少要包含一个商品，收到的是 catalog=[]。",
    ),
    "an unknown relevant type": (
        lambda: relevance_for(_four_events(), types=("refunds",)),
        "relevant event types must be among view, click, cart, wishlist, purchase, refund, "
        "rating, review, search, other. Got refunds instead.",
        "相关的行为类型必须在 view, click, cart, wishlist, purchase, refund, rating, review, "
        "search, other 之中，收到的是 refunds。",
    ),
    "no fold to compare on": (
        lambda: compare_folds({"Popularity": Popularity()}, []),
        "splits is empty; give at least one split (e.g. random_kfold).",
        "splits 为空；请至少给出一个切分（例如 random_kfold）。",
    ),
}


@pytest.mark.parametrize("case", list(EVALUATION_ERRORS))
def test_evaluation_errors_read_in_english_and_in_chinese(case):
    """What the Recommenders page shows after "The comparison failed:": the job runs in the
    page's language, so the error is raised in it; English (the CLI's) stays as it was."""
    call, english, chinese = EVALUATION_ERRORS[case]
    assert raised_in_both(call, EvaluationError) == (english, chinese)
