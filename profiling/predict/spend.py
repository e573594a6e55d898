"""Customer value measured: each customer's spend over a value horizon, predicted from the
events before a cutoff and compared with what they then spent, for a learned two-part model
(chance of buying x expected spend when buying) and the baselines (the buying-pattern model
with Gamma-Gamma, last period's spend, the RFM score).

The protocol is :func:`profiling.predict.protocol.plan_cutoffs` with the value horizon V as
its window: the held-out window is the last V days; models learn from the earlier cutoffs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from scipy import stats
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from profiling.errors import ProfilingError
from profiling.predict import clv
from profiling.predict.features import EventHistory
from profiling.predict.labels import Examples, cutoff_frame, examples_for
from profiling.predict.models import LEARNED, LearnedModel
from profiling.predict.protocol import CutoffPlan, Progress, Stage, before_validation, no_progress
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_

DEFAULT_VALUE_HORIZON = 180
VALUE_BASELINES = ("bgnbd_gg", "last_spend", "rfm")
VALUE_METRICS = ("gini", "spearman", "mae", "top_decile_share")
VALUE_HIGHER_IS_BETTER = {"gini": True, "spearman": True, "mae": False, "top_decile_share": True}


# ---- metrics ---------------------------------------------------------------------------------
def _tie_shared(actual: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``actual`` sorted by descending ``pred``, each run of tied predictions replaced by its
    mean (a score with ties is not credited for an arbitrary order)."""
    order = np.argsort(-pred, kind="stable")
    a, p = actual[order], pred[order]
    _, start, counts = np.unique(-p, return_index=True, return_counts=True)
    sums = np.add.reduceat(a, start)
    return np.repeat(sums / counts, counts)


def normalized_gini(actual: np.ndarray, pred: np.ndarray) -> float:
    """Gini of ``actual`` ordered by ``pred`` divided by the Gini of the perfect order
    (max=1 when the order is perfect, 0 = random, negative = worse than random); ties in
    ``pred`` share their spend. NaN when nobody spent."""
    actual = np.asarray(actual, dtype=float)
    pred = np.asarray(pred, dtype=float)

    def gini(sorted_actual: np.ndarray) -> float:
        n = sorted_actual.size
        cum = np.cumsum(sorted_actual) / sorted_actual.sum()
        return float(cum.sum() / n - (n + 1) / (2 * n))

    if actual.sum() <= 0:
        return float("nan")
    return gini(_tie_shared(actual, pred)) / gini(np.sort(actual)[::-1])


def top_decile_share(actual: np.ndarray, pred: np.ndarray, fraction: float = 0.1) -> float:
    """Share of the total spend made by the ``fraction`` of customers with the highest
    predictions (ties at the boundary counted in proportion; min=0, max=1)."""
    actual = np.asarray(actual, dtype=float)
    if actual.sum() <= 0:
        return float("nan")
    k = max(int(np.ceil(fraction * actual.size)), 1)
    return float(_tie_shared(actual, np.asarray(pred, dtype=float))[:k].sum() / actual.sum())


