"""Segments: who the users are, which groups they form, and what sets each group apart."""

import polars as pl
import streamlit as st

from profiling.errors import ProfilingError
from profiling.present import viz
from profiling.present.export import safe_filename
from profiling.profiles.features import feature_list
from profiling.profiles.segments import (
    NO_PURCHASE,
    NO_PURCHASE_BY_KIND,
    RFM_RULES,
    SCHEME_8,
    TIER_RULE,
    TIER_RULES,
    clustering_error_text,
    compare_segments,
    comparison_table,
    definitions,
    describe_features,
    members,
    rfm_definitions,
    rfm_grid,
    segment_label,
)
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import gettext as _
from ui import custom_segments, data, labels, privacy, profiles, stakeholder, widgets
from ui import overview as ov
from ui import predict as pred_ui
from ui.i18n import fragment

st.title(_("Segments"))
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
prof = profiles.active_profiles()

c1, c2, c3 = st.columns([2, 1, 1])
KINDS = ["RFM segments", "Clusters", "Custom rule"]
widgets.from_url("ps_seg_kind", "view", KINDS)
st.session_state.setdefault("ps_seg_kind", "RFM segments")  # the default, set once: not twice
KIND_WORDS = {
    "RFM segments": _("Value segments"),
    "Clusters": _("Behaviour groups"),
    "Custom rule": _("Your own rule"),
}
kind = c1.segmented_control(
    _("Group customers by"),
    KINDS,
    format_func=KIND_WORDS.get,
    key="ps_seg_kind",
    help=_(
        "Value segments: named groups by how recently and how often customers ordered "
        "(RFM). Behaviour groups: found automatically from the whole profile (clustering)."
    ),
)
widgets.to_url("view", kind)
k_choice = c2.selectbox(
    _("Number of groups"),
    ["auto", *range(3, 11)],
    format_func=({"auto": _("find the best number")} | {k: str(k) for k in range(3, 11)}).get,
    key="ps_seg_k",
    disabled=kind != "Clusters",
    help=_(
        "'find the best number' tries 3 to 10 groups and keeps the best separated ones "
        "(highest silhouette score)."
    ),
)
method = c3.selectbox(
    _("Grouping method"),
    ["kmeans", "gmm"],
    format_func={
        "kmeans": _("clear-cut (k-means)"),
        "gmm": _("overlapping (Gaussian mixture)"),
    }.get,
    key="ps_seg_method",
    disabled=kind != "Clusters",
)
try:
    shown = profiles.segmentation(k_choice, method)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
seg = shown.seg
if shown.job is not None and shown.job.failed:
    st.error(
        _("Clustering failed: {error}. The default segmentation is shown.").format(
            error=widgets.escape_markdown(shown.job.error)
        ),
        icon=":material/error:",
    )
    st.button(_("Try again"), on_click=profiles.retry_segmentation, args=(shown.job,))
elif shown.job is not None:

    @fragment(run_every=1.0)
    def clustering(job) -> None:
        if job.done:
            st.rerun()
        st.progress(
            job.progress,
            text=_(
                "{task} in the background ({seconds} s); the default segmentation is shown "
                "meanwhile."
            ).format(task=job.label, seconds=f"{job.elapsed:.0f}"),
        )

    clustering(shown.job)

joined = profiles.segment_frame(shown.k, shown.method)
view: tuple | None = (shown.k, shown.method)
features = describe_features(prof, seg.features)

if kind == "Custom rule":
    if (built := custom_segments.builder(joined, features)) is None:
        st.stop()
    column, (joined, descriptions) = custom_segments.COLUMN, built
    view = None  # a rule being edited: not cached
    order = [d.segment for d in descriptions]
elif kind == "Clusters":
    column = "cluster"
    descriptions = seg.clusters
    order = [d.segment for d in descriptions]
else:
    column = "rfm_segment"
    descriptions = viz.ordered(seg.rfm)  # best to lost, as on every page
    order = [d.segment for d in descriptions]
cur = ov.currency()

if not descriptions:
    why = clustering_error_text(seg.k_curve[0].get("error", "")) if seg.k_curve else ""
    st.info(
        _("No {kind} to show for this workspace.").format(kind=KIND_WORDS[kind].lower())
        + " "
        + widgets.escape_markdown(why),
        icon=":material/info:",
    )
    st.stop()
