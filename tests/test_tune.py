"""Tuning without peeking: settings are chosen on a validation split of the training part."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from profiling.errors import EvaluationError
from profiling.evaluation import stratified_split, temporal_split
from profiling.evaluation.tune import candidates, hybrid_of, tune, validation_split
from profiling.recommenders.implicit_models import EASE
from profiling.vocabulary import schema as S
from tests.conftest import raised_in_both

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def events(n_users: int = 40, seed: int = 0) -> pl.DataFrame:
    """Each user buys 6 of the 5 items of their taste group plus one random item, over 60
    days (one group of 5 items per user % 4)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        pool = [f"I{(u % 4) * 5 + j:02d}" for j in range(5)] + [f"I{rng.integers(0, 20):02d}"]
        for n, item in enumerate(rng.permutation(pool)):
            rows.append(
                (f"U{u:02d}", str(item), "purchase", START + dt.timedelta(days=10 * n + u % 7))
            )
    return pl.DataFrame(
        rows, schema=[S.USER_ID, S.ITEM_ID, S.EVENT_TYPE, S.TIMESTAMP], orient="row"
    )


def test_the_validation_split_comes_from_the_training_part_only():
    split = temporal_split(events(), 0.25)
    rule_val = validation_split(split, relevance=_rule())
    assert rule_val.train[S.TIMESTAMP].max() < rule_val.test[S.TIMESTAMP].min()
    assert rule_val.test[S.TIMESTAMP].max() < split.cutoff  # never reaches the test part
    strat = stratified_split(events(), 0.25)
    val = validation_split(strat, relevance=_rule())
    both = pl.concat([val.train, val.test])
    assert both.sort(S.USER_ID, S.ITEM_ID, S.TIMESTAMP).equals(
        strat.train.sort(S.USER_ID, S.ITEM_ID, S.TIMESTAMP)
    )


def _rule():
    from profiling.evaluation import relevance_for

    return relevance_for(events())


def test_tuning_never_reads_the_test_part():
    split = temporal_split(events(), 0.25)
    grid = [{"l2": 1.0}, {"l2": 10.0}, {"l2": 1000.0}]
    first = tune("ease", split, grid_override=grid, k=3)
    # replace the test part by nonsense: the choice and every validation score stay the same
    garbled = dataclasses.replace(
        split, test=split.test.with_columns(pl.lit("I19").alias(S.ITEM_ID))
    )
    second = tune("ease", garbled, grid_override=grid, k=3)
    assert second.trials.equals(first.trials.with_columns(second.trials["seconds"]))
    assert second.params == first.params
    assert first.trials["params"].to_list() == [json.dumps(g) for g in grid]
    best = int(np.argmax(first.trials["ndcg"].to_numpy()))
    assert first.params == grid[best] and first.score == first.trials["ndcg"][best]
    assert isinstance(first.model, EASE) and first.model.l2 == grid[best]["l2"]
    assert "of the training part" in first.validation
    assert json.loads(json.dumps(first.to_dict()))["params"] == first.params


def test_the_default_is_tried_first_and_the_budget_stops_the_grid():
    assert candidates("ease")[0] == {"l2": 500.0, "weighting": "log"}
    assert candidates("als")[0]["regularization"] == 20.0  # the registry's own default
    split = temporal_split(events(), 0.25)
    quick = tune("item-knn", split, budget_seconds=1e-9, k=3)
    assert quick.trials.height == 1 and not quick.complete  # the first always runs
    assert quick.score == quick.default_score


