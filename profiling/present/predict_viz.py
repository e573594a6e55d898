"""Plotly figures of the Predictions page: pure functions of frames, tested without Streamlit."""

from __future__ import annotations

import textwrap

import plotly.graph_objects as go
import polars as pl

from profiling.predict import LEARNED
from profiling.present.viz import plotly_text, segment_color, segment_label, segment_order
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import gettext as _

_LAYOUT = {"template": "plotly_white", "margin": {"l": 10, "r": 10, "t": 40, "b": 10}}
# curve legends go below the plot: beside it they squeezed the plot of a half-width column
# until its axis title no longer fitted (clipped at 1280 and 1400 px)
_LEGEND_BELOW = {"legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0}}
MODEL_COLORS = {
    LEARNED: "#4F46E5",
    "recency": "#F59E0B",
    "purchase_days": "#10B981",
    "rfm": "#EC4899",
    "bgnbd": "#64748B",
}


def _line(fig: go.Figure, model: str, x, y, mode: str = "lines") -> None:
    fig.add_scatter(
        x=list(x),
        y=list(y),
        mode=mode,
        name=G.predict_model_label(model),
        line={"color": MODEL_COLORS.get(model), "width": 3 if model == LEARNED else 1.5},
    )


def roc_figure(curves: dict[str, dict[str, pl.DataFrame]]) -> go.Figure:
    """ROC curves; ``curves``: model -> :func:`profiling.predict.curves` output."""
    fig = go.Figure()
    for model, c in curves.items():
        _line(fig, model, c["roc"]["fpr"], c["roc"]["tpr"])
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=_("random"),
        line={"dash": "dot", "color": "#CBD5E1"},
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("ROC curve (held-out window)"),
        height=440,
        **_LEGEND_BELOW,
        xaxis_title=_("false positive rate"),
        yaxis_title=_("true positive rate"),
    )
    return fig


def pr_figure(curves: dict[str, dict[str, pl.DataFrame]], base_rate: float) -> go.Figure:
    """Precision-recall curves with the base rate (a random ranking) as a line."""
    fig = go.Figure()
    for model, c in curves.items():
        _line(fig, model, c["pr"]["recall"], c["pr"]["precision"])
    fig.add_hline(
        y=base_rate,
        line_dash="dot",
        line_color="#94A3B8",
        annotation_text=_("base rate {share}").format(share=fmt.percent(base_rate)),
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("Precision-recall (held-out window)"),
        height=440,
        **_LEGEND_BELOW,
        xaxis_title=_("recall"),
        yaxis_title=_("precision"),
        yaxis_range=[0, 1.02],
    )
    return fig


def calibration_figure(curves: dict[str, dict[str, pl.DataFrame]]) -> go.Figure:
    """Mean predicted probability against the observed rate per decile of predictions."""
    fig = go.Figure()
    for model, c in curves.items():
        cal = c["calibration"]
        _line(fig, model, cal["mean_predicted"], cal["observed"], mode="lines+markers")
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=_("perfectly calibrated"),
        line={"dash": "dot", "color": "#CBD5E1"},
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("Calibration: predicted against observed"),
        height=440,
        **_LEGEND_BELOW,
        xaxis_title=_("mean predicted probability (decile of users)"),
        yaxis_title=_("observed share"),
    )
    return fig


def gain_figure(curves: dict[str, dict[str, pl.DataFrame]], lift: bool = False) -> go.Figure:
    """Cumulative gain (share of positives reached when targeting the top share of users)
    or, with ``lift``, the cumulative lift over random targeting."""
    fig = go.Figure()
    y = "lift" if lift else "share_captured"
    for model, c in curves.items():
        _line(fig, model, c["gain"]["share_targeted"], c["gain"][y])
    if lift:
        fig.add_hline(y=1, line_dash="dot", line_color="#94A3B8", annotation_text=_("random"))
    else:
        fig.add_scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=_("random"),
            line={"dash": "dot", "color": "#CBD5E1"},
        )
    fig.add_vline(x=0.1, line_dash="dash", line_color="#E2E8F0", annotation_text=_("top decile"))
    title = (
        _("Cumulative lift (held-out window)") if lift else _("Cumulative gain (held-out window)")
    )
    fig.update_layout(
        **_LAYOUT,
        title=title,
        height=440,
        **_LEGEND_BELOW,
        xaxis_title=_("share of users targeted (highest scores first)"),
        yaxis_title=_("lift") if lift else _("share of positives reached"),
        xaxis_tickformat=".0%",
    )
    return fig


