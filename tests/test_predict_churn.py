"""Churn as lapse: a window longer than the purchase horizon, set from the gaps between
repeat purchases, so churn risk is not propensity turned upside down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from profiling import predict as P
from profiling.predict.protocol import lapse_window
from profiling.vocabulary import schema as S
from tests.test_predict import make_events, simulated_store

DAY0 = datetime(2024, 1, 1, 10, tzinfo=UTC)


def gaps_log() -> pl.DataFrame:
    """Purchase days a: 0, 10, 30; b: 0, 50; c: 0, 5; d: 0, 100; e views on day 199.
    Repeat gaps: 10, 20, 50, 5, 100."""
    days = {"a": (0, 10, 30), "b": (0, 50), "c": (0, 5), "d": (0, 100)}
    rows = [(u, S.PURCHASE, DAY0 + timedelta(days=d), 10.0) for u, ds in days.items() for d in ds]
    rows.append(("e", S.VIEW, DAY0 + timedelta(days=199), None))
    return make_events(rows)


def test_the_lapse_window_is_the_80th_percentile_of_repeat_purchase_gaps():
    lapse = lapse_window(gaps_log(), 20)
    # gaps sorted 5, 10, 20, 50, 100: the 0.8 quantile sits at 3.2 of 4 steps: 50 + 0.2 * 50
    assert lapse.gap_days == pytest.approx(60.0)
    assert (lapse.days, lapse.reason, lapse.n_gaps) == (60, "data", 5)
    assert lapse.describe() == (
        "no purchase in the next 60 days: longer than 80% of the gaps between this store's "
        "repeat purchases"
    )


def test_the_lapse_window_is_at_least_twice_the_horizon_and_fits_the_log():
    floor = lapse_window(gaps_log(), 31)  # 60 < 2 x 31, and 62 fits 200 days three times
    assert (floor.days, floor.reason) == (62, "floor")
    assert "at least twice the 31-day purchase horizon" in floor.describe()
    short = lapse_window(gaps_log().filter(pl.col(S.USER_ID) != "e"), 20)  # 101 days of log
    assert (short.days, short.reason) == (101 // 3, "log length")


def test_a_chosen_lapse_window_must_be_longer_than_the_horizon():
    assert lapse_window(gaps_log(), 20, lapse_days=90).days == 90
    with pytest.raises(P.PredictionError, match=r"longer than the purchase horizon \(20 days\)"):
        lapse_window(gaps_log(), 20, lapse_days=20)


def test_a_malformed_lapse_window_is_refused_in_the_readers_language():
    from profiling.vocabulary.i18n import language

    with pytest.raises(P.PredictionError) as raised:
        lapse_window(gaps_log(), 20, lapse_days=14.5)
    assert str(raised.value) == (
        "the lapse window must be a whole number of days longer than the purchase horizon "
        "(20 days). Got lapse=14.5."
    )
    with language("zh"):
        assert P.stage_text(P.error_stage(raised.value)) == (
            "流失窗口必须是比购买预测期（20 天）更长的整数天，实际为 lapse=14.5。"
        )


@pytest.fixture(scope="module")
def everyone_bought() -> P.Predictions:
    """The simulated store where every user's first event is a purchase (as in CDNOW or any
    transaction export)."""
    events = simulated_store(n_users=300, days=240, seed=11)
    first = events.group_by(S.USER_ID).agg(pl.col(S.TIMESTAMP).min())
    opening = make_events(
        [(u, S.PURCHASE, t - timedelta(hours=1), 20.0) for u, t in first.iter_rows()]
    )
    log = pl.concat([events, opening])
    return P.predict(log, horizon_days=20, n_boot=20, max_train_cutoffs=3, value_days=None)


def test_churn_and_propensity_rank_customers_differently_where_everyone_has_bought(
    everyone_bought,
):
    r = everyone_bought
    assert r.lapse.days > r.plan.horizon_days
    assert r.churn.class_balance["test_users"] > 0
    both = r.scores.drop_nulls("churn_risk")
    lapse_rank = both["churn_risk"].rank().to_numpy()
    mirror_rank = (1 - both["purchase_propensity"]).rank().to_numpy()
    # the old churn was 1 - propensity fitted on the same label: rank correlation 1
    rho = np.corrcoef(lapse_rank, mirror_rank)[0, 1]
    assert rho < 0.98

    # and on the held-out windows: not the same table
    def auc(t):
        rows = t.metrics.filter(pl.col("metric") == "roc_auc").select("model", "value").rows()
        return dict(rows)

    assert auc(r.churn)["recency"] != pytest.approx(auc(r.purchase)["recency"], abs=1e-3)
    assert "p_alive" in r.churn.models and "p_alive" not in r.purchase.models


def test_each_score_reads_what_it_predicts_how_good_it_is_against_recency_and_what_to_do(
    everyone_bought,
):
    r = everyone_bought
    what, quality, use = P.plain_reading(r, "churn")
    assert what == f"Chance that a past buyer makes {r.lapse.describe()}."
    auc = dict(
        r.churn.metrics.filter(pl.col("metric") == "roc_auc").select("model", "value").rows()
    )
    chosen, recency = auc[r.churn.chosen], auc["recency"]
    if r.churn.chosen != "recency":
        word = "better" if chosen > recency else "worse"
        assert quality.startswith(
            f"Ranks lapsing customers {word} than 'days since last purchase alone': "
            f"{chosen:.2f} against {recency:.2f} (ROC-AUC on the last {r.lapse.days} days"
        )
    assert use.startswith("Use: a win-back message")
    assert P.plain_reading(r, "value") == []  # value_days=None: not scored, nothing to read


def test_a_baseline_whose_model_could_not_be_fitted_is_left_out_not_shown_at_one_half():
    frame = pl.DataFrame(
        {
            S.USER_ID: ["a", "b"],
            "bgnbd_p": pl.Series([None, None], dtype=pl.Float64),
            "bgnbd_alive": [0.3, None],
            "label": [1, 0],
        }
    )
    from profiling.predict.comparison import unfitted_baselines
    from profiling.predict.labels import Examples

    got = unfitted_baselines(Examples(frame, ()))
    assert list(got) == ["bgnbd"]  # P(alive) scores one of the two users: it stays
    assert got["bgnbd"].startswith("the buying-pattern model (MBG/NBD) could not be fitted")
    models = P.make_models("churn", skip=tuple(got))
    assert "bgnbd" not in models and "p_alive" in models