def value_metrics(actual: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Every metric of :data:`VALUE_METRICS`: normalized Gini, Spearman rank correlation,
    mean absolute error (money), share of spend captured by the predicted top 10%."""
    actual = np.asarray(actual, dtype=float)
    pred = np.asarray(pred, dtype=float)
    rho = stats.spearmanr(actual, pred).statistic if np.ptp(pred) > 0 else float("nan")
    return {
        "gini": normalized_gini(actual, pred),
        "spearman": float(rho),
        "mae": float(np.mean(np.abs(actual - pred))),
        "top_decile_share": top_decile_share(actual, pred),
    }


# ---- labels and models ---------------------------------------------------------------------------
def spend_in_window(events: pl.DataFrame, cutoff: datetime, days: int) -> pl.DataFrame:
    """One row per user with a purchase or refund in [cutoff, cutoff + days): user_id,
    spend (purchases minus refunds, at least 0), rounded to 1e-6: a float sum depends on the
    order of its terms (threads, row order), and a label or a baseline must not change from
    one run to the next."""
    ts, et = pl.col(S.TIMESTAMP), pl.col(S.EVENT_TYPE)
    return (
        events.lazy()
        .filter(ts.is_between(cutoff, cutoff + timedelta(days=days), closed="left"))
        .filter(et.is_in([S.PURCHASE, S.REFUND]))
        .group_by(S.USER_ID)
        .agg(pl.col(S.AMOUNT).fill_null(0).sum().clip(0).round(6).alias("spend"))
        .collect()
    )


def _examples(
    events: pl.DataFrame, cutoff: datetime, days: int, labels: bool, history: EventHistory
) -> Examples:
    """The purchase examples at ``cutoff`` with window V (label: buys in V days), with
    ``spend`` (what they spent in V days), ``last_spend`` (in the V days before) and
    ``bgnbd_gg`` (the buying-pattern model with Gamma-Gamma fitted before the cutoff)."""
    frame, names = cutoff_frame(events, cutoff, days, with_labels=labels, history=history)
    ex = examples_for(frame, names, "purchase")
    f = ex.frame
    if labels:
        f = f.join(spend_in_window(events, cutoff, days), on=S.USER_ID, how="left")
    else:
        f = f.with_columns(pl.lit(None, pl.Float64).alias("spend"))
    last = spend_in_window(events, cutoff - timedelta(days=days), days).rename(
        {"spend": "last_spend"}
    )
    f = f.join(last, on=S.USER_ID, how="left").join(
        _bgnbd_gg_at(history, cutoff, days), on=S.USER_ID, how="left"
    )
    f = f.with_columns(pl.col("spend", "last_spend").fill_null(0.0))
    # the baselines' own predictions are inputs of the learned model too (stacking: it can
    # only add to what they know, all read before the cutoff)
    return Examples(f, (*ex.features, "bgnbd_gg", "last_spend"))


def _bgnbd_gg_at(history: EventHistory, cutoff: datetime, days: int) -> pl.DataFrame:
    """user_id, bgnbd_gg: expected purchases in V days x expected spend per purchase
    (null for everyone when the models cannot be fitted); the fits at ``cutoff`` are the
    ones every task shares (:meth:`EventHistory.value_fit`)."""
    empty = pl.DataFrame(schema={S.USER_ID: pl.String, "bgnbd_gg": pl.Float64})
    try:
        summary, fit = history.value_fit(cutoff, with_spend=True)
    except ProfilingError:
        return empty
    if isinstance(fit, clv.FitFailure) or fit.spend is None:
        return empty
    table = fit.table(summary, horizons_days=(days,))
    return table.select(S.USER_ID, pl.col(f"expected_value_{days}d").alias("bgnbd_gg"))


SPEND_SETTINGS: tuple[dict, ...] = (
    {"learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 40},
    {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20},
)
"""The gradient-boosting settings each regression of :class:`TwoPartValue` is fitted with;
its estimate is the mean of their predictions (averaging two tree ensembles of different
shapes steadies a ranking that one setting's trees leave noisy)."""


class TwoPartValue:
    """Spend over the window: the mean of two estimates of it.

    - the two-part model: P(buys) x expected spend when buying: the tuned, calibrated
      :class:`LearnedModel` for the first part, a gradient-boosted regression with a gamma
      loss (spend is positive and skewed) on the buyers for the second;
    - a gradient-boosted regression of the spend of every customer (0 for those who did not
      buy) with a Poisson loss (a log link, zeros allowed; the Tweedie family's member
      scikit-learn has).

    Each regression is the mean of one fit per setting of :data:`SPEND_SETTINGS` (early
    stopping on 1,000 rows or more). Chosen on validation windows only (the latest training
    cutoff, fitted on the earlier ones; ``bench/predict.py --validation-only``), normalized
    Gini on Online Retail II / CDNOW / the sample store: one setting 0.807 / 0.673 / 0.535;
    the mean over two settings 0.809 / 0.677 / 0.537 (kept; 1.2 times the fitting time),
    over three 0.808 / 0.676 / 0.537, over four 0.808 / 0.675 / 0.537 (1.6 times); a
    search of four settings on the latest cutoff of the training rows 0.808 / 0.674 / 0.529;
    a third, squared-error regression in the mean 0.809 / 0.673 / 0.543 (31 leaves) or
    0.805 / 0.672 / 0.536 (15 leaves); the mean of ranks 0.808 / 0.673 / 0.536; two more inputs (purchase
    rate x spend per purchase day x V, spend per day of history x V) 0.806 / 0.673 / 0.537.
    Parts alone (one setting): the two-part model 0.807 / 0.673 / 0.532, with a log-target
    (lognormal) regression of the spend 0.811 / 0.673 / 0.518; the Poisson regression
    0.804 / 0.669 / 0.528, of log(1 + spend) with a squared error 0.796 / 0.664 / 0.493.
    A change was kept only when it measured better on all three logs. Never on the
    held-out window.
    """

    name = LEARNED

    def __init__(self, random_state: int = 0, tune: bool = True):
        self.random_state = random_state
        self.tune = tune

    def fit(self, ex: Examples) -> TwoPartValue:
        self.buy_ = LearnedModel(self.random_state, tune=self.tune).fit(ex)
        buyers = ex.frame.filter(pl.col("spend") > 0)
        with threadpool_limits(1):
            # spend given buying (gamma), and every customer's spend (Poisson)
            X, y = self._xy(buyers, ex.features)
            self.spend_ = [
                self._regressor("gamma", 200, len(y), s).fit(X, y) for s in SPEND_SETTINGS
            ]
            X, y = self._xy(ex.frame, ex.features)
            self.direct_ = [
                self._regressor("poisson", 300, len(y), s).fit(X, y) for s in SPEND_SETTINGS
            ]
        return self

    def _xy(self, frame: pl.DataFrame, features) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and spend of ``frame``: a random sample (fixed seed) of at most the first
        part's ``max_rows`` rows when it has more, as the first part (said so on the page)."""
        if frame.height > self.buy_.max_rows:
            rng = np.random.default_rng(self.random_state)
            frame = frame[np.sort(rng.choice(frame.height, self.buy_.max_rows, replace=False))]
        X = frame.select(features).to_numpy().astype(float)[:, self.buy_.keep_]
        return X, frame["spend"].to_numpy().astype(float)

    def _regressor(
        self, loss: str, max_iter: int, rows: int, setting: dict
    ) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            loss=loss,
            max_iter=max_iter,
            early_stopping=rows >= 1000,
            random_state=self.random_state,
            **setting,
        )

    def parts(self, ex: Examples) -> dict[str, np.ndarray]:
        """Each part's prediction for every row of ``ex``: ``p_buy`` (calibrated chance of
        buying), ``given`` (spend when buying) and ``direct`` (spend), the regressions'
        the mean over :data:`SPEND_SETTINGS`."""
        X = ex.X()[:, self.buy_.keep_]
        with threadpool_limits(1):
            given = np.mean([m.predict(X) for m in self.spend_], axis=0)
            direct = np.mean([m.predict(X) for m in self.direct_], axis=0)
        return {"p_buy": self.buy_.predict(ex), "given": given, "direct": direct}

    def predict(self, ex: Examples) -> np.ndarray:
        p = self.parts(ex)
        return (p["p_buy"] * p["given"] + p["direct"]) / 2.0


def _rfm_lookup(train: Examples) -> pl.DataFrame:
    """rfm_score -> mean spend in the window at the training cutoffs (the RFM baseline in
    money, so that its error is comparable)."""
    return train.frame.group_by("rfm_score").agg(pl.col("spend").mean().alias("rfm"))


def baseline_predictions(ex: Examples, lookup: pl.DataFrame) -> dict[str, np.ndarray]:
    """Each baseline's predicted spend for every row of ``ex`` (unscored rows predict 0:
    the buying-pattern model cannot score a customer without a purchase). MBG/NBD +
    Gamma-Gamma is left out when it could not be fitted at all (not shown as a 0 for all)."""
    f = ex.frame.join(lookup, on="rfm_score", how="left")
    out = {}
    if f["bgnbd_gg"].null_count() < f.height:
        out["bgnbd_gg"] = f["bgnbd_gg"].fill_null(0.0).to_numpy()
    out["last_spend"] = f["last_spend"].to_numpy().astype(float)
    out["rfm"] = f["rfm"].fill_null(0.0).to_numpy()
    return out


# ---- the task --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ValueResult:
    """Spend over the value horizon, measured on the held-out window.

    ``metrics``: one row per (model, metric): model, metric, value, ci_low, ci_high.
    ``test_scores``: one row per held-out user: user_id, spend, one column per model.
    ``chosen``: the model used for today's scores (best normalized Gini on validation);
    ``best_on_test``: best normalized Gini on the held-out window. ``versus_bgnbd``: the
    learned model's Gini minus the buying-pattern model's, with a paired bootstrap 95%
    interval. ``scores``: user_id, expected_spend (today, over the next V days).
    """

    plan: CutoffPlan
    metrics: pl.DataFrame
    test_scores: pl.DataFrame
    validation: pl.DataFrame
    chosen: str
    best_on_test: str
    versus_bgnbd: dict
    scores: pl.DataFrame
    note: str | None = None
    timings: dict = field(default_factory=dict)

    @property
    def horizon_days(self) -> int:
        return self.plan.horizon_days

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys(self.metrics["model"].to_list()))

    def meets_target(self, margin: float = 0.03) -> bool:
        """Learned normalized Gini at least the buying-pattern model's + ``margin``."""
        v = self.versus_bgnbd
        return bool(v) and v["difference"] >= margin


