"""`python -m profiling workspace create|add|list|show|delete`: saved workspaces headless."""

from __future__ import annotations

import argparse
import json
import unicodedata

from profiling import workspace as W
from profiling.data import ingest


def printable(text: object) -> str:
    """``text`` without control characters (terminal escape sequences, carriage returns,
    bidi overrides): names come from users and files, and must not drive the terminal."""
    return "".join(
        ch if ch == " " or not unicodedata.category(ch).startswith(("C", "Z")) else "?"
        for ch in str(text)
    )


def _maps(args: argparse.Namespace) -> dict:
    return {
        "events_map": ingest.parse_overrides(args.map),
        "users_map": ingest.parse_overrides(args.users_map, "--users-map"),
        "items_map": ingest.parse_overrides(args.items_map, "--items-map"),
    }


def _progress(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr)


def cmd_create(args: argparse.Namespace) -> int:
    from profiling.vocabulary.fmt import normalize_currency

    currency = normalize_currency(args.currency)
    ws = W.create(
        args.name,
        args.events,
        args.users,
        args.items,
        on_progress=_progress,
        extra_meta={"currency": currency} if currency else None,
        **_maps(args),
    )
    s = ws.summary()
    print(
        f"created workspace {printable(s['name'])!r} (slug {s['slug']}): {s['users']:,} users, "
        f"{s['items']:,} items, {s['events']:,} events in {ws.path}"
    )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    ws = W.open_workspace(args.name)
    rep = ws.add(args.file, args.users, args.items, on_progress=_progress, **_maps(args))
    print(rep.describe())
    print(f"snapshot {rep.snapshot_id} built as of the new latest date")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for ws in W.list_workspaces():
        try:
            s = ws.summary()
        except Exception as exc:  # noqa: BLE001 (one broken workspace must not hide the others)
            rows.append({"slug": ws.slug, "error": str(exc)})
            continue
        rows.append(
            {k: s[k] for k in ("name", "slug", "users", "items", "events", "batches")}
            | {"snapshots": len(s["snapshots"])}
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no workspaces in {W.home()}")
    for r in rows:
        if "error" in r:
            print(f"{r['slug']:<24} unreadable: {printable(r['error'])}")
        else:
            print(
                f"{r['slug']:<24} {printable(r['name']):<28} {r['users']:>9,} users {r['items']:>8,} "
                f"items {r['events']:>11,} events {r['snapshots']:>3} snapshots"
            )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    ws = W.open_workspace(args.name)
    s = W.to_jsonable(ws.summary())
    s["path"] = str(ws.path)
    s["batches"] = W.to_jsonable(ws.batches().to_dicts())
    if args.json:
        print(json.dumps(s, indent=2, default=str))
        return 0
    print(f"{printable(s['name'])} (slug {s['slug']}){' · read-only' if s['readonly'] else ''}")
    print(
        f"  {s['users']:,} users, {s['items']:,} items, {s['events']:,} events, "
        f"{s['start']} .. {s['end']}"
    )
    print(f"  folder: {s['path']}")
    print("  batches:")
    for b in s["batches"]:
        print(
            f"    {b['batch_id']:>3}  {b['added_at'][:19]}  read {b['rows_read']:,}, new "
            f"{b['rows_new']:,}, duplicates {b['rows_duplicate']:,}, dropped "
            f"{b['rows_dropped']:,}  {printable(b['files'])}"
        )
    print("  snapshots:")
    for sn in s["snapshots"]:
        print(
            f"    {sn['snapshot_id']:>3}  as of {sn['as_of'][:19]}  {sn['users']:,} users, "
            f"{sn['events']:,} events  ({printable(sn['label'])})"
        )
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    slug = W.delete(args.name)
    print(f"deleted workspace {slug}")
    return 0


def _map_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--users", help="optional users table")
    p.add_argument("--items", help="optional item catalog")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="RAW=ROLE",
        help="map a column of the events file to a role (repeatable)",
    )
    p.add_argument("--users-map", action="append", default=[], metavar="RAW=ROLE")
    p.add_argument("--items-map", action="append", default=[], metavar="RAW=ROLE")


def add_workspace_parser(sub) -> None:
    ws = sub.add_parser("workspace", help="saved workspaces: create, add data, list, show, delete")
    wsub = ws.add_subparsers(dest="ws_command", required=True)
    p = wsub.add_parser("create", help="save files as a new workspace")
    p.add_argument("name")
    p.add_argument("events", help="event, transaction or rating log")
    p.add_argument(
        "--currency",
        help="ISO code of the money columns (e.g. GBP); detected "
        "from the column names when not given",
    )
    _map_args(p)
    p.set_defaults(func=cmd_create)
    p = wsub.add_parser("add", help="append a batch of data; rebuilds profiles as a new snapshot")
    p.add_argument("name")
    p.add_argument("file", help="the new events file")
    _map_args(p)
    p.set_defaults(func=cmd_add)
    p = wsub.add_parser("list", help="every workspace")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = wsub.add_parser("show", help="one workspace: counts, batches, snapshots")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)
    p = wsub.add_parser("delete", help="remove a workspace and all its files")
    p.add_argument("name")
    p.set_defaults(func=cmd_delete)
