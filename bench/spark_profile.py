"""Profile of the Spark build, step by step: wall time, Spark jobs, stages and tasks of each
step (from ``sparkContext.statusTracker``, the UI off), for the log of ``bench/engines.py``.

    .venv/bin/python bench/spark_profile.py [--events 1000000] [--dir /tmp/engines-bench]
                                            [--master local[2]]

Steps: the parts of :func:`load_dataset_spark` (cleaning, facts, distinct ids) and the
profiles (:func:`build_profiles_spark`). Each step runs under its own Spark job group, so the jobs,
stages and tasks it started are counted; the table is printed as Markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/engines-bench"))
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    from engines import generate

    from profiling.engines.spark import build_profiles_spark
    from profiling.spark_session import spark_session

    args.dir.mkdir(parents=True, exist_ok=True)
    log = args.dir / f"events_{args.events}.parquet"
    if not log.exists():
        generate(args.events, log)
    os.environ["PERSONA_SPARK_MASTER"] = args.master
    t0 = time.perf_counter()
    spark = spark_session(ui=False, input_path=str(log))
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    print(
        f"session: {time.perf_counter() - t0:.1f} s, shuffle partitions "
        f"{spark.conf.get('spark.sql.shuffle.partitions')}, driver memory "
        f"{sc.getConf().get('spark.driver.memory', '1g (default)')}"
    )
    tracker = sc.statusTracker()
    rows = []
    state: dict = {}

    def step(name, fn):
        sc.setJobGroup(name, name)
        t = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - t
        jobs = tracker.getJobIdsForGroup(name)
        stages = tasks = 0
        for j in jobs:
            info = tracker.getJobInfo(j)
            for s in info.stageIds if info else []:
                st = tracker.getStageInfo(s)
                if st is not None:
                    stages += 1
                    tasks += st.numTasks
        rows.append((name, seconds, len(jobs), stages, tasks))
        return out

    from profiling.engines import spark as engine

    # load_dataset_spark, step by step (read_events + clean_events_spark + _distinct_ids +
    # _facts; the join counts are polars on the collected ids), then the profiles
    sdf = engine.read_events(spark, str(log))
    state["ev"] = step(
        "clean (sample, raw-log pass, dedupe + cache)",
        lambda: engine.clean_events_spark(sdf, str(log)),
    )
    ids = step("distinct ids", lambda: engine._distinct_ids(state["ev"].frame))
    state["facts"] = step("facts", lambda: engine._facts(state["ev"].frame, ids))
    ev = state["ev"]
    ds = engine.SparkDataset(
        ev.frame, ev.user_attributes, ev.item_attributes, None, "", str(log), state["facts"]
    )
    state["p"] = step("profiles", lambda: build_profiles_spark(ds))
    print(f"\n{args.events:,} events, {state['p'].height:,} profiles, master {args.master}\n")
    print("| step | seconds | jobs | stages | tasks |\n|---|---:|---:|---:|---:|")
    for name, s, j, st, t in rows:
        print(f"| {name} | {s:.1f} | {j} | {st} | {t} |")
    print(
        f"| total | {sum(r[1] for r in rows):.1f} | {sum(r[2] for r in rows)} | "
        f"{sum(r[3] for r in rows)} | {sum(r[4] for r in rows)} |"
    )


if __name__ == "__main__":
    main()
