"""Overview: headline numbers, activity over time and data quality of the active dataset."""

import streamlit as st

from profiling import viz
from ui import data, privacy, profiles, widgets

st.title("Overview")
ds = data.active_dataset()
if ds is None:
    st.info("No dataset is open. Choose the sample store or upload files on the Data page.")
    if st.button("Open the Data page", icon=":material/database:"):
        st.switch_page("app_pages/data.py")
    st.stop()

widgets.dataset_caption(ds)
s = ds.summary()
cols = st.columns(5)
cols[0].metric("Users", f"{s['users']:,}")
cols[1].metric(
    "Items",
    f"{s['items']:,}" if s["items"] else "—",
    help=None if s["items"] else "The data has no item ids (a transaction log of amounts only).",
)
cols[2].metric("Events", f"{s['events']:,}")
cols[3].metric(
    "Revenue (net of refunds)",
    widgets.money(s["revenue"]) if s["has_money"] else "—",
    help="Sum of purchase amounts minus refunds. '—' when the data has no prices or amounts.",
)
cols[4].metric(
    "Date range",
    f"{(s['end'] - s['start']).days + 1:,} days",
    help=f"{s['start']:%Y-%m-%d %H:%M} → {s['end']:%Y-%m-%d %H:%M} UTC",
)
st.caption(f"From {s['start']:%d %b %Y} to {s['end']:%d %b %Y} (UTC).")

widgets.quality_badge(ds)

left, right = st.columns([3, 1])
with left:
    st.plotly_chart(viz.activity_figure(ds.activity()), width="stretch")
with right:
    st.plotly_chart(viz.event_mix_figure(ds.event_type_counts()), width="stretch")

mix = privacy.protected_mix(profiles.active_rfm_mix())  # small segments merged, DP noise
if mix:
    m_left, m_right = st.columns([2, 3])
    with m_left:
        st.plotly_chart(viz.segment_mix_figure(mix), width="stretch")
    with m_right:
        st.markdown("**Who the customers are**")
        st.dataframe(
            [
                {
                    "segment": d.name,
                    "users": d.users,
                    "share of revenue": d.share_of_revenue,
                    "definition": d.definition,
                }
                for d in mix
            ],
            hide_index=True,
            width="stretch",
            column_config={
                "share of revenue": st.column_config.ProgressColumn(
                    format="percent", min_value=0, max_value=1
                )
            },
        )
        if st.button("Explore the segments", icon=":material/groups:"):
            st.switch_page("app_pages/segments.py")
