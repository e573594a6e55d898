"""Workspaces: refresh arithmetic, snapshots, migration, crash safety, bad files, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from profiling import workspace as W
from profiling.cli import main
from profiling.errors import ProfilingError, WorkspaceError
from profiling.workspace import migration as M
from profiling.workspace import results as results_module
from profiling.workspace import store
from profiling.workspace.results import ResultStore
from tests.conftest import raised_in_both

ROOT = Path(__file__).resolve().parent.parent

BATCH_1 = """user,item,when,qty,price
u1,i1,2024-01-01 10:00,1,5
u1,i2,2024-01-02 10:00,2,3
u2,i1,2024-01-03 11:00,1,5
u2,i1,2024-01-03 11:00,1,5
"""
# two rows repeat batch 1, one has no user, one repeats itself, u3 is new
BATCH_2 = """user,item,when,qty,price
u2,i1,2024-01-03 11:00,1,5
u1,i2,2024-01-02 10:00,2,3
u3,i2,2024-02-01 09:00,1,3
u1,i1,2024-02-02 09:00,1,5
u1,i1,2024-02-02 09:00,1,5
,i1,2024-02-02 09:00,1,5
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def batches(tmp_path):
    b1, b2 = tmp_path / "b1.csv", tmp_path / "b2.csv"
    b1.write_text(BATCH_1)
    b2.write_text(BATCH_2)
    return b1, b2


def test_a_workspace_keeps_the_cleaned_data_and_a_first_snapshot(home, batches):
    ws = W.create("My Shop", batches[0])
    assert ws.slug == "my-shop"
    assert ws.path == home / "workspaces" / "my-shop"
    s = ws.summary()
    # 4 rows read, the exact duplicate of u2's row dropped
    assert (s["users"], s["items"], s["events"]) == (2, 2, 3)
    assert [sn["as_of"] for sn in s["snapshots"]] == ["2024-01-03T11:00:00+00:00"]
    ds = ws.dataset()
    assert ds.events["amount"].sum() == 5 + 2 * 3 + 5
    assert ds.report.events.rows_read == 4 and ds.report.events.rows_kept == 3
    assert list((ws.path / "sources").iterdir())[0].suffix == ".csv"


def test_adding_a_batch_counts_new_rows_duplicates_and_drops_by_hand(home, batches):
    ws = W.create("My Shop", batches[0])
    first_version = ws.data_version()
    rep = ws.add(batches[1])
    # 6 read; dropped: 1 missing user + 1 exact duplicate inside the batch; of the 4 kept,
    # 2 repeat batch 1 -> 2 new rows; u3 appears only in the new batch
    assert (rep.rows_read, rep.rows_dropped, rep.rows_duplicate, rep.rows_new) == (6, 2, 2, 2)
    assert rep.new_users == 1
    assert rep.dropped_by_reason == {"missing user id": 1, "exact duplicate row": 1}
    assert ws.data_version() != first_version
    ds = ws.dataset()
    assert ds.events.height == 3 + 2
    assert sorted(ds.events["user_id"].unique()) == ["u1", "u2", "u3"]
    # the merged report: 10 rows read, 1 + 2 dropped by cleaning, 2 repeats of batch 1
    assert ds.report.events.rows_read == 10
    assert ds.report.events.rows_kept == 5
    assert ds.report.events.count(W.store.CROSS_BATCH_DUPLICATE) == 2
    snaps = ws.snapshots()
    assert snaps["snapshot_id"].to_list() == [1, 2]
    assert snaps["users"].to_list() == [2, 3]
    assert snaps["events"].to_list() == [3, 5]
    assert ws.snapshot(2).as_of == datetime(2024, 2, 2, 9, tzinfo=UTC)
    # the earlier snapshot stays as it was
    old = ws.snapshot(1)
    assert old.profiles.height == 2 and old.as_of == datetime(2024, 1, 3, 11, tzinfo=UTC)
    history = ws.assignments_history("u1")
    assert history["snapshot_id"].to_list() == [1, 2]


