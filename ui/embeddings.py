"""Maps of the active dataset's users: inputs, PCA at once, UMAP in the background.

UMAP runs in the background runtime's maps lane (:mod:`ui.jobs`), after the numba warm-up
that app.py starts when the server serves its first page. Finished maps are kept with their
job and on disk (:class:`profiling.profiles.embeddings.EmbeddingCache`), keyed by the
dataset fingerprint, the source, the features and the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import streamlit as st

from profiling.jobs import Job
from profiling.profiles import embeddings as E
from profiling.vocabulary.i18n import N_
from ui import data, profiles, recommenders
from ui.i18n import cached
from ui.jobs import MAPS, runtime

WARM_UP = "umap-warm-up"


@st.cache_resource(max_entries=8, show_spinner=False)
def _disk_at(directory: str) -> E.EmbeddingCache:
    return E.EmbeddingCache(directory)


def _disk() -> E.EmbeddingCache:
    """The active workspace's map cache (in its folder: deleting it deletes its maps)."""
    return _disk_at(str(data.resolved_spec().workspace().maps_dir))


def start_warm_up() -> None:
    """Start the maps worker and its UMAP warm-up once per runtime (a failed warm-up is not
    started again by every page run); cheap afterwards."""
    if runtime().status(MAPS, WARM_UP) is None:
        runtime().start(MAPS, WARM_UP, "UMAP warm-up", E.warm_up)


def warm_up_job() -> Job | None:
    return runtime().status(MAPS, WARM_UP)


@dataclass(frozen=True)
class MapInput:
    """The rows to project: user ids, their matrix, feature names, total users."""

    ids: list[str]
    matrix: np.ndarray
    features: list[str]
    n_users_total: int
    fingerprint: str


@cached(N_("Preparing the map's input…"), max_entries=8)  # shared, not copied
def _input(spec_key: str, _spec: data.WorkspaceRef, source: str, max_users: int) -> MapInput:
    prof = profiles.profiles_for(_spec)
    if source == "profile":
        ids, x, feats = E.profile_matrix(prof)
    else:
        ids, x, feats = E.factor_matrix(recommenders.full_model(source))
    strata = None
    rfm = profiles.rfm_for(_spec)
    if rfm is not None:
        seg = dict(rfm.iter_rows())
        strata = [seg.get(u) for u in ids]
    keep = E.stratified_sample(ids, strata, max_users=max_users)
    fingerprint = data.load(_spec).fingerprint
    return MapInput([ids[i] for i in keep], x[keep], feats, len(ids), fingerprint)


def map_input(source: str) -> MapInput:
    """What the map of the active dataset projects (at most ``E.MAX_POINTS`` users)."""
    spec = data.resolved_spec()
    return _input(spec.key(), spec, source, E.MAX_POINTS)


def _key(inp: MapInput, source: str, params: E.EmbeddingParams) -> str:
    return E.cache_key(inp.fingerprint, source, inp.features, params, len(inp.ids))


@st.cache_resource(max_entries=16, show_spinner=False)  # shared, not copied
def _pca(key: str, _inp: MapInput, source: str, params: E.EmbeddingParams) -> E.Embedding:
    return E.embed(
        _inp.ids,
        _inp.matrix,
        params,
        source=source,
        features=_inp.features,
        n_users_total=_inp.n_users_total,
    )


def pca(inp: MapInput, source: str, n_components: int) -> E.Embedding:
    """PCA of the input (instant, cached)."""
    params = E.EmbeddingParams(method="pca", n_components=n_components)
    return _pca(_key(inp, source, params), inp, source, params)


def umap(inp: MapInput, source: str, params: E.EmbeddingParams) -> E.Embedding | Job:
    """The UMAP map if it is ready (in memory or on disk); otherwise the background job
    computing it (started now if needed), whose progress the page can show."""
    key = _key(inp, source, params)
    job = runtime().status(MAPS, key)
    if job is not None:  # running, failed (the page says why) or done
        return job.result() if job.done and not job.failed else job
    cached = _disk().get(key)
    if cached is not None:
        return cached
    return runtime().start(
        MAPS,
        key,
        "UMAP",
        E.embed_and_store,
        inp.ids,
        inp.matrix,
        params,
        source,
        inp.features,
        inp.n_users_total,
        str(_disk().directory),
        key,
    )


def retry(job: Job) -> None:
    """Callback: forget a failed job so the next run starts it again."""
    runtime().forget(MAPS, job.key)


def segment_columns() -> tuple[str, ...]:
    """The segment columns the map can show for the active dataset."""
    spec = data.resolved_spec()
    rfm = ("rfm_segment",) if profiles.rfm_for(spec) is not None else ()
    return (*rfm, "cluster_name")


def color_options() -> dict[str, str]:
    from ui import predict

    options = E.color_options(profiles.active_profiles(), segment_columns())
    return options | predict.map_color_options()  # predicted scores, once they are ready


def table(emb: E.Embedding, clusters: bool) -> pl.DataFrame:
    """Coordinates joined with profiles and RFM segments, plus the cluster names when
    ``clusters`` (clustering takes a moment, so only when the map is coloured by them)."""
    spec = data.resolved_spec()
    if clusters:
        seg = profiles.active_segmentation()
        assignments = seg.assignments if seg else None
    else:
        assignments = profiles.rfm_for(spec)
    from ui import predict

    return predict.with_map_scores(E.map_table(emb, profiles.active_profiles(), assignments))
