"""The background job runner: progress, results, errors, one job per key, worker process."""

from __future__ import annotations

import os
import threading

import pytest

from profiling import jobs as J
from profiling.jobs import JobRunner


def _square(x: int, progress) -> int:
    progress(0.5, "halfway")
    return x * x


def _pid(progress) -> int:
    progress(1.0, "done")
    return os.getpid()


def _fail(progress) -> None:
    raise ValueError("bad input")


def test_a_thread_job_reports_progress_and_its_result():
    runner = JobRunner(processes=False)
    job = runner.submit("sq", "square", _square, 7)
    assert job.result() == 49
    assert job.done and not job.failed
    assert job.progress == 0.5 and job.message == "halfway"


def test_the_same_key_runs_once_until_it_fails():
    runner = JobRunner(processes=False)
    gate = threading.Event()
    calls = []

    def slow(progress):
        calls.append(1)
        gate.wait(10)
        return len(calls)

    first = runner.submit("k", "slow", slow)
    assert runner.submit("k", "slow", slow) is first
    gate.set()
    assert first.result() == 1 and len(calls) == 1

    bad = runner.submit("f", "fail", _fail)
    with pytest.raises(ValueError, match="bad input"):
        bad.result()
    assert bad.failed and bad.error == "bad input"
    again = runner.submit("f", "fail", _fail)
    assert again is not bad  # a failed job is started anew
    runner.forget("k")
    assert runner.get("k") is None


def test_a_process_job_runs_in_another_process_and_reports_progress():
    runner = JobRunner(processes=True)
    job = runner.submit("pid", "pid", _pid)
    pid = job.future.result(timeout=120)
    assert pid != os.getpid()
    # progress arrives through a queue read by a listener thread
    for _ in range(100):
        if job.progress == 1.0:
            break
        threading.Event().wait(0.05)
    assert job.progress == 1.0 and job.message == "done"


def _report_pid_then_wait(progress):
    progress(0.5, str(os.getpid()))
    threading.Event().wait(120)
    return "finished"


def test_a_killed_worker_fails_its_job_and_a_new_worker_takes_the_next_one():
    import signal

    from profiling.jobs import WORKER_STOPPED

    runner = JobRunner(processes=True)
    job = runner.submit("umap", "map", _report_pid_then_wait)
    for _ in range(1200):  # the job reports the worker's pid as its progress message
        if job.message.isdigit():
            break
        threading.Event().wait(0.05)
    worker = int(job.message)
    assert worker != os.getpid()
    old_pool = runner._pool
    os.kill(worker, signal.SIGKILL)  # killed mid-computation
    for _ in range(600):
        if job.done:
            break
        threading.Event().wait(0.05)
    assert job.failed and job.error == WORKER_STOPPED
    assert "must be computed again" in job.error
    again = runner.submit("pid", "pid", _pid)  # a new worker is started
    new_pid = again.future.result(timeout=120)
    assert new_pid not in (worker, os.getpid())
    assert runner._pool is not old_pool
    assert old_pool._shutdown_thread  # the broken pool was shut down, not just dropped
    runner.shutdown()
    assert runner._queue is None


def _own_priority(*, progress) -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_thread_jobs_run_at_a_lower_priority_than_the_server():
    runner = JobRunner(processes=False)
    try:
        job = runner.submit("nice", "priority", _own_priority)
        again = runner.submit("nice again", "priority", _own_priority)  # the same thread
        base = os.getpriority(os.PRIO_PROCESS, 0)
        assert job.future.result(timeout=30) == min(base + J.BACKGROUND_NICE, 19)
        assert again.future.result(timeout=30) == min(base + J.BACKGROUND_NICE, 19)
        assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the server's own is unchanged
    finally:
        runner.shutdown()


BLAS_CHECK = """
import numpy  # loads the BLAS that the app's jobs use
from threadpoolctl import threadpool_info
from profiling import jobs as J

def blas():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

before = blas()
assert before and max(before) > 1, before
first, second = J._blas_in_this_thread(), J._blas_in_this_thread()
first.__enter__()
second.__enter__()
assert set(blas()) == {1}, blas()
first.__exit__(None, None, None)  # the first job ends while the second still runs
assert set(blas()) == {1}, blas()
second.__exit__(None, None, None)
assert blas() == before, (blas(), before)
"""


def test_background_jobs_keep_blas_to_one_thread_until_the_last_one_ends():
    # in a fresh interpreter: in this one, jobs of other tests may still hold the limit
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", BLAS_CHECK],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "2"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