def _metric_frame(
    actual: np.ndarray, preds: dict[str, np.ndarray], n_boot: int, random_state: int
) -> tuple[pl.DataFrame, np.ndarray]:
    """(one row per model and metric with a bootstrap interval, the resampled Gini per
    model: (models, resamples))."""
    rng = np.random.default_rng(random_state)
    idx = [rng.integers(0, actual.size, actual.size) for _ in range(n_boot)]
    rows, ginis = [], []
    for name, p in preds.items():
        point = value_metrics(actual, p)
        draws = {m: [] for m in VALUE_METRICS}
        for i in idx:
            for m, v in value_metrics(actual[i], p[i]).items():
                draws[m].append(v)
        ginis.append(draws["gini"])
        for m in VALUE_METRICS:
            d = np.asarray(draws[m], dtype=float)
            d = d[np.isfinite(d)]
            lo, hi = np.percentile(d, [2.5, 97.5]) if d.size else (np.nan, np.nan)
            rows.append(
                {"model": name, "metric": m, "value": point[m], "ci_low": lo, "ci_high": hi}
            )
    return pl.DataFrame(rows), np.asarray(ginis, dtype=float)


def _best(metrics: pl.DataFrame) -> str:
    g = metrics.filter((pl.col("metric") == "gini") & pl.col("value").is_not_nan())
    if g.height == 0:
        return metrics["model"][0]
    top = g["value"].max()
    leaders = g.filter(pl.col("value") == top)["model"].to_list()
    return LEARNED if LEARNED in leaders else leaders[0]


