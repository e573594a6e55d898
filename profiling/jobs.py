"""Slow work off the caller's thread, with progress that a UI can poll.

A :class:`JobRunner` runs submitted functions one at a time, in submission order, either in
one worker *process* (the default: numba and NumPy work there does not compete with the
web server for the GIL, and 2 cores work in parallel) or in one worker thread. Each job has
a key (submitting the same key again returns the existing job unless it failed), a
progress fraction and message that the function updates through the ``progress`` keyword
argument it receives, and its result or error when done.

Functions and arguments sent to a worker process must be picklable (module-level
functions, plain data). A spawned worker imports the parent's main script under the name
``__mp_main__`` (Python's rule for "spawn"); the app's ``app.py`` does nothing under that name,
so the worker never starts a second app. Nothing here replaces ``sys.modules["__main__"]``.

A worker that dies (killed, out of memory) fails its running job with
:data:`WORKER_STOPPED`; the broken pool is shut down and the next job starts a new worker.
:meth:`JobRunner.shutdown` (also run at interpreter exit) stops the worker cleanly.
"""

from __future__ import annotations

import atexit
import importlib
import multiprocessing as mp
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from threadpoolctl import threadpool_limits

_QUEUE = None  # the worker process's progress queue (set by _init_worker)
WORKER_STOPPED = (
    "the worker process stopped before finishing (killed or out of memory); "
    "a new worker was started and the result must be computed again"
)


@dataclass
class Job:
    key: str
    label: str
    future: Future
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    progress: float = 0.0
    message: str = "waiting for the worker"

    @property
    def done(self) -> bool:
        return self.future.done()

    @property
    def failed(self) -> bool:
        return self.future.done() and self.future.exception() is not None

    @property
    def error(self) -> str:
        exc = self.future.exception() if self.future.done() else None
        if isinstance(exc, BrokenProcessPool):
            return WORKER_STOPPED
        return "" if exc is None else str(exc)

    def result(self) -> Any:
        """The job's result; raises the job's error if it failed."""
        return self.future.result()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - (self.started or self.submitted)

    def update(self, fraction: float, message: str) -> None:
        if self.started is None:
            self.started = time.monotonic()
        self.progress = max(self.progress, min(float(fraction), 1.0))
        self.message = message


BACKGROUND_NICE = 10
"""How much lower than the server's the workers' CPU priority is (Unix nice): on a small
machine, page runs get the cores first and background work takes what is left."""


_LOWERED = threading.local()


def lower_priority(thread: bool) -> None:
    """Lower the CPU priority of this worker (this thread only, with ``thread``; else the
    whole process). Threads it starts from then on inherit the priority. No-op where the
    platform has no per-thread priorities or the priority cannot be changed."""
    import os

    if thread and getattr(_LOWERED, "done", False):
        return  # this worker thread was lowered by an earlier job
    try:
        if thread:
            tid = threading.get_native_id()
            now = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, min(now + BACKGROUND_NICE, 19))
            _LOWERED.done = True
        else:
            os.nice(BACKGROUND_NICE)
    except (AttributeError, OSError):  # pragma: no cover (non-Linux, or not permitted)
        pass


_BLAS_LOCK = threading.Lock()
_BLAS_STATE: dict[str, Any] = {"users": 0, "limit": None}


