"""Segments: who the users are, which groups they form, and what sets each group apart."""

import polars as pl
import streamlit as st

from profiling import viz
from profiling.errors import ProfilingError
from profiling.export import safe_filename, to_safe_csv
from profiling.features import feature_list
from profiling.segments import (
    NO_PURCHASE,
    RFM_DEFINITIONS,
    compare_segments,
    comparison_table,
    describe_features,
    members,
    rfm_grid,
)
from ui import custom_segments, data, privacy, profiles, stakeholder, widgets
from ui import predict as pred_ui

st.title("Segments")
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
prof = profiles.active_profiles()

c1, c2, c3 = st.columns([2, 1, 1])
KINDS = ["RFM segments", "Clusters", "Custom rule"]
widgets.from_url("ps_seg_kind", "view", KINDS)
kind = c1.segmented_control(
    "Segmentation",
    KINDS,
    default="RFM segments",
    key="ps_seg_kind",
)
widgets.to_url("view", kind)
k_choice = c2.selectbox(
    "Number of clusters",
    ["auto", *range(3, 11)],
    key="ps_seg_k",
    disabled=kind != "Clusters",
    help="'auto' tries k = 3..10 and keeps the best silhouette score.",
)
method = c3.selectbox(
    "Method",
    ["kmeans", "gmm"],
    format_func={"kmeans": "k-means", "gmm": "Gaussian mixture"}.get,
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
    st.error(f"Clustering failed: {widgets.escape_markdown(shown.job.error)}. The default "
             "segmentation is shown.", icon=":material/error:")  # fmt: skip
    st.button("Try again", on_click=profiles.retry_segmentation, args=(shown.job,))
elif shown.job is not None:

    @st.fragment(run_every=1.0)
    def clustering(job) -> None:
        if job.done:
            st.rerun()
        st.progress(job.progress, text=f"{job.label} in the background ({job.elapsed:.0f} s); "
                    "the default segmentation is shown meanwhile.")  # fmt: skip

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
    descriptions = seg.rfm
    order = [d.segment for d in descriptions]

if not descriptions:
    why = seg.k_curve[0].get("error", "") if seg.k_curve else ""
    st.info(
        f"No {kind.lower()} to show for this workspace. {widgets.escape_markdown(why)}",
        icon=":material/info:",
    )
    st.stop()
names = {d.segment: d.name for d in descriptions}
stakeholder.report_button(descriptions, kind)

# --- sizes and what sets each segment apart -------------------------------------------------
left, right = st.columns([2, 3])
with left:
    k_min = privacy.current().min_group
    st.plotly_chart(viz.segment_sizes_figure(privacy.large_groups(descriptions, k_min)),
                    width="stretch", key="ps_sizes")  # fmt: skip
with right:
    table = pl.DataFrame(
        {
            "segment": [d.name for d in descriptions],
            "users": [d.users for d in descriptions],
            "share of users": [d.share_of_users for d in descriptions],
            "share of revenue": [d.share_of_revenue for d in descriptions],
            "sets it apart": [d.highlights() for d in descriptions],
            "definition": [
                d.definition or RFM_DEFINITIONS.get(d.segment, "") for d in descriptions
            ],
        }
    )
    table, privacy_note = privacy.protect_sizes(table)
    if privacy_note:
        st.caption(privacy_note)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "share of users": st.column_config.ProgressColumn(
                format="percent", min_value=0, max_value=1
            ),
            "share of revenue": st.column_config.ProgressColumn(
                format="percent", min_value=0, max_value=1
            ),
        },
    )

    st.download_button("Export segment sizes as CSV", to_safe_csv(table.drop("sets it apart")),
                       file_name="segment-sizes.csv", mime="text/csv",
                       icon=":material/download:", key="ps_sizes_export")  # fmt: skip

z = profiles.standardized(view, joined, column, features)
st.plotly_chart(viz.segment_heatmap_figure(z, privacy.large_segments(order, descriptions), names),
                width="stretch", key="ps_heatmap")  # fmt: skip

if kind == "RFM segments":
    g1, g2 = st.columns([3, 2])
    with g1:
        st.plotly_chart(viz.rfm_grid_figure(rfm_grid(prof, seg.assignments)), width="stretch")
    with g2:
        st.markdown("**How the RFM segments are defined**")
        st.caption(
            "Recency (R), frequency (F) and monetary (M) scores run from 1 to 5 by quintile "
            "of the users who bought; tied values share a score."
        )
        st.dataframe(
            pl.DataFrame(
                {"segment": list(RFM_DEFINITIONS), "definition": list(RFM_DEFINITIONS.values())}
            ),
            hide_index=True,
            width="stretch",
        )
elif kind == "Clusters":
    g1, g2 = st.columns([3, 2])
    with g1:
        st.plotly_chart(viz.k_curve_figure(seg.k_curve, seg.k), width="stretch")
    with g2:
        st.markdown(
            f"**{seg.k} clusters** by {'k-means' if seg.method == 'kmeans' else 'Gaussian mixture'}"
        )
        st.caption(
            "Clustered on these features (money and counts logged, all standardized): "
            + widgets.escape_markdown(feature_list(seg.features))
        )

# --- compare two segments ------------------------------------------------------------------
st.subheader("Compare two segments")
if len(order) >= 2:
    a_col, b_col = st.columns(2)
    a = a_col.selectbox(
        "Segment A", order, index=0, format_func=names.get, key=f"ps_cmp_a_{column}"
    )
    b = b_col.selectbox(
        "Segment B", order, index=1, format_func=names.get, key=f"ps_cmp_b_{column}"
    )
    diff = compare_segments(joined, column, a, b, features, z=z)
    r1, r2 = st.columns([1, 1])
    with r1:
        za = dict(zip(diff["feature"].to_list(), diff["z_a"].to_list(), strict=True))
        zb = dict(zip(diff["feature"].to_list(), diff["z_b"].to_list(), strict=True))
        if za:
            st.plotly_chart(viz.radar_figure(za, zb, names[a], names[b]), width="stretch")
    with r2:
        st.caption("The biggest differences (means, and standardized difference from all users)")
        st.dataframe(
            comparison_table(diff, features, names[a], names[b]),
            hide_index=True,
            width="stretch",
        )

# --- members and export --------------------------------------------------------------------
st.subheader("Members")
widgets.from_url(f"ps_members_{column}", "segment", order)
pick = st.selectbox("Segment", order, format_func=names.get, key=f"ps_members_{column}")
joined, by_score = pred_ui.segment_score_filter(joined)
widgets.to_url("segment", pick)
default_cols = [
    c
    for c in (
        "rfm_segment",
        "cluster_name",
        "recency_days",
        "frequency",
        "monetary",
        "top_category",
        "tags",
        "churn_risk",
        "purchase_propensity",
    )
    if c in joined.columns
]
cols = st.multiselect(
    "Columns to show and export",
    [c for c in joined.columns if c != "user_id"],
    default=default_cols,
    key="ps_members_cols",
)
mask = joined[column] == pick
if by_score is not None:
    mask = mask & by_score
mem = members(joined, mask, cols)
st.caption(
    f"{mem.height:,} users in **{widgets.escape_markdown(names[pick])}**"
    + (" within the chosen score ranges" if by_score is not None else "")
    + (" (they have events but no purchase)" if pick == NO_PURCHASE else "")
)
st.dataframe(mem.head(1000), hide_index=True, width="stretch")
st.download_button(
    f"Export {mem.height:,} users as CSV",
    to_safe_csv(mem),
    file_name=f"segment-{safe_filename(names[pick])}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="ps_export",
)
