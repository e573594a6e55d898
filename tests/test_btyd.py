"""The BTYD summary counts repeat purchase days, the purchase span and T as lifetimes does, and
reproduces the published CDNOW sample summary exactly."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from profiling.data.dataset import load_dataset
from profiling.errors import DataValidationError
from profiling.predict.btyd import rfm_summary
from profiling.vocabulary import schema as S

CDNOW = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cdnow"
END = "2024-01-31"


def at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def make_events(rows: list[tuple[str, str, datetime, float | None]]) -> pl.DataFrame:
    """A cleaned events frame (every canonical column) from (user, type, time, amount)."""
    frame = pl.DataFrame(
        {
            S.USER_ID: [r[0] for r in rows],
            S.EVENT_TYPE: [r[1] for r in rows],
            S.TIMESTAMP: [r[2] for r in rows],
            S.AMOUNT: [r[3] for r in rows],
        },
        schema={
            S.USER_ID: pl.String,
            S.EVENT_TYPE: pl.String,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
            S.AMOUNT: pl.Float64,
        },
    )
    others = [pl.lit(None).alias(c) for c in S.EVENT_COLUMNS if c not in frame.columns]
    return frame.with_columns(others).select(S.EVENT_COLUMNS)


@pytest.fixture
def events() -> pl.DataFrame:
    """Hand-built log; the observation window used in the tests ends on 2024-01-31."""
    return make_events(
        [
            # a: two purchases on Jan 1, then Jan 10 and Jan 15; a refund on Jan 20; a
            # purchase on Feb 10 after the window.
            ("a", S.PURCHASE, at("2024-01-01", 9), 10.0),
            ("a", S.PURCHASE, at("2024-01-01", 18), 5.0),
            ("a", S.VIEW, at("2024-01-03"), None),
            ("a", S.PURCHASE, at("2024-01-10"), 20.0),
            ("a", S.PURCHASE, at("2024-01-15"), 30.0),
            ("a", S.REFUND, at("2024-01-20"), -30.0),
            ("a", S.PURCHASE, at("2024-02-10"), 99.0),
            # b: one purchase on Jan 5 among views.
            ("b", S.VIEW, at("2024-01-04"), None),
            ("b", S.PURCHASE, at("2024-01-05"), 8.0),
            ("b", S.VIEW, at("2024-01-25"), None),
            # c: browses only.
            ("c", S.VIEW, at("2024-01-02"), None),
            ("c", S.CART, at("2024-01-02"), None),
            # d: a refund only.
            ("d", S.REFUND, at("2024-01-07"), -12.0),
            # e: buys only after the window.
            ("e", S.PURCHASE, at("2024-02-03"), 40.0),
            # f: Dec 20 (before a Jan 1 calibration start) and late on Jan 12.
            ("f", S.PURCHASE, at("2023-12-20"), 7.0),
            ("f", S.PURCHASE, at("2024-01-12", 23, 30), 9.0),
            # g: one purchase a second before the window's end.
            ("g", S.PURCHASE, datetime(2024, 1, 31, 23, 59, 59, tzinfo=UTC), 3.0),
        ]
    )


def row(summary: pl.DataFrame, user: str) -> dict:
    return summary.filter(pl.col(S.USER_ID) == user).row(0, named=True)


# --- what counts as a purchase --------------------------------------------------------------


def test_users_without_a_purchase_in_the_window_are_absent_and_rows_are_sorted(events):
    summary = rfm_summary(events, observation_period_end=END)
    # c only browsed, d only refunded, e only bought after the window
    assert summary[S.USER_ID].to_list() == ["a", "b", "f", "g"]


def test_refunds_are_not_purchase_days(events):
    a = row(rfm_summary(events, observation_period_end=END), "a")
    # purchase days Jan 1, 10, 15; the Jan 20 refund adds no day and does not move the span
    assert a["repeat_purchase_days"] == 3 - 1
    assert a["purchase_span"] == 15 - 1


def refunded_log() -> pl.DataFrame:
    """h buys on Jan 2 and Jan 9 and returns everything on Jan 12 (net 0); k returns more than
    it bought (net -5); m returns half (net +10); n's full refund comes after the window."""
    return make_events(
        [
            ("h", S.PURCHASE, at("2024-01-02"), 40.0),
            ("h", S.PURCHASE, at("2024-01-09"), 60.0),
            ("h", S.REFUND, at("2024-01-12"), -100.0),
            ("k", S.PURCHASE, at("2024-01-03"), 20.0),
            ("k", S.PURCHASE, at("2024-01-05"), 5.0),
            ("k", S.REFUND, at("2024-01-06"), 30.0),  # a source that kept refunds positive
            ("m", S.PURCHASE, at("2024-01-04"), 20.0),
            ("m", S.PURCHASE, at("2024-01-14"), 20.0),
            ("m", S.REFUND, at("2024-01-15"), -20.0),
            ("n", S.PURCHASE, at("2024-01-10"), 30.0),
            ("n", S.PURCHASE, at("2024-01-20"), 30.0),
            ("n", S.REFUND, at("2024-02-05"), -60.0),
        ]
    )


