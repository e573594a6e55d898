"""Live events in the app: the Overview's "events arriving" line, the User profile that
re-reads itself when the user acts, "now against an hour ago" on What changed, and the Data
page's write keys. Each refreshing part is a fragment with a timer that runs one cheap query
(the batches table, or one user's live-state row), never the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from profiling import workspace as W
from profiling.errors import ProfilingError
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import collector as C
from profiling.workspace import live
from profiling.workspace.roles import META_ERRORS
from ui import data, security
from ui.text import escape_markdown, show_error

REFRESH_S = 3.0
"""How often the live parts look for new events (seconds)."""
HOUR = timedelta(hours=1)
USER_STAMP = "ps_live_user_stamp"  # (slug, user, stamp) the User profile was drawn with
NEW_KEY = "ps_live_new_key"  # (slug, key id, key) just created: shown once, then forgotten


# ---- Overview ---------------------------------------------------------------------------------
def ago_text(seconds: float) -> str:
    """'12 s', '5 min', '3 h', '2 d': how long ago, rounded down to the largest unit."""
    s = max(int(seconds), 0)
    if s < 60:
        return _("{n} s").format(n=s)
    if s < 3600:
        return _("{n} min").format(n=s // 60)
    if s < 86400:
        return _("{n} h").format(n=s // 3600)
    return _("{n} d").format(n=s // 86400)


def arrivals_text(info: dict) -> str:
    """The Overview's line from :func:`profiling.workspace.live.arrivals`."""
    today = fmt.count(info["events_today"])
    if info["last_added"] is None:
        return _("Live: no event has arrived yet · {n} events today").format(n=today)
    return _("Live: last event {ago} ago · {n} events today").format(
        ago=ago_text(info["seconds_ago"]), n=today
    )


def _arrivals(slug: str) -> None:
    try:
        info = live.arrivals(W.open_workspace(slug))
    except (ProfilingError, *META_ERRORS) as exc:
        st.caption(
            ":material/sensors_off: "
            + escape_markdown(_("Live: cannot read the arrivals ({error})").format(error=exc))
        )
        return
    st.caption(":material/sensors: " + escape_markdown(arrivals_text(info)))


def overview_line() -> None:
    """When the active workspace has a live feed: the "events arriving" line, re-read on
    its own every few seconds (only this line re-runs). Nothing without a feed."""
    ref = data.resolved_spec()
    if ref is None or not C.has_feed(ref.workspace()):
        return
    st.fragment(_arrivals, run_every=REFRESH_S)(ref.slug)


# ---- User profile -----------------------------------------------------------------------------
def _check_user(slug: str, user_id: str) -> None:
    try:
        now = live.user_stamp(W.open_workspace(slug), user_id)
    except (ProfilingError, *META_ERRORS):
        return  # a busy workspace: the next tick asks again; the page keeps what it shows
    if st.session_state.get(USER_STAMP) != (slug, user_id, now):
        st.rerun()  # the user acted: the whole profile is read again, from the new data


def watch_user(user_id: str) -> None:
    """On the User profile of a workspace with a live feed: every few seconds, read the
    user's live-state stamp (one row by id) and rerun the page only when it changed, so a
    user who just acted is shown with their new events without a reload."""
    ref = data.resolved_spec()
    if ref is None:
        return
    ws = ref.workspace()
    if not C.has_feed(ws):
        return
    try:
        stamp = live.user_stamp(ws, user_id)
        current = ws.meta()["data_version"] == ref.version
    except (ProfilingError, *META_ERRORS):
        return
    # events committed after this run resolved its data: rerun once more at the first tick
    st.session_state[USER_STAMP] = (ref.slug, user_id, stamp if current else "behind")
    st.fragment(_check_user, run_every=REFRESH_S)(ref.slug, user_id)