english = {d.segment: d.name for d in descriptions}  # colours are keyed by these
names = {d.segment: segment_label(d.name) for d in descriptions}
log_kind = ov.kind()
scheme = profiles.scheme_of(data.resolved_spec())
rfm_words = rfm_definitions(log_kind)  # "no purchase" in the words of this kind of log
if scheme == SCHEME_8:
    rfm_words = definitions(SCHEME_8) | {NO_PURCHASE: rfm_words[NO_PURCHASE]}
rule_words = TIER_RULES if scheme == SCHEME_8 else RFM_RULES
stakeholder.report_button(descriptions, kind)

# --- sizes and what sets each segment apart -------------------------------------------------
table = pl.DataFrame(
    {
        "segment": [names[d.segment] for d in descriptions],
        "users": [d.users for d in descriptions],
        "share_of_users": [d.share_of_users for d in descriptions],
        "share_of_revenue": [d.share_of_revenue for d in descriptions],
        "sets it apart": [d.highlights() for d in descriptions],
        "definition": [
            _(rfm_words[NO_PURCHASE])
            if d.segment == NO_PURCHASE
            else _(d.definition or rfm_words.get(d.segment, ""))
            for d in descriptions
        ],
    }
)
table, privacy_note = privacy.protect_sizes(table)
if privacy_note:
    st.caption(privacy_note)
# a static table wraps "what sets it apart" (three traits do not fit a grid cell at 1280
# px); the definitions have their own table below
st.table(labels.segment_size_rows(table), hide_index=True)
st.download_button(
    _("Export segment sizes as CSV"),
    labels.csv(table.drop("sets it apart"), cur),
    file_name="segment-sizes.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ps_sizes_export",
)

left, right = st.columns([2, 3])
with left:
    st.plotly_chart(
        viz.segment_sizes_figure(privacy.protected_descriptions(descriptions)[0]),
        width="stretch",
        key="ps_sizes",
    )
with right:
    if kind == "RFM segments":
        st.markdown("**" + _("How the value segments are defined") + "**")
        st.caption(
            _(TIER_RULE)
            if scheme == SCHEME_8
            else _(
                "Every customer who bought gets a score from 1 to 5 for how recently they "
                "ordered and one for how many orders they placed (5 = the top fifth of buyers); "
                "the two scores name the segment. Tied values share a score."
            )
        )
        defined = {d.segment: d.definition for d in descriptions if d.segment != NO_PURCHASE}
        # a static table wraps the longer definitions; they are the library's own words
        st.table(
            [
                {_("segment"): segment_label(n), _("definition"): _(defined.get(n) or t)}
                for n, t in rfm_words.items()
            ],
            hide_index=True,
        )
    elif kind == "Clusters":
        st.markdown(_("**{k} behaviour groups**, found automatically").format(k=seg.k))
        st.caption(
            _("Customers who behave alike are put together, judged on: {features}.").format(
                features=widgets.escape_markdown(feature_list(seg.features))
            )
            + " "
            + _("Each group is named after what sets it apart.")
        )
        st.plotly_chart(viz.k_curve_figure(seg.k_curve, seg.k), width="stretch")

z = profiles.standardized(view, joined, column, features)
st.plotly_chart(
    viz.segment_heatmap_figure(z, privacy.large_segments(order, descriptions), names),
    width="stretch",
    key="ps_heatmap",
)

if kind == "RFM segments":
    g1, _g2 = st.columns([3, 2])
    with g1:
        grid, grid_note = privacy.protect_grid(rfm_grid(prof, seg.assignments))
        st.plotly_chart(viz.rfm_grid_figure(grid), width="stretch")
        if grid_note:
            st.caption(grid_note)

