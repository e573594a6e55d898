"""Predictive scores: purchase propensity and churn risk on a rolling-cutoff protocol,
compared with simple baselines on a held-out final window, plus BG/NBD + Gamma-Gamma CLV.

The protocol (``plan_cutoffs``: where time is cut, which window features and labels read)
is described once, in :mod:`profiling.predict.protocol`.

Churn risk is the probability that a past buyer makes no purchase within a **lapse window**
L longer than H, set from the data (the 80th percentile of the gaps between a customer's
repeat purchases, at least 2H; :func:`~profiling.predict.protocol.lapse_window`): "not
buying for much longer than customers usually wait", not "not buying in the same H days",
which was propensity turned upside down. It has its own cutoff plan with window L, and
1 - P(alive) among its baselines.

Customer value (:mod:`~profiling.predict.spend`) predicts each customer's spend over a value
horizon V (default 180 days) and measures it against what they then spent.

The package, one module per job, each importing only those above it:

- :mod:`~profiling.predict.protocol`: cutoffs and windows, ``PredictionError``;
- :mod:`~profiling.predict.features`, :mod:`~profiling.predict.labels`: what a model reads
  at a cutoff and what it learns to predict (the examples);
- :mod:`~profiling.predict.models` (the learned model and every baseline behind one
  contract), :mod:`~profiling.predict.metrics`, :mod:`~profiling.predict.drivers`,
  :mod:`~profiling.predict.value` (CLV beside the scores);
- :mod:`~profiling.predict.comparison` (metric rows, the best model, the paired difference,
  the choice on validation) and :mod:`~profiling.predict.scoring` (today's scores and
  drivers, input importance);
- :mod:`~profiling.predict.results` (what a run returns),
  :mod:`~profiling.predict.reading` (what pages read from it) and
  :mod:`~profiling.predict.orchestration` (``fit_task``, ``predict``).

:mod:`~profiling.predict.clv` (fits, on :mod:`~profiling.predict.likelihood` and
:mod:`~profiling.predict.forecast`), :mod:`~profiling.predict.btyd` and
:mod:`~profiling.predict.embeddings` are the models the package builds on. Every public name
is re-exported here, so ``from profiling import predict as P; P.predict(...)`` keeps working.
"""

from __future__ import annotations

from profiling.predict import clv
from profiling.predict.drivers import DRIVER_SCHEMA, DRIVER_USERS, driver_text, explain_scores
from profiling.predict.features import (
    EventHistory,
    bgnbd_at,
    cutoff_features,
    feature_names,
    rfm_score,
)
from profiling.predict.labels import (
    Examples,
    build_examples,
    check_two_classes,
    concat_examples,
    cutoff_frame,
    cutoff_labels,
    examples_for,
)
from profiling.predict.metrics import (
    HIGHER_IS_BETTER,
    METRICS,
    all_metrics,
    average_precision,
    bootstrap_metrics,
    f1_max_threshold,
    resample_metrics,
    roc_auc,
    threshold_metrics,
    top_decile_lift,
)
from profiling.predict.models import (
    BASELINES,
    LEARNED,
    MODEL_INPUTS,
    BGNBDBaseline,
    LearnedModel,
    OneColumnLogistic,
    PAliveBaseline,
    ScoreModel,
    baselines,
    make_models,
)
from profiling.predict.orchestration import (
    best_model,
    fit_task,
    metric_rows,
    paired_difference,
    predict,
)
from profiling.predict.protocol import (
    DEFAULT_HORIZON,
    SCORE_COLUMNS,
    TASKS,
    CutoffPlan,
    LapseWindow,
    PredictionError,
    Progress,
    Stage,
    error_stage,
    lapse_window,
    plan_cutoffs,
    stage_text,
)
from profiling.predict.reading import (
    all_scores,
    comparison_by_measure,
    comparison_table,
    curves,
    drivers_in_language,
    metrics_at,
    missing_drivers,
    plain_reading,
    score_distribution,
    score_mask,
    threshold_curve,
    top_scores,
    user_scores,
    value_by_measure,
    value_verdict,
    verdict,
)
from profiling.predict.results import (
    MODEL_LABELS,
    RESULT_LAYOUT,
    SCORE_LABELS,
    Predictions,
    TaskResult,
)
from profiling.predict.spend import (
    DEFAULT_VALUE_HORIZON,
    VALUE_BASELINES,
    VALUE_METRICS,
    ValueResult,
    fit_value_task,
    normalized_gini,
    top_decile_share,
    value_metrics,
    value_validation,
)
from profiling.predict.value import clv_scores, holdout_comparison
from profiling.vocabulary.glossary import PREDICT_FEATURE_LABELS as FEATURE_LABELS

__all__ = [
    "EventHistory",
    "BASELINES",
    "DEFAULT_HORIZON",
    "DRIVER_SCHEMA",
    "DRIVER_USERS",
    "FEATURE_LABELS",
    "HIGHER_IS_BETTER",
    "LEARNED",
    "METRICS",
    "MODEL_INPUTS",
    "MODEL_LABELS",
    "RESULT_LAYOUT",
    "SCORE_COLUMNS",
    "SCORE_LABELS",
    "TASKS",
    "BGNBDBaseline",
    "DEFAULT_VALUE_HORIZON",
    "VALUE_BASELINES",
    "VALUE_METRICS",
    "LapseWindow",
    "PAliveBaseline",
    "ValueResult",
    "baselines",
    "fit_value_task",
    "value_validation",
    "lapse_window",
    "normalized_gini",
    "paired_difference",
    "top_decile_share",
    "value_metrics",
    "CutoffPlan",
    "Examples",
    "LearnedModel",
    "OneColumnLogistic",
    "PredictionError",
    "Predictions",
    "Progress",
    "Stage",
    "ScoreModel",
    "TaskResult",
    "all_metrics",
    "all_scores",
    "average_precision",
    "best_model",
    "bgnbd_at",
    "bootstrap_metrics",
    "build_examples",
    "check_two_classes",
    "clv",
    "clv_scores",
    "comparison_by_measure",
    "comparison_table",
    "concat_examples",
    "curves",
    "cutoff_features",
    "cutoff_frame",
    "cutoff_labels",
    "driver_text",
    "drivers_in_language",
    "examples_for",
    "explain_scores",
    "f1_max_threshold",
    "feature_names",
    "fit_task",
    "holdout_comparison",
    "make_models",
    "metric_rows",
    "metrics_at",
    "missing_drivers",
    "plan_cutoffs",
    "predict",
    "resample_metrics",
    "stage_text",
    "error_stage",
    "rfm_score",
    "roc_auc",
    "score_distribution",
    "score_mask",
    "threshold_curve",
    "threshold_metrics",
    "top_decile_lift",
    "top_scores",
    "user_scores",
    "plain_reading",
    "value_by_measure",
    "value_verdict",
    "verdict",
]
