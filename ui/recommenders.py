"""Splits, fitted models, tuning and comparisons of the active dataset.

Splits, rules and loaded models are shared through ``st.cache_resource`` (never copied per
page run, never mutated). Training, tuning and scoring run in the background runtime
(:mod:`ui.jobs`: comparisons in its compare lane, the User page's models in its workspace
lane, saved models read in its loads lane), so no page waits for a model; results are saved
with the workspace. Everything a model is given in an evaluation (interactions, segments) comes
from the training part of the split only.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass

import polars as pl
import streamlit as st

from profiling.errors import ProfilingError
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
from profiling.evaluation.tune import setting_rows
from profiling.jobs import Job
from profiling.recommenders import cost, registry
from profiling.recommenders.base import Recommender, explained_recommendations
from profiling.recommenders.sequence import summary_text
from profiling.vocabulary import fmt, i18n
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import training
from profiling.workspace.results import ResultStore
from ui import data, persist, profiles
from ui.i18n import cached
from ui.jobs import COMPARE, LOADS, WORKSPACE, runtime

__all__ = ["PROTOCOLS"]

TUNABLE = ("ease", "als", "bpr", "item-knn", "hybrid")
"""Models the page can tune (those with a grid in :mod:`profiling.evaluation.tune`)."""
TUNE_BUDGET = 30.0
"""Seconds of tuning per model (and per fold with k-fold)."""


def _key(spec: data.WorkspaceRef, **params) -> str:
    return spec.key() + json.dumps(params, sort_keys=True, default=str)


# Splits, relevance rules and segments are shared without copying (st.cache_resource): a
# split holds the events of its parts, which st.cache_data would unpickle on every run.
@st.cache_resource(max_entries=8, show_spinner=False)
def _relevance(
    spec_key: str, _spec: data.WorkspaceRef, relevant: tuple[str, ...] | None, threshold
) -> Relevance:
    return relevance_for(data.load(_spec).events, types=relevant, rating_threshold=threshold)


def relevance(relevant: tuple[str, ...] | None, threshold: float | None) -> Relevance:
    """The relevance rule: the log's default when ``relevant`` is None (see
    :func:`profiling.evaluation.relevance_for`)."""
    spec = data.resolved_spec()
    return _relevance(spec.key(), spec, relevant, threshold)


@cached(N_("Splitting the log…"), max_entries=4)
def _splits(
    spec_key: str, _spec: data.WorkspaceRef, protocol: str, relevant: tuple[str, ...]
) -> list[Split]:
    return make_splits(data.load(_spec).events, protocol, relevant_types=relevant or ("purchase",))


@st.cache_resource(max_entries=4, show_spinner=False)
def _segments(
    spec_key: str, _spec: data.WorkspaceRef, protocol: str, relevant: tuple[str, ...]
) -> pl.DataFrame | None:
    """user_id, segment: RFM segments of the first split's training part (no leak)."""
    return train_segments(_splits(spec_key, _spec, protocol, relevant)[0])


def split(protocol: str, relevant: tuple[str, ...]) -> Split:
    """The split (the first fold for k-fold) of the active dataset."""
    spec = data.resolved_spec()
    return _splits(spec.key(), spec, protocol, relevant)[0]


PROTOCOL_NAMES: dict[str, str] = {
    "temporal": N_("one cutoff date for everyone"),
    "leave-last": N_("each customer's last purchase"),
    "stratified": N_("25% of each customer's items"),
    "kfold": N_("5 random rounds"),
}
"""Short names of the protocols for the page's box (English msgids); the full descriptions
(:data:`PROTOCOLS`) are its help text."""

