"""How the models of a task are compared: metric rows with bootstrap intervals, the best
model (the learned one wins ties), the learned model's paired difference with the best
baseline, the choice on validation and the baselines that cannot score the held-out window."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
from sklearn.model_selection import train_test_split

from profiling.predict.labels import (
    Examples,
    check_two_classes,
    concat_examples,
)
from profiling.predict.metrics import bootstrap_metrics, f1_max_threshold, resample_metrics, roc_auc
from profiling.predict.models import LEARNED, make_models
from profiling.predict.protocol import CutoffPlan, Stage, before_validation
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


def choose_on_validation(
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


def window_words(c: datetime, h: int) -> str:
    return Stage(
        N_("window {start} .. {end}"), start=str(c.date()), end=str((c + timedelta(days=h)).date())
    )


def validation_split(
    plan: CutoffPlan, train_parts: list[Examples], train: Examples, task: str, random_state: int
) -> tuple[Examples, Examples, str]:
    """(part fitted before validation, validation, where validation is): the most recent
    training cutoff, or a stratified quarter of the users."""
    if plan.validation is not None and len(train_parts) >= 2:
        fit_part, val = concat_examples(before_validation(plan, train_parts)), train_parts[-1]
        val_where = Stage(
            N_("validation {window}"), window=window_words(plan.validation, plan.horizon_days)
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


def class_balance(train: Examples, test: Examples, val_where: str) -> dict:
    return {
        "train_rows": train.frame.height,
        "train_positive_share": float(train.y().mean()),
        "test_users": test.frame.height,
        "test_positives": int(test.y().sum()),
        "test_positive_share": float(test.y().mean()),
        "validation": val_where,
    }
