"""Workspaces: named, persisted datasets with their batches, profile snapshots and results.

Layout under :func:`home` (``$PERSONA_STUDIO_HOME``)::

    workspaces/<slug>/workspace.duckdb   tables: meta, batches, sources, events, users,
                                         items, snapshots, profiles_<n>, assignments_<n>
    workspaces/<slug>/sources/           the uploaded files, named by their content digest
    workspaces/<slug>/results/           fitted models, comparisons (see results.py)
    workspaces/<slug>/maps/              profile maps (profiling.profiles.embeddings cache)
    workspaces/<slug>/write.lock         the write lock (profiling.workspace.lock)

One database file per workspace: deleting a workspace is deleting its folder, a damaged file
harms one workspace only, and writers to two workspaces never wait for each other. Every
change (a new workspace, a batch of data, a snapshot) is one DuckDB transaction under the
workspace's write lock (one writer at a time across processes), so a crash leaves the state
before it; a new workspace is built in a temporary folder and renamed into place. The storage
format is checked on open (:mod:`profiling.workspace.formats`); docs/storage.md says what is
guaranteed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from profiling import private
from profiling.data import ingest
from profiling.data.dataset import (
    SAMPLE_NAME,
    Dataset,
    DatasetReport,
    compute_joins,
    fingerprint,
    load_dataset,
    sample_paths,
)
from profiling.errors import ProfilingError, WorkspaceError
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import db, formats
from profiling.workspace.lock import write_lock
from profiling.workspace.roles import (
    BUILTIN_KEY,
    META_ERRORS,
    RESERVED,
    Caller,
    check_name,
    is_builtin_sample,
    require_owner,
)

SAMPLE_SLUG = "sample"
SAMPLE_CURRENCY = "USD"  # the sample store's prices are US dollars (sample_data/README.md)


_META: dict[str, tuple] = {}
"""db file -> (its :func:`db.stamp`, meta) of the last read."""


class WorkspaceChanged(WorkspaceError):
    """The workspace's data changed between two reads that must agree."""


class WorkspaceMissing(WorkspaceError):
    """No workspace has the name or slug asked for."""


CROSS_BATCH_DUPLICATE = "duplicate of a row in an earlier batch (not counted twice)"


def home() -> Path:
    """``$PERSONA_STUDIO_HOME``, else ``$XDG_DATA_HOME/persona-studio``, else
    ``~/.local/share/persona-studio``."""
    root = os.environ.get("PERSONA_STUDIO_HOME")
    if root:
        return Path(root)
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "persona-studio"


def workspaces_dir() -> Path:
    return home() / "workspaces"


def slugify(name: str) -> str:
    """A URL-safe slug: "Online Retail II (2010)" -> "online-retail-ii-2010"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")
    if not slug:
        raise WorkspaceError(
            _("a workspace name needs at least one letter or digit; got {name} instead").format(
                name=repr(name)
            )
        )
    return slug


def workspace_lock(ws: Workspace | str):
    """The write lock of a workspace (a :class:`Workspace` or its slug) as a context manager:
    one writer at a time across threads and processes (:mod:`profiling.workspace.lock`).
    Raises WorkspaceBusy when another writer keeps it past the waiting time."""
    folder = ws.path if isinstance(ws, Workspace) else workspaces_dir() / ws
    return write_lock(folder)


def _now() -> datetime:
    return datetime.now(UTC)


# ---- records -------------------------------------------------------------------------------
@dataclass
class BatchReport:
    """What adding one batch did: rows read, dropped by cleaning (per reason), duplicates of
    earlier batches, and new rows kept."""

    batch_id: int
    files: dict[str, str]
    rows_read: int
    rows_dropped: int
    rows_duplicate: int
    rows_new: int
    new_users: int
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    snapshot_id: int | None = None

    def describe(self) -> str:
        drops = "; ".join(f"{n:,} {r}" for r, n in self.dropped_by_reason.items() if n)
        return (
            f"batch {self.batch_id}: {self.rows_read:,} rows read, {self.rows_new:,} new, "
            f"{self.rows_duplicate:,} already in the workspace, {self.rows_dropped:,} dropped"
            + (f" ({drops})" if drops else "")
            + f"; {self.new_users:,} new customers"
        )


@dataclass
class Snapshot:
    """Profiles, RFM segments and clusters of a workspace as of one date.

    ``profiles``: one row per user (build_profiles + tags); ``assignments``: one row per
    user: user_id, r_score, f_score, m_score, rfm_cell, rfm_segment, cluster, cluster_name.
    """

    snapshot_id: int
    as_of: datetime
    data_version: str
    profiles: pl.DataFrame
    segmentation: object  # profiling.profiles.segments.Segmentation

    @property
    def assignments(self) -> pl.DataFrame:
        return self.segmentation.assignments


# ---- reports to and from JSON ----------------------------------------------------------------
def _known(cls, data: dict) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def report_from_dict(data: dict | None) -> ingest.CleaningReport | None:
    """A CleaningReport from its ``to_dict()`` form (unknown keys ignored)."""
    if data is None:
        return None
    kw = _known(ingest.CleaningReport, data)
    kw["read"] = ingest.ReadInfo(**_known(ingest.ReadInfo, data["read"])) if data["read"] else None
    kw["reasons"] = [
        ingest.ReasonCount(**_known(ingest.ReasonCount, r)) for r in data.get("reasons", [])
    ]
    return ingest.CleaningReport(**kw)


def merge_reports(reports: list[ingest.CleaningReport], duplicates: int) -> ingest.CleaningReport:
    """One report for several batches of a table: counts added up per reason, the first
    batch's mapping and reading details, and the rows that repeated an earlier batch."""
    first = reports[0]
    merged = ingest.CleaningReport(**{f.name: getattr(first, f.name) for f in fields(first)})
    merged.rows_read = sum(r.rows_read for r in reports)
    merged.rows_kept = sum(r.rows_kept for r in reports) - duplicates
    by_reason: dict[tuple[str, str], ingest.ReasonCount] = {}
    for rep in reports:
        for r in rep.reasons:
            key = (r.reason, r.action)
            if key in by_reason:
                by_reason[key].count += r.count
            else:
                by_reason[key] = ingest.ReasonCount(r.reason, r.action, r.count, list(r.examples))
    if duplicates:
        by_reason[(CROSS_BATCH_DUPLICATE, "dropped")] = ingest.ReasonCount(
            CROSS_BATCH_DUPLICATE, "dropped", duplicates
        )
    merged.reasons = list(by_reason.values())
    merged.notes = list(dict.fromkeys(n for r in reports for n in r.notes))
    return merged


