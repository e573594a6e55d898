"""The workspace storage format: its version, checked on open, and the upgrades between them.

``meta.format`` holds ``persona-studio-workspace/<n>``. Opening a workspace (every
:func:`profiling.workspace.db.connect` to an existing file) reads it:

- the current version: opened as is;
- an older version with an upgrade here: upgraded in place, once, in one transaction under
  the workspace's write lock, then opened;
- a newer version (or one with no upgrade): refused with a message saying which.

Versions:

1. segmentations pickled in ``snapshots.segmentation`` (a BLOB);
2. no pickles in the database: a snapshot's assignments are the table ``assignments_<n>``
   and the rest of its segmentation (segment descriptions, k curve, features) is JSON text in
   ``snapshots.segmentation``.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

from profiling.errors import WorkspaceError
from profiling.vocabulary.i18n import gettext as _

PREFIX = "persona-studio-workspace/"
VERSION = 2
FORMAT = f"{PREFIX}{VERSION}"


class NewerFormatError(WorkspaceError):
    """The workspace was written by a newer Persona Studio than this one."""


def parse(value: str | None, path: Path) -> int:
    """The version number of a ``meta.format`` value. A workspace without one predates the
    key's use and is version 1."""
    if value is None:
        return 1
    m = re.fullmatch(re.escape(PREFIX) + r"(\d+)", value.strip())
    if not m:
        raise WorkspaceError(
            _(
                "{path}: expected a workspace format like {expected} in its meta table, "
                "found {found}"
            ).format(path=path, expected=repr(FORMAT), found=repr(value))
        )
    return int(m.group(1))


def read_version(con, path: Path) -> int | None:
    """The format version stored in the open database; None when it has no meta table (not
    a workspace: callers say so)."""
    # fetchall, not fetchone: a result left unfinished blocks the caller's next register()
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchall()[0][0]
    if not has_meta:
        return None
    rows = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchall()
    return parse(rows[0][0] if rows else None, path)


def refuse_newer(version: int, path: Path) -> None:
    if version > VERSION:
        raise NewerFormatError(
            _(
                "{path}: this workspace was made by a newer Persona Studio (storage format "
                "{found}; this version reads up to {expected}). Upgrade Persona Studio "
                "to open it; it was left unchanged."
            ).format(path=path, found=f"{PREFIX}{version}", expected=FORMAT)
        )


# ---- segmentations as JSON -------------------------------------------------------------------
def _plain(value):
    """numpy scalars and other number-likes as plain Python numbers (for json.dumps)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__} in a segmentation's JSON")


def segmentation_json(seg) -> str:
    """Everything of a :class:`~profiling.profiles.segments.Segmentation` but its assignments
    (stored as a table), as JSON text."""
    return json.dumps(
        {
            "rfm": [d.to_dict() for d in seg.rfm],
            "clusters": [d.to_dict() for d in seg.clusters],
            "k_curve": seg.k_curve,
            "k": seg.k,
            "method": seg.method,
            "features": seg.features,
            "rfm_notes": seg.rfm_notes,
        },
        default=_plain,
    )


def segmentation_from(text: str, assignments):
    """The Segmentation stored as ``text`` (:func:`segmentation_json`) and its assignments."""
    from profiling.profiles.segments import Segmentation, SegmentDescription

    d = json.loads(text)
    return Segmentation(
        assignments,
        [SegmentDescription(**x) for x in d["rfm"]],
        [SegmentDescription(**x) for x in d["clusters"]],
        d["k_curve"],
        int(d["k"]),
        d["method"],
        list(d["features"]),
        list(d.get("rfm_notes", [])),
    )


# ---- upgrades --------------------------------------------------------------------------------
def _v1_to_v2(con, path: Path, write_table) -> None:
    """Pickled segmentations become JSON text plus their assignments table
    (``write_table``: :func:`profiling.workspace.db.write_table`)."""
    rows = con.execute("SELECT snapshot_id, segmentation FROM snapshots").fetchall()
    texts = {}
    for sid, blob in rows:
        if blob is None:
            raise WorkspaceError(
                _("{path}: snapshot {snapshot} has no segmentation stored; cannot upgrade").format(
                    path=path, snapshot=sid
                )
            )
        try:
            # the one place a pickle is read from the database: a version-1 workspace this
            # project wrote into its own private folder, read once and rewritten as JSON
            seg = pickle.loads(blob)  # noqa: S301 - see the comment above
        except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError) as exc:
            raise WorkspaceError(
                _(
                    "{path}: snapshot {snapshot} was saved in storage format {found} and cannot "
                    "be read by this version ({error}); the workspace was left unchanged. "
                    "Create the workspace again from its files."
                ).format(
                    path=path,
                    snapshot=sid,
                    found=f"{PREFIX}1",
                    error=f"{type(exc).__name__}: {exc}",
                )
            ) from None
        write_table(con, f"assignments_{sid}", seg.assignments)
        texts[sid] = segmentation_json(seg)
    con.execute(
        "CREATE TABLE snapshots_v2 (snapshot_id INTEGER PRIMARY KEY, as_of TIMESTAMPTZ, "
        "created_at TIMESTAMPTZ, data_version VARCHAR, users BIGINT, events BIGINT, "
        "label VARCHAR, segmentation VARCHAR)"
    )
    con.execute(
        "INSERT INTO snapshots_v2 SELECT snapshot_id, as_of, created_at, data_version, users, "
        "events, label, NULL FROM snapshots"
    )
    for sid, text in texts.items():
        con.execute("UPDATE snapshots_v2 SET segmentation = ? WHERE snapshot_id = ?", [text, sid])
    con.execute("DROP TABLE snapshots")
    con.execute("ALTER TABLE snapshots_v2 RENAME TO snapshots")


UPGRADES = {1: _v1_to_v2}
"""from version -> the step that brings a workspace to the next version (in a transaction,
run by :func:`profiling.workspace.db.upgrade`)."""
