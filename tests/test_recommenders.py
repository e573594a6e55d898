"""Recommenders: one contract test over every registry model on a tiny synthetic store,
targeted checks of the model maths, and (slow) accuracy against popularity on the sample."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from profiling.errors import ProfilingError
from profiling.recommenders import implicit_models
from profiling.recommenders.base import RECOMMENDATION_SCHEMA
from profiling.recommenders.content import ContentBased, ContextAware, recency_decay
from profiling.recommenders.hybrid import Hybrid
from profiling.recommenders.implicit_models import EASE, ItemKNN
from profiling.recommenders.popularity import Popularity
from profiling.recommenders.registry import DEFAULT_MODELS, MODELS, describe, make
from profiling.recommenders.repeat import BuyAgain
from profiling.recommenders.sequence_data import user_sequences
from profiling.recommenders.surprise_models import ALGORITHMS, SurpriseModel
from profiling.vocabulary import schema as S
from tests.conftest import raised_in_both

CATEGORIES = ("Electronics", "Books", "Garden", "Toys")
START = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)  # a Monday


def tiny_store(seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """30 users, 20 interacted items (+1 catalog-only item), 4 categories.

    Each user prefers one category (3/4 of their items), has 4-8 items with weights 1 (view),
    4 (view + cart) or 9 (view + cart + purchase), an explicit rating on about a quarter of
    the pairs, and a usual hour of day. Returns interactions, items and user segments.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(30):
        pref = u % 4
        n = int(rng.integers(4, 9))
        pool = [i for i in range(20) if i % 4 == pref]
        others = [i for i in range(20) if i % 4 != pref]
        picks = set(rng.choice(pool, size=min(len(pool), (3 * n) // 4), replace=False).tolist())
        picks |= set(rng.choice(others, size=n - len(picks), replace=False).tolist())
        hour = [9, 14, 20][u % 3]
        for i in sorted(picks):
            when = START + dt.timedelta(days=int(rng.integers(0, 60)), hours=hour)
            rating = float(rng.integers(1, 6)) if rng.random() < 0.25 else None
            rows.append((f"U{u:02d}", f"I{i:02d}", float(rng.choice([1, 4, 9])), rating, when))
    inter = pl.DataFrame(
        rows,
        schema={
            S.USER_ID: pl.String,
            S.ITEM_ID: pl.String,
            "weight": pl.Float64,
            S.RATING: pl.Float64,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
        },
        orient="row",
    )
    words = ["wireless speaker", "mystery novel", "garden hose", "puzzle game"]
    items = pl.DataFrame(
        {
            S.ITEM_ID: [f"I{i:02d}" for i in range(21)],
            S.TITLE: [f"{words[i % 4].title()} {i}" for i in range(21)],
            S.CATEGORY: [CATEGORIES[i % 4] for i in range(21)],
            S.BRAND: [f"Brand{i % 3}" for i in range(21)],
            S.DESCRIPTION: [f"a {words[i % 4]} number {i}" if i % 5 else None for i in range(21)],
        }
    )
    segments = pl.DataFrame(
        {S.USER_ID: [f"U{u:02d}" for u in range(30)], "segment": [f"s{u % 2}" for u in range(30)]}
    )
    return inter, items, segments


@pytest.fixture(scope="module")
def store():
    return tiny_store()


# ---- the contract, for every registry model ----------------------------------------------
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.spark) if n == "spark-als" else n for n in MODELS]
)
def test_every_model_honours_the_recommender_contract(name, store, request):
    if name == "spark-als":
        request.getfixturevalue("spark")  # the session's local Spark, skipped without Java
    inter, items, segments = store
    users = [*sorted(inter[S.USER_ID].unique().to_list()), "NEWCOMER"]

    def run(seed):
        model = make(name, random_state=seed).fit(inter, items=items, user_segments=segments)
        return model, model.recommend(users, k=5, exclude_seen=True)

    model, recs = run(7)
    if name == "spark-als":  # ALS's lineage is cut every 10 iterations: no stack overflow
        assert request.getfixturevalue("spark").sparkContext.getCheckpointDir()
    assert recs.schema == pl.Schema(RECOMMENDATION_SCHEMA)
    assert describe(name) and model.name and model.family

    per_user = recs.group_by(S.USER_ID).agg(pl.len(), pl.col("rank"))
    assert set(per_user[S.USER_ID]) == set(users)
    for n, ranks in zip(per_user["len"], per_user["rank"], strict=True):
        assert n <= 5 and sorted(ranks) == list(range(1, n + 1))

    seen = recs.join(inter.select(S.USER_ID, S.ITEM_ID), on=[S.USER_ID, S.ITEM_ID])
    assert seen.height == 0, f"{name} recommended training items"

    known = recs.filter(pl.col(S.USER_ID) != "NEWCOMER")
    assert not known["is_fallback"].any()
    assert known["score"].is_finite().all()
    new = recs.filter(pl.col(S.USER_ID) == "NEWCOMER")
    assert new.height == 5 and new["is_fallback"].all()

    again = run(7)[1]
    assert_frame_equal(recs, again)

    first = known.row(0, named=True)
    reason = model.explain(first[S.USER_ID], first[S.ITEM_ID])
    assert isinstance(reason, str) and reason.strip()
    assert model.explain("NEWCOMER", first[S.ITEM_ID]).startswith("new to the model")


