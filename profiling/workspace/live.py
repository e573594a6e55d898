"""Live profiles in a workspace: the per-user state beside the snapshots, and adding a batch
by updating only the users it touches.

The state (:class:`profiling.profiles.incremental.LiveState`) lives in the workspace
database as tables ``live_users``, ``live_days``, ``live_orders``, ``live_cats``,
``live_brands``, ``live_prices`` and the meta keys ``live_version`` (the data version it
describes) and ``live_facts``. A state whose version is not the workspace's (a batch added
the ordinary way since) is rebuilt from every event before it is used: it is never merged
into stale.

:func:`add` is :meth:`profiling.workspace.store.Workspace.add` with the same cleaning, de-duplication against earlier batches and one
transaction as an ordinary add, but the snapshot comes from the state (touched users
merged, the recent window recounted, the global parts recomputed, users assigned to the
previous snapshot's clusters) instead of a rebuild from every event. When the batch changes
a definition for everyone (a changed item catalog, session ids appearing, no clusters to
assign to) it falls back to the ordinary add and says so in the progress messages.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from profiling.data.dataset import Dataset
from profiling.errors import WorkspaceError
from profiling.profiles import incremental as I
from profiling.profiles.features import add_tags
from profiling.vocabulary import schema as S
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import db, faults, formats
from profiling.workspace import store as st
from profiling.workspace.roles import Caller, require_owner

TABLES = {name: f"live_{name}" for name in I.LiveState.PER_USER + ("prices",)}
_TOUCHED = "__live_touched"
_LATE = "__live_late"
_KEYS = "__live_keys"


def state_is_current(ws: st.Workspace) -> bool:
    """Whether the workspace's stored state describes its current data."""
    meta = ws.meta()
    return meta.get("live_version") == meta["data_version"]


def build_state(ws: st.Workspace, ds: Dataset | None = None) -> I.LiveState:
    """Compute the state from every event of the workspace and store it (one transaction)."""
    ds = ds or ws.dataset()
    state = I.state_from_events(ds.events, ds.items)
    with db.connect(ws.db_path) as con, db.transaction(con):
        for name, table in TABLES.items():
            frame = getattr(state, name)
            if frame is None:
                con.execute(f"DROP TABLE IF EXISTS {db.quoted(table)}")
            else:
                db.write_table(con, table, frame)
        _set_meta(con, ds.fingerprint, state.facts)
    return state


def _set_meta(con, version: str, facts: I.Facts) -> None:
    for key, value in (("live_version", version), ("live_facts", json.dumps(facts.to_dict()))):
        con.execute("DELETE FROM meta WHERE key = ?", [key])
        con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


def _read_state(
    con, touched: pl.DataFrame, facts: I.Facts, keys: dict[str, pl.DataFrame]
) -> I.LiveState:
    """users, cats and prices whole (the profiles need every user); of days and orders the
    rows at the batch's ``keys`` only (:func:`profiling.profiles.incremental.batch_keys`:
    all a merge looks up there); brands for the ``touched`` users (registered as a view)."""
    out = {}
    for name, table in TABLES.items():
        if not db.has_table(con, table):
            out[name] = None
        elif name in ("users", "cats", "prices"):
            out[name] = db.read(con, f"SELECT * FROM {db.quoted(table)}")  # noqa: S608 - our own table names through db.quoted
        elif name in keys:
            con.complete()
            con.register(_KEYS, keys[name].to_arrow())
            try:
                on = ", ".join(db.quoted(k) for k in I.KEYS[name])
                out[name] = db.read(
                    con,
                    f"SELECT t.* FROM {db.quoted(table)} AS t JOIN {_KEYS} USING ({on})",  # noqa: S608 - our own table and column names through db.quoted
                )
            finally:
                con.unregister(_KEYS)
        else:
            out[name] = db.read(
                con,
                f"SELECT * FROM {db.quoted(table)} WHERE user_id IN "  # noqa: S608 - our own table names through db.quoted
                f"(SELECT user_id FROM {_TOUCHED})",
            )
    return I.LiveState(**out, facts=facts)


def _write_delta(con, delta: I.LiveState) -> None:
    """Update the per-user tables at the keys of the delta's rows (the touched users' rows
    of ``live_users``, the changed and new rows of the others: the rest of each table is
    not rewritten), and replace the prices."""
    for name in I.LiveState.PER_USER:
        frame = getattr(delta, name)
        if frame is None or frame.height == 0:
            continue
        if not db.has_table(con, TABLES[name]):
            db.write_table(con, TABLES[name], frame)
            continue
        keys = I.KEYS[name]
        con.complete()
        con.register(_TOUCHED, frame.select(keys).to_arrow())
        try:
            same = " AND ".join(f"t.{db.quoted(k)} = d.{db.quoted(k)}" for k in keys)
            con.execute(
                f"DELETE FROM {db.quoted(TABLES[name])} AS t USING {_TOUCHED} AS d WHERE {same}"  # noqa: S608 - our own table and column names through db.quoted
            )
        finally:
            con.complete()
            con.unregister(_TOUCHED)
        db.append(con, TABLES[name], frame)
    if delta.prices is not None:
        db.write_table(con, TABLES["prices"], delta.prices)


