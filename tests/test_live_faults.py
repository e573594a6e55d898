"""Faults of the live collector: a process killed at a named point, a workspace locked by
another process, a full disk. No accepted event is lost or counted twice; nothing is left
half-written."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from profiling import workspace as W
from profiling.workspace import collector as C
from profiling.workspace import faults

ROOT = Path(__file__).resolve().parent.parent
BASE = """user_id,item_id,event_type,timestamp,quantity,price
u1,i1,view,2024-01-01 10:00,1,5
u1,i1,purchase,2024-01-01 10:05,1,5
u2,i2,view,2024-01-02 11:00,1,3
u3,i2,purchase,2024-01-03 12:00,2,3
u4,i1,view,2024-01-04 09:00,1,5
"""
EVENTS = [
    {"user_id": "u1", "event": "view", "timestamp": "2024-01-05T10:00:00Z", "event_id": "e1"},
    {"user_id": "u9", "event": "view", "timestamp": "2024-01-05T11:00:00Z", "event_id": "e2"},
]
# One request accepted, then flushed: a child process does it with the fault armed
CHILD = """
import sys
from profiling import workspace as W
from profiling.workspace import collector as C
col = C.Collector(W.open_workspace("shop"), interval_s=3600)
key = sys.argv[1]
if sys.argv[2] == "accept":
    col.accept(key, EVENTS)
else:
    col.flush()
print("no fault was hit")
"""


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "base.csv").write_text(BASE)
    return W.create("Shop", str(tmp_path / "base.csv"))


def run_child(key: str, step: str, fault: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **{faults.ENV: fault})
    code = f"EVENTS = {EVENTS!r}\n{CHILD}"
    return subprocess.run(
        [sys.executable, "-c", code, key, step],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(ws) -> tuple[int, int]:
    """(events stored, events of u9): 5 + 2 and 1 when every accepted event counted once."""
    events = ws.dataset().events
    return events.height, events.filter(events["user_id"] == "u9").height


@pytest.mark.parametrize("fault", ["inbox-written", "before-commit", "after-commit"])
def test_a_process_killed_at_a_fault_point_loses_no_event_and_counts_none_twice(ws, fault):
    _kid, key = C.create_write_key(ws)
    collector = C.Collector(ws, interval_s=3600)
    if fault == "inbox-written":
        # the collector dies before answering: the sender never saw a 202 and retries
        done = run_child(key, "accept", fault)
        assert done.returncode == faults.EXIT_CODE, done.stderr
        restarted = C.Collector(ws, interval_s=3600)
        assert restarted.accept(key, EVENTS) == {"accepted": 2, "duplicates": 0}
        assert restarted.pending() == 2  # the request stored twice: once before the crash
    else:
        # the request was answered 202; the updater dies in the middle of its batch
        assert collector.accept(key, EVENTS) == {"accepted": 2, "duplicates": 0}
        done = run_child(key, "flush", fault)
        assert done.returncode == faults.EXIT_CODE, done.stderr
        restarted = C.Collector(ws, interval_s=3600)
        assert restarted.pending() == 1  # kept: the inbox goes only after a commit
    committed_before = ws.dataset().events.height
    assert committed_before == (5 + 2 if fault == "after-commit" else 5)
    rep = restarted.flush()
    assert counts(W.open_workspace("shop")) == (5 + 2, 1)
    assert rep["rows_new"] == (0 if fault == "after-commit" else 2)
    assert restarted.pending() == 0
    # the sender's retry after the restart is known by its ids: not stored again
    assert restarted.accept(key, EVENTS) == {"accepted": 0, "duplicates": 2}


def test_a_workspace_locked_by_another_process_answers_503_and_adds_nothing(ws):
    _kid, key = C.create_write_key(ws)
    collector = C.Collector(ws, interval_s=3600, lock_wait_s=0.2)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from profiling.workspace.lock import write_lock\n"
            "with write_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
            str(ws.path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with TestClient(C.create_app(collector)) as c:
            c.headers["Authorization"] = f"Bearer {key}"
            # taking events needs only the inbox: still accepted while the workspace is locked
            assert c.post("/v1/events", json=EVENTS).status_code == 202
            t0 = time.monotonic()
            r = c.post("/v1/flush")
            assert time.monotonic() - t0 < 5  # refused at once, not after the 60 s wait
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
            assert "busy" in r.json()["error"]
            assert collector.pending() == 1
            assert ws.dataset().events.height == 5
            assert not list((ws.path / "collector" / "scratch").iterdir())
    finally:
        holder.kill()
        holder.wait()
    assert collector.flush()["rows_new"] == 2
    assert counts(ws) == (5 + 2, 1)


def test_a_full_disk_while_recording_the_ids_answers_503_and_leaves_nothing_half(ws, monkeypatch):
    _kid, key = C.create_write_key(ws)
    collector = C.Collector(ws, interval_s=3600)
    assert collector.accept(key, EVENTS[:1]) == {"accepted": 1, "duplicates": 0}
    ids_before = collector.ids_file.read_bytes()
    real_fsync = os.fsync

    def full_at_the_ids(fd):
        # the id line was written to the page cache; the disk refuses it at the sync
        if os.readlink(f"/proc/self/fd/{fd}") == str(collector.ids_file):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    with TestClient(C.create_app(collector)) as c, monkeypatch.context() as m:
        c.headers["Authorization"] = f"Bearer {key}"
        m.setattr(os, "fsync", full_at_the_ids)
        r = c.post("/v1/events", json=EVENTS[1:])
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "No space left on device" in r.json()["error"]
    assert collector.ids_file.read_bytes() == ids_before  # no half line "e2" left behind
    assert len(list(collector.inbox.iterdir())) == 1  # the first request's file only
    assert collector.accept(key, EVENTS) == {"accepted": 1, "duplicates": 1}
    assert collector.flush()["rows_new"] == 2
    assert counts(ws) == (5 + 2, 1)


@pytest.mark.parametrize("where", ["check-", ".part"])
def test_a_full_disk_while_checking_or_writing_the_file_answers_503_and_leaves_no_file(
    ws, monkeypatch, where
):
    import polars as pl

    _kid, key = C.create_write_key(ws)
    collector = C.Collector(ws, interval_s=3600)
    real_write = pl.DataFrame.write_parquet

    def half_then_full(self, path, *a, **kw):
        if where not in Path(path).name:
            return real_write(self, path, *a, **kw)
        Path(path).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with monkeypatch.context() as m:
        m.setattr(pl.DataFrame, "write_parquet", half_then_full)
        with pytest.raises(C.Rejected, match="No space left on device") as err:
            collector.accept(key, EVENTS)
    assert err.value.status == 503
    assert list(collector.inbox.iterdir()) == []
    assert list(collector.scratch.iterdir()) == []
    assert not collector.ids_file.exists()
    assert collector.accept(key, EVENTS) == {"accepted": 2, "duplicates": 0}


def test_the_updater_process_exits_when_its_server_is_killed(ws):
    # the server starts its updater process and dies without stopping it (kill -9)
    code = (
        "import os\nfrom profiling import workspace as W\n"
        "from profiling.workspace import collector as C\n"
        "col = C.Collector(W.open_workspace('shop'), interval_s=0.2)\n"
        "col.start(process=True)\nprint(col._thread.pid, flush=True)\nos._exit(9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 9, done.stderr
    updater = int(done.stdout.split()[0])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(updater, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(updater, 9)
        pytest.fail("the updater process outlived its server")
