"""Cached profiles and segmentations of the active dataset, keyed by its spec (a content
digest plus the mapping) and the parameters."""

from __future__ import annotations

import polars as pl
import streamlit as st

from profiling.features import add_tags, build_profiles
from profiling.segments import (
    Segmentation,
    SegmentDescription,
    build_segments,
    rfm_mix,
    rfm_segments,
)
from ui import data, state


@st.cache_data(max_entries=6, show_spinner="Building user profiles…")
def _profiles(spec_key: str, _spec: state.DatasetSpec) -> pl.DataFrame:
    return add_tags(build_profiles(data.load(_spec)))


@st.cache_data(max_entries=12, show_spinner="Finding segments (trying k = 3..10)…")
def _segmentation(
    spec_key: str, _spec: state.DatasetSpec, k: int | str, method: str
) -> Segmentation:
    return build_segments(_profiles(spec_key, _spec), k=k, method=method)


def profiles_for(spec: state.DatasetSpec) -> pl.DataFrame:
    """Profiles (with tags) of the dataset described by ``spec`` (cached)."""
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


@st.cache_data(max_entries=6, show_spinner=False)
def _rfm_mix(spec_key: str, _spec: state.DatasetSpec) -> list[SegmentDescription]:
    return rfm_mix(_profiles(spec_key, _spec))


def active_rfm_mix() -> list[SegmentDescription] | None:
    """Named RFM segments of the active dataset, or None when it has no purchases."""
    spec = data.resolved_spec()
    prof = active_profiles()
    if prof is None or "recency_days" not in prof.columns or prof["frequency"].max() == 0:
        return None
    return _rfm_mix(spec.key(), spec)


@st.cache_data(max_entries=6, show_spinner=False)
def _rfm(spec_key: str, _spec: state.DatasetSpec) -> pl.DataFrame | None:
    prof = _profiles(spec_key, _spec)
    if "recency_days" not in prof.columns:
        return None
    return rfm_segments(prof).select("user_id", "rfm_segment")


def rfm_for(spec: state.DatasetSpec) -> pl.DataFrame | None:
    """user_id, rfm_segment of the dataset (cached); None when it has no purchase data."""
    return _rfm(spec.key(), spec)
