"""The one-pass feature history (``EventHistory``) reads, at every cutoff, exactly the features
and labels a group-by over the events before that cutoff gives (the per-cutoff path it
replaced, kept here as the reference)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from profiling import predict as P
from profiling.errors import DataValidationError
from profiling.vocabulary import schema as S

_DAY_US = 86_400_000_000.0


def _days(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_microseconds() / _DAY_US


def reference_features(events: pl.DataFrame, cutoff: datetime) -> pl.DataFrame:
    """The per-cutoff path: one group-by over the events strictly before ``cutoff``."""
    ts, et = pl.col(S.TIMESTAMP), pl.col(S.EVENT_TYPE)
    is_buy = et == S.PURCHASE
    amount = pl.col(S.AMOUNT)
    day = ts.dt.truncate("1d")
    last30 = ts >= cutoff - timedelta(days=30)
    last90 = ts >= cutoff - timedelta(days=90)
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
        day.filter(is_buy).unique().sort().diff().dt.total_days().std().alias("_gap_std"),
        ts.filter(is_buy).min().alias("_first_buy"),
        amount.filter(is_buy).sum().alias("_gross"),
        amount.filter(et == S.REFUND).sum().alias("_refunded"),
        is_buy.sum().alias("_n_buy_rows"),
        (et == S.REFUND).sum().alias("_n_refund"),
        (et == S.VIEW).sum().cast(pl.Float64).alias("n_view"),
        ((et == S.VIEW) & last30).sum().cast(pl.Float64).alias("views_30d"),
        (et == S.CART).sum().cast(pl.Float64).alias("n_cart"),
        ((et == S.CART) & last30).sum().cast(pl.Float64).alias("carts_30d"),
        pl.col(S.ITEM_ID).filter(is_buy).n_unique().cast(pl.Float64).alias("items_bought"),
        amount.filter(is_buy & last90).sum().alias("spend_90d"),
    ]
    freq = pl.col("purchase_days")
    span = _days(pl.col("_last_buy") - pl.col("_first_buy"))
    out = (
        events.lazy()
        .filter(ts < cutoff)
        .group_by(S.USER_ID)
        .agg(aggs)
        .with_columns(
            _days(pl.lit(cutoff) - pl.col("_last_buy")).alias("recency_days"),
            _days(pl.lit(cutoff) - pl.col("_first")).alias("tenure_days"),
            _days(pl.lit(cutoff) - pl.col("_last")).alias("days_since_seen"),
            pl.when(freq > 1).then(span / (freq - 1)).alias("mean_gap_days"),
            pl.when(freq > 2)
            .then(pl.col("_gap_std") / (span / (freq - 1)))
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
    names = P.feature_names(True, ["n_view", "views_30d", "n_cart", "carts_30d", "items_bought"])
    money = {"monetary", "avg_spend_per_purchase_day", "spend_90d"}
    return out.select(
        S.USER_ID,
        *[
            pl.col(c).cast(pl.Float64).round(6) if c in money else pl.col(c).cast(pl.Float64)
            for c in names
        ],
    ).sort(S.USER_ID)


def random_log(seed: int, n: int = 4000) -> pl.DataFrame:
    """Views, carts, purchases (some on the same day, a few without an item) and refunds of
    60 users at random moments over 200 days, with money in cents and large sums."""
    rng = np.random.default_rng(seed)
    start = datetime(2023, 11, 1, tzinfo=UTC)
    kinds = rng.choice([S.VIEW, S.CART, S.PURCHASE, S.REFUND], n, p=[0.5, 0.15, 0.3, 0.05])
    item = rng.integers(0, 25, n).astype(str).astype(object)
    item[rng.random(n) < 0.03] = None
    amount = np.round(rng.gamma(1.5, 40.0, n) * 10 ** rng.integers(0, 4, n), 2)
    amount = np.where(kinds == S.REFUND, -amount, amount)
    amount = np.where(np.isin(kinds, [S.PURCHASE, S.REFUND]), amount, np.nan)
    seconds = rng.integers(0, 200 * 86_400, n)
    seconds[:40] = (seconds[:40] // 86_400) * 86_400  # exactly at a midnight
    return pl.DataFrame(
        {
            S.USER_ID: [f"u{int(u):02d}" for u in rng.integers(0, 60, n)],
            S.ITEM_ID: pl.Series(item.tolist(), dtype=pl.String),
            S.EVENT_TYPE: kinds.tolist(),
            S.TIMESTAMP: [start + timedelta(seconds=int(s)) for s in seconds],
            S.AMOUNT: pl.Series(amount).fill_nan(None),
        },
        schema_overrides={S.TIMESTAMP: pl.Datetime("us", "UTC")},
    )


CUTOFFS = [
    datetime(2023, 11, 1, tzinfo=UTC) + timedelta(days=d)
    for d in (0, 1, 29, 45, 90, 91, 150, 199, 200, 260)
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_history_reads_the_per_cutoff_features_at_every_cutoff(seed):
    events = random_log(seed)
    history = P.EventHistory(events)
    for cutoff in CUTOFFS:
        ours = history.features(cutoff)
        ref = reference_features(events, cutoff)
        assert ours[S.USER_ID].to_list() == ref[S.USER_ID].to_list(), cutoff
        assert ours.columns == ref.columns
        for column in ours.columns[1:]:
            a, b = ours[column].to_numpy(), ref[column].to_numpy()
            assert np.array_equal(np.isnan(a), np.isnan(b)), (cutoff, column)
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, err_msg=f"{cutoff} {column}")


@pytest.mark.parametrize("horizon", [1, 30, 75])
def test_the_history_reads_the_labels_of_every_window(horizon):
    events = random_log(3)
    history = P.EventHistory(events)
    for cutoff in CUTOFFS:
        assert history.labels(cutoff, horizon).equals(P.cutoff_labels(events, cutoff, horizon))


def test_the_features_at_the_first_cutoff_with_no_history_are_empty():
    events = random_log(4)
    first = events[S.TIMESTAMP].min().replace(hour=0, minute=0, second=0, microsecond=0)
    assert P.EventHistory(events).features(first).height == 0


def test_a_cutoff_that_is_not_a_midnight_is_refused_naming_it():
    from profiling.vocabulary.i18n import language

    history = P.EventHistory(random_log(5, n=50))
    with pytest.raises(P.PredictionError, match="cutoff must be a midnight.*12:00") as raised:
        history.features(datetime(2024, 1, 1, 12, tzinfo=UTC))
    assert str(raised.value) == (
        "cutoff must be a midnight (UTC), as the protocol cuts time. Got 2024-01-01 12:00:00+00:00."
    )
    with language("zh"):
        assert P.stage_text(P.error_stage(raised.value)) == (
            "截止日必须是午夜（UTC），因为协议按午夜切分时间，实际为 2024-01-01 12:00:00+00:00。"
        )


def test_tasks_reading_the_same_cutoff_share_one_buying_pattern_fit(monkeypatch):
    from profiling.predict import features

    events = random_log(6)
    calls = []
    real = features.bgnbd_fit_at
    monkeypatch.setattr(features, "bgnbd_fit_at", lambda h, c: calls.append(c) or real(h, c))
    history = P.EventHistory(events)
    cutoff = datetime(2024, 4, 1, tzinfo=UTC)
    a, _ = P.cutoff_frame(events, cutoff, 30, history=history)
    b, _ = P.cutoff_frame(events, cutoff, 60, history=history)
    assert calls == [cutoff, cutoff]
    assert list(history.fits) == [(cutoff, "D")]  # the 60-day window reused the 30-day fit
    alone, _ = P.cutoff_frame(events, cutoff, 60)
    assert b.equals(alone)
    assert a["bgnbd_alive"].equals(b["bgnbd_alive"])


# ---- the BTYD summary and the buying-pattern fits, read from the history -------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("monetary", [False, True])
def test_the_history_reads_the_btyd_summary_the_events_give_at_every_cutoff(seed, monetary):
    from profiling.predict.btyd import rfm_summary

    events = random_log(seed)
    # random_log leaves some purchases without an amount: the spend summary needs them all
    events = events.with_columns(pl.col(S.AMOUNT).fill_null(1.0)) if monetary else events
    history = P.EventHistory(events)
    for cutoff in CUTOFFS[1:]:
        ours = history.btyd_summary(cutoff, monetary=monetary)
        ref = rfm_summary(
            events.filter(pl.col(S.TIMESTAMP) < cutoff),
            observation_period_end=(cutoff - timedelta(days=1)).date(),
            round_to=None,
            monetary=monetary,
        )
        assert ours.columns == ref.columns and ours.dtypes == ref.dtypes, cutoff
        assert ours[S.USER_ID].to_list() == ref[S.USER_ID].to_list(), cutoff
        for column in ours.columns[1:]:
            np.testing.assert_allclose(
                ours[column].to_numpy(),
                ref[column].to_numpy(),
                rtol=1e-9,
                atol=1e-6,
                err_msg=f"{cutoff} {column}",
            )


def test_the_history_summary_weighs_refunds_of_either_sign_and_needs_purchases():
    day = datetime(2024, 1, 1, 10, tzinfo=UTC)
    rows = [
        # a: buys 10 on day 0, 30 on day 2 (two purchases), 5 on day 4 -> x 2, span 4, T 9
        ("a", S.PURCHASE, day, 10.0),
        ("a", S.PURCHASE, day + timedelta(days=2), 20.0),
        ("a", S.PURCHASE, day + timedelta(days=2, hours=1), 10.0),
        ("a", S.PURCHASE, day + timedelta(days=4), 5.0),
        # b: buys 50 twice and refunds it all, once as +50 and once as -50: no net purchase
        ("b", S.PURCHASE, day + timedelta(days=1), 50.0),
        ("b", S.PURCHASE, day + timedelta(days=3), 50.0),
        ("b", S.REFUND, day + timedelta(days=3, hours=1), 50.0),
        ("b", S.REFUND, day + timedelta(days=3, hours=2), -50.0),
        # c: only views
        ("c", S.VIEW, day, None),
        # a purchase on the cutoff's day is not read
        ("a", S.PURCHASE, day + timedelta(days=10), 99.0),
    ]
    events = pl.DataFrame(
        rows,
        schema={
            S.USER_ID: pl.String,
            S.EVENT_TYPE: pl.String,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
            S.AMOUNT: pl.Float64,
        },
        orient="row",
    )
    history = P.EventHistory(events)
    out = history.btyd_summary(datetime(2024, 1, 11, tzinfo=UTC), monetary=True)
    assert out.rows() == [
        ("a", 2, 4.0, 9.0, (30.0 + 5.0) / 2),  # the first day's 10 is left out
        ("b", 0, 0.0, 8.0, 0.0),
    ]
    with pytest.raises(DataValidationError, match="at least one purchase"):
        history.btyd_summary(datetime(2024, 1, 1, tzinfo=UTC))
