"""Building profiles on Apache Spark: reading, cleaning and every narwhals aggregation of
:mod:`profiling.profiles.features` run on a PySpark DataFrame; only per-user results reach the driver.

What runs where (see the README, "Beyond one machine"):

- On Spark: reading the event log (Parquet or CSV; a local path or any URI Spark reads:
  ``s3a://``, ``hdfs://``, ``abfss://`` ...), the cleaning steps that matter at scale (the
  required user id and timestamp, timestamp parsing, event names, blank rows, exact
  duplicates, refunds, quantities, signed amounts, negative prices, missing ratings), the
  item and user attributes found in the log (most common value), the facts the feature
  catalog needs, and every narwhals aggregation (:func:`profiling.profiles.features.aggregation_plans`).
- On the driver, in polars, on per-user frames (one row per user, or per user and
  category): the category pivot, ratios, RFM quintiles, tags and segments; and reading the
  optional users and items tables, which are one row per user / item.
- Column roles and the timestamp format are inferred from the first 5,000 rows, exactly as
  the polars engine does; the cleaning report counts dropped rows per reason and refunds
  (no example rows, and the other repairs are not tallied).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

import narwhals as nw
import polars as pl

from profiling.data import ingest
from profiling.data.dataset import DatasetReport, compute_joins, fingerprint, merge_attributes
from profiling.data.ingest.source import MISSING_IDS, RawTable, ReadInfo
from profiling.errors import DataValidationError
from profiling.profiles.features import (
    FeatureCatalog,
    aggregation_plans,
    catalog_from_facts,
    finish_profiles,
    has_values,
    profile_date,
)
from profiling.spark_session import SparkEngineError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import gettext as _

SAMPLE_ROWS = 5000

# polars strftime -> Spark datetime pattern, for the string timestamp formats Spark parses;
# "%.f" (optional fraction) becomes an optional fraction of 1 to 9 digits
_SPARK_FORMATS: tuple[tuple[str, str], ...] = (
    ("%Y-%m-%dT%H:%M:%S%.f", "yyyy-MM-dd'T'HH:mm:ss[.SSSSSSSSS]"),
    ("%Y-%m-%d %H:%M:%S%.f", "yyyy-MM-dd HH:mm:ss[.SSSSSSSSS]"),
    ("%Y-%m-%d %H:%M", "yyyy-MM-dd HH:mm"),
    ("%Y-%m-%dT%H:%M", "yyyy-MM-dd'T'HH:mm"),
    ("%Y-%m-%d", "yyyy-MM-dd"),
    ("%Y/%m/%d %H:%M:%S", "yyyy/MM/dd HH:mm:ss"),
    ("%Y/%m/%d %H:%M", "yyyy/MM/dd HH:mm"),
    ("%Y/%m/%d", "yyyy/MM/dd"),
    ("%d/%m/%Y %H:%M:%S", "dd/MM/yyyy HH:mm:ss"),
    ("%m/%d/%Y %H:%M:%S", "MM/dd/yyyy HH:mm:ss"),
    ("%d/%m/%Y %H:%M", "dd/MM/yyyy HH:mm"),
    ("%m/%d/%Y %H:%M", "MM/dd/yyyy HH:mm"),
    ("%d/%m/%Y", "dd/MM/yyyy"),
    ("%m/%d/%Y", "MM/dd/yyyy"),
    ("%d.%m.%Y %H:%M:%S", "dd.MM.yyyy HH:mm:ss"),
    ("%d.%m.%Y", "dd.MM.yyyy"),
    ("%Y%m%d%H%M%S", "yyyyMMddHHmmss"),
    ("%Y%m%d", "yyyyMMdd"),
)


# ---- reading ---------------------------------------------------------------------------
def read_events(spark, uri: str):
    """The raw event log as a Spark DataFrame: Parquet (native column types) or CSV/TSV
    (header row, every column a string, like the polars reader), by the path's ending."""
    low = uri.lower().rstrip("/")
    try:
        if low.endswith((".csv", ".tsv", ".txt")):
            sep = "\t" if low.endswith(".tsv") else ","
            return spark.read.option("header", True).option("sep", sep).csv(uri)
        if low.endswith(".parquet") or not os.path.splitext(low)[1]:
            return spark.read.parquet(uri)
    except Exception as exc:  # noqa: BLE001 - Py4J raises plain Exception subclasses for any JVM failure
        raise DataValidationError(
            uri,
            _("Spark could not read it as {kind}: {exc}").format(
                kind="CSV" if "csv" in low else "Parquet", exc=exc
            ),
        ) from None
    raise DataValidationError(
        uri,
        _(
            "the Spark engine reads Parquet (a file or a folder) and CSV/TSV with a header; "
            "found a file ending in {suffix!r}. Convert it, or use --engine polars"
        ).format(suffix=os.path.splitext(low)[1]),
    )


