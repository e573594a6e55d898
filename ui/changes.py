"""Segment migration of the active workspace: between two stored snapshots (cached per
workspace version) or two dates of its log (profiles and segments rebuilt as of each date
in a background job)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl
import streamlit as st

from profiling.jobs import Job
from profiling.profiles.segments import segment_label, with_scheme
from profiling.vocabulary import fmt
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import Snapshot
from profiling.workspace import migration as M
from profiling.workspace.store import compute_snapshot
from ui import data, profiles
from ui.data import WorkspaceRef
from ui.jobs import PROFILES, runtime

QUARTER = timedelta(days=91)


@st.cache_resource(max_entries=8, show_spinner=False)
def _stored(spec_key: str, _spec: WorkspaceRef, snapshot_id: int) -> Snapshot:
    return _spec.workspace().snapshot(snapshot_id)


def snapshots() -> pl.DataFrame:
    """The active workspace's stored snapshots (see Workspace.snapshots)."""
    return data.resolved_spec().workspace().snapshots()


def _in_scheme(snap: Snapshot, column: str, scheme: str) -> Snapshot:
    """``snap`` with its RFM segments named in the workspace's scheme (rfm11 or tiers8), so
    the flows use the names every other page uses."""
    if column != "rfm_segment":
        return snap
    return replace(snap, segmentation=with_scheme(snap.segmentation, snap.profiles, scheme))


@st.cache_resource(max_entries=16, show_spinner=False)
def _migration(spec_key: str, _spec: WorkspaceRef, a: int, b: int, column: str, scheme: str):
    snap_a, snap_b = (_in_scheme(_stored(spec_key, _spec, s), column, scheme) for s in (a, b))
    return M.between(data.load(_spec).events, snap_a, snap_b, column)


def _dates_job(
    ds, version: str, before: datetime, after: datetime, column: str, scheme: str, *, progress
):
    # the job runs in a worker thread and may be shown in either language: its messages are
    # msgids, translated where widgets.job_progress shows them
    steps = (
        N_("profiles and segments as of the earlier date"),
        N_("profiles and segments as of the later date"),
    )
    snaps = []
    for i, when in enumerate((before, after)):
        progress(0.45 * i, steps[i])
        prof, seg = compute_snapshot(ds, when, clusters=column == "cluster_name")
        snaps.append(_in_scheme(Snapshot(0, when, version, prof, seg), column, scheme))
    progress(0.9, N_("counting who moved"))
    return M.between(ds.events, snaps[0], snaps[1], column)


def migration_between_dates(before: datetime, after: datetime, column: str) -> M.Migration | Job:
    """Migration between two dates of the active workspace's log, or the background job
    rebuilding the profiles and segments as of each date (never in the page run). The job
    fails with the ProfilingError's message when a date has nothing to profile."""
    ref = data.resolved_spec()
    scheme = profiles.scheme_of(ref)
    key = f"{ref.key()}|migration|{before.isoformat()}|{after.isoformat()}|{column}|{scheme}"
    job = runtime().status(PROFILES, key)
    if job is not None and job.done and not job.failed:
        return job.result()
    if job is not None:
        return job
    return runtime().start(
        PROFILES,
        key,
        "Rebuilding profiles and segments as of both dates",
        _dates_job,
        data.load(ref),
        ref.version,
        before,
        after,
        column,
        scheme,
    )


def retry(job: Job) -> None:
    """Callback: forget a failed job so that the next run starts it again."""
    runtime().forget(PROFILES, job.key)


def migration_between_snapshots(a: int, b: int, column: str) -> M.Migration:
    """Migration between two stored snapshots of the active workspace."""
    ref = data.resolved_spec()
    with st.spinner(_("Counting who moved…")):
        return _migration(ref.key(), ref, a, b, column, profiles.scheme_of(ref))


def flows_table(mig: M.Migration) -> pl.DataFrame:
    """The flows between different segments, largest revenue at stake first: one row per
    (from_segment, to_segment) with users, share_of_from (0-1) and revenue_12m; pages show
    them by their glossary labels."""
    return mig.moved().select("from_segment", "to_segment", "users", "share_of_from", "revenue_12m")


def audience(mig: M.Migration, source: str, target: str) -> pl.DataFrame:
    """Users of one flow: user_id, from_segment, to_segment, revenue_12m, became_inactive."""
    return mig.movers.filter(
        (pl.col("from_segment") == source) & (pl.col("to_segment") == target)
    ).select("user_id", "from_segment", "to_segment", "revenue_12m", "became_inactive")


def quarter_dates(end: datetime, start: datetime, n: int = 5) -> tuple[datetime, ...]:
    """``end`` and up to ``n - 1`` quarter steps back, not before ``start``."""
    return tuple(d for d in (end - i * QUARTER for i in range(n)) if d >= start)


def user_history(user_id: str) -> tuple[pl.DataFrame, bool]:
    """One row per date: As of, Segment, Group, From (a quarter-end rebuild or a stored
    snapshot), latest first; and whether the quarter-end rebuilds are still being worked
    out in the background (then only the stored snapshots are in the table)."""
    ref = data.resolved_spec()
    ds = data.load(ref)
    parts = []
    rebuilt, pending = profiles.rfm_history(quarter_dates(ds.as_of, ds.events["timestamp"].min()))
    if rebuilt is not None:
        parts.append(
            rebuilt.filter(pl.col("user_id") == user_id).select(
                pl.col("as_of").alias("As of"),
                pl.col("rfm_segment").alias("Segment"),
                pl.lit(None, pl.String).alias("Group"),
                pl.lit(_("rebuilt from the log")).alias("From"),
            )
        )
    stored = ref.workspace().assignments_history(user_id)
    parts.append(
        stored.select(
            pl.col("as_of").alias("As of"),
            pl.col("rfm_segment").alias("Segment"),
            pl.col("cluster_name").alias("Group"),
            pl.format(_("snapshot {}"), pl.col("snapshot_id")).alias("From"),
        )
    )
    history = pl.concat(
        [p.with_columns(_as_datetime(pl.col("As of"), p.schema["As of"])) for p in parts],
        how="vertical_relaxed",
    ).sort("As of", descending=True)
    # shown as text: one date format ("07 Jan 2024", no "+00:00"), "—" where a rebuild has
    # no behaviour group (clusters are only fitted for stored snapshots); headers and RFM
    # names in the reader's language
    names = history["Segment"].unique().drop_nulls().to_list()
    history = history.with_columns(
        pl.Series("As of", [fmt.date_text(v) for v in history["As of"]], pl.String),
        pl.col("Segment").replace_strict(
            {n: segment_label(n) for n in names}, default=None, return_dtype=pl.String
        ),
        pl.col("Group").fill_null("—"),
    )
    return history.rename(
        {"As of": _("As of"), "Segment": _("Segment"), "Group": _("Group"), "From": _("From")}
    ), pending


def _as_datetime(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Timestamps stored as ISO text (a saved result) or as datetimes, as UTC datetimes."""
    if dtype == pl.String:
        return col.str.to_datetime(time_zone="UTC")
    if getattr(dtype, "time_zone", None):
        return col.dt.convert_time_zone("UTC")
    return col.dt.replace_time_zone("UTC")
