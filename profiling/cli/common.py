"""What every command shares: the input arguments, loading a dataset, the cleaning report."""

from __future__ import annotations

import argparse
import json

from profiling.data import ingest
from profiling.data.dataset import Dataset, load_dataset
from profiling.errors import ProfilingError
from profiling.vocabulary.i18n import gettext as _


def add_inputs(p: argparse.ArgumentParser, *, workspace: bool = False) -> None:
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


def load_input(args: argparse.Namespace) -> Dataset:
    if getattr(args, "workspace", None):
        if args.events:
            raise ProfilingError(_("give either an events file or --workspace, not both"))
        from profiling.workspace import open_workspace

        return open_workspace(args.workspace).dataset()
    if not args.events:
        raise ProfilingError(_("give an events file, or --workspace NAME"))
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
