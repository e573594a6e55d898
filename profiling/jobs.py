"""One background runtime: slow work off the caller's thread, with progress a UI can poll.

A :class:`Runtime` is a registry of named lanes (:class:`Lane`). Each lane runs its jobs
one at a time, in submission order, in one worker *thread* or one worker *process* (numba
and NumPy work there does not compete with the web server for the GIL, and 2 cores work in
parallel); lanes never wait for each other. A lane starts its worker on its first job.

Every job has a key (starting the same key again in the same lane returns the existing job
unless it failed or was cancelled), a progress fraction and message that the function
updates through the ``progress`` keyword argument it receives, and its result or error when
done. The interface is the same for both kinds of lane: :meth:`Runtime.start`,
:meth:`Runtime.status`, :meth:`Runtime.cancel`, :meth:`Runtime.forget` and
:meth:`Runtime.shutdown` (also run, without waiting, at interpreter exit).

``Runtime(lanes, threads=True)`` runs every lane in a thread, ``threads=["workspace"]`` that
lane only (tests that patch library code: a patch does not reach another process).

Functions and arguments sent to a worker process must be picklable (module-level
functions, plain data). A spawned worker imports the parent's main script under the name
``__mp_main__`` (Python's rule for "spawn"); the app's ``app.py`` does nothing under that name,
so the worker never starts a second app. Nothing here replaces ``sys.modules["__main__"]``.

A worker process that dies (killed, out of memory) fails its running job with
:data:`WORKER_STOPPED`; the broken pool is shut down and the lane's next job starts a new
worker. The runtime knows its worker processes from :func:`multiprocessing.active_children`
at the moment it starts each one, so stopping them needs no private attribute of the pool.
"""

from __future__ import annotations

import atexit
import importlib
import multiprocessing as mp
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from threadpoolctl import threadpool_limits

from profiling.vocabulary import i18n
from profiling.vocabulary.i18n import N_

_QUEUE = None  # the worker process's progress queue (set by _init_worker)
WORKER_STOPPED = N_(
    "the worker process stopped before finishing (killed or out of memory); "
    "a new worker was started and the result must be computed again"
)
CANCELLED = N_("the job was cancelled before it finished; start it again to compute the result")


class JobCancelled(Exception):
    """Raised in a thread job at its next progress report once it was cancelled."""

    def __init__(self) -> None:
        super().__init__(CANCELLED)


@dataclass(frozen=True)
class Lane:
    """One queue of the runtime: ``name``, whether its jobs run in a worker ``process``
    (else a worker thread), how many finished jobs it ``keep``s (with their results; the
    oldest finished ones go first) and the modules a worker process imports before its first
    job (``preload``: a slow import paid while nobody waits)."""

    name: str
    process: bool = False
    keep: int = 16
    preload: tuple[str, ...] = ()


@dataclass
class Job:
    key: str
    label: str
    future: Future = field(default_factory=Future)
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    progress: float = 0.0
    message: str = "waiting for the worker"
    cancel_requested: bool = False

    @property
    def done(self) -> bool:
        return self.future.done()

    @property
    def cancelled(self) -> bool:
        """Cancelled before it started, or stopped by :meth:`Runtime.cancel` while running
        (a job that finished before it could be stopped keeps its result)."""
        if not self.done:
            return False
        return self.future.cancelled() or (
            self.cancel_requested and self.future.exception() is not None
        )

    @property
    def failed(self) -> bool:
        """Finished without a result (an error, a stopped worker or a cancel)."""
        return self.done and (self.future.cancelled() or self.future.exception() is not None)

    @property
    def error(self) -> str:
        """Why the job failed ("" unless it did): the runtime's own reasons (a cancel, a
        stopped worker) in the reader's language, else the error's message."""
        if not self.done:
            return ""
        if self.cancelled:
            return i18n.gettext(CANCELLED)
        exc = self.future.exception()
        if isinstance(exc, BrokenProcessPool):
            return i18n.gettext(WORKER_STOPPED)
        return "" if exc is None else str(exc)

    def result(self) -> Any:
        """The job's result (waiting for it); raises the job's error if it failed."""
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


