"""The real exports in ../shared/data are mapped without help and their counts match the
facts documented in ../shared/data/README.md."""

from __future__ import annotations

import polars as pl
import pytest

from profiling.data import ingest
from profiling.data.dataset import load_dataset
from profiling.vocabulary import schema as S
from tests.conftest import shared_file

pytestmark = pytest.mark.slow


def test_cdnow_master_is_mapped_and_every_purchase_is_kept():
    ds = load_dataset(shared_file("cdnow", "CDNOW_master.txt"))
    rep = ds.report.events
    assert rep.read.delimiter == "whitespace" and rep.read.has_header
    assert rep.mapping == {
        "customer_id": S.USER_ID,
        "date": S.TIMESTAMP,
        "number_of_cds": S.QUANTITY,
        "dollar_value": S.AMOUNT,
    }
    assert rep.rows_read == rep.rows_kept == 69_659
    ev = ds.events
    assert ev[S.USER_ID].n_unique() == 23_570
    assert ev[S.QUANTITY].sum() == 167_881
    assert ev[S.AMOUNT].sum() == pytest.approx(2_500_315.63, abs=0.005)
    assert rep.count(ingest.ZERO_PRICE) == 80
    assert ev[S.TIMESTAMP].min().date().isoformat() == "1997-01-01"
    assert ev[S.TIMESTAMP].max().date().isoformat() == "1998-06-30"
    repeaters = (
        ev.group_by(S.USER_ID)
        .agg(pl.col(S.TIMESTAMP).n_unique().alias("days"))
        .filter(pl.col("days") > 1)
        .height
    )
    assert repeaters == 11_516
    assert rep.date_only  # the log has dates only: no hour features from midnight


def test_cdnow_one_time_buyers_score_f1_and_the_oldest_are_lost():
    from profiling.profiles.features import build_profiles
    from profiling.profiles.segments import rfm_segments

    ds = load_dataset(shared_file("cdnow", "CDNOW_master.txt"))
    rfm = rfm_segments(build_profiles(ds))
    # without order ids an order is a purchase day: 23,570 buyers - 11,516 repeaters bought
    # on one day only, more than half of them, and that tied group scores F 1
    assert rfm.filter(pl.col("f_score") == 1).height == 23_570 - 11_516
    assert rfm.filter(pl.col("rfm_segment") == "Lost").height > 0


def test_the_headerless_cdnow_sample_is_mapped_from_content():
    ds = load_dataset(shared_file("cdnow", "CDNOW_sample.txt"))
    rep = ds.report.events
    assert not rep.read.has_header
    assert rep.mapping["column_1"] == S.USER_ID
    assert rep.mapping["column_3"] == S.TIMESTAMP
    assert rep.mapping["column_5"] == S.AMOUNT
    assert rep.rows_kept == 6_919
    assert ds.events[S.USER_ID].n_unique() == 2_357


def test_online_retail_ii_is_mapped_with_refunds_kept_and_drops_counted():
    ds = load_dataset(
        shared_file("online_retail_ii_2009_2010", "online_retail_ii_2009_2010.parquet")
    )
    rep = ds.report.events
    assert rep.mapping["Customer ID"] == S.USER_ID
    assert rep.mapping["StockCode"] == S.ITEM_ID
    assert rep.mapping["InvoiceDate"] == S.TIMESTAMP
    assert rep.mapping["Price"] == S.PRICE
    assert rep.mapping["Invoice"] == S.ORDER_ID
    assert rep.rows_read == 525_461
    assert rep.count(ingest.MISSING_USER) == 107_927
    assert rep.rows_read == rep.rows_kept + rep.rows_dropped
    ev = ds.events
    assert ev[S.USER_ID].n_unique() == 4_383
    # every cancellation invoice with a customer is a refund, and refunds carry negative money
    refunds = ev.filter(pl.col(S.EVENT_TYPE) == S.REFUND)
    assert refunds.height == rep.count(ingest.REFUND)
    assert refunds[S.ORDER_ID].str.starts_with("C").all()
    assert (refunds[S.AMOUNT] <= 0).all()
    assert ev[S.USER_ID].str.contains(r"\.").sum() == 0  # 13085.0 became "13085"
    assert not rep.date_only
    assert ds.items is not None and ds.items[S.TITLE].null_count() < ds.items.height