def test_adding_the_same_file_again_adds_nothing(home, batches):
    ws = W.create("Again", batches[0])
    rep = ws.add(batches[0])
    assert (rep.rows_new, rep.rows_duplicate, rep.new_users) == (0, 3, 0)
    assert ws.dataset().events.height == 3


def test_new_rows_match_repeated_rows_as_multisets():
    old = pl.DataFrame({"a": ["x", "x", "y", None]})
    new = pl.DataFrame({"a": ["x", "x", "x", "y", None, None, "z"]})
    # x: 3 new copies - 2 old = 1; y: 1 - 1 = 0; null: 2 - 1 = 1; z: 1
    fresh = W.new_rows(old, new)["a"].to_list()
    assert sorted(fresh, key=str) == [None, "x", "z"]


def test_the_sample_store_is_a_read_only_workspace(home, batches):
    ws = W.ensure_sample()
    assert ws.slug == W.SAMPLE_SLUG and ws.readonly
    with pytest.raises(WorkspaceError, match="read-only"):
        ws.add(batches[0])
    with pytest.raises(WorkspaceError, match="cannot be deleted"):
        W.delete("sample")


def test_names_become_slugs_and_clashes_are_refused(home, batches):
    assert W.slugify("Online Retail II (2010)") == "online-retail-ii-2010"
    assert W.slugify("Café ünïcode") == "cafe-unicode"
    with pytest.raises(WorkspaceError, match="at least one letter or digit"):
        W.slugify("%%%")
    W.create("Shop", batches[0])
    with pytest.raises(WorkspaceError, match="already exists"):
        W.create("shop", batches[0])
    with pytest.raises(WorkspaceError, match="no workspace named 'other'"):
        W.open_workspace("other")


def test_deleting_a_workspace_removes_every_file(home, batches):
    ws = W.create("Gone", batches[0])
    ResultStore(ws.results_dir).put(
        "model", {"a": 1}, ws.data_version(), [1], data_end=datetime.now(UTC), events=3
    )
    W.delete("gone")
    assert not ws.path.exists()
    assert list((home / "workspaces").iterdir()) == []


def test_a_result_saved_after_its_workspace_was_deleted_does_not_bring_it_back(
    home, batches, monkeypatch
):
    """A background job that finishes after the delete (checked before pickling, deleted
    while pickling) must not recreate the folder: a new workspace of that name must work."""
    ws = W.create("Gone", batches[0])
    store = ResultStore(ws.results_dir)
    real_dumps = results_module.pickle.dumps

    def dumps_then_delete(obj, protocol=None):
        W.delete("gone")  # the workspace disappears between the check and the write
        return real_dumps(obj, protocol)

    monkeypatch.setattr(results_module.pickle, "dumps", dumps_then_delete)
    store.put("model", {"a": 1}, "v1", [1], data_end=datetime.now(UTC), events=3)
    monkeypatch.undo()
    assert not ws.path.exists()
    assert W.create("Gone", batches[0]).slug == "gone"


def test_a_corrupt_or_foreign_database_file_is_named_in_the_error(home, batches):
    import duckdb

    ws = W.create("Broken", batches[0])
    ws.db_path.write_bytes(b"this is not a database at all")
    with pytest.raises(WorkspaceError, match=r"workspace\.duckdb: expected a DuckDB database"):
        ws.dataset()
    foreign = W.Workspace(home / "workspaces" / "foreign")
    foreign.path.mkdir()
    con = duckdb.connect(str(foreign.db_path))
    con.execute("CREATE TABLE t (a INTEGER)")
    con.close()
    with pytest.raises(WorkspaceError, match="not a Persona Studio workspace"):
        foreign.meta()


