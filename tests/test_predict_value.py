"""Customer value beside the scores: the buying-pattern model switched to MBG/NBD with a named
fallback, and the measured value task (spend over a value horizon against what was spent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from profiling import predict as P
from profiling.predict import clv
from profiling.vocabulary import schema as S
from tests.test_predict import at, make_events, simulated_store


def one_time_buyers_log(n: int = 40) -> pl.DataFrame:
    """Every customer buys exactly once (a day apart), so nobody came back."""
    start = datetime(2024, 1, 1, 10, tzinfo=UTC)
    return make_events(
        [(f"u{i:03d}", S.PURCHASE, start + timedelta(days=2 * i), 10.0) for i in range(n)]
    )


@pytest.fixture(scope="module")
def store() -> pl.DataFrame:
    return simulated_store()


def test_the_buying_pattern_baseline_is_left_empty_when_the_model_cannot_be_fitted():
    events = one_time_buyers_log()
    assert P.bgnbd_at(events, at("2024-03-01", 0), 30) is None


def test_a_failed_buying_pattern_fit_is_named_and_its_numbers_are_not_shown():
    events = one_time_buyers_log()
    plan = P.plan_cutoffs(events, horizon_days=20)
    out = P.clv_scores(events, plan, "D")
    assert out["bgnbd"] is None and out["bgnbd_today"] is None and out["table"] is None
    assert out["note"].startswith("calibration period: could not fit: MBG/NBD could not")
    assert "whole log: could not fit:" in out["note"]


def test_why_the_buying_pattern_model_failed_is_saved_in_english_and_read_in_chinese():
    import pickle

    from profiling.vocabulary.i18n import language

    events = one_time_buyers_log()  # 40 customers, one purchase each, every other day
    plan = P.plan_cutoffs(events, horizon_days=20)  # held out from Feb 29: 30 bought before
    with language("zh"):  # a Chinese page's job: the note is saved in English all the same
        note = P.clv_scores(events, plan, "D")["note"]
    why = (
        "MBG/NBD could not be fitted: it needs at least 10 customers of whom at least 5 bought "
        "again (a repeat purchase); the data have {n} customers and 0 with a repeat purchase, "
        "so nothing tells how often customers come back or when they stop."
    )
    assert note == (
        f"calibration period: could not fit: {why.format(n=30)}; "
        f"whole log: could not fit: {why.format(n=40)}"
    )
    zh = (
        "MBG/NBD 无法拟合：它至少需要 10 位客户，其中至少 5 位再次购买过（复购）；数据中有 {n} "
        "位客户，其中 0 位有复购，因此无从得知客户多久回来一次、何时不再回来。"
    )
    saved = pickle.loads(pickle.dumps(note))  # noqa: S301 - bytes made just above
    with language("zh"):
        assert P.stage_text(saved) == (
            f"校准期：无法拟合：{zh.format(n=30)}；整个日志：无法拟合：{zh.format(n=40)}"
        )


def test_a_customer_who_refunded_everything_is_not_shown_as_certainly_still_active(store):
    # c buys once and refunds it all on the first day of the log, then stays silent
    first = store[S.TIMESTAMP].min()
    silent = make_events(
        [
            ("silent", S.PURCHASE, first, 50.0),
            ("silent", S.REFUND, first + timedelta(minutes=5), -50.0),
        ]
    )
    events = pl.concat([store, silent])
    plan = P.plan_cutoffs(events, horizon_days=30)
    out = P.clv_scores(events, plan, "D")
    params = out["bgnbd_today"]
    assert isinstance(params, clv.MBGNBDParams)
    row = out["table"].filter(pl.col(S.USER_ID) == "silent").row(0, named=True)
    # net of refunds the customer never bought: x = 0, t_x = 0, T = days to the log's end
    T = float((plan.today - timedelta(days=1)).date().toordinal() - first.date().toordinal())
    by_hand = 1 / (1 + params.a / params.b * ((params.alpha + T) / params.alpha) ** params.r)
    assert row["p_alive"] == pytest.approx(by_hand)
    assert row["p_alive"] < 1.0  # BG/NBD said 100% for every customer without a repeat


# ---- customer value measured against what customers spent ----------------------------------
def test_normalized_gini_by_hand_perfect_reversed_and_tied():
    actual = [0.0, 10.0, 30.0]
    assert P.normalized_gini(actual, [1.0, 2.0, 3.0]) == pytest.approx(1.0)
    # reversed: cumulative shares 0, 1/4, 1 -> 1.25 / 3 - 4 / 6 = -1/4, perfect +1/4
    assert P.normalized_gini(actual, [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    # one tie for everyone: each gets the mean, no order at all
    assert P.normalized_gini(actual, [5.0, 5.0, 5.0]) == pytest.approx(0.0)


def test_the_top_tenth_share_counts_ties_at_the_boundary_in_proportion():
    actual = [100.0] + [0.0] * 8 + [50.0]
    ranked = [10.0 - k for k in range(10)]
    assert P.top_decile_share(actual, ranked) == pytest.approx(100 / 150)
    assert P.top_decile_share(actual, [1.0] * 10) == pytest.approx(0.1)


@pytest.fixture(scope="module")
def value(store) -> P.ValueResult:
    plan = P.plan_cutoffs(store, horizon_days=60)
    return P.fit_value_task(store, plan, n_boot=20)


def test_value_is_measured_on_the_held_out_window_against_what_each_customer_spent(store, value):
    assert value.models == [P.LEARNED, *P.VALUE_BASELINES]
    assert value.metrics.height == 4 * len(P.VALUE_METRICS)
    # the actual column is each customer's spend in the 60 held-out days, summed by hand
    start = value.plan.test
    spent = (
        store.filter(
            (pl.col(S.EVENT_TYPE) == S.PURCHASE)
            & (pl.col(S.TIMESTAMP) >= start)
            & (pl.col(S.TIMESTAMP) < start + timedelta(days=60))
        )
        .group_by(S.USER_ID)
        .agg(pl.col(S.AMOUNT).sum())
    )
    got = value.test_scores.join(spent, on=S.USER_ID, how="left").with_columns(
        pl.col(S.AMOUNT).fill_null(0.0)
    )
    assert got["spend"].to_list() == pytest.approx(got[S.AMOUNT].to_list())
    # every metric value is the formula's on those columns
    g = dict(value.metrics.filter(pl.col("metric") == "gini").select("model", "value").rows())
    for model in value.models:
        assert g[model] == pytest.approx(
            P.normalized_gini(got["spend"].to_numpy(), got[model].to_numpy())
        )
    # the last-period baseline is the spend in the 60 days before the cutoff
    last = value.test_scores["last_spend"]
    assert (last >= 0).all() and (last > 0).any()
    assert value.versus_bgnbd["difference"] == pytest.approx(g[P.LEARNED] - g["bgnbd_gg"])


def test_spend_in_a_window_does_not_depend_on_the_order_of_the_rows():
    # (0.1 + 0.2) + 0.3 = 0.6000000000000001 but (0.3 + 0.2) + 0.1 = 0.6 in floats
    from datetime import UTC, datetime

    import polars as pl

    from profiling.predict.spend import spend_in_window
    from profiling.vocabulary import schema as S

    day = datetime(2024, 1, 2, tzinfo=UTC)
    rows = pl.DataFrame(
        {
            S.USER_ID: ["u", "u", "u"],
            S.EVENT_TYPE: [S.PURCHASE] * 3,
            S.TIMESTAMP: [day] * 3,
            S.AMOUNT: [0.1, 0.2, 0.3],
        }
    )
    start = datetime(2024, 1, 1, tzinfo=UTC)
    forward = spend_in_window(rows, start, 30)["spend"].item()
    backward = spend_in_window(rows.reverse(), start, 30)["spend"].item()
    assert forward == backward == 0.6


# ---- the learned value model and its validation ----------------------------------------------
def _scaled_after(events: pl.DataFrame, start, end, factor: float) -> pl.DataFrame:
    """``events`` with every amount in [start, end) multiplied by ``factor`` for every other
    user (the order of who spends most in that window changes, nothing before it does)."""
    users = sorted(events[S.USER_ID].unique().to_list())[::2]
    ts = pl.col(S.TIMESTAMP)
    hit = (ts >= start) & (ts < end) & pl.col(S.USER_ID).is_in(users)
    return events.with_columns(
        pl.when(hit).then(pl.col(S.AMOUNT) * factor).otherwise(pl.col(S.AMOUNT)).alias(S.AMOUNT)
    )


def test_value_validation_reads_nothing_of_the_held_out_window(store):
    plan = P.plan_cutoffs(store, horizon_days=60)
    before = P.value_validation(store, plan)
    assert {P.LEARNED, "last_spend", "rfm"} <= set(before["model"])
    # spend planted only in the held-out window (and after): the same plan, the same numbers
    planted = _scaled_after(store, plan.test, store[S.TIMESTAMP].max() + timedelta(days=1), 50.0)
    assert P.plan_cutoffs(planted, horizon_days=60) == plan
    assert P.value_validation(planted, plan).equals(before)
    # the same planting in the validation window does move them (the check can fail)
    moved = _scaled_after(store, plan.train[-1], plan.test, 50.0)
    assert not P.value_validation(moved, plan).equals(before)


def test_the_value_task_chooses_on_the_numbers_value_validation_prints(store, value):
    again = P.value_validation(store, value.plan)
    assert again.equals(value.validation)


def test_the_learned_value_is_the_mean_of_its_two_estimates_each_averaged_over_settings(store):
    import numpy as np

    from profiling.predict.features import EventHistory
    from profiling.predict.labels import Examples
    from profiling.predict.spend import SPEND_SETTINGS, TwoPartValue, _examples

    plan = P.plan_cutoffs(store, horizon_days=60)
    history = EventHistory(store)
    parts = [_examples(store, c, 60, True, history) for c in plan.train]
    train = Examples(pl.concat([p.frame for p in parts]), parts[0].features)
    model = TwoPartValue(0).fit(train)
    assert len(SPEND_SETTINGS) == 2 and len(model.spend_) == len(model.direct_) == 2
    for fitted in (model.spend_, model.direct_):
        for reg, setting in zip(fitted, SPEND_SETTINGS, strict=True):
            assert {k: reg.get_params()[k] for k in setting} == setting
    assert [r.loss for r in model.spend_] == ["gamma"] * 2
    assert [r.loss for r in model.direct_] == ["poisson"] * 2
    val = parts[-1]
    X = val.X()[:, model.buy_.keep_]
    given = (model.spend_[0].predict(X) + model.spend_[1].predict(X)) / 2
    direct = (model.direct_[0].predict(X) + model.direct_[1].predict(X)) / 2
    by_hand = (model.buy_.predict(val) * given + direct) / 2
    got = model.predict(val)
    np.testing.assert_allclose(got, by_hand, rtol=1e-12)
    # the two settings' fits differ (an average of two copies would be one setting)
    assert not np.allclose(model.direct_[0].predict(X), model.direct_[1].predict(X))
    # and the whole fit is reproducible to the last bit
    assert np.array_equal(TwoPartValue(0).fit(train).predict(val), got)
