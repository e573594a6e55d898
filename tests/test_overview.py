"""The Overview's numbers on tiny logs, every value worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from profiling.errors import ProfilingError
from profiling.profiles import overview as O
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def log(rows: list[tuple], order_ids: bool = False) -> pl.DataFrame:
    """Canonical events from (user, event_type, timestamp, amount[, order_id]) tuples."""
    frame = pl.DataFrame(
        {
            S.USER_ID: [r[0] for r in rows],
            S.ITEM_ID: [f"i{i}" for i in range(len(rows))],
            S.EVENT_TYPE: [r[1] for r in rows],
            S.TIMESTAMP: [at(r[2]) for r in rows],
            S.AMOUNT: [r[3] for r in rows],
        },
        schema_overrides={S.AMOUNT: pl.Float64},
    )
    if order_ids:
        frame = frame.with_columns(pl.Series(S.ORDER_ID, [r[4] for r in rows], pl.String))
    return frame


# A transaction log without order ids.
#  e: one line on 1 Dec 2023 (5);
#  a: two lines at one moment on 5 Jan (10 + 5: one basket of 15) and one line on 10 Feb (20);
#  b: two lines at one moment on 20 Jan (30 + 10: one basket of 40);
#  c: one line on 15 Feb (50) and a refund of 10 on 20 Feb;
#  d: one line on 1 Mar (25).
SHOP = log(
    [
        ("e", S.PURCHASE, "2023-12-01 12:00", 5.0),
        ("a", S.PURCHASE, "2024-01-05 10:00", 10.0),
        ("a", S.PURCHASE, "2024-01-05 10:00", 5.0),
        ("b", S.PURCHASE, "2024-01-20 12:00", 30.0),
        ("b", S.PURCHASE, "2024-01-20 12:00", 10.0),
        ("a", S.PURCHASE, "2024-02-10 09:00", 20.0),
        ("c", S.PURCHASE, "2024-02-15 08:00", 50.0),
        ("c", S.REFUND, "2024-02-20 08:00", -10.0),
        ("d", S.PURCHASE, "2024-03-01 08:00", 25.0),
    ]
)
WHOLE = (at("2023-12-01 00:00"), at("2024-03-02 00:00"))


def test_a_log_without_browsing_events_is_a_transaction_log():
    assert O.log_kind(SHOP) == O.TRANSACTIONS
    views = log(
        [("x", S.VIEW, "2024-01-01 10:00", None), ("x", S.PURCHASE, "2024-01-01 11:00", 3.0)]
    )
    assert O.log_kind(views) == O.EVENTS
    assert O.log_kind(log([("x", S.RATE, "2024-01-01 10:00", None)])) == O.RATINGS


def test_lines_of_one_customer_at_one_moment_make_one_order_without_order_ids():
    o = O.orders(SHOP)
    # e 1, a 2, b 1, c 1, d 1: the refund is no order
    assert o.height == 6
    per_user = {u: sorted(o.filter(pl.col(S.USER_ID) == u)["amount"]) for u in "abcde"}
    assert per_user == {"a": [15.0, 20.0], "b": [40.0], "c": [50.0], "d": [25.0], "e": [5.0]}
    basket = o.filter(pl.col(S.USER_ID) == "b").row(0, named=True)
    assert (basket["amount"], basket["lines"]) == (30.0 + 10.0, 2)


def test_order_ids_group_lines_and_a_line_without_an_id_is_its_own_order():
    rows = log(
        [
            ("a", S.PURCHASE, "2024-01-05 10:00", 10.0, "o1"),
            ("a", S.PURCHASE, "2024-01-05 10:07", 5.0, "o1"),
            ("a", S.PURCHASE, "2024-01-06 10:00", 7.0, None),
            ("b", S.PURCHASE, "2024-01-06 10:00", 1.0, "o2"),
        ],
        order_ids=True,
    )
    o = O.orders(rows)
    assert o.height == 3
    first = o.row(0, named=True)
    assert (first["amount"], first["lines"], first[S.TIMESTAMP]) == (
        15.0,
        2,
        at("2024-01-05 10:00"),
    )


def test_headline_figures_of_the_whole_log():
    k = O.kpis(SHOP, *WHOLE)
    assert k.customers == 5
    assert k.orders == 6
    assert k.revenue == pytest.approx(5 + 15 + 40 + 20 + 50 - 10 + 25)  # 145
    assert k.aov == pytest.approx(145 / 6)
    assert k.repeat_rate == pytest.approx(1 / 5)  # only a ordered twice
    assert k.revenue_per_customer == pytest.approx(145 / 5)
    assert k.conversion == pytest.approx(5 / 5)


def test_a_period_is_compared_with_the_same_length_just_before_it():
    start, end = O.day_bounds(date(2024, 2, 1), date(2024, 2, 29))  # 29 days (leap year)
    assert (start, end) == (at("2024-02-01 00:00"), at("2024-03-01 00:00"))
    assert O.previous_period(start, end) == (at("2024-01-03 00:00"), start)
    cmp = O.compare(SHOP, start, end)
    # February: a 20 and c 50 minus the refund 10; 3 Jan - 31 Jan: a 15 and b 40
    assert (cmp.current.orders, cmp.current.revenue) == (2, 60.0)
    assert (cmp.previous.orders, cmp.previous.revenue) == (2, 55.0)
    assert cmp.previous_complete  # the log starts on 1 Dec, before 3 Jan
    assert cmp.delta("orders") == 0
    assert cmp.delta("revenue") == pytest.approx(60 - 55)
    assert cmp.delta("aov") == pytest.approx(60 / 2 - 55 / 2)
    assert cmp.delta("repeat_rate") == pytest.approx(0 - 0)


def test_no_delta_when_the_log_does_not_cover_the_previous_period():
    start, end = O.day_bounds(date(2023, 12, 1), date(2024, 3, 1))
    cmp = O.compare(SHOP, start, end)
    assert not cmp.previous_complete
    assert cmp.delta("orders") is None
    assert cmp.current.orders == 6


def test_a_date_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(
        ProfilingError,
        match=r"date range: the end \(2024-01-01\) is before the start \(2024-02-01\)",
    ):
        O.day_bounds(date(2024, 2, 1), date(2024, 1, 1))
    with i18n.language("zh"), pytest.raises(ProfilingError) as raised:
        O.day_bounds(date(2024, 2, 1), date(2024, 1, 1))
    assert str(raised.value) == "日期范围：结束日期（2024-01-01）早于开始日期（2024-02-01）"


def test_revenue_and_orders_per_month_net_of_refunds():
    t = O.over_time(SHOP, *WHOLE, every="1mo")
    assert t["period"].dt.month().to_list() == [12, 1, 2, 3]
    assert t["orders"].to_list() == [1, 2, 2, 1]
    assert t["revenue"].to_list() == pytest.approx([5.0, 15 + 40, 20 + 50 - 10, 25.0])
    assert t["customers"].to_list() == [1, 2, 2, 1]


def test_the_chart_grain_follows_the_span():
    assert O.grain(at("2024-01-01 00:00"), at("2024-01-31 00:00")) == "1d"
    assert O.grain(at("2024-01-01 00:00"), at("2024-04-30 00:00")) == "1w"
    assert O.grain(at("2022-01-01 00:00"), at("2024-01-01 00:00")) == "1mo"


def test_monthly_cohorts_share_of_customers_who_ordered_again():
    c = O.cohort_retention(SHOP)
    rows = [
        (r["cohort"], r["month"], r["active"], r["size"], r["share"])
        for r in c.iter_rows(named=True)
    ]
    assert rows == [
        (date(2023, 12, 1), 0, 1, 1, 1.0),  # e
        (date(2024, 1, 1), 0, 2, 2, 1.0),  # a and b first ordered in January
        (date(2024, 1, 1), 1, 1, 2, 1 / 2),  # a ordered again in February
        (date(2024, 2, 1), 0, 1, 1, 1.0),  # c (the refund is no order)
        (date(2024, 3, 1), 0, 1, 1, 1.0),  # d
    ]


def test_cohorts_stop_after_max_months():
    late = log(
        [("a", S.PURCHASE, "2024-01-05 10:00", 1.0), ("a", S.PURCHASE, "2024-04-05 10:00", 1.0)]
    )
    assert O.cohort_retention(late)["month"].to_list() == [0, 3]
    assert O.cohort_retention(late, max_months=2)["month"].to_list() == [0]


def test_the_funnel_counts_customers_at_each_step():
    ev = log(
        [
            ("x", S.VIEW, "2024-01-01 10:00", None),
            ("x", S.CART, "2024-01-01 10:01", None),
            ("x", S.PURCHASE, "2024-01-01 10:02", 9.0),
            ("y", S.VIEW, "2024-01-01 11:00", None),
            ("y", S.CART, "2024-01-01 11:01", None),
            ("z", S.VIEW, "2024-01-02 09:00", None),
            ("z", S.VIEW, "2024-01-02 09:30", None),
        ]
    )
    f = O.funnel(ev, at("2024-01-01 00:00"), at("2024-01-03 00:00"))
    assert f["step"].to_list() == [S.VIEW, S.CART, S.PURCHASE]
    assert f["customers"].to_list() == [3, 2, 1]
    assert f["share_of_first"].to_list() == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert O.kpis(ev, at("2024-01-01 00:00"), at("2024-01-03 00:00")).conversion == pytest.approx(
        1 / 3
    )


def test_guest_rows_are_explained_calmly():
    assert O.guest_note(0, 100, O.TRANSACTIONS) is None
    text = O.guest_note(22, 100, O.TRANSACTIONS)
    assert text.startswith("22 rows (22%) have no customer id")
    assert "expected in retail exports" in text
    assert O.guest_note(1, 5, O.TRANSACTIONS).startswith("1 row (20%) has no customer id")


def test_a_rating_log_has_its_own_headline_figures_worked_out_by_hand():
    # u1 rates i1 (4) and i2 (5) on 1 Jan and i1 again (3) on 3 Jan: 3 ratings on 2 days;
    # u2 rates i2 (2) once. 4 ratings, 2 items, mean (4+5+3+2)/4 = 3.5, 4/2 = 2 ratings per
    # customer, 1 of 2 customers active on two or more days.
    rows = [
        ("u1", "i1", "2024-01-01 10:00", 4.0),
        ("u1", "i2", "2024-01-01 11:00", 5.0),
        ("u1", "i1", "2024-01-03 10:00", 3.0),
        ("u2", "i2", "2024-01-02 10:00", 2.0),
    ]
    events = pl.DataFrame(
        {
            S.USER_ID: [r[0] for r in rows],
            S.ITEM_ID: [r[1] for r in rows],
            S.EVENT_TYPE: [S.RATE] * 4,
            S.TIMESTAMP: [at(r[2]) for r in rows],
            S.RATING: [r[3] for r in rows],
        }
    )
    assert O.log_kind(events) == O.RATINGS
    k = O.kpis(events, at("2024-01-01 00:00"), at("2024-01-04 00:00"))
    assert (k.customers, k.orders, k.ratings, k.items_rated) == (2, 0, 4, 2)
    assert k.average_rating == pytest.approx(3.5)
    assert k.ratings_per_customer == pytest.approx(2.0)
    assert k.returning_customers == pytest.approx(0.5)
    shown = O.headline_figures(O.RATINGS, money=False)
    assert "orders" not in shown and len(set(shown)) == 6


@pytest.mark.parametrize(
    ("kind", "money"),
    [(k, m) for k in (O.TRANSACTIONS, O.EVENTS, O.RATINGS) for m in (True, False)],
)
def test_the_six_headline_figures_never_repeat_one(kind, money):
    shown = O.headline_figures(kind, money)
    assert len(shown) == 6 and len(set(shown)) == 6
    assert all(
        hasattr(O.Kpis, "__dataclass_fields__") and n in O.Kpis.__dataclass_fields__ for n in shown
    )