# ---- the workspace ---------------------------------------------------------------------------
class Workspace:
    """One persisted workspace. Cheap to construct; every read opens the database briefly."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.slug = self.path.name

    # -- paths
    @property
    def db_path(self) -> Path:
        return self.path / db.DB_FILE

    @property
    def results_dir(self) -> Path:
        return self.path / "results"

    @property
    def maps_dir(self) -> Path:
        return self.path / "maps"

    def __repr__(self) -> str:
        return f"Workspace({self.slug!r})"

    # -- metadata
    def meta(self) -> dict:
        """name, slug, created_at, readonly, data_version, ... (strings). Read once per
        change of the file (every page run asks for it several times)."""
        key = str(self.db_path)
        hit = _META.get(key)
        if hit is not None and hit[0] == db.stamp(self.db_path):
            return dict(hit[1])
        with db.connect(self.db_path) as con:
            if not db.has_table(con, "meta"):
                raise WorkspaceError(
                    _(
                        "{path}: a DuckDB database, but not a Persona Studio workspace "
                        "(it has no 'meta' table)"
                    ).format(path=self.db_path)
                )
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        _META[key] = (db.stamp(self.db_path), meta)
        return dict(meta)

    @property
    def name(self) -> str:
        return self.meta()["name"]

    def set_setting(self, key: str, value: str | None) -> None:
        """Store a display setting of :data:`SETTINGS` (e.g. ``currency``) in the
        workspace's meta table; None removes it. Data and its version are unchanged."""
        if key not in SETTINGS:
            raise WorkspaceError(
                _("workspace setting: expected one of {settings}, got {key}").format(
                    settings=", ".join(SETTINGS), key=repr(key)
                )
            )
        with (
            workspace_lock(self),
            db.connect(self.db_path) as con,
            db.transaction(con),
        ):
            con.execute("DELETE FROM meta WHERE key = ?", [key])
            if value is not None:
                con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])

    @property
    def readonly(self) -> bool:
        return self.meta().get("readonly") == "true"

    def data_version(self) -> str:
        """Digest of every batch's files and mappings: changes exactly when the data does."""
        return self.meta()["data_version"]

    def batches(self) -> pl.DataFrame:
        """One row per batch: batch_id, added_at, files, rows_read, rows_new,
        rows_duplicate, rows_dropped."""
        with db.connect(self.db_path) as con:
            return db.read(
                con,
                "SELECT batch_id, added_at, files, rows_read, rows_new, rows_duplicate, "
                "rows_dropped FROM batches ORDER BY batch_id",
            )

    def snapshots(self) -> pl.DataFrame:
        """One row per snapshot: snapshot_id, as_of, created_at, data_version, users,
        events, label."""
        with db.connect(self.db_path) as con:
            return db.read(
                con,
                "SELECT snapshot_id, as_of, created_at, data_version, users, events, label "
                "FROM snapshots ORDER BY snapshot_id",
            )

    def summary(self) -> dict:
        """name, slug, users, items, events, first and last event, batches and snapshots."""
        with db.connect(self.db_path) as con, db.transaction(con):
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            users, events, start, end = con.execute(
                "SELECT count(DISTINCT user_id), count(*), min(timestamp), max(timestamp) "
                "FROM events"
            ).fetchone()
            items = con.execute(
                "SELECT count(DISTINCT item_id) FROM events WHERE item_id IS NOT NULL"
            ).fetchone()[0]
            if db.has_table(con, "items"):
                items = max(items, con.execute("SELECT count(*) FROM items").fetchone()[0])
            snaps = db.read(
                con,
                "SELECT snapshot_id, as_of, users, events, label FROM snapshots "
                "ORDER BY snapshot_id",
            )
            n_batches = con.execute("SELECT count(*) FROM batches").fetchone()[0]
        return {
            "name": meta["name"],
            "slug": self.slug,
            "readonly": meta.get("readonly") == "true",
            "created_at": meta.get("created_at"),
            "data_version": meta["data_version"],
            "users": users,
            "items": items,
            "events": events,
            "start": start,
            "end": end,
            "batches": n_batches,
            "snapshots": [{**r, "as_of": r["as_of"].isoformat()} for r in snaps.to_dicts()],
        }

    # -- the data
    def dataset(self, expect_version: str | None = None) -> Dataset:
        """The workspace's cleaned tables as a :class:`Dataset` (one consistent read; its
        ``fingerprint`` is the data version read in the same transaction).

        Raises WorkspaceChanged when ``expect_version`` is given and the data has changed
        since it was read (a refresh committed in between): the caller reads again."""
        with db.connect(self.db_path) as con, db.transaction(con):
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            if expect_version is not None and meta["data_version"] != expect_version:
                raise WorkspaceChanged(
                    _(
                        "workspace {name} was updated while it was being opened; "
                        "reload the page to see the new data"
                    ).format(name=repr(self.slug))
                )
            events = db.read(con, "SELECT * EXCLUDE (batch_id) FROM events")
            users = db.read(con, "SELECT * FROM users") if db.has_table(con, "users") else None
            items = db.read(con, "SELECT * FROM items") if db.has_table(con, "items") else None
            batches = con.execute(
                "SELECT reports, rows_duplicate FROM batches ORDER BY batch_id"
            ).fetchall()
        events = events.sort(S.TIMESTAMP, S.USER_ID, maintain_order=True)
        report = _dataset_report(batches, events, users, items)
        return Dataset(
            events=events,
            users=users,
            items=items,
            report=report,
            fingerprint=meta["data_version"],
            name=meta["name"],
        )

    def snapshot(self, snapshot_id: int | None = None) -> Snapshot:
        """A stored snapshot (the latest by default)."""
        with db.connect(self.db_path) as con, db.transaction(con):
            if snapshot_id is None:
                row = con.execute("SELECT max(snapshot_id) FROM snapshots").fetchone()
                snapshot_id = row[0] if row else None
                if snapshot_id is None:
                    raise WorkspaceError(
                        _("workspace {name} has no profile snapshot yet").format(
                            name=repr(self.slug)
                        )
                    )
            row = con.execute(
                "SELECT as_of, data_version, segmentation FROM snapshots WHERE snapshot_id = ?",
                [snapshot_id],
            ).fetchone()
            if row is None:
                raise WorkspaceError(
                    _(
                        "workspace {name} has no snapshot {snapshot}; "
                        "see `python -m profiling workspace show {slug}`"
                    ).format(name=repr(self.slug), snapshot=snapshot_id, slug=self.slug)
                )
            profiles = db.read(con, f"SELECT * FROM {db.quoted(f'profiles_{snapshot_id}')}")  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
            assignments = db.read(
                con,
                f"SELECT * FROM {db.quoted(f'assignments_{snapshot_id}')}",  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
            )
        as_of, version, text = row
        seg = formats.segmentation_from(text, assignments)
        return Snapshot(snapshot_id, as_of.astimezone(UTC), version, profiles, seg)

    def assignments_history(self, user_id: str) -> pl.DataFrame:
        """One row per snapshot holding the user: snapshot_id, as_of, rfm_segment,
        cluster_name."""
        parts = []
        with db.connect(self.db_path) as con, db.transaction(con):
            snaps = con.execute("SELECT snapshot_id, as_of FROM snapshots ORDER BY 1").fetchall()
            for sid, as_of in snaps:
                t = db.quoted(f"assignments_{sid}")
                f = db.read(
                    con,
                    f"SELECT ? AS snapshot_id, rfm_segment, cluster_name FROM {t} "  # noqa: S608 - identifiers pass through db.quoted, values are bound parameters
                    "WHERE user_id = ?",
                    [sid, user_id],
                )
                parts.append(f.with_columns(pl.lit(as_of).alias("as_of")))
        if not parts:
            return pl.DataFrame(
                schema={
                    "snapshot_id": pl.Int64,
                    "as_of": pl.Datetime("us", "UTC"),
                    "rfm_segment": pl.String,
                    "cluster_name": pl.String,
                }
            )
        out = pl.concat(
            [p.with_columns(pl.col("as_of").cast(pl.Datetime("us", "UTC"))) for p in parts],
            how="vertical_relaxed",
        )
        return out.select("snapshot_id", "as_of", "rfm_segment", "cluster_name")

    # -- changes
    def add(
        self,
        events: ingest.Source,
        users: ingest.Source | None = None,
        items: ingest.Source | None = None,
        *,
        events_map: dict[str, str] | None = None,
        users_map: dict[str, str] | None = None,
        items_map: dict[str, str] | None = None,
        names: dict[str, str] | None = None,
        on_progress=None,
        pseudonym_key: bytes | str | None = None,
        caller: Caller | None = None,
    ) -> BatchReport:
        """Append a batch: clean it, keep rows not already in the workspace, rebuild the
        profiles as of the new latest date as a new snapshot. One transaction.

        In a workspace that pseudonymizes ids, the batch's user ids are replaced by their
        keyed pseudonyms before anything is compared or stored (``pseudonym_key``, else the
        configured key; it must be the workspace's key, so a returning user keeps their
        pseudonym) and its raw files are not kept. With sign-in, only the owner (or an
        administrator of an owner-less workspace) may: ``caller`` (None = the local user)."""
        require_owner(self, caller, N_("add data to"))
        if self.readonly:
            raise WorkspaceError(
                _(
                    "workspace {name} is read-only (the built-in sample store); save your "
                    "data as a workspace of its own to add batches"
                ).format(name=repr(self.slug))
            )
        with workspace_lock(self):
            return add_batch_locked(
                self,
                {"events": events, "users": users, "items": items},
                {"events": events_map, "users": users_map, "items": items_map},
                names or {},
                on_progress or (lambda msg: None),
                pseudonym_key,
            )

    def add_snapshot(self, as_of: datetime | str | None = None, label: str = "") -> int:
        """Compute and store profiles and segments as of ``as_of`` (default: latest)."""
        from profiling.profiles.features import profile_date

        ds = self.dataset()
        when = profile_date(ds, as_of)
        profiles, seg = compute_snapshot(ds, when)
        with workspace_lock(self), db.connect(self.db_path) as con, db.transaction(con):
            now = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
            if now != ds.fingerprint:
                raise WorkspaceChanged(
                    _(
                        "workspace {name} changed while its snapshot was computed; compute it again"
                    ).format(name=repr(self.slug))
                )
            return store_snapshot(con, ds, profiles, seg, label or "manual", when)


