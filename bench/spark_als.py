"""Benchmark: Spark ML's ALS (registry model ``spark-als``) next to the ``implicit`` ALS
(``als``) and popularity on MovieLens 100K under the Microsoft Recommenders protocol.

    .venv/bin/python bench/spark_als.py [--data /tmp/movielens] [--master local[2]]

Same data and protocol as ``bench/recommenders.py`` part 2 (it is reused from there):
``stratified_split(events, 0.25, random_state=42)`` per user, every test rating relevant,
k = 10, seen training items excluded, ``compare()`` with bootstrap intervals. Both ALS use
their registry defaults (no tuning). Printed as a Markdown table with fit + predict time.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from recommenders import fetch, ms_table, prepare, run_compare  # noqa: E402 - after the sys.path set-up above

from profiling.evaluation import stratified_split  # noqa: E402 - after the sys.path set-up above
from profiling.recommenders.registry import make  # noqa: E402 - after the sys.path set-up above


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/movielens"))
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    os.environ.setdefault("PERSONA_SPARK_MASTER", args.master)
    from profiling.spark_session import spark_session

    spark_session(shuffle_partitions=4).sparkContext.setLogLevel("ERROR")
    cache = args.data.resolve()
    _, ds = prepare(fetch(cache), cache)
    split = stratified_split(ds.events, test_fraction=0.25, random_state=42)
    print(
        f"MovieLens 100K, {split.description}; train {split.train.height:,}, "
        f"test {split.test.height:,}"
    )
    models = {name: make(name) for name in ("popularity", "als", "spark-als")}
    _, rows, seconds = run_compare(models, split, ds.items)
    print(f"compare() took {seconds:.1f} s (Spark master {args.master})\n")
    print(ms_table(rows))


if __name__ == "__main__":
    main()