def test_a_customer_whose_refunds_cancel_their_purchases_has_no_net_purchase():
    summary = rfm_summary(refunded_log(), observation_period_end=END, monetary=True)
    h, k = row(summary, "h"), row(summary, "k")
    # no net purchase: no repeat, no span, no spend; T still runs from the first purchase
    assert (h["repeat_purchase_days"], h["purchase_span"], h["T"], h["monetary_value"]) == (
        0,
        0.0,
        29.0,
        0.0,
    )
    assert (k["repeat_purchase_days"], k["purchase_span"], k["T"], k["monetary_value"]) == (
        0,
        0.0,
        28.0,
        0.0,
    )


def test_a_partial_refund_or_one_after_the_window_keeps_the_purchase_days():
    summary = rfm_summary(refunded_log(), observation_period_end=END, monetary=True)
    m, n = row(summary, "m"), row(summary, "n")
    assert (m["repeat_purchase_days"], m["purchase_span"], m["monetary_value"]) == (
        1,
        14.0 - 4,
        20.0,
    )
    assert (n["repeat_purchase_days"], n["purchase_span"], n["monetary_value"]) == (
        1,
        20.0 - 10,
        30.0,
    )


def test_without_the_net_purchase_rule_the_summary_is_lifetimes_one():
    summary = rfm_summary(
        refunded_log(), observation_period_end=END, monetary=True, net_of_refunds=False
    )
    h = row(summary, "h")
    assert (h["repeat_purchase_days"], h["purchase_span"], h["monetary_value"]) == (
        1,
        9.0 - 2,
        60.0,
    )


def test_without_an_amount_column_no_refund_can_be_weighed_and_days_are_kept():
    summary = rfm_summary(refunded_log().drop(S.AMOUNT), observation_period_end=END)
    assert row(summary, "h")["repeat_purchase_days"] == 1


def test_several_purchases_on_one_day_count_as_one_purchase_day(events):
    a = row(rfm_summary(events, observation_period_end=END), "a")
    assert a["repeat_purchase_days"] == len({"2024-01-01", "2024-01-10", "2024-01-15"}) - 1


def test_a_purchase_after_observation_period_end_is_excluded(events):
    a = row(rfm_summary(events, observation_period_end=END), "a")
    assert a["purchase_span"] == 15 - 1  # not Feb 10
    assert a["T"] == 31 - 1


def test_the_whole_last_day_of_the_window_is_included(events):
    g = row(rfm_summary(events, observation_period_end=END), "g")
    assert (g["repeat_purchase_days"], g["purchase_span"], g["T"]) == (0, 0.0, 0.0)


def test_a_single_purchase_day_gives_zero_repeat_purchase_days_and_span(events):
    b = row(rfm_summary(events, observation_period_end=END), "b")
    assert (b["repeat_purchase_days"], b["purchase_span"], b["T"]) == (0, 0.0, 31 - 5)


def test_calibration_start_drops_earlier_purchases(events):
    without = row(rfm_summary(events, observation_period_end=END), "f")
    assert without["repeat_purchase_days"] == 1
    assert without["purchase_span"] == (31 - 20) + 12  # Dec 20 -> Jan 12
    assert without["T"] == (31 - 20) + 31  # Dec 20 -> Jan 31

    within = row(
        rfm_summary(events, observation_period_end=END, calibration_start="2024-01-01"), "f"
    )
    assert (within["repeat_purchase_days"], within["purchase_span"], within["T"]) == (
        0,
        0.0,
        31 - 12,
    )


# --- units and rounding ---------------------------------------------------------------------


