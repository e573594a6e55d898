"""``evaluate --engine spark``: split, interactions, ground truth and metrics on Spark agree
with the polars definitions (profiling.evaluation), on hand-made logs."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from profiling.cli import main
from profiling.recommenders import registry
from profiling.vocabulary import schema as S

pytestmark = pytest.mark.spark


def _sdf(spark, frame: pl.DataFrame):
    return spark.createDataFrame(frame.to_arrow())


def _events(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            S.USER_ID: pl.String,
            S.ITEM_ID: pl.String,
            S.EVENT_TYPE: pl.String,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
            S.RATING: pl.Float64,
        },
        orient="row",
    )


def _day(d: int, h: int = 10) -> datetime:
    return datetime(2024, 1, d, h, tzinfo=UTC)


def test_ranking_metrics_on_spark_match_hand_values_and_the_polars_functions(spark):
    from profiling.engines.spark_eval import RANKING, ranking_metrics_spark
    from profiling.evaluation.metrics import RANKING_METRICS

    recs = pl.DataFrame(
        {
            "model": ["m"] * 10,
            S.USER_ID: ["u1", "u1", "u1", "u2", "u2", "u2", "u4", "u4", "u4", "u4"],
            # u2's second "x" keeps its best rank; u4's only hit is at position 4 > k
            S.ITEM_ID: ["a", "b", "c", "x", "y", "x", "p", "q", "r", "s"],
            "rank": [1, 2, 3, 1, 2, 3, 1, 2, 3, 4],
        }
    )
    truth = pl.DataFrame(
        {S.USER_ID: ["u1", "u1", "u2", "u3", "u4"], S.ITEM_ID: ["b", "d", "x", "z", "s"]}
    )
    got = pl.from_arrow(
        ranking_metrics_spark(_sdf(spark, recs), _sdf(spark, truth), k=3).toArrow()
    ).sort(S.USER_ID)
    l3 = 1 / math.log2(3)
    # u1: one hit at position 2 of 3, 2 relevant; u2: hit at 1, 1 relevant; u3: no list;
    # u4: its hit is beyond k = 3, so every metric (MRR too, within k as compare) is 0
    expected = {
        "u1": {
            "precision": 1 / 3,
            "recall": 1 / 2,
            "f1": 2 * 1 / (3 + 2),
            "ndcg": l3 / (1 + l3),
            "map": (1 / 2) / 2,
            "mrr": 1 / 2,
            "hit_rate": 1.0,
        },
        "u2": {
            "precision": 1 / 3,
            "recall": 1.0,
            "f1": 2 * 1 / (3 + 1),
            "ndcg": 1.0,
            "map": 1.0,
            "mrr": 1.0,
            "hit_rate": 1.0,
        },
        "u3": dict.fromkeys(RANKING, 0.0),
        "u4": dict.fromkeys(RANKING, 0.0),
    }
    assert got[S.USER_ID].to_list() == ["u1", "u2", "u3", "u4"]
    for row in got.iter_rows(named=True):
        for m in RANKING:
            assert row[m] == pytest.approx(expected[row[S.USER_ID]][m], abs=1e-12), (row, m)
            polars_value = RANKING_METRICS[m](recs, truth, 3).filter(
                pl.col(S.USER_ID) == row[S.USER_ID]
            )
            assert row[m] == pytest.approx(polars_value["value"].item(), abs=1e-12), (row, m)


def test_temporal_split_on_spark_has_the_polars_cutoff_with_ties_going_to_test(spark):
    from profiling.engines.spark_eval import temporal_split_spark
    from profiling.evaluation import temporal_split

    ev = _events(
        [
            ("u1", "a", "view", _day(1), None),
            ("u1", "b", "view", _day(2), None),
            ("u2", "a", "purchase", _day(3), None),
            ("u2", "b", "view", _day(4), None),
            ("u3", "c", "view", _day(4), None),
        ]
    )
    # n = 5, position floor(5 * 0.6) = 3 of the sorted times -> cutoff day 4 (a tie): 3 + 2
    got = temporal_split_spark(_sdf(spark, ev), test_fraction=0.4)
    want = temporal_split(ev, test_fraction=0.4)
    assert got.cutoff == want.cutoff == _day(4)
    summary = got.summary()
    assert (summary["train_events"], summary["test_events"]) == (3, 2)
    assert {k: v for k, v in summary.items() if k != "description"} == {
        k: v for k, v in want.summary().items() if k != "description"
    }
    assert summary["test_users_not_in_train"] == 1  # u3


def test_stratified_split_on_spark_holds_out_round_a_quarter_of_each_users_items(spark):
    from pyspark.sql import functions as F

    from profiling.engines.spark_eval import stratified_split_spark

    rows = [("u4", it, "view", _day(i + 1), None) for i, it in enumerate("abcd")]
    rows += [("u3", it, "view", _day(i + 1), None) for i, it in enumerate("abc")]
    rows += [("u1", "a", "view", _day(1), None), ("u1", "a", "purchase", _day(2), None)]
    split = stratified_split_spark(_sdf(spark, _events(rows)), 0.25, random_state=7)
    test = dict(split.test.groupBy(S.USER_ID).agg(F.count(F.lit(1))).collect())
    # u4: round(0.25 * 4) = 1; u3: round(0.75) = 1; u1 has one item: all in train
    assert test == {"u4": 1, "u3": 1}
    assert split.train.count() == 4 - 1 + 3 - 1 + 2
    # no (user, item) on both sides
    pairs = [S.USER_ID, S.ITEM_ID]
    assert split.train.select(pairs).intersect(split.test.select(pairs)).count() == 0


def test_train_interactions_on_spark_follow_interactions_from(spark):
    from profiling.data.interactions import interactions_from
    from profiling.engines.spark_eval import interactions_spark

    ev = _events(
        [
            ("u1", "i1", "view", _day(1), None),
            ("u1", "i1", "purchase", _day(2), None),
            ("u1", "i2", "search", _day(3), None),  # weight 0, no rating: dropped
            ("u2", "i1", "rating", _day(1), 3.0),
            ("u2", "i1", "rating", _day(5), 5.0),
        ]
    )
    got = pl.from_arrow(interactions_spark(_sdf(spark, ev)).toArrow()).sort(S.USER_ID, S.ITEM_ID)
    want = interactions_from(ev)
    # u1/i1: view 1 + purchase 5 = 6, one purchase; u2/i1: two ratings 4 + 4 = 8, latest 5
    assert got["weight"].to_list() == [6.0, 8.0] == want["weight"].to_list()
    assert got[S.RATING].to_list() == [None, 5.0] == want[S.RATING].to_list()
    assert got["purchases"].to_list() == [1, 0] == want["purchases"].to_list()
    assert got["last_purchase"].to_list() == [_day(2), None]


def _log(tmp_path) -> str:
    """60 users over 30 days: each views 6 of 12 items and buys 2 (a fixed pattern)."""
    rows = []
    for u in range(60):
        for j in range(6):
            item = f"i{(u * 5 + j * 7) % 12:02d}"
            t = datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=(u * 11 + j * 97) % 720)
            rows.append((f"u{u:02d}", item, "view", t, None))
            if j % 3 == 0:
                rows.append((f"u{u:02d}", item, "purchase", t + timedelta(minutes=5), None))
    path = tmp_path / "log.parquet"
    _events(rows).drop(S.RATING).write_parquet(path)
    return str(path)


def test_evaluate_engine_spark_gives_the_polars_split_and_metrics(spark, tmp_path):
    log = _log(tmp_path)
    common = ["evaluate", log, "--models", "popularity,item-knn", "--k", "5"]
    assert main([*common, "--out", str(tmp_path / "pl")]) == 0
    assert main([*common, "--engine", "spark", "--out", str(tmp_path / "sp")]) == 0
    polars_report = json.loads((tmp_path / "pl" / "report.json").read_text())
    spark_report = json.loads((tmp_path / "sp" / "report.json").read_text())
    for key in (
        "train_events",
        "test_events",
        "train_users",
        "test_users",
        "test_users_not_in_train",
    ):
        assert spark_report["split"][key] == polars_report["split"][key], key
    assert spark_report["split"]["test_events"] > 0
    want = pl.read_csv(tmp_path / "pl" / "metrics.csv").select("model", "metric", "value")
    got = pl.read_csv(tmp_path / "sp" / "metrics.csv")
    joined = got.join(want, on=["model", "metric"], how="left", suffix="_polars")
    assert joined.height == 2 * 8  # 7 ranking metrics + coverage per model
    for row in joined.iter_rows(named=True):
        assert math.isclose(row["value"], row["value_polars"], rel_tol=1e-9, abs_tol=1e-12), row


def test_evaluate_engine_spark_refuses_what_it_does_not_run(spark, tmp_path, capsys):
    log = _log(tmp_path)
    assert (
        main(
            [
                "evaluate",
                log,
                "--engine",
                "spark",
                "--protocol",
                "kfold",
                "--models",
                "popularity",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "protocols temporal, stratified; got 'kfold'" in capsys.readouterr().err
    assert (
        main(["evaluate", "--workspace", "shop", "--engine", "spark", "--out", str(tmp_path)]) == 2
    )
    assert "not a saved workspace" in capsys.readouterr().err
    assert (
        main(["evaluate", log, "--engine", "spark", "--models", "nope", "--out", str(tmp_path)])
        == 2
    )
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_what_the_spark_engine_refuses_reads_in_english_and_in_chinese():
    """Checked before any Spark session starts (no ``spark`` fixture): the words in the
    reader's language, the flags and model names as they are typed."""
    from types import SimpleNamespace

    from profiling.engines.spark_eval import cmd_evaluate_spark
    from profiling.errors import ProfilingError
    from profiling.vocabulary import i18n

    cases = [
        (
            SimpleNamespace(workspace="shop", events=None, tune=False, models="popularity"),
            "--engine spark reads files (an events path or URI), not a saved workspace; give an "
            "events file, or use --engine polars",
            "--engine spark 读取文件（行为数据的路径或 URI），不读取已保存的工作区；请提供行为数据"
            "文件，或使用 --engine polars",
        ),
        (
            SimpleNamespace(workspace=None, events="e.csv", tune=True, models="popularity"),
            "--tune runs on the polars engine only; drop --tune or use --engine polars",
            "--tune 只能在 polars 引擎上运行；请去掉 --tune 或使用 --engine polars",
        ),
        (
            SimpleNamespace(workspace=None, events="e.csv", tune=False, models="popularity,nope"),
            "unknown model 'nope'; expected some of: " + ", ".join(registry.MODELS),
            "未知模型 'nope'；应为以下模型中的一个或多个：" + ", ".join(registry.MODELS),
        ),
    ]
    for args, english, chinese in cases:
        with pytest.raises(ProfilingError) as raised:
            cmd_evaluate_spark(args)
        assert str(raised.value) == english
        with i18n.language("zh"), pytest.raises(ProfilingError) as raised:
            cmd_evaluate_spark(args)
        assert str(raised.value) == chinese
