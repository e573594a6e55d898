"""Predictive scores: purchase propensity and churn risk on a rolling-cutoff protocol,
compared with simple baselines on a held-out final window, plus BG/NBD + Gamma-Gamma CLV.

The protocol (``plan_cutoffs``):

- time is cut at midnights (UTC). ``today`` is the midnight after the last event;
- the **test cutoff** is ``today - H`` (or the day after ``calibration_end``): features use
  events strictly before it, labels are purchases in the H days from it. Nothing a model,
  a baseline, a threshold or a model choice uses comes from on or after it;
- **training cutoffs** are the test cutoff minus H, 2H, ... (up to ``max_train_cutoffs``,
  each with at least H days of history before it): a training example is (a user's
  features before cutoff c, whether they bought in [c, c + H)), so every training label
  ends before the test cutoff;
- the **validation** set is the most recent training cutoff (models fitted on the older
  ones) or, with a single training cutoff, a stratified quarter of its users. The F1-maximizing
  threshold of every model and the model whose scores are used are chosen there;
- the scores of **today's** users come from the chosen model refitted on every cutoff up to
  and including the test cutoff (all of them are earlier than today, with complete labels).

Churn risk is the probability that a past buyer makes no purchase in the next H days. It
uses the same H as propensity, so that a marketer reads both on one calendar ("buys in the
next 30 days" / "does not buy in the next 30 days"), but it is a separate model trained on
past buyers only, where lapsing is the question.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
from scipy import stats
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from profiling.errors import ProfilingError
from profiling.predict import clv
from profiling.predict.btyd import UNIT_DAYS, rfm_summary
from profiling.profiles.segments import quantile_scores
from profiling.vocabulary import schema as S

DEFAULT_HORIZON = 30
LEARNED = "learned"
BASELINES = ("recency", "frequency", "rfm", "bgnbd")
MODEL_LABELS = {
    LEARNED: "Learned model (all signals)",
    "recency": "Days since last purchase alone",
    "frequency": "Number of purchase days alone",
    "rfm": "RFM score (recency, frequency and spend ranks added up)",
    "bgnbd": "Buying-pattern model (BG/NBD chance of buying again)",
}
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier", "top_decile_lift")
HIGHER_IS_BETTER = {m: m != "brier" for m in METRICS}
TASKS = {"purchase": "purchase propensity", "churn": "churn risk"}
SCORE_COLUMNS = {"purchase": "purchase_propensity", "churn": "churn_risk"}

FEATURE_LABELS: dict[str, str] = {
    "recency_days": "days since last purchase",
    "frequency": "purchase days",
    "monetary": "spend (net of refunds)",
    "avg_order_value": "spend per purchase day",
    "purchase_days_30d": "purchase days, last 30 days",
    "purchase_days_90d": "purchase days, last 90 days",
    "mean_gap_days": "average days between purchases",
    "refund_share": "share of purchases refunded",
    "tenure_days": "days since first visit",
    "days_since_seen": "days since last visit",
    "active_days": "active days",
    "n_events": "recorded actions (views, carts, purchases)",
    "events_30d": "recorded actions, last 30 days",
    "n_view": "views",
    "n_cart": "add-to-carts",
    "views_30d": "views, last 30 days",
    "carts_30d": "add-to-carts, last 30 days",
    "rfm_score": "RFM score (3-15)",
    "bgnbd_p": "chance of buying again (buying-pattern model)",
}
FEATURE_LABELS.update(
    {f"seq_emb_{k}": f"browsing-sequence trait {k}" for k in range(1, 33)}
)  # optional inputs (profiling.predict.embeddings)
_DAY_US = 86_400_000_000.0


class PredictionError(ProfilingError, ValueError):
    """The events cannot support the requested prediction (too short, no purchases, one
    class only in a window); the message says what is missing."""


Progress = Callable[[str, float], None]


def _noop(_stage: str, _fraction: float) -> None:
    return None


# ---- protocol ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CutoffPlan:
    """Cutoffs of the rolling protocol (midnights, UTC). Features use events strictly before
    a cutoff; labels are purchases in [cutoff, cutoff + horizon_days)."""

    horizon_days: int
    start: datetime
    today: datetime
    test: datetime
    train: tuple[datetime, ...]  # oldest first

    @property
    def validation(self) -> datetime | None:
        """The most recent training cutoff when there are two or more (else None)."""
        return self.train[-1] if len(self.train) >= 2 else None

    def describe(self) -> str:
        """The protocol in one paragraph (Markdown), for the page."""
        d = self.to_dict()
        val = (
            f"validation window from {d['validation_cutoff']}"
            if d["validation_cutoff"]
            else "validation on a quarter of the training users"
        )
        return (
            f"Training cutoffs {', '.join(d['train_cutoffs'])}; {val}; held-out window "
            f"**{d['test_window'][0]} → {d['test_window'][1]}** (end excluded). Today's scores: "
            "the chosen model refitted on every cutoff up to the held-out one."
        )

    def to_dict(self) -> dict:
        h = timedelta(days=self.horizon_days)
        return {
            "horizon_days": self.horizon_days,
            "first_event_day": self.start.date().isoformat(),
            "today": self.today.date().isoformat(),
            "test_cutoff": self.test.date().isoformat(),
            "test_window": [self.test.date().isoformat(), (self.test + h).date().isoformat()],
            "train_cutoffs": [c.date().isoformat() for c in self.train],
            "validation_cutoff": None
            if self.validation is None
            else self.validation.date().isoformat(),
        }


def _midnight(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date() if value.tzinfo else value.date()
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _parse_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value).strip()).date()
    except ValueError:
        raise PredictionError(
            f"{name} must be a date such as '1997-09-30'. Got {name}={value!r} instead."
        ) from None


def _check_events(events: pl.DataFrame) -> None:
    if not isinstance(events, pl.DataFrame):
        raise TypeError(f"events must be a polars DataFrame. Got {type(events).__name__}.")
    for column in (S.USER_ID, S.EVENT_TYPE, S.TIMESTAMP):
        if column not in events.columns:
            raise PredictionError(
                f"events: column '{column}' is missing; predictions need user_id, event_type "
                f"and timestamp. Columns found: {', '.join(events.columns)}."
            )
    if events.height == 0:
        raise PredictionError("events: the log is empty; predictions need events.")
    if not (events[S.EVENT_TYPE] == S.PURCHASE).any():
        raise PredictionError(
            "events, column 'event_type': the log has no purchase (event_type == 'purchase'); "
            "purchase propensity, churn and CLV are learned from purchases. Found only: "
            + ", ".join(sorted(events[S.EVENT_TYPE].drop_nulls().unique().to_list()))
            + "."
        )


def plan_cutoffs(
    events: pl.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    max_train_cutoffs: int = 6,
    calibration_end: date | datetime | str | None = None,
) -> CutoffPlan:
    """Cutoffs of the rolling protocol for ``events`` (see the module docstring).

    Raises
    ------
    PredictionError
        If ``horizon_days`` is not a positive integer, the log is too short for one training
        cutoff with H days of history plus a held-out window of H days, or ``calibration_end``
        leaves no complete H-day window after it.
    """
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise PredictionError(
            f"horizon must be a positive whole number of days. Got horizon={horizon_days!r}."
        )
    if (
        isinstance(max_train_cutoffs, bool)
        or not isinstance(max_train_cutoffs, int)
        or max_train_cutoffs < 1
    ):
        raise PredictionError(
            f"max_train_cutoffs must be a positive integer. Got {max_train_cutoffs!r}."
        )
    _check_events(events)
    h = timedelta(days=horizon_days)
    first, last = events.select(
        pl.col(S.TIMESTAMP).min().alias("first"), pl.col(S.TIMESTAMP).max().alias("last")
    ).row(0)
    start = _midnight(first)
    today = _midnight(last) + timedelta(days=1)
    span = (today - start).days
    if calibration_end is None:
        test = today - h
    else:
        test = _midnight(_parse_date(calibration_end, "calibration_end")) + timedelta(days=1)
        if test + h > today:
            raise PredictionError(
                f"calibration_end={calibration_end!s} leaves {(today - test).days} days of events "
                f"after it (the log ends on {(today - timedelta(days=1)).date()}); a held-out "
                f"window of horizon={horizon_days} days needs an earlier calibration_end or a "
                "shorter horizon."
            )
    train = []
    c = test - h
    while len(train) < max_train_cutoffs and c - start >= h:
        train.append(c)
        c -= h
    if not train:
        raise PredictionError(
            f"events, column 'timestamp': the log spans {span} days "
            f"({start.date()} .. {(today - timedelta(days=1)).date()}); predicting "
            f"{horizon_days} days ahead needs at least {3 * horizon_days} days before the end "
            f"of the held-out window: {horizon_days} of history, {horizon_days} to learn from "
            f"and {horizon_days} held out. Use a horizon of at most {max(span // 3, 0)} days."
        )
    return CutoffPlan(horizon_days, start, today, test, tuple(reversed(train)))


# ---- features and labels -------------------------------------------------------------------
def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / _DAY_US


def cutoff_features(events: pl.DataFrame, cutoff: datetime) -> pl.DataFrame:
    """Per-user features computed only from events strictly before ``cutoff``.

    Returns
    -------
    pl.DataFrame
        One row per user with at least one event before ``cutoff``, sorted by user_id:
        ``user_id`` and the float features of :data:`FEATURE_LABELS` (``n_view``,
        ``n_cart``, ``views_30d``, ``carts_30d`` only when the log has such events; null
        where undefined, e.g. ``recency_days`` of a user who never bought).
    """
    ts, et = pl.col(S.TIMESTAMP), pl.col(S.EVENT_TYPE)
    is_buy = et == S.PURCHASE
    amount = pl.col(S.AMOUNT) if S.AMOUNT in events.columns else pl.lit(None, pl.Float64)
    day = ts.dt.truncate("1d")
    last30 = ts >= cutoff - timedelta(days=30)
    last90 = ts >= cutoff - timedelta(days=90)
    types = set(events[S.EVENT_TYPE].unique().to_list())
    aggs = [
        ts.min().alias("_first"),
        ts.max().alias("_last"),
        day.n_unique().cast(pl.Float64).alias("active_days"),
        pl.len().cast(pl.Float64).alias("n_events"),
        last30.sum().cast(pl.Float64).alias("events_30d"),
        day.filter(is_buy).n_unique().cast(pl.Float64).alias("frequency"),
        day.filter(is_buy & last30).n_unique().cast(pl.Float64).alias("purchase_days_30d"),
        day.filter(is_buy & last90).n_unique().cast(pl.Float64).alias("purchase_days_90d"),
        ts.filter(is_buy).max().alias("_last_buy"),
        ts.filter(is_buy).min().alias("_first_buy"),
        amount.filter(is_buy).sum().alias("_gross"),
        amount.filter(et == S.REFUND).sum().alias("_refunded"),
        is_buy.sum().alias("_n_buy_rows"),
        (et == S.REFUND).sum().alias("_n_refund"),
    ]
    optional = []
    for t, name in ((S.VIEW, "view"), (S.CART, "cart")):
        if t in types:
            aggs.append((et == t).sum().cast(pl.Float64).alias(f"n_{name}"))
            aggs.append(((et == t) & last30).sum().cast(pl.Float64).alias(f"{name}s_30d"))
            optional += [f"n_{name}", f"{name}s_30d"]
    has_money = S.AMOUNT in events.columns and events[S.AMOUNT].is_not_null().any()
    freq = pl.col("frequency")
    out = (
        events.lazy()
        .filter(ts < cutoff)
        .group_by(S.USER_ID)
        .agg(aggs)
        .with_columns(
            _days(pl.lit(cutoff) - pl.col("_last_buy")).alias("recency_days"),
            _days(pl.lit(cutoff) - pl.col("_first")).alias("tenure_days"),
            _days(pl.lit(cutoff) - pl.col("_last")).alias("days_since_seen"),
            pl.when(freq > 1)
            .then(_days(pl.col("_last_buy") - pl.col("_first_buy")) / (freq - 1))
            .alias("mean_gap_days"),
            pl.when(pl.col("_n_buy_rows") > 0)
            .then(pl.col("_n_refund") / pl.col("_n_buy_rows"))
            .alias("refund_share"),
            (pl.col("_gross").fill_null(0) + pl.col("_refunded").fill_null(0)).alias("monetary"),
            pl.when(freq > 0).then(pl.col("_gross") / freq).alias("avg_order_value"),
        )
        .collect()
    )
    names = feature_names(has_money, optional)
    # polars sums floats in a thread-dependent order (last-bit differences from run to run);
    # rounding money to 1e-6 makes features, hence the trees, reproducible
    money = {"monetary", "avg_order_value"}
    return out.select(
        S.USER_ID,
        *[
            pl.col(c).cast(pl.Float64).round(6) if c in money else pl.col(c).cast(pl.Float64)
            for c in names
        ],
    ).sort(S.USER_ID)


def feature_names(has_money: bool, optional: list[str]) -> list[str]:
    """The feature columns :func:`cutoff_features` returns, in order."""
    base = [
        "recency_days",
        "frequency",
        "purchase_days_30d",
        "purchase_days_90d",
        "mean_gap_days",
        "tenure_days",
        "days_since_seen",
        "active_days",
        "n_events",
        "events_30d",
    ]
    money = ["monetary", "avg_order_value", "refund_share"] if has_money else []
    return base + money + optional


def cutoff_labels(events: pl.DataFrame, cutoff: datetime, horizon_days: int) -> pl.DataFrame:
    """One row per user who made a purchase in [cutoff, cutoff + horizon_days): user_id,
    purchase_days (distinct purchase days in the window)."""
    end = cutoff + timedelta(days=horizon_days)
    ts = pl.col(S.TIMESTAMP)
    return (
        events.lazy()
        .filter((pl.col(S.EVENT_TYPE) == S.PURCHASE) & (ts >= cutoff) & (ts < end))
        .group_by(S.USER_ID)
        .agg(ts.dt.truncate("1d").n_unique().alias("purchase_days"))
        .sort(S.USER_ID)
        .collect()
    )


def _rfm_score(features: pl.DataFrame) -> pl.Series:
    """R + F + M quintile scores (3..15) of buyers, computed within this cutoff's buyers;
    0 for users without a purchase. Without money, R + F (2..10)."""
    buyers = features.filter(pl.col("frequency") > 0)
    parts = [
        quantile_scores(buyers["recency_days"], higher_is_better=False).cast(pl.Int32),
        quantile_scores(buyers["frequency"]).cast(pl.Int32),
    ]
    if "monetary" in buyers.columns:
        parts.append(quantile_scores(buyers["monetary"]).cast(pl.Int32))
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    scored = buyers.select(S.USER_ID).with_columns(total.alias("rfm_score"))
    return (
        features.select(S.USER_ID)
        .join(scored, on=S.USER_ID, how="left")["rfm_score"]
        .fill_null(0)
        .cast(pl.Float64)
    )


@dataclass(frozen=True)
class Examples:
    """Rows of one task at one or more cutoffs: features, label, and the columns baselines
    read (``rfm_score``, ``bgnbd_p``)."""

    frame: pl.DataFrame  # user_id, cutoff, features..., rfm_score, bgnbd_p, label
    features: tuple[str, ...]

    def X(self) -> np.ndarray:
        return self.frame.select(self.features).to_numpy().astype(float)

    def y(self) -> np.ndarray:
        return self.frame["label"].to_numpy().astype(int)


def _bgnbd_at(events: pl.DataFrame, cutoff: datetime, horizon_days: int) -> pl.DataFrame | None:
    """user_id, bgnbd_p: BG/NBD P(purchase in [cutoff, cutoff + H)) from a fit on purchases
    before the cutoff (no label is read); None when the model cannot be fitted."""
    before = events.filter(pl.col(S.TIMESTAMP) < cutoff)
    try:
        summary = rfm_summary(
            before, observation_period_end=(cutoff - timedelta(days=1)).date(), round_to=None
        )
        params = clv.fit_bgnbd(summary, unit="D")
    except ProfilingError:
        return None
    x, t_x, T = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    # T ends on the cutoff's eve (day index); the window is the H day indices after it
    p = clv.p_purchase(params, float(horizon_days), x, t_x, T)
    return pl.DataFrame({S.USER_ID: summary[S.USER_ID], "bgnbd_p": p})


def cutoff_frame(
    events: pl.DataFrame,
    cutoff: datetime,
    horizon_days: int,
    *,
    with_labels: bool = True,
    embeddings=None,
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Everything both tasks read at one cutoff, computed once.

    ``embeddings`` (a fitted :class:`profiling.predict.embeddings.SequenceEmbeddings`) adds
    its columns (``seq_emb_1`` ...) to the features, read from events before ``cutoff``.

    Returns
    -------
    (pl.DataFrame, tuple of str)
        One row per user with an event before ``cutoff``: user_id, cutoff, the features of
        :func:`cutoff_features`, rfm_score, bgnbd_p (null for users without a purchase or
        when BG/NBD cannot be fitted), bought (1 when the user buys in
        [cutoff, cutoff + H), null when ``with_labels`` is false); and the feature names.
    """
    feats = cutoff_features(events, cutoff)
    if embeddings is not None:
        feats = feats.join(embeddings.features(events, cutoff), on=S.USER_ID, how="left")
    names = tuple(c for c in feats.columns if c != S.USER_ID)
    feats = feats.with_columns(_rfm_score(feats).alias("rfm_score"), pl.lit(cutoff).alias("cutoff"))
    bg = _bgnbd_at(events, cutoff, horizon_days)
    if bg is None:
        feats = feats.with_columns(pl.lit(None, pl.Float64).alias("bgnbd_p"))
    else:
        feats = feats.join(bg, on=S.USER_ID, how="left")
    if with_labels:
        bought = cutoff_labels(events, cutoff, horizon_days).select(
            S.USER_ID, pl.lit(1).alias("bought")
        )
        feats = feats.join(bought, on=S.USER_ID, how="left").with_columns(
            pl.col("bought").fill_null(0)
        )
    else:
        feats = feats.with_columns(pl.lit(None, pl.Int32).alias("bought"))
    return feats.sort(S.USER_ID), names


