"""What a prediction run returns: :class:`TaskResult` per task, :class:`Predictions` for the
log (what pages read from them is in :mod:`profiling.predict.reading`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from profiling.predict import clv
from profiling.predict.models import LEARNED
from profiling.predict.protocol import CutoffPlan, LapseWindow
from profiling.predict.spend import ValueResult
from profiling.vocabulary import glossary as G

MODEL_LABELS = G.PREDICT_MODEL_LABELS
SCORE_LABELS = G.PREDICT_SCORE_LABELS

RESULT_LAYOUT = 3
"""The names inside a :class:`Predictions` (feature columns, model names, the holdout
table's columns) and how its notes are kept. 2: one name per quantity (``purchase_days``
baseline and feature, ``repeat_purchase_days`` / ``purchase_span`` in the BTYD summary, no
``frequency``). 3: every note (``clv_note``, ``value_note``, ``churn_note``), the reasons a
value model could not be fitted included, is a :class:`profiling.predict.Stage` that a page
reads in its language (layout 2 kept some as English text). Saved predictions are keyed by
it, so those of another layout are computed again, never served with old names or notes."""


@dataclass(frozen=True)
class TaskResult:
    """Evaluation and today's scores of one task.

    Attributes
    ----------
    metrics : pl.DataFrame
        One row per (model, metric) on the held-out window: model, metric, value, ci_low,
        ci_high, threshold (each model's F1-max threshold from validation).
    test_scores : pl.DataFrame
        One row per user of the held-out window: user_id, label, one column per model.
    validation : pl.DataFrame
        One row per (model, metric) on validation (where thresholds and the model were chosen).
    thresholds : dict
        Model name -> F1-maximizing threshold chosen on validation.
    chosen : str
        The model whose scores are used (best validation ROC-AUC).
    best_on_test : str
        The model with the best ROC-AUC on the held-out window.
    importance : pl.DataFrame
        One row per feature: feature, label, importance, std (drop of ROC-AUC on the
        held-out window when the feature is shuffled; learned model).
    scores : pl.DataFrame
        One row per user scored today: user_id, score, percentile (0..100, share of scored
        users with a lower or equal score), drivers (readable string).
    drivers : pl.DataFrame
        Up to 3 rows per user: user_id, rank, feature, label, value, typical, effect.
    class_balance : dict
    """

    task: str
    metrics: pl.DataFrame
    test_scores: pl.DataFrame
    validation: pl.DataFrame
    thresholds: dict[str, float]
    chosen: str
    best_on_test: str
    importance: pl.DataFrame
    scores: pl.DataFrame
    drivers: pl.DataFrame
    class_balance: dict
    timings: dict[str, float] = field(default_factory=dict)
    # None (not a default_factory) so that results saved before these fields load with them
    versus_best: dict | None = None  # learned - best baseline ROC-AUC, paired CI
    learned_note: str | None = None  # the learned model's chosen settings
    not_fitted: dict | None = None  # baselines left out -> why

    @property
    def models(self) -> list[str]:
        """The models measured, learned first (none while only the baselines are ready)."""
        return list(dict.fromkeys(self.metrics["model"].to_list()))

    @property
    def has_learned(self) -> bool:
        return LEARNED in self.models

    @property
    def baseline_wins(self) -> bool:
        """True when a baseline, not the learned model, has the best held-out ROC-AUC."""
        return self.best_on_test != LEARNED

    def meets_target(self, margin: float = 0.01) -> bool:
        """The learned model's held-out ROC-AUC is at least the best baseline's + ``margin``
        and the paired bootstrap 95% interval of the difference lies above 0."""
        v = self.versus_best or {}
        return bool(v) and v["difference"] >= margin and v["ci_low"] > 0


@dataclass(frozen=True)
class Predictions:
    """Every predictive score of a log.

    ``bgnbd`` and ``gamma_gamma`` are fitted on the calibration period (everything before
    the test cutoff); ``*_today`` on the whole log and behind today's CLV columns.

    ``scores``: one row per user seen before today: user_id, purchase_propensity,
    purchase_propensity_pct, purchase_drivers, churn_risk, churn_risk_pct, churn_drivers
    (null for users who never bought), p_alive, expected_purchases_90d / _365d,
    expected_spend_per_purchase, expected_value_90d / _365d (BG/NBD + Gamma-Gamma; null for
    non-buyers, absent when the model cannot be fitted).
    """

    plan: CutoffPlan
    purchase: TaskResult
    churn: TaskResult | None
    churn_note: str | None
    bgnbd: clv.BGNBDParams | None
    gamma_gamma: clv.GammaGammaParams | None
    bgnbd_today: clv.BGNBDParams | None
    gamma_gamma_today: clv.GammaGammaParams | None
    clv_note: str | None
    holdout: pl.DataFrame | None
    scores: pl.DataFrame
    unit: str = "D"
    embeddings_note: str | None = None  # what user embeddings fed the learned models, if any
    lapse: LapseWindow | None = None  # churn's window (None in results saved before it)
    value: ValueResult | None = None  # spend over the value horizon, measured
    value_note: str | None = None  # why value is missing or shortened

    @property
    def learned_ready(self) -> bool:
        """False while only the baselines are measured (the learned models still train)."""
        return self.purchase.has_learned

    def tasks(self) -> list[TaskResult]:
        return [t for t in (self.purchase, self.churn) if t is not None]

    def metrics(self) -> pl.DataFrame:
        """task, model, metric, value, ci_low, ci_high, threshold for every task."""
        return pl.concat(
            [t.metrics.with_columns(pl.lit(t.task).alias("task")) for t in self.tasks()]
        ).select("task", "model", "metric", "value", "ci_low", "ci_high", "threshold")

    def report(self) -> dict:
        out = {
            "cutoffs": self.plan.to_dict(),
            "unit": self.unit,
            "bgnbd": None
            if self.bgnbd is None
            else {
                k: self.bgnbd.to_dict()[k] for k in ("r", "alpha", "a", "b", "unit", "n_customers")
            },
            "gamma_gamma": None
            if self.gamma_gamma is None
            else {k: self.gamma_gamma.to_dict()[k] for k in ("p", "q", "v", "n_customers")},
            "bgnbd_today": None if self.bgnbd_today is None else self.bgnbd_today.to_dict(),
            "gamma_gamma_today": (
                None if self.gamma_gamma_today is None else self.gamma_gamma_today.to_dict()
            ),
            "clv_note": self.clv_note,
            "churn_note": self.churn_note,
            "embeddings_note": self.embeddings_note,
            "lapse": None
            if self.lapse is None
            else {
                "days": self.lapse.days,
                "rule": self.lapse.reason,
                "reads": self.lapse.describe(),
            },
            "value": None
            if self.value is None
            else {
                "horizon_days": self.value.horizon_days,
                "chosen_model": self.value.chosen,
                "best_on_held_out_window": self.value.best_on_test,
                "learned_minus_bgnbd_gg_gini": self.value.versus_bgnbd,
                "meets_target": self.value.meets_target(),
            },
            "value_note": self.value_note,
        }
        for t in self.tasks():
            out[t.task] = {
                "class_balance": t.class_balance,
                "threshold": t.thresholds[t.chosen],
                "thresholds": t.thresholds,
                "chosen_model": t.chosen,
                "chosen_on": "validation ROC-AUC",
                "best_on_held_out_window": t.best_on_test,
                "baseline_wins": t.baseline_wins,
                "learned_minus_best_baseline_roc_auc": t.versus_best,
                "meets_target": t.meets_target(),
                "learned_model": t.learned_note,
                "timings": t.timings,
            }
        return out
