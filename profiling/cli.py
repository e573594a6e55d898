"""Command line: `python -m profiling validate|...` runs the library headless."""

from __future__ import annotations

import argparse
import json
import sys

import polars as pl

from profiling import ingest
from profiling.dataset import Dataset, load_dataset
from profiling.errors import ProfilingError


def _add_inputs(p: argparse.ArgumentParser, *, workspace: bool = False) -> None:
    if workspace:
        p.add_argument("events", nargs="?", help="event, transaction or rating log")
        p.add_argument("--workspace", help="read a saved workspace instead of files")
    else:
        p.add_argument(
            "events", help="event, transaction or rating log (CSV/TSV/Parquet/JSONL/XLSX)"
        )
    p.add_argument("--users", help="optional users table")
    p.add_argument("--items", help="optional item catalog")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="RAW=ROLE",
        help="map a column of the events file to a role (repeatable), e.g. --map 'Customer ID=user_id'",
    )
    p.add_argument("--users-map", action="append", default=[], metavar="RAW=ROLE")
    p.add_argument("--items-map", action="append", default=[], metavar="RAW=ROLE")


def _load(args: argparse.Namespace) -> Dataset:
    if getattr(args, "workspace", None):
        if args.events:
            raise ProfilingError("give either an events file or --workspace, not both")
        from profiling.workspace import open_workspace

        return open_workspace(args.workspace).dataset()
    if not args.events:
        raise ProfilingError("give an events file, or --workspace NAME")
    return load_dataset(
        args.events,
        args.users,
        args.items,
        events_map=ingest.parse_overrides(args.map),
        users_map=ingest.parse_overrides(args.users_map, "--users-map"),
        items_map=ingest.parse_overrides(args.items_map, "--items-map"),
    )