def raw_sample(sdf, source: str, n: int = SAMPLE_ROWS) -> RawTable:
    """The first ``n`` rows as a polars :class:`RawTable`, for role and format inference."""
    sample = pl.from_arrow(sdf.limit(n).toArrow())
    if isinstance(sample, pl.Series):  # pragma: no cover - a one-column frame
        sample = sample.to_frame()
    info = ReadInfo(source=source, format="Spark", columns=list(sdf.columns))
    return RawTable(frame=sample.lazy(), info=info, digest=source, path=source)


# ---- value parsing (Spark versions of profiling.data.ingest.values) -------------------------
def _is_float(dtype) -> bool:
    from pyspark.sql import types as T

    return isinstance(dtype, T.FloatType | T.DoubleType | T.DecimalType)


def _is_numeric(dtype) -> bool:
    from pyspark.sql import types as T

    return isinstance(dtype, T.NumericType | T.BooleanType)


def _string_col(name: str, dtype):
    """Cast to string, strip, empty strings to null (integral floats without ``.0``)."""
    from pyspark.sql import functions as F

    c = F.col(f"`{name}`")
    if _is_float(dtype):
        expr = F.when(c == F.round(c), c.cast("long").cast("string")).otherwise(c.cast("string"))
    else:
        expr = c.cast("string")
    expr = F.trim(expr)
    return F.when(F.length(expr) > 0, expr)


def _id_col(name: str, dtype):
    from pyspark.sql import functions as F

    expr = _string_col(name, dtype)
    return F.when(~F.lower(expr).isin(list(MISSING_IDS)), expr)


def _number_col(name: str, dtype):
    """Numbers with currency signs, thousands separators, decimal commas, (negatives)."""
    from pyspark.sql import functions as F

    c = F.col(f"`{name}`")
    if _is_numeric(dtype):
        return c.cast("double")
    s = F.regexp_replace(F.trim(c.cast("string")), "[\\s$€£¥₹\u00a0']", "")
    parens = s.startswith("(") & s.endswith(")")
    s = F.regexp_replace(s, "^\\(+|\\)+$", "")
    comma = s.rlike("^[-+]?\\d{1,3}(\\.\\d{3})*,\\d+$") | s.rlike("^[-+]?\\d+,\\d{1,2}$")
    s = F.when(comma, F.regexp_replace(F.regexp_replace(s, "\\.", ""), ",", ".")).otherwise(
        F.regexp_replace(s, ",", "")
    )
    value = s.try_cast("double")
    return F.when(parens, -value).otherwise(value)


def _event_type_col(name: str, dtype):
    from itertools import chain

    from pyspark.sql import functions as F

    norm = F.regexp_replace(F.lower(_string_col(name, dtype)), "[^0-9a-z]", "")
    synonyms = F.create_map([F.lit(x) for x in chain(*S.EVENT_SYNONYMS.items())])
    return F.coalesce(synonyms[norm], F.lit(S.OTHER))


