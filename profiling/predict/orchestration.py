"""A whole prediction run: for each task, train on the rolling cutoffs, choose thresholds and
the model on validation, measure on the held-out window against the baselines and score
today's users (:func:`fit_task`); then both tasks and CLV together (:func:`predict`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime

import polars as pl

from profiling.errors import ProfilingError
from profiling.predict.comparison import (
    best_model,
    choose_on_validation,
    class_balance,
    metric_rows,
    paired_difference,
    unfitted_baselines,
    validation_split,
    window_words,
)
from profiling.predict.embeddings import fit_before_cutoffs
from profiling.predict.features import EventHistory
from profiling.predict.labels import (
    Examples,
    check_two_classes,
    concat_examples,
    cutoff_frame,
    examples_for,
)
from profiling.predict.models import LEARNED, make_models
from profiling.predict.protocol import (
    DEFAULT_HORIZON,
    TASKS,
    CutoffPlan,
    PredictionError,
    Progress,
    Stage,
    error_stage,
    lapse_window,
    no_progress,
    plan_cutoffs,
)
from profiling.predict.results import Predictions, TaskResult
from profiling.predict.scoring import input_importance, score_today
from profiling.predict.spend import DEFAULT_VALUE_HORIZON, ValueResult, fit_value_task
from profiling.predict.value import clv_scores
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_


# ---- the steps of one task -----------------------------------------------------------------
def _examples_reader(
    events: pl.DataFrame, task: str, h: int, frames: dict, embeddings, history
) -> Callable[..., Examples]:
    """``at(cutoff, with_labels=True)``: the examples of ``task`` at a cutoff, from the
    frame ``frames`` caches per cutoff (both tasks read the same frames)."""

    def at(cutoff: datetime, with_labels: bool = True) -> Examples:
        if cutoff not in frames:
            frames[cutoff] = cutoff_frame(
                events,
                cutoff,
                h,
                with_labels=with_labels,
                embeddings=embeddings,
                history=history,
            )
        return examples_for(*frames[cutoff], task)

    return at


def fit_task(
    events: pl.DataFrame,
    plan: CutoffPlan,
    task: str,
    *,
    n_boot: int = 200,
    random_state: int = 0,
    drivers: bool = True,
    importance_repeats: int = 3,
    progress: Progress = no_progress,
    frames: dict | None = None,
    embeddings=None,
    learned: bool = True,
    history: EventHistory | None = None,
) -> TaskResult:
    """Train, choose, evaluate on the held-out window, and score today's users for ``task``.

    ``embeddings``: see :func:`cutoff_frame` (fitted before the earliest training cutoff).
    ``history``: the :class:`EventHistory` of ``events`` (built when not given).
    ``learned=False``: the baselines only (seconds: nothing to train but one-column fits),
    what a page shows while the learned model trains.

    Raises
    ------
    PredictionError
        When a training, validation or held-out window has one class only or no users.
    """
    # over 60 lines with its signature and docstring: the body is the protocol's steps in
    # order (each a named function above) and the timings around them, kept in one place
    t0 = time.perf_counter()
    h = plan.horizon_days
    label = TASKS[task]
    progress(
        Stage(N_("{task}: features and labels at {n} cutoffs"), task=label, n=len(plan.train) + 1),
        0.05,
    )
    history = EventHistory(events) if history is None else history
    frames = {} if frames is None else frames
    at = _examples_reader(events, task, h, frames, embeddings, history)

    train_parts = [at(c) for c in plan.train]
    test = at(plan.test)
    train = concat_examples(train_parts)
    check_two_classes(train, N_("training windows together"), task)
    check_two_classes(test, Stage(N_("held-out {window}"), window=window_words(plan.test, h)), task)
    fit_part, val, val_where = validation_split(plan, train_parts, train, task, random_state)

    progress(Stage(N_("{task}: choosing thresholds on validation"), task=label), 0.2)
    skip = unfitted_baselines(test)
    thresholds, validation, chosen, tuned = choose_on_validation(
        fit_part, val, task, random_state, learned, tuple(skip)
    )

    progress(Stage(N_("{task}: training on {n} cutoffs"), task=label, n=len(plan.train)), 0.4)
    t_train = time.perf_counter()
    kinds = {"learned": learned, "tuned": tuned, "skip": tuple(skip)}
    models = {n: m.fit(train) for n, m in make_models(task, random_state, **kinds).items()}
    train_seconds = time.perf_counter() - t_train
    t_score = time.perf_counter()
    raw_test = models[LEARNED].raw(test) if learned else None
    test_scores = {
        n: m.calibrate(raw_test) if n == LEARNED else m.predict(test) for n, m in models.items()
    }
    score_seconds = time.perf_counter() - t_score
    progress(Stage(N_("{task}: measuring on the held-out window (bootstrap)"), task=label), 0.55)
    metrics = metric_rows(test_scores, test.y(), thresholds, n_boot, random_state)

    versus = paired_difference(test_scores, test.y(), n_boot, random_state)
    importance = pl.DataFrame(
        schema={
            "feature": pl.String,
            "label": pl.String,
            "importance": pl.Float64,
            "std": pl.Float64,
        }
    )
    if learned:
        progress(Stage(N_("{task}: permutation importance"), task=label), 0.7)
        importance = input_importance(models[LEARNED], test, importance_repeats, random_state)

    progress(Stage(N_("{task}: scoring today's users"), task=label), 0.85)
    if learned:  # the final fit is calibrated on the held-out window's raw scores (large store)
        kinds["tuned"] = {**kinds["tuned"], "calibrate_on": (raw_test, test.y())}
    final = make_models(task, random_state, **kinds)[chosen].fit(
        concat_examples(train_parts + [test])
    )
    scores, driver_frame = score_today(final, at(plan.today, with_labels=False), chosen, drivers)

    test_frame = test.frame.select(S.USER_ID, "label").with_columns(
        [pl.Series(n, p) for n, p in test_scores.items()]
    )
    return TaskResult(
        task=task,
        metrics=metrics,
        test_scores=test_frame,
        validation=validation,
        thresholds=thresholds,
        chosen=chosen,
        best_on_test=best_model(metrics),
        importance=importance,
        scores=scores,
        drivers=driver_frame,
        class_balance=class_balance(train, test, val_where),
        versus_best=versus,
        not_fitted=skip,
        learned_note=models[LEARNED].describe() if learned else None,
        timings={
            "train_seconds": train_seconds,
            "score_seconds": score_seconds,
            "total_seconds": time.perf_counter() - t0,
        },
    )


# ---- everything together ------------------------------------------------------------------
def _task_columns(t: TaskResult, name: str, prefix: str) -> pl.DataFrame:
    return t.scores.select(
        S.USER_ID,
        pl.col("score").alias(name),
        pl.col("percentile").alias(f"{name}_pct"),
        pl.col("drivers").alias(f"{prefix}_drivers"),
    )


def _today_scores(
    purchase: TaskResult,
    churn: TaskResult | None,
    table: pl.DataFrame | None,
    value: ValueResult | None = None,
) -> pl.DataFrame:
    """One row per user scored today: both tasks' columns, the predicted spend over the
    value horizon and the CLV table's."""
    scores = _task_columns(purchase, "purchase_propensity", "purchase")
    if churn is not None:
        scores = scores.join(_task_columns(churn, "churn_risk", "churn"), on=S.USER_ID, how="left")
    if value is not None:
        scores = scores.join(
            value.scores.rename({"expected_spend": "predicted_spend"}), on=S.USER_ID, how="left"
        )
    if table is not None:
        scores = scores.join(table, on=S.USER_ID, how="left")
    return scores