def format_report(report: ingest.CleaningReport) -> str:
    """Plain-text rendering of a cleaning report for the terminal."""
    lines = [f"{report.source}  ({report.table}: {report.kind})"]
    if report.read is not None:
        lines.append(f"  read as: {report.read.describe()}")
    lines.append("  columns:")
    width = max((len(c) for c in report.mapping), default=0)
    for col, role in report.mapping.items():
        why = report.mapping_reasons.get(col, "")
        lines.append(f"    {col:<{width}} -> {role:<12} ({why})")
    if report.timestamp_format:
        lines.append(f"  timestamps: {report.timestamp_format}")
    if report.rating_scale:
        lines.append(f"  rating scale: {report.rating_scale}")
    lines.append(
        f"  rows read {report.rows_read:,}, kept {report.rows_kept:,}, dropped "
        f"{report.rows_dropped:,}"
    )
    for r in report.reasons:
        lines.append(f"    {r.action:<8} {r.count:>10,}  {r.reason}")
        for ex in r.examples[:2]:
            lines.append(f"               e.g. {json.dumps(ex, default=str)[:160]}")
    for note in report.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    ds = _load(args)
    if args.json:
        out = {"name": ds.name, "fingerprint": ds.fingerprint, "summary": ds.summary(),
               "report": ds.report.to_dict()}  # fmt: skip
        print(json.dumps(out, indent=2, default=str))
        return 0
    for rep in ds.report.tables():
        print(format_report(rep))
        print()
    j = ds.report.joins
    if j.users_matched is not None:
        print(f"users table: {j.users_matched:,} of {j.event_users:,} event users found")
    if j.items_matched is not None:
        print(f"items table: {j.items_matched:,} of {j.event_items:,} event items found")
    s = ds.summary()
    print(
        f"dataset {ds.fingerprint[:12]}: {s['users']:,} users, {s['items']:,} items, "
        f"{s['events']:,} events, revenue {s['revenue'] or 0:,.2f}, {s['start']} .. {s['end']}"
    )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from profiling.features import add_tags
    from profiling.segments import build_segments, with_assignments

    k: int | str = args.k
    if k != "auto":
        try:
            k = int(k)
        except ValueError:
            raise ProfilingError(
                f"--k must be 'auto' or an integer. Got --k={args.k!r} instead."
            ) from None
    from profiling.engines.build import load_and_profile

    ds, profiles, catalog = load_and_profile(args, _load)
    profiles = add_tags(profiles)
    seg = build_segments(profiles, k=k, method=args.method)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with_assignments(profiles, seg).write_parquet(out / "profiles.parquet")
    (out / "segments.json").write_text(json.dumps(seg.to_dict(), indent=2, default=str))
    report = {
        "dataset": {"name": ds.name, "fingerprint": ds.fingerprint, "summary": ds.summary()},
        "as_of": str(args.as_of or ds.as_of),
        "cleaning": ds.report.to_dict(),
        "features": catalog.to_dict(),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    print(
        f"{profiles.height:,} profiles, {len(seg.rfm)} RFM segments, {seg.k} clusters -> "
        f"{out}/profiles.parquet, segments.json, report.json"
    )
    return 0


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
                f"unknown model {n!r}; expected some of: {', '.join(registry.MODELS)}"
            )
    ds = _load(args)
    types = None
    if args.relevant not in (None, "auto"):
        types = tuple(t.strip() for t in args.relevant.split(",") if t.strip())
    relevance = relevance_for(ds.events, types=types, rating_threshold=args.rating_threshold)
    print(relevance.description, file=sys.stderr)
    splits = make_splits(
        ds.events, args.protocol, relevant_types=relevance.types or ("rating",),
        test_fraction=args.test_fraction, random_state=args.seed,
    )  # fmt: skip
    models = {n: registry.make(n, random_state=args.seed) for n in names}
    tuned: dict = {}
    if args.tune and len(splits) == 1:
        tuned = _tune_models(args, models, splits[0], relevance, ds.items)
    common = dict(
        k=args.k, relevant_types=relevance, items=ds.items, random_state=args.seed,
        progress=lambda name, i, n: print(f"[{i}/{n}] {name}", file=sys.stderr),
    )  # fmt: skip
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
    columns = ["model", "metric", "k", "value", "ci_low", "ci_high", "p_value_vs_best",
               "p_adjusted", "is_best", "std", "folds"]  # fmt: skip
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
            *[pl.lit(None, dtype=pl.Float64).alias(c) for c in ("ci_low", "ci_high",
              "p_value_vs_best", "p_adjusted")]
        )  # fmt: skip
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
    print(f"split: {what}; {users} test users; {relevance.description}")
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
    from profiling.recommenders.tune import GRIDS, hybrid_of, tune

    out, chosen = {}, {}
    # sub-models first, so that the hybrid blends the tuned ones
    order = sorted((n for n in models if n in GRIDS), key=lambda n: n == "hybrid")
    for name in order:
        result = tune(
            name, split, relevance=relevance, items=items, k=args.k,
            budget_seconds=args.tune_budget, random_state=args.seed,
            model=hybrid_of(chosen, args.seed) if name == "hybrid" else None,
            progress=lambda msg, i, n: print(f"  tune {msg} [{i}/{n}]", file=sys.stderr),
        )  # fmt: skip
        models[name] = chosen[name] = result.model
        out[name] = result.to_dict()
        print(
            f"tuned {name}: {result.params} (validation NDCG@{args.k} "
            f"{result.score:.4f}, {result.trials.height} settings)",
            file=sys.stderr,
        )
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m profiling", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="read and clean files; print the mapping and report")
    _add_inputs(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("build", help="profiles, tags, RFM segments and clusters to files")
    _add_inputs(p, workspace=True)
    p.add_argument("--as-of", help="profile date (default: the latest timestamp in the data)")
    p.add_argument("--k", default="auto", help="number of clusters, or 'auto' (default)")
    p.add_argument("--method", default="kmeans", choices=["kmeans", "gmm"])
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--engine", default="polars", choices=["polars", "streaming", "spark"],
                   help="where the heavy step runs: in memory, polars streaming, or Spark")  # fmt: skip
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("evaluate", help="train and compare recommenders on a leakage-free split")
    _add_inputs(p, workspace=True)
    p.add_argument("--models", default="popularity,item-knn,ease,als,content,hybrid",
                   help="comma-separated model names (see profiling.recommenders.registry)")  # fmt: skip
    p.add_argument(
        "--protocol", default="temporal", choices=["temporal", "leave-last", "kfold", "stratified"],
        help="kfold runs every fold and reports mean and standard deviation across folds",
    )  # fmt: skip
    p.add_argument("--k", type=int, default=10)
    p.add_argument(
        "--relevant", default="auto",
        help="event types that count as relevant (e.g. purchase,cart); 'auto' (default) "
        "follows the log: purchases, or every rating of a rating log",
    )  # fmt: skip
    p.add_argument(
        "--rating-threshold", type=float, default=None,
        help="ratings at or above it are relevant (on a rating log: only they)",
    )  # fmt: skip
    p.add_argument("--tune", action="store_true",
                   help="choose hyperparameters on a validation split carved from the training "
                   "part only (the test part is never seen); settings saved in report.json")  # fmt: skip
    p.add_argument("--tune-budget", type=float, default=60.0,
                   help="seconds of tuning per model (default 60)")  # fmt: skip
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--engine", default="polars", choices=["polars", "spark"],
                   help="spark: read, clean, split and score on Spark (temporal or stratified; "
                   "see profiling/engines/spark_eval.py)")  # fmt: skip
    p.set_defaults(func=cmd_evaluate)
    from profiling.cli_workspace import add_workspace_parser

    add_workspace_parser(sub)
    from profiling.predict_cli import add_predict_parser

    add_predict_parser(sub, _add_inputs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProfilingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