def threshold_figure(curve: pl.DataFrame, chosen: float, f1_max: float) -> go.Figure:
    """Precision, recall and F1 against the threshold; the slider's threshold and the
    F1-maximizing one (chosen on validation) marked."""
    fig = go.Figure()
    words = {"precision": _("precision"), "recall": _("recall"), "f1": "F1"}
    for col, color in (("precision", "#4F46E5"), ("recall", "#10B981"), ("f1", "#F59E0B")):
        fig.add_scatter(
            x=curve["threshold"].to_list(),
            y=curve[col].to_list(),
            mode="lines",
            name=words[col],
            line={"color": color},
        )
    fig.add_vline(
        x=f1_max,
        line_dash="dash",
        line_color="#F59E0B",
        annotation_text=_("F1-max on validation {value}").format(value=f"{f1_max:.2f}"),
    )
    fig.add_vline(
        x=chosen,
        line_color="#0F172A",
        annotation_text=_("slider {value}").format(value=f"{chosen:.2f}"),
        annotation_position="bottom right",
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("Metrics by threshold (held-out window)"),
        height=340,
        xaxis_title=_("threshold (predict yes when score ≥ threshold)"),
        yaxis_range=[0, 1.02],
    )
    return fig


def importance_figure(importance: pl.DataFrame, top: int = 12) -> go.Figure:
    """Permutation importance (drop in ROC-AUC when a feature is shuffled) with its std."""
    imp = importance.head(top).reverse()
    # long feature names in lines of at most 28 characters, so they stay inside a half-width chart
    labels = ["<br>".join(plotly_text(textwrap.wrap(t, 28) or [""])) for t in imp["label"]]
    fig = go.Figure(
        go.Bar(
            x=imp["importance"].to_list(),
            y=labels,
            orientation="h",
            error_x={"type": "data", "array": imp["std"].to_list()},
            marker_color="#4F46E5",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title=_("Permutation importance (held-out window)"),
        xaxis_title=_("drop in ROC-AUC when shuffled"),
        height=110 + 34 * imp.height,
    )
    fig.update_layout(margin={**_LAYOUT["margin"], "b": 60})  # room for the axis title
    return fig


def score_by_segment_figure(dist: pl.DataFrame, title: str) -> go.Figure:
    """Box plots of a score per segment, best to lost, each segment in its colour;
    ``dist``: user_id, segment, score."""
    order = segment_order(dist["segment"].unique().sort().to_list())
    fig = go.Figure()
    for seg in order:
        fig.add_box(
            y=dist.filter(pl.col("segment") == seg)["score"].to_list(),
            name=plotly_text(segment_label(seg)),
            boxpoints=False,
            marker_color=segment_color(seg),
        )
    fig.update_layout(
        **_LAYOUT, title=plotly_text(title), height=380, showlegend=False, xaxis_tickangle=-30
    )
    return fig


def holdout_figure(holdout: pl.DataFrame, days: int) -> go.Figure:
    """BG/NBD mean predicted against actual purchases in the holdout, by calibration
    repeat purchase days; ``holdout``: repeat_purchase_days, customers, actual, predicted."""
    x = holdout["repeat_purchase_days"].to_list()
    fig = go.Figure()
    fig.add_scatter(
        x=x,
        y=holdout["actual"].to_list(),
        mode="lines+markers",
        name=_("actual"),
        line={"color": "#0F172A"},
    )
    fig.add_scatter(
        x=x,
        y=holdout["predicted"].to_list(),
        mode="lines+markers",
        name="BG/NBD",
        line={"color": "#4F46E5", "dash": "dash"},
    )
    fig.update_layout(
        **_LAYOUT,
        height=340,
        title=_(
            "BG/NBD check: purchase days in the {days}-day holdout by repeat purchase days "
            "before it"
        ).format(days=days),
        xaxis_title=_("repeat purchase days in the calibration period"),
        yaxis_title=_("mean purchase days in the holdout"),
    )
    return fig


def risk_flags_figure(counts: pl.DataFrame) -> go.Figure:
    """Users per risk flag; ``counts``: flag, users."""
    fig = go.Figure(
        go.Bar(
            x=counts["users"].to_list(),
            y=counts["flag"].to_list(),
            orientation="h",
            marker_color="#EF4444",
        )
    )
    fig.update_layout(
        **_LAYOUT, title=_("Users per risk flag"), height=80 + 30 * max(counts.height, 1)
    )
    return fig
