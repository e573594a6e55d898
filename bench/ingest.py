"""Benchmark: reading and cleaning a large CSV event log with `profiling.data.ingest`, against a
straightforward pandas reading of the same file measured in the same run.

    .venv/bin/python bench/ingest.py [--events 2000000]

Both sides parse ids, event types, timestamps, quantities and prices, drop rows without a user
or a timestamp and drop exact duplicates; each runs in its own process so that peak memory
(max RSS) is its own. Prints wall time, peak memory and the ratio pandas / ours.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ours(path: str) -> dict:
    from profiling.data import ingest

    t = time.perf_counter()
    raw = ingest.read_table(path)
    res = ingest.clean_events(raw, ingest.infer_roles(raw))
    return {"seconds": time.perf_counter() - t, "rows": res.frame.height}


def pandas_baseline(path: str) -> dict:
    import pandas as pd

    t = time.perf_counter()
    df = pd.read_csv(path, dtype=str)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, errors="coerce", format="ISO8601")
    df["quantity"] = pd.to_numeric(df["quantity"], errors="coerce")
    df["price"] = pd.to_numeric(df["price"], errors="coerce")
    df["rating"] = pd.to_numeric(df["rating"], errors="coerce")
    df = df.dropna(subset=["user_id", "timestamp"]).drop_duplicates()
    buy = df["event_type"] == "purchase"
    df["amount"] = (df["price"] * df["quantity"].fillna(1)).where(buy)
    df = df.sort_values(["timestamp", "user_id"], kind="stable")
    return {"seconds": time.perf_counter() - t, "rows": len(df)}


def generate(n_events: int, path: str) -> dict:
    from profiling.data.sample import generate_store

    n_users = max(n_events // 20, 10)
    store = generate_store(n_users=n_users, n_items=max(n_users // 10, 50), n_events=n_events)
    store.events.write_csv(path)
    return {"rows": store.events.height}


def _child(kind: str, path: str) -> None:
    if kind.startswith("generate:"):
        out = generate(int(kind.split(":")[1]), path)
    else:
        out = {"ours": ours, "pandas": pandas_baseline}[kind](path)
    # a fresh interpreter per measurement (the parent stays small, so max RSS is the child's)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run(kind: str, path: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "events.csv")
        rows = run(f"generate:{args.events}", path)["rows"]
        size = Path(path).stat().st_size / 1e6
        print(f"events CSV from profiling.data.sample: {rows:,} rows, {size:,.0f} MB")
        a, b = run("ours", path), run("pandas", path)
    print(f"{'':<20}{'seconds':>10}{'peak MB':>10}{'rows kept':>12}")
    for name, r in (("profiling.data.ingest", a), ("pandas baseline", b)):
        print(f"{name:<20}{r['seconds']:>10.2f}{r['peak_mb']:>10.0f}{r['rows']:>12,}")
    print(
        f"speed ratio pandas / ours: {b['seconds'] / a['seconds']:.2f}x; "
        f"memory ratio: {b['peak_mb'] / a['peak_mb']:.2f}x"
    )


if __name__ == "__main__":
    main()
