"""Offline evaluation of recommenders: splits of an event log (splits.py), metrics over long
frames (metrics.py) and the side-by-side model comparison with intervals and tests
(compare.py)."""

from profiling.evaluation.compare import (
    HIGHER_IS_BETTER,
    METRIC_LABELS,
    Comparison,
    bootstrap_ci,
    compare,
    paired_sign_flip_test,
    precision_recall_curve,
)
from profiling.evaluation.metrics import (
    EvaluationError,
    catalog_coverage,
    hit_rate_at_k,
    intra_list_diversity,
    mae,
    map_at_k,
    mean_over_users,
    mrr,
    ndcg_at_k,
    novelty,
    popularity_bias,
    precision_at_k,
    recall_at_k,
    rmse,
)
from profiling.evaluation.splits import (
    Split,
    interactions_from,
    leave_last_n,
    random_kfold,
    relevant_items,
    stratified_split,
    temporal_split,
)

__all__ = [
    "HIGHER_IS_BETTER",
    "METRIC_LABELS",
    "Comparison",
    "EvaluationError",
    "Split",
    "bootstrap_ci",
    "catalog_coverage",
    "compare",
    "hit_rate_at_k",
    "interactions_from",
    "intra_list_diversity",
    "leave_last_n",
    "mae",
    "map_at_k",
    "mean_over_users",
    "mrr",
    "ndcg_at_k",
    "novelty",
    "paired_sign_flip_test",
    "popularity_bias",
    "precision_at_k",
    "precision_recall_curve",
    "random_kfold",
    "recall_at_k",
    "relevant_items",
    "rmse",
    "stratified_split",
    "temporal_split",
]
