"""BG/NBD, MBG/NBD and Gamma-Gamma: closed forms by hand, the published CDNOW fits, and fits
that fail saying why."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from profiling.data.dataset import load_dataset
from profiling.errors import ModelFitError, ProfilingError
from profiling.predict import clv
from profiling.predict.btyd import rfm_summary
from profiling.vocabulary import schema as S

CDNOW = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cdnow"
PUBLISHED = clv.BGNBDParams(r=0.242593, alpha=4.413593, a=0.792919, b=2.425943, unit="W")


@pytest.fixture(scope="module")
def cdnow_summary() -> pl.DataFrame:
    sample = CDNOW / "CDNOW_sample.txt"
    if not sample.exists():
        pytest.skip(f"CDNOW sample not available under {CDNOW}")
    ds = load_dataset(
        sample,
        events_map={
            "column_2": S.USER_ID,
            "column_1": S.IGNORE,
            "column_3": S.TIMESTAMP,
            "column_4": S.QUANTITY,
            "column_5": S.AMOUNT,
        },
    )
    return rfm_summary(
        ds.events,
        calibration_start="1997-01-01",
        observation_period_end="1997-09-30",
        unit="W",
        monetary=True,
    )


def test_bgnbd_reproduces_the_published_cdnow_parameters_within_one_percent(cdnow_summary):
    fit = clv.fit_bgnbd(cdnow_summary, unit="W")
    # Fader, Hardie and Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert getattr(fit, name) == pytest.approx(published, rel=0.01), name
    assert fit.n_customers == 2_357
    # the published log-likelihood of the fit is -9582.4
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_reproduces_the_published_cdnow_parameters(cdnow_summary):
    fit = clv.fit_gamma_gamma(cdnow_summary)
    # Fader and Hardie (2013), lifetimes docs: p = 6.25, q = 3.74, v = 15.44 on 946 customers
    assert fit.n_customers == 946
    for name, published in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert getattr(fit, name) == pytest.approx(published, rel=0.01), name


def test_expected_purchases_match_the_papers_worked_example():
    # FHL 2005, section 5: x = 2, t_x = 30.43, T = 38.86 -> 1.226 purchases in the next 39 weeks
    got = clv.expected_purchases(
        PUBLISHED, 39.0, np.array([2.0]), np.array([30.43]), np.array([38.86])
    )
    assert got[0] == pytest.approx(1.226, abs=0.001)


def test_p_alive_is_one_without_repeat_purchases_and_follows_the_formula_otherwise():
    x, t_x, T = np.array([0.0, 2.0]), np.array([0.0, 30.43]), np.array([20.0, 38.86])
    got = clv.p_alive(PUBLISHED, x, t_x, T)
    r, alpha, a, b = PUBLISHED.r, PUBLISHED.alpha, PUBLISHED.a, PUBLISHED.b
    by_hand = 1 / (1 + a / (b + 2 - 1) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2))
    assert got[0] == 1.0
    assert got[1] == pytest.approx(by_hand)


def test_p_purchase_of_a_one_time_buyer_is_one_minus_the_gamma_poisson_zero():
    x, t_x, T = np.array([0.0]), np.array([0.0]), np.array([10.0])
    got = clv.p_purchase(PUBLISHED, 4.0, x, t_x, T)
    r, alpha = PUBLISHED.r, PUBLISHED.alpha
    assert got[0] == pytest.approx(1 - ((alpha + 10) / (alpha + 10 + 4)) ** r)


def test_expected_spend_shrinks_a_customers_mean_toward_the_population_mean():
    params = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    got = clv.expected_average_value(params, np.array([2.0]), np.array([30.0]))
    weight = 6.25 * 2 / (6.25 * 2 + 3.74 - 1)
    assert got[0] == pytest.approx((1 - weight) * 6.25 * 15.44 / 2.74 + weight * 30.0)


def test_clv_table_has_one_row_per_customer_and_value_is_purchases_times_spend(cdnow_summary):
    bg = clv.fit_bgnbd(cdnow_summary, unit="W")
    gg = clv.fit_gamma_gamma(cdnow_summary)
    table = clv.clv_table(cdnow_summary, bg, gg)
    assert table.height == cdnow_summary.height
    row = table.row(0, named=True)
    assert row["expected_value_365d"] == pytest.approx(
        row["expected_purchases_365d"] * row["expected_spend_per_purchase"]
    )
    assert (table["expected_purchases_365d"] >= table["expected_purchases_90d"]).all()


def test_a_summary_without_the_btyd_columns_is_refused_naming_them():
    with pytest.raises(clv.ModelFitError, match="no column 'purchase_span', 'T'"):
        clv.fit_bgnbd(pl.DataFrame({"repeat_purchase_days": [1, 2]}))


def test_the_39_week_holdout_check_follows_the_actual_purchases(cdnow_summary):
    from datetime import date

    from profiling.predict import holdout_comparison

    ds = load_dataset(
        CDNOW / "CDNOW_sample.txt",
        events_map={
            "column_2": S.USER_ID,
            "column_1": S.IGNORE,
            "column_3": S.TIMESTAMP,
            "column_4": S.QUANTITY,
            "column_5": S.AMOUNT,
        },
    )
    bg = clv.fit_bgnbd(cdnow_summary, unit="W")
    check = holdout_comparison(ds.events, date(1997, 9, 30), date(1998, 6, 30), bg)
    assert check["repeat_purchase_days"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert check["customers"].sum() == 2_357 and check["customers"][0] == 1_411
    # the 1,411 customers without a repeat purchase buy on 334 days in the 39-week holdout
    assert check["actual"][0] == pytest.approx(334 / 1_411)
    assert check["predicted"][0] == pytest.approx(check["actual"][0], abs=0.02)
    assert check["predicted"].is_sorted() and check["actual"][-1] > 5


# ---- fits that fail say so ---------------------------------------------------------------------
def one_time_buyers(n: int = 50) -> pl.DataFrame:
    """n customers who each bought once, on days 0..n-1 of a 100-day log."""
    return pl.DataFrame(
        {
            S.USER_ID: [f"c{i}" for i in range(n)],
            "repeat_purchase_days": [0] * n,
            "purchase_span": [0.0] * n,
            "T": [100.0 - i for i in range(n)],
            "monetary_value": [0.0] * n,
        }
    )


def test_model_fit_error_is_a_profiling_error_pages_can_show():
    assert issubclass(ModelFitError, ProfilingError) and issubclass(ModelFitError, ValueError)
    assert clv.ModelFitError is ModelFitError


@pytest.mark.parametrize("fit", [clv.fit_bgnbd, clv.fit_mbgnbd])
def test_a_log_where_every_customer_buys_once_is_refused_saying_nobody_came_back(fit):
    with pytest.raises(
        ModelFitError, match=r"50 customers and 0 with a repeat purchase, so nothing"
    ):
        fit(one_time_buyers())


def test_fit_value_model_turns_the_refusal_into_a_named_fallback():
    got = clv.fit_value_model(one_time_buyers())
    assert isinstance(got, clv.FitFailure)
    assert got.model == "MBG/NBD"
    assert str(got).startswith("could not fit: MBG/NBD could not be fitted: it needs at least")


def test_gamma_gamma_on_three_customers_is_refused_naming_how_many_it_had():
    # before: p = 9.0e6 was returned as a fit
    summary = pl.DataFrame(
        {"repeat_purchase_days": [1, 2, 3], "monetary_value": [10.0, 12.0, 30.0]}
    )
    with pytest.raises(ModelFitError, match=r"at least 10 repeat buyers .*the data have 3\."):
        clv.fit_gamma_gamma(summary)


def test_gamma_gamma_counts_only_repeat_buyers_with_positive_spend():
    # 12 rows, but 2 are one-time buyers and 1 has a zero spend: 9 usable repeat buyers
    summary = pl.DataFrame(
        {
            "repeat_purchase_days": [0, 0, 1] + [2] * 9,
            "monetary_value": [5.0, 5.0, 0.0] + [10.0] * 9,
        }
    )
    with pytest.raises(ModelFitError, match=r"the data have 9\."):
        clv.fit_gamma_gamma(summary)


def test_a_never_finite_likelihood_is_refused_not_returned_as_the_starting_point(monkeypatch):
    # before: the fit returned r = alpha = a = b = 1, the optimizer's starting point
    summary = pl.DataFrame(
        {
            "repeat_purchase_days": [0, 1, 2, 3] * 5,
            "purchase_span": [0.0, 5.0, 8.0, 9.0] * 5,
            "T": [10.0] * 20,
        }
    )
    nan = lambda params, x, t_x, T: np.full(np.shape(x), np.nan)  # noqa: E731 - a stand-in likelihood
    monkeypatch.setattr(clv, "mbgnbd_log_likelihood", nan)
    with pytest.raises(ModelFitError, match="not a finite number anywhere the optimizer looked"):
        clv.fit_mbgnbd(summary)


def test_a_parameter_running_to_the_edge_of_its_sane_range_is_refused():
    # every spend identical: nothing varies between customers, so q (the spread of average
    # spend) runs off to infinity; before, such a fit came back as a number
    summary = pl.DataFrame(
        {"repeat_purchase_days": [1, 2, 3, 4] * 5, "monetary_value": [20.0] * 20}
    )
    with pytest.raises(ModelFitError, match=r"ran to .*the upper edge of the range a sane fit"):
        clv.fit_gamma_gamma(summary)


def test_an_impossible_history_is_refused_naming_how_many_customers_have_it():
    summary = pl.DataFrame(
        {"repeat_purchase_days": [1] * 12, "purchase_span": [5.0] * 11 + [12.0], "T": [10.0] * 12}
    )
    with pytest.raises(ModelFitError, match="1 customers have an impossible history"):
        clv.fit_bgnbd(summary)


# ---- MBG/NBD ------------------------------------------------------------------------------------
# lifetimes' reference for its ModifiedBetaGeoFitter on this very summary (tests/test_estimation.py,
# TestModifiedBetaGammaFitter.test_params_out_is_close_to_BTYDplus, CamDavidsonPilon/lifetimes):
# r = 0.525, alpha = 6.183, a = 0.891, b = 1.614, checked there to 3 decimals (the BTYDplus R fit).
LIFETIMES_MBG = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


@pytest.fixture(scope="module")
def mbg(cdnow_summary) -> clv.MBGNBDParams:
    return clv.fit_mbgnbd(cdnow_summary, unit="W")


def test_mbgnbd_reproduces_lifetimes_cdnow_parameters_to_three_decimals(mbg):
    for name, reference in LIFETIMES_MBG.items():
        assert getattr(mbg, name) == pytest.approx(reference, abs=1.5e-3), name
    assert mbg.n_customers == 2_357


def test_mbgnbd_conditional_expectation_matches_lifetimes_reference(mbg):
    # lifetimes' test_conditional_expectation_returns_same_value_as_Hardie_excel_sheet:
    # x = 2, t_x = 30.43, T = 38.86, t = 39 -> 1.226 within 0.05
    got = clv.expected_purchases(mbg, 39.0, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert got[0] == pytest.approx(1.226, abs=0.05)


def test_mbgnbd_p_alive_follows_the_formula_and_is_below_one_without_repeats():
    params = clv.MBGNBDParams(**LIFETIMES_MBG, unit="W")
    x, t_x, T = np.array([0.0, 2.0]), np.array([0.0, 30.43]), np.array([38.86, 38.86])
    r, alpha, a, b = 0.525, 6.183, 0.891, 1.614
    one_timer = 1 / (1 + a / b * ((alpha + 38.86) / alpha) ** r)
    repeat = 1 / (1 + a / (b + 2) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2))
    got = clv.p_alive(params, x, t_x, T)
    assert got[0] == pytest.approx(one_timer) and got[0] < 0.5
    assert got[1] == pytest.approx(repeat)
    # a one-time buyer who just bought is alive unless they dropped out at that purchase
    assert clv.p_alive(params, [0.0], [0.0], [0.0])[0] == pytest.approx(b / (a + b))


def test_value_fit_uses_mbgnbd_for_p_alive_and_gamma_gamma_for_value(cdnow_summary, mbg):
    fit = clv.fit_value_model(cdnow_summary, unit="W")
    assert isinstance(fit, clv.ValueFit) and isinstance(fit.purchases, clv.MBGNBDParams)
    assert fit.spend is not None and fit.spend.n_customers == 946
    assert fit.describe().startswith("MBG/NBD r = 0.525")
    table = fit.table(cdnow_summary)
    one_timers = table.filter(cdnow_summary["repeat_purchase_days"] == 0)
    assert one_timers.height == 1_411 and one_timers["p_alive"].max() < 1.0
    row = table.row(0, named=True)
    assert row["expected_value_365d"] == pytest.approx(
        row["expected_purchases_365d"] * row["expected_spend_per_purchase"]
    )


def test_a_log_without_amounts_gives_a_value_fit_without_a_spend_model(cdnow_summary):
    fit = clv.fit_value_model(cdnow_summary.drop("monetary_value"), unit="W")
    assert isinstance(fit, clv.ValueFit) and fit.spend is None and fit.spend_failure is None
    assert "expected_value_365d" not in fit.table(cdnow_summary).columns


def test_a_failed_spend_model_is_named_and_value_columns_are_left_out(cdnow_summary):
    # keep the purchase history, but the spend of only the first 5 repeat buyers
    first_five = (pl.col("repeat_purchase_days") > 0).cast(pl.Int32).cum_sum() <= 5
    few_spenders = cdnow_summary.with_columns(
        pl.when(first_five).then(pl.col("monetary_value")).otherwise(0.0).alias("monetary_value")
    )
    n_left = 5
    fit = clv.fit_value_model(few_spenders, unit="W")
    assert isinstance(fit, clv.ValueFit) and fit.spend is None
    assert str(fit.spend_failure) == (
        "could not fit: Gamma-Gamma could not be fitted: it needs at least 10 repeat buyers "
        f"with a positive spend (it reads only repeat purchases); the data have {n_left}."
    )
    assert "expected_value_365d" not in fit.table(few_spenders).columns


# ---- the refunded-everything customer -----------------------------------------------------------
def test_a_customer_who_returned_everything_is_not_still_active_after_325_silent_days(mbg):
    from datetime import UTC, datetime, timedelta

    day0 = datetime(2011, 1, 18, 10, tzinfo=UTC)
    rows = [
        # 12346: 74,215 units bought and cancelled the same day, then silent for 325 days
        ("12346", S.PURCHASE, day0, 77_183.60),
        ("12346", S.REFUND, day0 + timedelta(minutes=5), -77_183.60),
        # a regular buyer on the same first day, net spend positive
        ("r", S.PURCHASE, day0, 10.0),
        ("r", S.PURCHASE, day0 + timedelta(days=30), 10.0),
    ]
    events = pl.DataFrame(
        {
            S.USER_ID: [r[0] for r in rows],
            S.EVENT_TYPE: [r[1] for r in rows],
            S.TIMESTAMP: [r[2] for r in rows],
            S.AMOUNT: [r[3] for r in rows],
        }
    )
    summary = rfm_summary(events, observation_period_end="2011-12-09", monetary=True)
    refunded = summary.filter(pl.col(S.USER_ID) == "12346").row(0, named=True)
    assert (refunded["repeat_purchase_days"], refunded["purchase_span"], refunded["T"]) == (
        0,
        0.0,
        325.0,
    )
    assert refunded["monetary_value"] == 0.0
    # scored in days with the CDNOW MBG/NBD shape (alpha converted from weeks to days)
    days = clv.MBGNBDParams(r=mbg.r, alpha=mbg.alpha * 7, a=mbg.a, b=mbg.b, unit="D")
    alive = clv.p_alive(days, [0.0], [0.0], [325.0])[0]
    by_hand = 1 / (1 + mbg.a / mbg.b * ((mbg.alpha * 7 + 325) / (mbg.alpha * 7)) ** mbg.r)
    assert alive == pytest.approx(by_hand)
    assert alive < 0.4  # 0.37: well below the 100% BG/NBD gives every one-time buyer
    assert clv.p_alive(PUBLISHED, [0.0], [0.0], [325.0])[0] == 1.0


# ---- a degenerate fit fails fast, and every decision stays what it was ----------------------
def _decisions_and_evaluations(events: pl.DataFrame, monkeypatch) -> list[tuple[bool, int]]:
    """(fitted?, likelihood evaluations) of MBG/NBD at each cutoff of the 30-day plan."""
    from profiling import predict as P

    history = P.EventHistory(events)
    plan = P.plan_cutoffs(events, horizon_days=30)
    real, calls = clv.mbgnbd_log_likelihood, [0]

    def counted(*args):
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(clv, "mbgnbd_log_likelihood", counted)
    out = []
    for cutoff in [*plan.train, plan.test, plan.today]:
        calls[0] = 0
        try:
            clv.fit_mbgnbd(history.btyd_summary(cutoff))
            out.append((True, calls[0]))
        except ModelFitError as exc:
            assert "ran to" in str(exc) and "edge of the range a sane fit" in str(exc)
            out.append((False, calls[0]))
    return out


def test_a_degenerate_fit_is_refused_after_a_fraction_of_the_evaluations(monkeypatch):
    from profiling.data.sample import generate_store

    events = generate_store(n_users=1000, n_items=100, n_events=20_000).events
    out = _decisions_and_evaluations(events, monkeypatch)
    # the decisions of the fit that ran every budget (recorded before the early stop): the
    # generated store's buying pattern is degenerate at every cutoff but today
    assert [fitted for fitted, _ in out] == [False] * 7 + [True]
    # before: 499 to 6,652 evaluations per refusal (two ran the 6,000 of the last simplex)
    assert max(n for fitted, n in out if not fitted) < 1_000


def test_the_sample_store_fits_as_before_the_early_stop(monkeypatch):
    from profiling.data.dataset import load_sample

    events = load_sample().events
    out = _decisions_and_evaluations(events, monkeypatch)
    # recorded with the full budgets: refused at the first and third cutoffs, fitted after
    assert [fitted for fitted, _ in out] == [False, True, False, True, True, True, True, True]


# ---- why a fit failed, in the reader's language -------------------------------------------------
def test_too_few_repeat_buyers_is_saved_in_english_and_read_in_chinese_after_pickling():
    from profiling.predict import stage_text
    from profiling.vocabulary.i18n import language

    with language("zh"):  # fitted in a Chinese page's job: the saved reason is still English
        got = clv.fit_value_model(one_time_buyers())
    assert isinstance(got, clv.FitFailure)
    english = (
        "MBG/NBD could not be fitted: it needs at least 10 customers of whom at least 5 bought "
        "again (a repeat purchase); the data have 50 customers and 0 with a repeat purchase, so "
        "nothing tells how often customers come back or when they stop."
    )
    assert got.reason == english
    assert got.note == str(got) == "could not fit: " + english
    chinese = (
        "无法拟合：MBG/NBD 无法拟合：它至少需要 10 位客户，其中至少 5 位再次购买过（复购）；"
        "数据中有 50 位客户，其中 0 位有复购，因此无从得知客户多久回来一次、何时不再回来。"
    )
    with language("zh"):
        assert stage_text(got.note) == chinese
    # a worker process hands the failure back through a queue
    again = pickle.loads(pickle.dumps(got))  # noqa: S301 - bytes made just above
    assert again == got
    with language("zh"):
        assert stage_text(again.note) == chinese


def test_a_flat_likelihood_names_the_parameter_in_the_readers_language(monkeypatch):
    from profiling.predict import error_stage, stage_text
    from profiling.vocabulary.i18n import language

    summary = pl.DataFrame(
        {
            "repeat_purchase_days": [0, 1, 2, 3] * 5,
            "purchase_span": [0.0, 5.0, 8.0, 9.0] * 5,
            "T": [10.0] * 20,
        }
    )
    # the same likelihood for every parameter: its curvature is 0 in every direction, and
    # the first direction (r) is the one named
    flat = lambda params, x, t_x, T: np.zeros(np.shape(x))  # noqa: E731 - a stand-in likelihood
    monkeypatch.setattr(clv, "mbgnbd_log_likelihood", flat)
    with pytest.raises(ModelFitError) as raised:
        clv.fit_mbgnbd(summary)
    assert str(raised.value) == (
        "MBG/NBD could not be fitted: its likelihood is flat along r (the shape of how purchase "
        "rates differ between customers): many values fit this data equally well, so the data do "
        "not pin r down."
    )
    with language("zh"):
        assert stage_text(error_stage(raised.value)) == (
            "MBG/NBD 无法拟合：它的似然沿 r（客户之间购买率差异的形状参数）是平的："
            "许多取值对这些数据拟合得一样好，因此数据无法确定 r。"
        )


def test_a_parameter_at_the_edge_and_a_failed_spend_model_read_in_chinese():
    from profiling.predict import stage_text
    from profiling.vocabulary.i18n import language

    # every spend identical: q runs to the upper edge (1e4, within 1% on the log scale)
    summary = pl.DataFrame(
        {
            "repeat_purchase_days": [1, 2, 3, 4] * 5,
            "purchase_span": [5.0, 6.0, 7.0, 8.0] * 5,
            "T": [10.0] * 20,
            "monetary_value": [20.0] * 20,
        }
    )
    with pytest.raises(ModelFitError) as raised:
        clv.fit_gamma_gamma(summary)
    ran = raised.value.args[0].values["value"]
    assert 9_900 <= float(ran.replace(",", "")) <= 10_000
    reason = (
        f"Gamma-Gamma could not be fitted: q (the shape of how average spend differs between "
        f"customers) ran to {ran}, the upper edge of the range a sane fit stays in (0.0001 to "
        "10,000). The likelihood keeps improving as q runs off to infinity: the model is "
        "degenerate on this data, and numbers such as q = 10,000 would mean nothing."
    )
    assert str(raised.value) == reason
    failure = clv.FitFailure("Gamma-Gamma", raised.value.args[0])
    with language("zh"):
        assert stage_text(failure.note) == (
            f"无法拟合：Gamma-Gamma 无法拟合：q（客户之间平均消费差异的形状参数）跑到了 {ran}，"
            "即合理拟合所处范围（0.0001 至 10,000）的上边界。随着 q 趋于无穷大，似然不断提高："
            "该模型在这些数据上是退化的，q = 10,000 这样的数字没有意义。"
        )
    # the purchase model fitted, the spend model not: the line says why
    purchases = clv.MBGNBDParams(r=0.5, alpha=6.0, a=0.9, b=1.6)
    fit = clv.ValueFit(purchases, None, failure)
    assert fit.describe() == (
        "MBG/NBD r = 0.500, α = 6.000, a = 0.900, b = 1.600 (days); Gamma-Gamma could not fit: "
        + reason
    )
    with language("zh"):
        assert stage_text(fit.describe()) == (
            "MBG/NBD r = 0.500, α = 6.000, a = 0.900, b = 1.600 (天)；Gamma-Gamma 无法拟合："
            f"Gamma-Gamma 无法拟合：q（客户之间平均消费差异的形状参数）跑到了 {ran}，"
            "即合理拟合所处范围（0.0001 至 10,000）的上边界。随着 q 趋于无穷大，似然不断提高："
            "该模型在这些数据上是退化的，q = 10,000 这样的数字没有意义。"
        )


def test_an_optimizer_that_does_not_report_success_is_refused_in_scipys_own_words(
    monkeypatch, cdnow_summary
):
    from scipy import optimize

    from profiling.predict import error_stage, stage_text
    from profiling.vocabulary.i18n import language

    real = optimize.minimize

    def gives_up(*args, **kwargs):
        res = real(*args, **kwargs)
        res.success, res.message = False, "Maximum number of iterations has been exceeded."
        return res

    monkeypatch.setattr(optimize, "minimize", gives_up)
    with pytest.raises(ModelFitError) as raised:
        clv.fit_bgnbd(cdnow_summary, unit="W")
    assert str(raised.value) == (
        "BG/NBD could not be fitted: the optimizer stopped without converging (Maximum number "
        "of iterations has been exceeded.). Its parameters would be wherever it happened to stop."
    )
    with language("zh"):
        assert stage_text(error_stage(raised.value)) == (
            "BG/NBD 无法拟合：优化器未收敛就停止了（Maximum number of iterations has been "
            "exceeded.）。它的参数只会停在碰巧停下的地方。"
        )