PROTOCOL_HELP: dict[str, str] = {
    "temporal": N_(
        "Global temporal split: 80% of the history before one cutoff date trains, what "
        "customers did after it tests. No model sees future popularity."
    ),
    "leave-last": N_(
        "Leave the last one out: each customer's last relevant event is held out for the test."
    ),
    "stratified": N_(
        "Stratified 75/25 per customer: a random quarter of each customer's items tests."
    ),
    "kfold": N_(
        "Random 5-fold cross-validation: five rounds, each holding out a different fifth of "
        "the rows (the protocol of published rating benchmarks)."
    ),
}


def model_name(name: str) -> str:
    """A model's short name in the page's language (for boxes, chips and tables)."""
    return G.model_label(name)


def models_help() -> str:
    """The models box's help: what each model does, one line each (Markdown list)."""
    return "\n".join(
        f"- **{model_name(n)}**: {_(registry.DESCRIPTIONS[n])}" for n in registry.MODELS
    )


def protocol_name(protocol: str) -> str:
    """A protocol's short name in the page's language."""
    return _(PROTOCOL_NAMES[protocol]) if protocol in PROTOCOL_NAMES else protocol


def protocols_help() -> str:
    """The protocol box's help: each protocol in full (Markdown list)."""
    return "\n".join(f"- **{protocol_name(p)}**: {_(PROTOCOL_HELP[p])}" for p in PROTOCOL_NAMES)


def split_words(split: Split, protocol: str) -> str:
    """The split in one line of the page's language: the library's own line in English
    (with its counts); in another language the protocol's name, with the cutoff date of a
    temporal split."""
    if i18n.get_language() == i18n.DEFAULT:
        return split.description
    if split.cutoff is not None:
        return _("trained before {day}, tested after ({protocol})").format(
            day=fmt.date_text(split.cutoff), protocol=protocol_name(protocol)
        )
    return protocol_name(protocol)


def tuned_table(entries: dict[str, dict] | list[dict[str, dict]]) -> pl.DataFrame:
    """The tuned settings in plain words: one row per setting of each tuned model (and
    fold, given a list of per-fold entries), headers in the current language: [fold,]
    model, setting, chosen value, then the model's validation NDCG with the chosen and the
    default settings, settings tried and seconds (repeated on each of its rows)."""
    if isinstance(entries, list):
        return pl.concat(
            [
                tuned_table(e).select(pl.lit(f + 1).alias(_("fold")), pl.all())
                for f, e in enumerate(entries)
                if e
            ]
        )
    rows = [
        {
            _("model"): G.model_label(name),
            _("setting"): setting,
            _("chosen value"): value,
            _("validation NDCG"): e["validation_ndcg"],
            _("with the default settings"): e["default_validation_ndcg"],
            _("settings tried"): e["tried"],
            _("seconds"): e["seconds"],
        }
        for name, e in entries.items()
        for setting, value in setting_rows(e["params"]) or [("—", "—")]
    ]
    return pl.DataFrame(rows)


@dataclass(frozen=True)
class Settings:
    """What the Recommenders page's form asked for."""

    names: tuple[str, ...]
    protocol: str
    relevant: tuple[str, ...]
    threshold: float | None
    k: int
    tune: bool = False

    @property
    def tune_folds(self) -> bool:
        """With k-fold, tuning happens inside every fold, on that fold's training part."""
        return self.tune and self.protocol == "kfold"

    def saved_as(self) -> dict:
        return {
            "names": list(self.names),
            "protocol": self.protocol,
            "relevant": list(self.relevant),
            "threshold": self.threshold,
            "k": self.k,
            "tune": self.tune,
            "v": 2,
        }


@dataclass(frozen=True)
class Run:
    """A finished comparison: the split's (or first fold's) comparison, the precision/
    recall/F1 curve, the per-segment breakdown (or None), the k-fold comparison (or None),
    the tuned settings (per fold with k-fold; ``chosen`` holds the single split's), one
    "trained in …" line per model, and the models that turned events into ratings."""

    comp: Comparison
    curve: pl.DataFrame
    by_segment: pl.DataFrame | None
    folded: FoldedComparison | None
    tuned: dict[str, dict]
    fold_tuned: list[dict]
    chosen: dict[str, dict]
    trained: dict[str, str]
    implicit: tuple[str, ...]

    @property
    def metrics(self) -> pl.DataFrame:
        return self.folded.metrics if self.folded is not None else self.comp.metrics

    @property
    def implicit_names(self) -> str:
        return ", ".join(self.implicit)


