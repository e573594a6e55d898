"""Buy-till-you-die (BTYD) inputs: the per-user repeat purchase days / purchase span / T summary
for CLV models (``lifetimes`` calls them frequency and recency: this project keeps
"frequency" for orders, see the glossary).

The summary is the one that BG/NBD, Pareto/NBD and Gamma-Gamma models are fitted on, computed
as the ``lifetimes`` package's ``summary_data_from_transaction_data`` computes it, but from the
project's cleaned events frame (:data:`profiling.vocabulary.schema.EVENT_COLUMNS`) with polars.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from profiling.errors import DataValidationError
from profiling.predict.protocol import Stage, Verbatim
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_

SOURCE = "rfm_summary"

UNIT_DAYS: dict[str, int] = {"D": 1, "W": 7, "M": 30}
"""Length in days of each time unit of purchase_span and T. A month ("M") is 30 days."""

_DAY = "__day"
_AMOUNT = "__amount"


def _error(problem: Stage, *, column: str | None = None) -> DataValidationError:
    # the problem stays a Stage (English text, msgid and values): a prediction run keeps
    # it in its saved notes (``error_stage``), and a page reads it in its own language
    return DataValidationError(SOURCE, problem, column=column)


def no_purchase_error(start: date | None = None) -> DataValidationError:
    """The refusal of a summary without any purchase (``start``: the window's first day,
    when it has one)."""
    if start is None:
        return _error(
            Stage(
                N_(
                    "there must be at least one purchase (event_type == 'purchase'); the events "
                    "frame has none."
                )
            )
        )
    return _error(
        Stage(
            N_(
                "there must be at least one purchase (event_type == 'purchase') on or after "
                "calibration_start={start}; the events frame has none."
            ),
            start=repr(start.isoformat()),
        )
    )


def missing_amount_error(count: int) -> DataValidationError:
    """The refusal of a spend summary (``monetary=True``) when ``count`` purchases in the
    window have no amount."""
    return _error(
        Stage(
            N_(
                "monetary=True needs an amount on every purchase in the window; {count} "
                "purchase rows have none."
            ),
            count=count,
        ),
        column=S.AMOUNT,
    )


def _parse_day(value: object, name: str) -> date:
    """The calendar day (UTC) of a date, a datetime or an ISO 8601 string."""
    parsed: object = value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if isinstance(parsed, datetime):
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC)
        return parsed.date()
    if isinstance(parsed, date):
        return parsed
    raise _error(
        Stage(
            N_(
                "{name} must be a date, a datetime or an ISO 8601 string such as '1997-09-30'. "
                "Got {name}={value} instead."
            ),
            name=name,
            value=repr(value),
        )
    )


def _check_parameters(unit: object, round_to: object) -> int:
    """Validate ``unit`` and ``round_to``; return the unit length in days."""
    if not isinstance(unit, str) or unit not in UNIT_DAYS:
        allowed = ", ".join(repr(u) for u in UNIT_DAYS)
        raise _error(
            Stage(
                N_("unit must be one of {allowed}. Got unit={unit} instead."),
                allowed=allowed,
                unit=repr(unit),
            )
        )
    if round_to is not None and (
        isinstance(round_to, bool) or not isinstance(round_to, int) or round_to < 0
    ):
        raise _error(
            Stage(
                N_(
                    "round_to must be a non-negative integer or None. Got round_to={round_to} "
                    "instead."
                ),
                round_to=repr(round_to),
            )
        )
    return UNIT_DAYS[unit]


def _check_events(events: object, monetary: bool) -> None:
    """Check that ``events`` is a frame with the columns the summary reads."""
    if not isinstance(events, pl.DataFrame):
        raise TypeError(
            f"{SOURCE}: events must be a polars DataFrame of cleaned events. "
            f"Got {type(events).__name__} instead."
        )
    needed = [S.USER_ID, S.EVENT_TYPE, S.TIMESTAMP] + ([S.AMOUNT] if monetary else [])
    for column in needed:
        if column not in events.columns:
            raise _error(
                Stage(
                    N_(
                        "the events frame has no '{column}' column; the BTYD summary needs "
                        "{needed} (monetary=True). Columns found: {found}."
                    )
                    if column == S.AMOUNT
                    else N_(
                        "the events frame has no '{column}' column; the BTYD summary needs "
                        "{needed}. Columns found: {found}."
                    ),
                    column=Verbatim(column),
                    needed=Verbatim(", ".join(needed)),
                    found=Verbatim(", ".join(events.columns)),
                ),
                column=column,
            )
    dtype = events.schema[S.TIMESTAMP]
    if not isinstance(dtype, pl.Datetime | pl.Date):
        raise _error(
            Stage(
                N_("timestamps must be a Datetime or Date column, found {dtype}."),
                dtype=str(dtype),
            ),
            column=S.TIMESTAMP,
        )


def _purchase_days(events: pl.DataFrame, monetary: bool) -> pl.DataFrame:
    """Purchase rows as (user_id, __day[, __amount]); the day is the UTC calendar day."""
    ts = pl.col(S.TIMESTAMP)
    dtype = events.schema[S.TIMESTAMP]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        ts = ts.dt.convert_time_zone("UTC")
    columns = [pl.col(S.USER_ID), ts.dt.date().alias(_DAY)]
    if monetary:
        columns.append(pl.col(S.AMOUNT).cast(pl.Float64).alias(_AMOUNT))
    return events.filter(pl.col(S.EVENT_TYPE) == S.PURCHASE).select(columns)


def _no_net_purchase(events: pl.DataFrame, start: date | None, end: date) -> pl.DataFrame | None:
    """user_id of the customers whose purchases minus refunds in the window come to 0 or less
    (None when the events have no amount column, so no refund can be weighed)."""
    if S.AMOUNT not in events.columns:
        return None
    ts = pl.col(S.TIMESTAMP)
    dtype = events.schema[S.TIMESTAMP]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        ts = ts.dt.convert_time_zone("UTC")
    amount = pl.col(S.AMOUNT).cast(pl.Float64).fill_null(0.0)
    # a refund counts against the purchases whatever sign its source gave it
    signed = pl.when(pl.col(S.EVENT_TYPE) == S.REFUND).then(-amount.abs()).otherwise(amount)
    money = events.filter(pl.col(S.EVENT_TYPE).is_in([S.PURCHASE, S.REFUND])).select(
        pl.col(S.USER_ID), ts.dt.date().alias(_DAY), signed.alias(_AMOUNT)
    )
    window = pl.col(_DAY) <= end
    if start is not None:
        window = window & (pl.col(_DAY) >= start)
    return (
        money.filter(window)
        .group_by(S.USER_ID)
        .agg(pl.col(_AMOUNT).sum())
        .filter(pl.col(_AMOUNT) <= 0)
        .select(S.USER_ID)
    )


def rfm_summary(
    events: pl.DataFrame,
    *,
    observation_period_end: date | datetime | str,
    calibration_start: date | datetime | str | None = None,
    unit: str = "D",
    monetary: bool = False,
    round_to: int | None = 2,
    net_of_refunds: bool = True,
) -> pl.DataFrame:
    """Per-user repeat purchase days, purchase span and T: the input of BTYD / CLV models.

    Transforms a cleaned event log (one row per event) into a BTYD summary (one row per
    customer), as ``lifetimes.utils.summary_data_from_transaction_data`` does with
    ``freq="D"`` and then ``freq_multiplier``: purchase timestamps are truncated to calendar
    days and a customer's purchases on one day count as one purchase.

    Parameters
    ----------
    events : pl.DataFrame
        Cleaned events, one row per event, with the columns of
        :data:`profiling.vocabulary.schema.EVENT_COLUMNS` (``Dataset.events``). Read: ``user_id`` (str),
        ``event_type`` (str), ``timestamp`` (Datetime, UTC) and, when ``monetary`` is true,
        ``amount`` (float). Only rows with ``event_type == "purchase"`` are counted; refunds
        are read only by the net-purchase rule (``net_of_refunds``) and every other event
        type is ignored.
    observation_period_end : date, datetime or str
        Last day of the observation window (ISO 8601 string such as ``"1997-09-30"``). The
        whole day is included; a datetime counts as its calendar day in UTC (naive datetimes
        are taken as UTC). Purchases after that day are excluded.
    calibration_start : date, datetime or str, optional
        First day of the window, included. By default the window starts at the first
        purchase in ``events``. Customers whose purchases all fall before it are absent.
    unit : {"D", "W", "M"}, default "D"
        Time unit of ``purchase_span`` and ``T``: days, weeks (7 days) or months (a month is
        counted as 30 days, not as a calendar month).
    monetary : bool, default False
        Add ``monetary_value``.
    round_to : int or None, default 2
        Decimals ``purchase_span`` and ``T`` are rounded to (half to even); None keeps them
        unrounded. ``monetary_value`` is never rounded.
    net_of_refunds : bool, default True
        Apply the net-purchase rule: a customer whose net spend in the window (the amounts
        of their purchases minus those of their refunds, both in the window) is 0 or less
        has made no net purchase, so they get ``repeat_purchase_days`` 0, ``purchase_span`` 0 and
        ``monetary_value`` 0, and keep the ``T`` of their first purchase day (they did
        become a customer then). Under MBG/NBD such a customer's P(alive) then falls with
        the time since that day, and their expected value follows from their expected
        purchases; someone who bought 74,215 units and returned them all is not an active
        customer. A customer with a positive net spend keeps every purchase day (a partial
        refund does not undo a visit). Without an ``amount`` column no refund can be
        weighed and the rule does nothing. False gives exactly ``lifetimes``' summary.

    Returns
    -------
    pl.DataFrame
        One row per customer with at least one purchase in the window
        [``calibration_start``, ``observation_period_end``], sorted by ``user_id``; customers
        without one are absent. Columns:

        - ``user_id`` (str)
        - ``repeat_purchase_days`` (Int64): number of distinct purchase days in the window
          minus one (``lifetimes``' ``frequency``, the BTYD models' x).
        - ``purchase_span`` (Float64): time from the first to the last purchase day, in
          ``unit`` (``lifetimes``' ``recency``, the models' t_x; 0 when
          repeat_purchase_days is 0).
        - ``T`` (Float64): time from the first purchase day to ``observation_period_end``,
          in ``unit``.
        - ``monetary_value`` (Float64, only when ``monetary`` is true): mean over the repeat
          purchase days of the day's summed ``amount``; the first purchase day is excluded,
          so it is 0 when repeat_purchase_days is 0 (as in ``lifetimes``).

    Raises
    ------
    TypeError
        If ``events`` is not a polars DataFrame.
    profiling.errors.DataValidationError
        (a ``ValueError``) if a parameter has a value outside the allowed ones, a needed
        column is missing or of the wrong type, a purchase has no user or timestamp, a
        purchase in the window has no amount while ``monetary`` is true,
        ``calibration_start`` is after ``observation_period_end``, there is no purchase on or
        after ``calibration_start``, or ``observation_period_end`` is before the first such
        purchase. The message states the value and the invariant that is broken.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> events = pl.DataFrame(
    ...     {
    ...         "user_id": ["a", "a", "a"],
    ...         "event_type": ["purchase", "purchase", "refund"],
    ...         "timestamp": [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 8, 9)],
    ...         "amount": [10.0, 20.0, -20.0],
    ...     }
    ... )
    >>> rfm_summary(events, observation_period_end="2024-01-15", unit="W", monetary=True)
    shape: (1, 5)
    ┌─────────┬──────────────────────┬───────────────┬─────┬────────────────┐
    │ user_id ┆ repeat_purchase_days ┆ purchase_span ┆ T   ┆ monetary_value │
    │ ---     ┆ ---                  ┆ ---           ┆ --- ┆ ---            │
    │ str     ┆ i64                  ┆ f64           ┆ f64 ┆ f64            │
    ╞═════════╪══════════════════════╪═══════════════╪═════╪════════════════╡
    │ a       ┆ 1                    ┆ 1.0           ┆ 2.0 ┆ 20.0           │
    └─────────┴──────────────────────┴───────────────┴─────┴────────────────┘
    """
    # long: a hundred lines of docstring (the summary's columns against lifetimes', shown
    # as a table) and the checks of every argument, each with its own message, before the
    # few group-bys that make the summary
    _check_events(events, monetary)
    unit_days = _check_parameters(unit, round_to)
    end = _parse_day(observation_period_end, "observation_period_end")
    start = (
        None if calibration_start is None else _parse_day(calibration_start, "calibration_start")
    )
    if start is not None and start > end:
        raise _error(
            Stage(
                N_(
                    "calibration_start must not be after observation_period_end. Got "
                    "calibration_start={start} and observation_period_end={end}."
                ),
                start=repr(start.isoformat()),
                end=repr(end.isoformat()),
            )
        )

    purchases = _purchase_days(events, monetary)
    missing = purchases.select(
        pl.col(S.USER_ID).is_null().sum().alias(S.USER_ID),
        pl.col(_DAY).is_null().sum().alias(S.TIMESTAMP),
    ).row(0, named=True)
    for column, count in missing.items():
        if count:
            raise _error(
                Stage(
                    N_("every purchase must have a {column}; {count} purchase rows have none."),
                    column=Verbatim(column),
                    count=count,
                ),
                column=column,
            )
    if start is not None:
        purchases = purchases.filter(pl.col(_DAY) >= start)
    first_purchase = purchases[_DAY].min()
    if first_purchase is None:
        raise no_purchase_error(start)
    if end < first_purchase:
        raise _error(
            Stage(
                N_(
                    "observation_period_end must not be before the first purchase on or after "
                    "calibration_start={start} ({first}), or T would be negative. Got "
                    "observation_period_end={end}."
                )
                if start
                else N_(
                    "observation_period_end must not be before the first purchase ({first}), or "
                    "T would be negative. Got observation_period_end={end}."
                ),
                start=repr(start.isoformat()) if start else "",
                first=first_purchase.isoformat(),
                end=repr(end.isoformat()),
            )
        )
    purchases = purchases.filter(pl.col(_DAY) <= end)

    if monetary:
        no_amount = purchases[_AMOUNT].null_count()
        if no_amount:
            raise missing_amount_error(no_amount)

    days = purchases.group_by(S.USER_ID, _DAY).agg(*([pl.col(_AMOUNT).sum()] if monetary else []))
    first_day = pl.col(_DAY).min()
    aggregates = [
        (pl.len() - 1).cast(pl.Int64).alias("repeat_purchase_days"),
        (pl.col(_DAY).max() - first_day).dt.total_days().alias("__span_days"),
        (pl.lit(end, dtype=pl.Date) - first_day).dt.total_days().alias("__t_days"),
    ]
    if monetary:
        aggregates.append(
            pl.col(_AMOUNT)
            .filter(pl.col(_DAY) != first_day)
            .mean()
            .fill_null(0.0)
            .alias("monetary_value")
        )

    def in_unit(days_column: str, name: str) -> pl.Expr:
        value = pl.col(days_column).cast(pl.Float64) / unit_days
        return (value if round_to is None else value.round(round_to)).alias(name)

    summary = days.group_by(S.USER_ID).agg(aggregates)
    no_net = _no_net_purchase(events, start, end) if net_of_refunds else None
    if no_net is not None and no_net.height:
        refunded = pl.col(S.USER_ID).is_in(no_net[S.USER_ID].implode())
        summary = summary.with_columns(
            pl.when(refunded)
            .then(0)
            .otherwise(pl.col("repeat_purchase_days"))
            .alias("repeat_purchase_days"),
            pl.when(refunded).then(0).otherwise(pl.col("__span_days")).alias("__span_days"),
            *(
                [
                    pl.when(refunded)
                    .then(0.0)
                    .otherwise(pl.col("monetary_value"))
                    .alias("monetary_value")
                ]
                if monetary
                else []
            ),
        )
    return summary.select(
        S.USER_ID,
        "repeat_purchase_days",
        in_unit("__span_days", "purchase_span"),
        in_unit("__t_days", "T"),
        *(["monetary_value"] if monetary else []),
    ).sort(S.USER_ID)
