"""The Overview's numbers: what kind of log this is, orders, average order value, repeat
customers, revenue over time, the period against the one before it, the funnel of an event
log and monthly cohort retention.

The business words follow :data:`profiling.vocabulary.glossary.DEFINITIONS`, the one
definition the profiles, the report, the exports and the CLI use too. Orders: distinct
``order_id`` of purchase rows; a purchase row without an order id (every row of a log
without them) is one order per customer per day, as the profiles' ``frequency`` counts
them. Revenue is the sum of ``amount`` over purchases and refunds (refund amounts are
negative): net of refunds. Average order value is net revenue / orders; revenue per
customer is net revenue / customers (buyers or not, the figure shown beside it).
Periods are half-open: ``start <= timestamp < end``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from profiling.errors import ProfilingError
from profiling.vocabulary import fmt
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _
from profiling.vocabulary.i18n import ngettext

TRANSACTIONS, EVENTS, RATINGS = "transaction log", "event log", "rating log"
BROWSING_TYPES = (S.VIEW, S.CLICK, S.CART, S.WISHLIST, S.SEARCH)
FUNNEL_STEPS = (S.VIEW, S.CART, S.PURCHASE)


def log_kind(events: pl.DataFrame) -> str:
    """:data:`TRANSACTIONS` when the log has purchases and no browsing events (views,
    clicks, carts, wishlists, searches), :data:`EVENTS` when it has browsing events,
    :data:`RATINGS` when it has neither purchases nor browsing (ratings or reviews only)."""
    types = set(events[S.EVENT_TYPE].unique().to_list())
    if types & set(BROWSING_TYPES):
        return EVENTS
    return TRANSACTIONS if S.PURCHASE in types else RATINGS


def _order_key(events: pl.DataFrame) -> pl.Expr:
    has_ids = S.ORDER_ID in events.columns and events[S.ORDER_ID].is_not_null().any()
    # one order per customer per day without an order id (glossary ORDERS_RULE)
    basket = (
        pl.col(S.USER_ID).cast(pl.String)
        + pl.lit("|")
        + pl.col(S.TIMESTAMP).dt.date().cast(pl.String)
    )
    if has_ids:
        # a purchase row without an order id still forms its own basket
        return pl.coalesce(pl.lit("o:") + pl.col(S.ORDER_ID).cast(pl.String), pl.lit("b:") + basket)
    return pl.lit("b:") + basket


def orders(events: pl.DataFrame) -> pl.DataFrame:
    """One row per order (see the module docstring for the rule): order (key), user_id,
    timestamp (the order's first row), amount (sum of its purchase rows; null when the log
    has no money), lines (purchase rows)."""
    p = events.filter(pl.col(S.EVENT_TYPE) == S.PURCHASE)
    has_money = S.AMOUNT in p.columns and p[S.AMOUNT].is_not_null().any()
    amount = pl.col(S.AMOUNT).sum() if has_money else pl.lit(None, pl.Float64)
    return (
        p.with_columns(_order_key(p).alias("order"))
        .group_by("order")
        .agg(
            pl.col(S.USER_ID).first(),
            pl.col(S.TIMESTAMP).min(),
            amount.alias("amount"),
            pl.len().cast(pl.Int64).alias("lines"),
        )
        .sort(S.TIMESTAMP, "order")
    )


def window(events: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Rows with ``start <= timestamp < end``."""
    return events.filter(pl.col(S.TIMESTAMP).is_between(start, end, closed="left"))


@dataclass(frozen=True)
class Kpis:
    """Headline figures of one period (see the module docstring for the definitions)."""

    customers: int
    """distinct customers with any event in the period"""
    buyers: int
    """distinct customers with at least one order"""
    orders: int
    revenue: float | None
    """net of refunds"""
    aov: float | None
    """net revenue / orders"""
    repeat_rate: float | None
    """customers with 2 or more orders / buyers"""
    revenue_per_customer: float | None
    """net revenue / customers (not buyers: the customers figure shown beside it)"""
    conversion: float | None
    """buyers / customers"""
    rows: int
    ratings: int = 0
    """rating rows (a rating log's headline: it has no orders)"""
    items_rated: int = 0
    """distinct items with a rating"""
    average_rating: float | None = None
    """mean of the rating values"""
    ratings_per_customer: float | None = None
    """ratings / customers"""
    returning_customers: float | None = None
    """customers active on 2 or more days / customers"""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


SHARES_OF_CUSTOMERS = frozenset(
    {"conversion", "repeat_rate", "returning_customers", "revenue_per_customer"}
)
"""Headline figures divided by a count of customers (hidden under a privacy budget)."""