def test_unit_d_counts_days_and_unit_w_counts_weeks_of_seven_days(events):
    days = row(rfm_summary(events, observation_period_end=END, unit="D"), "f")
    weeks = row(rfm_summary(events, observation_period_end=END, unit="W"), "f")
    assert days["purchase_span"] == 23 and days["T"] == 42
    assert weeks["purchase_span"] == round(((31 - 20) + 12) / 7, 2) == 3.29
    assert weeks["T"] == round(((31 - 20) + 31) / 7, 2) == 6.0
    assert weeks["repeat_purchase_days"] == days["repeat_purchase_days"] == 1


def test_unit_m_counts_a_month_as_thirty_days(events):
    f = row(rfm_summary(events, observation_period_end=END, unit="M"), "f")
    assert f["purchase_span"] == round(23 / 30, 2)
    assert f["T"] == round(42 / 30, 2)


def test_round_to_sets_the_decimals_and_none_keeps_full_precision(events):
    kwargs = {"observation_period_end": END, "unit": "W"}
    assert row(rfm_summary(events, **kwargs, round_to=None), "f")["purchase_span"] == 23 / 7
    assert row(rfm_summary(events, **kwargs, round_to=0), "f")["purchase_span"] == 3.0
    assert row(rfm_summary(events, **kwargs, round_to=4), "f")["purchase_span"] == round(23 / 7, 4)


# --- monetary value -------------------------------------------------------------------------


def test_monetary_value_is_the_mean_day_total_of_the_repeat_purchase_days(events):
    summary = rfm_summary(events, observation_period_end=END, monetary=True)
    # a: the first day (10 + 5) is excluded; Feb 10 is outside the window; refunds ignored
    assert row(summary, "a")["monetary_value"] == (20.0 + 30.0) / 2
    assert row(summary, "f")["monetary_value"] == 9.0
    # no repeat purchase day -> monetary value 0, as in lifetimes
    assert row(summary, "b")["monetary_value"] == 0.0


def test_purchases_on_one_repeat_day_are_summed_into_one_day_total():
    events = make_events(
        [
            ("a", S.PURCHASE, at("2024-01-01"), 1.0),
            ("a", S.PURCHASE, at("2024-01-05", 8), 4.0),
            ("a", S.PURCHASE, at("2024-01-05", 20), 6.0),
            ("a", S.PURCHASE, at("2024-01-09"), 2.0),
        ]
    )
    a = row(rfm_summary(events, observation_period_end=END, monetary=True), "a")
    assert a["repeat_purchase_days"] == 2
    assert a["monetary_value"] == ((4.0 + 6.0) + 2.0) / 2


def test_output_columns_and_types_follow_the_monetary_flag(events):
    plain = rfm_summary(events, observation_period_end=END)
    assert plain.schema == pl.Schema(
        {
            S.USER_ID: pl.String,
            "repeat_purchase_days": pl.Int64,
            "purchase_span": pl.Float64,
            "T": pl.Float64,
        }
    )
    with_money = rfm_summary(events, observation_period_end=END, monetary=True)
    assert with_money.columns == [
        S.USER_ID,
        "repeat_purchase_days",
        "purchase_span",
        "T",
        "monetary_value",
    ]
    assert with_money.schema["monetary_value"] == pl.Float64


def test_the_amount_column_is_not_needed_without_monetary(events):
    summary = rfm_summary(events.drop(S.AMOUNT), observation_period_end=END)
    assert summary.height == 4


# --- the observation period end -------------------------------------------------------------


def test_observation_period_end_accepts_a_date_a_datetime_or_an_iso_string(events):
    expected = rfm_summary(events, observation_period_end=END)
    eastern = timezone(timedelta(hours=-5))
    for end in (
        date(2024, 1, 31),
        datetime(2024, 1, 31),
        datetime(2024, 1, 31, 18, 0, tzinfo=eastern),  # 23:00 UTC, still Jan 31
        "2024-01-31T10:00:00Z",
    ):
        assert rfm_summary(events, observation_period_end=end).equals(expected), end


# --- errors ---------------------------------------------------------------------------------


def test_an_unknown_unit_is_refused_naming_the_allowed_units(events):
    with pytest.raises(ValueError, match=re.escape("'D', 'W', 'M'. Got unit='fortnight' instead.")):
        rfm_summary(events, observation_period_end=END, unit="fortnight")


