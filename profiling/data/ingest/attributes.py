"""Cleaning users and items tables: one row per id with every attribute kept."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from profiling.data.ingest.events import CleanResult, require_roles
from profiling.data.ingest.report import (
    BAD_DATE,
    BAD_NUMBER,
    DUP_ID,
    CleaningReport,
    ReasonCount,
    example_rows,
)
from profiling.data.ingest.roles import (
    CATEGORICAL_VALUES,
    GIVEN_AS_BANDS,
    KEPT_AS,
    ORDERED_BANDS,
    ColumnMapping,
    infer_roles,
)
from profiling.data.ingest.source import RawTable
from profiling.data.ingest.timestamps import parse_timestamp
from profiling.data.ingest.values import (
    attribute_kind,
    band_midpoint,
    id_expr,
    number_expr,
    string_expr,
)
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

_NUMERIC_ROLES = {S.AGE, S.PRICE}
_DATE_ROLES = {S.SIGNUP_DATE}


@dataclass
class _Plan:
    """Expressions selecting a table's kept columns, and the value checks to count."""

    exprs: list[pl.Expr] = field(default_factory=lambda: [pl.col("__row")])
    checks: list[tuple[str, str]] = field(default_factory=list)  # (reason, column)

    def checked(self, expr: pl.Expr, name: str, present: pl.Expr, reason: str) -> None:
        self.exprs += [expr.alias(name), present.alias(f"__present_{name}")]
        self.checks.append((reason, name))


def _clean_attributes(raw: RawTable, mapping: ColumnMapping, table: str) -> CleanResult:
    id_role = S.USER_ID if table == "users" else S.ITEM_ID
    schema = raw.frame.collect_schema()
    require_roles(mapping, raw, (id_role,), schema.names())
    report = CleaningReport(
        source=raw.source,
        table=table,
        read=raw.info,
        kind={"users": N_("users table"), "items": N_("items table")}.get(table, f"{table} table"),
        mapping=mapping.to_dict(),
        mapping_reasons=dict(mapping.reasons),
    )
    report.notes.extend(mapping.notes)
    plan = _plan(raw, mapping, schema, id_role, report)
    df = raw.frame.with_row_index("__row").select(plan.exprs).collect()
    report.rows_read = df.height
    df, report.reasons = _drop_and_count(raw, df, id_role, plan.checks)
    clean = df.filter(pl.col("__drop").is_null()).select(
        [c for c in df.columns if not c.startswith("__")]
    )
    report.rows_kept = clean.height
    return CleanResult(_canonical_columns(clean, table), report)


def _plan(
    raw: RawTable, mapping: ColumnMapping, schema: pl.Schema, id_role: str, report: CleaningReport
) -> _Plan:
    sample = raw.sample(5000)
    excel = raw.info.format == "Excel"
    plan = _Plan()
    for c, role in mapping.roles.items():
        dtype = schema[c]
        present = string_expr(c, dtype).is_not_null()
        if role == S.IGNORE:
            continue
        if role == id_role:
            plan.exprs.append(id_expr(c, dtype).alias(role))
        elif role == S.AGE and attribute_kind(sample[c]) == "bands":
            _age_bands(plan, c, dtype, sample[c], report)
        elif role in _NUMERIC_ROLES:
            plan.checked(number_expr(c, dtype), role, present, f"{BAD_NUMBER}: {c}")
        elif role in _DATE_ROLES:
            ts = parse_timestamp(c, dtype, sample[c], excel=excel)
            expr = ts.expr if ts else pl.lit(None, pl.Datetime("us", "UTC"))
            plan.checked(expr, role, present, f"{BAD_DATE}: {c}")
        elif role == S.ATTRIBUTE:
            _attribute(plan, c, dtype, sample[c], mapping.table, report)
        else:
            plan.exprs.append(string_expr(c, dtype).alias(role))
    return plan


def _band_order(sample: pl.Series) -> list[str]:
    """Distinct band labels of a sample, ordered by their midpoints."""
    labels = string_expr("v", pl.String)
    frame = pl.DataFrame({"v": sample.cast(pl.String)}).select(
        labels.alias("label"), band_midpoint(labels).alias("mid")
    )
    return frame.drop_nulls("label").unique().sort(["mid", "label"])["label"].to_list()


def _describe_bands(order: list[str], mid: str) -> str:
    shown = " < ".join(order[:8]) + (" < ..." if len(order) > 8 else "")
    return ORDERED_BANDS.format(bands=shown, column=mid)


