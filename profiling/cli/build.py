"""`validate` (read and clean files, print the mapping and report) and `build` (profiles, tags,
segments and clusters to files)."""

from __future__ import annotations

import argparse
import json

from profiling.cli.common import add_inputs, format_report, load_input
from profiling.errors import ProfilingError
from profiling.vocabulary.i18n import gettext as _


def cmd_validate(args: argparse.Namespace) -> int:
    ds = load_input(args)
    if args.json:
        out = {
            "name": ds.name,
            "fingerprint": ds.fingerprint,
            "summary": ds.summary(),
            "report": ds.report.to_dict(),
        }
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

    from profiling.profiles.features import add_tags
    from profiling.profiles.segments import build_segments, with_assignments

    k: int | str = args.k
    if k != "auto":
        try:
            k = int(k)
        except ValueError:
            raise ProfilingError(
                _("--k must be 'auto' or an integer. Got --k={k!r} instead.").format(k=args.k)
            ) from None
    from profiling.engines.build import load_and_profile

    ds, profiles, catalog = load_and_profile(args, load_input)
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


def add_build_parsers(sub) -> None:
    """Register ``validate`` and ``build``."""
    p = sub.add_parser("validate", help="read and clean files; print the mapping and report")
    add_inputs(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("build", help="profiles, tags, RFM segments and clusters to files")
    add_inputs(p, workspace=True)
    p.add_argument("--as-of", help="profile date (default: the latest timestamp in the data)")
    p.add_argument("--k", default="auto", help="number of clusters, or 'auto' (default)")
    p.add_argument("--method", default="kmeans", choices=["kmeans", "gmm"])
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--engine",
        default="polars",
        choices=["polars", "streaming", "spark"],
        help="where the heavy step runs: in memory, polars streaming, or Spark",
    )
    p.set_defaults(func=cmd_build)