# ---- computing and storing ------------------------------------------------------------------
def compute_snapshot(ds: Dataset, as_of: datetime | str | None = None, *, clusters: bool = True):
    """(profiles with tags, Segmentation) of ``ds`` as of ``as_of``. Without ``clusters``,
    or when clusters cannot be formed (too few users), the segmentation holds the RFM
    segments only (k = 0) and says why in ``k_curve``."""
    from profiling.profiles.features import add_tags, build_profiles
    from profiling.profiles.segments import (
        CLUSTERS_NOT_ASKED,
        ClusteringError,
        Segmentation,
        build_segments,
        describe_features,
        describe_segments,
        rfm_segments,
    )

    profiles = add_tags(build_profiles(ds, as_of=as_of))
    try:
        if not clusters:
            raise ClusteringError(CLUSTERS_NOT_ASKED)
        return profiles, build_segments(profiles)
    except ProfilingError as exc:
        base = profiles.select(S.USER_ID)
        rfm = (
            rfm_segments(profiles)
            if "recency_days" in profiles.columns
            else base.with_columns(
                *(pl.lit(None, pl.Int8).alias(c) for c in ("r_score", "f_score", "m_score")),
                *(pl.lit(None, pl.String).alias(c) for c in ("rfm_cell", "rfm_segment")),
            )
        )
        assignments = rfm.with_columns(
            pl.lit(None, pl.Int32).alias("cluster"), pl.lit(None, pl.String).alias("cluster_name")
        )
        rfm_desc = []
        if "recency_days" in profiles.columns:
            joined = profiles.join(rfm, on=S.USER_ID, how="left")
            feats = describe_features(profiles, [])
            rfm_desc = describe_segments(joined, "rfm_segment", feats, names=False)
        return profiles, Segmentation(
            assignments,
            rfm_desc,
            [],
            [{"error": getattr(exc, "english", str(exc))}],  # kept in English, read translated
            0,
            "none",
            [],
        )


