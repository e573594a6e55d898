"""Cleaning an event, transaction or rating log into the canonical events frame."""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from profiling.data.ingest.report import (
    BAD_RATING,
    BAD_TIMESTAMP,
    BLANK_ROW,
    DUPLICATE,
    MISSING_EVENT,
    MISSING_RATING,
    MISSING_TIMESTAMP,
    MISSING_USER,
    NEGATIVE_PRICE,
    POSSIBLE_DUP,
    QTY_DEFAULT,
    QTY_ZERO,
    REFUND,
    UNKNOWN_EVENT,
    ZERO_PRICE,
    CleaningReport,
    ReasonCount,
    example_rows,
)
from profiling.data.ingest.roles import ColumnMapping, infer_roles
from profiling.data.ingest.source import RawTable
from profiling.data.ingest.timestamps import TimestampParse, parse_timestamp, timestamp_text
from profiling.data.ingest.values import (
    event_type_expr,
    id_expr,
    number_expr,
    string_expr,
)
from profiling.errors import DataValidationError, MappingError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _


@dataclass
class CleanResult:
    """A cleaned table with its report; for events also item/user attributes found in it."""

    frame: pl.DataFrame
    report: CleaningReport
    item_attributes: pl.DataFrame | None = None
    user_attributes: pl.DataFrame | None = None


def require_roles(
    mapping: ColumnMapping, raw: RawTable, roles: tuple[str, ...], found: list[str]
) -> None:
    for role in roles:
        if not mapping.has(role):
            raise MappingError(
                raw.source,
                _(
                    "no column is mapped to '{role}'; expected a {value} column (found columns: {names}). Map one with --map COLUMN={role} or in the mapping editor"
                ).format(role=role, value=role.replace("_", " "), names=", ".join(found)),
            )