def _fitted_params(settings: Settings, name: str, params: dict) -> dict:
    return {
        "protocol": settings.protocol,
        "relevant": list(settings.relevant),
        "name": name,
        "params": json.dumps(params, sort_keys=True),
    }


def _fit(name: str, params: dict, split: Split, ds, segs, progress) -> Recommender:
    """``name`` fitted on the training part of ``split`` only (sequential models read the
    order of the training events, never the test events)."""
    model = registry.make(name).set_params(**params)
    extra = {"events": split.train} if getattr(model, "uses_events", False) else {}
    if "progress" in inspect.signature(model.fit).parameters:
        extra["progress"] = progress
    return model.fit(interactions_from(split.train), items=ds.items, user_segments=segs, **extra)


def _compare(
    settings: Settings,
    ds,
    splits: list[Split],
    rule: Relevance,
    segs,
    results: ResultStore,
    version: str,
    *,
    progress,
) -> tuple[Run, dict]:
    """Tune (on validation only), fit, score and save a comparison; returns (the run, the
    fitted models by name). What it saves is language-neutral (the "trained in" lines are
    English, shown in the reader's language by :func:`trained_lines`)."""
    from profiling.evaluation.tune import hybrid_of, tune

    names, k = list(settings.names), settings.k
    saved = {"data_end": ds.as_of, "events": ds.events.height}
    steps = len(names) * (2 if settings.tune and not settings.tune_folds else 1) + 1
    done = 0

    def step(message: str) -> None:
        nonlocal done
        progress(min(done / steps, 0.99), message)
        done += 1

    chosen, tuned = {}, {}
    if settings.tune and not settings.tune_folds:
        for name in names:
            step(
                _("Tuning {model} on a validation split of the training part").format(
                    model=model_name(name)
                )
            )
            if name in TUNABLE:
                result = tune(
                    name, splits[0], relevance=rule, items=ds.items, k=k, budget_seconds=TUNE_BUDGET
                )
                tuned[name] = result.to_dict()
                chosen[name] = tuned[name]["params"]
    models, trained = {}, {}
    for i, name in enumerate(names, start=1):
        step(_("Training {model} ({i} of {n})").format(model=model_name(name), i=i, n=len(names)))
        params = _fitted_params(settings, name, chosen.get(name, {}))
        model = results.get("fitted", params, version)
        if model is None:
            base = done / steps

            def within(fraction: float, message: str, base=base, name=name) -> None:
                progress(
                    min(base + fraction / steps, 0.99),
                    _("Training {model}: {message}").format(
                        # a model's own progress lines start with its name, said once here
                        model=model_name(name),
                        message=message.removeprefix(f"{name}: "),
                    ),
                )

            model = _fit(name, chosen.get(name, {}), splits[0], ds, segs, within)
            results.put("fitted", params, version, model, **saved)
        models[name] = model
        trained[name] = f"trained in {model.fit_seconds_:.2f} s{training_note(model)}"
    step(_("Scoring on the test period"))
    folded, fold_tuned = None, []
    if len(splits) > 1:

        def fold_models(split: Split) -> dict[str, Recommender]:
            # tuned inside every fold, on that fold's training part only
            out, entries = {}, {}
            for n in sorted(names, key=lambda n: n == "hybrid"):
                if settings.tune_folds and n in TUNABLE:
                    base = (
                        hybrid_of({m: out[m] for m in out if m in TUNABLE})
                        if n == "hybrid"
                        else None
                    )
                    result = tune(
                        n,
                        split,
                        relevance=rule,
                        items=ds.items,
                        k=k,
                        budget_seconds=TUNE_BUDGET,
                        model=base,
                    )
                    out[n], entries[n] = result.model, result.to_dict()
                else:
                    out[n] = registry.make(n)
            fold_tuned.append(entries)
            return {n: out[n] for n in names}

        folded = compare_folds(fold_models, splits, k=k, relevant_types=rule, items=ds.items)
        comp = folded.comparisons[0]
    else:
        comp = compare(
            models,
            splits[0],
            k=k,
            relevant_types=rule,
            items=ds.items,
            user_segments=segs,
            prefit=True,
        )
    curve = precision_recall_curve(comp)
    by_segment = comp.breakdown(comp.segments) if comp.segments is not None else None
    implicit = tuple(n for n in names if getattr(models[n], "implicit_ratings_", False))
    run = Run(comp, curve, by_segment, folded, tuned, fold_tuned, chosen, trained, implicit)
    progress(0.995, _("Saving with the workspace"))
    results.put("comparison", settings.saved_as(), version, run, **saved)
    return run, models


