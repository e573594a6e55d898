"""Live profiles in a workspace: an incremental add stores what a rebuild would."""

from __future__ import annotations

import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from profiling import workspace as W
from profiling.errors import WorkspaceError
from profiling.profiles.segments import rfm_segments
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S
from profiling.workspace import db, live, store
from profiling.workspace.store import compute_snapshot
from tests.test_live import assert_same_profiles, items_table, random_events


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def write(frame: pl.DataFrame, path) -> str:
    cols = [S.USER_ID, S.ITEM_ID, S.EVENT_TYPE, S.TIMESTAMP, S.QUANTITY, S.PRICE, S.ORDER_ID]
    frame.select(cols).write_csv(path)
    return str(path)


def test_an_incremental_add_stores_the_profiles_and_rfm_segments_of_a_rebuild(home, tmp_path):
    rng = random.Random(7)
    events = random_events(rng, 600, 40, sessions=False).with_columns(
        pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW})
    )
    events = events.sort(S.TIMESTAMP)
    first, later = events.head(450), events.tail(150)
    # the later batch also carries late events and repeats of the first batch's rows
    late = random_events(rng, 30, 40, sessions=False).with_columns(
        pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW})
    )
    later = pl.concat([later, late, first.head(10)])
    items = items_table()
    items.write_csv(tmp_path / "items.csv")
    ws = W.create("Live", write(first, tmp_path / "a.csv"), items=str(tmp_path / "items.csv"))
    before = ws.snapshot()
    steps = []
    report = live.add(ws, write(later, tmp_path / "b.csv"), on_progress=steps.append)
    assert report.rows_duplicate == 10
    assert not any(s.startswith("Rebuilding every profile") for s in steps), steps
    assert live.state_is_current(ws)
    snap = ws.snapshot()
    assert snap.snapshot_id == before.snapshot_id + 1
    want, _seg = compute_snapshot(ws.dataset())
    assert_same_profiles(snap.profiles, want)
    rfm = rfm_segments(want).sort(S.USER_ID)
    got = snap.assignments.sort(S.USER_ID)
    assert got["rfm_segment"].to_list() == rfm["rfm_segment"].to_list()
    # no re-clustering: the same clusters, every user in one of them
    assert set(got["cluster"].to_list()) <= set(before.assignments["cluster"].to_list())
    assert got["cluster_name"].null_count() == 0


def test_a_second_incremental_add_merges_into_the_stored_state(home, tmp_path):
    rng = random.Random(11)
    events = random_events(rng, 500, 30, sessions=False).sort(S.TIMESTAMP)
    events = events.with_columns(pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW}))
    parts = [events.slice(0, 300), events.slice(300, 100), events.slice(400, 100)]
    ws = W.create("Live2", write(parts[0], tmp_path / "p0.csv"))
    for k, part in enumerate(parts[1:], 1):
        live.add(ws, write(part, tmp_path / f"p{k}.csv"))
    assert_same_profiles(ws.snapshot().profiles, compute_snapshot(ws.dataset())[0])


def test_an_ordinary_add_makes_the_state_stale_and_the_next_incremental_add_rebuilds_it(
    home, tmp_path
):
    rng = random.Random(3)
    events = random_events(rng, 300, 20, sessions=False).sort(S.TIMESTAMP)
    events = events.with_columns(pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW}))
    ws = W.create("Live3", write(events.head(150), tmp_path / "a.csv"))
    live.add(ws, write(events.slice(150, 70), tmp_path / "b.csv"))
    ws.add(write(events.slice(220, 40), tmp_path / "c.csv"))
    assert not live.state_is_current(ws)
    steps = []
    live.add(ws, write(events.tail(40), tmp_path / "d.csv"), on_progress=steps.append)
    assert "Building the live state from every event (once)…" in steps
    assert_same_profiles(ws.snapshot().profiles, compute_snapshot(ws.dataset())[0])


def test_a_read_only_workspace_refuses_an_incremental_add_and_stays_unchanged(home, tmp_path):
    events = random_events(random.Random(5), 60, 8, sessions=False)
    ws = W.create("Frozen", write(events, tmp_path / "a.csv"), readonly=True)
    with pytest.raises(WorkspaceError, match="'frozen' is read-only"):
        live.add(ws, write(events, tmp_path / "b.csv"))
    assert ws.batches().height == 1


def test_an_incremental_add_of_rows_already_there_changes_no_profile(home, tmp_path):
    events = random_events(random.Random(9), 400, 30, sessions=False).sort(S.TIMESTAMP)
    events = events.with_columns(pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW}))
    ws = W.create("Again", write(events, tmp_path / "a.csv"))
    before = ws.snapshot().profiles
    steps = []
    rep = live.add(ws, write(events.head(25), tmp_path / "b.csv"), on_progress=steps.append)
    assert (rep.rows_new, rep.rows_duplicate) == (0, 25)
    assert not any(s.startswith("Rebuilding every profile") for s in steps), steps
    assert_same_profiles(ws.snapshot().profiles, before)


