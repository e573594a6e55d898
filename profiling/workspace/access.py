"""Who may open a workspace: its owner and the people it is shared with (workspace meta).

Meta keys: ``owner`` (an e-mail address, set at creation when sign-in is on) and
``shared_with`` (a JSON list of e-mail addresses). Addresses are compared case-insensitively.

Workspaces without an owner, when sign-in is on:

- the built-in sample store is public sample data: every signed-in user may open it (it is
  read-only and cannot be deleted);
- any other one was saved while the app ran without sign-in, so nobody can say whose data it
  is. Nobody becomes its owner by opening it: it is visible only to the administrators listed
  in the secrets (``[access] admins = ["dpo@example.com"]``), who can claim it or assign it
  to an owner (:func:`assign`). Until then nobody else sees it.

Only the owner may delete a workspace, or share it; an administrator may (re)assign any
workspace's owner, and so may its owner. What each role may change, and the check every
write runs first, are in :mod:`profiling.workspace.roles`. Every check here fails closed:
:func:`check_open` refuses a workspace whose meta cannot be read.
"""

from __future__ import annotations

import json

from profiling.errors import WorkspaceError
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import db
from profiling.workspace.privacy import ASSIGN_OWNER, record_audit
from profiling.workspace.roles import (
    LOCAL,
    META_ERRORS,
    NONE,
    AccessDenied,
    Caller,
    access_of,
    is_admin,
    is_builtin_sample,
    norm,
    require_owner,
    role,
)
from profiling.workspace.store import (
    SAMPLE_SLUG,
    Workspace,
    WorkspaceMissing,
    open_workspace,
    workspace_lock,
)

__all__ = [
    "LOCAL",
    "AccessDenied",
    "Caller",
    "NoSuchWorkspace",
    "access_of",
    "assign",
    "can_delete",
    "can_open",
    "check_delete",
    "can_write",
    "check_open",
    "is_sample",
    "owner_meta",
    "readable",
    "require_owner",
    "role",
    "share",
]

_norm = norm


class NoSuchWorkspace(AccessDenied):
    """No workspace has the slug asked for (the message names only that slug)."""


def owner_meta(email: str | None) -> dict[str, str]:
    """Meta entries for a new workspace created by ``email`` (none without sign-in)."""
    return {"owner": _norm(email), "shared_with": "[]"} if email else {}


def is_sample(meta: dict) -> bool:
    """The built-in, read-only sample store (public sample data)."""
    return meta.get("slug") == SAMPLE_SLUG and is_builtin_sample(meta)


def can_open(meta: dict, email: str | None, admins=()) -> bool:
    """True when ``email`` owns the workspace or it is shared with them; for a workspace
    without an owner, when it is the sample store or ``email`` is an administrator.
    Raises AccessDenied when the meta's sharing list is malformed."""
    return role(meta, Caller(email, tuple(admins or ()))) != NONE


def can_delete(meta: dict, email: str | None) -> bool:
    """Only the owner deletes (an owner-less workspace must be claimed first)."""
    owner, _shared = access_of(meta)
    return bool(owner) and email is not None and _norm(email) == owner


def check_open(slug: str, caller: Caller | None) -> Workspace:
    """The workspace ``slug`` when ``caller`` may open it (always for :data:`LOCAL`).

    Fails closed: raises NoSuchWorkspace when there is none, and AccessDenied when the
    caller has no role in it or its meta cannot be read (busy, damaged, truncated, not a
    workspace). Messages name the slug asked for and the caller, nothing else."""
    caller = caller or LOCAL
    try:
        ws = open_workspace(slug)
    except WorkspaceMissing:
        raise NoSuchWorkspace(_("there is no workspace {name}").format(name=repr(slug))) from None
    except META_ERRORS:  # the sample store could not be built
        raise AccessDenied(
            _("workspace {name} cannot be opened now").format(name=repr(slug))
        ) from None
    if not caller.signed_in_mode:
        return ws
    try:
        meta = ws.meta()
        who = role(meta, caller)
    except AccessDenied:
        raise
    except META_ERRORS:
        raise AccessDenied(
            _(
                "workspace {name} cannot be opened now: who may open it could not be checked "
                "(its database is busy or damaged), so it stays closed. Try again in a minute; "
                "if this persists, tell its owner or an administrator"
            ).format(name=repr(slug))
        ) from None
    if who != NONE:
        return ws
    if not access_of(meta)[0] and not is_sample(meta):
        raise AccessDenied(
            _(
                "You do not have access to this workspace: it was saved without sign-in, so it "
                "has no owner yet. An administrator can assign it to its owner on the Data page"
            )
        )
    raise AccessDenied(
        _(
            "You do not have access to this workspace. Ask its owner to share it with "
            "{caller}, or pick one of yours in the sidebar"
        ).format(caller=caller.label_text)
    )