def test_a_killed_refresh_leaves_the_previous_snapshot_intact(home, batches):
    W.create("Crash", batches[0])
    env = {**os.environ, "PERSONA_STUDIO_HOME": str(home), "PERSONA_STUDIO_CRASH_AT": "add"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "profiling", "workspace", "add", "crash", str(batches[1])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # printed inside the transaction, after the writes
        assert line.strip() == "crash point add reached"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    ws = W.open_workspace("crash")
    assert ws.batches()["batch_id"].to_list() == [1]
    assert ws.snapshots()["snapshot_id"].to_list() == [1]
    assert ws.dataset().events.height == 3
    # and the workspace still takes the batch afterwards
    assert ws.add(batches[1]).rows_new == 2


def test_saved_results_are_found_by_data_version_and_the_latest_is_known(tmp_path):
    store = ResultStore(tmp_path)
    assert store.get("cmp", {"k": 10}, "v1") is None
    store.put("cmp", {"k": 10}, "v1", {"ndcg": 0.1}, data_end=datetime(2024, 1, 1), events=5)
    assert store.get("cmp", {"k": 10}, "v1") == {"ndcg": 0.1}
    assert store.get("cmp", {"k": 10}, "v2") is None
    assert store.get("cmp", {"k": 5}, "v1") is None
    info = store.latest("cmp", {"k": 10})
    assert (info.data_version, info.events, info.data_end) == ("v1", 5, "2024-01-01T00:00:00")


# ---- migration -------------------------------------------------------------------------------
def _ts(day: int) -> datetime:
    return datetime(2024, 1, day, tzinfo=UTC)


def test_a_migration_matrix_worked_out_by_hand():
    before = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "rfm_segment": ["Champions", "Champions", "Loyal", "At risk"],
        }
    )
    after = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d", "e"],
            "rfm_segment": ["Champions", "At risk", "At risk", "Lost", "New"],
        }
    )
    events = pl.DataFrame(
        {
            "user_id": ["a", "b", "b", "c", "d", "e", "a"],
            "event_type": [
                "purchase",
                "purchase",
                "refund",
                "purchase",
                "view",
                "purchase",
                "purchase",
            ],
            "timestamp": [_ts(2), _ts(3), _ts(4), _ts(5), _ts(6), _ts(20), _ts(21)],
            "amount": [100.0, 50.0, -10.0, 30.0, None, 7.0, 1.0],
        }
    )
    mig = M.migrate(
        before, after, "rfm_segment", events=events, before_date=_ts(10), after_date=_ts(25)
    )
    flows = {
        (r["from_segment"], r["to_segment"]): (r["users"], r["revenue_12m"])
        for r in mig.flows.iter_rows(named=True)
    }
    assert flows == {
        ("Champions", "Champions"): (1, 100.0),  # a
        ("Champions", "At risk"): (1, 50.0 - 10.0),  # b, net of the refund
        ("Loyal", "At risk"): (1, 30.0),  # c
        ("At risk", "Lost"): (1, 0.0),  # d only viewed
        (M.NEW, "New"): (1, 0.0),  # e's purchase came after the earlier date
    }
    assert mig.new_users == 1
    # active in the 90 days up to day 10 and silent since: b, c, d (a bought on day 21)
    assert mig.inactive_users == 3
    assert mig.moved()["from_segment"].to_list()[0] == "Champions"  # £40 at stake first
    m = mig.matrix()
    assert m.filter(pl.col("from_segment") == "Champions")["At risk"].item() == 1
    assert m.filter(pl.col("from_segment") == "Loyal")["Champions"].item() == 0


def test_later_clusters_are_matched_to_the_nearest_earlier_centroid():
    prof_a = pl.DataFrame({"user_id": list("abcdef"), "x": [0.0, 0.1, 0.2, 10.0, 10.1, 10.2]})
    assign_a = pl.DataFrame(
        {
            "user_id": list("abcdef"),
            "cluster": [0, 0, 0, 1, 1, 1],
            "cluster_name": ["Low"] * 3 + ["High"] * 3,
        }
    )
    # at the later date the fitted labels are swapped and a third group appears
    prof_b = pl.DataFrame(
        {"user_id": list("abcdefg"), "x": [0.0, 0.1, 0.2, 10.0, 10.1, 10.2, 50.0]}
    )
    assign_b = pl.DataFrame(
        {
            "user_id": list("abcdefg"),
            "cluster": [1, 1, 1, 0, 0, 0, 2],
            "cluster_name": ["B1"] * 3 + ["B0"] * 3 + ["Far"],
        }
    )
    matched = M.match_clusters(prof_a, assign_a, prof_b, assign_b, ["x"])
    assert matched == {1: "Low", 0: "High", 2: "Far (new)"}