def _run_key(spec: data.WorkspaceRef, settings: Settings) -> str:
    return _key(spec, compare=settings.saved_as())


def start_comparison(settings: Settings) -> Job | None:
    """Train and compare in the background (deduplicated: the same settings on the same
    data share one job); the page polls :func:`comparison_state`. Nothing starts (None)
    when a comparison with these settings is saved for the current data."""
    spec = data.resolved_spec()
    if persist.store(spec).has("comparison", settings.saved_as(), spec.version):
        return None
    key = spec.key()
    splits = _splits(key, spec, settings.protocol, settings.relevant)
    rule = _relevance(key, spec, settings.relevant or None, settings.threshold)
    segs = _segments(key, spec, settings.protocol, settings.relevant)
    job = runtime().status(COMPARE, _run_key(spec, settings))
    if job is not None and job.failed:
        runtime().forget(COMPARE, job.key)
    return runtime().start(
        COMPARE,
        _run_key(spec, settings),
        _("Comparing models"),
        _compare,
        settings,
        data.load(spec),
        splits,
        rule,
        segs,
        persist.store(spec),
        spec.version,
    )


@dataclass(frozen=True)
class RunState:
    """Where the page's comparison stands: ``run`` to show (``saved`` says it came from the
    workspace; ``saved.stale`` that it was for older data), or the background ``job``."""

    run: Run | None = None
    saved: persist.Saved | None = None
    job: Job | None = None


def comparison_state(settings: Settings) -> RunState:
    """The comparison for these settings without ever waiting: finished in this process,
    saved with the workspace (current or stale), or being computed in the background."""
    spec = data.resolved_spec()
    job = runtime().status(COMPARE, _run_key(spec, settings))
    if job is not None and job.done and not job.failed:
        return RunState(run=job.result()[0])
    saved = persist.previous(spec, "comparison", settings.saved_as())
    if saved is not None and not saved.stale:
        return RunState(run=saved.value, saved=saved)
    return RunState(run=saved.value if saved else None, saved=saved, job=job)


@st.cache_resource(max_entries=16, show_spinner=False)
def _load_fitted(key: str, _spec: data.WorkspaceRef, params: str):
    return persist.store(_spec).get("fitted", json.loads(params), _spec.version)


def compared_model(settings: Settings, run: Run, name: str) -> Recommender | None:
    """The model of a finished comparison (fitted on the first split's training part), from
    this process's job or the workspace; None when it could not be saved (then it must be
    trained again)."""
    spec = data.resolved_spec()
    job = runtime().status(COMPARE, _run_key(spec, settings))
    if job is not None and job.done and not job.failed:
        return job.result()[1].get(name)
    params = json.dumps(_fitted_params(settings, name, run.chosen.get(name, {})), sort_keys=True)
    return _load_fitted(spec.key() + params, spec, params)


