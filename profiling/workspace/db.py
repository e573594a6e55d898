"""DuckDB access for one workspace file: short connections, transactions, polars in and out.

Connections are opened per operation and closed at once, so that another process (the CLI
adding a batch while the app is open) can take the file's lock between two operations. A
lock held by another process is waited for; a file that is not a DuckDB database, or not a
workspace, raises a :class:`WorkspaceError` naming it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from profiling.errors import WorkspaceError
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import formats
from profiling.workspace.lock import write_lock

DB_FILE = "workspace.duckdb"
FORMAT = formats.FORMAT
LOCK_WAIT_S = 60.0
_MAGIC = b"DUCK"  # DuckDB files carry it at bytes 8..12


def check_file(path: Path) -> None:
    """Raise when ``path`` exists but is not a DuckDB database (DuckDB would overwrite a
    foreign file of a few bytes instead of refusing it)."""
    if not path.exists():
        raise WorkspaceError(_("{path}: the workspace database is missing").format(path=path))
    with open(path, "rb") as fh:
        head = fh.read(16)
    if len(head) < 12 or head[8:12] != _MAGIC:
        raise WorkspaceError(
            _(
                "{path}: expected a DuckDB database written by Persona Studio, found a file that "
                "is not a DuckDB database ({n} bytes read at its start). Delete the "
                "workspace folder or restore the file from a backup."
            ).format(path=path, n=len(head))
        )


@contextmanager
def connect(
    path: Path, *, create: bool = False, wait_s: float = LOCK_WAIT_S, check_format: bool = True
) -> Iterator:
    """A DuckDB connection to ``path`` in UTC, closed on exit.

    Waits up to ``wait_s`` seconds while another process holds the file's lock. An existing
    workspace's storage format is checked first (:mod:`profiling.workspace.formats`): an
    older one is upgraded, a newer one refused.
    """
    path = Path(path)
    if not create:
        check_file(path)
    with _open(path, wait_s) as con:
        version = formats.read_version(con, path) if check_format and not create else None
        if version is not None:
            formats.refuse_newer(version, path)
        if version is None or version >= formats.VERSION:
            yield con
            return
    upgrade(path)  # an older workspace: upgraded once, then opened
    with _open(path, wait_s) as con:
        yield con


@contextmanager
def _open(path: Path, wait_s: float) -> Iterator:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with _OPEN_CLOSE:
                con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower() and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            raise WorkspaceError(
                _("{path}: cannot open the workspace database ({error})").format(
                    path=path, error=exc
                )
            ) from None
        except duckdb.Error as exc:
            raise WorkspaceError(
                _(
                    "{path}: expected a Persona Studio workspace database, DuckDB could not "
                    "open it: {error}"
                ).format(path=path, error=str(exc).splitlines()[0])
            ) from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        with _OPEN_CLOSE:
            con.close()
        _GENERATION[str(path)] = _GENERATION.get(str(path), 0) + 1


_OPEN_CLOSE = threading.Lock()
"""Connections of this process open and close one at a time: DuckDB shares one database
instance between the connections to a file, and a connection opened while another thread
closed the last one could miss its table functions ("python_arrow_scan does not exist")."""
_GENERATION: dict[str, int] = {}
"""Connections closed per file in this process: any write of ours changes it."""


def stamp(path: Path) -> tuple:
    """Changes whenever the file may have changed: a connection of this process closed, or
    the database or its write-ahead log changed on disk (another process wrote)."""
    stats = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st = p.stat()
            stats.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            stats.append(None)
    return (_GENERATION.get(str(path), 0), *stats)


@contextmanager
def transaction(con) -> Iterator:
    """Everything inside commits together or not at all (readers see before or after)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def quoted(name: str) -> str:
    """A SQL identifier, quoted (names of our own tables only; values go as parameters)."""
    return '"' + name.replace('"', '""') + '"'


def _storable(frame: pl.DataFrame) -> pl.DataFrame:
    """Categorical and enum columns as strings (DuckDB would turn them into its own enums)."""
    cast = {
        c: pl.String for c, t in frame.schema.items() if isinstance(t, pl.Categorical | pl.Enum)
    }
    return frame.cast(cast) if cast else frame


def write_table(con, name: str, frame: pl.DataFrame, *, replace: bool = True) -> None:
    """Create (or replace) table ``name`` from a polars frame, through Arrow."""
    view = f"__incoming_{name}"
    con.complete()  # DuckDB refuses to register while a statement's result is pending
    con.register(view, _storable(frame).to_arrow())
    try:
        verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
        con.execute(f"{verb} {quoted(name)} AS SELECT * FROM {quoted(view)}")  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
    finally:
        con.unregister(view)


def append(con, name: str, frame: pl.DataFrame) -> None:
    """Insert the rows of ``frame`` (same columns, by name) into table ``name``."""
    if frame.height == 0:
        return
    view = f"__incoming_{name}"
    con.complete()
    con.register(view, _storable(frame).to_arrow())
    try:
        cols = ", ".join(quoted(c) for c in frame.columns)
        con.execute(
            f"INSERT INTO {quoted(name)} ({cols}) SELECT {cols} FROM {quoted(view)}"  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
        )
    finally:
        con.unregister(view)


def read(con, query: str, params: list | None = None) -> pl.DataFrame:
    """The result of ``query`` as a polars frame (Arrow, no row loop); times in UTC."""
    con.complete()
    frame = con.sql(query, params=params).pl()
    fix = {
        c: pl.col(c).dt.convert_time_zone("UTC")
        for c, t in frame.schema.items()
        if isinstance(t, pl.Datetime) and t.time_zone not in (None, "UTC")
    }
    return frame.with_columns(**fix) if fix else frame


def has_table(con, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def upgrade(path: Path) -> int:
    """Bring the workspace database at ``path`` to the current storage format (under its
    write lock, in one transaction); returns the version it had. Raises NewerFormatError for a newer one and
    WorkspaceError when no upgrade exists."""
    with (
        write_lock(path.parent),
        connect(path, check_format=False) as con,
        transaction(con),
    ):
        found = formats.read_version(con, path)
        if found is None or found == formats.VERSION:
            return formats.VERSION if found is None else found
        formats.refuse_newer(found, path)
        version = found
        while version < formats.VERSION:
            step = formats.UPGRADES.get(version)
            if step is None:
                raise WorkspaceError(
                    _(
                        "{path}: storage format {found} is too old for this version of Persona "
                        "Studio (it reads {expected}); create the workspace again from its files"
                    ).format(path=path, found=f"{formats.PREFIX}{version}", expected=FORMAT)
                )
            step(con, path, write_table)
            version += 1
        con.execute("DELETE FROM meta WHERE key = 'format'")
        con.execute("INSERT INTO meta VALUES ('format', ?)", [FORMAT])
    return found
