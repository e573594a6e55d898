"""A whole prediction run: for each task, train on the rolling cutoffs, choose thresholds and
the model on validation, measure on the held-out window against the baselines and score
today's users (:func:`fit_task`); then both tasks and CLV together (:func:`predict`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from profiling.errors import ProfilingError
from profiling.predict.drivers import (
    DRIVER_SCHEMA,
    DRIVER_USERS,
    driver_text,
    explain_scores,
    typical_values,
)
from profiling.predict.features import EventHistory
from profiling.predict.labels import (
    Examples,
    check_two_classes,
    concat_examples,
    cutoff_frame,
    examples_for,
)
from profiling.predict.metrics import (
    bootstrap_metrics,
    f1_max_threshold,
    resample_metrics,
    roc_auc,
)
from profiling.predict.models import LEARNED, MODEL_INPUTS, LearnedModel, ScoreModel, make_models
from profiling.predict.protocol import (
    DEFAULT_HORIZON,
    TASKS,
    CutoffPlan,
    PredictionError,
    Progress,
    Stage,
    before_validation,
    error_stage,
    lapse_window,
    no_progress,
    plan_cutoffs,
)
from profiling.predict.results import Predictions, TaskResult
from profiling.predict.spend import DEFAULT_VALUE_HORIZON, ValueResult, fit_value_task
from profiling.predict.value import clv_scores
from profiling.vocabulary import schema as S
from profiling.vocabulary.glossary import PREDICT_FEATURE_LABELS as FEATURE_LABELS
from profiling.vocabulary.i18n import N_


def metric_rows(
    scores: dict[str, np.ndarray],
    y: np.ndarray,
    thresholds: dict[str, float],
    n_boot: int,
    random_state: int,
) -> pl.DataFrame:
    """One row per (model, metric): model, metric, value, ci_low, ci_high, threshold."""
    frames = []
    for name, p in scores.items():
        m = bootstrap_metrics(y, p, thresholds[name], n_boot=n_boot, random_state=random_state)
        frames.append(
            m.with_columns(pl.lit(name).alias("model"), pl.lit(thresholds[name]).alias("threshold"))
        )
    return pl.concat(frames).select("model", "metric", "value", "ci_low", "ci_high", "threshold")


def best_model(metrics: pl.DataFrame, metric: str = "roc_auc") -> str:
    """The model with the best ``metric`` in :func:`metric_rows` output; the learned model
    wins ties."""
    rows = metrics.filter(pl.col("metric") == metric).sort(
        ["value", "model"], descending=[True, False]
    )
    # the learned model wins ties: a baseline must measure better to be used
    rows = rows.filter(pl.col("value").is_not_nan())
    if rows.height == 0:
        return metrics["model"][0]
    top = rows["value"][0]
    leaders = rows.filter(pl.col("value") == top)["model"].to_list()
    return LEARNED if LEARNED in leaders else leaders[0]


def paired_difference(
    scores: dict[str, np.ndarray], y: np.ndarray, n_boot: int, random_state: int
) -> dict:
    """The learned model's held-out ROC-AUC minus the best baseline's, with a paired
    percentile bootstrap 95% interval (the same resampled users for both).

    Returns
    -------
    dict
        ``baseline`` (the best baseline's name), ``difference``, ``ci_low``, ``ci_high``;
        empty without a learned model.
    """
    if LEARNED not in scores:
        return {}
    aucs = {n: roc_auc(y, p) for n, p in scores.items()}
    base = max((n for n in scores if n != LEARNED), key=lambda n: aucs[n])
    diff = aucs[LEARNED] - aucs[base]
    rng = np.random.default_rng(random_state)
    draws = []
    for start in range(0, n_boot, 16):
        idx = rng.integers(0, y.size, (min(16, n_boot - start), y.size))
        a = resample_metrics(y, scores[LEARNED], 0.5, idx)["roc_auc"]
        b = resample_metrics(y, scores[base], 0.5, idx)["roc_auc"]
        draws.append(a - b)
    d = np.concatenate(draws) if draws else np.zeros(0)
    d = d[np.isfinite(d)]
    lo, hi = np.percentile(d, [2.5, 97.5]) if d.size else (np.nan, np.nan)
    return {"baseline": base, "difference": diff, "ci_low": float(lo), "ci_high": float(hi)}


def _percentile(score: pl.Expr) -> pl.Expr:
    return score.rank("max") / score.count() * 100.0


# ---- the steps of one task -----------------------------------------------------------------
def _window(c: datetime, h: int) -> str:
    return Stage(
        N_("window {start} .. {end}"), start=str(c.date()), end=str((c + timedelta(days=h)).date())
    )


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


def _validation_split(
    plan: CutoffPlan, train_parts: list[Examples], train: Examples, task: str, random_state: int
) -> tuple[Examples, Examples, str]:
    """(part fitted before validation, validation, where validation is): the most recent
    training cutoff, or a stratified quarter of the users."""
    if plan.validation is not None and len(train_parts) >= 2:
        fit_part, val = concat_examples(before_validation(plan, train_parts)), train_parts[-1]
        val_where = Stage(
            N_("validation {window}"), window=_window(plan.validation, plan.horizon_days)
        )
    else:
        idx = np.arange(train.frame.height)
        a, b = train_test_split(idx, test_size=0.25, stratify=train.y(), random_state=random_state)
        fit_part = Examples(train.frame[np.sort(a)], train.features)
        val = Examples(train.frame[np.sort(b)], train.features)
        val_where = Stage(N_("validation quarter of the training users"))
    check_two_classes(fit_part, N_("training part before validation"), task)
    check_two_classes(val, val_where, task)
    return fit_part, val, val_where


def _choose_on_validation(
    fit_part: Examples, val: Examples, task: str, random_state: int, learned: bool, skip
) -> tuple[dict[str, float], pl.DataFrame, str, dict | None]:
    """(F1-max threshold per model, validation metrics, chosen model, the learned model's
    tuned setting: the later fits of the task reuse it)."""
    # the learned model here only scores the validation window: on a large store its tuning
    # fit is kept instead of refitting it on every row (LearnedModel's reuse_trial)
    models = make_models(task, random_state, learned=learned, skip=skip, reuse_trial=True)
    val_scores = {}
    tuned = None
    for name, model in models.items():
        model.fit(fit_part)
        if name != LEARNED:
            val_scores[name] = model.predict(val)
            continue
        # its raw validation scores also calibrate the training fit on a large store
        # (LearnedModel's calibrate_on): one scoring of the validation window, not two
        raw = model.raw(val)
        val_scores[name] = model.calibrate(raw)
        tuned = {**model.tuned(), "calibrate_on": (raw, val.y())}
    thresholds = {n: f1_max_threshold(val.y(), p) for n, p in val_scores.items()}
    validation = metric_rows(val_scores, val.y(), thresholds, 0, random_state)
    return thresholds, validation, best_model(validation), tuned


def unfitted_baselines(test: Examples) -> dict[str, str]:
    """Baselines that cannot score the held-out window because the buying-pattern model
    could not be fitted before it: name -> why (they are left out, not shown at 0.5)."""
    why = N_("the buying-pattern model (MBG/NBD) could not be fitted before the held-out window")
    out = {}
    for name, column in (("bgnbd", "bgnbd_p"), ("p_alive", "bgnbd_alive")):
        f = test.frame
        if column in f.columns and f[column].null_count() == f.height:
            out[name] = why
    return out


IMPORTANCE_USERS = 20_000
"""Held-out users permutation importance is measured on at most (a seeded sample beyond)."""


def _importance(
    learned: LearnedModel, test: Examples, repeats: int, random_state: int
) -> pl.DataFrame:
    """One row per feature: feature, label, importance, std (drop of held-out ROC-AUC when
    the feature is shuffled; on a seeded sample of :data:`IMPORTANCE_USERS` held-out users
    when there are more, which ranks the features as well at a fraction of the cost on a
    large store)."""
    names = [f for f, keep in zip(test.features, learned.keep_, strict=True) if keep]
    X, y = test.X()[:, learned.keep_], test.y()
    if X.shape[0] > IMPORTANCE_USERS:
        # one seeded sample, also for the unshuffled score: scikit-learn's max_samples
        # scores every held-out user once for it (500,000 at 10 million events)
        rows = np.sort(
            np.random.default_rng(random_state).choice(X.shape[0], IMPORTANCE_USERS, replace=False)
        )
        X, y = X[rows], y[rows]
    with threadpool_limits(learned.n_threads):
        imp = permutation_importance(
            learned.model_,
            X,
            y,
            scoring="roc_auc",
            n_repeats=repeats,
            random_state=random_state,
        )
    return pl.DataFrame(
        {
            "feature": names,
            "label": [FEATURE_LABELS.get(f, f) for f in names],
            "importance": imp.importances_mean,
            "std": imp.importances_std,
        }
    ).sort("importance", descending=True)


def score_today(
    final: ScoreModel, today: Examples, chosen: str, drivers: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(today's scores: user_id, score, percentile, drivers; the drivers frame). Drivers are
    computed for the :data:`DRIVER_USERS` highest-scored users (null for the others). A user
    the model cannot score (NaN) gets null score, percentile and drivers."""
    p_today = final.predict(today)
    # a model that cannot score a user (NaN) leaves them unscored: polars ranks NaN above
    # every number, which read as "100th percentile" on the User profile
    scores = today.frame.select(S.USER_ID).with_columns(
        pl.Series("score", p_today, dtype=pl.Float64).fill_nan(None)
    )
    scores = scores.with_columns(_percentile(pl.col("score")).alias("percentile"))
    driver_frame = pl.DataFrame(schema=DRIVER_SCHEMA)
    if drivers and today.frame.height:
        inputs = MODEL_INPUTS[chosen]
        typical = typical_values(today, list(today.features if inputs is None else inputs))
        shown = today
        if today.frame.height > DRIVER_USERS:
            top = np.sort(np.argsort(-p_today, kind="stable")[:DRIVER_USERS])
            shown = Examples(today.frame[top], today.features)
        driver_frame = explain_scores(final, shown, inputs=inputs, typical=typical)
        scores = scores.join(driver_text(driver_frame), on=S.USER_ID, how="left").with_columns(
            pl.when(pl.col("score").is_not_null()).then(pl.col("drivers")).alias("drivers")
        )
    else:
        scores = scores.with_columns(pl.lit(None, pl.String).alias("drivers"))
    return scores, driver_frame


def _class_balance(train: Examples, test: Examples, val_where: str) -> dict:
    return {
        "train_rows": train.frame.height,
        "train_positive_share": float(train.y().mean()),
        "test_users": test.frame.height,
        "test_positives": int(test.y().sum()),
        "test_positive_share": float(test.y().mean()),
        "validation": val_where,
    }


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
    check_two_classes(test, Stage(N_("held-out {window}"), window=_window(plan.test, h)), task)
    fit_part, val, val_where = _validation_split(plan, train_parts, train, task, random_state)

    progress(Stage(N_("{task}: choosing thresholds on validation"), task=label), 0.2)
    skip = unfitted_baselines(test)
    thresholds, validation, chosen, tuned = _choose_on_validation(
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
        importance = _importance(models[LEARNED], test, importance_repeats, random_state)

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
        class_balance=_class_balance(train, test, val_where),
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
def _fit_embeddings(
    events: pl.DataFrame,
    earliest: datetime,
    kind: str | None,
    dims: int,
    budget: float,
    params: dict | None,
    random_state: int,
    progress: Progress,
):
    """(fitted :class:`profiling.predict.embeddings.SequenceEmbeddings` or None, its note)."""
    if kind is None:
        return None, None
    from profiling.predict.embeddings import SequenceEmbeddings

    progress(
        Stage(
            N_("user embeddings: training {kind} before {day}"), kind=kind, day=str(earliest.date())
        ),
        0.0,
    )
    embeddings = SequenceEmbeddings(
        kind,
        dims=dims,
        time_budget=budget,
        model_params=params,
        random_state=random_state,
    ).fit(events, before=earliest)
    return embeddings, embeddings.describe()


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


def _plans(
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
        raise PredictionError(f"unit must be 'D' (days) or 'W' (weeks). Got unit={unit!r}.")
    plans = _plans(events, horizon_days, lapse_days, value_days, max_train_cutoffs, calibration_end)
    plan = plans["purchase"]
    # before the earliest training cutoff of every task (churn's and value's reach further back)
    earliest = min(p.train[0] for p in plans.values() if isinstance(p, CutoffPlan))
    embeddings, embeddings_note = _fit_embeddings(
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
