"""One user against everyone: percentiles, category affinity, rhythm, timeline, similar users."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
from sklearn.neighbors import NearestNeighbors

from profiling.data.dataset import time_of_day_known
from profiling.errors import ProfilingError
from profiling.profiles.features import CATEGORY_PREFIX, PARTS_OF_DAY, feature_label
from profiling.profiles.segments import default_cluster_features, prepare_matrix
from profiling.vocabulary import fmt
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_, ngettext
from profiling.vocabulary.i18n import gettext as _

KEY_FIGURES = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
UNKNOWN_USER = N_("unknown user {user_id!r}: no events for this id in the dataset")


def _row(profiles: pl.DataFrame, user_id: str) -> dict:
    hit = profiles.filter(pl.col(S.USER_ID) == user_id)
    if hit.height == 0:
        raise ProfilingError(_(UNKNOWN_USER).format(user_id=user_id))
    return hit.row(0, named=True)


def _share_words(pct: float) -> str:
    """A share 0-100 in words that never round a few customers to none or all of them."""
    if 0 < pct < 1 or 99 < pct < 100:
        return fmt.percent(pct / 100.0, 1)
    return fmt.percent(pct / 100.0, 0)


def percentile_sentence(feature: str, below: float | None, tied: float | None) -> str:
    """Where a user stands, from the share of customers strictly below (worse, for recency)
    and the share tied with them (both 0-100, the user among the tied): "more than 34% of
    customers; the same as 65%". Ties are said, never counted as "higher than"."""
    if below is None or tied is None:
        return ""
    if tied >= 100:
        return _("the same as every customer")
    if feature == "recency_days":
        text = _("more recent than {share} of customers")
    else:
        text = _("more than {share} of customers")
    text = text.format(share=_share_words(below))
    if tied <= 0:
        return text
    return _("{sentence}; the same as {share}").format(sentence=text, share=_share_words(tied))


def percentiles(
    profiles: pl.DataFrame, user_id: str, features: tuple[str, ...] = KEY_FIGURES
) -> pl.DataFrame:
    """The user's value of each feature and where it stands in the population.

    One row per feature present: feature, label, value, percentile (0-100: share of users
    with a value at most the user's), below (0-100: share of users with a strictly lower
    value), tied (0-100: share with the same value, the user included) and sentence
    (:func:`percentile_sentence`); the numbers are null when the user has no value, e.g.
    recency without a purchase. For ``recency_days`` a low value is good, so percentile and
    below count the users who bought longer ago or never ("more recent than X%"), out of
    every user.
    """
    row = _row(profiles, user_id)
    out = []
    for f in features:
        if f not in profiles.columns:
            continue
        v = row[f]
        col = profiles[f].drop_nulls()
        if v is None or col.len() == 0:
            pct = below = tied = None
        elif f == "recency_days":
            below = 100.0 * ((col > v).sum() + profiles[f].null_count()) / profiles.height
            tied = 100.0 * (col == v).sum() / profiles.height
            pct = below
        else:
            below = 100.0 * (col < v).sum() / col.len()
            tied = 100.0 * (col == v).sum() / col.len()
            pct = 100.0 * (col <= v).sum() / col.len()
        out.append(
            {
                "feature": f,
                "label": feature_label(f),
                "value": v,
                "percentile": pct,
                "below": below,
                "tied": tied,
                "sentence": percentile_sentence(f, below, tied),
            }
        )
    return pl.DataFrame(
        out,
        schema={
            "feature": pl.String,
            "label": pl.String,
            "value": pl.Float64,
            "percentile": pl.Float64,
            "below": pl.Float64,
            "tied": pl.Float64,
            "sentence": pl.String,
        },
    )


