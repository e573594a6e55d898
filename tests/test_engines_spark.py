"""The Spark engine: the same profiles as polars, and each Spark-specific cleaning step."""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime

import polars as pl
import pytest

from profiling.cli import main
from profiling.data.dataset import sample_paths
from profiling.errors import DataValidationError
from profiling.vocabulary import i18n

pytestmark = pytest.mark.spark

RETAIL = "online_retail_ii_2009_2010/online_retail_ii_2009_2010.parquet"


def assert_same_profiles(a: pl.DataFrame, b: pl.DataFrame) -> None:
    """Same users and columns; numbers within 1e-9 relative (1e-9 absolute near zero,
    where a sum of cancelling amounts depends on the order of addition); others equal."""
    assert a.columns == b.columns
    assert a["user_id"].to_list() == b["user_id"].to_list()
    for c in a.columns:
        x, y = a[c], b[c]
        assert x.dtype == y.dtype, c
        if x.dtype.is_numeric():
            assert x.is_null().to_list() == y.is_null().to_list(), c
            for u, v in zip(x.drop_nulls().to_list(), y.drop_nulls().to_list(), strict=True):
                assert math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9), (c, u, v)
        else:
            assert x.to_list() == y.to_list(), c


def _build(tmp_path, engine: str, *files: str, extra: tuple[str, ...] = ()) -> pl.DataFrame:
    out = tmp_path / engine
    args = ["build", files[0], "--out", str(out), "--k", "3", "--engine", engine, *extra]
    if len(files) > 1:
        args += ["--users", files[1], "--items", files[2]]
    assert main(args) == 0
    return pl.read_parquet(out / "profiles.parquet")


def test_sample_store_build_on_spark_equals_polars_with_the_same_segments(spark, tmp_path):
    # a third of the sample store's customers (every event of each), to keep the suite short
    p = sample_paths()
    events = pl.read_parquet(p["events"])
    kept = events["user_id"].unique().sort().head(1000).implode()
    events.filter(pl.col("user_id").is_in(kept)).write_parquet(tmp_path / "events.parquet")
    files = (str(tmp_path / "events.parquet"), str(p["users"]), str(p["items"]))
    polars_profiles = _build(tmp_path, "polars", *files)
    spark_profiles = _build(tmp_path, "spark", *files)
    assert polars_profiles.height == 1000
    # tags, RFM segments and clusters are computed on the driver from the same features
    assert_same_profiles(polars_profiles, spark_profiles)
    seg = [json.loads((tmp_path / e / "segments.json").read_text()) for e in ("polars", "spark")]
    assert_close(seg[0], seg[1])