def test_the_registry_makes_and_describes_every_model():
    assert set(DEFAULT_MODELS) <= set(MODELS)
    assert len(MODELS) == 24
    assert make("svd", random_state=3).random_state == 3
    assert all(make(n).name == n for n in MODELS)  # one name per model: the registry key
    with pytest.raises(Exception, match="unknown model"):
        make("nope")


# ---- Surprise ------------------------------------------------------------------------------
def _params(algorithm):
    # a small k makes the kNN models choose neighbours (and break ties) for real
    return {"k": 3} if algorithm.startswith("knn") else {}


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_surprise_vectorized_scores_equal_predict(algorithm, store):
    inter, items, _ = store
    model = SurpriseModel(algorithm, **_params(algorithm)).fit(inter, items=items)
    users = np.arange(len(model.users_))
    est = model.estimate(users)
    scores = model._score(users)
    rng = np.random.default_rng(1)
    pairs = [(int(rng.integers(len(model.users_))), i) for i in range(len(model.items_))]
    pairs.append((0, model.item_index_["I20"]))  # in the catalog only: unknown to Surprise
    for u, i in pairs:
        ref = model.algo_.predict(model.users_[u], model.items_[i], clip=False).est
        assert est[u, i] == pytest.approx(ref, abs=1e-9)
        assert scores[u, i] == pytest.approx(ref, abs=1e-6)


def test_surprise_ratings(store):
    inter, items, _ = store
    mixed = SurpriseModel("baseline_only").fit(inter, items=items)
    assert mixed.implicit_ratings_ and 0 < mixed.explicit_share_ < 1
    assert mixed.rating_scale_ == (1.0, 5.0)
    # weights 1 / 4 / 9 -> 1 / 4 / 5 stars; explicit ratings win
    targets = mixed.rating_targets(inter)["target"].to_numpy()
    rating = inter[S.RATING].to_numpy()
    expected = np.where(np.isnan(rating), np.clip(inter["weight"].to_numpy(), 1, 5), rating)
    np.testing.assert_array_equal(targets, expected)

    explicit = inter.filter(pl.col(S.RATING).is_not_null())
    only = SurpriseModel("svd").fit(explicit)
    assert not only.implicit_ratings_ and only.explicit_share_ == 1.0

    pred = mixed.predict_ratings(explicit.select(S.USER_ID, S.ITEM_ID, S.RATING))
    assert pred["prediction"].dtype == pl.Float64
    assert pred["prediction"].is_between(1.0, 5.0).all()
    assert "predicted interest" in mixed.explain("U00", "I01")


def test_surprise_item_knn_explains_with_a_history_item(store):
    inter, items, _ = store
    model = SurpriseModel("knn_item").fit(inter, items=items)
    user = "U03"
    item = model.recommend([user], k=1)[S.ITEM_ID][0]
    reason = model.explain(user, item)
    history = inter.filter(pl.col(S.USER_ID) == user)[S.ITEM_ID].to_list()
    titles = items.filter(pl.col(S.ITEM_ID).is_in(history))[S.TITLE].to_list()
    assert any(t in reason for t in titles) and "similar to this" in reason