def category_affinity(profiles: pl.DataFrame, user_id: str) -> pl.DataFrame:
    """The user's share of interactions per category against the population's mean share.

    One row per category: category, user, population; sorted by the user's share.
    """
    cols = [c for c in profiles.columns if c.startswith(CATEGORY_PREFIX)]
    row = _row(profiles, user_id)
    means = profiles.select(pl.col(cols).mean()).row(0)
    return pl.DataFrame(
        {
            "category": [c[len(CATEGORY_PREFIX) :] for c in cols],
            "user": [float(row[c] or 0.0) for c in cols],
            "population": [float(m or 0.0) for m in means],
        }
    ).sort("user", descending=True)


def rhythm(events: pl.DataFrame, user_id: str, time_known: bool | None = None) -> pl.DataFrame:
    """The user's events by part of day and weekday: part, weekday (1 = Monday), events.

    ``part`` is null on every row when the log carries no time of day (date-only), so that
    nothing is shown as happening at night. ``time_known`` says whether the whole log has
    times of day (:meth:`profiling.data.dataset.Dataset.time_of_day_known`); by default it is read
    from ``events``, which must then be the whole log, not one user's rows."""
    e = events.filter(pl.col(S.USER_ID) == user_id)
    part = pl.lit(None, pl.String)
    if time_known is None:
        time_known = time_of_day_known(events)
    if time_known:
        for name, (lo, hi) in PARTS_OF_DAY.items():
            part = pl.when(pl.col("_h").is_between(lo, hi - 1)).then(pl.lit(name)).otherwise(part)
    return (
        e.with_columns(pl.col(S.TIMESTAMP).dt.hour().alias("_h"))
        .with_columns(part.alias("part"), pl.col(S.TIMESTAMP).dt.weekday().alias("weekday"))
        .group_by("part", "weekday")
        .len("events")
        .sort("weekday", "part")
    )


def funnel(row: dict) -> pl.DataFrame:
    """The user's funnel counts: step, events (view, cart, purchase where present)."""
    steps = [(t, row.get(f"n_{t}")) for t in (S.VIEW, S.CART, S.PURCHASE)]
    return pl.DataFrame(
        {
            "step": [s for s, v in steps if v is not None],
            "events": [int(v) for _s, v in steps if v is not None],
        }
    )


def timeline(events: pl.DataFrame, items: pl.DataFrame | None, user_id: str) -> pl.DataFrame:
    """The user's events, newest first, with item titles and categories where known."""
    e = events.filter(pl.col(S.USER_ID) == user_id).sort(S.TIMESTAMP, descending=True)
    if items is not None:
        keep = [c for c in (S.TITLE, S.CATEGORY) if c in items.columns]
        e = e.join(items.select(S.ITEM_ID, *keep), on=S.ITEM_ID, how="left")
    cols = [
        S.TIMESTAMP,
        S.EVENT_TYPE,
        S.ITEM_ID,
        S.TITLE,
        S.CATEGORY,
        S.QUANTITY,
        S.AMOUNT,
        S.RATING,
    ]
    return e.select([c for c in cols if c in e.columns])


def bought_items(events: pl.DataFrame, user_id: str) -> list[str]:
    """Distinct items the user has purchased (sorted)."""
    hit = events.filter(
        (pl.col(S.USER_ID) == user_id)
        & (pl.col(S.EVENT_TYPE) == S.PURCHASE)
        & pl.col(S.ITEM_ID).is_not_null()
    )
    return hit[S.ITEM_ID].unique().sort().to_list()


def similar_users(
    profiles: pl.DataFrame, user_id: str, n: int = 5, features: list[str] | None = None
) -> pl.DataFrame:
    """Nearest neighbours in the standardized profile space (the clustering features).

    One row per neighbour: user_id, distance (Euclidean, in standard deviations), nearest
    first; the user themself is excluded.
    """
    return ProfileNeighbours(profiles, features).of(user_id, n)


