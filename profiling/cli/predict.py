"""`python -m profiling predict`: scores, metrics against baselines and a report, headless."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from profiling.cli.common import add_inputs, load_input
from profiling.vocabulary import schema as S


def add_predict_parser(sub) -> None:
    """Register the ``predict`` subcommand ."""
    p = sub.add_parser(
        "predict",
        help="purchase propensity, churn risk, CLV and risk flags, measured against baselines",
    )
    add_inputs(p)
    p.add_argument("--horizon", type=int, default=30, help="days ahead (default 30)")
    p.add_argument(
        "--lapse",
        type=int,
        help="churn's lapse window in days (default: set from the gaps between repeat "
        "purchases, at least twice the horizon)",
    )
    p.add_argument(
        "--value-days",
        type=int,
        default=180,
        help="days of spend customer value predicts and is measured over (default 180)",
    )
    p.add_argument(
        "--calibration-end",
        help="last day the evaluated models may see (default: horizon days before the end)",
    )
    p.add_argument("--unit", default="D", choices=["D", "W"], help="BG/NBD time unit")
    p.add_argument("--max-cutoffs", type=int, default=6, help="training cutoffs (default 6)")
    p.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples (default 200)")
    p.add_argument("--no-drivers", action="store_true", help="skip per-user drivers (faster)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_predict)


def cmd_predict(args: argparse.Namespace) -> int:
    from profiling.predict import MODEL_LABELS, clv, predict
    from profiling.profiles.risk import risk_scores

    ds = load_input(args)
    result = predict(
        ds.events,
        horizon_days=args.horizon,
        lapse_days=args.lapse,
        value_days=args.value_days,
        calibration_end=args.calibration_end,
        unit=args.unit,
        max_train_cutoffs=args.max_cutoffs,
        n_boot=args.n_boot,
        drivers=not args.no_drivers,
        random_state=args.seed,
        progress=lambda stage, f: print(f"[{f:4.0%}] {stage}", file=sys.stderr),
    )
    risk = risk_scores(ds.events, random_state=args.seed).select(
        S.USER_ID, "anomaly_score", "anomaly_pct", "risk_flags", "risk_reasons"
    )
    scores = result.scores.join(risk, on=S.USER_ID, how="full", coalesce=True).sort(S.USER_ID)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scores.write_parquet(out / "scores.parquet")
    metrics = result.metrics().select(
        "model", "metric", "value", "ci_low", "ci_high", "task", "threshold"
    )
    metrics.write_csv(out / "metrics.csv")
    report = {
        "dataset": {"name": ds.name, "fingerprint": ds.fingerprint},
        **result.report(),
        "class_balance": {t.task: t.class_balance for t in result.tasks()},
        "threshold": {t.task: t.thresholds[t.chosen] for t in result.tasks()},
        "models": MODEL_LABELS,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    plan = result.plan
    print(
        f"cutoffs: train {', '.join(c.date().isoformat() for c in plan.train)}; held-out "
        f"window {plan.to_dict()['test_window'][0]} .. {plan.to_dict()['test_window'][1]} "
        f"(end excluded), horizon {plan.horizon_days} days"
    )
    for t in result.tasks():
        auc = t.metrics.filter(pl.col("metric") == "roc_auc").sort("value", descending=True)
        line = ", ".join(f"{m} {v:.3f}" for m, v in auc.select("model", "value").rows())
        verdict = (
            f"a baseline ({t.best_on_test}) measured best" if t.baseline_wins else "learned best"
        )
        print(f"{t.task}: ROC-AUC {line}; {verdict}; scores from {t.chosen}")
    if result.lapse is not None:
        print(f"churn window: {result.lapse.describe()}")
    if result.churn_note:
        print(f"churn: not scored: {result.churn_note}")
    if result.value is not None:
        v = result.value
        gini = v.metrics.filter(pl.col("metric") == "gini").sort("value", descending=True)
        line = ", ".join(f"{m} {x:.3f}" for m, x in gini.select("model", "value").rows())
        print(
            f"value ({v.horizon_days} days): normalized Gini {line}; best {v.best_on_test}; "
            f"predictions from {v.chosen}"
        )
        v.metrics.write_csv(out / "value_metrics.csv")
    if result.value_note:
        print(f"value: {result.value_note}")
    if result.bgnbd is not None:
        print(f"buying pattern (calibration period): {clv.describe_params(result.bgnbd)}")
    if result.gamma_gamma is not None:
        print(f"spend per purchase (calibration period): {clv.describe_params(result.gamma_gamma)}")
    if result.clv_note:
        print(f"CLV: {result.clv_note}")
    print(f"{scores.height:,} users -> {out}/scores.parquet, metrics.csv, report.json")
    return 0
