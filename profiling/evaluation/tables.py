"""Readable tables of a comparison: one row per model, a column per metric."""

from __future__ import annotations

import math

import polars as pl

from profiling.evaluation.compare import HIGHER_IS_BETTER
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import N_, ngettext
from profiling.vocabulary.i18n import gettext as _

METRIC_ORDER = (
    "ndcg",
    "precision",
    "recall",
    "f1",
    "map",
    "mrr",
    "hit_rate",
    "coverage",
    "novelty",
    "diversity",
    "popularity_bias",
    "rmse",
    "mae",
)
AT_K = ("ndcg", "precision", "recall", "f1", "map", "hit_rate")
SIGNIFICANCE_NOTE = N_(
    "† clearly worse than the best model, not by luck (paired sign-flip test, p-values "
    "adjusted for multiple comparisons with Benjamini-Hochberg over every model and metric "
    "of the table; adjusted p < 0.05, so at most 5% of the † marks are expected to be false)."
)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def summary_table(metrics: pl.DataFrame, *, intervals: bool = True) -> pl.DataFrame:
    """One row per model; each metric as "value [ci_low, ci_high]" with a ★ on the best
    model and a † where the model is significantly worse than the best (paired test,
    Benjamini-Hochberg adjusted p < 0.05; the raw p when no ``p_adjusted`` column). A
    cross-validated frame (with ``std`` and ``folds``) shows "mean ± std" instead. Models
    are sorted by NDCG (or the first metric) from best to worst.

    ``metrics``: the tidy frame of :class:`profiling.evaluation.compare.Comparison` or
    :class:`profiling.evaluation.folds.FoldedComparison`. ``intervals=False`` leaves the
    intervals and deviations out (values and marks only: a table that fits a page).
    """
    present = [m for m in METRIC_ORDER if m in set(metrics["metric"].to_list())]
    rows: dict[str, dict[str, str]] = {}
    for r in metrics.iter_rows(named=True):
        v = r["value"]
        text = "—" if _missing(v) else f"{v:.3f}"
        if intervals:
            text += _spread(r)
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
        [
            {_("model"): G.model_label(m), **{names[x]: rows[m].get(x, "—") for x in present}}
            for m in order
        ]
    )


def by_measure_table(metrics: pl.DataFrame) -> pl.DataFrame:
    """:func:`summary_table` without intervals, turned for reading: one row per measure
    (plain words, then the technical name), one column per model (best on the first
    measure first), each cell the value with its ★ / † mark. Ten measures of eight models
    fit a page that ten measure columns with intervals did not."""
    table = summary_table(metrics, intervals=False)
    measure = _("measure")
    if table.is_empty():
        return pl.DataFrame(schema={measure: pl.String})
    model = table.columns[0]
    measures = table.columns[1:]
    models = table[model].to_list()
    return pl.DataFrame(
        [{measure: m, **dict(zip(models, table[m].to_list(), strict=True))} for m in measures]
    )


def _spread(r: dict) -> str:
    """The spread after a value: " [low, high]" (bootstrap interval), " ± std" (over
    folds) or nothing."""
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if not (_missing(lo) or _missing(hi)):
        return f" [{lo:.3f}, {hi:.3f}]"
    sd = r.get("std")
    if not _missing(sd) and not _missing(r.get("value")) and (r.get("folds") or 0) > 1:
        return f" ± {sd:.3f}"
    return ""


def measure_table(metrics: pl.DataFrame, metric: str) -> pl.DataFrame:
    """One measure of a comparison, read across models (best first): the value, the range
    where the true value likely lies (95% bootstrap interval, or ± the standard deviation
    over folds) and a verdict against the best model: "★ best", "clearly worse" (paired
    test, adjusted p < 0.05, the † of :func:`summary_table`) or "not clearly different".
    Four narrow columns, so intervals stay readable on a page.
    """
    rows = metrics.filter(pl.col("metric") == metric)
    if rows.is_empty():
        return pl.DataFrame(schema={_("model"): pl.String})
    rows = rows.sort("value", descending=HIGHER_IS_BETTER.get(metric, True), nulls_last=True)
    k = metrics["k"].drop_nulls().max() if "k" in metrics.columns else None
    out = []
    for r in rows.iter_rows(named=True):
        p = r.get("p_adjusted", r.get("p_value_vs_best"))
        if r.get("is_best"):
            verdict = _("★ best")
        elif not _missing(p) and p < 0.05:
            verdict = _("clearly worse †")
        elif _missing(p):
            verdict = ""
        else:
            verdict = _("not clearly different")
        spread = _spread(r).strip()
        out.append(
            {
                _("model"): G.model_label(r["model"]),
                G.metric_header(metric, k): "—" if _missing(r["value"]) else f"{r['value']:.3f}",
                _("likely range"): spread.strip("[]").replace(", ", _(" to "))
                if spread.startswith("[")
                else spread,
                _("compared with the best"): verdict,
            }
        )
    return pl.DataFrame(out)


def cold_users_note(per_user: pl.DataFrame, recommendations: pl.DataFrame) -> str | None:
    """One plain sentence on why cold users' bars are the same for every model, or None
    when the test has no cold user.

    A cold user has no interaction before the split's cutoff: no model knows anything about
    them, so each one falls back to the same popularity list (the most bought items of
    their segment, or overall), flagged ``is_fallback``. The sentence names how many test
    users are cold and how many models served them only that fallback.

    Parameters
    ----------
    per_user : pl.DataFrame
        ``Comparison.per_user``: model, user_id, metric, value, is_cold.
    recommendations : pl.DataFrame
        ``Comparison.recommendations``: model, user_id, item_id, score, rank, is_fallback.
    """
    cold = per_user.filter(pl.col("is_cold")).select("user_id").unique()
    n_cold = cold.height
    if n_cold == 0:
        return None
    n_users = per_user.select(pl.col("user_id").n_unique()).item()
    # per model: did every list it gave a cold user come from the fallback?
    by_model = (
        recommendations.join(cold, on="user_id", how="semi")
        .group_by("model")
        .agg(pl.col("is_fallback").all().alias("all_fallback"))
    )
    models = per_user.select(pl.col("model").n_unique()).item()
    fallback_models = by_model.filter(pl.col("all_fallback")).height
    head = ngettext(
        "{cold} of the {n} test user ({share}) had no history before the cutoff date, so "
        "the models know nothing about them",
        "{cold} of the {n} test users ({share}) had no history before the cutoff date, so "
        "the models know nothing about them",
        n_users,
    ).format(cold=fmt.count(n_cold), n=fmt.count(n_users), share=fmt.percent(n_cold / n_users, 0))
    if fallback_models == models:
        return _(
            "{head}: every model gives them the same fallback list of the most popular "
            "items, which is why their bars are the same for every model."
        ).format(head=head)
    return _(
        "{head}: {fallback} of the {models} models give them the same fallback list of the "
        "most popular items (those bars are alike); the others use what they know of the "
        "items."
    ).format(head=head, fallback=fallback_models, models=models)
