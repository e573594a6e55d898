"""Who may do what in a workspace: the caller's role, read from the workspace's meta, and the
check every write runs first (:func:`require_owner`).

Roles, when sign-in is configured (the app passes a :class:`Caller` built from the signed-in
user):

- **owner** (the ``owner`` meta key): reads, and changes everything;
- **admin** (an address in ``[access] admins``), for a workspace with no owner (saved
  without sign-in): reads, changes privacy settings, erases users, pseudonymizes ids, adds
  data, and assigns an owner; deleting and sharing need an owner, so it claims it first
  (:func:`profiling.workspace.access.assign`, audited). An administrator has no role in a
  workspace someone owns;
- **reader** (an address in ``shared_with``; every signed-in user for the built-in sample
  store): reads only, within the workspace's privacy settings;
- **none**: nothing, not even its name.

Without sign-in (:data:`LOCAL`: the CLI, a notebook, the app in single-user open mode)
whoever runs the code owns every file, so every check passes, as before.

A check that cannot decide (the workspace's meta cannot be read: locked, damaged, missing,
malformed) raises :class:`AccessDenied`: it never allows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from profiling.errors import ProfilingError, WorkspaceError
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

RESERVED = frozenset({"sample"})
"""Slugs of built-in workspaces: users can neither create nor delete a workspace so named."""
BUILTIN_KEY = "builtin"
"""Meta key marking a folder the library built itself (value: its reserved slug)."""

OWNER, ADMIN, READER, NONE = "owner", "admin", "reader", "none"
WRITERS = frozenset({OWNER, ADMIN})

META_ERRORS = (ProfilingError, duckdb.Error, OSError, ValueError, KeyError)
"""What reading a workspace's meta can raise: a busy, damaged, truncated or foreign file, a
missing folder, malformed values. A guard catching these denies."""


class AccessDenied(WorkspaceError):
    """The caller may not do this to this workspace, or it cannot be checked that they may.
    The message names only the workspace asked for and the caller."""


@dataclass(frozen=True)
class Caller:
    """Who asks: the signed-in address (None when nobody is signed in) and the
    administrators' addresses. ``signed_in_mode`` False is :data:`LOCAL`."""

    email: str | None
    admins: tuple[str, ...] = ()
    signed_in_mode: bool = True

    @property
    def label(self) -> str:
        """How the audit log names the caller (stored as it is: an address, or one of
        :data:`CALLER_WORDS` in English)."""
        if not self.signed_in_mode:
            return LOCAL_USER
        return norm(self.email) if self.email else NOBODY

    @property
    def label_text(self) -> str:
        """:attr:`label` in the language of the context (an address as it is)."""
        return label_text(self.label)


LOCAL_USER = N_("local user (open mode)")
NOBODY = N_("nobody (not signed in)")
CALLER_WORDS = frozenset({LOCAL_USER, NOBODY})
"""The callers without an address, as the audit log stores them (English msgids)."""


def label_text(label: str) -> str:
    """A caller's label (:attr:`Caller.label`, also as stored in the audit log) in the
    language of the context: the words of :data:`CALLER_WORDS` translated, an address or
    any other stored text as it is."""
    return _(label) if label in CALLER_WORDS else label


LOCAL = Caller(None, (), signed_in_mode=False)
"""No sign-in configured: one local user, who owns every workspace."""


def norm(email: str) -> str:
    return email.strip().lower()


def is_admin(email: str | None, admins) -> bool:
    return email is not None and norm(email) in {norm(a) for a in admins or ()}


def access_of(meta: dict) -> tuple[str, list[str]]:
    """(owner, shared_with) from a workspace's meta; ("", []) when it has no owner.
    Raises AccessDenied when ``shared_with`` is not a JSON list of addresses."""
    try:
        shared = json.loads(meta.get("shared_with") or "[]")
    except ValueError:
        shared = None
    if not isinstance(shared, list) or not all(isinstance(s, str) for s in shared):
        raise AccessDenied(
            _(
                "workspace {name}: its list of people it is shared with cannot be read, so "
                "nobody but its owner is let in"
            ).format(name=repr(meta.get("slug", "")))
        )
    return norm(meta.get("owner") or ""), [norm(s) for s in shared]


def is_builtin_sample(meta: dict) -> bool:
    """The built-in, read-only sample store: marked ``builtin=sample`` by
    :func:`~profiling.workspace.store.ensure_sample` (or, built before that mark existed,
    read-only with a ``sample_version``, which only ensure_sample writes)."""
    if meta.get("slug") != "sample" or meta.get("readonly") != "true":
        return False
    return meta.get(BUILTIN_KEY) == "sample" or bool(meta.get("sample_version"))


def role(meta: dict, caller: Caller) -> str:
    """The caller's role in the workspace with ``meta``: OWNER, ADMIN, READER or NONE."""
    if not caller.signed_in_mode:
        return OWNER
    owner, shared = access_of(meta)
    email = norm(caller.email) if caller.email else None
    if email is None:
        return NONE
    if owner:
        return OWNER if email == owner else READER if email in shared else NONE
    if is_builtin_sample(meta):
        return READER
    return ADMIN if is_admin(email, caller.admins) else NONE


def require_owner(ws, caller: Caller | None, action: str, *, admin: bool = True) -> None:
    """Raise AccessDenied unless ``caller`` may ``action`` (e.g. "erase users from", an
    English msgid marked with ``N_`` by the caller, said in the reader's language in the
    message) workspace ``ws``: its owner, or (with ``admin``) an administrator of an
    owner-less workspace. None means :data:`LOCAL`.

    Fails closed: when the workspace's meta cannot be read, nobody but the local user may
    change it."""
    caller = caller or LOCAL
    if not caller.signed_in_mode:
        return
    try:
        meta = ws.meta()
        who = role(meta, caller)
    except AccessDenied:
        raise
    except META_ERRORS:
        raise AccessDenied(
            _(
                "cannot check who may {action} workspace {name}: its settings could not be "
                "read (the database is busy or damaged). Nothing was changed; try again later"
            ).format(action=_(action), name=repr(ws.slug))
        ) from None
    if who not in (WRITERS if admin else {OWNER}):
        raise AccessDenied(
            _(
                "only the owner of workspace {name}{or_admin} may {action} it; you are signed "
                "in as {caller}{read_only}"
            ).format(
                name=repr(ws.slug),
                or_admin=_(" (or an administrator, when it has no owner)") if admin else "",
                action=_(action),
                caller=caller.label_text,
                read_only=_(" and it is shared with you to read only") if who == READER else "",
            )
        )


def check_name(slug: str, meta: dict | None = None) -> None:
    """Raise WorkspaceError when ``slug`` is reserved for a built-in workspace (unless
    ``meta`` marks the workspace being made as that built-in)."""
    if slug in RESERVED and (meta or {}).get(BUILTIN_KEY) != slug:
        raise WorkspaceError(
            _(
                "the name {name} is reserved for the built-in {slug} store; choose another name"
            ).format(name=repr(slug), slug=slug)
        )
