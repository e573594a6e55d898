"""Maps of users: inputs, PCA, UMAP determinism, stratified samples, cache, figure."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from profiling.errors import ProfilingError
from profiling.present import viz
from profiling.profiles import embeddings as E
from profiling.recommenders import registry
from profiling.vocabulary import i18n


def _blobs(n: int = 60, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Two tight groups of users 20 standard deviations apart in 6 features."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, size=(n, 6))
    b = rng.normal(20.0, 1.0, size=(n, 6))
    return [f"u{i:03d}" for i in range(2 * n)], np.vstack([a, b])


def test_pca_of_points_on_a_line_puts_all_variance_on_the_first_axis():
    t = np.arange(10, dtype=float)
    x = np.column_stack([t, 2 * t, -t])  # every point on one line through the origin
    xy, explained = E.pca(x, E.EmbeddingParams(method="pca"))
    assert explained[0] == pytest.approx(1.0)
    assert np.allclose(xy[:, 1], 0.0, atol=1e-9)
    # positions along the axis are the projections: distance between neighbours = |(1,2,-1)|
    assert np.allclose(np.diff(np.sort(xy[:, 0])), np.sqrt(6.0))
    # the sign is fixed: the point farthest from the centre lies on the positive side
    assert xy[np.argmax(np.abs(xy[:, 0])), 0] > 0


def test_umap_is_deterministic_for_a_random_state_and_keeps_groups_apart():
    ids, x = _blobs()
    p = E.EmbeddingParams(method="umap", random_state=7)
    a = E.embed(ids, x, p)
    b = E.embed(ids, x, p)
    assert a.coords.equals(b.coords)
    c = E.embed(ids, x, E.EmbeddingParams(method="umap", random_state=8))
    assert not a.coords.equals(c.coords)
    xy = a.coords.select("x", "y").to_numpy()
    # every user's nearest neighbour on the map comes from the user's own group
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    group = np.repeat([0, 1], 60)
    assert (group[d.argmin(axis=1)] == group).all()


def test_a_3d_map_has_a_z_axis_and_reports_progress():
    ids, x = _blobs(30)
    seen = []
    emb = E.embed(
        ids,
        x,
        E.EmbeddingParams(method="umap", n_components=3),
        progress=lambda f, m: seen.append(f),
    )
    assert emb.coords.columns == ["user_id", "x", "y", "z"]
    assert emb.coords["user_id"].to_list() == ids
    assert seen[0] < seen[-1] == 1.0
    assert seen == sorted(seen)


def test_the_layout_progress_reads_in_the_language_of_the_page():
    """A map is drawn in a job that runs in the page's language: its epoch count is worded
    in it."""
    from profiling.vocabulary import i18n

    ids, x = _blobs(30)
    said = {"en": [], "zh": []}
    for lang, seen in said.items():
        with i18n.language(lang):
            E.embed(
                ids, x, E.EmbeddingParams(method="umap"), progress=lambda f, m, s=seen: s.append(m)
            )
    # umap-learn's bar reports as time passes: how many lines varies, not their words
    english = [m for m in said["en"] if "/" in m]
    chinese = [m for m in said["zh"] if "/" in m]
    assert all(re.fullmatch(r"layout epoch \d+/200", m) for m in english)
    assert english[-1] == "layout epoch 200/200"
    assert all(re.fullmatch(r"布局计算第 \d+/200 轮", m) for m in chinese)
    assert chinese[-1] == "布局计算第 200/200 轮"


def test_too_few_users_or_bad_parameters_are_clear_errors():
    with pytest.raises(ProfilingError, match="at least 5 users"):
        E.embed(["a", "b"], np.zeros((2, 3)), E.EmbeddingParams(method="pca"))
    with pytest.raises(ProfilingError, match="2 or 3 dimensions"):
        E.EmbeddingParams(n_components=4)
    with pytest.raises(ProfilingError, match="unknown projection method"):
        E.EmbeddingParams(method="tsne")
    with pytest.raises(ProfilingError, match="3 user ids for a matrix of 4 rows"):
        E.embed(["a", "b", "c"], np.zeros((4, 2)), E.EmbeddingParams(method="pca"))


def test_a_map_that_cannot_be_drawn_says_why_in_the_readers_language():
    with pytest.raises(ProfilingError) as raised:
        E.embed(["a", "b"], np.zeros((2, 3)), E.EmbeddingParams(method="pca"))
    assert str(raised.value) == "a map needs at least 5 users; this dataset has 2"
    with i18n.language("zh"):
        with pytest.raises(ProfilingError) as raised:
            E.embed(["a", "b"], np.zeros((2, 3)), E.EmbeddingParams(method="pca"))
        assert str(raised.value) == "绘制地图至少需要 5 位客户；此数据集只有 2 位"
        with pytest.raises(ProfilingError) as raised:
            E.EmbeddingParams(method="tsne")
        assert str(raised.value) == "未知投影方法 'tsne'；应为 umap, pca 之一"


def test_profile_matrix_is_standardized():
    prof = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "weekend_share": [0.0, 0.5, 0.5, 1.0],
            "avg_unit_price": [10.0, None, 30.0, 20.0],
        }
    )
    ids, x, feats = E.profile_matrix(prof, ["weekend_share", "avg_unit_price"])
    assert ids == ["a", "b", "c", "d"] and feats == ["weekend_share", "avg_unit_price"]
    assert np.allclose(x.mean(axis=0), 0.0) and np.allclose(x.std(axis=0), 1.0)
    # the missing price is filled with the median (20), the same value as user d's
    assert x[1, 1] == pytest.approx(x[3, 1])


def test_stratified_sample_keeps_each_stratum_in_proportion():
    ids = [f"u{i}" for i in range(100)]
    strata = ["A"] * 60 + ["B"] * 30 + ["C"] * 10
    keep = E.stratified_sample(ids, strata, max_users=10, random_state=1)
    picked = [strata[i] for i in keep]
    assert (picked.count("A"), picked.count("B"), picked.count("C")) == (6, 3, 1)
    assert list(keep) == sorted(set(keep))
    assert np.array_equal(keep, E.stratified_sample(ids, strata, max_users=10, random_state=1))


def test_stratified_sample_keeps_a_user_of_every_small_stratum():
    ids = [f"u{i}" for i in range(100)]
    strata = ["A"] * 95 + ["B"] * 4 + ["C"]
    keep = E.stratified_sample(ids, strata, max_users=10)
    picked = [strata[i] for i in keep]
    # quotas 9.5 / 0.4 / 0.1 -> 9 / 1 / 1 (at least one each) = 11 -> the largest gives one
    assert (picked.count("A"), picked.count("B"), picked.count("C")) == (8, 1, 1)


def test_no_sample_when_the_users_fit():
    assert list(E.stratified_sample(["a", "b", "c"], None, max_users=3)) == [0, 1, 2]


@pytest.fixture(scope="module")
def tiny_interactions():
    rng = np.random.default_rng(3)
    users = [f"u{i}" for i in range(40) for _ in range(6)]
    items = [f"i{j}" for j in rng.integers(0, 15, size=len(users))]
    return pl.DataFrame({"user_id": users, "item_id": items, "weight": [1.0] * len(users)})


@pytest.mark.parametrize("name", ["als", "svd"])
def test_factor_models_give_standardized_user_factors(tiny_interactions, name):
    model = registry.make(name).fit(tiny_interactions)
    ids, x, feats = E.factor_matrix(model)
    assert sorted(ids) == sorted(set(tiny_interactions["user_id"].to_list()))
    assert x.shape == (40, len(feats))
    assert np.allclose(x.mean(axis=0), 0.0, atol=1e-6)


def test_a_model_without_user_factors_says_which_to_choose(tiny_interactions):
    model = registry.make("ease").fit(tiny_interactions)
    with pytest.raises(ProfilingError, match="learns no user factors; choose .* svd or als"):
        E.factor_matrix(model)


def test_the_disk_cache_returns_what_was_stored_and_ignores_broken_files(tmp_path):
    ids, x = _blobs(5)
    emb = E.embed(ids, x, E.EmbeddingParams(method="pca", n_components=3), features=["f"] * 6)
    cache = E.EmbeddingCache(tmp_path)
    key = E.cache_key("fp", "profile", emb.features, emb.params, len(ids))
    assert cache.get(key) is None
    cache.put(key, emb)
    back = cache.get(key)
    assert back.coords.equals(emb.coords)
    assert back.params == emb.params and back.explained_variance == emb.explained_variance
    assert key != E.cache_key("fp", "profile", emb.features, E.EmbeddingParams(method="umap"), 10)
    (tmp_path / f"{key}.parquet").write_bytes(b"not parquet")
    assert cache.get(key) is None


def test_a_map_finished_after_its_workspace_was_deleted_does_not_bring_the_folder_back(tmp_path):
    ids, x = _blobs(5)
    emb = E.embed(ids, x, E.EmbeddingParams(method="pca", n_components=3), features=["f"] * 6)
    workspace = tmp_path / "url-shop"
    cache = E.EmbeddingCache(workspace / "maps")
    workspace.mkdir()
    cache.put("k1", emb)
    assert (workspace / "maps" / "k1.parquet").exists()
    import shutil

    shutil.rmtree(workspace)  # the workspace is deleted while a second map is drawn
    cache.put("k2", emb)
    assert not workspace.exists()


def _table() -> pl.DataFrame:
    emb = E.Embedding(
        coords=pl.DataFrame(
            {"user_id": ["a", "b", "c"], "x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.0]}
        ),
        params=E.EmbeddingParams(method="pca"),
        source="profile",
        features=[],
        seconds=0.0,
        n_users_total=3,
    )
    prof = pl.DataFrame(
        {"user_id": ["a", "b", "c"], "monetary": [0.0, 100.0, 25.0], "tags": [["VIP"], [], None]}
    )
    segs = pl.DataFrame({"user_id": ["a", "b"], "rfm_segment": ["Lost", "Champions"]})
    return E.map_table(emb, prof, segs)


def test_colour_values_for_segments_tags_and_features():
    table = _table()
    assert table["rfm_segment"].to_list() == ["Lost", "Champions", None]
    options = E.color_options(table.drop("x", "y"), ("rfm_segment",))
    assert list(options) == ["rfm_segment", "tag:VIP", "monetary"]
    seg, categorical = E.color_values(table, "rfm_segment")
    assert categorical and seg.to_list() == ["Lost", "Champions", "(none)"]
    tag, categorical = E.color_values(table, "tag:VIP")
    assert categorical and tag.to_list() == ["VIP", "not VIP", "not VIP"]
    money, categorical = E.color_values(table, "monetary")
    assert not categorical and money.to_list() == [0.0, 100.0, 25.0]


def test_the_map_figure_names_users_and_sizes_by_money():
    table = _table()
    colors, categorical = E.color_values(table, "rfm_segment")
    fig = viz.map_figure(table, colors, categorical, "RFM segment")
    # segments best to lost, as on every chart; users without a segment last
    assert [t.name for t in fig.data] == ["Champions (1)", "Lost (1)", "(none) (1)"]
    assert [t.customdata[0][0] for t in fig.data] == ["b", "a", "c"]
    assert fig.data[0].marker.color == viz.RFM_COLORS["Champions"]
    # 4 px for nothing spent, 18 px for the top spender, area in between ~ money: 25 -> 4+14*0.5
    assert [t.marker.size[0] for t in fig.data] == [18.0, 4.0, 11.0]
    money, _ = E.color_values(table, "monetary")
    fig = viz.map_figure(table.with_columns(z=pl.lit(1.0)), money, False, "monetary")
    assert fig.data[0].type == "scatter3d" and fig.data[0].marker.colorbar.title.text == "monetary"
