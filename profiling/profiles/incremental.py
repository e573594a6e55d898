"""Live profiles: per-user state that merges, so that new events touch only their users.

:func:`state_from_events` condenses events into a :class:`LiveState` (polars frames, one grain
each, see the class); :func:`merge_events` folds new events into the rows of the users they
touch; :func:`profiles_from_state` turns the state into the same profile frame that
:func:`profiling.profiles.features.build_profiles` computes from every event, through the
same finishing step (:func:`profiling.profiles.features.finish_profiles`).

What merges and what does not:

- counts, sums, first/last timestamps, per-type, per-hour, per-category, per-brand and
  per-(category, price) counts add up or take the min/max;
- ratings keep (count, mean, sum of squared deviations), merged with Chan's formula;
- distinct active days, distinct purchase days and distinct orders are sets: the state keeps
  the (user, day) and (user, order) rows, so a new event adds to its user's set only;
- sessions keep the user's tail (last timestamp, last session id): events after the tail
  extend the count; a *late* event (at or before the user's last event) can split or join
  sessions anywhere in the history, so that user's sessions are recounted from their own
  events (``history``), never the whole log;
- events in the last 30 days and the 30 days before depend on the profile date for everyone:
  they are recounted from the log's recent window (the last 60 days) only;
- category medians of price (for ``price_level``), the top categories of the pivot, tags,
  RFM scores and cluster assignment are global by nature and recomputed from the state.

Everything here is polars (the state is engine-specific bookkeeping, not a feature plan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from profiling.data.dataset import time_of_day_known
from profiling.errors import ProfilingError
from profiling.profiles.features import (
    COUNTED_TYPES,
    PARTS_OF_DAY,
    catalog_from_facts,
    finish_profiles,
    has_values,
)
from profiling.vocabulary import schema as S

HOURS = range(24)
SESSION_GAP = timedelta(minutes=S.SESSION_GAP_MINUTES + 1)
History = Callable[[list[str]], pl.DataFrame]
"""``history(user_ids)`` -> the earlier events of those users (at least user_id, timestamp
and session_id when the log has session ids)."""


class NeedsRebuild(ProfilingError):
    """The new events change a definition for every user (session ids appear for the first
    time, or the item catalog changed): the state must be rebuilt from all events."""


@dataclass
class Facts:
    """What the whole log has, merged by union: event types, filled value columns, whether
    any timestamp has a time of day, order ids and session ids."""

    types: set[str] = field(default_factory=set)
    filled: set[str] = field(default_factory=set)
    time_known: bool = False
    use_orders: bool = False
    use_sessions: bool = False

    def to_dict(self) -> dict:
        return {
            "types": sorted(self.types),
            "filled": sorted(self.filled),
            "time_known": self.time_known,
            "use_orders": self.use_orders,
            "use_sessions": self.use_sessions,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Facts:
        return cls(
            set(d["types"]), set(d["filled"]), d["time_known"], d["use_orders"], d["use_sessions"]
        )

    def union(self, other: Facts) -> Facts:
        return Facts(
            self.types | other.types,
            self.filled | other.filled,
            self.time_known or other.time_known,
            self.use_orders or other.use_orders,
            self.use_sessions or other.use_sessions,
        )


@dataclass
class LiveState:
    """Mergeable per-user state of an event log.

    - ``users``: one row per user: counts, sums, first/last timestamps, sessions and the
      session tail, purchase and rating summaries, 24 hour counts, and the set sizes
      (active_days, purchase_days, frequency) and favourite brand derived from the tables
      below;
    - ``days``: one row per (user_id, day): n_buy (purchases that day);
    - ``orders``: one row per (user_id, order_key) of purchases (order id, else the day);
    - ``cats``: one row per (user_id, category): cat_n, cat_spend, buy_price_sum, buy_price_n
      (None without an item catalog with categories);
    - ``brands``: one row per (user_id, brand): n (None without brands);
    - ``prices``: one row per (category, price): n, for the category medians (global);
    - ``facts``: see :class:`Facts`.

    A state returned by :func:`merge_events` (a delta) holds the touched users' rows of
    ``users`` and, of the other per-user tables, only the rows whose key (:data:`KEYS`) the
    new events changed or added (``prices`` and ``facts`` whole): its size follows the
    batch, not the history. :meth:`updated` applies it to the full state.
    """

    users: pl.DataFrame
    days: pl.DataFrame
    orders: pl.DataFrame
    cats: pl.DataFrame | None
    brands: pl.DataFrame | None
    prices: pl.DataFrame | None
    facts: Facts

    PER_USER = ("users", "days", "orders", "cats", "brands")

    def touched(self) -> pl.DataFrame:
        """The users this state has rows for: one column, user_id."""
        return self.users.select(S.USER_ID)

    def updated(self, delta: LiveState) -> LiveState:
        """This (full) state with its rows at the keys of ``delta``'s rows (:data:`KEYS`)
        replaced by ``delta``'s, and ``delta``'s new keys added."""
        out = {}
        for name in self.PER_USER:
            old, new = getattr(self, name), getattr(delta, name)
            if old is None or new is None:
                out[name] = new if old is None else old
                continue
            by = list(KEYS[name])
            kept = old.join(new.select(by), on=by, how="anti")
            out[name] = pl.concat([kept, new.select(old.columns)], how="vertical_relaxed")
        return LiveState(**out, prices=delta.prices, facts=delta.facts)


KEYS = {
    "users": (S.USER_ID,),
    "days": (S.USER_ID, "_day"),
    "orders": (S.USER_ID, "_order"),
    "cats": (S.USER_ID, S.CATEGORY),
    "brands": (S.USER_ID, S.BRAND),
}
"""The key of each per-user table of a :class:`LiveState`: a delta replaces the rows at its
keys (one row per key in every table)."""


# ---- from events -------------------------------------------------------------------------
def catalog_columns(items: pl.DataFrame | None) -> list[str]:
    """The item catalog columns the profiles use (category, brand) that have any value."""
    return [c for c in (S.CATEGORY, S.BRAND) if has_values(items, c)]


def facts_of(events: pl.DataFrame) -> Facts:
    return Facts(
        types=set(events[S.EVENT_TYPE].unique().drop_nulls().to_list()),
        filled={c for c in (S.AMOUNT, S.PRICE, S.RATING) if has_values(events, c)},
        time_known=time_of_day_known(events) if events.height else False,
        use_orders=has_values(events, S.ORDER_ID),
        use_sessions=has_values(events, S.SESSION_ID),
    )


def _prepared(events: pl.DataFrame, items: pl.DataFrame | None) -> pl.DataFrame:
    """Events with every column the state needs (missing optional ones as nulls), the
    catalog's category and brand, and helper columns."""
    optional = {
        S.RATING: pl.Float64,
        S.ORDER_ID: pl.String,
        S.SESSION_ID: pl.String,
        S.PRICE: pl.Float64,
        S.AMOUNT: pl.Float64,
        S.QUANTITY: pl.Int64,
        S.ITEM_ID: pl.String,
    }
    e = events.with_columns(
        pl.lit(None, t).alias(c) for c, t in optional.items() if c not in events.columns
    )
    keep = catalog_columns(items)
    if keep:
        catalog = items.select(S.ITEM_ID, *[pl.col(c).cast(pl.String) for c in keep])
        e = e.join(catalog, on=S.ITEM_ID, how="left")
    ts, et = pl.col(S.TIMESTAMP), pl.col(S.EVENT_TYPE)
    hour = ts.dt.hour()
    day = ts.dt.truncate("1d")
    return e.with_columns(
        hour.alias("_hour"),
        day.alias("_day"),
        (ts.dt.weekday() >= 6).alias("_weekend"),
        (et == S.PURCHASE).alias("_buy"),
        pl.when(et == S.PURCHASE).then(pl.col(S.AMOUNT)).otherwise(0.0).alias("_gross"),
        pl.when(et == S.REFUND).then(pl.col(S.AMOUNT)).otherwise(0.0).alias("_refunded"),
        # the rebuild's order key: the order id, else the purchase day
        pl.when(pl.col(S.ORDER_ID).is_null())
        .then(day.dt.to_string("%Y-%m-%d"))
        .otherwise(pl.col(S.ORDER_ID).cast(pl.String))
        .alias("_order"),
    )


