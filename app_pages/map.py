"""Profile map: every user on one picture; points close together behave alike."""

import streamlit as st

from profiling.errors import ProfilingError
from profiling.jobs import Job
from profiling.present import viz
from profiling.profiles import embeddings as E
from ui import data, profiles, widgets
from ui import embeddings as maps

st.title("Profile map")
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
st.caption(
    "Each point is a user. **Points close together behave alike**; colour shows a segment, "
    "tag or feature, size shows money spent. Click a point to open that user's profile."
)
with st.expander("How to read this map", icon=":material/help:"):
    st.markdown(widgets.MAP_GUIDE)

sources = dict(E.SOURCES) if ds.summary()["items"] else {"profile": E.SOURCES["profile"]}
c1, c2, c3 = st.columns([3, 2, 2])
source = c1.selectbox(
    "Place customers by",
    list(sources),
    format_func=sources.get,
    key="ps_map_source",
    help="Behaviour profile: spend, orders, timing and category shares. Taste: what a "
    "recommender learned from purchases or ratings (customers who like the same items sit "
    "together; technically the model's user factors).",
)
method = (
    c2.segmented_control(
        "Projection",
        list(E.METHODS),
        default="umap",
        key="ps_map_method",
        format_func=lambda m: m.upper(),
        help=widgets.METHODS_HELP,
    )
    or "umap"
)
dims = (
    c3.segmented_control(
        "View", [2, 3], default=2, key="ps_map_dims", format_func=lambda d: f"{d}-D"
    )
    or 2
)
c4, c5, c6 = st.columns([3, 2, 2], vertical_alignment="bottom")
with c6.popover("UMAP settings", icon=":material/tune:", disabled=method != "umap"):
    n_neighbors = st.slider(
        "Neighbours per user",
        5,
        50,
        15,
        key="ps_map_nn",
        help="Small: fine local groups. Large: the global layout.",
    )
    min_dist = st.slider(
        "Minimum distance",
        0.0,
        0.9,
        0.1,
        0.05,
        key="ps_map_md",
        help="Small: tight clumps. Large: evenly spread points.",
    )

try:
    with st.spinner("Training the model whose user factors are drawn…"):
        inp = maps.map_input(source)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
if inp.n_users_total > len(inp.ids):
    st.info(
        f"{inp.n_users_total:,} users are more than a map can show: this is a **stratified sample "
        f"of {len(inp.ids):,} users**, every RFM segment in proportion to its size.",
        icon=":material/filter_alt:",
    )

params = E.EmbeddingParams(
    method=method, n_components=dims, n_neighbors=n_neighbors, min_dist=min_dist
)
try:
    emb = maps.pca(inp, source, dims)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
pending = None
if method == "umap":
    result = maps.umap(inp, source, params)
    if isinstance(result, Job):
        if result.failed:
            st.error(
                f"UMAP could not draw this map: {widgets.escape_markdown(result.error)}. "
                "PCA is shown."
            )
            st.button("Try UMAP again", on_click=maps.retry, args=(result,))
        else:
            pending = result
    else:
        emb = result

if pending is not None:

    @st.fragment(run_every=1.0)
    def progress() -> None:
        job = maps.warm_up_job()
        if pending.done:
            st.rerun()
        if job is not None and not job.done:
            st.progress(
                job.progress,
                text="Preparing UMAP for the first map since the server "
                f"started ({job.message}, {job.elapsed:.0f} s). PCA is shown meanwhile.",
            )
        else:
            st.progress(
                pending.progress,
                text=f"Computing UMAP of {len(inp.ids):,} users: "
                f"{pending.message} ({pending.elapsed:.0f} s). PCA is shown meanwhile.",
            )

    progress()

options = maps.color_options()
widgets.from_url("ps_map_color", "color", list(options))
color_key = c4.selectbox("Colour by", list(options), format_func=options.get, key="ps_map_color")
widgets.to_url("color", color_key)
table = maps.table(emb, clusters=color_key == "cluster_name")
sized = c5.toggle(
    "Size by money spent",
    value="monetary" in table.columns,
    key="ps_map_size",
    disabled="monetary" not in table.columns,
    help="Point size grows with the money the user spent.",
)
colors, categorical = E.color_values(table, color_key)
cluster_ids = {}
if color_key == "cluster_name":
    seg = profiles.active_segmentation()
    cluster_ids = {d.name: d.segment for d in seg.clusters} if seg else {}
fig = viz.map_figure(
    table,
    colors,
    categorical,
    options[color_key],
    size_by="monetary" if sized else None,
    axis_titles=widgets.map_axis_titles(emb),
    title=widgets.map_title(emb, sources[source]),
    segment_ids=cluster_ids,
)
event = st.plotly_chart(
    fig, on_select="rerun", selection_mode="points", key=f"ps_map_{dims}d", width="stretch"
)
picked = widgets.picked_user(event)
if picked:
    widgets.open_user(picked)
    st.switch_page("app_pages/user.py")

if dims == 3:
    o1, o2 = st.columns([3, 1])
    user = o1.selectbox(
        "3-D points cannot be clicked: open a user by id (shown on hover)",
        table["user_id"].to_list(),
        index=None,
        key="ps_map_open",
        placeholder="type a user id",
    )
    o2.write("")
    if o2.button("Open profile", disabled=user is None, icon=":material/person:"):
        widgets.open_user(user)
        st.switch_page("app_pages/user.py")
st.caption(widgets.map_footer(emb))
widgets.analyst_details(
    ds, ["rfm_segment", "cluster_name", "recency_days", "frequency", "monetary", "n_events"]
)
