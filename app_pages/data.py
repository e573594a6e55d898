"""Data: pick or save workspaces, add data to one, review mappings and read the report."""

import streamlit as st

from profiling.errors import ProfilingError
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import gettext as _
from ui import data, labels, privacy, report, security, state, upload, widgets
from ui import live as live_ui
from ui.upload import upload_and_review

st.title(_("Data"))
st.caption(
    _(
        "A workspace keeps your data, its profiles and models: it survives reloads and "
        "restarts, and its link (with `?ws=` in the address) opens it for anyone who can reach "
        "this app. Files: CSV / TSV (any delimiter, with or without a header), Parquet, JSON "
        "lines or Excel."
    )
)
ref = data.resolved_spec()
NEW, ADD, MANAGE = "New workspace from files", "Add data", "Manage workspaces"
ACTION_WORDS = {
    NEW: _("New workspace from files"),
    ADD: _("Add data to {workspace}").format(
        workspace=widgets.escape_markdown(ref.name) if ref is not None else ""
    ),
    MANAGE: _("Manage workspaces"),
}
actions = [NEW]
if ref is not None and not ref.readonly and security.can_write(ref.slug):
    actions.append(ADD)
actions.append(MANAGE)
action = st.segmented_control(
    _("What to do"),
    actions,
    default=actions[0],
    format_func=ACTION_WORDS.get,
    key="ps_data_source",
)
rev = None  # files under review, if any: their report replaces the workspace's below

if action == NEW:
    with st.container(border=True):
        rev = upload_and_review("ps_upload")
        if rev.ready:
            name = st.text_input(
                _("Workspace name"),
                value=data.default_name(rev.files["events"]["name"]),
                key="ps_ws_name",
                help=_("Shown in the sidebar; its URL form names the workspace in links."),
            )
            pseudo = privacy.pseudonymize_checkbox()
            if st.button(_("Save as workspace"), type="primary", icon=":material/save:"):
                with st.status(_("Saving the workspace…"), expanded=True) as status:
                    try:
                        new = data.create_workspace(
                            name, rev.files, rev.maps, widgets.write_text, pseudonymize=pseudo
                        )
                    except ProfilingError as exc:
                        status.update(label=_("Not saved"), state="error")
                        widgets.show_error(exc)
                    else:
                        status.update(label=_("Saved"), state="complete")
                        upload.clear("ps_upload")
                        data.switch_to(new.slug)
                        st.session_state[state.JUST_LOADED] = _(
                            "Saved workspace **{name}** ({slug}). It is now open."
                        ).format(name=widgets.escape_markdown(new.name), slug=new.slug)
                        st.rerun()
elif action == MANAGE:
    with st.container(border=True):
        names = security.visible(data.catalog(), security.signed_in_email())
        st.caption(
            _("{n} workspaces. Open one with the sidebar picker.").format(n=fmt.count(len(names)))
        )
        if ref is not None:
            security.sharing_panel(ref.slug)
            privacy.panel(ref.slug)
            live_ui.write_keys_panel(ref.slug)
        deletable = list(security.deletable(names, security.signed_in_email()))
        if deletable:
            target = st.selectbox(
                _("Delete a workspace and every file it has"),
                deletable,
                index=None,
                format_func=lambda s: f"{names[s]} ({s})",
                key="ps_ws_delete",
            )
            sure = st.checkbox(_("Yes, delete it for everyone"), key="ps_ws_delete_sure")
            if target and st.button(_("Delete"), type="primary", disabled=not sure):
                try:
                    data.delete_workspace(target)
                except ProfilingError as exc:
                    widgets.show_error(exc)
                else:
                    if ref is not None and ref.slug == target:
                        data.switch_to(state.SAMPLE_KEY)
                    st.session_state[state.JUST_LOADED] = _("Deleted workspace `{slug}`.").format(
                        slug=target
                    )
                    st.rerun()
        else:
            st.caption(
                _(
                    "No workspace you can delete: only its owner can, and the built-in "
                    "sample store cannot be deleted."
                )
            )
elif ref is not None:
    with st.container(border=True):
        st.caption(
            _(
                "Add a new batch with the same kind of columns. Rows already in the workspace "
                "are not counted twice; profiles are rebuilt as of the new latest date as a "
                "new snapshot, and earlier snapshots stay for **What changed**."
            )
        )
        rev = upload_and_review("ps_add")
        if rev.ready and st.button(
            _("Add to {workspace}").format(workspace=widgets.escape_markdown(ref.name)),
            type="primary",
            icon=":material/add:",
        ):
            with st.status(_("Adding the batch…"), expanded=True) as status:
                try:
                    batch = data.add_batch(ref, rev.files, rev.maps, widgets.write_text)
                except ProfilingError as exc:
                    status.update(label=_("Not added"), state="error")
                    widgets.show_error(exc)
                else:
                    status.update(label=_("Added"), state="complete")
                    upload.clear("ps_add")
                    st.session_state[state.JUST_LOADED] = widgets.escape_markdown(
                        batch.describe().capitalize()
                    )
                    st.rerun()

if done := st.session_state.pop(state.JUST_LOADED, None):
    st.success(done)  # composed with escaped names below

if rev is not None and rev.under_review:
    st.header(_("Cleaning report · files under review"), anchor="cleaning-report")
    report.review_report(rev)
elif (ds := data.active_dataset()) is not None:
    st.header(
        _("Cleaning report · {workspace}").format(workspace=widgets.escape_markdown(ds.name)),
        anchor="cleaning-report",
    )
    widgets.currency_suggestion()
    batches = data.batches(ref)
    if batches.height > 1:
        st.subheader(_("Batches"))
        st.dataframe(batches, hide_index=True, width="stretch")
    report.dataset_report(ds)
    st.header(_("Preview"), anchor="preview")
    tabs = st.tabs([_("Events"), _("Users"), _("Items")])
    for tab, frame in zip(tabs, (ds.events, ds.users, ds.items), strict=True):
        with tab:
            if frame is None:
                st.caption(_("No table of this kind was given."))
            else:
                st.caption(
                    _(
                        "First 10 of {n} rows after cleaning (the first 200 are in the grid below)."
                    ).format(n=fmt.count(frame.height))
                )
                # a static table wraps a wide log's columns instead of hiding some of them
                st.table(labels.preview_rows(data.preview(frame, 10)), hide_index=True)
                with st.expander(_("First 200 rows in a grid (scrolls sideways)")):
                    st.dataframe(
                        data.preview(frame),
                        hide_index=True,
                        width="stretch",
                        column_config=data.preview_columns(frame),
                    )
