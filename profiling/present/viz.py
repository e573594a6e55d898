"""Plotly figure builders for the app; pure functions of frames, testable without Streamlit."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from profiling.profiles.segments import RFM_ORDER, segment_label, segment_order  # noqa: F401 (re-exported)
from profiling.vocabulary import glossary as G
from profiling.vocabulary import i18n
from profiling.vocabulary import schema as S
from profiling.vocabulary.fmt import count, month, ordinal
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace.migration import flow_label

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
EVENT_NAMES: dict[str, str] = {
    S.VIEW: N_("view"),
    S.CLICK: N_("click"),
    S.SEARCH: N_("search"),
    S.WISHLIST: N_("wishlist"),
    S.CART: N_("add to cart"),
    S.PURCHASE: N_("purchase"),
    S.REFUND: N_("refund"),
    S.RATE: N_("rating"),
    S.REVIEW: N_("review"),
    S.OTHER: N_("other"),
}
"""Canonical event types in plain words (msgids; read with :func:`event_name`)."""


def event_name(event_type: str) -> str:
    """A canonical event type in the current language; any other value as it is."""
    return _(EVENT_NAMES[event_type]) if event_type in EVENT_NAMES else event_type


def d3_date() -> str:
    """The d3 date format of hover texts in the current language ("07 Dec 2026" /
    "2026年12月7日"): Plotly's month names are English only."""
    return "%d %b %Y" if i18n.get_language() == "en" else "%Y年%-m月%-d日"


def _localize_dates(fig: go.Figure) -> None:
    """Date axes tick in numbers in Chinese (Plotly's month names are English only)."""
    if i18n.get_language() != "en":
        fig.update_xaxes(tickformat="%Y年%-m月")


CATEGORY_COLORS = px.colors.qualitative.Bold + px.colors.qualitative.Pastel
# RFM segments coloured by health: greens and blues for good customers, warm colours for
# those slipping away, greys for the lost and for users who never bought
RFM_COLORS = {
    "Champions": "#065F46",
    "Loyal": "#10B981",
    "Potential loyalist": "#6EE7B7",
    "New": "#2563EB",
    "Promising": "#93C5FD",
    "Need attention": "#FACC15",
    "About to sleep": "#FB923C",
    "Can't lose them": "#B91C1C",
    "At risk": "#F87171",
    "Hibernating": "#A78BFA",
    "Lost": "#6B7280",
    "Refunded everything": "#9CA3AF",
    "No purchase yet": "#D1D5DB",
}
CUSTOM_COLORS = {"In the rule": "#4F46E5", "Everyone else": "#CBD5E1"}
CLUSTER_COLORS = px.colors.qualitative.Bold


def segment_color(name: str, segment_id: str | int | None = None) -> str:
    """The colour of a segment on every chart: fixed per RFM segment name, per cluster id
    (``segment_id``, a stable palette), grey for "no segment"."""
    if name in RFM_COLORS:
        return RFM_COLORS[name]
    if name in CUSTOM_COLORS:
        return CUSTOM_COLORS[name]
    if segment_id is not None and str(segment_id).lstrip("-").isdigit():
        return CLUSTER_COLORS[int(segment_id) % len(CLUSTER_COLORS)]
    if name == "(none)" or name.startswith("not ") or name.startswith("no segment"):
        return "#D1D5DB"
    return CATEGORY_COLORS[sum(map(ord, name)) % len(CATEGORY_COLORS)]


def segment_colors(descriptions: list) -> dict[str, str]:
    """Segment name -> colour for a list of segment descriptions (RFM or clusters)."""
    return {d.name: segment_color(d.name, d.segment) for d in descriptions}


def ordered(descriptions: list) -> list:
    """Segment descriptions in :func:`segment_order` of their names."""
    by_name = {d.name: d for d in descriptions}
    return [by_name[n] for n in segment_order(list(by_name))]


_LAYOUT = {"template": "plotly_white", "margin": {"l": 10, "r": 10, "t": 40, "b": 10}}
_PLOTLY_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def plotly_text(value):
    """Data text made inert for Plotly's label markup (the one helper every figure uses).

    Plotly reads a subset of HTML in every label it draws (tick labels, legends, hover text,
    pie and Sankey labels, titles): ``<b>``, ``<i>``, ``<br>``, ``<sup>``, ``<span style>``
    and ``<a href>``. A category or segment name from the data must be shown as written, so
    ``&``, ``<`` and ``>`` become the entities Plotly turns back into those characters.

    ``value``: a string (escaped), a list or tuple (each string in it escaped), a polars
    String Series (escaped element-wise); anything else (numbers, dates, None) unchanged.
    """
    if isinstance(value, str):
        return value.translate(_PLOTLY_MARKUP)
    if isinstance(value, pl.Series):
        if value.dtype not in (pl.String, pl.Categorical, pl.Enum):
            return value
        v = value.cast(pl.String)
        for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            v = v.str.replace_all(char, entity, literal=True)
        return v
    if isinstance(value, list | tuple):
        return [plotly_text(v) for v in value]
    return value


def activity_figure(activity: pl.DataFrame) -> go.Figure:
    """Events over time, one line per event type.

    ``activity``: one row per (period, event_type) with ``events`` (see
    :meth:`profiling.data.dataset.Dataset.activity`).
    """
    order = [t for t in S.EVENT_TYPES if t in set(activity[S.EVENT_TYPE].to_list())]
    named = activity.with_columns(
        pl.col(S.EVENT_TYPE).replace_strict(
            {t: event_name(t) for t in activity[S.EVENT_TYPE].unique().to_list()},
            return_dtype=pl.String,
        )
    )
    fig = px.line(
        named.to_pandas(),
        x="period",
        y="events",
        color=S.EVENT_TYPE,
        color_discrete_map={event_name(t): c for t, c in EVENT_COLORS.items()},
        category_orders={S.EVENT_TYPE: [event_name(t) for t in order]},
        labels={"period": "", "events": _("events"), S.EVENT_TYPE: _("event type")},
        title=_("Activity over time by event type"),
    )
    fig.update_traces(line={"width": 2})
    fig.update_layout(**_LAYOUT, hovermode="x unified", legend_title_text="")
    _localize_dates(fig)
    return fig


