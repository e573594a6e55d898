"""Rendering of cleaning reports (shared by the Data page and anything that shows quality)."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from profiling.data.dataset import Dataset
from profiling.data.ingest import CleaningReport
from profiling.data.ingest.events import rating_scale_text
from profiling.data.ingest.roles import reason_text
from profiling.data.ingest.timestamps import timestamp_text
from profiling.errors import ProfilingError
from profiling.present import viz
from profiling.vocabulary import fmt, i18n
from profiling.vocabulary.i18n import N_, ngettext
from profiling.vocabulary.i18n import gettext as _
from ui.upload import Reviewed, reviewed_report
from ui.widgets import escape_markdown, show_error

TABLE_NAMES = {"events": N_("Events"), "users": N_("Users"), "items": N_("Items")}
"""Tab names of the three tables (msgids)."""


def _how(reason: str) -> str:
    # stored in English with the report: said in the reader's language
    return reason_text(reason)


def _mapping_frame(rep: CleaningReport) -> pl.DataFrame:
    return pl.DataFrame(
        {
            _("column"): list(rep.mapping),
            _("role"): list(rep.mapping.values()),
            _("how"): [_how(rep.mapping_reasons.get(c, "")) for c in rep.mapping],
        }
    )


ACTIONS = {"dropped": N_("dropped"), "repaired": N_("repaired"), "kept": N_("kept")}
"""What happened to the rows of a reason, in words (msgids)."""


def _summary_rows(summary: pl.DataFrame) -> pl.DataFrame:
    """The reasons table in the reader's language: reason, what happened, rows, share."""
    return summary.select(
        pl.Series(_("reason"), [_(r) for r in summary["reason"]], pl.String),
        pl.Series(_("action"), [_(ACTIONS.get(a, a)) for a in summary["action"]], pl.String),
        pl.col("rows").alias(_("rows")),
        pl.col("share_of_rows"),
    )


def table_report(rep: CleaningReport, key: str) -> None:
    """One table's report: counts, chart, reasons with examples, mapping and notes."""
    c = st.columns(4)
    c[0].metric(_("Rows read"), fmt.count(rep.rows_read))
    c[1].metric(_("Rows kept"), fmt.count(rep.rows_kept))
    c[2].metric(_("Rows dropped"), fmt.count(rep.rows_dropped))
    flagged = sum(r.count for r in rep.reasons if r.action != "dropped")
    c[3].metric(_("Kept but repaired or flagged"), fmt.count(flagged))
    if rep.read is not None:
        # kinds and formats are stored in English (the report's JSON): shown translated
        st.caption(
            _("**{file}** read as {how} · {kind}").format(
                file=escape_markdown(rep.source),
                how=escape_markdown(rep.read.describe()),
                kind=_(rep.kind) if rep.kind else "",
            )
            + (
                " · "
                + _("timestamps: {format}").format(
                    format=escape_markdown(timestamp_text(rep.timestamp_format))
                )
                if rep.timestamp_format
                else ""
            )
            + (
                " · "
                + _("rating scale {scale}").format(
                    scale=escape_markdown(rating_scale_text(rep.rating_scale))
                )
                if rep.rating_scale
                else ""
            )
        )
    for note in (rep.read.notes if rep.read else []) + rep.notes:
        # notes quote column names and values from the file: shown as plain text
        st.info(escape_markdown(note), icon=":material/info:")
    summary = rep.summary_frame()
    if summary.height:
        st.plotly_chart(
            viz.cleaning_figure(summary, rep.rows_kept), width="stretch", key=f"{key}_chart"
        )
        st.dataframe(
            _summary_rows(summary),
            hide_index=True,
            width="stretch",
            column_config={
                "share_of_rows": st.column_config.ProgressColumn(
                    _("share of rows"), format="percent", min_value=0.0, max_value=1.0
                )
            },
            key=f"{key}_reasons",
        )
        for r in rep.reasons:
            if r.examples:
                rows = ngettext("{n} row", "{n} rows", r.count).format(n=fmt.count(r.count))
                with st.expander(
                    _("Example rows: {reason} ({rows}, {action})").format(
                        reason=escape_markdown(_(r.reason)),
                        rows=rows,
                        action=_(ACTIONS.get(r.action, r.action)),
                    )
                ):
                    st.dataframe(
                        pl.DataFrame(r.examples, infer_schema_length=None), hide_index=True
                    )
    else:
        st.success(_("Every row was kept as it was: nothing dropped or repaired."))
    with st.expander(_("Column mapping used")):
        st.dataframe(_mapping_frame(rep), hide_index=True, width="stretch")


def dataset_report(ds: Dataset) -> None:
    """Reports of every table of a dataset in tabs, the join counts and a JSON download."""
    reports = ds.report.tables()
    tabs = st.tabs(
        [f"{_(TABLE_NAMES.get(r.table, r.table))} · {escape_markdown(r.source)}" for r in reports]
    )
    for tab, rep in zip(tabs, reports, strict=True):
        with tab:
            table_report(rep, key=f"rep_{rep.table}")
    j = ds.report.joins
    lines = []
    if j.users_matched is not None:
        lines.append(
            _(
                "Users table: **{matched} of {users}** users in the event log have a row; "
                "{without} users in the table have no events."
            ).format(
                matched=fmt.count(j.users_matched),
                users=fmt.count(j.event_users),
                without=fmt.count(j.users_without_events),
            )
        )
    if j.items_matched is not None:
        lines.append(
            _(
                "Items table: **{matched} of {items}** items in the event log are in the "
                "catalog; {without} catalog items have no events."
            ).format(
                matched=fmt.count(j.items_matched),
                items=fmt.count(j.event_items),
                without=fmt.count(j.items_without_events),
            )
        )
    if lines:
        st.markdown("  \n".join(lines))
    st.download_button(
        _("Download the cleaning report (JSON)"),
        json.dumps(ds.report.to_dict(), indent=2, default=str),
        file_name=f"cleaning-report-{ds.fingerprint[:10]}.json",
        mime="application/json",
        icon=":material/download:",
    )


def review_report(rev: Reviewed) -> None:
    """The cleaning report of the files under review (not of the open workspace), one tab
    per uploaded table, with the roles as currently reviewed."""
    st.caption(
        _(
            "What saving these files would keep, drop and repair, with the column roles as "
            "reviewed above. The open workspace is unchanged until you save."
        )
    )
    tables = [t for t in ("events", "users", "items") if t in rev.files]
    tabs = st.tabs(
        [f"{_(TABLE_NAMES[t])} · {escape_markdown(rev.files[t]['name'])}" for t in tables]
    )
    for tab, table in zip(tabs, tables, strict=True):
        with tab:
            saved = rev.files[table]
            if table not in rev.maps:
                st.caption(_("This file could not be read (see the message above)."))
                continue
            try:
                with st.spinner(_("Cleaning the file under review…")):
                    rep = reviewed_report(
                        saved["path"],
                        saved["name"],
                        table,
                        tuple(sorted(rev.maps[table].items())),
                        language=i18n.get_language(),
                    )
            except ProfilingError as exc:
                show_error(exc)
                continue
            table_report(rep, key=f"review_{table}")
