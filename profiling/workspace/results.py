"""Saved results of a workspace (fitted models, comparisons): files keyed by what they
depend on, so a restarted server reuses them and changed data invalidates exactly them.

``results/<kind>/<params digest>/<data version>.pkl`` holds the object and a ``.json``
beside it says what data it saw (data version, last event, events). Files are written to a
temporary name and renamed, so a reader finds a whole file or none. A result for an older
data version is kept: pages show it as stale ("trained on data to ...") with a retrain
button instead of presenting it as current.
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


@dataclass(frozen=True)
class SavedInfo:
    """What data a saved result saw."""

    kind: str
    data_version: str
    data_end: str  # ISO timestamp of the last event it saw
    events: int
    saved_at: str


def params_digest(params: dict) -> str:
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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

    def put(self, kind: str, params: dict, data_version: str, obj, *, data_end: datetime,
            events: int) -> SavedInfo:  # fmt: skip
        folder = self._dir(kind, params)
        info = SavedInfo(kind, data_version, data_end.isoformat(), events,
                         datetime.now(UTC).isoformat())  # fmt: skip
        if not self.directory.parent.is_dir():
            # the workspace was deleted while this was computed: do not bring its folder back
            return info
        try:
            blob = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError):
            # e.g. a torch network defined inside a function: kept in memory only, and
            # trained again after a restart
            return info
        _atomic_write(folder / f"{data_version}.pkl", blob)
        _atomic_write(folder / f"{data_version}.json", json.dumps(info.__dict__).encode())
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
                return info, pickle.loads(meta.with_suffix(".pkl").read_bytes())  # noqa: S301
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                continue
        return None

    def load(self, info: SavedInfo, params: dict):
        return self.get(info.kind, params, info.data_version)
