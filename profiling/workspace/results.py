"""Saved results of a workspace (fitted models, comparisons): files keyed by what they
depend on, so a restarted server reuses them and changed data invalidates exactly them.

``results/<kind>/<params digest>/<data version>.pkl`` holds the object and a ``.json``
beside it says what data it saw (data version, last event, events). Files are written to a
temporary name and renamed, so a reader finds a whole file or none. A result for an older
data version is kept: pages show it as stale ("trained on data to ...") with a retrain
button instead of presenting it as current.

A result can also be *marked for retraining* (:meth:`ResultStore.mark_stale`, used when a
user is erased): its object file is deleted (it held the user's data), so it is never served
again, and its ``.json`` keeps what it was plus ``stale_reason``, which pages show until a
result for the current data replaces it.

Every object file starts with a one-line header naming the result format and the Persona
Studio version that wrote it (scikit-learn's habit of stamping its pickles): a file written by
another version, or with no header (before headers existed), is refused without being
unpickled (:meth:`ResultStore.get` returns None) and :meth:`ResultStore.stale_reasons` says it
must be retrained, so a changed class never crashes a page nor is silently served.

Writes hold the workspace's write lock (:mod:`profiling.workspace.lock`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from profiling.errors import WorkspaceError
from profiling.private import crash_point
from profiling.workspace.lock import write_lock

RESULT_FORMAT = "persona-studio-result/1"
_MAGIC = b"PERSONA-STUDIO-RESULT "


def library_version() -> str:
    """The Persona Studio version: the installed package's, else the checkout's
    ``pyproject.toml``."""
    global _VERSION
    if _VERSION is None:
        import importlib.metadata
        import tomllib

        try:
            _VERSION = importlib.metadata.version("persona-studio")
        except importlib.metadata.PackageNotFoundError:
            pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
            try:
                _VERSION = tomllib.loads(pyproject.read_text())["project"]["version"]
            except (OSError, KeyError, tomllib.TOMLDecodeError):
                _VERSION = "unknown"
    return _VERSION


_VERSION: str | None = None


def stamp() -> dict:
    """The header written before every saved object."""
    return {"format": RESULT_FORMAT, "library": library_version()}


def _encode(obj) -> bytes:
    head = json.dumps(stamp(), sort_keys=True).encode()
    return _MAGIC + head + b"\n" + pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)


def _header(blob: bytes) -> tuple[dict | None, int]:
    """(header, offset of the pickle) of a saved object file; (None, 0) without a header."""
    if not blob.startswith(_MAGIC):
        return None, 0
    end = blob.find(b"\n", len(_MAGIC))
    try:
        return json.loads(blob[len(_MAGIC) : end]), end + 1
    except ValueError:
        return None, 0


def refusal(blob: bytes) -> str:
    """Why a saved object file may not be loaded ("" when it may): written by another
    Persona Studio version or before results carried a version."""
    head, _ = _header(blob)
    if head is None:
        return (
            "a saved result was written by an older Persona Studio (before results carried "
            f"a version); this is version {library_version()}: retrain it to use it again"
        )
    if head != stamp():
        return (
            f"a saved result was written by Persona Studio {head.get('library', '?')} "
            f"({head.get('format', '?')}); this is version {library_version()}: retrain it "
            "to use it again"
        )
    return ""


def _load(path: Path):
    """The object saved at ``path``; None when missing, unreadable or refused."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    if refusal(blob):
        return None
    _, start = _header(blob)
    try:
        return pickle.loads(blob[start:])  # noqa: S301 - our own file, version-checked above
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None


