"""Cross-validation: the same models compared on every fold of a k-fold split, reported as
the mean and standard deviation across folds (Surprise's ``cross_validate`` protocol)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from profiling.errors import EvaluationError
from profiling.evaluation.compare import HIGHER_IS_BETTER, Comparison, Progress, compare
from profiling.evaluation.splits import Split
from profiling.recommenders.base import Recommender
from profiling.vocabulary.i18n import gettext as _

FOLDED_SCHEMA = {
    "model": pl.String,
    "metric": pl.String,
    "k": pl.Int64,
    "value": pl.Float64,
    "std": pl.Float64,
    "folds": pl.Int64,
    "is_best": pl.Boolean,
}


@dataclass
class FoldedComparison:
    """Result of :func:`compare_folds`.

    Attributes
    ----------
    metrics : pl.DataFrame
        One row per (model, metric): model, metric, k, value (mean over the folds), std
        (population standard deviation over the folds, ``np.std`` as Surprise reports it),
        folds (folds with a value), is_best (best mean; see
        :data:`profiling.evaluation.compare.HIGHER_IS_BETTER`).
    per_fold : pl.DataFrame
        One row per (fold, model, metric): fold (0-based), model, metric, value.
    comparisons : list of Comparison
        The comparison of every fold, in fold order.
    """

    metrics: pl.DataFrame
    per_fold: pl.DataFrame
    comparisons: list[Comparison]

    @property
    def models(self) -> list[str]:
        return self.comparisons[0].models

    def best(self, metric: str = "ndcg") -> str:
        rows = self.metrics.filter((pl.col("metric") == metric) & pl.col("is_best"))
        if rows.height == 0:
            raise EvaluationError(
                _("no model has a value for metric={metric}.").format(metric=repr(metric))
            )
        return rows["model"][0]


def compare_folds(
    models: Mapping[str, Recommender] | Callable[[Split], Mapping[str, Recommender]],
    splits: list[Split],
    *,
    progress: Progress | None = None,
    **kwargs,
) -> FoldedComparison:
    """Run :func:`compare` on every split (every model is refitted on each fold's train
    part) and aggregate each metric's fold values into a mean and a standard deviation.

    Parameters
    ----------
    models : mapping of str to Recommender, or callable
        The models, or ``models(split) -> mapping`` called once per fold (e.g. to tune on
        that fold's training part only: tuning once on one fold's training part would have
        seen the other folds' test rows).
    splits : list of Split
        E.g. :func:`profiling.evaluation.splits.random_kfold`; at least one.
    progress : callable, optional
        Called as ``progress("fold f/F: model", i, n)`` with i counting over every fold's
        models.
    **kwargs
        Passed to :func:`compare` (k, relevant_types, rating_threshold, items, ...).
    """
    if not splits:
        raise EvaluationError(_("splits is empty; give at least one split (e.g. random_kfold)."))
    comps, frames = [], []
    for f, split in enumerate(splits):
        fold_models = models(split) if callable(models) else models
        m = len(fold_models)

        def fold_progress(name: str, i: int, _n: int, f: int = f, m: int = m) -> None:
            if progress is not None:
                progress(f"fold {f + 1}/{len(splits)}: {name}", f * m + i, len(splits) * m)

        comp = compare(fold_models, split, progress=fold_progress, **kwargs)
        comps.append(comp)
        frames.append(
            comp.metrics.select(pl.lit(f, dtype=pl.Int64).alias("fold"), "model", "metric", "value")
        )
    per_fold = pl.concat(frames)
    k = comps[0].k
    agg = (
        per_fold.filter(pl.col("value").is_not_nan())
        .group_by("model", "metric", maintain_order=True)
        .agg(
            pl.col("value").mean().alias("value"),
            pl.col("value").std(ddof=0).alias("std"),
            pl.len().cast(pl.Int64).alias("folds"),
        )
    )
    rows = []
    for metric in agg["metric"].unique(maintain_order=True).to_list():
        part = agg.filter(pl.col("metric") == metric)
        v = part["value"].to_numpy()
        higher = HIGHER_IS_BETTER.get(metric, True)
        best = int(np.argmax(v if higher else -v))
        for j, r in enumerate(part.iter_rows(named=True)):
            rows.append((r["model"], metric, k, r["value"], r["std"], r["folds"], j == best))
    metrics = pl.DataFrame(rows, schema=FOLDED_SCHEMA, orient="row")
    return FoldedComparison(metrics=metrics, per_fold=per_fold, comparisons=comps)
