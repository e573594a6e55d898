"""What the page, the CLI and the report read from a prediction run
(:mod:`profiling.predict.results`): curves, comparison tables, the verdict and plain-reading
sentences, the value table, score look-ups and a user's drivers in the reader's language."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import precision_recall_curve, roc_curve

from profiling.predict.drivers import DRIVER_USERS, driver_text
from profiling.predict.metrics import HIGHER_IS_BETTER, METRICS, threshold_metrics
from profiling.predict.models import LEARNED
from profiling.predict.protocol import SCORE_COLUMNS
from profiling.predict.results import Predictions, TaskResult
from profiling.predict.spend import ValueResult
from profiling.vocabulary import glossary as G
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _


def curves(result: TaskResult, model: str) -> dict[str, pl.DataFrame]:
    """ROC, precision-recall, calibration and cumulative-gain points of ``model`` on the
    held-out window.

    Returns
    -------
    dict
        ``roc``: fpr, tpr; ``pr``: recall, precision; ``calibration``: one row per decile of
        predicted probability with mean_predicted, observed, users; ``gain``: share_targeted,
        share_captured, lift (users sorted by descending score, 100 points).
    """
    y = result.test_scores["label"].to_numpy()
    p = result.test_scores[model].to_numpy()
    fpr, tpr, _ = roc_curve(y, p)
    prec, rec, _ = precision_recall_curve(y, p)
    cal = (
        pl.DataFrame({"p": p, "y": y})
        .with_columns((pl.col("p").rank("ordinal") * 10 / pl.len()).ceil().clip(1, 10).alias("bin"))
        .group_by("bin")
        .agg(
            pl.col("p").mean().alias("mean_predicted"),
            pl.col("y").mean().alias("observed"),
            pl.len().alias("users"),
        )
        .sort("bin")
    )
    order = np.argsort(-p, kind="stable")
    captured = np.cumsum(y[order]) / max(y.sum(), 1)
    targeted = np.arange(1, y.size + 1) / y.size
    pick = np.unique(np.linspace(0, y.size - 1, min(100, y.size)).round().astype(int))
    gain = pl.DataFrame(
        {
            "share_targeted": targeted[pick],
            "share_captured": captured[pick],
            "lift": captured[pick] / targeted[pick],
        }
    )
    return {
        "roc": pl.DataFrame({"fpr": fpr, "tpr": tpr}),
        "pr": pl.DataFrame({"recall": rec, "precision": prec}),
        "calibration": cal,
        "gain": gain,
    }


def metrics_at(result: TaskResult, model: str, threshold: float) -> dict[str, float]:
    """accuracy, precision, recall, f1 of ``model`` on the held-out window at ``threshold``."""
    y = result.test_scores["label"].to_numpy()
    return threshold_metrics(y, result.test_scores[model].to_numpy(), threshold)


def threshold_curve(result: TaskResult, model: str, points: int = 101) -> pl.DataFrame:
    """Precision, recall and F1 of ``model`` on the held-out window at thresholds 0..1.

    Returns
    -------
    pl.DataFrame
        One row per threshold: threshold, precision, recall, f1.
    """
    y = result.test_scores["label"].to_numpy()
    p = result.test_scores[model].to_numpy()
    rows = [{"threshold": t, **threshold_metrics(y, p, t)} for t in np.linspace(0, 1, points)]
    return pl.DataFrame(rows).select("threshold", "precision", "recall", "f1")


def comparison_by_measure(result: TaskResult, words: dict[str, str] | None = None) -> pl.DataFrame:
    """:func:`comparison_table` turned for reading: one row per metric ("measure", in
    ``words`` where given), one column per model (learned first); the model whose scores
    are shown has " (used)" after its name. Eight rows of five models fit a page that
    eight metric columns did not."""
    table = comparison_table(result)
    used = _("{model} (used)")
    names = [
        used.format(model=r["model"]) if r["used"] else r["model"]
        for r in table.iter_rows(named=True)
    ]
    words = words or {}
    return pl.DataFrame(
        [
            {
                _("measure"): words.get(metric, metric),
                **dict(zip(names, table[metric], strict=True)),
            }
            for metric in METRICS
        ]
    )


def comparison_table(result: TaskResult) -> pl.DataFrame:
    """The held-out comparison as a readable table.

    Returns
    -------
    pl.DataFrame
        One row per model (learned first, then baselines): model (label), used (✓ for the
        model whose scores are shown), best (★ on the metric's best value, per column), and
        for every metric of :data:`METRICS` a "value [ci_low, ci_high]" text column.
    """
    m = result.metrics
    best = {
        metric: (
            m.filter(pl.col("metric") == metric).sort("value", descending=HIGHER_IS_BETTER[metric])[
                "model"
            ][0]
        )
        for metric in METRICS
    }
    rows = []
    for model in result.models:
        sub = {r["metric"]: r for r in m.filter(pl.col("model") == model).iter_rows(named=True)}
        row = {"model": G.predict_model_label(model), "used": "✓" if model == result.chosen else ""}
        for metric in METRICS:
            r = sub[metric]
            star = " ★" if best[metric] == model else ""
            row[metric] = f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]{star}"
        rows.append(row)
    return pl.DataFrame(rows)


def verdict(result: TaskResult) -> str:
    """One sentence: which model measured best on the held-out window, and which is used."""
    auc = dict(result.metrics.filter(pl.col("metric") == "roc_auc").select("model", "value").rows())
    best, chosen = result.best_on_test, result.chosen
    # a baseline wins exactly when the best model is not the learned one
    sentence = (
        G.PREDICT_VERDICT_BASELINE_BEST if result.baseline_wins else G.PREDICT_VERDICT_LEARNED_BEST
    )
    label, num = G.predict_model_label, G.score_text
    used = _(G.PREDICT_VERDICT_USED).format(chosen=label(chosen))
    if not result.has_learned:
        return (
            _(G.PREDICT_VERDICT_BASELINES_ONLY).format(best=label(best), auc=num(auc[best])) + used
        )
    text = _(sentence).format(best=label(best), auc=num(auc[best]), learned=num(auc[LEARNED]))
    return text + used


def score_distribution(scores: pl.DataFrame, segments: pl.DataFrame, column: str) -> pl.DataFrame:
    """``column`` of today's scores per segment (for box plots).

    Returns
    -------
    pl.DataFrame
        One row per scored user with a segment: user_id, segment, score.
    """
    return (
        scores.select(S.USER_ID, pl.col(column).alias("score"))
        .join(
            segments.select(S.USER_ID, pl.col(segments.columns[1]).alias("segment")), on=S.USER_ID
        )
        .filter(pl.col("score").is_not_null())
    )


def all_scores(result: Predictions, risk: pl.DataFrame | None) -> pl.DataFrame:
    """Today's scores with the risk columns (anomaly_score, anomaly_pct, risk_flags,
    risk_reasons, n_risk_flags): one row per user, sorted by user_id."""
    if risk is None:
        return result.scores
    keep = [S.USER_ID, "anomaly_score", "anomaly_pct", "risk_flags", "risk_reasons", "n_risk_flags"]
    return result.scores.join(risk.select(keep), on=S.USER_ID, how="full", coalesce=True).sort(
        S.USER_ID
    )


def score_mask(frame: pl.DataFrame, bounds: dict[str, tuple[float, float]]) -> pl.Series:
    """Rows of ``frame`` whose score columns lie within ``bounds`` (inclusive); a user
    without a value for a bounded score (e.g. churn risk of a non-buyer) is left out."""
    mask = pl.lit(True)
    for column, (lo, hi) in bounds.items():
        mask = mask & pl.col(column).is_between(lo, hi).fill_null(False)
    return frame.select(mask.alias("keep"))["keep"]


def top_scores(
    scores: pl.DataFrame, task: str, n: int = 500, drivers: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The ``n`` users with the highest score of ``task``: user_id, score, percentile and
    drivers columns of that task (users without the score, e.g. non-buyers for churn, left
    out). With ``drivers`` (the task's :attr:`TaskResult.drivers`) the drivers text is
    written again in the current language (the saved text is English)."""
    column = SCORE_COLUMNS[task]
    cols = [S.USER_ID, column, f"{column}_pct", f"{task}_drivers"]
    top = scores.select(cols).drop_nulls(column).sort(column, descending=True).head(n)
    if drivers is None or i18n.get_language() == i18n.DEFAULT:
        return top
    text = drivers_in_language(drivers, top[S.USER_ID])
    return (
        top.drop(f"{task}_drivers")
        .join(text.rename({"drivers": f"{task}_drivers"}), on=S.USER_ID, how="left")
        .select(cols)
    )


