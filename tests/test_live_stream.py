"""Spark Structured Streaming into a workspace: files arriving in a folder update the live
profiles exactly as a rebuild from every event would."""

from __future__ import annotations

import math

import polars as pl
import pytest

from profiling import workspace as W
from profiling.cli import main
from profiling.workspace import live
from profiling.workspace.stream import stream_into

pytestmark = pytest.mark.spark

HEADER = "user_id,item_id,event_type,timestamp,quantity,price\n"
BASE = """u1,i1,view,2024-01-01 10:00,1,5
u1,i1,purchase,2024-01-01 10:05,1,5
u2,i2,view,2024-01-02 11:00,1,3
u3,i2,purchase,2024-01-03 12:00,2,3
u4,i1,view,2024-01-04 09:00,1,5
u5,i3,purchase,2024-01-04 20:00,1,9
u6,i3,view,2024-01-05 08:00,1,9
"""
# u1 comes back, u7 is new; the second file has a late event of u2 (before its last one)
FIRST = """u1,i2,purchase,2024-01-06 10:00,3,3
u7,i1,view,2024-01-06 12:00,1,5
"""
SECOND = """u2,i1,cart,2024-01-02 10:50,1,5
u7,i3,purchase,2024-01-07 09:30,1,9
u3,i3,view,2024-01-07 18:00,1,9
"""


def assert_same_profiles(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.columns == b.columns
    assert a["user_id"].to_list() == b["user_id"].to_list()
    for c in a.columns:
        if a[c].dtype.is_float():
            for x, y in zip(a[c].to_list(), b[c].to_list(), strict=True):
                assert (x is None and y is None) or math.isclose(x, y, abs_tol=1e-9), (c, x, y)
        else:
            assert a[c].to_list() == b[c].to_list(), c


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "base.csv").write_text(HEADER + BASE)
    ws = W.create("Shop", str(tmp_path / "base.csv"))
    live.build_state(ws)
    watch = tmp_path / "incoming"
    watch.mkdir()
    return ws, watch


def arrive(watch, name: str, rows: str) -> None:
    """Written under a hidden name, then renamed: the stream never sees half a file."""
    (watch / f".{name}").write_text(HEADER + rows)
    (watch / f".{name}").rename(watch / name)


def test_two_files_streamed_give_the_profiles_of_a_rebuild_from_every_event(spark, shop, tmp_path):
    ws, watch = shop
    arrive(watch, "a.csv", FIRST)
    (first,) = stream_into(ws, watch, once=True, spark=spark)
    assert (first.rows_new, first.new_users) == (2, 1)
    arrive(watch, "b.csv", SECOND)
    # a restart: the checkpoint says a.csv was taken, so only b.csv is read
    (second,) = stream_into(ws, watch, once=True, spark=spark)
    assert (second.rows_new, second.rows_duplicate, second.new_users) == (3, 0, 0)
    assert live.state_is_current(ws)  # the incremental path ran, not the fallback rebuild
    assert ws.dataset().events.height == 7 + 2 + 3

    (tmp_path / "all.csv").write_text(HEADER + BASE + FIRST + SECOND)
    rebuilt = W.create("Rebuilt", str(tmp_path / "all.csv")).snapshot().profiles
    streamed = ws.snapshot().profiles
    assert_same_profiles(streamed, rebuilt)
    u7 = streamed.filter(pl.col("user_id") == "u7")
    assert (u7["n_events"][0], u7["monetary"][0]) == (2, 9.0)


def test_nothing_new_in_the_folder_adds_no_batch(spark, shop):
    ws, watch = shop
    arrive(watch, "a.csv", FIRST)
    stream_into(ws, watch, once=True, spark=spark)
    batches = ws.dataset().events.height
    assert stream_into(ws, watch, once=True, spark=spark) == []
    assert ws.dataset().events.height == batches


def test_the_cli_streams_a_folder_once_and_names_a_missing_folder(spark, shop, capsys):
    ws, watch = shop
    arrive(watch, "a.csv", FIRST)
    code = main(["stream-events", "shop", "--engine", "spark", "--watch", str(watch), "--once"])
    assert code == 0
    assert "batch 0: 2 new events" in capsys.readouterr().err
    assert ws.dataset().events.height == 7 + 2
    code = main(["stream-events", "shop", "--watch", str(watch / "nope"), "--once"])
    assert code == 2
    assert "the folder to watch does not exist" in capsys.readouterr().err


def test_a_batch_that_fails_is_not_committed_and_is_read_again_at_the_next_start(
    spark, shop, tmp_path
):
    from profiling.engines.spark_stream import stream_files
    from profiling.errors import WorkspaceError

    _ws, watch = shop
    arrive(watch, "a.csv", FIRST)
    checkpoint = tmp_path / "checkpoint"

    def dies(events, batch_id):
        raise WorkspaceError("the disk is full")

    with pytest.raises(WorkspaceError, match="the disk is full"):
        stream_files(spark, watch, dies, checkpoint, once=True)
    seen = []
    assert stream_files(spark, watch, lambda e, b: seen.append(e), checkpoint, once=True) == 1
    (events,) = seen
    assert sorted(events["user_id"].to_list()) == ["u1", "u7"]