@contextmanager
def _blas_in_this_thread():
    """One BLAS thread (the caller's) while any background thread job runs. The limit is
    process-wide, so it is set by the first job to start and restored by the last to end
    (nested limits of two threads would otherwise restore each other's)."""
    with _BLAS_LOCK:
        if _BLAS_STATE["users"] == 0:
            _BLAS_STATE["limit"] = threadpool_limits(limits=1, user_api="blas")
        _BLAS_STATE["users"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_STATE["users"] -= 1
            if _BLAS_STATE["users"] == 0:
                _BLAS_STATE["limit"].restore_original_limits()
                _BLAS_STATE["limit"] = None


def _init_worker(queue, preload: tuple[str, ...]) -> None:
    global _QUEUE
    _QUEUE = queue
    lower_priority(thread=False)
    for name in preload:
        importlib.import_module(name)


def _run_in_worker(key: str, fn: Callable[..., Any], args: tuple) -> Any:
    def progress(fraction: float, message: str) -> None:
        _QUEUE.put((key, fraction, message))

    progress(0.0, "started")
    return fn(*args, progress=progress)


class JobRunner:
    """One worker (process or thread); jobs are deduplicated by key.

    ``preload``: modules the process worker imports before any job (e.g. a slow import).
    """

    def __init__(
        self, processes: bool = True, keep: int = 32, preload: tuple[str, ...] = ()
    ) -> None:
        self._processes = processes
        self._preload = preload
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self.workspace_lock = threading.Lock()
        self._keep = keep
        self._queue = None
        self._pool = self._new_pool()
        atexit.register(self.shutdown, wait=False)

    @property
    def processes(self) -> bool:
        """Whether jobs run in a worker process (else in a worker thread)."""
        return self._processes

    def _new_pool(self):
        if not self._processes:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="persona-studio-job")
        ctx = mp.get_context("spawn")  # never fork a threaded server
        if self._queue is None:
            self._queue = ctx.Queue()
            threading.Thread(target=self._listen, daemon=True, name="job-progress").start()
        pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(self._queue, self._preload),
        )
        pool.submit(int)  # the process starts now (the imports run in the child)
        return pool

    def _listen(self) -> None:
        queue = self._queue
        while True:
            try:
                key, fraction, message = queue.get()
            except (EOFError, OSError, ValueError):  # queue closed at shutdown
                return
            job = self._jobs.get(key)
            if job is not None:
                job.update(fraction, message)

    def submit(self, key: str, label: str, fn: Callable[..., Any], *args: Any) -> Job:
        """Run ``fn(*args, progress=callback)`` in the worker, unless a job with this key
        exists and did not fail; returns the job."""
        with self.workspace_lock:
            job = self._jobs.get(key)
            if job is not None and not job.failed:
                self._jobs.move_to_end(key)
                return job
            if self._processes:
                try:
                    future = self._pool.submit(_run_in_worker, key, fn, args)
                except BrokenProcessPool:  # the worker died (killed, out of memory): start anew
                    self._replace_pool()
                    future = self._pool.submit(_run_in_worker, key, fn, args)
                job = Job(key=key, label=label, future=future)
            else:
                future = Future()
                job = Job(key=key, label=label, future=future)
                self._pool.submit(self._run_here, job, fn, args)
            self._jobs[key] = job
            self._trim()
        return job

    def _replace_pool(self) -> None:
        """Shut the broken pool down (its dead worker reaped, its queue thread stopped)
        and start a new one."""
        broken = self._pool
        broken.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop the worker: queued jobs are cancelled; a running job is waited for, or with
        ``wait=False`` (at interpreter exit) its worker process is terminated."""
        with self.workspace_lock:
            if not wait:
                for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
                    proc.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            if self._queue is not None:
                self._queue.close()
                self._queue.join_thread()
                self._queue = None

    @staticmethod
    def _run_here(job: Job, fn: Callable[..., Any], args: tuple) -> None:
        job.update(0.0, "started")
        lower_priority(thread=True)
        try:
            # BLAS in this (low-priority) thread only: its own pool of threads would run at
            # the server's priority and take both cores from the page runs
            with _blas_in_this_thread():
                job.future.set_result(fn(*args, progress=job.update))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the job
            job.future.set_exception(exc)

    def _trim(self) -> None:
        while len(self._jobs) > self._keep:
            oldest = next(iter(self._jobs))
            if not self._jobs[oldest].done:
                break
            self._jobs.pop(oldest)

    def get(self, key: str) -> Job | None:
        with self.workspace_lock:
            return self._jobs.get(key)

    def forget(self, key: str) -> None:
        """Drop a finished job (a running one stays)."""
        with self.workspace_lock:
            job = self._jobs.get(key)
            if job is not None and job.done:
                self._jobs.pop(key)
