"""The stakeholder report: one self-contained HTML page (and its PDF) of a workspace's headline
numbers, its customer segments and, when one is saved, its model comparison.

Every section opens with one paragraph in plain words; charts are embedded as PNG pictures
(plotly through kaleido and the machine's Chromium), so the file opens anywhere without a
network or a script. Every string that comes from the data (workspace, segment, category
and model names, rule texts) goes through :func:`html.escape`. With the workspace's privacy
settings on, segment sizes are merged below ``k`` users and/or get differential-privacy noise
(:mod:`profiling.data.privacy`), and the report says so with the epsilon.
"""

from __future__ import annotations

import base64
import html
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from babel.dates import format_date

from profiling.data import privacy as P
from profiling.data.dataset import Dataset
from profiling.errors import ProfilingError
from profiling.profiles import overview as O
from profiling.profiles.segments import SegmentDescription, segment_label
from profiling.vocabulary import fmt, i18n
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

CHROMIUM_ENV = "BROWSER_PATH"  # the variable kaleido (choreographer) reads as well
_CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_S = 120

#: the comparison metric the report leads with, in order of preference, with plain words
_LEAD_METRICS = {
    "hit_rate": N_("share of customers who later bought at least one of their top {k} suggestions"),
    "precision": N_("share of the top {k} suggestions that customers later bought"),
    "recall": N_("share of the products customers later bought that were in the top {k}"),
    "ndcg": N_(
        "ranking quality of the top {k} suggestions (1 = every later purchase ranked first)"
    ),
}


_SHARES = ("hit_rate", "precision", "recall")


class ReportError(ProfilingError):
    """The report (or its pictures or PDF) cannot be produced on this machine."""


@dataclass(frozen=True)
class SavedComparison:
    """A model comparison saved with the workspace, as the report needs it.

    ``metrics``: the tidy frame of :class:`profiling.evaluation.compare.Comparison` (model,
    metric, k, value, ci_low, ci_high, ..., is_best); ``split``: its one-line description;
    ``data_end``: the last event the comparison saw; ``stale``: the data changed since;
    ``cutoff``: the date of a global temporal split (the report then says it in words).
    """

    metrics: pl.DataFrame
    split: str
    data_end: datetime
    stale: bool = False
    cutoff: datetime | None = None  # the date of a temporal split: trained before, tested after


@dataclass(frozen=True)
class MissingSection:
    """A section the report should hold but that could not be built: its title and why, in
    words for the reader ("the saved comparison was made by an older version of the app")."""

    title: str
    reason: str

    def sentence(self) -> str:
        return _("{title}: this section could not be built ({reason}).").format(
            title=_(self.title), reason=self.reason
        )


#: the title of the model-comparison section (also used when it is missing; an English
#: msgid, translated where it is shown)
MODELS_TITLE = N_("Product suggestions: which model works best")


@dataclass(frozen=True)
class Report:
    """The report's HTML, the segment sizes it shows (one row per segment: segment, users,
    share_of_users, share_of_revenue, after privacy), the epsilon of the DP noise (None
    when off), the privacy sentences and the sections that could not be built (each shown
    in the report with its reason, for the page to show as well)."""

    html: str
    sizes: pl.DataFrame
    epsilon: float | None = None
    notes: list[str] = field(default_factory=list)
    missing: list[MissingSection] = field(default_factory=list)


