"""Data: open the sample store or upload files, review the column mapping, read the report."""

import streamlit as st

from profiling import schema as S
from profiling.errors import ProfilingError
from ui import data, report, state

TABLES = {
    "events": "Events, transactions or ratings (required)",
    "users": "Users (optional)",
    "items": "Item catalog (optional)",
}

st.title("Data")
st.caption(
    "Open the sample store or upload your own export: CSV / TSV (any delimiter, with or "
    "without a header), Parquet, JSON lines or Excel .xlsx."
)

source = st.segmented_control(
    "Source", ["Sample store", "Upload files"], default="Sample store", key="ps_data_source"
)

if source == "Upload files":
    with st.container(border=True):
        uploads = {}
        cols = st.columns(3)
        for col, (table, label) in zip(cols, TABLES.items(), strict=True):
            with col:
                uploads[table] = st.file_uploader(label, key=f"ps_upload_{table}")
        if uploads["events"] is None:
            st.info("Upload an events file to begin; users and items are optional.")
        else:
            files, maps, problems = {}, {}, False
            for table, up in uploads.items():
                if up is None:
                    continue
                saved = data.save_upload(up)
                files[table] = saved
                st.markdown(f"**{TABLES[table].split(' (')[0]}** · `{saved['name']}`")
                try:
                    found = data.inspect_upload(saved["path"], saved["name"], table)
                except ProfilingError as exc:
                    st.error(str(exc))
                    problems = True
                    continue
                st.caption(f"Read as {found['read']}. Review the role of each column:")
                for note in found["notes"]:
                    st.info(note, icon=":material/info:")
                edited = st.data_editor(
                    found["rows"],
                    key=f"ps_map_{table}_{saved['path'][-40:]}",
                    hide_index=True,
                    width="stretch",
                    disabled=["column", "examples", "how"],
                    column_config={
                        "role": st.column_config.SelectboxColumn(
                            "role", options=[*S.ROLES_BY_TABLE[table], S.IGNORE], required=True
                        ),
                        "how": st.column_config.TextColumn("inferred from"),
                    },
                )
                maps[table] = {row["column"]: row["role"] for row in edited}
            if not problems and st.button("Load with this mapping", type="primary"):
                spec = state.DatasetSpec(name=files["events"]["name"], files=files, maps=maps)
                try:
                    data.load(spec)
                except ProfilingError as exc:
                    st.error(str(exc))
                else:
                    state.register(spec)
                    st.session_state[state.JUST_LOADED] = spec.name
                    st.rerun()
        if loaded := st.session_state.pop(state.JUST_LOADED, None):
            st.success(f"Loaded **{loaded}**. It is now the active dataset.")
else:
    with st.container(border=True):
        st.markdown(
            "**Sample store**: a synthetic shop of about 3,000 users, 500 items in 12 "
            "categories and a year of views, carts, purchases and ratings, with user "
            "attributes and an item catalog. Every page works on it."
        )
        if state.active_key() != state.SAMPLE_KEY:
            if st.button("Open the sample store", type="primary"):
                state.register(data.sample_spec(), key=state.SAMPLE_KEY)
                st.rerun()
        else:
            st.caption("The sample store is the active dataset.")

ds = data.active_dataset()
if ds is not None:
    st.header(f"Cleaning report · {ds.name}", anchor="cleaning-report")
    report.dataset_report(ds)
    st.header("Preview", anchor="preview")
    tabs = st.tabs(["Events", "Users", "Items"])
    for tab, frame in zip(tabs, (ds.events, ds.users, ds.items), strict=True):
        with tab:
            if frame is None:
                st.caption("No table of this kind was given.")
            else:
                st.caption(f"First 200 of {frame.height:,} rows after cleaning.")
                st.dataframe(data.preview(frame), hide_index=True, width="stretch")
