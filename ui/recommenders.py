"""Cached splits, fitted models and comparisons of the active dataset.

Fitted models live in ``st.cache_resource`` (keyed by dataset spec, split parameters and
model name) and are never mutated after fitting; comparison results live in
``st.cache_data``.
"""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from profiling import schema as S
from profiling.evaluation import (
    Comparison,
    Split,
    compare,
    interactions_from,
    leave_last_n,
    precision_recall_curve,
    random_kfold,
    stratified_split,
    temporal_split,
)
from profiling.recommenders import registry
from profiling.recommenders.base import Recommender, explained_recommendations
from ui import data, profiles, state

PROTOCOLS = {
    "temporal": "Global temporal split (80% of history before one cutoff)",
    "leave-last": "Leave last purchase out per user",
    "stratified": "Stratified 75/25 per user (random)",
    "kfold": "Random 5-fold, first fold",
}


def _key(spec: state.DatasetSpec, **params) -> str:
    return spec.key() + json.dumps(params, sort_keys=True, default=str)


@st.cache_data(max_entries=8, show_spinner=False)
def _split(
    spec_key: str, _spec: state.DatasetSpec, protocol: str, relevant: tuple[str, ...]
) -> Split:
    events = data.load(_spec).events
    if protocol == "temporal":
        return temporal_split(events, test_fraction=0.2)
    if protocol == "leave-last":
        return leave_last_n(events, n=1, relevant_types=relevant or (S.PURCHASE,))
    if protocol == "stratified":
        return stratified_split(events, test_fraction=0.25)
    return random_kfold(events, n_folds=5)[0]


def _segments(spec_key: str, _spec: state.DatasetSpec) -> pl.DataFrame | None:
    """user_id, segment (the RFM segment) for segment-aware models and breakdowns."""
    rfm = profiles.rfm_for(_spec)
    return None if rfm is None else rfm.rename({"rfm_segment": "segment"})


@st.cache_resource(max_entries=64, show_spinner=False)
def _fitted(
    model_key: str, _spec: state.DatasetSpec, protocol: str, relevant: tuple[str, ...], name: str
) -> Recommender:
    spec_key = _spec.key()
    split = _split(spec_key, _spec, protocol, relevant)
    ds = data.load(_spec)
    model = registry.make(name)
    # sequential models read the order of the training events (never the test events)
    extra = {"events": split.train} if getattr(model, "uses_events", False) else {}
    return model.fit(
        interactions_from(split.train), items=ds.items, user_segments=_segments(spec_key, _spec),
        **extra,
    )  # fmt: skip


def split(protocol: str, relevant: tuple[str, ...]) -> Split:
    spec = data.resolved_spec()
    return _split(spec.key(), spec, protocol, relevant)


def fitted(protocol: str, relevant: tuple[str, ...], name: str) -> Recommender:
    """A model fitted on the training part of the split (cached, shared, never mutated)."""
    spec = data.resolved_spec()
    return _fitted(
        _key(spec, protocol=protocol, relevant=relevant, name=name), spec, protocol, relevant, name
    )


@st.cache_data(max_entries=16, show_spinner="Scoring the models…")
def _comparison(
    key: str, _spec: state.DatasetSpec, names: tuple[str, ...], protocol: str, relevant: tuple[str, ...],
    threshold: float | None, k: int,
) -> tuple[Comparison, pl.DataFrame, pl.DataFrame | None]:  # fmt: skip
    spec_key = _spec.key()
    sp = _split(spec_key, _spec, protocol, relevant)
    models = {
        n: _fitted(
            _key(_spec, protocol=protocol, relevant=relevant, name=n), _spec, protocol, relevant, n
        )
        for n in names
    }
    ds = data.load(_spec)
    segs = _segments(spec_key, _spec)
    comp = compare(
        models, sp, k=k, relevant_types=relevant, rating_threshold=threshold,
        items=ds.items, user_segments=segs, prefit=True,
    )  # fmt: skip
    curve = precision_recall_curve(comp)
    return comp, curve, comp.breakdown(segs) if segs is not None else None


def comparison(
    names: list[str], protocol: str, relevant: tuple[str, ...], threshold: float | None, k: int
):
    """(Comparison, precision/recall curve, per-segment breakdown or None), cached."""
    spec = data.resolved_spec()
    key = _key(spec, names=names, protocol=protocol, relevant=relevant, threshold=threshold, k=k)
    return _comparison(key, spec, tuple(names), protocol, relevant, threshold, k)


def implicit_rating_models(names: list[str], protocol: str, relevant: tuple[str, ...]) -> str:
    """Comma-separated names of the chosen models that had to turn events into ratings."""
    flagged = [
        n for n in names if getattr(fitted(protocol, relevant, n), "implicit_ratings_", False)
    ]
    return ", ".join(flagged)


def explained(
    model: Recommender, user_id: str, k: int, exclude_seen: bool = True, bought: list[str] = ()
) -> pl.DataFrame:
    """The model's top-k for one user with titles, reasons and already-bought marks."""
    return explained_recommendations(model, user_id, k, exclude_seen=exclude_seen, bought=bought)


@st.cache_resource(max_entries=32, show_spinner=False)
def _full_model(model_key: str, _spec: state.DatasetSpec, name: str) -> Recommender:
    ds = data.load(_spec)
    segs = _segments(_spec.key(), _spec)
    model = registry.make(name)
    extra = {"events": ds.events} if getattr(model, "uses_events", False) else {}
    return model.fit(ds.interactions(), items=ds.items, user_segments=segs, **extra)


def full_model(name: str) -> Recommender:
    """A model trained on the whole active dataset (for one user's recommendations);
    trained once per dataset and model, then shared and never mutated."""
    spec = data.resolved_spec()
    return _full_model(_key(spec, full=True, name=name), spec, name)


def training_note(model: Recommender) -> str:
    """How a deep sequential model's training went (" · 12 epoch(s), stopped by early
    stopping, ..."), or "" for the other models."""
    summary = getattr(model, "training_summary", None)
    return f" · {summary()}" if callable(summary) else ""
