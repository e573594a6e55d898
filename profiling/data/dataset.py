"""The Dataset: cleaned events plus optional users and items, their reports and a fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from profiling.data import ingest
from profiling.errors import DataValidationError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

NO_MATCHING_IDS = {
    S.USER_ID: N_(
        "none of the {total} users in the event log has a row in this table; expected user "
        "ids like the event log's, found ids such as {examples}"
    ),
    S.ITEM_ID: N_(
        "none of the {total} items in the event log has a row in this table; expected item "
        "ids like the event log's, found ids such as {examples}"
    ),
}
"""A users or items table whose ids match none of the event log's (by the id column)."""

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_NAME = "Sample store"


def time_of_day_known(events: pl.DataFrame) -> bool:
    """Whether any event timestamp carries a time of day (is not at midnight)."""
    ts = events[S.TIMESTAMP]
    return bool((ts != ts.dt.truncate("1d")).any())


@dataclass
class JoinReport:
    """How many distinct event users / items found a row in the users / items table."""

    event_users: int = 0
    users_matched: int | None = None
    users_without_events: int | None = None
    event_items: int = 0
    items_matched: int | None = None
    items_without_events: int | None = None


@dataclass
class DatasetReport:
    """Cleaning reports of every table and the join counts."""

    events: ingest.CleaningReport
    users: ingest.CleaningReport | None = None
    items: ingest.CleaningReport | None = None
    joins: JoinReport = field(default_factory=JoinReport)

    def tables(self) -> list[ingest.CleaningReport]:
        return [r for r in (self.events, self.users, self.items) if r is not None]

    @property
    def quality(self) -> float:
        """Share of event rows kept (0..1)."""
        return self.events.rows_kept / max(self.events.rows_read, 1)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {
            "events": self.events.to_dict(),
            "users": self.users.to_dict() if self.users else None,
            "items": self.items.to_dict() if self.items else None,
            "joins": asdict(self.joins),
        }


