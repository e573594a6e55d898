"""Building profiles from an event log larger than memory, with polars' streaming engine.

The in-memory path (:func:`profiling.data.dataset.load_dataset`) collects the whole cleaned log.
This path never does: the log is scanned, cleaned by the same rules and written
(``sink_parquet``, streaming) to a scratch Parquet file; the feature catalog's facts, the
cleaning counts and every aggregation of :func:`profiling.profiles.features.aggregation_plans` are
then collected with ``engine="streaming"`` from a scan of that file, so memory holds
per-user state, not events. Differences from the in-memory cleaning, all in the report:
exact duplicates are found by two 64-bit hashes of the raw row (identical raw rows always
match; two different rows would need a collision of both hashes, about 2^-128 per pair), and no example rows are kept. Attributes found in the log
(item titles, categories, user regions) are taken per id like the in-memory path.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import narwhals as nw
import polars as pl

from profiling.data import ingest
from profiling.data.dataset import DatasetReport, compute_joins, fingerprint, merge_attributes
from profiling.data.ingest import events as E
from profiling.data.ingest.values import id_expr, number_expr, string_expr
from profiling.errors import DataValidationError
from profiling.profiles.features import (
    FeatureCatalog,
    aggregation_plans,
    catalog_from_facts,
    finish_profiles,
    has_values,
    profile_date,
)
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

STREAMING = "streaming"


@dataclass
class StreamedDataset:
    """A cleaned log kept on disk (``events_path``, Parquet) with its report and facts."""

    events_path: Path
    users: pl.DataFrame | None
    items: pl.DataFrame | None
    report: DatasetReport
    fingerprint: str
    name: str
    facts: dict

    @property
    def as_of(self) -> datetime:
        return self.facts["end"]

    def summary(self) -> dict:
        return {
            k: self.facts[k]
            for k in (
                "users",
                "items",
                "events",
                "revenue",
                "purchases",
                "start",
                "end",
                "has_money",
            )
        }

    def scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.events_path)


def _event_type_streaming(column: str, dtype: pl.DataType) -> pl.Expr:
    """:func:`profiling.data.ingest.values.event_type_expr` as a when/then chain over
    ``is_in`` (elementwise); polars runs ``replace_strict`` as a whole-column function, which
    makes the streaming engine hold the column."""
    norm = string_expr(column, dtype).str.to_lowercase().str.replace_all(r"[^0-9a-z]", "")
    by_type: dict[str, list[str]] = {}
    for raw_name, canonical in S.EVENT_SYNONYMS.items():
        by_type.setdefault(canonical, []).append(raw_name)
    expr = pl.lit(S.OTHER)
    for canonical, names in reversed(by_type.items()):
        expr = pl.when(norm.is_in(names)).then(pl.lit(canonical)).otherwise(expr)
    return expr


def _canonical(raw: ingest.RawTable, mapping: ingest.ColumnMapping, ts: pl.Expr, etype: pl.Expr):
    """The lazy canonical select of :func:`profiling.data.ingest.clean_events`, with a raw-row
    hash in place of the in-memory ``is_first_distinct`` flag."""
    schema = raw.frame.collect_schema()
    columns = schema.names()

    def role(r: str, parse, empty) -> pl.Expr:
        c = mapping.column_for(r)
        return (parse(c, schema[c]) if c else pl.lit(None, empty)).alias(r)

    def present(r: str) -> pl.Expr:
        c = mapping.column_for(r)
        return string_expr(c, schema[c]).is_not_null() if c else pl.lit(False)

    has_event = mapping.has(S.EVENT_TYPE)
    return raw.frame.select(
        role(S.USER_ID, id_expr, pl.String),
        role(S.ITEM_ID, id_expr, pl.String),
        etype.alias("__etype"),
        (
            role(S.EVENT_TYPE, string_expr, pl.String) if has_event else pl.lit(None, pl.String)
        ).alias("__raw_event"),
        ts.alias(S.TIMESTAMP),
        present(S.TIMESTAMP).alias("__ts_present"),
        role(S.QUANTITY, number_expr, pl.Float64),
        present(S.QUANTITY).alias("__qty_present"),
        role(S.PRICE, number_expr, pl.Float64),
        role(S.AMOUNT, number_expr, pl.Float64),
        role(S.RATING, number_expr, pl.Float64),
        present(S.RATING).alias("__rating_present"),
        role(S.ORDER_ID, id_expr, pl.String),
        role(S.SESSION_ID, id_expr, pl.String),
        role(S.CHANNEL, string_expr, pl.String),
        role(S.DEVICE, string_expr, pl.String),
        *[role(r, string_expr, pl.String) for r in E.EXTRA_ROLES],
        pl.all_horizontal([string_expr(c, schema[c]).is_null() for c in columns]).alias("__blank"),
        pl.struct(columns).hash(seed=0).alias("__hash"),
        pl.struct(columns).hash(seed=1).alias("__hash2"),
    )


def clean_streaming(
    events: str, scratch: Path, overrides: dict[str, str] | None = None
) -> tuple[Path, ingest.CleaningReport, ingest.ColumnMapping]:
    """Clean ``events`` into ``scratch/events.parquet`` without collecting the log."""
    raw = ingest.read_table(events)
    mapping = ingest.infer_roles(raw, "events", overrides)
    schema = raw.frame.collect_schema()
    E.require_roles(mapping, raw, S.REQUIRED_EVENT_ROLES, schema.names())
    report = ingest.CleaningReport(
        source=raw.source,
        table="events",
        read=raw.info,
        mapping=mapping.to_dict(),
        mapping_reasons=dict(mapping.reasons),
    )
    report.notes.extend(mapping.notes)
    sample = raw.sample(5000)
    ts = E.timestamp_parse(raw, mapping, schema, sample, report)
    report.kind, etype = E.event_log_kind(mapping, schema)
    if mapping.has(S.EVENT_TYPE):
        c = mapping.column_for(S.EVENT_TYPE)
        etype = _event_type_streaming(c, schema[c])
    lf = E.with_money(_canonical(raw, mapping, ts.expr, etype), mapping)
    t = pl.col(S.TIMESTAMP)
    head = lf.select(
        pl.len().alias("rows"), t.count().alias("parsed"), (t != t.dt.truncate("1d")).any()
    ).collect(engine=STREAMING)
    report.rows_read, parsed, time_known = head.row(0)
    if report.rows_read and parsed == 0:
        raise DataValidationError(
            raw.source,
            _("expected timestamps ({described}) but none of the {n} rows could be parsed").format(
                described=ingest.timestamp_text(ts.description), n=report.rows_read
            ),
            column=mapping.column_for(S.TIMESTAMP),
        )
    report.date_only = not time_known
    dedupe = not report.date_only or mapping.has(S.ORDER_ID) or mapping.has(S.SESSION_ID)
    # first reason wins: blank/user/timestamp, then exact duplicates, then price/rating
    early = (
        pl.when(pl.col("__blank"))
        .then(pl.lit(ingest.BLANK_ROW))
        .when(pl.col(S.USER_ID).is_null())
        .then(pl.lit(ingest.MISSING_USER))
        .when(t.is_null() & ~pl.col("__ts_present"))
        .then(pl.lit(ingest.MISSING_TIMESTAMP))
        .when(t.is_null())
        .then(pl.lit(ingest.BAD_TIMESTAMP))
    )
    lf = lf.with_columns(early.alias("__drop"), pl.lit(True).alias("__first"))
    passed = lf.filter(pl.col("__drop").is_null())
    if dedupe:
        # a unique() over whole rows holds every row in memory; instead the rows are staged
        # on disk, the keys (two 64-bit hashes) that occur more than once are collected
        # (only the counting holds one entry per distinct key), rows with other keys stream
        # through, and the few repeated rows are deduplicated
        passed.sink_parquet(scratch / "stage.parquet", engine=STREAMING)
        key = ["__hash", "__hash2"]
        repeated_keys = (
            pl.scan_parquet(scratch / "stage.parquet")
            .group_by(key)
            .len()
            .filter(pl.col("len") > 1)
            .select(key)
            .collect(engine=STREAMING)
        )
        staged = pl.scan_parquet(scratch / "stage.parquet")
        single = staged.join(repeated_keys.lazy(), on=key, how="anti")
        repeated = staged.join(repeated_keys.lazy(), on=key, how="semi")
        passed = pl.concat([single, repeated.unique(subset=key, keep="any")])
    passed = passed.with_columns(E.drop_reason(report.kind, False).alias("__drop"))
    out = scratch / "events.parquet"
    keep = list(S.EVENT_COLUMNS) + [r for r in E.EXTRA_ROLES if mapping.has(r)]
    passed.with_columns(pl.col("__drop").fill_null("")).sink_parquet(
        scratch / "passed.parquet", engine=STREAMING
    )
    kept = pl.scan_parquet(scratch / "passed.parquet")
    kept.filter(pl.col("__drop") == "").select(keep).sink_parquet(out, engine=STREAMING)
    counts = dict(
        lf.filter(pl.col("__drop").is_not_null())
        .group_by("__drop")
        .len()
        .collect(engine=STREAMING)
        .iter_rows()
    )
    late = dict(kept.group_by("__drop").len().collect(engine=STREAMING).iter_rows())
    counts[ingest.DUPLICATE] = report.rows_read - sum(counts.values()) - sum(late.values())
    counts.update({k: v for k, v in late.items() if k})
    refunds = kept.filter((pl.col("__drop") == "") & pl.col("__refund")).select(pl.len())
    report.reasons = [
        ingest.ReasonCount(n, "dropped", int(counts[n]), []) for n in E.DROP_ORDER if counts.get(n)
    ]
    n_refund = refunds.collect(engine=STREAMING).item()
    if n_refund:
        report.reasons.append(ingest.ReasonCount(ingest.REFUND, "kept", int(n_refund), []))
    report.rows_kept = late.get("", 0)
    if report.rows_kept == 0:
        raise DataValidationError(
            raw.source,
            _("no usable rows: all {n} rows were dropped").format(n=report.rows_read),
        )
    report.notes.append(
        _(
            "cleaned with the polars streaming engine: exact duplicates found by two 64-bit "
            "hashes of the raw row; no example rows"
        )
    )
    (scratch / "passed.parquet").unlink()
    (scratch / "stage.parquet").unlink(missing_ok=True)
    return out, report, mapping


def build_streaming(
    events: str,
    users: str | None = None,
    items: str | None = None,
    *,
    as_of: datetime | str | None = None,
    events_map: dict[str, str] | None = None,
    scratch: Path | None = None,
) -> tuple[StreamedDataset, pl.DataFrame, FeatureCatalog]:
    """(dataset, profiles without tags, catalog) of an event log too large for memory.

    The profile frame is the one :func:`profiling.profiles.features.build_profiles` returns."""
    scratch = Path(scratch or tempfile.mkdtemp(prefix="persona-stream-"))
    scratch.mkdir(parents=True, exist_ok=True)
    path, report, mapping = clean_streaming(events, scratch, events_map)
    tables = {}
    parts = [("events", ingest.file_digest(events), mapping.to_dict())]
    for table, src, cleaner in (
        ("users", users, ingest.clean_users),
        ("items", items, ingest.clean_items),
    ):
        if src is None:
            continue
        raw = ingest.read_table(src)
        m = ingest.infer_roles(raw, table)
        tables[table] = cleaner(raw, m)
        parts.append((table, raw.digest, m.to_dict()))
    scan = pl.scan_parquet(path)
    item_roles = [r for r in (S.TITLE, S.CATEGORY, S.BRAND) if mapping.has(r)]
    user_roles = [r for r in (S.REGION, S.AGE, S.GENDER) if mapping.has(r)]
    log_items = _mode_per(scan.filter(pl.col(S.ITEM_ID).is_not_null()), S.ITEM_ID, item_roles)
    log_users = _mode_per(scan, S.USER_ID, user_roles)
    users_df = merge_attributes(
        tables["users"].frame if "users" in tables else None, log_users, S.USER_ID
    )
    items_df = merge_attributes(
        tables["items"].frame if "items" in tables else None, log_items, S.ITEM_ID
    )
    facts = _facts(scan)
    ids = pl.concat(
        [
            scan.select(pl.col(S.USER_ID).unique(), pl.lit(None, pl.String).alias(S.ITEM_ID)),
            scan.select(pl.lit(None, pl.String).alias(S.USER_ID), pl.col(S.ITEM_ID).unique()),
        ],
    ).collect(engine=STREAMING)
    joins = compute_joins(
        ids.filter(pl.col(S.USER_ID).is_not_null()),
        users_df if "users" in tables else None,
        None,
    )
    item_joins = compute_joins(
        ids.filter(pl.col(S.ITEM_ID).is_not_null()), None, items_df if "items" in tables else None
    )
    joins.event_items, joins.items_matched = item_joins.event_items, item_joins.items_matched
    joins.items_without_events = item_joins.items_without_events
    ds = StreamedDataset(
        path,
        users_df,
        items_df,
        DatasetReport(
            report,
            tables["users"].report if "users" in tables else None,
            tables["items"].report if "items" in tables else None,
            joins,
        ),
        fingerprint(parts),
        Path(events).name,
        facts,
    )
    cat = catalog_from_facts(
        types=set(facts["types"]),
        filled={c for c in (S.AMOUNT, S.PRICE, S.RATING) if facts[f"n_{c}"] > 0},
        time_known=facts["time_known"],
        items=items_df,
        has_users=users_df is not None,
    )
    when = profile_date(ds, as_of)
    e = (
        scan.select(S.EVENT_COLUMNS)
        .filter(pl.col(S.TIMESTAMP) <= when)
        .with_columns(pl.col(S.USER_ID).cast(pl.Categorical))
    )
    if "category affinity" in cat.computed or "brand affinity" in cat.computed:
        keep = [c for c in (S.CATEGORY, S.BRAND) if has_values(items_df, c)]
        catalog = items_df.lazy().select(S.ITEM_ID, *[pl.col(c).cast(pl.Categorical) for c in keep])
        e = e.join(catalog, on=S.ITEM_ID, how="left")
    plans = aggregation_plans(
        nw.from_native(e),
        when,
        cat,
        use_orders=facts[f"n_{S.ORDER_ID}"] > 0,
        use_sessions=facts[f"n_{S.SESSION_ID}"] > 0,
    )
    collected = pl.collect_all([p.to_native() for p in plans], engine=STREAMING)
    return ds, finish_profiles(collected, when, cat, users_df), cat


def _mode_per(scan: pl.LazyFrame, key: str, roles: list[str]) -> pl.DataFrame | None:
    """One row per ``key``: the most common value of each role (ties: the smallest)."""
    if not roles:
        return None
    out = scan.select(pl.col(key).unique())
    for r in roles:
        top = (
            scan.filter(pl.col(r).is_not_null())
            .group_by(key, r)
            .len()
            .sort(["len", r], descending=[True, False])
            .group_by(key)
            .first()
            .select(key, r)
        )
        out = out.join(top, on=key, how="left")
    return out.collect(engine=STREAMING)


def _facts(scan: pl.LazyFrame) -> dict:
    t = pl.col(S.TIMESTAMP)
    row = (
        scan.select(
            pl.col(S.USER_ID).n_unique().alias("users"),
            pl.col(S.ITEM_ID).drop_nulls().n_unique().alias("items"),
            pl.len().alias("events"),
            pl.col(S.AMOUNT).sum().alias("revenue"),
            (pl.col(S.EVENT_TYPE) == S.PURCHASE).sum().alias("purchases"),
            t.min().alias("start"),
            t.max().alias("end"),
            (t != t.dt.truncate("1d")).any().alias("time_known"),
            *[
                pl.col(c).count().alias(f"n_{c}")
                for c in (S.AMOUNT, S.PRICE, S.RATING, S.ORDER_ID, S.SESSION_ID)
            ],
        )
        .collect(engine=STREAMING)
        .row(0, named=True)
    )
    row["types"] = (
        scan.select(pl.col(S.EVENT_TYPE).unique()).collect(engine=STREAMING)[S.EVENT_TYPE].to_list()
    )
    row["has_money"] = row[f"n_{S.AMOUNT}"] > 0
    return row
