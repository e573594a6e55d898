"""Work on a whole workspace, saved with the workspace, for a background worker process:
the User page's models (fitted on every event) and its past segments.

A worker process reads the workspace itself (the workspace folder and the data version
travel to it, not the dataset: pickling a 10-million-event log costs more than reading it
again), keeps the last dataset it read for the next model of the same version, fits, saves
the model in the workspace's result store and returns it. Training there never competes
with page runs for the server's GIL or its polars thread pool, and runs at a lower CPU
priority (:mod:`profiling.jobs`).
"""

from __future__ import annotations

import inspect
import threading
from pathlib import Path

import polars as pl

from profiling.data.dataset import Dataset
from profiling.recommenders import registry
from profiling.recommenders.base import Recommender
from profiling.workspace.results import ResultStore
from profiling.workspace.store import Workspace

_DATA: dict[tuple[str, str], Dataset] = {}
_DATA_LOCK = threading.Lock()


def model_params(name: str) -> dict:
    """The result-store parameters of a model trained on the whole dataset."""
    return {"model": name, "full": True}


def workspace_dataset(path: str | Path, version: str) -> Dataset:
    """The dataset of the workspace at ``path`` for data ``version`` (WorkspaceChanged when
    the data changed meanwhile). The last one read is kept for the next job: a worker
    holds one dataset at a time."""
    key = (str(path), version)
    with _DATA_LOCK:
        ds = _DATA.get(key)
        if ds is None:
            _DATA.clear()  # the old version's log is freed before the new one is read
            ds = Workspace(Path(path)).dataset(expect_version=version)
            _DATA[key] = ds
        return ds


def rfm_history(ds: Dataset, dates, *, progress) -> pl.DataFrame | None:
    """Each user's named RFM segment at each of ``dates`` (profiles rebuilt from the events
    before each): user_id, rfm_segment, as_of; None when no date has a purchase before it."""
    from profiling.profiles.features import build_profiles
    from profiling.profiles.segments import rfm_segments

    parts = []
    for i, when in enumerate(dates):
        progress(i / len(dates), f"profiles as of {when:%Y-%m-%d}")
        prof = build_profiles(ds, as_of=when)
        if "recency_days" not in prof.columns or prof.height == 0:
            continue
        parts.append(
            rfm_segments(prof)
            .select("user_id", "rfm_segment")
            .with_columns(pl.lit(when).alias("as_of"))
        )
    return pl.concat(parts) if parts else None


def rfm_history_and_save(
    path: str, version: str, dates, ds: Dataset | None = None, *, progress
) -> pl.DataFrame | None:
    """:func:`rfm_history` of the workspace at ``path`` (data ``version``), saved with the
    workspace (``ds`` as in :func:`fit_and_save`)."""
    ds = ds if ds is not None else workspace_dataset(path, version)
    out = rfm_history(ds, dates, progress=progress)
    params = {"dates": ",".join(d.isoformat() for d in dates)}
    ResultStore(Workspace(Path(path)).results_dir).put(
        "rfm-history", params, version, out, data_end=ds.as_of, events=ds.events.height
    )
    return out


def fit_full(name: str, ds: Dataset, segments: pl.DataFrame | None, *, progress) -> Recommender:
    """``name`` from the registry fitted on every interaction of ``ds`` (with its events
    for the models that read them, and per-epoch progress for those that report it)."""
    progress(0.05, f"training {name}")
    model = registry.make(name)
    extra = {"events": ds.events} if getattr(model, "uses_events", False) else {}
    if "progress" in inspect.signature(model.fit).parameters:  # the sequence models, per epoch
        extra["progress"] = lambda f, m: progress(0.05 + 0.9 * f, m)
    return model.fit(ds.interactions(), items=ds.items, user_segments=segments, **extra)


def fit_and_save(
    path: str,
    version: str,
    name: str,
    segments: pl.DataFrame | None,
    ds: Dataset | None = None,
    *,
    progress,
) -> Recommender:
    """Fit ``name`` on the whole workspace at ``path`` (data ``version``), save it with the
    workspace and return it. ``ds``: the dataset when the caller already holds it (a worker
    thread); a worker process leaves it out and reads the workspace."""
    ds = ds if ds is not None else workspace_dataset(path, version)
    model = fit_full(name, ds, segments, progress=progress)
    progress(0.95, "saving with the workspace")
    ResultStore(Workspace(Path(path)).results_dir).put(
        "model", model_params(name), version, model, data_end=ds.as_of, events=ds.events.height
    )
    return model