# ---- numbers ------------------------------------------------------------------------------
def headline(ds: Dataset) -> dict:
    """The overview numbers, by the glossary's one definition of each word
    (:data:`profiling.vocabulary.glossary.DEFINITIONS`, computed by
    :func:`profiling.profiles.overview.kpis` as on the Overview page): customers, buyers,
    orders, revenue (net of refunds), average order value (net revenue / orders), revenue per
    customer (net revenue / customers), repeat-purchase rate, first and last day, and how
    orders were counted."""
    s = ds.summary()
    k = O.kpis(ds.events, s["start"], s["end"] + timedelta(microseconds=1))
    has_orders = S.ORDER_ID in ds.events.columns and ds.events[S.ORDER_ID].is_not_null().any()
    return {
        "customers": k.customers,
        "buyers": k.buyers,
        "orders": k.orders,
        "revenue": k.revenue,
        "average_order_value": k.aov,
        "revenue_per_customer": k.revenue_per_customer,
        "repeat_rate": k.repeat_rate,
        "start": s["start"],
        "end": s["end"],
        "orders_counted_as": N_("order numbers") if has_orders else N_("days with a purchase"),
    }


def protected_sizes(
    descriptions: list[SegmentDescription],
    min_group: int = 0,
    epsilon: float | None = None,
    noisy: Mapping[str, int] | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Segment sizes as the report shows them, and the privacy sentences to print.

    One row per segment (largest first; a merged "fewer than k users" row last):
    segment, users, share_of_users, share_of_revenue. With ``epsilon`` the counts get
    geometric noise first: ``noisy`` (segment name -> noisy count) when the app passes the
    release its pages show, else a fresh draw (:func:`profiling.data.privacy.dp_counts`).
    Then groups under ``min_group`` users (by the noisy counts: a threshold on the true
    counts would undo the guarantee) are merged or hidden by
    :func:`profiling.data.privacy.suppress_small_groups`, and the shares of users are
    recomputed from the counts shown.
    """
    table = pl.DataFrame(
        {
            "segment": [d.name for d in descriptions],
            "users": [int(d.users) for d in descriptions],
            "share_of_revenue": [d.share_of_revenue for d in descriptions],
        },
        schema={"segment": pl.String, "users": pl.Int64, "share_of_revenue": pl.Float64},
    )
    notes = []
    if epsilon is not None:
        if noisy is not None:
            missing = [n for n in table["segment"] if n not in noisy]
            if missing:
                raise P.PrivacyError(
                    _(
                        "the noisy release has no count for the segments {missing}; found {found}"
                    ).format(missing=missing, found=sorted(noisy))
                )
            table = table.with_columns(
                pl.col("segment").replace_strict(dict(noisy), return_dtype=pl.Int64).alias("users")
            )
        else:
            table = P.dp_counts(table, "users", epsilon=epsilon).counts
        notes.append(
            _(
                "Segment sizes carry random noise for differential privacy (epsilon = "
                "{epsilon}): each count may differ from the true one by a few customers."
            ).format(epsilon=f"{epsilon:g}")
        )
    if min_group and min_group >= 2:
        table = P.suppress_small_groups(table, "segment", "users", k=min_group)
        notes.append(
            _(
                "Segments with fewer than {k} customers are merged into one row (or left "
                "out when that row is still too small), so no small group can be singled out."
            ).format(k=min_group)
        )
    total = table["users"].sum()
    table = table.with_columns(
        (pl.col("users") / total if total else pl.lit(None, pl.Float64)).alias("share_of_users")
    ).select("segment", "users", "share_of_users", "share_of_revenue")
    return table, notes


def protected_headline(h: dict, sizes: pl.DataFrame, epsilon: float | None) -> dict:
    """The headline numbers as the report shows them under DP noise: customers become the
    total of the noisy segment sizes (nothing new is released), and the other counts that
    are not segment sizes (buyers, orders, the repeat rate among buyers) are left out
    (None, shown as "—"); money is not a count and is kept. ``h`` unchanged when
    ``epsilon`` is None."""
    if epsilon is None:
        return h
    return {
        **h,
        "customers": int(sizes["users"].sum()),
        "buyers": None,
        "orders": None,
        "repeat_rate": None,
        "revenue_per_customer": None,
        "average_order_value": None,
        "noised": True,
    }


# ---- formatting ---------------------------------------------------------------------------
def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _money(v: float | None, currency: str | None = None) -> str:
    return fmt.money(v, currency)


def _pct(v: float | None) -> str:
    return fmt.percent(v, 0)


def _count(v: int | None) -> str:
    return fmt.count(v)


_LONG_DATES = {"en": "dd MMMM y", "zh": "long"}
"""Dates in sentences: "15 February 2024" in English, "2024年2月15日" in Chinese."""


def _date(value: datetime) -> str:
    lang = i18n.get_language()
    return format_date(value.date(), format=_LONG_DATES[lang], locale=i18n.babel_locale(lang))


# ---- pictures -----------------------------------------------------------------------------
def chromium_path() -> str | None:
    """The Chromium (or Chrome) used for pictures and the PDF: ``$BROWSER_PATH``, else the
    first one found on this machine."""
    env = os.environ.get(CHROMIUM_ENV)
    if env:
        return env
    for c in _CHROMIUM_CANDIDATES:
        found = c if os.path.isabs(c) and os.path.exists(c) else shutil.which(c)
        if found:
            return found
    return None


def figure_pngs(figures: list[go.Figure], width: int = 900, height: int = 420) -> list[bytes]:
    """PNG pictures of plotly figures, drawn by kaleido in one headless Chromium session,
    ``width`` pixels wide and as tall as each figure's own layout says (else ``height``).

    Raises ReportError naming what is missing when kaleido or a Chromium is not available.
    """
    if not figures:
        return []
    browser = chromium_path()
    if browser is None:
        raise ReportError(
            _(
                "charts as pictures need Chromium: expected it at /usr/bin/chromium or in "
                "${variable}; found none"
            ).format(variable=CHROMIUM_ENV)
        )
    os.environ.setdefault(CHROMIUM_ENV, browser)
    try:
        import plotly.io as pio
    except ImportError as exc:  # pragma: no cover - plotly is a requirement
        raise ReportError(_("charts as pictures need plotly: {exc}").format(exc=exc)) from exc
    with tempfile.TemporaryDirectory(prefix="ps-report-") as tmp:
        paths = [str(Path(tmp) / f"chart{i}.png") for i in range(len(figures))]
        sized = [
            go.Figure(f).update_layout(width=width, height=f.layout.height or height)
            for f in figures
        ]
        try:
            pio.write_images(sized, paths, format="png")
        except Exception as exc:
            raise ReportError(
                _("charts as pictures: kaleido could not draw them with {browser} ({why})").format(
                    browser=browser,
                    why=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                )
            ) from exc
        return [Path(p).read_bytes() for p in paths]


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="chart" alt="{_e(alt)}" src="data:image/png;base64,{data}">'


# ---- sections -----------------------------------------------------------------------------
def _overview_text(h: dict) -> str:
    start, end = _date(h["start"]), _date(h["end"])
    cur = h.get("currency")
    if h.get("noised"):
        text = _(
            "Between {start} and {end}, about {customers} customers were active in the "
            "segments below (a total of their noisy sizes)"
        ).format(start=start, end=end, customers=_count(h["customers"]))
        if h["revenue"] is not None:
            text += _(", spending {revenue} after refunds").format(
                revenue=_money(h["revenue"], cur)
            )
        return text + _(". Other counts are left out under differential privacy.")
    text = _("Between {start} and {end}, {customers} customers were active").format(
        start=start, end=end, customers=_count(h["customers"])
    )
    if h["buyers"]:
        text += _(
            "; {buyers} of them bought, placing {orders} orders (counted as {counted_as})"
        ).format(
            buyers=_count(h["buyers"]),
            orders=_count(h["orders"]),
            counted_as=_(h["orders_counted_as"]),
        )
        if h["revenue"] is not None:
            text += _(" worth {revenue} in total after refunds, {aov} per order on average").format(
                revenue=_money(h["revenue"], cur), aov=_money(h["average_order_value"], cur)
            )
        text += _(". {share} of buyers ordered more than once.").format(
            share=_pct(h["repeat_rate"])
        )
    else:
        text += _("; none of them bought in this period.")
    return text


def _segments_text(sizes: pl.DataFrame, kind: str) -> str:
    named = sizes.filter(~pl.col("segment").str.starts_with("fewer than "))
    if named.height == 0:
        return _("The {kind} are all too small to show under the privacy settings.").format(
            kind=kind
        )
    big = named.sort("users", descending=True).row(0, named=True)
    text = _(
        "Customers fall into {n} {kind}. The largest is {segment} with {users} customers "
        "({share} of all)."
    ).format(
        n=named.height,
        kind=kind,
        segment=segment_label(big["segment"]),
        users=_count(big["users"]),
        share=_pct(big["share_of_users"]),
    )
    money = named.drop_nulls("share_of_revenue")
    if money.height:
        top = money.sort("share_of_revenue", descending=True).row(0, named=True)
        text += " " + _(
            "{segment} brings the largest share of revenue: {revenue} from {users} of customers."
        ).format(
            segment=segment_label(top["segment"]),
            revenue=_pct(top["share_of_revenue"]),
            users=_pct(top["share_of_users"]),
        )
    return text


def _lead_metric(metrics: pl.DataFrame) -> str:
    present = set(metrics["metric"].to_list())
    return next((m for m in _LEAD_METRICS if m in present), metrics["metric"][0])


def _metric_words(metric: str, k: int | None) -> str:
    """The plain words of the lead metric at ``k`` in the current language."""
    if metric in _LEAD_METRICS:
        return _(_LEAD_METRICS[metric]).format(k=k or 10)
    return G.metric_label(metric, k)


def _models_text(saved: SavedComparison, metric: str, k: int | None) -> str:
    m = saved.metrics.filter(pl.col("metric") == metric).sort(
        "value", descending=True, nulls_last=True
    )
    best = m.row(0, named=True)
    how = (
        _(
            "trained on activity before {day} and checked against what customers did afterwards"
        ).format(day=_date(saved.cutoff))
        if saved.cutoff is not None
        else _(
            "trained on past activity and checked against what customers did next ({split})"
        ).format(split=saved.split)
    )
    text = _(
        "We compared {n} ways of choosing the products to suggest to each customer: each was "
        "{how}. On the {words}, {model} does best with {value}"
    ).format(
        n=m.height,
        how=how,
        words=_metric_words(metric, k),
        model=G.model_label(best["model"]),
        value=_metric_text(best["value"], metric),
    )
    pop = m.filter(pl.col("model") == "popularity")
    if best["model"] == "popularity":
        text += _(
            ": suggesting the best-sellers to everyone did at least as well as every "
            "personalised model on this data."
        )
    elif pop.height and pop["value"][0] is not None:
        text += _(", against {value} for simply suggesting the best-sellers.").format(
            value=_metric_text(pop["value"][0], metric)
        )
    else:
        text += _(".")
    if saved.stale:
        text += " " + _(
            "This comparison used the data up to {day}; the data has changed since, so run "
            "it again on the Recommenders page for current figures."
        ).format(day=_date(saved.data_end))
    return text


def _metric_text(v: float | None, metric: str) -> str:
    if v is None:
        return "—"
    return fmt.percent(v, 1) if metric in _SHARES else i18n.format_fixed(v, 3)


def _with_intervals(metrics: pl.DataFrame) -> pl.DataFrame:
    """``metrics`` with ci_low / ci_high / is_best columns (empty when a cross-validated
    comparison has a standard deviation instead of a bootstrap interval)."""
    missing = [
        (pl.lit(None, pl.Float64) if c != "is_best" else pl.lit(False)).alias(c)
        for c in ("ci_low", "ci_high", "is_best")
        if c not in metrics.columns
    ]
    return metrics.with_columns(missing) if missing else metrics


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, "Noto Sans CJK SC",
       "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: #1f2937; max-width: 960px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; } h2 { margin-top: 1.6em; font-size: 1.3em;
     border-bottom: 2px solid #e5e7eb; padding-bottom: 0.2em; }
.meta { color: #6b7280; font-size: 0.9em; } .summary { font-size: 1.05em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
         gap: 0.6em; margin: 1em 0; }
.card { border: 1px solid #e5e7eb; border-radius: 8px; padding: 0.6em 0.8em; }
.card .label { color: #6b7280; font-size: 0.85em; } .card .value { font-size: 1.35em;
     font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; margin: 0.8em 0; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 0.35em 0.5em; text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
th { background: #f9fafb; } td.num { text-align: right; white-space: nowrap; }
img.chart { width: 100%; height: auto; margin: 0.6em 0; }
.privacy { background: #eef2ff; border-radius: 8px; padding: 0.6em 0.9em; }
p.missing { background: #fef3c7; border-radius: 8px; padding: 0.6em 0.9em; }
section { break-inside: auto; } h2, .cards, img.chart, tr { break-inside: avoid; }
"""


def build_report(
    ds: Dataset,
    segments: list[SegmentDescription],
    *,
    segment_kind: str | None = None,
    comparison: SavedComparison | None = None,
    min_group: int = 0,
    epsilon: float | None = None,
    charts: bool = True,
    generated_at: datetime | None = None,
    currency: str | None = None,
    noisy_sizes: Mapping[str, int] | None = None,
    missing: list[MissingSection] | tuple[MissingSection, ...] = (),
    language: str | None = None,
) -> Report:
    """The stakeholder report of a dataset as one self-contained HTML page.

    Parameters
    ----------
    ds : Dataset
    segments : list of SegmentDescription
        The segments to present (e.g. the RFM segments), with names and definitions.
    comparison : SavedComparison, optional
        A model comparison saved with the workspace; its section is left out when None.
    min_group, epsilon : privacy settings of the workspace (0 / None = off).
    noisy_sizes : mapping, optional
        Segment name -> noisy user count: the release the app's pages show, so the report
        shows the same counts (drawn afresh when None and ``epsilon`` is set).
    charts : bool
        Embed the charts as PNG pictures (needs kaleido and Chromium).
    currency : str, optional
        ISO code shown with money ("$1,234.50"); plain numbers when None.
    missing : list of MissingSection
        Sections the caller could not build (e.g. a saved comparison it cannot read): each
        is printed in the report as a section saying so, with the reason, and returned in
        ``Report.missing`` for the page to show.
    language : str, optional
        The report's language ("en", "zh"; :data:`profiling.vocabulary.i18n.LANGUAGES`):
        every word, number and date of the page and its charts; the current language when
        None. Data values (workspace, category and model-given names) are never translated.

    Raises
    ------
    ReportError
        Charts were asked for and cannot be drawn on this machine.
    ValueError
        ``language`` is not a supported language.
    """
    with i18n.language(language or i18n.get_language()) as lang:
        return _build_report(
            ds,
            segments,
            segment_kind=segment_kind,
            comparison=comparison,
            min_group=min_group,
            epsilon=epsilon,
            charts=charts,
            generated_at=generated_at,
            currency=currency,
            noisy_sizes=noisy_sizes,
            missing=missing,
            lang=lang,
        )


def _build_report(
    ds: Dataset,
    segments: list[SegmentDescription],
    *,
    segment_kind: str | None,
    comparison: SavedComparison | None,
    min_group: int,
    epsilon: float | None,
    charts: bool,
    generated_at: datetime | None,
    currency: str | None,
    noisy_sizes: Mapping[str, int] | None,
    missing: list[MissingSection] | tuple[MissingSection, ...],
    lang: str,
) -> Report:
    from profiling.present import viz  # plotly figure builders

    sizes, privacy_notes = protected_sizes(segments, min_group, epsilon, noisy_sizes)
    h = {**protected_headline(headline(ds), sizes, epsilon), "currency": currency}
    by_name = {d.name: d for d in segments}
    generated_at = generated_at or datetime.now(UTC)

    figures: list[tuple[str, go.Figure]] = []
    activity = viz.activity_figure(ds.activity())
    activity.update_layout(title=_("Activity over time"))
    figures.append((_("Activity over time, by kind of action"), activity))
    bars = [
        _Bar(
            _segment_name(r["segment"], min_group),
            r["users"],
            r["share_of_users"],
            r["share_of_revenue"],
        )
        for r in sizes.iter_rows(named=True)
    ]
    size_fig = viz.segment_sizes_figure(bars)
    size_title = _("Share of customers and of revenue per segment")
    size_fig.update_layout(title=size_title)
    figures.append((size_title, size_fig))
    metric, k = None, None
    if comparison is not None and comparison.metrics.height:
        metric = _lead_metric(comparison.metrics)
        k = (
            comparison.metrics["k"].drop_nulls().max()
            if "k" in comparison.metrics.columns
            else None
        )
        model_fig = viz.metric_bars_figure(_with_intervals(comparison.metrics), metric)
        model_fig.update_layout(title=_capitalize(_metric_words(metric, k)), yaxis_title="")
        if metric in _SHARES:  # shares read as percentages, as in the summary above
            model_fig.update_layout(yaxis_tickformat=".0%")
            model_fig.update_traces(texttemplate="%{y:.1%}")
        figures.append((_("Model comparison"), model_fig))
    pictures = (
        dict(zip([a for a, _ in figures], figure_pngs([f for _, f in figures]), strict=True))
        if charts
        else {}
    )

    def picture(alt: str) -> str:
        return _img(pictures[alt], alt) if alt in pictures else ""

    cards = [
        (_("Customers"), _count(h["customers"])),
        (_("Customers who bought"), _count(h["buyers"])),
        (_("Orders"), _count(h["orders"])),
        (_("Revenue after refunds"), _money(h["revenue"], currency)),
        (_("Average order value (after refunds)"), _money(h["average_order_value"], currency)),
        (_("Revenue per customer"), _money(h["revenue_per_customer"], currency)),
        (_("Bought more than once"), _pct(h["repeat_rate"])),
    ]
    card_html = "".join(
        f'<div class="card"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div></div>'
        for label, value in cards
    )
    seg_rows = []
    for r in sizes.iter_rows(named=True):
        d = by_name.get(r["segment"])
        seg_rows.append(
            [
                _segment_name(r["segment"], min_group),
                _count(r["users"]),
                _pct(r["share_of_users"]),
                _pct(r["share_of_revenue"]),
                _(d.definition) if d is not None and d.definition else "",
                d.highlights() if d is not None else "",
            ]
        )
    title = _e(_("Customer report · {workspace}").format(workspace=ds.name))
    meta = _("Data from {start} to {end} · prepared {day} {time} UTC with Persona Studio").format(
        start=_date(h["start"]),
        end=_date(h["end"]),
        day=_date(generated_at),
        time=f"{generated_at:%H:%M}",
    )
    overview_title, segments_title = _("Overview"), _("Customer segments")
    kind_words = segment_kind or _("customer segments")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_HTML_LANG[lang]}"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p class="meta">{_e(meta)}</p>',
        f'<section id="overview"><h2>{_e(overview_title)}</h2>',
        f'<p class="summary">{_e(_overview_text(h))}</p>',
        f'<div class="cards">{card_html}</div>',
        picture(_("Activity over time, by kind of action")),
        "</section>",
        f'<section id="segments"><h2>{_e(segments_title)}</h2>',
        f'<p class="summary">{_e(_segments_text(sizes, kind_words))}</p>',
    ]
    if privacy_notes:
        parts.append('<p class="privacy">' + " ".join(_e(n) for n in privacy_notes) + "</p>")
    parts += [
        picture(size_title),
        _table(
            [
                _("Segment"),
                _("Customers"),
                _("Share of customers"),
                _("Share of revenue"),
                _("Who they are"),
                _("What sets them apart"),
            ],
            seg_rows,
            {1, 2, 3},
        ),
        "</section>",
    ]
    if comparison is not None and metric is not None:
        m = comparison.metrics.filter(pl.col("metric") == metric).sort(
            "value", descending=True, nulls_last=True
        )
        folded = "ci_low" not in m.columns and "std" in m.columns

        def spread(r: dict) -> str:
            if folded:
                return "—" if r.get("std") is None else f"± {_metric_text(r['std'], metric)}"
            if r.get("ci_low") is None or r.get("ci_high") is None:
                return "—"
            return _("{low} to {high}").format(
                low=_metric_text(r["ci_low"], metric), high=_metric_text(r["ci_high"], metric)
            )

        rows = [
            [
                G.model_label(r["model"]),
                _metric_text(r["value"], metric),
                spread(r),
                _("best") if r.get("is_best") else "",
            ]
            for r in m.iter_rows(named=True)
        ]
        folds = int(m["folds"].max()) if folded and "folds" in m.columns else None
        spread_header = (
            _("Spread over {folds} test folds (standard deviation)").format(folds=folds)
            if folded
            else _("Likely range (95%)")
        )
        parts += [
            f'<section id="models"><h2>{_e(_(MODELS_TITLE))}</h2>',
            f'<p class="summary">{_e(_models_text(comparison, metric, k))}</p>',
            picture(_("Model comparison")),
            _table(
                [_("Model"), _capitalize(_metric_words(metric, k)), spread_header, ""],
                rows,
                {1, 2},
            ),
            "</section>",
        ]
    for gap in missing:
        parts += [
            f'<section class="missing"><h2>{_e(_(gap.title))}</h2>',
            '<p class="missing">'
            + _e(_("This section could not be built: {reason}.").format(reason=gap.reason))
            + "</p>",
            "</section>",
        ]
    parts.append("</body></html>")
    return Report("\n".join(p for p in parts if p), sizes, epsilon, privacy_notes, list(missing))


