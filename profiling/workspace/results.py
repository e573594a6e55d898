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

from profiling.private import crash_point


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
        path = self._dir(kind, params) / f"{data_version}.pkl"
        try:
            return pickle.loads(path.read_bytes())  # noqa: S301 (our own files)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

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
            blob = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError):
            # e.g. a torch network defined inside a function: kept in memory only, and
            # trained again after a restart
            return info
        if not _make_dirs(folder, self.directory.parent):
            return info  # deleted meanwhile
        try:
            _atomic_write(folder / f"{data_version}.pkl", blob)
            _atomic_write(folder / f"{data_version}.json", json.dumps(info.__dict__).encode())
        except FileNotFoundError:  # the workspace was deleted while writing
            pass
        return info

    def has(self, kind: str, params: dict, data_version: str) -> bool:
        """Whether a result is saved for exactly this data version (no loading)."""
        return (self._dir(kind, params) / f"{data_version}.pkl").exists()

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
            try:
                return info, pickle.loads(meta.with_suffix(".pkl").read_bytes())  # noqa: S301 - reads a pickle this project wrote into its own private folder
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                continue
        return None

    def mark_stale(self, reason: str) -> int:
        """Mark every saved result for retraining: delete its object file (it is never
        served again) and record ``reason`` in its ``.json``. Returns how many were marked."""
        marked = 0
        if not self.directory.is_dir():
            return 0
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
            if last is not None and last.stale_reason and last.stale_reason not in reasons:
                reasons.append(last.stale_reason)
        return reasons

    def load(self, info: SavedInfo, params: dict):
        return self.get(info.kind, params, info.data_version)
