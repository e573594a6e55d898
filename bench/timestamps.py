"""Benchmark: parsing timestamp strings with `profiling.data.ingest.timestamps.parse_timestamp`
(vectorized polars) in three shapes, against pandas on the same strings in the same run.

    .venv/bin/python bench/timestamps.py [--rows 500000]

Shapes: plain ISO ("2019-10-01 08:00:00", the path taken before this change), a zone
suffix ("2019-10-01 08:00:00 UTC", read through the canonical-text formats), and a column
mixing four formats row by row (ISO with offset, zone suffix, month/day/year, Chinese).
pandas gets ``to_datetime(utc=True, format="mixed")`` (it cannot read the Chinese rows).
Prints seconds per shape, rows parsed, and the ratio pandas / ours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import polars as pl

from profiling.data.ingest.timestamps import parse_timestamp


def shapes(n: int) -> dict[str, list[str]]:
    base = dt.datetime(2019, 10, 1)
    times = [base + dt.timedelta(minutes=7 * i) for i in range(n)]
    mixed = []
    for i, t in enumerate(times):
        k = i % 4
        if k == 0:
            mixed.append(t.strftime("%Y-%m-%dT%H:%M:%S+08:00"))
        elif k == 1:
            mixed.append(t.strftime("%Y-%m-%d %H:%M:%S UTC"))
        elif k == 2:
            mixed.append(t.strftime("%m/%d/%Y %H:%M"))
        else:
            mixed.append(f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}")
    return {
        "ISO": [t.strftime("%Y-%m-%d %H:%M:%S") for t in times],
        "zone suffix (UTC)": [t.strftime("%Y-%m-%d %H:%M:%S UTC") for t in times],
        "mixed four formats": mixed,
    }


def ours(values: list[str]) -> tuple[float, int, str]:
    frame = pl.DataFrame({"ts": values})
    t = time.perf_counter()
    ts = parse_timestamp("ts", pl.String, frame["ts"].head(5000))
    parsed = frame.select(ts.expr.alias("ts"))["ts"]
    return time.perf_counter() - t, parsed.len() - parsed.null_count(), ts.description


def pandas_side(values: list[str]) -> tuple[float, int]:
    import pandas as pd

    s = pd.Series(values)
    t = time.perf_counter()
    parsed = pd.to_datetime(s, utc=True, errors="coerce", format="mixed")
    return time.perf_counter() - t, int(parsed.notna().sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500_000)
    args = ap.parse_args()
    print(f"{args.rows:,} timestamp strings per shape")
    for name, values in shapes(args.rows).items():
        sec, ok, described = ours(values)
        psec, pok = pandas_side(values)
        print(
            f"{name:20s} ours {sec:6.2f} s ({ok:,} parsed: {described[:60]}) | pandas "
            f"{psec:6.2f} s ({pok:,} parsed) | pandas / ours {psec / sec:5.1f}x"
        )


if __name__ == "__main__":
    main()
