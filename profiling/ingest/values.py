"""Parsing raw values: timestamps, ids, numbers and event names, as polars expressions."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from profiling import schema as S
from profiling.ingest.source import _MISSING_IDS

_DATETIME_FORMATS: tuple[tuple[str, str], ...] = (
    ("%Y-%m-%dT%H:%M:%S%.f%#z", "ISO 8601 with time zone"),
    ("%Y-%m-%dT%H:%M:%S%.f", "ISO 8601"),
    ("%Y-%m-%d %H:%M:%S%.f%#z", "ISO date-time with time zone"),
    ("%Y-%m-%d %H:%M:%S%.f", "ISO date-time"),
    ("%Y-%m-%d %H:%M", "ISO date-time (minutes)"),
    ("%Y-%m-%dT%H:%M", "ISO date-time (minutes)"),
    ("%Y-%m-%d", "ISO date"),
    ("%Y/%m/%d %H:%M:%S", "year/month/day time"),
    ("%Y/%m/%d %H:%M", "year/month/day time"),
    ("%Y/%m/%d", "year/month/day"),
    ("%d/%m/%Y %H:%M:%S", "day/month/year time (day first)"),
    ("%m/%d/%Y %H:%M:%S", "month/day/year time (month first)"),
    ("%d/%m/%Y %H:%M", "day/month/year time (day first)"),
    ("%m/%d/%Y %H:%M", "month/day/year time (month first)"),
    ("%d/%m/%Y", "day/month/year (day first)"),
    ("%m/%d/%Y", "month/day/year (month first)"),
    ("%d/%m/%y %H:%M", "day/month/yy time (day first)"),
    ("%m/%d/%y %H:%M", "month/day/yy time (month first)"),
    ("%d/%m/%y", "day/month/yy (day first)"),
    ("%m/%d/%y", "month/day/yy (month first)"),
    ("%d.%m.%Y %H:%M:%S", "day.month.year time"),
    ("%d.%m.%Y %H:%M", "day.month.year time"),
    ("%d.%m.%Y", "day.month.year"),
    ("%d-%m-%Y %H:%M:%S", "day-month-year time (day first)"),
    ("%m-%d-%Y %H:%M:%S", "month-day-year time (month first)"),
    ("%d-%m-%Y %H:%M", "day-month-year time (day first)"),
    ("%m-%d-%Y %H:%M", "month-day-year time (month first)"),
    ("%d-%m-%Y", "day-month-year (day first)"),
    ("%m-%d-%Y", "month-day-year (month first)"),
    ("%d-%b-%Y %H:%M", "day-Mon-year time"),
    ("%d-%b-%Y", "day-Mon-year"),
    ("%d %b %Y", "day Mon year"),
    ("%b %d %Y", "Mon day year"),
    ("%Y%m%d%H%M%S", "YYYYMMDDhhmmss"),
    ("%Y%m%d", "YYYYMMDD"),
)

_TWIN = {"(day first)": "(month first)", "(month first)": "(day first)"}


def _day_order(label: str) -> str | None:
    return next((tag for tag in _TWIN if label.endswith(tag)), None)


@dataclass
class TimestampParse:
    """How a timestamp column is parsed: the expression and a readable description."""

    expr: pl.Expr
    description: str
    ambiguous: bool = False


def _utc(expr: pl.Expr) -> pl.Expr:
    return expr.dt.cast_time_unit("us")


def _numeric_timestamp(expr: pl.Expr, values: pl.Series, excel: bool) -> TimestampParse | None:
    vals = values.cast(pl.Float64, strict=False).drop_nulls()
    if vals.len() == 0:
        return None
    integral = bool(((vals - vals.round()).abs() < 1e-9).all())
    lo, hi, med = float(vals.min()), float(vals.max()), float(vals.median())
    as_float = expr.cast(pl.Float64, strict=False)
    if integral and lo >= 19000101 and hi <= 21001231:
        ymd = as_float.cast(pl.Int64).cast(pl.String)
        parsed = ymd.str.to_datetime("%Y%m%d", strict=False, time_zone="UTC")
        probe = vals.cast(pl.Int64).cast(pl.String).str.to_datetime("%Y%m%d", strict=False)
        if probe.null_count() < 0.1 * vals.len():
            return TimestampParse(_utc(parsed), "YYYYMMDD integers")
    if integral and lo >= 19000101000000 and hi <= 21001231235959:
        parsed = (
            as_float.cast(pl.Int64)
            .cast(pl.String)
            .str.to_datetime("%Y%m%d%H%M%S", strict=False, time_zone="UTC")
        )
        return TimestampParse(_utc(parsed), "YYYYMMDDhhmmss integers")
    for unit, low, high, label in (
        ("s", 1e8, 1e10, "epoch seconds"),
        ("ms", 1e11, 1e13, "epoch milliseconds"),
        ("us", 1e14, 1e16, "epoch microseconds"),
        ("ns", 1e17, 1e19, "epoch nanoseconds"),
    ):
        if low <= med < high and lo > 0:
            scale = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 0.001}[unit]
            micros = (as_float * scale).round(0).cast(pl.Int64, strict=False)
            parsed = micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
            return TimestampParse(parsed, label)
    if excel and lo >= 1 and hi < 110_000:
        micros = (as_float * 86_400_000_000).round(0).cast(pl.Int64, strict=False)
        parsed = (
            (pl.lit(0).cast(pl.Datetime("us")) + pl.duration(microseconds=micros))
            .dt.offset_by("-25569d")
            .dt.replace_time_zone("UTC")
        )
        return TimestampParse(parsed, "Excel serial dates")
    return None


def parse_timestamp(
    column: str, dtype: pl.DataType, sample: pl.Series, *, excel: bool = False
) -> TimestampParse | None:
    """Choose how to parse a timestamp column from its dtype and a sample of its values.

    Handles native datetimes and dates, ISO strings with or without a time zone, day-first
    and month-first dates (whichever parses more of the sample; month-first when the sample
    cannot tell, which is reported as ambiguous), YYYYMMDD integers or strings, epoch
    seconds / milliseconds / microseconds / nanoseconds, and Excel serial dates from Excel
    files. Naive times are taken as UTC. Returns None when nothing parses.
    """
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        expr = (
            col.dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else col.dt.convert_time_zone("UTC")
        )
        return TimestampParse(_utc(expr), "native date-times")
    if dtype == pl.Date:
        return TimestampParse(
            _utc(col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")), "dates"
        )
    if dtype.is_numeric():
        return _numeric_timestamp(col, sample, excel)
    if dtype != pl.String:
        return None
    values = sample.cast(pl.String).str.strip_chars().drop_nulls()
    values = values.filter(values.str.len_chars() > 0).unique(maintain_order=True).head(1000)
    if values.len() == 0:
        return None
    stripped = col.str.strip_chars()
    if values.str.contains(r"^-?\d+(\.\d+)?$").all():
        parsed = _numeric_timestamp(stripped, values, excel=False)
        if parsed is not None:
            return parsed
    scores = []
    for fmt, label in _DATETIME_FORMATS:
        ok = values.str.to_datetime(fmt, strict=False, time_zone="UTC").drop_nulls().len()
        if ok:
            scores.append((ok, fmt, label))
    # polars' own ISO inference catches variants (e.g. fractional seconds without zone)
    if not scores:
        return None
    scores.sort(key=lambda t: -t[0])
    best_ok, best_fmt, best_label = scores[0]
    ambiguous = False
    for tag, twin in _TWIN.items():
        if best_label.endswith(tag):
            twin_fmt = next(
                (f for ok, f, lab in scores if lab.endswith(twin) and ok == best_ok), None
            )
            if twin_fmt is not None:
                ambiguous = True
                if tag == "(day first)":  # the sample cannot tell: prefer month first
                    best_fmt, best_label = twin_fmt, best_label.replace(tag, twin)
    used = [best_fmt]
    if best_ok < values.len():
        best_order = _day_order(best_label)
        for _ok, fmt, label in scores[1:]:
            order = _day_order(label)
            if best_order and order and order != best_order:
                continue  # never mix day-first and month-first readings
            used.append(fmt)
    parsed = pl.coalesce([stripped.str.to_datetime(f, strict=False, time_zone="UTC") for f in used])
    description = best_label + (" and other formats" if len(used) > 1 else "")
    if ambiguous:
        description += "; every sampled day is 12 or less, so the day/month order is assumed"
    return TimestampParse(_utc(parsed), description, ambiguous)


def _string_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """Cast to string, strip, and turn empty strings into nulls."""
    col = pl.col(column)
    if dtype.is_float():
        # 13085.0 -> "13085": integral floats are ids exported through a float column
        as_int = col.cast(pl.Int64, strict=False)
        expr = (
            pl.when(col == col.round()).then(as_int.cast(pl.String)).otherwise(col.cast(pl.String))
        )
    else:
        expr = col.cast(pl.String)
    expr = expr.str.strip_chars()
    return pl.when(expr.str.len_chars() > 0).then(expr).otherwise(None)


def _id_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    expr = _string_expr(column, dtype)
    return pl.when(expr.str.to_lowercase().is_in(list(_MISSING_IDS))).then(None).otherwise(expr)


def _number_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """Parse numbers, accepting currency signs, thousands separators and decimal commas."""
    col = pl.col(column)
    if dtype.is_numeric():
        return col.cast(pl.Float64)
    if dtype == pl.Boolean:
        return col.cast(pl.Float64)
    s = col.cast(pl.String).str.strip_chars().str.replace_all(r"[\s$€£¥₹\u00a0']", "")
    negative_parens = s.str.starts_with("(") & s.str.ends_with(")")
    s = s.str.strip_chars("()")
    # "1.234,50" and "12,5" are decimal-comma numbers; "1,234.50" has a thousands comma
    decimal_comma = s.str.contains(r"^[-+]?\d{1,3}(\.\d{3})*,\d+$") | s.str.contains(
        r"^[-+]?\d+,\d{1,2}$"
    )
    s = (
        pl.when(decimal_comma)
        .then(s.str.replace_all(r"\.", "").str.replace(",", "."))
        .otherwise(s.str.replace_all(",", ""))
    )
    value = s.cast(pl.Float64, strict=False)
    return pl.when(negative_parens).then(-value).otherwise(value)


def _event_type_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    norm = _string_expr(column, dtype).str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
    return norm.replace_strict(S.EVENT_SYNONYMS, default=S.OTHER, return_dtype=pl.String)
