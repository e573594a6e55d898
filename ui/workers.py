"""The server's background worker process for work on a whole workspace: the User page's
models and the past segments of its history (see :mod:`profiling.workspace.training`).

The worker reads the workspace itself, so the dataset never travels to it; it runs at a
lower CPU priority and never holds the server's GIL or its polars threads, so pages stay
quick while it works. Jobs run one at a time, in submission order. A module global (not a
Streamlit cache): clearing caches must not orphan a running job.
"""

from __future__ import annotations

import threading

from profiling.jobs import JobRunner

IN_PROCESS = True
"""Run jobs in a worker process (tests that patch library code switch this off: a patch
does not reach another process, so their jobs run in a worker thread)."""
_RUNNER: JobRunner | None = None
_LOCK = threading.Lock()


def runner() -> JobRunner:
    """The worker (started on first use)."""
    global _RUNNER
    with _LOCK:
        if _RUNNER is None:
            _RUNNER = JobRunner(
                processes=IN_PROCESS,
                keep=16,
                preload=("profiling.workspace.training",) if IN_PROCESS else (),
            )
        return _RUNNER