def explained(
    model: Recommender, user_id: str, k: int, exclude_seen: bool = True, bought: list[str] = ()
) -> pl.DataFrame:
    """The model's top-k for one user with titles, reasons and already-bought marks."""
    return explained_recommendations(model, user_id, k, exclude_seen=exclude_seen, bought=bought)


def _segments_of(spec: data.WorkspaceRef) -> pl.DataFrame | None:
    rfm = profiles.rfm_for(spec)
    return None if rfm is None else rfm.rename({"rfm_segment": "segment"})


_params = training.model_params


def _read_saved(results, name: str, version: str, *, progress) -> Recommender:
    progress(0.1, _("reading the saved {model} model").format(model=model_name(name)))
    model = results.get("model", _params(name), version)
    if model is None:
        raise ProfilingError(
            _("the saved {model} model could not be read; train it again").format(
                model=model_name(name)
            )
        )
    return model


def _saved(spec: data.WorkspaceRef, results, name: str, version: str) -> ModelState:
    """The model saved with the workspace for data ``version``: ready, or being read in
    the background (``loading``: the loads lane, never queued behind training). Loaded
    models stay with their job (the lane keeps the last 16), shared by every session."""
    job = runtime().start(
        LOADS,
        _key(spec, load=name, version=version),
        f"Loading {name}",
        _read_saved,
        results,
        name,
        version,
    )
    if job.done and not job.failed:
        return ModelState(name, model=job.result())
    return ModelState(name, job=job, loading=True)


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
    loading: bool = False  # ``job`` reads a saved model rather than training one


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


@st.cache_data(max_entries=8, show_spinner=False)
def _default_models(spec_key: str, _spec: data.WorkspaceRef) -> tuple[str, ...]:
    return registry.default_models(data.load(_spec).events)


def default_compare_models() -> list[str]:
    """The Recommenders page's default models for this log (buy-again where people buy
    again, :func:`profiling.recommenders.registry.default_models`) that fit this machine."""
    spec = data.resolved_spec()
    wanted = _default_models(spec.key(), spec)
    return cost.affordable([m for m in wanted if m in registry.MODELS], shape())


def too_big_warning(heavy: dict[str, str]) -> str:
    """One Markdown line naming the models that were not started and why (escaped)."""
    from ui.text import escape_markdown

    reasons = _("; ").join(escape_markdown(why) for why in heavy.values())
    return _(
        "Not started, too big for this machine: {reasons}. The others are compared; {first} "
        "and {second} grow slowest with the catalog."
    ).format(reasons=reasons, first=_(G.MODEL_LABELS["item-knn"]), second="ALS")


def too_big(names: list[str]) -> dict[str, str]:
    """Chosen models that would not fit this machine, with why (they are not started)."""
    s, limit = shape(), cost.budget()
    return {
        n: _("{model} would need {need}; this machine allows {limit} per model").format(
            model=model_name(n),
            need=cost.estimate(n, s).in_words(),
            limit=cost.human_bytes(limit),
        )
        for n in names
        if not cost.fits(n, s, limit)
    }


def _job_key(spec: data.WorkspaceRef, name: str) -> str:
    return _key(spec, full=True, name=name)


def _start(spec: data.WorkspaceRef, name: str) -> Job:
    # a worker process reads the workspace itself; a worker thread shares the loaded dataset
    ds = None if runtime().in_process(WORKSPACE) else data.load(spec)
    return runtime().start(
        WORKSPACE,
        _job_key(spec, name),
        f"Training {name}",
        training.fit_and_save,
        str(spec.workspace().path),
        spec.version,
        name,
        _segments_of(spec),
        ds,
    )


