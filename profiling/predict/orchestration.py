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

from profiling.predict.drivers import DRIVER_SCHEMA, driver_text, explain_scores
from profiling.predict.labels import (
    Examples,
    check_two_classes,
    concat_examples,
    cutoff_frame,
    examples_for,
)
from profiling.predict.metrics import bootstrap_metrics, f1_max_threshold
from profiling.predict.models import LEARNED, MODEL_INPUTS, LearnedModel, ScoreModel, make_models
from profiling.predict.protocol import (
    DEFAULT_HORIZON,
    TASKS,
    CutoffPlan,
    PredictionError,
    Progress,
    no_progress,
    plan_cutoffs,
)
from profiling.predict.results import Predictions, TaskResult
from profiling.predict.value import clv_scores
from profiling.vocabulary import schema as S
from profiling.vocabulary.glossary import PREDICT_FEATURE_LABELS as FEATURE_LABELS


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
    top = rows["value"][0]
    leaders = rows.filter(pl.col("value") == top)["model"].to_list()
    return LEARNED if LEARNED in leaders else leaders[0]


def _percentile(score: pl.Expr) -> pl.Expr:
    return score.rank("max") / score.count() * 100.0


# ---- the steps of one task -----------------------------------------------------------------
def _window(c: datetime, h: int) -> str:
    return f"window {c.date()} .. {(c + timedelta(days=h)).date()}"


def _examples_reader(
    events: pl.DataFrame, task: str, h: int, frames: dict, embeddings
) -> Callable[..., Examples]:
    """``at(cutoff, with_labels=True)``: the examples of ``task`` at a cutoff, from the
    frame ``frames`` caches per cutoff (both tasks read the same frames)."""

    def at(cutoff: datetime, with_labels: bool = True) -> Examples:
        if cutoff not in frames:
            frames[cutoff] = cutoff_frame(
                events, cutoff, h, with_labels=with_labels, embeddings=embeddings
            )
        return examples_for(*frames[cutoff], task)

    return at


def _validation_split(
    plan: CutoffPlan, train_parts: list[Examples], train: Examples, task: str, random_state: int
) -> tuple[Examples, Examples, str]:
    """(part fitted before validation, validation, where validation is): the most recent
    training cutoff, or a stratified quarter of the users."""
    if plan.validation is not None and len(train_parts) >= 2:
        fit_part, val = concat_examples(train_parts[:-1]), train_parts[-1]
        val_where = f"validation {_window(plan.validation, plan.horizon_days)}"
    else:
        idx = np.arange(train.frame.height)
        a, b = train_test_split(idx, test_size=0.25, stratify=train.y(), random_state=random_state)
        fit_part = Examples(train.frame[np.sort(a)], train.features)
        val = Examples(train.frame[np.sort(b)], train.features)
        val_where = "validation quarter of the training users"
    check_two_classes(fit_part, "training part before validation", task)
    check_two_classes(val, val_where, task)
    return fit_part, val, val_where


def _choose_on_validation(
    fit_part: Examples, val: Examples, task: str, random_state: int
) -> tuple[dict[str, float], pl.DataFrame, str]:
    """(F1-max threshold per model, validation metrics, chosen model)."""
    val_scores = {
        n: m.fit(fit_part).predict(val) for n, m in make_models(task, random_state).items()
    }
    thresholds = {n: f1_max_threshold(val.y(), p) for n, p in val_scores.items()}
    validation = metric_rows(val_scores, val.y(), thresholds, 0, random_state)
    return thresholds, validation, best_model(validation)


def _importance(
    learned: LearnedModel, test: Examples, repeats: int, random_state: int
) -> pl.DataFrame:
    """One row per feature: feature, label, importance, std (drop of held-out ROC-AUC when
    the feature is shuffled)."""
    with threadpool_limits(learned.n_threads):
        imp = permutation_importance(
            learned.model_,
            test.X(),
            test.y(),
            scoring="roc_auc",
            n_repeats=repeats,
            random_state=random_state,
        )
    return pl.DataFrame(
        {
            "feature": list(test.features),
            "label": [FEATURE_LABELS.get(f, f) for f in test.features],
            "importance": imp.importances_mean,
            "std": imp.importances_std,
        }
    ).sort("importance", descending=True)


