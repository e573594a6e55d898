"""Command line: `python -m profiling validate|build|evaluate|predict|workspace ...` runs the
library headless. This module only dispatches: each command group lives in its own module."""

from __future__ import annotations

import argparse
import sys

from profiling.cli.build import add_build_parsers
from profiling.cli.evaluate import add_evaluate_parser
from profiling.cli.predict import add_predict_parser
from profiling.cli.serve import add_serve_parsers
from profiling.cli.workspace import add_workspace_parser
from profiling.errors import ProfilingError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m profiling", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_build_parsers(sub)
    add_evaluate_parser(sub)
    add_workspace_parser(sub)
    add_predict_parser(sub)
    add_serve_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProfilingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
