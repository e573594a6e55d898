"""Benchmark: purchase propensity and churn risk against baselines on real logs, and the
time to score 500,000 users.

    .venv/bin/python bench/predict.py [--data ../shared/data] [--horizon 30] [--n-boot 200]
                                      [--skip-scale] [--embeddings gru4rec|sasrec]
                                      [--embedding-budget SECONDS]

1. Online Retail II (2009-12 .. 2010-12, UCI) and the CDNOW master file (1997-01 ..
   1998-06): ``profiling.predict.predict`` with the default rolling protocol (the held-out
   window is the last H days; up to 6 training cutoffs H days apart before it; thresholds and
   the used model chosen on the most recent training window). Printed per task: every
   metric with its 95% bootstrap interval for the learned model and each baseline, which
   model measured best on the held-out window, training time (all five models on every
   training cutoff) and held-out scoring time. CDNOW also prints BG/NBD fitted on the
   calibration period in weeks.
2. Scale: CDNOW master copied 22 times with suffixed customer ids (518,540 users, 1.5M
   purchases); the propensity model trained on the real CDNOW log scores everyone at
   "today": features, RFM score and BG/NBD baseline (``cutoff_frame``), model predictions,
   and the per-user drivers, each timed separately.
3. ``--embeddings MODEL`` (instead of 1 and 2): Online Retail II without and with that
   sequence model's user embeddings as extra inputs of the learned models
   (``predict(user_embeddings=...)``, fitted before the earliest training cutoff), and the
   paired bootstrap difference of the learned model's ROC-AUC and PR-AUC.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profiling import predict as P  # noqa: E402 - after the sys.path set-up above
from profiling.data.dataset import load_dataset  # noqa: E402 - after the sys.path set-up above
from profiling.vocabulary import schema as S  # noqa: E402 - after the sys.path set-up above


def table(result: P.TaskResult) -> str:
    m = result.metrics
    lines = ["| model | " + " | ".join(P.METRICS) + " |", "|---" * (len(P.METRICS) + 1) + "|"]
    for model in [P.LEARNED, *P.BASELINES]:
        cells = []
        for metric in P.METRICS:
            r = m.filter((pl.col("model") == model) & (pl.col("metric") == metric)).row(
                0, named=True
            )
            cells.append(f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]")
        lines.append(
            f"| {model}{' (used)' if model == result.chosen else ''} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def report(name: str, events: pl.DataFrame, args) -> P.Predictions:
    t0 = time.perf_counter()
    result = P.predict(events, horizon_days=args.horizon, n_boot=args.n_boot)
    total = time.perf_counter() - t0
    users = events[S.USER_ID].n_unique()
    print(f"\n## {name}: {events.height:,} events, {users:,} users; horizon {args.horizon} days")
    cut = result.plan.to_dict()
    print(f"train cutoffs {cut['train_cutoffs']}; held-out window {cut['test_window']}")
    for t in result.tasks():
        b = t.class_balance
        print(
            f"\n### {P.TASKS[t.task]}: held-out {b['test_users']:,} users, "
            f"{b['test_positive_share']:.1%} positive; train rows {b['train_rows']:,}"
        )
        print(table(t))
        print(
            f"best ROC-AUC on the held-out window: {t.best_on_test}; used (validation): "
            f"{t.chosen}; train {t.timings['train_seconds']:.2f} s (5 models), score held-out "
            f"{t.timings['score_seconds']:.3f} s, task total {t.timings['total_seconds']:.1f} s"
        )
    if result.churn_note:
        print(f"churn: {result.churn_note}")
    print(f"\nwhole predict() incl. CLV and bootstrap: {total:.1f} s")
    return result


def scale(cdnow: pl.DataFrame, horizon: int) -> None:
    copies = 22
    big = pl.concat(
        [cdnow.with_columns((pl.col(S.USER_ID) + f"-{k}").alias(S.USER_ID)) for k in range(copies)]
    )
    plan = P.plan_cutoffs(cdnow, horizon_days=horizon)
    train = P.concat_examples(
        [P.build_examples(cdnow, c, horizon, "purchase") for c in (*plan.train, plan.test)]
    )
    models = {n: m.fit(train) for n, m in P.make_models("purchase").items()}
    t0 = time.perf_counter()
    frame, names = P.cutoff_frame(big, plan.today, horizon, with_labels=False)
    t_features = time.perf_counter() - t0
    ex = P.examples_for(frame, names, "purchase")
    print(f"\n## Scoring {ex.frame.height:,} users ({big.height:,} events)")
    print(f"features + RFM score + BG/NBD baseline at today: {t_features:.1f} s")
    for n, m in models.items():
        t0 = time.perf_counter()
        m.predict(ex)
        print(f"predict {n}: {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    P.explain_scores(models[P.LEARNED], ex)
    print(f"drivers (learned model, {len(names)} features): {time.perf_counter() - t0:.1f} s")


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--horizon", type=int, default=30)
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument(
        "--embeddings",
        choices=("gru4rec", "sasrec"),
        help="only measure the effect of this model's user embeddings (Online Retail II; "
        "CDNOW has no item ids)",
    )
    ap.add_argument("--embedding-budget", type=float, default=60.0)
    args = ap.parse_args()
    data = Path(args.data)
    retail = load_dataset(
        data / "online_retail_ii_2009_2010" / "online_retail_ii_2009_2010.parquet"
    )
    if args.embeddings:
        embeddings_effect(retail.events, args)
        return
    report("Online Retail II", retail.events, args)
    cdnow = load_dataset(data / "cdnow" / "CDNOW_master.txt")
    result = report("CDNOW master", cdnow.events, args)
    b = result.bgnbd
    print(
        f"BG/NBD on the calibration period (days): r={b.r:.4f} alpha={b.alpha:.4f} a={b.a:.4f} b={b.b:.4f}"
    )
    if not args.skip_scale:
        scale(cdnow.events, args.horizon)


if __name__ == "__main__":
    main()