def model_state(name: str, *, start: bool = True) -> ModelState:
    """The model trained on the whole active dataset for one user's lists, without ever
    waiting for training: finished in this process, saved with the workspace, saved for
    older data (stale), or started in the background now (when it fits the machine)."""
    spec = data.resolved_spec()
    job = runtime().status(WORKSPACE, _job_key(spec, name))
    if job is not None and job.done and not job.failed:
        return ModelState(name, model=job.result())
    results = persist.store(spec)
    params = _params(name)
    if results.has(params=params, kind="model", data_version=spec.version):
        return _saved(spec, results, name, spec.version)
    stale = _stale(spec, results, name)
    if job is not None:  # running, or failed (the page shows why and offers a retry)
        return ModelState(name, job=job, **({} if stale.get("loading") else stale))
    if stale:
        return ModelState(name, **stale)
    need = cost.estimate(name, shape())
    if need.bytes > cost.budget():
        return ModelState(
            name,
            too_big=_(
                "{model} would need {need}; this machine allows {limit} per model, so it was "
                "not started. Pick a lighter model ({first} or {second})."
            ).format(
                model=model_name(name),
                need=need.in_words(),
                limit=cost.human_bytes(cost.budget()),
                first=model_name("item-knn"),
                second=model_name("als"),
            ),
        )
    return ModelState(name, job=_start(spec, name) if start else None)


def _stale(spec: data.WorkspaceRef, results, name: str) -> dict:
    info = results.latest("model", _params(name))
    if info is None or info.data_version == spec.version:
        return {}
    old = _saved(spec, results, name, info.data_version)
    if old.model is None:  # being read (shown as loading), or unreadable (as never saved)
        return {"job": old.job, "loading": True} if not old.job.failed else {}
    newer = max(data.load(spec).events.height - info.events, 0)
    saved = persist.Saved(old.model, info, True, newer)
    return {"model": old.model, "stale": saved.describe()}


def retrain(name: str) -> None:
    """Callback: train ``name`` again on the current data, in the background."""
    spec = data.resolved_spec()
    job = runtime().status(WORKSPACE, _job_key(spec, name))
    if job is not None and job.failed:
        runtime().forget(WORKSPACE, job.key)
    _start(spec, name)


def full_model(name: str) -> Recommender:
    """A model trained on the whole active dataset, waiting for it when it is not ready
    (for callers that need the model itself, such as the map's factor source). Saved
    with the workspace like the User page's models."""
    state = model_state(name)
    if state.loading:  # a saved model being read: wait for it, then look again
        state.job.future.result()
        state = model_state(name)
    if state.model is not None and state.stale is None:
        return state.model
    job = state.job if state.job is not None and not state.loading else None
    return (job or _start(data.resolved_spec(), name)).future.result()


def buy_again(model: Recommender, user_id: str, bought: list[str], k: int = 10) -> pl.DataFrame:
    """The user's own purchases to buy again, best first (the buy-again model trained on
    the whole dataset): rank, item_id, title, score, reason, is_fallback, already_bought;
    only items the user bought (empty when they bought nothing)."""
    table = explained(model, user_id, k, exclude_seen=False, bought=bought)
    return table.filter(pl.col("already_bought"))


_TRAINED = re.compile(r"trained in ([\d.]+) s(?: · (.*))?")


def trained_lines(run: Run) -> list[str]:
    """One line per compared model, "✓ item-kNN: trained in 0.25 s", in the current language
    (the job saved them in English, a sequence model's training summary too)."""
    out = []
    for name, line in run.trained.items():
        found = _TRAINED.fullmatch(line)
        if found:
            line = _("trained in {seconds} s").format(seconds=found.group(1))
            line += f" · {summary_text(found.group(2))}" if found.group(2) else ""
        out.append(f"✓ {model_name(name)}: {line}")
    return out


def training_note(model: Recommender) -> str:
    """How a deep sequential model's training went (" · 12 epoch(s), stopped by early
    stopping, ..."), or "" for the other models."""
    summary = getattr(model, "training_summary", None)
    return f" · {summary()}" if callable(summary) else ""