def _run_tasks(
    events: pl.DataFrame,
    plans: dict,
    kw: dict,
    learned: bool,
    progress: Progress,
    span: tuple[float, float],
) -> tuple[TaskResult, TaskResult | None, str | None, ValueResult | None, str | None]:
    """(purchase, churn, churn note, value, value note) with or without the learned
    models; ``progress`` fractions within ``span``."""
    lo, hi = span

    def part(a: float, b: float) -> Progress:
        return lambda s, f: progress(s, lo + (hi - lo) * (a + (b - a) * f))

    purchase = fit_task(
        events,
        plans["purchase"],
        "purchase",
        progress=part(0.0, 0.4),
        learned=learned,
        frames=kw["frames"]["purchase"],
        **kw["task"],
    )
    churn, churn_note = None, plans.get("churn_note")
    if "churn" in plans:
        try:
            churn = fit_task(
                events,
                plans["churn"],
                "churn",
                progress=part(0.4, 0.75),
                learned=learned,
                frames=kw["frames"]["churn"],
                **kw["task"],
            )
        except PredictionError as exc:
            churn_note = error_stage(exc)
    value, value_note = None, plans.get("value_note")
    if "value" in plans:
        try:
            value = fit_value_task(
                events,
                plans["value"],
                learned=learned,
                n_boot=min(kw["task"]["n_boot"], 100),
                random_state=kw["task"]["random_state"],
                progress=part(0.75, 1.0),
                cache=kw["frames"]["value"],
                history=kw["task"]["history"],
            )
        except ProfilingError as exc:
            value_note = error_stage(exc)
        if value is not None and value.note:
            value_note = value.note
    return purchase, churn, churn_note, value, value_note


