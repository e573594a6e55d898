"""Plotly figure builders for the app; pure functions of frames, testable without Streamlit."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from profiling import schema as S

EVENT_COLORS: dict[str, str] = {
    S.VIEW: "#94A3B8",
    S.CLICK: "#CBD5E1",
    S.SEARCH: "#A5B4FC",
    S.WISHLIST: "#F9A8D4",
    S.CART: "#FBBF24",
    S.PURCHASE: "#4F46E5",
    S.REFUND: "#EF4444",
    S.RATE: "#10B981",
    S.REVIEW: "#14B8A6",
    S.OTHER: "#E5E7EB",
}
_LAYOUT = {"template": "plotly_white", "margin": {"l": 10, "r": 10, "t": 40, "b": 10}}


def activity_figure(activity: pl.DataFrame) -> go.Figure:
    """Events over time, one line per event type.

    ``activity``: one row per (period, event_type) with ``events`` (see
    :meth:`profiling.dataset.Dataset.activity`).
    """
    order = [t for t in S.EVENT_TYPES if t in set(activity[S.EVENT_TYPE].to_list())]
    fig = px.line(
        activity.to_pandas(),
        x="period",
        y="events",
        color=S.EVENT_TYPE,
        color_discrete_map=EVENT_COLORS,
        category_orders={S.EVENT_TYPE: order},
        labels={"period": "", "events": "events", S.EVENT_TYPE: "event type"},
        title="Activity over time by event type",
    )
    fig.update_traces(line={"width": 2})
    fig.update_layout(**_LAYOUT, hovermode="x unified", legend_title_text="")
    return fig


def event_mix_figure(counts: pl.DataFrame) -> go.Figure:
    """Horizontal bars of events per type; ``counts`` has event_type, events."""
    c = counts.sort("events")
    fig = go.Figure(
        go.Bar(
            x=c["events"].to_list(),
            y=c[S.EVENT_TYPE].to_list(),
            orientation="h",
            marker_color=[EVENT_COLORS.get(t, "#888") for t in c[S.EVENT_TYPE]],
            text=[f"{v:,}" for v in c["events"]],
            textposition="auto",
        )
    )
    fig.update_layout(**_LAYOUT, title="Events by type", xaxis_title="events", height=320)
    return fig


def cleaning_figure(summary: pl.DataFrame, rows_kept: int) -> go.Figure:
    """Bars of rows kept, dropped and repaired per reason; ``summary`` from
    :meth:`profiling.ingest.CleaningReport.summary_frame`."""
    colors = {"dropped": "#EF4444", "repaired": "#F59E0B", "kept": "#6366F1"}
    labels = ["rows kept"] + summary["reason"].to_list()
    values = [rows_kept] + summary["rows"].to_list()
    marker = ["#10B981"] + [colors.get(a, "#888") for a in summary["action"]]
    fig = go.Figure(
        go.Bar(
            x=values[::-1],
            y=labels[::-1],
            orientation="h",
            marker_color=marker[::-1],
            text=[f"{v:,}" for v in values[::-1]],
            textposition="auto",
        )
    )
    positive = [v for v in values if v > 0]
    # a log axis keeps a handful of dropped rows visible next to millions of kept ones
    log = bool(positive) and max(positive) / min(positive) > 50
    fig.update_layout(
        **_LAYOUT,
        title="Rows kept, dropped and repaired",
        xaxis_type="log" if log else "linear",
        xaxis_title="rows (log scale)" if log else "rows",
        height=140 + 32 * len(labels),
    )
    return fig
