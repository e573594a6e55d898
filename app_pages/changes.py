"""What changed: users moving between segments from one date to another."""

from datetime import datetime, time, timedelta

import streamlit as st

from profiling.errors import ProfilingError
from profiling.jobs import Job
from profiling.present import viz
from ui import changes, data, labels, privacy, profiles, widgets
from ui import live as live_ui
from ui import overview as ov

st.title("What changed")
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
cur = ov.currency()
st.caption(
    "Who moved between segments, and how much they had spent: compare two dates of the log "
    "(profiles rebuilt from the events up to each date) or two snapshots saved when data "
    "was added to the workspace."
)

snaps = changes.snapshots()
modes = ["Two dates"] + (["Two snapshots"] if snaps.height >= 2 else []) + live_ui.hour_modes()
c1, c2 = st.columns([2, 2])
mode = c1.segmented_control("Compare", modes, default=modes[0], key="ps_chg_mode")
kinds = {"rfm_segment": "Value segments", "cluster_name": "Behaviour groups"}
widgets.from_url("ps_chg_kind", "by", list(kinds))
column = c2.segmented_control(
    "Segments",
    list(kinds),
    default="rfm_segment",
    format_func=kinds.get,
    key="ps_chg_kind",
    help="Clusters are fitted afresh at each date, then matched to the earlier ones by their "
    "centres.",
)
column = column or "rfm_segment"
widgets.to_url("by", column)

start, end = ds.events["timestamp"].min(), ds.as_of
try:
    if mode == "Two snapshots":
        snap_names = {
            r["snapshot_id"]: f"#{r['snapshot_id']} · as of {r['as_of']:%d %b %Y} · {r['label']}"
            for r in snaps.iter_rows(named=True)
        }
        ids = list(snap_names)
        a_col, b_col = st.columns(2)
        a = a_col.selectbox(
            "Earlier", ids[:-1], index=len(ids) - 2, format_func=snap_names.get, key="ps_chg_snap_a"
        )
        b = b_col.selectbox(
            "Later", [i for i in ids if i > a], format_func=snap_names.get, key="ps_chg_snap_b"
        )
        mig = changes.migration_between_snapshots(a, b, column)
    elif mode in live_ui.hour_modes():
        as_of_a, as_of_b = live_ui.hour_ago(end)
        st.caption(live_ui.hour_caption(as_of_a, as_of_b))
        mig = changes.migration_between_dates(as_of_a, as_of_b, column)
    else:
        a_col, b_col = st.columns(2)
        default_a = max(start.date(), (end - timedelta(days=90)).date())
        a_day = a_col.date_input(
            "Earlier date",
            value=default_a,
            min_value=start.date(),
            max_value=end.date(),
            key="ps_chg_date_a",
        )
        b_day = b_col.date_input(
            "Later date",
            value=end.date(),
            min_value=start.date(),
            max_value=end.date(),
            key="ps_chg_date_b",
        )
        as_of_a = datetime.combine(a_day, time.max, tzinfo=end.tzinfo)
        as_of_b = min(end, datetime.combine(b_day, time.max, tzinfo=end.tzinfo))
        mig = changes.migration_between_dates(as_of_a, as_of_b, column)
except ProfilingError as exc:
    widgets.show_error(exc)
    st.stop()
if isinstance(mig, Job):
    widgets.job_progress(mig, "Rebuilding profiles and segments as of both dates")
    if mig.failed:
        st.button("Try again", on_click=changes.retry, args=(mig,))
    st.stop()
mig, privacy_note = privacy.protect_migration(mig)  # small flows hidden, DP noise

moved = mig.moved()
at_stake = moved["revenue_12m"].sum()
counts = privacy.migration_figures(mig)  # sums of the (protected) flows
m = st.columns(4)
m[0].metric("Customers compared", f"{counts.compared:,}")
m[1].metric(
    "Changed segment",
    f"{counts.changed:,}",
    help="Customers present at both dates whose segment differs.",
)
m[2].metric("New customers", f"{counts.new:,}", help="First event after the earlier date.")
m[3].metric(
    "Became inactive",
    "—" if counts.inactive is None else f"{counts.inactive:,}",
    help="Active in the 90 days before the earlier date, no event since."
    + (" Not shown under this workspace's privacy settings." if counts.inactive is None else ""),
)
before, after = f"{mig.before:%d %b %Y}", f"{mig.after:%d %b %Y}"
cluster_ids = {}
if column == "cluster_name":
    seg = profiles.active_segmentation()
    cluster_ids = {d.name: d.segment for d in seg.clusters} if seg else {}
st.plotly_chart(viz.migration_figure(mig.flows, before, after, cluster_ids), width="stretch")
st.caption(
    f"Left: segments on {before}; right: on {after}. Grey bands are customers who stayed; "
    f"blue bands moved. Customers who moved had spent {widgets.money(at_stake, cur)} in the "
    "12 months before the earlier date."
)
if privacy_note:
    st.caption(privacy_note)

st.subheader("Flows between segments")
table = changes.flows_table(mig)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config=labels.columns(table.columns, cur)
    | {"users": labels.column("users", label="customers")},
)
d1, d2 = st.columns(2)
d1.download_button(
    "Download the flows (CSV)",
    labels.csv(table, cur),
    file_name="segment-flows.csv",
    mime="text/csv",
    icon=":material/download:",
)
if table.height:
    pairs = list(zip(table["from_segment"].to_list(), table["to_segment"].to_list(), strict=True))
    pick = st.selectbox(
        "Export the customers of one flow as an audience",
        range(len(pairs)),
        format_func=lambda i: f"{pairs[i][0]} → {pairs[i][1]} ({table['users'][i]:,} customers)",
        key="ps_chg_flow",
    )
    src, dst = pairs[pick]
    aud = changes.audience(mig, src, dst)
    if privacy.on():  # the file's length is the exact count: not printed beside the noisy one
        st.caption(
            "The file lists every customer of the flow, so it holds the exact number of "
            "customers; the counts on this page are the protected ones."
        )
    st.download_button(
        f"Download the customers ({src} → {dst}) as CSV"
        if privacy.on()
        else f"Download {aud.height:,} customers ({src} → {dst}) as CSV",
        labels.csv(aud, cur),
        file_name=f"audience-{widgets.file_slug(src)}-to-{widgets.file_slug(dst)}.csv",
        mime="text/csv",
        icon=":material/group:",
        key="ps_chg_audience",
    )

widgets.analyst_details(
    ds,
    [
        "from_segment",
        "to_segment",
        "share_of_from",
        "revenue_12m",
        "became_inactive",
        "rfm_segment",
        "cluster_name",
    ],
)
