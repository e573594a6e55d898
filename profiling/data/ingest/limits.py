"""Size limits checked before a file is read: bytes, decompressed bytes, rows, columns, cells.

Every check looks at metadata or streams the file in fixed-size chunks, so a file that is
refused costs a few megabytes of memory whatever it would expand to: a Parquet file's footer
(row count, columns, uncompressed size), a workbook's zip directory (declared member sizes)
and its sheet XML (the ``<dimension ref=...>`` and a streaming count of rows and cells), a
streaming line count for text files. A file over a limit raises
:class:`~profiling.errors.DataValidationError` naming the file, the limit and the figure
found.

The limits come from environment variables (see :data:`ENV`), with the defaults in
:data:`DEFAULTS`; a value that is not a positive whole number is refused (fail closed: a
limit that cannot be read does not become "no limit").
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass

from profiling.errors import DataValidationError, ProfilingError
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

GB = 1024**3
CHUNK = 4 * 1024 * 1024

ENV = {
    "bytes": "PERSONA_STUDIO_MAX_FILE_BYTES",
    "decompressed_bytes": "PERSONA_STUDIO_MAX_DECOMPRESSED_BYTES",
    "rows": "PERSONA_STUDIO_MAX_ROWS",
    "columns": "PERSONA_STUDIO_MAX_COLUMNS",
    "cells": "PERSONA_STUDIO_MAX_SPREADSHEET_CELLS",
}
DEFAULTS = {
    "bytes": 2 * GB,
    "decompressed_bytes": 4 * GB,
    "rows": 50_000_000,
    "columns": 500,
    "cells": 10_000_000,
}
_WORDS = {
    "bytes": N_("file size"),
    "decompressed_bytes": N_("decompressed size"),
    "rows": N_("rows"),
    "columns": N_("columns"),
    "cells": N_("spreadsheet cells"),
}
_UNITS = {"rows": N_("{n} rows"), "columns": N_("{n} columns"), "cells": N_("{n} cells")}


@dataclass(frozen=True)
class Limits:
    """The largest file this process reads: bytes on disk, bytes once decompressed (Parquet
    pages, workbook XML), rows (lines of a text file), columns, and cells of a worksheet."""

    bytes: int = DEFAULTS["bytes"]
    decompressed_bytes: int = DEFAULTS["decompressed_bytes"]
    rows: int = DEFAULTS["rows"]
    columns: int = DEFAULTS["columns"]
    cells: int = DEFAULTS["cells"]

    @classmethod
    def from_env(cls) -> Limits:
        """The limits set by the environment (:data:`ENV`), defaults elsewhere.

        Raises ProfilingError when a variable is set to anything but a positive whole number.
        """
        values = {}
        for field_name, var in ENV.items():
            raw = os.environ.get(var, "").strip().replace("_", "")
            if not raw:
                continue
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if value <= 0:
                raise ProfilingError(
                    _(
                        "{var}: expected a positive whole number ({limit} limit), found {value!r}"
                    ).format(var=var, limit=_(_WORDS[field_name]), value=os.environ[var])
                )
            values[field_name] = value
        return cls(**values)


def _figure(kind: str, value: int) -> str:
    if kind in ("bytes", "decompressed_bytes"):
        if value >= GB:
            return _("{size} GB ({n} bytes)").format(size=f"{value / GB:,.2f}", n=f"{value:,}")
        return _("{size} MB ({n} bytes)").format(size=f"{value / 1024**2:,.1f}", n=f"{value:,}")
    return _(_UNITS[kind]).format(n=f"{value:,}") if kind in _UNITS else f"{value:,} {kind}"


def refuse(
    name: str, kind: str, found: int, limit: int, *, at_least: bool = False, where: str = ""
) -> DataValidationError:
    """The error for a file over one limit: names the file, the limit and the figure found
    (``at_least`` when counting stopped at the limit; ``where`` says where it was found)."""
    return DataValidationError(
        name,
        _(
            "the file is over the {limit_kind} limit: found {found}{where}, the limit is {limit} (set {variable} to change it); the file was not read. Split it, or keep only the columns and dates you need"
        ).format(
            limit_kind=_(_WORDS[kind]),
            found=(_("at least {n}") if at_least else "{n}").format(n=_figure(kind, found)),
            where=where,
            limit=_figure(kind, limit),
            variable=ENV[kind],
        ),
    )


def check(
    name: str, kind: str, found: int, limits: Limits, *, at_least: bool = False, where: str = ""
) -> None:
    """Raise :func:`refuse`'s error when ``found`` is over the ``kind`` limit."""
    limit = getattr(limits, kind)
    if found > limit:
        raise refuse(name, kind, found, limit, at_least=at_least, where=where)


