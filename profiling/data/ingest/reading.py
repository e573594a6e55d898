"""Reading any supported file into a lazy frame of raw columns (:func:`read_table`)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import polars as pl

from profiling.data.ingest import limits as L
from profiling.data.ingest.sniffing import read_text
from profiling.data.ingest.source import (
    SNIFF_BYTES,
    RawTable,
    ReadInfo,
    Source,
    file_digest,
    first_line,
    materialize,
)
from profiling.errors import DataValidationError
from profiling.vocabulary.i18n import gettext as _


def read_table(
    source: Source, *, name: str | None = None, limits: L.Limits | None = None
) -> RawTable:
    """Read a table file lazily, sniffing its format, encoding, delimiter and header.

    Parameters
    ----------
    source : path, bytes or binary file object
        CSV/TSV (any of ``, ; tab |`` or runs of whitespace), Parquet, JSON lines / JSON,
        or Excel ``.xlsx``.
    name : str, optional
        Name shown in messages (defaults to the file name).
    limits : Limits, optional
        The size limits checked before anything is read (default: :meth:`Limits.from_env`).

    Returns
    -------
    RawTable
        Raw columns (strings for text formats, native types otherwise), not yet cleaned.

    Raises
    ------
    DataValidationError
        Empty file, header only, binary junk, a single column, a corrupt or encrypted
        workbook, a truncated Parquet file; a file over one of the size limits (checked
        from metadata or while streaming, before the table is read).
    """
    limits = limits or L.Limits.from_env()
    path, name = materialize(source, name, max_bytes=limits.bytes)
    if not os.path.exists(path):
        raise DataValidationError(name, _("file not found"))
    size = os.path.getsize(path)
    if size == 0:
        raise DataValidationError(name, _("the file is empty (0 bytes); expected a table"))
    L.check(name, "bytes", size, limits)
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    ext = Path(name).suffix.lower()
    digest = file_digest(path)

    if head.startswith(b"PAR1") or ext in (".parquet", ".pq"):
        frame, info = _read_parquet(path, name, head, limits)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataValidationError(
            name,
            _(
                "this is a password-protected (encrypted) workbook or a legacy .xls file; expected an unprotected .xlsx, CSV or Parquet file. Remove the password or save it as .xlsx / CSV and upload it again"
            ),
        )
    elif head.startswith(b"PK\x03\x04") or ext in (".xlsx", ".xlsm", ".xls"):
        frame, info = _read_excel(path, name, head, limits)
    elif ext in (".jsonl", ".ndjson", ".json") or head.lstrip()[:1] in (b"{", b"["):
        if head.lstrip()[:1] != b"[":  # JSON lines: a row per line
            L.check_lines(path, name, limits)
        frame, info = _read_json(path, name, head, ext)
    else:
        L.check_lines(path, name, limits)
        frame, info = read_text(path, name, head, size)

    columns = frame.collect_schema().names()
    L.check(name, "columns", len(columns), limits)
    info.columns = columns
    first = frame.head(1).collect()
    if first.height == 0:
        if info.has_header:
            raise DataValidationError(
                name,
                _("the file has a header ({names}) but no data rows").format(
                    names=", ".join(columns[:8])
                ),
            )
        raise DataValidationError(name, _("the file has no data rows"))
    return RawTable(frame=frame, info=info, digest=digest, path=path)


def _read_parquet(
    path: str, name: str, head: bytes, limits: L.Limits
) -> tuple[pl.LazyFrame, ReadInfo]:
    with open(path, "rb") as fh:
        fh.seek(-4, os.SEEK_END)
        tail = fh.read(4)
    if not head.startswith(b"PAR1") or tail != b"PAR1":
        raise DataValidationError(
            name,
            _(
                "expected a Parquet file (starting and ending with the 'PAR1' marker) but the file is truncated or not Parquet; export it again"
            ),
        )
    L.check_parquet(path, name, limits)
    try:
        frame = pl.scan_parquet(path)
        frame.collect_schema()
        frame.head(1).collect()
    except Exception as exc:  # polars raises several kinds for a damaged footer
        raise DataValidationError(
            name,
            _("the Parquet file is corrupt or truncated ({first_line})").format(
                first_line=first_line(exc)
            ),
        ) from exc
    return frame, ReadInfo(source=name, format="Parquet")


def _read_excel(
    path: str, name: str, head: bytes, limits: L.Limits
) -> tuple[pl.LazyFrame, ReadInfo]:
    if not head.startswith(b"PK\x03\x04"):
        raise DataValidationError(
            name, _("expected an Excel .xlsx workbook (a zip archive) but found something else")
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise DataValidationError(
            name, _("the workbook is corrupt or truncated (not a readable .xlsx zip archive)")
        ) from exc
    if not any(n.startswith("xl/") for n in names):
        raise DataValidationError(
            name, _("expected an Excel .xlsx workbook but the zip archive holds no worksheet")
        )
    L.check_workbook(path, name, limits)
    try:
        df = pl.read_excel(path, sheet_id=1, engine="calamine")
    except Exception as exc:
        raise DataValidationError(
            name,
            _("the workbook could not be read ({first_line})").format(first_line=first_line(exc)),
        ) from exc
    info = ReadInfo(source=name, format="Excel")
    info.notes.append(_("read the first worksheet"))
    return df.lazy(), info


def _read_json(path: str, name: str, head: bytes, ext: str) -> tuple[pl.LazyFrame, ReadInfo]:
    stripped = head.lstrip()
    try:
        if stripped[:1] == b"[":
            frame = pl.read_json(path).lazy()
            fmt = "JSON"
        else:
            frame = pl.scan_ndjson(path, infer_schema_length=10_000)
            frame.head(1).collect()
            fmt = "JSON lines"
    except Exception as exc:
        raise DataValidationError(
            name,
            _(
                "expected JSON lines (one JSON object per line) or a JSON array of objects, but the file could not be parsed ({first_line})"
            ).format(first_line=first_line(exc)),
        ) from exc
    return frame, ReadInfo(source=name, format=fmt, encoding="UTF-8")
