"""The upload-and-review widget shared by "Save as workspace" and "Add data"."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from profiling import private
from profiling.data import ingest
from profiling.errors import ProfilingError
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from ui import data
from ui.text import escape_markdown, show_error

TABLES = {
    "events": N_("Events, transactions or ratings (required)"),
    "users": N_("Users (optional)"),
    "items": N_("Item catalog (optional)"),
}
"""The uploaders' labels (msgids)."""
TABLE_TITLES = {"events": N_("Events"), "users": N_("Users"), "items": N_("Item catalog")}


@dataclass
class Reviewed:
    """Uploaded files (role -> {path, name}) and the reviewed column roles per table."""

    files: dict[str, dict[str, str]] = field(default_factory=dict)
    maps: dict[str, dict[str, str]] = field(default_factory=dict)
    problems: bool = False

    @property
    def ready(self) -> bool:
        return "events" in self.files and not self.problems

    @property
    def under_review(self) -> bool:
        """Whether files are uploaded and being reviewed (their report is the one to show)."""
        return bool(self.files)


def clear(prefix: str) -> None:
    """Empty the uploaders of ``prefix`` (after their files were saved: nothing is under
    review any more) and delete their scratch copies. Uploaders cannot be emptied in place;
    new keys make new ones."""
    st.session_state[f"{prefix}_round"] = st.session_state.get(f"{prefix}_round", 0) + 1
    private.discard_uploads(st.session_state.pop(f"{prefix}_paths", ()))


def _discard_abandoned(prefix: str, current: list[str]) -> None:
    """Delete the scratch copies of files taken out of the uploaders since the last run
    (those left open expire an hour after their session's last run: sweep_uploads)."""
    before = st.session_state.get(f"{prefix}_paths", ())
    private.discard_uploads(p for p in before if p not in current)
    st.session_state[f"{prefix}_paths"] = tuple(current)


def upload_and_review(prefix: str) -> Reviewed:
    """File uploaders for the three tables, then an editable role table per uploaded file."""
    out = Reviewed()
    uploads = {}
    round_ = st.session_state.get(f"{prefix}_round", 0)
    for col, (table, label) in zip(st.columns(3), TABLES.items(), strict=True):
        with col:
            key = f"{prefix}_{table}" if round_ == 0 else f"{prefix}_{round_}_{table}"
            uploads[table] = st.file_uploader(_(label), key=key)
    saved_all, refused = {}, {}
    for table, up in uploads.items():
        if up is None:
            continue
        try:
            saved_all[table] = save_checked(up)
        except ProfilingError as exc:  # over the size limit: nothing was written
            refused[table] = exc
    _discard_abandoned(prefix, [f["path"] for f in saved_all.values()])
    if uploads["events"] is None:
        st.info(_("Upload an events file to begin; users and items are optional."))
        return out
    for table, up in uploads.items():
        if up is None:
            continue
        st.markdown(f"**{_(TABLE_TITLES[table])}**")
        st.text(up.name)
        if table in refused:
            show_error(refused[table])
            out.problems = True
            continue
        saved = saved_all[table]
        out.files[table] = saved
        try:
            found = data.inspect_upload(
                saved["path"], saved["name"], table, language=i18n.get_language()
            )
        except ProfilingError as exc:
            # a refused file leaves nothing behind: the scratch copy (and any UTF-8 copy
            # made while sniffing it) is deleted at once, not after the retention time
            ingest.discard(saved["path"])
            show_error(exc)
            out.problems = True
            continue
        st.caption(
            _("Read as {how}. Review the role of each column:").format(
                how=escape_markdown(found["read"])
            )
        )
        for note in found["notes"]:
            st.info(escape_markdown(note), icon=":material/info:")
        edited = st.data_editor(
            found["rows"],
            key=f"{prefix}_map_{table}_{saved['path'][-40:]}",
            hide_index=True,
            width="stretch",
            disabled=["column", "examples", "how"],
            column_config={
                "column": st.column_config.TextColumn(_("column")),
                "examples": st.column_config.TextColumn(_("examples")),
                "role": st.column_config.SelectboxColumn(
                    _("role"), options=[*S.ROLES_BY_TABLE[table], S.IGNORE], required=True
                ),
                "how": st.column_config.TextColumn(_("inferred from")),
            },
        )
        out.maps[table] = {row["column"]: row["role"] for row in edited}
    return out


def save_checked(uploaded) -> dict[str, str]:
    """Write an uploaded file to its content-addressed scratch path, in chunks; returns
    {"path", "name"}. Raises DataValidationError (and writes nothing) when the upload is over
    the file size limit; raises ProfilingError when a limit variable is malformed."""
    limits = ingest.Limits.from_env()
    ingest.limits.check(uploaded.name, "bytes", uploaded.size, limits)
    uploaded.seek(0)
    path, name = ingest.materialize(uploaded, uploaded.name, max_bytes=limits.bytes)
    return {"path": path, "name": name}


_CLEANERS = {
    "events": ingest.clean_events,
    "users": ingest.clean_users,
    "items": ingest.clean_items,
}


@st.cache_data(max_entries=8, show_spinner=False)
def reviewed_report(
    path: str,
    name: str,
    table: str,
    mapping: tuple[tuple[str, str], ...],
    language: str | None = None,
) -> ingest.CleaningReport:
    """The cleaning report of one uploaded file with the roles as reviewed (cached by the
    file's content-addressed path, the mapping and ``language``, that of its notes). Raises ProfilingError when the file or
    the mapping cannot be used (e.g. no column is mapped to user_id)."""
    raw = ingest.read_table(path, name=name)
    roles = ingest.infer_roles(raw, table, dict(mapping))
    return _CLEANERS[table](raw, roles).report
