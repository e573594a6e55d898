"""The polars streaming engine gives the in-memory profiles and the same cleaning counts."""

from __future__ import annotations

import polars as pl

from profiling.data.dataset import load_dataset, sample_paths
from profiling.engines.streaming import build_streaming
from profiling.profiles.features import build_profiles
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