class ProfileNeighbours:
    """The standardized profile space (the clustering features) with a nearest-neighbour
    index, built once and asked for many users (:func:`similar_users` builds one per call).
    """

    def __init__(self, profiles: pl.DataFrame, features: list[str] | None = None) -> None:
        features = features or default_cluster_features(profiles)
        self.x_ = prepare_matrix(profiles, features)
        self.ids_ = profiles[S.USER_ID]
        self.index_ = {u: i for i, u in enumerate(self.ids_.to_list())}
        self.nn_ = NearestNeighbors().fit(self.x_) if len(self.index_) else None

    def of(self, user_id: str, n: int = 5) -> pl.DataFrame:
        """user_id, distance (Euclidean, in standard deviations) of the ``n`` nearest users,
        nearest first, the user themself excluded."""
        i = self.index_.get(user_id)
        if i is None:
            raise ProfilingError(_(UNKNOWN_USER).format(user_id=user_id))
        k = min(n + 1, len(self.index_))
        dist, idx = self.nn_.kneighbors(self.x_[i : i + 1], n_neighbors=k)
        pairs = [
            (self.ids_[int(j)], float(d)) for j, d in zip(idx[0], dist[0], strict=True) if j != i
        ][:n]
        return pl.DataFrame(
            pairs, schema={S.USER_ID: pl.String, "distance": pl.Float64}, orient="row"
        )


def profile_document(
    profiles: pl.DataFrame,
    user_id: str,
    segments: dict | None = None,
    recommendations: dict | None = None,
) -> str:
    """The user's profile as JSON: features, tags, segments and recommendations."""
    row = _row(profiles, user_id)
    doc = {
        "user_id": user_id,
        "features": {k: v for k, v in row.items() if k not in (S.USER_ID, "tags")},
        "tags": row.get("tags") or [],
        "segments": segments or {},
        "recommendations": recommendations or {},
    }
    return json.dumps(doc, indent=2, default=str)


def segment_choices(assignments: pl.DataFrame) -> dict[str, str]:
    """Segments a user can be picked from: ``"rfm_segment=Champions"`` -> ``"Segment:
    Champions (286 customers)"`` in the best-to-lost order of every page, then the
    behaviour groups (``"Group: ..."``), largest first; labels in the current language."""
    from profiling.profiles.segments import segment_label, segment_order

    out = {}
    for column, kind in (("rfm_segment", _("Segment")), ("cluster_name", _("Group"))):
        if column not in assignments.columns:
            continue
        counts = dict(assignments[column].drop_nulls().value_counts(sort=True).iter_rows())
        names = segment_order(list(counts)) if column == "rfm_segment" else list(counts)
        for name in names:
            n = counts[name]
            size = ngettext("{n} customer", "{n} customers", n).format(n=fmt.count(n))
            out[f"{column}={name}"] = _("{kind}: {name} ({size})").format(
                kind=kind, name=segment_label(name), size=size
            )
    return out


def users_in(assignments: pl.DataFrame, choice: str) -> list[str]:
    """User ids of a segment named as in :func:`segment_choices` (sorted)."""
    column, _sep, name = choice.partition("=")
    if column not in assignments.columns:
        raise ProfilingError(
            _("no segment column {column!r} to pick users from").format(column=column)
        )
    return assignments.filter(pl.col(column) == name)[S.USER_ID].sort().to_list()


def pick_random(
    profiles: pl.DataFrame, random_state: int | None = None, among: list[str] | None = None
) -> str:
    """A random user id (among ``among`` if given) with at least one purchase when there are
    any (for demos)."""
    if among is not None:
        profiles = profiles.filter(pl.col(S.USER_ID).is_in(among))
    pool = profiles.filter(pl.col("frequency") > 0) if "frequency" in profiles.columns else profiles
    pool = pool if pool.height else profiles
    rng = np.random.default_rng(random_state)
    return pool[S.USER_ID][int(rng.integers(pool.height))]


def assignment_of(assignments: pl.DataFrame | None, user_id: str) -> dict:
    """The user's row of a segmentation's assignments (rfm_segment, cluster_name, ...), or
    an empty dict when there is no segmentation or the user is not in it."""
    if assignments is None:
        return {}
    rows = assignments.filter(pl.col(S.USER_ID) == user_id)
    return rows.row(0, named=True) if rows.height else {}