def check_parquet(path: str, name: str, limits: Limits) -> None:
    """Rows, columns and uncompressed size from the Parquet footer (nothing else is read)."""
    import pyarrow.lib
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (pyarrow.lib.ArrowException, OSError) as exc:
        text = str(exc).strip().splitlines()
        raise DataValidationError(
            name,
            _("the Parquet file is corrupt or truncated ({value})").format(
                value=text[0][:200] if text else type(exc).__name__
            ),
        ) from exc
    check(name, "rows", meta.num_rows, limits)
    check(name, "columns", meta.num_columns, limits)
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    check(name, "decompressed_bytes", unpacked, limits)


_DIMENSION = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\""
)
_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def check_workbook(path: str, name: str, limits: Limits) -> None:
    """Declared member sizes from the zip directory, then each worksheet's XML streamed:
    its ``<dimension ref=...>`` (rows, columns, cells) and a running count of rows and cells,
    stopping at the first limit passed. A member whose data is longer than its declared
    size fails its checksum and is refused as corrupt."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            total = sum(m.file_size for m in members)
            check(
                name,
                "decompressed_bytes",
                total,
                limits,
                where=_(" (declared by the zip directory)"),
            )
            sheets = [
                m
                for m in members
                if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")
            ]
            for member in sheets:
                _check_sheet(zf, member, name, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise DataValidationError(
            name,
            _(
                "the workbook is corrupt or truncated (not a readable .xlsx zip archive: {exc})"
            ).format(exc=exc),
        ) from exc


def _check_sheet(zf: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    sheet = member.filename.rsplit("/", 1)[-1].removesuffix(".xml")
    where = _(" in worksheet {sheet}").format(sheet=sheet)
    rows = cells = 0
    carry = b""
    tags: tuple[bytes, bytes] | None = None
    with zf.open(member) as fh:
        first = True
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            buf = carry + chunk
            if first:
                first = False
                root = _ROOT.search(buf[:65536])
                prefix = (root.group(1) + b":") if root and root.group(1) else b""
                tags = (b"<" + prefix + b"row", b"<" + prefix + b"c")
                dim = _DIMENSION.search(buf[:65536])
                if dim:
                    _check_dimension(dim, name, sheet, limits)
            # every tag starts with "<": keep the text from the last "<" for the next chunk,
            # so no tag is cut in two and none is counted twice
            cut = buf.rfind(b"<")
            done, carry = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
            rows += sum(done.count(tags[0] + end) for end in (b" ", b">", b"/"))
            cells += sum(done.count(tags[1] + end) for end in (b" ", b">", b"/"))
            check(name, "rows", rows, limits, at_least=True, where=where)
            check(name, "cells", cells, limits, at_least=True, where=where)
    rows += sum(carry.count(tags[0] + end) for end in (b" ", b">", b"/")) if tags else 0
    cells += sum(carry.count(tags[1] + end) for end in (b" ", b">", b"/")) if tags else 0
    check(name, "rows", rows, limits, where=where)
    check(name, "cells", cells, limits, where=where)


def _check_dimension(dim: re.Match, name: str, sheet: str, limits: Limits) -> None:
    c1, r1, c2, r2 = dim.groups()
    c2, r2 = c2 or c1, r2 or r1
    n_rows = abs(int(r2) - int(r1)) + 1
    n_cols = abs(_column_number(c2) - _column_number(c1)) + 1
    where = _(" declared by worksheet {sheet} ({dimension})").format(
        sheet=sheet, dimension=dim.group(0).decode(errors="replace")[1:]
    )
    check(name, "rows", n_rows, limits, where=where)
    check(name, "columns", n_cols, limits, where=where)
    check(name, "cells", n_rows * n_cols, limits, where=where)


def check_lines(path: str, name: str, limits: Limits) -> int:
    """Count the lines of a text file in chunks, stopping once over the row limit (a line
    is counted as a row: a quoted field spanning lines counts more than once, so the check
    errs towards refusing). Returns the number of lines."""
    lines = 0
    last = b""
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if len(chunk) == CHUNK:  # more may follow: stop as soon as the limit is passed
                check(name, "rows", lines - 1, limits, at_least=True, where=_(" (lines)"))
    if last and last != b"\n":
        lines += 1
    # one header line is allowed on top of the row limit
    check(name, "rows", lines - 1, limits, where=_(" (lines)"))
    return lines
