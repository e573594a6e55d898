"""Command line: `python -m profiling validate|build|evaluate|predict|workspace ...` runs the
library headless. This module only dispatches: each command group lives in its own module."""

from __future__ import annotations

import argparse
import errno
import sys

from profiling.cli.build import add_build_parsers
from profiling.cli.evaluate import add_evaluate_parser
from profiling.cli.predict import add_predict_parser
from profiling.cli.workspace import add_workspace_parser
from profiling.errors import ProfilingError
from profiling.private import private_umask


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="persona-studio", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_build_parsers(sub)
    add_evaluate_parser(sub)
    add_workspace_parser(sub)
    add_predict_parser(sub)
    return parser


def describe_os_error(exc: OSError) -> str:
    """One line for a file error: what went wrong and on which file."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{where}: free some space and run the command again"
    if exc.errno == errno.EDQUOT:
        return f"the disk quota is used up{where}: free some space and run the command again"
    reason = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"{reason}{where}"


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are one line on stderr with exit status 2, never a
    traceback. Files the command writes are private (umask 077)."""
    private_umask()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProfilingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a missing or unreadable file, a folder in the way
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 2
