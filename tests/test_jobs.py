"""The background runtime: lanes of jobs with progress, results, errors, one job per key,
threads and worker processes behind one interface, cancel and shutdown."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from profiling import jobs as J
from profiling.jobs import CANCELLED, WORKER_STOPPED, Lane, Runtime
from profiling.vocabulary import i18n

THREAD = Lane("thread")
PROCESS = Lane("process", process=True)


def _square(x: int, progress) -> int:
    progress(0.5, "halfway")
    return x * x


def _pid(progress) -> int:
    progress(1.0, "done")
    return os.getpid()


def _fail(progress) -> None:
    raise ValueError("bad input")


def _wait_until(condition, seconds: float = 60.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        threading.Event().wait(0.05)
    raise AssertionError("the condition never held")


def test_a_thread_job_reports_progress_and_its_result():
    rt = Runtime([THREAD])
    job = rt.start("thread", "sq", "square", _square, 7)
    assert job.result() == 49
    assert job.done and not job.failed and not job.cancelled
    assert job.progress == 0.5 and job.message == "halfway"
    assert rt.status("thread", "sq") is job and rt.jobs("thread") == [job]
    assert not rt.in_process("thread") and rt.worker_pids("thread") == []


def test_the_same_key_runs_once_until_it_fails():
    rt = Runtime([THREAD])
    gate = threading.Event()
    calls = []

    def slow(progress):
        calls.append(1)
        gate.wait(10)
        return len(calls)

    first = rt.start("thread", "k", "slow", slow)
    assert rt.start("thread", "k", "slow", slow) is first
    gate.set()
    assert first.result() == 1 and len(calls) == 1

    bad = rt.start("thread", "f", "fail", _fail)
    with pytest.raises(ValueError, match="bad input"):
        bad.result()
    assert bad.failed and bad.error == "bad input"
    again = rt.start("thread", "f", "fail", _fail)
    assert again is not bad  # a failed job is started anew
    rt.forget("thread", "k")
    assert rt.status("thread", "k") is None


def test_lanes_run_side_by_side_and_keep_their_own_jobs():
    rt = Runtime([Lane("a"), Lane("b")])
    gate = threading.Event()
    blocked = rt.start("a", "same key", "blocked", lambda progress: gate.wait(10))
    other = rt.start("b", "same key", "square", _square, 3)  # not queued behind lane a
    assert other.result() == 9 and not blocked.done
    assert rt.status("a", "same key") is blocked and rt.status("b", "same key") is other
    gate.set()
    assert blocked.result() is True


def test_an_unknown_lane_is_refused_with_the_lanes_there_are():
    rt = Runtime([THREAD, PROCESS])
    with pytest.raises(
        ValueError, match=r"No lane named 'maps'; the lanes are \['process', 'thread'\]"
    ):
        rt.start("maps", "k", "x", _square, 1)


def test_a_process_job_runs_in_another_process_and_reports_progress():
    rt = Runtime([PROCESS])
    try:
        job = rt.start("process", "pid", "pid", _pid)
        assert rt.in_process("process")
        pid = job.future.result(timeout=120)
        assert pid != os.getpid()
        assert rt.worker_pids("process") == [pid]  # known without asking the pool
        # progress arrives through a queue read by a listener thread
        _wait_until(lambda: job.progress == 1.0, 5)
        assert job.message == "done"
    finally:
        rt.shutdown()


def test_a_process_lane_named_in_threads_runs_in_a_thread_of_this_process():
    other = Lane("other", process=True)
    rt = Runtime([PROCESS, other], threads=["process"])
    job = rt.start("process", "pid", "pid", _pid)
    assert not rt.in_process("process") and rt.in_process("other")
    assert job.result() == os.getpid() and rt.worker_pids("process") == []
    every = Runtime([PROCESS, other], threads=True)
    assert not every.in_process("process") and not every.in_process("other")
    with pytest.raises(ValueError, match="No lane named 'maps'"):
        Runtime([PROCESS], threads=["maps"])


def _report_pid_then_wait(progress):
    progress(0.5, str(os.getpid()))
    threading.Event().wait(120)
    return "finished"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_worker_fails_its_job_and_a_new_worker_takes_the_next_one():
    rt = Runtime([PROCESS])
    job = rt.start("process", "umap", "map", _report_pid_then_wait)
    _wait_until(lambda: job.message.isdigit(), 60)  # the job reports the worker's pid
    worker = int(job.message)
    assert worker != os.getpid() and rt.worker_pids("process") == [worker]
    os.kill(worker, signal.SIGKILL)  # killed mid-computation
    _wait_until(lambda: job.done, 30)
    assert job.failed and job.error == WORKER_STOPPED
    assert "must be computed again" in job.error
    again = rt.start("process", "pid", "pid", _pid)  # a new worker is started
    new_pid = again.future.result(timeout=120)
    assert new_pid not in (worker, os.getpid())
    assert rt.worker_pids("process") == [new_pid]
    rt.shutdown()
    assert rt.worker_pids("process") == [] and not _pid_alive(new_pid)


def test_a_queued_job_cancelled_never_runs_and_starts_again_when_asked():
    rt = Runtime([THREAD])
    gate = threading.Event()
    ran = []
    first = rt.start("thread", "first", "blocked", lambda progress: gate.wait(10))
    queued = rt.start("thread", "queued", "queued", lambda progress: ran.append(1))
    assert rt.cancel("thread", "queued")
    gate.set()
    first.result()
    assert queued.cancelled and queued.failed and queued.error == CANCELLED and ran == []
    with i18n.language("zh"):  # the runtime's own reason, in the reader's language
        assert queued.error == "任务在完成前被取消；请重新开始以计算结果"
    assert not rt.cancel("thread", "first")  # finished: nothing to cancel
    again = rt.start("thread", "queued", "queued", lambda progress: ran.append(1) or "ran")
    assert again is not queued and again.result() == "ran" and ran == [1]


def test_a_running_thread_job_cancelled_stops_at_its_next_progress_report():
    rt = Runtime([THREAD])
    started, go_on = threading.Event(), threading.Event()
    steps = []

    def steps_job(progress):
        progress(0.1, "step 1")
        steps.append(1)
        started.set()
        go_on.wait(10)
        progress(0.5, "step 2")  # raises: the job was cancelled meanwhile
        steps.append(2)

    job = rt.start("thread", "steps", "steps", steps_job)
    started.wait(10)
    assert rt.cancel("thread", "steps")
    go_on.set()
    with pytest.raises(J.JobCancelled):
        job.result()
    assert steps == [1] and job.cancelled and job.error == CANCELLED


def test_a_running_process_job_cancelled_stops_with_its_worker_and_the_lane_goes_on():
    rt = Runtime([PROCESS])
    try:
        job = rt.start("process", "long", "long", _report_pid_then_wait)
        _wait_until(lambda: job.message.isdigit(), 60)
        worker = int(job.message)
        assert rt.cancel("process", "long")
        _wait_until(lambda: job.done, 30)
        assert job.cancelled and job.error == CANCELLED and not _pid_alive(worker)
        nxt = rt.start("process", "pid", "pid", _pid).future.result(timeout=120)
        assert nxt not in (worker, os.getpid())
    finally:
        rt.shutdown(wait=False)


def test_shutdown_without_waiting_stops_workers_cancels_queued_jobs_and_lanes_start_anew():
    rt = Runtime([THREAD, PROCESS])
    gate = threading.Event()
    running = rt.start("thread", "running", "blocked", lambda progress: gate.wait(10))
    queued = rt.start("thread", "queued", "queued", _square, 2)
    job = rt.start("process", "long", "long", _report_pid_then_wait)
    _wait_until(lambda: job.message.isdigit(), 60)
    worker = int(job.message)
    rt.shutdown(wait=False)
    assert not _pid_alive(worker) and rt.worker_pids("process") == []
    assert queued.cancelled
    _wait_until(lambda: job.done, 30)  # the pool notices its stopped worker
    assert job.cancelled and job.error == CANCELLED
    assert rt.status("thread", "running") is None  # the runtime forgot the stopped lanes
    gate.set()
    running.result()
    assert rt.start("thread", "queued", "square", _square, 2).result() == 4
    rt.shutdown()


def test_the_app_runtime_reads_its_thread_lanes_once_from_the_environment(monkeypatch):
    from ui import jobs as ui_jobs

    ui_jobs.shutdown()
    monkeypatch.setenv(ui_jobs.THREAD_LANES_ENV, "workspace")
    try:
        rt = ui_jobs.runtime()
        assert ui_jobs.runtime() is rt  # one runtime per server process
        assert not rt.in_process(ui_jobs.WORKSPACE) and rt.in_process(ui_jobs.MAPS)
        monkeypatch.setenv(ui_jobs.THREAD_LANES_ENV, "all")
        assert ui_jobs.runtime() is rt and rt.in_process(ui_jobs.MAPS)  # read once
        ui_jobs.shutdown()
        rt = ui_jobs.runtime()  # a new runtime reads it again
        assert not rt.in_process(ui_jobs.MAPS) and not rt.in_process(ui_jobs.WORKSPACE)
        ui_jobs.shutdown()
        monkeypatch.delenv(ui_jobs.THREAD_LANES_ENV)
        rt = ui_jobs.runtime()
        assert rt.in_process(ui_jobs.MAPS) and rt.in_process(ui_jobs.WORKSPACE)
        ui_jobs.shutdown()
        monkeypatch.setenv(ui_jobs.THREAD_LANES_ENV, "workspace,umap")
        with pytest.raises(ValueError, match=r"PERSONA_STUDIO_THREAD_LANES must be .* Got 'umap'"):
            ui_jobs.runtime()
    finally:
        ui_jobs.shutdown()


def _own_priority(*, progress) -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_thread_jobs_run_at_a_lower_priority_than_the_server():
    rt = Runtime([THREAD])
    try:
        job = rt.start("thread", "nice", "priority", _own_priority)
        again = rt.start("thread", "nice again", "priority", _own_priority)  # the same thread
        base = os.getpriority(os.PRIO_PROCESS, 0)
        assert job.future.result(timeout=30) == min(base + J.BACKGROUND_NICE, 19)
        assert again.future.result(timeout=30) == min(base + J.BACKGROUND_NICE, 19)
        assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the server's own is unchanged
    finally:
        rt.shutdown()


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


def _language_and_message(*, progress):
    progress(0.5, i18n.gettext("Comparing models"))
    return i18n.get_language()


@pytest.mark.parametrize("lane", ["thread", "process"])
def test_a_job_runs_in_the_language_of_the_page_that_started_it(lane):
    """A worker starts in the default language; the job runs in its starter's, so its
    progress messages and errors read in the language of the page that shows them."""
    rt = Runtime([THREAD, PROCESS])
    try:
        with i18n.language("zh"):
            zh = rt.start(lane, "zh", "zh", _language_and_message)
        assert zh.future.result(timeout=120) == "zh"
        _wait_until(lambda: zh.message == "正在比较模型", 5)
        en = rt.start(lane, "en", "en", _language_and_message)  # the same worker, English
        assert en.future.result(timeout=120) == "en"
        _wait_until(lambda: en.message == "Comparing models", 5)
    finally:
        rt.shutdown()
