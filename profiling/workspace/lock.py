"""One writer at a time per workspace, across threads and processes: a file lock.

Every change to a workspace (a batch, an erasure, settings, snapshots, custom segments, saved
results, a format upgrade) runs inside :func:`write_lock` on the workspace folder. The lock is
``fcntl.flock`` on ``write.lock`` in that folder: the kernel releases it when its holder
exits, however it exits, so a killed writer never leaves the workspace locked. A second writer
waits up to ``$PERSONA_STUDIO_LOCK_WAIT_S`` seconds (default 60) and is then refused with
:class:`WorkspaceBusy`. The lock is re-entrant within one thread (a write that calls another
write does not wait for itself); another thread of the same process waits like another
process does (``flock`` locks belong to the open file, not to the process).

:func:`is_held` tells a start-up sweep whether a live process is writing in a folder.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from profiling.errors import WorkspaceError
from profiling.vocabulary.i18n import gettext as _

LOCK_FILE = "write.lock"
WAIT_ENV = "PERSONA_STUDIO_LOCK_WAIT_S"
DEFAULT_WAIT_S = 60.0
_POLL_S = 0.05

_held = threading.local()  # .depth: {lock file path: (fd, depth)} of this thread


class WorkspaceBusy(WorkspaceError):
    """Another writer (a process or a thread) kept the workspace past the waiting time."""


def wait_seconds() -> float:
    """The waiting time from ``$PERSONA_STUDIO_LOCK_WAIT_S`` (default 60 seconds)."""
    raw = os.environ.get(WAIT_ENV)
    try:
        return max(float(raw), 0.0) if raw else DEFAULT_WAIT_S
    except ValueError as exc:
        raise WorkspaceError(
            _("{variable}: expected a number of seconds, found {found}").format(
                variable=WAIT_ENV, found=repr(raw)
            )
        ) from exc


def _table() -> dict:
    if not hasattr(_held, "locks"):
        _held.locks = {}
    return _held.locks


@contextmanager
def write_lock(folder: str | os.PathLike, *, wait_s: float | None = None) -> Iterator[None]:
    """Hold the write lock of the workspace in ``folder`` for the ``with`` block.

    Raises WorkspaceBusy when another writer holds it for more than ``wait_s`` seconds
    (default :func:`wait_seconds`) and WorkspaceError when the folder is gone.
    """
    path = Path(folder) / LOCK_FILE
    key = str(path)
    table = _table()
    if key in table:  # this thread holds it already: re-entrant
        fd, depth = table[key]
        table[key] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = table[key]
            table[key] = (fd, depth - 1)
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        raise WorkspaceError(
            _("{folder}: the workspace folder is gone").format(folder=folder)
        ) from None
    limit = wait_seconds() if wait_s is None else wait_s
    deadline = time.monotonic() + limit
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WorkspaceBusy(
                        _(
                            "workspace {name} is busy: another save is still running after "
                            "{seconds} s; try again when it has finished"
                        ).format(name=repr(Path(folder).name), seconds=f"{limit:g}")
                    ) from None
                time.sleep(_POLL_S)
        table[key] = (fd, 1)
        try:
            yield
        finally:
            del table[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_held(folder: str | os.PathLike) -> bool:
    """Whether a live writer (any process, this one included) holds ``folder``'s lock."""
    path = Path(folder) / LOCK_FILE
    if str(path) in _table():
        return True
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
