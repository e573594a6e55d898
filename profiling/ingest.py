"""Reading event, user and item files into polars and cleaning them into the canonical schema.

The path of a file through this module:

1. :func:`read_table` sniffs the format (CSV/TSV/other delimiters or runs of whitespace,
   Parquet, JSON lines, Excel), the encoding and the header, and returns a lazy frame of the
   raw columns plus a :class:`ReadInfo` saying what it found.
2. :func:`infer_roles` maps raw columns onto canonical roles from their names and, where
   names say nothing, from their content; the user can override any role.
3. :func:`clean_events` / :func:`clean_users` / :func:`clean_items` parse and clean the
   table and return the canonical frame with a :class:`CleaningReport` that counts every row
   dropped or repaired, for every reason, with example rows. Nothing is lost silently.

Files that cannot be used at all raise :class:`~profiling.errors.DataValidationError` naming
the file, the column, what was expected and what was found.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
import tempfile
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from profiling import schema as S
from profiling.errors import DataValidationError, MappingError

Source = str | os.PathLike | bytes | BinaryIO

_SNIFF_BYTES = 256 * 1024
_SAMPLE_ROWS = 2000
_CHUNK = 8 * 1024 * 1024
_DELIMITERS = (",", "\t", ";", "|", "::")
_WHITESPACE = "whitespace"
_MISSING_IDS = ("", "nan", "none", "null", "na", "n/a", "-", "?")
_TEXT_EXTS = {".csv", ".tsv", ".txt", ".dat", ".data", ".tab", ".psv", ".log", ""}
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", "::": "double-colon"}
_LINE_SPLIT = (_WHITESPACE, "::")  # delimiters polars cannot scan with: split each line


# ----------------------------------------------------------------------------- read ----
@dataclass
class ReadInfo:
    """What :func:`read_table` found out about a file."""

    source: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool = True
    columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line such as "CSV, comma-separated, UTF-8, with header"."""
        parts = [self.format]
        if self.delimiter:
            name = _DELIMITER_NAMES.get(self.delimiter, self.delimiter)
            parts.append(f"{name}-separated" if self.delimiter != _WHITESPACE else "space-aligned")
        if self.encoding:
            parts.append(self.encoding)
        if self.format in ("CSV", "text"):
            parts.append("with header" if self.has_header else "no header")
        return ", ".join(parts)


@dataclass
class RawTable:
    """A file read lazily: raw columns as found, plus what was learned reading it."""

    frame: pl.LazyFrame
    info: ReadInfo
    digest: str
    path: str

    @property
    def source(self) -> str:
        return self.info.source

    def sample(self, n: int = _SAMPLE_ROWS) -> pl.DataFrame:
        """The first ``n`` rows, for inference and previews."""
        return self.frame.head(n).collect()


