"""Benchmark: ``evaluate --engine spark`` against ``evaluate`` (polars) on MovieLens 100K.

    .venv/bin/python bench/spark_eval.py [--data /tmp/movielens] [--master local[2]]
                                         [--protocols stratified,temporal]
                                         [--models popularity,als,spark-als]

Microsoft Recommenders' protocol (as ``bench/spark_als.py``): ``--protocol stratified``
(25% of each user's items in test, seed 42), every test rating relevant, k = 10, registry
defaults; and the global temporal split (80/20) for an exact check. Each run is a fresh
``python -m profiling evaluate`` process per engine (the Spark master from
``PERSONA_SPARK_MASTER``). Printed: the split sizes of both engines and, per model and
metric, both values and their difference. The stratified draws differ by design (numpy on
the polars path, a hash of (user, item, seed) on Spark) with the same counts per user, so
its metrics agree within sampling noise only; the temporal split is the same on both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

SIZES = ("train_events", "test_events", "train_users", "test_users", "test_users_not_in_train")
SHOWN = ("ndcg", "map", "precision", "recall", "coverage")


def run(engine: str, protocol: str, models: str, events: Path, items: Path, out: Path, master: str):
    cmd = [
        sys.executable,
        "-m",
        "profiling",
        "evaluate",
        str(events),
        "--items",
        str(items),
        "--protocol",
        protocol,
        "--models",
        models,
        "--k",
        "10",
        "--seed",
        "42",
        "--engine",
        engine,
        "--out",
        str(out),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), PERSONA_SPARK_MASTER=master)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    report = json.loads((out / "report.json").read_text())
    metrics = pl.read_csv(out / "metrics.csv").select("model", "metric", "value")
    return report, metrics, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/movielens"))
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--protocols", default="stratified,temporal")
    ap.add_argument("--models", default="popularity,als,spark-als")
    ap.add_argument("--out", type=Path, default=Path("/tmp/spark-eval-bench"))
    args = ap.parse_args()
    from recommenders import fetch, prepare

    cache = args.data.resolve()
    events, items = cache / "ml100k_events.parquet", cache / "ml100k_items.parquet"
    if not (events.exists() and items.exists()):
        prepare(fetch(cache), cache)
    for protocol in args.protocols.split(","):
        res = {}
        for engine in ("polars", "spark"):
            res[engine] = run(
                engine,
                protocol,
                args.models,
                events,
                items,
                args.out / f"{protocol}_{engine}",
                args.master,
            )
        print(f"\n### MovieLens 100K, --protocol {protocol}, k = 10\n")
        print("| | polars | spark |\n|---|---:|---:|")
        for key in SIZES:
            print(
                f"| {key} | {res['polars'][0]['split'][key]:,} | {res['spark'][0]['split'][key]:,} |"
            )
        print(f"| wall time (whole command) | {res['polars'][2]:.1f} s | {res['spark'][2]:.1f} s |")
        for engine in ("polars", "spark"):
            fits = ", ".join(
                f"{t['model']} {t['fit_seconds'] + t['predict_seconds']:.1f} s"
                for t in res[engine][0]["timings"]
            )
            print(f"| fit + predict ({engine}) | {fits} | |")
        both = res["polars"][1].join(res["spark"][1], on=["model", "metric"], suffix="_spark")
        both = both.filter(pl.col("metric").is_in(SHOWN))
        print("\n| model | metric | polars | spark | spark - polars |\n|---|---|---:|---:|---:|")
        for r in both.sort("model", "metric").iter_rows(named=True):
            print(
                f"| {r['model']} | {r['metric']} | {r['value']:.4f} | {r['value_spark']:.4f} | "
                f"{r['value_spark'] - r['value']:+.4f} |"
            )


if __name__ == "__main__":
    main()