# ---- implicit-feedback models --------------------------------------------------------------
def test_item_knn_explain_names_history_item_and_similarity(store):
    inter, items, _ = store
    model = ItemKNN().fit(inter, items=items)
    user = "U05"
    item = model.recommend([user], k=1)[S.ITEM_ID][0]
    reason = model.explain(user, item)
    history = inter.filter(pl.col(S.USER_ID) == user)[S.ITEM_ID].to_list()
    titles = items.filter(pl.col(S.ITEM_ID).is_in(history))[S.TITLE].to_list()
    assert any(t in reason for t in titles)
    assert re.search(r"similarity 0\.\d\d", reason)


def test_item_knn_in_blocks_equals_the_cosine_worked_out_by_hand(monkeypatch):
    # users x items, raw weights; cosine(i0, i1) = (1*3 + 1*3) / (sqrt(3) * sqrt(27)) = 2/3
    x = np.array([[1, 3, 0], [1, 0, 2], [1, 3, 2], [0, 3, 0]], dtype=float)
    u, i = np.nonzero(x)
    inter = pl.DataFrame(
        {S.USER_ID: [f"u{a}" for a in u], S.ITEM_ID: [f"i{b}" for b in i], "weight": x[u, i]}
    )
    norms = np.sqrt((x**2).sum(axis=0))
    cosine = (x.T @ x) / np.outer(norms, norms)
    np.fill_diagonal(cosine, 0.0)
    assert cosine[0, 1] == pytest.approx(2 / 3)
    whole = ItemKNN(k_neighbors=1, weighting="raw").fit(inter)
    monkeypatch.setattr(implicit_models, "BLOCK_PAIRS", 1)  # one item per block
    blocks = ItemKNN(k_neighbors=1, weighting="raw").fit(inter)
    for model in (whole, blocks):
        sim = model.similarity_.toarray()
        best = cosine.argmax(axis=1)  # each item keeps its one nearest item
        np.testing.assert_allclose(sim[np.arange(3), best], cosine[np.arange(3), best], rtol=1e-6)
        assert (sim != 0).sum() == 3
    assert (whole.similarity_ != blocks.similarity_).nnz == 0


def test_ease_equals_closed_form():
    x = np.array(
        [[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 1, 0], [0, 0, 1, 1]], dtype=float
    ) * np.array([1.0, 3.0, 5.0, 2.0])
    u, i = np.nonzero(x)
    inter = pl.DataFrame(
        {S.USER_ID: [f"u{a}" for a in u], S.ITEM_ID: [f"i{b}" for b in i], "weight": x[u, i]}
    )
    model = EASE(l2=2.0, weighting="raw").fit(inter)
    p = np.linalg.inv(x.T @ x + 2.0 * np.eye(4))
    b = np.eye(4) - p / np.diag(p)
    np.testing.assert_allclose(model.weights_, b, atol=1e-5)
    np.testing.assert_allclose(np.diag(model.weights_), 0.0, atol=1e-7)
    np.testing.assert_allclose(model._score(np.arange(5)), x @ b, atol=1e-4)


# ---- content, context, hybrid ----------------------------------------------------------
def test_content_without_text_never_crashes(store):
    inter, items, _ = store
    blank = items.with_columns(
        pl.lit(None, pl.String).alias(c) for c in (S.TITLE, S.DESCRIPTION, S.CATEGORY, S.BRAND)
    )
    for catalog in (None, blank, items.head(3)):
        model = ContentBased().fit(inter, items=catalog)
        recs = model.recommend(["U01"], k=3)
        assert recs.height == 3
        assert model.explain("U01", recs[S.ITEM_ID][0])


def test_content_explain_names_category(store):
    inter, items, _ = store
    model = ContentBased().fit(inter, items=items)
    # U01 prefers Books (I01, I05, ...)
    assert "matches your interest in Books" in model.explain("U01", "I17")


def test_context_aware_mentions_the_habit(store):
    inter, items, _ = store
    model = ContextAware().fit(inter, items=items)
    assert model.has_time_
    # U02 shops at 20:00, three quarters of it in Garden (I02, I06, ...)
    assert "you often shop Garden in the evening" in model.explain("U02", "I18")
    fixed = ContextAware(at=dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)).fit(inter, items=items)
    assert (fixed.user_daypart_ == 1).all() and (fixed.user_daytype_ == 1).all()
    untimed = ContextAware().fit(inter.drop(S.TIMESTAMP), items=items)
    assert not untimed.has_time_ and untimed.recommend(["U02"], k=2).height == 2