def readable(slugs, caller: Caller | None) -> list[str]:
    """The slugs of ``slugs`` that ``caller`` may open (all for :data:`LOCAL`); one whose
    access cannot be checked is left out."""
    out = []
    for slug in slugs:
        try:
            check_open(slug, caller)
        except AccessDenied:
            continue
        out.append(slug)
    return out


def can_write(ws: Workspace, caller: Caller | None) -> bool:
    """True when ``caller`` may change ``ws`` (owner, or administrator of an owner-less one;
    everyone in :data:`LOCAL` mode); False also when it cannot be checked."""
    try:
        require_owner(ws, caller, N_("change"))
    except AccessDenied:
        return False
    return True


def check_delete(ws: Workspace, email: str | None) -> None:
    """Raise WorkspaceError unless ``email`` owns ``ws``."""
    meta = ws.meta()
    if not can_delete(meta, email):
        owner, _shared = access_of(meta)
        who = owner or _("nobody: an administrator must claim it first")
        raise WorkspaceError(
            _(
                "only the owner of workspace {name} ({owner}) can delete it; you are signed "
                "in as {email}"
            ).format(name=repr(ws.slug), owner=who, email=email or _("nobody"))
        )


def assign(ws: Workspace, by: str, owner: str, admins=()) -> str:
    """Make ``owner`` the owner of ``ws`` (an administrator claiming or assigning it, or the
    owner handing it over); the shared-with list is kept. Returns the new owner.
    Raises WorkspaceError for anyone else, the sample store or an address without "@"."""
    meta = ws.meta()
    current, _shared = access_of(meta)
    if is_sample(meta):
        raise WorkspaceError(_("the built-in sample store is public sample data: it has no owner"))
    if not (is_admin(by, admins) or (current and _norm(by) == current)):
        raise WorkspaceError(
            _(
                "only an administrator ([access] admins in the secrets) or the owner of "
                "workspace {name} can assign its owner; you are signed in as {email}"
            ).format(name=repr(ws.slug), email=by)
        )
    new = _norm(owner)
    if "@" not in new:
        raise WorkspaceError(
            _("owner: expected an e-mail address, found {found}").format(found=repr(owner))
        )
    with workspace_lock(ws.slug), db.connect(ws.db_path) as con, db.transaction(con):
        con.execute("DELETE FROM meta WHERE key = 'owner'")
        con.execute("INSERT INTO meta VALUES ('owner', ?)", [new])
        if "shared_with" not in meta:
            con.execute("INSERT INTO meta VALUES ('shared_with', '[]')")
        record_audit(con, ASSIGN_OWNER, by, "", json.dumps({"from": current, "to": new}))
    return new


def share(ws: Workspace, by: str, emails: list[str]) -> list[str]:
    """Set the people ``ws`` is shared with (only its owner may); returns the new list.
    Raises WorkspaceError for someone else or an address without "@"."""
    meta = ws.meta()
    owner, _shared = access_of(meta)
    if not owner or _norm(by) != owner:
        raise WorkspaceError(
            _(
                "only the owner of workspace {name} ({owner}) can share it; you are signed "
                "in as {email}"
            ).format(name=repr(ws.slug), owner=owner or _("nobody"), email=by)
        )
    clean = sorted({_norm(e) for e in emails if e.strip()} - {owner})
    bad = [e for e in clean if "@" not in e]
    if bad:
        raise WorkspaceError(
            _("shared_with: expected e-mail addresses, found {found}").format(found=", ".join(bad))
        )
    with workspace_lock(ws.slug), db.connect(ws.db_path) as con, db.transaction(con):
        con.execute("DELETE FROM meta WHERE key = 'shared_with'")
        con.execute("INSERT INTO meta VALUES ('shared_with', ?)", [json.dumps(clean)])
    return clean