# ---- What changed -----------------------------------------------------------------------------
def hour_ago(newest: datetime) -> tuple[datetime, datetime]:
    """(an hour ago, now) for "Last hour": the profile one hour before the newest event and
    the profile at the newest event. Event time, not the clock: a log whose events stopped
    yesterday still compares its last hour."""
    return newest - HOUR, newest


HOUR_MODE = "Now and an hour ago"
"""The mode's key (English, as the other modes' keys); shown through :data:`MODE_WORDS`."""


def hour_modes() -> list[str]:
    """What changed's extra mode, ["Now and an hour ago"], when the active workspace has a
    live feed; [] otherwise."""
    ref = data.resolved_spec()
    if ref is None or not C.has_feed(ref.workspace()):
        return []
    return [HOUR_MODE]


def hour_caption(before: datetime, after: datetime) -> str:
    """What "an hour ago" means, for What changed."""
    return _(
        "Profiles as of the newest event ({after}) against one hour before it ({before}): "
        "event time, not the clock, so a feed that paused still compares its last hour of "
        "events. Both are rebuilt from the log up to each time."
    ).format(after=fmt.datetime_text(after), before=fmt.datetime_text(before))


# ---- Data page: write keys ---------------------------------------------------------------------
def _when(iso: str | None) -> str:
    if iso is None:
        return _("never")
    return fmt.datetime_text(datetime.fromisoformat(iso).astimezone(UTC))


def key_rows(keys: list[dict]) -> list[dict]:
    """The write keys as shown: prefix, label, created, last used (never the key)."""
    return [
        {
            _("Key"): C.key_prefix(k["id"]),
            _("Label"): k["label"] or "—",
            _("Created"): _when(k["created_at"]),
            _("Last used"): _when(k["last_used_at"]),
        }
        for k in keys
    ]


def write_keys_panel(slug: str) -> None:
    """For the owner of ``slug`` (or an administrator of an owner-less one, or everyone in
    open mode): create a write key (shown once), list the keys by prefix with created and
    last-use dates, revoke one. Others see that only the owner manages keys."""
    st.subheader(_("Write keys"), anchor="write-keys")
    st.caption(
        _(
            "A write key lets a website or app send events to this workspace's collector "
            "(`python -m profiling serve-events`); profiles update as the events arrive."
        )
    )
    ws = W.open_workspace(slug)
    if ws.readonly:
        st.caption(_("The built-in sample store takes no events."))
        return
    if not security.can_write(slug):
        st.caption(_("Only the workspace's owner can create or revoke its write keys."))
        return
    new = st.session_state.pop(NEW_KEY, None)
    if new is not None and new[0] == slug:
        st.success(
            _("Write key created. Copy it now: it is shown only this once."),
            icon=":material/key:",
        )
        st.code(new[2], language=None)
    try:
        keys = C.list_write_keys(ws)
    except (ProfilingError, ValueError) as exc:
        show_error(exc)
        return
    if keys:
        st.dataframe(key_rows(keys), hide_index=True, width="stretch")
    else:
        st.caption(_("No write key yet."))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    label = c1.text_input(_("Label of a new key"), key="ps_live_key_label", placeholder="website")
    if c2.button(_("Create a write key"), icon=":material/key:", key="ps_live_key_create"):
        try:
            key_id, key = C.create_write_key(ws, label, caller=security.caller())
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.session_state[NEW_KEY] = (slug, key_id, key)
            st.rerun()
    if keys:
        r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
        target = r1.selectbox(
            _("Revoke a key"),
            [k["id"] for k in keys],
            index=None,
            format_func=C.key_prefix,
            key="ps_live_key_revoke_pick",
        )
        if r2.button(
            _("Revoke"),
            icon=":material/key_off:",
            disabled=target is None,
            key="ps_live_key_revoke",
        ):
            try:
                C.revoke_write_key(ws, target, caller=security.caller())
            except ProfilingError as exc:
                show_error(exc)
            else:
                st.success(
                    _("Key {prefix} revoked: requests with it are refused from now on.").format(
                        prefix=C.key_prefix(target)
                    )
                )