# ---- CLI -------------------------------------------------------------------------------------
def test_the_workspace_cli_creates_adds_shows_lists_and_deletes(home, batches, capsys):
    assert main(["workspace", "create", "Cli Shop", str(batches[0])]) == 0
    assert main(["workspace", "add", "cli-shop", str(batches[1])]) == 0
    out = capsys.readouterr().out
    assert "2 new, 2 already in the workspace, 2 dropped" in out
    assert main(["workspace", "show", "cli-shop", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["name"], shown["slug"], shown["users"], shown["items"], shown["events"]) == (
        "Cli Shop",
        "cli-shop",
        3,
        2,
        5,
    )
    assert [(s["users"], s["events"]) for s in shown["snapshots"]] == [(2, 3), (3, 5)]
    assert main(["workspace", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["slug"] for r in listed] == ["cli-shop"]
    assert main(["workspace", "delete", "cli-shop"]) == 0
    assert main(["workspace", "show", "cli-shop"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no workspace named 'cli-shop'")


def test_build_and_evaluate_read_a_workspace(home, tmp_path):
    rows = ["user,item,when,qty,price"] + [
        f"u{u},i{(u * d) % 7},2024-01-{d:02d} 1{u % 10}:00,1,{u + d}"
        for u in range(30)
        for d in range(1, 1 + u % 5 + 1)
    ]
    log = tmp_path / "log.csv"
    log.write_text("\n".join(rows) + "\n")
    assert main(["workspace", "create", "Thirty", str(log)]) == 0
    assert main(["build", "--workspace", "thirty", "--out", str(tmp_path / "b")]) == 0
    assert pl.read_parquet(tmp_path / "b" / "profiles.parquet").height == 30
    out = tmp_path / "e"
    assert (
        main(["evaluate", "--workspace", "thirty", "--models", "popularity", "--out", str(out)])
        == 0
    )
    assert json.loads((out / "report.json").read_text())["dataset"]["name"] == "Thirty"


def test_build_needs_a_file_or_a_workspace(home, capsys):
    assert main(["build", "--out", str(home / "o")]) == 2
    assert "give an events file, or --workspace NAME" in capsys.readouterr().err


def test_readers_during_a_refresh_see_the_old_or_the_new_data_never_a_mix(home, batches):
    import threading

    ws = W.create("Busy", batches[0])
    v1 = ws.data_version()
    seen, errors = set(), []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                ds = ws.dataset()
                snap = ws.snapshot()
                seen.add((ds.fingerprint, ds.events.height))
                # the latest snapshot never belongs to data newer than what a later read sees
                assert snap.data_version in {v1, ds.fingerprint} or snap.snapshot_id == 2
            except Exception as exc:  # noqa: BLE001 (collected and reported below)
                errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    ws.add(batches[1])
    v2 = ws.data_version()
    import time

    time.sleep(0.3)
    done.set()
    for t in readers:
        t.join()
    assert not errors
    assert seen <= {(v1, 3), (v2, 5)}  # 3 events before the batch, 5 after; nothing between
    assert (v2, 5) in seen or (v1, 3) in seen
    with pytest.raises(W.store.WorkspaceChanged, match="was updated while it was being opened"):
        ws.dataset(expect_version=v1)


def test_a_result_that_cannot_be_pickled_is_not_saved_and_does_not_fail(tmp_path):
    store = ResultStore(tmp_path / "results")
    (tmp_path / "results").mkdir()
    store.put("model", {"a": 1}, "v1", lambda: 1, data_end=datetime(2024, 1, 1), events=1)
    assert store.get("model", {"a": 1}, "v1") is None
    assert store.latest("model", {"a": 1}) is None


def test_meta_is_read_once_per_change_of_the_file(tmp_path, monkeypatch):
    import duckdb

    from profiling.workspace import db

    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    log = tmp_path / "log.csv"
    log.write_text("user,item,when\nu1,i1,2024-01-01\n")
    ws = W.create("Meta shop", log)
    opened = []
    real = db.connect

    def counting(path, **kw):
        opened.append(path)
        return real(path, **kw)

    monkeypatch.setattr(db, "connect", counting)
    assert [ws.meta()["name"] for _ in range(5)] == ["Meta shop"] * 5
    assert len(opened) <= 1  # read once (or zero times: cached when the workspace was made)
    # another process renames it: the file changes on disk, so the next read sees it
    con = duckdb.connect(str(ws.db_path))
    con.execute("UPDATE meta SET value = 'Renamed' WHERE key = 'name'")
    con.close()
    assert ws.meta()["name"] == "Renamed"


# ---- in the reader's language (issue 28) -----------------------------------------------------
def _english_and_chinese(call, kind=WorkspaceError) -> tuple[str, str]:
    return raised_in_both(call, kind)


def test_workspace_errors_read_in_the_readers_language(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    f = tmp_path / "log.csv"
    f.write_text("user,item,when,qty,price\nu1,i1,2024-01-01 10:00,1,5\n")
    ws = W.create("Lang Shop", f)
    assert _english_and_chinese(lambda: W.create("Lang Shop", f)) == (
        "a workspace named 'lang-shop' already exists; choose another name, or add the files "
        "to it as a new batch",
        "名为 'lang-shop' 的工作区已存在；请换一个名称，或把这些文件作为新批次添加到该工作区",
    )
    assert _english_and_chinese(lambda: W.create("!!!", f)) == (
        "a workspace name needs at least one letter or digit; got '!!!' instead",
        "工作区名称至少需要一个字母或数字，实际为 '!!!'",
    )
    folder = store.workspaces_dir()
    assert _english_and_chinese(lambda: W.open_workspace("nope")) == (
        f"no workspace named 'nope' in {folder}; workspaces: lang-shop",
        f"{folder} 中没有名为 'nope' 的工作区；现有工作区：lang-shop",
    )
    assert _english_and_chinese(lambda: ws.set_setting("colour", "red")) == (
        "workspace setting: expected one of currency, segment_scheme, got 'colour'",
        "工作区设置：应为 currency, segment_scheme 之一，实际为 'colour'",
    )


def test_a_migration_between_dates_in_the_wrong_order_says_so_in_chinese():
    a = pl.DataFrame({"user_id": ["a"], "rfm_segment": ["Loyal"]})
    ev = pl.DataFrame(
        schema={
            "user_id": pl.String,
            "event_type": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "amount": pl.Float64,
        }
    )
    assert _english_and_chinese(
        lambda: M.migrate(a, a, "rfm_segment", events=ev, before_date=_ts(9), after_date=_ts(5)),
        ProfilingError,
    ) == (
        "the earlier date must come before the later one; got 2024-01-09 and 2024-01-05",
        "较早的日期必须在较晚的日期之前，实际为 2024-01-09 和 2024-01-05",
    )
    with pytest.raises(ProfilingError, match="earlier date must come before"):  # one date twice
        M.migrate(a, a, "rfm_segment", events=ev, before_date=_ts(5), after_date=_ts(5))
    later = a.rename({"rfm_segment": "cluster_name"})
    assert _english_and_chinese(
        lambda: M.migrate(
            a, later, "rfm_segment", events=ev, before_date=_ts(5), after_date=_ts(9)
        ),
        ProfilingError,
    ) == (
        "the later assignments have no column 'rfm_segment'",
        "较晚日期的分群结果没有列 'rfm_segment'",
    )
