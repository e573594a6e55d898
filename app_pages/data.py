"""Data: pick or save workspaces, add data to one, review mappings and read the report."""

import streamlit as st

from profiling.errors import ProfilingError
from ui import data, labels, privacy, report, security, state, upload, widgets
from ui import live as live_ui
from ui.upload import upload_and_review

st.title("Data")
st.caption(
    "A workspace keeps your data, its profiles and models: it survives reloads and restarts, "
    "and its link (with `?ws=` in the address) opens it for anyone who can reach this app. "
    "Files: CSV / TSV (any delimiter, with or without a header), Parquet, JSON lines or Excel."
)
ref = data.resolved_spec()
actions = ["New workspace from files"]
if ref is not None and not ref.readonly and security.can_write(ref.slug):
    actions.append(f"Add data to {widgets.escape_markdown(ref.name)}")
actions.append("Manage workspaces")
action = st.segmented_control("What to do", actions, default=actions[0], key="ps_data_source")
rev = None  # files under review, if any: their report replaces the workspace's below

if action == "New workspace from files":
    with st.container(border=True):
        rev = upload_and_review("ps_upload")
        if rev.ready:
            name = st.text_input(
                "Workspace name",
                value=data.default_name(rev.files["events"]["name"]),
                key="ps_ws_name",
                help="Shown in the sidebar; its URL form names the workspace in links.",
            )
            pseudo = privacy.pseudonymize_checkbox()
            if st.button("Save as workspace", type="primary", icon=":material/save:"):
                with st.status("Saving the workspace…", expanded=True) as status:
                    try:
                        new = data.create_workspace(
                            name, rev.files, rev.maps, widgets.write_text, pseudonymize=pseudo
                        )
                    except ProfilingError as exc:
                        status.update(label="Not saved", state="error")
                        widgets.show_error(exc)
                    else:
                        status.update(label="Saved", state="complete")
                        upload.clear("ps_upload")
                        data.switch_to(new.slug)
                        st.session_state[state.JUST_LOADED] = (
                            f"Saved workspace **{widgets.escape_markdown(new.name)}** ({new.slug}). It is now open."
                        )
                        st.rerun()
elif action == "Manage workspaces":
    with st.container(border=True):
        names = security.visible(data.catalog(), security.signed_in_email())
        st.caption(f"{len(names)} workspaces. Open one with the sidebar picker.")
        if ref is not None:
            security.sharing_panel(ref.slug)
            privacy.panel(ref.slug)
            live_ui.write_keys_panel(ref.slug)
        deletable = list(security.deletable(names, security.signed_in_email()))
        if deletable:
            target = st.selectbox(
                "Delete a workspace and every file it has",
                deletable,
                index=None,
                format_func=lambda s: f"{names[s]} ({s})",
                key="ps_ws_delete",
            )
            sure = st.checkbox("Yes, delete it for everyone", key="ps_ws_delete_sure")
            if target and st.button("Delete", type="primary", disabled=not sure):
                try:
                    data.delete_workspace(target)
                except ProfilingError as exc:
                    widgets.show_error(exc)
                else:
                    if ref is not None and ref.slug == target:
                        data.switch_to(state.SAMPLE_KEY)
                    st.session_state[state.JUST_LOADED] = f"Deleted workspace `{target}`."
                    st.rerun()
        else:
            st.caption(
                "No workspace you can delete: only its owner can, and the built-in "
                "sample store cannot be deleted."
            )
elif ref is not None:
    with st.container(border=True):
        st.caption(
            "Add a new batch with the same kind of columns. Rows already in the workspace are "
            "not counted twice; profiles are rebuilt as of the new latest date as a new "
            "snapshot, and earlier snapshots stay for **What changed**."
        )
        rev = upload_and_review("ps_add")
        if rev.ready and st.button(
            f"Add to {widgets.escape_markdown(ref.name)}", type="primary", icon=":material/add:"
        ):
            with st.status("Adding the batch…", expanded=True) as status:
                try:
                    batch = data.add_batch(ref, rev.files, rev.maps, widgets.write_text)
                except ProfilingError as exc:
                    status.update(label="Not added", state="error")
                    widgets.show_error(exc)
                else:
                    status.update(label="Added", state="complete")
                    upload.clear("ps_add")
                    st.session_state[state.JUST_LOADED] = widgets.escape_markdown(
                        batch.describe().capitalize()
                    )
                    st.rerun()

if done := st.session_state.pop(state.JUST_LOADED, None):
    st.success(done)  # composed with escaped names below

if rev is not None and rev.under_review:
    st.header("Cleaning report · files under review", anchor="cleaning-report")
    report.review_report(rev)
elif (ds := data.active_dataset()) is not None:
    st.header(f"Cleaning report · {widgets.escape_markdown(ds.name)}", anchor="cleaning-report")
    widgets.currency_suggestion()
    batches = data.batches(ref)
    if batches.height > 1:
        st.subheader("Batches")
        st.dataframe(batches, hide_index=True, width="stretch")
    report.dataset_report(ds)
    st.header("Preview", anchor="preview")
    tabs = st.tabs(["Events", "Users", "Items"])
    for tab, frame in zip(tabs, (ds.events, ds.users, ds.items), strict=True):
        with tab:
            if frame is None:
                st.caption("No table of this kind was given.")
            else:
                st.caption(
                    f"First 10 of {frame.height:,} rows after cleaning (the first "
                    "200 are in the grid below)."
                )
                # a static table wraps a wide log's columns instead of hiding some of them
                st.table(labels.table_text(data.preview(frame, 10)), hide_index=True)
                with st.expander("First 200 rows in a grid (scrolls sideways)"):
                    st.dataframe(
                        data.preview(frame),
                        hide_index=True,
                        width="stretch",
                        column_config=data.preview_columns(frame),
                    )
