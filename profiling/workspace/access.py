"""Who may open a workspace: its owner and the people it is shared with (workspace meta).

Meta keys: ``owner`` (an e-mail address, set at creation when sign-in is on) and
``shared_with`` (a JSON list of e-mail addresses). A workspace without an owner (the built-in
sample store, or one saved while the app ran without sign-in) is open to every signed-in
user. Addresses are compared case-insensitively.
"""

from __future__ import annotations

import json

from profiling.errors import WorkspaceError
from profiling.workspace import db
from profiling.workspace.store import Workspace, _lock


def _norm(email: str) -> str:
    return email.strip().lower()


def owner_meta(email: str | None) -> dict[str, str]:
    """Meta entries for a new workspace created by ``email`` (none without sign-in)."""
    return {"owner": _norm(email), "shared_with": "[]"} if email else {}


def access_of(meta: dict) -> tuple[str, list[str]]:
    """(owner, shared_with) from a workspace's meta; ("", []) when it has no owner."""
    return meta.get("owner", ""), json.loads(meta.get("shared_with") or "[]")


def can_open(meta: dict, email: str | None) -> bool:
    """True when ``email`` owns the workspace, it is shared with them, or it has no owner."""
    owner, shared = access_of(meta)
    if not owner:
        return True
    return email is not None and _norm(email) in {owner, *shared}


def share(ws: Workspace, by: str, emails: list[str]) -> list[str]:
    """Set the people ``ws`` is shared with (only its owner may); returns the new list.
    Raises WorkspaceError for someone else or an address without "@"."""
    meta = ws.meta()
    owner, _ = access_of(meta)
    if not owner or _norm(by) != owner:
        raise WorkspaceError(
            f"only the owner of workspace {ws.slug!r} ({owner or 'nobody'}) can share it; "
            f"you are signed in as {by}"
        )
    clean = sorted({_norm(e) for e in emails if e.strip()} - {owner})
    bad = [e for e in clean if "@" not in e]
    if bad:
        raise WorkspaceError(f"shared_with: expected e-mail addresses, found {', '.join(bad)}")
    with _lock(ws.slug), db.connect(ws.db_path) as con, db.transaction(con):
        con.execute("DELETE FROM meta WHERE key = 'shared_with'")
        con.execute("INSERT INTO meta VALUES ('shared_with', ?)", [json.dumps(clean)])
    return clean
