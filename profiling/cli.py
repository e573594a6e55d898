"""Command line: `python -m profiling validate|...` runs the library headless."""

from __future__ import annotations

import argparse
import json
import sys

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

    from profiling.evaluation import (
        compare,
        leave_last_n,
        random_kfold,
        stratified_split,
        temporal_split,
    )
    from profiling.features import build_profiles
    from profiling.recommenders import registry
    from profiling.segments import rfm_segments

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    for n in names:
        if n not in registry.MODELS:
            raise ProfilingError(
                f"unknown model {n!r}; expected some of: {', '.join(registry.MODELS)}"
            )
    relevant = tuple(t.strip() for t in args.relevant.split(",") if t.strip())
    ds = _load(args)
    split = {
        "temporal": lambda e: temporal_split(e, test_fraction=args.test_fraction),
        "leave-last": lambda e: leave_last_n(e, n=1, relevant_types=relevant),
        "stratified": lambda e: stratified_split(e, test_fraction=0.25, random_state=args.seed),
        "kfold": lambda e: random_kfold(e, n_folds=5, random_state=args.seed)[0],
    }[args.protocol](ds.events)
    profiles = build_profiles(ds)
    segments = (
        rfm_segments(profiles).select("user_id", rfm_segment="rfm_segment")
        if "recency_days" in profiles.columns
        else None
    )
    models = {n: registry.make(n, random_state=args.seed) for n in names}
    comp = compare(
        models, split, k=args.k, relevant_types=relevant, rating_threshold=args.rating_threshold,
        items=ds.items, user_segments=segments, random_state=args.seed,
        progress=lambda name, i, n: print(f"[{i}/{n}] {name}", file=sys.stderr),
    )  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    comp.metrics.select(
        "model", "metric", "k", "value", "ci_low", "ci_high", "p_value_vs_best", "is_best"
    ).write_csv(out / "metrics.csv")
    comp.per_user.write_parquet(out / "per_user.parquet")
    report = {
        "dataset": {"name": ds.name, "fingerprint": ds.fingerprint},
        "split": {
            "protocol": split.protocol,
            "description": split.description,
            "cutoff": split.cutoff,
        },
        "k": args.k,
        "relevant_types": relevant,
        "rating_threshold": args.rating_threshold,
        "test_users": comp.n_users,
        "timings": comp.timings.to_dicts(),
        "cleaning": ds.report.to_dict(),
    }
    if segments is not None:
        report["by_segment"] = comp.breakdown(
            segments.rename({"rfm_segment": "segment"})
        ).to_dicts()
    report["cold_warm"] = comp.cold_warm().to_dicts()
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    print(f"split: {split.description}; {comp.n_users:,} test users")
    from profiling.evaluation.tables import summary_table

    print(summary_table(comp.metrics).write_csv(separator="\t"))
    print(f"-> {out}/metrics.csv, per_user.parquet, report.json")
    return 0


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
        "--protocol", default="temporal", choices=["temporal", "leave-last", "kfold", "stratified"]
    )
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--relevant", default="purchase", help="event types that count as relevant")
    p.add_argument("--rating-threshold", type=float, default=None)
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_evaluate)
    from profiling.cli_workspace import add_workspace_parser

    add_workspace_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProfilingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