def drivers_in_language(drivers: pl.DataFrame, user_ids) -> pl.DataFrame:
    """The drivers text of ``user_ids`` in the current language, from a task's
    :attr:`TaskResult.drivers`: one row per user with drivers: user_id, drivers ("days
    since last purchase 12 (+0.08); ...", the inputs named by
    :func:`~profiling.vocabulary.glossary.predict_feature_label`)."""
    mine = drivers.filter(
        pl.col(S.USER_ID).is_in(pl.Series(list(user_ids), dtype=pl.String).implode())
    )
    labels = {f: G.predict_feature_label(f) for f in mine["feature"].unique().to_list()}
    named = mine.with_columns(
        pl.col("feature").replace_strict(labels, return_dtype=pl.String).alias("label")
    )
    return driver_text(named, none=_("none"))


def missing_drivers(scores: pl.DataFrame, user_id: str, task: str) -> tuple[str, int] | None:
    """Why ``user_id`` has a ``task`` score but no drivers: ("below_top", users scored
    higher) when they are outside the :data:`~profiling.predict.drivers.DRIVER_USERS`
    highest-scored users, the only ones whose drivers are computed (a large store's others
    would cost minutes for lines nobody reads); ("typical", users scored higher) when no
    input of the model moves their score from its typical value. None when they have
    drivers, have no score, or no user has drivers (they were not asked for)."""
    column, text = SCORE_COLUMNS[task], f"{task}_drivers"
    row = scores.filter(pl.col(S.USER_ID) == user_id)
    if not row.height or row[column][0] is None or row[text][0] is not None:
        return None
    if scores[text].null_count() == scores.height:
        return None
    higher = int((scores[column] > row[column][0]).sum())
    return ("below_top" if higher >= DRIVER_USERS else "typical"), higher


