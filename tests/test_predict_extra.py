"""The learned models' derived inputs (profiling.predict.extra_features) worked out by hand on
a three-customer log, none of them moved by events on or after the cutoff; the tie-keeping
calibration; training cutoffs a step apart shorter than the window."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from profiling import predict as P
from profiling.predict.extra_features import EXTRA_FEATURES, add_extra_features
from profiling.predict.models import TIE_BREAK, keep_order
from profiling.predict.protocol import before_validation
from profiling.vocabulary import schema as S
from tests.test_predict import at, make_events

CUTOFF = datetime(2024, 2, 10, tzinfo=UTC)


@pytest.fixture
def three() -> pl.DataFrame:
    """a buys Jan 1, Jan 11 and Jan 31 (gaps 10 and 20 days); b views Jan 5 and buys Jan 20;
    c only views, Feb 1. Every event at noon; the cutoff is Feb 10, midnight."""
    return make_events(
        [
            ("a", S.PURCHASE, at("2024-01-01"), 10.0),
            ("a", S.PURCHASE, at("2024-01-11"), 10.0),
            ("a", S.PURCHASE, at("2024-01-31"), 10.0),
            ("b", S.VIEW, at("2024-01-05"), None),
            ("b", S.PURCHASE, at("2024-01-20"), 5.0),
            ("c", S.VIEW, at("2024-02-01"), None),
        ]
    )


def test_each_derived_input_worked_out_by_hand(three):
    f = add_extra_features(P.cutoff_features(three, CUTOFF))
    rows = {r[S.USER_ID]: r for r in f.iter_rows(named=True)}
    a, b, c = rows["a"], rows["b"], rows["c"]
    # a: last purchase Jan 31 noon -> 9.5 days; first event Jan 1 noon -> 39.5 days;
    # average gap (Jan 31 - Jan 1) / 2 = 15 days; spread of (10, 20) = sqrt(50) = 7.0711
    assert a["gap_ratio"] == pytest.approx(9.5 / 15)
    assert a["gap_z"] == pytest.approx((9.5 - 15) / 50**0.5)
    assert a["gap_z"] == pytest.approx(-0.777817, abs=1e-6)
    assert a["purchase_rate"] == pytest.approx(3 / 39.5)
    assert a["recency_share"] == pytest.approx(9.5 / 39.5)
    # b: one purchase day (no gap): 20.5 days since it, 35.5 days since the first visit
    assert b["gap_ratio"] is None and b["gap_z"] is None
    assert b["purchase_rate"] == pytest.approx(1 / 35.5)
    assert b["recency_share"] == pytest.approx(20.5 / 35.5)
    # c never bought: no recency, a purchase rate of 0 over 9.5 days
    assert c["gap_ratio"] is None and c["gap_z"] is None and c["recency_share"] is None
    assert c["purchase_rate"] == 0.0


def test_the_derived_inputs_are_inputs_of_the_learned_models(three):
    frame, names = P.cutoff_frame(three, CUTOFF, 30)
    assert set(EXTRA_FEATURES) <= set(names)
    assert set(EXTRA_FEATURES) <= set(frame.columns)


def test_events_on_or_after_the_cutoff_change_no_input(three):
    later = make_events(
        [
            ("a", S.PURCHASE, datetime(2024, 2, 10, 0, 0, tzinfo=UTC), 50.0),  # at the cutoff
            ("a", S.PURCHASE, at("2024-03-01"), 20.0),
            ("b", S.REFUND, at("2024-02-11"), -5.0),
            ("c", S.PURCHASE, at("2024-02-15"), 8.0),
            ("d", S.PURCHASE, at("2024-02-20"), 9.0),  # a customer who starts after it
        ]
    )
    before, names = P.cutoff_frame(three, CUTOFF, 30, with_labels=False)
    after, names_after = P.cutoff_frame(pl.concat([three, later]), CUTOFF, 30, with_labels=False)
    assert names == names_after
    assert after[S.USER_ID].to_list() == ["a", "b", "c"]
    cols = [*names, "rfm_score"]
    assert before.select(cols).equals(after.select(cols))


def test_a_frame_without_the_source_columns_is_refused_with_their_names():
    with pytest.raises(KeyError, match="lacks recency_days, purchase_days"):
        add_extra_features(pl.DataFrame({"mean_gap_days": [1.0]}))


def test_calibration_steps_keep_the_raw_models_order():
    raw = np.array([0.10, 0.20, 0.30, 0.90])
    calibrated = np.array([0.25, 0.25, 0.25, 1.00])  # isotonic: one step for the first three
    out = keep_order(calibrated, raw)
    assert list(np.argsort(out)) == [0, 1, 2, 3]  # raw order kept inside the step
    assert np.all(np.abs(out - calibrated) <= 2 * TIE_BREAK)
    assert out.min() > 0.0 and out.max() < 1.0


def test_training_cutoffs_can_step_less_than_the_window(tiny_long):
    # today Jul 1, held-out cutoff Jul 1 - 60 days = May 2; the latest training cutoff is
    # May 2 - 60 = Mar 3 (its labels end on the held-out cutoff); the next, 30 days earlier,
    # is Feb 2, with 32 days of history: too few for the default (60), enough for 30
    plan = P.plan_cutoffs(tiny_long, horizon_days=60, step_days=30)
    assert plan.test == datetime(2024, 5, 2, tzinfo=UTC)
    assert plan.train == (datetime(2024, 3, 3, tzinfo=UTC),)
    more = P.plan_cutoffs(tiny_long, horizon_days=60, step_days=30, min_history_days=30)
    assert more.train == (datetime(2024, 2, 2, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC))
    assert P.plan_cutoffs(tiny_long, horizon_days=60, min_history_days=30).train == (
        datetime(2024, 3, 3, tzinfo=UTC),
    )  # stepping 60 days, Jan 3 keeps 2 days of history


def test_a_step_of_zero_days_is_refused(tiny_long):
    with pytest.raises(P.PredictionError, match="step_days=0"):
        P.plan_cutoffs(tiny_long, horizon_days=60, step_days=0)


@pytest.fixture
def tiny_long() -> pl.DataFrame:
    """Purchases on Jan 1 and Jun 30 2024 (today = Jul 1 midnight)."""
    return make_events(
        [("a", S.PURCHASE, at("2024-01-01"), 1.0), ("b", S.PURCHASE, at("2024-06-30"), 1.0)]
    )


def test_the_part_fitted_before_validation_ends_where_validation_starts():
    day = lambda m, d: datetime(2024, m, d, tzinfo=UTC)  # noqa: E731 - a one-line date helper
    train = (day(1, 1), day(1, 31), day(3, 1), day(3, 31))
    plan = P.CutoffPlan(60, day(1, 1), day(8, 1), day(5, 30), train)
    # validation cutoff Mar 31: Jan 1 + 60 = Mar 1 and Jan 31 + 60 = Mar 31 end on or
    # before it; Mar 1 + 60 = Apr 30 reads past it and is left out
    assert before_validation(plan, ["p0", "p1", "p2", "val"]) == ["p0", "p1"]
    # when every earlier window overlaps validation, all of them (labels still end before
    # the held-out window)
    overlapping = P.CutoffPlan(60, day(1, 1), day(8, 1), day(5, 30), train[2:])
    assert before_validation(overlapping, ["p2", "val"]) == ["p2"]


def test_every_derived_input_has_a_label_for_drivers_and_importance():
    from profiling.vocabulary.glossary import PREDICT_FEATURE_LABELS

    assert all(PREDICT_FEATURE_LABELS.get(f) for f in EXTRA_FEATURES)
