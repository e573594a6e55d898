"""What a prediction run returns (:class:`TaskResult` per task, :class:`Predictions` for the
log) and what the page, the CLI and the report read from it: curves, comparison tables, the
verdict sentence, score look-ups."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.metrics import precision_recall_curve, roc_curve

from profiling.predict import clv
from profiling.predict.drivers import DRIVER_USERS
from profiling.predict.metrics import HIGHER_IS_BETTER, METRICS, threshold_metrics
from profiling.predict.models import LEARNED
from profiling.predict.protocol import SCORE_COLUMNS, CutoffPlan, LapseWindow
from profiling.predict.spend import ValueResult
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S

MODEL_LABELS = G.PREDICT_MODEL_LABELS
SCORE_LABELS = G.PREDICT_SCORE_LABELS

RESULT_LAYOUT = 2
"""The names inside a :class:`Predictions` (feature columns, model names, the holdout
table's columns). 2: one name per quantity (``purchase_days`` baseline and feature,
``repeat_purchase_days`` / ``purchase_span`` in the BTYD summary, no ``frequency``). Saved
predictions are keyed by it, so those of another layout are computed again, never served
with old names."""


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
    names = [r["model"] + (" (used)" if r["used"] else "") for r in table.iter_rows(named=True)]
    words = words or {}
    return pl.DataFrame(
        [
            {"measure": words.get(metric, metric), **dict(zip(names, table[metric], strict=True))}
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
        row = {"model": MODEL_LABELS[model], "used": "✓" if model == result.chosen else ""}
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
    if not result.has_learned:
        return G.PREDICT_VERDICT_BASELINES_ONLY.format(
            best=MODEL_LABELS[best], auc=auc[best]
        ) + G.PREDICT_VERDICT_USED.format(chosen=MODEL_LABELS[chosen])
    text = sentence.format(best=MODEL_LABELS[best], auc=auc[best], learned=auc[LEARNED])
    return text + G.PREDICT_VERDICT_USED.format(chosen=MODEL_LABELS[chosen])


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


def top_scores(scores: pl.DataFrame, task: str, n: int = 500) -> pl.DataFrame:
    """The ``n`` users with the highest score of ``task``: user_id, score, percentile and
    drivers columns of that task (users without the score, e.g. non-buyers for churn, left
    out)."""
    column = SCORE_COLUMNS[task]
    cols = [S.USER_ID, column, f"{column}_pct", f"{task}_drivers"]
    return scores.select(cols).drop_nulls(column).sort(column, descending=True).head(n)


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
    measure = "normalized Gini" if task == "value" else "ROC-AUC"
    metric = "gini" if task == "value" else "roc_auc"
    lapse = result.lapse
    days = {
        "purchase": result.plan.horizon_days,
        "churn": lapse.days if lapse is not None else result.plan.horizon_days,
        "value": result.value.horizon_days if result.value is not None else 0,
    }[task]
    lapse = lapse.describe() if lapse is not None else f"no purchase in {days} days"
    what = G.PREDICT_READING_WHAT[task].format(days=days, lapse=lapse)
    values = dict(t.metrics.filter(pl.col("metric") == metric).select("model", "value").rows())
    simplest = SIMPLEST_RULE[task]
    score = values[t.chosen]
    base = values[simplest]
    nouns = {"purchase": "buyers", "churn": "lapsing customers", "value": "spenders"}
    verb = "Ranks" if t.chosen != simplest else "Uses"
    if t.chosen == simplest:
        quality = (
            f"Uses {MODEL_LABELS[simplest].lower()} itself: no model ranked {nouns[task]} "
            f"better on validation ({measure} {score:.2f} on the held-out window)."
        )
    else:
        better = "better" if score > base else ("no better" if score == base else "worse")
        quality = G.PREDICT_READING_QUALITY.format(
            verb=verb,
            what=f"{nouns[task]} {better}",
            simplest=f"'{MODEL_LABELS[simplest].lower()}'",
            score=score,
            base=base,
            measure=measure,
            days=days,
        )
    return [what, quality, G.PREDICT_READING_USE[task]]


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
        row = {"measure": words.get(metric, metric)}
        for r in sub.iter_rows(named=True):
            name = MODEL_LABELS[r["model"]] + (" (used)" if r["model"] == value.chosen else "")
            star = " ★" if r["model"] == best else ""
            row[name] = f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]{star}"
        rows.append(row)
    return pl.DataFrame(rows)


def value_verdict(value: ValueResult) -> str:
    """One sentence: which model ordered spenders best on the held-out window, and which
    model's predictions are shown."""
    g = dict(value.metrics.filter(pl.col("metric") == "gini").select("model", "value").rows())
    best = value.best_on_test
    text = f"On the held-out window, {MODEL_LABELS[best]} orders spenders best (normalized Gini {g[best]:.3f}"
    if LEARNED in g and best != LEARNED:
        text += f"; learned model {g[LEARNED]:.3f}). A simple baseline measured better than the learned model."
    else:
        text += ")."
    return text + f" Predictions shown use {MODEL_LABELS[value.chosen]}, the best on validation."
