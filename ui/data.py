"""Cached loading of datasets, keyed by content digests and mappings (never by frames)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from profiling import ingest
from profiling.dataset import SAMPLE_NAME, Dataset, load_dataset, sample_paths
from profiling.errors import ProfilingError
from ui import state


@st.cache_data(max_entries=6, show_spinner="Reading and cleaning the data…")
def _load(spec_key: str, _spec: state.DatasetSpec) -> Dataset:
    files = _spec.files
    return load_dataset(
        files["events"]["path"],
        files.get("users", {}).get("path"),
        files.get("items", {}).get("path"),
        events_map=_spec.maps.get("events"),
        users_map=_spec.maps.get("users"),
        items_map=_spec.maps.get("items"),
        names={role: f["name"] for role, f in files.items()},
        name=_spec.name,
    )


def load(spec: state.DatasetSpec) -> Dataset:
    """The dataset described by ``spec`` (cached). Raises ProfilingError on bad input."""
    return _load(spec.key(), spec)


def sample_spec() -> state.DatasetSpec:
    """Spec of the shipped sample store; its version follows the files on disk."""
    paths = sample_paths()
    files = {role: {"path": str(p), "name": p.name} for role, p in paths.items()}
    version = ";".join(f"{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in paths.values())
    return state.DatasetSpec(name=SAMPLE_NAME, files=files, version=version)


def ensure_default() -> None:
    """Open the sample store when this session has no dataset yet."""
    if state.active_key() is None:
        state.register(sample_spec(), key=state.SAMPLE_KEY)


def resolved_spec() -> state.DatasetSpec | None:
    """The active dataset's spec (the sample store's follows its files on disk)."""
    ensure_default()
    if state.active_key() == state.SAMPLE_KEY:
        return sample_spec()
    return state.active_spec()


def active_dataset() -> Dataset | None:
    """The active dataset of this session, or None after showing why it could not load."""
    spec = resolved_spec()
    if spec is None:
        return None
    try:
        return load(spec)
    except ProfilingError as exc:
        st.error(str(exc))
        return None


@st.cache_data(max_entries=16, show_spinner=False)
def inspect_upload(path: str, name: str, table: str) -> dict:
    """Read an uploaded file and infer its column roles (cached by its content path).

    Returns a small dict: read description, notes, mapping rows (column, examples, role,
    reason) and mapping notes. Raises ProfilingError when the file cannot be used.
    """
    raw = ingest.read_table(path, name=name)
    mapping = ingest.infer_roles(raw, table)
    sample = raw.sample(5)
    rows = []
    for col in raw.frame.collect_schema().names():
        examples = ", ".join(str(v) for v in sample[col].drop_nulls().head(3).to_list())
        rows.append(
            {
                "column": col,
                "examples": examples[:80],
                "role": mapping.roles[col],
                "how": mapping.reasons[col],
            }
        )
    return {
        "read": raw.info.describe(),
        "notes": raw.info.notes + mapping.notes,
        "rows": rows,
    }


def save_upload(uploaded) -> dict[str, str]:
    """Write an uploaded file to a content-addressed path; returns {"path", "name"}."""
    path, name = ingest.materialize(uploaded.getvalue(), uploaded.name)
    return {"path": path, "name": name}


def preview(frame: pl.DataFrame | None, n: int = 200) -> pl.DataFrame | None:
    return None if frame is None else frame.head(n)
