"""Profiles and segmentations of the active workspace: read from its stored snapshot when
it matches the data version, computed (and saved with the workspace) otherwise. Shared
through ``st.cache_resource``, keyed by workspace and data version plus parameters."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import streamlit as st

from profiling.jobs import Job
from profiling.profiles.features import add_tags, build_profiles
from profiling.profiles.segments import (
    SCHEME_11,
    SCHEMES,
    Segmentation,
    SegmentDescription,
    build_segments,
    current_definitions,
    rfm_mix,
    rfm_segments,
    standardized_means,
    with_assignments,
    with_scheme,
)
from profiling.profiles.users import ProfileNeighbours
from profiling.vocabulary.i18n import N_
from profiling.workspace import training
from profiling.workspace.results import ResultStore
from ui import data
from ui.data import WorkspaceRef
from ui.i18n import cached
from ui.jobs import PROFILES, WORKSPACE, runtime


@cached(N_("Reading the latest profile snapshot…"), max_entries=4)
def _snapshot(spec_key: str, _spec: WorkspaceRef):
    """The latest stored snapshot if it was built from this data version, else None."""
    snap = _spec.workspace().snapshot()
    return snap if snap.data_version == _spec.version else None


@cached(N_("Building user profiles…"), max_entries=4)
def _profiles(spec_key: str, _spec: WorkspaceRef) -> pl.DataFrame:
    snap = _snapshot(spec_key, _spec)
    if snap is not None:
        return snap.profiles
    return add_tags(build_profiles(data.load(_spec)))


SCHEME_SETTING = "segment_scheme"
SCHEME_KEY = "ps_segment_scheme"
"""Session-state key of the scheme chosen for a read-only workspace (the sample)."""


def scheme_of(spec: WorkspaceRef) -> str:
    """How the workspace names its RFM segments (:data:`SCHEMES`): the scheme chosen for it
    (for a read-only workspace, in this session), else the 11 segments."""
    chosen = st.session_state.get(SCHEME_KEY, {}).get(spec.slug)
    chosen = chosen or spec.workspace().meta().get(SCHEME_SETTING)
    return chosen if chosen in SCHEMES else SCHEME_11


def set_scheme(spec: WorkspaceRef, scheme: str) -> None:
    """Name the workspace's RFM segments in ``scheme`` (:data:`SCHEMES`): kept in the
    workspace, or in this session for a read-only one."""
    if scheme not in SCHEMES:
        raise ValueError(f"segment scheme: expected one of {', '.join(SCHEMES)}, got {scheme!r}")
    if spec.readonly:
        st.session_state.setdefault(SCHEME_KEY, {})[spec.slug] = scheme
    else:
        spec.workspace().set_setting(SCHEME_SETTING, scheme)


def _segmentation(spec_key: str, _spec: WorkspaceRef, k: int | str, method: str) -> Segmentation:
    return _named(spec_key, _spec, k, method, scheme_of(_spec))


@st.cache_resource(max_entries=12, show_spinner=False)
def _named(spec_key: str, _spec: WorkspaceRef, k: int | str, method: str, scheme: str):
    seg = _base_segmentation(spec_key, _spec, k, method)
    return with_scheme(seg, _profiles(spec_key, _spec), scheme)


@cached(N_("Finding segments (trying k = 3..10)…"), max_entries=12)
def _base_segmentation(
    spec_key: str, _spec: WorkspaceRef, k: int | str, method: str
) -> Segmentation:
    snap = _snapshot(spec_key, _spec)
    if snap is not None and (k, method) == ("auto", "kmeans"):
        # k = 0: too few users for clusters; pages show the RFM segments and say why
        return current_definitions(snap.segmentation)
    store = ResultStore(_spec.workspace().results_dir)
    params = {"k": k, "method": method}
    saved = store.get("segmentation", params, _spec.version)
    if saved is not None:
        return current_definitions(saved)
    job = runtime().status(PROFILES, f"{spec_key}|{k}|{method}")
    if job is not None and job.done and not job.failed:
        return current_definitions(job.result())
    seg = build_segments(_profiles(spec_key, _spec), k=k, method=method)
    ds = data.load(_spec)
    store.put(
        "segmentation", params, _spec.version, seg, data_end=ds.as_of, events=ds.events.height
    )
    return seg


DEFAULT = ("auto", "kmeans")
"""The segmentation every snapshot stores (drawn at once). Clustering with other
parameters runs in the background runtime's profiles lane (:mod:`ui.jobs`)."""