def batch_keys(events: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The keys canonical ``events`` count in the ``days`` and ``orders`` tables (see
    :data:`KEYS`), one row per key: of those two tables a merge reads only these rows."""
    e = _prepared(events, None)
    return {
        "days": e.select(KEYS["days"]).unique(),
        "orders": e.filter(pl.col("_buy")).select(KEYS["orders"]).unique(),
    }


def _session_chunks(e: pl.DataFrame, use_sessions: bool) -> pl.DataFrame:
    """One row per user of ``e`` alone: sessions (the first event opens one), first and last
    timestamp, first and last session id in time order."""
    s = e.select(S.USER_ID, S.TIMESTAMP, S.SESSION_ID).sort(
        S.USER_ID, S.TIMESTAMP, maintain_order=True
    )
    if use_sessions:
        new = pl.col(S.SESSION_ID) != pl.col(S.SESSION_ID).shift(1).over(S.USER_ID)
    else:
        new = pl.col(S.TIMESTAMP) >= (pl.col(S.TIMESTAMP).shift(1).over(S.USER_ID) + SESSION_GAP)
    return (
        s.with_columns(new.fill_null(True).cast(pl.Int64).alias("_new"))
        .group_by(S.USER_ID)
        .agg(
            pl.col("_new").sum().alias("sessions"),
            pl.col(S.SESSION_ID).first().alias("_head_session"),
            pl.col(S.SESSION_ID).last().alias("tail_session"),
        )
    )


def _user_rows(e: pl.DataFrame, use_sessions: bool) -> pl.DataFrame:
    """The additive per-user summary of prepared events ``e`` (no derived set sizes)."""
    buy = pl.col("_buy")
    r = pl.col(S.RATING)
    aggs = [
        pl.len().cast(pl.Int64).alias("n_events"),
        pl.col(S.TIMESTAMP).min().alias("first_seen"),
        pl.col(S.TIMESTAMP).max().alias("last_seen"),
        pl.col("_gross").sum().alias("gross_spend"),
        pl.col("_refunded").sum().alias("refunded"),
        pl.col("_weekend").cast(pl.Int64).sum().alias("_n_weekend"),
        *[
            pl.col("_hour").is_between(lo, hi, closed="left").cast(pl.Int64).sum().alias(f"_n_{p}")
            for p, (lo, hi) in PARTS_OF_DAY.items()
        ],
        *[(pl.col(S.EVENT_TYPE) == t).cast(pl.Int64).sum().alias(f"n_{t}") for t in COUNTED_TYPES],
        buy.cast(pl.Int64).sum().alias("n_buy"),
        pl.col(S.TIMESTAMP).filter(buy).max().alias("last_purchase"),
        pl.col(S.PRICE).filter(buy).sum().alias("price_sum"),
        pl.col(S.PRICE).filter(buy).count().cast(pl.Int64).alias("price_n"),
        pl.col(S.QUANTITY).filter(buy).sum().cast(pl.Int64).alias("units"),
        r.count().cast(pl.Int64).alias("rating_n"),
        r.mean().alias("rating_avg"),
        (r - r.mean()).pow(2).sum().alias("rating_m2"),
        *[(pl.col("_hour") == h).cast(pl.Int64).sum().alias(f"_h{h}") for h in HOURS],
    ]
    rows = e.group_by(S.USER_ID).agg(aggs)
    return rows.join(_session_chunks(e, use_sessions), on=S.USER_ID, how="left")


def _tables(e: pl.DataFrame, items: pl.DataFrame | None) -> dict[str, pl.DataFrame | None]:
    """days, orders, cats, brands and prices of prepared events ``e``."""
    buy = pl.col("_buy")
    days = e.group_by(S.USER_ID, "_day").agg(buy.cast(pl.Int64).sum().alias("n_buy"))
    orders = e.filter(buy).select(S.USER_ID, "_order").unique()
    cats = brands = prices = None
    cols = catalog_columns(items)
    if S.CATEGORY in cols:
        with_cat = e.filter(pl.col(S.CATEGORY).is_not_null())
        paid = buy & pl.col(S.PRICE).is_not_null()
        cats = with_cat.group_by(S.USER_ID, S.CATEGORY).agg(
            pl.len().cast(pl.Int64).alias("cat_n"),
            pl.col("_gross").sum().alias("cat_spend"),
            pl.col(S.PRICE).filter(paid).sum().alias("buy_price_sum"),
            pl.col(S.PRICE).filter(paid).count().cast(pl.Int64).alias("buy_price_n"),
        )
        prices = (
            with_cat.filter(pl.col(S.PRICE).is_not_null())
            .group_by(S.CATEGORY, S.PRICE)
            .agg(pl.len().cast(pl.Int64).alias("n"))
        )
    if S.BRAND in cols:
        brands = (
            e.filter(pl.col(S.BRAND).is_not_null())
            .group_by(S.USER_ID, S.BRAND)
            .agg(pl.len().cast(pl.Int64).alias("n"))
        )
    return {"days": days, "orders": orders, "cats": cats, "brands": brands, "prices": prices}


def state_from_events(events: pl.DataFrame, items: pl.DataFrame | None) -> LiveState:
    """The state of a whole canonical event log (every user) with its item catalog."""
    facts = facts_of(events)
    e = _prepared(events, items)
    users = _user_rows(e, facts.use_sessions).drop("_head_session")
    t = _tables(e, items)
    users = _with_derived(users, t["days"], t["orders"], t["brands"])
    return LiveState(users, t["days"], t["orders"], t["cats"], t["brands"], t["prices"], facts)


def _with_derived(
    users: pl.DataFrame, days: pl.DataFrame, orders: pl.DataFrame, brands: pl.DataFrame | None
) -> pl.DataFrame:
    """``users`` with active_days, purchase_days, frequency (set sizes) and
    favourite_brand, from the users' rows of the set tables."""
    d = days.group_by(S.USER_ID).agg(
        pl.len().cast(pl.Int64).alias("active_days"),
        (pl.col("n_buy") > 0).cast(pl.Int64).sum().alias("purchase_days"),
    )
    o = orders.group_by(S.USER_ID).agg(pl.len().cast(pl.Int64).alias("frequency"))
    out = users.drop(
        [c for c in ("active_days", "purchase_days", "frequency") if c in users.columns]
    )
    out = out.join(d, on=S.USER_ID, how="left").join(o, on=S.USER_ID, how="left")
    return out if brands is None else _with_favourite(out, brands)


# ---- merging -----------------------------------------------------------------------------
_SUMS = (
    "n_events",
    "gross_spend",
    "refunded",
    "_n_weekend",
    *[f"_n_{p}" for p in PARTS_OF_DAY],
    *[f"n_{t}" for t in COUNTED_TYPES],
    "n_buy",
    "price_sum",
    "price_n",
    "units",
    *[f"_h{h}" for h in HOURS],
)


def _merge_user_rows(old: pl.DataFrame, new: pl.DataFrame, use_sessions: bool) -> pl.DataFrame:
    """Old rows (touched users, may lack some) merged with the rows of the new events
    alone. Sessions assume the new events come after the old tail (see merge_events)."""
    j = new.join(old, on=S.USER_ID, how="left", suffix="_old")

    def o(c: str) -> pl.Expr:
        return pl.col(f"{c}_old")

    seen = o("n_events").is_not_null()
    sums = [(pl.col(c).fill_null(0) + o(c).fill_null(0)).alias(c) for c in _SUMS]
    n1, n2 = o("rating_n").fill_null(0), pl.col("rating_n")
    m1, m2 = o("rating_avg").fill_null(0.0), pl.col("rating_avg").fill_null(0.0)
    n = n1 + n2
    delta = m2 - m1
    if use_sessions:
        starts = (
            pl.col("_head_session").is_null()
            | o("tail_session").is_null()
            | (pl.col("_head_session") != o("tail_session"))
        )
    else:
        starts = pl.col("first_seen") >= o("last_seen") + SESSION_GAP
    joined = starts.fill_null(True).cast(pl.Int64)
    merged = j.with_columns(
        *sums,
        pl.min_horizontal("first_seen", o("first_seen")).alias("first_seen"),
        pl.max_horizontal("last_seen", o("last_seen")).alias("last_seen"),
        pl.max_horizontal("last_purchase", o("last_purchase")).alias("last_purchase"),
        n.alias("rating_n"),
        pl.when(n > 0).then((n1 * m1 + n2 * m2) / n).otherwise(None).alias("rating_avg"),
        pl.when(n > 0)
        .then(
            o("rating_m2").fill_null(0.0)
            + pl.col("rating_m2").fill_null(0.0)
            + pl.when((n1 > 0) & (n2 > 0)).then(delta * delta * n1 * n2 / n).otherwise(0.0)
        )
        .otherwise(None)
        .alias("rating_m2"),
        pl.when(seen)
        .then(o("sessions") + pl.col("sessions") - 1 + joined)
        .otherwise(pl.col("sessions"))
        .alias("sessions"),
    )
    return merged.select(old.columns)


def merge_events(
    state: LiveState,
    events: pl.DataFrame,
    items: pl.DataFrame | None,
    history: History,
) -> LiveState:
    """Fold new canonical events (already free of duplicates of earlier ones) into
    ``state``.

    ``state`` must hold at least the rows of the users in ``events`` (other users' rows are
    ignored; of ``days`` and ``orders`` the rows at :func:`batch_keys` suffice) and the
    whole ``prices`` table. Returns a delta: the touched users' rows of ``users``, the
    changed and new rows of the other per-user tables, ``prices`` and ``facts`` whole (see
    :class:`LiveState`; apply it to the full state with :meth:`LiveState.updated`). Users whose new events are not all after their last earlier event get their
    sessions recounted from ``history`` plus the new events.

    Raises NeedsRebuild when the new events bring session ids to a log that had none.
    """
    if events.height == 0:
        empty = {n: getattr(state, n) for n in LiveState.PER_USER}
        return replace(state, **{n: f.clear() for n, f in empty.items() if f is not None})
    facts = state.facts.union(facts_of(events))
    if facts.use_sessions != state.facts.use_sessions and state.users.height:
        raise NeedsRebuild(
            "the new events carry session ids and the earlier ones do not: sessions are "
            "defined by the ids from now on, for every user"
        )
    e = _prepared(events, items)
    keys = e.select(S.USER_ID).unique()

    def mine(frame: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if frame is None else frame.join(keys, on=S.USER_ID, how="semi")

    old_users = mine(state.users)
    chunk = _user_rows(e, facts.use_sessions)
    users = _merge_user_rows(old_users, chunk, facts.use_sessions)
    late = (
        chunk.join(old_users.select(S.USER_ID, "last_seen"), on=S.USER_ID, how="inner")
        .filter(pl.col("first_seen") <= pl.col("last_seen_right"))
        .get_column(S.USER_ID)
        .to_list()
    )
    if late:
        users = _recount_sessions(users, late, e, history, facts.use_sessions)
    t = _tables(e, items)
    by_day = list(KEYS["days"])
    old_days = state.days.join(t["days"].select(by_day), on=by_day, how="semi")
    days = _summed(old_days, t["days"], by_day)
    # the set sizes grow by the keys that are new: no need for a user's other rows
    was = old_days.select(*by_day, pl.col("n_buy").alias("_was"))
    grown = (
        days.join(was, on=by_day, how="left")
        .group_by(S.USER_ID)
        .agg(
            pl.col("_was").is_null().cast(pl.Int64).sum().alias("active_days"),
            ((pl.col("n_buy") > 0) & (pl.col("_was").fill_null(0) == 0))
            .cast(pl.Int64)
            .sum()
            .alias("purchase_days"),
        )
    )
    by_order = list(KEYS["orders"])
    orders = t["orders"].join(state.orders, on=by_order, how="anti")
    grown = grown.join(
        orders.group_by(S.USER_ID).agg(pl.len().cast(pl.Int64).alias("frequency")),
        on=S.USER_ID,
        how="full",
        coalesce=True,
    )
    cats = _summed(state.cats, t["cats"], list(KEYS["cats"]))
    brands = _summed(state.brands, t["brands"], list(KEYS["brands"]))
    prices = state.prices if t["prices"] is None else t["prices"]
    if state.prices is not None and t["prices"] is not None:
        both = pl.concat([state.prices, t["prices"]], how="vertical_relaxed")
        prices = both.group_by(S.CATEGORY, S.PRICE, maintain_order=True).agg(pl.col("n").sum())
    users = _grown(users, grown)
    if brands is not None:
        # the favourite is the argmax over every brand row of the user: the touched users'
        # stored rows with the batch's changed rows in place
        by_brand = list(KEYS["brands"])
        before = mine(state.brands)
        if before is not None:
            before = before.join(brands.select(by_brand), on=by_brand, how="anti")
            brands_now = pl.concat([before, brands.select(before.columns)], how="vertical_relaxed")
        users = _with_favourite(users, brands if before is None else brands_now)
    return LiveState(users, days, orders, cats, brands, prices, facts)


def _summed(
    old: pl.DataFrame | None, new: pl.DataFrame | None, by: list[str]
) -> pl.DataFrame | None:
    """The rows of ``new``'s keys with the values of ``old`` at the same keys added: the
    changed and new rows of an additive table."""
    if new is None or old is None:
        return new
    at = old.join(new.select(by), on=by, how="semi")
    both = pl.concat([at, new.select(old.columns)], how="vertical_relaxed")
    values = [c for c in old.columns if c not in by]
    return both.group_by(by, maintain_order=True).agg(pl.col(values).sum())


def _grown(users: pl.DataFrame, grown: pl.DataFrame) -> pl.DataFrame:
    """``users`` with active_days, purchase_days and frequency increased by ``grown``'s
    (one row per user: the number of new set members); null stays null when nothing grew."""
    sizes = ("active_days", "purchase_days", "frequency")
    j = users.join(grown, on=S.USER_ID, how="left", suffix="_new")
    return j.with_columns(
        pl.coalesce(pl.col(c) + pl.col(f"{c}_new"), pl.col(c), pl.col(f"{c}_new")).alias(c)
        for c in sizes
    ).select(users.columns)


def _with_favourite(users: pl.DataFrame, brands: pl.DataFrame) -> pl.DataFrame:
    """``users`` with favourite_brand from ``brands`` (every brand row of these users): the
    most counted brand, the first by name among ties."""
    top = (
        brands.filter(pl.col("n") == pl.col("n").max().over(S.USER_ID))
        .group_by(S.USER_ID)
        .agg(pl.col(S.BRAND).min().alias("favourite_brand"))
    )
    out = users.drop([c for c in ("favourite_brand",) if c in users.columns])
    return out.join(top, on=S.USER_ID, how="left")


def _recount_sessions(
    users: pl.DataFrame, late: list[str], e: pl.DataFrame, history: History, use_sessions: bool
) -> pl.DataFrame:
    """Sessions and session tail of the ``late`` users, recounted from all their events."""
    cols = [S.USER_ID, S.TIMESTAMP, S.SESSION_ID]
    past = history(late)
    if S.SESSION_ID not in past.columns:
        past = past.with_columns(pl.lit(None, pl.String).alias(S.SESSION_ID))
    mine = e.filter(pl.col(S.USER_ID).is_in(late)).select(cols)
    allev = pl.concat([past.select(cols), mine], how="vertical_relaxed")
    counted = _session_chunks(allev, use_sessions).select(S.USER_ID, "sessions", "tail_session")
    fixed = users.join(counted, on=S.USER_ID, how="left", suffix="_re")
    return fixed.with_columns(
        pl.coalesce("sessions_re", "sessions").alias("sessions"),
        pl.when(pl.col("sessions_re").is_not_null())
        .then(pl.col("tail_session_re"))
        .otherwise(pl.col("tail_session"))
        .alias("tail_session"),
    ).select(users.columns)


# ---- profiles ----------------------------------------------------------------------------
def recent_counts(recent: pl.DataFrame, when: datetime) -> pl.DataFrame:
    """events_last_30d and events_prev_30d per user from the log's recent window (events
    after ``when`` - 60 days; earlier ones are ignored): one row per user in the window."""
    ts = pl.col(S.TIMESTAMP)
    last = ts > when - timedelta(days=30)
    prev = (ts > when - timedelta(days=60)) & (ts <= when - timedelta(days=30))
    return (
        recent.filter(ts <= when)
        .group_by(S.USER_ID)
        .agg(
            last.cast(pl.Int64).sum().alias("events_last_30d"),
            prev.cast(pl.Int64).sum().alias("events_prev_30d"),
        )
    )


def window_start(when: datetime) -> datetime:
    """The first instant of the recent window :func:`recent_counts` needs (exclusive)."""
    return when - timedelta(days=60)


def category_medians(prices: pl.DataFrame) -> pl.DataFrame:
    """The median price per category from (category, price, n) counts: one row per
    category: category, median (the mean of the two middle prices for an even count)."""
    p = prices.filter(pl.col("n") > 0).sort(S.CATEGORY, S.PRICE)
    p = p.with_columns(
        pl.col("n").cum_sum().over(S.CATEGORY).alias("_cum"),
        pl.col("n").sum().over(S.CATEGORY).alias("_tot"),
    )
    lo = (pl.col("_tot") - 1) // 2
    hi = pl.col("_tot") // 2
    return p.group_by(S.CATEGORY).agg(
        (
            (
                pl.col(S.PRICE).filter(pl.col("_cum") > lo).first()
                + pl.col(S.PRICE).filter(pl.col("_cum") > hi).first()
            )
            / 2
        ).alias("median")
    )


def profiles_from_state(
    state: LiveState,
    when: datetime,
    recent: pl.DataFrame,
    items: pl.DataFrame | None,
    users: pl.DataFrame | None,
) -> pl.DataFrame:
    """The profile frame of :func:`profiling.profiles.features.build_profiles` (before tags)
    from a full state as of ``when`` (the latest event: a state holds no event after it),
    with ``recent`` the events (user_id, timestamp) after :func:`window_start`.

    One row per user, sorted by id, the same columns as the rebuild."""
    f = state.facts
    cat = catalog_from_facts(f.types, f.filled, f.time_known, items, users is not None)
    has_cat = "category affinity" in cat.computed
    u = state.users.join(recent_counts(recent, when), on=S.USER_ID, how="left")
    buyer = pl.col("n_buy") > 0
    # the lowest hour with the most events, without building a 24-long list per user (ten
    # times slower at 500,000 users)
    most = pl.max_horizontal([pl.col(f"_h{h}") for h in HOURS])
    preferred = pl.coalesce([pl.when(pl.col(f"_h{h}") == most).then(pl.lit(h)) for h in HOURS])
    cols = [
        S.USER_ID,
        "n_events",
        "first_seen",
        "last_seen",
        "active_days",
        pl.col("sessions").cast(pl.Int32),  # the rebuild sums Int32 flags
        "gross_spend",
        "refunded",
        "_n_weekend",
        pl.col("events_last_30d").fill_null(0),
        pl.col("events_prev_30d").fill_null(0),
        *[f"_n_{p}" for p in PARTS_OF_DAY],
        *[f"n_{t}" for t in COUNTED_TYPES],
        pl.when(buyer).then(pl.col("frequency")).alias("frequency"),
        pl.when(buyer).then(pl.col("purchase_days")).alias("purchase_days"),
        "last_purchase",
        pl.when(pl.col("price_n") > 0)
        .then(pl.col("price_sum") / pl.col("price_n"))
        .alias("avg_unit_price"),
        pl.when(buyer).then(pl.col("units")).alias("units_bought"),
    ]
    if has_cat:
        cols.append("price_level")
        u = u.join(_price_levels(state), on=S.USER_ID, how="left")
    cols.append(preferred.cast(pl.Int8).alias("preferred_hour"))
    if "ratings" in cat.computed:
        n = pl.col("rating_n")
        cols += [
            pl.when(n > 0).then(n).alias("n_ratings"),
            pl.when(n > 0).then(pl.col("rating_avg")).alias("rating_mean"),
            pl.when(n > 1).then((pl.col("rating_m2") / (n - 1)).sqrt()).alias("rating_std"),
        ]
    if "brand affinity" in cat.computed:
        cols.append("favourite_brand")
    agg = u.select(cols)
    collected = [agg]
    if has_cat:
        collected.append(
            state.cats.select(
                S.USER_ID,
                S.CATEGORY,
                pl.col("cat_n").alias("_cat_n"),
                pl.col("cat_spend").alias("_cat_spend"),
            )
        )
    return finish_profiles(collected, when, cat, users)


def _price_levels(state: LiveState) -> pl.DataFrame:
    """price_level per user: the mean over purchases of price / category median, as
    sum over categories of (prices paid / median) over the number of priced purchases."""
    med = category_medians(state.prices)
    c = state.cats.filter(pl.col("buy_price_n") > 0).join(med, on=S.CATEGORY, how="inner")
    return c.group_by(S.USER_ID).agg(
        ((pl.col("buy_price_sum") / pl.col("median")).sum() / pl.col("buy_price_n").sum()).alias(
            "price_level"
        )
    )


# ---- segments without re-clustering ------------------------------------------------------
def segments_to_current_clusters(profiles: pl.DataFrame, previous):
    """RFM segments of ``profiles`` (quantile scores are global: recomputed) and each user's
    cluster as the nearest centroid of ``previous``'s clusters (a
    :class:`profiling.profiles.segments.Segmentation`), in the standardized features
    ``previous`` clustered on; cluster numbers and names are kept. Re-clustering stays an
    explicit step (a new snapshot).

    The centroids are the means, in today's standardization, of the users ``previous``
    put in each cluster. Raises NeedsRebuild when ``previous`` has no clusters or a
    clustering feature is gone."""
    from profiling.profiles.segments import (
        Segmentation,
        describe_features,
        describe_segments,
        empty_score_notes,
        mark_empty_scores,
        prepare_matrix,
        rfm_segments,
    )

    if previous.k == 0 or "recency_days" not in profiles.columns:
        raise NeedsRebuild("the previous snapshot has no clusters to assign users to")
    if any(f not in profiles.columns for f in previous.features):
        raise NeedsRebuild("a clustering feature of the previous snapshot is gone")
    x = prepare_matrix(profiles, previous.features)
    old = profiles.select(S.USER_ID).join(
        previous.assignments.select(S.USER_ID, "cluster"), on=S.USER_ID, how="left"
    )["cluster"]
    labels_old = old.to_numpy()
    known = ~old.is_null().to_numpy()
    ids = sorted(set(old.drop_nulls().to_list()))
    centroids = np.stack([x[known & (labels_old == c)].mean(axis=0) for c in ids])
    # |x - c|^2 up to the per-user constant |x|^2: no users x clusters x features array
    dist = (centroids**2).sum(axis=1)[None, :] - 2.0 * (x @ centroids.T)
    labels = np.asarray(ids)[dist.argmin(axis=1)]
    names = dict(
        previous.assignments.select("cluster", "cluster_name").unique("cluster").iter_rows()
    )
    rfm = rfm_segments(profiles)
    with_seg = profiles.join(rfm, on=S.USER_ID, how="left").with_columns(
        pl.Series("cluster", labels).cast(pl.String)
    )
    describe_with = describe_features(profiles, previous.features)
    cluster_desc = describe_segments(with_seg, "cluster", describe_with)
    for d in cluster_desc:
        d.name = names.get(int(d.segment), d.name)
    rfm_desc = describe_segments(with_seg, "rfm_segment", describe_with, names=False)
    assignments = with_seg.select(
        S.USER_ID,
        "r_score",
        "f_score",
        "m_score",
        "rfm_cell",
        "rfm_segment",
        pl.col("cluster").cast(pl.Int32),
        pl.col("cluster")
        .cast(pl.Int32)
        .replace_strict(names, return_dtype=pl.String, default=None)
        .alias("cluster_name"),
    )
    mark_empty_scores(rfm_desc, assignments)
    return Segmentation(
        assignments,
        rfm_desc,
        cluster_desc,
        previous.k_curve,
        previous.k,
        previous.method,
        previous.features,
        empty_score_notes(assignments),
    )
