"""The model-cost rule on small hand-made shapes."""

from __future__ import annotations

from profiling.recommenders import cost as C


def test_ease_costs_three_dense_item_matrices():
    s = C.Shape(users=10, items=100, interactions=50)
    assert C.estimate("ease", s).bytes == 50 * C.FRAME_ROW + 3 * 100**2 * 8


def test_a_big_catalog_rules_ease_out_but_keeps_item_knn_and_als():
    s = C.Shape(users=500_000, items=50_000, interactions=10_000_000)
    limit = 8 * 1024**3
    # EASE: 3 * 50,000² * 8 bytes = 60 GB of dense matrices, far over 8 GB
    assert C.estimate("ease", s).bytes > 3 * 50_000**2 * 8
    assert not C.fits("ease", s, limit)
    # ALS: 1.2 GB of interactions + (550,000 * 128 * 8 * 2) = 1.1 GB of factors
    assert C.fits("als", s, limit)
    assert C.fits("item-knn", s, limit)
    assert C.affordable(["item-knn", "ease", "als"], s, limit) == ["item-knn", "als"]


def test_item_knn_costs_one_block_of_co_occurrences_and_the_kept_neighbours():
    s = C.Shape(users=500_000, items=50_000, interactions=10_000_000)
    # 10M rows * 120 B + 2 * 20M block entries * 16 B + 50,000 items * 100 neighbours * 12 B
    assert C.estimate("item-knn", s).bytes == 1_200_000_000 + 640_000_000 + 60_000_000
    tiny = C.Shape(users=10, items=5, interactions=20)  # the block is at most 5² pairs
    assert C.estimate("item-knn", tiny).bytes == 20 * 120 + 2 * 25 * 16 + 5 * 5 * 12


def test_a_small_catalog_affords_everything():
    s = C.Shape(users=3000, items=500, interactions=100_000)
    names = ["popularity", "item-knn", "ease", "als", "content", "hybrid", "knn-user"]
    assert C.affordable(names, s, 1024**3) == names


def test_the_budget_can_be_set_by_the_environment(monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_MODEL_MEMORY", "1000")
    assert C.budget() == 1000
    assert not C.fits("ease", C.Shape(1, 20, 1))  # 3 * 400 * 8 = 9,600 bytes > 1,000


def test_sizes_read_as_people_write_them():
    assert C.human_bytes(512) == "512 B"
    assert C.human_bytes(3 * 1024**3) == "3.0 GB"
    cost = C.estimate("ease", C.Shape(1, 1000, 0))
    assert cost.describe() == "about 22.9 MB (3 dense 1,000² matrices)"