def test_hybrid_tuning_blends_the_tuned_sub_models():
    # NEW shows up only inside the validation window, buying every item: a cold user whose
    # popularity fallback always hits
    new = pl.DataFrame(
        [("NEW", f"I{i:02d}", "purchase", START + dt.timedelta(days=36)) for i in range(20)],
        schema=[S.USER_ID, S.ITEM_ID, S.EVENT_TYPE, S.TIMESTAMP],
        orient="row",
    )
    split = temporal_split(pl.concat([events(), new]), 0.25)
    val = validation_split(split, relevance=_rule())
    assert "NEW" in set(val.test[S.USER_ID]) and "NEW" not in set(val.train[S.USER_ID])
    hybrid = hybrid_of({"ease": EASE(l2=7.0)})
    assert hybrid.models["ease"].l2 == 7.0
    grid = [
        {
            "weights": {"item-knn": 1.0, "ease": 0.0, "als": 0.0, "bpr": 0.0, "content": 0.0},
            "normalization": "minmax",
        },
        {
            "weights": {"item-knn": 0.0, "ease": 1.0, "als": 0.0, "bpr": 0.0, "content": 0.0},
            "normalization": "zscore",
        },
    ]
    result = tune("hybrid", split, model=hybrid, grid_override=grid, k=3)
    assert result.trials.height == 2
    # blending EASE alone (z-scores keep its order) scores exactly like the tuned EASE alone,
    # the cold user's fallback included
    ease_alone = tune("ease", split, grid_override=[{"l2": 7.0}], k=3)
    assert result.trials["ndcg"][1] == pytest.approx(ease_alone.score)


def test_tuning_errors_name_what_is_wrong():
    split = temporal_split(events(), 0.25)
    with pytest.raises(EvaluationError, match="model 'popularity' has no tuning grid"):
        tune("popularity", split)
    with pytest.raises(EvaluationError, match="Got budget_seconds=0 instead"):
        tune("ease", split, budget_seconds=0)
    with pytest.raises(EvaluationError, match="the tuning grid is empty"):
        tune("ease", split, grid_override=[])


def test_tuning_errors_read_in_english_and_in_chinese():
    """The Recommenders page shows them after "The comparison failed:" in its language."""

    split = temporal_split(events(), 0.25)
    cases = [
        (
            lambda: tune("popularity", split),
            "model 'popularity' has no tuning grid; tunable models: ease, als, bpr, item-knn, "
            "hybrid.",
            "模型 'popularity' 没有调优网格；可调优的模型：ease, als, bpr, item-knn, hybrid。",
        ),
        (
            lambda: tune("ease", split, budget_seconds=0),
            "budget_seconds must be a positive number. Got budget_seconds=0 instead.",
            "budget_seconds 必须是正数，收到的是 budget_seconds=0。",
        ),
        (
            lambda: tune("ease", split, grid_override=[]),
            "the tuning grid is empty; give at least one setting.",
            "调优网格为空；请至少给出一组设置。",
        ),
    ]
    for call, english, chinese in cases:
        assert raised_in_both(call, EvaluationError) == (english, chinese)


def test_validation_leaves_out_what_was_bought_not_what_was_only_viewed():
    # Every user views HOT on day 0, then buys three items of their own, then HOT (the last
    # purchase of the training part: the validation truth), then one more (the test). The
    # comparison may suggest HOT again (only viewed); so must validation: with every seen
    # item left out, HOT could never be suggested and every setting would score 0.
    from profiling.evaluation import leave_last_n

    rows = []
    for u in range(12):
        user = f"U{u:02d}"
        rows.append((user, "HOT", "view", START))
        own = [f"I{(u % 3) * 3 + j}" for j in range(3)]
        for n, item in enumerate([*own, "HOT", f"L{u % 3}"], start=1):
            rows.append((user, item, "purchase", START + dt.timedelta(days=n)))
    log = pl.DataFrame(rows, schema=[S.USER_ID, S.ITEM_ID, S.EVENT_TYPE, S.TIMESTAMP], orient="row")
    split = leave_last_n(log, n=1, relevant_types=("purchase",))
    result = tune("ease", split, grid_override=[{"l2": 1.0}], k=3)
    assert result.score > 0


def test_tuned_settings_read_in_plain_words_in_both_languages():
    from profiling.evaluation.tune import setting_rows
    from profiling.vocabulary import i18n

    assert setting_rows({"weighting": "log", "l2": 500.0}) == [
        ("how strongly similarities are held back (L2)", "500"),
        ("how repeated actions count", "by the logarithm of their count"),
    ]
    # blend weights name each model; a setting the words do not know is shown as it is
    assert setting_rows({"weights": {"item-knn": 1.0, "ease": 0.5}, "seed": 7}) == [
        ("weight of each model in the blend", "item-knn 1, ease 0.5"),
        ("seed", "7"),
    ]
    with i18n.language("zh"):
        ((setting, value),) = setting_rows({"normalization": "zscore"})
    assert (setting, value) == ("分数如何变得可比", "标准化")