def headline_figures(kind: str, money: bool) -> tuple[str, ...]:
    """The six headline figures of a log, in the order shown (names of :class:`Kpis`).

    A rating log has no orders nor money: what its customers rated. An event log shows
    the share of visitors who bought; a transaction log, where everyone bought, the share
    who came back. Without money, revenue and average order value stay in their places
    (shown as missing, with the reason) and the last figure is a count that needs no money."""
    if kind == RATINGS:
        return (
            "customers",
            "ratings",
            "items_rated",
            "average_rating",
            "ratings_per_customer",
            "returning_customers",
        )
    share = "conversion" if kind == EVENTS else "repeat_rate"
    if money:
        last = "revenue_per_customer"
    else:
        last = "repeat_rate" if kind == EVENTS else "buyers"
    return ("customers", "orders", "revenue", "aov", share, last)


def kpis(events: pl.DataFrame, start: datetime, end: datetime) -> Kpis:
    """Headline figures of the period ``start <= timestamp < end``."""
    e = window(events, start, end)
    o = orders(e)
    customers = e[S.USER_ID].n_unique()
    per_buyer = o.group_by(S.USER_ID).len("n")
    buyers = per_buyer.height
    has_money = S.AMOUNT in e.columns and e[S.AMOUNT].is_not_null().any()
    money = e.filter(pl.col(S.EVENT_TYPE).is_in([S.PURCHASE, S.REFUND]))
    revenue = float(money[S.AMOUNT].sum()) if has_money else None
    n_orders = o.height
    rated = e.filter(pl.col(S.EVENT_TYPE) == S.RATE)
    values = rated[S.RATING].drop_nulls() if S.RATING in rated.columns else pl.Series([])
    days = e.group_by(S.USER_ID).agg(pl.col(S.TIMESTAMP).dt.date().n_unique().alias("d"))
    return Kpis(
        customers=customers,
        buyers=buyers,
        orders=n_orders,
        revenue=revenue,
        aov=revenue / n_orders if revenue is not None and n_orders else None,
        repeat_rate=(per_buyer["n"] >= 2).sum() / buyers if buyers else None,
        revenue_per_customer=revenue / customers if revenue is not None and customers else None,
        conversion=buyers / customers if customers else None,
        rows=e.height,
        ratings=rated.height,
        items_rated=rated[S.ITEM_ID].n_unique(),
        average_rating=float(values.mean()) if values.len() else None,
        ratings_per_customer=rated.height / customers if customers else None,
        returning_customers=(days["d"] >= 2).sum() / customers if customers else None,
    )


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The half-open UTC period covering the whole days ``first`` .. ``last``.

    Raises ProfilingError when ``last`` is before ``first``."""
    if last < first:
        raise ProfilingError(
            _("date range: the end ({last}) is before the start ({first})").format(
                last=f"{last:%Y-%m-%d}", first=f"{first:%Y-%m-%d}"
            )
        )
    start = datetime.combine(first, time(0), tzinfo=UTC)
    return start, start + timedelta(days=(last - first).days + 1)


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length immediately before ``[start, end)``."""
    return start - (end - start), start


@dataclass(frozen=True)
class Comparison:
    """This period's figures, the previous period's and whether the log covers the previous
    period completely (deltas are only shown then)."""

    current: Kpis
    previous: Kpis
    start: datetime
    end: datetime
    previous_start: datetime
    previous_complete: bool

    def delta(self, name: str) -> float | None:
        """current - previous of a figure; None when either is missing or the log does not
        cover the whole previous period."""
        a, b = getattr(self.current, name), getattr(self.previous, name)
        if not self.previous_complete or a is None or b is None:
            return None
        return a - b


def compare(events: pl.DataFrame, start: datetime, end: datetime) -> Comparison:
    """Figures of ``[start, end)`` and of the same-length period just before it."""
    p0, p1 = previous_period(start, end)
    first = events[S.TIMESTAMP].min()
    complete = first is not None and first <= p0
    return Comparison(kpis(events, start, end), kpis(events, p0, p1), start, end, p0, complete)


def grain(start: datetime, end: datetime) -> str:
    """A polars duration for a time chart: days up to 62 days, weeks up to a year and a
    half, months beyond."""
    days = (end - start).days
    return "1d" if days <= 62 else "1w" if days <= 550 else "1mo"


def over_time(events: pl.DataFrame, start: datetime, end: datetime, every: str | None = None):
    """Orders, revenue and buying customers per period of ``[start, end)``.

    One row per period with an order: period (start of the day/week/month), orders,
    revenue (null without money), customers, partial (True when ``[start, end)`` covers
    only part of the period, as the first and last week usually do: their totals are low
    because the period is short, not because sales fell). ``every`` defaults to
    :func:`grain`."""
    every = every or grain(start, end)
    o = orders(window(events, start, end))
    refunds = window(events, start, end).filter(pl.col(S.EVENT_TYPE) == S.REFUND)
    per = pl.col(S.TIMESTAMP).dt.truncate(every).alias("period")
    out = o.group_by(per).agg(
        pl.len().alias("orders"),
        pl.col("amount").sum().alias("revenue")
        if o["amount"].is_not_null().any()
        else pl.lit(None, pl.Float64).alias("revenue"),
        pl.col(S.USER_ID).n_unique().alias("customers"),
    )
    if refunds.height and S.AMOUNT in refunds.columns and out["revenue"].is_not_null().any():
        back = refunds.group_by(per).agg(pl.col(S.AMOUNT).sum().alias("_refunds"))
        out = (
            out.join(back, on="period", how="left")
            .with_columns((pl.col("revenue") + pl.col("_refunds").fill_null(0.0)).alias("revenue"))
            .drop("_refunds")
        )
    partial = (pl.col("period") < pl.lit(start)) | (
        pl.col("period").dt.offset_by(every) > pl.lit(end)
    )
    return out.sort("period").with_columns(partial.alias("partial"))


