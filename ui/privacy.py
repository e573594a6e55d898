"""Privacy controls in the app: the per-workspace settings panel, erasure, and the helpers
pages use to suppress small groups and add DP noise to segment sizes."""

from __future__ import annotations

import dataclasses
import hashlib

import polars as pl
import streamlit as st

from profiling import workspace as W
from profiling.data import privacy as P
from profiling.errors import ProfilingError
from profiling.profiles.segments import SegmentDescription
from profiling.workspace import privacy as WP
from profiling.workspace.results import ResultStore
from profiling.workspace.roles import META_ERRORS
from ui import security
from ui.text import escape_markdown, show_error


def current() -> WP.PrivacySettings:
    """The active workspace's settings (all off when none is open)."""
    from ui import data  # ui.data imports ui.security, which this module imports

    ref = data.resolved_spec()
    if ref is None:
        return WP.PrivacySettings()
    return WP.settings(ref.workspace())


def sidebar_note(slug: str) -> None:
    """Say in the sidebar that ids are pseudonyms, when they are."""
    try:
        on = WP.settings(W.open_workspace(slug)).pseudonymize
    except META_ERRORS:  # a workspace that cannot be read says so on the page itself
        return
    if on:
        st.sidebar.caption(":material/badge: User ids in this workspace are pseudonyms.")


def large_groups(descriptions: list, k: int) -> list:
    """Segment descriptions with at least ``k`` users (all of them when k is 0)."""
    return [d for d in descriptions if not k or d.users >= k]


def large_segments(order: list, descriptions: list) -> list:
    """``order`` (segment keys) without the segments under the workspace's k (heatmaps:
    the mean features of a handful of users describe those users)."""
    k = current().min_group
    small = {d.segment for d in descriptions if k and d.users < k}
    return [o for o in order if o not in small]


@st.cache_resource(max_entries=64, show_spinner=False)
def _noisy(key: str, _frame: pl.DataFrame, count: str, epsilon: float) -> P.NoisyCounts:
    # one draw of noise per table and setting: a rerun shows the same noisy counts, so
    # reloading a page cannot average the noise away
    return P.dp_counts(_frame, count, epsilon=epsilon)


def _noise(frame: pl.DataFrame, count: str, epsilon: float) -> P.NoisyCounts:
    from ui import data

    ref = data.resolved_spec()
    digest = hashlib.blake2b(frame.write_csv().encode(), digest_size=16).hexdigest()
    return _noisy(f"{ref.key() if ref else ''}|{digest}|{count}|{epsilon!r}", frame, count, epsilon)


def protect_sizes(table: pl.DataFrame, label: str = "segment", count: str = "users"):
    """``table`` (one row per segment) with DP noise on the counts, then groups under k
    merged or hidden, per the workspace's settings; returns (table, note or "").

    Noise comes first and suppression looks at the noisy counts (post-processing keeps
    the epsilon guarantee; a threshold on the true counts would not)."""
    s = current()
    notes = []
    if s.dp_epsilon:
        noisy = _noise(table, count, s.dp_epsilon)
        table = noisy.counts
        notes.append(f"user counts have differential-privacy noise (ε = {noisy.epsilon:g})")
    if s.min_group:
        table = P.suppress_small_groups(table, label, count, k=s.min_group)
        notes.append(f"segments under {s.min_group} users merged or hidden")
    return table, ("Privacy: " + "; ".join(notes) + ".") if notes else ""


def protected_mix(descriptions: list | None) -> list | None:
    """Segment descriptions (one per segment) as the Overview shows them: with the
    workspace's DP noise on user counts and segments under k merged into one "fewer than k
    users" entry (or hidden), with a caption saying so. Unchanged when both are off."""
    if not descriptions:
        return descriptions
    table = pl.DataFrame(
        {
            "segment": [d.segment for d in descriptions],
            "users": [d.users for d in descriptions],
            "share_of_users": [d.share_of_users for d in descriptions],
            "share_of_revenue": [d.share_of_revenue for d in descriptions],
        },
        schema={
            "segment": pl.String,
            "users": pl.Int64,
            "share_of_users": pl.Float64,
            "share_of_revenue": pl.Float64,
        },
    )
    table, note = protect_sizes(table)
    if not note:
        return descriptions
    st.caption(note)
    by_key = {d.segment: d for d in descriptions}
    out = []
    for row in table.iter_rows(named=True):  # a handful of segments, not data rows
        d = by_key.get(row["segment"])
        if d is None:  # the merged row
            d = SegmentDescription(
                row["segment"],
                row["segment"],
                0,
                0.0,
                None,
                None,
                [],
                "Segments this small are merged so nobody is singled out.",
            )
        out.append(
            dataclasses.replace(
                d, users=int(row["users"]), share_of_revenue=row["share_of_revenue"]
            )
        )
    return out


