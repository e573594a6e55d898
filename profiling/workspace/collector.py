"""The event collector: an HTTP endpoint (Starlette on uvicorn) that takes events into a
workspace, authenticated by a per-workspace write key, and updates live profiles in
micro-batches.

Path of an event: ``POST /v1/events`` -> shape check (fields and types) -> the upload
cleaning rules (:func:`profiling.data.ingest.clean_events`, the same mapping for every
request) -> de-duplication by ``event_id`` -> written durably to the workspace's inbox
(``collector/inbox/*.parquet``: written, fsynced, renamed) -> 202. A batch with any bad event
is refused whole (400 for shape, 422 for a cleaning rule) naming each bad event and the
rule, and nothing of it is written. The updater takes the inbox every few seconds (or at
``POST /v1/flush``) and adds it with :func:`profiling.workspace.live.add`; an inbox file is
deleted only after its batch committed, and a file added twice (a crash between the commit
and the delete) is caught by the store's de-duplication against earlier batches, so no
accepted event is lost or counted twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from profiling.data import ingest
from profiling.data.ingest import DUPLICATE
from profiling.errors import DataValidationError, ProfilingError, WorkspaceError
from profiling.vocabulary.i18n import N_
from profiling.vocabulary.i18n import gettext as _
from profiling.workspace import db, faults, live
from profiling.workspace import store as st
from profiling.workspace.lock import write_lock
from profiling.workspace.roles import Caller, require_owner

KEY_PREFIX = "ps_wk_"
MAX_BATCH = 10_000
UPDATER_NICE = 10  # the updater process yields the cores to the requests (and the app)
FIELDS: dict[str, tuple[type, ...]] = {
    "user_id": (str, int),
    "event": (str,),
    "timestamp": (str, int, float),
    "item_id": (str, int),
    "order_id": (str, int),
    "quantity": (int,),
    "price": (int, float),
    "rating": (int, float),
    "properties": (dict,),
    "event_id": (str, int),
}
REQUIRED = ("user_id", "event", "timestamp")
ROLES = {
    "user_id": "user_id",
    "event": "event_type",
    "timestamp": "timestamp",
    "item_id": "item_id",
    "order_id": "order_id",
    "quantity": "quantity",
    "price": "price",
    "rating": "rating",
}
"""Request field -> canonical role: the one mapping the cleaning applies to every request."""
SCHEMA = {
    "user_id": pl.String,
    "event": pl.String,
    "timestamp": pl.String,
    "item_id": pl.String,
    "order_id": pl.String,
    "quantity": pl.Int64,
    "price": pl.Float64,
    "rating": pl.Float64,
}


class Rejected(ProfilingError):
    """A request the collector refuses: ``status`` (HTTP) and ``problems`` (one dict per bad
    event: index, event_id, field, rule)."""

    def __init__(self, status: int, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.problems = problems or []

    def body(self) -> dict:
        return {"error": str(self), "problems": self.problems}


# ---- write keys ----------------------------------------------------------------------------
def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _keys(ws: st.Workspace) -> list[dict]:
    return json.loads(ws.meta().get("write_keys") or "[]")


def _save_keys(ws: st.Workspace, keys: list[dict]) -> None:
    with st.workspace_lock(ws.slug), db.connect(ws.db_path) as con, db.transaction(con):
        con.execute("DELETE FROM meta WHERE key = 'write_keys'")
        con.execute("INSERT INTO meta VALUES ('write_keys', ?)", [json.dumps(keys)])


def create_write_key(
    ws: st.Workspace, label: str = "", caller: Caller | None = None
) -> tuple[str, str]:
    """A new write key for ``ws``: (key id, key). The key is shown once; the workspace keeps
    only its SHA-256 digest. Only the workspace's owner (or an administrator of an
    owner-less one) may create one: ``caller`` (None = the local user, as for the CLI)."""
    require_owner(ws, caller, N_("create write keys for"))
    if ws.readonly:
        raise WorkspaceError(
            _("workspace {name} is read-only: it takes no events").format(name=repr(ws.slug))
        )
    key_id = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    record = {
        "id": key_id,
        "digest": _digest(key),
        "label": label,
        "created_at": datetime.now(UTC).isoformat(),
    }
    _save_keys(ws, [*_keys(ws), record])
    return key_id, key


def key_prefix(key_id: str) -> str:
    """How a key is shown after its creation: its public start (the key id), never the
    secret part (``ps_wk_1a2b3c4d_…``)."""
    return f"{KEY_PREFIX}{key_id}_…"


def _uses_file(ws: st.Workspace) -> Path:
    return ws.path / "collector" / "key_use.json"


def _uses(ws: st.Workspace) -> dict[str, str]:
    """key id -> when a request with it was last accepted (ISO); empty when never."""
    path = _uses_file(ws)
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # informational only: an unreadable file shows "never", it grants nothing
    return found if isinstance(found, dict) else {}


def note_use(ws: st.Workspace, key_id: str, when: datetime | None = None) -> None:
    """Remember that a request with key ``key_id`` was accepted at ``when`` (default now),
    for the Data page's "last used" (a small file beside the inbox, replaced atomically)."""
    path = _uses_file(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    uses = {**_uses(ws), key_id: (when or datetime.now(UTC)).isoformat()}
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    tmp.write_text(json.dumps(uses))
    tmp.replace(path)


def list_write_keys(ws: st.Workspace) -> list[dict]:
    """id, label, created_at and last_used_at (None when never used) of every live write
    key (never the key)."""
    uses = _uses(ws)
    return [
        {**{k: r[k] for k in ("id", "label", "created_at")}, "last_used_at": uses.get(r["id"])}
        for r in _keys(ws)
    ]


def revoke_write_key(ws: st.Workspace, key_id: str, caller: Caller | None = None) -> None:
    """Revoke a write key by id; requests with it are refused from now on. Only the
    workspace's owner (or an administrator of an owner-less one) may: ``caller``."""
    require_owner(ws, caller, N_("revoke write keys of"))
    keys = _keys(ws)
    left = [r for r in keys if r["id"] != key_id]
    if len(left) == len(keys):
        known = ", ".join(r["id"] for r in keys) or _("none")
        raise WorkspaceError(
            _("workspace {name} has no write key {key}; its keys: {known}").format(
                name=repr(ws.slug), key=repr(key_id), known=known
            )
        )
    _save_keys(ws, left)


def key_id_of(ws: st.Workspace, key: str | None) -> str | None:
    """The id of the live write key ``key`` of ``ws``; None when it is not one, or when the
    workspace's keys cannot be read (fail closed)."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    try:
        records = _keys(ws)
    except (ProfilingError, ValueError):
        return None  # fail closed: a workspace whose keys cannot be read takes no events
    return key_id_in(key, records)


def key_id_in(key: str | None, records: list[dict]) -> str | None:
    """The id of ``key`` among the write keys ``records`` (their digests); None when it is
    none of them."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    digest = _digest(key)
    found = None
    for r in records:  # every record compared: the time taken says nothing of which matched
        if hmac.compare_digest(digest, r["digest"]):
            found = r["id"]
    return found


def key_is_valid(ws: st.Workspace, key: str | None) -> bool:
    """Whether ``key`` is a live write key of ``ws``; anything unreadable says no."""
    return key_id_of(ws, key) is not None


def has_feed(ws: st.Workspace) -> bool:
    """Whether events arrive live in ``ws``: it has a write key, or events were added with
    :func:`profiling.workspace.live.add` (it keeps a live state). False when its settings
    cannot be read."""
    try:
        meta = ws.meta()
        keys = json.loads(meta.get("write_keys") or "[]")
    except (ProfilingError, ValueError):
        return False
    return bool(keys) or "live_version" in meta


# ---- checking a request ----------------------------------------------------------------------
def events_of(payload) -> list[dict]:
    """The events of a request body: one event object, a list of them, or {"batch": [...]}."""
    if isinstance(payload, dict) and "batch" in payload:
        payload = payload["batch"]
    elif isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise Rejected(400, 'expected an event object, a list of events or {"batch": [events]}')
    if not payload:
        raise Rejected(400, "the batch holds no event")
    if len(payload) > MAX_BATCH:
        raise Rejected(413, f"at most {MAX_BATCH:,} events per request; got {len(payload):,}")
    return payload


def shape_problems(events: list[dict]) -> list[dict]:
    """One problem per missing required field, unknown field or value of the wrong type."""
    out = []
    for i, e in enumerate(events):
        eid = e.get("event_id")
        for f in REQUIRED:
            if e.get(f) in (None, ""):
                out.append({"index": i, "event_id": eid, "field": f, "rule": "required"})
        for f, v in e.items():
            if f not in FIELDS:
                out.append({"index": i, "event_id": eid, "field": f, "rule": "unknown field"})
            elif v is not None and (
                not isinstance(v, FIELDS[f]) or (isinstance(v, bool) and bool not in FIELDS[f])
            ):
                kinds = " or ".join(t.__name__ for t in FIELDS[f])
                rule = f"expected {kinds}, found {type(v).__name__}"
                out.append({"index": i, "event_id": eid, "field": f, "rule": rule})
    return out


def _timestamp_text(v) -> str:
    if isinstance(v, int | float):
        # epoch seconds, or milliseconds when too large for seconds (after year 5138)
        seconds = v / 1000 if abs(v) > 1e11 else v
        try:
            return datetime.fromtimestamp(seconds, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return str(v)  # out of range: the cleaning names it as unparseable
    return v


_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)


def _instant(text: str) -> datetime | None:
    """An ISO 8601 time (the collector's documented format) as a naive UTC datetime (naive
    input taken as UTC like an upload's); None for anything else."""
    if not isinstance(text, str) or not _ISO.fullmatch(text := text.strip()):
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:  # the shape of a date, not a real one (2024-02-30)
        return None
    return t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)