def store_snapshot(
    con, ds: Dataset, profiles: pl.DataFrame, seg, label: str, as_of: datetime | None = None
) -> int:
    sid = con.execute("SELECT coalesce(max(snapshot_id), 0) + 1 FROM snapshots").fetchone()[0]
    as_of = as_of or ds.as_of
    db.write_table(con, f"profiles_{sid}", profiles)
    db.write_table(con, f"assignments_{sid}", seg.assignments)
    n_events = con.execute("SELECT count(*) FROM events WHERE timestamp <= ?", [as_of]).fetchone()[
        0
    ]
    con.execute(
        "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sid,
            as_of,
            _now(),
            ds.fingerprint,
            profiles.height,
            n_events,
            label,
            formats.segmentation_json(seg),
        ],
    )
    return sid


_SCHEMA = """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE batches (
    batch_id INTEGER PRIMARY KEY, added_at TIMESTAMPTZ, fingerprint VARCHAR, files VARCHAR,
    maps VARCHAR, rows_read BIGINT, rows_new BIGINT, rows_duplicate BIGINT,
    rows_dropped BIGINT, reports VARCHAR);
CREATE TABLE sources (
    digest VARCHAR, role VARCHAR, name VARCHAR, path VARCHAR, bytes BIGINT, batch_id INTEGER);
CREATE TABLE snapshots (
    snapshot_id INTEGER PRIMARY KEY, as_of TIMESTAMPTZ, created_at TIMESTAMPTZ,
    data_version VARCHAR, users BIGINT, events BIGINT, label VARCHAR, segmentation VARCHAR);
"""


def copy_sources(target: Path, sources: dict, names: dict[str, str]) -> dict[str, dict]:
    """Copy each given file into ``target/sources/<digest><ext>``; role -> {path, name,
    digest, bytes, given, new}: ``given`` is the path the file came from, ``new`` says
    whether this call made the copy (a failed batch removes exactly those)."""
    out = {}
    (target / "sources").mkdir(parents=True, exist_ok=True)
    for role, src in sources.items():
        if src is None:
            continue
        path, name = ingest.materialize(src, names.get(role))
        digest = ingest.file_digest(path)
        dest = target / "sources" / f"{digest}{Path(name).suffix.lower()[:10]}"
        new = not dest.exists()
        if new:
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")  # hidden: swept if killed
            try:
                shutil.copyfile(path, tmp)
                tmp.replace(dest)
            except BaseException:
                tmp.unlink(missing_ok=True)
                _remove_new_copies(out)
                raise
        out[role] = {
            "path": str(dest),
            "name": name,
            "digest": digest,
            "bytes": dest.stat().st_size,
            "given": path,
            "new": new,
        }
    return out


