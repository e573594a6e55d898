"""`python -m profiling serve-events WORKSPACE` (the event collector) and
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
    collector.start()
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
    p.set_defaults(func=cmd_serve)
    k = sub.add_parser("write-key", help="create, list or revoke a workspace's write keys")
    k.add_argument("action", choices=["create", "list", "revoke"])
    k.add_argument("workspace")
    k.add_argument("key_id", nargs="?")
    k.add_argument("--label", default="")
    k.set_defaults(func=cmd_key)