def test_hybrid_blends_normalised_scores(store):
    inter, items, _ = store
    hybrid = Hybrid([ItemKNN(), EASE(), ItemKNN(k_neighbors=5)], weights=[2, 1, 1]).fit(
        inter, items=items
    )
    assert list(hybrid.models_) == ["item-knn", "ease", "item-knn-2"]
    assert hybrid.weights_ == {"item-knn": 0.5, "ease": 0.25, "item-knn-2": 0.25}
    scores = hybrid._score(np.arange(3))
    assert scores.min() >= 0 and scores.max() <= 1 + 1e-9
    item = hybrid.recommend(["U04"], k=1)[S.ITEM_ID][0]
    assert "of the blended score" in hybrid.explain("U04", item)
    with pytest.raises(Exception, match="weights"):
        Hybrid({"a": ItemKNN()}, weights={"b": 1.0}).fit(inter)


# ---- the smaller defects, each pinned ----------------------------------------------------------
def test_an_item_the_user_only_rated_counts_as_seen():
    # R was only rated (an event type of weight 0 carries the rating): weight 0, rating 2
    inter = pl.DataFrame(
        {
            S.USER_ID: ["u1", "u1", "u2", "u2", "u3"],
            S.ITEM_ID: ["A", "R", "A", "R", "R"],
            "weight": [5.0, 0.0, 5.0, 5.0, 5.0],
            S.RATING: [None, 2.0, None, None, None],
        }
    )
    from profiling.recommenders.popularity import Popularity

    model = Popularity().fit(inter)
    assert (
        model.matrix_[model.user_index_["u1"], model.item_index_["R"]] == S.IMPLICIT_WEIGHTS[S.RATE]
    )  # stored with the weight of a rating event, not 0
    assert model.popularity_[model.item_index_["R"]] == 3  # u1, u2, u3
    assert model.recommend(["u1"], k=5).height == 0  # A and R are both seen: nothing left


def test_content_without_usable_text_is_a_flagged_fallback(store):
    inter, items, _ = store
    stop_words = items.with_columns(
        pl.lit("the and of").alias(S.TITLE),
        *[
            pl.lit(None, pl.String).alias(c)
            for c in (S.DESCRIPTION, S.CATEGORY, S.BRAND, S.TAGS)
            if c in items.columns
        ],
    )
    for catalog, why in ((stop_words, "no usable word"), (None, "no item text")):
        model = ContentBased().fit(inter, items=catalog)
        assert why in model.fallback_reason_
        recs = model.recommend(["U01", "U02"], k=3)
        assert recs["is_fallback"].all()  # never a silent substitution
        assert model.explain("U01", recs[S.ITEM_ID][0]).startswith(model.fallback_reason_)
    # the hybrid leaves such a sub-model out instead of blending popularity in
    hybrid = Hybrid({"ease": EASE(), "content": ContentBased()}).fit(inter, items=None)
    assert list(hybrid.dropped_) == ["content"]
    assert hybrid.weights_ == {"ease": 1.0, "content": 0.0}
    assert not hybrid.recommend(["U01"], k=3)["is_fallback"].any()


def test_duplicate_user_ids_give_one_list_per_user(store):
    inter, items, _ = store
    model = EASE().fit(inter)
    recs = model.recommend(["U03", "U01", "U03", "NEW", "NEW"], k=2)
    assert recs[S.USER_ID].to_list() == ["U03", "U03", "U01", "U01", "NEW", "NEW"]
    assert model.recommend("U01", k=2)[S.USER_ID].to_list() == ["U01", "U01"]


@pytest.mark.parametrize("bad", [True, 0, -1, 2.5, "3"])
def test_a_bad_k_is_a_profiling_error(store, bad):
    from profiling.errors import ProfilingError

    model = EASE().fit(store[0])
    with pytest.raises(
        ProfilingError,
        match=rf"k must be a positive integer\. Got k={re.escape(repr(bad))} instead",
    ):
        model.recommend(["U01"], k=bad)