def _age_bands(
    plan: _Plan, c: str, dtype: pl.DataType, sample: pl.Series, report: CleaningReport
) -> None:
    """Age given as bands: the label is kept as ``age_band``, ``age`` is its midpoint."""
    text = string_expr(c, dtype)
    plan.checked(band_midpoint(text), S.AGE, text.is_not_null(), f"{BAD_NUMBER}: {c}")
    plan.exprs.append(text.alias("age_band"))
    order = _band_order(sample)
    report.attributes["age_band"] = _describe_bands(order, S.AGE)
    report.mapping_reasons[c] = GIVEN_AS_BANDS.format(reason=report.mapping_reasons.get(c, ""))
    report.notes.append(
        _(
            "'{c}' holds age bands ({names}...): kept as ordered bands in 'age_band'; 'age' is each band's midpoint (an open band such as 65+ counts as its bound)"
        ).format(c=c, names=", ".join(order[:4]))
    )


def _attribute(
    plan: _Plan, c: str, dtype: pl.DataType, sample: pl.Series, table: str, report: CleaningReport
) -> None:
    """Keep a column no canonical role describes under its own name, typed by content."""
    if c in S.ROLES_BY_TABLE[table] or c.startswith("__"):
        report.notes.append(
            _("column '{c}' has the name of a canonical column and was not kept").format(c=c)
        )
        return
    kind = attribute_kind(sample)
    text = string_expr(c, dtype)
    if kind == "date":
        plan.exprs.append(pl.col(c))
        described = "date"
    elif kind == "numeric":
        plan.checked(number_expr(c, dtype), c, text.is_not_null(), f"{BAD_NUMBER}: {c}")
        described = "numeric"
    elif kind == "bands":
        mid = f"{c}_mid"
        plan.exprs += [text.alias(c), band_midpoint(text).alias(mid)]
        described = _describe_bands(_band_order(sample), mid)
    else:
        plan.exprs.append(text.alias(c))
        described = CATEGORICAL_VALUES.format(n=sample.drop_nulls().n_unique())
    report.attributes[c] = described
    report.mapping_reasons[c] = KEPT_AS.format(kind=described)


def _drop_and_count(
    raw: RawTable, df: pl.DataFrame, id_role: str, checks: list[tuple[str, str]]
) -> tuple[pl.DataFrame, list[ReasonCount]]:
    """Flag rows without an id or repeating one, and count values that did not parse."""
    missing = f"missing {id_role.replace('_', ' ')}"
    drop = (
        pl.when(pl.col(id_role).is_null())
        .then(pl.lit(missing))
        .when(~pl.col(id_role).is_first_distinct())
        .then(pl.lit(DUP_ID))
        .otherwise(None)
    )
    df = df.with_columns(drop.alias("__drop"))
    rows_by_reason: dict[str, list[int]] = {}
    tallies = []
    for name in (missing, DUP_ID):
        hit = df.filter(pl.col("__drop") == name)
        if hit.height:
            tallies.append((name, "dropped", hit.height))
            rows_by_reason[name] = hit["__row"].head(S.EXAMPLES_PER_REASON).to_list()
    for name, col in checks:
        bad = df.filter(
            pl.col("__drop").is_null() & pl.col(col).is_null() & pl.col(f"__present_{col}")
        )
        if bad.height:
            tallies.append((name, "repaired", bad.height))
            rows_by_reason[name] = bad["__row"].head(S.EXAMPLES_PER_REASON).to_list()
    examples = example_rows(raw, rows_by_reason, offset=2 if raw.info.has_header else 1)
    return df, [ReasonCount(n, a, c, examples.get(n, [])) for n, a, c in tallies]


def _canonical_columns(clean: pl.DataFrame, table: str) -> pl.DataFrame:
    """Every canonical column of the table (null where absent), then the attributes."""
    if S.AGE in clean.columns:
        clean = clean.with_columns(
            pl.when(pl.col(S.AGE).is_between(0, 120)).then(pl.col(S.AGE)).otherwise(None)
        )
    canonical = [r for r in S.ROLES_BY_TABLE[table] if r != S.ATTRIBUTE]
    for role in canonical:
        if role not in clean.columns:
            dtype = (
                pl.Float64
                if role in _NUMERIC_ROLES
                else pl.Datetime("us", "UTC")
                if role in _DATE_ROLES
                else pl.String
            )
            clean = clean.with_columns(pl.lit(None, dtype).alias(role))
    return clean.select(canonical + [c for c in clean.columns if c not in canonical])


def clean_users(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean a users table: one row per user_id with age, gender, region, signup_date and
    every other column kept as an attribute (categorical, numeric, ordered bands with a
    ``<name>_mid`` midpoint, or date; see ``report.attributes``). An age column given as
    bands keeps its labels in ``age_band`` and their midpoints in ``age``. Rows without an
    id or repeating one are dropped and counted; unparseable ages, numbers and dates become
    empty and are counted."""
    return _clean_attributes(raw, mapping or infer_roles(raw, "users"), "users")


def clean_items(raw: RawTable, mapping: ColumnMapping | None = None) -> CleanResult:
    """Clean an item catalog: one row per item_id with title, category, brand, price,
    description, tags, and every other column kept as an attribute as in
    :func:`clean_users`. Dropped and repaired rows are counted."""
    return _clean_attributes(raw, mapping or infer_roles(raw, "items"), "items")