def frame_of(events: list[dict]) -> pl.DataFrame:
    """The request's events as the collector's raw table (one column per mapped field).

    When every timestamp is ISO 8601 or an epoch number (what senders send) the timestamp
    column holds UTC date-times, so the cleaning does not sniff text formats (most of a
    request's cost); otherwise it holds the text, read by the upload's format detection."""
    rows = [
        {f: (_timestamp_text(e.get(f)) if f == "timestamp" else e.get(f)) for f in SCHEMA}
        for e in events
    ]
    for r in rows:
        for f in ("user_id", "item_id", "order_id"):
            if r[f] is not None:
                r[f] = str(r[f])
    frame = pl.DataFrame(rows, schema=SCHEMA)
    instants = [_instant(r["timestamp"]) for r in rows]
    if all(t is not None for t in instants):
        utc = pl.Series("timestamp", instants, pl.Datetime("us")).dt.replace_time_zone("UTC")
        frame = frame.with_columns(utc)
    return frame


def _clean(frame: pl.DataFrame, scratch: Path) -> ingest.CleanResult:
    path = scratch / f"check-{uuid.uuid4().hex}.parquet"
    try:
        frame.write_parquet(path)
        raw = ingest.read_table(str(path), name="the request")
        return ingest.clean_events(raw, ingest.infer_roles(raw, "events", overrides=ROLES))
    finally:
        path.unlink(missing_ok=True)