def test_get_set_params_and_clone_follow_scikit_learn():
    model = EASE(l2=50.0)
    assert model.get_params() == {"l2": 50.0, "weighting": "log", "random_state": S.RANDOM_STATE}
    twin = model.clone(weighting="binary")
    assert type(twin) is EASE and twin.l2 == 50.0 and twin.weighting == "binary"
    assert model.weighting == "log"  # the original is untouched
    from profiling.errors import ProfilingError

    with pytest.raises(ProfilingError, match="EASE has no parameter 'alpha'"):
        model.set_params(alpha=1.0)
    svd = SurpriseModel("svd", n_factors=10).clone(n_epochs=5)
    assert svd.algo_params == {"n_factors": 10, "n_epochs": 5}
    hybrid = make("hybrid")
    assert hybrid.clone().weights == hybrid.weights


def test_the_recommender_base_is_abstract():
    from profiling.recommenders.base import Recommender

    with pytest.raises(TypeError, match="abstract"):
        Recommender()


# ---- accuracy on the sample store ------------------------------------------------------------
def _hit_and_ndcg(recs: pl.DataFrame, truth: dict[str, set[str]], k: int) -> tuple[float, float]:
    hits, ndcgs = [], []
    by_user = recs.group_by(S.USER_ID).agg(pl.col(S.ITEM_ID).sort_by("rank"))
    got = dict(zip(by_user[S.USER_ID], by_user[S.ITEM_ID], strict=True))
    for user, relevant in truth.items():
        ranked = list(got.get(user, []))[:k]
        gains = [1.0 if it in relevant else 0.0 for it in ranked]
        dcg = sum(g / np.log2(r + 2) for r, g in enumerate(gains))
        idcg = sum(1 / np.log2(r + 2) for r in range(min(k, len(relevant))))
        hits.append(float(any(gains)))
        ndcgs.append(dcg / idcg)
    return float(np.mean(hits)), float(np.mean(ndcgs))


@pytest.mark.slow
def test_models_beat_popularity_on_the_sample_store():
    from profiling.data.dataset import load_sample

    ds = load_sample()
    events = ds.events.sort(S.TIMESTAMP)
    cut = events[S.TIMESTAMP][int(0.8 * events.height)]
    train = dataclasses.replace(ds, events=events.filter(pl.col(S.TIMESTAMP) < cut))
    interactions = train.interactions()
    test = (
        events.filter((pl.col(S.TIMESTAMP) >= cut) & (pl.col(S.EVENT_TYPE) == S.PURCHASE))
        .select(S.USER_ID, S.ITEM_ID)
        .unique()
        .join(interactions.select(S.USER_ID, S.ITEM_ID), on=[S.USER_ID, S.ITEM_ID], how="anti")
        .filter(pl.col(S.USER_ID).is_in(interactions[S.USER_ID].implode()))
    )
    grouped = test.group_by(S.USER_ID).agg(pl.col(S.ITEM_ID))
    truth = {u: set(v) for u, v in zip(grouped[S.USER_ID], grouped[S.ITEM_ID], strict=True)}
    users = sorted(truth)
    assert len(users) > 300

    results = {}
    for name in ("popularity", "item-knn", "ease", "als", "content", "hybrid"):
        model = make(name).fit(interactions, items=ds.items)
        results[name] = _hit_and_ndcg(model.recommend(users, k=10), truth, 10)
    print({k: (round(h, 4), round(n, 4)) for k, (h, n) in results.items()})
    base_hit, base_ndcg = results.pop("popularity")
    for name, (hit, ndcg) in results.items():
        assert hit > base_hit or ndcg > base_ndcg, f"{name} does not beat popularity: {results}"


