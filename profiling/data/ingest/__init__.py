"""Reading event, user and item files into polars and cleaning them into the canonical schema.

The path of a file through this package, one module per step:

1. :mod:`~profiling.data.ingest.reading` (with :mod:`~profiling.data.ingest.sniffing` for text files):
   :func:`read_table` sniffs the format (CSV/TSV/other delimiters or runs of whitespace,
   Parquet, JSON lines, Excel), the encoding and the header, and returns a lazy frame of the
   raw columns plus a :class:`ReadInfo` saying what it found.
   Before any of it, :mod:`~profiling.data.ingest.limits` checks the file against the size
   limits (bytes, decompressed bytes, rows, columns, spreadsheet cells) from its metadata or
   while streaming it.
2. :mod:`~profiling.data.ingest.roles`: :func:`infer_roles` maps raw columns onto canonical roles
   from their names and, where names say nothing, from their type and content; the user can
   override any role.
3. :mod:`~profiling.data.ingest.values`: how raw values (timestamps, ids, numbers, event names)
   are parsed, as polars expressions.
4. :mod:`~profiling.data.ingest.events` / :mod:`~profiling.data.ingest.attributes`:
   :func:`clean_events` / :func:`clean_users` / :func:`clean_items` parse and clean the
   table and return the canonical frame with a :class:`CleaningReport`
   (:mod:`~profiling.data.ingest.report`) that counts every row dropped or repaired, for every
   reason, with example rows. Nothing is lost silently.

Files that cannot be used at all raise :class:`~profiling.errors.DataValidationError` naming
the file, the column, what was expected and what was found.
"""

from profiling.data.ingest.attributes import clean_items, clean_users
from profiling.data.ingest.events import CleanResult, clean_events
from profiling.data.ingest.limits import Limits
from profiling.data.ingest.reading import read_table
from profiling.data.ingest.report import (
    BAD_DATE,
    BAD_NUMBER,
    BAD_RATING,
    BAD_TIMESTAMP,
    BLANK_ROW,
    DUP_ID,
    DUPLICATE,
    MISSING_EVENT,
    MISSING_RATING,
    MISSING_TIMESTAMP,
    MISSING_USER,
    NEGATIVE_PRICE,
    POSSIBLE_DUP,
    QTY_DEFAULT,
    QTY_ZERO,
    REFUND,
    UNKNOWN_EVENT,
    ZERO_PRICE,
    CleaningReport,
    ReasonCount,
)
from profiling.data.ingest.roles import ColumnMapping, infer_roles, parse_overrides, reason_text
from profiling.data.ingest.sniffing import sniff_delimiter
from profiling.data.ingest.source import (
    RawTable,
    ReadInfo,
    Source,
    discard,
    file_digest,
    materialize,
)
from profiling.data.ingest.timestamps import TimestampParse, parse_timestamp, timestamp_text

__all__ = [
    "BAD_DATE",
    "BAD_NUMBER",
    "BAD_RATING",
    "BAD_TIMESTAMP",
    "BLANK_ROW",
    "DUP_ID",
    "DUPLICATE",
    "MISSING_EVENT",
    "MISSING_RATING",
    "MISSING_TIMESTAMP",
    "MISSING_USER",
    "NEGATIVE_PRICE",
    "POSSIBLE_DUP",
    "QTY_DEFAULT",
    "QTY_ZERO",
    "REFUND",
    "UNKNOWN_EVENT",
    "ZERO_PRICE",
    "CleanResult",
    "CleaningReport",
    "ColumnMapping",
    "Limits",
    "RawTable",
    "ReadInfo",
    "ReasonCount",
    "Source",
    "TimestampParse",
    "clean_events",
    "clean_items",
    "clean_users",
    "discard",
    "file_digest",
    "infer_roles",
    "reason_text",
    "materialize",
    "parse_overrides",
    "parse_timestamp",
    "timestamp_text",
    "read_table",
    "sniff_delimiter",
]