@dataclass(frozen=True)
class Dataset:
    """Cleaned tables of one store.

    Attributes
    ----------
    events : pl.DataFrame
        One row per event, columns :data:`profiling.vocabulary.schema.EVENT_COLUMNS`.
    users : pl.DataFrame or None
        One row per user: user_id, age, gender, region, signup_date, extra attributes.
    items : pl.DataFrame or None
        One row per item: item_id, title, category, brand, price, description, tags, extras.
    report : DatasetReport
    fingerprint : str
        Digest of the full content of every file plus the mappings used.
    name : str
    """

    events: pl.DataFrame
    users: pl.DataFrame | None
    items: pl.DataFrame | None
    report: DatasetReport
    fingerprint: str
    name: str

    def summary(self) -> dict:
        """Headline numbers: users, items, events, revenue, first and last timestamp.

        Computed once per object (a page asks several times per run)."""
        if "_summary" not in self.__dict__:
            # frozen dataclass: store the memo without __setattr__
            self.__dict__["_summary"] = self._compute_summary()
        return dict(self.__dict__["_summary"])

    def _compute_summary(self) -> dict:
        e = self.events
        row = e.select(
            pl.col(S.USER_ID).n_unique().alias("users"),
            pl.col(S.ITEM_ID).drop_nulls().n_unique().alias("items"),
            pl.len().alias("events"),
            pl.col(S.AMOUNT).sum().alias("revenue"),
            (pl.col(S.EVENT_TYPE) == S.PURCHASE).sum().alias("purchases"),
            pl.col(S.TIMESTAMP).min().alias("start"),
            pl.col(S.TIMESTAMP).max().alias("end"),
        ).row(0, named=True)
        if self.items is not None:
            row["items"] = max(row["items"], self.items.height)
        row["has_money"] = bool(e[S.AMOUNT].is_not_null().any())
        return row

    def __getstate__(self) -> dict:
        # the user index is rebuilt on demand rather than carried into a pickle
        return {k: v for k, v in self.__dict__.items() if k != "_user_index"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def user_events(self, user_id: str) -> pl.DataFrame:
        """The events of one user, in the log's order (empty for an unknown id).

        Found through an index of the rows by user built once per object (the rows ordered
        by a 64-bit hash of the user id, 12 bytes per event): a filter over the whole log
        costs a full scan on every call, tenths of a second at 10 million events."""
        index = self.__dict__.get("_user_index")
        if index is None:
            hashes = self.events[S.USER_ID].hash()
            order = hashes.arg_sort()  # polars sorts in parallel (3x numpy's argsort here)
            index = (hashes.gather(order).to_numpy(), order.to_numpy())
            self.__dict__["_user_index"] = index
        hashes, order = index
        target = pl.Series([user_id], dtype=pl.String).hash().to_numpy()[0]
        lo, hi = np.searchsorted(hashes, target, "left"), np.searchsorted(hashes, target, "right")
        rows = self.events[np.sort(order[lo:hi])]
        return rows.filter(pl.col(S.USER_ID) == user_id)  # another id of the same hash: out

    def event_types(self) -> list[str]:
        """The standard event types present in the log, in :data:`schema.EVENT_TYPES` order
        (computed once per object: a scan of the whole log each page run cost about a second
        at 10 million events)."""
        if "_event_types" not in self.__dict__:
            present = set(self.events[S.EVENT_TYPE].unique().to_list())
            self.__dict__["_event_types"] = [t for t in S.EVENT_TYPES if t in present]
        return list(self.__dict__["_event_types"])

    def time_of_day_known(self) -> bool:
        """Whether the log carries times of day (computed once per object); see
        :func:`time_of_day_known`."""
        if "_time_known" not in self.__dict__:
            self.__dict__["_time_known"] = time_of_day_known(self.events)
        return self.__dict__["_time_known"]

    @property
    def as_of(self) -> datetime:
        """The profile date: the latest timestamp in the data (never today)."""
        return self.events[S.TIMESTAMP].max()

    def event_type_counts(self) -> pl.DataFrame:
        """One row per event type: event_type, events."""
        return self.events.group_by(S.EVENT_TYPE).len("events").sort("events", descending=True)

    def activity(self, every: str | None = None) -> pl.DataFrame:
        """Events per period and event type: one row per (period, event_type), events.

        ``every`` is a polars duration ("1d", "1w", "1mo"); by default it is chosen from the
        date range so that a chart has tens to a few hundred points.
        """
        if every is None:
            span = self.events[S.TIMESTAMP].max() - self.events[S.TIMESTAMP].min()
            days = span.days if span is not None else 0
            every = "1d" if days <= 120 else "1w" if days <= 1000 else "1mo"
        return (
            self.events.group_by(
                pl.col(S.TIMESTAMP).dt.truncate(every).alias("period"), S.EVENT_TYPE
            )
            .len("events")
            .sort("period", S.EVENT_TYPE)
        )

    def interactions(self, weights: dict[str, float] | None = None) -> pl.DataFrame:
        """User-item interactions for recommenders: one row per (user_id, item_id) with
        weight, rating (the latest) and timestamp, built by
        :func:`profiling.data.interactions.interactions_from` (the same function that builds a
        split's train interactions)."""
        from profiling.data.interactions import interactions_from

        return interactions_from(self.events, weights)


def merge_attributes(
    table: pl.DataFrame | None, derived: pl.DataFrame | None, key: str
) -> pl.DataFrame | None:
    """Fill a table's gaps with attributes found in the event log; the table wins."""
    if derived is None or derived.height == 0:
        return table
    if table is None:
        return derived
    joined = table.join(derived, on=key, how="full", coalesce=True, suffix="__log")
    fills = [
        pl.coalesce(pl.col(c), pl.col(f"{c}__log").cast(joined.schema[c])).alias(c)
        for c in derived.columns
        if c != key and f"{c}__log" in joined.columns
    ]
    return joined.with_columns(fills).select(table.columns)


def compute_joins(
    events: pl.DataFrame, users: pl.DataFrame | None, items: pl.DataFrame | None
) -> JoinReport:
    """How many distinct event users and items have a row in the users and items tables
    (the ``*_matched`` counts stay None for a table that was not given)."""
    joins = JoinReport()
    event_users = events.select(pl.col(S.USER_ID).unique())
    joins.event_users = event_users.height
    if users is not None:
        joins.users_matched = event_users.join(users.select(S.USER_ID), on=S.USER_ID).height
        joins.users_without_events = users.height - joins.users_matched
    event_items = events.select(pl.col(S.ITEM_ID).drop_nulls().unique())
    joins.event_items = event_items.height
    if items is not None:
        joins.items_matched = event_items.join(items.select(S.ITEM_ID), on=S.ITEM_ID).height
        joins.items_without_events = items.height - joins.items_matched
    return joins


def fingerprint(parts: list[tuple[str, str, dict]]) -> str:
    """Digest of (role, file digest, mapping) triples."""
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps(parts, sort_keys=True).encode())
    return h.hexdigest()


