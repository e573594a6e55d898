"""Server-side privacy set-up, run once per server process before any page."""

from __future__ import annotations

import os

import streamlit as st

from profiling import private
from profiling import workspace as W
from profiling.data import privacy as P
from profiling.errors import ProfilingError
from profiling.profiles.embeddings import default_cache_dir
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import access, roles, store
from ui.text import escape_markdown, show_error


@st.cache_resource(show_spinner=False)
def private_storage() -> bool:
    """New files 0600, every Persona Studio folder 0700 (also those made by older versions),
    and unsaved uploads past their retention time deleted."""
    private.private_umask()
    for folder in (
        W.home(),
        store.workspaces_dir(),
        default_cache_dir().parent,
        default_cache_dir(),
    ):
        private.private_dir(folder)
    store.sweep_leftovers()  # what killed saves left, whatever its age, unless still in use
    return True


# ---- sign-in and workspace access ----------------------------------------------------------
def auth_configured() -> bool:
    """True when ``[auth]`` is in ``.streamlit/secrets.toml`` (then every page needs sign-in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: open mode
        return False


def email_verified() -> bool:
    """False when the identity provider says the signed-in address is not verified
    (``email_verified`` false); True when it says it is, or does not say."""
    value = st.user.get("email_verified")
    return value is None or value is True or str(value).strip().lower() == "true"


def signed_in_email() -> str | None:
    """The signed-in user's e-mail address (lower case), or None in open mode, when nobody
    is signed in, or when the provider says the address is not verified (anyone could have
    typed it: it is no identity)."""
    if not auth_configured() or not st.user.is_logged_in or not email_verified():
        return None
    email = st.user.get("email") or st.user.get("sub") or ""
    return str(email).strip().lower() or None


def caller() -> roles.Caller:
    """Who is asking, for the library's access checks: :data:`roles.LOCAL` in open mode,
    else the signed-in address (None when there is none: every check then says no)."""
    if not auth_configured():
        return roles.LOCAL
    return roles.Caller(signed_in_email(), admins())


def require_sign_in() -> str | None:
    """With ``[auth]``: stop the page with a sign-in button until the user signs in, then
    show who is signed in and a sign-out button in the sidebar. Without it: say in the
    sidebar that the app is open. Returns the signed-in e-mail (None in open mode)."""
    if not auth_configured():
        st.sidebar.caption(
            ":material/lock_open: "
            + _(
                "Open mode: no sign-in is configured, so everyone who can reach this server "
                "sees every workspace. See the README to require sign-in."
            )
        )
        return None
    if not st.user.is_logged_in:
        st.title("Persona Studio")
        st.info(_("Customer data is personal data: sign in to continue."), icon=":material/lock:")
        st.button(_("Sign in"), type="primary", icon=":material/login:", on_click=st.login)
        st.stop()
    if not email_verified():
        st.title("Persona Studio")
        st.error(
            _(
                "Your sign-in provider says your e-mail address is not verified, so it cannot "
                "tell who you are: verify the address with the provider, then sign in again."
            ),
            icon=":material/block:",
        )
        st.button(_("Sign out"), icon=":material/logout:", on_click=st.logout)
        st.stop()
    email = signed_in_email()
    with st.sidebar:
        st.caption(_("Signed in as"))
        st.text(email or _("(no e-mail address)"))
        st.button(_("Sign out"), icon=":material/logout:", on_click=st.logout)
    return email


def workspace_meta(slug: str) -> dict | None:
    """The meta of workspace ``slug``; None when it cannot be read (callers then show
    nothing of it and allow nothing on it)."""
    try:
        return W.open_workspace(slug).meta()
    except roles.META_ERRORS:
        return None


def admins() -> tuple[str, ...]:
    """The administrators' addresses (``[access] admins`` in the secrets); they see and can
    claim or assign workspaces that have no owner."""
    try:
        value = st.secrets.get("access", {}).get("admins", [])
    except Exception:  # noqa: BLE001 - no secrets file: no administrators
        return ()
    return tuple(str(a) for a in ([value] if isinstance(value, str) else value))


def visible(names: dict[str, str], email: str | None) -> dict[str, str]:
    """The catalog (slug -> name) restricted to workspaces ``email`` may open."""
    if not auth_configured():
        return names
    allowed = set(access.readable(names, roles.Caller(email, admins())))
    return {slug: name for slug, name in names.items() if slug in allowed}


def deletable(names: dict[str, str], email: str | None) -> dict[str, str]:
    """The workspaces of ``names`` that ``email`` may delete: with sign-in, their owner's
    only; in open mode every saved one (never the sample store)."""
    out = {}
    for slug, name in names.items():
        meta = workspace_meta(slug)
        if meta is None or slug in roles.RESERVED:
            continue
        try:
            if not auth_configured() or access.can_delete(meta, email):
                out[slug] = name
        except access.AccessDenied:
            continue  # its sharing list is malformed: nobody can tell who may delete it
    return out


def can_write(slug: str) -> bool:
    """True when the viewer may change workspace ``slug`` (add data, privacy settings,
    erasure): its owner, an administrator of an owner-less one, everyone in open mode.
    False also when it cannot be checked."""
    try:
        return access.can_write(W.open_workspace(slug), caller())
    except roles.META_ERRORS:
        return False


def missing_text(slug: str, names: dict[str, str]) -> str:
    """What a link to a missing workspace says: the slug asked for, and the workspaces of
    ``names`` (those this viewer may open), nothing else."""
    offer = ", ".join(f"{escape_markdown(n)} ({escape_markdown(s)})" for s, n in names.items())
    return (
        _("Workspace **{slug}** could not be opened: there is no workspace of that name.").format(
            slug=escape_markdown(slug)
        )
        + "\n\n"
        + _("Nothing else is shown in its place.")
        + " "
        + (
            _("Workspaces you can open: {offer}.").format(offer=offer)
            if offer
            else _("You cannot open any workspace.")
        )
        + " "
        + _("Or save your files as a new one on the Data page.")
    )


def check_delete(slug: str) -> None:
    """Raise WorkspaceError when sign-in is on and the signed-in user does not own ``slug``."""
    if auth_configured():
        access.check_delete(W.open_workspace(slug), signed_in_email())


def guard_workspace(slug: str, email: str | None) -> None:
    """With sign-in, stop the page unless ``email`` may open ``slug``: no data of it is
    read or shown. Fails closed: a workspace whose access cannot be checked (busy,
    damaged, truncated, malformed) is refused; a missing one is named, with the workspaces
    this viewer may open instead."""
    if not auth_configured():
        return
    who = roles.Caller(email, admins())
    try:
        access.check_open(slug, who)
    except access.NoSuchWorkspace:
        st.error(missing_text(slug, visible(store.catalog(), email)), icon=":material/folder_off:")
        st.stop()
    except access.AccessDenied as exc:
        # the library's sentence, ended in the reader's language ("." / "。")
        st.error(escape_markdown(_("{error}.").format(error=exc)), icon=":material/block:")
        st.stop()


def new_workspace_meta() -> dict[str, str]:
    """Owner entries for a workspace being created now (none in open mode)."""
    return access.owner_meta(signed_in_email())


def owner_panel(slug: str) -> None:
    """For an administrator (or the owner): who owns ``slug``, with claim / assign."""
    email = signed_in_email()
    meta = workspace_meta(slug)
    if email is None or meta is None or access.is_sample(meta):
        return
    owner, _shared = access.access_of(meta)
    is_admin = email in {a.strip().lower() for a in admins()}
    if not is_admin and owner != email:
        return
    st.caption(
        _("Owner: {owner}").format(
            owner=escape_markdown(owner) if owner else _("nobody (saved without sign-in)")
        )
    )
    new = st.text_input(_("Assign to (e-mail address)"), value=owner or email, key="ps_ws_owner")
    if st.button(_("Assign owner"), icon=":material/person_check:"):
        try:
            access.assign(W.open_workspace(slug), email, new, admins())
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success(_("Owner assigned."))


def sharing_panel(slug: str) -> None:
    """For the signed-in owner of ``slug``: the people it is shared with, editable."""
    email = signed_in_email()
    meta = workspace_meta(slug)
    if email is None or meta is None:
        return
    owner_panel(slug)
    owner, shared = access.access_of(meta)
    if owner != email:
        st.caption(_("Only the workspace's owner can change who it is shared with."))
        return
    text = st.text_area(
        _("Shared with (one e-mail address a line)"), "\n".join(shared), key="ps_ws_share"
    )
    if st.button(_("Save sharing"), icon=":material/share:"):
        try:
            access.share(W.open_workspace(slug), email, text.splitlines())
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success(_("Sharing saved."))


def configured_key() -> str | None:
    """The raw ``pseudonym_key`` secret, else ``$PERSONA_STUDIO_PSEUDONYM_KEY``, else None."""
    try:
        value = st.secrets.get("pseudonym_key")
    except Exception:  # noqa: BLE001 - no secrets file
        value = None
    return value or os.environ.get(P.KEY_ENV) or None


def pseudonym_key() -> bytes:
    """The HMAC key; raises PrivacyError (shown to the user) when none is configured."""
    return P.pseudonym_key(configured_key())