def funnel(events: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Customers reaching each step of an event log in ``[start, end)``.

    One row per step present (view, cart, purchase): step, customers (distinct customers
    with that event), share_of_first (customers / customers of the first step)."""
    e = window(events, start, end)
    steps = [s for s in FUNNEL_STEPS if (e[S.EVENT_TYPE] == s).any()]
    counts = [e.filter(pl.col(S.EVENT_TYPE) == s)[S.USER_ID].n_unique() for s in steps]
    first = counts[0] if counts else 0
    return pl.DataFrame(
        {
            "step": steps,
            "customers": counts,
            "share_of_first": [c / first if first else None for c in counts],
        },
        schema={"step": pl.String, "customers": pl.Int64, "share_of_first": pl.Float64},
    )


def cohort_retention(events: pl.DataFrame, max_months: int = 12) -> pl.DataFrame:
    """Monthly cohort retention over the whole log.

    Cohort: the calendar month of a customer's first purchase (first event of any kind when
    the log has no purchases). A customer is active in month +m when they bought (had an
    event) in the m-th calendar month after the cohort month; +0 is the cohort month itself,
    so its share is 1.

    Returns
    -------
    pl.DataFrame
        One row per (cohort, month) with at least one active customer, month <=
        ``max_months``: cohort (date, first of the month), month (int), active, size
        (customers in the cohort), share = active / size.
    """
    acts = events.filter(pl.col(S.EVENT_TYPE) == S.PURCHASE)
    if acts.height == 0:
        acts = events
    m = acts.select(
        S.USER_ID,
        (pl.col(S.TIMESTAMP).dt.year() * 12 + pl.col(S.TIMESTAMP).dt.month() - 1).alias("_m"),
    ).unique()
    first = m.group_by(S.USER_ID).agg(pl.col("_m").min().alias("_c"))
    sizes = first.group_by("_c").len("size")
    return (
        m.join(first, on=S.USER_ID)
        .with_columns((pl.col("_m") - pl.col("_c")).cast(pl.Int64).alias("month"))
        .filter(pl.col("month") <= max_months)
        .group_by("_c", "month")
        .agg(pl.len().cast(pl.Int64).alias("active"))
        .join(sizes, on="_c")
        .with_columns(
            pl.date(pl.col("_c") // 12, pl.col("_c") % 12 + 1, 1).alias("cohort"),
            (pl.col("active") / pl.col("size")).alias("share"),
            pl.col("size").cast(pl.Int64),
        )
        .select("cohort", "month", "active", "size", "share")
        .sort("cohort", "month")
    )


def currency_suggestion(ds) -> fmt.CurrencySuggestion | None:
    """A currency suggested from the customers' country, region or locale (the users table,
    or the region column of the log, as cleaned: one value per customer) when one value
    covers 80% or more of the customers; None otherwise. Named by the file's own column
    name ("GBP, suggested from Country = United Kingdom")."""
    if ds.users is None:
        return None
    raw_names = {}
    for rep in ds.report.tables():
        raw_names |= {role: col for col, role in rep.mapping.items() if role == S.REGION}
    columns = {}
    for col in ds.users.columns:
        if col == S.REGION:
            columns[raw_names.get(S.REGION, "region")] = ds.users[col]
        elif re.search(r"(country|locale|language|lang)", col, re.IGNORECASE):
            columns[col] = ds.users[col]
    return fmt.suggest_currency(columns)


def guest_note(rows_without_customer: int, rows_read: int, kind: str) -> str | None:
    """One calm line about rows without a customer id (dropped at cleaning), or None."""
    if rows_without_customer <= 0:
        return None
    share = rows_without_customer / rows_read if rows_read else 0.0
    where = _("retail exports") if kind == TRANSACTIONS else _("logs of visitors who never sign in")
    text = ngettext(
        "{rows} row ({share}) has no customer id: guest checkouts or anonymous visits, "
        "expected in {where}. They are left out of customer figures.",
        "{rows} rows ({share}) have no customer id: guest checkouts or anonymous visits, "
        "expected in {where}. They are left out of customer figures.",
        rows_without_customer,
    )
    return text.format(
        rows=fmt.count(rows_without_customer), share=fmt.percent(share, 0), where=where
    )