def file_digest(path: str | os.PathLike) -> str:
    """BLAKE2b digest of a file's full content, read in chunks."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _scratch_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "persona-studio"
    d.mkdir(parents=True, exist_ok=True)
    return d


def materialize(source: Source, name: str | None = None) -> tuple[str, str]:
    """Return ``(path, display name)`` for a path, bytes or a binary file object.

    Bytes and file objects are written to a content-addressed scratch file so that large
    uploads are scanned from disk like any other file, and two different uploads never share
    a path.
    """
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        return path, name or os.path.basename(path)
    data = source if isinstance(source, bytes) else source.read()
    if name is None:
        name = getattr(source, "name", None) or "uploaded file"
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    suffix = Path(name).suffix.lower()[:10]
    path = _scratch_dir() / f"{digest}{suffix}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return str(path), name


def read_table(source: Source, *, name: str | None = None) -> RawTable:
    """Read a table file lazily, sniffing its format, encoding, delimiter and header.

    Parameters
    ----------
    source : path, bytes or binary file object
        CSV/TSV (any of ``, ; tab |`` or runs of whitespace), Parquet, JSON lines / JSON,
        or Excel ``.xlsx``.
    name : str, optional
        Name shown in messages (defaults to the file name).

    Returns
    -------
    RawTable
        Raw columns (strings for text formats, native types otherwise), not yet cleaned.

    Raises
    ------
    DataValidationError
        Empty file, header only, binary junk, a single column, a corrupt or encrypted
        workbook, a truncated Parquet file.
    """
    path, name = materialize(source, name)
    if not os.path.exists(path):
        raise DataValidationError(name, "file not found")
    size = os.path.getsize(path)
    if size == 0:
        raise DataValidationError(name, "the file is empty (0 bytes); expected a table")
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    ext = Path(name).suffix.lower()
    digest = file_digest(path)

    if head.startswith(b"PAR1") or ext in (".parquet", ".pq"):
        frame, info = _read_parquet(path, name, head)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataValidationError(
            name,
            "this is a password-protected (encrypted) workbook or a legacy .xls file; "
            "expected an unprotected .xlsx, CSV or Parquet file. Remove the password or "
            "save it as .xlsx / CSV and upload it again",
        )
    elif head.startswith(b"PK\x03\x04") or ext in (".xlsx", ".xlsm", ".xls"):
        frame, info = _read_excel(path, name, head)
    elif ext in (".jsonl", ".ndjson", ".json") or head.lstrip()[:1] in (b"{", b"["):
        frame, info = _read_json(path, name, head, ext)
    else:
        frame, info = _read_text(path, name, head, size)

    columns = frame.collect_schema().names()
    info.columns = columns
    first = frame.head(1).collect()
    if first.height == 0:
        if info.has_header:
            raise DataValidationError(
                name, f"the file has a header ({', '.join(columns[:8])}) but no data rows"
            )
        raise DataValidationError(name, "the file has no data rows")
    return RawTable(frame=frame, info=info, digest=digest, path=path)


def _read_parquet(path: str, name: str, head: bytes) -> tuple[pl.LazyFrame, ReadInfo]:
    with open(path, "rb") as fh:
        fh.seek(-4, os.SEEK_END)
        tail = fh.read(4)
    if not head.startswith(b"PAR1") or tail != b"PAR1":
        raise DataValidationError(
            name,
            "expected a Parquet file (starting and ending with the 'PAR1' marker) but the "
            "file is truncated or not Parquet; export it again",
        )
    try:
        frame = pl.scan_parquet(path)
        frame.collect_schema()
        frame.head(1).collect()
    except Exception as exc:  # polars raises several kinds for a damaged footer
        raise DataValidationError(
            name, f"the Parquet file is corrupt or truncated ({_first_line(exc)})"
        ) from exc
    return frame, ReadInfo(source=name, format="Parquet")


def _read_excel(path: str, name: str, head: bytes) -> tuple[pl.LazyFrame, ReadInfo]:
    if not head.startswith(b"PK\x03\x04"):
        raise DataValidationError(
            name, "expected an Excel .xlsx workbook (a zip archive) but found something else"
        )
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise DataValidationError(
            name, "the workbook is corrupt or truncated (not a readable .xlsx zip archive)"
        ) from exc
    if not any(n.startswith("xl/") for n in names):
        raise DataValidationError(
            name, "expected an Excel .xlsx workbook but the zip archive holds no worksheet"
        )
    try:
        df = pl.read_excel(path, sheet_id=1, engine="calamine")
    except Exception as exc:
        raise DataValidationError(
            name, f"the workbook could not be read ({_first_line(exc)})"
        ) from exc
    info = ReadInfo(source=name, format="Excel")
    info.notes.append("read the first worksheet")
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
            "expected JSON lines (one JSON object per line) or a JSON array of objects, "
            f"but the file could not be parsed ({_first_line(exc)})",
        ) from exc
    return frame, ReadInfo(source=name, format=fmt, encoding="UTF-8")


# ---- text files -------------------------------------------------------------------------
def _detect_encoding(path: str, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "UTF-8 with BOM"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "Latin-1"
    return "UTF-8"


def _transcode(path: str, encoding: str) -> str:
    """Write a UTF-8 copy of a Latin-1 / UTF-16 file, chunk by chunk, and return its path."""
    codec = {"Latin-1": "cp1252", "UTF-16": "utf-16"}[encoding]
    out = _scratch_dir() / f"{file_digest(path)}.utf8.txt"
    if out.exists():
        return str(out)
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    if codec == "cp1252":
        # cp1252 leaves five bytes undefined; fall back to Latin-1, which maps every byte.
        try:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    decoder.decode(chunk)
        except UnicodeDecodeError:
            codec = "latin-1"
        decoder = codecs.getincrementaldecoder(codec)()
    tmp = out.with_suffix(".part")
    with open(path, "rb") as src, open(tmp, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    tmp.replace(out)
    return str(out)


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    sample = head[:65536]
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    return controls > max(8, len(sample) // 100)


def _sample_lines(text: str, truncated: bool) -> list[str]:
    lines = text.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    return [ln for ln in lines if ln.strip()][:500]


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    if delimiter == _WHITESPACE:
        return [len(ln.split()) for ln in lines]
    if len(delimiter) > 1:
        return [len(ln.split(delimiter)) for ln in lines]
    try:
        return [len(row) for row in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:
        return [len(ln.split(delimiter)) for ln in lines]


def sniff_delimiter(lines: list[str]) -> str | None:
    """Pick the delimiter that splits the sample lines into a steady number (>1) of fields.

    Candidates are ``, TAB ; |`` and runs of whitespace. A candidate must give the same
    field count on at least 90% of the lines; ties go to the delimiter whose count the first
    (header) line shares, then to more fields. Returns None when no candidate yields more
    than one column.
    """
    best: tuple | None = None
    for order, delimiter in enumerate((*_DELIMITERS, _WHITESPACE)):
        counts = _field_counts(lines, delimiter)
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        consistency = freq / len(counts)
        if mode < 2 or consistency < 0.9:
            continue
        whitespace_penalty = delimiter == _WHITESPACE
        key = (counts[0] == mode, not whitespace_penalty, consistency, mode, -order)
        if best is None or key > best[0]:
            best = (key, delimiter)
    return None if best is None else best[1]


_NUMBER_RE = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$")
_DATE_RE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{8})([ T].*)?$"
)


def _value_kind(value: str) -> str:
    v = value.strip().strip('"')
    if not v:
        return "empty"
    if _DATE_RE.match(v):
        return "date"
    if _NUMBER_RE.match(v.replace(" ", "")):
        return "number"
    return "text"


def _looks_like_header(first: list[str], body: list[list[str]]) -> bool:
    """Decide whether the first row names the columns.

    True when a first-row value is a known column name, or a column whose body is numbers or
    dates starts with text; False when every first-row value is of the same kind as its
    column's body (numbers over numbers) or reappears in its column's body.
    """
    known = set()
    for table in S.SYNONYMS_BY_TABLE.values():
        known.update(table)
    if any(S.normalize_token(v) in known for v in first if v.strip()):
        return True
    if not body:
        return all(_value_kind(v) == "text" for v in first)
    text_over_typed = False
    for j, value in enumerate(first):
        col = [row[j] for row in body if j < len(row)]
        kinds = Counter(_value_kind(v) for v in col if v.strip())
        body_kind = kinds.most_common(1)[0][0] if kinds else "empty"
        kind = _value_kind(value)
        if kind != "text":
            return False
        if body_kind in ("number", "date"):
            text_over_typed = True
        if value in col:
            return False
    return text_over_typed or all(_value_kind(v) == "text" for v in first)


def _dedupe_names(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: Counter = Counter()
    for i, raw in enumerate(names):
        n = raw.replace("\ufeff", "").strip().strip('"').strip() or f"column_{i + 1}"
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _read_text(path: str, name: str, head: bytes, size: int) -> tuple[pl.LazyFrame, ReadInfo]:
    encoding = _detect_encoding(path, head)
    if encoding != "UTF-16" and _looks_binary(head):
        raise DataValidationError(
            name,
            "expected a text table (CSV, TSV, Parquet, JSON lines or .xlsx) but found binary "
            "content",
        )
    read_path = path
    if encoding in ("Latin-1", "UTF-16"):
        read_path = _transcode(path, encoding)
        with open(read_path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    lines = _sample_lines(text, truncated=len(head) >= _SNIFF_BYTES)
    if not lines:
        raise DataValidationError(name, "the file holds only blank lines; expected a table")

    delimiter = sniff_delimiter(lines)
    if delimiter is None:
        if len(lines) == 1:
            raise DataValidationError(
                name,
                f"the file has a single line ({lines[0][:80]!r}) and no data rows; expected a "
                "header and data rows",
            )
        raise DataValidationError(
            name,
            "found a single column: no delimiter (comma, semicolon, tab, pipe or spaces) "
            f"splits the lines into columns (first line: {lines[0][:80]!r}); expected at "
            "least a user id and a timestamp column",
        )

    if delimiter == _WHITESPACE:
        rows = [ln.split() for ln in lines]
    elif delimiter in _LINE_SPLIT:
        rows = [ln.split(delimiter) for ln in lines]
    else:
        rows = list(csv.reader(lines, delimiter=delimiter))
    has_header = _looks_like_header(rows[0], rows[1:50])
    width = Counter(len(r) for r in rows).most_common(1)[0][0]
    if has_header:
        names = _dedupe_names(rows[0] + [""] * (width - len(rows[0])))[:width]
    else:
        names = [f"column_{i + 1}" for i in range(width)]

    if delimiter in _LINE_SPLIT:
        line = pl.scan_csv(
            read_path,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            infer_schema=False,
            new_columns=["__line"],
        )
        tokens = (
            pl.col("__line").str.extract_all(r"\S+")
            if delimiter == _WHITESPACE
            else pl.col("__line").str.strip_chars("\r").str.split(delimiter)
        )
        # the header is the first non-blank line, as in the sniffed sample
        non_blank = line.filter(pl.col("__line").str.strip_chars().str.len_chars() > 0)
        frame = non_blank.slice(1 if has_header else 0).select(
            [tokens.list.get(i, null_on_oob=True).alias(n) for i, n in enumerate(names)]
        )
    else:
        frame = pl.scan_csv(
            read_path,
            has_header=has_header,
            separator=delimiter,
            infer_schema=False,
            new_columns=names,
            truncate_ragged_lines=True,
            encoding="utf8",
            quote_char='"',
        )
        if has_header:
            frame = frame.select(pl.all().name.map(lambda n: n.replace("\ufeff", "").strip()))
    if not has_header:
        first = names[0]
        frame = frame.with_columns(pl.col(first).str.strip_chars_start("\ufeff"))

    info = ReadInfo(
        source=name,
        format="CSV" if delimiter != _WHITESPACE else "text",
        encoding=encoding,
        delimiter=delimiter,
        has_header=has_header,
    )
    if encoding != "UTF-8":
        info.notes.append(f"encoding detected as {encoding}; converted to UTF-8 for reading")
    if not has_header:
        info.notes.append("no header row: columns named column_1, column_2, ...")
    return frame, info


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# -------------------------------------------------------------------------- parsing ----
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


# ------------------------------------------------------------------------- mapping ----
@dataclass
class ColumnMapping:
    """Raw column -> canonical role for one table, with the reason for each inference."""

    table: str
    roles: dict[str, str]
    reasons: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def column_for(self, role: str) -> str | None:
        """The raw column mapped to ``role``, or None."""
        for col, r in self.roles.items():
            if r == role:
                return col
        return None

    def has(self, role: str) -> bool:
        return self.column_for(role) is not None

    def to_dict(self) -> dict[str, str]:
        return dict(self.roles)


def _content_kind(series: pl.Series) -> dict:
    """Summarize a sample column for content-based role inference."""
    s = series.drop_nulls()
    if s.dtype == pl.String:
        s = s.str.strip_chars()
        s = s.filter(s.str.len_chars() > 0)
    n = s.len()
    out = {"n": n, "distinct": s.n_unique() if n else 0, "numeric": False, "integral": False}
    if n == 0:
        return out
    if s.dtype == pl.String and s.str.contains(r"^0\d").mean() > 0.5:
        return out  # zero-padded codes ("0042") are identifiers, not quantities
    nums = (
        s.cast(pl.Float64, strict=False)
        if s.dtype != pl.String
        else s.str.replace(",", ".").cast(pl.Float64, strict=False)
    )
    parsed = nums.drop_nulls()
    if parsed.len() >= 0.95 * n:
        out["numeric"] = True
        out["integral"] = bool(((parsed - parsed.round()).abs() < 1e-9).all())
        out["min"], out["max"] = float(parsed.min()), float(parsed.max())
        out["median"] = float(parsed.median())
    return out


def infer_roles(
    raw: RawTable,
    table: str = "events",
    overrides: dict[str, str] | None = None,
) -> ColumnMapping:
    """Map the raw columns of a table onto canonical roles.

    Names come first: each column name is normalized ("Customer ID" -> "customerid") and
    looked up among the synonyms in :mod:`profiling.schema`, then searched for telling
    fragments ("customer", "date", "price"). Roles still missing are inferred from content:
    a column of dates, YYYYMMDD integers or epoch numbers is the timestamp; a text column of
    known event names is the event type; the left-most id-like column with repeats is the
    user id; in a file without names, small integers are the quantity and a decimal money
    column is the row's total (``amount``, never a unit price, so revenue is not multiplied
    by quantity). ``overrides`` (raw column -> role or ``"ignore"``) win over everything.

    Raises
    ------
    MappingError
        An override names an unknown column or role, or gives one role to two columns.
    """
    if table not in S.ROLES_BY_TABLE:
        raise MappingError(
            raw.source, f"unknown table kind {table!r}; expected events, users or items"
        )
    allowed = S.ROLES_BY_TABLE[table]
    synonyms = S.SYNONYMS_BY_TABLE[table]
    columns = raw.frame.collect_schema().names()
    roles: dict[str, str] = {}
    reasons: dict[str, str] = {}
    mapping = ColumnMapping(table=table, roles=roles, reasons=reasons)

    overrides = dict(overrides or {})
    for col, role in overrides.items():
        if col not in columns:
            raise MappingError(
                raw.source,
                f"the mapping names a column that is not in the file; found columns: "
                f"{', '.join(columns)}",
                column=col,
            )
        if role != S.IGNORE and role not in allowed:
            raise MappingError(
                raw.source,
                f"unknown role {role!r}; expected one of {', '.join(allowed)} or 'ignore'",
                column=col,
            )
    taken_by_override = [r for r in overrides.values() if r != S.IGNORE]
    dup = [r for r, c in Counter(taken_by_override).items() if c > 1]
    if dup:
        raise MappingError(raw.source, f"the mapping gives role {dup[0]!r} to more than one column")
    for col, role in overrides.items():
        roles[col] = role
        reasons[col] = "set by you"

    def free(role: str) -> bool:
        return role not in roles.values()

    # 1. exact synonyms
    for col in columns:
        if col in roles:
            continue
        role = synonyms.get(S.normalize_token(col))
        if role and free(role):
            roles[col] = role
            reasons[col] = "name"
    # 2. telling fragments
    fragments = _FRAGMENTS.get(table, ())
    for col in columns:
        if col in roles:
            continue
        norm = S.normalize_token(col)
        for pattern, role in fragments:
            if role in allowed and free(role) and re.search(pattern, norm):
                roles[col] = role
                reasons[col] = "name"
                break

    # 3. content
    sample = raw.sample()
    generic = not raw.info.has_header
    excel = raw.info.format == "Excel"
    kinds = {c: _content_kind(sample[c]) for c in columns if c not in roles}
    date_roles = (
        (S.TIMESTAMP,) if table == "events" else (S.SIGNUP_DATE,) if table == "users" else ()
    )
    for role in date_roles:
        if not free(role):
            continue
        for col in columns:
            if col in roles:
                continue
            k = kinds[col]
            if k["n"] == 0 or (k["numeric"] and not generic and "id" in S.normalize_token(col)):
                continue
            ts = parse_timestamp(col, sample.schema[col], sample[col], excel=excel)
            if ts is None:
                continue
            ok = sample.select(ts.expr).to_series().drop_nulls().len()
            if ok >= 0.5 * k["n"]:
                roles[col] = role
                reasons[col] = f"content: {ts.description}"
                break
    if table == "events" and free(S.EVENT_TYPE):
        for col in columns:
            if col in roles or kinds[col]["numeric"] or kinds[col]["n"] == 0:
                continue
            vals = sample[col].cast(pl.String).drop_nulls().unique()
            norm = vals.str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
            if norm.is_in(list(S.EVENT_SYNONYMS)).mean() >= 0.8:
                roles[col] = S.EVENT_TYPE
                reasons[col] = "content: event names"
                break
    id_role = {"events": S.USER_ID, "users": S.USER_ID, "items": S.ITEM_ID}[table]
    if free(id_role):
        for col in columns:
            if col in roles:
                continue
            k = kinds[col]
            if k["n"] == 0:
                continue
            if k["numeric"] and not k["integral"]:
                continue
            if sample[col].dtype == pl.String:
                vals = sample[col].drop_nulls()
                if vals.str.contains(r"\s").mean() > 0.2:
                    continue
            repeats = k["distinct"] < k["n"]
            if table != "events" or repeats or k["n"] < 20:
                roles[col] = id_role
                reasons[col] = "content: left-most id-like column"
                break
    if table == "events" and generic:
        for col in columns:
            if col in roles:
                continue
            k = kinds[col]
            if not k["numeric"]:
                continue
            if (
                k["integral"]
                and free(S.QUANTITY)
                and abs(k["median"]) <= 50
                and k["max"] <= 100_000
            ):
                roles[col] = S.QUANTITY
                reasons[col] = "content: small whole numbers"
            elif not k["integral"] and free(S.AMOUNT) and free(S.PRICE):
                roles[col] = S.AMOUNT
                reasons[col] = "content: decimal money values, taken as the row's total"
                mapping.notes.append(
                    f"column '{col}' holds decimal money values with no telling name: taken "
                    "as the row's total (amount), not a unit price; map it to 'price' if it "
                    "is a unit price"
                )
    for col in columns:
        roles.setdefault(col, S.IGNORE)
        reasons.setdefault(col, "not recognized")
    ordered = {c: roles[c] for c in columns}
    mapping.roles = ordered
    mapping.reasons = {c: reasons[c] for c in columns}
    return mapping


_FRAGMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "events": (
        (r"(user|customer|client|visitor|member|buyer|shopper|account).*(id|no|number|key|code)$", S.USER_ID),
        (r"(product|item|sku|article|stock|goods).*(id|no|number|key|code)$", S.ITEM_ID),
        (r"(eventtype|actiontype|event|action)", S.EVENT_TYPE),
        (r"(timestamp|datetime|date|time)", S.TIMESTAMP),
        (r"(qty|quantity|units)", S.QUANTITY),
        (r"(unitprice|priceeach|price)", S.PRICE),
        (r"(amount|revenue|total|value|sales)", S.AMOUNT),
        (r"(rating|stars)", S.RATING),
        (r"(invoice|order|transaction|basket)", S.ORDER_ID),
        (r"session", S.SESSION_ID),
        (r"(category|genre)", S.CATEGORY),
        (r"(brand)", S.BRAND),
        (r"(country|region)", S.REGION),
    ),
    "users": (
        (r"(user|customer|client|visitor|member|account).*(id|no|number|key|code)$", S.USER_ID),
        (r"(signup|registr|joined|created)", S.SIGNUP_DATE),
        (r"(country|region|state|city)", S.REGION),
        (r"(gender|sex)", S.GENDER),
        (r"age", S.AGE),
    ),
    "items": (
        (r"(product|item|sku|article|stock|goods|movie|book).*(id|no|number|key|code)$", S.ITEM_ID),
        (r"(title|name)", S.TITLE),
        (r"(category|genre|department)", S.CATEGORY),
        (r"(brand|manufacturer)", S.BRAND),
        (r"price", S.PRICE),
        (r"(description|desc)", S.DESCRIPTION),
        (r"(tag|keyword)", S.TAGS),
    ),
}  # fmt: skip


def parse_overrides(pairs: list[str] | None, source: str = "--map") -> dict[str, str]:
    """Parse ``raw=canonical`` strings (from the CLI) into a dict."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise MappingError(source, f"expected raw=canonical, found {pair!r}")
        raw, role = pair.rsplit("=", 1)
        out[raw.strip()] = role.strip()
    return out


