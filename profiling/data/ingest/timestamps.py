"""Timestamps: native date-times, epoch numbers, Excel serial dates and date-time strings in
many formats, parsed with vectorized polars expressions and converted to UTC.

Strings are tried against a list of formats as written, and against the same text brought to a
canonical shape (Chinese dates, weekday and month names, ``T`` separators, slash and dot
separators, decimal commas in seconds, am/pm, and a trailing zone name or offset split off and
applied). A column mixing formats is parsed per row by coalescing the few formats that together
parse the sample; rows that still fail are counted by the cleaning report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from profiling.vocabulary.i18n import N_, template_pattern
from profiling.vocabulary.i18n import gettext as _

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

# Formats tried on the canonical text (see :func:`_canonical_text`): date part, then time part.
_CANON_DATES: tuple[tuple[str, str, str], ...] = (
    ("%Y-%m-%d", N_("year-month-day"), ""),
    ("%d-%m-%Y", "day-month-year", " (day first)"),
    ("%m-%d-%Y", "month-day-year", " (month first)"),
    ("%d-%m-%y", N_("day-month-yy"), " (day first)"),
    ("%m-%d-%y", N_("month-day-yy"), " (month first)"),
    ("%d %b %Y", "day Mon year", ""),
    ("%b %d %Y", "Mon day year", ""),
    ("%Y %b %d", N_("year Mon day"), ""),
)

# A text format's name is stored in English (the cleaning report, a mapping reason) and said
# in the reader's language by :func:`timestamp_text`, piece by piece: the date words, then a
# time of day, the day/month order and what the sample showed, each a template around it.
_DATE_WORDS = (
    N_("ISO 8601 with time zone"),
    N_("ISO 8601"),
    N_("ISO date-time with time zone"),
    N_("ISO date-time"),
    N_("ISO date-time (minutes)"),
    N_("ISO date"),
    N_("year/month/day"),
    N_("day/month/year"),
    N_("month/day/year"),
    N_("day/month/yy"),
    N_("month/day/yy"),
    N_("day.month.year"),
    N_("day-month-year"),
    N_("month-day-year"),
    N_("day-Mon-year"),
    N_("day Mon year"),
    N_("Mon day year"),
    N_("YYYYMMDDhhmmss"),
    N_("YYYYMMDD"),
)
WITH_TIME = N_("{date} time")
WITH_TIME_AM_PM = N_("{date} time am/pm")
DAY_FIRST = N_("{format} (day first)")
MONTH_FIRST = N_("{format} (month first)")
OTHER_FORMATS = N_("{format} and other formats")
ORDER_ASSUMED = N_("{format}; every sampled day is 12 or less, so the day/month order is assumed")
ZONES_SEEN = N_("{format}; time zones seen ({zones}), all converted to UTC")
NATIVE_IN_ZONE = N_("native date-times in {zone}, converted to UTC")
# outermost first: how a description is built (see :func:`_string_timestamp`), undone
_SHAPES = (
    ZONES_SEEN,
    ORDER_ASSUMED,
    OTHER_FORMATS,
    DAY_FIRST,
    MONTH_FIRST,
    WITH_TIME_AM_PM,
    WITH_TIME,
    NATIVE_IN_ZONE,
)
_NESTED = ("format", "date")  # the fields that hold a format's name (said in turn)


_SHAPE_PATTERNS = tuple((template, template_pattern(template)) for template in _SHAPES)


def timestamp_text(stored: str) -> str:
    """How a timestamp column was read (:attr:`TimestampParse.description`, stored in English
    with the cleaning report and the mapping's reasons) in the reader's language:
    "day/month/year time (day first) and other formats" reads "日/月/年 时间（日在前）及其他格式"
    in Chinese; zone names stay as found. A name in another shape is returned as stored."""
    if not stored:
        return stored
    for template, pattern in _SHAPE_PATTERNS:
        found = pattern.fullmatch(stored)
        if found:
            fields = {
                k: timestamp_text(v) if k in _NESTED else v for k, v in found.groupdict().items()
            }
            return _(template).format(**fields)
    return _(stored)


_CANON_TIMES: tuple[tuple[str, str], ...] = (
    ("", ""),
    (" %H:%M:%S%.f", " time"),
    (" %H:%M", " time"),
    (" %I:%M:%S%.f %p", " time am/pm"),
    (" %I:%M %p", " time am/pm"),
)
_ZONE_NAMES = r"z|utc|gmt|ut"
# a zone name with an optional offset ("UTC", "Z", "GMT+8"), or an offset ("+08:00", "+0800")
_ZONE_SUFFIX = (
    rf"(?i)(?:\d|[ap]\.?m\.?)\s*((?:{_ZONE_NAMES})(?:\s*[+-]\d{{1,2}}(?::?\d{{2}})?)?"
    r"|[+-]\d{1,2}(?::?\d{2})?)$"
)
_SAMPLE_VALUES = 1000

FORMAT_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [label for _fmt, label in _DATETIME_FORMATS]
        + [d + t + tag for _d, d, tag in _CANON_DATES for _t, t in _CANON_TIMES]
    )
)
"""The name of every text format a column can be read in (before "and other formats" and
the rest are added): each reads in every language through :func:`timestamp_text`."""


def _day_order(label: str) -> str | None:
    return next((tag for tag in _TWIN if label.endswith(tag)), None)


@dataclass
class TimestampParse:
    """How a timestamp column is parsed: the expression and a readable description.

    ``zones`` lists the zone names or offsets seen in the sample (converted to UTC).
    """

    expr: pl.Expr
    description: str
    ambiguous: bool = False
    zones: list[str] = field(default_factory=list)


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
            return TimestampParse(_utc(parsed), N_("YYYYMMDD integers"))
    if integral and lo >= 19000101000000 and hi <= 21001231235959:
        parsed = (
            as_float.cast(pl.Int64)
            .cast(pl.String)
            .str.to_datetime("%Y%m%d%H%M%S", strict=False, time_zone="UTC")
        )
        return TimestampParse(_utc(parsed), N_("YYYYMMDDhhmmss integers"))
    for unit, low, high, label in (
        ("s", 1e8, 1e10, N_("epoch seconds")),
        ("ms", 1e11, 1e13, N_("epoch milliseconds")),
        ("us", 1e14, 1e16, N_("epoch microseconds")),
        ("ns", 1e17, 1e19, N_("epoch nanoseconds")),
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
        return TimestampParse(parsed, N_("Excel serial dates"))
    return None


def parse_timestamp(
    column: str, dtype: pl.DataType, sample: pl.Series, *, excel: bool = False
) -> TimestampParse | None:
    """Choose how to parse a timestamp column from its dtype and a sample of its values.

    Handles native datetimes (any zone, converted to UTC) and dates; strings in ISO and
    other common shapes: zone names and offsets (``UTC``, ``Z``, ``GMT``, ``+08:00``,
    ``+0000``), ``T`` separators, fractional seconds, slash, dash and dot separators, month
    and weekday names, am/pm, Chinese dates (``2019年10月1日 08:00``); day-first and
    month-first dates (whichever parses more of the sample; month-first when the sample
    cannot tell, which is reported as ambiguous); YYYYMMDD integers or strings, epoch
    seconds / milliseconds / microseconds / nanoseconds, and Excel serial dates from Excel
    files. A column mixing formats is parsed row by row by the formats that together cover
    the sample. Naive times are taken as UTC. Returns None when nothing parses.
    """
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return TimestampParse(_utc(col.dt.replace_time_zone("UTC")), N_("native date-times"))
        zone = dtype.time_zone
        described = N_("native date-times") if zone == "UTC" else NATIVE_IN_ZONE.format(zone=zone)
        zones = [] if zone == "UTC" else [zone]
        return TimestampParse(_utc(col.dt.convert_time_zone("UTC")), described, zones=zones)
    if dtype == pl.Date:
        return TimestampParse(
            _utc(col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")), N_("dates")
        )
    if dtype.is_numeric():
        return _numeric_timestamp(col, sample, excel)
    if dtype != pl.String:
        return None
    return _string_timestamp(column, sample)


def _string_timestamp(column: str, sample: pl.Series) -> TimestampParse | None:
    values = sample.cast(pl.String).str.strip_chars().drop_nulls()
    values = values.filter(values.str.len_chars() > 0).unique(maintain_order=True)
    values = values.head(_SAMPLE_VALUES)
    if values.len() == 0:
        return None
    stripped = pl.col(column).str.strip_chars()
    if values.str.contains(r"^-?\d+(\.\d+)?$").all():
        parsed = _numeric_timestamp(stripped, values, excel=False)
        if parsed is not None:
            return parsed
    frame = pl.DataFrame({column: values})
    body, canon, offset = _zone_parts(stripped)
    # the canonical text is computed once on the sample, then every format reads it
    parts = frame.with_columns(
        body.alias("__body"), canon.alias("__canon"), offset.alias("__offset")
    )
    probes = _candidates(stripped, pl.col("__body"), pl.col("__canon"), pl.col("__offset"))
    hits = parts.select(
        [expr.is_not_null().alias(str(i)) for i, (expr, _label) in enumerate(probes)]
    )
    candidates = _candidates(stripped, body, canon, offset)
    scores = [(int(hits[str(i)].sum()), i) for i in range(len(candidates))]
    scores = [(ok, i) for ok, i in scores if ok]
    if not scores:
        return None
    scores.sort(key=lambda t: -t[0])  # stable: formats as written come first on ties
    scores, twins = _drop_day_first_twins(scores, candidates, hits)
    best = scores[0][1]
    best, ambiguous = _settle_day_order(best, scores, candidates)
    ambiguous = ambiguous or twins
    used = _cover(best, scores, candidates, hits)
    description = candidates[best][1]
    if len(used) > 1:
        description = OTHER_FORMATS.format(format=description)
    if ambiguous:
        description = ORDER_ASSUMED.format(format=description)
    zones = _zones_seen(frame, column)
    if zones:
        description = ZONES_SEEN.format(format=description, zones=", ".join(zones))
    expr = pl.coalesce([candidates[i][0] for i in used])
    return TimestampParse(_utc(expr), description, ambiguous, zones)


def _candidates(
    text: pl.Expr, body: pl.Expr, canon: pl.Expr, offset_minutes: pl.Expr
) -> list[tuple[pl.Expr, str]]:
    """(parsed expression, label) for every format: on the text as written; on the text
    without its zone suffix, the offset applied; then on its canonical form. Cheaper
    readings come first, so that they win ties and the costly canonical text is only
    computed on a whole column that needs it."""
    out = [
        (text.str.to_datetime(fmt, strict=False, time_zone="UTC", time_unit="us"), label)
        for fmt, label in _DATETIME_FORMATS
    ]

    def shifted(naive: pl.Expr) -> pl.Expr:
        return (naive - pl.duration(minutes=offset_minutes)).dt.replace_time_zone("UTC")

    for fmt, label in _DATETIME_FORMATS:
        if "%#z" not in fmt:
            out.append((shifted(body.str.to_datetime(fmt, strict=False, time_unit="us")), label))
    for dfmt, dlabel, tag in _CANON_DATES:
        for tfmt, tlabel in _CANON_TIMES:
            naive = canon.str.to_datetime(dfmt + tfmt, strict=False, time_unit="us")
            out.append((shifted(naive), dlabel + tlabel + tag))
    return out


def _zone_parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(text without its zone, its canonical form, the zone's offset from UTC in minutes)."""
    body, offset = _split_zone(text)
    return body, _canonical_text(body), offset


def _settle_day_order(
    best: int, scores: list[tuple[int, int]], candidates: list[tuple[pl.Expr, str]]
) -> tuple[int, bool]:
    """When the day-first and month-first readings parse equally many, take month first."""
    best_ok = scores[0][0]
    label = candidates[best][1]
    order = _day_order(label)
    if order is None:
        return best, False
    twin = _TWIN[order]
    twin_idx = next(
        (i for ok, i in scores if ok == best_ok and candidates[i][1].endswith(twin)), None
    )
    if twin_idx is None:
        return best, False
    return (twin_idx if order == "(day first)" else best), True


def _drop_day_first_twins(
    scores: list[tuple[int, int]], candidates: list[tuple[pl.Expr, str]], hits: pl.DataFrame
) -> tuple[list[tuple[int, int]], bool]:
    """Drop each day-first format that reads exactly the same sample values as a
    month-first one: the sample cannot tell them apart, and month first is assumed."""
    month_first = [i for _ok, i in scores if _day_order(candidates[i][1]) == "(month first)"]
    dropped = set()
    for _ok, i in scores:
        if _day_order(candidates[i][1]) != "(day first)":
            continue
        if any(hits[str(i)].equals(hits[str(j)]) for j in month_first):
            dropped.add(i)
    return [(ok, i) for ok, i in scores if i not in dropped], bool(dropped)


def _cover(
    best: int,
    scores: list[tuple[int, int]],
    candidates: list[tuple[pl.Expr, str]],
    hits: pl.DataFrame,
) -> list[int]:
    """The best format, then each further format that parses sample values none before did,
    never mixing day-first and month-first readings."""
    used = [best]
    parsed = hits[str(best)]
    order = _day_order(candidates[best][1])
    for _ok, i in scores:
        if parsed.all():
            break
        other = _day_order(candidates[i][1])
        if i in used or (order and other and other != order):
            continue
        new = hits[str(i)] & ~parsed
        if new.any():
            used.append(i)
            parsed = parsed | hits[str(i)]
    return used


def _zone_suffix(text: pl.Expr) -> pl.Expr:
    """The zone name and/or offset ending the text ("UTC", "Z", "+08:00", "GMT+8"), null
    when there is none. An offset counts only after a time of day, so that the "-01" ending
    "2019-10-01" is not read as one."""
    suffix = text.str.extract(_ZONE_SUFFIX, 1)
    named = suffix.str.contains(r"(?i)^\s*(?:z|utc|gmt|ut)")
    return pl.when(named | text.str.contains(r"\d:\d\d")).then(suffix)


def _split_zone(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(text without its trailing zone, the zone's offset from UTC in minutes)."""
    zone = _zone_suffix(text)
    cut = text.str.len_chars() - zone.str.len_chars().fill_null(0)
    body = text.str.slice(0, cut).str.strip_chars_end()
    parts = zone.str.extract_groups(r"[+-](\d{1,2}):?(\d{2})?")
    hours = parts.struct.field("1").cast(pl.Int64, strict=False).fill_null(0)
    minutes = parts.struct.field("2").cast(pl.Int64, strict=False).fill_null(0)
    sign = pl.when(zone.str.contains("-")).then(-1).otherwise(1)
    return body, sign * (hours * 60 + minutes)


def _zones_seen(frame: pl.DataFrame, column: str) -> list[str]:
    """Distinct zone names / offsets at the end of the sampled values (at most five)."""
    zone = _zone_suffix(pl.col(column).str.strip_chars()).str.strip_chars()
    found = frame.select(zone.alias("z"))["z"].drop_nulls()
    found = found.filter(found.str.len_chars() > 0).unique(maintain_order=True)
    return found.head(5).to_list()


_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    # Chinese dates and times: 2019年10月1日 8时30分15秒, 下午3点
    (r"(\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?", "${1}-${2}-${3} "),
    (r"(\d{1,2})\s*[时時点點]\s*(\d{1,2})\s*分\s*(\d{1,2})\s*秒", "${1}:${2}:${3}"),
    (r"(\d{1,2})\s*[时時点點]\s*(\d{1,2})\s*分?", "${1}:${2}"),
    (r"(\d{1,2})\s*[时時点點]", "${1}:00"),
    (r"上午\s*(\d{1,2}:\d{2}(?::\d{2})?)", "${1} am"),
    (r"下午\s*(\d{1,2}:\d{2}(?::\d{2})?)", "${1} pm"),
    # "Tue, 01 Oct 2019": weekday names say nothing the date does not
    (r"(?i)^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", ""),
    (r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?", "${1}"),
    (r"(:\d\d),(\d+)", "${1}.${2}"),  # decimal comma in seconds
    (r",", " "),
    (r"(\d)[Tt](\d)", "${1} ${2}"),
    (r"^(\d{1,2}[-/. ][A-Za-z]{3}[-/. ]\d{4}):(\d)", "${1} ${2}"),  # 10/Oct/2000:13:55:36
    (r"(?i)(\d)[-/. ]+([a-z]{3})[-/. ]+(\d)", "${1} ${2} ${3}"),
    (r"(?i)^([a-z]{3})[-/. ]+(\d)", "${1} ${2}"),
    (r"^(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})", "${1}-${2}-${3}"),
    (r"^(\d{1,2})\s+(\d{1,2})\s+(\d{4})", "${1}-${2}-${3}"),  # "01 1, 2014" (commas gone)
    (r"(?i)\s*([ap])\.?m\.?$", " ${1}m"),
    (r"\s+", " "),
)


def _canonical_text(text: pl.Expr) -> pl.Expr:
    """Bring a date-time string to a shape a short list of formats can read."""
    for pattern, replacement in _REPLACEMENTS:
        text = text.str.replace_all(pattern, replacement)
    return text.str.strip_chars()
