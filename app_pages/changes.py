"""What changed: users moving between segments from one date to another."""

from datetime import datetime, time, timedelta

import streamlit as st

from profiling.errors import ProfilingError
from profiling.jobs import Job
from profiling.present import viz
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace.migration import flow_label
from ui import changes, data, labels, privacy, profiles, widgets
from ui import live as live_ui
from ui import overview as ov

st.title(_("What changed"))
ds = data.active_dataset()
if ds is None:
    st.stop()
widgets.dataset_caption(ds)
cur = ov.currency()
st.caption(
    _(
        "Who moved between segments, and how much they had spent: compare two dates of the "
        "log (profiles rebuilt from the events up to each date) or two snapshots saved when "
        "data was added to the workspace."
    )
)

snaps = changes.snapshots()
modes = ["Two dates"] + (["Two snapshots"] if snaps.height >= 2 else []) + live_ui.hour_modes()
c1, c2 = st.columns([2, 2])
MODE_WORDS = {
    "Two dates": _("Two dates"),
    "Two snapshots": _("Two snapshots"),
    live_ui.HOUR_MODE: _("Now and an hour ago"),
}
mode = c1.segmented_control(
    _("Compare"), modes, default=modes[0], format_func=MODE_WORDS.get, key="ps_chg_mode"
)
kinds = {"rfm_segment": _("Value segments"), "cluster_name": _("Behaviour groups")}
widgets.from_url("ps_chg_kind", "by", list(kinds))
column = c2.segmented_control(
    _("Segments"),
    list(kinds),
    default="rfm_segment",
    format_func=kinds.get,
    key="ps_chg_kind",
    help=_(
        "Clusters are fitted afresh at each date, then matched to the earlier ones by their "
        "centres."
    ),
)
column = column or "rfm_segment"
widgets.to_url("by", column)

start, end = ds.events["timestamp"].min(), ds.as_of
try:
    if mode == "Two snapshots":
        snap_names = {
            r["snapshot_id"]: _("#{id} · as of {date} · {label}").format(
                id=r["snapshot_id"], date=fmt.date_text(r["as_of"]), label=r["label"]
            )
            for r in snaps.iter_rows(named=True)
        }
        ids = list(snap_names)
        a_col, b_col = st.columns(2)
        a = a_col.selectbox(
            _("Earlier"),
            ids[:-1],
            index=len(ids) - 2,
            format_func=snap_names.get,
            key="ps_chg_snap_a",
        )
        b = b_col.selectbox(
            _("Later"), [i for i in ids if i > a], format_func=snap_names.get, key="ps_chg_snap_b"
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
            _("Earlier date"),
            value=default_a,
            min_value=start.date(),
            max_value=end.date(),
            key="ps_chg_date_a",
        )
        b_day = b_col.date_input(
            _("Later date"),
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
    widgets.job_progress(mig, _("Rebuilding profiles and segments as of both dates"))
    if mig.failed:
        st.button(_("Try again"), on_click=changes.retry, args=(mig,))
    st.stop()
mig, privacy_note = privacy.protect_migration(mig)  # small flows hidden, DP noise

moved = mig.moved()
at_stake = moved["revenue_12m"].sum()
counts = privacy.migration_figures(mig)  # sums of the (protected) flows
m = st.columns(4)
m[0].metric(_("Customers compared"), fmt.count(counts.compared))
m[1].metric(
    _("Changed segment"),
    fmt.count(counts.changed),
    help=_("Customers present at both dates whose segment differs."),
)
m[2].metric(
    _("New customers"), fmt.count(counts.new), help=_("First event after the earlier date.")
)
m[3].metric(
    _("Became inactive"),
    fmt.count(counts.inactive),
    help=_("Active in the 90 days before the earlier date, no event since.")
    + (
        " " + _("Not shown under this workspace's privacy settings.")
        if counts.inactive is None
        else ""
    ),
)
before, after = fmt.date_text(mig.before), fmt.date_text(mig.after)
cluster_ids = {}
if column == "cluster_name":
    seg = profiles.active_segmentation()
    cluster_ids = {d.name: d.segment for d in seg.clusters} if seg else {}
st.plotly_chart(viz.migration_figure(mig.flows, before, after, cluster_ids), width="stretch")
st.caption(
    _(
        "Left: segments on {before}; right: on {after}. Grey bands are customers who stayed; "
        "blue bands moved. Customers who moved had spent {money} in the 12 months before the "
        "earlier date."
    ).format(before=before, after=after, money=widgets.money(at_stake, cur))
)
if privacy_note:
    st.caption(privacy_note)

st.subheader(_("Flows between segments"))
table = changes.flows_table(mig)
st.dataframe(
    labels.segment_names(table, ("from_segment", "to_segment")),
    hide_index=True,
    width="stretch",
    column_config=labels.columns(table.columns, cur)
    | {"users": labels.column("users", label=_("customers"))},
)
d1, d2 = st.columns(2)
d1.download_button(
    _("Download the flows (CSV)"),
    labels.csv(table, cur),
    file_name="segment-flows.csv",
    mime="text/csv",
    icon=":material/download:",
)
if table.height:
    pairs = list(zip(table["from_segment"].to_list(), table["to_segment"].to_list(), strict=True))
    pick = st.selectbox(
        _("Export the customers of one flow as an audience"),
        range(len(pairs)),
        format_func=lambda i: _("{source} → {target} ({n} customers)").format(
            source=flow_label(pairs[i][0]),
            target=flow_label(pairs[i][1]),
            n=fmt.count(table["users"][i]),
        ),
        key="ps_chg_flow",
    )
    src, dst = pairs[pick]
    aud = changes.audience(mig, src, dst)
    if privacy.on():  # the file's length is the exact count: not printed beside the noisy one
        st.caption(
            _(
                "The file lists every customer of the flow, so it holds the exact number of "
                "customers; the counts on this page are the protected ones."
            )
        )
    flow = _("{source} → {target}").format(source=flow_label(src), target=flow_label(dst))
    st.download_button(
        _("Download the customers ({flow}) as CSV").format(flow=flow)
        if privacy.on()
        else _("Download {n} customers ({flow}) as CSV").format(n=fmt.count(aud.height), flow=flow),
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
