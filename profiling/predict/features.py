"""Per-user features at a cutoff, read only from events strictly before it, and the two
columns the baselines score with (the RFM score and BG/NBD's chance of buying again)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl

from profiling.errors import ProfilingError
from profiling.predict import clv
from profiling.predict.btyd import UNIT_DAYS, missing_amount_error, no_purchase_error
from profiling.predict.protocol import PredictionError, Stage, error_stage
from profiling.profiles.segments import quantile_scores
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_

_DAY_US = 86_400_000_000.0


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / _DAY_US


class EventHistory:
    """A log's per-user running totals by day, built in one pass over the events, from which
    the features (:meth:`features`) and labels (:meth:`labels`) at any midnight cutoff are read
    by binary search: a prediction run reads 15 to 25 cutoffs without scanning the events
    again for each.

    Cutoffs must be midnights (UTC), as :func:`profiling.predict.protocol.plan_cutoffs` makes
    them: "the last 30 days before the cutoff" is then a whole number of calendar days.
    """

    def __init__(self, events: pl.DataFrame) -> None:
        ts, et = pl.col(S.TIMESTAMP), pl.col(S.EVENT_TYPE)
        is_buy, is_refund = et == S.PURCHASE, et == S.REFUND
        has_amount = S.AMOUNT in events.columns
        self._has_amount_column = has_amount
        amount = pl.col(S.AMOUNT) if has_amount else pl.lit(None, pl.Float64)
        types = set(events[S.EVENT_TYPE].unique().to_list())
        self.kinds = [(t, name) for t, name in ((S.VIEW, "view"), (S.CART, "cart")) if t in types]
        self.has_items = S.ITEM_ID in events.columns and events[S.ITEM_ID].is_not_null().any()
        self.has_money = has_amount and events[S.AMOUNT].is_not_null().any()
        self.fits: dict = {}
        """The BTYD summaries and buying-pattern / spend fits of this log by (cutoff, unit),
        shared by every task and by the customer-value columns (:meth:`value_fit`)."""
        aggs = [
            ts.min().alias("first_ts"),
            ts.max().alias("last_ts"),
            pl.len().cast(pl.Int64).alias("n"),
            is_buy.sum().cast(pl.Int64).alias("n_buy"),
            is_refund.sum().cast(pl.Int64).alias("n_refund"),
            amount.filter(is_buy).sum().cast(pl.Float64).alias("gross"),
            amount.filter(is_refund).sum().cast(pl.Float64).alias("refunded"),
            # the BTYD summary weighs a refund against purchases whatever its sign
            amount.filter(is_refund).abs().sum().cast(pl.Float64).alias("refunded_abs"),
            amount.filter(is_buy).is_null().sum().cast(pl.Int64).alias("n_buy_no_amount"),
            ts.filter(is_buy).min().alias("first_buy_ts"),
            ts.filter(is_buy).max().alias("last_buy_ts"),
            *[(et == t).sum().cast(pl.Int64).alias(f"n_{name}") for t, name in self.kinds],
        ]
        lf = events.lazy().with_columns(ts.dt.date().cast(pl.Int32).alias("_day"))
        days = lf.group_by(S.USER_ID, "_day").agg(aggs)
        if self.has_items:
            # an item counts on the day the user first bought it (null items count once, as
            # n_unique counts them)
            first = lf.filter(is_buy).group_by(S.USER_ID, S.ITEM_ID).agg(pl.col("_day").min())
            new = first.group_by(S.USER_ID, "_day").agg(pl.len().cast(pl.Int64).alias("new_items"))
            days = days.join(new, on=[S.USER_ID, "_day"], how="left")
        days = days.sort(S.USER_ID, "_day").collect()
        self._build(days)

    def _build(self, days: pl.DataFrame) -> None:
        u = pl.col(S.USER_ID)
        buy = pl.col("n_buy") > 0
        buy_day = pl.when(buy).then(pl.col("_day"))
        gap = (pl.col("_day") - buy_day.shift(1).forward_fill().over(S.USER_ID)).cast(pl.Int64)
        gap = pl.when(buy).then(gap).fill_null(0)
        counts = [
            "n",
            "n_buy",
            "n_refund",
            "n_buy_no_amount",
            *[f"n_{name}" for _, name in self.kinds],
        ]
        if self.has_items:
            counts.append("new_items")
        days = days.with_columns(
            buy.cast(pl.Int64).alias("buy_days"),
            gap.alias("g1"),
            (gap * gap).alias("g2"),
            pl.col("last_buy_ts").forward_fill().over(S.USER_ID).alias("last_buy_ff"),
            pl.col("first_buy_ts").min().over(S.USER_ID).alias("first_buy_user"),
            buy_day.forward_fill().over(S.USER_ID).alias("last_buy_day_ff"),
            buy_day.min().over(S.USER_ID).alias("first_buy_day"),
            # what the user spent on their first purchase day (the BTYD spend leaves it out)
            pl.col("gross").filter(buy).first().over(S.USER_ID).alias("first_day_gross"),
            ((u != u.shift(1)).fill_null(True).cum_sum().cast(pl.Int64) - 1).alias("_code"),
        ).with_columns(pl.col(c).fill_null(0) for c in counts)
        # integer totals are exact as prefix sums over the whole table; money is summed
        # within each user, so a difference of two totals loses nothing to a large store's
        # revenue
        self._int = {
            c: np.concatenate([[0], np.cumsum(days[c].to_numpy().astype(np.int64))])
            for c in (*counts, "buy_days", "g1", "g2")
        }
        self._money = {
            c: days.select(pl.col(c).fill_null(0.0).cum_sum().over(S.USER_ID))[c].to_numpy()
            for c in ("gross", "refunded", "refunded_abs")
        }
        self._last_buy_day = days["last_buy_day_ff"].fill_null(0).to_numpy().astype(np.int64)
        code = days["_code"].to_numpy()
        day = days["_day"].to_numpy().astype(np.int64)
        self._dmin = int(day.min()) if day.size else 0
        self._width = (int(day.max()) - self._dmin + 2) if day.size else 1
        self._keys = code * self._width + (day - self._dmin)
        n_users = int(code[-1]) + 1 if code.size else 0
        self._start = np.searchsorted(code, np.arange(n_users), side="left")
        self.users = days[S.USER_ID].gather(self._start)
        self._ts = days.select("first_ts", "last_ts", "last_buy_ff", "first_buy_user")
        # per user: their first purchase day and what they spent on it (BTYD summary)
        self._first_buy_day = days["first_buy_day"].gather(self._start).fill_null(0).to_numpy()
        self._first_day_gross = (
            days["first_day_gross"].gather(self._start).fill_null(0.0).to_numpy()
        )

    def _ends(self, day: int) -> np.ndarray:
        """Per user, the row after their last day before ``day`` (their start when none)."""
        offset = min(max(day - self._dmin, 0), self._width - 1)
        q = np.arange(self._start.size, dtype=np.int64) * self._width + offset
        return np.searchsorted(self._keys, q, side="left")

    @staticmethod
    def _day(cutoff: datetime) -> int:
        if (cutoff.hour, cutoff.minute, cutoff.second, cutoff.microsecond) != (0, 0, 0, 0):
            raise PredictionError(
                Stage(
                    N_("cutoff must be a midnight (UTC), as the protocol cuts time. Got {cutoff}."),
                    cutoff=str(cutoff),
                )
            )
        return (cutoff.date() - date(1970, 1, 1)).days

    def _total(
        self, column: str, end: np.ndarray, since: np.ndarray, start: np.ndarray | None = None
    ) -> np.ndarray:
        """Per user, the sum of ``column`` over their rows [since, end); ``start``: the
        users' first rows (every user's by default)."""
        if column in self._int:
            c = self._int[column]
            return c[end] - c[since]
        c = self._money[column]
        start = self._start if start is None else start
        return np.where(end > start, c[np.maximum(end - 1, 0)], 0.0) - np.where(
            since > start, c[np.maximum(since - 1, 0)], 0.0
        )

    def btyd_summary(self, cutoff: datetime, *, monetary: bool = False) -> pl.DataFrame:
        """The BTYD summary of the purchases before a midnight ``cutoff``, in days:
        :func:`profiling.predict.btyd.rfm_summary` with ``observation_period_end`` the day
        before ``cutoff``, ``round_to=None`` and the net-purchase rule, read from the running
        totals instead of the events (the same rows and values, up to float rounding of the
        spend).

        Returns
        -------
        pl.DataFrame
            One row per user with a purchase before ``cutoff``, sorted by user_id: user_id,
            repeat_purchase_days (Int64), purchase_span, T (Float64, days) and, when
            ``monetary``, monetary_value.

        Raises
        ------
        profiling.errors.DataValidationError
            As ``rfm_summary``: no purchase before ``cutoff``, or (``monetary``) a purchase
            before it without an amount.
        """
        c = self._day(cutoff)
        end = self._ends(c)
        buy_days = self._total("buy_days", end, self._start)
        has = buy_days > 0
        if not has.any():
            raise no_purchase_error()
        end, start = end[has], self._start[has]
        x = buy_days[has] - 1
        first = self._first_buy_day[has].astype(np.int64)
        span = (self._last_buy_day[end - 1] - first).astype(np.float64)
        T = ((c - 1) - first).astype(np.float64)
        if self._has_amount_column:
            net = self._total("gross", end, start, start) - self._total(
                "refunded_abs", end, start, start
            )
            refunded = net <= 0
            x = np.where(refunded, 0, x)
            span = np.where(refunded, 0.0, span)
        cols = {
            S.USER_ID: self.users.filter(has),
            "repeat_purchase_days": pl.Series(x, dtype=pl.Int64),
            "purchase_span": span,
            "T": T,
        }
        if monetary:
            missing = int(self._total("n_buy_no_amount", end, start).sum())
            if missing:
                raise missing_amount_error(missing)
            repeat = self._total("gross", end, start, start) - self._first_day_gross[has]
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(x > 0, repeat / np.maximum(x, 1), 0.0)
            cols["monetary_value"] = mean
        return pl.DataFrame(cols)

    def value_fit(
        self, cutoff: datetime, *, unit: str = "D", with_spend: bool = False
    ) -> tuple[pl.DataFrame, clv.ValueFit | clv.FitFailure]:
        """(BTYD summary in ``unit``, :func:`profiling.predict.clv.fit_value_model` of it)
        at a midnight ``cutoff``, each made once per (cutoff, unit) and kept in
        :attr:`fits`: the training cutoffs, the held-out one and today are fitted once
        whichever task or column reads them. With ``with_spend`` (and money in the log) the
        summary has monetary_value and the fit Gamma-Gamma.

        Raises
        ------
        profiling.errors.ProfilingError
            When there is no summary to fit (see :meth:`btyd_summary`).
        """
        spend = with_spend and self.has_money
        entry = self.fits.setdefault((cutoff, unit), {})
        key = "summary_money" if spend else "summary"
        if key not in entry:
            try:
                summary = self.btyd_summary(cutoff, monetary=spend)
            except ProfilingError as exc:
                entry[key] = exc
            else:
                days = UNIT_DAYS[unit]
                if days != 1:
                    summary = summary.with_columns(pl.col("purchase_span", "T") / days)
                entry[key] = summary
        summary = entry[key]
        if isinstance(summary, ProfilingError):
            raise summary
        if "purchases" not in entry:
            try:
                entry["purchases"] = clv.fit_mbgnbd(summary, unit=unit)
            except clv.ModelFitError as exc:
                entry["purchases"] = clv.FitFailure(clv.MBGNBDParams.MODEL, error_stage(exc))
        purchases = entry["purchases"]
        if isinstance(purchases, clv.FitFailure):
            return summary, purchases
        if not spend:
            return summary, clv.ValueFit(purchases)
        if "spend" not in entry:
            try:
                entry["spend"] = clv.fit_gamma_gamma(summary)
            except clv.ModelFitError as exc:
                entry["spend"] = clv.FitFailure(clv.GammaGammaParams.MODEL, error_stage(exc))
        gg = entry["spend"]
        if isinstance(gg, clv.FitFailure):
            return summary, clv.ValueFit(purchases, None, gg)
        return summary, clv.ValueFit(purchases, gg)

    def labels(self, cutoff: datetime, horizon_days: int) -> pl.DataFrame:
        """One row per user who made a purchase in [cutoff, cutoff + horizon_days): user_id,
        purchase_days (what :func:`profiling.predict.labels.cutoff_labels` returns at a
        midnight)."""
        c = self._day(cutoff)
        n = self._total("buy_days", self._ends(c + horizon_days), self._ends(c))
        keep = n > 0
        return pl.DataFrame(
            {S.USER_ID: self.users.filter(keep), "purchase_days": n[keep].astype(np.uint32)}
        )

    def features(self, cutoff: datetime) -> pl.DataFrame:
        """:func:`cutoff_features` at a midnight ``cutoff``."""
        # long: one line per feature column, read off the cumulative sums at the cutoff,
        # in the order cutoff_features gives them (tests compare the two column by column)
        c = self._day(cutoff)
        end = self._ends(c)
        present = end > self._start
        end, start = end[present], self._start[present]
        win = {d: self._ends(c - d)[present] for d in (30, 90)}

        def total(column: str, since: np.ndarray = start) -> np.ndarray:
            return self._total(column, end, since, start).astype(np.float64)

        ts = self._ts
        cols = {
            S.USER_ID: self.users.filter(present),
            "_first": ts["first_ts"].gather(start),
            "_last": ts["last_ts"].gather(end - 1),
            "_last_buy": ts["last_buy_ff"].gather(end - 1),
            "active_days": (end - start).astype(np.float64),
            "n_events": total("n"),
            "events_last_30d": total("n", win[30]),
            "purchase_days": total("buy_days"),
            "purchase_days_30d": total("buy_days", win[30]),
            "purchase_days_90d": total("buy_days", win[90]),
            "_n_buy_rows": total("n_buy"),
            "_n_refund": total("n_refund"),
            "_gross": total("gross"),
            "_refunded": total("refunded"),
        }
        cols["_first_buy"] = ts["first_buy_user"].gather(start)
        # spread (ddof=1) of the gaps between distinct purchase days, from the exact integer
        # sums of the gaps and of their squares
        m = cols["purchase_days"] - 1
        s1, s2 = total("g1"), total("g2")
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (m * s2 - s1 * s1) / (m * (m - 1))
        std = np.where(m >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)
        cols["_gap_std"] = pl.Series(std, dtype=pl.Float64).fill_nan(None)
        optional = []
        for _, name in self.kinds:
            cols[f"n_{name}"] = total(f"n_{name}")
            cols[f"{name}s_30d"] = total(f"n_{name}", win[30])
            optional += [f"n_{name}", f"{name}s_30d"]
        if self.has_items:
            cols["items_bought"] = total("new_items")
            optional.append("items_bought")
        if self.has_money:
            cols["spend_90d"] = total("gross", win[90])
        frame = pl.DataFrame(cols).with_columns(
            # the user's first purchase is read only once they have bought before the cutoff
            pl.when(pl.col("purchase_days") > 0).then(pl.col("_first_buy")).alias("_first_buy")
        )
        out = _derived(frame, cutoff)
        names = feature_names(self.has_money, optional)
        # polars sums floats in a thread-dependent order (last-bit differences from run to run);
        # rounding money to 1e-6 makes features, hence the trees, reproducible
        money = {"monetary", "avg_spend_per_purchase_day", "spend_90d"}
        return out.select(
            S.USER_ID,
            *[
                pl.col(c).cast(pl.Float64).round(6) if c in money else pl.col(c).cast(pl.Float64)
                for c in names
            ],
        )


def _derived(frame: pl.DataFrame, cutoff: datetime) -> pl.DataFrame:
    """The features computed from a user's totals at ``cutoff`` (recency, gaps, trend,
    refund rate, money)."""
    freq = pl.col("purchase_days")
    span = _days(pl.col("_last_buy") - pl.col("_first_buy"))
    return frame.with_columns(
        _days(pl.lit(cutoff) - pl.col("_last_buy")).alias("recency_days"),
        _days(pl.lit(cutoff) - pl.col("_first")).alias("tenure_days"),
        _days(pl.lit(cutoff) - pl.col("_last")).alias("days_since_seen"),
        pl.when(freq > 1).then(span / (freq - 1)).alias("mean_gap_days"),
        pl.when(freq > 2).then(pl.col("_gap_std") / (span / (freq - 1))).alias("gap_regularity"),
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


def cutoff_features(
    events: pl.DataFrame, cutoff: datetime, history: EventHistory | None = None
) -> pl.DataFrame:
    """Per-user features computed only from events strictly before ``cutoff`` (a midnight,
    UTC), read from ``history`` (:class:`EventHistory` of ``events``, built when not given).

    Returns
    -------
    pl.DataFrame
        One row per user with at least one event before ``cutoff``, sorted by user_id:
        ``user_id`` and the float features of :func:`feature_names` (``n_view``,
        ``n_cart``, ``views_30d``, ``carts_30d`` only when the log has such events; null
        where undefined, e.g. ``recency_days`` of a user who never bought).

    Raises
    ------
    PredictionError
        When ``cutoff`` is not a midnight.
    """
    return (EventHistory(events) if history is None else history).features(cutoff)


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


def bgnbd_at(
    events: pl.DataFrame,
    cutoff: datetime,
    horizon_days: int,
    history: EventHistory | None = None,
) -> pl.DataFrame | None:
    """user_id, bgnbd_p, bgnbd_alive: the buying-pattern model's (MBG/NBD) P(purchase in
    [cutoff, cutoff + H)) and P(alive) at the cutoff, from a fit on purchases before the cutoff (no label is read);
    None when the model cannot be fitted (the baseline then falls back, see
    :class:`profiling.predict.models.BGNBDBaseline`). ``history``: the :class:`EventHistory`
    of ``events`` whose fit cache is read and filled (the fit does not depend on the horizon,
    so the tasks whose cutoffs coincide share it); built when not given."""
    history = EventHistory(events) if history is None else history
    fitted = bgnbd_fit_at(history, cutoff)
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
    history: EventHistory, cutoff: datetime
) -> tuple[pl.DataFrame, clv.MBGNBDParams] | None:
    """(BTYD summary in days, MBG/NBD parameters) of the purchases before ``cutoff``, or
    None when there are none or the fit fails (:func:`profiling.predict.clv.fit_value_model`
    says why; the scores that need it are then left empty for the baselines). Made once per
    cutoff (:meth:`EventHistory.value_fit`)."""
    try:
        summary, fit = history.value_fit(cutoff)
    except ProfilingError:
        return None
    if isinstance(fit, clv.FitFailure):
        return None
    return summary, fit.purchases
