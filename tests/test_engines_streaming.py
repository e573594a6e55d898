"""The polars streaming engine gives the in-memory profiles and the same cleaning counts."""

from __future__ import annotations

import argparse

import polars as pl
import pytest

from profiling.data.dataset import load_dataset, sample_paths
from profiling.engines.build import load_and_profile
from profiling.engines.streaming import build_streaming
from profiling.errors import DataValidationError, ProfilingError
from profiling.profiles.features import build_profiles
from profiling.vocabulary import i18n
from tests.test_engines_spark import assert_same_profiles


def test_sample_store_streaming_profiles_equal_the_in_memory_ones(tmp_path):
    p = sample_paths()
    files = (str(p["events"]), str(p["users"]), str(p["items"]))
    ds, profiles, cat = build_streaming(*files, scratch=tmp_path)
    assert "category affinity" in cat.computed
    assert_same_profiles(build_profiles(load_dataset(*files)), profiles)
    assert ds.summary()["users"] == 3000


def test_streaming_cleaning_counts_duplicates_after_missing_users_and_before_prices(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "user_id,item_id,event_type,timestamp,price,quantity\n"
        "u1,i1,purchase,2024-01-05 10:00:00,3,2\n"
        "u1,i1,purchase,2024-01-05 10:00:00,3,2\n"  # exact duplicate
        "u1,i2,purchase,2024-01-06 10:00:00,-4,1\n"  # negative price
        "u1,i2,purchase,2024-01-06 10:00:00,-4,1\n"  # its duplicate: counted as a duplicate
        ",i1,view,2024-01-07 10:00:00,,\n"  # no user
        ",i1,view,2024-01-07 10:00:00,,\n"  # no user, identical: counted as no user
        "u2,i1,view,2024-01-08 10:00:00,,\n"
    )
    ds, profiles, _ = build_streaming(str(log), scratch=tmp_path / "s")
    counts = {r.reason: r.count for r in ds.report.events.reasons}
    in_memory = {r.reason: r.count for r in load_dataset(str(log)).report.events.reasons}
    assert (
        counts
        == in_memory
        == {
            "missing user id": 2,
            "exact duplicate row": 2,
            "negative price or amount on a purchase": 1,
        }
    )
    # kept: u1's purchase (3 x 2 = 6.0) and u2's view
    assert ds.report.events.rows_kept == 2
    assert profiles.select("user_id", "monetary").to_dicts() == [
        {"user_id": "u1", "monetary": 6.0},
        {"user_id": "u2", "monetary": 0.0},
    ]
    assert pl.read_parquet(ds.events_path).height == 2


def test_a_log_the_streaming_engine_cannot_use_is_refused_in_the_readers_language(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(
        "user_id,item_id,event_type,timestamp\n"
        ",i1,view,2024-01-05 10:00:00\n"
        ",i2,view,2024-01-06 10:00:00\n"
    )
    with pytest.raises(DataValidationError) as raised:
        build_streaming(str(log), scratch=tmp_path / "s")
    assert str(raised.value) == "log.csv: no usable rows: all 2 rows were dropped"
    with i18n.language("zh"), pytest.raises(DataValidationError) as raised:
        build_streaming(str(log), scratch=tmp_path / "s2")
    assert str(raised.value) == "log.csv：没有可用的行：全部 2 行都被删除"
    log.write_text("user_id,item_id,event_type,timestamp\nu1,i1,view,2024-01-05 10:00:00\n")
    with i18n.language("zh"):  # the cleaning report's note is worded in the reader's language
        ds, _profiles, _catalog = build_streaming(str(log), scratch=tmp_path / "s3")
    assert ds.report.events.notes[-1] == (
        "用 polars 流式引擎清洗：通过原始行的两个 64 位哈希找出完全重复的行；没有示例行"
    )


def test_an_engine_other_than_polars_refuses_a_workspace_in_the_readers_language():
    def unread(args):
        raise AssertionError("refused before anything is read")

    args = argparse.Namespace(engine="streaming", workspace="shop", events=None)
    with pytest.raises(ProfilingError) as raised:
        load_and_profile(args, unread)
    assert str(raised.value) == (
        "--engine streaming reads files (an events path or URI), not a saved workspace; "
        "drop --workspace or use --engine polars"
    )
    with i18n.language("zh"), pytest.raises(ProfilingError) as raised:
        load_and_profile(args, unread)
    assert str(raised.value) == (
        "--engine streaming 读取的是文件（行为数据的路径或 URI），而不是已保存的工作区；"
        "请去掉 --workspace，或使用 --engine polars"
    )
    args = argparse.Namespace(engine="streaming", workspace=None, events=None)
    with i18n.language("zh"), pytest.raises(ProfilingError) as raised:
        load_and_profile(args, unread)
    assert str(raised.value) == "使用 --engine streaming 时请提供行为数据文件"
