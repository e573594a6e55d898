"""Readable tables of a comparison: one row per model, a column per metric."""

from __future__ import annotations

import math

import polars as pl

from profiling import glossary as G
from profiling.evaluation.compare import HIGHER_IS_BETTER

METRIC_ORDER = ("ndcg", "precision", "recall", "f1", "map", "mrr", "hit_rate", "coverage",
                "novelty", "diversity", "popularity_bias", "rmse", "mae")  # fmt: skip
AT_K = ("ndcg", "precision", "recall", "f1", "map", "hit_rate")
SIGNIFICANCE_NOTE = (
    "† clearly worse than the best model, not by luck (paired sign-flip test, p-values "
    "adjusted for multiple comparisons with Benjamini-Hochberg over every model and metric "
    "of the table; adjusted p < 0.05, so at most 5% of the † marks are expected to be false)."
)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def summary_table(metrics: pl.DataFrame) -> pl.DataFrame:
    """One row per model; each metric as "value [ci_low, ci_high]" with a ★ on the best
    model and a † where the model is significantly worse than the best (paired test,
    Benjamini-Hochberg adjusted p < 0.05; the raw p when no ``p_adjusted`` column). A
    cross-validated frame (with ``std`` and ``folds``) shows "mean ± std" instead. Models
    are sorted by NDCG (or the first metric) from best to worst.

    ``metrics``: the tidy frame of :class:`profiling.evaluation.compare.Comparison` or
    :class:`profiling.evaluation.folds.FoldedComparison`.
    """
    present = [m for m in METRIC_ORDER if m in set(metrics["metric"].to_list())]
    rows: dict[str, dict[str, str]] = {}
    for r in metrics.iter_rows(named=True):
        v = r["value"]
        text = "—" if _missing(v) else f"{v:.3f}"
        lo, hi = r.get("ci_low"), r.get("ci_high")
        if not (_missing(lo) or _missing(hi)):
            text += f" [{lo:.3f}, {hi:.3f}]"
        sd = r.get("std")
        if not _missing(sd) and not _missing(v) and (r.get("folds") or 0) > 1:
            text += f" ± {sd:.3f}"
        if r.get("is_best"):
            text += " ★"
        p = r.get("p_adjusted", r.get("p_value_vs_best"))
        if not _missing(p) and p < 0.05:
            text += " †"
        rows.setdefault(r["model"], {})[r["metric"]] = text
    key = present[0] if present else None
    order = (
        metrics.filter(pl.col("metric") == key)
        .sort("value", descending=HIGHER_IS_BETTER.get(key, True), nulls_last=True)["model"]
        .to_list()
        if key
        else list(rows)
    )
    order += [m for m in rows if m not in order]
    k = metrics["k"].drop_nulls().max() if "k" in metrics.columns else None
    names = {m: G.metric_header(m, k) for m in present}
    return pl.DataFrame(
        [{"model": m, **{names[x]: rows[m].get(x, "—") for x in present}} for m in order]
    )
