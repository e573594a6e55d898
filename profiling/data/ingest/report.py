"""The cleaning report: rows read and kept, and every reason rows were dropped or repaired."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from profiling.data.ingest.source import RawTable, ReadInfo
from profiling.vocabulary.i18n import N_


@dataclass
class ReasonCount:
    """Rows dropped or repaired for one reason, with a few example rows."""

    reason: str
    action: str  # "dropped", "repaired" or "kept"
    count: int
    examples: list[dict] = field(default_factory=list)


@dataclass
class CleaningReport:
    """What cleaning did to one table: rows read and kept, and every reason rows changed."""

    source: str
    table: str
    read: ReadInfo | None
    rows_read: int = 0
    rows_kept: int = 0
    kind: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    mapping_reasons: dict[str, str] = field(default_factory=dict)
    timestamp_format: str | None = None
    rating_scale: str | None = None
    reasons: list[ReasonCount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date_only: bool = False
    """events: no timestamp carries a time of day (a date-only log), so hour and
    part-of-day features are skipped rather than computed from midnight."""
    attributes: dict[str, str] = field(default_factory=dict)
    """users / items tables: attribute column -> its kind ("categorical (3 values)",
    "numeric", "ordered bands: 18-24 < 25-34 < 65+ (midpoint in age_mid)", "date")."""

    @property
    def rows_dropped(self) -> int:
        return sum(r.count for r in self.reasons if r.action == "dropped")

    def count(self, reason: str) -> int:
        """Rows counted under ``reason`` (0 when absent)."""
        return sum(r.count for r in self.reasons if r.reason == reason)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["rows_dropped"] = self.rows_dropped
        return out

    def summary_frame(self) -> pl.DataFrame:
        """One row per reason: reason, action, rows, share of rows read."""
        rows = [(r.reason, r.action, r.count) for r in self.reasons]
        df = pl.DataFrame(
            rows, schema={"reason": pl.String, "action": pl.String, "rows": pl.Int64}, orient="row"
        )
        return df.with_columns((pl.col("rows") / max(self.rows_read, 1)).alias("share_of_rows"))


# Reasons, worded for the user; the action says what happened to the rows. They are msgids
# (also the keys of the report): translated where they are shown.
BLANK_ROW = N_("blank row")
MISSING_USER = N_("missing user id")
MISSING_TIMESTAMP = N_("missing timestamp")
BAD_TIMESTAMP = N_("unparseable timestamp")
DUPLICATE = N_("exact duplicate row")
NEGATIVE_PRICE = N_("negative price or amount on a purchase")
MISSING_RATING = N_("missing or unparseable rating in a rating log")
UNKNOWN_EVENT = N_("unknown event type (kept as 'other')")
MISSING_EVENT = N_("missing event type (kept as 'other')")
REFUND = N_("refund: negative quantity or cancellation invoice (kept as 'refund')")
ZERO_PRICE = N_("zero price on a purchase (kept, no revenue)")
QTY_DEFAULT = N_("missing quantity on a purchase (set to 1)")
QTY_ZERO = N_("zero quantity on a purchase (kept, no revenue)")
BAD_RATING = N_("unparseable rating (set to empty)")
POSSIBLE_DUP = N_(
    "identical rows kept: no time of day and no order id, so they may be separate purchases"
)
DUP_ID = N_("duplicate id (first row kept)")
BAD_NUMBER = N_("unparseable number (set to empty)")
BAD_DATE = N_("unparseable date (set to empty)")


def example_rows(
    raw: RawTable, rows_by_reason: dict[str, list[int]], offset: int
) -> dict[str, list[dict]]:
    wanted = sorted({i for rows in rows_by_reason.values() for i in rows})
    if not wanted:
        return {}
    found = raw.frame.with_row_index("__row").filter(pl.col("__row").is_in(wanted)).collect()
    lookup = {}
    for rec in found.iter_rows(named=True):
        idx = rec.pop("__row")
        lookup[idx] = {"line": idx + offset, **{k: _jsonable(v) for k, v in rec.items()}}
    return {r: [lookup[i] for i in rows if i in lookup] for r, rows in rows_by_reason.items()}


def _jsonable(v):
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)