# ------------------------------------------------------------------------ reports ----
@dataclass
class ReasonCount:
    """Rows dropped or repaired for one reason, with a few example rows."""

    reason: str
    action: str  # "dropped", "repaired" or "kept"
    count: int
    examples: list[dict] = field(default_factory=list)


@dataclass
class CleaningReport:
    """What cleaning did to one table: rows read and kept, and every reason rows changed."""

    source: str
    table: str
    read: ReadInfo | None
    rows_read: int = 0
    rows_kept: int = 0
    kind: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    mapping_reasons: dict[str, str] = field(default_factory=dict)
    timestamp_format: str | None = None
    rating_scale: str | None = None
    reasons: list[ReasonCount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_dropped(self) -> int:
        return sum(r.count for r in self.reasons if r.action == "dropped")

    def count(self, reason: str) -> int:
        """Rows counted under ``reason`` (0 when absent)."""
        return sum(r.count for r in self.reasons if r.reason == reason)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["rows_dropped"] = self.rows_dropped
        return out

    def summary_frame(self) -> pl.DataFrame:
        """One row per reason: reason, action, rows, share of rows read."""
        rows = [(r.reason, r.action, r.count) for r in self.reasons]
        df = pl.DataFrame(
            rows, schema={"reason": pl.String, "action": pl.String, "rows": pl.Int64}, orient="row"
        )
        return df.with_columns((pl.col("rows") / max(self.rows_read, 1)).alias("share_of_rows"))


# Reasons, worded for the user; the action says what happened to the rows.
BLANK_ROW = "blank row"
MISSING_USER = "missing user id"
MISSING_TIMESTAMP = "missing timestamp"
BAD_TIMESTAMP = "unparseable timestamp"
DUPLICATE = "exact duplicate row"
NEGATIVE_PRICE = "negative price or amount on a purchase"
MISSING_RATING = "missing or unparseable rating in a rating log"
UNKNOWN_EVENT = "unknown event type (kept as 'other')"
MISSING_EVENT = "missing event type (kept as 'other')"
REFUND = "refund: negative quantity or cancellation invoice (kept as 'refund')"
ZERO_PRICE = "zero price on a purchase (kept, no revenue)"
QTY_DEFAULT = "missing quantity on a purchase (set to 1)"
QTY_ZERO = "zero quantity on a purchase (kept, no revenue)"
BAD_RATING = "unparseable rating (set to empty)"
POSSIBLE_DUP = (
    "identical rows kept: no time of day and no order id, so they may be separate purchases"
)
DUP_ID = "duplicate id (first row kept)"
BAD_NUMBER = "unparseable number (set to empty)"
BAD_DATE = "unparseable date (set to empty)"


def _examples(
    raw: RawTable, rows_by_reason: dict[str, list[int]], offset: int
) -> dict[str, list[dict]]:
    wanted = sorted({i for rows in rows_by_reason.values() for i in rows})
    if not wanted:
        return {}
    found = raw.frame.with_row_index("__row").filter(pl.col("__row").is_in(wanted)).collect()
    lookup = {}
    for rec in found.iter_rows(named=True):
        idx = rec.pop("__row")
        lookup[idx] = {"line": idx + offset, **{k: _jsonable(v) for k, v in rec.items()}}
    return {r: [lookup[i] for i in rows if i in lookup] for r, rows in rows_by_reason.items()}


def _jsonable(v):
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


# ---------------------------------------------------------------------- cleaning ----
@dataclass
class CleanResult:
    """A cleaned table with its report; for events also item/user attributes found in it."""

    frame: pl.DataFrame
    report: CleaningReport
    item_attributes: pl.DataFrame | None = None
    user_attributes: pl.DataFrame | None = None


def _require(
    mapping: ColumnMapping, raw: RawTable, roles: tuple[str, ...], found: list[str]
) -> None:
    for role in roles:
        if not mapping.has(role):
            raise MappingError(
                raw.source,
                f"no column is mapped to '{role}'; expected a {role.replace('_', ' ')} column "
                f"(found columns: {', '.join(found)}). Map one with --map COLUMN={role} or in "
                "the mapping editor",
            )


def clean_events(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean an event, transaction or rating log into the canonical events frame.

    Returns
    -------
    CleanResult
        ``frame``: one row per kept event with the columns of
        :data:`profiling.schema.EVENT_COLUMNS` (ids as strings, timestamp in UTC; amount is
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
    columns = schema.names()
    _require(mapping, raw, S.REQUIRED_EVENT_ROLES, columns)
    report = CleaningReport(
        source=raw.source,
        table="events",
        read=raw.info,
        mapping=mapping.to_dict(),
        mapping_reasons=dict(mapping.reasons),
    )
    report.notes.extend(mapping.notes)
    col = mapping.column_for
    sample = raw.sample(5000)

    ts_col = col(S.TIMESTAMP)
    ts = parse_timestamp(ts_col, schema[ts_col], sample[ts_col], excel=raw.info.format == "Excel")
    if ts is None:
        found = sample[ts_col].drop_nulls().cast(pl.String).head(3).to_list()
        raise DataValidationError(
            raw.source,
            "expected timestamps (ISO dates, day/month/year, YYYYMMDD, epoch seconds or "
            f"milliseconds) but none could be parsed; found values such as {found}",
            column=ts_col,
        )
    report.timestamp_format = ts.description
    if ts.ambiguous:
        report.notes.append(
            f"timestamps in '{ts_col}' could be day-first or month-first; read as "
            f"{ts.description.split(';')[0]}"
        )

    def text(role: str) -> pl.Expr:
        c = col(role)
        return (_string_expr(c, schema[c]) if c else pl.lit(None, pl.String)).alias(role)

    def ident(role: str) -> pl.Expr:
        c = col(role)
        return (_id_expr(c, schema[c]) if c else pl.lit(None, pl.String)).alias(role)

    def number(role: str) -> pl.Expr:
        c = col(role)
        return (_number_expr(c, schema[c]) if c else pl.lit(None, pl.Float64)).alias(role)

    def present(role: str) -> pl.Expr:
        c = col(role)
        if not c:
            return pl.lit(False)
        return _string_expr(c, schema[c]).is_not_null()

    has_event = mapping.has(S.EVENT_TYPE)
    has_money = any(mapping.has(r) for r in (S.QUANTITY, S.PRICE, S.AMOUNT))
    if has_event:
        kind = "event log"
        etype = _event_type_expr(col(S.EVENT_TYPE), schema[col(S.EVENT_TYPE)])
    elif mapping.has(S.RATING) and not has_money:
        kind = "rating log"
        etype = pl.lit(S.RATE)
    else:
        kind = "transaction log"
        etype = pl.lit(S.PURCHASE)
    report.kind = kind

    raw_cols = [c for c in columns]
    blank = pl.all_horizontal([_string_expr(c, schema[c]).is_null() for c in raw_cols])
    extra_roles = (S.TITLE, S.CATEGORY, S.BRAND, S.REGION, S.AGE, S.GENDER)
    lf = raw.frame.with_row_index("__row").select(
        "__row",
        ident(S.USER_ID),
        ident(S.ITEM_ID),
        etype.alias("__etype"),
        (text(S.EVENT_TYPE) if has_event else pl.lit(None, pl.String)).alias("__raw_event"),
        ts.expr.alias(S.TIMESTAMP),
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
        *[text(r) for r in extra_roles],
        blank.alias("__blank"),
        pl.struct(raw_cols).is_first_distinct().alias("__first"),
    )
    df = lf.collect()
    report.rows_read = df.height
    if df.height and df[S.TIMESTAMP].null_count() == df.height:
        found = sample[ts_col].drop_nulls().cast(pl.String).head(3).to_list()
        raise DataValidationError(
            raw.source,
            f"expected timestamps ({ts.description}) but none of the {df.height} rows could "
            f"be parsed; found values such as {found}",
            column=ts_col,
        )

    # -- event types, refunds, quantities and money ----------------------------------------
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
    df = df.with_columns(
        q.cast(pl.Int64).alias(S.QUANTITY), amount.alias(S.AMOUNT), price.alias(S.PRICE)
    )

    # -- drop reasons, first match wins so the counts add up ------------------------------
    has_time = df.select(
        (pl.col(S.TIMESTAMP) != pl.col(S.TIMESTAMP).dt.truncate("1d")).any()
    ).item()
    dedupe = bool(has_time) or mapping.has(S.ORDER_ID) or mapping.has(S.SESSION_ID)
    is_dup = ~pl.col("__first")
    negative = (pl.col(S.EVENT_TYPE) == S.PURCHASE) & (
        (pl.col(S.PRICE) < 0) | (pl.col(S.AMOUNT) < 0)
    ).fill_null(False)
    reason = (
        pl.when(pl.col("__blank")).then(pl.lit(BLANK_ROW))
        .when(pl.col(S.USER_ID).is_null()).then(pl.lit(MISSING_USER))
        .when(pl.col(S.TIMESTAMP).is_null() & ~pl.col("__ts_present")).then(pl.lit(MISSING_TIMESTAMP))
        .when(pl.col(S.TIMESTAMP).is_null()).then(pl.lit(BAD_TIMESTAMP))
        .when(is_dup & pl.lit(dedupe)).then(pl.lit(DUPLICATE))
        .when(negative).then(pl.lit(NEGATIVE_PRICE))
        .when(pl.lit(kind == "rating log") & pl.col(S.RATING).is_null()).then(pl.lit(MISSING_RATING))
        .otherwise(None)
    )  # fmt: skip
    df = df.with_columns(reason.alias("__drop"))

    kept = pl.col("__drop").is_null()
    repairs: list[tuple[str, str, pl.Expr]] = [
        (MISSING_EVENT, "repaired", pl.lit(has_event) & pl.col("__raw_event").is_null()),
        (UNKNOWN_EVENT, "repaired", pl.lit(has_event) & pl.col("__raw_event").is_not_null() & (pl.col("__etype") == S.OTHER) & ~pl.col("__raw_event").str.to_lowercase().str.replace_all(r"[^0-9a-z]", "").is_in(["other"])),
        (REFUND, "kept", pl.col("__refund")),
        (QTY_DEFAULT, "repaired", pl.col("__qty_default") & pl.lit(mapping.has(S.QUANTITY))),
        (QTY_ZERO, "kept", (pl.col(S.EVENT_TYPE) == S.PURCHASE) & (pl.col(S.QUANTITY) == 0)),
        (ZERO_PRICE, "kept", (pl.col(S.EVENT_TYPE) == S.PURCHASE) & (pl.col(S.QUANTITY) != 0) & ((pl.col(S.AMOUNT) == 0) | (pl.col(S.PRICE) == 0))),
        (BAD_RATING, "repaired", pl.col("__rating_present") & pl.col(S.RATING).is_null()),
        (POSSIBLE_DUP, "kept", is_dup & pl.lit(not dedupe)),
    ]  # fmt: skip
    flags = df.select(
        pl.col("__row"),
        pl.col("__drop"),
        *[(kept & e.fill_null(False)).alias(name) for name, _a, e in repairs],
    )
    counts = flags.group_by("__drop").len().filter(pl.col("__drop").is_not_null())
    rows_by_reason: dict[str, list[int]] = {}
    tallies: list[tuple[str, str, int]] = []
    order = [
        BLANK_ROW,
        MISSING_USER,
        MISSING_TIMESTAMP,
        BAD_TIMESTAMP,
        DUPLICATE,
        NEGATIVE_PRICE,
        MISSING_RATING,
    ]
    count_map = dict(counts.iter_rows())
    for name in order:
        n = int(count_map.get(name, 0))
        if n:
            tallies.append((name, "dropped", n))
            rows_by_reason[name] = (
                flags.filter(pl.col("__drop") == name)["__row"]
                .head(S.EXAMPLES_PER_REASON)
                .to_list()
            )
    repair_sums = flags.select([pl.col(name).sum() for name, _a, _e in repairs]).row(0)
    for (name, action, _e), n in zip(repairs, repair_sums, strict=True):
        if n:
            tallies.append((name, action, int(n)))
            rows_by_reason[name] = (
                flags.filter(pl.col(name))["__row"].head(S.EXAMPLES_PER_REASON).to_list()
            )
    examples = _examples(raw, rows_by_reason, offset=2 if raw.info.has_header else 1)
    report.reasons = [ReasonCount(n, a, c, examples.get(n, [])) for n, a, c in tallies]

    clean = df.filter(kept)
    report.rows_kept = clean.height
    if clean.height == 0:
        raise DataValidationError(
            raw.source,
            f"no usable rows: all {report.rows_read} rows were dropped ("
            + ", ".join(f"{r.reason}: {r.count}" for r in report.reasons if r.action == "dropped")
            + ")",
        )
    if mapping.has(S.RATING):
        ratings = clean[S.RATING].drop_nulls()
        if ratings.len():
            report.rating_scale = _rating_scale(float(ratings.min()), float(ratings.max()))
    unused = [c for c, r in mapping.roles.items() if r == S.IGNORE]
    if unused:
        report.notes.append(f"columns not used: {', '.join(unused)}")
    if kind != "event log":
        report.notes.append(
            f"no event-type column: read as a {kind} (every row a "
            f"{'rating' if kind == 'rating log' else 'purchase'})"
        )
    if not dedupe and report.count(POSSIBLE_DUP):
        report.notes.append(
            "identical rows were kept: timestamps carry no time of day and there is no order "
            "id, so two identical rows can be two real purchases"
        )

    events = clean.select(
        pl.col(S.USER_ID),
        pl.col(S.ITEM_ID),
        pl.col(S.EVENT_TYPE),
        pl.col(S.TIMESTAMP),
        pl.col(S.QUANTITY),
        pl.col(S.PRICE),
        pl.col(S.AMOUNT),
        pl.col(S.RATING),
        pl.col(S.ORDER_ID),
        pl.col(S.SESSION_ID),
        pl.col(S.CHANNEL),
        pl.col(S.DEVICE),
    ).sort([S.TIMESTAMP, S.USER_ID], maintain_order=True)

    item_attrs = None
    item_roles = [r for r in (S.TITLE, S.CATEGORY, S.BRAND) if mapping.has(r)]
    if item_roles and mapping.has(S.ITEM_ID):
        item_attrs = (
            clean.filter(pl.col(S.ITEM_ID).is_not_null())
            .group_by(S.ITEM_ID, maintain_order=True)
            .agg([pl.col(r).drop_nulls().mode().sort().first().alias(r) for r in item_roles])
        )
    user_attrs = None
    user_roles = [r for r in (S.REGION, S.AGE, S.GENDER) if mapping.has(r)]
    if user_roles:
        user_attrs = clean.group_by(S.USER_ID, maintain_order=True).agg(
            [pl.col(r).drop_nulls().mode().sort().first().alias(r) for r in user_roles]
        )
    return CleanResult(events, report, item_attrs, user_attrs)


def _rating_scale(lo: float, hi: float) -> str:
    for top, label in ((1, "0-1"), (5, "1-5"), (10, "1-10"), (100, "0-100")):
        if hi <= top:
            return f"{label} (observed {lo:g} to {hi:g})"
    return f"observed {lo:g} to {hi:g}"


def _clean_attributes(raw: RawTable, mapping: ColumnMapping, table: str) -> CleanResult:
    id_role = S.USER_ID if table == "users" else S.ITEM_ID
    schema = raw.frame.collect_schema()
    _require(mapping, raw, (id_role,), schema.names())
    report = CleaningReport(
        source=raw.source,
        table=table,
        read=raw.info,
        kind=f"{table} table",
        mapping=mapping.to_dict(),
        mapping_reasons=dict(mapping.reasons),
    )
    numeric = {S.AGE, S.PRICE}
    dates = {S.SIGNUP_DATE}
    sample = raw.sample(5000)
    exprs = [pl.col("__row")]
    checks: list[tuple[str, str, None]] = []
    for c, role in mapping.roles.items():
        if role == S.IGNORE:
            continue
        dtype = schema[c]
        if role == id_role:
            exprs.append(_id_expr(c, dtype).alias(role))
        elif role in numeric:
            exprs.append(_number_expr(c, dtype).alias(role))
            exprs.append(_string_expr(c, dtype).is_not_null().alias(f"__present_{role}"))
            checks.append((f"{BAD_NUMBER}: {c}", role, None))
        elif role in dates:
            ts = parse_timestamp(c, dtype, sample[c], excel=raw.info.format == "Excel")
            expr = ts.expr if ts else pl.lit(None, pl.Datetime("us", "UTC"))
            exprs.append(expr.alias(role))
            exprs.append(_string_expr(c, dtype).is_not_null().alias(f"__present_{role}"))
            checks.append((f"{BAD_DATE}: {c}", role, None))
        else:
            exprs.append(_string_expr(c, dtype).alias(role))
    extras = [
        c for c, r in mapping.roles.items() if r == S.IGNORE and c not in S.ROLES_BY_TABLE[table]
    ]
    for c in extras:
        exprs.append(_string_expr(c, schema[c]).alias(c))
    df = raw.frame.with_row_index("__row").select(exprs).collect()
    report.rows_read = df.height
    drop = (
        pl.when(pl.col(id_role).is_null()).then(pl.lit(f"missing {id_role.replace('_', ' ')}"))
        .when(~pl.col(id_role).is_first_distinct()).then(pl.lit(DUP_ID))
        .otherwise(None)
    )  # fmt: skip
    df = df.with_columns(drop.alias("__drop"))
    rows_by_reason: dict[str, list[int]] = {}
    tallies = []
    for name in (f"missing {id_role.replace('_', ' ')}", DUP_ID):
        hit = df.filter(pl.col("__drop") == name)
        if hit.height:
            tallies.append((name, "dropped", hit.height))
            rows_by_reason[name] = hit["__row"].head(S.EXAMPLES_PER_REASON).to_list()
    for name, role, _present in checks:
        bad = df.filter(
            pl.col("__drop").is_null() & pl.col(role).is_null() & pl.col(f"__present_{role}")
        )
        if bad.height:
            tallies.append((name, "repaired", bad.height))
            rows_by_reason[name] = bad["__row"].head(S.EXAMPLES_PER_REASON).to_list()
    examples = _examples(raw, rows_by_reason, offset=2 if raw.info.has_header else 1)
    report.reasons = [ReasonCount(n, a, c, examples.get(n, [])) for n, a, c in tallies]
    clean = df.filter(pl.col("__drop").is_null()).select(
        [c for c in df.columns if not c.startswith("__")]
    )
    report.rows_kept = clean.height
    if S.AGE in clean.columns:
        clean = clean.with_columns(
            pl.when(pl.col(S.AGE).is_between(0, 120)).then(pl.col(S.AGE)).otherwise(None)
        )
    for role in S.ROLES_BY_TABLE[table]:
        if role not in clean.columns:
            dtype = (
                pl.Float64
                if role in numeric
                else pl.Datetime("us", "UTC")
                if role in dates
                else pl.String
            )
            clean = clean.with_columns(pl.lit(None, dtype).alias(role))
    ordered = [r for r in S.ROLES_BY_TABLE[table]] + [
        c for c in clean.columns if c not in S.ROLES_BY_TABLE[table]
    ]
    return CleanResult(clean.select(ordered), report)


def clean_users(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean a users table: one row per user_id with age, gender, region, signup_date and
    any extra attributes as strings. Rows without an id or repeating one are dropped and
    counted; unparseable ages and dates become empty and are counted."""
    return _clean_attributes(raw, mapping or infer_roles(raw, "users"), "users")


def clean_items(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean an item catalog: one row per item_id with title, category, brand, price,
    description, tags and extra attributes. Dropped and repaired rows are counted."""
    return _clean_attributes(raw, mapping or infer_roles(raw, "items"), "items")
