"""Shared by the access tests: addresses, a tiny events file, a held DuckDB lock and a
truncated database (no dependency on the access code under test)."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import duckdb
import pytest

from profiling.workspace import store

ANN, BOB, EVE, DPO = "ann@example.com", "bob@example.com", "eve@example.com", "dpo@example.com"
EVENTS = "user,item,when,qty,price\n" + "\n".join(
    f"u{u},i{u % 3},2024-01-{1 + u % 27:02d} 10:00,1,{u + 1}" for u in range(12)
)


@contextlib.contextmanager
def hold_lock(path):
    """Another process holds the DuckDB file lock of ``path`` while the block runs."""
    code = "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(120)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ok"
        yield
    finally:
        proc.kill()
        proc.wait()


def truncate_db(ws) -> None:
    """Cut the database file so that DuckDB opens it but fails reading the meta table."""
    data = ws.db_path.read_bytes()
    ws.db_path.write_bytes(data[:300_000])
    store._META.clear()
    with pytest.raises(duckdb.IOException):  # the failure the issue saw, not a WorkspaceError
        ws.meta()