def _cluster_job(prof: pl.DataFrame, k, method: str, save, *, progress) -> Segmentation:
    progress(0.1, f"clustering {prof.height:,} users")
    seg = build_segments(prof, k=k, method=method)
    progress(0.95, "saving with the workspace")
    save(seg)
    return seg


@dataclass(frozen=True)
class SegmentView:
    """The segmentation to draw (``k`` and ``method`` say which) and the background ``job``
    computing the one asked for, when it is not ready yet (then the default is drawn)."""

    seg: Segmentation
    k: int | str
    method: str
    job: Job | None = None


def segmentation(k: int | str = "auto", method: str = "kmeans") -> SegmentView:
    """The segmentation asked for when it is ready (stored, saved or computed in this
    process); otherwise the default segmentation, drawn meanwhile, and the background job
    computing the one asked for. Clustering never runs in a page run."""
    spec = data.resolved_spec()
    key = spec.key()
    if (k, method) == DEFAULT:
        return SegmentView(_segmentation(key, spec, k, method), k, method)
    store = ResultStore(spec.workspace().results_dir)
    params = {"k": k, "method": method}
    job_key = f"{key}|{k}|{method}"
    job = runtime().status(PROFILES, job_key)
    if (job is not None and job.done and not job.failed) or store.has(
        "segmentation", params, spec.version
    ):
        return SegmentView(_segmentation(key, spec, k, method), k, method)
    if job is not None and job.failed:
        return SegmentView(_segmentation(key, spec, *DEFAULT), *DEFAULT, job)
    ds = data.load(spec)

    def save(seg: Segmentation) -> None:
        store.put(
            "segmentation", params, spec.version, seg, data_end=ds.as_of, events=ds.events.height
        )

    job = runtime().start(
        PROFILES,
        job_key,
        f"Clustering with k = {k}",
        _cluster_job,
        _profiles(key, spec),
        k,
        method,
        save,
    )
    return SegmentView(_segmentation(key, spec, *DEFAULT), *DEFAULT, job)


def retry_segmentation(job: Job) -> None:
    """Callback: forget a failed clustering job so that the next run starts it again."""
    runtime().forget(PROFILES, job.key)


def profiles_for(spec: WorkspaceRef) -> pl.DataFrame:
    """Profiles (with tags) of the workspace version ``spec`` (cached)."""
    return _profiles(spec.key(), spec)


def active_profiles() -> pl.DataFrame | None:
    """Profiles (with tags) of the active dataset. Pages call it after
    ``data.active_dataset()`` succeeded, so the dataset is not loaded again here."""
    spec = data.resolved_spec()
    if spec is None:
        return None
    prof = _profiles(spec.key(), spec)
    if prof.height > NEIGHBOURS_INLINE:  # a big store: the similar-users index gets ready
        _index_job_for(spec, prof)  # in the background meanwhile (see similar_users)
    return prof


def active_segmentation(k: int | str = "auto", method: str = "kmeans") -> Segmentation | None:
    """RFM segments and clusters of the active dataset (cached per dataset and parameters)."""
    spec = data.resolved_spec()
    return None if spec is None else _segmentation(spec.key(), spec, k, method)


@st.cache_resource(max_entries=8, show_spinner=False)
def _user_rows(key: str, _frame: pl.DataFrame) -> tuple[list[str], dict[str, int]]:
    ids = _frame["user_id"].to_list()
    return ids, {u: i for i, u in enumerate(ids)}