def task_plans(
    events: pl.DataFrame,
    horizon_days: int,
    lapse_days: int | None,
    value_days: int | None,
    max_train_cutoffs: int,
    calibration_end,
) -> dict:
    """The cutoff plan of each task: purchase over H days, churn over the lapse window,
    value over the value horizon (each shortened to what the log can measure, or left out
    with a note)."""
    plans: dict = {
        "purchase": plan_cutoffs(
            events,
            horizon_days=horizon_days,
            max_train_cutoffs=max_train_cutoffs,
            calibration_end=calibration_end,
        )
    }
    lapse = lapse_window(events, horizon_days, lapse_days=lapse_days)
    plans["lapse"] = lapse
    try:
        # training windows every H days (not every L): more of them, overlapping, each
        # still ending on or before the held-out cutoff
        plans["churn"] = plan_cutoffs(
            events,
            horizon_days=lapse.days,
            max_train_cutoffs=max_train_cutoffs,
            calibration_end=calibration_end,
            step_days=min(horizon_days, lapse.days),
        )
    except PredictionError as exc:
        plans["churn_note"] = Stage(
            N_("lapse window of {days} days: {error}"), days=lapse.days, error=error_stage(exc)
        )
    if value_days is None:
        return plans
    has_money = S.AMOUNT in events.columns and events[S.AMOUNT].is_not_null().any()
    if not has_money:
        plans["value_note"] = Stage(N_("no amounts in the log: customer value is not measured"))
        return plans
    span = (plans["purchase"].today - plans["purchase"].start).days
    v = value_days if 3 * value_days <= span else span // 3
    try:
        # windows every H days with at least 2H of history: a value window V of a third of
        # the log leaves room for one training cutoff V days apart, and several this way
        plans["value"] = plan_cutoffs(
            events,
            horizon_days=v,
            max_train_cutoffs=max_train_cutoffs,
            step_days=min(horizon_days, v),
            min_history_days=min(v, 2 * horizon_days),
        )
    except PredictionError as exc:
        plans["value_note"] = error_stage(exc)
        return plans
    if v != value_days:
        plans["value_note"] = Stage(
            N_(
                "value measured over {days} days, not {asked}: the log spans {span} days, and "
                "a value window must fit three times (history, training, held out)"
            ),
            days=v,
            asked=value_days,
            span=span,
        )
    return plans