def event_mix_figure(counts: pl.DataFrame) -> go.Figure:
    """Horizontal bars of events per type; ``counts`` has event_type, events."""
    c = counts.sort("events")
    fig = go.Figure(
        go.Bar(
            x=c["events"].to_list(),
            y=[event_name(t) for t in c[S.EVENT_TYPE].to_list()],
            orientation="h",
            marker_color=[EVENT_COLORS.get(t, "#888") for t in c[S.EVENT_TYPE]],
            text=[f"{v:,}" for v in c["events"]],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_layout(**_LAYOUT, title=_("Events by type"), xaxis_title=_("events"), height=320)
    fig.update_xaxes(range=[0, max(c["events"].max() or 1, 1) * 1.35])
    return fig


def cleaning_figure(summary: pl.DataFrame, rows_kept: int) -> go.Figure:
    """Bars of rows kept, dropped and repaired per reason on a linear axis, each bar labelled
    with its count and its share of the rows read; ``summary`` from
    :meth:`profiling.data.ingest.CleaningReport.summary_frame`.

    The axis is linear on purpose: on a log axis 107,927 dropped rows looked as large as
    410,763 kept ones. Small bars stay readable through their written count.
    """
    colors = {"dropped": "#EF4444", "repaired": "#F59E0B", "kept": "#6366F1"}
    labels = [_("rows kept")] + plotly_text([_(r) for r in summary["reason"].to_list()])
    values = [rows_kept] + summary["rows"].to_list()
    dropped = summary.filter(pl.col("action") == "dropped")["rows"].sum()
    read = rows_kept + dropped
    marker = ["#10B981"] + [colors.get(a, "#888") for a in summary["action"]]
    text = [
        f"{i18n.format_number(v, 0)} ({i18n.format_percent_value(v / read, 1)})"
        if read
        else i18n.format_number(v, 0)
        for v in values
    ]
    top = max(values, default=0) or 1
    fig = go.Figure(
        go.Bar(
            x=values[::-1],
            y=labels[::-1],
            orientation="h",
            marker_color=marker[::-1],
            text=text[::-1],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=_("%{y}: %{x:,} rows") + "<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("Rows kept, dropped and repaired"),
        xaxis={"title": _("rows"), "range": [0, top * 1.3], "tickformat": ",d"},
        yaxis={"automargin": True},
        height=140 + 32 * len(labels),
    )
    return fig


# ---- segments ------------------------------------------------------------------------------
def segment_sizes_figure(descriptions: list) -> go.Figure:
    """Share of customers (light bar) and share of revenue (solid bar) per segment, in the
    one segment order (:func:`ordered`) and each segment in its colour."""
    descs = ordered(descriptions)
    names = plotly_text([segment_label(d.name) for d in descs])
    colors = [segment_color(d.name, d.segment) for d in descs]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=[d.share_of_users for d in descs],
        name=_("share of customers (light)"),
        orientation="h",
        marker={"color": colors, "opacity": 0.45},
        hovertemplate=_("%{y}: %{x:.1%} of customers") + "<extra></extra>",
    )
    if any(d.share_of_revenue is not None for d in descs):
        fig.add_bar(
            y=names,
            x=[d.share_of_revenue or 0 for d in descs],
            name=_("share of revenue (solid)"),
            orientation="h",
            marker_color=colors,
            hovertemplate=_("%{y}: %{x:.1%} of revenue") + "<extra></extra>",
        )
    fig.update_layout(
        **_LAYOUT,
        barmode="group",
        showlegend=False,
        title=_("Customers (light) and revenue (solid)"),
        xaxis_tickformat=".0%",
        yaxis_autorange="reversed",
        height=140 + 40 * len(names),
    )
    return fig


def segment_heatmap_figure(z: pl.DataFrame, order: list[str], names: dict[str, str]) -> go.Figure:
    """Heatmap of how far each segment's average is from all customers' (rows: segments,
    top to bottom in ``order``; columns: features by their plain labels).

    ``z``: from :func:`profiling.profiles.segments.standardized_means` (segment, feature, z, mean).
    """
    feats = list(dict.fromkeys(z["feature"].to_list()))
    grid = z.pivot(on="feature", index="segment", values="z")
    rows = [s for s in order if s in set(grid["segment"].to_list())]
    place = pl.DataFrame(
        {"segment": rows, "_o": range(len(rows))}, schema={"segment": pl.String, "_o": pl.Int64}
    )
    grid = grid.with_columns(pl.col("segment").cast(pl.String)).join(place, on="segment").sort("_o")
    values = grid.select(feats).to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=plotly_text([G.short_label(f) for f in feats]),
            y=plotly_text([names.get(s, s) for s in rows]),
            colorscale="RdBu_r",
            zmid=0,
            zmin=-2,
            zmax=2,
            colorbar={
                "title": {"text": _("below ← average → above"), "side": "right"},
                "tickvals": [-2, -1, 0, 1, 2],
                "ticktext": [_("far below"), _("below"), _("average"), _("above"), _("far above")],
            },
            hovertemplate=_("%{y}<br>%{x}: %{z:+.2f} standard deviations from the average customer")
            + "<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("What sets each segment apart (how different from the average customer)"),
        height=260 + 34 * len(rows),
        xaxis_tickangle=-35,
        yaxis={"autorange": "reversed"},  # same top-to-bottom order as the bar chart
    )
    return fig


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _short(text: str, width: int = 22) -> str:
    """A long label broken over lines (plotly wraps on <br>) so that it is not cut off:
    between words, and between any two Chinese characters; ``width`` counts a wide
    (Chinese) character as two."""
    lines, line = [], ""
    for word in text.split():
        for j, piece in enumerate(_pieces(word)):
            sep = " " if (j == 0 and line) else ""
            if line and _display_width(line + sep + piece) > width:
                lines.append(line)
                line = piece
            else:
                line = f"{line}{sep}{piece}"
    lines.append(line)
    return "<br>".join(lines)


def _pieces(word: str) -> list[str]:
    """A word cut before and after each wide character (Latin runs stay whole)."""
    out, run = [], ""
    for ch in word:
        if unicodedata.east_asian_width(ch) in "WF":
            if run:
                out.append(run)
                run = ""
            out.append(ch)
        else:
            run += ch
    if run:
        out.append(run)
    return out


def radar_figure(
    a: dict[str, float],
    b: dict[str, float],
    name_a: str,
    name_b: str,
    color_a: str = "#4F46E5",
    color_b: str = "#F59E0B",
) -> go.Figure:
    """Radar of how far two segments are from the average customer (same feature keys);
    labels wrapped so that none is cut off."""
    feats = list(a)
    # escaped before the line breaks are put in: an escaped <br> shows as text on one line
    labels = [_short(plotly_text(G.short_label(f)), 14) for f in [*feats, feats[0]]]
    fig = go.Figure()
    if color_a == color_b:
        color_b = "#F59E0B" if color_a != "#F59E0B" else "#4F46E5"
    for vals, name, color in ((a, name_a, color_a), (b, name_b, color_b)):
        r = [vals[f] for f in feats] + [vals[feats[0]]]
        fig.add_scatterpolar(
            r=r, theta=labels, name=plotly_text(name), fill="toself", opacity=0.55, line_color=color
        )
    # wide side margins: the feature names sit outside the circle and were clipped
    fig.update_layout(
        **{**_LAYOUT, "margin": {"l": 70, "r": 70, "t": 60, "b": 40}},
        title=_("A and B against the average customer (0)"),
        polar={"radialaxis": {"range": [-2.5, 2.5]}, "angularaxis": {"tickfont": {"size": 11}}},
        height=520,
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def rfm_grid_figure(grid: pl.DataFrame) -> go.Figure:
    """Users per recency score x frequency score; ``grid``: r_score, f_score, users,
    monetary (mean)."""
    fig = go.Figure(
        go.Heatmap(
            x=grid["f_score"].to_list(),
            y=grid["r_score"].to_list(),
            z=grid["users"].to_list(),
            text=[f"{u:,}" for u in grid["users"]],
            texttemplate="%{text}",
            customdata=grid["monetary"].to_list(),
            colorscale="Blues",
            hovertemplate=_(
                "recency score %{y} · order-count score %{x}<br>%{z:,} customers"
                "<br>average net spend %{customdata:,.2f}"
            )
            + "<extra></extra>",
            colorbar={"title": G.label("customers")},
        )
    )
    title = _("Customers by how recently and how often they ordered")
    no_score = {
        "r_score": N_("no recency score {scores}"),
        "f_score": N_("no order-count score {scores}"),
    }
    gaps = [
        _(no_score[col]).format(
            scores=_(", ").join(str(s) for s in range(1, 6) if s not in set(grid[col]))
        )
        for col in ("r_score", "f_score")
        if grid.height and set(grid[col].drop_nulls()) != set(range(1, 6))
    ]
    if gaps:
        note = _("{gaps}: tied values share one score").format(gaps=_("; ").join(gaps))
        title += f"<br><sup>{note}</sup>"
    fig.update_layout(
        **_LAYOUT,
        title=title,
        # category axes: a score ties left empty leaves no gap or half-wide cells
        xaxis={
            "title": G.label("f_score"),
            "type": "category",
            "categoryorder": "category ascending",
        },
        yaxis={
            "title": G.label("r_score"),
            "type": "category",
            "categoryorder": "category ascending",
        },
        height=420,
    )
    return fig


def k_curve_figure(curve: list[dict], chosen: int) -> go.Figure:
    """How well separated the groups are (silhouette score) per number of groups, the
    chosen number marked."""
    ks = [c["k"] for c in curve]
    fig = go.Figure(
        go.Scatter(
            x=ks,
            y=[c["silhouette"] for c in curve],
            mode="lines+markers",
            line_color="#4F46E5",
            name=_("separation"),
            hovertemplate=_("%{x} groups: silhouette %{y:.3f}") + "<extra></extra>",
        )
    )
    fig.add_vline(
        x=chosen,
        line_dash="dash",
        line_color="#EF4444",
        annotation_text=_("chosen: {k} groups").format(k=chosen),
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("How many groups: how well separated they are (higher is better)"),
        xaxis={"title": _("number of groups"), "dtick": 1},
        yaxis_title=_("separation (silhouette score)"),
        height=340,
    )
    return fig


def segment_mix_figure(descriptions: list) -> go.Figure:
    """Donut of customers per RFM segment, best to lost, each segment in its colour."""
    descs = ordered(descriptions)
    fig = go.Figure(
        go.Pie(
            labels=plotly_text([segment_label(d.name) for d in descs]),
            values=[d.users for d in descs],
            marker={"colors": [segment_color(d.name, d.segment) for d in descs]},
            hole=0.5,
            sort=False,
            direction="clockwise",
            textinfo="percent",
            textposition="inside",
            insidetextorientation="horizontal",
            hovertemplate=_("%{label}: %{value:,} customers (%{percent})") + "<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("Customers by segment"),
        height=380,
        uniformtext={"minsize": 10, "mode": "hide"},
    )
    return fig


# ---- recommenders ----------------------------------------------------------------------------
MODEL_COLORS = px.colors.qualitative.Bold


def metric_bars_figure(metrics: pl.DataFrame, metric: str) -> go.Figure:
    """Bars of one metric per model with 95% bootstrap intervals, best model highlighted.

    Each value is written inside its bar, at the base, so that it never collides with the
    interval's whisker above the bar's top.
    """
    m = metrics.filter(pl.col("metric") == metric).sort("value", descending=True, nulls_last=True)
    k = m["k"].drop_nulls().max() if m.height else None
    value = m["value"].to_list()
    err_hi = [
        (h - v) if h is not None and v is not None else 0
        for h, v in zip(m["ci_high"], value, strict=True)
    ]
    err_lo = [
        (v - lo) if lo is not None and v is not None else 0
        for lo, v in zip(m["ci_low"], value, strict=True)
    ]
    best = m["is_best"].fill_null(False).to_list()
    colors = ["#4F46E5" if b else "#A5B4FC" for b in best]
    fig = go.Figure(
        go.Bar(
            x=[G.model_label(n) for n in m["model"]],
            y=value,
            marker_color=colors,
            error_y={"type": "data", "array": err_hi, "arrayminus": err_lo, "color": "#334155"},
            text=[f"{v:.3f}" if v is not None else "" for v in value],
            textposition="inside",
            insidetextanchor="start",
            textangle=0,
            insidetextfont={"color": ["#FFFFFF" if b else "#1E1B4B" for b in best]},
            constraintext="none",
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        )
    )
    label = G.metric_label(metric, k)
    fig.update_layout(
        # a half-width chart: the title in short lines, so that it is not cut off
        **{**_LAYOUT, "margin": {**_LAYOUT["margin"], "t": 90}},
        title=_short(_("{measure} by model (bars: likely range, 95%)").format(measure=label), 36),
        yaxis_title=G.label(metric),
        height=400,
        uniformtext={"minsize": 10, "mode": "show"},
    )
    return fig


def pr_curve_figure(curve: pl.DataFrame) -> go.Figure:
    """Precision, recall (and F1 when the curve has it) at K = 1..20, one line per model."""
    from plotly.subplots import make_subplots

    panels = [m for m in ("precision", "recall", "f1") if m in curve.columns]
    fig = make_subplots(
        rows=1, cols=len(panels), subplot_titles=[G.technical(m) + "@K" for m in panels]
    )
    for j, (model, part) in enumerate(curve.sort("k").group_by("model", maintain_order=True)):
        color = MODEL_COLORS[j % len(MODEL_COLORS)]
        name = G.model_label(model[0])
        for col, metric in enumerate(panels, start=1):
            fig.add_scatter(
                x=part["k"],
                y=part[metric],
                name=name,
                line_color=color,
                row=1,
                col=col,
                legendgroup=name,
                showlegend=col == 1,
            )
    title = (
        _("Precision, recall and F1 at K = 1..20")
        if "f1" in panels
        else _("Precision and recall at K = 1..20")
    )
    fig.update_layout(**_LAYOUT, height=380, title=title)
    fig.update_xaxes(title_text="K", dtick=2 if len(panels) < 3 else 4)
    return fig


def model_segment_figure(breakdown: pl.DataFrame, metric: str = "ndcg") -> go.Figure:
    """Heatmap of a metric per model (rows) and segment (columns), users per segment in
    the column labels."""
    b = breakdown.filter(pl.col("metric") == metric)
    sizes = b.group_by("segment").agg(pl.col("users").max()).sort("users", descending=True)
    segs = sizes["segment"].to_list()
    grid = b.pivot(on="segment", index="model", values="value").select(["model", *segs])
    fig = go.Figure(
        go.Heatmap(
            z=grid.select(segs).to_numpy(),
            y=[G.model_label(n) for n in grid["model"]],
            x=[
                f"{plotly_text(segment_label(s))} ({count(u)})"
                for s, u in zip(segs, sizes["users"], strict=True)
            ],
            colorscale="Viridis",
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} · %{x}<br>" + G.technical(metric) + " %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("{measure} by customer segment (test customers per segment)").format(
            measure=G.metric_label(metric)
        ),
        height=200 + 34 * grid.height,
        xaxis_tickangle=-30,
    )
    return fig


def cold_warm_figure(cold_warm: pl.DataFrame, metric: str = "ndcg") -> go.Figure:
    """Grouped bars of a metric for cold (no training history) and warm test users."""
    c = cold_warm.filter(pl.col("metric") == metric)
    fig = go.Figure()
    for seg, color in (("warm", "#4F46E5"), ("cold", "#F59E0B")):
        part = c.filter(pl.col("segment") == seg)
        users = part["users"].max() if part.height else 0
        who = _("with earlier history") if seg == "warm" else _("new (no earlier history)")
        fig.add_bar(
            x=[G.model_label(n) for n in part["model"]],
            y=part["value"].to_list(),
            name=f"{who} ({count(users or 0)})",
            marker_color=color,
        )
    fig.update_layout(
        **_LAYOUT,
        barmode="group",
        title=_("{measure}: customers with and without earlier history").format(
            measure=G.metric_label(metric)
        ),
        height=360,
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def time_quality_figure(
    metrics: pl.DataFrame, timings: pl.DataFrame, metric: str = "ndcg"
) -> go.Figure:
    """Training time (log scale) against quality, one point per model.

    Model names are not written next to the points (close points made them overlap): each
    model is its own trace with its own colour and marker, named in the legend and on hover.
    """
    m = metrics.filter(pl.col("metric") == metric).join(timings, on="model")
    symbols = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross", "hexagon")
    # colours by the models' order (as in the precision/recall chart), not by this frame's
    position = {name: i for i, name in enumerate(timings["model"].to_list())}
    fig = go.Figure()
    for row in m.iter_rows(named=True):
        i = position.get(row["model"], 0)
        fig.add_scatter(
            x=[max(row["fit_seconds"] or 0.0, 1e-3)],
            y=[row["value"]],
            mode="markers",
            name=G.model_label(row["model"]),
            marker={
                "size": 13,
                "color": MODEL_COLORS[i % len(MODEL_COLORS)],
                "symbol": symbols[i % len(symbols)],
                "line": {"width": 1, "color": "#FFF"},
            },
            hovertemplate=plotly_text(G.model_label(row["model"]))
            + "<br>"
            + _("training %{x:.2f} s")
            + "<br>"
            + G.technical(metric)
            + " %{y:.3f}<extra></extra>",
        )
    seconds = m["fit_seconds"].clip(lower_bound=1e-3)
    # one tick per power of ten when the times span one: minor ticks (2, 5) crowded the axis
    decades = m.height and seconds.max() / seconds.min() >= 10
    fig.update_layout(
        **{**_LAYOUT, "margin": {**_LAYOUT["margin"], "t": 90}},
        title=_short(
            _("Training time against {measure}").format(measure=G.metric_label(metric)), 36
        ),
        xaxis_type="log",
        xaxis_title=_("training time (s, log scale)"),
        yaxis_title=G.label(metric),
        height=400,
        legend={"title": {"text": _("model")}},
    )
    if decades:
        fig.update_xaxes(dtick=1)
    return fig


# ---- one user ------------------------------------------------------------------------------
def percentile_figure(pcts: pl.DataFrame) -> go.Figure:
    """Horizontal bars of the user's percentile per key figure (0-100)."""
    p = pcts.filter(pl.col("percentile").is_not_null())
    fig = go.Figure(
        go.Bar(
            x=p["percentile"].to_list(),
            y=plotly_text(p["label"].to_list()),
            orientation="h",
            marker_color="#4F46E5",
            text=[ordinal(v) for v in p["percentile"]],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("Where this customer stands among all (100th = top)"),
        height=280,
        xaxis={"range": [0, 110], "title": _("percentile")},
        yaxis_autorange="reversed",
    )
    return fig


def affinity_figure(aff: pl.DataFrame) -> go.Figure:
    """The user's category shares against the population's."""
    fig = go.Figure()
    fig.add_bar(
        x=plotly_text(aff["category"].to_list()),
        y=aff["user"].to_list(),
        name=_("this customer"),
        marker_color="#4F46E5",
    )
    fig.add_bar(
        x=plotly_text(aff["category"].to_list()),
        y=aff["population"].to_list(),
        name=_("all customers"),
        marker_color="#CBD5E1",
    )
    fig.update_layout(
        **_LAYOUT,
        barmode="group",
        title=_("Category affinity"),
        yaxis_tickformat=".0%",
        height=340,
        legend={"orientation": "h", "y": -0.3},
        xaxis_tickangle=-30,
    )
    return fig


WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
PARTS_OF_DAY = {
    "night": N_("night"),
    "morning": N_("morning"),
    "afternoon": N_("afternoon"),
    "evening": N_("evening"),
}


def weekday_names() -> list[str]:
    """Monday to Sunday, abbreviated, in the current language (Babel: "Mon" / "周一")."""
    from babel.dates import get_day_names

    names = get_day_names("abbreviated", locale=i18n.babel_locale())
    return [names[i] for i in range(7)]


def rhythm_figure(r: pl.DataFrame) -> go.Figure:
    """Heatmap of events by part of day (rows) and weekday (columns); bars by weekday with
    the reason in the title when the log carries no time of day (``part`` all null)."""
    if r.height and r["part"].null_count() == r.height:
        per_day = [0] * 7
        for row in r.iter_rows(named=True):
            per_day[row["weekday"] - 1] += row["events"]
        fig = go.Figure(
            go.Bar(
                x=weekday_names(),
                y=per_day,
                marker_color="#7C3AED",
                hovertemplate=_("%{x}: %{y} events") + "<extra></extra>",
            )
        )
        fig.update_layout(
            **_LAYOUT,
            height=300,
            title=_(
                "When this customer is active: by weekday (the data has dates only, no time of day)"
            ),
        )
        return fig
    parts = list(PARTS_OF_DAY)
    z = [[0] * 7 for _ in parts]
    for row in r.iter_rows(named=True):
        if row["part"] in parts:
            z[parts.index(row["part"])][row["weekday"] - 1] = row["events"]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=weekday_names(),
            y=[_(PARTS_OF_DAY[p]) for p in parts],
            colorscale="Purples",
            texttemplate="%{z}",
            hovertemplate=_("%{y}, %{x}: %{z} events") + "<extra></extra>",
        )
    )
    fig.update_layout(**_LAYOUT, title=_("When this customer is active"), height=300)
    return fig


def funnel_figure(f: pl.DataFrame) -> go.Figure:
    """Funnel of the user's views, carts and purchases."""
    fig = go.Figure(
        go.Funnel(
            y=[event_name(s) for s in f["step"].to_list()],
            x=f["events"].to_list(),
            marker_color="#4F46E5",
        )
    )
    fig.update_layout(**_LAYOUT, title=_("Funnel"), height=300)
    return fig


TIMELINE_MIN_DAYS = 7


def timeline_range(timestamps: pl.Series, min_days: int = TIMELINE_MIN_DAYS) -> list | None:
    """An x-axis range of at least ``min_days`` centred on the events, or None (plotly's
    own range) when they already span that much. One event, or several on one day, would
    otherwise be drawn zoomed to milliseconds."""
    ts = timestamps.drop_nulls()
    if ts.len() == 0:
        return None
    lo, hi = ts.min(), ts.max()
    if hi - lo >= timedelta(days=min_days):
        return None
    mid = lo + (hi - lo) / 2
    half = timedelta(days=min_days / 2)
    return [mid - half, mid + half]


def timeline_figure(t: pl.DataFrame) -> go.Figure:
    """Events over time by type (zoomable), at least a week wide."""
    order = [e for e in S.EVENT_TYPES if e in set(t[S.EVENT_TYPE].to_list())]
    hover = plotly_text(
        t[S.TITLE].fill_null(t[S.ITEM_ID]).to_list()
        if S.TITLE in t.columns
        else t[S.ITEM_ID].to_list()
    )
    fig = go.Figure()
    for e in order:
        mask = (t[S.EVENT_TYPE] == e).to_list()
        fig.add_scatter(
            x=[ts for ts, m in zip(t[S.TIMESTAMP], mask, strict=True) if m],
            y=[event_name(e)] * sum(mask),
            mode="markers",
            name=event_name(e),
            marker={"color": EVENT_COLORS.get(e, "#888"), "size": 9, "opacity": 0.7},
            text=[h for h, m in zip(hover, mask, strict=True) if m],
            hovertemplate="%{x|"
            + d3_date()
            + " %H:%M}<br>%{text}<extra>"
            + event_name(e)
            + "</extra>",
        )
    # one lane per event type present, 45 px each: two lanes are not 200 px apart
    fig.update_layout(
        **_LAYOUT,
        title=_("Timeline (drag to zoom)"),
        height=110 + 45 * max(len(order), 1),
        showlegend=False,
        yaxis={"categoryorder": "array", "categoryarray": [event_name(e) for e in order[::-1]]},
    )
    _localize_dates(fig)
    span = timeline_range(t[S.TIMESTAMP])
    if span is not None:
        fig.update_xaxes(range=span)
    return fig


# ---- profile map -----------------------------------------------------------------------------
_HOVER_FIGURES = (
    ("recency_days", ",.0f", N_(" days")),
    ("frequency", ",.0f", ""),
    ("monetary", ",.2f", ""),
    ("n_events", ",.0f", ""),
)


def _hover(table: pl.DataFrame) -> tuple[list[list], str]:
    """customdata rows (the raw user id first: a selection names the user; the hover shows
    escaped copies of it and of the segment names) and the matching hover template."""
    table = table.with_columns(plotly_text(table[S.USER_ID].cast(pl.String)).alias("__shown_id"))
    cols = [S.USER_ID, "__shown_id"]
    lines = ["<b>%{customdata[1]}</b>"]
    for c, label in (("rfm_segment", _("segment")), ("cluster_name", _("group"))):
        if c in table.columns:
            names = table[c].cast(pl.String)
            if c == "rfm_segment":  # the RFM names in the reader's language
                known = names.unique().drop_nulls().to_list()
                names = names.replace_strict(
                    {n: segment_label(n) for n in known}, default=None, return_dtype=pl.String
                )
            table = table.with_columns(plotly_text(names).alias(c))
            lines.append(f"{label}: %{{customdata[{len(cols)}]}}")
            cols.append(c)
    figures = []
    for c, fmt, unit in _HOVER_FIGURES:
        if c in table.columns:
            figures.append(
                f"{G.label(c)}: %{{customdata[{len(cols)}]:{fmt}}}{_(unit) if unit else ''}"
            )
            cols.append(c)
    if figures:
        lines.append(" · ".join(figures))
    data = np.empty((table.height, len(cols)), dtype=object)  # numpy: plotly copies it fast
    for j, c in enumerate(cols):
        data[:, j] = table[c].to_numpy()
    return data, "<br>".join(lines) + "<extra></extra>"


def _sizes(values: pl.Series | None, n: int) -> list[float]:
    """Marker sizes: 4 px for nothing spent up to 18 px for the top spender (area ~ money)."""
    if values is None:
        return np.full(n, 6.0)
    v = values.cast(pl.Float64).fill_null(0.0).clip(lower_bound=0.0)
    top = v.max() or 1.0
    return (4.0 + 14.0 * (v / top).sqrt()).to_numpy()


def map_figure(
    table: pl.DataFrame,
    colors: pl.Series,
    categorical: bool,
    color_label: str,
    size_by: str | None = "monetary",
    axis_titles: tuple[str, ...] = ("UMAP 1", "UMAP 2"),
    title: str = "",
    segment_ids: dict[str, str] | None = None,
) -> go.Figure:
    """Scatter of users on the map (2-D with WebGL, or 3-D when ``table`` has ``z``).

    Every point's ``customdata[0]`` is its user id, so a selection names the users.
    Segments get their colours of every other chart (:func:`segment_color`; clusters by
    ``segment_ids``, cluster name -> id) and the one segment order in the legend.
    """
    three_d = "z" in table.columns
    custom, template = _hover(table)
    sizes = _sizes(table[size_by] if size_by and size_by in table.columns else None, table.height)
    fig = go.Figure()

    coords = {
        c: table[c].cast(pl.Float64).to_numpy() for c in ("x", "y", "z") if c in table.columns
    }

    def trace(mask: np.ndarray | None, **marker) -> None:
        # numpy arrays throughout: plotly validates, copies and encodes them in bulk (lists
        # of 50,000 points took seconds per page run)
        pick = np.arange(table.height) if mask is None else np.flatnonzero(mask)
        common = {
            "mode": "markers",
            "customdata": custom[pick],
            "hovertemplate": template,
            "marker": {
                "size": sizes[pick] * (0.6 if three_d else 1.0),
                "opacity": 0.75,
                "line": {"width": 0},
                **marker,
            },
        }
        xs, ys = coords["x"][pick], coords["y"][pick]
        if three_d:
            fig.add_trace(go.Scatter3d(x=xs, y=ys, z=coords["z"][pick], **common))
        else:
            fig.add_trace(go.Scattergl(x=xs, y=ys, **common))
        return fig.data[-1]

    if categorical:
        counts = colors.value_counts(sort=True)
        names = segment_order([n for n in counts[colors.name].to_list() if n != "(none)"])
        if "(none)" in counts[colors.name].to_list():
            names.append("(none)")
        values = colors.to_numpy()
        ids = segment_ids or {}
        for j, name in enumerate(names):
            color = (
                segment_color(name, ids.get(name))
                if name in RFM_COLORS or name in ids or name == "(none)" or name.startswith("not ")
                else CATEGORY_COLORS[j % len(CATEGORY_COLORS)]
            )
            mask = values == name
            t = trace(mask, color=color)
            shown = _("(none)") if name == "(none)" else segment_label(name)
            if name.startswith("not ") and name not in RFM_COLORS:  # a tag's "not <tag>"
                shown = _("not {tag}").format(tag=name[4:])
            t.name = f"{plotly_text(shown)} ({i18n.format_number(int(mask.sum()), 0)})"
            t.legendgroup = name
    else:
        lo, hi = colors.quantile(0.01), colors.quantile(0.99)
        trace(
            None,
            color=colors.cast(pl.Float64).fill_null(float("nan")).to_numpy(),
            colorscale="Viridis",
            cmin=lo,
            cmax=hi if hi != lo else (lo or 0) + 1,
            colorbar={"title": {"text": plotly_text(color_label)}, "thickness": 12},
        )
        fig.data[-1].showlegend = False
    axis = {"showgrid": False, "zeroline": False, "showticklabels": False}
    layout = dict(_LAYOUT, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    if three_d:
        fig.update_layout(
            **layout,
            scene={
                "xaxis": {**axis, "title": axis_titles[0]},
                "yaxis": {**axis, "title": axis_titles[1]},
                "zaxis": {**axis, "title": axis_titles[2] if len(axis_titles) > 2 else "3"},
            },
        )
    else:
        fig.update_layout(
            **layout,
            xaxis={**axis, "title": axis_titles[0]},
            yaxis={**axis, "title": axis_titles[1]},
            dragmode="pan",
        )
    fig.update_layout(
        title=plotly_text(title),
        height=640,
        legend={"title": {"text": plotly_text(color_label)}, "itemsizing": "constant"},
        hoverlabel={"bgcolor": "white"},
        clickmode="event+select",
    )
    return fig


def migration_figure(
    flows: pl.DataFrame, before: str, after: str, segment_ids: dict[str, str] | None = None
) -> go.Figure:
    """Sankey of users moving between segments: earlier segments on the left, later on the
    right, best to lost (:func:`segment_order`, other names alphabetically), each in the
    colour it has on every chart; ``flows`` is
    :attr:`profiling.workspace.migration.Migration.flows`; ``segment_ids``: cluster name ->
    cluster id for the cluster palette."""
    ids = segment_ids or {}

    def order(names: list[str]) -> list[str]:
        return segment_order(sorted(names))

    left = order(flows["from_segment"].unique().to_list())
    right = order(flows["to_segment"].unique().to_list())
    labels = plotly_text([flow_label(n) for n in left + right])
    before, after = plotly_text(before), plotly_text(after)
    colors = [segment_color(n, ids.get(n)) for n in left + right]
    li = {n: i for i, n in enumerate(left)}
    ri = {n: len(left) + i for i, n in enumerate(right)}
    rows = flows.to_dicts()

    def heights(names: list[str], column: str) -> list[float]:
        # node centres top to bottom in the given order, sized by users (plotly would
        # otherwise re-sort the nodes and lose the best-to-lost order)
        size = dict(flows.group_by(column).agg(pl.col("users").sum()).iter_rows())
        total = sum(size.values()) or 1
        gap = 0.02
        free = max(1.0 - gap * (len(names) - 1), 0.2)
        out, top = [], 0.0
        for n in names:
            h = free * size.get(n, 0) / total
            out.append(min(max(top + h / 2, 0.001), 0.999))
            top += h + gap
        return out

    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            textfont={"size": 12, "color": "#0F172A"},
            node={
                "label": labels,
                "color": colors,
                "x": [0.001] * len(left) + [0.999] * len(right),
                "y": heights(left, "from_segment") + heights(right, "to_segment"),
                "pad": 14,
                "thickness": 16,
                "customdata": [before] * len(left) + [after] * len(right),
                "hovertemplate": _("%{label} on %{customdata}: %{value:,} customers")
                + "<extra></extra>",
            },
            link={
                "source": [li[r["from_segment"]] for r in rows],
                "target": [ri[r["to_segment"]] for r in rows],
                "value": [r["users"] for r in rows],
                "color": [
                    "rgba(148,163,184,0.35)"
                    if r["from_segment"] == r["to_segment"]
                    else "rgba(79,70,229,0.35)"
                    for r in rows
                ],
                "customdata": [r["revenue_12m"] for r in rows],
                "hovertemplate": f"%{{source.label}} ({before}) → %{{target.label}} ({after})"
                + "<br>"
                + _("%{value:,} customers")
                + "<br>"
                + _("%{customdata:,.0f} spent in the 12 months before")
                + "<extra></extra>",
            },
        )
    )
    fig.update_layout(**{**_LAYOUT, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}}, height=520)
    return fig


# ---- overview --------------------------------------------------------------------------------
_GRAIN_TITLES = {
    "1d": N_("Revenue and orders per day"),
    "1w": N_("Revenue and orders per week"),
    "1mo": N_("Revenue and orders per month"),
}
_GRAIN_PARTS = {
    "1d": N_("(part of the day only)"),
    "1w": N_("(part of the week only)"),
    "1mo": N_("(part of the month only)"),
}


def revenue_orders_figure(t: pl.DataFrame, every: str, currency: str | None = None) -> go.Figure:
    """Revenue (bars, left axis) and orders (line, right axis) per period; ``t`` from
    :func:`profiling.profiles.overview.over_time` (period, orders, revenue, customers)."""
    title = _(_GRAIN_TITLES.get(every, N_("Revenue and orders per period")))
    fig = go.Figure()
    money = t.height and t["revenue"].is_not_null().any()
    sym = i18n.currency_symbol(currency) if currency else ""
    revenue = G.header("revenue", currency)
    day = d3_date()
    partial = t["partial"].to_list() if "partial" in t.columns else [False] * t.height
    part = " " + _(_GRAIN_PARTS.get(every, N_("(part of the period only)")))
    if money:
        fig.add_bar(
            x=t["period"].to_list(),
            y=t["revenue"].to_list(),
            name=revenue,
            # a period the chosen dates cover only in part is hatched: its total is low
            # because the period is short, not because sales fell
            marker={
                "color": "#A5B4FC",
                "pattern": {"shape": ["/" if p else "" for p in partial]},
            },
            yaxis="y",
            customdata=[part if p else "" for p in partial],
            hovertemplate=f"%{{x|{day}}}%{{customdata}}<br>{G.label('revenue')} "
            f"{sym}%{{y:,.2f}}<extra></extra>",
        )
    fig.add_scatter(
        x=t["period"].to_list(),
        y=t["orders"].to_list(),
        name=G.label("orders"),
        mode="lines+markers",
        line={"color": "#4F46E5", "width": 2},
        yaxis="y2" if money else "y",
        hovertemplate=f"%{{x|{day}}}<br>%{{y:,}} {G.label('orders')}<extra></extra>",
    )
    layout = dict(
        _LAYOUT,
        title=title,
        height=360,
        legend={"orientation": "h", "y": -0.15},
        hovermode="x unified",
    )
    if money:
        layout["yaxis"] = {"title": revenue, "tickformat": ",.0f", "rangemode": "tozero"}
        layout["yaxis2"] = {
            "title": G.label("orders"),
            "overlaying": "y",
            "side": "right",
            "tickformat": ",d",
            "rangemode": "tozero",
            "showgrid": False,
            "tickmode": "auto",
        }
    else:
        layout["yaxis"] = {"title": G.label("orders"), "tickformat": ",d", "rangemode": "tozero"}
    fig.update_layout(**layout)
    _localize_dates(fig)
    return fig


def cohort_figure(c: pl.DataFrame) -> go.Figure:
    """Monthly cohort retention heatmap: one row per cohort (month of first order, with its
    size), one column per month after it, the share of the cohort active; ``c`` from
    :func:`profiling.profiles.overview.cohort_retention`."""
    cohorts = c.select("cohort", "size").unique().sort("cohort")
    months = list(range(int(c["month"].max()) + 1)) if c.height else []
    grid = cohorts.join(
        c.pivot(on="month", index="cohort", values="share"), on="cohort", how="left"
    )
    z = [
        [grid[str(m)][i] if str(m) in grid.columns else None for m in months]
        for i in range(grid.height)
    ]
    labels = [f"{month(d)} ({n:,})" for d, n in zip(grid["cohort"], grid["size"], strict=True)]
    text = [["" if v is None else f"{v:.0%}" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"+{m}" for m in months],
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": _("active"), "tickformat": ".0%"},
            hovertemplate=_("first order in %{y}<br>%{x} months later: %{z:.1%} ordered again")
            + "<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=_(
            "Customers coming back: share of each month's new customers "
            "who ordered again N months later"
        ),
        xaxis_title=_("months after the first order"),
        yaxis={"autorange": "reversed", "title": _("first order in (customers)")},
        height=max(320, 120 + 26 * len(labels)),
    )
    return fig


def store_funnel_figure(f: pl.DataFrame) -> go.Figure:
    """Customers at each step of an event log (viewed, added to cart, bought) with the share
    of the first step; ``f`` from :func:`profiling.profiles.overview.funnel`."""
    words = {S.VIEW: N_("viewed an item"), S.CART: N_("added to cart"), S.PURCHASE: N_("bought")}
    fig = go.Figure(
        go.Funnel(
            y=[_(words[s]) if s in words else s for s in f["step"]],
            x=f["customers"].to_list(),
            texttemplate="%{value:,}<br>%{percentInitial:.0%}",
            marker={"color": "#4F46E5"},
            hovertemplate=_("%{y}: %{x:,} customers") + "<extra></extra>",
        )
    )
    fig.update_layout(**_LAYOUT, title=_("From looking to buying (customers)"), height=320)
    return fig