# ---- buy again --------------------------------------------------------------------------------
def test_buy_again_ranks_by_frequency_and_recency_then_fills_with_popular_items():
    from profiling.data.interactions import interactions_from
    from profiling.recommenders.repeat import BuyAgain

    day = dt.timedelta(days=1)
    events = pl.DataFrame(
        {
            S.USER_ID: ["u"] * 5 + ["v", "w", "w"],
            S.ITEM_ID: ["milk", "milk", "milk", "soap", "tea", "bread", "bread", "tea"],
            S.EVENT_TYPE: ["purchase"] * 4 + ["view", "purchase", "purchase", "purchase"],
            S.TIMESTAMP: [
                START,
                START + 10 * day,
                START + 60 * day,
                START + 90 * day,
                START + 90 * day,
                START + 90 * day,
                START + 80 * day,
                START + 30 * day,
            ],
        }
    )
    inter = interactions_from(events)
    model = BuyAgain(half_life_days=30.0).fit(inter)
    # latest training time: day 90. milk: 3 purchases, last 30 days before -> 3 * 0.5 = 1.5;
    # soap: 1 purchase that day -> 1 * 1.0 = 1.0; tea was only viewed by u
    recs = model.recommend(["u"], k=4, exclude_seen=False)
    assert recs[S.ITEM_ID].to_list() == ["milk", "soap", "bread", "tea"]
    assert recs["score"][:2].to_list() == pytest.approx([1 + 3 * 0.5, 1 + 1.0])
    # the fill is by popularity (bread: 2 buyers, tea: w bought it, u viewed it: 2 users;
    # ties by item order)
    assert model.explain("u", "milk") == "you bought it 3 times, last 30 days ago"
    assert model.explain("u", "bread").startswith("you have not bought it yet")
    assert BuyAgain(half_life_days=None).fit(inter).recommend(["u"], k=1, exclude_seen=False)[
        S.ITEM_ID
    ].to_list() == ["milk"]
    with pytest.raises(Exception, match="half_life_days must be > 0 or None. Got 0 instead"):
        BuyAgain(half_life_days=0).fit(inter)


def test_compare_lets_buy_again_recommend_what_the_user_has():
    from profiling.evaluation import compare, temporal_split
    from profiling.recommenders.popularity import Popularity
    from profiling.recommenders.repeat import BuyAgain

    rows = []
    for u in range(6):
        for d in range(4):  # every user buys their own item every week
            rows.append((f"u{u}", f"i{u}", "purchase", START + dt.timedelta(days=7 * d + u)))
    events = pl.DataFrame(
        rows, schema=[S.USER_ID, S.ITEM_ID, S.EVENT_TYPE, S.TIMESTAMP], orient="row"
    )
    comp = compare(
        {"buy-again": BuyAgain(), "popularity": Popularity()},
        temporal_split(events, 0.25),
        k=1,
        user_segments=None,
        n_boot=20,
        n_permutations=20,
    )
    ndcg = dict(comp.metrics.filter(pl.col("metric") == "ndcg").select("model", "value").rows())
    assert ndcg["buy-again"] == 1.0  # each user's next purchase is their own item
    assert ndcg["popularity"] < 1.0


# ---- errors in the reader's language -------------------------------------------------------------
def _three_interactions() -> pl.DataFrame:
    """u1 viewed a and carted b, u2 bought a, on 1, 2 and 3 March 2025."""
    return pl.DataFrame(
        {
            S.USER_ID: ["u1", "u1", "u2"],
            S.ITEM_ID: ["a", "b", "a"],
            "weight": [1.0, 4.0, 9.0],
            S.TIMESTAMP: [dt.datetime(2025, 3, d, tzinfo=dt.UTC) for d in (1, 2, 3)],
        }
    )


