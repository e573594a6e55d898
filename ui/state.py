"""Every session-state key of the app, and the small values kept under them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import streamlit as st

DATASETS = "ps_datasets"  # key -> DatasetSpec as a dict, the datasets opened in this session
ACTIVE = "ps_active"  # key of the active dataset
PICKER = "ps_dataset_picker"  # the sidebar's dataset selectbox
USER_PICK = "ps_user_pick"  # the user shown on the User profile page
USER_SEGMENT = "ps_user_segment"  # the segment the User profile page picks users from
JUST_LOADED = "ps_just_loaded"  # name of a dataset loaded by the previous run, to confirm
SAMPLE_KEY = "sample"


@dataclass
class DatasetSpec:
    """What is needed to (re)build a dataset: content-addressed file paths and mappings.

    Paths of uploads are named by the digest of their content, so the spec, serialized, is
    a fingerprint of the content plus the mapping and safe as a cache key.
    """

    name: str
    files: dict[str, dict[str, str]]  # role -> {"path": ..., "name": ...}
    maps: dict[str, dict[str, str]] = field(default_factory=dict)
    version: str = ""

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _datasets() -> dict[str, dict]:
    return st.session_state.setdefault(DATASETS, {})


def register(spec: DatasetSpec, key: str | None = None) -> str:
    """Remember a dataset in this browser session and make it active."""
    key = key or spec.key()
    _datasets()[key] = asdict(spec)
    st.session_state[ACTIVE] = key
    return key


def active_key() -> str | None:
    return st.session_state.get(ACTIVE)


def set_active(key: str) -> None:
    st.session_state[ACTIVE] = key


def specs() -> dict[str, DatasetSpec]:
    return {k: DatasetSpec(**v) for k, v in _datasets().items()}


def active_spec() -> DatasetSpec | None:
    key = active_key()
    raw = _datasets().get(key) if key else None
    return DatasetSpec(**raw) if raw else None