def cleaning_problems(frame: pl.DataFrame, ids: list, scratch: Path) -> list[dict]:
    """The events the upload cleaning would drop, one problem per event and rule; empty
    when the batch is clean. Exact repeats within the batch are not problems (the cleaning
    keeps one, as for an upload).

    The batch is cleaned whole; only when it loses rows is it split in halves, recursively,
    so that b bad events among n cost about b log2(n) cleanings, not n."""
    out = []
    for index, rules in _dropped(frame, 0, scratch):
        out += [{"index": index, "event_id": ids[index], "field": None, "rule": r} for r in rules]
    return out


def _dropped(frame: pl.DataFrame, offset: int, scratch: Path) -> list[tuple[int, list[str]]]:
    try:
        rep = _clean(frame, scratch).report
        rules = [r.reason for r in rep.reasons if r.action == "dropped" and r.reason != DUPLICATE]
    except DataValidationError as exc:
        # every row dropped (or no timestamp parsed): the message names the rule
        text = str(exc).removeprefix("the request, ").removeprefix("the request: ")
        rules = [text.split("dropped (", 1)[1].rstrip(")") if "dropped (" in text else text]
    if not rules:
        return []
    if frame.height == 1:
        return [(offset, [r.rsplit(":", 1)[0] if r[-1].isdigit() else r for r in rules])]
    mid = frame.height // 2
    return _dropped(frame.head(mid), offset, scratch) + _dropped(
        frame.slice(mid), offset + mid, scratch
    )


