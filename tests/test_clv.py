"""BG/NBD and Gamma-Gamma: closed forms by hand and the published CDNOW fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from profiling.data.dataset import load_dataset
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


def test_bgnbd_refuses_a_summary_without_repeat_purchases():
    summary = pl.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [3.0, 4.0]})
    with pytest.raises(clv.ModelFitError, match="one repeat purchase"):
        clv.fit_bgnbd(summary)


def test_a_summary_without_the_btyd_columns_is_refused_naming_them():
    with pytest.raises(clv.ModelFitError, match="no column 'recency', 'T'"):
        clv.fit_bgnbd(pl.DataFrame({"frequency": [1, 2]}))


def test_gamma_gamma_needs_two_repeat_customers_with_positive_spend():
    summary = pl.DataFrame({"frequency": [1, 0], "monetary_value": [10.0, 0.0]})
    with pytest.raises(clv.ModelFitError, match="at least 2 customers"):
        clv.fit_gamma_gamma(summary)


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
    assert check["frequency"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert check["customers"].sum() == 2_357 and check["customers"][0] == 1_411
    # the 1,411 customers without a repeat purchase buy on 334 days in the 39-week holdout
    assert check["actual"][0] == pytest.approx(334 / 1_411)
    assert check["predicted"][0] == pytest.approx(check["actual"][0], abs=0.02)
    assert check["predicted"].is_sorted() and check["actual"][-1] > 5