@pytest.mark.parametrize("round_to", [-1, 1.5, True])
def test_round_to_must_be_a_non_negative_integer_or_none(events, round_to):
    with pytest.raises(DataValidationError, match=re.escape(f"Got round_to={round_to!r} instead.")):
        rfm_summary(events, observation_period_end=END, round_to=round_to)


@pytest.mark.parametrize("end", ["31/01/2024", 20240131, None])
def test_an_unreadable_observation_period_end_is_refused(events, end):
    with pytest.raises(
        DataValidationError,
        match=re.escape(
            f"ISO 8601 string such as '1997-09-30'. Got observation_period_end={end!r}"
        ),
    ):
        rfm_summary(events, observation_period_end=end)


def test_an_unreadable_calibration_start_is_refused(events):
    with pytest.raises(DataValidationError, match="Got calibration_start='yesterday' instead"):
        rfm_summary(events, observation_period_end=END, calibration_start="yesterday")


def test_calibration_start_after_observation_period_end_is_refused(events):
    with pytest.raises(
        DataValidationError,
        match=r"calibration_start must not be after observation_period_end\. "
        r"Got calibration_start='2024-02-01' and observation_period_end='2024-01-31'",
    ):
        rfm_summary(events, observation_period_end=END, calibration_start="2024-02-01")


def test_observation_period_end_before_the_first_purchase_is_refused_naming_both_days(events):
    with pytest.raises(
        DataValidationError,
        match=r"observation_period_end must not be before the first purchase \(2023-12-20\), "
        r"or T would be negative\. Got observation_period_end='2023-12-01'",
    ):
        rfm_summary(events, observation_period_end="2023-12-01")


def test_the_first_purchase_is_counted_from_calibration_start(events):
    with pytest.raises(
        DataValidationError,
        match=r"before the first purchase on or after calibration_start='2024-02-05' "
        r"\(2024-02-10\).*Got observation_period_end='2024-02-07'",
    ):
        rfm_summary(events, observation_period_end="2024-02-07", calibration_start="2024-02-05")


def test_a_log_without_purchases_is_refused(events):
    browsing = events.filter(pl.col(S.EVENT_TYPE) != S.PURCHASE)
    with pytest.raises(
        DataValidationError, match="at least one purchase .*the events frame has none"
    ):
        rfm_summary(browsing, observation_period_end=END)


def test_no_purchase_on_or_after_calibration_start_is_refused(events):
    with pytest.raises(
        DataValidationError,
        match=r"at least one purchase \(event_type == 'purchase'\) "
        r"on or after calibration_start='2024-03-01'",
    ):
        rfm_summary(events, observation_period_end="2024-03-31", calibration_start="2024-03-01")


def test_a_missing_column_is_refused_naming_it(events):
    with pytest.raises(DataValidationError, match="column 'event_type': the events frame has no"):
        rfm_summary(events.drop(S.EVENT_TYPE), observation_period_end=END)


def test_monetary_needs_the_amount_column(events):
    with pytest.raises(DataValidationError, match=r"column 'amount'.*\(monetary=True\)"):
        rfm_summary(events.drop(S.AMOUNT), observation_period_end=END, monetary=True)


def test_monetary_needs_an_amount_on_every_purchase_in_the_window():
    events = make_events(
        [
            ("a", S.PURCHASE, at("2024-01-01"), 1.0),
            ("a", S.PURCHASE, at("2024-01-02"), None),
        ]
    )
    with pytest.raises(DataValidationError, match="1 purchase rows have none"):
        rfm_summary(events, observation_period_end=END, monetary=True)
    # without monetary the missing amount does not matter
    assert row(rfm_summary(events, observation_period_end=END), "a")["repeat_purchase_days"] == 1


def test_a_purchase_without_a_user_is_refused():
    events = make_events([(None, S.PURCHASE, at("2024-01-01"), 1.0)])
    with pytest.raises(DataValidationError, match="every purchase must have a user_id; 1 purchase"):
        rfm_summary(events, observation_period_end=END)


def test_a_timestamp_column_of_strings_is_refused(events):
    as_text = events.with_columns(pl.col(S.TIMESTAMP).dt.to_string())
    with pytest.raises(DataValidationError, match="column 'timestamp'.*Datetime or Date column"):
        rfm_summary(as_text, observation_period_end=END)