def clean_events(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean an event, transaction or rating log into the canonical events frame.

    Returns
    -------
    CleanResult
        ``frame``: one row per kept event with the columns of
        :data:`profiling.vocabulary.schema.EVENT_COLUMNS` (ids as strings, timestamp in UTC; amount is
        the row's signed money value: price x quantity for a purchase, negative for a
        refund, empty for events that move no money). ``report`` counts every row dropped
        or repaired. ``item_attributes`` / ``user_attributes``: item titles, categories,
        brands and user regions found in the log, one row per id.

    Raises
    ------
    MappingError
        No user id or timestamp column.
    DataValidationError
        No timestamp at all could be parsed.
    """
    mapping = mapping or infer_roles(raw, "events")
    schema = raw.frame.collect_schema()
    require_roles(mapping, raw, S.REQUIRED_EVENT_ROLES, schema.names())
    report = CleaningReport(
        source=raw.source,
        table="events",
        read=raw.info,
        mapping=mapping.to_dict(),
        mapping_reasons=dict(mapping.reasons),
    )
    report.notes.extend(mapping.notes)
    sample = raw.sample(5000)
    ts = timestamp_parse(raw, mapping, schema, sample, report)
    report.kind, etype = event_log_kind(mapping, schema)
    df = _select_canonical(raw, mapping, schema, ts.expr, etype).collect()
    report.rows_read = df.height
    _refuse_if_no_timestamp_parsed(raw, mapping, df, sample, ts.description)
    df = with_money(df, mapping)
    report.date_only = not _has_time_of_day(df)
    dedupe = not report.date_only or mapping.has(S.ORDER_ID) or mapping.has(S.SESSION_ID)
    df = df.with_columns(drop_reason(report.kind, dedupe).alias("__drop"))
    report.reasons = _tally(raw, df, _repairs(mapping, dedupe))
    clean = df.filter(pl.col("__drop").is_null())
    report.rows_kept = clean.height
    if clean.height == 0:
        raise DataValidationError(
            raw.source,
            _("no usable rows: all {n} rows were dropped ({reasons})").format(
                n=report.rows_read,
                reasons=", ".join(
                    f"{_(r.reason)}: {r.count}" for r in report.reasons if r.action == "dropped"
                ),
            ),
        )
    _closing_notes(report, clean, mapping, dedupe)
    events = clean.select(S.EVENT_COLUMNS).sort([S.TIMESTAMP, S.USER_ID], maintain_order=True)
    return CleanResult(
        events, report, _item_attributes(clean, mapping), _user_attributes(clean, mapping)
    )


def timestamp_parse(
    raw: RawTable,
    mapping: ColumnMapping,
    schema: pl.Schema,
    sample: pl.DataFrame,
    report: CleaningReport,
) -> TimestampParse:
    ts_col = mapping.column_for(S.TIMESTAMP)
    ts = parse_timestamp(ts_col, schema[ts_col], sample[ts_col], excel=raw.info.format == "Excel")
    if ts is None:
        found = sample[ts_col].drop_nulls().cast(pl.String).head(3).to_list()
        raise DataValidationError(
            raw.source,
            _(
                "expected timestamps (ISO dates, day/month/year, YYYYMMDD, epoch seconds or milliseconds) but none could be parsed; found values such as {found}"
            ).format(found=found),
            column=ts_col,
        )
    report.timestamp_format = ts.description
    if ts.zones:
        report.notes.append(
            _(
                "timestamps in '{ts_col}' carry time zones ({names}): every one was converted to UTC"
            ).format(ts_col=ts_col, names=", ".join(ts.zones))
        )
    if ts.ambiguous:
        report.notes.append(
            _("timestamps in '{ts_col}' could be day-first or month-first; read as {value}").format(
                ts_col=ts_col, value=timestamp_text(ts.description.split(";")[0])
            )
        )
    return ts


def event_log_kind(mapping: ColumnMapping, schema: pl.Schema) -> tuple[str, pl.Expr]:
    """The kind of log and the expression giving each row's canonical event type."""
    if mapping.has(S.EVENT_TYPE):
        c = mapping.column_for(S.EVENT_TYPE)
        return N_("event log"), event_type_expr(c, schema[c])
    has_money = any(mapping.has(r) for r in (S.QUANTITY, S.PRICE, S.AMOUNT))
    if mapping.has(S.RATING) and not has_money:
        return N_("rating log"), pl.lit(S.RATE)
    return N_("transaction log"), pl.lit(S.PURCHASE)


EXTRA_ROLES = (S.TITLE, S.CATEGORY, S.BRAND, S.REGION, S.AGE, S.GENDER)


def _select_canonical(
    raw: RawTable, mapping: ColumnMapping, schema: pl.Schema, ts: pl.Expr, etype: pl.Expr
) -> pl.LazyFrame:
    """One row per raw row: canonical columns plus ``__`` helper flags for the report."""

    def role_expr(role: str, parse, empty: pl.DataType) -> pl.Expr:
        c = mapping.column_for(role)
        return (parse(c, schema[c]) if c else pl.lit(None, empty)).alias(role)

    def text(role: str) -> pl.Expr:
        return role_expr(role, string_expr, pl.String)

    def ident(role: str) -> pl.Expr:
        return role_expr(role, id_expr, pl.String)

    def number(role: str) -> pl.Expr:
        return role_expr(role, number_expr, pl.Float64)

    def present(role: str) -> pl.Expr:
        c = mapping.column_for(role)
        return string_expr(c, schema[c]).is_not_null() if c else pl.lit(False)

    columns = schema.names()
    blank = pl.all_horizontal([string_expr(c, schema[c]).is_null() for c in columns])
    has_event = mapping.has(S.EVENT_TYPE)
    return raw.frame.with_row_index("__row").select(
        "__row",
        ident(S.USER_ID),
        ident(S.ITEM_ID),
        etype.alias("__etype"),
        (text(S.EVENT_TYPE) if has_event else pl.lit(None, pl.String)).alias("__raw_event"),
        ts.alias(S.TIMESTAMP),
        present(S.TIMESTAMP).alias("__ts_present"),
        number(S.QUANTITY),
        present(S.QUANTITY).alias("__qty_present"),
        number(S.PRICE),
        number(S.AMOUNT),
        number(S.RATING),
        present(S.RATING).alias("__rating_present"),
        ident(S.ORDER_ID),
        ident(S.SESSION_ID),
        text(S.CHANNEL),
        text(S.DEVICE),
        *[text(r) for r in EXTRA_ROLES],
        blank.alias("__blank"),
        pl.struct(columns).is_first_distinct().alias("__first"),
    )


def _refuse_if_no_timestamp_parsed(
    raw: RawTable, mapping: ColumnMapping, df: pl.DataFrame, sample: pl.DataFrame, described: str
) -> None:
    if df.height and df[S.TIMESTAMP].null_count() == df.height:
        ts_col = mapping.column_for(S.TIMESTAMP)
        found = sample[ts_col].drop_nulls().cast(pl.String).head(3).to_list()
        raise DataValidationError(
            raw.source,
            _(
                "expected timestamps ({described}) but none of the {height} rows could be parsed; found values such as {found}"
            ).format(described=timestamp_text(described), height=df.height, found=found),
            column=ts_col,
        )


def with_money(df: pl.DataFrame, mapping: ColumnMapping) -> pl.DataFrame:
    """Refunds, quantities, signed amounts and unit prices of money events."""
    qty = pl.col(S.QUANTITY)
    is_money = pl.col("__etype").is_in([S.PURCHASE])
    cancel_invoice = (
        pl.col(S.ORDER_ID).str.contains(r"^[cC]\d") if mapping.has(S.ORDER_ID) else pl.lit(False)
    )
    negative_total = (pl.col(S.AMOUNT) < 0) & ~(qty < 0) & ~(pl.col(S.PRICE) < 0)
    refund = is_money & (
        (qty < 0) | cancel_invoice.fill_null(False) | negative_total.fill_null(False)
    )
    df = df.with_columns(
        pl.when(refund).then(pl.lit(S.REFUND)).otherwise(pl.col("__etype")).alias(S.EVENT_TYPE),
        refund.fill_null(False).alias("__refund"),
        (qty.is_null() & pl.col("__etype").is_in(S.MONEY_EVENTS)).alias("__qty_default"),
    )
    money_row = pl.col(S.EVENT_TYPE).is_in(S.MONEY_EVENTS)
    q = qty.abs().round(0).fill_null(pl.when(money_row).then(1.0).otherwise(None))
    sign = pl.when(pl.col(S.EVENT_TYPE) == S.REFUND).then(-1.0).otherwise(1.0)
    unit = pl.col(S.PRICE)
    total = pl.col(S.AMOUNT)
    amount = pl.when(money_row).then(
        pl.when(total.is_not_null()).then(total.abs() * sign).otherwise(unit * q * sign)
    )
    price = (
        pl.when(unit.is_not_null())
        .then(unit)
        .otherwise(pl.when(money_row & (q > 0)).then(total.abs() / q))
    )
    return df.with_columns(
        q.cast(pl.Int64).alias(S.QUANTITY), amount.alias(S.AMOUNT), price.alias(S.PRICE)
    )


def _has_time_of_day(df: pl.DataFrame) -> bool:
    """Whether any timestamp is not at midnight. Identical rows are duplicates only when
    they carry a time of day (or an order id); a log without one is date-only."""
    ts = pl.col(S.TIMESTAMP)
    return bool(df.select((ts != ts.dt.truncate("1d")).any()).item())


DROP_ORDER = (
    BLANK_ROW,
    MISSING_USER,
    MISSING_TIMESTAMP,
    BAD_TIMESTAMP,
    DUPLICATE,
    NEGATIVE_PRICE,
    MISSING_RATING,
)


def drop_reason(kind: str, dedupe: bool) -> pl.Expr:
    """The reason a row is dropped, first match wins so the counts add up; null to keep."""
    is_dup = ~pl.col("__first")
    negative = (pl.col(S.EVENT_TYPE) == S.PURCHASE) & (
        (pl.col(S.PRICE) < 0) | (pl.col(S.AMOUNT) < 0)
    ).fill_null(False)
    return (
        pl.when(pl.col("__blank"))
        .then(pl.lit(BLANK_ROW))
        .when(pl.col(S.USER_ID).is_null())
        .then(pl.lit(MISSING_USER))
        .when(pl.col(S.TIMESTAMP).is_null() & ~pl.col("__ts_present"))
        .then(pl.lit(MISSING_TIMESTAMP))
        .when(pl.col(S.TIMESTAMP).is_null())
        .then(pl.lit(BAD_TIMESTAMP))
        .when(is_dup & pl.lit(dedupe))
        .then(pl.lit(DUPLICATE))
        .when(negative)
        .then(pl.lit(NEGATIVE_PRICE))
        .when(pl.lit(kind == "rating log") & pl.col(S.RATING).is_null())
        .then(pl.lit(MISSING_RATING))
        .otherwise(None)
    )


def _repairs(mapping: ColumnMapping, dedupe: bool) -> list[tuple[str, str, pl.Expr]]:
    """(reason, action, flag) for rows kept but repaired or worth reporting."""
    has_event = mapping.has(S.EVENT_TYPE)
    raw_norm = pl.col("__raw_event").str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
    purchase = pl.col(S.EVENT_TYPE) == S.PURCHASE
    is_dup = ~pl.col("__first")
    return [
        (MISSING_EVENT, "repaired", pl.lit(has_event) & pl.col("__raw_event").is_null()),
        (
            UNKNOWN_EVENT,
            "repaired",
            pl.lit(has_event)
            & pl.col("__raw_event").is_not_null()
            & (pl.col("__etype") == S.OTHER)
            & ~raw_norm.is_in(["other"]),
        ),
        (REFUND, "kept", pl.col("__refund")),
        (QTY_DEFAULT, "repaired", pl.col("__qty_default") & pl.lit(mapping.has(S.QUANTITY))),
        (QTY_ZERO, "kept", purchase & (pl.col(S.QUANTITY) == 0)),
        (
            ZERO_PRICE,
            "kept",
            purchase
            & (pl.col(S.QUANTITY) != 0)
            & ((pl.col(S.AMOUNT) == 0) | (pl.col(S.PRICE) == 0)),
        ),
        (BAD_RATING, "repaired", pl.col("__rating_present") & pl.col(S.RATING).is_null()),
        (POSSIBLE_DUP, "kept", is_dup & pl.lit(not dedupe)),
    ]


def _tally(
    raw: RawTable, df: pl.DataFrame, repairs: list[tuple[str, str, pl.Expr]]
) -> list[ReasonCount]:
    """Count dropped rows per reason and kept rows per repair, with example rows."""
    kept = pl.col("__drop").is_null()
    flags = df.select(
        pl.col("__row"),
        pl.col("__drop"),
        *[(kept & e.fill_null(False)).alias(name) for name, _a, e in repairs],
    )
    count_map = dict(
        flags.group_by("__drop").len().filter(pl.col("__drop").is_not_null()).iter_rows()
    )
    rows_by_reason: dict[str, list[int]] = {}
    tallies: list[tuple[str, str, int]] = []
    for name in DROP_ORDER:
        n = int(count_map.get(name, 0))
        if n:
            tallies.append((name, "dropped", n))
            rows = flags.filter(pl.col("__drop") == name)["__row"]
            rows_by_reason[name] = rows.head(S.EXAMPLES_PER_REASON).to_list()
    repair_sums = flags.select([pl.col(name).sum() for name, _a, _e in repairs]).row(0)
    for (name, action, _e), n in zip(repairs, repair_sums, strict=True):
        if n:
            tallies.append((name, action, int(n)))
            rows = flags.filter(pl.col(name))["__row"]
            rows_by_reason[name] = rows.head(S.EXAMPLES_PER_REASON).to_list()
    examples = example_rows(raw, rows_by_reason, offset=2 if raw.info.has_header else 1)
    return [ReasonCount(n, a, c, examples.get(n, [])) for n, a, c in tallies]


def _closing_notes(
    report: CleaningReport, clean: pl.DataFrame, mapping: ColumnMapping, dedupe: bool
) -> None:
    if mapping.has(S.RATING):
        ratings = clean[S.RATING].drop_nulls()
        if ratings.len():
            report.rating_scale = _rating_scale(float(ratings.min()), float(ratings.max()))
    unused = [c for c, r in mapping.roles.items() if r == S.IGNORE]
    if unused:
        report.notes.append(_("columns not used: {names}").format(names=", ".join(unused)))
    if report.kind != "event log":
        report.notes.append(
            _("no event-type column: read as a rating log (every row a rating)")
            if report.kind == "rating log"
            else _("no event-type column: read as a {kind} (every row a purchase)").format(
                kind=_(report.kind)
            )
        )
    if report.date_only:
        report.notes.append(
            _(
                "the timestamps carry no time of day (a date-only log): hour and part-of-day features, hour heatmaps and the preferred hour are skipped; weekday features stay"
            )
        )
    if not dedupe and report.count(POSSIBLE_DUP):
        report.notes.append(
            _(
                "identical rows were kept: timestamps carry no time of day and there is no order id, so two identical rows can be two real purchases"
            )
        )


def _item_attributes(clean: pl.DataFrame, mapping: ColumnMapping) -> pl.DataFrame | None:
    """One row per item: the most common title, category and brand seen in the log."""
    roles = [r for r in (S.TITLE, S.CATEGORY, S.BRAND) if mapping.has(r)]
    if not roles or not mapping.has(S.ITEM_ID):
        return None
    return (
        clean.filter(pl.col(S.ITEM_ID).is_not_null())
        .group_by(S.ITEM_ID, maintain_order=True)
        .agg([pl.col(r).drop_nulls().mode().sort().first().alias(r) for r in roles])
    )


def _user_attributes(clean: pl.DataFrame, mapping: ColumnMapping) -> pl.DataFrame | None:
    """One row per user: the most common region, age and gender seen in the log."""
    roles = [r for r in (S.REGION, S.AGE, S.GENDER) if mapping.has(r)]
    if not roles:
        return None
    return clean.group_by(S.USER_ID, maintain_order=True).agg(
        [pl.col(r).drop_nulls().mode().sort().first().alias(r) for r in roles]
    )


def _rating_scale(lo: float, hi: float) -> str:
    for top, label in ((1, "0-1"), (5, "1-5"), (10, "1-10"), (100, "0-100")):
        if hi <= top:
            return RATING_SCALE.format(scale=label, low=f"{lo:g}", high=f"{hi:g}")
    return RATING_OBSERVED.format(low=f"{lo:g}", high=f"{hi:g}")


RATING_SCALE = N_("{scale} (observed {low} to {high})")
RATING_OBSERVED = N_("observed {low} to {high}")
"""How a rating scale is stored in the report (English, the report's language); a page shows
it in the reader's language with :func:`rating_scale_text`."""


def rating_scale_text(stored: str) -> str:
    """A report's ``rating_scale`` ("1-5 (observed 1 to 5)") in the current language."""
    m = re.fullmatch(r"(\S+) \(observed (\S+) to (\S+)\)", stored)
    if m:
        return _(RATING_SCALE).format(scale=m[1], low=m[2], high=m[3])
    m = re.fullmatch(r"observed (\S+) to (\S+)", stored)
    if m:
        return _(RATING_OBSERVED).format(low=m[1], high=m[2])
    return stored
