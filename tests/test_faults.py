"""Faults: a process killed (SIGKILL) in the middle of a save loses nothing that was saved
before and leaves no half-written file visible after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from profiling import private
from profiling import workspace as W
from profiling.errors import WorkspaceError
from profiling.workspace.results import ResultStore

ROOT = Path(__file__).resolve().parent.parent
EVENTS = (
    "user_id,item_id,event_type,timestamp,price\n"
    "a,i1,purchase,2024-01-01 10:00:00,5.0\n"
    "b,i2,purchase,2024-01-02 10:00:00,7.0\n"
    "c,i1,view,2024-01-03 10:00:00,\n"
)


def _killed_at(where: str, args: list[str], home: Path) -> None:
    """Run ``python args`` until it reaches crash point ``where``, then SIGKILL it."""
    env = {**os.environ, "PERSONA_STUDIO_HOME": str(home), "PERSONA_STUDIO_CRASH_AT": where}
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout.readline().strip() == f"crash point {where} reached"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONA_STUDIO_HOME", str(tmp_path / "home"))
    (tmp_path / "e.csv").write_text(EVENTS)
    return tmp_path / "home"


def test_a_create_killed_mid_save_leaves_no_workspace_and_loses_none(home, tmp_path):
    kept = W.create("Kept", str(tmp_path / "e.csv"))
    kept_version = kept.data_version()
    _killed_at(
        "create",
        ["-m", "profiling", "workspace", "create", "Half made", str(tmp_path / "e.csv")],
        home,
    )
    # the killed save was writing inside a hidden temporary folder: not in the listing
    hidden = [p.name for p in (home / "workspaces").iterdir() if p.name.startswith(".")]
    assert len(hidden) == 1 and hidden[0].startswith(".half-made.")
    assert [w.slug for w in W.list_workspaces()] == ["kept"]
    with pytest.raises(WorkspaceError, match="no workspace named 'half-made'"):
        W.open_workspace("half-made")
    # "restart": startup removes the leftover once it is old; what was saved is intact
    assert private.remove_stale_temporaries(home / "workspaces", max_age_seconds=0) == hidden
    assert kept.data_version() == kept_version and kept.dataset().events.height == 3
    assert W.create("Half made", str(tmp_path / "e.csv")).dataset().events.height == 3


def test_a_result_killed_mid_write_keeps_the_previous_one_and_shows_no_half_file(home, tmp_path):
    results = tmp_path / "results"
    store = ResultStore(results)
    store.put(
        "model",
        {"k": 1},
        "v1",
        {"rows": list(range(1000))},
        data_end=datetime(2024, 1, 1),
        events=3,
    )
    code = (
        "from datetime import datetime; from profiling.workspace.results import ResultStore; "
        f"ResultStore({str(results)!r}).put('model', {{'k': 1}}, 'v2', "
        "{'rows': list(range(100000))}, data_end=datetime(2024, 2, 1), events=4)"
    )
    _killed_at("result", ["-c", code], home)
    folder = next((results / "model").iterdir())
    visible = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert visible == ["v1.json", "v1.pkl"]  # no v2 file, whole or half
    half = [p for p in folder.iterdir() if p.name.startswith(".v2.pkl.")]
    assert len(half) == 1 and half[0].stat().st_size > 0  # the half-written temporary
    assert store.get("model", {"k": 1}, "v2") is None
    assert store.get("model", {"k": 1}, "v1") == {"rows": list(range(1000))}
    assert store.latest("model", {"k": 1}).data_version == "v1"
    # "restart": startup removes the hidden leftover; the result can be written again
    gone = private.remove_stale_temporaries(results, max_age_seconds=0, recursive=True)
    assert gone == [half[0].name] and not half[0].exists()
    store.put("model", {"k": 1}, "v2", {"rows": [1]}, data_end=datetime(2024, 2, 1), events=4)
    assert store.get("model", {"k": 1}, "v2") == {"rows": [1]}


# A batch killed mid-transaction: tests/test_workspace.py::test_a_killed_refresh_leaves_the_previous_snapshot_intact


def test_a_worker_killed_mid_umap_is_reported_on_the_map_page_and_can_be_retried(
    clear_streamlit_caches, home, tmp_path
):
    import time

    from streamlit.testing.v1 import AppTest

    from profiling.data.dataset import sample_paths
    from ui import jobs as ui_jobs

    ev = pl.read_parquet(sample_paths()["events"])
    keep = ev["user_id"].unique().sort().head(150)
    ev.filter(pl.col("user_id").is_in(keep.implode())).write_parquet(tmp_path / "e.parquet")
    ws = W.create("Map fault shop", str(tmp_path / "e.parquet"))
    # a map worker left by another test may already be warm: this test needs its own
    ui_jobs.runtime().shutdown(wait=False, lanes=[ui_jobs.MAPS])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["ws"] = ws.slug
    at.run()  # starts the map worker (its UMAP warm-up)

    def workers() -> list[int]:
        return ui_jobs.runtime().worker_pids(ui_jobs.MAPS)

    try:
        for _ in range(600):
            if workers():
                break
            time.sleep(0.1)
        assert workers()
        for pid in workers():  # frozen: the UMAP job cannot finish before it is killed
            os.kill(pid, signal.SIGSTOP)
        at.switch_page("app_pages/map.py").run()  # UMAP is the default: its job is queued
        assert not at.exception
        for pid in workers():
            os.kill(pid, signal.SIGKILL)  # the worker dies with the UMAP job on it
        shown = ""
        for _ in range(60):
            at.run()
            shown = " ".join(e.value for e in at.error)
            if shown:
                break
            time.sleep(0.5)
        assert "UMAP could not draw this map: the worker process stopped" in shown
        assert "must be computed again" in shown
        assert any(b.label == "Try UMAP again" for b in at.button)
        assert any(e.type == "plotly_chart" for e in at.get("plotly_chart"))  # PCA is shown
    finally:
        ui_jobs.runtime().shutdown(wait=False, lanes=[ui_jobs.MAPS])
