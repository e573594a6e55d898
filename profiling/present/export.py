"""Exports: CSV that is safe to open in a spreadsheet (no formula injection)."""

from __future__ import annotations

import re

import polars as pl

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe.

    Cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are escaped;
    a plain number written as text ("-12.5") is left as it is, and numeric columns are never
    touched. Every text-like column is checked: String, Categorical and Enum (as their
    labels), List and Array (elements as text joined with "; ") and Struct (as JSON text).
    """
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List | pl.Array):
            if isinstance(dtype, pl.Array):
                col = col.arr.to_list()
            col = col.list.eval(pl.element().cast(pl.String)).list.join("; ")
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            col = col.cast(pl.String)
        elif isinstance(dtype, pl.Struct):
            col = col.struct.json_encode()
        elif dtype != pl.String:
            exprs.append(col)
            continue
        risky = col.str.starts_with(_DANGEROUS[0])
        for ch in _DANGEROUS[1:]:
            risky = risky | col.str.starts_with(ch)
        risky = risky & ~col.str.contains(_PLAIN_NUMBER)
        exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.select(exprs)


def to_safe_csv(frame: pl.DataFrame) -> str:
    """CSV text of ``frame`` with formula-like text cells escaped (see
    :func:`escape_formulas`); datetimes as ISO 8601."""
    return escape_formulas(frame).write_csv()


def safe_filename(text: str) -> str:
    """A file-name-safe version of a segment name."""
    return re.sub(r"[^0-9A-Za-z._-]+", "-", text).strip("-").lower() or "segment"
