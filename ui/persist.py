"""Results saved with the active workspace (fitted models, comparisons): reused after a
restart, and shown as stale, never as current, when the data has changed since."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import gettext as _
from profiling.vocabulary.i18n import ngettext
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

    def describe(self, compared: bool = False) -> str:
        """ "trained on data to 30 Sep 2011; 48,211 newer events" in the current language
        ("compared on data to ..." with ``compared``, for a model comparison)."""
        end = fmt.date_text(datetime.fromisoformat(self.info.data_end))
        n = self.newer_events
        newer = ngettext("{n} newer event", "{n} newer events", n).format(n=fmt.count(n))
        if compared:
            return _("compared on data to {day}; {newer}").format(day=end, newer=newer)
        return _("trained on data to {day}; {newer}").format(day=end, newer=newer)


def store(ref: WorkspaceRef) -> ResultStore:
    return ResultStore(ref.workspace().results_dir)


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
