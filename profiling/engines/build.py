"""The ``build`` command's heavy step on the chosen engine: load, clean and profile."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import polars as pl

from profiling.data import ingest
from profiling.errors import ProfilingError
from profiling.profiles.features import FeatureCatalog
from profiling.vocabulary.i18n import gettext as _


def load_and_profile(
    args: argparse.Namespace, load: Callable[[argparse.Namespace], object]
) -> tuple[object, pl.DataFrame, FeatureCatalog]:
    """(dataset, profiles without tags, feature catalog) for ``args.engine``.

    ``polars`` (default) loads the files in memory with ``load``; ``streaming`` cleans and
    aggregates with polars' streaming engine (see :mod:`profiling.engines.streaming`);
    ``spark`` reads, cleans and aggregates on Spark (see :mod:`profiling.engines.spark`).
    The dataset object has ``name``, ``fingerprint``, ``summary()`` and ``report``."""
    engine = getattr(args, "engine", "polars") or "polars"
    if engine != "polars" and getattr(args, "workspace", None):
        raise ProfilingError(
            _(
                "--engine {engine} reads files (an events path or URI), not a saved workspace; "
                "drop --workspace or use --engine polars"
            ).format(engine=engine)
        )
    if engine == "spark":
        from profiling.engines.spark import build_profiles_spark, load_dataset_spark
        from profiling.spark_session import spark_session

        if not args.events:
            raise ProfilingError(_("give an events file or URI for --engine spark"))
        start = time.perf_counter()
        ds = load_dataset_spark(
            spark_session(input_path=args.events),
            args.events,
            args.users,
            args.items,
            events_map=ingest.parse_overrides(args.map),
            users_map=ingest.parse_overrides(args.users_map, "--users-map"),
            items_map=ingest.parse_overrides(args.items_map, "--items-map"),
        )
        _step("spark: read, cleaned, facts", start)
        profiles = build_profiles_spark(ds, as_of=args.as_of)
        _step("spark: profiles aggregated and collected", start)
        return ds, profiles, ds.catalog()
    if engine == "streaming":
        from profiling.engines.streaming import build_streaming

        if not args.events:
            raise ProfilingError(_("give an events file for --engine streaming"))
        return build_streaming(
            args.events,
            args.users,
            args.items,
            as_of=args.as_of,
            events_map=ingest.parse_overrides(args.map),
        )
    from profiling.profiles.features import build_profiles, feature_catalog

    start = time.perf_counter()
    ds = load(args)
    _step("polars: read and cleaned", start)
    profiles = build_profiles(ds, as_of=args.as_of)
    _step("polars: profiles", start)
    return ds, profiles, feature_catalog(ds)


def _step(what: str, start: float) -> None:
    """One progress line on stderr (how far a long build got, for logs and bench/engines.py)."""
    print(f"[{time.perf_counter() - start:7.1f} s] {what}", file=sys.stderr, flush=True)
