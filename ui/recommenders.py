"""Cached splits, fitted models, tuning and comparisons of the active dataset.

Fitted models live in ``st.cache_resource`` (keyed by dataset spec, split parameters and
model name) and are never mutated after fitting; comparison results live in
``st.cache_data``. Everything a model is given in an evaluation (interactions, segments)
comes from the training part of the split only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import polars as pl
import streamlit as st

from profiling.evaluation import (
    PROTOCOLS,
    Comparison,
    FoldedComparison,
    Relevance,
    Split,
    compare,
    compare_folds,
    interactions_from,
    make_splits,
    precision_recall_curve,
    relevance_for,
    train_segments,
)
from profiling.jobs import Job, JobRunner
from profiling.recommenders import cost, registry
from profiling.recommenders.base import Recommender, explained_recommendations
from ui import data, persist, profiles

__all__ = ["PROTOCOLS"]

TUNABLE = ("ease", "als", "bpr", "item-knn", "hybrid")
"""Models the page can tune (those with a grid in :mod:`profiling.recommenders.tune`)."""
TUNE_BUDGET = 30.0
"""Seconds of tuning per model (and per fold with k-fold)."""


def _key(spec: data.WorkspaceRef, **params) -> str:
    return spec.key() + json.dumps(params, sort_keys=True, default=str)


@st.cache_data(max_entries=8, show_spinner=False)
def _relevance(
    spec_key: str, _spec: data.WorkspaceRef, relevant: tuple[str, ...] | None, threshold
) -> Relevance:
    return relevance_for(data.load(_spec).events, types=relevant, rating_threshold=threshold)


def relevance(relevant: tuple[str, ...] | None, threshold: float | None) -> Relevance:
    """The relevance rule: the log's default when ``relevant`` is None (see
    :func:`profiling.evaluation.relevance_for`)."""
    spec = data.resolved_spec()
    return _relevance(spec.key(), spec, relevant, threshold)


@st.cache_data(max_entries=8, show_spinner=False)
def _splits(
    spec_key: str, _spec: data.WorkspaceRef, protocol: str, relevant: tuple[str, ...]
) -> list[Split]:
    return make_splits(data.load(_spec).events, protocol, relevant_types=relevant or ("purchase",))


@st.cache_data(max_entries=8, show_spinner=False)
def _segments(
    spec_key: str, _spec: data.WorkspaceRef, protocol: str, relevant: tuple[str, ...]
) -> pl.DataFrame | None:
    """user_id, segment: RFM segments of the first split's training part (no leak)."""
    return train_segments(_splits(spec_key, _spec, protocol, relevant)[0])


@st.cache_resource(max_entries=64, show_spinner=False)
def _fitted(
    model_key: str,
    _spec: data.WorkspaceRef,
    protocol: str,
    relevant: tuple[str, ...],
    name: str,
    params: str = "{}",
) -> Recommender:
    spec_key = _spec.key()

    def fit() -> Recommender:
        split = _splits(spec_key, _spec, protocol, relevant)[0]
        ds = data.load(_spec)
        model = registry.make(name).set_params(**json.loads(params))
        # sequential models read the order of the training events (never the test events)
        extra = {"events": split.train} if getattr(model, "uses_events", False) else {}
        return model.fit(
            interactions_from(split.train),
            items=ds.items,
            user_segments=_segments(spec_key, _spec, protocol, relevant),
            **extra,
        )

    # saved with the workspace: a restarted server reloads it instead of training again
    saved_as = {"protocol": protocol, "relevant": list(relevant), "name": name, "params": params}
    return persist.get_or_compute(_spec, "fitted", saved_as, fit).value


def split(protocol: str, relevant: tuple[str, ...]) -> Split:
    """The split (the first fold for k-fold) of the active dataset."""
    spec = data.resolved_spec()
    return _splits(spec.key(), spec, protocol, relevant)[0]


def fitted(protocol: str, relevant: tuple[str, ...], name: str, params: dict | None = None):
    """A model fitted on the training part of the split (cached, shared, never mutated)."""
    spec = data.resolved_spec()
    p = json.dumps(params or {}, sort_keys=True)
    key = _key(spec, protocol=protocol, relevant=relevant, name=name, params=p)
    return _fitted(key, spec, protocol, relevant, name, p)


