"""Profile map: every user on one picture; points close together behave alike."""

import streamlit as st

from profiling.errors import ProfilingError
from profiling.jobs import Job
from profiling.present import viz
from profiling.profiles import embeddings as E
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import gettext as _
from ui import data, profiles, widgets
from ui import embeddings as maps
from ui.i18n import in_session_language

st.title(_("Profile map"))
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
st.caption(
    _(
        "Each point is a customer. **Points close together behave alike**; colour shows a "
        "segment, tag or feature, size shows money spent. Click a point to open that "
        "customer's profile."
    )
)
with st.expander(_("How to read this map"), icon=":material/help:"):
    st.markdown(_(widgets.MAP_GUIDE))

sources = dict(E.SOURCES) if ds.summary()["items"] else {"profile": E.SOURCES["profile"]}
c1, c2, c3 = st.columns([3, 2, 2])
source = c1.selectbox(
    _("Place customers by"),
    list(sources),
    format_func=lambda s: _(sources[s]),
    key="ps_map_source",
    help=_(
        "Behaviour profile: spend, orders, timing and category shares. Taste: what a "
        "recommender learned from purchases or ratings (customers who like the same items sit "
        "together; technically the model's user factors)."
    ),
)
method = (
    c2.segmented_control(
        _("Projection"),
        list(E.METHODS),
        default="umap",
        key="ps_map_method",
        format_func=lambda m: m.upper(),
        help=_(widgets.METHODS_HELP),
    )
    or "umap"
)
dims = (
    c3.segmented_control(
        _("View"),
        [2, 3],
        default=2,
        key="ps_map_dims",
        format_func=lambda d: _("{n}-D").format(n=d),
    )
    or 2
)
c4, c5, c6 = st.columns([3, 2, 2], vertical_alignment="bottom")
with c6.popover(_("UMAP settings"), icon=":material/tune:", disabled=method != "umap"):
    n_neighbors = st.slider(
        _("Neighbours per customer"),
        5,
        50,
        15,
        key="ps_map_nn",
        help=_("Small: fine local groups. Large: the global layout."),
    )
    min_dist = st.slider(
        _("Minimum distance"),
        0.0,
        0.9,
        0.1,
        0.05,
        key="ps_map_md",
        help=_("Small: tight clumps. Large: evenly spread points."),
    )

try:
    with st.spinner(_("Training the model whose user factors are drawn…")):
        inp = maps.map_input(source)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
if inp.n_users_total > len(inp.ids):
    st.info(
        _(
            "{total} users are more than a map can show: this is a **stratified sample "
            "of {n} users**, every RFM segment in proportion to its size."
        ).format(total=fmt.count(inp.n_users_total), n=fmt.count(len(inp.ids))),
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
                _("UMAP could not draw this map: {error}. PCA is shown.").format(
                    error=widgets.escape_markdown(result.error)
                )
            )
            st.button(_("Try UMAP again"), on_click=maps.retry, args=(result,))
        else:
            pending = result
    else:
        emb = result

if pending is not None:

    @st.fragment(run_every=1.0)
    def progress() -> None:
        in_session_language()
        job = maps.warm_up_job()
        if pending.done:
            st.rerun()
        if job is not None and not job.done:
            st.progress(
                job.progress,
                text=_(
                    "Preparing UMAP for the first map since the server started ({seconds} s). "
                    "PCA is shown meanwhile."
                ).format(seconds=f"{job.elapsed:.0f}"),
            )
        else:
            st.progress(
                pending.progress,
                text=_(
                    "Computing UMAP of {n} customers ({seconds} s). PCA is shown meanwhile."
                ).format(n=fmt.count(len(inp.ids)), seconds=f"{pending.elapsed:.0f}"),
            )

    progress()

options = maps.color_options()
widgets.from_url("ps_map_color", "color", list(options))
color_key = c4.selectbox(_("Colour by"), list(options), format_func=options.get, key="ps_map_color")
widgets.to_url("color", color_key)
table = maps.table(emb, clusters=color_key == "cluster_name")
sized = c5.toggle(
    _("Size by money spent"),
    value="monetary" in table.columns,
    key="ps_map_size",
    disabled="monetary" not in table.columns,
    help=_("Point size grows with the money the customer spent."),
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
    title=widgets.map_title(emb, _(sources[source])),
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
        _("3-D points cannot be clicked: open a customer by id (shown on hover)"),
        table["user_id"].to_list(),
        index=None,
        key="ps_map_open",
        placeholder=_("type a customer id"),
    )
    o2.write("")
    if o2.button(_("Open profile"), disabled=user is None, icon=":material/person:"):
        widgets.open_user(user)
        st.switch_page("app_pages/user.py")
st.caption(widgets.map_footer(emb))
widgets.analyst_details(
    ds, ["rfm_segment", "cluster_name", "recency_days", "frequency", "monetary", "n_events"]
)
