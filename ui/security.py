"""Server-side privacy set-up, run once per server process before any page."""

from __future__ import annotations

import streamlit as st

from profiling import private
from profiling import workspace as W
from profiling.embeddings import default_cache_dir
from profiling.workspace import store


@st.cache_resource(show_spinner=False)
def private_storage() -> bool:
    """New files 0600, every Persona Studio folder 0700 (also those made by older versions),
    and unsaved uploads past their retention time deleted."""
    private.private_umask()
    for folder in (
        W.home(),
        store.workspaces_dir(),
        default_cache_dir().parent,
        default_cache_dir(),
    ):
        private.private_dir(folder)
    private.sweep_uploads()
    return True