# --- compare two segments ------------------------------------------------------------------
st.subheader(_("Compare two segments"))
if len(order) >= 2:
    a_col, b_col = st.columns(2)
    a = a_col.selectbox(
        _("Segment A"), order, index=0, format_func=names.get, key=f"ps_cmp_a_{column}"
    )
    b = b_col.selectbox(
        _("Segment B"), order, index=1, format_func=names.get, key=f"ps_cmp_b_{column}"
    )
    diff = compare_segments(joined, column, a, b, features, z=z)
    r1, r2 = st.columns([2, 3])
    with r1:
        za = dict(zip(diff["feature"].to_list(), diff["z_a"].to_list(), strict=True))
        zb = dict(zip(diff["feature"].to_list(), diff["z_b"].to_list(), strict=True))
        if za:
            colors = viz.segment_colors(descriptions)
            st.plotly_chart(
                viz.radar_figure(
                    za,
                    zb,
                    names[a],
                    names[b],
                    colors.get(english[a], "#4F46E5"),
                    colors.get(english[b], "#F59E0B"),
                ),
                width="stretch",
            )
    with r2:
        st.caption(
            _(
                "The biggest differences between **A: {a}** and **B: {b}**: each segment's "
                "average, and how far it is from the average customer (0 = average, ±1 = well "
                "above or below)."
            ).format(a=widgets.escape_markdown(names[a]), b=widgets.escape_markdown(names[b]))
        )
        st.dataframe(
            comparison_table(diff, features, names[a], names[b], currency=cur),
            hide_index=True,
            width="stretch",
            column_config={
                "feature": st.column_config.TextColumn(_("feature"), width=170),
                "A: average": st.column_config.TextColumn(_("A: average"), width=80),
                "B: average": st.column_config.TextColumn(_("B: average"), width=80),
                "A vs everyone": st.column_config.NumberColumn(
                    _("A vs all"), format="%+.2f", width=70, help=G.help_text("z")
                ),
                "B vs everyone": st.column_config.NumberColumn(
                    _("B vs all"), format="%+.2f", width=70, help=G.help_text("z")
                ),
            },
        )

# --- members and export --------------------------------------------------------------------
st.subheader(_("Members"))
widgets.from_url(f"ps_members_{column}", "segment", order)
pick = st.selectbox(_("Segment"), order, format_func=names.get, key=f"ps_members_{column}")
joined, by_score = pred_ui.segment_score_filter(joined)
widgets.to_url("segment", pick)
default_cols = [
    c
    for c in (
        "rfm_segment",
        "recency_days",
        "frequency",
        "monetary",
        "churn_risk",
        "purchase_propensity",
    )
    if c in joined.columns
]
cols = st.multiselect(
    _("Columns to show and export"),
    [c for c in joined.columns if c != "user_id"],
    default=default_cols,
    format_func=G.label,
    key="ps_members_cols",
)
mask = joined[column] == pick
if by_score is not None:
    mask = mask & by_score
mem = members(joined, mask, cols)
picked_name = widgets.escape_markdown(names[pick])
st.caption(
    (
        _(
            "Customers in **{segment}** (the list is exact, so its length is not printed: the "
            "sizes above are the protected counts)"
        ).format(segment=picked_name)
        if privacy.on()
        else _("{n} customers in **{segment}**").format(
            n=fmt.count(mem.height), segment=picked_name
        )
    )
    + (_(" within the chosen score ranges") if by_score is not None else "")
    + (
        _(" (each {what})").format(what=_(NO_PURCHASE_BY_KIND.get(log_kind, "has no purchase")))
        if pick == NO_PURCHASE
        else ""
    )
)
# the default columns fit at 1280 px with short headers (full words in their help)
member_widths = {
    "user_id": 90,
    "rfm_segment": 110,
    "recency_days": 115,
    "frequency": 70,
    "monetary": 90,
    "churn_risk": 150,
    "purchase_propensity": 0,
}
shown = widgets.member_rows(mem, segment_label)
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    column_config=labels.fitted_columns(
        mem.columns,
        cur,
        member_widths,
        {
            "user_id": _("customer"),
            "rfm_segment": _("segment"),
            "recency_days": _("days since order"),
            "churn_risk": G.label("churn_risk"),
            "purchase_propensity": G.label("purchase_propensity"),
        },
    )
    | {
        "profile": st.column_config.LinkColumn(
            _("profile"),
            display_text=_("open"),
            help=_("Open this customer's profile (in this workspace)"),
            width=50,
        )
    },
    key="ps_members",
)
st.download_button(
    _("Export these customers as CSV")
    if privacy.on()
    else _("Export {n} customers as CSV").format(n=fmt.count(mem.height)),
    labels.csv(mem, cur),
    file_name=f"segment-{safe_filename(names[pick])}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ps_export",
)

widgets.analyst_details(
    ds, ["users", "share_of_users", "share_of_revenue", "z", "r_score", "f_score", "cluster"]
)
with st.expander(_("Score rules of the value segments (RFM)"), icon=":material/rule:"):
    st.dataframe(
        pl.DataFrame(
            {
                _("segment"): [segment_label(n) for n in rule_words],
                _("rule"): [_(r) for r in rule_words.values()],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        _(
            "R = recency score, F = frequency (order-count) score, each 1-5 by quintile of the "
            "customers who bought. Behaviour groups are found by k-means (or a Gaussian "
            "mixture) on standardized features; the number of groups with the best silhouette "
            "score wins."
        )
        + (" " + _(TIER_RULE) if scheme == SCHEME_8 else "")
    )
