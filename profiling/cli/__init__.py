"""The command line, one module per command group; :mod:`profiling.cli.main` dispatches."""

from profiling.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
