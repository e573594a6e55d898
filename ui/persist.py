"""Results saved with the active workspace (fitted models, comparisons): reused after a
restart, and shown as stale, never as current, when the data has changed since."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from profiling.workspace.results import ResultStore, SavedInfo
from ui import data
from ui.data import WorkspaceRef


@dataclass(frozen=True)
class Saved:
    """A saved result and what data it saw; ``stale`` when the workspace has changed since."""

    value: object
    info: SavedInfo
    stale: bool
    newer_events: int

    def describe(self) -> str:
        """ "trained on data to 30 Sep 2011; 48,211 newer events" """
        end = datetime.fromisoformat(self.info.data_end)
        n = self.newer_events
        return f"trained on data to {end:%d %b %Y}; {n:,} newer event{'s' if n != 1 else ''}"


def store(ref: WorkspaceRef) -> ResultStore:
    return ResultStore(ref.workspace().results_dir)


def get_or_compute(
    ref: WorkspaceRef,
    kind: str,
    params: dict,
    compute: Callable[[], object],
    *,
    allow_stale: bool = False,
) -> Saved:
    """The result for the workspace's current data: saved, or computed now and saved. With
    ``allow_stale``, a result saved for older data is returned (flagged) instead of
    computing; the caller shows it as stale and offers to recompute."""
    results = store(ref)
    ds = data.load(ref)
    current = results.get(kind, params, ref.version)
    if current is not None:
        info = results.latest(kind, params)
        if info is None or info.data_version != ref.version:
            info = SavedInfo(kind, ref.version, ds.as_of.isoformat(), ds.events.height, "")
        return Saved(current, info, False, 0)
    if allow_stale:
        info = results.latest(kind, params)
        old = results.load(info, params) if info is not None else None
        if old is not None:
            return Saved(old, info, True, max(ds.events.height - info.events, 0))
    value = compute()
    info = results.put(kind, params, ref.version, value, data_end=ds.as_of, events=ds.events.height)
    return Saved(value, info, False, 0)


def recompute(ref: WorkspaceRef, kind: str, params: dict, compute: Callable[[], object]):
    """Compute for the current data and save (the "Retrain" button)."""
    ds = data.load(ref)
    value = compute()
    store(ref).put(kind, params, ref.version, value, data_end=ds.as_of, events=ds.events.height)
    return value


def previous(ref: WorkspaceRef, kind: str, params: dict) -> Saved | None:
    """The most recent saved result of this kind and parameters, current or stale, without
    computing anything; None when there is none."""
    results = store(ref)
    info = results.latest(kind, params)
    if info is None:
        return None
    value = results.load(info, params)
    if value is None:
        return None
    stale = info.data_version != ref.version
    newer = max(data.load(ref).events.height - info.events, 0) if stale else 0
    return Saved(value, info, stale, newer)