@st.cache_data(max_entries=16, show_spinner=False)
def _tuned(key: str, _spec: data.WorkspaceRef, protocol: str, relevant: tuple[str, ...],
           threshold: float | None, k: int, name: str, budget: float) -> dict:  # fmt: skip
    from profiling.recommenders.tune import tune

    spec_key = _spec.key()
    sp = _splits(spec_key, _spec, protocol, relevant)[0]
    rule = _relevance(spec_key, _spec, relevant or None, threshold)
    result = tune(name, sp, relevance=rule, items=data.load(_spec).items, k=k,
                  budget_seconds=budget)  # fmt: skip
    return result.to_dict()


def tuned(name: str, protocol: str, relevant: tuple[str, ...], threshold: float | None, k: int,
          budget: float = TUNE_BUDGET) -> dict:  # fmt: skip
    """Hyperparameters of ``name`` chosen on a validation split carved from the training
    part (cached): the :meth:`profiling.recommenders.tune.TuneResult.to_dict` entry."""
    spec = data.resolved_spec()
    key = _key(spec, tune=name, protocol=protocol, relevant=relevant, threshold=threshold, k=k,
               budget=budget)  # fmt: skip
    return _tuned(key, spec, protocol, relevant, threshold, k, name, budget)


def tuned_table(entries: dict[str, dict] | list[dict[str, dict]]) -> pl.DataFrame:
    """One row per tuned model (per fold when given a list of per-fold entries): [fold,]
    model, settings (chosen parameters), validation NDCG of the chosen and of the default
    settings, settings tried, seconds."""
    if isinstance(entries, list):
        return pl.concat(
            [
                tuned_table(e).select(pl.lit(f + 1).alias("fold"), pl.all())
                for f, e in enumerate(entries)
                if e
            ]
        )
    return pl.DataFrame(
        [
            {
                "model": name,
                "settings": json.dumps(e["params"], sort_keys=True),
                "validation NDCG": e["validation_ndcg"],
                "default's validation NDCG": e["default_validation_ndcg"],
                "settings tried": e["tried"],
                "seconds": e["seconds"],
            }
            for name, e in entries.items()
        ]
    )


def _comparison_params(names, protocol, relevant, threshold, k, params, tune_folds) -> dict:
    return {"names": list(names), "protocol": protocol, "relevant": list(relevant),
            "threshold": threshold, "k": k, "params": params, "tune_folds": tune_folds}  # fmt: skip


@st.cache_resource(max_entries=16, show_spinner="Scoring the models…")
def _comparison(
    key: str, _spec: data.WorkspaceRef, names: tuple[str, ...], protocol: str, relevant: tuple[str, ...],
    threshold: float | None, k: int, params: str, tune_folds: bool,
) -> tuple[Comparison, pl.DataFrame, pl.DataFrame | None, FoldedComparison | None, list[dict]]:  # fmt: skip
    saved_as = _comparison_params(names, protocol, relevant, threshold, k, params, tune_folds)
    return persist.get_or_compute(
        _spec, "comparison", saved_as,
        lambda: _compute_comparison(_spec, names, protocol, relevant, threshold, k, params,
                                    tune_folds),
    ).value  # fmt: skip


def previous_comparison(
    names: list[str], protocol: str, relevant: tuple[str, ...], threshold: float | None, k: int,
    params: dict | None = None, tune_folds: bool = False,
) -> persist.Saved | None:  # fmt: skip
    """The comparison with these settings saved with the workspace, current or stale (for
    older data), or None; never computes."""
    spec = data.resolved_spec()
    p = json.dumps(params or {}, sort_keys=True)
    saved_as = _comparison_params(names, protocol, relevant, threshold, k, p, tune_folds)
    return persist.previous(spec, "comparison", saved_as)


