"""Profiles and segmentations of the active workspace: read from its stored snapshot when
it matches the data version, computed (and saved with the workspace) otherwise. Shared
through ``st.cache_resource``, keyed by workspace and data version plus parameters."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from profiling.features import add_tags, build_profiles
from profiling.segments import (
    Segmentation,
    SegmentDescription,
    build_segments,
    current_definitions,
    rfm_mix,
    rfm_segments,
)
from profiling.workspace.results import ResultStore
from ui import data
from ui.data import WorkspaceRef


@st.cache_resource(max_entries=4, show_spinner="Reading the latest profile snapshot…")
def _snapshot(spec_key: str, _spec: WorkspaceRef):
    """The latest stored snapshot if it was built from this data version, else None."""
    snap = _spec.workspace().snapshot()
    return snap if snap.data_version == _spec.version else None


@st.cache_resource(max_entries=4, show_spinner="Building user profiles…")
def _profiles(spec_key: str, _spec: WorkspaceRef) -> pl.DataFrame:
    snap = _snapshot(spec_key, _spec)
    if snap is not None:
        return snap.profiles
    return add_tags(build_profiles(data.load(_spec)))


@st.cache_resource(max_entries=12, show_spinner="Finding segments (trying k = 3..10)…")
def _segmentation(spec_key: str, _spec: WorkspaceRef, k: int | str, method: str) -> Segmentation:
    snap = _snapshot(spec_key, _spec)
    if snap is not None and (k, method) == ("auto", "kmeans"):
        # k = 0: too few users for clusters; pages show the RFM segments and say why
        return current_definitions(snap.segmentation)
    store = ResultStore(_spec.workspace().results_dir)
    params = {"k": k, "method": method}
    saved = store.get("segmentation", params, _spec.version)
    if saved is not None:
        return current_definitions(saved)
    seg = build_segments(_profiles(spec_key, _spec), k=k, method=method)
    ds = data.load(_spec)
    store.put("segmentation", params, _spec.version, seg, data_end=ds.as_of,
              events=ds.events.height)  # fmt: skip
    return seg


def profiles_for(spec: WorkspaceRef) -> pl.DataFrame:
    """Profiles (with tags) of the workspace version ``spec`` (cached)."""
    return _profiles(spec.key(), spec)


def active_profiles() -> pl.DataFrame | None:
    """Profiles (with tags) of the active dataset. Pages call it after
    ``data.active_dataset()`` succeeded, so the dataset is not loaded again here."""
    spec = data.resolved_spec()
    return None if spec is None else _profiles(spec.key(), spec)


def active_segmentation(k: int | str = "auto", method: str = "kmeans") -> Segmentation | None:
    """RFM segments and clusters of the active dataset (cached per dataset and parameters)."""
    spec = data.resolved_spec()
    return None if spec is None else _segmentation(spec.key(), spec, k, method)


@st.cache_resource(max_entries=6, show_spinner=False)
def _rfm_mix(spec_key: str, _spec: WorkspaceRef) -> list[SegmentDescription]:
    return rfm_mix(_profiles(spec_key, _spec))


def active_rfm_mix() -> list[SegmentDescription] | None:
    """Named RFM segments of the active dataset, or None when it has no purchases."""
    spec = data.resolved_spec()
    prof = active_profiles()
    if prof is None or "recency_days" not in prof.columns or prof["frequency"].max() == 0:
        return None
    return _rfm_mix(spec.key(), spec)


@st.cache_resource(max_entries=6, show_spinner=False)
def _rfm(spec_key: str, _spec: WorkspaceRef) -> pl.DataFrame | None:
    prof = _profiles(spec_key, _spec)
    if "recency_days" not in prof.columns:
        return None
    return rfm_segments(prof).select("user_id", "rfm_segment")


def rfm_for(spec: WorkspaceRef) -> pl.DataFrame | None:
    """user_id, rfm_segment of the dataset (cached); None when it has no purchase data."""
    return _rfm(spec.key(), spec)


@st.cache_resource(max_entries=6, show_spinner="Working out past segments…")
def _rfm_history(spec_key: str, _spec: WorkspaceRef, dates: tuple[datetime, ...]):
    ds = data.load(_spec)
    parts = []
    for when in dates:
        prof = build_profiles(ds, as_of=when)
        if "recency_days" not in prof.columns or prof.height == 0:
            continue
        parts.append(rfm_segments(prof).select("user_id", "rfm_segment")
                     .with_columns(pl.lit(when).alias("as_of")))  # fmt: skip
    return pl.concat(parts) if parts else None


def rfm_history(dates: tuple[datetime, ...]) -> pl.DataFrame | None:
    """user_id, rfm_segment, as_of at each of ``dates`` (profiles rebuilt as of each)."""
    spec = data.resolved_spec()
    return None if spec is None else _rfm_history(spec.key(), spec, dates)