def predict(
    events: pl.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    lapse_days: int | None = None,
    value_days: int | None = DEFAULT_VALUE_HORIZON,
    calibration_end: date | datetime | str | None = None,
    unit: str = "D",
    max_train_cutoffs: int = 6,
    n_boot: int = 200,
    drivers: bool = True,
    random_state: int = 0,
    progress: Progress = no_progress,
    learned: bool = True,
    on_baselines: Callable[[Predictions], None] | None = None,
    user_embeddings: str | None = None,
    embedding_dims: int = 8,
    embedding_budget: float = 60.0,
    embedding_params: dict | None = None,
) -> Predictions:
    """Purchase propensity, churn risk, customer value and CLV of every user of a cleaned
    event log.

    Parameters
    ----------
    events : pl.DataFrame
        Cleaned events (``Dataset.events``), one row per event.
    horizon_days : int
        H: the window, in days, that purchase propensity looks ahead.
    lapse_days : int, optional
        Churn's lapse window (longer than H); by default set from the data
        (:func:`profiling.predict.protocol.lapse_window`).
    value_days : int or None
        V: the window customer value is predicted and measured over (default 180, shortened
        to a third of the log's span when longer); None skips the value task.
    calibration_end : date or ISO string, optional
        Last day the evaluated models may see; the held-out window is the H days after it.
        Defaults to H days before the end of the log.
    unit : {"D", "W"}
        Time unit the BG/NBD and Gamma-Gamma models are fitted in (their parameters are
        reported in it; scores do not depend on it beyond rounding).
    n_boot : int
        Bootstrap resamples for the 95% intervals.
    learned : bool
        False: the baselines only (no model to train).
    on_baselines : callable, optional
        Called with the baselines-only :class:`Predictions` before the learned models are
        trained (features are computed once for both passes), so a page can show them.
    user_embeddings : {"gru4rec", "sasrec"}, optional
        Add a sequence model's user representation (``embedding_dims`` principal
        components) to the learned models' features. The sequence model is trained once,
        for at most ``embedding_budget`` seconds, on the events before the EARLIEST training
        cutoff, and reads each user's history before every cutoff with frozen weights: no
        row's features come from on or after its cutoff
        (:mod:`profiling.predict.embeddings`). ``embedding_params``: other parameters of
        the sequence model.

    Raises
    ------
    PredictionError
        See :func:`plan_cutoffs` and :func:`fit_task`; a problem with the churn or value
        task alone leaves it None with ``churn_note`` / ``value_note``.
    """
    # over 60 lines because the docstring documents every parameter; the body is the steps
    # in order: plans, embeddings, the tasks (baselines first when asked), CLV, today's columns
    if unit not in ("D", "W"):
        raise PredictionError(
            Stage(N_("unit must be 'D' (days) or 'W' (weeks). Got unit={unit}."), unit=repr(unit))
        )
    plans = task_plans(
        events, horizon_days, lapse_days, value_days, max_train_cutoffs, calibration_end
    )
    plan = plans["purchase"]
    # before the earliest training cutoff of every task (churn's and value's reach further back)
    earliest = min(p.train[0] for p in plans.values() if isinstance(p, CutoffPlan))
    embeddings, embeddings_note = fit_before_cutoffs(
        events,
        earliest,
        user_embeddings,
        embedding_dims,
        embedding_budget,
        embedding_params,
        random_state,
        progress,
    )
    # features, labels and BG/NBD baselines of each cutoff are shared by every pass
    history = EventHistory(events)
    kw = {
        "task": {
            "n_boot": n_boot,
            "random_state": random_state,
            "drivers": drivers,
            "embeddings": embeddings,
            "history": history,
        },
        "frames": {"purchase": {}, "churn": {}, "value": {}},
    }
    progress(N_("customer value: buying-pattern model and spend per purchase"), 0.01)
    fitted = clv_scores(events, plan, unit, history=history)

    def bundle(tasks) -> Predictions:
        purchase, churn, churn_note, value, value_note = tasks
        scores = _today_scores(purchase, churn, fitted["table"], value)
        return Predictions(
            plan=plan,
            purchase=purchase,
            churn=churn,
            churn_note=churn_note,
            bgnbd=fitted["bgnbd"],
            gamma_gamma=fitted["gamma_gamma"],
            bgnbd_today=fitted["bgnbd_today"],
            gamma_gamma_today=fitted["gamma_gamma_today"],
            clv_note=fitted["note"],
            holdout=fitted["holdout"],
            scores=scores.sort(S.USER_ID),
            unit=unit,
            embeddings_note=embeddings_note,
            lapse=plans["lapse"],
            value=value,
            value_note=value_note,
        )

    start = 0.05
    if learned and on_baselines is not None:
        on_baselines(bundle(_run_tasks(events, plans, kw, False, progress, (0.05, 0.25))))
        start = 0.25
    result = bundle(_run_tasks(events, plans, kw, learned, progress, (start, 0.99)))
    progress(N_("done"), 1.0)
    return result
