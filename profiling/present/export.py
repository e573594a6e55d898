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


def escape_header(name: str) -> str:
    """A column name that a spreadsheet would run as a formula (starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return), prefixed with an apostrophe; others as they are.

    Header cells come from uploaded files (a users-file column may be named
    ``=HYPERLINK(...)``), so they are escaped like any text cell, numbers included: a header
    is never read as a number.
    """
    return "'" + name if name.startswith(_DANGEROUS) else name


def to_safe_csv(frame: pl.DataFrame) -> str:
    """CSV text of ``frame`` with formula-like text cells and header cells escaped (see
    :func:`escape_formulas` and :func:`escape_header`); datetimes as ISO 8601."""
    out = escape_formulas(frame)
    header = [escape_header(c) for c in out.columns]
    if len(set(header)) < len(header):  # "=x" and "'=x" both present: keep both, told apart
        header = [
            h if h == c else f"{h} (escaped)" for h, c in zip(header, out.columns, strict=True)
        ]
    return out.rename(dict(zip(out.columns, header, strict=True))).write_csv()


def safe_filename(text: str) -> str:
    """A file-name-safe version of a segment name."""
    return re.sub(r"[^0-9A-Za-z._-]+", "-", text).strip("-").lower() or "segment"
