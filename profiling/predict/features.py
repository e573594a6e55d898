"""Per-user features at a cutoff, read only from events strictly before it, and the two
columns the baselines score with (the RFM score and BG/NBD's chance of buying again)."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from profiling.errors import ProfilingError
from profiling.predict import clv
from profiling.predict.btyd import rfm_summary
from profiling.profiles.segments import quantile_scores
from profiling.vocabulary import schema as S

_DAY_US = 86_400_000_000.0


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / _DAY_US


def cutoff_features(events: pl.DataFrame, cutoff: datetime) -> pl.DataFrame:
    """Per-user features computed only from events strictly before ``cutoff``.

    Returns
    -------
    pl.DataFrame
        One row per user with at least one event before ``cutoff``, sorted by user_id:
        ``user_id`` and the float features of :func:`feature_names` (``n_view``,
        ``n_cart``, ``views_30d``, ``carts_30d`` only when the log has such events; null
        where undefined, e.g. ``recency_days`` of a user who never bought).
    """
    # over 60 lines: one group-by over the events before the cutoff, collected once; splitting
    # it would scan the events once per piece
    ts, et = pl.col(S.TIMESTAMP), pl.col(S.EVENT_TYPE)
    is_buy = et == S.PURCHASE
    amount = pl.col(S.AMOUNT) if S.AMOUNT in events.columns else pl.lit(None, pl.Float64)
    day = ts.dt.truncate("1d")
    last30 = ts >= cutoff - timedelta(days=30)
    last90 = ts >= cutoff - timedelta(days=90)
    types = set(events[S.EVENT_TYPE].unique().to_list())
    has_items = S.ITEM_ID in events.columns and events[S.ITEM_ID].is_not_null().any()
    aggs = [
        ts.min().alias("_first"),
        ts.max().alias("_last"),
        day.n_unique().cast(pl.Float64).alias("active_days"),
        pl.len().cast(pl.Float64).alias("n_events"),
        last30.sum().cast(pl.Float64).alias("events_last_30d"),
        day.filter(is_buy).n_unique().cast(pl.Float64).alias("purchase_days"),
        day.filter(is_buy & last30).n_unique().cast(pl.Float64).alias("purchase_days_30d"),
        day.filter(is_buy & last90).n_unique().cast(pl.Float64).alias("purchase_days_90d"),
        ts.filter(is_buy).max().alias("_last_buy"),
        # regularity: spread of the gaps between distinct purchase days
        day.filter(is_buy).unique().sort().diff().dt.total_days().std().alias("_gap_std"),
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
    if has_items:
        aggs.append(
            pl.col(S.ITEM_ID).filter(is_buy).n_unique().cast(pl.Float64).alias("items_bought")
        )
        optional.append("items_bought")
    has_money = S.AMOUNT in events.columns and events[S.AMOUNT].is_not_null().any()
    if has_money:
        aggs.append(amount.filter(is_buy & last90).sum().alias("spend_90d"))
    freq = pl.col("purchase_days")
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
            pl.when(freq > 2)
            .then(
                pl.col("_gap_std")
                / (_days(pl.col("_last_buy") - pl.col("_first_buy")) / (freq - 1))
            )
            .alias("gap_regularity"),
            (
                pl.col("purchase_days_30d")
                - (pl.col("purchase_days_90d") - pl.col("purchase_days_30d")) / 2
            ).alias("purchase_trend"),
            pl.when(pl.col("_n_buy_rows") > 0)
            .then(pl.col("_n_refund") / pl.col("_n_buy_rows"))
            .alias("refund_rate"),
            (pl.col("_gross").fill_null(0) + pl.col("_refunded").fill_null(0)).alias("monetary"),
            pl.when(freq > 0).then(pl.col("_gross") / freq).alias("avg_spend_per_purchase_day"),
        )
        .collect()
    )
    names = feature_names(has_money, optional)
    # polars sums floats in a thread-dependent order (last-bit differences from run to run);
    # rounding money to 1e-6 makes features, hence the trees, reproducible
    money = {"monetary", "avg_spend_per_purchase_day", "spend_90d"}
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
        "purchase_days",
        "purchase_days_30d",
        "purchase_days_90d",
        "mean_gap_days",
        "gap_regularity",
        "purchase_trend",
        "tenure_days",
        "days_since_seen",
        "active_days",
        "n_events",
        "events_last_30d",
    ]
    money = (
        ["monetary", "avg_spend_per_purchase_day", "spend_90d", "refund_rate"] if has_money else []
    )
    return base + money + optional


def rfm_score(features: pl.DataFrame) -> pl.Series:
    """R + F + M quintile scores (3..15) of buyers, computed within this cutoff's buyers;
    0 for users without a purchase. Without money, R + F (2..10)."""
    buyers = features.filter(pl.col("purchase_days") > 0)
    parts = [
        quantile_scores(buyers["recency_days"], higher_is_better=False).cast(pl.Int32),
        quantile_scores(buyers["purchase_days"]).cast(pl.Int32),
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


def bgnbd_at(events: pl.DataFrame, cutoff: datetime, horizon_days: int) -> pl.DataFrame | None:
    """user_id, bgnbd_p, bgnbd_alive: the buying-pattern model's (MBG/NBD) P(purchase in
    [cutoff, cutoff + H)) and P(alive) at the cutoff, from a fit on purchases before the cutoff (no label is read);
    None when the model cannot be fitted (the baseline then falls back, see
    :class:`profiling.predict.models.BGNBDBaseline`)."""
    fitted = bgnbd_fit_at(events, cutoff)
    if fitted is None:
        return None
    summary, params = fitted
    x, t_x, T = (
        summary[c].to_numpy().astype(float) for c in ("repeat_purchase_days", "purchase_span", "T")
    )
    # T ends on the cutoff's eve (day index); the window is the H day indices after it
    p = clv.p_purchase(params, float(horizon_days), x, t_x, T)
    alive = clv.p_alive(params, x, t_x, T)
    return pl.DataFrame({S.USER_ID: summary[S.USER_ID], "bgnbd_p": p, "bgnbd_alive": alive})


def bgnbd_fit_at(
    events: pl.DataFrame, cutoff: datetime
) -> tuple[pl.DataFrame, clv.MBGNBDParams] | None:
    """(BTYD summary in days, MBG/NBD parameters) of the purchases before ``cutoff``, or
    None when there are none or the fit fails (:func:`profiling.predict.clv.fit_value_model`
    says why; the scores that need it are then left empty for the baselines)."""
    before = events.filter(pl.col(S.TIMESTAMP) < cutoff)
    try:
        summary = rfm_summary(
            before, observation_period_end=(cutoff - timedelta(days=1)).date(), round_to=None
        )
    except ProfilingError:
        return None
    fit = clv.fit_value_model(summary, unit="D", with_spend=False)
    if isinstance(fit, clv.FitFailure):
        return None
    return summary, fit.purchases
