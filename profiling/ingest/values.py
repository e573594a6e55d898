"""Parsing raw values: ids, numbers, event names and attribute bands, as polars expressions.

Timestamps have their own module, :mod:`profiling.ingest.timestamps`."""

from __future__ import annotations

import polars as pl

from profiling import schema as S
from profiling.ingest.source import _MISSING_IDS


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
