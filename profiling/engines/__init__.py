"""Engines that run the heavy step (reading, cleaning, per-user aggregation) somewhere other
than in-memory polars: :mod:`profiling.engines.spark` (PySpark, local or on a cluster) and
:mod:`profiling.engines.streaming` (polars' streaming engine, for logs larger than memory).
Both hand back the same per-user profile frame as :func:`profiling.profiles.features.build_profiles`.
"""

ENGINES = ("polars", "streaming", "spark")
