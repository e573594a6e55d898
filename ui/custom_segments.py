"""The custom segment builder of the Segments page: a named rule over features in plain words,
saved with the workspace, listed and deletable.

Rules are edited as rows (feature, condition, value) with features and conditions shown in
plain words; they are turned back into :class:`profiling.workspace.custom_segments.Rule` data and
evaluated by the library, never as code.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from profiling.errors import ProfilingError
from profiling.profiles.features import feature_label
from profiling.profiles.segments import SegmentDescription
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import N_, ngettext
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import custom_segments as C
from ui import data, security
from ui import overview as ov
from ui.text import escape_markdown, show_error

PICK = "ps_cseg_pick"  # the saved segment being edited (or NEW)
PENDING = "ps_cseg_pending"  # the segment to select on the next run (after save / delete)
SAVED_MSG = "ps_cseg_msg"  # what the last save / delete did
NEW = N_("+ New segment (not saved yet)")  # the key; shown translated
COLUMN = "custom"

# Plain names with units for the profile features (the lead routes these through the glossary).


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return _("yes or no")
    if dtype.is_numeric():
        return _("number")
    if isinstance(dtype, pl.List):
        return _("list")
    if dtype.is_temporal():
        return _("date, YYYY-MM-DD")
    return _("text")


def plain_label(feature: str, dtype: pl.DataType) -> str:
    """The plain name of a profile column with its unit (known features), or a readable
    form of its name with the kind of value it holds."""
    if G.known(feature):  # the glossary's plain words, with the unit
        unit = G.unit_text(feature, ov.currency()) or G.term(feature).unit
        text = G.label(feature)
        return f"{text[:1].upper()}{text[1:]}" + (f" ({unit})" if unit else "")
    return f"{feature_label(feature).capitalize()} ({_kind(dtype)})"


def _features(joined: pl.DataFrame) -> dict[str, str]:
    """plain label -> feature, every profile column a rule can use (ids and scores aside)."""
    skip = {"user_id", COLUMN, "cluster", "r_score", "f_score", "m_score", "rfm_cell"}
    out = {}
    for col, dtype in joined.schema.items():
        if col in skip:
            continue
        out.setdefault(plain_label(col, dtype), col)
    return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))


def _default() -> C.CustomSegment:
    return C.CustomSegment(
        "", (C.Rule("recency_days", "<=", "30"), C.Rule("frequency", ">=", "3")), "and"
    )


def _rows(segment: C.CustomSegment, by_feature: dict[str, str]) -> list[dict]:
    return [
        {
            "feature": by_feature.get(r.feature, r.feature),
            "condition": _(C.OPERATORS[r.op]) if r.op in C.OPERATORS else r.op,
            "value": str(r.value),
        }
        for r in segment.rules
    ]


def builder(
    joined: pl.DataFrame, features: list[str]
) -> tuple[pl.DataFrame, list[SegmentDescription]] | None:
    """Pick, edit, name, save or delete a custom rule segment of the active workspace.

    Returns the profile frame with a ``custom`` column (the segment's name or "Everyone
    else") and the descriptions, the segment first; None after showing why the rule cannot
    be applied.
    """
    ref = data.resolved_spec()
    if ref is None:
        return None
    ws = ref.workspace()
    try:
        saved = C.saved(ws)
    except ProfilingError as exc:
        show_error(exc)
        saved = []
    by_name = {s.name: s for s in saved}
    if (pending := st.session_state.pop(PENDING, None)) is not None:
        st.session_state[PICK] = pending
    if st.session_state.get(PICK) not in (NEW, *by_name):
        st.session_state[PICK] = NEW
    if msg := st.session_state.pop(SAVED_MSG, None):
        st.success(msg)

    st.subheader(_("Custom segment"))
    top = st.columns([2, 2, 1])
    pick = top[0].selectbox(
        _("Saved segments of this workspace"),
        [NEW, *by_name],
        key=PICK,
        format_func=lambda v: _(NEW) if v == NEW else v,
        help=_(
            "Custom segments are saved with the workspace: everyone who opens it sees them, "
            "and they stay after a restart."
        ),
    )
    base = by_name.get(pick, _default())
    slot = "new" if pick == NEW else pick  # widgets of each saved segment keep their own state
    name = top[1].text_input(
        _("Segment name"),
        value=base.name,
        key=f"ps_cseg_name_{slot}",
        max_chars=C.MAX_NAME,
        placeholder=_("e.g. Recent regulars"),
    )
    combine = top[2].radio(
        _("Users must meet"),
        ["and", "or"],
        index=0 if base.combine == "and" else 1,
        format_func={"and": _("every condition"), "or": _("any condition")}.get,
        key=f"ps_cseg_combine_{slot}",
    )

    to_feature = _features(joined)
    to_label = {f: lab for lab, f in to_feature.items()}
    # the words shown, in this language, first; English words (a row typed before the
    # language changed) are still understood
    to_op = {words: op for op, words in C.OPERATORS.items()}
    to_op = {_(words): op for op, words in C.OPERATORS.items()} | to_op
    st.caption(
        _(
            "One condition per row: pick a feature by its name (the unit is in brackets), a "
            "condition and a value. Numbers as plain digits, dates as YYYY-MM-DD, several "
            "values for 'is one of' separated by commas; 'contains' on tags matches a tag name."
        )
    )
    rows = st.data_editor(
        _rows(base, to_label),
        num_rows="dynamic",
        key=f"ps_cseg_rows_{slot}",
        width="stretch",
        column_config={
            "feature": st.column_config.SelectboxColumn(
                _("Feature"), options=list(to_feature), required=True, width="large"
            ),
            "condition": st.column_config.SelectboxColumn(
                _("Condition"),
                options=[_(words) for words in C.OPERATORS.values()],
                required=True,
                width="small",
            ),
            "value": st.column_config.TextColumn(_("Value"), required=True, width="medium"),
        },
    )
    complete = [
        r
        for r in rows
        if r.get("feature") and r.get("condition") and str(r.get("value") or "").strip()
    ]
    if len(complete) < len(rows):
        n = len(rows) - len(complete)
        st.caption(
            ngettext(
                "{n} unfinished row not used yet (a row needs a feature, a condition and a value).",
                "{n} unfinished rows not used yet (a row needs a feature, a condition and a "
                "value).",
                n,
            ).format(n=n)
        )
    rules = tuple(
        C.Rule(
            to_feature.get(r["feature"], r["feature"]),
            to_op.get(r["condition"], r["condition"]),
            r["value"],
        )
        for r in complete
    )
    segment = C.CustomSegment(" ".join(name.split()) or _("New segment"), rules, combine)
    try:
        if name.strip():
            C.check_name(name)
        labelled, descriptions = C.describe_custom(joined, segment, features, to_label, COLUMN)
    except ProfilingError as exc:
        show_error(exc)
        return None

    b1, b2, _rest = st.columns([1, 1, 3])
    who = security.signed_in_email() or "local user (open mode)"  # stored: not translated
    if b1.button(_("Save segment"), type="primary", icon=":material/save:", key="ps_cseg_save"):
        try:
            stored = C.save(ws, C.CustomSegment(name, rules, combine), saved_by=who)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.session_state[PENDING] = stored.name
            st.session_state[SAVED_MSG] = _(
                "Saved the segment **{name}** with this workspace."
            ).format(name=escape_markdown(stored.name))
            st.rerun()
    if pick != NEW and b2.button(_("Delete segment"), icon=":material/delete:", key="ps_cseg_del"):
        C.delete(ws, pick)
        st.session_state[PENDING] = NEW
        st.session_state[SAVED_MSG] = _("Deleted the segment **{name}**.").format(
            name=escape_markdown(pick)
        )
        st.rerun()
    if not any(d.segment == segment.name for d in descriptions):
        st.warning(_("No user meets these conditions yet."), icon=":material/filter_alt_off:")
    return labelled, descriptions