def examples_for(frame: pl.DataFrame, names: tuple[str, ...], task: str) -> Examples:
    """The rows and label of ``task`` from a :func:`cutoff_frame`.

    Purchase: every user; label = bought. Churn: users with a purchase before the cutoff;
    label = 1 - bought (no purchase in the window).
    """
    if task not in TASKS:
        raise PredictionError(f"task must be one of {', '.join(TASKS)}. Got task={task!r}.")
    if task == "churn":
        frame = frame.filter(pl.col("frequency") > 0)
        label = 1 - pl.col("bought")
    else:
        label = pl.col("bought")
    return Examples(frame.with_columns(label.alias("label")).drop("bought"), names)


def build_examples(
    events: pl.DataFrame,
    cutoff: datetime,
    horizon_days: int,
    task: str,
    *,
    with_labels: bool = True,
) -> Examples:
    """Examples of ``task`` ("purchase" or "churn") at ``cutoff``.

    Purchase: every user with an event before the cutoff; label 1 when they buy in
    [cutoff, cutoff + H). Churn: users with a purchase before the cutoff; label 1 when they
    do not buy in that window. With ``with_labels=False`` (scoring today) the label is null.

    Returns
    -------
    Examples
        ``frame``: one row per user: user_id, the features, rfm_score, cutoff, bgnbd_p,
        label.
    """
    if task not in TASKS:
        raise PredictionError(f"task must be one of {', '.join(TASKS)}. Got task={task!r}.")
    frame, names = cutoff_frame(events, cutoff, horizon_days, with_labels=with_labels)
    return examples_for(frame, names, task)