def _remove_new_copies(files: dict[str, dict]) -> None:
    """Delete the source copies a failed batch made (none of an earlier batch)."""
    for f in files.values():
        if f.get("new") and f.get("path"):
            Path(f["path"]).unlink(missing_ok=True)


def _discard_scratch(files: dict[str, dict]) -> None:
    """Delete the upload scratch copies a saved batch came from (the workspace keeps its own
    copy, or none when it pseudonymizes ids)."""
    private.discard_uploads(f["given"] for f in files.values() if f.get("given"))


def load_batch(files: dict[str, dict], maps: dict) -> Dataset:
    return load_dataset(
        files["events"]["path"],
        files.get("users", {}).get("path"),
        files.get("items", {}).get("path"),
        events_map=maps.get("events"),
        users_map=maps.get("users"),
        items_map=maps.get("items"),
        names={role: f["name"] for role, f in files.items()},
    )


def _occurrence(frame: pl.DataFrame) -> pl.DataFrame:
    """Number each row among the rows identical to it (0, 1, ...), so that duplicates are
    matched as multisets: a row repeated twice in an earlier batch and three times in the
    new one counts once as new."""
    return frame.with_columns(pl.int_range(pl.len()).over(frame.columns).alias("__occ"))


def new_rows(existing: pl.DataFrame, incoming: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``incoming`` not already in ``existing`` (same columns), as multisets."""
    if existing.height == 0 or incoming.height == 0:
        return incoming
    cols = incoming.columns
    fresh = _occurrence(incoming).join(
        _occurrence(existing.select(cols)), on=[*cols, "__occ"], how="anti", nulls_equal=True
    )
    return fresh.drop("__occ")


def upsert(old: pl.DataFrame | None, new: pl.DataFrame | None, key: str) -> pl.DataFrame | None:
    """Attribute rows of a later batch replace those of earlier batches (by id)."""
    if old is None or new is None:
        return new if old is None else old
    try:
        both = pl.concat([old, new], how="diagonal_relaxed")
    except (pl.exceptions.PolarsError, TypeError) as exc:
        raise WorkspaceError(
            _("the new {table} table does not fit the workspace's: {error}").format(
                table=f"{key.split('_')[0]}s", error=exc
            )
        ) from None
    return both.unique(key, keep="last", maintain_order=True)


def combined_version(batch_fingerprints: list[str]) -> str:
    return fingerprint([("batches", fp, {}) for fp in batch_fingerprints])


def _dataset_report(batches, events, users, items) -> DatasetReport:
    per_table: dict[str, list] = {"events": [], "users": [], "items": []}
    dups = 0
    for reports_json, rows_dup in batches:
        for table, rep in json.loads(reports_json).items():
            if rep is not None:
                per_table[table].append(report_from_dict(rep))
        dups += rows_dup
    ev = merge_reports(per_table["events"], dups)
    us = merge_reports(per_table["users"], 0) if per_table["users"] else None
    it = merge_reports(per_table["items"], 0) if per_table["items"] else None
    joins = compute_joins(events, users if us else None, items if it else None)
    return DatasetReport(ev, us, it, joins)


def batch_row(batch_id, files, maps, fp, rows_read, rows_new, dup, dropped, ds) -> list:
    reports = {
        t: (r.to_dict() if r else None)
        for t, r in (
            ("events", ds.report.events),
            ("users", ds.report.users),
            ("items", ds.report.items),
        )
    }
    shown = {r: {"name": f["name"], "digest": f["digest"]} for r, f in files.items()}
    return [
        batch_id,
        _now(),
        fp,
        json.dumps(shown),
        json.dumps(maps),
        rows_read,
        rows_new,
        dup,
        dropped,
        json.dumps(reports, default=str),
    ]


def insert_sources(con, files: dict[str, dict], batch_id: int) -> None:
    for role, f in files.items():
        con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?)",
            [
                f["digest"],
                role,
                f["name"],
                str(Path("sources") / Path(f["path"]).name) if f["path"] else "",
                f["bytes"],
                batch_id,
            ],
        )


def used_maps(ds: Dataset) -> dict[str, dict[str, str]]:
    return {
        t: dict(r.mapping)
        for t, r in (
            ("events", ds.report.events),
            ("users", ds.report.users),
            ("items", ds.report.items),
        )
        if r is not None
    }


KEY_CHECK = "persona-studio pseudonym key check"


def key_check(key: bytes) -> str:
    """What the workspace stores to recognise its pseudonym key (a pseudonym of a fixed
    text, so the key itself is never stored): a batch added with another key is refused."""
    from profiling.data import privacy as P

    return P.pseudonym(KEY_CHECK, key)


def _without_examples(rep: ingest.CleaningReport | None) -> ingest.CleaningReport | None:
    """``rep`` with no example rows (they are raw rows, raw user ids included)."""
    if rep is None:
        return None
    out = ingest.CleaningReport(**{f.name: getattr(rep, f.name) for f in fields(rep)})
    out.reasons = [ingest.ReasonCount(r.reason, r.action, r.count, []) for r in rep.reasons]
    return out


def pseudonymized(batch: Dataset, key: bytes) -> Dataset:
    """``batch`` with every user id replaced by its keyed pseudonym (events and users) and
    no raw example rows in its cleaning reports; same grain and columns."""
    from profiling.data import privacy as P

    users = batch.users
    if users is not None and S.USER_ID in users.columns:
        users = P.pseudonymize(users, key, S.USER_ID)
    r = batch.report
    report = DatasetReport(
        _without_examples(r.events), _without_examples(r.users), _without_examples(r.items), r.joins
    )
    return Dataset(
        P.pseudonymize(batch.events, key, S.USER_ID),
        users,
        batch.items,
        report,
        batch.fingerprint,
        batch.name,
    )


def forget_sources(files: dict[str, dict]) -> dict[str, dict]:
    """Delete the workspace's copies of raw uploads (pseudonymized workspaces keep none:
    they hold the raw ids); the sources table then records name, digest and size only."""
    for f in files.values():
        Path(f["path"]).unlink(missing_ok=True)
    return {role: {**f, "path": ""} for role, f in files.items()}


def resolve_key(meta: dict, key: bytes | None) -> bytes | None:
    """The pseudonym key for a batch of a workspace with ``meta``: None when the workspace
    does not pseudonymize; else ``key`` (or the configured one), checked against the key
    the workspace was created with."""
    if meta.get("privacy_pseudonymize") != "true":
        return None
    from profiling.data import privacy as P

    key = P.pseudonym_key(key)
    expected = meta.get("privacy_key_check")
    if expected and key_check(key) != expected:
        raise WorkspaceError(
            _(
                "workspace {name} pseudonymizes user ids with another key than the one given: "
                "the same user would get two pseudonyms. Use the key the workspace was created "
                "with (pseudonym_key in the secrets or $PERSONA_STUDIO_PSEUDONYM_KEY)"
            ).format(name=repr(meta.get("slug", "")))
        )
    return key


def add_batch_locked(ws: Workspace, sources, maps, names, progress, key=None) -> BatchReport:
    """Add a batch (the caller holds the workspace's write lock). The batch's source copies
    are removed again when it fails; its upload scratch copies once it is saved."""
    meta = ws.meta()
    key = resolve_key(meta, key)
    files = copy_sources(ws.path, sources, names)
    try:
        report = _add_copied(ws, meta, files, maps, progress, key)
    except BaseException:
        _remove_new_copies(files)
        raise
    _discard_scratch(files)
    return report


def _add_copied(ws: Workspace, meta: dict, files, maps, progress, key) -> BatchReport:
    progress("Reading and cleaning the new batch…")
    batch = load_batch(files, maps)
    if key is not None:
        batch = pseudonymized(batch, key)
        files = forget_sources(files)
    used = used_maps(batch)
    with db.connect(ws.db_path) as con:
        lo, hi = batch.events[S.TIMESTAMP].min(), batch.events[S.TIMESTAMP].max()
        overlap = db.read(
            con,
            "SELECT * EXCLUDE (batch_id) FROM events WHERE timestamp BETWEEN ? AND ?",
            [lo, hi],
        )
        known_users = db.read(con, "SELECT DISTINCT user_id FROM events")
        batch_id = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchone()[0]
        fps = [r[0] for r in con.execute("SELECT fingerprint FROM batches ORDER BY 1").fetchall()]
    fresh = new_rows(overlap.cast(batch.events.schema), batch.events)
    dup = batch.events.height - fresh.height
    new_users = fresh.select(S.USER_ID).unique().join(known_users, on=S.USER_ID, how="anti")
    ds_old = ws.dataset()
    version = combined_version([*fps, batch.fingerprint])
    combined = Dataset(
        events=pl.concat([ds_old.events, fresh], how="vertical_relaxed").sort(
            S.TIMESTAMP, S.USER_ID, maintain_order=True
        ),
        users=upsert(ds_old.users, batch.users, S.USER_ID),
        items=upsert(ds_old.items, batch.items, S.ITEM_ID),
        report=ds_old.report,
        fingerprint=version,
        name=meta["name"],
    )
    progress("Rebuilding profiles and segments as of the new latest date…")
    profiles, seg = compute_snapshot(combined)
    rep = batch.report.events
    progress("Saving…")
    with db.connect(ws.db_path) as con, db.transaction(con):
        # batch ids and fingerprints read again inside the writing transaction: the write
        # lock keeps other writers out, and this refuses to write over a change regardless
        now_id = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchone()[0]
        now_fps = [
            r[0] for r in con.execute("SELECT fingerprint FROM batches ORDER BY 1").fetchall()
        ]
        if (now_id, now_fps) != (batch_id, fps):
            raise WorkspaceChanged(
                _(
                    "workspace {name} changed while the batch was being prepared; add it again"
                ).format(name=repr(ws.slug))
            )
        db.append(con, "events", fresh.with_columns(pl.lit(batch_id, pl.Int32).alias("batch_id")))
        for table, frame in (("users", combined.users), ("items", combined.items)):
            if frame is not None:
                db.write_table(con, table, frame)
        con.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch_row(
                batch_id,
                files,
                used,
                batch.fingerprint,
                rep.rows_read,
                fresh.height,
                dup,
                rep.rows_dropped,
                batch,
            ),
        )
        insert_sources(con, files, batch_id)
        con.execute("UPDATE meta SET value = ? WHERE key = 'data_version'", [version])
        _crash_point("add")
        sid = store_snapshot(con, combined, profiles, seg, f"after batch {batch_id}")
    return BatchReport(
        batch_id=batch_id,
        files={r: f["name"] for r, f in files.items()},
        rows_read=rep.rows_read,
        rows_dropped=rep.rows_dropped,
        rows_duplicate=dup,
        rows_new=fresh.height,
        new_users=new_users.height,
        dropped_by_reason={r.reason: r.count for r in rep.reasons if r.action == "dropped"},
        snapshot_id=sid,
    )


def _crash_point(where: str) -> None:
    """Tests kill the writing process here, mid-save (``PERSONA_STUDIO_CRASH_AT``)."""
    private.crash_point(where)


# ---- the catalog -----------------------------------------------------------------------------
def list_workspaces() -> list[Workspace]:
    """Every workspace under :func:`home`, by slug (unreadable folders included: opening one
    says what is wrong with it)."""
    root = workspaces_dir()
    if not root.exists():
        return []
    return [
        Workspace(p) for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")
    ]


def catalog() -> dict[str, str]:
    """slug -> name of every workspace (by slug). One whose meta cannot be read (busy,
    damaged, truncated, not a workspace) is listed as "<slug> (cannot be opened)"; the
    others are unaffected."""
    out = {}
    for ws in list_workspaces():
        try:
            out[ws.slug] = ws.name
        except META_ERRORS:
            out[ws.slug] = f"{ws.slug} (cannot be opened)"
    return out


def open_workspace(name_or_slug: str) -> Workspace:
    """The workspace with this slug (or whose name slugifies to it)."""
    candidates = [name_or_slug]
    with contextlib.suppress(WorkspaceError):
        candidates.append(slugify(name_or_slug))
    for slug in candidates:
        path = workspaces_dir() / slug
        if re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug) and path.is_dir():
            return Workspace(path)
    if name_or_slug == SAMPLE_SLUG:
        return ensure_sample()
    known = ", ".join(w.slug for w in list_workspaces()) or _("none yet")
    raise WorkspaceMissing(
        _("no workspace named {name} in {folder}; workspaces: {known}").format(
            name=repr(name_or_slug), folder=workspaces_dir(), known=known
        )
    )


SETTINGS = ("currency", "segment_scheme")
"""Display settings a workspace keeps in its meta table (see :meth:`Workspace.set_setting`)."""


def create(
    name: str,
    events: ingest.Source,
    users: ingest.Source | None = None,
    items: ingest.Source | None = None,
    *,
    events_map: dict[str, str] | None = None,
    users_map: dict[str, str] | None = None,
    items_map: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    slug: str | None = None,
    readonly: bool = False,
    extra_meta: dict[str, str] | None = None,
    on_progress=None,
    pseudonym_key: bytes | str | None = None,
) -> Workspace:
    """Create a workspace from files: clean them, store the tables and a first snapshot.

    With ``pseudonym_key`` the workspace pseudonymizes user ids: they are replaced by their
    keyed HMAC (:func:`profiling.data.privacy.pseudonym`) before anything is stored, the raw
    files and the cleaning reports' example rows are not kept, and every later batch is
    pseudonymized with the same key (:meth:`Workspace.add`).

    Built in a temporary folder beside the others and renamed into place, so a crash leaves
    no half-made workspace. Raises WorkspaceError when the name is taken and
    DataValidationError when a file cannot be used.
    """
    progress = on_progress or (lambda msg: None)
    slug = slug or slugify(name)
    check_name(slug, extra_meta)
    private.private_dir(home())
    root = private.private_dir(workspaces_dir())
    target = root / slug
    if target.exists():
        raise WorkspaceError(
            _(
                "a workspace named {name} already exists; choose another name, or add the "
                "files to it as a new batch"
            ).format(name=repr(slug))
        )
    tmp = Path(tempfile.mkdtemp(prefix=f".{slug}.", dir=root))
    try:
        with write_lock(tmp):  # held while building: a start-up sweep leaves this folder be
            files = _create_in(
                tmp,
                target,
                name,
                {"events": events, "users": users, "items": items},
                {"events": events_map, "users": users_map, "items": items_map},
                names or {},
                {"readonly": "true" if readonly else "false", **(extra_meta or {})},
                pseudonym_key,
                progress,
            )
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _discard_scratch(files)
    return Workspace(target)


def _create_in(
    tmp: Path,
    target: Path,
    name: str,
    sources: dict,
    maps: dict,
    names: dict[str, str],
    extra_meta: dict[str, str],
    pseudonym_key: bytes | str | None,
    progress,
) -> dict[str, dict]:
    """The body of :func:`create`: build the workspace in ``tmp`` and rename it to
    ``target``; returns the source files it copied."""
    slug = target.name
    files = copy_sources(tmp, sources, names)
    progress("Reading and cleaning the files…")
    batch = load_batch(files, maps)
    key_meta = {}
    if pseudonym_key is not None:
        from profiling.data import privacy as P

        key = P.pseudonym_key(pseudonym_key)
        batch = pseudonymized(batch, key)
        files = forget_sources(files)
        key_meta = {"privacy_pseudonymize": "true", "privacy_key_check": key_check(key)}
    version = combined_version([batch.fingerprint])
    ds = Dataset(batch.events, batch.users, batch.items, batch.report, version, name)
    progress("Building profiles and segments…")
    profiles, seg = compute_snapshot(ds)
    progress("Saving the workspace…")
    meta = {
        "format": db.FORMAT,
        "name": name,
        "slug": slug,
        "created_at": _now().isoformat(),
        "data_version": version,
        **extra_meta,
        **key_meta,
    }
    rep = batch.report.events
    with db.connect(tmp / db.DB_FILE, create=True) as con, db.transaction(con):
        con.execute(_SCHEMA)
        con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        db.write_table(con, "events", ds.events.with_columns(pl.lit(1, pl.Int32).alias("batch_id")))
        for table, frame in (("users", ds.users), ("items", ds.items)):
            if frame is not None:
                db.write_table(con, table, frame)
        con.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch_row(
                1,
                files,
                used_maps(batch),
                batch.fingerprint,
                rep.rows_read,
                ds.events.height,
                0,
                rep.rows_dropped,
                batch,
            ),
        )
        insert_sources(con, files, 1)
        store_snapshot(con, ds, profiles, seg, "created")
        _crash_point("create")
    try:
        tmp.rename(target)
    except OSError:
        if target.exists():
            raise WorkspaceError(
                _("a workspace named {name} already exists").format(name=repr(slug))
            ) from None
        raise
    return files


def delete(name_or_slug: str, caller: Caller | None = None) -> str:
    """Remove a workspace and every file it has; returns its slug. With sign-in only its
    owner may (``caller``; None = the local user); a reserved name is never deleted."""
    ws = open_workspace(name_or_slug)
    if ws.slug in RESERVED:
        raise WorkspaceError(
            _("the workspace {name} is reserved for a built-in store and cannot be deleted").format(
                name=repr(ws.slug)
            )
        )
    require_owner(ws, caller, N_("delete"), admin=False)
    trash = ws.path.with_name(f".deleted.{ws.slug}.{os.getpid()}")
    with workspace_lock(ws):
        ws.path.rename(trash)  # gone from the catalog at once, even if removal is slow
        shutil.rmtree(trash)
    return ws.slug


def sweep_leftovers() -> list[str]:
    """What killed saves left behind, removed at start whatever its age unless a live process
    still owns it (holds the folder's write lock, or is the pid in a scratch file's name):
    half-made workspaces and half-deleted ones, hidden temporaries inside a workspace (half
    results, half source copies), source copies no batch lists (a batch killed before its
    commit), half-written uploads, and uploads past their retention time. Returns the paths
    removed."""
    from profiling.workspace.lock import WorkspaceBusy, is_held

    gone: list[str] = []
    if private.data_home().is_dir():
        gone += private.sweep_uploads()
        gone += private.sweep_partial_uploads()
    root = workspaces_dir()
    if not root.is_dir():
        return gone
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") and entry.is_dir() and not is_held(entry):
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(str(entry))
    for ws in list_workspaces():
        if ws.slug == SAMPLE_SLUG or is_held(ws.path):
            continue
        try:
            with write_lock(ws.path, wait_s=0):
                for name in private.remove_stale_temporaries(ws.path, 0, recursive=True):
                    gone.append(name)
                gone += _orphan_sources(ws)
        except (WorkspaceBusy, WorkspaceError, *META_ERRORS):
            # a writer started meanwhile, or the workspace cannot be read (a damaged file
            # is that workspace's own error, shown when it is opened): left as is
            continue
    return gone


def _orphan_sources(ws: Workspace) -> list[str]:
    """Delete files in the workspace's ``sources`` folder that no batch lists."""
    folder = ws.path / "sources"
    if not folder.is_dir() or not ws.db_path.exists():
        return []
    with db.connect(ws.db_path) as con:
        listed = {Path(r[0]).name for r in con.execute("SELECT path FROM sources").fetchall()}
    gone = []
    for p in folder.iterdir():
        if p.is_file() and p.name not in listed:
            p.unlink()
            gone.append(str(p))
    return gone


_SAMPLE_LOCK = threading.Lock()


def _sample_version() -> str:
    return ";".join(ingest.file_digest(p) for p in sample_paths().values())


class SampleFolderTaken(WorkspaceError):
    """The sample store's folder holds something ensure_sample did not build."""


def ensure_sample() -> Workspace:
    """The built-in, read-only sample store workspace, (re)built when its files changed.

    Only a folder this function built (meta ``builtin=sample``) is ever replaced: any other
    folder named ``sample`` (a user's, or one that cannot be read) is left untouched and
    SampleFolderTaken is raised."""
    with _SAMPLE_LOCK:
        path = workspaces_dir() / SAMPLE_SLUG
        version = _sample_version()
        if path.is_dir():
            ws = Workspace(path)
            try:
                meta = ws.meta()
            except META_ERRORS:
                meta = {}
            if not is_builtin_sample(meta):
                raise SampleFolderTaken(
                    _(
                        "the workspace folder {name} is not the built-in sample store "
                        "(it has no builtin mark, or it cannot be read), so it was left "
                        "untouched and the sample store is not available; rename or remove "
                        "that folder to get the sample store back"
                    ).format(name=repr(SAMPLE_SLUG))
                )
            if meta.get("sample_version") == version:
                return ws
            shutil.rmtree(path)  # our own build of older sample files: rebuilt below
        p = sample_paths()
        try:
            return create(
                SAMPLE_NAME,
                p["events"],
                p["users"],
                p["items"],
                slug=SAMPLE_SLUG,
                readonly=True,
                extra_meta={
                    "sample_version": version,
                    "currency": SAMPLE_CURRENCY,
                    BUILTIN_KEY: SAMPLE_SLUG,
                },
            )
        except WorkspaceError:
            if path.is_dir():  # another process built it meanwhile
                return Workspace(path)
            raise


def to_jsonable(obj) -> object:
    """Summaries and reports as JSON-friendly values (dates as ISO strings)."""
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    if hasattr(obj, "__dataclass_fields__"):
        return to_jsonable(asdict(obj))
    return obj
