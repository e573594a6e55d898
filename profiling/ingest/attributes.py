"""Cleaning users and items tables: one row per id with every attribute kept."""

from __future__ import annotations

import polars as pl

from profiling import schema as S
from profiling.ingest.events import CleanResult, _require
from profiling.ingest.report import (
    BAD_DATE,
    BAD_NUMBER,
    DUP_ID,
    CleaningReport,
    ReasonCount,
    _examples,
)
from profiling.ingest.roles import ColumnMapping, infer_roles
from profiling.ingest.source import RawTable
from profiling.ingest.timestamps import parse_timestamp
from profiling.ingest.values import _id_expr, _number_expr, _string_expr


def _clean_attributes(raw: RawTable, mapping: ColumnMapping, table: str) -> CleanResult:
    id_role = S.USER_ID if table == "users" else S.ITEM_ID
    schema = raw.frame.collect_schema()
    _require(mapping, raw, (id_role,), schema.names())
    report = CleaningReport(
        source=raw.source,
        table=table,
        read=raw.info,
        kind=f"{table} table",
        mapping=mapping.to_dict(),
        mapping_reasons=dict(mapping.reasons),
    )
    numeric = {S.AGE, S.PRICE}
    dates = {S.SIGNUP_DATE}
    sample = raw.sample(5000)
    exprs = [pl.col("__row")]
    checks: list[tuple[str, str, None]] = []
    for c, role in mapping.roles.items():
        if role == S.IGNORE:
            continue
        dtype = schema[c]
        if role == id_role:
            exprs.append(_id_expr(c, dtype).alias(role))
        elif role in numeric:
            exprs.append(_number_expr(c, dtype).alias(role))
            exprs.append(_string_expr(c, dtype).is_not_null().alias(f"__present_{role}"))
            checks.append((f"{BAD_NUMBER}: {c}", role, None))
        elif role in dates:
            ts = parse_timestamp(c, dtype, sample[c], excel=raw.info.format == "Excel")
            expr = ts.expr if ts else pl.lit(None, pl.Datetime("us", "UTC"))
            exprs.append(expr.alias(role))
            exprs.append(_string_expr(c, dtype).is_not_null().alias(f"__present_{role}"))
            checks.append((f"{BAD_DATE}: {c}", role, None))
        else:
            exprs.append(_string_expr(c, dtype).alias(role))
    extras = [
        c for c, r in mapping.roles.items() if r == S.IGNORE and c not in S.ROLES_BY_TABLE[table]
    ]
    for c in extras:
        exprs.append(_string_expr(c, schema[c]).alias(c))
    df = raw.frame.with_row_index("__row").select(exprs).collect()
    report.rows_read = df.height
    drop = (
        pl.when(pl.col(id_role).is_null()).then(pl.lit(f"missing {id_role.replace('_', ' ')}"))
        .when(~pl.col(id_role).is_first_distinct()).then(pl.lit(DUP_ID))
        .otherwise(None)
    )  # fmt: skip
    df = df.with_columns(drop.alias("__drop"))
    rows_by_reason: dict[str, list[int]] = {}
    tallies = []
    for name in (f"missing {id_role.replace('_', ' ')}", DUP_ID):
        hit = df.filter(pl.col("__drop") == name)
        if hit.height:
            tallies.append((name, "dropped", hit.height))
            rows_by_reason[name] = hit["__row"].head(S.EXAMPLES_PER_REASON).to_list()
    for name, role, _present in checks:
        bad = df.filter(
            pl.col("__drop").is_null() & pl.col(role).is_null() & pl.col(f"__present_{role}")
        )
        if bad.height:
            tallies.append((name, "repaired", bad.height))
            rows_by_reason[name] = bad["__row"].head(S.EXAMPLES_PER_REASON).to_list()
    examples = _examples(raw, rows_by_reason, offset=2 if raw.info.has_header else 1)
    report.reasons = [ReasonCount(n, a, c, examples.get(n, [])) for n, a, c in tallies]
    clean = df.filter(pl.col("__drop").is_null()).select(
        [c for c in df.columns if not c.startswith("__")]
    )
    report.rows_kept = clean.height
    if S.AGE in clean.columns:
        clean = clean.with_columns(
            pl.when(pl.col(S.AGE).is_between(0, 120)).then(pl.col(S.AGE)).otherwise(None)
        )
    for role in S.ROLES_BY_TABLE[table]:
        if role not in clean.columns:
            dtype = (
                pl.Float64
                if role in numeric
                else pl.Datetime("us", "UTC")
                if role in dates
                else pl.String
            )
            clean = clean.with_columns(pl.lit(None, dtype).alias(role))
    ordered = [r for r in S.ROLES_BY_TABLE[table]] + [
        c for c in clean.columns if c not in S.ROLES_BY_TABLE[table]
    ]
    return CleanResult(clean.select(ordered), report)


def clean_users(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean a users table: one row per user_id with age, gender, region, signup_date and
    any extra attributes as strings. Rows without an id or repeating one are dropped and
    counted; unparseable ages and dates become empty and are counted."""
    return _clean_attributes(raw, mapping or infer_roles(raw, "users"), "users")


def clean_items(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean an item catalog: one row per item_id with title, category, brand, price,
    description, tags and extra attributes. Dropped and repaired rows are counted."""
    return _clean_attributes(raw, mapping or infer_roles(raw, "items"), "items")