def user_ids() -> tuple[list[str], dict[str, int]]:
    """The active profiles' user ids in order, and each id's row number (built once per
    workspace version: a page run looks a user up without scanning the table)."""
    spec = data.resolved_spec()
    return _user_rows(f"{spec.key()}|profiles", _profiles(spec.key(), spec))


SEARCH_LIMIT = 20_000
"""Most user ids a search box lists; above it the box accepts any typed id (the browser
would receive every id on every run: 500,000 ids take about half a second a run)."""


def search_options(pool: list[str], current: str | None) -> tuple[list[str], bool]:
    """The ids a user search box lists (the first :data:`SEARCH_LIMIT` of ``pool``, with
    ``current`` first when it is not among them) and whether the box must accept a typed
    id that is not listed."""
    if len(pool) <= SEARCH_LIMIT:
        return pool, False
    head = pool[:SEARCH_LIMIT]
    if current is not None and current not in set(head):
        head = [current, *head]
    return head, True


def assignment_of(user_id: str, k: int | str = "auto", method: str = "kmeans") -> dict:
    """The user's row of the active segmentation (rfm_segment, cluster_name, ...), or an
    empty dict (as :func:`profiling.profiles.users.assignment_of`, through a row index)."""
    spec = data.resolved_spec()
    seg = _segmentation(spec.key(), spec, k, method)
    if seg is None or seg.assignments is None:
        return {}
    _ids, rows = _user_rows(f"{spec.key()}|assignments|{k}|{method}", seg.assignments)
    i = rows.get(user_id)
    return {} if i is None else seg.assignments.row(i, named=True)


@cached(N_("Indexing the profiles for similar users…"), max_entries=4)
def _neighbours(spec_key: str, _spec: WorkspaceRef) -> ProfileNeighbours:
    return ProfileNeighbours(_profiles(spec_key, _spec))


NEIGHBOURS_INLINE = 100_000
"""Up to this many users the similar-users index is built in the page run (well under a
second); above it, in the background (about 2 s at 500,000 users)."""


def _index_job(prof: pl.DataFrame, *, progress) -> ProfileNeighbours:
    progress(0.1, f"indexing {prof.height:,} profiles")
    return ProfileNeighbours(prof)


_INDEXES: dict[str, Job] = {}  # workspace version -> the job building its index (last 2)
_INDEXES_LOCK = threading.Lock()


def _index_job_for(spec: WorkspaceRef, prof: pl.DataFrame) -> Job:
    """The background job building the similar-users index of ``spec`` (started on first
    call; kept here, so the runner's own trimming of old jobs never drops a built index)."""
    with _INDEXES_LOCK:
        job = _INDEXES.get(spec.key())
        if job is None or job.failed:
            job = runtime().start(
                PROFILES, f"{spec.key()}|neighbours", "Similar users", _index_job, prof
            )
            _INDEXES[spec.key()] = job
            while len(_INDEXES) > 2:
                _INDEXES.pop(next(iter(_INDEXES)))
        return job


def similar_users(user_id: str, n: int = 5) -> tuple[pl.DataFrame | None, Job | None]:
    """The ``n`` users nearest to ``user_id`` in the active workspace's profile space (the
    index is built once per workspace version and shared), and None; or None and the
    background job building the index of a big store (the page does not wait for it)."""
    spec = data.resolved_spec()
    prof = _profiles(spec.key(), spec)
    if prof.height <= NEIGHBOURS_INLINE:
        return _neighbours(spec.key(), spec).of(user_id, n), None
    job = _index_job_for(spec, prof)
    if job.done and not job.failed:
        return job.result().of(user_id, n), None
    return None, job


@st.cache_resource(max_entries=6, show_spinner=False)
def _rfm_mix(spec_key: str, _spec: WorkspaceRef, scheme: str) -> list[SegmentDescription]:
    return rfm_mix(_profiles(spec_key, _spec), scheme)


