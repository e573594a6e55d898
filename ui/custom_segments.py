"""The custom segment builder of the Segments page: a named rule over features in plain words,
saved with the workspace, listed and deletable.

Rules are edited as rows (feature, condition, value) with features and conditions shown in
plain words; they are turned back into :class:`profiling.custom_segments.Rule` data and
evaluated by the library, never as code.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from profiling import custom_segments as C
from profiling.errors import ProfilingError
from profiling.features import CATEGORY_PREFIX, SPEND_PREFIX, feature_label
from profiling.segments import SegmentDescription
from ui import data, security
from ui.text import escape_markdown, show_error

PICK = "ps_cseg_pick"  # the saved segment being edited (or NEW)
PENDING = "ps_cseg_pending"  # the segment to select on the next run (after save / delete)
SAVED_MSG = "ps_cseg_msg"  # what the last save / delete did
NEW = "+ New segment (not saved yet)"
COLUMN = "custom"

# Plain names with units for the profile features (the lead routes these through the glossary).
LABELS: dict[str, str] = {
    "recency_days": "Days since last order (days)",
    "days_since_seen": "Days since last visit (days)",
    "frequency": "Orders (count)",
    "monetary": "Total spend after returns (money)",
    "gross_spend": "Spend before returns (money)",
    "refunded": "Money refunded (money)",
    "avg_order_value": "Average order value (money)",
    "avg_unit_price": "Average price paid per item (money)",
    "price_level": "Price level against the category (1 = typical)",
    "units_bought": "Items bought (count)",
    "purchase_days": "Days with a purchase (count)",
    "n_events": "Actions logged (count)",
    "n_view": "Product views (count)",
    "n_cart": "Added to cart (count)",
    "n_purchase": "Purchase lines (count)",
    "n_refund": "Returns (count)",
    "n_ratings": "Ratings given (count)",
    "rating_mean": "Average rating given (stars)",
    "rating_std": "Spread of ratings given (stars)",
    "active_days": "Active days (count)",
    "sessions": "Visits (count)",
    "events_per_session": "Actions per visit (count)",
    "events_last_30d": "Actions in the last 30 days (count)",
    "events_prev_30d": "Actions in the 30 days before (count)",
    "momentum": "Activity trend, last 30 days against the 30 before (above 0 = rising)",
    "tenure_days": "Days since first visit (days)",
    "first_seen": "First visit (date, YYYY-MM-DD)",
    "last_seen": "Last visit (date, YYYY-MM-DD)",
    "last_purchase": "Last purchase (date, YYYY-MM-DD)",
    "signup_date": "Sign-up date (date, YYYY-MM-DD)",
    "preferred_hour": "Usual hour of activity (0-23)",
    "weekend_share": "Share of activity at weekends (0-1)",
    "share_night": "Share of activity at night (0-1)",
    "share_morning": "Share of activity in the morning (0-1)",
    "share_afternoon": "Share of activity in the afternoon (0-1)",
    "share_evening": "Share of activity in the evening (0-1)",
    "view_to_cart": "Views that led to a cart (0-1)",
    "cart_to_purchase": "Carts that led to a purchase (0-1)",
    "view_to_purchase": "Views that led to a purchase (0-1)",
    "refund_rate": "Share of orders returned (0-1)",
    "top_category": "Favourite category (text)",
    "top_category_share": "Share of activity in the favourite category (0-1)",
    "category_entropy": "Variety of categories (0 = a single category)",
    "favourite_brand": "Favourite brand (text)",
    "tags": "Tags (e.g. weekend shopper)",
    "age": "Age (years)",
    "age_band": "Age band (text)",
    "gender": "Gender (text)",
    "region": "Region (text)",
    "rfm_segment": "RFM segment (text)",
    "cluster_name": "Cluster (text)",
}


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "yes or no"
    if dtype.is_numeric():
        return "number"
    if isinstance(dtype, pl.List):
        return "list"
    if dtype.is_temporal():
        return "date, YYYY-MM-DD"
    return "text"


def plain_label(feature: str, dtype: pl.DataType) -> str:
    """The plain name of a profile column with its unit (known features), or a readable
    form of its name with the kind of value it holds."""
    if feature in LABELS:
        return LABELS[feature]
    for prefix, words in ((CATEGORY_PREFIX, "Share of activity in"),
                          (SPEND_PREFIX, "Share of spend in")):  # fmt: skip
        if feature.startswith(prefix):
            return f"{words} {feature[len(prefix) :]} (0-1)"
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
        {"feature": by_feature.get(r.feature, r.feature),
         "condition": C.OPERATORS.get(r.op, r.op), "value": str(r.value)}
        for r in segment.rules
    ]  # fmt: skip


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

    st.subheader("Custom segment")
    top = st.columns([2, 2, 1])
    pick = top[0].selectbox(
        "Saved segments of this workspace", [NEW, *by_name], key=PICK,
        help="Custom segments are saved with the workspace: everyone who opens it sees them, "
        "and they stay after a restart.",
    )  # fmt: skip
    base = by_name.get(pick, _default())
    slot = "new" if pick == NEW else pick  # widgets of each saved segment keep their own state
    name = top[1].text_input(
        "Segment name", value=base.name, key=f"ps_cseg_name_{slot}", max_chars=C.MAX_NAME,
        placeholder="e.g. Recent regulars",
    )  # fmt: skip
    combine = top[2].radio(
        "Users must meet", ["and", "or"], index=0 if base.combine == "and" else 1,
        format_func={"and": "every condition", "or": "any condition"}.get,
        key=f"ps_cseg_combine_{slot}",
    )  # fmt: skip

    to_feature = _features(joined)
    to_label = {f: lab for lab, f in to_feature.items()}
    to_op = {words: op for op, words in C.OPERATORS.items()}
    st.caption(
        "One condition per row: pick a feature by its name (the unit is in brackets), a "
        "condition and a value. Numbers as plain digits, dates as YYYY-MM-DD, several values "
        "for 'is one of' separated by commas; 'contains' on tags matches a tag name."
    )
    rows = st.data_editor(
        _rows(base, to_label),
        num_rows="dynamic",
        key=f"ps_cseg_rows_{slot}",
        width="stretch",
        column_config={
            "feature": st.column_config.SelectboxColumn(
                "Feature", options=list(to_feature), required=True, width="large"
            ),
            "condition": st.column_config.SelectboxColumn(
                "Condition", options=list(to_op), required=True, width="small"
            ),
            "value": st.column_config.TextColumn("Value", required=True, width="medium"),
        },
    )
    complete = [
        r for r in rows
        if r.get("feature") and r.get("condition") and str(r.get("value") or "").strip()
    ]  # fmt: skip
    if len(complete) < len(rows):
        n = len(rows) - len(complete)
        st.caption(f"{n} unfinished row{'s' if n > 1 else ''} not used yet (a row needs a "
                   "feature, a condition and a value).")  # fmt: skip
    rules = tuple(
        C.Rule(to_feature.get(r["feature"], r["feature"]), to_op.get(r["condition"], r["condition"]),
               r["value"])
        for r in complete
    )  # fmt: skip
    segment = C.CustomSegment(" ".join(name.split()) or "New segment", rules, combine)
    try:
        if name.strip():
            C.check_name(name)
        labelled, descriptions = C.describe_custom(joined, segment, features, to_label, COLUMN)
    except ProfilingError as exc:
        show_error(exc)
        return None

    b1, b2, _ = st.columns([1, 1, 3])
    who = security.signed_in_email() or "local user (open mode)"
    if b1.button("Save segment", type="primary", icon=":material/save:", key="ps_cseg_save"):
        try:
            stored = C.save(ws, C.CustomSegment(name, rules, combine), saved_by=who)
        except ProfilingError as exc:
            show_error(exc)
        else:
            st.session_state[PENDING] = stored.name
            st.session_state[SAVED_MSG] = (
                f"Saved the segment **{escape_markdown(stored.name)}** with this workspace."
            )
            st.rerun()
    if pick != NEW and b2.button("Delete segment", icon=":material/delete:", key="ps_cseg_del"):
        C.delete(ws, pick)
        st.session_state[PENDING] = NEW
        st.session_state[SAVED_MSG] = f"Deleted the segment **{escape_markdown(pick)}**."
        st.rerun()
    if not any(d.segment == segment.name for d in descriptions):
        st.warning("No user meets these conditions yet.", icon=":material/filter_alt_off:")
    return labelled, descriptions