def _compute_comparison(_spec, names, protocol, relevant, threshold, k, params, tune_folds):
    spec_key = _spec.key()
    splits = _splits(spec_key, _spec, protocol, relevant)
    rule = _relevance(spec_key, _spec, relevant or None, threshold)
    chosen = json.loads(params)
    ds = data.load(_spec)
    folded, fold_tuned = None, []
    if len(splits) > 1:

        def fold_models(split: Split) -> dict[str, Recommender]:
            # tuned inside every fold, on that fold's training part only
            from profiling.recommenders.tune import hybrid_of, tune

            out, entries = {}, {}
            for n in sorted(names, key=lambda n: n == "hybrid"):
                if tune_folds and n in TUNABLE:
                    base = (
                        hybrid_of({m: out[m] for m in out if m in TUNABLE})
                        if n == "hybrid"
                        else None
                    )
                    result = tune(n, split, relevance=rule, items=ds.items, k=k,
                                  budget_seconds=TUNE_BUDGET, model=base)  # fmt: skip
                    out[n], entries[n] = result.model, result.to_dict()
                else:
                    out[n] = registry.make(n)
            fold_tuned.append(entries)
            return {n: out[n] for n in names}

        folded = compare_folds(fold_models, splits, k=k, relevant_types=rule, items=ds.items)
        comp = folded.comparisons[0]
    else:
        models = {
            n: _fitted(
                _key(_spec, protocol=protocol, relevant=relevant, name=n,
                     params=json.dumps(chosen.get(n, {}), sort_keys=True)),
                _spec, protocol, relevant, n, json.dumps(chosen.get(n, {}), sort_keys=True),
            )
            for n in names
        }  # fmt: skip
        segs = _segments(spec_key, _spec, protocol, relevant)
        comp = compare(
            models, splits[0], k=k, relevant_types=rule, items=ds.items, user_segments=segs,
            prefit=True,
        )  # fmt: skip
    curve = precision_recall_curve(comp)
    by_segment = comp.breakdown(comp.segments) if comp.segments is not None else None
    return comp, curve, by_segment, folded, fold_tuned


def comparison(
    names: list[str], protocol: str, relevant: tuple[str, ...], threshold: float | None, k: int,
    params: dict | None = None, tune_folds: bool = False,
):  # fmt: skip
    """(Comparison of the split or first fold, precision/recall/F1 curve, per-segment
    breakdown or None, FoldedComparison for k-fold or None, tuned entries per fold), cached.
    ``params``: model name -> tuned hyperparameters (single split); ``tune_folds``: with
    k-fold, tune every tunable model inside every fold, on that fold's training part."""
    spec = data.resolved_spec()
    p = json.dumps(params or {}, sort_keys=True)
    key = _key(spec, names=names, protocol=protocol, relevant=relevant, threshold=threshold, k=k,
               params=p, tune_folds=tune_folds)  # fmt: skip
    return _comparison(key, spec, tuple(names), protocol, relevant, threshold, k, p, tune_folds)


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


def _segments_of(spec: data.WorkspaceRef) -> pl.DataFrame | None:
    rfm = profiles.rfm_for(spec)
    return None if rfm is None else rfm.rename({"rfm_segment": "segment"})


def _fit_full(name: str, ds, segs, save, *, progress) -> Recommender:
    """Fit ``name`` on the whole dataset and save it with the workspace (worker job)."""
    progress(0.05, f"training {name}")
    model = registry.make(name)
    extra = {"events": ds.events} if getattr(model, "uses_events", False) else {}
    model = model.fit(ds.interactions(), items=ds.items, user_segments=segs, **extra)
    progress(0.95, "saving with the workspace")
    save(model)
    return model


_TRAINER: JobRunner | None = None
_TRAINER_LOCK = threading.Lock()


def _trainer() -> JobRunner:
    """One background thread per server process trains the User page's models, one at a
    time (a module global like the map's worker: clearing caches must not orphan a job)."""
    global _TRAINER
    with _TRAINER_LOCK:
        if _TRAINER is None:
            _TRAINER = JobRunner(processes=False, keep=16)
        return _TRAINER


def _params(name: str) -> dict:
    return {"model": name, "full": True}


@st.cache_resource(max_entries=16, show_spinner=False)
def _load_saved(key: str, _spec: data.WorkspaceRef, name: str, version: str):
    """A model saved with the workspace (for ``version``), loaded once and shared."""
    return persist.store(_spec).get("model", _params(name), version)


@dataclass(frozen=True)
class ModelState:
    """Where one model of the User page stands: ``model`` when a list can be shown
    (``stale`` says so when it was trained on older data), else the background ``job``
    training it, or ``too_big`` when it would not fit this machine and was not started."""

    name: str
    model: Recommender | None = None
    stale: str | None = None
    job: Job | None = None
    too_big: str | None = None


