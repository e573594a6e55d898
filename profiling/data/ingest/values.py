"""Parsing raw values: ids, numbers, event names and attribute bands, as polars expressions.

Timestamps have their own module, :mod:`profiling.data.ingest.timestamps`."""

from __future__ import annotations

import polars as pl

from profiling.data.ingest.source import MISSING_IDS
from profiling.vocabulary import schema as S


def string_expr(column: str, dtype: pl.DataType) -> pl.Expr:
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


def id_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    expr = string_expr(column, dtype)
    return pl.when(expr.str.to_lowercase().is_in(list(MISSING_IDS))).then(None).otherwise(expr)


def number_expr(column: str, dtype: pl.DataType) -> pl.Expr:
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


def event_type_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    norm = string_expr(column, dtype).str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
    return norm.replace_strict(S.EVENT_SYNONYMS, default=S.OTHER, return_dtype=pl.String)


# ---- attribute values: numbers, bands, categories -----------------------------------------
_BAND_NUM = r"\$?\s*(\d+(?:[.,]\d+)?)\s*([km])?"
_BAND_RANGE = rf"^{_BAND_NUM}\s*(?:-|–|—|to)\s*{_BAND_NUM}$"  # 45-54, 35-49k, $35k - $49k
_BAND_PLUS = rf"^{_BAND_NUM}\s*(?:\+|and (?:over|above|up|older|more)|or (?:more|older|over))$"
_BAND_UNDER = rf"^(?:under|below|less than|fewer than|up to|<=?)\s*{_BAND_NUM}$"
_BAND_OVER = rf"^(?:over|above|more than|greater than|>=?)\s*{_BAND_NUM}$"
_BAND_MIN_SHARE = 0.9
_BAND_MAX_LEVELS = 30


def _band_number(groups: pl.Expr, n: str, k: str, k_fallback: str | None = None) -> pl.Expr:
    """The number of a band bound with its k (thousands) or m (millions) suffix applied."""
    value = groups.struct.field(n).str.replace(",", ".").cast(pl.Float64, strict=False)
    suffix = groups.struct.field(k)
    if k_fallback is not None:  # "35-49k": the suffix of the upper bound applies to both
        suffix = pl.coalesce(suffix, groups.struct.field(k_fallback))
    scale = pl.when(suffix == "k").then(1e3).when(suffix == "m").then(1e6).otherwise(1.0)
    return value * scale


def band_bounds(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(lower bound, upper bound, is a band) of band labels such as ``45-54``, ``65+``,
    ``35-49K``, ``Under 15K`` or ``over 100``; a plain number is its own bounds; an
    open bound is null."""
    s = expr.cast(pl.String).str.strip_chars().str.to_lowercase()
    rng = s.str.extract_groups(_BAND_RANGE)
    plus = s.str.extract_groups(_BAND_PLUS)
    under = s.str.extract_groups(_BAND_UNDER)
    over = s.str.extract_groups(_BAND_OVER)
    plain = s.str.replace_all(r"[\s$,]", "").cast(pl.Float64, strict=False)
    lo = pl.coalesce(
        _band_number(rng, "1", "2", "4"),
        _band_number(plus, "1", "2"),
        _band_number(over, "1", "2"),
        plain,
    )
    hi = pl.coalesce(_band_number(rng, "3", "4", "2"), _band_number(under, "1", "2"), plain)
    # "2019-10" or "10-5" run backwards: not a band
    backwards = (lo > hi).fill_null(False)
    lo = pl.when(backwards).then(None).otherwise(lo)
    hi = pl.when(backwards).then(None).otherwise(hi)
    is_band = plain.is_null() & (lo.is_not_null() | hi.is_not_null())
    return lo, hi, is_band


def band_midpoint(expr: pl.Expr) -> pl.Expr:
    """A number for a band label: the middle of a closed band, the bound of an open top
    band (``65+`` -> 65), half the bound of an open bottom band (``Under 15K`` -> 7,500)."""
    lo, hi, _ = band_bounds(expr)
    return (
        pl.when(lo.is_not_null() & hi.is_not_null())
        .then((lo + hi) / 2)
        .when(lo.is_not_null())
        .then(lo)
        .otherwise(hi / 2)
    )


def attribute_kind(series: pl.Series) -> str:
    """How an attribute column is kept: "date" (native dates), "numeric", "bands"
    (ordered band labels, with a numeric midpoint), "categorical", or "empty"."""
    if series.dtype.is_temporal():
        return "date"
    if series.dtype.is_numeric() or series.dtype == pl.Boolean:
        return "numeric" if series.drop_nulls().len() else "empty"
    frame = pl.DataFrame({"v": series.cast(pl.String)})
    text = string_expr("v", pl.String)
    lo, hi, is_band = band_bounds(text)
    stats = frame.select(
        text.is_not_null().sum().alias("n"),
        number_expr("v", pl.String).is_not_null().sum().alias("numbers"),
        (lo.is_not_null() | hi.is_not_null()).sum().alias("banded"),
        is_band.sum().alias("bands"),
        text.str.contains(r"^0\d").sum().alias("padded"),
        text.n_unique().alias("distinct"),
    ).row(0, named=True)
    n = stats["n"]
    if n == 0:
        return "empty"
    # bands are a few ordered levels; many distinct ranges are codes (phone numbers, SKUs)
    few_levels = stats["distinct"] <= _BAND_MAX_LEVELS
    if stats["bands"] and stats["banded"] >= _BAND_MIN_SHARE * n and few_levels:
        return "bands"
    if stats["numbers"] >= 0.95 * n and stats["padded"] <= 0.5 * n:
        return "numeric"
    return "categorical"