def active_rfm_mix() -> list[SegmentDescription] | None:
    """Named RFM segments of the active dataset, or None when it has no purchases."""
    spec = data.resolved_spec()
    prof = active_profiles()
    if prof is None or "recency_days" not in prof.columns or prof["frequency"].max() == 0:
        return None
    return _rfm_mix(spec.key(), spec, scheme_of(spec))


@st.cache_resource(max_entries=6, show_spinner=False)
def _rfm(spec_key: str, _spec: WorkspaceRef, scheme: str) -> pl.DataFrame | None:
    prof = _profiles(spec_key, _spec)
    if "recency_days" not in prof.columns:
        return None
    return rfm_segments(prof, scheme).select("user_id", "rfm_segment")


def rfm_for(spec: WorkspaceRef) -> pl.DataFrame | None:
    """user_id, rfm_segment of the dataset in its scheme (cached); None when it has no
    purchase data."""
    return _rfm(spec.key(), spec, scheme_of(spec))


@st.cache_resource(max_entries=4, show_spinner=False)
def _saved_rfm_history(key: str, _spec: WorkspaceRef, params: str):
    return ResultStore(_spec.workspace().results_dir).get(
        "rfm-history", {"dates": params}, _spec.version
    )


def rfm_history(dates: tuple[datetime, ...]) -> tuple[pl.DataFrame | None, bool]:
    """(user_id, rfm_segment, as_of at each of ``dates``, profiles rebuilt as of each; or
    None when there is nothing to show) and False; or (None, True) while it is worked out in
    the background (started by this call; saved with the workspace when done)."""
    spec = data.resolved_spec()
    params = ",".join(d.isoformat() for d in dates)
    job_key = f"{spec.key()}|rfm-history|{params}"
    job = runtime().status(WORKSPACE, job_key)
    if job is not None and job.done and not job.failed:
        return job.result(), False
    store = ResultStore(spec.workspace().results_dir)
    if store.has("rfm-history", {"dates": params}, spec.version):
        return _saved_rfm_history(job_key, spec, params), False
    if job is not None and job.failed:
        return None, False
    # a worker process reads the workspace itself; a worker thread shares the loaded dataset
    ds = None if runtime().in_process(WORKSPACE) else data.load(spec)
    runtime().start(
        WORKSPACE,
        job_key,
        "Past segments",
        training.rfm_history_and_save,
        str(spec.workspace().path),
        spec.version,
        dates,
        ds,
    )
    return None, True


@st.cache_resource(max_entries=6, show_spinner=False)
def _joined(
    spec_key: str, _spec: WorkspaceRef, k: int | str, method: str, scheme: str
) -> pl.DataFrame:
    seg = _named(spec_key, _spec, k, method, scheme)
    return with_assignments(_profiles(spec_key, _spec), seg)


def segment_frame(k: int | str = "auto", method: str = "kmeans") -> pl.DataFrame:
    """Profiles of the active dataset with their RFM segment and cluster (cached, shared:
    one row per user)."""
    spec = data.resolved_spec()
    return _joined(spec.key(), spec, k, method, scheme_of(spec))


@st.cache_resource(max_entries=16, show_spinner=False)
def _standardized(key: str, _joined: pl.DataFrame, column: str, _features: list[str]):
    return standardized_means(_joined, column, _features)


def standardized(view: tuple | None, joined: pl.DataFrame, column: str, features: list[str]):
    """:func:`profiling.profiles.segments.standardized_means` of ``joined``, cached when ``view``
    names everything ``joined`` was made from besides the workspace version (segmentation
    parameters); None computes it (a custom rule being edited)."""
    if view is None:
        return standardized_means(joined, column, features)
    spec = data.resolved_spec()
    key = f"{spec.key()}|{view!r}|{column}|{features!r}"
    return _standardized(key, joined, column, features)
