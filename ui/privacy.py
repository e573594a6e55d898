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
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import gettext as _
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
        st.sidebar.caption(":material/badge: " + _("User ids in this workspace are pseudonyms."))


def on() -> bool:
    """Whether the workspace protects counts (DP noise or small-group suppression): pages
    then show no figure that is not from the protected release (an exact list of ids is
    offered without its length)."""
    s = current()
    return bool(s.dp_epsilon or s.min_group)


def large_segments(order: list, descriptions: list) -> list:
    """``order`` (segment keys) without the segments that the protected release merges or
    hides (heatmaps: the mean features of a handful of users describe those users). The
    decision is taken on the same noisy counts as the sizes table, never on the true ones."""
    if not current().min_group:
        return order
    shown, _note = protected_descriptions(descriptions)
    kept = {d.segment for d in shown}
    return [o for o in order if o in kept]


@st.cache_resource(max_entries=64, show_spinner=False)
def _noisy(key: str, _frame: pl.DataFrame, count: str, epsilon: float) -> P.NoisyCounts:
    # one draw of noise per histogram, data version and setting: a rerun, another page or
    # the report shows the same noisy counts, so the noise cannot be averaged away
    return P.dp_counts(_frame, count, epsilon=epsilon)


def _noise(frame: pl.DataFrame, label: str, count: str, epsilon: float) -> P.NoisyCounts:
    """``frame`` with ``count`` replaced by the noisy counts of the release of the histogram
    (``label`` -> ``count``). The release is keyed by the workspace version and the histogram
    alone (sorted by label), not by the other columns a page shows beside it, so every page
    and the report showing these groups share one draw."""
    from ui import data

    ref = data.resolved_spec()
    hist = frame.select(pl.col(label).cast(pl.String), pl.col(count).cast(pl.Int64)).sort(label)
    if hist[label].n_unique() != hist.height:
        raise P.PrivacyError(
            f"cannot add noise: the {label!r} column names a group twice ({hist[label].to_list()})"
        )
    digest = hashlib.blake2b(hist.write_csv().encode(), digest_size=16).hexdigest()
    noisy = _noisy(f"{ref.key() if ref else ''}|{digest}|{epsilon!r}", hist, count, epsilon)
    by_label = dict(noisy.counts.iter_rows())
    counts = frame.with_columns(
        pl.col(label).cast(pl.String).replace_strict(by_label, return_dtype=pl.Int64).alias(count)
    )
    return P.NoisyCounts(counts, noisy.epsilon, count)


def _privacy_line(notes: list[str]) -> str:
    """ "Privacy: a; b." in the reader's language ("" without notes)."""
    if not notes:
        return ""
    return _("Privacy: {notes}.").format(notes=_("; ").join(notes))


def _epsilon(value: float) -> str:
    return fmt.number(value, 6)


def protect_sizes(table: pl.DataFrame, label: str = "segment", count: str = "users"):
    """``table`` (one row per segment) with DP noise on the counts, then groups under k
    merged or hidden, per the workspace's settings; returns (table, note or "").

    Noise comes first and suppression looks at the noisy counts (post-processing keeps
    the epsilon guarantee; a threshold on the true counts would not). A ``share_of_users``
    column is recomputed from the noisy counts (an exact share times the total would give
    the exact count back)."""
    s = current()
    notes = []
    if s.dp_epsilon:
        noisy = _noise(table, label, count, s.dp_epsilon)
        table = noisy.counts
        if "share_of_users" in table.columns:
            total = table[count].sum()
            table = table.with_columns(
                (pl.col(count) / total if total else pl.lit(0.0)).alias("share_of_users")
            )
        notes.append(
            _("user counts have differential-privacy noise (ε = {epsilon})").format(
                epsilon=_epsilon(noisy.epsilon)
            )
        )
    if s.min_group:
        table = P.suppress_small_groups(table, label, count, k=s.min_group)
        notes.append(
            _("segments under {k} users merged or hidden").format(k=fmt.count(s.min_group))
        )
    return table, _privacy_line(notes)