def user_scores(scores: pl.DataFrame, user_id: str) -> dict | None:
    """One user's row of :func:`all_scores` as a dict, or None when the user is not scored."""
    row = scores.filter(pl.col(S.USER_ID) == user_id)
    return row.row(0, named=True) if row.height else None


SIMPLEST_RULE = {"purchase": "recency", "churn": "recency", "value": "last_spend"}
"""The simplest rule each score is read against ("days since last purchase alone")."""


def plain_reading(result: Predictions, task: str) -> list[str]:
    """Three sentences for a marketer about ``task`` ("purchase", "churn" or "value"):
    what the score predicts over which window, how it ranks against the simplest rule on
    the held-out window (ROC-AUC, or normalized Gini for value), and what to do with it.
    Empty when the task was not scored."""
    t = {"purchase": result.purchase, "churn": result.churn, "value": result.value}[task]
    if t is None:
        return []
    measure = _("normalized Gini") if task == "value" else "ROC-AUC"
    metric = "gini" if task == "value" else "roc_auc"
    lapse = result.lapse
    days = {
        "purchase": result.plan.horizon_days,
        "churn": lapse.days if lapse is not None else result.plan.horizon_days,
        "value": result.value.horizon_days if result.value is not None else 0,
    }[task]
    lapse = (
        lapse.describe() if lapse is not None else _("no purchase in {days} days").format(days=days)
    )
    what = _(G.PREDICT_READING_WHAT[task]).format(days=days, lapse=lapse)
    values = dict(t.metrics.filter(pl.col("metric") == metric).select("model", "value").rows())
    simplest = SIMPLEST_RULE[task]
    score = values[t.chosen]
    base = values[simplest]
    simplest_label = G.predict_model_label(simplest)
    if i18n.get_language() == i18n.DEFAULT:  # mid-sentence in English: "days since ..."
        simplest_label = simplest_label.lower()
    if t.chosen == simplest:
        uses_itself = {
            "purchase": _(
                "Uses {rule} itself: no model ranked buyers better on validation ({measure} "
                "{score} on the held-out window)."
            ),
            "churn": _(
                "Uses {rule} itself: no model ranked lapsing customers better on validation "
                "({measure} {score} on the held-out window)."
            ),
            "value": _(
                "Uses {rule} itself: no model ranked spenders better on validation ({measure} "
                "{score} on the held-out window)."
            ),
        }[task]
        quality = uses_itself.format(
            rule=simplest_label, measure=measure, score=G.score_text(score, 2)
        )
    else:
        nouns = {"purchase": _("buyers"), "churn": _("lapsing customers"), "value": _("spenders")}
        better = "better" if score > base else ("no better" if score == base else "worse")
        quality = _(G.PREDICT_READING_QUALITY[better]).format(
            noun=nouns[task],
            rule=simplest_label,
            score=G.score_text(score, 2),
            base=G.score_text(base, 2),
            measure=measure,
            days=days,
        )
    return [what, quality, _(G.PREDICT_READING_USE[task])]


