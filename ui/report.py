"""Rendering of cleaning reports (shared by the Data page and anything that shows quality)."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from profiling.data.dataset import Dataset
from profiling.data.ingest import CleaningReport
from profiling.errors import ProfilingError
from profiling.present import viz
from ui.upload import Reviewed, reviewed_report
from ui.widgets import escape_markdown, show_error


def _mapping_frame(rep: CleaningReport) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "column": list(rep.mapping),
            "role": list(rep.mapping.values()),
            "how": [rep.mapping_reasons.get(c, "") for c in rep.mapping],
        }
    )


def table_report(rep: CleaningReport, key: str) -> None:
    """One table's report: counts, chart, reasons with examples, mapping and notes."""
    c = st.columns(4)
    c[0].metric("Rows read", f"{rep.rows_read:,}")
    c[1].metric("Rows kept", f"{rep.rows_kept:,}")
    c[2].metric("Rows dropped", f"{rep.rows_dropped:,}")
    flagged = sum(r.count for r in rep.reasons if r.action != "dropped")
    c[3].metric("Kept but repaired or flagged", f"{flagged:,}")
    if rep.read is not None:
        st.caption(
            f"**{escape_markdown(rep.source)}** read as {escape_markdown(rep.read.describe())} · {rep.kind}"
            + (f" · timestamps: {rep.timestamp_format}" if rep.timestamp_format else "")
            + (f" · rating scale {rep.rating_scale}" if rep.rating_scale else "")
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
            summary,
            hide_index=True,
            width="stretch",
            column_config={
                "share_of_rows": st.column_config.ProgressColumn(
                    "share of rows", format="percent", min_value=0.0, max_value=1.0
                )
            },
            key=f"{key}_reasons",
        )
        for r in rep.reasons:
            if r.examples:
                rows = "row" if r.count == 1 else "rows"
                with st.expander(
                    f"Example rows: {escape_markdown(r.reason)} ({r.count:,} {rows}, {r.action})"
                ):
                    st.dataframe(
                        pl.DataFrame(r.examples, infer_schema_length=None), hide_index=True
                    )
    else:
        st.success("Every row was kept as it was: nothing dropped or repaired.")
    with st.expander("Column mapping used"):
        st.dataframe(_mapping_frame(rep), hide_index=True, width="stretch")


def dataset_report(ds: Dataset) -> None:
    """Reports of every table of a dataset in tabs, the join counts and a JSON download."""
    reports = ds.report.tables()
    tabs = st.tabs([f"{r.table.capitalize()} · {escape_markdown(r.source)}" for r in reports])
    for tab, rep in zip(tabs, reports, strict=True):
        with tab:
            table_report(rep, key=f"rep_{rep.table}")
    j = ds.report.joins
    lines = []
    if j.users_matched is not None:
        lines.append(
            f"Users table: **{j.users_matched:,} of {j.event_users:,}** users in the event log "
            f"have a row; {j.users_without_events:,} users in the table have no events."
        )
    if j.items_matched is not None:
        lines.append(
            f"Items table: **{j.items_matched:,} of {j.event_items:,}** items in the event log "
            f"are in the catalog; {j.items_without_events:,} catalog items have no events."
        )
    if lines:
        st.markdown("  \n".join(lines))
    st.download_button(
        "Download the cleaning report (JSON)",
        json.dumps(ds.report.to_dict(), indent=2, default=str),
        file_name=f"cleaning-report-{ds.fingerprint[:10]}.json",
        mime="application/json",
        icon=":material/download:",
    )


def review_report(rev: Reviewed) -> None:
    """The cleaning report of the files under review (not of the open workspace), one tab
    per uploaded table, with the roles as currently reviewed."""
    st.caption(
        "What saving these files would keep, drop and repair, with the column roles as "
        "reviewed above. The open workspace is unchanged until you save."
    )
    tables = [t for t in ("events", "users", "items") if t in rev.files]
    tabs = st.tabs([f"{t.capitalize()} · {escape_markdown(rev.files[t]['name'])}" for t in tables])
    for tab, table in zip(tabs, tables, strict=True):
        with tab:
            saved = rev.files[table]
            if table not in rev.maps:
                st.caption("This file could not be read (see the message above).")
                continue
            try:
                rep = reviewed_report(
                    saved["path"], saved["name"], table, tuple(sorted(rev.maps[table].items()))
                )
            except ProfilingError as exc:
                show_error(exc)
                continue
            table_report(rep, key=f"review_{table}")
