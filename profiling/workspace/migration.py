"""What changed between two dates: users moving between segments, with the revenue at stake.

Works on two stored snapshots of a workspace or on two ``as_of`` dates of one log (profiles
rebuilt at each date from the events up to it). Clusters are fitted afresh at each date, so
the later clusters are matched to the earlier ones by their centroids before flows between
them are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from profiling.errors import ProfilingError
from profiling.profiles.segments import segment_label
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _

NEW = N_("New customers")
GONE = N_("Not in the later data")
REVENUE_WINDOW_DAYS = 365
INACTIVE_WINDOW_DAYS = 90


def flow_label(name: str) -> str:
    """A side of a flow in the current language: "New customers", "Not in the later data"
    and the RFM segment names translated; cluster names as they are."""
    return _(name) if name in (NEW, GONE) else segment_label(name)


@dataclass(frozen=True)
class Migration:
    """Flows of users between the segments of two dates.

    ``flows``: one row per (from_segment, to_segment) pair with users: from_segment,
    to_segment, users, revenue_12m (what those users spent in the 12 months before the
    earlier date), share_of_from (users / users of from_segment at the earlier date).
    ``movers``: one row per user: user_id, from_segment, to_segment, moved, became_inactive,
    revenue_12m. ``new_users`` and ``inactive_users`` count users who first appeared after
    the earlier date, and users active in the 90 days before it with no event since.
    """

    column: str
    before: datetime
    after: datetime
    flows: pl.DataFrame
    movers: pl.DataFrame
    new_users: int
    inactive_users: int

    def matrix(self) -> pl.DataFrame:
        """Users per from_segment (rows) and to_segment (columns); zeros where no flow."""
        return (
            self.flows.pivot(on="to_segment", index="from_segment", values="users")
            .fill_null(0)
            .sort("from_segment")
        )

    def moved(self) -> pl.DataFrame:
        """Flows between two different segments, the largest revenue at stake first."""
        return self.flows.filter(pl.col("from_segment") != pl.col("to_segment")).sort(
            "revenue_12m", "users", descending=True
        )


def revenue_before(events: pl.DataFrame, as_of: datetime, days: int = REVENUE_WINDOW_DAYS):
    """One row per user with money in the ``days`` before ``as_of``: user_id, revenue_12m
    (purchases net of refunds)."""
    start = as_of - timedelta(days=days)
    return (
        events.filter(
            pl.col(S.EVENT_TYPE).is_in([S.PURCHASE, S.REFUND]),
            pl.col(S.TIMESTAMP) > start,
            pl.col(S.TIMESTAMP) <= as_of,
        )
        .group_by(S.USER_ID)
        .agg(pl.col(S.AMOUNT).sum().fill_null(0.0).alias("revenue_12m"))
    )


def inactive_since(events: pl.DataFrame, before: datetime, after: datetime) -> pl.DataFrame:
    """user_id of users with an event in the 90 days up to ``before`` and none in
    (``before``, ``after``]."""
    ts = pl.col(S.TIMESTAMP)
    active = events.filter(ts > before - timedelta(days=INACTIVE_WINDOW_DAYS), ts <= before)
    later = events.filter(ts > before, ts <= after)
    return (
        active.select(S.USER_ID)
        .unique()
        .join(later.select(S.USER_ID).unique(), on=S.USER_ID, how="anti")
    )


def migrate(
    before: pl.DataFrame,
    after: pl.DataFrame,
    column: str,
    *,
    events: pl.DataFrame,
    before_date: datetime,
    after_date: datetime,
) -> Migration:
    """Count users moving between segments.

    Parameters
    ----------
    before, after : pl.DataFrame
        Assignments at the two dates: user_id and ``column`` (e.g. rfm_segment).
    events : pl.DataFrame
        The events, for revenue in the 12 months before ``before_date`` and inactivity.
    """
    if before_date >= after_date:
        raise ProfilingError(
            _("the earlier date must come before the later one; got {before} and {after}").format(
                before=f"{before_date:%Y-%m-%d}", after=f"{after_date:%Y-%m-%d}"
            )
        )
    for name, frame in ((N_("earlier"), before), (N_("later"), after)):
        if column not in frame.columns:
            raise ProfilingError(
                _("the {name} assignments have no column {column}").format(
                    name=_(name), column=repr(column)
                )
            )
    b = before.select(S.USER_ID, pl.col(column).alias("from_segment"))
    a = after.select(S.USER_ID, pl.col(column).alias("to_segment"))
    inactive = inactive_since(events, before_date, after_date).with_columns(
        pl.lit(True).alias("became_inactive")
    )
    movers = (
        b.join(a, on=S.USER_ID, how="full", coalesce=True)
        .with_columns(
            pl.col("from_segment").fill_null(NEW),
            pl.col("to_segment").fill_null(GONE),
        )
        .join(revenue_before(events, before_date), on=S.USER_ID, how="left")
        .join(inactive, on=S.USER_ID, how="left")
        .with_columns(
            pl.col("revenue_12m").fill_null(0.0),
            pl.col("became_inactive").fill_null(False),
            (pl.col("from_segment") != pl.col("to_segment")).alias("moved"),
        )
        .select(S.USER_ID, "from_segment", "to_segment", "moved", "became_inactive", "revenue_12m")
        .sort(S.USER_ID)
    )
    sizes = movers.group_by("from_segment").agg(pl.len().alias("_from_users"))
    flows = (
        movers.group_by("from_segment", "to_segment")
        .agg(pl.len().alias("users"), pl.col("revenue_12m").sum())
        .join(sizes, on="from_segment")
        .with_columns((pl.col("users") / pl.col("_from_users")).alias("share_of_from"))
        .drop("_from_users")
        .sort("from_segment", "to_segment")
    )
    return Migration(
        column=column,
        before=before_date,
        after=after_date,
        flows=flows,
        movers=movers,
        new_users=int((movers["from_segment"] == NEW).sum()),
        inactive_users=int(movers["became_inactive"].sum()),
    )


def match_clusters(
    profiles_before: pl.DataFrame,
    assign_before: pl.DataFrame,
    profiles_after: pl.DataFrame,
    assign_after: pl.DataFrame,
    features: list[str],
) -> dict[int, str]:
    """Later cluster -> the earlier cluster's name whose centroid is nearest (one to one,
    Hungarian assignment on distances in features standardized over both dates); later
    clusters left over keep their own name, marked "(new)"."""
    from profiling.profiles.segments import prepare_matrix

    feats = [f for f in features if f in profiles_before.columns and f in profiles_after.columns]
    if not feats:
        raise ProfilingError(_("the two dates share no clustering feature to match clusters by"))
    both = pl.concat(
        [profiles_before.select(S.USER_ID, *feats), profiles_after.select(S.USER_ID, *feats)],
        how="vertical_relaxed",
    )
    x = prepare_matrix(both, feats)
    n_before = profiles_before.height

    def centroids(rows: np.ndarray, prof: pl.DataFrame, assign: pl.DataFrame):
        labels = prof.select(S.USER_ID).join(assign, on=S.USER_ID, how="left")
        ids = labels["cluster"].to_numpy()
        names = dict(assign.select("cluster", "cluster_name").unique().iter_rows())
        keys = sorted(names)
        return keys, names, np.vstack([rows[ids == k].mean(axis=0) for k in keys])

    kb, names_b, cb = centroids(x[:n_before], profiles_before, assign_before)
    ka, names_a, ca = centroids(x[n_before:], profiles_after, assign_after)
    dist = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(dist)
    out = {k: f"{names_a[k]} (new)" for k in ka}
    for r, c in zip(rows, cols, strict=True):
        out[ka[r]] = names_b[kb[c]]
    return out


def relabel_clusters(assign_after: pl.DataFrame, matched: dict[int, str]) -> pl.DataFrame:
    """The later assignments with cluster_name replaced by the matched earlier names."""
    return assign_after.with_columns(
        pl.col("cluster").replace_strict(matched, return_dtype=pl.String).alias("cluster_name")
    )


def between(events: pl.DataFrame, earlier, later, column: str = "rfm_segment") -> Migration:
    """Migration between two snapshots (objects with ``profiles``, ``segmentation`` and
    ``as_of``, such as :class:`profiling.workspace.Snapshot`). For ``cluster_name`` the later
    clusters are first matched to the earlier ones by centroid."""
    a, b = earlier.segmentation.assignments, later.segmentation.assignments
    if column == "cluster_name":
        matched = match_clusters(
            earlier.profiles, a, later.profiles, b, earlier.segmentation.features
        )
        b = relabel_clusters(b, matched)
    return migrate(a, b, column, events=events, before_date=earlier.as_of, after_date=later.as_of)