def _validate(
    parts: list[Examples], plan: CutoffPlan, learned: bool, random_state: int
) -> pl.DataFrame:
    """Every model's metrics on validation (no interval): the most recent training cutoff,
    the models fitted on the earlier ones, or with one training cutoff a random quarter of
    its users, the models fitted on the rest. Reads only the training cutoffs' examples."""
    features = parts[0].features
    if len(parts) >= 2:
        fit_part = Examples(
            pl.concat([p.frame for p in before_validation(plan, parts)], how="vertical_relaxed"),
            features,
        )
        val = parts[-1]
    else:
        rng = np.random.default_rng(random_state)
        is_val = rng.random(parts[0].frame.height) < 0.25
        fit_part = Examples(parts[0].frame.filter(pl.Series(~is_val)), features)
        val = Examples(parts[0].frame.filter(pl.Series(is_val)), features)
    val_preds = baseline_predictions(val, _rfm_lookup(fit_part))
    if learned:
        val_preds = {LEARNED: TwoPartValue(random_state).fit(fit_part).predict(val), **val_preds}
    validation, _ = _metric_frame(val.frame["spend"].to_numpy(), val_preds, 0, random_state)
    return validation


def value_validation(
    events: pl.DataFrame,
    plan: CutoffPlan,
    *,
    learned: bool = True,
    random_state: int = 0,
    history: EventHistory | None = None,
) -> pl.DataFrame:
    """The value task's validation metrics, as :func:`fit_value_task` chooses with them:
    one row per (model, metric): model, metric, value (ci_low, ci_high NaN). Reads the
    examples of the training cutoffs only (features before each cutoff, spend in its
    window, which ends on or before the held-out cutoff): nothing of the held-out window,
    so a model can be designed on these numbers."""
    history = EventHistory(events) if history is None else history
    parts = [_examples(events, c, plan.horizon_days, True, history) for c in plan.train]
    return _validate(parts, plan, learned, random_state)


