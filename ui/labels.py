"""Glossary labels and number formats as Streamlit column settings, and CSV exports with
plain headers and units (see :mod:`profiling.vocabulary.glossary` and :mod:`profiling.vocabulary.fmt`)."""

from __future__ import annotations

import re

import polars as pl
import streamlit as st

from profiling.present.export import to_safe_csv
from profiling.present.viz import event_name
from profiling.vocabulary import fmt
from profiling.vocabulary import glossary as G
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace.migration import flow_label
from ui.text import MARKDOWN_SPECIAL, escape_markdown


def column(name: str, currency: str | None = None, label: str | None = None, **kw):
    """The ``st.column_config`` entry of one glossary column: plain label, help with the
    technical name, and the number format of its kind."""
    text = label or G.label(name)
    help_ = kw.pop("help", None) or G.help_text(name)
    kind = G.kind(name)
    if kind == G.DATE:
        return st.column_config.DatetimeColumn(text, help=help_, format="DD MMM YYYY", **kw)
    if name == "tags":
        return st.column_config.ListColumn(text, help=help_, **kw)
    number = fmt.column_format(kind, currency)
    if number is None:
        return st.column_config.TextColumn(text, help=help_, **kw)
    return st.column_config.NumberColumn(text, help=help_, format=number, **kw)


TABLE_WIDTH = 760
"""Pixels a data table's columns may take in all: the main area is about 790 px wide at a
1280 px window with the sidebar open."""