def inbox_frame(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Inbox files as one table. Timestamps are UTC date-times in most files; when some
    file kept them as text (a sender's other format), the date-times are written as ISO
    text with their offset, which the upload's format detection reads back exactly."""
    if len({f.schema["timestamp"] for f in frames}) > 1:
        frames = [
            f.with_columns(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00"))
            if f.schema["timestamp"] != pl.String
            else f
            for f in frames
        ]
    return pl.concat(frames, how="vertical_relaxed")


# ---- the collector ---------------------------------------------------------------------------
@dataclass
class Collector:
    """Takes events into workspace ``ws`` and adds them in micro-batches."""

    ws: st.Workspace
    interval_s: float = 2.0
    lock_wait_s: float = 0.5
    last_flush: dict | None = None
    last_error: str | None = None
    _seen: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _flush_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: object = None  # the updater: a threading.Thread or a Process

    def __post_init__(self) -> None:
        if self.ws.readonly:
            raise WorkspaceError(
                _("workspace {name} is read-only: it takes no events").format(
                    name=repr(self.ws.slug)
                )
            )
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.scratch.mkdir(parents=True, exist_ok=True)
        if self.ids_file.exists():
            self._seen = set(self.ids_file.read_text().split())

    @property
    def root(self) -> Path:
        return self.ws.path / "collector"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    @property
    def ids_file(self) -> Path:
        return self.root / "event_ids.txt"

    def pending(self) -> int:
        return len(list(self.inbox.glob("*.parquet")))

    def accept(self, key: str | None, payload) -> dict:
        """Check and store one request; returns {"accepted", "duplicates"}. Raises
        Rejected (401, 400, 413, 422, 503) with nothing written."""
        key_id = key_id_in(key, self.write_keys())  # 503 when the keys cannot be read
        if key_id is None:
            raise Rejected(401, "a valid write key of this workspace is required")
        events = events_of(payload)
        problems = shape_problems(events)
        if problems:
            raise Rejected(
                400, f"{len(problems)} problem(s) in the batch; nothing was written", problems
            )
        ids = [None if e.get("event_id") is None else str(e["event_id"]) for e in events]
        keep, dups, batch_ids = [], 0, set()
        for e, i in zip(events, ids, strict=True):
            if i is not None and (i in self._seen or i in batch_ids):
                dups += 1
                continue
            if i is not None:
                batch_ids.add(i)
            keep.append((e, i))
        if not keep:
            return {"accepted": 0, "duplicates": dups}
        # cleaning is the slow part: it runs outside the lock, so requests check in parallel
        frame = frame_of([e for e, _ in keep])
        try:
            problems = cleaning_problems(frame, [i for _, i in keep], self.scratch)
        except OSError as exc:  # the check's scratch file: a full disk, most likely
            raise Rejected(
                503, f"the events could not be checked ({exc.strerror}); retry"
            ) from None
        if problems:
            raise Rejected(
                422,
                f"{len(problems)} event(s) break the cleaning rules; nothing was written",
                problems,
            )
        with self._lock:
            # an id another request stored meanwhile is a duplicate now
            fresh = [i is None or i not in self._seen for _, i in keep]
            if not all(fresh):
                frame = frame.filter(pl.Series(fresh))
                dups += fresh.count(False)
                keep = [k for k, f in zip(keep, fresh, strict=True) if f]
                batch_ids = {i for _, i in keep if i is not None}
                if not keep:
                    return {"accepted": 0, "duplicates": dups}
            try:
                self._write(frame, sorted(batch_ids))
            except OSError as exc:
                raise Rejected(
                    503, f"the events could not be stored ({exc.strerror}); retry"
                ) from None
            self._seen |= batch_ids
            try:
                note_use(self.ws, key_id)
            except OSError as exc:  # the events are stored: only "last used" is not updated
                self.last_error = f"could not note the write key's use ({exc.strerror})"
        return {"accepted": len(keep), "duplicates": dups}

    def write_keys(self) -> list[dict]:
        """The workspace's write keys. Raises Rejected 503 when they cannot be read (the
        workspace is busy or damaged): no event is taken then (fail closed), and the sender
        is told to retry rather than that its key is wrong."""
        try:
            return _keys(self.ws)
        except (ProfilingError, ValueError) as exc:
            raise Rejected(
                503, f"the workspace's write keys cannot be read right now ({exc}); retry"
            ) from None

    def _write(self, frame: pl.DataFrame, ids: list[str]) -> None:
        """Durably: the file is fsynced under a temporary name and renamed, then the ids.

        The file goes into the inbox before its ids are recorded: a crash in between keeps
        the events (a retry stores them again; the flush's de-duplication keeps one), while
        the other order would remember ids of events never stored. On an OSError (a full
        disk) nothing of the request is left: the file is removed and the ids file cut
        back to its length before, so a half-written id never blocks a later event."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        tmp, final = self.inbox / f".{name}.part", self.inbox / name
        before = self.ids_file.stat().st_size if self.ids_file.exists() else 0
        try:
            frame.write_parquet(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            tmp.replace(final)
            _fsync_dir(self.inbox)
            faults.point("inbox-written")
            if ids:
                with open(self.ids_file, "a") as fh:
                    fh.write("\n".join(ids) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
        except OSError:
            tmp.unlink(missing_ok=True)
            final.unlink(missing_ok=True)
            if self.ids_file.exists():
                os.truncate(self.ids_file, before)
            raise

    def flush(self) -> dict | None:
        """Add every inbox file as one batch (live update); None when the inbox is empty.

        Raises WorkspaceBusy when another writer holds the workspace for more than
        ``lock_wait_s`` seconds: the inbox is kept whole for the next try."""
        with self._flush_lock, write_lock(self.ws.path, wait_s=self.lock_wait_s):
            files = sorted(self.inbox.glob("*.parquet"))
            if not files:
                return None
            frame = inbox_frame([pl.read_parquet(f) for f in files])
            path = self.scratch / f"micro-{files[-1].name}"
            frame.write_parquet(path)
            try:
                rep = live.add(
                    self.ws,
                    str(path),
                    events_map=ROLES,
                    names={"events": f"collector micro-batch ({len(files)} requests)"},
                )
            finally:
                path.unlink(missing_ok=True)
            faults.point("after-commit")
            for f in files:
                f.unlink(missing_ok=True)
            self.last_flush = {
                "at": datetime.now(UTC).isoformat(),
                "batch_id": rep.batch_id,
                "snapshot_id": rep.snapshot_id,
                "rows_new": rep.rows_new,
                "rows_duplicate": rep.rows_duplicate,
            }
            self._save_status(None)
            return self.last_flush

    @property
    def status_file(self) -> Path:
        return self.root / "status.json"

    def _save_status(self, error: str | None) -> None:
        """The last flush and error, for the health answer of a server whose updater runs
        in another process (written under a temporary name, then renamed)."""
        self.last_error = error
        tmp = self.root / ".status.json.part"
        try:
            tmp.write_text(json.dumps({"last_flush": self.last_flush, "last_error": error}))
            tmp.replace(self.status_file)
        except OSError:  # a full disk: the health answer is stale, the events are safe
            tmp.unlink(missing_ok=True)

    def status(self) -> dict:
        """{"last_flush", "last_error"}: the updater's, wherever it runs."""
        try:
            return json.loads(self.status_file.read_text())
        except (OSError, ValueError):  # no flush yet, or a status being replaced
            return {"last_flush": self.last_flush, "last_error": self.last_error}

    def _run(self, stop=None, parent: int | None = None) -> None:
        """Flush every ``interval_s`` until ``stop`` is set or, in an updater process, the
        server process ``parent`` is gone (killed: it never set ``stop``)."""
        stop = stop or self._stop
        while not stop.wait(self.interval_s):
            if parent is not None and os.getppid() != parent:
                return
            try:
                self.flush()
            except ProfilingError as exc:  # a locked or busy workspace: retried next tick
                self._save_status(str(exc))

    def start(self, *, process: bool = False, nice: int = UPDATER_NICE) -> None:
        """Start the updater: a thread of this process, or (``process``) a process of its
        own at a lower CPU priority, so that adding micro-batches never holds up the
        requests (their GIL, their cores)."""
        if process:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            self._stop = ctx.Event()
            self._thread = ctx.Process(
                target=run_updater,
                args=(
                    str(self.ws.path),
                    self.interval_s,
                    self.lock_wait_s,
                    self._stop,
                    nice,
                    os.getpid(),
                ),
                name="collector-updater",
                daemon=True,
            )
        else:
            self._thread = threading.Thread(target=self._run, name="collector-updater", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(ProfilingError):
            self.flush()


def run_updater(
    path: str, interval_s: float, lock_wait_s: float, stop, nice: int, parent: int
) -> None:
    """The updater's loop in a process of its own (see :meth:`Collector.start`), until
    ``stop`` (a multiprocessing Event) is set or the server process ``parent`` is gone
    (its pid is passed in: a server killed while this process starts would leave
    ``getppid()`` naming the adopter, which never dies)."""
    os.nice(nice)
    collector = Collector(st.Workspace(Path(path)), interval_s=interval_s, lock_wait_s=lock_wait_s)
    collector._run(stop, parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _key_of(request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-write-key")


def create_app(collector: Collector):
    """The Starlette app of ``collector``: POST /v1/events, POST /v1/flush, GET /v1/health."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def refused(exc: Rejected) -> JSONResponse:
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    async def events(request):
        key = _key_of(request)
        try:
            payload = json.loads(await request.body())
        except ValueError as exc:
            return refused(Rejected(400, f"the body is not JSON ({exc})"))
        try:
            from starlette.concurrency import run_in_threadpool

            body = await run_in_threadpool(collector.accept, key, payload)
        except Rejected as exc:
            return refused(exc)
        return JSONResponse(body, status_code=202)

    async def flush(request):
        try:
            if key_id_in(_key_of(request), collector.write_keys()) is None:
                return refused(Rejected(401, "a valid write key of this workspace is required"))
        except Rejected as exc:
            return refused(exc)
        from starlette.concurrency import run_in_threadpool

        try:
            done = await run_in_threadpool(collector.flush)
        except ProfilingError as exc:
            return refused(Rejected(503, f"the events could not be added yet ({exc}); retry"))
        return JSONResponse(done or {"pending": 0})

    async def health(request):
        return JSONResponse(
            {
                "workspace": collector.ws.slug,
                "pending_requests": collector.pending(),
                **collector.status(),
            }
        )

    return Starlette(
        routes=[
            Route("/v1/events", events, methods=["POST"]),
            Route("/v1/flush", flush, methods=["POST"]),
            Route("/v1/health", health, methods=["GET"]),
        ]
    )