def fit_value_task(
    events: pl.DataFrame,
    plan: CutoffPlan,
    *,
    learned: bool = True,
    n_boot: int = 100,
    random_state: int = 0,
    progress: Progress = no_progress,
    cache: dict | None = None,
    history: EventHistory | None = None,
) -> ValueResult:
    """Predict spend over ``plan.horizon_days`` (V), measure on the held-out window against
    what customers spent, score today's customers with the model best on validation.

    Validation is the most recent training cutoff (models fitted on the older ones) or,
    with one training cutoff, the baselines' and the learned model's Gini on that cutoff
    fitted on a random three quarters of its users and measured on the rest. ``cache``
    keeps the examples of each cutoff between calls (the baselines pass and the learned
    pass read the same ones); ``history``: the :class:`EventHistory` of ``events`` (built
    when not given).
    """
    t0 = time.perf_counter()
    v = plan.horizon_days
    progress(
        Stage(
            N_("customer value ({days} days): features and spend at {n} cutoffs"),
            days=v,
            n=len(plan.train) + 1,
        ),
        0.0,
    )
    cache = {} if cache is None else cache
    history = EventHistory(events) if history is None else history

    def at(c: datetime, labels: bool = True) -> Examples:
        if c not in cache:
            cache[c] = _examples(events, c, v, labels, history)
        return cache[c]

    parts = [at(c) for c in plan.train]
    test = at(plan.test)
    train = Examples(pl.concat([p.frame for p in parts], how="vertical_relaxed"), test.features)

    progress(N_("customer value: choosing on validation"), 0.3)
    validation = _validate(parts, plan, learned, random_state)
    chosen = _best(validation)

    progress(N_("customer value: training and measuring on the held-out window"), 0.5)
    lookup = _rfm_lookup(train)
    preds = baseline_predictions(test, lookup)
    model = None
    if learned:
        model = TwoPartValue(random_state).fit(train)
        preds = {LEARNED: model.predict(test), **preds}
    actual = test.frame["spend"].to_numpy().astype(float)
    metrics, ginis = _metric_frame(actual, preds, n_boot, random_state)
    versus = {}
    if learned and "bgnbd_gg" in preds:
        d = ginis[0] - ginis[list(preds).index("bgnbd_gg")]
        d = d[np.isfinite(d)]
        lo, hi = np.percentile(d, [2.5, 97.5]) if d.size else (np.nan, np.nan)
        g = dict(metrics.filter(pl.col("metric") == "gini").select("model", "value").rows())
        versus = {"difference": g[LEARNED] - g["bgnbd_gg"], "ci_low": lo, "ci_high": hi}

    progress(N_("customer value: scoring today's customers"), 0.85)
    today = at(plan.today, False)
    everything = Examples(
        pl.concat([train.frame, test.frame], how="vertical_relaxed"), test.features
    )
    today_base = baseline_predictions(today, _rfm_lookup(everything))
    if chosen not in today_base and chosen != LEARNED:  # fitted before, not on the whole log
        chosen = _best(metrics.filter(pl.col("model").is_in([LEARNED, *today_base])))
    if chosen == LEARNED:
        p_today = TwoPartValue(random_state).fit(everything).predict(today)
    else:
        p_today = today_base[chosen]
    scores = today.frame.select(S.USER_ID).with_columns(pl.Series("expected_spend", p_today))
    note = None
    if "bgnbd_gg" not in preds:
        note = Stage(
            N_(
                "the buying-pattern and spend models (MBG/NBD + Gamma-Gamma) could not be "
                "fitted before the held-out window, so they are not compared"
            )
        )
    test_frame = test.frame.select(S.USER_ID, "spend").with_columns(
        [pl.Series(n, p) for n, p in preds.items()]
    )
    return ValueResult(
        plan=plan,
        metrics=metrics,
        test_scores=test_frame,
        validation=validation,
        chosen=chosen,
        best_on_test=_best(metrics),
        versus_bgnbd=versus,
        scores=scores,
        note=note,
        timings={"total_seconds": time.perf_counter() - t0},
    )