def test_arrivals_count_the_new_rows_of_todays_batches_and_time_the_last(home, tmp_path):
    from datetime import UTC, datetime, timedelta

    events = random_events(random.Random(2), 100, 10, sessions=False).sort(S.TIMESTAMP)
    ws = W.create("Arrivals", write(events.head(60), tmp_path / "a.csv"))
    live.add(ws, write(events.tail(40), tmp_path / "b.csv"))
    last = ws.batches()["added_at"].max()
    got = live.arrivals(ws, now=last + timedelta(seconds=7))
    assert got["seconds_ago"] == pytest.approx(7)
    assert got["events_today"] == 60 + 40
    tomorrow = (last + timedelta(days=1)).replace(hour=0, minute=0, tzinfo=UTC)
    assert live.arrivals(ws, now=tomorrow + timedelta(hours=1))["events_today"] == 0
    assert isinstance(got["last_added"], datetime)


def test_a_users_table_brought_by_an_incremental_add_reaches_every_profile(home, tmp_path):
    events = random_events(random.Random(6), 300, 12, sessions=False).sort(S.TIMESTAMP)
    events = events.with_columns(pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW}))
    ws = W.create("Attrs", write(events.head(200), tmp_path / "a.csv"))
    users = pl.DataFrame({S.USER_ID: [f"u{k}" for k in range(12)], "region": ["north"] * 12})
    users.write_csv(tmp_path / "users.csv")
    live.add(ws, write(events.tail(100), tmp_path / "b.csv"), users=str(tmp_path / "users.csv"))
    got = ws.snapshot().profiles
    assert set(got["region"].to_list()) == {"north"}
    assert_same_profiles(got, compute_snapshot(ws.dataset())[0])


def test_the_stored_state_after_incremental_adds_is_the_state_of_every_event(home, tmp_path):
    # the adds update only the rows at the batch's keys: what is stored must still be the
    # state a rebuild from every event computes, table by table
    from profiling.profiles import incremental as I
    from profiling.workspace import db

    rng = random.Random(5)
    events = random_events(rng, 400, 20, sessions=False).sort(S.TIMESTAMP)
    events = events.with_columns(pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW}))
    items_table().write_csv(tmp_path / "items.csv")
    ws = W.create(
        "Kept", write(events.head(250), tmp_path / "a.csv"), items=str(tmp_path / "items.csv")
    )
    late = random_events(rng, 20, 20, sessions=False).with_columns(
        pl.col(S.EVENT_TYPE).replace({S.RATE: S.VIEW})
    )
    live.add(ws, write(events.slice(250, 100), tmp_path / "b.csv"))
    live.add(ws, write(pl.concat([events.tail(50), late]), tmp_path / "c.csv"))
    ds = ws.dataset()
    want = I.state_from_events(ds.events, ds.items)
    with db.connect(ws.db_path) as con:
        for name, table in live.TABLES.items():
            stored = db.read(con, f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            expected = getattr(want, name)
            keys = list(I.KEYS.get(name, (S.CATEGORY, S.PRICE)))
            got = stored.select(expected.columns).sort(keys)
            if name == "users":
                # no rating: a merge leaves the spread empty where a rebuild sums nothing
                # to 0.0; the profiles read neither
                m2 = pl.when(pl.col("rating_n") > 0).then(pl.col("rating_m2")).alias("rating_m2")
                got, expected = got.with_columns(m2), expected.with_columns(m2)
            assert got.height == expected.height, name
            assert_frame_equal(
                got, expected.sort(keys), check_exact=False, rel_tol=1e-9, abs_tol=1e-9
            )


def test_a_read_only_workspace_refuses_live_events_in_the_readers_language(home, tmp_path):
    (tmp_path / "e.csv").write_text("user,item,when,qty,price\nu1,i1,2024-01-01 10:00,1,5\n")
    ws = W.create("Frozen", str(tmp_path / "e.csv"))
    with db.connect(ws.db_path) as con:  # as the built-in sample store is marked
        con.execute("UPDATE meta SET value = 'true' WHERE key = 'readonly'")
    store._META.clear()

    def message() -> str:
        with pytest.raises(WorkspaceError) as err:
            live.add(ws, str(tmp_path / "e.csv"))
        return str(err.value)

    assert message() == (
        "workspace 'frozen' is read-only (the built-in sample store); save your data as a "
        "workspace of its own to add batches"
    )
    with i18n.language("zh"):
        assert message() == (
            "工作区 'frozen' 为只读（内置示例商店）；请把您的数据另存为一个工作区后再添加批次"
        )