def protect_migration(mig):
    """A :class:`~profiling.workspace.migration.Migration` whose flows have the workspace's
    DP noise on user counts (each user is in one flow: sensitivity 1) and flows under k
    users hidden, shares of the earlier segment recomputed from the counts shown; and a
    note ("" when both are off). Revenue sums are not noised (the note says so)."""
    s = current()
    if not s.dp_epsilon and not s.min_group:
        return mig, ""
    flows, notes = mig.flows, []
    if s.dp_epsilon:
        noisy = _noise(flows, "users", s.dp_epsilon)
        flows = noisy.counts
        notes.append(
            f"user counts have differential-privacy noise (ε = {noisy.epsilon:g}; "
            "revenue is not noised)"
        )
    flows = flows.with_columns(
        (pl.col("users") / pl.col("users").sum().over("from_segment")).alias("share_of_from")
    )
    if s.min_group:
        flows, hidden = P.hide_small_cells(flows, "users", s.min_group)
        notes.append(f"{hidden} flows under {s.min_group} users hidden")
    return dataclasses.replace(mig, flows=flows), "Privacy: " + "; ".join(notes) + "."


def pseudonymize_checkbox() -> bool:
    """ "Pseudonymize user ids" for a workspace being created (off by default)."""
    return st.checkbox(
        "Pseudonymize user ids",
        value=False,
        key="ps_ws_pseudonymize",
        help=P.EXPLAIN["pseudonymize"],
    )


def panel(slug: str) -> None:
    """Privacy settings, pseudonymization and erasure for workspace ``slug``."""
    ws = W.open_workspace(slug)
    if ws.readonly:
        st.caption("The built-in sample store is read-only: its privacy settings are fixed.")
        return
    s = WP.settings(ws)
    caller = security.caller()
    who = caller.label
    st.markdown("**Privacy**")
    if not security.can_write(slug):
        st.caption(
            f"Groups under {s.min_group or 'k (off)'} users hidden; DP epsilon "
            f"{s.dp_epsilon or 'off'}; user ids "
            f"{'pseudonymized' if s.pseudonymize else 'as uploaded'}. Only the workspace's "
            "owner can change privacy settings, erase users or add data: it is shared with "
            "you to read."
        )
        return
    c1, c2 = st.columns(2)
    k = c1.number_input(
        "Hide groups under k users (0 = off)",
        0,
        1000,
        s.min_group or 0,
        help=P.EXPLAIN["min_group"],
        key="ps_priv_k",
    )
    eps = c2.number_input(
        "DP epsilon for segment sizes (0 = off)",
        0.0,
        10.0,
        float(s.dp_epsilon or 0.0),
        0.1,
        help=P.EXPLAIN["dp_epsilon"],
        key="ps_priv_eps",
    )
    if st.button("Save privacy settings", icon=":material/shield:"):
        try:
            WP.set_settings(ws, WP.PrivacySettings(False, int(k), float(eps) or None), who, caller)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success("Privacy settings saved.")
    if s.pseudonymize:
        st.caption("User ids in this workspace are pseudonyms (keyed HMAC).")
    elif st.button("Pseudonymize user ids", help=P.EXPLAIN["pseudonymize"]):
        try:
            n = WP.pseudonymize_workspace(ws, security.pseudonym_key(), who, caller)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success(f"{n:,} user ids replaced by pseudonyms.")
    user = st.text_input(
        "Erase one user (their id)",
        key="ps_priv_erase",
        help="Removes the user from every table, snapshot, map and saved "
        "model of this workspace; models are retrained on the next use.",
    )
    if user and st.button("Erase this user", type="primary", icon=":material/person_remove:"):
        try:
            rep = WP.erase_user(ws, user, who, caller)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success(
                f"Erased {escape_markdown(user)}: {sum(rep.rows.values()):,} rows and "
                f"{rep.maps_removed} maps removed; {rep.results_removed} saved models marked "
                "for retraining."
            )
    log = WP.audit_log(ws)
    if log.height:
        st.caption("Audit log")
        st.dataframe(log, hide_index=True, width="stretch")


def retraining_note(kind: str) -> None:
    """Say why saved results of ``kind`` ("model", "predictions", ...) are trained again
    (a user was erased), until they are."""
    from ui import data

    ref = data.resolved_spec()
    if ref is None:
        return
    reasons = ResultStore(ref.workspace().results_dir).stale_reasons(kind)
    if reasons:
        st.info(
            f"Models are trained again: {escape_markdown(reasons[-1])}.",
            icon=":material/model_training:",
        )