def _previous_segmentation(con):
    row = con.execute(
        "SELECT snapshot_id, segmentation FROM snapshots ORDER BY snapshot_id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise I.NeedsRebuild("the workspace has no snapshot to take clusters from")
    snapshot_id, text = row
    assignments = db.read(con, f"SELECT * FROM {db.quoted(f'assignments_{snapshot_id}')}")  # noqa: S608 - identifiers pass through db.quoted
    return formats.segmentation_from(text, assignments)


def _same_catalog(old: pl.DataFrame | None, new: pl.DataFrame | None) -> bool:
    cols = I.catalog_columns(old)
    if cols != I.catalog_columns(new):
        return False
    if not cols:
        return True
    a = old.select(S.ITEM_ID, *cols).sort(S.ITEM_ID)
    b = new.select(S.ITEM_ID, *cols).sort(S.ITEM_ID)
    return a.equals(b)


def add(
    ws: st.Workspace,
    events,
    users=None,
    items=None,
    *,
    events_map: dict[str, str] | None = None,
    users_map: dict[str, str] | None = None,
    items_map: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    on_progress=None,
    pseudonym_key: bytes | str | None = None,
    caller: Caller | None = None,
) -> st.BatchReport:
    """:meth:`profiling.workspace.store.Workspace.add` (same arguments, same report, same
    single transaction) that updates only the users in the batch from the live state; see
    the module docstring for what is merged, recounted and recomputed.

    Like the ordinary add, only the workspace's owner (or an administrator of an owner-less
    one) may add: ``caller`` (None = the local user, as for the CLI and the collector, whose
    write key only an owner could create)."""
    require_owner(ws, caller, N_("add events to"))
    if ws.readonly:
        raise WorkspaceError(
            _(
                "workspace {name} is read-only (the built-in sample store); save your "
                "data as a workspace of its own to add batches"
            ).format(name=repr(ws.slug))
        )
    sources = {"events": events, "users": users, "items": items}
    maps = {"events": events_map, "users": users_map, "items": items_map}
    progress = on_progress or (lambda msg: None)
    with st.workspace_lock(ws):
        try:
            return _add_incremental(ws, sources, maps, names or {}, progress, pseudonym_key)
        except I.NeedsRebuild as why:
            progress(f"Rebuilding every profile: {why}")
            return st.add_batch_locked(ws, sources, maps, names or {}, progress, pseudonym_key)


def _add_incremental(ws, sources, maps, names, progress, key) -> st.BatchReport:
    meta = ws.meta()
    key = st.resolve_key(meta, key)
    if not state_is_current(ws):
        progress("Building the live state from every event (once)…")
        build_state(ws)
    facts = I.Facts.from_dict(json.loads(ws.meta()["live_facts"]))
    files = st.copy_sources(ws.path, sources, names)
    progress("Reading and cleaning the new batch…")
    batch = st.load_batch(files, maps)
    if key is not None:
        batch = st.pseudonymized(batch, key)
        files = st.forget_sources(files)
    used = st.used_maps(batch)
    with db.connect(ws.db_path) as con:
        lo, hi = batch.events[S.TIMESTAMP].min(), batch.events[S.TIMESTAMP].max()
        overlap = db.read(
            con,
            "SELECT * EXCLUDE (batch_id) FROM events WHERE timestamp BETWEEN ? AND ?",
            [lo, hi],
        )
        batch_id = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM batches").fetchone()[0]
        fps = [r[0] for r in con.execute("SELECT fingerprint FROM batches ORDER BY 1").fetchall()]
        old_users = db.read(con, "SELECT * FROM users") if db.has_table(con, "users") else None
        old_items = db.read(con, "SELECT * FROM items") if db.has_table(con, "items") else None
        previous = _previous_segmentation(con)
    fresh = st.new_rows(overlap.cast(batch.events.schema), batch.events)
    dup = batch.events.height - fresh.height
    items = st.upsert(old_items, batch.items, S.ITEM_ID)
    users = st.upsert(old_users, batch.users, S.USER_ID)
    if not _same_catalog(old_items, items):
        raise I.NeedsRebuild("the item catalog changed (categories or brands of items)")
    progress("Updating the profiles of the users in the batch…")
    touched = fresh.select(S.USER_ID).unique()
    with db.connect(ws.db_path) as con:
        con.register(_TOUCHED, touched.to_arrow())
        try:
            state = _read_state(con, touched, facts, I.batch_keys(fresh))
            known = state.users.height
        finally:
            con.complete()  # DuckDB refuses to unregister while a result is pending
            con.unregister(_TOUCHED)

        def history(ids: list[str]) -> pl.DataFrame:
            # a join with the registered ids, not a list parameter tested on every row
            con.complete()
            con.register(
                _LATE, pl.DataFrame({S.USER_ID: ids}, schema={S.USER_ID: pl.String}).to_arrow()
            )
            try:
                return db.read(
                    con,
                    "SELECT user_id, timestamp, session_id FROM events "  # noqa: S608 - a constant view name
                    f"WHERE user_id IN (SELECT user_id FROM {_LATE})",
                )
            finally:
                con.unregister(_LATE)

        delta = I.merge_events(state, fresh, items, history)
        full = state.updated(delta)
        when = full.users["last_seen"].max()
        recent = db.read(
            con,
            "SELECT user_id, timestamp FROM events WHERE timestamp > ?",
            [I.window_start(when)],
        )
    new_users = full.users.height - known
    recent = pl.concat(
        [
            recent,
            fresh.select(S.USER_ID, S.TIMESTAMP).filter(pl.col(S.TIMESTAMP) > I.window_start(when)),
        ],
        how="vertical_relaxed",
    )
    profiles = add_tags(I.profiles_from_state(full, when, recent, items, users))
    progress("Assigning users to the current segments…")
    seg = I.segments_to_current_clusters(profiles, previous)
    version = st.combined_version([*fps, batch.fingerprint])
    snap_ds = Dataset(fresh, users, items, None, version, meta["name"])
    rep = batch.report.events
    progress("Saving…")
    with db.connect(ws.db_path) as con, db.transaction(con):
        db.append(con, "events", fresh.with_columns(pl.lit(batch_id, pl.Int32).alias("batch_id")))
        # only a table the batch brought changed (the ordinary add rewrites both)
        for table, frame, brought in (("users", users, batch.users), ("items", items, batch.items)):
            if brought is not None:
                db.write_table(con, table, frame)
        con.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            st.batch_row(
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
        st.insert_sources(con, files, batch_id)
        con.execute("UPDATE meta SET value = ? WHERE key = 'data_version'", [version])
        _write_delta(con, delta)
        _set_meta(con, version, delta.facts)
        sid = st.store_snapshot(con, snap_ds, profiles, seg, f"after batch {batch_id} (live)", when)
        faults.point("before-commit")
    return st.BatchReport(
        batch_id=batch_id,
        files={r: f["name"] for r, f in files.items()},
        rows_read=rep.rows_read,
        rows_dropped=rep.rows_dropped,
        rows_duplicate=dup,
        rows_new=fresh.height,
        new_users=new_users,
        dropped_by_reason={r.reason: r.count for r in rep.reasons if r.action == "dropped"},
        snapshot_id=sid,
    )


def arrivals(ws: st.Workspace, now: datetime | None = None) -> dict:
    """Events arriving, for the Overview: ``last_added`` (when the latest batch committed,
    None before any), ``seconds_ago`` (since then) and ``events_today`` (new rows of the
    batches committed since midnight UTC of ``now``, default the current time)."""
    now = now or datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with db.connect(ws.db_path) as con:
        last, today = con.execute(
            "SELECT max(added_at), coalesce(sum(rows_new) FILTER (WHERE added_at >= ?), 0) "
            "FROM batches",
            [midnight],
        ).fetchone()
    if last is None:
        return {"last_added": None, "seconds_ago": None, "events_today": 0}
    last = last.astimezone(UTC)
    return {
        "last_added": last,
        "seconds_ago": (now - last).total_seconds(),
        "events_today": int(today),
    }


def user_stamp(ws: st.Workspace, user_id: str) -> tuple | None:
    """What changes when events of ``user_id`` are added live: (n_events, last_seen) of the
    user's live state row, read by id (one row, not the log). None when the workspace keeps
    no live state (no live add yet) or the user has no row; ``(0, None)`` never occurs."""
    with db.connect(ws.db_path) as con:
        if not db.has_table(con, TABLES["users"]):
            return None
        row = con.execute(
            f"SELECT n_events, last_seen FROM {db.quoted(TABLES['users'])} WHERE user_id = ?",  # noqa: S608 - our own table name through db.quoted
            [user_id],
        ).fetchone()
    return None if row is None else tuple(row)
