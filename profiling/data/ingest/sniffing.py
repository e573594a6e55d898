"""Text tables: sniffing encoding, delimiter and header, and scanning them lazily."""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections import Counter

import polars as pl

from profiling.data.ingest.source import (
    DELIMITERS,
    LINE_SPLIT,
    SNIFF_BYTES,
    SNIFF_CHUNK,
    WHITESPACE,
    ReadInfo,
    file_digest,
    scratch_dir,
)
from profiling.errors import DataValidationError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _


def _detect_encoding(path: str, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "UTF-8 with BOM"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(SNIFF_CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "Latin-1"
    return "UTF-8"


def _transcode(path: str, encoding: str) -> str:
    """Write a UTF-8 copy of a Latin-1 / UTF-16 file, chunk by chunk, and return its path."""
    codec = {"Latin-1": "cp1252", "UTF-16": "utf-16"}[encoding]
    out = scratch_dir() / f"{file_digest(path)}.utf8.txt"
    if out.exists():
        os.utime(out)  # in use: not expired by the upload sweep
        return str(out)
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    if codec == "cp1252":
        # cp1252 leaves five bytes undefined; fall back to Latin-1, which maps every byte.
        try:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(SNIFF_CHUNK), b""):
                    decoder.decode(chunk)
        except UnicodeDecodeError:
            codec = "latin-1"
        decoder = codecs.getincrementaldecoder(codec)()
    tmp = out.with_suffix(".part")
    with open(path, "rb") as src, open(tmp, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(SNIFF_CHUNK), b""):
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
    if delimiter == WHITESPACE:
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
    for order, delimiter in enumerate((*DELIMITERS, WHITESPACE)):
        counts = _field_counts(lines, delimiter)
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        consistency = freq / len(counts)
        if mode < 2 or consistency < 0.9:
            continue
        whitespace_penalty = delimiter == WHITESPACE
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


def read_text(path: str, name: str, head: bytes, size: int) -> tuple[pl.LazyFrame, ReadInfo]:
    encoding, read_path, lines = _decoded_sample(path, name, head)
    delimiter = _require_delimiter(name, lines)
    rows = _split_rows(lines, delimiter)
    has_header = _looks_like_header(rows[0], rows[1:50])
    width = Counter(len(r) for r in rows).most_common(1)[0][0]
    if has_header:
        names = _dedupe_names(rows[0] + [""] * (width - len(rows[0])))[:width]
    else:
        names = [f"column_{i + 1}" for i in range(width)]
    frame = _scan_text(read_path, delimiter, has_header, names)
    info = ReadInfo(
        source=name,
        format="CSV" if delimiter != WHITESPACE else "text",
        encoding=encoding,
        delimiter=delimiter,
        has_header=has_header,
    )
    if encoding != "UTF-8":
        info.notes.append(
            _("encoding detected as {encoding}; converted to UTF-8 for reading").format(
                encoding=encoding
            )
        )
    if not has_header:
        info.notes.append(_("no header row: columns named column_1, column_2, ..."))
    return frame, info


def _decoded_sample(path: str, name: str, head: bytes) -> tuple[str, str, list[str]]:
    """(encoding, path of a UTF-8 copy to scan, non-blank sample lines)."""
    encoding = _detect_encoding(path, head)
    if encoding != "UTF-16" and _looks_binary(head):
        raise DataValidationError(
            name,
            _(
                "expected a text table (CSV, TSV, Parquet, JSON lines or .xlsx) but found binary content"
            ),
        )
    read_path = path
    if encoding in ("Latin-1", "UTF-16"):
        read_path = _transcode(path, encoding)
        with open(read_path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    lines = _sample_lines(text, truncated=len(head) >= SNIFF_BYTES)
    if not lines:
        raise DataValidationError(name, _("the file holds only blank lines; expected a table"))
    return encoding, read_path, lines


def _require_delimiter(name: str, lines: list[str]) -> str:
    delimiter = sniff_delimiter(lines)
    if delimiter is None:
        if len(lines) == 1:
            raise DataValidationError(
                name,
                _(
                    "the file has a single line ({value!r}) and no data rows; expected a header and data rows"
                ).format(value=lines[0][:80]),
            )
        raise DataValidationError(
            name,
            _(
                "found a single column: no delimiter (comma, semicolon, tab, pipe or spaces) splits the lines into columns (first line: {value!r}); expected at least a user id and a timestamp column"
            ).format(value=lines[0][:80]),
        )
    return delimiter


def _split_rows(lines: list[str], delimiter: str) -> list[list[str]]:
    if delimiter == WHITESPACE:
        return [ln.split() for ln in lines]
    if delimiter in LINE_SPLIT:
        return [ln.split(delimiter) for ln in lines]
    return list(csv.reader(lines, delimiter=delimiter))


def _scan_text(read_path: str, delimiter: str, has_header: bool, names: list[str]) -> pl.LazyFrame:
    """Scan the whole file lazily with the sniffed delimiter, header and column names."""
    if delimiter in LINE_SPLIT:
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
            if delimiter == WHITESPACE
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
    return frame
