"""Predictions of the active dataset, trained in a background thread and kept per dataset
and parameters.

Training takes seconds to minutes, so it runs in one worker thread of its own (not the map's
UMAP process: a prediction must not wait behind a UMAP warm-up). A page that needs the scores
either waits for the job with a progress bar (the Predictions page) or shows them only when
they are ready and offers to start the job (User profile, Segments, Profile map): a page run
never blocks on training it did not ask for. Finished results stay in the runner (the last
few per server process) and are never mutated.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import polars as pl
import streamlit as st

from profiling import predict as P
from profiling.errors import ProfilingError
from profiling.jobs import Job, JobRunner
from profiling.risk import risk_scores
from ui import data, profiles, state

HORIZON = "ps_pred_horizon"
"""Session-state key: the horizon (days) last chosen on the Predictions page."""
SCORE_FILTERS = "ps_seg_score_filters"

_RUNNER: JobRunner | None = None
_RUNNER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Bundle:
    """Everything the pages show: the predictions, the risk table and the joined scores
    (one row per user: see :func:`profiling.predict.all_scores`)."""

    predictions: P.Predictions
    risk: pl.DataFrame
    scores: pl.DataFrame


def _runner() -> JobRunner:
    """One worker thread per server process (a module global, like the map's worker, so
    clearing Streamlit's caches does not orphan a running job)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = JobRunner(processes=False, keep=8)
        return _RUNNER


def _compute(events: pl.DataFrame, horizon_days: int, *, progress) -> Bundle:
    def report(stage: str, fraction: float) -> None:
        progress(fraction * 0.95, stage)

    pred = P.predict(events, horizon_days=horizon_days, progress=report)
    progress(0.96, "risk: anomaly score and rules")
    risk = risk_scores(events)
    return Bundle(pred, risk, P.all_scores(pred, risk))


def _key(spec: state.DatasetSpec, horizon_days: int) -> str:
    return spec.key() + json.dumps({"predict": True, "horizon": horizon_days})


def horizon() -> int:
    """The horizon in days this session chose (default 30)."""
    return int(st.session_state.get(HORIZON, P.DEFAULT_HORIZON))


def start(horizon_days: int | None = None) -> Job:
    """Start (or find) the prediction job of the active dataset; returns at once."""
    spec = data.resolved_spec()
    h = horizon() if horizon_days is None else horizon_days
    events = data.load(spec).events
    return _runner().submit(_key(spec, h), "Predictions", _compute, events, h)


def job(horizon_days: int | None = None) -> Job | None:
    """The prediction job of the active dataset, if one was started."""
    spec = data.resolved_spec()
    h = horizon() if horizon_days is None else horizon_days
    return None if spec is None else _runner().get(_key(spec, h))


def wait(j: Job, status) -> Bundle:
    """Wait for ``j`` showing its progress in ``status`` (an ``st.status``); returns the
    result or raises the job's ProfilingError."""
    bar = st.progress(0.0)
    while not j.done:
        bar.progress(min(j.progress, 1.0), text=f"{j.message} ({j.elapsed:.0f} s)")
        time.sleep(0.3)
    bar.empty()
    if j.failed:
        status.update(label="Could not compute the predictions", state="error")
    return j.result()


def retry(j: Job) -> None:
    """Callback: forget a failed job so the next run starts it again."""
    _runner().forget(j.key)


def ready() -> Bundle | None:
    """The finished predictions of the active dataset at this session's horizon, or None
    (not started, running, or failed). Never starts or waits for training."""
    j = job()
    if j is None or not j.done or j.failed:
        return None
    return j.result()


def ready_scores() -> pl.DataFrame | None:
    """One row per user with every score (see :class:`Bundle`), or None when not ready."""
    b = ready()
    return None if b is None else b.scores


def rfm_segments() -> pl.DataFrame | None:
    """user_id, rfm_segment of the active dataset (cached), or None without purchases."""
    return profiles.rfm_for(data.resolved_spec())


def status_line() -> str:
    """A short sentence saying where the predictions of the active dataset stand."""
    j = job()
    if j is None:
        return "Predicted scores are not computed yet for this dataset."
    if j.failed:
        return f"Predicted scores could not be computed: {j.error}"
    if not j.done:
        return f"Predicted scores are being computed ({j.progress:.0%}, {j.message})."
    return "Predicted scores are ready."


def error_of(exc: BaseException) -> str | None:
    """The message to show for a job error that is a ProfilingError, else None."""
    return str(exc) if isinstance(exc, ProfilingError) else None
