"""Readable tables of a comparison: one row per model, a column per metric."""

from __future__ import annotations

import math

import polars as pl

from profiling.evaluation.compare import HIGHER_IS_BETTER

METRIC_ORDER = ("ndcg", "precision", "recall", "map", "mrr", "hit_rate", "coverage",
                "novelty", "diversity", "popularity_bias")  # fmt: skip


def summary_table(metrics: pl.DataFrame) -> pl.DataFrame:
    """One row per model; each metric as "value [ci_low, ci_high]" with a ★ on the best
    model and a † where the model is significantly worse than the best (paired test,
    p < 0.05). Models are sorted by NDCG (or the first metric) from best to worst.

    ``metrics``: the tidy frame of :class:`profiling.evaluation.compare.Comparison`.
    """
    present = [m for m in METRIC_ORDER if m in set(metrics["metric"].to_list())]
    rows: dict[str, dict[str, str]] = {}
    for r in metrics.iter_rows(named=True):
        v = r["value"]
        text = "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"
        lo, hi = r.get("ci_low"), r.get("ci_high")
        if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
            text += f" [{lo:.3f}, {hi:.3f}]"
        if r.get("is_best"):
            text += " ★"
        p = r.get("p_value_vs_best")
        if p is not None and not math.isnan(p) and p < 0.05:
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
    k = metrics["k"].drop_nulls().max() if "k" in metrics.columns else None
    names = {
        m: (f"{m}@{k}" if m in ("ndcg", "precision", "recall", "map", "hit_rate") and k else m)
        for m in present
    }
    return pl.DataFrame(
        [{"model": m, **{names[x]: rows[m].get(x, "—") for x in present}} for m in order]
    )