def test_events_must_be_a_polars_dataframe(events):
    with pytest.raises(TypeError, match="Got LazyFrame instead"):
        rfm_summary(events.lazy(), observation_period_end=END)


# --- golden: the published CDNOW sample summary ---------------------------------------------


@pytest.mark.slow
def test_the_cdnow_sample_reproduces_the_published_summary_for_every_customer():
    sample = CDNOW / "CDNOW_sample.txt"
    published = CDNOW / "cdnow_customers_summary.csv"
    if not (sample.exists() and published.exists()):
        reason = f"CDNOW sample or its published summary not available under {CDNOW}"
        print(reason)
        pytest.skip(reason)

    ds = load_dataset(
        sample,
        events_map={
            "column_2": S.USER_ID,  # sample_id, the published summary's ID
            "column_1": S.IGNORE,  # master_id
            "column_3": S.TIMESTAMP,
            "column_4": S.QUANTITY,
            "column_5": S.AMOUNT,
        },
    )
    read = ds.report.events.read
    assert not read.has_header
    assert read.columns == ["column_1", "column_2", "column_3", "column_4", "column_5"]
    assert ds.report.events.rows_kept == 6_919

    ours = rfm_summary(
        ds.events, calibration_start="1997-01-01", observation_period_end="1997-09-30", unit="W"
    )
    # the published summary uses lifetimes' names: frequency (repeat purchase days) and
    # recency (the span from the first to the last purchase day)
    expected = pl.read_csv(published).rename(
        {"frequency": "repeat_purchase_days", "recency": "purchase_span"}
    )
    assert ours.height == expected.height == 2_357
    assert (ours["repeat_purchase_days"] == 0).sum() == 1_411

    hundredths = [(pl.col(c) * 100).round().cast(pl.Int64).alias(c) for c in ("purchase_span", "T")]
    ours_int = ours.select(
        pl.col(S.USER_ID).cast(pl.Int64).alias("ID"), "repeat_purchase_days", *hundredths
    )
    expected_int = expected.select("ID", "repeat_purchase_days", *hundredths)
    joined = expected_int.join(ours_int, on="ID", how="full", suffix="_ours")
    unmatched = joined.filter(pl.col("ID").is_null() | pl.col("ID_ours").is_null())
    assert unmatched.height == 0, unmatched
    differing = joined.filter(
        (pl.col("repeat_purchase_days") != pl.col("repeat_purchase_days_ours"))
        | (pl.col("purchase_span") != pl.col("purchase_span_ours"))
        | (pl.col("T") != pl.col("T_ours"))
    )
    assert differing.height == 0, differing


def test_a_refusal_keeps_its_words_as_a_msgid_and_reads_in_chinese(events):
    from profiling.predict import error_stage, stage_text
    from profiling.vocabulary.i18n import language

    # the "file, column" prefix and the problem: both read again in the reader's language
    missing_amount = make_events(
        [
            ("a", S.PURCHASE, at("2024-01-01"), 1.0),
            ("a", S.PURCHASE, at("2024-01-02"), None),
        ]
    )
    with pytest.raises(DataValidationError) as raised:
        rfm_summary(missing_amount, observation_period_end=END, monetary=True)
    assert str(raised.value) == (
        "rfm_summary, column 'amount': monetary=True needs an amount on every purchase in the "
        "window; 1 purchase rows have none."
    )
    note = error_stage(raised.value)
    assert note == str(raised.value)
    # the column name stays a name (``amount`` is also a word of the catalog), saved or not
    again = pickle.loads(pickle.dumps(note))  # noqa: S301 - bytes made just above
    with language("zh"):
        assert (
            stage_text(note)
            == stage_text(again)
            == (
                "rfm_summary，列 “amount”：monetary=True 要求窗口内每次购买都有金额；"
                "有 1 行购买没有金额。"
            )
        )

    # without a column: the source alone, then the problem
    with pytest.raises(DataValidationError) as raised:
        rfm_summary(events, observation_period_end="2024-03-31", calibration_start="2024-03-01")
    assert str(raised.value) == (
        "rfm_summary: there must be at least one purchase (event_type == 'purchase') on or "
        "after calibration_start='2024-03-01'; the events frame has none."
    )
    with language("zh"):
        assert stage_text(error_stage(raised.value)) == (
            "rfm_summary：在 calibration_start='2024-03-01' 当天或之后必须至少有一次购买"
            "（event_type == 'purchase'）；事件表中没有。"
        )