def spark_timestamp(sdf, column: str, sample: pl.Series, source: str):
    """(Spark column of UTC timestamps, description) for a raw timestamp column: native
    timestamps and dates, epoch seconds or milliseconds, or a string format of
    :data:`_SPARK_FORMATS` chosen as the polars engine would (the first format that parses
    the sample exactly as :func:`profiling.data.ingest.parse_timestamp` does)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    dtype = sdf.schema[column].dataType
    c = F.col(f"`{column}`")
    parsed = ingest.parse_timestamp(column, sample.dtype, sample)
    if parsed is None:
        raise DataValidationError(
            source,
            _(
                "expected timestamps (ISO dates, day/month/year, YYYYMMDD, epoch seconds or "
                "milliseconds) but none could be parsed; found values such as {found}"
            ).format(found=sample.drop_nulls().cast(pl.String).head(3).to_list()),
            column=column,
        )
    if isinstance(dtype, T.TimestampType | T.TimestampNTZType | T.DateType):
        return c.cast("timestamp"), parsed.description
    if _is_numeric(dtype):
        unit = parsed.description
        if "milliseconds" in unit:
            return F.timestamp_millis(c.cast("long")), unit
        if "seconds" in unit:
            return F.timestamp_seconds(c.cast("double")), unit
        raise SparkEngineError(
            _(
                "{source}: column '{column}' holds {unit}; the Spark engine reads epoch seconds "
                "or milliseconds. Convert it, or use --engine polars"
            ).format(source=source, column=column, unit=ingest.timestamp_text(unit))
        )
    reference = pl.DataFrame({column: sample}).select(parsed.expr.alias("v"))["v"]
    text = sample.cast(pl.String).str.strip_chars()
    for fmt, pattern in _SPARK_FORMATS:
        mine = text.str.strptime(pl.Datetime("us"), fmt, strict=False).dt.replace_time_zone("UTC")
        if mine.equals(reference):
            return F.try_to_timestamp(F.trim(c.cast("string")), F.lit(pattern)), parsed.description
    raise SparkEngineError(
        _(
            "{source}: timestamps in column '{column}' are {described}, a format the "
            "Spark engine does not read (it reads native timestamps, epoch seconds or "
            "milliseconds, and ISO, year/month/day, day/month/year, month/day/year, "
            "day.month.year and YYYYMMDD strings without zone names). Convert the column, or "
            "use --engine polars"
        ).format(source=source, column=column, described=ingest.timestamp_text(parsed.description))
    )


# ---- cleaning ----------------------------------------------------------------------------
@dataclass
class SparkEvents:
    """Cleaned events on Spark with the cleaning report and the attributes found in the log
    (polars frames, one row per item / user)."""

    frame: object  # pyspark.sql.DataFrame, columns of profiling.vocabulary.schema.EVENT_COLUMNS
    report: ingest.CleaningReport
    item_attributes: pl.DataFrame | None
    user_attributes: pl.DataFrame | None


_EXTRA_ROLES = (S.TITLE, S.CATEGORY, S.BRAND, S.REGION, S.AGE, S.GENDER)


def clean_events_spark(sdf, source: str, overrides: dict[str, str] | None = None) -> SparkEvents:
    """Clean a raw Spark event log into the canonical events (see
    :func:`profiling.data.ingest.clean_events`, whose rules this follows: same roles, same
    timestamp format, same drop reasons in the same order, same refund and money rules).

    Returns
    -------
    SparkEvents
        ``frame``: one row per kept event, columns :data:`profiling.vocabulary.schema.EVENT_COLUMNS`
        (not collected); ``report`` with rows read / kept and the count per drop reason.
    """
    from pyspark.sql import functions as F

    raw = raw_sample(sdf, source)
    mapping = ingest.infer_roles(raw, "events", overrides)
    columns = list(sdf.columns)
    for role in S.REQUIRED_EVENT_ROLES:
        if not mapping.has(role):
            raise DataValidationError(
                source,
                _(
                    "no column is mapped to '{role}'; expected a {value} column (found "
                    "columns: {names}). Map one with --map COLUMN={role}"
                ).format(role=role, value=role.replace("_", " "), names=", ".join(columns)),
            )
    types = {f.name: f.dataType for f in sdf.schema.fields}
    report = ingest.CleaningReport(
        source=source,
        table="events",
        read=raw.info,
        mapping=mapping.to_dict(),
        mapping_reasons=dict(mapping.reasons),
    )
    report.notes.extend(mapping.notes)
    sample = raw.sample()
    ts_col = mapping.column_for(S.TIMESTAMP)
    ts, report.timestamp_format = spark_timestamp(sdf, ts_col, sample[ts_col], source)

    def role(r: str, parse, empty: str):
        c = mapping.column_for(r)
        return (parse(c, types[c]) if c else F.lit(None).cast(empty)).alias(r)

    def present(r: str):
        c = mapping.column_for(r)
        return _string_col(c, types[c]).isNotNull() if c else F.lit(False)

    if mapping.has(S.EVENT_TYPE):
        report.kind = "event log"
        etype = _event_type_col(
            mapping.column_for(S.EVENT_TYPE), types[mapping.column_for(S.EVENT_TYPE)]
        )
    elif mapping.has(S.RATING) and not any(mapping.has(r) for r in (S.QUANTITY, S.PRICE, S.AMOUNT)):
        report.kind, etype = "rating log", F.lit(S.RATE)
    else:
        report.kind, etype = "transaction log", F.lit(S.PURCHASE)
    blank = F.lit(True)
    for c in columns:
        blank = blank & _string_col(c, types[c]).isNull()
    df = sdf.select(
        *[F.col(f"`{c}`").alias(f"__raw{i}") for i, c in enumerate(columns)],
        role(S.USER_ID, _id_col, "string"),
        role(S.ITEM_ID, _id_col, "string"),
        etype.alias("__etype"),
        ts.alias(S.TIMESTAMP),
        present(S.TIMESTAMP).alias("__ts_present"),
        role(S.QUANTITY, _number_col, "double"),
        role(S.PRICE, _number_col, "double"),
        role(S.AMOUNT, _number_col, "double"),
        role(S.RATING, _number_col, "double"),
        role(S.ORDER_ID, _id_col, "string"),
        role(S.SESSION_ID, _id_col, "string"),
        role(S.CHANNEL, _string_col, "string"),
        role(S.DEVICE, _string_col, "string"),
        *[role(r, _string_col, "string") for r in _EXTRA_ROLES],
        blank.alias("__blank"),
    )
    df = _with_money(df, mapping.has(S.ORDER_ID)).withColumn("__drop", _early_drop())
    # one pass over the raw log: rows, parsed timestamps, time of day, early drop reasons
    facts = df.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count(S.TIMESTAMP).alias("parsed"),
        F.max((F.col(S.TIMESTAMP) != F.date_trunc("day", S.TIMESTAMP)).cast("int")).alias("tod"),
        *[F.count(F.when(F.col("__drop") == r, 1)).alias(r) for r in _DROP_ORDER[:4]],
    ).first()
    report.rows_read = int(facts["rows"])
    if report.rows_read and facts["parsed"] == 0:
        raise DataValidationError(
            source,
            _(
                "expected timestamps ({described}) but none of the {height} rows could be "
                "parsed; found values such as {found}"
            ).format(
                described=ingest.timestamp_text(report.timestamp_format),
                height=report.rows_read,
                found=sample[ts_col].drop_nulls().cast(pl.String).head(3).to_list(),
            ),
            column=ts_col,
        )
    report.date_only = not bool(facts["tod"])
    dedupe = not report.date_only or mapping.has(S.ORDER_ID) or mapping.has(S.SESSION_ID)
    early = {r: int(facts[r]) for r in _DROP_ORDER[:4]}
    keep = [*S.EVENT_COLUMNS, *[r for r in _EXTRA_ROLES if r not in S.EVENT_COLUMNS]]
    clean, counts = _drop_and_count(df, columns, report.kind, dedupe, early, keep, report.rows_read)
    report.reasons = counts
    report.rows_kept = report.rows_read - sum(r.count for r in counts if r.action == "dropped")
    if report.rows_kept == 0:
        raise DataValidationError(
            source,
            _("no usable rows: all {n} rows were dropped ({reasons})").format(
                n=report.rows_read,
                reasons=", ".join(
                    f"{_(r.reason)}: {r.count}" for r in counts if r.action == "dropped"
                ),
            ),
        )
    report.notes.append(
        _(
            "cleaned on Spark: dropped rows are counted per reason and refunds are counted; "
            "example rows and the other repairs are reported by the polars engine only"
        )
    )
    if report.date_only:
        report.notes.append(
            _(
                "the timestamps carry no time of day (a date-only log): hour and part-of-day "
                "features, hour heatmaps and the preferred hour are skipped; weekday features stay"
            )
        )
    items = (
        _log_attributes(
            clean, S.ITEM_ID, [r for r in (S.TITLE, S.CATEGORY, S.BRAND) if mapping.has(r)]
        )
        if mapping.has(S.ITEM_ID)
        else None
    )
    users = _log_attributes(
        clean, S.USER_ID, [r for r in (S.REGION, S.AGE, S.GENDER) if mapping.has(r)]
    )
    return SparkEvents(clean.select(*S.EVENT_COLUMNS), report, items, users)


def _with_money(df, has_order: bool):
    """Refunds, quantities, signed amounts and unit prices (see ingest.events._with_money)."""
    from pyspark.sql import functions as F

    qty, price, total = F.col(S.QUANTITY), F.col(S.PRICE), F.col(S.AMOUNT)
    is_money = F.col("__etype") == S.PURCHASE
    cancel = F.col(S.ORDER_ID).rlike("^[cC]\\d") if has_order else F.lit(False)
    negative_total = (total < 0) & ~(qty < 0) & ~(price < 0)
    refund = is_money & (
        (qty < 0) | F.coalesce(cancel, F.lit(False)) | F.coalesce(negative_total, F.lit(False))
    )
    df = df.withColumn(
        S.EVENT_TYPE, F.when(refund, F.lit(S.REFUND)).otherwise(F.col("__etype"))
    ).withColumn("__refund", F.coalesce(refund, F.lit(False)))
    money = F.col(S.EVENT_TYPE).isin(*S.MONEY_EVENTS)
    # polars rounds half away from zero, as Spark's round does
    q = F.coalesce(F.round(F.abs(qty), 0), F.when(money, F.lit(1.0)))
    sign = F.when(F.col(S.EVENT_TYPE) == S.REFUND, F.lit(-1.0)).otherwise(F.lit(1.0))
    amount = F.when(
        money, F.when(total.isNotNull(), F.abs(total) * sign).otherwise(price * q * sign)
    )
    unit = F.when(price.isNotNull(), price).otherwise(F.when(money & (q > 0), F.abs(total) / q))
    return df.select(
        *[c for c in df.columns if c not in (S.QUANTITY, S.AMOUNT, S.PRICE)],
        q.cast("long").alias(S.QUANTITY),
        amount.alias(S.AMOUNT),
        unit.alias(S.PRICE),
    )


_DROP_ORDER = (
    ingest.BLANK_ROW,
    ingest.MISSING_USER,
    ingest.MISSING_TIMESTAMP,
    ingest.BAD_TIMESTAMP,
    ingest.DUPLICATE,
    ingest.NEGATIVE_PRICE,
    ingest.MISSING_RATING,
)


def _early_drop():
    """The first drop reason checked before duplicates (blank row, missing user id, missing
    or unparsable timestamp), or null."""
    from pyspark.sql import functions as F

    return (
        F.when(F.col("__blank"), F.lit(ingest.BLANK_ROW))
        .when(F.col(S.USER_ID).isNull(), F.lit(ingest.MISSING_USER))
        .when(F.col(S.TIMESTAMP).isNull() & ~F.col("__ts_present"), F.lit(ingest.MISSING_TIMESTAMP))
        .when(F.col(S.TIMESTAMP).isNull(), F.lit(ingest.BAD_TIMESTAMP))
    )


def _drop_and_count(
    df,
    columns: list[str],
    kind: str,
    dedupe: bool,
    early: dict[str, int],
    keep: list[str],
    rows: int,
):
    """Kept rows and the count per reason, first reason wins (as the polars engine): an
    exact duplicate of the raw row is dropped after the blank/user/timestamp checks
    (``early``: their counts, from the caller's pass over ``df`` of ``rows`` rows) and before the price and
    rating checks.

    The rows that pass the early checks are deduplicated, cut to the ``keep`` columns and
    persisted once (memory, then disk): the counts below, the facts, the attributes and
    every aggregation of the profiles read that cache, not the raw log. Returns (a view
    of the kept rows on that cache, the reasons)."""
    from pyspark.sql import functions as F

    raw_cols = [f"__raw{i}" for i in range(len(columns))]
    passed = df.filter(F.col("__drop").isNull())
    if dedupe:
        passed = passed.dropDuplicates(raw_cols)
    negative = (F.col(S.EVENT_TYPE) == S.PURCHASE) & F.coalesce(
        (F.col(S.PRICE) < 0) | (F.col(S.AMOUNT) < 0), F.lit(False)
    )
    after = F.when(negative, F.lit(ingest.NEGATIVE_PRICE)).when(
        F.lit(kind == "rating log") & F.col(S.RATING).isNull(), F.lit(ingest.MISSING_RATING)
    )
    passed = passed.select(*keep, "__refund", after.alias("__drop")).persist()
    stats = passed.agg(
        F.count(F.lit(1)).alias("distinct"),
        F.sum((F.col("__drop") == ingest.NEGATIVE_PRICE).cast("long")).alias("neg"),
        F.sum((F.col("__drop") == ingest.MISSING_RATING).cast("long")).alias("rating"),
        F.sum((F.col("__drop").isNull() & F.col("__refund")).cast("long")).alias("refund"),
    ).first()
    counts = {r: n for r, n in early.items() if n}
    counts[ingest.DUPLICATE] = rows - sum(early.values()) - int(stats["distinct"])
    counts[ingest.NEGATIVE_PRICE] = stats["neg"] or 0
    counts[ingest.MISSING_RATING] = stats["rating"] or 0
    reasons = [
        ingest.ReasonCount(name, "dropped", int(counts[name]), [])
        for name in _DROP_ORDER
        if counts.get(name)
    ]
    if stats["refund"]:
        reasons.append(ingest.ReasonCount(ingest.REFUND, "kept", int(stats["refund"]), []))
    return passed.filter(F.col("__drop").isNull()).select(*keep), reasons


def _log_attributes(clean, key: str, roles: list[str]) -> pl.DataFrame | None:
    """One row per ``key`` with the most common value of each role (ties: the smallest),
    as :func:`profiling.data.ingest.events._item_attributes` does; collected to polars."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not roles:
        return None
    keyed = clean.filter(F.col(key).isNotNull())
    out = keyed.select(key).distinct()
    for r in roles:
        counts = keyed.filter(F.col(r).isNotNull()).groupBy(key, r).count()
        best = Window.partitionBy(key).orderBy(F.col("count").desc(), F.col(r).asc())
        top = counts.withColumn("__n", F.row_number().over(best)).filter(F.col("__n") == 1)
        out = out.join(top.select(key, r), on=key, how="left")
    frame = pl.from_arrow(out.toArrow())
    return frame.with_columns(pl.col(r).cast(pl.String) for r in roles)


# ---- the dataset and the profiles --------------------------------------------------------
@dataclass
class SparkDataset:
    """A cleaned dataset whose events live on Spark; users and items are polars frames
    (one row per user / item) like :class:`profiling.data.dataset.Dataset`'s."""

    events: object  # pyspark.sql.DataFrame
    users: pl.DataFrame | None
    items: pl.DataFrame | None
    report: DatasetReport
    fingerprint: str
    name: str
    facts: dict

    @property
    def as_of(self) -> datetime:
        return self.facts["as_of"]

    def summary(self) -> dict:
        """Headline numbers, as :meth:`profiling.data.dataset.Dataset.summary`."""
        f = self.facts
        items = max(f["items"], self.items.height) if self.items is not None else f["items"]
        return {
            "users": f["users"],
            "items": items,
            "events": f["events"],
            "revenue": f["revenue"],
            "purchases": f["purchases"],
            "start": f["start"],
            "end": f["as_of"],
            "has_money": f["amounts"] > 0,
        }

    def catalog(self) -> FeatureCatalog:
        """The feature catalog from facts computed on Spark."""
        f = self.facts
        return catalog_from_facts(
            types=set(f["types"]),
            filled={c for c in (S.AMOUNT, S.PRICE, S.RATING) if f[f"{c}s"] > 0},
            time_known=f["time_known"],
            items=self.items,
            has_users=self.users is not None,
        )


def _facts(events, ids: pl.DataFrame) -> dict:
    """Headline facts of the cleaned events in one plain aggregation (no distinct
    aggregates: the numbers of users and items come from ``ids``, see
    :func:`_distinct_ids`)."""
    from pyspark.sql import functions as F

    ts = F.col(S.TIMESTAMP)
    row = (
        events.agg(
            F.count(F.lit(1)).alias("events"),
            F.sum(S.AMOUNT).alias("revenue"),
            F.sum((F.col(S.EVENT_TYPE) == S.PURCHASE).cast("long")).alias("purchases"),
            F.min(ts).alias("start"),
            F.max(ts).alias("as_of"),
            F.collect_set(S.EVENT_TYPE).alias("types"),
            F.max((ts != F.date_trunc("day", ts)).cast("int")).alias("time_known"),
            *[
                F.count(c).alias(f"{c}s")
                for c in (S.AMOUNT, S.PRICE, S.RATING, S.ORDER_ID, S.SESSION_ID)
            ],
        )
        .first()
        .asDict()
    )
    row["time_known"] = bool(row["time_known"])
    row["users"] = ids.filter(~pl.col("is_item") & pl.col("id").is_not_null()).height
    row["items"] = ids.filter(pl.col("is_item") & pl.col("id").is_not_null()).height
    # Spark hands back naive datetimes in the session time zone (UTC)
    from datetime import UTC

    for k in ("start", "as_of"):
        row[k] = row[k].replace(tzinfo=UTC) if row[k] is not None else None
    return row


def load_dataset_spark(
    spark,
    events: str,
    users: str | None = None,
    items: str | None = None,
    *,
    events_map: dict[str, str] | None = None,
    users_map: dict[str, str] | None = None,
    items_map: dict[str, str] | None = None,
) -> SparkDataset:
    """Read and clean an event log on Spark; the optional users and items tables (one row
    per user / item) are read by the polars ingest on the driver, as
    :func:`profiling.data.dataset.load_dataset` does, and filled with attributes from the log."""
    sdf = read_events(spark, events)
    ev = clean_events_spark(sdf, events, events_map)
    parts = [("events", events, ev.report.mapping)]
    tables: dict[str, tuple[pl.DataFrame, ingest.CleaningReport] | None] = {}
    for table, path, overrides, cleaner in (
        ("users", users, users_map, ingest.clean_users),
        ("items", items, items_map, ingest.clean_items),
    ):
        if path is None:
            tables[table] = None
            continue
        raw = ingest.read_table(path)
        mapping = ingest.infer_roles(raw, table, overrides)
        res = cleaner(raw, mapping)
        tables[table] = (res.frame, res.report)
        parts.append((table, raw.digest, mapping.to_dict()))
    users_df = tables["users"][0] if tables["users"] else None
    items_df = tables["items"][0] if tables["items"] else None
    items_df = merge_attributes(items_df, ev.item_attributes, S.ITEM_ID)
    users_df = merge_attributes(users_df, ev.user_attributes, S.USER_ID)
    ids = _distinct_ids(ev.frame)
    facts = _facts(ev.frame, ids)
    joins = _spark_joins(ids, users_df if users else None, items_df if items else None)
    report = DatasetReport(
        ev.report,
        tables["users"][1] if tables["users"] else None,
        tables["items"][1] if tables["items"] else None,
        joins,
    )
    return SparkDataset(ev.frame, users_df, items_df, report, fingerprint(parts), events, facts)


def _distinct_ids(events) -> pl.DataFrame:
    """The distinct user ids and item ids of the events in one Spark job, collected: one
    row per id with ``id`` and ``is_item``."""
    from pyspark.sql import functions as F

    both = events.select(F.col(S.USER_ID).alias("id"), F.lit(False).alias("is_item")).unionByName(
        events.select(F.col(S.ITEM_ID).alias("id"), F.lit(True).alias("is_item"))
    )
    return pl.from_arrow(both.distinct().toArrow())


def _spark_joins(ids: pl.DataFrame, users: pl.DataFrame | None, items: pl.DataFrame | None):
    """Join counts (see :func:`profiling.data.dataset.compute_joins`) from the distinct user and
    item ids (:func:`_distinct_ids`)."""
    frame = pl.concat(
        [
            ids.filter(~pl.col("is_item")).select(
                pl.col("id").alias(S.USER_ID), pl.lit(None, pl.String).alias(S.ITEM_ID)
            ),
            ids.filter(pl.col("is_item")).select(
                pl.lit(None, pl.String).alias(S.USER_ID), pl.col("id").alias(S.ITEM_ID)
            ),
        ],
    )
    joins = compute_joins(frame.filter(pl.col(S.USER_ID).is_not_null()), users, None)
    item_joins = compute_joins(
        frame.filter(pl.col(S.ITEM_ID).is_not_null()).with_columns(pl.lit("x").alias(S.USER_ID)),
        None,
        items,
    )
    joins.event_items = item_joins.event_items
    joins.items_matched = item_joins.items_matched
    joins.items_without_events = item_joins.items_without_events
    return joins


def _reads_cache(sdf) -> bool:
    """Whether ``sdf``'s plan reads a persisted DataFrame (an in-memory relation)."""
    try:
        return "InMemoryRelation" in sdf._jdf.queryExecution().withCachedData().toString()
    except Exception:  # pragma: no cover - a Spark without that plan API: persist anyway  # noqa: BLE001 - Py4J raises plain Exception subclasses for any JVM failure
        return False


# dtypes the polars engine gives the aggregates whose Spark type differs
_POLARS_DTYPES = {
    "sessions": pl.Int32,
    "preferred_hour": pl.Int8,
    "units_bought": pl.Int64,
}


def build_profiles_spark(
    dataset: SparkDataset, as_of: datetime | str | None = None
) -> pl.DataFrame:
    """One row per user, the same frame as :func:`profiling.profiles.features.build_profiles` (same
    columns and types), with every event-level aggregation run on Spark."""
    from pyspark.sql import functions as F

    when = profile_date(dataset, as_of)
    cat = dataset.catalog()
    spark = dataset.events.sparkSession
    e = dataset.events.filter(F.col(S.TIMESTAMP) <= F.lit(when))
    if "category affinity" in cat.computed or "brand affinity" in cat.computed:
        keep = [c for c in (S.CATEGORY, S.BRAND) if has_values(dataset.items, c)]
        catalog = dataset.items.select(S.ITEM_ID, *keep)
        e = e.join(F.broadcast(spark.createDataFrame(catalog.to_arrow())), on=S.ITEM_ID, how="left")
    # the events of load_dataset_spark are a view of its cache: each plan's branches
    # (activity, purchases, preferred hour, ...) read it; another copy would only cost memory
    cached = _reads_cache(e)
    if not cached:
        e = e.persist()
    try:
        plans = aggregation_plans(
            nw.from_native(e),
            when,
            cat,
            use_orders=dataset.facts[f"{S.ORDER_ID}s"] > 0,
            use_sessions=dataset.facts[f"{S.SESSION_ID}s"] > 0,
        )
        collected = [p.collect(backend="polars").to_native() for p in plans]
    finally:
        if not cached:
            e.unpersist()
    collected[0] = collected[0].with_columns(
        pl.col(c).cast(t) for c, t in _POLARS_DTYPES.items() if c in collected[0].columns
    )
    return finish_profiles(collected, when, cat, dataset.users)