def fitted_columns(
    names,
    currency: str | None = None,
    widths: dict[str, int] | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """:func:`columns` with pixel ``widths`` for the named columns and shorter ``labels``
    (the full plain label moves into the column's help). When every column has a width,
    the one named last in ``widths`` (a text column) takes what the others leave of
    :data:`TABLE_WIDTH`, so the table fits without a horizontal scroll; a column a user
    added beyond them keeps its natural width."""
    widths = {c: w for c, w in (widths or {}).items() if c in names}
    labels = labels or {}
    if widths and set(names) <= set(widths):  # every column sized: the last one fills
        last = list(widths)[-1]
        widths[last] = max(TABLE_WIDTH - sum(w for c, w in widths.items() if c != last), 120)
    out = {}
    for c in names:
        if not G.known(c):
            continue
        kw = {"width": widths[c]} if c in widths else {}
        if c in labels:
            kw["label"] = labels[c]
            kw["help"] = f"{G.label(c).capitalize()}. {G.help_text(c)}"
        out[c] = column(c, currency, **kw)
    return out


def columns(names, currency: str | None = None) -> dict:
    """``column_config`` for every glossary column of ``names`` (others keep their name)."""
    return {c: column(c, currency) for c in names if G.known(c)}


EXPORT_HEADERS: dict[str, str] = {
    "segment": N_("segment"),
    "definition": N_("definition"),
    "model": N_("model"),
    "metric": N_("measure"),
    "value": N_("value"),
    "ci_low": N_("likely range from"),
    "ci_high": N_("likely range to"),
    "std": N_("standard deviation"),
    "folds": N_("rounds"),
    "is_best": N_("best"),
    "p_adjusted": N_("adjusted p-value"),
    "clearly_worse": N_("clearly worse than the best"),
}
"""Headers of export columns that are not glossary features (English msgids); glossary
columns get their label and unit (:func:`profiling.vocabulary.fmt.for_export`)."""

SEGMENT_COLUMNS = ("segment", "rfm_segment")
"""Columns whose values are segment names: exported in the reader's language."""


def export_frame(frame: pl.DataFrame, currency: str | None = None) -> pl.DataFrame:
    """``frame`` as a person's CSV or spreadsheet shows it, in the current language: values
    rounded, glossary columns under their plain label and unit, the other known columns
    under :data:`EXPORT_HEADERS`; RFM segment names (in the workspace's scheme, as the frame
    holds them) and recommender names translated. Ids and other data values (item titles,
    categories, cluster and custom segment names) are left as they are; ``user_id`` keeps
    its name, so that audiences can be matched back."""
    values = []
    for col in SEGMENT_COLUMNS:
        if col in frame.columns and frame.schema[col] == pl.String:
            names = frame[col].unique().drop_nulls().to_list()
            values.append(
                pl.col(col).replace_strict({n: _segment_text(n) for n in names}, default=None)
            )
    if "model" in frame.columns and frame.schema["model"] == pl.String:
        names = frame["model"].unique().drop_nulls().to_list()
        values.append(
            pl.col("model").replace_strict({n: G.model_label(n) for n in names}, default=None)
        )
    out = fmt.for_export(frame.with_columns(values) if values else frame, currency)
    headers = {c: _(h) for c, h in EXPORT_HEADERS.items() if c in out.columns}
    if len(set(headers.values()) | (set(out.columns) - set(headers))) < len(out.columns):
        return out  # two columns must not end up with one header
    return out.rename(headers)


_SMALL = re.compile(r"fewer than (\d+) users")


def _segment_text(name: str) -> str:
    """A segment name in the current language: RFM names and the merged small-groups row
    (:data:`profiling.data.privacy.SMALL_GROUPS`) translated, others as they are."""
    from profiling.data.privacy import SMALL_GROUPS
    from profiling.profiles.segments import segment_label

    small = _SMALL.fullmatch(name)
    return _(SMALL_GROUPS).format(k=small.group(1)) if small else segment_label(name)


def csv(frame: pl.DataFrame, currency: str | None = None) -> str:
    """CSV for people (:func:`export_frame`): rounded values, plain headers with units in
    the current language, segment and model names translated, formula-safe cells."""
    return to_safe_csv(export_frame(frame, currency))


def _escaped(column: str, alias: str) -> pl.Expr:
    """A text column escaped like :func:`ui.text.escape_markdown` (``st.table`` reads
    Markdown in its cells; values from the data must show as the plain text they are)."""
    return _escaped_expr(pl.col(column), alias)


def table_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as escaped text for ``st.table`` (which wraps long values and headers
    instead of cutting them, and reads Markdown in its cells and headers; a column name
    from the data is escaped like a value): dates and times as
    "31 Jan 2024 14:05" (the one date format), decimals without binary float noise
    (15.299999999999999 -> 15.3), lists as "a, b" (never "[a, b]"), nulls empty."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_temporal():
            col = col.dt.strftime(fmt.DATETIME_FORMAT if dtype != pl.Date else fmt.DATE_FORMAT)
        elif dtype.is_float():
            col = col.round(6)
        elif isinstance(dtype, pl.List):
            col = col.cast(pl.List(pl.String)).list.join(", ")
        out.append(_escaped_expr(col, escape_markdown(name)))  # headers read Markdown too
    return frame.select(out)


def lists_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every list column as text for a grid: "Bot-like browsing, Refunds"
    (never "[Bot-like browsing]"), empty when the list is empty."""
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(
        pl.col(n).cast(pl.List(pl.String)).list.join(", ").fill_null("") for n in lists
    )


def _escaped_expr(expr: pl.Expr, alias: str) -> pl.Expr:
    return (
        expr.cast(pl.String)
        .fill_null("")
        .str.replace_all(r"[\r\n]", " ")
        .str.replace_all(MARKDOWN_SPECIAL.pattern, r"\$1")
        .alias(alias)
    )


def segment_size_rows(table: pl.DataFrame) -> pl.DataFrame:
    """The Segments page's sizes for ``st.table``: segment, customers ("1,234"), % of
    customers and % of revenue ("13.7%", "—" when unknown) and what sets it apart, escaped."""
    return table_text(
        pl.DataFrame(
            {
                _("segment"): table["segment"],
                G.label("customers"): [fmt.count(n) for n in table["users"]],
                _("% of customers"): [fmt.percent(v) for v in table["share_of_users"]],
                _("% of revenue"): [fmt.percent(v) for v in table["share_of_revenue"]],
                _("what sets it apart (↑ above, ↓ below the average)"): table["sets it apart"],
            }
        )
    )


def _tick(column: str, label: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("✓")).otherwise(pl.lit("")).alias(label)


def recommendation_rows(
    table: pl.DataFrame, bought_column: bool = True, details: bool = False
) -> pl.DataFrame:
    """A recommendation list for ``st.table``, which wraps long reasons instead of cutting
    them, headers in the current language: one row per item with "rank", "item", "bought before" ("✓" or "", when the list has
    ``already_bought`` and ``bought_column``) and "why"; text escaped. ``details`` adds the
    item id, the model's score (3 decimals) and "popular pick" (✓ where the model knew too
    little of the customer and fell back to the most popular items)."""
    cols = [pl.col("rank").alias(_("rank")), _escaped("title", _("item"))]
    if details:
        cols += [
            _escaped("item_id", _("item id")),
            pl.col("score").round(3).cast(pl.String).alias(_("score")),
        ]
    if bought_column and "already_bought" in table.columns:
        cols.append(_tick("already_bought", _("bought before")))
    if details and "is_fallback" in table.columns:
        cols.append(_tick("is_fallback", _("popular pick")))
    cols.append(_escaped("reason", _("why")))
    return table.select(cols)


def segment_names(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """``frame`` with the RFM segment names of ``columns`` in the reader's language (the
    8 tiers or the 11 segments, as the workspace names them, and the "New customers" /
    "Not in the later data" sides of a flow); cluster and custom segment names stay as
    they are."""
    out = frame
    for c in columns:
        names = frame[c].unique().drop_nulls().to_list()
        out = out.with_columns(
            pl.col(c).replace_strict(
                {n: flow_label(n) for n in names}, default=None, return_dtype=pl.String
            )
        )
    return out


TIMELINE_HEADERS = {
    "timestamp": N_("when"),
    "event_type": N_("event"),
    "item_id": N_("item id"),
    "title": N_("item"),
    "category": N_("category"),
    "quantity": N_("quantity"),
    "amount": N_("amount"),
    "rating": N_("rating"),
}
"""Headers of a customer's recent events (msgids)."""