def assert_close(a, b) -> None:
    """Equal JSON values, floats within 1e-9 relative (cluster summaries are float sums)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_close(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_close(x, y)
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    else:
        assert a == b


@pytest.mark.slow
def test_online_retail_slice_from_csv_on_spark_equals_polars(spark, tmp_path):
    from tests.conftest import shared_file

    path = shared_file(*RETAIL.split("/"))
    # 20,000 rows as CSV: string timestamps, float-looking customer ids, cancellations
    csv = tmp_path / "retail.csv"
    pl.read_parquet(path).head(20_000).write_csv(csv)
    polars_profiles = _build(tmp_path, "polars", str(csv))
    spark_profiles = _build(tmp_path, "spark", str(csv))
    assert polars_profiles.height > 500
    assert_same_profiles(polars_profiles, spark_profiles)


# ---- Spark-specific steps on hand-made logs ---------------------------------------------
def _clean(spark, rows: list[dict], schema: str):
    from profiling.engines.spark import clean_events_spark

    sdf = spark.createDataFrame(rows, schema)
    res = clean_events_spark(sdf, "hand.csv")
    return res, pl.from_arrow(res.frame.toArrow()).sort("timestamp", "item_id")


SCHEMA = "Invoice string, StockCode string, Quantity string, InvoiceDate string, Price string, `Customer ID` string"


def test_cancellations_are_refunds_with_negative_amounts_and_duplicates_are_counted(spark):
    rows = [
        {
            "Invoice": "1",
            "StockCode": "A",
            "Quantity": "2",
            "InvoiceDate": "2024-01-05 10:00:00",
            "Price": "3.5",
            "Customer ID": "7",
        },
        {
            "Invoice": "1",
            "StockCode": "A",
            "Quantity": "2",
            "InvoiceDate": "2024-01-05 10:00:00",
            "Price": "3.5",
            "Customer ID": "7",
        },  # exact duplicate
        {
            "Invoice": "C2",
            "StockCode": "A",
            "Quantity": "-1",
            "InvoiceDate": "2024-01-06 11:00:00",
            "Price": "3.5",
            "Customer ID": "7",
        },  # cancellation
        {
            "Invoice": "3",
            "StockCode": "B",
            "Quantity": "1",
            "InvoiceDate": "2024-01-07 12:00:00",
            "Price": "-4",
            "Customer ID": "7",
        },  # negative price
        {
            "Invoice": "4",
            "StockCode": "B",
            "Quantity": "1",
            "InvoiceDate": "2024-01-07 12:00:00",
            "Price": "4",
            "Customer ID": None,
        },  # no user
    ]
    res, events = _clean(spark, rows, SCHEMA)
    counts = {r.reason: r.count for r in res.report.reasons}
    assert res.report.rows_read == 5 and res.report.rows_kept == 2
    assert counts == {
        "missing user id": 1,
        "exact duplicate row": 1,
        "negative price or amount on a purchase": 1,
        "refund: negative quantity or cancellation invoice (kept as 'refund')": 1,
    }
    assert events["event_type"].to_list() == ["purchase", "refund"]
    # purchase: 3.5 x 2 = 7.0; refund: -(3.5 x |-1|) = -3.5, quantity made positive
    assert events["amount"].to_list() == [7.0, -3.5]
    assert events["quantity"].to_list() == [2, 1]
    assert events["timestamp"].to_list() == [
        datetime(2024, 1, 5, 10, tzinfo=UTC),
        datetime(2024, 1, 6, 11, tzinfo=UTC),
    ]


def test_numbers_with_currency_signs_commas_and_parentheses(spark):
    rows = [
        {
            "Invoice": str(i),
            "StockCode": "A",
            "Quantity": "1",
            "InvoiceDate": f"2024-01-0{i} 09:00:00",
            "Price": price,
            "Customer ID": "7",
        }
        for i, price in enumerate(["$1,000.00", "1.234,50", "12,5", "(5)"], start=1)
    ]
    res, events = _clean(spark, rows, SCHEMA)
    # "(5)" is -5: a negative price on a purchase is dropped
    assert events["price"].to_list() == [1000.0, 1234.5, 12.5]
    assert {r.reason: r.count for r in res.report.reasons} == {
        "negative price or amount on a purchase": 1
    }


def test_day_first_string_dates_are_read_as_polars_reads_them(spark):
    rows = [
        {
            "Invoice": "1",
            "StockCode": "A",
            "Quantity": "1",
            "InvoiceDate": "25/12/2024 08:30",
            "Price": "2",
            "Customer ID": "7",
        },
        {
            "Invoice": "2",
            "StockCode": "A",
            "Quantity": "1",
            "InvoiceDate": "03/01/2025 18:00",
            "Price": "2",
            "Customer ID": "7",
        },
    ]
    res, events = _clean(spark, rows, SCHEMA)
    assert "day first" in res.report.timestamp_format
    assert events["timestamp"].to_list() == [
        datetime(2024, 12, 25, 8, 30, tzinfo=UTC),
        datetime(2025, 1, 3, 18, 0, tzinfo=UTC),
    ]


def test_a_timestamp_format_spark_does_not_read_names_the_column(spark):
    from profiling.spark_session import SparkEngineError

    rows = [
        {
            "Invoice": "1",
            "StockCode": "A",
            "Quantity": "1",
            "InvoiceDate": "2024-01-05 10:00 GMT+8",
            "Price": "2",
            "Customer ID": "7",
        },
    ]
    with pytest.raises(SparkEngineError, match="'InvoiceDate'.*--engine polars"):
        _clean(spark, rows, SCHEMA)


def test_most_common_region_per_user_ties_go_to_the_smallest(spark):
    from profiling.engines.spark import clean_events_spark

    sdf = spark.createDataFrame(
        [
            ("u1", "i1", "2024-01-01 10:00:00", "West"),
            ("u1", "i2", "2024-01-02 10:00:00", "East"),
            ("u2", "i1", "2024-01-03 10:00:00", "North"),
            ("u2", "i1", "2024-01-04 10:00:00", "North"),
            ("u2", "i2", "2024-01-05 10:00:00", "South"),
        ],
        "user_id string, item_id string, timestamp string, region string",
    )
    users = clean_events_spark(sdf, "log.csv").user_attributes.sort("user_id")
    # u1: West 1, East 1 -> East (smaller); u2: North 2 beats South 1
    assert users.to_dicts() == [
        {"user_id": "u1", "region": "East"},
        {"user_id": "u2", "region": "North"},
    ]


def test_a_sunday_is_a_weekend_day_on_spark(spark, tmp_path):
    from profiling.engines.spark import build_profiles_spark, load_dataset_spark

    log = tmp_path / "log.csv"
    # 2024-01-06 is a Saturday, 2024-01-07 a Sunday, 2024-01-08 a Monday
    log.write_text(
        "user_id,item_id,event_type,timestamp\n"
        "u1,i1,view,2024-01-06 10:00:00\nu1,i1,view,2024-01-07 10:00:00\n"
        "u1,i1,view,2024-01-08 10:00:00\nu1,i1,view,2024-01-08 11:00:00\n"
    )
    profiles = build_profiles_spark(load_dataset_spark(spark, str(log)))
    # weekend_share = weekend events / events = 2 / 4
    assert profiles["weekend_share"].to_list() == [0.5]
    # sessions: a gap of more than 30 whole minutes starts one; 3 days + 1 hour gap -> 4
    assert profiles["sessions"].to_list() == [4]


def test_an_unreadable_kind_of_file_is_refused_by_name(spark):
    from profiling.engines.spark import read_events

    with pytest.raises(DataValidationError, match=r"events\.xlsx.*Parquet.*CSV.*'\.xlsx'"):
        read_events(spark, "events.xlsx")


def test_engine_spark_refuses_a_workspace(tmp_path, capsys):
    code = main(["build", "--workspace", "shop", "--engine", "spark", "--out", str(tmp_path)])
    assert code == 2
    assert "--engine spark reads files" in capsys.readouterr().err


def test_spark_als_recommends_the_item_a_users_group_shares_and_zero_for_unseen_items(spark):
    from profiling.recommenders.spark_als import SparkALS

    # group A (a1..a4) shares items x1..x4, each user missing one; group B (b1..b4) the y's
    rows = [
        (f"{g}{u}", f"{'x' if g == 'a' else 'y'}{i}")
        for g in "ab"
        for u in range(1, 5)
        for i in range(1, 5)
        if i != u
    ]
    inter = pl.DataFrame(rows, schema=["user_id", "item_id"], orient="row").with_columns(
        weight=pl.lit(1.0)
    )
    items = pl.DataFrame({"item_id": ["x1", "x2", "x3", "x4", "y1", "y2", "y3", "y4", "z"]})
    model = SparkALS(factors=4, regularization=0.01, iterations=10).fit(inter, items=items)
    recs = model.recommend(["a1", "b2"], k=1)
    # a1 lacks x1 (its group's item), b2 lacks y2
    assert recs.select("user_id", "item_id").to_dicts() == [
        {"user_id": "a1", "item_id": "x1"},
        {"user_id": "b2", "item_id": "y2"},
    ]
    # "z" is in the catalog but never seen in training: a zero vector, score 0
    z = list(model.items_).index("z")
    assert not model.item_factors_[z].any()
    assert model.user_factors_.shape == (8, 4)


def test_spark_refusals_read_in_the_readers_language_before_any_session_starts(
    tmp_path, monkeypatch
):
    # none of these needs Spark running: they are refused before a session is used
    from profiling.engines.spark import read_events
    from profiling.engines.spark_stream import stream_files
    from profiling.spark_session import SparkEngineError, spark_session

    with pytest.raises(DataValidationError) as raised:
        read_events(None, "events.xlsx")
    assert str(raised.value) == (
        "events.xlsx: the Spark engine reads Parquet (a file or a folder) and CSV/TSV with a "
        "header; found a file ending in '.xlsx'. Convert it, or use --engine polars"
    )
    with i18n.language("zh"):
        with pytest.raises(DataValidationError) as raised:
            read_events(None, "events.xlsx")
        assert str(raised.value) == (
            "events.xlsx：Spark 引擎读取 Parquet（文件或文件夹）和带表头的 CSV/TSV；"
            "实际文件的扩展名为 '.xlsx'。请转换格式，或使用 --engine polars"
        )
        with pytest.raises(SparkEngineError) as raised:
            stream_files(None, tmp_path, print, tmp_path / "checkpoint", fmt="xml")
        assert str(raised.value) == "数据流格式：应为 csv, parquet 之一，实际为 'xml'"
        with pytest.raises(SparkEngineError) as raised:
            stream_files(None, tmp_path / "incoming", print, tmp_path / "checkpoint")
        assert str(raised.value) == f"{tmp_path / 'incoming'}：要监视的文件夹不存在"
        monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if PySpark were missing
        with pytest.raises(SparkEngineError) as raised:
            spark_session()
        assert str(raised.value) == (
            "Spark 引擎需要 PySpark 和 Java 17+：pip install 'persona-studio[spark]'（在源码检出中"
            "为 pip install -r requirements-dev.txt）；实际：import of pyspark.sql halted; None "
            "in sys.modules"
        )