RECOMMENDER_ERRORS = {
    "an unknown model (registry)": (
        lambda: make("nope"),
        "unknown model 'nope'; choose one of " + ", ".join(MODELS),
        "未知模型 'nope'；请从以下模型中选择：" + ", ".join(MODELS),  # model names are data
    ),
    "a hybrid with one weight for two models": (
        lambda: Hybrid([Popularity(), EASE()], weights=[1.0]).fit(_three_interactions()),
        "weights has 1 values for 2 models; give one per model",
        "weights 有 1 个值，但模型有 2 个；请为每个模型给一个值",
    ),
    "a hybrid weighing a model it does not hold": (
        lambda: Hybrid([Popularity(), EASE()], weights={"als": 1.0}).fit(_three_interactions()),
        "weights name models that are not in the hybrid: ['als']; models are ['popularity', "
        "'ease']",
        "weights 中有不在混合模型里的模型：['als']；现有模型为 ['popularity', 'ease']",
    ),
    "a hybrid with every weight 0": (
        lambda: Hybrid([Popularity(), EASE()], weights=[0, 0]).fit(_three_interactions()),
        "weights must be non-negative and not all 0. Got {'popularity': 0.0, 'ease': 0.0}.",
        "weights 必须非负且不能全为 0，收到的是 {'popularity': 0.0, 'ease': 0.0}。",
    ),
    "a hybrid of no model": (
        lambda: Hybrid([]).fit(_three_interactions()),
        "Hybrid needs at least one model",
        "混合模型至少需要一个模型",
    ),
    "recommending before fitting (base)": (
        lambda: EASE().recommend(["u1"]),
        "EASE is not fitted yet; call fit(interactions) first",
        "EASE 尚未训练；请先调用 fit(interactions)",
    ),
    "an unknown parameter (base)": (
        lambda: EASE().set_params(alpha=1),
        "EASE has no parameter 'alpha'; parameters are l2, random_state, weighting.",
        "EASE 没有参数 'alpha'；可用参数为 l2, random_state, weighting。",
    ),
    "interactions without weights (base)": (
        lambda: EASE().fit(_three_interactions().drop("weight")),
        "interactions need columns user_id, item_id, weight; missing ['weight']",
        "交互记录需要 user_id、item_id、weight 列；缺少 ['weight']",
    ),
    "every weight 0 (base)": (
        lambda: EASE().fit(_three_interactions().with_columns(weight=pl.lit(0.0))),
        "no interactions to learn from (every weight is 0 or missing)",
        "没有可供学习的交互记录（所有权重都为 0 或缺失）",
    ),
    "item-kNN with no neighbour": (
        lambda: ItemKNN(k_neighbors=0).fit(_three_interactions()),
        "k_neighbors must be >= 1. Got 0 instead.",
        "k_neighbors 必须 >= 1，收到的是 0。",
    ),
    "an unknown weighting (implicit)": (
        lambda: ItemKNN(weighting="sqrt").fit(_three_interactions()),
        "weighting must be one of ('log', 'raw', 'binary'). Got 'sqrt' instead.",
        "weighting 必须是 ('log', 'raw', 'binary') 之一，收到的是 'sqrt'。",
    ),
    "an unknown Surprise algorithm": (
        lambda: SurpriseModel("nope").fit(_three_interactions()),
        "algorithm must be one of ['baseline_only', 'co_clustering', 'knn_baseline', "
        "'knn_basic', 'knn_item', 'knn_means', 'nmf', 'slope_one', 'svd', 'svdpp']. Got 'nope' "
        "instead.",
        "algorithm 必须是 ['baseline_only', 'co_clustering', 'knn_baseline', 'knn_basic', "
        "'knn_item', 'knn_means', 'nmf', 'slope_one', 'svd', 'svdpp'] 之一，收到的是 'nope'。",
    ),
    "rating predictions before fitting (Surprise)": (
        lambda: SurpriseModel("svd").predict_ratings(_three_interactions()),
        "SurpriseModel is not fitted yet; call fit(interactions) first",
        "SurpriseModel 尚未训练；请先调用 fit(interactions)",
    ),
    "a half-life of 0 days (content)": (
        lambda: recency_decay(_three_interactions(), 0),
        "half_life_days must be > 0. Got 0 instead.",
        "half_life_days 必须 > 0，收到的是 0。",
    ),
    "a half-life of 0 days (buy-again)": (
        lambda: BuyAgain(half_life_days=0).fit(_three_interactions()),
        "half_life_days must be > 0 or None. Got 0 instead.",
        "half_life_days 必须 > 0 或为 None，收到的是 0。",
    ),
    "sequences of a frame without items": (
        lambda: user_sequences(_three_interactions().drop(S.ITEM_ID), {"u1": 0}, {"a": 0}),
        "sequences need columns user_id and item_id; the frame is missing ['item_id']",
        "序列需要 user_id 和 item_id 列；该表缺少 ['item_id']",
    ),
    "a session gap of 0 minutes": (
        lambda: user_sequences(_three_interactions(), {"u1": 0}, {"a": 0}, session_gap_minutes=0),
        "session_gap_minutes must be positive. Got session_gap_minutes=0 instead.",
        "session_gap_minutes 必须是正数，收到的是 session_gap_minutes=0。",
    ),
}


@pytest.mark.parametrize("case", list(RECOMMENDER_ERRORS))
def test_recommender_errors_read_in_english_and_in_chinese(case):
    """A failed training reads in the language of the page that started it (the job runs in
    it); English, what the CLI prints, is unchanged."""
    call, english, chinese = RECOMMENDER_ERRORS[case]
    assert raised_in_both(call, ProfilingError) == (english, chinese)
