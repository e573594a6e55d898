"""Benchmark: `python -m profiling build` on large Parquet logs with each engine: polars in
memory, polars streaming, Spark local[2]; wall time and peak memory, measured in one run.

    .venv/bin/python bench/engines.py [--sizes 10000000,20000000,50000000] [--dir /tmp/engines]
                                      [--engines polars,streaming,spark] [--limit-gb 16]

Data: a synthetic event log per size N (events; users = N/50, items = 20,000), generated in
chunks of 1M rows with numpy (fixed seed) and written as Parquet row groups, so generating
never holds the log in memory: user_id, item_id, event_type (view 70%, cart 15%,
purchase 10%, refund 1%, wishlist 4%), timestamp (UTC, 180 days, to the second), price,
quantity, order_id (purchases), session_id. Written once per size and reused.

Each build is a fresh `python -m profiling build LOG --engine E --k 4 --out DIR` process
(`nice`), so the time includes start-up, reading, cleaning, profiles, tags, segments and
writing. Peak memory is the largest sum of the resident memory (RSS) of the process and
all its descendants (the JVM for Spark), sampled every 0.2 s from /proc; a build whose tree
passes ``--limit-gb`` is killed and reported as such, and one still running after
``--timeout-min`` minutes is stopped and reported as "timeout" with its last progress line
(how far it got). The load average at the end of each build is recorded. Results are printed as a Markdown
table with the ratios to the in-memory polars build and appended to DIR/results.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1_000_000
TYPES = np.array(["view", "cart", "purchase", "refund", "wishlist"])
TYPE_P = np.array([0.70, 0.15, 0.10, 0.01, 0.04])
START_US = 1_704_067_200_000_000  # 2024-01-01 UTC
SPAN_US = 180 * 86_400 * 1_000_000


def generate(n: int, path: Path, seed: int = 0) -> None:
    """Write an ``n``-event log to ``path`` in 1M-row row groups (see the module doc)."""
    rng = np.random.default_rng(seed)
    n_users = max(n // 50, 1)
    schema = pa.schema(
        [
            ("user_id", pa.string()),
            ("item_id", pa.string()),
            ("event_type", pa.string()),
            ("timestamp", pa.timestamp("us", "UTC")),
            ("price", pa.float64()),
            ("quantity", pa.int64()),
            ("order_id", pa.string()),
            ("session_id", pa.string()),
        ]
    )
    tmp = path.with_suffix(".part")
    with pq.ParquetWriter(tmp, schema, compression="snappy") as w:
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            users = rng.integers(0, n_users, m)
            items = rng.integers(0, 20_000, m)
            et = TYPES[rng.choice(len(TYPES), m, p=TYPE_P)]
            ts = START_US + rng.integers(0, SPAN_US, m)
            price = np.round(rng.gamma(2.0, 15.0, m), 2)
            qty = rng.integers(1, 4, m)
            buy = (et == "purchase") | (et == "refund")
            order = np.char.add("O", (start + np.arange(m)).astype(str))
            session = np.char.add("S", (ts // 3_600_000_000 * 7 + users).astype(str))
            w.write_table(
                pa.table(
                    {
                        "user_id": np.char.add("U", users.astype(str)),
                        "item_id": np.char.add("I", items.astype(str)),
                        "event_type": et,
                        "timestamp": pa.array(ts, pa.timestamp("us", "UTC")),
                        "price": price,
                        "quantity": pa.array(np.where(buy, qty, 0), mask=~buy),
                        "order_id": pa.array(order, mask=~buy),
                        "session_id": session,
                    },
                    schema=schema,
                )
            )
    tmp.rename(path)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and every descendant, MB (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(d))
            rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total / 2**20


def run_build(log: Path, engine: str, out: Path, limit_gb: float, timeout_s: float) -> dict:
    cmd = [
        "nice",
        "-n",
        "5",
        sys.executable,
        "-m",
        "profiling",
        "build",
        str(log),
        "--engine",
        engine,
        "--k",
        "4",
        "--out",
        str(out),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), PERSONA_SPARK_MASTER="local[2]")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    peak, killed = 0.0, None
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        if peak > limit_gb * 1024:
            killed = "killed"  # over the memory limit
        elif time.perf_counter() - t0 > timeout_s:
            killed = "timeout"
        if killed:
            os.killpg(proc.pid, 9)
            break
        time.sleep(0.2)
    _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    status = killed or ("ok" if proc.returncode == 0 else "failed")
    row = {
        "engine": engine,
        "status": status,
        "seconds": round(seconds, 1),
        "peak_mb": round(peak),
        "rc": proc.returncode,
        "load": _load(),
    }
    lines = err.decode(errors="replace").strip().splitlines()
    if status == "failed":
        row["error"] = lines[-1:]
    # how far it got: the build's last progress line ("[  12.3 s] spark: ...")
    progress = [x for x in lines if x.startswith("[")]
    if progress:
        row["last_step"] = progress[-1]
    return row


def _load() -> str:
    """The 1, 5 and 15 minute load averages at the end of a build."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000000,20000000,50000000")
    ap.add_argument("--engines", default="polars,streaming,spark")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/engines-bench"))
    ap.add_argument("--limit-gb", type=float, default=16.0)
    ap.add_argument(
        "--timeout-min",
        type=float,
        default=24.0,
        help="stop a build after this many minutes and record how far it got",
    )
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        log = args.dir / f"events_{n}.parquet"
        if not log.exists():
            t = time.perf_counter()
            generate(n, log)
            print(f"generated {n:,} events in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        size_mb = log.stat().st_size / 2**20
        for engine in args.engines.split(","):
            row = {"events": n, "file_mb": round(size_mb)} | run_build(
                log, engine, args.dir / f"out_{n}_{engine}", args.limit_gb, args.timeout_min * 60
            )
            print(json.dumps(row), file=sys.stderr)
            with open(args.dir / "results.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")
            rows.append(row)
    print(
        "| events | file MB | engine | status | time s | peak MB | time / polars | peak / polars "
        "| load at end | last step |"
    )
    print("|---:|---:|---|---|---:|---:|---:|---:|---|---|")
    for r in rows:
        base = next(
            (
                b
                for b in rows
                if b["events"] == r["events"] and b["engine"] == "polars" and b["status"] == "ok"
            ),
            None,
        )

        def ratio(key: str, r: dict = r, base: dict | None = base) -> str:
            return f"{r[key] / base[key]:.2f}" if base and r["status"] == "ok" else ""

        print(
            f"| {r['events']:,} | {r['file_mb']} | {r['engine']} | {r['status']} | "
            f"{r['seconds']} | {r['peak_mb']} | {ratio('seconds')} | {ratio('peak_mb')} | "
            f"{r['load']} | {r.get('last_step', '')} |"
        )


if __name__ == "__main__":
    main()