def value_by_measure(value: ValueResult, words: dict[str, str] | None = None) -> pl.DataFrame:
    """The value task's held-out comparison for reading: one row per measure (in ``words``
    where given), one column per model (learned first; " (used)" after the model whose
    predictions are shown); each cell "value [ci_low, ci_high]", ★ on the best."""
    from profiling.predict.spend import VALUE_HIGHER_IS_BETTER, VALUE_METRICS

    m = value.metrics
    words = words or {}
    rows = []
    for metric in VALUE_METRICS:
        sub = m.filter(pl.col("metric") == metric)
        good = sub.filter(pl.col("value").is_not_nan()).sort(
            "value", descending=VALUE_HIGHER_IS_BETTER[metric]
        )
        best = good["model"][0] if good.height else None
        row = {_("measure"): words.get(metric, metric)}
        for r in sub.iter_rows(named=True):
            name = G.predict_model_label(r["model"])
            if r["model"] == value.chosen:
                name = _("{model} (used)").format(model=name)
            star = " ★" if r["model"] == best else ""
            row[name] = f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]{star}"
        rows.append(row)
    return pl.DataFrame(rows)


def value_verdict(value: ValueResult) -> str:
    """One sentence: which model ordered spenders best on the held-out window, and which
    model's predictions are shown."""
    g = dict(value.metrics.filter(pl.col("metric") == "gini").select("model", "value").rows())
    best = value.best_on_test
    label, num = G.predict_model_label, G.score_text
    if LEARNED in g and best != LEARNED:
        text = _(
            "On the held-out window, {best} orders spenders best (normalized Gini {gini}; "
            "learned model {learned}). A simple baseline measured better than the learned model."
        ).format(best=label(best), gini=num(g[best]), learned=num(g[LEARNED]))
    else:
        text = _(
            "On the held-out window, {best} orders spenders best (normalized Gini {gini})."
        ).format(best=label(best), gini=num(g[best]))
    return text + _(" Predictions shown use {chosen}, the best on validation.").format(
        chosen=label(value.chosen)
    )