def load_dataset(
    events: ingest.Source,
    users: ingest.Source | None = None,
    items: ingest.Source | None = None,
    *,
    events_map: dict[str, str] | None = None,
    users_map: dict[str, str] | None = None,
    items_map: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    name: str | None = None,
) -> Dataset:
    """Read, map and clean an event log and optional users and items tables.

    Parameters
    ----------
    events, users, items : path, bytes or binary file
        The tables. Bytes need a display name in ``names`` (role -> file name).
    events_map, users_map, items_map : dict, optional
        Role overrides, raw column -> canonical role (or "ignore").
    name : str, optional
        Display name of the dataset (defaults to the events file name).

    Raises
    ------
    DataValidationError
        Any table cannot be used; the message names the file and column.
    """
    names = names or {}
    cleaners = {
        "events": ingest.clean_events,
        "users": ingest.clean_users,
        "items": ingest.clean_items,
    }
    results: dict[str, ingest.CleanResult] = {}
    parts = []
    for table, source, overrides in (
        ("events", events, events_map),
        ("users", users, users_map),
        ("items", items, items_map),
    ):
        if source is None:
            continue
        raw = ingest.read_table(source, name=names.get(table))
        mapping = ingest.infer_roles(raw, table, overrides)
        results[table] = cleaners[table](raw, mapping)
        parts.append((table, raw.digest, mapping.to_dict()))
        if table == "events":
            raw_events = raw
    ev = results["events"]
    users_df, users_report = (
        (results["users"].frame, results["users"].report) if users is not None else (None, None)
    )
    items_df, items_report = (
        (results["items"].frame, results["items"].report) if items is not None else (None, None)
    )

    items_df = merge_attributes(items_df, ev.item_attributes, S.ITEM_ID)
    users_df = merge_attributes(users_df, ev.user_attributes, S.USER_ID)

    joins = compute_joins(
        ev.frame,
        users_df if users_report is not None else None,
        items_df if items_report is not None else None,
    )
    for rep, table, matched, total, key in (
        (users_report, users_df, joins.users_matched, joins.event_users, S.USER_ID),
        (items_report, items_df, joins.items_matched, joins.event_items, S.ITEM_ID),
    ):
        if rep is not None and total and matched == 0:
            raise DataValidationError(
                rep.source,
                _(NO_MATCHING_IDS[key]).format(total=total, examples=table[key].head(3).to_list()),
                column=next((c for c, r in rep.mapping.items() if r == key), None),
            )

    report = DatasetReport(ev.report, users_report, items_report, joins)
    return Dataset(
        events=ev.frame,
        users=users_df,
        items=items_df,
        report=report,
        fingerprint=fingerprint(parts),
        name=name or raw_events.source,
    )


def sample_paths(directory: Path | str = SAMPLE_DIR) -> dict[str, Path]:
    """Paths of the shipped sample store's events, users and items files."""
    d = Path(directory)
    return {"events": d / "events.parquet", "users": d / "users.csv", "items": d / "items.csv"}


def load_sample(directory: Path | str = SAMPLE_DIR) -> Dataset:
    """The shipped sample store as a Dataset."""
    p = sample_paths(directory)
    return load_dataset(p["events"], p["users"], p["items"], name=SAMPLE_NAME)