def shape() -> cost.Shape:
    """The active dataset's size for the cost rule (events bound the interactions)."""
    s = data.load(data.resolved_spec()).summary()
    return cost.Shape(users=s["users"], items=s["items"], interactions=s["events"])


def default_user_models() -> list[str]:
    """The User page's default lists: item-kNN, EASE and content-based, with ALS in place
    of any that would not fit this machine."""
    wanted = ["item-knn", "ease", "content"]
    fit = cost.affordable(wanted, shape())
    if len(fit) < len(wanted) and "als" not in fit and cost.fits("als", shape()):
        fit.append("als")
    return fit


def _job_key(spec: data.WorkspaceRef, name: str) -> str:
    return _key(spec, full=True, name=name)


def _start(spec: data.WorkspaceRef, name: str) -> Job:
    ds = data.load(spec)
    results = persist.store(spec)
    end, n, version = ds.as_of, ds.events.height, spec.version

    def save(model: Recommender) -> None:
        results.put("model", _params(name), version, model, data_end=end, events=n)

    return _trainer().submit(
        _job_key(spec, name), f"Training {name}", _fit_full, name, ds, _segments_of(spec), save
    )


def model_state(name: str, *, start: bool = True) -> ModelState:
    """The model trained on the whole active dataset for one user's lists, without ever
    waiting for training: finished in this process, saved with the workspace, saved for
    older data (stale), or started in the background now (when it fits the machine)."""
    spec = data.resolved_spec()
    job = _trainer().get(_job_key(spec, name))
    if job is not None and job.done and not job.failed:
        return ModelState(name, model=job.result())
    results = persist.store(spec)
    params = _params(name)
    if results.has(params=params, kind="model", data_version=spec.version):
        return ModelState(name, model=_load_saved(spec.key() + name, spec, name, spec.version))
    if job is not None:  # running, or failed (the page shows why and offers a retry)
        return ModelState(name, job=job, **_stale(spec, results, name))
    stale = _stale(spec, results, name)
    if stale:
        return ModelState(name, **stale)
    need = cost.estimate(name, shape())
    if need.bytes > cost.budget():
        return ModelState(
            name,
            too_big=f"{name} would need {need.describe()}; this machine allows "
            f"{cost.human_bytes(cost.budget())} per model, so it was not started. "
            "Pick a lighter model (item-knn or als).",
        )
    return ModelState(name, job=_start(spec, name) if start else None)


def _stale(spec: data.WorkspaceRef, results, name: str) -> dict:
    info = results.latest("model", _params(name))
    if info is None or info.data_version == spec.version:
        return {}
    model = _load_saved(spec.key() + name + info.data_version, spec, name, info.data_version)
    if model is None:
        return {}
    newer = max(data.load(spec).events.height - info.events, 0)
    saved = persist.Saved(model, info, True, newer)
    return {"model": model, "stale": saved.describe()}


def retrain(name: str) -> None:
    """Callback: train ``name`` again on the current data, in the background."""
    spec = data.resolved_spec()
    job = _trainer().get(_job_key(spec, name))
    if job is not None and job.failed:
        _trainer().forget(job.key)
    _start(spec, name)


def full_model(name: str) -> Recommender:
    """A model trained on the whole active dataset, waiting for it when it is not ready
    (for callers that need the model itself, such as the map's factor source). Saved
    with the workspace like the User page's models."""
    state = model_state(name)
    if state.model is not None and state.stale is None:
        return state.model
    job = state.job or _start(data.resolved_spec(), name)
    return job.future.result()


def buy_again(model: Recommender, user_id: str, bought: list[str], k: int = 10) -> pl.DataFrame:
    """The user's own purchases to buy again, best first (the buy-again model trained on
    the whole dataset): rank, item_id, title, score, reason, is_fallback, already_bought;
    only items the user bought (empty when they bought nothing)."""
    table = explained(model, user_id, k, exclude_seen=False, bought=bought)
    return table.filter(pl.col("already_bought"))


def training_note(model: Recommender) -> str:
    """How a deep sequential model's training went (" · 12 epoch(s), stopped by early
    stopping, ..."), or "" for the other models."""
    summary = getattr(model, "training_summary", None)
    return f" · {summary()}" if callable(summary) else ""
