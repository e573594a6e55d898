"""`evaluate`: train and compare recommenders on a leakage-free split."""

from __future__ import annotations

import argparse
import json
import sys

import polars as pl

from profiling.cli.common import add_inputs, load_input
from profiling.errors import ProfilingError
from profiling.vocabulary.i18n import gettext as _


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from profiling.evaluation import compare, compare_folds, make_splits, relevance_for
    from profiling.evaluation.tables import summary_table
    from profiling.recommenders import registry

    if getattr(args, "engine", "polars") == "spark":
        from profiling.engines.spark_eval import cmd_evaluate_spark

        return cmd_evaluate_spark(args)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for n in names:
        if n not in registry.MODELS:
            raise ProfilingError(
                _("unknown model {name!r}; expected some of: {names}").format(
                    name=n, names=", ".join(registry.MODELS)
                )
            )
    ds = load_input(args)
    types = None
    if args.relevant not in (None, "auto"):
        types = tuple(t.strip() for t in args.relevant.split(",") if t.strip())
    relevance = relevance_for(ds.events, types=types, rating_threshold=args.rating_threshold)
    print(relevance.description, file=sys.stderr)
    splits = make_splits(
        ds.events,
        args.protocol,
        relevant_types=relevance.types or ("rating",),
        test_fraction=args.test_fraction,
        random_state=args.seed,
    )
    models = {n: registry.make(n, random_state=args.seed) for n in names}
    tuned: dict = {}
    if args.tune and len(splits) == 1:
        tuned = _tune_models(args, models, splits[0], relevance, ds.items)
    common = dict(
        k=args.k,
        relevant_types=relevance,
        items=ds.items,
        random_state=args.seed,
        progress=lambda name, i, n: print(f"[{i}/{n}] {name}", file=sys.stderr),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "dataset": {"name": ds.name, "fingerprint": ds.fingerprint},
        "protocol": args.protocol,
        "k": args.k,
        "relevance": relevance.to_dict(),
        "segments": "RFM segments computed from the training part only, as of its cutoff",
        "tuned": tuned,
        "cleaning": ds.report.to_dict(),
    }
    columns = [
        "model",
        "metric",
        "k",
        "value",
        "ci_low",
        "ci_high",
        "p_value_vs_best",
        "p_adjusted",
        "is_best",
        "std",
        "folds",
    ]
    if len(splits) == 1:
        comp = compare(models, splits[0], **common)
        metrics = comp.metrics.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("std"), pl.lit(1, dtype=pl.Int64).alias("folds")
        )
        comp.per_user.write_parquet(out / "per_user.parquet")
        report["split"] = _split_info(splits[0])
        report["test_users"] = comp.n_users
        report["timings"] = comp.timings.to_dicts()
        if comp.segments is not None:
            report["by_segment"] = comp.breakdown(comp.segments).to_dicts()
        report["cold_warm"] = comp.cold_warm().to_dicts()
        users = f"{comp.n_users:,}"
    else:
        per_fold_tuned: list[dict] = []

        def fold_models(split):
            """Fresh models per fold, tuned on that fold's training part when asked."""
            fresh = {n: registry.make(n, random_state=args.seed) for n in names}
            if args.tune:
                per_fold_tuned.append(_tune_models(args, fresh, split, relevance, ds.items))
            return fresh

        folded = compare_folds(fold_models, splits, **common)
        if args.tune:
            report["tuned"] = {"per_fold": per_fold_tuned}
        metrics = folded.metrics.with_columns(
            *[
                pl.lit(None, dtype=pl.Float64).alias(c)
                for c in ("ci_low", "ci_high", "p_value_vs_best", "p_adjusted")
            ]
        )
        pl.concat(
            [
                c.per_user.select(pl.lit(f, dtype=pl.Int64).alias("fold"), pl.all())
                for f, c in enumerate(folded.comparisons)
            ]
        ).write_parquet(out / "per_user.parquet")
        report["split"] = {"protocol": "random_kfold", "folds": [_split_info(s) for s in splits]}
        report["per_fold"] = folded.per_fold.to_dicts()
        report["timings"] = [
            {"fold": f, **t} for f, c in enumerate(folded.comparisons) for t in c.timings.to_dicts()
        ]
        per_fold_users = [c.n_users for c in folded.comparisons]
        users = f"{min(per_fold_users):,}-{max(per_fold_users):,} per fold"
    metrics.select(columns).write_csv(out / "metrics.csv")
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    what = splits[0].description if len(splits) == 1 else f"{len(splits)} random folds"
    print(f"split: {what}; {users} test users; {relevance.description}; {relevance.seen_rule}")
    print(summary_table(metrics).write_csv(separator="\t"))
    print(f"-> {out}/metrics.csv, per_user.parquet, report.json")
    return 0


def _split_info(split) -> dict:
    return {
        "protocol": split.protocol,
        "description": split.description,
        "cutoff": split.cutoff,
        "fold": split.fold,
        **{k: v for k, v in split.summary().items() if k not in ("protocol", "description")},
    }


def _tune_models(args, models, split, relevance, items) -> dict:
    """Tune every tunable model on a validation split carved from ``split.train`` (the
    test part is never read); replaces the models in place; returns the report entries."""
    from profiling.evaluation.tune import GRIDS, hybrid_of, tune

    out, chosen = {}, {}
    # sub-models first, so that the hybrid blends the tuned ones
    order = sorted((n for n in models if n in GRIDS), key=lambda n: n == "hybrid")
    for name in order:
        result = tune(
            name,
            split,
            relevance=relevance,
            items=items,
            k=args.k,
            budget_seconds=args.tune_budget,
            random_state=args.seed,
            model=hybrid_of(chosen, args.seed) if name == "hybrid" else None,
            progress=lambda msg, i, n: print(f"  tune {msg} [{i}/{n}]", file=sys.stderr),
        )
        models[name] = chosen[name] = result.model
        out[name] = result.to_dict()
        print(
            f"tuned {name}: {result.params} (validation NDCG@{args.k} "
            f"{result.score:.4f}, {result.trials.height} settings)",
            file=sys.stderr,
        )
    return out


def add_evaluate_parser(sub) -> None:
    """Register ``evaluate``."""
    p = sub.add_parser("evaluate", help="train and compare recommenders on a leakage-free split")
    add_inputs(p, workspace=True)
    p.add_argument(
        "--models",
        default="popularity,item-knn,ease,als,content,hybrid",
        help="comma-separated model names (see profiling.recommenders.registry)",
    )
    p.add_argument(
        "--protocol",
        default="temporal",
        choices=["temporal", "leave-last", "kfold", "stratified"],
        help="kfold runs every fold and reports mean and standard deviation across folds",
    )
    p.add_argument("--k", type=int, default=10)
    p.add_argument(
        "--relevant",
        default="auto",
        help="event types that count as relevant (e.g. purchase,cart); 'auto' (default) "
        "follows the log: purchases, or every rating of a rating log",
    )
    p.add_argument(
        "--rating-threshold",
        type=float,
        default=None,
        help="ratings at or above it are relevant (on a rating log: only they)",
    )
    p.add_argument(
        "--tune",
        action="store_true",
        help="choose hyperparameters on a validation split carved from the training "
        "part only (the test part is never seen); settings saved in report.json",
    )
    p.add_argument(
        "--tune-budget", type=float, default=60.0, help="seconds of tuning per model (default 60)"
    )
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--engine",
        default="polars",
        choices=["polars", "spark"],
        help="spark: read, clean, split and score on Spark (temporal or stratified; "
        "see profiling/engines/spark_eval.py)",
    )
    p.set_defaults(func=cmd_evaluate)