_HTML_LANG = {"en": "en", "zh": "zh-Hans"}
"""The ``lang`` attribute of the report's page (Chromium picks the CJK font by it)."""


def _segment_name(name: str, min_group: int) -> str:
    """A segment name as the report shows it: RFM names and the merged small-groups row in
    the report's language, cluster and custom names as they are."""
    if min_group and name == P.SMALL_GROUPS.format(k=min_group):
        return _(P.SMALL_GROUPS).format(k=min_group)
    return segment_label(name)


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Bar:
    """What :func:`profiling.present.viz.segment_sizes_figure` reads of a segment."""

    name: str
    users: int
    share_of_users: float | None
    share_of_revenue: float | None

    @property
    def segment(self) -> str:
        return self.name


# ---- PDF ----------------------------------------------------------------------------------
def html_to_pdf(page: str, chromium: str | None = None, timeout_s: float = PDF_TIMEOUT_S) -> bytes:
    """Print an HTML page to PDF with headless Chromium (``--print-to-pdf``).

    Raises ReportError naming the browser when none is found or printing fails.
    """
    browser = chromium or chromium_path()
    if browser is None:
        raise ReportError(
            _(
                "the PDF needs Chromium: expected it at /usr/bin/chromium or in ${variable}; "
                "found none"
            ).format(variable=CHROMIUM_ENV)
        )
    with tempfile.TemporaryDirectory(prefix="ps-pdf-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReportError(
                _("the PDF: {browser} could not print the report ({exc})").format(
                    browser=browser, exc=exc
                )
            ) from exc
        if not out.exists() or out.stat().st_size == 0:
            tail = run.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise ReportError(
                _("the PDF: {browser} printed nothing (exit {code}; {tail})").format(
                    browser=browser, code=run.returncode, tail=tail[0]
                )
            )
        return out.read_bytes()
