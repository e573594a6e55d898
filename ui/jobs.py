"""The server's one background runtime (:class:`profiling.jobs.Runtime`) and its lanes.

Every page that starts background work reaches it through :func:`runtime` and names one of
the lanes below. The runtime lives for the server process: it is a module-level object, not
an ``st.cache_resource``, because clearing Streamlit's caches (the app menu's "Clear cache",
every AppTest fixture) must neither orphan running jobs nor start second worker processes.

Set ``PERSONA_STUDIO_THREAD_LANES`` (``all``, or lane names separated by commas) before the
runtime starts to run those lanes in a worker thread rather than a worker process (tests
that patch library code: a patch does not reach another process). The variable is read
once, when the runtime starts; :func:`shutdown` stops the runtime, and the next
:func:`runtime` call starts a new one (reading the variable again).
"""

from __future__ import annotations

import os
import threading

from profiling.jobs import Lane, Runtime

THREAD_LANES_ENV = "PERSONA_STUDIO_THREAD_LANES"
"""Environment variable: the lanes that run in a thread even if declared as process lanes
(``all``, or names separated by commas; unset: none)."""

WORKSPACE = "workspace"
"""Work on a whole workspace in a worker process that reads the workspace itself (the
dataset never travels to it): the User page's models and its past segments."""
MAPS = "maps"
"""UMAP maps (and, first of all, the numba warm-up app.py starts on the first page)."""
COMPARE = "compare"
"""The Recommenders page's comparisons (a thread: they share the loaded dataset)."""
LOADS = "loads"
"""Reading saved models (a big store's takes seconds): never queued behind training."""
PROFILES = "profiles"
"""Profile work: clustering with other parameters, similar-user indexes, profiles and
segments as of past dates."""
PREDICTIONS = "predictions"
"""Predicted scores (propensity, churn, CLV) and risk."""

LANES = (
    Lane(WORKSPACE, process=True, keep=16, preload=("profiling.workspace.training",)),
    Lane(MAPS, process=True, keep=32, preload=("profiling.profiles.embeddings", "umap")),
    Lane(COMPARE, keep=16),
    Lane(LOADS, keep=16),
    Lane(PROFILES, keep=8),
    Lane(PREDICTIONS, keep=8),
)

_RUNTIME: Runtime | None = None
_LOCK = threading.Lock()


def _thread_lanes_from_env() -> bool | list[str]:
    value = os.environ.get(THREAD_LANES_ENV, "").strip()
    if value.lower() == "all":
        return True
    names = [n.strip() for n in value.split(",") if n.strip()]
    known = [lane.name for lane in LANES]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"{THREAD_LANES_ENV} must be 'all' or lane names from {known}, separated by "
            f"commas. Got {unknown[0]!r} instead."
        )
    return names


def runtime() -> Runtime:
    """The server's background runtime (started on first use)."""
    global _RUNTIME
    with _LOCK:
        if _RUNTIME is None:
            _RUNTIME = Runtime(LANES, threads=_thread_lanes_from_env())
        return _RUNTIME


def shutdown(*, wait: bool = False) -> None:
    """Stop the runtime (queued jobs cancelled; worker processes terminated unless
    ``wait``) and forget its jobs; the next :func:`runtime` call starts a new one."""
    global _RUNTIME
    with _LOCK:
        old, _RUNTIME = _RUNTIME, None
    if old is not None:
        old.shutdown(wait=wait)
