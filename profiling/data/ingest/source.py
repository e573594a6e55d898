"""Where a table comes from: the raw file, what reading it found, and scratch copies."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from profiling import private
from profiling.data.ingest import limits
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

Source = str | os.PathLike | bytes | BinaryIO

SNIFF_BYTES = 256 * 1024
_SAMPLE_ROWS = 2000
SNIFF_CHUNK = 8 * 1024 * 1024
DELIMITERS = (",", "\t", ";", "|", "::")
WHITESPACE = "whitespace"
MISSING_IDS = ("", "nan", "none", "null", "na", "n/a", "-", "?")
_TEXT_EXTS = {".csv", ".tsv", ".txt", ".dat", ".data", ".tab", ".psv", ".log", ""}
_DELIMITER_NAMES = {
    ",": N_("comma"),
    "\t": N_("tab"),
    ";": N_("semicolon"),
    "|": N_("pipe"),
    "::": N_("double-colon"),
}
LINE_SPLIT = (WHITESPACE, "::")  # delimiters polars cannot scan with: split each line


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
        """One line such as "CSV, comma-separated, UTF-8, with header" (in the current
        language)."""
        parts = [self.format]
        if self.delimiter:
            if self.delimiter == WHITESPACE:
                parts.append(_("space-aligned"))
            else:
                name = _DELIMITER_NAMES.get(self.delimiter)
                parts.append(
                    _("{delimiter}-separated").format(delimiter=_(name) if name else self.delimiter)
                )
        if self.encoding:
            parts.append(self.encoding)
        if self.format in ("CSV", "text"):
            parts.append(_("with header") if self.has_header else _("no header"))
        return _(", ").join(parts)


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
        for chunk in iter(lambda: fh.read(SNIFF_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def scratch_dir() -> Path:
    """The private (0700) upload scratch folder; unsaved uploads in it expire."""
    return private.uploads_dir()


def materialize(
    source: Source, name: str | None = None, *, max_bytes: int | None = None
) -> tuple[str, str]:
    """Return ``(path, display name)`` for a path, bytes or a binary file object.

    Bytes and file objects are written to a content-addressed scratch file so that large
    uploads are scanned from disk like any other file, and two different uploads never share
    a path. A file object is copied in chunks (never held twice in memory); one longer than
    ``max_bytes`` is refused with a DataValidationError and nothing is left on disk. The
    uploaded file's name is only shown, never used as a path: the scratch file is named by
    the digest plus a plain extension. Scratch files older than the retention time are
    deleted (:func:`profiling.private.sweep_uploads`).
    """
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        return path, name or os.path.basename(path)
    if name is None:
        name = getattr(source, "name", None) or "uploaded file"
    private.maybe_sweep_uploads()
    if isinstance(source, bytes | bytearray | memoryview):
        _check_size(name, len(source), max_bytes)
        digest = hashlib.blake2b(source, digest_size=16).hexdigest()
        path = scratch_dir() / f"{digest}{private.safe_suffix(name)}"
        if path.exists():
            private.touch(path)
        else:
            private.write_private(path, bytes(source))
        return str(path), name
    return _copy_stream(source, name, max_bytes)


def _check_size(name: str, size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise limits.refuse(name, "bytes", size, max_bytes)


def _copy_stream(stream: BinaryIO, name: str, max_bytes: int | None) -> tuple[str, str]:
    """Copy a binary stream to a private part file while hashing it, then rename it to its
    digest; over ``max_bytes`` the part file is deleted and the upload refused."""
    folder = scratch_dir()
    h = hashlib.blake2b(digest_size=16)
    tmp = folder / f".upload.{os.getpid()}.{id(stream)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in iter(lambda: stream.read(SNIFF_CHUNK), b""):
                size += len(chunk)
                _check_size(name, size, max_bytes)
                h.update(chunk)
                fh.write(chunk)
        path = folder / f"{h.hexdigest()}{private.safe_suffix(name)}"
        if path.exists():
            tmp.unlink()
            private.touch(path)
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return str(path), name


def discard(path: str | os.PathLike) -> list[str]:
    """Delete a scratch upload and its transcoded UTF-8 copy (after the file was refused);
    a file outside the scratch folder (a path given by the user) is never touched. Returns
    the names deleted."""
    folder = scratch_dir().resolve()
    p = Path(path)
    try:
        p = p.resolve()
    except OSError:
        return []
    if p.parent != folder:
        return []
    gone = []
    targets = [p]
    if p.is_file():
        targets.append(folder / f"{file_digest(p)}.utf8.txt")
    for target in targets:
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        gone.append(target.name)
    return gone


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