CANONICAL_HEADERS = TIMELINE_HEADERS | {
    "user_id": N_("customer id"),
    "price": N_("price"),
    "order_id": N_("order id"),
    "session_id": N_("session id"),
    "channel": N_("channel"),
    "device": N_("device"),
    "brand": N_("brand"),
    "description": N_("description"),
}
"""Headers of the canonical columns in a table preview (msgids); any other column is named
as in the file."""


def preview_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A cleaned table's first rows as text for ``st.table``: canonical headers and event
    types in the reader's language, date-times as "07 Jan 2024 14:05"; ids, titles and other
    values as they are; escaped."""
    out = frame.with_columns(
        pl.Series(name, [fmt.datetime_text(v) for v in frame[name]], pl.String)
        for name, dtype in frame.schema.items()
        if dtype.is_temporal()
    )
    if "event_type" in out.columns:
        kinds = out["event_type"].unique().drop_nulls().to_list()
        out = out.with_columns(
            pl.col("event_type").replace_strict(
                {k: event_name(k) for k in kinds}, default=None, return_dtype=pl.String
            )
        )
    names = {c: _(CANONICAL_HEADERS[c]) for c in out.columns if c in CANONICAL_HEADERS}
    return table_text(out.rename(names))


def timeline_rows(t: pl.DataFrame, currency: str | None = None) -> pl.DataFrame:
    """A customer's events for a grid, headers and event types in the reader's language,
    times as "07 Jan 2024 14:05", money with its currency; item ids, titles and categories
    as they are (data values)."""
    out = t
    if "timestamp" in t.columns:
        out = out.with_columns(
            pl.Series("timestamp", [fmt.datetime_text(v) for v in t["timestamp"]], pl.String)
        )
    if "event_type" in t.columns:
        kinds = t["event_type"].unique().drop_nulls().to_list()
        out = out.with_columns(
            pl.col("event_type").replace_strict(
                {k: event_name(k) for k in kinds}, default=None, return_dtype=pl.String
            )
        )
    if "amount" in t.columns:
        out = out.with_columns(
            pl.Series("amount", [fmt.money(v, currency) for v in t["amount"]], pl.String)
        )
    return out.rename({c: _(TIMELINE_HEADERS[c]) for c in out.columns if c in TIMELINE_HEADERS})