def _refusal_of(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return refusal(fh.readline())
    except OSError:
        return ""


@dataclass(frozen=True)
class SavedInfo:
    """What data a saved result saw."""

    kind: str
    data_version: str
    data_end: str  # ISO timestamp of the last event it saw
    events: int
    saved_at: str
    stale_reason: str = ""  # set when marked for retraining: why it may not be served


def params_digest(params: dict) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _make_dirs(folder: Path, root: Path) -> bool:
    """Create ``folder`` below ``root`` one level at a time, never ``root`` itself: a
    workspace deleted while a background job computed stays deleted. False when gone."""
    missing = []
    while folder != root and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    try:
        for d in reversed(missing):
            d.mkdir(exist_ok=True)
    except FileNotFoundError:
        return False
    return folder.is_dir()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            half = len(data) // 2
            fh.write(data[:half])
            fh.flush()
            crash_point("result")  # fault tests: killed with half the file written
            fh.write(data[half:])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultStore:
    """Pickled results in a workspace's ``results`` folder."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _dir(self, kind: str, params: dict) -> Path:
        return self.directory / kind / params_digest(params)

    def get(self, kind: str, params: dict, data_version: str):
        """The saved object for exactly this data version, or None (unreadable = None)."""
        return _load(self._dir(kind, params) / f"{data_version}.pkl")

    def put(
        self, kind: str, params: dict, data_version: str, obj, *, data_end: datetime, events: int
    ) -> SavedInfo:
        folder = self._dir(kind, params)
        info = SavedInfo(
            kind, data_version, data_end.isoformat(), events, datetime.now(UTC).isoformat()
        )
        if not self.directory.parent.is_dir():
            # the workspace was deleted while this was computed: do not bring its folder back
            return info
        try:
            blob = _encode(obj)
        except (pickle.PicklingError, AttributeError, TypeError):
            # e.g. a torch network defined inside a function: kept in memory only, and
            # trained again after a restart
            return info
        try:
            with write_lock(self.directory.parent):
                if not _make_dirs(folder, self.directory.parent):
                    return info  # deleted meanwhile
                _atomic_write(folder / f"{data_version}.pkl", blob)
                _atomic_write(folder / f"{data_version}.json", json.dumps(info.__dict__).encode())
        except (FileNotFoundError, WorkspaceError) as exc:
            if self.directory.parent.is_dir() and not isinstance(exc, FileNotFoundError):
                raise  # busy or unwritable: the caller says so
            # the workspace was deleted while writing
        return info

    def has(self, kind: str, params: dict, data_version: str) -> bool:
        """Whether a usable result is saved for exactly this data version (reads its header
        only)."""
        path = self._dir(kind, params) / f"{data_version}.pkl"
        return path.exists() and not _refusal_of(path)

    def latest(self, kind: str, params: dict) -> SavedInfo | None:
        """The most recently saved result of this kind and parameters, any data version."""
        infos = []
        for meta in self._dir(kind, params).glob("*.json"):
            try:
                infos.append(SavedInfo(**json.loads(meta.read_text())))
            except (OSError, ValueError, TypeError):
                continue
        return max(infos, key=lambda i: i.saved_at, default=None)

    def _newest_files(self, kind: str) -> list[tuple[SavedInfo, Path]]:
        found = []
        for meta in (self.directory / kind).glob("*/*.json"):
            try:
                found.append((SavedInfo(**json.loads(meta.read_text())), meta))
            except (OSError, ValueError, TypeError):
                continue
        return sorted(found, key=lambda x: x[0].saved_at, reverse=True)

    def newest_info(self, kind: str) -> SavedInfo | None:
        """What the most recently saved result of this kind saw, whatever its parameters
        (reads the small ``.json`` files only)."""
        files = self._newest_files(kind)
        return files[0][0] if files else None

    def newest(self, kind: str) -> tuple[SavedInfo, object] | None:
        """The most recently saved result of this kind, whatever its parameters, with its
        info; None when there is none or none can be read."""
        for info, meta in self._newest_files(kind):
            obj = _load(meta.with_suffix(".pkl"))
            if obj is not None:
                return info, obj
        return None

    def mark_stale(self, reason: str) -> int:
        """Mark every saved result for retraining: delete its object file (it is never
        served again) and record ``reason`` in its ``.json``. Returns how many were marked."""
        if not self.directory.is_dir():
            return 0
        with write_lock(self.directory.parent):
            return self._mark_stale(reason)

    def _mark_stale(self, reason: str) -> int:
        marked = 0
        for blob in sorted(self.directory.rglob("*.pkl")):
            meta = blob.with_suffix(".json")
            try:
                info = json.loads(meta.read_text())
            except (OSError, ValueError):
                info = {
                    "kind": blob.parent.parent.name,
                    "data_version": blob.stem,
                    "data_end": "",
                    "events": 0,
                    "saved_at": "",
                }
            info["stale_reason"] = reason
            _atomic_write(meta, json.dumps(info).encode())
            blob.unlink(missing_ok=True)
            marked += 1
        return marked

    def stale_reasons(self, kind: str = "*") -> list[str]:
        """Why results (of ``kind``, all by default) must be retrained: the ``stale_reason``
        of every (kind, parameters) whose latest saved result is marked (distinct); [] when
        none is."""
        reasons: list[str] = []
        if not self.directory.is_dir():
            return reasons
        for folder in sorted(p for p in self.directory.glob(f"{kind}/*") if p.is_dir()):
            infos = []
            for meta in folder.glob("*.json"):
                try:
                    infos.append(SavedInfo(**json.loads(meta.read_text())))
                except (OSError, ValueError, TypeError):
                    continue
            last = max(infos, key=lambda i: i.saved_at, default=None)
            why = last.stale_reason if last is not None else ""
            if last is not None and not why:
                why = _refusal_of(folder / f"{last.data_version}.pkl")
            if why and why not in reasons:
                reasons.append(why)
        return reasons

    def load(self, info: SavedInfo, params: dict):
        return self.get(info.kind, params, info.data_version)
