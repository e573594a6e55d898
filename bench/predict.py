"""Benchmark: purchase propensity, churn (lapse) and customer value against their baselines
on three logs, the verdict against issue 26's targets, and ``predict`` at scale.

    .venv/bin/python bench/predict.py [--data ../shared/data] [--horizon 30] [--n-boot 200]
                                      [--only retail|cdnow|sample]
    .venv/bin/python bench/predict.py --events 1000000 [--events 10000000]
    .venv/bin/python bench/predict.py --validation-only [--only retail|cdnow|sample]
    .venv/bin/python bench/predict.py --embeddings gru4rec|sasrec [--embedding-budget S]

1. Online Retail II (2009-12 .. 2010-12, UCI), the CDNOW master file (1997-01 .. 1998-06)
   and the shipped sample store: ``profiling.predict.predict`` with the default protocol.
   Printed per log: the propensity table (every metric with its 95% bootstrap interval for
   the learned model and each baseline) and the paired bootstrap difference of the learned
   model's ROC-AUC against the best baseline (target: at least +0.01 with the interval above
   0); the churn table with its lapse window in words; the customer-value table (normalized
   Gini, Spearman, MAE, share of spend captured by the predicted top 10%) and the learned
   model's Gini against MBG/NBD + Gamma-Gamma (target: at least +0.03). Then, across the
   three logs, which targets are met (each on at least two of three).
2. ``--events N``: a store of N events from ``profiling.data.sample.generate_store`` (20
   events per user, as bench/pages.py), ``predict`` run in a fresh process: wall time and
   the process's peak resident memory (VmHWM). Target at 10M events: 5 minutes, 8 GB.
3. ``--validation-only``: the customer-value task's validation metrics per model and log
   (the most recent training cutoff, models fitted on the earlier ones): the numbers its
   design is chosen on; nothing of the held-out window is read or printed.
4. ``--embeddings MODEL`` (instead of 1 and 2): Online Retail II without and with that
   sequence model's user embeddings as extra inputs of the learned models, and the paired
   bootstrap difference of the learned model's ROC-AUC and PR-AUC.
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
sys.path.insert(0, str(ROOT))

from profiling import predict as P  # noqa: E402 - after the sys.path set-up above
from profiling.data.dataset import load_dataset, load_sample  # noqa: E402 - after the sys.path set-up above
from profiling.vocabulary import schema as S  # noqa: E402 - after the sys.path set-up above


def table(result) -> str:
    """A task's (or the value task's) held-out metrics as a Markdown table."""
    metrics = P.VALUE_METRICS if isinstance(result, P.ValueResult) else P.METRICS
    m = result.metrics
    lines = ["| model | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for model in result.models:
        cells = []
        for metric in metrics:
            r = m.filter((pl.col("model") == model) & (pl.col("metric") == metric)).row(
                0, named=True
            )
            cells.append(f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]")
        lines.append(
            f"| {model}{' (used)' if model == result.chosen else ''} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _peak_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def report(name: str, events: pl.DataFrame, args) -> dict:
    """Run predict on one log, print its three tables; returns which targets it meets."""
    t0 = time.perf_counter()
    result = P.predict(events, horizon_days=args.horizon, n_boot=args.n_boot)
    total = time.perf_counter() - t0
    users = events[S.USER_ID].n_unique()
    print(f"\n## {name}: {events.height:,} events, {users:,} users; horizon {args.horizon} days")
    cut = result.plan.to_dict()
    print(f"train cutoffs {cut['train_cutoffs']}; held-out window {cut['test_window']}")
    met = {}
    for t in result.tasks():
        b = t.class_balance
        window = args.horizon if t.task == "purchase" else result.lapse.days
        print(
            f"\n### {P.TASKS[t.task]} ({window} days): held-out {b['test_users']:,} users, "
            f"{b['test_positive_share']:.1%} positive; train rows {b['train_rows']:,}"
        )
        if t.task == "churn":
            print(f"lapse window: {result.lapse.describe()}")
        for name, why in (t.not_fitted or {}).items():
            print(f"{name} left out: {why}")
        print(table(t))
        v = t.versus_best
        met[t.task] = t.meets_target()
        print(
            f"learned - best baseline ({v['baseline']}) ROC-AUC: {v['difference']:+.4f} "
            f"[paired 95% {v['ci_low']:+.4f}, {v['ci_high']:+.4f}] -> target (+0.01, interval "
            f"above 0) {'MET' if met[t.task] else 'not met'}; best on held-out: "
            f"{t.best_on_test}; used (validation): {t.chosen}; {t.learned_note}; task "
            f"{t.timings['total_seconds']:.1f} s"
        )
    if result.churn_note:
        print(f"churn: {result.churn_note}")
    if result.value is not None:
        v = result.value
        print(f"\n### customer value, spend over {v.horizon_days} days")
        if result.value_note:
            print(f"note: {result.value_note}")
        print(table(v))
        d = v.versus_bgnbd
        met["value"] = v.meets_target()
        if not d:
            print(
                "learned - MBG/NBD+Gamma-Gamma normalized Gini: not measurable (the models "
                "could not be fitted) -> target not met"
            )
        else:
            print(
                f"learned - MBG/NBD+Gamma-Gamma normalized Gini: {d['difference']:+.4f} "
                f"[paired 95% {d['ci_low']:+.4f}, {d['ci_high']:+.4f}] -> target (+0.03) "
                f"{'MET' if met['value'] else 'not met'}; best on held-out: {v.best_on_test}; "
                f"used (validation): {v.chosen}"
            )
    elif result.value_note:
        print(f"value: {result.value_note}")
    print(f"\nwhole predict(): {total:.1f} s; peak memory of this process {_peak_gb():.2f} GB")
    return met


def scale(n_events: int) -> None:
    """predict on a generated store of ``n_events`` events, in this process (run it fresh)."""
    from profiling.data.sample import generate_store

    t0 = time.perf_counter()
    store = generate_store(
        n_users=n_events // 20, n_items=max(n_events // 200, 12), n_events=n_events
    )
    events = store.events
    t_gen = time.perf_counter() - t0
    del store
    stages = []
    t0 = time.perf_counter()

    def progress(stage: str, fraction: float) -> None:
        stages.append((round(time.perf_counter() - t0, 1), round(fraction, 3), stage))

    base_at = []
    result = P.predict(
        events,
        progress=progress,
        on_baselines=lambda _: base_at.append(time.perf_counter() - t0),
    )
    total = time.perf_counter() - t0
    out = {
        "events": events.height,
        "users": events[S.USER_ID].n_unique(),
        "generate_s": round(t_gen, 1),
        "baselines_ready_s": round(base_at[0], 1) if base_at else None,
        "predict_s": round(total, 1),
        "peak_gb": round(_peak_gb(), 2),
        "purchase_auc": {
            r[0]: round(r[1], 4)
            for r in result.purchase.metrics.filter(pl.col("metric") == "roc_auc")
            .select("model", "value")
            .rows()
        },
        "lapse_days": result.lapse.days,
        "value_days": None if result.value is None else result.value.horizon_days,
        "value_note": result.value_note,
        "churn_note": result.churn_note,
        "slowest_stages": sorted(
            ((b[0] - a[0], a[2]) for a, b in zip(stages, stages[1:], strict=False)), reverse=True
        )[:6],
    }
    print("RESULT " + json.dumps(out, default=str))


def scale_run(n_events: int) -> None:
    proc = subprocess.run(
        [sys.executable, __file__, "--scale-child", str(n_events)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        print(f"## predict at {n_events:,} events: FAILED\n{proc.stderr[-3000:]}")
        return
    r = json.loads(line[0][len("RESULT ") :])
    ok = r["predict_s"] <= 300 and r["peak_gb"] <= 8
    print(
        f"\n## predict at {r['events']:,} events ({r['users']:,} users): {r['predict_s']:.0f} s "
        f"(baselines ready after {r['baselines_ready_s']} s), peak {r['peak_gb']:.2f} GB "
        f"-> target 300 s / 8 GB {'MET' if ok else 'not met'}"
    )
    print(json.dumps(r, indent=1))


def embeddings_effect(events: pl.DataFrame, args) -> None:
    """The learned models without and with sequence-model user embeddings, on the same
    cutoffs and held-out users: each model's metrics, and the paired bootstrap difference
    (with - without) of ROC-AUC and PR-AUC over the held-out users."""
    import numpy as np

    runs = {}
    for label, extra in (
        ("without", {}),
        (
            f"with {args.embeddings}",
            {"user_embeddings": args.embeddings, "embedding_budget": args.embedding_budget},
        ),
    ):
        t0 = time.perf_counter()
        runs[label] = P.predict(events, horizon_days=args.horizon, n_boot=args.n_boot, **extra)
        print(f"\n{label} user embeddings: predict() {time.perf_counter() - t0:.1f} s")
        if runs[label].embeddings_note:
            print(runs[label].embeddings_note)
    (a_name, a), (b_name, b) = runs.items()
    rng = np.random.default_rng(0)
    for task in ("purchase", "churn"):
        ta, tb = getattr(a, task), getattr(b, task)
        if ta is None or tb is None:
            continue
        print(f"\n### {P.TASKS[task]}: learned model {a_name} / {b_name} user embeddings")
        for name, t in ((a_name, ta), (b_name, tb)):
            print(f"\n{name}: used (validation) {t.chosen}, best on held-out {t.best_on_test}")
            print(table(t))
        joined = ta.test_scores.select(S.USER_ID, "label", pl.col(P.LEARNED).alias("a")).join(
            tb.test_scores.select(S.USER_ID, pl.col(P.LEARNED).alias("b")), on=S.USER_ID
        )
        y, pa, pb = (joined[c].to_numpy() for c in ("label", "a", "b"))
        for metric, fn in (("roc_auc", P.roc_auc), ("pr_auc", P.average_precision)):
            diff = fn(y, pb) - fn(y, pa)
            boots = []
            for _ in range(args.n_boot):
                i = rng.integers(0, len(y), len(y))
                if 0 < y[i].sum() < len(i):
                    boots.append(fn(y[i], pb[i]) - fn(y[i], pa[i]))
            lo, hi = np.percentile(boots, [2.5, 97.5])
            share = float(np.mean(np.asarray(boots) <= 0))
            print(
                f"learned {metric}: {fn(y, pa):.4f} without, {fn(y, pb):.4f} with; difference "
                f"{diff:+.4f} [95% paired bootstrap {lo:+.4f}, {hi:+.4f}], share of resamples "
                f"<= 0: {share:.3f} ({len(y):,} held-out users)"
            )


def value_validation(name: str, events: pl.DataFrame, args) -> None:
    """Print the value task's validation metrics (what the model for today's scores and the
    value model's design are chosen on) without measuring the held-out window."""
    from profiling.predict.orchestration import task_plans

    t0 = time.perf_counter()
    plan = task_plans(events, args.horizon, None, P.DEFAULT_VALUE_HORIZON, 6, None).get("value")
    if plan is None:
        print(f"\n## {name}: customer value not measured")
        return
    val = P.value_validation(events, plan)
    print(
        f"\n## {name}: customer value over {plan.horizon_days} days, validation cutoff "
        f"{plan.train[-1].date()} (models fitted on {len(plan.train) - 1} earlier cutoffs); "
        f"{time.perf_counter() - t0:.1f} s"
    )
    print("| model | " + " | ".join(P.VALUE_METRICS) + " |")
    print("|---" * (len(P.VALUE_METRICS) + 1) + "|")
    for model in dict.fromkeys(val["model"].to_list()):
        rows = dict(val.filter(pl.col("model") == model).select("metric", "value").rows())
        print(f"| {model} | " + " | ".join(f"{rows[m]:.4f}" for m in P.VALUE_METRICS) + " |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--horizon", type=int, default=30)
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--only", choices=("retail", "cdnow", "sample"), action="append")
    ap.add_argument("--events", type=int, action="append", help="scale runs only")
    ap.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument(
        "--embeddings",
        choices=("gru4rec", "sasrec"),
        help="only measure the effect of this model's user embeddings (Online Retail II; "
        "CDNOW has no item ids)",
    )
    ap.add_argument("--embedding-budget", type=float, default=60.0)
    ap.add_argument(
        "--validation-only",
        action="store_true",
        help="only print the customer-value task's validation metrics (no held-out window)",
    )
    args = ap.parse_args()
    if args.scale_child:
        scale(args.scale_child)
        return
    if args.events:
        for n in args.events:
            scale_run(n)
        return
    data = Path(args.data)
    logs = {
        "retail": (
            "Online Retail II 2009-10",
            lambda: load_dataset(
                data / "online_retail_ii_2009_2010" / "online_retail_ii_2009_2010.parquet"
            ),
        ),
        "cdnow": ("CDNOW master", lambda: load_dataset(data / "cdnow" / "CDNOW_master.txt")),
        "sample": ("Sample store", load_sample),
    }
    if args.embeddings:
        embeddings_effect(logs["retail"][1]().events, args)
        return
    if args.validation_only:
        for key in args.only or list(logs):
            name, load = logs[key]
            value_validation(name, load().events, args)
        return
    met = {}
    for key in args.only or list(logs):
        name, load = logs[key]
        met[name] = report(name, load().events, args)
    print("\n## Targets (each must hold on at least two of the three logs)")
    for task in ("purchase", "churn", "value"):
        hits = [n for n, m in met.items() if m.get(task)]
        print(
            f"{task}: met on {len(hits)} of {len(met)} ({', '.join(hits) or 'none'}) -> "
            f"{'MET' if len(hits) >= 2 else 'not met'}"
        )


if __name__ == "__main__":
    main()
