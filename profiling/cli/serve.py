"""`python -m profiling serve-events WORKSPACE` (the event collector),
`python -m profiling stream-events WORKSPACE --engine spark --watch DIR` (Spark Structured
Streaming over a folder of event files) and
`python -m profiling write-key create|list|revoke WORKSPACE`."""

from __future__ import annotations

import argparse
import sys

from profiling import workspace as W


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from profiling.workspace.collector import Collector, create_app

    ws = W.open_workspace(args.workspace)
    collector = Collector(ws, interval_s=args.interval)
    collector.start(process=args.updater == "process")
    print(
        f"collecting events into {ws.slug!r} at http://{args.host}:{args.port}/v1/events "
        f"(profiles updated every {args.interval:g} s)",
        file=sys.stderr,
    )
    try:
        uvicorn.run(create_app(collector), host=args.host, port=args.port, log_level="warning")
    finally:
        collector.stop()
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    from profiling.workspace.stream import stream_into

    ws = W.open_workspace(args.workspace)
    print(
        f"streaming the new .{args.format} files of {args.watch} into {ws.slug!r} "
        f"({'the files there now, then stop' if args.once else f'every {args.interval:g} s'})",
        file=sys.stderr,
    )
    reports = stream_into(
        ws,
        args.watch,
        fmt=args.format,
        once=args.once,
        interval_s=args.interval,
        checkpoint=args.checkpoint,
        max_files_per_batch=args.max_files,
        on_progress=lambda msg: print(msg, file=sys.stderr),
    )
    print(f"{len(reports)} batch(es) added", file=sys.stderr)
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    from profiling.workspace import collector as C

    ws = W.open_workspace(args.workspace)
    if args.action == "create":
        key_id, key = C.create_write_key(ws, args.label or "")
        print(f"write key {key_id} for {ws.slug!r} (shown once; keep it secret):\n{key}")
    elif args.action == "list":
        keys = C.list_write_keys(ws)
        for k in keys:
            used = k["last_used_at"] or "never"
            print(f"{k['id']}  created {k['created_at']}  last used {used}  {k['label']}")
        if not keys:
            print(f"workspace {ws.slug!r} has no write key")
    else:
        if not args.key_id:
            print("error: write-key revoke needs the key id (see write-key list)", file=sys.stderr)
            return 2
        C.revoke_write_key(ws, args.key_id)
        print(f"revoked write key {args.key_id} of {ws.slug!r}")
    return 0


def add_serve_parsers(sub) -> None:
    p = sub.add_parser("serve-events", help="take events over HTTP into a workspace")
    p.add_argument("workspace")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--interval", type=float, default=2.0, help="seconds between profile updates")
    p.add_argument(
        "--updater",
        choices=["process", "thread"],
        default="process",
        help="update profiles in a lower-priority process (default) or a thread",
    )
    p.set_defaults(func=cmd_serve)
    s = sub.add_parser(
        "stream-events", help="add the event files arriving in a folder (Spark streaming)"
    )
    s.add_argument("workspace")
    s.add_argument("--engine", choices=["spark"], default="spark")
    s.add_argument("--watch", required=True, help="the folder new event files arrive in")
    s.add_argument("--format", choices=["csv", "parquet"], default="csv")
    s.add_argument("--once", action="store_true", help="add the files there now, then stop")
    s.add_argument("--interval", type=float, default=2.0, help="seconds between micro-batches")
    s.add_argument("--max-files", type=int, default=None, help="at most this many per batch")
    s.add_argument("--checkpoint", default=None, help="default: stream/checkpoint in the workspace")
    s.set_defaults(func=cmd_stream)
    k = sub.add_parser("write-key", help="create, list or revoke a workspace's write keys")
    k.add_argument("action", choices=["create", "list", "revoke"])
    k.add_argument("workspace")
    k.add_argument("key_id", nargs="?")
    k.add_argument("--label", default="")
    k.set_defaults(func=cmd_key)
