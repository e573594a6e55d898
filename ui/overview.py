"""The Overview's cached results (kind of log, period comparison, revenue over time, cohort
retention) and the workspace's currency, keyed by workspace and data version plus the
period; computed by :mod:`profiling.profiles.overview`."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from profiling.data.ingest.report import MISSING_USER
from profiling.profiles import overview as O
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import N_
from ui import data
from ui.data import WorkspaceRef
from ui.i18n import cached

CURRENCY_KEY = "ps_currency"
"""Session-state key of the currency chosen for a read-only workspace (the sample)."""


@st.cache_resource(max_entries=6, show_spinner=False)
def _kind(spec_key: str, _spec: WorkspaceRef) -> str:
    return O.log_kind(data.load(_spec).events)


@cached(N_("Counting orders…"), max_entries=24)
def _compare(spec_key: str, _spec: WorkspaceRef, start: datetime, end: datetime) -> O.Comparison:
    return O.compare(data.load(_spec).events, start, end)


@st.cache_resource(max_entries=24, show_spinner=False)
def _over_time(spec_key: str, _spec: WorkspaceRef, start: datetime, end: datetime):
    return O.over_time(data.load(_spec).events, start, end)


@st.cache_resource(max_entries=24, show_spinner=False)
def _funnel(spec_key: str, _spec: WorkspaceRef, start: datetime, end: datetime) -> pl.DataFrame:
    return O.funnel(data.load(_spec).events, start, end)


@cached(N_("Building cohorts…"), max_entries=6)
def _cohorts(spec_key: str, _spec: WorkspaceRef, months: int) -> pl.DataFrame:
    return O.cohort_retention(data.load(_spec).events, months)


@st.cache_resource(max_entries=12, show_spinner=False)
def _setting(spec_key: str, _spec: WorkspaceRef) -> str | None:
    return _spec.workspace().meta().get("currency")


@st.cache_resource(max_entries=6, show_spinner=False)
def _suggestion(spec_key: str, _spec: WorkspaceRef) -> fmt.CurrencySuggestion | None:
    return O.currency_suggestion(data.load(_spec))


def _spec() -> WorkspaceRef:
    spec = data.resolved_spec()
    if spec is None:
        raise RuntimeError("no active workspace: call data.active_dataset() first")
    return spec


def kind() -> str:
    """transaction log, event log or rating log (see :func:`profiling.profiles.overview.log_kind`)."""
    spec = _spec()
    return _kind(spec.key(), spec)


def comparison(start: datetime, end: datetime) -> O.Comparison:
    spec = _spec()
    return _compare(spec.key(), spec, start, end)


def over_time(start: datetime, end: datetime) -> pl.DataFrame:
    spec = _spec()
    return _over_time(spec.key(), spec, start, end)


def funnel(start: datetime, end: datetime) -> pl.DataFrame:
    spec = _spec()
    return _funnel(spec.key(), spec, start, end)


def cohorts(months: int = 12) -> pl.DataFrame:
    spec = _spec()
    return _cohorts(spec.key(), spec, months)


def currency() -> str | None:
    """The active workspace's currency: the one set for it (or, for a read-only workspace,
    for this session), else one detected from its money column names, else the one
    suggested from a country or locale column (:func:`currency_suggestion`), else None."""
    spec = _spec()
    chosen = st.session_state.get(CURRENCY_KEY, {}).get(spec.slug)
    setting = chosen or _setting(spec.key(), spec)
    mapping = data.load(spec).report.events.mapping
    try:
        found = fmt.currency_of(mapping, setting)
    except ValueError:
        found = fmt.currency_of(mapping, None)
    if found is None and chosen is None and spec.slug not in _declined():
        hint = currency_suggestion()
        return hint.code if hint is not None else None
    return found


def currency_suggestion() -> fmt.CurrencySuggestion | None:
    """The currency suggested from a country or locale column of the active workspace, when
    no setting and no column name says which currency (None otherwise): shown with the
    words it came from, for the user to confirm or change."""
    spec = _spec()
    if st.session_state.get(CURRENCY_KEY, {}).get(spec.slug) or _setting(spec.key(), spec):
        return None
    if fmt.currency_of(data.load(spec).report.events.mapping, None):
        return None
    return _suggestion(spec.key(), spec)


def _declined() -> set[str]:
    """Workspaces whose user chose "none shown" over the suggestion in this session."""
    return st.session_state.setdefault(CURRENCY_KEY + "_declined", set())


def set_currency(code: str | None) -> None:
    """Keep ``code`` (an ISO code, or None for "detect / none") for the active workspace:
    in the workspace itself, or in this session for a read-only one."""
    spec = _spec()
    if code is None:
        _declined().add(spec.slug)
    else:
        _declined().discard(spec.slug)
    if spec.readonly:
        st.session_state.setdefault(CURRENCY_KEY, {})[spec.slug] = code
    else:
        spec.workspace().set_setting("currency", code)
    _setting.clear()  # every session reads the new setting


def guest_note(ds) -> str | None:
    """One calm line on rows without a customer id, or None."""
    rep = ds.report.events
    return O.guest_note(rep.count(MISSING_USER), rep.rows_read, kind())