def _score_today(
    final: ScoreModel, today: Examples, chosen: str, drivers: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(today's scores: user_id, score, percentile, drivers; the drivers frame)."""
    p_today = final.predict(today)
    scores = today.frame.select(S.USER_ID).with_columns(pl.Series("score", p_today))
    scores = scores.with_columns(_percentile(pl.col("score")).alias("percentile"))
    driver_frame = pl.DataFrame(schema=DRIVER_SCHEMA)
    if drivers and today.frame.height:
        driver_frame = explain_scores(final, today, inputs=MODEL_INPUTS[chosen])
        scores = scores.join(driver_text(driver_frame), on=S.USER_ID, how="left")
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
) -> TaskResult:
    """Train, choose, evaluate on the held-out window, and score today's users for ``task``.

    ``embeddings``: see :func:`cutoff_frame` (fitted before the earliest training cutoff).

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
    progress(f"{label}: features and labels at {len(plan.train) + 1} cutoffs", 0.05)
    at = _examples_reader(events, task, h, {} if frames is None else frames, embeddings)

    train_parts = [at(c) for c in plan.train]
    test = at(plan.test)
    train = concat_examples(train_parts)
    check_two_classes(train, "training windows together", task)
    check_two_classes(test, f"held-out {_window(plan.test, h)}", task)
    fit_part, val, val_where = _validation_split(plan, train_parts, train, task, random_state)

    progress(f"{label}: choosing thresholds on validation", 0.2)
    thresholds, validation, chosen = _choose_on_validation(fit_part, val, task, random_state)

    progress(f"{label}: training on {len(plan.train)} cutoffs", 0.4)
    t_train = time.perf_counter()
    models = {n: m.fit(train) for n, m in make_models(task, random_state).items()}
    train_seconds = time.perf_counter() - t_train
    t_score = time.perf_counter()
    test_scores = {n: m.predict(test) for n, m in models.items()}
    score_seconds = time.perf_counter() - t_score
    progress(f"{label}: measuring on the held-out window (bootstrap)", 0.55)
    metrics = metric_rows(test_scores, test.y(), thresholds, n_boot, random_state)

    progress(f"{label}: permutation importance", 0.7)
    importance = _importance(models[LEARNED], test, importance_repeats, random_state)

    progress(f"{label}: scoring today's users", 0.85)
    final = make_models(task, random_state)[chosen].fit(concat_examples(train_parts + [test]))
    scores, driver_frame = _score_today(final, at(plan.today, with_labels=False), chosen, drivers)

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
        timings={
            "train_seconds": train_seconds,
            "score_seconds": score_seconds,
            "total_seconds": time.perf_counter() - t0,
        },
    )


# ---- everything together ------------------------------------------------------------------
def _fit_embeddings(
    events: pl.DataFrame,
    plan: CutoffPlan,
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

    progress(f"user embeddings: training {kind} before {plan.train[0].date()}", 0.0)
    embeddings = SequenceEmbeddings(
        kind,
        dims=dims,
        time_budget=budget,
        model_params=params,
        random_state=random_state,
    ).fit(events, before=plan.train[0])
    return embeddings, embeddings.describe()


def _task_columns(t: TaskResult, name: str, prefix: str) -> pl.DataFrame:
    return t.scores.select(
        S.USER_ID,
        pl.col("score").alias(name),
        pl.col("percentile").alias(f"{name}_pct"),
        pl.col("drivers").alias(f"{prefix}_drivers"),
    )


def _today_scores(
    purchase: TaskResult, churn: TaskResult | None, table: pl.DataFrame | None
) -> pl.DataFrame:
    """One row per user scored today: both tasks' columns and the CLV table's."""
    scores = _task_columns(purchase, "purchase_propensity", "purchase")
    if churn is not None:
        scores = scores.join(_task_columns(churn, "churn_risk", "churn"), on=S.USER_ID, how="left")
    if table is not None:
        scores = scores.join(table, on=S.USER_ID, how="left")
    return scores


def predict(
    events: pl.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    calibration_end: date | datetime | str | None = None,
    unit: str = "D",
    max_train_cutoffs: int = 6,
    n_boot: int = 200,
    drivers: bool = True,
    random_state: int = 0,
    progress: Progress = no_progress,
    user_embeddings: str | None = None,
    embedding_dims: int = 8,
    embedding_budget: float = 60.0,
    embedding_params: dict | None = None,
) -> Predictions:
    """Purchase propensity, churn risk and CLV of every user of a cleaned event log.

    Parameters
    ----------
    events : pl.DataFrame
        Cleaned events (``Dataset.events``), one row per event.
    horizon_days : int
        H: the window, in days, that propensity and churn look ahead.
    calibration_end : date or ISO string, optional
        Last day the evaluated models may see; the held-out window is the H days after it.
        Defaults to H days before the end of the log.
    unit : {"D", "W"}
        Time unit the BG/NBD and Gamma-Gamma models are fitted in (their parameters are
        reported in it; scores do not depend on it beyond rounding).
    n_boot : int
        Bootstrap resamples for the 95% intervals.
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
        See :func:`plan_cutoffs` and :func:`fit_task`; a problem with the churn task alone
        (for example every past buyer bought again) leaves ``churn`` None with ``churn_note``.
    """
    # over 60 lines because the docstring documents every parameter; the body is the steps
    # in order: plan, embeddings, both tasks, CLV, today's columns
    if unit not in ("D", "W"):
        raise PredictionError(f"unit must be 'D' (days) or 'W' (weeks). Got unit={unit!r}.")
    plan = plan_cutoffs(
        events,
        horizon_days=horizon_days,
        max_train_cutoffs=max_train_cutoffs,
        calibration_end=calibration_end,
    )
    embeddings, embeddings_note = _fit_embeddings(
        events,
        plan,
        user_embeddings,
        embedding_dims,
        embedding_budget,
        embedding_params,
        random_state,
        progress,
    )
    # features, labels and BG/NBD baselines of each cutoff are shared by both tasks
    kw = {
        "n_boot": n_boot,
        "random_state": random_state,
        "drivers": drivers,
        "frames": {},
        "embeddings": embeddings,
    }
    purchase = fit_task(
        events, plan, "purchase", progress=lambda s, f: progress(s, 0.05 + 0.45 * f), **kw
    )
    churn, churn_note = None, None
    try:
        churn = fit_task(
            events, plan, "churn", progress=lambda s, f: progress(s, 0.5 + 0.35 * f), **kw
        )
    except PredictionError as exc:
        churn_note = str(exc)
    progress("CLV: BG/NBD and Gamma-Gamma", 0.9)
    fitted = clv_scores(events, plan, unit)
    scores = _today_scores(purchase, churn, fitted["table"])
    progress("done", 1.0)
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
    )