def _concat(parts: list[Examples]) -> Examples:
    return Examples(pl.concat([p.frame for p in parts], how="vertical_relaxed"), parts[0].features)


# ---- metrics -------------------------------------------------------------------------------
def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (min=0, max=1; 0.5 = random), ties counted as one half;
    equals sklearn's ``roc_auc_score``. NaN with one class only."""
    y = np.asarray(y).astype(bool)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(p)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """PR-AUC as average precision: sum over distinct thresholds of (R_n - R_{n-1}) P_n
    (min=0, max=1); equals sklearn's ``average_precision_score``. NaN without positives."""
    y = np.asarray(y).astype(float)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-np.asarray(p, dtype=float), kind="stable")
    ps, ys = np.asarray(p, dtype=float)[order], y[order]
    idx = np.r_[np.flatnonzero(np.diff(ps)), ys.size - 1]
    tps = np.cumsum(ys)[idx]
    precision = tps / (idx + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def top_decile_lift(y: np.ndarray, p: np.ndarray, fraction: float = 0.1) -> float:
    """Positive rate among the top ``fraction`` of scores divided by the overall positive rate
    (1 = no better than random). Users tied at the boundary score count in proportion, so a
    score with many ties is not credited for an arbitrary order."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    base = y.mean()
    if base == 0:
        return float("nan")
    k = max(int(np.ceil(fraction * y.size)), 1)
    boundary = np.sort(p)[::-1][k - 1]
    above = p > boundary
    tied = p == boundary
    n_above = int(above.sum())
    hits = y[above].sum() + (k - n_above) * y[tied].mean()
    return float(hits / k / base)


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """accuracy, precision, recall, f1 when ``p >= threshold`` predicts the positive class
    (precision 0 when nothing is predicted positive, as sklearn's zero_division=0)."""
    y = np.asarray(y).astype(bool)
    pred = np.asarray(p) >= threshold
    tp = float((pred & y).sum())
    fp = float((pred & ~y).sum())
    fn = float((~pred & y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {
        "accuracy": float((pred == y).mean()),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def all_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Every metric of :data:`METRICS` for labels ``y`` and probabilities ``p``."""
    out = threshold_metrics(y, p, threshold)
    out["roc_auc"] = roc_auc(y, p)
    out["pr_auc"] = average_precision(y, p)
    out["brier"] = float(np.mean((np.asarray(p, dtype=float) - np.asarray(y)) ** 2))
    out["top_decile_lift"] = top_decile_lift(y, p)
    return out


def f1_max_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The score threshold (predict positive when ``p >= t``) that maximizes F1 on (y, p);
    the highest such threshold on ties. Pass validation data, never the test window."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.sum() == 0:
        return float(p.max()) + 1e-9
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    idx = np.r_[np.flatnonzero(np.diff(ps)), ys.size - 1]
    tps = np.cumsum(ys)[idx]
    f1 = 2 * tps / (idx + 1 + y.sum())
    return float(ps[idx[int(np.argmax(f1))]])


def bootstrap_metrics(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    *,
    n_boot: int = 200,
    random_state: int = 0,
) -> pl.DataFrame:
    """Metrics with a percentile bootstrap 95% interval over users (resampled with
    replacement ``n_boot`` times; resamples with one class only are left out of the AUCs).

    Returns
    -------
    pl.DataFrame
        One row per metric: metric, value, ci_low, ci_high.
    """
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    point = all_metrics(y, p, threshold)
    rng = np.random.default_rng(random_state)
    draws = {m: [] for m in METRICS}
    for _ in range(n_boot):
        idx = rng.integers(0, y.size, y.size)
        for m, v in all_metrics(y[idx], p[idx], threshold).items():
            draws[m].append(v)
    rows = []
    for m in METRICS:
        values = np.asarray(draws[m], dtype=float)
        values = values[np.isfinite(values)]
        lo, hi = np.percentile(values, [2.5, 97.5]) if values.size else (np.nan, np.nan)
        rows.append({"metric": m, "value": point[m], "ci_low": float(lo), "ci_high": float(hi)})
    return pl.DataFrame(rows)


# ---- models --------------------------------------------------------------------------------
class _OneColumnLogistic:
    """A baseline: logistic regression on one transformed column (monotone in it), so its
    output is a probability comparable with the learned model's (Brier, calibration)."""

    def __init__(self, column: str, transform: Callable[[pl.DataFrame], np.ndarray]):
        self.column = column
        self.transform = transform

    def fit(self, ex: Examples) -> _OneColumnLogistic:
        self.model_ = LogisticRegression().fit(self.transform(ex.frame)[:, None], ex.y())
        return self

    def predict(self, ex: Examples) -> np.ndarray:
        return self.model_.predict_proba(self.transform(ex.frame)[:, None])[:, 1]


def _recency_column(frame: pl.DataFrame) -> np.ndarray:
    # users who never bought rank below every buyer: one day more than the longest history
    never = float(frame["tenure_days"].max() or 0.0) + 1.0
    return np.log1p(frame["recency_days"].fill_null(never).to_numpy().astype(float))


def _frequency_column(frame: pl.DataFrame) -> np.ndarray:
    return np.log1p(frame["frequency"].to_numpy().astype(float))


def _rfm_column(frame: pl.DataFrame) -> np.ndarray:
    return frame["rfm_score"].to_numpy().astype(float)


class _BGNBDBaseline:
    """BG/NBD's own P(purchase in the window) (1 - it for churn), fitted per cutoff on
    purchases before it. Users it cannot score (no purchase yet) get the rate at which such
    users bought in the training windows."""

    def __init__(self, task: str):
        self.task = task

    def fit(self, ex: Examples) -> _BGNBDBaseline:
        unscored = ex.frame.filter(pl.col("bgnbd_p").is_null())
        self.fill_ = float(unscored["label"].mean()) if unscored.height else float(ex.y().mean())
        return self

    def predict(self, ex: Examples) -> np.ndarray:
        p = ex.frame["bgnbd_p"]
        if self.task == "churn":
            p = 1.0 - p
        return np.clip(p.fill_null(self.fill_).to_numpy().astype(float), 0.0, 1.0)


class _Learned:
    """HistGradientBoostingClassifier, calibrated by isotonic regression (sigmoid below 2,000
    training rows) fitted on 3-fold out-of-fold predictions.

    ``n_threads`` defaults to 1: on a few thousand rows OpenMP threads mostly wait for each
    other, and on a shared 2-core machine a 16,000-row fit took 0.3 s on one thread against
    3 s on two."""

    def __init__(self, random_state: int = 0, n_threads: int = 1):
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, ex: Examples) -> _Learned:
        with threadpool_limits(self.n_threads):
            return self._fit(ex)

    def _fit(self, ex: Examples) -> _Learned:
        X, y = ex.X(), ex.y()
        base = HistGradientBoostingClassifier(
            max_iter=100,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=self.random_state,
        )
        folds = max(2, min(3, int(min(np.bincount(y, minlength=2)))))
        method = "isotonic" if y.size >= 2000 else "sigmoid"
        # ensemble=False: one booster fitted on all rows, calibrated on its out-of-fold
        # predictions; a third of the prediction cost of averaging the fold models
        self.model_ = CalibratedClassifierCV(base, method=method, cv=folds, ensemble=False)
        self.model_.fit(X, y)
        self.features_ = ex.features
        return self

    def predict(self, ex: Examples) -> np.ndarray:
        return self.predict_X(ex.X())

    def predict_X(self, X: np.ndarray) -> np.ndarray:
        with threadpool_limits(self.n_threads):
            return self.model_.predict_proba(X)[:, 1]


def make_models(task: str, random_state: int = 0) -> dict[str, object]:
    """The learned model and every baseline of ``task``, unfitted."""
    return {
        LEARNED: _Learned(random_state),
        "recency": _OneColumnLogistic("recency_days", _recency_column),
        "frequency": _OneColumnLogistic("frequency", _frequency_column),
        "rfm": _OneColumnLogistic("rfm_score", _rfm_column),
        "bgnbd": _BGNBDBaseline(task),
    }


def _check_two_classes(ex: Examples, where: str, task: str) -> None:
    y = ex.y()
    n = y.size
    pos = int(y.sum())
    if n == 0:
        who = "users with a purchase before it" if task == "churn" else "users"
        raise PredictionError(f"{TASKS[task]}: the {where} has no {who}; nothing to learn from.")
    if pos in (0, n):
        what = {
            ("purchase", 0): "none of them bought",
            ("purchase", 1): "every one of them bought",
            ("churn", 0): "every one of them bought again",
            ("churn", 1): "none of them bought again",
        }[(task, int(pos == n))]
        raise PredictionError(
            f"{TASKS[task]}: in the {where}, {what} ({n:,} users), so there is one class only "
            "and no model can be learned or measured there. Use a longer horizon or a longer log."
        )


# ---- the task ------------------------------------------------------------------------------
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

    @property
    def baseline_wins(self) -> bool:
        """True when a baseline, not the learned model, has the best held-out ROC-AUC."""
        return self.best_on_test != LEARNED


def _metric_rows(
    scores: dict[str, np.ndarray],
    y: np.ndarray,
    thresholds: dict[str, float],
    n_boot: int,
    random_state: int,
) -> pl.DataFrame:
    frames = []
    for name, p in scores.items():
        m = bootstrap_metrics(y, p, thresholds[name], n_boot=n_boot, random_state=random_state)
        frames.append(
            m.with_columns(pl.lit(name).alias("model"), pl.lit(thresholds[name]).alias("threshold"))
        )
    return pl.concat(frames).select("model", "metric", "value", "ci_low", "ci_high", "threshold")


def _best(metrics: pl.DataFrame, metric: str = "roc_auc") -> str:
    rows = metrics.filter(pl.col("metric") == metric).sort(
        ["value", "model"], descending=[True, False]
    )
    # the learned model wins ties: a baseline must measure better to be used
    top = rows["value"][0]
    leaders = rows.filter(pl.col("value") == top)["model"].to_list()
    return LEARNED if LEARNED in leaders else leaders[0]


def _percentile(score: pl.Expr) -> pl.Expr:
    return score.rank("max") / score.count() * 100.0


MODEL_INPUTS: dict[str, tuple[str, ...] | None] = {
    LEARNED: None,  # every feature
    "recency": ("recency_days",),
    "frequency": ("frequency",),
    "rfm": ("rfm_score",),
    "bgnbd": ("bgnbd_p",),
}
"""The columns each model reads: the drivers of a score are always the inputs of the model
that produced it."""


def explain_scores(
    model, ex: Examples, *, top: int = 3, inputs: tuple[str, ...] | None = None
) -> pl.DataFrame:
    """Per-user drivers: for each input of ``model``, how much the user's score moves when
    that input alone is set to the population's typical (median) value; a positive effect
    means the user's actual value pushes the score up. ``inputs`` defaults to every feature
    (the learned model); see :data:`MODEL_INPUTS`.

    Returns
    -------
    pl.DataFrame
        Up to ``top`` rows per user (largest absolute effect first, zero effects dropped):
        user_id, rank, feature, label, value (null where the user has none), typical, effect.
    """
    names = list(ex.features if inputs is None else inputs)
    base = model.predict(ex)
    values = ex.frame.select(names).to_numpy().astype(float)
    typical = np.nanmedian(values, axis=0) if values.size else np.zeros(len(names))
    effects = np.empty_like(values)
    for j, name in enumerate(names):
        frame = ex.frame.with_columns(pl.lit(float(typical[j])).alias(name))
        effects[:, j] = base - model.predict(Examples(frame, ex.features))
    order = np.argsort(-np.abs(effects), axis=1)[:, :top]
    rows_idx = np.repeat(np.arange(values.shape[0]), order.shape[1])
    cols_idx = order.ravel()
    long = pl.DataFrame(
        {
            S.USER_ID: ex.frame[S.USER_ID].gather(rows_idx),
            "rank": np.tile(np.arange(1, order.shape[1] + 1), values.shape[0]),
            "feature": [names[c] for c in cols_idx],
            "value": values[rows_idx, cols_idx],
            "typical": typical[cols_idx],
            "effect": effects[rows_idx, cols_idx],
        }
    ).with_columns(pl.col("value").fill_nan(None))
    long = long.filter(pl.col("effect").abs() > 1e-6)
    return long.with_columns(
        pl.col("feature").replace_strict(FEATURE_LABELS, default=pl.col("feature")).alias("label")
    ).select(S.USER_ID, "rank", "feature", "label", "value", "typical", "effect")


def _driver_text(drivers: pl.DataFrame) -> pl.DataFrame:
    """user_id, drivers: "days since last purchase 12 (+0.08); ..." per user."""
    sign = pl.when(pl.col("effect") >= 0).then(pl.lit("+")).otherwise(pl.lit("−"))
    piece = pl.format(
        "{} {} ({}{})",
        pl.col("label"),
        pl.col("value").round(1).cast(pl.String).fill_null("none"),
        sign,
        pl.col("effect").abs().round(3).cast(pl.String),
    )
    return (
        drivers.sort(S.USER_ID, "rank")
        .group_by(S.USER_ID, maintain_order=True)
        .agg(piece.str.join("; ").alias("drivers"))
    )


def fit_task(
    events: pl.DataFrame,
    plan: CutoffPlan,
    task: str,
    *,
    n_boot: int = 200,
    random_state: int = 0,
    drivers: bool = True,
    importance_repeats: int = 3,
    progress: Progress = _noop,
    frames: dict | None = None,
    embeddings=None,
) -> TaskResult:
    """Train, choose, evaluate on the held-out window, and score today's users for ``task``.

    ``embeddings``: see :func:`cutoff_frame` (fitted before the earliest training cutoff).

    Raises
    ------
    PredictionError
        When a training, validation or held-out window has one class only or no users.
    """
    from sklearn.inspection import permutation_importance

    t0 = time.perf_counter()
    h = plan.horizon_days
    label = TASKS[task]
    progress(f"{label}: features and labels at {len(plan.train) + 1} cutoffs", 0.05)
    frames = {} if frames is None else frames

    def at(cutoff: datetime, with_labels: bool = True) -> Examples:
        if cutoff not in frames:
            frames[cutoff] = cutoff_frame(
                events, cutoff, h, with_labels=with_labels, embeddings=embeddings
            )
        return examples_for(*frames[cutoff], task)

    train_parts = [at(c) for c in plan.train]
    test = at(plan.test)
    train = _concat(train_parts)
    window = lambda c: f"window {c.date()} .. {(c + timedelta(days=h)).date()}"  # noqa: E731 - a one-line helper read beside its use
    _check_two_classes(train, "training windows together", task)
    _check_two_classes(test, f"held-out {window(plan.test)}", task)

    # validation: the most recent training cutoff, or a stratified quarter of the users
    if plan.validation is not None and len(train_parts) >= 2:
        fit_part, val = _concat(train_parts[:-1]), train_parts[-1]
        val_where = f"validation {window(plan.validation)}"
    else:
        idx = np.arange(train.frame.height)
        a, b = train_test_split(idx, test_size=0.25, stratify=train.y(), random_state=random_state)
        fit_part = Examples(train.frame[np.sort(a)], train.features)
        val = Examples(train.frame[np.sort(b)], train.features)
        val_where = "validation quarter of the training users"
    _check_two_classes(fit_part, "training part before validation", task)
    _check_two_classes(val, val_where, task)

    progress(f"{label}: choosing thresholds on validation", 0.2)
    val_scores = {
        n: m.fit(fit_part).predict(val) for n, m in make_models(task, random_state).items()
    }
    thresholds = {n: f1_max_threshold(val.y(), p) for n, p in val_scores.items()}
    validation = _metric_rows(val_scores, val.y(), thresholds, 0, random_state)
    chosen = _best(validation)

    progress(f"{label}: training on {len(plan.train)} cutoffs", 0.4)
    t_train = time.perf_counter()
    models = {n: m.fit(train) for n, m in make_models(task, random_state).items()}
    train_seconds = time.perf_counter() - t_train
    t_score = time.perf_counter()
    test_scores = {n: m.predict(test) for n, m in models.items()}
    score_seconds = time.perf_counter() - t_score
    progress(f"{label}: measuring on the held-out window (bootstrap)", 0.55)
    metrics = _metric_rows(test_scores, test.y(), thresholds, n_boot, random_state)
    best_on_test = _best(metrics)

    progress(f"{label}: permutation importance", 0.7)
    learned: _Learned = models[LEARNED]
    with threadpool_limits(learned.n_threads):
        imp = permutation_importance(
            learned.model_,
            test.X(),
            test.y(),
            scoring="roc_auc",
            n_repeats=importance_repeats,
            random_state=random_state,
        )
    importance = pl.DataFrame(
        {
            "feature": list(test.features),
            "label": [FEATURE_LABELS.get(f, f) for f in test.features],
            "importance": imp.importances_mean,
            "std": imp.importances_std,
        }
    ).sort("importance", descending=True)

    progress(f"{label}: scoring today's users", 0.85)
    everything = _concat(train_parts + [test])
    final = make_models(task, random_state)[chosen].fit(everything)
    today = at(plan.today, with_labels=False)
    p_today = final.predict(today)
    scores = today.frame.select(S.USER_ID).with_columns(pl.Series("score", p_today))
    scores = scores.with_columns(_percentile(pl.col("score")).alias("percentile"))
    driver_frame = pl.DataFrame(
        schema={
            S.USER_ID: pl.String,
            "rank": pl.Int64,
            "feature": pl.String,
            "label": pl.String,
            "value": pl.Float64,
            "typical": pl.Float64,
            "effect": pl.Float64,
        }
    )
    if drivers and today.frame.height:
        driver_frame = explain_scores(final, today, inputs=MODEL_INPUTS[chosen])
        scores = scores.join(_driver_text(driver_frame), on=S.USER_ID, how="left")
    else:
        scores = scores.with_columns(pl.lit(None, pl.String).alias("drivers"))

    test_frame = test.frame.select(S.USER_ID, "label").with_columns(
        [pl.Series(n, p) for n, p in test_scores.items()]
    )
    balance = {
        "train_rows": train.frame.height,
        "train_positive_share": float(train.y().mean()),
        "test_users": test.frame.height,
        "test_positives": int(test.y().sum()),
        "test_positive_share": float(test.y().mean()),
        "validation": val_where,
    }
    return TaskResult(
        task=task,
        metrics=metrics,
        test_scores=test_frame,
        validation=validation,
        thresholds=thresholds,
        chosen=chosen,
        best_on_test=best_on_test,
        importance=importance,
        scores=scores,
        drivers=driver_frame,
        class_balance=balance,
        timings={
            "train_seconds": train_seconds,
            "score_seconds": score_seconds,
            "total_seconds": time.perf_counter() - t0,
        },
    )


# ---- everything together ------------------------------------------------------------------
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
                "timings": t.timings,
            }
        return out


def holdout_comparison(
    events: pl.DataFrame, calibration_end: date, holdout_end: date, params: clv.BGNBDParams
) -> pl.DataFrame:
    """BG/NBD predicted against actual repeat purchases in the holdout, by calibration
    frequency (the check of Fader, Hardie and Lee 2005, figure 3).

    Returns
    -------
    pl.DataFrame
        One row per calibration frequency 0..6 and "7+": frequency, customers,
        actual (mean purchase days in the holdout), predicted (mean expected purchases).
    """
    summary = rfm_summary(
        events, observation_period_end=calibration_end, unit=params.unit, round_to=None
    )
    start = datetime(calibration_end.year, calibration_end.month, calibration_end.day, tzinfo=UTC)
    start += timedelta(days=1)
    length_days = (holdout_end - calibration_end).days
    actual = cutoff_labels(events, start, length_days)
    x, t_x, T = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    pred = clv.expected_purchases(params, length_days / UNIT_DAYS[params.unit], x, t_x, T)
    return (
        summary.select(S.USER_ID, "frequency")
        .with_columns(pl.Series("predicted", pred))
        .join(actual, on=S.USER_ID, how="left")
        .with_columns(
            pl.col("purchase_days").fill_null(0).alias("actual"),
            pl.col("frequency").clip(0, 7).alias("bin"),
        )
        .group_by("bin")
        .agg(pl.len().alias("customers"), pl.col("actual").mean(), pl.col("predicted").mean())
        .sort("bin")
        .with_columns(
            pl.when(pl.col("bin") == 7)
            .then(pl.lit("7+"))
            .otherwise(pl.col("bin").cast(pl.String))
            .alias("frequency")
        )
        .select("frequency", "customers", "actual", "predicted")
    )


def _clv_scores(events: pl.DataFrame, plan: CutoffPlan, unit: str) -> dict:
    """BG/NBD and Gamma-Gamma fitted on the calibration period (up to the test cutoff: the
    parameters reported and the holdout check) and on the whole log (today's CLV)."""
    has_money = S.AMOUNT in events.columns and events[S.AMOUNT].is_not_null().any()
    out: dict = dict.fromkeys(
        ("bgnbd", "gamma_gamma", "bgnbd_today", "gamma_gamma_today", "table", "holdout")
    )
    notes = []
    if not has_money:
        notes.append("no amounts in the log: expected value (Gamma-Gamma) is not computed")
    calib_end = (plan.test - timedelta(days=1)).date()
    for period, end in (
        ("calibration period", calib_end),
        ("whole log", (plan.today - timedelta(days=1)).date()),
    ):
        today = period == "whole log"
        try:
            summary = rfm_summary(
                events, observation_period_end=end, unit=unit, round_to=None, monetary=has_money
            )
            bg = clv.fit_bgnbd(summary, unit=unit)
        except ProfilingError as exc:
            notes.append(f"BG/NBD on the {period}: {exc}")
            continue
        gg = None
        if has_money:
            try:
                gg = clv.fit_gamma_gamma(summary)
            except ProfilingError as exc:
                notes.append(f"Gamma-Gamma on the {period}: {exc}")
        if today:
            out["bgnbd_today"], out["gamma_gamma_today"] = bg, gg
            out["table"] = clv.clv_table(summary, bg, gg)
        else:
            out["bgnbd"], out["gamma_gamma"] = bg, gg
            holdout_end = (plan.test + timedelta(days=plan.horizon_days - 1)).date()
            out["holdout"] = holdout_comparison(events, calib_end, holdout_end, bg)
    out["note"] = "; ".join(notes) or None
    return out


def predict(
    events: pl.DataFrame,
    *,
    horizon_days: int = DEFAULT_HORIZON,
    calibration_end: date | datetime | str | None = None,
    unit: str = "D",
    max_train_cutoffs: int = 6,
    n_boot: int = 200,
    drivers: bool = True,
    random_state: int = 0,
    progress: Progress = _noop,
    user_embeddings: str | None = None,
    embedding_dims: int = 8,
    embedding_budget: float = 60.0,
    embedding_params: dict | None = None,
) -> Predictions:
    """Purchase propensity, churn risk and CLV of every user of a cleaned event log.

    Parameters
    ----------
    events : pl.DataFrame
        Cleaned events (``Dataset.events``), one row per event.
    horizon_days : int
        H: the window, in days, that propensity and churn look ahead.
    calibration_end : date or ISO string, optional
        Last day the evaluated models may see; the held-out window is the H days after it.
        Defaults to H days before the end of the log.
    unit : {"D", "W"}
        Time unit the BG/NBD and Gamma-Gamma models are fitted in (their parameters are
        reported in it; scores do not depend on it beyond rounding).
    n_boot : int
        Bootstrap resamples for the 95% intervals.
    user_embeddings : {"gru4rec", "sasrec"}, optional
        Add a sequence model's user representation (``embedding_dims`` principal
        components) to the learned models' features. The sequence model is trained once,
        for at most ``embedding_budget`` seconds, on the events before the EARLIEST training
        cutoff, and reads each user's history before every cutoff with frozen weights: no
        row's features come from on or after its cutoff
        (:mod:`profiling.predict.embeddings`). ``embedding_params``: other parameters of
        the sequence model.

    Raises
    ------
    PredictionError
        See :func:`plan_cutoffs` and :func:`fit_task`; a problem with the churn task alone
        (for example every past buyer bought again) leaves ``churn`` None with ``churn_note``.
    """
    if unit not in ("D", "W"):
        raise PredictionError(f"unit must be 'D' (days) or 'W' (weeks). Got unit={unit!r}.")
    plan = plan_cutoffs(
        events,
        horizon_days=horizon_days,
        max_train_cutoffs=max_train_cutoffs,
        calibration_end=calibration_end,
    )
    embeddings, embeddings_note = None, None
    if user_embeddings is not None:
        from profiling.predict.embeddings import SequenceEmbeddings

        progress(f"user embeddings: training {user_embeddings} before {plan.train[0].date()}", 0.0)
        embeddings = SequenceEmbeddings(
            user_embeddings,
            dims=embedding_dims,
            time_budget=embedding_budget,
            model_params=embedding_params,
            random_state=random_state,
        ).fit(events, before=plan.train[0])
        embeddings_note = embeddings.describe()
    # features, labels and BG/NBD baselines of each cutoff are shared by both tasks
    kw = {
        "n_boot": n_boot,
        "random_state": random_state,
        "drivers": drivers,
        "frames": {},
        "embeddings": embeddings,
    }
    purchase = fit_task(
        events, plan, "purchase", progress=lambda s, f: progress(s, 0.05 + 0.45 * f), **kw
    )
    churn, churn_note = None, None
    try:
        churn = fit_task(
            events, plan, "churn", progress=lambda s, f: progress(s, 0.5 + 0.35 * f), **kw
        )
    except PredictionError as exc:
        churn_note = str(exc)
    progress("CLV: BG/NBD and Gamma-Gamma", 0.9)
    fitted = _clv_scores(events, plan, unit)
    table = fitted["table"]

    def task_columns(t: TaskResult, name: str, prefix: str) -> pl.DataFrame:
        return t.scores.select(
            S.USER_ID,
            pl.col("score").alias(name),
            pl.col("percentile").alias(f"{name}_pct"),
            pl.col("drivers").alias(f"{prefix}_drivers"),
        )

    scores = task_columns(purchase, "purchase_propensity", "purchase")
    if churn is not None:
        scores = scores.join(task_columns(churn, "churn_risk", "churn"), on=S.USER_ID, how="left")
    if table is not None:
        scores = scores.join(table, on=S.USER_ID, how="left")
    progress("done", 1.0)
    return Predictions(
        plan=plan,
        purchase=purchase,
        churn=churn,
        churn_note=churn_note,
        bgnbd=fitted["bgnbd"],
        gamma_gamma=fitted["gamma_gamma"],
        bgnbd_today=fitted["bgnbd_today"],
        gamma_gamma_today=fitted["gamma_gamma_today"],
        clv_note=fitted["note"],
        holdout=fitted["holdout"],
        scores=scores.sort(S.USER_ID),
        unit=unit,
        embeddings_note=embeddings_note,
    )


# ---- curves for the page -----------------------------------------------------------------
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
    from sklearn.metrics import precision_recall_curve, roc_curve

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
    for model in [LEARNED, *BASELINES]:
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
    text = f"On the held-out window, {MODEL_LABELS[best]} has the best ROC-AUC ({auc[best]:.3f}"
    text += ")." if best == LEARNED else f"; learned model {auc[LEARNED]:.3f})."
    if result.baseline_wins:
        text += " A simple baseline measured better than the learned model."
    text += (
        f" Scores shown use {MODEL_LABELS[chosen]}, the best on the validation window "
        "(chosen before the held-out window was looked at)."
    )
    return text


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


SCORE_LABELS: dict[str, str] = {
    "purchase_propensity": "Purchase propensity",
    "churn_risk": "Churn risk",
    "p_alive": "P(alive)",
    "expected_purchases_90d": "Expected purchases, 90 days",
    "expected_purchases_365d": "Expected purchases, 365 days",
    "expected_value_90d": "Expected value, 90 days",
    "expected_value_365d": "Expected value, 365 days",
    "anomaly_score": "Anomaly score",
    "n_risk_flags": "Risk flags",
}


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


def user_scores(scores: pl.DataFrame, user_id: str) -> dict | None:
    """One user's row of :func:`all_scores` as a dict, or None when the user is not scored."""
    row = scores.filter(pl.col(S.USER_ID) == user_id)
    return row.row(0, named=True) if row.height else None