def protected_descriptions(descriptions: list | None) -> tuple[list | None, str]:
    """Segment descriptions (one per segment) from the protected release: DP noise on user
    counts (shares of users recomputed from them) and segments under k merged into one
    "fewer than k users" entry (or hidden); and the privacy note ("" and the descriptions
    unchanged when both controls are off). The release is the one :func:`protect_sizes`
    gives for a table of the same segment names, so every page shows the same counts."""
    if not descriptions:
        return descriptions, ""
    table = pl.DataFrame(
        {
            "segment": [d.name for d in descriptions],
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
        return descriptions, ""
    by_name = {d.name: d for d in descriptions}
    out = []
    for row in table.iter_rows(named=True):  # a handful of segments, not data rows
        d = by_name.get(row["segment"])
        if d is None:  # the merged row
            d = SegmentDescription(
                row["segment"],
                row["segment"],
                0,
                0.0,
                None,
                None,
                [],
                _("Segments this small are merged so nobody is singled out."),
            )
        out.append(
            dataclasses.replace(
                d,
                users=int(row["users"]),
                share_of_users=row["share_of_users"],
                share_of_revenue=row["share_of_revenue"],
            )
        )
    return out, note


def protected_mix(descriptions: list | None) -> list | None:
    """:func:`protected_descriptions` as the Overview shows them, with a caption saying what
    the privacy settings did (none when both are off)."""
    out, note = protected_descriptions(descriptions)
    if note:
        st.caption(note)
    return out


def noisy_sizes(descriptions: list) -> dict[str, int] | None:
    """Segment name -> user count of the protected release, before suppression (the report
    merges small groups itself and says so); None when DP noise is off."""
    s = current()
    if not s.dp_epsilon or not descriptions:
        return None
    table = pl.DataFrame(
        {"segment": [d.name for d in descriptions], "users": [d.users for d in descriptions]},
        schema={"segment": pl.String, "users": pl.Int64},
    )
    return dict(_noise(table, "segment", "users", s.dp_epsilon).counts.iter_rows())


def protect_grid(grid: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """The RFM grid (one row per r_score x f_score cell: users, monetary) from the protected
    release: DP noise on the users of each cell (each buyer is in one cell), then cells
    under k left out (their mean spend too); and a note ("" when both are off)."""
    s = current()
    if not s.dp_epsilon and not s.min_group:
        return grid, ""
    notes = []
    if s.dp_epsilon:
        keyed = grid.with_columns(pl.concat_str("r_score", pl.lit("x"), "f_score").alias("__cell"))
        noisy = _noise(keyed, "__cell", "users", s.dp_epsilon)
        grid = noisy.counts.drop("__cell")
        notes.append(
            _(
                "customers per cell have differential-privacy noise (ε = {epsilon}; spend is "
                "not noised)"
            ).format(epsilon=_epsilon(noisy.epsilon))
        )
    if s.min_group:
        grid, hidden = P.hide_small_cells(grid, "users", s.min_group)
        notes.append(
            _("{hidden} cells under {k} customers hidden").format(
                hidden=fmt.count(hidden), k=fmt.count(s.min_group)
            )
        )
    return grid, _privacy_line(notes)


def protect_count(what: str, n: int) -> int | None:
    """A headline count of users (``what`` names it, e.g. "customers 2024-01-01..2024-03-31")
    as a page may show it: with DP noise, a one-cell release through the same cached
    mechanism (the same figure on every rerun; each distinct figure is its own release);
    with suppression only, None when under k; unchanged when both are off."""
    s = current()
    if s.dp_epsilon:
        cell = pl.DataFrame({"what": [what], "users": [int(n)]})
        return int(_noise(cell, "what", "users", s.dp_epsilon).counts["users"][0])
    if s.min_group and n < s.min_group:
        return None
    return n


def shares_hidden() -> bool:
    """Whether shares of users outside the release (repeat rate, conversion, revenue per
    customer: each an exact count in disguise) are left out: when DP noise is on."""
    return bool(current().dp_epsilon)


def protect_migration(mig):
    """A :class:`~profiling.workspace.migration.Migration` whose flows have the workspace's
    DP noise on user counts (each user is in one flow: sensitivity 1) and flows under k
    users hidden, shares of the earlier segment recomputed from the counts shown; and a
    note ("" when both are off). Revenue sums are not noised (the note says so). Figures
    about the migration come from these flows (:func:`migration_figures`), never from
    ``movers`` (one exact row per user)."""
    s = current()
    if not s.dp_epsilon and not s.min_group:
        return mig, ""
    flows, notes = mig.flows, []
    if s.dp_epsilon:
        keyed = flows.with_columns(
            pl.concat_str("from_segment", pl.lit("\x1f"), "to_segment").alias("__flow")
        )
        noisy = _noise(keyed, "__flow", "users", s.dp_epsilon)
        flows = noisy.counts.drop("__flow")
        notes.append(
            _(
                "user counts have differential-privacy noise (ε = {epsilon}; revenue is not noised)"
            ).format(epsilon=_epsilon(noisy.epsilon))
        )
    flows = flows.with_columns(
        (pl.col("users") / pl.col("users").sum().over("from_segment")).alias("share_of_from")
    )
    if s.min_group:
        flows, hidden = P.hide_small_cells(flows, "users", s.min_group)
        notes.append(
            _("{hidden} flows under {k} users hidden").format(
                hidden=fmt.count(hidden), k=fmt.count(s.min_group)
            )
        )
    notes.append(_("the counts above add up the flows shown"))
    return dataclasses.replace(mig, flows=flows), _privacy_line(notes)


@dataclasses.dataclass(frozen=True)
class MigrationFigures:
    """The headline counts of a migration: customers compared, changed segment, new, and
    became inactive (None: not shown under the privacy settings)."""

    compared: int
    changed: int
    new: int
    inactive: int | None


def migration_figures(mig) -> MigrationFigures:
    """Headline counts of ``mig`` as returned by :func:`protect_migration`: each one a sum
    of the flows shown (exactly the true count when privacy is off). "Became inactive" is
    not a sum of flows: it is left out when DP noise is on (it would be a second, exact
    release) and when it is under k."""
    from profiling.workspace.migration import NEW

    f = mig.flows
    moved = f.filter(pl.col("from_segment") != pl.col("to_segment"))
    new = int(f.filter(pl.col("from_segment") == NEW)["users"].sum())
    s = current()
    inactive: int | None = mig.inactive_users
    if s.dp_epsilon or (s.min_group and inactive < s.min_group):
        inactive = None
    return MigrationFigures(int(f["users"].sum()), int(moved["users"].sum()) - new, new, inactive)


def pseudonymize_checkbox() -> bool:
    """ "Pseudonymize user ids" for a workspace being created (off by default)."""
    return st.checkbox(
        _("Pseudonymize user ids"),
        value=False,
        key="ps_ws_pseudonymize",
        help=_(P.EXPLAIN["pseudonymize"]),
    )


def panel(slug: str) -> None:
    """Privacy settings, pseudonymization and erasure for workspace ``slug``."""
    ws = W.open_workspace(slug)
    if ws.readonly:
        st.caption(_("The built-in sample store is read-only: its privacy settings are fixed."))
        return
    s = WP.settings(ws)
    caller = security.caller()
    who = caller.label
    st.markdown("**" + _("Privacy") + "**")
    if not security.can_write(slug):
        st.caption(
            _(
                "Groups under {k} users hidden; DP epsilon {epsilon}; user ids {ids}. Only "
                "the workspace's owner can change privacy settings, erase users or add data: "
                "it is shared with you to read."
            ).format(
                k=fmt.count(s.min_group) if s.min_group else _("k (off)"),
                # the setting as stored ("1.0"): the same digits in both languages
                epsilon=str(s.dp_epsilon) if s.dp_epsilon else _("off"),
                ids=_("pseudonymized") if s.pseudonymize else _("as uploaded"),
            )
        )
        return
    c1, c2 = st.columns(2)
    k = c1.number_input(
        _("Hide groups under k users (0 = off)"),
        0,
        1000,
        s.min_group or 0,
        help=_(P.EXPLAIN["min_group"]),
        key="ps_priv_k",
    )
    eps = c2.number_input(
        _("DP epsilon for segment sizes (0 = off)"),
        0.0,
        10.0,
        float(s.dp_epsilon or 0.0),
        0.1,
        help=_(P.EXPLAIN["dp_epsilon"]),
        key="ps_priv_eps",
    )
    if st.button(_("Save privacy settings"), icon=":material/shield:"):
        try:
            WP.set_settings(ws, WP.PrivacySettings(False, int(k), float(eps) or None), who, caller)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success(_("Privacy settings saved."))
    if s.pseudonymize:
        st.caption(_("User ids in this workspace are pseudonyms (keyed HMAC)."))
    elif st.button(_("Pseudonymize user ids"), help=_(P.EXPLAIN["pseudonymize"])):
        try:
            n = WP.pseudonymize_workspace(ws, security.pseudonym_key(), who, caller)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success(_("{n} user ids replaced by pseudonyms.").format(n=fmt.count(n)))
    user = st.text_input(
        _("Erase one user (their id)"),
        key="ps_priv_erase",
        help=_(
            "Removes the user from every table, snapshot, map and saved "
            "model of this workspace; models are retrained on the next use."
        ),
    )
    if user and st.button(_("Erase this user"), type="primary", icon=":material/person_remove:"):
        try:
            rep = WP.erase_user(ws, user, who, caller)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.success(
                _(
                    "Erased {user}: {rows} rows and {maps} maps removed; {models} saved models "
                    "marked for retraining."
                ).format(
                    user=escape_markdown(user),
                    rows=fmt.count(sum(rep.rows.values())),
                    maps=fmt.count(rep.maps_removed),
                    models=fmt.count(rep.results_removed),
                )
            )
    log = WP.audit_log(ws)
    if log.height:
        st.caption(_("Audit log"))
        # stored in English as recorded; headers and words said in the reader's language
        st.dataframe(WP.audit_text(log), hide_index=True, width="stretch")


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
            _("Models are trained again: {reason}.").format(
                reason=escape_markdown(WP.stale_reason_text(reasons[-1]))
            ),
            icon=":material/model_training:",
        )
