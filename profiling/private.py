"""Private files: folders only the server's user can open, upload expiry and cache limits.

Customer logs are personal data. Every folder Persona Studio writes (workspaces, the upload
scratch folder, caches) is made ``0700`` by :func:`private_dir`, so other accounts on the
machine can read none of the files inside, whatever their own mode; :func:`private_umask`
(called by the app and the CLI at start) also makes new files ``0600``.

Uploads are written to :func:`uploads_dir` under names made from their content digest (a file
name from the browser never becomes a path). A saved workspace copies its sources into its own
folder (or keeps none, when it pseudonymizes ids), so the scratch copies are only needed while
an upload is being reviewed: saving deletes them (:func:`discard_uploads`), the page deletes an
abandoned one, and :func:`sweep_uploads` deletes those not used for the retention time
(``$PERSONA_STUDIO_UPLOAD_RETENTION_HOURS``, default 1: a session touches its uploads on
every page run, so an upload outlives its session by at most that). :func:`trim_lru` keeps a cache
folder under a size limit by deleting its least recently used files first.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from pathlib import Path

from profiling.errors import ProfilingError
from profiling.errors import translated as _

DEFAULT_RETENTION_HOURS = 1.0
_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")
_last_sweep = 0.0


class UnsafeFolderError(ProfilingError):
    """A folder meant to be private belongs to another account or cannot be made private."""


def private_umask() -> None:
    """New files ``0600`` and folders ``0700`` for the rest of this process."""
    os.umask(0o077)


def private_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and missing parents) and make it ``0700``; returns it.

    Raises UnsafeFolderError when the folder belongs to another account (for example a
    folder somebody else created in a shared temporary directory beforehand).
    """
    p = Path(path)
    p.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = p.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeFolderError(
            _("{path}: expected a private folder, found a link or a file").format(path=p)
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise UnsafeFolderError(
            _(
                "{path}: expected a folder owned by this account (uid {uid}), "
                "found one owned by uid {owner}; remove it or set PERSONA_STUDIO_HOME"
            ).format(path=p, uid=os.getuid(), owner=info.st_uid)
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        p.chmod(0o700)
    return p


def data_home() -> Path:
    """``$PERSONA_STUDIO_HOME``, else ``$XDG_DATA_HOME/persona-studio``, else
    ``~/.local/share/persona-studio`` (the same rule as ``profiling.workspace.home``)."""
    root = os.environ.get("PERSONA_STUDIO_HOME")
    if root:
        return Path(root)
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "persona-studio"


def uploads_dir() -> Path:
    """The private scratch folder for uploads under review and their transcoded copies."""
    try:
        return private_dir(data_home() / "uploads")
    except PermissionError:  # a read-only home: a per-account folder in the temp dir
        uid = os.getuid() if hasattr(os, "getuid") else "user"
        return private_dir(Path(tempfile.gettempdir()) / f"persona-studio-{uid}")


def safe_suffix(name: str) -> str:
    """The file name's extension if it is short and plain (".csv", ".xlsx"), else ""."""
    suffix = os.path.splitext(os.path.basename(str(name).replace("\\", "/")))[1].lower()
    return suffix if _SAFE_SUFFIX.match(suffix) else ""


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode ``0600``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def retention_seconds() -> float:
    """The upload retention time from ``$PERSONA_STUDIO_UPLOAD_RETENTION_HOURS`` (default 1)."""
    raw = os.environ.get("PERSONA_STUDIO_UPLOAD_RETENTION_HOURS")
    try:
        hours = float(raw) if raw else DEFAULT_RETENTION_HOURS
    except ValueError as exc:
        raise ProfilingError(
            _(
                "PERSONA_STUDIO_UPLOAD_RETENTION_HOURS: expected a number of hours, found {value!r}"
            ).format(value=raw)
        ) from exc
    return max(hours, 0.0) * 3600.0


def sweep_uploads(
    max_age_seconds: float | None = None, *, now: float | None = None, folder: Path | None = None
) -> list[str]:
    """Delete scratch uploads not used for ``max_age_seconds`` (default: the retention time);
    returns the names deleted. Files in use are touched by the code that reuses them."""
    age = retention_seconds() if max_age_seconds is None else max_age_seconds
    now = time.time() if now is None else now
    root = folder if folder is not None else uploads_dir()
    gone = []
    for entry in os.scandir(root):
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > age:
                os.unlink(entry.path)
                gone.append(entry.name)
        except FileNotFoundError:
            continue
    return gone


def _upload_folders() -> list[Path]:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return [data_home() / "uploads", Path(tempfile.gettempdir()) / f"persona-studio-{uid}"]


def discard_uploads(paths) -> list[str]:
    """Delete the upload scratch copies among ``paths`` (a saved or abandoned upload); paths
    outside the scratch folder (a file given on the command line) are never touched.
    Returns the names deleted."""
    folders = {f.resolve() for f in _upload_folders() if f.is_dir()}
    gone = []
    for p in paths:
        path = Path(p)
        if path.parent.resolve() in folders and path.is_file():
            path.unlink(missing_ok=True)
            gone.append(path.name)
    return gone


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a leftover named by a live process is still in use)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_PART = re.compile(r"^\..+\.(\d+)\.part$")


def sweep_partial_uploads(folder: Path | None = None) -> list[str]:
    """Delete half-written scratch uploads (``.<name>.<pid>.part``) whose writer is gone,
    whatever their age; returns the names deleted."""
    root = folder if folder is not None else uploads_dir()
    gone = []
    for entry in os.scandir(root):
        m = _PART.match(entry.name)
        if m and entry.is_file(follow_symlinks=False) and not pid_alive(int(m.group(1))):
            os.unlink(entry.path)
            gone.append(entry.name)
    return gone


def maybe_sweep_uploads(every_seconds: float = 600.0) -> None:
    """:func:`sweep_uploads` at most once every ``every_seconds`` in this process."""
    global _last_sweep
    if time.monotonic() - _last_sweep < every_seconds and _last_sweep:
        return
    _last_sweep = time.monotonic()
    try:
        sweep_uploads()
    except OSError:
        return


def touch(path: str | os.PathLike) -> None:
    """Mark a file as just used (for upload expiry and LRU eviction)."""
    try:
        os.utime(path)
    except OSError:
        return


def trim_lru(folder: str | os.PathLike, max_bytes: int, *, keep: set[str] = frozenset()) -> int:
    """Delete the least recently used files (by modification time, which readers refresh
    with :func:`touch`) until ``folder`` holds at most ``max_bytes``; returns bytes freed.
    Files named in ``keep`` are never deleted."""
    root = Path(folder)
    if not root.is_dir():
        return 0
    files = []
    for entry in os.scandir(root):
        if entry.is_file(follow_symlinks=False):
            st = entry.stat()
            files.append((st.st_mtime, entry.name, st.st_size))
    total = sum(size for _mtime, _name, size in files)
    freed = 0
    for _mtime, name, size in sorted(files):
        if total - freed <= max_bytes:
            break
        if name in keep:
            continue
        try:
            os.unlink(root / name)
            freed += size
        except FileNotFoundError:
            continue
    return freed


def remove_stale_temporaries(
    folder: str | os.PathLike,
    max_age_seconds: float = 3600.0,
    *,
    now: float | None = None,
    recursive: bool = False,
) -> list[str]:
    """Delete hidden temporary entries (names starting with ".") older than ``max_age_seconds``
    in ``folder`` (and, with ``recursive``, in its non-hidden subfolders): what a server
    killed in the middle of creating a workspace or writing a result leaves behind.
    Returns the names removed. Younger ones may belong to a save still running."""
    import shutil

    root = Path(folder)
    now = time.time() if now is None else now
    gone = []
    if not root.is_dir():
        return gone
    if recursive:
        for sub in os.scandir(root):
            if sub.is_dir(follow_symlinks=False) and not sub.name.startswith("."):
                gone += remove_stale_temporaries(sub.path, max_age_seconds, now=now, recursive=True)
    for entry in os.scandir(root):
        if not entry.name.startswith(".") or now - entry.stat().st_mtime <= max_age_seconds:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)
        gone.append(entry.name)
    return gone


def crash_point(where: str) -> None:
    """Fault tests kill the writing process here, in the middle of a save: when
    ``$PERSONA_STUDIO_CRASH_AT`` names ``where``, say so on stdout and wait to be killed."""
    if os.environ.get("PERSONA_STUDIO_CRASH_AT") == where:
        print(f"crash point {where} reached", flush=True)
        time.sleep(600)