def _run_in_worker(key: str, fn: Callable[..., Any], args: tuple, lang: str) -> Any:
    def progress(fraction: float, message: str) -> None:
        _QUEUE.put((key, fraction, message))

    progress(0.0, "started")
    with i18n.language(lang):
        return fn(*args, progress=progress)


def _run_in_thread(job: Job, fn: Callable[..., Any], args: tuple, lang: str) -> Any:
    def progress(fraction: float, message: str) -> None:
        if job.cancel_requested:
            raise JobCancelled()
        job.update(fraction, message)

    progress(0.0, "started")
    lower_priority(thread=True)
    # BLAS in this (low-priority) thread only: its own pool of threads would run at the
    # server's priority and take both cores from the page runs
    with _blas_in_this_thread(), i18n.language(lang):
        return fn(*args, progress=progress)


_SPAWN_LOCK = threading.Lock()
"""Held while a pool starts its worker, so that the children that appear meanwhile are that
pool's (every lane of every runtime in this process starts its workers under it)."""


class _Worker:
    """The worker of one lane (a process or a thread) and the lane's jobs, by key."""

    def __init__(self, lane: Lane, processes: bool) -> None:
        self.lane = lane
        self.processes = processes
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue = None
        self._children: list[mp.process.BaseProcess] = []
        self._closed = False
        self._pool = self._new_pool()

    def _new_pool(self):
        if not self.processes:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"job-{self.lane.name}")
        ctx = mp.get_context("spawn")  # never fork a threaded server
        if self._queue is None:
            self._queue = ctx.Queue()
            threading.Thread(
                target=self._listen, daemon=True, name=f"job-progress-{self.lane.name}"
            ).start()
        pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(self._queue, self.lane.preload),
        )
        with _SPAWN_LOCK:
            before = {p.pid for p in mp.active_children()}
            pool.submit(int)  # the process starts now (the imports run in the child)
            self._children = [p for p in mp.active_children() if p.pid not in before]
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

    def pids(self) -> list[int]:
        return [p.pid for p in self._children if p.is_alive()]

    def start(self, key: str, label: str, fn: Callable[..., Any], args: tuple) -> Job | None:
        """The job (started now unless it exists and did not fail); None once this worker
        was shut down (the runtime then starts the lane's next worker)."""
        with self._lock:
            if self._closed:
                return None
            job = self._jobs.get(key)
            if job is not None and not job.failed:
                self._jobs.move_to_end(key)
                return job
            job = Job(key=key, label=label)
            lang = i18n.get_language()  # the job's messages and errors in its starter's language
            if self.processes:
                try:
                    job.future = self._pool.submit(_run_in_worker, key, fn, args, lang)
                except BrokenProcessPool:  # the worker died (killed, out of memory): start anew
                    self._replace_pool()
                    job.future = self._pool.submit(_run_in_worker, key, fn, args, lang)
            else:
                job.future = self._pool.submit(_run_in_thread, job, fn, args, lang)
            self._jobs[key] = job
            self._trim()
        return job

    def _replace_pool(self) -> None:
        """Shut the broken pool down (its dead worker reaped) and start a new one."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()

    def _stop_children(self) -> None:
        for proc in self._children:
            proc.terminate()
        for proc in self._children:
            proc.join(timeout=5)
            if proc.is_alive():  # stopped (SIGSTOP) or ignoring SIGTERM
                proc.kill()
                proc.join(timeout=5)

    def cancel(self, key: str) -> bool:
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.done:
                return False
            job.cancel_requested = True
            if job.future.cancel() or not self.processes:
                return True  # never started, or a thread job stopping at its next report
            # running in the worker process: only stopping the process stops it
            self._stop_children()
            self._replace_pool()
            return True

    def shutdown(self, wait: bool) -> None:
        with self._lock:
            self._closed = True
            if not wait:
                for job in self._jobs.values():
                    if not job.done:
                        job.cancel_requested = True  # thread jobs stop at their next report
            self._pool.shutdown(wait=wait, cancel_futures=True)
            if not wait and self.processes:
                self._stop_children()
            if self._queue is not None:
                self._queue.close()
                self._queue.join_thread()
                self._queue = None

    def _trim(self) -> None:
        while len(self._jobs) > self.lane.keep:
            oldest = next(iter(self._jobs))
            if not self._jobs[oldest].done:
                break
            self._jobs.pop(oldest)

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def forget(self, key: str) -> None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.done:
                self._jobs.pop(key)


class Runtime:
    """The background runtime: named lanes of jobs, each with its own worker.

    Parameters
    ----------
    lanes
        The lanes jobs can be started in (see :class:`Lane`).
    threads
        Lanes that run in a worker thread even though they are declared with ``process``
        (True: every lane), for tests that patch library code, which does not reach
        another process.
    """

    def __init__(self, lanes: Iterable[Lane], *, threads: bool | Iterable[str] = False) -> None:
        self.lanes = {lane.name: lane for lane in lanes}
        if threads is True:
            threads = self.lanes
        self.threads = frozenset(self._lane(name).name for name in threads or ())
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        atexit.register(self.shutdown, wait=False)

    def _lane(self, name: str) -> Lane:
        lane = self.lanes.get(name)
        if lane is None:
            raise ValueError(f"No lane named {name!r}; the lanes are {sorted(self.lanes)}.")
        return lane

    def _worker(self, lane: str, *, create: bool) -> _Worker | None:
        spec = self._lane(lane)
        with self._lock:
            worker = self._workers.get(lane)
            if worker is None and create:
                worker = _Worker(spec, processes=self.in_process(lane))
                self._workers[lane] = worker
            return worker

    def in_process(self, lane: str) -> bool:
        """Whether the jobs of ``lane`` run in a worker process (else in a worker thread)."""
        return self._lane(lane).process and lane not in self.threads

    def start(self, lane: str, key: str, label: str, fn: Callable[..., Any], *args: Any) -> Job:
        """Run ``fn(*args, progress=callback)`` in the worker of ``lane`` (started now if
        needed), unless a job with this key exists there and neither failed nor was
        cancelled; returns the job. ``label`` names the work for people."""
        while True:  # a worker shut down meanwhile gives way to the lane's next one
            job = self._worker(lane, create=True).start(key, label, fn, args)
            if job is not None:
                return job

    def status(self, lane: str, key: str) -> Job | None:
        """The job ``key`` of ``lane`` (queued, running or finished), or None."""
        worker = self._worker(lane, create=False)
        return None if worker is None else worker.get(key)

    def jobs(self, lane: str) -> list[Job]:
        """The jobs ``lane`` holds, oldest first (finished ones beyond its ``keep`` go)."""
        worker = self._worker(lane, create=False)
        return [] if worker is None else worker.jobs()

    def cancel(self, lane: str, key: str) -> bool:
        """Cancel job ``key`` of ``lane``; False when there is no such unfinished job.

        A queued job never starts. A running thread job stops at its next progress report
        (Python cannot stop a thread from outside). A running process job stops with its
        worker process, which is terminated (jobs queued behind it in that lane end too, and
        start again when asked); the lane's next job starts a new worker.
        A cancelled job reports :data:`CANCELLED` and starts anew when started again.
        """
        worker = self._worker(lane, create=False)
        return worker is not None and worker.cancel(key)

    def forget(self, lane: str, key: str) -> None:
        """Drop a finished job (a running one stays), so that starting it runs it again."""
        worker = self._worker(lane, create=False)
        if worker is not None:
            worker.forget(key)

    def worker_pids(self, lane: str) -> list[int]:
        """The process ids of the living worker processes of ``lane`` (none for a thread
        lane, or before its first job)."""
        worker = self._worker(lane, create=False)
        return [] if worker is None or not worker.processes else worker.pids()

    def shutdown(self, *, wait: bool = True, lanes: Iterable[str] | None = None) -> None:
        """Stop the workers of ``lanes`` (every lane by default) and forget their jobs.

        Queued jobs are cancelled. With ``wait`` the running jobs are waited for; without
        (at interpreter exit) worker processes are terminated and thread jobs stop at their
        next progress report. A lane that was shut down starts a new worker at its next job.
        """
        names = list(self.lanes) if lanes is None else [self._lane(n).name for n in lanes]
        with self._lock:
            stopping = [self._workers.pop(n) for n in names if n in self._workers]
        for worker in stopping:
            worker.shutdown(wait)
