"""Per-user profiles: RFM, activity, funnel, affinity, price, time, ratings, momentum, tags.

Aggregations are narwhals expressions over a lazy frame, so that polars runs them here and the
same code can run on another narwhals backend (PySpark) later; the few steps narwhals cannot
express lazily (the category pivot, population quantiles for tags) are small, named,
polars-only steps on per-user frames. The event frame is collected once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import narwhals as nw
import polars as pl

from profiling.data.dataset import Dataset, time_of_day_known
from profiling.vocabulary import glossary as G
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_

PARTS_OF_DAY: dict[str, tuple[int, int]] = {
    "night": (0, 6),
    "morning": (6, 12),
    "afternoon": (12, 18),
    "evening": (18, 24),
}
COUNTED_TYPES = (S.VIEW, S.CLICK, S.CART, S.WISHLIST, S.PURCHASE, S.REFUND, S.RATE, S.SEARCH)
AGE_BANDS = (
    (0, 18, "<18"),
    (18, 25, "18-24"),
    (25, 35, "25-34"),
    (35, 45, "35-44"),
    (45, 55, "45-54"),
    (55, 65, "55-64"),
    (65, 200, "65+"),
)
MAX_CATEGORY_COLUMNS = 24
CATEGORY_PREFIX = G.CATEGORY_PREFIX
SPEND_PREFIX = G.SPEND_PREFIX


@dataclass
class FeatureCatalog:
    """Which feature groups a dataset supports: computed ones and skipped ones with why."""

    computed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"computed": list(self.computed), "skipped": dict(self.skipped)}


def has_values(frame: pl.DataFrame | None, column: str) -> bool:
    return (
        frame is not None and column in frame.columns and frame[column].null_count() < frame.height
    )


def feature_catalog(dataset: Dataset) -> FeatureCatalog:
    """The feature groups :func:`build_profiles` computes for ``dataset``, and those it
    skips with the reason (a missing column or table)."""
    e = dataset.events
    return catalog_from_facts(
        types=set(e[S.EVENT_TYPE].unique().to_list()),
        filled={c for c in (S.AMOUNT, S.PRICE, S.RATING) if has_values(e, c)},
        time_known=time_of_day_known(e),
        items=dataset.items,
        has_users=dataset.users is not None,
    )


def catalog_from_facts(
    types: set[str],
    filled: set[str],
    time_known: bool,
    items: pl.DataFrame | None,
    has_users: bool,
) -> FeatureCatalog:
    """The feature catalog from facts about the events (the event types present, the
    columns among amount/price/rating with any value, whether any timestamp has a time of
    day), the item catalog and whether a users table exists; any engine can compute them."""
    cat = FeatureCatalog()

    def add(name: str, ok: bool, why: str) -> None:
        if ok:
            cat.computed.append(name)
        else:
            cat.skipped[name] = why

    add("activity", True, "")
    add("rfm", S.PURCHASE in types, "no purchase events")
    add("monetary", S.AMOUNT in filled, "no price or amount column")
    add(
        "funnel",
        {S.VIEW, S.PURCHASE} <= types or {S.CART, S.PURCHASE} <= types,
        "needs views or carts and purchases",
    )
    has_cat = has_values(items, S.CATEGORY)
    add("category affinity", has_cat, "no item catalog with a category column")
    add("brand affinity", has_values(items, S.BRAND), "no item catalog with a brand column")
    add("price level", has_cat and S.PRICE in filled, "needs item categories and prices")
    add("refunds", S.REFUND in types, "no refunds in the data")
    add("time of day", time_known, DATE_ONLY_REASON)
    add("sessions", True, "")
    add("ratings", S.RATING in filled, "no rating column")
    add("attributes", has_users, "no users table")
    return cat


DATE_ONLY_REASON = (
    "timestamps carry no time of day (a date-only log): hours and parts of the day are not "
    "computed from midnight; weekday features stay"
)


def profile_date(dataset: Dataset, as_of: datetime | str | None) -> datetime:
    if as_of is None:
        return dataset.as_of
    if isinstance(as_of, str):
        as_of = datetime.fromisoformat(as_of)
    if as_of.tzinfo is None:
        from datetime import UTC

        as_of = as_of.replace(tzinfo=UTC)
    return as_of


def build_profiles(dataset: Dataset, as_of: datetime | str | None = None) -> pl.DataFrame:
    """One row per user with every feature the data supports.

    Parameters
    ----------
    dataset : Dataset
    as_of : datetime or ISO string, optional
        The profile date; events after it are ignored. Defaults to the latest timestamp in
        the data (never today), so a historical dataset is not shown as churned.

    Returns
    -------
    pl.DataFrame
        One row per user who has an event on or before ``as_of``: ``user_id``; activity
        (``n_events``, ``first_seen``, ``last_seen``, ``tenure_days``, ``active_days``,
        ``n_<event type>``, ``sessions``, ``events_per_session``); RFM (``recency_days``
        since the last purchase, ``frequency`` = orders (distinct order ids; a purchase
        without one counts as one order per day), ``purchase_days`` = distinct days with
        a purchase, ``monetary`` = purchases net of refunds, ``avg_order_value`` = monetary /
        orders); funnel (``view_to_cart``, ``cart_to_purchase``, ``view_to_purchase``); affinity
        (``cat_share__<category>``, ``spend_share__<category>``, ``top_category``,
        ``top_category_share``, ``favourite_brand``, ``category_entropy``); price
        (``avg_unit_price``, ``price_level`` = mean price paid / category median,
        ``refund_rate``); time (``share_night|morning|afternoon|evening``,
        ``weekend_share``, ``preferred_hour``); ratings (``n_ratings``, ``rating_mean``,
        ``rating_std``); momentum (``events_last_30d``, ``events_prev_30d``, ``momentum``
        in [-1, 1]); attributes of the users table (``age``, ``age_band``, ``gender``,
        ``region`` ...). Columns whose inputs are missing are absent; see
        :func:`feature_catalog`.
    """
    when = profile_date(dataset, as_of)
    cat = feature_catalog(dataset)
    # polars-only step: categorical grouping keys make every group-by below cheaper
    e = (
        dataset.events.lazy()
        .filter(pl.col(S.TIMESTAMP) <= when)
        .with_columns(pl.col(S.USER_ID).cast(pl.Categorical))
    )
    items = dataset.items
    if "category affinity" in cat.computed or "brand affinity" in cat.computed:
        keep = [c for c in (S.CATEGORY, S.BRAND) if has_values(items, c)]
        catalog = items.lazy().select(S.ITEM_ID, *[pl.col(c).cast(pl.Categorical) for c in keep])
        e = e.join(catalog, on=S.ITEM_ID, how="left")
    plans = aggregation_plans(
        nw.from_native(e),
        when,
        cat,
        use_orders=has_values(dataset.events, S.ORDER_ID),
        use_sessions=has_values(dataset.events, S.SESSION_ID),
    )
    # one collection for both plans, so polars shares the scan of the events
    collected = pl.collect_all([p.to_native() for p in plans])
    return finish_profiles(collected, when, cat, dataset.users)


def aggregation_plans(
    ev: nw.LazyFrame, when: datetime, cat: FeatureCatalog, *, use_orders: bool, use_sessions: bool
) -> list[nw.LazyFrame]:
    """The lazy narwhals plans over canonical events (already cut at ``when``, with the
    item catalog's category and brand joined when the catalog has them), for any narwhals
    backend: the per-user aggregate (one row per user) and, with categories, the long
    (user, category) counts. Collect them and pass them to :func:`finish_profiles`."""
    has_cat = "category affinity" in cat.computed
    ev = _with_helper_columns(ev, when)
    out = _activity(ev, use_sessions)
    frames = [_purchases(ev, use_orders, has_cat), _preferred_hour(ev)]
    if "ratings" in cat.computed:
        frames.append(_ratings(ev))
    if "brand affinity" in cat.computed:
        frames.append(_favourite_brand(ev))
    for f in frames:
        out = out.join(f, on=S.USER_ID, how="left")
    return [out, _category_counts(ev)] if has_cat else [out]


def finish_profiles(
    collected: list[pl.DataFrame], when: datetime, cat: FeatureCatalog, users: pl.DataFrame | None
) -> pl.DataFrame:
    """Profiles from the collected :func:`aggregation_plans` (polars frames): ratios, RFM,
    the category pivot and the users-table attributes; one row per user, sorted by id."""
    profiles = collected[0]
    if "category affinity" in cat.computed:
        profiles = profiles.join(_category_affinity(collected[1]), on=S.USER_ID, how="left")
    profiles = _finish(profiles, when, cat)
    profiles = profiles.with_columns(pl.col(pl.Categorical).cast(pl.String))
    if users is not None:
        profiles = _attach_attributes(profiles, users)
    return profiles.sort(S.USER_ID)


# ---- narwhals steps (lazy, backend-agnostic) --------------------------------------------
def _with_helper_columns(ev: nw.LazyFrame, when: datetime) -> nw.LazyFrame:
    ts = nw.col(S.TIMESTAMP)
    et = nw.col(S.EVENT_TYPE)
    hour = ts.dt.hour()
    helpers = [
        hour.alias("_hour"),
        ts.dt.truncate("1d").alias("_day"),
        # ((d + 6) % 7) + 1 maps Monday..Sunday to 1..7 from polars' 1..7 and from narwhals
        # 2.29's PySpark weekday (Sunday 0); both backends then agree on weekends
        (((ts.dt.weekday() + 6) % 7 + 1) >= 6).alias("_weekend"),
        (ts > when - timedelta(days=30)).alias("_last30"),
        ((ts > when - timedelta(days=60)) & (ts <= when - timedelta(days=30))).alias("_prev30"),
        nw.when(et == S.PURCHASE).then(nw.col(S.AMOUNT)).otherwise(0.0).alias("_gross"),
        nw.when(et == S.REFUND).then(nw.col(S.AMOUNT)).otherwise(0.0).alias("_refunded"),
    ]
    helpers += [
        ((hour >= lo) & (hour < hi)).alias(f"_part_{name}")
        for name, (lo, hi) in PARTS_OF_DAY.items()
    ]
    # boolean flags, cast and summed in the aggregation (cheaper than materialized integers)
    helpers += [(et == t).alias(f"_is_{t}") for t in COUNTED_TYPES]
    return ev.with_columns(helpers)


def _activity(ev: nw.LazyFrame, use_sessions: bool) -> nw.LazyFrame:
    ts = nw.col(S.TIMESTAMP)
    if use_sessions:
        sess = ev.with_columns(
            (
                nw.col(S.SESSION_ID)
                != nw.col(S.SESSION_ID).shift(1).over(S.USER_ID, order_by=S.TIMESTAMP)
            )
            .fill_null(True)
            .cast(nw.Int32)
            .alias("_new_session")
        )
    else:
        # a new session after more than G whole minutes of gap: floor(gap / 1 min) > G <=>
        # ts >= previous ts + (G + 1) min for a time-ordered user; written as an offset so
        # that every backend computes it (Spark has no duration arithmetic in narwhals)
        prev = ts.shift(1).over(S.USER_ID, order_by=S.TIMESTAMP)
        new = ts >= prev.dt.offset_by(f"{S.SESSION_GAP_MINUTES + 1}m")
        sess = ev.with_columns(new.fill_null(True).cast(nw.Int32).alias("_new_session"))
    aggs = [
        nw.len().alias("n_events"),
        ts.min().alias("first_seen"),
        ts.max().alias("last_seen"),
        nw.col("_day").n_unique().alias("active_days"),
        nw.col("_new_session").sum().alias("sessions"),
        nw.col("_gross").sum().alias("gross_spend"),
        nw.col("_refunded").sum().alias("refunded"),
        nw.col("_weekend").cast(nw.Int64).sum().alias("_n_weekend"),
        nw.col("_last30").cast(nw.Int64).sum().alias("events_last_30d"),
        nw.col("_prev30").cast(nw.Int64).sum().alias("events_prev_30d"),
    ]
    aggs += [nw.col(f"_part_{p}").cast(nw.Int64).sum().alias(f"_n_{p}") for p in PARTS_OF_DAY]
    aggs += [nw.col(f"_is_{t}").cast(nw.Int64).sum().alias(f"n_{t}") for t in COUNTED_TYPES]
    return sess.group_by(S.USER_ID).agg(aggs)


def _purchases(ev: nw.LazyFrame, use_orders: bool, has_cat: bool) -> nw.LazyFrame:
    buys = ev.filter(nw.col(S.EVENT_TYPE) == S.PURCHASE)
    # a purchase without an order id counts as one order per day, never as a shared "null" order
    day_key = nw.col("_day").dt.to_string("%Y-%m-%d")
    orders = (
        nw.when(nw.col(S.ORDER_ID).is_null())
        .then(day_key)
        .otherwise(nw.col(S.ORDER_ID).cast(nw.String))
        if use_orders
        else nw.col("_day")
    )
    aggs = [
        orders.n_unique().alias("frequency"),
        nw.col("_day").n_unique().alias("purchase_days"),
        nw.col(S.TIMESTAMP).max().alias("last_purchase"),
        nw.col(S.PRICE).mean().alias("avg_unit_price"),
        nw.col(S.QUANTITY).sum().alias("units_bought"),
    ]
    if has_cat:
        medians = (
            ev.filter(~nw.col(S.PRICE).is_null() & ~nw.col(S.CATEGORY).is_null())
            .group_by(S.CATEGORY)
            .agg(nw.col(S.PRICE).median().alias("_cat_median"))
        )
        buys = buys.join(medians, on=S.CATEGORY, how="left").with_columns(
            (nw.col(S.PRICE) / nw.col("_cat_median")).alias("_price_ratio")
        )
        aggs.append(nw.col("_price_ratio").mean().alias("price_level"))
    return buys.group_by(S.USER_ID).agg(aggs)


def _preferred_hour(ev: nw.LazyFrame) -> nw.LazyFrame:
    per_hour = ev.group_by(S.USER_ID, "_hour").agg(nw.len().alias("_n"))
    top = per_hour.filter(nw.col("_n") == nw.col("_n").max().over(S.USER_ID))
    return top.group_by(S.USER_ID).agg(nw.col("_hour").min().alias("preferred_hour"))


def _ratings(ev: nw.LazyFrame) -> nw.LazyFrame:
    rated = ev.filter(~nw.col(S.RATING).is_null())
    return rated.group_by(S.USER_ID).agg(
        nw.len().alias("n_ratings"),
        nw.col(S.RATING).mean().alias("rating_mean"),
        nw.col(S.RATING).std().alias("rating_std"),
    )


def _category_counts(ev: nw.LazyFrame) -> nw.LazyFrame:
    """Long frame: one row per (user, category) with interactions and spend."""
    with_cat = ev.filter(~nw.col(S.CATEGORY).is_null())
    return with_cat.group_by(S.USER_ID, S.CATEGORY).agg(
        nw.len().alias("_cat_n"), nw.col("_gross").sum().alias("_cat_spend")
    )


def _favourite_brand(ev: nw.LazyFrame) -> nw.LazyFrame:
    per = (
        ev.filter(~nw.col(S.BRAND).is_null()).group_by(S.USER_ID, S.BRAND).agg(nw.len().alias("_n"))
    )
    top = per.filter(nw.col("_n") == nw.col("_n").max().over(S.USER_ID))
    return top.group_by(S.USER_ID).agg(nw.col(S.BRAND).min().alias("favourite_brand"))


# ---- polars-only steps on per-user frames ------------------------------------------------
def _finish(p: pl.DataFrame, when: datetime, cat: FeatureCatalog) -> pl.DataFrame:
    """Ratios, RFM and momentum from the aggregated counts, without the columns the data
    cannot support."""
    return _drop_unsupported(_derive(p, when, cat), cat)


def _derive(p: pl.DataFrame, when: datetime, cat: FeatureCatalog) -> pl.DataFrame:
    """Ratios, RFM and momentum from the aggregated counts (every one, supported or not)."""
    # counts come back unsigned from summed boolean flags; signed ints keep differences sane
    p = p.with_columns(pl.col(pl.UInt32, pl.UInt64).cast(pl.Int64))
    day = 86_400_000_000.0
    n = pl.col("n_events")

    def ratio(a: str, b: str) -> pl.Expr:
        return pl.when(pl.col(b) > 0).then(pl.col(a) / pl.col(b)).otherwise(None)

    cols = [
        ((pl.lit(when) - pl.col("first_seen")).dt.total_microseconds() / day).alias("tenure_days"),
        ((pl.lit(when) - pl.col("last_seen")).dt.total_microseconds() / day).alias(
            "days_since_seen"
        ),
        ((pl.lit(when) - pl.col("last_purchase")).dt.total_microseconds() / day).alias(
            "recency_days"
        ),
        pl.col("frequency").fill_null(0),
        (pl.col("gross_spend") + pl.col("refunded")).alias("monetary"),
        # net, as the glossary's AOV_RULE: a customer who cancelled every order averages 0,
        # not the gross value of what they sent back
        pl.when(pl.col("frequency") > 0)
        .then((pl.col("gross_spend") + pl.col("refunded")) / pl.col("frequency"))
        .alias("avg_order_value"),
        (n / pl.col("sessions")).alias("events_per_session"),
        ratio("n_cart", "n_view").alias("view_to_cart"),
        ratio("n_purchase", "n_cart").alias("cart_to_purchase"),
        ratio("n_purchase", "n_view").alias("view_to_purchase"),
        ratio("n_refund", "n_purchase").alias("refund_rate"),
        (pl.col("_n_weekend") / n).alias("weekend_share"),
        *[(pl.col(f"_n_{part}") / n).alias(f"share_{part}") for part in PARTS_OF_DAY],
        pl.when((pl.col("events_last_30d") + pl.col("events_prev_30d")) > 0)
        .then(
            (pl.col("events_last_30d") - pl.col("events_prev_30d"))
            / (pl.col("events_last_30d") + pl.col("events_prev_30d"))
        )
        .otherwise(0.0)
        .alias("momentum"),
    ]
    p = p.with_columns(cols)
    if "ratings" in cat.computed:
        p = p.with_columns(pl.col("n_ratings").fill_null(0))
    return p


def _drop_unsupported(p: pl.DataFrame, cat: FeatureCatalog) -> pl.DataFrame:
    """Without helper columns and the features the data cannot support (all null, counts
    of event types it never has, groups the catalog skips)."""
    drop = [c for c in p.columns if c.startswith("_")] + ["n_rating"]
    # counts of event types the data never has are noise
    drop += [f"n_{t}" for t in COUNTED_TYPES if f"n_{t}" in p.columns and p[f"n_{t}"].sum() == 0]
    if "time of day" not in cat.computed:
        drop += [f"share_{part}" for part in PARTS_OF_DAY] + ["preferred_hour"]
    if "monetary" not in cat.computed:
        drop += ["monetary", "avg_order_value", "gross_spend", "refunded", "avg_unit_price"]
        drop += [c for c in p.columns if c.startswith(SPEND_PREFIX)]
    if "price level" not in cat.computed:
        drop += ["price_level"]
    # a ratio or average whose inputs never occur (no carts, no prices) is all null: drop it
    drop += [c for c in p.columns if p[c].null_count() == p.height and c != "recency_days"]
    if "refunds" not in cat.computed:
        drop += ["refund_rate", "n_refund"]
    return p.drop([c for c in drop if c in p.columns])


def _category_affinity(long: pl.DataFrame) -> pl.DataFrame:
    """Pivot (user, category) counts into share columns; entropy and top category.

    The pivot is polars-only; everything else in the profile is narwhals.
    """
    totals = (
        long.group_by(S.CATEGORY)
        .agg(pl.col("_cat_n").sum())
        .sort(["_cat_n", S.CATEGORY], descending=[True, False])
    )
    keep = totals[S.CATEGORY].head(MAX_CATEGORY_COLUMNS).to_list()
    long = long.with_columns(
        pl.when(pl.col(S.CATEGORY).is_in(keep))
        .then(pl.col(S.CATEGORY))
        .otherwise(pl.lit("Other"))
        .alias("_c")
    )
    per_user = long.group_by(S.USER_ID).agg(
        pl.col("_cat_n").sum().alias("_tot"), pl.col("_cat_spend").sum().alias("_tot_spend")
    )
    shares = long.join(per_user, on=S.USER_ID).with_columns(
        (pl.col("_cat_n") / pl.col("_tot")).alias("_share"),
        pl.when(pl.col("_tot_spend") > 0)
        .then(pl.col("_cat_spend") / pl.col("_tot_spend"))
        .otherwise(0.0)
        .alias("_spend_share"),
    )
    entropy = shares.group_by(S.USER_ID).agg(
        (-(pl.col("_share") * pl.col("_share").log())).sum().alias("category_entropy"),
        pl.col(S.CATEGORY)
        .sort_by([pl.col("_share"), pl.col(S.CATEGORY)], descending=[True, False])
        .first()
        .alias("top_category"),
        pl.col("_share").max().alias("top_category_share"),
    )
    grouped = shares.group_by(S.USER_ID, "_c").agg(
        pl.col("_share").sum(), pl.col("_spend_share").sum()
    )
    order = keep + (["Other"] if len(totals) > len(keep) else [])
    wide_n = grouped.pivot(on="_c", index=S.USER_ID, values="_share", on_columns=order).rename(
        {c: f"{CATEGORY_PREFIX}{str(c).strip()}" for c in order}
    )
    wide_s = grouped.pivot(
        on="_c", index=S.USER_ID, values="_spend_share", on_columns=order
    ).rename({c: f"{SPEND_PREFIX}{str(c).strip()}" for c in order})
    out = entropy.join(wide_n, on=S.USER_ID, how="left").join(wide_s, on=S.USER_ID, how="left")
    share_cols = [c for c in out.columns if c.startswith((CATEGORY_PREFIX, SPEND_PREFIX))]
    return out.with_columns(pl.col(share_cols).fill_null(0.0))


def _attach_attributes(p: pl.DataFrame, users: pl.DataFrame) -> pl.DataFrame:
    """Join every users-table attribute; one whose name a feature already has is kept as
    ``<name>_attr``. A numeric age gets ``age_band`` unless the table gave bands."""
    u = users.rename({c: f"{c}_attr" for c in users.columns if c != S.USER_ID and c in p.columns})
    if S.AGE in u.columns and "age_band" not in u.columns:
        band = pl.lit(None, pl.String)
        for lo, hi, label in reversed(AGE_BANDS):
            band = (
                pl.when((pl.col(S.AGE) >= lo) & (pl.col(S.AGE) < hi))
                .then(pl.lit(label))
                .otherwise(band)
            )
        u = u.with_columns(band.alias("age_band"))
    return p.join(u, on=S.USER_ID, how="left")


ASSIGNMENT_COLUMNS = frozenset(
    ["tags", "r_score", "f_score", "m_score", "rfm_cell", "rfm_segment", "cluster", "cluster_name"]
)
"""Columns that later steps add to a profile: its tags (:func:`add_tags`) and its segment
assignments (:mod:`profiling.profiles.segments`, which builds on this module). Not user
attributes."""


@cache
def computed_columns() -> frozenset[str]:
    """Every fixed-name column :func:`build_profiles` can compute, read off the code that
    computes it rather than kept by hand: the aggregation plans run (lazily, on no rows)
    with every feature group on, then the derived ratios and the category affinity. The
    per-category columns (``cat_share__``, ``spend_share__`` prefixes) are not listed."""
    when = datetime(2000, 1, 1, tzinfo=UTC)
    cat = catalog_from_facts(
        types=set(COUNTED_TYPES),
        filled={S.AMOUNT, S.PRICE, S.RATING},
        time_known=True,
        items=pl.DataFrame({S.ITEM_ID: ["i"], S.CATEGORY: ["c"], S.BRAND: ["b"]}),
        has_users=False,
    )
    text, cats = pl.String, pl.Categorical
    no_events = pl.LazyFrame(
        schema={
            S.USER_ID: cats,
            S.ITEM_ID: text,
            S.EVENT_TYPE: text,
            S.TIMESTAMP: pl.Datetime("us", "UTC"),
            S.QUANTITY: pl.Int64,
            S.PRICE: pl.Float64,
            S.AMOUNT: pl.Float64,
            S.RATING: pl.Float64,
            S.ORDER_ID: text,
            S.SESSION_ID: text,
            S.CATEGORY: cats,
            S.BRAND: cats,
        }
    )
    plans = aggregation_plans(
        nw.from_native(no_events), when, cat, use_orders=True, use_sessions=True
    )
    per_user, long = pl.collect_all([p.to_native() for p in plans])
    per_user = per_user.join(_category_affinity(long), on=S.USER_ID, how="left")
    names = _derive(per_user, when, cat).columns
    return frozenset(c for c in names if not c.startswith(("_", CATEGORY_PREFIX, SPEND_PREFIX)))


def attribute_columns(columns: list[str]) -> list[str]:
    """The profile columns that come from the users table: everything that is not a
    computed feature, a tag or a segment assignment, in column order."""
    not_attributes = computed_columns() | ASSIGNMENT_COLUMNS
    return [
        c
        for c in columns
        if c not in not_attributes and not c.startswith((CATEGORY_PREFIX, SPEND_PREFIX))
    ]


def user_attributes(row: dict) -> dict:
    """The user-table attributes of one profile row (see :func:`attribute_columns`), empty
    values left out."""
    return {k: row[k] for k in attribute_columns(list(row)) if row[k] is not None}


# ---- tags ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TagRule:
    """A readable label given to users by a rule relative to the population."""

    name: str
    rule: str
    needs: tuple[str, ...]


TAG_RULES: tuple[TagRule, ...] = (
    TagRule(N_("high value"), N_("net spend above the 90th percentile of buyers"), ("monetary",)),
    TagRule(
        N_("frequent buyer"), N_("orders in the top 10% of buyers (and at least 3)"), ("frequency",)
    ),
    TagRule(
        N_("bargain hunter"),
        N_(
            "pays on average 20% or more below the median price of the "
            "categories they buy, over at least 2 purchases"
        ),
        ("price_level", "n_purchase"),
    ),
    TagRule(
        N_("premium buyer"),
        N_(
            "pays on average 30% or more above the median price of the "
            "categories they buy, over at least 2 purchases"
        ),
        ("price_level", "n_purchase"),
    ),
    TagRule(
        N_("night owl"),
        N_(
            "at least 25% of activity between midnight and 6 am (population "
            "average: see the profile map)"
        ),
        ("share_night",),
    ),
    TagRule(
        N_("weekend shopper"),
        N_("at least 60% of activity on Saturdays and Sundays (2 of 7 days is 29%)"),
        ("weekend_share",),
    ),
    TagRule(
        N_("category loyalist"),
        N_("at least 60% of interactions in one category, over at least 10 interactions"),
        ("top_category_share", "n_events"),
    ),
    TagRule(
        N_("explorer"),
        N_("category entropy above the 90th percentile (interest spread over many categories)"),
        ("category_entropy",),
    ),
    TagRule(N_("window shopper"), N_("at least 20 views and no purchase"), ("n_view", "frequency")),
    TagRule(N_("new"), N_("first seen in the last 30 days"), ("tenure_days",)),
    TagRule(
        N_("lapsing"),
        N_("active on 3 or more days but not seen for 90 days or more"),
        ("days_since_seen", "active_days"),
    ),
    TagRule(
        N_("rising"),
        N_(
            "at least 5 events in the last 30 days and more than twice as "
            "many as in the 30 days before"
        ),
        ("momentum", "events_last_30d"),
    ),
    TagRule(N_("reviewer"), N_("rated 5 or more items"), ("n_ratings",)),
    TagRule(
        N_("serial returner"),
        N_("refunds on 20% or more of purchases, at least 2 refunds"),
        ("refund_rate", "n_refund"),
    ),
)


def _tag_expr(name: str, p: pl.DataFrame) -> pl.Expr:
    c = pl.col
    buyers = p.filter(c("frequency") > 0) if "frequency" in p.columns else p
    q90 = lambda col, frame=buyers: frame[col].quantile(0.9, "nearest")  # noqa: E731 - a one-line helper read beside its use
    return {
        "high value": lambda: (c("monetary") > q90("monetary")) & (c("monetary") > 0),
        "frequent buyer": lambda: c("frequency") >= max(q90("frequency") or 0, 3),
        "bargain hunter": lambda: (c("price_level") <= 0.8) & (c("n_purchase") >= 2),
        "premium buyer": lambda: (c("price_level") >= 1.3) & (c("n_purchase") >= 2),
        "night owl": lambda: c("share_night") >= 0.25,
        "weekend shopper": lambda: c("weekend_share") >= 0.6,
        "category loyalist": lambda: (c("top_category_share") >= 0.6) & (c("n_events") >= 10),
        "explorer": lambda: (
            (c("category_entropy") > q90("category_entropy", p)) & (c("category_entropy") > 0)
        ),
        "window shopper": lambda: (c("n_view") >= 20) & (c("frequency") == 0),
        "new": lambda: c("tenure_days") <= 30,
        "lapsing": lambda: (c("days_since_seen") >= 90) & (c("active_days") >= 3),
        "rising": lambda: (c("events_last_30d") >= 5) & (c("momentum") > 1 / 3),
        "reviewer": lambda: c("n_ratings") >= 5,
        "serial returner": lambda: (c("refund_rate") >= 0.2) & (c("n_refund") >= 2),
    }[name]()


def tag_rules(profiles: pl.DataFrame) -> list[TagRule]:
    """The tag rules whose inputs exist in ``profiles``."""
    return [r for r in TAG_RULES if all(n in profiles.columns for n in r.needs)]


def add_tags(profiles: pl.DataFrame) -> pl.DataFrame:
    """Add ``tags`` (list of tag names, in :data:`TAG_RULES` order) to a profile frame.

    Thresholds relative to the population (top 10%) are taken from ``profiles`` itself.
    """
    rules = tag_rules(profiles)
    if not rules:
        return profiles.with_columns(pl.lit([], pl.List(pl.String)).alias("tags"))
    flags = [
        pl.when(_tag_expr(r.name, profiles).fill_null(False)).then(pl.lit(r.name)).otherwise(None)
        for r in rules
    ]
    # joined and split rather than concat_list + drop_nulls: a third of the time at 500,000
    # users (the unit separator is in no tag name)
    joined = pl.concat_str(flags, separator="\x1f", ignore_nulls=True)
    tags = (
        pl.when(joined == "")
        .then(pl.lit([], pl.List(pl.String)))
        .otherwise(joined.str.split("\x1f"))
    )
    return profiles.with_columns(tags.alias("tags"))


def feature_label(feature: str) -> str:
    """Plain label of a profile feature from the glossary ("recency_days" -> "days since
    last order", "cat_share__Books" -> "share of activity in Books")."""
    return G.label(feature)


def feature_list(features: list[str]) -> str:
    """Readable, comma-separated labels of features."""
    return ", ".join(feature_label(f) for f in features)
